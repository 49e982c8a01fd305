"""Lifecycle economics against hand-computed cases (issue 14 items 1 and 2)."""

from __future__ import annotations

import copy
import math
import tomllib

import pandas as pd
import pytest

from parkgrid.economics import (
    AssetCost,
    annualised_cost_per_unit,
    asset_costs,
    capital_recovery_factor,
    cash_flows,
    lifecycle_factor,
    npv_cny,
    payback_yr,
    replacement_interval_yr,
    replacement_times_yr,
)
from parkgrid.errors import ScenarioError
from parkgrid.scenario.load import scenario_from_dict, validate_scenario_dict
from parkgrid.scenario.model import Economics

SRC = "examples/flagship_park.toml"


@pytest.fixture
def raw(repo_root):
    return tomllib.loads((repo_root / SRC).read_text())


def _issues(raw_dict):
    _, issues = validate_scenario_dict(raw_dict, source="park.toml")
    return {i.field: i.message for i in issues}


def test_crf_matches_the_interest_tables() -> None:
    """CRF(6 %, 25 yr) = 0.078227 and CRF(8 %, 10 yr) = 0.149029 (standard interest
    tables: A/P factors); at r = 0 it is 1/n."""
    assert capital_recovery_factor(0.06, 25) == pytest.approx(0.0782267, abs=1e-7)
    assert capital_recovery_factor(0.08, 10) == pytest.approx(0.1490295, abs=1e-7)
    assert capital_recovery_factor(0.0, 20) == 0.05
    with pytest.raises(ValueError, match="years"):
        capital_recovery_factor(0.05, 0)


def test_annualised_cost_of_pv_by_hand() -> None:
    """PV, 3,000 CNY/kW, 40 CNY/(kW.yr), 25-yr life = project life, r = 6 %:
    per MW-yr = 3e6 x 0.0782267 + 40,000 = 234,680 + 40,000 = 274,680 CNY."""
    pv = AssetCost("PV", "pv", capex_cny_per_mw=3e6, fixed_om_cny_per_mw_yr=40_000.0,
                   lifetime_yr=25.0)
    per_mw, second = annualised_cost_per_unit(pv, Economics(discount_rate_pu=0.06,
                                                            project_life_yr=25))
    assert per_mw == pytest.approx(274_680.1, abs=0.5)
    assert second == 0.0


def test_annualised_cost_of_a_battery_with_replacement_by_hand() -> None:
    """Battery energy 400 CNY/kWh = 4e5 CNY/MWh, 2 %/yr O&M of capex, life 10 yr,
    replacement at 60 %, project 20 yr, r = 0 (so no discounting):
    investments per CNY of capex = 1 (year 0) + 0.6 (year 10), no salvage (the
    replacement ends exactly at year 20) -> lifecycle factor 1.6;
    per MWh-yr = 1.6 x 4e5 / 20 + 0.02 x 4e5 = 32,000 + 8,000 = 40,000 CNY."""
    bat = AssetCost("B", "battery", capex_cny_per_mwh=4e5, fixed_om_pu_per_yr=0.02,
                    lifetime_yr=10.0, replacement_cost_pu=0.6)
    econ = Economics(discount_rate_pu=0.0, project_life_yr=20)
    assert lifecycle_factor(10.0, 0.6, 0.0, 20) == pytest.approx(1.6)
    assert annualised_cost_per_unit(bat, econ) == pytest.approx((0.0, 40_000.0))
    # a 15-yr life: replaced at 15, 10/15 of that replacement left at 20 -> salvage
    # 0.6 x 10/15 = 0.4: factor 1 + 0.6 - 0.4 = 1.2
    assert lifecycle_factor(15.0, 0.6, 0.0, 20) == pytest.approx(1.2)


def test_npv_with_a_battery_replacement_in_year_12_of_25() -> None:
    """A 10 MW / 40 MWh battery, 1,000 CNY/kW + 500 CNY/kWh: capex 1e7 + 2e7 = 3e7 CNY.
    Its capacity fades 2.5 %/yr to the end of life at 70 %: (1 - 0.7) / 0.025 = 12 yr,
    shorter than its 15-yr lifetime, so it is replaced (at 50 % of the capex,
    1.5e7 CNY) in years 12 and 24 of the 25-yr project. The unit of year 24 has 11
    of its 12 years left at year 25: salvage 11/12 x 1.5e7 = 1.375e7 CNY.
    Operating cost 1e6 CNY/yr; the grid-only reference costs 4e6 CNY/yr. r = 5 %.

    NPC(design) = 3e7 + 1.5e7 / 1.05^12 + 1.5e7 / 1.05^24 - 1.375e7 / 1.05^25
                  + 1e6 x a(25), a(25) = (1 - 1.05^-25) / 0.05 = 14.0939
                = 3e7 + 8,352,561 + 4,651,019 - 4,060,413 + 14,093,945 = 53,037,111
    NPC(reference) = 4e6 x 14.0939 = 56,375,778; NPV = 3,338,667 CNY.
    Discounted payback: the cumulative discounted saving is 3e6 x a(y) - 3e7, less
    8,352,561 from year 12 and 4,651,019 from year 24. It first turns positive in
    year 21 (3e6 x a(20) = 37.39e6 < 38.35e6 < 3e6 x a(21) = 38.46e6), turns
    negative again with the replacement of year 24 (3e6 x a(24) = 41.40e6 <
    43.00e6), and year 25 adds (3e6 + 1.375e7) / 1.05^25 = 4.946e6, ending at
    +3,338,667: the saving stays non-negative only from within year 25 on, so the
    payback is 24 + 1.608e6 / 4.946e6 = 24.33 years (a first-crossing rule would
    say 20.9).
    """
    bat = AssetCost("B", "battery", p_mw=10.0, e_mwh=40.0, capex_cny_per_mw=1e6,
                    capex_cny_per_mwh=5e5, lifetime_yr=15.0, replacement_cost_pu=0.5,
                    end_of_life_capacity_pu=0.7)
    econ = Economics(discount_rate_pu=0.05, project_life_yr=25)
    interval = replacement_interval_yr(bat, fade_pu_per_yr=0.025)
    assert interval == pytest.approx(12.0)
    assert replacement_times_yr(interval, 25) == pytest.approx([12.0, 24.0])
    design = cash_flows({"B": bat}, econ, operating_cny_per_yr=1e6,
                        intervals_yr={"B": interval})
    reference = cash_flows({}, econ, operating_cny_per_yr=4e6)
    a25 = (1 - 1.05 ** -25) / 0.05
    npc = 3e7 + 1.5e7 / 1.05 ** 12 + 1.5e7 / 1.05 ** 24 - 1.375e7 / 1.05 ** 25 + 1e6 * a25
    assert design.net_present_cost_cny == pytest.approx(npc, rel=1e-12)
    assert npc == pytest.approx(53_037_111, abs=1)
    assert reference.net_present_cost_cny == pytest.approx(4e6 * a25, rel=1e-12)
    assert npv_cny(design, reference) == pytest.approx(4e6 * a25 - npc, rel=1e-9)
    assert design.replacement[12] == 1.5e7 and design.replacement[24] == 1.5e7
    assert design.replacement[25] == pytest.approx(-1.375e7)
    a24 = (1 - 1.05 ** -24) / 0.05
    cum24 = 3e6 * a24 - 3e7 - 1.5e7 / 1.05 ** 12 - 1.5e7 / 1.05 ** 24
    s25 = (3e6 + 1.375e7) / 1.05 ** 25
    assert cum24 < 0 < cum24 + s25
    assert payback_yr(design, reference) == pytest.approx(24 - cum24 / s25, rel=1e-9)
    assert payback_yr(design, reference) == pytest.approx(24.33, abs=0.005)


def test_electrolyser_stack_life_sets_the_replacement() -> None:
    """80,000 h stack at 4,000 h/yr -> 20 yr; at 8,760 h/yr (no use data) 9.13 yr."""
    el = AssetCost("E", "electrolyser", capex_cny_per_mw=2.5e6, lifetime_yr=25.0,
                   stack_life_h=80_000.0, replacement_cost_pu=0.35)
    assert replacement_interval_yr(el, hours_per_yr=4000.0) == pytest.approx(20.0)
    assert replacement_interval_yr(el) == pytest.approx(80_000 / 8760)


def test_presets_and_overrides_merge(raw, repo_root) -> None:
    data = copy.deepcopy(raw)
    data["economics"] = {"discount_rate_pu": 0.05, "project_life_yr": 25}
    for kind in ("pv", "wind"):
        for a in data.get(kind, []):
            a["technology"] = "pv" if kind == "pv" else "onshore_wind"
    data["pv"][0]["capex_cny_per_kw"] = 2500.0
    for b in data.get("battery", []):
        b["technology"] = "lfp"
    for e in data.get("electrolyser", []):
        e["technology"] = "alkaline"
    if data.get("hydrogen"):
        data["hydrogen"]["technology"] = "compressed_h2"
    s = scenario_from_dict(data, resolve=False)
    costs = asset_costs(s)
    pv = costs[data["pv"][0]["name"]]
    assert pv.capex_cny_per_mw == 2.5e6  # the scenario's value
    assert pv.fixed_om_cny_per_mw_yr == 40_000.0  # the preset's
    bat = costs[data["battery"][0]["name"]]
    assert bat.capex_cny_per_mwh == 425_000.0 and bat.end_of_life_capacity_pu == 0.7


def test_missing_costs_name_the_field(raw) -> None:
    data = copy.deepcopy(raw)
    data["economics"] = {}
    found = _issues(data)
    assert "pv[0].capex_cny_per_kw" in found
    assert "missing cost" in found["pv[0].capex_cny_per_kw"]
    assert "battery[0].capex_cny_per_kwh" in found or raw["battery"][0].get("technology")
    # without [economics] no cost is needed, and the scenario has none
    assert not {f for f in _issues(raw) if "capex" in f}
    s = scenario_from_dict(raw, resolve=False)
    assert s.economics is None
    with pytest.raises(ScenarioError, match=r"pv\[0\]\.capex_cny_per_kw"):
        asset_costs(s)
    assert asset_costs(s, require=()) == {}


def test_project_life_shorter_than_the_first_replacement(raw) -> None:
    data = copy.deepcopy(raw)
    data["economics"] = {"project_life_yr": 10}
    data["pv"][0].update(capex_cny_per_kw=3000.0, lifetime_yr=25.0)
    msg = _issues(data)["pv[0].lifetime_yr"]
    assert "project_life_yr = 10" in msg and "25" in msg


def test_cost_fields_are_validated(raw) -> None:
    data = copy.deepcopy(raw)
    data["pv"][0].update(capex_cny_per_kw=-1.0, fixed_om_pct_per_yr=2.0,
                         fixed_om_cny_per_kw_yr=30.0)
    data["economics"] = {"discount_rate_pu": 1.5, "project_life_yr": 0}
    found = _issues(data)
    assert "outside the allowed range" in found["pv[0].capex_cny_per_kw"]
    assert "one way" in found["pv[0].fixed_om_pct_per_yr"]
    assert "[0, 1]" in found["economics.discount_rate_pu"]
    assert "[1, 100]" in found["economics.project_life_yr"]
    data = copy.deepcopy(raw)
    data["economics"] = {}
    data["grid"].update(import_limit_mw=math.inf, export_limit_mw=math.inf,
                        technology="grid_connection")
    assert "both limits are infinite" in _issues(data)["grid.capex_cny_per_kw"]
    data = copy.deepcopy(raw)
    data["pv"][0]["technology"] = "diesel"
    assert "not allowed" in _issues(data)["pv[0].technology"]
    assert math.isfinite(capital_recovery_factor(0.06, 25))


def _constant_electrolyser_scenario():
    return scenario_from_dict({
        "scenario": {"year": 2025},
        "grid": {"import_limit_mw": 20.0, "export_limit_mw": 0.0},
        "electrolyser": [{"name": "EL", "bus": "b", "p_mw": 10.0, "kwh_per_kg": 50.0,
                          "capex_cny_per_kw": 5000.0, "fixed_om_pct_per_yr": 2.0,
                          "lifetime_yr": 20.0}],
        "hydrogen": {"capacity_kg": 1000.0, "capex_cny_per_kg": 3000.0, "lifetime_yr": 20.0},
        "economics": {"discount_rate_pu": 0.08, "project_life_yr": 20},
    }, resolve=False)


def test_lcoh_of_a_constant_load_electrolyser_by_hand() -> None:
    """10 MW at full load all year (8,760 h) from the grid at a flat 400 CNY/MWh,
    50 kWh/kg: 87,600 MWh -> 1,752,000 kg. CRF(8 %, 20) = 0.1018522.
    Electrolyser: 5e6 CNY/MW x (0.1018522 + 2 % O&M) x 10 MW = 6,092,610 CNY/yr;
    tank: 1,000 kg x 3,000 CNY/kg x 0.1018522 = 305,557 CNY/yr;
    electricity: 87,600 MWh x 400 = 35,040,000 CNY/yr (all imported: its attributed
    price is the tariff).
    LCOH = (6,092,610 + 305,557 + 35,040,000) / 1,752,000 = 23.652 CNY/kg
    (20 CNY/kg of it electricity: 400 CNY/MWh x 50 kWh/kg).
    """
    from parkgrid.kpis import KpiParams, compute_kpis
    from parkgrid.lifecycle import economic_kpis, evaluate_lifecycle

    s = _constant_electrolyser_scenario()
    index = pd.date_range("2025-01-01", periods=35040, freq="15min", tz="Etc/GMT-8")
    ts = pd.DataFrame({"electrolyser_mw": 10.0, "grid_import_mw": 10.0,
                       "price_cny_per_mwh": 400.0, "h2_produced_kg": 50.0,
                       "electrolyser.EL.p_mw": 10.0}, index=index)
    kpis = compute_kpis(ts, KpiParams(dt_h=0.25, ef_kg_per_kwh=0.5, el_rated_mw=10.0))
    assert kpis["h2_produced_kg"] == pytest.approx(1_752_000.0)
    eco = economic_kpis(s, ts, kpis)
    assert eco["lcoh_cny_per_kg"] == pytest.approx(23.652, abs=5e-4)
    crf = 0.08 * 1.08 ** 20 / (1.08 ** 20 - 1)
    want = (5e6 * (crf + 0.02) * 10 + 3e6 * crf + 35_040_000) / 1_752_000
    assert eco["lcoh_cny_per_kg"] == pytest.approx(want, rel=1e-12)
    assert eco["capex_total_cny"] == 5e7 + 3e6
    # the cost breakdown adds up to the annualised cost (CRF x NPC)
    lc = evaluate_lifecycle(s, ts, kpis)
    assert sum(lc.annualised_cny_per_yr.values()) == pytest.approx(
        eco["annualised_cost_cny_per_yr"], rel=1e-12)
    assert math.isnan(eco["lcos_cny_per_mwh"]) and math.isnan(eco["lcoe_res_cny_per_mwh"])


def test_flagship_economics_example_costs(repo_root) -> None:
    """The example's capex by hand from its presets: PV 300 MW x 3,100 + 100 MW x 2,900
    CNY/kW = 1.22e9; wind 300 MW x 4,500 = 1.35e9; LFP 600 MWh x 425 + 150 MW x 300 =
    0.30e9; alkaline 150 MW x 2,500 = 0.375e9; tank 20,000 kg x 3,500 = 0.07e9; grid
    connection 150 MW x 400 = 0.06e9; total 3.375e9 CNY."""
    raw = tomllib.loads((repo_root / "examples" / "flagship_economics.toml").read_text())
    costs = asset_costs(scenario_from_dict(raw, resolve=False))
    assert sum(c.capex_cny for c in costs.values()) == pytest.approx(3.375e9, rel=1e-12)
    assert costs["grid"].p_mw == 150.0


def test_no_economic_kpis_without_economics(flagship_result) -> None:
    from parkgrid.kpis import ECONOMIC_KPI_INFO

    assert flagship_result.scenario.economics is None
    assert not set(ECONOMIC_KPI_INFO) & set(flagship_result.kpis)


def test_sweeps_take_economic_objectives(repo_root) -> None:
    """min:lcoh_cny_per_kg, min:net_present_cost_cny, max:npv_cny: accepted with an
    [economics] base; refused, naming the objective, without one. The Pareto front
    turns max objectives: of (NPC, NPV) = A (10, 5), B (8, 5), C (12, 9), D (9, 1),
    B beats A (cheaper, same NPV) and D (cheaper, higher NPV); nothing beats B (the
    cheapest) or C (the highest NPV): front {B, C}."""
    from parkgrid.errors import SweepError
    from parkgrid.sweep import sweep_from_dict
    from parkgrid.sweep.pareto import pareto_mask

    objectives = ["min:lcoh_cny_per_kg", "min:net_present_cost_cny", "max:npv_cny"]
    raw = {"sweep": {"base": "flagship_economics.toml", "objectives": objectives},
           "parameter": [{"path": "battery[0].e_mwh", "values": [300.0, 600.0]}]}
    spec = sweep_from_dict(raw, source="s.toml", base_dir=repo_root / "examples")
    assert spec.objectives == tuple(objectives)
    raw["sweep"]["base"] = "flagship_park.toml"
    with pytest.raises(SweepError) as err:
        sweep_from_dict(raw, source="s.toml", base_dir=repo_root / "examples")
    fields = {i.field: i.message for i in err.value.issues}
    assert set(fields) == {"sweep.objectives[0]", "sweep.objectives[1]",
                           "sweep.objectives[2]"}
    assert "[economics]" in fields["sweep.objectives[2]"]
    table = pd.DataFrame({"net_present_cost_cny": [10.0, 8.0, 12.0, 9.0],
                          "npv_cny": [5.0, 5.0, 9.0, 1.0]}, index=list("ABCD"))
    mask = pareto_mask(table, ("min:net_present_cost_cny", "max:npv_cny"))
    assert list(table.index[mask]) == ["B", "C"]


def test_cost_figures_add_up(tmp_path) -> None:
    """The report's cost breakdown is the annualised cost; the cash-flow figure draws."""
    from types import SimpleNamespace

    from parkgrid.kpis import KpiParams, compute_kpis
    from parkgrid.lifecycle import economic_kpis
    from parkgrid.report.costs import cost_figure_specs

    s = _constant_electrolyser_scenario()
    index = pd.date_range("2025-01-01", periods=35040, freq="15min", tz="Etc/GMT-8")
    ts = pd.DataFrame({"electrolyser_mw": 10.0, "grid_import_mw": 10.0,
                       "price_cny_per_mwh": 400.0, "h2_produced_kg": 50.0,
                       "electrolyser.EL.p_mw": 10.0, "load_mw": 0.0}, index=index)
    kpis = compute_kpis(ts, KpiParams(dt_h=0.25, ef_kg_per_kwh=0.5, el_rated_mw=10.0))
    kpis.update(economic_kpis(s, ts, kpis))
    specs = cost_figure_specs(SimpleNamespace(scenario=s, timeseries=ts, kpis=kpis))
    assert [h for h, _, _ in specs] == ["Cost breakdown", "Cash flows over the project life"]
    bars = specs[0][2]().axes[0].patches
    assert sum(b.get_width() for b in bars) * 1e6 == pytest.approx(
        kpis["annualised_cost_cny_per_yr"], rel=1e-9)
    specs[1][2]().savefig(tmp_path / "cash.png")
    none = SimpleNamespace(scenario=scenario_from_dict(
        {"scenario": {"year": 2025}, "grid": {"import_limit_mw": 1.0, "export_limit_mw": 0.0}},
        resolve=False), timeseries=ts, kpis=kpis)
    assert cost_figure_specs(none) == []


def test_reference_scenario_must_exist(repo_root) -> None:
    data = tomllib.loads((repo_root / "examples" / "flagship_economics.toml").read_text())
    data["economics"]["reference"] = "no_such_park.toml"
    with pytest.raises(ScenarioError, match=r"economics\.reference: no scenario file"):
        scenario_from_dict(data, base_dir=repo_root / "examples")


def test_a_design_against_itself_as_reference_has_npv_zero(repo_root, tmp_path) -> None:
    """economics.reference = a scenario file: simulated once and costed with the
    design's [economics]. The design as its own reference: NPV 0, payback 0, and the
    reference NPC equals the design's (both one dispatch of the same year)."""
    import parkgrid

    text = (repo_root / "examples" / "flagship_economics.toml").read_text()
    (tmp_path / "same.toml").write_text(text)
    (tmp_path / "design.toml").write_text(text.replace(
        'reference = "grid_only"', 'reference = "same.toml"'))
    r = parkgrid.simulate(tmp_path / "design.toml", pf_steps="none")
    assert r.kpis["reference_net_present_cost_cny"] == pytest.approx(
        r.kpis["net_present_cost_cny"], rel=1e-12)
    assert r.kpis["npv_cny"] == pytest.approx(0.0, abs=1e-6 * r.kpis["capex_total_cny"])
    assert r.kpis["payback_yr"] == 0.0


def test_cost_presets_are_keys_of_their_kind_within_range() -> None:
    """Every preset value is a key of the tables whose technology offers it, in range."""
    from parkgrid.presets import COST_PRESETS
    from parkgrid.scenario.schema import TABLES

    offered = {t: k for k in ("pv", "wind", "battery", "electrolyser", "hydrogen", "grid")
               for t in TABLES[k].field("technology").choices or () if t}
    assert set(COST_PRESETS) == set(offered)
    for tech, values in COST_PRESETS.items():
        table = TABLES[offered[tech]]
        for key, value in values.items():
            assert table.field(key).check(value, f"{tech}.{key}") == [], (tech, key)
        assert values["lifetime_yr"] <= 25  # fits the default project life
