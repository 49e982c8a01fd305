"""numba kernels of the batch power flow: solvers and result extraction.

Two solvers:

* **fixed point** (implicit Z-bus / current injection, :func:`solve_chunk_lanes`)
  for grids whose non-slack buses are all PQ: ``V_pq <- Ynn^-1 (conj(S / V) - Yns
  V_s)``. ``Ynn`` is factorised once for the whole run, so an iteration is one pair
  of triangular solves, applied to :data:`LANES` steps at once. Its power mismatch
  needs no extra product: after an update, ``S_calc = V_new * S / V_old``, so
  ``mismatch = S * (V_new - V_old) / V_old``. A step it does not solve within its
  budget falls back to Newton-Raphson on its own.
* **Newton-Raphson** in polar form (as MATPOWER/pandapower, :func:`solve_chunk`)
  for grids with PV buses and for the fixed point's fallback; the Jacobian is
  refactorised on a fixed symbolic pattern every iteration.

Rows are split into contiguous chunks solved in parallel threads (the kernels
release the GIL; a plain thread pool avoids numba's slow-to-compile parallel
pipeline); each step warm-starts from the previous one of its chunk or lane.

The network, solver and result arrays come as the NamedTuples of
:mod:`parkgrid.powerflow._kernel_args` (dtypes, shapes and units there), built and
checked by its :func:`~parkgrid.powerflow._kernel_args.pack_kernel_args`.
"""

from __future__ import annotations

import numpy as np

from parkgrid.powerflow._jit import inner, kernel
from parkgrid.powerflow._sparse import lu_factor, lu_solve

__all__ = ["LANES", "METHOD_CODES", "empty_2d", "solve_chunk", "solve_chunk_lanes"]

#: per-step method codes written by the kernels
METHOD_CODES = {0: "failed", 1: "fixed_point", 2: "newton"}
#: steps solved in lockstep by :func:`solve_chunk_lanes` (a compile-time constant,
#: so the loops over lanes are unrolled into SIMD instructions)
LANES = 32


@kernel
def empty_2d(rows, cols):  # pragma: no cover - numba
    """Return an uninitialised float64 (rows, cols) array allocated by numba's runtime.

    Used for the year-long result arrays: numpy asks the OS to back arrays of
    4 MB or more with transparent huge pages (``madvise``), and where the kernel
    compacts memory synchronously on the first touch (``defrag=madvise``, as on the
    benchmark machine) that made writing fresh results ~4x slower than with plain
    ``malloc`` memory. The returned array is an ordinary numpy array.
    """
    return np.empty((rows, cols))


@inner
def _injections(t, X, inj, s):  # pragma: no cover - numba
    """Bus injections of row ``t`` of ``X`` into ``s`` (:class:`Injections`)."""
    for b in range(s.shape[0]):  # loops, not slices: no shape-error code to compile
        s[b] = inj.sbus_base[b]
    for c in range(inj.inj_bus.shape[0]):
        b = inj.inj_bus[c]
        if b >= 0:
            s[b] += inj.inj_coef[c] * X[t, c]


@inner
def _mismatch(y_indptr, y_indices, y_data, jp, jq, v, s, i_bus, f):  # pragma: no cover
    """Bus currents into ``i_bus`` and Newton mismatch vector into ``f``; returns max|f|."""
    worst = 0.0
    for i in range(v.shape[0]):
        acc = 0j
        for p in range(y_indptr[i], y_indptr[i + 1]):
            acc += y_data[p] * v[y_indices[p]]
        i_bus[i] = acc
        mis = v[i] * np.conj(acc) - s[i]
        if jp[i] >= 0:
            f[jp[i]] = mis.real
            if not abs(mis.real) <= worst:
                worst = abs(mis.real)
        if jq[i] >= 0:
            f[jq[i]] = mis.imag
            if not abs(mis.imag) <= worst:
                worst = abs(mis.imag)
    return worst


@inner
def _newton(s, v, grid, nr, tol, max_iter, ws):  # pragma: no cover - numba
    """Newton-Raphson in place on ``v``; returns (iterations, mismatch, converged).

    ``grid`` a :class:`Grid`, ``nr`` a :class:`NewtonPattern`, ``ws`` the scratch
    arrays allocated by :func:`solve_chunk`.
    """
    (i_bus, f, j_data, l_data, u_data, u_diag, work, dx, vm, va) = ws
    v_set, ref, pv, y_indptr = grid.v_set, grid.ref, grid.pv, grid.y_indptr
    y_indices, y_data = grid.y_indices, grid.y_data
    jp, jq, pos_pa, pos_pm = nr.jp, nr.jq, nr.pos_pa, nr.pos_pm
    pos_qa, pos_qm = nr.pos_qa, nr.pos_qm
    n = v.shape[0]
    m = f.shape[0]
    for b in range(n):
        vm[b] = abs(v[b])
        va[b] = np.angle(v[b])
    for k in range(ref.shape[0]):
        b = ref[k]
        vm[b] = abs(v_set[b])
        va[b] = np.angle(v_set[b])
    for k in range(pv.shape[0]):
        vm[pv[k]] = abs(v_set[pv[k]])
    for b in range(n):
        v[b] = vm[b] * np.exp(1j * va[b])
    worst = _mismatch(y_indptr, y_indices, y_data, jp, jq, v, s, i_bus, f)
    it = 0
    while True:
        if worst < tol:
            return it, worst, True
        if it >= max_iter or not worst < 1e10:
            return it, worst, False
        it += 1
        j_data[:] = 0.0
        for i in range(n):
            vi = v[i]
            for p in range(y_indptr[i], y_indptr[i + 1]):
                k = y_indices[p]
                yv = y_data[p] * v[k]
                d_a = -1j * vi * np.conj(yv)
                d_m = vi * np.conj(yv) / vm[k]
                if k == i:
                    d_a += 1j * vi * np.conj(i_bus[i])
                    d_m += np.conj(i_bus[i]) * vi / vm[i]
                if pos_pa[p] >= 0:
                    j_data[pos_pa[p]] = d_a.real
                if pos_pm[p] >= 0:
                    j_data[pos_pm[p]] = d_m.real
                if pos_qa[p] >= 0:
                    j_data[pos_qa[p]] = d_a.imag
                if pos_qm[p] >= 0:
                    j_data[pos_qm[p]] = d_m.imag
        ok = lu_factor(m, nr.ja_indptr, nr.ja_indices, j_data, nr.jl_indptr, nr.jl_indices,
                       l_data, nr.ju_indptr, nr.ju_indices, u_data, u_diag, work)
        if not ok:
            return it, worst, False
        for j in range(m):
            dx[j] = -f[nr.j_perm[j]]
        lu_solve(m, nr.jl_indptr, nr.jl_indices, l_data, nr.ju_indptr, nr.ju_indices, u_data,
                 u_diag, dx)
        for j in range(m):
            f[nr.j_perm[j]] = dx[j]  # f now holds the step in natural order
        for b in range(n):
            if jp[b] >= 0:
                va[b] += f[jp[b]]
            if jq[b] >= 0:
                vm[b] += f[jq[b]]
            v[b] = vm[b] * np.exp(1j * va[b])
        worst = _mismatch(y_indptr, y_indices, y_data, jp, jq, v, s, i_bus, f)


@inner
def _nr_workspace(n, nr):  # pragma: no cover - numba
    """Scratch arrays of ``_kernels._newton`` for ``n`` buses and the pattern ``nr``."""
    m_j = nr.ja_indptr.shape[0] - 1
    return (np.empty(n, dtype=np.complex128), np.empty(m_j), np.empty(nr.ja_indices.shape[0]),
            np.empty(nr.jl_indices.shape[0]), np.empty(nr.ju_indices.shape[0]), np.empty(m_j),
            np.zeros(m_j), np.empty(m_j), np.empty(n), np.empty(n))


@inner
def _stage_new(bus_of, n, maps, out, v_ref):  # pragma: no cover - numba
    """Staging of solved rows for :func:`_lane_results`, :data:`LANES` at a time.

    ``bus_of`` lists the non-slack buses whose voltages are staged (in any order);
    the count of staged rows is ``stage[4][0]``.
    """
    m = bus_of.shape[0]
    work = _results_workspace(n, maps.bus_lookup.shape[0], maps.f_bus.shape[0],
                              out.loading.shape[1], maps.line_br.shape[0])
    rot_a, rot_r, rot_i = _rotation(v_ref)
    return (bus_of, np.empty((m, LANES)), np.empty((m, LANES)),
            np.full(LANES, -1, dtype=np.int64), np.zeros(1, dtype=np.int64), work, rot_a,
            rot_r, rot_i)


@inner
def _stage_flush(stage, X, grid, inj, maps, out):  # pragma: no cover - numba
    """Results of the staged rows (with the admittances as they are now)."""
    bus_of, st_r, st_i, st_t, cnt, work, rot_a, rot_r, rot_i = stage
    if cnt[0] == 0:
        return
    for q in range(cnt[0], LANES):
        st_t[q] = -1
    _lane_results(st_t, st_r, st_i, bus_of, rot_r, rot_i, rot_a, X, grid, inj, maps, out, work)
    cnt[0] = 0


@inner
def _stage_push(stage, t, v, X, grid, inj, maps, out):  # pragma: no cover - numba
    """Stage row ``t`` with the voltages ``v`` (complex, internal order)."""
    bus_of, st_r, st_i, st_t, cnt = stage[0], stage[1], stage[2], stage[3], stage[4]
    q = cnt[0]
    for j in range(bus_of.shape[0]):
        st_r[j, q] = v[bus_of[j]].real
        st_i[j, q] = v[bus_of[j]].imag
    st_t[q] = t
    cnt[0] = q + 1
    if q + 1 == LANES:
        _stage_flush(stage, X, grid, inj, maps, out)


@kernel
def solve_chunk(X, rows, seeds, v_start, v_last, opts, grid, inj, nr, maps,
                out):  # pragma: no cover - numba
    """Solve the given ``rows`` of ``X`` (profile values) by Newton-Raphson, in order.

    ``X`` float64 (block steps, n_col) [MW or Mvar]; ``rows`` int64 block rows;
    ``v_start`` complex128 (n,) [pu]; ``v_last`` receives the voltages of the last
    solved row [pu]; the structures are those of
    :mod:`parkgrid.powerflow._kernel_args` (``opts`` :class:`SolverOptions`,
    ``grid`` :class:`Grid`, ``inj`` :class:`Injections`, ``nr``
    :class:`NewtonPattern`, ``maps`` :class:`ResultMaps`, ``out`` the block's
    :class:`Outputs`). Each row warm-starts from the previous solved one, unless
    ``seeds`` (complex128, (len(rows), n) or (0, n)) has a row per entry of
    ``rows`` (the fixed point's fallback rows): then row ``i`` starts from
    ``seeds[i]`` and the fixed point's iterations already in ``out.iters`` are
    added to.
    """
    tol, max_iter = opts.tol_pu, opts.max_iter
    iters, mism, meth = out.iters, out.mism, out.meth
    n = v_start.shape[0]
    s = np.empty(n, dtype=np.complex128)
    v = v_start.copy()
    v_good = v_start.copy()
    ws = _nr_workspace(n, nr)
    # solved rows are staged and their results computed LANES at a time, as the
    # fixed point's are: the non-slack buses' voltages are staged
    stage = _stage_new(np.concatenate((grid.pv, grid.pq)), n, maps, out, v_start)
    seeded = seeds.shape[0] == rows.shape[0] and rows.shape[0] > 0
    for i in range(rows.shape[0]):
        t = rows[i]
        if seeded:
            for b in range(n):
                v[b] = seeds[i, b]
        _injections(t, X, inj, s)
        it_nr, mis, done = _newton(s, v, grid, nr, tol, max_iter, ws)
        meth[t] = 2 if done else 0
        iters[t] = iters[t] + it_nr if seeded else it_nr
        mism[t] = mis
        if done:
            for b in range(n):
                v_good[b] = v[b]
            _stage_push(stage, t, v, X, grid, inj, maps, out)
        else:
            _nan_row(t, out)
            for b in range(n):  # next step restarts from the last good solution
                v[b] = v_good[b]
    _stage_flush(stage, X, grid, inj, maps, out)
    for b in range(n):
        v_last[b] = v_good[b]


@inner
def _results_workspace(n, nb, nbr, nload, nline):  # pragma: no cover - numba
    """Scratch arrays of :func:`_lane_results` for :data:`LANES` rows at a time."""
    return (np.empty((n, LANES)), np.empty((n, LANES)), np.empty((nbr, LANES)),
            np.empty((nbr, LANES)), np.empty((nbr, LANES)), np.empty((nbr, LANES)),
            np.empty((nb, LANES)), np.empty((nb, LANES)), np.empty((nload, LANES)),
            np.empty((nline, LANES)), np.empty(LANES), np.empty(LANES), np.empty(LANES))


@inner
def _rotation(v_ref):  # pragma: no cover - numba
    """Angle of each bus's reference voltage and the phasor exp(-1j * angle) (re, im).

    :func:`_lane_results` takes angles relative to these, so that what is left is
    small enough for its polynomial ``atan``.
    """
    n = v_ref.shape[0]
    rot_a = np.empty(n)
    rot_r = np.empty(n)
    rot_i = np.empty(n)
    for b in range(n):
        rot_a[b] = np.arctan2(v_ref[b].imag, v_ref[b].real)
        rot_r[b] = np.cos(rot_a[b])
        rot_i[b] = -np.sin(rot_a[b])
    return rot_a, rot_r, rot_i


@inner
def _nan_row(t, out):  # pragma: no cover - numba
    """Mark step ``t`` as not solved: NaN in every result of ``out`` (:class:`Outputs`)."""
    for a in (out.vm, out.va, out.loading, out.line_p, out.eg_p, out.eg_q):  # loops: cheaper
        for c in range(a.shape[1]):  # to compile than slices
            a[t, c] = np.nan
    out.losses[t] = np.nan


@inner
def _lane_load(k, t, X, s0_r, s0_i, inj_pos, cf_r, cf_i, sr, si):  # pragma: no cover
    """Injections of row ``t`` into lane ``k`` (the static ones only if ``t < 0``)."""
    for j in range(s0_r.shape[0]):
        sr[j, k] = s0_r[j]
        si[j, k] = s0_i[j]
    if t < 0:
        return
    for c in range(inj_pos.shape[0]):
        j = inj_pos[c]
        if j >= 0:
            x = X[t, c]
            sr[j, k] += cf_r[c] * x
            si[j, k] += cf_i[c] * x


@inner
def _fp_sweep(vr, vi, sr, si, rr, ri, wr, wi, c_r, c_i, fp, fl_r, fl_i, fu_r, fu_i, mis,
              bad):  # pragma: no cover - numba
    """One fixed-point iteration of every lane; per-lane mismatch into ``mis``.

    ``fp`` is the :class:`FixedPointFactors` (its patterns and ``fu_diag``; the
    factors' data come split into real and imaginary parts, ``fl_r``...).
    ``bad`` receives a per-lane sum that is non-finite iff a NaN/inf appeared.
    """
    fl_indptr, fl_indices, fu_indptr = fp.fl_indptr, fp.fl_indices, fp.fu_indptr
    fu_indices, fu_diag = fp.fu_indices, fp.fu_diag
    m = vr.shape[0]
    # ---- one fixed-point iteration of every lane ------------------------
    # w = 1 / conj(v) = v / |v|^2; rhs = conj(s) w - Yns v_s
    for j in range(m):
        cr = c_r[j]
        ci = c_i[j]
        for k in range(LANES):
            a = vr[j, k]
            b = vi[j, k]
            inv2 = 1.0 / (a * a + b * b)
            w_r = a * inv2
            w_i = b * inv2
            wr[j, k] = w_r
            wi[j, k] = w_i
            rr[j, k] = sr[j, k] * w_r + si[j, k] * w_i - cr
            ri[j, k] = sr[j, k] * w_i - si[j, k] * w_r - ci
    # forward substitution with L (unit diagonal), all lanes at once
    for j in range(m):
        for p in range(fl_indptr[j], fl_indptr[j + 1]):
            lr = fl_r[p]
            li = fl_i[p]
            r = fl_indices[p]
            for k in range(LANES):
                xr = rr[j, k]
                xi = ri[j, k]
                rr[r, k] -= lr * xr - li * xi
                ri[r, k] -= lr * xi + li * xr
    # back substitution with U (reciprocal diagonal)
    for j in range(m - 1, -1, -1):
        dr = fu_diag[j].real
        di = fu_diag[j].imag
        for k in range(LANES):
            xr = rr[j, k]
            xi = ri[j, k]
            rr[j, k] = xr * dr - xi * di
            ri[j, k] = xr * di + xi * dr
        for p in range(fu_indptr[j], fu_indptr[j + 1]):
            ur = fu_r[p]
            ui = fu_i[p]
            r = fu_indices[p]
            for k in range(LANES):
                xr = rr[j, k]
                xi = ri[j, k]
                rr[r, k] -= ur * xr - ui * xi
                ri[r, k] -= ur * xi + ui * xr
    # mismatch S_calc - S = s (v_new - v) conj(w), then v <- v_new
    for k in range(LANES):
        mis[k] = 0.0
        bad[k] = 0.0
    for j in range(m):
        for k in range(LANES):
            er = rr[j, k] - vr[j, k]
            ei = ri[j, k] - vi[j, k]
            pr = sr[j, k] * er - si[j, k] * ei
            pi = sr[j, k] * ei + si[j, k] * er
            d_r = pr * wr[j, k] + pi * wi[j, k]
            d_i = pi * wr[j, k] - pr * wi[j, k]
            mis[k] = max(mis[k], max(abs(d_r), abs(d_i)))
            bad[k] += d_r + d_i  # NaN/inf detector: max() drops NaN
            vr[j, k] = rr[j, k]
            vi[j, k] = ri[j, k]


@inner
def _row_status(it, bad_k, mis_k, tol, cap):  # pragma: no cover - numba
    """0: keep iterating the lane's row; 1: converged; 2: given up (diverged/budget)."""
    if not np.isfinite(bad_k):
        return 2
    if mis_k < tol:
        return 1
    if mis_k < 1e6 and it < cap:
        return 0
    return 2


@inner
def _book_row(k, t, ok, mode, n_it, bad_k, mis_k, out, fb, bus_of, grid, gr, gi, vr, vi,
              st_r, st_i, st_t, state, v_good):  # pragma: no cover - numba
    """Book lane ``k``'s finished row ``t``.

    A converged row becomes the lane's good state and is staged for the results
    (``state[0]`` rows staged; ``state[1]`` the latest solved row, whose voltages
    go to ``v_good``). A row given up on is handed to Newton-Raphson with the
    lane's last good state (``mode`` 0) or flagged with NaN results, and the lane
    restarts its next row from its good state. ``out`` the block's :class:`Outputs`,
    ``fb`` the :class:`Fallback` slots, ``grid`` the :class:`Grid`.
    """
    meth, mism, iters = out.meth, out.mism, out.iters
    ref, v_set = grid.ref, grid.v_set
    fb_seed, fb_row, fb_count = fb.seed, fb.row, fb.n_used
    m = bus_of.shape[0]
    mism[t] = mis_k if np.isfinite(bad_k) else np.inf
    iters[t] = n_it
    if ok:
        meth[t] = 1
        q = state[0]
        for j in range(m):
            gr[j, k] = vr[j, k]
            gi[j, k] = vi[j, k]
            st_r[j, q] = vr[j, k]
            st_i[j, q] = vi[j, k]
        st_t[q] = t
        state[0] = q + 1
        if t > state[1]:  # the chunk's latest solved row seeds the next block
            state[1] = t
            for j in range(m):
                v_good[bus_of[j]] = complex(vr[j, k], vi[j, k])
        return
    if mode == 0:
        meth[t] = -1  # Newton-Raphson takes this row over (solve_chunk)
        q = fb_count[0]
        if q < fb_row.shape[0]:  # hand over the lane's last good state
            for j in range(m):
                fb_seed[q, bus_of[j]] = complex(gr[j, k], gi[j, k])
            for r in range(ref.shape[0]):
                fb_seed[q, ref[r]] = v_set[ref[r]]
            fb_row[q] = t
            fb_count[0] = q + 1
    else:
        meth[t] = 0
        _nan_row(t, out)
    for j in range(m):  # the next row restarts from the last good state
        vr[j, k] = gr[j, k]
        vi[j, k] = gi[j, k]


@inner
def _lane_setup(n, pq, fp, inj):  # pragma: no cover - numba
    """Lay out the fixed point's data in lane order, as every lanes kernel reads it.

    Returns ``bus_of`` (permuted PQ position -> internal bus), ``pos`` (internal bus
    -> permuted PQ position, -1 for other buses), the diagonal terms ``c`` and base
    injections ``s0`` per position, the factors' values ``fl``/``fu`` and the
    injection coefficients ``cf``, each split into real and imaginary arrays, and
    ``inj_pos``, each injection column's position (-1: not at a PQ bus).
    """
    fp_perm, fp_c = fp.fp_perm, fp.fp_c
    sbus_base, inj_bus, inj_coef = inj.sbus_base, inj.inj_bus, inj.inj_coef
    m = pq.shape[0]
    bus_of = np.empty(m, dtype=np.int64)  # permuted PQ position -> internal bus
    pos = np.full(n, -1, dtype=np.int64)  # internal bus -> permuted PQ position
    for j in range(m):
        bus_of[j] = pq[fp_perm[j]]
        pos[bus_of[j]] = j
    c_r = np.empty(m)
    c_i = np.empty(m)
    s0_r = np.empty(m)
    s0_i = np.empty(m)
    for j in range(m):
        c_r[j] = fp_c[fp_perm[j]].real
        c_i[j] = fp_c[fp_perm[j]].imag
        s0_r[j] = sbus_base[bus_of[j]].real
        s0_i[j] = sbus_base[bus_of[j]].imag
    fl_r = fp.fl_data.real.copy()
    fl_i = fp.fl_data.imag.copy()
    fu_r = fp.fu_data.real.copy()
    fu_i = fp.fu_data.imag.copy()
    n_inj = inj_bus.shape[0]
    inj_pos = np.full(n_inj, -1, dtype=np.int64)
    for c in range(n_inj):
        if inj_bus[c] >= 0:
            inj_pos[c] = pos[inj_bus[c]]
    cf_r = inj_coef.real.copy()
    cf_i = inj_coef.imag.copy()
    return (bus_of, pos, c_r, c_i, s0_r, s0_i, fl_r, fl_i, fu_r, fu_i, inj_pos, cf_r,
            cf_i)


@kernel
def solve_chunk_lanes(X, t0, t1, v_start, v_last, opts, grid, inj, fp, maps, out,
                      fb):  # pragma: no cover - numba
    """Fixed-point solve of rows ``t0:t1`` as :data:`LANES` runs side by side.

    The rows are cut into ``LANES`` contiguous runs ("lanes"); lane ``k`` works
    through its run in order, each row warm-started from the lane's previous row.
    Every array of the iteration is stored bus-major with the lanes contiguous
    (``a[j, k]``, real and imaginary parts apart), so one fixed-point iteration --
    the triangular solves with the once-factorised ``Ynn`` included -- applies each
    factor entry to all lanes at once in SIMD registers. Lanes are independent: a
    lane whose row has converged stores it and loads its next row while the others
    go on iterating, so every row gets exactly the iterations a sequential
    fixed-point solve would give it, and the same result. A row that misses
    ``opts.fp_max_iter`` is marked ``meth = -1`` for Newton-Raphson to take over
    (``opts.mode`` 0; :func:`solve_chunk` with ``seeds``), its lane's last good
    state stored in ``fb.seed[q]`` and its row in ``fb.row[q]`` for the first
    ``len(fb.row)`` such rows (``fb.n_used[0]`` counts them); with ``mode`` 1 it
    is flagged. Solved rows are staged and their results computed :data:`LANES`
    at a time (:func:`_lane_results`). Only for grids whose non-slack
    buses are all PQ. ``fp`` is the :class:`FixedPointFactors`, ``fb`` the
    :class:`Fallback` slots; the other arguments as :func:`solve_chunk`.
    """
    mode, tol, max_iter, fp_max_iter = opts.mode, opts.tol_pu, opts.max_iter, opts.fp_max_iter
    pq = grid.pq
    n = v_start.shape[0]
    m = pq.shape[0]
    rows = t1 - t0
    per = (rows + LANES - 1) // LANES
    (bus_of, _pos, c_r, c_i, s0_r, s0_i, fl_r, fl_i, fu_r, fu_i, inj_pos, cf_r,
     cf_i) = _lane_setup(n, pq, fp, inj)
    vr = np.empty((m, LANES))
    vi = np.empty((m, LANES))
    for j in range(m):
        for k in range(LANES):
            vr[j, k] = v_start[bus_of[j]].real
            vi[j, k] = v_start[bus_of[j]].imag
    gr = vr.copy()  # last good solution per lane
    gi = vi.copy()
    sr = np.empty((m, LANES))
    si = np.empty((m, LANES))
    rr = np.empty((m, LANES))
    ri = np.empty((m, LANES))
    wr = np.empty((m, LANES))
    wi = np.empty((m, LANES))
    mis = np.empty(LANES)
    bad = np.empty(LANES)
    it_k = np.zeros(LANES, dtype=np.int64)
    st_r = np.empty((m, LANES))  # solved rows staged for the vectorised results
    st_i = np.empty((m, LANES))
    st_t = np.full(LANES, -1, dtype=np.int64)
    state = np.zeros(2, dtype=np.int64)  # rows staged; latest solved row
    state[1] = -1
    v_good = v_start.copy()
    work = _results_workspace(n, maps.bus_lookup.shape[0], maps.f_bus.shape[0],
                              out.loading.shape[1], maps.line_br.shape[0])
    rot_a, rot_r, rot_i = _rotation(v_start)
    cap = fp_max_iter if mode == 0 else max_iter
    lo = np.empty(LANES, dtype=np.int64)
    hi = np.empty(LANES, dtype=np.int64)
    for k in range(LANES):
        lo[k] = min(t0 + k * per, t1)
        hi[k] = min(t0 + (k + 1) * per, t1)
    cur = lo.copy()  # the row each lane is solving; cur == hi: the lane is finished
    n_live = 0
    for k in range(LANES):
        _lane_load(k, cur[k] if cur[k] < hi[k] else -1, X, s0_r, s0_i, inj_pos, cf_r,
                   cf_i, sr, si)
        n_live += cur[k] < hi[k]
    while n_live > 0:
        _fp_sweep(vr, vi, sr, si, rr, ri, wr, wi, c_r, c_i, fp, fl_r, fl_i, fu_r, fu_i, mis,
                  bad)
        # ---- lanes whose row is finished: book it, results, next row ---------
        for k in range(LANES):
            t = cur[k]
            if t >= hi[k]:
                continue
            it_k[k] += 1
            status = _row_status(it_k[k], bad[k], mis[k], tol, cap)
            if status == 0:
                continue  # keep iterating this row
            _book_row(k, t, status == 1, mode, it_k[k], bad[k], mis[k], out, fb, bus_of, grid,
                      gr, gi, vr, vi, st_r, st_i, st_t, state, v_good)
            if state[0] == LANES:
                _lane_results(st_t, st_r, st_i, bus_of, rot_r, rot_i, rot_a, X, grid, inj,
                              maps, out, work)
                state[0] = 0
            cur[k] += 1
            it_k[k] = 0
            if cur[k] >= hi[k]:
                n_live -= 1
            _lane_load(k, cur[k] if cur[k] < hi[k] else -1, X, s0_r, s0_i, inj_pos, cf_r,
                       cf_i, sr, si)
    n_st = state[0]
    if n_st:
        for q in range(n_st, LANES):
            st_t[q] = -1
        _lane_results(st_t, st_r, st_i, bus_of, rot_r, rot_i, rot_a, X, grid, inj, maps, out,
                      work)
    for b in range(n):
        v_last[b] = v_good[b]


#: |u| up to which :func:`_atan_small` is used; its Taylor series, cut after the
#: u^25 term, then errs by less than 0.2^27 / 27 < 1e-20 rad. Voltage angles
#: relative to the no-load angle stay far below atan(0.2) = 11.3 degrees in
#: distribution grids; beyond it the kernel calls arctan2.
ATAN_U_MAX = 0.2


@inner
def _atan_small(u):  # pragma: no cover - numba
    """Return atan(u) for |u| <= ATAN_U_MAX.

    Horner's rule on the Taylor series, written out so that loops calling it
    vectorise (libm's atan2 does not).
    """
    u2 = u * u
    acc = 0.04
    acc = acc * u2 + -0.043478260869565216
    acc = acc * u2 + 0.047619047619047616
    acc = acc * u2 + -0.05263157894736842
    acc = acc * u2 + 0.058823529411764705
    acc = acc * u2 + -0.06666666666666667
    acc = acc * u2 + 0.07692307692307693
    acc = acc * u2 + -0.09090909090909091
    acc = acc * u2 + 0.1111111111111111
    acc = acc * u2 + -0.14285714285714285
    acc = acc * u2 + 0.2
    acc = acc * u2 + -0.3333333333333333
    acc = acc * u2 + 1.0
    return acc * u


@inner
def _transpose_out(buf, t_of, out):  # pragma: no cover - numba
    """Write lane k of ``buf`` (columns x lanes) into row ``t_of[k]`` of ``out``."""
    for c0 in range(0, buf.shape[0], 8):
        c1 = min(c0 + 8, buf.shape[0])
        for k in range(LANES):
            t = t_of[k]
            if t >= 0:
                for c in range(c0, c1):
                    out[t, c] = buf[c, k]


@inner
def _lane_matvec(indptr, indices, data, VR, VI, OR, OI):  # pragma: no cover - numba
    """O = A V for a complex CSR matrix A and all lanes of V (real and imaginary apart)."""
    for r in range(indptr.shape[0] - 1):
        for k in range(LANES):
            OR[r, k] = 0.0
            OI[r, k] = 0.0
        for p in range(indptr[r], indptr[r + 1]):
            yr = data[p].real
            yi = data[p].imag
            c = indices[p]
            for k in range(LANES):
                OR[r, k] += yr * VR[c, k] - yi * VI[c, k]
                OI[r, k] += yr * VI[c, k] + yi * VR[c, k]


@inner
def _lane_results(t_of, vr, vi, bus_of, rot_r, rot_i, rot_a, X, grid, inj, maps, out,
                  work):  # pragma: no cover - numba
    """pandapower-style results of up to :data:`LANES` solved rows at once.

    Lane ``k`` holds row ``t_of[k]`` (``-1``: unused lane): the voltages of the
    non-slack buses ``bus_of`` in ``vr``/``vi`` (the slack buses keep ``v_set``).
    Writes bus vm [pu] and va [degree], line/transformer loading [%], line P at the
    from-bus [MW], branch losses [MW] and the ext_grids' P and Q [MW, Mvar].
    Angles are taken relative to each bus's reference angle
    (``rot = exp(-1j * angle)``, :func:`_rotation`): the remaining angle is small,
    so ``atan`` is a short polynomial that vectorises over the lanes; a bus and
    lane outside its range (|tan| > ATAN_U_MAX) falls back to ``arctan2``.
    ``grid``, ``inj``, ``maps`` and ``out`` as in :func:`solve_chunk`.
    """
    (VR, VI, FR, FI, TR, TI, BM, BA, BL, BP, lsum, zr_s, u_s) = work
    ref, v_set, y_indptr, y_indices = grid.ref, grid.v_set, grid.y_indptr, grid.y_indices
    y_data = grid.y_data
    sbus_base, inj_coef = inj.sbus_base, inj.inj_coef
    base_mva, f_bus, t_bus, bus_lookup = maps.base_mva, maps.f_bus, maps.t_bus, maps.bus_lookup
    load_col, load_br, load_side = maps.load_col, maps.load_br, maps.load_side
    load_fac, line_br, loss_br, eg_bus = maps.load_fac, maps.line_br, maps.loss_br, maps.eg_bus
    eg_s0 = maps.eg_s0
    vm, va, loading, line_p = out.vm, out.va, out.loading, out.line_p
    eg_p, eg_q, losses = out.eg_p, out.eg_q, out.losses
    m = bus_of.shape[0]
    for j in range(m):
        b = bus_of[j]
        for k in range(LANES):
            VR[b, k] = vr[j, k]
            VI[b, k] = vi[j, k]
    for r in range(ref.shape[0]):
        for k in range(LANES):
            VR[ref[r], k] = v_set[ref[r]].real
            VI[ref[r], k] = v_set[ref[r]].imag
    _lane_matvec(maps.yf_indptr, maps.yf_indices, maps.yf_data, VR, VI, FR, FI)  # from-end
    _lane_matvec(maps.yt_indptr, maps.yt_indices, maps.yt_data, VR, VI, TR, TI)  # to-end
    rad2deg = 180.0 / np.pi
    for b in range(bus_lookup.shape[0]):
        c = bus_lookup[b]
        if c < 0:
            for k in range(LANES):
                BM[b, k] = np.nan
                BA[b, k] = np.nan
            continue
        cr = rot_r[c]
        ci = rot_i[c]
        a0 = rot_a[c]
        far = 0  # lanes whose angle is out of the polynomial's range
        for k in range(LANES):
            xr = VR[c, k]
            xi = VI[c, k]
            BM[b, k] = np.sqrt(xr * xr + xi * xi)
            zr = xr * cr - xi * ci
            zi = xr * ci + xi * cr
            u = zi / zr
            near = zr > 0.0 and abs(u) <= ATAN_U_MAX
            far += 0 if near else 1
            ang = a0 + _atan_small(u if near else 0.0)
            ang = ang - 2.0 * np.pi if ang > np.pi else ang
            ang = ang + 2.0 * np.pi if ang <= -np.pi else ang
            BA[b, k] = ang * rad2deg
            zr_s[k] = zr
            u_s[k] = u
        if far == 0:
            continue  # a branch per lane costs more than the polynomial itself
        for k in range(LANES):
            if not (zr_s[k] > 0.0 and abs(u_s[k]) <= ATAN_U_MAX):
                BA[b, k] = np.arctan2(VI[c, k], VR[c, k]) * rad2deg
    for col in range(BL.shape[0]):
        for k in range(LANES):
            BL[col, k] = 0.0
    for j in range(load_col.shape[0]):
        br = load_br[j]
        col = load_col[j]
        if br == -2:
            for k in range(LANES):
                BL[col, k] = np.nan
        elif br >= 0:
            fac = load_fac[j]
            IR, II = (FR, FI) if load_side[j] == 0 else (TR, TI)
            for k in range(LANES):
                val = np.sqrt(IR[br, k] * IR[br, k] + II[br, k] * II[br, k]) * fac
                cur = BL[col, k]
                BL[col, k] = val if (val > cur or val != val) else cur
    for j in range(line_br.shape[0]):
        br = line_br[j]
        if br >= 0:
            fb = f_bus[br]
            for k in range(LANES):
                BP[j, k] = (VR[fb, k] * FR[br, k] + VI[fb, k] * FI[br, k]) * base_mva
        else:
            for k in range(LANES):
                BP[j, k] = 0.0
    for k in range(LANES):
        lsum[k] = 0.0
    for j in range(loss_br.shape[0]):
        br = loss_br[j]
        fb = f_bus[br]
        tb = t_bus[br]
        for k in range(LANES):
            lsum[k] += (VR[fb, k] * FR[br, k] + VI[fb, k] * FI[br, k]
                        + VR[tb, k] * TR[br, k] + VI[tb, k] * TI[br, k])
    _transpose_out(BM, t_of, vm)
    _transpose_out(BA, t_of, va)
    _transpose_out(BL, t_of, loading)
    _transpose_out(BP, t_of, line_p)
    for k in range(LANES):
        t = t_of[k]
        if t >= 0:
            losses[t] = lsum[k] * base_mva
    eg_ptr, eg_col = maps.eg_inj_ptr, maps.eg_inj_col
    for e in range(eg_bus.shape[0]):
        b = eg_bus[e]
        for k in range(LANES):
            t = t_of[k]
            if t < 0:
                continue
            if b < 0:
                eg_p[t, e] = 0.0
                eg_q[t, e] = 0.0
                continue
            spec = sbus_base[b]
            for q in range(eg_ptr[e], eg_ptr[e + 1]):  # the columns at its bus only
                spec += inj_coef[eg_col[q]] * X[t, eg_col[q]]
            acc = 0j
            for p in range(y_indptr[b], y_indptr[b + 1]):
                acc += y_data[p] * complex(VR[y_indices[p], k], VI[y_indices[p], k])
            sc = (complex(VR[b, k], VI[b, k]) * np.conj(acc) - spec) * base_mva + eg_s0[e]
            eg_p[t, e] = sc.real
            eg_q[t, e] = sc.imag
