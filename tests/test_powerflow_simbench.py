"""Full SimBench years through the kernel, sampled steps checked with live runpp."""

from __future__ import annotations

import numpy as np
import pytest

from parkgrid.powerflow import run_reference_pf, run_timeseries_pf

sb = pytest.importorskip("simbench")

TOL = {"vm_pu": 1e-6, "va_degree": 1e-4, "line_loading_percent": 1e-4,
       "trafo_loading_percent": 1e-4, "ext_grid_p_mw": 1e-6, "ext_grid_q_mvar": 1e-6,
       "losses_mw": 1e-6}


@pytest.mark.parametrize("code", ["1-MV-rural--0-sw", "1-LV-semiurb4--0-sw"])
def test_simbench_year(code: str) -> None:
    net = sb.get_simbench_net(code)
    prof = sb.get_absolute_values(net, True)
    res = run_timeseries_pf(net, prof)
    n = len(prof[("load", "p_mw")])
    assert len(res.steps) == n and n in (35_040, 35_136)
    assert res.converged.all()
    rng = np.random.default_rng(3)
    steps = sorted({0, n - 1, int(res.vm_pu.min(axis=1).argmin()),
                    *rng.integers(0, n, 2).tolist()})
    ref = run_reference_pf(net, prof, steps=steps)
    for field, atol in TOL.items():
        got = getattr(res, field).iloc[steps].to_numpy(dtype=float)
        np.testing.assert_allclose(got, getattr(ref, field).to_numpy(dtype=float), rtol=0,
                                   atol=atol, equal_nan=True, err_msg=f"{code}: {field}")
