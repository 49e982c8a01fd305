"""Lifecycle costs of a simulated year: the economic KPIs (issue 14).

The simulated year stands for every year of the project: its operating cost is
paid in each of the years 1..N, and its use of the assets (battery fade,
electrolyser operating hours) is extrapolated to find when they are replaced
(:mod:`parkgrid.economics`). The KPIs are defined in :data:`parkgrid.kpis.KPI_INFO`;
this module computes them, and the report draws its cost figures from
:func:`evaluate_lifecycle`.

Electricity in LCOH is priced at the **attributed** (average) cost, step by step:
the electrolysers take the same share of each supply as of the step's gross park
consumption (as in the CO2 KPIs), and each supply is priced at its own cost: grid
import at the step's tariff, coal consumed at its fuel cost, local renewables at
their LCOE (``lcoe_res_cny_per_mwh``), battery discharge at zero (its cost is in
LCOS). The capacity charge is shared by the electrolysers' share of the imported
energy. Not the marginal price.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from parkgrid.economics import (
    AssetCost,
    CashFlows,
    annualised_cost_per_unit,
    asset_costs,
    capital_recovery_factor,
    cash_flows,
    npv_cny,
    payback_yr,
    replacement_interval_yr,
)
from parkgrid.scenario.model import Economics, Scenario
from parkgrid.timeseries import asset_column

__all__ = ["Lifecycle", "Reference", "economic_kpis", "evaluate_lifecycle", "grid_only_reference"]

_RES_KINDS = ("pv", "wind")


@dataclass(frozen=True)
class Reference:
    """The design NPV, payback and CO2 abatement cost compare with."""

    name: str
    flows: CashFlows
    co2_t_per_yr: float


@dataclass(frozen=True)
class Lifecycle:
    """Lifecycle costs of one design.

    ``annualised_cny_per_yr`` holds, per asset, its annualised capex (with
    replacements and salvage) + fixed O&M + variable O&M of the simulated year;
    ``"grid and fuel"`` the rest of the operating cost (grid energy and capacity
    charge less export revenue, coal fuel and starts), ``"land and fees"`` the land
    lease and annualised connection fee, ``"hydrogen sales"`` (negative) the
    hydrogen revenue. They add up to ``annualised_cost_cny_per_yr``.
    """

    economics: Economics
    costs: dict[str, AssetCost]
    intervals_yr: dict[str, float]
    annualised_cny_per_yr: dict[str, float]
    flows: CashFlows
    operating_cny_per_yr: float
    reference: Reference

    @property
    def crf(self) -> float:
        """Capital recovery factor of the project [1/yr]."""
        e = self.economics
        return capital_recovery_factor(e.discount_rate_pu, e.project_life_yr)

    @property
    def annualised_cost_cny_per_yr(self) -> float:
        """Net present cost x CRF [CNY/yr]."""
        return self.flows.net_present_cost_cny * self.crf


def _col(ts: pd.DataFrame, name: str) -> np.ndarray:
    return ts[name].to_numpy(dtype=float) if name in ts else np.zeros(len(ts))


def _dt_h(ts: pd.DataFrame) -> float:
    if isinstance(ts.index, pd.DatetimeIndex) and len(ts) > 1:
        return float((ts.index[1] - ts.index[0]).total_seconds() / 3600.0)
    return 0.25


def _energy_mwh(ts: pd.DataFrame, c: AssetCost, dt: float) -> float:
    """Energy the variable O&M is charged on: generated, discharged or consumed."""
    if c.kind in ("pv", "wind", "electrolyser", "coal"):
        return float(_col(ts, asset_column(c.kind, c.name, "p_mw")).sum() * dt)
    if c.kind == "battery":
        p = _col(ts, asset_column("battery", c.name, "p_mw"))
        return float(np.maximum(-p, 0.0).sum() * dt)
    return 0.0


def _intervals(scenario: Scenario, ts: pd.DataFrame, costs: Mapping[str, AssetCost],
               dt: float) -> dict[str, float]:
    """Return the replacement intervals from the simulated year's use (fade, hours)."""
    years = len(ts) * dt / 8760.0 if len(ts) else 1.0
    out: dict[str, float] = {}
    for name, c in costs.items():
        fade = hours = None
        if c.kind == "battery":
            cap = _col(ts, asset_column("battery", name, "capacity_mwh"))
            if cap.size and c.e_mwh > 0 and asset_column("battery", name, "capacity_mwh") in ts:
                fade = max(0.0, (c.e_mwh - float(cap[-1])) / c.e_mwh) / years
        elif c.kind == "electrolyser":
            on = _col(ts, asset_column("electrolyser", name, "p_mw")) > 1e-9
            hours = float(on.sum() * dt) / years
        out[name] = replacement_interval_yr(c, fade_pu_per_yr=fade, hours_per_yr=hours)
    return out


def _coal_fuel(scenario: Scenario, ts: pd.DataFrame, dt: float) -> tuple[float, np.ndarray]:
    """Coal fuel cost of the year [CNY] and the fuel cost per step of coal output [CNY/MWh]."""
    total, cost = 0.0, np.zeros(len(ts))
    mw = np.zeros(len(ts))
    for u in scenario.coal:
        p = _col(ts, asset_column("coal", u.name, "p_mw"))
        rate = u.coal_gce_per_kwh / 1000.0 * u.fuel_cny_per_tce  # t/MWh x CNY/t
        total += float(p.sum() * dt * rate)
        cost += p * rate
        mw += p
    return total, np.divide(cost, mw, out=np.zeros_like(cost), where=mw > 0)


def grid_only_reference(ts: pd.DataFrame, kpis: Mapping[str, float], econ: Economics,
                        capacity_charge_cny_per_mw_month: float) -> Reference:
    """Return the reference of the loads served from the grid alone.

    Their energy at each step's tariff and the capacity charge on each month's peak
    load; no assets, no land or fees; CO2 = load energy x the grid emission factor.
    """
    dt = _dt_h(ts)
    load = _col(ts, "load_mw")
    energy = float((load * _col(ts, "price_cny_per_mwh")).sum() * dt)
    if isinstance(ts.index, pd.DatetimeIndex) and len(ts):
        peaks = pd.Series(load, index=ts.index).groupby(ts.index.month).max().sum()
    else:
        peaks = float(load.max()) if len(load) else 0.0
    op = energy + float(peaks) * capacity_charge_cny_per_mw_month
    flows = cash_flows({}, dataclasses.replace(econ, land_cny_per_yr=0.0, connection_fee_cny=0.0),
                       operating_cny_per_yr=op)
    co2 = float(load.sum() * dt) * float(kpis.get("emission_factor_kg_per_kwh", 0.0))
    return Reference("grid only", flows, co2)


def evaluate_lifecycle(scenario: Scenario, ts: pd.DataFrame, kpis: Mapping[str, float], *,
                       economics: Economics | None = None,
                       reference: Reference | None = None) -> Lifecycle:
    """Lifecycle costs of the simulated design *scenario* (time series *ts*, *kpis*).

    *economics* defaults to the scenario's ``[economics]``; *reference* to
    :func:`grid_only_reference`.
    """
    econ = economics or scenario.economics or Economics()
    dt = _dt_h(ts)
    costs = asset_costs(scenario)
    intervals = _intervals(scenario, ts, costs, dt)
    fuel_cny, _ = _coal_fuel(scenario, ts, dt)
    annual: dict[str, float] = {}
    var_om = 0.0
    for name, c in costs.items():
        per_mw, per_2 = annualised_cost_per_unit(c, econ, interval_yr=intervals[name])
        vom = c.variable_om_cny_per_mwh * _energy_mwh(ts, c, dt)
        var_om += vom
        annual[name] = per_mw * c.p_mw + per_2 * (c.e_mwh if c.kind == "battery" else c.kg) + vom
    h2_kg = kpis.get("h2_delivered_total_kg", kpis.get("h2_delivered_kg", 0.0))
    h2_revenue = econ.hydrogen_price_cny_per_kg * float(h2_kg)
    grid_fuel = (float(kpis.get("net_cost_cny", 0.0)) + fuel_cny
                 + float(kpis.get("coal_start_cost_cny", 0.0)))
    operating = grid_fuel + var_om - h2_revenue
    flows = cash_flows(costs, econ, operating_cny_per_yr=operating, intervals_yr=intervals)
    crf = capital_recovery_factor(econ.discount_rate_pu, econ.project_life_yr)
    annual["grid and fuel"] = grid_fuel
    annual["land and fees"] = econ.land_cny_per_yr + econ.connection_fee_cny * crf
    if h2_revenue:
        annual["hydrogen sales"] = -h2_revenue
    ref = reference or grid_only_reference(ts, kpis, econ,
                                           scenario.grid.capacity_charge_cny_per_mw_month)
    return Lifecycle(econ, costs, intervals, annual, flows, operating, ref)


def _lcoe_res(lc: Lifecycle, kpis: Mapping[str, float]) -> float:
    res_cost = sum(v for k, v in lc.annualised_cny_per_yr.items()
                   if k in lc.costs and lc.costs[k].kind in _RES_KINDS)
    used = float(kpis.get("res_available_mwh", 0.0)) - float(kpis.get("curtailed_mwh", 0.0))
    return res_cost / used if used > 0 else math.nan


def _electrolyser_electricity_cny(scenario: Scenario, ts: pd.DataFrame,
                                  kpis: Mapping[str, float], lcoe_res: float) -> float:
    """Attributed cost of the electrolysers' electricity in the year (module docstring)."""
    dt = _dt_h(ts)
    served = _col(ts, "load_mw") - _col(ts, "unserved_mw")
    el, ch = _col(ts, "electrolyser_mw"), _col(ts, "bat_charge_mw")
    dis = _col(ts, "bat_discharge_mw")
    imp = _col(ts, "grid_import_mw")
    gross = served + el + ch
    part = np.divide(el, gross, out=np.zeros_like(el), where=gross > 1e-12)
    res_used = np.minimum(np.maximum(_col(ts, "res_avail_mw") - _col(ts, "curtailed_mw")
                                     - _col(ts, "grid_export_mw"), 0.0), gross)
    coal_mw = _col(ts, "coal_mw")
    coal_used = np.clip(gross - dis - imp - res_used, 0.0, coal_mw)
    _, fuel_rate = _coal_fuel(scenario, ts, dt)
    res_rate = 0.0 if not math.isfinite(lcoe_res) else lcoe_res
    energy = (part * (imp * _col(ts, "price_cny_per_mwh") + coal_used * fuel_rate
                      + res_used * res_rate)).sum() * dt
    imported = float(imp.sum() * dt)
    share = float((part * imp).sum() * dt) / imported if imported > 0 else 0.0
    return float(energy + share * float(kpis.get("capacity_charge_cny", 0.0)))


def economic_kpis(scenario: Scenario, ts: pd.DataFrame, kpis: Mapping[str, float],
                  lc: Lifecycle | None = None) -> dict[str, float]:
    """Return the economic KPIs of :data:`parkgrid.kpis.KPI_INFO` (needs ``[economics]``)."""
    lc = lc or evaluate_lifecycle(scenario, ts, kpis)
    ref = lc.reference
    annualised = lc.annualised_cost_cny_per_yr
    ref_annualised = ref.flows.net_present_cost_cny * lc.crf
    lcoe = _lcoe_res(lc, kpis)
    by_kind: dict[str, float] = {}
    for name, c in lc.costs.items():
        by_kind[c.kind] = by_kind.get(c.kind, 0.0) + lc.annualised_cny_per_yr[name]
    h2_kg = float(kpis.get("h2_produced_kg", 0.0))
    lcoh = math.nan
    if h2_kg > 0:
        elec = _electrolyser_electricity_cny(scenario, ts, kpis, lcoe)
        lcoh = (by_kind.get("electrolyser", 0.0) + by_kind.get("hydrogen", 0.0) + elec) / h2_kg
    discharged = float(kpis.get("battery_discharged_mwh", 0.0))
    avoided = ref.co2_t_per_yr - float(kpis.get("co2_total_t", kpis.get("co2_t", 0.0)))
    return {
        "capex_total_cny": float(lc.flows.capex[0]),
        "operating_cost_cny_per_yr": lc.operating_cny_per_yr,
        "annualised_cost_cny_per_yr": annualised,
        "net_present_cost_cny": lc.flows.net_present_cost_cny,
        "reference_net_present_cost_cny": ref.flows.net_present_cost_cny,
        "npv_cny": npv_cny(lc.flows, ref.flows),
        "payback_yr": payback_yr(lc.flows, ref.flows),
        "lcoe_res_cny_per_mwh": lcoe,
        "lcoh_cny_per_kg": lcoh,
        "lcos_cny_per_mwh": (by_kind.get("battery", 0.0) / discharged if discharged > 0
                             else math.nan),
        "co2_abatement_cost_cny_per_t": ((annualised - ref_annualised) / avoided
                                         if avoided > 0 else math.nan),
    }
