"""Event-driven simulation: SimPy schedules events, numba kernels advance the state."""

from parkgrid.engine.engine import EngineResult, TruckLog, run_engine
from parkgrid.engine.events import (
    EngineSpec,
    Outage,
    TariffSeason,
    Trailers,
    Trucks,
    daily_times,
    sample_arrivals,
    sample_outages,
    shift_flexible_load,
)

__all__ = [
    "EngineResult",
    "EngineSpec",
    "Outage",
    "TariffSeason",
    "Trailers",
    "TruckLog",
    "Trucks",
    "daily_times",
    "run_engine",
    "sample_arrivals",
    "sample_outages",
    "shift_flexible_load",
]
