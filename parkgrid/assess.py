"""Assessment of metered park data with the simulation's own KPI definitions.

A utility's meter export (PV and wind generation, park consumption, grid import and
export; optionally electrolysers, battery charge/discharge, curtailment) is checked,
repaired where the repair is unambiguous, and mapped onto the column names of a
simulation's time series, so :func:`parkgrid.kpis.compute_kpis` computes the KPIs:
there is no second KPI implementation.

The meter file
--------------
A CSV with one timestamp column (``timestamp``, ``time`` or ``datetime``) and value
columns named ``<quantity>_<unit>``: quantities ``pv``, ``wind``, ``consumption``,
``grid_import``, ``grid_export`` (required: ``consumption``, ``grid_import``,
``grid_export`` and at least one of ``pv``/``wind``) and optionally
``electrolyser``, ``battery_charge``, ``battery_discharge``, ``curtailed``; units
``mw``/``kw`` (mean power over the interval) or ``mwh``/``kwh`` (energy in the
interval). Optional per-load meters ``load.<name>_<unit>`` (``name`` of letters,
digits, ``_``, ``-``) are parts of ``consumption`` (not electrolysers); a contracts
file's ``[[product]]`` names the product of each (footprints, :mod:`parkgrid.carbon`).
Timestamps are period-beginning at any regular resolution; tz-aware ones are
converted to the park's local standard time (``utc_offset_h``, from the config's
``[scenario]``, default UTC+8), naive ones are taken in ``naive_tz`` (default: that
local time).

Mapping onto simulation columns
-------------------------------
``pv`` -> ``pv_avail_mw``, ``wind`` -> ``wind_avail_mw`` (generation as metered;
what was curtailed is unknown unless a ``curtailed`` column is given, so without
it curtailment counts as zero and the RES "available" is the RES metered),
``grid_import``/``grid_export`` -> ``grid_import_mw``/``grid_export_mw``,
``electrolyser`` -> ``electrolyser_mw``, ``battery_*`` -> ``bat_charge_mw`` /
``bat_discharge_mw``. ``consumption`` is the park's metered consumption
*including* electrolysers and *excluding* battery charging; ``load_mw`` =
consumption - electrolyser. Without an electrolyser column all consumption is load
(the hydrogen KPIs are then zero); without battery columns there is no storage.
``load.<name>`` -> ``load.<name>.p_mw``; what the per-load meters leave of ``load_mw``
is ``load.unmetered.p_mw`` (their sum may not exceed ``load_mw``).
With battery columns but no state of charge, the battery is taken to hold the same
energy at the end as at the start, so storage losses = charged - discharged.

Data quality
------------
Repaired and reported: rows repeated with identical values (dropped), missing
timestamps and empty cells in runs up to ``max_gap`` (linear interpolation in
time), small negative readings down to ``-negative_tolerance`` x the column's
largest value (set to zero: inverter standby and meter noise). Refused (an
:class:`MeterDataError` naming the row, time and problem): unparseable timestamps,
timestamps going backwards (a clock shift, e.g. daylight saving), timestamps off
the resolution's clock grid, conflicting duplicates, longer gaps or gaps at the
ends, larger negative values, values above the plant ratings of ``--config`` (or,
without one, above ``spike_factor`` x the column's median positive value), and PV
generation centred more than 1.5 h from solar noon (timestamps shifted, e.g. UTC
written as local time). An energy balance that does not close is reported as a
warning: it points to a missing channel but does not change any KPI definition.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from parkgrid._version import __version__
from parkgrid.carbon import product_table, scenario_account
from parkgrid.errors import MeterDataError, ParkgridError, ScenarioError, ValidationIssue
from parkgrid.factors import emission_factor
from parkgrid.io import atomic_folder
from parkgrid.kpis import KpiParams, compute_kpis
from parkgrid.profiles import _parse_times, local_tz
from parkgrid.report.html import write_report
from parkgrid.report.targets import check_targets
from parkgrid.result import Result
from parkgrid.scenario import scenario_from_dict
from parkgrid.timeseries import tou_price

__all__ = ["QUANTITIES", "Assessment", "MeterDataError", "MeteredLoad", "assess_meters",
           "write_assessment"]

# quantity: (simulation column, description)
QUANTITIES: dict[str, tuple[str, str]] = {
    "pv": ("pv_avail_mw", "PV generation"),
    "wind": ("wind_avail_mw", "wind generation"),
    "consumption": ("load_mw", "park consumption incl. electrolysers, excl. battery charging"),
    "grid_import": ("grid_import_mw", "import from the grid"),
    "grid_export": ("grid_export_mw", "export to the grid"),
    "electrolyser": ("electrolyser_mw", "electrolyser consumption (part of consumption)"),
    "battery_charge": ("bat_charge_mw", "battery charging"),
    "battery_discharge": ("bat_discharge_mw", "battery discharging"),
    "curtailed": ("curtailed_mw", "RES curtailed (not in pv/wind)"),
    "direct_line": ("direct_line_mw", "energy delivered by direct-line green contracts (not "
                                      "in pv/wind)"),
}
_REQUIRED = ("consumption", "grid_import", "grid_export")
_UNITS = {"mw": (1.0, False), "kw": (1e-3, False), "mwh": (1.0, True), "kwh": (1e-3, True)}
_TIME_NAMES = ("timestamp", "time", "datetime")
_LOAD_COLUMN = re.compile(r"load\.([A-Za-z0-9][A-Za-z0-9_-]*)_(mw|kw|mwh|kwh)", re.IGNORECASE)
UNMETERED = "unmetered"
"""Name of the load that is the rest of ``load_mw`` beyond the per-load meters."""
_MONTHLY = ("res_available_mwh", "curtailed_mwh", "exported_mwh", "imported_mwh",
            "consumption_mwh", "self_consumption_ratio", "self_sufficiency",
            "green_share_annual", "green_share_hourly", "co2_t")
ORDOS_LONGITUDE = 109.8
"""Longitude of Ordos [degree east], where solar noon is about 12:41 in UTC+8 (Genghis
Khan Plaza, Kangbashi, 109.785 E; Wikipedia "Ordos City", 2024)."""


@dataclass
class Assessment:
    """Outcome of :func:`assess_meters`.

    Attributes
    ----------
    timeseries:
        Repaired data in the simulation's column names [MW], on the meter's time axis.
    kpis:
        KPIs of :func:`parkgrid.kpis.compute_kpis` over the whole file.
    monthly:
        The main KPIs per calendar month (rows) — green share by monthly volumes
        and matched per interval.
    resolution:
        Metering interval.
    repairs, warnings:
        What was repaired (row, time, what) and what looks doubtful but was kept.
    targets:
        ``(key, value)`` targets from the config, checked in :meth:`target_checks`.
    metadata:
        Provenance: file, its SHA-256, parkgrid version, creation time.
    products:
        Footprint of each ``[[product]]`` by month and year (columns of
        :func:`parkgrid.carbon.product_table`: output, tCO2, kgCO2 per unit, green
        share); empty without per-load meters with products.
    loads:
        The metered loads (name, product, output) the footprints were computed for.
    """

    source: str
    timeseries: pd.DataFrame
    kpis: dict[str, float]
    monthly: pd.DataFrame
    resolution: pd.Timedelta
    repairs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    targets: tuple[tuple[str, float], ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)
    utc_offset_h: float = 8.0
    products: pd.DataFrame = field(default_factory=pd.DataFrame)
    loads: tuple[Any, ...] = ()

    def target_checks(self) -> list[Any]:
        """Check the targets against the KPIs (see :func:`parkgrid.report.check_targets`)."""
        return check_targets(self.targets, self.kpis)

    def quality_text(self) -> str:
        """Data-quality report: resolution, rows, repairs and warnings."""
        ts = self.timeseries
        lines = [f"meter data {self.source}: {len(ts):,} intervals of "
                 f"{_fmt_td(self.resolution)} from {ts.index[0]} to {ts.index[-1]} "
                 f"(local time, {_utc_text(self.utc_offset_h)})"]
        lines.append(f"repaired ({len(self.repairs)}):" if self.repairs else "repaired: nothing")
        lines += [f"  - {r}" for r in self.repairs]
        lines.append(f"warnings ({len(self.warnings)}):" if self.warnings else "warnings: none")
        lines += [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)


def _utc_text(utc_offset_h: float) -> str:
    """``UTC+8``, ``UTC+5:30``, ``UTC-3``."""
    sign = "-" if utc_offset_h < 0 else "+"
    minutes = round(abs(utc_offset_h) * 60)
    return f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")


def _fmt_td(td: pd.Timedelta) -> str:
    minutes = int(td / pd.Timedelta(minutes=1))
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


def _line(i: int) -> str:
    """Name data row *i* (0-based) as a user finds it: row number and line of the CSV."""
    return f"row {i + 1} (line {i + 2})"


def _parse_columns(src: str, columns: list[str], time_col: str) -> dict[str, tuple[str, float,
                                                                                    bool]]:
    """Map file columns to (quantity, factor to MW or MWh, is energy)."""
    out: dict[str, tuple[str, float, bool]] = {}
    problems = []
    for c in columns:
        if c == time_col:
            continue
        if c.strip().lower().startswith("load."):
            m = re.fullmatch(_LOAD_COLUMN, c.strip())
            if m is None or m.group(1) == UNMETERED:
                problems.append(
                    f"column {c!r}: a per-load meter is 'load.<name>_<unit>' with a name of "
                    f"letters, digits, '_', '-' (not {UNMETERED!r}, the rest of consumption) "
                    "and unit one of mw, kw, mwh, kwh")
                continue
            quantity, unit = f"load.{m.group(1)}", m.group(2).lower()
            if quantity in {q for q, _, _ in out.values()}:
                problems.append(f"column {c!r}: load {m.group(1)!r} is given twice")
            out[c] = (quantity, *_UNITS[unit])
            continue
        m = re.fullmatch(r"([a-z_]+)_(mw|kw|mwh|kwh)", c.strip().lower())
        if m is None or m.group(1) not in QUANTITIES:
            problems.append(
                f"column {c!r} is not '<quantity>_<unit>' with quantity one of "
                f"{', '.join(QUANTITIES)} (or 'load.<name>', a per-load meter) and unit one "
                "of mw, kw, mwh, kwh")
            continue
        factor, energy = _UNITS[m.group(2)]
        if m.group(1) in {q for q, _, _ in out.values()}:
            problems.append(f"column {c!r}: quantity {m.group(1)!r} is given twice")
        out[c] = (m.group(1), factor, energy)
    given = {q for q, _, _ in out.values()}
    for q in _REQUIRED:
        if q not in given:
            problems.append(f"required column {q}_mw (or _kw, _mwh, _kwh) is missing")
    if not given & {"pv", "wind"}:
        problems.append("needs a pv_* or wind_* generation column")
    if problems:
        raise MeterDataError(src, problems)
    return out


def _read(src: str, naive_tz: str | None,
          utc_offset_h: float) -> tuple[pd.DataFrame, pd.DatetimeIndex, str]:
    zone = local_tz(utc_offset_h)
    path = Path(src)
    if not path.is_file():
        raise MeterDataError(src, ["file not found"])
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, OSError) as exc:
        raise MeterDataError(src, [f"cannot read as CSV: {exc}"]) from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    time_col = next((c for c in raw.columns if c.lower() in _TIME_NAMES), None)
    if time_col is None:
        raise MeterDataError(src, ["no timestamp column named 'timestamp', 'time' or "
                                   f"'datetime'; columns: {', '.join(raw.columns)}"])
    if len(raw) < 2:
        raise MeterDataError(src, ["needs at least two data rows"])
    text = raw[time_col].str.strip()
    aware = bool(text.str.contains(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", regex=True).iloc[0])
    try:
        times = _parse_times(path, time_col, raw[time_col], _line, zone)
    except ParkgridError as exc:
        raise MeterDataError(src, [str(exc).removeprefix(f"{path}: ")]) from None
    if not aware and naive_tz is not None:
        times = times.tz_localize(naive_tz).tz_convert(zone).tz_localize(None)
    return raw, times, time_col


def _numbers(raw: pd.DataFrame, columns: dict[str, tuple[str, float, bool]],
             times: pd.DatetimeIndex, problems: list[str]) -> pd.DataFrame:
    """Numeric values per quantity (NaN for empty cells), in the file's units."""
    out = {}
    for c, (q, _, _) in columns.items():
        text = raw[c].str.strip()
        number = pd.to_numeric(text.where(text != ""), errors="coerce")
        bad = (text != "") & number.isna()
        if bad.any():
            i = int(bad.to_numpy().argmax())
            problems.append(f"column {c!r}: non-numeric value {text.iloc[i]!r} at {times[i]}, "
                            f"{_line(i)}")
        inf = np.isinf(number.to_numpy(dtype=float))
        if inf.any():
            i = int(inf.argmax())
            problems.append(f"column {c!r}: infinite value at {times[i]}, {_line(i)}")
        out[q] = number.to_numpy(dtype=float)
    return pd.DataFrame(out, index=times)


def _order_and_duplicates(src: str, frame: pd.DataFrame, repairs: list[str]) -> pd.DataFrame:
    times = frame.index
    diffs = np.diff(times.asi8)
    back = np.flatnonzero(diffs < 0)
    if back.size:
        i = int(back[0]) + 1
        raise MeterDataError(src, [
            f"clock shift: time goes back from {times[i - 1]} to {times[i]} at {_line(i)} "
            f"(by {_fmt_td(times[i - 1] - times[i])}; daylight saving or a meter clock reset?); "
            "timestamps must increase"])
    problems = []
    keep = np.ones(len(frame), dtype=bool)
    values = frame.drop(columns="_row")
    for i in (np.flatnonzero(diffs == 0) + 1).tolist():
        a, b = values.iloc[i - 1].to_numpy(), values.iloc[i].to_numpy()
        same = bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))
        if same:
            keep[i] = False
            repairs.append(f"duplicate timestamp {times[i]} at {_line(i)} repeats {_line(i - 1)} "
                           "with identical values: dropped")
        else:
            cols = [c for c, x, y in zip(values.columns, a, b, strict=True)
                    if not (x == y or (np.isnan(x) and np.isnan(y)))]
            problems.append(f"duplicate timestamp {times[i]} at {_line(i - 1)} and {_line(i)} "
                            f"with different values ({', '.join(cols)})")
    if problems:
        raise MeterDataError(src, problems, repairs)
    return frame[keep]


def _resolution(src: str, frame: pd.DataFrame, rows: np.ndarray) -> pd.Timedelta:
    diffs = np.diff(frame.index.as_unit("ns").asi8)  # pandas 3 parses text to [us]
    values, counts = np.unique(diffs, return_counts=True)
    step = pd.Timedelta(int(values[counts.argmax()]), unit="ns")
    off = np.flatnonzero(diffs % step.value != 0)
    if off.size:
        i = int(off[0]) + 1
        raise MeterDataError(src, [
            f"clock shift: {frame.index[i]} at {_line(int(rows[i]))} is off the "
            f"{_fmt_td(step)} grid of the other timestamps (step of "
            f"{pd.Timedelta(int(diffs[i - 1]), unit='ns')} from {frame.index[i - 1]})"])
    return step


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of every run of True in *mask*."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _fill_gaps(src: str, frame: pd.DataFrame, step: pd.Timedelta, max_gap: pd.Timedelta,
               rows: np.ndarray, repairs: list[str], problems: list[str]) -> pd.DataFrame:
    """Interpolate short runs of missing timestamps or empty cells; refuse the others."""
    full = pd.date_range(frame.index[0], frame.index[-1], freq=step, name="timestamp")
    row_of = pd.Series(rows, index=frame.index).reindex(full)
    out = frame.reindex(full)
    absent = row_of.isna().to_numpy()

    def judge(what: str, start: int, stop: int) -> None:
        span = (stop - start) * step
        t0, t1 = full[start], full[stop - 1]
        when = f"{t0}" if stop - start == 1 else f"{t0} .. {t1}"
        if absent[start]:
            when += f" (between {_line(int(row_of.iloc[start - 1]))} and the next row)"
        else:
            when += f" ({_line(int(row_of.iloc[start]))})"
        if start == 0 or stop == len(full):
            problems.append(f"{what} at {when} at the end of the data: cannot interpolate")
        elif span > max_gap:
            problems.append(f"{what} at {when}: {_fmt_td(span)} missing, longer than the "
                            f"{_fmt_td(max_gap)} that may be interpolated")
        else:
            repairs.append(f"{what} at {when} filled by linear interpolation")

    for start, stop in _runs(absent):
        n = stop - start
        judge(f"{n} missing timestamp{'s' if n > 1 else ''}", start, stop)
    for q in out.columns:
        empty = out[q].isna().to_numpy() & ~absent
        for start, stop in _runs(empty):
            n = stop - start
            judge(f"{q}: {n} empty value{'s' if n > 1 else ''}", start, stop)
    if problems:
        return out
    return out.interpolate(method="time", limit_area="inside")


def _check_values(frame: pd.DataFrame, limits: dict[str, float], tol: float, spike: float,
                  row_of: pd.Series, repairs: list[str], problems: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for q in out.columns:
        v = out[q].to_numpy(dtype=float)
        top = float(np.nanmax(np.abs(v))) if v.size else 0.0
        neg = v < 0
        small = neg & (v >= -tol * top)
        big = neg & ~small
        for i in np.flatnonzero(big)[:3]:
            problems.append(f"{q}: negative value {v[i]:g} MW at {out.index[i]}, "
                            f"{_where(row_of, i)} (below -{tol:g} x the largest value)")
        if small.any():
            i = int(np.flatnonzero(small)[0])
            repairs.append(f"{q}: {int(small.sum())} small negative value(s) set to 0, the "
                           f"first {v[i]:g} MW at {out.index[i]}, {_where(row_of, i)}")
            v = np.where(small, 0.0, v)
        if q in limits:
            limit, why = limits[q], "the rating in the config"
        else:
            positive = v[v > 0]
            limit = spike * float(np.median(positive)) if positive.size else math.inf
            why = f"{spike:g} x the median positive value"
        high = np.flatnonzero(v > limit)
        for i in high[:3]:
            problems.append(f"{q}: implausible value {v[i]:g} MW at {out.index[i]}, "
                            f"{_where(row_of, i)}: above {limit:g} MW ({why})")
        out[q] = v
    return out


def _where(row_of: pd.Series, i: int) -> str:
    r = row_of.iloc[i]
    return "an interpolated step" if np.isnan(r) else _line(int(r))


def _check_solar_clock(frame: pd.DataFrame, step: pd.Timedelta, longitude: float,
                       problems: list[str], utc_offset_h: float = 8.0) -> None:
    """Refuse PV whose daily centroid is far from solar noon (timestamps shifted).

    Mean solar noon on a clock of UTC + *utc_offset_h* [h] at *longitude* [deg E] is
    12 h - (longitude - 15 x utc_offset_h) / 15 [h] (the equation of time, at most
    about 16 min, is within the 1.5 h allowed).
    """
    if "pv" not in frame or step > pd.Timedelta(hours=1):
        return
    pv = frame["pv"].clip(lower=0)
    if float(pv.sum()) <= 0:
        return
    mid_h = ((frame.index - frame.index.normalize()) / pd.Timedelta(hours=1)
             + step / pd.Timedelta(hours=1) / 2)
    angle = 2 * np.pi * np.asarray(mid_h) / 24
    day = frame.index.normalize()
    daily = pd.DataFrame({"w": pv.to_numpy(), "c": pv.to_numpy() * np.cos(angle),
                          "s": pv.to_numpy() * np.sin(angle)}, index=day).groupby(level=0).sum()
    daily = daily[daily["w"] > 0.05 * daily["w"].median()]
    noon = 12.0 - (longitude - 15.0 * utc_offset_h) / 15.0  # UTC+8: the meridian 120 E
    centroid = (np.degrees(np.arctan2(daily["s"], daily["c"])) / 15.0) % 24
    shift = (centroid - noon + 12) % 24 - 12
    bad = shift[np.abs(shift) > 1.5]
    if len(bad):
        d = bad.index[0]
        hh = float(centroid[d])
        problems.append(
            f"pv: clock shift: on {d:%Y-%m-%d} PV generation is centred at "
            f"{int(hh):02d}:{round(hh % 1 * 60) % 60:02d}, expected about "
            f"{int(noon):02d}:{round(noon % 1 * 60):02d} (solar noon at {longitude:g} E in "
            f"{_utc_text(utc_offset_h)}): the timestamps look shifted by "
            f"{float(bad.iloc[0]):+.1f} h on {len(bad)} of {len(daily)} days (UTC written as "
            "local time? pass naive_tz / --tz; another site? pass longitude / --longitude)")


def _balance_warnings(frame: pd.DataFrame, warnings: list[str]) -> None:
    def c(q: str) -> np.ndarray:
        return frame[q].to_numpy() if q in frame else np.zeros(len(frame))

    supply = c("pv") + c("wind") + c("grid_import") + c("battery_discharge") + c("direct_line")
    use = c("consumption") + c("grid_export") + c("battery_charge")
    residual = supply - use
    scale = np.maximum(supply, use)
    bad = np.abs(residual) > np.maximum(0.05 * scale, 1e-6)
    if bad.any():
        i = int(np.argmax(np.where(bad, np.abs(residual), -1.0)))
        warnings.append(
            f"energy balance (generation + import + discharge = consumption + export + charge)"
            f" misses by more than 5 % at {int(bad.sum())} of {len(frame)} intervals, worst "
            f"{residual[i]:+.3g} MW at {frame.index[i]}: a channel may be missing or "
            "mis-scaled; KPIs use the meters as given")


def assess_meters(
    path: str | os.PathLike[str], *, config: Any = None, naive_tz: str | None = None,
    max_gap: str | pd.Timedelta = "1h", negative_tolerance: float = 0.01,
    spike_factor: float = 20.0, longitude: float | None = None,
    utc_offset_h: float | None = None, contracts: str | os.PathLike[str] | None = None,
) -> Assessment:
    """Check, repair and assess a meter file; KPIs by :func:`parkgrid.kpis.compute_kpis`.

    Parameters
    ----------
    path:
        Meter CSV (format in the module docstring).
    config:
        A :class:`parkgrid.Scenario`, or the path of a scenario TOML (read without its
        network and profiles): emission factor, tariff and export price, plant ratings
        for plausibility, battery and electrolyser sizes, ``[targets]``. Without it the
        default emission factor applies (Inner Mongolia 2022, 0.6849 kgCO2/kWh).
    naive_tz:
        Time zone of naive timestamps, e.g. ``"UTC"`` [IANA name]; default the park's
        local standard time.
    max_gap:
        Longest run of missing data that is interpolated [pandas Timedelta string].
    negative_tolerance:
        Negative readings down to this fraction of the column's largest value are
        set to zero [-].
    spike_factor:
        Without ratings, values above this multiple of the column's median positive
        value are implausible [-].
    longitude:
        Longitude of the PV plants for the solar-noon clock check [degree east];
        default the config's ``[scenario] longitude``, else Ordos (109.8 E).
    utc_offset_h:
        The park's local standard time [h from UTC] that results are on; default the
        config's ``[scenario] utc_offset_h``, else 8.
    contracts:
        A TOML file of ``[[green_contract]]`` (PPA, certificates; a direct line's
        delivery is the meter column ``direct_line_*``) and ``[carbon]``, read with
        :mod:`tomllib` (which runs nothing) and validated like a scenario's sections;
        the carbon KPIs (:mod:`parkgrid.carbon`) are computed with them.

    Raises
    ------
    MeterDataError
        Listing every refused problem with its row and time.
    """
    src = str(path)
    scenario = _config(config)
    if utc_offset_h is None:
        utc_offset_h = float(getattr(scenario, "utc_offset_h", 8.0))
    if longitude is None:
        longitude = float(getattr(scenario, "longitude", ORDOS_LONGITUDE))
    raw, times, time_col = _read(src, naive_tz, utc_offset_h)
    columns = _parse_columns(src, list(raw.columns), time_col)
    problems: list[str] = []
    repairs: list[str] = []
    warnings: list[str] = []
    frame = _numbers(raw, columns, times, problems)
    if problems:
        raise MeterDataError(src, problems)
    frame["_row"] = np.arange(len(frame), dtype=float)
    frame = _order_and_duplicates(src, frame, repairs)
    rows = frame.pop("_row").to_numpy()
    step = _resolution(src, frame, rows)
    dt_h = step / pd.Timedelta(hours=1)
    for q, factor, energy in columns.values():
        frame[q] = frame[q] * factor / (dt_h if energy else 1.0)
    row_of = pd.Series(rows, index=frame.index).reindex(
        pd.date_range(frame.index[0], frame.index[-1], freq=step))
    frame = _fill_gaps(src, frame, step, pd.Timedelta(max_gap), rows, repairs, problems)
    if problems:
        raise MeterDataError(src, problems, repairs)
    frame = _check_values(frame, _limits(scenario), negative_tolerance, spike_factor, row_of,
                          repairs, problems)
    _check_solar_clock(frame, step, longitude, problems, utc_offset_h)
    if problems:
        raise MeterDataError(src, problems, repairs)
    _balance_warnings(frame, warnings)

    ts = pd.DataFrame({QUANTITIES[q][0] if q in QUANTITIES else f"{q}.p_mw": frame[q]
                       for q in frame.columns}, index=frame.index)
    el = ts.get("electrolyser_mw", 0.0)
    ts["load_mw"] = ts["load_mw"] - el
    if (ts["load_mw"] < -1e-9).any():
        i = int((ts["load_mw"] < -1e-9).to_numpy().argmax())
        raise MeterDataError(src, [f"electrolyser exceeds consumption at {ts.index[i]}, "
                                   f"{_where(row_of, i)}: consumption must include it"], repairs)
    metered = [q.removeprefix("load.") for q in frame.columns if q.startswith("load.")]
    if metered:
        _split_loads(src, ts, metered, row_of, repairs)
    ts["res_avail_mw"] = ts.get("pv_avail_mw", 0.0) + ts.get("wind_avail_mw", 0.0) \
        + ts.get("curtailed_mw", 0.0)
    if "curtailed_mw" in ts:  # metered generation is what was left after curtailment
        share = ts.get("pv_avail_mw", 0.0) / (ts["res_avail_mw"] - ts["curtailed_mw"]).where(
            lambda s: s > 0)
        ts["pv_avail_mw"] = ts.get("pv_avail_mw", 0.0) + ts["curtailed_mw"] * share.fillna(0.5)
        ts["wind_avail_mw"] = ts["res_avail_mw"] - ts["pv_avail_mw"]
    ts["grid_p_mw"] = ts["grid_import_mw"] - ts["grid_export_mw"]
    if "electrolyser_mw" in ts and scenario is not None and scenario.electrolyser:
        kwh_per_kg = (sum(e.p_mw * e.kwh_per_kg for e in scenario.electrolyser)
                      / sum(e.p_mw for e in scenario.electrolyser))  # rating-weighted mean
        ts["h2_produced_kg"] = ts["electrolyser_mw"] * dt_h * 1000.0 / kwh_per_kg
    ts["price_cny_per_mwh"] = _prices(scenario, ts.index)
    ts.index.name = "timestamp"
    params = _params(scenario, dt_h)
    kpis = compute_kpis(ts, params)
    carbon_scenario = _carbon_scenario(scenario, contracts, int(ts.index[0].year), metered)
    carbon = scenario_account(carbon_scenario, ts, dt_h=dt_h)
    kpis.update(carbon.kpis)
    warnings += carbon.notes
    ts = pd.concat([ts, carbon.steps.set_axis(ts.index)], axis=1)
    monthly = pd.DataFrame(
        {str(m): {k: v for k, v in compute_kpis(part, params).items() if k in _MONTHLY}
         for m, part in ts.groupby(ts.index.to_period("M"))}).T[list(_MONTHLY)]
    monthly.index.name = "month"
    monthly = monthly.join(carbon.monthly[[c for c in carbon.monthly.columns
                                           if c not in monthly.columns]])
    loads = tuple(carbon_scenario.load) if metered else ()
    products = product_table(ts, loads, dt_h)
    meta = {
        "source": src,
        "source_sha256": hashlib.sha256(Path(src).read_bytes()).hexdigest(),
        "parkgrid_version": __version__,
        "config": str(getattr(scenario, "source", "")) if scenario is not None else "",
        "contracts": str(contracts or ""),
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return Assessment(source=src, timeseries=ts, kpis=kpis, monthly=monthly, resolution=step,
                      repairs=repairs, warnings=warnings,
                      targets=tuple(getattr(scenario, "targets", ()) or ()), metadata=meta,
                      utc_offset_h=utc_offset_h, products=products, loads=loads)


def _split_loads(src: str, ts: pd.DataFrame, metered: list[str], row_of: pd.Series,
                 repairs: list[str]) -> None:
    """Add ``load.unmetered.p_mw``, the rest of ``load_mw`` beyond the per-load meters."""
    cols = [f"load.{n}.p_mw" for n in metered]
    total = ts[cols].sum(axis=1).to_numpy()
    load = ts["load_mw"].to_numpy()
    over = total > load + 1e-9 * np.maximum(1.0, load)
    if over.any():
        i = int(over.argmax())
        raise MeterDataError(src, [
            f"per-load meters ({' + '.join(f'load.{n}' for n in metered)} = {total[i]:g} MW) "
            f"exceed consumption - electrolyser ({load[i]:g} MW) at {ts.index[i]}, "
            f"{_where(row_of, i)}: they must be parts of the consumption"], repairs)
    ts[f"load.{UNMETERED}.p_mw"] = np.maximum(load - total, 0.0)


def _config(config: Any) -> Any:
    if config is None or not isinstance(config, str | os.PathLike):
        return config
    import tomllib


    p = Path(config)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError([ValidationIssue(str(p), "<file>", f"cannot read: {exc}")]) from None
    return scenario_from_dict(raw, source=str(p), base_dir=p.resolve().parent, resolve=False)


_CONTRACT_SECTIONS = ("green_contract", "carbon", "product")
_PRODUCT_FIELDS = ("load", "product", "output_per_year", "output_unit")


@dataclass(frozen=True)
class MeteredLoad:
    """A per-load meter and its product (``[[product]]`` of a contracts file)."""

    name: str
    product: str = ""
    output_per_year: float = 0.0
    output_unit: str = ""


def _products(source: str, items: Any, metered: list[str],
              issues: list[ValidationIssue]) -> dict[str, MeteredLoad]:
    """Validate ``[[product]]`` rows against the per-load meter columns."""
    out: dict[str, MeteredLoad] = {}
    if not isinstance(items, list):
        issues.append(ValidationIssue(source, "product", "must be an array of tables "
                                      "[[product]]"))
        return out
    for i, row in enumerate(items):
        where = f"product[{i}]"
        if not isinstance(row, dict):
            issues.append(ValidationIssue(source, where, "must be a table"))
            continue
        bad = len(issues)
        issues += [ValidationIssue(source, f"{where}.{k}", "unknown field; allowed: "
                                   + ", ".join(_PRODUCT_FIELDS)) for k in row
                   if k not in _PRODUCT_FIELDS]
        texts = {}
        for k in ("load", "product", "output_unit"):
            v = row.get(k)
            if not isinstance(v, str) or not v.strip():
                issues.append(ValidationIssue(source, f"{where}.{k}",
                                              f"required, a non-empty string (got {v!r})"))
            else:
                texts[k] = v.strip()
        out_y = row.get("output_per_year")
        if isinstance(out_y, bool) or not isinstance(out_y, int | float) \
                or not math.isfinite(out_y) or out_y <= 0:
            issues.append(ValidationIssue(
                source, f"{where}.output_per_year", "required, the product's output per "
                f"year in output_unit, a number > 0 (got {out_y!r})"))
        name = texts.get("load")
        if name is not None and name not in metered:
            issues.append(ValidationIssue(
                source, f"{where}.load", f"no meter column load.{name}_mw (or _kw, _mwh, "
                "_kwh) in the meter file; metered loads: "
                + (", ".join(metered) or "none")))
        elif name is not None and name in out:
            issues.append(ValidationIssue(source, f"{where}.load",
                                          f"load {name!r} has a product already"))
        if len(issues) == bad and name is not None and isinstance(out_y, int | float):
            out[name] = MeteredLoad(name, texts["product"], float(out_y), texts["output_unit"])
    return out


def _carbon_scenario(scenario: Any, contracts: Any, year: int,
                     metered: list[str] | None = None) -> Any:
    """Return the scenario whose factors, rules, contracts and loads the accounting uses.

    The config (or the defaults) with the contracts file's ``[[green_contract]]``,
    ``[carbon]`` and ``[[product]]``, which are validated like a scenario's sections,
    errors naming the contracts file and the field. With per-load meters (*metered*)
    its loads are those meters (with their products) and the unmetered rest.
    """
    metered = metered or []
    grid: dict[str, Any] = {"import_limit_mw": math.inf, "export_limit_mw": math.inf}
    if scenario is not None:
        grid["emission_factor"] = scenario.grid.emission_factor
        grid["emission_factor_year"] = scenario.grid.emission_factor_year
    raw: dict[str, Any] = {"scenario": {"year": year}, "grid": grid}
    source = "<defaults>"
    products: dict[str, MeteredLoad] = {}
    if contracts is not None:
        import tomllib

        path = Path(contracts)
        source = str(path)
        try:
            given = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ScenarioError([ValidationIssue(source, "<file>", f"cannot read: {exc}")]
                                ) from None
        issues = [ValidationIssue(source, k, "not allowed in a contracts file; allowed: "
                                  + ", ".join(_CONTRACT_SECTIONS))
                  for k in given if k not in _CONTRACT_SECTIONS]
        items = given.get("green_contract") or []
        for i, c in enumerate(items if isinstance(items, list) else []):
            if isinstance(c, dict) and c.get("kind") == "direct_line":
                issues.append(ValidationIssue(
                    source, f"green_contract[{i}].kind", "a direct line's delivery is "
                    "metered: give it as the meter column direct_line_mw (or _kw, _mwh, _kwh), "
                    "not as a contract"))
            elif isinstance(c, dict) and c.get("profile"):
                issues.append(ValidationIssue(
                    source, f"green_contract[{i}].profile", "meter data have no profiles: "
                    "omit it (the PPA is then delivered flat over its period)"))
        products = _products(source, given.pop("product", []), metered, issues)
        if issues:
            raise ScenarioError(issues)
        raw.update(given)
        checked = scenario_from_dict(raw, source=source, resolve=False)
        out = checked if scenario is None else dataclasses.replace(
            scenario, carbon=checked.carbon, green_contract=checked.green_contract)
    elif scenario is not None:
        out = scenario
    else:
        out = scenario_from_dict(raw, source=source, resolve=False)
    if not metered:
        return out
    loads = tuple(products.get(n, MeteredLoad(n)) for n in [*metered, UNMETERED])
    return dataclasses.replace(out, load=loads, trucks=None)


def _limits(scenario: Any) -> dict[str, float]:
    """Ratings (+5 %) the meters may not exceed, from the config's plants and grid link."""
    if scenario is None:
        return {}
    out = {}
    for q, items in (("pv", scenario.pv), ("wind", scenario.wind),
                     ("electrolyser", scenario.electrolyser)):
        if items:
            out[q] = 1.05 * sum(a.p_mw for a in items)
    for q, items in (("battery_charge", scenario.battery), ("battery_discharge",
                                                              scenario.battery)):
        if items:
            out[q] = 1.05 * sum(b.p_mw for b in items)
    if math.isfinite(scenario.grid.import_limit_mw):
        out["grid_import"] = 1.05 * scenario.grid.import_limit_mw
    if math.isfinite(scenario.grid.export_limit_mw):
        out["grid_export"] = 1.05 * scenario.grid.export_limit_mw
    return out


def _prices(scenario: Any, index: pd.DatetimeIndex) -> np.ndarray:
    return tou_price(None if scenario is None else scenario.grid.tariff, index)


def _params(scenario: Any, dt_h: float) -> Any:

    if scenario is None:
        return KpiParams(dt_h=dt_h, ef_kg_per_kwh=emission_factor("inner_mongolia", 2022))
    return KpiParams.from_scenario(scenario, dt_h=dt_h)


def write_assessment(a: Assessment, directory: str | os.PathLike[str]) -> Path:
    """Write an assessment folder, atomically (temporary sibling renamed into place).

    Files: ``assessment.json`` (provenance, KPIs, repairs, warnings, targets, product
    footprints), ``monthly.csv``, ``products.csv`` (with products only),
    ``timeseries.csv`` (repaired data, simulation column names) and ``report.html``.

    Raises
    ------
    ResultExistsError
        If *directory* exists.
    """
    with atomic_folder(directory, hint="choose another folder") as tmp:
        kpis = {k: (None if isinstance(v, float) and not math.isfinite(v) else float(v))
                for k, v in a.kpis.items()}
        checks = [{"target": c.key, "kpi": c.kpi, "required": c.text, "reached": c.value,
                   "status": c.status} for c in a.target_checks()]
        (tmp / "assessment.json").write_text(json.dumps(
            {"metadata": a.metadata, "resolution": str(a.resolution), "repairs": a.repairs,
             "warnings": a.warnings, "kpis": kpis, "targets": checks,
             "products": json.loads(a.products.to_json(orient="records"))}, indent=2) + "\n")
        a.monthly.to_csv(tmp / "monthly.csv")
        if len(a.products):
            a.products.to_csv(tmp / "products.csv", index=False)
        a.timeseries.to_csv(tmp / "timeseries.csv")
        scenario = SimpleNamespace(
            name=f"Metered data: {Path(a.source).name}", strategy="metered",
            description="KPIs of metered data with the simulation's definitions. "
                        + (f"Repaired: {len(a.repairs)} item(s); " if a.repairs else "")
                        + (f"warnings: {'; '.join(a.warnings)}" if a.warnings else ""),
            targets=a.targets, battery=(), hydrogen=None, grid=None, load=a.loads)
        result = Result(scenario=scenario, timeseries=a.timeseries, kpis=a.kpis,
                        provenance=a.metadata)
        write_report(result, tmp / "report.html")
    return Path(directory)
