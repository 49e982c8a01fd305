"""Results side by side: a KPI table, overlaid duration curves and a page with both.

Loading the folders is :func:`parkgrid.compare.compare_results`'s job; these
functions draw results already in memory.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from parkgrid._format import format_number
from parkgrid.kpis import COUNT_KPIS, KPI_INFO
from parkgrid.report.figures import _sorted_curve
from parkgrid.report.html import png
from parkgrid.timeseries import dt_h

__all__ = ["compare_kpis", "comparison_page", "duration_overlay_figure"]


def compare_kpis(results: dict[str, Any]) -> pd.DataFrame:
    """KPI table: one row per KPI (with its unit), one column per result, in given order.

    A KPI missing from a result (e.g. network KPIs without a power flow) is NaN.
    """
    names: list[str] = []
    for r in results.values():
        names += [k for k in r.kpis if k not in names]
    table = pd.DataFrame({label: [r.kpis.get(k, np.nan) for k in names]
                          for label, r in results.items()}, index=pd.Index(names, name="kpi"))
    table.insert(0, "unit", [KPI_INFO.get(k, ("", ""))[0] for k in names])
    return table


def duration_overlay_figure(results: dict[str, Any]) -> Figure:
    """Duration curves of grid exchange (import + / export −) and of the highest line loading.

    One line per result, same colour in both panels. Each sorted curve is drawn as
    the report's duration curves are (``figures._sorted_curve``): through
    :func:`~parkgrid.report.figures.thin_sorted`'s positions, both ends kept, at
    most :data:`~parkgrid.report.figures.CURVE_POINTS` points.
    """
    fig = Figure(figsize=(11, 7.5), layout="constrained")
    ax1, ax2 = fig.subplots(2, 1)
    colours = [f"C{i % 10}" for i in range(len(results))]
    any_net = False
    for (label, r), colour in zip(results.items(), colours, strict=True):
        ts = r.timeseries
        dt = dt_h(ts.index)
        grid = (ts["grid_import_mw"] - ts["grid_export_mw"]).to_numpy(dtype=float)
        _sorted_curve(ax1, np.sort(grid)[::-1], dt, color=colour, lw=1.6, label=label)
        net = r.network
        if net is not None and net.converged.any():
            line = net.line_loading_percent.to_numpy(dtype=float)[
                net.converged.to_numpy(dtype=bool)]
            if line.size:
                _sorted_curve(ax2, np.sort(np.nanmax(line, axis=1))[::-1], dt, color=colour,
                              lw=1.6, label=f"{label} ({len(line):,} steps)")
                any_net = True
    ax1.axhline(0, color="black", lw=0.6)
    ax1.set_xlabel("hours per year at or above [h]")
    ax1.set_ylabel("grid exchange [MW]\nimport (+) / export (−)")
    ax1.set_title("Duration curves of grid exchange", fontsize=12, loc="left")
    ax1.legend(fontsize=9)
    ax1.grid(alpha=0.3)
    ax2.set_xlabel("hours at or above, over the power-flow steps solved [h]")
    ax2.set_ylabel("highest line loading [%]")
    ax2.set_title("Duration curves of the most loaded line", fontsize=12, loc="left")
    if any_net:
        ax2.axhline(100, color="black", lw=0.7, ls=":")
        ax2.legend(fontsize=9)
    else:
        ax2.text(0.5, 0.5, "no power-flow results in these folders", ha="center",
                 va="center", transform=ax2.transAxes)
    ax2.grid(alpha=0.3)
    return fig


def comparison_page(table: pd.DataFrame, fig: Figure) -> str:
    """Self-contained HTML page of a KPI comparison table and its duration curves."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    rows = "".join(
        f"<tr><td><code>{html.escape(str(k))}</code></td><td>{html.escape(row['unit'])}"
        "</td>" + "".join(
            f"<td class='num'>{html.escape(format_number(row[c], count=k in COUNT_KPIS))}</td>"
            for c in table.columns[1:])
        + "</tr>" for k, row in table.iterrows())
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>parkgrid "
            "comparison</title><style>body{font-family:sans-serif;max-width:1160px;"
            "margin:24px auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
            "padding:3px 8px}td.num{text-align:right}img{max-width:100%}</style></head>"
            f"<body><h1>Comparison of {len(table.columns) - 1} results</h1><table><tr>"
            f"<th>KPI</th>{head}</tr>{rows}</table><h2>Duration curves</h2><img "
            f"class='figure' alt='duration curves' src='data:image/png;base64,{png(fig)}'>"
            "</body></html>\n")
