"""The optimal strategy for scenarios: prices and options from ``[optimal]``.

``[optimal]`` (see ``parkgrid schema optimal``) holds the window and commit
lengths, the carbon price, the hydrogen value, the penalties and, in
``[optimal.weights]``, the weights of the objective terms. The import price of
every step is the ``[grid.tariff]`` price of its hour; the capacity charge is
billed on each calendar month's peak, as the KPI ``capacity_charge_cny`` does.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.dispatch import DispatchInputs, DispatchResult
from parkgrid.errors import OptimalUnsupportedError
from parkgrid.optimal._inputs import UNMODELLED, FlexDemand
from parkgrid.optimal.costs import Prices, Weights
from parkgrid.optimal.rolling import OptimalOptions, OptimalSolution, solve_optimal
from parkgrid.scenario.model import Optimal, Scenario
from parkgrid.timeseries import tou_price

__all__ = [
    "optimal_dispatch",
    "scenario_options",
    "scenario_prices",
    "solve_scenario",
    "unsupported_features",
]

log = logging.getLogger(__name__)

def _settings(scenario: Scenario) -> Optimal:
    """Return the typed ``[optimal]`` section of *scenario* (defaults from the schema)."""
    return scenario.optimal


def _weights(settings: Optimal) -> Weights:
    """``[optimal.weights]`` as the objective's weights."""
    return Weights(**dataclasses.asdict(settings.weights))


def scenario_prices(scenario: Scenario, index: pd.Index) -> Prices:
    """Objective prices of *scenario* for the steps *index*."""
    s = _settings(scenario)
    grid = scenario.grid
    coal = tuple(getattr(scenario, "coal", None) or ())
    n = len(index)
    dated = isinstance(index, pd.DatetimeIndex)
    price = tou_price(grid.tariff, index) if dated else np.zeros(n)
    return Prices(
        import_cny_per_mwh=price, export_cny_per_mwh=grid.export_price_cny_per_mwh,
        period=np.asarray(index.month) if dated else None,
        capacity_charge_cny_per_mw_month=grid.capacity_charge_cny_per_mw_month,
        carbon_cny_per_t=s.carbon_price_cny_per_t, ef_kg_per_kwh=grid.ef_kg_per_kwh,
        hydrogen_cny_per_kg=s.hydrogen_value_cny_per_kg,
        unserved_cny_per_mwh=s.unserved_penalty_cny_per_mwh,
        shortfall_cny_per_kg=s.shortfall_penalty_cny_per_kg, weights=_weights(s),
        coal_co2_t_per_mwh=np.array([u.co2_t_per_mwh for u in coal], float),
        coal_start_cny=np.array([u.start_cost_cny for u in coal], float),
        # gce/kWh == kg/MWh: kg/MWh / 1000 x CNY/t
        coal_fuel_cny_per_mwh=np.array([u.coal_gce_per_kwh / 1000.0 * u.fuel_cny_per_tce
                                        for u in coal], float),
    )


def scenario_options(scenario: Scenario) -> OptimalOptions:
    """Rolling-horizon options of *scenario*."""
    s = _settings(scenario)
    return OptimalOptions(window_h=s.window_h, commit_h=s.commit_h, mip_rel_gap=s.mip_rel_gap)


def solve_scenario(scenario: Scenario, inputs: DispatchInputs,
                   flex: tuple[FlexDemand, ...] = ()) -> OptimalSolution:
    """Optimal rolling-horizon solution of *scenario* dispatching *inputs*.

    *flex* are its truck stations as flexible demands (see
    :class:`parkgrid.optimal._inputs.FlexDemand`).
    """
    missing = unsupported_features(scenario)
    if missing:
        raise OptimalUnsupportedError(
            f"{scenario.source}: strategy 'optimal' does not model " + ", ".join(missing)
            + " yet; remove them or choose a rule-based strategy")
    if scenario.profiles is None:
        raise ValueError(f"{scenario.source}: the scenario was loaded without its profiles")
    index = scenario.profiles.index
    sol = solve_optimal(inputs, scenario_prices(scenario, index), scenario_options(scenario),
                        index=index, flex=flex)
    log.info("optimal dispatch: %s", sol.summary())
    return sol


def unsupported_features(scenario: Any) -> list[str]:
    """Scenario features the optimal strategy does not model yet (empty: none).

    One entry per use, named as the scenario names it (``battery[0].c_rate_max``,
    ``events [[event]]``); the features are :data:`parkgrid.optimal._inputs.UNMODELLED`.
    """
    out: list[str] = []
    for u in UNMODELLED:
        field = u.scenario_field
        if field is None:
            continue
        if "[]." in field:  # an asset key, for every asset of the kind
            kind, key = field.split("[].")
            out += [f"{kind}[{i}].{key}" for i, a in enumerate(getattr(scenario, kind, None) or ())
                    if getattr(a, key, None)]
        elif field == "hydrogen.trailers":
            h2 = getattr(scenario, "hydrogen", None)
            if h2 is not None and (getattr(h2, "trailer_kg", None)
                                   or getattr(h2, "trailers_per_day", None)
                                   or getattr(h2, "trailer_times", None)):
                out.append(u.scenario_label)
        elif getattr(scenario, field, None):
            out.append(u.scenario_label)
    return out


def optimal_dispatch(scenario: Any, inputs: DispatchInputs) -> DispatchResult:
    """Dispatch *inputs* with the ``optimal`` strategy (what :func:`parkgrid.simulate` calls)."""
    return solve_scenario(scenario, inputs).dispatch
