"""Technology presets: storage behaviour and asset costs, each value with its source.

Storage technologies named in the pilot plan (lithium, flow, CAES, flywheel):

A ``[[battery]]`` with ``technology = "..."`` takes these values for every key it
does not set itself. Values are typical figures within the published ranges:

* round-trip efficiencies (AC to AC) from Mongird et al., *2020 Grid Energy
  Storage Technology Cost and Performance Assessment*, PNNL-28866 (2020):
  LFP ≈ 0.86, vanadium redox flow ≈ 0.70, CAES ≈ 0.52 (diabatic); each split
  evenly into charge and discharge efficiency (η = √RTE);
* self-discharge and flywheel efficiency from Luo et al., "Overview of current
  development in electrical energy storage technologies and the application
  potential in power system operation", *Applied Energy* 137 (2015) 511–536,
  doi:10.1016/j.apenergy.2014.09.081 (Li-ion 0.1–0.3 %/day; flow and CAES small;
  flywheels lose most of their energy within a day; flywheel efficiency 90–95 %
  one way);
* cycle and calendar fade: LFP about 6,000 equivalent full cycles to 80 % of
  capacity and about 1 %/year calendar fade (same sources' ranges); flow, CAES
  and flywheels are taken as not fading within a year.
"""

from __future__ import annotations

import math

__all__ = ["BATTERY_PRESETS", "COST_KEYS", "COST_PRESETS", "merged_costs"]

_H_PER_YEAR = 8760.0

BATTERY_PRESETS: dict[str, dict[str, float]] = {
    "lfp": {
        "eta_charge": math.sqrt(0.86), "eta_discharge": math.sqrt(0.86),
        "soc_min_pu": 0.05, "soc_max_pu": 0.95,
        "self_discharge_pu_per_h": 0.002 / 24, "c_rate_max": 1.0,
        "fade_calendar_pu_per_year": 0.01, "fade_cycle_pu_per_efc": 0.2 / 6000,
    },
    "vanadium_flow": {
        "eta_charge": math.sqrt(0.70), "eta_discharge": math.sqrt(0.70),
        "soc_min_pu": 0.1, "soc_max_pu": 0.9,
        "self_discharge_pu_per_h": 0.0, "c_rate_max": 0.5,
        "fade_calendar_pu_per_year": 0.0, "fade_cycle_pu_per_efc": 0.0,
    },
    "caes": {
        "eta_charge": math.sqrt(0.52), "eta_discharge": math.sqrt(0.52),
        "soc_min_pu": 0.05, "soc_max_pu": 1.0,
        "self_discharge_pu_per_h": 0.0, "c_rate_max": 0.25,
        "fade_calendar_pu_per_year": 0.0, "fade_cycle_pu_per_efc": 0.0,
    },
    "flywheel": {
        "eta_charge": 0.93, "eta_discharge": 0.93,
        "soc_min_pu": 0.0, "soc_max_pu": 1.0,
        "self_discharge_pu_per_h": 0.05, "c_rate_max": 4.0,
        "fade_calendar_pu_per_year": 0.0, "fade_cycle_pu_per_efc": 0.0,
    },
}


# --------------------------------------------------------------------- costs
#: The cost keys of the schema a preset may set (``parkgrid.scenario.schema``).
COST_KEYS: tuple[str, ...] = (
    "capex_cny_per_kw", "capex_cny_per_kwh", "capex_cny_per_kg",
    "fixed_om_cny_per_kw_yr", "fixed_om_pct_per_yr", "variable_om_cny_per_mwh",
    "lifetime_yr", "replacement_cost_pu", "end_of_life_capacity_pu", "stack_life_h",
)

# China cost levels 2024-2025 in CNY of 2024, for the ``technology`` key of each asset.
# Capex is the installed (EPC) cost unless stated. Economic lives are at most 25 years,
# the life IRENA's cost reports assume for PV and onshore wind, so that every preset
# fits the default project life of 25 years (a longer physical life is not credited).
# Where a figure could not be checked against the document here (no internet), the
# comment says "not verified": it is our best estimate of the published level, and a
# scenario should override it with its own quotation.
COST_PRESETS: dict[str, dict[str, float]] = {
    # utility-scale (ground-mounted) PV. China Photovoltaic Industry Association (CPIA),
    # "China PV Industry Development Roadmap 2023-2024 edition" (2024): ground-mounted
    # system initial investment about 3.1 CNY/W in 2024 and O&M about 0.04 CNY/(W.yr);
    # IRENA, "Renewable Power Generation Costs in 2023" (2024), reports China's
    # utility-scale installed cost as the lowest of the large markets, well under its
    # global weighted average of USD 758/kW. Not verified: figures recalled, not checked
    # against the documents. Checked: IRENA's China utility-scale PV LCOE for 2023 is
    # USD 0.036/kWh (pv magazine, 27 Sep 2024, on IRENA "Renewable Power Generation
    # Costs in 2023"). This preset costs 282,500 CNY/(MW.yr) annualised at a 6 % real
    # rate over 25 years, about 150 CNY/MWh (USD 0.021/kWh) at the 1,900 full-load hours
    # of Ordos, below that national average as Ordos yields are above China's average.
    "pv": {"capex_cny_per_kw": 3100.0, "fixed_om_cny_per_kw_yr": 40.0,
           "variable_om_cny_per_mwh": 0.0, "lifetime_yr": 25.0},
    # onshore wind in northern China. IRENA, "Renewable Power Generation Costs in 2023"
    # (2024): China's onshore wind installed cost is the lowest of the large markets
    # (global weighted average USD 1,160/kW); turbine bid prices in China fell below
    # 1,500 CNY/kW in 2024 (trade press on China's state-owned generators' tenders,
    # 2024). Not verified: 4,500 CNY/kW installed and 2 %/yr O&M are estimates within
    # those ranges, not a quoted figure.
    "onshore_wind": {"capex_cny_per_kw": 4500.0, "fixed_om_pct_per_yr": 2.0,
                     "variable_om_cny_per_mwh": 0.0, "lifetime_yr": 25.0},
    # LFP battery. China Energy Engineering Corporation's 2025 LFP storage-system
    # procurement (25 GWh, bids opened June 2025), as reported by ESS News, "China
    # Energy Engineering launches record 25 GWh storage tender as prices hit historic
    # low" (26 June 2025), citing CNESA for market data: 4-hour systems averaged
    # 0.4249 CNY/Wh (2-hour 0.4646 CNY/Wh). That is equipment; the per-kW part
    # (installation, grid connection, civil works: 300 CNY/kW), the 2 %/yr O&M, the
    # 15-year life and 70 % end-of-life capacity are estimates, not verified.
    "lfp": {"capex_cny_per_kwh": 425.0, "capex_cny_per_kw": 300.0,
            "fixed_om_pct_per_yr": 2.0, "variable_om_cny_per_mwh": 0.0,
            "lifetime_yr": 15.0, "end_of_life_capacity_pu": 0.7},
    # vanadium redox flow. China's 2024 flow-battery tenders (4-hour systems) were
    # reported around 2-2.5 CNY/Wh (CNESA market reports, 2024). Not verified: figure
    # recalled; 20-year life and 1.5 %/yr O&M are estimates.
    "vanadium_flow": {"capex_cny_per_kwh": 2300.0, "capex_cny_per_kw": 0.0,
                      "fixed_om_pct_per_yr": 1.5, "lifetime_yr": 20.0},
    # compressed-air storage (advanced adiabatic, 4-8 h). Chinese 300 MW-class plants
    # of 2022-2024 (e.g. Hubei Yingcheng, about 1.95 billion CNY for 300 MW, as
    # reported at its commissioning in 2024) cost roughly 6,500 CNY/kW. Not verified:
    # figure recalled from press reports; 25-year economic life, 1.5 %/yr O&M estimates.
    "caes": {"capex_cny_per_kw": 6500.0, "capex_cny_per_kwh": 0.0,
             "fixed_om_pct_per_yr": 1.5, "lifetime_yr": 25.0},
    # flywheel (frequency regulation, minutes of storage). No published China price
    # could be checked here; 4,000 CNY/kW, 2 %/yr and 20 years are estimates, not
    # verified.
    "flywheel": {"capex_cny_per_kw": 4000.0, "capex_cny_per_kwh": 0.0,
                 "fixed_om_pct_per_yr": 2.0, "lifetime_yr": 20.0},
    # alkaline electrolyser (system with installation). BloombergNEF, "1H 2022 Hydrogen
    # Market Outlook" (2022), as reported by Recharge News (2022): a Chinese alkaline
    # system cost USD 300/kW in 2021 including on-site installation and civil works
    # (USD 1,200/kW in the West); China Renewable Energy Engineering Institute (CREEI,
    # 2024), as reported by trade press: Chinese alkaline prices fell 33 % from 2022 to
    # 2024. 2,500 CNY/kW (about USD 350/kW) adds rectifiers and gas purification to
    # the BNEF system figure: that uplift, the 80,000 h stack life, the stack
    # replacement at 35 % of the capex and 2 %/yr O&M are estimates, not verified.
    # (IEA, "Global Hydrogen Review 2024", gives higher installed costs for complete
    # projects; its figures could not be checked here.)
    "alkaline": {"capex_cny_per_kw": 2500.0, "fixed_om_pct_per_yr": 2.0,
                 "variable_om_cny_per_mwh": 0.0, "lifetime_yr": 25.0,
                 "stack_life_h": 80000.0, "replacement_cost_pu": 0.35},
    # PEM electrolyser. BNEF (same report, 2022): Western PEM systems USD 1,400/kW
    # against USD 1,200/kW for alkaline; CREEI (2024): Chinese PEM prices fell 40 %
    # from 2022 to 2024. Not verified: 7,000 CNY/kW (Chinese PEM at roughly 2.5 times
    # alkaline), 60,000 h stack life and stack replacement at 35 % are estimates.
    "pem": {"capex_cny_per_kw": 7000.0, "fixed_om_pct_per_yr": 2.0,
            "variable_om_cny_per_mwh": 0.0, "lifetime_yr": 25.0,
            "stack_life_h": 60000.0, "replacement_cost_pu": 0.35},
    # compressed-hydrogen buffer storage (about 20 MPa steel vessels), per kg usable.
    # Not verified: no published China figure could be checked here; 3,500 CNY/kg is
    # an estimate, in the range of published pressure-vessel costs of USD 400-700/kg.
    "compressed_h2": {"capex_cny_per_kg": 3500.0, "fixed_om_pct_per_yr": 2.0,
                      "lifetime_yr": 25.0},
    # grid connection (110 kV substation bay, transformer and line), per kW of the
    # larger finite grid limit. Not verified: 400 CNY/kW and 1 %/yr O&M are estimates.
    "grid_connection": {"capex_cny_per_kw": 400.0, "fixed_om_pct_per_yr": 1.0,
                        "lifetime_yr": 25.0},
}


def merged_costs(given: dict[str, object]) -> dict[str, float]:
    """Return the cost keys of one asset: its ``technology`` preset, overridden by *given*.

    *given* is the asset's table (schema keys; ``None`` = not given). Keys neither
    given nor in the preset are absent from the result. A fixed O&M given one way
    (per kW-year or as a percentage of capex) replaces the preset's other way.
    """
    out = dict(COST_PRESETS.get(str(given.get("technology") or ""), {}))
    # fixed O&M is one of two keys: the one given replaces the preset's other
    for key, other in (("fixed_om_cny_per_kw_yr", "fixed_om_pct_per_yr"),
                       ("fixed_om_pct_per_yr", "fixed_om_cny_per_kw_yr")):
        if given.get(key) is not None:
            out.pop(other, None)
    for key in COST_KEYS:
        value = given.get(key)
        if value is not None:
            out[key] = float(value)  # type: ignore[arg-type]
    return out
