"""Sparse LU without pivoting on a fixed pattern: symbolic once, numeric in numba.

Power-flow matrices (the reduced bus admittance matrix and the Newton-Raphson
Jacobian) are structurally symmetric and keep their pattern for a whole run, so
the fill-reducing ordering and the fill pattern are computed once here (pure
Python, set-up time only) and the numeric factorisation and triangular solves are
small ``@njit`` loops that work for float64 and complex128 alike. Diagonal pivots
are used as they come (as in most power-flow codes); a zero pivot makes the
factorisation report failure instead of producing inf.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from parkgrid.powerflow._jit import inner, kernel

__all__ = ["Symbolic", "fill_reducing_order", "lu_factor", "lu_solve", "symbolic"]


@dataclass(frozen=True)
class Symbolic:
    """Ordering and fill pattern of a structurally symmetric sparse matrix.

    Attributes
    ----------
    perm:
        New position -> original index (rows and columns alike).
    a_indptr, a_indices:
        CSC pattern of the permuted matrix (rows sorted).
    l_indptr, l_indices:
        CSC pattern of the strictly lower factor L (rows sorted, ascending).
    u_indptr, u_indices:
        CSC pattern of the strictly upper factor U (rows sorted, ascending).
    """

    n: int
    perm: np.ndarray
    a_indptr: np.ndarray
    a_indices: np.ndarray
    l_indptr: np.ndarray
    l_indices: np.ndarray
    u_indptr: np.ndarray
    u_indices: np.ndarray

    def position(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Positions in the permuted CSC data of original entries ``(rows, cols)``."""
        inv = np.empty(self.n, dtype=np.int64)
        inv[self.perm] = np.arange(self.n)
        r, c = inv[rows], inv[cols]
        out = _positions(self.a_indptr, self.a_indices, r.astype(np.int64),
                         c.astype(np.int64))
        if len(out) and out.min() < 0:
            k = int(np.argmin(out))
            raise KeyError(f"entry ({rows[k]}, {cols[k]}) not in pattern")
        return out


def _positions(indptr: np.ndarray, indices: np.ndarray, r: np.ndarray,
               c: np.ndarray) -> np.ndarray:
    """Index into CSC data of each entry (r[k], c[k]); -1 if absent.

    The entries of a CSC pattern with sorted rows, keyed ``col * n_rows + row``,
    are in ascending order, so one ``searchsorted`` finds them all.
    """
    n_rows = int(max(indices.max(initial=-1), r.max(initial=-1))) + 1
    cols = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    keys = cols * n_rows + indices
    want = c * n_rows + r
    out = np.searchsorted(keys, want)
    hit = out < len(keys)
    hit[hit] = keys[out[hit]] == want[hit]
    return np.where(hit, out, -1).astype(np.int64)


#: largest matrix whose fill :func:`_fill` works out in Python: up to here that is
#: cheaper than compiling :func:`_fill_kernel` (about 1 s of CPU, once per
#: installation; a 200-unknown pattern takes about 1 ms in Python)
PY_FILL_MAX_N = 2000


def _fill(pattern: sp.csc_matrix) -> tuple[np.ndarray, np.ndarray, int]:
    """Symbolic Cholesky-like fill of a symmetric pattern: rows of L (strict)."""
    n = pattern.shape[0]
    indptr = pattern.indptr.astype(np.int64)
    indices = pattern.indices.astype(np.int64)
    if n <= PY_FILL_MAX_N:
        rows, cols, nnz = fill_python(n, indptr, indices)
    else:
        rows, cols, nnz = _fill_kernel(n, indptr, indices)
    return rows[:nnz], cols[:nnz], int(nnz)


def fill_python(n: int, indptr: np.ndarray, indices: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`_fill_kernel` in plain Python (the same algorithm, the same output order).

    The elimination tree (Liu's algorithm with path compression through
    ``ancestor``), then row k of L as the reach of row k's pattern in the tree.
    """
    ptr = indptr.tolist()
    idx = indices.tolist()
    parent = [-1] * n
    ancestor = [-1] * n
    for k in range(n):
        for p in range(ptr[k], ptr[k + 1]):
            i = idx[p]
            while i != -1 and i < k:
                nxt = ancestor[i]
                ancestor[i] = k
                if nxt == -1:
                    parent[i] = k
                i = nxt
    mark = [-1] * n
    rows: list[int] = []
    cols: list[int] = []
    for k in range(n):
        mark[k] = k
        for p in range(ptr[k], ptr[k + 1]):
            i = idx[p]
            while i < k and mark[i] != k:
                rows.append(k)
                cols.append(i)
                mark[i] = k
                i = parent[i]
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), len(rows)


@kernel
def _fill_kernel(n, indptr, indices):  # pragma: no cover - numba
    parent = np.full(n, -1, dtype=np.int64)
    ancestor = np.full(n, -1, dtype=np.int64)
    for k in range(n):  # elimination tree (Liu)
        for p in range(indptr[k], indptr[k + 1]):
            i = indices[p]
            while i != -1 and i < k:
                nxt = ancestor[i]
                ancestor[i] = k
                if nxt == -1:
                    parent[i] = k
                i = nxt
    # row k of L = reach of its pattern in the tree: counted first, then written
    mark = np.full(n, -1, dtype=np.int64)
    nnz = _reach(n, indptr, indices, parent, mark, np.zeros(0, np.int64),
                 np.zeros(0, np.int64))
    rows = np.empty(nnz, dtype=np.int64)
    cols = np.empty(nnz, dtype=np.int64)
    mark[:] = -1
    _reach(n, indptr, indices, parent, mark, rows, cols)
    return rows, cols, nnz


@inner
def _reach(n, indptr, indices, parent, mark, rows, cols):  # pragma: no cover - numba
    """Count the strict-lower fill entries, and write them if ``rows`` has room."""
    write = rows.shape[0] > 0
    nnz = 0
    for k in range(n):
        mark[k] = k
        for p in range(indptr[k], indptr[k + 1]):
            i = indices[p]
            while i < k and mark[i] != k:
                if write:
                    rows[nnz] = k
                    cols[nnz] = i
                nnz += 1
                mark[i] = k
                i = parent[i]
    return nnz


def _csc(rows: np.ndarray, cols: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    m = sp.csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    m.sum_duplicates()
    m.sort_indices()
    return m.indptr.astype(np.int64), m.indices.astype(np.int64)


def _best_order(rows: np.ndarray, cols: np.ndarray,
                n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the ordering of :func:`fill_reducing_order` and its fill (L's rows, cols)."""
    sym = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    sym = (abs(sym) + abs(sym).T + sp.identity(n, format="csr")).tocsc()
    sym.data[:] = -1.0
    deg = np.diff(sym.indptr)
    sym.setdiag(deg + 1.0)  # an M-matrix: SuperLU never needs to pivot
    candidates = [np.arange(n, dtype=np.int64)]
    if n > 2:
        lu = splu(sym, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                  options={"SymmetricMode": True})
        candidates += [np.argsort(lu.perm_c), np.asarray(lu.perm_c, dtype=np.int64)]
    best: tuple[int, np.ndarray, np.ndarray, np.ndarray] | None = None
    for perm in candidates:
        a = sym[perm][:, perm].tocsc()
        a.sort_indices()
        lr, lc, nnz = _fill(a)
        if best is None or nnz < best[0]:
            best = (nnz, perm, lr, lc)
    assert best is not None
    _, perm, lr, lc = best
    return perm.astype(np.int64), lr, lc


def fill_reducing_order(rows: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    """Symmetric ordering (new position -> original index) for the LU of an n x n matrix.

    The pattern given by entries ``(rows, cols)`` is symmetrised and given a full
    diagonal; the ordering is the better (less fill) of SuperLU's minimum degree on
    A+A' and the natural order.
    """
    return _best_order(rows, cols, n)[0]


def symbolic(rows: np.ndarray, cols: np.ndarray, n: int) -> Symbolic:
    """Order (:func:`fill_reducing_order`) and analyse the pattern ``(rows, cols)``."""
    perm, lr, lc = _best_order(rows, cols, n)
    l_indptr, l_indices = _csc(lr, lc, n)
    u_indptr, u_indices = _csc(lc, lr, n)
    # the permuted pattern of the matrix itself, as given (not symmetrised)
    inv = np.empty(n, dtype=np.int64)
    inv[perm] = np.arange(n)
    a_indptr, a_indices = _csc(np.concatenate([inv[rows], np.arange(n)]),
                               np.concatenate([inv[cols], np.arange(n)]), n)
    return Symbolic(n, perm, a_indptr, a_indices, l_indptr, l_indices, u_indptr, u_indices)


@inner
def lu_factor(n, a_indptr, a_indices, a_data, l_indptr, l_indices, l_data,
              u_indptr, u_indices, u_data, u_diag, work):  # pragma: no cover - numba
    """Numeric left-looking LU of the permuted matrix into preallocated factors.

    ``work`` is a zeroed dense vector of length n (left zeroed on return).
    ``u_diag`` receives the *reciprocals* of U's diagonal (solves multiply, which is
    much cheaper than complex division). Returns False on a zero pivot.
    """
    for k in range(n):
        for p in range(a_indptr[k], a_indptr[k + 1]):
            work[a_indices[p]] = a_data[p]
        for p in range(u_indptr[k], u_indptr[k + 1]):
            i = u_indices[p]
            xi = work[i]
            u_data[p] = xi
            work[i] = 0.0
            if xi != 0.0:
                for q in range(l_indptr[i], l_indptr[i + 1]):
                    work[l_indices[q]] -= l_data[q] * xi
        d = work[k]
        work[k] = 0.0
        if d == 0.0:
            return False
        inv = 1.0 / d
        u_diag[k] = inv
        for p in range(l_indptr[k], l_indptr[k + 1]):
            r = l_indices[p]
            l_data[p] = work[r] * inv
            work[r] = 0.0
    return True


@inner
def lu_solve(n, l_indptr, l_indices, l_data, u_indptr, u_indices, u_data, u_diag,
             b):  # pragma: no cover - numba
    """Solve (LU) x = b in place, in the permuted order."""
    for j in range(n):
        bj = b[j]
        if bj != 0.0:
            for p in range(l_indptr[j], l_indptr[j + 1]):
                b[l_indices[p]] -= l_data[p] * bj
    for j in range(n - 1, -1, -1):
        b[j] = b[j] * u_diag[j]
        bj = b[j]
        if bj != 0.0:
            for p in range(u_indptr[j], u_indptr[j + 1]):
                b[u_indices[p]] -= u_data[p] * bj
