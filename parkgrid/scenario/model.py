"""The scenario as plain, validated data.

Objects here are built only by :mod:`parkgrid.scenario.load`, which validates
everything once; the rest of parkgrid trusts them.

Every default comes from the attribute tables of :mod:`parkgrid.scenario.schema`
(``default(table, key)``), never from a literal here: a key that is required in
its table has no default in its dataclass, and ``tests/test_scenario_model.py``
checks that every table and its dataclass have the same keys, defaults and
required keys. The dataclasses stay written out, with their types, so that mypy
and readers see every field; only the values come from the tables.
Times given as text in the file (event starts, tariff season starts, daily clock
times) are parsed once, by the loader, into :mod:`datetime` values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pandas as pd

from parkgrid.scenario.schema import default

__all__ = [
    "OLTC",
    "PV",
    "SCENARIO_FIELDS",
    "Battery",
    "Carbon",
    "Coal",
    "Depot",
    "Economics",
    "Electrolyser",
    "Event",
    "Fleet",
    "GreenContract",
    "Grid",
    "H2Station",
    "Hydrogen",
    "Load",
    "Optimal",
    "OptimalWeights",
    "Reliability",
    "Scenario",
    "Statcom",
    "SwapStation",
    "Targets",
    "Tariff",
    "TariffSeason",
    "Trucks",
    "Wind",
]


@dataclass(frozen=True, kw_only=True)
class AssetCostKeys:
    """The optional cost keys every pv, wind, battery, electrolyser and coal unit has.

    ``None`` = not given; :func:`parkgrid.economics.asset_costs` merges them with
    the ``technology`` preset. Keyword-only, so they follow each asset's own keys.
    """

    capex_cny_per_kw: float | None = default("pv", "capex_cny_per_kw")
    fixed_om_cny_per_kw_yr: float | None = default("pv", "fixed_om_cny_per_kw_yr")
    fixed_om_pct_per_yr: float | None = default("pv", "fixed_om_pct_per_yr")
    variable_om_cny_per_mwh: float | None = default("pv", "variable_om_cny_per_mwh")
    lifetime_yr: float | None = default("pv", "lifetime_yr")
    replacement_cost_pu: float | None = default("pv", "replacement_cost_pu")


@dataclass(frozen=True)
class PV(AssetCostKeys):
    """A PV plant: ``p_mw`` [MW] AC rating times the per-unit ``profile``."""

    name: str
    bus: str
    p_mw: float
    profile: str = default("pv", "profile")
    cos_phi: float = default("pv", "cos_phi")
    q_control: str = default("pv", "q_control")
    q_u_curve: tuple[tuple[float, float], ...] = default("pv", "q_u_curve")
    cos_phi_p_curve: tuple[tuple[float, float], ...] = default("pv", "cos_phi_p_curve")
    s_mva: float = default("pv", "s_mva")
    technology: str = default("pv", "technology")


@dataclass(frozen=True)
class Wind(AssetCostKeys):
    """A wind farm: ``p_mw`` [MW] rating times the per-unit ``profile``."""

    name: str
    bus: str
    p_mw: float
    profile: str = default("wind", "profile")
    cos_phi: float = default("wind", "cos_phi")
    q_control: str = default("wind", "q_control")
    q_u_curve: tuple[tuple[float, float], ...] = default("wind", "q_u_curve")
    cos_phi_p_curve: tuple[tuple[float, float], ...] = default("wind", "cos_phi_p_curve")
    s_mva: float = default("wind", "s_mva")
    technology: str = default("wind", "technology")


@dataclass(frozen=True)
class Battery(AssetCostKeys):
    """Battery storage; energies in [MWh], efficiencies and SOC limits in [pu]."""

    name: str
    bus: str
    p_mw: float
    e_mwh: float
    eta_charge: float = default("battery", "eta_charge")
    eta_discharge: float = default("battery", "eta_discharge")
    soc_min_pu: float = default("battery", "soc_min_pu")
    soc_max_pu: float = default("battery", "soc_max_pu")
    soc_initial_pu: float = default("battery", "soc_initial_pu")
    technology: str = default("battery", "technology")
    self_discharge_pu_per_h: float = default("battery", "self_discharge_pu_per_h")
    c_rate_max: float = default("battery", "c_rate_max")
    fade_calendar_pu_per_year: float = default("battery", "fade_calendar_pu_per_year")
    fade_cycle_pu_per_efc: float = default("battery", "fade_cycle_pu_per_efc")
    grid_forming: bool = default("battery", "grid_forming")
    q_control: str = default("battery", "q_control")
    q_u_curve: tuple[tuple[float, float], ...] = default("battery", "q_u_curve")
    cos_phi_p_curve: tuple[tuple[float, float], ...] = default("battery", "cos_phi_p_curve")
    s_mva: float = default("battery", "s_mva")
    capex_cny_per_kwh: float | None = default("battery", "capex_cny_per_kwh")
    end_of_life_capacity_pu: float | None = default("battery", "end_of_life_capacity_pu")


@dataclass(frozen=True)
class Electrolyser(AssetCostKeys):
    """Electrolyser: rated input ``p_mw`` [MW], ``kwh_per_kg`` [kWh/kg], ``min_load_pu``."""

    name: str
    bus: str
    p_mw: float
    kwh_per_kg: float = default("electrolyser", "kwh_per_kg")
    min_load_pu: float = default("electrolyser", "min_load_pu")
    part_load_curve: tuple[tuple[float, float], ...] = default("electrolyser", "part_load_curve")
    standby_pu: float = default("electrolyser", "standby_pu")
    start_delay_h: float = default("electrolyser", "start_delay_h")
    min_up_h: float = default("electrolyser", "min_up_h")
    min_down_h: float = default("electrolyser", "min_down_h")
    standby_max_h: float = default("electrolyser", "standby_max_h")
    cos_phi: float = default("electrolyser", "cos_phi")
    technology: str = default("electrolyser", "technology")
    stack_life_h: float | None = default("electrolyser", "stack_life_h")


@dataclass(frozen=True)
class Load:
    """Fixed consumer; the profile is scaled to ``annual_mwh`` or ``peak_mw``."""

    name: str
    bus: str
    profile: str
    annual_mwh: float = default("load", "annual_mwh")
    peak_mw: float = default("load", "peak_mw")
    category: str = default("load", "category")
    priority: int = default("load", "priority")
    flexible_share: float = default("load", "flexible_share")
    flexible_max_mw: float = default("load", "flexible_max_mw")
    product: str = default("load", "product")
    output_per_year: float = default("load", "output_per_year")
    output_unit: str = default("load", "output_unit")
    cos_phi: float = default("load", "cos_phi")


@dataclass(frozen=True)
class Coal(AssetCostKeys):
    """Captive coal unit for flexible peaking support (``coal_peaking``, ``optimal``)."""

    name: str
    bus: str
    p_min_mw: float
    p_max_mw: float
    ramp_up_mw_per_min: float
    ramp_down_mw_per_min: float
    start_up_h: float = default("coal", "start_up_h")
    min_up_h: float = default("coal", "min_up_h")
    min_down_h: float = default("coal", "min_down_h")
    start_cost_cny: float = default("coal", "start_cost_cny")
    coal_gce_per_kwh: float = default("coal", "coal_gce_per_kwh")
    co2_kg_per_kgce: float = default("coal", "co2_kg_per_kgce")
    fuel_cny_per_tce: float = default("coal", "fuel_cny_per_tce")
    cos_phi: float = default("coal", "cos_phi")

    @property
    def co2_t_per_mwh(self) -> float:
        """CO2 per MWh generated [tCO2/MWh]: gce/kWh (= kg/MWh) x kgCO2/kgce / 1000."""
        return self.coal_gce_per_kwh * self.co2_kg_per_kgce / 1000.0


@dataclass(frozen=True)
class Trucks:
    """Electric heavy-truck charging depot: trucks queue for the chargers.

    ``arrival_times`` are local clock times of daily arrivals.
    """

    bus: str
    chargers: int
    charger_kw: float
    energy_kwh_per_truck: float
    name: str = default("trucks", "name")
    arrival_times: tuple[time, ...] = default("trucks", "arrival_times")
    arrivals_per_day: float = default("trucks", "arrivals_per_day")
    priority: int = default("trucks", "priority")
    cos_phi: float = default("trucks", "cos_phi")


@dataclass(frozen=True)
class Depot:
    """Truck charging depot: ``chargers`` of ``charger_kw`` [kW] under a charging ``policy``."""

    name: str
    bus: str
    chargers: int
    charger_kw: float
    policy: str = default("depot", "policy")
    limit_kw: float = default("depot", "limit_kw")
    priority: int = default("depot", "priority")
    cos_phi: float = default("depot", "cos_phi")


@dataclass(frozen=True)
class SwapStation:
    """Battery-swap station: ``packs`` in stock, ``racks`` of ``rack_kw`` [kW] charging them."""

    name: str
    bus: str
    packs: int
    pack_kwh: float
    racks: int
    rack_kw: float
    bays: int = default("swap_station", "bays")
    swap_min: float = default("swap_station", "swap_min")
    charged_soc_pu: float = default("swap_station", "charged_soc_pu")
    window_h: float = default("swap_station", "window_h")
    policy: str = default("swap_station", "policy")
    limit_kw: float = default("swap_station", "limit_kw")
    priority: int = default("swap_station", "priority")
    cos_phi: float = default("swap_station", "cos_phi")


@dataclass(frozen=True)
class H2Station:
    """Hydrogen refuelling station fed from the park tank; its compressor is a load."""

    name: str
    bus: str
    dispensers: int
    dispense_kg_per_h: float
    compressor_kwh_per_kg: float = default("h2_station", "compressor_kwh_per_kg")
    priority: int = default("h2_station", "priority")
    cos_phi: float = default("h2_station", "cos_phi")


@dataclass(frozen=True)
class Statcom:
    """STATCOM/SVG: reactive power only (``|q| <= s_mvar``), fixed or by a Q(U) droop."""

    name: str
    bus: str
    s_mvar: float
    q_control: str = default("statcom", "q_control")
    q_mvar: float = default("statcom", "q_mvar")
    q_u_curve: tuple[tuple[float, float], ...] = default("statcom", "q_u_curve")
    in_service: bool = default("statcom", "in_service")


@dataclass(frozen=True)
class Fleet:
    """Heavy trucks (``kind`` electric or fuel_cell) visiting ``station`` every day.

    ``visits`` are ``(arrival_h, departure_h)`` after local midnight; a departure
    after 24 h is the next day.
    """

    name: str
    kind: str
    station: str
    count: int
    visits: tuple[tuple[float, float], ...]
    battery_kwh: float = default("fleet", "battery_kwh")
    tank_kg: float = default("fleet", "tank_kg")
    stagger_h: float = default("fleet", "stagger_h")
    jitter_h: float = default("fleet", "jitter_h")
    arrival_soc_pu: float = default("fleet", "arrival_soc_pu")
    departure_soc_pu: float = default("fleet", "departure_soc_pu")
    trip_km: float = default("fleet", "trip_km")
    consumption_per_km: float = default("fleet", "consumption_per_km")
    consumption_per_trip: float = default("fleet", "consumption_per_trip")

    @property
    def capacity(self) -> float:
        """Battery [kWh] or tank [kg] of one truck."""
        return self.battery_kwh if self.kind == "electric" else self.tank_kg

    @property
    def arrival_pu(self) -> float:
        """State of charge or fill on arrival [pu] (from the trip's use where given)."""
        use = self.consumption_per_trip or self.trip_km * self.consumption_per_km
        if use > 0 and self.capacity > 0:
            return self.departure_soc_pu - use / self.capacity
        return self.arrival_soc_pu

    @property
    def need(self) -> float:
        """Energy [kWh] or hydrogen [kg] each visit must add."""
        return max(self.departure_soc_pu - self.arrival_pu, 0.0) * self.capacity


@dataclass(frozen=True)
class Event:
    """Scheduled maintenance of an asset or line, or a grid-link outage from local ``start``."""

    kind: str
    start: datetime
    duration_h: float
    target: str = default("event", "target")


@dataclass(frozen=True)
class Reliability:
    """Seeded random forced outages of an asset, a line or the grid link."""

    target: str
    mtbf_h: float
    mttr_h: float


@dataclass(frozen=True)
class TariffSeason:
    """Time-of-use prices from local midnight of ``start`` (given as 'MM-DD') on."""

    start: datetime
    peak_cny_per_mwh: float
    flat_cny_per_mwh: float
    valley_cny_per_mwh: float
    peak_hours: tuple[int, ...] = default("tariff_season", "peak_hours")
    valley_hours: tuple[int, ...] = default("tariff_season", "valley_hours")


@dataclass(frozen=True)
class Hydrogen:
    """Hydrogen tank [kg] with constant or profiled offtake [kg/h].

    ``trailer_times`` are local clock times of daily tube-trailer pick-ups.
    """

    capacity_kg: float
    initial_kg: float = default("hydrogen", "initial_kg")
    offtake_kg_per_h: float = default("hydrogen", "offtake_kg_per_h")
    offtake_profile: str = default("hydrogen", "offtake_profile")
    trailer_kg: float = default("hydrogen", "trailer_kg")
    trailer_times: tuple[time, ...] = default("hydrogen", "trailer_times")
    trailers_per_day: float = default("hydrogen", "trailers_per_day")
    technology: str = default("hydrogen", "technology")
    capex_cny_per_kg: float | None = default("hydrogen", "capex_cny_per_kg")
    fixed_om_pct_per_yr: float | None = default("hydrogen", "fixed_om_pct_per_yr")
    lifetime_yr: float | None = default("hydrogen", "lifetime_yr")
    replacement_cost_pu: float | None = default("hydrogen", "replacement_cost_pu")


@dataclass(frozen=True)
class Tariff:
    """Time-of-use import prices [CNY/MWh] by hour of day (local time)."""

    peak_cny_per_mwh: float
    flat_cny_per_mwh: float
    valley_cny_per_mwh: float
    peak_hours: tuple[int, ...] = default("grid.tariff", "peak_hours")
    valley_hours: tuple[int, ...] = default("grid.tariff", "valley_hours")

    def price_by_hour(self) -> list[float]:
        """Return the 24 hourly prices [CNY/MWh]."""
        out = []
        for h in range(24):
            if h in self.peak_hours:
                out.append(self.peak_cny_per_mwh)
            elif h in self.valley_hours:
                out.append(self.valley_cny_per_mwh)
            else:
                out.append(self.flat_cny_per_mwh)
        return out


@dataclass(frozen=True)
class Grid:
    """Connection to the public grid at the slack bus."""

    import_limit_mw: float
    export_limit_mw: float
    bus: str = default("grid", "bus")
    export_price_cny_per_mwh: float = default("grid", "export_price_cny_per_mwh")
    capacity_charge_cny_per_mw_month: float = default(
        "grid", "capacity_charge_cny_per_mw_month")
    emission_factor: str | float = default("grid", "emission_factor")
    emission_factor_year: int = default("grid", "emission_factor_year")
    emission_factor_column: str = default("grid", "emission_factor_column")
    technology: str = default("grid", "technology")
    capex_cny_per_kw: float | None = default("grid", "capex_cny_per_kw")
    fixed_om_cny_per_kw_yr: float | None = default("grid", "fixed_om_cny_per_kw_yr")
    fixed_om_pct_per_yr: float | None = default("grid", "fixed_om_pct_per_yr")
    lifetime_yr: float | None = default("grid", "lifetime_yr")
    replacement_cost_pu: float | None = default("grid", "replacement_cost_pu")
    ef_kg_per_kwh: float = 0.0
    """The emission factor resolved to a number [kgCO2/kWh] (not a key of the table)."""
    tariff: Tariff | None = None
    """``[grid.tariff]``, or ``None`` without one."""


@dataclass(frozen=True)
class GreenContract:
    """``[[green_contract]]``: a direct line, a PPA or green certificates (see the schema)."""

    name: str
    kind: str
    bus: str = default("green_contract", "bus")
    profile: str = default("green_contract", "profile")
    p_mw: float = default("green_contract", "p_mw")
    price_cny_per_mwh: float = default("green_contract", "price_cny_per_mwh")
    volume_mwh: float = default("green_contract", "volume_mwh")
    monthly_mwh: tuple[float, ...] = default("green_contract", "monthly_mwh")
    mwh_by_year: tuple[tuple[float, float], ...] = default("green_contract", "mwh_by_year")
    cos_phi: float = default("green_contract", "cos_phi")


@dataclass(frozen=True)
class Carbon:
    """``[carbon]``: residual and displaced factors, matching rules, hydrogen class."""

    residual_factor: str | float = default("carbon", "residual_factor")
    market_matching: str = default("carbon", "market_matching")
    h2_matching: str = default("carbon", "h2_matching")
    h2_class: str = default("carbon", "h2_class")
    rfnbo_additional: bool = default("carbon", "rfnbo_additional")
    displaced_factor: str | float = default("carbon", "displaced_factor")
    footprint_scope2: str = default("carbon", "footprint_scope2")


@dataclass(frozen=True)
class OLTC:
    """``[powerflow.oltc]``: the on-load tap changer regulating in the power flow."""

    trafo: str
    vm_set_pu: float = default("powerflow.oltc", "vm_set_pu")
    deadband_pu: float = default("powerflow.oltc", "deadband_pu")
    bus: str = default("powerflow.oltc", "bus")
    delay_steps: int = default("powerflow.oltc", "delay_steps")


@dataclass(frozen=True)
class OptimalWeights:
    """``[optimal.weights]``: weights of the objective terms of strategy ``optimal``."""

    energy: float = default("optimal.weights", "energy")
    capacity: float = default("optimal.weights", "capacity")
    carbon: float = default("optimal.weights", "carbon")
    hydrogen: float = default("optimal.weights", "hydrogen")
    export: float = default("optimal.weights", "export")


@dataclass(frozen=True)
class Optimal:
    """``[optimal]``: options and prices of the rolling-horizon MILP (strategy ``optimal``)."""

    window_h: float = default("optimal", "window_h")
    commit_h: float = default("optimal", "commit_h")
    carbon_price_cny_per_t: float = default("optimal", "carbon_price_cny_per_t")
    hydrogen_value_cny_per_kg: float = default("optimal", "hydrogen_value_cny_per_kg")
    unserved_penalty_cny_per_mwh: float = default("optimal", "unserved_penalty_cny_per_mwh")
    shortfall_penalty_cny_per_kg: float = default("optimal", "shortfall_penalty_cny_per_kg")
    mip_rel_gap: float = default("optimal", "mip_rel_gap")
    weights: OptimalWeights = field(default_factory=OptimalWeights)
    """``[optimal.weights]`` (all 1 when the sub-table is not given)."""


@dataclass(frozen=True)
class Targets:
    """``[targets]``: KPI targets to reach; ``None`` = no target for that KPI.

    Iterating yields ``(key, value)`` of each target set, in schema order, which is
    what :func:`parkgrid.report.check_targets` takes; ``len`` counts them.
    """

    clean_power_share_min: float | None = default("targets", "clean_power_share_min")
    green_share_hourly_min: float | None = default("targets", "green_share_hourly_min")
    self_consumption_ratio_min: float | None = default("targets", "self_consumption_ratio_min")
    self_sufficiency_min: float | None = default("targets", "self_sufficiency_min")
    res_utilisation_min: float | None = default("targets", "res_utilisation_min")
    green_h2_t_per_yr_min: float | None = default("targets", "green_h2_t_per_yr_min")
    co2_t_max: float | None = default("targets", "co2_t_max")
    h2_kgco2_per_kg_max: float | None = default("targets", "h2_kgco2_per_kg_max")

    def items(self) -> tuple[tuple[str, float], ...]:
        """``(key, value)`` of each target set, in schema order."""
        return tuple((f.name, v) for f in fields(self) if (v := getattr(self, f.name)) is not None)

    def __iter__(self) -> Iterator[tuple[str, float]]:
        return iter(self.items())

    def __len__(self) -> int:
        return len(self.items())


@dataclass(frozen=True)
class Economics:
    """``[economics]``: discounting and project data of the lifecycle costs (issue 14)."""

    discount_rate_pu: float = default("economics", "discount_rate_pu")
    project_life_yr: int = default("economics", "project_life_yr")
    currency_year: int = default("economics", "currency_year")
    inflation_pu: float = default("economics", "inflation_pu")
    land_cny_per_yr: float = default("economics", "land_cny_per_yr")
    connection_fee_cny: float = default("economics", "connection_fee_cny")
    hydrogen_price_cny_per_kg: float = default("economics", "hydrogen_price_cny_per_kg")
    reference: str = default("economics", "reference")


#: Scenario attributes that hold one key of a section: attribute -> "section.key"
SCENARIO_FIELDS: dict[str, str] = {
    "name": "scenario.name",
    "description": "scenario.description",
    "year": "scenario.year",
    "seed": "scenario.seed",
    "utc_offset_h": "scenario.utc_offset_h",
    "longitude": "scenario.longitude",
    "latitude": "scenario.latitude",
    "network_source": "network.source",
    "profiles_source": "profiles.source",
    "strategy": "dispatch.strategy",
    "import_cap_mw": "dispatch.import_cap_mw",
    "green_share_min_pu": "dispatch.green_share_min_pu",
    "pf_steps": "powerflow.steps",
    "pf_method": "powerflow.method",
    "pf_enforce": "powerflow.enforce",
    "output_dir": "output.dir",
}


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A validated scenario (see ``load_scenario``).

    The keys of ``[scenario]``, ``[network]``, ``[profiles]``, ``[dispatch]``,
    ``[powerflow]`` and ``[output]`` are attributes of their own (see
    :data:`SCENARIO_FIELDS`); every other section is a typed object (``grid``,
    ``hydrogen``, ``trucks``, ``optimal``, ``targets``) and every array of tables a
    tuple (``pv`` ... ``coal``, ``events`` for ``[[event]]``, ``reliability``,
    ``tariff_season``).

    ``net`` and ``profiles`` are the loaded network (never mutated by parkgrid)
    and the per-unit profile table of the simulated year; they are excluded from
    comparisons. ``data`` is the normalised input dictionary (defaults filled in)
    that is saved with every result.
    """

    name: str = default("scenario", "name")
    description: str = default("scenario", "description")
    year: int
    seed: int = default("scenario", "seed")
    utc_offset_h: float = default("scenario", "utc_offset_h")
    longitude: float = default("scenario", "longitude")
    latitude: float = default("scenario", "latitude")
    network_source: str = default("network", "source")
    profiles_source: str = default("profiles", "source")
    strategy: str = default("dispatch", "strategy")
    import_cap_mw: float = default("dispatch", "import_cap_mw")
    green_share_min_pu: float = default("dispatch", "green_share_min_pu")
    pf_steps: str | tuple[int, ...] = default("powerflow", "steps")
    pf_method: str = default("powerflow", "method")
    pf_enforce: bool = default("powerflow", "enforce")
    output_dir: str = default("output", "dir")
    grid: Grid
    pv: tuple[PV, ...] = ()
    wind: tuple[Wind, ...] = ()
    battery: tuple[Battery, ...] = ()
    electrolyser: tuple[Electrolyser, ...] = ()
    load: tuple[Load, ...] = ()
    hydrogen: Hydrogen | None = None
    coal: tuple[Coal, ...] = ()
    trucks: Trucks | None = None
    depot: tuple[Depot, ...] = ()
    swap_station: tuple[SwapStation, ...] = ()
    h2_station: tuple[H2Station, ...] = ()
    statcom: tuple[Statcom, ...] = ()
    fleet: tuple[Fleet, ...] = ()
    events: tuple[Event, ...] = ()
    reliability: tuple[Reliability, ...] = ()
    tariff_season: tuple[TariffSeason, ...] = ()
    optimal: Optimal = field(default_factory=Optimal)
    targets: Targets = field(default_factory=Targets)
    carbon: Carbon = field(default_factory=Carbon)
    green_contract: tuple[GreenContract, ...] = ()
    oltc: OLTC | None = None
    """``[powerflow.oltc]``, or ``None`` without one."""
    economics: Economics | None = None
    """``[economics]``, or ``None`` without one (then no economic KPIs)."""
    source: str = "<dict>"
    data: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    net: Any = field(default=None, compare=False, repr=False)
    profiles: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    base_dir: Path = field(default=Path("."), compare=False, repr=False)
