"""The files of a results folder: Parquet with provenance, network tables, atomic folders.

A results folder (written by :meth:`parkgrid.result.Result.save`, read back by
:func:`parkgrid.result.load_result`) holds Parquet tables whose schema metadata
carries the provenance (``parkgrid.parkgrid_version``, ``parkgrid.scenario_hash``,
``parkgrid.seed``, ``parkgrid.created_utc``). This module knows the file formats
and nothing of :class:`~parkgrid.result.Result`; :func:`atomic_folder` is the one
way parkgrid writes a folder (results, assessments): all or nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from parkgrid.errors import ResultExistsError
from parkgrid.powerflow import TimeseriesPF
from parkgrid.profiles import local_tz

__all__ = [
    "ELEMENTS",
    "NETWORK_FRAMES",
    "NET_JSON",
    "atomic_folder",
    "element_table",
    "read_metadata",
    "read_network",
    "with_freq",
    "write_network",
    "write_parquet",
]

NETWORK_FRAMES = ("vm_pu", "va_degree", "line_loading_percent", "line_p_from_mw",
                  "trafo_loading_percent", "trafo3w_loading_percent", "ext_grid_p_mw",
                  "ext_grid_q_mvar")
"""Time x element frames of a :class:`~parkgrid.powerflow.TimeseriesPF`, one file each."""

_STEP_SERIES = ("losses_mw", "converged", "iterations", "mismatch_pu", "method",
                "unsupplied_buses", "unsupplied_load_mw", "unsupplied_gen_mw")
NET_JSON = "net.json"
"""The park network as run (pandapower JSON) inside a results folder's ``network/``."""
CONTROL = "control.parquet"
"""Per-step voltage-controller results: ``tap_pos.<trafo>``, ``tap_moves.<trafo>``,
``q_mvar.<table>.<index>``, ``control_settled``, ``control_solves``."""
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
    control = _control_table(pf)
    if control is not None:
        write_parquet(control, folder / CONTROL, meta)
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


def with_freq(frame: pd.DataFrame) -> pd.DataFrame:
    """Restore the regular frequency that Parquet does not store, and the zone type.

    Parquet keeps a fixed offset as ``+08:00``, which pyarrow reads back as a pytz
    offset; it becomes the ``datetime.timezone`` that simulations use again.
    """
    idx = frame.index
    if isinstance(idx, pd.DatetimeIndex) and idx.tz is not None and len(idx):
        offset = idx[0].utcoffset()
        if offset is not None and idx[-1].utcoffset() == offset:  # a fixed offset
            idx = idx.tz_convert(local_tz(offset.total_seconds() / 3600.0))
            frame.index = idx
    if isinstance(idx, pd.DatetimeIndex) and len(idx) > 2:
        freq = pd.infer_freq(idx)
        if freq is not None:
            frame.index = pd.DatetimeIndex(idx, freq=freq)
    return frame


def _control_table(pf: Any) -> pd.DataFrame | None:
    """Return the controller fields of *pf* as one flat table (``None`` without controls)."""
    if getattr(pf, "control_settled", None) is None:
        return None
    cols: dict[str, Any] = {}
    for name in ("tap_pos", "tap_moves"):
        for trafo, values in getattr(pf, name).items():
            cols[f"{name}.{int(trafo)}"] = values
    for (table, index), values in pf.q_control_mvar.items():
        cols[f"q_mvar.{table}.{int(index)}"] = values
    cols["control_settled"] = pf.control_settled
    cols["control_solves"] = pf.control_solves
    return pd.DataFrame(cols, index=pf.control_settled.index)


def _control_fields(folder: Path) -> dict[str, Any]:
    """:func:`_control_table` read back into the ``TimeseriesPF`` fields."""
    path = folder / CONTROL
    if not path.is_file():
        return {}
    t = with_freq(pd.read_parquet(path))
    out: dict[str, Any] = {}
    for name in ("tap_pos", "tap_moves"):
        sel = [c for c in t.columns if c.startswith(name + ".")]
        out[name] = t[sel].set_axis(pd.Index([int(c.split(".")[1]) for c in sel],
                                             name="trafo"), axis=1)
    sel = [c for c in t.columns if c.startswith("q_mvar.")]
    out["q_control_mvar"] = t[sel].set_axis(pd.MultiIndex.from_tuples(
        [(c.split(".")[1], int(c.split(".")[2])) for c in sel], names=["table", "index"]),
        axis=1)
    out["control_settled"] = t["control_settled"].astype(bool)
    out["control_solves"] = t["control_solves"]
    return out


def read_network(folder: Path) -> TimeseriesPF:
    """Power-flow results written by :func:`write_network` back into a ``TimeseriesPF``."""
    steps = with_freq(pd.read_parquet(folder / "steps.parquet"))
    frames: dict[str, pd.DataFrame] = {}
    for name in NETWORK_FRAMES:
        path = folder / f"{name}.parquet"
        if path.is_file():
            frames[name] = with_freq(_int_columns(pd.read_parquet(path)))
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
        **_control_fields(folder),
    )


@contextmanager
def atomic_folder(directory: str | os.PathLike[str], *, overwrite: bool = False,
                  hint: str = "choose another folder or pass --overwrite") -> Iterator[Path]:
    """Write a folder all at once: yield an empty temporary sibling, rename it at the end.

    Nothing half-written is ever left at *directory*: if the ``with`` block raises,
    the temporary folder is removed and *directory* is untouched. An existing
    *directory* raises :class:`~parkgrid.errors.ResultExistsError` (the message ends
    with *hint*) unless ``overwrite=True``, in which case it is replaced at the end.
    """
    target = Path(directory)
    if target.exists() and not overwrite:
        raise ResultExistsError(f"{target} already exists; {hint}")
    target.parent.mkdir(parents=True, exist_ok=True)
    holder = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    # mkdtemp makes its folder private (0o700); the folder renamed into place is
    # made with a plain mkdir inside it so it gets the user's usual permissions
    tmp = holder / target.name
    try:
        tmp.mkdir()
        yield tmp
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / "x")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        shutil.rmtree(holder, ignore_errors=True)
