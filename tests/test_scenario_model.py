"""The scenario model has one source: the schema tables (defaults, required keys, checks)."""

from __future__ import annotations

import copy
import dataclasses
import math
import tomllib
from datetime import datetime, time
from typing import Any

import pytest

import parkgrid
from parkgrid.errors import ScenarioError
from parkgrid.presets import BATTERY_PRESETS
from parkgrid.scenario import load as scenario_load
from parkgrid.scenario import model
from parkgrid.scenario.schema import REQUIRED, SECTIONS, TABLES, Field, Table
from parkgrid.sweep import SweepError, sweep_from_dict

#: the dataclass of every table whose keys are the dataclass's fields
CLASS_OF_TABLE: dict[str, type] = {
    "pv": model.PV, "wind": model.Wind, "battery": model.Battery,
    "electrolyser": model.Electrolyser, "load": model.Load, "coal": model.Coal,
    "trucks": model.Trucks, "hydrogen": model.Hydrogen, "grid": model.Grid,
    "grid.tariff": model.Tariff, "optimal": model.Optimal,
    "optimal.weights": model.OptimalWeights, "targets": model.Targets,
    "event": model.Event, "reliability": model.Reliability,
    "tariff_season": model.TariffSeason, "carbon": model.Carbon,
    "green_contract": model.GreenContract,
    "powerflow.oltc": model.OLTC, "economics": model.Economics,
    "fleet": model.Fleet, "depot": model.Depot,
    "swap_station": model.SwapStation, "h2_station": model.H2Station,
    "statcom": model.Statcom,
}
#: dataclass fields that are not keys of their table (derived, or a sub-table)
NOT_KEYS = {("grid", "ef_kg_per_kwh"), ("grid", "tariff"), ("optimal", "weights")}
#: the Scenario attribute that holds each table that is not flattened into keys
SCENARIO_ATTR = {"grid": "grid", "hydrogen": "hydrogen", "trucks": "trucks",
                 "optimal": "optimal", "targets": "targets", "event": "events",
                 "reliability": "reliability", "tariff_season": "tariff_season",
                 "pv": "pv", "wind": "wind", "battery": "battery",
                 "electrolyser": "electrolyser", "load": "load", "coal": "coal",
                 "carbon": "carbon", "green_contract": "green_contract",
                 "powerflow.oltc": "oltc", "economics": "economics",
                 "fleet": "fleet", "depot": "depot", "swap_station": "swap_station",
                 "h2_station": "h2_station", "statcom": "statcom"}


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return REQUIRED


def mismatches(table: Table, cls: type, not_keys: frozenset[str] = frozenset()) -> list[str]:
    """Every way the dataclass *cls* disagrees with *table* (keys, defaults, required)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    out = [f"{table.key}.{k}: no dataclass field" for k in table.names if k not in fields]
    out += [f"{cls.__name__}.{k}: not a key of [{table.key}]" for k in fields
            if k not in table.names and k not in not_keys]
    for key in table.names:
        if key not in fields:
            continue
        want, got = table.field(key).default, _default(fields[key])
        if (want is REQUIRED) != (got is REQUIRED):
            where = "the table" if want is REQUIRED else cls.__name__
            out.append(f"{table.key}.{key}: required in {where} only")
        elif want is not REQUIRED and (type(want) is not type(got) or want != got):
            out.append(f"{table.key}.{key}: default {got!r} in {cls.__name__}, {want!r} in "
                       "the table")
    return out


def test_every_table_has_a_dataclass_or_scenario_attributes() -> None:
    flattened = {path.rpartition(".")[0] for path in model.SCENARIO_FIELDS.values()}
    assert set(TABLES) == set(CLASS_OF_TABLE) | flattened
    assert not set(CLASS_OF_TABLE) & flattened


@pytest.mark.parametrize("key", sorted(CLASS_OF_TABLE))
def test_table_and_dataclass_agree(key: str) -> None:
    """Same keys, same defaults (value and type), the same keys required."""
    not_keys = frozenset(name for table, name in NOT_KEYS if table == key)
    assert mismatches(TABLES[key], CLASS_OF_TABLE[key], not_keys) == []


def test_scenario_attributes_agree_with_their_sections() -> None:
    fields = {f.name: f for f in dataclasses.fields(model.Scenario)}
    for attr, path in model.SCENARIO_FIELDS.items():
        section, key = path.split(".")
        want = SECTIONS[section].field(key).default
        got = _default(fields[attr])
        assert (want is REQUIRED) == (got is REQUIRED), path
        if want is not REQUIRED:
            assert type(got) is type(want) and got == want, (attr, got, want)
    # every sub-table and array of tables has its attribute; a section of keys is
    # flattened completely (all its keys are attributes)
    for table, attr in SCENARIO_ATTR.items():
        assert attr in fields, (table, attr)
    for section in {p.split(".")[0] for p in model.SCENARIO_FIELDS.values()}:
        mapped = {p.split(".")[1] for p in model.SCENARIO_FIELDS.values()
                  if p.startswith(section + ".")}
        assert mapped == set(SECTIONS[section].names), section


def test_the_agreement_check_can_fail() -> None:
    """A default written into a dataclass that differs from the table is caught."""

    @dataclasses.dataclass(frozen=True)
    class Drifted(model.AssetCostKeys):
        name: str
        bus: str
        p_mw: float
        profile: str  # required here, 'pv_pu' in the table: the drift issue 12 found
        cos_phi: float = 0.98  # 1.0 in the table
        q_control: str = "fixed"
        q_u_curve: tuple[tuple[float, float], ...] = TABLES["pv"].field("q_u_curve").default
        cos_phi_p_curve: tuple[tuple[float, float], ...] = (
            TABLES["pv"].field("cos_phi_p_curve").default)
        s_mva: float = 0.0
        technology: str = ""

    found = mismatches(TABLES["pv"], Drifted)
    assert len(found) == 2
    assert "pv.profile: required in Drifted only" in found
    assert "pv.cos_phi: default 0.98 in Drifted, 1.0 in the table" in found

    @dataclasses.dataclass(frozen=True)
    class Extra:
        capacity_kg: float
        initial_kg: float = 0.0
        offtake_kg_per_h: float = 0.0
        offtake_profile: str = ""
        trailer_kg: float = 0.0
        trailer_times: tuple[str, ...] = ()
        trailers_per_day: float = 0.0
        technology: str = ""
        capex_cny_per_kg: float | None = None
        fixed_om_pct_per_yr: float | None = None
        lifetime_yr: float | None = None
        replacement_cost_pu: float | None = None
        colour: str = "green"

    assert mismatches(TABLES["hydrogen"], Extra) == ["Extra.colour: not a key of [hydrogen]"]


def test_default_refuses_required_and_unknown_keys() -> None:
    from parkgrid.scenario.schema import default

    assert default("battery", "eta_charge") == 0.95
    with pytest.raises(TypeError, match=r"battery\.e_mwh is required"):
        default("battery", "e_mwh")
    with pytest.raises(KeyError):
        default("battery", "colour")


def test_presets_set_battery_keys_within_their_ranges() -> None:
    table = TABLES["battery"]
    for tech, values in BATTERY_PRESETS.items():
        assert tech in table.field("technology").choices
        for key, value in values.items():
            assert key in table.names, (tech, key)
            assert table.field(key).check(value, f"{tech}.{key}") == [], (tech, key)


# --------------------------------------------------------------------- Field.check
def test_field_check_types_ranges_and_messages() -> None:
    f = Field("p_mw", "float", "MW", REQUIRED, 0.0, None)
    assert f.check(10, "pv[0].p_mw") == []
    assert f.parse(10, "pv[0].p_mw") == (10.0, [])
    [(where, msg)] = f.check(-1.0, "pv[0].p_mw")
    assert where == "pv[0].p_mw" and msg == "-1.0 is outside the allowed range [0, inf] [MW]"
    [(_, msg)] = f.check(-1.0, "parameter[0].min", subject="pv[*].p_mw")
    assert msg == "-1.0 is outside the allowed range [0, inf] [MW] of pv[*].p_mw"
    assert f.check(math.inf, "x")[0].message == "must be a finite number [MW], got inf"
    assert f.check("10", "x")[0].message == "must be a number [MW], got str '10'"
    limit = SECTIONS["grid"].field("import_limit_mw")
    assert limit.check(math.inf, "grid.import_limit_mw") == []
    assert limit.check(math.nan, "grid.import_limit_mw") != []
    hours = SECTIONS["grid.tariff"].field("peak_hours")
    assert hours.parse([1, 2], "h") == ((1, 2), [])
    assert [p.message for p in hours.check([1, 24, 1], "h")] == [
        "24 is outside the allowed range [0, 23]", "lists an hour twice"]
    choice = SECTIONS["dispatch"].field("strategy")
    assert choice.check("cheapest", "p", subject="dispatch.strategy")[0].message.startswith(
        "'cheapest' is not allowed for dispatch.strategy; one of 'self_consumption'")


def test_sweep_values_get_the_scenario_checks(repo_root) -> None:
    """Lists and step selections were not checked in sweep files before Field.check."""
    raw = {"sweep": {"base": "flagship_park.toml"}, "parameter": [
        {"path": "grid.tariff.valley_hours", "values": [[0, 1], [0, 30]]},
        {"path": "powerflow.steps", "values": ["all", 7]},
        {"path": "battery[0].grid_forming", "values": [True, "yes"]},
    ]}
    with pytest.raises(SweepError) as err:
        sweep_from_dict(raw, source="s.toml", base_dir=repo_root / "examples")
    text = {i.field: i.message for i in err.value.issues}
    assert text["parameter[0].values"] == (
        "30 is outside the allowed range [0, 23] of grid.tariff.valley_hours")
    assert text["parameter[1].values"].startswith("powerflow.steps must be 'none', 'all'")
    assert text["parameter[2].values"] == (
        "battery[0].grid_forming must be true or false, got str 'yes'")


# --------------------------------------------------------------------- typed sections
MINIMAL = {
    "scenario": {"year": 2025},
    "grid": {"import_limit_mw": 10.0, "export_limit_mw": 5.0},
}


def test_optimal_and_targets_are_typed_with_table_defaults() -> None:
    s = parkgrid.scenario_from_dict(copy.deepcopy(MINIMAL), resolve=False)
    assert s.optimal == model.Optimal()
    assert s.optimal.window_h == 48.0 and s.optimal.weights.energy == 1.0
    assert s.targets == model.Targets() and len(s.targets) == 0 and not s.targets
    raw = copy.deepcopy(MINIMAL)
    raw["optimal"] = {"window_h": 72.0, "carbon_price_cny_per_t": 80.0,
                      "weights": {"export": 0.5}}
    raw["targets"] = {"co2_t_max": 100.0, "clean_power_share_min": 0.5}
    s = parkgrid.scenario_from_dict(raw, resolve=False)
    assert s.optimal.window_h == 72.0 and s.optimal.commit_h == 24.0
    assert s.optimal.carbon_price_cny_per_t == 80.0
    assert s.optimal.weights == model.OptimalWeights(export=0.5)
    assert s.targets.co2_t_max == 100.0 and s.targets.self_sufficiency_min is None
    # schema order, not file order
    assert list(s.targets) == [("clean_power_share_min", 0.5), ("co2_t_max", 100.0)]


def test_optimal_reads_the_typed_section() -> None:
    from parkgrid.optimal.scenario import scenario_options

    raw = copy.deepcopy(MINIMAL)
    raw["optimal"] = {"window_h": 96.0, "commit_h": 12.0, "mip_rel_gap": 0.01}
    s = parkgrid.scenario_from_dict(raw, resolve=False)
    s = dataclasses.replace(s, data={})  # the raw dictionary is not what is read
    opt = scenario_options(s)
    assert (opt.window_h, opt.commit_h, opt.mip_rel_gap) == (96.0, 12.0, 0.01)


def test_times_are_parsed_once_at_load() -> None:
    raw = copy.deepcopy(MINIMAL)
    raw["battery"] = [{"name": "B", "bus": "b", "p_mw": 1.0, "e_mwh": 2.0,
                       "grid_forming": True}]
    raw["event"] = [{"kind": "grid_outage", "start": "2025-03-02 06:45", "duration_h": 2.0}]
    raw["tariff_season"] = [{"start": "07-01", "peak_cny_per_mwh": 1.0,
                             "flat_cny_per_mwh": 1.0, "valley_cny_per_mwh": 1.0}]
    raw["electrolyser"] = [{"name": "E", "bus": "b", "p_mw": 1.0}]
    raw["hydrogen"] = {"capacity_kg": 10.0, "trailer_kg": 5.0, "trailer_times": ["02:15"]}
    raw["trucks"] = {"bus": "b", "chargers": 1, "charger_kw": 100.0,
                     "energy_kwh_per_truck": 50.0, "arrival_times": ["23:45", "05:00"]}
    s = parkgrid.scenario_from_dict(raw, resolve=False)
    assert s.events[0].start == datetime(2025, 3, 2, 6, 45)
    assert s.tariff_season[0].start == datetime(2025, 7, 1)
    assert s.hydrogen is not None and s.hydrogen.trailer_times == (time(2, 15),)
    assert s.trucks is not None and s.trucks.arrival_times == (time(23, 45), time(5, 0))
    assert s.data["event"][0]["start"] == "2025-03-02 06:45"  # saved as written


# --------------------------------------------------------------------- loaded net and profiles
@pytest.fixture(scope="module")
def flagship(repo_root):
    return parkgrid.load_scenario(repo_root / "examples" / "flagship_park.toml")


def test_scenario_from_dict_uses_a_loaded_net_and_profiles(repo_root, flagship, monkeypatch):
    def refuse(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("loaded again")

    monkeypatch.setattr(scenario_load, "load_network", refuse)
    monkeypatch.setattr(scenario_load, "load_profile_set", refuse, raising=False)
    monkeypatch.setattr("parkgrid.profiles.load_profile_set", refuse)
    raw = tomllib.loads((repo_root / "examples" / "flagship_park.toml").read_text())
    s = parkgrid.scenario_from_dict(raw, source="f.toml", net=flagship.net,
                                    profiles=flagship.profiles)
    assert s.net is flagship.net and s.profiles is flagship.profiles
    assert s == dataclasses.replace(flagship, source="f.toml")
    # the references are still checked against them
    raw["pv"][0]["bus"] = "PV-Z 35kV"
    raw["wind"][0]["profile"] = "sunshine"
    with pytest.raises(ScenarioError) as err:
        parkgrid.scenario_from_dict(raw, source="f.toml", net=flagship.net,
                                    profiles=flagship.profiles)
    assert {i.field for i in err.value.issues} == {"pv[0].bus", "wind[0].profile"}
