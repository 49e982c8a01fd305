"""The sizing LP's second pass in windows (:mod:`parkgrid.sizing._windows`), on its own.

A small LP with the structure of the sizing LP, written here: per step a purchase
``buy_t``, a charge ``ch_t``, a discharge ``dis_t`` and an energy ``e_t`` (a storage
chain across steps), one column of no step (a peak, ``buy_t <= peak``, which is
charged for) and one row over the whole horizon (purchases within a budget). The
reference is scipy's ``linprog`` on the whole LP.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import linprog

from parkgrid.sizing._windows import repair_in_windows


def _storage_lp(n: int, seed: int):
    """``(c, A, rlo, rhi, lb, ub, col_step)`` of the LP in the module doc, *n* steps."""
    rng = np.random.default_rng(seed)
    load = rng.uniform(1.0, 5.0, n)
    price = rng.uniform(100.0, 600.0, n)
    buy, ch, dis, e = (np.arange(n) * 4 + k for k in range(4))
    peak = 4 * n
    nv = 4 * n + 1
    rows, cols, vals, lo, hi = [], [], [], [], []

    def row(coef: dict[int, float], a: float, b: float) -> None:
        r = len(lo)
        for j, v in coef.items():
            rows.append(r)
            cols.append(j)
            vals.append(v)
        lo.append(a)
        hi.append(b)

    for t in range(n):
        row({buy[t]: 1.0, dis[t]: 1.0, ch[t]: -1.0}, load[t], load[t])  # balance
        prev = {e[t - 1]: -1.0} if t else {}
        start = 0.0 if t else 4.0  # the store starts with 4 MWh
        row({e[t]: 1.0, ch[t]: -0.9, dis[t]: 1.0 / 0.9, **prev}, start, start)
        row({buy[t]: 1.0, peak: -1.0}, -np.inf, 0.0)
    row({j: 1.0 for j in buy}, -np.inf, 1.2 * float(load.sum()))  # budget
    A = sparse.csr_array((vals, (rows, cols)), shape=(len(lo), nv))
    c = np.zeros(nv)
    c[buy], c[peak] = price, 300.0
    c[ch] = c[dis] = 1.0  # wear
    lb, ub = np.zeros(nv), np.full(nv, np.inf)
    ub[ch] = ub[dis] = 2.0
    ub[e] = 10.0
    lb[e[-1]] = 4.0  # ends where it started
    col_step = np.full(nv, -1, np.int64)
    for blk in (buy, ch, dis, e):
        col_step[blk] = np.arange(n)
    return c, A, np.array(lo), np.array(hi), lb, ub, col_step


def _feasible_start(c, A, rlo, rhi, lb, ub, seed):
    """A vertex of the same LP for another cost: feasible, rarely optimal."""
    other = np.random.default_rng(seed + 1).uniform(0.0, 1000.0, c.size)
    return _linprog(other, A, rlo, rhi, lb, ub)[0]


def _linprog(c, A, rlo, rhi, lb, ub):
    eq = rlo == rhi
    ge = np.isfinite(rlo) & ~eq
    a_ub = sparse.vstack([A[~eq & np.isfinite(rhi)], -A[ge]])
    b_ub = np.concatenate([rhi[~eq & np.isfinite(rhi)], -rlo[ge]])
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=A[eq], b_eq=rlo[eq],
                  bounds=list(zip(lb, ub, strict=True)), method="highs")
    assert res.status == 0, res.message
    return res.x, float(res.fun)


def _max_violation(A, rlo, rhi, lb, ub, x) -> float:
    r = A @ x
    return float(max(np.max(rlo - r, initial=0.0), np.max(r - rhi, initial=0.0),
                     np.max(lb - x, initial=0.0), np.max(x - ub, initial=0.0)))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), window=st.integers(1, 9), sweeps=st.integers(1, 3))
def test_windows_keep_feasibility_and_never_cost_more(seed, window, sweeps):
    """From a feasible start, every window keeps the point feasible for the whole LP and
    the cost never rises; it stays at or above the whole LP's optimum; another sweep
    never costs more than fewer sweeps."""
    n = 24
    c, A, rlo, rhi, lb, ub, col_step = _storage_lp(n, seed)
    x0 = _feasible_start(c, A, rlo, rhi, lb, ub, seed)
    _, best = _linprog(c, A, rlo, rhi, lb, ub)
    x, rep = repair_in_windows(c, A, rlo, rhi, lb, ub, x0, col_step, window_steps=window,
                               sweeps=sweeps)
    tol = 1e-6 * max(1.0, abs(best))
    assert _max_violation(A, rlo, rhi, lb, ub, x) <= 1e-6
    assert best - tol <= c @ x <= c @ x0 + tol
    assert rep.windows >= sweeps * (-(-n // window))
    if sweeps > 1:
        x1, _ = repair_in_windows(c, A, rlo, rhi, lb, ub, x0, col_step, window_steps=window,
                                  sweeps=sweeps - 1)
        assert c @ x <= c @ x1 + tol


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_window_over_the_horizon_is_the_lp_optimum(seed):
    """With a window as long as the horizon, the pass solves the whole LP: scipy's
    optimum, to 1e-7 relative."""
    n = 24
    c, A, rlo, rhi, lb, ub, col_step = _storage_lp(n, seed)
    x0 = _feasible_start(c, A, rlo, rhi, lb, ub, seed)
    _, best = _linprog(c, A, rlo, rhi, lb, ub)
    assert c @ x0 > best + 1.0  # the start is not already optimal
    x, rep = repair_in_windows(c, A, rlo, rhi, lb, ub, x0, col_step, window_steps=n, sweeps=1)
    assert c @ x == pytest.approx(best, rel=1e-7)
    assert rep.windows == 1 and rep.kept == 0


def test_short_windows_see_the_rows_they_share():
    """Three-step windows on the storage chain: a window's first energy row holds the
    previous step's energy (another window's column) and the budget row every purchase;
    a pass that dropped those columns' contribution would leave rows violated. After
    four sweeps (the second and fourth shifted by one step) the point is feasible and
    cheaper than the start. (One-step windows could not move it: with both neighbours'
    energies held, a step's energy is pinned, a limit of any block-by-block pass.)"""
    n = 24
    c, A, rlo, rhi, lb, ub, col_step = _storage_lp(n, 7)
    x0 = _feasible_start(c, A, rlo, rhi, lb, ub, 7)
    x, rep = repair_in_windows(c, A, rlo, rhi, lb, ub, x0, col_step, window_steps=3, sweeps=4)
    assert _max_violation(A, rlo, rhi, lb, ub, x) <= 1e-6
    assert c @ x < c @ x0 - 1.0
    assert rep.windows == 2 * 8 + 2 * 9  # shifted: [0, 1), [1, 4), ..., [22, 24)


def test_bad_window_is_refused():
    c, A, rlo, rhi, lb, ub, col_step = _storage_lp(4, 0)
    with pytest.raises(ValueError, match="window_steps must be >= 1"):
        repair_in_windows(c, A, rlo, rhi, lb, ub, np.zeros(c.size), col_step, window_steps=0)
