"""Run a sweep on ``dask.distributed``: a local cluster or an existing scheduler.

Output folder::

    DIR/parts/<key>.parquet   one row per finished scenario, written as it arrives
    DIR/sweep.parquet         the tidy table (parameters + status + KPIs), atomic
    DIR/pareto.png            the Pareto figure of the sweep's objectives
    DIR/sweep.json            the sweep as run: spec, counts, timings, versions

The client keeps the scenario list and writes every finished row at once, so an
interrupted sweep loses at most the scenarios in flight; ``resume=True`` skips the
scenarios whose row says ``ok`` (failed ones are tried again).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from parkgrid._version import __version__
from parkgrid.errors import ParkgridError, ResultExistsError
from parkgrid.scenario import scenario_from_dict
from parkgrid.sweep.pareto import pareto_figure, pareto_mask
from parkgrid.sweep.spec import SweepSpec, scenario_key
from parkgrid.sweep.worker import SharedBase, run_one

__all__ = ["SweepOutcome", "load_shared_base", "plan", "read_parts", "run_sweep"]

_PARTS = "parts"


@dataclass(frozen=True)
class SweepOutcome:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    table:
        The tidy result table, one row per scenario of the sweep.
    directory:
        The output folder.
    n_run, n_skipped, n_failed:
        Scenarios run now, skipped (already done, on resume), failed (in the table).
    wall_s:
        Wall time of running the scenarios [s] (cluster start-up excluded).
    """

    table: pd.DataFrame
    directory: Path
    n_run: int
    n_skipped: int
    n_failed: int
    wall_s: float


def plan(spec: SweepSpec) -> list[tuple[str, int, dict[str, Any]]]:
    """Scenarios of *spec* as ``(key, number, parameters)``; keys are stable."""
    return [(scenario_key(spec.base_raw, p), i, p) for i, p in enumerate(spec.scenarios())]


def load_shared_base(spec: SweepSpec) -> SharedBase:
    """Validate the base scenario once and load its network and profiles."""
    base = scenario_from_dict(spec.base_raw, source=str(spec.base_path),
                              base_dir=spec.base_path.parent)
    assert base.profiles is not None
    scale = frozenset(p.path for p in spec.parameters if p.scale)
    return SharedBase(raw=spec.base_raw, source=str(spec.base_path),
                      base_dir=spec.base_path.parent, net=base.net, profiles=base.profiles,
                      scale=scale)


def read_parts(directory: Path) -> pd.DataFrame:
    """All rows written so far into ``DIR/parts`` (empty frame if none)."""
    parts = sorted((directory / _PARTS).glob("*.parquet"))
    if not parts:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def _write_atomic_parquet(frame: pd.DataFrame, path: Path, meta: dict[str, str]) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    merged = {**(table.schema.metadata or {}),
              **{f"parkgrid.{k}".encode(): v.encode() for k, v in meta.items()}}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table.replace_schema_metadata(merged), tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_atomic_text(text: str, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


@contextmanager
def _client(scheduler: str | None, n_workers: int | None) -> Iterator[Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ParkgridError("sweeps run on dask.distributed, which is not installed: "
                            "pip install 'dask[distributed]'") from None

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    n = n_workers or os.cpu_count() or 1
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def _prepare_dir(directory: Path, *, resume: bool, overwrite: bool) -> None:
    if directory.exists() and any(directory.iterdir()) and not (resume or overwrite):
        raise ResultExistsError(f"{directory} already exists; pass --resume to continue that "
                                "sweep or --overwrite to start again")
    if overwrite and not resume and (directory / _PARTS).is_dir():
        for p in (directory / _PARTS).glob("*.parquet"):
            p.unlink()
    (directory / _PARTS).mkdir(parents=True, exist_ok=True)


def run_sweep(
    spec: SweepSpec, directory: str | Path, *, client: Any = None, scheduler: str | None = None,
    n_workers: int | None = None, resume: bool = False, overwrite: bool = False,
    progress: bool = False, figure: bool = True, batch: int = 1,
) -> SweepOutcome:
    """Run every scenario of *spec* on dask and write the output folder.

    Parameters
    ----------
    spec:
        The validated sweep (see :func:`parkgrid.sweep.load_sweep`).
    directory:
        Output folder; an existing non-empty one needs *resume* or *overwrite*.
    client:
        A ``dask.distributed.Client`` to use (then *scheduler* and *n_workers* are
        ignored).
    scheduler:
        Address of an existing scheduler, e.g. ``tcp://10.0.0.1:8786``.
    n_workers:
        Without *client* and *scheduler*: single-threaded worker processes of the
        ``LocalCluster`` started for the sweep (default: all cores).
    resume:
        Skip the scenarios already written with status ``ok``.
    overwrite:
        Discard what *directory* holds and start again.
    progress:
        Show a progress bar over scenarios.
    figure:
        Write ``pareto.png``.
    batch:
        Scenarios per dask task: 1 on a few workers; more on big clusters, where
        hundreds of sub-second tasks per second would keep the scheduler busy.
    """
    out = Path(directory)
    _prepare_dir(out, resume=resume, overwrite=overwrite)
    todo_all = plan(spec)
    done = read_parts(out) if resume else pd.DataFrame()
    done_ok = set(done.loc[done["status"] == "ok", "key"]) if len(done) else set()
    todo = [t for t in todo_all if t[0] not in done_ok]
    meta = {"parkgrid_version": __version__, "sweep_name": spec.name,
            "sweep_source": spec.source}

    t0 = time.perf_counter()
    if todo:
        shared = load_shared_base(spec)
        if client is not None:
            _run_on(client, shared, todo, out, meta, progress, max(1, batch))
        else:
            with _client(scheduler, n_workers) as c:
                t0 = time.perf_counter()  # cluster start-up is not the sweep's time
                _run_on(c, shared, todo, out, meta, progress, max(1, batch))
    wall = time.perf_counter() - t0

    table = _final_table(out, todo_all)

    ok = (table["status"] == "ok").to_numpy()
    front = pd.Series(False, index=table.index)
    if ok.any():
        front[ok] = pareto_mask(table[ok], spec.objectives)
    table["pareto_optimal"] = front.to_numpy()
    if figure and (table["status"] == "ok").any():

        fig = pareto_figure(table, spec.objectives, title=spec.name)
        fd, tmp = tempfile.mkstemp(prefix=".pareto.", suffix=".png", dir=out)
        os.close(fd)
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, out / "pareto.png")
    _write_atomic_parquet(table, out / "sweep.parquet", meta)
    n_failed = int((table["status"] != "ok").sum())
    info = {
        "name": spec.name, "source": spec.source, "base": str(spec.base_path),
        "sampling": spec.sampling, "samples": spec.samples, "seed": spec.seed,
        "set": spec.fixed, "parameters": [p.__dict__ for p in spec.parameters],
        "objectives": list(spec.objectives), "n_scenarios": len(todo_all),
        "n_run": len(todo), "n_skipped": len(todo_all) - len(todo), "n_failed": n_failed,
        "wall_s": wall, "finished_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **meta,
    }
    _write_atomic_text(json.dumps(info, indent=2, default=list) + "\n", out / "sweep.json")
    return SweepOutcome(table=table, directory=out, n_run=len(todo),
                        n_skipped=len(todo_all) - len(todo), n_failed=n_failed, wall_s=wall)


#: up to this many workers the shared base is pushed to every worker at once; on
#: bigger clusters it is put on one worker and workers fetch it from each other
#: on first use, so the client does not send thousands of copies itself
_BROADCAST_MAX_WORKERS = 32


def _run_batch(base: SharedBase, items: list[tuple[str, int, dict[str, Any]]]
               ) -> list[dict[str, Any]]:
    """Run several scenarios in one task (fewer tasks for the scheduler on big clusters)."""
    return [run_one(base, key, number, params) for key, number, params in items]


def _run_on(client: Any, shared: SharedBase, todo: list[tuple[str, int, dict[str, Any]]],
            out: Path, meta: dict[str, str], progress: bool, batch: int) -> None:
    from dask.distributed import as_completed
    from tqdm.auto import tqdm

    n_workers = len(client.scheduler_info().get("workers", {}))
    # the network and profiles travel once per worker; tasks carry only parameters
    base_future = client.scatter(shared, broadcast=n_workers <= _BROADCAST_MAX_WORKERS,
                                 hash=False)
    chunks = [todo[i:i + batch] for i in range(0, len(todo), batch)]
    futures = {client.submit(_run_batch, base_future, chunk,
                             key=f"parkgrid-scenarios-{chunk[0][0]}-{len(chunk)}",
                             pure=False): chunk
               for chunk in chunks}
    bar = tqdm(total=len(todo), unit="scenario", disable=not progress, desc="sweep")
    try:
        for fut in as_completed(list(futures)):
            try:
                rows = fut.result()
            except Exception as exc:  # the worker died or the task was lost
                rows = [{"key": key, "scenario": number, **params, "status": "failed",
                         "error": f"{type(exc).__name__}: {exc}", "wall_s": float("nan"),
                         "cpu_s": float("nan")}
                        for key, number, params in futures[fut]]
            for row in rows:
                _write_atomic_parquet(pd.DataFrame([row]),
                                      out / _PARTS / f"{row['key']}.parquet", meta)
                if row["status"] != "ok":
                    bar.set_postfix_str(f"failed: scenario {row['scenario']}")
            bar.update(len(rows))
    finally:
        bar.close()
        for fut in futures:
            fut.release()


def _final_table(out: Path, todo_all: list[tuple[str, int, dict[str, Any]]]) -> pd.DataFrame:
    """One row per planned scenario, in plan order; parameters, status, KPIs."""
    parts = read_parts(out)
    keys = [k for k, _, _ in todo_all]
    if parts.empty:
        raise ParkgridError(f"{out}: no scenario finished")
    parts = parts[parts["key"].isin(keys)].drop_duplicates("key", keep="last")
    order = {k: i for i, k in enumerate(keys)}
    table = parts.assign(_o=parts["key"].map(order)).sort_values("_o").drop(columns="_o")
    missing = [k for k in keys if k not in set(table["key"])]
    if missing:
        raise ParkgridError(f"{out}: {len(missing)} of {len(keys)} scenarios have no result; "
                            "run again with --resume")
    first = ["key", "scenario", *todo_all[0][2].keys(), "status", "error", "wall_s", "cpu_s"]
    rest = [c for c in table.columns if c not in first]
    return table[first + rest].reset_index(drop=True)
