"""A network file can never run code: every reader screens ``_module``/``_class`` first.

pandapower's JSON decoder imports the module an object names and calls the named
attribute (pandapower 3.5 blocks some calls, e.g. ``builtins.eval``, but still
imports any module named first). The hostile files here name a module on
``sys.path`` that writes a marker file when imported; the first tests prove that
pandapower alone does run it (so the other tests can fail), the rest that no
parkgrid entry point does, and that every file parkgrid ships still loads.
"""

from __future__ import annotations

import copy
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandapower.control as ctrl
import pandapower.networks as pn
import pandas as pd
import pytest
from pandapower.timeseries import DFData

import parkgrid
from parkgrid.errors import NetworkError, ScenarioError
from parkgrid.network import (
    BUILDERS,
    load_network,
    network_from_json,
    read_network_file,
    screen_network_json,
)
from parkgrid.result import load_result

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP_JSON = ROOT / "networks" / "flagship_park.json"
EVIL = "parkgrid_test_evil_module"


@pytest.fixture(scope="module")
def base_doc() -> dict[str, Any]:
    return json.loads(FLAGSHIP_JSON.read_text())


@pytest.fixture
def marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A module on sys.path that writes *marker* when imported (a stand-in for any code)."""
    mark = tmp_path / "MARKER"
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / f"{EVIL}.py").write_text(
        f"import pathlib\npathlib.Path({str(mark)!r}).write_text('ran')\n\n"
        "class Boom:\n    def __init__(self, *args, **kwargs):\n        pass\n")
    monkeypatch.syspath_prepend(str(mods))
    sys.modules.pop(EVIL, None)
    yield mark
    sys.modules.pop(EVIL, None)


def _evil_object() -> dict[str, str]:
    return {"_module": EVIL, "_class": "Boom", "_object": "{}"}


def hostile_top(doc: dict[str, Any]) -> str:
    """The flagship net with one more top-level entry naming the module."""
    doc = copy.deepcopy(doc)
    doc["_object"]["evil"] = _evil_object()
    return json.dumps(doc)


def hostile_nested(doc: dict[str, Any]) -> str:
    """The module named in a cell of the bus table (a JSON string inside the file)."""
    doc = copy.deepcopy(doc)
    bus = doc["_object"]["bus"]
    payload = json.loads(bus["_object"])
    payload["data"][0][payload["columns"].index("zone")] = _evil_object()
    bus["_object"] = json.dumps(payload)
    return json.dumps(doc)


def hostile_eval(doc: dict[str, Any], mark: Path) -> str:
    """No module of its own: ``builtins.eval`` of a string that writes the marker."""
    doc = copy.deepcopy(doc)
    code = f"open({str(mark)!r}, 'w').write('ran')"
    doc["_object"]["evil"] = {"_module": "builtins", "_class": "eval", "_object": code}
    return json.dumps(doc)


VARIANTS = {"top": ("_object.evil", hostile_top),
            "nested": ("_object.bus._object(json).data[0][", hostile_nested)}


# ------------------------------------------------- the hostile files are real threats
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_pandapower_alone_runs_the_module(variant, base_doc, marker):
    """Without the screen the marker appears: the files below are a real test."""
    text = VARIANTS[variant][1](base_doc)
    try:
        pp.from_json_string(text)
    except Exception:
        pass
    assert marker.exists()


# ------------------------------------------------------------ every entry point refuses
def _refused(exc: BaseException, path: str) -> None:
    msg = str(exc)
    assert path in msg, msg
    assert EVIL in msg, msg


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_load_network_refuses(variant, base_doc, marker, tmp_path):
    path_in_file, make = VARIANTS[variant]
    f = tmp_path / "evil.json"
    f.write_text(make(base_doc))
    with pytest.raises(NetworkError) as err:
        load_network(str(f))
    _refused(err.value, path_in_file)
    assert str(f) in str(err.value)
    with pytest.raises(NetworkError):
        read_network_file(f)
    assert not marker.exists()


def test_eval_is_refused(base_doc, tmp_path):
    mark = tmp_path / "EVAL"
    with pytest.raises(NetworkError, match=r"_object\.evil: module 'builtins' \(class 'eval'\)"):
        network_from_json(hostile_eval(base_doc, mark), "x.json")
    assert not mark.exists()


def _scenario_with_network(tmp_path: Path, network: Path) -> Path:
    text = (ROOT / "examples" / "flagship_park.toml").read_text()
    raw = tomllib.loads(text)
    assert raw["network"]["source"] == "flagship_park"
    toml = tmp_path / "park.toml"
    toml.write_text(text.replace('source = "flagship_park"', f'source = "{network.name}"', 1))
    return toml


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_scenario_refuses(variant, base_doc, marker, tmp_path):
    path_in_file, make = VARIANTS[variant]
    net = tmp_path / "evil.json"
    net.write_text(make(base_doc))
    toml = _scenario_with_network(tmp_path, net)
    with pytest.raises(ScenarioError) as err:
        parkgrid.load_scenario(toml)
    _refused(err.value, path_in_file)
    assert "network.source" in str(err.value)
    assert not marker.exists()


def test_sweep_refuses(base_doc, marker, tmp_path):
    from parkgrid.sweep.run import load_shared_base
    from parkgrid.sweep.spec import load_sweep

    net = tmp_path / "evil.json"
    net.write_text(hostile_nested(base_doc))
    _scenario_with_network(tmp_path, net)
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('[sweep]\nname = "s"\nbase = "park.toml"\nsampling = "grid"\n'
                     'objectives = ["min:co2_t", "min:net_cost_cny"]\n\n[[parameter]]\n'
                     'path = "battery[0].e_mwh"\nvalues = [300.0, 600.0]\n')
    with pytest.raises(ScenarioError) as err:
        load_shared_base(load_sweep(sweep))
    _refused(err.value, "_object.bus._object(json)")
    assert not marker.exists()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_load_result_refuses(variant, flagship_result, base_doc, marker, tmp_path):
    path_in_file, make = VARIANTS[variant]
    folder = flagship_result.save(tmp_path / "res", figure=False)
    net_json = folder / "network" / "net.json"
    assert net_json.is_file()
    net_json.write_text(make(base_doc))
    with pytest.raises(NetworkError) as err:
        load_result(folder)
    _refused(err.value, path_in_file)
    assert str(net_json) in str(err.value)
    assert not marker.exists()


# ------------------------------------------------------------------ what else is refused
def _with_cell(doc: dict[str, Any], value: Any) -> str:
    doc = copy.deepcopy(doc)
    bus = doc["_object"]["bus"]
    payload = json.loads(bus["_object"])
    payload["data"][1][payload["columns"].index("zone")] = value
    bus["_object"] = json.dumps(payload)
    return json.dumps(doc)


@pytest.mark.parametrize("module, cls", [
    ("subprocess", "Popen"),           # a standard-library callable
    ("os", "system"),
    ("pandapower.file_io", "from_json"),  # pandapower, but a function, not a class
    ("pandapower.auxiliary", "function"),
    ("numpy", "load"),
    ("builtins", "exec"),
    ("pandas", "read_pickle"),
])
def test_unlisted_pairs_are_refused(module, cls, base_doc):
    text = _with_cell(base_doc, {"_module": module, "_class": cls, "_object": "x"})
    with pytest.raises(NetworkError, match=rf"module '{module}' \(class '{cls}'\)"):
        screen_network_json(text, "x.json")


def test_json_string_in_a_json_string_is_screened(base_doc):
    inner = json.dumps({"_module": "os", "_class": "system", "_object": "true"})
    text = _with_cell(base_doc, json.dumps(inner))  # a string holding a JSON string
    with pytest.raises(NetworkError, match=r"\(json\)\(json\).*module 'os'"):
        screen_network_json(text, "x.json")


def test_duplicate_keys_are_refused(base_doc):
    # pandas' parser and Python's may keep different ones of two equal keys
    doc = copy.deepcopy(base_doc)
    bus = doc["_object"]["bus"]
    payload = json.loads(bus["_object"])
    payload["data"][0][payload["columns"].index("zone")] = {"_module": "numpy"}
    cell = json.dumps(payload).replace('{"_module": "numpy"}',
                                       '{"_module": "os", "_module": "numpy", '
                                       '"_class": "int64", "_object": 1}')
    bus["_object"] = cell
    with pytest.raises(NetworkError, match="duplicate key '_module'"):
        screen_network_json(json.dumps(doc), "x.json")


def test_table_given_as_a_file_path_is_refused(base_doc, tmp_path):
    # pandapower reads a DataFrame "_object" that is an absolute path ending in .json
    doc = copy.deepcopy(base_doc)
    doc["_object"]["bus"]["_object"] = str(tmp_path / "other.json")
    with pytest.raises(NetworkError, match=r"_object\.bus\._object: the DataFrame data is "
                                           "not JSON"):
        screen_network_json(json.dumps(doc), "x.json")


def test_not_a_network(tmp_path):
    f = tmp_path / "list.json"
    f.write_text("[1, 2, 3]")
    with pytest.raises(NetworkError, match=r"not a (readable )?pandapower (JSON )?network"):
        read_network_file(f)
    f.write_text("{nope")
    with pytest.raises(NetworkError, match="not a readable pandapower JSON network"):
        read_network_file(f)


# ------------------------------------------------------------ what pandapower writes loads
SHIPPED = sorted([*ROOT.glob("networks/*.json"), *ROOT.glob("tests/validation/*/network.json")])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_networks_load(path):
    net = read_network_file(path)
    ref = pp.from_json(str(path))
    for table in ("bus", "line", "trafo", "load", "sgen", "ext_grid", "switch"):
        pd.testing.assert_frame_equal(net[table], ref[table], obj=table)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builders_round_trip(name, tmp_path):
    net = load_network(f"pandapower:{name}+elements")
    f = tmp_path / "net.json"
    pp.to_json(net, str(f))
    back = read_network_file(f)
    for table in ("bus", "line", "trafo", "load", "sgen"):
        assert len(back[table]) == len(net[table]), table


def test_simbench_round_trip(tmp_path):
    pytest.importorskip("simbench")
    net = load_network("simbench:1-LV-semiurb4--0-sw")
    f = tmp_path / "net.json"
    pp.to_json(net, str(f))
    assert len(read_network_file(f).bus) == len(net.bus)


def test_everything_pandapower_writes_loads(tmp_path):
    """Controllers, data sources, numpy scalars and arrays, tuples, sets, Index."""
    net = pn.case9()
    data = DFData(pd.DataFrame({0: [1.0, 2.0], 1: [3.0, 4.0]}))
    ctrl.ConstControl(net, element="load", variable="p_mw", element_index=[0, 1],
                      data_source=data, profile_name=[0, 1])
    net["extras"] = {"t": (1, 2), "s": {3}, "fs": frozenset({4}),
                     "i": np.int64(5), "f": np.float32(1.5), "b": np.bool_(True),
                     "a": np.arange(3), "idx": pd.Index([7, 8])}
    f = tmp_path / "net.json"
    pp.to_json(net, str(f))
    back = read_network_file(f)
    assert type(back.controller.at[0, "object"]).__name__ == "ConstControl"
    assert back.extras["t"] == (1, 2) and back.extras["fs"] == frozenset({4})
    assert back.extras["i"] == 5 and list(back.extras["a"]) == [0, 1, 2]
