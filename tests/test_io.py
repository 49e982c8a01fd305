"""Results files: Parquet with provenance, load_result round trip, float32 networks, CSV."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import parkgrid
from parkgrid.errors import ParkgridError, ResultExistsError
from parkgrid.io import NETWORK_FRAMES, read_metadata, write_network
from parkgrid.powerflow import TimeseriesPF
from parkgrid.profiles import year_index
from parkgrid.result import export_csv, load_result, scenario_hash


def _same_kpis(a: dict[str, float], b: dict[str, float]) -> None:
    assert list(a) == list(b)
    for k in a:
        assert (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k], k


@pytest.fixture(scope="module")
def saved(flagship_result, tmp_path_factory):
    folder = tmp_path_factory.mktemp("io") / "flagship"
    flagship_result.save(folder, figure=False)
    return folder


def test_round_trip_gives_equal_frames(flagship_result, saved):
    back = load_result(saved)
    assert isinstance(back, parkgrid.Result)
    pd.testing.assert_frame_equal(back.timeseries, flagship_result.timeseries)
    _same_kpis(back.kpis, flagship_result.kpis)
    assert back.timings == pytest.approx(flagship_result.timings)
    net, ref = back.network, flagship_result.network
    for name in NETWORK_FRAMES:
        pd.testing.assert_frame_equal(getattr(net, name), getattr(ref, name), check_freq=False,
                                      obj=name)
    for name in ("losses_mw", "converged", "iterations", "mismatch_pu", "method"):
        pd.testing.assert_series_equal(getattr(net, name), getattr(ref, name),
                                       check_freq=False, check_names=False, obj=name)
    s, r = back.scenario, flagship_result.scenario
    assert (s.name, s.year, s.seed, s.strategy, s.grid, s.battery, s.electrolyser, s.load,
            s.hydrogen) == (r.name, r.year, r.seed, r.strategy, r.grid, r.battery,
                            r.electrolyser, r.load, r.hydrogen)
    assert s.net is None and s.profiles is None


def test_parquet_carries_provenance(flagship_result, saved):
    meta = read_metadata(saved / "timeseries.parquet")
    assert set(meta) >= {"parkgrid_version", "scenario_hash", "seed", "created_utc"}
    assert meta["scenario_hash"] == scenario_hash(flagship_result.scenario)
    assert meta["seed"] == "2025"
    assert read_metadata(saved / "network" / "vm_pu.parquet") == meta
    # a loaded result keeps it, also when saved again (no new hash from a net-less scenario)
    back = load_result(saved)
    assert back.metadata() == meta
    again = back.save(saved.parent / "again", figure=False)
    assert read_metadata(again / "timeseries.parquet") == meta


def test_network_float32_for_a_full_year(tmp_path):
    """A full year of a 43-bus, 35-line network: float32 halves the files, values to 1e-7."""
    rng = np.random.default_rng(1)
    idx = year_index(2025)
    n = len(idx)

    def frame(cols: int, lo: float, hi: float) -> pd.DataFrame:
        return pd.DataFrame(rng.uniform(lo, hi, (n, cols)), index=idx)

    pf = TimeseriesPF(
        vm_pu=frame(43, 0.95, 1.05), va_degree=frame(43, -5, 5),
        line_loading_percent=frame(35, 0, 90), line_p_from_mw=frame(35, -50, 50),
        trafo_loading_percent=frame(6, 0, 80), trafo3w_loading_percent=pd.DataFrame(index=idx),
        ext_grid_p_mw=frame(1, -100, 150), ext_grid_q_mvar=frame(1, -20, 20),
        losses_mw=pd.Series(rng.uniform(0, 3, n), index=idx),
        converged=pd.Series(np.ones(n, dtype=bool), index=idx),
        iterations=pd.Series(np.full(n, 3, dtype=np.int64), index=idx),
        mismatch_pu=pd.Series(np.full(n, 1e-10), index=idx),
        method=pd.Series(["newton"] * n, index=idx, dtype=object),
    )
    meta = {"scenario_hash": "x"}
    write_network(pf, tmp_path / "f64", meta)
    write_network(pf, tmp_path / "f32", meta, float32=True)
    size64 = (tmp_path / "f64" / "vm_pu.parquet").stat().st_size
    size32 = (tmp_path / "f32" / "vm_pu.parquet").stat().st_size
    assert size32 < 0.6 * size64
    vm = pd.read_parquet(tmp_path / "f32" / "vm_pu.parquet")
    assert vm.shape == (35040, 43) and (vm.dtypes == np.float32).all()
    np.testing.assert_allclose(vm.to_numpy(), pf.vm_pu.to_numpy(), rtol=0, atol=1e-7)
    steps = pd.read_parquet(tmp_path / "f32" / "steps.parquet")
    assert steps["method"].tolist()[:2] == ["newton", "newton"]
    assert read_metadata(tmp_path / "f32" / "line_loading_percent.parquet") == meta


def test_csv_export_is_readable_by_plain_pandas(flagship_result, saved, tmp_path):
    out = export_csv(saved, tmp_path / "csv")
    ts = pd.read_csv(out / "timeseries.csv")
    assert ts["timestamp"].iloc[0] == "2025-01-01T00:00:00+08:00"
    assert len(ts) == 35040
    ref = flagship_result.timeseries
    np.testing.assert_allclose(ts["grid_import_mw"], ref["grid_import_mw"], rtol=1e-9, atol=1e-9)
    kpis = pd.read_csv(out / "kpis.csv", index_col="kpi")
    assert kpis.loc["self_consumption_ratio", "value"] == pytest.approx(
        flagship_result.kpis["self_consumption_ratio"], rel=1e-12)
    assert kpis.loc["co2_t", "unit"] == "tCO2"
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["scenario_hash"] == scenario_hash(flagship_result.scenario)
    vm = pd.read_csv(out / "network_vm_pu.csv", index_col="timestamp")
    assert vm.shape == flagship_result.network.vm_pu.shape
    with pytest.raises(ResultExistsError):
        export_csv(saved, out)


def test_load_result_names_what_is_missing(tmp_path):
    with pytest.raises(ParkgridError, match="no such directory"):
        load_result(tmp_path / "nope")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "kpis.json").write_text("{}")
    with pytest.raises(ParkgridError, match=r"timeseries\.parquet is missing"):
        load_result(tmp_path / "half")


def test_timeseries_parquet_is_plain_parquet(saved):
    table = pq.read_table(saved / "timeseries.parquet")
    assert "grid_import_mw" in table.column_names and table.num_rows == 35040
