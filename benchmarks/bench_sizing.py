"""Time the full-year sizing LP of the flagship and its truth check.

    PYTHONPATH=$PWD python benchmarks/bench_sizing.py [SCENARIO.toml] [--solver auto]
        [--weeks N] [--lp-only] [--first-pass hull|import_price]
        [--second-pass auto|full|windows] [--window-h H] [--window-sweeps S]
        [--hipo-split K]

Default scenario: examples/flagship_sizing.toml (PV-D, Wind-C, battery power and
energy, electrolyser and tank extendable; 35,040 steps). Prints the machine's load
average, the LP's size, its build and solve time [s], the sized design, the time of
``parkgrid.size`` with the truth check, the process's peak memory (resident set
size) and the LP-vs-simulated table with its gap (targets: LP <= 120 s and <= 4 GB
on a 2-core machine). CPU times [s] are printed beside wall times: on a shared
machine they say more. One run: a full-year LP takes minutes. ``--weeks N`` sizes
over the first N weeks only (to see how the time scales), ``--lp-only`` skips the
truth check. ``--first-pass`` picks the first solve where export pays more than
import (``hull``, the default, gives the lower bound and the gap printed),
``--second-pass`` the second (``full``: the whole LP again with the directions fixed;
``windows``: the first pass's capacities kept, the schedule re-solved in windows of
``--window-h`` hours, ``--window-sweeps`` times; ``auto``: the package's choice);
``--hipo-split K`` sets HiPO's copies of dense columns to one per K
steps (0: no split, the augmented system as before; default: the package's).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import parkgrid
from parkgrid.sizing import _hipo, solve_sizing
from parkgrid.sizing.lp import WINDOW_H
from parkgrid.sizing.scenario import load_sizing_scenario, sizing_problem, with_profiles

ROOT = Path(__file__).resolve().parents[1]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?",
                    default=str(ROOT / "examples" / "flagship_sizing.toml"))
    ap.add_argument("--solver", default="auto")
    ap.add_argument("--weeks", type=int, default=0, help="first N weeks only (0: the year)")
    ap.add_argument("--lp-only", action="store_true", help="skip the truth check")
    ap.add_argument("--first-pass", default="hull", choices=("hull", "import_price"))
    ap.add_argument("--second-pass", default="auto", choices=("auto", "full", "windows"))
    ap.add_argument("--window-h", type=float, default=WINDOW_H)
    ap.add_argument("--window-sweeps", type=int, default=1)
    ap.add_argument("--hipo-split", type=int, default=None,
                    help="HiPO: one copy of each dense column per K steps (0: no split)")
    args = ap.parse_args()
    if args.hipo_split is not None:
        _hipo._SPLIT_STEPS = args.hipo_split
    print(f"load average before: {os.getloadavg()}  (cores: {os.cpu_count()}); HiPO split: "
          f"one copy per {_hipo._SPLIT_STEPS} steps", flush=True)
    t = time.perf_counter()
    sz = load_sizing_scenario(args.scenario)
    if args.weeks:
        assert sz.scenario.profiles is not None
        sz = with_profiles(sz, sz.scenario.profiles.iloc[:args.weeks * 7 * 96])
    print(f"scenario loaded in {time.perf_counter() - t:.1f} s; "
          f"{0 if sz.scenario.profiles is None else len(sz.scenario.profiles)} steps; "
          "extendable: "
          + ", ".join(s.path for s in sz.extendables), flush=True)
    t, cpu = time.perf_counter(), time.process_time()
    if args.lp_only:
        result = None
        sol = solve_sizing(sizing_problem(sz), solver=args.solver, first_pass=args.first_pass,
                           second_pass=args.second_pass, window_h=args.window_h,
                           window_sweeps=args.window_sweeps)
    else:
        result = parkgrid.size(sz, solver=args.solver, first_pass=args.first_pass,
                               second_pass=args.second_pass, window_h=args.window_h,
                               window_sweeps=args.window_sweeps)
        sol = result.solution
    total, total_cpu = time.perf_counter() - t, time.process_time() - cpu
    st = sol.stats
    print(f"LP: {st['variables']:,} variables, {st['rows']:,} rows, {st['nonzeros']:,} "
          f"non-zeros, {st['passes']} pass(es), solver {st['solver']}; build "
          f"{st['build_s']:.1f} s, solve {st['solve_s']:.1f} s wall, "
          f"{st['solve_cpu_s']:.1f} s CPU (passes "
          + ", ".join(f"{c:.1f}" for c in st["pass_cpu_s"]) + " s CPU)", flush=True)
    for path, v in sol.capacities.items():
        print(f"  {path:28s} {v:12,.1f}")
    print(f"  annualised cost (LP)         {sol.cost['total_cny']:14,.0f} CNY/yr")
    if st.get("lower_bound_cny") is not None:
        print(f"  lower bound (first pass)     {st['lower_bound_cny']:14,.0f} CNY/yr; "
              f"gap {st['gap_pct']:.3f} % (first pass {st['first_pass']}, second "
              f"{st['second_pass']})")
    if st.get("windows") is not None:
        print(f"  second pass in windows of {st['window_h']:g} h, {st['window_sweeps']} "
              f"sweep(s): {st['windows']} window LPs, "
              f"{st['windows_kept']} kept as they were, "
              f"{st['window_simplex_iterations']:,} simplex iterations")
    what = "LP only" if result is None else "size() with the truth check"
    print(f"{what}: {total:.1f} s wall, {total_cpu:.1f} s CPU; "
          f"peak memory (RSS) {_peak_mb():,.0f} MB; load average after {os.getloadavg()}")
    if result is not None:
        print(result.markdown())


if __name__ == "__main__":
    main()
