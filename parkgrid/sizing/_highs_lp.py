"""One HiGHS instance holding the sizing LP, re-solved with new bounds and costs."""

from __future__ import annotations

import highspy
import numpy as np

# highspy's core class (in its __all__, not in its stubs): the Python subclass
# highspy.Highs prints a banner from its constructor, before output can be turned off
from highspy import _Highs  # type: ignore[attr-defined]
from scipy import sparse

from parkgrid.optimal._highs import highs_bounds, highs_lp

__all__ = ["HighsLp"]


class HighsLp:
    """One HiGHS instance holding the LP; re-solved with new bounds and costs."""

    def __init__(self, c: np.ndarray, A: sparse.csr_array, rlo: np.ndarray, rhi: np.ndarray,
                 lb: np.ndarray, ub: np.ndarray, *, solver: str, time_limit_s: float) -> None:
        h = _Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("log_to_console", False)
        # the interior point's own optimum is the design; a crossover to a vertex
        # costs more than the solve on a year of steps
        if solver == "ipm":
            h.setOptionValue("run_crossover", "off")
        for name, value in (("solver", solver), ("time_limit", float(time_limit_s)),
                            ("primal_feasibility_tolerance", 1e-7),
                            ("dual_feasibility_tolerance", 1e-7)):
            if h.setOptionValue(name, value) == highspy.HighsStatus.kError:
                raise ValueError(f"sizing: HiGHS refused option {name} = {value!r}")
        lp = highs_lp(c, A, lb, ub, rlo, rhi)
        if h.passModel(lp) == highspy.HighsStatus.kError:
            raise RuntimeError("HiGHS refused the sizing LP")
        self.h = h

    def set_cols(self, idx: np.ndarray, *, cost: np.ndarray | None = None,
                 lb: np.ndarray | None = None, ub: np.ndarray | None = None) -> None:
        i = np.asarray(idx, np.int32)
        if cost is not None:
            self.h.changeColsCost(i.size, i, np.asarray(cost, float))
        if lb is not None and ub is not None:
            self.h.changeColsBounds(i.size, i, highs_bounds(lb), highs_bounds(ub))

    def set_rows(self, idx: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        i = np.asarray(idx, np.int32)
        for k, lo_k, hi_k in zip(i, highs_bounds(lo), highs_bounds(hi), strict=True):
            self.h.changeRowBounds(int(k), float(lo_k), float(hi_k))

    def run(self) -> tuple[str, np.ndarray | None, float]:
        self.h.run()
        status = self.h.getModelStatus()
        s = highspy.HighsModelStatus
        info = self.h.getInfo()
        if status == s.kOptimal:
            return "optimal", np.array(self.h.getSolution().col_value, float), float(
                info.objective_function_value)
        if status in (s.kInfeasible, s.kUnboundedOrInfeasible):
            return "infeasible", None, np.inf
        return self.h.modelStatusToString(status), None, np.inf
