"""Pareto front of a sweep and its figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from parkgrid.kpis import KPI_INFO

__all__ = ["pareto_figure", "pareto_mask"]


def _oriented(table: pd.DataFrame, objectives: tuple[str, ...]) -> np.ndarray:
    """Objective values turned so that smaller is better, one column per objective."""
    cols = []
    for o in objectives:
        sense, _, kpi = o.partition(":")
        v = table[kpi].to_numpy(dtype=float)
        cols.append(-v if sense == "max" else v)
    return np.column_stack(cols) if cols else np.zeros((len(table), 0))


def pareto_mask(table: pd.DataFrame, objectives: tuple[str, ...]) -> np.ndarray:
    """Rows not dominated by any other row (``"max:kpi"``/``"min:kpi"`` objectives).

    A row is dominated when another is at least as good in every objective and
    better in one. Rows with a missing (NaN) objective are never on the front.
    """
    f = _oriented(table, objectives)
    ok = np.all(np.isfinite(f), axis=1)
    mask = np.zeros(len(table), dtype=bool)
    idx = np.flatnonzero(ok)
    g = f[idx]
    for j, row in enumerate(g):
        dominated = np.any(np.all(g <= row, axis=1) & np.any(g < row, axis=1))
        mask[idx[j]] = not dominated
    return mask


def _label(o: str) -> tuple[str, float]:

    kpi = o.partition(":")[2]
    unit = KPI_INFO.get(kpi, ("", ""))[0]
    if unit == "CNY":
        return f"{kpi} [million CNY]", 1e-6
    if unit == "tCO2":
        return f"{kpi} [ktCO2]", 1e-3
    return (f"{kpi} [{unit}]" if unit and unit != "-" else kpi), 1.0


def pareto_figure(table: pd.DataFrame, objectives: tuple[str, ...], *, title: str = "") -> Figure:
    """Scatter of the first two objectives coloured by the third; the front is ringed."""
    fig = Figure(figsize=(8, 5.5), layout="constrained")
    ax = fig.add_subplot()
    ok = table[table["status"] == "ok"] if "status" in table else table
    (xl, xs), (yl, ys) = _label(objectives[0]), _label(objectives[1])
    x_kpi, y_kpi = objectives[0].partition(":")[2], objectives[1].partition(":")[2]
    x = ok[x_kpi].to_numpy(dtype=float) * xs
    y = ok[y_kpi].to_numpy(dtype=float) * ys
    front = pareto_mask(ok, objectives)
    if len(objectives) > 2:
        cl, cs = _label(objectives[2])
        c = ok[objectives[2].partition(":")[2]].to_numpy(dtype=float) * cs
        sc = ax.scatter(x, y, c=c, s=22, cmap="viridis", alpha=0.8)
        fig.colorbar(sc, ax=ax, label=cl)
    else:
        ax.scatter(x, y, s=22, color="#3c8dbc", alpha=0.8)
    ax.scatter(x[front], y[front], s=70, facecolors="none", edgecolors="#de2d26",
               linewidths=1.4, label=f"Pareto-optimal ({int(front.sum())} of {len(ok)})")
    ax.set_xlabel(xl + (" (higher is better)" if objectives[0].startswith("max") else ""))
    ax.set_ylabel(yl + (" (higher is better)" if objectives[1].startswith("max") else ""))
    n_failed = len(table) - len(ok)
    ax.set_title((title or "Sweep") + f": {len(ok)} scenarios"
                 + (f", {n_failed} failed" if n_failed else ""))
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    return fig
