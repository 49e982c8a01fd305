"""Rule-based dispatch: array inputs, one numba kernel, array results."""

from parkgrid.dispatch.core import (
    DispatchInputs,
    DispatchResult,
    Packed,
    allocate_outputs,
    call_kernel,
    run_dispatch,
    strategy_code,
)
from parkgrid.dispatch.kernels import STRATEGY_CODES

STRATEGIES = tuple(STRATEGY_CODES)

__all__ = [
    "STRATEGIES",
    "DispatchInputs",
    "DispatchResult",
    "Packed",
    "allocate_outputs",
    "call_kernel",
    "run_dispatch",
    "strategy_code",
]
