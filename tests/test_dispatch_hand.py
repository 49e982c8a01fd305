"""Dispatch and KPIs on small parks worked out by hand (numbers in the docstrings)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parkgrid import simulate
from parkgrid.scenario import PV, Battery, Electrolyser, Grid, Hydrogen, Load, Scenario, Tariff


def _scenario(profiles: pd.DataFrame, **kw) -> Scenario:
    base = dict(
        name="hand", year=2025, seed=0, network_source="", profiles_source="",
        strategy="self_consumption", pf_steps="none", pf_method="auto", output_dir="",
        profiles=profiles,
    )
    base.update(kw)
    return Scenario(**base)


def test_issue_example_battery_fills_then_curtails():
    """2 MWh battery, eta_c = 0.95, empty, 1 MW surplus for 4 h (16 steps), no export.

    Each step stores 1 MW x 0.25 h x 0.95 = 0.2375 MWh, so SOC after 8 steps is
    1.9 MWh. Step 9 takes the remaining 0.1 MWh: 0.1 / (0.95 x 0.25) = 0.421053 MW.
    AC energy into the battery = 2 / 0.95 MWh; curtailment = 4 - 2/0.95 = 1.894737 MWh.
    Self-consumption = (4 - 1.894737) / 4 = 0.526316; storage losses = 2/0.95 - 2.
    """
    idx = pd.date_range("2025-06-01", periods=16, freq="15min", name="timestamp")
    prof = pd.DataFrame({"pv": np.ones(16), "zero": np.zeros(16)}, index=idx)
    s = _scenario(
        prof,
        grid=Grid(import_limit_mw=0.0, export_limit_mw=0.0, ef_kg_per_kwh=0.5),
        pv=(PV("pv", "b", 1.0, "pv"),),
        battery=(Battery("bat", "b", p_mw=5.0, e_mwh=2.0, eta_charge=0.95, eta_discharge=0.95,
                         soc_min_pu=0.0, soc_max_pu=1.0, soc_initial_pu=0.0),),
    )
    r = simulate(s)
    e = r.timeseries["bat_e_mwh"].to_numpy()
    expected = [0.2375 * k for k in range(1, 9)] + [2.0] * 8
    np.testing.assert_allclose(e, expected, rtol=0, atol=1e-12)
    assert e[7] == pytest.approx(1.9, abs=1e-12)
    assert r.timeseries["bat_charge_mw"].iloc[8] == pytest.approx(0.1 / (0.95 * 0.25), abs=1e-12)
    k = r.kpis
    assert k["curtailed_mwh"] == pytest.approx(4 - 2 / 0.95, abs=1e-12)
    assert k["battery_charged_mwh"] == pytest.approx(2 / 0.95, abs=1e-12)
    assert k["self_consumption_ratio"] == pytest.approx((2 / 0.95) / 4, abs=1e-12)
    assert k["res_utilisation"] == pytest.approx((2 / 0.95) / 4, abs=1e-12)
    assert k["storage_losses_mwh"] == pytest.approx(2 / 0.95 - 2, abs=1e-12)
    assert k["self_sufficiency"] == pytest.approx(1.0, abs=1e-12)
    assert k["imported_mwh"] == 0.0
    assert k["co2_t"] == 0.0


def test_eight_step_park_every_kpi_by_hand():
    """Eight 15-minute steps from 16:00; hour 16 is valley (200 CNY/MWh), 17 peak (600).

    Assets: PV 8 MW; battery 2 MW / 4 MWh, eta_c 0.9, eta_d 0.8, SOC 0.25..1, starts
    at 2 MWh; electrolyser 2 MW, 50 kWh/kg (10 kg per step at 2 MW), min load 0.5;
    tank 50 kg, empty, offtake 20 kg/h = 5 kg/step; import limit 3 MW, export 1 MW.

    step  PV  load | ch  e_end  el  exp curt | dis imp unserved | h2 made deliv tank
     0    6   2    | 2   2.45   2   0   0    |                  | 10   5   5
     1    4.5 2    | 2   2.90   0*  0.5 0    |                  |  0   5   0   (*0.5 < 1 MW min)
     2    7   2    | 2   3.35   2   1   0    |                  | 10   5   5
     3    8   1    | 2   3.80   2   1   2    |                  | 10   5  10
     4    0   3    |     3.175          | 2   1   0        |  0   5   5
     5    0   6    |     2.55           | 2   3   1        |  0   5   0
     6    0   4    |     1.925          | 2   2   0        |  0   0   0   short 5
     7    1   5    |     1.30           | 2   2   0        |  0   0   0   short 5
    (charging adds 2 x 0.9 x 0.25 = 0.45 MWh; discharging removes 2 / 0.8 x 0.25 = 0.625)

    Energies (x 0.25 h): PV 6.625, load 6.25, unserved 0.25, curtailed 0.5,
    export 0.625, import 2.0, charged 2.0, discharged 2.0, electrolyser 1.5 MWh;
    storage losses = 2 - 2 - (1.3 - 2) = 0.7; consumption = 6.0 + 1.5 + 0.7 = 8.2.
    Self-consumption (6.625-0.5-0.625)/6.625; self-sufficiency (8.2-2)/8.2;
    green annual 6.125/8.2; hourly: sum min(local RES, net consumption) = 22 of 30.
    Cost: import 2 MWh all at peak = 1200; capacity 3 MW x 10000 = 30000;
    export 0.625 x 300 = 187.5; CO2 = 2 MWh x 0.6849 t/MWh.
    """
    idx = pd.date_range("2025-07-01 16:00", periods=8, freq="15min", name="timestamp")
    pv_mw = np.array([6, 4.5, 7, 8, 0, 0, 0, 1.0])
    load_mw = np.array([2, 2, 2, 1, 3, 6, 4, 5.0])
    prof = pd.DataFrame({"pv": pv_mw / 8, "load": load_mw}, index=idx)
    s = _scenario(
        prof,
        grid=Grid(import_limit_mw=3.0, export_limit_mw=1.0, export_price_cny_per_mwh=300.0,
                  capacity_charge_cny_per_mw_month=10000.0, ef_kg_per_kwh=0.6849,
                  tariff=Tariff(600.0, 400.0, 200.0, peak_hours=(17,), valley_hours=(16,))),
        pv=(PV("pv", "b", 8.0, "pv"),),
        load=(Load("factory", "b", "load", peak_mw=6.0),),
        battery=(Battery("bat", "b", p_mw=2.0, e_mwh=4.0, eta_charge=0.9, eta_discharge=0.8,
                         soc_min_pu=0.25, soc_max_pu=1.0, soc_initial_pu=0.5),),
        electrolyser=(Electrolyser("el", "b", p_mw=2.0, kwh_per_kg=50.0, min_load_pu=0.5),),
        hydrogen=Hydrogen(capacity_kg=50.0, initial_kg=0.0, offtake_kg_per_h=20.0),
    )
    r = simulate(s)
    ts = r.timeseries
    col = lambda c: ts[c].to_numpy()  # noqa: E731
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)  # noqa: E731
    close(col("battery.bat.soc_pu") * 4, [2.45, 2.9, 3.35, 3.8, 3.175, 2.55, 1.925, 1.3])
    close(col("bat_charge_mw"), [2, 2, 2, 2, 0, 0, 0, 0])
    close(col("bat_discharge_mw"), [0, 0, 0, 0, 2, 2, 2, 2])
    close(col("electrolyser_mw"), [2, 0, 2, 2, 0, 0, 0, 0])
    close(col("grid_export_mw"), [0, 0.5, 1, 1, 0, 0, 0, 0])
    close(col("curtailed_mw"), [0, 0, 0, 2, 0, 0, 0, 0])
    close(col("grid_import_mw"), [0, 0, 0, 0, 1, 3, 2, 2])
    close(col("unserved_mw"), [0, 0, 0, 0, 0, 1, 0, 0])
    close(col("h2_produced_kg"), [10, 0, 10, 10, 0, 0, 0, 0])
    close(col("h2_delivered_kg"), [5, 5, 5, 5, 5, 5, 0, 0])
    close(col("h2_tank_kg"), [5, 0, 5, 10, 5, 0, 0, 0])
    close(col("price_cny_per_mwh"), [200] * 4 + [600] * 4)
    close(col("load.factory.p_mw"), [2, 2, 2, 1, 3, 5, 4, 5])  # served

    expected = {
        "pv_available_mwh": 6.625, "wind_available_mwh": 0.0, "res_available_mwh": 6.625,
        "curtailed_mwh": 0.5, "exported_mwh": 0.625, "imported_mwh": 2.0,
        "self_consumption_ratio": 5.5 / 6.625, "res_utilisation": 1 - 0.5 / 6.625,
        "load_mwh": 6.25, "unserved_mwh": 0.25, "consumption_mwh": 8.2,
        "self_sufficiency": 6.2 / 8.2, "green_share_annual": 6.125 / 8.2,
        "green_share_hourly": 22 / 30, "peak_import_mw": 3.0, "peak_export_mw": 1.0,
        "electrolyser_mwh": 1.5, "h2_produced_kg": 30.0, "h2_delivered_kg": 30.0,
        "h2_shortfall_kg": 10.0, "electrolyser_full_load_hours": 0.75,
        # green hydrogen: steps 0, 2 and 3 make 10 kg each; local RES (PV - curtailed
        # - exported = 6, 6, 5) covers the gross consumption (load + el + charging =
        # 6, 6, 5) in full, so all 30 kg are green
        "h2_green_kg": 30.0,
        "h2_kgco2_per_kg": 0.0, "battery_charged_mwh": 2.0, "battery_discharged_mwh": 2.0,
        "storage_losses_mwh": 0.7, "battery_equivalent_full_cycles": 2.0 / 3.0,
        "co2_t": 2.0 * 0.6849, "emission_factor_kg_per_kwh": 0.6849,
        "energy_cost_cny": 1200.0, "capacity_charge_cny": 30000.0,
        "export_revenue_cny": 187.5, "net_cost_cny": 31012.5,
        # events and stateful assets: the one unserved step is industrial load;
        # demand 8 x 5 kg of which 30 kg delivered; no events, one kernel call
        "unserved_industrial_mwh": 0.25, "unserved_charging_mwh": 0.0,
        "unserved_services_mwh": 0.0, "loss_of_load_hours": 0.25, "islanded_hours": 0.0,
        "dumped_mwh": 0.0, "h2_demand_kg": 40.0, "h2_delivered_total_kg": 30.0,
        "h2_delivered_share": 0.75, "co2_total_t": 2.0 * 0.6849,
        "battery_capacity_end_pu": 1.0, "engine_events": 0.0, "engine_kernel_calls": 1.0,
        # carbon accounting (parkgrid.carbon; worked out in tests/test_carbon_accounting.py):
        # no coal, no contracts, residual factor = location factor
        "co2_scope1_t": 0.0, "co2_scope2_location_t": 2.0 * 0.6849,
        "co2_scope2_market_t": 2.0 * 0.6849, "green_share_total_hourly": 22 / 30,
        "h2_kgco2_per_kg_grid_share": 0.0,
    }
    from parkgrid.kpis import CARBON_KPI_INFO

    assert set(expected) == set(r.kpis) - (set(CARBON_KPI_INFO) - set(expected))
    for name, value in expected.items():
        assert r.kpis[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name


def test_capacity_charge_takes_each_months_peak():
    """Imports of 2 MW in January and 5 MW in February: charge = (2 + 5) x rate."""
    idx = pd.DatetimeIndex(["2025-01-31 23:45", "2025-02-01 00:00"], name="timestamp")
    prof = pd.DataFrame({"load": [2.0, 5.0]}, index=idx)
    s = _scenario(
        prof,
        grid=Grid(import_limit_mw=10.0, export_limit_mw=0.0, capacity_charge_cny_per_mw_month=7.0,
                  ef_kg_per_kwh=0.5),
        load=(Load("l", "b", "load", peak_mw=5.0),),
    )
    r = simulate(s)
    assert r.kpis["capacity_charge_cny"] == pytest.approx(49.0)
    assert r.kpis["co2_t"] == pytest.approx(7 * 0.25 * 0.5)


# The three rules within a step that the README writes down (issue 18, item 13).


def test_offtake_is_served_from_tank_plus_same_step_production():
    """Tank 10 kg, empty; offtake 20 kg/h = 5 kg a step; electrolyser 2 MW at 50 kWh/kg
    makes 2 x 0.25 x 1000 / 50 = 10 kg a step (minimum load 0.5 MW); PV surplus 2 MW.

    step  tank0  room = 10 - tank0 + 5  made  delivered  tank end
     0     0     15                     10    5 (0 + 10)   5
     1     5     10                     10    5           10
     2    10      5 -> 1 MW             5    5           10    (1 MW left: exported)
     3    10      5 -> 1 MW             5    5           10
    Served only from the tank at the start, step 0 would deliver nothing; a room
    without the offtake (10 - tank0) would stop the electrolyser in steps 2 and 3.
    """
    idx = pd.date_range("2025-06-01 10:00", periods=4, freq="15min", name="timestamp")
    prof = pd.DataFrame({"pv": np.ones(4)}, index=idx)
    s = _scenario(
        prof,
        grid=Grid(import_limit_mw=0.0, export_limit_mw=5.0, ef_kg_per_kwh=0.5),
        pv=(PV("pv", "b", 2.0, "pv"),),
        electrolyser=(Electrolyser("el", "b", p_mw=2.0, kwh_per_kg=50.0, min_load_pu=0.25),),
        hydrogen=Hydrogen(capacity_kg=10.0, initial_kg=0.0, offtake_kg_per_h=20.0),
    )
    ts = simulate(s).timeseries
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)  # noqa: E731
    close(ts["electrolyser_mw"], [2, 2, 1, 1])
    close(ts["h2_produced_kg"], [10, 10, 5, 5])
    close(ts["h2_delivered_kg"], [5, 5, 5, 5])
    close(ts["h2_shortfall_kg"], [0, 0, 0, 0])
    close(ts["h2_tank_kg"], [5, 10, 10, 10])
    close(ts["grid_export_mw"], [0, 0, 1, 1])


def test_self_discharge_compounds_per_step_and_may_go_below_soc_min():
    """Battery 10 MWh at its SOC minimum (0.5: 5 MWh), self-discharge 10 %/h, 1 MW load.

    Before dispatch each step the energy is multiplied by 0.9^0.25, so after four
    steps it is 5 x 0.9 = 4.5 MWh (not 5 x (1 - 0.1 x 0.25)^4 = 4.5141 MWh, and not
    held at 5): below soc_min x e_mwh, as intended. It cannot discharge, so the load
    is imported. Step 4 has 2 MW of PV: the 1 MW surplus charges it (eta_c 0.9):
    4.5 x 0.9^0.25 + 1 x 0.9 x 0.25 MWh.
    """
    idx = pd.date_range("2025-06-01 06:00", periods=5, freq="15min", name="timestamp")
    prof = pd.DataFrame({"pv": [0, 0, 0, 0, 1.0], "load": np.ones(5)}, index=idx)
    s = _scenario(
        prof,
        grid=Grid(import_limit_mw=5.0, export_limit_mw=0.0, ef_kg_per_kwh=0.5),
        pv=(PV("pv", "b", 2.0, "pv"),),
        load=(Load("l", "b", "load", peak_mw=1.0),),
        battery=(Battery("bat", "b", p_mw=2.0, e_mwh=10.0, eta_charge=0.9, eta_discharge=0.9,
                         soc_min_pu=0.5, soc_max_pu=1.0, soc_initial_pu=0.5,
                         self_discharge_pu_per_h=0.1),),
    )
    ts = simulate(s).timeseries
    f = 0.9 ** 0.25
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)  # noqa: E731
    close(ts["bat_e_mwh"], [5 * f, 5 * f**2, 5 * f**3, 4.5, 4.5 * f + 0.225])
    assert ts["bat_e_mwh"].iloc[3] < 0.5 * 10.0
    close(ts["bat_discharge_mw"], [0, 0, 0, 0, 0])
    close(ts["bat_charge_mw"], [0, 0, 0, 0, 1])
    close(ts["grid_import_mw"], [1, 1, 1, 1, 0])


def test_electrolyser_below_minimum_load_stays_off_and_surplus_goes_on():
    """self_consumption; battery full (no room), 1.2 MWh above its minimum; import and
    export allowed. Electrolysers in order: 'big' 4 MW, minimum 2 MW; 'small' 1 MW,
    minimum 0.5 MW. PV surplus over the 1 MW load: 1.5, 0.3, 3 MW.

    step 0: big offered 1.5 < 2: off; small takes 1 (rated); 0.5 MW exported.
    step 1: big 0.3 < 2, small 0.3 < 0.5: both off; 0.3 MW exported; the battery does
            not discharge and nothing is imported to reach a minimum load.
    step 2: big takes 3 (>= 2); small gets 0 (nothing left): off.
    """
    idx = pd.date_range("2025-06-01 11:00", periods=3, freq="15min", name="timestamp")
    prof = pd.DataFrame({"pv": [2.5, 1.3, 4.0], "load": np.ones(3)}, index=idx)
    s = _scenario(
        prof,
        grid=Grid(import_limit_mw=10.0, export_limit_mw=10.0, ef_kg_per_kwh=0.5),
        pv=(PV("pv", "b", 1.0, "pv"),),
        load=(Load("l", "b", "load", peak_mw=1.0),),
        battery=(Battery("bat", "b", p_mw=2.0, e_mwh=2.0, soc_min_pu=0.3, soc_max_pu=0.9,
                         soc_initial_pu=0.9),),
        electrolyser=(Electrolyser("big", "b", p_mw=4.0, kwh_per_kg=50.0, min_load_pu=0.5),
                      Electrolyser("small", "b", p_mw=1.0, kwh_per_kg=50.0, min_load_pu=0.5)),
    )
    ts = simulate(s).timeseries
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)  # noqa: E731
    close(ts["electrolyser.big.p_mw"], [0, 0, 3])
    close(ts["electrolyser.small.p_mw"], [1, 0, 0])
    close(ts["grid_export_mw"], [0.5, 0.3, 0])
    close(ts["grid_import_mw"], [0, 0, 0])
    close(ts["bat_discharge_mw"], [0, 0, 0])
    close(ts["bat_e_mwh"], [1.8, 1.8, 1.8])
