"""The one result type: what a run gives, saving it, reading it back, CSV export.

:class:`Result` is what :func:`parkgrid.simulate` returns; :meth:`Result.save`
writes a results folder atomically, :func:`load_result` reads one back into an
equal :class:`Result`, :func:`export_csv` writes plain CSV copies that any tool
can read. The file formats themselves are :mod:`parkgrid.io`'s.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from parkgrid import plotting
from parkgrid import report as reports
from parkgrid._version import __version__
from parkgrid.errors import ParkgridError, ResultExistsError
from parkgrid.io import (
    NET_JSON,
    NETWORK_FRAMES,
    atomic_folder,
    element_table,
    read_metadata,
    read_network,
    with_freq,
    write_network,
    write_parquet,
)
from parkgrid.kpis import KPI_INFO
from parkgrid.netcache import LiteNet
from parkgrid.network import build_park_net, park_elements, read_network_file, screen_network_json
from parkgrid.profiles import local_tz
from parkgrid.report.work import FigureJob, FigureWork
from parkgrid.scenario import scenario_from_dict

__all__ = ["Result", "export_csv", "load_result", "scenario_hash"]


def scenario_hash(scenario: Any) -> str:
    """SHA-256 over the normalised scenario, its profile values and its network."""
    h = hashlib.sha256()
    h.update(json.dumps(scenario.data, sort_keys=True, default=list).encode())
    if scenario.profiles is not None:
        h.update(pd.util.hash_pandas_object(scenario.profiles, index=True).to_numpy().tobytes())
    if scenario.net is not None:
        h.update(_net_json(scenario.net).encode())
    return h.hexdigest()


def _to_json(net: Any) -> str:
    import pandapower as pp  # on first use: start-up time

    return str(pp.to_json(net))


def _net_json(net: Any) -> str:
    """Return pandapower's JSON text of *net*; of a cached net, as stored when cached."""
    if not isinstance(net, LiteNet):
        return _to_json(net)
    return _cached_text(net, "net.json", lambda: _to_json(net.real()))


def _cached_text(net: LiteNet, name: str, make: Any) -> str:
    """Text file *name* of *net*'s cache entry, made by *make* (and stored) if missing.

    The text is a pandapower network: screened as any network file is
    (:func:`~parkgrid.network.screen_network_json`); one that fails is made again.
    """
    entry = net.entry
    text = entry.read_text(name) if entry is not None else None
    if text is not None:
        try:
            screen_network_json(text, name)
            return text
        except ParkgridError:
            pass
    text = str(make())
    if entry is not None:
        entry.write_text(name, text)
    return text


def _park_net_json(scenario: Any) -> str:
    """Return pandapower's JSON text of the park network (net and one element per asset).

    For a cached net it comes from the cache, keyed by the elements added.
    """
    net = scenario.net
    if not isinstance(net, LiteNet):
        return _to_json(build_park_net(scenario).net)
    spec = json.dumps([[t, v] for _, t, v in park_elements(scenario)], sort_keys=True)
    name = f"park-{hashlib.sha256(spec.encode()).hexdigest()[:32]}.json"
    return _cached_text(net, name, lambda: _to_json(build_park_net(scenario).net))


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
    net:
        The park network as run (pandapower net with one element per asset), as
        read back from ``network/net.json``; ``None`` for a fresh result, whose
        :meth:`park_net` builds it from the scenario.
    """

    scenario: Any
    timeseries: pd.DataFrame
    kpis: dict[str, float]
    network: Any = None
    timings: dict[str, float] = field(default_factory=dict)
    provenance: dict[str, str] | None = None
    net: Any = None

    def park_net(self) -> Any:
        """Return the park network as run: the scenario's network with one element per asset.

        Lines that events took out of service in some steps are in service here
        (their steps are solved on their own topology). ``None`` when neither the
        result nor its scenario carries a network.
        """
        if self.net is not None:
            return self.net
        if getattr(self.scenario, "net", None) is None:
            return None
        return build_park_net(self.scenario).net

    def metadata(self) -> dict[str, str]:
        """Provenance stored with every saved file (kept as read for a loaded result)."""
        if self.provenance:
            return dict(self.provenance)
        return {
            # the code that ran, also from a checkout (not what pip installed)
            "parkgrid_version": __version__,
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
        checks = {c.kpi: c for c in reports.check_targets(getattr(self.scenario, "targets", ()),
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
        with atomic_folder(directory, overwrite=overwrite) as tmp:
            self._write(tmp, figure=figure, report=report, float32=float32)
        return Path(directory)

    def _write(self, folder: Path, *, figure: bool, report: bool = False,
               float32: bool = False) -> None:
        # each part is timed into self.timings, so kpis.json, written last, records
        # where the time of the whole command went (issue 17). The tables are written
        # while the figures are drawn: where a core is idle, by a forked worker while
        # this process writes the tables, then by both (parkgrid.report.work); else by
        # this process while a thread writes the tables (Arrow's encoding and file
        # writes release the GIL). The parts' own times are marked "(parallel)", and
        # write_files_s is the wall time of them all together.
        timings = self.timings
        t = time.perf_counter()
        meta = self.metadata()
        timings["write_metadata_s"] = time.perf_counter() - t
        t_files = time.perf_counter()
        tables: dict[str, float] = {}
        pngs: list[bytes] = []
        if not (figure or report):  # no figure: matplotlib is never imported
            self._write_tables(folder, meta, float32, tables)
        else:
            work = FigureWork(lambda: self._figure_jobs(dispatch=figure, report=report))
            work.start()  # the fork, before any thread starts
            if work.forked:  # the worker draws while this process writes, then both draw
                self._write_tables(folder, meta, float32, tables)
                t = time.perf_counter()
                pngs = work.finish()
                tables["write_figures_s"] = time.perf_counter() - t
            else:
                with ThreadPoolExecutor(1) as pool:
                    writing = pool.submit(self._write_tables, folder, meta, float32, tables)
                    t = time.perf_counter()
                    pngs = work.finish()
                    tables["write_figures_s"] = time.perf_counter() - t
                    writing.result()
        if figure:
            (folder / "dispatch.png").write_bytes(pngs.pop(0))
        timings["write_files_s"] = time.perf_counter() - t_files
        timings.update({f"{k} (parallel)": v for k, v in tables.items()})
        if report:
            t = time.perf_counter()
            reports.write_report(self, folder / "report.html", metadata=meta, images=pngs)
            timings["write_report_s"] = time.perf_counter() - t
        kpis = {k: _json_value(v) for k, v in self.kpis.items()}
        (folder / "kpis.json").write_text(json.dumps(
            {"metadata": meta, "kpis": kpis, "timings_s": timings}, indent=2) + "\n")

    def _figure_jobs(self, *, dispatch: bool, report: bool) -> list[FigureJob]:
        """List the folder's figures: the dispatch figure first, then the report's."""
        jobs: list[FigureJob] = []
        if dispatch:
            jobs.append((lambda: plotting.dispatch_figure(self), 110, plotting.DRAW_RC))
        if report:
            jobs += reports.report_figure_jobs(reports.report_figure_specs(self)[0])
        return jobs

    def _write_tables(self, folder: Path, meta: dict[str, str], float32: bool,
                      timings: dict[str, float]) -> None:
        """Write the time series, the scenario and the network results and files."""
        t = time.perf_counter()
        write_parquet(self.timeseries, folder / "timeseries.parquet", meta)
        (folder / "scenario.json").write_text(
            json.dumps(self.scenario.data, indent=2, default=list) + "\n")
        src = Path(self.scenario.source)
        if src.is_file():
            shutil.copyfile(src, folder / "scenario.toml")
        timings["write_timeseries_s"] = time.perf_counter() - t
        if self.network is None:
            return
        t = time.perf_counter()
        write_network(self.network, folder / "network", meta, float32=float32)
        timings["write_network_s"] = time.perf_counter() - t
        # the network those results belong to, for anyone to open in pandapower
        t = time.perf_counter()
        if self.net is not None:
            text = _to_json(self.net)
        elif getattr(self.scenario, "net", None) is not None:
            text = _park_net_json(self.scenario)
        else:
            text = None
        if text is not None:
            (folder / "network" / NET_JSON).write_text(text)
        timings["write_net_json_s"] = time.perf_counter() - t


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def load_result(directory: str | os.PathLike[str]) -> Result:
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
    folder = Path(directory)
    if not folder.is_dir():
        raise ParkgridError(f"{folder}: not a results folder (no such directory)")
    for name in ("timeseries.parquet", "kpis.json", "scenario.json"):
        if not (folder / name).is_file():
            raise ParkgridError(f"{folder}: not a results folder ({name} is missing)")
    try:
        ts = with_freq(pd.read_parquet(folder / "timeseries.parquet"))
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
    network = read_network(folder / "network") if (folder / "network" / "steps.parquet"
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

    Files: ``timeseries.csv`` (ISO timestamps with the offset of the park's local
    standard time, e.g. ``+08:00``; ``[scenario] utc_offset_h``), ``kpis.csv`` (kpi,
    value, unit, definition), ``metadata.json`` (provenance) and, with power-flow
    results, ``network_<frame>.csv`` (columns are pandapower indices) and
    ``network_elements.csv`` (table, index, name).
    """
    result = load_result(source) if isinstance(source, str | os.PathLike) else source
    out = Path(directory)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ResultExistsError(f"{out} already exists and is not empty; pass overwrite=True")
    out.mkdir(parents=True, exist_ok=True)
    zone = local_tz(getattr(result.scenario, "utc_offset_h", 8.0))

    def local(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        if isinstance(frame.index, pd.DatetimeIndex) and frame.index.tz is None:
            frame.index = frame.index.tz_localize(zone)  # a result saved before zones
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
