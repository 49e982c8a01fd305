"""Random small parks: kernel == pure-Python reference, and the physics invariants."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from park_strategies import parks
from reference_dispatch import self_consumption_reference

from parkgrid.dispatch import DispatchInputs, DispatchResult, run_dispatch

TOL = 1e-9
power = st.floats(0.0, 20.0, allow_nan=False)


def check_invariants(inp: DispatchInputs, r: DispatchResult) -> None:
    dt = inp.dt_h
    ch, dis, el = r.bat_charge_mw, r.bat_discharge_mw, r.el_p_mw
    # energy balance every step [MW]
    lhs = inp.res_mw - r.curtailed_mw + r.grid_import_mw + dis.sum(axis=1)
    rhs = inp.load_mw - r.unserved_mw + ch.sum(axis=1) + el.sum(axis=1) + r.grid_export_mw
    np.testing.assert_allclose(lhs, rhs, rtol=0, atol=TOL)
    # non-negative flows within their limits
    for a in (r.curtailed_mw, r.unserved_mw, r.grid_import_mw, r.grid_export_mw, ch, dis, el,
              r.h2_produced_kg, r.h2_delivered_kg, r.h2_shortfall_kg, r.tank_kg):
        assert np.all(a >= -TOL)
    assert np.all(r.grid_import_mw <= inp.import_limit_mw + TOL)
    assert np.all(r.grid_export_mw <= inp.export_limit_mw + TOL)
    assert np.all(r.curtailed_mw <= inp.res_mw + TOL)
    # no simultaneous charge and discharge, neither per battery nor across the fleet
    assert not np.any((ch > TOL) & (dis > TOL))
    assert not np.any((ch.sum(axis=1) > TOL) & (dis.sum(axis=1) > TOL))
    # power ratings, SOC bounds and SOC bookkeeping with efficiencies
    if len(inp.bat_p_mw):
        assert np.all(ch <= inp.bat_p_mw + TOL) and np.all(dis <= inp.bat_p_mw + TOL)
        e_min = inp.bat_e_mwh * inp.bat_soc_min_pu
        e_max = inp.bat_e_mwh * inp.bat_soc_max_pu
        assert np.all(r.bat_e_mwh >= e_min - TOL) and np.all(r.bat_e_mwh <= e_max + TOL)
        e_prev = np.vstack([inp.bat_e_mwh * inp.bat_soc_initial_pu, r.bat_e_mwh[:-1]])
        step = ch * inp.bat_eta_charge * dt - dis / inp.bat_eta_discharge * dt
        np.testing.assert_allclose(r.bat_e_mwh, e_prev + step, rtol=0, atol=TOL)
    # electrolysers: off or between minimum load and rating; H2 mass = MWh x 1000 / (kWh/kg)
    if len(inp.el_p_mw):
        on = el > 0
        assert np.all(~on | (el >= inp.el_min_load_pu * inp.el_p_mw - TOL))
        assert np.all(el <= inp.el_p_mw + TOL)
        kg = (el * dt * 1000.0 / inp.el_kwh_per_kg).sum(axis=1)
        np.testing.assert_allclose(r.h2_produced_kg, kg, rtol=1e-12, atol=TOL)
    else:
        assert np.all(r.h2_produced_kg == 0)
    # tank within bounds and mass-consistent
    if inp.h2_demand_kg is not None:
        assert np.all(r.tank_kg <= inp.tank_capacity_kg + TOL)
        prev = np.concatenate([[inp.tank_initial_kg], r.tank_kg[:-1]])
        np.testing.assert_allclose(r.tank_kg, prev + r.h2_produced_kg - r.h2_delivered_kg,
                                   rtol=0, atol=1e-6)
        np.testing.assert_allclose(r.h2_delivered_kg + r.h2_shortfall_kg, inp.h2_demand_kg,
                                   rtol=0, atol=1e-6)
    # electrolysers and batteries only charge from surplus; imports only in deficit
    surplus = inp.res_mw >= inp.load_mw
    assert np.all(r.grid_import_mw[surplus] == 0)
    assert np.all(el.sum(axis=1)[~surplus] == 0)
    # unserved energy only when the import limit binds
    short = r.unserved_mw > TOL
    np.testing.assert_allclose(r.grid_import_mw[short], inp.import_limit_mw[short], atol=TOL)


@settings(max_examples=300, deadline=None)
@given(parks())
def test_kernel_matches_reference_and_invariants(inp: DispatchInputs):
    r = run_dispatch(inp)
    ref = self_consumption_reference(inp)
    pairs = {
        "imp": r.grid_import_mw, "exp": r.grid_export_mw, "curt": r.curtailed_mw,
        "unserved": r.unserved_mw, "ch": r.bat_charge_mw, "dis": r.bat_discharge_mw,
        "e": r.bat_e_mwh, "el": r.el_p_mw, "h2_prod": r.h2_produced_kg,
        "h2_del": r.h2_delivered_kg, "h2_short": r.h2_shortfall_kg, "tank": r.tank_kg,
    }
    for key, got in pairs.items():
        want = np.array(ref[key], dtype=float).reshape(got.shape)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9, err_msg=key)
    check_invariants(inp, r)


def test_unknown_strategy_is_a_clear_error():
    inp = DispatchInputs(res_mw=[1.0], load_mw=[0.0], import_limit_mw=0, export_limit_mw=0)
    try:
        run_dispatch(inp, "nonsense")
    except ValueError as exc:
        assert "nonsense" in str(exc) and "self_consumption" in str(exc)
    else:
        raise AssertionError("no error")


def test_nan_input_is_rejected():
    inp = DispatchInputs(res_mw=[np.nan], load_mw=[0.0], import_limit_mw=0, export_limit_mw=0)
    try:
        run_dispatch(inp)
    except ValueError as exc:
        assert "NaN" in str(exc)
    else:
        raise AssertionError("no error")
