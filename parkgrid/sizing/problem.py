"""What the sizing LP takes and gives: capacity columns, targets, problem, solution."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parkgrid.dispatch import DispatchInputs, DispatchResult
from parkgrid.errors import ParkgridError
from parkgrid.optimal.costs import Prices

__all__ = ["CapacityColumn", "SizingInfeasibleError", "SizingProblem", "SizingSolution",
           "TargetRows"]


class SizingInfeasibleError(ParkgridError, ValueError):
    """No design within the capacity ranges meets the targets; names the binding ones."""


@dataclass(frozen=True)
class CapacityColumn:
    """One extendable capacity: its range and annual cost per unit.

    ``path`` names it as the scenario does (``battery[0].e_mwh``); ``lo``/``hi``
    [MW, MWh or kg]; ``cost_cny_per_unit_yr`` the annualised capital cost plus
    fixed O&M [CNY per MW, MWh or kg and year].
    """

    path: str
    lo: float
    hi: float
    cost_cny_per_unit_yr: float


@dataclass(frozen=True)
class TargetRows:
    """Targets the design must meet over the horizon (``None``: no target).

    ``green_share_annual_min`` and ``green_share_hourly_min`` [-],
    ``green_h2_kg_min`` [kg over the horizon], ``co2_t_max`` [tCO2 over the horizon].
    The module doc says how each is written as rows.
    """

    green_share_annual_min: float | None = None
    green_share_hourly_min: float | None = None
    green_h2_kg_min: float | None = None
    co2_t_max: float | None = None

    def items(self) -> list[tuple[str, float]]:
        """``(name, value)`` of each target set."""
        return [(f.name, v) for f in dataclasses.fields(self)
                if (v := getattr(self, f.name)) is not None]


@dataclass(frozen=True)
class SizingProblem:
    """A park whose capacities are to be sized.

    Attributes
    ----------
    inputs:
        The dispatch arrays with every extendable battery, electrolyser, tank
        and grid-import capacity at its largest value; ``res_mw`` is the RES
        of the fixed plants only.
    prices:
        The optimal strategy's prices (tariff, capacity charge, carbon,
        hydrogen value, penalties); storage values are not used.
    res:
        Extendable PV/wind plants: each a column and its availability per MW
        of capacity per step [MW/MW].
    battery_p, battery_e, electrolyser_p:
        One entry per battery / electrolyser: its column, or ``None`` when the
        capacity is fixed (at its value in *inputs*).
    tank, grid_import:
        The tank [kg] and grid-import [MW] columns, or ``None`` (fixed).
    targets:
        Rows the design must satisfy.
    notes:
        What the LP leaves out, for :attr:`SizingSolution.notes`.
    """

    inputs: DispatchInputs
    prices: Prices
    res: tuple[tuple[CapacityColumn, np.ndarray], ...] = ()
    battery_p: tuple[CapacityColumn | None, ...] = ()
    battery_e: tuple[CapacityColumn | None, ...] = ()
    electrolyser_p: tuple[CapacityColumn | None, ...] = ()
    tank: CapacityColumn | None = None
    grid_import: CapacityColumn | None = None
    targets: TargetRows = field(default_factory=TargetRows)
    notes: tuple[str, ...] = ()

    def columns(self) -> list[CapacityColumn]:
        """Every capacity column, in the LP's order."""
        cols = [c for c, _ in self.res]
        cols += [c for c in (*self.battery_p, *self.battery_e, *self.electrolyser_p,
                             self.tank, self.grid_import) if c is not None]
        return cols


@dataclass(frozen=True)
class SizingSolution:
    """The sized design, its schedule and its cost.

    ``capacities`` maps each column's path to its size; ``cost`` holds the
    annualised terms [CNY/yr] (``capacity_cny`` = annualised capital + fixed
    O&M of the extendable capacities; ``energy_cny`` the weighted import cost
    with its carbon cost; ``capacity_charge_cny``; ``export_revenue_cny``;
    ``hydrogen_value_cny``; ``penalties_cny``; ``coal_cny``; ``total_cny`` = the
    LP's objective per year); ``dispatch`` the LP's schedule of the sized design;
    ``stats`` size, passes and times; ``notes`` what the LP simplifies.
    """

    capacities: dict[str, float]
    cost: dict[str, float]
    dispatch: DispatchResult
    stats: dict[str, Any]
    notes: tuple[str, ...]
    hydrogen_green_kg_lp: float = 0.0
