"""Start-up time of the ``parkgrid`` command (issue 18, item 4).

Times ``parkgrid --help``, ``parkgrid --version`` and ``parkgrid schema`` as whole
processes (``python -m parkgrid ...``, interpreter start-up included), the median of
N runs each after one warm-up (wall time, and the CPU time of the process: on a shared
machine the wall time grows with the load, the CPU time hardly), next to a bare
``python -c pass`` and to the import of
the simulation pipeline (``import parkgrid.simulate``: pandapower, numba, pandas) that
these commands avoid. Prints the machine's 1-minute load average with the results.

With ``--run`` it also times the real command of issue 17, ``parkgrid run
examples/flagship_park.toml`` (the flagship year, power flow on every step, warm
numba cache), as whole processes from start to exit: with the report, with
``--no-report`` (the dispatch figure still drawn) and with ``--no-figure`` (no
figure at all), the median of ``--run-runs`` each. The stage timings the command
writes into ``kpis.json`` (``timings_s``) break each median down; what is left of
the wall time (interpreter start, imports, loading the cached kernels, the KPI
print) is reported as "start-up, imports and rest". Last, the floor: a process that
only imports the libraries a run needs and calls one cached numba function (no run can
take less in this design; see ``_FLOOR_MODULE``). Stages marked "(parallel)" ran
at the same time (the results tables and the figures, the dispatch figure and the
report's: ``write_figures_s`` is the time this process spent drawing them or waiting
for the forked figure worker, ``write_files_s`` the wall time of it all, and
``write_report_s`` only the page's assembly) and are not added up. The figure worker
is forked only while half a core is idle (``parkgrid.report.work``), so loaded runs draw
every figure in one process. The warm-up run also
fills the network cache (``$PARKGRID_CACHE_DIR``, README "The network cache"), so the
timed runs read the network as data and never import pandapower.
With ``--first-run`` it times the first run after installing (issue 17, target 3):
``parkgrid run examples/flagship_park.toml`` with empty caches (a fresh
``NUMBA_CACHE_DIR`` and ``PARKGRID_CACHE_DIR`` per run), the median of
``--first-runs``: wall time, the CPU
time of the command and of every process it started (the background compiles
included), the load average at the start and the end, and the command's own lines
on what it compiled or waited for. ``--first-python PYTHON`` times an installed copy
instead (the quick start's case: ``pip install .``, then ``parkgrid run`` from the
repository root, where a background compile once imported the checkout's parkgrid
and the run compiled everything again).
Not a test: ``python benchmarks/bench_cli.py [-n RUNS] [--run] [--run-only]
[--first-run] [--first-only] [--first-python PYTHON]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
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


def _child_cpu() -> float:
    """CPU time [s] (user + system) of every child process that has ended so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _env(*, checkout: bool = True, **extra: str) -> dict[str, str]:
    """This environment for a child process, with *extra* set.

    ``checkout=True``: this checkout on ``PYTHONPATH``, not an installed copy; else no
    ``PYTHONPATH`` at all, so an installed parkgrid is the one imported.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if checkout:
        env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


def _time(args: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU times of *runs* processes (after one warm-up run)."""
    env = _env()
    walls, cpus = [], []
    for i in range(runs + 1):
        t0, c0 = time.perf_counter(), _child_cpu()
        subprocess.run([sys.executable, *args], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i:  # the first run warms the file cache
            walls.append(time.perf_counter() - t0)
            cpus.append(_child_cpu() - c0)
    return walls, cpus


def _line(name: str, walls: list[float], cpus: list[float]) -> str:
    return (f"{name:<26} {statistics.median(walls):>9.3f} {min(walls):>7.3f} "
            f"{max(walls):>7.3f} {statistics.median(cpus):>9.3f} {min(cpus):>7.3f}   "
            f"load {os.getloadavg()[0]:.2f}")


RUN_VARIANTS = {
    "run, report": [],
    "run --no-report": ["--no-report"],
    "run --no-figure": ["--no-figure"],
}
SCENARIO = "examples/flagship_park.toml"


def _time_run(extra: list[str], runs: int
              ) -> tuple[list[float], list[float], list[dict[str, float]]]:
    """Wall and CPU times of the run command and the stage timings of its kpis.json."""
    env = _env()
    walls, cpus, stages = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        out = Path(tmp) / "run"
        for i in range(runs + 1):
            t0, c0 = time.perf_counter(), _child_cpu()
            subprocess.run([sys.executable, "-m", "parkgrid", "-q", "run", SCENARIO, "-o",
                            str(out), "--overwrite", *extra], env=env, cwd=ROOT, check=True)
            if i:  # the first run warms the file cache (and compiles if the cache is cold)
                walls.append(time.perf_counter() - t0)
                cpus.append(_child_cpu() - c0)
                stages.append(json.loads((out / "kpis.json").read_text())["timings_s"])
    return walls, cpus, stages


#: the least any run process does in this design: start the interpreter, import the
#: libraries a run needs (numpy, numba, pandas, pyarrow's Parquet) and call one numba
#: function from numba's on-disk cache (the first such call sets up numba's code
#: generator, whichever the kernel). Timed like the run, it is the floor below which
#: target 1 cannot go without dropping one of them from the run.
_FLOOR_MODULE = """
import numpy, numba, pandas, pyarrow.parquet

@numba.njit(cache=True)
def total(x):
    return x.sum()

total(numpy.ones(3))
"""


def _time_floor(runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU times of :data:`_FLOOR_MODULE` (the warm-up fills numba's cache)."""
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        (Path(tmp) / "floor.py").write_text(_FLOOR_MODULE)
        return _time([str(Path(tmp) / "floor.py")], runs)


def _print_run(name: str, walls: list[float], cpus: list[float],
               stages: list[dict[str, float]]) -> None:
    print(_line(name, walls, cpus))
    med = statistics.median(walls)
    keys = [k for k in stages[0] if k != "total_s"]
    parts = {k: statistics.median(s.get(k, 0.0) for s in stages) for k in keys}
    for k, v in parts.items():
        print(f"    {k:<34} {v:>7.3f}")
    # "(parallel)" parts ran at the same time as each other: write_files_s is their
    # wall time, so they are shown but not added up
    serial = sum(v for k, v in parts.items() if not k.endswith("(parallel)"))
    print(f"    {'start-up, imports and rest':<34} {med - serial:>7.3f}")


def _adopt_orphans() -> bool:
    """Become the reaper of this process's orphaned descendants (Linux; ``False`` elsewhere).

    A first run leaves the dispatch kernel's background compile running after it
    exits (:mod:`parkgrid._ahead`): adopted, it can be waited for and its CPU counted.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _reap() -> float:
    """Wait for every adopted descendant to exit; return the seconds waited."""
    t0 = time.perf_counter()
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return time.perf_counter() - t0


def _first_run(extra: list[str], python: str | None = None
               ) -> tuple[float, float, float, float, list[str]]:
    """One cold-cache run: wall, CPU (with its children), loads at start and end, notes.

    The CPU includes the background compiles, also the one still running when the run
    exits, which is waited for before the next run starts (its time after the run's
    exit is one of the notes).

    *python* is the interpreter of an installed parkgrid (``pip install .``), run as the
    README's quick start runs it: from this checkout's root, without ``PYTHONPATH``
    (``None``: this interpreter, with the checkout on ``PYTHONPATH``).
    """
    with tempfile.TemporaryDirectory(prefix="bench-first-") as tmp:
        # a fresh install: neither numba's cache nor the network cache exists yet
        env = _env(checkout=python is None, NUMBA_CACHE_DIR=str(Path(tmp) / "nb"),
                   PARKGRID_CACHE_DIR=str(Path(tmp) / "pg"))
        load0 = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), _child_cpu()
        cmd = [sys.executable, "-m", "parkgrid"] if python is None else _installed_command(python)
        proc = subprocess.run([*cmd, "run", SCENARIO, "-o", str(Path(tmp) / "run"), *extra],
                              env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        after = _reap()  # before the temporary numba cache goes
        cpu = _child_cpu() - c0
    notes = [ln for ln in proc.stderr.splitlines() if "compil" in ln or "waited" in ln]
    if after > 0.05:
        notes.append(f"(a background compile ran on for {after:.1f} s after the run's exit)")
    return wall, cpu, load0, os.getloadavg()[0], notes


def _installed_command(python: str) -> list[str]:
    """The ``parkgrid`` command installed next to *python*, as the quick start calls it.

    Not ``python -m parkgrid``: started in the checkout's root, that would put the
    working directory first on ``sys.path`` and import the checkout, not the installed
    copy. Without a console script, ``python -P -m parkgrid`` (Python 3.11: no working
    directory on ``sys.path``).
    """
    script = Path(python).parent / "parkgrid"
    return [str(script)] if script.is_file() else [python, "-P", "-m", "parkgrid"]


def _installed_where(python: str) -> str:
    """Where *python*'s installed parkgrid is imported from, started in the checkout's root."""
    out = subprocess.run([python, "-P", "-c", "import parkgrid, os; print(os.path.dirname("
                          "parkgrid.__file__))"], env=_env(checkout=False), cwd=ROOT, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def _print_first_runs(runs: int, extra: list[str], python: str | None = None) -> None:
    print(f"first run after installing: parkgrid run {SCENARIO} {' '.join(extra)}, empty numba "
          f"cache, {runs} runs (target 8 s)")
    if python is not None:
        where = _installed_where(python)
        print(f"  installed copy: {python} imports parkgrid from {where}, started in {ROOT}")
        if Path(where).resolve() == (ROOT / "parkgrid").resolve():
            print("  (that is this checkout: install it with 'pip install .', not -e, to time "
                  "an installed copy)")
    if not _adopt_orphans():
        print("  (cannot adopt orphaned processes here: the CPU leaves out a background "
              "compile that outlives its run)")
    results = [_first_run(extra, python) for _ in range(runs)]
    for wall, cpu, l0, l1, _ in results:
        print(f"    wall {wall:6.2f} s   CPU {cpu:6.2f} s (with the background compiles)   "
              f"load {l0:.2f} -> {l1:.2f}")
    order = sorted(range(runs), key=lambda i: results[i][0])
    mid = results[order[runs // 2]]
    print(f"  median: wall {statistics.median(r[0] for r in results):.2f} s, CPU "
          f"{statistics.median(r[1] for r in results):.2f} s; the median run said:")
    for line in mid[4]:
        print(f"    {line}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", "--runs", type=int, default=15, help="timed runs per command")
    p.add_argument("--heavy-runs", type=int, default=3,
                   help="timed runs of 'import parkgrid.simulate' (seconds each)")
    p.add_argument("--run", action="store_true",
                   help="also time 'parkgrid run' of the flagship year (issue 17)")
    p.add_argument("--run-only", action="store_true", help="time only 'parkgrid run'")
    p.add_argument("--run-runs", type=int, default=5, help="timed runs of each run variant")
    p.add_argument("--first-run", action="store_true",
                   help="also time the first run after installing (empty numba cache)")
    p.add_argument("--first-only", action="store_true", help="time only the first run")
    p.add_argument("--first-runs", type=int, default=3, help="cold-cache runs timed")
    p.add_argument("--first-args", default="",
                   help="extra arguments of the cold-cache run, e.g. '--no-report'")
    p.add_argument("--first-python", default=None, metavar="PYTHON",
                   help="time the first run of the parkgrid installed for this interpreter "
                        "(e.g. a fresh venv's bin/python after 'pip install .'), started "
                        "from this checkout's root as the README's quick start does")
    args = p.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}, "
          f"{args.runs} runs each ({args.heavy_runs} of the import)")
    print(f"{'command':<26} {'median s':>9} {'min s':>7} {'max s':>7} {'CPU s':>9} "
          f"{'min CPU':>7}")
    if args.first_run or args.first_only:
        _print_first_runs(args.first_runs, args.first_args.split(), args.first_python)
        if args.first_only:
            return
    if not args.run_only:
        for name, cmd in COMMANDS.items():
            print(_line(name, *_time(cmd, args.heavy_runs if name.startswith("import")
                                     else args.runs)))
    if args.run or args.run_only:
        print(f"parkgrid run {SCENARIO} (power flow on every step), {args.run_runs} runs "
              "each after one warm-up; stage medians from kpis.json:")
        for name, extra in RUN_VARIANTS.items():
            _print_run(name, *_time_run(extra, args.run_runs))
        print(_line("floor: imports + 1 kernel", *_time_floor(args.run_runs)))
        print("    (python, numpy, numba, pandas, pyarrow.parquet imported and one cached numba "
              "function called: no run can take less)")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
