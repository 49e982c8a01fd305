"""Validation rules of truck fleets and their stations, between fields and tables.

Tables: ``[[fleet]]``, ``[[depot]]``, ``[[swap_station]]``, ``[[h2_station]]``.

Called from :mod:`parkgrid.scenario.load` in the first pass; bus names are checked
with every other asset's in the second. Each message names the field and what
would be allowed; feasibility is checked per truck (a truck that cannot reach its
required state even at full power) and per station (fleets the station can never
serve in a day).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["check_fleet_rules", "visit_need"]

Bad = Callable[[str, str], None]
STATION_KINDS = ("depot", "swap_station", "h2_station")


def visit_need(f: dict[str, Any]) -> tuple[float, float]:
    """``(arrival state [pu], need per visit [kWh or kg])`` of a fleet table *f*."""
    cap = (f.get("battery_kwh") if f.get("kind") == "electric" else f.get("tank_kg")) or 0.0
    dep = f.get("departure_soc_pu") or 0.0
    use = f.get("consumption_per_trip") or (f.get("trip_km") or 0.0) * (
        f.get("consumption_per_km") or 0.0)
    arr = dep - use / cap if use > 0 and cap > 0 else (f.get("arrival_soc_pu") or 0.0)
    return arr, max(dep - arr, 0.0) * cap


def _dwells(f: dict[str, Any], i: int, bad: Bad) -> list[float]:
    """Shortest time at the station of each visit [h] (after the largest jitter)."""
    out = []
    jitter = f.get("jitter_h") or 0.0
    for k, (a, d) in enumerate(f.get("visits") or ()):
        path = f"fleet[{i}].visits[{k}]"
        if not 0.0 <= a < 24.0:
            bad(path, f"arrival {a:g} h must lie in [0, 24) h after midnight")
            continue
        if d <= a:
            bad(path, f"departure {d:g} h is before (or at) arrival {a:g} h; an overnight "
                      f"stay departs after 24 h (e.g. {d + 24:g})")
            continue
        if d - a > 48.0:
            bad(path, f"a stay of {d - a:g} h is longer than 48 h")
            continue
        if any(abs(x * 4 - round(x * 4)) > 1e-9 for x in (a, d)):
            bad(path, "times must lie on the 15-minute grid (multiples of 0.25 h)")
            continue
        if jitter >= d - a:
            bad(f"fleet[{i}].jitter_h", f"{jitter:g} h of arrival delay can push the arrival "
                                        f"of visits[{k}] past its departure ({d - a:g} h stay)")
            continue
        out.append(d - a - jitter)
    return out


def check_fleet_rules(data: dict[str, Any], bad: Bad) -> None:
    """Rules of fleets and stations (see the module docstring)."""
    stations = {s.get("name"): (kind, j, s) for kind in STATION_KINDS
                for j, s in enumerate(data.get(kind, []))}
    for kind in ("depot", "swap_station"):
        for j, s in enumerate(data.get(kind, [])):
            if s.get("policy") == "grid_cap" and s.get("limit_kw") == float("inf"):
                bad(f"{kind}[{j}].limit_kw", "policy 'grid_cap' needs a finite limit_kw")
    for j, s in enumerate(data.get("swap_station", [])):
        need = (s.get("charged_soc_pu") or 0) * (s.get("pack_kwh") or 0)
        rack, window = s.get("rack_kw"), s.get("window_h")
        if rack and window and need > rack * window + 1e-9:
            bad(f"swap_station[{j}].window_h",
                f"an empty pack needs {need:g} kWh, more than a {rack:g} kW rack gives in "
                f"{window:g} h")
    if data.get("h2_station") and not data.get("hydrogen"):
        bad("h2_station", "hydrogen stations are fed from the park tank: add [hydrogen]")

    names: dict[str, int] = {}
    hours: dict[str, float] = {}  # per station: unit-hours a day its fleets need
    lane_hours: dict[str, float] = {}  # swap stations: bay-hours a day
    kwh_day: dict[str, float] = {}
    for i, f in enumerate(data.get("fleet", [])):
        name, kind, station = f.get("name"), f.get("kind"), f.get("station")
        if name in names:
            bad(f"fleet[{i}].name", f"duplicate fleet name {name!r} (also fleet[{names[name]}])")
        names[name] = i
        if kind is None or station is None:
            continue
        cap_key = "battery_kwh" if kind == "electric" else "tank_kg"
        if not (f.get(cap_key) or 0) > 0:
            bad(f"fleet[{i}].{cap_key}", f"a {kind} fleet needs {cap_key} > 0")
            continue
        if station not in stations:
            allowed = [n for n, (k, _, _) in stations.items()
                       if (k == "h2_station") == (kind == "fuel_cell")]
            bad(f"fleet[{i}].station", f"unknown station {station!r}; {kind} trucks can use: "
                + (", ".join(sorted(allowed)) or "none (add a [[depot]], [[swap_station]] "
                   "or [[h2_station]])"))
            continue
        skind, j, s = stations[station]
        if (skind == "h2_station") != (kind == "fuel_cell"):
            bad(f"fleet[{i}].station", f"{kind} trucks cannot use the {skind} {station!r}")
            continue
        arr, need = visit_need(f)
        unit = "kWh" if kind == "electric" else "kg"
        if arr < 0:
            bad(f"fleet[{i}].consumption_per_km" if not f.get("consumption_per_trip")
                else f"fleet[{i}].consumption_per_trip",
                f"a trip uses more than the truck holds at departure "
                f"({(f.get('departure_soc_pu') or 0) - arr:.3g} of its {f[cap_key]:g} {unit})")
            continue
        if need <= 0:
            bad(f"fleet[{i}].arrival_soc_pu",
                f"trucks arrive at {arr:g}, not below departure_soc_pu = "
                f"{f.get('departure_soc_pu'):g}: there is nothing to charge")
            continue
        dwells = _dwells(f, i, bad)
        count, per_day = f.get("count") or 0, len(f.get("visits") or ())
        if skind == "depot":
            kw = min(s.get("charger_kw") or 0, s.get("limit_kw") or 0)
            if not kw:
                continue
            t_unit = need / kw
            kwh_day[station] = kwh_day.get(station, 0.0) + count * per_day * need
        elif skind == "swap_station":
            if abs((f.get("battery_kwh") or 0) - (s.get("pack_kwh") or 0)) > 1e-9:
                bad(f"fleet[{i}].battery_kwh", f"{f.get('battery_kwh'):g} kWh is not the pack "
                    f"of swap_station[{j}] ({s.get('pack_kwh'):g} kWh)")
                continue
            if (f.get("departure_soc_pu") or 0) > (s.get("charged_soc_pu") or 0) + 1e-12:
                bad(f"fleet[{i}].departure_soc_pu", f"{f.get('departure_soc_pu'):g} is above "
                    f"the charged_soc_pu {s.get('charged_soc_pu'):g} of swap_station[{j}]")
                continue
            kw = min(s.get("rack_kw") or 0, s.get("limit_kw") or 0)
            if not kw or not s.get("swap_min"):
                continue
            pack = ((s.get("charged_soc_pu") or 0) - arr) * (s.get("pack_kwh") or 0)
            hours[station] = hours.get(station, 0.0) + count * per_day * pack / kw
            lane_hours[station] = (lane_hours.get(station, 0.0)
                                   + count * per_day * s["swap_min"] / 60.0)
            t_unit = s["swap_min"] / 60.0
            for k, dw in enumerate(dwells):
                if t_unit > dw + 1e-9:
                    bad(f"fleet[{i}].visits[{k}]", f"each truck stays {dw:g} h, less than one "
                        f"swap ({s['swap_min']:g} min)")
            continue
        else:
            kw = s.get("dispense_kg_per_h") or 0  # kg/h here
            if not kw:
                continue
            t_unit = need / kw
        what = "charger" if skind == "depot" else "dispenser"
        rate = f"{kw:g} {'kW' if skind == 'depot' else 'kg/h'}"
        for k, dw in enumerate(dwells):
            if t_unit > dw + 1e-9:
                bad(f"fleet[{i}].visits[{k}]",
                    f"each truck needs {need:.4g} {unit} (from {arr:.3g} to "
                    f"{f.get('departure_soc_pu'):g} of {f[cap_key]:g} {unit}) in a {dw:g} h "
                    f"stay: a {rate} {what} takes {t_unit:.3g} h even at full power")
        hours[station] = hours.get(station, 0.0) + count * per_day * t_unit

    for station, h in hours.items():
        skind, j, s = stations[station]
        units = {"depot": "chargers", "swap_station": "racks", "h2_station": "dispensers"}[skind]
        have = (s.get(units) or 0) * 24.0
        if h > have + 1e-9:
            bad(f"{skind}[{j}].{units}",
                f"its fleets need {h:.4g} {units[:-1]}-hours a day at full power, more than "
                f"{s.get(units)} {units} can ever serve ({have:g} a day)")
    for station, h in lane_hours.items():
        _, j, s = stations[station]
        if h > (s.get("bays") or 0) * 24.0 + 1e-9:
            bad(f"swap_station[{j}].bays", f"its fleets need {h:.4g} bay-hours of swapping a "
                f"day, more than {s.get('bays')} bays can ever serve")
    for station, kwh in kwh_day.items():
        _, j, s = stations[station]
        lim = s.get("limit_kw") or 0
        if kwh > lim * 24.0 + 1e-9:
            bad(f"depot[{j}].limit_kw", f"its fleets need {kwh:.4g} kWh a day, more than "
                f"{lim:g} kW can deliver in 24 h")
