"""numba kernel of the controlled time series: an outer control loop around Newton-Raphson.

Each step is solved by the unchanged per-step Newton-Raphson of
:mod:`parkgrid.powerflow._kernels` (``_newton``), warm-started from the step before,
inside a loop of controller iterations:

1. **Q(U)**: the Q(U) elements' reactive powers are iterated to the fixed point
   ``q = clip(curve(|V|) * sn, +-sqrt(s_max^2 - p^2))`` (active power first) by
   Broyden's quasi-Newton method on the residual ``r(q) = target(V(q)) - q``: its
   Jacobian estimate starts at ``-I`` (the plain fixed point) and is carried from
   step to step, so the coupling between inverters on one feeder (which makes the
   plain fixed point oscillate) is learnt once; a step whose power flow fails is
   halved. The loop ends when every ``|r| < q_tol_mvar``.
2. **Tap changers** (pandapower ``DiscreteTapControl`` semantics): with the Q loop
   settled, a transformer whose controlled bus lies outside ``[vm_lower, vm_upper]``
   moves one tap towards the band (if not at its end position, and once the voltage
   has been outside the band for more than ``delay_steps`` steps in a row); the
   admittance entries of its branch are patched to the new position (patches
   computed from pandapower's own transformer model, see
   :mod:`parkgrid.powerflow._control`) and the loop goes back to 1.

Tap positions, delay counters and the Q(U) outputs carry over to the next step.
Tap changes patch ``grid.y_data`` and ``maps.yf_data``/``yt_data`` in place (the
caller passes private copies), so staged results are flushed before every patch.
"""

from __future__ import annotations

import numpy as np

from parkgrid.powerflow._jit import inner, kernel
from parkgrid.powerflow._kernels import (
    LANES,
    _injections,
    _lane_results,
    _nan_row,
    _newton,
    _results_workspace,
    _rotation,
)

__all__ = ["solve_controlled"]


@inner
def _interp(x, xs, ys):  # pragma: no cover - numba
    """Piecewise-linear ``y(x)`` through the points (xs ascending), flat beyond the ends."""
    n = xs.shape[0]
    if x <= xs[0]:
        return ys[0]
    if x >= xs[n - 1]:
        return ys[n - 1]
    for i in range(1, n):
        if x <= xs[i]:
            w = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
            return ys[i - 1] + w * (ys[i] - ys[i - 1])
    return ys[n - 1]


@inner
def _q_target(a, vm, p, ctl):  # pragma: no cover - numba
    """Target reactive power [Mvar] of Q(U) element ``a`` at voltage ``vm`` and power ``p``."""
    lo = ctl.qv_ptr[a]
    hi = ctl.qv_ptr[a + 1]
    q = _interp(vm, ctl.qv_v[lo:hi], ctl.qv_q[lo:hi]) * ctl.q_sn_mva[a]
    s = ctl.q_s_max_mva[a]
    room = s * s - p * p
    qmax = np.sqrt(room) if room > 0.0 else 0.0
    if q > qmax:
        q = qmax
    elif q < -qmax:
        q = -qmax
    return q


@inner
def _apply_tap(k, new_pos, ctl, y_data, yf_data, yt_data, tap):  # pragma: no cover - numba
    """Move transformer ``k`` to ``new_pos``: patch its admittance entries."""
    old = tap[k]
    lo = ctl.tp_ptr[k]
    n_e = ctl.tp_ptr[k + 1] - lo
    base = ctl.tp_off[k]
    r_old = old - ctl.tap_min[k]
    r_new = new_pos - ctl.tap_min[k]
    for e in range(n_e):
        d = ctl.tp_val[base + r_new * n_e + e] - ctl.tp_val[base + r_old * n_e + e]
        idx = ctl.tp_idx[lo + e]
        mat = ctl.tp_mat[lo + e]
        if mat == 0:
            y_data[idx] += d
        elif mat == 1:
            yf_data[idx] += d
        else:
            yt_data[idx] += d
    tap[k] = new_pos


@inner
def _broyden(jac, q, q_prev, r, r_prev, w):  # pragma: no cover - numba
    """Broyden's ("good") rank-one update of ``jac`` from the last step of q and r."""
    m = q.shape[0]
    den = 0.0
    for a in range(m):
        w[a] = q[a] - q_prev[a]
        den += w[a] * w[a]
    if den <= 1e-24:
        return
    for i in range(m):
        acc = r[i] - r_prev[i]
        for j in range(m):
            acc -= jac[i, j] * w[j]
        acc /= den
        for j in range(m):
            jac[i, j] += acc * w[j]


@inner
def _solve_dense(jac, r, out):  # pragma: no cover - numba
    """``out = -jac^-1 r`` by Gaussian elimination with partial pivoting; False if singular."""
    m = r.shape[0]
    a = jac.copy()
    for i in range(m):
        out[i] = -r[i]
    for c in range(m):
        piv = c
        for i in range(c + 1, m):
            if abs(a[i, c]) > abs(a[piv, c]):
                piv = i
        if not abs(a[piv, c]) > 1e-12:
            return False
        if piv != c:
            for j in range(m):
                a[c, j], a[piv, j] = a[piv, j], a[c, j]
            out[c], out[piv] = out[piv], out[c]
        for i in range(c + 1, m):
            f = a[i, c] / a[c, c]
            for j in range(c, m):
                a[i, j] -= f * a[c, j]
            out[i] -= f * out[c]
    for c in range(m - 1, -1, -1):
        acc = out[c]
        for j in range(c + 1, m):
            acc -= a[c, j] * out[j]
        out[c] = acc / a[c, c]
    return True


@kernel
def solve_controlled(X, v_start, opts, grid, inj, nr, maps, out, ctl, state,
                     cout):  # pragma: no cover - numba
    """Solve every row of ``X`` in order with the controllers of ``ctl``.

    ``X`` float64 (steps, n_col) profile values [MW or Mvar]; ``v_start``
    complex128 (n,) [pu], the start of the first row, overwritten with the voltages
    of the last solved row; ``opts``, ``grid``, ``inj``, ``nr``, ``maps``, ``out`` as
    :func:`parkgrid.powerflow._kernels.solve_chunk` (``grid.y_data`` and
    ``maps.yf_data``/``yt_data`` private copies at the taps of ``state.tap``);
    ``ctl`` a :class:`~parkgrid.powerflow._control.ControlArgs`, ``state`` a
    :class:`~parkgrid.powerflow._control.ControlState` (updated: the state after
    the last row), ``cout`` the :class:`~parkgrid.powerflow._control.ControlOutputs`.
    """
    tol, max_iter = opts.tol_pu, opts.max_iter
    iters, mism, meth = out.iters, out.mism, out.meth
    base_mva = maps.base_mva
    n = v_start.shape[0]
    n_tap = ctl.tap_bus.shape[0]
    n_q = ctl.q_bus.shape[0]
    m_j = nr.ja_indptr.shape[0] - 1
    s0 = np.empty(n, dtype=np.complex128)
    s = np.empty(n, dtype=np.complex128)
    v = v_start.copy()
    v_good = v_start.copy()
    ws = (np.empty(n, dtype=np.complex128), np.empty(m_j), np.empty(nr.ja_indices.shape[0]),
          np.empty(nr.jl_indices.shape[0]), np.empty(nr.ju_indices.shape[0]), np.empty(m_j),
          np.zeros(m_j), np.empty(m_j), np.empty(n), np.empty(n))
    bus_of = np.concatenate((grid.pv, grid.pq))
    st_r = np.empty((bus_of.shape[0], LANES))
    st_i = np.empty((bus_of.shape[0], LANES))
    st_t = np.full(LANES, -1, dtype=np.int64)
    n_st = 0
    work = _results_workspace(n, maps.bus_lookup.shape[0], maps.f_bus.shape[0],
                              out.loading.shape[1], maps.line_br.shape[0])
    rot_a, rot_r, rot_i = _rotation(v_start)
    tap = state.tap
    wait = state.wait
    q = state.q
    p_a = np.empty(n_q)
    r_prev = np.empty(n_q)
    r_now = np.empty(n_q)
    q_prev = np.empty(n_q)
    dq = np.empty(n_q)
    v_try = np.empty(n, dtype=np.complex128)
    # Jacobian estimate of r(q) = target(V(q)) - q, carried from step to step
    jac = np.zeros((n_q, n_q))
    for a in range(n_q):
        jac[a, a] = -1.0
    y_data, yf_data, yt_data = grid.y_data, maps.yf_data, maps.yt_data
    steps = X.shape[0]
    for t in range(steps):
        _injections(t, X, inj, s0)
        for a in range(n_q):
            c = ctl.q_col[a]
            p_a[a] = X[t, c] if c >= 0 else ctl.q_p_static[a]
        moved = np.zeros(n_tap, dtype=np.int64)
        it_total = 0
        n_outer = 0
        ok = True
        settled = False
        last_mis = 0.0
        q_stuck = False
        while n_outer < ctl.max_outer:
            # ---- Q(U) loop at the present taps ---------------------------------
            n_q_it = 0
            halvings = 0
            while True:
                for b in range(n):
                    s[b] = s0[b]
                for a in range(n_q):
                    s[ctl.q_bus[a]] += 1j * q[a] / base_mva
                for b in range(n):
                    v_try[b] = v[b]
                it_nr, mis, done = _newton(s, v, grid, nr, tol, max_iter, ws)
                it_total += it_nr
                n_outer += 1
                last_mis = mis
                if not done:
                    if n_q_it == 0 or halvings >= 8:
                        ok = False
                        break
                    # the quasi-Newton step went too far: back to half of it
                    halvings += 1
                    for b in range(n):
                        v[b] = v_try[b]
                    for a in range(n_q):
                        q[a] = 0.5 * (q[a] + q_prev[a])
                    continue
                worst = 0.0
                for a in range(n_q):
                    r_now[a] = _q_target(a, abs(v[ctl.q_bus[a]]), p_a[a], ctl) - q[a]
                    if abs(r_now[a]) > worst:
                        worst = abs(r_now[a])
                if worst <= ctl.q_tol_mvar:
                    break
                if n_outer >= ctl.max_outer:  # not settled: keep the last solve
                    q_stuck = True
                    break
                if n_q_it > 0:
                    _broyden(jac, q, q_prev, r_now, r_prev, dq)
                for a in range(n_q):
                    r_prev[a] = r_now[a]
                    q_prev[a] = q[a]
                if not _solve_dense(jac, r_now, dq):
                    for a in range(n_q):  # singular estimate: start again from -I
                        for b2 in range(n_q):
                            jac[a, b2] = -1.0 if a == b2 else 0.0
                        dq[a] = r_now[a]
                for a in range(n_q):  # never beyond the inverter's room
                    sm = ctl.q_s_max_mva[a]
                    room = sm * sm - p_a[a] * p_a[a]
                    lim = np.sqrt(room) if room > 0.0 else 0.0
                    q[a] = min(lim, max(-lim, q[a] + dq[a]))
                n_q_it += 1
            if not ok or q_stuck:
                break
            # ---- tap changers on the settled voltages --------------------------
            step_any = False
            for k in range(n_tap):
                vm = abs(v[ctl.tap_bus[k]])
                inc = 0
                if vm < ctl.tap_lo[k]:
                    inc = -ctl.tap_dir[k]
                elif vm > ctl.tap_hi[k]:
                    inc = ctl.tap_dir[k]
                if inc == 0:
                    wait[k] = 0
                    continue
                new_pos = tap[k] + inc
                if new_pos < ctl.tap_min[k] or new_pos > ctl.tap_max[k]:
                    continue  # at its end position: nothing more it can do
                if moved[k] == 0 and wait[k] < ctl.tap_delay[k]:
                    wait[k] += 1  # the relay's delay: outside the band, not yet acting
                    continue
                if not step_any and n_st > 0:  # results of staged rows use the old taps
                    st_t[n_st:] = -1
                    _lane_results(st_t, st_r, st_i, bus_of, rot_r, rot_i, rot_a, X, grid, inj,
                                  maps, out, work)
                    n_st = 0
                _apply_tap(k, new_pos, ctl, y_data, yf_data, yt_data, tap)
                moved[k] += 1
                step_any = True
            if not step_any:
                settled = True
                break
        for k in range(n_tap):
            if moved[k] > 0:
                wait[k] = 0
            cout.tap_pos[t, k] = tap[k]
            cout.tap_moves[t, k] = moved[k]
        for a in range(n_q):
            cout.q_mvar[t, a] = q[a]
        cout.outer[t] = n_outer
        cout.settled[t] = settled
        iters[t] = it_total
        mism[t] = last_mis
        if ok:
            meth[t] = 2
            for b in range(n):
                v_good[b] = v[b]
            for j in range(bus_of.shape[0]):
                st_r[j, n_st] = v[bus_of[j]].real
                st_i[j, n_st] = v[bus_of[j]].imag
            st_t[n_st] = t
            n_st += 1
        else:
            meth[t] = 0
            _nan_row(t, out)
            for b in range(n):
                v[b] = v_good[b]
        if n_st == LANES or (n_st > 0 and t == steps - 1):
            st_t[n_st:] = -1
            _lane_results(st_t, st_r, st_i, bus_of, rot_r, rot_i, rot_a, X, grid, inj, maps,
                          out, work)
            n_st = 0
    for b in range(n):  # the next block starts from here
        v_start[b] = v_good[b]
