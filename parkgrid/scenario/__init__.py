"""Scenarios: plain data validated once at the edge."""

from parkgrid.scenario.load import load_scenario, scenario_from_dict, validate_scenario_dict
from parkgrid.scenario.model import (
    PV,
    Battery,
    Electrolyser,
    Grid,
    Hydrogen,
    Load,
    Scenario,
    Tariff,
    Wind,
)

__all__ = [
    "PV",
    "Battery",
    "Electrolyser",
    "Grid",
    "Hydrogen",
    "Load",
    "Scenario",
    "Tariff",
    "Wind",
    "load_scenario",
    "scenario_from_dict",
    "validate_scenario_dict",
]
