"""Event engine benchmark (issues 4 and 16): flagship years with events and fleets.

Scenarios: examples/flagship_events.toml (with and without its [trucks] depot)
and examples/flagship_fleet.toml (two depots, a swap station and a hydrogen
station, ~128,000 truck visits). Times, in one process on the same inputs:
- parkgrid's engine (SimPy events + numba kernel), median of 30 warm runs;
- the pure-Python step-by-step reference of tests/reference_engine.py, median
  of 5 runs;
and prints the event count, wall and process CPU times and the ratios. The
machine may be shared: the 1-minute load average is printed with the results.
Not a test: run it as ``python benchmarks/bench_engine.py [SCENARIO.toml]``.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import parkgrid  # noqa: E402
from parkgrid.engine import run_engine  # noqa: E402
from parkgrid.engine.build import plan_engine  # noqa: E402
from parkgrid.inputs import asset_power_mw  # noqa: E402


def _timed(fn):
    """Wall and process CPU time of one call, and its result."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def time_engine(scenario, plan, spec, repeats):
    """Warm runs of the engine: the event count, the grid import and loads of the last
    run (copies), the cold time and the (wall, CPU) times of the warm runs.

    Nothing else of a result outlives the function: with one variant's whole result
    still alive, the next variant's runs took 2-4 ms longer (9.5 -> 11.8-13.3 ms,
    whichever variant came second), as its arrays then came from fresh pages.
    """

    def once():
        return run_engine(plan.inputs, scenario.strategy, spec, hour_of_step=plan.hour,
                          prices=plan.prices, valley=plan.valley)

    cold, _, eng = _timed(once)  # includes loading the numba cache (or compiling)
    times = []
    for _ in range(repeats):
        eng = None  # freed before the next run, as a caller's loop would
        wall, cpu, eng = _timed(once)
        times.append((wall, cpu))
    return (eng.n_events, eng.dispatch.grid_import_mw.copy(), eng.load_mw.copy(), cold,
            times)


def time_reference(scenario, plan, spec, imp, load, ref_repeats):
    """Runs of the reference: its (wall, CPU) times and the largest import difference."""
    from reference_engine import reference_run

    ref_times = []
    for _ in range(ref_repeats):
        wall, cpu, ref = _timed(lambda: reference_run(plan.inputs, scenario.strategy, spec,
                                                      prices=plan.prices, hour=plan.hour))
        ref_times.append((wall, cpu))
    diff = max(float(np.max(np.abs(imp - np.asarray(ref["imp"])))),
               float(np.max(np.abs(load - ref["load_mw"]))))
    return ref_times, diff


def _median(pairs, i):
    return statistics.median(p[i] for p in pairs)


def main(path: str = "", repeats: int = 30, ref_repeats: int = 5) -> None:
    """Benchmark *path*, or (default) the events and the fleet flagship years."""
    if path:
        bench_file(path, repeats, ref_repeats)
        return
    bench_file(str(ROOT / "examples" / "flagship_events.toml"), repeats, ref_repeats)
    bench_file(str(ROOT / "examples" / "flagship_fleet.toml"), repeats, 3)


def bench_file(path: str, repeats: int, ref_repeats: int) -> None:
    """Engine against reference on one scenario (and without its [trucks] depot)."""
    scenario = parkgrid.load_scenario(path)
    powers = asset_power_mw(scenario)
    t0 = time.perf_counter()
    plan = plan_engine(scenario, powers)
    t_plan = time.perf_counter() - t0
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}, load average {os.getloadavg()[0]:.2f} "
          f"(1 min); 1 kernel call per run")
    print(f"scenario: {scenario.name} ({len(scenario.profiles)} steps, strategy "
          f"{scenario.strategy}); plan (arrays, sampling) {t_plan:.3f} s")
    print(f"engine: median of {repeats} warm runs; reference: median of {ref_repeats} runs")
    print(f"{'variant':<26}{'events':>8}{'cold s':>8}{'engine wall':>13}{'engine CPU':>12}"
          f"{'ref wall':>10}{'ref CPU':>9}{'speed-up':>10}{'CPU ratio':>10}{'max diff MW':>13}")
    visits = sum(len(st.arrival) for st in plan.spec.stations)
    if visits:
        print(f"fleets: {visits:,} truck visits to {len(plan.spec.stations)} stations")
    variants = {"all events": plan.spec}
    if plan.spec.trucks is not None:
        variants["without the truck depot"] = dataclasses.replace(plan.spec, trucks=None)
    for label, spec in variants.items():
        n_events, imp, load, cold, times = time_engine(scenario, plan, spec, repeats)
        ref_times, diff = time_reference(scenario, plan, spec, imp, load, ref_repeats)
        wall, cpu = _median(times, 0), _median(times, 1)
        ref_wall, ref_cpu = _median(ref_times, 0), _median(ref_times, 1)
        print(f"{label:<26}{n_events:>8,}{cold:>8.3f}{wall * 1e3:>10.2f} ms{cpu * 1e3:>9.2f} ms"
              f"{ref_wall:>9.3f}s{ref_cpu:>8.3f}s{ref_wall / wall:>9.1f}x{ref_cpu / cpu:>9.1f}x"
              f"{diff:>13.1e}")
        print(f"{'':<26}engine wall ms, min/max: {min(t for t, _ in times) * 1e3:.2f}/"
              f"{max(t for t, _ in times) * 1e3:.2f}; reference wall s: "
              + ", ".join(f"{t:.3f}" for t, _ in ref_times)
              + f"; load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
