"""Key performance indicators, each defined once.

All energy KPIs are computed from the dispatch balance (copper plate: network
losses are not part of it); network KPIs come from the power flow of the steps
that were solved and say how many those were. Definitions are in ``KPI_INFO``
and in the README; the two must stay word for word the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["KPI_INFO", "KpiParams", "compute_kpis", "network_kpis"]

# name: (unit, definition)
KPI_INFO: dict[str, tuple[str, str]] = {
    "pv_available_mwh": ("MWh", "PV energy available before curtailment"),
    "wind_available_mwh": ("MWh", "wind energy available before curtailment"),
    "res_available_mwh": ("MWh", "RES available = PV + wind available"),
    "curtailed_mwh": ("MWh", "RES energy curtailed"),
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
    "h2_kgco2_per_kg": ("kgCO2/kg", "grid CO2 attributed to hydrogen: per step the "
                        "electrolyser takes the grid share import / net park consumption"),
    "battery_charged_mwh": ("MWh", "AC energy into the batteries"),
    "battery_discharged_mwh": ("MWh", "AC energy out of the batteries"),
    "storage_losses_mwh": ("MWh", "charged - discharged - change of stored energy"),
    "battery_equivalent_full_cycles": ("-", "discharged MWh / usable MWh "
                                       "(usable = e_mwh x (soc_max - soc_min))"),
    "co2_t": ("tCO2", "grid import x emission factor"),
    "emission_factor_kg_per_kwh": ("kgCO2/kWh", "emission factor applied to imports"),
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
}
KPI_INFO.update(NETWORK_KPI_INFO)


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
    imp = _col(ts, "grid_import_mw")
    load, unserved = _col(ts, "load_mw"), _col(ts, "unserved_mw")
    el = _col(ts, "electrolyser_mw")
    ch, dis = _col(ts, "bat_charge_mw"), _col(ts, "bat_discharge_mw")
    e_stored = _col(ts, "bat_e_mwh")

    res_e = res.sum() * dt
    curt_e, exp_e, imp_e = curt.sum() * dt, exp.sum() * dt, imp.sum() * dt
    ch_e, dis_e = ch.sum() * dt, dis.sum() * dt
    e_end = float(e_stored[-1]) if len(e_stored) else p.bat_e_initial_mwh
    storage_losses = ch_e - dis_e - (e_end - p.bat_e_initial_mwh)
    served = load - unserved
    consumption = (served.sum() + el.sum()) * dt + storage_losses

    net_cons = served + el + ch - dis  # per step, equals local RES consumed + import
    local_res = res - curt - exp
    grid_share = np.divide(imp, net_cons, out=np.zeros_like(imp), where=net_cons > 1e-12)
    h2_kg = _col(ts, "h2_produced_kg").sum()
    ef = p.ef_kg_per_kwh  # kg/kWh == t/MWh

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
        "curtailed_mwh": curt_e,
        "exported_mwh": exp_e,
        "imported_mwh": imp_e,
        "self_consumption_ratio": _ratio(res_e - curt_e - exp_e, res_e),
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
        "h2_kgco2_per_kg": _ratio((el * grid_share).sum() * dt * ef * 1000.0, h2_kg),
        "battery_charged_mwh": ch_e,
        "battery_discharged_mwh": dis_e,
        "storage_losses_mwh": storage_losses,
        "battery_equivalent_full_cycles": _ratio(dis_e, p.bat_usable_mwh),
        "co2_t": imp_e * ef,
        "emission_factor_kg_per_kwh": ef,
        "energy_cost_cny": energy_cost,
        "capacity_charge_cny": capacity,
        "export_revenue_cny": revenue,
        "net_cost_cny": energy_cost + capacity - revenue,
    }


def network_kpis(
    pf: Any, *, dt_h: float, vm_min_pu: float = 0.95, vm_max_pu: float = 1.05,
    loading_max_percent: float = 100.0,
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
    }
