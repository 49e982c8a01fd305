"""HiPO's split of dense columns (parkgrid.sizing._hipo): the same LP, the same optimum."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from test_sizing import _small_problem

from parkgrid.sizing import _hipo, solve_sizing
from parkgrid.sizing._highs_lp import HighsLp
from parkgrid.sizing._hipo import HipoLp, _split_dense
from parkgrid.sizing.lp import build_sizing

pytestmark = pytest.mark.skipif(not _hipo.hipo_available(), reason="needs cyhighs")


def test_split_dense_column_copies_and_links():
    # column 2 touches rows at steps 0..5; groups of 2 steps give 3 copies, 2 links
    a = sparse.csc_array(np.array([[1.0, 0, 2], [0, 1, 3], [1, 0, 4], [0, 1, 5],
                                   [1, 0, 6], [0, 1, 7]]))
    col_step = np.array([-1, -1, -1])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_hipo, "_DENSE_NNZ", 3)
        mp.setattr(_hipo, "_SPLIT_STEPS", 2)
        # the per-step columns 0, 1 get their steps from a diagonal of step columns
        a = sparse.csc_array(sparse.hstack([a, sparse.eye(6)]))
        col_step = np.concatenate([col_step, np.arange(6)])
        out, copies = _split_dense(a, col_step)
    assert list(copies) == [2]
    assert copies[2].tolist() == [9, 10]
    d = out.toarray()
    assert d.shape == (8, 11)
    # each group's rows moved to its copy, the values unchanged
    assert d[:2, 2].tolist() == [2, 3] and d[2:4, 9].tolist() == [4, 5]
    assert d[4:6, 10].tolist() == [6, 7]
    assert not d[:6, 2][2:].any()
    # links: copy_g - copy_g+1 = 0
    assert d[6].tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 0, -1, 0]
    assert d[7].tolist() == [0] * 9 + [1, -1]


@pytest.mark.parametrize("seed", [3, 11])
def test_split_lp_has_the_simplex_optimum(monkeypatch, seed):
    """A small park sized by HiPO with every capacity column split per 5 steps (and
    once more with new bounds on the split columns, as a second pass sets them) has
    simplex's optimum on the unsplit LP."""
    caps = {"pv": (0.0, 20.0, 1.5e5), "bp": (0.0, 8.0, 2e4), "be": (0.0, 30.0, 4e4)}
    prob = _small_problem(3, 0.0, 5.0, seed, caps)
    simplex = solve_sizing(prob, solver="simplex")
    monkeypatch.setattr(_hipo, "_DENSE_NNZ", 20)
    monkeypatch.setattr(_hipo, "_SPLIT_STEPS", 5)
    split_calls = []

    def spy(csc, col_step):
        out, copies = _split_dense(csc, col_step)
        split_calls.append(copies)
        return out, copies

    monkeypatch.setattr(_hipo, "_split_dense", spy)
    hipo = solve_sizing(prob, solver="hipo")
    assert split_calls and len(split_calls[0]) >= 3  # PV, battery power and energy
    assert hipo.cost["total_cny"] == pytest.approx(simplex.cost["total_cny"], rel=1e-7)
    for path, v in simplex.capacities.items():
        assert hipo.capacities[path] == pytest.approx(v, abs=1e-4)


def test_bounds_on_a_split_column_reach_its_copies(monkeypatch):
    """Fixing a split capacity column's bounds (set_cols, as a second pass does) gives
    the optimum of the LP built with that capacity fixed; the copies carry the bounds."""
    caps = {"pv": (0.0, 20.0, 1.5e5), "bp": (0.0, 8.0, 2e4), "be": (0.0, 30.0, 4e4)}
    fixed = {**caps, "be": (7.0, 7.0, 4e4)}
    monkeypatch.setattr(_hipo, "_DENSE_NNZ", 20)
    monkeypatch.setattr(_hipo, "_SPLIT_STEPS", 5)
    b = build_sizing(_small_problem(3, 0.0, 5.0, 7, caps))
    bf = build_sizing(_small_problem(3, 0.0, 5.0, 7, fixed))
    j = next(j for col, j in b.caps if col.path == "battery[0].e_mwh")
    lp = HipoLp(b.c, b.A, b.rlo, b.rhi, b.lb, b.ub, time_limit_s=60.0, col_step=b.col_step)
    assert j in lp._copies
    lp.set_cols(np.array([j]), lb=np.array([7.0]), ub=np.array([7.0]))
    status, x, obj = lp.run()
    ref = HighsLp(bf.c, bf.A, bf.rlo, bf.rhi, bf.lb, bf.ub, solver="simplex",
                  time_limit_s=60.0)
    status_ref, x_ref, obj_ref = ref.run()
    assert status == status_ref == "optimal" and x is not None and x_ref is not None
    assert x.size == b.c.size
    assert x[j] == pytest.approx(7.0, abs=1e-6)
    assert (lp.lb[lp._copies[j]] == 7.0).all() and (lp.ub[lp._copies[j]] == 7.0).all()
    assert obj == pytest.approx(obj_ref, rel=1e-7)


def _random_lp(rng: np.random.Generator, m: int, n: int):
    """A feasible, bounded random LP (rows around a known point inside the box)."""
    a = sparse.random(m, n, density=0.3, random_state=rng, format="csr")
    x0 = rng.uniform(0.0, 1.0, n)
    ax = a @ x0
    rlo = np.where(rng.random(m) < 0.5, ax - rng.uniform(0, 1, m), -np.inf)
    rhi = ax + rng.uniform(0, 1, m)
    return a, rlo, rhi, x0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fixed_columns_and_singleton_rows_reduced_same_optimum(seed):
    # HipoLp.run removes fixed columns and turns singleton rows into bounds (_Reduced);
    # the full LP by simplex (HighsLp) must reach the same optimum
    rng = np.random.default_rng(seed)
    m, n = 30, 25
    a, rlo, rhi, x0 = _random_lp(rng, m, n)
    # singleton rows: a bound on one column each, satisfied by x0
    js = rng.choice(n, 6, replace=False)
    single = sparse.csr_array((rng.uniform(0.5, 2.0, 6) * rng.choice([-1, 1], 6),
                               (np.arange(6), js)), shape=(6, n))
    sx = single @ x0
    a = sparse.csr_array(sparse.vstack([a, single]))
    rlo = np.concatenate([rlo, sx - 0.1])
    rhi = np.concatenate([rhi, sx + 0.2])
    lb, ub = np.zeros(n), np.ones(n)
    fixed = rng.choice(n, 5, replace=False)  # fixed at x0: still feasible
    lb[fixed] = ub[fixed] = x0[fixed]
    c = rng.normal(size=n)
    ref = HighsLp(c, a, rlo, rhi, lb, ub, solver="simplex", time_limit_s=60)
    st_ref, x_ref, _ = ref.run()
    lp = HipoLp(c, a, rlo, rhi, lb, ub, time_limit_s=60)
    st, x, obj = lp.run()
    assert st_ref == st == "optimal"
    assert x is not None and x_ref is not None
    assert c @ x == pytest.approx(c @ x_ref, rel=1e-7, abs=1e-7)
    assert obj == pytest.approx(c @ x, rel=1e-7, abs=1e-7)
    assert np.allclose(x[fixed], x0[fixed])
    # the full LP's rows and bounds hold at HiPO's point
    ax = a @ x
    assert np.all(ax >= rlo - 1e-6) and np.all(ax <= rhi + 1e-6)
    assert np.all(x >= lb - 1e-7) and np.all(x <= ub + 1e-7)


def test_reduction_finds_infeasible_empty_and_singleton_rows():
    # row 0 only touches column 0, fixed at 1, and asks for >= 2: empty after the
    # substitution, with 0 outside its bounds
    a = sparse.csr_array(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    lb, ub = np.array([1.0, 0.0]), np.array([1.0, 5.0])
    c = np.zeros(2)
    st, x, _ = HipoLp(c, a, np.array([2.0, -np.inf, -np.inf]), np.array([np.inf, 9.0, 9.0]),
                      lb, ub, time_limit_s=60).run()
    assert st == "infeasible" and x is None
    # row 1 (a singleton) asks x1 >= 6 where its bound is 5
    st, x, _ = HipoLp(c, a, np.array([-np.inf, 6.0, -np.inf]), np.array([np.inf, np.inf, 9.0]),
                      lb, ub, time_limit_s=60).run()
    assert st == "infeasible" and x is None
