"""What runs on a worker: one scenario from the shared base plus its overrides.

The base scenario's network and profile table are loaded once on the client and
shipped to every worker once (:class:`SharedBase`); a task carries only its
parameter values, builds its scenario from the base dictionary and returns one
small row of KPIs. Nothing is read from disk per scenario.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from parkgrid.errors import ScenarioError
from parkgrid.scenario import Scenario, scenario_from_dict
from parkgrid.simulate import simulate
from parkgrid.sweep.spec import apply_overrides

__all__ = ["SharedBase", "build_scenario", "run_one"]


@dataclass(frozen=True)
class SharedBase:
    """Everything every scenario of a sweep shares, shipped to each worker once.

    Attributes
    ----------
    raw:
        The base scenario dictionary (TOML structure) with the sweep's fixed settings.
    source:
        The base scenario file (named in error messages).
    base_dir:
        Its folder (relative paths of the scenario are resolved from it).
    net:
        The loaded pandapower network (never mutated: simulate works on a copy).
    profiles:
        The per-unit profile table of the year.
    scale:
        Parameter paths that multiply the base value rather than replace it.
    numba_threads:
        Threads the power-flow kernels may use in one task. One per task by
        default: a sweep's parallelism is across scenarios (one worker process per
        core), and nested kernel threads would oversubscribe the cores.
    """

    raw: dict[str, Any]
    source: str
    base_dir: Path
    net: Any
    profiles: pd.DataFrame
    scale: frozenset[str] = frozenset()
    numba_threads: int = 1


def build_scenario(raw: dict[str, Any], base: SharedBase) -> Scenario:
    """Validate *raw* against the already loaded network and profiles of *base*.

    :func:`parkgrid.scenario.scenario_from_dict` with the shared network and
    profiles, so a sweep scenario is validated exactly like a scenario file, but
    nothing is read again (a sweep cannot vary their sources).
    """
    return scenario_from_dict(raw, source=base.source, base_dir=base.base_dir, net=base.net,
                              profiles=base.profiles)


def run_one(base: SharedBase, key: str, number: int, params: dict[str, Any]) -> dict[str, Any]:
    """Simulate one scenario of a sweep; never raises, a failure becomes the row's status.

    Returns
    -------
    dict
        ``key``, ``scenario`` (its number), the parameter values, ``status``
        (``"ok"`` or ``"failed"``), ``error`` (empty when ok), ``wall_s``, ``cpu_s``
        (CPU time of the worker process) and the KPIs.
    """
    import numba


    threads = numba.get_num_threads()  # restored below: run_one may run in the caller
    numba.set_num_threads(max(1, min(base.numba_threads,
                                     getattr(numba.config, "NUMBA_NUM_THREADS", 1))))
    t0, c0 = time.perf_counter(), time.process_time()
    row: dict[str, Any] = {"key": key, "scenario": number, **params}
    try:
        raw = apply_overrides(base.raw, params, scale=base.scale)
        result = simulate(build_scenario(raw, base))
        row.update(status="ok", error="")
        kpis = {k: float(v) for k, v in result.kpis.items()}
    except Exception as exc:  # a failing scenario is recorded, never stops the sweep
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
        msg = str(exc) if isinstance(exc, ScenarioError) else f"{exc}{where}"
        row.update(status="failed", error=f"{type(exc).__name__}: {msg}")
        kpis = {}
    finally:
        numba.set_num_threads(threads)
    row["wall_s"] = time.perf_counter() - t0
    row["cpu_s"] = time.process_time() - c0
    row.update(kpis)
    return row
