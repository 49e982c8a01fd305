"""KPI targets of a scenario's ``[targets]`` section, checked against KPIs.

Each key of ``[targets]`` (see :mod:`parkgrid.scenario.schema`) names one KPI, a
direction and a scale: ``green_h2_t_per_yr_min = 400`` means "at least 400 t of
green hydrogen a year", checked against ``h2_green_kg / 1000``.

The targets count what a carbon auditor counts: ``co2_t_max`` is checked against
``co2_total_t`` (scope 1 captive coal + scope 2 location-based grid CO2),
``h2_kgco2_per_kg_max`` against hydrogen's share of grid and coal CO2, and
``green_h2_t_per_yr_min`` against hydrogen that meets the class ``[carbon] h2_class``
under ``h2_matching`` (``h2_target_class_kg``, :mod:`parkgrid.carbon`), not all
hydrogen produced.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["TARGETS", "TargetCheck", "check_targets"]

# target key: (KPI name, ">=" or "<=", factor from KPI unit to target unit, target unit)
TARGETS: dict[str, tuple[str, str, float, str]] = {
    "clean_power_share_min": ("green_share_annual", ">=", 1.0, "-"),
    "green_share_hourly_min": ("green_share_hourly", ">=", 1.0, "-"),
    "self_consumption_ratio_min": ("self_consumption_ratio", ">=", 1.0, "-"),
    "self_sufficiency_min": ("self_sufficiency", ">=", 1.0, "-"),
    "res_utilisation_min": ("res_utilisation", ">=", 1.0, "-"),
    "green_h2_t_per_yr_min": ("h2_target_class_kg", ">=", 1e-3, "t/yr"),
    "co2_t_max": ("co2_total_t", "<=", 1.0, "tCO2"),
    "h2_kgco2_per_kg_max": ("h2_kgco2_per_kg", "<=", 1.0, "kgCO2/kg"),
}


@dataclass(frozen=True)
class TargetCheck:
    """One target against the value reached.

    ``value`` and ``target`` are in the target's unit (``unit``); ``passed`` is
    ``None`` when the KPI is missing or not a number (e.g. no hydrogen at all).
    """

    key: str
    kpi: str
    sense: str
    target: float
    value: float
    unit: str
    passed: bool | None

    @property
    def status(self) -> str:
        """``pass``, ``fail`` or ``n/a``."""
        return {True: "pass", False: "fail", None: "n/a"}[self.passed]

    @property
    def text(self) -> str:
        """The target as written in tables, e.g. ``>= 0.5`` or ``>= 400 t/yr``."""
        unit = "" if self.unit == "-" else f" {self.unit}"
        return f"{self.sense} {self.target:g}{unit}"


def check_targets(
    targets: Iterable[tuple[str, float]], kpis: Mapping[str, float]
) -> list[TargetCheck]:
    """Check every ``(key, value)`` target against *kpis*, in the order given."""
    out = []
    for key, target in targets:
        kpi, sense, factor, unit = TARGETS[key]
        raw = kpis.get(kpi, float("nan"))
        value = float(raw) * factor
        passed: bool | None
        if math.isnan(value):
            passed = None
        else:
            passed = value >= target if sense == ">=" else value <= target
        out.append(TargetCheck(key, kpi, sense, float(target), value, unit, passed))
    return out
