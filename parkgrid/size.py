"""Size a park, then simulate the sized park as it will be operated: the truth check.

:func:`size` solves the capacity-expansion LP (:mod:`parkgrid.sizing`), writes the
sized design into the scenario, and simulates it with :func:`parkgrid.simulate`:
the scenario's own strategy (the rules that will be deployed), its events and
forced outages, and AC power flow on every step. :class:`SizingResult` puts the
LP's cost and KPIs beside the simulated ones with the gap, and lists every
network violation (bus voltage outside the band, line or transformer above
100 % loading, a step that did not converge) of the sized design; a design with
any is flagged (``network_ok`` false, and ``parkgrid size`` exits 1), never
silently accepted.

Costs compared like for like: both columns price their schedule with the same
terms [CNY/yr]: annualised capacity cost (the same design), TOU energy cost,
capacity charge, export revenue, carbon cost (carbon price x CO2), penalties
of unserved load and hydrogen shortfall (the ``[optimal]`` penalties) and the
value of hydrogen delivered. Over a horizon shorter than a year every term is
scaled to a year.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.errors import OptimalUnsupportedError, ParkgridError
from parkgrid.inputs import asset_power_mw, dispatch_inputs
from parkgrid.io import atomic_folder
from parkgrid.kpis import KPI_INFO
from parkgrid.profiles import localize_index
from parkgrid.result import Result
from parkgrid.scenario.extendable import sized_toml
from parkgrid.scenario.load import scenario_from_dict
from parkgrid.scenario.model import Scenario
from parkgrid.simulate import simulate
from parkgrid.sizing.lp import WINDOW_H, SizingSolution, solve_sizing
from parkgrid.sizing.scenario import (
    SizingScenario,
    load_sizing_scenario,
    sizing_problem,
    sizing_scenario,
)
from parkgrid.stages import copper_plate_run, kpi_stage, timeseries_frame
from parkgrid.timeseries import NetworkLimits

__all__ = ["SizingResult", "size"]

log = logging.getLogger(__name__)

#: KPIs shown side by side (LP schedule vs simulated)
TABLE_KPIS = ("res_available_mwh", "curtailed_mwh", "imported_mwh", "exported_mwh",
              "peak_import_mw", "unserved_mwh", "self_sufficiency", "green_share_annual",
              "green_share_hourly", "co2_total_t", "h2_produced_kg", "h2_green_kg",
              "h2_shortfall_kg", "battery_equivalent_full_cycles")
#: network KPIs of the simulated design (the LP has no network)
NETWORK_KPIS = ("pf_steps", "pf_steps_not_converged", "vm_min_pu", "vm_max_pu",
                "steps_voltage_violation", "line_loading_max_percent",
                "trafo_loading_max_percent", "steps_overloaded")
#: target key -> (KPI, sense, scale to the KPI's unit)
TARGETS = {"clean_power_share_min": ("green_share_annual", ">=", 1.0),
           "green_share_hourly_min": ("green_share_hourly", ">=", 1.0),
           "green_h2_t_per_yr_min": ("h2_green_kg", ">=", 1000.0),
           "co2_t_max": ("co2_total_t", "<=", 1.0)}
VM_BAND_PU = (NetworkLimits.vm_min_pu, NetworkLimits.vm_max_pu)
LOADING_MAX_PERCENT = NetworkLimits.loading_max_percent
_TINY = 1e-6  # [MW, MWh]: a battery or electrolyser sized below this is left out


@dataclass(frozen=True)
class SizingResult:
    """The sized design, the LP's view of it and the simulated truth.

    Attributes
    ----------
    solution:
        The LP's design, schedule, cost terms and statistics.
    scenario:
        The sized scenario (a normal scenario: every capacity one number).
    sized_toml:
        The sized scenario file's text (empty when sized from a dictionary).
    table:
        Rows = quantities (capacities, annualised cost terms [CNY/yr], KPIs,
        targets, network KPIs); columns ``unit``, ``lp``, one per simulated
        strategy (``simulated:<strategy>``) and ``gap:<strategy>`` (simulated - LP).
    simulated:
        Strategy -> its simulated :class:`~parkgrid.result.Result`.
    violations:
        One row per network element and violation kind of each simulated
        strategy: ``strategy``, ``element`` (bus, line, trafo, step), ``name``,
        ``kind``, ``steps`` violating and the ``worst`` value.
    skipped:
        Strategy -> why it was not simulated (``--optimal`` on a scenario the
        optimal strategy does not model).
    """

    solution: SizingSolution
    scenario: Scenario
    sized_toml: str
    table: pd.DataFrame
    simulated: dict[str, Result]
    violations: pd.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def network_ok(self) -> bool:
        """No simulated strategy saw a network violation or a non-converged step."""
        return self.violations.empty

    def markdown(self) -> str:
        """Return the side-by-side table as Markdown, with the LP's notes and the verdict."""
        t = self.table.reset_index()
        cols = list(t.columns)
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for _, row in t.iterrows():
            lines.append("| " + " | ".join(_fmt(row[c]) for c in cols) + " |")
        out = "\n".join(lines) + "\n"
        out += "\nLP: " + "; ".join(self.solution.notes) + ".\n"
        st = self.solution.stats
        if st.get("direction_steps") and st.get("lower_bound_cny") is not None:
            out += (f"\nLP bound: the exact optimum of the sizing model (one direction per "
                    f"step) lies in [{st['lower_bound_cny']:,.0f}, {st['upper_bound_cny']:,.0f}]"
                    f" CNY/yr, gap {st['gap_pct']:.2f} % of the design's cost.\n")
        for s, why in self.skipped.items():
            out += f"\n{s} not simulated: {why}\n"
        if self.network_ok:
            out += "\nNetwork: no violation on any simulated step.\n"
        else:
            out += (f"\nNETWORK VIOLATIONS: the sized design violates the network "
                    f"({len(self.violations)} element(s) and kinds; see violations.csv).\n")
        return out

    def save(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        """Write the output folder; nothing half-written is left on error.

        ``sized.toml``, ``sizing.csv`` and ``sizing.md`` (the table),
        ``violations.csv``, ``sizing.json`` (capacities, LP cost and statistics)
        and one result folder per simulated strategy (``simulated_<strategy>``).
        """
        with atomic_folder(directory, overwrite=overwrite) as tmp:
            if self.sized_toml:
                (tmp / "sized.toml").write_text(self.sized_toml, encoding="utf-8")
            self.table.to_csv(tmp / "sizing.csv")
            (tmp / "sizing.md").write_text(self.markdown(), encoding="utf-8")
            self.violations.to_csv(tmp / "violations.csv", index=False)
            (tmp / "sizing.json").write_text(json.dumps({
                "capacities": self.solution.capacities, "lp_cost_cny_per_yr": self.solution.cost,
                "lp_stats": self.solution.stats, "lp_notes": list(self.solution.notes),
                "network_ok": self.network_ok, "skipped": self.skipped,
            }, indent=2, default=float) + "\n")
            for strategy, res in self.simulated.items():
                folder = res.save(tmp / f"simulated_{strategy}", figure=False)
                if self.sized_toml:  # the file as simulated, not the one with ranges
                    (folder / "scenario.toml").write_text(self.sized_toml, encoding="utf-8")
        return Path(directory)


def size(
    scenario: SizingScenario | str | Path | Mapping[str, Any], *,
    costs: Mapping[str, float] | None = None, optimal: bool = False,
    progress: bool = False, solver: str = "auto", profiles: pd.DataFrame | None = None,
    first_pass: str = "hull",
    second_pass: str = "auto",
    window_h: float = WINDOW_H,
    window_sweeps: int = 1,
) -> SizingResult:
    """Size *scenario* and simulate the sized park (module doc).

    Parameters
    ----------
    scenario:
        A scenario file, a scenario dictionary (TOML structure) or a
        :class:`~parkgrid.sizing.scenario.SizingScenario`; capacities to size are
        written ``{min = ..., max = ...}``.
    costs:
        Annualised capital cost plus fixed O&M per unit and year [CNY/(MW yr),
        CNY/(MWh yr), CNY/(kg yr)] by extendable path (``battery[0].e_mwh``),
        overriding what the scenario's cost keys and ``[economics]`` give
        (:func:`parkgrid.sizing.scenario.capacity_costs`).
    optimal:
        Also simulate the sized park with the optimal strategy (the rolling-horizon
        MILP; slower), unless the scenario's strategy is ``optimal`` already.
    progress:
        Progress bars on the long steps.
    solver:
        HiGHS's LP solver (:func:`parkgrid.sizing.solve_sizing`): ``auto``,
        ``simplex``, ``ipm``, ``hipo`` or ``choose``.
    profiles:
        Profile steps to size over instead of the scenario's year (a slice of
        it, for previews and tests); sizing uses the full year otherwise.
    first_pass:
        The first solve where export pays more than import costs
        (:func:`parkgrid.sizing.solve_sizing`): ``hull`` (a lower bound on the exact
        optimum, and the gap) or ``import_price``.
    second_pass, window_h, window_sweeps:
        The second solve there: ``full`` (the whole LP with each step's direction
        fixed), ``windows`` (the first solve's capacities kept, the schedule re-solved
        in windows of *window_h* hours, *window_sweeps* times over the year) or
        ``auto`` (``full`` up to 3,000 steps,
        ``windows`` beyond).
    """
    sz = _sizing_scenario(scenario)
    if profiles is not None:
        sz = dataclasses.replace(sz, scenario=dataclasses.replace(sz.scenario,
                                                                  profiles=profiles))
    sc = sz.scenario
    assert sc.profiles is not None
    problem = sizing_problem(sz, costs)
    with _bar(progress, "sizing LP") as done:
        sol = solve_sizing(problem, solver=solver, first_pass=first_pass,
                           second_pass=second_pass, window_h=window_h,
                           window_sweeps=window_sweeps)
        done()
    log.info("sizing LP: %s", sol.stats)
    sized_sc, text = _sized_scenario(sz, sol)
    hours = len(sc.profiles) * float(problem.inputs.dt_h)
    per_year = 8760.0 / hours
    lp_kpis = _lp_kpis(sized_sc, sol, _kept(sz, sol))
    simulated: dict[str, Result] = {}
    skipped: dict[str, str] = {}
    strategies = [sized_sc.strategy]
    if optimal and sized_sc.strategy != "optimal":
        strategies.append("optimal")
    for strategy in strategies:
        run_sc = (sized_sc if strategy == sized_sc.strategy
                  else dataclasses.replace(sized_sc, strategy=strategy))
        try:
            simulated[strategy] = simulate(run_sc, pf_steps="all", progress=progress)
        except OptimalUnsupportedError as exc:
            skipped[strategy] = str(exc)
    table = _table(sz, sol, lp_kpis, simulated, per_year)
    violations = pd.concat([_violations(s, r) for s, r in simulated.items()] or
                           [_violations("", None)], ignore_index=True)
    return SizingResult(solution=sol, scenario=sized_sc, sized_toml=text, table=table,
                        simulated=simulated, violations=violations, skipped=skipped)


def _sizing_scenario(scenario: Any) -> SizingScenario:
    if isinstance(scenario, SizingScenario):
        return scenario
    if isinstance(scenario, Mapping):
        return sizing_scenario(dict(scenario))
    return load_sizing_scenario(scenario)


class _bar:
    """One tqdm step for a long call (nothing without *progress*)."""

    def __init__(self, progress: bool, what: str) -> None:
        self._bar: Any = None
        if progress:
            from tqdm.auto import tqdm
            self._bar = tqdm(total=1, desc=what, leave=False)

    def __enter__(self) -> Any:
        return (self._bar.update if self._bar is not None else lambda *a: None)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()


def _kept(sz: SizingScenario, sol: SizingSolution) -> dict[str, list[int]]:
    """Batteries and electrolysers kept in the sized scenario (not sized to zero)."""
    caps = sol.capacities
    bat = [i for i in range(len(sz.scenario.battery))
           if caps.get(f"battery[{i}].e_mwh", 1.0) > _TINY]
    el = [i for i in range(len(sz.scenario.electrolyser))
          if caps.get(f"electrolyser[{i}].p_mw", 1.0) > _TINY]
    return {"battery": bat, "electrolyser": el}


def _sized_scenario(sz: SizingScenario, sol: SizingSolution) -> tuple[Scenario, str]:
    """Return the scenario with each extendable at its size, and its file text."""
    raw = copy.deepcopy(sz.raw)
    values = dict(sol.capacities)
    kept = _kept(sz, sol)
    for s in sz.extendables:
        v = max(values[s.path], 0.0)
        if s.key == "capacity_kg":
            v = max(v, 1.0)  # the tank key must be > 0; 1 kg where the LP chose none
        values[s.path] = v
        node = raw[s.kind] if s.index is None else raw[s.kind][s.index]
        node[s.key] = v
    drop = tuple((k, i) for k in ("battery", "electrolyser")
                 for i in range(len(raw.get(k, []))) if i not in kept[k])
    for kind in ("battery", "electrolyser"):
        if kind in raw:
            raw[kind] = [a for i, a in enumerate(raw[kind]) if i in kept[kind]]
    sc = sz.scenario
    if not raw.get("electrolyser") and (raw.get("hydrogen") or {}).get("offtake_kg_per_h"):
        raise ParkgridError(f"{sc.source}: the sized design has no electrolyser, but "
                            "hydrogen.offtake_kg_per_h asks for hydrogen; raise the "
                            "electrolyser's min or its value")
    sized = scenario_from_dict(raw, source=sc.source, base_dir=sc.base_dir, net=sc.net,
                               profiles=sc.profiles)
    text = ""
    if sz.text:
        note = ("Sized by `parkgrid size`; each extendable {min, max} is replaced by its "
                "size.\nRelative paths are as in the original file.")
        text = sized_toml(sz.text, list(sz.extendables), values, drop=drop, note=note)
    return sized, text


def _lp_kpis(sized: Scenario, sol: SizingSolution, kept: dict[str, list[int]]
             ) -> dict[str, float]:
    """KPIs of the LP's schedule, computed as a simulation's are."""
    d = sol.dispatch
    nb, ne = d.bat_charge_mw.shape[1], d.el_p_mw.shape[1]
    repl: dict[str, Any] = {}
    for f in dataclasses.fields(d):
        v = getattr(d, f.name)
        if not isinstance(v, np.ndarray) or v.ndim != 2:
            continue
        if f.name.startswith("bat_") and v.shape[1] == nb:
            repl[f.name] = v[:, kept["battery"]]
        elif f.name.startswith("el_") and v.shape[1] == ne:
            repl[f.name] = v[:, kept["electrolyser"]]
    d = dataclasses.replace(d, **repl)
    assert sized.profiles is not None
    powers = asset_power_mw(sized)
    run = copper_plate_run(sized, powers, dispatch_inputs(sized, powers), d)
    index = localize_index(sized.profiles.index, sized.utc_offset_h)
    ts = timeseries_frame(sized, run, index)
    return kpi_stage(sized, run, ts)


def _costs(sz: SizingScenario, sol: SizingSolution, kpis: Mapping[str, float],
           per_year: float) -> dict[str, float]:
    """Annualised cost terms [CNY/yr] of a schedule's KPIs (module doc)."""
    opt = sz.scenario.optimal
    w = opt.weights
    carbon = w.carbon * opt.carbon_price_cny_per_t * kpis.get("co2_total_t", 0.0)
    penalties = (opt.unserved_penalty_cny_per_mwh * kpis.get("unserved_mwh", 0.0)
                 + opt.shortfall_penalty_cny_per_kg * kpis.get("h2_shortfall_kg", 0.0))
    h2 = w.hydrogen * opt.hydrogen_value_cny_per_kg * kpis.get("h2_delivered_kg", 0.0)
    out = {
        "capacity_cny_per_yr": sol.cost["capacity_cny"],
        "energy_cost_cny_per_yr": w.energy * kpis.get("energy_cost_cny", 0.0) * per_year,
        "capacity_charge_cny_per_yr": w.capacity * kpis.get("capacity_charge_cny", 0.0)
        * per_year,
        "export_revenue_cny_per_yr": w.export * kpis.get("export_revenue_cny", 0.0) * per_year,
        "carbon_cny_per_yr": carbon * per_year,
        "penalties_cny_per_yr": penalties * per_year,
        "hydrogen_value_cny_per_yr": h2 * per_year,
    }
    out["annualised_cost_cny_per_yr"] = (
        out["capacity_cny_per_yr"] + out["energy_cost_cny_per_yr"]
        + out["capacity_charge_cny_per_yr"] - out["export_revenue_cny_per_yr"]
        + out["carbon_cny_per_yr"] + out["penalties_cny_per_yr"]
        - out["hydrogen_value_cny_per_yr"])
    return out


def _table(sz: SizingScenario, sol: SizingSolution, lp_kpis: Mapping[str, float],
           simulated: Mapping[str, Result], per_year: float) -> pd.DataFrame:
    rows: dict[str, dict[str, Any]] = {}
    for s in sz.extendables:
        rows[f"size: {s.path}"] = {"unit": s.unit, "lp": sol.capacities[s.path],
                                   **{f"simulated:{k}": sol.capacities[s.path]
                                      for k in simulated}}
    lp_cost = _costs(sz, sol, lp_kpis, per_year)
    sim_cost = {k: _costs(sz, sol, r.kpis, per_year) for k, r in simulated.items()}
    for key in lp_cost:
        rows[key] = {"unit": "CNY/yr", "lp": lp_cost[key],
                     **{f"simulated:{k}": c[key] for k, c in sim_cost.items()}}
    for key in TABLE_KPIS:
        rows[key] = {"unit": _unit(key), "lp": lp_kpis.get(key, np.nan),
                     **{f"simulated:{k}": r.kpis.get(key, np.nan) for k, r in simulated.items()}}
    for key, value in sz.scenario.targets:
        kpi, sense, scale = TARGETS.get(key, (key, "", 1.0))
        if key not in TARGETS:
            continue
        want = value * scale / per_year if kpi in ("h2_green_kg", "co2_total_t") else value
        rows[f"target met: {key} {sense} {value:g}"] = {
            "unit": "1 = met", "lp": _met(lp_kpis.get(kpi, np.nan), sense, want),
            **{f"simulated:{k}": _met(r.kpis.get(kpi, np.nan), sense, want)
               for k, r in simulated.items()}}
    for key in NETWORK_KPIS:
        rows[key] = {"unit": _unit(key), "lp": np.nan,
                     **{f"simulated:{k}": r.kpis.get(key, np.nan) for k, r in simulated.items()}}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "quantity"
    for k in simulated:
        table[f"gap:{k}"] = table[f"simulated:{k}"] - table["lp"]
    return table


def _met(v: float, sense: str, want: float) -> float:
    """1.0 where *v* meets the target *want*, else 0.0."""
    return float(v >= want - 1e-9 if sense == ">=" else v <= want + 1e-9)


def _unit(key: str) -> str:
    return KPI_INFO.get(key, ("",))[0]


def _violations(strategy: str, res: Result | None) -> pd.DataFrame:
    cols = ["strategy", "element", "name", "kind", "steps", "worst"]
    pf = None if res is None else res.network
    if pf is None:
        return pd.DataFrame(columns=cols)
    out: list[tuple[Any, ...]] = []
    ok = pf.converged.to_numpy(dtype=bool)
    if (~ok).any():
        out.append((strategy, "step", "", "power flow not converged", int((~ok).sum()),
                    float("nan")))
    names = pf.names
    vm = pf.vm_pu[ok]
    lo, hi = VM_BAND_PU
    for kind, bad, worst in (("voltage below 0.95 pu", vm < lo, vm.min()),
                             ("voltage above 1.05 pu", vm > hi, vm.max())):
        for bus in vm.columns[bad.any().to_numpy()]:
            out.append((strategy, "bus", str(names["bus"].get(bus, bus)), kind,
                        int(bad[bus].sum()), float(worst[bus])))
    for element, frame in (("line", pf.line_loading_percent[ok]),
                           ("trafo", pf.trafo_loading_percent[ok])):
        over = frame.gt(LOADING_MAX_PERCENT)
        for idx in frame.columns[over.any().to_numpy()]:
            out.append((strategy, element, str(names[element].get(idx, idx)),
                        f"loading above {LOADING_MAX_PERCENT:g} %", int(over[idx].sum()),
                        float(frame[idx].max())))
    return pd.DataFrame(out, columns=cols)


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        x = float(v)
        if not np.isfinite(x):
            return "" if np.isnan(x) else str(x)
        return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"
    return str(v)
