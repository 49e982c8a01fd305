"""The main pipeline: scenario -> dispatch -> time series -> KPIs -> power flow -> Result.

Each stage is a function of :mod:`parkgrid.stages`; this module only runs them
in order and times them.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from parkgrid.inputs import asset_power_mw
from parkgrid.kpis import network_kpis
from parkgrid.profiles import localize_index
from parkgrid.result import Result
from parkgrid.scenario import Scenario, load_scenario
from parkgrid.stages import dispatch_stage, kpi_stage, powerflow_stage, timeseries_frame
from parkgrid.timeseries import select_pf_steps

__all__ = ["simulate"]

log = logging.getLogger(__name__)


def simulate(
    scenario: Scenario | str | Path, *, pf_steps: str | tuple[int, ...] | None = None,
    progress: bool = False,
) -> Result:
    """Simulate *scenario* (a validated Scenario or a TOML path) for its whole year.

    Parameters
    ----------
    scenario:
        The scenario or the path of its TOML file.
    pf_steps:
        Overrides ``powerflow.steps`` of the scenario (see
        :func:`parkgrid.timeseries.select_pf_steps`).
    progress:
        Show progress bars on long work.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    assert scenario.profiles is not None
    # results carry the park's fixed-offset zone; the profiles stay on its wall clock
    index = localize_index(scenario.profiles.index, scenario.utc_offset_h)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    run = dispatch_stage(scenario, asset_power_mw(scenario))
    ts = timeseries_frame(scenario, run, index)
    timings["dispatch_s"] = time.perf_counter() - t0
    t = time.perf_counter()
    kpis = kpi_stage(scenario, run, ts)
    timings["kpis_s"] = time.perf_counter() - t

    t1 = time.perf_counter()
    steps = select_pf_steps(scenario.pf_steps if pf_steps is None else pf_steps, index)
    pf = powerflow_stage(scenario, run, ts, steps, progress=progress)
    if pf is not None:
        kpis.update(network_kpis(pf, dt_h=float(run.inputs.dt_h)))
        timings["powerflow_s"] = time.perf_counter() - t1
        log.info("power flow: %d steps in %.2f s", len(steps), timings["powerflow_s"])
    timings["total_s"] = time.perf_counter() - t0
    return Result(scenario=scenario, timeseries=ts, kpis=kpis, network=pf, timings=timings)
