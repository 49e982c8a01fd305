"""Layouts (TOML networks): the flagship as a layout, a layout from scratch, every refusal."""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkgrid.errors import LayoutError, NetworkError, ScenarioError
from parkgrid.layout import AssetRating, check_network, layout_to_net, read_layout
from parkgrid.network import load_network, read_network_file
from parkgrid.scenario import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP_TOML = ROOT / "networks" / "flagship_park.toml"
FLAGSHIP_JSON = ROOT / "networks" / "flagship_park.json"
EXAMPLE = ROOT / "examples" / "park_layout.toml"
SCENARIO = ROOT / "examples" / "drawn_park.toml"
TABLES = ("bus", "line", "trafo", "switch", "ext_grid")


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):  # asset tables: [[pv]] etc., as parkgrid.result reads them
        return [_strip_none(v) for v in value]
    return value


def _with_assets(net: pp.pandapowerNet) -> pp.pandapowerNet:
    """A copy with the flagship's design case 'peak PV, low load' placed by bus name."""
    net = copy.deepcopy(net)
    bus = {n: i for i, n in net.bus["name"].items()}
    for block in ("PV-A", "PV-B", "PV-C", "PV-D"):
        pp.create_sgen(net, bus[f"{block} 35kV"], p_mw=100.0)
    for block in ("Wind-A", "Wind-B", "Wind-C"):
        pp.create_sgen(net, bus[f"{block} 35kV"], p_mw=22.0)
    pp.create_load(net, bus["Electrolyser 35kV"], p_mw=150.0, q_mvar=49.3)
    pp.create_storage(net, bus["BESS 35kV"], p_mw=150.0, max_e_mwh=600.0)
    for name, p in (("Cell factory", 20.0), ("Module factory", 12.0), ("Chemical plant", 24.0),
                    ("Truck depot", 8.0), ("Offices", 2.0)):
        pp.create_load(net, bus[f"{name} 10kV"], p_mw=p, q_mvar=p * 0.3287)
    return net


# ------------------------------------------------------------ the flagship layout
def test_flagship_layout_has_the_json_element_tables():
    built, shipped = read_layout(FLAGSHIP_TOML), read_network_file(FLAGSHIP_JSON)
    for table in TABLES:
        pd.testing.assert_frame_equal(built[table], shipped[table], obj=f"net.{table}")
    for element in ("line", "trafo"):
        for name in set(shipped[element]["std_type"]):
            assert built.std_types[element][name] == shipped.std_types[element][name]
    assert (built.name, built.f_hz, built.sn_mva) == (shipped.name, shipped.f_hz,
                                                      shipped.sn_mva)


def test_flagship_layout_gives_the_json_power_flow():
    """Both nets with the same assets through pandapower's own runpp: 1e-9 pu and degrees."""
    results = []
    for net in (read_layout(FLAGSHIP_TOML), read_network_file(FLAGSHIP_JSON)):
        net = _with_assets(net)
        pp.runpp(net, init="dc", max_iteration=30, tolerance_mva=1e-10, numba=False)
        results.append(net.res_bus)
    assert len(results[0]) == 43
    np.testing.assert_allclose(results[0]["vm_pu"], results[1]["vm_pu"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(results[0]["va_degree"], results[1]["va_degree"], rtol=0,
                               atol=1e-9)
    assert results[0]["vm_pu"].max() > 1.01  # the case moves voltages: not a flat profile


def test_flagship_layout_is_what_its_writer_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("_flagship_layout",
                                                  ROOT / "networks" / "flagship_layout.py")
    assert spec is not None and spec.loader is not None
    writer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(writer)
    assert writer.main([str(tmp_path / "f.toml")]) == 0
    assert (tmp_path / "f.toml").read_text() == FLAGSHIP_TOML.read_text()


def test_layout_is_a_network_source():
    net = load_network("flagship_park.toml")  # the shipped networks/ folder
    assert len(net.bus) == 43 and len(net.trafo) == 7


# ------------------------------------------------------------ a layout from scratch
def test_example_layout_from_scratch():
    net = read_layout(EXAMPLE)
    assert list(net.bus["name"])[:3] == ["Grid 110kV", "Park 35kV", "PV 35kV"]
    assert net.bus.at[3, "type"] == "n" and net.bus.at[2, "zone"] == "PV"
    t1, t2 = net.trafo.loc[0], net.trafo.loc[1]
    # T1 from its parameters, with its on-load tap changer for tap control
    assert (t1.sn_mva, t1.vn_hv_kv, t1.vn_lv_kv, t1.vk_percent) == (63.0, 110.0, 35.0, 10.5)
    assert (t1.tap_min, t1.tap_max, t1.tap_step_percent, t1.tap_side, bool(t1.oltc)) == (
        -8, 8, 1.25, "hv", True)
    # T2 from the layout's own standard type, its tap position from the row
    assert (t2.std_type, t2.sn_mva, t2.tap_pos, t2.tap_max) == ("SZ11-31500/35", 31.5, 1, 3)
    overhead = net.line.loc[2]
    assert (overhead.r_ohm_per_km, overhead.max_i_ka, overhead.type, overhead.parallel) == (
        0.1181, 0.575, "ol", 2)
    assert net.line.at[0, "alpha"] == 0.00393  # copied from the type
    assert set(net.switch["et"]) == {"t", "l"} and net.switch["closed"].all()
    pp.runpp(net, numba=False)
    assert net.converged


def test_tap_fields_of_a_row_override_its_type():
    raw = tomllib.loads(EXAMPLE.read_text())
    row = raw["transformer"][1]
    row.update(tap_max=5, tap_step_percent=1.5, tap_side="lv", tap_neutral=0, oltc=True)
    del row["tap_pos"]
    t = layout_to_net(raw).trafo.loc[1]
    assert (t.tap_max, t.tap_min, t.tap_step_percent, t.tap_side, t.tap_pos, bool(t.oltc)) == (
        5, -3, 1.5, "lv", 0, True)


def test_scenario_on_a_layout_file_and_inline(tmp_path):
    from_file = load_scenario(SCENARIO)
    raw = tomllib.loads(SCENARIO.read_text())
    raw["network"] = {"layout": tomllib.loads(EXAMPLE.read_text())}
    inline = scenario_from_dict(raw, source="inline.toml")
    for table in TABLES:
        pd.testing.assert_frame_equal(inline.net[table], from_file.net[table])
    assert inline.data["network"]["source"] == ""
    # the normalised data, as a results folder stores and reads it, validates again
    again = scenario_from_dict(_strip_none(json.loads(json.dumps(inline.data, default=list))),
                               source="stored.json", resolve=False)
    assert again.data["network"]["layout"] == raw["network"]["layout"]
    raw["network"]["source"] = "flagship_park"
    with pytest.raises(ScenarioError, match=r"network\.source: give the network either"):
        scenario_from_dict(raw, source="both.toml")


INLINE = """
[scenario]
year = 2025

[network.layout]
name = "two buses"

[[network.layout.bus]]
name = "Grid 35kV"
vn_kv = 35.0

[[network.layout.bus]]
name = "PV 35kV"
vn_kv = 35.0

[[network.layout.ext_grid]]
bus = "Grid 35kV"

[[network.layout.line]]
name = "PV cable"
from_bus = "Grid 35kV"
to_bus = "PV 35kV"
length_km = 3.0
std_type = "NA2XS2Y 1x240 RM/25 12/20 kV"

[grid]
bus = "Grid 35kV"
import_limit_mw = 10.0
export_limit_mw = 10.0

[[pv]]
name = "PV"
bus = "PV 35kV"
p_mw = 5.0
"""


def test_inline_layout_as_written_in_toml():
    s = scenario_from_dict(tomllib.loads(INLINE), source="inline.toml")
    assert (s.net.name, len(s.net.bus), s.net.line.at[0, "max_i_ka"]) == ("two buses", 2, 0.421)
    both = INLINE.replace('name = "two buses"', 'name = "two buses"\n[network.layout.layout]')
    with pytest.raises(ScenarioError, match=r"network\.layout\.name: give the network's keys"):
        scenario_from_dict(tomllib.loads(both), source="inline.toml")


def test_inline_layout_errors_name_the_scenario_row():
    raw = tomllib.loads(SCENARIO.read_text())
    layout = tomllib.loads(EXAMPLE.read_text())
    layout["line"][0]["length_km"] = 0.0
    raw["network"] = {"layout": layout}
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw, source="park.toml")
    assert "park.toml: network.layout.line[0].length_km: 0.0 is outside the allowed range" in (
        str(info.value))


# ------------------------------------------------------------ refusals
def _edit(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text()
    assert text.count(old) == 1, old
    path = tmp_path / "park_layout.toml"  # the name examples/drawn_park.toml uses
    path.write_text(text.replace(old, new))
    return path


BAD = {
    "unknown bus in a line": ('to_bus = "PV 35kV"', 'to_bus = "PV 53kV"', "line[0].to_bus",
                              "unknown bus 'PV 53kV' (the layout has 8 [[bus]] rows; similar: "
                              "'PV 35kV'"),
    "transformer between equal voltages": (
        'lv_bus = "Factory 10kV"', 'lv_bus = "Battery 35kV"', "transformer[1].lv_bus",
        "a transformer between equal voltages: hv_bus 'Factory 35kV' and lv_bus "
        "'Battery 35kV' are both 35 kV"),
    "standard type that does not exist": (
        'std_type = "SZ11-31500/35"', 'std_type = "SZ11-3150/35"', "transformer[1].std_type",
        "unknown standard type 'SZ11-3150/35': not in pandapower's library nor a "
        "[trafo_type] of this layout; similar: 'SZ11-31500/35'"),
    "line of zero length": ("length_km = 2.0", "length_km = 0", "line[0].length_km",
                            "0 is outside the allowed range (0, 1000] [km]"),
    "island": ('[[bus]]\nname = "Factory 10kV"',
               '[[bus]]\nname = "Spare 35kV"\nvn_kv = 35.0\n\n[[bus]]\nname = "Factory 10kV"',
               "bus[7].name", "bus 'Spare 35kV' is an island: no line, transformer or switch "
                              "connects it to an [[ext_grid]]"),
    "duplicate name": ('name = "Battery cable"\nfrom_bus', 'name = "PV cable"\nfrom_bus',
                       "line[3].name", "duplicate line name 'PV cable' (also line[0])"),
    "line across voltage levels": (
        'to_bus = "Factory 35kV"', 'to_bus = "Factory 10kV"', "line[4].to_bus",
        "voltage-level mismatch: from_bus 'Park 35kV' is 35 kV, to_bus 'Factory 10kV' is 10 kV"),
    "transformer upside down": (
        'hv_bus = "Factory 35kV"\nlv_bus = "Factory 10kV"',
        'hv_bus = "Factory 10kV"\nlv_bus = "Factory 35kV"', "transformer[1].hv_bus",
        "hv_bus 'Factory 10kV' is 10 kV, below lv_bus 'Factory 35kV' at 35 kV; swap them"),
    "winding for another voltage": (
        "vn_hv_kv = 110.0", "vn_hv_kv = 220.0", "transformer[0].vn_hv_kv",
        "voltage-level mismatch: vn_hv_kv = 220 kV, but hv_bus 'Grid 110kV' is 110 kV "
        "(allowed within 25%)"),
    "type for another voltage": (
        'std_type = "SZ11-31500/35"', 'std_type = "25 MVA 110/20 kV"', "transformer[1].std_type",
        "voltage-level mismatch: type '25 MVA 110/20 kV' has a 110 kV HV winding, but hv_bus "
        "'Factory 35kV' is 35 kV"),
    "type and parameters": ('length_km = 0.3\nstd_type = "YJV22-26/35kV 3x300"',
                            'length_km = 0.3\nstd_type = "YJV22-26/35kV 3x300"\n'
                            'r_ohm_per_km = 0.1', "line[3].r_ohm_per_km",
                            "give std_type or the parameters, not both"),
    "parameters missing": ("max_i_ka = 0.575\n", "", "line[2].max_i_ka",
                           "missing: give std_type or all of r_ohm_per_km, x_ohm_per_km, "
                           "c_nf_per_km, max_i_ka (missing max_i_ka)"),
    "switch away from its line": ('line = "PV cable"', 'line = "Wind overhead"', "switch[1].bus",
                                  "bus 'Park 35kV' is not an end of line 'Wind overhead'"),
    "switch to nothing": ('line = "Battery cable"', 'line = "Batery cable"', "switch[3].line",
                          "unknown line 'Batery cable'"),
    "tap outside its range": ("tap_pos = 1 ", "tap_pos = 5 ", "transformer[1].tap_pos",
                              "tap_pos 5 is outside the tap range [-3, 3]"),
    "misspelt key": ("parallel = 2                    # 2 x", "paralel = 2 # 2 x",
                     "line[0].paralel", "unknown key (did you mean 'parallel'?)"),
    "no grid connection": ('[[ext_grid]]\nbus = "Grid 110kV"', '[[ext_gird]]\nbus = "Grid 110kV"',
                           "ext_grid", "a layout needs a grid connection"),
    "a library type shadowed": ('[line_type."YJV22-26/35kV 3x300"]',
                                '[line_type."NAYY 4x50 SE"]', 'line_type["NAYY 4x50 SE"]',
                                "is a type of pandapower's library"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_layout_names_file_row_and_key(tmp_path, case):
    old, new, field, message = BAD[case]
    path = _edit(tmp_path, old, new)
    with pytest.raises(LayoutError) as info:
        read_layout(path)
    assert isinstance(info.value, NetworkError)  # callers catching network errors see it
    lines = [str(i) for i in info.value.issues]
    assert any(line.startswith(f"{path}: {field}: ") and message in line for line in lines), (
        lines)


def test_every_problem_in_one_run(tmp_path):
    path = tmp_path / "park_layout.toml"
    path.write_text(EXAMPLE.read_text().replace('to_bus = "PV 35kV"', 'to_bus = "PV 53kV"')
                    .replace("length_km = 0.3", "length_km = 0")
                    .replace("vn_kv = 10.0", "vn_kv = -10.0"))
    with pytest.raises(LayoutError) as info:
        read_layout(path)
    assert sorted(i.field for i in info.value.issues) == [
        "bus[7].vn_kv", "line[0].to_bus", "line[3].length_km"]


def test_layout_refusal_in_a_scenario_lists_the_layout_issues(tmp_path):
    _edit(tmp_path, "length_km = 2.0", "length_km = -1.0")
    raw = tomllib.loads(SCENARIO.read_text())
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw, source=str(tmp_path / "s.toml"), base_dir=tmp_path)
    assert f"{tmp_path / 'park_layout.toml'}: line[0].length_km: -1.0 is outside" in str(info.value)


def test_island_with_load_names_the_asset_and_the_layout_row(tmp_path):
    _edit(tmp_path, 'name = "CB PV"\nbus = "Park 35kV"',
          'name = "CB PV"\nclosed = false\nbus = "Park 35kV"')
    net = read_layout(tmp_path / "park_layout.toml")  # an open breaker is an operating state
    raw = tomllib.loads(SCENARIO.read_text())
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw, source="s.toml", base_dir=tmp_path)
    assert ("s.toml: pv[0].bus: bus 'PV 35kV' (park_layout.toml: bus[2]) is islanded"
            in str(info.value))
    report = check_network(net, [AssetRating("PV", "pv", "PV 35kV", 40.0, 0.0)])
    assert report.islands == [["PV 35kV"]] and not report.ok
    assert "island with assets: pv 'PV' on 'PV 35kV'" in report.text()


def test_invalid_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[bus]\nname = 1\n")
    with pytest.raises(LayoutError, match=r"bad.toml: <file>: invalid TOML"):
        read_layout(bad)
    with pytest.raises(LayoutError, match=r"nope.toml: <file>: cannot read"):
        read_layout(tmp_path / "nope.toml")


# ------------------------------------------------------------ network check
RATINGS = [AssetRating("PV", "pv", "PV 35kV", 40.0, 0.0),
           AssetRating("Wind", "wind", "Wind 35kV", 30.0, 0.0),
           AssetRating("Battery", "battery", "Battery 35kV", 20.0, 20.0),
           AssetRating("Factory", "load", "Factory 10kV", 0.0, 25.0 / 0.95)]


def test_check_finds_an_under_rated_cable(tmp_path):
    """The PV cable cut to one circuit of 3x300 Cu (0.445 kA).

    Beyond it: 40 MVA of PV and nothing that draws; the rest can take 25/0.95 +
    20 + the 20 MW export = 66.3 MVA, so the cable must carry 40 MVA:
    I = 40 / (sqrt(3) * 35 kV) = 0.65983 kA, 148.3 % of 0.445 kA.
    T1: the side beyond is the whole park (feed-in 90, draw 46.3 MVA), the rest is
    the grid (import 30, export 20): max(min(90, 20), min(46.3, 30)) = 30 MVA of
    63 MVA.
    """
    net = read_layout(_edit(tmp_path, "parallel = 2                    # 2 x", "parallel = 1 #"))
    report = check_network(net, RATINGS, grid_import_mva=30.0, grid_export_mva=20.0)
    by_name = {b.name: b for b in report.branches}
    cable = by_name["PV cable"]
    assert cable.needed == pytest.approx(40.0 / (math.sqrt(3.0) * 35.0), rel=1e-12)
    assert cable.rated == pytest.approx(0.445) and cable.loading_percent == pytest.approx(
        148.27, abs=0.01)
    assert by_name["T1 110/35kV"].needed == pytest.approx(30.0)
    assert by_name["Battery cable"].needed == pytest.approx(20.0 / (math.sqrt(3.0) * 35.0))
    assert by_name["T2 35/10kV"].needed == pytest.approx(25.0 / 0.95)
    errors = [f for f in report.findings if f.severity == "error"]
    assert [f.element for f in errors] == ["line 'PV cable'"] and not report.ok
    assert "PV cable" in report.text() and "OVER" in report.text()
    assert check_network(read_layout(EXAMPLE), RATINGS, grid_import_mva=30.0,
                         grid_export_mva=20.0).ok


def test_check_lists_meshed_branches_and_level_mismatches():
    net = read_network_file(FLAGSHIP_JSON)
    report = check_network(net, [AssetRating("PV-A", "pv", "PV-A 35kV", 100.0)])
    assert sorted(report.meshed) == ["T1 220/35kV", "T2 220/35kV"] and report.ok
    assert len(report.branches) == 35 + 5  # every line and factory transformer is radial
    net.line.at[0, "to_bus"] = int(net.bus.index[net.bus["name"] == "Offices 10kV"][0])
    report = check_network(net)
    assert any(f.element == "line 'PV-A cable 1'" and "voltage-level mismatch" in f.message
               for f in report.findings) and not report.ok


# ------------------------------------------------------------ command line
def test_cli_build_and_check(tmp_path, capsys):
    from parkgrid.cli import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, main

    out = tmp_path / "net.json"
    assert main(["network", "build", str(EXAMPLE), "-o", str(out)]) == 0
    built = read_network_file(out)
    # through JSON both: pandapower writes a None of an object column as NaN
    layout = pp.from_json_string(pp.to_json(read_layout(EXAMPLE)))
    for table in TABLES:
        pd.testing.assert_frame_equal(built[table], layout[table])
    assert main(["network", "build", str(EXAMPLE), "-o", str(out)]) == EXIT_BAD_INPUT
    assert "already exists" in capsys.readouterr().err
    bad = _edit(tmp_path, "length_km = 2.0", "length_km = 0.0")
    assert main(["network", "build", str(bad), "-o", str(tmp_path / "bad.json")]) == (
        EXIT_BAD_INPUT)
    assert "line[0].length_km" in capsys.readouterr().err
    assert not (tmp_path / "bad.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.json", "park_layout.toml"]

    assert main(["network", "check", str(out), "--scenario", str(SCENARIO)]) == 0
    assert "T1 110/35kV" in capsys.readouterr().out
    thin = _edit(tmp_path, "parallel = 2                    # 2 x", "parallel = 1 #")
    assert main(["network", "check", str(thin), "--scenario", str(SCENARIO)]) == (
        EXIT_CHECK_FAILED)
    assert "line 'PV cable': under-rated" in capsys.readouterr().out


def test_cli_check_reports_assets_on_an_island(tmp_path, capsys):
    from parkgrid.cli import EXIT_CHECK_FAILED, main

    path = _edit(tmp_path, 'name = "CB PV"\nbus = "Park 35kV"',
                 'name = "CB PV"\nclosed = false\nbus = "Park 35kV"')
    assert main(["network", "check", str(path), "--scenario", str(SCENARIO)]) == (
        EXIT_CHECK_FAILED)
    out = capsys.readouterr().out
    assert "island with assets: pv 'PV' on 'PV 35kV'" in out and "PV 35kV" in out


def test_schema_lists_the_layout_keys(capsys):
    from parkgrid.cli import EXIT_BAD_INPUT, main

    assert main(["schema", "layout.line"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[[line]]") and "length_km" in out and "(0, 1000]" in out
    assert main(["schema", "layout.cable"]) == EXIT_BAD_INPUT


# ------------------------------------------------------------ the radial rule, by brute force
@st.composite
def _parks(draw: Any) -> tuple[dict[str, Any], list[AssetRating], float, float]:
    """A random 20 kV network: a tree from the slack plus a few extra lines (meshes)."""
    n = draw(st.integers(2, 9))
    pairs = [(draw(st.integers(0, i - 1)), i) for i in range(1, n)]
    pairs += draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(
        lambda p: p[0] != p[1]), max_size=2))
    raw = {"bus": [{"name": f"B{i}", "vn_kv": 20.0} for i in range(n)],
           "ext_grid": [{"bus": "B0"}],
           "line": [{"name": f"L{k}", "from_bus": f"B{a}", "to_bus": f"B{b}",
                     "length_km": 1.0, "std_type": "NA2XS2Y 1x240 RM/25 12/20 kV",
                     "parallel": draw(st.integers(1, 3))} for k, (a, b) in enumerate(pairs)]}
    mva = st.floats(0.0, 30.0)
    ratings = [AssetRating(f"A{k}", "any", f"B{draw(st.integers(0, n - 1))}", draw(mva),
                           draw(mva)) for k in range(draw(st.integers(0, 5)))]
    limit = st.one_of(st.just(math.inf), st.floats(0.0, 50.0))
    return raw, ratings, draw(limit), draw(limit)


@settings(max_examples=25, deadline=None)
@given(_parks())
def test_radial_rule_matches_cutting_each_line(park):
    """Each line removed in turn: the buses cut off from B0 are 'beyond' (reference)."""
    raw, ratings, grid_in, grid_out = park
    report = check_network(layout_to_net(raw), ratings, grid_import_mva=grid_in,
                           grid_export_mva=grid_out)
    found = {b.name: b for b in report.branches}
    total_feed = sum(r.feed_in_mva for r in ratings) + grid_in
    total_draw = sum(r.draw_mva for r in ratings) + grid_out
    for k, line in enumerate(raw["line"]):
        others = [(o["from_bus"], o["to_bus"]) for j, o in enumerate(raw["line"]) if j != k]
        reached, todo = {"B0"}, ["B0"]
        while todo:
            here = todo.pop()
            for a, b in others:
                for x, y in ((a, b), (b, a)):
                    if x == here and y not in reached:
                        reached.add(y)
                        todo.append(y)
        cut = {b["name"] for b in raw["bus"]} - reached
        if not cut:
            assert line["name"] in report.meshed and line["name"] not in found
            continue
        feed = sum(r.feed_in_mva for r in ratings if r.bus in cut)
        draw_ = sum(r.draw_mva for r in ratings if r.bus in cut)
        s_mva = max(min(feed, total_draw - draw_), min(draw_, total_feed - feed))
        b = found[line["name"]]
        assert b.needed * math.sqrt(3.0) * 20.0 == pytest.approx(s_mva, rel=1e-9, abs=1e-9)
        assert b.rated == pytest.approx(0.421 * line["parallel"])
