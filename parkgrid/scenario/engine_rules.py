"""Validation rules for events, stateful assets and strategies (the event engine).

Called from :mod:`parkgrid.scenario.load`: :func:`check_engine_rules` in the
first pass (shape and rules between fields), :func:`check_event_targets` in the
second (names against the loaded network).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from parkgrid.scenario.schema import ASSET_KINDS

__all__ = [
    "check_engine_rules",
    "check_event_targets",
    "parse_clock",
    "parse_month_day",
    "parse_start",
]

Bad = Callable[[str, str], None]


def parse_start(text: str, year: int) -> datetime:
    """Parse a local event start 'YYYY-MM-DD HH:MM' in *year* on the 15-minute grid."""
    ts = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    if ts.year != year:
        raise ValueError(f"{text!r} is not in the simulated year {year}")
    if ts.minute % 15:
        raise ValueError(f"{text!r} is not on the 15-minute grid (minutes 00, 15, 30, 45)")
    return ts


def parse_clock(text: str) -> time:
    """Parse a local clock time 'HH:MM' on the 15-minute grid."""
    t = datetime.strptime(text.strip(), "%H:%M")
    if t.minute % 15:
        raise ValueError(f"{text!r} is not on the 15-minute grid")
    return t.time()


def parse_month_day(text: str, year: int) -> datetime:
    """Parse 'MM-DD' into local midnight of that day in *year*."""
    try:
        return datetime.strptime(f"{year}-{text}", "%Y-%m-%d")
    except ValueError:
        raise ValueError(f"{text!r} is not a date 'MM-DD' in {year}") from None


def _hours_in_year(year: int) -> float:
    return (datetime(year + 1, 1, 1) - datetime(year, 1, 1)).total_seconds() / 3600.0


def check_engine_rules(data: dict[str, Any], bad: Bad) -> None:
    """Rules between fields of events, stateful assets and strategies."""
    year = (data.get("scenario") or {}).get("year") or 2025
    hours = _hours_in_year(year)
    strategy = (data.get("dispatch") or {}).get("strategy")

    windows: dict[str, list[tuple[datetime, float, int]]] = {}
    grid_outage = False
    for i, ev in enumerate(data.get("event", [])):
        kind, target, start, dur = ev.get("kind"), ev.get("target"), ev.get("start"), ev.get(
            "duration_h")
        if kind == "grid_outage":
            grid_outage = True
            if target:
                bad(f"event[{i}].target", "a grid_outage has no target (it is the grid link)")
            target = "grid"
        elif kind == "maintenance" and not target:
            bad(f"event[{i}].target", "maintenance needs the name of an asset or line")
            continue
        if start is None or dur is None or kind is None:
            continue
        try:
            ts = parse_start(start, year)
        except ValueError as exc:
            bad(f"event[{i}].start", f"{exc}; expected 'YYYY-MM-DD HH:MM' in {year}")
            continue
        windows.setdefault(target, []).append((ts, dur, i))
    for target, ws in windows.items():
        ws.sort()
        for (t0, d0, i0), (t1, _d1, i1) in itertools.pairwise(ws):
            if (t1 - t0).total_seconds() / 3600.0 < d0:
                bad(f"event[{i1}].start", f"overlaps event[{i0}] on {target!r} "
                                          f"({t0:%Y-%m-%d %H:%M} for {d0:g} h)")
    for r in data.get("reliability", []):
        if r.get("target") == "grid":
            grid_outage = True
    if grid_outage and not any(b.get("grid_forming") for b in data.get("battery", [])):
        bad("event" if data.get("event") else "reliability",
            "a grid outage islands the park: it needs a battery with grid_forming = true")

    for kind in ("electrolyser", "coal"):
        for i, a in enumerate(data.get(kind, [])):
            for key in ("min_up_h", "min_down_h"):
                v = a.get(key)
                if v is not None and v > hours:
                    bad(f"{kind}[{i}].{key}", f"{v:g} h is longer than the year ({hours:g} h)")
    for i, e in enumerate(data.get("electrolyser", [])):
        sb, mn = e.get("standby_pu"), e.get("min_load_pu")
        if sb and mn is not None and sb >= mn and mn > 0:
            bad(f"electrolyser[{i}].standby_pu",
                f"{sb:g} must be below min_load_pu = {mn:g} (standby makes no hydrogen)")
        curve = e.get("part_load_curve") or ()
        if curve:
            xs = [x for x, _ in curve]
            if len(curve) < 2 or xs != sorted(xs) or len(set(xs)) != len(xs):
                bad(f"electrolyser[{i}].part_load_curve",
                    "needs at least two [load_pu, multiplier] points with rising load_pu")
            elif xs[0] < 0 or xs[-1] > 1 or any(m <= 0 for _, m in curve):
                bad(f"electrolyser[{i}].part_load_curve",
                    "load_pu must lie in [0, 1] and multipliers must be positive")
    for i, c in enumerate(data.get("coal", [])):
        pmin, pmax = c.get("p_min_mw"), c.get("p_max_mw")
        ramp, start = c.get("ramp_up_mw_per_min"), c.get("start_up_h")
        if pmin is not None and pmax is not None and pmin > pmax:
            bad(f"coal[{i}].p_min_mw", f"{pmin:g} MW exceeds p_max_mw = {pmax:g} MW")
        if None not in (pmin, ramp, start) and ramp * (start * 60.0 + 15.0) < pmin:
            bad(f"coal[{i}].ramp_up_mw_per_min",
                f"{ramp:g} MW/min cannot reach the minimum load {pmin:g} MW within the "
                f"start-up time plus one step ({start * 60 + 15:g} min)")
    if data.get("coal") and strategy not in (None, "coal_peaking", "optimal"):
        bad("dispatch.strategy", f"[[coal]] units are dispatched by 'coal_peaking' or "
                                 f"'optimal' only, not {strategy!r}")
    if strategy == "coal_peaking" and not data.get("coal"):
        bad("dispatch.strategy", "'coal_peaking' needs at least one [[coal]] unit")
    if strategy == "peak_shaving":
        if not (data.get("dispatch") or {}).get("import_cap_mw"):
            bad("dispatch.import_cap_mw", "'peak_shaving' needs an import cap > 0 MW")
        if not data.get("battery"):
            bad("dispatch.strategy", "'peak_shaving' needs at least one [[battery]]")
    if strategy == "valley_hydrogen":
        tariff = (data.get("grid") or {}).get("tariff") or {}
        if not data.get("electrolyser"):
            bad("dispatch.strategy", "'valley_hydrogen' needs at least one [[electrolyser]]")
        if not tariff.get("valley_hours"):
            bad("grid.tariff.valley_hours", "'valley_hydrogen' needs valley hours")
    for i, b in enumerate(data.get("battery", [])):
        c, p, e = b.get("c_rate_max"), b.get("p_mw"), b.get("e_mwh")
        if c and p is not None and e and p > c * e + 1e-9:
            bad(f"battery[{i}].p_mw", f"{p:g} MW exceeds c_rate_max x e_mwh = {c * e:g} MW "
                                      f"for this technology")
    for i, ld in enumerate(data.get("load", [])):
        if (ld.get("flexible_share") or 0) > 0 and not (ld.get("flexible_max_mw") or 0) > 0:
            bad(f"load[{i}].flexible_max_mw", "a flexible load needs flexible_max_mw > 0")
    trucks = data.get("trucks")
    if trucks:
        _check_clocks(trucks.get("arrival_times") or (), "trucks.arrival_times", bad)
        if not trucks.get("arrival_times") and not trucks.get("arrivals_per_day"):
            bad("trucks.arrival_times", "give arrival_times or arrivals_per_day > 0")
    h2 = data.get("hydrogen")
    if h2:
        _check_clocks(h2.get("trailer_times") or (), "hydrogen.trailer_times", bad)
        if (h2.get("trailer_kg") or 0) > 0 and not (h2.get("trailer_times")
                                                    or h2.get("trailers_per_day")):
            bad("hydrogen.trailer_kg", "trailers need trailer_times or trailers_per_day > 0")
    last = None
    for i, s in enumerate(data.get("tariff_season", [])):
        start = s.get("start")
        if start is None:
            continue
        try:
            day = parse_month_day(start, year)
        except ValueError as exc:
            bad(f"tariff_season[{i}].start", str(exc))
            continue
        if last is not None and day <= last:
            bad(f"tariff_season[{i}].start", "seasons must be listed in date order")
        last = day
        overlap = set(s.get("peak_hours") or ()) & set(s.get("valley_hours") or ())
        if overlap:
            bad(f"tariff_season[{i}].valley_hours", f"hours {sorted(overlap)} are also peak")


def _check_clocks(times: tuple[str, ...], field: str, bad: Bad) -> None:
    for t in times:
        try:
            parse_clock(t)
        except ValueError as exc:
            bad(field, f"{exc}; expected 'HH:MM'")


def check_event_targets(net: Any, data: dict[str, Any], bad: Bad) -> None:
    """Event and reliability targets must name an asset or a unique line of the net."""
    assets = {a.get("name") for kind in ASSET_KINDS if kind != "statcom"
              for a in data.get(kind, [])}
    statcoms = {a.get("name") for a in data.get("statcom", [])}
    lines = net.line["name"].astype(str)
    for key in ("event", "reliability"):
        for i, ev in enumerate(data.get(key, [])):
            target = ev.get("target")
            if target in statcoms and target not in assets:
                bad(f"{key}[{i}].target", f"{target!r} is a STATCOM: its outages are not "
                                          "modelled (in_service = false leaves it out)")
                continue
            if not target or target == "grid" or target in assets:
                continue
            n = int((lines == target).sum())
            if n == 1:
                continue
            if n > 1:
                bad(f"{key}[{i}].target", f"line name {target!r} is not unique in the network")
            else:
                bad(f"{key}[{i}].target",
                    f"unknown target {target!r}: not an asset ({', '.join(sorted(assets))}), "
                    f"a line name of the network, or 'grid'")
