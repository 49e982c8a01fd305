"""Start-up time of the ``parkgrid`` command (issue 18, item 4).

Times ``parkgrid --help``, ``parkgrid --version`` and ``parkgrid schema`` as whole
processes (``python -m parkgrid ...``, interpreter start-up included), the median of
N runs each after one warm-up, next to a bare ``python -c pass`` and to the import of
the simulation pipeline (``import parkgrid.simulate``: pandapower, numba, pandas) that
these commands avoid. Prints the machine's 1-minute load average with the results.
Not a test: ``python benchmarks/bench_cli.py [-n RUNS]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "parkgrid --help": ["-m", "parkgrid", "--help"],
    "parkgrid --version": ["-m", "parkgrid", "--version"],
    "parkgrid schema": ["-m", "parkgrid", "schema"],
    "import parkgrid.simulate": ["-c", "import parkgrid.simulate"],
}


def _time(args: list[str], runs: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout, not an installed copy
    out = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *args], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i:  # the first run warms the file cache
            out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", "--runs", type=int, default=15, help="timed runs per command")
    p.add_argument("--heavy-runs", type=int, default=3,
                   help="timed runs of 'import parkgrid.simulate' (seconds each)")
    args = p.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}, "
          f"{args.runs} runs each ({args.heavy_runs} of the import)")
    print(f"{'command':<26} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, cmd in COMMANDS.items():
        t = _time(cmd, args.heavy_runs if name.startswith("import") else args.runs)
        print(f"{name:<26} {statistics.median(t):>9.3f} {min(t):>7.3f} {max(t):>7.3f}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
