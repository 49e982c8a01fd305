"""The captive coal unit in the optimal dispatch: hand case, brute force, invariants, rules."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from parkgrid.dispatch import DispatchInputs, DispatchResult, run_dispatch
from parkgrid.optimal import (
    OptimalOptions,
    OptimalUnsupportedError,
    Prices,
    evaluate_objective,
    solve_optimal,
)

EXACT = OptimalOptions(window_h=1e6, commit_h=1e6, mip_rel_gap=0.0, node_limit=100_000)
TOL = 1e-9  # balances and bookkeeping
BOUND_TOL = 1e-6  # bounds and ramps: HiGHS's feasibility tolerance, scaled


def _hand_case(start_cost: float) -> tuple[DispatchInputs, Prices]:
    """Load 5 MW for 5 h, no RES, no export; TOU 50/300/300/50/300 CNY/MWh, no import CO2.

    One coal unit: p_min 4, p_max 10, ramps 0.5 MW per step both ways, 1 tCO2/MWh
    at 100 CNY/t (so 100 CNY/MWh), start cost *start_cost*. A start may reach
    p_min + ramp = 4.5 MW in its first step.
    """
    inp = DispatchInputs(res_mw=np.zeros(5), load_mw=np.full(5, 5.0), import_limit_mw=10.0,
                         export_limit_mw=0.0, dt_h=1.0, coal_p_min_mw=[4.0],
                         coal_p_max_mw=[10.0], coal_ramp_up_mw=[0.5], coal_ramp_down_mw=[0.5])
    prices = Prices(import_cny_per_mwh=np.array([50.0, 300.0, 300.0, 50.0, 300.0]),
                    carbon_cny_per_t=100.0, ef_kg_per_kwh=0.0, coal_co2_t_per_mwh=1.0,
                    coal_start_cny=start_cost)
    return inp, prices


def test_hand_case_one_start_rides_through_the_valley():
    """Start cost 300: run hours 1-4 on one start.

    h0 import 5 @ 50 = 250; h1 start, coal 4.5 (450) + import 0.5 @ 300 (150);
    h2 coal 5 (500); h3 coal >= 5 - 0.5 = 4.5 (450) + import 0.5 @ 50 (25);
    h4 coal 5 (500); one start 300: 2625. Two starts (off in h3) cost 2800,
    no coal 5000. This start, with ramp down 0.5 < p_max, also shows the
    shutdown term does not force a start to p_max - ramp down.
    """
    inp, prices = _hand_case(300.0)
    sol = solve_optimal(inp, prices, EXACT)
    d = sol.dispatch
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)  # noqa: E731
    close(d.coal_p_mw[:, 0], [0.0, 4.5, 5.0, 4.5, 5.0])
    close(d.coal_starts[:, 0], [0, 1, 0, 0, 0])
    close(d.grid_import_mw, [5.0, 0.5, 0.0, 0.5, 0.0])
    assert sol.objective.total == pytest.approx(2625.0, abs=1e-6)
    assert sol.objective.coal_start_cny == pytest.approx(300.0, abs=1e-9)
    assert sol.objective.coal_carbon_cny == pytest.approx(1900.0, abs=1e-6)
    assert list(d.coal_mode[:, 0]) == [0, 2, 2, 2, 2]


def test_hand_case_cheap_starts_switch_off_in_the_valley():
    """Start cost 50: 250 + 600 + 500 + 250 (import) + 600 (restart at 4.5) + 2 x 50 = 2300."""
    inp, prices = _hand_case(50.0)
    sol = solve_optimal(inp, prices, EXACT)
    d = sol.dispatch
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)  # noqa: E731
    close(d.coal_p_mw[:, 0], [0.0, 4.5, 5.0, 0.0, 4.5])
    close(d.coal_starts[:, 0], [0, 1, 0, 0, 1])
    assert sol.objective.total == pytest.approx(2300.0, abs=1e-6)


def test_rule_on_the_hand_case_is_scored_with_coal_terms():
    """coal_peaking starts in h0 (flagged there), runs 4.5, 5, 5, 5 in h1-h4.

    250 + (450 + 150) + 500 + 500 + 500 + 300 = 2650 >= 2625.
    """
    inp, prices = _hand_case(300.0)
    rule = run_dispatch(inp, "coal_peaking")
    np.testing.assert_allclose(rule.coal_p_mw[:, 0], [0.0, 4.5, 5.0, 5.0, 5.0], atol=1e-12)
    obj = evaluate_objective(inp, prices, rule)
    assert obj.total == pytest.approx(2650.0, abs=1e-9)
    assert obj.coal_start_cny == pytest.approx(300.0, abs=1e-12)


def _brute_force(inp: DispatchInputs, prices: Prices) -> float:
    """Best objective over all on/off patterns of one coal unit, each an LP written here.

    Variables per step: coal p, import, export, curtailment, unserved, dump (<= p).
    """
    n, dt = inp.n_steps, inp.dt_h
    res, load = np.asarray(inp.res_mw, float), np.asarray(inp.load_mw, float)
    p_min, p_max = float(inp.coal_p_min_mw[0]), float(inp.coal_p_max_mw[0])
    r_up, r_dn = float(inp.coal_ramp_up_mw[0]), float(inp.coal_ramp_down_mw[0])
    imp_p = np.asarray(prices.import_cny_per_mwh, float)
    exp_p = np.asarray(prices.export_cny_per_mwh, float)
    coal_c = prices.carbon_cny_per_t * float(prices.coal_co2_t_per_mwh)
    best = np.inf
    for pattern in itertools.product((0, 1), repeat=n):
        u = np.array(pattern, float)
        u_prev = np.concatenate([[0.0], u[:-1]])
        s = u * (1.0 - u_prev)
        nv = 6 * n  # [p, imp, exp, curt, uns, dump] blocks
        P, IMP, EXP, CURT, UNS, DUMP = (np.arange(n) + k * n for k in range(6))
        c = np.zeros(nv)
        c[P], c[IMP], c[EXP] = coal_c * dt, imp_p * dt, -exp_p * dt
        c[UNS] = prices.unserved_cny_per_mwh * dt
        bounds = ([(p_min * ui, p_max * ui) for ui in u]
                  + [(0, inp.import_limit_mw)] * n + [(0, inp.export_limit_mw)] * n
                  + [(0, r) for r in res] + [(0, ld) for ld in load] + [(0, None)] * n)
        a_eq = np.zeros((n, nv))
        for t in range(n):
            a_eq[t, [P[t], IMP[t], UNS[t]]] = 1.0
            a_eq[t, [EXP[t], CURT[t], DUMP[t]]] = -1.0
        rows, rhs = [], []
        for t in range(n):
            up = np.zeros(nv)
            up[P[t]] = 1.0
            dn = np.zeros(nv)
            dn[P[t]] = -1.0
            if t:
                up[P[t - 1]] = -1.0
                dn[P[t - 1]] = 1.0
            rows += [up, dn]
            rhs += [r_up + p_min * s[t], r_dn + p_max * (1.0 - u[t])]
            dump = np.zeros(nv)
            dump[DUMP[t]], dump[P[t]] = 1.0, -1.0
            rows.append(dump)
            rhs.append(0.0)
        lp = linprog(c, A_ub=np.array(rows), b_ub=rhs, A_eq=a_eq, b_eq=load - res,
                     bounds=bounds, method="highs")
        if lp.status == 0:
            best = min(best, float(lp.fun) + float(prices.coal_start_cny) * s.sum())
    return best


@pytest.mark.parametrize("seed", range(6))
def test_brute_force_over_on_off_patterns(seed):
    """Six random 6-step parks, one coal unit: MILP == min over the 64 patterns, to 1e-6."""
    rng = np.random.default_rng(seed)
    n = 6
    p_max = rng.uniform(3.0, 10.0)
    inp = DispatchInputs(
        res_mw=rng.uniform(0.0, 6.0, n), load_mw=rng.uniform(2.0, 10.0, n),
        import_limit_mw=float(rng.uniform(3.0, 12.0)), export_limit_mw=float(rng.uniform(0, 3)),
        dt_h=float(rng.choice([0.5, 1.0])), coal_p_min_mw=[rng.uniform(0.2, 0.7) * p_max],
        coal_p_max_mw=[p_max], coal_ramp_up_mw=[rng.uniform(0.3, 4.0)],
        coal_ramp_down_mw=[rng.uniform(0.3, 4.0)])
    prices = Prices(import_cny_per_mwh=rng.uniform(50.0, 900.0, n),
                    export_cny_per_mwh=rng.uniform(0.0, 300.0, n), carbon_cny_per_t=100.0,
                    coal_co2_t_per_mwh=float(rng.uniform(0.5, 1.2)),
                    coal_start_cny=float(rng.uniform(0.0, 800.0)),
                    unserved_cny_per_mwh=5000.0)
    sol = solve_optimal(inp, prices, EXACT)
    assert sol.objective.total == pytest.approx(_brute_force(inp, prices), abs=1e-6)
    # the re-scored schedule gives the same figure
    assert evaluate_objective(inp, prices, sol.dispatch).total == sol.objective.total


def check_coal_schedule(inp: DispatchInputs, r: DispatchResult) -> None:
    """Balance (with coal and dump), output limits, ramps, starts consistent with on/off."""
    p = r.coal_p_mw
    lhs = (np.asarray(inp.res_mw, float) - r.curtailed_mw + r.grid_import_mw
           + r.bat_discharge_mw.sum(axis=1) + p.sum(axis=1))
    rhs = (np.asarray(inp.load_mw, float) - r.unserved_mw + r.bat_charge_mw.sum(axis=1)
           + r.el_p_mw.sum(axis=1) + r.grid_export_mw + r.dumped_mw)
    np.testing.assert_allclose(lhs, rhs, rtol=0, atol=TOL)
    assert np.all(r.dumped_mw >= -TOL) and np.all(r.dumped_mw <= p.sum(axis=1) + TOL)
    p_min = np.asarray(inp.coal_p_min_mw, float)
    p_max = np.asarray(inp.coal_p_max_mw, float)
    on = r.coal_mode == 2
    assert np.all((r.coal_mode == 0) | on)
    assert np.all(np.where(on, p >= p_min - BOUND_TOL, p == 0.0))
    assert np.all(p <= p_max + BOUND_TOL)
    prev_on = np.vstack([np.zeros((1, p.shape[1]), bool), on[:-1]])
    prev_p = np.vstack([np.zeros((1, p.shape[1])), p[:-1]])
    np.testing.assert_array_equal(r.coal_starts, (on & ~prev_on).astype(float))
    up = np.asarray(inp.coal_ramp_up_mw, float) + np.where(on & ~prev_on, p_min, 0.0)
    assert np.all(p - prev_p <= up + BOUND_TOL)
    down = np.where(on, np.asarray(inp.coal_ramp_down_mw, float), np.inf)
    assert np.all(prev_p - p <= down + BOUND_TOL)


def _rolling_case() -> tuple[DispatchInputs, Prices]:
    rng = np.random.default_rng(7)
    n = 24
    inp = DispatchInputs(
        res_mw=rng.uniform(0.0, 12.0, n), load_mw=rng.uniform(4.0, 14.0, n),
        import_limit_mw=8.0, export_limit_mw=2.0, dt_h=1.0,
        bat_p_mw=[2.0], bat_e_mwh=[4.0], bat_eta_charge=[0.95], bat_eta_discharge=[0.95],
        bat_soc_min_pu=[0.1], bat_soc_max_pu=[0.9], bat_soc_initial_pu=[0.5],
        el_p_mw=[3.0], el_kwh_per_kg=[55.0], el_min_load_pu=[0.3],
        coal_p_min_mw=[2.0, 3.0], coal_p_max_mw=[5.0, 8.0], coal_ramp_up_mw=[1.0, 2.0],
        coal_ramp_down_mw=[1.5, 1.0])
    price = np.where(np.arange(n) % 24 < 8, 150.0, 700.0)
    prices = Prices(import_cny_per_mwh=price, export_cny_per_mwh=100.0, carbon_cny_per_t=80.0,
                    ef_kg_per_kwh=0.58, hydrogen_cny_per_kg=20.0,
                    coal_co2_t_per_mwh=[0.83, 0.9], coal_start_cny=[400.0, 900.0])
    return inp, prices


@pytest.mark.parametrize("window_h, commit_h", [(1e6, 1e6), (8.0, 5.0), (6.0, 1.0)])
def test_invariants_of_the_optimal_schedule(window_h, commit_h):
    """Two units with a battery and an electrolyser, one window or rolling windows.

    State (on/off, output) carries across windows: ramps and starts hold at
    every window boundary, and the full-horizon single window is never worse.
    """
    inp, prices = _rolling_case()
    sol = solve_optimal(inp, prices, OptimalOptions(window_h=window_h, commit_h=commit_h,
                                                    mip_rel_gap=0.0, node_limit=100_000))
    check_coal_schedule(inp, sol.dispatch)
    assert sol.dispatch.coal_p_mw.sum() > 0  # the case does use coal
    full = solve_optimal(inp, prices, EXACT).objective.total
    assert full <= sol.objective.total + 1e-6 * max(1.0, abs(full))


@st.composite
def coal_parks(draw) -> tuple[DispatchInputs, Prices]:
    n = draw(st.integers(1, 10))
    nb = draw(st.integers(0, 1))
    nc = draw(st.integers(1, 2))
    arr = lambda k, lo, hi: np.array(draw(st.lists(st.floats(lo, hi), min_size=k,  # noqa: E731
                                                   max_size=k)))
    p_max = arr(nc, 1.0, 10.0)
    inp = DispatchInputs(
        res_mw=arr(n, 0.0, 15.0), load_mw=arr(n, 0.0, 15.0),
        import_limit_mw=arr(n, 0.0, 10.0), export_limit_mw=arr(n, 0.0, 5.0),
        bat_p_mw=arr(nb, 0.0, 5.0), bat_e_mwh=arr(nb, 0.5, 10.0),
        bat_eta_charge=arr(nb, 0.7, 1.0), bat_eta_discharge=arr(nb, 0.7, 1.0),
        bat_soc_min_pu=arr(nb, 0.0, 0.2), bat_soc_max_pu=arr(nb, 0.8, 1.0),
        bat_soc_initial_pu=arr(nb, 0.2, 0.8),
        coal_p_min_mw=p_max * arr(nc, 0.0, 0.8), coal_p_max_mw=p_max,
        coal_ramp_up_mw=arr(nc, 0.1, 10.0), coal_ramp_down_mw=arr(nc, 0.1, 10.0),
        dt_h=draw(st.sampled_from([0.25, 1.0])),
    )
    vec = lambda lo, hi: arr(n, lo, hi)  # noqa: E731
    prices = Prices(
        import_cny_per_mwh=vec(0.0, 1000.0), export_cny_per_mwh=vec(0.0, 300.0),
        capacity_charge_cny_per_mw_month=draw(st.floats(0.0, 500.0)),
        carbon_cny_per_t=draw(st.floats(0.0, 200.0)), ef_kg_per_kwh=0.58,
        coal_co2_t_per_mwh=arr(nc, 0.5, 1.2), coal_start_cny=arr(nc, 0.0, 2000.0),
        unserved_cny_per_mwh=draw(st.floats(1000.0, 20000.0)),
    )
    return inp, prices


@settings(max_examples=25, deadline=None)
@given(coal_parks())
def test_optimum_never_worse_than_coal_peaking(case):
    """One window, gap 0: optimum <= the coal_peaking rule on the same objective."""
    inp, prices = case
    sol = solve_optimal(inp, prices, EXACT)
    check_coal_schedule(inp, sol.dispatch)
    rule = evaluate_objective(inp, prices, run_dispatch(inp, "coal_peaking")).total
    assert sol.objective.total <= rule + 1e-6 * max(1.0, abs(rule))


@pytest.mark.parametrize("field, what", [
    ("coal_start_steps", "coal unit start-up time"),
    ("coal_min_up_steps", "coal unit minimum up time"),
    ("coal_min_down_steps", "coal unit minimum down time"),
])
def test_unmodelled_coal_features_are_refused_by_name(field, what):
    inp, prices = _hand_case(0.0)
    bad = DispatchInputs(**{**inp.__dict__, field: [2]})
    with pytest.raises(OptimalUnsupportedError, match=what):
        solve_optimal(bad, prices, EXACT)


def test_coal_outages_are_refused_by_name():
    inp, prices = _hand_case(0.0)
    bad = DispatchInputs(**{**inp.__dict__, "coal_av": np.array([1.0, 0.0, 1.0, 1.0, 1.0])})
    with pytest.raises(OptimalUnsupportedError, match="coal unit availability"):
        solve_optimal(bad, prices, EXACT)


def test_scenarios_with_coal_are_accepted_unless_they_use_what_is_not_modelled():
    from types import SimpleNamespace

    from parkgrid.optimal.scenario import unsupported_features

    unit = dict(start_up_h=0.0, min_up_h=0.0, min_down_h=0.0)
    ok = SimpleNamespace(coal=[SimpleNamespace(**unit)])
    assert unsupported_features(ok) == []
    bad = SimpleNamespace(coal=[SimpleNamespace(**unit),
                                SimpleNamespace(**{**unit, "min_up_h": 8.0, "start_up_h": 4.0})])
    assert unsupported_features(bad) == ["coal[1].start_up_h", "coal[1].min_up_h"]
