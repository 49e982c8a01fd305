"""Network results keep element names, and a results folder holds the park network as run."""

from __future__ import annotations

import json

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest

from parkgrid.io import write_network
from parkgrid.network import build_park_net
from parkgrid.powerflow import run_timeseries_pf
from parkgrid.result import export_csv, load_result

TABLES = ("bus", "line", "trafo", "load", "sgen", "storage", "ext_grid", "switch")


def _same_table(a: pd.DataFrame, b: pd.DataFrame, table: str) -> None:
    # pandapower's JSON gives a missing object value back as None or NaN
    pd.testing.assert_frame_equal(a.where(a.notna(), np.nan), b.where(b.notna(), np.nan),
                                  obj=table)


@pytest.fixture(scope="module")
def saved(flagship_result, tmp_path_factory):
    folder = tmp_path_factory.mktemp("netres") / "flagship"
    flagship_result.save(folder, figure=False)
    return folder


def test_folder_holds_the_park_network_as_run(flagship_result, saved):
    path = saved / "network" / "net.json"
    assert path.is_file()
    net = pp.from_json(str(path))  # what a user does with it: plain pandapower
    park = build_park_net(flagship_result.scenario).net
    for table in TABLES:
        _same_table(net[table], park[table], table)
    # one pandapower element per asset, named after it
    sc = flagship_result.scenario
    assert set(net.load.name) == {a.name for a in (*sc.load, *sc.electrolyser)}
    assert set(net.sgen.name) == {a.name for a in (*sc.pv, *sc.wind)}
    assert set(net.storage.name) == {b.name for b in sc.battery}
    # the scenario's own network has none of them: this is the park as run
    assert len(sc.net.load) == 0 and len(net.load) == len(sc.load) + len(sc.electrolyser)


def test_names_are_saved_beside_the_indices(flagship_result, saved):
    elements = pd.read_parquet(saved / "network" / "elements.parquet")
    assert list(elements.columns) == ["table", "index", "name"]
    net = flagship_result.scenario.net
    for table in ("bus", "line", "trafo", "ext_grid"):
        part = elements[elements.table == table]
        assert list(part["index"]) == list(net[table].index), table
        assert list(part["name"]) == list(net[table].name.astype(str)), table
    assert (elements.table == "trafo3w").sum() == 0 == len(net.trafo3w)


def test_load_result_gives_names_and_net_back(flagship_result, saved, tmp_path):
    back = load_result(saved)
    net = flagship_result.scenario.net
    for table in ("bus", "line", "trafo"):
        assert back.network.names[table].to_dict() == net[table].name.to_dict(), table
    named = back.network.named("vm_pu")
    assert named.columns.names == ["bus", "name"]
    assert list(named.columns) == list(zip(net.bus.index, net.bus.name, strict=True))
    np.testing.assert_array_equal(named.to_numpy(), flagship_result.network.vm_pu.to_numpy())
    park = build_park_net(flagship_result.scenario).net
    for table in TABLES:
        _same_table(back.net[table], park[table], table)
    # saved again from the loaded result: the same network file
    again = back.save(tmp_path / "again", figure=False)
    assert json.loads((again / "network" / "net.json").read_text()) == json.loads(
        (saved / "network" / "net.json").read_text())


def test_export_writes_the_names(saved, tmp_path):
    out = export_csv(saved, tmp_path / "csv")
    table = pd.read_csv(out / "network_elements.csv", keep_default_na=False)
    assert list(table.columns) == ["table", "index", "name"]
    assert "Chemical plant 10kV" in set(table.loc[table.table == "bus", "name"])


def test_duplicate_and_missing_names_stay_unambiguous(tmp_path):
    net = pn.case9()
    net.bus["name"] = ["A", "A", None, "B", "B", "", "C", "D", np.nan]
    net.line["name"] = None
    idx = pd.RangeIndex(2)
    prof = {("load", "p_mw"): pd.DataFrame({i: [float(p)] * 2 for i, p in net.load.p_mw.items()},
                                           index=idx)}
    pf = run_timeseries_pf(net, prof)
    named = pf.named("vm_pu")
    assert named.columns.is_unique
    assert list(named.columns) == [(0, "A"), (1, "A"), (2, ""), (3, "B"), (4, "B"), (5, ""),
                                   (6, "C"), (7, "D"), (8, "")]
    assert set(pf.named("line_loading_percent").columns.get_level_values("name")) == {""}
    write_network(pf, tmp_path / "network", {"x": "1"})
    from parkgrid.io import read_network as _read_network

    back = _read_network(tmp_path / "network")
    assert back.named("vm_pu").columns.equals(named.columns)
    pd.testing.assert_frame_equal(back.vm_pu, pf.vm_pu, check_freq=False)
