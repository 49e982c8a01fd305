"""The self-contained HTML report of a result (figures embedded as PNG data URIs).

The page needs nothing but itself: styles inline, figures as ``data:image/png``
URIs, no scripts from elsewhere. A small inline script checks on load that every
figure decoded and says so in the page (and in ``body[data-figures-loaded]``,
which the browser test reads).
"""

from __future__ import annotations

import base64
import html
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from parkgrid._format import format_number
from parkgrid.kpis import COUNT_KPIS, KPI_INFO
from parkgrid.plotting import DRAW_RC, png_bytes
from parkgrid.report import figures as F
from parkgrid.report.carbon import carbon_figures, carbon_tables_html
from parkgrid.report.costs import cost_figure_specs
from parkgrid.report.targets import check_targets
from parkgrid.report.work import FigureJob, FigureWork

__all__ = ["png", "render_report", "render_sweep_report", "write_report"]


_CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px auto;max-width:1160px;
color:#222;line-height:1.4;font-size:15px}
h1{font-size:26px;margin-bottom:4px}h2{font-size:20px;border-bottom:1px solid #ccc;
margin-top:32px}table{border-collapse:collapse;font-size:14px;margin:8px 0}
th,td{border:1px solid #ccc;padding:3px 8px;vertical-align:top}th{background:#f0f0f0}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.pass{background:#d9f0d3;font-weight:bold}td.fail{background:#f4cccc;font-weight:bold}
figure{margin:16px 0}figure img{max-width:100%;height:auto;display:block;
border:1px solid #ddd}figcaption{font-size:14px;color:#444;margin-top:4px}
.missing{color:#b00;font-weight:bold}.meta td{font-family:monospace;font-size:13px}
"""

_SCRIPT = """
window.addEventListener("load", function () {
  var imgs = document.querySelectorAll("img.figure"), ok = 0, rects = [];
  imgs.forEach(function (im) {
    if (im.complete && im.naturalWidth > 0) { ok += 1; } else {
      var p = document.createElement("p"); p.className = "missing";
      p.textContent = "figure failed to load: " + im.alt; im.after(p);
    }
    var r = im.getBoundingClientRect();
    rects.push([r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]
               .map(Math.round).join(","));
  });
  document.body.setAttribute("data-figures-loaded", ok + "/" + imgs.length);
  document.body.setAttribute("data-figure-rects", rects.join(";"));
  document.body.setAttribute("data-page-height", document.documentElement.scrollHeight);
});
"""

# readable fonts in every figure (matplotlib's rc keys are typed as literals, hence Any)
REPORT_RC: Any = {**DRAW_RC, "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11,
                  "xtick.labelsize": 10, "ytick.labelsize": 10, "legend.fontsize": 9}


def png(fig: Figure, dpi: int = 100) -> str:
    """*fig* as base64-encoded PNG for a ``data:image/png`` source."""
    return _base64(png_bytes(fig, dpi))


def _base64(data: bytes) -> str:
    """PNG *data* as the text of a ``data:image/png;base64,`` source."""
    return base64.b64encode(data).decode("ascii")


def _fmt(v: Any, *, count: bool = False) -> str:
    """Format a table cell: :func:`~parkgrid._format.format_number`, HTML-escaped."""
    return html.escape(format_number(v, count=count))


def kpi_table_html(kpis: dict[str, float], targets: Any = ()) -> str:
    """KPI table (name, value, unit, definition, target, pass/fail) as HTML."""
    checks = {c.kpi: c for c in check_targets(targets, kpis)}
    rows = ["<tr><th>KPI</th><th>value</th><th>unit</th><th>target</th><th>status</th>"
            "<th>definition</th></tr>"]
    for k, v in kpis.items():
        unit, definition = KPI_INFO.get(k, ("", ""))
        c = checks.get(k)
        target = html.escape(c.text) if c else ""
        status = f'<td class="{c.status}">{c.status}</td>' if c else "<td></td>"
        value = _fmt(v, count=k in COUNT_KPIS)
        rows.append(f"<tr><td><code>{html.escape(k)}</code></td><td class='num'>{value}</td>"
                    f"<td>{html.escape(unit)}</td><td>{target}</td>{status}"
                    f"<td>{html.escape(definition)}</td></tr>")
    return "<table class='kpis'>" + "".join(rows) + "</table>"


def targets_html(kpis: dict[str, float], targets: Any) -> str:
    """Render the scenario's targets with the value reached and pass/fail as HTML."""
    checks = check_targets(targets, kpis)
    if not checks:
        return "<p>The scenario sets no <code>[targets]</code>.</p>"
    rows = ["<tr><th>target</th><th>KPI</th><th>required</th><th>reached</th>"
            "<th>status</th></tr>"]
    for c in checks:
        unit = "" if c.unit == "-" else f" {html.escape(c.unit)}"
        rows.append(f"<tr><td><code>{c.key}</code></td><td><code>{c.kpi}</code></td>"
                    f"<td class='num'>{html.escape(c.text)}</td>"
                    f"<td class='num'>{_fmt(c.value)}{unit}</td>"
                    f"<td class='{c.status}'>{c.status}</td></tr>")
    return "<table class='targets'>" + "".join(rows) + "</table>"


def _figure_specs(result: Any, sweep: pd.DataFrame | None) -> list[tuple[str, str, Callable[
        [], Figure]]]:
    ts = result.timeseries
    scenario = result.scenario
    ef = result.kpis.get("emission_factor_kg_per_kwh", float("nan"))
    if math.isnan(ef):
        ef = getattr(getattr(scenario, "grid", None), "ef_kg_per_kwh", 0.0)
    specs: list[tuple[str, str, Callable[[], Figure]]] = [
        ("Monthly energy balance", "Energy by month: sources (PV and wind used, battery "
         "discharge, import) above zero; uses (loads, battery charge, electrolysers, export) "
         "and curtailment below.", lambda: F.monthly_balance_figure(ts)),
    ]
    for week, why in F.pick_weeks(ts):
        specs.append((f"Dispatch, week {week}", f"Dispatch stack of week {week} ({why}); the "
                      "dashed line is the renewable power available.",
                      _week_maker(ts, week, why)))
    specs += [
        ("Battery and hydrogen tank", "Daily range and mean of the battery state of charge "
         "and of the hydrogen in the tank.", lambda: F.storage_figure(ts, scenario)),
        ("Carpet plots", "Every step of the year: grid exchange (import red, export blue) "
         "and curtailment by day and time of day.", lambda: F.carpet_figure(ts)),
        ("Duration curves", "Sorted grid import and export over the year; per-step lowest "
         "and highest bus voltage and highest line loading over the power-flow steps solved.",
         lambda: F.duration_figure(ts, result.network)),
        ("Energy flows", "Annual energy into the park's bus (left) and out of it.",
         lambda: F.sankey_figure(ts)),
        ("Emissions by month", "Grid imports times the emission factor.",
         lambda: F.emissions_figure(ts, ef)),
    ]
    specs += cost_figure_specs(result)  # lifecycle economics, only with [economics]
    if any(getattr(scenario, k, None) for k in ("depot", "swap_station", "h2_station")):
        specs.append(("Truck fleets", "Charging depots, swap stations and hydrogen stations "
                      "(compressor): the mean day of each against the import price, and "
                      "their energy by month; waits, misses and energies are in the KPI "
                      "table (fleet_*, depot_*, swap_*, h2_station_*).",
                      lambda: F.fleet_figure(ts, scenario)))
    if sweep is not None and len(sweep) > 1:
        x, y = _pareto_axes(sweep)
        specs.append(("Sweep: Pareto plot", f"Variants of the sweep, {x} against {y}; both "
                      "lower is better.", lambda: F.pareto_figure(sweep, x, y, units=(
                          _unit(x), _unit(y)))))
    return specs


def _week_maker(ts: pd.DataFrame, week: int, why: str) -> Callable[[], Figure]:
    return lambda: F.week_figure(ts, week, why)


def _unit(kpi: str) -> str:

    return KPI_INFO.get(kpi, ("", ""))[0]


def _pareto_axes(sweep: pd.DataFrame) -> tuple[str, str]:
    """Cost against CO2 where a sweep has both, else its first two numeric KPI columns."""
    numeric = [c for c in sweep.columns if pd.api.types.is_numeric_dtype(sweep[c])]
    if "net_cost_cny" in numeric and "co2_t" in numeric:
        return "net_cost_cny", "co2_t"
    kpis = [c for c in numeric if c in KPI_INFO] or numeric
    return kpis[0], kpis[1]


_SWEEP_KPIS = ("net_cost_cny", "co2_t", "green_share_annual", "green_share_hourly",
               "self_consumption_ratio", "curtailed_mwh", "h2_produced_kg",
               "net_present_cost_cny", "npv_cny", "lcoh_cny_per_kg")


def render_sweep_report(table: pd.DataFrame, *, title: str = "Sweep") -> str:
    """Return a self-contained HTML page of a sweep table (``sweep.parquet`` of ``parkgrid sweep``).

    Rows are variants (``key``, parameters, ``status``, KPIs); the page lists them
    with their main KPIs and draws the Pareto plot of the variants that ran (``status``
    ``ok``), cost against CO2 where both are present.
    """
    ok = table[table["status"] == "ok"] if "status" in table else table
    if "key" in ok:
        ok = ok.set_index("key")
    shown = [c for c in ok.columns if c in _SWEEP_KPIS]
    params = [c for c in ok.columns if c not in shown and c not in {
        "scenario", "status", "error", "wall_s", "cpu_s", "pareto"}
        and not pd.api.types.is_float_dtype(ok[c])]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in ["variant", *params, *shown])
    rows = "".join(
        f"<tr><td><code>{html.escape(str(k))}</code></td>"
        + "".join(f"<td>{html.escape(str(r[c]))}</td>" for c in params)
        + "".join(f"<td class='num'>{_fmt(r[c])}</td>" for c in shown) + "</tr>"
        for k, r in ok.iterrows())
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>"
             f"{html.escape(title)} — parkgrid sweep</title><style>{_CSS}</style></head><body>"
             f"<h1>{html.escape(title)}</h1><p>{len(table)} variants, {len(ok)} ran.</p>"
             f"<h2>Variants</h2><table><tr>{head}</tr>{rows}</table>"]
    if len(ok) > 1:
        x, y = _pareto_axes(ok)
        with mpl.rc_context(REPORT_RC):
            fig = F.pareto_figure(ok, x, y, units=(_unit(x), _unit(y)))
            parts.append("<h2>Pareto plot</h2><figure><img class='figure' id='fig1' "
                         f"alt='Pareto plot' src='data:image/png;base64,{png(fig)}'>"
                         f"<figcaption>Figure 1. {html.escape(x)} against {html.escape(y)}; "
                         "both lower is better.</figcaption></figure>")
    parts.append("<script>" + _SCRIPT + "</script></body></html>\n")
    return "".join(parts)


def report_figure_jobs(specs: list[tuple[str, str, Callable[[], Figure]]]
                       ) -> list[FigureJob]:
    """Return the figures *specs* (:func:`report_figure_specs`) as :class:`FigureWork` jobs.

    Every report figure is drawn at 100 dpi under :data:`REPORT_RC`.
    """
    return [(make, 100, REPORT_RC) for _, _, make in specs]


def report_figure_specs(result: Any, sweep: pd.DataFrame | None = None
                        ) -> tuple[list[tuple[str, str, Callable[[], Figure]]], int | None]:
    """List the report's figures as (heading, caption, maker); say where carbon starts.

    The second item is the position of the first figure of the section "Carbon and
    green power" (``None`` without that section).
    """
    specs = _figure_specs(result, sweep)
    carbon = carbon_figures(result)
    return specs + carbon, (len(specs) if carbon else None)


def render_report(result: Any, *, sweep: pd.DataFrame | None = None,
                  progress: bool = False, title: str | None = None,
                  metadata: dict[str, str] | None = None,
                  images: list[bytes] | None = None) -> str:
    """Return the report of *result* as one self-contained HTML string.

    Parameters
    ----------
    result:
        A :class:`parkgrid.result.Result` (fresh or from :func:`parkgrid.load_result`).
    sweep:
        Optional table of sweep variants (rows) by KPI (columns) for the Pareto plot.
    progress:
        Show a progress bar while the figures are drawn.
    title:
        Heading of the page (default: the scenario name).
    metadata:
        Provenance to show (default ``result.metadata()``); ``Result.save`` passes
        the one it writes into the other files, so they agree and the scenario is
        hashed once.
    images:
        The figures of :func:`report_figure_specs` already drawn, as PNG data in
        their order (``Result.save`` draws them while it writes the tables, see
        :mod:`parkgrid.report.work`); drawn here if ``None``.
    """
    scenario = result.scenario
    name = title or str(getattr(scenario, "name", "parkgrid result"))
    targets = getattr(scenario, "targets", ())
    meta = result.metadata() if metadata is None else metadata
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>{html.escape(name)} — parkgrid report</title><style>{_CSS}</style>"
             f"</head><body><h1>{html.escape(name)}</h1>"]
    desc = getattr(scenario, "description", "")
    if desc:
        parts.append(f"<p>{html.escape(desc)}</p>")
    ts = result.timeseries
    strategy = html.escape(str(getattr(scenario, "strategy", "")))
    parts.append(f"<p>{len(ts):,} steps from {ts.index[0]} to {ts.index[-1]} (local "
                 f"standard time); strategy <code>{strategy}</code>.</p>")
    parts.append("<table class='meta'>" + "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in meta.items()) + "</table>")
    parts.append("<h2>Targets</h2>" + targets_html(result.kpis, targets))
    parts.append("<h2>Key performance indicators</h2>" + kpi_table_html(result.kpis, targets))
    every, carbon_at = report_figure_specs(result, sweep)
    if images is None:  # drawn here, by this process and a forked worker
        work = FigureWork(lambda: report_figure_jobs(every), progress=progress)
        work.start()
        images = work.finish()
    for i, ((heading, caption, _), png_data) in enumerate(zip(every, images, strict=True)):
        image = _base64(png_data)
        if i == carbon_at:  # section "Carbon and green power"
            parts.append(carbon_tables_html(result))
        parts.append(f"<h2>{html.escape(heading)}</h2><figure><img class='figure' "
                     f"id='fig{i + 1}' alt='{html.escape(heading, quote=True)}' "
                     f"src='data:image/png;base64,{image}'>"
                     f"<figcaption>Figure {i + 1}. {html.escape(caption)}</figcaption>"
                     "</figure>")
    parts.append(f"<p style='color:#777'>parkgrid {html.escape(meta.get('parkgrid_version', ''))}"
                 "</p><script>" + _SCRIPT + "</script></body></html>\n")
    return "".join(parts)


def write_report(result: Any, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write :func:`render_report` of *result* to *path* (UTF-8) and return the path."""
    out = Path(path)
    out.write_text(render_report(result, **kwargs), encoding="utf-8")
    return out
