"""How numbers are written in text and HTML tables: one rule for every table.

Counts (``parkgrid.kpis.COUNT_KPIS``: steps, events, starts) are written as whole
numbers with thousands separators; other values by magnitude: no decimals from
1,000, one decimal from 10, four below. Missing values (NaN, None) read ``n/a``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["format_number"]


def format_number(value: Any, *, count: bool = False) -> str:
    """Write *value* for a table: ``13,633`` (a count), ``1,234``, ``56.7``, ``0.1234``.

    A value that is not a number (a label) is returned as ``str(value)``.
    """
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return str(value)
    v = float(value)
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if count:
        return f"{round(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.4f}"
