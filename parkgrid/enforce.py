"""Network-aware dispatch: curtail PV and wind where a step breaks the network's limits.

``[powerflow] enforce = true`` runs the year's AC power flow as usual, then, for
every converged step with a bus outside the voltage band or a line or transformer
above its loading limit:

1. linearise the grid at the step's operating point (the power-flow Jacobian,
   :class:`parkgrid.powerflow.Linearisation`): the change of every bus voltage and
   branch loading per MW of each PV and wind plant;
2. choose the curtailment of each plant (0 .. its output) that brings every
   monitored quantity back inside its limit by a small margin on the linear model,
   with the least total MW curtailed (a small LP, HiGHS through scipy); quantities
   within a band of their limit are constrained too, so that relieving one does
   not push another over;
3. re-solve the step's AC power flow with the curtailed plants and repeat from 1
   for the steps still violating (the margin grows each round), at most
   ``max_rounds`` times.

A step that curtailing cannot bring inside its limits on the linear model (an
undervoltage at peak load, an overload carried by loads, a voltage set by the
transformer taps that the plants barely move, or a limit broken even with every
plant at zero) is not curtailed at all -- curtailment that would not make the
step hold buys nothing -- and is reported in ``unresolved``; so is a step still
violating after ``max_rounds`` rounds (it keeps the curtailment of those rounds).
Reactive power follows each plant's fixed cos φ, so curtailing P curtails Q in
proportion.

Not combined with voltage control in the power flow yet (``[powerflow.oltc]``,
``q_control``): such a scenario is refused with a clear error.

The slack (the public grid) picks up every MW curtailed: exports fall or imports
rise by the same amount. Batteries, electrolysers and loads are **not** re-planned
(their dispatch stays what the copper-plate dispatch chose); steps that do not
violate are not touched. Network curtailment is reported on its own
(``curtailed_network_mw`` / ``curtailed_network_mwh``), apart from the surplus
curtailment of the dispatch.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.errors import ScenarioError, ValidationIssue
from parkgrid.network import build_park_net, pf_profiles
from parkgrid.powerflow import Linearisation, TimeseriesPF, run_timeseries_pf
from parkgrid.timeseries import NetworkLimits, asset_column

__all__ = ["Enforcement", "NetworkLimits", "apply_enforcement", "enforce_limits", "enforce_stage"]

#: margin inside each limit the LP aims at (so the AC re-solve lands inside), and
#: how it grows with each round: voltage [pu], loading [%]
_MARGIN_VM_PU = 2e-4
_MARGIN_LOADING = 0.05
#: quantities within this distance of their limit are constrained too
_BAND_VM_PU = 0.01
_BAND_LOADING = 5.0
#: tolerance a step's values must meet to count as holding [pu], [%]
_TOL_VM_PU = 1e-9
_TOL_LOADING = 1e-7
#: rounds that give back over-curtailment once a step holds
_REFINE_ROUNDS = 2


@dataclass(frozen=True)
class Enforcement:
    """What network-aware dispatch changed.

    Attributes
    ----------
    curtailed_mw:
        Network curtailment [MW], steps x plants (columns ``(kind, name)``), only
        the steps that were touched (the other steps are zero).
    unresolved:
        Steps still outside the limits after enforcement, with their worst voltage
        [pu] and loading [%] (empty when every step holds).
    touched_steps:
        Number of steps that violated before enforcement (the only ones changed).
    """

    curtailed_mw: pd.DataFrame
    unresolved: pd.DataFrame
    touched_steps: int


_DEFAULT_LIMITS = NetworkLimits()


def _violating(pf: TimeseriesPF, limits: NetworkLimits) -> np.ndarray:
    vm = pf.vm_pu.to_numpy(dtype=float)
    load = _loading(pf)
    with np.errstate(invalid="ignore"):
        bad = ((vm > limits.vm_max_pu + _TOL_VM_PU) | (vm < limits.vm_min_pu - _TOL_VM_PU)
               ).any(axis=1)
        if load.shape[1]:
            bad |= (load > limits.loading_max_percent + _TOL_LOADING).any(axis=1)
    return bad & pf.converged.to_numpy(dtype=bool)


def _step_lp(vm: np.ndarray, load: np.ndarray, dvm: np.ndarray, dload: np.ndarray,
             p_mw: np.ndarray, limits: NetworkLimits, grow: float,
             given_back: np.ndarray | None = None) -> np.ndarray | None:
    """More curtailment [MW] per plant for one step (see the module docstring).

    Rows ``a @ x <= b`` for each quantity near its limit; x in [-given_back, p]
    (a negative x gives curtailment back); least ``sum(x)``. ``None`` when no x
    satisfies them (curtailing cannot make the step hold on the linear model).
    """
    m_vm, m_ld = _MARGIN_VM_PU * grow, _MARGIN_LOADING * grow
    rows, rhs = [], []
    ok = np.isfinite(vm)
    hi = ok & (vm > limits.vm_max_pu - _BAND_VM_PU)
    lo = ok & (vm < limits.vm_min_pu + _BAND_VM_PU)
    # curtailing x changes vm by -dvm @ x
    for i in np.flatnonzero(hi):
        rows.append(-dvm[i])
        rhs.append(limits.vm_max_pu - m_vm - vm[i])
    for i in np.flatnonzero(lo):
        rows.append(dvm[i])
        rhs.append(vm[i] - limits.vm_min_pu - m_vm)
    near = np.isfinite(load) & (load > limits.loading_max_percent - _BAND_LOADING)
    for c in np.flatnonzero(near):
        rows.append(-dload[c])
        rhs.append(limits.loading_max_percent - m_ld - load[c])
    n = len(p_mw)
    back = np.zeros(n) if given_back is None else given_back
    if not rows:  # nothing near a limit: give everything back
        return -back
    a = np.nan_to_num(np.vstack(rows))
    b = np.asarray(rhs)
    # voltage rows in % of 1 pu: rows of one magnitude for the solver
    scale = np.ones(len(b))
    scale[: int(hi.sum() + lo.sum())] = 100.0
    a, b = a * scale[:, None], b * scale
    bounds = [(-float(g), max(float(p), 0.0)) for g, p in zip(back, p_mw, strict=True)]
    from scipy.optimize import linprog  # on first use: 0.5 s of start-up

    res = linprog(np.ones(n), A_ub=a, b_ub=b, bounds=bounds, method="highs")
    if res.status != 0:  # no curtailment makes this step hold: leave it, it is reported
        return None
    return np.clip(res.x, -back, p_mw)


def _with_rows(profiles: Mapping[tuple[str, str], pd.DataFrame], pos: np.ndarray
               ) -> dict[tuple[str, str], pd.DataFrame]:
    return {key: frame.iloc[pos].copy() for key, frame in profiles.items()}


def _replace_rows(pf: TimeseriesPF, part: TimeseriesPF, pos: np.ndarray) -> TimeseriesPF:
    """Copy of *pf* with its rows at positions *pos* taken from *part* (same columns)."""
    values: dict[str, Any] = {}
    for name in pf.__dataclass_fields__:
        whole, sub = getattr(pf, name), getattr(part, name)
        if isinstance(whole, pd.DataFrame):
            arr = whole.to_numpy(copy=True)
            arr[pos] = sub.to_numpy()
            values[name] = pd.DataFrame(arr, index=whole.index, columns=whole.columns)
        elif isinstance(whole, pd.Series):
            arr = whole.to_numpy(copy=True)
            arr[pos] = sub.to_numpy()
            values[name] = pd.Series(arr, index=whole.index, name=whole.name, dtype=whole.dtype)
        else:
            values[name] = whole
    return type(pf)(**values)


def enforce_limits(
    net: Any, profiles: Mapping[tuple[str, str], pd.DataFrame], pf: TimeseriesPF,
    plants: pd.DataFrame, *, limits: NetworkLimits = _DEFAULT_LIMITS, max_rounds: int = 8,
) -> tuple[dict[tuple[str, str], pd.DataFrame], TimeseriesPF, np.ndarray, np.ndarray]:
    """Curtail *plants* at the violating steps of *pf* until they hold.

    Parameters
    ----------
    net, profiles, pf:
        The net, its profile set and the power flow of those profiles.
    plants:
        One row per controllable plant: ``sgen`` (index in ``net.sgen``) and
        ``q_per_p`` (Mvar per MW of its fixed power factor).
    limits, max_rounds:
        The limits to hold and the most re-solve rounds.

    Returns
    -------
    profiles, pf, curtailed_mw, unresolved:
        The profiles with the curtailed plants, their power flow, the curtailment
        [MW] (steps x plants) and a flag per step still violating.
    """
    n_steps = len(pf.converged)
    curt = np.zeros((n_steps, len(plants)))
    new = {key: frame.copy() for key, frame in profiles.items()}
    bad = _violating(pf, limits)
    if not bad.any() or not len(plants):
        return new, pf, curt, bad
    lin = Linearisation(net, profiles)
    bus_pos = net.bus.index.get_indexer(net.sgen.loc[plants["sgen"], "bus"])
    q_per_p = plants["q_per_p"].to_numpy(dtype=float)
    p_key, q_key = ("sgen", "p_mw"), ("sgen", "q_mvar")
    sg_cols = new[p_key].columns.get_indexer(plants["sgen"])
    q_cols = new[q_key].columns.get_indexer(plants["sgen"]) if q_key in new else None
    p_orig = new[p_key].to_numpy(dtype=float)[:, sg_cols].copy()
    todo = np.flatnonzero(bad)
    for rounds in range(1, max_rounds + 1):  # the margin grows with it
        vm = pf.vm_pu.to_numpy(dtype=float)
        va = pf.va_degree.to_numpy(dtype=float)
        load = _loading(pf)
        hopeless = np.zeros(len(todo), dtype=bool)
        for i, t in enumerate(todo):
            p_now = p_orig[t] - curt[t]
            dvm, dload = lin.sensitivities(vm[t], va[t], bus_pos, q_per_p)
            x = _step_lp(vm[t], load[t], dvm, dload, p_now, limits, float(rounds))
            if x is None:
                hopeless[i] = True
            else:
                curt[t] += x
        todo = todo[~hopeless]
        if not len(todo):
            break
        p_new = p_orig[todo] - curt[todo]
        new[p_key].iloc[todo, sg_cols] = p_new
        if q_cols is not None:
            new[q_key].iloc[todo, q_cols] = p_new * q_per_p
        part = run_timeseries_pf(net, _with_rows(new, todo))
        pf = _replace_rows(pf, part, todo)
        still = _violating(part, limits)
        todo = todo[still]
        if not len(todo):
            break
        # nothing left to curtail at these steps: stop early for them
        todo = todo[(p_orig[todo] - curt[todo]).max(axis=1, initial=0.0) > 1e-9]
        if not len(todo):
            break
    # give back what the linear model over-curtailed (it is least accurate far from
    # the operating point): re-linearise at the curtailed point, allow x < 0, keep
    # the result only where the AC re-solve still holds
    for _ in range(_REFINE_ROUNDS):
        done = np.flatnonzero(bad & ~_violating(pf, limits) & (curt.sum(axis=1) > 0))
        if not len(done):
            break
        vm = pf.vm_pu.to_numpy(dtype=float)
        va = pf.va_degree.to_numpy(dtype=float)
        load = _loading(pf)
        trial = curt.copy()
        for t in done:
            dvm, dload = lin.sensitivities(vm[t], va[t], bus_pos, q_per_p)
            x = _step_lp(vm[t], load[t], dvm, dload, p_orig[t] - curt[t], limits, 1.0,
                         given_back=curt[t])
            if x is not None:
                trial[t] += x
        done = done[np.abs(trial[done] - curt[done]).max(axis=1) > 1e-6]
        if not len(done):
            break
        cand = {key: frame.iloc[done].copy() for key, frame in new.items()}
        p_try = p_orig[done] - trial[done]
        cand[p_key].iloc[:, sg_cols] = p_try
        if q_cols is not None:
            cand[q_key].iloc[:, q_cols] = p_try * q_per_p
        part = run_timeseries_pf(net, cand)
        keep = ~_violating(part, limits) & part.converged.to_numpy(dtype=bool)
        rows = done[keep]
        curt[rows] = trial[rows]
        new[p_key].iloc[rows, sg_cols] = p_try[keep]
        if q_cols is not None:
            new[q_key].iloc[rows, q_cols] = p_try[keep] * q_per_p
        pf = _replace_rows(pf, _take(part, np.flatnonzero(keep)), rows)
    return new, pf, curt, _violating(pf, limits) & bad


def _loading(pf: TimeseriesPF) -> np.ndarray:
    return np.hstack([pf.line_loading_percent.to_numpy(dtype=float),
                      pf.trafo_loading_percent.to_numpy(dtype=float),
                      pf.trafo3w_loading_percent.to_numpy(dtype=float)])


def _take(pf: TimeseriesPF, pos: np.ndarray) -> TimeseriesPF:
    values = {name: (v.iloc[pos] if isinstance(v := getattr(pf, name), pd.DataFrame | pd.Series)
                     else v) for name in pf.__dataclass_fields__}
    return type(pf)(**values)


def _plants(scenario: Any, park: Any) -> pd.DataFrame:
    rows = []
    for kind in ("pv", "wind"):
        for a in getattr(scenario, kind):
            _, idx = park.elements[(kind, a.name)]
            rows.append({"kind": kind, "name": a.name, "sgen": idx,
                         "q_per_p": float(np.tan(np.arccos(a.cos_phi)))})
    return pd.DataFrame(rows, columns=["kind", "name", "sgen", "q_per_p"])


def enforce_stage(
    scenario: Any, line_out: Mapping[int, tuple[int, ...]], ts: pd.DataFrame,
    steps: np.ndarray, *, limits: NetworkLimits = _DEFAULT_LIMITS, progress: bool = False,
) -> tuple[TimeseriesPF | None, Enforcement | None]:
    """Power flow of *steps* with network-aware curtailment (``[powerflow] enforce``).

    Like :func:`parkgrid.stages.powerflow_stage` (steps with lines out are solved on
    their own topology, *line_out* maps step position -> lines out), then
    :func:`enforce_limits` on each group.
    """
    controlled = [f"{k}.{a.name}" for k in ("pv", "wind", "battery", "statcom")
                  for a in getattr(scenario, k) if getattr(a, "q_control", "fixed") != "fixed"]
    if getattr(scenario, "oltc", None) is not None or controlled:
        raise ScenarioError([ValidationIssue(
            scenario.source, "powerflow.enforce",
            "network-aware dispatch with voltage control in the power flow "
            "([powerflow.oltc] or q_control other than 'fixed': "
            f"{', '.join(controlled) or 'oltc'}) is not supported yet; use one or the other")])
    if not len(steps):
        return None, None
    park = build_park_net(scenario)
    plants = _plants(scenario, park)
    groups: dict[tuple[int, ...], list[int]] = {}
    for pos in steps:
        groups.setdefault(line_out.get(int(pos), ()), []).append(int(pos))
    parts: list[TimeseriesPF] = []
    curt = np.zeros((len(ts), len(plants)))
    unresolved: list[pd.DataFrame] = []
    touched = 0
    for lines, pos in groups.items():
        net = park.net
        if lines:
            net = copy.deepcopy(park.net)
            net.line.loc[list(lines), "in_service"] = False
        profiles = pf_profiles(scenario, park, ts.iloc[pos])
        pf0 = run_timeseries_pf(net, profiles, progress=progress)
        touched += int(_violating(pf0, limits).sum())
        _, pf, c, left = enforce_limits(net, profiles, pf0, plants, limits=limits)
        curt[pos] = c
        parts.append(pf)
        if left.any():
            vm = pf.vm_pu.to_numpy(dtype=float)[left]
            unresolved.append(pd.DataFrame({
                "vm_min_pu": np.nanmin(vm, axis=1), "vm_max_pu": np.nanmax(vm, axis=1),
                "line_loading_max_percent": pf.line_loading_percent.to_numpy(
                    dtype=float)[left].max(axis=1, initial=0.0),
                "trafo_loading_max_percent": pf.trafo_loading_percent.to_numpy(
                    dtype=float)[left].max(axis=1, initial=0.0),
            }, index=pf.vm_pu.index[left]))
    pf_all = parts[0] if len(parts) == 1 else _concat(parts)
    columns = pd.MultiIndex.from_frame(plants[["kind", "name"]])
    frame = pd.DataFrame(curt, index=ts.index, columns=columns)
    unres = (pd.concat(unresolved).sort_index() if unresolved
             else pd.DataFrame(columns=["vm_min_pu", "vm_max_pu", "line_loading_max_percent",
                                        "trafo_loading_max_percent"]))
    return pf_all, Enforcement(curtailed_mw=frame, unresolved=unres, touched_steps=touched)


def _concat(parts: list[TimeseriesPF]) -> TimeseriesPF:
    values: dict[str, Any] = {}
    for name in parts[0].__dataclass_fields__:
        items = [getattr(p, name) for p in parts]
        values[name] = (pd.concat(items).sort_index()
                        if isinstance(items[0], pd.DataFrame | pd.Series) else items[0])
    return type(parts[0])(**values)


def apply_enforcement(ts: pd.DataFrame, enf: Enforcement) -> pd.DataFrame:
    """Return the time series with network curtailment applied (the slack takes the change).

    Each plant's ``p_mw`` column loses its curtailment; ``curtailed_network_mw`` is
    the total; exports fall first, then imports rise by what is left.
    """
    out = ts.copy()
    total = enf.curtailed_mw.to_numpy(dtype=float).sum(axis=1)
    for (kind, name), col in enf.curtailed_mw.items():
        key = asset_column(kind, name, "p_mw")
        out[key] = out[key].to_numpy(dtype=float) - col.to_numpy(dtype=float)
    exp = out["grid_export_mw"].to_numpy(dtype=float)
    cut_exp = np.minimum(exp, total)
    out["grid_export_mw"] = exp - cut_exp
    out["grid_import_mw"] = out["grid_import_mw"].to_numpy(dtype=float) + (total - cut_exp)
    out["grid_p_mw"] = out["grid_import_mw"] - out["grid_export_mw"]
    out["curtailed_network_mw"] = total
    return out
