"""Optimal dispatch on cases whose optimum is known by hand or by brute force (1e-6)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from parkgrid.dispatch import DispatchInputs, run_dispatch
from parkgrid.optimal import (
    OptimalInfeasibleError,
    OptimalOptions,
    Prices,
    evaluate_objective,
    solve_optimal,
)
from parkgrid.optimal._inputs import park_arrays
from parkgrid.optimal.model import WindowState, build_window

EXACT = OptimalOptions(window_h=1e6, commit_h=1e6, mip_rel_gap=0.0)


def _battery(**kw) -> dict:
    base = dict(bat_p_mw=[1.0], bat_e_mwh=[1.0], bat_eta_charge=[0.9], bat_eta_discharge=[0.9],
                bat_soc_min_pu=[0.0], bat_soc_max_pu=[1.0], bat_soc_initial_pu=[0.0])
    base.update(kw)
    return base


def test_four_step_tou_arbitrage_with_one_battery():
    """1 MW / 1 MWh battery, eta 0.9 both ways, empty; load 1 MW; prices 100/200/500/400.

    Stored energy is worth 0 at the end. Charging 1 MW in hour 0 stores 0.9 MWh;
    the last 0.1 MWh costs 0.1/0.9 MWh at 200 and returns 0.09 MWh at 500, so it
    is bought too: charge [1, 1/9, 0, 0]. The full 1 MWh gives 0.9 MWh AC, all in
    hour 2 (500 > 400, within 1 MW). Imports [2, 10/9, 0.1, 1]; cost
    200 + 2000/9 + 50 + 400 = 872.2222...; the rule (no surplus) pays 1200.
    """
    inp = DispatchInputs(res_mw=np.zeros(4), load_mw=np.ones(4), import_limit_mw=10.0,
                         export_limit_mw=0.0, dt_h=1.0, **_battery())
    prices = Prices(import_cny_per_mwh=np.array([100.0, 200.0, 500.0, 400.0]),
                    battery_value_cny_per_mwh=0.0)
    sol = solve_optimal(inp, prices, EXACT)
    d = sol.dispatch
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)  # noqa: E731
    close(d.bat_charge_mw[:, 0], [1.0, 1 / 9, 0.0, 0.0])
    close(d.bat_discharge_mw[:, 0], [0.0, 0.0, 0.9, 0.0])
    close(d.bat_e_mwh[:, 0], [0.9, 1.0, 0.0, 0.0])
    close(d.grid_import_mw, [2.0, 10 / 9, 0.1, 1.0])
    assert sol.objective.total == pytest.approx(200 + 2000 / 9 + 50 + 400, abs=1e-6)
    rule = evaluate_objective(inp, prices, run_dispatch(inp))
    assert rule.total == pytest.approx(1200.0, abs=1e-9)


def _electrolyser_case(step1_price: float) -> tuple[DispatchInputs, Prices]:
    """10 MW electrolyser, 50 kWh/kg (200 kg per full hour), minimum load 50 % (5 MW).

    300 kg are due in the last hour; no export, hydrogen and tank worth nothing.
    Hour 2 has 12 MW of wind: 10 MW make 200 kg for free, 2 MW are curtailed.
    The other 100 kg (5 MWh) come either from the valley (hour 0, 200 CNY/MWh:
    1000 CNY) or in hour 1 from 4 MW of wind that is otherwise curtailed plus
    1 MW imported at *step1_price* (the unit cannot run below 5 MW).
    """
    inp = DispatchInputs(
        res_mw=np.array([0.0, 4.0, 12.0, 0.0]), load_mw=np.zeros(4), import_limit_mw=20.0,
        export_limit_mw=0.0, el_p_mw=[10.0], el_kwh_per_kg=[50.0], el_min_load_pu=[0.5],
        tank_capacity_kg=1000.0, tank_initial_kg=0.0,
        h2_demand_kg=np.array([0.0, 0.0, 0.0, 300.0]), dt_h=1.0,
    )
    prices = Prices(import_cny_per_mwh=np.array([200.0, step1_price, 400.0, 600.0]),
                    hydrogen_cny_per_kg=0.0, tank_value_cny_per_kg=0.0)
    return inp, prices


def test_electrolyser_takes_curtailed_wind_topped_up_at_flat_price():
    """Hour 1 at 400 CNY/MWh: 1 MWh x 400 = 400 < 1000 for the valley."""
    inp, prices = _electrolyser_case(400.0)
    sol = solve_optimal(inp, prices, EXACT)
    d = sol.dispatch
    np.testing.assert_allclose(d.el_p_mw[:, 0], [0.0, 5.0, 10.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(d.grid_import_mw, [0.0, 1.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(d.curtailed_mw, [0.0, 0.0, 2.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(d.h2_delivered_kg, [0, 0, 0, 300.0], atol=1e-6)
    assert sol.objective.total == pytest.approx(400.0, abs=1e-6)


def test_electrolyser_takes_the_valley_when_topping_up_costs_more():
    """Hour 1 at 1200 CNY/MWh: the valley's 1000 CNY is cheaper."""
    inp, prices = _electrolyser_case(1200.0)
    sol = solve_optimal(inp, prices, EXACT)
    d = sol.dispatch
    np.testing.assert_allclose(d.el_p_mw[:, 0], [5.0, 0.0, 10.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(d.grid_import_mw, [5.0, 0.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(d.curtailed_mw, [0.0, 4.0, 2.0, 0.0], atol=1e-6)
    assert sol.objective.total == pytest.approx(1000.0, abs=1e-6)
    # the rule runs on surplus only: 200 kg in hour 2, 100 kg short
    rule = evaluate_objective(inp, prices, run_dispatch(inp))
    assert rule.total == pytest.approx(100 * 200.0, abs=1e-6)


def test_capacity_charge_on_the_running_monthly_peak_across_windows():
    """Load [3, 1] MW, battery 1 MW / 1 MWh full, lossless, energy free, 100 CNY/MW-month.

    Discharging 1 MW in step 0 leaves imports [2, 1]: peak 2, charge 200. With
    one-step windows the second window sees the running peak 2 and adds nothing.
    """
    inp = DispatchInputs(res_mw=np.zeros(2), load_mw=np.array([3.0, 1.0]), import_limit_mw=10.0,
                         export_limit_mw=0.0, dt_h=1.0,
                         **_battery(bat_eta_charge=[1.0], bat_eta_discharge=[1.0],
                                    bat_soc_initial_pu=[1.0]))
    prices = Prices(capacity_charge_cny_per_mw_month=100.0, battery_value_cny_per_mwh=0.0,
                    period=np.array([1, 1]))
    for opt in (EXACT, OptimalOptions(window_h=1.0, commit_h=1.0, mip_rel_gap=0.0)):
        sol = solve_optimal(inp, prices, opt)
        assert sol.dispatch.grid_import_mw.max() == pytest.approx(2.0, abs=1e-6)
        assert sol.objective.capacity_cny == pytest.approx(200.0, abs=1e-6)
        assert sol.objective.total == pytest.approx(200.0, abs=1e-6)


def _random_el_case(rng: np.random.Generator, n: int) -> tuple[DispatchInputs, Prices]:
    inp = DispatchInputs(
        res_mw=rng.uniform(0, 8, n), load_mw=rng.uniform(0, 4, n),
        import_limit_mw=rng.uniform(1, 6, n), export_limit_mw=rng.uniform(0, 2, n),
        el_p_mw=[5.0], el_kwh_per_kg=[50.0], el_min_load_pu=[rng.uniform(0.2, 0.8)],
        tank_capacity_kg=rng.uniform(10, 100), tank_initial_kg=5.0,
        h2_demand_kg=rng.uniform(0, 30, n), dt_h=1.0,
        **_battery(bat_p_mw=[2.0], bat_e_mwh=[4.0], bat_soc_initial_pu=[0.5]),
    )
    prices = Prices(import_cny_per_mwh=rng.uniform(100, 800, n),
                    export_cny_per_mwh=rng.uniform(0, 300, n),
                    capacity_charge_cny_per_mw_month=rng.uniform(0, 500),
                    hydrogen_cny_per_kg=rng.uniform(0, 40), carbon_cny_per_t=50.0,
                    ef_kg_per_kwh=0.6849)
    return inp, prices


@pytest.mark.parametrize("seed", range(6))
def test_milp_matches_brute_force_over_electrolyser_on_off(seed):
    """Every on/off pattern of one electrolyser over 6 steps as an LP; the MILP finds the best."""
    rng = np.random.default_rng(seed)
    n = 6
    inp, prices = _random_el_case(rng, n)
    sol = solve_optimal(inp, prices, OptimalOptions(mip_rel_gap=0.0, strict_h2_demand=False))
    park = park_arrays(inp)
    rp = prices.resolve(inp)
    model = build_window(park, rp, 0, n, WindowState(park.bat_e0, park.tank0_kg, {}),
                         battery_binaries=True)
    on = model.blocks["on"].ravel()
    best = np.inf
    for pattern in itertools.product((0.0, 1.0), repeat=n):
        lb, ub = model.lb.copy(), model.ub.copy()
        lb[on] = ub[on] = pattern
        integ = model.integrality.copy()
        integ[on] = 0
        r = milp(model.c, integrality=integ, bounds=Bounds(lb, ub),
                 constraints=LinearConstraint(model.A, model.row_lo, model.row_hi))
        if r.status == 0:
            best = min(best, r.fun + model.offset)
    assert sol.objective.total == pytest.approx(best, rel=1e-9, abs=1e-6)


def test_infeasible_hydrogen_demand_names_constraint_and_window():
    """1 MW at 50 kWh/kg makes 20 kg an hour; 1000 kg due in hour 3 cannot be met."""
    inp = DispatchInputs(
        res_mw=np.full(4, 5.0), load_mw=np.zeros(4), import_limit_mw=10.0, export_limit_mw=0.0,
        el_p_mw=[1.0], el_kwh_per_kg=[50.0], el_min_load_pu=[0.0], tank_capacity_kg=2000.0,
        h2_demand_kg=np.array([0.0, 0.0, 0.0, 1000.0]), dt_h=1.0,
    )
    opt = OptimalOptions(window_h=2.0, commit_h=1.0)
    with pytest.raises(OptimalInfeasibleError) as exc:
        solve_optimal(inp, Prices(), opt)
    err = exc.value
    assert (err.constraint, err.window, err.step) == ("hydrogen tank balance", 2, 3)
    msg = str(err)
    assert "window 2 (steps 2-3)" in msg and "hydrogen tank balance" in msg
    assert "1,000.0 kg" in msg and "HiGHS" not in msg
    # accepted as a penalised shortfall when asked
    soft = solve_optimal(inp, Prices(shortfall_cny_per_kg=10.0),
                         OptimalOptions(window_h=2.0, commit_h=1.0, strict_h2_demand=False))
    assert soft.dispatch.h2_shortfall_kg.sum() == pytest.approx(1000.0 - 40.0, abs=1e-6)


def test_commit_longer_than_window_is_rejected():
    inp = DispatchInputs(res_mw=np.zeros(2), load_mw=np.zeros(2), import_limit_mw=0.0,
                         export_limit_mw=0.0)
    with pytest.raises(ValueError, match="commit_h"):
        solve_optimal(inp, Prices(), OptimalOptions(window_h=1.0, commit_h=2.0))
