"""Random small parks: the optimum never loses to the rule, and its schedule is physical."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from park_strategies import parks

from parkgrid.dispatch import DispatchInputs, DispatchResult, run_dispatch
from parkgrid.optimal import OptimalOptions, Prices, evaluate_objective, solve_optimal

TOL = 1e-9  # balances and bookkeeping
BOUND_TOL = 1e-6  # bounds: HiGHS's feasibility tolerance, scaled


@st.composite
def priced_parks(draw) -> tuple[DispatchInputs, Prices]:
    inp = draw(parks())
    n = inp.n_steps
    vec = lambda lo, hi: np.array(draw(st.lists(st.floats(lo, hi), min_size=n,  # noqa: E731
                                                max_size=n)))
    prices = Prices(
        import_cny_per_mwh=vec(0.0, 1000.0), export_cny_per_mwh=vec(0.0, 400.0),
        period=np.repeat([1, 2], [n // 2, n - n // 2]),
        capacity_charge_cny_per_mw_month=draw(st.floats(0.0, 2000.0)),
        carbon_cny_per_t=draw(st.floats(0.0, 200.0)), ef_kg_per_kwh=0.6849,
        hydrogen_cny_per_kg=draw(st.floats(0.0, 40.0)),
        unserved_cny_per_mwh=draw(st.floats(1000.0, 20000.0)),
        shortfall_cny_per_kg=draw(st.floats(50.0, 300.0)),
    )
    return inp, prices


def check_physics(inp: DispatchInputs, r: DispatchResult) -> None:
    dt = inp.dt_h
    ch, dis, el = r.bat_charge_mw, r.bat_discharge_mw, r.el_p_mw
    lhs = inp.res_mw - r.curtailed_mw + r.grid_import_mw + dis.sum(axis=1)
    rhs = inp.load_mw - r.unserved_mw + ch.sum(axis=1) + el.sum(axis=1) + r.grid_export_mw
    np.testing.assert_allclose(lhs, rhs, rtol=0, atol=TOL)
    for a in (r.curtailed_mw, r.unserved_mw, r.grid_import_mw, r.grid_export_mw, ch, dis, el,
              r.h2_produced_kg, r.h2_delivered_kg, r.h2_shortfall_kg, r.tank_kg):
        assert np.all(a >= -TOL)
    assert np.all(r.grid_import_mw <= inp.import_limit_mw + TOL)
    assert np.all(r.grid_export_mw <= inp.export_limit_mw + TOL)
    assert np.all(r.curtailed_mw <= inp.res_mw + TOL)
    assert np.all(r.unserved_mw <= inp.load_mw + TOL)
    # no battery charges and discharges in the same step
    assert not np.any((ch > 0) & (dis > 0))
    if len(inp.bat_p_mw):
        assert np.all(ch <= inp.bat_p_mw + TOL) and np.all(dis <= inp.bat_p_mw + TOL)
        e_min = inp.bat_e_mwh * inp.bat_soc_min_pu
        e_max = inp.bat_e_mwh * inp.bat_soc_max_pu
        assert np.all(r.bat_e_mwh >= e_min - BOUND_TOL)
        assert np.all(r.bat_e_mwh <= e_max + BOUND_TOL)
        e_prev = np.vstack([inp.bat_e_mwh * inp.bat_soc_initial_pu, r.bat_e_mwh[:-1]])
        step = ch * inp.bat_eta_charge * dt - dis / inp.bat_eta_discharge * dt
        np.testing.assert_allclose(r.bat_e_mwh, e_prev + step, rtol=0, atol=TOL)
    if len(inp.el_p_mw):
        on = el > 0
        assert np.all(~on | (el >= inp.el_min_load_pu * inp.el_p_mw - TOL))
        assert np.all(el <= inp.el_p_mw + TOL)
        kg = (el * dt * 1000.0 / inp.el_kwh_per_kg).sum(axis=1)
        np.testing.assert_allclose(r.h2_produced_kg, kg, rtol=1e-12, atol=TOL)
    else:
        assert np.all(r.h2_produced_kg == 0)
    if inp.h2_demand_kg is not None:
        assert np.all(r.tank_kg <= inp.tank_capacity_kg + BOUND_TOL)
        prev = np.concatenate([[inp.tank_initial_kg], r.tank_kg[:-1]])
        np.testing.assert_allclose(r.tank_kg, prev + r.h2_produced_kg - r.h2_delivered_kg,
                                   rtol=0, atol=1e-6)
        np.testing.assert_allclose(r.h2_delivered_kg + r.h2_shortfall_kg, inp.h2_demand_kg,
                                   rtol=0, atol=1e-6)
    else:
        np.testing.assert_allclose(r.h2_delivered_kg, r.h2_produced_kg, rtol=0, atol=TOL)


@settings(max_examples=120, deadline=None)
@given(priced_parks())
def test_optimum_never_worse_than_the_rule(case):
    """One window over the whole horizon, MIP gap 0: optimum <= rule + 1e-6 (relative)."""
    inp, prices = case
    opt = solve_optimal(inp, prices, OptimalOptions(window_h=1e6, commit_h=1e6, mip_rel_gap=0.0,
                                                    strict_h2_demand=False))
    check_physics(inp, opt.dispatch)
    rule = evaluate_objective(inp, prices, run_dispatch(inp)).total
    assert opt.objective.total <= rule + 1e-6 * max(1.0, abs(rule))
    again = evaluate_objective(inp, prices, opt.dispatch).total
    assert again == opt.objective.total


@settings(max_examples=40, deadline=None)
@given(priced_parks(), st.integers(1, 12), st.integers(0, 12))
def test_rolling_windows_are_physical(case, commit, extra):
    """Any window/commit split chains state correctly (SOC, tank, peaks)."""
    inp, prices = case
    dt = inp.dt_h
    opt = OptimalOptions(window_h=(commit + extra) * dt, commit_h=commit * dt,
                         strict_h2_demand=False)
    sol = solve_optimal(inp, prices, opt)
    check_physics(inp, sol.dispatch)
    n = inp.n_steps
    assert [w.t0 for w in sol.windows] == list(range(0, n, commit))[:len(sol.windows)]
    assert sol.windows[-1].commit_end == n
