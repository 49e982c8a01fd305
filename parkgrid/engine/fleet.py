"""Truck fleets at their stations: charging depots, battery swapping, hydrogen refuelling.

Every visit of a truck (arrival step, departure step, what it needs) is known
before the year runs (:func:`parkgrid.engine.build.plan_engine` samples the
random parts from seeded streams). The engine's daily process hands each
station the visits arriving that day, in arrival order, and the numba kernels
here queue them (first come, first served) and schedule every charging session,
pack charge and fill into the per-step inputs of steps not yet dispatched: a
station is a load column, a hydrogen station also asks the park tank for kg at
the steps it fills (served by the dispatch kernel from what the tank holds).

Rules (``tests/reference_fleet.py`` is the pure-Python twin, written from them):

- **Depot**: a truck takes the charger that is free first (lowest index on a
  tie) at ``s = max(arrival, free)`` and holds it until its last charging step.
  Within ``[s, departure)`` each step may take ``min(charger, limit - depot load
  already planned)``. The policy orders the steps: ``uncontrolled`` and
  ``grid_cap`` earliest first; ``valley`` cheapest import price first (ties
  earliest); ``surplus`` first takes, in order of the largest forecast surplus
  (RES minus every load planned so far), only the surplus itself, then fills
  what is left cheapest first. A truck that cannot get its energy before its
  departure leaves with what it got: a deadline miss.
- **Swap station**: a truck takes the charged pack that was ready first at
  ``max(arrival, bay free, pack ready)``; the swap takes ``swap_min``; its own
  pack goes on the rack that is free first from the step after the swap ends
  and is charged like a depot truck whose departure is ``window_h`` later (then
  earliest first until done); it is ready after its last charging step. A swap
  that ends after the truck's departure is a miss.
- **Hydrogen station**: a truck takes the dispenser free first at ``max(arrival,
  free)`` and fills ``need / rate`` steps (fractional: fills run back to back);
  each step asks the tank for the kg filled in it and the compressor draws
  ``kg x kWh/kg``. A fill that ends after departure is a miss; kg the tank did not
  hold are a shortfall.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

__all__ = [
    "POLICIES",
    "FleetLog",
    "Station",
    "flex_bounds",
    "h2_schedule",
    "plan_fcfs_trucks",
    "plan_station_day",
]

POLICIES = ("uncontrolled", "valley", "surplus", "grid_cap")
KINDS = ("depot", "swap", "h2")
EPS = 1e-12


@dataclass(frozen=True, eq=False)
class Station:
    """One station and its visits (all times in steps, energies in MWh, hydrogen in kg).

    ``kind`` is ``"depot"``, ``"swap"`` or ``"h2"``; ``units`` chargers, racks or
    dispensers of ``unit_rate`` MW (kg per step for ``h2``); ``limit_mw`` caps the
    station's load. Visits (sorted by arrival): ``arrival``, ``departure``,
    ``need`` (MWh into the truck, the pack's MWh to recharge for ``swap``, kg for
    ``h2``) and ``fleet`` (index of the fleet).
    """

    kind: str
    name: str
    load_index: int
    arrival: np.ndarray
    departure: np.ndarray
    need: np.ndarray
    fleet: np.ndarray
    units: int
    unit_rate: float
    policy: int = 0
    limit_mw: float = np.inf
    bays: int = 1
    swap_steps: float = 0.0
    packs: int = 0
    window_steps: int = 0
    compressor_mwh_per_kg: float = 0.0

    @property
    def policy_name(self) -> str:
        """The charging policy by name (:data:`POLICIES`)."""
        return POLICIES[self.policy]


@dataclass(eq=False)
class FleetLog:
    """What happened at every visit of one station (arrays over its visits).

    ``start`` [steps, fractional for swaps and fills; ``inf`` = not served in the
    horizon], ``wait_h`` (start - arrival), ``energy`` [MWh charged in the session;
    kg asked for ``h2``], ``delivered`` [MWh into the truck, or kg from the tank],
    ``shifted_mwh`` (charged after an uncontrolled session would have finished),
    ``miss`` (left below its required state, or late). ``packs_idle_steps`` sums
    the steps charged packs waited in stock; ``asked_kg`` is the kg per step an
    ``h2`` station asked of the tank.
    """

    station: Station
    start: np.ndarray
    energy: np.ndarray
    shifted_mwh: np.ndarray
    ready: np.ndarray
    delivered: np.ndarray = field(default_factory=lambda: np.zeros(0))
    miss: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    wait_h: np.ndarray = field(default_factory=lambda: np.zeros(0))
    packs_idle_steps: float = 0.0
    asked_kg: np.ndarray | None = None


# ---------------------------------------------------------------- kernels
@njit(cache=True)
def _fill_by(key, cap, pw, done, m, rem, dt, ascending):  # pragma: no cover - compiled
    """Fill steps in the order of *key* (ascending or descending, ties earliest).

    Repeated scans for the next step instead of a sort: a session needs a few
    steps of its window, so this costs a few passes over the window.
    """
    for i in range(m):
        done[i] = False
    while rem > EPS:
        best = -1
        for i in range(m):
            if done[i]:
                continue
            if best < 0 or (key[i] < key[best] if ascending else key[i] > key[best]):
                best = i
        if best < 0:
            break
        done[best] = True
        x = min(cap[best] - pw[best], rem / dt)
        if x > 0.0:
            pw[best] += x
            rem -= x * dt
    return rem


@njit(cache=True)
def _session(load, col, res_tot, price, s, end, need, p_unit, limit, policy, dt,
             cap, pw, key, done):  # pragma: no cover - compiled
    """Schedule one session of *need* MWh over steps ``[s, end)``; write it into *load*.

    *cap*, *pw*, *key* and *done* are scratch arrays at least ``end - s`` long.
    Returns ``(delivered MWh, last charging step or -1, shifted MWh)``.
    """
    m = end - s
    for i in range(m):
        c = p_unit
        if limit < np.inf:
            c = min(c, max(limit - load[s + i, col], 0.0))
        cap[i] = c
        pw[i] = 0.0
    rem = need
    if policy == 2:  # surplus: first the surplus itself, largest first
        for i in range(m):
            t = s + i
            x = res_tot[t]
            for j in range(load.shape[1]):
                x -= load[t, j]
            key[i] = x
        for i in range(m):
            done[i] = False
        while rem > EPS:
            best = -1
            for i in range(m):
                if not done[i] and (best < 0 or key[i] > key[best]):
                    best = i
            if best < 0 or key[best] <= 0.0:
                break
            done[best] = True
            x = min(cap[best], key[best], rem / dt)
            if x > 0.0:
                pw[best] += x
                rem -= x * dt
    if policy == 1 or policy == 2:
        for i in range(m):
            key[i] = price[s + i]
        rem = _fill_by(key, cap, pw, done, m, rem, dt, True)
    else:
        for i in range(m):
            if rem <= EPS:
                break
            x = min(cap[i] - pw[i], rem / dt)
            if x > 0.0:
                pw[i] += x
                rem -= x * dt
    k_asap = int(np.ceil(need / (p_unit * dt) - 1e-9))
    last = -1
    delivered = 0.0
    shifted = 0.0
    for i in range(m):
        if pw[i] > 0.0:
            load[s + i, col] += pw[i]
            delivered += pw[i] * dt
            last = s + i
            if i >= k_asap:
                shifted += pw[i] * dt
    return delivered, last, shifted


@njit(cache=True)
def _first_free(free_at, t0):  # pragma: no cover - compiled
    """Find the unit (charger, rack place) free first from step *t0*, and when it is."""
    best = 0
    best_t = max(free_at[0], t0)
    for c in range(1, free_at.shape[0]):
        t = max(free_at[c], t0)
        if t < best_t:
            best = c
            best_t = t
    return best, best_t


@njit(cache=True)
def _depot_day(load, col, res, price, arr, dep, need, lo, hi, p_unit, limit, policy, dt,
               free_at, start, energy, shifted, ready, cap, pw, key,
               done):  # pragma: no cover - compiled
    n = load.shape[0]
    for v in range(lo, hi):
        best, s = _first_free(free_at, arr[v])
        end = min(dep[v], n)
        start[v] = s
        ready[v] = s
        if s >= end or need[v] <= EPS:
            continue
        got, last, sh = _session(load, col, res, price, s, end, need[v], p_unit, limit,
                                 policy, dt, cap, pw, key, done)
        energy[v] = got
        shifted[v] = sh
        if last >= 0:
            free_at[best] = last + 1
            ready[v] = last + 1


@njit(cache=True)
def _swap_day(load, col, res, price, arr, dep, need, lo, hi, p_unit, limit, policy, dt,
              window, swap_steps, bay_free, pack_ready, rack_free, idle, start, energy,
              shifted, ready, cap, pw, key, done):  # pragma: no cover - compiled
    n = load.shape[0]
    for v in range(lo, hi):
        a = float(arr[v])
        b = 0
        for q in range(1, bay_free.shape[0]):
            if bay_free[q] < bay_free[b]:
                b = q
        k = 0
        for q in range(1, pack_ready.shape[0]):
            if pack_ready[q] < pack_ready[k]:
                k = q
        s = max(a, bay_free[b], pack_ready[k])
        if s >= n:  # no pack or bay within the horizon
            start[v] = np.inf
            continue
        start[v] = s
        idle[0] += s - pack_ready[k]
        fin = s + swap_steps
        bay_free[b] = fin
        drop = int(np.ceil(fin - 1e-9))
        if need[v] <= EPS:  # nothing to charge: ready as soon as it is out of the truck
            pack_ready[k] = float(drop)
            ready[v] = float(drop)
            continue
        r, rs = _first_free(rack_free, drop)
        if rs >= n:
            pack_ready[k] = np.inf
            ready[v] = np.inf
            continue
        end = min(rs + window, n)
        got, last, sh = _session(load, col, res, price, rs, end, need[v], p_unit, limit,
                                 policy, dt, cap, pw, key, done)
        if need[v] - got > EPS and end < n:  # not charged in the window: on until done
            got2, last2, _ = _session(load, col, res, price, end, n, need[v] - got, p_unit,
                                      limit, 0, dt, cap, pw, key, done)
            got += got2
            sh += got2
            if last2 >= 0:
                last = last2
        energy[v] = got
        shifted[v] = sh
        if need[v] - got > 1e-9:
            pack_ready[k] = np.inf
            ready[v] = np.inf
            rack_free[r] = n
        else:
            pack_ready[k] = float(last + 1)
            ready[v] = float(last + 1)
            rack_free[r] = last + 1


@njit(cache=True)
def _h2_day(load, col, asked, arr, need, lo, hi, rate, mwh_per_kg, dt, free_at, start,
            ready):  # pragma: no cover - compiled
    n = load.shape[0]
    for v in range(lo, hi):
        a = float(arr[v])
        d = 0
        for q in range(1, free_at.shape[0]):
            if free_at[q] < free_at[d]:
                d = q
        s = max(a, free_at[d])
        if s >= n:
            start[v] = np.inf
            ready[v] = np.inf
            continue
        e = s + need[v] / rate
        start[v] = s
        ready[v] = e
        free_at[d] = e
        t = int(np.floor(s))
        while t < n and t < e:
            kg = (min(e, t + 1.0) - max(s, float(t))) * rate
            asked[t] += kg
            load[t, col] += kg * mwh_per_kg / dt
            t += 1


@njit(cache=True)
def plan_fcfs_trucks(load, col, arrivals, chargers, p_mw, energy_mwh, dt, start, end,
                     delivered):  # pragma: no cover - compiled
    """Plan the ``[trucks]`` depot: first come first served, full power, all at once.

    Every truck takes the charger free first at ``max(arrival, free)``, charges
    whole steps at *p_mw* and the rest of *energy_mwh* in one more step, and holds
    the charger for at least one step. Returns the number of trucks that started.
    """
    n = load.shape[0]
    free_at = np.zeros(chargers, np.int64)
    full = np.floor(energy_mwh / (p_mw * dt))
    rest = energy_mwh - full * (p_mw * dt)
    n_full = int(full)
    started = 0
    for v in range(arrivals.shape[0]):
        best, s = _first_free(free_at, arrivals[v])
        start[v] = s
        if s >= n:
            end[v] = s
            continue
        started += 1
        e = min(s + n_full, n)
        for t in range(s, e):
            load[t, col] += p_mw
        got = (e - s) * p_mw * dt
        if rest > 1e-12 and e < n:
            load[e, col] += rest / dt
            got += rest
            e += 1
        end[v] = e
        delivered[v] = got
        free_at[best] = s + max(e - s, 1)
    return started


@njit(cache=True)
def row_sums(x):  # pragma: no cover - compiled
    """Sum of each row of *x*, column by column from 0 (the order the reference uses)."""
    out = np.zeros(x.shape[0])
    for t in range(x.shape[0]):
        v = 0.0
        for k in range(x.shape[1]):
            v += x[t, k]
        out[t] = v
    return out


# ---------------------------------------------------------------- driver
class StationState:
    """What a station carries from one day's planning to the next."""

    def __init__(self, st: Station, n: int):
        self.st = st
        v = len(st.arrival)
        self.start = np.zeros(v)
        self.energy = np.zeros(v)
        self.shifted = np.zeros(v)
        self.ready = np.zeros(v)
        self.idle = np.zeros(1)
        # scratch of the charging sessions (a window is at most the horizon)
        self.scratch = (np.empty(n), np.empty(n), np.empty(n), np.empty(n, np.bool_))
        if st.kind == "depot":
            self.free = np.zeros(st.units, np.int64)
            self.start = np.zeros(v, np.int64)
            self.ready = np.zeros(v, np.int64)
        elif st.kind == "swap":
            self.bay_free = np.zeros(st.bays)
            self.pack_ready = np.zeros(st.packs)
            self.rack_free = np.zeros(st.units, np.int64)
        else:
            self.free_f = np.zeros(st.units)
            self.asked = np.zeros(n)


def plan_station_day(state: StationState, load: np.ndarray, res: np.ndarray,
                     price: np.ndarray, lo: int, hi: int, dt: float) -> None:
    """Plan the visits ``lo:hi`` of *state*'s station (one day's arrivals).

    *res* is the forecast RES of every step [MW] (:func:`row_sums` of the plants),
    *price* the import price [CNY/MWh].
    """
    st = state.st
    if hi <= lo:
        return
    if st.kind == "depot":
        _depot_day(load, st.load_index, res, price, st.arrival, st.departure, st.need, lo, hi,
                   st.unit_rate, st.limit_mw, st.policy, dt, state.free, state.start,
                   state.energy, state.shifted, state.ready, *state.scratch)
    elif st.kind == "swap":
        _swap_day(load, st.load_index, res, price, st.arrival, st.departure, st.need, lo, hi,
                  st.unit_rate, st.limit_mw, st.policy, dt, st.window_steps, st.swap_steps,
                  state.bay_free, state.pack_ready, state.rack_free, state.idle, state.start,
                  state.energy, state.shifted, state.ready, *state.scratch)
    else:
        _h2_day(load, st.load_index, state.asked, st.arrival, st.need, lo, hi, st.unit_rate,
                st.compressor_mwh_per_kg, dt, state.free_f, state.start, state.ready)


def finish_log(state: StationState, n: int, dt: float,
               tank_frac: np.ndarray | None = None) -> FleetLog:
    """Return the station's log once the year is dispatched.

    *tank_frac* (``h2`` only) is, per step, the share of the kg the station asked
    that the tank delivered.
    """
    st = state.st
    start = state.start.astype(float)
    counted = st.departure <= n  # visits whose deadline lies in the horizon
    served = start < n
    until = np.minimum(start, n) if st.kind != "depot" else np.minimum(
        np.minimum(start, st.departure), n)
    wait = (until - st.arrival) * dt
    idle = 0.0
    if st.kind == "depot":
        delivered = state.energy.copy()
        miss = counted & (delivered < st.need - 1e-9)
    elif st.kind == "swap":
        delivered = np.where(served, st.need, 0.0)
        late = start + st.swap_steps > st.departure + 1e-9
        miss = counted & (late | ~served)
        pr = state.pack_ready
        idle = float(state.idle[0] + np.where(pr < n, n - pr, 0.0).sum())
    else:
        assert tank_frac is not None
        delivered = _h2_delivered(state.start, st.need, st.unit_rate, tank_frac)
        miss = counted & ((state.ready > st.departure + 1e-9) | ~served)
        return FleetLog(st, start, np.where(served, st.need, 0.0), state.shifted, state.ready,
                        delivered, miss, wait, 0.0, state.asked)
    return FleetLog(st, start, state.energy, state.shifted, state.ready.astype(float),
                    delivered, miss, wait, idle)


@njit(cache=True)
def _h2_delivered(start, need, rate, frac):  # pragma: no cover - compiled
    n = frac.shape[0]
    out = np.zeros(start.shape[0])
    for v in range(start.shape[0]):
        s = start[v]
        if not s < n:
            continue
        e = s + need[v] / rate
        t = int(np.floor(s))
        while t < n and t < e:
            out[v] += (min(e, t + 1.0) - max(s, float(t))) * rate * frac[t]
            t += 1
    return out


# ---------------------------------------------------------------- for the optimum
def flex_bounds(st: Station, n: int, dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Describe a depot or swap station as a flexible demand: ``(p_max, e_lo, e_hi)``.

    Aggregated per departure step: ``e_lo`` [MWh] is the energy of every visit
    whose deadline (a truck's departure; for a pack, ``window_h`` after it goes on
    a rack at the end of its swap) falls by the end of the step, ``e_hi`` that of
    every visit arrived by then, ``p_max`` [MW] the units (chargers, racks) with a
    truck or pack present, times their power, within the station's limit. A
    deadline that even charging as early as possible cannot meet in aggregate is
    relaxed to what can be (the optimum must stay feasible; the rules record such
    visits as misses). Energy moves freely between the trucks present, so this is
    a relaxation of the per-truck sessions: a lower bound on what they cost.
    """
    arr = st.arrival.astype(np.int64)
    if st.kind == "swap":
        arr = arr + int(np.ceil(st.swap_steps - 1e-9))
        dead = arr + st.window_steps
    else:
        dead = st.departure.astype(np.int64)
    keep = arr < n
    arr, dead, need = arr[keep], dead[keep], st.need[keep]
    e_hi = np.cumsum(np.bincount(arr, weights=need, minlength=n)[:n])
    due = dead <= n
    e_lo = np.cumsum(np.bincount(dead[due] - 1, weights=need[due], minlength=n)[:n])
    present = np.cumsum(np.bincount(arr, minlength=n + 1)[:n]
                        - np.bincount(np.minimum(dead, n), minlength=n + 1)[:n])
    p_max = np.minimum(np.minimum(present, st.units) * st.unit_rate, st.limit_mw)
    reach = np.empty(n)
    level = 0.0
    for t in range(n):  # the most that can be charged by the end of each step
        level = min(level + p_max[t] * dt, e_hi[t])
        reach[t] = level
    return p_max, np.minimum(e_lo, reach), e_hi


def h2_schedule(st: Station, n: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Queue a hydrogen station's fills as the rules do: kg asked and compressor MW per step.

    The queue depends on nothing the dispatch decides, so the optimum takes it as
    a fixed demand on the tank and a fixed load.
    """
    state = StationState(st, n)
    load = np.zeros((n, st.load_index + 1))
    plan_station_day(state, load, np.zeros(n), np.zeros(n), 0, len(st.arrival), dt)
    return state.asked, load[:, st.load_index].copy()
