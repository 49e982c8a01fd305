"""Time the optimal dispatch of a full year (rolling-horizon MILP, HiGHS).

    PYTHONPATH=$PWD python benchmarks/bench_optimal.py [--repeat 3] [SCENARIO.toml]

Default scenario: examples/flagship_optimal.toml (364 windows of 48 h, 24 h kept).
Prints each run's wall and CPU time [s] and their medians, how the windows were
solved (method, HiGHS status, windows stopped at a limit, largest proven gap),
the year's objective, the gap the windows are allowed (the sum over windows of
``mip_rel_gap`` x the window's grid turnover: how far two runs that both meet
the gap may differ, roughly) and the steps that import and export at once (0
with one connection point). CPU time counts HiGHS's threads; on a shared machine
it is steadier than wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

import parkgrid
from parkgrid.inputs import asset_power_mw, dispatch_inputs
from parkgrid.optimal.scenario import scenario_options, solve_scenario

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default=str(ROOT / "examples" / "flagship_optimal.toml"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    s = parkgrid.load_scenario(args.scenario)
    inputs = dispatch_inputs(s, asset_power_mw(s))
    walls, cpus = [], []
    for k in range(args.repeat):
        t, c = time.perf_counter(), time.process_time()
        sol = solve_scenario(s, inputs)
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        d = sol.dispatch
        both = int(np.sum((d.grid_import_mw > 0) & (d.grid_export_mw > 0)))
        summ = sol.summary()
        allowed = scenario_options(s).mip_rel_gap * sum(w.turnover_cny for w in sol.windows)
        print(f"run {k + 1}: wall {walls[-1]:.1f} s, CPU {cpus[-1]:.1f} s, "
              f"load average {os.getloadavg()[0]:.1f}, "
              f"objective {sol.objective.total:,.0f} CNY (windows' allowed gap, summed: "
              f"{allowed:,.0f} CNY), windows {summ['windows']}, "
              f"methods {summ['methods']}, HiGHS {summ['highs_status']}, "
              f"stopped at a limit {summ['limits_reached']}, max gap {summ['max_gap']:.2g}, "
              f"steps importing and exporting {both}", flush=True)
    print(f"median of {args.repeat}: wall {statistics.median(walls):.1f} s, "
          f"CPU {statistics.median(cpus):.1f} s, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
