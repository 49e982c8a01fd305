"""Synthetic scale-up grids and the power-grid-model peer, from the power-flow benchmark.

The grid builder (copies of a SimBench MV grid on one slack, each copy's profiles
rolled in time) and the pandapower -> power-grid-model converter live with the
power-flow benchmark in the checkout's ``benchmarks/`` folder (``_grids.py``,
``_pgm.py``). The suite loads them from there by file path, so there is one
builder, not two; outside a checkout the synthetic cases and the PGM column say
they are unavailable.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BASE_CODE", "benchmarks_module", "pgm_batch", "replicated_grid"]

#: the SimBench grid that is replicated
BASE_CODE = "1-MV-rural--0-sw"
_BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def benchmarks_module(name: str) -> ModuleType:
    """Load ``benchmarks/<name>.py`` of the checkout (not put on ``sys.path``).

    Raises
    ------
    FileNotFoundError
        Outside a source checkout (an installed wheel has no ``benchmarks/``).
    """
    path = _BENCHMARKS / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: synthetic grids and the power-grid-model "
                                "peer need the benchmarks/ folder of a parkgrid checkout")
    spec = importlib.util.spec_from_file_location(f"parkgrid_benchmarks_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    grids = benchmarks_module("_grids")
    net, prof = grids.simbench_case(code)
    if hasattr(net, "profiles"):
        net.profiles = {}  # the absolute profiles are returned; keep the net small
    if steps is not None:
        prof = {k: v.iloc[:steps] for k, v in prof.items()}
    copies = max(1, round(n_buses / len(net.bus)))
    return grids.replicate(net, prof, copies)


def pgm_batch(net: Any, profiles: dict[tuple[str, str], pd.DataFrame],
              ours_vm: pd.DataFrame | None = None, *, max_steps: int = 2000) -> dict[str, Any]:
    # ours_vm: parkgrid's voltages indexed by step position (at least the sampled ones)
    """Time power-grid-model's batch Newton-Raphson on up to *max_steps* evenly spread steps.

    The time is extrapolated to all steps (PGM's batch memory grows with steps x
    elements: a full year of a 5,000-bus grid would need tens of GB).
    """
    pgm = benchmarks_module("_pgm")
    from power_grid_model import CalculationMethod, ComponentType, PowerGridModel

    n = len(next(iter(profiles.values())))
    from parkgrid.bench.runner import sample_positions

    pos = sample_positions(n, max_steps)
    profiles = {k: v.iloc[pos] for k, v in profiles.items()}
    data, ids = pgm.to_pgm(net)
    update = pgm.batch_update(ids, net, profiles)
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
