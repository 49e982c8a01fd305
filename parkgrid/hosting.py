"""Hosting capacity: the largest plant a bus takes with the whole year inside the limits.

``hosting_capacity(scenario, asset="pv", buses=["PV-D 35kV"])`` adds a plant of
the kind *asset* at each bus in turn and finds, by bisection on the year-long AC
power flow, the largest capacity [MW] for which no step of the year has a bus
outside the voltage band or a line or transformer above its loading limit.

What is simulated:

- The scenario is dispatched once, as ``parkgrid run`` does. The added plant is
  injected **on top of that base dispatch**; the grid (the slack) takes the
  difference. Dispatch is not re-run per candidate: hosting capacity is a property
  of the network at the park's operating points, the batteries and electrolysers
  do not chase a plant they were not planned with, and one base dispatch keeps the
  search to power flows only (seconds, not minutes).
- The added plant follows the scenario's profile for that kind (the ``profile`` of
  the first plant of the kind, else ``pv_pu`` / ``wind_pu``) at the cos φ of that
  plant (else 1); steps where the profile is 0 equal the base case and are not
  solved again.
- Limits: ``vm_min_pu <= vm <= vm_max_pu`` at every bus and loading <=
  ``loading_max_percent`` on every line and transformer, at every converged base
  step. A (step, element) pair that already breaks its limit in the base case is
  not held against the added plant (it is counted in ``preexisting``): the
  question is what the plant adds, and pre-existing violations are the job of
  voltage control. A step that does not converge with the plant counts as a
  violation.
- Network topology is the scenario network with every line in service (planned
  and forced outages of ``[[event]]`` are not applied).

Search: candidates ``start_mw``, twice that, ... up to ``max_mw`` are solved on
every step where the plant injects until one breaks a limit; if ``max_mw`` holds,
the capacity is reported as ``>= max_mw``. Bisection then runs on the steps that
failed at the smallest failing candidate only (mostly a plant that breaks a limit
at a step at C breaks it at larger C too), until the bracket is narrower than
``tol_mw``; the capacity found is then checked on every step, and should another
step fail there (voltages are not monotone in the injection: the rise at small
export turns into a drop across the transformers' reactance at large export),
the search goes on below it. The capacity reported holds on every step of the
year. Each candidate is one batch power-flow call on the same net
with only the injections changed.

``controls=True`` runs every power flow with the scenario's voltage controllers
(``[powerflow.oltc]``, inverters with ``q_control = "q_u"``:
:func:`parkgrid.stages.pf_controls`); the added plant gets the Q(U) curve of the
kind's first plant when that plant has one (apparent-power limit capacity / 0.95),
else its fixed cos φ. Taps and their delays carry over from step to step, so each
candidate is then solved on the whole year in time order (no step subsets): about
one controlled year per candidate. ``controls=False`` ignores the controllers (taps
stay where the net has them, Q(U) inverters at Q = 0).
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd
from tqdm import tqdm

from parkgrid.enforce import NetworkLimits
from parkgrid.errors import ScenarioError, ValidationIssue
from parkgrid.inputs import asset_power_mw
from parkgrid.network import build_park_net, bus_index_by_name, pf_profiles
from parkgrid.powerflow import (
    Controls,
    PowerFlowWarning,
    QVControl,
    TimeseriesPF,
    run_timeseries_pf,
)
from parkgrid.profiles import localize_index
from parkgrid.scenario import Scenario, load_scenario
from parkgrid.stages import dispatch_stage, pf_controls, timeseries_frame

__all__ = ["HostingResult", "hosting_capacity"]

_ASSETS = {"pv": "pv_pu", "wind": "wind_pu"}
_TOL_VM_PU = 1e-9
_TOL_LOADING = 1e-7


@dataclass(frozen=True)
class HostingResult:
    """Hosting capacity per bus.

    ``table`` has one row per bus (index: bus name) with ``capacity_mw`` (the
    largest capacity found to hold [MW]), ``bounded`` (False: the capacity is at
    least ``max_mw``, no limit was reached), ``first_violation_mw`` (the smallest
    capacity found to break a limit), the binding ``step`` (timestamp),
    ``element`` (``bus <name>``, ``line <name>``, ``trafo <name>``), ``quantity``
    (``vm_max_pu``, ``vm_min_pu``, ``loading_percent``, ``not_converged``), its
    ``value`` at ``first_violation_mw`` and its ``limit``, ``solves`` (power-flow
    calls) and ``seconds``. ``info`` holds ``total_s`` (wall time, dispatch
    included), ``steps_active`` (steps where the plant injects) and
    ``steps_solved`` (power-flow steps solved in all, the base year included).
    """

    asset: str
    table: pd.DataFrame
    limits: NetworkLimits
    max_mw: float
    tol_mw: float
    controls: bool = False
    preexisting: int = 0
    info: dict[str, float] = field(default_factory=dict)


@dataclass
class _Base:
    net: Any
    profiles: dict[tuple[str, str], pd.DataFrame]
    shape: np.ndarray
    q_per_p: float
    vm_hi: np.ndarray
    vm_lo: np.ndarray
    load_hi: np.ndarray
    names: dict[str, list[str]]
    steps_solved: int = 0
    #: voltage controllers of the scenario (``controls=True``), else None
    controls: Controls | None = None
    #: Q(U) curve of the added plant under controls: (vm points, q points) or None
    added_qu: tuple[tuple[float, ...], tuple[float, ...]] | None = None


def _loading(pf: TimeseriesPF) -> np.ndarray:
    return np.hstack([pf.line_loading_percent.to_numpy(dtype=float),
                      pf.trafo_loading_percent.to_numpy(dtype=float),
                      pf.trafo3w_loading_percent.to_numpy(dtype=float)])


def _kind_profile(scenario: Scenario, asset: str) -> tuple[np.ndarray, float]:
    plants = getattr(scenario, asset)
    column = plants[0].profile if plants else _ASSETS[asset]
    cos_phi = plants[0].cos_phi if plants else 1.0
    assert scenario.profiles is not None
    if column not in scenario.profiles:
        raise ScenarioError([ValidationIssue(
            scenario.source, f"{asset}[0].profile",
            f"hosting {asset}: profile column {column!r} is not in the scenario's profiles")])
    shape = scenario.profiles[column].to_numpy(dtype=float)
    return shape, float(np.tan(np.arccos(cos_phi)))


def _violations(pf: TimeseriesPF, base: _Base, rows: np.ndarray
                ) -> tuple[np.ndarray, tuple[int, str, int, float, float] | None]:
    """Per solved row: does it break a limit? And the worst breach (row, quantity, ...)."""
    vm = pf.vm_pu.to_numpy(dtype=float)
    load = _loading(pf)
    ok = pf.converged.to_numpy(dtype=bool)
    with np.errstate(invalid="ignore"):
        ex_hi = vm - base.vm_hi[rows]
        ex_lo = base.vm_lo[rows] - vm
        ex_ld = (load - base.load_hi[rows]) / 100.0
    ex_hi = np.nan_to_num(ex_hi, nan=-np.inf)
    ex_lo = np.nan_to_num(ex_lo, nan=-np.inf)
    ex_ld = np.nan_to_num(ex_ld, nan=-np.inf)
    bad = ~ok | (ex_hi > 0).any(axis=1) | (ex_lo > 0).any(axis=1)
    if ex_ld.shape[1]:
        bad |= (ex_ld > 0).any(axis=1)
    if not bad.any():
        return bad, None
    if (~ok).any():
        r = int(np.flatnonzero(~ok)[0])
        return bad, (r, "not_converged", -1, float("nan"), float("nan"))
    cands = [(ex_hi, "vm_max_pu"), (ex_lo, "vm_min_pu"), (ex_ld, "loading_percent")]
    best: tuple[float, int, str, int] = (-np.inf, -1, "", -1)
    for arr, name in cands:
        if arr.shape[1] == 0:
            continue
        flat = int(np.argmax(arr))
        r, c = divmod(flat, arr.shape[1])
        if arr[r, c] > best[0]:
            best = (float(arr[r, c]), r, name, c)
    _, r, name, c = best
    if name == "vm_max_pu":
        return bad, (r, name, c, float(vm[r, c]), float(base.vm_hi[rows[r], c] - _TOL_VM_PU))
    if name == "vm_min_pu":
        return bad, (r, name, c, float(vm[r, c]), float(base.vm_lo[rows[r], c] + _TOL_VM_PU))
    return bad, (r, name, c, float(load[r, c]), float(base.load_hi[rows[r], c] - _TOL_LOADING))


def _solve(base: _Base, sgen: int, cap_mw: float, rows: np.ndarray) -> TimeseriesPF:
    prof = {key: frame.iloc[rows].copy() for key, frame in base.profiles.items()}
    base.steps_solved += len(rows)
    p = cap_mw * base.shape[rows]
    prof[("sgen", "p_mw")][sgen] = p
    prof[("sgen", "q_mvar")][sgen] = p * base.q_per_p
    controls = base.controls
    if controls is not None and base.added_qu is not None and cap_mw > 0:
        prof[("sgen", "q_mvar")][sgen] = 0.0  # set by its Q(U) controller
        added = QVControl("sgen", sgen, base.added_qu[0], base.added_qu[1], cap_mw,
                          cap_mw / 0.95)
        controls = dataclasses.replace(controls, q_u=(*controls.q_u, added))
    with warnings.catch_warnings():  # a step that does not converge is a violation here
        warnings.simplefilter("ignore", PowerFlowWarning)
        return run_timeseries_pf(base.net, prof, controls=controls)


def _element(base: _Base, quantity: str, col: int) -> str:
    if quantity.startswith("vm"):
        return f"bus {base.names['bus'][col]}"
    if quantity == "loading_percent":
        n_line, n_trafo = len(base.names["line"]), len(base.names["trafo"])
        if col < n_line:
            return f"line {base.names['line'][col]}"
        if col < n_line + n_trafo:
            return f"trafo {base.names['trafo'][col - n_line]}"
        return f"trafo3w {base.names['trafo3w'][col - n_line - n_trafo]}"
    return ""


def hosting_capacity(
    scenario: Scenario | str | Path, *, asset: str = "pv", buses: Sequence[str],
    start_mw: float = 100.0, max_mw: float = 1000.0, tol_mw: float = 1.0,
    limits: NetworkLimits | None = None,
    controls: bool = False, progress: bool = False,
) -> HostingResult:
    """Hosting capacity [MW] of each bus of *buses* for a plant of kind *asset*.

    Parameters
    ----------
    scenario:
        A validated scenario or the path of its TOML file.
    asset:
        ``"pv"`` or ``"wind"``: the kind of the added plant (its profile and cos φ).
    buses:
        Bus names of the scenario's network.
    start_mw, max_mw:
        First capacity tried [MW] (doubled while the year holds) and the largest; a
        bus that holds ``max_mw`` is reported as ``>=`` it (``bounded`` False).
    tol_mw:
        Width of the final bisection bracket [MW].
    limits:
        Voltage band [pu] and loading limit [%] (default 0.95-1.05 pu, 100 %).
    controls:
        Run every power flow with the scenario's tap changer and Q(U) inverters
        (a scenario without them is refused).
    progress:
        Show a progress bar (tqdm, standard error).
    """
    limits = NetworkLimits() if limits is None else limits
    if asset not in _ASSETS:
        raise ValueError(f"asset={asset!r}: expected one of {sorted(_ASSETS)}")
    if not (max_mw > 0 and 0 < tol_mw < max_mw and start_mw > 0):
        raise ValueError("need max_mw > 0, start_mw > 0 and 0 < tol_mw < max_mw")
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    assert scenario.profiles is not None
    if isinstance(buses, str):
        buses = [buses]
    named = bus_index_by_name(scenario.net)
    unknown = [b for b in buses if b not in named]
    if unknown:
        raise ScenarioError([ValidationIssue(
            scenario.source, "hosting.bus",
            f"unknown bus(es) {unknown}; buses with unique names: {sorted(named)[:30]}")])
    t0 = time.perf_counter()
    index = localize_index(scenario.profiles.index, scenario.utc_offset_h)
    run = dispatch_stage(scenario, asset_power_mw(scenario))
    ts = timeseries_frame(scenario, run, index)
    park = build_park_net(scenario)
    net = park.net
    # one added plant per bus, all at 0 MW: one net for every candidate and bus
    sgens = {b: int(pp.create_sgen(net, named[b], p_mw=0.0, name=f"hosting {b}",
                                   type=asset.upper())) for b in buses}
    profiles = pf_profiles(scenario, park, ts)
    for key in (("sgen", "p_mw"), ("sgen", "q_mvar")):
        frame = profiles.setdefault(key, pd.DataFrame(index=ts.index))
        for s in sgens.values():
            frame[s] = 0.0
    shape, q_per_p = _kind_profile(scenario, asset)
    ctl = pf_controls(scenario, park) if controls else None
    if controls and ctl is None:
        raise ScenarioError([ValidationIssue(
            scenario.source, "powerflow.oltc",
            "hosting with controls: the scenario has no voltage control (no "
            "[powerflow.oltc], no plant with q_control = 'q_u')")])
    plants = getattr(scenario, asset)
    added_qu = None
    if ctl is not None and plants and plants[0].q_control == "q_u":
        curve = plants[0].q_u_curve
        added_qu = (tuple(c[0] for c in curve), tuple(c[1] for c in curve))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PowerFlowWarning)
        base_pf = run_timeseries_pf(net, profiles, controls=ctl)
    ok = base_pf.converged.to_numpy(dtype=bool)
    vm0 = base_pf.vm_pu.to_numpy(dtype=float)
    ld0 = _loading(base_pf)
    with np.errstate(invalid="ignore"):
        pre = int((vm0 > limits.vm_max_pu).sum() + (vm0 < limits.vm_min_pu).sum()
                  + (ld0 > limits.loading_max_percent).sum())
    base = _Base(
        net=net, profiles=profiles, shape=shape, q_per_p=q_per_p,
        # a limit already broken in the base case is not held against the plant
        vm_hi=np.where(vm0 > limits.vm_max_pu, np.inf, limits.vm_max_pu + _TOL_VM_PU),
        vm_lo=np.where(vm0 < limits.vm_min_pu, -np.inf, limits.vm_min_pu - _TOL_VM_PU),
        load_hi=np.where(ld0 > limits.loading_max_percent, np.inf,
                         limits.loading_max_percent + _TOL_LOADING),
        names={t: [str(x) for x in net[t]["name"]] for t in ("bus", "line", "trafo", "trafo3w")},
        controls=ctl, added_qu=added_qu,
    )
    # with controls, taps and their delays carry over from step to step: every
    # candidate is solved on the whole year in time order
    active = np.flatnonzero(ok if ctl is not None else (shape > 0) & ok)
    n_iter = int(np.ceil(np.log2(min(start_mw, max_mw) / tol_mw))) + 2
    bar = tqdm(total=n_iter * len(buses), unit="solve", desc="hosting capacity",
               disable=not progress, leave=False)
    rows_out = []
    try:
        for bus in buses:
            rows_out.append(_search(base, sgens[bus], bus, active, index, start_mw, max_mw,
                                    tol_mw, bar))
    finally:
        bar.close()
    table = pd.DataFrame(rows_out).set_index("bus")
    return HostingResult(asset=asset, table=table, limits=limits, max_mw=max_mw,
                         tol_mw=tol_mw, controls=controls, preexisting=pre,
                         info={"total_s": time.perf_counter() - t0,
                               "steps_active": float(len(active)),
                               "steps_solved": float(base.steps_solved + len(index))})


def _search(base: _Base, sgen: int, bus: str, active: np.ndarray, index: pd.Index,
            start_mw: float, max_mw: float, tol_mw: float, bar: Any) -> dict[str, Any]:
    t0 = time.perf_counter()
    solves = 0

    whole_year = base.controls is not None  # controller state carries over: no subsets

    def check(cap: float, rows: np.ndarray) -> tuple[np.ndarray, Any]:
        nonlocal solves
        solves += 1
        bar.update(1)
        rows = active if whole_year else rows
        if not len(rows):
            return rows, None
        bad, worst = _violations(_solve(base, sgen, cap, rows), base, rows)
        return rows[bad], (None if worst is None else (rows[worst[0]], *worst[1:]))

    # expand: start_mw, 2 x start_mw, ... up to max_mw, on every active step
    lo, hi, cap = 0.0, float("nan"), min(start_mw, max_mw)
    fail_rows, worst = active[:0], None
    while True:
        fail_rows, worst = check(cap, active)
        if len(fail_rows):
            hi = cap
            break
        lo = cap
        if cap >= max_mw:
            break
        cap = min(2.0 * cap, max_mw)
    bounded = len(fail_rows) > 0
    verified = True  # lo holds on every active step
    while bounded:
        # bisect on the steps that failed at the smallest failing candidate
        while hi - lo > tol_mw:
            mid = 0.5 * (lo + hi)
            rows, w = check(mid, fail_rows)
            if len(rows):
                hi, fail_rows, worst = mid, rows, w
            else:
                lo, verified = mid, whole_year
        if verified or lo == 0.0:
            break
        rows, w = check(lo, active)  # the whole year at the capacity found
        if not len(rows):
            break
        # another step breaks a limit below the bracket (not monotone): go on below
        hi, fail_rows, worst, lo, verified = lo, rows, w, 0.0, True
    row: dict[str, Any] = {"bus": bus, "capacity_mw": lo, "bounded": bounded,
                           "first_violation_mw": hi if bounded else float("nan")}
    if bounded and worst is not None:
        step, quantity, col, value, limit = worst
        row.update(step=index[step], element=_element(base, quantity, col),
                   quantity=quantity, value=value, limit=limit)
    else:
        row.update(step=pd.NaT, element="", quantity="", value=float("nan"),
                   limit=float("nan"))
    row.update(solves=solves, seconds=time.perf_counter() - t0)
    return row
