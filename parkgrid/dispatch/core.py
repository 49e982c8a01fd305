"""Dispatch inputs, results and the public wrapper around the kernels."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from parkgrid.dispatch import kernels as K

__all__ = ["DispatchInputs", "DispatchResult", "run_dispatch"]


def _vec(x: object, n: int, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(n, float(a))
    if a.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},), got {a.shape}")
    return np.ascontiguousarray(a)


@dataclass(frozen=True)
class DispatchInputs:
    """Everything a dispatch kernel needs, as arrays.

    Per-step arrays have length T; battery arrays length B; electrolyser arrays
    length E. ``h2_demand_kg`` [kg per step] may be ``inf`` everywhere, meaning
    "no tank: hydrogen leaves as it is produced".
    """

    res_mw: np.ndarray
    load_mw: np.ndarray
    import_limit_mw: np.ndarray
    export_limit_mw: np.ndarray
    bat_p_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bat_e_mwh: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bat_eta_charge: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bat_eta_discharge: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bat_soc_min_pu: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bat_soc_max_pu: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bat_soc_initial_pu: np.ndarray = field(default_factory=lambda: np.zeros(0))
    el_p_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    el_kwh_per_kg: np.ndarray = field(default_factory=lambda: np.zeros(0))
    el_min_load_pu: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tank_capacity_kg: float = 0.0
    tank_initial_kg: float = 0.0
    h2_demand_kg: np.ndarray | None = None
    dt_h: float = 0.25

    @property
    def n_steps(self) -> int:
        """Number of steps T."""
        return int(np.asarray(self.res_mw).shape[0])

    def packed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(series, bat, el)`` in the kernels' column layout, checked."""
        n = self.n_steps
        series = np.empty((n, K.N_SERIES))
        series[:, K.S_RES] = _vec(self.res_mw, n, "res_mw")
        series[:, K.S_LOAD] = _vec(self.load_mw, n, "load_mw")
        series[:, K.S_IMP_LIM] = _vec(self.import_limit_mw, n, "import_limit_mw")
        series[:, K.S_EXP_LIM] = _vec(self.export_limit_mw, n, "export_limit_mw")
        demand = np.inf if self.h2_demand_kg is None else self.h2_demand_kg
        series[:, K.S_H2_DEMAND] = _vec(demand, n, "h2_demand_kg")
        if not np.all(np.isfinite(series[:, :K.S_H2_DEMAND])):
            raise ValueError("dispatch inputs contain NaN or infinite values")
        b = len(self.bat_p_mw)
        e_mwh = _vec(self.bat_e_mwh, b, "bat_e_mwh")
        bat = np.empty((b, K.N_BAT))
        bat[:, K.B_P] = _vec(self.bat_p_mw, b, "bat_p_mw")
        bat[:, K.B_ETA_C] = _vec(self.bat_eta_charge, b, "bat_eta_charge")
        bat[:, K.B_ETA_D] = _vec(self.bat_eta_discharge, b, "bat_eta_discharge")
        bat[:, K.B_E_MIN] = e_mwh * _vec(self.bat_soc_min_pu, b, "bat_soc_min_pu")
        bat[:, K.B_E_MAX] = e_mwh * _vec(self.bat_soc_max_pu, b, "bat_soc_max_pu")
        m = len(self.el_p_mw)
        el = np.empty((m, K.N_EL))
        el[:, K.E_P] = _vec(self.el_p_mw, m, "el_p_mw")
        el[:, K.E_KWH_PER_KG] = _vec(self.el_kwh_per_kg, m, "el_kwh_per_kg")
        el[:, K.E_MIN_LOAD] = _vec(self.el_min_load_pu, m, "el_min_load_pu")
        return series, bat, el

    def initial_state(self) -> tuple[np.ndarray, np.ndarray]:
        """Return stored battery energy [MWh] and tank content [kg] before the first step."""
        b = len(self.bat_p_mw)
        e0 = _vec(self.bat_e_mwh, b, "bat_e_mwh") * _vec(
            self.bat_soc_initial_pu, b, "bat_soc_initial_pu")
        return e0, np.array([float(self.tank_initial_kg)])


@dataclass(frozen=True)
class DispatchResult:
    """Per-step dispatch: all powers [MW] means over the step, energies [MWh], H2 [kg].

    Battery arrays are (T, B), electrolyser arrays (T, E); ``bat_e_mwh`` and
    ``tank_kg`` are the states at the *end* of each step.
    """

    grid_import_mw: np.ndarray
    grid_export_mw: np.ndarray
    curtailed_mw: np.ndarray
    unserved_mw: np.ndarray
    bat_charge_mw: np.ndarray
    bat_discharge_mw: np.ndarray
    bat_e_mwh: np.ndarray
    el_p_mw: np.ndarray
    h2_produced_kg: np.ndarray
    h2_delivered_kg: np.ndarray
    h2_shortfall_kg: np.ndarray
    tank_kg: np.ndarray


def run_dispatch(inputs: DispatchInputs, strategy: str = "self_consumption") -> DispatchResult:
    """Dispatch every step of *inputs* with the rule *strategy*.

    Parameters
    ----------
    inputs:
        The arrays to dispatch (see :class:`DispatchInputs`).
    strategy:
        Name of the rule; one of ``parkgrid.dispatch.STRATEGIES``.
    """
    try:
        kernel = K.KERNELS[strategy]
    except KeyError:
        raise ValueError(
            f"unknown dispatch strategy {strategy!r}; allowed: {', '.join(sorted(K.KERNELS))}"
        ) from None
    series, bat, el = inputs.packed()
    e, tank = inputs.initial_state()
    if inputs.tank_capacity_kg < 0 or tank[0] > inputs.tank_capacity_kg + 1e-9:
        raise ValueError("tank_initial_kg must lie within [0, tank_capacity_kg]")
    n = inputs.n_steps
    out_sys, out_bat, out_el = K.empty_outputs(n, bat.shape[0], el.shape[0])
    kernel(0, n, float(inputs.dt_h), series, bat, el, float(inputs.tank_capacity_kg),
           e, tank, out_sys, out_bat, out_el)
    return DispatchResult(
        grid_import_mw=out_sys[:, K.O_IMP].copy(),
        grid_export_mw=out_sys[:, K.O_EXP].copy(),
        curtailed_mw=out_sys[:, K.O_CURT].copy(),
        unserved_mw=out_sys[:, K.O_UNSERVED].copy(),
        bat_charge_mw=out_bat[:, :, 0].copy(),
        bat_discharge_mw=out_bat[:, :, 1].copy(),
        bat_e_mwh=out_bat[:, :, 2].copy(),
        el_p_mw=out_el.copy(),
        h2_produced_kg=out_sys[:, K.O_H2_PROD].copy(),
        h2_delivered_kg=out_sys[:, K.O_H2_DEL].copy(),
        h2_shortfall_kg=out_sys[:, K.O_H2_SHORT].copy(),
        tank_kg=out_sys[:, K.O_TANK].copy(),
    )
