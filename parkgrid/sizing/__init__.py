"""Capacity sizing: a full-horizon LP over the optimal strategy's operation.

:mod:`parkgrid.sizing.lp` builds and solves the LP on arrays (:class:`SizingProblem` ->
:class:`SizingSolution`); :mod:`parkgrid.sizing.scenario` builds the problem of a
scenario with extendable capacities. The truth check (simulating the sized park)
is :func:`parkgrid.size.size`, a pipeline.
"""

from parkgrid.sizing.lp import (
    CapacityColumn,
    SizingInfeasibleError,
    SizingProblem,
    SizingSolution,
    TargetRows,
    solve_sizing,
)

__all__ = [
    "CapacityColumn",
    "SizingInfeasibleError",
    "SizingProblem",
    "SizingSolution",
    "TargetRows",
    "solve_sizing",
]
