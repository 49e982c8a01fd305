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

from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

# highspy's core class (in its __all__, not in its stubs): the Python subclass
# highspy.Highs prints a banner from its constructor, before output can be turned off
from highspy import _Highs  # type: ignore[attr-defined]
from scipy import sparse

__all__ = ["HighsWindow", "Solve", "highs_bounds", "highs_lp"]

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


#: HiGHS's basis statuses by value (kLower 0, kBasic 1, kUpper 2, kZero 3, kNonbasic 4),
#: an object array to turn an integer array into a list of them in one step
_STATUSES = np.array([highspy.HighsBasisStatus(v) for v in range(5)], dtype=object)


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
        m, n = A.shape
        csc = sparse.csc_array(A)
        csc.sort_indices()
        zeros = np.zeros(n)
        # the array form of passModel: a HighsLp's fields (highs_lp) are filled
        # element by element from numpy arrays, 2.5 ms a window against 0.6 ms
        _check(h.passModel(n, m, csc.nnz, int(highspy.MatrixFormat.kColwise),
                           int(highspy.ObjSense.kMinimize), 0.0, np.asarray(c, float), zeros,
                           zeros, highs_bounds(row_lo), highs_bounds(row_hi),
                           csc.indptr.astype(np.int32), csc.indices.astype(np.int32),
                           csc.data.astype(float), np.zeros(n, np.int32)),
               "passing the window's model to HiGHS")
        self._h = h
        # what HiGHS holds now: each run sends only the columns whose bounds or
        # integrality changed (a rounding LP fixes a few hundred binaries of ~4,000
        # columns; sending all took 0.4 ms a run, 0.47 s of the flagship year's
        # 1,126 runs under cProfile)
        self._lb, self._ub = zeros.copy(), zeros.copy()
        self._kinds = np.zeros(n, np.uint8)

    def set_basis(self, col_status: np.ndarray, row_status: np.ndarray) -> None:
        """Start the next simplex from these statuses (``HighsBasisStatus`` values).

        Given as an alien basis: HiGHS adds or drops basic variables until their
        count is right and replaces the columns of a singular basis by slacks, so
        any statuses are a valid start; the optimum does not depend on them.
        """
        b = highspy.HighsBasis()
        b.col_status = _STATUSES[np.asarray(col_status, np.intp)].tolist()
        b.row_status = _STATUSES[np.asarray(row_status, np.intp)].tolist()
        b.alien = True
        b.valid = True
        _check(self._h.setBasis(b), "setting a basis")

    def solve(self, integrality: np.ndarray, lb: np.ndarray, ub: np.ndarray,
              abs_gap: float = 1e-6, start: np.ndarray | None = None,
              presolve: bool = True, sub_mips: bool = True, rens: bool = True) -> Solve:
        """Run HiGHS with column bounds *lb*, *ub* and *integrality* (1 = integer).

        A branch and bound stops at an absolute gap *abs_gap* [CNY]; *start*, a
        feasible point, is offered to it as a first incumbent. *presolve* ``False``
        skips HiGHS's presolve for this run only; *sub_mips* ``False`` its sub-MIP
        heuristics (RINS and RENS), likewise; *rens* ``False`` RENS alone.
        """
        h = self._h
        lo, hi = highs_bounds(lb), highs_bounds(ub)
        new = np.flatnonzero((lo != self._lb) | (hi != self._ub))
        if new.size:
            _check(h.changeColsBounds(new.size, new.astype(np.int32), lo[new], hi[new]),
                   "setting column bounds")
            self._lb, self._ub = lo, hi
        kinds = (np.asarray(integrality) > 0).astype(np.uint8)  # HighsVarType 1 = integer
        new = np.flatnonzero(kinds != self._kinds)
        if new.size:
            _check(h.changeColsIntegrality(new.size, new.astype(np.int32), kinds[new]),
                   "setting integrality")
            self._kinds = kinds
        mip = bool(kinds.any())
        if mip:
            _check(h.setOptionValue("mip_abs_gap", float(abs_gap)), "setting mip_abs_gap")
            if start is not None:
                sol = highspy.HighsSolution()
                sol.col_value = np.asarray(start, float)
                sol.value_valid = True
                h.setSolution(sol)  # a hint only: HiGHS checks and may discard it
        # the sub-MIP heuristics switched off for this run only
        heuristics_off = (("mip_heuristic_run_rins",) if not sub_mips else ()) + (
            ("mip_heuristic_run_rens",) if not (sub_mips and rens) else ())
        _set_options(h, heuristics_off, False)
        off = not presolve
        if off:
            _check(h.setOptionValue("presolve", "off"), "turning presolve off")
        h.run()
        status = h.getModelStatus()
        if not off and status in (_S.kInfeasible, _S.kUnboundedOrInfeasible):
            # HiGHS 1.16's presolve has called a feasible window infeasible (an LP with
            # a 2e-9 MW minimum load, found by tests/test_optimal_properties.py): a
            # verdict of infeasibility is confirmed without presolve
            _check(h.setOptionValue("presolve", "off"), "turning presolve off")
            h.run()
            status = h.getModelStatus()
            off = True
        if off:
            _check(h.setOptionValue("presolve", "choose"), "turning presolve on")
        _set_options(h, heuristics_off, True)
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


def highs_lp(c: Any, A: Any, col_lo: Any, col_hi: Any, row_lo: Any,
             row_hi: Any) -> highspy.HighsLp:
    """Return ``min c x, row_lo <= A x <= row_hi, col_lo <= x <= col_hi`` as a HiGHS LP.

    Column-wise, infinite bounds as HiGHS's infinity, ready for ``passModel``; used by
    the optimal strategy's windows and by sizing.
    """
    csc = sparse.csc_array(A)
    csc.sort_indices()
    m, n = csc.shape
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.col_cost_ = np.asarray(c, float)
    lp.col_lower_, lp.col_upper_ = highs_bounds(col_lo), highs_bounds(col_hi)
    lp.row_lower_, lp.row_upper_ = highs_bounds(row_lo), highs_bounds(row_hi)
    a = lp.a_matrix_
    a.format_ = highspy.MatrixFormat.kColwise
    a.num_col_, a.num_row_ = n, m
    a.start_ = csc.indptr.astype(np.int32)
    a.index_ = csc.indices.astype(np.int32)
    a.value_ = csc.data.astype(float)
    return lp


def highs_bounds(v: Any) -> np.ndarray:
    """Bounds as floats, infinite ones as HiGHS's infinity."""
    return np.clip(np.asarray(v, float), -highspy.kHighsInf, highspy.kHighsInf)



def _set_options(h: Any, names: tuple[str, ...], value: bool) -> None:
    for name in names:
        _check(h.setOptionValue(name, value), f"setting HiGHS option {name}")


def _check(status: highspy.HighsStatus, what: str) -> None:
    if status == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS refused {what}")
