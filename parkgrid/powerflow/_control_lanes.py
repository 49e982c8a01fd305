"""numba kernel of the controlled time series in SIMD lanes: Q(U) inside the fixed point.

The fast path of :mod:`parkgrid.powerflow._control_kernel` (which describes the
controllers and holds the step-by-step loop this kernel hands steps to): chunks of
steps solved at held taps by the fixed point of :mod:`parkgrid.powerflow._kernels`
in :data:`~parkgrid.powerflow._kernels.LANES` lanes, with each Q(U) inverter's
reactive power iterated inside it, then the tap changers' rule applied in time order.
"""

from __future__ import annotations

import numpy as np

from parkgrid.powerflow._control_kernel import (
    _control_step,
    _control_workspace,
    _q_target_slope,
)
from parkgrid.powerflow._jit import inner, kernel
from parkgrid.powerflow._kernels import (
    LANES,
    _fp_sweep,
    _lane_load,
    _lane_setup,
    _nr_workspace,
    _stage_flush,
    _stage_new,
)

__all__ = ["CHUNK_MAX", "CHUNK_MIN", "Q_STEP_MISMATCH", "solve_controlled_lanes"]


#: rows of the first chunk a call of :func:`solve_controlled_lanes` solves at held taps;
#: each chunk without a tap move doubles the next, up to :data:`CHUNK_MAX`
CHUNK_MIN = LANES
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
    n = v_start.shape[0]
    m = pq.shape[0]
    n_q = ctl.q_bus.shape[0]
    n_tap = ctl.tap_bus.shape[0]
    steps = X.shape[0]
    (bus_of, pos, c_r, c_i, s0_r, s0_i, fl_r, fl_i, fu_r, fu_i, inj_pos, cf_r,
     cf_i) = _lane_setup(n, pq, fp, inj)
    q_j = np.empty(n_q, dtype=np.int64)
    for a in range(n_q):
        q_j[a] = pos[ctl.q_bus[a]]
    tap_j = np.empty(n_tap, dtype=np.int64)
    tap_vm = np.empty(n_tap)  # |V| of each tap changer's bus, of the row in hand
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
                for k in range(n_tap):  # |V| of each tap changer's bus in this row
                    jb = tap_j[k]
                    if jb >= 0:
                        tap_vm[k] = np.sqrt(bv_r[jb, c] * bv_r[jb, c] + bv_i[jb, c] * bv_i[jb, c])
                    else:
                        tap_vm[k] = abs(grid.v_set[ctl.tap_bus[k]])
                for k in range(n_tap):
                    vm = tap_vm[k]
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
                        vm = tap_vm[k]
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
