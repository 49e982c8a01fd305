"""Synthetic scale-up grids and the power-grid-model peer of the benchmark suite.

The grid builder (copies of a SimBench MV grid on one slack, each copy's profiles
rolled in time, :mod:`parkgrid.bench.grids`) and the pandapower ->
power-grid-model converter (:mod:`parkgrid.bench.pgm`) are part of the package,
so the synthetic cases run from an installed wheel; ``benchmarks/`` scripts
import the same modules.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.bench.grids import replicate, simbench_case

__all__ = ["BASE_CODE", "pgm_batch", "replicated_grid", "sample_positions"]

#: the SimBench grid that is replicated
BASE_CODE = "1-MV-rural--0-sw"


def sample_positions(n: int, k: int) -> np.ndarray:
    """Return *k* evenly spread step positions out of *n* (all of them if k >= n)."""
    return np.unique(np.linspace(0, n - 1, min(k, n)).astype(np.int64))


def replicated_grid(
    n_buses: int, *, code: str = BASE_CODE, steps: int | None = None,
) -> tuple[Any, dict[tuple[str, str], pd.DataFrame]]:
    """Build a grid of about *n_buses* buses: copies of SimBench *code* on one slack.

    Parameters
    ----------
    n_buses:
        Target number of buses; ``max(1, round(n_buses / n_base))`` copies are made.
    code:
        SimBench code of the grid to copy.
    steps:
        Keep only the first *steps* profile steps (default: the whole year).

    Returns
    -------
    (net, profiles)
        A new pandapower net and its absolute profiles
        ``{(table, column): DataFrame(time x element index)}`` [MW, Mvar].
    """
    net, prof = simbench_case(code)
    if hasattr(net, "profiles"):
        net.profiles = {}  # the absolute profiles are returned; keep the net small
    if steps is not None:
        prof = {k: v.iloc[:steps] for k, v in prof.items()}
    copies = max(1, round(n_buses / len(net.bus)))
    return replicate(net, prof, copies)


def pgm_batch(net: Any, profiles: dict[tuple[str, str], pd.DataFrame],
              ours_vm: pd.DataFrame | None = None, *, max_steps: int = 2000) -> dict[str, Any]:
    # ours_vm: parkgrid's voltages indexed by step position (at least the sampled ones)
    """Time power-grid-model's batch Newton-Raphson on up to *max_steps* evenly spread steps.

    The time is extrapolated to all steps (PGM's batch memory grows with steps x
    elements: a full year of a 5,000-bus grid would need tens of GB).
    """
    # power-grid-model is an optional dependency (the bench extra): imported when timed
    from power_grid_model import CalculationMethod, ComponentType, PowerGridModel

    from parkgrid.bench.pgm import batch_update, to_pgm  # optional dependency

    n = len(next(iter(profiles.values())))

    pos = sample_positions(n, max_steps)
    profiles = {k: v.iloc[pos] for k, v in profiles.items()}
    data, ids = to_pgm(net)
    update = batch_update(ids, net, profiles)
    model = PowerGridModel(data)
    t0 = time.perf_counter()
    out = model.calculate_power_flow(
        update_data=update, calculation_method=CalculationMethod.newton_raphson,
        threading=0, error_tolerance=1e-8, max_iterations=30,
        output_component_types={ComponentType.node})
    wall = time.perf_counter() - t0
    rec: dict[str, Any] = {"method": "newton_raphson", "sample_steps": len(pos),
                           "sample_s": wall, "estimated_s": wall * n / len(pos)}
    if ours_vm is not None:
        u = out[ComponentType.node]["u_pu"]
        ours = ours_vm.loc[pos].to_numpy()
        if u.shape == ours.shape:
            rec["max_dvm_pu"] = float(np.nanmax(np.abs(u - ours)))
    return rec
