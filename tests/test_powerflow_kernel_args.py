"""The power-flow kernels' named arguments: packing, checks, one compiled type."""

from __future__ import annotations

import numpy as np
import pandapower.networks as pn
import pandas as pd
import pytest

from parkgrid.powerflow import run_timeseries_pf
from parkgrid.powerflow._kernel_args import (
    SPECS,
    Fallback,
    FixedPointFactors,
    Grid,
    Injections,
    KernelArgs,
    NewtonPattern,
    Outputs,
    ResultMaps,
    SolverOptions,
    check,
    fallback,
    lanes_signature,
    outputs,
    pack_kernel_args,
    solver_options,
)
from parkgrid.powerflow._kernels import solve_chunk, solve_chunk_lanes
from parkgrid.powerflow._model import build_model
from parkgrid.powerflow._profiles import check_profiles


def _profiles(net, n=8) -> dict:
    idx = pd.RangeIndex(n)
    f = np.linspace(0.5, 1.0, n)[:, None]
    return {("load", "p_mw"): pd.DataFrame(f * net.load.p_mw.values, idx, net.load.index)}


def _packed(net) -> KernelArgs:
    return pack_kernel_args(build_model(net, check_profiles(net, _profiles(net))))


def test_packed_arguments_of_a_pq_and_a_pv_grid() -> None:
    pq = _packed(pn.case33bw())
    assert pq.has_fp
    assert pq.dims["n"][0] == 33 and pq.dims["m_fp"][0] == 32  # one slack bus
    assert "m" not in pq.dims  # Newton's pattern is built on first use, and checked then
    assert len(pq.newton.jp) == 33
    assert pq.dims["m"][0] == 64  # angle and magnitude of each PQ bus
    pv = _packed(pn.case9())
    assert not pv.has_fp  # PV buses: no fixed point, its arrays are empty
    assert pv.dims["m_fp"][0] == 0 and len(pv.fixed_point.fl_indptr) == 1
    assert len(pv.newton.jp) == 9
    assert pv.dims["m"][0] == 2 + 2 * 6  # 2 PV angles, 6 PQ angles and magnitudes


def test_every_field_is_specified_and_documented() -> None:
    for cls in (SolverOptions, Grid, Injections, NewtonPattern, FixedPointFactors,
                ResultMaps, Outputs, Fallback):
        assert list(SPECS[cls]) == list(cls._fields), cls.__name__
        for field in cls._fields:
            assert field in (cls.__doc__ or ""), f"{cls.__name__}.{field} not documented"


@pytest.mark.parametrize(("part", "field", "value", "error", "match"), [
    ("grid", "y_indices", lambda a: a.astype(np.int32), TypeError,
     r"Grid\.y_indices: dtype int32, expected int64"),
    ("grid", "y_data", lambda a: a.real.copy(), TypeError,
     r"Grid\.y_data: dtype float64, expected complex128"),
    ("inj", "sbus_base", lambda a: a[:-1].copy(), ValueError,
     r"Injections\.sbus_base: length 32 on axis 0, expected n = 33 \(n = 33 from "
     r"Grid\.y_indptr\)"),
    ("newton", "ja_indptr", lambda a: a[:-1].copy(), ValueError,
     r"NewtonPattern\.ja_indptr: length 64 on axis 0, expected m\+1 = 65"),
    ("maps", "bus_lookup", lambda a: a[::2], TypeError,
     r"ResultMaps\.bus_lookup: the array must be C-contiguous and writeable"),
    ("maps", "eg_s0", lambda a: a.reshape(1, -1), ValueError,
     r"ResultMaps\.eg_s0: 2-d array of shape \(1, 1\), expected 1-d \(n_eg\)"),
    ("maps", "base_mva", lambda a: np.float32(a), TypeError,
     r"ResultMaps\.base_mva: float32 .*expected a Python float"),
    ("fixed_point", "fu_diag", lambda a: list(a), TypeError,
     r"FixedPointFactors\.fu_diag: list, expected a numpy array of complex128"),
])
def test_check_rejects_a_wrong_field_with_a_clear_message(part, field, value, error,
                                                          match) -> None:
    args = _packed(pn.case33bw())
    dims: dict = {}
    parts = ["grid", "inj", "newton", "fixed_point", "maps"]
    for name in parts[:parts.index(part)]:  # bind the dimensions of the parts before
        check(getattr(args, name), dims)
    good = getattr(args, part)
    bad = good._replace(**{field: value(getattr(good, field))})
    with pytest.raises(error, match=match):
        check(bad, dims)


def test_read_only_array_is_rejected() -> None:
    grid = _packed(pn.case33bw()).grid
    ref = grid.ref.copy()
    ref.flags.writeable = False
    with pytest.raises(TypeError, match=r"Grid\.ref: the array must be C-contiguous and "
                                        "writeable"):
        check(grid._replace(ref=ref))


def test_options_outputs_and_fallback_are_checked() -> None:
    with pytest.raises(TypeError, match=r"SolverOptions\.mode: bool True, expected a Python int"):
        check(SolverOptions(True, 1e-9, 30, 15))
    assert solver_options(np.int64(0), np.float64(1e-9), 30, 15) == (0, 1e-9, 30, 15)
    args = _packed(pn.case33bw())
    n_bus, n_line = 33, 37
    good = Outputs(np.zeros(4, np.int64), np.zeros(4), np.zeros(4, np.int8),
                   np.zeros((4, n_bus)), np.zeros((4, n_bus)), np.zeros((4, n_line)),
                   np.zeros((4, n_line)), np.zeros((4, 1)), np.zeros((4, 1)), np.zeros(4))
    assert outputs(args, good) is good
    with pytest.raises(ValueError, match=r"Outputs\.va: length 32 on axis 1, expected "
                                         r"n_bus_pp = 33 \(n_bus_pp = 33 from "
                                         r"ResultMaps\.bus_lookup\)"):
        outputs(args, good._replace(va=np.zeros((4, n_bus - 1))))
    with pytest.raises(ValueError, match=r"Outputs\.losses: length 5 on axis 0, expected "
                                         r"steps = 4 \(steps = 4 from Outputs\.iters\)"):
        outputs(args, good._replace(losses=np.zeros(5)))
    fb = fallback(args, 7)
    assert fb.seed.shape == (7, 33) and fb.n_used.tolist() == [0]
    with pytest.raises(TypeError, match="not a power-flow kernel structure"):
        check((np.zeros(3),))


def test_kernels_compile_one_signature_for_every_grid_and_method() -> None:
    """Stable argument types: every grid and method reuses the same compiled kernels."""
    for net, methods in ((pn.case33bw(), ("auto", "fixed_point", "newton")),
                         (pn.case9(), ("auto",))):
        for method in methods:
            assert run_timeseries_pf(net, _profiles(net), method=method).converged.all()
    assert len(solve_chunk.signatures) == 1
    assert len(solve_chunk_lanes.signatures) == 1
    # the types a first run compiles ahead, in a background process, are these
    assert solve_chunk_lanes.signatures == [lanes_signature()]
