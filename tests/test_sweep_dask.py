"""Sweeps on a real local dask cluster (2 worker processes).

A sweep result must equal running the same scenarios one by one; a scenario that
fails is recorded with its error and does not stop the others; ``resume`` skips
what is already written; the CLI reaches an existing cluster by address.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import parkgrid
from parkgrid.errors import ResultExistsError
from parkgrid.sweep import apply_overrides, load_sweep, plan, run_sweep

distributed = pytest.importorskip("dask.distributed")

SWEEP = """
[sweep]
name = "test sweep"
base = "{base}"
sampling = "grid"

[sweep.set]
"powerflow.steps" = "day:172"

[[parameter]]
path = "pv[*].p_mw"
values = [80.0, 120.0]

[[parameter]]
path = "battery[0].soc_min_pu"
values = [0.1, 0.97]      # 0.97 is above soc_max_pu = 0.95: those scenarios must fail
"""


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as c:
        yield c


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def spec(repo_root, tmp_path_factory):
    f = tmp_path_factory.mktemp("spec") / "sweep.toml"
    f.write_text(SWEEP.format(base=(repo_root / "examples" / "flagship_park.toml").as_posix()))
    return load_sweep(f)


@pytest.fixture(scope="module")
def first(spec, client, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "out"
    return run_sweep(spec, out, client=client)


def test_sweep_equals_running_the_scenarios_one_by_one(spec, first):
    table = first.table
    assert len(table) == 4
    assert (first.directory / "sweep.parquet").is_file()
    assert (first.directory / "pareto.png").is_file()
    pd.testing.assert_frame_equal(pd.read_parquet(first.directory / "sweep.parquet"), table)
    ok = table[table["status"] == "ok"]
    assert sorted(ok["pv[*].p_mw"]) == [80.0, 120.0]
    for _, row in ok.iterrows():
        params = {"pv[*].p_mw": row["pv[*].p_mw"],
                  "battery[0].soc_min_pu": row["battery[0].soc_min_pu"]}
        raw = apply_overrides(spec.base_raw, params)
        alone = parkgrid.simulate(parkgrid.scenario_from_dict(
            raw, source=str(spec.base_path), base_dir=spec.base_path.parent))
        assert alone.kpis["pf_steps"] == 96
        for kpi, value in alone.kpis.items():
            np.testing.assert_allclose(row[kpi], value, rtol=1e-7, atol=1e-9, err_msg=kpi)


def test_failing_scenario_is_recorded_and_does_not_stop_the_others(first):
    table = first.table
    failed = table[table["status"] == "failed"]
    assert first.n_failed == 2 and len(failed) == 2
    assert (failed["battery[0].soc_min_pu"] == 0.97).all()
    assert failed["error"].str.contains("battery[0].soc_min_pu", regex=False).all()
    assert failed["error"].str.startswith("ScenarioError").all()
    assert failed["self_consumption_ratio"].isna().all()
    assert (table.loc[table["status"] == "ok", "error"] == "").all()
    assert table.loc[failed.index, "pareto_optimal"].eq(False).all()


def test_resume_skips_completed_scenarios(spec, first, client):
    out = first.directory
    with pytest.raises(ResultExistsError, match="--resume"):
        run_sweep(spec, out, client=client)
    ok_keys = first.table.loc[first.table["status"] == "ok", "key"].tolist()
    parts = out / "parts"
    (parts / f"{ok_keys[0]}.parquet").unlink()  # as if interrupted before this one
    kept = parts / f"{ok_keys[1]}.parquet"
    stamp = kept.stat().st_mtime_ns
    again = run_sweep(spec, out, client=client, resume=True, figure=False)
    # the deleted ok scenario and the two failed ones run again; the kept one is skipped
    assert (again.n_run, again.n_skipped) == (3, 1)
    assert kept.stat().st_mtime_ns == stamp
    cols = [c for c in first.table.columns if c not in ("wall_s", "cpu_s")]
    pd.testing.assert_frame_equal(again.table[cols], first.table[cols])


def test_cli_runs_a_batched_sweep_on_an_existing_scheduler(spec, first, cluster, tmp_path,
                                                          capsys):
    from parkgrid.cli import main

    out = tmp_path / "cli"
    code = main(["sweep", spec.source, "-o", str(out), "--scheduler", cluster.scheduler_address,
                 "--no-figure", "--batch", "3"])
    assert code == 1  # two scenarios failed on purpose
    printed = capsys.readouterr().out
    assert "2 ok, 2 failed" in printed
    table = pd.read_parquet(out / "sweep.parquet")
    assert table["key"].tolist() == [k for k, _, _ in plan(spec)]
    assert not (out / "pareto.png").exists()
    assert len(os.listdir(out / "parts")) == 4
    cols = [c for c in first.table.columns if c not in ("wall_s", "cpu_s")]
    pd.testing.assert_frame_equal(table[cols], first.table[cols])
