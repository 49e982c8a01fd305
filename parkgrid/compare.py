"""Side by side: the strategies of one scenario, or saved result folders.

- :func:`compare_strategies` runs a scenario with every dispatch strategy and
  prices each with the one objective of its ``[optimal]`` section
  (:func:`parkgrid.optimal.evaluate_objective`), with each rule's gap to the
  optimum; ``parkgrid compare SCENARIO.toml``.
- :func:`compare_results` loads result folders and puts their KPIs and duration
  curves side by side; ``parkgrid compare DIR1 DIR2 ...``.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from parkgrid._format import format_number
from parkgrid.dispatch import STRATEGIES
from parkgrid.errors import ParkgridError
from parkgrid.inputs import asset_power_mw, dispatch_inputs
from parkgrid.kpis import COUNT_KPIS, ECONOMIC_KPI_INFO, KPI_INFO
from parkgrid.optimal.costs import ObjectiveBreakdown, evaluate_objective
from parkgrid.optimal.scenario import scenario_prices, unsupported_features
from parkgrid.report.compare import compare_kpis, comparison_page, duration_overlay_figure
from parkgrid.result import Result, load_result
from parkgrid.scenario import load_scenario
from parkgrid.scenario.engine_rules import check_engine_rules
from parkgrid.scenario.model import Scenario
from parkgrid.simulate import simulate
from parkgrid.timeseries import asset_column

__all__ = [
    "COMPARE_KPIS",
    "Comparison",
    "compare_policies",
    "compare_results",
    "compare_scenario_file",
    "compare_strategies",
    "format_comparison",
]

# KPIs shown side by side by ``parkgrid compare SCENARIO.toml``
COMPARE_KPIS = (
    "net_cost_cny", "energy_cost_cny", "capacity_charge_cny", "export_revenue_cny", "co2_t",
    "self_consumption_ratio", "self_sufficiency", "green_share_hourly", "h2_produced_kg",
    "h2_shortfall_kg", "curtailed_mwh", "imported_mwh", "exported_mwh", "peak_import_mw",
    "unserved_mwh", "battery_equivalent_full_cycles",
)
# and, for a scenario with [economics], every economic KPI (parkgrid.lifecycle)


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


def _view(scenario: Scenario, ts: pd.DataFrame) -> _ScheduleView:
    col = lambda c: ts[c].to_numpy(dtype=float)  # noqa: E731
    e = np.column_stack([col(asset_column("battery", b.name, "soc_pu")) * b.e_mwh
                         for b in scenario.battery]
                        ) if scenario.battery else np.zeros((len(ts), 0))
    coal = tuple(getattr(scenario, "coal", None) or ())
    coal_p = np.column_stack([col(asset_column("coal", u.name, "p_mw")) for u in coal]
                             ) if coal else np.zeros((len(ts), 0))
    starts = np.column_stack([col(asset_column("coal", u.name, "start")) for u in coal]
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


def compare_strategies(scenario: Scenario, strategies: tuple[str, ...] | None = None) -> Comparison:
    """Run *scenario* with every strategy (default: every rule and ``optimal``).

    The table has one column per strategy and rows: the objective, the KPIs of
    :data:`COMPARE_KPIS`, the wall time, and each strategy's gap to ``optimal``
    (CNY and percent of the optimum's objective). All strategies are priced
    with the one objective of the scenario's ``[optimal]`` section. A strategy
    the scenario cannot run (e.g. ``coal_peaking`` without a coal unit) is left
    out and listed in ``skipped`` with the reason.
    """
    names = strategies or (*STRATEGIES, "optimal")
    assert scenario.profiles is not None
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
                      **{k: float(r.kpis.get(k, np.nan)) for k in (
                          *COMPARE_KPIS,
                          *(ECONOMIC_KPI_INFO if scenario.economics is not None else ()))},
                      "wall_s": wall}
    table = pd.DataFrame(cols)
    if "optimal" in table:
        opt = table.loc["objective_cny", "optimal"]
        gap = table.loc["objective_cny"] - opt
        table.loc["gap_to_optimal_cny"] = gap
        table.loc["gap_to_optimal_pct"] = 100.0 * gap / abs(opt) if opt else np.nan
    return Comparison(table, objectives, skipped)


def _cannot_run(scenario: Scenario, strategy: str) -> str:
    """Why *scenario* cannot run with *strategy* (the loader's prerequisites), or ``""``."""
    if strategy == "optimal":
        missing = unsupported_features(scenario)
        return "does not model " + ", ".join(missing) if missing else ""
    data = copy.deepcopy(getattr(scenario, "data", None) or {})
    if not data.get("dispatch"):
        return ""
    data["dispatch"]["strategy"] = strategy
    issues: list[str] = []
    check_engine_rules(data, lambda field, msg: issues.append(f"{field}: {msg}"))
    return "; ".join(issues)


def format_comparison(table: pd.DataFrame) -> str:
    """Render the table of :func:`compare_strategies` with units."""
    units = {"objective_cny": "CNY", "wall_s": "s", "gap_to_optimal_cny": "CNY",
             "gap_to_optimal_pct": "%"}
    width = max(len(str(k)) for k in table.index)
    head = f"{'':<{width}}  " + "".join(f"{c:>18}" for c in table.columns) + "  unit"
    lines = [head, "-" * len(head)]
    for k, row in table.iterrows():
        unit = units.get(str(k), KPI_INFO.get(str(k), ("", ""))[0])
        cells = "".join(f"{format_number(v, count=k in COUNT_KPIS):>18}" for v in row)
        lines.append(f"{k!s:<{width}}  {cells}  {unit}")
    return "\n".join(lines)


def compare_scenario_file(path: str | Path, strategies: tuple[str, ...] | None = None) -> str:
    """``parkgrid compare SCENARIO.toml``: the comparison table of a scenario file, as text."""
    scenario = load_scenario(path)
    if unsupported_features(scenario):
        # the rules can still be compared among themselves
        strategies = strategies or tuple(STRATEGIES)
    cmp = compare_strategies(scenario, strategies)
    head = (f"{scenario.name}: strategies priced with one objective (energy + capacity + "
            f"carbon - export - hydrogen value + penalties - storage value change)")
    notes = "".join(f"\n{name}: skipped ({why})" for name, why in cmp.skipped.items())
    text = head + "\n\n" + format_comparison(cmp.table) + notes
    if scenario.depot or scenario.swap_station:
        opt = (float(cmp.table.loc["objective_cny", "optimal"]) if "optimal" in cmp.table
               else None)
        pol = compare_policies(scenario, optimal_cny=opt)
        text += ("\n\ncharging policies (every depot and swap station, strategy "
                 f"{scenario.strategy!r}), priced with the same objective\n\n"
                 + format_comparison(pol.table)
                 + "".join(f"\n{name}: skipped ({why})" for name, why in pol.skipped.items()))
    return text


#: KPIs of the truck stations shown by :func:`compare_policies`
POLICY_KPIS = ("fleet_deadline_misses", "fleet_energy_shifted_mwh",
               "fleet_charging_green_share", "depot_peak_mw", "depot_wait_mean_h",
               "swap_wait_mean_h")


def compare_policies(scenario: Scenario, *, optimal_cny: float | None = None) -> Comparison:
    """Run *scenario* once per charging policy, set on every depot and swap station.

    Columns ``uncontrolled``, ``valley``, ``surplus``, ``grid_cap`` (only where
    every station has a finite ``limit_kw``) and the scenario as given; rows as
    :func:`compare_strategies` plus the fleet KPIs of :data:`POLICY_KPIS`, every
    variant priced with the scenario's one objective. With *optimal_cny* (the
    optimum's objective, stations as flexible demands) each policy's gap to it.
    """
    assert scenario.profiles is not None
    inputs = dispatch_inputs(scenario, asset_power_mw(scenario))
    prices = scenario_prices(scenario, scenario.profiles.index).resolve(inputs)
    limits = [st.limit_kw for st in scenario.depot] + [w.limit_kw for w in scenario.swap_station]
    cols: dict[str, dict[str, float]] = {}
    objectives: dict[str, ObjectiveBreakdown] = {}
    skipped: dict[str, str] = {}
    for policy in ("as given", "uncontrolled", "valley", "surplus", "grid_cap"):
        if policy == "grid_cap" and not all(np.isfinite(limits)):
            skipped[policy] = "needs a finite limit_kw at every depot and swap station"
            continue
        variant = scenario if policy == "as given" else dataclasses.replace(
            scenario, depot=tuple(dataclasses.replace(d, policy=policy) for d in scenario.depot),
            swap_station=tuple(dataclasses.replace(w, policy=policy)
                               for w in scenario.swap_station))
        t0 = time.perf_counter()
        r = simulate(variant, pf_steps="none")
        obj = evaluate_objective(inputs, prices, _view(scenario, r.timeseries))  # type: ignore[arg-type]
        objectives[policy] = obj
        cols[policy] = {"objective_cny": obj.total,
                        **{k: float(r.kpis.get(k, np.nan)) for k in (*COMPARE_KPIS,
                                                                     *POLICY_KPIS)},
                        "wall_s": time.perf_counter() - t0}
    table = pd.DataFrame(cols)
    if optimal_cny is not None:
        gap = table.loc["objective_cny"] - optimal_cny
        table.loc["gap_to_optimal_cny"] = gap
        table.loc["gap_to_optimal_pct"] = 100.0 * gap / abs(optimal_cny) if optimal_cny else np.nan
    return Comparison(table, objectives, skipped)


def _label(result: Result, folder: str | os.PathLike[str] | None, taken: set[str]) -> str:
    base = Path(folder).name if folder is not None else str(result.scenario.name)
    label, k = base, 2
    while label in taken:
        label, k = f"{base} ({k})", k + 1
    taken.add(label)
    return label


def compare_results(
    folders: Sequence[str | os.PathLike[str]], *, output: str | os.PathLike[str] | None = None
) -> tuple[pd.DataFrame, Figure]:
    """Load result folders, return their KPI table and overlaid duration curves.

    With *output* (a ``.html`` path) a self-contained page with both is written too.

    Raises
    ------
    ParkgridError
        If fewer than two folders are given or one is not a results folder.
    """
    if len(folders) < 2:
        raise ParkgridError("compare needs at least two result folders")
    taken: set[str] = set()
    results = {}
    for f in folders:
        r = load_result(f)
        results[_label(r, f, taken)] = r
    table = compare_kpis(results)
    fig = duration_overlay_figure(results)
    if output is not None:
        Path(output).write_text(comparison_page(table, fig), encoding="utf-8")
    return table, fig
