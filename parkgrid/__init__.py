"""parkgrid: year-long simulation of zero-carbon industrial parks.

The public API::

    import parkgrid
    result = parkgrid.simulate("examples/flagship_park.toml")
    result.kpis, result.timeseries, result.save("results/flagship")

The names below are imported on first use (``parkgrid._lazy``), so that
``import parkgrid`` and ``parkgrid --help`` do not load pandapower and numba.
"""

from typing import TYPE_CHECKING

from parkgrid._lazy import export_lazily
from parkgrid._version import __version__ as __version__
from parkgrid.errors import (
    NetworkError,
    ParkgridError,
    PowerFlowError,
    ProfileError,
    ResultExistsError,
    ScenarioError,
    ValidationIssue,
)

if TYPE_CHECKING:
    from parkgrid.hosting import hosting_capacity
    from parkgrid.result import Result, load_result
    from parkgrid.scenario import Scenario, load_scenario, scenario_from_dict
    from parkgrid.simulate import simulate
    from parkgrid.size import SizingResult, size

export_lazily(__name__, {
    "parkgrid.hosting": ("hosting_capacity",),
    "parkgrid.result": ("Result", "load_result"),
    "parkgrid.scenario": ("Scenario", "load_scenario", "scenario_from_dict"),
    "parkgrid.simulate": ("simulate",),
    "parkgrid.size": ("SizingResult", "size"),
})

__all__ = [
    "NetworkError",
    "ParkgridError",
    "PowerFlowError",
    "ProfileError",
    "Result",
    "ResultExistsError",
    "Scenario",
    "ScenarioError",
    "SizingResult",
    "ValidationIssue",
    "hosting_capacity",
    "load_result",
    "load_scenario",
    "scenario_from_dict",
    "simulate",
    "size",
]
