"""Network-aware dispatch ([powerflow] enforce) on the one-feeder grid of test_hosting.

Overload case: a 40 MW PV plant behind a cable of max_i_ka = 0.3 (about 18 MW at
35 kV) exports 0.8 x 40 = 32 MW at step 9000 and 20 MW at step 20000: both break
the cable's limit, step 4000 (12 MW) does not. Voltage case: the same plant of
80 MW behind a strong cable (64 and 40 MW at those steps) raises its bus above
1.05 pu; the largest injection that holds 1.05 pu is P* = 34.2 MW by the formula
of test_hosting. Curtailment rule: least total MW on the linearised grid with a
margin of 2e-4 pu / 0.05 % per round, so the enforced step must land inside its
limit and within a small distance of it (not over-curtailed).
"""

from __future__ import annotations

import math

import numpy as np
import pandapower as pp
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_hosting import feeder_net, hand_capacity_mw

import parkgrid
from parkgrid.enforce import NetworkLimits, enforce_limits
from parkgrid.powerflow import Linearisation, run_timeseries_pf
from parkgrid.scenario import scenario_from_dict
from parkgrid.timeseries import TOTALS, asset_column

STEPS = (4000, 9000, 20000)


@pytest.fixture(scope="module")
def profiles(repo_root):
    prof = parkgrid.load_scenario(repo_root / "examples" / "flagship_park.toml").profiles.copy()
    shape = np.zeros(len(prof))
    shape[list(STEPS)] = [0.3, 0.8, 0.5]
    prof["pv_pu"] = shape
    return prof


def run(profiles, p_mw: float, max_i_ka: float, enforce: bool):
    raw = {"scenario": {"name": "feeder", "year": 2025},
           "network": {"source": "feeder"},
           "powerflow": {"steps": list(STEPS), "enforce": enforce},
           "grid": {"bus": "Grid 35kV", "import_limit_mw": math.inf,
                    "export_limit_mw": math.inf},
           "pv": [{"name": "PV", "bus": "PV 35kV", "p_mw": p_mw}]}
    sc = scenario_from_dict(raw, net=feeder_net(max_i_ka), profiles=profiles)
    return parkgrid.simulate(sc)


def runpp_step(max_i_ka: float, p_mw: float):
    net = feeder_net(max_i_ka)
    pp.create_sgen(net, 1, p_mw=p_mw)
    pp.runpp(net, tolerance_mva=1e-10)
    return net


def test_overload_enforced_checked_with_runpp(profiles):
    off = run(profiles, 40.0, 0.3, enforce=False)
    on = run(profiles, 40.0, 0.3, enforce=True)
    assert off.kpis["steps_overloaded"] == 2 and on.kpis["steps_overloaded"] == 0
    assert on.kpis["network_enforced_steps"] == 2 and on.kpis["network_unresolved_steps"] == 0
    col = asset_column("pv", "PV", "p_mw")
    for t in (9000, 20000):
        p = float(on.timeseries[col].iloc[t])
        loading = runpp_step(0.3, p).res_line.loading_percent.iloc[0]
        assert 99.0 <= loading <= 100.0  # holds, and not curtailed far below the limit
        assert on.timeseries["curtailed_network_mw"].iloc[t] == pytest.approx(
            off.timeseries[col].iloc[t] - p, abs=1e-12)
    # steps that hold are not touched; the slack takes every MW curtailed
    assert on.timeseries[col].iloc[4000] == off.timeseries[col].iloc[4000]
    assert on.timeseries["curtailed_network_mw"].drop(
        on.timeseries.index[[9000, 20000]]).eq(0).all()
    cut = on.timeseries["curtailed_network_mw"].sum() * 0.25
    assert on.kpis["curtailed_network_mwh"] == pytest.approx(cut)
    assert off.kpis["exported_mwh"] - on.kpis["exported_mwh"] == pytest.approx(cut)
    assert on.kpis["curtailed_mwh"] == off.kpis["curtailed_mwh"]
    assert {c for c in on.timeseries.columns if "." not in c} <= set(TOTALS)


def test_voltage_rise_enforced_to_hand_capacity(profiles):
    on = run(profiles, 80.0, 10.0, enforce=True)
    p_star = hand_capacity_mw() * 0.8  # largest injection [MW] that keeps 1.05 pu
    col = asset_column("pv", "PV", "p_mw")
    for t in (9000, 20000):
        p = float(on.timeseries[col].iloc[t])
        assert p_star - 0.5 <= p <= p_star
        assert runpp_step(10.0, p).res_bus.vm_pu.max() <= 1.05
    assert on.kpis["steps_voltage_violation"] == 0


def test_enforce_off_is_the_plain_run(profiles):
    """No violation: enforce changes nothing but adds its columns and KPIs."""
    off = run(profiles, 10.0, 10.0, enforce=False)
    on = run(profiles, 10.0, 10.0, enforce=True)
    assert "curtailed_network_mw" not in off.timeseries
    assert "curtailed_network_mwh" not in off.kpis
    pd.testing.assert_frame_equal(on.timeseries.drop(columns="curtailed_network_mw"),
                                  off.timeseries)
    for key, value in off.kpis.items():
        assert on.kpis[key] == value or (np.isnan(value) and np.isnan(on.kpis[key])), key


@settings(max_examples=5, deadline=None)
@given(p=st.lists(st.floats(0.0, 45.0), min_size=3, max_size=3),
       max_i_ka=st.floats(0.2, 1.0))
def test_enforcement_invariants(p, max_i_ka):
    """Curtailment in [0, output]; steps that held are unchanged; touched steps hold."""
    net = feeder_net(max_i_ka)
    sg = pp.create_sgen(net, 1, p_mw=0.0)
    idx = pd.RangeIndex(3)
    prof = {("sgen", "p_mw"): pd.DataFrame({sg: p}, index=idx),
            ("sgen", "q_mvar"): pd.DataFrame({sg: np.zeros(3)}, index=idx)}
    pf = run_timeseries_pf(net, prof)
    plants = pd.DataFrame({"sgen": [sg], "q_per_p": [0.0]})
    new, pf2, curt, left = enforce_limits(net, prof, pf, plants, limits=NetworkLimits())
    assert (curt >= 0).all() and (curt[:, 0] <= np.asarray(p) + 1e-12).all()
    load0 = pf.line_loading_percent.to_numpy()[:, 0]
    vm0 = pf.vm_pu.to_numpy().max(axis=1)
    held = (load0 <= 100.0) & (vm0 <= 1.05)
    assert (curt[held] == 0).all()
    load = pf2.line_loading_percent.to_numpy()[:, 0]
    assert not left.any()
    assert (load <= 100.0 + 1e-7).all() and (pf2.vm_pu.to_numpy() <= 1.05 + 1e-9).all()
    np.testing.assert_allclose(new[("sgen", "p_mw")][sg].to_numpy(), np.asarray(p) - curt[:, 0])


@settings(max_examples=4, deadline=None)
@given(p=st.floats(0.0, 30.0), q_per_p=st.floats(-0.5, 0.5), load_mw=st.floats(0.0, 20.0))
def test_sensitivities_match_runpp_differences(p, q_per_p, load_mw):
    """Jacobian sensitivities against central differences of pandapower's runpp."""
    net = feeder_net(1.0)
    pp.create_load(net, 1, p_mw=load_mw, q_mvar=0.3 * load_mw)
    sg = pp.create_sgen(net, 1, p_mw=p, q_mvar=p * q_per_p)
    prof = {("sgen", "p_mw"): pd.DataFrame({sg: [p]}), ("sgen", "q_mvar"):
            pd.DataFrame({sg: [p * q_per_p]})}
    pp.runpp(net, tolerance_mva=1e-12)
    lin = Linearisation(net, prof)
    dvm, dload = lin.sensitivities(net.res_bus.vm_pu.to_numpy(), net.res_bus.va_degree.to_numpy(),
                                   np.array([1]), np.array([q_per_p]))
    h = 0.01
    vals = []
    for sign in (1, -1):
        net.sgen.loc[sg, ["p_mw", "q_mvar"]] = [p + sign * h, (p + sign * h) * q_per_p]
        pp.runpp(net, tolerance_mva=1e-12)
        vals.append((net.res_bus.vm_pu.to_numpy(), net.res_line.loading_percent.to_numpy()))
    fd_vm = (vals[0][0] - vals[1][0]) / (2 * h)
    fd_ld = (vals[0][1] - vals[1][1]) / (2 * h)
    np.testing.assert_allclose(dvm[:, 0], fd_vm, atol=1e-7)
    if abs(p * 1 - load_mw) > 0.5:  # |I| is not differentiable where the flow turns
        np.testing.assert_allclose(dload[:, 0], fd_ld, rtol=1e-4, atol=1e-6)


def test_enforce_with_voltage_control_is_refused(profiles):
    raw = {"scenario": {"name": "feeder", "year": 2025},
           "network": {"source": "feeder"},
           "powerflow": {"steps": list(STEPS), "enforce": True},
           "grid": {"bus": "Grid 35kV", "import_limit_mw": math.inf,
                    "export_limit_mw": math.inf},
           "pv": [{"name": "PV", "bus": "PV 35kV", "p_mw": 10.0, "q_control": "q_u"}]}
    sc = scenario_from_dict(raw, net=feeder_net(10.0), profiles=profiles)
    with pytest.raises(parkgrid.ScenarioError, match=r"powerflow.enforce.*pv.PV"):
        parkgrid.simulate(sc)
