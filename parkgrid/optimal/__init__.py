"""Optimal dispatch with foresight: a sparse MILP per window, solved by HiGHS.

The rules say what a park controller does; this package says what a planner
with perfect foresight over each rolling window could have done, and prices
both with one cost function (:func:`evaluate_objective`) so the gap is
like-for-like.
"""

from parkgrid.optimal.costs import ObjectiveBreakdown, Prices, Weights, evaluate_objective
from parkgrid.optimal.rolling import (
    OptimalInfeasibleError,
    OptimalOptions,
    OptimalSolution,
    OptimalSolveError,
    OptimalUnsupportedError,
    WindowStats,
    run_optimal,
    solve_optimal,
)

__all__ = [
    "ObjectiveBreakdown",
    "OptimalInfeasibleError",
    "OptimalOptions",
    "OptimalSolution",
    "OptimalSolveError",
    "OptimalUnsupportedError",
    "Prices",
    "Weights",
    "WindowStats",
    "evaluate_objective",
    "run_optimal",
    "solve_optimal",
]
