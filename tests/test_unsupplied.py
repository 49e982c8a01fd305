"""Buses cut off from the grid are named, measured and counted: never a silent NaN.

Hand cases on pandapower's case9 (bus index 4, named 5, carries a 90 MW load; its
two lines are lines 1 and 2) and a flagship year with a cable out for six hours
of one day, checked against the dispatch time series of the assets on the buses
that cable feeds.
"""

from __future__ import annotations

import copy
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest

import parkgrid
from parkgrid.errors import PowerFlowError
from parkgrid.kpis import NETWORK_KPI_INFO, network_kpis
from parkgrid.network import unsupplied_buses
from parkgrid.powerflow import (
    TimeseriesPF,
    UnsuppliedBusWarning,
    run_reference_pf,
    run_timeseries_pf,
)
from parkgrid.scenario import scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SCALE = np.array([1.0, 0.5, 0.8, 1.2])  # per-step factor on every case9 load
RUNNERS = {"kernel": run_timeseries_pf, "reference": run_reference_pf}


def _case9_bus5_cut(sgen_mw: float = 0.0) -> pp.pandapowerNet:
    net = pn.case9()
    assert net.load.at[0, "bus"] == 4 and net.load.at[0, "p_mw"] == 90.0
    assert {int(net.line.at[i, "from_bus"]) for i in (1, 2)} | {
        int(net.line.at[i, "to_bus"]) for i in (1, 2)} >= {4}
    net.line.loc[[1, 2], "in_service"] = False
    if sgen_mw:
        pp.create_sgen(net, 4, p_mw=sgen_mw, name="roof PV")
    return net


def _profiles(net: pp.pandapowerNet) -> dict[tuple[str, str], pd.DataFrame]:
    idx = pd.RangeIndex(len(SCALE), name="step")
    return {("load", "p_mw"): pd.DataFrame(
        {i: float(net.load.at[i, "p_mw"]) * SCALE for i in net.load.index}, index=idx)}


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_case9_isolated_bus_is_reported(runner):
    net = _case9_bus5_cut(sgen_mw=20.0)
    with pytest.warns(UnsuppliedBusWarning) as record:
        pf = RUNNERS[runner](net, _profiles(net))
    msg = str(record[0].message)
    # bus 4 named '5': 90 MW x 1.2 at most, and the 20 MW sgen
    assert "1 bus in service has no connection" in msg
    assert "bus 4 '5' (load up to 108 MW, generation up to 20 MW)" in msg, msg
    assert pf.converged.all()
    assert pf.vm_pu[4].isna().all() and pf.vm_pu.drop(columns=4).notna().all().all()
    assert list(pf.unsupplied_buses) == [(4,)] * 4
    np.testing.assert_allclose(pf.unsupplied_load_mw.to_numpy(), 90.0 * SCALE, rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose(pf.unsupplied_gen_mw.to_numpy(), [20.0] * 4, rtol=0, atol=0)
    kpis = network_kpis(pf, dt_h=0.25)
    assert kpis["pf_unsupplied_buses"] == 1
    assert kpis["pf_unsupplied_steps"] == 4
    # 90 MW x (1 + 0.5 + 0.8 + 1.2) x 0.25 h = 78.75 MWh
    assert kpis["pf_not_served_mwh"] == pytest.approx(78.75, abs=1e-9)
    assert kpis["pf_isolated_generation_mwh"] == pytest.approx(20.0 * 4 * 0.25, abs=1e-12)


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_raise_on_unsupplied(runner):
    net = _case9_bus5_cut()
    with pytest.raises(PowerFlowError, match=r"bus 4 '5' \(load up to 108 MW"):
        RUNNERS[runner](net, _profiles(net), raise_on_unsupplied=True)


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_connected_net_says_nothing(runner):
    net = pn.case9()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnsuppliedBusWarning)
        pf = RUNNERS[runner](net, _profiles(net), raise_on_unsupplied=True)
    assert list(pf.unsupplied_buses) == [()] * 4
    assert (pf.unsupplied_load_mw == 0).all()
    kpis = network_kpis(pf, dt_h=0.25)
    assert (kpis["pf_unsupplied_buses"], kpis["pf_not_served_mwh"]) == (0, 0)


def _variants():
    """Nets with buses cut off in different ways (lines, an open switch, a trafo)."""
    out = {}
    net = _case9_bus5_cut()
    out["case9 bus 5"] = net
    net = pn.case9()
    net.line.loc[[1, 2, 4, 5], "in_service"] = False  # buses 4 and 5/6 parts
    out["case9 two islands"] = net
    net = pn.create_cigre_network_mv(with_der="pv_wind")
    cb = net.switch.index[(net.switch.et == "t") & (net.switch.element == 1)]
    net.switch.loc[cb, "closed"] = False  # the breaker of feeder 2's transformer
    out["cigre open trafo breaker"] = net
    net = pn.create_cigre_network_mv(with_der="pv_wind")
    net.trafo.loc[0, "in_service"] = False
    out["cigre trafo 0 out"] = net
    return out


@pytest.mark.parametrize("name", sorted(_variants()))
def test_kernel_agrees_with_the_topology_function(name):
    """The kernel's set (pandapower's connectivity check) is scenario validation's set."""
    net = _variants()[name]
    expected = unsupplied_buses(net)
    assert expected, "each variant cuts something off"
    profiles = {("load", "p_mw"): pd.DataFrame(
        [net.load.p_mw.to_numpy()] * 2, columns=net.load.index)}
    with pytest.warns(UnsuppliedBusWarning):
        pf = run_timeseries_pf(net, profiles)
    assert set(pf.unsupplied_buses.iloc[0]) == expected
    with pytest.warns(UnsuppliedBusWarning):
        ref = run_reference_pf(net, profiles)
    assert list(ref.unsupplied_buses) == list(pf.unsupplied_buses)
    np.testing.assert_allclose(ref.unsupplied_load_mw, pf.unsupplied_load_mw, rtol=0, atol=0)
    # voltages are NaN exactly there
    nan_buses = set(pf.vm_pu.columns[pf.vm_pu.isna().all()])
    assert nan_buses >= expected


def test_old_results_without_the_fields_say_nothing_cut():
    idx = pd.RangeIndex(3)
    empty = pd.DataFrame(index=idx)
    pf = TimeseriesPF(*(empty,) * 8, *(pd.Series(np.zeros(3), index=idx),) * 5)
    assert list(pf.unsupplied_buses) == [(), (), ()]
    assert network_kpis(pf, dt_h=0.25)["pf_unsupplied_steps"] == 0


def test_kpi_definitions_are_listed():
    for name in ("pf_unsupplied_buses", "pf_unsupplied_steps", "pf_not_served_mwh",
                 "pf_isolated_generation_mwh"):
        assert name in NETWORK_KPI_INFO
        assert f"| `{name}` |" in (ROOT / "README.md").read_text()


# ------------------------------------------------ a cable outage in some steps of a run
def test_cable_outage_cuts_off_buses_in_its_steps_only():
    raw = tomllib.loads((ROOT / "examples" / "flagship_park.toml").read_text())
    raw = copy.deepcopy(raw)
    raw.setdefault("event", []).append({"kind": "maintenance", "target": "Chemical plant cable",
                                        "start": "2025-07-10 10:00", "duration_h": 6.0})
    scenario = scenario_from_dict(raw, source="flagship+cable", base_dir=ROOT / "examples")
    with pytest.warns(UnsuppliedBusWarning, match="Chemical plant 10kV"):
        result = parkgrid.simulate(scenario, pf_steps="day:191")  # 10 July 2025
    pf = result.network
    ts = result.timeseries
    assert len(pf.steps) == 96
    net = scenario.net
    cut_names = {"Chemical plant 35kV", "Chemical plant 10kV"}
    cut = tuple(sorted(int(i) for i in net.bus.index[net.bus.name.isin(cut_names)]))
    tz = pf.steps.tz  # results carry the park's fixed offset
    out = (pf.steps >= pd.Timestamp("2025-07-10 10:00", tz=tz)) & (
        pf.steps < pd.Timestamp("2025-07-10 16:00", tz=tz))
    assert out.sum() == 24
    assert [b for b, o in zip(pf.unsupplied_buses, out, strict=True) if o] == [cut] * 24
    assert all(b == () for b, o in zip(pf.unsupplied_buses, out, strict=True) if not o)
    # the dispatch served the chemical plant; the network could not
    on_cut = [f"{kind}.{a.name}.p_mw" for kind in ("load", "electrolyser", "pv", "wind")
              for a in getattr(scenario, kind) if a.bus in cut_names]
    assert on_cut == ["load.Chemical plant.p_mw"]
    served = ts.loc[pf.steps, on_cut].sum(axis=1).to_numpy()
    np.testing.assert_allclose(pf.unsupplied_load_mw.to_numpy(), np.where(out, served, 0.0),
                               rtol=1e-12, atol=1e-12)
    assert served[out].min() > 0
    k = result.kpis
    assert k["pf_unsupplied_buses"] == 2
    assert k["pf_unsupplied_steps"] == 24
    assert k["pf_not_served_mwh"] == pytest.approx(served[out].sum() * 0.25, rel=1e-12)
    assert pf.vm_pu.loc[out, list(cut)].isna().all().all()
    assert pf.vm_pu.loc[~out, list(cut)].notna().all().all()
