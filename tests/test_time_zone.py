"""The park's place and clock: ``[scenario] utc_offset_h``, ``longitude``, ``latitude``.

Results carry a fixed-offset zone in memory, in Parquet and in CSV; ``assess``
checks PV meters against solar noon at the park's longitude on its clock.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import parkgrid
from parkgrid import simulate
from parkgrid.assess import MeterDataError, assess_meters
from parkgrid.cli import main
from parkgrid.result import export_csv, load_result
from parkgrid.scenario import PV, Grid, Load, Scenario

XINJIANG_LONGITUDE = 87.0  # deg E; on the UTC+8 clock solar noon is 12 + (120 - 87) / 15 h


def _xinjiang_meters(path: Path) -> Path:
    """Two days of 15-min meters from a PV park at 87 E on the UTC+8 clock.

    Mean solar noon there is 12 h + (120 - 87) / 15 h = 14.2 h = 14:12; PV is a
    cosine bell of half-width 6 h around it (zero from 08:12 to 20:12), 8 MW peak,
    evaluated at the middle of each interval. Consumption 5 MW; PV above it is exported.
    """
    idx = pd.date_range("2025-06-01", periods=2 * 96, freq="15min")
    mid_h = (idx - idx.normalize()) / pd.Timedelta(hours=1) + 0.125
    pv = 8.0 * np.clip(np.cos((np.asarray(mid_h) - 14.2) / 6.0 * np.pi / 2), 0.0, None)
    cons = np.full(len(idx), 5.0)
    frame = pd.DataFrame({"timestamp": idx.strftime("%Y-%m-%dT%H:%M:%S"),
                          "pv_mw": pv.round(6), "consumption_mw": cons,
                          "grid_import_mw": np.maximum(cons - pv.round(6), 0.0),
                          "grid_export_mw": np.maximum(pv.round(6) - cons, 0.0)})
    out = path / "xinjiang.csv"
    frame.to_csv(out, index=False)
    return out


def test_xinjiang_pv_passes_the_noon_check_only_at_its_longitude(tmp_path):
    meters = _xinjiang_meters(tmp_path)
    # at Ordos's 109.8 E noon is 12:41, 1.52 h before the data's 14:12: refused
    with pytest.raises(MeterDataError, match="clock shift") as err:
        assess_meters(meters)
    assert "expected about 12:40" in str(err.value) or "expected about 12:41" in str(err.value)
    a = assess_meters(meters, longitude=XINJIANG_LONGITUDE)
    assert a.kpis["pv_available_mwh"] > 0
    # the same from the command line
    assert main(["assess", str(meters), "--longitude", "87", "-q"]) == 0
    assert main(["assess", str(meters), "-q"]) != 0


def test_longitude_and_offset_come_from_the_config(tmp_path):
    meters = _xinjiang_meters(tmp_path)
    config = tmp_path / "park.toml"
    config.write_text("[scenario]\nyear = 2025\nlongitude = 87.0\nlatitude = 43.8\n"
                      "[grid]\nimport_limit_mw = 20.0\nexport_limit_mw = 20.0\n")
    a = assess_meters(meters, config=config)
    assert a.kpis["pv_available_mwh"] > 0
    assert "(local time, UTC+8)" in a.quality_text()


def test_noon_on_another_clock(tmp_path):
    """87 E on a UTC+6 clock: solar noon 12 h + (90 - 87) / 15 h = 12:12; the UTC+8
    file written 2 h earlier fits it, and the report names the clock."""
    src = pd.read_csv(_xinjiang_meters(tmp_path))
    src["timestamp"] = (pd.to_datetime(src["timestamp"]) - pd.Timedelta(hours=2)
                        ).dt.strftime("%Y-%m-%dT%H:%M:%S")
    (tmp_path / "b").mkdir()
    meters = tmp_path / "b" / "utc6.csv"
    src.to_csv(meters, index=False)
    a = assess_meters(meters, longitude=87.0, utc_offset_h=6.0)
    assert "(local time, UTC+6)" in a.quality_text()
    with pytest.raises(MeterDataError, match=r"UTC\+8\)"):
        assess_meters(meters, longitude=87.0)


def _small(utc_offset_h: float) -> Scenario:
    idx = pd.date_range("2025-06-01", periods=8, freq="15min", name="timestamp")
    prof = pd.DataFrame({"pv": np.linspace(0, 1, 8), "load": np.ones(8)}, index=idx)
    return Scenario(
        name="tz", year=2025, seed=0, network_source="", profiles_source="",
        strategy="self_consumption", pf_steps="none", pf_method="auto", output_dir="",
        profiles=prof, utc_offset_h=utc_offset_h,
        grid=Grid(import_limit_mw=5.0, export_limit_mw=5.0, ef_kg_per_kwh=0.5),
        pv=(PV("pv", "b", 2.0, "pv"),), load=(Load("l", "b", "load", peak_mw=1.0),),
    )


def test_result_index_is_tz_aware_with_the_scenario_offset():
    ts = simulate(_small(6.0)).timeseries
    assert ts.index.tz is not None
    assert ts.index[0].utcoffset() == dt.timedelta(hours=6)
    assert ts.index[0].isoformat() == "2025-06-01T00:00:00+06:00"
    assert ts.index.freq == pd.Timedelta(minutes=15)
    # the default is China's UTC+8
    assert simulate(_small(8.0)).timeseries.index[0].isoformat() == "2025-06-01T00:00:00+08:00"


@pytest.fixture(scope="module")
def utc6_result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tz")
    toml = folder / "utc6.toml"
    toml.write_text("""
[scenario]
name = "UTC+6 park"
year = 2025
utc_offset_h = 6
longitude = 87.0
latitude = 43.8
[powerflow]
steps = "day:1"
[grid]
import_limit_mw = 50.0
export_limit_mw = 50.0
[[pv]]
name = "PV"
bus = "PV-A 35kV"
p_mw = 20.0
""")
    s = parkgrid.load_scenario(toml)
    assert (s.utc_offset_h, s.longitude, s.latitude) == (6.0, 87.0, 43.8)
    return parkgrid.simulate(s), folder


def test_parquet_round_trip_keeps_the_zone(utc6_result):
    result, folder = utc6_result
    result.save(folder / "res", figure=False)
    back = load_result(folder / "res")
    assert back.timeseries.index[0].isoformat() == "2025-01-01T00:00:00+06:00"
    pd.testing.assert_frame_equal(back.timeseries, result.timeseries)
    assert back.network is not None
    pd.testing.assert_frame_equal(back.network.vm_pu, result.network.vm_pu, check_freq=False)
    assert back.network.vm_pu.index[0].utcoffset() == dt.timedelta(hours=6)


def test_csv_export_keeps_the_offset(utc6_result, tmp_path):
    result, _ = utc6_result
    out = export_csv(result, tmp_path / "csv")
    lines = (out / "timeseries.csv").read_text().splitlines()
    assert lines[1].startswith("2025-01-01T00:00:00+06:00,")
    assert lines[-1].startswith("2025-12-31T23:45:00+06:00,")
    net = (out / "network_vm_pu.csv").read_text().splitlines()
    assert net[1].startswith("2025-01-01T00:00:00+06:00,")


@pytest.mark.parametrize(("key", "value"), [("utc_offset_h", 15), ("longitude", 181.0),
                                            ("latitude", -91.0)])
def test_place_out_of_range_is_a_validation_error(tmp_path, key, value):
    toml = tmp_path / "bad.toml"
    toml.write_text(f"[scenario]\nyear = 2025\n{key} = {value}\n"
                    "[grid]\nimport_limit_mw = 1.0\nexport_limit_mw = 0.0\n")
    with pytest.raises(parkgrid.ScenarioError, match=rf"scenario\.{key}: .*allowed range"):
        parkgrid.load_scenario(toml)
