"""Warm start of a window's LP relaxation from the previous window's basis.

The basis is carried by step (:func:`parkgrid.optimal.model.carry_basis`); it
changes where the simplex starts, never the optimum.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_optimal_properties import priced_parks

from parkgrid.dispatch import DispatchInputs
from parkgrid.optimal import Prices
from parkgrid.optimal._highs import HighsWindow
from parkgrid.optimal._inputs import park_arrays
from parkgrid.optimal.model import (
    BASIS_BASIC,
    BASIS_LOWER,
    BASIS_UPPER,
    WindowModel,
    WindowState,
    build_window,
    carry_basis,
    vertex_basis,
)


def _days(n_days: int = 4) -> tuple[DispatchInputs, Prices]:
    """Hourly park, a battery, an electrolyser with a minimum load and a tank; export
    pays more than the valley import (direction binaries), a capacity charge (peaks)."""
    n = 24 * n_days
    hour = np.arange(n) % 24
    rng = np.random.default_rng(7)
    res = np.clip(30.0 * np.sin(np.pi * (hour - 6) / 12), 0.0, None) * rng.uniform(0.6, 1.2, n)
    inp = DispatchInputs(
        res_mw=res, load_mw=8.0 + 4.0 * rng.uniform(0, 1, n), import_limit_mw=25.0,
        export_limit_mw=15.0, bat_p_mw=[6.0], bat_e_mwh=[24.0], bat_eta_charge=[0.95],
        bat_eta_discharge=[0.95], bat_soc_min_pu=[0.1], bat_soc_max_pu=[0.9],
        bat_soc_initial_pu=[0.5], el_p_mw=[10.0], el_kwh_per_kg=[52.0],
        el_min_load_pu=[0.4], tank_capacity_kg=4000.0, tank_initial_kg=1000.0,
        h2_demand_kg=np.full(n, 40.0), dt_h=1.0,
    )
    tou = np.where((hour < 7) | (hour >= 23), 220.0, np.where((hour >= 17) & (hour < 21),
                                                               1100.0, 650.0))
    prices = Prices(import_cny_per_mwh=tou, export_cny_per_mwh=np.full(n, 282.9),
                    period=np.repeat([1, 2], [n // 2, n - n // 2]),
                    capacity_charge_cny_per_mw_month=30_000.0, hydrogen_cny_per_kg=25.0)
    return inp, prices


def _window(inp: DispatchInputs, prices: Prices, t0: int, t1: int, head: int) -> WindowModel:
    park = park_arrays(inp)
    state = WindowState(park.bat_e0.copy(), park.tank0_kg, {1: 12.0})
    return build_window(park, prices.resolve(inp), t0, t1, state, integer_steps=head,
                        valid_cuts=True)


def _relax(m: WindowModel, basis=None):
    hw = HighsWindow(m.c, m.A, m.row_lo, m.row_hi, time_limit_s=60.0, node_limit=100)
    if basis is not None:
        hw.set_basis(*basis)
    r = hw.solve(np.zeros_like(m.integrality), m.lb, m.ub, presolve=False)
    assert r.status_text == "optimal" and r.x is not None
    return r, int(hw._h.getInfo().simplex_iteration_count)


def test_carried_statuses_follow_the_steps_of_each_block():
    """A column or row at step t of the next window gets the status of the same block
    and position at step t + shift of the previous one; the new tail, that of the
    steps one shift earlier (the same hour, with a window of two shifts)."""
    inp, prices = _days()
    old, new = _window(inp, prices, 0, 48, 24), _window(inp, prices, 24, 72, 24)
    rng = np.random.default_rng(1)
    col = rng.choice([BASIS_LOWER, BASIS_BASIC], old.c.size).astype(np.int8)
    row = rng.choice([BASIS_LOWER, BASIS_BASIC, BASIS_UPPER], old.A.shape[0]).astype(np.int8)
    c_new, r_new = carry_basis(old, col, row, new, 24)
    for name in ("imp", "exp", "ch", "dis", "e", "el", "on", "tank", "deliv"):
        for t in range(48):
            np.testing.assert_array_equal(c_new[new.blocks[name][t]],
                                          col[old.blocks[name][(t + 24) % 48]], err_msg=name)
    # direction binaries sit at their own steps (the valley): matched by step too
    g_old = dict(zip(old.blocks["importing_steps"].tolist(), old.blocks["importing"].tolist(),
                     strict=True))
    for s, j in zip(new.blocks["importing_steps"], new.blocks["importing"], strict=True):
        assert c_new[j] == col[g_old[(int(s) + 24) % 48]]
    # rows: the balance and battery energy (equalities: every status is kept as it is)
    first = {name: start for name, start, _ in old.row_blocks}
    first_new = {name: start for name, start, _ in new.row_blocks}
    for name in ("power balance", "battery energy"):
        for t in range(48):
            assert r_new[first_new[name] + t] == row[first[name] + (t + 24) % 48], (name, t)
    # each cut row at the step it was added for (the head only in both windows)
    for name in ("cut: export mode, electrolysers + charging", "cut: import mode, grid only",
                 "cut: electrolyser above the surplus#0"):
        code = _tag(name)
        o = np.flatnonzero((old.row_tag >> 20) == code)
        w = np.flatnonzero((new.row_tag >> 20) == code)
        assert o.size and w.size, name
        by_step = dict(zip(old.row_step[o].tolist(), row[o].tolist(), strict=True))
        for i in w:
            want = by_step.get((int(new.row_step[i]) + 24) % 48, BASIS_BASIC)
            assert r_new[i] == want


def _tag(name: str) -> int:
    base, _, occ = name.partition("#")
    from parkgrid.optimal.model import _code
    return _code(f"{base}#{occ or 0}")


def test_warm_relaxation_reaches_the_cold_optimum_in_fewer_iterations():
    inp, prices = _days()
    old, new = _window(inp, prices, 0, 48, 24), _window(inp, prices, 24, 72, 24)
    r_old, _ = _relax(old)
    cold, it_cold = _relax(new)
    warm, it_warm = _relax(new, carry_basis(old, *vertex_basis(old, r_old.x), new, 24))
    np.testing.assert_allclose(warm.fun, cold.fun, rtol=1e-9, atol=1e-6)
    assert it_warm < it_cold / 2, (it_warm, it_cold)


def test_vertex_basis_reads_bounds_off_the_point():
    inp, prices = _days(2)
    m = _window(inp, prices, 0, 48, 24)
    r, it_cold = _relax(m)
    col, row = vertex_basis(m, r.x)
    x = r.x
    at_lo = np.abs(x - m.lb) <= 1e-9 * np.maximum(1.0, np.abs(m.lb))
    assert np.all(col[at_lo] == BASIS_LOWER)
    inside = (x > m.lb + 1e-6) & (x < m.ub - 1e-6)
    assert np.all(col[inside] == BASIS_BASIC)
    ax = m.A @ x
    assert np.all(row[(ax > m.row_lo + 1e-6) & (ax < m.row_hi - 1e-6)] == BASIS_BASIC)
    # the vertex restarts its own LP in a few (degenerate) iterations
    again, iters = _relax(m, (col, row))
    np.testing.assert_allclose(again.fun, r.fun, rtol=1e-9)
    assert iters < it_cold / 4, (iters, it_cold)


@settings(max_examples=40, deadline=None)
@given(priced_parks(), st.integers(1, 12), st.integers(0, 12),
       st.integers(0, 2**32 - 1))
def test_any_carried_or_garbage_basis_gives_the_same_relaxation(case, shift, extra, seed):
    """Random parks and splits: the relaxation from the carried basis, or from random
    statuses, has the optimum of the cold start (HiGHS repairs an alien basis)."""
    inp, prices = case
    n = inp.n_steps
    win = min(shift + extra, n)
    if shift >= n or win <= shift:
        return
    park = park_arrays(inp)
    state = WindowState(park.bat_e0.copy(), park.tank0_kg, {})
    rp = prices.resolve(inp)
    old = build_window(park, rp, 0, win, state, integer_steps=shift, valid_cuts=True)
    t1 = min(shift + win, n)
    new = build_window(park, rp, shift, t1, state, integer_steps=min(shift, t1 - shift),
                       valid_cuts=True)
    r_old, _ = _relax(old)
    cold, _ = _relax(new)
    tol = 1e-7 * max(1.0, abs(cold.fun))
    warm, _ = _relax(new, carry_basis(old, *vertex_basis(old, r_old.x), new, shift))
    assert abs(warm.fun - cold.fun) <= tol
    rng = np.random.default_rng(seed)
    junk = (rng.integers(0, 4, new.c.size).astype(np.int8),
            rng.integers(0, 4, new.A.shape[0]).astype(np.int8))
    odd, _ = _relax(new, junk)
    assert abs(odd.fun - cold.fun) <= tol


def test_each_column_and_row_is_named_by_its_step_and_position():
    """``col_step`` / ``col_tag`` (and the rows') name an entry of a (steps x units)
    block by its step and its unit; blocks without a step (a period's peak) by -1."""
    import dataclasses

    inp, prices = _days()
    two = {f: [v[0], v[0]] for f, v in vars(inp).items()
           if f.startswith("bat_") and isinstance(v, list)}
    m = _window(dataclasses.replace(inp, **two), prices, 0, 48, 24)
    for name in ("ch", "dis", "e"):
        idx = m.blocks[name]
        assert idx.shape == (48, 2)
        steps, units = np.meshgrid(np.arange(48), np.arange(2), indexing="ij")
        np.testing.assert_array_equal(m.col_step[idx], steps, err_msg=name)
        np.testing.assert_array_equal(m.col_tag[idx] & 0xFFFFF, units, err_msg=name)
        assert np.unique(m.col_tag[idx] >> 20).size == 1
    assert np.all(m.col_step[m.blocks["peak"]] == -1)
    first = {name: (start, end) for name, start, end in m.row_blocks}
    start, end = first["battery energy"]
    np.testing.assert_array_equal(m.row_step[start:end], np.repeat(np.arange(48), 2))
    np.testing.assert_array_equal(m.row_tag[start:end] & 0xFFFFF, np.tile([0, 1], 48))
