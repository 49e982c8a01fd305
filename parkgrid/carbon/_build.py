"""Flows, contract instruments and rules for :mod:`parkgrid.carbon` from a time series."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.carbon._account import (
    CarbonAccount,
    Flows,
    Instruments,
    Product,
    Rules,
    account,
)
from parkgrid.factors import emission_factor


def flows_from_timeseries(ts: pd.DataFrame, *, dt_h: float,
                          coal_t_per_mwh: Sequence[tuple[str, float]] = (),
                          load_names: Sequence[str] = ()) -> Flows:
    """Flows of a time series in the simulation's column names (MW per step).

    Loads are the ``load.<name>.p_mw`` columns of *load_names* (served power); without
    them (metered data) one load of ``load_mw - unserved_mw``.
    """
    def col(name: str) -> np.ndarray:
        return ts[name].to_numpy(dtype=float) if name in ts else np.zeros(len(ts))

    own = col("pv_avail_mw") + col("wind_avail_mw") - col("curtailed_mw")
    cols = [f"load.{n}.p_mw" for n in load_names]
    if cols and all(c in ts for c in cols):
        loads = np.column_stack([col(c) for c in cols]) * dt_h
        names = tuple(load_names)
    else:
        loads = ((col("load_mw") - col("unserved_mw")) * dt_h)[:, None]
        names = ("load",)
    coal = np.zeros(len(ts))
    coal_co2 = np.zeros(len(ts))
    for name, t in coal_t_per_mwh:
        unit = col(f"coal.{name}.p_mw") * dt_h
        coal += unit
        coal_co2 += unit * t
    if not coal_t_per_mwh and "coal_mw" in ts:
        coal = col("coal_mw") * dt_h
    return Flows(
        index=pd.DatetimeIndex(ts.index), own_res_mwh=np.maximum(own, 0.0) * dt_h,
        import_mwh=col("grid_import_mw") * dt_h, export_mwh=col("grid_export_mw") * dt_h,
        loads_mwh=loads, load_names=names, direct_line_mwh=col("direct_line_mw") * dt_h,
        coal_mwh=coal, coal_co2_t=coal_co2, dumped_mwh=col("dumped_mw") * dt_h,
        charge_mwh=col("bat_charge_mw") * dt_h, discharge_mwh=col("bat_discharge_mw") * dt_h,
        electrolyser_mwh=col("electrolyser_mw") * dt_h, h2_kg=col("h2_produced_kg"))


def _year_fraction(index: pd.DatetimeIndex, dt_h: float) -> dict[int, float]:
    """Share of each calendar year the index covers [-]."""
    out = {}
    for y in np.unique(np.asarray(index.year)):
        hours = (pd.Timestamp(f"{y + 1}-01-01") - pd.Timestamp(f"{y}-01-01")) / pd.Timedelta(
            hours=1)
        out[int(y)] = float((np.asarray(index.year) == y).sum() * dt_h / hours)
    return out


def contract_instruments(contracts: Sequence[Any], index: pd.DatetimeIndex, *, dt_h: float,
                         shapes: Mapping[str, np.ndarray] | None = None,
                         direct_line_mwh: Mapping[str, float] | None = None) -> Instruments:
    """PPA delivery per step and certificates per year of ``[[green_contract]]`` entries.

    A PPA's annual (or monthly) volume is spread over the steps of its year (month)
    in proportion to its ``profile`` column in *shapes* (flat without one); data
    covering part of a year (or month) get that part of the volume, and certificates
    of a year likewise. *direct_line_mwh* (delivered energy by contract name) prices
    the direct lines.
    """
    n = len(index)
    ppa = np.zeros(n)
    certs: dict[int, float] = {}
    cost = 0.0
    years = np.asarray(index.year)
    months = np.asarray(index.month)
    cover = _year_fraction(index, dt_h)
    for c in contracts:
        if c.kind == "direct_line":
            cost += (direct_line_mwh or {}).get(c.name, 0.0) * c.price_cny_per_mwh
        elif c.kind == "certificates":
            for y, mwh in c.mwh_by_year:
                if int(y) in cover:
                    certs[int(y)] = certs.get(int(y), 0.0) + mwh * cover[int(y)]
                    cost += mwh * cover[int(y)] * c.price_cny_per_mwh
        elif c.kind == "ppa":
            shape = np.ones(n) if not c.profile else np.asarray(
                (shapes or {})[c.profile], dtype=float)
            delivery = np.zeros(n)
            for y in cover:
                in_year = years == y
                if c.monthly_mwh:
                    for m in range(1, 13):
                        sel = in_year & (months == m)
                        if not sel.any():
                            continue
                        start = pd.Timestamp(year=y, month=m, day=1)
                        hours = (start + pd.offsets.MonthBegin(1) - start) / pd.Timedelta(
                            hours=1)
                        delivery += _spread(sel, shape, c.monthly_mwh[m - 1]
                                            * min(1.0, sel.sum() * dt_h / hours))
                else:
                    delivery += _spread(in_year, shape, c.volume_mwh * cover[y])
            ppa += delivery
            cost += float(delivery.sum()) * c.price_cny_per_mwh
    return Instruments(ppa_mwh=ppa, certificates_mwh_by_year=certs, cost_cny=cost)


def _spread(sel: np.ndarray, shape: np.ndarray, volume: float) -> np.ndarray:
    w = np.where(sel, shape, 0.0)
    if w.sum() <= 0:
        w = sel.astype(float)
    return w / w.sum() * volume


def _factor(value: str | float, location: np.ndarray, table: str, year: int) -> np.ndarray:
    """Return a ``[carbon]`` factor per step: location factor, MEE/NBS entry or number."""
    if isinstance(value, str):
        return location if value == "location" else np.full(len(location),
                                                             emission_factor(table, year))
    return np.full(len(location), float(value))


def scenario_account(scenario: Any, ts: pd.DataFrame, *, dt_h: float) -> CarbonAccount:
    """:func:`account` of a simulated (or metered) time series with a scenario's settings.

    *scenario* supplies ``[grid]`` factors, ``[carbon]`` rules, ``[[green_contract]]``,
    loads with products and coal units; the per-step location factor is the column
    ``ef_location_kg_per_kwh`` of *ts* when present, else the annual factor.
    """
    g, c = scenario.grid, scenario.carbon
    index = pd.DatetimeIndex(ts.index)
    n = len(ts)
    ef_loc = (ts["ef_location_kg_per_kwh"].to_numpy(dtype=float)
              if "ef_location_kg_per_kwh" in ts else np.full(n, float(g.ef_kg_per_kwh)))
    year = int(g.emission_factor_year)
    rules = Rules(
        ef_location=ef_loc,
        ef_residual=_factor(c.residual_factor, ef_loc, "national_excl_market", year),
        ef_displaced=_factor(c.displaced_factor, ef_loc, "national_fossil", year),
        market_matching=c.market_matching, h2_matching=c.h2_matching, h2_class=c.h2_class,
        rfnbo_additional=c.rfnbo_additional, footprint_scope2=c.footprint_scope2)
    load_names = [ld.name for ld in scenario.load]
    trucks = getattr(scenario, "trucks", None)
    if trucks is not None:
        load_names.append(trucks.name)
    flows = flows_from_timeseries(
        ts, dt_h=dt_h, coal_t_per_mwh=[(u.name, u.co2_t_per_mwh) for u in scenario.coal],
        load_names=load_names)
    shapes = {}
    profiles = getattr(scenario, "profiles", None)
    for k in scenario.green_contract:
        if k.kind == "ppa" and k.profile and profiles is not None:
            shapes[k.profile] = profiles[k.profile].to_numpy(dtype=float)
    delivered = {k.name: float(ts[f"direct_line.{k.name}.p_mw"].sum() * dt_h)
                 for k in scenario.green_contract
                 if k.kind == "direct_line" and f"direct_line.{k.name}.p_mw" in ts}
    instruments = contract_instruments(scenario.green_contract, index, dt_h=dt_h,
                                       shapes=shapes, direct_line_mwh=delivered)
    by_product: dict[str, list[int]] = {}
    outputs: dict[str, tuple[float, str]] = {}
    if flows.load_names != ("load",):
        for j, ld in enumerate(scenario.load):
            if ld.product:
                by_product.setdefault(ld.product, []).append(j)
                out, unit = outputs.get(ld.product, (0.0, ld.output_unit))
                outputs[ld.product] = (out + ld.output_per_year, unit)
    products = [Product(name, outputs[name][0], outputs[name][1], tuple(js))
                for name, js in by_product.items()]
    return account(flows, instruments, rules, products)

