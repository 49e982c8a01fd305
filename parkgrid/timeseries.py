"""The time-series contract: column names, step length, time-of-use prices, step selection.

A :class:`~parkgrid.result.Result`'s ``timeseries`` has one row per step (period-
beginning timestamps, local standard time) and two kinds of columns:

- **totals** of the park, listed in :data:`TOTALS` with their units, e.g.
  ``grid_import_mw`` or ``h2_tank_kg``;
- **asset columns** ``<kind>.<name>.<quantity>``, one per asset and quantity in
  :data:`ASSET_QUANTITIES`, e.g. ``battery.BESS-1.soc_pu``; build them with
  :func:`asset_column`, never by hand.

Everything that writes or reads these columns (the pipeline, the KPIs, the
optimiser's comparison, the power-flow injections, the report) goes through this
module, so a renamed column is renamed once. This module is in the lowest layer
(it imports nothing of parkgrid): every other layer may use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ASSET_QUANTITIES",
    "DEFAULT_DT_H",
    "TOTALS",
    "NetworkLimits",
    "asset_column",
    "dt_h",
    "select_pf_steps",
    "tou_price",
]

@dataclass(frozen=True)
class NetworkLimits:
    """Voltage band [pu] and loading limit [%] of lines and transformers.

    The one definition of the limits a power flow is held to: the network KPIs
    (``steps_voltage_violation``, ``steps_overloaded``), the AC check of the optimum,
    network-aware dispatch, hosting capacity and the truth check of ``size``.
    """

    vm_min_pu: float = 0.95
    vm_max_pu: float = 1.05
    loading_max_percent: float = 100.0


DEFAULT_DT_H = 0.25
"""Step length [h] of parkgrid's time axis (15 minutes), used when an index has one step."""

#: total columns of a simulated time series: name -> (unit, meaning)
TOTALS: dict[str, tuple[str, str]] = {
    "pv_avail_mw": ("MW", "PV power available before curtailment"),
    "wind_avail_mw": ("MW", "wind power available before curtailment"),
    "res_avail_mw": ("MW", "PV + wind available"),
    "curtailed_mw": ("MW", "renewable power curtailed"),
    "load_mw": ("MW", "demand of the loads (after outages and load shifting)"),
    "unserved_mw": ("MW", "demand not served"),
    "bat_charge_mw": ("MW", "AC power into the batteries"),
    "bat_discharge_mw": ("MW", "AC power out of the batteries"),
    "bat_e_mwh": ("MWh", "energy stored in the batteries at the end of the step"),
    "electrolyser_mw": ("MW", "electrolyser input power"),
    "coal_mw": ("MW", "captive coal generation"),
    "grid_import_mw": ("MW", "import at the grid connection"),
    "grid_export_mw": ("MW", "export at the grid connection"),
    "grid_p_mw": ("MW", "grid exchange, import + / export -"),
    "dumped_mw": ("MW", "coal must-run power no sink could take"),
    "h2_produced_kg": ("kg", "hydrogen produced in the step"),
    "h2_delivered_kg": ("kg", "hydrogen delivered to the continuous offtake"),
    "h2_shortfall_kg": ("kg", "continuous offtake not met"),
    "h2_tank_kg": ("kg", "hydrogen in the tank at the end of the step"),
    "price_cny_per_mwh": ("CNY/MWh", "import price of the step"),
    "unserved_industrial_mw": ("MW", "unserved demand of industrial loads"),
    "unserved_charging_mw": ("MW", "unserved demand of charging loads"),
    "unserved_services_mw": ("MW", "unserved demand of service loads"),
    # rule-based strategies only (the SimPy engine):
    "islanded": ("-", "1 while the grid link is out"),
    "electrolyser_grid_mw": ("MW", "electrolyser power drawn from the grid in valley hours"),
    "bat_grid_charge_mw": ("MW", "battery charging from the grid in valley hours"),
    "h2_trailer_kg": ("kg", "hydrogen collected by tube trailers"),
    # green contracts and carbon accounting (parkgrid.carbon):
    "direct_line_avail_mw": ("MW", "direct-line green contracts: power available"),
    "direct_line_mw": ("MW", "direct-line green contracts: power delivered (after "
                             "curtailment)"),
    "ef_location_kg_per_kwh": ("kgCO2/kWh", "per-step grid factor ([grid] "
                                            "emission_factor_column)"),
    "co2_scope1_t": ("tCO2", "scope 1: captive coal CO2 of the step"),
    "co2_scope2_location_t": ("tCO2", "scope 2 location-based: import x grid factor"),
    "co2_scope2_market_t": ("tCO2", "scope 2 market-based: uncovered import x residual "
                                    "factor"),
    "green_share_hourly_step": ("-", "green share of the step's net consumption, "
                                     "contracts matched per step"),
    "h2_low_carbon_kg": ("kg", "hydrogen of the step meeting T/CAB 0078-2020 low-carbon"),
    "h2_clean_kg": ("kg", "hydrogen of the step meeting T/CAB 0078-2020 clean"),
    "h2_renewable_kg": ("kg", "hydrogen of the step meeting T/CAB 0078-2020 renewable"),
    "h2_rfnbo_kg": ("kg", "hydrogen of the step counted as EU RFNBO"),
    # [powerflow] enforce only (network-aware dispatch, parkgrid.enforce):
    "curtailed_network_mw": ("MW", "PV and wind curtailed to keep the network within its "
                                   "limits (apart from curtailed_mw)"),
}

#: per-asset quantities: kind -> (quantity, ...); units are in the quantity's name
#: (``start`` is 1 in a step where a coal unit starts, else 0)
ASSET_QUANTITIES: dict[str, tuple[str, ...]] = {
    "pv": ("p_mw",),
    "wind": ("p_mw",),
    "direct_line": ("p_mw",),
    "load": ("p_mw",),
    "battery": ("p_mw", "soc_pu", "capacity_mwh"),
    "electrolyser": ("p_mw",),
    "coal": ("p_mw", "start"),
}


def asset_column(kind: str, name: str, quantity: str) -> str:
    """Column of *quantity* of the asset *name* of *kind*, e.g. ``battery.BESS.soc_pu``.

    Raises
    ------
    ValueError
        If *kind* or *quantity* is not part of the contract (:data:`ASSET_QUANTITIES`).
    """
    allowed = ASSET_QUANTITIES.get(kind)
    if allowed is None:
        raise ValueError(f"unknown asset kind {kind!r}; allowed: {', '.join(ASSET_QUANTITIES)}")
    if quantity not in allowed:
        raise ValueError(f"{kind} has no time-series quantity {quantity!r}; allowed: "
                         + ", ".join(allowed))
    return f"{kind}.{name}.{quantity}"


def dt_h(index: pd.Index) -> float:
    """Step length [h] of a time index (its first interval; 0.25 for a single step)."""
    if isinstance(index, pd.DatetimeIndex) and len(index) > 1:
        return float((index[1] - index[0]) / pd.Timedelta(hours=1))
    return DEFAULT_DT_H


def tou_price(tariff: Any, hours: pd.Index | np.ndarray) -> np.ndarray:
    """Import price [CNY/MWh] of every step from a time-of-use tariff.

    *hours* is a DatetimeIndex (its local clock hour is used) or an array of clock
    hours 0-23. Without a tariff (``None``) every price is 0.
    """
    hour = np.asarray(hours.hour if isinstance(hours, pd.DatetimeIndex) else hours,
                      dtype=np.int64)
    if tariff is None:
        return np.zeros(len(hour))
    return np.asarray(tariff.price_by_hour(), dtype=float)[hour]


def select_pf_steps(spec: str | tuple[int, ...], index: pd.DatetimeIndex) -> np.ndarray:
    """Step positions for the power flow from a selection spec.

    ``"none"``, ``"all"``, ``"day:N"``, ``"week:N"`` (7 days from day 7(N-1)+1),
    ``"month:N"`` (1-based), or explicit 0-based positions.

    Raises
    ------
    ValueError
        If the spec is malformed, selects no step or names a step outside the year.
    """
    n = len(index)
    if not isinstance(spec, str):
        pos = np.asarray(spec, dtype=np.int64)
        if pos.size and (pos.min() < 0 or pos.max() >= n):
            raise ValueError(f"powerflow.steps: step numbers must lie in [0, {n - 1}]")
        return pos
    if spec == "none":
        return np.zeros(0, dtype=np.int64)
    if spec == "all":
        return np.arange(n)
    kind, _, num = spec.partition(":")
    if kind in {"day", "week", "month"} and num.isdigit():
        k = int(num)
        day0 = index[0].normalize()
        if kind == "month":
            mask = np.asarray(index.month == k)
        else:
            span = 1 if kind == "day" else 7
            start = day0 + pd.Timedelta(days=span * (k - 1))
            mask = np.asarray((index >= start) & (index < start + pd.Timedelta(days=span)))
        if not mask.any():
            raise ValueError(f"powerflow.steps: {spec!r} selects no step of the year")
        return np.flatnonzero(mask)
    raise ValueError(f"powerflow.steps: {spec!r} is not 'none', 'all', 'day:N', 'week:N', "
                     "'month:N' or a list of step numbers")
