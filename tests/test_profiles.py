"""Tests of the shipped year profiles and of the profile loader (parkgrid.profiles)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from parkgrid._paths import data_dir
from parkgrid.errors import ProfileError
from parkgrid.profiles import load_profile_set, read_profile_table, steps_in_year, year_index

SHIPPED = data_dir("profiles") / "ordos_2025.parquet"
SCRIPT = Path(__file__).resolve().parents[1] / "profiles" / "generate.py"
COLUMNS = [
    "pv_pu",
    "wind_pu",
    "load_battery_cells_pu",
    "load_pv_modules_pu",
    "load_chemical_pu",
    "load_truck_depot_pu",
    "load_offices_pu",
]


@pytest.fixture(scope="module")
def shipped() -> pd.DataFrame:
    return pd.read_parquet(SHIPPED)


def write_csv(path: Path, times, data: dict[str, object], time_name: str = "timestamp") -> Path:
    frame = pd.DataFrame(data, index=range(len(times)))
    frame.insert(0, time_name, list(times))
    frame.to_csv(path, index=False)
    return path


def hourly(year: int = 2025) -> pd.DatetimeIndex:
    return pd.date_range(f"{year}-01-01", f"{year}-12-31 23:00", freq="h")


# --------------------------------------------------------------------------- time axis
def test_steps_in_year() -> None:
    assert steps_in_year(2025) == 35_040
    assert steps_in_year(2024) == 35_136
    assert steps_in_year(2100) == 35_040  # not a leap year


def test_year_index() -> None:
    idx = year_index(2024)
    assert len(idx) == 35_136 and idx.name == "timestamp" and idx.tz is None
    assert idx[0] == pd.Timestamp("2024-01-01 00:00")
    assert idx[-1] == pd.Timestamp("2024-12-31 23:45")
    assert (np.diff(idx.asi8) == 15 * 60 * 10**9).all()


# --------------------------------------------------------------------------- shipped file
def test_shipped_file_structure(shipped: pd.DataFrame) -> None:
    assert len(shipped) == 35_040
    assert list(shipped.columns) == COLUMNS
    assert shipped.index.equals(year_index(2025))
    assert shipped.index.name == "timestamp"
    assert (shipped.dtypes == np.float64).all()
    assert not shipped.isna().any().any()
    assert shipped.to_numpy().min() >= 0.0 and shipped.to_numpy().max() <= 1.0
    loads = shipped.filter(like="load_")
    assert np.allclose(loads.max(), 1.0)  # loads normalised to an annual peak of 1.0
    assert SHIPPED.stat().st_size < 3e6


def test_full_load_hours_in_published_ranges(shipped: pd.DataFrame) -> None:
    # Ordos PV 1,750-2,050 h; desert/Gobi wind about 2,500 h (profiles/README.md).
    assert 1750 <= shipped["pv_pu"].sum() * 0.25 <= 2050
    assert 2300 <= shipped["wind_pu"].sum() * 0.25 <= 2700


def test_pv_zero_when_sun_below_horizon(shipped: pd.DataFrame) -> None:
    pvlib = pytest.importorskip("pvlib")
    edges = pd.date_range("2025-01-01", periods=35_041, freq="15min", tz="Etc/GMT-8")
    elevation = pvlib.solarposition.get_solarposition(edges, 39.6, 109.8, altitude=1300)[
        "apparent_elevation"
    ].to_numpy()
    night = (elevation[:-1] < 0) & (elevation[1:] < 0)  # below horizon all period long
    assert night.sum() > 15_000
    assert (shipped["pv_pu"].to_numpy()[night] == 0.0).all()
    # and it is daytime output: the clipping plateau is reached, noon is productive
    noon = shipped["pv_pu"][shipped.index.hour.isin([12, 13])]
    assert noon.mean() > 0.5 and shipped["pv_pu"].max() == pytest.approx(1.0)


def test_wind_seasons_and_nights(shipped: pd.DataFrame) -> None:
    wind = shipped["wind_pu"]
    spring = wind[wind.index.month.isin([3, 4, 5])].mean()
    late_summer = wind[wind.index.month.isin([7, 8, 9])].mean()
    assert spring > late_summer
    assert wind[wind.index.hour < 4].mean() > wind[wind.index.hour.isin([12, 13, 14])].mean()


@pytest.mark.slow
def test_generator_reproduces_shipped_file(tmp_path: Path, shipped: pd.DataFrame) -> None:
    pytest.importorskip("pvlib")
    pytest.importorskip("windpowerlib")
    out = tmp_path / "regen.parquet"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)], check=True, capture_output=True
    )
    regen = pd.read_parquet(out)
    # Values are rounded to 1e-6 pu; allow one rounding unit for other platforms' libm.
    pd.testing.assert_frame_equal(regen, shipped, check_exact=False, rtol=0, atol=1.01e-6)


# --------------------------------------------------------------------------- loader
def test_hourly_values_held_over_quarter_hours(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "h.csv", hourly(), {"p_mw": np.arange(8760.0)})
    out = read_profile_table(src, year=2025)
    assert out.index.equals(year_index(2025)) and list(out.columns) == ["p_mw"]
    assert out["p_mw"].iloc[:4].tolist() == [0.0] * 4
    assert out["p_mw"].iloc[4:8].tolist() == [1.0] * 4
    assert out["p_mw"].iloc[-1] == 8759.0


def test_five_minute_values_averaged(tmp_path: Path) -> None:
    times = pd.date_range("2025-01-01", "2025-12-31 23:55", freq="5min")
    values = np.zeros(len(times))
    values[:3] = [1.0, 2.0, 6.0]  # 00:00, 00:05, 00:10 -> 15-min mean 3.0
    values[3:6] = [-4.0, 0.0, 1.0]  # negative values pass -> mean -1.0
    values[-3:] = [9.0, 9.0, 0.0]  # 23:45 period -> 6.0
    src = write_csv(tmp_path / "m5.csv.gz", times, {"load_mw": values})
    out = read_profile_table(src, year=2025)["load_mw"]
    assert len(out) == 35_040
    assert out.iloc[0] == pytest.approx(3.0)
    assert out.iloc[1] == pytest.approx(-1.0)
    assert out.iloc[2] == 0.0
    assert out.iloc[-1] == pytest.approx(6.0)


def test_utc_timestamps_shifted_to_local_time(tmp_path: Path) -> None:
    utc = pd.date_range("2024-12-31 16:00", "2025-12-31 15:00", freq="h", tz="UTC")
    text = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in utc]
    src = write_csv(tmp_path / "utc.csv", text, {"a": np.arange(len(utc), dtype=float)}, "time")
    out = read_profile_table(src, year=2025)["a"]
    # 2025-01-01 00:00 local = 2024-12-31 16:00 UTC, the first row
    assert out.loc["2025-01-01 00:00"] == 0.0
    assert out.loc["2025-01-01 08:15"] == 8.0
    assert out.loc["2025-12-31 23:45"] == len(utc) - 1


def test_parquet_with_tz_aware_index(tmp_path: Path) -> None:
    idx = pd.date_range("2025-01-01", periods=35_040, freq="15min", tz="Etc/GMT-8")
    frame = pd.DataFrame({"x": np.arange(35_040.0), "y": 1.0}, index=idx.tz_convert("UTC"))
    frame.index.name = "datetime"
    frame.to_parquet(tmp_path / "p.parquet")
    out = read_profile_table(tmp_path / "p.parquet", year=2025, columns=["y", "x"])
    assert list(out.columns) == ["y", "x"]
    np.testing.assert_array_equal(out["x"].to_numpy(), np.arange(35_040.0))


def test_offset_timestamps_equal_naive_local(tmp_path: Path) -> None:
    text = [t.strftime("%Y-%m-%d %H:%M+08:00") for t in hourly()]
    a = read_profile_table(write_csv(tmp_path / "a.csv", text, {"v": 1.5}), year=2025)
    b = read_profile_table(write_csv(tmp_path / "b.csv", hourly(), {"v": 1.5}), year=2025)
    pd.testing.assert_frame_equal(a, b)


def test_load_profile_set_shifts_to_leap_year(shipped: pd.DataFrame) -> None:
    assert load_profile_set("ordos_2025", year=2025).equals(shipped)
    leap = load_profile_set("ordos_2025", year=2024)
    assert leap.index.equals(year_index(2024))
    np.testing.assert_array_equal(leap.loc["2024-02-29"], shipped.loc["2025-02-28"])
    np.testing.assert_array_equal(leap.loc["2024-03-01"], shipped.loc["2025-03-01"])
    np.testing.assert_array_equal(leap.loc["2024-12-31"], shipped.loc["2025-12-31"])


def test_load_profile_set_path_and_unknown_name(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "own.csv", hourly(), {"v": 2.0})
    assert (load_profile_set(src, year=2025)["v"] == 2.0).all()
    with pytest.raises(ProfileError, match="ordos_2025"):
        load_profile_set("ordos_2052", year=2025)


# --------------------------------------------------------------------------- errors
def raises(src: Path, *needles: str, **kwargs: object) -> str:
    with pytest.raises(ProfileError) as info:
        read_profile_table(src, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    for needle in (str(src), *needles):
        assert needle in message, f"{needle!r} not in {message!r}"
    return message


def test_error_missing_file(tmp_path: Path) -> None:
    raises(tmp_path / "absent.csv", "not found", year=2025)


def test_error_no_timestamp_column(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "t.csv", hourly(), {"v": 1.0}, time_name="date")
    raises(src, "no timestamp column", "'date'", "'v'", year=2025)


def test_error_unparseable_timestamp(tmp_path: Path) -> None:
    text = [str(t) for t in hourly()]
    text[4] = "2025-01-01 04:6O"
    src = write_csv(tmp_path / "t.csv", text, {"v": 1.0})
    raises(src, "'timestamp'", "row 5", "2025-01-01 04:6O", year=2025)


def test_error_duplicate_timestamp(tmp_path: Path) -> None:
    times = hourly().tolist()
    times[1000] = times[999]
    src = write_csv(tmp_path / "t.csv", times, {"v": 1.0})
    raises(src, "'timestamp'", "duplicate", str(times[999]), year=2025)


def test_error_gap(tmp_path: Path) -> None:
    times = hourly().delete([3636, 3637])
    src = write_csv(tmp_path / "t.csv", times, {"v": 1.0})
    raises(src, "'timestamp'", "gap", "first missing period 2025-06-01 12:00:00", year=2025)


@pytest.mark.parametrize(
    ("freq", "moved", "needle"),
    [
        ("15min", "one", "irregular resolution: step of 20 min from 2025-01-06 04:45:00"),
        ("10min", "none", "resolution 10 min not supported"),
        ("2h", "none", "resolution 2 h not supported"),
        ("15min", "all", "not on the 15 min clock grid"),
    ],
)
def test_error_irregular_resolution(tmp_path: Path, freq: str, moved: str, needle: str) -> None:
    times = pd.date_range("2025-01-01", "2025-12-31 23:59", freq=freq)
    if moved == "one":  # 2025-01-06 05:00 recorded at 05:05
        times = times.delete(500).insert(500, times[500] + pd.Timedelta(minutes=5))
    elif moved == "all":
        times = times + pd.Timedelta(minutes=7)
    src = write_csv(tmp_path / "t.csv", times, {"v": 1.0})
    raises(src, "'timestamp'", needle, year=2025)


@pytest.mark.parametrize(("bad", "what"), [("", "missing value (NaN)"), ("n/a2", "non-numeric")])
def test_error_bad_value(tmp_path: Path, bad: str, what: str) -> None:
    values: list[object] = [1.0] * 8760
    values[2163] = bad  # 2025-04-01 03:00
    src = write_csv(tmp_path / "t.csv", hourly(), {"ok": 0.5, "load_mw": values})
    raises(src, "'load_mw'", what, "2025-04-01 03:00:00", year=2025)


def test_error_not_covering_year(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "t.csv", hourly()[:-24], {"v": 1.0})
    raises(
        src, "'timestamp'", "do not cover", "first missing period 2025-12-31 00:00:00", year=2025
    )


def test_error_utc_file_of_local_year_not_covering(tmp_path: Path) -> None:
    utc = pd.date_range("2025-01-01", "2025-12-31 23:00", freq="h", tz="UTC")
    src = write_csv(tmp_path / "t.csv", [t.isoformat() for t in utc], {"v": 1.0})
    raises(src, "first missing period 2025-01-01 00:00:00", "UTC+8", year=2025)


def test_error_wrong_year(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "t.csv", hourly(2023), {"v": 1.0})
    raises(src, "'timestamp'", "wrong year", "2023-01-01 00:00:00", "2025", year=2025)


def test_error_wrong_number_of_steps_leap_year(tmp_path: Path) -> None:
    times = pd.date_range("2024-01-01", periods=35_040, freq="15min")
    src = write_csv(tmp_path / "t.csv", times, {"v": 1.0})
    raises(src, "'timestamp'", "35,040", "35,136", "leap year", year=2024)


def test_error_requested_column_missing(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "t.csv", hourly(), {"pv_mw": 1.0, "wind_mw": 2.0})
    raises(src, "'load_mw'", "available: 'pv_mw', 'wind_mw'", year=2025, columns=["load_mw"])
