"""Rule-based dispatch: array inputs, numba kernels, array results."""

from parkgrid.dispatch.core import DispatchInputs, DispatchResult, run_dispatch
from parkgrid.dispatch.kernels import KERNELS

STRATEGIES = tuple(sorted(KERNELS))

__all__ = ["STRATEGIES", "DispatchInputs", "DispatchResult", "run_dispatch"]
