"""Speed of the controlled year: SimBench 1-MV-rural--0-sw with tap changers and Q(U).

One process, one run (not a test: nothing here asserts). Prints the load average, then:

* the uncontrolled year (``run_timeseries_pf``, 35,136 steps), median of ``--repeat``;
* the controlled year (tap changers on both HV/MV transformers, band 1.0 +- 0.0085 pu;
  VDE-AR-N 4110 default Q(U) on the 12 MV generators), median of ``--repeat``;
* pandapower ``run_timeseries`` with the same controllers (``ConstControl`` for the
  profiles, ``DiscreteTapControl``, ``DERController`` with ``QModelQVCurve``) on a
  sample of ``--sample`` steps spread over the year, extrapolated to the year;
* the ratios controlled / uncontrolled (target <= 3; wall and process CPU time) and
  pandapower / parkgrid;
* with ``--step-by-step`` the year by the step-by-step path (``method="newton"``) and
  the differences from it (tap positions, voltages).

    python benchmarks/bench_controls.py [--repeat 3] [--sample 20] [--step-by-step]
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

from parkgrid.bench.grids import simbench_case  # noqa: E402
from parkgrid.powerflow import (  # noqa: E402
    Controls,
    QVControl,
    TapChanger,
    run_timeseries_pf,
)

CODE = "1-MV-rural--0-sw"
CURVE = ((0.94, 0.96, 1.04, 1.06), (0.33, 0.0, 0.0, -0.33))


def controls_of(net) -> Controls:
    """Tap changers on every HV/MV transformer, Q(U) on every MV generator."""
    mv = net.sgen[net.sgen["type"].astype(str).str.endswith("_MV")]
    q_u = tuple(QVControl("sgen", int(i), *CURVE, float(r.sn_mva), float(r.sn_mva) / 0.95)
                for i, r in mv.iterrows())
    taps = tuple(TapChanger(int(t), 1.0 - 0.0085, 1.0 + 0.0085) for t in net.trafo.index)
    return Controls(taps, q_u)


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """Median wall and process CPU time (all threads) of *repeat* calls, the last result."""
    times, cpu, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(times), statistics.median(cpu), out


def pandapower_controlled(net, prof, controls: Controls, n_sample: int) -> float:
    """Seconds per step of pandapower's run_timeseries with the same controllers."""
    import pandas as pd
    import simbench as sb
    from pandapower.control import DiscreteTapControl
    from pandapower.control.controller.DERController import DERController, QModelQVCurve
    from pandapower.control.controller.DERController.DERBasics import QVCurve
    from pandapower.timeseries import run_timeseries

    n = len(next(iter(prof.values())).index)
    pos = np.linspace(0, n - 1, n_sample).astype(int)
    sub = {k: v.iloc[pos].reset_index(drop=True) for k, v in prof.items()}
    work = copy.deepcopy(net)
    q_idx = [c.index for c in controls.q_u]
    if ("sgen", "q_mvar") in sub:
        sub[("sgen", "q_mvar")][[c for c in sub[("sgen", "q_mvar")].columns if c in q_idx]] = 0.0
    sb.apply_const_controllers(work, sub)
    for tc in controls.tap_changers:
        DiscreteTapControl(work, tc.trafo, tc.vm_lower_pu, tc.vm_upper_pu, level=1)
    for c in controls.q_u:
        work.sgen.loc[c.index, "sn_mva"] = c.sn_mva
        DERController(work, c.index, q_model=QModelQVCurve(QVCurve(list(c.vm_points_pu),
                                                                   list(c.q_points_pu))),
                      saturate_sn_mva=c.s_max_mva, q_prio=False, max_q_error=1e-6)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_timeseries(work, time_steps=range(n_sample), verbose=False,
                       continue_on_divergence=True)
    _ = pd
    return (time.perf_counter() - t) / n_sample


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sample", type=int, default=20, help="pandapower steps (0: skip)")
    ap.add_argument("--step-by-step", action="store_true",
                    help="also the step-by-step path (method='newton') and the differences")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}", flush=True)
    net, prof = simbench_case(CODE)
    controls = controls_of(net)
    n = len(next(iter(prof.values())).index)
    run_timeseries_pf(net, {k: v.iloc[:200] for k, v in prof.items()})  # warm-up (compile)
    run_timeseries_pf(net, {k: v.iloc[:200] for k, v in prof.items()}, controls=controls)
    t_plain, c_plain, _ = timed(lambda: run_timeseries_pf(net, prof), args.repeat)
    t_ctl, c_ctl, res = timed(lambda: run_timeseries_pf(net, prof, controls=controls),
                              args.repeat)
    print(f"{CODE}, {n} steps (medians of {args.repeat}): uncontrolled {t_plain:.3f} s wall / "
          f"{c_plain:.3f} s CPU, controlled {t_ctl:.3f} s wall / {c_ctl:.3f} s CPU; ratio "
          f"{t_ctl / t_plain:.2f} wall, {c_ctl / c_plain:.2f} CPU (target <= 3)")
    meth = res.method.value_counts()
    print(f"  controlled year: {int(res.tap_moves.to_numpy().sum())} tap operations, "
          f"{int((~res.control_settled).sum())} steps not settled, "
          f"{int(meth.get('fixed_point', 0))} steps solved in the lanes, "
          f"{int(meth.get('newton', 0))} step by step (tap moves, misses), "
          f"{int((res.q_control_mvar.abs() > 1e-6).any(axis=1).sum())} steps with Q(U) active",
          flush=True)
    if args.step_by_step:
        t_nr, c_nr, ref = timed(lambda: run_timeseries_pf(net, prof, controls=controls,
                                                          method="newton"), 1)
        dvm = float(np.nanmax(np.abs(ref.vm_pu.to_numpy() - res.vm_pu.to_numpy())))
        taps = int((ref.tap_pos.to_numpy() != res.tap_pos.to_numpy()).any(axis=1).sum())
        print(f"  step-by-step path (method='newton'): {t_nr:.3f} s wall / {c_nr:.3f} s CPU; "
              f"against it: {taps} steps with other taps, max |dvm| {dvm:.2e} pu", flush=True)
    if args.sample <= 0:
        print(f"load average at end: {os.getloadavg()}", flush=True)
        return
    per_step = pandapower_controlled(net, prof, controls, args.sample)
    print(f"pandapower run_timeseries with the same controllers: {per_step * 1e3:.1f} ms/step "
          f"on {args.sample} steps, {per_step * n:.0f} s for the year (extrapolated); "
          f"{per_step * n / t_ctl:.0f}x parkgrid's controlled year")
    print(f"load average at end: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
