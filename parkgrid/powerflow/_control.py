"""Voltage controllers inside the year-long power flow: tap changers and Q(U).

The controllers are described by :class:`TapChanger` and :class:`QVControl` (plain
data, pandapower element indices) and gathered in :class:`Controls`;
``run_timeseries_pf(net, profiles, controls=...)`` solves them step by step with the
kernel of :mod:`parkgrid.powerflow._control_kernel` (an outer control loop around the
unchanged per-step Newton-Raphson), and ``run_reference_pf(..., controls=...)`` with
pandapower's own controllers (``DiscreteTapControl``, ``DERController`` with a
``QModelQVCurve``) through ``run_control``.

Semantics (shared by both paths):

* **Tap changer** -- pandapower ``DiscreteTapControl``: when the controlled bus's
  voltage lies outside ``[vm_lower_pu, vm_upper_pu]``, the transformer moves one tap
  towards the band and the step is solved again, until the voltage is inside the band
  or the tap at its end position (``tap_min``/``tap_max`` of the net). The tap
  position carries over to the next step. ``delay_steps`` (parkgrid only; 0 is
  pandapower's behaviour): the voltage must have been outside the band for more than
  that many consecutive steps before the first move.
* **Q(U)** -- the element's reactive power (generator convention: + injects, i.e.
  over-excited) is ``q = curve(|V|) x sn_mva``, piecewise linear through
  ``(vm_points_pu, q_points_pu)`` and flat beyond the end points, then limited to
  ``|q| <= sqrt(s_max_mva^2 - p^2)``: active power has priority (pandapower
  ``DERController`` with ``saturate_sn_mva = s_max_mva`` and ``q_prio=False``). It is
  iterated to its fixed point, with the taps held, before the taps are checked.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from parkgrid.errors import NetworkError
from parkgrid.powerflow._kernel_args import FixedPointFactors, _prepare_fixed_point, check
from parkgrid.powerflow._model import NetModel

__all__ = [
    "ControlArgs",
    "ControlOutputs",
    "ControlState",
    "Controls",
    "LanesModel",
    "QVControl",
    "TapChanger",
    "lanes_model",
    "pack_controls",
    "prepare_net",
]


@dataclass(frozen=True)
class TapChanger:
    """An on-load tap changer on a two-winding transformer (``net.trafo``).

    Attributes
    ----------
    trafo:
        pandapower index of the transformer; its ``tap_min``, ``tap_max``,
        ``tap_step_percent``, ``tap_side`` and starting ``tap_pos`` are the net's.
    vm_lower_pu, vm_upper_pu:
        The band the controlled bus's voltage is held in [pu].
    bus:
        pandapower index of the controlled bus; ``None``: the transformer's LV bus.
    delay_steps:
        Steps the voltage must have been outside the band before the first move.
    """

    trafo: int
    vm_lower_pu: float
    vm_upper_pu: float
    bus: int | None = None
    delay_steps: int = 0


@dataclass(frozen=True)
class QVControl:
    """A Q(U) droop on one inverter (``net.sgen`` or ``net.storage``).

    Attributes
    ----------
    element, index:
        pandapower table (``"sgen"`` or ``"storage"``) and index.
    vm_points_pu, q_points_pu:
        The curve: voltage points [pu] (ascending) and reactive power at each, per
        unit of ``sn_mva`` (+ injects, over-excited; - absorbs, under-excited).
    sn_mva:
        Reference of the curve's per-unit values [MVA] (the rated power).
    s_max_mva:
        Apparent-power limit of the inverter [MVA]; ``|q| <= sqrt(s_max^2 - p^2)``.
    """

    element: str
    index: int
    vm_points_pu: tuple[float, ...]
    q_points_pu: tuple[float, ...]
    sn_mva: float
    s_max_mva: float


@dataclass(frozen=True)
class Controls:
    """The controllers of a controlled time series.

    Attributes
    ----------
    tap_changers, q_u:
        The tap changers and the Q(U) elements.
    q_tol_mvar:
        The Q(U) loop stops when every element's ``|target - q|`` is below this [Mvar].
    max_outer:
        Newton-Raphson solves allowed per step (Q iterations and tap moves together);
        a step that needs more keeps its last solve and is flagged not settled.
    """

    tap_changers: tuple[TapChanger, ...] = ()
    q_u: tuple[QVControl, ...] = ()
    q_tol_mvar: float = 1e-7
    max_outer: int = 100

    def __bool__(self) -> bool:
        return bool(self.tap_changers or self.q_u)


class ControlArgs(NamedTuple):
    """The controllers as kernel arrays (``n_tap`` tap changers, ``n_q`` Q(U) elements).

    Tap changer ``k``: ``tap_bus`` internal controlled bus; ``tap_lo``/``tap_hi`` band
    [pu]; ``tap_min``/``tap_max`` positions; ``tap_dir`` +1 if a higher position lowers
    the controlled side's voltage (pandapower ``tap_side_coeff * tap_sign``), else -1;
    ``tap_delay`` steps. Its admittance patches: entries ``tp_ptr[k]:tp_ptr[k+1]`` of
    ``tp_idx`` (position in the data array of matrix ``tp_mat``: 0 ``Ybus``, 1 ``Yf``,
    2 ``Yt``) and, for position ``p``, the values ``tp_val[tp_off[k] + (p - tap_min)
    * n_entries + e]`` [pu] relative to the start position. Q(U) element ``a``:
    internal bus ``q_bus``; profile column of its active power ``q_col`` (``-1``:
    ``q_p_static`` [MW]); ``q_sn_mva``, ``q_s_max_mva`` [MVA]; curve points
    ``qv_ptr[a]:qv_ptr[a+1]`` of ``qv_v`` [pu] and ``qv_q`` [pu of sn].
    """

    tap_bus: np.ndarray
    tap_lo: np.ndarray
    tap_hi: np.ndarray
    tap_min: np.ndarray
    tap_max: np.ndarray
    tap_dir: np.ndarray
    tap_delay: np.ndarray
    tp_ptr: np.ndarray
    tp_idx: np.ndarray
    tp_mat: np.ndarray
    tp_off: np.ndarray
    tp_val: np.ndarray
    q_bus: np.ndarray
    q_col: np.ndarray
    q_p_static: np.ndarray
    q_sn_mva: np.ndarray
    q_s_max_mva: np.ndarray
    qv_ptr: np.ndarray
    qv_v: np.ndarray
    qv_q: np.ndarray
    q_tol_mvar: float
    max_outer: int


class ControlState(NamedTuple):
    """What the controllers carry from step to step: tap positions, delay counters, q."""

    tap: np.ndarray
    wait: np.ndarray
    q: np.ndarray


class ControlOutputs(NamedTuple):
    """Per-step controller results: tap positions, moves, Q(U) output [Mvar], solves."""

    tap_pos: np.ndarray
    tap_moves: np.ndarray
    q_mvar: np.ndarray
    outer: np.ndarray
    settled: np.ndarray


@dataclass
class _Patches:
    idx: list[np.ndarray] = field(default_factory=list)
    mat: list[np.ndarray] = field(default_factory=list)
    val: list[np.ndarray] = field(default_factory=list)


def _check_controls(net: Any, controls: Controls) -> None:
    seen: set[int] = set()
    for i, tc in enumerate(controls.tap_changers):
        where = f"controls.tap_changers[{i}]"
        if tc.trafo not in net.trafo.index:
            raise NetworkError(f"{where}.trafo: no transformer with index {tc.trafo}")
        if tc.trafo in seen:
            raise NetworkError(f"{where}.trafo: transformer {tc.trafo} has two tap changers")
        seen.add(tc.trafo)
        row = net.trafo.loc[tc.trafo]
        if not bool(row["in_service"]):
            raise NetworkError(f"{where}.trafo: transformer {tc.trafo} is out of service")
        for col in ("tap_min", "tap_max", "tap_pos", "tap_step_percent"):
            if col not in row or pd.isna(row[col]):
                raise NetworkError(f"{where}: transformer {tc.trafo} has no {col} (not a "
                                   "tap changer)")
        if not float(row["tap_min"]) <= float(row["tap_pos"]) <= float(row["tap_max"]):
            raise NetworkError(f"{where}: tap_pos {row['tap_pos']} of transformer {tc.trafo} "
                               f"is outside [{row['tap_min']}, {row['tap_max']}]")
        if not tc.vm_lower_pu < tc.vm_upper_pu:
            raise NetworkError(f"{where}: vm_lower_pu must be below vm_upper_pu "
                               f"({tc.vm_lower_pu} >= {tc.vm_upper_pu})")
        if tc.bus is not None and tc.bus not in net.bus.index:
            raise NetworkError(f"{where}.bus: no bus with index {tc.bus}")
        if tc.delay_steps < 0:
            raise NetworkError(f"{where}.delay_steps: must be >= 0")
    for i, qc in enumerate(controls.q_u):
        where = f"controls.q_u[{i}]"
        if qc.element not in ("sgen", "storage"):
            raise NetworkError(f"{where}.element: {qc.element!r}; allowed: 'sgen', 'storage'")
        if qc.index not in net[qc.element].index:
            raise NetworkError(f"{where}.index: no {qc.element} with index {qc.index}")
        v = np.asarray(qc.vm_points_pu, float)
        if len(v) < 2 or len(v) != len(qc.q_points_pu) or np.any(np.diff(v) <= 0):
            raise NetworkError(f"{where}: the curve needs >= 2 points with strictly "
                               "ascending vm_points_pu and one q per point")
        if not (qc.sn_mva > 0 and qc.s_max_mva > 0):
            raise NetworkError(f"{where}: sn_mva and s_max_mva must be > 0")
        scaling = net[qc.element].at[qc.index, "scaling"] if "scaling" in net[qc.element] else 1
        if float(scaling) != 1.0:
            raise NetworkError(f"{where}: {qc.element} {qc.index} has scaling {scaling}; "
                               "Q(U) elements need scaling 1")


def prepare_net(net: Any, profiles: Mapping[tuple[str, str], pd.DataFrame],
                controls: Controls) -> tuple[Any, dict[tuple[str, str], pd.DataFrame]]:
    """Return a net and profiles whose Q(U) elements carry no fixed reactive power.

    The controller sets their reactive power; *net* and *profiles* are not modified
    (the tables and frames touched are copies).
    """
    _check_controls(net, controls)
    if not controls.q_u:
        return net, dict(profiles)
    work = copy.copy(net)
    out = dict(profiles)
    for table in {qc.element for qc in controls.q_u}:
        idx = [qc.index for qc in controls.q_u if qc.element == table]
        work[table] = net[table].copy()
        work[table].loc[idx, "q_mvar"] = 0.0
        key = (table, "q_mvar")
        if key in out:
            frame = out[key]
            cols = [c for c in frame.columns if c in set(idx)]
            if cols:
                frame = frame.copy()
                frame[cols] = 0.0
                out[key] = frame
    return work, out


def _tap_patches(model: NetModel, net: Any, tc: TapChanger, patches: _Patches) -> int:
    """Admittance entries of transformer ``tc.trafo`` at each tap position; returns n entries."""
    # pandapower on first use, not with parkgrid (start-up time)
    from pandapower.build_branch import _calc_branch_values_from_trafo_df
    from pandapower.pypower.idx_brch import BR_B, BR_B_ASYM, BR_G, BR_G_ASYM, BR_R, BR_X, SHIFT, TAP
    from pandapower.pypower.makeYbus import branch_vectors, makeYbus

    assert model.conversion is not None
    work, ppc, bus, branch, ppc2ppci = model.conversion
    f0 = work._pd2ppc_lookups["branch"]["trafo"][0]
    br = int(ppc2ppci[f0 + net.trafo.index.get_loc(tc.trafo)])
    if br < 0:
        raise NetworkError(f"controls: transformer {tc.trafo} is not connected to the grid")
    fb, tb = int(model.f_bus[br]), int(model.t_bus[br])
    row = work.trafo.loc[[tc.trafo]].copy()
    t_min, t_max = int(row["tap_min"].iloc[0]), int(row["tap_max"].iloc[0])
    start = int(row["tap_pos"].iloc[0])
    ybus, yf, yt = model.ybus, model.yf, model.yt

    def where(mat: Any, r: int, c: int) -> int:
        lo, hi = mat.indptr[r], mat.indptr[r + 1]
        hit = np.flatnonzero(mat.indices[lo:hi] == c)
        if len(hit) != 1:
            raise NetworkError(f"controls: transformer {tc.trafo}: admittance entry not found")
        return int(lo + hit[0])

    ents = [(0, r, c) for r in (fb, tb) for c in (fb, tb)]
    ents += [(1, br, fb), (1, br, tb), (2, br, fb), (2, br, tb)]
    idx = np.array([where((ybus, yf, yt)[m], r, c) for m, r, c in ents], dtype=np.int64)
    # pandapower's branch values at every position in one call (the trafo's row once
    # per position), and its pi model of each (branch_vectors, as makeYbus uses it)
    pos = np.arange(t_min, t_max + 1)
    rows = pd.concat([row] * len(pos))
    rows["tap_pos"] = pos.astype(float)
    values = _calc_branch_values_from_trafo_df(work, ppc, rows)
    bp = np.repeat(branch[br : br + 1], len(pos), axis=0)
    for col, value in zip((BR_R, BR_X, BR_G, BR_B, BR_G_ASYM, BR_B_ASYM, TAP, SHIFT), values,
                          strict=True):
        bp[:, col] = np.asarray(value).ravel()
    ytt, yff, yft, ytf = branch_vectors(bp, len(pos))
    # the branch's own part of each entry: Ybus (f,f) (f,t) (t,f) (t,t), Yf (f,t), Yt (f,t)
    own = np.column_stack([yff, yft, ytf, ytt, yff, yft, ytf, ytt])
    # pandapower's own model at the start position must be what the run starts from
    at = start - t_min
    full = branch.copy()
    full[br] = bp[at]
    mats = makeYbus(model.base_mva, bus, full)
    here = np.array([mats[m][r, c] for m, r, c in ents])
    have = np.array([(ybus, yf, yt)[m].data[i] for (m, _, _), i in zip(ents, idx, strict=True)])
    if not np.allclose(here, have, rtol=1e-12, atol=1e-12):
        raise NetworkError(f"controls: transformer {tc.trafo}: the recomputed branch does not "
                           "match pandapower's model (unsupported transformer options?)")
    vals = own - own[at][None, :]
    patches.idx.append(idx)
    patches.mat.append(np.array([m for m, _, _ in ents], dtype=np.int64))
    patches.val.append(np.ascontiguousarray(vals).ravel())
    return len(ents)


def pack_controls(model: NetModel, net: Any, controls: Controls,
                  prof_columns: Mapping[tuple[str, str], np.ndarray]
                  ) -> tuple[ControlArgs, ControlState]:
    """Kernel arrays of *controls* on *model* and the state at the start of the run."""
    pos_of = {b: i for i, b in enumerate(net.bus.index)}
    patches = _Patches()
    tap_bus, lo, hi, tmin, tmax, tdir, delay, start, n_ent, offs = ([] for _ in range(10))
    off = 0
    for tc in controls.tap_changers:
        row = net.trafo.loc[tc.trafo]
        bus = int(row["lv_bus"]) if tc.bus is None else int(tc.bus)
        ib = int(model.bus_lookup[pos_of[bus]])
        if ib < 0:
            raise NetworkError(f"controls: controlled bus {bus} is not connected to the grid")
        ne = _tap_patches(model, net, tc, patches)
        coeff = 1 if str(row["tap_side"]) == "hv" else -1
        deg = float(row["tap_step_degree"]) if "tap_step_degree" in row else float("nan")
        sign = 1.0 if np.isnan(deg) else float(np.sign(np.cos(np.deg2rad(deg))))
        tap_bus.append(ib)
        lo.append(tc.vm_lower_pu)
        hi.append(tc.vm_upper_pu)
        tmin.append(int(row["tap_min"]))
        tmax.append(int(row["tap_max"]))
        tdir.append(coeff * (1 if sign >= 0 else -1))
        delay.append(tc.delay_steps)
        start.append(int(row["tap_pos"]))
        n_ent.append(ne)
        offs.append(off)
        off += ne * (int(row["tap_max"]) - int(row["tap_min"]) + 1)
    col_of: dict[tuple[str, int], int] = {}
    c0 = 0
    for key in model.keys:
        for j, e in enumerate(prof_columns[key]):
            if key[1] == "p_mw":
                col_of[(key[0], int(e))] = c0 + j
        c0 += len(prof_columns[key])
    q_bus: list[int] = []
    q_col: list[int] = []
    q_p: list[float] = []
    q_sn: list[float] = []
    q_s: list[float] = []
    qv_ptr: list[int] = []
    qv_v: list[float] = []
    qv_q: list[float] = []
    qv_ptr.append(0)
    slack = set(model.ref.tolist())
    for i, qc in enumerate(controls.q_u):
        el = net[qc.element].loc[qc.index]
        ib = int(model.bus_lookup[pos_of[int(el["bus"])]])
        if ib < 0 or ib in slack or not bool(el["in_service"]):
            raise NetworkError(f"controls.q_u[{i}]: {qc.element} {qc.index} is out of service, "
                               "cut off or at the slack bus (its voltage is fixed)")
        q_bus.append(ib)
        q_col.append(col_of.get((qc.element, qc.index), -1))
        q_p.append(float(el["p_mw"]))
        q_sn.append(qc.sn_mva)
        q_s.append(qc.s_max_mva)
        qv_v.extend(qc.vm_points_pu)
        qv_q.extend(qc.q_points_pu)
        qv_ptr.append(len(qv_v))

    def i64(a: Any) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=np.int64)

    def f64(a: Any) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=np.float64)

    args = ControlArgs(
        i64(tap_bus), f64(lo), f64(hi), i64(tmin), i64(tmax), i64(tdir), i64(delay),
        i64(np.concatenate([[0], np.cumsum(n_ent)]) if n_ent else [0]),
        i64(np.concatenate(patches.idx) if patches.idx else []),
        i64(np.concatenate(patches.mat) if patches.mat else []),
        i64(offs),
        np.ascontiguousarray(np.concatenate(patches.val) if patches.val else [],
                             dtype=np.complex128),
        i64(q_bus), i64(q_col), f64(q_p), f64(q_sn), f64(q_s), i64(qv_ptr), f64(qv_v),
        f64(qv_q), float(controls.q_tol_mvar), int(controls.max_outer))
    state = ControlState(i64(start), np.zeros(len(start), dtype=np.int64),
                         np.zeros(len(q_bus), dtype=np.float64))
    return args, state


def control_outputs(steps: int, args: ControlArgs) -> ControlOutputs:
    """Empty per-step controller outputs for *steps* steps."""
    n_tap, n_q = args.tap_bus.shape[0], args.q_bus.shape[0]
    return ControlOutputs(np.zeros((steps, n_tap), dtype=np.int64),
                          np.zeros((steps, n_tap), dtype=np.int64),
                          np.zeros((steps, n_q), dtype=np.float64),
                          np.zeros(steps, dtype=np.int64), np.zeros(steps, dtype=np.bool_))


class LanesModel(NamedTuple):
    """What the lanes kernel needs at one set of tap positions.

    ``fp``: the fixed point's factors of ``Ynn``; ``sens`` float64 (n_q, n_q): the
    linearised d|V_a|/dq_b of the Q(U) elements' buses [pu/Mvar] (``q_b`` injected at
    the bus of element b), taken at the no-load voltages.
    """

    fp: FixedPointFactors
    sens: np.ndarray


def lanes_model(model: NetModel, y_data: np.ndarray, q_bus: np.ndarray,
                v_ref: np.ndarray) -> LanesModel | None:
    """Return the fixed point's factors and the Q(U) sensitivities for *y_data*.

    *y_data* is ``Ybus``'s data (the pattern of ``model.ybus``) at some tap positions;
    *q_bus* the Q(U) elements' internal buses; *v_ref* the voltages to linearise at
    [pu]. ``None`` where the fixed point does not apply (PV buses, or ``Ynn`` needs
    pivoting at these taps).

    ``sens[a, b] = Re(conj(V_a) Z_ab (-j) / conj(V_b)) / (|V_a| base_mva)`` with ``Z =
    Ynn^-1``: an injection of ``dq`` Mvar at bus b is the current ``-j dq / (base
    conj(V_b))`` [pu], which moves ``V_a`` by ``Z_ab`` times it.
    """
    ybus = sp.csr_matrix((y_data, model.ybus.indices, model.ybus.indptr),
                         shape=model.ybus.shape)
    fp = _prepare_fixed_point(dataclasses.replace(model, ybus=ybus))
    if fp is None:
        return None
    check(fp)
    n_q = len(q_bus)
    sens = np.zeros((n_q, n_q))
    if n_q:
        pq = model.pq
        pos = np.full(model.n_bus, -1, dtype=np.int64)
        pos[pq] = np.arange(len(pq))
        cols = pos[q_bus]
        rhs = np.zeros((len(pq), n_q), dtype=np.complex128)
        rhs[cols, np.arange(n_q)] = 1.0
        z = splu(sp.csc_matrix(ybus[pq][:, pq])).solve(rhs)[cols, :]
        va = v_ref[q_bus]
        sens = np.ascontiguousarray(
            np.real(np.conj(va)[:, None] * z * (-1j) / np.conj(va)[None, :])
            / (np.abs(va)[:, None] * model.base_mva), dtype=np.float64)
    return LanesModel(fp, sens)
