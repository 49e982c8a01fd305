"""Result folders on disk: network tables, reading a folder back, CSV export.

A results folder (written by :meth:`parkgrid.result.Result.save`) holds Parquet
tables whose schema metadata carries the provenance (``parkgrid.parkgrid_version``,
``parkgrid.scenario_hash``, ``parkgrid.seed``, ``parkgrid.created_utc``), the KPIs
in ``kpis.json`` and the scenario as run in ``scenario.json``. :func:`load_result`
reads such a folder back into the same :class:`~parkgrid.result.Result` type;
:func:`export_csv` writes plain CSV copies that any tool can read.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from parkgrid.errors import ParkgridError, ResultExistsError
from parkgrid.network import read_network_file

__all__ = ["NETWORK_FRAMES", "export_csv", "load_result", "read_metadata", "write_network"]

NETWORK_FRAMES = ("vm_pu", "va_degree", "line_loading_percent", "line_p_from_mw",
                  "trafo_loading_percent", "trafo3w_loading_percent", "ext_grid_p_mw",
                  "ext_grid_q_mvar")
"""Time x element frames of a :class:`~parkgrid.powerflow.TimeseriesPF`, one file each."""

_STEP_SERIES = ("losses_mw", "converged", "iterations", "mismatch_pu", "method",
                "unsupplied_buses", "unsupplied_load_mw", "unsupplied_gen_mw")
NET_JSON = "net.json"
"""The park network as run (pandapower JSON) inside a results folder's ``network/``."""
ELEMENTS = "elements.parquet"
"""Element names of the network results: columns ``table``, ``index``, ``name``."""
_META_PREFIX = "parkgrid."


def write_parquet(frame: pd.DataFrame, path: Path, meta: dict[str, str]) -> None:
    """Write *frame* to *path* (zstd) with *meta* as ``parkgrid.*`` schema metadata."""
    table = pa.Table.from_pandas(frame)
    merged = {**(table.schema.metadata or {}),
              **{f"{_META_PREFIX}{k}".encode(): str(v).encode() for k, v in meta.items()}}
    pq.write_table(table.replace_schema_metadata(merged), path, compression="zstd")


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """Provenance stored in a parkgrid Parquet file (``parkgrid_version``, ``scenario_hash`` …)."""
    meta = pq.read_schema(path).metadata or {}
    return {k.decode()[len(_META_PREFIX):]: v.decode() for k, v in meta.items()
            if k.decode().startswith(_META_PREFIX)}


def write_network(pf: Any, folder: Path, meta: dict[str, str], *, float32: bool = False) -> None:
    """Write the power-flow results *pf* (a ``TimeseriesPF``) into *folder*.

    One Parquet file per time x element frame (columns are the pandapower element
    indices as strings), ``elements.parquet`` naming them (``table``, ``index``,
    ``name``: pandapower names may repeat or be missing, the index is the key) and
    ``steps.parquet`` with the per-step series (unsupplied buses as a list of bus
    indices per step) and the slack exchange summed over ext_grids.
    ``float32=True`` stores value columns as
    32-bit floats (about 7 significant digits: 1e-7 pu on voltages), which halves
    the size of a full year of a large network.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name in NETWORK_FRAMES:
        frame = getattr(pf, name, None)
        if not isinstance(frame, pd.DataFrame):
            continue
        frame = frame.rename(columns=str)
        if float32:
            frame = frame.astype(np.float32)
        write_parquet(frame, folder / f"{name}.parquet", meta)
    steps = pd.DataFrame({name: getattr(pf, name) for name in _STEP_SERIES
                          if getattr(pf, name, None) is not None})
    for name in ("ext_grid_p_mw", "ext_grid_q_mvar"):
        frame = getattr(pf, name)
        steps[name] = frame.sum(axis=1) if isinstance(frame, pd.DataFrame) else frame
    if "method" in steps:
        steps["method"] = steps["method"].astype(str)
    if "unsupplied_buses" in steps:
        steps["unsupplied_buses"] = [list(map(int, b)) for b in steps["unsupplied_buses"]]
    write_parquet(steps, folder / "steps.parquet", meta)
    names = getattr(pf, "names", {}) or {}
    if names:
        write_parquet(element_table(names), folder / ELEMENTS, meta)
    info = {k: (v if isinstance(v, int | float | str | bool) or v is None else str(v))
            for k, v in getattr(pf, "info", {}).items()}
    (folder / "info.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")


def element_table(names: dict[str, pd.Series]) -> pd.DataFrame:
    """``TimeseriesPF.names`` as one long table: ``table``, ``index``, ``name``."""
    rows = [(table, int(i), str(n)) for table, ser in names.items() for i, n in ser.items()]
    return pd.DataFrame(rows, columns=["table", "index", "name"]).astype(
        {"table": str, "index": np.int64, "name": str})


def _names_from_table(frame: pd.DataFrame) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    for table, part in frame.groupby("table", sort=False):
        out[str(table)] = pd.Series(part["name"].astype(str).to_numpy(dtype=object),
                                    index=pd.Index(part["index"].to_numpy(np.int64),
                                                   name=str(table)),
                                    dtype=object, name="name")
    return out


def _int_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Element indices were stored as strings; give them back as integers."""
    cols = [str(c) for c in frame.columns]
    if all(c.lstrip("-").isdigit() for c in cols):  # also an empty table (no trafo3w)
        frame.columns = pd.Index([int(c) for c in cols], dtype=np.int64,
                                 name=frame.columns.name)
    return frame


def _with_freq(frame: pd.DataFrame) -> pd.DataFrame:
    """Restore the regular frequency that Parquet does not store."""
    idx = frame.index
    if isinstance(idx, pd.DatetimeIndex) and len(idx) > 2:
        freq = pd.infer_freq(idx)
        if freq is not None:
            frame.index = pd.DatetimeIndex(idx, freq=freq)
    return frame


def _read_network(folder: Path) -> Any:
    from parkgrid.powerflow import TimeseriesPF

    steps = _with_freq(pd.read_parquet(folder / "steps.parquet"))
    frames: dict[str, pd.DataFrame] = {}
    for name in NETWORK_FRAMES:
        path = folder / f"{name}.parquet"
        if path.is_file():
            frames[name] = _with_freq(_int_columns(pd.read_parquet(path)))
        elif name.startswith("ext_grid") and name in steps:
            frames[name] = steps[[name]].rename(columns={name: 0})
        else:
            frames[name] = pd.DataFrame(index=steps.index)
    n = len(steps)
    info_path = folder / "info.json"
    elements = folder / ELEMENTS
    unsupplied = {}
    if "unsupplied_buses" in steps:
        unsupplied["unsupplied_buses"] = pd.Series(
            [tuple(int(b) for b in v) for v in steps["unsupplied_buses"]], index=steps.index,
            dtype=object, name="unsupplied_buses")
    for name in ("unsupplied_load_mw", "unsupplied_gen_mw"):
        if name in steps:
            unsupplied[name] = steps[name]
    return TimeseriesPF(
        **frames,
        losses_mw=steps["losses_mw"],
        converged=steps["converged"].astype(bool),
        iterations=(steps["iterations"] if "iterations" in steps
                    else pd.Series(np.zeros(n, dtype=np.int64), index=steps.index)),
        mismatch_pu=(steps["mismatch_pu"] if "mismatch_pu" in steps
                     else pd.Series(np.full(n, np.nan), index=steps.index)),
        method=(steps["method"] if "method" in steps
                else pd.Series([""] * n, index=steps.index, dtype=object)),
        info=json.loads(info_path.read_text()) if info_path.is_file() else {},
        names=_names_from_table(pd.read_parquet(elements)) if elements.is_file() else {},
        **unsupplied,
    )


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def load_result(directory: str | os.PathLike[str]) -> Any:
    """Read a results folder written by ``Result.save`` back into a ``Result``.

    The time series, KPIs, timings and power-flow results come back as saved; the
    scenario is rebuilt from ``scenario.json`` without loading its network or
    profiles again (``scenario.net`` and ``scenario.profiles`` are ``None``), and
    the stored provenance is kept (``result.metadata()`` returns it). The park
    network as run (``network/net.json``) becomes ``result.net``, read through
    :func:`parkgrid.network.read_network_file`, which refuses a file that would
    run code.

    Raises
    ------
    ParkgridError
        If *directory* is not a results folder (the message says which file is
        missing or unreadable).
    NetworkError
        If ``network/net.json`` is not a pandapower network or names modules a
        network never contains (the message names the key path and the module).
    """
    from parkgrid.result import Result
    from parkgrid.scenario import scenario_from_dict

    folder = Path(directory)
    if not folder.is_dir():
        raise ParkgridError(f"{folder}: not a results folder (no such directory)")
    for name in ("timeseries.parquet", "kpis.json", "scenario.json"):
        if not (folder / name).is_file():
            raise ParkgridError(f"{folder}: not a results folder ({name} is missing)")
    try:
        ts = _with_freq(pd.read_parquet(folder / "timeseries.parquet"))
        meta = read_metadata(folder / "timeseries.parquet")
        stored = json.loads((folder / "kpis.json").read_text())
        data = json.loads((folder / "scenario.json").read_text())
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ParkgridError(f"{folder}: cannot read results folder: {exc}") from exc
    kpis = {k: (float("nan") if v is None else float(v))
            for k, v in stored.get("kpis", {}).items()}
    toml = folder / "scenario.toml"
    source = str(toml if toml.is_file() else folder / "scenario.json")
    scenario = scenario_from_dict(_strip_none(data), source=source, base_dir=folder,
                                  resolve=False)
    network = _read_network(folder / "network") if (folder / "network" / "steps.parquet"
                                                     ).is_file() else None
    net_json = folder / "network" / NET_JSON
    net = read_network_file(net_json) if net_json.is_file() else None
    return Result(scenario=scenario, timeseries=ts, kpis=kpis, network=network, net=net,
                  timings={k: float(v) for k, v in stored.get("timings_s", {}).items()},
                  provenance=meta or stored.get("metadata"))


def export_csv(
    source: Any, directory: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write a result (or a results folder) as plain CSV files into *directory*.

    Files: ``timeseries.csv`` (ISO timestamps with the ``+08:00`` offset of local
    standard time), ``kpis.csv`` (kpi, value, unit, definition), ``metadata.json``
    (provenance) and, with power-flow results, ``network_<frame>.csv`` (columns are
    pandapower indices) and ``network_elements.csv`` (table, index, name).
    """
    from parkgrid.profiles import LOCAL_TZ

    result = load_result(source) if isinstance(source, str | os.PathLike) else source
    out = Path(directory)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ResultExistsError(f"{out} already exists and is not empty; pass overwrite=True")
    out.mkdir(parents=True, exist_ok=True)

    def local(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        if isinstance(frame.index, pd.DatetimeIndex) and frame.index.tz is None:
            frame.index = frame.index.tz_localize(LOCAL_TZ)
        frame.index = pd.Index(
            [t.isoformat() if isinstance(t, pd.Timestamp) else t for t in frame.index],
            name="timestamp")
        return frame

    local(result.timeseries).to_csv(out / "timeseries.csv", float_format="%.10g")
    table = result.kpi_table()
    table["value"] = [None if isinstance(v, float) and math.isnan(v) else v
                      for v in table["value"]]
    table.to_csv(out / "kpis.csv")
    (out / "metadata.json").write_text(json.dumps(result.metadata(), indent=2) + "\n")
    if result.network is not None:
        for name in NETWORK_FRAMES:
            frame = getattr(result.network, name, None)
            if isinstance(frame, pd.DataFrame) and frame.shape[1]:
                local(frame).to_csv(out / f"network_{name}.csv", float_format="%.10g")
        if result.network.names:
            element_table(result.network.names).to_csv(out / "network_elements.csv",
                                                       index=False)
    return out
