"""The sizing LP's second pass in windows: capacities fixed, each window re-solved in turn.

The first pass (:mod:`parkgrid.sizing.lp`) ends with capacities ``x_cap`` and a
schedule that may buy and sell in one step. Netted (``imp - exp`` on one side) that
schedule is feasible for the exact problem: the balance sees only ``imp - exp``;
import and export limits, peaks, the hull row, the CO2 cap and the green-share rows
(which count exports against green energy) are all kept or loosened by lowering
both. Netting loses the arbitrage, so the netted schedule costs more than it
has to. This pass repairs it.

With the capacities fixed at ``x_cap`` and each direction step's direction fixed to the
netted schedule's, the horizon is cut into windows of ``window_steps`` steps. Each window
is an LP in its own columns (its steps' columns, and the columns of no step, such as a
month's peak, that share a row with them), every other column held at its current
value. A row that also holds columns of other windows (a battery's first energy row,
a horizon target, a month's peak row) moves its bounds by their contribution. The
current schedule is feasible in each window's LP, so no window makes the schedule
dearer; the schedule after each window stays feasible for the whole LP. ``sweeps``
passes over the horizon are made, every second one with the windows shifted by half a
window, so that no boundary stays fixed.

The result is a feasible design of the exact problem: an **upper bound** on its
optimum. Against the full second pass (the whole LP re-solved with the directions fixed,
capacities free), the design keeps the first pass's capacities, and block by block the
schedule reaches at most the optimum for those capacities and directions. What that
costs is measured, not assumed: the module doc of :mod:`parkgrid.sizing.lp` and the
README give the numbers.

Each window is solved by HiGHS's dual simplex (a few thousand columns); a window that
does not solve to optimality (or comes out no cheaper, to 1e-9 relative) keeps its
current values, which are feasible, and is counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from parkgrid.sizing._highs_lp import HighsLp

__all__ = ["WindowRepair", "repair_in_windows"]


@dataclass(frozen=True)
class WindowRepair:
    """What :func:`repair_in_windows` did.

    ``windows``: window LPs solved (over all sweeps); ``kept``: windows left as they
    were (not solved to optimality, or no cheaper); ``simplex_iterations``: in all.
    """

    windows: int
    kept: int
    simplex_iterations: int


def repair_in_windows(c: np.ndarray, A: sparse.csr_array, rlo: np.ndarray, rhi: np.ndarray,
                      lb: np.ndarray, ub: np.ndarray, x: np.ndarray, col_step: np.ndarray,
                      *, window_steps: int, sweeps: int = 2, time_limit_s: float = 600.0,
                      ) -> tuple[np.ndarray, WindowRepair]:
    """Improve the feasible point *x* of an LP window by window (module doc).

    The LP is ``min c x, rlo <= A x <= rhi, lb <= x <= ub``.

    *col_step*: each column's step (-1: no step). Columns of no step that share a row
    with a window's columns join that window, except those with ``lb == ub`` (fixed
    capacities). Returns the improved point and a :class:`WindowRepair`.
    """
    if window_steps < 1:
        raise ValueError(f"sizing: window_steps must be >= 1, not {window_steps}")
    x = np.array(x, float)
    csc = sparse.csc_array(A)
    csr = sparse.csr_array(A)
    col_step = np.asarray(col_step, np.int64)
    stepped = np.flatnonzero(col_step >= 0)
    order = stepped[np.argsort(col_step[stepped], kind="stable")]
    sorted_steps = col_step[order]
    n = int(sorted_steps[-1]) + 1 if order.size else 0
    loose = np.flatnonzero((col_step < 0) & (lb < ub))  # e.g. a month's peak
    loose_mask = np.zeros(c.size, bool)
    loose_mask[loose] = True
    r = csr @ x  # each row's activity, kept up to date
    windows = kept = iterations = 0
    for sweep in range(max(int(sweeps), 0)):
        starts = list(range(0, n, window_steps))
        if sweep % 2 == 1 and window_steps > 1:
            starts = [0, *range(window_steps // 2, n, window_steps)]
        for k, s in enumerate(starts):
            e = starts[k + 1] if k + 1 < len(starts) else n
            a, b = np.searchsorted(sorted_steps, [s, e])
            free = order[a:b]
            cols = csc[:, free]
            rows = np.unique(cols.indices)
            if loose.size:
                touching = csr[rows].indices
                extra = np.unique(touching[loose_mask[touching]])
                if extra.size:
                    free = np.concatenate([free, extra])
                    cols = csc[:, free]
                    rows = np.unique(cols.indices)
            sub = sparse.csr_array(cols[rows])
            xf = x[free]
            rest = r[rows] - sub @ xf
            lp = HighsLp(c[free], sub, rlo[rows] - rest, rhi[rows] - rest, lb[free], ub[free],
                         solver="simplex", time_limit_s=time_limit_s)
            status, xs, _ = lp.run()
            windows += 1
            iterations += max(int(lp.h.getInfo().simplex_iteration_count), 0)
            before = float(c[free] @ xf)
            if (status != "optimal" or xs is None
                    or float(c[free] @ xs) > before + 1e-9 * max(1.0, abs(before))):
                kept += 1
                continue
            r[rows] += sub @ (xs - xf)
            x[free] = xs
    return x, WindowRepair(windows, kept, iterations)
