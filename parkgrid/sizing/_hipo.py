"""The sizing LP solved by HiGHS's HiPO interior point (through cyhighs), one run per solve.

highspy's wheels are built without the linear-algebra libraries HiPO needs (BLAS,
METIS, AMD: ``solver="hipo"`` is refused there); cyhighs ships a HiGHS build with
them (HiGHS 1.15 with OpenBLAS). HiPO factorises the Newton system directly, and on
the year-long sizing LP, whose time chains (battery, tank) make a banded system and
whose few capacity columns are dense, it needs far less time than simplex or IPX:
measured on the flagship, 13 weeks 25 CPU-s against 51 (IPX) and 51 (simplex).

Dense columns are split. Each capacity column (and each period's peak column)
touches a row in every step; in the normal equations ``A D A^T`` such a column fills
a block of (steps x steps) (the 13-week LP took 4.3 GB), and in the augmented
system, which has no such fill, every step costs about 27 unknowns in about 8
supernodes of 3 or 4 columns each, a factorisation that is all overhead (273,649
supernodes on the year, 1.2e8 flops). Given each column's step (``col_step``),
:class:`HipoLp` gives a column with more than ``_DENSE_NNZ`` non-zeros one copy per
``_SPLIT_STEPS`` steps, each copy taking that group's rows, linked by ``copy_g -
copy_g+1 = 0`` (the standard interior-point treatment of dense columns), and
factorises the normal equations, now banded. The LP is the same (the copies are
equal; the cost is the original's, every copy has its bounds). HiGHS's presolve is
off for the split LP, as it substitutes the links back (doubleton equations);
without the split it removed 36 of 87,362 rows on 13 weeks.

Measured on the flagship's first solve (6 Dec 2026, loaded machine, load 7-12 on 2
cores, HiPO's own log): 4 weeks, augmented 21,028 supernodes, 37 iterations, 7.4
and 7.8 CPU-s; split per 4 steps 40 iterations, 3.8 and 3.8 CPU-s; per 8 steps 39
iterations, 4.2 and 3.7 CPU-s (interleaved runs). 13 weeks: augmented 68,216
supernodes, 41 iterations, 35.1 CPU-s (load 10); per 4 steps 7,425 supernodes, 48
iterations, 21.4-22.7 CPU-s (load 7-10); per 8 steps 4,952 supernodes but 56
iterations, 24.9 CPU-s (load 12). A factorisation is cheaper, the normal equations
take more iterations; 4 steps per copy is the default. Objectives agree with
simplex's to 1e-9 relative (4 weeks) and with the augmented system's to 1.5e-8 (13 weeks).
The year, first solve, split per 4 steps: 29,501 supernodes (avg 14 columns), factor
9.6 M non-zeros, 2.5e8 flops, 66 iterations (augmented: 56), 128.9 CPU-s, 472 s
wall at load 5-7, peak memory 685 MB; both solves split per 8 steps 288.5 CPU-s
(115.7 + 172.7), 1,790 s wall at load 10, 1.11 GB; the augmented system took
265-362 CPU-s and 1.33-1.51 GB (earlier session, load 5-8). On the year the extra
iterations eat part of the cheaper factorisations. Both solves of the year with
these defaults at load 1-2 (``benchmarks/bench_sizing.py --lp-only``, /usr/bin/time):
246.6 s wall, 205.1 s CPU (97.4 + 107.1), peak 1.10 GB, 24.157 M CNY/yr; the same
run with ``--hipo-split 0`` (the augmented system) right after, at load 1-2, took
362 s wall and its second solve stopped with HiPO's status "unknown" (peak 1.56 GB).

Without presolve, each run first drops the LP's fixed columns and turns its singleton
rows into column bounds (:class:`_Reduced`): the second solve fixes every direction
step's other direction to 0, which leaves that step's hull row with one column. The
year, both solves, hull first solve, interleaved within ten minutes at load about 2
(``bench_sizing.py --lp-only``): 192.5 s wall, 187.5 s CPU (74.7 + 112.8) against
242.8 s wall, 236.6 s CPU (83.6 + 153.0) without the reduction; the same design
(24,265,559 against 24,265,562 CNY/yr) and bound.

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
#: columns with more non-zeros than this are split (module doc); per-step columns
#: have at most about 6, capacity and peak columns one or two per step
_DENSE_NNZ = 200
#: steps per copy of a split column, 0: no split (module doc: 4 measured best)
_SPLIT_STEPS = 4


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
                 lb: np.ndarray, ub: np.ndarray, *, time_limit_s: float,
                 col_step: np.ndarray | None = None) -> None:
        cy = _cyhighs()
        if cy is None:
            raise ValueError("sizing: solver 'hipo' needs the cyhighs package "
                             "(pip install cyhighs)")
        self._cy = cy
        csc = sparse.csc_array(A)
        csc.sum_duplicates()
        csc.eliminate_zeros()
        csc.sort_indices()
        self.n = csc.shape[1]
        self.lb, self.ub = _clip(lb), _clip(ub)
        self.rlo, self.rhi = _clip(rlo), _clip(rhi)
        #: original column -> its copies beyond itself (module doc)
        self._copies: dict[int, np.ndarray] = {}
        if col_step is not None and _SPLIT_STEPS > 0:
            csc, self._copies = _split_dense(csc, np.asarray(col_step, np.int64))
        extra = csc.shape[1] - self.n
        self.c = np.concatenate([np.array(c, float), np.zeros(extra)])
        self.lb = np.concatenate([self.lb, np.zeros(extra)])
        self.ub = np.concatenate([self.ub, np.zeros(extra)])
        for j, ids in self._copies.items():
            self.lb[ids], self.ub[ids] = self.lb[j], self.ub[j]
        links = csc.shape[0] - self.rlo.size
        self.rlo = np.concatenate([self.rlo, np.zeros(links)])
        self.rhi = np.concatenate([self.rhi, np.zeros(links)])
        self._a = (np.ascontiguousarray(csc.data, float), csc.indices.astype(np.int32),
                   csc.indptr.astype(np.int32))
        o = cy.HighsOption
        self._options = {
            o.OUTPUT_FLAG: False, o.SOLVER: "hipo",
            # the interior point's own optimum is the design (as with IPX in HighsLp)
            o.RUN_CROSSOVER: "off", o.TIME_LIMIT: float(time_limit_s),
            o.PRIMAL_FEASIBILITY_TOLERANCE: 1e-7, o.DUAL_FEASIBILITY_TOLERANCE: 1e-7,
        }
        if self._copies:  # banded normal equations (module doc); HiPO's "choose"
            # orders by AMD and by METIS and keeps one: on the year it kept AMD, after
            # 24 s of analysis (load 5), so AMD is asked for directly
            self._options.update({o.HIPO_SYSTEM: "normaleq", o.PRESOLVE: "off",
                                  o.HIPO_ORDERING: "amd"})
        else:  # the dense columns would fill the normal equations
            self._options[o.HIPO_SYSTEM] = "augmented"

    def set_cols(self, idx: np.ndarray, *, cost: np.ndarray | None = None,
                 lb: np.ndarray | None = None, ub: np.ndarray | None = None) -> None:
        i = np.asarray(idx, np.int64)
        if cost is not None:
            self.c[i] = cost
        if lb is not None and ub is not None:
            self.lb[i], self.ub[i] = _clip(lb), _clip(ub)
            for j in i.tolist():  # a split column's copies share its bounds
                if j in self._copies:
                    self.lb[self._copies[j]], self.ub[self._copies[j]] = self.lb[j], self.ub[j]

    def set_rows(self, idx: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        i = np.asarray(idx, np.int64)
        self.rlo[i], self.rhi[i] = _clip(lo), _clip(hi)

    def run(self) -> tuple[str, np.ndarray | None, float]:
        cy = self._cy
        red = _Reduced(self._a, self.c, self.lb, self.ub, self.rlo, self.rhi)
        if red.infeasible:
            return "infeasible", None, np.inf
        r = cy.solve_linear_problem(
            red.c, constraint_matrix_values=red.data, constraint_matrix_row_indices=red.indices,
            constraint_matrix_column_pointers=red.indptr, constraint_lower_bounds=red.rlo,
            constraint_upper_bounds=red.rhi, variable_lower_bounds=red.lb,
            variable_upper_bounds=red.ub, options=self._options)
        s = cy.ModelStatus
        if r.model_status == s.OPTIMAL:
            x = red.expand(np.asarray(r.column_values, float))
            return "optimal", x[:self.n], float(r.objective_value) + red.fixed_cost
        if r.model_status in (s.INFEASIBLE, s.UNBOUNDED_OR_INFEASIBLE):
            return "infeasible", None, np.inf
        return f"HiGHS model status {r.model_status.name.lower()}", None, np.inf


class _Reduced:
    """The LP without its fixed columns and with its singleton rows as column bounds.

    The split LP runs without HiGHS's presolve (module doc), so the two reductions
    that cost nothing and matter here are made before each run: a column with
    ``lb == ub`` (a second solve fixes each direction step's other direction to 0) is
    substituted into the row bounds, and a row left with one column (the hull row
    ``imp / I + exp / E <= 1`` of such a step) becomes that column's bounds. Rows left
    empty are dropped, after checking that 0 lies within their bounds (else the LP is
    infeasible). The reduced LP has the same optimal set in the kept columns.
    """

    def __init__(self, a: tuple[np.ndarray, np.ndarray, np.ndarray], c: np.ndarray,
                 lb: np.ndarray, ub: np.ndarray, rlo: np.ndarray, rhi: np.ndarray) -> None:
        data, indices, indptr = a
        n = indptr.size - 1
        m = rlo.size
        A = sparse.csc_array((data, indices, indptr), shape=(m, n))
        fixed = lb == ub
        self.n = n
        self.keep = np.flatnonzero(~fixed)
        self.fixed_x = np.where(fixed, lb, 0.0)
        self.fixed_cost = float(c[fixed] @ lb[fixed]) if fixed.any() else 0.0
        shift = A @ self.fixed_x
        big = _INF * 0.5  # an infinite bound stays infinite
        rlo = np.where(rlo <= -big, rlo, rlo - shift)
        rhi = np.where(rhi >= big, rhi, rhi - shift)
        Ak = sparse.csr_array(A[:, self.keep])
        lbk, ubk = lb[self.keep].copy(), ub[self.keep].copy()
        nnz = np.diff(Ak.indptr)
        tol = 1e-9
        self.infeasible = bool(np.any((nnz == 0) & ((rlo > tol) | (rhi < -tol))))
        single = np.flatnonzero(nnz == 1)
        if single.size:
            j = Ak.indices[Ak.indptr[single]]
            v = Ak.data[Ak.indptr[single]]
            lo_r, hi_r = rlo[single], rhi[single]
            with np.errstate(divide="ignore", invalid="ignore"):
                lo = np.where(v > 0, np.where(lo_r <= -big, -_INF, lo_r / v),
                              np.where(hi_r >= big, -_INF, hi_r / v))
                hi = np.where(v > 0, np.where(hi_r >= big, _INF, hi_r / v),
                              np.where(lo_r <= -big, _INF, lo_r / v))
            np.maximum.at(lbk, j, lo)
            np.minimum.at(ubk, j, hi)
            self.infeasible |= bool(np.any(lbk > ubk + tol))
            ubk = np.maximum(ubk, lbk)  # within tol: equal
        rows = np.flatnonzero(nnz >= 2)
        Ar = sparse.csc_array(Ak[rows])
        Ar.sort_indices()
        self.data = np.ascontiguousarray(Ar.data, float)
        self.indices = Ar.indices.astype(np.int32)
        self.indptr = Ar.indptr.astype(np.int32)
        self.c = np.ascontiguousarray(c[self.keep], float)
        self.lb, self.ub = lbk, ubk
        self.rlo, self.rhi = rlo[rows], rhi[rows]

    def expand(self, xk: np.ndarray) -> np.ndarray:
        x = self.fixed_x.copy()
        x[self.keep] = xk
        return x


def _split_dense(csc: sparse.csc_array, col_step: np.ndarray
                 ) -> tuple[sparse.csc_array, dict[int, np.ndarray]]:
    """Split each dense column of *csc* into copies per ``_SPLIT_STEPS`` steps (module doc).

    A row's step is the least step of its columns (``col_step`` < 0: a column of no
    step; a row of none goes with the first group). Returns the matrix with the
    copies appended as columns and the link rows appended as rows, and the copies
    of each split column.
    """
    m, n = csc.shape
    dense = np.flatnonzero(np.diff(csc.indptr) > _DENSE_NNZ)
    if dense.size == 0:
        return csc, {}
    csr = csc.tocsr()
    rows = np.repeat(np.arange(m), np.diff(csr.indptr))
    steps = col_step[csr.indices]
    timed = steps >= 0
    big = np.iinfo(np.int64).max
    row_step = np.full(m, big)
    np.minimum.at(row_step, rows[timed], steps[timed])
    row_step[row_step == big] = 0
    coo = csc.tocoo()
    r, col, v = coo.row, coo.col.astype(np.int64), coo.data
    copies: dict[int, np.ndarray] = {}
    link_r, link_c, link_v = [], [], []
    n_new, m_new = n, m
    for j in dense.tolist():
        at = np.flatnonzero(col == j)
        group = row_step[r[at]] // _SPLIT_STEPS
        groups = np.unique(group)
        if groups.size < 2:
            continue
        ids = np.concatenate([[j], n_new + np.arange(groups.size - 1)])
        n_new += groups.size - 1
        col[at] = ids[np.searchsorted(groups, group)]
        k = m_new + np.arange(groups.size - 1)  # ids[g] - ids[g + 1] = 0
        m_new += groups.size - 1
        link_r += [k, k]
        link_c += [ids[:-1], ids[1:]]
        link_v += [np.ones(k.size), -np.ones(k.size)]
        copies[j] = ids[1:]
    out = sparse.csc_array((np.concatenate([v, *link_v]),
                            (np.concatenate([r, *link_r]), np.concatenate([col, *link_c]))),
                           shape=(m_new, n_new))
    out.sort_indices()
    return out, copies


def _clip(v: Any) -> np.ndarray:
    return np.clip(np.asarray(v, float), -_INF, _INF)
