"""Grids and profiles for the benchmarks: SimBench grids and replicated feeders.

Used by the suite's synthetic cases and by ``benchmarks/bench_powerflow.py``.
simbench (the ``test`` and ``bench`` extras) is imported when a grid is built.
"""

from __future__ import annotations

import copy

import numpy as np
import pandapower as pp
import pandas as pd

__all__ = ["replicate", "simbench_case"]


def simbench_case(code: str) -> tuple[pp.pandapowerNet, dict]:
    """SimBench grid *code* and its absolute profiles of the year (non-empty tables only)."""
    import simbench as sb  # optional dependency (extras test, bench)

    net = sb.get_simbench_net(code)
    prof = {k: v for k, v in sb.get_absolute_values(net, True).items() if v.shape[1]}
    return net, prof


def replicate(net: pp.pandapowerNet, prof: dict, copies: int) -> tuple[pp.pandapowerNet, dict]:
    """Return ``copies`` copies of *net* fed from the first copy's slack bus.

    Each extra copy's ext_grid is removed and its slack bus joined to the first
    copy's slack bus by a closed bus-bus switch (pandapower fuses the two), so the
    copies' transformers all hang off one slack. Copy k's profiles are the original
    ones rolled by 7 k steps, so the copies are not identical in time.
    """
    out = copy.deepcopy(net)
    slack = int(net.ext_grid.bus.iloc[0])
    off = {t: int(net[t].index.max()) + 1 if len(net[t]) else 0
           for t in ("bus", "line", "trafo", "load", "sgen", "switch")}
    tables = {t: [out[t]] for t in off}
    new_prof = {k: [v] for k, v in prof.items()}
    for c in range(1, copies):
        o = {t: off[t] * c for t in off}
        bus = net.bus.copy()
        bus.index += o["bus"]
        tables["bus"].append(bus)
        line = net.line.copy()
        line.index += o["line"]
        line[["from_bus", "to_bus"]] += o["bus"]
        tables["line"].append(line)
        trafo = net.trafo.copy()
        trafo.index += o["trafo"]
        trafo[["hv_bus", "lv_bus"]] += o["bus"]
        tables["trafo"].append(trafo)
        for t in ("load", "sgen"):
            tab = net[t].copy()
            tab.index += o[t]
            tab["bus"] += o["bus"]
            tables[t].append(tab)
        sw = net.switch.copy()
        sw.index += o["switch"]
        sw["bus"] += o["bus"]
        et_off = sw.et.map({"b": o["bus"], "l": o["line"], "t": o["trafo"]}).fillna(0)
        sw["element"] = (sw["element"] + et_off).astype(np.int64)
        tables["switch"].append(sw)
        tables["switch"].append(pd.DataFrame(
            [{**net.switch.iloc[0].to_dict(), "bus": slack, "element": slack + o["bus"],
              "et": "b", "closed": True, "name": f"copy {c} coupler", "z_ohm": 0.0}],
            index=[off["switch"] * copies + c]))
        for (element, column), frame in prof.items():
            f = pd.DataFrame(np.roll(frame.to_numpy(), 7 * c, axis=0), index=frame.index,
                             columns=frame.columns + o[element])
            new_prof[(element, column)].append(f)
    for t, parts in tables.items():
        out[t] = pd.concat(parts)
    # one float block per frame: parkgrid then reads the values without a copy
    merged = {}
    for k, parts in new_prof.items():
        cols = pd.Index(np.concatenate([np.asarray(f.columns) for f in parts]))
        merged[k] = pd.DataFrame(np.concatenate([f.to_numpy() for f in parts], axis=1),
                                 index=parts[0].index, columns=cols)
    return out, merged
