"""The stages of one run, each a function: dispatch, time series, KPIs, power flow.

:func:`parkgrid.simulate.simulate` is these stages in order. Every dispatch
strategy, rule-based (the SimPy engine and the numba kernel) or ``optimal`` (the
rolling-horizon MILP), returns one :class:`DispatchRun`; only its ``events`` part
is optional, so everything after dispatch has a single path.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from parkgrid.carbon import scenario_account
from parkgrid.dispatch import DispatchInputs, DispatchResult
from parkgrid.engine import EngineResult, run_engine
from parkgrid.engine.build import fleet_stations, plan_engine
from parkgrid.engine.fleet import flex_bounds, h2_schedule
from parkgrid.inputs import RES_KINDS, AssetPowers, dispatch_inputs
from parkgrid.kpis import KpiParams, compute_kpis, engine_kpis
from parkgrid.lifecycle import Reference, economic_kpis, evaluate_lifecycle
from parkgrid.netcache import LiteNet
from parkgrid.network import (
    ParkNet,
    build_park_net,
    bus_index_by_name,
    inverter_s_mva,
    lite_park_net,
    park_element_indices,
    park_elements,
    pf_profiles,
)
from parkgrid.optimal._inputs import FlexDemand
from parkgrid.optimal.scenario import optimal_dispatch, solve_scenario
from parkgrid.powerflow import (
    Controls,
    QVControl,
    TapChanger,
    TimeseriesPF,
    cached_base_model,
    check_profiles,
    run_reference_pf,
    run_timeseries_pf,
    with_injections,
)
from parkgrid.scenario.model import Scenario
from parkgrid.timeseries import asset_column, tou_price

__all__ = [
    "DispatchRun",
    "carbon_stage",
    "copper_plate_run",
    "dispatch_stage",
    "kpi_stage",
    "pf_controls",
    "powerflow_stage",
    "timeseries_frame",
]

log = logging.getLogger(__name__)

LOAD_CATEGORIES = ("industrial", "charging", "services")


@dataclass(frozen=True)
class DispatchRun:
    """One dispatched year, whichever strategy produced it.

    Attributes
    ----------
    inputs:
        The arrays the dispatcher was given.
    dispatch:
        Per-step asset powers, states and grid exchange.
    available_mw:
        ``(kind, name) -> available power [MW]`` of every PV and wind plant, after
        outages.
    demand_mw:
        Demand of every load [MW], steps x loads (after outages and load shifting).
    load_names, load_categories:
        Name and category of each column of ``demand_mw`` (a truck depot is a load).
    load_served_mw:
        Demand served [MW], steps x loads.
    price_cny_per_mwh:
        Import price of every step (tariff seasons applied).
    events:
        What the SimPy engine's events did (outages, islanding, trucks, trailers);
        ``None`` for a strategy without events (``optimal``).
    """

    inputs: DispatchInputs
    dispatch: DispatchResult
    available_mw: AssetPowers
    demand_mw: np.ndarray
    load_names: tuple[str, ...]
    load_categories: tuple[str, ...]
    load_served_mw: np.ndarray
    price_cny_per_mwh: np.ndarray
    events: EngineResult | None = None


def _rules_run(scenario: Scenario, powers: AssetPowers) -> DispatchRun:
    """SimPy events + numba kernels: every rule-based strategy."""
    plan = plan_engine(scenario, powers)
    engine = run_engine(plan.inputs, scenario.strategy, plan.spec, hour_of_step=plan.hour,
                        prices=plan.prices, valley=plan.valley)
    d = engine.dispatch
    assert d.load_served_mw is not None  # the kernel always records it
    return DispatchRun(
        inputs=plan.inputs, dispatch=d,
        available_mw={key: powers[key] * engine.res_av[:, i]
                      for i, key in enumerate(plan.res_names)},
        demand_mw=engine.load_mw * engine.load_av, load_names=plan.load_names,
        load_categories=plan.load_categories, load_served_mw=d.load_served_mw,
        price_cny_per_mwh=engine.price_by_step, events=engine)


def copper_plate_run(scenario: Scenario, powers: AssetPowers, inputs: DispatchInputs,
                     d: DispatchResult,
                     stations: tuple[tuple[str, np.ndarray], ...] = ()) -> DispatchRun:
    """Wrap a dispatch of copper-plate totals (``optimal``) as a run without events.

    Loads are served in proportion to their demand; prices are the TOU tariff's.
    *stations* are truck stations' ``(name, power [MW])``: loads of category
    ``charging`` after the scenario's.
    """
    assert scenario.profiles is not None
    index = scenario.profiles.index
    n = len(index)
    names = tuple(ld.name for ld in scenario.load) + tuple(x for x, _ in stations)
    demand = (np.column_stack([powers[("load", ld.name)] for ld in scenario.load]
                              + [p for _, p in stations]) if names else np.zeros((n, 0)))
    total = demand.sum(axis=1)
    frac = np.divide(total - d.unserved_mw, total, out=np.ones(n), where=total > 0)
    price = (tou_price(scenario.grid.tariff, index) if isinstance(index, pd.DatetimeIndex)
             else np.zeros(n))
    return DispatchRun(
        inputs=inputs, dispatch=d,
        available_mw={key: v for key, v in powers.items() if key[0] in RES_KINDS},
        demand_mw=demand, load_names=names,
        load_categories=tuple(ld.category for ld in scenario.load)
        + ("charging",) * len(stations),
        load_served_mw=demand * frac[:, None], price_cny_per_mwh=price)


def dispatch_stage(scenario: Scenario, powers: AssetPowers) -> DispatchRun:
    """Dispatch the year with the scenario's strategy."""
    if scenario.strategy == "optimal":  # rolling-horizon MILP, parkgrid.optimal
        inputs = dispatch_inputs(scenario, powers)
        if scenario.fleet:
            return _optimal_fleet_run(scenario, powers, inputs)
        return copper_plate_run(scenario, powers, inputs, optimal_dispatch(scenario, inputs))
    return _rules_run(scenario, powers)


def _optimal_fleet_run(scenario: Scenario, powers: AssetPowers,
                       inputs: DispatchInputs) -> DispatchRun:
    """Run the optimum with truck stations.

    Depots and swap racks are flexible demands (energy by deadline, aggregated
    per departure step), hydrogen stations as the rules queue them (a fixed
    demand on the tank, served first, and a fixed compressor load). Station kg
    leave the offtake columns as trailer kg do.
    """
    n, dt = inputs.n_steps, float(inputs.dt_h)
    stations = fleet_stations(scenario, n, dt, 0)
    flex, extra, asked = [], [], np.zeros(n)
    comp = np.zeros(n)
    for st in stations:
        if st.kind == "h2":
            kg, mw = h2_schedule(st, n, dt)
            asked += kg
            comp += mw
            extra.append((st.name, mw))
        else:
            flex.append(FlexDemand(st.name, *flex_bounds(st, n, dt)))
    assert inputs.h2_demand_kg is not None or not asked.any()  # validated: a tank
    inputs = dataclasses.replace(
        inputs, load_mw=np.asarray(inputs.load_mw) + comp,
        h2_demand_kg=None if inputs.h2_demand_kg is None else inputs.h2_demand_kg + asked)
    sol = solve_scenario(scenario, inputs, tuple(flex))
    d = sol.dispatch
    to_stations = np.minimum(asked, d.h2_delivered_kg)
    d = dataclasses.replace(d, h2_delivered_kg=d.h2_delivered_kg - to_stations,
                            h2_shortfall_kg=d.h2_shortfall_kg - (asked - to_stations),
                            trailer_kg=to_stations)
    flex_mw = sol.flex_mw if sol.flex_mw is not None else np.zeros((n, 0))
    extra = [(f.name, flex_mw[:, k]) for k, f in enumerate(flex)] + extra
    return copper_plate_run(scenario, powers, inputs, d, stations=tuple(extra))


def timeseries_frame(scenario: Scenario, run: DispatchRun, index: pd.Index) -> pd.DataFrame:
    """Tidy per-step results: totals first, then one column per asset quantity.

    Column names follow :mod:`parkgrid.timeseries`.
    """
    n = len(index)
    zeros = np.zeros(n)
    d = run.dispatch
    avail, demand, served = run.available_mw, run.demand_mw, run.load_served_mw
    pv = sum((v for (k, _), v in avail.items() if k == "pv"), zeros)
    wind = sum((v for (k, _), v in avail.items() if k == "wind"), zeros)
    line = sum((v for (k, _), v in avail.items() if k == "direct_line"), zeros)
    res = pv + wind
    # curtailment is shared by the plants (and direct lines) in proportion to what
    # they could give
    keep = np.divide(res + line - d.curtailed_mw, res + line, out=np.ones(n),
                     where=res + line > 0)
    cols: dict[str, np.ndarray] = {
        "pv_avail_mw": pv, "wind_avail_mw": wind, "res_avail_mw": res,
        "curtailed_mw": d.curtailed_mw - line * (1.0 - keep) if any(
            k == "direct_line" for k, _ in avail) else d.curtailed_mw,
        "load_mw": demand.sum(axis=1),
        "unserved_mw": d.unserved_mw,
        "bat_charge_mw": d.bat_charge_mw.sum(axis=1),
        "bat_discharge_mw": d.bat_discharge_mw.sum(axis=1),
        "bat_e_mwh": d.bat_e_mwh.sum(axis=1),
        "electrolyser_mw": d.el_p_mw.sum(axis=1),
        "coal_mw": np.asarray(d.coal_p_mw).sum(axis=1),
        "grid_import_mw": d.grid_import_mw, "grid_export_mw": d.grid_export_mw,
        "grid_p_mw": d.grid_import_mw - d.grid_export_mw,
        "dumped_mw": np.asarray(d.dumped_mw),
        "h2_produced_kg": d.h2_produced_kg, "h2_delivered_kg": d.h2_delivered_kg,
        "h2_shortfall_kg": d.h2_shortfall_kg, "h2_tank_kg": d.tank_kg,
        "price_cny_per_mwh": run.price_cny_per_mwh,
    }
    for cat in LOAD_CATEGORIES:
        idx = [j for j, c in enumerate(run.load_categories) if c == cat]
        cols[f"unserved_{cat}_mw"] = (demand[:, idx] - served[:, idx]).sum(axis=1)
    if run.events is not None:
        cols["islanded"] = run.events.island
        cols["electrolyser_grid_mw"] = np.asarray(d.el_grid_mw)
        cols["bat_grid_charge_mw"] = np.asarray(d.bat_grid_charge_mw)
        cols["h2_trailer_kg"] = d.trailer_kg
    if any(k == "direct_line" for k, _ in avail):
        cols["direct_line_avail_mw"] = line
        cols["direct_line_mw"] = line * keep
    if scenario.grid.emission_factor_column and scenario.profiles is not None:
        cols["ef_location_kg_per_kwh"] = scenario.profiles[
            scenario.grid.emission_factor_column].to_numpy(dtype=float)
    for (kind, name), p in avail.items():
        cols[asset_column(kind, name, "p_mw")] = p * keep
    for j, name in enumerate(run.load_names):
        cols[asset_column("load", name, "p_mw")] = served[:, j]
    for k, bat in enumerate(scenario.battery):
        cols[asset_column("battery", bat.name, "p_mw")] = (d.bat_charge_mw[:, k]
                                                           - d.bat_discharge_mw[:, k])
        cols[asset_column("battery", bat.name, "soc_pu")] = d.bat_e_mwh[:, k] / bat.e_mwh
        if d.bat_capacity_mwh is not None:
            cols[asset_column("battery", bat.name, "capacity_mwh")] = d.bat_capacity_mwh[:, k]
    for k, el in enumerate(scenario.electrolyser):
        cols[asset_column("electrolyser", el.name, "p_mw")] = d.el_p_mw[:, k]
    for k, unit in enumerate(scenario.coal):
        cols[asset_column("coal", unit.name, "p_mw")] = d.coal_p_mw[:, k]
        cols[asset_column("coal", unit.name, "start")] = d.coal_starts[:, k]
    return pd.DataFrame(cols, index=index)


def kpi_stage(scenario: Scenario, run: DispatchRun, ts: pd.DataFrame, *,
              reference: Reference | None = None) -> dict[str, float]:
    """Energy, hydrogen, storage, cost and event KPIs of a dispatched year.

    With ``[economics]`` also the economic KPIs, against *reference* (default:
    grid only).
    """
    dt = float(run.inputs.dt_h)
    params = KpiParams.from_scenario(
        scenario, dt_h=dt, bat_e_initial_mwh=float(run.inputs.initial_energy_mwh().sum()))
    kpis = compute_kpis(ts, params)
    kpis.update(engine_kpis(ts, run.events, scenario, dt))
    if scenario.economics is not None:
        lc = evaluate_lifecycle(scenario, ts, kpis, reference=reference)
        kpis.update(economic_kpis(scenario, ts, kpis, lc))
    return kpis


def carbon_stage(scenario: Scenario, ts: pd.DataFrame, kpis: dict[str, float], *,
                 dt_h: float) -> pd.DataFrame:
    """Carbon and green-power accounting (:mod:`parkgrid.carbon`) of a dispatched year.

    Adds its KPIs to *kpis* and returns *ts* with its per-step columns (scopes, hourly
    green share, hydrogen classes, product CO2); surpluses are logged as warnings.
    """
    acct = scenario_account(scenario, ts, dt_h=dt_h)
    for note in acct.notes:
        log.warning("%s", note)
    kpis.update(acct.kpis)
    return pd.concat([ts, acct.steps.set_axis(ts.index)], axis=1)


def _concat_pf(parts: list[TimeseriesPF]) -> TimeseriesPF:
    """Join power-flow results of disjoint step groups, in time order."""
    values = {}
    for f in dataclasses.fields(parts[0]):
        items = [getattr(p, f.name) for p in parts]
        if isinstance(items[0], pd.DataFrame | pd.Series):
            values[f.name] = pd.concat(items).sort_index()
        else:
            values[f.name] = items[0]
    return type(parts[0])(**values)


def pf_controls(scenario: Scenario, park: ParkNet) -> Controls | None:
    """Return the voltage controllers of *scenario* on its park network (``None``: none).

    ``[powerflow.oltc]`` becomes a :class:`~parkgrid.powerflow.TapChanger` with the band
    ``vm_set_pu +- deadband_pu`` (``deadband_pu = 0``: half a tap step + 0.001, as
    pandapower's ``DiscreteTapControl.from_tap_step_percent``); every inverter with
    ``q_control = "q_u"`` a :class:`~parkgrid.powerflow.QVControl` whose curve is per
    unit of its ``p_mw`` and whose limit is :func:`~parkgrid.network.inverter_s_mva`;
    every ``[[statcom]]`` with ``q_control = "q_u"`` one with P = 0, its curve per unit
    of ``s_mvar`` and the limit ``s_mvar``.
    """
    net = park.net
    taps: list[TapChanger] = []
    if scenario.oltc is not None:
        o = scenario.oltc
        trafo = int(net.trafo.index[net.trafo["name"].astype(str) == o.trafo][0])
        band = o.deadband_pu or abs(float(net.trafo.at[trafo, "tap_step_percent"])) / 200 + 1e-3
        bus = bus_index_by_name(net)[o.bus] if o.bus else None
        taps.append(TapChanger(trafo, o.vm_set_pu - band, o.vm_set_pu + band, bus,
                               o.delay_steps))
    q_u: list[QVControl] = []
    for (kind, name), (table, idx) in park.elements.items():
        if kind == "statcom":  # the inverters' Q(U) with P = 0 and S = s_mvar
            st = next(a for a in scenario.statcom if a.name == name)
            if st.q_control == "q_u":
                q_u.append(QVControl(table, int(idx), tuple(c[0] for c in st.q_u_curve),
                                     tuple(c[1] for c in st.q_u_curve), float(st.s_mvar),
                                     float(st.s_mvar)))
            continue
        if kind not in ("pv", "wind", "battery"):
            continue
        asset = next(a for a in getattr(scenario, kind) if a.name == name)
        if asset.q_control != "q_u" or asset.p_mw <= 0:
            continue
        curve = asset.q_u_curve
        q_u.append(QVControl(table, int(idx), tuple(c[0] for c in curve),
                             tuple(c[1] for c in curve), float(asset.p_mw),
                             inverter_s_mva(kind, asset)))
    controls = Controls(tuple(taps), tuple(q_u))
    return controls if controls else None


def statcom_kpis(scenario: Scenario, pf: TimeseriesPF, *, dt_h: float) -> dict[str, float]:
    """``statcom_q_mvarh``: |Q| of the in-service STATCOMs over the converged steps.

    A fixed STATCOM gives ``|q_mvar|`` every step; a Q(U) one its controller's Q, the
    ``q_control_mvar`` column of its sgen (the index :func:`build_park_net` gives it,
    :func:`~parkgrid.network.park_element_indices`). Empty without a STATCOM.
    """
    statcoms = [st for st in scenario.statcom if st.in_service]
    if not statcoms:
        return {}
    ok = pf.converged.to_numpy(dtype=bool)
    index = park_element_indices(scenario.net, park_elements(scenario))
    total = 0.0
    for st in statcoms:
        if st.q_control == "fixed":
            total += abs(st.q_mvar) * float(ok.sum())
        elif pf.q_control_mvar is not None:
            q = pf.q_control_mvar[index[("statcom", st.name)]].to_numpy(dtype=float)
            total += float(np.abs(q[ok]).sum())
    return {"statcom_q_mvarh": total * dt_h}


def powerflow_stage(scenario: Scenario, run: DispatchRun, ts: pd.DataFrame,
                    steps: np.ndarray, *, progress: bool = False) -> TimeseriesPF | None:
    """AC power flow of the steps *steps* (positions in *ts*); ``None`` for no step.

    Steps with lines out (maintenance, forced outages) are solved on their own
    topology, one group per set of lines out.
    """
    if not len(steps):
        return None
    if isinstance(scenario.net, LiteNet) and scenario.pf_method != "reference":
        pf = _cached_powerflow(scenario, run, ts, steps, progress=progress)
        if pf is not None:
            return pf
    park = build_park_net(scenario)
    controls = pf_controls(scenario, park)
    line_out = run.events.line_out if run.events is not None else {}
    groups: dict[tuple[int, ...], list[int]] = {}
    for pos in steps:
        groups.setdefault(line_out.get(int(pos), ()), []).append(int(pos))
    parts = []
    for lines, pos in groups.items():
        net = park.net
        if lines:
            net = copy.deepcopy(park.net)
            net.line.loc[list(lines), "in_service"] = False
        profiles = pf_profiles(scenario, park, ts.iloc[pos])
        if scenario.pf_method == "reference":
            parts.append(run_reference_pf(net, profiles, progress=progress, controls=controls))
        else:
            parts.append(run_timeseries_pf(net, profiles, progress=progress,
                                           controls=controls))
    return parts[0] if len(parts) == 1 else _concat_pf(parts)



def _cached_powerflow(scenario: Scenario, run: DispatchRun, ts: pd.DataFrame,
                      steps: np.ndarray, *, progress: bool) -> TimeseriesPF | None:
    """Solve the power flow on the cached network model, without pandapower.

    For a scenario whose net came from the network cache (a
    :class:`~parkgrid.netcache.LiteNet`), without voltage controllers and without
    lines out of service in the steps: the same kernels on the same admittance
    model as :func:`powerflow_stage` builds through pandapower.
    """
    line_out = run.events.line_out if run.events is not None else {}
    if any(line_out.get(int(pos)) for pos in steps):
        return None  # other topologies: converted through pandapower
    park = lite_park_net(scenario)
    if pf_controls(scenario, park) is not None:
        return None  # tap changers need pandapower's conversion state
    profiles = pf_profiles(scenario, park, ts.iloc[[int(p) for p in steps]])
    model = with_injections(cached_base_model(scenario.net), park.net,
                            check_profiles(park.net, profiles))
    return run_timeseries_pf(park.net, profiles, progress=progress, model=model)
