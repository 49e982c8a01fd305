"""The main pipeline: scenario -> dispatch -> time series -> KPIs -> power flow -> Result.

Each stage is a function of :mod:`parkgrid.stages`; this module only runs them
in order and times them.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

from parkgrid.enforce import apply_enforcement, enforce_stage
from parkgrid.inputs import asset_power_mw
from parkgrid.kpis import network_kpis
from parkgrid.lifecycle import Reference, evaluate_lifecycle
from parkgrid.profiles import localize_index
from parkgrid.result import Result
from parkgrid.scenario import Scenario, load_scenario
from parkgrid.stages import (
    carbon_stage,
    dispatch_stage,
    kpi_stage,
    powerflow_stage,
    statcom_kpis,
    timeseries_frame,
)
from parkgrid.timeseries import select_pf_steps

__all__ = ["simulate"]

GRID_ONLY = "grid_only"

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
    reference = _reference(scenario)
    kpis = kpi_stage(scenario, run, ts, reference=reference)
    timings["kpis_s"] = time.perf_counter() - t

    t1 = time.perf_counter()
    steps = select_pf_steps(scenario.pf_steps if pf_steps is None else pf_steps, index)
    if scenario.pf_enforce:  # network-aware dispatch: curtail where the grid's limits break
        line_out = run.events.line_out if run.events is not None else {}
        pf, enf = enforce_stage(scenario, line_out, ts, steps, progress=progress)
        if enf is not None:
            ts = apply_enforcement(ts, enf)
            kpis = kpi_stage(scenario, run, ts, reference=reference)
            kpis["network_enforced_steps"] = float(enf.touched_steps)
            kpis["network_unresolved_steps"] = float(len(enf.unresolved))
    else:
        pf = powerflow_stage(scenario, run, ts, steps, progress=progress)
    if pf is not None:
        kpis.update(network_kpis(pf, dt_h=float(run.inputs.dt_h)))
        kpis.update(statcom_kpis(scenario, pf, dt_h=float(run.inputs.dt_h)))
        timings["powerflow_s"] = time.perf_counter() - t1
        log.info("power flow: %d steps in %.2f s", len(steps), timings["powerflow_s"])
    # carbon accounting last: network-aware curtailment changes imports and exports
    t = time.perf_counter()
    ts = carbon_stage(scenario, ts, kpis, dt_h=float(run.inputs.dt_h))
    timings["kpis_s"] += time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0
    return Result(scenario=scenario, timeseries=ts, kpis=kpis, network=pf, timings=timings)


def _reference(scenario: Scenario) -> Reference | None:
    """Simulate the design ``economics.reference`` names, when it names a scenario file.

    The reference's dispatch year is simulated without power flow; its costs are
    discounted with the design's ``[economics]`` (its own section, and its own
    reference, are not used). ``None`` for the grid-only reference or without
    ``[economics]``.
    """
    econ = scenario.economics
    if econ is None or econ.reference == GRID_ONLY:
        return None
    path = Path(econ.reference)
    ref = load_scenario(path if path.is_absolute() else scenario.base_dir / path)
    ref = dataclasses.replace(ref, economics=None)
    assert ref.profiles is not None
    index = localize_index(ref.profiles.index, ref.utc_offset_h)
    run = dispatch_stage(ref, asset_power_mw(ref))
    ts = timeseries_frame(ref, run, index)
    kpis = kpi_stage(ref, run, ts)
    lc = evaluate_lifecycle(ref, ts, kpis, economics=econ)
    co2 = float(kpis.get("co2_total_t", kpis.get("co2_t", 0.0)))
    return Reference(ref.name, lc.flows, co2)
