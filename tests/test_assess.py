"""Metered-data assessment: a hand-worked example, repairs, refusals naming row and time."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from parkgrid.assess import MeterDataError, assess_meters
from parkgrid.cli import main
from parkgrid.kpis import KpiParams, compute_kpis

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "park_meter_sample.csv"
TOL = 1e-9
HEADER = "timestamp,pv_mw,wind_mw,consumption_mw,grid_import_mw,grid_export_mw\n"
PV = {6: 2, 7: 4, 8: 6, 9: 8, 10: 10, 11: 12, 12: 12, 13: 10, 14: 8, 15: 6, 16: 4, 17: 2}


def test_sample_reproduces_the_hand_worked_kpis():
    """examples/park_meter_sample.csv, worked out by hand.

    The file: 1-2 June 2025, hourly, tz-aware (+08:00). Consumption 10,000 kW = 10 MW
    every hour. PV 2, 4, 6, 8, 10, 12, 12, 10, 8, 6, 4, 2 MW in the hours 06..17
    (84 MWh a day), 0 otherwise. Wind 4 MW all day 1, 0 all day 2. Import =
    max(0, 10 - PV - wind), export = max(0, PV + wind - 10).

    Repairs the file needs: 00:00 on day 1 reads PV -0.01 MW (set to 0: above -1 % of
    the 12 MW maximum); 03:00 on day 1 is missing (interpolated between the equal rows
    02:00 and 04:00: PV 0, wind 4, import 6); PV at 08:00 on day 1 is empty
    (interpolated between 4 and 8: 6); 05:00 on day 2 appears twice with equal values
    (one dropped). So the repaired data are exactly the pattern above.

    Day 1 (generation PV + 4): import 6 MW in the 12 hours without PV = 72, 4 MWh in the
    hours with PV 2 (06, 17) = 8, 2 MWh with PV 4 (07, 16) = 4; total 84 MWh. Export
    2 MWh at PV 8 (09, 14) = 4, 4 at PV 10 (10, 13) = 8, 6 at PV 12 (11, 12) = 12;
    total 24 MWh. Check: 84 + 96 + 84 - 24 = 240 = 24 h x 10 MW.
    Day 2 (generation PV): import 10 x 12 = 120, 8 x 2 = 16, 6 x 2 = 12, 4 x 2 = 8,
    2 x 2 = 4; total 160 MWh. Export 2 MWh at PV 12 (11, 12) = 4 MWh.
    Check: 84 + 160 - 4 = 240.

    Two days: PV 168, wind 96, RES 264 MWh; import 244, export 28 MWh;
    consumption 480 MWh; nothing curtailed.
      self-consumption ratio = (264 - 0 - 28) / 264 = 236 / 264 = 59 / 66
      RES utilisation = 1
      self-sufficiency = (480 - 244) / 480 = 236 / 480 = 59 / 120
      green share, annual = min(1, 264 / 480) = 0.55
      green share, hourly = sum min(RES - export, 10) / 480; RES - export = min(RES, 10)
        every hour, so the sum is 480 - 244 = 236 and the share 59 / 120
      CO2 = 244 MWh x 0.6849 t/MWh = 167.1156 t
      peak import 10 MW (day 2, night), peak export 6 MW (day 1, 11:00 and 12:00)
    """
    a = assess_meters(SAMPLE)
    k = a.kpis
    expected = {
        "pv_available_mwh": 168.0, "wind_available_mwh": 96.0, "res_available_mwh": 264.0,
        "curtailed_mwh": 0.0, "imported_mwh": 244.0, "exported_mwh": 28.0,
        "consumption_mwh": 480.0, "load_mwh": 480.0,
        "self_consumption_ratio": 59 / 66, "res_utilisation": 1.0,
        "self_sufficiency": 59 / 120, "green_share_annual": 0.55,
        "green_share_hourly": 59 / 120, "co2_t": 167.1156,
        "peak_import_mw": 10.0, "peak_export_mw": 6.0, "electrolyser_mwh": 0.0,
    }
    for name, value in expected.items():
        assert k[name] == pytest.approx(value, abs=TOL, rel=0), name
    assert a.resolution == pd.Timedelta(hours=1)
    assert len(a.timeseries) == 48
    assert a.monthly.index.tolist() == ["2025-06"]
    assert a.monthly.loc["2025-06", "green_share_hourly"] == pytest.approx(59 / 120, abs=TOL)
    assert a.monthly.loc["2025-06", "green_share_annual"] == pytest.approx(0.55, abs=TOL)
    text = "\n".join(a.repairs)
    assert len(a.repairs) == 4
    assert "duplicate timestamp 2025-06-02 05:00:00 at row 30 (line 31)" in text
    assert "1 missing timestamp at 2025-06-01 03:00:00" in text
    assert "pv: 1 empty value at 2025-06-01 08:00:00 (row 8 (line 9))" in text
    assert "-0.01 MW at 2025-06-01 00:00:00, row 1 (line 2)" in text
    assert a.warnings == []


def test_kpis_are_the_simulation_function_on_simulation_columns():
    """No second implementation: compute_kpis on the mapped frame gives the same dict."""
    from parkgrid.carbon import scenario_account
    from parkgrid.scenario import scenario_from_dict

    a = assess_meters(SAMPLE)
    again = compute_kpis(a.timeseries, KpiParams(dt_h=1.0, ef_kg_per_kwh=0.6849))
    defaults = scenario_from_dict({"scenario": {"year": 2025}, "grid": {
        "import_limit_mw": np.inf, "export_limit_mw": np.inf}}, resolve=False)
    again.update(scenario_account(defaults, a.timeseries, dt_h=1.0).kpis)  # parkgrid.carbon
    assert again.keys() == a.kpis.keys()
    assert all(again[k] == a.kpis[k] or (np.isnan(again[k]) and np.isnan(a.kpis[k]))
               for k in again)
    assert {"pv_avail_mw", "grid_import_mw", "load_mw"} <= set(a.timeseries.columns)


def _write(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "meters.csv"
    path.write_text(header + "\n".join(rows) + "\n")
    return path


def _day(date: str = "2025-06-01", tz: str = "", shift_h: int = 0) -> list[str]:
    """One consistent day, hourly: PV bell, 10 MW consumption, import/export balancing."""
    rows = []
    for h in range(24):
        pv = PV.get((h - shift_h) % 24, 0)
        imp, exp = max(0, 10 - pv), max(0, pv - 10)
        rows.append(f"{date}T{h:02d}:00:00{tz},{pv},0,10,{imp},{exp}")
    return rows


def test_energy_units_and_15_minute_data(tmp_path):
    """kWh per 15 min and kW columns give the same KPIs as MW per hour."""
    rows = []
    for line in _day():
        t, pv, wind, cons, imp, exp = line.split(",")
        for q in range(4):
            ts = t.replace(":00:00", f":{15 * q:02d}:00")
            rows.append(f"{ts},{float(pv) * 250:g},{wind},{float(cons) * 1000:g},{imp},{exp}")
    path = _write(tmp_path, rows, "timestamp,pv_kwh,wind_mw,consumption_kw,grid_import_mw,"
                                  "grid_export_mw\n")
    a = assess_meters(path)
    assert a.resolution == pd.Timedelta(minutes=15)
    assert a.kpis["pv_available_mwh"] == pytest.approx(84.0, abs=TOL)  # one day of PV
    assert a.kpis["consumption_mwh"] == pytest.approx(240.0, abs=TOL)
    assert a.kpis["imported_mwh"] == pytest.approx(160.0, abs=TOL)  # as day 2 by hand


def test_naive_utc_timestamps_with_tz_option(tmp_path):
    """The same day written in naive UTC (8 h earlier) gives the same KPIs with naive_tz."""
    local = assess_meters(_write(tmp_path, _day()))
    rows = []
    for line in _day():
        t = pd.Timestamp(line.split(",")[0]) - pd.Timedelta(hours=8)
        rows.append(f"{t:%Y-%m-%dT%H:%M:%S}," + line.split(",", 1)[1])
    utc = tmp_path / "utc"
    utc.mkdir()
    a = assess_meters(_write(utc, rows), naive_tz="UTC")
    assert a.timeseries.index[0] == pd.Timestamp("2025-06-01 00:00")
    assert a.kpis.keys() == local.kpis.keys()
    for k, v in local.kpis.items():
        assert a.kpis[k] == v or (np.isnan(v) and np.isnan(a.kpis[k])), k
    with pytest.raises(MeterDataError, match="clock shift"):  # read as local: PV at night
        assess_meters(_write(utc, rows))


@pytest.mark.parametrize(("edit", "message"), [
    (lambda r: [*r[:5], r[4].replace(",0,10,", ",0,11,"), *r[5:]],
     r"duplicate timestamp 2025-06-01 04:00:00 at row 5 \(line 6\) and row 6 \(line 7\) "
     r"with different values \(consumption\)"),
    (lambda r: r[:9] + r[13:],
     r"4 missing timestamps at 2025-06-01 09:00:00 .. 2025-06-01 12:00:00 \(between row 9 "
     r"\(line 10\) and the next row\): 4 h missing, longer than the 1 h"),
    (lambda r: [*r[:3], r[3].replace(",10,10,0", ",10,-5,0"), *r[4:]],
     r"grid_import: negative value -5 MW at 2025-06-01 03:00:00, row 4 \(line 5\)"),
    (lambda r: [*r[:12], r[12].replace(",12,0,10,", ",9999,0,10,"), *r[13:]],
     r"pv: implausible value 9999 MW at 2025-06-01 12:00:00, row 13 \(line 14\)"),
    (lambda r: [*r[:6], r[3], *r[6:]],
     r"clock shift: time goes back from 2025-06-01 05:00:00 to 2025-06-01 03:00:00 at row 7 "
     r"\(line 8\)"),
    (lambda r: [*r[:6], r[6].replace("T06:00", "T06:20"), *r[7:]],
     r"clock shift: 2025-06-01 06:20:00 at row 7 \(line 8\) is off the 1 h grid"),
    (lambda r: [*r[:2], r[2].replace("2025-06-01T02", "2025-06-01 2 o'clock"), *r[3:]],
     r"column 'timestamp': cannot parse timestamp .* at row 3 \(line 4\)"),
    (lambda r: [*r[:8], r[8].replace(",6,0,10,", ",six,0,10,"), *r[9:]],
     r"column 'pv_mw': non-numeric value 'six' at 2025-06-01 08:00:00, row 9 \(line 10\)"),
    (lambda r: [r[0].replace(",0,0,10,", ",,0,10,"), *r[1:]],
     r"pv: 1 empty value at 2025-06-01 00:00:00 \(row 1 \(line 2\)\) at the end of the data"),
])
def test_bad_meter_files_are_refused_naming_row_and_time(tmp_path, edit, message):
    with pytest.raises(MeterDataError, match=message):
        assess_meters(_write(tmp_path, edit(_day())))


def test_pv_clock_shift_is_named(tmp_path):
    with pytest.raises(MeterDataError, match=r"on 2025-06-01 PV generation is centred at "
                                             r"20:00, expected about 12:41.*shifted by \+7.3 h"):
        assess_meters(_write(tmp_path, _day(shift_h=8)))


def test_missing_and_unknown_columns_are_listed(tmp_path):
    path = _write(tmp_path, ["2025-06-01T00:00,1,2", "2025-06-01T01:00,1,2"],
                  "timestamp,pv_mw,battery_mw\n")
    with pytest.raises(MeterDataError) as err:
        assess_meters(path)
    text = str(err.value)
    assert "column 'battery_mw' is not '<quantity>_<unit>'" in text
    for q in ("consumption", "grid_import", "grid_export"):
        assert f"required column {q}_mw" in text


def test_balance_warning_and_config_limits_and_targets(tmp_path):
    rows = _day()
    rows[12] = rows[12].replace(",12,0,10,0,2", ",12,0,10,0,0")  # export not metered at 12:00
    meters = _write(tmp_path, rows)
    config = tmp_path / "park.toml"
    config.write_text("""
[scenario]
year = 2025
[grid]
import_limit_mw = 8.0
export_limit_mw = 5.0
emission_factor = "national"
[[pv]]
name = "PV"
bus = "x"
p_mw = 15.0
[targets]
self_consumption_ratio_min = 0.9
co2_t_max = 100.0
""")
    with pytest.raises(MeterDataError, match=r"grid_import: implausible value 10 MW at "
                                             r"2025-06-01 00:00:00, row 1 \(line 2\): above "
                                             r"8.4 MW \(the rating in the config\)"):
        assess_meters(meters, config=config)
    config.write_text(config.read_text().replace("8.0", "12.0"))
    a = assess_meters(meters, config=config)
    assert len(a.warnings) == 1 and "at 2025-06-01 12:00:00" in a.warnings[0]
    assert a.kpis["emission_factor_kg_per_kwh"] == 0.5366
    checks = {c.key: c.status for c in a.target_checks()}
    assert checks == {"self_consumption_ratio_min": "pass", "co2_t_max": "pass"}


def test_cli_assess_prints_and_writes(tmp_path, capsys):
    out = tmp_path / "assessment"
    assert main(["assess", str(SAMPLE), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "repaired (4):" in text
    assert re.search(r"self_consumption_ratio\s+0\.8939", text)
    assert "2025-06" in text
    data = json.loads((out / "assessment.json").read_text())
    assert data["kpis"]["imported_mwh"] == 244.0
    assert len(data["metadata"]["source_sha256"]) == 64
    html = (out / "report.html").read_text()
    assert "<h2>Key performance indicators</h2>" in html
    bad = _write(tmp_path, _day()[:5] + _day()[9:])
    assert main(["assess", str(bad)]) == 2
    assert "missing timestamps at 2025-06-01 05:00:00" in capsys.readouterr().err
