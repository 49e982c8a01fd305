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
from pathlib import Path
from typing import Any

import pandapower as pp
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from parkgrid._version import __version__
from parkgrid.errors import ResultExistsError

__all__ = ["Result", "scenario_hash"]


def _version() -> str:
    return __version__  # the code that ran, also from a checkout (not what pip installed)


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
    provenance:
        Metadata read back with the result (:func:`parkgrid.load_result`); ``None``
        for a fresh result, whose metadata is computed when saved.
    """

    scenario: Any
    timeseries: pd.DataFrame
    kpis: dict[str, float]
    network: Any = None
    timings: dict[str, float] = field(default_factory=dict)
    provenance: dict[str, str] | None = None

    def metadata(self) -> dict[str, str]:
        """Provenance stored with every saved file (kept as read for a loaded result)."""
        if self.provenance:
            return dict(self.provenance)
        return {
            "parkgrid_version": _version(),
            "scenario_name": str(self.scenario.name),
            "scenario_hash": scenario_hash(self.scenario),
            "seed": str(self.scenario.seed),
            "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def kpi_table(self) -> pd.DataFrame:
        """KPIs as a table with units and definitions, plus target and pass/fail columns.

        ``target`` reads e.g. ``>= 0.5`` for a KPI the scenario's ``[targets]`` sets,
        ``status`` is ``pass``/``fail`` there and empty elsewhere.
        """
        from parkgrid.kpis import KPI_INFO
        from parkgrid.report.targets import check_targets

        checks = {c.kpi: c for c in check_targets(getattr(self.scenario, "targets", ()),
                                                   self.kpis)}
        rows = [(k, v, *KPI_INFO.get(k, ("", "")),
                 checks[k].text if k in checks else "",
                 checks[k].status if k in checks else "") for k, v in self.kpis.items()]
        return pd.DataFrame(rows, columns=["kpi", "value", "unit", "definition", "target",
                                           "status"]).set_index("kpi")

    def save(self, directory: str | Path, *, overwrite: bool = False, figure: bool = True,
             report: bool = False, float32: bool = False) -> Path:
        """Write the result folder; nothing half-written is ever left at *directory*.

        ``report=True`` adds the self-contained ``report.html``; ``float32=True``
        stores the per-bus and per-line power-flow tables as 32-bit floats.

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
            self._write(tmp, figure=figure, report=report, float32=float32)
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

    def _write(self, folder: Path, *, figure: bool, report: bool = False,
               float32: bool = False) -> None:
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
            from parkgrid.io import write_network

            write_network(self.network, folder / "network", meta, float32=float32)
        if figure:
            from parkgrid.plotting import dispatch_figure

            dispatch_figure(self).savefig(folder / "dispatch.png", dpi=110)
        if report:
            from parkgrid.report import write_report

            write_report(self, folder / "report.html")


def _write_parquet(frame: pd.DataFrame, path: Path, meta: dict[str, str]) -> None:
    table = pa.Table.from_pandas(frame)
    merged = {**(table.schema.metadata or {}),
              **{f"parkgrid.{k}".encode(): v.encode() for k, v in meta.items()}}
    pq.write_table(table.replace_schema_metadata(merged), path, compression="zstd")
