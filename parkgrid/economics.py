"""Lifecycle economics: asset costs, annualised costs, cash flows over the project life.

Pure functions over a validated :class:`~parkgrid.scenario.model.Scenario` and plain
numbers; no simulation. Every cost is in constant CNY of
``economics.currency_year`` (real terms), discounted at the real rate
``economics.discount_rate_pu``; ``inflation_pu`` only reports the nominal rate.

Conventions
-----------
* Year 0 carries the investment (capex of every asset and the connection fee);
  years 1..N (N = ``project_life_yr``) carry the yearly costs, paid at the end
  of each year: fixed O&M, land, and the operating cost of the simulated year
  (the same every year).
* **Replacements.** An asset lasts ``interval_yr`` = ``lifetime_yr``, shortened by
  use where the simulated year shows it: a battery when its capacity fade would
  reach ``end_of_life_capacity_pu`` (the simulated year's fade, calendar plus
  cycles, extrapolated linearly: ``(1 - eol) / fade_per_yr`` years), an
  electrolyser when its stack reaches ``stack_life_h`` operating hours (the
  simulated year's full-load hours, extrapolated: ``stack_life_h / hours_per_yr``
  years; without a simulation, :func:`replacement_interval_yr` assumes 8,760 h a
  year, the conservative bound). Replacement ``k`` happens at ``t_k = k *
  interval_yr`` for every ``t_k < N`` and costs ``replacement_cost_pu * capex`` in
  year ``ceil(t_k)``.
* **Salvage.** The unit installed last (at ``t_last``, 0 for the first) has
  ``t_last + interval_yr - N`` years left at the end; that share of its cost is
  credited in year N (linear depreciation). A first life longer than the project is
  refused at load (``lifetime_yr <= project_life_yr``), so no initial investment is
  ever judged by a residual value alone.
* The capital recovery factor ``CRF(r, N) = r (1+r)^N / ((1+r)^N - 1)`` (``1/N`` at
  ``r = 0``) turns a present value into N equal yearly amounts.

API (used as is by the sizing LP)
---------------------------------
``capital_recovery_factor(rate_pu, years) -> float``
    CRF above.
``AssetCost``
    one asset's costs per unit of capacity and its size in the scenario (frozen).
``asset_costs(scenario, *, require=None) -> dict[str, AssetCost]``
    every costed asset by name (``"grid"`` for the grid connection,
    ``"hydrogen"`` for the tank): ``technology`` presets merged with the keys the
    scenario gives; raises :class:`~parkgrid.errors.ScenarioError` naming the
    field when a needed cost is missing.
``annualised_cost_per_unit(cost, econ, *, interval_yr=None) -> (cny_per_mw_yr, cny_per_unit2_yr)``
    what one MW of the asset's power capacity, and one MWh of battery energy or
    one kg of tank capacity, cost per year: ``CRF(r, N) x`` (capex + discounted
    replacements - discounted salvage) ``+`` fixed O&M. Exactly what a capacity
    variable in an LP is charged. Variable O&M is per MWh of operation, not here.
``replacement_interval_yr(cost, *, fade_pu_per_yr=None, hours_per_yr=None) -> float``
    the interval above.
``lifecycle_factor(interval_yr, replacement_cost_pu, rate_pu, project_life_yr) -> float``
    present value of an asset's investments over the project, per CNY of capex.
``cash_flows(costs, econ, *, operating_cny_per_yr, intervals_yr=None) -> CashFlows``
    the yearly costs of a design over the project (year 0..N) by category;
    ``.net_present_cost_cny`` discounts them.
``npv_cny(design, reference)``, ``payback_yr(design, reference)``
    NPV (NPC of the reference minus that of the design) and discounted payback.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from parkgrid.errors import ScenarioError, ValidationIssue
from parkgrid.presets import COST_KEYS, COST_PRESETS, merged_costs
from parkgrid.scenario.model import Economics, Scenario

__all__ = [
    "COSTED_KINDS",
    "AssetCost",
    "CashFlows",
    "annualised_cost_per_unit",
    "asset_costs",
    "capital_recovery_factor",
    "cash_flows",
    "lifecycle_factor",
    "npv_cny",
    "payback_yr",
    "replacement_interval_yr",
    "replacement_times_yr",
]

#: kinds that need costs with ``[economics]``; coal and the grid connection are
#: costed only when given (an existing plant costs nothing new)
COSTED_KINDS: tuple[str, ...] = ("pv", "wind", "battery", "electrolyser", "hydrogen")
_HOURS_PER_YEAR = 8760.0


def capital_recovery_factor(rate_pu: float, years: float) -> float:
    """Capital recovery factor ``r (1+r)^n / ((1+r)^n - 1)`` [1/yr]; ``1/n`` at ``r = 0``.

    The equal yearly amount, paid at the end of each of *years* years, whose
    present value at *rate_pu* is 1.
    """
    if not years > 0:
        raise ValueError(f"years must be > 0, got {years!r}")
    if not rate_pu > -1:
        raise ValueError(f"rate_pu must be > -1, got {rate_pu!r}")
    if rate_pu == 0:
        return 1.0 / years
    g = (1.0 + rate_pu) ** years
    return rate_pu * g / (g - 1.0)


@dataclass(frozen=True)
class AssetCost:
    """Costs of one asset per unit of capacity, and its capacity in the scenario.

    Power capacity ``p_mw`` [MW] (the grid connection: the larger finite grid
    limit; coal: ``p_max_mw``), battery energy ``e_mwh`` [MWh], tank ``kg`` [kg].
    Capex [CNY per MW, MWh or kg]; ``fixed_om_pu_per_yr`` is a share of the capex
    per year (``fixed_om_pct_per_yr / 100``), in addition to
    ``fixed_om_cny_per_mw_yr``.
    """

    name: str
    kind: str
    technology: str = ""
    p_mw: float = 0.0
    e_mwh: float = 0.0
    kg: float = 0.0
    capex_cny_per_mw: float = 0.0
    capex_cny_per_mwh: float = 0.0
    capex_cny_per_kg: float = 0.0
    fixed_om_cny_per_mw_yr: float = 0.0
    fixed_om_pu_per_yr: float = 0.0
    variable_om_cny_per_mwh: float = 0.0
    lifetime_yr: float = math.inf
    replacement_cost_pu: float = 1.0
    end_of_life_capacity_pu: float | None = None
    stack_life_h: float | None = None

    @property
    def capex_cny(self) -> float:
        """Investment of the asset as sized in the scenario [CNY]."""
        return (self.capex_cny_per_mw * self.p_mw + self.capex_cny_per_mwh * self.e_mwh
                + self.capex_cny_per_kg * self.kg)

    @property
    def fixed_om_cny_per_yr(self) -> float:
        """Fixed O&M of the asset as sized [CNY/yr]."""
        return self.fixed_om_cny_per_mw_yr * self.p_mw + self.fixed_om_pu_per_yr * self.capex_cny


def _cost(name: str, kind: str, given: Mapping[str, object], *, p_mw: float = 0.0,
          e_mwh: float = 0.0, kg: float = 0.0, project_life_yr: float) -> AssetCost:
    c = merged_costs(dict(given))
    return AssetCost(
        name=name, kind=kind, technology=str(given.get("technology") or ""),
        p_mw=p_mw, e_mwh=e_mwh, kg=kg,
        capex_cny_per_mw=c.get("capex_cny_per_kw", 0.0) * 1000.0,
        capex_cny_per_mwh=c.get("capex_cny_per_kwh", 0.0) * 1000.0,
        capex_cny_per_kg=c.get("capex_cny_per_kg", 0.0),
        fixed_om_cny_per_mw_yr=c.get("fixed_om_cny_per_kw_yr", 0.0) * 1000.0,
        fixed_om_pu_per_yr=c.get("fixed_om_pct_per_yr", 0.0) / 100.0,
        variable_om_cny_per_mwh=c.get("variable_om_cny_per_mwh", 0.0),
        lifetime_yr=c.get("lifetime_yr", float(project_life_yr)),
        replacement_cost_pu=c.get("replacement_cost_pu", 1.0),
        end_of_life_capacity_pu=c.get("end_of_life_capacity_pu"),
        stack_life_h=c.get("stack_life_h"),
    )


_NEEDED = {"battery": ("capex_cny_per_kwh", "capex_cny_per_kw")}


def _has_costs(kind: str, given: Mapping[str, object]) -> str | None:
    """Return the first missing needed key of a costed asset, or ``None``."""
    c = merged_costs(dict(given))
    capex = {"hydrogen": ("capex_cny_per_kg",)}.get(kind, _NEEDED.get(kind, ("capex_cny_per_kw",)))
    if not any(k in c for k in capex):
        return capex[0]
    return None if "lifetime_yr" in c else "lifetime_yr"


def asset_costs(scenario: Scenario, *, require: Iterable[str] | None = None
                ) -> dict[str, AssetCost]:
    """Costs of every costed asset of *scenario*, by asset name.

    Presets (``technology``) are merged with the keys the scenario gives. Assets
    of :data:`COSTED_KINDS` must have a capex and a lifetime (explicitly or from the
    preset), unless *require* names the assets that must (then the others without
    costs are left out). The tank is called ``"hydrogen"``, the grid connection
    ``"grid"`` (costed only with a capex); coal units only with a capex. A missing
    lifetime of a coal unit or the grid connection is the project life.

    Raises
    ------
    ScenarioError
        Naming the field (``pv[0].capex_cny_per_kw``) of every missing cost.
    """
    econ = scenario.economics or Economics()
    life = econ.project_life_yr
    wanted = None if require is None else set(require)
    issues: list[ValidationIssue] = []
    out: dict[str, AssetCost] = {}

    def add(kind: str, path: str, name: str, obj: object, **size: float) -> None:
        given = {k: getattr(obj, k, None) for k in ("technology", *COST_KEYS)}
        needed = kind in COSTED_KINDS and (wanted is None or name in wanted)
        missing = _has_costs(kind, given) if kind in COSTED_KINDS else None
        if missing is not None:
            if needed:
                paid = "; 0 for an asset already paid for" if missing.startswith("capex") else ""
                issues.append(ValidationIssue(
                    scenario.source, f"{path}.{missing}",
                    f"missing cost: give {missing} or a technology preset "
                    f"({', '.join(COST_PRESETS)}){paid}"))
            return
        if kind not in COSTED_KINDS and getattr(obj, "capex_cny_per_kw", None) is None:
            return
        if name in ("grid", "hydrogen") and kind not in ("grid", "hydrogen"):
            issues.append(ValidationIssue(
                scenario.source, f"{path}.name", f"the name {name!r} is reserved in the "
                f"costs for the {'grid connection' if name == 'grid' else 'hydrogen tank'}: "
                "rename the asset"))
            return
        out[name] = _cost(name, kind, given, project_life_yr=life, **size)

    for i, a in enumerate(scenario.pv):
        add("pv", f"pv[{i}]", a.name, a, p_mw=a.p_mw)
    for i, w in enumerate(scenario.wind):
        add("wind", f"wind[{i}]", w.name, w, p_mw=w.p_mw)
    for i, b in enumerate(scenario.battery):
        add("battery", f"battery[{i}]", b.name, b, p_mw=b.p_mw, e_mwh=b.e_mwh)
    for i, e in enumerate(scenario.electrolyser):
        add("electrolyser", f"electrolyser[{i}]", e.name, e, p_mw=e.p_mw)
    for i, u in enumerate(scenario.coal):
        add("coal", f"coal[{i}]", u.name, u, p_mw=u.p_max_mw)
    if scenario.hydrogen is not None:
        add("hydrogen", "hydrogen", "hydrogen", scenario.hydrogen, kg=scenario.hydrogen.capacity_kg)
    g = scenario.grid
    limits = [x for x in (g.import_limit_mw, g.export_limit_mw) if math.isfinite(x)]
    if g.capex_cny_per_kw is not None or g.technology:
        if not limits and (g.capex_cny_per_kw or g.technology):
            issues.append(ValidationIssue(
                scenario.source, "grid.capex_cny_per_kw",
                "a grid-connection cost needs a finite import_limit_mw or export_limit_mw "
                "(the capacity it is charged on)"))
        else:
            given = {k: getattr(g, k, None) for k in ("technology", *COST_KEYS)}
            out["grid"] = _cost("grid", "grid", given, p_mw=max(limits, default=0.0),
                                project_life_yr=life)
    if issues:
        raise ScenarioError(issues)
    return out


def replacement_interval_yr(cost: AssetCost, *, fade_pu_per_yr: float | None = None,
                            hours_per_yr: float | None = None) -> float:
    """Years between replacements of *cost*'s asset [yr].

    ``lifetime_yr``, shortened for a battery by capacity fade (*fade_pu_per_yr*,
    the share of nameplate lost per year) down to ``end_of_life_capacity_pu``, and
    for an electrolyser by stack hours (*hours_per_yr* of operation; 8,760 when not
    given) up to ``stack_life_h``.
    """
    life = cost.lifetime_yr
    if cost.end_of_life_capacity_pu is not None and fade_pu_per_yr and fade_pu_per_yr > 0:
        life = min(life, (1.0 - cost.end_of_life_capacity_pu) / fade_pu_per_yr)
    if cost.stack_life_h is not None:
        h = _HOURS_PER_YEAR if hours_per_yr is None else hours_per_yr
        if h > 0:
            life = min(life, cost.stack_life_h / h)
    return life


def replacement_times_yr(interval_yr: float, project_life_yr: float) -> list[float]:
    """Return the replacement times within the project: ``k * interval`` < project life."""
    if not interval_yr > 0:
        raise ValueError(f"interval_yr must be > 0, got {interval_yr!r}")
    out: list[float] = []
    k = 1
    while k * interval_yr < project_life_yr - 1e-9:
        out.append(k * interval_yr)
        k += 1
    return out


def _investment_flows(interval_yr: float, replacement_cost_pu: float, project_life_yr: int
                      ) -> np.ndarray:
    """Per CNY of capex: investment (+) and salvage (-) in years 0..N."""
    flows = np.zeros(project_life_yr + 1)
    flows[0] = 1.0
    times = replacement_times_yr(interval_yr, project_life_yr)
    for t in times:
        flows[min(math.ceil(t - 1e-9), project_life_yr)] += replacement_cost_pu
    t_last = times[-1] if times else 0.0
    left = t_last + interval_yr - project_life_yr
    if left > 1e-12 and math.isfinite(interval_yr):
        last_cost = replacement_cost_pu if times else 1.0
        flows[project_life_yr] -= last_cost * left / interval_yr
    return flows


def _discount(rate_pu: float, n: int) -> np.ndarray:
    return (1.0 + rate_pu) ** -np.arange(n + 1, dtype=float)


def lifecycle_factor(interval_yr: float, replacement_cost_pu: float, rate_pu: float,
                     project_life_yr: int) -> float:
    """Present value of an asset's capex, replacements and salvage per CNY of capex [-].

    ``1 + sum_k rc (1+r)^-ceil(t_k) - salvage (1+r)^-N``, with the replacement
    times ``t_k`` and the salvage of the module docstring.
    """
    flows = _investment_flows(interval_yr, replacement_cost_pu, project_life_yr)
    return float(flows @ _discount(rate_pu, project_life_yr))


def annualised_cost_per_unit(cost: AssetCost, econ: Economics, *,
                             interval_yr: float | None = None) -> tuple[float, float]:
    """Yearly cost of one unit of capacity: ``(CNY per MW-yr, CNY per MWh-yr or kg-yr)``.

    ``CRF(r, N) x lifecycle_factor x capex per unit + fixed O&M per unit``: the
    annualised capex including replacements within the project (and the salvage
    at its end) plus fixed O&M (per MW, and the percentage of each unit's capex).
    The second number is per MWh of battery energy, or per kg of tank capacity
    (0 for other kinds). *interval_yr* defaults to
    :func:`replacement_interval_yr` without use data (lifetime; stack hours at
    8,760 h a year).
    """
    n = econ.project_life_yr
    interval = replacement_interval_yr(cost) if interval_yr is None else interval_yr
    k = capital_recovery_factor(econ.discount_rate_pu, n) * lifecycle_factor(
        interval, cost.replacement_cost_pu, econ.discount_rate_pu, n)
    om = cost.fixed_om_pu_per_yr
    per_mw = (k + om) * cost.capex_cny_per_mw + cost.fixed_om_cny_per_mw_yr
    second = cost.capex_cny_per_mwh if cost.kind == "battery" else cost.capex_cny_per_kg
    return per_mw, (k + om) * second


@dataclass(frozen=True)
class CashFlows:
    """Yearly costs of a design over the project, years 0..N [CNY], by category.

    Costs are positive, the salvage credit negative (in ``replacement``).
    ``operating`` is the simulated year's operating cost (grid energy, capacity
    charge, coal fuel and starts, variable O&M, minus export and hydrogen revenue)
    in every year 1..N.
    """

    rate_pu: float
    capex: np.ndarray
    replacement: np.ndarray
    fixed_om: np.ndarray
    operating: np.ndarray
    by_asset_capex: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> np.ndarray:
        """All categories summed, per year [CNY]."""
        return self.capex + self.replacement + self.fixed_om + self.operating

    @property
    def net_present_cost_cny(self) -> float:
        """Sum of the yearly totals discounted to year 0 [CNY]."""
        return float(self.total @ _discount(self.rate_pu, len(self.total) - 1))


def cash_flows(costs: Mapping[str, AssetCost], econ: Economics, *,
               operating_cny_per_yr: float,
               intervals_yr: Mapping[str, float] | None = None) -> CashFlows:
    """Return the yearly cash flows of a design: *costs* of its assets and its operation.

    *intervals_yr* gives an asset's replacement interval (by name) where use data
    shortens it (:func:`replacement_interval_yr`); others use their lifetime (and
    stack hours at 8,760 h a year). The connection fee is capex of year 0, land
    lease a fixed cost of years 1..N.
    """
    n = econ.project_life_yr
    capex, repl, fixed = np.zeros(n + 1), np.zeros(n + 1), np.zeros(n + 1)
    op = np.zeros(n + 1)
    op[1:] = operating_cny_per_yr
    fixed[1:] = econ.land_cny_per_yr
    capex[0] = econ.connection_fee_cny
    by_asset: dict[str, float] = {}
    for name, c in costs.items():
        interval = (intervals_yr or {}).get(name) or replacement_interval_yr(c)
        flows = _investment_flows(interval, c.replacement_cost_pu, n) * c.capex_cny
        capex[0] += flows[0]
        repl[1:] += flows[1:]
        fixed[1:] += c.fixed_om_cny_per_yr
        by_asset[name] = c.capex_cny
    return CashFlows(econ.discount_rate_pu, capex, repl, fixed, op, by_asset)


def npv_cny(design: CashFlows, reference: CashFlows) -> float:
    """Net present value of *design* against *reference* [CNY]: NPC(ref) - NPC(design).

    Positive when the design costs less over the project than the reference.
    """
    return reference.net_present_cost_cny - design.net_present_cost_cny


def payback_yr(design: CashFlows, reference: CashFlows) -> float:
    """Discounted payback [yr]: from when on the cumulative discounted saving stays >= 0.

    The saving of year y is the reference's total minus the design's, discounted.
    A late replacement can turn a cumulative saving negative again; the payback is
    the last time it turns non-negative for good (interpolated linearly within
    that year). ``0`` when it never is negative, ``inf`` when it ends negative.
    """
    n = len(design.total) - 1
    saving = (reference.total - design.total) * _discount(design.rate_pu, n)
    cum = np.cumsum(saving)
    if cum[-1] < 0:
        return math.inf
    negative = np.flatnonzero(cum < 0)
    if not negative.size:
        return 0.0
    y = int(negative[-1]) + 1  # first year of the final non-negative run
    return float(y - 1 + (-cum[y - 1]) / saving[y])
