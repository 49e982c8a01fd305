"""Turn every case folder next to this file into a power-flow validation test.

A folder holds network.json, profiles.json, params.json and (unless an exception is
expected) expected.json from ``pandapower.runpp(tolerance_mva=1e-10)``; see
make_cases.py. The kernel is compared with the stored values on every step and,
on ``live_steps``, with a live ``runpp`` (which also catches pandapower model drift).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import parkgrid.errors
from parkgrid.network import read_network_file
from parkgrid.powerflow import run_reference_pf, run_timeseries_pf

HERE = Path(__file__).resolve().parent
CASES = sorted(p.parent.name for p in HERE.glob("*/params.json"))


def load_profiles(path: Path) -> dict[tuple[str, str], pd.DataFrame]:
    doc = json.loads(path.read_text())
    idx = pd.Index(doc["index"])
    return {
        (p["element"], p["column"]): pd.DataFrame(
            np.asarray(p["data"], dtype=float).reshape(len(idx), len(p["columns"])),
            index=idx,
            columns=pd.Index(p["columns"]),
        )
        for p in doc["profiles"]
    }


def _as_array(obj: pd.DataFrame | pd.Series) -> np.ndarray:
    a = obj.to_numpy(dtype=float)
    return a[:, None] if a.ndim == 1 else a


def _compare(actual, expected: dict[str, np.ndarray], atol: dict, rtol: float, what: str):
    for field, exp in expected.items():
        got = _as_array(getattr(actual, field))
        assert got.shape == exp.shape, f"{what}: {field} shape {got.shape} != {exp.shape}"
        np.testing.assert_allclose(
            got, exp, rtol=rtol, atol=atol[field], equal_nan=True, err_msg=f"{what}: {field}"
        )


def test_cases_found() -> None:
    assert len(CASES) >= 8


@pytest.mark.parametrize("case", CASES)
def test_validation_case(case: str) -> None:
    folder = HERE / case
    params = json.loads((folder / "params.json").read_text())
    net = read_network_file(folder / "network.json")
    profiles = load_profiles(folder / "profiles.json")
    if "expected_exception" in params:
        exc = getattr(parkgrid.errors, params["expected_exception"])
        with pytest.raises(exc):
            run_timeseries_pf(net, profiles, method=params["method"])
        return
    doc = json.loads((folder / "expected.json").read_text())
    expected = {
        f: np.array(v["data"], dtype=float) for f, v in doc["fields"].items()
    }
    res = run_timeseries_pf(net, profiles, method=params["method"])
    assert res.converged.all(), f"{case}: steps {list(res.nonconverged_steps)} failed"
    assert list(res.steps) == doc["steps"]
    _compare(res, expected, params["atol"], params["rtol"], f"{case} vs stored")
    live = params.get("live_steps", [])
    if live:
        ref = run_reference_pf(net, profiles, steps=live, tolerance_mva=1e-10)
        sub = {f: _as_array(getattr(ref, f)) for f in expected}
        rows = {f: v[live] for f, v in expected.items()}
        # the stored values are still what pandapower computes today ...
        for f in sub:
            np.testing.assert_allclose(sub[f], rows[f], rtol=0, atol=1e-9, equal_nan=True,
                                       err_msg=f"{case}: stored {f} differs from live runpp")
        # ... and the kernel matches the live runs
        pos = [res.steps.get_loc(s) for s in ref.steps]
        for f in sub:
            got = _as_array(getattr(res, f))[pos]
            np.testing.assert_allclose(got, sub[f], rtol=params["rtol"],
                                       atol=params["atol"][f], equal_nan=True,
                                       err_msg=f"{case}: {f} vs live runpp")
