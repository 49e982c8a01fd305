"""Public entry point of the batch power flow: set-up, block loop, result assembly."""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np
import pandas as pd
from scipy.sparse.linalg import spsolve
from tqdm import tqdm

from parkgrid import _ahead
from parkgrid.errors import PowerFlowError
from parkgrid.powerflow._control import (
    Controls,
    LanesModel,
    control_outputs,
    lanes_model,
    pack_controls,
    prepare_net,
)
from parkgrid.powerflow._control_kernel import solve_controlled
from parkgrid.powerflow._control_lanes import solve_controlled_lanes
from parkgrid.powerflow._kernel_args import (
    Outputs,
    fallback,
    outputs,
    pack_kernel_args,
    solver_options,
)
from parkgrid.powerflow._kernels import (
    METHOD_CODES,
    empty_2d,
    solve_chunk,
    solve_chunk_lanes,
)
from parkgrid.powerflow._model import NetModel, build_model
from parkgrid.powerflow._profiles import check_profiles
from parkgrid.powerflow._reference import PowerFlowWarning, assemble_result
from parkgrid.powerflow._result import TimeseriesPF
from parkgrid.powerflow._unsupplied import bus_injections, report_unsupplied, unsupplied_series

__all__ = ["run_timeseries_pf"]

_METHODS = {"auto": 0, "fixed_point": 1, "newton": 2}
#: fixed-point iterations tried in ``method="auto"`` before a step falls back to Newton
_FP_BUDGET = 15
#: fallback rows per block whose Newton start is the lane's last good state (the
#: rest start from the no-load voltages)
_FALLBACK_SEEDS = 256
#: fewest steps per chunk of a controlled run solved on its own thread
_CONTROL_CHUNK_MIN = 2048
#: rows re-solved at a time where a chunk's speculative start state was wrong
_CONTROL_FIXUP_BLOCK = 96
#: profile values per block: each worker copies its rows block by block into one
#: reused buffer of this size (row-contiguous for the kernel; 8 MB)
_BLOCK_VALUES = 1 << 20


def _no_load_voltage(model: NetModel) -> np.ndarray:
    """Start voltages: angles of the no-load solution, magnitudes of pandapower's start.

    The no-load solution ``Ynn V_n = -Yns V_s`` carries every transformer's phase
    shift (pandapower gets the same from its DC initialisation), so Newton starts
    close on grids with e.g. Dyn5 transformers (150 degree shift). Its magnitudes are
    not used: with shunt capacitors and no load they can be far off (3.4 pu in case118).
    """
    v = model.v0.copy()
    nonref = np.concatenate([model.pv, model.pq])
    if len(nonref) == 0:
        return v
    y = model.ybus.tocsc()
    try:
        rhs = -(y[nonref][:, model.ref] @ v[model.ref])
        sol = spsolve(y[nonref][:, nonref].tocsc(), rhs)
    except RuntimeError:  # singular: keep pandapower's flat start
        return v
    if np.all(np.isfinite(sol)) and np.all(np.abs(sol) > 0):
        v[nonref] = np.abs(v[nonref]) * np.exp(1j * np.angle(sol))
    return v


def _n_threads() -> int:
    return max(1, min(numba.get_num_threads(), os.cpu_count() or 1))


def run_timeseries_pf(
    net: Any,
    profiles: Mapping[tuple[str, str], pd.DataFrame],
    *,
    tol_pu: float = 1e-9,
    max_iter: int = 30,
    method: str = "auto",
    raise_on_nonconvergence: bool = False,
    progress: bool = False,
    raise_on_unsupplied: bool = False,
    controls: Controls | None = None,
    model: NetModel | None = None,
) -> TimeseriesPF:
    """Solve the AC power flow of every step of *profiles* on *net*.

    The admittance model is pandapower's own (see :mod:`parkgrid.powerflow._model`
    for what is supported); *net* is never modified.

    Parameters
    ----------
    net:
        pandapower net with at least one in-service ext_grid.
    profiles:
        ``(element, column) -> DataFrame`` (time x element index), e.g.
        ``simbench.get_absolute_values(net, True)``; columns not given keep the
        net's static values.
    tol_pu:
        Convergence tolerance on the largest active/reactive power mismatch [pu on
        ``net.sn_mva``].
    max_iter:
        Iteration limit per step of the selected solver.
    method:
        ``"auto"`` (fixed point with a Newton fallback per step on PQ-only grids;
        Newton where the grid has PV buses), ``"fixed_point"`` or ``"newton"``.
    raise_on_nonconvergence:
        Raise :class:`~parkgrid.errors.PowerFlowError` naming the steps instead of
        flagging them.
    progress:
        Show a progress bar over the steps (tqdm, on standard error).
    raise_on_unsupplied:
        Raise :class:`~parkgrid.errors.PowerFlowError` naming the in-service buses
        with no connection to an in-service ext_grid (lines or switches cut them
        off) instead of warning.
    controls:
        Tap changers and Q(U) inverters (:class:`~parkgrid.powerflow.Controls`),
        solved in time order: on grids whose non-slack buses are all PQ, chunks of
        steps at held taps by the fixed point in SIMD lanes with Q(U) inside its
        iteration, the tap changers applied in order afterwards and a step where a
        tap moves (or the fixed point misses) solved by an outer control loop around
        Newton-Raphson; with ``method="newton"`` (and on grids with PV buses) every
        step by that loop. ``tap_pos``, ``q_control_mvar``, ``control_settled`` and
        ``control_solves`` of the result record them.
    model:
        The network model of *net* for these profiles, already built (e.g. from
        the network cache, :func:`~parkgrid.powerflow._model.with_injections`);
        *net* then only needs its element tables, and pandapower is not used.
        Not with *controls*.

    Returns
    -------
    TimeseriesPF
        One row per profile step. Failed steps are flagged (``converged`` False,
        ``mismatch_pu`` set, values NaN) and a :class:`PowerFlowWarning` is issued.
        Buses cut off from the grid keep NaN voltages; an
        :class:`~parkgrid.powerflow.UnsuppliedBusWarning` names them with their load
        and generation, and ``unsupplied_buses``, ``unsupplied_load_mw`` and
        ``unsupplied_gen_mw`` record them per step.

    """
    if method not in _METHODS:
        raise ValueError(f"method={method!r}: expected one of {sorted(_METHODS)}")
    if not (tol_pu > 0 and max_iter >= 1):
        raise ValueError("tol_pu must be > 0 and max_iter >= 1")
    t_start = time.perf_counter()
    if controls:
        net, profiles = prepare_net(net, profiles, controls)
    prof = check_profiles(net, profiles)
    if model is None:
        model = build_model(net, prof)
    elif controls or model.keys != tuple(prof.columns):
        raise ValueError("model: given with controls, or for other profile columns")
    # in-service buses pandapower's connectivity check dropped: no path to a slack
    in_service = net.bus["in_service"].to_numpy(dtype=bool)
    cut = net.bus.index[(model.bus_lookup < 0) & in_service].astype(np.int64).tolist()
    cut_load, cut_gen = bus_injections(net, prof, cut)
    report_unsupplied(net, cut, cut_load, cut_gen, raise_on_unsupplied=raise_on_unsupplied)
    kargs = pack_kernel_args(model)
    mode = _METHODS[method]
    if mode == 1 and not kargs.has_fp:
        raise ValueError(
            "method='fixed_point' needs a grid whose non-slack buses are all PQ "
            f"(this one has {len(model.pv)} PV buses); use 'auto' or 'newton'"
        )
    if mode == 0 and not kargs.has_fp:
        mode = 2
    n_steps = len(prof.index)
    t_setup = time.perf_counter() - t_start
    block = max(1, min(n_steps, max(256, _BLOCK_VALUES // max(len(model.inj_bus), 1))))
    v_start = _no_load_voltage(model)
    n_thr = _n_threads()
    n_load = model.n_line + model.n_trafo + model.n_trafo3w
    n_eg = len(model.eg_bus)
    # a first run may be compiling the kernels in the background
    _ahead.wait(_ahead.POWERFLOW, solve_chunk_lanes)
    vm = empty_2d(n_steps, len(model.bus_lookup))
    va = empty_2d(n_steps, len(model.bus_lookup))
    loading = empty_2d(n_steps, n_load)
    line_p = empty_2d(n_steps, model.n_line)
    eg_p = empty_2d(n_steps, n_eg)
    eg_q = empty_2d(n_steps, n_eg)
    losses = empty_2d(n_steps, 1)[:, 0]
    iters_a = np.zeros(n_steps, dtype=np.int64)
    mism_a = np.zeros(n_steps)
    meth_a = np.zeros(n_steps, dtype=np.int8)
    outs = outputs(kargs, Outputs(iters_a, mism_a, meth_a, vm, va, loading, line_p, eg_p,
                                  eg_q, losses))
    opts = solver_options(mode, tol_pu, max_iter, min(_FP_BUDGET, max_iter))
    grid, inj, fp, maps = kargs.grid, kargs.inj, kargs.fixed_point, kargs.maps
    n_workers = max(1, min(n_thr, n_steps // 64))
    bar = tqdm(total=n_steps, unit="step", desc="power flow", disable=not progress,
               leave=False)
    ctl_frames: dict[str, Any] = {}
    if controls:
        n_workers = 0
        ctl_frames = _solve_controlled(net, model, kargs, prof, controls, v_start, opts, outs,
                                       block, bar, lanes=mode != 2)

    def work(c: int) -> None:
        """Rows of worker c, block by block into one reused profile buffer."""
        r0 = c * n_steps // n_workers
        r1 = (c + 1) * n_steps // n_workers
        buf = empty_2d(min(block, r1 - r0), len(model.inj_bus))
        v0 = v_start.copy()
        v_end = v_start.copy()
        v_spare = v_start.copy()
        # lanes hand rows the fixed point gives up on to Newton with a start state
        fb = fallback(kargs, _FALLBACK_SEEDS)
        no_seeds = np.empty((0, len(v_start)), dtype=np.complex128)
        for b0 in range(r0, r1, block):
            b1 = min(r1, b0 + block)
            x = prof.block(model.keys, b0, b1, out=buf)
            out = Outputs._make(o[b0:b1] for o in outs)  # row slices: still C-contiguous
            if mode == 2:
                solve_chunk(x, np.arange(b1 - b0), no_seeds, v0, v_end, opts, grid, inj,
                            kargs.newton, maps, out)
            else:
                fb.n_used[0] = 0
                solve_chunk_lanes(x, 0, b1 - b0, v0, v_end, opts, grid, inj, fp, maps, out, fb)
                left = np.flatnonzero(out.meth < 0)  # meth == -1
                if len(left):  # rows the fixed point left to Newton-Raphson
                    seeds = np.repeat(v_start[None, :], len(left), axis=0)
                    n_seed = int(fb.n_used[0])
                    where = np.searchsorted(left, fb.row[:n_seed])
                    seeds[where] = fb.seed[:n_seed]
                    solve_chunk(x, left, seeds, v_start, v_spare, opts, grid, inj,
                                kargs.newton, maps, out)
            v0, v_end = v_end, v0
            bar.update(b1 - b0)

    try:
        if n_workers == 0:
            pass  # solved above, with the controllers
        elif n_workers == 1:
            work(0)
        else:
            with ThreadPoolExecutor(n_workers) as pool:
                list(pool.map(work, range(n_workers)))
    finally:
        bar.close()
    ok_a = meth_a > 0
    nl, nt = model.n_line, model.n_trafo
    arrays = {
        "vm_pu": vm,
        "va_degree": va,
        "line_loading_percent": loading[:, :nl],
        "trafo_loading_percent": loading[:, nl : nl + nt],
        "trafo3w_loading_percent": loading[:, nl + nt :],
        "line_p_from_mw": line_p,
        "ext_grid_p_mw": eg_p,
        "ext_grid_q_mvar": eg_q,
        "losses_mw": losses,
    }
    names = np.array([METHOD_CODES[int(c)] for c in range(3)], dtype=object)[meth_a]
    if not ok_a.all():
        bad = np.flatnonzero(~ok_a)
        msg = (
            f"{len(bad)} of {n_steps} steps did not converge within {max_iter} iterations "
            f"(first: step {prof.index[bad[0]]!r}, mismatch {mism_a[bad[0]]:.3g} pu)"
        )
        if raise_on_nonconvergence:
            labels = [prof.index[i] for i in bad[:20]]
            raise PowerFlowError(f"{msg}; steps: {labels}")
        warnings.warn(msg + "; flagged in result.converged, values NaN",
                      PowerFlowWarning, stacklevel=2)
    info: dict[str, object] = {
        "setup_s": t_setup,
        "total_s": time.perf_counter() - t_start,
        "n_bus_internal": model.n_bus,
        "n_pv": len(model.pv),
        "threads": n_thr,
        "tol_pu": tol_pu,
    }
    res = assemble_result(net, prof.index, arrays, ok_a, iters_a, mism_a, names, info,
                          unsupplied_series(prof.index, cut, cut_load, cut_gen))
    return dataclasses.replace(res, **ctl_frames) if ctl_frames else res


def _solve_controlled(net: Any, model: NetModel, kargs: Any, prof: Any, controls: Controls,
                      v_start: np.ndarray, opts: Any, outs: Outputs, block: int,
                      bar: Any, lanes: bool = True) -> dict[str, Any]:
    """Solve every step in time order with the controllers; their per-step frames.

    With *lanes* (and a grid the fixed point applies to) each block is solved by
    ``solve_controlled_lanes``: chunks of steps at held taps in SIMD lanes with Q(U)
    inside the fixed point, the tap changers applied in time order afterwards; it
    returns at every tap move for the factors of the new taps (cached per set of
    positions: there are few). Otherwise, and for a grid with PV buses, step by step
    (``solve_controlled``).

    On several threads the year is cut into chunks solved at once, each later chunk
    speculatively from the start state. A tap changer's next position depends only on
    its present one and the step's injections (with ``delay_steps = 0``), so once a
    chunk's speculative taps equal the true ones at some step, the rest of it stands:
    after the chunk before it is done, a chunk whose start state was wrong is solved
    again from the true state, block by block, until its taps meet the speculative
    record. Q(U) alone carries no state but the warm start.
    """
    cargs, state0 = pack_controls(model, net, controls, prof.columns)
    n_steps = len(prof.index)
    cout = control_outputs(n_steps, cargs)
    n_chunks = 1
    if all(tc.delay_steps == 0 for tc in controls.tap_changers):
        n_chunks = max(1, min(_n_threads(), n_steps // _CONTROL_CHUNK_MIN))
    bounds = [c * n_steps // n_chunks for c in range(n_chunks + 1)]

    def fresh() -> tuple[Any, Any, Any, np.ndarray]:
        # private admittance data (tap moves patch them in place) and state
        return (kargs.grid._replace(y_data=kargs.grid.y_data.copy()),
                kargs.maps._replace(yf_data=kargs.maps.yf_data.copy(),
                                    yt_data=kargs.maps.yt_data.copy()),
                type(state0)(*(a.copy() for a in state0)), v_start.copy())

    # the lanes' factors per set of tap positions (shared by the chunks' threads)
    factors: dict[tuple[int, ...], LanesModel | None] = {}
    use_lanes = lanes and kargs.has_fp

    def lanes_at(grid: Any, state: Any) -> LanesModel | None:
        key = tuple(int(p) for p in state.tap)
        if key not in factors:
            factors[key] = lanes_model(model, grid.y_data, cargs.q_bus, v_start)
        return factors[key]

    def solve_block(x: np.ndarray, v0: np.ndarray, grid: Any, maps: Any, state: Any,
                    out: Outputs, cblk: Any) -> None:
        r, n_rows = 0, x.shape[0]
        while r < n_rows:
            lm = lanes_at(grid, state) if use_lanes else None
            if lm is None:  # step by step (no fixed point at these taps)
                solve_controlled(x[r:], v0, opts, grid, kargs.inj, kargs.newton, maps,
                                 Outputs._make(o[r:] for o in out), cargs, state,
                                 type(cblk)._make(o[r:] for o in cblk))
                return
            r = solve_controlled_lanes(x, r, v0, opts, grid, kargs.inj, kargs.newton, lm.fp,
                                       lm.sens, maps, out, cargs, state, cblk)

    def run(r0: int, r1: int, ctx: tuple[Any, Any, Any, np.ndarray], blk: int,
            stop_at: np.ndarray | None = None) -> bool:
        grid, maps, state, v0 = ctx
        buf = empty_2d(min(blk, r1 - r0), len(model.inj_bus))
        for b0 in range(r0, r1, blk):
            b1 = min(r1, b0 + blk)
            x = prof.block(model.keys, b0, b1, out=buf)
            out = Outputs._make(o[b0:b1] for o in outs)
            cblk = type(cout)._make(o[b0:b1] for o in cout)
            solve_block(x, v0, grid, maps, state, out, cblk)
            if stop_at is None:
                bar.update(b1 - b0)
            elif np.array_equal(state.tap, stop_at[b1 - 1 - r0]):
                return True
        return False

    ctxs = [fresh() for _ in range(n_chunks)]
    if n_chunks == 1:
        run(0, n_steps, ctxs[0], block)
    else:
        with ThreadPoolExecutor(n_chunks) as pool:
            list(pool.map(lambda c: run(bounds[c], bounds[c + 1], ctxs[c], block),
                          range(n_chunks)))
        for c in range(1, n_chunks):
            prev = ctxs[c - 1]
            if np.array_equal(prev[2].tap, state0.tap):
                continue  # the speculation was right
            r0, r1 = bounds[c], bounds[c + 1]
            spec = cout.tap_pos[r0:r1].copy()
            true = (prev[0]._replace(y_data=prev[0].y_data.copy()),
                    prev[1]._replace(yf_data=prev[1].yf_data.copy(),
                                     yt_data=prev[1].yt_data.copy()),
                    type(state0)(*(a.copy() for a in prev[2])), prev[3].copy())
            if not run(r0, r1, true, _CONTROL_FIXUP_BLOCK, spec):
                ctxs[c] = true  # never met the speculation: the chunk ends in this state
    idx = prof.index
    trafo = pd.Index([tc.trafo for tc in controls.tap_changers], name="trafo")
    elems = pd.MultiIndex.from_tuples([(qc.element, qc.index) for qc in controls.q_u],
                                      names=["table", "index"])
    return {
        "tap_pos": pd.DataFrame(cout.tap_pos, index=idx, columns=trafo),
        "tap_moves": pd.DataFrame(cout.tap_moves, index=idx, columns=trafo),
        "q_control_mvar": pd.DataFrame(cout.q_mvar, index=idx, columns=elems),
        "control_settled": pd.Series(cout.settled, index=idx, name="control_settled"),
        "control_solves": pd.Series(cout.outer, index=idx, name="control_solves"),
    }
