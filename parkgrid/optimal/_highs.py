"""One window's MILP in one HiGHS instance (highspy), re-solved with new bounds.

The model is passed once (column-wise, from the window's sparse matrix); the
relaxation, the rounding LPs and the branch and bound are re-solves of the same
instance with other column bounds and integrality, so an LP re-solve starts from
the basis of the solve before. Output is off from the start (``output_flag``
before anything else: highspy's ``Highs`` class prints its banner from its
constructor, so the core class ``highspy._Highs``, exported by highspy, is
used), and HiGHS's own model status, objective, dual bound, gap and node count
are read from ``getInfo``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import highspy
import numpy as np

# highspy's core class (in its __all__, not in its stubs): the Python subclass
# highspy.Highs prints a banner from its constructor, before output can be turned off
from highspy import _Highs  # type: ignore[attr-defined]
from scipy import sparse

__all__ = ["HighsWindow", "Solve", "WindowModels"]

_S = highspy.HighsModelStatus
#: statuses where HiGHS stopped at a limit; a solution it has is kept
LIMITS = frozenset({_S.kTimeLimit, _S.kIterationLimit, _S.kSolutionLimit, _S.kInterrupt})
#: HiGHS's status words are terse; these say what happened to the window
_WORDS = {
    _S.kOptimal: "optimal",
    _S.kInfeasible: "infeasible",
    _S.kUnboundedOrInfeasible: "unbounded or infeasible",
    _S.kUnbounded: "unbounded",
    _S.kTimeLimit: "time limit reached",
    _S.kIterationLimit: "iteration limit reached",
    # HiGHS reports its node limit (mip_max_nodes) as the solution limit
    _S.kSolutionLimit: "node limit reached",
    _S.kInterrupt: "interrupted",
    _S.kMemoryLimit: "memory limit reached",
}


@dataclass(frozen=True)
class Solve:
    """What one HiGHS run returned.

    ``status`` is HiGHS's model status and ``status_text`` its meaning in words;
    ``x`` the column values (``None`` without a primal solution); ``fun`` the
    objective ``c x`` (without the model's offset); ``dual_bound`` the best
    proven lower bound of this run's problem (the branch and bound's dual bound
    for a MIP, the objective for an LP solved to optimality, ``-inf`` otherwise);
    ``mip_gap`` HiGHS's own relative gap, ``(fun - dual_bound) / |fun|``
    (0 for an LP); ``nodes`` the branch-and-bound nodes.
    """

    status: highspy.HighsModelStatus
    x: np.ndarray | None
    fun: float
    dual_bound: float
    mip_gap: float
    nodes: int

    @property
    def status_text(self) -> str:
        """HiGHS's model status in words."""
        return _WORDS.get(self.status, f"HiGHS model status {int(self.status)}")

    @property
    def usable(self) -> bool:
        """A solution is there and HiGHS finished or stopped at a limit."""
        return self.x is not None and (self.status == _S.kOptimal or self.status in LIMITS)

    @property
    def limit(self) -> bool:
        """HiGHS stopped at a limit (nodes, time, iterations) rather than finishing."""
        return self.status in LIMITS


class HighsWindow:
    """A window's MILP ``min c x, lo <= A x <= hi, lb <= x <= ub`` held by HiGHS.

    Parameters
    ----------
    c, A, row_lo, row_hi:
        Objective [CNY per unit] and rows of the window (:class:`WindowModel`).
    time_limit_s, node_limit:
        Limits of each run [s] and of each branch and bound [nodes].
    """

    def __init__(self, c: np.ndarray, A: sparse.csr_array, row_lo: np.ndarray,
                 row_hi: np.ndarray, *, time_limit_s: float, node_limit: int) -> None:
        h = _Highs()
        h.setOptionValue("output_flag", False)  # first: nothing printed from here on
        h.setOptionValue("log_to_console", False)
        for name, value in (("time_limit", float(time_limit_s)),
                            ("mip_max_nodes", int(node_limit)), ("mip_rel_gap", 0.0),
                            ("primal_feasibility_tolerance", 1e-9),
                            ("mip_feasibility_tolerance", 1e-9)):
            _check(h.setOptionValue(name, value), f"setting HiGHS option {name}")
        csc = sparse.csc_array(A)
        csc.sort_indices()
        m, n = csc.shape
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, m
        lp.col_cost_ = np.asarray(c, float)
        lp.col_lower_, lp.col_upper_ = np.zeros(n), np.zeros(n)
        lp.row_lower_ = _inf(np.asarray(row_lo, float))
        lp.row_upper_ = _inf(np.asarray(row_hi, float))
        a = lp.a_matrix_
        a.format_ = highspy.MatrixFormat.kColwise
        a.num_col_, a.num_row_ = n, m
        a.start_ = csc.indptr.astype(np.int32)
        a.index_ = csc.indices.astype(np.int32)
        a.value_ = csc.data.astype(float)
        _check(h.passModel(lp), "passing the window's model to HiGHS")
        self._h, self._n, self._m = h, n, m
        self._time_limit_s = float(time_limit_s)
        self._cols = np.arange(n, dtype=np.int32)
        self._rows = np.arange(m, dtype=np.int32)
        self.key = _matrix_key(csc)

    def update(self, c: np.ndarray, row_lo: np.ndarray, row_hi: np.ndarray) -> None:
        """Give the held model another window's costs and row bounds (same matrix).

        HiGHS keeps its basis across such changes, so the next LP starts from the
        previous window's optimal basis (a warm start) instead of from scratch.
        """
        h = self._h
        # HiGHS's time limit is read against the instance's run clock, which keeps
        # counting across runs: each window gets time_limit_s from its own start, as
        # a fresh instance would (else a re-used model hit the limit at once after a
        # year's first minute of solving)
        _check(h.setOptionValue("time_limit", h.getRunTime() + self._time_limit_s),
               "setting HiGHS option time_limit")
        _check(h.changeColsCost(self._n, self._cols, np.asarray(c, float)),
               "changing the costs")
        _check(h.changeRowsBounds(self._m, self._rows, _inf(np.asarray(row_lo, float)),
                                  _inf(np.asarray(row_hi, float))), "changing the row bounds")

    def solve(self, integrality: np.ndarray, lb: np.ndarray, ub: np.ndarray,
              abs_gap: float = 1e-6, start: np.ndarray | None = None) -> Solve:
        """Run HiGHS with column bounds *lb*, *ub* and *integrality* (1 = integer).

        A branch and bound stops at an absolute gap *abs_gap* [CNY]; *start*, a
        feasible point, is offered to it as a first incumbent.
        """
        h, n, cols = self._h, self._n, self._cols
        _check(h.changeColsBounds(n, cols, _inf(np.asarray(lb, float)),
                                  _inf(np.asarray(ub, float))), "setting column bounds")
        kinds = (np.asarray(integrality) > 0).astype(np.uint8)  # HighsVarType 1 = integer
        _check(h.changeColsIntegrality(n, cols, kinds), "setting integrality")
        mip = bool(np.any(np.asarray(integrality) > 0))
        if mip:
            _check(h.setOptionValue("mip_abs_gap", float(abs_gap)), "setting mip_abs_gap")
            if start is not None:
                sol = highspy.HighsSolution()
                sol.col_value = np.asarray(start, float)
                sol.value_valid = True
                h.setSolution(sol)  # a hint only: HiGHS checks and may discard it
        h.run()
        status = h.getModelStatus()
        if status in (_S.kInfeasible, _S.kUnboundedOrInfeasible):
            # HiGHS 1.16's presolve has called a feasible window infeasible (an LP with
            # a 2e-9 MW minimum load, found by tests/test_optimal_properties.py): a
            # verdict of infeasibility is confirmed without presolve
            _check(h.setOptionValue("presolve", "off"), "turning presolve off")
            h.run()
            status = h.getModelStatus()
            _check(h.setOptionValue("presolve", "choose"), "turning presolve on")
        info = h.getInfo()
        has_x = int(info.primal_solution_status) == int(highspy.kSolutionStatusFeasible)
        x = np.array(h.getSolution().col_value, float) if has_x else None
        fun = float(info.objective_function_value) if has_x else np.inf
        if mip:
            bound, gap = float(info.mip_dual_bound), float(info.mip_gap)
        else:
            bound = fun if status == _S.kOptimal else -np.inf
            gap = 0.0 if status == _S.kOptimal else np.inf
        return Solve(status=status, x=x, fun=fun, dual_bound=bound, mip_gap=gap,
                     nodes=int(info.mip_node_count) if mip else 0)


def _matrix_key(csc: sparse.csc_array) -> tuple[tuple[int, ...], str]:
    """Shape and digest of a column-wise matrix: equal keys, equal matrices."""
    h = hashlib.blake2b(digest_size=16)
    for part in (csc.indptr.astype(np.int64), csc.indices.astype(np.int64),
                 csc.data.astype(float)):
        h.update(np.ascontiguousarray(part).tobytes())
    return tuple(csc.shape), h.hexdigest()


class WindowModels:
    """The HiGHS models of a rolling-horizon run, one per distinct constraint matrix.

    Consecutive windows of a year differ in costs (prices), row bounds (the
    state carried in, profiles) and column bounds, but mostly not in the matrix:
    the flagship's 364 windows have one matrix but where a window spans a month
    boundary (another capacity-charge period) or needs battery binaries. A window
    whose matrix was seen reuses that model with its own costs and bounds and
    starts from the basis left by the last solve (its LP relaxation took 7.9 ms of
    CPU instead of 23 ms from scratch, the same objective to 4e-16, issue 17).
    """

    def __init__(self, *, time_limit_s: float, node_limit: int, keep: int = 4) -> None:
        self._time_limit_s, self._node_limit = time_limit_s, node_limit
        self._keep = keep
        self._held: dict[tuple[tuple[int, ...], str], HighsWindow] = {}
        self.reused = 0

    def get(self, c: np.ndarray, A: sparse.csr_array, row_lo: np.ndarray,
            row_hi: np.ndarray) -> HighsWindow:
        """Return a model of ``min c x, row_lo <= A x <= row_hi`` (column bounds: per solve)."""
        csc = sparse.csc_array(A)
        csc.sort_indices()
        key = _matrix_key(csc)
        hw = self._held.pop(key, None)
        if hw is None:
            hw = HighsWindow(c, csc, row_lo, row_hi, time_limit_s=self._time_limit_s,
                             node_limit=self._node_limit)
        else:
            hw.update(c, row_lo, row_hi)
            self.reused += 1
        self._held[key] = hw  # most recent last
        while len(self._held) > self._keep:
            self._held.pop(next(iter(self._held)))
        return hw


def _inf(v: np.ndarray) -> np.ndarray:
    """Infinite bounds as HiGHS's infinity."""
    return np.clip(v, -highspy.kHighsInf, highspy.kHighsInf)


def _check(status: highspy.HighsStatus, what: str) -> None:
    if status == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS refused {what}")
