"""Strategy ``optimal`` through scenarios: same KPIs as the rules, strategies side by side."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import parkgrid
from parkgrid.compare import compare_strategies, format_comparison
from parkgrid.optimal.scenario import scenario_options, scenario_prices

SMALL = """\
[scenario]
name = "small optimal park"
year = 2025

[dispatch]
strategy = "optimal"

[powerflow]
steps = "none"

[optimal]
window_h = 72.0
commit_h = 48.0
carbon_price_cny_per_t = 80.0
hydrogen_value_cny_per_kg = 15.0

[optimal.weights]
export = 0.5

[grid]
import_limit_mw = 40.0
export_limit_mw = 10.0
export_price_cny_per_mwh = 280.0
capacity_charge_cny_per_mw_month = 20000.0

[grid.tariff]
peak_cny_per_mwh = 620.0
flat_cny_per_mwh = 420.0
valley_cny_per_mwh = 220.0
peak_hours = [17, 18, 19, 20, 21, 22]
valley_hours = [0, 1, 2, 3, 4, 5, 6, 11, 12, 13]

[[pv]]
name = "PV"
bus = "PV-A 35kV"
p_mw = 60.0

[[wind]]
name = "Wind"
bus = "Wind-A 35kV"
p_mw = 30.0

[[battery]]
name = "BESS"
bus = "BESS 35kV"
p_mw = 10.0
e_mwh = 40.0

[[electrolyser]]
name = "EL"
bus = "Electrolyser 35kV"
p_mw = 10.0
min_load_pu = 0.0

[[load]]
name = "Factory"
bus = "Cell factory 10kV"
profile = "load_battery_cells_pu"
peak_mw = 30.0
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("optimal") / "small.toml"
    path.write_text(SMALL)
    return parkgrid.load_scenario(path)


def test_settings_come_from_the_optimal_section(small):
    opt = scenario_options(small)
    assert (opt.window_h, opt.commit_h) == (72.0, 48.0)
    p = scenario_prices(small, small.profiles.index)
    assert p.carbon_cny_per_t == 80.0 and p.hydrogen_cny_per_kg == 15.0
    assert p.weights.export == 0.5 and p.weights.energy == 1.0
    # the tariff by hour of every step, billed by calendar month
    idx = small.profiles.index
    assert np.asarray(p.import_cny_per_mwh)[idx.hour == 18].min() == 620.0
    assert np.asarray(p.import_cny_per_mwh)[idx.hour == 3].max() == 220.0
    assert np.array_equal(p.period, idx.month)


def test_run_reports_the_same_kpis(small):
    opt = parkgrid.simulate(small)
    rule = parkgrid.simulate(dataclasses.replace(small, strategy="self_consumption"))
    assert set(opt.kpis) == set(rule.kpis)
    ts = opt.timeseries
    lhs = ts.res_avail_mw - ts.curtailed_mw + ts.grid_import_mw + ts.bat_discharge_mw
    rhs = (ts.load_mw - ts.unserved_mw + ts.bat_charge_mw + ts.electrolyser_mw
           + ts.grid_export_mw)
    assert np.max(np.abs(lhs - rhs)) < 1e-9
    assert not ((ts.bat_charge_mw > 0) & (ts.bat_discharge_mw > 0)).any()
    assert opt.kpis["unserved_mwh"] == 0.0  # never shed to shave the monthly peak
    # hydrogen at 15 CNY/kg beats valley power at 220 + 80 x 0.6849 CNY/MWh (53 kWh/kg):
    # the optimum electrolyses valley imports, the rule only surplus
    assert opt.kpis["h2_produced_kg"] > rule.kpis["h2_produced_kg"]


def test_compare_puts_strategies_side_by_side_with_the_gap(small):
    cmp = compare_strategies(small, ("self_consumption", "optimal", "coal_peaking"))
    table, objectives = cmp.table, cmp.objectives
    assert "coal_peaking" in cmp.skipped
    assert list(table.columns) == ["self_consumption", "optimal"]
    for row in ("objective_cny", "net_cost_cny", "co2_t", "self_consumption_ratio",
                "h2_produced_kg", "curtailed_mwh", "gap_to_optimal_cny", "gap_to_optimal_pct"):
        assert row in table.index
    gap = table.loc["gap_to_optimal_cny"]
    assert gap["optimal"] == 0.0 and gap["self_consumption"] > 0.0
    assert table.loc["objective_cny", "optimal"] == pytest.approx(objectives["optimal"].total)
    text = format_comparison(table)
    assert "gap_to_optimal_pct" in text and "self_consumption" in text


def test_features_not_modelled_are_named(small):
    from parkgrid.optimal import OptimalUnsupportedError

    with pytest.raises(OptimalUnsupportedError, match=r"dispatch.import_cap_mw"):
        parkgrid.simulate(dataclasses.replace(small, import_cap_mw=5.0))


def test_ac_check_reports_every_step_and_resolves_with_a_tighter_exchange(small):
    """One summer week on the flagship network with a 30 % loading limit (to provoke overloads).

    Round 0 checks the optimal schedule with the AC power flow on every step; each
    later round lowers the grid exchange of the steps it can relieve to 0.9 x what
    the power flow saw, and the overloaded steps become fewer.
    """
    from parkgrid.ac_check import AcLimits, ac_check, step_violations

    week = dataclasses.replace(small, profiles=small.profiles.iloc[96 * 180:96 * 187])
    limits = AcLimits(vm_max_pu=1.07, loading_max_percent=30.0)
    check = ac_check(week, max_rounds=2, limits=limits)
    assert len(check.network.vm_pu) == 7 * 96  # every step
    first, last = check.rounds[0], check.rounds[-1]
    assert len(check.rounds) == 3 and first.addressable > 0
    assert set(first.violations.columns) >= {"vm_min_pu", "vm_max_pu", "overload",
                                             "undervoltage", "overvoltage", "not_converged"}
    assert len(last.violations) < len(first.violations)
    assert first.violations.index.isin(week.profiles.index).all()
    again = step_violations(check.network, limits)
    assert again.equals(last.violations)
    only = ac_check(week, limits=limits)
    assert len(only.rounds) == 1 and only.rounds[0].violations.equals(first.violations)


COAL = """
[[coal]]
name = "Coal"
bus = "Substation 35kV"
p_min_mw = 8.0
p_max_mw = 20.0
ramp_up_mw_per_min = 1.0
ramp_down_mw_per_min = 0.5
min_up_h = 3.0
min_down_h = 2.0
start_cost_cny = 2000.0
coal_gce_per_kwh = 300.0
fuel_cny_per_tce = 900.0
"""


def test_coal_scenarios_run_optimal_and_never_lose_to_coal_peaking(tmp_path):
    """A [[coal]] unit with minimum up/down times under strategy "optimal", one week:
    accepted, within the unit's limits, and no worse than the rule on the objective."""
    path = tmp_path / "coal.toml"
    # fuel 0.3 tce/MWh x 900 CNY/tce + CO2 0.83 t/MWh x 80 CNY/t = 336 CNY/MWh: coal
    # beats peak and flat imports, not valley ones: a start (2,000 CNY) pays for
    # itself after a night's valley off, so the unit cycles
    path.write_text(SMALL + COAL)
    sc = parkgrid.load_scenario(path)
    prices = scenario_prices(sc, sc.profiles.index)
    np.testing.assert_allclose(prices.coal_fuel_cny_per_mwh, [270.0], rtol=1e-12)
    week = dataclasses.replace(sc, profiles=sc.profiles.iloc[96 * 180:96 * 187])
    cmp = compare_strategies(week, ("coal_peaking", "optimal"))
    assert not cmp.skipped
    table = cmp.table
    opt = table.loc["objective_cny", "optimal"]
    assert table.loc["gap_to_optimal_cny", "coal_peaking"] >= -1e-6 * max(1.0, abs(opt))
    ts = parkgrid.simulate(week).timeseries
    p, start = ts["coal.Coal.p_mw"].to_numpy(), ts["coal.Coal.start"].to_numpy()
    on = p > 1e-6
    assert on.any() and (~on).any()  # the unit stops and starts again within the week
    assert np.all(p[on] >= 8.0 - 1e-6) and np.all(p <= 20.0 + 1e-6)
    ramp = np.diff(p)  # 15 min steps: 15 MW up, 7.5 MW down; a start may reach p_min
    assert np.all(ramp <= 15.0 + 8.0 * start[1:] + 1e-6)
    assert np.all(-ramp[on[1:]] <= 7.5 + 1e-6)
    # runs of on and off steps (the first and last may be cut by the week's ends)
    edges = np.flatnonzero(np.diff(on.astype(int))) + 1
    runs = np.split(on, edges)[1:-1]
    assert all(len(r) >= 12 for r in runs if r[0])  # min up 3 h
    assert all(len(r) >= 8 for r in runs if not r[0])  # min down 2 h (+1 step, as the rules)
    starts = edges[on[edges]] if not on[0] else np.r_[0, edges[on[edges]]]  # off before
    assert np.array_equal(np.flatnonzero(start > 0.5), starts)


def test_coal_example_is_accepted_by_the_optimiser(repo_root):
    """examples/flagship_coal_optimal.toml loads, and the optimiser models all of it."""
    from parkgrid.optimal.scenario import unsupported_features

    sc = parkgrid.load_scenario(repo_root / "examples" / "flagship_coal_optimal.toml")
    assert sc.strategy == "optimal" and len(sc.coal) == 1
    assert unsupported_features(sc) == []
    prices = scenario_prices(sc, sc.profiles.index)
    np.testing.assert_allclose(prices.coal_fuel_cny_per_mwh, [270.0], rtol=1e-12)
