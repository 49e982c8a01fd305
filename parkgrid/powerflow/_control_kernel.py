"""numba kernels of the controlled time series: tap changers and Q(U) in the year's power flow.

Two kernels give the same result (the settled point of every step, taps as
pandapower's ``DiscreteTapControl`` moves them):

* :func:`solve_controlled_lanes`, the fast path on grids whose non-slack buses are
  all PQ: chunks of steps solved at held taps by the fixed point in SIMD lanes with
  Q(U) inside its iteration, then the tap changers' rule applied in time order;
  a step where a tap moves is solved by the step-by-step loop below, and the rest
  of the chunk again at the new taps.
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
    LANES,
    _fp_sweep,
    _injections,
    _lane_load,
    _nan_row,
    _newton,
    _nr_workspace,
    _stage_flush,
    _stage_new,
    _stage_push,
)

__all__ = ["CHUNK_MAX", "CHUNK_MIN", "solve_controlled", "solve_controlled_lanes"]


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


#: rows of the first chunk a call of :func:`solve_controlled_lanes` solves at held taps;
#: each chunk without a tap move doubles the next, up to :data:`CHUNK_MAX`
CHUNK_MIN = 2 * LANES
CHUNK_MAX = 32 * LANES
#: largest power mismatch [pu] at which a lane's Q(U) outputs take their Newton step;
#: above it the fixed point goes on at the present q (a q step taken from a voltage
#: far from the solution can lead the pair to the low-voltage branch)
Q_STEP_MISMATCH = 1e-4


@inner
def _q_newton(sens, kv, r, dq, act, jw, rhs):  # pragma: no cover - numba
    """Newton step ``dq`` on ``r(q) = target(|V(q)|) - q`` (one lane).

    ``(I - K M) dq = r`` with ``K = diag(kv)`` the curves' slopes [Mvar/pu] and ``M
    = sens`` the linearised d|V_a|/d q_b [pu/Mvar]; elements on a flat part (``kv``
    0) take ``dq = r``, the others solve the reduced system by elimination without
    pivoting (its pivots are >= 1 for falling curves on an inductive grid). A pivot
    below 0.5 (a rising curve) leaves the plain fixed-point step ``dq = r``.
    """
    n_q = r.shape[0]
    n_act = 0
    for a in range(n_q):
        dq[a] = r[a]
        if kv[a] != 0.0:
            act[n_act] = a
            n_act += 1
    if n_act == 0:
        return
    for i in range(n_act):
        a = act[i]
        acc = r[a]
        for b in range(n_q):
            if kv[b] == 0.0:
                acc += kv[a] * sens[a, b] * r[b]
        rhs[i] = acc
        for j in range(n_act):
            jw[i, j] = (1.0 if i == j else 0.0) - kv[a] * sens[a, act[j]]
    for c in range(n_act):
        piv = jw[c, c]
        if not piv >= 0.5:
            return
        for i in range(c + 1, n_act):
            f = jw[i, c] / piv
            if f != 0.0:
                for j in range(c, n_act):
                    jw[i, j] -= f * jw[c, j]
                rhs[i] -= f * rhs[c]
    for c in range(n_act - 1, -1, -1):
        acc = rhs[c]
        for j in range(c + 1, n_act):
            acc -= jw[c, j] * rhs[j]
        rhs[c] = acc / jw[c, c]
    for i in range(n_act):
        dq[act[i]] = rhs[i]


@inner
def _set_q_injection(k, qa, q_j, si, sq, base_mva):  # pragma: no cover - numba
    """Lane ``k``'s injections with the Q(U) outputs: ``sq = si + j q / base`` at their buses."""
    for a in range(q_j.shape[0]):
        sq[q_j[a], k] = si[q_j[a], k]
    for a in range(q_j.shape[0]):
        sq[q_j[a], k] += qa[a, k] / base_mva


@kernel
def solve_controlled_lanes(X, r0, v_start, opts, grid, inj, nr, fp, sens, maps, out, ctl,
                           state, cout):  # pragma: no cover - numba
    """Rows ``r0:`` of ``X`` with the controllers: the fixed point in lanes, Q(U) inside.

    Chunks of rows (:data:`CHUNK_MIN` first, doubling up to :data:`CHUNK_MAX`) are
    solved at the present taps in :data:`LANES` lanes as
    :func:`parkgrid.powerflow._kernels.solve_chunk_lanes` does, each lane a run of
    consecutive rows warm-started from the row before, with each Q(U) element's
    reactive power iterated inside the fixed point: after every sweep ``q`` takes a
    Newton step on ``target(|V|) - q`` (:func:`_q_newton`, with ``sens`` the
    linearised d|V|/dq of the Q(U) buses at these taps [pu/Mvar], float64 (n_q,
    n_q)) and a row is solved when both the power mismatch is below ``opts.tol_pu``
    and every ``|target - q|`` below ``ctl.q_tol_mvar`` -- the settled point of the
    step-by-step loop of :func:`solve_controlled`. The chunk's rows are then taken in
    time order with the tap changers' rule (band, end positions, delay counters); a
    row where a tap would move, or that the lanes did not solve within
    ``opts.max_iter`` sweeps, is solved by :func:`_control_step` from the lanes'
    solution (or the last committed state), exactly as :func:`solve_controlled`
    does. After a tap moved the rows solved at the old taps are void: the call
    returns the next row, for the caller to pass the fixed point's factors ``fp``
    (a :class:`~parkgrid.powerflow._kernel_args.FixedPointFactors`) and ``sens`` of
    the new taps; else it returns ``X.shape[0]``. Only for grids whose non-slack
    buses are all PQ. Other arguments as :func:`solve_controlled`.
    """
    tol, max_iter = opts.tol_pu, opts.max_iter
    q_tol = ctl.q_tol_mvar
    base_mva = maps.base_mva
    iters, mism, meth = out.iters, out.mism, out.meth
    tap, wait, q_state = state.tap, state.wait, state.q
    pq = grid.pq
    fp_perm, fp_c = fp.fp_perm, fp.fp_c
    sbus_base, inj_bus, inj_coef = inj.sbus_base, inj.inj_bus, inj.inj_coef
    n = v_start.shape[0]
    m = pq.shape[0]
    n_q = ctl.q_bus.shape[0]
    n_tap = ctl.tap_bus.shape[0]
    steps = X.shape[0]
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
    q_j = np.empty(n_q, dtype=np.int64)
    for a in range(n_q):
        q_j[a] = pos[ctl.q_bus[a]]
    tap_j = np.empty(n_tap, dtype=np.int64)
    for k in range(n_tap):
        tap_j[k] = pos[ctl.tap_bus[k]]  # -1: a slack bus (fixed voltage)
    # lanes
    vr = np.empty((m, LANES))
    vi = np.empty((m, LANES))
    gr = np.empty((m, LANES))  # last good solution per lane
    gi = np.empty((m, LANES))
    sr = np.empty((m, LANES))
    si = np.empty((m, LANES))
    sq = np.empty((m, LANES))  # si with the Q(U) outputs
    rr = np.empty((m, LANES))
    ri = np.empty((m, LANES))
    wr = np.empty((m, LANES))
    wi = np.empty((m, LANES))
    mis = np.empty(LANES)
    bad = np.empty(LANES)
    it_k = np.zeros(LANES, dtype=np.int64)
    qa = np.empty((n_q, LANES))
    qg = np.empty((n_q, LANES))
    pa = np.empty((n_q, LANES))
    lo = np.empty(LANES, dtype=np.int64)
    hi = np.empty(LANES, dtype=np.int64)
    cur = np.empty(LANES, dtype=np.int64)
    kv = np.empty(n_q)
    rq = np.empty(n_q)
    dq = np.empty(n_q)
    act = np.empty(n_q, dtype=np.int64)
    jw = np.empty((n_q, n_q))
    rhs = np.empty(n_q)
    # a chunk's rows, solved at held taps
    bv_r = np.empty((m, CHUNK_MAX))
    bv_i = np.empty((m, CHUNK_MAX))
    bq = np.empty((n_q, CHUNK_MAX))
    bok = np.zeros(CHUNK_MAX, dtype=np.bool_)
    bit = np.zeros(CHUNK_MAX, dtype=np.int64)
    bmis = np.zeros(CHUNK_MAX)
    # the step-by-step path and the results
    v = v_start.copy()
    v_good = v_start.copy()
    ws = _nr_workspace(n, nr)
    cw = _control_workspace(n, n_q, n_tap)
    stage = _stage_new(bus_of, n, maps, out, v_start)
    st_r, st_i, st_t, st_cnt = stage[1], stage[2], stage[3], stage[4]
    t = r0
    chunk = CHUNK_MIN
    while t < steps:
        t1 = min(steps, t + chunk)
        # ---- the chunk at held taps, LANES runs side by side -------------------
        rows = t1 - t
        per = (rows + LANES - 1) // LANES
        n_live = 0
        for k in range(LANES):
            lo[k] = min(t + k * per, t1)
            hi[k] = min(t + (k + 1) * per, t1)
            cur[k] = lo[k]
            for j in range(m):
                vr[j, k] = v_good[bus_of[j]].real
                vi[j, k] = v_good[bus_of[j]].imag
                gr[j, k] = vr[j, k]
                gi[j, k] = vi[j, k]
            for a in range(n_q):
                qa[a, k] = q_state[a]
                qg[a, k] = q_state[a]
        for k in range(LANES):
            row = cur[k] if cur[k] < hi[k] else -1
            _lane_load(k, row, X, s0_r, s0_i, inj_pos, cf_r, cf_i, sr, si)
            for j in range(m):
                sq[j, k] = si[j, k]
            if row >= 0:
                n_live += 1
                for a in range(n_q):
                    c = ctl.q_col[a]
                    pa[a, k] = X[row, c] if c >= 0 else ctl.q_p_static[a]
                _set_q_injection(k, qa, q_j, si, sq, base_mva)
            it_k[k] = 0
        while n_live > 0:
            _fp_sweep(vr, vi, sr, sq, rr, ri, wr, wi, c_r, c_i, fp, fl_r, fl_i, fu_r, fu_i,
                      mis, bad)
            for k in range(LANES):
                row = cur[k]
                if row >= hi[k]:
                    continue
                it_k[k] += 1
                good = np.isfinite(bad[k])
                worst = 0.0
                if good:
                    for a in range(n_q):
                        x = vr[q_j[a], k]
                        y = vi[q_j[a], k]
                        tgt, slope = _q_target_slope(a, np.sqrt(x * x + y * y), pa[a, k], ctl)
                        kv[a] = slope
                        rq[a] = tgt - qa[a, k]
                        if abs(rq[a]) > worst:
                            worst = abs(rq[a])
                done = good and mis[k] < tol and worst <= q_tol
                if not done and good and it_k[k] < max_iter and mis[k] < 1e6:
                    if not mis[k] < Q_STEP_MISMATCH:
                        continue  # the power flow first: q steps from a near solution
                    _q_newton(sens, kv, rq, dq, act, jw, rhs)  # keep iterating
                    for a in range(n_q):  # never beyond the inverter's room
                        sm = ctl.q_s_max_mva[a]
                        room = sm * sm - pa[a, k] * pa[a, k]
                        lim = np.sqrt(room) if room > 0.0 else 0.0
                        qa[a, k] = min(lim, max(-lim, qa[a, k] + dq[a]))
                    _set_q_injection(k, qa, q_j, si, sq, base_mva)
                    continue
                c = row - t
                bok[c] = done
                bit[c] = it_k[k]
                bmis[c] = mis[k] if good else np.inf
                if done:
                    for j in range(m):
                        bv_r[j, c] = vr[j, k]
                        bv_i[j, c] = vi[j, k]
                        gr[j, k] = vr[j, k]
                        gi[j, k] = vi[j, k]
                    for a in range(n_q):
                        bq[a, c] = qa[a, k]
                        qg[a, k] = qa[a, k]
                else:  # the step-by-step path takes this row; restart from the good state
                    for j in range(m):
                        vr[j, k] = gr[j, k]
                        vi[j, k] = gi[j, k]
                    for a in range(n_q):
                        qa[a, k] = qg[a, k]
                cur[k] += 1
                it_k[k] = 0
                row = cur[k] if cur[k] < hi[k] else -1
                _lane_load(k, row, X, s0_r, s0_i, inj_pos, cf_r, cf_i, sr, si)
                for j in range(m):
                    sq[j, k] = si[j, k]
                if row < 0:
                    n_live -= 1
                else:
                    for a in range(n_q):
                        cc = ctl.q_col[a]
                        pa[a, k] = X[row, cc] if cc >= 0 else ctl.q_p_static[a]
                    _set_q_injection(k, qa, q_j, si, sq, base_mva)
        # ---- the chunk's rows in time order: tap changers --------------------
        last = -1  # buffer column of the latest committed lanes row (not yet in v_good)
        for i in range(t, t1):
            c = i - t
            if bok[c]:
                move = False
                for k in range(n_tap):
                    jb = tap_j[k]
                    if jb >= 0:
                        vm = np.sqrt(bv_r[jb, c] * bv_r[jb, c] + bv_i[jb, c] * bv_i[jb, c])
                    else:
                        vm = abs(grid.v_set[ctl.tap_bus[k]])
                    inc = 0
                    if vm < ctl.tap_lo[k]:
                        inc = -ctl.tap_dir[k]
                    elif vm > ctl.tap_hi[k]:
                        inc = ctl.tap_dir[k]
                    if inc != 0 and ctl.tap_min[k] <= tap[k] + inc <= ctl.tap_max[k] \
                            and wait[k] >= ctl.tap_delay[k]:
                        move = True
                if not move:  # commit the row as the lanes solved it
                    for k in range(n_tap):
                        jb = tap_j[k]
                        if jb >= 0:
                            vm = np.sqrt(bv_r[jb, c] * bv_r[jb, c] + bv_i[jb, c] * bv_i[jb, c])
                        else:
                            vm = abs(grid.v_set[ctl.tap_bus[k]])
                        if ctl.tap_lo[k] <= vm <= ctl.tap_hi[k]:
                            wait[k] = 0
                        else:
                            inc = -ctl.tap_dir[k] if vm < ctl.tap_lo[k] else ctl.tap_dir[k]
                            if ctl.tap_min[k] <= tap[k] + inc <= ctl.tap_max[k]:
                                wait[k] += 1
                        cout.tap_pos[i, k] = tap[k]
                        cout.tap_moves[i, k] = 0
                    for a in range(n_q):
                        q_state[a] = bq[a, c]
                        cout.q_mvar[i, a] = bq[a, c]
                    cout.outer[i] = 1
                    cout.settled[i] = True
                    iters[i] = bit[c]
                    mism[i] = bmis[c]
                    meth[i] = 1
                    q = st_cnt[0]
                    for j in range(m):
                        st_r[j, q] = bv_r[j, c]
                        st_i[j, q] = bv_i[j, c]
                    st_t[q] = i
                    st_cnt[0] = q + 1
                    if q + 1 == LANES:
                        _stage_flush(stage, X, grid, inj, maps, out)
                    last = c
                    continue
            if last >= 0:  # the latest committed row becomes the good state
                for j in range(m):
                    v_good[bus_of[j]] = complex(bv_r[j, last], bv_i[j, last])
                last = -1
            for b in range(n):
                v[b] = v_good[b]
            if bok[c]:  # a tap moves here: the step-by-step loop from the lanes' solution
                for j in range(m):
                    v[bus_of[j]] = complex(bv_r[j, c], bv_i[j, c])
                for a in range(n_q):
                    q_state[a] = bq[a, c]
            # Broyden's estimate starts from the linearised model, K M - I, here
            jac = cw[9]
            for a in range(n_q):
                cc = ctl.q_col[a]
                p_now = X[i, cc] if cc >= 0 else ctl.q_p_static[a]
                _, slope = _q_target_slope(a, abs(v[ctl.q_bus[a]]), p_now, ctl)
                for b2 in range(n_q):
                    jac[a, b2] = slope * sens[a, b2] - (1.0 if a == b2 else 0.0)
            iters_lanes = bit[c]
            moved = _control_step(i, X, v, v_good, tol, max_iter, grid, inj, nr, maps, out,
                                  ctl, state, cout, ws, cw, stage)
            iters[i] += iters_lanes
            if moved:  # the rest of the chunk was solved at the old taps
                _stage_flush(stage, X, grid, inj, maps, out)
                for b in range(n):
                    v_start[b] = v_good[b]
                return i + 1
        if last >= 0:
            for j in range(m):
                v_good[bus_of[j]] = complex(bv_r[j, last], bv_i[j, last])
        t = t1
        chunk = min(2 * chunk, CHUNK_MAX)
    _stage_flush(stage, X, grid, inj, maps, out)
    for b in range(n):
        v_start[b] = v_good[b]
    return steps
