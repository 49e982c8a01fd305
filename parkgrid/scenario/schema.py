"""Attribute tables of every scenario section and asset kind.

One table per kind (PyPSA-style): name, type, unit, default, allowed range and a
description. The tables are the single source of these facts: they drive
validation (:meth:`Field.check`, used by scenario and sweep files alike), the
defaults of the dataclasses in :mod:`parkgrid.scenario.model` (through
:func:`default`) and the documentation (``parkgrid schema`` prints them), so the
three never disagree. ``tests/test_scenario_model.py`` checks every table against
its dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parkgrid._fields import INF, REQUIRED, Field, FieldProblem

__all__ = [
    "ASSET_KINDS",
    "EVENT_TABLES",
    "REQUIRED",
    "SECTIONS",
    "TABLES",
    "Field",
    "FieldProblem",
    "Table",
    "default",
]


@dataclass(frozen=True)
class Table:
    """The attribute table of one section (``many`` = an array of tables, e.g. ``[[pv]]``)."""

    key: str
    fields: tuple[Field, ...]
    many: bool = False
    optional: bool = True
    doc: str = ""

    def field(self, name: str) -> Field:
        """Return the field called *name*."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Names of all fields."""
        return tuple(f.name for f in self.fields)


STRATEGIES = (
    "self_consumption", "hydrogen_first", "valley_hydrogen", "peak_shaving", "coal_peaking",
    "optimal",  # parkgrid.optimal
)
CONTRACT_KINDS = ("direct_line", "ppa", "certificates")
H2_MATCHING = ("grid_share", "hourly", "monthly", "annual")
H2_CLASSES = ("low_carbon", "clean", "renewable", "rfnbo")
BATTERY_TECHNOLOGIES = ("", "lfp", "vanadium_flow", "caes", "flywheel")
PF_METHODS = ("auto", "reference")
# cost presets of parkgrid/presets.py (COST_PRESETS) by asset kind
PV_TECHNOLOGIES = ("", "pv")
WIND_TECHNOLOGIES = ("", "onshore_wind")
ELECTROLYSER_TECHNOLOGIES = ("", "alkaline", "pem")
TANK_TECHNOLOGIES = ("", "compressed_h2")
GRID_TECHNOLOGIES = ("", "grid_connection")


def _technology(choices: tuple[str, ...]) -> Field:
    return Field("technology", "str", default="", choices=choices,
                 doc="preset for every key not given (parkgrid/presets.py, with sources)")


def _cost_fields(*, per: str = "kw", om: bool = True) -> tuple[Field, ...]:
    """Return the optional cost keys of an asset (issue 14); ``None`` = not given.

    ``per`` is the unit of the capacity the capex is quoted on: ``"kw"``
    (power) or ``"kg"`` (a hydrogen tank). Costs are in CNY of
    ``economics.currency_year``; they are used only with an ``[economics]`` section.
    """
    cap = ((Field("capex_cny_per_kw", "float", "CNY/kW", None, 0.0, None,
                  doc="investment per kW of rated power"),) if per == "kw" else
           (Field("capex_cny_per_kg", "float", "CNY/kg", None, 0.0, None,
                  doc="investment per kg of usable capacity"),))
    fixed = ((Field("fixed_om_cny_per_kw_yr", "float", "CNY/(kW·yr)", None, 0.0, None,
                    doc="fixed O&M per kW and year (or give fixed_om_pct_per_yr)"),)
             if per == "kw" else ())
    var = ((Field("variable_om_cny_per_mwh", "float", "CNY/MWh", None, 0.0, None,
                  doc="O&M per MWh generated, discharged or consumed"),) if om else ())
    return cap + fixed + (
        Field("fixed_om_pct_per_yr", "float", "%/yr", None, 0.0, 100.0,
              doc="fixed O&M per year as a percentage of the capex"),
    ) + var + (
        Field("lifetime_yr", "float", "yr", None, 0.0, 100.0, lo_open=True,
              doc="service life; replaced at its end (must not exceed "
                  "economics.project_life_yr)"),
        Field("replacement_cost_pu", "float", "pu", None, 0.0, 10.0,
              doc="cost of each replacement, per unit of the capex (default 1)"),
    )

_NAME = Field("name", "str", doc="unique name of the asset")
_BUS = Field("bus", "str", doc="name of the network bus (net.bus.name) it connects to")


def _cos_phi(default: float) -> Field:
    return Field(
        "cos_phi", "float", "-", default, 0.5, 1.0, lo_open=False,
        doc="power factor (inductive for consumers); used for the power flow only",
    )


# Reactive power of inverters (pv, wind, battery). Curve points not verified against
# the standards' texts here (no access); they are parameters with these defaults:
# - q_u_curve: Q(U) droop of VDE-AR-N 4110:2018 as its default characteristic is
#   reproduced in Basler Electric, DECS-150 manual, grid-code chapter: (0.94, +0.33),
#   (0.96, 0), (1.04, 0), (1.06, -0.33), Q per unit of rated power; GB/T 19964-2012
#   (PV plants) and GB/T 19963-2021 (wind farms) ask for voltage control by reactive
#   power but leave the curve to the grid operator.
# - cos_phi_p_curve: a cos phi(P) shape in the style of VDE-AR-N 4105/4110 (cos phi 1
#   up to half power, then linearly to 0.95 under-excited at full power).
# - s_mva = 0: p_mw / 0.95, an inverter that reaches cos phi 0.95 at rated power
#   (GB/T 19964-2012 asks PV inverters for a power factor adjustable within 0.95
#   leading to 0.95 lagging, as we understand it; not verified against the text).
Q_CONTROLS = ("fixed", "cos_phi_p", "q_u")
Q_U_CURVE = ((0.94, 0.33), (0.96, 0.0), (1.04, 0.0), (1.06, -0.33))
COS_PHI_P_CURVE = ((0.0, 1.0), (0.5, 1.0), (1.0, -0.95))


def _q_fields(modes: tuple[str, ...], s_doc: str) -> tuple[Field, ...]:
    return (
        Field("q_control", "str", default="fixed", choices=modes,
              doc="reactive power: 'fixed' (cos_phi), 'cos_phi_p' (cos_phi_p_curve), "
                  "'q_u' (Q(U) droop q_u_curve, iterated with the power flow)"),
        Field("q_u_curve", "pairs", "pu", Q_U_CURVE,
              doc="[[vm_pu, q_pu], ...] Q(U): reactive power per unit of p_mw at each "
                  "voltage (+ over-excited/injecting, - absorbing), linear between points, "
                  "flat beyond; default after VDE-AR-N 4110:2018"),
        Field("cos_phi_p_curve", "pairs", "pu", COS_PHI_P_CURVE,
              doc="[[p_pu, cos_phi], ...] cos phi(P) of a generator (negative cos_phi = "
                  "under-excited, absorbing), linear between points"),
        Field("s_mva", "float", "MVA", 0.0, 0.0, None,
              doc="inverter apparent-power limit: |Q| <= sqrt(s_mva^2 - P^2), active power "
                  f"first; 0 = {s_doc}"),
    )


# arrays of tables that are not assets: events and reliability data
FLEET_KINDS = ("electric", "fuel_cell")
CHARGING_POLICIES = ("uncontrolled", "valley", "surplus", "grid_cap")


def _policy() -> Field:
    return Field("policy", "str", default="uncontrolled", choices=CHARGING_POLICIES,
                 doc="'uncontrolled': full power from plug-in; 'valley': cheapest steps "
                     "before the deadline; 'surplus': the park's renewable surplus first, "
                     "the deadline hard; 'grid_cap': full power within limit_kw")


def _limit_kw() -> Field:
    return Field("limit_kw", "float", "kW", INF, 0.0, None, lo_open=True, allow_inf=True,
                 doc="import limit of the whole station, shared among its chargers "
                     "(required by 'grid_cap', binding under every policy)")


_PRIORITY = Field("priority", "int", "", 0, -1000, 1000,
                  doc="load-shedding priority (lower is shed first)")

# arrays of tables that are not assets: events, reliability data, truck fleets
EVENT_TABLES: dict[str, Table] = {
    t.key: t
    for t in (
        Table("event", (
            Field("kind", "str", choices=("maintenance", "grid_outage"),
                  doc="planned maintenance of an asset or line, or a grid-link outage"),
            Field("target", "str", default="", doc="asset name or line name (not for "
                  "grid_outage)"),
            Field("start", "str", doc="local start time 'YYYY-MM-DD HH:MM' in the year"),
            Field("duration_h", "float", "h", REQUIRED, 0.0, None, lo_open=True),
        ), many=True, doc="scheduled events"),
        Table("reliability", (
            Field("target", "str", doc="asset or line name, or 'grid' for the grid link"),
            Field("mtbf_h", "float", "h", REQUIRED, 0.0, None, lo_open=True,
                  doc="mean time between failures"),
            Field("mttr_h", "float", "h", REQUIRED, 0.0, None, lo_open=True,
                  doc="mean time to repair"),
        ), many=True, doc="seeded random forced outages"),
        Table("tariff_season", (
            Field("start", "str", doc="'MM-DD' from which this tariff applies"),
            Field("peak_cny_per_mwh", "float", "CNY/MWh", REQUIRED, 0.0, None),
            Field("flat_cny_per_mwh", "float", "CNY/MWh", REQUIRED, 0.0, None),
            Field("valley_cny_per_mwh", "float", "CNY/MWh", REQUIRED, 0.0, None),
            Field("peak_hours", "int_list", "h", (), 0, 23),
            Field("valley_hours", "int_list", "h", (), 0, 23),
        ), many=True, doc="tariff season changes (the [grid.tariff] applies before the "
                          "first)"),
        Table("green_contract", (
            Field("name", "str", doc="unique name of the contract"),
            Field("kind", "str", choices=CONTRACT_KINDS,
                  doc="direct_line: an off-site plant on a dedicated line (in the power flow "
                      "and the dispatch); ppa: bilateral green-power trade through the grid "
                      "(settlement only); certificates: green certificates, 1 per MWh"),
            Field("bus", "str", default="", doc="direct_line: bus the line arrives at"),
            Field("profile", "str", default="",
                  doc="direct_line: profile column per unit of p_mw (required); ppa: shape of "
                      "the delivery over the period (empty: flat)"),
            Field("p_mw", "float", "MW", 0.0, 0.0, None, doc="direct_line: plant capacity"),
            Field("price_cny_per_mwh", "float", "CNY/MWh", 0.0, 0.0, None,
                  doc="price per MWh delivered (direct line), contracted (ppa) or certified"),
            Field("volume_mwh", "float", "MWh", 0.0, 0.0, None,
                  doc="ppa: annual volume (give this or monthly_mwh)"),
            Field("monthly_mwh", "float_list", "MWh", (), 0.0, None,
                  doc="ppa: 12 monthly volumes, January first"),
            Field("mwh_by_year", "pairs", "MWh", (),
                  doc="certificates: [[year, MWh], ...] bought for each year"),
            _cos_phi(1.0),
        ), many=True, doc="green-power contracts: counted as contracts, never as own plants"),
        Table("fleet", (
            Field("name", "str", doc="unique name of the fleet"),
            Field("kind", "str", choices=FLEET_KINDS,
                  doc="battery-electric trucks (a depot or swap station) or fuel-cell "
                      "trucks (an h2_station)"),
            Field("station", "str", doc="name of the depot, swap_station or h2_station "
                  "the trucks visit"),
            Field("count", "int", "", REQUIRED, 1, 100000, doc="number of trucks"),
            Field("battery_kwh", "float", "kWh", 0.0, 0.0, None,
                  doc="usable battery of each electric truck"),
            Field("tank_kg", "float", "kg", 0.0, 0.0, None,
                  doc="hydrogen tank of each fuel-cell truck"),
            Field("visits", "pairs", "h", REQUIRED,
                  doc="[[arrival_h, departure_h], ...] every day, hours after local "
                      "midnight; a departure after 24 is the next day (an overnight stay)"),
            Field("stagger_h", "float", "h", 0.0, 0.0, 24.0,
                  doc="the trucks' shifts spread evenly over this many hours (truck i "
                      "of n starts i/n x stagger_h later)"),
            Field("jitter_h", "float", "h", 0.0, 0.0, 24.0,
                  doc="seeded random delay of each arrival, uniform in [0, jitter_h) "
                      "(departures keep their time)"),
            Field("arrival_soc_pu", "float", "pu", 0.2, 0.0, 1.0,
                  doc="state of charge (or tank fill) on arrival, unless a consumption "
                      "is given"),
            Field("departure_soc_pu", "float", "pu", 0.9, 0.0, 1.0, lo_open=True,
                  doc="state of charge (or fill) required at departure"),
            Field("trip_km", "float", "km", 0.0, 0.0, None,
                  doc="distance driven before each visit (with consumption_per_km)"),
            Field("consumption_per_km", "float", "kWh/km or kg/km", 0.0, 0.0, None,
                  doc="energy (electric) or hydrogen (fuel cell) per km"),
            Field("consumption_per_trip", "float", "kWh or kg", 0.0, 0.0, None,
                  doc="energy or hydrogen used before each visit (instead of per km)"),
        ), many=True, doc="heavy-truck fleets: each truck visits its station every day; "
                          "with a consumption, arrival state = departure state - trip use"),
    )
}

SECTIONS: dict[str, Table] = {
    t.key: t
    for t in (
        Table("scenario", (
            Field("name", "str", default="unnamed scenario", doc="title shown in reports"),
            Field("description", "str", default="", doc="free text"),
            Field("year", "int", "", REQUIRED, 2000, 2100, doc="simulated calendar year"),
            Field("seed", "int", "", 0, 0, 2**32 - 1, doc="seed of every random process"),
            Field("utc_offset_h", "float", "h", 8.0, -12.0, 14.0,
                  doc="local standard time of the park (profiles, tariffs, results) as an "
                      "offset from UTC, fixed (no DST); 8 for China"),
            # default site: Ordos, Genghis Khan Plaza, Kangbashi, 39.604 N 109.785 E
            # (Wikipedia "Ordos City", 2024), the site of profiles/README.md
            Field("longitude", "float", "deg E", 109.8, -180.0, 180.0,
                  doc="longitude of the park (assess: solar-noon check of PV meters)"),
            Field("latitude", "float", "deg N", 39.6, -90.0, 90.0,
                  doc="latitude of the park"),
        ), optional=False, doc="what is simulated"),
        Table("network", (
            Field("source", "str", default="flagship_park",
                  doc="a file in networks/ (without .json), a path to a pandapower JSON "
                      "file or a layout file (.toml), or a builder name: "
                      "'pandapower:cigre_mv_der', "
                      "'pandapower:cigre_mv', 'pandapower:case33bw', 'simbench:<code>'"),
        ), doc="the park's electrical network; or inline: [network.layout] tables "
                "(README, 'Drawing a park')"),
        Table("profiles", (
            Field("source", "str", default="ordos_2025",
                  doc="a shipped profile set in profiles/ or a CSV/Parquet path with a "
                      "timestamp column; assets refer to its columns by name"),
        ), doc="per-unit time series"),
        Table("dispatch", (
            Field("strategy", "str", default="self_consumption", choices=STRATEGIES,
                  doc="rule used every step"),
            Field("import_cap_mw", "float", "MW", 0.0, 0.0, None,
                  doc="peak_shaving: import level the batteries shave to (required there)"),
            Field("green_share_min_pu", "float", "pu", 0.0, 0.0, 1.0,
                  doc="valley_hydrogen: least share of electrolyser energy from local RES"),
        )),
        Table("trucks", (
            Field("bus", "str", doc="bus of the electric heavy-truck charging depot"),
            Field("name", "str", default="Truck charging", doc="name of the depot load"),
            Field("chargers", "int", "", REQUIRED, 1, 10000, doc="number of chargers"),
            Field("charger_kw", "float", "kW", REQUIRED, 0.0, None, lo_open=True,
                  doc="power of each charger"),
            Field("energy_kwh_per_truck", "float", "kWh", REQUIRED, 0.0, None, lo_open=True,
                  doc="energy each truck takes"),
            Field("arrival_times", "str_list", "HH:MM", (),
                  doc="daily arrival times, local; a time listed twice means two trucks"),
            Field("arrivals_per_day", "float", "1/d", 0.0, 0.0, None,
                  doc="mean of Poisson arrivals (seeded), in addition to arrival_times"),
            Field("priority", "int", "", 0, -1000, 1000,
                  doc="load-shedding priority (lower is shed first)"),
            _cos_phi(0.99),
        ), doc="charging depot: trucks queue for the chargers (SimPy resource)"),
        Table("powerflow", (
            Field("steps", "steps", default="all",
                  doc="steps to solve: 'none', 'all', 'day:N', 'week:N', 'month:N' "
                      "(1-based) or a list of 0-based step numbers"),
            Field("method", "str", default="auto", choices=PF_METHODS,
                  doc="'auto' = parkgrid's batch solver, 'reference' = pandapower.runpp "
                      "step by step"),
            Field("enforce", "bool", "", False,
                  doc="network-aware dispatch: curtail PV/wind at steps outside the "
                      "voltage band (0.95-1.05 pu) or above 100 % loading (README)"),
        )),
        Table("powerflow.oltc", (
            Field("trafo", "str", doc="name of the two-winding transformer (net.trafo.name) "
                  "whose on-load tap changer regulates"),
            Field("vm_set_pu", "float", "pu", 1.0, 0.8, 1.2,
                  doc="voltage set point of the controlled bus"),
            Field("deadband_pu", "float", "pu", 0.0, 0.0, 0.2,
                  doc="half width of the band [vm_set - deadband, vm_set + deadband]; 0 = "
                      "half a tap step + 0.001 (pandapower DiscreteTapControl's default)"),
            Field("bus", "str", default="", doc="controlled bus (net.bus.name); empty = the "
                  "transformer's LV bus"),
            Field("delay_steps", "int", "", 0, 0, 96,
                  doc="steps the voltage must stay outside the band before the first tap "
                      "move"),
        ), doc="on-load tap changer in the power flow of every step (taps carry over)"),
        Table("output", (
            Field("dir", "str", default="", doc="results folder (CLI -o overrides)"),
        )),
        Table("grid", (
            Field("bus", "str", default="", doc="bus of the grid connection; must be the "
                  "ext_grid bus (default: the ext_grid bus)"),
            Field("import_limit_mw", "float", "MW", REQUIRED, 0.0, None, allow_inf=True,
                  doc="largest import (inf: unlimited)"),
            Field("export_limit_mw", "float", "MW", REQUIRED, 0.0, None, allow_inf=True,
                  doc="largest export (inf: unlimited)"),
            Field("export_price_cny_per_mwh", "float", "CNY/MWh", 0.0, 0.0, None,
                  doc="revenue per exported MWh"),
            Field("capacity_charge_cny_per_mw_month", "float", "CNY/(MW·month)", 0.0, 0.0,
                  None, doc="demand charge on each month's peak import"),
            Field("emission_factor", "str|float", "kgCO2/kWh", "inner_mongolia", 0.0, 2.0,
                  doc="number or a name of parkgrid/factors.py (MEE/NBS): a province "
                      "('inner_mongolia', ...), a regional grid ('north_china', ...) or "
                      "'national'"),
            Field("emission_factor_year", "int", "", 2022, 2000, 2100,
                  doc="data year of the emission-factor table entry"),
            Field("emission_factor_column", "str", default="",
                  doc="profile column of per-step factors [kgCO2/kWh] (hourly or marginal); "
                      "replaces emission_factor for location-based scope 2 when given"),
            _technology(GRID_TECHNOLOGIES), *_cost_fields(om=False),
        ), optional=False, doc="the connection to the public grid"),
        Table("grid.tariff", (
            Field("peak_cny_per_mwh", "float", "CNY/MWh", REQUIRED, 0.0, None),
            Field("flat_cny_per_mwh", "float", "CNY/MWh", REQUIRED, 0.0, None),
            Field("valley_cny_per_mwh", "float", "CNY/MWh", REQUIRED, 0.0, None),
            Field("peak_hours", "int_list", "h", (), 0, 23,
                  doc="hours of day (0-23, local) priced at the peak rate"),
            Field("valley_hours", "int_list", "h", (), 0, 23,
                  doc="hours of day priced at the valley rate; other hours are flat"),
        ), doc="time-of-use import tariff"),
        Table("hydrogen", (
            Field("capacity_kg", "float", "kg", REQUIRED, 0.0, None, lo_open=True,
                  doc="usable tank capacity"),
            Field("initial_kg", "float", "kg", 0.0, 0.0, None),
            Field("offtake_kg_per_h", "float", "kg/h", 0.0, 0.0, None,
                  doc="constant offtake, or the scale of offtake_profile"),
            Field("offtake_profile", "str", default="",
                  doc="profile column (per unit of offtake_kg_per_h); empty = constant"),
            Field("trailer_kg", "float", "kg", 0.0, 0.0, None,
                  doc="hydrogen each tube-trailer pick-up takes (up to what the tank holds)"),
            Field("trailer_times", "str_list", "HH:MM", (), doc="daily pick-up times, local"),
            Field("trailers_per_day", "float", "1/d", 0.0, 0.0, None,
                  doc="mean of Poisson pick-ups (seeded), in addition to trailer_times"),
            _technology(TANK_TECHNOLOGIES), *_cost_fields(per="kg", om=False),
        ), doc="hydrogen tank fed by all electrolysers"),
        Table("optimal", (
            Field("window_h", "float", "h", 48.0, 0.0, 8784.0, lo_open=True,
                  doc="length of each rolling-horizon window solved with foresight"),
            Field("commit_h", "float", "h", 24.0, 0.0, 8784.0, lo_open=True,
                  doc="hours of each window kept before the next is solved (<= window_h)"),
            Field("carbon_price_cny_per_t", "float", "CNY/tCO2", 0.0, 0.0, None,
                  doc="carbon price on grid-import emissions in the objective"),
            Field("hydrogen_value_cny_per_kg", "float", "CNY/kg", 20.0, 0.0, None,
                  doc="value of hydrogen delivered (and left in the tank at the end)"),
            Field("unserved_penalty_cny_per_mwh", "float", "CNY/MWh", 1e6, 0.0, None,
                  doc="penalty on unserved load; far above a month's capacity charge per "
                      "MW over one step, so load is shed only when nothing can serve it"),
            Field("shortfall_penalty_cny_per_kg", "float", "CNY/kg", 200.0, 0.0, None,
                  doc="penalty on hydrogen offtake not met"),
            Field("mip_rel_gap", "float", "-", 1e-3, 0.0, 1.0,
                  doc="a window is accepted this close to its LP bound, as a fraction of "
                      "its grid turnover (import cost + export revenue + capacity charge)"),
        ), doc="strategy 'optimal': rolling-horizon MILP (HiGHS); objective = TOU energy + "
               "capacity charge + carbon - export - hydrogen value + penalties"),
        Table("optimal.weights", (
            Field("energy", "float", "-", 1.0, 0.0, None, doc="weight of the TOU energy cost"),
            Field("capacity", "float", "-", 1.0, 0.0, None, doc="weight of the capacity charge"),
            Field("carbon", "float", "-", 1.0, 0.0, None, doc="weight of the carbon cost"),
            Field("hydrogen", "float", "-", 1.0, 0.0, None, doc="weight of the hydrogen value"),
            Field("export", "float", "-", 1.0, 0.0, None, doc="weight of the export revenue"),
        ), doc="weights of the objective terms of strategy 'optimal'"),
        Table("carbon", (
            Field("residual_factor", "str|float", "kgCO2/kWh", "location", 0.0, 2.0,
                  choices=("location", "national_excl_market"),
                  doc="factor of imports not covered by contracts (market-based scope 2): "
                      "'location' = the location-based factor of each step (GHG Protocol "
                      "Scope 2 Guidance, 2015: the grid average where no residual mix "
                      "exists), 'national_excl_market' = MEE/NBS national average without "
                      "market-traded non-fossil power of emission_factor_year, or a number"),
            Field("market_matching", "str", default="annual",
                  choices=("hourly", "monthly", "annual"),
                  doc="matching of PPA and certificates to imports for market-based scope 2 "
                      "(hourly = per time step; certificates count in annual matching only)"),
            Field("h2_matching", "str", default="hourly", choices=H2_MATCHING,
                  doc="attribution behind the hydrogen classes: grid_share (physical mix of "
                      "each step, location factor) or contracts matched per step (hourly), "
                      "month or year"),
            Field("h2_class", "str", default="renewable", choices=H2_CLASSES,
                  doc="class green_h2_t_per_yr_min counts (T/CAB 0078-2020 or EU RFNBO)"),
            Field("rfnbo_additional", "bool", "", False,
                  doc="the renewable supply meets the EU additionality rule (Delegated "
                      "Regulation (EU) 2023/1184); declared by the user, not checked"),
            Field("displaced_factor", "str|float", "kgCO2/kWh", "location", 0.0, 2.0,
                  choices=("location", "fossil"),
                  doc="factor own RES displaces (avoided emissions): 'location' = the "
                      "location-based factor of each step, 'fossil' = MEE/NBS national "
                      "fossil-fuel power factor of emission_factor_year, or a number"),
            Field("footprint_scope2", "str", default="market", choices=("location", "market"),
                  doc="scope 2 figure behind product carbon footprints"),
        ), doc="carbon accounting: scopes, contract matching, hydrogen classes"),
        Table("targets", (
            Field("clean_power_share_min", "float", "-", None, 0.0, 1.0,
                  doc="green share of consumption (KPI green_share_annual) to reach, e.g. "
                      "0.5 for the pilot plan's 2030 clean-power share of 50 %"),
            Field("green_share_hourly_min", "float", "-", None, 0.0, 1.0,
                  doc="hourly-matched green share (KPI green_share_hourly) to reach"),
            Field("self_consumption_ratio_min", "float", "-", None, 0.0, 1.0,
                  doc="green-power self-consumption ratio to reach"),
            Field("self_sufficiency_min", "float", "-", None, 0.0, 1.0,
                  doc="self-sufficiency to reach"),
            Field("res_utilisation_min", "float", "-", None, 0.0, 1.0,
                  doc="RES utilisation rate to reach"),
            Field("green_h2_t_per_yr_min", "float", "t/yr", None, 0.0, None,
                  doc="hydrogen meeting [carbon] h2_class under h2_matching (KPI "
                      "h2_target_class_kg / 1000), to reach"),
            Field("co2_t_max", "float", "tCO2", None, 0.0, None,
                  doc="total CO2, scope 1 coal + scope 2 grid (KPI co2_total_t), not "
                      "to exceed"),
            Field("h2_kgco2_per_kg_max", "float", "kgCO2/kg", None, 0.0, None,
                  doc="grid and coal CO2 per kg of hydrogen (KPI h2_kgco2_per_kg) not "
                      "to exceed"),
        ), doc="KPI targets shown with pass/fail in the KPI table and the report; "
               "omit a key for no target"),
        Table("economics", (
            Field("discount_rate_pu", "float", "pu/yr", 0.06, 0.0, 1.0,
                  doc="real discount rate (costs are in constant CNY of currency_year)"),
            Field("project_life_yr", "int", "yr", 25, 1, 100,
                  doc="years over which costs and savings are counted"),
            Field("currency_year", "int", "", 2024, 2000, 2100,
                  doc="price level of every cost given (CNY of that year)"),
            Field("inflation_pu", "float", "pu/yr", 0.0, -0.5, 1.0,
                  doc="general inflation: only to report the nominal discount rate "
                      "(1+r)(1+i)-1; every cash flow stays in constant CNY"),
            Field("land_cny_per_yr", "float", "CNY/yr", 0.0, 0.0, None,
                  doc="land lease or other fixed yearly fee of the park"),
            Field("connection_fee_cny", "float", "CNY", 0.0, 0.0, None,
                  doc="one-off grid-connection fee paid in year 0"),
            Field("hydrogen_price_cny_per_kg", "float", "CNY/kg", 0.0, 0.0, None,
                  doc="revenue per kg of hydrogen delivered, an operating income of the "
                      "design (a grid-only reference delivers none)"),
            Field("reference", "str", default="grid_only",
                  doc="design NPV and payback compare with: 'grid_only' (the loads served "
                      "from the grid, no assets) or the path of a scenario TOML file"),
        ), doc="lifecycle economics; giving this section turns on the economic KPIs, "
               "and every pv, wind, battery, electrolyser and tank then needs costs "
               "(keys or a technology preset)"),
    )
}

ASSET_KINDS: dict[str, Table] = {
    t.key: t
    for t in (
        Table("pv", (
            _NAME, _BUS,
            Field("p_mw", "float", "MW", REQUIRED, 0.0, None, doc="AC rating"),
            Field("profile", "str", default="pv_pu", doc="profile column, per unit of p_mw"),
            _cos_phi(1.0),
            *_q_fields(Q_CONTROLS, "p_mw / 0.95"),
            _technology(PV_TECHNOLOGIES), *_cost_fields(),
        ), many=True, doc="PV plants"),
        Table("wind", (
            _NAME, _BUS,
            Field("p_mw", "float", "MW", REQUIRED, 0.0, None, doc="rated power"),
            Field("profile", "str", default="wind_pu", doc="profile column, per unit of p_mw"),
            _cos_phi(1.0),
            *_q_fields(Q_CONTROLS, "p_mw / 0.95"),
            _technology(WIND_TECHNOLOGIES), *_cost_fields(),
        ), many=True, doc="wind farms"),
        Table("battery", (
            _NAME, _BUS,
            Field("p_mw", "float", "MW", REQUIRED, 0.0, None, doc="charge/discharge rating"),
            Field("e_mwh", "float", "MWh", REQUIRED, 0.0, None, lo_open=True,
                  doc="nameplate energy"),
            Field("eta_charge", "float", "-", 0.95, 0.0, 1.0, lo_open=True,
                  doc="charging efficiency (AC to stored)"),
            Field("eta_discharge", "float", "-", 0.95, 0.0, 1.0, lo_open=True,
                  doc="discharging efficiency (stored to AC)"),
            Field("soc_min_pu", "float", "pu", 0.05, 0.0, 1.0),
            Field("soc_max_pu", "float", "pu", 0.95, 0.0, 1.0),
            Field("soc_initial_pu", "float", "pu", 0.5, 0.0, 1.0),
            Field("technology", "str", default="", choices=BATTERY_TECHNOLOGIES,
                  doc="preset for every key not given (parkgrid/presets.py, with sources)"),
            Field("self_discharge_pu_per_h", "float", "pu/h", 0.0, 0.0, 1.0, hi_open=True,
                  doc="share of the stored energy lost per hour"),
            Field("c_rate_max", "float", "1/h", 0.0, 0.0, None,
                  doc="largest p_mw / e_mwh the technology allows (0 = not checked)"),
            Field("fade_calendar_pu_per_year", "float", "pu/yr", 0.0, 0.0, 1.0,
                  doc="capacity lost per year of calendar time (degradation)"),
            Field("fade_cycle_pu_per_efc", "float", "pu", 0.0, 0.0, 0.1,
                  doc="capacity lost per equivalent full cycle (degradation)"),
            Field("grid_forming", "bool", "", False,
                  doc="can form an island when the grid link is out"),
            *_q_fields(("fixed", "q_u"), "p_mw"),
            *_cost_fields(),
            Field("capex_cny_per_kwh", "float", "CNY/kWh", None, 0.0, None,
                  doc="investment per kWh of nameplate energy (on top of capex_cny_per_kw)"),
            Field("end_of_life_capacity_pu", "float", "pu", None, 0.0, 1.0, lo_open=True,
                  hi_open=True, doc="replaced when capacity fade brings it to this share of "
                                    "e_mwh (the simulated year's fade, extrapolated)"),
        ), many=True, doc="battery storage; dispatched in the order listed"),
        Table("electrolyser", (
            _NAME, _BUS,
            Field("p_mw", "float", "MW", REQUIRED, 0.0, None, lo_open=True,
                  doc="rated AC input"),
            Field("kwh_per_kg", "float", "kWh/kg", 53.0, 30.0, 100.0,
                  doc="specific consumption at the AC bus"),
            Field("min_load_pu", "float", "pu", 0.2, 0.0, 1.0, doc="minimum stable load"),
            Field("part_load_curve", "pairs", "pu", (),
                  doc="[[load_pu, multiplier], ...]: kwh_per_kg times the multiplier at each "
                      "load fraction, linear between points (empty = flat)"),
            Field("standby_pu", "float", "pu", 0.0, 0.0, 1.0,
                  doc="hot-standby draw of a committed unit, share of p_mw"),
            Field("start_delay_h", "float", "h", 0.0, 0.0, 48.0,
                  doc="cold-start time: draws standby power, makes no hydrogen"),
            Field("min_up_h", "float", "h", 0.0, 0.0, None, doc="minimum time committed"),
            Field("min_down_h", "float", "h", 0.0, 0.0, None, doc="minimum time off"),
            Field("standby_max_h", "float", "h", 0.0, 0.0, None,
                  doc="longest hot standby before the unit shuts down"),
            _cos_phi(0.98),
            _technology(ELECTROLYSER_TECHNOLOGIES), *_cost_fields(),
            Field("stack_life_h", "float", "h", None, 0.0, None, lo_open=True,
                  doc="operating hours after which the stack is replaced (at "
                      "replacement_cost_pu; the simulated year's hours, extrapolated)"),
        ), many=True, doc="electrolysers; run in the order listed"),
        Table("load", (
            _NAME, _BUS,
            Field("profile", "str", "", REQUIRED, doc="profile column (any scale)"),
            Field("annual_mwh", "float", "MWh", 0.0, 0.0, None,
                  doc="scale the profile to this annual energy (give this or peak_mw)"),
            Field("peak_mw", "float", "MW", 0.0, 0.0, None,
                  doc="scale the profile to this peak (give this or annual_mwh)"),
            Field("category", "str", default="industrial",
                  choices=("industrial", "charging", "services"),
                  doc="consumer class for reporting"),
            Field("priority", "int", "", 0, -1000, 1000,
                  doc="load-shedding priority (lower is shed first)"),
            Field("flexible_share", "float", "pu", 0.0, 0.0, 1.0,
                  doc="share of each day's energy that may move within the day"),
            Field("flexible_max_mw", "float", "MW", 0.0, 0.0, None,
                  doc="largest change of the load in any step when shifting"),
            Field("product", "str", default="",
                  doc="product made by this load, for its carbon footprint (e.g. 'battery "
                      "cells')"),
            Field("output_per_year", "float", "", 0.0, 0.0, None,
                  doc="product output per year, in output_unit (needed with product)"),
            Field("output_unit", "str", default="", doc="unit of the output, e.g. 'GWh', 't'"),
            _cos_phi(0.95),
        ), many=True, doc="fixed consumers: factories, charging depots, services"),
        Table("coal", (
            _NAME, _BUS,
            Field("p_min_mw", "float", "MW", REQUIRED, 0.0, None, lo_open=True,
                  doc="minimum stable load"),
            Field("p_max_mw", "float", "MW", REQUIRED, 0.0, None, lo_open=True),
            Field("ramp_up_mw_per_min", "float", "MW/min", REQUIRED, 0.0, None, lo_open=True),
            Field("ramp_down_mw_per_min", "float", "MW/min", REQUIRED, 0.0, None,
                  lo_open=True),
            Field("start_up_h", "float", "h", 0.0, 0.0, 72.0,
                  doc="time from the start decision to synchronising at minimum load"),
            Field("min_up_h", "float", "h", 0.0, 0.0, None),
            Field("min_down_h", "float", "h", 0.0, 0.0, None),
            Field("start_cost_cny", "float", "CNY", 0.0, 0.0, None),
            Field("coal_gce_per_kwh", "float", "gce/kWh", 300.0, 100.0, 1000.0,
                  doc="standard-coal consumption (pilot plan: large units <= 300)"),
            Field("co2_kg_per_kgce", "float", "kgCO2/kgce", 2.77, 0.0, 5.0,
                  doc="CO2 per kg of standard coal (IPCC 2006 default 94.6 t/TJ x "
                      "29.3076 GJ/tce)"),
            Field("fuel_cny_per_tce", "float", "CNY/tce", 0.0, 0.0, 10000.0,
                  doc="price of standard coal, priced in the optimal strategy's "
                      "objective (0: fuel not priced)"),
            _cos_phi(0.9),
            *_cost_fields(),
        ), many=True, doc="captive coal units: flexible peaking support (coal_peaking, optimal)"),
        Table("depot", (
            _NAME, _BUS,
            Field("chargers", "int", "", REQUIRED, 1, 100000, doc="number of chargers"),
            Field("charger_kw", "float", "kW", REQUIRED, 0.0, None, lo_open=True,
                  doc="power of each charger"),
            _policy(), _limit_kw(), _PRIORITY, _cos_phi(0.99),
        ), many=True, doc="truck charging depots: first come first served for the chargers; "
                          "a truck holds its charger until its last charging step"),
        Table("swap_station", (
            _NAME, _BUS,
            Field("packs", "int", "", REQUIRED, 1, 100000,
                  doc="charged packs in stock at the start (besides those in trucks)"),
            Field("pack_kwh", "float", "kWh", REQUIRED, 0.0, None, lo_open=True,
                  doc="usable energy of a pack (the trucks' battery_kwh)"),
            Field("racks", "int", "", REQUIRED, 1, 100000, doc="charging racks"),
            Field("rack_kw", "float", "kW", REQUIRED, 0.0, None, lo_open=True,
                  doc="charging power of each rack"),
            Field("bays", "int", "", 1, 1, 1000, doc="swap lanes working at once"),
            Field("swap_min", "float", "min", 5.0, 0.0, 240.0, lo_open=True,
                  doc="duration of one swap"),
            Field("charged_soc_pu", "float", "pu", 0.95, 0.0, 1.0, lo_open=True,
                  doc="state of charge a pack is charged to"),
            Field("window_h", "float", "h", 8.0, 0.25, 168.0,
                  doc="a pack must be charged within this time after it goes on a rack "
                      "(the deadline of 'valley' and 'surplus')"),
            _policy(), _limit_kw(), _PRIORITY, _cos_phi(0.99),
        ), many=True, doc="battery-swap stations: a truck takes the charged pack that was "
                          "ready first and leaves its own to be charged on a rack"),
        Table("h2_station", (
            _NAME, _BUS,
            Field("dispensers", "int", "", REQUIRED, 1, 1000, doc="dispensers filling at once"),
            Field("dispense_kg_per_h", "float", "kg/h", REQUIRED, 0.0, None, lo_open=True,
                  doc="filling rate of each dispenser"),
            # Compression from the tank's pressure to 350/700 bar takes roughly 1-4
            # kWh/kg depending on pressures and cooling (order of magnitude from the
            # general literature; not verified against one published source here):
            # set it for your station.
            Field("compressor_kwh_per_kg", "float", "kWh/kg", 2.0, 0.0, 20.0,
                  doc="compressor (and pre-cooling) electricity per kg dispensed, a load "
                      "on the station's bus"),
            _PRIORITY, _cos_phi(0.95),
        ), many=True, doc="hydrogen refuelling stations fed from the park tank: fuel-cell "
                          "trucks queue for the dispensers"),
        Table("statcom", (
            _NAME, _BUS,
            Field("s_mvar", "float", "Mvar", REQUIRED, 0.0, None, lo_open=True,
                  doc="rating: |Q| <= s_mvar; no active power"),
            Field("q_control", "str", default="q_u", choices=("fixed", "q_u"),
                  doc="'fixed' (q_mvar every step) or 'q_u' (Q(U) droop q_u_curve, "
                      "iterated with the power flow)"),
            Field("q_mvar", "float", "Mvar", 0.0, None, None,
                  doc="reactive power of q_control = 'fixed', within +-s_mvar "
                      "(+ injects, over-excited)"),
            Field("q_u_curve", "pairs", "pu", Q_U_CURVE,
                  doc="[[vm_pu, q_pu], ...] Q(U): reactive power per unit of s_mvar at its "
                      "bus's voltage, linear between points, flat beyond; default after "
                      "VDE-AR-N 4110:2018 (as the inverters')"),
            Field("in_service", "bool", "", True, doc="false: not in the network"),
        ), many=True, doc="STATCOM/SVG: reactive power only, for voltage control in the "
                          "power flow"),
    )
}

#: every table by its key: sections (``grid.tariff`` for a sub-table), asset kinds, events
TABLES: dict[str, Table] = {**SECTIONS, **ASSET_KINDS, **EVENT_TABLES}


def default(table: str, key: str) -> Any:
    """Return the default of *key* in *table*, e.g. ``default("battery", "eta_charge")``.

    The dataclasses of :mod:`parkgrid.scenario.model` take every default from here.

    Raises
    ------
    KeyError
        If the table has no such key.
    TypeError
        If the key is required (it has no default; the dataclass field must not
        have one either).
    """
    f = TABLES[table].field(key)
    if f.required:
        raise TypeError(f"{table}.{key} is required: it has no default")
    return f.default
