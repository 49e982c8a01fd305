"""The numba batch power flow: linear algebra, solvers, options, errors."""

from __future__ import annotations

import copy

import numba
import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from parkgrid.errors import NetworkError, PowerFlowError, ProfileError
from parkgrid.powerflow import (
    PowerFlowWarning,
    TimeseriesPF,
    run_reference_pf,
    run_timeseries_pf,
)
from parkgrid.powerflow._sparse import (
    _fill_kernel,
    _positions,
    fill_python,
    lu_factor,
    lu_solve,
    symbolic,
)

TOL = {"vm_pu": 1e-6, "va_degree": 1e-4, "line_loading_percent": 1e-4,
       "trafo_loading_percent": 1e-4, "ext_grid_p_mw": 1e-6, "ext_grid_q_mvar": 1e-6,
       "losses_mw": 1e-6, "line_p_from_mw": 1e-6}


def _profiles(net, n=12, seed=0, load_scale=1.0) -> dict:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2025-01-01", periods=n, freq="15min", tz="Asia/Shanghai")
    f = rng.uniform(0.4, 1.1, size=(n, len(net.load))) * load_scale
    prof = {
        ("load", "p_mw"): pd.DataFrame(f * net.load.p_mw.values, idx, net.load.index),
        ("load", "q_mvar"): pd.DataFrame(f * net.load.q_mvar.values, idx, net.load.index),
    }
    if len(net.sgen):
        g = rng.uniform(0, 1, size=(n, len(net.sgen)))
        prof[("sgen", "p_mw")] = pd.DataFrame(g * net.sgen.p_mw.values, idx, net.sgen.index)
    return prof


def _assert_close(res: TimeseriesPF, ref: TimeseriesPF) -> None:
    for field, atol in TOL.items():
        got = getattr(res, field).loc[ref.steps].to_numpy(dtype=float)
        np.testing.assert_allclose(got, getattr(ref, field).to_numpy(dtype=float),
                                   rtol=0, atol=atol, equal_nan=True, err_msg=field)


@njit
def _factor_and_solve(n, a_indptr, a_indices, a_data, l_indptr, l_indices, l_data, u_indptr,
                      u_indices, u_data, u_diag, work, b):  # pragma: no cover - numba
    """lu_factor then lu_solve (inner kernels: no Python entry point of their own)."""
    if not lu_factor(n, a_indptr, a_indices, a_data, l_indptr, l_indices, l_data, u_indptr,
                     u_indices, u_data, u_diag, work):
        return False
    lu_solve(n, l_indptr, l_indices, l_data, u_indptr, u_indices, u_data, u_diag, b)
    return True


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sparse_lu_solves_like_scipy(dtype, seed) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    a = sp.random(n, n, density=0.05, random_state=seed, dtype=float)
    a = (a + a.T).tocoo()  # structurally symmetric
    vals = a.data * (1 + 0.5j if dtype is np.complex128 else 1)
    rows = np.r_[a.row, np.arange(n)]
    cols = np.r_[a.col, np.arange(n)]
    vals = np.r_[vals, rng.uniform(4, 8, n)].astype(dtype)
    sym = symbolic(rows, cols, n)
    a_data = np.zeros(len(sym.a_indices), dtype)
    np.add.at(a_data, sym.position(rows, cols), vals)
    l_data = np.zeros(len(sym.l_indices), dtype)
    u_data = np.zeros(len(sym.u_indices), dtype)
    inv_d, work = np.zeros(n, dtype), np.zeros(n, dtype)
    b = rng.normal(size=n).astype(dtype)
    x = b[sym.perm].copy()
    assert _factor_and_solve(n, sym.a_indptr, sym.a_indices, a_data, sym.l_indptr,
                             sym.l_indices, l_data, sym.u_indptr, sym.u_indices, u_data,
                             inv_d, work, x)
    sol = np.empty_like(x)
    sol[sym.perm] = x
    m = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    np.testing.assert_allclose(sol, sp.linalg.spsolve(m.tocsc(), b), rtol=1e-10, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), density=st.floats(0.0, 0.3), seed=st.integers(0, 2**31 - 1))
def test_fill_in_python_equals_the_kernel_and_positions_a_lookup(n, density, seed) -> None:
    """The Python fill (small grids) is the numba kernel's, entry for entry and in order;
    ``_positions`` finds each entry of a sorted CSC pattern as a dictionary lookup does."""
    a = sp.random(n, n, density=density, random_state=seed)
    a = (abs(a) + abs(a).T + sp.identity(n)).tocsc()
    a.sort_indices()
    indptr, indices = a.indptr.astype(np.int64), a.indices.astype(np.int64)
    got = fill_python(n, indptr, indices)
    want = _fill_kernel(n, indptr, indices)
    assert got[2] == want[2]
    np.testing.assert_array_equal(got[0], want[0][:want[2]])
    np.testing.assert_array_equal(got[1], want[1][:want[2]])
    rng = np.random.default_rng(seed)
    r = rng.integers(0, n, 50).astype(np.int64)
    c = rng.integers(0, n, 50).astype(np.int64)
    where = {(int(indices[p]), j): p for j in range(n) for p in range(indptr[j], indptr[j + 1])}
    want_pos = [where.get((int(i), int(j)), -1) for i, j in zip(r, c, strict=True)]
    np.testing.assert_array_equal(_positions(indptr, indices, r, c), want_pos)


def test_kernel_matches_reference_and_leaves_net_alone() -> None:
    net = pn.create_cigre_network_mv(with_der="pv_wind")
    before = copy.deepcopy(net)
    prof = _profiles(net)
    res = run_timeseries_pf(net, prof)
    assert pp.toolbox.nets_equal(net, before)
    assert res.steps.equals(prof[("load", "p_mw")].index)
    assert list(res.vm_pu.columns) == list(net.bus.index)
    assert list(res.line_loading_percent.columns) == list(net.line.index)
    assert res.converged.all() and (res.method == "fixed_point").all()
    assert (res.mismatch_pu < 1e-9).all()
    _assert_close(res, run_reference_pf(net, prof, steps=[0, 7, 11]))
    s = res.summary(step_h=0.25)
    assert s["losses_mwh"] == pytest.approx(res.losses_mw.sum() * 0.25)
    assert s["vm_min_pu"] == pytest.approx(res.vm_pu.min().min())


def test_methods_agree_and_threads_do_not_matter() -> None:
    net = pn.case33bw()
    prof = _profiles(net, n=40)
    a = run_timeseries_pf(net, prof, method="fixed_point")
    b = run_timeseries_pf(net, prof, method="newton")
    assert (b.method == "newton").all()
    np.testing.assert_allclose(a.vm_pu, b.vm_pu, atol=1e-9)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        c = run_timeseries_pf(net, prof)
    finally:
        numba.set_num_threads(old)
    np.testing.assert_allclose(a.vm_pu, c.vm_pu, atol=1e-9)


def test_missing_columns_keep_static_values() -> None:
    net = pn.create_cigre_network_mv(with_der="pv_wind")
    prof = {("sgen", "p_mw"): _profiles(net)[("sgen", "p_mw")].iloc[:, :3]}
    res = run_timeseries_pf(net, prof)
    _assert_close(res, run_reference_pf(net, prof, steps=[2, 5]))


def test_heavy_loading_falls_back_to_newton() -> None:
    net = pn.case33bw()
    prof = _profiles(net, n=16, load_scale=3.0)
    res = run_timeseries_pf(net, prof)
    assert res.converged.all()
    assert (res.method == "newton").any()
    _assert_close(res, run_reference_pf(net, prof, steps=[int(np.argmin(res.vm_pu.min(1)))]))


def test_pv_buses_use_newton_and_fixed_point_is_refused() -> None:
    net = pn.case9()
    idx = pd.RangeIndex(5)
    prof = {("gen", "p_mw"): pd.DataFrame(
        np.outer(np.linspace(0.5, 1.2, 5), net.gen.p_mw.values), idx, net.gen.index)}
    res = run_timeseries_pf(net, prof)
    assert (res.method == "newton").all()
    _assert_close(res, run_reference_pf(net, prof, steps=[0, 4]))
    with pytest.raises(ValueError, match="PV buses"):
        run_timeseries_pf(net, prof, method="fixed_point")


def test_nonconverged_step_is_flagged_or_raised() -> None:
    net = pn.create_cigre_network_mv(with_der="pv_wind")
    prof = _profiles(net, n=5)
    prof[("load", "p_mw")].iloc[2] *= 200.0
    label = prof[("load", "p_mw")].index[2]
    with pytest.warns(PowerFlowWarning, match="1 of 5 steps did not converge"):
        res = run_timeseries_pf(net, prof)
    assert list(res.converged) == [True, True, False, True, True]
    assert list(res.nonconverged_steps) == [label]
    assert res.vm_pu.loc[label].isna().all() and res.losses_mw.isna().sum() == 1
    assert res.mismatch_pu.loc[label] > 1e-9
    assert res.vm_pu.drop(label).notna().all().all()
    with pytest.raises(PowerFlowError, match="did not converge"):
        run_timeseries_pf(net, prof, raise_on_nonconvergence=True)


def test_unsupported_input_is_an_error() -> None:
    net = pn.create_cigre_network_mv()
    prof = _profiles(net, n=2)
    vd = copy.deepcopy(net)
    vd.load.loc[0, "const_z_p_percent"] = 30.0
    with pytest.raises(NetworkError, match="voltage-dependent"):
        run_timeseries_pf(vd, prof)
    xw = copy.deepcopy(net)
    pp.create_xward(xw, 5, 0.1, 0.1, 0.0, 0.0, 0.1, 1.0, 1.0)
    with pytest.raises(NetworkError, match="xward"):
        run_timeseries_pf(xw, prof)
    ql = copy.deepcopy(net)
    pp.set_user_pf_options(ql, enforce_q_lims=True)
    with pytest.raises(NetworkError, match="enforce_q_lims"):
        run_timeseries_pf(ql, prof)
    with pytest.raises(ProfileError, match="not supported"):
        run_timeseries_pf(net, {("ext_grid", "vm_pu"): pd.DataFrame({0: [1.0]})})
    with pytest.raises(ValueError, match="method"):
        run_timeseries_pf(net, prof, method="gauss")


def test_two_slacks_meshed() -> None:
    net = pn.create_cigre_network_mv(with_der="pv_wind")
    pp.create_ext_grid(net, 12, vm_pu=1.02, va_degree=0.0)
    net.switch["closed"] = True  # close the rings as well
    prof = _profiles(net, n=6)
    res = run_timeseries_pf(net, prof)
    assert res.converged.all()
    assert res.ext_grid_p_mw.shape == (6, 2)
    _assert_close(res, run_reference_pf(net, prof, steps=[0, 5]))
    two = copy.deepcopy(net)
    pp.create_ext_grid(two, 12, vm_pu=1.02)
    with pytest.raises(NetworkError, match="several ext_grids"):
        run_timeseries_pf(two, prof)


def test_atan_polynomial_matches_libm() -> None:
    from parkgrid.powerflow._kernels import ATAN_U_MAX, _atan_small

    @njit
    def atan_all(u):  # _atan_small is an inner kernel: no Python entry point
        out = np.empty_like(u)
        for i in range(u.shape[0]):
            out[i] = _atan_small(u[i])
        return out

    u = np.linspace(-ATAN_U_MAX, ATAN_U_MAX, 20001)
    got = atan_all(u)
    assert np.max(np.abs(got - np.arctan(u))) < 4e-16


def test_lanes_equal_sequential_solve_over_a_long_horizon() -> None:
    """The lane kernel (fixed point, many steps side by side) against the sequential
    Newton kernel, with failed and Newton-rescued steps scattered through the lanes."""
    net = pn.create_cigre_network_mv(with_der="pv_wind")
    prof = _profiles(net, n=700, seed=3)
    heavy = [5, 123, 404]  # fixed point too slow: Newton rescues them
    hopeless = [77, 350, 699]  # nothing converges
    for r in heavy:
        prof[("load", "p_mw")].iloc[r] *= 3.0
        prof[("load", "q_mvar")].iloc[r] *= 3.0
    for r in hopeless:
        prof[("load", "p_mw")].iloc[r] *= 200.0
    with pytest.warns(PowerFlowWarning, match="3 of 700 steps"):
        lanes = run_timeseries_pf(net, prof)
    with pytest.warns(PowerFlowWarning, match="3 of 700 steps"):
        seq = run_timeseries_pf(net, prof, method="newton")
    assert list(np.flatnonzero(~lanes.converged.to_numpy())) == hopeless
    assert (lanes.method.iloc[heavy] == "newton").all()
    assert (lanes.method.drop(lanes.method.index[heavy + hopeless]) == "fixed_point").all()
    for field, atol in TOL.items():
        np.testing.assert_allclose(getattr(lanes, field).to_numpy(dtype=float),
                                   getattr(seq, field).to_numpy(dtype=float), rtol=0,
                                   atol=atol / 100, equal_nan=True, err_msg=field)
    _assert_close(lanes, run_reference_pf(net, prof, steps=[0, 5, 78, 351, 698]))


def test_fixed_point_lanes_with_phase_shifts_and_short_horizons() -> None:
    """A PQ-only grid behind transformers with a 180 degree shift (angles near the
    +-180 degree wrap) solved by the lanes, for 1, 2 and 37 steps, against runpp."""
    net = pn.create_cigre_network_mv(with_der="pv_wind")
    net.trafo["shift_degree"] = 180.0
    for n in (1, 2, 37):
        prof = _profiles(net, n=n, seed=n)
        res = run_timeseries_pf(net, prof)
        assert res.converged.all() and (res.method == "fixed_point").all()
        assert res.va_degree.abs().max().max() > 140.0  # the shift is really there
        _assert_close(res, run_reference_pf(net, prof, steps=sorted({0, n // 2, n - 1})))


def test_each_ext_grid_lists_the_injection_columns_at_its_bus() -> None:
    """ResultMaps.eg_inj_ptr/eg_inj_col, by hand: three ext_grids (one out of service)
    and five profile columns (one inactive, two at each in-service ext_grid's bus)."""
    from parkgrid.powerflow._kernel_args import _eg_injections

    ptr, col = _eg_injections(np.array([3, -1, 0]), np.array([0, 3, -1, 3, 0]))
    assert ptr.tolist() == [0, 2, 2, 4]
    assert col.tolist() == [1, 3, 0, 4]  # ext_grid 0 at bus 3; none; ext_grid 2 at bus 0
    assert ptr.dtype == col.dtype == np.int64
    ptr, col = _eg_injections(np.zeros(0, np.int64), np.array([0, 1]))
    assert ptr.tolist() == [0] and col.size == 0


def test_lane_results_with_large_angles_and_injections_at_the_slack_bus() -> None:
    """Results the lanes compute 32 rows at a time, against runpp, where some lanes of
    a batch take the ``arctan2`` path (angle more than atan(0.2) = 11.3 degrees from
    the no-load angle) and the others the polynomial, and where the ext_grid's bus has
    its own profiled load and generator, different in every step."""
    net = pp.create_empty_network()
    b0 = pp.create_bus(net, vn_kv=20.0)
    b1 = pp.create_bus(net, vn_kv=20.0)
    b2 = pp.create_bus(net, vn_kv=20.0)
    pp.create_ext_grid(net, b0, vm_pu=1.02)
    pp.create_line_from_parameters(net, b0, b1, length_km=6.0, r_ohm_per_km=0.1,
                                   x_ohm_per_km=0.9, c_nf_per_km=10.0, max_i_ka=0.5)
    pp.create_line_from_parameters(net, b1, b2, length_km=6.0, r_ohm_per_km=0.1,
                                   x_ohm_per_km=0.9, c_nf_per_km=10.0, max_i_ka=0.5)
    pp.create_load(net, b0, p_mw=1.0, q_mvar=0.2)  # at the ext_grid's bus
    pp.create_sgen(net, b0, p_mw=0.5)  # likewise
    pp.create_load(net, b1, p_mw=1.0, q_mvar=0.1)
    pp.create_load(net, b2, p_mw=1.0, q_mvar=0.1)
    n = 96
    idx = pd.date_range("2025-01-01", periods=n, freq="15min", tz="Asia/Shanghai")
    rng = np.random.default_rng(7)
    heavy = rng.random(n) < 0.4  # scattered through the lanes' runs
    far_p = np.where(heavy, 7.0, 0.5) * rng.uniform(0.9, 1.1, n)
    prof = {
        ("load", "p_mw"): pd.DataFrame(
            np.column_stack([rng.uniform(0.1, 3.0, n), 0.5 * far_p, far_p]), idx,
            net.load.index),
        ("sgen", "p_mw"): pd.DataFrame(rng.uniform(0.0, 2.0, (n, 1)), idx, net.sgen.index),
    }
    res = run_timeseries_pf(net, prof)
    assert res.converged.all()
    va = res.va_degree[b2].to_numpy()
    assert va[heavy].min() < -12.0 and va[~heavy].max() > -3.0  # both paths are taken
    steps = [int(np.flatnonzero(heavy)[k]) for k in (0, -1)] + [
        int(np.flatnonzero(~heavy)[k]) for k in (0, -1)] + [40, 41, 42]
    _assert_close(res, run_reference_pf(net, prof, steps=sorted(set(steps))))
    # the ext_grid supplies the loads and losses less the generation, every step
    bal = (res.ext_grid_p_mw.sum(axis=1) + prof[("sgen", "p_mw")].sum(axis=1)
           - prof[("load", "p_mw")].sum(axis=1) - res.losses_mw)
    np.testing.assert_allclose(bal.to_numpy(), 0.0, atol=1e-6)
