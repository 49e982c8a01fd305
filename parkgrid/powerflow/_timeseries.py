"""Public entry point of the batch power flow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from parkgrid.powerflow._reference import run_reference_pf
from parkgrid.powerflow._result import TimeseriesPF

__all__ = ["run_timeseries_pf"]


def run_timeseries_pf(
    net: Any,
    profiles: Mapping[tuple[str, str], pd.DataFrame],
    *,
    tol_pu: float = 1e-9,
    max_iter: int = 30,
    method: str = "auto",
) -> TimeseriesPF:
    """Solve every step of *profiles* on *net* (placeholder: pandapower reference)."""
    return run_reference_pf(net, profiles, tolerance_mva=tol_pu)
