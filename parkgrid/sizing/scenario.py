"""A scenario with extendable capacities as a :class:`~parkgrid.sizing.SizingProblem`.

:func:`load_sizing_scenario` reads a scenario file whose capacities may be
``{min, max}`` tables (:mod:`parkgrid.scenario.extendable`); the scenario is
validated at its largest design. :func:`sizing_problem` turns it into the LP's
arrays: the optimal strategy's inputs and prices (:mod:`parkgrid.optimal.scenario`),
one capacity column per extendable key with its annual cost per unit, and the
``[targets]`` the LP can hold (annual and hourly green share, green hydrogen,
CO2 cap). Events and forced outages are not planned for: the LP sizes for the
year without them, and the truth check (:func:`parkgrid.size.size`) simulates them.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.economics import annualised_cost_per_unit, asset_costs
from parkgrid.errors import ParkgridError, ScenarioError, ValidationIssue
from parkgrid.inputs import asset_power_mw, dispatch_inputs
from parkgrid.optimal.scenario import scenario_prices, unsupported_features
from parkgrid.scenario.extendable import Extendable, split_extendables
from parkgrid.scenario.load import scenario_from_dict
from parkgrid.scenario.model import Economics, Scenario
from parkgrid.sizing.lp import CapacityColumn, SizingProblem, TargetRows

__all__ = [
    "SizingScenario",
    "capacity_costs",
    "load_sizing_scenario",
    "sizing_problem",
    "sizing_scenario",
]

#: features the LP leaves to the truth check rather than refusing
_SIMULATED_ONLY = ("events [[event]]", "forced outages [[reliability]]")


@dataclass(frozen=True)
class SizingScenario:
    """A scenario to size: validated at its largest design, with its extendable keys.

    ``raw`` is the scenario dictionary with each extendable value at its max;
    ``text`` the file's text (for writing the sized file), empty for a dictionary.
    """

    scenario: Scenario
    extendables: tuple[Extendable, ...]
    raw: dict[str, Any]
    text: str = ""


def load_sizing_scenario(path: str | Path) -> SizingScenario:
    """Read the scenario file at *path*, whose capacities may be ``{min, max}``.

    Raises
    ------
    ScenarioError
        Naming the file and field of every problem (as ``load_scenario`` does).
    """
    path = Path(path)
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([ValidationIssue(src, "<file>", f"cannot read: {exc.strerror}")]
                            ) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([ValidationIssue(src, "<file>", f"invalid TOML: {exc}")]) from None
    return sizing_scenario(raw, source=src, base_dir=path.resolve().parent, text=text)


def sizing_scenario(raw: dict[str, Any], *, source: str = "<dict>",
                    base_dir: str | Path = ".", text: str = "", net: Any = None,
                    profiles: pd.DataFrame | None = None) -> SizingScenario:
    """Validate the scenario dictionary *raw* with extendable capacities (see the module)."""
    fixed, specs = split_extendables(raw, source=source)
    sc = scenario_from_dict(fixed, source=source, base_dir=base_dir, net=net,
                            profiles=profiles)
    return SizingScenario(sc, tuple(specs), fixed, text)


def capacity_costs(sizing: SizingScenario, overrides: Mapping[str, float] | None = None
                   ) -> dict[str, float]:
    """Annual cost per unit of each extendable capacity [CNY/(MW yr), /(MWh yr), /(kg yr)].

    :func:`parkgrid.economics.annualised_cost_per_unit` of the asset's costs
    (``technology`` preset and the keys given, :func:`parkgrid.economics.asset_costs`),
    over ``[economics]``: annualised capex with replacements and salvage plus
    fixed O&M; power capacity (``p_mw``, ``grid.import_limit_mw``) per MW, battery
    energy per MWh, tank capacity per kg. *overrides* gives a path's cost directly.

    Raises
    ------
    ScenarioError
        An extendable asset without costs, naming the missing key.
    """
    sc = sizing.scenario
    out = {p: float(v) for p, v in (overrides or {}).items()}
    need = [s for s in sizing.extendables if s.path not in out]
    if not need:
        return out
    names: list[str] = []
    for s in need:
        if s.kind == "grid":
            names.append("grid")
        elif s.kind == "hydrogen":
            names.append("hydrogen")
        else:
            names.append(getattr(sc, s.kind)[s.index].name)
    costs = asset_costs(sc, require=[n for n in names if n != "grid"])
    econ = sc.economics or Economics()
    for s, name in zip(need, names, strict=True):
        if name not in costs:
            field = "grid.capex_cny_per_kw" if name == "grid" else f"{s.path}"
            raise ScenarioError([ValidationIssue(
                sc.source, field, f"{s.path} is extendable but has no cost: give "
                f"{'grid.capex_cny_per_kw' if name == 'grid' else 'its capex'} so sizing "
                "can price it")])
        per_mw, per_unit = annualised_cost_per_unit(costs[name], econ)
        out[s.path] = per_unit if s.key in ("e_mwh", "capacity_kg") else per_mw
    return out


def sizing_problem(sizing: SizingScenario, costs: Mapping[str, float] | None = None
                   ) -> SizingProblem:
    """Build the LP arrays of *sizing*.

    *costs* maps an extendable's path (``battery[0].e_mwh``) to its annualised
    capital cost plus fixed O&M [CNY per MW, MWh or kg and year]; paths not in it
    are costed from the scenario (:func:`capacity_costs`).

    Raises
    ------
    ParkgridError
        A feature the LP does not model (named as the scenario names it), or an
        extendable capacity without a cost (:class:`ScenarioError`).
    """
    sc = sizing.scenario
    features = unsupported_features(sc)
    # unit details the LP leaves out; the truth check simulates them
    later = [f for f in features if f in _SIMULATED_ONLY
             or f.startswith(("battery[", "electrolyser["))]
    missing = [f for f in features if f not in later]
    if missing:
        raise ParkgridError(f"{sc.source}: sizing does not model " + ", ".join(missing)
                            + " yet; remove them to size the park")
    costs = capacity_costs(sizing, costs)
    assert sc.profiles is not None
    by = {(s.kind, s.index, s.key): s for s in sizing.extendables}

    def column(kind: str, index: int | None, key: str) -> CapacityColumn | None:
        s = by.get((kind, index, key))
        return None if s is None else CapacityColumn(s.path, s.lo, s.hi, float(costs[s.path]))

    powers = asset_power_mw(sc)
    res: list[tuple[CapacityColumn, np.ndarray]] = []
    for kind in ("pv", "wind"):
        for i, a in enumerate(getattr(sc, kind)):
            col = column(kind, i, "p_mw")
            if col is not None:
                del powers[(kind, a.name)]
                res.append((col, sc.profiles[a.profile].to_numpy(dtype=float)))
    inputs = dispatch_inputs(sc, powers)
    hours = len(sc.profiles) * float(inputs.dt_h)
    share = hours / 8760.0
    t = sc.targets
    targets = TargetRows(
        green_share_annual_min=t.clean_power_share_min,
        green_share_hourly_min=t.green_share_hourly_min,
        green_h2_kg_min=None if t.green_h2_t_per_yr_min is None
        else t.green_h2_t_per_yr_min * 1000.0 * share,
        co2_t_max=None if t.co2_t_max is None else t.co2_t_max * share,
    )
    return SizingProblem(
        inputs=inputs, prices=scenario_prices(sc, sc.profiles.index), res=tuple(res),
        battery_p=tuple(column("battery", i, "p_mw") for i in range(len(sc.battery))),
        battery_e=tuple(column("battery", i, "e_mwh") for i in range(len(sc.battery))),
        electrolyser_p=tuple(column("electrolyser", i, "p_mw")
                             for i in range(len(sc.electrolyser))),
        tank=column("hydrogen", None, "capacity_kg"),
        grid_import=column("grid", None, "import_limit_mw"),
        targets=targets,
        notes=(f"not in the LP, simulated in the truth check: {', '.join(later)}",)
        if later else (),
    )


def with_profiles(sizing: SizingScenario, profiles: pd.DataFrame) -> SizingScenario:
    """*sizing* on other profile steps (e.g. a week of the year, for tests and previews)."""
    return dataclasses.replace(sizing,
                               scenario=dataclasses.replace(sizing.scenario, profiles=profiles))
