"""parkgrid: year-long simulation of zero-carbon industrial parks.

The public API::

    import parkgrid
    result = parkgrid.simulate("examples/flagship_park.toml")
    result.kpis, result.timeseries, result.save("results/flagship")
"""

from parkgrid.errors import (
    NetworkError,
    ParkgridError,
    PowerFlowError,
    ProfileError,
    ResultExistsError,
    ScenarioError,
    ValidationIssue,
)
from parkgrid.result import Result, load_result
from parkgrid.scenario import Scenario, load_scenario, scenario_from_dict
from parkgrid.simulate import simulate

__all__ = [
    "NetworkError",
    "ParkgridError",
    "PowerFlowError",
    "ProfileError",
    "Result",
    "ResultExistsError",
    "Scenario",
    "ScenarioError",
    "ValidationIssue",
    "load_result",
    "load_scenario",
    "scenario_from_dict",
    "simulate",
]
