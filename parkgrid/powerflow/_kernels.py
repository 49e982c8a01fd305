"""numba kernels of the batch power flow: per-step solvers and result extraction.

Two solvers share one step loop:

* **fixed point** (implicit Z-bus / current injection) for grids whose non-slack
  buses are all PQ: ``V_pq <- Ynn^-1 (conj(S / V) - Yns V_s)``. ``Ynn`` is factorised
  once for the whole run, so an iteration is one pair of triangular solves. Its
  power mismatch needs no extra product: after an update,
  ``S_calc = V_new * S / V_old``, so ``mismatch = S * (V_new - V_old) / V_old``.
* **Newton-Raphson** in polar form (as MATPOWER/pandapower) for PV buses, meshed or
  heavily loaded grids and for steps where the fixed point is slow or diverges;
  the Jacobian is refactorised on a fixed symbolic pattern every iteration.

Steps are split into contiguous chunks solved in parallel threads (the kernel
releases the GIL; a plain thread pool avoids numba's slow-to-compile parallel
pipeline); inside a chunk each step warm-starts from the previous one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from parkgrid.powerflow._sparse import lu_factor, lu_solve

__all__ = ["METHOD_CODES", "factor_once", "solve_chunk"]

#: per-step method codes written by :func:`solve_chunk`
METHOD_CODES = {0: "failed", 1: "fixed_point", 2: "newton"}


@njit(cache=True)
def _injections(t, X, sbus_base, inj_bus, inj_coef, s):  # pragma: no cover - numba
    s[:] = sbus_base
    for c in range(inj_bus.shape[0]):
        b = inj_bus[c]
        if b >= 0:
            s[b] += inj_coef[c] * X[t, c]


@njit(cache=True)
def factor_once(n, a_indptr, a_indices, a_data, l_indptr, l_indices, u_indptr,
                u_indices):  # pragma: no cover - numba
    """Factorise a matrix once; returns (ok, l_data, u_data, u_diag)."""
    l_data = np.zeros(l_indices.shape[0], dtype=a_data.dtype)
    u_data = np.zeros(u_indices.shape[0], dtype=a_data.dtype)
    u_diag = np.zeros(n, dtype=a_data.dtype)
    work = np.zeros(n, dtype=a_data.dtype)
    ok = lu_factor(n, a_indptr, a_indices, a_data, l_indptr, l_indices, l_data,
                   u_indptr, u_indices, u_data, u_diag, work)
    return ok, l_data, u_data, u_diag


@njit(cache=True)
def _fixed_point(s, v, pq, fp_c, fp_perm, l_indptr, l_indices, l_data, u_indptr,
                 u_indices, u_data, u_diag, tol, max_iter, rhs, vnew):  # pragma: no cover
    """Iterate in place on ``v``; returns (iterations, mismatch, converged)."""
    m = pq.shape[0]
    mis = np.inf
    for it in range(1, max_iter + 1):
        for j in range(m):
            k = fp_perm[j]
            b = pq[k]
            vb = v[b]
            # conj(s / v) without a complex division: conj(s) * v / |v|^2
            inv2 = 1.0 / (vb.real * vb.real + vb.imag * vb.imag)
            vnew[j] = vb * inv2
            rhs[j] = np.conj(s[b]) * vnew[j] - fp_c[k]
        lu_solve(m, l_indptr, l_indices, l_data, u_indptr, u_indices, u_data, u_diag, rhs)
        mis = 0.0
        for j in range(m):
            b = pq[fp_perm[j]]
            # S_calc - S = s * (v_new - v) / v, and 1 / v = conj(v / |v|^2)
            d = s[b] * (rhs[j] - v[b]) * np.conj(vnew[j])
            a = max(abs(d.real), abs(d.imag))
            if not a <= mis:  # also catches NaN
                mis = a
            v[b] = rhs[j]
        if mis < tol:
            return it, mis, True
        if not mis < 1e6:
            return it, mis, False
    return max_iter, mis, False


@njit(cache=True)
def _mismatch(n, y_indptr, y_indices, y_data, v, s, i_bus, jp, jq, f):  # pragma: no cover
    """Bus currents into ``i_bus`` and Newton mismatch vector into ``f``; returns max|f|."""
    worst = 0.0
    for i in range(n):
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


@njit(cache=True)
def _newton(s, v, v_set, ref, pv, pq, n, y_indptr, y_indices, y_data, jp, jq, pos_pa,
            pos_pm, pos_qa, pos_qm, j_perm, ja_indptr, ja_indices, jl_indptr,
            jl_indices, ju_indptr, ju_indices, tol, max_iter, ws):  # pragma: no cover
    """Newton-Raphson in place on ``v``; returns (iterations, mismatch, converged)."""
    (i_bus, f, j_data, l_data, u_data, u_diag, work, dx, vm, va) = ws
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
    worst = _mismatch(n, y_indptr, y_indices, y_data, v, s, i_bus, jp, jq, f)
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
        ok = lu_factor(m, ja_indptr, ja_indices, j_data, jl_indptr, jl_indices, l_data,
                       ju_indptr, ju_indices, u_data, u_diag, work)
        if not ok:
            return it, worst, False
        for j in range(m):
            dx[j] = -f[j_perm[j]]
        lu_solve(m, jl_indptr, jl_indices, l_data, ju_indptr, ju_indices, u_data, u_diag, dx)
        for j in range(m):
            f[j_perm[j]] = dx[j]  # f now holds the step in natural order
        for b in range(n):
            if jp[b] >= 0:
                va[b] += f[jp[b]]
            if jq[b] >= 0:
                vm[b] += f[jq[b]]
            v[b] = vm[b] * np.exp(1j * va[b])
        worst = _mismatch(n, y_indptr, y_indices, y_data, v, s, i_bus, jp, jq, f)


@njit(cache=True, nogil=True)
def solve_chunk(X, t0, t1, v_start, mode, tol, max_iter, fp_max_iter, sbus_base,
                inj_bus, inj_coef, y_indptr, y_indices, y_data, v_set, ref, pv, pq,
                fp_c, fp_perm, fl_indptr, fl_indices, fl_data, fu_indptr, fu_indices,
                fu_data, fu_diag, jp, jq, pos_pa, pos_pm, pos_qa, pos_qm, j_perm,
                ja_indptr, ja_indices, jl_indptr, jl_indices, ju_indptr,
                ju_indices, base_mva, yf_indptr, yf_indices, yf_data, yt_indptr,
                yt_indices, yt_data, f_bus, t_bus, bus_lookup, load_col, load_br, load_side,
                load_fac, line_br, loss_br, eg_bus, eg_s0, v_last, iters, mism, meth, vm, va,
                loading, line_p, eg_p, eg_q, losses):  # pragma: no cover - numba
    """Solve rows ``t0:t1`` of ``X`` (profile values) in order, warm-starting each.

    ``mode`` 0 auto, 1 fixed point, 2 Newton.

    Writes iterations, mismatch [pu], method code (0 = failed) and the results of
    :func:`_step_results` per step; ``v_last`` receives the last good voltages.
    Releases the GIL, so chunks of one block run in parallel threads.
    """
    n = v_start.shape[0]
    m_j = ja_indptr.shape[0] - 1
    s = np.empty(n, dtype=np.complex128)
    v = v_start.copy()
    v_good = v_start.copy()
    rhs = np.empty(pq.shape[0], dtype=np.complex128)
    vnew = np.empty(pq.shape[0], dtype=np.complex128)
    i_f = np.empty(f_bus.shape[0], dtype=np.complex128)
    i_t = np.empty(f_bus.shape[0], dtype=np.complex128)
    ws = (np.empty(n, dtype=np.complex128), np.empty(m_j), np.empty(ja_indices.shape[0]),
          np.empty(jl_indices.shape[0]), np.empty(ju_indices.shape[0]), np.empty(m_j),
          np.zeros(m_j), np.empty(m_j), np.empty(n), np.empty(n))
    for t in range(t0, t1):
        _injections(t, X, sbus_base, inj_bus, inj_coef, s)
        done = False
        meth[t] = 0
        it_total = 0
        mis = np.inf
        if mode != 2:
            cap = fp_max_iter if mode == 0 else max_iter
            it_fp, mis, done = _fixed_point(
                s, v, pq, fp_c, fp_perm, fl_indptr, fl_indices, fl_data, fu_indptr,
                fu_indices, fu_data, fu_diag, tol, cap, rhs, vnew)
            it_total += it_fp
            if done:
                meth[t] = 1
            elif mode == 0:
                v[:] = v_good
        if not done and mode != 1:
            it_nr, mis, done = _newton(
                s, v, v_set, ref, pv, pq, n, y_indptr, y_indices, y_data, jp, jq,
                pos_pa, pos_pm, pos_qa, pos_qm, j_perm, ja_indptr, ja_indices,
                jl_indptr, jl_indices, ju_indptr, ju_indices, tol, max_iter, ws)
            it_total += it_nr
            if done:
                meth[t] = 2
        iters[t] = it_total
        mism[t] = mis
        _step_results(t, v, done, X[t], sbus_base, inj_bus, inj_coef, base_mva,
                      y_indptr, y_indices, y_data, yf_indptr, yf_indices, yf_data,
                      yt_indptr, yt_indices, yt_data, f_bus, t_bus, bus_lookup,
                      load_col, load_br, load_side, load_fac, line_br, loss_br,
                      eg_bus, eg_s0, vm, va, loading, line_p, eg_p, eg_q, losses,
                      i_f, i_t)
        if done:
            v_good[:] = v
        else:
            meth[t] = 0
            v[:] = v_good  # next step restarts from the last good solution
    v_last[:] = v_good


@njit(cache=True)
def _step_results(t, v, ok, x_row, sbus_base, inj_bus, inj_coef, base_mva, y_indptr,
                  y_indices, y_data, yf_indptr, yf_indices, yf_data, yt_indptr, yt_indices,
                  yt_data, f_bus, t_bus, bus_lookup, load_col, load_br, load_side, load_fac,
                  line_br, loss_br, eg_bus, eg_s0, vm, va, loading, line_p, eg_p, eg_q,
                  losses, i_f, i_t):  # pragma: no cover - numba
    """Write pandapower-style results of step ``t`` (NaN everywhere if not ``ok``)."""
    if not ok:
        vm[t, :] = np.nan
        va[t, :] = np.nan
        loading[t, :] = np.nan
        line_p[t, :] = np.nan
        eg_p[t, :] = np.nan
        eg_q[t, :] = np.nan
        losses[t] = np.nan
        return
    rad2deg = 180.0 / np.pi
    for br in range(f_bus.shape[0]):
        af = 0j
        for p in range(yf_indptr[br], yf_indptr[br + 1]):
            af += yf_data[p] * v[yf_indices[p]]
        at = 0j
        for p in range(yt_indptr[br], yt_indptr[br + 1]):
            at += yt_data[p] * v[yt_indices[p]]
        i_f[br] = af
        i_t[br] = at
    for b in range(bus_lookup.shape[0]):
        k = bus_lookup[b]
        if k >= 0:
            vm[t, b] = np.sqrt(v[k].real * v[k].real + v[k].imag * v[k].imag)
            va[t, b] = np.arctan2(v[k].imag, v[k].real) * rad2deg
        else:
            vm[t, b] = np.nan
            va[t, b] = np.nan
    loading[t, :] = 0.0
    for j in range(load_col.shape[0]):
        br = load_br[j]
        col = load_col[j]
        if br == -2:
            loading[t, col] = np.nan
        elif br >= 0:
            z = i_f[br] if load_side[j] == 0 else i_t[br]
            val = np.sqrt(z.real * z.real + z.imag * z.imag) * load_fac[j]
            if val > loading[t, col] or np.isnan(val):
                loading[t, col] = val
    for j in range(line_br.shape[0]):
        br = line_br[j]
        if br >= 0:
            line_p[t, j] = (v[f_bus[br]] * np.conj(i_f[br])).real * base_mva
        else:
            line_p[t, j] = 0.0
    tot = 0.0
    for j in range(loss_br.shape[0]):
        br = loss_br[j]
        tot += (v[f_bus[br]] * np.conj(i_f[br]) + v[t_bus[br]] * np.conj(i_t[br])).real
    losses[t] = tot * base_mva
    for e in range(eg_bus.shape[0]):
        b = eg_bus[e]
        if b < 0:
            eg_p[t, e] = 0.0
            eg_q[t, e] = 0.0
            continue
        spec = sbus_base[b]
        for cc in range(inj_bus.shape[0]):
            if inj_bus[cc] == b:
                spec += inj_coef[cc] * x_row[cc]
        acc = 0j
        for p in range(y_indptr[b], y_indptr[b + 1]):
            acc += y_data[p] * v[y_indices[p]]
        sc = (v[b] * np.conj(acc) - spec) * base_mva + eg_s0[e]
        eg_p[t, e] = sc.real
        eg_q[t, e] = sc.imag
