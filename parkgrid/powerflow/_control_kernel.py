"""numba kernels of the controlled time series: tap changers and Q(U) in the year's power flow.

Two kernels give the same result (the settled point of every step, taps as
pandapower's ``DiscreteTapControl`` moves them):

* :func:`~parkgrid.powerflow._control_lanes.solve_controlled_lanes`, the fast path
  on grids whose non-slack buses are all PQ: chunks of steps solved at held taps by
  the fixed point in SIMD lanes with Q(U) inside its iteration, then the tap
  changers' rule applied in time order; a step where a tap moves is solved by the
  step-by-step loop below, and the rest of the chunk again at the new taps.
* :func:`solve_controlled`, step by step (:func:`_control_step`).

The step-by-step loop solves a step by the unchanged per-step Newton-Raphson of
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
    _injections,
    _nan_row,
    _newton,
    _nr_workspace,
    _stage_flush,
    _stage_new,
    _stage_push,
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


@inner
def _q_target_slope(a, vm, p, ctl):  # pragma: no cover - numba
    """Target reactive power [Mvar] of Q(U) element ``a`` and its slope d q / d|V| [Mvar/pu].

    As :func:`_q_target`; the slope is 0 on a flat part of the curve, beyond its ends
    and where the apparent-power limit cuts the target.
    """
    lo = ctl.qv_ptr[a]
    hi = ctl.qv_ptr[a + 1]
    sn = ctl.q_sn_mva[a]
    q = ctl.qv_q[hi - 1] * sn
    slope = 0.0
    if vm <= ctl.qv_v[lo]:
        q = ctl.qv_q[lo] * sn
    elif vm < ctl.qv_v[hi - 1]:
        for i in range(lo + 1, hi):
            if vm <= ctl.qv_v[i]:
                g = (ctl.qv_q[i] - ctl.qv_q[i - 1]) / (ctl.qv_v[i] - ctl.qv_v[i - 1])
                q = (ctl.qv_q[i - 1] + (vm - ctl.qv_v[i - 1]) * g) * sn
                slope = g * sn
                break
    s = ctl.q_s_max_mva[a]
    room = s * s - p * p
    qmax = np.sqrt(room) if room > 0.0 else 0.0
    if q > qmax:
        return qmax, 0.0
    if q < -qmax:
        return -qmax, 0.0
    return q, slope


@inner
def _control_workspace(n, n_q, n_tap):  # pragma: no cover - numba
    """Scratch arrays of :func:`_control_step` and Broyden's Jacobian estimate (-I)."""
    jac = np.zeros((n_q, n_q))
    for a in range(n_q):
        jac[a, a] = -1.0
    return (np.empty(n, dtype=np.complex128), np.empty(n, dtype=np.complex128),
            np.empty(n, dtype=np.complex128), np.empty(n_q), np.empty(n_q), np.empty(n_q),
            np.empty(n_q), np.empty(n_q), np.zeros(n_tap, dtype=np.int64), jac)


@inner
def _control_step(t, X, v, v_good, tol, max_iter, grid, inj, nr, maps, out, ctl, state, cout,
                  ws, cw, stage):  # pragma: no cover - numba
    """Solve row ``t`` by the outer control loop (module docstring); True if a tap moved.

    ``v`` holds the start voltages and receives the solution (``v_good`` too, or
    ``v`` is reset to ``v_good`` if the step fails); ``state`` (tap, wait, q) is
    updated; the row's outputs are written and its voltages staged (``stage``,
    flushed before a tap patch). ``ws`` from :func:`_nr_workspace`, ``cw`` from
    :func:`_control_workspace` (Broyden's estimate in it carries over).
    """
    s0, s, v_try, p_a, r_prev, r_now, q_prev, dq, moved, jac = cw
    tap, wait, q = state.tap, state.wait, state.q
    iters, mism, meth = out.iters, out.mism, out.meth
    base_mva = maps.base_mva
    n = v.shape[0]
    n_tap = ctl.tap_bus.shape[0]
    n_q = ctl.q_bus.shape[0]
    y_data, yf_data, yt_data = grid.y_data, maps.yf_data, maps.yt_data
    _injections(t, X, inj, s0)
    for a in range(n_q):
        c = ctl.q_col[a]
        p_a[a] = X[t, c] if c >= 0 else ctl.q_p_static[a]
    for k in range(n_tap):
        moved[k] = 0
    it_total = 0
    n_outer = 0
    ok = True
    settled = False
    last_mis = 0.0
    q_stuck = False
    any_move = False
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
            if not step_any:  # results of staged rows use the old taps
                _stage_flush(stage, X, grid, inj, maps, out)
            _apply_tap(k, new_pos, ctl, y_data, yf_data, yt_data, tap)
            moved[k] += 1
            step_any = True
            any_move = True
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
        _stage_push(stage, t, v, X, grid, inj, maps, out)
    else:
        meth[t] = 0
        _nan_row(t, out)
        for b in range(n):
            v[b] = v_good[b]
    return any_move


@kernel
def solve_controlled(X, v_start, opts, grid, inj, nr, maps, out, ctl, state,
                     cout):  # pragma: no cover - numba
    """Solve every row of ``X`` in order with the controllers of ``ctl``, step by step.

    ``X`` float64 (steps, n_col) profile values [MW or Mvar]; ``v_start``
    complex128 (n,) [pu], the start of the first row, overwritten with the voltages
    of the last solved row; ``opts``, ``grid``, ``inj``, ``nr``, ``maps``, ``out`` as
    :func:`parkgrid.powerflow._kernels.solve_chunk` (``grid.y_data`` and
    ``maps.yf_data``/``yt_data`` private copies at the taps of ``state.tap``);
    ``ctl`` a :class:`~parkgrid.powerflow._control.ControlArgs`, ``state`` a
    :class:`~parkgrid.powerflow._control.ControlState` (updated: the state after
    the last row), ``cout`` the :class:`~parkgrid.powerflow._control.ControlOutputs`.
    """
    n = v_start.shape[0]
    v = v_start.copy()
    v_good = v_start.copy()
    ws = _nr_workspace(n, nr)
    cw = _control_workspace(n, ctl.q_bus.shape[0], ctl.tap_bus.shape[0])
    stage = _stage_new(np.concatenate((grid.pv, grid.pq)), n, maps, out, v_start)
    for t in range(X.shape[0]):
        _control_step(t, X, v, v_good, opts.tol_pu, opts.max_iter, grid, inj, nr, maps, out,
                      ctl, state, cout, ws, cw, stage)
    _stage_flush(stage, X, grid, inj, maps, out)
    for b in range(n):  # the next block starts from here
        v_start[b] = v_good[b]
