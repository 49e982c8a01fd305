"""Key performance indicators, each defined once.

All energy KPIs are computed from the dispatch balance (copper plate: network
losses are not part of it); network KPIs come from the power flow of the steps
that were solved and say how many those were. Definitions are in ``KPI_INFO``
and in the README; the two must stay word for word the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from parkgrid.timeseries import NetworkLimits, asset_column

if TYPE_CHECKING:
    from parkgrid.engine import EngineResult
    from parkgrid.scenario.model import Scenario

#: charging policies of depots and swap stations (``[[depot]] policy``), one KPI each
CHARGING_POLICIES = ("uncontrolled", "valley", "surplus", "grid_cap")

__all__ = [
    "COUNT_KPIS", "ECONOMIC_KPI_INFO", "KPI_INFO", "KpiParams", "compute_kpis", "network_kpis",
]

# name: (unit, definition)
KPI_INFO: dict[str, tuple[str, str]] = {
    "pv_available_mwh": ("MWh", "PV energy available before curtailment"),
    "wind_available_mwh": ("MWh", "wind energy available before curtailment"),
    "res_available_mwh": ("MWh", "RES available = PV + wind available"),
    "curtailed_mwh": ("MWh", "RES energy curtailed"),
    "curtailed_network_mwh": ("MWh", "RES energy curtailed to keep the network within its "
                              "voltage band and loading limits ([powerflow] enforce), apart "
                              "from curtailed_mwh (the dispatch's surplus); the RES ratios "
                              "count both as curtailed"),
    "network_enforced_steps": ("-", "steps outside the network's limits before "
                               "network-aware curtailment ([powerflow] enforce)"),
    "network_unresolved_steps": ("-", "of those, steps still outside after it"),
    "exported_mwh": ("MWh", "energy exported to the grid"),
    "imported_mwh": ("MWh", "energy imported from the grid"),
    "self_consumption_ratio": ("-", "green-power self-consumption ratio = "
                               "(RES available - curtailed - exported) / RES available"),
    "res_utilisation": ("-", "RES utilisation rate = 1 - curtailed / RES available"),
    "load_mwh": ("MWh", "energy demanded by the fixed loads"),
    "unserved_mwh": ("MWh", "load energy not served"),
    "consumption_mwh": ("MWh", "consumption = loads served + electrolysers + storage losses"),
    "self_sufficiency": ("-", "(consumption - grid import) / consumption"),
    "green_share_annual": ("-", "min(1, (RES available - curtailed) / consumption): annual "
                           "volumes, exports offset imports"),
    "green_share_hourly": ("-", "sum over steps of min(local RES consumed, net park "
                           "consumption) / sum of net park consumption, where local RES "
                           "consumed = RES - curtailed - exported and net park consumption = "
                           "loads served + electrolysers + charging - discharging"),
    "peak_import_mw": ("MW", "highest step-mean import"),
    "peak_export_mw": ("MW", "highest step-mean export"),
    "electrolyser_mwh": ("MWh", "electrolyser input energy"),
    "h2_produced_kg": ("kg", "hydrogen produced = electrolyser MWh x 1000 / (kWh/kg)"),
    "h2_delivered_kg": ("kg", "hydrogen delivered to offtake"),
    "h2_shortfall_kg": ("kg", "hydrogen offtake not met"),
    "electrolyser_full_load_hours": ("h", "electrolyser MWh / rated MW"),
    "h2_green_kg": ("kg", "hydrogen from local RES matched per 15-min step: sum over steps of "
                    "kg produced x min(1, local RES consumed / gross park consumption), where "
                    "local RES consumed = max(0, RES - curtailed - exported) and gross park "
                    "consumption = loads served + electrolysers + battery charging"),
    "h2_kgco2_per_kg": ("kgCO2/kg", "grid and coal CO2 attributed to hydrogen per 15-min "
                        "step: electrolyser input / gross park consumption x (grid import x "
                        "emission factor + CO2 of the coal output consumed in the park, i.e. "
                        "not exported or dumped), summed, / kg produced"),
    "battery_charged_mwh": ("MWh", "AC energy into the batteries"),
    "battery_discharged_mwh": ("MWh", "AC energy out of the batteries"),
    "storage_losses_mwh": ("MWh", "charged - discharged - change of stored energy"),
    "battery_equivalent_full_cycles": ("-", "discharged MWh / usable MWh "
                                       "(usable = e_mwh x (soc_max - soc_min))"),
    "co2_t": ("tCO2", "grid import x emission factor (scope 2, location-based)"),
    "co2_total_t": ("tCO2", "scope 1 captive coal CO2 + scope 2 location-based grid CO2 "
                    "(co2_t); coal CO2 = coal MWh x gce/kWh x kgCO2/kgce / 1000"),
    "emission_factor_kg_per_kwh": ("kgCO2/kWh", "emission factor applied to imports (with "
                                   "a per-step column: their import-weighted mean)"),
    "energy_cost_cny": ("CNY", "import energy x time-of-use price"),
    "capacity_charge_cny": ("CNY", "sum over months of peak import x capacity charge"),
    "export_revenue_cny": ("CNY", "export energy x export price"),
    "net_cost_cny": ("CNY", "energy cost + capacity charge - export revenue"),
}

NETWORK_KPI_INFO: dict[str, tuple[str, str]] = {
    "pf_steps": ("-", "steps solved by the power flow"),
    "pf_steps_not_converged": ("-", "steps whose power flow did not converge"),
    "losses_mwh": ("MWh", "network losses over the steps solved"),
    "vm_min_pu": ("pu", "lowest bus voltage over the steps solved"),
    "vm_max_pu": ("pu", "highest bus voltage over the steps solved"),
    "steps_voltage_violation": ("-", "steps with any bus outside [vm_min, vm_max]"),
    "line_loading_max_percent": ("%", "highest line loading"),
    "line_loading_p99_percent": ("%", "99th percentile of the per-step highest line loading"),
    "trafo_loading_max_percent": ("%", "highest transformer loading"),
    "steps_overloaded": ("-", "steps with any line or transformer above its limit"),
    "pf_unsupplied_buses": ("-", "in-service buses cut off from the grid connection (no "
                            "path to an in-service ext_grid) in any step solved"),
    "pf_unsupplied_steps": ("-", "steps solved with any bus cut off from the grid connection"),
    "pf_not_served_mwh": ("MWh", "load on cut-off buses over the steps solved (sum of "
                          "their loads and storage charging x step length): energy the "
                          "network cannot deliver although the dispatch counts it served"),
    "pf_isolated_generation_mwh": ("MWh", "generation on cut-off buses over the steps "
                                   "solved: energy the network cannot take"),
    # voltage control ([powerflow.oltc], q_control = "q_u"); only with controls
    "tap_operations": ("-", "tap changes of the on-load tap changer(s) over the steps "
                       "solved (one per tap step moved): wear"),
    "q_u_absorbed_mvarh": ("Mvarh", "reactive energy absorbed (under-excited) by the Q(U) "
                           "inverters over the steps solved"),
    "q_u_injected_mvarh": ("Mvarh", "reactive energy injected (over-excited) by the Q(U) "
                           "inverters over the steps solved"),
    "statcom_q_mvarh": ("Mvarh", "reactive energy of the STATCOMs ([[statcom]]), absolute "
                        "(either direction), over the steps solved (only with a STATCOM in "
                        "service)"),
    "pf_control_unsettled_steps": ("-", "steps whose controllers did not settle (tap hunting "
                                   "or Q(U) not at its fixed point within the solve limit)"),
}
ENGINE_KPI_INFO: dict[str, tuple[str, str]] = {
    "unserved_industrial_mwh": ("MWh", "unserved energy of industrial loads"),
    "unserved_charging_mwh": ("MWh", "unserved energy of charging loads (trucks)"),
    "unserved_services_mwh": ("MWh", "unserved energy of service loads"),
    "loss_of_load_hours": ("h", "hours with any unserved load"),
    "islanded_hours": ("h", "hours the park ran islanded (grid link out)"),
    "dumped_mwh": ("MWh", "coal must-run energy no sink could take (dump load)"),
    "h2_demand_kg": ("kg", "hydrogen demanded: continuous offtake + trailer pick-ups"),
    "h2_delivered_total_kg": ("kg", "hydrogen delivered: continuous offtake + trailers"),
    "h2_delivered_share": ("-", "hydrogen delivered / demanded"),
    "trucks_charged": ("-", "trucks that started charging"),
    "truck_energy_mwh": ("MWh", "energy delivered to trucks"),
    "truck_wait_mean_h": ("h", "mean wait for a charger"),
    "truck_wait_p95_h": ("h", "95th percentile of the wait for a charger"),
    "truck_wait_max_h": ("h", "longest wait for a charger"),
    "coal_mwh": ("MWh", "captive coal generation"),
    "coal_starts": ("-", "coal unit starts"),
    "coal_full_load_hours": ("h", "coal MWh / rated MW"),
    "coal_start_cost_cny": ("CNY", "starts x start-up cost"),
    "coal_co2_t": ("tCO2", "coal MWh x gce/kWh x kgCO2/kgce / 1000"),
    "battery_capacity_end_pu": ("-", "battery capacity at the end / nameplate "
                                "(calendar and cycle fade)"),
    **{
        "fleet_visits": ("-", "truck visits to depots, swap and hydrogen stations"),
        "fleet_deadline_misses": ("-", "visits (deadline in the year) that left below the "
                                  "required state (depots) or late (swap and hydrogen "
                                  "stations)"),
        "fleet_shortfall_mwh": ("MWh", "energy trucks lacked at departure from depots"),
        "depot_energy_mwh": ("MWh", "energy charged into trucks at depots"),
        "swap_energy_mwh": ("MWh", "energy charged into packs at swap stations"),
        **{f"fleet_energy_{p}_mwh": ("MWh", f"energy charged at depots and swap stations "
                                            f"with policy '{p}'")
           for p in CHARGING_POLICIES},
        "fleet_charging_green_share": ("-", "renewable share of depot and swap charging: sum "
                                       "over steps of charging x min(1, local RES consumed "
                                       "/ gross park consumption) / charging, matched per "
                                       "step as h2_green_kg"),
        "depot_peak_mw": ("MW", "highest step-mean load of any depot or swap station"),
        "fleet_energy_shifted_mwh": ("MWh", "energy charged after an uncontrolled session "
                                     "at full power would have finished"),
        "depot_wait_mean_h": ("h", "mean wait for a depot charger (until departure for a "
                              "truck that never got one)"),
        "depot_wait_p95_h": ("h", "95th percentile of the wait for a depot charger"),
        "depot_wait_max_h": ("h", "longest wait for a depot charger"),
        "swap_wait_mean_h": ("h", "mean wait for a swap (a bay and a charged pack)"),
        "swap_wait_max_h": ("h", "longest wait for a swap"),
        "swap_packs_idle_mean": ("-", "pack-hours charged packs waited in stock / hours "
                                 "of the year: the mean number of charged packs idle"),
        "h2_station_kg": ("kg", "hydrogen dispensed to fuel-cell trucks from the park tank"),
        "h2_station_wait_mean_h": ("h", "mean wait for a hydrogen dispenser"),
        "h2_station_wait_max_h": ("h", "longest wait for a hydrogen dispenser"),
        "h2_station_compressor_mwh": ("MWh", "electricity of the stations' compressors "
                                      "(on the kg filled)"),
        "h2_station_shortfall_kg": ("kg", "hydrogen the fills asked for that the tank did "
                                    "not hold"),
    },
    "engine_events": ("-", "events the SimPy engine processed"),
    "engine_kernel_calls": ("-", "dispatch-kernel calls (intervals between state events)"),
}
CARBON_KPI_INFO: dict[str, tuple[str, str]] = {
    "co2_scope1_t": ("tCO2", "scope 1: captive coal CO2 (coal MWh x gce/kWh x kgCO2/kgce "
                     "/ 1000)"),
    "co2_scope2_location_t": ("tCO2", "scope 2 location-based: grid import x grid factor "
                              "(MEE/NBS table or per-step column)"),
    "co2_scope2_market_t": ("tCO2", "scope 2 market-based: (import - PPA and certificates "
                            "matched to it) x residual factor"),
    "co2_scope12_location_t": ("tCO2", "scope 1 + scope 2 location-based"),
    "co2_scope12_market_t": ("tCO2", "scope 1 + scope 2 market-based"),
    "net_consumption_mwh": ("MWh", "consumption met by own RES, direct lines, import and "
                            "coal on site (battery round trip excluded)"),
    "direct_line_mwh": ("MWh", "energy delivered by direct-line contracts"),
    "ppa_mwh": ("MWh", "PPA volume contracted for the period simulated"),
    "certificates_mwh": ("MWh", "green certificates for the period simulated"),
    "green_contract_cost_cny": ("CNY", "direct line delivered + PPA volume + certificates, "
                                "each x its price (not in net_cost_cny)"),
    "direct_line_surplus_mwh": ("MWh", "direct-line energy not consumed in its step "
                                "(exported): surplus, not counted green"),
    "ppa_surplus_mwh": ("MWh", "PPA volume beyond the imports it can cover under "
                        "market_matching: surplus, not counted green"),
    "certificates_surplus_mwh": ("MWh", "certificates beyond the imports left after the PPA "
                                 "(annual matching): surplus, not counted green"),
    "avoided_co2_t": ("tCO2", "own RES generation (used on site + exported) x displaced "
                      "factor; never netted against the emissions of the park"),
    "product_co2_t": ("tCO2", "scope 1 + 2 (footprint_scope2) attributed to loads with a "
                      "product"),
    "unattributed_co2_t": ("tCO2", "scope 1 + 2 (footprint_scope2) not attributed to a "
                           "product: hydrogen, battery charging, other loads, coal "
                           "exported or dumped"),
    "h2_tcab_low_carbon_kg": ("kg", "hydrogen of periods <= 14.51 kgCO2/kg (T/CAB "
                              "0078-2020 low-carbon; [carbon] h2_matching)"),
    "h2_tcab_clean_kg": ("kg", "hydrogen of periods <= 4.9 kgCO2/kg (T/CAB 0078-2020 "
                         "clean)"),
    "h2_tcab_renewable_kg": ("kg", "hydrogen of periods <= 4.9 kgCO2/kg with green share 1 "
                             "(T/CAB 0078-2020 renewable)"),
    "h2_rfnbo_kg": ("kg", "hydrogen of steps with green share 1, <= 3.384 kgCO2/kg and "
                    "additionality declared (EU RFNBO)"),
    "h2_target_class_kg": ("kg", "hydrogen meeting [carbon] h2_class (counted by "
                           "green_h2_t_per_yr_min)"),
}
for _lv, _what in (("hourly", "per time step"), ("monthly", "per calendar month"),
                   ("annual", "per calendar year")):
    CARBON_KPI_INFO[f"green_share_total_{_lv}"] = (
        "-", f"min(net consumption, own RES + direct line + PPA and certificates covering "
             f"imports), {_what}, / net consumption")
    CARBON_KPI_INFO[f"green_share_own_{_lv}"] = (
        "-", f"own RES claimed {_what} / net consumption")
    CARBON_KPI_INFO[f"green_share_contract_{_lv}"] = (
        "-", f"direct line + PPA + certificates claimed {_what} / net consumption")
for _rule, _what in (("grid_share", "physical mix of each step, location factor"),
                     ("hourly", "contracts matched per step, residual factor"),
                     ("monthly", "contracts matched per month, residual factor"),
                     ("annual", "contracts matched per year, residual factor")):
    CARBON_KPI_INFO[f"h2_kgco2_per_kg_{_rule}"] = (
        "kgCO2/kg", f"CO2 attributed to hydrogen / kg produced: {_what}")
KPI_INFO.update(CARBON_KPI_INFO)
#: economic KPIs (issue 14), computed by parkgrid.lifecycle, only with [economics]
ECONOMIC_KPI_INFO: dict[str, tuple[str, str]] = {
    "capex_total_cny": ("CNY", "investment of year 0: capex of every costed asset + "
                        "connection fee"),
    "operating_cost_cny_per_yr": ("CNY/yr", "net grid cost (net_cost_cny) + coal fuel and "
                                  "starts + variable O&M - hydrogen sales, every year"),
    "annualised_cost_cny_per_yr": ("CNY/yr", "net present cost x capital recovery factor "
                                   "CRF = r(1+r)^N / ((1+r)^N - 1)"),
    "net_present_cost_cny": ("CNY", "capex + replacements - salvage + fixed O&M + land + "
                             "operating cost of years 1..N, discounted at the real rate"),
    "reference_net_present_cost_cny": ("CNY", "net present cost of the reference design "
                                       "(economics.reference: grid only, or a scenario)"),
    "npv_cny": ("CNY", "net present value against the reference = its net present cost - "
                "the design's"),
    "payback_yr": ("yr", "discounted payback: from when on the cumulative discounted saving "
                   "against the reference stays >= 0 (inf: never)"),
    "lcoe_res_cny_per_mwh": ("CNY/MWh", "annualised cost of PV and wind (capex, "
                             "replacements, O&M) / their energy used (available - "
                             "curtailed)"),
    "lcoh_cny_per_kg": ("CNY/kg", "(annualised electrolyser and tank cost + electricity at "
                        "the attributed price: each step's supply mix, grid at its tariff, "
                        "coal at its fuel cost, RES at lcoe_res, battery at 0, plus a share "
                        "of the capacity charge) / kg produced"),
    "lcos_cny_per_mwh": ("CNY/MWh", "annualised battery cost / MWh discharged (charging "
                         "electricity not included)"),
    "co2_abatement_cost_cny_per_t": ("CNY/tCO2", "(annualised cost - that of the reference) "
                                     "/ (reference CO2 - co2_total_t) per year"),
}
KPI_INFO.update(NETWORK_KPI_INFO)
KPI_INFO.update(ENGINE_KPI_INFO)
KPI_INFO.update(ECONOMIC_KPI_INFO)

#: KPIs that count things (steps, events, starts, trucks): whole numbers by definition,
#: written without decimals in tables. Every other dimensionless KPI is a quotient.
COUNT_KPIS: frozenset[str] = frozenset({
    "pf_steps", "pf_steps_not_converged", "steps_voltage_violation", "steps_overloaded",
    "trucks_charged", "coal_starts", "engine_events", "engine_kernel_calls",
    "pf_unsupplied_buses", "pf_unsupplied_steps", "tap_operations",
    "pf_control_unsettled_steps", "network_enforced_steps", "network_unresolved_steps",
    "fleet_visits", "fleet_deadline_misses",
})


@dataclass(frozen=True)
class KpiParams:
    """Scenario figures the KPIs need besides the time series.

    Energies [MWh], prices [CNY/MWh], emission factor [kgCO2/kWh].
    """

    dt_h: float
    ef_kg_per_kwh: float
    bat_usable_mwh: float = 0.0
    bat_e_initial_mwh: float = 0.0
    el_rated_mw: float = 0.0
    export_price_cny_per_mwh: float = 0.0
    capacity_charge_cny_per_mw_month: float = 0.0
    coal_t_per_mwh: tuple[tuple[str, float], ...] = ()
    """``(unit name, tCO2 per MWh generated)`` of each captive coal unit; its output is
    the time-series column ``coal.<name>.p_mw``."""

    @classmethod
    def from_scenario(cls, scenario: Scenario, *, dt_h: float,
                      bat_e_initial_mwh: float = 0.0) -> KpiParams:
        """Return the figures of a validated scenario.

        *bat_e_initial_mwh* is the stored energy at the start: a simulation knows it,
        metered data without state of charge does not (0).
        """
        g = scenario.grid
        return cls(
            dt_h=dt_h, ef_kg_per_kwh=g.ef_kg_per_kwh,
            bat_usable_mwh=float(sum(b.e_mwh * (b.soc_max_pu - b.soc_min_pu)
                                     for b in scenario.battery)),
            bat_e_initial_mwh=bat_e_initial_mwh,
            el_rated_mw=float(sum(e.p_mw for e in scenario.electrolyser)),
            export_price_cny_per_mwh=g.export_price_cny_per_mwh,
            capacity_charge_cny_per_mw_month=g.capacity_charge_cny_per_mw_month,
            coal_t_per_mwh=tuple((u.name, u.co2_t_per_mwh) for u in scenario.coal),
        )


def _col(ts: pd.DataFrame, name: str) -> np.ndarray:
    return ts[name].to_numpy(dtype=float) if name in ts else np.zeros(len(ts))


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def compute_kpis(ts: pd.DataFrame, p: KpiParams) -> dict[str, float]:
    """Energy, hydrogen, storage, CO2 and cost KPIs of a dispatch time series.

    *ts* uses the column names of :func:`parkgrid.simulate.simulate`'s
    time series (``res_avail_mw``, ``grid_import_mw`` ...). Missing optional
    columns count as zero.
    """
    dt = p.dt_h
    pv, wind = _col(ts, "pv_avail_mw"), _col(ts, "wind_avail_mw")
    res = pv + wind
    curt, exp = _col(ts, "curtailed_mw"), _col(ts, "grid_export_mw")
    surplus_e = curt.sum() * dt
    if "curtailed_network_mw" in ts:  # network-aware dispatch: both kinds are curtailed
        curt = curt + _col(ts, "curtailed_network_mw")
    imp = _col(ts, "grid_import_mw")
    load, unserved = _col(ts, "load_mw"), _col(ts, "unserved_mw")
    el = _col(ts, "electrolyser_mw")
    ch, dis = _col(ts, "bat_charge_mw"), _col(ts, "bat_discharge_mw")
    e_stored = _col(ts, "bat_e_mwh")

    # a direct-line green contract is supply but not the park's own RES: exports are
    # taken from it first (as in parkgrid.carbon), the rest of it is used on site
    line = _col(ts, "direct_line_mw")
    exp_own = np.maximum(exp - line, 0.0) if "direct_line_mw" in ts else exp
    line_used = line - np.minimum(exp, line)
    res_e = res.sum() * dt
    curt_e, exp_e, imp_e = curt.sum() * dt, exp.sum() * dt, imp.sum() * dt
    exp_own_e = exp_own.sum() * dt
    ch_e, dis_e = ch.sum() * dt, dis.sum() * dt
    e_end = float(e_stored[-1]) if len(e_stored) else p.bat_e_initial_mwh
    storage_losses = ch_e - dis_e - (e_end - p.bat_e_initial_mwh)
    served = load - unserved
    consumption = (served.sum() + el.sum()) * dt + storage_losses

    net_cons = served + el + ch - dis  # per step, equals local RES consumed + import
    local_res = res - curt - exp_own
    h2_step_kg = _col(ts, "h2_produced_kg")
    h2_kg = h2_step_kg.sum()
    ef = p.ef_kg_per_kwh  # kg/kWh == t/MWh
    if "ef_location_kg_per_kwh" in ts:  # [grid] emission_factor_column: per step
        ef_step = _col(ts, "ef_location_kg_per_kwh")
        grid_co2_t = float((imp * ef_step).sum() * dt)
        ef = grid_co2_t / imp_e if imp_e > 0 else float(ef_step.mean())
    else:
        ef_step = np.full(len(ts), ef)
        grid_co2_t = imp_e * ef
    # Per step, every consumer (loads, electrolysers, battery charging) gets the
    # same mix of the step's supply: local RES (exports taken from RES first),
    # grid import, coal consumed in the park, battery discharge (neither green
    # nor emitting: its charging already took its share).
    coal_mw, coal_t = np.zeros(len(ts)), np.zeros(len(ts))
    for name, t_per_mwh in p.coal_t_per_mwh:
        unit_mw = _col(ts, asset_column("coal", name, "p_mw"))
        coal_mw += unit_mw
        coal_t += unit_mw * dt * t_per_mwh
    gross = served + el + ch
    res_used = np.maximum(local_res, 0.0)
    coal_used = np.clip(gross - dis - imp - res_used - line_used, 0.0, coal_mw)
    co2_used_t = imp * dt * ef_step + np.divide(coal_used * coal_t, coal_mw,
                                           out=np.zeros_like(coal_t), where=coal_mw > 0)
    el_part = np.divide(el, gross, out=np.zeros_like(el), where=gross > 1e-12)
    green_part = np.minimum(np.divide(res_used, gross, out=np.zeros_like(el),
                                      where=gross > 1e-12), 1.0)

    price = _col(ts, "price_cny_per_mwh")
    if isinstance(ts.index, pd.DatetimeIndex) and len(ts):
        monthly_peak = pd.Series(imp, index=ts.index).groupby(ts.index.month).max()
    else:
        monthly_peak = pd.Series([imp.max() if len(imp) else 0.0])
    energy_cost = float((imp * price).sum() * dt)
    capacity = float(monthly_peak.sum() * p.capacity_charge_cny_per_mw_month)
    revenue = exp_e * p.export_price_cny_per_mwh

    return {
        "pv_available_mwh": pv.sum() * dt,
        "wind_available_mwh": wind.sum() * dt,
        "res_available_mwh": res_e,
        "curtailed_mwh": surplus_e,
        **({"curtailed_network_mwh": _col(ts, "curtailed_network_mw").sum() * dt}
           if "curtailed_network_mw" in ts else {}),
        "exported_mwh": exp_e,
        "imported_mwh": imp_e,
        "self_consumption_ratio": _ratio(res_e - curt_e - exp_own_e, res_e),
        "res_utilisation": 1.0 - _ratio(curt_e, res_e) if res_e > 0 else float("nan"),
        "load_mwh": load.sum() * dt,
        "unserved_mwh": unserved.sum() * dt,
        "consumption_mwh": consumption,
        "self_sufficiency": _ratio(consumption - imp_e, consumption),
        "green_share_annual": min(1.0, _ratio(res_e - curt_e, consumption)),
        "green_share_hourly": _ratio(np.minimum(local_res, net_cons).sum(), net_cons.sum()),
        "peak_import_mw": float(imp.max()) if len(imp) else 0.0,
        "peak_export_mw": float(exp.max()) if len(exp) else 0.0,
        "electrolyser_mwh": el.sum() * dt,
        "h2_produced_kg": h2_kg,
        "h2_delivered_kg": _col(ts, "h2_delivered_kg").sum(),
        "h2_shortfall_kg": _col(ts, "h2_shortfall_kg").sum(),
        "electrolyser_full_load_hours": _ratio(el.sum() * dt, p.el_rated_mw),
        "h2_green_kg": float((h2_step_kg * green_part).sum()),
        "h2_kgco2_per_kg": _ratio((el_part * co2_used_t).sum() * 1000.0, h2_kg),
        "battery_charged_mwh": ch_e,
        "battery_discharged_mwh": dis_e,
        "storage_losses_mwh": storage_losses,
        "battery_equivalent_full_cycles": _ratio(dis_e, p.bat_usable_mwh),
        "co2_t": grid_co2_t,
        "co2_total_t": grid_co2_t + float(coal_t.sum()),
        "emission_factor_kg_per_kwh": ef,
        "energy_cost_cny": energy_cost,
        "capacity_charge_cny": capacity,
        "export_revenue_cny": revenue,
        "net_cost_cny": energy_cost + capacity - revenue,
    }


def network_kpis(
    pf: Any, *, dt_h: float, vm_min_pu: float = NetworkLimits.vm_min_pu,
    vm_max_pu: float = NetworkLimits.vm_max_pu,
    loading_max_percent: float = NetworkLimits.loading_max_percent,
) -> dict[str, float]:
    """Network KPIs over the steps a power flow solved (``pf`` is a TimeseriesPF)."""
    ok = pf.converged.to_numpy(dtype=bool)
    vm = pf.vm_pu.to_numpy()[ok]
    line = pf.line_loading_percent.to_numpy()[ok]
    trafo = pf.trafo_loading_percent.to_numpy()[ok]
    vmin = np.nanmin(vm, axis=1) if vm.size else np.zeros(0)
    vmax = np.nanmax(vm, axis=1) if vm.size else np.zeros(0)
    line_max = np.nanmax(line, axis=1) if line.size else np.zeros(int(ok.sum()))
    trafo_max = np.nanmax(trafo, axis=1) if trafo.size else np.zeros(int(ok.sum()))
    return {
        "pf_steps": float(len(ok)),
        "pf_steps_not_converged": float((~ok).sum()),
        "losses_mwh": float(pf.losses_mw.to_numpy()[ok].sum() * dt_h),
        "vm_min_pu": float(vmin.min()) if vmin.size else float("nan"),
        "vm_max_pu": float(vmax.max()) if vmax.size else float("nan"),
        "steps_voltage_violation": float(((vmin < vm_min_pu) | (vmax > vm_max_pu)).sum()),
        "line_loading_max_percent": float(line_max.max()) if line_max.size else float("nan"),
        "line_loading_p99_percent": (float(np.percentile(line_max, 99))
                                     if line_max.size else float("nan")),
        "trafo_loading_max_percent": float(trafo_max.max()) if trafo_max.size else float("nan"),
        "steps_overloaded": float(((line_max > loading_max_percent)
                                   | (trafo_max > loading_max_percent)).sum()),
        **_unsupplied_kpis(pf, dt_h),
        **_control_kpis(pf, dt_h),
    }


def _control_kpis(pf: Any, dt_h: float) -> dict[str, float]:
    """KPIs of the voltage controllers (none without controls)."""
    settled = getattr(pf, "control_settled", None)
    if settled is None:
        return {}
    ok = pf.converged.to_numpy(dtype=bool)
    q = pf.q_control_mvar.to_numpy(dtype=float)[ok]
    return {
        "tap_operations": float(np.abs(pf.tap_moves.to_numpy()[ok]).sum()),
        "q_u_absorbed_mvarh": float(np.clip(-q, 0.0, None).sum() * dt_h),
        "q_u_injected_mvarh": float(np.clip(q, 0.0, None).sum() * dt_h),
        "pf_control_unsettled_steps": float((~settled.to_numpy(dtype=bool)[ok]).sum()),
    }


def _unsupplied_kpis(pf: Any, dt_h: float) -> dict[str, float]:
    """KPIs of buses cut off from the grid (every step solved, converged or not)."""
    buses = getattr(pf, "unsupplied_buses", None)
    if buses is None:  # a reduced record (bench) without the topology fields
        return {}
    cut = [b for b in buses if len(b)]
    return {
        "pf_unsupplied_buses": float(len({int(b) for step in cut for b in step})),
        "pf_unsupplied_steps": float(len(cut)),
        "pf_not_served_mwh": float(pf.unsupplied_load_mw.to_numpy(dtype=float).sum() * dt_h),
        "pf_isolated_generation_mwh": float(pf.unsupplied_gen_mw.to_numpy(dtype=float).sum()
                                            * dt_h),
    }


def engine_kpis(ts: pd.DataFrame, events: EngineResult | None, scenario: Scenario,
                dt_h: float) -> dict[str, float]:
    """KPIs of events and stateful assets.

    *events* is the SimPy engine's record of the run, or ``None`` for a strategy
    without events (``optimal``): no trailers, trucks or events then.
    """
    trailers = events.trailers if events is not None else ()
    out: dict[str, float] = {}
    for cat in ("industrial", "charging", "services"):
        out[f"unserved_{cat}_mwh"] = float(_col(ts, f"unserved_{cat}_mw").sum() * dt_h)
    out["loss_of_load_hours"] = float((_col(ts, "unserved_mw") > 1e-9).sum() * dt_h)
    out["islanded_hours"] = float(_col(ts, "islanded").sum() * dt_h)
    out["dumped_mwh"] = float(_col(ts, "dumped_mw").sum() * dt_h)
    trailer_demand = sum(r["demanded_kg"] for r in trailers)
    trailer_delivered = sum(r["delivered_kg"] for r in trailers)
    delivered = _col(ts, "h2_delivered_kg").sum() + trailer_delivered
    demand = delivered + _col(ts, "h2_shortfall_kg").sum() + (trailer_demand
                                                               - trailer_delivered)
    if np.isfinite(demand) and scenario.hydrogen is not None:
        out["h2_demand_kg"] = float(demand)
        out["h2_delivered_total_kg"] = float(delivered)
        out["h2_delivered_share"] = _ratio(delivered, demand)
    if scenario.trucks is not None:
        waits = events.trucks.wait_h if events is not None else np.zeros(0)
        energy = events.trucks.energy_mwh.tolist() if events is not None else []
        out["trucks_charged"] = float(len(waits))
        out["truck_energy_mwh"] = float(sum(energy))  # in arrival order, one by one
        out["truck_wait_mean_h"] = float(waits.mean()) if waits.size else 0.0
        out["truck_wait_p95_h"] = float(np.percentile(waits, 95)) if waits.size else 0.0
        out["truck_wait_max_h"] = float(waits.max()) if waits.size else 0.0
    if scenario.coal:
        mwh = co2 = starts = cost = 0.0
        for unit in scenario.coal:
            e = _col(ts, asset_column("coal", unit.name, "p_mw")).sum() * dt_h
            n = _col(ts, asset_column("coal", unit.name, "start")).sum()
            mwh += e
            starts += n
            cost += n * unit.start_cost_cny
            co2 += e * unit.co2_t_per_mwh
        out["coal_mwh"] = float(mwh)
        out["coal_starts"] = float(starts)
        out["coal_full_load_hours"] = _ratio(mwh, sum(u.p_max_mw for u in scenario.coal))
        out["coal_start_cost_cny"] = float(cost)
        out["coal_co2_t"] = float(co2)
    if scenario.battery:
        cap = sum(_col(ts, asset_column("battery", b.name, "capacity_mwh"))[-1]
                  for b in scenario.battery)
        out["battery_capacity_end_pu"] = _ratio(cap, sum(b.e_mwh for b in scenario.battery))
    if events is not None and events.fleet:
        out.update(fleet_kpis(ts, events.fleet, dt_h))
    out["engine_events"] = float(events.n_events) if events is not None else 0.0
    out["engine_kernel_calls"] = float(events.n_kernel_calls) if events is not None else 0.0
    return out


def _stat(x: np.ndarray, how: str) -> float:
    if not x.size:
        return 0.0
    if how == "p95":
        return float(np.percentile(x, 95))
    return float(x.mean() if how == "mean" else x.max())


def fleet_kpis(ts: pd.DataFrame, logs: Any, dt_h: float) -> dict[str, float]:
    """KPIs of the truck stations from their logs (:class:`parkgrid.engine.fleet.FleetLog`)."""
    n = len(ts)
    res_used = np.maximum(_col(ts, "res_avail_mw") - _col(ts, "curtailed_mw")
                          - _col(ts, "grid_export_mw"), 0.0)
    gross = (_col(ts, "load_mw") - _col(ts, "unserved_mw") + _col(ts, "electrolyser_mw")
             + _col(ts, "bat_charge_mw"))
    green = np.minimum(np.divide(res_used, gross, out=np.zeros(n), where=gross > 1e-12), 1.0)
    out = {"fleet_visits": 0.0, "fleet_deadline_misses": 0.0, "fleet_shortfall_mwh": 0.0,
           "depot_energy_mwh": 0.0, "swap_energy_mwh": 0.0, "depot_peak_mw": 0.0,
           "fleet_energy_shifted_mwh": 0.0, "h2_station_kg": 0.0,
           "h2_station_compressor_mwh": 0.0, "h2_station_shortfall_kg": 0.0,
           **{f"fleet_energy_{p}_mwh": 0.0 for p in CHARGING_POLICIES}}
    waits: dict[str, list[np.ndarray]] = {"depot": [], "swap": [], "h2": []}
    charging = np.zeros(n)
    idle = 0.0
    for lg in logs:
        st = lg.station
        p = _col(ts, asset_column("load", st.name, "p_mw"))
        out["fleet_visits"] += len(st.arrival)
        out["fleet_deadline_misses"] += float(lg.miss.sum())
        waits[st.kind].append(lg.wait_h)
        if st.kind == "h2":
            out["h2_station_kg"] += float(lg.delivered.sum())
            out["h2_station_compressor_mwh"] += float(p.sum() * dt_h)
            out["h2_station_shortfall_kg"] += float(lg.asked_kg.sum() - lg.delivered.sum())
            continue
        energy = float(lg.energy.sum())
        key = "depot_energy_mwh" if st.kind == "depot" else "swap_energy_mwh"
        out[key] += energy
        out[f"fleet_energy_{st.policy_name}_mwh"] += energy
        out["fleet_energy_shifted_mwh"] += float(lg.shifted_mwh.sum())
        out["depot_peak_mw"] = max(out["depot_peak_mw"], float(p.max()) if n else 0.0)
        charging += p
        if st.kind == "depot":
            out["fleet_shortfall_mwh"] += float((st.need - lg.delivered)[lg.miss].sum())
        else:
            idle += lg.packs_idle_steps
    w = {k: np.concatenate(v) if v else np.zeros(0) for k, v in waits.items()}
    out.update({
        "fleet_charging_green_share": _ratio(float((charging * green).sum()),
                                             float(charging.sum())),
        "depot_wait_mean_h": _stat(w["depot"], "mean"),
        "depot_wait_p95_h": _stat(w["depot"], "p95"),
        "depot_wait_max_h": _stat(w["depot"], "max"),
        "swap_wait_mean_h": _stat(w["swap"], "mean"),
        "swap_wait_max_h": _stat(w["swap"], "max"),
        "swap_packs_idle_mean": idle / n if n else 0.0,
        "h2_station_wait_mean_h": _stat(w["h2"], "mean"),
        "h2_station_wait_max_h": _stat(w["h2"], "max"),
    })
    return out
