"""Hosting-capacity benchmark: one flagship bus over a full year, warm.

Run from the repository root:

    python benchmarks/bench_hosting.py              # 5 timed runs, 200-step pandapower sample
    python benchmarks/bench_hosting.py --runs 3 --sample 100 --bus "PV-A 35kV"
    python benchmarks/bench_hosting.py --controls   # flagship_voltage_control.toml, OLTC + Q(U)

Prints the hardware and load average, the hosting capacity of the bus (PV) with
its binding step, the wall time of ``parkgrid.hosting.hosting_capacity`` (one
warm-up, then the median and range of --runs runs; it includes the base dispatch
and every power flow), the number of power-flow calls and of steps solved, and
pandapower's ``run_timeseries`` (ConstControl profiles, the same net with the
added plant) on a measured sample of steps, extrapolated (a) to the steps
parkgrid's search solved and (b) to the same search done the plain way, every
candidate on every step of the year. With ``--controls`` the scenario is
``examples/flagship_voltage_control.toml`` searched with its tap changer and Q(U)
inverters, and pandapower runs the same controllers (``DiscreteTapControl``,
``DERController`` with a Q(U) curve, through parkgrid's ``run_reference_pf``) on the
sample. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandapower as pp  # noqa: E402

import parkgrid  # noqa: E402
from parkgrid.hosting import hosting_capacity  # noqa: E402
from parkgrid.inputs import asset_power_mw  # noqa: E402
from parkgrid.network import build_park_net, bus_index_by_name, pf_profiles  # noqa: E402
from parkgrid.profiles import localize_index  # noqa: E402
from parkgrid.stages import dispatch_stage, timeseries_frame  # noqa: E402


def pandapower_seconds_per_step(scenario, bus: str, cap_mw: float, n_sample: int,
                                controls: bool) -> float:
    """Seconds per step of pandapower's run_timeseries, the flagship + the added PV plant."""
    import simbench as sb
    from pandapower.timeseries import run_timeseries

    from parkgrid.powerflow import run_reference_pf
    from parkgrid.stages import pf_controls

    index = localize_index(scenario.profiles.index, scenario.utc_offset_h)
    run = dispatch_stage(scenario, asset_power_mw(scenario))
    ts = timeseries_frame(scenario, run, index)
    park = build_park_net(scenario)
    net = copy.deepcopy(park.net)
    sg = pp.create_sgen(net, bus_index_by_name(net)[bus], p_mw=0.0, name="hosting")
    prof = pf_profiles(scenario, park, ts)
    shape = scenario.profiles[scenario.pv[0].profile].to_numpy(dtype=float)
    prof[("sgen", "p_mw")][sg] = cap_mw * shape
    prof[("sgen", "q_mvar")][sg] = 0.0
    # a sample of daytime steps (where the plant injects and the search solves)
    rows = np.flatnonzero(shape > 0)
    rows = rows[np.linspace(0, len(rows) - 1, n_sample).astype(int)]
    sample = {k: v.iloc[rows].reset_index(drop=True) for k, v in prof.items()}
    if controls:  # pandapower's own controllers through run_control, step by step
        ctl = pf_controls(scenario, park)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run_reference_pf(net, sample, controls=ctl)
        return (time.perf_counter() - t) / n_sample
    sb.apply_const_controllers(net, sample)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_timeseries(net, time_steps=range(n_sample), verbose=False)
    return (time.perf_counter() - t) / n_sample


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bus", default="PV-D 35kV")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sample", type=int, default=200,
                    help="pandapower steps measured (0: no pandapower comparison)")
    ap.add_argument("--controls", action="store_true",
                    help="flagship_voltage_control.toml with its OLTC and Q(U)")
    args = ap.parse_args()
    print("load average at start (1/5/15 min):", os.getloadavg())
    print(f"CPU: {os.cpu_count()} logical cores")
    name = "flagship_voltage_control.toml" if args.controls else "flagship_park.toml"
    scenario = parkgrid.load_scenario(ROOT / "examples" / name)
    print(f"scenario {name}, controls {args.controls}")
    res = hosting_capacity(scenario, asset="pv", buses=[args.bus], controls=args.controls,
                           start_mw=50.0 if args.controls else 100.0)  # warm-up (numba cache)
    times, cpu = [], []
    for _ in range(args.runs):
        t, c = time.perf_counter(), time.process_time()
        res = hosting_capacity(scenario, asset="pv", buses=[args.bus], controls=args.controls,
                               start_mw=50.0 if args.controls else 100.0)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    row = res.table.loc[args.bus]
    print(f"\nPV hosting capacity of {args.bus!r}: {row['capacity_mw']:.2f} MW "
          f"(bracket to {row['first_violation_mw']:.2f} MW), binding {row['step']} "
          f"{row['element']} {row['quantity']} {row['value']:.7f} vs {row['limit']:.7f}")
    print(f"parkgrid hosting_capacity, full year ({len(scenario.profiles)} steps, "
          f"{int(res.info['steps_active'])} checked): median "
          f"{statistics.median(times):.2f} s of {args.runs} (min {min(times):.2f}, "
          f"max {max(times):.2f}), CPU (all threads) median {statistics.median(cpu):.2f} s; "
          f"{int(row['solves'])} power-flow calls after the base year, "
          f"{int(res.info['steps_solved'])} steps solved in all")
    if args.sample <= 0:  # no pandapower comparison asked for
        print("load average at end (1/5/15 min):", os.getloadavg())
        return
    per_step = pandapower_seconds_per_step(scenario, args.bus, row["capacity_mw"], args.sample,
                                           args.controls)
    solved = res.info["steps_solved"]
    plain = (row["solves"] + 1) * len(scenario.profiles)
    med = statistics.median(times)
    print(f"pandapower run_timeseries: {per_step * 1e3:.1f} ms/step measured on {args.sample} "
          f"daytime steps; extrapolated: {per_step * solved:,.0f} s for the "
          f"{int(solved):,} steps parkgrid solved ({per_step * solved / med:,.0f}x), "
          f"{per_step * plain:,.0f} s for the same {int(row['solves']) + 1} candidates "
          f"on every step of the year ({per_step * plain / med:,.0f}x)")
    print("load average at end (1/5/15 min):", os.getloadavg())


if __name__ == "__main__":
    main()
