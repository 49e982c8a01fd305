"""Sweep throughput: the 200-scenario flagship sweep on 1 and 2 dask workers.

    python benchmarks/bench_sweep.py                 # 200 scenarios, 1 then 2 workers
    python benchmarks/bench_sweep.py --samples 40 --workers 2

Every scenario is a full year of the flagship park: dispatch, AC power flow of all
35,040 steps (numba kernel, ``method = "auto"``) and KPIs (examples/flagship_sweep.toml).
Each cluster is a ``LocalCluster`` of single-threaded worker processes; it is started
and warmed up (imports, numba kernels loaded from the on-disk cache) before the clock
starts, then the whole sweep is timed, writing its results folder as the CLI does.
Prints wall time, scenarios/s, the speed-up over 1 worker and the 5-minute target.
The load average is printed too: on a shared machine other work skews the numbers.
Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from dask.distributed import Client, LocalCluster

from parkgrid.bench.runner import machine_info
from parkgrid.sweep import load_sweep, run_sweep

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 300.0


def run(n_workers: int, samples: int, tmp: Path) -> dict[str, float]:
    spec = load_sweep(ROOT / "examples" / "flagship_sweep.toml")
    spec = dataclasses.replace(spec, samples=samples)
    warm = dataclasses.replace(spec, samples=2 * n_workers, seed=spec.seed + 1)
    t0 = time.perf_counter()
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.wait_for_workers(n_workers)
        start_s = time.perf_counter() - t0
        run_sweep(warm, tmp / f"warm{n_workers}", client=client, figure=False)
        load0 = os.getloadavg()[0]
        out = run_sweep(spec, tmp / f"sweep{n_workers}", client=client)
        load1 = os.getloadavg()[0]
    mean_task = float(out.table["wall_s"].mean())
    mean_cpu = float(out.table["cpu_s"].mean())
    return {"workers": n_workers, "scenarios": samples, "wall_s": out.wall_s,
            "scenarios_per_s": samples / out.wall_s, "failed": out.n_failed,
            "cluster_start_s": start_s, "mean_scenario_s": mean_task,
            "mean_scenario_cpu_s": mean_cpu, "load_before": load0, "load_after": load1}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=200, help="scenarios (default 200)")
    ap.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    ap.add_argument("-o", "--output", help="write the numbers as JSON")
    args = ap.parse_args()
    m = machine_info()
    print(f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB")
    tmp = Path(tempfile.mkdtemp(prefix="parkgrid-bench-sweep-"))
    rows = []
    try:
        for w in (int(x) for x in args.workers.split(",")):
            r = run(w, args.samples, tmp)
            rows.append(r)
            print(f"{w} worker(s): {r['scenarios']} scenarios in {r['wall_s']:.1f} s = "
                  f"{r['scenarios_per_s']:.2f} scenarios/s (mean "
                  f"{r['mean_scenario_s']:.2f} s wall, {r['mean_scenario_cpu_s']:.2f} s CPU "
                  "per scenario in a worker; "
                  f"{r['failed']} failed; cluster start "
                  f"{r['cluster_start_s']:.1f} s; load average {r['load_before']:.1f} -> "
                  f"{r['load_after']:.1f})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    one = next((r for r in rows if r["workers"] == 1), None)
    for r in rows:
        if one is not None and r is not one:
            print(f"speed-up 1 -> {r['workers']} workers: "
                  f"{one['wall_s'] / r['wall_s']:.2f}x (target >= 1.7x); CPU per scenario "
                  f"{one['mean_scenario_cpu_s']:.2f} s -> {r['mean_scenario_cpu_s']:.2f} s "
                  "(equal CPU per scenario = no parallel overhead; a smaller wall-time "
                  "speed-up then means the cores were busy with other work)")
        scaled = r["wall_s"] * 200 / r["scenarios"]
        verdict = "meets" if scaled <= TARGET_S else "misses"
        print(f"{r['workers']} worker(s): 200 scenarios take {scaled:.0f} s -> {verdict} the "
              f"{TARGET_S:.0f} s target")
    if args.output:
        Path(args.output).write_text(json.dumps({"machine": m, "runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
