"""Carbon and green-power accounting (parkgrid.carbon), worked out by hand.

Acceptance of issue 13: an 8-step park with a direct line, a PPA and certificates;
the published factors; invariants on random parks; bad input.
"""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkgrid.carbon import Flows, Instruments, Product, Rules, account, contract_instruments
from parkgrid.errors import ScenarioError
from parkgrid.factors import emission_factor
from parkgrid.scenario import load_scenario, scenario_from_dict
from parkgrid.scenario.load import validate_scenario_dict
from parkgrid.scenario.model import GreenContract

# four 15-min steps at the end of January, four at the start of February
IDX = pd.date_range("2025-01-31 23:00", periods=8, freq="15min", tz="UTC+08:00")
R = np.array([6, 2, 0, 8, 0, 3, 1, 0.0])     # own RES after curtailment [MWh/step]
D = np.array([0, 2, 1, 2, 0, 1, 0, 0.0])     # direct line delivered
I = np.array([0, 4, 5, 0, 6, 2, 5, 2.0])     # import  # noqa: E741
E = np.array([0, 0, 0, 2, 0, 0, 0, 0.0])     # export
K = np.array([0, 0, 0, 0, 0, 0, 0, 4.0])     # coal, 0.8 tCO2/MWh
L = np.full(8, 4.0)                          # the cell factory
EL = np.array([2, 4, 2, 4, 2, 2, 2, 2.0])    # electrolyser, 50 kWh/kg


def _park(**rules) -> tuple[Flows, Instruments, Rules]:
    flows = Flows(index=IDX, own_res_mwh=R, import_mwh=I, export_mwh=E, loads_mwh=L[:, None],
                  load_names=("cells",), direct_line_mwh=D, coal_mwh=K, coal_co2_t=0.8 * K,
                  electrolyser_mwh=EL, h2_kg=EL * 1000 / 50)
    inst = Instruments(ppa_mwh=np.ones(8), certificates_mwh_by_year={2025: 6.0})
    ef = np.full(8, 0.6)
    return flows, inst, Rules(ef_location=ef, ef_residual=rules.pop("residual", ef),
                              ef_displaced=ef, **rules)


CELLS = Product("battery cells", 1000.0, "kWh", (0,))


def test_eight_step_park_by_hand():
    """Every figure below is worked out by hand (MWh per step, ef 0.6 everywhere).

    Balance R + D + I + K = L + EL + E each step; the export of step 3 is taken from
    the direct line first, so its 2 MWh there are surplus. Net consumption N (own and
    direct line on site + import + coal on site) = 6 8 6 8 | 6 6 6 6 = 52 MWh.

    Matched per step: own min(N, R) = 6 2 0 8 0 3 1 0 = 20; direct line min(N - own, D)
    = 0 2 1 0 0 1 0 0 = 4 (6 delivered, 2 surplus); the PPA covers imports,
    min(1, I) = 0 1 1 0 1 1 1 1 = 6 (8 contracted, 2 surplus), all within N - own - dl;
    certificates count annually only: hourly green = 30 / 52.
    Monthly: Jan N 28, R 16, D 5, I 9, PPA 4 -> 16 + 5 + min(4, min(7, 9)) = 25;
    Feb N 24, R 4, D 1, I 15, PPA 4 -> 4 + 1 + 4 = 9; monthly green = 34 / 52.
    Annual: N 52, R 20, D 6, I 24, PPA 8, certificates 6 -> covered min(8 + 6, 24) =
    14, green min(52, 20 + 6 + 14) = 40 / 52. Own share 20/52 at every level;
    contracts 10, 14, 20 / 52.

    Scope 1 = 4 x 0.8 = 3.2 t; scope 2 location = 24 x 0.6 = 14.4 t; market (annual
    matching) = (24 - 14) x 0.6 = 6.0 t; monthly matching covers 8: 9.6 t; hourly 6:
    10.8 t (and 2 MWh of PPA surplus). Avoided = 20 MWh own RES x 0.6 = 12 t.

    Hydrogen 400 kg (EL x 20 kg/MWh). CO2 = EL/G x (coal on site CO2 + uncovered
    import x factor), G = N here (no battery):
    grid_share (physical, location): 4/8 x 2.4 + 2/6 x 3 + 2/6 x 3.6 + 2/6 x 1.2 +
    2/6 x 3 + 2/6 x (3.2 + 1.2) = 6.26667 t -> 15.6667 kgCO2/kg;
    hourly: 4/8 x 1.8 + 2/6 x 2.4 + 2/6 x 3 + 2/6 x 0.6 + 2/6 x 2.4 + 2/6 x (3.2 + 0.6)
    = 4.96667 t -> 12.41667 kg/kg;
    monthly: 12/28 x (5 x 0.6) + 8/24 x (3.2 + 11 x 0.6) = 4.552381 t -> 11.380952;
    annual: 20/52 x (3.2 + 10 x 0.6) = 3.538462 t -> 8.846154 kg/kg.
    Classes, matched per step: intensities 0, 11.25, 20, 0, 25, 5.0, 20, 31.67
    kg/kg; steps 0 and 3 are wholly green (120 kg renewable = clean = RFNBO if
    additional); low-carbon adds steps 1 (80 kg) and 5 (40 kg): 240 kg. Monthly:
    Jan 1.285714 t / 240 kg = 5.36 (low-carbon), Feb 20.4: 240 kg low-carbon, 0
    clean. Annual 8.85: all 400 kg low-carbon.

    Product (cells, 1000 kWh a year, market-based footprint, annual matching): the
    uncovered share of every import is 10/24, so scope 2 per step = 0.25 I; cells'
    share 4/G: 0, 0.5, 0.83333, 0, 1.0, 0.33333, 0.83333, (3.2 + 0.5) x 4/6 =
    2.46667; Jan 1.33333 t over 500 kWh = 2.66667 kg/kWh, Feb 4.63333 t over 500 =
    9.26667, year 5.96667 kg/kWh. Green share behind it (per step) = mean of 1, 5/8,
    2/6, 1 (Jan: 0.739583) and 1/6, 5/6, 2/6, 1/6 (Feb: 0.375). Unattributed =
    3.2 + 6.0 - 5.96667 = 3.23333 t.
    """
    a = account(*_park(rfnbo_additional=True), products=[CELLS])
    k = a.kpis
    close = lambda x, y: pytest.approx(y, rel=1e-12, abs=1e-12)  # noqa: E731
    assert k["net_consumption_mwh"] == close(k, 52.0)
    assert k["green_share_total_hourly"] == close(k, 30 / 52)
    assert k["green_share_total_monthly"] == close(k, 34 / 52)
    assert k["green_share_total_annual"] == close(k, 40 / 52)
    for lv, contract in (("hourly", 10), ("monthly", 14), ("annual", 20)):
        assert k[f"green_share_own_{lv}"] == close(k, 20 / 52)
        assert k[f"green_share_contract_{lv}"] == close(k, contract / 52)
    assert k["direct_line_surplus_mwh"] == close(k, 2.0)
    assert k["ppa_surplus_mwh"] == close(k, 0.0)
    assert k["certificates_surplus_mwh"] == close(k, 0.0)
    assert k["co2_scope1_t"] == close(k, 3.2)
    assert k["co2_scope2_location_t"] == close(k, 14.4)
    assert k["co2_scope2_market_t"] == close(k, 6.0)
    assert k["co2_scope12_market_t"] == close(k, 9.2)
    assert k["avoided_co2_t"] == close(k, 12.0)
    assert k["h2_kgco2_per_kg_grid_share"] == close(k, 6266.6666666666667 / 400)
    assert k["h2_kgco2_per_kg_hourly"] == close(k, 4966.6666666666667 / 400)
    assert k["h2_kgco2_per_kg_monthly"] == close(k, (12 / 28 * 3.0 + 8 / 24 * 9.8) * 1000 / 400)
    assert k["h2_kgco2_per_kg_annual"] == close(k, 20 / 52 * 9.2 * 1000 / 400)
    assert (k["h2_tcab_renewable_kg"], k["h2_tcab_clean_kg"], k["h2_tcab_low_carbon_kg"],
            k["h2_rfnbo_kg"]) == (120.0, 120.0, 240.0, 120.0)
    assert k["h2_target_class_kg"] == 120.0
    p = a.products.set_index("month")
    assert p.loc["2025-01", "kgco2_per_unit"] == close(k, 1333.3333333333333 / 500)
    assert p.loc["2025-02", "kgco2_per_unit"] == close(k, 4633.333333333333 / 500)
    assert p.loc["year", "kgco2_per_unit"] == close(k, 5.966666666666667)
    assert p.loc["2025-01", "green_share"] == close(k, (1 + 5 / 8 + 2 / 6 + 1) / 4)
    assert p.loc["2025-02", "green_share"] == close(k, 0.375)
    assert k["unattributed_co2_t"] == close(k, 9.2 - 5.966666666666667)
    assert any("surplus: 2.0 MWh of direct-line" in n for n in a.notes)
    m = a.monthly
    assert list(m["green_share_monthly_matched"]) == [close(k, 25 / 28), close(k, 9 / 24)]
    assert m["co2_scope2_location_t"].sum() == close(k, 14.4)

    monthly = account(*_park(market_matching="monthly", h2_matching="monthly")).kpis
    assert monthly["co2_scope2_market_t"] == close(k, 9.6)
    assert (monthly["h2_tcab_low_carbon_kg"], monthly["h2_tcab_clean_kg"]) == (240.0, 0.0)
    hourly = account(*_park(market_matching="hourly", h2_matching="annual")).kpis
    assert hourly["co2_scope2_market_t"] == close(k, 10.8)
    assert hourly["ppa_surplus_mwh"] == close(k, 2.0)
    assert (hourly["h2_tcab_low_carbon_kg"], hourly["h2_tcab_clean_kg"]) == (400.0, 0.0)
    assert hourly["h2_rfnbo_kg"] == 0.0  # additionality not declared
    residual = account(*_park(residual=np.full(8, 0.5856))).kpis  # MEE/NBS 2022 excl. market
    assert residual["co2_scope2_market_t"] == close(k, 10 * 0.5856)


def test_contracts_beyond_consumption_are_surplus_not_green():
    """A PPA of 100 MWh and certificates of 50 on a park importing 24: surplus stated."""
    flows, _, rules = _park()
    inst = Instruments(ppa_mwh=np.full(8, 12.5), certificates_mwh_by_year={2025: 50.0})
    a = account(flows, inst, rules)
    # annual: the PPA covers all 24 MWh of imports, certificates nothing; green share
    # min(52, 20 + 6 + 24) / 52
    assert a.kpis["green_share_total_annual"] == pytest.approx(50 / 52, rel=1e-12)
    assert a.kpis["ppa_surplus_mwh"] == pytest.approx(100 - 24, rel=1e-12)
    assert a.kpis["certificates_surplus_mwh"] == pytest.approx(50.0, rel=1e-12)
    assert a.kpis["co2_scope2_market_t"] == pytest.approx(0.0, abs=1e-12)
    assert sum("surplus" in n for n in a.notes) == 3


def test_ppa_volume_is_spread_over_its_period_and_prorated():
    idx = pd.date_range("2025-01-01", periods=4 * 24 * 59, freq="15min")  # Jan + Feb
    ppa = GreenContract("p", "ppa", volume_mwh=8760.0, price_cny_per_mwh=300.0)
    mon = GreenContract("m", "ppa", monthly_mwh=(31.0, 28.0, *([0.0] * 10)))
    cert = GreenContract("c", "certificates", mwh_by_year=((2025.0, 365.0),))
    inst = contract_instruments([ppa, mon, cert], idx, dt_h=0.25)
    # 59 days of 365: 1416 MWh of the annual PPA (1 MW flat) + 59 MWh monthly
    assert inst.ppa_mwh.sum() == pytest.approx(59 * 24 + 59, rel=1e-12)
    assert inst.ppa_mwh[0] == pytest.approx(0.25 + 1 / 96, rel=1e-12)
    assert inst.certificates_mwh_by_year == {2025: pytest.approx(59.0, rel=1e-12)}
    assert inst.cost_cny == pytest.approx(59 * 24 * 300.0, rel=1e-12)


def test_published_factors_and_missing_entries():
    """Values as quoted from the MEE/NBS announcements (parkgrid/factors.py)."""
    assert emission_factor("inner_mongolia", 2022) == 0.6849
    assert emission_factor("hebei", 2022) == 0.7252
    assert emission_factor("yunnan", 2022) == 0.1073
    assert emission_factor("national", 2021) == 0.5568
    assert emission_factor("national", 2023) == 0.5306
    assert emission_factor("north_china", 2023) == 0.6361
    assert emission_factor("national_excl_market", 2022) == 0.5856
    with pytest.raises(KeyError, match=r"no 'inner_mongolia' emission factor for 2023; "
                                       r"available years: 2022"):
        emission_factor("inner_mongolia", 2023)
    with pytest.raises(KeyError, match="parkgrid's table does not hold it"):
        emission_factor("beijing", 2022)
    with pytest.raises(KeyError, match="unknown emission-factor table 'atlantis'"):
        emission_factor("atlantis", 2022)


# ----------------------------------------------------------------- invariants
@st.composite
def _random_park(draw):
    n = draw(st.integers(2, 40))
    mwh = st.floats(0, 10, allow_nan=False)
    arr = lambda: np.array(draw(st.lists(mwh, min_size=n, max_size=n)))  # noqa: E731
    own, line, coal, el = arr(), arr(), arr() * draw(st.sampled_from([0.0, 1.0])), arr()
    loads = np.column_stack([arr(), arr()])
    ch, dis = arr() * 0.3, arr() * 0.3
    residual = own + line + coal + dis - loads.sum(axis=1) - el - ch
    imp, exp = np.maximum(-residual, 0), np.maximum(residual, 0)
    start = draw(st.sampled_from(["2025-01-31 20:00", "2025-12-31 22:00", "2025-06-10"]))
    idx = pd.date_range(start, periods=n, freq=draw(st.sampled_from(["15min", "6h"])))
    flows = Flows(index=idx, own_res_mwh=own, import_mwh=imp, export_mwh=exp,
                  loads_mwh=loads, load_names=("a", "b"), direct_line_mwh=line,
                  coal_mwh=coal, coal_co2_t=0.9 * coal, charge_mwh=ch, discharge_mwh=dis,
                  electrolyser_mwh=el, h2_kg=el * 19.0)
    ef = np.array(draw(st.lists(st.floats(0.1, 1.0), min_size=n, max_size=n)))
    shrink = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    certs = {int(y): draw(st.floats(0, 50)) for y in np.unique(idx.year)}
    inst = Instruments(ppa_mwh=arr(), certificates_mwh_by_year=certs)
    rules = Rules(ef_location=ef, ef_residual=ef * shrink, ef_displaced=ef,
                  market_matching=draw(st.sampled_from(["hourly", "monthly", "annual"])),
                  footprint_scope2=draw(st.sampled_from(["location", "market"])))
    return flows, inst, rules


@settings(max_examples=60, deadline=None)
@given(_random_park())
def test_invariants(park):
    flows, inst, rules = park
    a = account(flows, inst, rules, products=[Product("x", 10.0, "t", (0,)),
                                              Product("y", 5.0, "t", (1,))])
    k = a.kpis
    # residual factor <= location factor per step: market <= location
    assert k["co2_scope2_market_t"] <= k["co2_scope2_location_t"] + 1e-9
    if k["net_consumption_mwh"] > 1e-9:
        assert k["green_share_total_hourly"] <= k["green_share_total_monthly"] + 1e-12
        assert k["green_share_total_monthly"] <= k["green_share_total_annual"] + 1e-12
        assert k["green_share_total_annual"] <= 1.0 + 1e-12
    total = k["co2_scope1_t"] + (k["co2_scope2_market_t"] if rules.footprint_scope2 == "market"
                                 else k["co2_scope2_location_t"])
    products = a.products[a.products["month"] == "year"]["co2_t"].sum()
    assert products + k["unattributed_co2_t"] == pytest.approx(total, rel=0, abs=1e-9)
    assert k["unattributed_co2_t"] >= -1e-9


# ----------------------------------------------------------------- bad input
_BASE = {"scenario": {"year": 2025}, "grid": {"import_limit_mw": 10.0, "export_limit_mw": 10.0}}


def _issues(**extra) -> list[str]:
    _, issues = validate_scenario_dict({**_BASE, **extra}, source="park.toml")
    return [f"{i.field}: {i.message}" for i in issues]


def test_bad_contracts_and_factors_are_named():
    msgs = _issues(green_contract=[
        {"name": "c1", "kind": "certificates", "mwh_by_year": [[2025, 100], [2026, 80]]},
        {"name": "c2", "kind": "certificates", "mwh_by_year": [[2026, 50]]},
        {"name": "p", "kind": "ppa", "volume_mwh": 10.0, "monthly_mwh": [1.0] * 12},
        {"name": "d", "kind": "direct_line", "p_mw": 5.0, "volume_mwh": 3.0},
    ])
    assert any(m.startswith("green_contract[1].mwh_by_year: certificate year 2026 overlaps "
                            "green_contract[0].mwh_by_year") for m in msgs), msgs
    assert any(m.startswith("green_contract[2].volume_mwh: a ppa needs exactly one")
               for m in msgs), msgs
    assert "green_contract[3].bus: a direct_line needs the bus the line arrives at" in msgs
    assert any(m.startswith("green_contract[3].volume_mwh: does not apply") for m in msgs)
    msgs = _issues(grid={**_BASE["grid"], "emission_factor": "atlantis"})
    assert msgs == ["grid.emission_factor: unknown emission-factor table 'atlantis'; allowed: "
                    + ", ".join(sorted(__import__("parkgrid.factors").factors
                                       .EMISSION_FACTORS_KG_PER_KWH))]
    msgs = _issues(grid={**_BASE["grid"], "emission_factor": "inner_mongolia",
                         "emission_factor_year": 2023})
    assert msgs == ["grid.emission_factor: no 'inner_mongolia' emission factor for 2023; "
                    "available years: 2022"]
    msgs = _issues(load=[{"name": "f", "bus": "b", "profile": "x", "peak_mw": 1.0,
                          "product": "cells"}])
    assert any(m.startswith("load[0].output_per_year:") for m in msgs)
    assert _issues(carbon={"residual_factor": "eu_mix"})[0].startswith(
        "carbon.residual_factor: 'eu_mix' is not allowed; one of 'location', "
        "'national_excl_market' or a number in [0, 2]")


def test_unknown_contract_bus_is_named(repo_root):
    path = repo_root / "examples" / "flagship_park.toml"
    s = load_scenario(path)
    raw = tomllib.loads(path.read_text())
    raw["green_contract"] = [{"name": "Far wind", "kind": "direct_line", "bus": "Nowhere 220kV",
                              "profile": "wind_pu", "p_mw": 200.0}]
    with pytest.raises(ScenarioError, match=r"green_contract\[0\]\.bus: unknown bus "
                                            r"'Nowhere 220kV'"):
        scenario_from_dict(raw, source="park.toml", net=s.net, profiles=s.profiles)


def test_assess_uses_the_same_accounting_with_a_contracts_file(repo_root, tmp_path):
    from parkgrid.assess import assess_meters

    meters = repo_root / "examples" / "park_meter_sample.csv"
    good = tmp_path / "contracts.toml"
    good.write_text('[carbon]\nmarket_matching = "monthly"\n\n[[green_contract]]\n'
                    'name = "PPA"\nkind = "ppa"\nvolume_mwh = 8760.0\n')
    a = assess_meters(meters, contracts=good)
    hours = len(a.timeseries) * a.resolution / pd.Timedelta(hours=1)
    assert a.kpis["ppa_mwh"] == pytest.approx(hours, rel=1e-12)  # 1 MW flat, pro rata
    assert a.kpis["co2_scope2_market_t"] < a.kpis["co2_scope2_location_t"]
    assert a.kpis["co2_scope2_location_t"] == pytest.approx(a.kpis["co2_t"], rel=1e-12)
    assert "green_share_monthly_matched" in a.monthly
    bad = tmp_path / "bad.toml"
    bad.write_text('[[green_contract]]\nname = "a"\nkind = "certificates"\n'
                   'mwh_by_year = [[2025, 1.0]]\n[[green_contract]]\nname = "b"\n'
                   'kind = "certificates"\nmwh_by_year = [[2025, 2.0]]\n'
                   '[[green_contract]]\nname = "c"\nkind = "direct_line"\n[pv]\n')
    with pytest.raises(ScenarioError) as err:
        assess_meters(meters, contracts=bad)
    text = str(err.value)
    assert "bad.toml: pv: not allowed in a contracts file" in text
    assert "bad.toml: green_contract[2].kind: a direct line's delivery is metered" in text
    bad.write_text('[[green_contract]]\nname = "a"\nkind = "certificates"\n'
                   'mwh_by_year = [[2025, 1.0]]\n[[green_contract]]\nname = "b"\n'
                   'kind = "certificates"\nmwh_by_year = [[2025, 2.0]]\n')
    with pytest.raises(ScenarioError, match=r"bad.toml: green_contract\[1\].mwh_by_year: "
                                            r"certificate year 2025 overlaps"):
        assess_meters(meters, contracts=bad)


def test_direct_line_is_dispatched_and_in_the_power_flow(tmp_path):
    """A 20 MW direct line into a tiny park: supply in the balance, an sgen in the net.

    Per step: PV used + direct line + import = load + export; the power flow's slack
    exchange = import - export + losses (the line's injection is in the flow); the
    accounting counts it as a contract, not as own RES.
    """
    import parkgrid
    from parkgrid.network import build_park_net

    path = tmp_path / "dl.toml"
    path.write_text("""
[scenario]
year = 2025
[powerflow]
steps = "day:180"
[grid]
import_limit_mw = 50.0
export_limit_mw = 5.0
[[pv]]
name = "PV"
bus = "PV-A 35kV"
p_mw = 10.0
[[load]]
name = "Offices"
bus = "Offices 10kV"
profile = "load_offices_pu"
peak_mw = 15.0
[[green_contract]]
name = "Far wind"
kind = "direct_line"
bus = "Wind-A 35kV"
profile = "wind_pu"
p_mw = 20.0
price_cny_per_mwh = 250.0
""")
    r = parkgrid.simulate(path)
    ts, k = r.timeseries, r.kpis
    line = ts["direct_line.Far wind.p_mw"].to_numpy()
    np.testing.assert_allclose(line, ts["direct_line_mw"], atol=1e-12)
    assert line.max() > 1.0
    own = ts["pv_avail_mw"] - ts["curtailed_mw"]
    np.testing.assert_allclose(own + line + ts["grid_import_mw"],
                               ts["load_mw"] - ts["unserved_mw"] + ts["grid_export_mw"],
                               atol=1e-9)
    # curtailed_mw is the own plants' part; the line is curtailed in the same proportion
    np.testing.assert_allclose(ts["pv.PV.p_mw"] + ts["curtailed_mw"], ts["pv_avail_mw"],
                               atol=1e-9)
    both = (ts["pv_avail_mw"] > 0.1) & (ts["direct_line_avail_mw"] > 0.1)
    np.testing.assert_allclose((ts["direct_line_mw"] / ts["direct_line_avail_mw"])[both],
                               (ts["pv.PV.p_mw"] / ts["pv_avail_mw"])[both], rtol=1e-9)
    assert (ts["direct_line_mw"] < ts["direct_line_avail_mw"] - 1e-6).any()
    park = build_park_net(r.scenario)
    table, idx = park.elements[("direct_line", "Far wind")]
    assert table == "sgen" and park.net.sgen.at[idx, "type"] == "DL"
    pf = r.network
    day = pf.converged.index
    slack = pf.ext_grid_p_mw.sum(axis=1).to_numpy()
    exchange = (ts["grid_import_mw"] - ts["grid_export_mw"]).loc[day].to_numpy()
    np.testing.assert_allclose(slack, exchange + pf.losses_mw.to_numpy(), atol=1e-6)
    assert k["direct_line_mwh"] == pytest.approx(line.sum() * 0.25, rel=1e-12)
    assert k["green_contract_cost_cny"] == pytest.approx(line.sum() * 0.25 * 250.0, rel=1e-12)
    assert k["green_share_own_annual"] < k["green_share_total_annual"]
    assert k["res_available_mwh"] == pytest.approx(ts["pv_avail_mw"].sum() * 0.25, rel=1e-12)


def test_per_step_factor_column(repo_root):
    """Imports 2, 0, 4 MW for 15 min at 0.5, 0.9, 0.25 kgCO2/kWh: 0.25 + 0.25 = 0.5 t."""
    from parkgrid.carbon import scenario_account
    from parkgrid.kpis import KpiParams, compute_kpis

    idx = pd.date_range("2025-03-01", periods=3, freq="15min")
    ts = pd.DataFrame({"pv_avail_mw": [1.0, 5.0, 0.0], "grid_import_mw": [2.0, 0.0, 4.0],
                       "grid_export_mw": [0.0, 1.0, 0.0], "load_mw": [3.0, 4.0, 4.0],
                       "ef_location_kg_per_kwh": [0.5, 0.9, 0.25]}, index=idx)
    k = compute_kpis(ts, KpiParams(dt_h=0.25, ef_kg_per_kwh=0.6849))
    assert k["co2_t"] == pytest.approx(0.5, rel=1e-12)
    assert k["emission_factor_kg_per_kwh"] == pytest.approx(0.5 / 1.5, rel=1e-12)
    s = scenario_from_dict({**_BASE, "scenario": {"year": 2025}}, resolve=False)
    assert scenario_account(s, ts, dt_h=0.25).kpis["co2_scope2_location_t"] == pytest.approx(
        0.5, rel=1e-12)
    path = repo_root / "examples" / "flagship_park.toml"
    raw = tomllib.loads(path.read_text())
    raw["grid"]["emission_factor_column"] = "ef_hourly"
    base = load_scenario(path)
    with pytest.raises(ScenarioError, match=r"grid.emission_factor_column: profile column "
                                            r"'ef_hourly' not in the profile set"):
        scenario_from_dict(raw, source="park.toml", net=base.net, profiles=base.profiles)
    raw["grid"]["emission_factor_column"] = "load_chemical_pu"  # a valid 0..1 column
    s = scenario_from_dict(raw, source="park.toml", net=base.net, profiles=base.profiles)
    assert s.grid.emission_factor_column == "load_chemical_pu"
