"""Report figures of the lifecycle economics: cost breakdown and cash flows (issue 14).

Shown only for a scenario with ``[economics]``; the numbers come from
:func:`parkgrid.lifecycle.evaluate_lifecycle`, the same evaluation as the KPIs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from parkgrid.economics import capital_recovery_factor
from parkgrid.lifecycle import Lifecycle, evaluate_lifecycle
from parkgrid.plotting import COLOURS

__all__ = ["cashflow_figure", "cost_breakdown_figure", "cost_figure_specs"]

_KIND_COLOURS = {"pv": COLOURS["pv"], "wind": COLOURS["wind"], "battery": COLOURS["discharge"],
                 "electrolyser": COLOURS["electrolyser"], "hydrogen": "#c994c7",
                 "grid": COLOURS["import"], "coal": "#252525"}
_TITLE: dict[str, Any] = {"fontsize": 12, "loc": "left"}
_M = 1e-6  # CNY -> million CNY
_LABELS = {"grid": "grid connection", "hydrogen": "hydrogen tank",
           "grid and fuel": "grid (net of export) and fuel"}


def cost_breakdown_figure(lc: Lifecycle) -> Figure:
    """Draw the annualised cost by asset and of the other items [million CNY/yr]."""
    items = list(lc.annualised_cny_per_yr.items())
    names = [_LABELS.get(k, k) if k not in lc.costs or lc.costs[k].kind in ("grid", "hydrogen")
             else k for k, _ in items]
    values = np.array([v for _, v in items]) * _M
    colours = [_KIND_COLOURS.get(lc.costs[k].kind, "#9ecae1") if k in lc.costs else
               ("#2ca25f" if v < 0 else "#636363") for k, v in items]
    fig = Figure(figsize=(11, 0.9 + 0.38 * len(items)), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(items))[::-1]
    ax.barh(y, values, color=colours)
    ax.set_yticks(y, names)
    for yi, v in zip(y, values, strict=True):
        ax.annotate(f"{v:,.1f}", (v, yi), xytext=(4 if v >= 0 else -4, 0),
                    textcoords="offset points", va="center", ha="left" if v >= 0 else "right",
                    fontsize=9)
    ax.axvline(0.0, color="#444444", lw=0.8)
    lo, hi = min(0.0, values.min()), max(0.0, values.max())
    ax.set_xlim(lo - 0.12 * (hi - lo), hi + 0.12 * (hi - lo))
    ax.set_xlabel("annualised cost [million CNY/yr]")
    ax.set_title(f"Annualised cost {lc.annualised_cost_cny_per_yr * _M:,.1f} million CNY/yr "
                 f"(capex with replacements x CRF, O&M, operation)", **_TITLE)
    ax.grid(alpha=0.3, axis="x")
    return fig


def cashflow_figure(lc: Lifecycle, *, show_reference: bool = True) -> Figure:
    """Draw the yearly costs by category and the cumulative discounted costs [million CNY].

    The cumulative discounted cost of the reference is drawn too (dashed) unless
    *show_reference* is false.
    """
    f, ref = lc.flows, lc.reference.flows
    years = np.arange(len(f.total))
    fig = Figure(figsize=(11, 5.0), layout="constrained")
    ax = fig.add_subplot()
    pos = np.zeros(len(years))
    neg = np.zeros(len(years))
    for label, v, colour in (("capex", f.capex, "#08519c"), ("replacement - salvage",
                             f.replacement, "#6baed6"), ("fixed O&M and land", f.fixed_om,
                             "#fd8d3c"), ("operation", f.operating, "#7f7f7f")):
        v = v * _M
        base = np.where(v >= 0, pos, neg)
        ax.bar(years, v, bottom=base, color=colour, label=label, width=0.8)
        pos += np.maximum(v, 0.0)
        neg += np.minimum(v, 0.0)
    disc = (1.0 + f.rate_pu) ** -years.astype(float)
    ax.plot(years, np.cumsum(f.total * disc) * _M, "k-", lw=1.6,
            label="design, cumulative discounted")
    if show_reference:
        ax.plot(years, np.cumsum(ref.total * disc) * _M, "k--", lw=1.2,
                label=f"{lc.reference.name}, cumulative discounted")
    ax.axhline(0.0, color="#444444", lw=0.8)
    ax.set_xlabel("project year")
    ax.set_ylabel("cost in the year (bars), cumulative (lines) [million CNY]")
    crf = capital_recovery_factor(f.rate_pu, len(years) - 1)
    ax.set_title(f"Cash flows over {len(years) - 1} years at {f.rate_pu:.1%}: net present "
                 f"cost {f.net_present_cost_cny * _M:,.0f} million CNY (CRF {crf:.4f})",
                 **_TITLE)
    ax.legend(fontsize=9, loc="upper left", ncols=2)
    ax.grid(alpha=0.3, axis="y")
    return fig


def cost_figure_specs(result: Any) -> list[tuple[str, str, Callable[[], Figure]]]:
    """Return the report's cost figures of *result* (none without ``[economics]``).

    A reference named by a scenario file is not simulated again here: its NPC is
    in the KPI table, and the cash-flow figure then shows the design alone.
    """
    scenario = result.scenario
    if getattr(scenario, "economics", None) is None:
        return []
    lc = evaluate_lifecycle(scenario, result.timeseries, result.kpis)
    e = lc.economics
    grid_only = e.reference == "grid_only"
    ref_text = (f"of the reference ({lc.reference.name}); where the lines cross, the design "
                "has paid back" if grid_only else
                f"of the design (the reference {e.reference!r}: npv_cny in the KPI table)")
    rate = f"a real discount rate of {e.discount_rate_pu:.1%}"
    if e.inflation_pu:
        nominal = (1 + e.discount_rate_pu) * (1 + e.inflation_pu) - 1
        rate += f" (nominal {nominal:.2%} at {e.inflation_pu:.1%} inflation)"
    return [
        ("Cost breakdown", "Annualised cost of each asset (capex with replacements and "
         "salvage x capital recovery factor, fixed and variable O&M) and of the other "
         f"items, in CNY of {e.currency_year}; they add up to the annualised cost.",
         lambda: cost_breakdown_figure(lc)),
        ("Cash flows over the project life", "Costs of each year (bars; salvage and "
         "hydrogen sales below zero) and the cumulative discounted cost, at "
         f"{rate}, of the design and {ref_text}.",
         lambda: cashflow_figure(lc, show_reference=grid_only)),
    ]
