"""The power-flow kernels' arguments as named structures, built and checked in one place.

The kernels in :mod:`parkgrid.powerflow._kernels` take a handful of NamedTuples of
arrays (numba passes a NamedTuple as a struct: a field read compiles to the same
code as a positional argument). Every field's dtype, shape and unit is written in
its class's docstring and checked by :func:`check` against :data:`SPECS`: numba
compiles one specialisation per distinct argument type, so an int32 index array,
a strided view or a read-only array would not fail but silently compile (and cache)
a second copy of every kernel; a wrong length would read out of bounds. So every
array must have the stated dtype, be C-contiguous and writeable, and agree in
length with the other fields (named dimensions such as ``n``, the internal buses,
are bound by the first field that uses them and checked in all the others).

:func:`pack_kernel_args` builds the network-derived structures of a run from a
:class:`~parkgrid.powerflow._model.NetModel` (including the set-up of both
solvers: the fixed point's factorisation of ``Ynn`` and Newton-Raphson's Jacobian
pattern); :func:`solver_options`, :func:`outputs` and :func:`fallback` build the
per-run and per-worker ones.

numba's on-disk cache does not see changes here (see :mod:`._jit`): after adding,
removing or reordering a field, delete the package's ``__pycache__/*.nbi`` and
``*.nbc`` files.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numba
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from parkgrid.powerflow._kernels import empty_2d, solve_chunk_lanes
from parkgrid.powerflow._sparse import fill_reducing_order, symbolic

if TYPE_CHECKING:  # annotations only: compiling ahead needs no pandapower
    from parkgrid.powerflow._model import NetModel

__all__ = [
    "SPECS",
    "Fallback",
    "FixedPointFactors",
    "Grid",
    "Injections",
    "KernelArgs",
    "NewtonPattern",
    "Outputs",
    "ResultMaps",
    "SolverOptions",
    "check",
    "compile_ahead",
    "fallback",
    "lanes_signature",
    "outputs",
    "pack_kernel_args",
    "solver_options",
]


class SolverOptions(NamedTuple):
    """Solver settings of one run (scalars).

    Attributes
    ----------
    mode:
        int: 0 fixed point with a per-step Newton-Raphson fallback, 1 fixed point
        only (steps it misses are flagged), 2 Newton-Raphson only.
    tol_pu:
        float: largest active/reactive power mismatch accepted [pu on base_mva].
    max_iter:
        int: iteration limit per step of Newton-Raphson (and of the fixed point in
        mode 1).
    fp_max_iter:
        int: fixed-point iterations tried in mode 0 before a step falls back.
    """

    mode: int
    tol_pu: float
    max_iter: int
    fp_max_iter: int


class Grid(NamedTuple):
    """Bus admittance matrix, set-points and bus types, in the internal bus order.

    ``n`` internal buses (in service and connected), ``nnz`` entries of ``Ybus``.

    Attributes
    ----------
    y_indptr, y_indices, y_data:
        ``Ybus`` in CSR form (explicit diagonal, sorted indices): int64 (n+1,),
        int64 (nnz,), complex128 (nnz,) [pu].
    v_set:
        complex128 (n,): start voltages with the slack and PV set-points [pu].
    ref, pv, pq:
        int64 (n_ref,), (n_pv,), (n_pq,): internal indices of the slack, PV and PQ
        buses.
    """

    y_indptr: np.ndarray
    y_indices: np.ndarray
    y_data: np.ndarray
    v_set: np.ndarray
    ref: np.ndarray
    pv: np.ndarray
    pq: np.ndarray


class Injections(NamedTuple):
    """How a row of profile values becomes the bus injections of a step.

    ``S[b] = sbus_base[b] + sum over columns c with inj_bus[c] == b of
    inj_coef[c] * X[t, c]``, for ``n_col`` profile columns.

    Attributes
    ----------
    sbus_base:
        complex128 (n,): injection of everything not profiled (gen - load) [pu].
    inj_bus:
        int64 (n_col,): internal bus of each profile column, ``-1`` if inactive.
    inj_coef:
        complex128 (n_col,): injection per profile unit [pu per MW or Mvar].
    """

    sbus_base: np.ndarray
    inj_bus: np.ndarray
    inj_coef: np.ndarray


class NewtonPattern(NamedTuple):
    """Newton-Raphson's Jacobian layout and the symbolic LU of its fixed pattern.

    ``m = n_pv + 2 n_pq`` unknowns (angles of PV and PQ buses, then magnitudes of
    PQ buses); ``nnz_j``, ``nnz_jl``, ``nnz_ju``: entries of the permuted Jacobian
    and of its strictly lower and upper factors.

    Attributes
    ----------
    jp, jq:
        int64 (n,): unknown index of each bus's angle and magnitude, ``-1`` if fixed.
    pos_pa, pos_pm, pos_qa, pos_qm:
        int64 (nnz,): for each ``Ybus`` entry, its position in the Jacobian's data
        (dP/dangle, dP/d|V|, dQ/dangle, dQ/d|V|), ``-1`` if none.
    j_perm:
        int64 (m,): fill-reducing order (new position -> unknown).
    ja_indptr, ja_indices:
        int64 (m+1,), (nnz_j,): CSC pattern of the permuted Jacobian.
    jl_indptr, jl_indices, ju_indptr, ju_indices:
        int64 (m+1,), (nnz_jl,), (m+1,), (nnz_ju,): CSC patterns of L and U.
    """

    jp: np.ndarray
    jq: np.ndarray
    pos_pa: np.ndarray
    pos_pm: np.ndarray
    pos_qa: np.ndarray
    pos_qm: np.ndarray
    j_perm: np.ndarray
    ja_indptr: np.ndarray
    ja_indices: np.ndarray
    jl_indptr: np.ndarray
    jl_indices: np.ndarray
    ju_indptr: np.ndarray
    ju_indices: np.ndarray


class FixedPointFactors(NamedTuple):
    """The fixed point's once-factorised ``Ynn`` (PQ rows and columns of ``Ybus``).

    ``m_fp = n_pq`` on PQ-only grids; all arrays empty (``m_fp = 0``) where the
    fixed point does not apply. ``nnz_fl``, ``nnz_fu``: entries of the strictly
    lower and upper factors.

    Attributes
    ----------
    fp_c:
        complex128 (m_fp,): ``Yns V_s``, the slack buses' current into each PQ bus
        [pu], in PQ order.
    fp_perm:
        int64 (m_fp,): fill-reducing order (new position -> PQ position).
    fl_indptr, fl_indices, fl_data:
        int64 (m_fp+1,), int64 (nnz_fl,), complex128 (nnz_fl,): strictly lower L
        (unit diagonal) by columns [pu].
    fu_indptr, fu_indices, fu_data:
        int64 (m_fp+1,), int64 (nnz_fu,), complex128 (nnz_fu,): strictly upper U by
        columns [pu].
    fu_diag:
        complex128 (m_fp,): reciprocals of U's diagonal [1/pu].
    """

    fp_c: np.ndarray
    fp_perm: np.ndarray
    fl_indptr: np.ndarray
    fl_indices: np.ndarray
    fl_data: np.ndarray
    fu_indptr: np.ndarray
    fu_indices: np.ndarray
    fu_data: np.ndarray
    fu_diag: np.ndarray


class ResultMaps(NamedTuple):
    """What the results need beyond the bus voltages: branch currents and lookups.

    ``n_br`` internal branches, ``n_bus_pp`` pandapower buses, ``n_term`` loading
    terms, ``n_line`` lines, ``n_loss`` branches summed into the losses, ``n_eg``
    ext_grids.

    Attributes
    ----------
    base_mva:
        float: system base [MVA].
    yf_indptr, yf_indices, yf_data:
        from-end branch admittances ``Yf`` (n_br x n, CSR): int64 (n_br+1,),
        int64 (nnz_yf,), complex128 (nnz_yf,) [pu].
    yt_indptr, yt_indices, yt_data:
        to-end ``Yt``, likewise: int64 (n_br+1,), int64 (nnz_yt,), complex128
        (nnz_yt,) [pu].
    f_bus, t_bus:
        int64 (n_br,): internal from and to bus of each branch.
    bus_lookup:
        int64 (n_bus_pp,): pandapower bus (by position) -> internal bus, ``-1``
        when out of service or isolated.
    load_col, load_br, load_side, load_fac:
        int64, int64, int64, float64, each (n_term,): loading output column,
        internal branch (``-1`` outside the grid: 0 %, ``-2``: NaN), end (0 from,
        1 to) and factor [% per pu current]; a column's loading is its largest term.
    line_br:
        int64 (n_line,): internal branch of each line, ``-1`` if none.
    loss_br:
        int64 (n_loss,): internal branches whose losses are summed.
    eg_bus:
        int64 (n_eg,): internal bus of each ext_grid, ``-1`` if out of service.
    eg_s0:
        complex128 (n_eg,): fixed generation that pandapower books at the ext_grid
        bus [MW + j Mvar].
    eg_inj_ptr, eg_inj_col:
        int64 (n_eg+1,), int64 (n_eg_inj,): the profile columns injecting at each
        ext_grid's bus (:attr:`Injections.inj_bus`), ascending: those of ext_grid
        ``e`` are ``eg_inj_col[eg_inj_ptr[e]:eg_inj_ptr[e + 1]]`` (none for one out
        of service). The ext_grid's power subtracts their injections, so each step
        reads only these columns instead of scanning every column for its bus.
    """

    base_mva: float
    yf_indptr: np.ndarray
    yf_indices: np.ndarray
    yf_data: np.ndarray
    yt_indptr: np.ndarray
    yt_indices: np.ndarray
    yt_data: np.ndarray
    f_bus: np.ndarray
    t_bus: np.ndarray
    bus_lookup: np.ndarray
    load_col: np.ndarray
    load_br: np.ndarray
    load_side: np.ndarray
    load_fac: np.ndarray
    line_br: np.ndarray
    loss_br: np.ndarray
    eg_bus: np.ndarray
    eg_s0: np.ndarray
    eg_inj_ptr: np.ndarray
    eg_inj_col: np.ndarray


class Outputs(NamedTuple):
    """Per-step results, written by the kernels (one row per step of a block).

    ``steps`` rows; ``n_load = n_line + n_trafo + n_trafo3w`` loading columns.

    Attributes
    ----------
    iters:
        int64 (steps,): iterations used.
    mism:
        float64 (steps,): final largest power mismatch [pu].
    meth:
        int8 (steps,): 1 fixed point, 2 Newton-Raphson, 0 failed (``-1`` inside a
        block: left to Newton-Raphson).
    vm, va:
        float64 (steps, n_bus_pp): bus voltage magnitude [pu] and angle [degree].
    loading:
        float64 (steps, n_load): line, transformer, 3-winding transformer loading [%].
    line_p:
        float64 (steps, n_line): line active power at the from-bus [MW].
    eg_p, eg_q:
        float64 (steps, n_eg): ext_grid active and reactive power [MW, Mvar].
    losses:
        float64 (steps,): active losses of all branches [MW].
    """

    iters: np.ndarray
    mism: np.ndarray
    meth: np.ndarray
    vm: np.ndarray
    va: np.ndarray
    loading: np.ndarray
    line_p: np.ndarray
    eg_p: np.ndarray
    eg_q: np.ndarray
    losses: np.ndarray


class Fallback(NamedTuple):
    """Steps the fixed point hands to Newton-Raphson, with their start voltages.

    ``n_seed`` slots per block (one worker's).

    Attributes
    ----------
    seed:
        complex128 (n_seed, n): the lane's last good voltages for each handed-over
        step [pu].
    row:
        int64 (n_seed,): the block row of each handed-over step.
    n_used:
        int64 (1,): slots filled (set to 0 before each block).
    """

    seed: np.ndarray
    row: np.ndarray
    n_used: np.ndarray


#: field -> (dtype, shape) of each structure; a shape entry is a named dimension
#: ("n", or "n+1" for one more), an int, or the shape ``()`` for a scalar
SPECS: dict[type, dict[str, tuple[str, tuple[str | int, ...]]]] = {
    SolverOptions: {"mode": ("int64", ()), "tol_pu": ("float64", ()),
                    "max_iter": ("int64", ()), "fp_max_iter": ("int64", ())},
    Grid: {"y_indptr": ("int64", ("n+1",)), "y_indices": ("int64", ("nnz",)),
           "y_data": ("complex128", ("nnz",)), "v_set": ("complex128", ("n",)),
           "ref": ("int64", ("n_ref",)), "pv": ("int64", ("n_pv",)),
           "pq": ("int64", ("n_pq",))},
    Injections: {"sbus_base": ("complex128", ("n",)), "inj_bus": ("int64", ("n_col",)),
                 "inj_coef": ("complex128", ("n_col",))},
    NewtonPattern: {"jp": ("int64", ("n",)), "jq": ("int64", ("n",)),
                    "pos_pa": ("int64", ("nnz",)), "pos_pm": ("int64", ("nnz",)),
                    "pos_qa": ("int64", ("nnz",)), "pos_qm": ("int64", ("nnz",)),
                    "j_perm": ("int64", ("m",)), "ja_indptr": ("int64", ("m+1",)),
                    "ja_indices": ("int64", ("nnz_j",)), "jl_indptr": ("int64", ("m+1",)),
                    "jl_indices": ("int64", ("nnz_jl",)), "ju_indptr": ("int64", ("m+1",)),
                    "ju_indices": ("int64", ("nnz_ju",))},
    FixedPointFactors: {"fp_c": ("complex128", ("m_fp",)), "fp_perm": ("int64", ("m_fp",)),
                        "fl_indptr": ("int64", ("m_fp+1",)),
                        "fl_indices": ("int64", ("nnz_fl",)),
                        "fl_data": ("complex128", ("nnz_fl",)),
                        "fu_indptr": ("int64", ("m_fp+1",)),
                        "fu_indices": ("int64", ("nnz_fu",)),
                        "fu_data": ("complex128", ("nnz_fu",)),
                        "fu_diag": ("complex128", ("m_fp",))},
    ResultMaps: {"base_mva": ("float64", ()), "yf_indptr": ("int64", ("n_br+1",)),
                 "yf_indices": ("int64", ("nnz_yf",)),
                 "yf_data": ("complex128", ("nnz_yf",)),
                 "yt_indptr": ("int64", ("n_br+1",)), "yt_indices": ("int64", ("nnz_yt",)),
                 "yt_data": ("complex128", ("nnz_yt",)), "f_bus": ("int64", ("n_br",)),
                 "t_bus": ("int64", ("n_br",)), "bus_lookup": ("int64", ("n_bus_pp",)),
                 "load_col": ("int64", ("n_term",)), "load_br": ("int64", ("n_term",)),
                 "load_side": ("int64", ("n_term",)), "load_fac": ("float64", ("n_term",)),
                 "line_br": ("int64", ("n_line",)), "loss_br": ("int64", ("n_loss",)),
                 "eg_bus": ("int64", ("n_eg",)), "eg_s0": ("complex128", ("n_eg",)),
                 "eg_inj_ptr": ("int64", ("n_eg+1",)), "eg_inj_col": ("int64", ("n_eg_inj",))},
    Outputs: {"iters": ("int64", ("steps",)), "mism": ("float64", ("steps",)),
              "meth": ("int8", ("steps",)), "vm": ("float64", ("steps", "n_bus_pp")),
              "va": ("float64", ("steps", "n_bus_pp")),
              "loading": ("float64", ("steps", "n_load")),
              "line_p": ("float64", ("steps", "n_line")),
              "eg_p": ("float64", ("steps", "n_eg")), "eg_q": ("float64", ("steps", "n_eg")),
              "losses": ("float64", ("steps",))},
    Fallback: {"seed": ("complex128", ("n_seed", "n")), "row": ("int64", ("n_seed",)),
               "n_used": ("int64", (1,))},
}


def _check_scalar(where: str, value: object, dtype: str) -> None:
    # exactly what numba types as float64 / int64 (np.float64 is a float; bool is not
    # an int to numba)
    ok = (isinstance(value, float) if dtype == "float64"
          else isinstance(value, int | np.int64) and not isinstance(value, bool))
    if not ok:
        raise TypeError(f"{where}: {type(value).__name__} {value!r}, expected a Python "
                        f"{'float' if dtype == 'float64' else 'int'} (numba {dtype})")


def check(args: tuple, dims: dict[str, tuple[int, str]] | None = None,
          ) -> dict[str, tuple[int, str]]:
    """Check every field of the structure *args* against :data:`SPECS`; raise on a mismatch.

    *dims* maps a dimension name to its size and the field that set it; it is
    filled in and returned, so passing it on checks several structures against
    each other (``n`` of :class:`Grid` against ``n`` of :class:`Injections`).

    Raises
    ------
    TypeError
        Not one of the structures, a field of the wrong type or dtype, or an array
        that is not C-contiguous and writeable.
    ValueError
        A field of the wrong number of dimensions or length.
    """
    spec = SPECS.get(type(args))
    if spec is None:
        raise TypeError(f"{type(args).__name__} is not a power-flow kernel structure "
                        f"(one of {', '.join(c.__name__ for c in SPECS)})")
    dims = {} if dims is None else dims
    cls = type(args).__name__
    for field, (dtype, shape) in spec.items():
        where = f"{cls}.{field}"
        value = getattr(args, field)
        if shape == ():
            _check_scalar(where, value, dtype)
            continue
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{where}: {type(value).__name__}, expected a numpy array "
                            f"of {dtype}")
        if value.dtype != np.dtype(dtype):
            raise TypeError(f"{where}: dtype {value.dtype}, expected {dtype}")
        if value.ndim != len(shape):
            raise ValueError(f"{where}: {value.ndim}-d array of shape {value.shape}, "
                             f"expected {len(shape)}-d ({', '.join(map(str, shape))})")
        if not (value.flags.c_contiguous and value.flags.writeable):
            raise TypeError(f"{where}: the array must be C-contiguous and writeable "
                            "(anything else makes numba compile another copy of the kernels)")
        for axis, (size, want) in enumerate(zip(value.shape, shape, strict=True)):
            name, extra = want, 0
            if isinstance(want, str) and want.endswith("+1"):
                name, extra = want[:-2], 1
            if isinstance(name, int):
                expected, source = name, "fixed"
            elif name in dims:
                expected = dims[name][0] + extra
                source = f"{name} = {dims[name][0]} from {dims[name][1]}"
            else:
                if size - extra < 0:
                    raise ValueError(f"{where}: length {size} on axis {axis}, expected "
                                     f"{want} >= {extra}")
                dims[name] = (size - extra, where)
                continue
            if size != expected:
                raise ValueError(f"{where}: length {size} on axis {axis}, expected {want} = "
                                 f"{expected} ({source})")
    return dims


@dataclass(frozen=True)
class KernelArgs:
    """The network-derived kernel arguments of a run, checked against each other.

    ``has_fp`` tells whether the fixed point applies (a PQ-only grid whose ``Ynn``
    SuperLU factorised without pivoting); ``dims`` holds the checked dimensions.
    :attr:`newton` is built on first use: a run the fixed point solves entirely
    never needs Newton-Raphson's Jacobian pattern (3 ms of a 97-bus grid's set-up).
    """

    grid: Grid
    inj: Injections
    fixed_point: FixedPointFactors
    maps: ResultMaps
    has_fp: bool
    dims: dict[str, tuple[int, str]]
    model: NetModel = dataclasses.field(repr=False, compare=False)

    @functools.cached_property
    def newton(self) -> NewtonPattern:
        """Newton-Raphson's Jacobian pattern, checked against the other structures."""
        nr = _prepare_newton(self.model)
        check(nr, self.dims)
        return nr


def _i64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def _c128(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.complex128)


def _no_fixed_point() -> FixedPointFactors:
    ip = np.zeros(1, np.int64)
    ix = np.zeros(0, np.int64)
    c0 = np.zeros(0, np.complex128)
    return FixedPointFactors(c0, ix, ip, ix, c0, ip, ix, c0, c0.copy())


def _prepare_fixed_point(model: NetModel) -> FixedPointFactors | None:
    pq, n = model.pq, model.n_bus
    if len(model.pv) or len(pq) == 0:
        return None
    pos = np.full(n, -1, dtype=np.int64)
    pos[pq] = np.arange(len(pq))
    y = model.ybus.tocoo()
    keep = (pos[y.row] >= 0) & (pos[y.col] >= 0)
    r, c, vals = pos[y.row[keep]], pos[y.col[keep]], y.data[keep].astype(np.complex128)
    m = len(pq)
    perm = fill_reducing_order(r, c, m)
    factors = _factor_permuted(r, c, vals, perm, m)
    if factors is None:
        return None
    v_ref = model.v0[model.ref]
    fp_c = np.asarray(model.ybus[pq][:, model.ref] @ v_ref, dtype=np.complex128).ravel()
    return FixedPointFactors(_c128(fp_c), _i64(perm), *factors)


def _factor_permuted(r: np.ndarray, c: np.ndarray, vals: np.ndarray, perm: np.ndarray,
                     m: int) -> tuple[np.ndarray, ...] | None:
    """LU of the m x m matrix (r, c, vals) in the symmetric order *perm*, by SuperLU.

    The fixed point factorises ``Ynn`` once per run, so SuperLU does it (no numba
    compile for complex factors); it is asked to keep the given order and not to
    pivot, as parkgrid's own sparse LU would. Returns the strictly lower columns of
    L (unit diagonal), the strictly upper columns of U and the reciprocals of U's
    diagonal (the layout of :func:`parkgrid.powerflow._sparse.lu_solve`), or
    ``None`` when SuperLU had to pivot or met a zero pivot.
    """
    inv = np.empty(m, dtype=np.int64)
    inv[perm] = np.arange(m)
    a = sp.csc_matrix((vals, (inv[r], inv[c])), shape=(m, m))
    a.sum_duplicates()
    try:
        lu = splu(a, permc_spec="NATURAL", diag_pivot_thresh=0.0,
                  options={"SymmetricMode": True})
    except RuntimeError:  # singular
        return None
    if not (np.array_equal(lu.perm_r, np.arange(m)) and np.array_equal(lu.perm_c, np.arange(m))):
        return None
    low, up = lu.L.tocsc(), lu.U.tocsc()
    diag = up.diagonal()
    if not np.all(np.isfinite(diag)) or np.any(diag == 0):
        return None
    out: list[np.ndarray] = []
    for f in (sp.tril(low, -1), sp.triu(up, 1)):
        f = sp.csc_matrix(f)
        f.sort_indices()
        out += [_i64(f.indptr), _i64(f.indices), _c128(f.data)]
    return (*out, _c128(1.0 / diag.astype(np.complex128)))


def _prepare_newton(model: NetModel) -> NewtonPattern:
    n = model.n_bus
    pvpq = np.concatenate([model.pv, model.pq])
    jp = np.full(n, -1, dtype=np.int64)
    jq = np.full(n, -1, dtype=np.int64)
    jp[pvpq] = np.arange(len(pvpq))
    jq[model.pq] = len(pvpq) + np.arange(len(model.pq))
    m = len(pvpq) + len(model.pq)
    y = model.ybus
    rows_y = np.repeat(np.arange(n), np.diff(y.indptr))
    cols_y = y.indices.astype(np.int64)
    pairs = [(jp, jp), (jp, jq), (jq, jp), (jq, jq)]
    rr, cc = [], []
    for a, b in pairs:
        ok = (a[rows_y] >= 0) & (b[cols_y] >= 0)
        rr.append(a[rows_y][ok])
        cc.append(b[cols_y][ok])
    sym = symbolic(np.concatenate(rr), np.concatenate(cc), m)
    positions = []
    for a, b in pairs:
        ok = (a[rows_y] >= 0) & (b[cols_y] >= 0)
        p = np.full(len(rows_y), -1, dtype=np.int64)
        p[ok] = sym.position(a[rows_y][ok], b[cols_y][ok])
        positions.append(p)
    return NewtonPattern(jp, jq, *positions, *(_i64(a) for a in (
        sym.perm, sym.a_indptr, sym.a_indices, sym.l_indptr, sym.l_indices, sym.u_indptr,
        sym.u_indices)))


def _csr_parts(m: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _i64(m.indptr), _i64(m.indices), _c128(m.data)


def _eg_injections(eg_bus: np.ndarray, inj_bus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:attr:`ResultMaps.eg_inj_ptr` and ``eg_inj_col``: each ext_grid's injection columns."""
    cols = [np.flatnonzero(inj_bus == b) if b >= 0 else np.zeros(0, np.int64) for b in eg_bus]
    ptr = np.zeros(len(cols) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(c) for c in cols])
    return ptr, _i64(np.concatenate(cols) if cols else np.zeros(0, np.int64))


def pack_kernel_args(model: NetModel) -> KernelArgs:
    """Build and check the kernels' network structures for *model*.

    Sets up both solvers: the fixed point's factorisation (empty arrays and
    ``has_fp`` False where it does not apply) and Newton-Raphson's Jacobian
    pattern. Raises as :func:`check` if the model's arrays do not fit the kernels.
    """
    grid = Grid(*_csr_parts(model.ybus), _c128(model.v0), _i64(model.ref), _i64(model.pv),
                _i64(model.pq))
    inj = Injections(_c128(model.sbus_base), _i64(model.inj_bus), _c128(model.inj_coef))
    fp = _prepare_fixed_point(model)
    maps = ResultMaps(float(model.base_mva), *_csr_parts(model.yf), *_csr_parts(model.yt),
                      _i64(model.f_bus), _i64(model.t_bus), _i64(model.bus_lookup),
                      _i64(model.load_col), _i64(model.load_br), _i64(model.load_side),
                      np.ascontiguousarray(model.load_fac, dtype=np.float64),
                      _i64(model.line_br), _i64(model.loss_br), _i64(model.eg_bus),
                      _c128(model.eg_s0), *_eg_injections(model.eg_bus, model.inj_bus))
    args = KernelArgs(grid=grid, inj=inj, fixed_point=_no_fixed_point() if fp is None else fp,
                      maps=maps, has_fp=fp is not None, dims={}, model=model)
    for part in (args.grid, args.inj, args.fixed_point, args.maps):
        check(part, args.dims)
    return args


def solver_options(mode: int, tol_pu: float, max_iter: int, fp_max_iter: int) -> SolverOptions:
    """Return checked :class:`SolverOptions` (numpy scalars converted to Python's)."""
    opts = SolverOptions(int(mode), float(tol_pu), int(max_iter), int(fp_max_iter))
    check(opts)
    return opts


def outputs(args: KernelArgs, out: Outputs) -> Outputs:
    """Check the whole run's result arrays *out* against *args*; return them.

    A block's rows ``out_block = Outputs(*(a[b0:b1] for a in out))`` keep the
    checked dtypes and contiguity.
    """
    check(out, dict(args.dims))
    return out


def fallback(args: KernelArgs, n_seed: int) -> Fallback:
    """Return empty, checked :class:`Fallback` slots for *n_seed* steps."""
    fb = Fallback(np.empty((n_seed, args.dims["n"][0]), dtype=np.complex128),
                  np.full(n_seed, -1, dtype=np.int64), np.zeros(1, dtype=np.int64))
    check(fb, dict(args.dims))
    return fb


def _typical(cls: type) -> tuple:
    """Return an instance of structure *cls* with empty arrays of the dtypes of :data:`SPECS`."""
    return cls(*(0.0 if dtype == "float64" and shape == () else 0 if shape == ()
                 else np.zeros((0,) * len(shape), dtype=dtype)
                 for dtype, shape in SPECS[cls].values()))


def lanes_signature() -> tuple:
    """Return the numba types of the fixed-point solver's arguments.

    As :func:`parkgrid.powerflow.run_timeseries_pf` passes them: the structures as
    :func:`check` accepts them, a float64 profile block, int64 rows, complex128
    voltages.
    """
    v = np.zeros(0, dtype=np.complex128)
    args = (np.zeros((0, 0)), 0, 0, v, v, *(_typical(c) for c in (
        SolverOptions, Grid, Injections, FixedPointFactors, ResultMaps, Outputs, Fallback)))
    return tuple(numba.typeof(a) for a in args)


def compile_ahead() -> None:
    """Compile the fixed-point solver into numba's cache (see :mod:`parkgrid._ahead`)."""
    solve_chunk_lanes.compile(lanes_signature())
    empty_2d.compile((numba.int64, numba.int64))
