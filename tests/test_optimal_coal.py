"""The captive coal unit in the optimal dispatch: hand case, brute force, invariants, rules."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

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


def _hand_case(start_cost: float, tou: tuple[float, ...] = (50.0, 300.0, 300.0, 50.0, 300.0),
               **coal: object) -> tuple[DispatchInputs, Prices]:
    """Load 5 MW for 5 h, no RES, no export; TOU 50/300/300/50/300 CNY/MWh, no import CO2.

    One coal unit: p_min 4, p_max 10, ramps 0.5 MW per step both ways, 1 tCO2/MWh
    at 100 CNY/t (so 100 CNY/MWh), start cost *start_cost*. A start may reach
    p_min + ramp = 4.5 MW in its first step. *tou* (one price per hour, the
    length of the case) and *coal* (more DispatchInputs fields) vary it.
    """
    n = len(tou)
    inp = DispatchInputs(res_mw=np.zeros(n), load_mw=np.full(n, 5.0), import_limit_mw=10.0,
                         export_limit_mw=0.0, dt_h=1.0, coal_p_min_mw=[4.0],
                         coal_p_max_mw=[10.0], coal_ramp_up_mw=[0.5], coal_ramp_down_mw=[0.5],
                         **coal)  # type: ignore[arg-type]
    prices = Prices(import_cny_per_mwh=np.array(tou, float),
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


def test_hand_case_fuel_cost_keeps_the_unit_to_the_peak_hours():
    """Fuel 150 CNY/MWh (+ 100 CO2 = 250 CNY/MWh, start 300): coal beats only the 300
    peak imports. Run h1-h2 on one start: 250 + (4.5 x 250 + 0.5 x 300) + 5 x 250 + 250
    + 1500 + 300 = 4825 against 5000 with no coal; staying on through h3 (4.5 MW
    at 250 instead of 50) or restarting for h4 (saves 225 < 300) costs more."""
    inp, prices = _hand_case(300.0)
    prices = dataclasses.replace(prices, coal_fuel_cny_per_mwh=150.0)
    sol = solve_optimal(inp, prices, EXACT)
    d = sol.dispatch
    np.testing.assert_allclose(d.coal_p_mw[:, 0], [0.0, 4.5, 5.0, 0.0, 0.0], rtol=0, atol=1e-6)
    assert sol.objective.total == pytest.approx(4825.0, abs=1e-6)
    assert sol.objective.coal_fuel_cny == pytest.approx(9.5 * 150.0, abs=1e-6)
    assert sol.objective.coal_carbon_cny == pytest.approx(9.5 * 100.0, abs=1e-6)
    # the rule is priced with the same fuel term
    rule = run_dispatch(inp, "coal_peaking")
    obj = evaluate_objective(inp, prices, rule)
    assert obj.coal_fuel_cny == pytest.approx(150.0 * rule.coal_p_mw.sum() * inp.dt_h, abs=1e-9)
    assert sol.objective.total <= obj.total + 1e-6


def min_up_down_violations(on: np.ndarray, min_up: int, min_down: int) -> list[str]:
    """Breaches of the minimum up/down times by the on/off pattern *on* (T,), as the rules
    count them: a unit that starts at step t (first on step) stays on through t+U-1,
    one that shuts down at t (first off step) stays off through t+D (the rules decide
    a start in an off step once D whole off steps lie behind it; the unit runs from
    the next step). The unit starts off, long enough; periods may run past the end.
    """
    on = np.asarray(on, bool)
    bad = []
    for t in range(on.size):
        before = on[t - 1] if t else False
        if on[t] and not before and not on[t:t + min_up].all():
            bad.append(f"start at {t}: on {on[t:t + min_up].astype(int)}, min up {min_up}")
        if before and not on[t] and on[t:t + min_down + 1].any():
            bad.append(f"shutdown at {t}: on {on[t:t + min_down + 1].astype(int)}, "
                       f"min down {min_down}")
    return bad


def _steps(x: object, k: int) -> np.ndarray:
    return np.zeros(k, int) if x is None else np.broadcast_to(np.asarray(x, int), (k,))


@pytest.mark.parametrize("deficit, up, down, exact", [
    ((8.0, 8.0, 0.0, 0.0, 0.0), 3, 0, True), ((8.0, 8.0, 0.0, 0.0, 0.0), 4, 0, True),
    ((8.0, 0.0), 3, 0, True), ((8.0, 0.0), 0, 2, True), ((8.0, 8.0, 0.0, 0.0, 0.0), 0, 3, True),
    ((8.0, 0.0), 2, 1, False), ((8.0, 0.0), 3, 3, False), ((8.0, 8.0, 0.0, 0.0, 0.0), 3, 3, False),
])
def test_the_rules_count_minimum_up_and_down_times_as_the_optimum_does(deficit, up, down, exact):
    """coal_peaking on a periodic deficit: its on/off pattern respects the definition of
    :func:`min_up_down_violations` and, where the times bind alone (*exact*), has runs
    of exactly U on steps or D + 1 off steps: the definition is neither looser nor
    stricter than the rules.
    """
    n = 40
    load = np.tile(deficit, n // len(deficit))
    inp = DispatchInputs(res_mw=np.full(n, 1.0), load_mw=load, import_limit_mw=20.0,
                         export_limit_mw=20.0, dt_h=1.0, coal_p_min_mw=[1.0],
                         coal_p_max_mw=[10.0], coal_min_up_steps=[up],
                         coal_min_down_steps=[down])
    on = run_dispatch(inp, "coal_peaking").coal_mode[:, 0] == 2
    assert min_up_down_violations(on, up, down) == []
    edges = np.flatnonzero(np.diff(on.astype(int))) + 1
    runs, kinds = np.diff(edges), on[edges[:-1]]  # complete runs between two switches
    assert runs.size >= 4
    if exact and up:
        assert up in runs[kinds], (runs, kinds)
    if exact and down:
        assert down + 1 in runs[~kinds], (runs, kinds)


def test_hand_case_minimum_up_time_holds_the_unit_through_the_valley():
    """Start cost 50 (the cheap-starts case): off in h3 needs a 2-step first run.

    Minimum up 2 allows it (2300, as without); minimum up 3 holds the unit on
    through h3 (started in h1, on through h1 + 3 - 1): 250 + 600 + 500 + (450 + 25)
    + 500 + one start 50 = 2375.
    """
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)  # noqa: E731
    inp, prices = _hand_case(50.0, coal_min_up_steps=[2])
    sol = solve_optimal(inp, prices, EXACT)
    close(sol.dispatch.coal_p_mw[:, 0], [0.0, 4.5, 5.0, 0.0, 4.5])
    assert sol.objective.total == pytest.approx(2300.0, abs=1e-6)
    inp, prices = _hand_case(50.0, coal_min_up_steps=[3])
    sol = solve_optimal(inp, prices, EXACT)
    d = sol.dispatch
    close(d.coal_p_mw[:, 0], [0.0, 4.5, 5.0, 4.5, 5.0])
    close(d.coal_starts[:, 0], [0, 1, 0, 0, 0])
    close(d.grid_import_mw, [5.0, 0.5, 0.0, 0.5, 0.0])
    assert sol.objective.total == pytest.approx(2375.0, abs=1e-6)
    assert sol.objective.coal_start_cny == pytest.approx(50.0, abs=1e-9)
    check_coal_schedule(inp, d)


_TWO_STEP_VALLEY = (50.0, 300.0, 300.0, 50.0, 50.0, 300.0)


@pytest.mark.parametrize("min_down, coal_p, total", [
    # off h3-h4 (two off steps = D + 1), restart in h5:
    # 250 + 600 + 500 + 250 + 250 + 600 + 2 x 50
    (1, [0.0, 4.5, 5.0, 0.0, 0.0, 4.5], 2550.0),
    # the restart in h5 is forbidden; riding through: 250 + 600 + 500 + 475 + 475 + 500 + 50
    (2, [0.0, 4.5, 5.0, 4.5, 4.5, 5.0], 2850.0),
])
def test_hand_case_minimum_down_time_forbids_the_restart(min_down, coal_p, total):
    """Six steps, TOU 50/300/300/50/50/300, start cost 50: shut down for the valley h3-h4."""
    inp, prices = _hand_case(50.0, _TWO_STEP_VALLEY, coal_min_down_steps=[min_down])
    sol = solve_optimal(inp, prices, EXACT)
    np.testing.assert_allclose(sol.dispatch.coal_p_mw[:, 0], coal_p, rtol=0, atol=1e-6)
    assert sol.objective.total == pytest.approx(total, abs=1e-6)
    check_coal_schedule(inp, sol.dispatch)


@pytest.mark.parametrize("tou, coal, coal_p, total", [
    # window [3, 5) alone would switch off in h3 (900 < 975); min up 3 holds it on
    (None, {"coal_min_up_steps": [3]}, [0.0, 4.5, 5.0, 4.5, 5.0], 2375.0),
    # window [3, 5) switches off for h3 (it cannot see h5); the carried shutdown
    # then forbids the restart in h5: 250 + 600 + 500 + 250 + 250 + 1500 + 50
    (_TWO_STEP_VALLEY, {"coal_min_down_steps": [2]}, [0.0, 4.5, 5.0, 0.0, 0.0, 0.0], 3400.0),
])
def test_rolling_hand_case_carries_minimum_up_and_down_across_windows(tou, coal, coal_p, total):
    """Windows of 2 h committing 1 h: every boundary falls inside the periods."""
    inp, prices = _hand_case(50.0, tou or (50.0, 300.0, 300.0, 50.0, 300.0), **coal)
    sol = solve_optimal(inp, prices, OptimalOptions(window_h=2.0, commit_h=1.0,
                                                    mip_rel_gap=0.0, node_limit=100_000))
    np.testing.assert_allclose(sol.dispatch.coal_p_mw[:, 0], coal_p, rtol=0, atol=1e-6)
    assert sol.objective.total == pytest.approx(total, abs=1e-6)
    check_coal_schedule(inp, sol.dispatch)


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

    Variables per step: coal p, import, export, curtailment, unserved, dump (<= p),
    and a binary import/export direction (one connection point: import or export,
    never both; so each pattern is a small MILP). Patterns breaking the unit's
    minimum up/down times (:func:`min_up_down_violations`) are left out.
    """
    return _brute_force_both(inp, prices)[0]


def _brute_force_both(inp: DispatchInputs, prices: Prices) -> tuple[float, float]:
    """(:func:`_brute_force`, the same without the minimum up/down times): one pass
    over the patterns, each pattern's MILP solved once."""
    n, dt = inp.n_steps, inp.dt_h
    res, load = np.asarray(inp.res_mw, float), np.asarray(inp.load_mw, float)
    p_min, p_max = float(inp.coal_p_min_mw[0]), float(inp.coal_p_max_mw[0])
    r_up, r_dn = float(inp.coal_ramp_up_mw[0]), float(inp.coal_ramp_down_mw[0])
    imp_p = np.asarray(prices.import_cny_per_mwh, float)
    exp_p = np.asarray(prices.export_cny_per_mwh, float)
    coal_c = prices.carbon_cny_per_t * float(prices.coal_co2_t_per_mwh)
    min_up = int(_steps(inp.coal_min_up_steps, 1)[0])
    min_down = int(_steps(inp.coal_min_down_steps, 1)[0])
    nv = 7 * n  # [p, imp, exp, curt, uns, dump, importing] blocks
    P, IMP, EXP, CURT, UNS, DUMP, G = (np.arange(n) + k * n for k in range(7))
    c = np.zeros(nv)
    c[P], c[IMP], c[EXP] = coal_c * dt, imp_p * dt, -exp_p * dt
    c[UNS] = prices.unserved_cny_per_mwh * dt
    a_eq = np.zeros((n, nv))
    for t in range(n):
        a_eq[t, [P[t], IMP[t], UNS[t]]] = 1.0
        a_eq[t, [EXP[t], CURT[t], DUMP[t]]] = -1.0
    # per step: ramp up, ramp down, dump <= p, imp <= L g, exp <= L (1 - g); only the
    # ramp rows' right-hand sides and p's bounds depend on the pattern
    rows, fixed_rhs = [], []
    for t in range(n):
        up, dn = np.zeros(nv), np.zeros(nv)
        up[P[t]], dn[P[t]] = 1.0, -1.0
        if t:
            up[P[t - 1]], dn[P[t - 1]] = -1.0, 1.0
        dump = np.zeros(nv)
        dump[DUMP[t]], dump[P[t]] = 1.0, -1.0
        imp_dir, exp_dir = np.zeros(nv), np.zeros(nv)
        imp_dir[IMP[t]], imp_dir[G[t]] = 1.0, -inp.import_limit_mw
        exp_dir[EXP[t]], exp_dir[G[t]] = 1.0, inp.export_limit_mw
        rows += [up, dn, dump, imp_dir, exp_dir]
        fixed_rhs += [0.0, 0.0, 0.0, 0.0, inp.export_limit_mw]
    a_ub, rhs = np.array(rows), np.array(fixed_rhs)
    eq = LinearConstraint(a_eq, load - res, load - res)
    lo = np.concatenate([np.zeros(n), np.zeros(5 * n), np.zeros(n)])
    hi = np.concatenate([np.zeros(n), np.full(n, inp.import_limit_mw),
                         np.full(n, inp.export_limit_mw), res, load, np.full(n, np.inf),
                         np.ones(n)])
    # a direction binary only where export pays more than import costs: elsewhere a
    # step that buys and sells at once nets to a schedule no dearer (the balance sees
    # imp - exp, both limits loosen), so relaxing g there leaves the optimum unchanged
    integrality = np.zeros(nv, int)
    integrality[G[exp_p > imp_p]] = 1
    best = best_free = np.inf
    for pattern in itertools.product((0, 1), repeat=n):
        u = np.array(pattern, float)
        allowed = not min_up_down_violations(u, min_up, min_down)
        u_prev = np.concatenate([[0.0], u[:-1]])
        s = u * (1.0 - u_prev)
        lo[P], hi[P] = p_min * u, p_max * u
        rhs[0::5], rhs[1::5] = r_up + p_min * s, r_dn + p_max * (1.0 - u)
        lp = milp(c, integrality=integrality, bounds=Bounds(lo, hi),
                  constraints=[LinearConstraint(a_ub, -np.inf, rhs), eq])
        if lp.status == 0:
            cost = float(lp.fun) + float(prices.coal_start_cny) * s.sum()
            best_free = min(best_free, cost)
            if allowed:
                best = min(best, cost)
    return best, best_free


def _random_coal_inputs(rng: np.random.Generator, n: int, **coal: object) -> DispatchInputs:
    """A random n-step park with one coal unit (RES, load, grid limits, unit ranges)."""
    p_max = rng.uniform(3.0, 10.0)
    return DispatchInputs(
        res_mw=rng.uniform(0.0, 6.0, n), load_mw=rng.uniform(2.0, 10.0, n),
        import_limit_mw=float(rng.uniform(3.0, 12.0)), export_limit_mw=float(rng.uniform(0, 3)),
        dt_h=float(rng.choice([0.5, 1.0])), coal_p_min_mw=[rng.uniform(0.2, 0.7) * p_max],
        coal_p_max_mw=[p_max], coal_ramp_up_mw=[rng.uniform(0.3, 4.0)],
        coal_ramp_down_mw=[rng.uniform(0.3, 4.0)], **coal)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(6))
def test_brute_force_over_on_off_patterns(seed):
    """Six random 6-step parks, one coal unit: MILP == min over the 64 patterns, to 1e-6."""
    rng = np.random.default_rng(seed)
    n = 6
    inp = _random_coal_inputs(rng, n)
    prices = Prices(import_cny_per_mwh=rng.uniform(50.0, 900.0, n),
                    export_cny_per_mwh=rng.uniform(0.0, 300.0, n), carbon_cny_per_t=100.0,
                    coal_co2_t_per_mwh=float(rng.uniform(0.5, 1.2)),
                    coal_start_cny=float(rng.uniform(0.0, 800.0)),
                    unserved_cny_per_mwh=5000.0)
    sol = solve_optimal(inp, prices, EXACT)
    assert sol.objective.total == pytest.approx(_brute_force(inp, prices), abs=1e-6)
    # the re-scored schedule gives the same figure
    assert evaluate_objective(inp, prices, sol.dispatch).total == sol.objective.total


def _random_coal_case(rng: np.random.Generator, n: int,
                      **coal: object) -> tuple[DispatchInputs, Prices]:
    inp = _random_coal_inputs(rng, n, **coal)
    # import prices swinging between cheap and dear steps invite short runs
    swing = np.where(rng.random(n) < 0.5, rng.uniform(0.0, 80.0, n), rng.uniform(400, 900, n))
    prices = Prices(import_cny_per_mwh=swing,
                    export_cny_per_mwh=rng.uniform(0.0, 60.0, n), carbon_cny_per_t=100.0,
                    coal_co2_t_per_mwh=float(rng.uniform(0.5, 1.2)),
                    coal_start_cny=float(rng.uniform(0.0, 300.0)),
                    unserved_cny_per_mwh=5000.0)
    return inp, prices


@pytest.mark.parametrize("seed", range(8))
def test_brute_force_with_minimum_up_and_down_times(seed):
    """Random 8-step parks with minimum up 2-4 and down 1-3 steps that bind (the best
    pattern without them breaks them): MILP == min over the patterns respecting them.
    """
    rng = np.random.default_rng(1000 + seed)
    for _ in range(50):  # draw until the minimum times bind
        up, down = int(rng.integers(2, 5)), int(rng.integers(1, 4))
        inp, prices = _random_coal_case(rng, 8, coal_min_up_steps=[up],
                                        coal_min_down_steps=[down])
        best, best_free = _brute_force_both(inp, prices)
        if best > best_free + 1e-3:
            break
    else:  # pragma: no cover
        pytest.fail("no case where the minimum up/down times bind")
    sol = solve_optimal(inp, prices, EXACT)
    assert sol.objective.total == pytest.approx(best, abs=1e-6)
    check_coal_schedule(inp, sol.dispatch)
    assert evaluate_objective(inp, prices, sol.dispatch).total == sol.objective.total


def check_coal_schedule(inp: DispatchInputs, r: DispatchResult) -> None:
    """Balance (with coal and dump), output limits, ramps, starts consistent with on/off,
    minimum up/down times (:func:`min_up_down_violations`)."""
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
    nc = p.shape[1]
    for k, (up, dn) in enumerate(zip(_steps(inp.coal_min_up_steps, nc),
                                     _steps(inp.coal_min_down_steps, nc), strict=True)):
        assert min_up_down_violations(on[:, k], int(up), int(dn)) == [], k


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


def _boundaries_inside_periods(sol, inp: DispatchInputs) -> int:
    """Window boundaries (commit ends) inside a unit's minimum up or down period."""
    on = sol.dispatch.coal_mode == 2
    nc = on.shape[1]
    count = 0
    for w in sol.windows[:-1]:
        e = w.commit_end  # first step of the next window
        for k in range(nc):
            up = int(_steps(inp.coal_min_up_steps, nc)[k])
            down = int(_steps(inp.coal_min_down_steps, nc)[k])
            col = on[:, k]
            last = np.flatnonzero(col[:e] != col[e - 1])  # the run ending at e - 1 ...
            first = int(last[-1]) + 1 if last.size else 0  # ... began here
            if first == 0 and not col[e - 1]:
                continue  # off from the start: no shutdown
            count += int(e - first < (up if col[e - 1] else down + 1))
    return count


def _swing_case(seed: int) -> tuple[DispatchInputs, Prices]:
    """24 steps, two units with minimum up 3 / 4 and down 2 / 3 steps, a battery, and
    import prices jumping between 30 and 700 CNY/MWh: short runs would pay."""
    rng = np.random.default_rng(seed)
    n = 24
    inp = DispatchInputs(
        res_mw=rng.uniform(0.0, 12.0, n), load_mw=rng.uniform(4.0, 14.0, n),
        import_limit_mw=8.0, export_limit_mw=2.0, dt_h=1.0,
        bat_p_mw=[2.0], bat_e_mwh=[4.0], bat_eta_charge=[0.95], bat_eta_discharge=[0.95],
        bat_soc_min_pu=[0.1], bat_soc_max_pu=[0.9], bat_soc_initial_pu=[0.5],
        coal_p_min_mw=[2.0, 3.0], coal_p_max_mw=[5.0, 8.0], coal_ramp_up_mw=[1.0, 2.0],
        coal_ramp_down_mw=[1.5, 1.0], coal_min_up_steps=[3, 4], coal_min_down_steps=[2, 3])
    prices = Prices(import_cny_per_mwh=np.where(rng.random(n) < 0.5, 30.0, 700.0),
                    export_cny_per_mwh=100.0, carbon_cny_per_t=80.0, ef_kg_per_kwh=0.58,
                    coal_co2_t_per_mwh=[0.83, 0.9], coal_start_cny=[100.0, 200.0])
    return inp, prices


@pytest.mark.parametrize("seed", [2, 3])
@pytest.mark.parametrize("window_h, commit_h", [(3.0, 1.0), (4.0, 2.0), (6.0, 1.0)])
def test_rolling_windows_keep_minimum_up_and_down_times(seed, window_h, commit_h):
    """Short rolling windows on the swinging case.

    Window boundaries fall inside up and down periods, and the committed
    schedule respects both times (and ramps, starts, balance) throughout; the
    single full-horizon window is never worse.
    """
    inp, prices = _swing_case(seed)
    sol = solve_optimal(inp, prices, OptimalOptions(window_h=window_h, commit_h=commit_h,
                                                    mip_rel_gap=0.0, node_limit=100_000))
    check_coal_schedule(inp, sol.dispatch)
    assert _boundaries_inside_periods(sol, inp) >= 1
    full = solve_optimal(inp, prices, EXACT)
    check_coal_schedule(inp, full.dispatch)
    assert full.objective.total <= sol.objective.total + 1e-6 * max(1.0, abs(full.objective.total))


@pytest.mark.parametrize("up, down", [(3, 0), (0, 2), (3, 2), (2, 3)])
def test_window_model_with_history_admits_exactly_the_valid_patterns(up, down):
    """Every on/off pattern of a 5-step window, from every start state: the window's
    model is feasible with the pattern fixed exactly when history + pattern respects
    :func:`min_up_down_violations`. The history is the state (on or off) for
    ``coal_state_steps`` = 1, 2 or 4 steps after a long run in the other state, or
    unknown (long enough). Also: the steps the history holds are fixed by bounds.
    """
    from parkgrid.optimal._inputs import park_arrays
    from parkgrid.optimal.model import WindowState, build_window

    n = 5
    inp, prices = _hand_case(50.0, coal_min_up_steps=[up], coal_min_down_steps=[down])
    park, rp = park_arrays(inp), prices.resolve(inp)
    for on0 in (0, 1):
        for held in (1, 2, 4, None):
            extra = {} if held is None else {"coal_state_steps": np.array([held])}
            state = WindowState(np.zeros(0), 0.0, {}, coal_on=np.array([float(on0)]),
                                coal_p_mw=np.array([5.0 * on0]), **extra)
            m = build_window(park, rp, 0, n, state)
            u = m.blocks["coal_on"][:, 0]
            history = [on0] * 10 if held is None else [1 - on0] * 10 + [on0] * held
            must = [t for t in range(n) if min_up_down_violations(
                history + [on0] * t + [1 - on0], up, down)]
            np.testing.assert_array_equal(m.lb[u] + m.ub[u] == 2 * on0,
                                          [t in must for t in range(n)])
            for pattern in itertools.product((0, 1), repeat=n):
                lb, ub = m.lb.copy(), m.ub.copy()
                lb[u] = ub[u] = pattern
                r = milp(m.c, integrality=m.integrality, bounds=Bounds(lb, ub),
                         constraints=LinearConstraint(m.A, m.row_lo, m.row_hi))
                valid = not min_up_down_violations(history + list(pattern), up, down)
                assert (r.status == 0) == valid, (on0, held, pattern, r.message)


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


@settings(max_examples=25, deadline=None)
@given(coal_parks(), st.data())
def test_optimum_with_minimum_up_and_down_never_worse_than_coal_peaking(case, data):
    """As above with minimum up/down times of 0-5 steps: the rules' schedule is one
    the optimum may choose (same meaning of the times), so it is never better.
    """
    inp, prices = case
    nc = len(inp.coal_p_min_mw)
    steps = st.lists(st.integers(0, 5), min_size=nc, max_size=nc)
    inp = DispatchInputs(**{**inp.__dict__, "coal_min_up_steps": data.draw(steps),
                            "coal_min_down_steps": data.draw(steps)})
    sol = solve_optimal(inp, prices, EXACT)
    check_coal_schedule(inp, sol.dispatch)
    rule = run_dispatch(inp, "coal_peaking")
    for k in range(nc):
        assert min_up_down_violations(rule.coal_mode[:, k] == 2, inp.coal_min_up_steps[k],
                                      inp.coal_min_down_steps[k]) == []
    total = evaluate_objective(inp, prices, rule).total
    assert sol.objective.total <= total + 1e-6 * max(1.0, abs(total))


@pytest.mark.parametrize("field, what", [
    ("coal_start_steps", "coal unit start-up time"),
])
def test_unmodelled_coal_features_are_refused_by_name(field, what):
    inp, prices = _hand_case(0.0)
    bad = DispatchInputs(**{**inp.__dict__, field: [2]})
    with pytest.raises(OptimalUnsupportedError, match=what):
        solve_optimal(bad, prices, EXACT)


def test_minimum_up_and_down_times_are_accepted_and_checked():
    inp, prices = _hand_case(0.0, coal_min_up_steps=[2], coal_min_down_steps=[1])
    check_coal_schedule(inp, solve_optimal(inp, prices, EXACT).dispatch)
    for field in ("coal_min_up_steps", "coal_min_down_steps"):
        bad = DispatchInputs(**{**inp.__dict__, field: [-1]})
        with pytest.raises(ValueError, match=f"{field} must be finite and >= 0"):
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
    ok = SimpleNamespace(coal=[SimpleNamespace(**unit),
                               SimpleNamespace(**{**unit, "min_up_h": 8.0, "min_down_h": 6.0})])
    assert unsupported_features(ok) == []
    bad = SimpleNamespace(coal=[SimpleNamespace(**unit),
                                SimpleNamespace(**{**unit, "min_up_h": 8.0, "start_up_h": 4.0})])
    assert unsupported_features(bad) == ["coal[1].start_up_h"]
