"""From a validated scenario to engine inputs: arrays, events, seeds.

Every random stream has its own generator seeded from the scenario seed and the
stream's name, so adding a truck schedule does not move the outages of a battery.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import time
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.dispatch import DispatchInputs
from parkgrid.engine.events import (
    EngineSpec,
    Outage,
    TariffSeason,
    Trailers,
    Trucks,
    daily_times,
    sample_arrivals,
    sample_outages,
)
from parkgrid.engine.fleet import POLICIES, Station
from parkgrid.inputs import field_array, unit_arrays
from parkgrid.timeseries import dt_h, tou_price

__all__ = ["EnginePlan", "plan_engine", "rng_for"]


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """Independent generator for one named random stream of a scenario."""
    return np.random.default_rng([int(seed), zlib.crc32(stream.encode())])


@dataclass(frozen=True)
class EnginePlan:
    """Inputs of :func:`parkgrid.engine.run_engine` plus the names behind the columns."""

    inputs: DispatchInputs
    spec: EngineSpec
    hour: np.ndarray
    prices: np.ndarray
    valley: np.ndarray
    res_names: tuple[tuple[str, str], ...]  # (kind, name) per RES column
    load_names: tuple[str, ...]
    load_categories: tuple[str, ...]


def _steps(hours: float, dt_h: float) -> int:
    return round(hours / dt_h)


def _hours(times: tuple[time, ...]) -> tuple[float, ...]:
    """Clock times as hours after midnight [h]."""
    return tuple(t.hour + t.minute / 60.0 for t in times)


def _targets(scenario: Any) -> dict[str, tuple[str, int]]:
    """Map event targets to (kind, index) of the engine's arrays."""
    out: dict[str, tuple[str, int]] = {}
    for i, a in enumerate((*scenario.pv, *scenario.wind)):
        out[a.name] = ("res", i)
    for j, ld in enumerate(scenario.load):
        out[ld.name] = ("load", j)
    if scenario.trucks is not None:
        out[scenario.trucks.name] = ("load", len(scenario.load))
    first = len(scenario.load) + (scenario.trucks is not None)
    for k, st in enumerate(_stations(scenario)):
        out[st.name] = ("load", first + k)
    for kind in ("battery", "electrolyser", "coal"):
        for i, a in enumerate(getattr(scenario, kind)):
            out[a.name] = (kind, i)
    if scenario.net is not None:
        for idx, name in scenario.net.line["name"].astype(str).items():
            out.setdefault(name, ("line", int(idx)))
    out["grid"] = ("grid", 0)
    return out


def plan_engine(scenario: Any, powers: dict[tuple[str, str], np.ndarray]) -> EnginePlan:
    """Arrays and events of a validated scenario (see :func:`parkgrid.engine.run_engine`)."""
    prof = scenario.profiles
    index = pd.DatetimeIndex(prof.index)
    n = len(index)
    dt = dt_h(index)
    spd = round(24 / dt)
    hour = np.asarray(index.hour, dtype=np.int64)

    res_names = tuple((k, a.name) for k in ("pv", "wind") for a in getattr(scenario, k))
    res_names += tuple(("direct_line", c.name) for c in scenario.green_contract
                       if c.kind == "direct_line")
    res = np.column_stack([powers[key] for key in res_names]) if res_names else np.zeros((n, 0))
    loads = [powers[("load", ld.name)] for ld in scenario.load]
    names = [ld.name for ld in scenario.load]
    cats = [ld.category for ld in scenario.load]
    prio = [ld.priority for ld in scenario.load]
    tr = scenario.trucks
    if tr is not None:
        loads.append(np.zeros(n))
        names.append(tr.name)
        cats.append("charging")
        prio.append(tr.priority)
    for st in _stations(scenario):
        loads.append(np.zeros(n))
        names.append(st.name)
        cats.append("charging")
        prio.append(st.priority)
    load = np.column_stack(loads) if loads else np.zeros((n, 0))

    tariff = scenario.grid.tariff
    prices = tou_price(tariff, hour)
    valley = (np.isin(hour, tariff.valley_hours).astype(float) if tariff is not None
              else np.zeros(n))

    b, e, h2 = scenario.battery, scenario.electrolyser, scenario.hydrogen
    arr = field_array
    curves = None
    if e:
        k = max(2, *(len(x.part_load_curve) for x in e))
        curves = np.zeros((len(e), k, 2))
        for i, x in enumerate(e):
            pts = list(x.part_load_curve) or [(0.0, 1.0), (1.0, 1.0)]
            pts += [pts[-1]] * (k - len(pts))  # repeated end points are zero-width segments
            curves[i] = np.asarray(pts)
    inputs = DispatchInputs(
        res_mw=res, load_mw=load, load_priority=np.asarray(prio, dtype=float),
        import_limit_mw=np.full(n, scenario.grid.import_limit_mw),
        export_limit_mw=np.full(n, scenario.grid.export_limit_mw), valley=valley,
        bat_self_discharge_pu=1.0 - (1.0 - arr(b, "self_discharge_pu_per_h")) ** dt,
        bat_grid_forming=arr(b, "grid_forming"),
        bat_fade_calendar_pu=arr(b, "fade_calendar_pu_per_year") * dt / 8760.0,
        bat_fade_cycle_pu=arr(b, "fade_cycle_pu_per_efc"),
        el_standby_pu=arr(e, "standby_pu"),
        el_start_steps=np.round(arr(e, "start_delay_h") / dt),
        el_min_up_steps=np.round(arr(e, "min_up_h") / dt),
        el_min_down_steps=np.round(arr(e, "min_down_h") / dt),
        el_standby_max_steps=np.round(arr(e, "standby_max_h") / dt), el_curve=curves,
        import_cap_mw=scenario.import_cap_mw or np.inf,
        green_share_min=scenario.green_share_min_pu,
        **unit_arrays(scenario, dt),
    )

    targets = _targets(scenario)
    start_of_year = index[0]
    outages: list[Outage] = []
    for ev in scenario.events:
        kind, idx = ("grid", 0) if ev.kind == "grid_outage" else targets[ev.target]
        start = int((pd.Timestamp(ev.start) - start_of_year) / pd.Timedelta(hours=dt))
        dur = max(1, _steps(ev.duration_h, dt))
        outages.append(Outage(kind, idx, start, min(dur, n - start), cause=ev.kind))
    for r in scenario.reliability:
        kind, idx = targets[r.target]
        rng = rng_for(scenario.seed, f"outage:{r.target}")
        outages += [Outage(kind, idx, s, d, cause="forced")
                    for s, d in sample_outages(rng, r.mtbf_h, r.mttr_h, n, dt)]

    seasons = []
    for s in scenario.tariff_season:
        day = pd.Timestamp(s.start)
        by_hour = tuple(s.peak_cny_per_mwh if h in s.peak_hours else
                        s.valley_cny_per_mwh if h in s.valley_hours else s.flat_cny_per_mwh
                        for h in range(24))
        seasons.append(TariffSeason(int((day - start_of_year) / pd.Timedelta(hours=dt)),
                                    by_hour, tuple(s.valley_hours)))

    n_days = -(-n // spd)
    trailers = None
    if h2 is not None and h2.trailer_kg > 0:
        steps = daily_times(_hours(h2.trailer_times), n_days, spd)
        if h2.trailers_per_day > 0:
            steps += sample_arrivals(rng_for(scenario.seed, "trailers"), h2.trailers_per_day,
                                     n, spd)
        trailers = Trailers(tuple(sorted(s for s in steps if s < n)), h2.trailer_kg)
    trucks = None
    if tr is not None:
        steps = daily_times(_hours(tr.arrival_times), n_days, spd)
        if tr.arrivals_per_day > 0:
            steps += sample_arrivals(rng_for(scenario.seed, "trucks"), tr.arrivals_per_day,
                                     n, spd)
        trucks = Trucks(tuple(sorted(s for s in steps if s < n)),
                        tr.energy_kwh_per_truck / 1000.0, tr.chargers, tr.charger_kw / 1000.0,
                        len(scenario.load))
    flexible = tuple((j, ld.flexible_share, ld.flexible_max_mw)
                     for j, ld in enumerate(scenario.load) if ld.flexible_share > 0)
    first = len(scenario.load) + (tr is not None)
    stations = fleet_stations(scenario, n, dt, first)
    spec = EngineSpec(outages=tuple(sorted(outages, key=lambda o: o.start)),
                      seasons=tuple(seasons), trailers=trailers, trucks=trucks,
                      flexible=flexible, steps_per_day=spd, stations=stations)
    return EnginePlan(inputs=inputs, spec=spec, hour=hour, prices=prices, valley=valley,
                      res_names=res_names, load_names=tuple(names), load_categories=tuple(cats))


def _stations(scenario: Any) -> tuple[Any, ...]:
    """Depots, swap stations and hydrogen stations, in that order (their load columns)."""
    return (*scenario.depot, *scenario.swap_station, *scenario.h2_station)


def fleet_visits(scenario: Any, n: int, dt: float) -> dict[str, list[tuple[np.ndarray, ...]]]:
    """Every truck visit of the year by station name: ``(arrival, departure, fleet, truck)``.

    Truck *i* of a fleet of *c* keeps the fleet's daily visits shifted by
    ``i / c x stagger_h``; each arrival is delayed by a seeded uniform draw in
    ``[0, jitter_h)`` (stream ``fleet:<name>``). Visits arriving after the horizon
    are dropped; departures after it are kept (no deadline counts there).
    """
    spd = round(24 / dt)
    days = np.arange(-(-n // spd)) * spd
    out: dict[str, list[tuple[np.ndarray, ...]]] = {}
    for fi, f in enumerate(scenario.fleet):
        trucks = np.arange(f.count)
        off = np.round(trucks * f.stagger_h / f.count / dt).astype(np.int64)
        jit = round(f.jitter_h / dt)
        delay = (rng_for(scenario.seed, f"fleet:{f.name}").integers(
            0, jit, size=(f.count, len(f.visits), len(days))) if jit > 0
            else np.zeros((f.count, len(f.visits), len(days)), np.int64))
        for k, (a_h, d_h) in enumerate(f.visits):
            base = days[None, :] + off[:, None]
            arr = (base + _steps(a_h, dt) + delay[:, k, :]).ravel()
            dep = (base + _steps(d_h, dt)).ravel()
            truck = np.repeat(trucks, len(days))
            keep = arr < n
            out.setdefault(f.station, []).append(
                (arr[keep], dep[keep], np.full(int(keep.sum()), fi), truck[keep]))
    return out


def fleet_stations(scenario: Any, n: int, dt: float, first_col: int) -> tuple[Station, ...]:
    """Return the engine's stations (load columns from *first_col*), visits sorted."""
    visits = fleet_visits(scenario, n, dt)
    fleets = scenario.fleet
    out = []
    for k, st in enumerate(_stations(scenario)):
        parts = visits.get(st.name, [])
        arr = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        dep = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
        fl = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.int64)
        order = np.argsort(arr, kind="stable")
        arr, dep, fl = arr[order].astype(np.int64), dep[order].astype(np.int64), fl[order]
        common = dict(name=st.name, load_index=first_col + k, arrival=arr, departure=dep,
                      fleet=fl.astype(np.int64))
        if st in scenario.depot:
            need = np.array([fleets[i].need / 1000.0 for i in range(len(fleets))])[fl] \
                if len(fleets) else np.zeros(0)
            out.append(Station("depot", need=need, units=st.chargers,
                               unit_rate=st.charger_kw / 1000.0,
                               policy=POLICIES.index(st.policy), limit_mw=st.limit_kw / 1000.0,
                               **common))
        elif st in scenario.swap_station:
            pack = np.array([max(st.charged_soc_pu - f.arrival_pu, 0.0) * st.pack_kwh / 1000.0
                             for f in fleets])[fl] if len(fleets) else np.zeros(0)
            out.append(Station("swap", need=pack, units=st.racks,
                               unit_rate=st.rack_kw / 1000.0,
                               policy=POLICIES.index(st.policy), limit_mw=st.limit_kw / 1000.0,
                               bays=st.bays, swap_steps=st.swap_min / 60.0 / dt,
                               packs=st.packs, window_steps=_steps(st.window_h, dt), **common))
        else:
            need = np.array([f.need for f in fleets])[fl] if len(fleets) else np.zeros(0)
            out.append(Station("h2", need=need, units=st.dispensers,
                               unit_rate=st.dispense_kg_per_h * dt,
                               compressor_mwh_per_kg=st.compressor_kwh_per_kg / 1000.0,
                               **common))
    return tuple(out)
