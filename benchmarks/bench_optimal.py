"""Time the optimal dispatch of a full year (rolling-horizon MILP, HiGHS).

    PYTHONPATH=$PWD python benchmarks/bench_optimal.py [--repeat 3] [SCENARIO.toml]

Default scenario: examples/flagship_optimal.toml (364 windows of 48 h, 24 h kept).
Prints each run's wall and CPU time [s] and their medians, how the windows were
solved (method, HiGHS status, windows stopped at a limit, largest proven gap) and
the steps that import and export at once (0 with one connection point). CPU time
counts HiGHS's threads; on a shared machine it is steadier than wall time.

``--compare-fresh`` alternates each run with one that builds a fresh HiGHS model for
every window (the code before issue 17 kept none across windows) and prints both
medians, their ratio and the objective difference; the load average is printed with
every run.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

import parkgrid
from parkgrid.inputs import asset_power_mw, dispatch_inputs
from parkgrid.optimal import _highs, rolling
from parkgrid.optimal.scenario import solve_scenario

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default=str(ROOT / "examples" / "flagship_optimal.toml"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--compare-fresh", action="store_true",
                    help="alternate with a fresh HiGHS model per window (before issue 17)")
    args = ap.parse_args()
    s = parkgrid.load_scenario(args.scenario)
    inputs = dispatch_inputs(s, asset_power_mw(s))
    variants: dict[str, Any] = {"one model across windows": _highs.WindowModels}
    if args.compare_fresh:
        variants["a fresh model per window"] = functools.partial(_highs.WindowModels, keep=0)
    times: dict[str, tuple[list[float], list[float], list[float]]] = {
        v: ([], [], []) for v in variants}
    for k in range(args.repeat):
        for name, factory in variants.items():
            rolling.WindowModels = factory  # type: ignore[misc]
            walls, cpus, objs = times[name]
            t, c = time.perf_counter(), time.process_time()
            sol = solve_scenario(s, inputs)
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
            objs.append(sol.objective.total)
            d = sol.dispatch
            both = int(np.sum((d.grid_import_mw > 0) & (d.grid_export_mw > 0)))
            summ = sol.summary()
            print(f"run {k + 1} ({name}): wall {walls[-1]:.1f} s, CPU {cpus[-1]:.1f} s, "
                  f"load average {os.getloadavg()[0]:.1f}, "
                  f"objective {sol.objective.total:,.0f} CNY, windows {summ['windows']}, "
                  f"methods {summ['methods']}, HiGHS {summ['highs_status']}, "
                  f"stopped at a limit {summ['limits_reached']}, "
                  f"max gap {summ['max_gap']:.2g}, steps importing and exporting {both}",
                  flush=True)
    med = {}
    for name, (walls, cpus, objs) in times.items():
        med[name] = (statistics.median(walls), statistics.median(cpus))
        print(f"{name}, median of {args.repeat}: wall {med[name][0]:.1f} s, "
              f"CPU {med[name][1]:.1f} s, objective {statistics.median(objs):,.0f} CNY")
    if args.compare_fresh:
        (wa, ca), (wb, cb) = med.values()
        oa, ob = (statistics.median(t[2]) for t in times.values())
        print(f"fresh / one model: wall {wb / wa:.2f}x, CPU {cb / ca:.2f}x; objective "
              f"difference {oa - ob:,.2f} CNY ({(oa - ob) / abs(ob):.2g} relative)")

if __name__ == "__main__":
    main()
