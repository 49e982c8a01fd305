"""The one result type, and writing it to a folder atomically."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandapower as pp
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from parkgrid.errors import ResultExistsError

__all__ = ["Result", "scenario_hash"]


def _version() -> str:
    try:
        return metadata.version("parkgrid")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a checkout
        return "0+unknown"


def scenario_hash(scenario: Any) -> str:
    """SHA-256 over the normalised scenario, its profile values and its network."""
    h = hashlib.sha256()
    h.update(json.dumps(scenario.data, sort_keys=True, default=list).encode())
    if scenario.profiles is not None:
        h.update(pd.util.hash_pandas_object(scenario.profiles, index=True).to_numpy().tobytes())
    if scenario.net is not None:
        h.update(pp.to_json(scenario.net).encode())
    return h.hexdigest()


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


@dataclass
class Result:
    """Outcome of :func:`parkgrid.simulate`.

    Attributes
    ----------
    scenario:
        The validated scenario that was run.
    timeseries:
        Per-step results indexed by period-beginning timestamp (see README for columns).
    kpis:
        KPI name -> value (units and definitions in ``parkgrid.kpis.KPI_INFO``).
    network:
        Power-flow results (``TimeseriesPF``) of the steps solved, or ``None``.
    timings:
        Wall times of the pipeline stages [s].
    """

    scenario: Any
    timeseries: pd.DataFrame
    kpis: dict[str, float]
    network: Any = None
    timings: dict[str, float] = field(default_factory=dict)

    def metadata(self) -> dict[str, str]:
        """Provenance stored with every saved file."""
        return {
            "parkgrid_version": _version(),
            "scenario_name": str(self.scenario.name),
            "scenario_hash": scenario_hash(self.scenario),
            "seed": str(self.scenario.seed),
            "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def kpi_table(self) -> pd.DataFrame:
        """KPIs as a table with units and definitions."""
        from parkgrid.kpis import KPI_INFO

        rows = [(k, v, *KPI_INFO.get(k, ("", ""))) for k, v in self.kpis.items()]
        return pd.DataFrame(rows, columns=["kpi", "value", "unit", "definition"]).set_index("kpi")

    def save(self, directory: str | Path, *, overwrite: bool = False, figure: bool = True) -> Path:
        """Write the result folder; nothing half-written is ever left at *directory*.

        Everything is written into a temporary sibling folder first and renamed
        into place at the end. An existing *directory* raises
        :class:`~parkgrid.errors.ResultExistsError` unless ``overwrite=True``.
        """
        target = Path(directory)
        if target.exists() and not overwrite:
            raise ResultExistsError(
                f"{target} already exists; choose another folder or pass --overwrite"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        holder = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        # mkdtemp makes its folder private (0o700); the folder renamed into place is
        # made with a plain mkdir inside it so it gets the user's usual permissions
        tmp = holder / target.name
        try:
            tmp.mkdir()
            self._write(tmp, figure=figure)
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
                os.replace(target, old / "x")
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
        finally:
            shutil.rmtree(holder, ignore_errors=True)
        return target

    def _write(self, folder: Path, *, figure: bool) -> None:
        meta = self.metadata()
        _write_parquet(self.timeseries, folder / "timeseries.parquet", meta)
        kpis = {k: _json_value(v) for k, v in self.kpis.items()}
        (folder / "kpis.json").write_text(json.dumps(
            {"metadata": meta, "kpis": kpis, "timings_s": self.timings}, indent=2) + "\n")
        (folder / "scenario.json").write_text(
            json.dumps(self.scenario.data, indent=2, default=list) + "\n")
        src = Path(self.scenario.source)
        if src.is_file():
            shutil.copyfile(src, folder / "scenario.toml")
        if self.network is not None:
            net_dir = folder / "network"
            net_dir.mkdir()
            for name in ("vm_pu", "va_degree", "line_loading_percent", "trafo_loading_percent",
                         "line_p_from_mw"):
                frame = getattr(self.network, name, None)
                if frame is not None:
                    _write_parquet(frame.rename(columns=str), net_dir / f"{name}.parquet", meta)
            summary = pd.DataFrame({
                "losses_mw": self.network.losses_mw,
                "converged": self.network.converged,
                "iterations": self.network.iterations,
            })
            for name in ("ext_grid_p_mw", "ext_grid_q_mvar"):
                frame = getattr(self.network, name)
                summary[name] = frame.sum(axis=1) if isinstance(frame, pd.DataFrame) else frame
            _write_parquet(summary, net_dir / "steps.parquet", meta)
        if figure:
            from parkgrid.plotting import dispatch_figure

            dispatch_figure(self).savefig(folder / "dispatch.png", dpi=110)


def _write_parquet(frame: pd.DataFrame, path: Path, meta: dict[str, str]) -> None:
    table = pa.Table.from_pandas(frame)
    merged = {**(table.schema.metadata or {}),
              **{f"parkgrid.{k}".encode(): v.encode() for k, v in meta.items()}}
    pq.write_table(table.replace_schema_metadata(merged), path, compression="zstd")
