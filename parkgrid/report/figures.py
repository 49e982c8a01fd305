"""Report figures beyond :mod:`parkgrid.plotting`, one function per figure.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot;
colours per technology come from :data:`parkgrid.plotting.COLOURS`, and every axis
carries its unit. Inputs are a result's time series (the column names of
:func:`parkgrid.stages.timeseries_frame`) and, for network figures, its
``TimeseriesPF``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.sankey import Sankey

from parkgrid.plotting import COLOURS as TECH
from parkgrid.plotting import _flows, _stack, time_x
from parkgrid.timeseries import dt_h

__all__ = [
    "COLOURS",
    "carpet_figure",
    "duration_figure",
    "emissions_figure",
    "fleet_figure",
    "monthly_balance_figure",
    "pareto_figure",
    "pick_weeks",
    "sankey_figure",
    "storage_figure",
    "week_figure",
]

COLOURS = {**TECH, "soc": TECH["discharge"], "h2": TECH["electrolyser"],
           "vmin": "#08519c", "vmax": "#a50f15", "co2": "#636363"}
"""Technology colours of :mod:`parkgrid.plotting` plus those of storage, voltage, CO2."""

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TITLE: dict[str, Any] = {"fontsize": 12, "loc": "left"}


def _col(ts: pd.DataFrame, name: str) -> pd.Series:
    return ts[name] if name in ts else pd.Series(0.0, index=ts.index)


def _fill(ts: pd.DataFrame) -> pd.DataFrame:
    """Totals the plotting helpers need, zero where a column is absent (metered data)."""
    names = ("pv_avail_mw", "wind_avail_mw", "curtailed_mw", "bat_discharge_mw",
             "grid_import_mw", "load_mw", "unserved_mw", "bat_charge_mw", "electrolyser_mw",
             "grid_export_mw")
    out = ts.copy()
    for n in names:
        if n not in out:
            out[n] = 0.0
    if "res_avail_mw" not in out:
        out["res_avail_mw"] = out["pv_avail_mw"] + out["wind_avail_mw"]
    return out


#: width [in] of every report figure
WIDTH = 11.0


def _new(height: float, rows: int = 1, cols: int = 1, *, left: float = 0.95,
         right: float = 0.15, top: float = 0.3, bottom: float = 0.5, gap: float = 0.75,
         bar: bool = False) -> tuple[Figure, Any]:
    """Make a report figure of *rows* x *cols* axes with fixed margins [in].

    Fixed margins, not constrained layout: that lays the figure out in a first draw
    (every tick label measured), which took about half of a report's drawing time
    (0.8 s of 1.5 s CPU for the flagship's figures, issue 17). The margins hold the
    titles (*top*), x labels (*bottom*, more where a legend sits below the axes),
    y tick labels of up to six characters and a two-line y label (*left*), and *gap*
    between rows. ``bar=True`` makes *cols* two: the plots, and a narrow column on the
    right for their colour bars (``axes[r, 1]``), with room for the bars' labels in
    *right*.
    """
    fig = Figure(figsize=(WIDTH, height))
    inner = height - top - bottom
    axes_h = (inner - (rows - 1) * gap) / rows
    kw: dict[str, Any] = {"left": left / WIDTH, "right": 1.0 - right / WIDTH,
                          "top": 1.0 - top / height, "bottom": bottom / height,
                          "hspace": gap / axes_h}
    if bar:  # one plot column, then a colour bar 0.15 in wide, 0.1 in right of it
        width = WIDTH - left - right - 0.1
        kw["width_ratios"] = [width - 0.15, 0.15]
        kw["wspace"] = 0.1 / (width / 2)
        cols = 2
    axes = fig.subplots(rows, cols, squeeze=False, gridspec_kw=kw)
    if bar:
        for cax in axes[:, 1]:
            cax.set_label("<colorbar>")  # as colorbar(ax=...) names the axes it makes
    return fig, axes


def pick_weeks(ts: pd.DataFrame) -> list[tuple[int, str]]:
    """Weeks (1-based 7-day blocks from the first day) worth showing.

    Returns ``[(week, why), ...]``: the week with the highest curtailment and the
    week with the highest import (one entry if they coincide).
    """
    day0 = ts.index[0].normalize()
    block = np.asarray((ts.index - day0) // pd.Timedelta(days=7)) + 1
    dt = dt_h(ts.index)
    out: list[tuple[int, str]] = []
    for col, why in (("curtailed_mw", "highest curtailment"), ("grid_import_mw", "highest import")):
        energy = _col(ts, col).groupby(block).sum() * dt
        week = int(energy.idxmax())
        text = f"{why}: {energy.max():,.0f} MWh"
        if out and out[0][0] == week:
            out[0] = (week, out[0][1] + "; " + text)
        else:
            out.append((week, text))
    return out


def week_figure(ts: pd.DataFrame, week: int, why: str = "") -> Figure:
    """Dispatch stack of one week: sources up, uses down [MW]."""
    ts = _fill(ts)
    start = ts.index[0].normalize() + pd.Timedelta(days=7 * (week - 1))
    part = ts.loc[(ts.index >= start) & (ts.index < start + pd.Timedelta(days=7))]
    fig, ax = _new(5.2, bottom=1.2)  # the legend below the axes
    end = part.index[-1]
    title = f"Week {week}: {start:%d %b} – {end:%d %b %Y}" + (f" ({why})" if why else "")
    _stack(ax[0, 0], part, title)
    zone = start.strftime("UTC%z") if start.tzinfo is not None else "UTC+0800"
    ax[0, 0].set_xlabel(f"local time ({zone[:6]}:{zone[6:]})")  # e.g. UTC+08:00
    ax[0, 0].legend(ncol=5, fontsize=9, loc="upper left", bbox_to_anchor=(0, -0.16))
    return fig


def monthly_balance_figure(ts: pd.DataFrame) -> Figure:
    """Monthly energy balance [GWh]: sources above zero, uses and curtailment below."""
    ts = _fill(ts)
    dt = dt_h(ts.index)
    sources, sinks = _flows(ts)
    sinks = {**sinks, "curtailed": ts["curtailed_mw"]}
    fig, axes = _new(4.8, bottom=0.85)  # the legend below the axes
    ax = axes[0, 0]
    month = ts.index.month
    x = np.arange(1, 13)
    for group, sign in ((sources, 1.0), (sinks, -1.0)):
        bottom = np.zeros(12)
        for k, v in group.items():
            gwh = (v.groupby(month).sum() * dt / 1000).reindex(x, fill_value=0).to_numpy()
            ax.bar(x, sign * gwh, bottom=bottom, color=COLOURS[k], label=k)
            bottom += sign * gwh
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(x, MONTHS)
    ax.set_xlabel("month")
    ax.set_ylabel("energy [GWh]\nsources (+) / uses (−)")
    ax.set_title("Monthly energy balance", **TITLE)
    ax.legend(ncol=9, fontsize=9, loc="upper left", bbox_to_anchor=(0, -0.13))
    ax.grid(alpha=0.3, axis="y")
    return fig


def _daily_band(ax: Axes, s: pd.Series, colour: str, label: str) -> None:
    daily = s.resample("D")
    lo, hi, mean = daily.min(), daily.max(), daily.mean()
    x = time_x(ax, lo.index)
    ax.fill_between(x, lo.to_numpy(), hi.to_numpy(), color=colour, alpha=0.3,
                    linewidth=0, label=f"{label}: daily min–max")
    ax.plot(x, mean.to_numpy(), color=colour, lw=1.2, label=f"{label}: daily mean")


def storage_figure(ts: pd.DataFrame, scenario: Any = None) -> Figure:
    """Battery state of charge [%] and hydrogen tank level [t] over the year."""
    fig, axes = _new(6.0, 2, 1)
    ax = axes[0, 0]
    socs = [c for c in ts.columns if c.startswith("battery.") and c.endswith(".soc_pu")]
    if socs:
        for c in socs:
            _daily_band(ax, ts[c] * 100, COLOURS["soc"], c.split(".")[1])
        bats = getattr(scenario, "battery", ()) or ()
        for b in bats[:1]:
            ax.axhline(b.soc_min_pu * 100, color="black", lw=0.7, ls=":", label="SOC limits")
            ax.axhline(b.soc_max_pu * 100, color="black", lw=0.7, ls=":")
        ax.legend(fontsize=9, loc="upper right", ncol=3)
    else:
        ax.text(0.5, 0.5, "no battery", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylabel("state of charge [%]")
    ax.set_xlabel("date")
    ax.set_ylim(0, 100)
    ax.set_title("Battery state of charge", **TITLE)
    ax.grid(alpha=0.3)
    ax = axes[1, 0]
    tank = _col(ts, "h2_tank_kg")
    if "h2_tank_kg" in ts and float(tank.abs().max()) > 0:
        _daily_band(ax, tank / 1000, COLOURS["h2"], "tank")
        h2 = getattr(scenario, "hydrogen", None)
        if h2 is not None:
            ax.axhline(h2.capacity_kg / 1000, color="black", lw=0.7, ls=":", label="capacity")
        ax.legend(fontsize=9, loc="upper right", ncol=3)
    else:
        ax.text(0.5, 0.5, "no hydrogen tank", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylabel("hydrogen in tank [t]")
    ax.set_xlabel("date")
    ax.set_title("Hydrogen tank", **TITLE)
    ax.grid(alpha=0.3)
    return fig


def fleet_figure(ts: pd.DataFrame, scenario: Any) -> Figure:
    """Truck stations: their mean day [MW] against the import price, and energy by month.

    Stations are the scenario's ``[[depot]]``, ``[[swap_station]]`` and
    ``[[h2_station]]`` (compressor); their power is the load column of each.
    """
    fig, axes = _new(6.5, 2, 1, right=0.95)  # the price axis on the right
    names = [(k, st.name) for k in ("depot", "swap_station", "h2_station")
             for st in getattr(scenario, k, ()) or ()]
    cols = [(k, name, f"load.{name}.p_mw") for k, name in names if f"load.{name}.p_mw" in ts]
    tod = ts.index.hour + ts.index.minute / 60.0
    ax = axes[0, 0]
    for k, name, c in cols:
        mean_day = ts[c].groupby(tod).mean()
        label = f"{name} ({k.replace('_', ' ')})"
        ax.step(mean_day.index, mean_day.to_numpy(), where="post", label=label)
    ax.set_xlabel("time of day [h]")
    ax.set_ylabel("mean power [MW]")
    ax.set_xlim(0, 24)
    ax.set_xticks(range(0, 25, 3))
    ax.grid(alpha=0.3)
    ax.set_title("Truck stations: the mean day", **TITLE)
    if "price_cny_per_mwh" in ts:
        price = ts["price_cny_per_mwh"].groupby(tod).mean()
        ax2 = ax.twinx()
        ax2.step(price.index, price.to_numpy(), where="post", color="grey", lw=0.8, ls="--",
                 label="import price")
        ax2.set_ylabel("mean import price [CNY/MWh]")
        ax2.legend(fontsize=9, loc="upper right")
    ax.legend(fontsize=9, loc="upper left")
    ax = axes[1, 0]
    step_h = dt_h(ts.index)
    bottom = np.zeros(12)
    for _k, name, c in cols:
        monthly = (ts[c] * step_h).groupby(ts.index.month).sum().reindex(range(1, 13),
                                                                          fill_value=0.0)
        ax.bar(MONTHS, monthly.to_numpy(), bottom=bottom, label=name)
        bottom += monthly.to_numpy()
    ax.set_ylabel("energy [MWh]")
    ax.set_title("Station energy by month (charging; compressors for hydrogen)", **TITLE)
    ax.legend(fontsize=9, ncol=2)
    ax.grid(alpha=0.3, axis="y")
    return fig


def carpet_figure(ts: pd.DataFrame) -> Figure:
    """Carpet plots (day of year × time of day) of grid exchange and curtailment [MW]."""
    fig, axes = _new(7.5, 2, 1, right=0.8, bar=True)
    day = ts.index.normalize()
    minute = ts.index.hour * 60 + ts.index.minute
    days = day.unique()
    extent = (0.0, float(len(days)), 24.0, 0.0)
    grid = (_col(ts, "grid_import_mw") - _col(ts, "grid_export_mw")).to_numpy()
    curt = _col(ts, "curtailed_mw").to_numpy()
    for ax, cax, values, title, label in (
        (axes[0, 0], axes[0, 1], grid, "Grid exchange: import (+, red) / export (−, blue)",
         "grid exchange [MW]"),
        (axes[1, 0], axes[1, 1], curt, "Curtailment", "curtailed power [MW]"),
    ):
        table = pd.DataFrame({"day": day, "minute": minute, "v": values}).pivot_table(
            index="minute", columns="day", values="v", aggfunc="mean")
        z = table.to_numpy()
        if values is grid:
            span = max(float(np.nanmax(np.abs(z))) if z.size else 0.0, 1e-9)
            im = ax.imshow(z, aspect="auto", extent=extent, cmap="RdBu_r",
                           norm=TwoSlopeNorm(0.0, -span, span), interpolation="nearest")
        else:
            im = ax.imshow(z, aspect="auto", extent=extent, cmap="Reds",
                           vmin=0.0, vmax=max(float(np.nanmax(z)) if z.size else 0.0, 1e-9),
                           interpolation="nearest")
        fig.colorbar(im, cax=cax, label=label)
        ax.set_yticks([0, 6, 12, 18, 24])
        ax.set_ylabel("time of day [h]")
        firsts = [i for i, d in enumerate(days) if d.day == 1]
        ax.set_xticks([i + 0.5 for i in firsts], [MONTHS[days[i].month - 1] for i in firsts])
        ax.set_xlabel("day of year (ticks on the 1st of each month)")
        ax.set_title(title, **TITLE)
    return fig


#: points drawn of a sorted curve: more than the ~1,100 pixels of a figure's width, so
#: the thinned curve is drawn as the full one is; a year's 35,040 points took most of
#: the report's drawing time (issue 17)
CURVE_POINTS = 2048


def thin_sorted(n: int, points: int = CURVE_POINTS) -> np.ndarray:
    """Positions to draw of a monotone curve of *n* points: evenly spread, ends kept.

    Between two kept positions a monotone curve stays within the values at them, so
    the straight segment drawn misses it by less than one kept interval
    (``n / points`` positions, under a pixel at :data:`CURVE_POINTS`).
    """
    if n <= points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, points).round().astype(np.int64))


def _sorted_curve(ax: Axes, v: np.ndarray, dt: float, **kw: Any) -> None:
    keep = thin_sorted(len(v))
    ax.plot((keep + 1) * dt, v[keep], **kw)


def _duration(ax: Axes, values: np.ndarray, dt: float, **kw: Any) -> None:
    _sorted_curve(ax, np.sort(values[~np.isnan(values)])[::-1], dt, **kw)


def duration_figure(ts: pd.DataFrame, network: Any = None) -> Figure:
    """Duration curves: grid exchange, voltage envelope and highest line loading."""
    dt = dt_h(ts.index)
    fig, axes = _new(9.5, 3, 1)
    ax = axes[0, 0]
    _duration(ax, _col(ts, "grid_import_mw").to_numpy(dtype=float), dt,
              color=COLOURS["import"], lw=1.8, label="import")
    _duration(ax, _col(ts, "grid_export_mw").to_numpy(dtype=float), dt,
              color=COLOURS["export"], lw=1.8, ls="--", label="export")
    ax.set_ylabel("power [MW]")
    ax.set_xlabel("hours per year at or above [h]")
    ax.set_title("Duration curves of grid import and export", **TITLE)
    ax.legend(fontsize=9)
    ax.grid(alpha=0.3)
    ok = (np.zeros(0, dtype=bool) if network is None
          else network.converged.to_numpy(dtype=bool))
    if not ok.any():
        for ax in (axes[1, 0], axes[2, 0]):
            ax.text(0.5, 0.5, "no power-flow steps solved", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_xlabel("hours at or above [h]")
        axes[1, 0].set_ylabel("voltage [pu]")
        axes[2, 0].set_ylabel("loading [%]")
        axes[1, 0].set_title("Voltage envelope", **TITLE)
        axes[2, 0].set_title("Line loading", **TITLE)
        return fig
    vm = network.vm_pu.to_numpy(dtype=float)[ok]
    n = int(ok.sum())
    ax = axes[1, 0]
    _duration(ax, np.nanmax(vm, axis=1), dt, color=COLOURS["vmax"], lw=1.8,
              label="highest bus voltage of the step")
    _sorted_curve(ax, np.sort(np.nanmin(vm, axis=1)), dt, color=COLOURS["vmin"], lw=1.8,
                  label="lowest bus voltage of the step (ascending)")
    for lim in (0.95, 1.05):
        ax.axhline(lim, color="black", lw=0.7, ls=":")
    ax.set_ylabel("voltage [pu]")
    ax.set_xlabel("hours at or beyond [h]")
    ax.set_title(f"Voltage envelope over the {n:,} steps solved ({n * dt:,.0f} h)", **TITLE)
    ax.legend(fontsize=9)
    ax.grid(alpha=0.3)
    ax = axes[2, 0]
    line = network.line_loading_percent.to_numpy(dtype=float)[ok]
    if line.size:
        _duration(ax, np.nanmax(line, axis=1), dt, color="#e6550d", lw=1.8,
                  label="most loaded line of the step")
        _duration(ax, np.nanmean(line, axis=1), dt, color="#fdae6b", lw=1.5,
                  label="mean over lines")
    ax.axhline(100, color="black", lw=0.7, ls=":")
    ax.set_ylabel("loading [%]")
    ax.set_xlabel("hours at or above [h]")
    ax.set_title(f"Line loading over the {n:,} steps solved", **TITLE)
    ax.legend(fontsize=9)
    ax.grid(alpha=0.3)
    return fig


def sankey_figure(ts: pd.DataFrame) -> Figure:
    """Annual energy flows [GWh] through the park's bus (matplotlib Sankey)."""
    ts = _fill(ts)
    dt = dt_h(ts.index)
    gwh = {k: float(v.sum()) * dt / 1000 for k, v in ts.items() if k.endswith("_mw")}
    inflows = [("PV", gwh["pv_avail_mw"]), ("wind", gwh["wind_avail_mw"]),
               ("grid import", gwh["grid_import_mw"]),
               ("battery discharge", gwh["bat_discharge_mw"])]
    outflows = [("curtailed", gwh["curtailed_mw"]), ("export", gwh["grid_export_mw"]),
                ("loads", gwh["load_mw"] - gwh["unserved_mw"]),
                ("electrolysers", gwh["electrolyser_mw"]),
                ("battery charge", gwh["bat_charge_mw"])]
    total = sum(v for _, v in inflows)
    fig = Figure(figsize=(11, 6.0))  # no layout engine: Sankey fixes the data aspect
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.9))
    ax.set_axis_off()
    ax.set_title(f"Annual energy flows [GWh] (total in {total:,.1f} GWh)", **TITLE)
    flows = [(n, v) for n, v in inflows if v > 1e-3 * total] + \
            [(n, -v) for n, v in outflows if v > 1e-3 * total]
    if total <= 0 or not flows:
        ax.text(0.5, 0.5, "no energy flows", ha="center", va="center", transform=ax.transAxes)
        return fig
    # the largest flow in and out run straight through; the others alternate up and down
    orient, side = [], {1.0: 1, -1.0: 1}
    biggest = {sign: max((abs(v) for _, v in flows if np.sign(v) == sign), default=0.0)
               for sign in (1.0, -1.0)}
    for _, v in flows:
        sign = float(np.sign(v))
        if abs(v) == biggest[sign]:
            orient.append(0)
            biggest[sign] = -1.0
        else:
            orient.append(side[sign])
            side[sign] = -side[sign]
    sankey = Sankey(ax=ax, scale=1.0 / total, unit=" GWh", format="%.1f", gap=0.5,
                    offset=0.25, head_angle=120)
    sankey.add(flows=[v for _, v in flows], labels=[n for n, _ in flows],
               orientations=orient, pathlengths=[0.5] * len(flows), facecolor="#c6dbef",
               edgecolor="#3182bd", lw=1.0)
    for text in sankey.finish()[0].texts:
        text.set_fontsize(10)
    ax.set_aspect("equal", adjustable="box")  # 'datalim' would fight the fixed limits
    return fig


def emissions_figure(ts: pd.DataFrame, ef_kg_per_kwh: float) -> Figure:
    """CO2 of grid imports by month [tCO2] with the emission factor used."""
    dt = dt_h(ts.index)
    imp = _col(ts, "grid_import_mw")
    t = (imp.groupby(ts.index.month).sum() * dt * ef_kg_per_kwh).reindex(range(1, 13),
                                                                          fill_value=0.0)
    fig, axes = _new(4.2)
    ax = axes[0, 0]
    ax.bar(np.arange(1, 13), t.to_numpy(), color=COLOURS["co2"])
    ax.set_xticks(np.arange(1, 13), MONTHS)
    ax.set_xlabel("month")
    ax.set_ylabel("CO2 of grid imports [tCO2]")
    ax.set_title(f"Emissions by month: {t.sum():,.0f} tCO2 in the year at "
                 f"{ef_kg_per_kwh:.4f} kgCO2/kWh", **TITLE)
    ax.grid(alpha=0.3, axis="y")
    return fig


def pareto_front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Boolean mask of the points no other point beats in both *x* and *y* (both minimised)."""
    keep = np.ones(len(x), dtype=bool)
    for i in range(len(x)):
        better = (x <= x[i]) & (y <= y[i]) & ((x < x[i]) | (y < y[i]))
        keep[i] = not better.any()
    return keep


def pareto_figure(table: pd.DataFrame, x: str, y: str, *, units: tuple[str, str] = ("", "")
                  ) -> Figure:
    """Sweep results as points of *x* against *y*, the Pareto front (both minimised) joined."""
    xv, yv = table[x].to_numpy(dtype=float), table[y].to_numpy(dtype=float)
    front = pareto_front(xv, yv)
    fig, axes = _new(5.0)
    ax = axes[0, 0]
    ax.scatter(xv[~front], yv[~front], color="#9ecae1", label="dominated", zorder=2)
    order = np.argsort(xv[front])
    ax.plot(xv[front][order], yv[front][order], "o-", color="#08519c", label="Pareto front",
            zorder=3)
    for label, xi, yi in zip(table.index[front], xv[front], yv[front], strict=True):
        ax.annotate(str(label), (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel(f"{x} [{units[0] or '-'}]")
    ax.set_ylabel(f"{y} [{units[1] or '-'}]")
    ax.set_title(f"Sweep: {len(table)} variants, {int(front.sum())} on the Pareto front", **TITLE)
    ax.legend(fontsize=9)
    ax.grid(alpha=0.3)
    return fig
