"""The scenario as plain, validated data.

Objects here are built only by :mod:`parkgrid.scenario.load`, which validates
everything once; the rest of parkgrid trusts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "PV",
    "Battery",
    "Coal",
    "Electrolyser",
    "Event",
    "Grid",
    "Hydrogen",
    "Load",
    "Reliability",
    "Scenario",
    "Tariff",
    "TariffSeason",
    "Trucks",
    "Wind",
]


@dataclass(frozen=True)
class PV:
    """A PV plant: ``p_mw`` [MW] AC rating times the per-unit ``profile``."""

    name: str
    bus: str
    p_mw: float
    profile: str
    cos_phi: float = 1.0


@dataclass(frozen=True)
class Wind:
    """A wind farm: ``p_mw`` [MW] rating times the per-unit ``profile``."""

    name: str
    bus: str
    p_mw: float
    profile: str
    cos_phi: float = 1.0


@dataclass(frozen=True)
class Battery:
    """Battery storage; energies in [MWh], efficiencies and SOC limits in [pu]."""

    name: str
    bus: str
    p_mw: float
    e_mwh: float
    eta_charge: float = 0.95
    eta_discharge: float = 0.95
    soc_min_pu: float = 0.05
    soc_max_pu: float = 0.95
    soc_initial_pu: float = 0.5
    technology: str = ""
    self_discharge_pu_per_h: float = 0.0
    c_rate_max: float = 0.0
    fade_calendar_pu_per_year: float = 0.0
    fade_cycle_pu_per_efc: float = 0.0
    grid_forming: bool = False


@dataclass(frozen=True)
class Electrolyser:
    """Electrolyser: rated input ``p_mw`` [MW], ``kwh_per_kg`` [kWh/kg], ``min_load_pu``."""

    name: str
    bus: str
    p_mw: float
    kwh_per_kg: float = 53.0
    min_load_pu: float = 0.2
    part_load_curve: tuple[tuple[float, float], ...] = ()
    standby_pu: float = 0.0
    start_delay_h: float = 0.0
    min_up_h: float = 0.0
    min_down_h: float = 0.0
    standby_max_h: float = 0.0
    cos_phi: float = 0.98


@dataclass(frozen=True)
class Load:
    """Fixed consumer; the profile is scaled to ``annual_mwh`` or ``peak_mw``."""

    name: str
    bus: str
    profile: str
    annual_mwh: float = 0.0
    peak_mw: float = 0.0
    category: str = "industrial"
    priority: int = 0
    flexible_share: float = 0.0
    flexible_max_mw: float = 0.0
    cos_phi: float = 0.95


@dataclass(frozen=True)
class Coal:
    """Captive coal unit for flexible peaking support (``coal_peaking``, ``optimal``)."""

    name: str
    bus: str
    p_min_mw: float
    p_max_mw: float
    ramp_up_mw_per_min: float
    ramp_down_mw_per_min: float
    start_up_h: float = 0.0
    min_up_h: float = 0.0
    min_down_h: float = 0.0
    start_cost_cny: float = 0.0
    coal_gce_per_kwh: float = 300.0
    co2_kg_per_kgce: float = 2.77
    fuel_cny_per_tce: float = 0.0
    cos_phi: float = 0.9


@dataclass(frozen=True)
class Trucks:
    """Electric heavy-truck charging depot: trucks queue for the chargers."""

    bus: str
    chargers: int
    charger_kw: float
    energy_kwh_per_truck: float
    name: str = "Truck charging"
    arrival_times: tuple[str, ...] = ()
    arrivals_per_day: float = 0.0
    priority: int = 0
    cos_phi: float = 0.99


@dataclass(frozen=True)
class Event:
    """Scheduled maintenance of an asset or line, or a grid-link outage."""

    kind: str
    start: str
    duration_h: float
    target: str = ""


@dataclass(frozen=True)
class Reliability:
    """Seeded random forced outages of an asset, a line or the grid link."""

    target: str
    mtbf_h: float
    mttr_h: float


@dataclass(frozen=True)
class TariffSeason:
    """Time-of-use prices from ``start`` ('MM-DD') on."""

    start: str
    peak_cny_per_mwh: float
    flat_cny_per_mwh: float
    valley_cny_per_mwh: float
    peak_hours: tuple[int, ...] = ()
    valley_hours: tuple[int, ...] = ()


@dataclass(frozen=True)
class Hydrogen:
    """Hydrogen tank [kg] with constant or profiled offtake [kg/h]."""

    capacity_kg: float
    initial_kg: float = 0.0
    offtake_kg_per_h: float = 0.0
    offtake_profile: str = ""
    trailer_kg: float = 0.0
    trailer_times: tuple[str, ...] = ()
    trailers_per_day: float = 0.0


@dataclass(frozen=True)
class Tariff:
    """Time-of-use import prices [CNY/MWh] by hour of day (local time)."""

    peak_cny_per_mwh: float
    flat_cny_per_mwh: float
    valley_cny_per_mwh: float
    peak_hours: tuple[int, ...] = ()
    valley_hours: tuple[int, ...] = ()

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
    bus: str = ""
    export_price_cny_per_mwh: float = 0.0
    capacity_charge_cny_per_mw_month: float = 0.0
    emission_factor: str | float = "inner_mongolia"
    emission_factor_year: int = 2022
    ef_kg_per_kwh: float = 0.0
    tariff: Tariff | None = None


@dataclass(frozen=True)
class Scenario:
    """A validated scenario (see ``load_scenario``).

    ``net`` and ``profiles`` are the loaded network (never mutated by parkgrid)
    and the per-unit profile table of the simulated year; they are excluded from
    comparisons. ``data`` is the normalised input dictionary (defaults filled in)
    that is saved with every result.
    """

    name: str
    year: int
    seed: int
    network_source: str
    profiles_source: str
    strategy: str
    pf_steps: str | tuple[int, ...]
    pf_method: str
    output_dir: str
    grid: Grid
    pv: tuple[PV, ...] = ()
    wind: tuple[Wind, ...] = ()
    battery: tuple[Battery, ...] = ()
    electrolyser: tuple[Electrolyser, ...] = ()
    load: tuple[Load, ...] = ()
    hydrogen: Hydrogen | None = None
    coal: tuple[Coal, ...] = ()
    trucks: Trucks | None = None
    events: tuple[Event, ...] = ()
    reliability: tuple[Reliability, ...] = ()
    tariff_season: tuple[TariffSeason, ...] = ()
    import_cap_mw: float = 0.0
    green_share_min_pu: float = 0.0
    description: str = ""
    utc_offset_h: float = 8.0
    longitude: float = 109.8
    latitude: float = 39.6
    targets: tuple[tuple[str, float], ...] = ()
    """``(key, value)`` of each ``[targets]`` key given, in schema order."""
    source: str = "<dict>"
    data: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    net: Any = field(default=None, compare=False, repr=False)
    profiles: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    base_dir: Path = field(default=Path("."), compare=False, repr=False)
