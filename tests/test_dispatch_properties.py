"""Random small parks: kernel == pure-Python reference, and the physics invariants."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from park_strategies import TOL, check_physics, parks
from reference_dispatch import self_consumption_reference

from parkgrid.dispatch import DispatchInputs, DispatchResult, run_dispatch

power = st.floats(0.0, 20.0, allow_nan=False)


def check_invariants(inp: DispatchInputs, r: DispatchResult) -> None:
    """The physics of any schedule, then what the self-consumption rule adds."""
    check_physics(inp, r)
    ch, dis, el = r.bat_charge_mw, r.bat_discharge_mw, r.el_p_mw
    # no simultaneous charge and discharge across the fleet either
    assert not np.any((ch.sum(axis=1) > TOL) & (dis.sum(axis=1) > TOL))
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
