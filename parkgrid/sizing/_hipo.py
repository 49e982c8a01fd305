"""The sizing LP solved by HiGHS's HiPO interior point (through cyhighs), one run per solve.

highspy's wheels are built without the linear-algebra libraries HiPO needs (BLAS,
METIS, AMD: ``solver="hipo"`` is refused there); cyhighs ships a HiGHS build with
them (HiGHS 1.15 with OpenBLAS). HiPO factorises the Newton system directly, and on
the year-long sizing LP, whose time chains (battery, tank) make a banded system and
whose few capacity columns are dense, it needs far less time than simplex or IPX:
measured on the flagship, 13 weeks 25 CPU-s against 51 (IPX) and 51 (simplex).
The augmented system is asked for: HiPO's default first tries the normal
equations, where the dense capacity columns fill a block of (steps x steps) and the
13-week LP already took 4.3 GB.

:class:`HipoLp` has :class:`~parkgrid.sizing._highs_lp.HighsLp`'s interface; each
:meth:`HipoLp.run` solves from scratch (an interior point does not warm-start) with
the columns' current costs and bounds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

__all__ = ["HipoLp", "hipo_available"]

_INF = 1e30  # HiGHS's infinity


def _cyhighs() -> Any:
    try:
        import cyhighs  # optional at run time: IPX stands in without it
    except ImportError:  # pragma: no cover - a platform without a cyhighs wheel
        return None
    return cyhighs


def hipo_available() -> bool:
    """Whether HiPO can be used (cyhighs is installed)."""
    return _cyhighs() is not None


class HipoLp:
    """The LP ``min c x, rlo <= A x <= rhi, lb <= x <= ub`` for HiPO; re-solved from scratch."""

    def __init__(self, c: np.ndarray, A: sparse.csr_array, rlo: np.ndarray, rhi: np.ndarray,
                 lb: np.ndarray, ub: np.ndarray, *, time_limit_s: float) -> None:
        cy = _cyhighs()
        if cy is None:
            raise ValueError("sizing: solver 'hipo' needs the cyhighs package "
                             "(pip install cyhighs)")
        self._cy = cy
        csc = sparse.csc_array(A)
        csc.sum_duplicates()
        csc.eliminate_zeros()
        csc.sort_indices()
        self._a = (np.ascontiguousarray(csc.data, float), csc.indices.astype(np.int32),
                   csc.indptr.astype(np.int32))
        self.c = np.array(c, float)
        self.lb, self.ub = _clip(lb), _clip(ub)
        self.rlo, self.rhi = _clip(rlo), _clip(rhi)
        o = cy.HighsOption
        self._options = {
            o.OUTPUT_FLAG: False, o.SOLVER: "hipo", o.HIPO_SYSTEM: "augmented",
            # the interior point's own optimum is the design (as with IPX in HighsLp)
            o.RUN_CROSSOVER: "off", o.TIME_LIMIT: float(time_limit_s),
            o.PRIMAL_FEASIBILITY_TOLERANCE: 1e-7, o.DUAL_FEASIBILITY_TOLERANCE: 1e-7,
        }

    def set_cols(self, idx: np.ndarray, *, cost: np.ndarray | None = None,
                 lb: np.ndarray | None = None, ub: np.ndarray | None = None) -> None:
        i = np.asarray(idx, np.int64)
        if cost is not None:
            self.c[i] = cost
        if lb is not None and ub is not None:
            self.lb[i], self.ub[i] = _clip(lb), _clip(ub)

    def set_rows(self, idx: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        i = np.asarray(idx, np.int64)
        self.rlo[i], self.rhi[i] = _clip(lo), _clip(hi)

    def run(self) -> tuple[str, np.ndarray | None, float]:
        cy = self._cy
        data, indices, indptr = self._a
        r = cy.solve_linear_problem(
            self.c, constraint_matrix_values=data, constraint_matrix_row_indices=indices,
            constraint_matrix_column_pointers=indptr, constraint_lower_bounds=self.rlo,
            constraint_upper_bounds=self.rhi, variable_lower_bounds=self.lb,
            variable_upper_bounds=self.ub, options=self._options)
        s = cy.ModelStatus
        if r.model_status == s.OPTIMAL:
            return "optimal", np.asarray(r.column_values, float), float(r.objective_value)
        if r.model_status in (s.INFEASIBLE, s.UNBOUNDED_OR_INFEASIBLE):
            return "infeasible", None, np.inf
        return f"HiGHS model status {r.model_status.name.lower()}", None, np.inf


def _clip(v: Any) -> np.ndarray:
    return np.clip(np.asarray(v, float), -_INF, _INF)
