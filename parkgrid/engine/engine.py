"""The SimPy event engine: SimPy owns time, numba kernels advance the state.

Processes schedule the irregular things: outages and grid outages, tariff
seasons, hydrogen trailer pick-ups, the daily plan of flexible loads and of the
truck fleets' visits to their stations (:mod:`parkgrid.engine.fleet`). The
``[trucks]`` depot's first-come-first-served queue is computed in one numba call
at the start (it depends on nothing the year changes).
Every process writes what it changes into the engine's per-step input arrays,
for steps the kernel has not dispatched yet; effects on the state (a trailer
emptying the tank) are carried out by the kernel at that step. The kernel is
therefore not stopped at each event: one call advances every asset over all
the steps up to the next moment a process needs the dispatched state
(``advance_to``), which today is only the end of the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import simpy

from parkgrid.dispatch import (
    DispatchInputs,
    DispatchResult,
    allocate_outputs,
    call_kernel,
    strategy_code,
)
from parkgrid.dispatch import kernels as K
from parkgrid.engine.events import EngineSpec, Outage, plan_day
from parkgrid.engine.fleet import (
    FleetLog,
    StationState,
    finish_log,
    plan_fcfs_trucks,
    plan_station_day,
    row_sums,
)

__all__ = ["EngineResult", "TruckLog", "run_engine"]

_AV_FIELD = {"res": "res_av", "load": "load_av", "battery": "bat_av", "electrolyser": "el_av",
             "coal": "coal_av"}


@dataclass(frozen=True)
class TruckLog:
    """The ``[trucks]`` depot's trucks that started charging, in order of arrival.

    Arrays over the trucks that started charging in the horizon: ``arrival``,
    ``start`` and ``end`` [step index; ``end`` is the first step after the
    session], ``wait_h`` [h] (start - arrival), ``energy_mwh`` [MWh] charged.
    Arrays, as :class:`~parkgrid.engine.fleet.FleetLog`: a log of dicts, one per
    truck, was a sixth of the flagship events year's engine time (5,873 trucks);
    :meth:`records` gives that view.
    """

    arrival: np.ndarray
    start: np.ndarray
    end: np.ndarray
    wait_h: np.ndarray
    energy_mwh: np.ndarray

    def __len__(self) -> int:
        return len(self.arrival)

    def records(self) -> list[dict[str, float]]:
        """One dict per truck: ``arrival``, ``start``, ``end``, ``wait_h``, ``energy_mwh``."""
        cols = ("arrival", "start", "end", "wait_h", "energy_mwh")
        return [dict(zip(cols, row, strict=True)) for row in zip(
            *(getattr(self, c).tolist() for c in cols), strict=True)]

    @classmethod
    def empty(cls) -> TruckLog:
        """Return the log of a run without a ``[trucks]`` depot."""
        i, f = np.zeros(0, np.int64), np.zeros(0)
        return cls(i, i, i, f, f)


@dataclass(frozen=True)
class EngineResult:
    """Dispatch plus what the events did.

    ``price_by_step`` [CNY/MWh] and ``valley`` follow the tariff seasons;
    ``island`` marks grid outages; ``line_out`` maps a step to the lines out of
    service then (only steps with any); ``trucks`` is the ``[trucks]`` depot's
    :class:`TruckLog`, ``trailers`` a log of the trailers' pick-ups.
    ``res_av`` and ``load_av`` (1 = in service) are read-only views of ones for
    a kind no outage touched.
    """

    dispatch: DispatchResult
    island: np.ndarray
    valley: np.ndarray
    price_by_step: np.ndarray
    load_mw: np.ndarray
    line_out: dict[int, tuple[int, ...]]
    trucks: TruckLog
    trailers: list[dict[str, float]]
    res_av: np.ndarray
    load_av: np.ndarray
    n_events: int
    n_kernel_calls: int
    stats: dict[str, float] = field(default_factory=dict)
    fleet: tuple[FleetLog, ...] = ()
    """One log per truck station (``spec.stations``), in order."""


class _Engine:
    def __init__(self, inputs: DispatchInputs, strategy: str, spec: EngineSpec,
                 hour_of_step: np.ndarray, base_prices: np.ndarray, base_valley: np.ndarray):
        self.inputs = inputs
        self.spec = spec
        self.code = strategy_code(strategy)
        self.p = inputs.packed()
        self.sf, self.si = inputs.initial_state()
        self.out = allocate_outputs(self.p)
        self.n = inputs.n_steps
        self.dt = float(inputs.dt_h)
        self.t = 0
        self.env = simpy.Environment()
        self.hour = hour_of_step
        self.price = np.array(base_prices, dtype=float)
        self.valley = self.p.series[K.S_VALLEY]
        self.valley[:] = base_valley
        self.down: dict[tuple[str, int], int] = {}
        self.line_out: dict[int, tuple[int, ...]] = {}
        self.trucks = TruckLog.empty()
        self.n_events = 0
        self.n_calls = 0
        self._depot = -1 if spec.trucks is None else spec.trucks.load_index
        self.stations = [StationState(st, self.n) for st in spec.stations]
        # the tariff is known ahead: fleets plan against every season's prices
        self.plan_price = np.array(base_prices, dtype=float)
        for s in spec.seasons:
            self.plan_price[s.start:] = np.asarray(s.price_by_hour, dtype=float)[
                hour_of_step[s.start:]]

    # -- the kernel ---------------------------------------------------------
    def advance_to(self, step: int) -> None:
        step = min(step, self.n)
        if step > self.t:
            call_kernel(self.t, step, self.dt, self.code, self.p, self.sf, self.si, self.out)
            self.n_calls += 1
            self.t = step

    # -- processes ----------------------------------------------------------
    def _availability(self, kind: str) -> np.ndarray:
        """Return the availability matrix of *kind*, made on the first outage of the kind.

        Until then the kernel gets the packed (0, units) array, "always in service".
        """
        name = _AV_FIELD[kind]
        av = getattr(self.p, name)
        if av.shape[0] == 0:
            av = np.ones((self.n, av.shape[1]))
            self.p = self.p._replace(**{name: av})
        return av

    def _set_down(self, o: Outage, delta: int) -> None:
        """Count *o* in (+1) or out (-1) of the outages of its asset.

        At its start an outage marks its whole window ``[start, start + duration)``
        out of service (the window is known then), so returning to service has
        nothing to undo: overlapping outages of one asset leave it out of service
        over the union of their windows, and the steps after the last one keep
        the inputs' availability.
        """
        key = (o.kind, 0 if o.kind == "grid" else o.index)
        self.down[key] = self.down.get(key, 0) + delta
        if delta < 0:
            return
        now = int(self.env.now)
        window = slice(now, now + o.duration)
        if o.kind == "grid":
            self.p.series[K.S_ISLAND, window] = 1.0
        elif o.kind != "line":  # lines only matter to the power flow (line_out)
            self._availability(o.kind)[window, o.index] = 0.0

    def outage(self, o: Outage):
        yield self.env.timeout(o.start)
        self.n_events += 1
        self._set_down(o, +1)
        yield self.env.timeout(o.duration)
        self.n_events += 1
        self._set_down(o, -1)

    def season(self, s):
        yield self.env.timeout(s.start)
        self.n_events += 1
        now = int(self.env.now)
        hour = self.hour[now:]
        self.price[now:] = np.asarray(s.price_by_hour, dtype=float)[hour]
        valley_by_hour = np.zeros(24)
        valley_by_hour[list(s.valley_hours)] = 1.0
        self.valley[now:] = valley_by_hour[hour]

    def trailers_arrive(self):
        """Tube trailers arrive; each asks the kernel for its kilograms at that step."""
        tr = self.spec.trailers
        assert tr is not None
        asked, kg = self.p.series[K.S_TRAILER_KG], tr.kg
        timeout, env, now = simpy.Timeout, self.env, 0
        for step in tr.steps:
            if step > now:
                yield timeout(env, step - now)
                now = step
            self.n_events += 1
            asked[step] += kg

    def trucks_depot(self) -> None:
        """Queue and charge every truck of the ``[trucks]`` depot at once (numba)."""
        tr = self.spec.trucks
        assert tr is not None
        arr = np.asarray(tr.arrivals, dtype=np.int64)
        start, end = np.zeros(len(arr), np.int64), np.zeros(len(arr), np.int64)
        got = np.zeros(len(arr))
        started = plan_fcfs_trucks(self.p.load_mw, tr.load_index, arr, tr.chargers,
                                   tr.charger_mw, tr.energy_mwh, self.dt, start, end, got)
        self.n_events += len(arr) + started
        ok = start < self.n
        a, s = arr[ok], start[ok]
        self.trucks = TruckLog(a, s, end[ok], (s - a) * self.dt, got[ok])

    def daily_plan(self):
        """At each midnight, plan the day's flexible loads, then the fleets' visits.

        The forecast for the flexible loads is RES minus every load but the
        ``[trucks]`` depot, before outages; then each station, in order, plans the
        visits arriving that day (:mod:`parkgrid.engine.fleet`) against the tariff
        and the forecast surplus left by everything planned before it.
        """
        spd = self.spec.steps_per_day
        flex = np.array([j for j, _, _ in self.spec.flexible], dtype=np.int64)
        shares = np.array([x for _, x, _ in self.spec.flexible], dtype=float)
        max_mw = np.array([x for _, _, x in self.spec.flexible], dtype=float)
        load, res, n, dt, depot = self.p.load_mw, self.p.res_mw, self.n, self.dt, self._depot
        timeout, env = simpy.Timeout, self.env
        stations = self.stations
        days = np.arange(0, n + spd, spd)
        bounds = [np.searchsorted(st.st.arrival, days) for st in stations]
        price = self.plan_price
        res_tot = row_sums(res) if stations else res[:, :0].sum(axis=1)
        for day, day_start in enumerate(range(0, n, spd)):
            if day_start > 0:
                yield timeout(env, spd)
            self.n_events += 1
            if len(flex):
                plan_day(load, res, day_start, min(day_start + spd, n), depot, flex, shares,
                         max_mw, dt)
            for st, b in zip(stations, bounds, strict=True):
                lo, hi = int(b[day]), int(b[day + 1])
                self.n_events += hi - lo
                plan_station_day(st, load, res_tot, price, lo, hi, dt)

    def run(self) -> None:
        env = self.env
        for o in self.spec.outages:
            env.process(self.outage(o))
        for s in self.spec.seasons:
            env.process(self.season(s))
        if self.spec.trailers is not None:
            env.process(self.trailers_arrive())
        if self.spec.trucks is not None:
            self.trucks_depot()
        if self.spec.flexible or self.stations:
            env.process(self.daily_plan())
        for o in self.spec.outages:
            if o.kind == "line":
                for step in range(o.start, min(o.start + o.duration, self.n)):
                    self.line_out[step] = tuple(sorted({*self.line_out.get(step, ()), o.index}))
        env.run(until=self.n)
        self.station_asked = np.zeros(self.n)
        for st in self.stations:
            if st.st.kind == "h2":
                self.station_asked += st.asked
        self.p.series[K.S_TRAILER_KG] += self.station_asked
        self.advance_to(self.n)

    def fleet_logs(self, delivered_kg: np.ndarray) -> tuple[tuple[FleetLog, ...], np.ndarray]:
        """Station logs, and the kg the trailers got (hydrogen stations are served first)."""
        asked = self.station_asked
        to_stations = np.minimum(asked, delivered_kg)
        frac = np.divide(to_stations, asked, out=np.ones(self.n), where=asked > 0)
        logs = tuple(finish_log(st, self.n, self.dt, frac) for st in self.stations)
        return logs, delivered_kg - to_stations


def _matrix(av: np.ndarray, n: int) -> np.ndarray:
    """*av* as (n, units); "always in service" as a read-only view of ones."""
    return av if av.shape[0] else np.broadcast_to(np.float64(1.0), (n, av.shape[1]))


def run_engine(
    inputs: DispatchInputs, strategy: str, spec: EngineSpec, *, hour_of_step: np.ndarray,
    prices: np.ndarray, valley: np.ndarray,
) -> EngineResult:
    """Run the year: SimPy schedules *spec*'s events, the kernel advances between them.

    Parameters
    ----------
    inputs:
        Dispatch inputs as if nothing happened (availability ones, no islanding).
    strategy:
        Dispatch rule, one of ``parkgrid.dispatch.STRATEGIES``.
    spec:
        The events (all times in steps).
    hour_of_step:
        Hour of day (0-23) of every step, for tariff seasons.
    prices, valley:
        Import price [CNY/MWh] and valley flag per step before any season change.
    """
    e = _Engine(inputs, strategy, spec, hour_of_step, prices, valley)
    e.run()
    d = DispatchResult.from_outputs(e.out)
    # the engine's arrays are its own (packed for this run): handed over, not copied
    fleet, trailer_kg = e.fleet_logs(e.out[0][:, K.O_TRAILER_KG])
    asked = e.p.series[K.S_TRAILER_KG] - e.station_asked
    steps = np.flatnonzero(asked > 0)
    trailers = [{"step": t, "demanded_kg": a, "delivered_kg": g} for t, a, g in zip(
        steps.tolist(), asked[steps].tolist(), trailer_kg[steps].tolist(), strict=True)]
    return EngineResult(
        dispatch=d, island=e.p.series[K.S_ISLAND], valley=e.valley,
        price_by_step=e.price, load_mw=e.p.load_mw, line_out=e.line_out, trucks=e.trucks,
        trailers=trailers, res_av=_matrix(e.p.res_av, e.n), load_av=_matrix(e.p.load_av, e.n),
        n_events=e.n_events, n_kernel_calls=e.n_calls, fleet=fleet,
    )
