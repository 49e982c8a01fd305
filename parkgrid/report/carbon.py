"""The report's "Carbon and green power" section: scopes, green share, hydrogen, products.

It reads what :mod:`parkgrid.carbon` put into a result: the per-step columns
(``co2_scope1_t``, ``co2_scope2_location_t``, ``co2_scope2_market_t``,
``green_share_hourly_step``, ``product.<name>.co2_t``) and the KPIs, so a results
folder loaded from disk draws the same section as a fresh run.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from parkgrid._format import format_number
from parkgrid.carbon import H2_THRESHOLDS_KG_PER_KG, product_table
from parkgrid.report.figures import COLOURS, MONTHS, TITLE, WIDTH, _new
from parkgrid.timeseries import dt_h

__all__ = ["carbon_figures", "carbon_tables_html", "green_carpet_figure",
           "hydrogen_class_figure", "scopes_figure"]


def _local(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return index.tz_localize(None) if index.tz is not None else index


def scopes_figure(ts: pd.DataFrame) -> Figure:
    """Scope 1 and scope 2 (location- and market-based) by month [tCO2]."""
    month = _local(pd.DatetimeIndex(ts.index)).month
    t = ts[["co2_scope1_t", "co2_scope2_location_t", "co2_scope2_market_t"]].groupby(
        month).sum().reindex(range(1, 13), fill_value=0.0)
    fig, axes = _new(4.2)
    ax = axes[0, 0]
    x = np.arange(1, 13)
    w = 0.38
    s1 = t["co2_scope1_t"].to_numpy()
    ax.bar(x - w / 2, s1, w, color="#252525", label="scope 1 (captive coal)")
    ax.bar(x - w / 2, t["co2_scope2_location_t"], w, bottom=s1, color=COLOURS["co2"],
           label="scope 2 location-based")
    ax.bar(x + w / 2, s1, w, color="#252525")
    ax.bar(x + w / 2, t["co2_scope2_market_t"], w, bottom=s1, color="#9ecae1",
           label="scope 2 market-based")
    ax.set_xticks(x, MONTHS)
    ax.set_xlabel("month (left bar: location-based, right bar: market-based)")
    ax.set_ylabel("CO2 [tCO2]")
    ax.set_title(f"Scopes by month: scope 1 {s1.sum():,.0f} t, scope 2 location "
                 f"{t['co2_scope2_location_t'].sum():,.0f} t / market "
                 f"{t['co2_scope2_market_t'].sum():,.0f} t", **TITLE)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(loc="upper right")
    return fig


def green_carpet_figure(ts: pd.DataFrame) -> Figure:
    """Green share of each step's net consumption, contracts matched per step [%]."""
    index = _local(pd.DatetimeIndex(ts.index))
    day = index.normalize()
    minute = index.hour * 60 + index.minute
    table = pd.DataFrame({"day": day, "minute": minute,
                          "v": ts["green_share_hourly_step"].to_numpy() * 100.0}).pivot_table(
        index="minute", columns="day", values="v", aggfunc="mean")
    days = table.columns
    fig, axes = _new(4.0, right=0.8, bar=True)
    ax = axes[0, 0]
    im = ax.imshow(table.to_numpy(), aspect="auto", cmap="Greens", vmin=0.0, vmax=100.0,
                   extent=(0.0, float(len(days)), 24.0, 0.0), interpolation="nearest")
    fig.colorbar(im, cax=axes[0, 1], label="green share of the step [%]")
    ax.set_yticks([0, 6, 12, 18, 24])
    ax.set_ylabel("time of day [h]")
    firsts = [i for i, d in enumerate(days) if d.day == 1]
    ax.set_xticks([i + 0.5 for i in firsts], [MONTHS[days[i].month - 1] for i in firsts])
    ax.set_xlabel("day of year (ticks on the 1st of each month)")
    ax.set_title("Green share matched per 15-min step (own RES, direct line, PPA)", **TITLE)
    return fig


_CLASSES = (("h2_tcab_renewable_kg", "renewable (T/CAB)"), ("h2_tcab_clean_kg", "clean"),
            ("h2_tcab_low_carbon_kg", "low-carbon"))


def hydrogen_split_kg(kpis: dict[str, float]) -> list[tuple[str, float]]:
    """Hydrogen by exclusive class [kg]: renewable, clean only, low-carbon only, none."""
    made = float(kpis.get("h2_produced_kg", 0.0))
    ren, clean, low = (float(kpis.get(k, 0.0)) for k, _ in _CLASSES)
    return [("renewable", ren), ("clean, not renewable", clean - ren),
            ("low-carbon, not clean", low - clean), ("none of these", made - low)]


def hydrogen_class_figure(kpis: dict[str, float], rule: str = "") -> Figure:
    """Hydrogen by T/CAB 0078-2020 class [t], exclusive, and EU RFNBO."""
    split = hydrogen_split_kg(kpis)
    fig, axes = _new(3.2, left=1.8)  # the class names
    ax = axes[0, 0]
    labels = [name for name, _ in split] + ["EU RFNBO"]
    values = [kg / 1000 for _, kg in split] + [float(kpis.get("h2_rfnbo_kg", 0.0)) / 1000]
    colours = ["#238b45", "#74c476", "#c7e9c0", "#bdbdbd", "#3182bd"]
    ax.barh(labels[::-1], values[::-1], color=colours[::-1])
    for y, v in enumerate(values[::-1]):
        ax.annotate(f" {v:,.0f} t", (v, y), va="center", fontsize=10)
    ax.set_xlabel("hydrogen [t]")
    th = H2_THRESHOLDS_KG_PER_KG
    ax.set_title(f"Hydrogen by class ({rule or 'matched'}; renewable and clean <= "
                 f"{th['clean']} kgCO2/kg, low-carbon <= {th['low_carbon']}, RFNBO <= "
                 f"{th['rfnbo']:.3f})", **TITLE,
                 x=-1.7 / (WIDTH - 1.8 - 0.15))  # from 0.1 in, over the class names: it is long
    ax.grid(alpha=0.3, axis="x")
    return fig


def carbon_figures(result: Any) -> list[tuple[str, str, Callable[[], Figure]]]:
    """Figure specs (heading, caption, maker) of the carbon section; none without its columns."""
    ts, kpis = result.timeseries, result.kpis
    if "co2_scope2_market_t" not in ts or "green_share_hourly_step" not in ts:
        return []
    carbon = getattr(result.scenario, "carbon", None)
    rule = f"matched {getattr(carbon, 'h2_matching', 'hourly')}"
    specs: list[tuple[str, str, Callable[[], Figure]]] = [
        ("Carbon: scopes by month", "Scope 1 (captive coal) and scope 2, location-based "
         "(imports x grid factor) and market-based (imports not covered by PPA or "
         "certificates x residual factor), by month.", lambda: scopes_figure(ts)),
        ("Carbon: hourly-matched green share", "Every step of the year: share of the "
         "net consumption met by own RES, direct lines and PPA volume matched in the step "
         "(certificates count only in annual matching).", lambda: green_carpet_figure(ts)),
    ]
    if float(kpis.get("h2_produced_kg", 0.0) or 0.0) > 0:
        specs.append(("Carbon: hydrogen by class", "Hydrogen produced by T/CAB 0078-2020 "
                      "class (each kg in its best class) and as EU RFNBO (per step, "
                      "additionality as declared).", lambda: hydrogen_class_figure(kpis, rule)))
    return specs


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(
            f"<td class='num'>{html.escape(format_number(v))}</td>"
            if isinstance(v, float | int | np.floating) else f"<td>{html.escape(str(v))}</td>"
            for v in row) + "</tr>"
        for row in frame.itertuples(index=False))
    return f"<table><tr>{head}</tr>{rows}</table>"


def carbon_tables_html(result: Any) -> str:
    """Scope totals, green shares, hydrogen by class and product footprints as HTML."""
    ts, k = result.timeseries, result.kpis
    if "co2_scope2_market_t" not in ts:
        return ""

    def f(key: str) -> float:
        return float(k.get(key, float("nan")))

    parts = ["<h2>Carbon and green power</h2>",
             "<p>Scope 1 and scope 2 (location- and market-based), green shares matched "
             "per 15-min step, month and year, hydrogen by class and product carbon "
             "footprints (<code>parkgrid.carbon</code>). Avoided emissions are shown apart "
             "and never netted against the park's own.</p>"]
    scopes = pd.DataFrame([
        ["scope 1 (captive coal)", f("co2_scope1_t"), f("co2_scope1_t")],
        ["scope 2", f("co2_scope2_location_t"), f("co2_scope2_market_t")],
        ["scope 1 + 2", f("co2_scope12_location_t"), f("co2_scope12_market_t")],
        ["avoided (own RES x displaced factor), apart", f("avoided_co2_t"), f("avoided_co2_t")],
    ], columns=["tCO2", "location-based", "market-based"])
    parts.append(_table(scopes))
    shares = pd.DataFrame([[lv, f(f"green_share_total_{lv}"), f(f"green_share_own_{lv}"),
                            f(f"green_share_contract_{lv}")]
                           for lv in ("hourly", "monthly", "annual")],
                          columns=["matching", "green share", "own plants", "contracts"])
    parts.append(_table(shares))
    parts.append(_table(pd.DataFrame([
        ["direct line delivered", f("direct_line_mwh"), f("direct_line_surplus_mwh")],
        ["PPA", f("ppa_mwh"), f("ppa_surplus_mwh")],
        ["certificates", f("certificates_mwh"), f("certificates_surplus_mwh")],
    ], columns=["contract [MWh]", "volume", "surplus (not counted)"])))
    if float(k.get("h2_produced_kg", 0.0) or 0.0) > 0:
        parts.append(_table(pd.DataFrame(
            [[name, kg / 1000] for name, kg in hydrogen_split_kg(k)]
            + [["EU RFNBO", f("h2_rfnbo_kg") / 1000]], columns=["hydrogen class", "t"])))
        parts.append(_table(pd.DataFrame(
            [[rule, f(f"h2_kgco2_per_kg_{rule}")]
             for rule in ("grid_share", "hourly", "monthly", "annual")],
            columns=["attribution", "kgCO2 per kg H2"])))
    products = product_table(ts, getattr(result.scenario, "load", ()), dt_h(ts.index))
    if len(products):
        parts.append("<p>Product carbon footprints (scope 1 + 2 attributed per step by "
                     "each load's share of the step's supply; output spread over the "
                     "months in proportion to the load's energy):</p>")
        parts.append(_table(products.rename(columns={"kgco2_per_unit": "kgCO2 per unit",
                                                     "co2_t": "tCO2"})))
    return "".join(parts)
