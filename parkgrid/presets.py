"""Storage technology presets named in the pilot plan (lithium, flow, CAES, flywheel).

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

__all__ = ["BATTERY_PRESETS"]

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
