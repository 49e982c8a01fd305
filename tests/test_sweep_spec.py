"""Sweep files: sampling, overrides, keys, validation messages, Pareto front (no cluster)."""

from __future__ import annotations

import copy
import tomllib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkgrid.sweep import (
    SweepError,
    apply_overrides,
    load_sweep,
    pareto_mask,
    scenario_key,
    sweep_from_dict,
)


@pytest.fixture(scope="module")
def base_raw(repo_root):
    return tomllib.loads((repo_root / "examples" / "flagship_park.toml").read_text())


def _sweep(repo_root, **sweep):
    params = sweep.pop("parameter", [{"path": "pv[*].p_mw", "min": 50.0, "max": 150.0,
                                      "num": 3}])
    raw = {"sweep": {"base": "flagship_park.toml", **sweep}, "parameter": params}
    return sweep_from_dict(raw, source="s.toml", base_dir=repo_root / "examples")


def test_example_sweep_file_is_valid_and_has_200_lhs_scenarios(repo_root):
    spec = load_sweep(repo_root / "examples" / "flagship_sweep.toml")
    scen = spec.scenarios()
    assert len(scen) == 200
    assert spec.base_raw["powerflow"]["steps"] == "all"  # [sweep.set] applied to the base
    pv = np.array([s["pv[*].p_mw"] for s in scen])
    assert pv.min() >= 50.0 and pv.max() <= 150.0
    assert {s["dispatch.strategy"] for s in scen} == {"self_consumption"}


def test_grid_takes_every_combination_in_order(repo_root):
    spec = _sweep(repo_root, sampling="grid", parameter=[
        {"path": "pv[*].p_mw", "min": 50.0, "max": 150.0, "num": 3},
        {"path": "battery[0].e_mwh", "values": [300.0, 900.0]},
    ])
    scen = spec.scenarios()
    assert [(s["pv[*].p_mw"], s["battery[0].e_mwh"]) for s in scen] == [
        (50.0, 300.0), (50.0, 900.0), (100.0, 300.0), (100.0, 900.0), (150.0, 300.0),
        (150.0, 900.0)]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 60), seed=st.integers(0, 2**31))
def test_latin_hypercube_puts_one_sample_in_each_stratum(repo_root, n, seed):
    spec = _sweep(repo_root, sampling="lhs", samples=n, seed=seed, parameter=[
        {"path": "pv[*].p_mw", "min": 10.0, "max": 20.0},
        {"path": "battery[0].e_mwh", "min": 100.0, "max": 500.0},
    ])
    scen = spec.scenarios()
    for path, lo, hi in (("pv[*].p_mw", 10.0, 20.0), ("battery[0].e_mwh", 100.0, 500.0)):
        u = (np.array([s[path] for s in scen]) - lo) / (hi - lo)
        strata = np.floor(u * n).astype(int)
        assert sorted(strata) == list(range(n))
    assert spec.scenarios() == scen  # same seed, same samples


def test_random_sampling_is_seeded_and_within_bounds(repo_root):
    a = _sweep(repo_root, sampling="random", samples=50, seed=1, parameter=[
        {"path": "electrolyser[0].p_mw", "min": 50.0, "max": 60.0},
        {"path": "dispatch.strategy", "values": ["self_consumption"]}])
    b = _sweep(repo_root, sampling="random", samples=50, seed=2, parameter=[
        {"path": "electrolyser[0].p_mw", "min": 50.0, "max": 60.0},
        {"path": "dispatch.strategy", "values": ["self_consumption"]}])
    va = [s["electrolyser[0].p_mw"] for s in a.scenarios()]
    assert all(50.0 <= v <= 60.0 for v in va)
    assert va == [s["electrolyser[0].p_mw"] for s in a.scenarios()]
    assert va != [s["electrolyser[0].p_mw"] for s in b.scenarios()]


def test_overrides_address_all_one_and_section_fields_without_mutating(base_raw):
    before = copy.deepcopy(base_raw)
    out = apply_overrides(base_raw, {"pv[*].p_mw": 42.0, "battery[0].e_mwh": 7.0,
                                     "dispatch.strategy": "x", "grid.tariff.peak_cny_per_mwh": 1.0})
    assert [p["p_mw"] for p in out["pv"]] == [42.0] * 4
    assert out["battery"][0]["e_mwh"] == 7.0
    assert out["dispatch"]["strategy"] == "x"
    assert out["grid"]["tariff"]["peak_cny_per_mwh"] == 1.0
    assert out["wind"] == base_raw["wind"]
    assert base_raw == before
    scaled = apply_overrides(base_raw, {"pv[*].p_mw": 1.5}, scale=frozenset({"pv[*].p_mw"}))
    assert [p["p_mw"] for p in scaled["pv"]] == [150.0] * 4


def test_scenario_key_is_stable_and_depends_on_base_and_parameters(base_raw):
    k = scenario_key(base_raw, {"a": 1.0, "b": "x"})
    assert k == scenario_key(copy.deepcopy(base_raw), {"b": "x", "a": 1.0})
    assert k != scenario_key(base_raw, {"a": 2.0, "b": "x"})
    other = apply_overrides(base_raw, {"grid.import_limit_mw": 1.0})
    assert k != scenario_key(other, {"a": 1.0, "b": "x"})


def test_validation_reports_every_problem_with_file_field_and_range(repo_root):
    raw = {
        "sweep": {"base": "flagship_park.toml", "sampling": "lhs", "colour": 1},
        "parameter": [
            {"path": "pv[*].p_mw", "min": -5.0, "max": 10.0},
            {"path": "battery[3].e_mwh", "min": 1.0, "max": 2.0},
            {"path": "network.source", "values": ["flagship_park"]},
            {"path": "dispatch.strategy", "values": ["cheapest"]},
            {"path": "pv[*].watts", "min": 1.0, "max": 2.0},
            {"path": "electrolyser[0].min_load_pu", "min": 0.5, "max": 0.1},
        ],
    }
    with pytest.raises(SweepError) as err:
        sweep_from_dict(raw, source="my_sweep.toml", base_dir=repo_root / "examples")
    text = str(err.value)
    fields = {i.field for i in err.value.issues}
    assert all(i.source == "my_sweep.toml" for i in err.value.issues)
    assert {"sweep.colour", "sweep.samples", "parameter[0].min", "parameter[1].path",
            "parameter[2].path", "parameter[3].values", "parameter[4].path",
            "parameter[5].min"} <= fields
    assert "outside the allowed range [0, inf] [MW] of pv[*].p_mw" in text
    assert "index 3 out of range" in text
    assert "cannot vary in a sweep" in text
    assert "'cheapest' is not allowed" in text


def test_missing_base_file_is_named(repo_root, tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[sweep]\nbase = "nope.toml"\n[[parameter]]\npath = "pv[*].p_mw"\n'
                 'values = [1.0]\n')
    with pytest.raises(SweepError, match=r"s\.toml: sweep\.base: cannot read base scenario"):
        load_sweep(f)


def test_pareto_mask_by_hand():
    t = pd.DataFrame({"cost": [1.0, 2.0, 3.0, 2.0, np.nan],
                      "share": [0.1, 0.5, 0.4, 0.5, 0.9]})
    # row 2 is dominated by row 1 (costlier, lower share); rows 1 and 3 tie (both kept)
    mask = pareto_mask(t, ("min:cost", "max:share"))
    assert mask.tolist() == [True, True, False, True, False]


def test_run_one_records_a_failure_and_leaves_numba_threads_as_found(repo_root):
    import numba

    from parkgrid.sweep import load_shared_base, run_one

    spec = _sweep(repo_root, parameter=[{"path": "battery[0].soc_min_pu", "values": [0.99]}])
    shared = load_shared_base(spec)
    before = numba.get_num_threads()
    row = run_one(shared, "k", 0, {"battery[0].soc_min_pu": 0.99})
    assert numba.get_num_threads() == before
    assert row["status"] == "failed" and row["key"] == "k"
    assert "battery[0].soc_min_pu: must be below soc_max_pu" in row["error"]
    assert row["wall_s"] >= 0 and "self_consumption_ratio" not in row
