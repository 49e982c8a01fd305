"""Buses a power flow cannot supply: found, measured and reported the same way on every path.

A bus in service with no path to an in-service ext_grid (its lines out, a switch
open) has no voltage: pandapower and the kernels leave NaN there. That is never
silent in parkgrid: every time-series power flow names such buses in a
:class:`UnsuppliedBusWarning` with the load and generation they carry, records them
per step in the result (``unsupplied_buses``, ``unsupplied_load_mw``,
``unsupplied_gen_mw``), and raises instead when asked (``raise_on_unsupplied``).

Which buses: :func:`parkgrid.network.unsupplied_buses` (pandapower's topology, the
function scenario validation uses); the kernel path reads the same set from
pandapower's own connectivity check (buses its conversion dropped), at no cost,
and ``tests/test_unsupplied.py`` checks that the two agree.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.errors import PowerFlowError
from parkgrid.powerflow._profiles import ProfileSet

__all__ = ["UnsuppliedBusWarning", "bus_injections", "report_unsupplied", "unsupplied_series"]

#: element tables whose power is counted at an unsupplied bus, and the sign that
#: turns their ``p_mw`` into consumption (+) or generation (-)
_TABLES = (("load", 1.0), ("storage", 1.0), ("sgen", -1.0), ("gen", -1.0))
_SHOWN = 10


class UnsuppliedBusWarning(UserWarning):
    """Buses in service have no connection to the grid: their voltages are NaN."""


def bus_injections(net: Any, prof: ProfileSet, buses: Iterable[int],
                   pos: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load and generation at *buses* per step [MW]: two arrays (steps x buses).

    Load is ``p_mw x scaling`` of in-service loads plus charging storage;
    generation that of in-service sgens and gens plus discharging storage.
    Profiled values replace the static ones in the steps *pos* of *prof*
    (default: all steps).
    """
    bus_list = [int(b) for b in buses]
    n = len(prof.index) if pos is None else len(pos)
    load = np.zeros((n, len(bus_list)))
    gen = np.zeros((n, len(bus_list)))
    if not bus_list:
        return load, gen
    col_of = {b: j for j, b in enumerate(bus_list)}
    for table, sign in _TABLES:
        if table not in net or not len(net[table]):
            continue
        tab = net[table]
        at = tab["bus"].isin(bus_list).to_numpy() & tab["in_service"].to_numpy(dtype=bool)
        if not at.any():
            continue
        idx = tab.index[at]
        scaling = (tab.loc[idx, "scaling"].to_numpy(dtype=float) if "scaling" in tab
                   else np.ones(len(idx)))
        p = np.broadcast_to(tab.loc[idx, "p_mw"].to_numpy(dtype=float), (n, len(idx))).copy()
        key = (table, "p_mw")
        if key in prof.columns:
            cols = pd.Index(prof.columns[key]).get_indexer(idx)
            have = cols >= 0
            values = prof.values[key] if pos is None else prof.values[key][pos]
            p[:, have] = values[:, cols[have]]
        p = p * scaling * sign
        target = np.array([col_of[int(b)] for b in tab.loc[idx, "bus"]], dtype=np.int64)
        for k, j in enumerate(target):
            load[:, j] += np.maximum(p[:, k], 0.0)
            gen[:, j] += np.maximum(-p[:, k], 0.0)
    return load, gen


def unsupplied_series(index: pd.Index, buses: Iterable[int], load: np.ndarray,
                      gen: np.ndarray) -> dict[str, pd.Series]:
    """Return the per-step fields of :class:`~parkgrid.powerflow.TimeseriesPF` for one topology."""
    names = tuple(sorted(int(b) for b in buses))
    n = len(index)
    per_step = np.empty(n, dtype=object)
    per_step.fill(names)  # one shared tuple; a list of n tuples took ~10 ms a year
    return {
        "unsupplied_buses": pd.Series(per_step, index=index, name="unsupplied_buses"),
        "unsupplied_load_mw": pd.Series(load.sum(axis=1) if load.size else np.zeros(n),
                                        index=index, name="unsupplied_load_mw"),
        "unsupplied_gen_mw": pd.Series(gen.sum(axis=1) if gen.size else np.zeros(n),
                                       index=index, name="unsupplied_gen_mw"),
    }


def report_unsupplied(net: Any, buses: Iterable[int], load: np.ndarray, gen: np.ndarray,
                      *, raise_on_unsupplied: bool = False, stacklevel: int = 3) -> None:
    """Warn (or raise :class:`~parkgrid.errors.PowerFlowError`) naming unsupplied buses.

    Each bus is named with its pandapower index and name and the largest load and
    generation it carries over the steps [MW]. Nothing happens when *buses* is empty.
    """
    bus_list = [int(b) for b in buses]
    if not bus_list:
        return
    parts = []
    for j, b in enumerate(bus_list[:_SHOWN]):
        name = net.bus.at[b, "name"] if "name" in net.bus else None
        shown = "" if name is None or (not isinstance(name, str) and pd.isna(name)) else str(name)
        label = f"bus {b}" + (f" {shown!r}" if shown else "")
        lmax = float(load[:, j].max()) if len(load) else 0.0
        gmax = float(gen[:, j].max()) if len(gen) else 0.0
        parts.append(f"{label} (load up to {lmax:.6g} MW, generation up to {gmax:.6g} MW)"
                     if lmax or gmax else f"{label} (no load or generation)")
    more = f" and {len(bus_list) - _SHOWN} more" if len(bus_list) > _SHOWN else ""
    total = float(load.sum(axis=1).max()) if load.size else 0.0
    msg = (f"{len(bus_list)} bus{'es' if len(bus_list) != 1 else ''} in service "
           f"{'have' if len(bus_list) != 1 else 'has'} no connection to an in-service "
           f"ext_grid and cannot be supplied: {'; '.join(parts)}{more}; up to {total:.6g} MW "
           "of load is not served by the network")
    if raise_on_unsupplied:
        raise PowerFlowError(msg)
    warnings.warn(msg + "; their voltages are NaN, listed per step in result.unsupplied_buses",
                  UnsuppliedBusWarning, stacklevel=stacklevel)
