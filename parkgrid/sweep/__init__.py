"""Parameter sweeps over a base scenario, run on ``dask.distributed``.

``load_sweep`` reads and validates a sweep file, ``run_sweep`` runs it on a local
cluster or an existing scheduler and writes a tidy Parquet table and a Pareto
figure; see ``parkgrid sweep --help`` and the README.

The names below are imported on first use (``parkgrid._lazy``), so that
building the command line does not load dask and pandapower.
"""

from typing import TYPE_CHECKING

from parkgrid._lazy import export_lazily

if TYPE_CHECKING:
    from parkgrid.sweep.pareto import pareto_figure, pareto_mask
    from parkgrid.sweep.run import SweepOutcome, load_shared_base, plan, read_parts, run_sweep
    from parkgrid.sweep.spec import (
        Parameter,
        SweepError,
        SweepSpec,
        apply_overrides,
        load_sweep,
        scenario_key,
        sweep_from_dict,
    )
    from parkgrid.sweep.worker import SharedBase, build_scenario, run_one

export_lazily(__name__, {
    "parkgrid.sweep.pareto": ("pareto_figure", "pareto_mask"),
    "parkgrid.sweep.run": ("SweepOutcome", "load_shared_base", "plan", "read_parts", "run_sweep"),
    "parkgrid.sweep.spec": ("Parameter", "SweepError", "SweepSpec", "apply_overrides",
                            "load_sweep", "scenario_key", "sweep_from_dict"),
    "parkgrid.sweep.worker": ("SharedBase", "build_scenario", "run_one"),
})

__all__ = [
    "Parameter",
    "SharedBase",
    "SweepError",
    "SweepOutcome",
    "SweepSpec",
    "apply_overrides",
    "build_scenario",
    "load_shared_base",
    "load_sweep",
    "pareto_figure",
    "pareto_mask",
    "plan",
    "read_parts",
    "run_one",
    "run_sweep",
    "scenario_key",
    "sweep_from_dict",
]
