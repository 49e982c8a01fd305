"""The flagship park end to end: a full year, invariants, power flow, saving."""

from __future__ import annotations

import copy
import json
import os

import numpy as np
import pandapower as pp
import pandas as pd
import pyarrow.parquet as pq
import pytest

import parkgrid
from parkgrid.network import build_park_net, pf_profiles
from parkgrid.powerflow import UnsuppliedBusWarning
from parkgrid.result import scenario_hash

TOL = 1e-9
pytestmark = pytest.mark.slow


def test_full_year_shape_and_energy_balance(flagship_result):
    ts = flagship_result.timeseries
    assert len(ts) == 35040
    assert ts.index[0] == pd.Timestamp("2025-01-01 00:00+08:00")
    assert ts.index[-1] == pd.Timestamp("2025-12-31 23:45+08:00")
    lhs = ts.res_avail_mw - ts.curtailed_mw + ts.grid_import_mw + ts.bat_discharge_mw
    rhs = (ts.load_mw - ts.unserved_mw + ts.bat_charge_mw + ts.electrolyser_mw
           + ts.grid_export_mw)
    assert np.max(np.abs(lhs - rhs)) < TOL


def test_full_year_invariants(flagship_result):
    s, ts = flagship_result.scenario, flagship_result.timeseries
    bat = s.battery[0]
    soc = ts[f"battery.{bat.name}.soc_pu"]
    assert soc.min() >= bat.soc_min_pu - TOL and soc.max() <= bat.soc_max_pu + TOL
    assert ts.h2_tank_kg.min() >= -TOL and ts.h2_tank_kg.max() <= s.hydrogen.capacity_kg + TOL
    assert not ((ts.bat_charge_mw > TOL) & (ts.bat_discharge_mw > TOL)).any()
    for c in ("curtailed_mw", "unserved_mw", "h2_produced_kg", "grid_import_mw",
              "grid_export_mw"):
        assert ts[c].min() >= 0, c
    assert ts.grid_import_mw.max() <= s.grid.import_limit_mw + TOL
    assert ts.grid_export_mw.max() <= s.grid.export_limit_mw + TOL
    el = s.electrolyser[0]
    np.testing.assert_allclose(ts.h2_produced_kg, ts.electrolyser_mw * 0.25 * 1000 / el.kwh_per_kg,
                               rtol=1e-12, atol=TOL)
    on = ts.electrolyser_mw > 0
    assert (ts.electrolyser_mw[on] >= el.min_load_pu * el.p_mw - TOL).all()


def test_available_energy_follows_the_profiles(flagship_result):
    """KPIs recomputed from the profile file, independently of the pipeline."""
    s = flagship_result.scenario
    prof = s.profiles
    pv = sum(a.p_mw for a in s.pv) * prof["pv_pu"].sum() * 0.25
    wind = sum(a.p_mw for a in s.wind) * prof["wind_pu"].sum() * 0.25
    k = flagship_result.kpis
    assert k["pv_available_mwh"] == pytest.approx(pv, rel=1e-12)
    assert k["wind_available_mwh"] == pytest.approx(wind, rel=1e-12)
    load = sum(ld.peak_mw * prof[ld.profile].sum() / prof[ld.profile].max() * 0.25
               for ld in s.load)
    assert k["load_mwh"] == pytest.approx(load, rel=1e-12)
    assert 0 < k["self_consumption_ratio"] < 1
    assert k["co2_t"] == pytest.approx(k["imported_mwh"] * 0.6849, rel=1e-12)


def test_reference_powerflow_equals_direct_runpp(flagship_result):
    """The pipeline's power flow against runpp on the same injections, built by hand."""
    s, pf = flagship_result.scenario, flagship_result.network
    assert pf is not None and len(pf.converged) == 96 and pf.converged.all()
    park = build_park_net(s)
    ts = flagship_result.timeseries
    for step in (pf.vm_pu.index[10], pf.vm_pu.index[50]):
        net = copy.deepcopy(park.net)
        row = ts.loc[step]
        for (kind, name), (table, idx) in park.elements.items():
            asset = next(a for a in getattr(s, kind) if a.name == name)
            p = row[f"{kind}.{name}.p_mw"] if kind != "battery" else row[f"battery.{name}.p_mw"]
            net[table].at[idx, "p_mw"] = p
            cos_phi = getattr(asset, "cos_phi", 1.0)
            net[table].at[idx, "q_mvar"] = p * np.tan(np.arccos(cos_phi))
        pp.runpp(net, tolerance_mva=1e-10)
        np.testing.assert_allclose(pf.vm_pu.loc[step].to_numpy(), net.res_bus.vm_pu.to_numpy(),
                                   atol=1e-6)
        np.testing.assert_allclose(pf.va_degree.loc[step].to_numpy(),
                                   net.res_bus.va_degree.to_numpy(), atol=1e-4)
        np.testing.assert_allclose(pf.line_loading_percent.loc[step].to_numpy(),
                                   net.res_line.loading_percent.to_numpy(), atol=1e-4)
        assert float(pf.ext_grid_p_mw.loc[step].sum()) == pytest.approx(
            float(net.res_ext_grid.p_mw.sum()), abs=1e-6)


def test_slack_exchange_is_dispatch_exchange_plus_losses(flagship_result):
    pf, ts = flagship_result.network, flagship_result.timeseries
    slack = pf.ext_grid_p_mw.sum(axis=1)
    expected = ts.grid_p_mw.loc[slack.index] + pf.losses_mw
    np.testing.assert_allclose(slack.to_numpy(), expected.to_numpy(), atol=1e-6)
    assert (pf.losses_mw > 0).all()


def test_pf_profiles_match_dispatch(flagship_result):
    s, ts = flagship_result.scenario, flagship_result.timeseries
    park = build_park_net(s)
    prof = pf_profiles(s, park, ts.iloc[:5])
    sgen_p = prof[("sgen", "p_mw")].sum(axis=1)
    np.testing.assert_allclose(sgen_p, (ts.res_avail_mw - ts.curtailed_mw).iloc[:5], atol=1e-9)
    assert s.net is not park.net and len(s.net.sgen) == 0  # the user's net is untouched


def test_save_writes_traceable_folder(flagship_result, tmp_path):
    out = flagship_result.save(tmp_path / "res")
    names = {p.name for p in out.iterdir()}
    assert {"timeseries.parquet", "kpis.json", "scenario.json", "scenario.toml",
            "dispatch.png", "network"} <= names
    meta = pq.read_schema(out / "timeseries.parquet").metadata
    assert meta[b"parkgrid.scenario_hash"].decode() == scenario_hash(flagship_result.scenario)
    back = pd.read_parquet(out / "timeseries.parquet")
    # Parquet keeps the zone as "+08:00"; pyarrow may read it as a pytz offset
    assert back.index[0].isoformat() == "2025-01-01T00:00:00+08:00"
    back.index = back.index.tz_convert(flagship_result.timeseries.index.tz)
    pd.testing.assert_frame_equal(back, flagship_result.timeseries, check_freq=False)
    kpis = json.loads((out / "kpis.json").read_text())["kpis"]
    assert kpis["imported_mwh"] == pytest.approx(back.grid_import_mw.sum() * 0.25)
    vm = pd.read_parquet(out / "network" / "vm_pu.parquet")
    assert vm.shape == (96, len(flagship_result.scenario.net.bus))
    with pytest.raises(parkgrid.ResultExistsError):
        flagship_result.save(out)
    assert (out / "kpis.json").exists()


def test_failed_save_leaves_nothing_behind(flagship_result, tmp_path, monkeypatch):
    import parkgrid.plotting

    def boom(result):
        raise RuntimeError("disk full")

    monkeypatch.setattr(parkgrid.plotting, "dispatch_figure", boom)
    with pytest.raises(RuntimeError):
        flagship_result.save(tmp_path / "res")
    assert os.listdir(tmp_path) == []
    # an existing folder survives a failed overwrite untouched
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "keep.txt").write_text("old")
    with pytest.raises(RuntimeError):
        flagship_result.save(tmp_path / "res", overwrite=True)
    assert (tmp_path / "res" / "keep.txt").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["res"]


def test_same_scenario_same_results(flagship_result):
    again = parkgrid.simulate(flagship_result.scenario, pf_steps="none")
    pd.testing.assert_frame_equal(again.timeseries, flagship_result.timeseries)
    assert scenario_hash(again.scenario) == scenario_hash(flagship_result.scenario)


def test_readme_defines_every_kpi_word_for_word(repo_root):
    from parkgrid.kpis import KPI_INFO

    text = (repo_root / "README.md").read_text()
    for name, (unit, definition) in KPI_INFO.items():
        assert f"| `{name}` | {unit} | {definition} |" in text, name


def test_builtin_cigre_network_example(repo_root):
    """pandapower's CIGRE MV by builder name: its own loads/sgens dropped, ours placed."""
    s = parkgrid.load_scenario(repo_root / "examples" / "cigre_mv_park.toml")
    assert len(s.net.load) == 0 and len(s.net.sgen) == 0
    r = parkgrid.simulate(s)
    assert r.network is not None and bool(r.network.converged.all())
    assert r.kpis["pf_steps"] == 96
    park = build_park_net(s)
    assert len(park.net.load) == len(s.load) + len(s.electrolyser)
    assert len(park.net.sgen) == len(s.pv) + len(s.wind)


def test_flagship_year_with_events(repo_root):
    """The events example end to end: islanding, outages, trucks, trailers, coal."""
    s = parkgrid.load_scenario(repo_root / "examples" / "flagship_events.toml")
    r = parkgrid.simulate(s, pf_steps="none")
    ts, k = r.timeseries, r.kpis
    lhs = (ts.res_avail_mw - ts.curtailed_mw + ts.grid_import_mw + ts.bat_discharge_mw
           + ts.coal_mw)
    rhs = (ts.load_mw - ts.unserved_mw + ts.bat_charge_mw + ts.electrolyser_mw
           + ts.grid_export_mw + ts.dumped_mw)
    assert np.max(np.abs(lhs - rhs)) < 1e-8
    # the scheduled 3 h grid outage is islanded (forced ones add to it)
    start = pd.Timestamp("2025-07-20 14:00+08:00")
    window = ts.loc[start:start + pd.Timedelta("2h45min")]
    assert len(window) == 12 and (window.islanded == 1).all()
    assert (window.grid_import_mw == 0).all() and (window.grid_export_mw == 0).all()
    assert k["islanded_hours"] >= 3.0
    # battery maintenance: no battery power for 48 h from 7 April 08:00
    bess = ts.loc["2025-04-07 08:00":"2025-04-09 07:45", "battery.BESS.p_mw"]
    assert len(bess) == 192 and (bess == 0).all()
    # trucks and trailers happened and are accounted for
    assert k["trucks_charged"] > 3000
    assert k["truck_energy_mwh"] == pytest.approx(k["trucks_charged"] * 0.35, rel=1e-9)
    assert k["h2_delivered_share"] <= 1.0
    assert k["coal_starts"] > 0 and k["coal_co2_t"] == pytest.approx(
        k["coal_mwh"] * 300 * 2.77 / 1000, rel=1e-12)
    assert 0.95 < k["battery_capacity_end_pu"] < 1.0  # LFP preset: calendar + cycle fade
    assert k["engine_events"] >= 500


def test_line_maintenance_changes_the_power_flow_topology(repo_root):
    """A feeder cable out for 2 h: those steps are solved with the line out of service."""
    import tomllib

    raw = tomllib.loads((repo_root / "examples" / "flagship_park.toml").read_text())
    raw["event"] = [{"kind": "maintenance", "target": "PV-A cable 1",
                     "start": "2025-07-09 10:00", "duration_h": 2.0}]
    raw["powerflow"]["steps"] = "day:190"
    s = parkgrid.scenario_from_dict(raw, source="x.toml", base_dir=repo_root / "examples")
    # the cable feeds PV-A: its feeder is cut off (and said so) while it is out
    with pytest.warns(UnsuppliedBusWarning, match="bus 6 'PV-A 35kV'"):
        r = parkgrid.simulate(s)
    pf, ts = r.network, r.timeseries
    idx = pf.vm_pu.index
    out = (idx >= "2025-07-09 10:00") & (idx < "2025-07-09 12:00")
    assert out.sum() == 8 and bool(pf.converged.all())
    feeder = tuple(int(b) for b in s.net.bus.index[s.net.bus.name.str.startswith("PV-A")])
    assert list(pf.unsupplied_buses[out]) == [feeder] * 8
    assert list(pf.unsupplied_buses[~out]) == [()] * int((~out).sum())
    pv_a = ts.loc[idx, "pv.PV-A.p_mw"].to_numpy()
    np.testing.assert_allclose(pf.unsupplied_gen_mw.to_numpy(), np.where(out, pv_a, 0.0),
                               rtol=1e-12, atol=1e-12)
    assert r.kpis["pf_isolated_generation_mwh"] == pytest.approx(pv_a[out].sum() * 0.25)
    assert pf.line_loading_percent.loc[out, 0].isna().all()  # the line is out
    assert (pf.line_loading_percent.loc[~out, 0] > 0).all()
    # one outage step against runpp on a copy with the line out of service
    park = build_park_net(s)
    net = copy.deepcopy(park.net)
    net.line.loc[0, "in_service"] = False
    step = idx[out][3]
    row = ts.loc[step]
    for (kind, name), (table, i) in park.elements.items():
        asset = next(a for a in getattr(s, kind) if a.name == name)
        p = row[f"{kind}.{name}.p_mw"]
        net[table].at[i, "p_mw"] = p
        net[table].at[i, "q_mvar"] = p * np.tan(np.arccos(getattr(asset, "cos_phi", 1.0)))
    pp.runpp(net, tolerance_mva=1e-10)
    supplied = net.res_bus.vm_pu.notna()
    np.testing.assert_allclose(pf.vm_pu.loc[step][supplied].to_numpy(),
                               net.res_bus.vm_pu[supplied].to_numpy(), atol=1e-6)
    assert pf.vm_pu.loc[step][~supplied].isna().all() and (~supplied).sum() >= 4


def test_time_series_columns_follow_the_contract(flagship_result):
    from parkgrid.timeseries import ASSET_QUANTITIES, TOTALS

    cols = list(flagship_result.timeseries.columns)
    totals = [c for c in cols if "." not in c]
    assert set(totals) <= set(TOTALS), set(totals) - set(TOTALS)
    for c in cols:
        if "." in c:
            kind, quantity = c.split(".", 1)[0], c.rsplit(".", 1)[1]
            assert quantity in ASSET_QUANTITIES[kind], c
