"""Check a layout (TOML tables) and build its pandapower net.

Three passes, every problem collected before anything is raised: the keys of each
row (types, ranges, unknown keys); the rows against each other (unique names, known
buses and standard types, voltage levels, tap ranges, switches at the ends of their
branch); then the net is built and every bus must reach a grid connection. Each
problem names the file, the row (``line[3]``) and the key.
"""

from __future__ import annotations

import copy
import difflib
import functools
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from parkgrid.errors import LayoutError, ValidationIssue
from parkgrid.layout._tables import LINE_PARAMETERS, TABLES, TAP_KEYS, TRAFO_PARAMETERS, Table

__all__ = ["layout_to_net", "read_layout"]

#: a transformer's rated winding voltage may differ this much from its bus's
#: nominal voltage before the layout is refused (10.5 kV windings on 10 kV buses
#: are +5 %; a 20 kV type on a 35 kV bus is -43 %)
WINDING_TOLERANCE_PU = 0.25

_ELEMENT_TABLES = ("bus", "ext_grid", "line", "transformer", "switch")
_TYPE_TABLES = {"line_type": "line", "trafo_type": "trafo"}

Bad = Callable[[str, str], None]


def read_layout(path: str | Path) -> Any:
    """Read the layout file at *path* and return its pandapower net.

    Reading runs no code: the file is parsed with :mod:`tomllib` and only its
    values are used.

    Raises
    ------
    LayoutError
        Listing every problem, each naming the file, the row and the key.
    """
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutError([ValidationIssue(str(p), "<file>", f"cannot read: {exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise LayoutError([ValidationIssue(str(p), "<file>", f"invalid TOML: {exc}")]) from None
    return layout_to_net(raw, source=str(p))


def layout_to_net(raw: dict[str, Any], *, source: str = "<dict>", prefix: str = "") -> Any:
    """Check the layout *raw* (TOML tables) and return its pandapower net.

    *source* names the file in messages and *prefix* goes before each row
    (``"network.layout."`` for a layout inline in a scenario). Buses, lines,
    transformers and switches get the index of their row, in file order.

    Raises
    ------
    LayoutError
        Listing every problem found.
    """
    issues: list[ValidationIssue] = []

    def bad(field: str, msg: str) -> None:
        issues.append(ValidationIssue(source, prefix + field, msg))

    data = _parse(raw, bad)
    if not data:
        raise LayoutError(issues)
    head = data["layout"]
    net = copy.deepcopy(_empty_net())
    net.name, net.f_hz, net.sn_mva = head["name"] or None, head["f_hz"] or 50.0, (
        head["sn_mva"] or 1.0)
    # rows refused in pass 1 (flag "_bad") are skipped by the rules that need their
    # values, so that one run reports every problem without repeating one
    _check_types(net, data, bad)
    _check_references(net, data, bad)
    if issues:
        raise LayoutError(issues)
    _create(net, data)
    _check_connected(data, bad)
    if issues:
        raise LayoutError(issues)
    return net


@functools.cache
def _empty_net() -> Any:
    """Return pandapower's empty net with its standard types, made once (copied for each layout).

    ``create_empty_network`` takes about 0.4 s (pandapower 3.5); a copy about 0.04 s.
    """
    import pandapower as pp  # on first use: start-up time

    return pp.create_empty_network()


# ------------------------------------------------------------------ pass 1: keys
def _parse(raw: Any, bad: Bad) -> dict[str, Any]:
    if not isinstance(raw, dict):
        bad("<file>", "a layout is a table of [layout], [[bus]], [[line]] ... tables")
        return {}
    # the network's own keys stand at the top of the layout (an inline [network.layout]
    # reads best so) or in a [layout] table
    head = {k: v for k, v in raw.items() if k in TABLES["layout"].names}
    known = {"layout", *_TYPE_TABLES, *_ELEMENT_TABLES, *head}
    for key in raw:
        if key not in known:
            bad(key, f"unknown table or key; allowed: {', '.join(sorted(known))}, and "
                     f"{', '.join(TABLES['layout'].names)}")
    if head and "layout" in raw:
        bad(next(iter(head)), "give the network's keys at the top or in [layout], not both")
    data: dict[str, Any] = {"layout": _row(TABLES["layout"], head or raw.get("layout", {}),
                                           "layout" if "layout" in raw else "", bad)}
    for key in _TYPE_TABLES:
        types = raw.get(key, {})
        if not isinstance(types, dict) or any(not isinstance(v, dict) for v in types.values()):
            bad(key, f"must be tables named by the type: [{key}.\"NAME\"]")
            types = {}
        data[key] = {name: _row(TABLES[key], t, f'{key}["{name}"]', bad)
                     for name, t in types.items()}
    for key in _ELEMENT_TABLES:
        rows = raw.get(key, [])
        if not isinstance(rows, list):
            bad(key, f"must be an array of tables, written [[{key}]]")
            rows = []
        data[key] = [_row(TABLES[key], r, f"{key}[{i}]", bad) for i, r in enumerate(rows)]
    if not data["bus"]:
        bad("bus", "a layout needs at least one [[bus]]")
    if not data["ext_grid"]:
        bad("ext_grid", "a layout needs a grid connection: an [[ext_grid]] at the slack bus")
    return data


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _row(table: Table, value: Any, path: str, bad: Bad) -> dict[str, Any]:
    if not isinstance(value, dict):
        bad(path, f"must be a table of keys ({', '.join(table.names)})")
        return {"_bad": True, **{k.name: None for k in table.keys}}
    for k in value:
        if k not in table.names:
            close = difflib.get_close_matches(k, table.names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            bad(_at(path, k), f"unknown key{hint}; allowed: {', '.join(table.names)}")
    out: dict[str, Any] = {"_bad": False}
    for key in table.keys:
        if key.name not in value:
            if key.required:
                unit = f", {key.unit}" if key.unit else ""
                bad(_at(path, key.name), f"missing required key ({key.doc}{unit})")
                out[key.name], out["_bad"] = None, True
            else:
                out[key.name] = key.default
            continue
        out[key.name], problems = key.parse(value[key.name], _at(path, key.name))
        for problem in problems:
            bad(problem.field, problem.message)
            out["_bad"] = True
    return out


# ------------------------------------------------------------ pass 2: references
def _check_types(net: Any, data: dict[str, Any], bad: Bad) -> None:
    """Register the layout's own standard types; they may not shadow pandapower's."""
    import pandapower as pp  # on first use: start-up time

    data["_bad_types"] = set()
    for key, element in _TYPE_TABLES.items():
        for name, t in data[key].items():
            t = {k: v for k, v in t.items() if k != "_bad"}
            if data[key][name]["_bad"]:
                data["_bad_types"].add(name)  # reported; rows using it are not
                continue
            if name in net.std_types[element]:
                bad(f'{key}["{name}"]', f"{name!r} is a type of pandapower's library; give "
                                        "yours another name")
                continue
            if element == "trafo":
                _check_taps(t, f'{key}["{name}"]', bad)
                t = {**t, "trafo_characteristic_table": False}  # as pandapower's own types
            pp.create_std_type(net, {k: v for k, v in t.items() if v is not None}, name,
                               element=element)


def _check_references(net: Any, data: dict[str, Any], bad: Bad) -> None:
    buses: dict[str, int] = {}
    for i, b in enumerate(data["bus"]):
        if b["name"] in buses:
            bad(f"bus[{i}].name",
                f"duplicate bus name {b['name']!r} (also bus[{buses[b['name']]}])")
        elif b["name"] is not None:
            buses[b["name"]] = i
    vn = {name: data["bus"][i]["vn_kv"] for name, i in buses.items()
          if data["bus"][i]["vn_kv"] is not None}

    def bus(path: str, name: str | None) -> bool:
        if name is None or name in buses:
            return name is not None
        close = difflib.get_close_matches(name, list(buses), n=3, cutoff=0.6)
        hint = f"; similar: {', '.join(repr(c) for c in close)}" if close else ""
        bad(path, f"unknown bus {name!r} (the layout has {len(buses)} [[bus]] rows{hint})")
        return False

    slacks: dict[str, int] = {}
    for i, e in enumerate(data["ext_grid"]):
        if bus(f"ext_grid[{i}].bus", e["bus"]):
            if e["bus"] in slacks:
                bad(f"ext_grid[{i}].bus",
                    f"bus {e['bus']!r} already has ext_grid[{slacks[e['bus']]}]")
            slacks[e["bus"]] = i
    _unique(data, "line", bad)
    for i, ln in enumerate(data["line"]):
        row = f"line[{i}]"
        ends = [bus(f"{row}.{k}", ln[k]) for k in ("from_bus", "to_bus")]
        if ln["_bad"]:
            continue
        if all(ends) and ln["from_bus"] in vn and ln["to_bus"] in vn:
            if ln["from_bus"] == ln["to_bus"]:
                bad(f"{row}.to_bus", f"a line from bus {ln['from_bus']!r} to itself")
            elif vn[ln["from_bus"]] != vn[ln["to_bus"]]:
                bad(f"{row}.to_bus", f"voltage-level mismatch: from_bus {ln['from_bus']!r} is "
                                     f"{vn[ln['from_bus']]:g} kV, to_bus {ln['to_bus']!r} is "
                                     f"{vn[ln['to_bus']]:g} kV; join voltage levels with a "
                                     "[[transformer]]")
        _std_or_parameters(net, ln, row, "line", LINE_PARAMETERS, bad, data["_bad_types"])
    _unique(data, "transformer", bad)
    for i, t in enumerate(data["transformer"]):
        row = f"transformer[{i}]"
        ends = [bus(f"{row}.{k}", t[k]) for k in ("hv_bus", "lv_bus")]
        if t["_bad"]:
            continue
        ok = _std_or_parameters(net, t, row, "trafo", TRAFO_PARAMETERS, bad,
                                data["_bad_types"])
        typ = (net.std_types["trafo"][t["std_type"]] if t["std_type"] else t) if ok else None
        if typ is not None:  # else reported: no type or parameters to check taps against
            _check_taps({**typ, **{k.name: t[k.name] for k in TAP_KEYS
                                   if t[k.name] is not None}, "tap_pos": t["tap_pos"]}, row, bad)
        if all(ends) and t["hv_bus"] in vn and t["lv_bus"] in vn:
            _check_windings(t, typ, vn, row, bad)
    _unique(data, "switch", bad)
    _check_switches(data, buses, vn, bus, bad)


def _unique(data: dict[str, Any], table: str, bad: Bad) -> None:
    seen: dict[str, int] = {}
    for i, r in enumerate(data[table]):
        name = r["name"]
        if name is None:
            continue
        if name in seen:
            bad(f"{table}[{i}].name",
                f"duplicate {table} name {name!r} (also {table}[{seen[name]}])")
        seen[name] = i


def _std_or_parameters(net: Any, row: dict[str, Any], path: str, element: str,
                       params: tuple[Any, ...], bad: Bad, skip: set[str]) -> bool:
    """Tell whether the row's electrical data is complete: a known type xor the parameters."""
    std = row["std_type"]
    if std in skip:
        return False
    required = [k.name for k in params if k.default is None and k.name not in
                {"shift_degree", "vector_group"}]
    given = [k.name for k in params if row.get(k.name) is not None]
    table = "line_type" if element == "line" else "trafo_type"
    if std is not None:
        if given:
            bad(f"{path}.{given[0]}", f"give std_type or the parameters, not both (std_type "
                                      f"{std!r} sets {', '.join(given)})")
            return False
        if std not in net.std_types[element]:
            close = difflib.get_close_matches(std, list(net.std_types[element]), n=3,
                                              cutoff=0.5)
            hint = f"; similar: {', '.join(repr(c) for c in close)}" if close else ""
            bad(f"{path}.std_type", f"unknown standard type {std!r}: not in pandapower's "
                                    f"library nor a [{table}] of this layout{hint}")
            return False
        return True
    missing = [k for k in required if row.get(k) is None]
    if missing:
        bad(f"{path}.{missing[0]}", f"missing: give std_type or all of {', '.join(required)} "
                                    f"(missing {', '.join(missing)})")
        return False
    return True


def _check_taps(t: dict[str, Any], path: str, bad: Bad) -> None:
    lo, hi, mid, pos = (t.get(k) for k in ("tap_min", "tap_max", "tap_neutral", "tap_pos"))
    if lo is not None and hi is not None and lo > hi:
        bad(f"{path}.tap_min", f"tap_min {lo} is above tap_max {hi}")
        return
    for key, value in (("tap_neutral", mid), ("tap_pos", pos)):
        if value is not None and lo is not None and hi is not None and not lo <= value <= hi:
            bad(f"{path}.{key}", f"{key} {value} is outside the tap range [{lo}, {hi}]")
    if pos is not None and (lo is None or hi is None):
        bad(f"{path}.tap_pos", "a tap position needs tap_min, tap_max, tap_neutral, "
                               "tap_side and tap_step_percent (here or in the type)")


def _check_windings(t: dict[str, Any], typ: dict[str, Any] | None, vn: dict[str, float],
                    path: str, bad: Bad) -> None:
    hv, lv = vn[t["hv_bus"]], vn[t["lv_bus"]]
    if t["hv_bus"] == t["lv_bus"] or hv == lv:
        bad(f"{path}.lv_bus", f"a transformer between equal voltages: hv_bus {t['hv_bus']!r} "
                              f"and lv_bus {t['lv_bus']!r} are both {hv:g} kV; a connection "
                              "within one voltage level is a [[line]] or a [[switch]]")
        return
    if hv < lv:
        bad(f"{path}.hv_bus", f"hv_bus {t['hv_bus']!r} is {hv:g} kV, below lv_bus "
                              f"{t['lv_bus']!r} at {lv:g} kV; swap them")
        return
    if typ is None:
        return
    for side, bus_kv in (("hv", hv), ("lv", lv)):
        rated = typ[f"vn_{side}_kv"]
        if abs(rated / bus_kv - 1.0) > WINDING_TOLERANCE_PU:
            what = (f"type {t['std_type']!r} has a {rated:g} kV {side.upper()} winding"
                    if t["std_type"] else f"vn_{side}_kv = {rated:g} kV")
            bad(f"{path}.{'std_type' if t['std_type'] else f'vn_{side}_kv'}",
                f"voltage-level mismatch: {what}, but {side}_bus {t[f'{side}_bus']!r} is "
                f"{bus_kv:g} kV (allowed within {WINDING_TOLERANCE_PU:.0%})")


def _check_switches(data: dict[str, Any], buses: dict[str, int], vn: dict[str, float],
                    bus: Callable[[str, str | None], bool], bad: Bad) -> None:
    lines = {r["name"]: r for r in data["line"]}
    trafos = {r["name"]: r for r in data["transformer"]}
    for i, s in enumerate(data["switch"]):
        row = f"switch[{i}]"
        at = bus(f"{row}.bus", s["bus"])
        given = [k for k in ("to_bus", "line", "transformer") if s[k] is not None]
        if len(given) != 1:
            bad(f"{row}.{given[1] if given else 'to_bus'}",
                "give exactly one of to_bus (a bus coupler), line or transformer"
                + (f"; got {', '.join(given)}" if given else ""))
            continue
        if given[0] == "to_bus":
            if bus(f"{row}.to_bus", s["to_bus"]) and at:
                if s["to_bus"] == s["bus"]:
                    bad(f"{row}.to_bus", f"a switch from bus {s['bus']!r} to itself")
                elif s["to_bus"] in vn and s["bus"] in vn and vn[s["to_bus"]] != vn[s["bus"]]:
                    bad(f"{row}.to_bus", f"voltage-level mismatch: bus {s['bus']!r} is "
                                         f"{vn[s['bus']]:g} kV, to_bus {s['to_bus']!r} is "
                                         f"{vn[s['to_bus']]:g} kV")
            continue
        branches, ends = ((lines, ("from_bus", "to_bus")) if given[0] == "line"
                          else (trafos, ("hv_bus", "lv_bus")))
        target = branches.get(s[given[0]])
        if target is None:
            bad(f"{row}.{given[0]}", f"unknown {given[0]} {s[given[0]]!r}")
        elif at and s["bus"] not in (target[ends[0]], target[ends[1]]):
            bad(f"{row}.bus", f"bus {s['bus']!r} is not an end of {given[0]} "
                              f"{s[given[0]]!r} ({target[ends[0]]!r} - {target[ends[1]]!r})")


# ------------------------------------------------------------ pass 3: the net
def _create(net: Any, data: dict[str, Any]) -> None:
    """Create the checked elements in file order (index = row)."""
    import pandapower as pp  # on first use: start-up time

    ids = {b["name"]: i for i, b in enumerate(data["bus"])}
    for i, b in enumerate(data["bus"]):
        pp.create_bus(net, vn_kv=b["vn_kv"], name=b["name"], zone=b["zone"], type=b["type"],
                      in_service=b["in_service"], index=i)
    for i, e in enumerate(data["ext_grid"]):
        extra = {k: e[k] for k in ("s_sc_max_mva", "s_sc_min_mva", "rx_max", "rx_min")
                 if e[k] is not None}
        pp.create_ext_grid(net, ids[e["bus"]], vm_pu=e["vm_pu"], va_degree=e["va_degree"],
                           name=e["name"], in_service=e["in_service"], index=i, **extra)
    for i, ln in enumerate(data["line"]):
        common = dict(name=ln["name"], parallel=ln["parallel"], df=ln["df"],
                      in_service=ln["in_service"], index=i)
        ends = (ids[ln["from_bus"]], ids[ln["to_bus"]], ln["length_km"])
        if ln["std_type"] is not None:
            alpha = net.std_types["line"][ln["std_type"]].get("alpha")
            # pandapower copies alpha from a type only once the column exists: pass it
            pp.create_line(net, *ends, ln["std_type"], **common,
                           **({"alpha": alpha} if alpha is not None else {}))
        else:
            extra = {k: ln[k] for k in ("alpha", "type") if ln[k] is not None}
            pp.create_line_from_parameters(
                net, *ends, **{k.name: ln[k.name] for k in LINE_PARAMETERS},
                g_us_per_km=ln["g_us_per_km"] or 0.0, **common, **extra)
    for i, t in enumerate(data["transformer"]):
        _create_trafo(net, ids, i, t)
    lines = {r["name"]: i for i, r in enumerate(data["line"])}
    trafos = {r["name"]: i for i, r in enumerate(data["transformer"])}
    for i, s in enumerate(data["switch"]):
        et, element = (("b", ids[s["to_bus"]]) if s["to_bus"] is not None else
                       ("l", lines[s["line"]]) if s["line"] is not None else
                       ("t", trafos[s["transformer"]]))
        pp.create_switch(net, ids[s["bus"]], element, et=et, closed=s["closed"],
                         type=s["type"], name=s["name"], index=i)


def _create_trafo(net: Any, ids: dict[str, int], i: int, t: dict[str, Any]) -> None:
    import pandapower as pp  # on first use: start-up time

    common: dict[str, Any] = dict(name=t["name"], parallel=t["parallel"], df=t["df"],
                                  in_service=t["in_service"], index=i, oltc=t["oltc"])
    if t["tap_pos"] is not None:
        common["tap_pos"] = t["tap_pos"]
    hv, lv = ids[t["hv_bus"]], ids[t["lv_bus"]]
    if t["std_type"] is not None:
        pp.create_transformer(net, hv, lv, t["std_type"], **common)
        # taps given in the row override the type's (pandapower's create would not)
        for key in TAP_KEYS:
            if t[key.name] is not None:
                net.trafo.loc[i, key.name] = t[key.name]
        if t["tap_pos"] is None and t["tap_neutral"] is not None:
            net.trafo.loc[i, "tap_pos"] = t["tap_neutral"]
        return
    params = {k.name: t[k.name] for k in (*TRAFO_PARAMETERS, *TAP_KEYS)
              if t[k.name] is not None}
    pp.create_transformer_from_parameters(net, hv, lv, **params, **common)


# ------------------------------------------------------------ pass 4: topology
def _check_connected(data: dict[str, Any], bad: Bad) -> None:
    """Every bus must reach an ext_grid through some line, transformer or switch.

    Switch states and in_service flags do not count here: a bus cut off by an open
    switch is an operating state (``parkgrid network check`` reports it); a bus no
    element reaches at all is a drawing error.
    """
    ids = {b["name"]: i for i, b in enumerate(data["bus"])}
    parent = list(range(len(ids)))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    pairs = [(r["from_bus"], r["to_bus"]) for r in data["line"]]
    pairs += [(r["hv_bus"], r["lv_bus"]) for r in data["transformer"]]
    pairs += [(r["bus"], r["to_bus"]) for r in data["switch"] if r["to_bus"] is not None]
    for a, b in pairs:
        parent[root(ids[a])] = root(ids[b])
    supplied = {root(ids[e["bus"]]) for e in data["ext_grid"]}
    islands: dict[int, list[int]] = {}
    for i in ids.values():
        if root(i) not in supplied:
            islands.setdefault(root(i), []).append(i)
    for members in islands.values():
        first = members[0]
        names = [data["bus"][i]["name"] for i in members]
        more = f" and {len(names) - 1} more ({', '.join(map(repr, names[1:4]))}" + (
            ", ..." if len(names) > 4 else "") + ")" if len(names) > 1 else ""
        bad(f"bus[{first}].name", f"bus {names[0]!r}{more} is an island: no line, "
                                  "transformer or switch connects it to an [[ext_grid]]")
