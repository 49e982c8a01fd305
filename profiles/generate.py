"""Generate the shipped year profiles ``profiles/ordos_2025.parquet``.

One synthetic but calibrated year (2025) at 15-minute resolution for a zero-carbon
industrial park near Ordos, Inner Mongolia: per-unit PV and wind output and five
factory/service load shapes. See ``profiles/README.md`` for the method and sources.

Usage::

    /work/venv/bin/python profiles/generate.py                 # rewrite the shipped file
    /work/venv/bin/python profiles/generate.py --out x.parquet # write elsewhere
    /work/venv/bin/python profiles/generate.py --seed 7        # another weather year

The output is deterministic: the same seed gives the same bytes (same library versions).
Needs the ``data`` extra (pvlib, windpowerlib); runs offline.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from scipy.signal import lfilter
from scipy.special import gamma, ndtr

SEED = 2025

YEAR = 2025
LATITUDE = 39.6  # [deg N] Ordos (Kangbashi / Dongsheng area)
LONGITUDE = 109.8  # [deg E]
ALTITUDE = 1300.0  # [m] above sea level
TZ = "Etc/GMT-8"  # UTC+8, China Standard Time, no DST
STEP_H = 0.25  # [h]

# PV system: fixed tilt, south facing, DC/AC 1.2, PVWatts DC + inverter model.
PV_TILT = 38.0  # [deg]
PV_AZIMUTH = 180.0  # [deg] south
PV_DC_AC = 1.2  # [-]
PV_GAMMA_PDC = -0.0035  # [1/K] power temperature coefficient (mono-Si)
PV_ETA_INV = 0.975  # [-] nominal inverter efficiency (utility string/central inverter)
PV_ALBEDO = 0.25  # [-] dry steppe / sand
# PVWatts loss categories [%]: desert dust soiling, winter row-to-row shading at 38 deg
# tilt, some snow, early-life degradation, plant availability (total ≈ 16.6 %).
PV_LOSSES = dict(
    soiling=4.0, shading=3.0, snow=1.0, mismatch=2.0, wiring=2.0, connections=0.5,
    lid=1.5, nameplate_rating=1.0, age=1.0, availability=2.0,
)  # fmt: skip

# Wind: Enercon E-141 EP4 4.2 MW from windpowerlib's bundled (offline) turbine library.
WIND_TURBINE = "E-141/4200"
WIND_HUB_HEIGHT = 120.0  # [m]
WIND_MEAN_SPEED = 6.1  # [m/s] annual mean at hub height (calibration knob)
WIND_WEIBULL_K = 2.1  # [-] Weibull shape
WIND_FARM_FACTOR = 0.91  # [-] wake (≈7 %) and availability (≈2 %) losses

# Chinese statutory holidays 2025 (State Council notice) and make-up working days.
HOLIDAYS = (
    [("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"), ("2025-04-04", "2025-04-06"),
     ("2025-05-01", "2025-05-05"), ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08")]
)  # fmt: skip
MAKEUP_WORKDAYS = ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"]
SPRING_FESTIVAL = ("2025-01-28", "2025-02-04")

COLUMNS = [
    "pv_pu",
    "wind_pu",
    "load_battery_cells_pu",
    "load_pv_modules_pu",
    "load_chemical_pu",
    "load_truck_depot_pu",
    "load_offices_pu",
]
DECIMALS = 6  # values are rounded to 1e-6 pu: keeps the file small and platform-stable


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """Independent generator per named stream (adding a stream does not change others)."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


def ar1(rng: np.random.Generator, n: int, tau_h: float) -> np.ndarray:
    """Stationary unit-variance AR(1) series with e-folding time *tau_h* [h] at 15 min."""
    phi = float(np.exp(-STEP_H / tau_h))
    e = rng.standard_normal(n)
    x = lfilter([np.sqrt(1.0 - phi * phi)], [1.0, -phi], e[1:], zi=[phi * e[0]])[0]
    return np.concatenate(([e[0]], x))


def periodic_interp(doy: np.ndarray, monthly: list[float]) -> np.ndarray:
    """Interpolate 12 mid-month values periodically over the day of year."""
    mid = np.array([16, 45, 75, 105, 136, 166, 197, 228, 258, 289, 319, 350], dtype=float)
    x = np.concatenate(([mid[-1] - 365.0], mid, [mid[0] + 365.0]))
    y = np.concatenate(([monthly[-1]], monthly, [monthly[0]]))
    return np.interp(doy, x, y)


def smooth_step(x: np.ndarray, width: float) -> np.ndarray:
    """Logistic step from 0 to 1 around x = 0 with a 10-90 % width of about *width*."""
    return 1.0 / (1.0 + np.exp(-4.4 * x / width))


def calendar(index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Calendar features of the 15-min index (local time)."""
    day = index.normalize()
    holiday = np.zeros(len(index), dtype=bool)
    for start, end in HOLIDAYS:
        holiday |= (day >= pd.Timestamp(start)) & (day <= pd.Timestamp(end))
    dow = index.dayofweek.to_numpy()
    makeup = day.isin(pd.to_datetime(MAKEUP_WORKDAYS))
    sunday = ((dow == 6) & ~makeup) | holiday
    saturday = (dow == 5) & ~makeup & ~holiday
    spring = (day >= pd.Timestamp(SPRING_FESTIVAL[0])) & (day <= pd.Timestamp(SPRING_FESTIVAL[1]))
    return {
        "hour": (index.hour + index.minute / 60.0).to_numpy(dtype=float),
        "doy": index.dayofyear.to_numpy(dtype=float),
        "day": ((day - day[0]).days).to_numpy(),
        "sunday": np.asarray(sunday),
        "saturday": np.asarray(saturday),
        "spring_festival": np.asarray(spring),
    }


# --------------------------------------------------------------------------- weather
def cloud_index(seed: int, n_days: int, month_of_day: np.ndarray) -> np.ndarray:
    """15-min clear-sky index from daily weather regimes plus intra-day AR(1) noise.

    Regimes (clear / broken cloud / overcast) follow a persistent Markov chain whose
    stationary probabilities are the monthly values below (dry, sunny winters; cloudier
    July-August monsoon months), roughly matching Ordos' ~3,000 sunshine hours.
    """
    rng = rng_for(seed, "clouds")
    p_clear = [0.70, 0.64, 0.54, 0.50, 0.47, 0.42, 0.32, 0.34, 0.45, 0.58, 0.66, 0.70]
    p_over = [0.07, 0.09, 0.13, 0.14, 0.15, 0.18, 0.24, 0.23, 0.19, 0.12, 0.09, 0.07]
    persist = 0.45
    regime = np.empty(n_days, dtype=int)
    u = rng.random((n_days, 2))
    prev = 0
    for d in range(n_days):
        m = month_of_day[d]
        if d > 0 and u[d, 0] < persist:
            regime[d] = prev
        else:
            r = u[d, 1]
            regime[d] = 0 if r < p_clear[m] else (2 if r > 1.0 - p_over[m] else 1)
        prev = regime[d]
    # Daily level: clear days vary with dust/aerosol, broken and overcast days a lot.
    mean = np.array([0.985, 0.72, 0.32])
    spread = np.array([0.025, 0.10, 0.08])
    level = mean[regime] + spread[regime] * rng.standard_normal(n_days)
    intra = np.array([0.02, 0.20, 0.10])  # intra-day standard deviation per regime
    steps = 96
    fast = ar1(rng, n_days * steps, tau_h=0.75)
    kc = np.repeat(level, steps) + np.repeat(intra[regime], steps) * fast
    return np.clip(kc, 0.05, 1.12)


def air_temperature(seed: int, cal: dict[str, np.ndarray], day_clearness: np.ndarray) -> np.ndarray:
    """Air temperature [degC]: seasonal cycle, diurnal cycle damped on cloudy days, AR(1)."""
    rng = rng_for(seed, "temperature")
    doy, hour = cal["doy"], cal["hour"]
    seasonal = 6.8 - 16.0 * np.cos(2 * np.pi * (doy - 18.0) / 365.0)  # Jan ≈ -9, Jul ≈ 22.5
    amplitude = 4.0 + 4.0 * day_clearness  # half of the daily range [K]
    diurnal = amplitude * np.cos(2 * np.pi * (hour - 15.0) / 24.0)
    return seasonal + diurnal + 3.0 * ar1(rng, len(doy), tau_h=48.0)


def hub_wind_speed(seed: int, cal: dict[str, np.ndarray]) -> np.ndarray:
    """Hub-height wind speed [m/s]: AR(1) Gaussian process mapped to a Weibull marginal.

    Synoptic (30 h) and mesoscale (3 h) components; the Weibull scale follows a monthly
    cycle (windy spring and winter, calm late summer) and a nocturnal maximum at hub
    height (stable night-time boundary layer over the desert), stronger in summer.
    """
    rng = rng_for(seed, "wind")
    n = len(cal["doy"])
    z = np.sqrt(0.8) * ar1(rng, n, tau_h=30.0) + np.sqrt(0.2) * ar1(rng, n, tau_h=3.0)
    monthly = [1.04, 1.06, 1.12, 1.20, 1.12, 0.98, 0.88, 0.82, 0.88, 0.96, 1.02, 1.04]
    season = periodic_interp(cal["doy"], monthly)
    season /= season.mean()
    diurnal_amp = 0.11 - 0.03 * np.cos(2 * np.pi * (cal["doy"] - 15.0) / 365.0)  # 8..14 %
    diurnal = 1.0 + diurnal_amp * np.cos(2 * np.pi * (cal["hour"] - 1.5) / 24.0)
    mean = WIND_MEAN_SPEED * season * diurnal
    scale = mean / gamma(1.0 + 1.0 / WIND_WEIBULL_K)
    u = np.clip(ndtr(z), 1e-12, 1.0 - 1e-12)
    return scale * (-np.log1p(-u)) ** (1.0 / WIND_WEIBULL_K)


# --------------------------------------------------------------------------- generation
def pv_profile(index: pd.DatetimeIndex, kc: np.ndarray, temp_air: np.ndarray,
               wind10: np.ndarray) -> np.ndarray:  # fmt: skip
    """AC output per MW AC [pu], irradiance evaluated at the period midpoint."""
    import pvlib

    mid = (index + pd.Timedelta(minutes=7.5)).tz_localize(TZ)
    site = pvlib.location.Location(LATITUDE, LONGITUDE, tz=TZ, altitude=ALTITUDE)
    sun = site.get_solarposition(mid)
    clear = site.get_clearsky(mid, model="ineichen", solar_position=sun)
    ghi = clear["ghi"].to_numpy() * kc
    zenith = sun["apparent_zenith"].to_numpy()
    split = pvlib.irradiance.erbs(ghi, zenith, mid.dayofyear.to_numpy())
    dni, dhi = split["dni"], split["dhi"]
    dni_extra = pvlib.irradiance.get_extra_radiation(mid).to_numpy()
    airmass = pvlib.atmosphere.get_relative_airmass(zenith)
    poa = pvlib.irradiance.get_total_irradiance(
        PV_TILT, PV_AZIMUTH, zenith, sun["azimuth"].to_numpy(), dni, ghi, dhi,
        dni_extra=dni_extra, airmass=airmass, albedo=PV_ALBEDO, model="perez",
    )  # fmt: skip
    aoi = pvlib.irradiance.aoi(PV_TILT, PV_AZIMUTH, zenith, sun["azimuth"].to_numpy())
    iam = pvlib.iam.physical(aoi)
    effective = np.nan_to_num(
        np.asarray(poa["poa_direct"]) * iam + np.asarray(poa["poa_diffuse"])
    ).clip(0.0)
    params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_glass"]
    temp_cell = pvlib.temperature.sapm_cell(effective, temp_air, wind10, **params)
    pdc = pvlib.pvsystem.pvwatts_dc(effective, temp_cell, pdc0=PV_DC_AC, gamma_pdc=PV_GAMMA_PDC)
    pdc = pdc * (1.0 - pvlib.pvsystem.pvwatts_losses(**PV_LOSSES) / 100.0)
    pac = pvlib.inverter.pvwatts(pdc, pdc0=1.0 / PV_ETA_INV, eta_inv_nom=PV_ETA_INV)
    pac = np.asarray(pac, dtype=float)
    pac[zenith >= 90.0] = 0.0
    return np.clip(np.nan_to_num(pac), 0.0, 1.0)


def wind_profile(v_hub: np.ndarray, temp_air: np.ndarray) -> np.ndarray:
    """Wind farm output per MW installed [pu] with air-density-corrected power curve."""
    from windpowerlib import WindTurbine
    from windpowerlib.power_output import power_curve_density_correction

    with warnings.catch_warnings():  # windpowerlib's pandas FutureWarning on fillna
        warnings.simplefilter("ignore", FutureWarning)
        turbine = WindTurbine(hub_height=WIND_HUB_HEIGHT, turbine_type=WIND_TURBINE)
    curve = turbine.power_curve
    # Barometric pressure at hub height and the ideal-gas air density [kg/m^3].
    z = ALTITUDE + WIND_HUB_HEIGHT
    pressure = 101325.0 * (1.0 - 2.25577e-5 * z) ** 5.25588
    t_hub = temp_air - 0.0065 * WIND_HUB_HEIGHT + 273.15
    density = pressure / (287.058 * t_hub)
    power = power_curve_density_correction(
        pd.Series(v_hub), curve["wind_speed"], curve["value"], pd.Series(density)
    )
    pu = np.asarray(power, dtype=float) / float(turbine.nominal_power)
    return np.clip(pu * WIND_FARM_FACTOR, 0.0, 1.0)


def normalise(x: np.ndarray) -> np.ndarray:
    """Scale to an annual peak of exactly 1.0."""
    return x / x.max()


def loads(seed: int, cal: dict[str, np.ndarray], temp: np.ndarray) -> dict[str, np.ndarray]:
    """Return the five load shapes, each normalised to an annual peak of 1.0 [pu]."""
    n = len(temp)
    h, sun, sat, spring = cal["hour"], cal["sunday"], cal["saturday"], cal["spring_festival"]
    out: dict[str, np.ndarray] = {}

    # Battery cells: 3 shifts (00/08/16 h) with short shift-change dips, dry-room HVAC
    # (dehumidification in summer, outside-air heating in winter), small weekend dip.
    rng = rng_for(seed, "load_battery_cells_pu")
    dip = np.isin(np.floor(h * 4) % 32, [0, 1]).astype(float)  # first 30 min of a shift
    process = 0.78 * (1.0 - 0.04 * dip) * np.where(sun, 0.95, np.where(sat, 0.98, 1.0))
    process *= np.where(spring, 0.90, 1.0)
    hvac = 0.14 + 0.012 * np.clip(temp - 10.0, 0.0, None) + 0.003 * np.clip(-temp, 0.0, None)
    noise = 1.0 + 0.02 * ar1(rng, n, 2.0) + 0.008 * rng.standard_normal(n)
    out["load_battery_cells_pu"] = normalise((process + hvac) * noise)

    # PV modules: two shifts 08-24 h, lower nights (ovens kept hot), weekends, holidays.
    rng = rng_for(seed, "load_pv_modules_pu")
    on = (
        smooth_step(h - 7.5, 0.8)
        - 0.06 * (np.abs(h - 16.0) < 0.5)
        - 0.05 * (np.abs(h - 12.25) < 0.25)
    )
    day_level = np.where(sun, 0.55, np.where(sat, 0.85, 1.0))
    level = 0.45 + (day_level - 0.45) * on
    level = np.where(spring, 0.35, level)
    cooling = 0.006 * np.clip(temp - 20.0, 0.0, None)
    noise = 1.0 + 0.03 * ar1(rng, n, 1.0) + 0.01 * rng.standard_normal(n)
    out["load_pv_modules_pu"] = normalise((level + cooling) * noise)

    # Chemical: flat continuous process, three planned maintenance outages (seeded dates).
    rng = rng_for(seed, "load_chemical_pu")
    t_day = cal["day"] + h / 24.0
    level = np.full(n, 0.93) + 0.002 * np.clip(temp - 15.0, 0.0, None)
    # (nominal start day-of-year, jitter [d], duration [d], residual load [pu])
    for start, jitter, days, floor in [(108, 10, 3, 0.55), (255, 10, 12, 0.12), (337, 5, 2, 0.65)]:
        t0 = start + int(rng.integers(-jitter, jitter + 1))
        down = np.clip((t_day - t0) / 1.0, 0.0, 1.0)  # one-day ramp down
        up = np.clip((t0 + days - t_day) / 2.0, 0.0, 1.0)  # two-day ramp up
        level *= 1.0 - (1.0 - floor / 0.93) * np.minimum(down, up)
    noise = 1.0 + 0.015 * ar1(rng, n, 6.0) + 0.005 * rng.standard_normal(n)
    out["load_chemical_pu"] = normalise(level * noise)

    # Heavy e-truck depot: overnight block, peaks at the shift changes (08 h, 20 h)
    # and a midday opportunity-charging bump; quieter weekends; winter battery heating.
    rng = rng_for(seed, "load_truck_depot_pu")
    night = smooth_step(h - 21.5, 0.6) + smooth_step(5.5 - h, 0.6)
    shape = (0.08 + 0.60 * night + 1.0 * np.exp(-0.5 * ((h - 8.0) / 0.6) ** 2)
             + 0.9 * np.exp(-0.5 * ((h - 19.75) / 0.6) ** 2)
             + 0.5 * np.exp(-0.5 * ((h - 12.5) / 0.8) ** 2))  # fmt: skip
    day_factor = np.where(sun, 0.55, np.where(sat, 0.85, 1.0)) * np.where(spring, 0.6, 1.0)
    volume = np.repeat(np.exp(0.08 * rng.standard_normal(cal["day"][-1] + 1)), 96)
    winter = 1.0 + 0.008 * np.clip(-temp, 0.0, None)
    noise = np.clip(1.0 + 0.08 * ar1(rng, n, 1.0) + 0.04 * rng.standard_normal(n), 0.0, None)
    out["load_truck_depot_pu"] = normalise(shape * day_factor * volume * winter * noise)

    # Offices and park services: occupancy-driven daytime peak, weekends, heat-pump
    # heating (Oct 15 - Apr 15 heating season) and summer cooling.
    rng = rng_for(seed, "load_offices_pu")
    occ = (
        smooth_step(h - 8.25, 0.7)
        * smooth_step(18.0 - h, 0.8)
        * (1.0 - 0.15 * np.exp(-0.5 * ((h - 12.5) / 0.5) ** 2))
    )
    occ *= np.where(sun, 0.10, np.where(sat, 0.30, 1.0))
    heating_season = (cal["doy"] >= 288) | (cal["doy"] <= 105)
    heating = np.where(heating_season, 0.008 * np.clip(14.0 - temp, 0.0, None), 0.0)
    cooling = 0.035 * np.clip(temp - 24.0, 0.0, None)
    load = 0.26 + 0.55 * occ + heating * (0.6 + 0.4 * occ) + cooling * (0.3 + 0.7 * occ)
    noise = 1.0 + 0.02 * ar1(rng, n, 1.0) + 0.01 * rng.standard_normal(n)
    out["load_offices_pu"] = normalise(load * noise)
    return out


def generate(seed: int = SEED) -> pd.DataFrame:
    """Build the year table (35,040 rows, per-unit float64 columns)."""
    index = pd.date_range(f"{YEAR}-01-01", periods=365 * 96, freq="15min", name="timestamp")
    cal = calendar(index)
    n_days = 365
    month_of_day = pd.date_range(f"{YEAR}-01-01", periods=n_days, freq="D").month.to_numpy() - 1
    kc = cloud_index(seed, n_days, month_of_day)
    day_clear = np.repeat(kc.reshape(n_days, 96)[:, 32:68].mean(axis=1), 96).clip(0.0, 1.0)
    temp = air_temperature(seed, cal, day_clear)
    v_hub = hub_wind_speed(seed, cal)
    wind10 = v_hub * (10.0 / WIND_HUB_HEIGHT) ** 0.2  # power-law shear, alpha = 0.2
    data = {
        "pv_pu": pv_profile(index, kc, temp, wind10),
        "wind_pu": wind_profile(v_hub, temp),
        **loads(seed, cal, temp),
    }
    frame = pd.DataFrame({c: np.round(data[c], DECIMALS) for c in COLUMNS}, index=index)
    return frame.astype("float64")


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write compressed Parquet atomically (temporary file, then rename)."""
    table = pa.Table.from_pandas(frame, preserve_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(
            table, tmp, compression="zstd", compression_level=19,
            use_byte_stream_split=list(frame.columns),
        )  # fmt: skip
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def summary(frame: pd.DataFrame) -> str:
    """Calibration summary: full-load hours and load factors."""
    lines = [f"{len(frame)} steps, {frame.index[0]} .. {frame.index[-1]}"]
    for c in ("pv_pu", "wind_pu"):
        lines.append(f"{c:24s} full-load hours {frame[c].sum() * STEP_H:7.0f} h"
                     f"  capacity factor {frame[c].mean():.3f}")  # fmt: skip
    for c in frame.columns[2:]:
        lines.append(f"{c:24s} load factor {frame[c].mean():.3f}  min {frame[c].min():.3f}"
                     f"  (equivalent {frame[c].sum() * STEP_H:5.0f} h at peak)")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("ordos_2025.parquet"))
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    frame = generate(args.seed)
    write_parquet(frame, args.out)
    print(summary(frame))
    print(f"written {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
