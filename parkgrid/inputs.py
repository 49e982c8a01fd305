"""From a validated scenario to the arrays the engines consume.

The one place where scenario fields become kernel inputs: the available power of
every plant and the demand of every load per step (:func:`asset_power_mw`), the
per-asset arrays every dispatcher shares (:func:`unit_arrays`, times converted to
steps) and the copper-plate totals the optimal strategy dispatches
(:func:`dispatch_inputs`). The SimPy engine adds its events on top of these in
:func:`parkgrid.engine.build.plan_engine`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from parkgrid.dispatch import DispatchInputs
from parkgrid.layout import AssetRating
from parkgrid.scenario.model import Scenario
from parkgrid.timeseries import dt_h

__all__ = ["RES_KINDS", "AssetPowers", "asset_power_mw", "asset_ratings", "dispatch_inputs",
           "field_array", "unit_arrays"]

RES_KINDS = ("pv", "wind", "direct_line")
"""Kinds the dispatch treats as variable renewable supply; a ``direct_line`` green
contract is dispatched (and curtailed) like an own plant but accounted as a contract."""

AssetPowers = dict[tuple[str, str], np.ndarray]
"""``(kind, name) -> per-step power [MW]``: available power of PV/wind, demand of loads."""


def asset_power_mw(scenario: Scenario) -> AssetPowers:
    """Available power of every PV/wind plant, direct line and demand of every load [MW].

    A load is scaled from its profile shape to its ``peak_mw`` or, without one, to
    its ``annual_mwh``.
    """
    prof = scenario.profiles
    assert prof is not None
    dt = dt_h(prof.index)
    out: AssetPowers = {}
    for kind in ("pv", "wind"):
        for a in getattr(scenario, kind):
            out[(kind, a.name)] = a.p_mw * prof[a.profile].to_numpy(dtype=float)
    for c in scenario.green_contract:
        if c.kind == "direct_line":  # dispatched like an own plant, counted as a contract
            out[("direct_line", c.name)] = c.p_mw * prof[c.profile].to_numpy(dtype=float)
    for ld in scenario.load:
        shape = prof[ld.profile].to_numpy(dtype=float)
        if ld.peak_mw > 0:
            out[("load", ld.name)] = shape * (ld.peak_mw / shape.max())
        else:
            out[("load", ld.name)] = shape * (ld.annual_mwh / (shape.sum() * dt))
    return out


def field_array(items: tuple[Any, ...], attr: str) -> np.ndarray:
    """Return field *attr* of every asset in *items* as a float array (one per asset)."""
    return np.array([getattr(x, attr) for x in items], dtype=float)


def unit_arrays(scenario: Scenario, dt: float) -> dict[str, Any]:
    """Return the DispatchInputs keywords every dispatcher shares.

    Batteries, electrolysers, coal units and the hydrogen tank, with times
    converted to steps of *dt* [h].
    """
    b, e, c, h2 = scenario.battery, scenario.electrolyser, scenario.coal, scenario.hydrogen
    assert scenario.profiles is not None
    n = len(scenario.profiles)
    if h2 is None:
        cap, ini, demand = 0.0, 0.0, None
    else:
        shape = (scenario.profiles[h2.offtake_profile].to_numpy(dtype=float)
                 if h2.offtake_profile else np.ones(n))
        cap, ini, demand = h2.capacity_kg, h2.initial_kg, shape * h2.offtake_kg_per_h * dt
    return dict(
        bat_p_mw=field_array(b, "p_mw"), bat_e_mwh=field_array(b, "e_mwh"),
        bat_eta_charge=field_array(b, "eta_charge"),
        bat_eta_discharge=field_array(b, "eta_discharge"),
        bat_soc_min_pu=field_array(b, "soc_min_pu"), bat_soc_max_pu=field_array(b, "soc_max_pu"),
        bat_soc_initial_pu=field_array(b, "soc_initial_pu"),
        el_p_mw=field_array(e, "p_mw"), el_kwh_per_kg=field_array(e, "kwh_per_kg"),
        el_min_load_pu=field_array(e, "min_load_pu"),
        coal_p_min_mw=field_array(c, "p_min_mw"), coal_p_max_mw=field_array(c, "p_max_mw"),
        coal_ramp_up_mw=field_array(c, "ramp_up_mw_per_min") * dt * 60.0,
        coal_ramp_down_mw=field_array(c, "ramp_down_mw_per_min") * dt * 60.0,
        coal_start_steps=np.round(field_array(c, "start_up_h") / dt),
        coal_min_up_steps=np.round(field_array(c, "min_up_h") / dt),
        coal_min_down_steps=np.round(field_array(c, "min_down_h") / dt),
        tank_capacity_kg=cap, tank_initial_kg=ini, h2_demand_kg=demand, dt_h=dt,
    )


def dispatch_inputs(scenario: Scenario, powers: AssetPowers) -> DispatchInputs:
    """Copper-plate totals for the optimal dispatch (no events, no per-plant columns)."""
    assert scenario.profiles is not None
    n = len(scenario.profiles)
    zeros = np.zeros(n)
    res = sum((v for (k, _), v in powers.items() if k in RES_KINDS), zeros)
    load = sum((v for (k, _), v in powers.items() if k == "load"), zeros)
    return DispatchInputs(
        res_mw=res, load_mw=load,
        import_limit_mw=np.full(n, scenario.grid.import_limit_mw),
        export_limit_mw=np.full(n, scenario.grid.export_limit_mw),
        **unit_arrays(scenario, dt_h(scenario.profiles.index)),
    )


def asset_ratings(scenario: Scenario) -> list[AssetRating]:
    """Each asset's worst case at its bus [MVA], for the radial rule of ``network check``.

    Feed-in: PV and wind ``p_mw``, battery ``p_mw`` (discharging), coal ``p_max_mw``;
    draw: each load at its peak over the year (its scaled profile), electrolyser and
    battery ``p_mw``, the truck depot's ``chargers x charger_kw``. Each is divided by
    its ``cos_phi`` (batteries run at unity in the power flow). A STATCOM counts its
    ``s_mvar`` both ways.
    """
    peaks = asset_power_mw(scenario)
    out = []
    for kind in ("pv", "wind", "battery", "coal", "electrolyser", "load"):
        for a in getattr(scenario, kind):
            p_mw = (a.p_max_mw if kind == "coal" else float(peaks[(kind, a.name)].max())
                    if kind == "load" else a.p_mw)
            s_mva = p_mw / getattr(a, "cos_phi", 1.0)
            feeds, draws = kind in ("pv", "wind", "battery", "coal"), kind in (
                "battery", "electrolyser", "load")
            out.append(AssetRating(a.name, kind, a.bus, s_mva if feeds else 0.0,
                                   s_mva if draws else 0.0))
    for st in getattr(scenario, "statcom", ()):  # reactive current either way
        if st.in_service:
            out.append(AssetRating(st.name, "statcom", st.bus, st.s_mvar, st.s_mvar))
    t = scenario.trucks
    if t is not None:
        out.append(AssetRating("trucks", "trucks", t.bus, 0.0,
                               t.chargers * t.charger_kw / 1e3 / t.cos_phi))
    return out
