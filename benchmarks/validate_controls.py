"""Validate the voltage controllers against pandapower's run_control on sampled steps.

Two grids, each on ``--steps`` sampled steps (default 200, spread over the year, solved
in time order so the tap positions and reactive powers carry from sample to sample in
both solvers):

* the flagship park of ``examples/flagship_voltage_control.toml`` (dispatched year,
  main transformer's tap changer, Q(U) on every PV and wind inverter), and a variant
  with a narrow Q(U) dead band (1.00-1.01 pu) so that the Q(U) loop works;
* SimBench ``1-MV-rural--0-sw`` with its own year profiles: tap changers on both
  HV/MV transformers (band 1.0 +- 0.0085 pu, pandapower's default for a 1.5 % step)
  and the VDE-AR-N 4110 default Q(U) curve on its 12 MV generators.

The reference is ``run_reference_pf(controls=...)``: pandapower's ``DiscreteTapControl``
and ``DERController`` (``QModelQVCurve``) with ``run_control``. Prints, per grid, the
largest voltage difference [pu], tap positions that differ, the largest reactive
power difference [Mvar] and the time of each solver.

    python benchmarks/validate_controls.py [--steps 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import parkgrid  # noqa: E402
from parkgrid.bench.grids import simbench_case  # noqa: E402
from parkgrid.network import build_park_net, pf_profiles  # noqa: E402
from parkgrid.powerflow import (  # noqa: E402
    Controls,
    QVControl,
    TapChanger,
    run_reference_pf,
    run_timeseries_pf,
)
from parkgrid.stages import pf_controls  # noqa: E402


def compare(name: str, net, prof, controls: Controls, steps: int, seed: int) -> dict:
    """Solve the sampled steps with both and print the differences."""
    n = len(next(iter(prof.values())).index)
    pos = np.sort(np.random.default_rng(seed).choice(n, min(steps, n), replace=False))
    sub = {k: v.iloc[pos] for k, v in prof.items()}
    t0 = time.perf_counter()
    ours = run_timeseries_pf(net, sub, controls=controls)
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ref = run_reference_pf(net, sub, controls=controls, progress=True)
    t2 = time.perf_counter()
    dvm = float(np.nanmax(np.abs(ours.vm_pu.to_numpy() - ref.vm_pu.to_numpy())))
    taps_diff = int((ours.tap_pos.to_numpy() != ref.tap_pos.to_numpy()).any(axis=1).sum())
    dq = (float(np.max(np.abs(ours.q_control_mvar.to_numpy() - ref.q_control_mvar.to_numpy())))
          if ours.q_control_mvar.shape[1] else 0.0)
    out = {
        "grid": name, "steps": len(pos), "max_dvm_pu": dvm, "steps_taps_differ": taps_diff,
        "max_dq_mvar": dq, "tap_moves": int(ours.tap_moves.to_numpy().sum()),
        "q_active_steps": int((np.abs(ours.q_control_mvar.to_numpy()) > 1e-6).any(axis=1).sum()),
        "max_abs_q_mvar": float(np.abs(ours.q_control_mvar.to_numpy()).max(initial=0.0)),
        "parkgrid_s": t1 - t0, "pandapower_s": t2 - t1,
        "converged": bool(ours.converged.all() and ref.converged.all()),
        "settled": bool(ours.control_settled.all() and ref.control_settled.all()),
    }
    print(out, flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--only", choices=("flagship", "flagship_tight", "rural"), default=None)
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}", flush=True)
    if args.only in (None, "flagship", "flagship_tight"):
        scenario = parkgrid.load_scenario(ROOT / "examples" / "flagship_voltage_control.toml")
        result = parkgrid.simulate(scenario)
        park = build_park_net(scenario)
        prof = pf_profiles(scenario, park, result.timeseries)
        controls = pf_controls(scenario, park)
        assert controls is not None
        if args.only in (None, "flagship"):
            compare("flagship", park.net, prof, controls, args.steps, 1)
        if args.only in (None, "flagship_tight"):
            tight = Controls(controls.tap_changers, tuple(
                QVControl(c.element, c.index, (0.97, 1.0, 1.01, 1.04), (0.33, 0.0, 0.0, -0.33),
                          c.sn_mva, c.s_max_mva) for c in controls.q_u))
            compare("flagship, Q(U) dead band 1.00-1.01", park.net, prof, tight, args.steps, 2)
    if args.only in (None, "rural"):
        net, prof = simbench_case("1-MV-rural--0-sw")
        mv = net.sgen[net.sgen["type"].astype(str).str.endswith("_MV")]
        q_u = tuple(QVControl("sgen", int(i), (0.94, 0.96, 1.04, 1.06), (0.33, 0.0, 0.0, -0.33),
                              float(r.sn_mva), float(r.sn_mva) / 0.95) for i, r in mv.iterrows())
        taps = tuple(TapChanger(int(t), 1.0 - 0.0085, 1.0 + 0.0085) for t in net.trafo.index)
        compare("1-MV-rural--0-sw", net, prof, Controls(taps, q_u), args.steps, 3)
    print(f"load average at end: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
