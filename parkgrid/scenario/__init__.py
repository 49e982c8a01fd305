"""Scenarios: plain data validated once at the edge.

The names below are imported on first use (``parkgrid._lazy``), so that reading the
schema tables (``parkgrid schema``) does not load pandapower.
"""

from typing import TYPE_CHECKING

from parkgrid._lazy import export_lazily

if TYPE_CHECKING:
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

export_lazily(__name__, {
    "parkgrid.scenario.load": ("load_scenario", "scenario_from_dict", "validate_scenario_dict"),
    "parkgrid.scenario.model": ("PV", "Battery", "Electrolyser", "Grid", "Hydrogen", "Load",
                                "Scenario", "Tariff", "Wind"),
})

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
