"""Slow step-by-step reference of the event engine and every dispatch strategy.

Plain Python objects and floats, one step at a time, events applied at the step
they happen: the twin that the SimPy engine + numba kernel must equal to 1e-9.
Written from the rules in README.md ("Dispatch strategies", "Events").
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import reference_fleet

from parkgrid.dispatch import DispatchInputs
from parkgrid.engine import EngineSpec, shift_flexible_load

OFF, STARTING, ON = 0, 1, 2


def _f(x, t=None):
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        return float(a)
    return float(a[t]) if t is not None else a


@dataclass
class Bat:
    p: float
    eta_c: float
    eta_d: float
    soc_min: float
    soc_max: float
    e_nom: float
    sd: float
    gf: bool
    fade_cal: float
    fade_cyc: float
    e: float
    discharged: float = 0.0
    cap: float = 0.0
    ch: float = 0.0
    dis: float = 0.0


@dataclass
class El:
    p: float
    k0: float
    min_load: float
    standby: float
    start: int
    min_up: int
    min_down: int
    standby_max: int
    curve: list
    mode: int = OFF
    timer: int = 1 << 40
    sb_timer: int = 0
    draw: float = 0.0
    kg: float = 0.0

    def mult(self, x):
        pts = self.curve
        if x <= pts[0][0]:
            return pts[0][1]
        for (x0, m0), (x1, m1) in itertools.pairwise(pts):
            if x <= x1:
                if x1 <= x0:
                    continue
                return m0 + (m1 - m0) * (x - x0) / (x1 - x0)
        return pts[-1][1]

    def kg_at(self, p, dt):
        return 0.0 if p <= 0 else p * dt * 1000.0 / (self.k0 * self.mult(p / self.p))

    def p_for(self, kg, dt):
        """Largest input whose hydrogen is at most kg.

        On a segment where the multiplier is m0 + s (x - x0), kg(x) = x P c / (m(x))
        with c = 1000 dt / k0 is solved for x; segments from full load down.
        """
        if kg >= self.kg_at(self.p, dt):
            return self.p
        if kg <= 0:
            return 0.0
        c = dt * 1000.0 / self.k0
        pts = self.curve
        for i in range(len(pts) - 1, 0, -1):
            (x0, m0), (x1, m1) = pts[i - 1], pts[i]
            if x1 <= x0:
                continue
            slope = (m1 - m0) / (x1 - x0)
            den = self.p * c - kg * slope
            if den <= 0:
                continue
            x = kg * (m0 - slope * x0) / den
            if x0 - 1e-12 <= x <= x1 + 1e-12:
                return min(max(x, 0.0), 1.0) * self.p
        return kg * self.k0 * pts[0][1] / (dt * 1000.0)


@dataclass
class Coal:
    pmin: float
    pmax: float
    ru: float
    rd: float
    start: int
    min_up: int
    min_down: int
    mode: int = OFF
    timer: int = 1 << 40
    p: float = 0.0
    started: float = 0.0


@dataclass
class Ref:
    out: dict = field(default_factory=dict)


def reference_run(inp: DispatchInputs, strategy: str, spec: EngineSpec | None = None,
                  prices=None, hour=None) -> dict:
    """Run the whole horizon; returns per-step arrays keyed like DispatchResult fields."""
    spec = spec or EngineSpec()
    n, dt = inp.n_steps, float(inp.dt_h)
    res_mw = np.asarray(inp.res_mw, float)
    res_mw = res_mw[:, None] if res_mw.ndim == 1 else res_mw.copy()
    load_mw = np.asarray(inp.load_mw, float)
    load_mw = load_mw[:, None] if load_mw.ndim == 1 else load_mw.copy()
    nl = load_mw.shape[1]
    prio = np.zeros(nl) if inp.load_priority is None else np.asarray(inp.load_priority, float)
    order = sorted(range(nl), key=lambda j: (prio[j], j))
    valley = np.zeros(n) if inp.valley is None else np.asarray(inp.valley, float).copy()
    island_base = np.zeros(n) if inp.island is None else np.asarray(inp.island, float)

    def opt(x, k, d):
        return d if x is None else _f(x)[k]

    bats = []
    for k in range(len(inp.bat_p_mw)):
        e_nom = _f(inp.bat_e_mwh)[k]
        bats.append(Bat(
            _f(inp.bat_p_mw)[k], _f(inp.bat_eta_charge)[k], _f(inp.bat_eta_discharge)[k],
            _f(inp.bat_soc_min_pu)[k], _f(inp.bat_soc_max_pu)[k], e_nom,
            opt(inp.bat_self_discharge_pu, k, 0.0), bool(opt(inp.bat_grid_forming, k, 0.0)),
            opt(inp.bat_fade_calendar_pu, k, 0.0), opt(inp.bat_fade_cycle_pu, k, 0.0),
            e_nom * _f(inp.bat_soc_initial_pu)[k]))
    els = []
    for k in range(len(inp.el_p_mw)):
        curve = ([(0.0, 1.0), (1.0, 1.0)] if inp.el_curve is None
                 else [tuple(map(float, pt)) for pt in np.asarray(inp.el_curve)[k]])
        els.append(El(_f(inp.el_p_mw)[k], _f(inp.el_kwh_per_kg)[k], _f(inp.el_min_load_pu)[k],
                      opt(inp.el_standby_pu, k, 0.0), int(opt(inp.el_start_steps, k, 0)),
                      int(opt(inp.el_min_up_steps, k, 0)), int(opt(inp.el_min_down_steps, k, 0)),
                      int(opt(inp.el_standby_max_steps, k, 0)), curve))
    coals = []
    for k in range(len(inp.coal_p_min_mw)):
        coals.append(Coal(_f(inp.coal_p_min_mw)[k], _f(inp.coal_p_max_mw)[k],
                          opt(inp.coal_ramp_up_mw, k, math.inf),
                          opt(inp.coal_ramp_down_mw, k, math.inf),
                          int(opt(inp.coal_start_steps, k, 0)),
                          int(opt(inp.coal_min_up_steps, k, 0)),
                          int(opt(inp.coal_min_down_steps, k, 0))))
    cap_kg = float(inp.tank_capacity_kg)
    tank = float(inp.tank_initial_kg)
    cap_import = float(inp.import_cap_mw)
    share_min = float(inp.green_share_min)
    green_mwh = grid_mwh = 0.0

    # --- events, resolved per step -------------------------------------------------
    def down_mask(kind, idx):
        m = np.zeros(n, bool)
        for o in spec.outages:
            if o.kind == kind and (kind == "grid" or o.index == idx):
                m[o.start:o.start + o.duration] = True
        return m

    res_av = np.ones_like(res_mw)
    for k in range(res_mw.shape[1]):
        res_av[down_mask("res", k), k] = 0.0
    load_av = np.ones_like(load_mw)
    for j in range(nl):
        load_av[down_mask("load", j), j] = 0.0
    bat_av = [~down_mask("battery", k) for k in range(len(bats))]
    el_av = [~down_mask("electrolyser", k) for k in range(len(els))]
    coal_av = [~down_mask("coal", k) for k in range(len(coals))]
    island = island_base.copy()
    island[down_mask("grid", 0)] = 1.0
    price = None if prices is None else np.asarray(prices, float).copy()
    for s in spec.seasons:
        if price is not None:
            price[s.start:] = np.asarray(s.price_by_hour)[hour[s.start:]]
        valley[s.start:] = np.isin(hour[s.start:], s.valley_hours)
    # trucks: first come, first served on N chargers
    trucks_log = []
    if spec.trucks is not None:
        tr = spec.trucks
        free_at = [0] * tr.chargers
        for a in sorted(spec.trucks.arrivals):
            c = min(range(tr.chargers), key=lambda i: (max(free_at[i], a), i))
            start = max(free_at[c], a)
            if start >= n:
                continue
            full, rest = divmod(tr.energy_mwh, tr.charger_mw * dt)
            end = min(start + int(full), n)
            load_mw[start:end, tr.load_index] += tr.charger_mw
            if rest > 1e-12 and end < n:
                load_mw[end, tr.load_index] += rest / dt
                end += 1
            free_at[c] = start + max(end - start, 1)
            trucks_log.append((a, start))
    pickups = {}
    if spec.trailers is not None:
        for s in spec.trailers.steps:
            pickups[s] = pickups.get(s, 0) + 1
    spd = spec.steps_per_day
    depot = -1 if spec.trucks is None else spec.trucks.load_index
    stations = [reference_fleet.make(st, n) for st in spec.stations]
    plan_price = price if price is not None else np.zeros(n)
    station_frac = np.ones(n)

    keys = ("imp", "exp", "curt", "unserved", "dump", "h2_prod", "h2_del", "h2_short", "tank",
            "el_grid", "bat_grid", "ch", "dis", "e", "cap", "el_p", "el_kg", "coal_p",
            "served")
    out = {k: [] for k in keys}
    trailer_log = []
    for t in range(n):
        if t % spd == 0 and spec.flexible:
            sl = slice(t, min(t + spd, n))
            cols = [j for j in range(nl) if j != depot]
            net_f = res_mw[sl].sum(axis=1) - load_mw[sl][:, cols].sum(axis=1)
            for j, share, mx in spec.flexible:
                old = load_mw[sl, j].copy()
                new = shift_flexible_load(old, net_f, share, mx, dt)
                load_mw[sl, j] = new
                net_f = net_f - (new - old)
        if t % spd == 0 and stations:
            reference_fleet.plan_day(stations, load_mw, res_mw, plan_price, t, t + spd, n, dt)
        # hydrogen stations' fills and trailer pick-ups take what the tank holds,
        # the stations first
        station_kg = sum(obj.asked[t] for obj in stations if obj.st.kind == "h2")
        trailer_kg = pickups.get(t, 0) * spec.trailers.kg if pickups.get(t, 0) else 0.0
        if station_kg > 0 or trailer_kg > 0:
            taken = min(trailer_kg + station_kg, tank)
            tank -= taken
            to_stations = min(station_kg, taken)
            if station_kg > 0:
                station_frac[t] = to_stations / station_kg
            if trailer_kg > 0:
                trailer_log.append(taken - to_stations)

        is_island = island[t] > 0
        imp_lim = 0.0 if is_island else _f(inp.import_limit_mw, t)
        exp_lim = 0.0 if is_island else _f(inp.export_limit_mw, t)
        res = sum(res_mw[t, k] * res_av[t, k] for k in range(res_mw.shape[1]))
        served = [load_mw[t, j] * load_av[t, j] for j in range(nl)]
        demand = sum(served)
        for b in bats:
            b.ch = b.dis = 0.0
            usable = b.e_nom * (b.soc_max - b.soc_min)
            fade = b.fade_cal * t + b.fade_cyc * (b.discharged / usable if usable > 0 else 0.0)
            b.cap = b.e_nom * max(1.0 - fade, 0.0)
            b.e = min(b.e * (1.0 - b.sd), b.soc_max * b.cap)
        standby = 0.0
        for k, u in enumerate(els):
            u.draw = u.kg = 0.0
            if not el_av[k][t]:
                if u.mode != OFF:
                    u.mode, u.timer = OFF, 0
                continue
            if u.mode == STARTING and u.timer >= u.start:
                u.mode, u.timer, u.sb_timer = ON, 0, 0
            if u.mode != OFF:
                u.draw = u.standby * u.p
                standby += u.draw
        lo_sum = hi_sum = 0.0
        bounds = []
        for k, c in enumerate(coals):
            c.started = 0.0
            if not coal_av[k][t]:
                if c.mode != OFF:
                    c.mode, c.timer = OFF, 0
                c.p = 0.0
                bounds.append(None)
                continue
            if c.mode == STARTING and c.timer >= c.start:
                c.mode, c.timer, c.p = ON, 0, 0.0
            if c.mode == ON:
                if c.p <= 0:
                    lo, hi = c.pmin, min(c.pmax, c.pmin + c.ru)
                else:
                    lo, hi = max(c.pmin, c.p - c.rd), min(c.pmax, c.p + c.ru)
                lo_sum += lo
                hi_sum += hi
        blackout = is_island and not any(bat_av[k][t] and b.gf for k, b in enumerate(bats))
        if blackout:
            standby = lo_sum = hi_sum = 0.0
            for u in els:
                u.draw = 0.0
                if u.mode != OFF:
                    u.mode, u.timer = OFF, 0
            for c in coals:
                if c.mode != OFF:
                    c.mode, c.timer = OFF, 0
                c.p = 0.0

        demand_kg = _f(inp.h2_demand_kg, t) if inp.h2_demand_kg is not None else math.inf
        headroom = cap_kg - tank + demand_kg
        made = 0.0
        green = 0.0
        net = res - demand - standby
        coal_out = lo_sum
        imp = exp = curt = dump = unserved = 0.0
        el_grid = bat_grid = 0.0

        def charge(avail, t=t):
            for k, b in enumerate(bats):
                if avail <= 0:
                    break
                if not bat_av[k][t]:
                    continue
                e_max = b.soc_max * b.cap
                p = min(avail, b.p - b.ch, max((e_max - b.e) / (b.eta_c * dt), 0.0))
                if p > 0:
                    b.e = min(b.e + p * b.eta_c * dt, e_max)
                    b.ch += p
                    avail -= p
            return avail

        def discharge(need, t=t):
            for k, b in enumerate(bats):
                if need <= 0:
                    break
                if not bat_av[k][t]:
                    continue
                e_min = b.soc_min * b.cap
                p = min(need, b.p, max((b.e - e_min) * b.eta_d / dt, 0.0))
                if p > 0:
                    b.e = max(b.e - p / b.eta_d * dt, e_min)
                    b.discharged += p * dt
                    b.dis += p
                    need -= p
            return need

        def electrolyse(avail, headroom, t=t):
            made = 0.0
            for k, u in enumerate(els):
                if not el_av[k][t]:
                    continue
                p_min = u.min_load * u.p
                if u.mode == ON:
                    base = u.draw
                elif u.mode == OFF and u.timer >= u.min_down:
                    if u.start > 0:
                        if avail >= p_min and avail > 0:
                            u.mode, u.timer = STARTING, -1
                        continue
                    base = 0.0
                else:
                    continue
                total = min(base + max(avail, 0.0), u.p, max(u.p_for(headroom, dt), base))
                if total <= 0 or total < p_min:
                    continue
                kg = u.kg_at(total, dt)
                u.draw, u.kg = total, kg
                if u.mode == OFF:
                    u.mode, u.timer = ON, 0
                made += kg
                headroom -= kg
                avail -= total - base
            return avail, made, headroom

        if blackout:
            curt, unserved = res, demand
        elif net + coal_out >= 0:
            s = net + coal_out
            if strategy == "hydrogen_first":
                before = s
                s, made, headroom = electrolyse(s, headroom)
                green = before - s
                s = charge(s)
            else:
                s = charge(s)
                before = s
                s, made, headroom = electrolyse(s, headroom)
                green = before - s
            s = max(s, 0.0)
            exp = min(s, exp_lim)
            curt = min(s - exp, res)
            dump = s - exp - curt
        else:
            d = -(net + coal_out)
            if strategy == "peak_shaving":
                shave = max(d - cap_import, 0.0)
                d -= shave - discharge(shave)
            else:
                d = discharge(d)
            if strategy == "coal_peaking" and hi_sum > lo_sum:
                extra = min(d, hi_sum - lo_sum)
                coal_out += extra
                d -= extra
            imp = min(d, imp_lim)
            unserved = d - imp

        if strategy == "valley_hydrogen" and valley[t] > 0 and not is_island:
            for k, u in enumerate(els):
                if not el_av[k][t] or u.mode == STARTING:
                    continue
                if u.mode == OFF and u.timer < u.min_down:
                    continue
                room = max(imp_lim - imp, 0.0)
                if share_min > 0:
                    g_e = green_mwh + green * dt
                    r_e = grid_mwh + el_grid * dt
                    room = min(room, max(g_e / share_min - g_e - r_e, 0.0) / dt)
                offer = curt + exp + room
                if u.mode == OFF and u.start > 0:
                    if offer >= u.min_load * u.p and offer > 0:
                        u.mode, u.timer = STARTING, -1
                    continue
                base, kg_old = u.draw, u.kg
                total = min(base + offer, u.p, max(u.p_for(headroom + kg_old, dt), base))
                if total <= base or total < u.min_load * u.p:
                    continue
                kg_new = u.kg_at(total, dt)
                made += kg_new - kg_old
                headroom -= kg_new - kg_old
                u.draw, u.kg = total, kg_new
                if u.mode == OFF:
                    u.mode, u.timer = ON, 0
                g = total - base
                take = min(g, curt)
                curt, g, green = curt - take, g - take, green + take
                take = min(g, exp)
                exp, g, green = exp - take, g - take, green + take
                imp += g
                el_grid += g

        if strategy == "peak_shaving" and valley[t] > 0 and not is_island:
            room = min(imp_lim, cap_import) - imp
            if room > 0:
                left = charge(room)
                imp += room - left
                bat_grid = room - left

        if unserved > 0:
            left = unserved
            for j in order:
                if left <= 0:
                    break
                cut = min(served[j], left)
                served[j] -= cut
                left -= cut
            for u in els:
                if left <= 0:
                    break
                if u.draw > 0 and u.kg <= 0:
                    cut = min(u.draw, left)
                    u.draw -= cut
                    left -= cut
                    unserved -= cut
                    u.mode, u.timer = OFF, -1

        if math.isinf(demand_kg):
            delivered, short = made, 0.0
        else:
            delivered = min(demand_kg, tank + made)
            short = demand_kg - delivered
            tank = min(tank + made - delivered, cap_kg)
        green_mwh += green * dt
        grid_mwh += el_grid * dt

        remaining = coal_out - lo_sum  # above the units' lower bounds, shared in order
        coal_p = []
        for k, c in enumerate(coals):
            if not coal_av[k][t]:
                coal_p.append(0.0)
                continue
            if c.mode == ON:
                if c.p <= 0:
                    lo, hi = c.pmin, min(c.pmax, c.pmin + c.ru)
                else:
                    lo, hi = max(c.pmin, c.p - c.rd), min(c.pmax, c.p + c.ru)
                p = lo + min(max(remaining, 0.0), hi - lo)
                remaining -= p - lo
                c.p = p
                coal_p.append(p)
                if (strategy == "coal_peaking" and unserved <= 0 and imp <= 0
                        and lo <= c.pmin and c.timer + 1 >= c.min_up
                        and net + coal_out - p >= 0):
                    c.mode, c.timer = OFF, -1
            else:
                coal_p.append(0.0)
                if (c.mode == OFF and strategy == "coal_peaking" and not blackout
                        and (imp > 0 or unserved > 0) and c.timer >= c.min_down):
                    c.mode, c.timer = STARTING, -1
                    c.started = 1.0

        for k, u in enumerate(els):
            if not el_av[k][t]:
                u.timer += 1
                continue
            if u.mode == ON:
                if u.kg > 0:
                    u.sb_timer = 0
                else:
                    u.sb_timer += 1
                    if u.sb_timer > u.standby_max and u.timer + 1 >= u.min_up:
                        u.mode, u.timer, u.sb_timer = OFF, -1, 0
            u.timer += 1
        for c in coals:
            c.timer += 1

        for key, v in (("imp", imp), ("exp", exp), ("curt", curt), ("unserved", unserved),
                       ("dump", dump), ("h2_prod", made), ("h2_del", delivered),
                       ("h2_short", short), ("tank", tank), ("el_grid", el_grid),
                       ("bat_grid", bat_grid), ("ch", [b.ch for b in bats]),
                       ("dis", [b.dis for b in bats]), ("e", [b.e for b in bats]),
                       ("cap", [b.cap for b in bats]), ("el_p", [u.draw for u in els]),
                       ("el_kg", [u.kg for u in els]), ("coal_p", coal_p),
                       ("served", list(served))):
            out[key].append(v)
    out["trailers"] = trailer_log
    out["trucks"] = trucks_log
    out["fleet"] = reference_fleet.finish(stations, station_frac, n)
    out["load_mw"] = load_mw
    return out
