"""The result type of every time-series power flow in parkgrid."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["TimeseriesPF"]


@dataclass(frozen=True)
class TimeseriesPF:
    """Power-flow results of a sequence of time steps.

    Every frame is indexed by the profile index rows that were solved (``steps``);
    columns are pandapower element indices (``net.bus.index``, ``net.line.index`` ...).
    Bus names stay available through the caller's ``net.bus.name``.
    A step that did not converge has ``converged == False``, its ``mismatch_pu`` set
    and NaN in every value column: it is flagged, never hidden.

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
