"""Where a kernel family's one-off numba compile goes (issue 17, target 3).

Compiles a family of :mod:`parkgrid._ahead` (``parkgrid.powerflow._kernel_args``,
the power flow's fixed-point solver, or ``parkgrid.dispatch.core``, the dispatch
kernel) exactly as the first run's background process does (``compile_ahead()``),
each time in a fresh process with an empty ``NUMBA_CACHE_DIR``, and prints:

* the CPU time of the compile (the honest figure on a shared machine) and its wall
  time, the median of ``--runs`` processes, with the load average;
* from the last run, each numba function's compile time (wall, inclusive of the
  functions it calls, from numba's ``numba:compile`` events) and its three longest
  numba passes, such as type inference (which includes the compiles of the
  callees), native lowering (numba's own lowering to LLVM IR plus LLVM's
  optimisation of the function's module, the linked callees included) or the
  inlining of closures.

``--opt 0`` compiles at ``NUMBA_OPT=0`` (no LLVM optimisation): the difference to
the default is about LLVM's share. Not a test: ``python benchmarks/bench_compile.py
[--family powerflow|dispatch] [--runs 3] [--opt N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = {"powerflow": "parkgrid.powerflow._kernel_args", "dispatch": "parkgrid.dispatch.core"}

#: run in the child: compile the family into an empty cache, report as JSON
_CHILD = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from numba.core import event
import parkgrid._ahead as ahead
mod = ahead.import_bare(sys.argv[2])
c0, w0 = time.process_time(), time.perf_counter()
with event.install_recorder("numba:compile") as rec:
    mod.compile_ahead()
cpu, wall = time.process_time() - c0, time.perf_counter() - w0
start, funcs, passes = {}, {}, {}
for ts, ev in rec.buffer:
    disp = ev.data["dispatcher"]
    key = (id(disp), str(ev.data["args"]))
    if ev.is_start:
        start[key] = ts
        continue
    name = disp.py_func.__module__.rsplit(".", 1)[-1] + "." + disp.py_func.__name__
    funcs[name] = funcs.get(name, 0.0) + ts - start[key]
    for cres in disp.overloads.values():
        times = cres.metadata.get("pipeline_times", {}).get("nopython", {})
        passes[name] = {k.split("_", 1)[1]: v.init + v.run + v.finalize
                        for k, v in times.items()}
print(json.dumps({"cpu": cpu, "wall": wall, "funcs": funcs, "passes": passes,
                  "load": os.getloadavg()[0]}))
"""


def one(family: str, opt: str | None) -> dict:
    """Compile *family* in a fresh process with an empty numba cache; its report."""
    with tempfile.TemporaryDirectory(prefix="parkgrid-compile-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        if opt is not None:
            env["NUMBA_OPT"] = opt
        out = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT), family], env=env,
                             capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--family", choices=sorted(FAMILIES), default="powerflow")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--opt", default=None, help="NUMBA_OPT for the compiles (default: numba's)")
    ap.add_argument("--top", type=int, default=12, help="functions listed")
    args = ap.parse_args()
    family = FAMILIES[args.family]
    print(f"load average at start (1/5/15 min): {os.getloadavg()}")
    runs = [one(family, args.opt) for _ in range(args.runs)]
    cpus = [r["cpu"] for r in runs]
    walls = [r["wall"] for r in runs]
    loads = [r["load"] for r in runs]
    opt = "" if args.opt is None else f", NUMBA_OPT={args.opt}"
    print(f"{family} compile{opt}: {statistics.median(cpus):.2f} s CPU "
          f"({', '.join(f'{c:.2f}' for c in cpus)}), {statistics.median(walls):.2f} s wall "
          f"(medians of {len(runs)} fresh processes; load average {min(loads):.1f}-"
          f"{max(loads):.1f}{', loaded' if max(loads) > 2 else ''})")
    last = runs[-1]
    print("per function, last run (wall s, inclusive of its callees; its three longest "
          "numba passes):")
    for name, t in sorted(last["funcs"].items(), key=lambda kv: -kv[1])[:args.top]:
        p = sorted(last["passes"].get(name, {}).items(), key=lambda kv: -kv[1])[:3]
        split = ", ".join(f"{k} {v:.2f}" for k, v in p)
        print(f"  {t:7.2f}  {name}" + (f"   ({split})" if split else ""))
    print(f"load average at end (1/5/15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
