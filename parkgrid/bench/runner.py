"""Run benchmark cases: time them, collect KPIs, peers and provenance."""

from __future__ import annotations

import copy
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.bench.cases import SUITE_VERSION, BenchCase, LoadedCase, load_case
from parkgrid.bench.synthetic import pgm_batch, sample_positions
from parkgrid.kpis import network_kpis
from parkgrid.network import build_park_net, pf_profiles
from parkgrid.powerflow import run_timeseries_pf
from parkgrid.simulate import simulate

__all__ = ["machine_info", "package_versions", "pandapower_sample", "run_case", "run_suite"]

_PACKAGES = ("parkgrid", "numpy", "scipy", "pandas", "numba", "pandapower", "simbench",
             "power-grid-model", "power-grid-model-io", "dask", "distributed", "pyarrow")


def machine_info() -> dict[str, Any]:
    """CPU, cores, memory, OS and Python of this machine."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = float("nan")
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError, AttributeError):
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_gb, 1),
            "platform": platform.platform(), "python": platform.python_version(),
            "hostname": platform.node(), "load_average_1min": round(load[0], 2)}


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that matter for speed and results."""
    out: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_info() -> dict[str, Any]:
    """Commit of the parkgrid checkout and whether it has uncommitted changes."""
    root = Path(__file__).resolve().parents[2]

    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                                 text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


#: bus-steps per power-flow call of a grid case: a year of a 5,000-bus grid is solved
#: in blocks so that its results (several frames of steps x buses) fit in memory
_BLOCK_VALUES = 20_000_000
#: steps power-grid-model solves in one batch (its memory grows with steps x elements)
PGM_SAMPLE = 2000


def pandapower_sample(
    net: Any, profiles: dict[tuple[str, str], pd.DataFrame], n_sample: int,
    ours_vm: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Time pandapower's ``run_timeseries`` on *n_sample* evenly spread steps.

    Returns seconds per step, the time for all the steps extrapolated from it, and (if
    *ours_vm*, parkgrid's voltages indexed by step position, is given) the largest
    voltage difference on the sample [pu].
    """
    import pandapower.control as ctrl
    import pandapower.timeseries as pts

    n = len(next(iter(profiles.values())))
    pos = sample_positions(n, n_sample)
    net = copy.deepcopy(net)
    for (table, col), frame in profiles.items():
        sample = frame.iloc[pos].reset_index(drop=True)
        sample.columns = [str(c) for c in sample.columns]
        ctrl.ConstControl(net, element=table, variable=col,
                          element_index=frame.columns.to_numpy(),
                          data_source=pts.DFData(sample), profile_name=list(sample.columns))
    ow = pts.OutputWriter(net, output_path=None, log_variables=[("res_bus", "vm_pu")])
    # warm-up, not timed: pandapower's own numba functions compile on the first call
    pts.run_timeseries(copy.deepcopy(net), time_steps=range(1), verbose=False)
    t0 = time.perf_counter()
    pts.run_timeseries(net, time_steps=range(len(pos)), verbose=False)
    dt = time.perf_counter() - t0
    out: dict[str, Any] = {"sample_steps": len(pos), "s_per_step": dt / len(pos),
                           "estimated_s": dt / len(pos) * n}
    if ours_vm is not None:
        theirs = ow.output["res_bus.vm_pu"]
        ours = ours_vm.loc[pos]
        cols = [c for c in theirs.columns if c in ours.columns]
        diff = np.abs(theirs[cols].to_numpy() - ours[cols].to_numpy())
        out["max_dvm_pu"] = float(np.nanmax(diff)) if diff.size else float("nan")
    return out


def _pgm_peer(case: BenchCase, net: Any, profiles: dict[tuple[str, str], pd.DataFrame],
              vm: pd.DataFrame | None) -> dict[str, Any]:
    """power-grid-model's batch power flow over the same steps, where it can join in."""
    try:
        import power_grid_model  # noqa: F401
    except ImportError:
        return {"skipped": "power-grid-model not installed (bench extra)"}
    if case.kind == "park":
        return {"skipped": "park nets have storage, which the benchmark converter lacks"}

    rec = pgm_batch(net, profiles, vm, max_steps=PGM_SAMPLE)
    return rec


def _time_park(loaded: LoadedCase, keep: np.ndarray) -> tuple[float, dict[str, float], Any,
                                                              Any]:

    sc = loaded.scenario
    simulate(sc, pf_steps="day:1")  # warm-up: numba kernels loaded/compiled, not timed
    t0 = time.perf_counter()
    result = simulate(sc)
    wall = time.perf_counter() - t0
    park = build_park_net(sc)
    steps: Any = result.network.vm_pu.index if result.network is not None else []
    profiles = pf_profiles(sc, park, result.timeseries.loc[steps])
    vm = result.network.vm_pu.reset_index(drop=True) if result.network is not None else None
    return wall, {k: float(v) for k, v in result.kpis.items()}, (park.net, profiles), vm


@dataclass
class _Reduced:
    """Per-step extremes of a power flow: all :func:`parkgrid.kpis.network_kpis` needs."""

    converged: pd.Series
    vm_pu: pd.DataFrame
    line_loading_percent: pd.DataFrame
    trafo_loading_percent: pd.DataFrame
    losses_mw: pd.Series


def _extremes(frame: pd.DataFrame, *funcs: Any) -> pd.DataFrame:
    a = frame.to_numpy(dtype=float)
    if a.shape[1] == 0:
        return pd.DataFrame(index=frame.index)
    # fmax/fmin skip NaN (out-of-service elements) without warnings
    return pd.DataFrame({i: f.reduce(a, axis=1) for i, f in enumerate(funcs)}, index=frame.index)


def _time_grid(loaded: LoadedCase, keep: np.ndarray) -> tuple[float, dict[str, float], Any,
                                                              Any]:

    prof = loaded.profiles
    assert prof is not None
    n = len(next(iter(prof.values())))
    block = max(96, _BLOCK_VALUES // max(loaded.n_buses, 1))
    run_timeseries_pf(loaded.net, {k: v.iloc[:96] for k, v in prof.items()})  # warm-up
    t0 = time.perf_counter()
    parts, kept = [], []
    for s in range(0, n, block):
        pf = run_timeseries_pf(loaded.net, {k: v.iloc[s:s + block] for k, v in prof.items()})
        parts.append(_Reduced(
            pf.converged, _extremes(pf.vm_pu, np.fmin, np.fmax),
            _extremes(pf.line_loading_percent, np.fmax),
            _extremes(pf.trafo_loading_percent, np.fmax), pf.losses_mw))
        local = keep[(keep >= s) & (keep < s + block)]
        kept.append(pf.vm_pu.iloc[local - s].set_axis(local, axis=0))
    red = _Reduced(*(pd.concat([getattr(p, f) for p in parts])
                     for f in ("converged", "vm_pu", "line_loading_percent",
                               "trafo_loading_percent", "losses_mw")))
    kpis = network_kpis(red, dt_h=0.25)
    wall = time.perf_counter() - t0
    return wall, kpis, (loaded.net, prof), pd.concat(kept)


def run_case(case: BenchCase, *, steps: int | None = None, peers: bool = True,
             pp_sample: int = 48) -> dict[str, Any]:
    """Load, warm up and time one case; return its JSON record.

    *steps* limits the power flow to the first steps (a partial run is never
    checked against the reference KPIs).
    """
    t0 = time.perf_counter()
    loaded = load_case(case, steps=steps)
    load_s = time.perf_counter() - t0
    timer = _time_park if case.kind == "park" else _time_grid
    n_pf = (len(loaded.scenario.profiles) if case.kind == "park"
            else len(next(iter(loaded.profiles.values()))))  # type: ignore[union-attr]
    keep = np.union1d(sample_positions(n_pf, pp_sample), sample_positions(n_pf, PGM_SAMPLE))
    wall, kpis, (net, profiles), vm = timer(loaded, keep)
    n_steps = (len(loaded.scenario.profiles) if case.kind == "park"
               else len(next(iter(profiles.values()))))
    rec: dict[str, Any] = {
        "name": case.name, "kind": case.kind, "source": case.source,
        "description": case.description, "buses": loaded.n_buses, "steps": n_steps,
        "pf_steps": int(kpis.get("pf_steps", 0)), "full_year": steps is None,
        "load_s": load_s, "wall_s": wall, "steps_per_s": n_steps / wall if wall > 0 else None,
        "kpis": kpis, "peers": {},
    }
    if peers and rec["pf_steps"] > 0:
        try:
            pp_rec = pandapower_sample(net, profiles, pp_sample, vm)
            # pandapower's estimate covers the power flow only; ours includes the
            # dispatch and KPIs of park cases, so the ratio is on the safe side
            pp_rec["ratio"] = pp_rec["estimated_s"] / wall
            rec["peers"]["pandapower"] = pp_rec
        except Exception as exc:  # a peer failing must not hide our own result
            rec["peers"]["pandapower"] = {"skipped": f"{type(exc).__name__}: {exc}"}
        try:
            pgm_rec = _pgm_peer(case, net, profiles, vm)
            if "estimated_s" in pgm_rec:
                pgm_rec["ratio"] = pgm_rec["estimated_s"] / wall
            rec["peers"]["power_grid_model"] = pgm_rec
        except Exception as exc:
            rec["peers"]["power_grid_model"] = {"skipped": f"{type(exc).__name__}: {exc}"}
    return rec


def run_suite(cases: list[BenchCase], *, steps: int | None = None, peers: bool = True,
              pp_sample: int = 48, progress: Any = None) -> dict[str, Any]:
    """Run *cases* and return the suite record (machine, versions, git, cases).

    A case whose inputs cannot be had here (simbench or power-grid-model not
    installed, a scenario file missing) is listed under ``"unavailable"`` with the
    reason; any other error propagates.
    """
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    records, unavailable = [], []
    for case in cases:
        if progress is not None:
            progress(case)
        try:
            records.append(run_case(case, steps=steps, peers=peers, pp_sample=pp_sample))
        except (ImportError, FileNotFoundError) as exc:
            unavailable.append({"name": case.name, "reason": f"{type(exc).__name__}: {exc}"})
    return {
        "suite_version": SUITE_VERSION, "created_utc": started,
        "machine": machine_info(), "packages": package_versions(), "git": git_info(),
        "options": {"steps": steps, "peers": peers, "pp_sample": pp_sample},
        "cases": records, "unavailable": unavailable,
    }
