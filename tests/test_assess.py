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


# Per-load meters with products: two months of two hourly steps each, wind only.
METERED = ("timestamp,wind_mw,consumption_mw,grid_import_mw,grid_export_mw,load.cells_mw,"
           "load.steel_kw\n") + """2025-01-31T22:00:00,6,10,4,0,4,2000
2025-01-31T23:00:00,10,10,0,0,5,3000
2025-02-01T00:00:00,2,8,6,0,4,2000
2025-02-01T01:00:00,12,8,0,4,2,4000
"""
PRODUCTS = """[carbon]
residual_factor = 0.5
footprint_scope2 = "market"

[[product]]
load = "cells"
product = "battery cells"
output_per_year = 30.0
output_unit = "t"

[[product]]
load = "steel"
product = "steel parts"
output_per_year = 110.0
output_unit = "t"
"""


def _metered(tmp_path: Path, meters: str = METERED, products: str = PRODUCTS
             ) -> tuple[Path, Path]:
    m, c = tmp_path / "meters.csv", tmp_path / "contracts.toml"
    m.write_text(meters)
    c.write_text(products)
    return m, c


def test_product_footprints_of_per_load_meters_by_hand(tmp_path):
    """Footprints of two metered loads, worked out by hand (hourly steps, MWh = MW).

    No contracts, residual factor 0.5 t/MWh: market scope 2 = import x 0.5 = 2.0 t
    (step 1) + 3.0 t (step 3) = 5.0 t; scope 1 = 0. Per step the emitting supply is
    shared by every consumer in proportion to its energy: 2.0 / 10 MWh = 0.2 t/MWh at
    step 1, 3.0 / 8 = 0.375 t/MWh at step 3, 0 at steps 2 and 4 (no import).

    * cells (4, 5, 4, 2 MWh): CO2 0.8 t in January, 1.5 t in February, 2.3 t in all.
      30 t a year spread by energy (January 9, February 6 of 15 MWh): 18 t and 12 t,
      so 800 / 18 = 44.44 kg/t, 1500 / 12 = 125 kg/t, year 2300 / 30 = 76.67 kg/t.
    * steel (2000, 3000, 2000, 4000 kW): CO2 0.4 t, 0.75 t, 1.15 t; 110 t spread as
      5 : 6 MWh = 50 t and 60 t: 8 kg/t, 12.5 kg/t, year 1150 / 110 = 10.45 kg/t.
    * the rest (consumption - meters: 4, 2, 2, 2 MWh): 0.8 + 0.75 = 1.55 t
      unattributed; 2.3 + 1.15 + 1.55 = 5.0 t.

    Green share per step (own wind claimed up to net consumption, hourly): 6/10 = 0.6,
    1, 2/8 = 0.25, 1 (wind 12 > 8, export 4). Energy-weighted: cells January
    (4 x 0.6 + 5) / 9 = 7.4 / 9, February (4 x 0.25 + 2) / 6 = 0.5, year 10.4 / 15;
    steel January (2 x 0.6 + 3) / 5 = 0.84, February (2 x 0.25 + 4) / 6 = 0.75,
    year 8.7 / 11.
    """
    meters, contracts = _metered(tmp_path)
    a = assess_meters(meters, contracts=contracts)
    k = a.kpis
    assert k["co2_scope12_market_t"] == pytest.approx(5.0, abs=TOL)
    assert k["product_co2_t"] == pytest.approx(3.45, abs=TOL)
    assert k["unattributed_co2_t"] == pytest.approx(1.55, abs=TOL)
    # invariant: the per-step product columns plus the unattributed rest are the total
    per_step = sum(a.timeseries[c].sum() for c in a.timeseries if c.startswith("product."))
    assert per_step + k["unattributed_co2_t"] == pytest.approx(k["co2_scope12_market_t"],
                                                               abs=1e-9)
    assert a.timeseries["load.unmetered.p_mw"].tolist() == pytest.approx([4, 2, 2, 2])
    rows = {(r.product, r.month): r for r in a.products.itertuples()}
    expected = {  # (output, tCO2, kgCO2 per unit, green share)
        ("battery cells", "2025-01"): (18, 0.8, 800 / 18, 7.4 / 9),
        ("battery cells", "2025-02"): (12, 1.5, 125, 0.5),
        ("battery cells", "year"): (30, 2.3, 2300 / 30, 10.4 / 15),
        ("steel parts", "2025-01"): (50, 0.4, 8, 0.84),
        ("steel parts", "2025-02"): (60, 0.75, 12.5, 0.75),
        ("steel parts", "year"): (110, 1.15, 1150 / 110, 8.7 / 11),
    }
    assert set(rows) == set(expected)
    for key, (output, co2, per_unit, green) in expected.items():
        r = rows[key]
        assert (r.output, r.co2_t, r.kgco2_per_unit, r.green_share) == pytest.approx(
            (output, co2, per_unit, green), abs=TOL), key
        assert r.unit == "t"
    # without the contracts file the loads are metered but no product is attributed
    plain = assess_meters(meters)
    assert plain.kpis["product_co2_t"] == 0.0 and plain.products.empty


@pytest.mark.parametrize(("meters", "products", "message"), [
    (METERED, PRODUCTS.replace('load = "steel"', 'load = "glass"'),
     r"contracts.toml: product\[1\].load: no meter column load.glass_mw .*metered loads: "
     r"cells, steel"),
    (METERED, PRODUCTS.replace("output_per_year = 110.0\n", ""),
     r"contracts.toml: product\[1\].output_per_year: required, .* a number > 0 \(got None\)"),
    (METERED, PRODUCTS.replace("output_per_year = 30.0", "output_per_year = -3.0"),
     r"contracts.toml: product\[0\].output_per_year: .* > 0 \(got -3.0\)"),
    (METERED, PRODUCTS + '\n[[product]]\nload = "cells"\nproduct = "x"\n'
                         'output_per_year = 1.0\noutput_unit = "t"\n',
     r"product\[2\].load: load 'cells' has a product already"),
    (METERED, PRODUCTS.replace('output_unit = "t"', 'output_unit = "t"\nprice = 3', 1),
     r"product\[0\].price: unknown field; allowed: load, product, output_per_year"),
])
def test_bad_products_are_named(tmp_path, meters, products, message):
    from parkgrid.errors import ScenarioError

    m, c = _metered(tmp_path, meters, products)
    with pytest.raises(ScenarioError, match=message):
        assess_meters(m, contracts=c)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("load.steel_kw", "load.steel_kva", r"column 'load.steel_kva': a per-load meter is "
                                        r"'load.<name>_<unit>'"),
    ("load.steel_kw", "load.unmetered_kw", r"column 'load.unmetered_kw': .*not 'unmetered'"),
    ("load.steel_kw", "load.cells_kw", r"load 'cells' is given twice"),
    (",4,2000\n2025-01-31T23", ",4,7000\n2025-01-31T23",
     r"per-load meters \(load.cells \+ load.steel = 11 MW\) exceed consumption - "
     r"electrolyser \(10 MW\) at 2025-01-31 22:00:00, row 1"),
])
def test_bad_load_meters_are_refused(tmp_path, old, new, message):
    m, c = _metered(tmp_path, METERED.replace(old, new, 1))
    with pytest.raises(MeterDataError, match=message):
        assess_meters(m, contracts=c)


def test_cli_assess_writes_product_footprints(tmp_path, capsys):
    meters, contracts = _metered(tmp_path)
    out = tmp_path / "assessment"
    assert main(["assess", str(meters), "--contracts", str(contracts), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "product footprints" in text and "battery cells" in text
    table = pd.read_csv(out / "products.csv")
    year = table[(table["product"] == "steel parts") & (table["month"] == "year")]
    assert float(year["kgco2_per_unit"].iloc[0]) == pytest.approx(1150 / 110, abs=TOL)
    data = json.loads((out / "assessment.json").read_text())
    assert len(data["products"]) == 6
    assert "Product carbon footprints" in (out / "report.html").read_text()
