"""The SimPy engine + numba kernel against the step-by-step reference, and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_engine import reference_run

from parkgrid.dispatch import STRATEGIES, DispatchInputs
from parkgrid.engine import (
    EngineSpec,
    Outage,
    TariffSeason,
    Trailers,
    Trucks,
    run_engine,
    shift_flexible_load,
)

TOL = 1e-9
RULES = [s for s in STRATEGIES if s != "optimal"]
SPD = 8  # "days" of 8 steps so that short horizons cross several days


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def cases(draw):
    strategy = draw(st.sampled_from(RULES))
    n = draw(st.integers(4, 40))
    dt = draw(st.sampled_from([0.25, 1.0]))
    vec = lambda k, lo, hi: np.array(draw(st.lists(floats(lo, hi), min_size=k, max_size=k)))  # noqa: E731
    nr, nl = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    nb = draw(st.integers(1 if strategy == "peak_shaving" else 0, 2))
    ne = draw(st.integers(1 if strategy == "valley_hydrogen" else 0, 2))
    nc = draw(st.integers(1, 2)) if strategy == "coal_peaking" else 0
    trucks = draw(st.booleans())
    res = np.column_stack([vec(n, 0.0, 15.0) for _ in range(nr)])
    load_cols = [vec(n, 0.0, 10.0) for _ in range(nl)]
    if trucks:
        load_cols.append(np.zeros(n))
    load = np.column_stack(load_cols)
    soc_min = vec(nb, 0.0, 0.3)
    soc_max = soc_min + vec(nb, 0.2, 0.7)
    min_load = vec(ne, 0.0, 0.5)
    curves = []
    for _ in range(ne):
        xs = sorted({0.0, 1.0, *draw(st.lists(floats(0.05, 0.95), max_size=2))})
        ms = [draw(floats(0.9, 1.2)) for _ in xs]
        curves.append(list(zip(xs, ms, strict=True)))
    k = max((len(c) for c in curves), default=2)
    curve = np.array([c + [c[-1]] * (k - len(c)) for c in curves]).reshape(ne, k, 2)
    has_tank = draw(st.booleans()) or ne == 0
    cap = draw(floats(5.0, 400.0)) if has_tank else 0.0
    pmin = vec(nc, 0.5, 3.0)
    inp = DispatchInputs(
        res_mw=res, load_mw=load, load_priority=vec(load.shape[1], -2, 2).round(),
        import_limit_mw=vec(n, 0.0, 12.0), export_limit_mw=vec(n, 0.0, 12.0),
        valley=np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), float),
        bat_p_mw=vec(nb, 0.5, 8.0), bat_e_mwh=vec(nb, 1.0, 20.0),
        bat_eta_charge=vec(nb, 0.6, 1.0), bat_eta_discharge=vec(nb, 0.6, 1.0),
        bat_soc_min_pu=soc_min, bat_soc_max_pu=soc_max,
        bat_soc_initial_pu=soc_min + (soc_max - soc_min) * vec(nb, 0.0, 1.0),
        bat_self_discharge_pu=vec(nb, 0.0, 0.02), bat_grid_forming=vec(nb, 0, 1).round(),
        bat_fade_calendar_pu=vec(nb, 0.0, 1e-3), bat_fade_cycle_pu=vec(nb, 0.0, 1e-3),
        el_p_mw=vec(ne, 0.5, 6.0), el_kwh_per_kg=vec(ne, 45.0, 60.0), el_min_load_pu=min_load,
        el_standby_pu=min_load * vec(ne, 0.0, 0.9),
        el_start_steps=vec(ne, 0, 3).round(), el_min_up_steps=vec(ne, 0, 4).round(),
        el_min_down_steps=vec(ne, 0, 4).round(), el_standby_max_steps=vec(ne, 0, 3).round(),
        el_curve=curve,
        coal_p_min_mw=pmin, coal_p_max_mw=pmin + vec(nc, 0.0, 6.0),
        coal_ramp_up_mw=vec(nc, 0.2, 4.0), coal_ramp_down_mw=vec(nc, 0.2, 4.0),
        coal_start_steps=vec(nc, 0, 3).round(), coal_min_up_steps=vec(nc, 0, 4).round(),
        coal_min_down_steps=vec(nc, 0, 4).round(),
        import_cap_mw=draw(floats(0.5, 8.0)),
        green_share_min=draw(st.just(0.0) | floats(0.05, 0.9)),
        tank_capacity_kg=cap, tank_initial_kg=cap * draw(floats(0.0, 1.0)),
        h2_demand_kg=vec(n, 0.0, 40.0) if has_tank else None, dt_h=dt,
    )
    kinds = [("res", nr), ("load", nl), ("battery", nb), ("electrolyser", ne),
             ("coal", nc), ("grid", 1)]
    outages = []
    for _ in range(draw(st.integers(0, 5))):
        kind, count = draw(st.sampled_from([x for x in kinds if x[1] > 0]))
        start = draw(st.integers(0, n - 1))
        outages.append(Outage(kind, draw(st.integers(0, count - 1)), start,
                              draw(st.integers(1, n - start))))
    hour = (np.arange(n) * 24 // SPD) % 24
    seasons = []
    if draw(st.booleans()):
        seasons.append(TariffSeason(draw(st.integers(0, n - 1)), tuple(float(h) for h in range(24)),
                                    tuple(draw(st.lists(st.integers(0, 23), max_size=8)))))
    trailers = None
    if has_tank and draw(st.booleans()):
        trailers = Trailers(tuple(sorted(draw(st.lists(st.integers(0, n - 1), max_size=6)))),
                            draw(floats(1.0, 100.0)))
    truck_spec = None
    if trucks:
        truck_spec = Trucks(tuple(sorted(draw(st.lists(st.integers(0, n - 1), max_size=10)))),
                            draw(floats(0.1, 3.0)), draw(st.integers(1, 3)),
                            draw(floats(0.2, 1.5)), load.shape[1] - 1)
    flexible = tuple((j, draw(floats(0.0, 0.5)), draw(floats(0.1, 3.0)))
                     for j in range(nl) if draw(st.booleans()))
    spec = EngineSpec(outages=tuple(outages), seasons=tuple(seasons), trailers=trailers,
                      trucks=truck_spec, flexible=flexible, steps_per_day=SPD)
    prices = np.full(n, 100.0)
    return inp, strategy, spec, hour, prices


def _close(a, b, name):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float).reshape(np.shape(a)),
                               rtol=0, atol=TOL, err_msg=name)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_engine_equals_step_by_step_reference(case):
    inp, strategy, spec, hour, prices = case
    eng = run_engine(inp, strategy, spec, hour_of_step=hour, prices=prices,
                     valley=np.asarray(inp.valley))
    ref = reference_run(inp, strategy, spec, prices=prices, hour=hour)
    d = eng.dispatch
    pairs = {"imp": d.grid_import_mw, "exp": d.grid_export_mw, "curt": d.curtailed_mw,
             "unserved": d.unserved_mw, "dump": d.dumped_mw, "h2_prod": d.h2_produced_kg,
             "h2_del": d.h2_delivered_kg, "h2_short": d.h2_shortfall_kg, "tank": d.tank_kg,
             "el_grid": d.el_grid_mw, "bat_grid": d.bat_grid_charge_mw, "ch": d.bat_charge_mw,
             "dis": d.bat_discharge_mw, "e": d.bat_e_mwh, "cap": d.bat_capacity_mwh,
             "el_p": d.el_p_mw, "el_kg": d.el_h2_kg, "coal_p": d.coal_p_mw,
             "served": d.load_served_mw}
    for key, got in pairs.items():
        _close(got, ref[key], f"{strategy}: {key}")
    _close([r["delivered_kg"] for r in eng.trailers], ref["trailers"], "trailers")
    assert list(zip(eng.trucks.arrival.tolist(), eng.trucks.start.tolist(),
                    strict=True)) == ref["trucks"]
    _close(eng.load_mw, ref["load_mw"], "load after shifting and trucks")
    check_invariants(inp, strategy, spec, eng)


def check_invariants(inp, strategy, spec, eng):
    d = eng.dispatch
    p = inp.packed()
    res = (p.res_mw * eng.res_av).sum(axis=1)
    coal = d.coal_p_mw.sum(axis=1)
    lhs = res - d.curtailed_mw + d.grid_import_mw + d.bat_discharge_mw.sum(axis=1) + coal
    rhs = (d.load_served_mw.sum(axis=1) + d.el_p_mw.sum(axis=1)
           + d.bat_charge_mw.sum(axis=1) + d.grid_export_mw + d.dumped_mw)
    np.testing.assert_allclose(lhs, rhs, rtol=0, atol=1e-8, err_msg="energy balance")
    for a in (d.curtailed_mw, d.unserved_mw, d.dumped_mw, d.h2_produced_kg, d.grid_import_mw,
              d.grid_export_mw, d.tank_kg):
        assert np.all(a >= -TOL)
    assert np.all(d.curtailed_mw <= res + TOL)
    demand = eng.load_mw * eng.load_av
    assert np.all(d.load_served_mw <= demand + TOL) and np.all(d.load_served_mw >= -TOL)
    # imports within the limit (zero while islanded); unserved only when it binds
    lim = np.where(eng.island > 0, 0.0, np.asarray(inp.import_limit_mw))
    assert np.all(d.grid_import_mw <= lim + TOL)
    short = d.unserved_mw > 1e-7
    assert np.all((eng.island[short] > 0) | (d.grid_import_mw[short] >= lim[short] - 1e-7))
    assert np.all(d.grid_export_mw[eng.island > 0] == 0)
    # batteries: never charge and discharge at once; within capacity; fade monotone
    assert not np.any((d.bat_charge_mw > TOL) & (d.bat_discharge_mw > TOL))
    bat = p.bat
    if bat.shape[0]:
        assert np.all(d.bat_e_mwh <= bat[:, 4] * d.bat_capacity_mwh + TOL)
        assert np.all(d.bat_e_mwh >= -TOL)
        assert np.all(np.diff(d.bat_capacity_mwh, axis=0) <= TOL)
        assert np.all(d.bat_charge_mw <= bat[:, 0] + TOL)
        assert np.all(d.bat_discharge_mw <= bat[:, 0] + TOL)
    # electrolysers: hydrogen only at or above minimum load, never while starting/off
    el = p.el
    for k in range(el.shape[0]):
        making = d.el_h2_kg[:, k] > 0
        assert np.all(d.el_p_mw[making, k] >= el[k, 2] * el[k, 0] - TOL)
        assert np.all(d.el_p_mw[~making, k] <= el[k, 3] * el[k, 0] + TOL)
        assert np.all(d.el_mode[making, k] == 2)
    np.testing.assert_allclose(d.h2_produced_kg, d.el_h2_kg.sum(axis=1), atol=1e-9)
    # coal: within limits and ramps while running
    coal_p = p.coal
    for k in range(coal_p.shape[0]):
        on = d.coal_p_mw[:, k] > 0
        assert np.all(d.coal_p_mw[on, k] >= coal_p[k, 0] - TOL)
        assert np.all(d.coal_p_mw[on, k] <= coal_p[k, 1] + TOL)
        both = on[1:] & on[:-1]
        step = np.diff(d.coal_p_mw[:, k])[both]
        assert np.all(step <= coal_p[k, 2] + TOL) and np.all(-step <= coal_p[k, 3] + TOL)


def test_minimum_up_and_down_times_respected():
    """An electrolyser with 3-step minimum up and 4-step minimum down times.

    Surplus alternates every two steps; the unit, once started, stays committed
    3 steps (hot standby when the surplus is gone) and, once off, stays off 4.
    """
    n = 40
    surplus = np.tile([5.0, 5.0, 0.0, 0.0], n // 4)
    inp = DispatchInputs(res_mw=surplus, load_mw=np.zeros(n), import_limit_mw=0.0,
                         export_limit_mw=10.0, el_p_mw=[4.0], el_kwh_per_kg=[50.0],
                         el_min_load_pu=[0.25], el_standby_pu=[0.05], el_min_up_steps=[3],
                         el_min_down_steps=[4])
    eng = run_engine(inp, "self_consumption", EngineSpec(), hour_of_step=np.zeros(n, int),
                     prices=np.zeros(n), valley=np.zeros(n))
    mode = eng.dispatch.el_mode[:, 0]
    runs = []
    cur, length = mode[0], 0
    for m in mode:
        if m == cur:
            length += 1
        else:
            runs.append((cur, length))
            cur, length = m, 1
    runs.append((cur, length))
    assert any(m == 0 for m, _ in runs) and any(m == 2 for m, _ in runs)
    for (m, length) in runs[1:-1]:
        assert length >= (3 if m == 2 else 4), runs


def test_grid_outage_islands_with_grid_forming_battery_and_sheds_by_priority():
    """Grid out for steps 2-5; battery (grid-forming) covers 2 MW of a 5 MW deficit.

    Loads: A 3 MW priority 0 (shed first), B 2 MW priority 5. Battery 2 MW with
    plenty of energy, eta 1. Deficit 5 - 2 = 3 MW: all of A is shed, B is served.
    """
    n = 8
    inp = DispatchInputs(res_mw=np.zeros(n), load_mw=np.column_stack([np.full(n, 3.0),
                                                                       np.full(n, 2.0)]),
                         load_priority=[0, 5], import_limit_mw=10.0, export_limit_mw=0.0,
                         bat_p_mw=[2.0], bat_e_mwh=[100.0], bat_eta_charge=[1.0],
                         bat_eta_discharge=[1.0], bat_soc_min_pu=[0.0], bat_soc_max_pu=[1.0],
                         bat_soc_initial_pu=[1.0], bat_grid_forming=[1.0], dt_h=1.0)
    spec = EngineSpec(outages=(Outage("grid", 0, 2, 4),))
    eng = run_engine(inp, "self_consumption", spec, hour_of_step=np.zeros(n, int),
                     prices=np.zeros(n), valley=np.zeros(n))
    d = eng.dispatch
    np.testing.assert_allclose(d.unserved_mw, [0, 0, 3, 3, 3, 3, 0, 0])
    np.testing.assert_allclose(d.load_served_mw[:, 0], [3, 3, 0, 0, 0, 0, 3, 3])
    np.testing.assert_allclose(d.load_served_mw[:, 1], 2.0)
    np.testing.assert_allclose(d.grid_import_mw, [3, 3, 0, 0, 0, 0, 3, 3])
    assert eng.island.tolist() == [0, 0, 1, 1, 1, 1, 0, 0]


def test_island_without_grid_forming_battery_is_a_blackout():
    """RES 1 MW, load 2 MW; grid out at steps 1-2 and the battery cannot form a grid.

    Connected, the battery (full, 5 MW) covers the 1 MW deficit; islanded, the
    park is dark: the 2 MW load is unserved and the 1 MW of RES curtailed.
    """
    n = 4
    inp = DispatchInputs(res_mw=np.full(n, 1.0), load_mw=np.full(n, 2.0),
                         import_limit_mw=10.0, export_limit_mw=0.0, bat_p_mw=[5.0],
                         bat_e_mwh=[10.0], bat_eta_charge=[1.0], bat_eta_discharge=[1.0],
                         bat_soc_min_pu=[0.0], bat_soc_max_pu=[1.0], bat_soc_initial_pu=[1.0],
                         bat_grid_forming=[0.0], dt_h=1.0)
    spec = EngineSpec(outages=(Outage("grid", 0, 1, 2),))
    eng = run_engine(inp, "self_consumption", spec, hour_of_step=np.zeros(n, int),
                     prices=np.zeros(n), valley=np.zeros(n))
    d = eng.dispatch
    np.testing.assert_allclose(d.unserved_mw, [0, 2, 2, 0])
    np.testing.assert_allclose(d.curtailed_mw, [0, 1, 1, 0])
    # connected steps: the battery covers the 1 MW deficit; islanded: nothing runs
    np.testing.assert_allclose(d.bat_discharge_mw[:, 0], [1, 0, 0, 1])
    np.testing.assert_allclose(d.grid_import_mw, [0, 0, 0, 0])


def test_trailer_pickups_empty_the_tank_and_full_tank_curtails_electrolysis():
    """Tank 10 kg, starts full, no continuous offtake; 20 kg/step of potential output.

    Steps 0-1: tank full -> electrolyser makes nothing, surplus exported.
    Step 2 starts with a trailer taking 8 kg: the unit refills 8 kg (4 MW x 0.25 h x
    1000 / 50 = 20 kg possible, tank room 8 kg -> 1.6 MW).
    """
    n = 4
    inp = DispatchInputs(res_mw=np.full(n, 4.0), load_mw=np.zeros(n), import_limit_mw=0.0,
                         export_limit_mw=10.0, el_p_mw=[4.0], el_kwh_per_kg=[50.0],
                         el_min_load_pu=[0.1], tank_capacity_kg=10.0, tank_initial_kg=10.0,
                         h2_demand_kg=np.zeros(n))
    spec = EngineSpec(trailers=Trailers((2,), 8.0))
    eng = run_engine(inp, "self_consumption", spec, hour_of_step=np.zeros(n, int),
                     prices=np.zeros(n), valley=np.zeros(n))
    d = eng.dispatch
    np.testing.assert_allclose(d.el_p_mw[:, 0], [0, 0, 1.6, 0], atol=1e-12)
    np.testing.assert_allclose(d.h2_produced_kg, [0, 0, 8, 0], atol=1e-12)
    np.testing.assert_allclose(d.grid_export_mw, [4, 4, 2.4, 4], atol=1e-12)
    assert eng.trailers == [{"step": 2, "demanded_kg": 8.0, "delivered_kg": 8.0}]
    assert eng.n_events == 1 and eng.n_kernel_calls == 1


def test_trucks_queue_for_chargers():
    """Two chargers of 1 MW, three trucks needing 0.5 MWh each arrive at step 0.

    Two charge at steps 0-1 (0.5 MWh = 2 steps at 1 MW x 0.25 h); the third waits
    until step 2 and charges at steps 2-3: wait 0.5 h.
    """
    n = 8
    inp = DispatchInputs(res_mw=np.zeros(n), load_mw=np.zeros((n, 1)), import_limit_mw=10.0,
                         export_limit_mw=0.0)
    spec = EngineSpec(trucks=Trucks((0, 0, 0), 0.5, 2, 1.0, 0))
    eng = run_engine(inp, "self_consumption", spec, hour_of_step=np.zeros(n, int),
                     prices=np.zeros(n), valley=np.zeros(n))
    np.testing.assert_allclose(eng.load_mw[:, 0], [2, 2, 1, 1, 0, 0, 0, 0])
    assert eng.trucks.wait_h.tolist() == [0.0, 0.0, 0.5]
    # two chargers of 1 MW, 0.5 MWh a truck: the third waits two steps of 15 min
    assert eng.trucks.records() == [
        {"arrival": 0, "start": 0, "end": 2, "wait_h": 0.0, "energy_mwh": 0.5},
        {"arrival": 0, "start": 0, "end": 2, "wait_h": 0.0, "energy_mwh": 0.5},
        {"arrival": 0, "start": 2, "end": 4, "wait_h": 0.5, "energy_mwh": 0.5}]
    assert len(eng.trucks) == 3


def test_flexible_load_moves_energy_from_deficit_to_surplus_within_the_day():
    """Load 2 MW flat over 4 steps; RES [4, 4, 0, 0]; share 25 %, max shift 1 MW.

    Budget = 0.25 x 8 MW x 1 h = 2 MWh: 1 MW moves from step 2 to step 0 and 1 MW
    from step 3 to step 1 (the deficits give, the surpluses take, 1 MW each at most).
    """
    new = shift_flexible_load(np.full(4, 2.0), np.array([2.0, 2.0, -2.0, -2.0]), 0.25, 1.0, 1.0)
    np.testing.assert_allclose(new, [3, 3, 1, 1])
    assert new.sum() == pytest.approx(8.0)


@settings(max_examples=200, deadline=None)
@given(st.lists(floats(0, 10), min_size=2, max_size=24), st.data())
def test_flexible_shift_keeps_energy_and_bounds(load, data):
    load = np.array(load)
    net = np.array(data.draw(st.lists(floats(-10, 10), min_size=len(load),
                                      max_size=len(load))))
    share, mx = data.draw(floats(0, 1)), data.draw(floats(0, 5))
    new = shift_flexible_load(load, net, share, mx, 0.25)
    assert new.sum() == pytest.approx(load.sum(), abs=1e-9)
    assert np.all(new >= -1e-12) and np.all(np.abs(new - load) <= mx + 1e-9)
    assert np.abs(new - load).sum() * 0.25 / 2 <= share * load.sum() * 0.25 + 1e-9


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([-2.0, -0.0, 0.0, 1.5, 3.0]) | floats(-10, 10), min_size=1,
                max_size=120))
def test_daily_plan_orders_equal_stable_sorts(net):
    """The engine's rank-counting orders equal stable merge sorts, ties in step order."""
    from parkgrid.engine.events import _stable_orders

    net = np.array(net)
    give, take = np.empty(len(net), np.int64), np.empty(len(net), np.int64)
    _stable_orders(net, give, take)
    np.testing.assert_array_equal(give, np.argsort(net, kind="stable"))
    np.testing.assert_array_equal(take, np.argsort(-net, kind="stable"))
