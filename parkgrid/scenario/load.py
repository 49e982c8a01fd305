"""Read and validate scenario files (TOML) and dictionaries.

Validation runs in two passes and collects every problem before raising:

1. *shape*: sections, keys, types and ranges against the tables in
   :mod:`parkgrid.scenario.schema`, plus rules between fields;
2. *references*: the network and the profile set are loaded, and every bus name,
   profile column and the grid connection are checked against them.

Errors name the file, the field path (``battery[0].e_mwh``) and the allowed values.
"""

from __future__ import annotations

import json
import math
import tomllib
from datetime import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.errors import (
    LayoutError,
    NetworkError,
    ProfileError,
    ScenarioError,
    ValidationIssue,
)
from parkgrid.factors import emission_factor
from parkgrid.layout import layout_to_net
from parkgrid.netcache import cached_net
from parkgrid.network import bus_index_by_name, load_network, unsupplied_buses
from parkgrid.presets import BATTERY_PRESETS, COST_PRESETS, merged_costs
from parkgrid.profiles import load_profile_set, year_index
from parkgrid.scenario.engine_rules import (
    check_engine_rules,
    check_event_targets,
    parse_clock,
    parse_month_day,
    parse_start,
)
from parkgrid.scenario.fleet_rules import check_fleet_rules
from parkgrid.scenario.model import (
    OLTC,
    PV,
    SCENARIO_FIELDS,
    Battery,
    Carbon,
    Coal,
    Depot,
    Economics,
    Electrolyser,
    Event,
    Fleet,
    GreenContract,
    Grid,
    H2Station,
    Hydrogen,
    Load,
    Optimal,
    OptimalWeights,
    Reliability,
    Scenario,
    Statcom,
    SwapStation,
    Targets,
    Tariff,
    TariffSeason,
    Trucks,
    Wind,
)
from parkgrid.scenario.schema import ASSET_KINDS, EVENT_TABLES, SECTIONS, Table
from parkgrid.timeseries import select_pf_steps

__all__ = ["load_scenario", "scenario_from_dict", "validate_scenario_dict"]

#: optional sections whose absence means "off" (``None``), not "all defaults"
_OFF_WHEN_ABSENT = {"economics"}
_ASSET_TYPES = {"pv": PV, "wind": Wind, "battery": Battery, "electrolyser": Electrolyser,
                "load": Load, "coal": Coal, "depot": Depot, "swap_station": SwapStation,
                "h2_station": H2Station, "statcom": Statcom}


def load_scenario(path: str | Path, *, cached_network: bool = False) -> Scenario:
    """Read, validate and resolve the scenario file at *path*.

    ``cached_network=True`` takes the network from the network cache
    (:mod:`parkgrid.netcache`) when its file (or inline layout) has not changed:
    ``scenario.net`` is then a :class:`~parkgrid.netcache.LiteNet`, whose tables
    a run reads without pandapower; anything else it is asked for loads the
    pandapower net.

    Raises
    ------
    ScenarioError
        Listing every problem found, each naming the file and the field.
    """
    path = Path(path)
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        issue = ValidationIssue(src, "<file>", f"cannot read: {exc.strerror}")
        raise ScenarioError([issue]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([ValidationIssue(src, "<file>", f"invalid TOML: {exc}")]) from None
    return scenario_from_dict(raw, source=src, base_dir=path.resolve().parent,
                              cached_network=cached_network)


def scenario_from_dict(
    raw: dict[str, Any], *, source: str = "<dict>", base_dir: str | Path = ".",
    resolve: bool = True, net: Any = None, profiles: pd.DataFrame | None = None,
    cached_network: bool = False,
) -> Scenario:
    """Validate the scenario dictionary *raw* (TOML structure) and resolve it.

    ``resolve=False`` skips loading the network and the profiles (``net`` and
    ``profiles`` stay ``None``), e.g. for the scenario stored in a results folder.
    An already loaded *net* (pandapower) or *profiles* table (the year's per-unit
    profiles) is used instead of loading ``network.source`` or ``profiles.source``
    again, e.g. by the workers of a sweep; it is checked against the scenario like
    a loaded one, and used as it is (never mutated, not copied).
    ``cached_network``: see :func:`load_scenario`.
    """
    data, issues = validate_scenario_dict(raw, source=source)
    if issues:
        raise ScenarioError(issues)
    base = Path(base_dir)
    if not resolve:
        return _build(data, source, base, None, None)
    net, profiles, ref_issues = _resolve_references(data, source, base, net, profiles,
                                                    cached_network)
    if ref_issues:
        raise ScenarioError(ref_issues)
    return _build(data, source, base, net, profiles)


# --------------------------------------------------------------------- pass 1
def validate_scenario_dict(
    raw: dict[str, Any], *, source: str = "<dict>"
) -> tuple[dict[str, Any], list[ValidationIssue]]:
    """Check shape, types and ranges; return the normalised data and all issues.

    The normalised data has every section present with defaults filled in; it
    is what results store as "the scenario as run".
    """
    issues: list[ValidationIssue] = []

    def bad(field: str, msg: str) -> None:
        issues.append(ValidationIssue(source, field, msg))

    known = {k.split(".")[0] for k in SECTIONS} | set(ASSET_KINDS) | set(EVENT_TABLES)
    for key in raw:
        if key not in known:
            bad(key, f"unknown section; allowed: {', '.join(sorted(known))}")

    data: dict[str, Any] = {}
    raw, layout = _split_layout(raw, bad)
    for key, table in SECTIONS.items():
        if "." in key:
            continue
        value = raw.get(key)
        if value is None:
            if not table.optional:
                bad(key, f"missing section [{key}] ({table.doc})")
                continue
            if any(f.required for f in table.fields) or key in _OFF_WHEN_ABSENT:
                data[key] = None  # optional section that needs keys or is a switch
                continue
            value = {}
        sub_tables = {k.split(".", 1)[1]: t for k, t in SECTIONS.items()
                      if k.startswith(key + ".")}
        data[key] = _check_table(table, value, key, bad, sub_tables)
        for sub, sub_table in sub_tables.items():
            given = isinstance(value, dict) and sub in value
            data[key][sub] = (_check_table(sub_table, value[sub], f"{key}.{sub}", bad)
                              if given else None)
    for key, table in {**ASSET_KINDS, **EVENT_TABLES}.items():
        items = raw.get(key, [])
        if not isinstance(items, list):
            bad(key, f"must be an array of tables, written [[{key}]]")
            items = []
        data[key] = [_check_table(table, item, f"{key}[{i}]", bad)
                     for i, item in enumerate(items)]
    if layout is not None:
        data["network"]["layout"] = layout
    _apply_presets(raw, data)
    _check_rules(data, bad)
    check_engine_rules(data, bad)
    check_fleet_rules(data, bad)
    return data, issues


def _split_layout(raw: dict[str, Any], bad: Any) -> tuple[dict[str, Any], Any]:
    """Take an inline ``[network.layout]`` out of *raw*; it is checked when built (pass 2).

    A scenario gives its network either as ``network.source`` or inline: not both.
    """
    network = raw.get("network")
    if not isinstance(network, dict) or "layout" not in network:
        return raw, None
    layout = network["layout"]
    if not isinstance(layout, dict):
        bad("network.layout", "must be a table of layout tables: [[network.layout.bus]], "
                              "[[network.layout.line]] ... (README, 'Drawing a park')")
        layout = None
    elif network.get("source"):
        bad("network.source", "give the network either as source or inline as "
                              "[network.layout], not both")
    rest = {k: v for k, v in network.items() if k != "layout"}
    if layout is not None:
        rest["source"] = ""  # the normalised data: an inline layout has no source
    return {**raw, "network": rest}, layout


def _check_table(
    table: Table, value: Any, path: str, bad: Any,
    sub_tables: dict[str, Table] | None = None,
) -> dict[str, Any]:
    if not isinstance(value, dict):
        bad(path, f"must be a table of keys ({', '.join(table.names)})")
        return {f.name: f.default for f in table.fields if not f.required}
    allowed = set(table.names) | set(sub_tables or {})
    for k in value:
        if k not in allowed:
            bad(f"{path}.{k}", f"unknown key; allowed: {', '.join(sorted(allowed))}")
    out: dict[str, Any] = {}
    for f in table.fields:
        fpath = f"{path}.{f.name}"
        if f.name not in value:
            if f.required:
                bad(fpath, f"missing required key ({f.doc or f.kind}"
                    + (f", {f.unit}" if f.unit else "") + ")")
                out[f.name] = None
            else:
                out[f.name] = f.default
            continue
        out[f.name], problems = f.parse(value[f.name], fpath)
        for problem in problems:
            bad(*problem)
    return out


def _apply_presets(raw: dict[str, Any], data: dict[str, Any]) -> None:
    """Storage technology presets fill every battery key the file does not set."""
    items = raw.get("battery")
    if not isinstance(items, list):
        return
    for given, b in zip(items, data["battery"], strict=False):
        preset = BATTERY_PRESETS.get(b.get("technology") or "")
        if preset and isinstance(given, dict):
            for key, value in preset.items():
                if key not in given:
                    b[key] = value


def _check_rules(data: dict[str, Any], bad: Any) -> None:
    """Rules between fields (contradictory limits and the like)."""
    seen: dict[str, str] = {}
    for kind in ASSET_KINDS:
        for i, a in enumerate(data[kind]):
            name = a.get("name")
            if name is None:
                continue
            if name in seen:
                bad(f"{kind}[{i}].name", f"duplicate asset name {name!r} (also {seen[name]})")
            seen[name] = f"{kind}[{i}]"
    for i, b in enumerate(data["battery"]):
        lo, hi, ini = b.get("soc_min_pu"), b.get("soc_max_pu"), b.get("soc_initial_pu")
        if None in (lo, hi, ini):
            continue
        if lo >= hi:
            bad(f"battery[{i}].soc_min_pu",
                f"must be below soc_max_pu ({lo:g} >= {hi:g})")
        elif not lo <= ini <= hi:
            bad(f"battery[{i}].soc_initial_pu",
                f"{ini:g} must lie within [soc_min_pu, soc_max_pu] = [{lo:g}, {hi:g}]")
    for i, ld in enumerate(data["load"]):
        annual, peak = ld.get("annual_mwh"), ld.get("peak_mw")
        if annual is None or peak is None:
            continue
        if (annual > 0) == (peak > 0):
            bad(f"load[{i}].annual_mwh",
                "give exactly one of annual_mwh or peak_mw (a positive number)")
    _check_q_curves(data, bad)
    tariff = (data.get("grid") or {}).get("tariff")
    if tariff is not None:
        overlap = set(tariff.get("peak_hours") or ()) & set(tariff.get("valley_hours") or ())
        if overlap:
            bad("grid.tariff.valley_hours",
                f"hours {sorted(overlap)} are also peak_hours; an hour has one price")
    h2 = data.get("hydrogen")
    if h2 is not None:
        cap, ini = h2.get("capacity_kg"), h2.get("initial_kg")
        if cap is not None and ini is not None and ini > cap:
            bad("hydrogen.initial_kg", f"{ini:g} kg exceeds capacity_kg = {cap:g} kg")
        if not data["electrolyser"] and (h2.get("offtake_kg_per_h") or 0) > 0:
            bad("hydrogen.offtake_kg_per_h", "hydrogen offtake needs at least one [[electrolyser]]")
    _check_pf_steps(data, bad)
    _check_costs(data, bad)
    grid = data.get("grid") or {}
    ef = grid.get("emission_factor")
    if isinstance(ef, str):
        try:
            emission_factor(ef, grid.get("emission_factor_year") or 0)
        except KeyError as exc:
            bad("grid.emission_factor", str(exc.args[0]))
    _check_carbon(data, bad)


def _check_carbon(data: dict[str, Any], bad: Any) -> None:
    """Rules of ``[carbon]``, ``[[green_contract]]`` and load products."""
    year = (data.get("grid") or {}).get("emission_factor_year") or 0
    carbon = data.get("carbon") or {}
    for key, table in (("residual_factor", "national_excl_market"),
                       ("displaced_factor", "national_fossil")):
        if carbon.get(key) in ("national_excl_market", "fossil"):
            try:
                emission_factor(table, year)
            except KeyError as exc:
                bad(f"carbon.{key}", f"{exc.args[0]} (grid.emission_factor_year)")
    for i, ld in enumerate(data["load"]):
        if ld.get("product") and not (ld.get("output_per_year") or 0) > 0:
            bad(f"load[{i}].output_per_year", "a load with a product needs its output per "
                                              "year, a positive number")
        if ld.get("product") and not ld.get("output_unit"):
            bad(f"load[{i}].output_unit", "a load with a product needs the unit of its "
                                          "output (e.g. 'GWh', 't')")
    names: dict[str, int] = {}
    cert_years: dict[int, str] = {}
    for i, c in enumerate(data["green_contract"]):
        path = f"green_contract[{i}]"
        kind = c.get("kind")
        if c.get("name") in names:
            bad(f"{path}.name", f"duplicate contract name {c['name']!r} (also "
                                f"green_contract[{names[c['name']]}])")
        names[c.get("name")] = i
        given = {k for k in ("bus", "p_mw", "volume_mwh", "monthly_mwh", "mwh_by_year")
                 if c.get(k)}
        allowed = {"direct_line": {"bus", "p_mw"}, "ppa": {"volume_mwh", "monthly_mwh"},
                   "certificates": {"mwh_by_year"}}.get(kind, given)
        for k in sorted(given - allowed):
            bad(f"{path}.{k}", f"does not apply to a contract of kind {kind!r} (it takes "
                               f"{', '.join(sorted(allowed))})")
        if kind == "direct_line":
            for k, what in (("bus", "the bus the line arrives at"),
                            ("profile", "a profile column, per unit of p_mw"),
                            ("p_mw", "the plant capacity, > 0 MW")):
                if not c.get(k):
                    bad(f"{path}.{k}", f"a direct_line needs {what}")
        elif kind == "ppa":
            monthly = c.get("monthly_mwh") or ()
            if bool(c.get("volume_mwh")) == bool(monthly):
                bad(f"{path}.volume_mwh", "a ppa needs exactly one of volume_mwh (annual, "
                                          "> 0) or monthly_mwh (12 values)")
            elif monthly and len(monthly) != 12:
                bad(f"{path}.monthly_mwh", f"needs 12 monthly volumes, got {len(monthly)}")
        elif kind == "certificates":
            pairs = c.get("mwh_by_year") or ()
            if not pairs:
                bad(f"{path}.mwh_by_year", "certificates need [[year, MWh], ...]")
            for y, mwh in pairs:
                if not float(y).is_integer() or not 2000 <= y <= 2100 or mwh < 0:
                    bad(f"{path}.mwh_by_year", f"[{y:g}, {mwh:g}]: the year must be a whole "
                                               "number in [2000, 2100] and MWh >= 0")
                    continue
                if int(y) in cert_years:
                    bad(f"{path}.mwh_by_year", f"certificate year {int(y)} overlaps "
                                               f"{cert_years[int(y)]}: give each year's "
                                               "certificates once")
                cert_years[int(y)] = f"{path}.mwh_by_year"


#: what each costed kind must have (after its technology preset) when [economics] is given
_NEEDED_COSTS: dict[str, tuple[str, ...]] = {
    "pv": ("capex_cny_per_kw", "lifetime_yr"),
    "wind": ("capex_cny_per_kw", "lifetime_yr"),
    "battery": ("capex_cny_per_kwh", "lifetime_yr"),
    "electrolyser": ("capex_cny_per_kw", "lifetime_yr"),
    "hydrogen": ("capex_cny_per_kg", "lifetime_yr"),
}


def _check_costs(data: dict[str, Any], bad: Any) -> None:
    """Cost keys: one fixed O&M form, costs present and lives within the project.

    Costs are needed only with an ``[economics]`` section; coal units and the grid
    connection may go without (existing plant: no cost).
    """
    items: list[tuple[str, str, dict[str, Any]]] = [
        (kind, f"{kind}[{i}]", a) for kind in ASSET_KINDS for i, a in enumerate(data[kind])]
    items += [(k, k, data[k]) for k in ("grid", "hydrogen") if data.get(k)]
    for _, path, a in items:
        if a.get("fixed_om_cny_per_kw_yr") is not None and a.get("fixed_om_pct_per_yr") is not None:
            bad(f"{path}.fixed_om_pct_per_yr",
                "give fixed O&M one way: fixed_om_cny_per_kw_yr or fixed_om_pct_per_yr")
    econ = data.get("economics")
    if econ is None or econ.get("project_life_yr") is None:
        return
    life = econ["project_life_yr"]
    for kind, path, a in items:
        costs = merged_costs(a)
        tech = a.get("technology") or ""
        for key in _NEEDED_COSTS.get(kind, ()):
            if key in costs or (key == "capex_cny_per_kwh" and "capex_cny_per_kw" in costs):
                continue
            table = SECTIONS.get(kind) or ASSET_KINDS[kind]
            presets = ", ".join(repr(t) for t in table.field("technology").choices or ()
                                if t in COST_PRESETS)
            hint = (f"preset {tech!r} has no {key}" if tech else
                    "or a technology preset" + (f" ({presets})" if presets else ""))
            paid = "; 0 for an asset already paid for" if key.startswith("capex") else ""
            bad(f"{path}.{key}", f"missing cost (needed with [economics]): give {key} "
                                 f"({hint}){paid}")
        if kind == "grid" and costs.get("capex_cny_per_kw") and not any(
                isinstance(a.get(k), float) and math.isfinite(a[k])
                for k in ("import_limit_mw", "export_limit_mw")):
            bad(f"{path}.capex_cny_per_kw", "a grid-connection cost is charged on the larger "
                                            "finite grid limit; both limits are infinite")
        first = costs.get("lifetime_yr")
        if first is not None and first > life:
            bad(f"{path}.lifetime_yr",
                f"the first replacement, after {first:g} yr, falls beyond "
                f"economics.project_life_yr = {life} yr: lengthen the project or give the "
                f"asset's economic life within it (lifetime_yr <= {life})")


def _check_pf_steps(data: dict[str, Any], bad: Any) -> None:
    """Reject a ``powerflow.steps`` selection that simulate() would fail on later."""
    steps = (data.get("powerflow") or {}).get("steps")
    year = (data.get("scenario") or {}).get("year")
    if steps is None or not isinstance(year, int):
        return  # the type or the year is reported already
    try:
        select_pf_steps(steps, year_index(year))
    except ValueError as exc:
        bad("powerflow.steps", str(exc).removeprefix("powerflow.steps: "))


# --------------------------------------------------------------------- pass 2
def _resolve_references(
    data: dict[str, Any], source: str, base: Path, net: Any, profiles: pd.DataFrame | None,
    cached_network: bool = False,
) -> tuple[Any, pd.DataFrame | None, list[ValidationIssue]]:
    """Load the network and profiles (unless given) and check the scenario against them."""
    issues: list[ValidationIssue] = []

    def bad(field: str, msg: str) -> None:
        issues.append(ValidationIssue(source, field, msg))

    if net is None:
        layout = data["network"].get("layout")
        try:
            if layout is None:
                src = data["network"]["source"]
                net = (load_network(src, base, cached=True) if cached_network
                       else load_network(src, base))
            elif cached_network:  # keyed by the layout's values
                net = cached_net("layout-inline",
                                 json.dumps(layout, sort_keys=True, default=str).encode(),
                                 lambda: layout_to_net(layout, source=source,
                                                       prefix="network.layout."),
                                 unsupplied_buses)
            else:
                net = layout_to_net(layout, source=source, prefix="network.layout.")
        except LayoutError as exc:  # each issue names the layout's file, row and key
            issues += exc.issues
        except NetworkError as exc:
            bad("network.source", str(exc))
    if profiles is None:
        try:
            profiles = load_profile_set(_maybe_path(data["profiles"]["source"], base),
                                        year=data["scenario"]["year"],
                                        utc_offset_h=data["scenario"]["utc_offset_h"])
        except ProfileError as exc:
            bad("profiles.source", str(exc))

    econ = data.get("economics")
    ref = (econ or {}).get("reference")
    if ref and ref != "grid_only":
        p = Path(ref) if Path(ref).is_absolute() else base / ref
        if not p.is_file():
            bad("economics.reference", f"no scenario file {str(p)!r}: give 'grid_only' or "
                                       "the path of a scenario TOML file (relative to this "
                                       "scenario's folder)")
    if net is not None:
        _check_network(net, data, bad)
    if profiles is not None:
        _check_profiles(profiles, data, bad)
    return net, profiles, issues


def _maybe_path(source: str, base: Path) -> str:
    p = base / source
    return str(p) if ("/" in source or "." in source) and p.exists() else source


def _check_network(net: Any, data: dict[str, Any], bad: Any) -> None:
    by_name = bus_index_by_name(net)
    names = net.bus["name"].astype(str)
    islanded = unsupplied_buses(net)
    in_service = net.ext_grid[net.ext_grid["in_service"].astype(bool)]
    if len(in_service) != 1:
        bad("network.source", f"needs exactly one in-service ext_grid (the grid connection), "
                              f"found {len(in_service)}")
    placed = [(f"{k}[{i}].bus", a.get("bus")) for k in ASSET_KINDS
              for i, a in enumerate(data[k])]
    if data.get("trucks"):
        placed.append(("trucks.bus", data["trucks"].get("bus")))
    placed += [(f"green_contract[{i}].bus", c.get("bus"))
               for i, c in enumerate(data["green_contract"])
               if c.get("kind") == "direct_line" and c.get("bus")]
    for path, bus in placed:
        if bus is None:
            continue
        if bus not in by_name:
            if (names == bus).sum() > 1:
                bad(path, f"bus name {bus!r} is not unique in the network")
            else:
                # an empty or blank name has no first word to match on
                words = bus.lower().split()
                close = [n for n in names if words and words[0] in n.lower()][:5]
                hint = f"; similar: {', '.join(close)}" if close else ""
                bad(path, f"unknown bus {bus!r} (the network has {len(names)} buses{hint})")
        elif by_name[bus] in islanded:
            bad(path, f"bus {bus!r}{_layout_row(data, by_name[bus])} is islanded: not "
                      "connected to the grid connection (check switches and in_service flags)")
    check_event_targets(net, data, bad)
    _check_oltc(net, data, by_name, bad)
    grid_bus = data["grid"].get("bus")
    if grid_bus and len(in_service) == 1:
        slack = int(in_service["bus"].iloc[0])
        if by_name.get(grid_bus) != slack:
            bad("grid.bus", f"{grid_bus!r} is not the ext_grid bus "
                            f"{net.bus.at[slack, 'name']!r}")


def _check_oltc(net: Any, data: dict[str, Any], by_name: dict[str, int], bad: Any) -> None:
    """``[powerflow.oltc]`` names an in-service transformer with a tap changer (and a bus)."""
    oltc = data["powerflow"].get("oltc")
    if not oltc or oltc.get("trafo") is None:
        return
    name = oltc["trafo"]
    hits = net.trafo.index[net.trafo["name"].astype(str) == name]
    if len(hits) != 1:
        known = ", ".join(repr(str(n)) for n in net.trafo["name"]) or "none"
        bad("powerflow.oltc.trafo", f"{'no' if not len(hits) else 'more than one'} transformer "
                                    f"named {name!r} (transformers: {known})")
        return
    row = net.trafo.loc[hits[0]]
    cols = ("tap_min", "tap_max", "tap_pos", "tap_step_percent")
    if not bool(row["in_service"]) or any(c not in row or pd.isna(row[c]) for c in cols):
        bad("powerflow.oltc.trafo", f"transformer {name!r} is out of service or has no tap "
                                    f"changer (needs {', '.join(cols)})")
    elif float(row["tap_step_percent"]) > 0 and oltc.get("deadband_pu"):
        if 2 * oltc["deadband_pu"] <= float(row["tap_step_percent"]) / 100:
            bad("powerflow.oltc.deadband_pu",
                f"{oltc['deadband_pu']:g}: the band (twice the dead band) must be wider than "
                f"one tap step ({float(row['tap_step_percent']) / 100:g} pu), or the tap "
                "hunts between two positions")
    bus = oltc.get("bus")
    if bus and bus not in by_name:
        bad("powerflow.oltc.bus", f"unknown bus {bus!r}")


def _layout_row(data: dict[str, Any], index: int) -> str:
    """Name the layout row of bus *index* when the network is a layout (index = row)."""
    network = data["network"]
    if network.get("layout") is not None:
        return f" (network.layout.bus[{index}])"
    if str(network.get("source", "")).lower().endswith(".toml"):
        return f" ({network['source']}: bus[{index}])"
    return ""


def _check_profiles(profiles: Any, data: dict[str, Any], bad: Any) -> None:
    cols = set(profiles.columns)
    pu_kinds = {"pv", "wind"}
    # name the profile set (e.g. the user's CSV) in every message: the bad values
    # are in that file, not in the scenario
    src = data["profiles"]["source"]
    for kind in ("pv", "wind", "load"):
        for i, a in enumerate(data[kind]):
            col = a.get("profile")
            if col is None:
                continue
            path = f"{kind}[{i}].profile"
            if col not in cols:
                bad(path, f"profile column {col!r} not in the profile set {src!r}; "
                          "available: " + ", ".join(sorted(cols)))
                continue
            values = profiles[col].to_numpy(dtype=float)
            if not np.all(np.isfinite(values)):
                bad(path, f"profile column {col!r} of {src!r} has NaN or infinite values")
            elif values.min() < 0:
                bad(path, f"profile column {col!r} of {src!r} has negative values "
                          f"(min {values.min():g})")
            elif kind in pu_kinds and values.max() > 1.0 + 1e-9:
                bad(path, f"profile column {col!r} of {src!r} must be per unit of p_mw, "
                          f"in [0, 1]; max is {values.max():g}")
            elif kind == "load" and values.max() <= 0:
                bad(path, f"profile column {col!r} of {src!r} is all zero and cannot be "
                          "scaled")
    named = [(f"green_contract[{i}].profile", c.get("profile"), c.get("kind") == "direct_line")
             for i, c in enumerate(data["green_contract"]) if c.get("profile")]
    if data["grid"].get("emission_factor_column"):
        named.append(("grid.emission_factor_column", data["grid"]["emission_factor_column"],
                      False))
    for path, col, per_unit in named:
        if col not in cols:
            bad(path, f"profile column {col!r} not in the profile set {src!r}; available: "
                      + ", ".join(sorted(cols)))
            continue
        values = profiles[col].to_numpy(dtype=float)
        if not np.all(np.isfinite(values)) or values.min() < 0:
            bad(path, f"profile column {col!r} of {src!r} must be finite and >= 0")
        elif per_unit and values.max() > 1.0 + 1e-9:
            bad(path, f"profile column {col!r} of {src!r} must be per unit of p_mw, in "
                      f"[0, 1]; max is {values.max():g}")
        elif path == "grid.emission_factor_column" and values.max() > 2.0:
            bad(path, f"profile column {col!r} of {src!r} holds kgCO2/kWh, in [0, 2]; max "
                      f"is {values.max():g}")
    h2 = data.get("hydrogen")
    if h2 and h2.get("offtake_profile"):
        col = h2["offtake_profile"]
        if col not in cols:
            bad("hydrogen.offtake_profile", f"profile column {col!r} not in the profile set "
                                            f"{src!r}; available: " + ", ".join(sorted(cols)))
        elif (low := float(profiles[col].to_numpy(dtype=float).min())) < 0:
            bad("hydrogen.offtake_profile", f"profile column {col!r} of {src!r} has negative "
                                            f"values (min {low:g}); offtake is per unit of "
                                            "offtake_kg_per_h, >= 0")


def _check_q_curves(data: dict[str, Any], bad: Any) -> None:
    """Reactive-power curves of the inverters: ascending abscissae, sensible values."""
    for i, a in enumerate(data["statcom"]):
        s, q = a.get("s_mvar"), a.get("q_mvar")
        if a.get("q_control") == "fixed" and s is not None and q is not None and abs(q) > s:
            bad(f"statcom[{i}].q_mvar", f"{q:g} Mvar must lie within +-s_mvar = "
                                        f"[{-s:g}, {s:g}] Mvar")
    for kind in ("pv", "wind", "battery", "statcom"):
        for i, a in enumerate(data[kind]):
            mode = a.get("q_control")
            if mode == "q_u":
                pts = a.get("q_u_curve") or ()
                xs = [p[0] for p in pts]
                if len(pts) < 2 or any(b <= x for x, b in pairwise(xs)):
                    bad(f"{kind}[{i}].q_u_curve", "needs at least 2 points with strictly "
                                                  "ascending vm_pu")
                elif any(not 0.5 <= x <= 1.5 for x in xs) or any(abs(p[1]) > 1 for p in pts):
                    bad(f"{kind}[{i}].q_u_curve", "vm_pu must lie in [0.5, 1.5] and q_pu in "
                                                  "[-1, 1]")
            elif mode == "cos_phi_p":
                pts = a.get("cos_phi_p_curve") or ()
                xs = [p[0] for p in pts]
                if len(pts) < 2 or any(b <= x for x, b in pairwise(xs)):
                    bad(f"{kind}[{i}].cos_phi_p_curve", "needs at least 2 points with strictly "
                                                        "ascending p_pu")
                elif any(not 0.5 <= abs(p[1]) <= 1 for p in pts) or any(x < 0 for x in xs):
                    bad(f"{kind}[{i}].cos_phi_p_curve", "p_pu must be >= 0 and |cos_phi| in "
                                                        "[0.5, 1]")


# --------------------------------------------------------------------- build
def _build(data: dict[str, Any], source: str, base: Path, net: Any, profiles: Any) -> Scenario:
    """Build the typed scenario of validated *data*; times given as text are parsed here."""
    year = data["scenario"]["year"]
    g = dict(data["grid"])
    tariff = g.pop("tariff", None)
    ef = g["emission_factor"]
    ef_value = ef if isinstance(ef, float) else emission_factor(ef, g["emission_factor_year"])
    grid = Grid(**g, ef_kg_per_kwh=ef_value, tariff=Tariff(**tariff) if tariff else None)
    assets: dict[str, Any] = {kind: tuple(_ASSET_TYPES[kind](**a) for a in data[kind])
                              for kind in ASSET_KINDS}
    h2 = data["hydrogen"]
    trucks = data.get("trucks")
    opt = dict(data["optimal"])
    weights = opt.pop("weights", None)
    return Scenario(
        **{attr: _key(data, path) for attr, path in SCENARIO_FIELDS.items()}, grid=grid,
        hydrogen=Hydrogen(**{**h2, "trailer_times": _clocks(h2["trailer_times"])})
        if h2 else None,
        trucks=Trucks(**{**trucks, "arrival_times": _clocks(trucks["arrival_times"])})
        if trucks else None,
        events=tuple(Event(**{**e, "start": parse_start(e["start"], year)})
                     for e in data["event"]),
        reliability=tuple(Reliability(**r) for r in data["reliability"]),
        fleet=tuple(Fleet(**f) for f in data["fleet"]),
        tariff_season=tuple(TariffSeason(**{**t, "start": parse_month_day(t["start"], year)})
                            for t in data["tariff_season"]),
        optimal=Optimal(**opt, weights=OptimalWeights(**weights) if weights else OptimalWeights()),
        targets=Targets(**(data.get("targets") or {})),
        carbon=Carbon(**(data.get("carbon") or {})),
        green_contract=tuple(GreenContract(**c) for c in data["green_contract"]),
        oltc=OLTC(**data["powerflow"]["oltc"]) if data["powerflow"].get("oltc") else None,
        economics=Economics(**data["economics"]) if data.get("economics") else None,
        source=source, data=data, net=net, profiles=profiles, base_dir=base, **assets,
    )


def _key(data: dict[str, Any], path: str) -> Any:
    section, key = path.split(".")
    return data[section][key]


def _clocks(times: tuple[str, ...]) -> tuple[time, ...]:
    return tuple(parse_clock(t) for t in times)
