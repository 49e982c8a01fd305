"""AC check of the optimal schedule: power flow on every step, re-solve where it fails.

The optimiser dispatches a copper plate. :func:`ac_check` runs the AC power flow
(:func:`parkgrid.powerflow.run_timeseries_pf`) on the optimal schedule, reports
every step with a bus outside the voltage band, a line or transformer above its
loading limit, or no convergence, and -- with ``max_rounds > 0`` -- re-solves
with a linearised network constraint until the violations clear or the round
limit is hit (or no violation is left that the constraint can relieve).

The linearised constraint is the grid exchange at the slack: at every violating
step it can relieve, the import limit (when the step imports) or the export
limit (when it exports) is lowered to ``tighten`` times the exchange the power flow saw, so the
next solve serves that step more from local storage, hydrogen and curtailment.
This relieves the grid transformer and the lines between it and the park; an
overloaded feeder of a single plant needs a per-feeder limit, and a voltage
rise at light load (a network matter, not a dispatch one) is only reported;
neither is modelled yet. The whole horizon is re-solved each round (the windows
before the first affected one come out the same).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.errors import OptimalUnsupportedError
from parkgrid.inputs import asset_power_mw, dispatch_inputs
from parkgrid.network import build_park_net, pf_profiles
from parkgrid.optimal.rolling import OptimalSolution, solve_optimal
from parkgrid.optimal.scenario import scenario_options, scenario_prices, unsupported_features
from parkgrid.powerflow import run_timeseries_pf
from parkgrid.stages import copper_plate_run, timeseries_frame
from parkgrid.timeseries import NetworkLimits

__all__ = ["AcCheck", "AcLimits", "AcRound", "ac_check", "step_violations"]


AcLimits = NetworkLimits
"""Voltage band [pu] and loading limit [%] of the check (the one
:class:`parkgrid.timeseries.NetworkLimits`)."""
_DEFAULT_LIMITS = NetworkLimits()


@dataclass(frozen=True)
class AcRound:
    """One solve + power flow: its violations (one row per violating step) and cost.

    ``windows_affected`` are the windows whose committed steps violate;
    ``addressable`` counts the violating steps the exchange limit can relieve
    (overloads, overvoltage while exporting, undervoltage while importing).
    """

    round: int
    violations: pd.DataFrame
    windows_affected: tuple[int, ...]
    addressable: int
    objective_cny: float
    solve_s: float


@dataclass(frozen=True)
class AcCheck:
    """Result of :func:`ac_check`: the last schedule, its power flow and every round."""

    solution: OptimalSolution
    timeseries: pd.DataFrame
    network: Any
    rounds: list[AcRound]

    @property
    def cleared(self) -> bool:
        """Whether the last round has no violation."""
        return self.rounds[-1].violations.empty


def step_violations(pf: Any, limits: AcLimits = _DEFAULT_LIMITS) -> pd.DataFrame:
    """Return the steps of the power flow *pf* (a TimeseriesPF) that break *limits*.

    One row per violating step (indexed like the power flow) with the lowest and
    highest bus voltage [pu], the highest line and transformer loading [%] and
    the flags ``undervoltage``, ``overvoltage``, ``overload``, ``not_converged``.
    """
    def row_max(frame: pd.DataFrame, fn: Any) -> np.ndarray:
        a = frame.to_numpy(dtype=float)
        if a.shape[1] == 0:
            return np.zeros(a.shape[0])
        with np.errstate(all="ignore"):
            return fn(np.where(np.isnan(a), -np.inf if fn is np.max else np.inf, a), axis=1)

    ok = pf.converged.to_numpy(dtype=bool)
    vmin = row_max(pf.vm_pu, np.min)
    vmax = row_max(pf.vm_pu, np.max)
    line = row_max(pf.line_loading_percent, np.max)
    trafo = row_max(pf.trafo_loading_percent, np.max)
    frame = pd.DataFrame({
        "vm_min_pu": vmin, "vm_max_pu": vmax, "line_loading_max_percent": line,
        "trafo_loading_max_percent": trafo,
        "undervoltage": ok & (vmin < limits.vm_min_pu),
        "overvoltage": ok & (vmax > limits.vm_max_pu),
        "overload": ok & ((line > limits.loading_max_percent)
                          | (trafo > limits.loading_max_percent)),
        "not_converged": ~ok,
    }, index=pf.vm_pu.index)
    bad = frame[["undervoltage", "overvoltage", "overload", "not_converged"]].any(axis=1)
    return frame[bad.to_numpy()]


def ac_check(
    scenario: Any, *, max_rounds: int = 0, limits: AcLimits = _DEFAULT_LIMITS,
    tighten: float = 0.9,
) -> AcCheck:
    """Optimal schedule of *scenario* checked by the AC power flow on every step.

    Parameters
    ----------
    scenario:
        A validated scenario (any ``strategy``; it is solved as ``optimal``).
    max_rounds:
        Re-solves allowed after the first check (0 = check only).
    limits:
        Voltage band and loading limit.
    tighten:
        Factor (< 1) on the grid exchange of a violating step that becomes its
        new import or export limit.
    """
    if not 0.0 < tighten < 1.0:
        raise ValueError(f"tighten must lie in (0, 1), got {tighten!r}")
    missing = unsupported_features(scenario)
    if missing:
        raise OptimalUnsupportedError("the AC check solves the optimal strategy, which does "
                                      "not model " + ", ".join(missing) + " yet")
    index = scenario.profiles.index
    powers = asset_power_mw(scenario)
    inputs = dispatch_inputs(scenario, powers)
    prices, options = scenario_prices(scenario, index), scenario_options(scenario)
    park = build_park_net(scenario)
    rounds: list[AcRound] = []
    for k in range(max_rounds + 1):
        sol = solve_optimal(inputs, prices, options, index=index)
        ts = timeseries_frame(scenario, copper_plate_run(scenario, powers, inputs, sol.dispatch),
                              index)
        pf = run_timeseries_pf(park.net, pf_profiles(scenario, park, ts))
        viol = step_violations(pf, limits)
        pos = (index.get_indexer(viol.index) if isinstance(viol.index, pd.DatetimeIndex)
               else np.asarray(viol.index, dtype=np.int64))
        affected = tuple(w.window for w in sol.windows
                         if np.any((pos >= w.t0) & (pos < w.commit_end)))
        new_inputs, addressable = _tightened(inputs, ts, viol, pos, tighten)
        rounds.append(AcRound(k, viol, affected, addressable, sol.objective.total,
                              sum(w.solve_s for w in sol.windows)))
        if viol.empty or addressable == 0 or k == max_rounds:
            break
        inputs = new_inputs
    return AcCheck(solution=sol, timeseries=ts, network=pf, rounds=rounds)


def _tightened(inputs: Any, ts: pd.DataFrame, viol: pd.DataFrame, pos: np.ndarray,
               tighten: float) -> tuple[Any, int]:
    """Return *inputs* with the exchange of the addressable violating steps limited.

    A step is addressable by the exchange limit when it is overloaded, or above
    the voltage band while exporting, or below it while importing; its import
    (or export) limit becomes ``tighten`` x the exchange. Also returns how many
    steps were addressable.
    """
    n = inputs.n_steps
    imp = np.broadcast_to(np.asarray(inputs.import_limit_mw, float), (n,)).copy()
    exp = np.broadcast_to(np.asarray(inputs.export_limit_mw, float), (n,)).copy()
    flow = (ts["grid_import_mw"] - ts["grid_export_mw"]).to_numpy(dtype=float)[pos]
    over = viol["overload"].to_numpy(dtype=bool)
    cut_imp = (flow > 1e-6) & (over | viol["undervoltage"].to_numpy(dtype=bool))
    cut_exp = (flow < -1e-6) & (over | viol["overvoltage"].to_numpy(dtype=bool))
    imp[pos[cut_imp]] = np.minimum(imp[pos[cut_imp]], tighten * flow[cut_imp])
    exp[pos[cut_exp]] = np.minimum(exp[pos[cut_exp]], tighten * -flow[cut_exp])
    return (dataclasses.replace(inputs, import_limit_mw=imp, export_limit_mw=exp),
            int(cut_imp.sum() + cut_exp.sum()))
