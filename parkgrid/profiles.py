"""Year profiles at 15-minute resolution: the shipped sets and users' files.

parkgrid's time axis is one calendar year of 15-minute periods in the park's local
standard time (``[scenario] utc_offset_h``, default UTC+8, no DST), timestamps marking
the beginning of each period: 35,040 steps, or 35,136 in a leap year. Power values are
means over a period. The profile tables here are on the park's wall clock, tz-naive;
simulation results carry the fixed-offset zone (:func:`local_tz`).

:func:`read_profile_table` brings a user's CSV or Parquet table at any regular
resolution from 1 minute to 1 hour onto that axis, refusing (with a
:class:`~parkgrid.errors.ProfileError` naming the file, the column and the time or
row) anything it would have to guess about. :func:`load_profile_set` loads a shipped
set such as ``"ordos_2025"`` (see ``profiles/README.md``) or a file.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from parkgrid._paths import data_dir
from parkgrid.errors import ProfileError

__all__ = ["load_profile_set", "local_tz", "read_profile_table", "steps_in_year", "year_index"]

STEP = pd.Timedelta(minutes=15)
"""The simulation step [15 min]."""

LOCAL_TZ = "Etc/GMT-8"
"""Default local standard time of a park: UTC+8 (the sign of ``Etc/GMT-8`` is POSIX's)."""

_TIME_NAMES = ("timestamp", "time", "datetime")
_MIN_STEP = pd.Timedelta(minutes=1)
_MAX_STEP = pd.Timedelta(hours=1)
_SET_SUFFIXES = (".parquet", ".csv", ".csv.gz")
_AWARE_PATTERN = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"


def steps_in_year(year: int) -> int:
    """Return the number of 15-minute steps in a calendar year.

    Parameters
    ----------
    year : int
        Calendar year, e.g. 2025.

    Returns
    -------
    int
        35,040 [steps] for a common year, 35,136 [steps] for a leap year.

    """
    return 96 * (366 if calendar.isleap(year) else 365)


def year_index(year: int) -> pd.DatetimeIndex:
    """Return the simulation time axis of a year.

    Parameters
    ----------
    year : int
        Calendar year.

    Returns
    -------
    pandas.DatetimeIndex
        ``year-01-01 00:00`` … ``year-12-31 23:45`` every 15 [min], period-beginning,
        tz-naive local standard time (the park's wall clock), named ``timestamp``.

    """
    return pd.date_range(
        pd.Timestamp(year, 1, 1), periods=steps_in_year(year), freq=STEP, name="timestamp"
    )


def local_tz(utc_offset_h: float = 8.0) -> dt.timezone:
    """Return the park's local standard time as a fixed-offset zone.

    Parameters
    ----------
    utc_offset_h : float
        Offset from UTC [h], e.g. 8 for China (no DST); whole minutes.

    Returns
    -------
    datetime.timezone
        The fixed offset, e.g. ``UTC+08:00``; timestamps in it print as ``+08:00``.

    """
    return dt.timezone(dt.timedelta(minutes=round(utc_offset_h * 60)))


def localize_index(index: pd.Index, utc_offset_h: float = 8.0) -> pd.Index:
    """Give a naive wall-clock DatetimeIndex the park's fixed offset; others unchanged."""
    if isinstance(index, pd.DatetimeIndex) and index.tz is None:
        # tz_localize drops the frequency; a fixed offset keeps it regular
        return pd.DatetimeIndex(index.tz_localize(local_tz(utc_offset_h)), freq=index.freq)
    return index


def read_profile_table(
    path: str | os.PathLike[str], *, year: int, columns: list[str] | None = None,
    utc_offset_h: float = 8.0,
) -> pd.DataFrame:
    """Read a user's profile table and put it on the 15-minute axis of *year*.

    The file is a CSV (``.csv``, optionally gzip-compressed ``.csv.gz``) or Parquet
    (``.parquet``/``.pq``) table with one timestamp column, named ``timestamp``,
    ``time`` or ``datetime`` (any case), or a Parquet datetime index, and numeric value
    columns. Timestamps are period-beginning at one regular resolution between 1 [min]
    and 1 [h] that divides 15 [min] or is 30 [min] or 1 [h], on the clock grid of that
    resolution. Tz-aware timestamps (e.g. ``2025-01-01T00:00+08:00``, ``...Z``) are
    converted to the park's local time (*utc_offset_h*, default UTC+8); naive timestamps
    are taken as local time.

    Finer data are averaged over each 15-minute period (a mean power stays a mean
    power); coarser data, e.g. hourly means, are held constant over their 15-minute
    sub-steps. Rows outside the year are ignored, so a file in UTC may run from the
    previous year's 16:00 UTC. Values are not range-checked: negative values pass and
    the caller decides what they mean.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    year : int
        Calendar year to return.
    columns : list of str, optional
        Value columns to return, in this order; default all except the timestamp.
    utc_offset_h : float
        The park's local standard time [h from UTC]; tz-aware timestamps are
        converted to it.

    Returns
    -------
    pandas.DataFrame
        Float64 columns [unit of the file] on :func:`year_index` ``(year)``.

    Raises
    ------
    ProfileError
        If the file is missing or unreadable, has no timestamp column, has
        unparseable, duplicate, unordered, irregular or misaligned timestamps or gaps,
        does not cover the whole year (or covers another one, or has a common year's
        number of steps for a leap year or vice versa), has NaN, infinite or
        non-numeric values, or lacks a requested column. The message names the file,
        the column and the row or time.

    """
    return _load(Path(path), year, columns, utc_offset_h)


def load_profile_set(
    name_or_path: str | os.PathLike[str], *, year: int, utc_offset_h: float = 8.0
) -> pd.DataFrame:
    """Load a shipped profile set by name, or a profile file, for *year*.

    A string without a directory part that names a file of the shipped ``profiles``
    folder, with or without its suffix (``"ordos_2025"``, ``"ordos_2025.parquet"``),
    selects that set; anything else is read as a path with :func:`read_profile_table`.

    A shipped set made for another year is moved onto *year* by calendar day: each
    day of *year* takes the values of the same month and day of the set's year, so
    day-of-year is kept up to February 28. For a leap *year* from a common-year set,
    February 28 is repeated as February 29; for a common *year* from a leap-year set,
    February 29 is dropped. Weekdays and holidays of load shapes are not moved, so
    weekends fall on other days of the week than in *year*'s calendar.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        Shipped set name, or a path to a CSV/Parquet file.
    year : int
        Calendar year to return.
    utc_offset_h : float
        The park's local standard time [h from UTC] for a file with tz-aware
        timestamps (the shipped sets are on the local wall clock).

    Returns
    -------
    pandas.DataFrame
        Float64 columns [per unit for the shipped sets] on :func:`year_index` ``(year)``.

    Raises
    ------
    ProfileError
        If the name is neither a shipped set nor a readable profile file for *year*.

    """
    shipped = _shipped_set(name_or_path)
    if shipped is None:
        return _load(Path(name_or_path), year, None, utc_offset_h)
    table = _load(shipped, None, None, utc_offset_h)
    source_year = int(table.index[0].year)
    return table if source_year == year else _shift_to_year(table, year)


# --------------------------------------------------------------------------- internals
def _shipped_set(name_or_path: str | os.PathLike[str]) -> Path | None:
    """Return the shipped file a bare name refers to, ``None`` for a path."""
    if not isinstance(name_or_path, str) or os.sep in name_or_path or "/" in name_or_path:
        return None
    try:
        folder = data_dir("profiles")
    except FileNotFoundError:
        return None
    for candidate in [name_or_path, *(name_or_path + s for s in _SET_SUFFIXES)]:
        if (folder / candidate).is_file():
            return folder / candidate
    if Path(name_or_path).exists():
        return None
    names = sorted(
        p.name[: -len(s)] for p in folder.iterdir() for s in _SET_SUFFIXES if p.name.endswith(s)
    )
    raise ProfileError(
        f"{name_or_path}: neither a shipped profile set (available in {folder}: "
        f"{', '.join(names) or 'none'}) nor an existing file"
    )


def _shift_to_year(table: pd.DataFrame, year: int) -> pd.DataFrame:
    """Move a full-year table onto *year* by calendar day (Feb 28 stands in for Feb 29)."""
    source_year = int(table.index[0].year)
    source_start = pd.Timestamp(source_year, 1, 1)
    rows = []
    for day in pd.date_range(pd.Timestamp(year, 1, 1), periods=steps_in_year(year) // 96):
        month, dom = day.month, day.day
        if month == 2 and dom == 29 and not calendar.isleap(source_year):
            dom = 28
        offset = (pd.Timestamp(source_year, month, dom) - source_start).days
        rows.append(np.arange(offset * 96, offset * 96 + 96))
    values = table.to_numpy()[np.concatenate(rows)]
    return pd.DataFrame(values, index=year_index(year), columns=table.columns)


def _load(src: Path, year: int | None, columns: list[str] | None,
          utc_offset_h: float = 8.0) -> pd.DataFrame:
    """Read, check and resample; *year* ``None`` takes the year the data are centred on."""
    raw, time_field, is_csv = _read_raw(src)
    where = _row_namer(is_csv)
    times = _parse_times(src, time_field, raw[time_field], where, local_tz(utc_offset_h))
    step = _check_regular(src, time_field, times, where)
    if year is None:
        year = int(times[len(times) // 2].year)
    values = raw.drop(columns=[time_field])
    available = [str(c) for c in values.columns]
    if columns is None:
        if not available:
            raise ProfileError(f"{src}: no value columns next to timestamp column {time_field!r}")
        columns = available
    missing = [c for c in columns if c not in available]
    if missing:
        raise ProfileError(
            f"{src}: requested column(s) {', '.join(map(repr, missing))} not found; "
            f"available: {', '.join(map(repr, available)) or 'none'}"
        )
    values.columns = available
    start, n = _check_coverage(src, time_field, times, step, year)
    block = values.iloc[start : start + n][columns]
    data = _numeric(src, block, times[start : start + n])
    steps = steps_in_year(year)
    if step < STEP:
        data = data.reshape(steps, STEP // step, len(columns)).mean(axis=1)
    elif step > STEP:
        data = np.repeat(data, step // STEP, axis=0)
    return pd.DataFrame(data, index=year_index(year), columns=list(columns))


def _read_raw(src: Path) -> tuple[pd.DataFrame, str, bool]:
    """Read the file; return the table (time as a column), the time column, CSV or not."""
    if not src.exists():
        raise ProfileError(f"{src}: profile file not found")
    if not src.is_file():
        raise ProfileError(f"{src}: not a file")
    name = src.name.lower()
    is_csv = name.endswith((".csv", ".csv.gz", ".txt", ".txt.gz"))
    if not is_csv and not name.endswith((".parquet", ".pq")):
        raise ProfileError(f"{src}: unsupported file type; use .csv, .csv.gz or .parquet")
    try:
        table = pd.read_csv(src) if is_csv else pd.read_parquet(src)
    except (ValueError, OSError, EOFError, ImportError) as exc:
        kind = "CSV" if is_csv else "Parquet"
        raise ProfileError(f"{src}: cannot read as {kind}: {exc}") from exc
    table.columns = [str(c).strip() for c in table.columns]
    for column in table.columns:
        if column.lower() in _TIME_NAMES:
            break
    else:
        index = table.index
        if not is_csv and (
            isinstance(index, pd.DatetimeIndex) or str(index.name).lower() in _TIME_NAMES
        ):
            column = str(index.name) if index.name is not None else "timestamp"
            table = table.reset_index(names=column)
        else:
            raise ProfileError(
                f"{src}: no timestamp column: expected one named 'timestamp', 'time' or "
                f"'datetime'; columns found: {', '.join(map(repr, table.columns)) or 'none'}"
            )
    if len(table) == 0:
        raise ProfileError(f"{src}: no data rows")
    return table.reset_index(drop=True), column, is_csv


def _row_namer(is_csv: bool) -> Callable[[int], str]:
    """Return a function naming data row *i* (0-based) as a user finds it in the file."""
    if is_csv:
        return lambda i: f"row {i + 1}, line {i + 2} of the CSV"
    return lambda i: f"row {i + 1}"


def _parse_times(
    src: Path, field: str, raw: pd.Series, where: Callable[[int], str],
    tz: dt.tzinfo | str = LOCAL_TZ,
) -> pd.DatetimeIndex:
    """Parse the time column into tz-naive local timestamps (aware ones converted to *tz*)."""
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return pd.DatetimeIndex(raw).tz_convert(tz).tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        return pd.DatetimeIndex(raw)
    text = raw.astype("string").str.strip()
    empty = (text.isna() | (text == "")).to_numpy(dtype=bool)
    if empty.any():
        i = int(empty.argmax())
        raise ProfileError(f"{src}: column {field!r}: empty timestamp at {where(i)}")
    aware = text.str.contains(_AWARE_PATTERN, regex=True).to_numpy(dtype=bool)
    if aware.any() and not aware.all():
        i = int(np.argmax(aware != aware[0]))
        raise ProfileError(
            f"{src}: column {field!r}: mixes tz-aware and naive timestamps; "
            f"{text.iloc[i]!r} at {where(i)} differs from {text.iloc[0]!r} at {where(0)}"
        )
    utc = bool(aware[0])
    with warnings.catch_warnings():  # format inference warnings: failures are reported below
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=utc)
        if parsed.isna().any():
            guessed = pd.to_datetime(text, errors="coerce", utc=utc)
            if guessed.isna().sum() < parsed.isna().sum():
                parsed = guessed
    bad = parsed.isna().to_numpy(dtype=bool)
    if bad.any():
        i = int(bad.argmax())
        raise ProfileError(
            f"{src}: column {field!r}: cannot parse timestamp {text.iloc[i]!r} at {where(i)}"
        )
    times = pd.DatetimeIndex(parsed)
    if utc:
        times = times.tz_convert(tz).tz_localize(None)
    return times


def _check_regular(
    src: Path, field: str, times: pd.DatetimeIndex, where: Callable[[int], str]
) -> pd.Timedelta:
    """Check order, duplicates, one regular resolution and grid alignment; return the step."""
    if len(times) < 2:
        raise ProfileError(f"{src}: column {field!r}: needs at least two timestamps")
    duplicated = times.duplicated()
    if duplicated.any():
        i = int(duplicated.argmax())
        raise ProfileError(f"{src}: column {field!r}: duplicate timestamp {times[i]} at {where(i)}")
    diffs = np.diff(times.asi8)
    if (diffs < 0).any():
        i = int((diffs < 0).argmax()) + 1
        raise ProfileError(
            f"{src}: column {field!r}: timestamps not in increasing order: {times[i]} at "
            f"{where(i)} follows {times[i - 1]}"
        )
    values, counts = np.unique(diffs, return_counts=True)
    step = pd.Timedelta(int(values[counts.argmax()]), unit="ns")
    fits = STEP % step == pd.Timedelta(0) or step in (2 * STEP, 4 * STEP)
    if not _MIN_STEP <= step <= _MAX_STEP or not fits:
        raise ProfileError(
            f"{src}: column {field!r}: resolution {_fmt(step)} not supported; use a regular "
            "step that divides 15 min (1, 3, 5 min ...) or 15 min, 30 min or 1 h"
        )
    odd = diffs != step.value
    if odd.any():
        i = int(odd.argmax())
        if diffs[i] % step.value == 0:
            raise ProfileError(
                f"{src}: column {field!r}: gap in the data: first missing period "
                f"{times[i] + step} (between {times[i]} and {times[i + 1]}, "
                f"resolution {_fmt(step)})"
            )
        raise ProfileError(
            f"{src}: column {field!r}: irregular resolution: step of {_fmt(diffs[i])} from "
            f"{times[i]} to {times[i + 1]} (at {where(i + 1)}) in data at {_fmt(step)} resolution"
        )
    if (times[0] - times[0].normalize()) % step != pd.Timedelta(0):
        raise ProfileError(
            f"{src}: column {field!r}: timestamps are not on the {_fmt(step)} clock grid "
            f"(first {times[0]}); period-beginning timestamps such as 00:00, "
            f"00:{step.seconds // 60 % 60:02d} ... are expected"
        )
    return step


def _check_coverage(
    src: Path, field: str, times: pd.DatetimeIndex, step: pd.Timedelta, year: int
) -> tuple[int, int]:
    """Check the data cover *year*; return the first row in the year and the row count."""
    start, end = pd.Timestamp(year, 1, 1), pd.Timestamp(year + 1, 1, 1)
    first, stop = times[0], times[-1] + step
    if first <= start and stop >= end:
        return int((start - first) // step), int((end - start) // step)
    span = f"data cover {first} .. {times[-1]} (period-beginning, {_fmt(step)} resolution)"
    if stop <= start or first >= end:
        raise ProfileError(
            f"{src}: column {field!r}: data for the wrong year: {span}; "
            f"{year} was requested ({start} .. {end - STEP})"
        )
    need = steps_in_year(year)
    per_day = pd.Timedelta(days=1) // step
    other_days = 365 if calendar.isleap(year) else 366
    if len(times) == other_days * per_day:
        kind = "a leap year" if calendar.isleap(year) else "a common year"
        raise ProfileError(
            f"{src}: column {field!r}: wrong number of steps: {len(times):,} rows of "
            f"{_fmt(step)} are {other_days} days ({other_days * 96:,} 15-min steps) but "
            f"{year} is {kind} with {need:,} 15-min steps; {span}"
        )
    missing = start if first > start else stop
    raise ProfileError(
        f"{src}: column {field!r}: data do not cover the whole year {year}: first missing "
        f"period {missing}; {span}; times are local UTC+8 (tz-aware input is converted)"
    )


def _numeric(src: Path, block: pd.DataFrame, times: pd.DatetimeIndex) -> np.ndarray:
    """Return the block as a float64 array; reject non-numeric, NaN and infinite values."""
    out = np.empty(block.shape, dtype=np.float64)
    for j, column in enumerate(block.columns):
        series = block[column]
        if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            number = pd.to_numeric(series, errors="coerce")
            text = series.notna() & number.isna()
            if text.any():
                i = int(text.to_numpy(dtype=bool).argmax())
                raise ProfileError(
                    f"{src}: column {column!r}: non-numeric value {series.iloc[i]!r} at {times[i]}"
                )
            values = number.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(bad.argmax())
            what = "missing value (NaN)" if np.isnan(values[i]) else "infinite value"
            raise ProfileError(f"{src}: column {column!r}: {what} at {times[i]}")
        out[:, j] = values
    return out


def _fmt(step: pd.Timedelta | np.integer | int) -> str:
    """Format a time step [ns or Timedelta] compactly: ``15 min``, ``1 h``, ``90 s``."""
    delta = pd.Timedelta(int(step), unit="ns") if not isinstance(step, pd.Timedelta) else step
    seconds = delta.total_seconds()
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
