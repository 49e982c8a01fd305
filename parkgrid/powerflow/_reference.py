"""Reference time-series power flow: ``pandapower.runpp`` one step at a time.

Slow (tens of milliseconds a step) and obviously right; the numba kernel is
validated against it, and it is the fallback for nets the kernel does not support.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.errors import NetworkError, PowerFlowError
from parkgrid.network import unsupplied_buses
from parkgrid.powerflow._control import Controls, prepare_net
from parkgrid.powerflow._profiles import check_profiles, check_steps
from parkgrid.powerflow._result import TimeseriesPF, element_names
from parkgrid.powerflow._unsupplied import bus_injections, report_unsupplied, unsupplied_series

__all__ = ["PowerFlowWarning", "assemble_result", "net_results", "run_reference_pf"]

_FRAMES = (
    ("vm_pu", "bus"),
    ("va_degree", "bus"),
    ("line_loading_percent", "line"),
    ("line_p_from_mw", "line"),
    ("trafo_loading_percent", "trafo"),
    ("trafo3w_loading_percent", "trafo3w"),
    ("ext_grid_p_mw", "ext_grid"),
    ("ext_grid_q_mvar", "ext_grid"),
)


class PowerFlowWarning(UserWarning):
    """Some steps of a time-series power flow did not converge (they are flagged)."""


def net_results(net: Any) -> dict[str, np.ndarray]:
    """Read one solved pandapower net's results into the :class:`TimeseriesPF` fields."""

    def col(table: str, column: str) -> np.ndarray:
        res = net[f"res_{table}"]
        if len(net[table]) == 0:
            return np.zeros(0)
        return res[column].reindex(net[table].index).to_numpy(dtype=np.float64)

    losses = 0.0
    for table in ("line", "trafo", "trafo3w", "impedance"):
        if len(net[table]) and "pl_mw" in net[f"res_{table}"]:
            losses += float(np.nansum(net[f"res_{table}"]["pl_mw"].to_numpy(dtype=float)))
    return {
        "vm_pu": col("bus", "vm_pu"),
        "va_degree": col("bus", "va_degree"),
        "line_loading_percent": col("line", "loading_percent"),
        "line_p_from_mw": col("line", "p_from_mw"),
        "trafo_loading_percent": col("trafo", "loading_percent"),
        "trafo3w_loading_percent": col("trafo3w", "loading_percent"),
        "ext_grid_p_mw": col("ext_grid", "p_mw"),
        "ext_grid_q_mvar": col("ext_grid", "q_mvar"),
        "losses_mw": np.array([losses]),
    }


def assemble_result(
    net: Any,
    index: pd.Index,
    arrays: Mapping[str, np.ndarray],
    converged: np.ndarray,
    iterations: np.ndarray,
    mismatch: np.ndarray,
    method: np.ndarray,
    info: dict[str, object] | None = None,
    unsupplied: dict[str, pd.Series] | None = None,
) -> TimeseriesPF:
    """Wrap per-step arrays (steps x elements) into a :class:`TimeseriesPF`.

    *unsupplied* holds the fields of :func:`~parkgrid.powerflow._unsupplied.unsupplied_series`.
    """
    frames: dict[str, Any] = {}
    for name, table in _FRAMES:
        frames[name] = pd.DataFrame(
            arrays[name], index=index, columns=pd.Index(net[table].index, name=table)
        )
    return TimeseriesPF(
        **frames,
        losses_mw=pd.Series(arrays["losses_mw"], index=index, name="losses_mw"),
        converged=pd.Series(converged.astype(bool), index=index, name="converged"),
        iterations=pd.Series(iterations.astype(np.int64), index=index, name="iterations"),
        mismatch_pu=pd.Series(mismatch.astype(np.float64), index=index, name="mismatch_pu"),
        method=pd.Series(method.astype(object), index=index, name="method"),
        info=dict(info or {}),
        names=element_names(net),
        **(unsupplied or {}),
    )


def run_reference_pf(
    net: Any,
    profiles: Mapping[tuple[str, str], pd.DataFrame],
    *,
    steps: Sequence[int] | None = None,
    tolerance_mva: float = 1e-10,
    progress: bool = False,
    raise_on_nonconvergence: bool = False,
    raise_on_unsupplied: bool = False,
    controls: Controls | None = None,
) -> TimeseriesPF:
    """Solve each step with ``pandapower.runpp`` on a copy of *net*.

    Parameters
    ----------
    net:
        pandapower net; never modified.
    profiles:
        ``(element, column) -> DataFrame`` (time x element index); columns not given
        keep the net's static values.
    steps:
        Positions into the profile index to solve; default all.
    tolerance_mva:
        ``runpp`` convergence tolerance [MVA].
    progress:
        Show a tqdm progress bar.
    raise_on_nonconvergence:
        Raise :class:`~parkgrid.errors.PowerFlowError` at the first failed step
        instead of flagging it.
    raise_on_unsupplied:
        Raise :class:`~parkgrid.errors.PowerFlowError` naming the buses with no
        connection to the grid instead of warning (see ``run_timeseries_pf``).
    controls:
        Tap changers and Q(U) inverters, run as pandapower's own controllers
        (``DiscreteTapControl``; ``DERController`` with ``QModelQVCurve``,
        ``saturate_sn_mva`` and ``q_prio=False``) in the order of the batch kernel:
        ``run_control`` settles the Q(U) controllers, then each tap controller that
        is not converged makes its ``control_step``, and again until none moves.
        Steps are solved in the order given (*steps*), each from the state the one
        before left (tap positions, reactive powers).

    Returns
    -------
    TimeseriesPF
        Indexed by the solved profile labels; a failed step is flagged
        (``converged`` False, NaN values) and a :class:`PowerFlowWarning` is issued.
        ``mismatch_pu`` is NaN (pandapower does not report it; converged steps met
        *tolerance_mva*).

    """
    import pandapower as pp  # on first use: start-up time

    if controls:
        net, profiles = prepare_net(net, profiles, controls)
    prof = check_profiles(net, profiles)
    pos = check_steps(steps, len(prof.index))
    cut = sorted(unsupplied_buses(net))
    cut_load, cut_gen = bus_injections(net, prof, cut, pos)
    report_unsupplied(net, cut, cut_load, cut_gen, raise_on_unsupplied=raise_on_unsupplied)
    work = copy.deepcopy(net)
    n = len(pos)
    sizes = {table: len(net[table]) for _, table in _FRAMES}
    arrays: dict[str, np.ndarray] = {
        name: np.full((n, sizes[table]), np.nan) for name, table in _FRAMES
    }
    arrays["losses_mw"] = np.full(n, np.nan)
    converged = np.zeros(n, dtype=bool)
    iterations = np.zeros(n, dtype=np.int64)
    mismatch = np.full(n, np.nan)
    locs = {
        key: work[key[0]].index.get_indexer(idx) for key, idx in prof.columns.items()
    }
    ctl = _Reference(work, controls, n) if controls else None
    iterator: Any = range(n)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc="pandapower runpp", unit="step")
    for k in iterator:
        p = int(pos[k])
        for key, loc in locs.items():
            element, column = key
            ci = work[element].columns.get_loc(column)
            work[element].iloc[loc, ci] = prof.values[key][p]
        try:
            if ctl is None:
                pp.runpp(work, tolerance_mva=tolerance_mva, calculate_voltage_angles=True)
            else:
                ctl.solve(k, tolerance_mva)
        except pp.powerflow.LoadflowNotConverged as err:
            if raise_on_nonconvergence:
                raise PowerFlowError(
                    f"pandapower runpp did not converge at step {prof.index[p]!r}"
                ) from err
            continue
        res = net_results(work)
        for name, values in res.items():
            arrays[name][k] = values if name != "losses_mw" else values[0]
        converged[k] = True
        iterations[k] = int(work._ppc["iterations"]) if "iterations" in work._ppc else 0
    if not converged.all():
        bad = prof.index[pos[~converged]]
        warnings.warn(
            f"{len(bad)} of {n} steps did not converge (first: {bad[0]!r}); "
            "they are flagged in result.converged and hold NaN",
            PowerFlowWarning,
            stacklevel=2,
        )
    out = assemble_result(
        net,
        prof.index[pos],
        arrays,
        converged,
        iterations,
        mismatch,
        np.full(n, "pandapower", dtype=object),
        {"tolerance_mva": tolerance_mva},
        unsupplied_series(prof.index[pos], cut, cut_load, cut_gen),
    )
    return out if ctl is None else dataclasses.replace(out, **ctl.frames(prof.index[pos]))


class _Reference:
    """pandapower's controllers on the working net, driven in the batch kernel's order."""

    def __init__(self, work: Any, controls: Controls, n: int) -> None:
        from pandapower.control import DiscreteTapControl
        from pandapower.control.controller.DERController import DERController, QModelQVCurve
        from pandapower.control.controller.DERController.DERBasics import QVCurve

        self.work, self.controls = work, controls
        self.taps = []
        for tc in controls.tap_changers:
            c = DiscreteTapControl(work, tc.trafo, tc.vm_lower_pu, tc.vm_upper_pu, side="lv",
                                   in_service=False)
            c.initialize_control(work)
            if tc.bus is not None:
                c.trafobus = tc.bus
            self.taps.append(c)
        for qc in controls.q_u:
            if qc.element != "sgen":
                # DERController books storage q in the load convention and forces a
                # charging (negative-p) element to p = 0: not the kernel's model
                raise NetworkError(f"run_reference_pf: Q(U) on {qc.element} {qc.index} has no "
                                   "pandapower reference (DERController models sgens); use "
                                   "run_timeseries_pf")
            work[qc.element].loc[qc.index, "sn_mva"] = qc.sn_mva
            DERController(work, qc.index, element=qc.element,
                          q_model=QModelQVCurve(QVCurve(list(qc.vm_points_pu),
                                                        list(qc.q_points_pu))),
                          saturate_sn_mva=qc.s_max_mva, q_prio=False, damping_coef=2,
                          max_q_error=qc_tol(controls), max_p_error=1e-9)
        self.wait = np.zeros(len(self.taps), dtype=np.int64)
        self.tap_pos = np.zeros((n, len(self.taps)), dtype=np.int64)
        self.tap_moves = np.zeros((n, len(self.taps)), dtype=np.int64)
        self.q = np.zeros((n, len(controls.q_u)))
        self.settled = np.zeros(n, dtype=bool)
        self.solves = np.zeros(n, dtype=np.int64)

    def solve(self, k: int, tolerance_mva: float) -> None:
        """Solve step *k* (the working net holds its injections) with the controllers."""
        import pandapower as pp

        work = self.work
        moved = np.zeros(len(self.taps), dtype=np.int64)
        settled = False
        for _ in range(self.controls.max_outer):
            pp.runpp(work, tolerance_mva=tolerance_mva, calculate_voltage_angles=True,
                     run_control=bool(self.controls.q_u), max_iter=500)
            self.solves[k] += 1
            step_any = False
            for j, (tc, c) in enumerate(zip(self.controls.tap_changers, self.taps,
                                            strict=True)):
                if c.is_converged(work):
                    if not moved[j]:
                        self.wait[j] = 0
                    continue
                if not moved[j] and self.wait[j] < tc.delay_steps:
                    self.wait[j] += 1
                    continue
                c.control_step(work)
                moved[j] += 1
                step_any = True
            if not step_any:
                settled = True
                break
        self.wait[moved > 0] = 0
        for j, tc in enumerate(self.controls.tap_changers):
            self.tap_pos[k, j] = int(work.trafo.at[tc.trafo, "tap_pos"])
        self.tap_moves[k] = moved
        for a, qc in enumerate(self.controls.q_u):
            self.q[k, a] = float(work[qc.element].at[qc.index, "q_mvar"])
        self.settled[k] = settled

    def frames(self, index: pd.Index) -> dict[str, Any]:
        """Return the controller fields of the result."""
        trafo = pd.Index([tc.trafo for tc in self.controls.tap_changers], name="trafo")
        elems = pd.MultiIndex.from_tuples([(qc.element, qc.index) for qc in self.controls.q_u],
                                          names=["table", "index"])
        return {
            "tap_pos": pd.DataFrame(self.tap_pos, index=index, columns=trafo),
            "tap_moves": pd.DataFrame(self.tap_moves, index=index, columns=trafo),
            "q_control_mvar": pd.DataFrame(self.q, index=index, columns=elems),
            "control_settled": pd.Series(self.settled, index=index, name="control_settled"),
            "control_solves": pd.Series(self.solves, index=index, name="control_solves"),
        }


def qc_tol(controls: Controls) -> float:
    """Return DERController's ``max_q_error`` [Mvar].

    It bounds the damped step (factor 2): half the batch kernel's tolerance on
    ``|target - q|``, but not below 1e-6 Mvar (pandapower's check adds ``np.allclose``'s
    relative 1e-5 of q anyway, and each of its iterations is a whole ``runpp``).
    """
    return max(controls.q_tol_mvar / 2.0, 1e-6)
