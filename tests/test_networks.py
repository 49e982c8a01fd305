"""Tests of the flagship park network (networks/flagship_park.json and its builder)."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from types import ModuleType

import networkx as nx
import pandapower as pp
import pandapower.topology as top
import pandas as pd
import pytest

from parkgrid.network import read_network_file

NETWORKS = Path(__file__).resolve().parents[1] / "networks"
NET_JSON = NETWORKS / "flagship_park.json"

NAMED_BUSES = {
    "HV 220kV": 220.0,
    "Substation 35kV": 35.0,
    "PV-A 35kV": 35.0,
    "PV-B 35kV": 35.0,
    "PV-C 35kV": 35.0,
    "PV-D 35kV": 35.0,
    "Wind-A 35kV": 35.0,
    "Wind-B 35kV": 35.0,
    "Wind-C 35kV": 35.0,
    "BESS 35kV": 35.0,
    "Electrolyser 35kV": 35.0,
    "Cell factory 10kV": 10.0,
    "Module factory 10kV": 10.0,
    "Chemical plant 10kV": 10.0,
    "Truck depot 10kV": 10.0,
    "Offices 10kV": 10.0,
}
ASSET_TABLES = (
    "load",
    "sgen",
    "storage",
    "gen",
    "shunt",
    "ward",
    "xward",
    "motor",
    "asymmetric_load",
    "asymmetric_sgen",
)
ELEMENT_TABLES = (
    "bus",
    "line",
    "trafo",
    "trafo3w",
    "switch",
    "ext_grid",
    "impedance",
    *ASSET_TABLES,
)


def _load_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"_parkgrid_networks_{name}", NETWORKS / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def net() -> pp.pandapowerNet:
    return read_network_file(NET_JSON)


@pytest.fixture(scope="module")
def cases() -> ModuleType:
    return _load_module("stress_cases")


def test_json_loads_as_50hz_net(net):
    assert isinstance(net, pp.pandapowerNet)
    assert net.f_hz == 50.0
    assert 40 <= len(net.bus) <= 90


@pytest.mark.parametrize("name", sorted(NAMED_BUSES))
def test_named_bus_exists_once_at_its_voltage(net, name):
    rows = net.bus[net.bus.name == name]
    assert len(rows) == 1, f"{name!r} found {len(rows)} times"
    assert rows.vn_kv.iloc[0] == NAMED_BUSES[name]
    assert bool(rows.in_service.iloc[0])


def test_bus_names_unique(net):
    assert not net.bus.name.duplicated().any()


def test_single_ext_grid_at_hv_bus(net):
    assert len(net.ext_grid) == 1
    eg = net.ext_grid.iloc[0]
    assert net.bus.name[eg.bus] == "HV 220kV"
    assert eg.vm_pu == 1.0
    assert bool(eg.in_service)


@pytest.mark.parametrize("table", ASSET_TABLES)
def test_no_assets_in_file(net, table):
    assert net[table].empty, f"net.{table} should be empty: parkgrid places assets itself"


def test_connected_without_isolated_buses(net):
    graph = top.create_nxgraph(net, respect_switches=True)
    assert nx.is_connected(graph)
    assert set(graph.nodes) == set(net.bus.index)
    assert len(top.unsupplied_buses(net)) == 0
    assert net.switch.closed.all()
    assert net.line.in_service.all() and net.trafo.in_service.all()


def test_branches_join_matching_voltage_levels(net):
    vn = net.bus.vn_kv
    assert (vn[net.line.from_bus].to_numpy() == vn[net.line.to_bus].to_numpy()).all()
    assert (vn[net.trafo.hv_bus].to_numpy() > vn[net.trafo.lv_bus].to_numpy()).all()
    # Rated winding voltages within 10 % of the bus they sit on.
    assert ((net.trafo.vn_hv_kv / vn[net.trafo.hv_bus].to_numpy() - 1).abs() <= 0.1).all()
    assert ((net.trafo.vn_lv_kv / vn[net.trafo.lv_bus].to_numpy() - 1).abs() <= 0.1).all()


def test_every_branch_uses_a_registered_std_type(net):
    assert set(net.line.std_type) <= set(net.std_types["line"])
    assert set(net.trafo.std_type) <= set(net.std_types["trafo"])
    assert {"YJV22-26/35kV 3x300", "JL/G1A-240/30 35kV"} <= set(net.line.std_type)
    assert {"SZ11-180000/220", "SZ11-31500/35"} <= set(net.trafo.std_type)
    hv = net.trafo[net.trafo.std_type == "SZ11-180000/220"]
    assert len(hv) == 2 and (hv.sn_mva * hv.parallel).sum() == 360.0


def test_rebuild_gives_equal_network(net, tmp_path):
    out = tmp_path / "flagship.json"
    assert _load_module("build_flagship").main([str(out)]) == 0
    rebuilt = read_network_file(out)
    for table in ELEMENT_TABLES:
        pd.testing.assert_frame_equal(rebuilt[table], net[table], obj=f"net.{table}")
    for element in ("line", "trafo"):
        assert rebuilt.std_types[element] == net.std_types[element]
    assert rebuilt.f_hz == net.f_hz and rebuilt.sn_mva == net.sn_mva


def test_rebuild_is_byte_identical(tmp_path):
    builder = _load_module("build_flagship")
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    builder.main([str(first)])
    builder.main([str(second)])
    assert first.read_bytes() == second.read_bytes()


def test_apply_case_leaves_input_untouched(net, cases):
    before = copy.deepcopy(net)
    work = cases.apply_case(net, cases.CASES["peak load, no generation"])
    assert len(work.load) == 6 and len(work.storage) == 1
    for table in ELEMENT_TABLES:
        pd.testing.assert_frame_equal(net[table], before[table])


def test_stress_case_sizes_match_the_brief(cases):
    assert sum(cases.FACTORY_PEAK_MW.values()) == 165.0
    pv, wind, load = (cases.CASES[k] for k in cases.CASES)
    for case in (pv, wind):
        gen = 4 * case["pv_mw"] + 3 * case["wind_mw"]
        sinks = 165.0 * case["load_share"] + case["electrolyser_mw"] + case["bess_mw"]
        assert gen - sinks == pytest.approx(100.0)  # export before losses
    assert pv["pv_mw"] == 100.0 and wind["wind_mw"] == 100.0
    assert load["pv_mw"] == load["wind_mw"] == 0.0 and load["bess_mw"] == -150.0


@pytest.mark.parametrize("hot", [False, True], ids=["20C", "hot"])
@pytest.mark.parametrize(
    "case_name", ["peak PV, low load", "peak wind, low load", "peak load, no generation"]
)
def test_stress_case_within_limits(net, cases, case_name, hot):
    r = cases.run_case(net, cases.CASES[case_name], hot_conductors=hot)
    assert 0.95 <= r["vm_min_pu"] and r["vm_max_pu"] <= 1.05
    assert r["line_max_percent"] <= 100.0
    assert r["trafo_max_percent"] <= 100.0
    # Feeders are sized for <= ~80 % at full block output.
    assert r["line_max_percent"] <= 80.0
    if case_name.startswith("peak load"):
        assert 150.0 <= r["grid_p_mw"] <= 190.0  # import
    else:
        assert -110.0 <= r["grid_p_mw"] <= -80.0  # export capped at ~100 MW
