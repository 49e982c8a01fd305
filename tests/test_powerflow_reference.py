"""The pandapower reference loop against direct ``runpp`` calls."""

from __future__ import annotations

import copy

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest

from parkgrid.errors import PowerFlowError, ProfileError
from parkgrid.powerflow import PowerFlowWarning, TimeseriesPF, run_reference_pf


def _cigre() -> pp.pandapowerNet:
    return pn.create_cigre_network_mv(with_der="pv_wind")


def _profiles(net: pp.pandapowerNet, n: int = 6, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    idx = pd.RangeIndex(100, 100 + n)
    fl = rng.uniform(0.3, 1.2, size=(n, len(net.load)))
    fs = rng.uniform(0.0, 1.0, size=(n, len(net.sgen)))
    return {
        ("load", "p_mw"): pd.DataFrame(fl * net.load.p_mw.values, idx, net.load.index),
        ("load", "q_mvar"): pd.DataFrame(fl * net.load.q_mvar.values, idx, net.load.index),
        ("sgen", "p_mw"): pd.DataFrame(fs * net.sgen.p_mw.values, idx, net.sgen.index),
    }


def test_reference_matches_direct_runpp() -> None:
    net = _cigre()
    before = copy.deepcopy(net)
    prof = _profiles(net)
    res = run_reference_pf(net, prof, steps=[0, 3, 5])
    assert isinstance(res, TimeseriesPF)
    assert list(res.steps) == [100, 103, 105]
    assert pp.toolbox.nets_equal(net, before)  # the user's net is untouched
    assert net.load.p_mw.equals(before.load.p_mw)
    for k, label in zip([0, 3, 5], res.steps, strict=True):
        direct = copy.deepcopy(net)
        for (element, column), frame in prof.items():
            direct[element].loc[frame.columns, column] = frame.iloc[k].to_numpy()
        pp.runpp(direct, tolerance_mva=1e-10)
        np.testing.assert_allclose(res.vm_pu.loc[label], direct.res_bus.vm_pu, atol=1e-12)
        np.testing.assert_allclose(res.va_degree.loc[label], direct.res_bus.va_degree, atol=1e-10)
        np.testing.assert_allclose(
            res.line_loading_percent.loc[label], direct.res_line.loading_percent, atol=1e-10
        )
        np.testing.assert_allclose(
            res.ext_grid_p_mw.loc[label], direct.res_ext_grid.p_mw, atol=1e-12
        )
        losses = direct.res_line.pl_mw.sum() + direct.res_trafo.pl_mw.sum()
        assert res.losses_mw.loc[label] == pytest.approx(losses, abs=1e-12)
    assert res.converged.all()
    assert (res.iterations > 0).all()
    s = res.summary(step_h=0.25)
    assert s["n_steps"] == 3
    assert s["losses_mwh"] == pytest.approx(res.losses_mw.sum() * 0.25)
    assert s["vm_min_pu"] <= s["vm_max_pu"]


def test_reference_flags_nonconverged_step() -> None:
    net = _cigre()
    prof = _profiles(net, n=3)
    prof[("load", "p_mw")].iloc[1] *= 200.0  # voltage collapse
    with pytest.warns(PowerFlowWarning, match="did not converge"):
        res = run_reference_pf(net, prof)
    assert list(res.converged) == [True, False, True]
    assert res.vm_pu.loc[101].isna().all()
    assert list(res.nonconverged_steps) == [101]
    with pytest.raises(PowerFlowError, match="101"):
        run_reference_pf(net, prof, raise_on_nonconvergence=True)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda p: p.__setitem__(("load", "vm_pu"), p[("load", "p_mw")]), "not supported"),
        (lambda p: p[("load", "p_mw")].iloc.__setitem__((0, 0), np.nan), "NaN"),
        (lambda p: p.__setitem__(("sgen", "p_mw"), p[("sgen", "p_mw")].iloc[:-1]), "differs"),
        (lambda p: p.__setitem__(("load", "q_mvar"), p[("load", "q_mvar")].rename(
            columns={0: 999})), "unknown load indices"),
    ],
)
def test_reference_rejects_bad_profiles(mutate, match) -> None:
    net = _cigre()
    prof = _profiles(net, n=2)
    mutate(prof)
    with pytest.raises(ProfileError, match=match):
        run_reference_pf(net, prof)
