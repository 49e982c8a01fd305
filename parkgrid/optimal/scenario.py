"""The optimal strategy for scenarios: prices and options from ``[optimal]``, comparison.

``[optimal]`` (see ``parkgrid schema optimal``) holds the window and commit
lengths, the carbon price, the hydrogen value, the penalties and, in
``[optimal.weights]``, the weights of the objective terms. The import price of
every step is the ``[grid.tariff]`` price of its hour; the capacity charge is
billed on each calendar month's peak, as the KPI ``capacity_charge_cny`` does.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from parkgrid._format import format_number
from parkgrid.dispatch import DispatchInputs, DispatchResult
from parkgrid.optimal.costs import ObjectiveBreakdown, Prices, Weights, evaluate_objective
from parkgrid.optimal.rolling import (
    OptimalOptions,
    OptimalSolution,
    OptimalUnsupportedError,
    solve_optimal,
)

__all__ = [
    "COMPARE_KPIS",
    "NO_EVENTS",
    "Comparison",
    "compare_scenario_file",
    "compare_strategies",
    "format_comparison",
    "optimal_dispatch",
    "scenario_options",
    "scenario_prices",
    "solve_scenario",
    "unsupported_features",
]

log = logging.getLogger(__name__)

# what parkgrid.kpis.engine_kpis reads from an engine run, for a run without events
NO_EVENTS = SimpleNamespace(trailers=(), trucks=(), n_events=0, n_kernel_calls=0)

# KPIs shown side by side by ``parkgrid compare``
COMPARE_KPIS = (
    "net_cost_cny", "energy_cost_cny", "capacity_charge_cny", "export_revenue_cny", "co2_t",
    "self_consumption_ratio", "self_sufficiency", "green_share_hourly", "h2_produced_kg",
    "h2_shortfall_kg", "curtailed_mwh", "imported_mwh", "exported_mwh", "peak_import_mw",
    "unserved_mwh", "battery_equivalent_full_cycles",
)


@dataclass(frozen=True)
class _Settings:
    window_h: float = 48.0
    commit_h: float = 24.0
    carbon_price_cny_per_t: float = 0.0
    hydrogen_value_cny_per_kg: float = 20.0
    unserved_penalty_cny_per_mwh: float = 1e6
    shortfall_penalty_cny_per_kg: float = 200.0
    mip_rel_gap: float = 1e-3
    weights: Weights = dataclasses.field(default_factory=Weights)


def _settings(scenario: Any) -> _Settings:
    raw = dict((getattr(scenario, "data", None) or {}).get("optimal") or {})
    weights = raw.pop("weights", None) or {}
    known = {f.name for f in dataclasses.fields(_Settings)} - {"weights"}
    return _Settings(**{k: v for k, v in raw.items() if k in known and v is not None},
                     weights=Weights(**weights))


def scenario_prices(scenario: Any, index: pd.Index) -> Prices:
    """Objective prices of *scenario* for the steps *index*."""
    s = _settings(scenario)
    grid = scenario.grid
    coal = tuple(getattr(scenario, "coal", None) or ())
    n = len(index)
    dated = isinstance(index, pd.DatetimeIndex)
    if grid.tariff is not None and dated:
        price = np.asarray(grid.tariff.price_by_hour(), float)[np.asarray(index.hour)]
    else:
        price = np.zeros(n)
    return Prices(
        import_cny_per_mwh=price, export_cny_per_mwh=grid.export_price_cny_per_mwh,
        period=np.asarray(index.month) if dated else None,
        capacity_charge_cny_per_mw_month=grid.capacity_charge_cny_per_mw_month,
        carbon_cny_per_t=s.carbon_price_cny_per_t, ef_kg_per_kwh=grid.ef_kg_per_kwh,
        hydrogen_cny_per_kg=s.hydrogen_value_cny_per_kg,
        unserved_cny_per_mwh=s.unserved_penalty_cny_per_mwh,
        shortfall_cny_per_kg=s.shortfall_penalty_cny_per_kg, weights=s.weights,
        coal_co2_t_per_mwh=np.array([u.coal_gce_per_kwh * u.co2_kg_per_kgce / 1000.0
                                     for u in coal], float),
        coal_start_cny=np.array([u.start_cost_cny for u in coal], float),
        # gce/kWh == kg/MWh: kg/MWh / 1000 x CNY/t
        coal_fuel_cny_per_mwh=np.array([u.coal_gce_per_kwh / 1000.0 * u.fuel_cny_per_tce
                                        for u in coal], float),
    )


def scenario_options(scenario: Any) -> OptimalOptions:
    """Rolling-horizon options of *scenario*."""
    s = _settings(scenario)
    return OptimalOptions(window_h=s.window_h, commit_h=s.commit_h, mip_rel_gap=s.mip_rel_gap)


def solve_scenario(scenario: Any, inputs: DispatchInputs) -> OptimalSolution:
    """Optimal rolling-horizon solution of *scenario* dispatching *inputs*."""
    missing = unsupported_features(scenario)
    if missing:
        raise OptimalUnsupportedError(
            f"{scenario.source}: strategy 'optimal' does not model " + ", ".join(missing)
            + " yet; remove them or choose a rule-based strategy")
    index = scenario.profiles.index
    sol = solve_optimal(inputs, scenario_prices(scenario, index), scenario_options(scenario),
                        index=index)
    log.info("optimal dispatch: %s", sol.summary())
    return sol


def unsupported_features(scenario: Any) -> list[str]:
    """Scenario features the optimal strategy does not model yet (empty: none)."""
    g = lambda obj, name: getattr(obj, name, None)  # noqa: E731
    checks = [
        ("truck charging [trucks]", g(scenario, "trucks")),
        ("events [[event]]", g(scenario, "events")),
        ("forced outages [[reliability]]", g(scenario, "reliability")),
        ("tariff seasons [[tariff_season]]", g(scenario, "tariff_season")),
        ("dispatch.import_cap_mw", g(scenario, "import_cap_mw")),
        ("dispatch.green_share_min_pu", g(scenario, "green_share_min_pu")),
    ]
    h2 = g(scenario, "hydrogen")
    if h2 is not None:
        checks.append(("hydrogen trailers", g(h2, "trailer_kg") or g(h2, "trailers_per_day")
                       or g(h2, "trailer_times")))
    for i, b in enumerate(getattr(scenario, "battery", ())):
        for f in ("self_discharge_pu_per_h", "fade_calendar_pu_per_year",
                  "fade_cycle_pu_per_efc", "c_rate_max"):
            checks.append((f"battery[{i}].{f}", g(b, f)))
    for i, e in enumerate(getattr(scenario, "electrolyser", ())):
        for f in ("part_load_curve", "standby_pu", "start_delay_h", "min_up_h", "min_down_h"):
            checks.append((f"electrolyser[{i}].{f}", g(e, f)))
    for i, c in enumerate(getattr(scenario, "coal", None) or ()):
        checks.append((f"coal[{i}].start_up_h", g(c, "start_up_h")))
    for i, ld in enumerate(getattr(scenario, "load", ())):
        checks.append((f"load[{i}].flexible_share", g(ld, "flexible_share")))
    return [what for what, value in checks if value]


def optimal_dispatch(scenario: Any, inputs: DispatchInputs) -> DispatchResult:
    """Dispatch *inputs* with the ``optimal`` strategy (what :func:`parkgrid.simulate` calls)."""
    return solve_scenario(scenario, inputs).dispatch


@dataclass(frozen=True)
class _ScheduleView:
    """The parts of a schedule :func:`evaluate_objective` reads, from a time series."""

    grid_import_mw: np.ndarray
    grid_export_mw: np.ndarray
    unserved_mw: np.ndarray
    h2_delivered_kg: np.ndarray
    h2_shortfall_kg: np.ndarray
    tank_kg: np.ndarray
    bat_e_mwh: np.ndarray
    coal_p_mw: np.ndarray
    coal_starts: np.ndarray


def _view(scenario: Any, ts: pd.DataFrame) -> _ScheduleView:
    col = lambda c: ts[c].to_numpy(dtype=float)  # noqa: E731
    e = np.column_stack([col(f"battery.{b.name}.soc_pu") * b.e_mwh for b in scenario.battery]
                        ) if scenario.battery else np.zeros((len(ts), 0))
    coal = tuple(getattr(scenario, "coal", None) or ())
    coal_p = np.column_stack([col(f"coal.{u.name}.p_mw") for u in coal]
                             ) if coal else np.zeros((len(ts), 0))
    starts = np.column_stack([col(f"coal.{u.name}.start") for u in coal]
                             ) if coal else np.zeros((len(ts), 0))
    return _ScheduleView(col("grid_import_mw"), col("grid_export_mw"), col("unserved_mw"),
                         col("h2_delivered_kg"), col("h2_shortfall_kg"), col("h2_tank_kg"), e,
                         coal_p, starts)


@dataclass(frozen=True)
class Comparison:
    """Strategies side by side (see :func:`compare_strategies`)."""

    table: pd.DataFrame
    objectives: dict[str, ObjectiveBreakdown]
    skipped: dict[str, str]


def compare_strategies(scenario: Any, strategies: tuple[str, ...] | None = None) -> Comparison:
    """Run *scenario* with every strategy (default: every rule and ``optimal``).

    The table has one column per strategy and rows: the objective, the KPIs of
    :data:`COMPARE_KPIS`, the wall time, and each strategy's gap to ``optimal``
    (CNY and percent of the optimum's objective). All strategies are priced
    with the one objective of the scenario's ``[optimal]`` section. A strategy
    the scenario cannot run (e.g. ``coal_peaking`` without a coal unit) is left
    out and listed in ``skipped`` with the reason.
    """
    from parkgrid.dispatch import STRATEGIES
    from parkgrid.errors import ParkgridError
    from parkgrid.simulate import asset_power_mw, dispatch_inputs, simulate

    names = strategies or (*STRATEGIES, "optimal")
    index = scenario.profiles.index
    inputs = dispatch_inputs(scenario, asset_power_mw(scenario))
    prices = scenario_prices(scenario, index).resolve(inputs)
    cols: dict[str, dict[str, float]] = {}
    objectives: dict[str, ObjectiveBreakdown] = {}
    skipped: dict[str, str] = {}
    for name in names:
        why = _cannot_run(scenario, name)
        if why:
            skipped[name] = why
            continue
        t0 = time.perf_counter()
        try:
            r = simulate(dataclasses.replace(scenario, strategy=name), pf_steps="none")
        except (ParkgridError, ValueError) as exc:
            skipped[name] = str(exc).splitlines()[0]
            continue
        wall = time.perf_counter() - t0
        obj = evaluate_objective(inputs, prices, _view(scenario, r.timeseries))  # type: ignore[arg-type]
        objectives[name] = obj
        cols[name] = {"objective_cny": obj.total,
                      **{k: float(r.kpis.get(k, np.nan)) for k in COMPARE_KPIS},
                      "wall_s": wall}
    table = pd.DataFrame(cols)
    if "optimal" in table:
        opt = table.loc["objective_cny", "optimal"]
        gap = table.loc["objective_cny"] - opt
        table.loc["gap_to_optimal_cny"] = gap
        table.loc["gap_to_optimal_pct"] = 100.0 * gap / abs(opt) if opt else np.nan
    return Comparison(table, objectives, skipped)


def _cannot_run(scenario: Any, strategy: str) -> str:
    """Why *scenario* cannot run with *strategy* (the loader's prerequisites), or ``""``."""
    import copy

    if strategy == "optimal":
        missing = unsupported_features(scenario)
        return "does not model " + ", ".join(missing) if missing else ""
    try:
        from parkgrid.scenario.engine_rules import check_engine_rules
    except ImportError:  # pragma: no cover - before the event engine
        return ""
    data = copy.deepcopy(getattr(scenario, "data", None) or {})
    if not data.get("dispatch"):
        return ""
    data["dispatch"]["strategy"] = strategy
    issues: list[str] = []
    check_engine_rules(data, lambda field, msg: issues.append(f"{field}: {msg}"))
    return "; ".join(issues)


def format_comparison(table: pd.DataFrame) -> str:
    """Render the table of :func:`compare_strategies` with units."""
    from parkgrid.kpis import COUNT_KPIS, KPI_INFO

    units = {"objective_cny": "CNY", "wall_s": "s", "gap_to_optimal_cny": "CNY",
             "gap_to_optimal_pct": "%"}
    width = max(len(str(k)) for k in table.index)
    head = f"{'':<{width}}  " + "".join(f"{c:>18}" for c in table.columns) + "  unit"
    lines = [head, "-" * len(head)]
    for k, row in table.iterrows():
        unit = units.get(str(k), KPI_INFO.get(str(k), ("", ""))[0])
        cells = "".join(f"{_fmt(v, count=k in COUNT_KPIS):>18}" for v in row)
        lines.append(f"{k!s:<{width}}  {cells}  {unit}")
    return "\n".join(lines)


def _fmt(v: float, *, count: bool = False) -> str:
    if not np.isfinite(v):
        return "n/a"
    return format_number(v, count=count)


def compare_scenario_file(path: str | Path, strategies: tuple[str, ...] | None = None) -> str:
    """``parkgrid compare SCENARIO.toml``: the comparison table of a scenario file, as text."""
    from parkgrid.scenario import load_scenario

    scenario = load_scenario(path)
    if unsupported_features(scenario):
        # the rules can still be compared among themselves
        from parkgrid.dispatch import STRATEGIES

        strategies = strategies or tuple(STRATEGIES)
    cmp = compare_strategies(scenario, strategies)
    head = (f"{scenario.name}: strategies priced with one objective (energy + capacity + "
            f"carbon - export - hydrogen value + penalties - storage value change)")
    notes = "".join(f"\n{name}: skipped ({why})" for name, why in cmp.skipped.items())
    return head + "\n\n" + format_comparison(cmp.table) + notes
