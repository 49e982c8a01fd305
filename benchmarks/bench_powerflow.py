"""Power-flow benchmark: parkgrid's batch kernel vs pandapower and power-grid-model.

Run from the repository root (needs the ``bench`` extra for power-grid-model):

    python benchmarks/bench_powerflow.py            # everything (~5-10 min on 2 cores)
    python benchmarks/bench_powerflow.py --quick    # smaller samples, no 5,000-bus year

Prints, in one process and one run: the hardware; parkgrid's cold (numba compile)
and cached start-up; a year of SimBench ``1-MV-rural--0-sw`` (35,136 steps) with
parkgrid, with pandapower's ``run_timeseries`` (a measured sample, extrapolated; the
sample size is printed) and with power-grid-model's batch Newton-Raphson and
iterative-current solvers; ratios; peak memory; a scaling table over grid size and
horizon. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numba  # noqa: E402
import pandapower as pp  # noqa: E402

from parkgrid.bench.grids import replicate, simbench_case  # noqa: E402
from parkgrid.powerflow import run_timeseries_pf  # noqa: E402
from parkgrid.powerflow._model import build_model  # noqa: E402
from parkgrid.powerflow._profiles import check_profiles  # noqa: E402

CODE = "1-MV-rural--0-sw"


def hardware() -> str:
    model = platform.processor() or "?"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    import pandapower

    versions = f"pandapower {pandapower.__version__}, numba {numba.__version__}"
    from importlib.metadata import PackageNotFoundError, version

    try:
        versions += f", power-grid-model {version('power-grid-model')}"
    except PackageNotFoundError:
        pass
    return (f"{model}, {os.cpu_count()} logical cores, numba threads "
            f"{numba.get_num_threads()}; Python {platform.python_version()}; {versions}")


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


# --------------------------------------------------------------------------- start-up
_STARTUP = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    sys.path.insert(0, sys.argv[1])
    import numpy as np, pandas as pd, pandapower.networks as pn
    t1 = time.perf_counter()
    from parkgrid.powerflow import run_timeseries_pf
    t2 = time.perf_counter()
    out = {"import_pandapower_s": t1 - t0, "import_parkgrid_s": t2 - t1}
    for name, net in [("pq", pn.create_cigre_network_mv(with_der="pv_wind")),
                      ("pv", pn.case9())]:
        idx = pd.RangeIndex(96)
        f = np.linspace(0.5, 1.0, 96)[:, None]
        prof = {("load", "p_mw"): pd.DataFrame(f * net.load.p_mw.values, idx, net.load.index)}
        t = time.perf_counter(); run_timeseries_pf(net, prof)
        out[name + "_first_call_s"] = time.perf_counter() - t
        t = time.perf_counter(); run_timeseries_pf(net, prof)
        out[name + "_second_call_s"] = time.perf_counter() - t
    print(json.dumps(out))
""")


def startup() -> dict[str, dict[str, float]]:
    """Cold (fresh numba cache) and cached start-up, each in a new process.

    The package is copied to a fresh folder: numba's on-disk cache is keyed by the
    source path, so the first process compiles everything and the second finds
    the cache -- without touching the repository's cache or numba's settings.
    """
    tmp = Path(tempfile.mkdtemp(prefix="parkgrid-bench-"))
    try:
        # the whole package (the power flow imports parkgrid's small helper modules;
        # the package's __init__ imports its parts lazily), its caches left behind
        shutil.copytree(ROOT / "parkgrid", tmp / "parkgrid",
                        ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
        script = tmp / "startup.py"
        script.write_text(_STARTUP)
        res = {}
        for label in ("cold", "cached"):
            proc = subprocess.run([sys.executable, str(script), str(tmp)],
                                  capture_output=True, text=True, check=False)
            if proc.returncode:
                raise SystemExit(f"the {label} start-up process failed:\n{proc.stderr}")
            res[label] = json.loads(proc.stdout.strip().splitlines()[-1])
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


_PEAK = textwrap.dedent("""
    import json, pickle, resource, sys, tracemalloc
    sys.path.insert(0, sys.argv[1])
    import pandapower as pp
    from parkgrid.network import read_network_file
    from parkgrid.powerflow import run_timeseries_pf
    net = read_network_file(sys.argv[2])
    with open(sys.argv[3], "rb") as fh:
        prof = pickle.load(fh)
    run_timeseries_pf(net, {k: v.iloc[:96] for k, v in prof.items()})  # load kernels
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    res = run_timeseries_pf(net, prof)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"buses": len(net.bus), "steps": len(res.steps),
                      "rss_before_mb": before, "rss_peak_mb": peak, "traced_peak_mb": traced,
                      "converged": bool(res.converged.all())}))
""")


def peak_memory(net, prof) -> dict[str, float]:
    """Memory of one full run in a fresh process that reads the inputs from files.

    Returns the process's peak RSS, its RSS before the run (Python, pandapower,
    kernels, inputs) and the peak of memory allocated during the run (tracemalloc:
    numpy arrays and Python objects; the kernels' own per-chunk scratch is not traced).
    """
    import pickle

    with tempfile.TemporaryDirectory(prefix="parkgrid-mem-") as tmp:
        pp.to_json(net, f"{tmp}/net.json")
        with open(f"{tmp}/prof.pkl", "wb") as fh:
            pickle.dump(prof, fh)
        out = subprocess.run([sys.executable, "-c", _PEAK, str(ROOT), f"{tmp}/net.json",
                              f"{tmp}/prof.pkl"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed(fn) -> tuple[float, float, object]:
    """Wall and process CPU seconds of one call (CPU time shows contention)."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


# --------------------------------------------------------------------------- engines
def pandapower_timeseries(net, prof, n_sample: int) -> float:
    """Seconds per step of ``pandapower.timeseries.run_timeseries`` over n_sample steps."""
    import simbench as sb
    from pandapower.timeseries import run_timeseries

    work = copy.deepcopy(net)
    sb.apply_const_controllers(work, prof)
    t = time.perf_counter()
    run_timeseries(work, time_steps=range(n_sample), verbose=False)
    return (time.perf_counter() - t) / n_sample


#: the quantities run_timeseries_pf returns, as power-grid-model attributes (vm, va;
#: line and transformer loading, line p_from and p_to for the losses; slack p, q)
PGM_SAME_OUTPUT = {"node": ["u_pu", "u_angle"], "line": ["loading", "p_from", "p_to"],
                   "transformer": ["loading", "p_from", "p_to"], "source": ["p", "q"]}


def pgm_year(net, prof, method: str, threads: int, repeat: int,
             same_output: bool) -> tuple[list[float], np.ndarray]:
    """Wall seconds of *repeat* power-grid-model batches over the profiles, and u_pu.

    ``same_output`` asks only for the quantities parkgrid returns (PGM's columnar
    output); otherwise whole node/line/transformer/source records are returned.
    The model and the update data are built before the clock starts.
    """
    from power_grid_model import CalculationMethod, ComponentType, PowerGridModel

    from parkgrid.bench.pgm import batch_update, to_pgm

    data, ids = to_pgm(net)
    update = batch_update(ids, net, prof)
    model = PowerGridModel(data)
    if same_output:
        wanted: object = {getattr(ComponentType, k): v for k, v in PGM_SAME_OUTPUT.items()}
    else:
        wanted = {ComponentType.node, ComponentType.line, ComponentType.transformer,
                  ComponentType.source}
    walls, u = [], None
    for _ in range(repeat):
        out = None  # free the previous run's output first, as parkgrid's runs do
        t = time.perf_counter()
        c = time.process_time()
        out = model.calculate_power_flow(
            update_data=update,
            calculation_method=getattr(CalculationMethod, method),
            threading=threads,
            error_tolerance=1e-8,
            max_iterations=30,
            output_component_types=wanted,
        )
        walls.append(time.perf_counter() - t)
        cpu = time.process_time() - c
        u = out[ComponentType.node]["u_pu"]
    print(f"  (power-grid-model {method}, {'same output' if same_output else 'full records'}: "
          f"walls {', '.join(f'{w:.2f}' for w in walls)} s; last {cpu:.2f} s CPU)")
    return walls, np.asarray(u)


# --------------------------------------------------------------------------- main
def compare_engines(net, prof, args, rows: list[tuple[str, str]]) -> None:
    """Year of CODE: parkgrid vs pandapower run_timeseries vs power-grid-model."""
    n_steps = len(next(iter(prof.values())))
    mem = peak_memory(net, prof)
    print(f"memory, year of {CODE} in a fresh process: peak RSS {mem['rss_peak_mb']:.0f} MB "
          f"(before the run {mem['rss_before_mb']:.0f} MB); allocated during the run "
          f"(tracemalloc peak) {mem['traced_peak_mb']:.0f} MB")
    rows.append(("memory, year of the 97-bus grid",
                 f"peak RSS {mem['rss_peak_mb']:.0f} MB for the whole process "
                 f"({mem['rss_before_mb']:.0f} MB before the run); "
                 f"{mem['traced_peak_mb']:.0f} MB allocated by the run"))
    run_timeseries_pf(net, {k: v.iloc[:96] for k, v in prof.items()})  # warm-up
    # the network model built before the clock starts, as power-grid-model's model and
    # update data are below and as a run of the command gets it from the network cache
    model = build_model(net, check_profiles(net, prof))
    runs, runs_m = [], []
    res = None
    for _ in range(args.repeat):  # interleaved: from the net, then with the model
        res = None  # free the previous result first: repeated runs reuse its memory
        runs_m.append(timed(lambda: run_timeseries_pf(net, prof, model=model))[:2])
        w, c, res = timed(lambda: run_timeseries_pf(net, prof))
        runs.append((w, c))
    walls = [r[0] for r in runs]
    walls_m = [r[0] for r in runs_m]
    t_pm, t_pm_med = min(walls_m), float(np.median(walls_m))
    c_pm = min(r[1] for r in runs_m)
    t_pg, t_med = min(walls), float(np.median(walls))
    c_pg = min(r[1] for r in runs)
    assert res is not None and res.converged.all()
    print(f"parkgrid   year {CODE} ({n_steps} steps, {len(net.bus)} buses): best {t_pg:.3f} s, "
          f"median {t_med:.3f} s wall of {args.repeat} ({', '.join(f'{w:.3f}' for w in walls)}); "
          f"{c_pg:.3f} s CPU; {numba.get_num_threads()} threads; mean "
          f"{res.iterations.mean():.2f} iterations/step, methods "
          f"{res.method.value_counts().to_dict()}")
    vm_m = run_timeseries_pf(net, prof, model=model).vm_pu.to_numpy()
    same_vm = np.array_equal(vm_m, res.vm_pu.to_numpy(), equal_nan=True)
    print(f"parkgrid   same year, network model built before the clock: best {t_pm:.3f} s, "
          f"median {t_pm_med:.3f} s wall of {args.repeat} "
          f"({', '.join(f'{w:.3f}' for w in walls_m)}); {c_pm:.3f} s CPU; voltages "
          f"{'identical' if same_vm else 'DIFFERENT'} to the run from the net")
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    t_pg1, _ = best_of(lambda: run_timeseries_pf(net, prof), 3)
    numba.set_num_threads(old)
    print(f"parkgrid   year, 1 thread: {t_pg1:.3f} s wall (best of 3)")

    sample = args.pp_sample if not args.quick else min(args.pp_sample, 100)
    per_step = pandapower_timeseries(net, prof, sample)
    t_pp = per_step * n_steps
    print(f"pandapower run_timeseries: {per_step * 1e3:.1f} ms/step measured on {sample} "
          f"steps -> year {t_pp:.0f} s (extrapolated x{n_steps / sample:.0f})")
    print(f"ratio pandapower / parkgrid: {t_pp / t_pg:,.0f}x (best), {t_pp / t_med:,.0f}x "
          "(median)")
    rows += [(f"parkgrid, year of {CODE}, {old} threads",
              f"{t_pg:.3f} s best, {t_med:.3f} s median of {args.repeat} ({c_pg:.3f} s CPU)"),
             (f"parkgrid, same, network model built before the clock, {old} threads",
              f"{t_pm:.3f} s best, {t_pm_med:.3f} s median of {args.repeat} ({c_pm:.3f} s CPU)"),
             ("parkgrid, same, 1 thread", f"{t_pg1:.3f} s"),
             (f"pandapower run_timeseries ({sample}-step sample, extrapolated)",
              f"{t_pp:.0f} s ({per_step * 1e3:.1f} ms/step)"),
             ("ratio pandapower / parkgrid",
              f"{t_pp / t_pg:,.0f}x best, {t_pp / t_med:,.0f}x median")]
    if args.no_pgm:
        return
    try:
        vm_pg = res.vm_pu.to_numpy()
        for method in ("newton_raphson", "iterative_current"):
            for same in (True, False):
                pw, u = pgm_year(net, prof, method, threads=2, repeat=args.pgm_repeat,
                                 same_output=same)
                dv = np.nanmax(np.abs(u - vm_pg))
                p_best, p_med = min(pw), float(np.median(pw))
                what = "same output" if same else "full records"
                print(f"power-grid-model {method} batch ({what}), 2 threads: best {p_best:.2f} s, "
                      f"median {p_med:.2f} s -> ratio {p_best / t_pg:.1f}x best/best, "
                      f"{p_med / t_med:.1f}x median/median (max |vm - parkgrid| {dv:.1e} pu: "
                      "PGM's own models)")
                print(f"  against parkgrid with the network model built before the clock: "
                      f"{p_best / t_pm:.1f}x best/best, {p_med / t_pm_med:.1f}x median/median")
                rows += [(f"power-grid-model {method}, {what}, 2 threads",
                          f"{p_best:.2f} s best, {p_med:.2f} s median"),
                         (f"ratio PGM {method} ({what}) / parkgrid with the model built",
                          f"{p_best / t_pm:.1f}x best/best, {p_med / t_pm_med:.1f}x "
                          "median/median"),
                         (f"ratio PGM {method} ({what}) / parkgrid",
                          f"{p_best / t_pg:.1f}x best/best, {p_med / t_med:.1f}x median/median")]
    except ImportError as err:
        print("power-grid-model not installed (bench extra):", err)


def scaling(net, prof, args, rows: list[tuple[str, str]]) -> None:
    """Wall time over grid size and horizon; grids are built one at a time (the
    5,000-bus year holds ~4 GB of profiles and ~6 GB of results)."""
    n_steps = len(next(iter(prof.values())))
    specs = [("1-LV-rural1--0-sw", 0), (CODE, 1), (f"{CODE} x10", 10), (f"{CODE} x52", 52)]
    horizons = [("day", 96), ("month", 2976), ("year", n_steps)]
    print("\n| grid | buses | " + " | ".join(f"{h} ({n} steps)" for h, n in horizons)
          + " | us per step and bus (year) |")
    print("|---|---|" + "---|" * (len(horizons) + 1))
    for name, copies in specs:
        if copies == 0:
            g, p = simbench_case(name)
        elif copies == 1:
            g, p = net, prof
        else:
            g, p = replicate(net, prof, copies)
        cells = []
        t_year = np.nan
        for h, n in horizons:
            if args.quick and len(g.bus) > 2000 and h == "year":
                cells.append("skipped (--quick)")
                continue
            sub = {k: v.iloc[:n] for k, v in p.items()}
            big = len(g.bus) * n > 5e6
            # (no tracemalloc here: it slows pandapower's deepcopy of a big net ~10x)
            t, r = best_of(lambda sub=sub, g=g: run_timeseries_pf(g, sub), 1 if big else 3)
            if big:
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                rows.append((f"{h} of {name} ({len(g.bus)} buses): wall / set-up",
                             f"{t:.1f} s / {r.info['setup_s']:.1f} s; process peak RSS so far "
                             f"{rss:.0f} MB"))
            ok = "" if r.converged.all() else f" ({(~r.converged).sum()} failed)"
            del r, sub
            cells.append(f"{t:.3f} s{ok}")
            if h == "year":
                t_year = t
        per = t_year / (len(g.bus) * n_steps) * 1e6
        print(f"| {name} | {len(g.bus)} | " + " | ".join(cells) + f" | {per:.3f} |")
        del g, p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller samples, no 5,000-bus year")
    ap.add_argument("--pp-sample", type=int, default=300, help="pandapower steps measured")
    ap.add_argument("--no-pgm", action="store_true", help="skip power-grid-model")
    ap.add_argument("--repeat", type=int, default=9, help="parkgrid year runs timed")
    ap.add_argument("--pgm-repeat", type=int, default=3, help="power-grid-model runs timed")
    ap.add_argument("--no-startup", action="store_true", help="skip cold/cached start-up")
    ap.add_argument("--scaling-only", action="store_true", help="only the scaling table")
    ap.add_argument("--no-scaling", action="store_true", help="skip the scaling table")
    args = ap.parse_args()
    if not args.quick:
        args.pp_sample = max(300, args.pp_sample)
    print("hardware:", hardware())
    print("load average at start (1/5/15 min):", os.getloadavg())
    rows: list[tuple[str, str]] = []
    if not (args.no_startup or args.scaling_only):
        st = startup()
        for label in ("cold", "cached"):
            s = st[label]
            print(f"start-up {label:6s}: import pandapower {s['import_pandapower_s']:.2f} s, "
                  f"parkgrid {s['import_parkgrid_s']:.2f} s; first call (96 steps, PQ grid) "
                  f"{s['pq_first_call_s']:.2f} s, then {s['pq_second_call_s']:.3f} s; "
                  f"first PV-grid call {s['pv_first_call_s']:.2f} s")
        cold = st["cold"]["pq_first_call_s"] + st["cold"]["pv_first_call_s"]
        cached = st["cached"]["pq_first_call_s"] + st["cached"]["pv_first_call_s"]
        steady = st["cached"]["pq_second_call_s"] + st["cached"]["pv_second_call_s"]
        rows += [("parkgrid JIT compile, cold (both calls)", f"{cold:.2f} s"),
                 ("parkgrid first calls with on-disk cache", f"{cached:.2f} s "
                  f"({cached - steady:+.2f} s over steady state)")]
    net, prof = simbench_case(CODE)
    if not args.scaling_only:
        compare_engines(net, prof, args, rows)
    if not args.no_scaling:
        scaling(net, prof, args, rows)
    print("\n| measure | value |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    print("load average at end (1/5/15 min):", os.getloadavg())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nthis process peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
