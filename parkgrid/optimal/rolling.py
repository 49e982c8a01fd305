"""Rolling-horizon optimal dispatch: solve a window, commit its head, move on.

Each window of ``window_h`` hours is solved with perfect foresight by HiGHS
(through highspy, :mod:`parkgrid.optimal._highs`); its first ``commit_h`` hours
are kept and the state at their end (stored energy, tank, running monthly
import peaks, each coal unit's on/off, output and steps in that state) starts
the next window. The last window keeps everything it solved. The storage values of
:mod:`parkgrid.optimal.costs` are the terminal condition of every window.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

from parkgrid.dispatch import DispatchInputs, DispatchResult
from parkgrid.dispatch.kernels import ON as _COAL_ON
from parkgrid.errors import (
    OptimalInfeasibleError,
    OptimalSolveError,
    OptimalUnsupportedError,
)
from parkgrid.optimal._highs import HighsWindow, Solve
from parkgrid.optimal._inputs import FlexDemand, Park, park_arrays, to_result
from parkgrid.optimal.costs import ObjectiveBreakdown, Prices, evaluate_objective
from parkgrid.optimal.model import (
    WindowModel,
    WindowState,
    build_window,
    carry_basis,
    vertex_basis,
)

__all__ = [
    "OptimalInfeasibleError",
    "OptimalOptions",
    "OptimalSolution",
    "OptimalSolveError",
    "OptimalUnsupportedError",
    "WindowStats",
    "run_optimal",
    "solve_optimal",
]

_TOL = 1e-9
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OptimalOptions:
    """Options of the rolling-horizon solve (keyword-only use intended).

    Attributes
    ----------
    window_h, commit_h:
        Length of each solved window and of the part kept [h].
    mip_rel_gap:
        A window's solution is accepted when its objective is within this
        fraction of the window's grid turnover (import cost + export revenue +
        capacity charge; with coal units, its gross money flow if larger) of the
        LP bound; 0 = optimal to 1e-6 CNY.
    node_limit, time_limit_s:
        Limits of each branch and bound (nodes, and a safety limit [s]); when
        one is reached the best solution found is kept and its gap recorded in
        :class:`WindowStats`. The node limit keeps results independent of the
        machine's speed and load.
    strict_h2_demand:
        Raise :class:`OptimalInfeasibleError` when a window's hydrogen offtake
        exceeds tank content plus electrolyser capacity; ``False`` lets the
        penalised shortfall take it.
    battery_binaries:
        One binary per battery and step forbidding simultaneous charge and
        discharge everywhere (otherwise only where the exact repair fails).
    valid_cuts:
        Tighten each window's LP relaxation with the valid inequalities of
        :mod:`parkgrid.optimal._cuts` (the same MILP; on the flagship year the
        branch and bound then runs in 51 windows instead of 199). ``False``
        keeps the plain formulation (for comparison and tests).
    warm_start:
        Start each window's LP relaxation from the optimal vertex of the previous
        window's relaxation, carried over by step (:func:`~parkgrid.optimal.model.carry_basis`;
        the windows overlap by ``window_h - commit_h``). The same LP optimum in
        fewer simplex iterations (on the flagship year 2.6x fewer), but often
        another optimal vertex, which rounds differently. Before the direction
        cuts by group of sinks and supply (:mod:`parkgrid.optimal._cuts`) that
        sent other windows to branch and bound and cost more than it saved; with
        them the same 9 windows of the flagship year need it warm or cold, and
        the relaxations take about half the CPU time, so it is on by default.
        ``False``: each relaxation from HiGHS's own start.
    """

    window_h: float = 48.0
    commit_h: float = 24.0
    mip_rel_gap: float = 1e-6
    node_limit: int = 200
    time_limit_s: float = 60.0
    strict_h2_demand: bool = True
    battery_binaries: bool = False
    valid_cuts: bool = True
    warm_start: bool = True


@dataclass(frozen=True)
class WindowStats:
    """Size, timing and outcome of one window's solve.

    ``mip_gap`` is proven: the kept objective above the best lower bound (the
    LP relaxation's, or HiGHS's dual bound where its branch and bound ran), as
    a fraction of the window's grid turnover (see ``OptimalOptions.mip_rel_gap``).
    ``highs_status`` is HiGHS's model status of the window's branch and bound
    where it ran (``"optimal"``, ``"node limit reached"``, ``"time limit
    reached"``, ...), else of the LP whose solution was kept;
    ``limit_reached`` says the branch and bound stopped at a limit, ``nodes``
    how many nodes it explored; ``turnover_cny`` the window's grid turnover the
    gap is measured against [CNY] (``mip_rel_gap x turnover_cny`` is the
    objective the window may lie above its bound; 0 in a window without binaries).
    """

    window: int
    t0: int
    t1: int
    commit_end: int
    size: dict[str, int]
    build_s: float
    solve_s: float
    mip_gap: float
    method: str
    resolved_with_battery_binaries: bool
    highs_status: str = "optimal"
    limit_reached: bool = False
    nodes: int = 0
    turnover_cny: float = 0.0


@dataclass(frozen=True)
class OptimalSolution:
    """Rolling-horizon result: the schedule, its objective and the solver statistics."""

    dispatch: DispatchResult
    objective: ObjectiveBreakdown
    windows: list[WindowStats] = field(repr=False)
    wall_s: float
    cpu_s: float
    flex_mw: np.ndarray | None = None
    """Power of each truck station (``flex`` of :func:`solve_optimal`) [MW], steps x S."""

    def summary(self) -> dict[str, Any]:
        """Window count, largest model, total build and solve time [s], outcomes.

        ``methods`` and ``highs_status`` count the windows by how they were
        solved and by HiGHS's status (:class:`WindowStats`); ``limits_reached``
        the windows whose branch and bound stopped at its node or time limit;
        ``max_gap`` the largest proven gap (``WindowStats.mip_gap``).
        """
        sizes = [w.size for w in self.windows]
        largest = max(sizes, key=lambda s: s["variables"]) if sizes else {}
        methods: dict[str, int] = {}
        statuses: dict[str, int] = {}
        for w in self.windows:
            methods[w.method] = methods.get(w.method, 0) + 1
            statuses[w.highs_status] = statuses.get(w.highs_status, 0) + 1
        return {
            "windows": len(self.windows), "largest_window": largest,
            "build_s": sum(w.build_s for w in self.windows),
            "solve_s": sum(w.solve_s for w in self.windows), "wall_s": self.wall_s,
            "cpu_s": self.cpu_s, "methods": methods,
            "highs_status": statuses,
            "limits_reached": sum(w.limit_reached for w in self.windows),
            "max_gap": max((w.mip_gap for w in self.windows), default=0.0),
            "windows_with_battery_binaries": sum(w.resolved_with_battery_binaries
                                                 for w in self.windows),
            "objective_cny": self.objective.total,
        }


def run_optimal(inputs: DispatchInputs, prices: Prices,
                options: OptimalOptions | None = None) -> DispatchResult:
    """Optimal schedule of *inputs* (see :func:`solve_optimal`), as the rules return it."""
    return solve_optimal(inputs, prices, options).dispatch


def solve_optimal(
    inputs: DispatchInputs, prices: Prices, options: OptimalOptions | None = None, *,
    index: Any = None, flex: tuple[FlexDemand, ...] = (),
) -> OptimalSolution:
    """Dispatch *inputs* minimising the objective of *prices* over rolling windows.

    Parameters
    ----------
    inputs:
        The same arrays the rules dispatch.
    prices:
        Tariff, capacity charge, carbon price, hydrogen value, penalties, weights.
    options:
        Window and commit lengths and solver settings.
    index:
        Timestamps of the steps, used to name windows in error messages.
    flex:
        Truck stations as flexible demands with energy-by-deadline bounds.

    Raises
    ------
    OptimalInfeasibleError
        A window's hydrogen offtake cannot be met (``strict_h2_demand``).
    OptimalSolveError
        HiGHS stopped without an optimal solution.
    """
    opt = options or OptimalOptions()
    t_start, cpu_start = time.perf_counter(), time.process_time()
    park = dataclasses.replace(park_arrays(inputs), flex=tuple(flex))
    n, dt = park.n, park.dt_h
    win = max(1, round(opt.window_h / dt))
    com = max(1, round(opt.commit_h / dt))
    if com > win:
        raise ValueError(f"optimal: commit_h ({opt.commit_h:g} h) must not exceed window_h "
                         f"({opt.window_h:g} h)")
    if park.tank_cap_kg < 0 or not 0 <= park.tank0_kg <= park.tank_cap_kg + 1e-9:
        raise ValueError("tank_initial_kg must lie within [0, tank_capacity_kg]")
    rp = prices.resolve(inputs)
    nc = park.coal_p_max.size
    out = _Outputs(n, park.bat_p.size, park.el_p.size, nc, len(flex))
    # coal units start off for long enough, as in the rules
    state = WindowState(bat_e_mwh=park.bat_e0.copy(), tank_kg=park.tank0_kg, peak_mw={},
                        coal_on=np.zeros(nc), coal_p_mw=np.zeros(nc),
                        coal_state_steps=np.full(nc, np.inf), flex_e_mwh=np.zeros(len(flex)))
    stats: list[WindowStats] = []
    t0, k = 0, 0
    # the previous window's model, start and relaxation basis (column, row statuses)
    warm: tuple[WindowModel, int, tuple[np.ndarray, np.ndarray]] | None = None
    while t0 < n:
        t1 = min(t0 + win, n)
        end = n if t1 == n else t0 + com
        if opt.strict_h2_demand and park.demand is not None:
            _check_h2_feasible(park, state, t0, t1, k, index)
        tb = time.perf_counter()
        model = build_window(park, rp, t0, t1, state, battery_binaries=opt.battery_binaries,
                             integer_steps=end - t0, valid_cuts=opt.valid_cuts)
        build_s = time.perf_counter() - tb
        start = None
        if warm is not None and opt.warm_start:
            start = carry_basis(warm[0], *warm[2], model, t0 - warm[1])
        out_k = _solve(model, opt, k, t0, t1, index, start)
        solve_s = out_k.solve_s
        sol = _polish(model, out_k.x, park, t0, t1, state)
        with_bin = False
        if sol is None:  # simultaneous charge/discharge that the exact repair cannot remove
            tb = time.perf_counter()
            model = build_window(park, rp, t0, t1, state, battery_binaries=True,
                                 integer_steps=end - t0, valid_cuts=opt.valid_cuts)
            build_s += time.perf_counter() - tb
            if start is not None and warm is not None:  # the same window with more columns
                start = carry_basis(warm[0], *warm[2], model, t0 - warm[1])
            out_k = _solve(model, opt, k, t0, t1, index, start)
            solve_s += out_k.solve_s
            sol = _polish(model, out_k.x, park, t0, t1, state)
            with_bin = True
            if sol is None:  # pragma: no cover - binaries forbid it
                raise OptimalSolveError(f"window {k}: simultaneous charge and discharge "
                                        "remains with battery binaries")
        warm = (model, t0, out_k.basis) if out_k.basis is not None else None
        out.commit(sol, t0, end)
        state = _next_state(state, sol, rp.period[t0:end], end - t0, dt)
        stats.append(WindowStats(k, t0, t1, end, model.size, build_s, solve_s, out_k.gap,
                                 out_k.method, with_bin, out_k.status, out_k.limit,
                                 out_k.nodes, out_k.scale))
        t0, k = end, k + 1
    result = out.result(park)
    return OptimalSolution(dispatch=result, objective=evaluate_objective(inputs, rp, result),
                           windows=stats, wall_s=time.perf_counter() - t_start,
                           cpu_s=time.process_time() - cpu_start, flex_mw=out.flex)


def _where(k: int, t0: int, t1: int, index: Any) -> str:
    span = f"window {k} (steps {t0}-{t1 - 1}"
    if index is not None and len(index) >= t1:
        span += f", {index[t0]} to {index[t1 - 1]}"
    return span + ")"


def _check_h2_feasible(park: Park, state: WindowState, t0: int, t1: int, k: int,
                       index: Any) -> None:
    """Raise if the offtake of ``[t0, t1)`` exceeds tank content + full-power production."""
    assert park.demand is not None
    demand = np.cumsum(park.demand[t0:t1])
    kg_steps = (park.el_p * park.el_av[t0:t1]) @ park.kg_per_mw_step
    most = state.tank_kg + np.cumsum(kg_steps)
    kg_step = float(park.el_p @ park.kg_per_mw_step)
    bad = np.flatnonzero(demand > most + 1e-9 * np.maximum(1.0, demand))
    if bad.size:
        i = int(bad[0])
        raise OptimalInfeasibleError(
            f"hydrogen offtake cannot be met in {_where(k, t0, t1, index)}: by step {t0 + i} "
            f"it asks {demand[i]:,.1f} kg, but the tank holds {state.tank_kg:,.1f} kg and the "
            f"electrolysers ({park.el_p.sum():g} MW) make at most {kg_step:,.2f} kg per "
            f"step, {most[i]:,.1f} kg in all (constraint 'hydrogen tank balance': offtake <= "
            "tank + production). Lower the offtake or raise electrolyser capacity, or set "
            "strict_h2_demand=False to accept a penalised shortfall.",
            constraint="hydrogen tank balance", window=k, step=t0 + i)


def _turnover(model: WindowModel, x: np.ndarray) -> float:
    """Return the grid money flow of *x* [CNY]: import cost + export revenue + capacity."""
    total = 0.0
    for name in ("imp", "exp", "peak"):
        if name in model.blocks:
            idx = model.blocks[name].ravel()
            total += float(np.abs(model.c[idx] * x[idx]).sum())
    return total


@dataclass(frozen=True)
class _Outcome:
    """A window's kept solution and how it was found (see :func:`_solve`)."""

    x: np.ndarray
    gap: float
    solve_s: float
    method: str
    status: str
    limit: bool
    nodes: int
    scale: float
    basis: tuple[np.ndarray, np.ndarray] | None = None
    """The LP relaxation's optimal basis (column, row statuses), for the next window."""


def _solve(model: WindowModel, opt: OptimalOptions, k: int, t0: int, t1: int,
           index: Any, basis: tuple[np.ndarray, np.ndarray] | None = None) -> _Outcome:
    """Solve a window: its solution, proven gap, time [s], method and HiGHS status.

    The gap is the objective above the best proven lower bound (the LP
    relaxation's, or HiGHS's dual bound where its branch and bound ran) as a
    fraction of the window's grid turnover (import cost + export revenue +
    capacity charge of the relaxation; with coal units, its gross money flow
    if larger), the measure ``mip_rel_gap`` bounds. With binaries the LP
    relaxation comes first. Import/export direction binaries it leaves
    fractional (the relaxation buys and sells at once) are rounded to the
    direction of its net exchange and the LP re-solved. If then its
    electrolysers are all off or at or above minimum load it is optimal
    (method ``"lp"``). Otherwise, cheapest first: the binaries rounded three
    ways, each an LP (``"rounded"``); the MILP over only the binaries the
    relaxation left fractional, the others fixed as it set them
    (``"neighbourhood"``, as in RINS); with coal units instead, their on/off
    rounded from the relaxation (``"coal rounded"``, the other binaries still
    binary); HiGHS's branch and bound on the whole window (``"milp"``), started
    from the best of those. The first within the gap is kept, else the best
    found. On the flagship park this cuts the solve time several-fold: HiGHS
    spends most of a window's MILP time in root heuristics although the
    relaxation is nearly integral. *basis* (column, row statuses) starts the
    relaxation's simplex; the outcome carries the relaxation's optimal basis.
    """
    ts = time.perf_counter()
    hw = HighsWindow(model.c, model.A, model.row_lo, model.row_hi,
                     time_limit_s=opt.time_limit_s, node_limit=opt.node_limit)
    relaxed = np.zeros_like(model.integrality)
    if basis is not None:
        hw.set_basis(*basis)
    # the relaxation without presolve: a third less CPU on the flagship windows
    res = hw.solve(relaxed, model.lb, model.ub, presolve=False)
    relax_basis = (vertex_basis(model, res.x) if opt.warm_start and res.status == _OPTIMAL
                   and res.x is not None else None)
    method, gap, last, nodes, scale = "lp", 0.0, res, 0, 0.0
    if model.integrality.any() and res.status == _OPTIMAL and res.x is not None:
        bound = float(res.fun)
        scale = max(_turnover(model, res.x), 1.0)
        if "coal_on" in model.blocks:
            # a coal unit can make a window self-sufficient: no grid turnover to
            # measure the gap against (it was ~1 CNY in July on the flagship park with
            # a 100 MW unit), so the window's gross money flow is used when larger
            scale = max(scale, float(np.abs(model.c * res.x).sum()))
        tol = max(opt.mip_rel_gap * scale, 1e-6)
        best: tuple[Solve, str] | None = None
        base, lb, ub, integ = _fix_direction(hw, model, res, bound + tol)
        rest = integ.astype(bool)
        on = model.blocks.get("on")
        if base is None:
            pass
        elif not rest.any():
            best = (base, "lp" if base is res else "rounded")
        elif on is not None and rest.sum() == rest[on].sum():
            # with the directions fixed, no rounding can come within the gap when
            # their relaxation is not: the branch and bound decides, from a quick start
            best = _round(hw, model, base, on, lb, ub, integ, bound + tol,
                          "lp" if base is res else "rounded",
                          neighbourhood=base.fun <= bound + tol)
        elif "coal_on" in model.blocks:
            # coal on/off rounded from the relaxation, before any branch and bound:
            # on the flagship park with a coal unit it is within the gap in every
            # window tried, 4x faster than the MILP and at least as good -- HiGHS has
            # called worse points optimal (data near its tolerances)
            cand = _coal_rounded(hw, model, base, lb, ub, integ, bound + tol)
            if cand is not None:
                best = (cand, "coal rounded")
        if best is None or best[0].fun > bound + tol:
            # without presolve, and from a start without the sub-MIP heuristics (RINS,
            # RENS): on the flagship year 8-10 s CPU instead of 16-20 s, the windows that
            # took 7-8 s at the root (sub-MIPs) or at 27 nodes about 1 s
            r = hw.solve(model.integrality, model.lb, model.ub, tol,
                         start=None if best is None else best[0].x, presolve=False,
                         sub_mips=best is None)
            last, nodes = r, r.nodes
            if (r.status == _OPTIMAL or r.limit) and np.isfinite(r.dual_bound):
                bound = max(bound, r.dual_bound)
            if r.x is not None and (best is None or r.fun < best[0].fun - 1e-9):
                best = (r, "milp")
            elif best is None:
                best = (r, "milp")
        res, method = best
        if res.x is not None:
            gap = max(float(res.fun) - bound, 0.0) / scale
    solve_s = time.perf_counter() - ts
    if not res.usable:
        what = {"infeasible": "found the window infeasible",
                "unbounded": "found the window unbounded"}.get(
            res.status_text, f"stopped without a solution ({res.status_text})")
        raise OptimalSolveError(
            f"HiGHS {what} in {_where(k, t0, t1, index)} after {solve_s:.1f} s; "
            f"model {model.size}")
    assert res.x is not None
    if last.limit:
        log.info("%s: HiGHS's branch and bound stopped (%s) after %d nodes; kept a "
                 "solution within %.2g of the bound", _where(k, t0, t1, index),
                 last.status_text, last.nodes, gap)
    return _Outcome(np.asarray(res.x), gap, solve_s, method, last.status_text, last.limit,
                    nodes, scale, relax_basis)


_OPTIMAL = highspy.HighsModelStatus.kOptimal


def _fix_direction(hw: HighsWindow, model: WindowModel, relax: Solve,
                   accept: float = -np.inf
                   ) -> tuple[Solve | None, np.ndarray, np.ndarray, np.ndarray]:
    """Fix the import/export direction binaries as the relaxation *relax* sets them.

    A step the relaxation imports (exports) in imports (exports); where it does
    both, the best (LP objective) of three roundings, in this order, stopping at the
    first whose LP objective is at most *accept* (the window's bound plus its gap):
    each step by its net exchange; each run of steps keeping its share of import steps
    (:func:`_keep_import_share`); with a capacity charge and electrolysers,
    import where the surplus plus the relaxation's peak of the step's period fits
    into the electrolysers (the peak is paid anyway, the hydrogen is worth more than
    the export), export elsewhere. The last finds the branch and bound's pattern in
    the first window of a month on the flagship year, where the relaxation imports
    at its (new) peak in every step and exports at once. Returns the relaxation with the
    directions fixed (*relax* itself when they were integral already; ``None``
    if that LP has no solution), the column bounds and the integrality that fix
    them. Binaries of the relaxed look-ahead tail stay relaxed.
    """
    lb, ub, integ = model.lb.copy(), model.ub.copy(), model.integrality.copy()
    g = model.blocks.get("importing")
    if g is None or relax.x is None:
        return relax, lb, ub, integ
    head = g[model.integrality[g].astype(bool)]
    steps = model.blocks["importing_steps"][model.integrality[g].astype(bool)]
    imp = relax.x[model.blocks["imp"][steps]]
    exp = relax.x[model.blocks["exp"][steps]]
    importing = (imp >= exp).astype(float)
    lb[head] = ub[head] = importing
    integ[head] = 0
    if not np.any((imp > _TOL) & (exp > _TOL)):  # integral in effect
        x = relax.x.copy()
        x[head] = importing
        return dataclasses.replace(relax, x=x), lb, ub, integ
    best: tuple[Solve | None, np.ndarray, np.ndarray] = (None, lb, ub)
    cands = [importing, _keep_import_share(relax.x[head], steps)]
    if "peak" in model.blocks and "el" in model.blocks and model.step_period is not None:
        # import where the surplus and the import up to the relaxation's peak fit into
        # the electrolysers, export elsewhere (where the relaxation does both)
        peak = relax.x[model.blocks["peak"]][model.step_period[steps]]
        surplus = -model.row_lo[_balance_rows(model)[steps]]
        fits = surplus + peak <= model.ub[model.blocks["el"][steps]].sum(axis=1)
        mixed = (imp > _TOL) & (exp > _TOL)
        cands.append(np.where(mixed, fits, importing).astype(float))
    for cand in cands:
        lb_c, ub_c = lb.copy(), ub.copy()
        lb_c[head] = ub_c[head] = cand
        r = hw.solve(np.zeros_like(integ), lb_c, ub_c)
        if r.status == _OPTIMAL and r.x is not None and (best[0] is None
                                                          or r.fun < best[0].fun):
            best = (r, lb_c, ub_c)
            if r.fun <= accept:
                # within the gap already: on the flagship year the first rounding is
                # in 107 of the 111 windows that try three, and stopping there saves
                # 213 of its 743 rounding LPs (0.47 s) with the same MIPs run
                break
    return best[0], best[1], best[2], integ


def _balance_rows(model: WindowModel) -> np.ndarray:
    """Row of each step's power balance (its bounds: load - RES) in *model*."""
    start = next(r0 for name, r0, _ in model.row_blocks if name == "power balance")
    return start + np.arange(model.blocks["imp"].size)


def _keep_import_share(g: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Round direction binaries *g* of *steps* keeping each run's share of import steps.

    With the valid cuts (:mod:`parkgrid.optimal._cuts`) a fractional ``g`` is a mix
    of an import step (buying up to the peak for the electrolysers) and an export
    step; rounding each step by its net exchange loses the import energy of a run
    of such steps. Here each run of consecutive steps imports in ``round(sum g)``
    of its steps, those with the largest ``g`` (earliest first on ties).
    """
    out = np.zeros(g.size)
    runs = np.split(np.arange(g.size), np.flatnonzero(np.diff(steps) != 1) + 1)
    for run in runs:
        k = int(np.floor(g[run].sum() + 0.5))
        if k:
            out[run[np.argsort(-g[run], kind="stable")[:k]]] = 1.0
    return out


def _keep_energy(el: np.ndarray, p_min: np.ndarray, below: np.ndarray,
                 running: np.ndarray) -> np.ndarray:
    """On/off where the units below their minimum load keep their energy, in few steps.

    *el* (T x E') is the relaxation's power, *p_min* the minimum loads (E' or
    T x E'), *below* the steps a unit runs below its minimum. Of those steps
    ``round(sum el / p_min)`` per unit are on, those with the most power
    (earliest first on ties); steps at or above the minimum stay on. On the
    flagship year this is within the gap in windows whose relaxation runs an
    electrolyser at a few MW through the night, where the neighbourhood MIP over
    50-odd binaries took about 1.7 s.
    """
    on = running & ~below
    pm = np.broadcast_to(p_min, el.shape)
    for j in range(el.shape[1]):
        steps = np.flatnonzero(below[:, j])
        if steps.size:
            k = int(np.floor(el[steps, j].sum() / pm[steps, j].mean() + 0.5))
            on[steps[np.argsort(-el[steps, j], kind="stable")[:k]], j] = True
    return on


def _round(hw: HighsWindow, model: WindowModel, relax: Solve, on: np.ndarray, lb0: np.ndarray,
           ub0: np.ndarray, integ0: np.ndarray, accept: float,
           integral: str, neighbourhood: bool = True) -> tuple[Solve, str] | None:
    """Find a solution near the relaxation *relax*, stopping at objective <= *accept*.

    *lb0*, *ub0*, *integ0* are the column bounds and integrality to start from.
    Only the binaries marked integer are touched (a relaxed look-ahead tail
    stays relaxed). Returns the best solution found and its method (*integral*
    when the relaxation is integral in effect), or ``None``. The neighbourhood
    MILP runs only if *neighbourhood*.
    """
    assert relax.x is not None
    fixed = integ0[on].astype(bool)
    el = relax.x[model.blocks["el_on"]]
    p_min = np.broadcast_to(model.on_min_mw, el.shape)
    running = el > 1e-9
    below = running & (el < p_min * (1.0 - 1e-9)) & fixed
    if not below.any():  # integral in effect: on = running
        x = relax.x.copy()
        x[on[fixed]] = running[fixed]
        return dataclasses.replace(relax, x=x), integral
    relaxed = np.zeros_like(integ0)
    best: Solve | None = None
    # the units running below their minimum: to the nearest, all on, all off, and
    # on in as many of those steps as their energy fills at minimum load
    for cand in (running & (el >= 0.5 * p_min), running, running & ~below,
                 _keep_energy(el, p_min, below, running)):
        lb, ub = lb0.copy(), ub0.copy()
        lb[on[fixed]] = ub[on[fixed]] = cand[fixed]
        r = hw.solve(relaxed, lb, ub)
        if r.status == _OPTIMAL and r.x is not None and (best is None or r.fun < best.fun):
            best = r
            if float(r.fun) <= accept:
                return r, "rounded"
    if not neighbourhood:
        return (best, "rounded") if best is not None else None
    # neighbourhood: binaries the relaxation set integrally stay fixed, the rest branch;
    # started from the best rounding (it fixes them alike: RINS searches around it),
    # without RENS (which fixes what the root LP sets integrally: this MIP over again).
    # The flagship year's 11 neighbourhood MIPs replayed (best of 3, interleaved):
    # 3.1 s instead of 3.6-4.2 s, the largest (35 free binaries) 1.3 s instead of 1.6-2.1
    keep = fixed & ~below
    lb, ub = lb0.copy(), ub0.copy()
    lb[on[keep]] = ub[on[keep]] = running[keep]
    integ = integ0.copy()
    integ[on[keep]] = 0
    r = hw.solve(integ, lb, ub, max(accept - float(relax.fun), 1e-6),
                 start=None if best is None else best.x, rens=False)
    if r.usable and (best is None or r.fun < best.fun):
        return r, "neighbourhood"
    return (best, "rounded") if best is not None else None


def _coal_rounded(hw: HighsWindow, model: WindowModel, relax: Solve, lb0: np.ndarray,
                  ub0: np.ndarray, integ0: np.ndarray, accept: float = -np.inf) -> Solve | None:
    """Best solution with the coal on/off fixed as rounded from the relaxation *relax*.

    Candidates, in order, stopping at the first with objective <= *accept*: on
    where the relaxation is above 1/2, on wherever it is above 1e-6, all off
    (always feasible), each within the steps the window's start
    state holds on or off (minimum up/down times: the bounds of ``coal_on``).
    A candidate that breaks a minimum up/down time later in the window is an
    infeasible LP and skipped. Starts then follow from on/off; other binaries
    stay binary and the relaxed look-ahead tail stays relaxed. *lb0*, *ub0*,
    *integ0* are the column bounds and integrality to start from.
    """
    assert relax.x is not None
    on, start = model.blocks["coal_on"], model.blocks["coal_start"]
    fixed = integ0[on].astype(bool)
    u = relax.x[on]
    integ = integ0.copy()
    integ[on] = 0
    integ[start] = 0
    best: Solve | None = None
    for cand in (u > 0.5, u > 1e-6, np.zeros(u.shape, bool)):
        cand = np.clip(cand, lb0[on], ub0[on])
        lb, ub = lb0.copy(), ub0.copy()
        lb[on[fixed]] = ub[on[fixed]] = cand[fixed]
        r = hw.solve(integ, lb, ub)
        if r.usable and (best is None or r.fun < best.fun):
            best = r
            if float(r.fun) <= accept:
                break
    return best


@dataclass
class _WindowSolution:
    imp: np.ndarray
    exp: np.ndarray
    curt: np.ndarray
    uns: np.ndarray
    ch: np.ndarray
    dis: np.ndarray
    e: np.ndarray
    el: np.ndarray
    deliv: np.ndarray | None
    tank: np.ndarray | None
    coal_p: np.ndarray
    coal_on: np.ndarray
    coal_start: np.ndarray
    dump: np.ndarray
    flex: np.ndarray | None = None


def _polish(model: WindowModel, x: np.ndarray, park: Park, t0: int, t1: int,
            state: WindowState) -> _WindowSolution | None:
    """Clean solver round-off, remove tied simultaneous charge/discharge exactly.

    Values are clipped to their bounds, binaries rounded, the stored energy and
    tank recomputed from the flows and the balance closed on curtailment (or
    import) so every step balances to round-off; a step left with both import
    and export exchanges only the net. Returns ``None`` if a battery
    charges and discharges at once and the freed power has nowhere to go.
    """
    B = model.blocks
    sl = slice(t0, t1)
    n, dt = t1 - t0, park.dt_h
    nb, ne = park.bat_p.size, park.el_p.size

    def get(name: str, shape: tuple[int, ...]) -> np.ndarray:
        if name not in B:
            return np.zeros(shape)
        v = x[B[name]].copy()
        v[np.abs(v) < _TOL] = 0.0
        return v

    res, load = park.res[sl], park.load[sl]
    imp = np.clip(get("imp", (n,)), 0.0, park.imp_lim[sl])
    exp = np.clip(get("exp", (n,)), 0.0, park.exp_lim[sl])
    curt = np.clip(get("curt", (n,)), 0.0, res)
    uns = np.clip(get("uns", (n,)), 0.0, load)
    p_bat = park.bat_p * park.bat_av[sl]
    ch = np.clip(get("ch", (n, nb)), 0.0, p_bat)
    dis = np.clip(get("dis", (n, nb)), 0.0, p_bat)
    p_el = np.clip(get("el", (n, ne)), 0.0, park.el_p * park.el_av[sl])
    if "on" in B:
        with_min = np.flatnonzero(park.el_min_load * park.el_p > 0)
        on = np.round(x[B["on"]])
        lo = park.el_min_load[with_min] * park.el_p[with_min] * on
        p_el[:, with_min] = np.clip(p_el[:, with_min], lo, park.el_p[with_min] * on)

    coal_p, coal_on, coal_start = _polish_coal(model, x, park, state)
    dump = np.clip(get("dump", (n,)), 0.0, coal_p.sum(axis=1))
    flex = _polish_flex(model, x, park, t0, t1)

    # simultaneous charge and discharge: keep the stored-energy change, free the power
    both = (ch > 0) & (dis > 0)
    if both.any():
        eta_c, eta_d = park.bat_eta_c, park.bat_eta_d
        net = ch * eta_c - dis / eta_d  # stored per hour [MW]
        new_ch = np.where(both, np.maximum(net, 0.0) / eta_c, ch)
        new_dis = np.where(both, np.maximum(-net, 0.0) * eta_d, dis)
        freed = ((ch - dis) - (new_ch - new_dis)).sum(axis=1)  # >= 0 for eta <= 1
        ch, dis = new_ch, new_dis
        for arr in (imp, uns):
            take = np.minimum(freed, arr)
            arr -= take
            freed -= take
        take = np.minimum(freed, park.exp_lim[sl] - exp)
        exp += take
        freed -= take
        take = np.minimum(freed, res - curt)
        curt += take
        freed -= take
        if np.any(freed > 1e-7):
            return None

    # stored energy from the flows
    e = np.empty((n, nb))
    level = state.bat_e_mwh.astype(float).copy()
    step = (ch * park.bat_eta_c - dis / park.bat_eta_d) * dt
    for t in range(n):  # the rules' own bookkeeping, step by step
        level = level + step[t]
        e[t] = level
    # close the balance: imp - exp - curt + uns + dis - ch - el = load - res
    r = (load - res) - (imp - exp - curt + uns + dis.sum(axis=1) - ch.sum(axis=1)
                        - p_el.sum(axis=1) + coal_p.sum(axis=1) - dump - flex.sum(axis=1))
    pos = np.maximum(r, 0.0)  # supply missing: less curtailment, then more import
    take = np.minimum(pos, curt)
    curt -= take
    imp += pos - take
    neg = np.maximum(-r, 0.0)  # supply left over: more curtailment, then less import
    take = np.minimum(neg, res - curt)
    curt += take
    neg -= take
    take = np.minimum(neg, coal_p.sum(axis=1) - dump)
    dump += take
    imp -= neg - take
    # one connection point: a step that both imports and exports (a tie where export
    # pays no more than import, or round-off) exchanges the net only, which never
    # costs more (less import, less export: the difference is export minus import price)
    both_ways = np.minimum(imp, exp)
    imp -= both_ways
    exp -= both_ways

    deliv = tank = None
    if park.demand is not None:
        demand = park.demand[sl]
        deliv = np.clip(get("deliv", (n,)), 0.0, demand)
        made = p_el @ park.kg_per_mw_step
        tank = np.empty(n)
        level_kg = state.tank_kg
        for t in range(n):
            level_kg = level_kg + made[t] - deliv[t]
            if level_kg < 0.0:  # round-off only: deliver what is there
                deliv[t] += level_kg
                level_kg = 0.0
            tank[t] = level_kg
    return _WindowSolution(imp, exp, curt, uns, ch, dis, e, p_el, deliv, tank,
                           coal_p, coal_on, coal_start, dump, flex)


def _polish_flex(model: WindowModel, x: np.ndarray, park: Park, t0: int,
                 t1: int) -> np.ndarray:
    """Truck station power of *x* within its bounds (T x S; zero columns without)."""
    if "flex_p" not in model.blocks:
        return np.zeros((t1 - t0, 0))
    p = x[model.blocks["flex_p"]].copy()
    p[np.abs(p) < _TOL] = 0.0
    return np.clip(p, 0.0, np.column_stack([f.p_max[t0:t1] for f in park.flex]))


def _polish_coal(model: WindowModel, x: np.ndarray, park: Park,
                 state: WindowState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coal output, on/off (rounded) and starts (recomputed from on/off) of *x*."""
    B = model.blocks
    nc = park.coal_p_max.size
    if "coal_p" not in B:
        z = np.zeros((model.blocks["imp"].size, nc))
        return z, z.copy(), z.copy()
    on = np.round(x[B["coal_on"]]) + 0.0  # no negative zeros
    p = x[B["coal_p"]].copy()
    p[np.abs(p) < _TOL] = 0.0
    p = np.clip(p, park.coal_p_min * on, park.coal_p_max * on)
    prev = np.vstack([np.asarray(state.coal_on, float).reshape(1, nc), on[:-1]])
    start = on * (1.0 - prev)
    return p, on, start


def _next_state(state: WindowState, sol: _WindowSolution, period: np.ndarray,
                k: int, dt_h: float = 0.25) -> WindowState:
    peaks = dict(state.peak_mw)
    for p in np.unique(period):
        peak = float(sol.imp[:k][period == p].max())
        peaks[int(p)] = max(peaks.get(int(p), 0.0), peak)
    e = sol.e[k - 1].copy() if sol.e.shape[1] else state.bat_e_mwh
    tank = float(sol.tank[k - 1]) if sol.tank is not None else state.tank_kg
    flex_e = state.flex_e_mwh
    if sol.flex is not None and sol.flex.shape[1]:
        flex_e = flex_e + sol.flex[:k].sum(axis=0) * dt_h
    return WindowState(bat_e_mwh=e, tank_kg=tank, peak_mw=peaks,
                       coal_on=sol.coal_on[k - 1].copy(), coal_p_mw=sol.coal_p[k - 1].copy(),
                       coal_state_steps=_coal_state_steps(state, sol.coal_on[:k]),
                       flex_e_mwh=flex_e)


def _coal_state_steps(state: WindowState, on: np.ndarray) -> np.ndarray:
    """Count the steps each coal unit has been in its state at the end of *on* (k x C).

    *on* is the committed on/off of a window. The count is its trailing run of
    equal values; a run filling all k steps extends the one carried in *state*
    (infinite: long enough).
    """
    k, nc = on.shape
    if nc == 0:
        return np.zeros(0)
    head = on > 0.5
    same = head == head[-1]
    run = np.where(same.all(axis=0), k, np.argmin(same[::-1], axis=0)).astype(float)
    prev_on = (np.zeros(nc, bool) if state.coal_on.size == 0
               else np.asarray(state.coal_on, float).reshape(nc) > 0.5)
    prev_steps = (np.full(nc, np.inf) if state.coal_state_steps.size == 0
                  else np.asarray(state.coal_state_steps, float).reshape(nc))
    carry = same.all(axis=0) & (prev_on == head[-1])
    return np.where(carry, run + prev_steps, run)


class _Outputs:
    """Full-horizon arrays filled window by window."""

    def __init__(self, n: int, nb: int, ne: int, nc: int = 0, ns: int = 0):
        z = np.zeros
        self.flex = z((n, ns))
        self.imp, self.exp, self.curt, self.uns = z(n), z(n), z(n), z(n)
        self.ch, self.dis, self.e = z((n, nb)), z((n, nb)), z((n, nb))
        self.el = z((n, ne))
        self.deliv, self.tank = z(n), z(n)
        self.coal_p, self.coal_on, self.coal_start = z((n, nc)), z((n, nc)), z((n, nc))
        self.dump = z(n)

    def commit(self, s: _WindowSolution, t0: int, end: int) -> None:
        k = end - t0
        for name in ("imp", "exp", "curt", "uns", "ch", "dis", "e", "el", "coal_p", "coal_on",
                     "coal_start", "dump"):
            getattr(self, name)[t0:end] = getattr(s, name)[:k]
        if s.flex is not None and s.flex.shape[1]:
            self.flex[t0:end] = s.flex[:k]
        if s.deliv is not None and s.tank is not None:
            self.deliv[t0:end] = s.deliv[:k]
            self.tank[t0:end] = s.tank[:k]

    def result(self, park: Park) -> DispatchResult:
        made = self.el @ park.kg_per_mw_step
        if park.demand is None:  # no tank: everything made is taken away
            deliv, short = made.copy(), np.zeros_like(made)
            tank = np.full_like(made, park.tank0_kg)
        else:
            deliv, tank = self.deliv, self.tank
            short = park.demand - deliv
        return to_result(park, {
            "grid_import_mw": self.imp, "grid_export_mw": self.exp,
            "curtailed_mw": self.curt, "unserved_mw": self.uns, "bat_charge_mw": self.ch,
            "bat_discharge_mw": self.dis, "bat_e_mwh": self.e, "el_p_mw": self.el,
            "h2_produced_kg": made, "h2_delivered_kg": deliv, "h2_shortfall_kg": short,
            "tank_kg": tank, "coal_p_mw": self.coal_p,
            "coal_mode": (self.coal_on * _COAL_ON).astype(np.int8),
            "coal_starts": self.coal_start, "dumped_mw": self.dump,
        })
