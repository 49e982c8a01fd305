"""numba dispatch kernels.

Every strategy kernel has the same signature so the engine can call any of them
over an interval ``[t0, t1)`` of steps and carry the state explicitly::

    kernel(t0, t1, dt_h, series, bat, el, tank_capacity_kg, state_bat_e, state_tank,
           out_sys, out_bat, out_el)

* ``series`` (T, N_SERIES): per-step inputs, columns ``S_*`` below [MW, kg];
* ``bat`` (B, N_BAT): battery parameters, columns ``B_*``;
* ``el`` (E, N_EL): electrolyser parameters, columns ``E_*``;
* ``state_bat_e`` (B,) stored energy [MWh] and ``state_tank`` (1,) hydrogen [kg]:
  read at ``t0`` and left at their values at the end of step ``t1 - 1``;
* ``out_sys`` (T, N_OUT), ``out_bat`` (T, B, 3), ``out_el`` (T, E): written for
  the steps of the interval only.

Powers are means over the step [MW]; energies are MW x ``dt_h``. A slow,
independent pure-Python twin of each kernel lives in ``tests/reference_dispatch.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "B_ETA_C",
    "B_ETA_D",
    "B_E_MAX",
    "B_E_MIN",
    "B_P",
    "E_KWH_PER_KG",
    "E_MIN_LOAD",
    "E_P",
    "N_BAT",
    "N_EL",
    "N_OUT",
    "N_SERIES",
    "O_CURT",
    "O_EXP",
    "O_H2_DEL",
    "O_H2_PROD",
    "O_H2_SHORT",
    "O_IMP",
    "O_TANK",
    "O_UNSERVED",
    "S_EXP_LIM",
    "S_H2_DEMAND",
    "S_IMP_LIM",
    "S_LOAD",
    "S_RES",
    "self_consumption_kernel",
]

# series columns
S_RES, S_LOAD, S_IMP_LIM, S_EXP_LIM, S_H2_DEMAND = 0, 1, 2, 3, 4
N_SERIES = 5
# battery parameter columns
B_P, B_ETA_C, B_ETA_D, B_E_MIN, B_E_MAX = 0, 1, 2, 3, 4
N_BAT = 5
# electrolyser parameter columns
E_P, E_KWH_PER_KG, E_MIN_LOAD = 0, 1, 2
N_EL = 3
# system output columns
O_IMP, O_EXP, O_CURT, O_UNSERVED, O_H2_PROD, O_H2_DEL, O_H2_SHORT, O_TANK = range(8)
N_OUT = 8


@njit(cache=True)
def _charge(bat, e, surplus_mw, dt_h, out_row):  # pragma: no cover - compiled
    """Charge batteries in order from *surplus_mw*; return the surplus left [MW]."""
    for k in range(bat.shape[0]):
        if surplus_mw <= 0.0:
            break
        room = (bat[k, B_E_MAX] - e[k]) / (bat[k, B_ETA_C] * dt_h)
        p = min(surplus_mw, bat[k, B_P], max(room, 0.0))
        if p > 0.0:
            e[k] = min(e[k] + p * bat[k, B_ETA_C] * dt_h, bat[k, B_E_MAX])
            out_row[k, 0] = p
            surplus_mw -= p
    return surplus_mw


@njit(cache=True)
def _discharge(bat, e, deficit_mw, dt_h, out_row):  # pragma: no cover - compiled
    """Discharge batteries in order to cover *deficit_mw*; return the deficit left [MW]."""
    for k in range(bat.shape[0]):
        if deficit_mw <= 0.0:
            break
        avail = (e[k] - bat[k, B_E_MIN]) * bat[k, B_ETA_D] / dt_h
        p = min(deficit_mw, bat[k, B_P], max(avail, 0.0))
        if p > 0.0:
            e[k] = max(e[k] - p / bat[k, B_ETA_D] * dt_h, bat[k, B_E_MIN])
            out_row[k, 1] = p
            deficit_mw -= p
    return deficit_mw


@njit(cache=True)
def _electrolyse(el, surplus_mw, headroom_kg, dt_h, out_row):  # pragma: no cover
    """Run electrolysers in order from *surplus_mw* within the tank *headroom_kg*.

    A unit runs only at or above its minimum load; returns (surplus left [MW],
    hydrogen produced [kg]).
    """
    produced_kg = 0.0
    for k in range(el.shape[0]):
        if surplus_mw <= 0.0:
            break
        kwh_per_kg = el[k, E_KWH_PER_KG]
        p_h2_mw = headroom_kg * kwh_per_kg / (1000.0 * dt_h)
        p = min(surplus_mw, el[k, E_P], p_h2_mw)
        if p <= 0.0 or p < el[k, E_MIN_LOAD] * el[k, E_P]:
            continue
        kg = p * dt_h * 1000.0 / kwh_per_kg
        out_row[k] = p
        produced_kg += kg
        headroom_kg -= kg
        surplus_mw -= p
    return surplus_mw, produced_kg


@njit(cache=True)
def self_consumption_kernel(
    t0, t1, dt_h, series, bat, el, tank_capacity_kg, state_bat_e, state_tank,
    out_sys, out_bat, out_el,
):  # pragma: no cover - compiled; tested against tests/reference_dispatch.py
    """Rule ``self_consumption``: RES -> loads -> batteries -> electrolysers -> export -> curtail.

    Deficits are met by the batteries (in order), then imports up to the limit,
    then recorded as unserved. An infinite hydrogen demand means "no tank": all
    hydrogen is taken away as it is produced.
    """
    for t in range(t0, t1):
        out_sys[t, :] = 0.0
        out_bat[t, :, :] = 0.0
        out_el[t, :] = 0.0
        net_mw = series[t, S_RES] - series[t, S_LOAD]
        demand_kg = series[t, S_H2_DEMAND]
        tank = state_tank[0]
        produced_kg = 0.0
        if net_mw >= 0.0:
            surplus = _charge(bat, state_bat_e, net_mw, dt_h, out_bat[t])
            headroom = tank_capacity_kg - tank + demand_kg
            surplus, produced_kg = _electrolyse(el, surplus, headroom, dt_h, out_el[t])
            export = min(surplus, series[t, S_EXP_LIM])
            out_sys[t, O_EXP] = export
            out_sys[t, O_CURT] = surplus - export
        else:
            deficit = _discharge(bat, state_bat_e, -net_mw, dt_h, out_bat[t])
            imp = min(deficit, series[t, S_IMP_LIM])
            out_sys[t, O_IMP] = imp
            out_sys[t, O_UNSERVED] = deficit - imp
        available_kg = tank + produced_kg
        if math.isinf(demand_kg):
            delivered = produced_kg
            tank_end = tank
        else:
            delivered = min(demand_kg, available_kg)
            tank_end = min(available_kg - delivered, tank_capacity_kg)
        state_tank[0] = tank_end
        out_sys[t, O_H2_PROD] = produced_kg
        out_sys[t, O_H2_DEL] = delivered
        out_sys[t, O_H2_SHORT] = 0.0 if math.isinf(demand_kg) else demand_kg - delivered
        out_sys[t, O_TANK] = tank_end
        for k in range(bat.shape[0]):
            out_bat[t, k, 2] = state_bat_e[k]


KERNELS = {"self_consumption": self_consumption_kernel}


def empty_outputs(n_steps: int, n_bat: int, n_el: int) -> tuple[np.ndarray, ...]:
    """Allocate the output arrays of a kernel call."""
    return (np.zeros((n_steps, N_OUT)), np.zeros((n_steps, n_bat, 3)),
            np.zeros((n_steps, n_el)))
