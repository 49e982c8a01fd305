"""Event descriptions and the pure functions the engine's processes use.

Everything random is sampled here, from a seeded generator, before the event
loop runs, so the SimPy engine and the step-by-step reference of the tests see
the same outage times and arrivals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from parkgrid.engine.fleet import Station

__all__ = [
    "EngineSpec",
    "Outage",
    "TariffSeason",
    "Trailers",
    "Trucks",
    "daily_times",
    "plan_day",
    "sample_arrivals",
    "sample_outages",
    "shift_flexible_load",
]


@dataclass(frozen=True)
class Outage:
    """An asset, line or the grid link out of service for ``[start, start + duration)`` steps.

    ``kind`` is ``"res"``, ``"load"``, ``"battery"``, ``"electrolyser"``, ``"coal"``,
    ``"line"`` or ``"grid"``; ``index`` is the position of the asset within its kind
    (the pandapower line index for lines; ignored for the grid).
    """

    kind: str
    index: int
    start: int
    duration: int
    cause: str = "maintenance"


@dataclass(frozen=True)
class TariffSeason:
    """From step ``start`` on, import prices by hour [CNY/MWh] and the valley hours."""

    start: int
    price_by_hour: tuple[float, ...]
    valley_hours: tuple[int, ...]


@dataclass(frozen=True)
class Trailers:
    """Hydrogen trailers: each pick-up takes up to ``kg`` from the tank at its step."""

    steps: tuple[int, ...]
    kg: float


@dataclass(frozen=True)
class Trucks:
    """Electric heavy trucks queueing for ``chargers`` chargers of ``charger_mw`` each.

    ``arrivals`` are steps; every truck needs ``energy_mwh``; the depot is load
    column ``load_index``.
    """

    arrivals: tuple[int, ...]
    energy_mwh: float
    chargers: int
    charger_mw: float
    load_index: int


@dataclass(frozen=True)
class EngineSpec:
    """Everything irregular the engine schedules (all times in steps)."""

    outages: tuple[Outage, ...] = ()
    seasons: tuple[TariffSeason, ...] = ()
    trailers: Trailers | None = None
    trucks: Trucks | None = None
    flexible: tuple[tuple[int, float, float], ...] = ()  # (load index, share, max MW)
    steps_per_day: int = 96
    stations: tuple[Station, ...] = ()  # truck stations and their visits, planned daily
    extra: dict[str, object] = field(default_factory=dict)


def sample_outages(
    rng: np.random.Generator, mtbf_h: float, mttr_h: float, n_steps: int, dt_h: float
) -> list[tuple[int, int]]:
    """Sample forced outages as ``(start, duration)`` steps (exponential up and down times).

    Parameters
    ----------
    rng:
        Seeded generator (one per asset, so adding an asset changes no other's draws).
    mtbf_h, mttr_h:
        Mean time between failures and mean time to repair [h].
    n_steps, dt_h:
        Length of the horizon [steps] and of a step [h].
    """
    out: list[tuple[int, int]] = []
    t = 0.0
    while True:
        t += rng.exponential(mtbf_h)
        start = round(t / dt_h)
        if start >= n_steps:
            return out
        down = max(1, round(rng.exponential(mttr_h) / dt_h))
        out.append((start, min(down, n_steps - start)))
        t = (start + down) * dt_h


def daily_times(times_h: tuple[float, ...], n_days: int, steps_per_day: int) -> list[int]:
    """Return the steps of events at the same hours [h after midnight] every day."""
    dt_h = 24.0 / steps_per_day
    return sorted(d * steps_per_day + round(h / dt_h) for d in range(n_days) for h in times_h)


def sample_arrivals(
    rng: np.random.Generator, per_day: float, n_steps: int, steps_per_day: int
) -> list[int]:
    """Poisson arrivals at *per_day* on average, as steps (several may share a step)."""
    counts = rng.poisson(per_day / steps_per_day, size=n_steps)
    return [int(s) for s in np.repeat(np.arange(n_steps), counts)]


@njit(cache=True)
def _shift_in_order(load, net, budget, lo_cap, hi_cap, dt_h, order_give,
                    order_take):  # pragma: no cover - compiled
    gi = 0
    ti = 0
    n = load.shape[0]
    while budget > 1e-12 and gi < n and ti < n:
        g = order_give[gi]
        r = order_take[ti]
        if net[r] <= net[g] or g == r:
            break
        room_g = load[g] - lo_cap[g]
        room_r = hi_cap[r] - load[r]
        if room_g <= 1e-12:
            gi += 1
            continue
        if room_r <= 1e-12:
            ti += 1
            continue
        p = min(room_g, room_r, budget / dt_h)
        load[g] -= p
        load[r] += p
        budget -= p * dt_h
        net[g] += p
        net[r] -= p
    return load


@njit(cache=True)
def _shift(load, net, budget, lo_cap, hi_cap, dt_h):  # pragma: no cover - compiled
    order_give = np.argsort(net, kind="mergesort")  # deficits first
    order_take = np.argsort(-net, kind="mergesort")  # surpluses first
    return _shift_in_order(load, net, budget, lo_cap, hi_cap, dt_h, order_give, order_take)


@njit(cache=True)
def _stable_orders(net, give, take):  # pragma: no cover - compiled
    """Write into *give* and *take* the stable ascending and descending orders of *net*.

    The same orders as ``np.argsort(net, kind="mergesort")`` and
    ``np.argsort(-net, kind="mergesort")`` (ties in step order). The ascending
    order comes from counting each step's rank, n^2 comparisons without
    data-dependent branches, which for a day's 96 steps costs less than a merge
    sort; the descending one takes its runs of equal values in reverse, each
    run still in step order.
    """
    n = net.shape[0]
    for i in range(n):
        v = net[i]
        below = 0
        for j in range(n):
            below += net[j] < v
        for j in range(i):
            below += net[j] == v
        give[below] = i
    o = 0
    end = n
    while end > 0:
        start = end - 1
        while start > 0 and net[give[start - 1]] == net[give[end - 1]]:
            start -= 1
        for m in range(start, end):
            take[o] = give[m]
            o += 1
        end = start


@njit(cache=True)
def plan_day(load_mw, res_mw, start, end, depot, cols, shares, max_mw,
             dt_h):  # pragma: no cover - compiled
    """Shift every flexible load column *cols* over steps ``[start, end)`` in place.

    The forecast balance of the day is RES minus every load but column *depot*
    (the truck depot; -1 for none), each summed in column order. Loads are
    planned one after the other; each sees the balance left by the ones before it.
    """
    n = end - start
    net = np.empty(n)
    for s in range(n):
        t = start + s
        res = res_mw[t, 0] if res_mw.shape[1] > 0 else 0.0
        for k in range(1, res_mw.shape[1]):
            res += res_mw[t, k]
        load = 0.0
        first = True
        for j in range(load_mw.shape[1]):
            if j != depot:
                load = load_mw[t, j] if first else load + load_mw[t, j]
                first = False
        net[s] = res - load
    give = np.empty(n, np.int64)
    take = np.empty(n, np.int64)
    for i in range(cols.shape[0]):
        j = cols[i]
        old = load_mw[start:end, j].copy()
        budget = shares[i] * old.sum() * dt_h
        lo_cap = np.maximum(old - max_mw[i], 0.0)
        hi_cap = old + max_mw[i]
        _stable_orders(net, give, take)
        new = _shift_in_order(old.copy(), net.copy(), budget, lo_cap, hi_cap, dt_h, give, take)
        for s in range(n):
            load_mw[start + s, j] = new[s]
            net[s] -= new[s] - old[s]


def shift_flexible_load(
    load_mw: np.ndarray, net_mw: np.ndarray, share: float, max_shift_mw: float, dt_h: float
) -> np.ndarray:
    """Move up to *share* of a day's energy from deficit to surplus steps of the day.

    Repeatedly takes power from the step with the lowest park balance *net_mw*
    (RES minus all load; most negative = largest deficit) and gives it to the
    step with the highest balance, while the highest is above the lowest (the
    order is fixed by the forecast balance at the start). A step changes by at
    most ±*max_shift_mw* and never below zero; the day's energy is kept.

    Parameters
    ----------
    load_mw:
        The flexible load over one day [MW].
    net_mw:
        RES minus total load over the same steps [MW] (forecast).
    share:
        Share of the day's energy that may move [-].
    max_shift_mw:
        Largest change of the load in any step [MW].
    dt_h:
        Step length [h].
    """
    load = np.ascontiguousarray(load_mw, dtype=np.float64).copy()
    net = np.ascontiguousarray(net_mw, dtype=np.float64).copy()
    budget = float(share * load.sum() * dt_h)  # MWh that may move
    lo_cap = np.maximum(load - max_shift_mw, 0.0)
    hi_cap = load + max_shift_mw
    return _shift(load, net, budget, lo_cap, hi_cap, float(dt_h))
