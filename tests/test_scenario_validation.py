"""Bad scenario input: every class of problem is reported, naming file, field and range.

Each test writes a variant of ``examples/flagship_park.toml`` (or a small park) to
``tmp_path`` and checks the :class:`parkgrid.ScenarioError` it raises: the issue's
``source`` is the file, its ``field`` the dotted path (``battery[0].e_mwh``) and its
``message`` says what is allowed; ``str(error)`` lists them with the file name.
"""

from __future__ import annotations

import copy
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

import parkgrid
import parkgrid.scenario.load as scenario_load
from parkgrid import ScenarioError, ValidationIssue
from parkgrid.profiles import year_index
from parkgrid.scenario.schema import ASSET_KINDS, REQUIRED, SECTIONS

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "examples" / "flagship_park.toml"


# ----------------------------------------------------------------------------- helpers
def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def dump_toml(data: dict[str, Any], prefix: str = "") -> str:
    """Write the small subset of TOML scenarios use (tables, arrays of tables, scalars)."""
    lines: list[str] = []
    tables: list[tuple[str, Any]] = []
    for key, value in data.items():
        is_aot = isinstance(value, list) and value and all(isinstance(x, dict) for x in value)
        if isinstance(value, dict) or is_aot:
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in tables:
        name = prefix + key
        for item in [value] if isinstance(value, dict) else value:
            lines.append(f"[{name}]" if isinstance(value, dict) else f"[[{name}]]")
            lines.append(dump_toml(item, name + "."))
    return "\n".join(lines) + "\n"


def write(folder: Path, raw: dict[str, Any], name: str = "scenario.toml") -> Path:
    path = folder / name
    path.write_text(dump_toml(raw), encoding="utf-8")
    return path


def failure(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parkgrid.load_scenario(path)
    err = info.value
    assert err.issues, "a ScenarioError must carry at least one issue"
    assert path.name in str(err)
    for issue in err.issues:
        assert isinstance(issue, ValidationIssue)
        assert issue.source == str(path)
    return err


def issue(err: ScenarioError, field: str, *fragments: str) -> ValidationIssue:
    """Return the one issue about *field*; check its message contains *fragments*."""
    found = [i for i in err.issues if i.field == field]
    assert len(found) == 1, f"expected one issue on {field!r}, got {err.issues}"
    for fragment in fragments:
        assert fragment in found[0].message, (fragment, found[0].message)
    assert field in str(err)
    return found[0]


def only_issue(err: ScenarioError, field: str, *fragments: str) -> ValidationIssue:
    assert [i.field for i in err.issues] == [field], err.issues
    return issue(err, field, *fragments)


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def flagship_raw() -> dict[str, Any]:
    return tomllib.loads(FLAGSHIP.read_text(encoding="utf-8"))


@pytest.fixture
def raw(flagship_raw: dict[str, Any]) -> dict[str, Any]:
    """A fresh, mutable copy of the flagship scenario dictionary."""
    return copy.deepcopy(flagship_raw)


@pytest.fixture(scope="module")
def flagship() -> parkgrid.Scenario:
    """The flagship scenario, network and profiles loaded once for the module."""
    return parkgrid.load_scenario(FLAGSHIP)


@pytest.fixture(autouse=True)
def _flagship_network_once(flagship: parkgrid.Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """Serve the shipped flagship network from the module's copy (reading its JSON is
    most of a validation's time); every other network source is loaded for real."""
    real = scenario_load.load_network

    def load_network(source: str, base_dir: Path | None = None) -> Any:
        if source == "flagship_park":
            return copy.deepcopy(flagship.net)
        return real(source, base_dir)

    monkeypatch.setattr(scenario_load, "load_network", load_network)


@pytest.fixture(scope="module")
def good_profiles(flagship: parkgrid.Scenario) -> pd.DataFrame:
    """A valid user profile table for 2025: a PV column and a load column."""
    prof = flagship.profiles
    assert prof is not None
    return pd.DataFrame({"pv": prof["pv_pu"].to_numpy(),
                         "demand": prof["load_chemical_pu"].to_numpy()}, index=prof.index)


def small_park(raw: dict[str, Any], profiles: str) -> dict[str, Any]:
    """Reduce the flagship to one PV plant and one load fed from a user profile file."""
    raw["profiles"]["source"] = profiles
    raw["pv"] = [{"name": "PV", "bus": "PV-A 35kV", "p_mw": 10.0, "profile": "pv"}]
    raw["load"] = [{"name": "Plant", "bus": "Chemical plant 10kV", "profile": "demand",
                    "peak_mw": 5.0}]
    for kind in ("wind", "battery", "electrolyser", "hydrogen"):
        raw.pop(kind)
    return raw


def write_csv(folder: Path, frame: pd.DataFrame, name: str) -> str:
    frame.to_csv(folder / name, index_label="timestamp")
    return name


# ----------------------------------------------------------------------------- positive
def test_flagship_loads_with_expected_assets_and_defaults(flagship: parkgrid.Scenario) -> None:
    s = flagship
    counts = {k: len(getattr(s, k)) for k in ("pv", "wind", "battery", "electrolyser", "load")}
    assert counts == {"pv": 4, "wind": 3, "battery": 1, "electrolyser": 1, "load": 5}
    assert s.hydrogen is not None and s.hydrogen.capacity_kg == 20000.0
    assert s.year == 2025 and s.seed == 2025
    assert s.grid.ef_kg_per_kwh == pytest.approx(0.6849)
    assert s.profiles is not None and len(s.profiles) == 35040
    assert len(s.net.bus) == 43
    d = s.data
    # keys absent from the file are filled in with the schema defaults
    assert d["pv"][0]["profile"] == "pv_pu" and d["pv"][0]["cos_phi"] == 1.0
    assert d["wind"][0]["profile"] == "wind_pu"
    assert d["electrolyser"][0]["cos_phi"] == 0.98
    assert d["load"][1]["category"] == "industrial" and d["load"][1]["cos_phi"] == 0.95
    assert d["load"][0]["annual_mwh"] == 0.0
    assert d["hydrogen"]["offtake_profile"] == ""
    assert d["grid"]["tariff"]["peak_hours"] == (17, 18, 19, 20, 21, 22)
    for kind in ("pv", "wind", "battery", "electrolyser", "load"):
        for asset in d[kind]:
            assert set(asset) == set(ASSET_KINDS[kind].names)


def test_defaults_filled_for_minimal_scenario(tmp_path: Path) -> None:
    text = """
[scenario]
year = 2025
[grid]
import_limit_mw = 10.0
export_limit_mw = 0.0
[[pv]]
name = "PV"
bus = "PV-A 35kV"
p_mw = 5.0
"""
    path = tmp_path / "minimal.toml"
    path.write_text(text, encoding="utf-8")
    s = parkgrid.load_scenario(path)
    assert s.data["scenario"] == {"name": "unnamed scenario", "description": "", "year": 2025,
                                  "seed": 0, "utc_offset_h": 8.0, "longitude": 109.8,
                                  "latitude": 39.6}
    assert s.data["network"] == {"source": "flagship_park"}
    assert s.data["profiles"] == {"source": "ordos_2025"}
    assert s.data["powerflow"] == {"steps": "all", "method": "auto", "enforce": False,
                                    "oltc": None}
    assert s.data["grid"]["tariff"] is None and s.data["hydrogen"] is None
    assert s.data["grid"]["emission_factor"] == "inner_mongolia"
    assert s.battery == () and s.hydrogen is None and s.source == str(path)


# ----------------------------------------------------------------------------- shape
def test_unknown_section(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["batteries"] = {"p_mw": 1.0}
    err = failure(write(tmp_path, raw))
    only_issue(err, "batteries", "unknown section", "battery", "electrolyser", "grid")


def test_unknown_key_in_section(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["grid"]["import_limit"] = 100.0
    err = failure(write(tmp_path, raw))
    only_issue(err, "grid.import_limit", "unknown key", "import_limit_mw", "export_limit_mw")


def test_unknown_key_in_asset(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["battery"][0]["capacity_mwh"] = 600.0
    err = failure(write(tmp_path, raw))
    only_issue(err, "battery[0].capacity_mwh", "unknown key", "e_mwh", "soc_max_pu")


@pytest.mark.parametrize(
    ("where", "value", "field", "fragments"),
    [
        (("battery", 0, "p_mw"), "150", "battery[0].p_mw", ("must be a number", "str", "MW")),
        (("battery", 0, "p_mw"), True, "battery[0].p_mw", ("must be a number", "bool")),
        (("scenario", "year"), "2025", "scenario.year", ("must be a number", "str")),
        (("scenario", "year"), 2025.5, "scenario.year", ("must be an integer",)),
        (("pv", 1, "bus"), 35, "pv[1].bus", ("must be a string", "int")),
        (("load", 0, "category"), 1.0, "load[0].category", ("must be a string", "float")),
        (("grid", "tariff", "peak_hours"), "17-22", "grid.tariff.peak_hours",
         ("list of integers", "[0, 23]")),
        (("powerflow", "steps"), 28, "powerflow.steps", ("'week:N'",)),
    ],
    ids=["str-for-number", "bool-for-number", "str-for-int", "float-for-int",
         "number-for-string", "number-for-choice", "str-for-list", "int-for-steps"],
)
def test_wrong_type(tmp_path: Path, raw: dict[str, Any], where: tuple[Any, ...], value: Any,
                    field: str, fragments: tuple[str, ...]) -> None:
    target = raw
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    err = failure(write(tmp_path, raw))
    only_issue(err, field, *fragments)


@pytest.mark.parametrize(
    ("kind", "key", "value", "allowed"),
    [
        ("pv", "p_mw", -1.0, "[0, inf] [MW]"),
        ("battery", "p_mw", -150.0, "[0, inf] [MW]"),
        ("battery", "e_mwh", 0.0, "(0, inf] [MWh]"),
        ("battery", "eta_charge", 1.05, "(0, 1]"),
        ("battery", "eta_discharge", 0.0, "(0, 1]"),
        ("battery", "soc_max_pu", 1.5, "[0, 1]"),
        ("battery", "soc_initial_pu", -0.1, "[0, 1]"),
        ("electrolyser", "kwh_per_kg", 29.9, "[30, 100] [kWh/kg]"),
        ("electrolyser", "kwh_per_kg", 100.5, "[30, 100] [kWh/kg]"),
        ("electrolyser", "p_mw", 0.0, "(0, inf] [MW]"),
        ("load", "cos_phi", 1.2, "[0.5, 1]"),
    ],
)
def test_out_of_range(tmp_path: Path, raw: dict[str, Any], kind: str, key: str,
                      value: float, allowed: str) -> None:
    raw[kind][0][key] = value
    err = failure(write(tmp_path, raw))
    field = f"{kind}[0].{key}"
    # one message for one problem: rules between fields do not repeat it
    only_issue(err, field, f"{value!r}", "outside the allowed range", allowed)


def test_out_of_range_in_sections(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["grid"]["export_limit_mw"] = -5.0
    raw["scenario"]["year"] = 1999
    raw["hydrogen"]["capacity_kg"] = 0.0
    raw["grid"]["tariff"]["valley_hours"] = [0, 24]
    err = failure(write(tmp_path, raw))
    issue(err, "grid.export_limit_mw", "-5.0", "[0, inf]")
    issue(err, "scenario.year", "1999", "[2000, 2100]")
    issue(err, "hydrogen.capacity_kg", "(0, inf]")
    issue(err, "grid.tariff.valley_hours", "24", "[0, 23]")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_number(tmp_path: Path, raw: dict[str, Any], value: float) -> None:
    raw["battery"][0]["e_mwh"] = value
    path = write(tmp_path, raw)
    assert tomllib.loads(path.read_text())["battery"][0]["e_mwh"] != 600.0  # really nan/inf
    err = failure(path)
    only_issue(err, "battery[0].e_mwh", "must be a finite number [MWh]", f"got {value!r}")


def test_nan_import_limit(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["grid"]["import_limit_mw"] = math.nan
    err = failure(write(tmp_path, raw))
    only_issue(err, "grid.import_limit_mw", "finite", "nan")


@pytest.mark.parametrize(
    ("where", "field", "fragments"),
    [
        (("grid", "import_limit_mw"), "grid.import_limit_mw", ("missing required key", "MW")),
        (("scenario", "year"), "scenario.year", ("missing required key", "year")),
        (("load", 2, "profile"), "load[2].profile", ("missing required key", "profile")),
        (("battery", 0, "e_mwh"), "battery[0].e_mwh", ("missing required key", "MWh")),
        (("scenario",), "scenario", ("missing section [scenario]",)),
        (("grid",), "grid", ("missing section [grid]",)),
    ],
)
def test_missing_required(tmp_path: Path, raw: dict[str, Any], where: tuple[Any, ...],
                          field: str, fragments: tuple[str, ...]) -> None:
    target = raw
    for key in where[:-1]:
        target = target[key]
    del target[where[-1]]
    err = failure(write(tmp_path, raw))
    only_issue(err, field, *fragments)


# ----------------------------------------------------------------------------- rules
def _set(**values: Any) -> Any:
    def apply(raw: dict[str, Any], section: str, index: int | None) -> None:
        target = raw[section] if index is None else raw[section][index]
        target.update(values)
    return apply


@pytest.mark.parametrize(
    ("section", "index", "change", "field", "fragments"),
    [
        ("battery", 0, _set(soc_min_pu=0.6, soc_max_pu=0.4), "battery[0].soc_min_pu",
         ("below soc_max_pu", "0.6", "0.4")),
        ("battery", 0, _set(soc_min_pu=0.5, soc_max_pu=0.5, soc_initial_pu=0.5),
         "battery[0].soc_min_pu", ("below soc_max_pu",)),
        ("battery", 0, _set(soc_initial_pu=0.99), "battery[0].soc_initial_pu",
         ("0.99", "[0.05, 0.95]")),
        ("battery", 0, _set(soc_initial_pu=0.01), "battery[0].soc_initial_pu",
         ("0.01", "[0.05, 0.95]")),
        ("load", 1, _set(annual_mwh=100000.0), "load[1].annual_mwh",
         ("exactly one of annual_mwh or peak_mw",)),
        ("load", 1, _set(peak_mw=0.0), "load[1].annual_mwh",
         ("exactly one of annual_mwh or peak_mw",)),
        ("hydrogen", None, _set(initial_kg=25000.0), "hydrogen.initial_kg",
         ("25000", "capacity_kg = 20000")),
    ],
    ids=["soc-min-above-max", "soc-min-equals-max", "soc-initial-above",
         "soc-initial-below", "both-annual-and-peak", "neither-annual-nor-peak",
         "h2-initial-above-capacity"],
)
def test_contradictory_limits(tmp_path: Path, raw: dict[str, Any], section: str,
                              index: int | None, change: Any, field: str,
                              fragments: tuple[str, ...]) -> None:
    change(raw, section, index)
    err = failure(write(tmp_path, raw))
    only_issue(err, field, *fragments)


def test_tariff_hour_both_peak_and_valley(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["grid"]["tariff"]["valley_hours"] += [18, 22]
    err = failure(write(tmp_path, raw))
    only_issue(err, "grid.tariff.valley_hours", "[18, 22]", "peak_hours")


def test_tariff_hour_listed_twice(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["grid"]["tariff"]["peak_hours"] = [17, 18, 17]
    err = failure(write(tmp_path, raw))
    only_issue(err, "grid.tariff.peak_hours", "twice")


def test_hydrogen_offtake_without_electrolyser(tmp_path: Path, raw: dict[str, Any]) -> None:
    del raw["electrolyser"]
    err = failure(write(tmp_path, raw))
    only_issue(err, "hydrogen.offtake_kg_per_h", "[[electrolyser]]")


def test_duplicate_asset_names(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["pv"][2]["name"] = "PV-A"  # same kind
    raw["load"][0]["name"] = "BESS"  # across kinds
    err = failure(write(tmp_path, raw))
    issue(err, "pv[2].name", "duplicate", "'PV-A'", "pv[0]")
    issue(err, "load[0].name", "duplicate", "'BESS'", "battery[0]")
    assert len(err.issues) == 2


@pytest.mark.parametrize(
    ("steps", "fragment"),
    [("weekly", "'week:N'"), ("week:54", "selects no step"), ("month:13", "selects no step"),
     ([0, 35040], "[0, 35039]")],
)
def test_powerflow_steps_checked_against_the_year(tmp_path: Path, raw: dict[str, Any],
                                                  steps: Any, fragment: str) -> None:
    raw["powerflow"]["steps"] = steps
    err = failure(write(tmp_path, raw))
    only_issue(err, "powerflow.steps", fragment)


def test_emission_factor_unknown_table(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["grid"]["emission_factor"] = "mongolia"
    err = failure(write(tmp_path, raw))
    only_issue(err, "grid.emission_factor", "'mongolia'", "inner_mongolia", "national")


def test_emission_factor_unknown_year(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["grid"]["emission_factor_year"] = 2019
    err = failure(write(tmp_path, raw))
    only_issue(err, "grid.emission_factor", "2019", "available years: 2022")


def test_emission_factor_number_out_of_range(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["grid"]["emission_factor"] = 5.0
    err = failure(write(tmp_path, raw))
    only_issue(err, "grid.emission_factor", "[0, 2]", "kgCO2/kWh")


def test_five_problems_reported_at_once(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["pv"][0]["p_mw"] = "100 MW"
    raw["battery"][0]["e_mwh"] = 0.0
    del raw["grid"]["import_limit_mw"]
    raw["electrolyser"][0]["kwh_per_kg"] = 10.0
    raw["wind"][1]["hub_height_m"] = 120.0
    err = failure(write(tmp_path, raw))
    fields = {i.field for i in err.issues}
    assert fields == {"pv[0].p_mw", "battery[0].e_mwh", "grid.import_limit_mw",
                      "electrolyser[0].kwh_per_kg", "wind[1].hub_height_m"}
    assert str(err).startswith("5 problems in scenario")
    for field in fields:
        assert f"{tmp_path / 'scenario.toml'}: {field}: " in str(err)


# ----------------------------------------------------------------------------- files
def test_invalid_toml_syntax(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(FLAGSHIP.read_text().replace('p_mw = 100.0', 'p_mw = 100.0.0', 1))
    err = failure(path)
    only_issue(err, "<file>", "invalid TOML", "line")


def test_missing_scenario_file(tmp_path: Path) -> None:
    err = failure(tmp_path / "no_such_scenario.toml")
    only_issue(err, "<file>", "cannot read")


def test_dict_source_is_named(raw: dict[str, Any]) -> None:
    raw["battery"][0]["e_mwh"] = -1.0
    with pytest.raises(ScenarioError) as info:
        parkgrid.scenario_from_dict(raw, source="my-notebook")
    assert [(i.source, i.field) for i in info.value.issues] == [("my-notebook",
                                                                 "battery[0].e_mwh")]
    assert "my-notebook: battery[0].e_mwh:" in str(info.value)


# ----------------------------------------------------------------------------- network
def test_unknown_bus_is_named(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["pv"][0]["bus"] = "Solar 35kV"
    raw["load"][3]["bus"] = "Truck depot 10 kV"  # a typo: similar names are offered
    err = failure(write(tmp_path, raw))
    issue(err, "pv[0].bus", "unknown bus", "'Solar 35kV'", "43 buses")
    issue(err, "load[3].bus", "unknown bus", "'Truck depot 10 kV'", "Truck depot 10kV")
    assert len(err.issues) == 2


def test_empty_bus_name(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["wind"][0]["bus"] = ""
    err = failure(write(tmp_path, raw))
    only_issue(err, "wind[0].bus", "unknown bus ''")


def test_bus_not_unique(tmp_path: Path, raw: dict[str, Any],
                        flagship: parkgrid.Scenario) -> None:
    net = copy.deepcopy(flagship.net)
    net.bus.loc[net.bus["name"] == "PV-B feeder node 1", "name"] = "PV-B 35kV"
    pp.to_json(net, str(tmp_path / "two_pv_b.json"))
    raw["network"]["source"] = "two_pv_b.json"
    err = failure(write(tmp_path, raw))
    only_issue(err, "pv[1].bus", "'PV-B 35kV'", "not unique")


def test_islanded_asset_by_open_switch(tmp_path: Path, raw: dict[str, Any],
                                       flagship: parkgrid.Scenario) -> None:
    net = copy.deepcopy(flagship.net)
    sw = net.switch.index[net.switch["name"] == "CB BESS 35kV cable"]
    assert len(sw) == 1
    net.switch.loc[sw, "closed"] = False
    pp.to_json(net, str(tmp_path / "bess_open.json"))
    raw["network"]["source"] = "bess_open.json"
    err = failure(write(tmp_path, raw))
    only_issue(err, "battery[0].bus", "'BESS 35kV'", "islanded")


def test_islanded_asset_by_line_out_of_service(tmp_path: Path, raw: dict[str, Any],
                                               flagship: parkgrid.Scenario) -> None:
    net = copy.deepcopy(flagship.net)
    net.line.loc[net.line["name"] == "PV-C cable 3", "in_service"] = False
    pp.to_json(net, str(tmp_path / "pv_c_cut.json"))
    raw["network"]["source"] = "pv_c_cut.json"
    err = failure(write(tmp_path, raw))
    only_issue(err, "pv[2].bus", "'PV-C 35kV'", "islanded")


def test_islanded_bus_without_any_connection(tmp_path: Path, raw: dict[str, Any],
                                             good_profiles: pd.DataFrame) -> None:
    net = pp.create_empty_network()
    slack = pp.create_bus(net, 35.0, name="Grid")
    feeder = pp.create_bus(net, 35.0, name="Feeder")
    pp.create_bus(net, 35.0, name="Lonely")
    pp.create_ext_grid(net, slack)
    pp.create_line(net, slack, feeder, 2.0, "NA2XS2Y 1x240 RM/25 12/20 kV")
    pp.to_json(net, str(tmp_path / "tiny.json"))
    raw = small_park(raw, write_csv(tmp_path, good_profiles, "prof.csv"))
    raw["network"]["source"] = "tiny.json"
    raw["grid"]["bus"] = "Grid"
    raw["pv"][0]["bus"] = "Lonely"
    raw["load"][0]["bus"] = "Feeder"
    err = failure(write(tmp_path, raw))
    only_issue(err, "pv[0].bus", "'Lonely'", "islanded")


def test_grid_bus_must_be_ext_grid_bus(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["grid"]["bus"] = "Substation 35kV"
    err = failure(write(tmp_path, raw))
    only_issue(err, "grid.bus", "'Substation 35kV'", "ext_grid bus", "'HV 220kV'")


def test_unknown_network_source(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["network"]["source"] = "flagship_prak"
    err = failure(write(tmp_path, raw))
    only_issue(err, "network.source", "'flagship_prak' not found", "flagship_park",
               "pandapower:cigre_mv")


def test_unknown_network_builder(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["network"]["source"] = "pandapower:cigre_hv"
    err = failure(write(tmp_path, raw))
    only_issue(err, "network.source", "'cigre_hv'", "cigre_mv", "case33bw")


def test_unreadable_network_file(tmp_path: Path, raw: dict[str, Any]) -> None:
    (tmp_path / "broken_net.json").write_text('{"bus": [1, 2', encoding="utf-8")
    raw["network"]["source"] = "broken_net.json"
    err = failure(write(tmp_path, raw))
    only_issue(err, "network.source", "broken_net.json", "not a readable pandapower JSON")


def test_reference_problems_reported_together(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["pv"][0]["bus"] = "Nowhere"
    raw["wind"][0]["profile"] = "wind_100m"
    raw["grid"]["bus"] = "Substation 35kV"
    err = failure(write(tmp_path, raw))
    assert {i.field for i in err.issues} == {"pv[0].bus", "wind[0].profile", "grid.bus"}


# ----------------------------------------------------------------------------- profiles
def test_unknown_profile_column_lists_available(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["load"][0]["profile"] = "load_battery_cell_pu"
    raw["hydrogen"]["offtake_profile"] = "h2_offtake"
    err = failure(write(tmp_path, raw))
    expected = ("load_battery_cells_pu", "pv_pu", "wind_pu", "load_offices_pu", "ordos_2025")
    issue(err, "load[0].profile", "'load_battery_cell_pu'", *expected)
    issue(err, "hydrogen.offtake_profile", "'h2_offtake'", *expected)


def test_unknown_profile_set(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["profiles"]["source"] = "ordos_2052"
    err = failure(write(tmp_path, raw))
    only_issue(err, "profiles.source", "ordos_2052", "ordos_2025")


def test_user_profile_file_loads(tmp_path: Path, raw: dict[str, Any],
                                 good_profiles: pd.DataFrame) -> None:
    raw = small_park(raw, write_csv(tmp_path, good_profiles, "prof.csv"))
    s = parkgrid.load_scenario(write(tmp_path, raw))
    assert s.profiles is not None and list(s.profiles.columns) == ["pv", "demand"]
    np.testing.assert_allclose(s.profiles["pv"].to_numpy(), good_profiles["pv"].to_numpy())


def _short(f: pd.DataFrame) -> pd.DataFrame:
    return f.iloc[:-96]


def _nan(f: pd.DataFrame) -> pd.DataFrame:
    f = f.copy()
    f.iloc[500, 1] = np.nan
    return f


def _negative(f: pd.DataFrame) -> pd.DataFrame:
    f = f.copy()
    f.iloc[500, 1] = -0.25
    return f


def _pv_above_one(f: pd.DataFrame) -> pd.DataFrame:
    f = f.copy()
    f.iloc[17000, 0] = 1.3
    return f


def _duplicate(f: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([f.iloc[:1001], f.iloc[1000:-1]])


@pytest.mark.parametrize(
    ("mutate", "field", "fragments"),
    [
        (_short, "profiles.source", ("do not cover the whole year 2025", "2025-12-31")),
        (_nan, "profiles.source", ("'demand'", "NaN")),
        (_negative, "load[0].profile", ("'demand'", "negative", "-0.25")),
        (_pv_above_one, "pv[0].profile", ("'pv'", "[0, 1]", "1.3")),
        (_duplicate, "profiles.source", ("duplicate timestamp", "row 1002, line 1003")),
    ],
    ids=["short-year", "nan", "negative", "pv-above-1pu", "duplicate-timestamp"],
)
def test_bad_user_profile(tmp_path: Path, raw: dict[str, Any], good_profiles: pd.DataFrame,
                          mutate: Any, field: str, fragments: tuple[str, ...]) -> None:
    raw = small_park(raw, write_csv(tmp_path, mutate(good_profiles), "my_profiles.csv"))
    err = failure(write(tmp_path, raw))
    only_issue(err, field, "my_profiles.csv", *fragments)


def test_common_year_profile_for_leap_year(tmp_path: Path, raw: dict[str, Any],
                                          good_profiles: pd.DataFrame) -> None:
    frame = good_profiles.set_axis(year_index(2024)[: len(good_profiles)])
    raw = small_park(raw, write_csv(tmp_path, frame, "year_2024.csv"))
    raw["scenario"]["year"] = 2024
    err = failure(write(tmp_path, raw))
    only_issue(err, "profiles.source", "year_2024.csv", "wrong number of steps", "35,040",
               "35,136")


def test_schema_tables_are_consistent() -> None:
    """Units are text and every default passes its own field's check."""
    for key, table in {**SECTIONS, **ASSET_KINDS}.items():
        for f in table.fields:
            assert isinstance(f.unit, str), (key, f.name, f.unit)
            assert isinstance(f.doc, str), (key, f.name)
            if f.default is REQUIRED or f.default is None:  # None: no value, e.g. no target
                continue
            value = list(f.default) if isinstance(f.default, tuple) else f.default
            problems = f.check(value, f"{key}.{f.name}")
            assert problems == [], (key, f.name, problems)


def test_missing_load_profile_message(tmp_path: Path, raw: dict[str, Any]) -> None:
    del raw["load"][0]["profile"]
    err = failure(write(tmp_path, raw))
    found = only_issue(err, "load[0].profile")
    assert found.message == "missing required key (profile column (any scale))"


def test_negative_hydrogen_offtake_profile(tmp_path: Path, raw: dict[str, Any],
                                           good_profiles: pd.DataFrame) -> None:
    frame = good_profiles.assign(h2=1.0)
    frame.iloc[200, frame.columns.get_loc("h2")] = -0.5
    raw = small_park(raw, write_csv(tmp_path, frame, "h2_profiles.csv"))
    raw["electrolyser"] = [{"name": "EL", "bus": "Electrolyser 35kV", "p_mw": 10.0}]
    raw["hydrogen"] = {"capacity_kg": 1000.0, "offtake_kg_per_h": 50.0, "offtake_profile": "h2"}
    err = failure(write(tmp_path, raw))
    only_issue(err, "hydrogen.offtake_profile", "h2_profiles.csv", "'h2'", "negative", "-0.5")
