"""Hosting capacity on a one-feeder grid, checked by hand and by pandapower's runpp.

The grid: a 35 kV slack bus (1.0 pu) and one cable of R = 2 ohm, X = 3 ohm (no
charging) to the bus "PV 35kV"; nothing else. A plant injecting P (unity power
factor) at the far end raises its voltage to |V2| with (V1 = 1 pu)::

    |V1|^2 |V2|^2 = (|V2|^2 - R P)^2 + (X P)^2          (all in pu)

so the voltage reaches vmax at the smaller root P* of
``(R^2 + X^2) P^2 - 2 vmax^2 R P + vmax^4 - vmax^2 = 0``; the capacity is
``P* x sn_mva / max(profile)``. With vmax = 1.05, R = 2/1225, X = 3/1225 pu
(Z base 35^2 / 1 MVA): a = 8.66e-6, b = -3.60e-3, c = 0.1130, P* = 34.2 pu =
34.2 MW, and the capacity is 34.2 / 0.8 = 42.8 MW (the profile peaks at 0.8).
"""

from __future__ import annotations

import math

import numpy as np
import pandapower as pp
import pytest

from parkgrid.enforce import NetworkLimits
from parkgrid.errors import ScenarioError
from parkgrid.hosting import hosting_capacity
from parkgrid.scenario import scenario_from_dict


def feeder_net(max_i_ka: float = 10.0):
    net = pp.create_empty_network(sn_mva=1.0)
    b0 = pp.create_bus(net, 35.0, name="Grid 35kV")
    b1 = pp.create_bus(net, 35.0, name="PV 35kV")
    pp.create_ext_grid(net, b0, vm_pu=1.0)
    pp.create_line_from_parameters(net, b0, b1, length_km=10.0, r_ohm_per_km=0.2,
                                   x_ohm_per_km=0.3, c_nf_per_km=0.0, max_i_ka=max_i_ka,
                                   name="feeder")
    return net


@pytest.fixture(scope="module")
def year_profiles(flagship_profiles):
    prof = flagship_profiles.copy()
    shape = np.zeros(len(prof))
    shape[[4000, 9000, 20000]] = [0.3, 0.8, 0.5]  # peak 0.8 at step 9000
    prof["pv_pu"] = shape
    return prof


@pytest.fixture(scope="module")
def flagship_profiles(repo_root):
    import parkgrid

    return parkgrid.load_scenario(repo_root / "examples" / "flagship_park.toml").profiles


def feeder_scenario(profiles, max_i_ka: float = 10.0):
    raw = {"scenario": {"name": "feeder", "year": 2025},
           "network": {"source": "feeder"},
           "powerflow": {"steps": "none"},
           "grid": {"bus": "Grid 35kV", "import_limit_mw": math.inf,
                    "export_limit_mw": math.inf}}
    return scenario_from_dict(raw, net=feeder_net(max_i_ka), profiles=profiles)


def hand_capacity_mw(vmax: float = 1.05, peak: float = 0.8) -> float:
    zb = 35.0**2 / 1.0
    r, x = 2.0 / zb, 3.0 / zb
    a, b, c = r * r + x * x, -2 * vmax**2 * r, vmax**4 - vmax**2
    p = (-b - math.sqrt(b * b - 4 * a * c)) / (2 * a)
    return p * 1.0 / peak


def runpp_at(scenario, cap_mw: float, shape_value: float):
    net = feeder_net(scenario.net.line.max_i_ka.iloc[0])
    pp.create_sgen(net, 1, p_mw=cap_mw * shape_value)
    pp.runpp(net, tolerance_mva=1e-10)
    return net


def test_voltage_rise_capacity_matches_hand_formula_and_runpp(year_profiles):
    sc = feeder_scenario(year_profiles)
    res = hosting_capacity(sc, asset="pv", buses=["PV 35kV"], tol_mw=0.05)
    row = res.table.loc["PV 35kV"]
    expect = hand_capacity_mw()
    assert row["bounded"]
    assert row["capacity_mw"] <= expect <= row["first_violation_mw"]
    assert row["first_violation_mw"] - row["capacity_mw"] <= 0.05
    assert row["quantity"] == "vm_max_pu" and row["element"] == "bus PV 35kV"
    assert row["step"].strftime("%m-%d %H:%M") == sc.profiles.index[9000].strftime("%m-%d %H:%M")
    # pandapower: just inside holds, just outside breaks the band
    assert runpp_at(sc, row["capacity_mw"], 0.8).res_bus.vm_pu.max() <= 1.05
    assert runpp_at(sc, row["first_violation_mw"], 0.8).res_bus.vm_pu.max() > 1.05


def test_loading_bound_capacity_checked_with_runpp(year_profiles):
    sc = feeder_scenario(year_profiles, max_i_ka=0.3)  # ~18 MW at 35 kV
    res = hosting_capacity(sc, asset="pv", buses=["PV 35kV"], tol_mw=0.05,
                           limits=NetworkLimits(vm_max_pu=1.10))
    row = res.table.loc["PV 35kV"]
    assert row["quantity"] == "loading_percent" and row["element"] == "line feeder"
    inside = runpp_at(sc, row["capacity_mw"], 0.8).res_line.loading_percent.iloc[0]
    outside = runpp_at(sc, row["first_violation_mw"], 0.8).res_line.loading_percent.iloc[0]
    assert inside <= 100.0 < outside
    # the current limit by hand: |I| = |S| / (sqrt3 |V|), so P ~ sqrt3 V I / peak
    assert row["capacity_mw"] == pytest.approx(math.sqrt(3) * 35.0 * 0.3 / 0.8, rel=0.06)


def test_unbounded_and_bad_input(year_profiles):
    sc = feeder_scenario(year_profiles)
    res = hosting_capacity(sc, asset="pv", buses=["PV 35kV"], max_mw=10.0, start_mw=5.0)
    assert not res.table.loc["PV 35kV", "bounded"]
    assert res.table.loc["PV 35kV", "capacity_mw"] == 10.0
    with pytest.raises(ScenarioError, match="unknown bus"):
        hosting_capacity(sc, buses=["nowhere"])
    with pytest.raises(ValueError, match="asset"):
        hosting_capacity(sc, asset="coal", buses=["PV 35kV"])


def test_cli_hosting_prints_binding_and_writes_figure(tmp_path, capsys):
    """``parkgrid hosting`` on the feeder (a network file, the shipped profiles)."""
    from parkgrid.cli import main

    pp.to_json(feeder_net(), str(tmp_path / "feeder.json"))
    (tmp_path / "feeder.toml").write_text(
        '[scenario]\nname = "feeder"\nyear = 2025\n[network]\nsource = "feeder.json"\n'
        '[grid]\nbus = "Grid 35kV"\nimport_limit_mw = inf\nexport_limit_mw = inf\n')
    fig, csv = tmp_path / "h.png", tmp_path / "h.csv"
    code = main(["hosting", str(tmp_path / "feeder.toml"), "--bus", "PV 35kV", "--tol-mw", "2",
                 "--figure", str(fig), "--csv", str(csv), "-q"])
    out = capsys.readouterr().out
    assert code == 0
    assert "PV 35kV" in out and "bus PV 35kV" in out and "vm_max_pu" in out
    assert fig.stat().st_size > 0 and "capacity_mw" in csv.read_text()
    assert main(["hosting", str(tmp_path / "feeder.toml"), "--bus", "nowhere", "-q"]) == 2


def test_with_controls_qu_raises_the_voltage_bound_capacity(year_profiles):
    """The added plant follows the Q(U) droop of the kind's first plant: it absorbs
    reactive power as its bus rises, so the voltage-bound capacity grows."""
    raw = {"scenario": {"name": "feeder", "year": 2025},
           "network": {"source": "feeder"}, "powerflow": {"steps": "none"},
           "grid": {"bus": "Grid 35kV", "import_limit_mw": math.inf,
                    "export_limit_mw": math.inf},
           "pv": [{"name": "tiny", "bus": "PV 35kV", "p_mw": 0.001, "q_control": "q_u"}]}
    sc = scenario_from_dict(raw, net=feeder_net(), profiles=year_profiles)
    plain = hosting_capacity(sc, buses=["PV 35kV"], tol_mw=0.5).table.loc["PV 35kV"]
    ctl = hosting_capacity(sc, buses=["PV 35kV"], tol_mw=0.5, controls=True,
                           max_mw=400.0).table.loc["PV 35kV"]
    assert plain["capacity_mw"] <= hand_capacity_mw() + 1e-3 <= plain["first_violation_mw"]
    assert ctl["bounded"] and ctl["capacity_mw"] > plain["first_violation_mw"] + 5.0
    with pytest.raises(ScenarioError, match="no voltage control"):
        hosting_capacity(feeder_scenario(year_profiles), buses=["PV 35kV"], controls=True)
