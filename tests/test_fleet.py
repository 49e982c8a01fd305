"""Truck fleets: hand-computed depot, swap and hydrogen cases; engine = reference; invariants."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_engine import reference_run
from test_engine import cases, check_invariants

from parkgrid.dispatch import DispatchInputs
from parkgrid.engine import EngineSpec, run_engine
from parkgrid.engine.fleet import POLICIES, Station

TOL = 1e-9


def _run(inp, spec, prices):
    n = inp.n_steps
    return run_engine(inp, "self_consumption", spec, hour_of_step=np.zeros(n, int),
                      prices=np.asarray(prices, float), valley=np.zeros(n))


def _depot(arr, dep, need, policy, units=1, p_mw=1.0, limit=np.inf, col=0):
    return Station("depot", "D", col, np.array(arr), np.array(dep), np.array(need, float),
                   np.zeros(len(arr), np.int64), units, p_mw, policy=POLICIES.index(policy),
                   limit_mw=limit)


def test_two_trucks_one_charger_valley_window_and_deadline():
    """One 1 MW charger, 1-h steps, prices [3, 3, 3, 1, 1, 2, 2, 2] CNY/MWh per step.

    Truck A arrives at step 0 and leaves at 8; truck B arrives at 1 and leaves at 6;
    each needs 2 MWh.

    ``valley``: A plugs in at 0 (wait 0) and charges the two cheapest steps, 3 and 4
    (price 1): 2 MWh, all after an uncontrolled session (steps 0-1) would have
    ended, so 2 MWh shifted; it holds the charger until step 5. B waits from 1 to 5
    (4 h) and has one step, 5, before its departure at 6: 1 MWh of its 2, a
    deadline miss with 1 MWh short. Load [0, 0, 0, 1, 1, 1, 0, 0].

    ``uncontrolled``: A charges steps 0-1, B waits 1 h and charges 2-3: no miss,
    nothing shifted. Load [1, 1, 1, 1, 0, 0, 0, 0].
    """
    n = 8
    inp = DispatchInputs(res_mw=np.zeros(n), load_mw=np.zeros((n, 1)), import_limit_mw=10.0,
                         export_limit_mw=0.0, dt_h=1.0)
    prices = [3, 3, 3, 1, 1, 2, 2, 2]
    eng = _run(inp, EngineSpec(stations=(_depot([0, 1], [8, 6], [2, 2], "valley"),),
                               steps_per_day=n), prices)
    log = eng.fleet[0]
    np.testing.assert_allclose(eng.load_mw[:, 0], [0, 0, 0, 1, 1, 1, 0, 0])
    np.testing.assert_allclose(log.wait_h, [0, 4])
    np.testing.assert_allclose(log.delivered, [2, 1])
    assert log.miss.tolist() == [False, True]
    np.testing.assert_allclose(log.shifted_mwh, [2, 0])
    np.testing.assert_allclose(eng.dispatch.grid_import_mw, [0, 0, 0, 1, 1, 1, 0, 0])

    eng = _run(inp, EngineSpec(stations=(_depot([0, 1], [8, 6], [2, 2], "uncontrolled"),),
                               steps_per_day=n), prices)
    log = eng.fleet[0]
    np.testing.assert_allclose(eng.load_mw[:, 0], [1, 1, 1, 1, 0, 0, 0, 0])
    np.testing.assert_allclose(log.wait_h, [0, 1])
    assert log.miss.tolist() == [False, False]
    np.testing.assert_allclose(log.shifted_mwh, [0, 0])


def test_surplus_and_grid_cap_policies_by_hand():
    """1-h steps; RES [0, 3, 1, 0] MW; a 2 MW charger; one truck 0 -> 4 needing 3 MWh.

    ``surplus``: surplus by size: step 1 (3 MW, charger takes 2), step 2 (1 MW):
    3 MWh, load [0, 2, 1, 0]; an uncontrolled session would have ended after
    steps 0-1 (k = ceil(3 / 2) = 2 steps), so step 2's 1 MWh is shifted.
    ``grid_cap`` at 1.5 MW: earliest first at 1.5 MW, steps 0 and 1: load
    [1.5, 1.5, 0, 0], no miss.
    """
    n = 4
    inp = DispatchInputs(res_mw=np.array([0.0, 3.0, 1.0, 0.0]), load_mw=np.zeros((n, 1)),
                         import_limit_mw=10.0, export_limit_mw=10.0, dt_h=1.0)
    eng = _run(inp, EngineSpec(stations=(_depot([0], [4], [3], "surplus", p_mw=2.0),),
                               steps_per_day=n), np.zeros(n))
    np.testing.assert_allclose(eng.load_mw[:, 0], [0, 2, 1, 0])
    np.testing.assert_allclose(eng.fleet[0].shifted_mwh, [1])  # step 2 is after steps 0-1
    eng = _run(inp, EngineSpec(stations=(_depot([0], [4], [3], "grid_cap", p_mw=2.0,
                                                limit=1.5),), steps_per_day=n), np.zeros(n))
    np.testing.assert_allclose(eng.load_mw[:, 0], [1.5, 1.5, 0, 0])
    assert eng.fleet[0].miss.tolist() == [False]


def test_swap_station_three_packs_four_arrivals():
    """3 charged packs, 2 bays, 15-min swaps (1 step), 1 rack of 0.4 MW; 15-min steps.

    Four trucks arrive at step 0 and must leave by step 3; each pack comes back
    half empty and needs 0.2 MWh (two steps on the rack). Packs, bays and rack:

    - T1: bay 0, pack 0 at 0 (wait 0). Its pack is racked at 1, charged 1-2,
      ready at 3.
    - T2: bay 1, pack 1 at 0 (wait 0). Racked at 3 (rack busy), charged 3-4, ready 5.
    - T3: bays free at 1; pack 2 (ready since 0) at 1: wait 1 step = 0.25 h; pack 2
      waited 1 step idle. Racked at 5, charged 5-6, ready 7.
    - T4: bay 1 free at 1, but the first pack ready is T1's at 3: wait 0.75 h; the
      swap ends at 4 > 3: late, a miss. Racked at 7, charged 7-8, ready 9.

    Rack load 0.4 MW in steps 1-8 (0.8 MWh = 4 x 0.2). Idle pack-steps over 16
    steps: 1 (pack 2 before T3) + (16 - 9) + (16 - 5) + (16 - 7) = 28, i.e. 7
    pack-hours, 1.75 charged packs idle on average over the 4 h.
    """
    n = 16
    inp = DispatchInputs(res_mw=np.zeros(n), load_mw=np.zeros((n, 1)), import_limit_mw=10.0,
                         export_limit_mw=0.0)
    swap = Station("swap", "S", 0, np.zeros(4, np.int64), np.full(4, 3), np.full(4, 0.2),
                   np.zeros(4, np.int64), 1, 0.4, bays=2, swap_steps=1.0, packs=3,
                   window_steps=32)
    eng = _run(inp, EngineSpec(stations=(swap,), steps_per_day=96), np.zeros(n))
    log = eng.fleet[0]
    np.testing.assert_allclose(log.wait_h, [0, 0, 0.25, 0.75])
    np.testing.assert_allclose(log.ready, [3, 5, 7, 9])
    assert log.miss.tolist() == [False, False, False, True]
    np.testing.assert_allclose(eng.load_mw[:, 0], [0] + [0.4] * 8 + [0] * 7)
    assert log.packs_idle_steps == pytest.approx(28.0, abs=1e-12)
    np.testing.assert_allclose(log.energy, [0.2] * 4)


def test_hydrogen_station_with_a_compressor():
    """One dispenser of 120 kg/h (30 kg a 15-min step), compressor 2 kWh/kg; tank 60 kg.

    Truck 1 arrives at step 0 needing 45 kg: fills 0 -> 1.5 (30 kg in step 0, 15
    in step 1), leaves by 4. Truck 2 arrives at step 1 needing 45 kg, waits for
    the dispenser until 1.5 (0.125 h), fills 1.5 -> 3.0 (15 kg in step 1, 30 in
    step 2) and should leave at 2: late, a miss. Asked of the tank: 30, 30, 30 kg;
    the tank (60 kg, nothing refills it) gives 30, 30, 0: truck 1 gets its 45 kg,
    truck 2 gets 15 kg, a 30 kg shortfall. Compressor: 30 kg x 2 kWh/kg per step =
    0.06 MWh in 0.25 h = 0.24 MW in steps 0-2, 0.18 MWh in all, imported.
    """
    n = 8
    inp = DispatchInputs(res_mw=np.zeros(n), load_mw=np.zeros((n, 1)), import_limit_mw=10.0,
                         export_limit_mw=0.0, tank_capacity_kg=100.0, tank_initial_kg=60.0,
                         h2_demand_kg=np.zeros(n))
    h2 = Station("h2", "H", 0, np.array([0, 1]), np.array([4, 2]), np.array([45.0, 45.0]),
                 np.zeros(2, np.int64), 1, 30.0, compressor_mwh_per_kg=0.002)
    eng = _run(inp, EngineSpec(stations=(h2,), steps_per_day=96), np.zeros(n))
    log = eng.fleet[0]
    np.testing.assert_allclose(log.wait_h, [0, 0.125])
    np.testing.assert_allclose(log.asked_kg[:4], [30, 30, 30, 0])
    np.testing.assert_allclose(log.delivered, [45, 15])
    assert log.miss.tolist() == [False, True]
    np.testing.assert_allclose(eng.load_mw[:, 0], [0.24, 0.24, 0.24] + [0] * 5)
    np.testing.assert_allclose(eng.dispatch.tank_kg[:3], [30, 0, 0])
    np.testing.assert_allclose(eng.dispatch.grid_import_mw[:3], 0.24)


# ---------------------------------------------------------------- random parks
@st.composite
def fleet_cases(draw):
    inp, strategy, spec, hour, prices = draw(cases())
    n = inp.n_steps
    base = np.asarray(inp.load_mw, float)
    base = base[:, None] if base.ndim == 1 else base
    stations, cols = [], []
    for k in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["depot", "swap", "h2"]))
        m = draw(st.integers(0, 8))
        arr = np.sort(np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)),
                               np.int64))
        dep = arr + np.array(draw(st.lists(st.integers(1, 12), min_size=m, max_size=m)),
                             np.int64)
        fl = np.zeros(m, np.int64)
        col = base.shape[1] + k
        def f(lo, hi):
            return draw(st.floats(lo, hi, allow_nan=False))

        def needs(lo, hi, m=m):
            return np.array(draw(st.lists(st.floats(lo, hi), min_size=m, max_size=m)))

        if kind == "depot":
            limit = draw(st.just(np.inf) | st.floats(0.3, 3.0))
            stations.append(Station("depot", f"D{k}", col, arr, dep, needs(0.0, 3.0), fl,
                                    draw(st.integers(1, 3)), f(0.2, 1.5),
                                    policy=draw(st.integers(0, 3)), limit_mw=limit))
        elif kind == "swap":
            stations.append(Station("swap", f"S{k}", col, arr, dep, needs(0.0, 1.5), fl,
                                    draw(st.integers(1, 2)), f(0.2, 1.5),
                                    policy=draw(st.integers(0, 3)),
                                    limit_mw=draw(st.just(np.inf) | st.floats(0.3, 3.0)),
                                    bays=draw(st.integers(1, 2)), swap_steps=f(0.1, 1.5),
                                    packs=draw(st.integers(1, 3)),
                                    window_steps=draw(st.integers(1, 8))))
        else:
            stations.append(Station("h2", f"H{k}", col, arr, dep, needs(1.0, 60.0), fl,
                                    draw(st.integers(1, 2)), f(5.0, 40.0),
                                    compressor_mwh_per_kg=f(0.0, 0.005)))
        cols.append(np.zeros(n))
    load = np.column_stack([base, *cols])
    prio = np.concatenate([np.zeros(base.shape[1]) if inp.load_priority is None
                           else np.asarray(inp.load_priority, float), np.zeros(len(cols))])
    inp = dataclasses.replace(inp, load_mw=load, load_priority=prio)
    prices = np.array(draw(st.lists(st.sampled_from([50.0, 100.0, 300.0]), min_size=n,
                                    max_size=n)))
    return inp, strategy, dataclasses.replace(spec, stations=tuple(stations)), hour, prices


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleet_cases())
def test_fleet_engine_equals_reference_and_keeps_invariants(case):
    inp, strategy, spec, hour, prices = case
    n, dt = inp.n_steps, float(inp.dt_h)
    eng = run_engine(inp, strategy, spec, hour_of_step=hour, prices=prices,
                     valley=np.asarray(inp.valley))
    ref = reference_run(inp, strategy, spec, prices=prices, hour=hour)
    np.testing.assert_allclose(eng.load_mw, ref["load_mw"], rtol=0, atol=TOL)
    np.testing.assert_allclose(eng.dispatch.grid_import_mw, ref["imp"], rtol=0, atol=TOL)
    np.testing.assert_allclose(eng.dispatch.tank_kg, ref["tank"], rtol=0, atol=TOL)
    np.testing.assert_allclose([r["delivered_kg"] for r in eng.trailers], ref["trailers"],
                               rtol=0, atol=TOL)
    for log, rec, stn in zip(eng.fleet, ref["fleet"], spec.stations, strict=True):
        visits = rec["visits"]
        np.testing.assert_allclose(log.start, [v["start"] for v in visits], rtol=0, atol=TOL)
        col = eng.load_mw[:, stn.load_index]
        if stn.kind != "h2":
            np.testing.assert_allclose(log.energy, [v["energy"] for v in visits], rtol=0,
                                       atol=TOL)
            np.testing.assert_allclose(log.shifted_mwh, [v["shifted"] for v in visits],
                                       rtol=0, atol=TOL)
            # energy balance: the sessions are the station's load
            assert log.energy.sum() == pytest.approx(col.sum() * dt, abs=1e-8)
            if stn.limit_mw < np.inf:
                assert np.all(col <= stn.limit_mw + TOL)
            assert np.all(col <= stn.units * stn.unit_rate + TOL)
        if stn.kind == "depot":
            counted = stn.departure <= n
            short = log.delivered < stn.need - 1e-9
            assert np.all(log.miss == (short & counted))  # below the state only with a miss
        if stn.kind == "swap":
            assert log.packs_idle_steps == pytest.approx(rec["idle"], abs=1e-9)
        if stn.kind == "h2":
            np.testing.assert_allclose(log.asked_kg, rec["asked"], rtol=0, atol=TOL)
            served = [v for v in visits if v["start"] < n]
            np.testing.assert_allclose(log.delivered[log.start < n],
                                       [v["delivered"] for v in served], rtol=0, atol=TOL)
            # hydrogen balance: the asked kg are the fills inside the horizon
            assert np.all(log.delivered <= stn.need + TOL)
            assert col.sum() * dt == pytest.approx(log.asked_kg.sum()
                                                   * stn.compressor_mwh_per_kg, abs=1e-9)
    asked = sum((lg.asked_kg for lg in eng.fleet if lg.asked_kg is not None), np.zeros(n))
    got = sum((lg.delivered.sum() for lg in eng.fleet if lg.asked_kg is not None), 0.0)
    trailer = sum(r["delivered_kg"] for r in eng.trailers)
    # the tank gave the stations and the trailers exactly what the kernel took
    assert got + trailer == pytest.approx(eng.dispatch.trailer_kg.sum(), abs=1e-8)
    assert got <= asked.sum() + 1e-9
    check_invariants(inp, strategy, spec, eng)


# ---------------------------------------------------------------- bad input
def _fleet_raw(repo_root):
    import tomllib

    return tomllib.loads((repo_root / "examples" / "flagship_fleet.toml").read_text())


def _problems(raw, resolve=False):
    from parkgrid.errors import ScenarioError
    from parkgrid.scenario import scenario_from_dict

    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(raw, source="fleet.toml", resolve=resolve)
    return str(err.value)


def test_departure_before_arrival_is_refused(repo_root):
    raw = _fleet_raw(repo_root)
    raw["fleet"][1]["visits"] = [[11.0, 9.0]]
    msg = _problems(raw)
    assert "fleet.toml: fleet[1].visits[0]: departure 9 h is before (or at) arrival 11 h" in msg


def test_truck_that_cannot_reach_its_state_is_refused_per_truck(repo_root):
    """300 kWh on a 400 kW charger takes 0.75 h; a 1 h stay minus 0.5 h of jitter is short."""
    raw = _fleet_raw(repo_root)
    raw["fleet"][0]["visits"] = [[19.0, 20.0]]
    raw["fleet"][0]["jitter_h"] = 0.5
    msg = _problems(raw)
    assert ("fleet[0].visits[0]: each truck needs 300 kWh (from 0.241 to 0.95 of 423 kWh) "
            "in a 0.5 h stay: a 400 kW charger takes 0.75 h even at full power") in msg


def test_station_on_unknown_bus_is_refused(repo_root):
    raw = _fleet_raw(repo_root)
    raw["h2_station"][0]["bus"] = "Hydrogen 10kV"
    msg = _problems(raw, resolve=True)
    assert "fleet.toml: h2_station[0].bus: unknown bus 'Hydrogen 10kV'" in msg


def test_fleet_larger_than_the_chargers_can_serve_is_refused(repo_root):
    """100 trucks x 0.75 h = 75 charger-hours a day; 3 chargers give 72."""
    raw = _fleet_raw(repo_root)
    raw["depot"][0]["chargers"] = 3
    msg = _problems(raw)
    assert ("depot[0].chargers: its fleets need 75 charger-hours a day at full power, more "
            "than 3 chargers can ever serve (72 a day)") in msg


def test_fleet_on_an_unknown_or_wrong_station_is_refused(repo_root):
    raw = _fleet_raw(repo_root)
    raw["fleet"][3]["station"] = "Mine-mouth depot"
    raw["fleet"][2]["station"] = "Nowhere"
    msg = _problems(raw)
    assert "fleet[3].station: fuel_cell trucks cannot use the depot 'Mine-mouth depot'" in msg
    assert "fleet[2].station: unknown station 'Nowhere'" in msg


def test_flagship_fleet_year_kpis_close_their_balances(repo_root):
    """The example's year: visits counted by hand; energies and hydrogen balance.

    Visits a year: 100 mine trucks x 1 + 60 logistics x 2 + 40 shuttles x 2 + 50
    fuel-cell trucks x 1 a day, x 365 = 127,750. Each fuel-cell fill asks 30 kg
    (from 0.2 to 0.95 of 40 kg), all inside the year: 50 x 365 x 30 = 547,500 kg,
    and the compressor takes 2 kWh/kg of it: 1,095 MWh.
    """
    import parkgrid
    from parkgrid.report.figures import fleet_figure

    result = parkgrid.simulate(repo_root / "examples" / "flagship_fleet.toml", pf_steps="none")
    k = result.kpis
    assert k["fleet_visits"] == 127_750
    policies = sum(k[f"fleet_energy_{p}_mwh"] for p in ("uncontrolled", "valley", "surplus",
                                                          "grid_cap"))
    assert policies == pytest.approx(k["depot_energy_mwh"] + k["swap_energy_mwh"], rel=1e-12)
    assert k["h2_station_kg"] + k["h2_station_shortfall_kg"] == pytest.approx(547_500.0)
    assert k["h2_station_compressor_mwh"] == pytest.approx(1_095.0)
    assert 0.0 <= k["fleet_charging_green_share"] <= 1.0
    ts = result.timeseries
    stations = ["Mine-mouth depot", "Logistics depot", "Shuttle swap station"]
    charged = sum(ts[f"load.{s}.p_mw"].sum() for s in stations) * 0.25
    assert charged == pytest.approx(k["depot_energy_mwh"] + k["swap_energy_mwh"], rel=1e-12)
    assert ts["load.Logistics depot.p_mw"].max() <= 6.0 + 1e-9  # its limit_kw
    fig = fleet_figure(ts, result.scenario)
    assert len(fig.axes) == 3


def test_compare_prices_each_charging_policy(repo_root):
    """Every depot and swap station under one policy at a time, priced alike.

    The example has no finite limit at its first depot, so grid_cap is skipped
    with the reason. Given the optimum's objective, each policy's gap to it.
    """
    from parkgrid.compare import compare_policies
    from parkgrid.scenario import load_scenario

    sc = load_scenario(repo_root / "examples" / "flagship_fleet.toml")
    sc = dataclasses.replace(sc, profiles=sc.profiles.iloc[: 7 * 96])  # one week
    cmp = compare_policies(sc, optimal_cny=1e7)
    assert list(cmp.table.columns) == ["as given", "uncontrolled", "valley", "surplus"]
    assert set(cmp.skipped) == {"grid_cap"}
    np.testing.assert_allclose(cmp.table.loc["gap_to_optimal_cny"],
                               cmp.table.loc["objective_cny"] - 1e7)
    t = cmp.table
    # uncontrolled charges from plug-in: nothing waits for a cheaper step, so it shifts
    # least (only what the logistics depot's limit pushes later) and waits least
    assert t.loc["fleet_energy_shifted_mwh", "uncontrolled"] < t.loc[
        "fleet_energy_shifted_mwh", "valley"]
    assert t.loc["depot_wait_mean_h", "uncontrolled"] <= t.loc["depot_wait_mean_h", "valley"]
    for col in t.columns:
        assert cmp.objectives[col].total == t.loc["objective_cny", col]


# ---------------------------------------------------------------- the optimum
def test_optimum_charges_the_depot_by_its_deadlines_at_least_cost():
    """The two-truck case of the valley test, as the optimum's flexible demand.

    One 1 MW charger, 1-h steps, prices [3, 3, 3, 1, 1, 2, 2, 2] CNY/MWh; truck A
    0 -> 8 and truck B 1 -> 6, 2 MWh each. Aggregated: present [1, 2, 2, 2, 2, 2, 1,
    1] trucks, so p_max = 1 MW every step; e_hi = [2, 4, 4, ...] MWh; e_lo = 2 MWh
    by the end of step 5 (B leaves at 6) and 4 by the end of step 7. Least cost:
    steps 3 and 4 at 1 (B's deadline met), then two of steps 5-7 at 2: 4 MWh for
    1 + 1 + 2 + 2 = 6 CNY. The valley rule pays 1 + 1 + 2 = 4 CNY for 3 MWh with B
    1 MWh short; uncontrolled pays 3 + 3 + 3 + 1 = 10 CNY.

    Rolling windows of 3 h, 2 committed, see no deadline in [0, 3) and [2, 5) and
    nothing is worth storing, so they charge nothing; [4, 7) must reach 2 MWh by
    the end of step 5 (p = 1, 1); [6, 8) the last 2 MWh: [0, 0, 0, 0, 1, 1, 1, 1],
    1 + 2 + 2 + 2 = 7 CNY, the price of a short look-ahead.
    """
    from parkgrid.engine.fleet import flex_bounds
    from parkgrid.optimal import OptimalOptions, Prices, solve_optimal
    from parkgrid.optimal._inputs import FlexDemand

    n = 8
    st = _depot([0, 1], [8, 6], [2, 2], "valley")
    p_max, e_lo, e_hi = flex_bounds(st, n, 1.0)
    np.testing.assert_allclose(p_max, 1.0)
    np.testing.assert_allclose(e_hi, [2, 4, 4, 4, 4, 4, 4, 4])
    np.testing.assert_allclose(e_lo, [0, 0, 0, 0, 0, 2, 2, 4])
    inp = DispatchInputs(res_mw=np.zeros(n), load_mw=np.zeros(n), import_limit_mw=10.0,
                         export_limit_mw=0.0, dt_h=1.0)
    prices = Prices(import_cny_per_mwh=np.array([3, 3, 3, 1, 1, 2, 2, 2], float))
    for window_h, cost in ((1e6, 6.0), (3.0, 7.0)):  # one window; rolling windows
        sol = solve_optimal(inp, prices, OptimalOptions(window_h=window_h, commit_h=2.0,
                                                        mip_rel_gap=0.0),
                            flex=(FlexDemand("D", p_max, e_lo, e_hi),))
        assert sol.flex_mw is not None
        p = sol.flex_mw[:, 0]
        np.testing.assert_allclose(sol.dispatch.grid_import_mw, p, atol=1e-9)
        assert p.sum() == pytest.approx(4.0, abs=1e-9)
        assert sol.objective.import_cost_cny == pytest.approx(cost, abs=1e-9)
        assert np.all(np.cumsum(p) >= e_lo - 1e-9) and np.all(np.cumsum(p) <= e_hi + 1e-9)
        if window_h == 3.0:
            np.testing.assert_allclose(p, [0, 0, 0, 0, 1, 1, 1, 1], atol=1e-9)
        else:
            assert p[3] == pytest.approx(1.0) and p[4] == pytest.approx(1.0)


def test_optimal_strategy_runs_a_fleet_scenario(repo_root):
    """A fleet park with strategy optimal for one week: every station deadline met.

    The depots' and swap racks' columns are their flexible demands; their energy by
    the end equals what the trucks needed that departed (aggregated deadlines).
    """
    import tomllib

    import parkgrid
    from parkgrid.scenario import scenario_from_dict

    raw = tomllib.loads((repo_root / "examples" / "flagship_fleet.toml").read_text())
    raw["dispatch"]["strategy"] = "optimal"
    raw["optimal"] = {"window_h": 48.0, "commit_h": 24.0}
    sc = scenario_from_dict(raw, source="fleet.toml", base_dir=repo_root / "examples")
    week = sc.profiles.iloc[: 7 * 96]
    sc = dataclasses.replace(sc, profiles=week)
    r = parkgrid.simulate(sc, pf_steps="none")
    ts = r.timeseries
    mine = ts["load.Mine-mouth depot.p_mw"].to_numpy()
    # 100 trucks x 0.3 MWh due each morning at 05:00 of days 2..7 (6 departures in the
    # week), plus whatever the last night charged ahead
    assert mine.sum() * 0.25 >= 6 * 100 * 0.3 - 1e-6
    assert mine.max() <= 40 * 0.4 + 1e-9
    assert ts["load.Logistics depot.p_mw"].max() <= 6.0 + 1e-9
    assert r.kpis["unserved_mwh"] == pytest.approx(0.0, abs=1e-6)
