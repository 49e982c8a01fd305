"""One connection point: the optimum imports or exports in a step, never both.

Where export pays more than import (the flagship's 282.9 CNY/MWh export against
its 220 CNY/MWh valley) a model with independent import and export variables
buys and sells at once; these cases catch it by hand, against an independent
model written here with linopy, and against every rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from parkgrid.dispatch import STRATEGIES, DispatchInputs, run_dispatch
from parkgrid.optimal import OptimalOptions, Prices, evaluate_objective, solve_optimal

EXACT = OptimalOptions(window_h=1e6, commit_h=1e6, mip_rel_gap=0.0, node_limit=100_000)
TOL = 1e-6  # [MW]: a flow above this counts as flowing


def both_ways(d) -> np.ndarray:
    """Steps of a schedule that import and export at once."""
    return np.flatnonzero((d.grid_import_mw > TOL) & (d.grid_export_mw > TOL))


def test_hand_case_export_dearer_than_valley_import():
    """Load 2 MW, wind [0, 3, 0, 3] MW, no storage; import <= 10 MW, export <= 5 MW, 1 h steps.

    Import costs [100, 100, 300, 300] CNY/MWh, export earns 200 CNY/MWh: dearer
    than the valley import of steps 0 and 1. With one connection point the
    park can only exchange its net: import 2, export 1, import 2, export 1, so
    200 - 200 + 600 - 200 = 400 CNY. Buying 10 MW and selling 5 MW in the
    valley (the fault) would earn 5 x 100 = 500 CNY more in each valley step.
    """
    inp = DispatchInputs(res_mw=np.array([0.0, 3.0, 0.0, 3.0]), load_mw=np.full(4, 2.0),
                         import_limit_mw=10.0, export_limit_mw=5.0, dt_h=1.0)
    prices = Prices(import_cny_per_mwh=np.array([100.0, 100.0, 300.0, 300.0]),
                    export_cny_per_mwh=200.0)
    sol = solve_optimal(inp, prices, EXACT)
    d = sol.dispatch
    assert both_ways(d).size == 0
    np.testing.assert_allclose(d.grid_import_mw, [2.0, 0.0, 2.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(d.grid_export_mw, [0.0, 1.0, 0.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(d.curtailed_mw, 0.0, atol=1e-9)
    assert sol.objective.total == pytest.approx(400.0, abs=1e-9)


def _park(seed: int, n: int = 48) -> tuple[DispatchInputs, Prices]:
    """A small flagship-like park over *n* hourly steps: PV and wind, a battery, an
    electrolyser with a minimum load and no tank (hydrogen sold as made); the
    flagship's tariff (valley 220 < export 282.9 CNY/MWh) and a capacity charge.
    """
    rng = np.random.default_rng(seed)
    hour = np.arange(n) % 24
    pv = np.clip(np.sin((hour - 6) / 12 * np.pi), 0, None) * rng.uniform(6.0, 10.0)
    res = pv + rng.uniform(0.0, 4.0, n)
    tariff = np.full(24, 420.0)
    tariff[[0, 1, 2, 3, 4, 5, 6, 11, 12, 13]] = 220.0
    tariff[17:23] = 620.0
    inp = DispatchInputs(
        res_mw=res, load_mw=rng.uniform(2.0, 6.0, n), import_limit_mw=6.0,
        export_limit_mw=4.0, dt_h=1.0,
        bat_p_mw=[3.0], bat_e_mwh=[12.0], bat_eta_charge=[0.95], bat_eta_discharge=[0.95],
        bat_soc_min_pu=[0.05], bat_soc_max_pu=[0.95], bat_soc_initial_pu=[0.5],
        el_p_mw=[3.0], el_kwh_per_kg=[53.0], el_min_load_pu=[0.2],
    )
    prices = Prices(import_cny_per_mwh=tariff[hour], export_cny_per_mwh=282.9,
                    capacity_charge_cny_per_mw_month=1000.0, hydrogen_cny_per_kg=20.0,
                    battery_value_cny_per_mwh=300.0, unserved_cny_per_mwh=1e5)
    return inp, prices


def _linopy_optimum(inp: DispatchInputs, prices: Prices) -> float:
    """The same park and objective written independently as a linopy model (HiGHS).

    Per step t: import g_t L_imp >= imp_t, export (1 - g_t) L_exp >= exp_t with a
    binary g_t; balance res - curt + imp + dis + uns = load + ch + el + exp;
    stored energy e_t = e_{t-1} + (eta_c ch - dis / eta_d) dt; the electrolyser
    off (on_t = 0) or between its minimum and its rating; imp_t <= peak. Cost:
    import, minus export, unserved penalty, minus hydrogen sold, the capacity
    charge on the peak, minus the value of the stored energy gained. Charging
    and discharging at once only loses energy, so it is left free.
    """
    import linopy

    n, dt = inp.n_steps, float(inp.dt_h)
    t = pd.RangeIndex(n, name="t")
    arr = lambda v: xr.DataArray(np.broadcast_to(np.asarray(v, float), (n,)).copy(),  # noqa: E731
                                 coords=[t])
    res, load = arr(inp.res_mw), arr(inp.load_mw)
    l_imp, l_exp = float(inp.import_limit_mw), float(inp.export_limit_mw)
    p_bat, e_bat = float(inp.bat_p_mw[0]), float(inp.bat_e_mwh[0])
    eta_c, eta_d = float(inp.bat_eta_charge[0]), float(inp.bat_eta_discharge[0])
    p_el = float(inp.el_p_mw[0])
    kg_per_mwh = 1000.0 / float(inp.el_kwh_per_kg[0])
    e0 = e_bat * float(inp.bat_soc_initial_pu[0])

    m = linopy.Model()
    imp = m.add_variables(lower=0, upper=l_imp, coords=[t], name="imp")
    exp = m.add_variables(lower=0, upper=l_exp, coords=[t], name="exp")
    g = m.add_variables(binary=True, coords=[t], name="importing")
    curt = m.add_variables(lower=0, upper=res, name="curt")
    uns = m.add_variables(lower=0, upper=load, name="uns")
    ch = m.add_variables(lower=0, upper=p_bat, coords=[t], name="ch")
    dis = m.add_variables(lower=0, upper=p_bat, coords=[t], name="dis")
    e = m.add_variables(lower=e_bat * float(inp.bat_soc_min_pu[0]),
                        upper=e_bat * float(inp.bat_soc_max_pu[0]), coords=[t], name="e")
    el = m.add_variables(lower=0, upper=p_el, coords=[t], name="el")
    on = m.add_variables(binary=True, coords=[t], name="on")
    peak = m.add_variables(lower=0, name="peak")

    m.add_constraints(imp - l_imp * g <= 0, name="import direction")
    m.add_constraints(exp + l_exp * g <= l_exp, name="export direction")
    m.add_constraints(imp - curt + dis + uns - ch - el - exp == load - res, name="balance")
    m.add_constraints(e.isel(t=0) - (eta_c * ch.isel(t=0) - dis.isel(t=0) / eta_d) * dt == e0,
                      name="energy 0")
    m.add_constraints(e.isel(t=slice(1, None))
                      - e.shift(t=1).isel(t=slice(1, None))
                      - (eta_c * ch.isel(t=slice(1, None))
                         - dis.isel(t=slice(1, None)) / eta_d) * dt == 0, name="energy")
    m.add_constraints(el - p_el * on <= 0, name="electrolyser off")
    m.add_constraints(el - float(inp.el_min_load_pu[0]) * p_el * on >= 0, name="minimum load")
    m.add_constraints(imp - peak <= 0, name="peak")

    price_imp = arr(prices.import_cny_per_mwh)
    price_exp = arr(prices.export_cny_per_mwh)
    bat_value = float(np.asarray(prices.battery_value_cny_per_mwh))
    m.add_objective((price_imp * dt * imp).sum() - (price_exp * dt * exp).sum()
                    + (prices.unserved_cny_per_mwh * dt * uns).sum()
                    - (prices.hydrogen_cny_per_kg * kg_per_mwh * dt * el).sum()
                    + prices.capacity_charge_cny_per_mw_month * peak
                    - bat_value * e.isel(t=n - 1))
    status, _ = m.solve(solver_name="highs", mip_rel_gap=0.0, output_flag=False)
    assert status == "ok"
    return float(m.objective.value) + bat_value * e0


@pytest.mark.parametrize("seed", [0, 1])
def test_optimum_equals_an_independent_linopy_model(seed):
    """One 48 h window, gap 0: parkgrid's optimum equals the linopy model's to 1e-6
    relative, and the schedule never imports and exports in one step. (Independent
    import and export variables undercut both by selling in the valley.)"""
    inp, prices = _park(seed)
    rp = prices.resolve(inp)
    assert np.any(rp.export_revenue > rp.import_cost)  # the case this is about
    sol = solve_optimal(inp, prices, EXACT)
    assert both_ways(sol.dispatch).size == 0
    ref = _linopy_optimum(inp, prices)
    assert sol.objective.total == pytest.approx(ref, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_rolling_optimum_never_both_ways_and_never_worse_than_any_rule(seed):
    """Rolling 12 h windows, 6 h kept, over 48 h: no step both ways; the optimum at
    gap 0 costs no more than any rule strategy under the one ``evaluate_objective``."""
    inp, prices = _park(seed)
    sol = solve_optimal(inp, prices, OptimalOptions(window_h=12.0, commit_h=6.0,
                                                    mip_rel_gap=0.0, node_limit=100_000))
    assert both_ways(sol.dispatch).size == 0
    exact = solve_optimal(inp, prices, EXACT).objective.total
    for strategy in STRATEGIES:
        if strategy == "coal_peaking":
            continue  # no coal unit here: the same as self_consumption
        r = run_dispatch(inp, strategy)
        assert both_ways(r).size == 0, strategy
        rule = evaluate_objective(inp, prices, r).total
        assert exact <= rule + 1e-6 * max(1.0, abs(rule)), strategy
