"""Random small parks and the physics every schedule of one obeys, shared by the
dispatch (rule) and optimal (MILP) property tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from parkgrid.dispatch import DispatchInputs, DispatchResult

TOL = 1e-9  # balances and bookkeeping [MW, MWh, kg]


@st.composite
def parks(draw) -> DispatchInputs:
    """1-48 steps, up to two batteries and two electrolysers, an optional tank."""
    n = draw(st.integers(1, 48))
    nb = draw(st.integers(0, 2))
    ne = draw(st.integers(0, 2))
    arr = lambda k, lo, hi: np.array(draw(st.lists(st.floats(lo, hi), min_size=k,  # noqa: E731
                                                   max_size=k)))
    soc_min = arr(nb, 0.0, 0.4)
    soc_max = soc_min + arr(nb, 0.1, 0.6)
    soc_init = soc_min + (soc_max - soc_min) * arr(nb, 0.0, 1.0)
    has_tank = draw(st.booleans())
    cap = draw(st.floats(1.0, 500.0)) if has_tank else 0.0
    return DispatchInputs(
        res_mw=arr(n, 0.0, 20.0), load_mw=arr(n, 0.0, 20.0),
        import_limit_mw=arr(n, 0.0, 15.0), export_limit_mw=arr(n, 0.0, 15.0),
        bat_p_mw=arr(nb, 0.0, 10.0), bat_e_mwh=arr(nb, 0.5, 20.0),
        bat_eta_charge=arr(nb, 0.5, 1.0), bat_eta_discharge=arr(nb, 0.5, 1.0),
        bat_soc_min_pu=soc_min, bat_soc_max_pu=soc_max, bat_soc_initial_pu=soc_init,
        el_p_mw=arr(ne, 0.1, 10.0), el_kwh_per_kg=arr(ne, 40.0, 70.0),
        el_min_load_pu=arr(ne, 0.0, 0.6),
        tank_capacity_kg=cap,
        tank_initial_kg=draw(st.floats(0.0, 1.0)) * cap,
        h2_demand_kg=arr(n, 0.0, 60.0) if has_tank else None,
        dt_h=draw(st.sampled_from([0.25, 0.5, 1.0])),
    )


def check_physics(inp: DispatchInputs, r: DispatchResult, bound_tol: float = TOL) -> None:
    """Assert the physics of a schedule of *inp*, whichever strategy made it.

    Energy balance every step, non-negative flows within their limits, no battery
    charging and discharging in one step, battery and tank bookkeeping, the
    electrolysers' load range and hydrogen yield. Balances and bookkeeping hold to
    :data:`TOL`; bounds to *bound_tol* (an LP solver's feasibility tolerance).
    """
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
    assert not np.any((ch > 0) & (dis > 0))  # per battery
    if len(inp.bat_p_mw):  # power ratings, SOC bounds and bookkeeping with efficiencies
        assert np.all(ch <= inp.bat_p_mw + TOL) and np.all(dis <= inp.bat_p_mw + TOL)
        e_min = inp.bat_e_mwh * inp.bat_soc_min_pu
        e_max = inp.bat_e_mwh * inp.bat_soc_max_pu
        assert np.all(r.bat_e_mwh >= e_min - bound_tol)
        assert np.all(r.bat_e_mwh <= e_max + bound_tol)
        e_prev = np.vstack([inp.bat_e_mwh * inp.bat_soc_initial_pu, r.bat_e_mwh[:-1]])
        step = ch * inp.bat_eta_charge * dt - dis / inp.bat_eta_discharge * dt
        np.testing.assert_allclose(r.bat_e_mwh, e_prev + step, rtol=0, atol=TOL)
    if len(inp.el_p_mw):  # off or between minimum load and rating; kg = MWh 1000 / (kWh/kg)
        on = el > 0
        assert np.all(~on | (el >= inp.el_min_load_pu * inp.el_p_mw - TOL))
        assert np.all(el <= inp.el_p_mw + TOL)
        kg = (el * dt * 1000.0 / inp.el_kwh_per_kg).sum(axis=1)
        np.testing.assert_allclose(r.h2_produced_kg, kg, rtol=1e-12, atol=TOL)
    else:
        assert np.all(r.h2_produced_kg == 0)
    if inp.h2_demand_kg is not None:  # tank within bounds and mass-consistent
        assert np.all(r.tank_kg <= inp.tank_capacity_kg + bound_tol)
        prev = np.concatenate([[inp.tank_initial_kg], r.tank_kg[:-1]])
        np.testing.assert_allclose(r.tank_kg, prev + r.h2_produced_kg - r.h2_delivered_kg,
                                   rtol=0, atol=1e-6)
        np.testing.assert_allclose(r.h2_delivered_kg + r.h2_shortfall_kg, inp.h2_demand_kg,
                                   rtol=0, atol=1e-6)
    else:
        np.testing.assert_allclose(r.h2_delivered_kg, r.h2_produced_kg, rtol=0, atol=TOL)


def windows_without_and_with_cuts(inp: DispatchInputs, prices, head: int):
    """The window over all of *inp*'s steps, first without the valid cuts, then with.

    Its first *head* steps' binaries are binary, the rest relaxed; the state is the
    park's initial one.
    """
    from parkgrid.optimal._inputs import park_arrays
    from parkgrid.optimal.model import WindowState, build_window

    park = park_arrays(inp)
    n = inp.n_steps
    rp = prices.resolve(inp)
    state = WindowState(park.bat_e0.copy(), park.tank0_kg, {})
    plain = build_window(park, rp, 0, n, state, integer_steps=min(head, n))
    cut = build_window(park, rp, 0, n, state, integer_steps=min(head, n), valid_cuts=True)
    return plain, cut


def check_cuts_at_random_schedules(inp: DispatchInputs, prices, head: int, seed: int,
                                   draws: int = 3) -> None:
    """Assert that the rows of parkgrid.optimal._cuts hold at integer schedules of a window.

    The window over all of *inp*'s steps, its first *head* steps' binaries binary,
    is solved *draws* times without the cuts (HiGHS, presolve off, to a 1e-9 gap)
    for random objectives (seeded by *seed*; columns without an upper bound keep a
    non-negative cost, so each is bounded): each optimum is a different feasible
    schedule, and every cut row must hold there (to 1e-6, relative).
    """
    from parkgrid.optimal._highs import HighsWindow

    plain, cut = windows_without_and_with_cuts(inp, prices, head)
    first_cut = plain.A.shape[0]  # the plain rows come first, the cuts after them
    hi = cut.row_hi[first_cut:]
    rng = np.random.default_rng(seed)
    for _ in range(draws):
        c = rng.normal(size=plain.c.size) * (1.0 + np.abs(plain.c))
        c[~np.isfinite(plain.ub)] = np.abs(c[~np.isfinite(plain.ub)])
        hw = HighsWindow(c, plain.A, plain.row_lo, plain.row_hi, time_limit_s=60.0,
                         node_limit=100_000)
        mip = hw.solve(plain.integrality, plain.lb, plain.ub, abs_gap=1e-9, presolve=False)
        assert mip.x is not None
        x = mip.x.copy()
        x[plain.integrality > 0] = np.round(x[plain.integrality > 0])
        ax = (cut.A @ x)[first_cut:]
        bad = np.flatnonzero(ax > hi + 1e-6 * (1.0 + np.abs(hi)))
        names = [nm for nm, r0, r1 in cut.row_blocks for r in bad + first_cut if r0 <= r < r1]
        assert not bad.size, names
