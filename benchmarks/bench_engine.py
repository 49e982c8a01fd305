"""Event engine benchmark (issue 4): a flagship year with events, engine + kernels.

Times, in one process on the same inputs:
- parkgrid's engine (SimPy events + numba kernel), median of repeated warm runs;
- the pure-Python step-by-step reference of tests/reference_engine.py, once;
and prints the event count, wall times and the ratio. Not a test: run it as
``python benchmarks/bench_engine.py [SCENARIO.toml]``.
"""

from __future__ import annotations

import dataclasses
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
from parkgrid.simulate import asset_power_mw  # noqa: E402


def measure(scenario, plan, spec, repeats):
    """Warm median of the engine and one run of the reference on the same inputs."""
    from reference_engine import reference_run

    def once():
        return run_engine(plan.inputs, scenario.strategy, spec, hour_of_step=plan.hour,
                          prices=plan.prices, valley=plan.valley)

    t0 = time.perf_counter()
    once()  # includes loading the numba cache (or compiling)
    cold = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        eng = once()
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    ref = reference_run(plan.inputs, scenario.strategy, spec, prices=plan.prices,
                        hour=plan.hour)
    t_ref = time.perf_counter() - t0
    diff = float(np.max(np.abs(eng.dispatch.grid_import_mw - np.asarray(ref["imp"]))))
    return eng, cold, times, t_ref, diff


def main(path: str = str(ROOT / "examples" / "flagship_events.toml"), repeats: int = 7) -> None:
    scenario = parkgrid.load_scenario(path)
    powers = asset_power_mw(scenario)
    t0 = time.perf_counter()
    plan = plan_engine(scenario, powers)
    t_plan = time.perf_counter() - t0
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}, numba threads: 1 kernel call per run")
    print(f"scenario: {scenario.name} ({len(scenario.profiles)} steps, strategy "
          f"{scenario.strategy}); plan (arrays, sampling) {t_plan:.3f} s")
    print(f"{'variant':<28}{'events':>8}{'calls':>7}{'cold s':>8}{'warm s (median)':>17}"
          f"{'reference s':>13}{'speed-up':>10}{'max diff MW':>13}")
    variants = {"all events": plan.spec,
                "without the truck depot": dataclasses.replace(plan.spec, trucks=None)}
    for label, spec in variants.items():
        eng, cold, times, t_ref, diff = measure(scenario, plan, spec, repeats)
        warm = statistics.median(times)
        print(f"{label:<28}{eng.n_events:>8,}{eng.n_kernel_calls:>7}{cold:>8.3f}{warm:>17.3f}"
              f"{t_ref:>13.3f}{t_ref / warm:>9.1f}x{diff:>13.1e}")
        print(f"{'':<28}warm runs: " + ", ".join(f"{t:.3f}" for t in times))


if __name__ == "__main__":
    main(*sys.argv[1:2])
