"""Pure-Python twin of parkgrid.engine.fleet: truck stations, one visit at a time.

Written from the rules in the docstring of :mod:`parkgrid.engine.fleet` with
plain lists and floats; the engine's numba kernels must equal it to 1e-9.
"""

from __future__ import annotations

import math

EPS = 1e-12


def session(load, col, res, price, s, end, need, p_unit, limit, policy, dt):
    """One charging session over steps [s, end); returns (delivered, last step, shifted)."""
    steps = list(range(s, end))
    cap = {}
    for t in steps:
        c = p_unit
        if limit < math.inf:
            c = min(c, max(limit - load[t][col], 0.0))
        cap[t] = c
    pw = dict.fromkeys(steps, 0.0)
    rem = need
    if policy == "surplus":
        sur = {}
        for t in steps:  # RES minus every load planned so far, summed in column order
            x = 0.0
            for r in res[t]:
                x += r
            for ld in load[t]:
                x -= ld
            sur[t] = x
        for t in sorted(steps, key=lambda t: (-sur[t], t)):
            if rem <= EPS:
                break
            x = min(cap[t], max(sur[t], 0.0), rem / dt)
            if x > 0:
                pw[t] += x
                rem -= x * dt
    if policy in ("valley", "surplus"):
        order = sorted(steps, key=lambda t: (price[t], t))
    else:
        order = steps
    for t in order:
        if rem <= EPS:
            break
        x = min(cap[t] - pw[t], rem / dt)
        if x > 0:
            pw[t] += x
            rem -= x * dt
    k_asap = math.ceil(need / (p_unit * dt) - 1e-9)
    delivered = shifted = 0.0
    last = -1
    for i, t in enumerate(steps):
        if pw[t] > 0:
            load[t][col] += pw[t]
            delivered += pw[t] * dt
            last = t
            if i >= k_asap:
                shifted += pw[t] * dt
    return delivered, last, shifted


class Depot:
    def __init__(self, st):
        self.st = st
        self.free = [0] * st.units
        self.log = {}

    def visit(self, v, load, res, price, n, dt):
        st = self.st
        a = int(st.arrival[v])
        c = min(range(st.units), key=lambda c: (max(self.free[c], a), c))
        s = max(self.free[c], a)
        end = min(int(st.departure[v]), n)
        rec = {"start": s, "energy": 0.0, "shifted": 0.0}
        self.log[v] = rec
        if s >= end or st.need[v] <= EPS:
            return
        got, last, sh = session(load, st.load_index, res, price, s, end, float(st.need[v]),
                                st.unit_rate, st.limit_mw, _policy(st), dt)
        rec.update(energy=got, shifted=sh)
        if last >= 0:
            self.free[c] = last + 1


class Swap:
    def __init__(self, st):
        self.st = st
        self.bays = [0.0] * st.bays
        self.packs = [0.0] * st.packs
        self.racks = [0] * st.units
        self.idle = 0.0
        self.log = {}

    def visit(self, v, load, res, price, n, dt):
        st = self.st
        a = float(st.arrival[v])
        b = min(range(len(self.bays)), key=lambda q: (self.bays[q], q))
        k = min(range(len(self.packs)), key=lambda q: (self.packs[q], q))
        s = max(a, self.bays[b], self.packs[k])
        rec = {"start": math.inf, "energy": 0.0, "shifted": 0.0}
        self.log[v] = rec
        if s >= n:
            return
        rec["start"] = s
        self.idle += s - self.packs[k]
        done = s + st.swap_steps
        self.bays[b] = done
        drop = math.ceil(done - 1e-9)
        need = float(st.need[v])
        if need <= EPS:
            self.packs[k] = float(drop)
            return
        r = min(range(len(self.racks)), key=lambda q: (max(self.racks[q], drop), q))
        rs = max(self.racks[r], drop)
        if rs >= n:
            self.packs[k] = math.inf
            return
        end = min(rs + st.window_steps, n)
        pol = _policy(st)
        got, last, sh = session(load, st.load_index, res, price, rs, end, need, st.unit_rate,
                                st.limit_mw, pol, dt)
        if need - got > EPS and end < n:
            got2, last2, _ = session(load, st.load_index, res, price, end, n, need - got,
                                     st.unit_rate, st.limit_mw, "uncontrolled", dt)
            got += got2
            sh += got2
            if last2 >= 0:
                last = last2
        rec.update(energy=got, shifted=sh)
        if need - got > 1e-9:
            self.packs[k] = math.inf
            self.racks[r] = n
        else:
            self.packs[k] = float(last + 1)
            self.racks[r] = last + 1


class H2:
    def __init__(self, st, n):
        self.st = st
        self.free = [0.0] * st.units
        self.asked = [0.0] * n
        self.log = {}

    def visit(self, v, load, res, price, n, dt):
        st = self.st
        a = float(st.arrival[v])
        d = min(range(len(self.free)), key=lambda q: (self.free[q], q))
        s = max(a, self.free[d])
        rec = {"start": math.inf, "end": math.inf}
        self.log[v] = rec
        if s >= n:
            return
        e = s + float(st.need[v]) / st.unit_rate
        rec.update(start=s, end=e)
        self.free[d] = e
        t = math.floor(s)
        while t < n and t < e:
            kg = (min(e, t + 1.0) - max(s, float(t))) * st.unit_rate
            self.asked[t] += kg
            load[t][st.load_index] += kg * st.compressor_mwh_per_kg / dt
            t += 1


def _policy(st):
    return ("uncontrolled", "valley", "surplus", "grid_cap")[st.policy]


def make(st, n):
    return {"depot": Depot, "swap": Swap}[st.kind](st) if st.kind != "h2" else H2(st, n)


def plan_day(stations, load, res, price, day_start, day_end, n, dt):
    """Plan, station by station, the visits arriving in [day_start, day_end).

    Visits are sorted by arrival; each station keeps the next one to plan.
    """
    for obj in stations:
        st = obj.st
        v = getattr(obj, "next", 0)
        while v < len(st.arrival) and st.arrival[v] < day_end:
            if st.arrival[v] >= day_start:
                obj.visit(v, load, res, price, n, dt)
            v += 1
        obj.next = v


def finish(stations, frac, n):
    """Per station: per-visit records, with h2 kg delivered and swap pack idle steps."""
    out = []
    for obj in stations:
        st = obj.st
        rec = {"kind": st.kind, "visits": [obj.log.get(v) for v in range(len(st.arrival))]}
        if st.kind == "h2":
            for r in rec["visits"]:
                if r is None or not r["start"] < n:
                    continue
                got, t = 0.0, math.floor(r["start"])
                while t < n and t < r["end"]:
                    got += (min(r["end"], t + 1.0) - max(r["start"], float(t))) \
                        * st.unit_rate * frac[t]
                    t += 1
                r["delivered"] = got
            rec["asked"] = obj.asked
        if st.kind == "swap":
            rec["idle"] = obj.idle + sum(n - p for p in obj.packs if p < n)
        out.append(rec)
    return out
