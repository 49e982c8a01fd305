"""One number format for every table parkgrid prints (CLI, report, comparisons)."""

from __future__ import annotations

import math

__all__ = ["format_number"]


def format_number(v: object) -> str:
    """Format *v* for a table: thousands separated, four decimals below 10.

    NaN and infinities read ``n/a``; a non-number is returned as ``str(v)``.
    """
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)
    if not math.isfinite(v):
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:,.1f}"
    return f"{v:.4f}"
