"""The result type of every time-series power flow in parkgrid."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ELEMENT_TABLES", "TimeseriesPF", "element_names"]

#: result frame -> pandapower element table of its columns
ELEMENT_TABLES: dict[str, str] = {
    "vm_pu": "bus",
    "va_degree": "bus",
    "line_loading_percent": "line",
    "line_p_from_mw": "line",
    "trafo_loading_percent": "trafo",
    "trafo3w_loading_percent": "trafo3w",
    "ext_grid_p_mw": "ext_grid",
    "ext_grid_q_mvar": "ext_grid",
}


def element_names(net: Any) -> dict[str, pd.Series]:
    """Names of the elements the result frames have as columns, per table.

    ``table -> Series`` (pandapower index -> name as a string; a missing name is
    ``""``). pandapower allows duplicate and missing names, so the names never
    replace the indices: they sit beside them (:meth:`TimeseriesPF.named`).
    """
    out = {}
    for table in dict.fromkeys(ELEMENT_TABLES.values()):
        tab = net[table]
        raw = tab["name"] if "name" in tab else pd.Series(None, index=tab.index, dtype=object)
        out[table] = pd.Series([v if isinstance(v, str) else ("" if v is None or pd.isna(v)
                                                              else str(v)) for v in raw],
                               index=pd.Index(tab.index, dtype=np.int64, name=table),
                               dtype=object, name="name")
    return out


@dataclass(frozen=True)
class TimeseriesPF:
    """Power-flow results of a sequence of time steps.

    Every frame is indexed by the profile index rows that were solved (``steps``);
    columns are pandapower element indices (``net.bus.index``, ``net.line.index`` ...);
    ``names`` holds the element names and :meth:`named` gives a frame with both.
    A step that did not converge has ``converged == False``, its ``mismatch_pu`` set
    and NaN in every value column: it is flagged, never hidden. A bus with no
    connection to the grid has NaN voltages in every step it is cut off, and is
    listed in ``unsupplied_buses`` for those steps: explained, never silent.

    Attributes
    ----------
    vm_pu, va_degree:
        Bus voltage magnitude [pu] and angle [degree], time x bus.
    line_loading_percent, line_p_from_mw:
        Line loading [%] (current over ``max_i_ka * df * parallel``) and active
        power at the from-bus [MW], time x line.
    trafo_loading_percent, trafo3w_loading_percent:
        Transformer loading [%] as pandapower's ``trafo_loading="current"``.
    ext_grid_p_mw, ext_grid_q_mvar:
        Slack injection [MW], [Mvar], time x ext_grid (import positive).
    losses_mw:
        Total active branch losses (lines, transformers, impedances) [MW] per step.
    converged, iterations, mismatch_pu:
        Per-step convergence flag, iteration count and final max power mismatch [pu].
    method:
        Per-step solver that produced the step (``"pandapower"``, ``"fixed_point"``,
        ``"newton"``).
    unsupplied_buses:
        Per step, the pandapower indices of the in-service buses with no connection
        to an in-service ext_grid (a tuple, empty when every bus is supplied); it
        changes from step to step where lines go out of service.
    unsupplied_load_mw, unsupplied_gen_mw:
        Per step, the load (loads and charging storage) and the generation (sgens,
        gens and discharging storage) at those buses [MW]: load the network does
        not serve and generation it cannot take.
    names:
        ``table -> Series`` of element names by pandapower index (``bus``,
        ``line``, ``trafo``, ``trafo3w``, ``ext_grid``); see :func:`element_names`.
    tap_pos, tap_moves:
        With tap changers (``controls``), per step and controlled transformer: the
        tap position the step was solved at and the taps moved in the step;
        ``None`` without.
    q_control_mvar:
        With Q(U) elements, their reactive power per step [Mvar] (+ injected);
        columns ``(table, index)``; ``None`` without.
    control_settled, control_solves:
        With controls, per step: whether the controllers settled (taps in band or
        at an end position, Q(U) at its fixed point) and the power-flow solves the
        step took: 1 where the fixed point solved it in the lanes with Q(U) inside,
        else the Newton-Raphson solves of the step-by-step loop
        (``run_reference_pf``: pandapower's control iterations).

    """

    vm_pu: pd.DataFrame
    va_degree: pd.DataFrame
    line_loading_percent: pd.DataFrame
    line_p_from_mw: pd.DataFrame
    trafo_loading_percent: pd.DataFrame
    trafo3w_loading_percent: pd.DataFrame
    ext_grid_p_mw: pd.DataFrame
    ext_grid_q_mvar: pd.DataFrame
    losses_mw: pd.Series
    converged: pd.Series
    iterations: pd.Series
    mismatch_pu: pd.Series
    method: pd.Series
    info: dict[str, object] = field(default_factory=dict)
    unsupplied_buses: pd.Series | None = None
    unsupplied_load_mw: pd.Series | None = None
    unsupplied_gen_mw: pd.Series | None = None
    names: dict[str, pd.Series] = field(default_factory=dict)
    tap_pos: pd.DataFrame | None = None
    tap_moves: pd.DataFrame | None = None
    q_control_mvar: pd.DataFrame | None = None
    control_settled: pd.Series | None = None
    control_solves: pd.Series | None = None

    def __post_init__(self) -> None:
        # results made before these fields existed (or by hand) say: nothing known
        # to be unsupplied, no load there
        idx = self.vm_pu.index
        if self.unsupplied_buses is None:
            none_cut = np.empty(len(idx), dtype=object)
            none_cut.fill(())
            object.__setattr__(self, "unsupplied_buses", pd.Series(
                none_cut, index=idx, name="unsupplied_buses"))
        for name in ("unsupplied_load_mw", "unsupplied_gen_mw"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, pd.Series(np.zeros(len(idx)), index=idx,
                                                         name=name))

    def named(self, frame: str) -> pd.DataFrame:
        """Return the frame *frame* (e.g. ``"vm_pu"``) with element names beside the indices.

        Columns become a two-level index (pandapower index, name): unique even where
        names repeat or are missing (``""``), as pandapower allows both. Without
        stored names (``names`` empty) the name level is ``""``.
        """
        data: pd.DataFrame = getattr(self, frame)
        table = ELEMENT_TABLES[frame]
        names = self.names.get(table)
        idx = [int(c) for c in data.columns]
        labels = ([str(names.get(i, "")) for i in idx] if names is not None
                  else [""] * len(idx))
        out = data.copy()
        out.columns = pd.MultiIndex.from_arrays([idx, labels], names=[table, "name"])
        return out

    @property
    def steps(self) -> pd.Index:
        """Profile index labels of the solved steps."""
        return self.vm_pu.index

    @property
    def nonconverged_steps(self) -> pd.Index:
        """Labels of the steps that did not converge (empty when all converged)."""
        return self.converged.index[~self.converged.to_numpy(dtype=bool)]

    def summary(self, step_h: float = 0.25) -> dict[str, float]:
        """Network KPIs over the converged steps.

        Parameters
        ----------
        step_h:
            Length of one step [h]; energy [MWh] = power [MW] x ``step_h``.

        Returns
        -------
        dict
            ``vm_min_pu``, ``vm_max_pu``, ``line_loading_max_percent``,
            ``trafo_loading_max_percent``, ``losses_mwh``, ``n_steps``,
            ``n_nonconverged``.

        """
        ok = self.converged.to_numpy(dtype=bool)
        vm = self.vm_pu.to_numpy()[ok]
        ll = self.line_loading_percent.to_numpy()[ok]
        tl = self.trafo_loading_percent.to_numpy()[ok]

        def _agg(a: np.ndarray, fun: str) -> float:
            if a.size == 0 or np.all(np.isnan(a)):
                return float("nan")
            return float(getattr(np, "nan" + fun)(a))

        return {
            "vm_min_pu": _agg(vm, "min"),
            "vm_max_pu": _agg(vm, "max"),
            "line_loading_max_percent": _agg(ll, "max"),
            "trafo_loading_max_percent": _agg(tl, "max"),
            "losses_mwh": float(np.nansum(self.losses_mw.to_numpy()[ok]) * step_h),
            "n_steps": int(ok.size),
            "n_nonconverged": int((~ok).sum()),
        }
