"""The main pipeline: scenario -> dispatch -> power flow -> KPIs -> Result."""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.dispatch import DispatchInputs, DispatchResult
from parkgrid.engine import EngineResult, run_engine
from parkgrid.engine.build import EnginePlan, plan_engine, tou_prices, unit_arrays
from parkgrid.kpis import KpiParams, compute_kpis, engine_kpis, network_kpis
from parkgrid.network import build_park_net, pf_profiles
from parkgrid.profiles import localize_index
from parkgrid.result import Result
from parkgrid.scenario import Scenario, load_scenario

__all__ = ["dispatch_inputs", "select_pf_steps", "simulate", "timeseries_frame"]

log = logging.getLogger(__name__)


def _dt_h(index: pd.Index) -> float:
    if isinstance(index, pd.DatetimeIndex) and len(index) > 1:
        return float((index[1] - index[0]) / pd.Timedelta(hours=1))
    return 0.25


def asset_power_mw(scenario: Scenario) -> dict[tuple[str, str], np.ndarray]:
    """Available power of every PV/wind plant and demand of every load [MW] per step."""
    prof = scenario.profiles
    assert prof is not None
    dt = _dt_h(prof.index)
    out: dict[tuple[str, str], np.ndarray] = {}
    for kind in ("pv", "wind"):
        for a in getattr(scenario, kind):
            out[(kind, a.name)] = a.p_mw * prof[a.profile].to_numpy(dtype=float)
    for ld in scenario.load:
        shape = prof[ld.profile].to_numpy(dtype=float)
        if ld.peak_mw > 0:
            out[("load", ld.name)] = shape * (ld.peak_mw / shape.max())
        else:
            out[("load", ld.name)] = shape * (ld.annual_mwh / (shape.sum() * dt))
    return out


def _prices(scenario: Scenario, index: pd.DatetimeIndex) -> np.ndarray:
    return tou_prices(scenario.grid.tariff, np.asarray(index.hour))


def dispatch_inputs(
    scenario: Scenario, powers: dict[tuple[str, str], np.ndarray]
) -> DispatchInputs:
    """Arrays for the optimal dispatch from a validated scenario (totals, no events)."""
    assert scenario.profiles is not None
    n = len(scenario.profiles)
    zeros = np.zeros(n)
    res = sum((v for (k, _), v in powers.items() if k in ("pv", "wind")), zeros)
    load = sum((v for (k, _), v in powers.items() if k == "load"), zeros)
    return DispatchInputs(
        res_mw=res, load_mw=load,
        import_limit_mw=np.full(n, scenario.grid.import_limit_mw),
        export_limit_mw=np.full(n, scenario.grid.export_limit_mw),
        **unit_arrays(scenario, _dt_h(scenario.profiles.index)),
    )


def timeseries_frame(
    scenario: Scenario, powers: dict[tuple[str, str], np.ndarray], d: DispatchResult,
    index: pd.Index, *, engine: EngineResult | None = None, plan: EnginePlan | None = None,
) -> pd.DataFrame:
    """Tidy per-step results: totals first, then one column per asset quantity.

    With an engine run, availability, load shifting, truck charging, islanding and
    tariff seasons are taken from it; without (strategy ``optimal``) the powers
    of the profiles are used as they are.
    """
    n = len(index)
    zeros = np.zeros(n)
    cols: dict[str, np.ndarray] = {}
    if engine is not None and plan is not None:
        avail = {key: powers[key] * engine.res_av[:, i] for i, key in enumerate(plan.res_names)}
        demand = engine.load_mw * engine.load_av
        load_names, cats = plan.load_names, plan.load_categories
        assert d.load_served_mw is not None  # the kernel always records it
        served_by_load = d.load_served_mw
        price = engine.price_by_step
    else:
        avail = {key: v for key, v in powers.items() if key[0] in ("pv", "wind")}
        load_names = tuple(ld.name for ld in scenario.load)
        cats = tuple(ld.category for ld in scenario.load)
        demand = (np.column_stack([powers[("load", x)] for x in load_names]) if load_names
                  else np.zeros((n, 0)))
        total = demand.sum(axis=1)
        frac = np.divide(total - d.unserved_mw, total, out=np.ones(n), where=total > 0)
        served_by_load = demand * frac[:, None]
        price = _prices(scenario, index) if isinstance(index, pd.DatetimeIndex) else zeros
    pv = sum((v for (k, _), v in avail.items() if k == "pv"), zeros)
    wind = sum((v for (k, _), v in avail.items() if k == "wind"), zeros)
    res = pv + wind
    # curtailment is shared by the plants in proportion to what they could give
    keep = np.divide(res - d.curtailed_mw, res, out=np.ones(n), where=res > 0)
    cols.update({
        "pv_avail_mw": pv, "wind_avail_mw": wind, "res_avail_mw": res,
        "curtailed_mw": d.curtailed_mw, "load_mw": demand.sum(axis=1),
        "unserved_mw": d.unserved_mw,
        "bat_charge_mw": d.bat_charge_mw.sum(axis=1),
        "bat_discharge_mw": d.bat_discharge_mw.sum(axis=1),
        "bat_e_mwh": d.bat_e_mwh.sum(axis=1),
        "electrolyser_mw": d.el_p_mw.sum(axis=1),
        "coal_mw": np.asarray(d.coal_p_mw).sum(axis=1),
        "grid_import_mw": d.grid_import_mw, "grid_export_mw": d.grid_export_mw,
        "grid_p_mw": d.grid_import_mw - d.grid_export_mw,
        "dumped_mw": np.asarray(d.dumped_mw),
        "h2_produced_kg": d.h2_produced_kg, "h2_delivered_kg": d.h2_delivered_kg,
        "h2_shortfall_kg": d.h2_shortfall_kg, "h2_tank_kg": d.tank_kg,
        "price_cny_per_mwh": price,
    })
    for cat in ("industrial", "charging", "services"):
        idx = [j for j, c in enumerate(cats) if c == cat]
        cols[f"unserved_{cat}_mw"] = (demand[:, idx] - served_by_load[:, idx]).sum(axis=1)
    if engine is not None:
        cols["islanded"] = engine.island
        cols["electrolyser_grid_mw"] = np.asarray(d.el_grid_mw)
        cols["bat_grid_charge_mw"] = np.asarray(d.bat_grid_charge_mw)
        cols["h2_trailer_kg"] = d.trailer_kg
    for (kind, name), p in avail.items():
        cols[f"{kind}.{name}.p_mw"] = p * keep
    for j, name in enumerate(load_names):
        cols[f"load.{name}.p_mw"] = served_by_load[:, j]
    for k, bat in enumerate(scenario.battery):
        cols[f"battery.{bat.name}.p_mw"] = d.bat_charge_mw[:, k] - d.bat_discharge_mw[:, k]
        cols[f"battery.{bat.name}.soc_pu"] = d.bat_e_mwh[:, k] / bat.e_mwh
        if d.bat_capacity_mwh is not None:
            cols[f"battery.{bat.name}.capacity_mwh"] = d.bat_capacity_mwh[:, k]
    for k, el in enumerate(scenario.electrolyser):
        cols[f"electrolyser.{el.name}.p_mw"] = d.el_p_mw[:, k]
    for k, unit in enumerate(scenario.coal):
        cols[f"coal.{unit.name}.p_mw"] = d.coal_p_mw[:, k]
        cols[f"coal.{unit.name}.start"] = d.coal_starts[:, k]
    return pd.DataFrame(cols, index=index)


def select_pf_steps(spec: str | tuple[int, ...], index: pd.DatetimeIndex) -> np.ndarray:
    """Step positions for the power flow from a selection spec.

    ``"none"``, ``"all"``, ``"day:N"``, ``"week:N"`` (7 days from day 7(N-1)+1),
    ``"month:N"`` (1-based), or explicit 0-based positions.
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


def _concat_pf(parts: list[Any]) -> Any:
    """Join power-flow results of disjoint step groups, in time order."""
    values = {}
    for f in dataclasses.fields(parts[0]):
        items = [getattr(p, f.name) for p in parts]
        if isinstance(items[0], pd.DataFrame | pd.Series):
            values[f.name] = pd.concat(items).sort_index()
        else:
            values[f.name] = items[0]
    return type(parts[0])(**values)


def simulate(
    scenario: Scenario | str | Path, *, pf_steps: str | tuple[int, ...] | None = None,
    progress: bool = False,
) -> Result:
    """Simulate *scenario* (a validated Scenario or a TOML path) for its whole year.

    Parameters
    ----------
    scenario:
        The scenario or the path of its TOML file.
    pf_steps:
        Overrides ``powerflow.steps`` of the scenario (see :func:`select_pf_steps`).
    progress:
        Show progress bars on long work.
    """
    from parkgrid.powerflow import run_reference_pf, run_timeseries_pf

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    assert scenario.profiles is not None
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    # results carry the park's fixed-offset zone; the profiles stay on its wall clock
    index = localize_index(scenario.profiles.index, scenario.utc_offset_h)
    powers = asset_power_mw(scenario)
    engine = plan = None
    if scenario.strategy == "optimal":  # rolling-horizon MILP, parkgrid.optimal
        from parkgrid.optimal.scenario import optimal_dispatch

        inputs = dispatch_inputs(scenario, powers)
        d = optimal_dispatch(scenario, inputs)
    else:  # SimPy events + numba kernels
        plan = plan_engine(scenario, powers)
        inputs = plan.inputs
        engine = run_engine(inputs, scenario.strategy, plan.spec, hour_of_step=plan.hour,
                            prices=plan.prices, valley=plan.valley)
        d = engine.dispatch
    ts = timeseries_frame(scenario, powers, d, index, engine=engine, plan=plan)
    timings["dispatch_s"] = time.perf_counter() - t0

    params = KpiParams(
        dt_h=inputs.dt_h, ef_kg_per_kwh=scenario.grid.ef_kg_per_kwh,
        bat_usable_mwh=float(sum(b.e_mwh * (b.soc_max_pu - b.soc_min_pu)
                                 for b in scenario.battery)),
        bat_e_initial_mwh=float(inputs.initial_energy_mwh().sum()),
        el_rated_mw=float(sum(e.p_mw for e in scenario.electrolyser)),
        export_price_cny_per_mwh=scenario.grid.export_price_cny_per_mwh,
        capacity_charge_cny_per_mw_month=scenario.grid.capacity_charge_cny_per_mw_month,
        coal_t_per_mwh=tuple((u.name, u.coal_gce_per_kwh * u.co2_kg_per_kgce / 1000.0)
                             for u in scenario.coal),
    )
    kpis = compute_kpis(ts, params)
    if engine is not None:
        kpis.update(engine_kpis(ts, engine, scenario, inputs.dt_h))
    else:  # strategy optimal: the same KPIs, with no events
        from parkgrid.optimal.scenario import NO_EVENTS

        kpis.update(engine_kpis(ts, NO_EVENTS, scenario, inputs.dt_h))

    steps = select_pf_steps(scenario.pf_steps if pf_steps is None else pf_steps, index)
    pf = None
    if len(steps):
        t1 = time.perf_counter()
        park = build_park_net(scenario)
        # steps with lines out (maintenance, forced outages) are solved on their
        # own topology, one group per set of lines out
        line_out = engine.line_out if engine is not None else {}
        groups: dict[tuple[int, ...], list[int]] = {}
        for pos in steps:
            groups.setdefault(line_out.get(int(pos), ()), []).append(int(pos))
        parts = []
        for lines, pos in groups.items():
            net = park.net
            if lines:
                net = copy.deepcopy(park.net)
                net.line.loc[list(lines), "in_service"] = False
            profiles = pf_profiles(scenario, park, ts.iloc[pos])
            if scenario.pf_method == "reference":
                parts.append(run_reference_pf(net, profiles, progress=progress))
            else:
                parts.append(run_timeseries_pf(net, profiles, progress=progress))
        pf = parts[0] if len(parts) == 1 else _concat_pf(parts)
        kpis.update(network_kpis(pf, dt_h=inputs.dt_h))
        timings["powerflow_s"] = time.perf_counter() - t1
        log.info("power flow: %d steps in %.2f s", len(steps), timings["powerflow_s"])
    timings["total_s"] = time.perf_counter() - t0
    return Result(scenario=scenario, timeseries=ts, kpis=kpis, network=pf, timings=timings)
