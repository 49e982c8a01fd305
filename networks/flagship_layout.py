"""Write the flagship park network as a layout file (parkgrid README, "Drawing a park").

Usage::

    python networks/flagship_layout.py [OUT.toml]

Builds the net of ``build_flagship.py`` and writes ``networks/flagship_park.toml`` (or
``OUT.toml``): the same buses, lines, transformers, switches and grid connection as
TOML tables, with the standard types the net uses. ``tests/test_layout.py`` checks that
the committed file is what this writes, and that reading it gives the element tables
and the power flow of ``flagship_park.json``. After changing the builder, run both.
Deterministic: the same builder gives the same bytes.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "flagship_park.toml"

HEADER = '''\
# The flagship park network as a layout (parkgrid README, "Drawing a park").
#
# Written by networks/flagship_layout.py from networks/build_flagship.py, which also
# writes networks/flagship_park.json: tests/test_layout.py checks that this file gives
# the same element tables and the same power flow (1e-9 pu) as that JSON file.
# Sizes, ratings and the sources of the type data: networks/README.md.
#
#   Grid 220 kV (ext_grid) - HV 220kV - T1, T2 (220/35 kV, tap -2)
#   - Substation 35kV | bus coupler | Substation 35kV section II
#   - PV, wind, battery, electrolyser and factory feeders (35 kV), factories 35/10 kV
#
# Rows are inline tables, one a line; TOML wants such top-level arrays before the
# first [table] header, so [layout] and the standard types come last.
'''


def _value(x: Any) -> str:
    if isinstance(x, str):
        return json.dumps(x, ensure_ascii=False)
    if isinstance(x, bool):
        return "true" if x else "false"
    return repr(x)


def _row(d: dict[str, Any]) -> str:
    return "  { " + ", ".join(f"{k} = {_value(x)}" for k, x in d.items()) + " },"


def layout_text(net: Any) -> str:
    """Return the layout file of *net* (buses, lines, trafos, switches, one ext_grid)."""
    bus = net.bus["name"]
    out = [HEADER]
    eg = net.ext_grid.iloc[0]
    grid = {"name": eg["name"], "bus": bus[eg.bus], "vm_pu": float(eg.vm_pu),
            "va_degree": float(eg.va_degree)}
    grid.update({k: float(eg[k]) for k in ("s_sc_max_mva", "s_sc_min_mva", "rx_max", "rx_min")})
    out += ["# ---- the grid connection (slack); short-circuit data for short-circuit studies only",
            "ext_grid = [", _row(grid), "]", "",
            "# ---- buses: name, nominal voltage, zone (rows in this order give pandapower's "
            "indices)", "bus = ["]
    out += [_row({"name": b["name"], "vn_kv": float(b.vn_kv), "zone": b.zone})
            for _, b in net.bus.iterrows()]
    out += ["]", "", "# ---- transformers (tap_side hv; tap -2 raises the 35 kV side, +1 lowers "
            "the 10 kV side)", "transformer = ["]
    for _, t in net.trafo.iterrows():
        row = {"name": t["name"], "hv_bus": bus[t.hv_bus], "lv_bus": bus[t.lv_bus],
               "std_type": t.std_type}
        if t.parallel != 1:
            row["parallel"] = int(t.parallel)
        row["tap_pos"] = int(t.tap_pos)
        if bool(t.get("oltc", False)):
            row["oltc"] = True
        out.append(_row(row))
    out += ["]", "", "# ---- lines: PV collector cables, wind cable entries and overhead sections, "
            "station and", "# factory feeders; parallel = circuits of the section", "line = ["]
    out += [_row({"name": ln["name"], "from_bus": bus[ln.from_bus], "to_bus": bus[ln.to_bus],
                  "length_km": float(ln.length_km), "std_type": ln.std_type,
                  "parallel": int(ln.parallel)}) for _, ln in net.line.iterrows()]
    out += ["]", "", "# ---- switches (all closed circuit breakers): the bus coupler, the main "
            "transformers'", "# breakers, each feeder's head breaker and the factories' 10 kV "
            "incomers", "switch = ["]
    for _, s in net.switch.iterrows():
        row = {"name": s["name"], "bus": bus[s.bus]}
        if s.et == "b":
            row["to_bus"] = bus[s.element]
        else:
            key, table = ("line", "line") if s.et == "l" else ("transformer", "trafo")
            row[key] = net[table].at[s.element, "name"]
        if not bool(s.closed):
            row["closed"] = False
        out.append(_row(row))
    out += ["]", "", "[layout]", f"name = {_value(net.name)}", f"f_hz = {float(net.f_hz)!r}",
            f"sn_mva = {float(net.sn_mva)!r}", "",
            "# ---- standard types (pandapower's library has no 35 kV or 220/35 kV types)"]
    for element, key in (("line", "line_type"), ("trafo", "trafo_type")):
        for name, typ in net.std_types[element].items():
            if name in set(net[element]["std_type"]):
                out.append(f"[{key}.{_value(name)}]")
                out += [f"{k} = {_value(x)}" for k, x in typ.items()
                        if k != "trafo_characteristic_table"]
                out.append("")
    return "\n".join(out)


def _builder() -> Any:
    spec = importlib.util.spec_from_file_location("_parkgrid_build_flagship",
                                                  HERE / "build_flagship.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    """Write the layout of the flagship network to ``argv[0]`` or the default."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(args[0]) if args else DEFAULT_OUT
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(layout_text(_builder().build()), encoding="utf-8")
    tmp.replace(out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
