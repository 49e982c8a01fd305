"""HiGHS through highspy: its own status and gap reported, nothing printed."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy import sparse

from parkgrid.dispatch import DispatchInputs
from parkgrid.optimal import OptimalOptions, Prices, solve_optimal
from parkgrid.optimal._highs import HighsWindow

EXACT = OptimalOptions(window_h=1e6, commit_h=1e6, mip_rel_gap=0.0)


def _knapsack(node_limit: int) -> HighsWindow:
    """A 40-item, 6-row binary knapsack that HiGHS does not close at its root node."""
    rng = np.random.default_rng(3)
    a = rng.integers(10, 100, (6, 40)).astype(float)
    c = -rng.integers(10, 100, 40).astype(float)
    return HighsWindow(c, sparse.csr_array(a), np.full(6, -np.inf), a.sum(axis=1) / 2,
                       time_limit_s=60.0, node_limit=node_limit)


def test_node_limit_is_a_limit_with_a_solution_and_a_bound():
    n = 40
    limited = _knapsack(1).solve(np.ones(n), np.zeros(n), np.ones(n))
    assert limited.status_text == "node limit reached"
    assert limited.limit and limited.usable and limited.x is not None
    assert limited.dual_bound < limited.fun and limited.mip_gap > 0
    full = _knapsack(100_000).solve(np.ones(n), np.zeros(n), np.ones(n))
    assert full.status_text == "optimal" and not full.limit
    assert limited.dual_bound - 1e-9 <= full.fun <= limited.fun + 1e-9
    assert full.mip_gap == pytest.approx(0.0, abs=1e-9)
    # the same instance re-solved as an LP with other bounds: no nodes, bound = objective
    lp = _knapsack(1).solve(np.zeros(n), np.zeros(n), np.full(n, 0.5))
    assert lp.status_text == "optimal" and lp.nodes == 0 and lp.dual_bound == lp.fun



def test_a_branch_and_bound_without_presolve_or_sub_mips_finds_the_same_optimum():
    """``presolve=False`` and ``sub_mips=False`` change that run only: same optimum
    (from a poor start too), and the next run of the instance has its options back."""
    n = 40
    hw = _knapsack(100_000)
    plain = hw.solve(np.ones(n), np.zeros(n), np.ones(n))
    raw = hw.solve(np.ones(n), np.zeros(n), np.ones(n), presolve=False, sub_mips=False,
                   start=np.zeros(n))
    assert raw.status_text == plain.status_text == "optimal"
    assert raw.fun == pytest.approx(plain.fun, abs=1e-6)
    h = hw._h
    assert h.getOptionValue("presolve")[1] == "choose"
    assert h.getOptionValue("mip_heuristic_run_rins")[1] is True
    assert h.getOptionValue("mip_heuristic_run_rens")[1] is True

def test_a_re_solve_sends_every_changed_bound_and_integrality():
    """One instance re-solved through a sequence of bounds and integralities (changed,
    restored, partly repeated) gives what a fresh instance gives for each: the runs
    send HiGHS only what changed, and nothing changed may be missed."""
    n = 40
    rng = np.random.default_rng(7)
    hw = _knapsack(100_000)
    runs = [(np.ones(n), np.zeros(n), np.ones(n))]
    for _ in range(6):
        integ, lb, ub = (a.copy() for a in runs[-1])
        k = rng.choice(n, 8, replace=False)
        lb[k[:3]] = ub[k[:3]] = 0.0                      # fix a few out
        ub[k[3:6]] = 0.5                                 # cap a few
        lb[k[6:]], ub[k[6:]] = 0.0, 1.0                  # free a few again
        flip = rng.choice(n, 10, replace=False)
        integ[flip] = 1.0 - integ[flip]                  # integrality flips both ways
        runs.append((integ, lb, ub))
    runs += [runs[2], runs[2], (np.zeros(n), np.zeros(n), np.ones(n)), runs[0]]
    for integ, lb, ub in runs:
        again = hw.solve(integ, lb, ub)
        fresh = _knapsack(100_000).solve(integ, lb, ub)
        assert again.status_text == fresh.status_text == "optimal"
        assert again.fun == pytest.approx(fresh.fun, abs=1e-6)
        assert again.x is not None
        assert np.all(again.x >= lb - 1e-9) and np.all(again.x <= ub + 1e-9)
        whole = integ > 0
        assert np.allclose(again.x[whole], np.round(again.x[whole]), atol=1e-6)


class _OptionLog:
    """A HiGHS instance that records the options set on it and when it runs."""

    def __init__(self, h):
        self._h, self.log = h, []

    def setOptionValue(self, name, value):
        self.log.append((name, value))
        return self._h.setOptionValue(name, value)

    def run(self):
        self.log.append(("run", None))
        return self._h.run()

    def __getattr__(self, name):
        return getattr(self._h, name)


def test_rens_false_switches_off_rens_alone_for_that_run():
    """``rens=False`` (the neighbourhood MIPs): RENS off during the run and back on
    after it, RINS never touched; the same optimum as with both on, from a poor start."""
    n = 40
    plain = _knapsack(100_000).solve(np.ones(n), np.zeros(n), np.ones(n))
    hw = _knapsack(100_000)
    spy = _OptionLog(hw._h)
    hw._h = spy
    r = hw.solve(np.ones(n), np.zeros(n), np.ones(n), start=np.zeros(n), rens=False)
    assert r.status_text == plain.status_text == "optimal"
    assert r.fun == pytest.approx(plain.fun, abs=1e-6)
    heuristics = [e for e in spy.log if e[0].startswith("mip_heuristic") or e[0] == "run"]
    assert heuristics == [("mip_heuristic_run_rens", False), ("run", None),
                          ("mip_heuristic_run_rens", True)]
    assert spy.getOptionValue("mip_heuristic_run_rins")[1] is True


def test_the_neighbourhood_mip_starts_from_the_best_rounding_without_rens(monkeypatch):
    """Without the valid cuts the hand case's relaxation runs the electrolyser below
    its minimum load and no rounding is optimal, so the neighbourhood MIP runs: it is
    offered the best rounding LP's point as its start and runs without RENS, and the
    window still reaches the hand-computed optimum (1000 CNY)."""
    calls = []
    solve = HighsWindow.solve

    def spy(self, integrality, lb, ub, abs_gap=1e-6, start=None, presolve=True,
            sub_mips=True, rens=True):
        r = solve(self, integrality, lb, ub, abs_gap, start, presolve, sub_mips, rens)
        calls.append(dict(mip=bool(np.any(integrality)), start=start, presolve=presolve,
                          sub_mips=sub_mips, rens=rens, r=r))
        return r

    monkeypatch.setattr(HighsWindow, "solve", spy)
    inp, prices = _electrolyser_case()
    sol = solve_optimal(inp, prices, OptimalOptions(window_h=1e6, commit_h=1e6,
                                                    mip_rel_gap=0.0, valid_cuts=False))
    assert sol.objective.total == pytest.approx(1000.0, abs=1e-6)
    first_mip = next(i for i, c in enumerate(calls) if c["mip"])
    nbh = calls[first_mip]
    assert nbh["presolve"] and nbh["sub_mips"] and not nbh["rens"]
    roundings = [c["r"] for c in calls[1:first_mip] if c["r"].x is not None]
    best = min(roundings, key=lambda r: r.fun)
    assert nbh["start"] is not None
    np.testing.assert_array_equal(nbh["start"], best.x)


def _electrolyser_case() -> tuple[DispatchInputs, Prices]:
    """The hand case of test_optimal_hand (valley dearer to top up: optimum 1000 CNY),
    whose LP relaxation runs the electrolyser below its minimum load."""
    inp = DispatchInputs(
        res_mw=np.array([0.0, 4.0, 12.0, 0.0]), load_mw=np.zeros(4), import_limit_mw=20.0,
        export_limit_mw=0.0, el_p_mw=[10.0], el_kwh_per_kg=[50.0], el_min_load_pu=[0.5],
        tank_capacity_kg=1000.0, tank_initial_kg=0.0,
        h2_demand_kg=np.array([0.0, 0.0, 0.0, 300.0]), dt_h=1.0,
    )
    prices = Prices(import_cny_per_mwh=np.array([200.0, 1200.0, 400.0, 600.0]),
                    hydrogen_cny_per_kg=0.0, tank_value_cny_per_kg=0.0)
    return inp, prices


def test_a_finished_solve_reports_no_limit_and_its_proven_gap(caplog):
    """HiGHS finishes normally: no "limit" message, and the gap is the proven one
    (0 here, the optimum being certified by the branch and bound), not the distance
    to the LP relaxation (which the old report called a limit, at gap 4)."""
    inp, prices = _electrolyser_case()
    with caplog.at_level(logging.INFO, logger="parkgrid.optimal.rolling"):
        sol = solve_optimal(inp, prices, EXACT)
    assert sol.objective.total == pytest.approx(1000.0, abs=1e-6)
    s = sol.summary()
    assert s["highs_status"] == {"optimal": 1} and s["limits_reached"] == 0
    assert s["max_gap"] <= 1e-6
    assert not [r for r in caplog.records if "limit" in r.getMessage()]


def test_a_stopped_branch_and_bound_is_reported_with_its_status(caplog):
    """node_limit = 0: HiGHS stops before its first node; the window keeps the best
    rounded solution, says so with HiGHS's status, and its gap is above zero. (Without
    the valid cuts: with them this case's relaxation is integral and no branch and
    bound runs.)"""
    inp, prices = _electrolyser_case()
    with caplog.at_level(logging.INFO, logger="parkgrid.optimal.rolling"):
        sol = solve_optimal(inp, prices, OptimalOptions(window_h=1e6, commit_h=1e6,
                                                        mip_rel_gap=0.0, node_limit=0,
                                                        valid_cuts=False))
    w = sol.windows[0]
    assert w.limit_reached and w.highs_status == "node limit reached"
    assert sol.summary()["limits_reached"] == 1
    assert [r for r in caplog.records if "node limit reached" in r.getMessage()]
    assert sol.objective.total >= 1000.0 - 1e-6  # never better than the optimum


def test_a_solve_prints_nothing_at_the_c_level(capfd):
    """Window solves (LP, rounding, branch and bound) write nothing to the process's
    stdout or stderr file descriptors."""
    _knapsack(100_000).solve(np.ones(40), np.zeros(40), np.ones(40))
    inp, prices = _electrolyser_case()
    solve_optimal(inp, prices, EXACT)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_a_fresh_process_prints_no_banner_or_debug_line():
    """In a new interpreter (HiGHS prints its banner once per process, so only a
    fresh one shows it): a branch and bound and a rolling solve print nothing."""
    code = textwrap.dedent("""
        import numpy as np
        from scipy import sparse
        from parkgrid.optimal._highs import HighsWindow
        rng = np.random.default_rng(3)
        a = rng.integers(10, 100, (6, 40)).astype(float)
        c = -rng.integers(10, 100, 40).astype(float)
        hw = HighsWindow(c, sparse.csr_array(a), np.full(6, -np.inf), a.sum(axis=1) / 2,
                         time_limit_s=60.0, node_limit=100000)
        assert hw.solve(np.ones(40), np.zeros(40), np.ones(40)).status_text == "optimal"
    """)
    run = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and run.stderr == ""


def test_a_window_presolve_calls_infeasible_is_solved():
    """Found by hypothesis: a full 5 kg tank, no demand, no grid, 1 MW of RES and a
    2 MW electrolyser with a 2e-9 MW minimum load. The window of steps 19-20 is
    feasible (curtail the RES), but HiGHS 1.16's presolve calls its LP infeasible;
    the verdict is checked without presolve."""
    n = 21
    res = np.zeros(n)
    res[[16, 19, 20]] = 1.0
    inp = DispatchInputs(res_mw=res, load_mw=np.zeros(n), import_limit_mw=0.0,
                         export_limit_mw=0.0, el_p_mw=[2.0], el_kwh_per_kg=[40.0],
                         el_min_load_pu=[1e-9], tank_capacity_kg=5.0, tank_initial_kg=0.0,
                         h2_demand_kg=np.zeros(n), dt_h=1.0)
    prices = Prices(hydrogen_cny_per_kg=1.0, unserved_cny_per_mwh=1000.0,
                    shortfall_cny_per_kg=50.0)
    sol = solve_optimal(inp, prices, OptimalOptions(window_h=2.0, commit_h=1.0,
                                                    strict_h2_demand=False))
    # 0.2 MW for one hour fills the tank (5 kg x 40 kWh/kg); the rest is curtailed
    np.testing.assert_allclose(sol.dispatch.el_p_mw[:, 0], np.where(np.arange(n) == 16, 0.2, 0),
                               atol=1e-9)
    np.testing.assert_allclose(sol.dispatch.curtailed_mw, res - sol.dispatch.el_p_mw[:, 0],
                               atol=1e-9)


def test_the_direction_roundings_stop_at_the_first_within_the_gap():
    """``_fix_direction`` tries its roundings in order and keeps the best, but stops
    at the first whose LP objective is within *accept*; without one it tries all."""
    from types import SimpleNamespace

    from parkgrid.optimal._highs import Solve
    from parkgrid.optimal.rolling import _OPTIMAL, _fix_direction

    # columns: direction binaries of steps 0 and 1, their imports, their exports;
    # the relaxation imports and exports at once in step 0
    model = SimpleNamespace(
        lb=np.zeros(6), ub=np.ones(6), integrality=np.array([1, 1, 0, 0, 0, 0]),
        blocks={"importing": np.array([0, 1]), "importing_steps": np.array([0, 1]),
                "imp": np.array([2, 3]), "exp": np.array([4, 5])})
    relax = Solve(_OPTIMAL, np.array([0.5, 1.0, 2.0, 1.0, 1.0, 0.0]), 0.0, 0.0, 0.0, 0)

    class Scripted:
        def __init__(self, funs):
            self.funs, self.calls = list(funs), 0

        def solve(self, integrality, lb, ub):
            self.calls += 1
            fun = self.funs.pop(0)
            return Solve(_OPTIMAL, np.zeros(6), fun, fun, 0.0, 0)

    hw = Scripted([5.0, 3.0])
    base, *_ = _fix_direction(hw, model, relax, accept=6.0)
    assert hw.calls == 1 and base.fun == 5.0
    hw = Scripted([5.0, 3.0])
    base, *_ = _fix_direction(hw, model, relax, accept=4.0)
    assert hw.calls == 2 and base.fun == 3.0
    hw = Scripted([5.0, 3.0])
    base, *_ = _fix_direction(hw, model, relax)
    assert hw.calls == 2 and base.fun == 3.0
