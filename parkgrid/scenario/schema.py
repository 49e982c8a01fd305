"""Attribute tables of every scenario section and asset kind.

One table per kind (PyPSA-style): name, type, unit, default, allowed range and a
description. The tables drive validation, defaults and the documentation
(``parkgrid schema`` prints them), so the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ASSET_KINDS", "REQUIRED", "SECTIONS", "Field", "Table"]


class _Required:
    def __repr__(self) -> str:
        return "required"


REQUIRED: Any = _Required()
INF = float("inf")


@dataclass(frozen=True)
class Field:
    """One attribute of a section or asset kind.

    ``lo``/``hi`` bound numbers (inclusive unless ``lo_open``/``hi_open``);
    ``choices`` restricts strings; ``kind`` is one of ``float``, ``int``, ``str``,
    ``bool``, ``str|float`` (a name or a number), ``steps`` (a power-flow step
    selection: a string or a list of integers) or ``int_list``.
    """

    name: str
    kind: str
    unit: str = ""
    default: Any = REQUIRED
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple[str, ...] | None = None
    doc: str = ""

    @property
    def required(self) -> bool:
        """Whether the field must be given."""
        return self.default is REQUIRED

    def range_text(self) -> str:
        """Human-readable allowed range, used in error messages and docs."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.lo is None and self.hi is None:
            return ""
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        lo = "-inf" if self.lo is None else f"{self.lo:g}"
        hi = "inf" if self.hi is None else f"{self.hi:g}"
        return f"{left}{lo}, {hi}{right}"


@dataclass(frozen=True)
class Table:
    """The attribute table of one section (``many`` = an array of tables, e.g. ``[[pv]]``)."""

    key: str
    fields: tuple[Field, ...]
    many: bool = False
    optional: bool = True
    doc: str = ""

    def field(self, name: str) -> Field:
        """Return the field called *name*."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Names of all fields."""
        return tuple(f.name for f in self.fields)


STRATEGIES = ("self_consumption",)
PF_METHODS = ("auto", "reference")

_NAME = Field("name", "str", doc="unique name of the asset")
_BUS = Field("bus", "str", doc="name of the network bus (net.bus.name) it connects to")


def _cos_phi(default: float) -> Field:
    return Field(
        "cos_phi", "float", "-", default, 0.5, 1.0, lo_open=False,
        doc="power factor (inductive for consumers); used for the power flow only",
    )


SECTIONS: dict[str, Table] = {
    t.key: t
    for t in (
        Table("scenario", (
            Field("name", "str", default="unnamed scenario", doc="title shown in reports"),
            Field("description", "str", default="", doc="free text"),
            Field("year", "int", "", REQUIRED, 2000, 2100, doc="simulated calendar year"),
            Field("seed", "int", "", 0, 0, 2**32 - 1, doc="seed of every random process"),
        ), optional=False, doc="what is simulated"),
        Table("network", (
            Field("source", "str", default="flagship_park",
                  doc="a file in networks/ (without .json), a path to a pandapower JSON "
                      "file, or a builder name: 'pandapower:cigre_mv_der', "
                      "'pandapower:cigre_mv', 'pandapower:case33bw', 'simbench:<code>'"),
        ), doc="the park's electrical network"),
        Table("profiles", (
            Field("source", "str", default="ordos_2025",
                  doc="a shipped profile set in profiles/ or a CSV/Parquet path with a "
                      "timestamp column; assets refer to its columns by name"),
        ), doc="per-unit time series"),
        Table("dispatch", (
            Field("strategy", "str", default="self_consumption", choices=STRATEGIES,
                  doc="rule used every step"),
        )),
        Table("powerflow", (
            Field("steps", "steps", default="week:28",
                  doc="steps to solve: 'none', 'all', 'day:N', 'week:N', 'month:N' "
                      "(1-based) or a list of 0-based step numbers"),
            Field("method", "str", default="auto", choices=PF_METHODS,
                  doc="'auto' = parkgrid's batch solver, 'reference' = pandapower.runpp "
                      "step by step"),
        )),
        Table("output", (
            Field("dir", "str", default="", doc="results folder (CLI -o overrides)"),
        )),
        Table("grid", (
            Field("bus", "str", default="", doc="bus of the grid connection; must be the "
                  "ext_grid bus (default: the ext_grid bus)"),
            Field("import_limit_mw", "float", "MW", REQUIRED, 0.0, None),
            Field("export_limit_mw", "float", "MW", REQUIRED, 0.0, None),
            Field("export_price_cny_per_mwh", "float", "CNY/MWh", 0.0, 0.0, None,
                  doc="revenue per exported MWh"),
            Field("capacity_charge_cny_per_mw_month", "float", "CNY/(MW·month)", 0.0, 0.0,
                  None, doc="demand charge on each month's peak import"),
            Field("emission_factor", "str|float", "kgCO2/kWh", "inner_mongolia", 0.0, 2.0,
                  doc="number or table name: 'inner_mongolia', 'national'"),
            Field("emission_factor_year", "int", "", 2022, 2000, 2100,
                  doc="data year of the emission-factor table entry"),
        ), optional=False, doc="the connection to the public grid"),
        Table("grid.tariff", (
            Field("peak_cny_per_mwh", "float", "CNY/MWh", REQUIRED, 0.0, None),
            Field("flat_cny_per_mwh", "float", "CNY/MWh", REQUIRED, 0.0, None),
            Field("valley_cny_per_mwh", "float", "CNY/MWh", REQUIRED, 0.0, None),
            Field("peak_hours", "int_list", "h", (), 0, 23,
                  doc="hours of day (0-23, local) priced at the peak rate"),
            Field("valley_hours", "int_list", "h", (), 0, 23,
                  doc="hours of day priced at the valley rate; other hours are flat"),
        ), doc="time-of-use import tariff"),
        Table("hydrogen", (
            Field("capacity_kg", "float", "kg", REQUIRED, 0.0, None, lo_open=True,
                  doc="usable tank capacity"),
            Field("initial_kg", "float", "kg", 0.0, 0.0, None),
            Field("offtake_kg_per_h", "float", "kg/h", 0.0, 0.0, None,
                  doc="constant offtake, or the scale of offtake_profile"),
            Field("offtake_profile", "str", default="",
                  doc="profile column (per unit of offtake_kg_per_h); empty = constant"),
        ), doc="hydrogen tank fed by all electrolysers"),
    )
}

ASSET_KINDS: dict[str, Table] = {
    t.key: t
    for t in (
        Table("pv", (
            _NAME, _BUS,
            Field("p_mw", "float", "MW", REQUIRED, 0.0, None, doc="AC rating"),
            Field("profile", "str", default="pv_pu", doc="profile column, per unit of p_mw"),
            _cos_phi(1.0),
        ), many=True, doc="PV plants"),
        Table("wind", (
            _NAME, _BUS,
            Field("p_mw", "float", "MW", REQUIRED, 0.0, None, doc="rated power"),
            Field("profile", "str", default="wind_pu", doc="profile column, per unit of p_mw"),
            _cos_phi(1.0),
        ), many=True, doc="wind farms"),
        Table("battery", (
            _NAME, _BUS,
            Field("p_mw", "float", "MW", REQUIRED, 0.0, None, doc="charge/discharge rating"),
            Field("e_mwh", "float", "MWh", REQUIRED, 0.0, None, lo_open=True,
                  doc="nameplate energy"),
            Field("eta_charge", "float", "-", 0.95, 0.0, 1.0, lo_open=True,
                  doc="charging efficiency (AC to stored)"),
            Field("eta_discharge", "float", "-", 0.95, 0.0, 1.0, lo_open=True,
                  doc="discharging efficiency (stored to AC)"),
            Field("soc_min_pu", "float", "pu", 0.05, 0.0, 1.0),
            Field("soc_max_pu", "float", "pu", 0.95, 0.0, 1.0),
            Field("soc_initial_pu", "float", "pu", 0.5, 0.0, 1.0),
        ), many=True, doc="battery storage; dispatched in the order listed"),
        Table("electrolyser", (
            _NAME, _BUS,
            Field("p_mw", "float", "MW", REQUIRED, 0.0, None, lo_open=True,
                  doc="rated AC input"),
            Field("kwh_per_kg", "float", "kWh/kg", 53.0, 30.0, 100.0,
                  doc="specific consumption at the AC bus"),
            Field("min_load_pu", "float", "pu", 0.2, 0.0, 1.0, doc="minimum stable load"),
            _cos_phi(0.98),
        ), many=True, doc="electrolysers; run in the order listed"),
        Table("load", (
            _NAME, _BUS,
            Field("profile", "str", "", REQUIRED, doc="profile column (any scale)"),
            Field("annual_mwh", "float", "MWh", 0.0, 0.0, None,
                  doc="scale the profile to this annual energy (give this or peak_mw)"),
            Field("peak_mw", "float", "MW", 0.0, 0.0, None,
                  doc="scale the profile to this peak (give this or annual_mwh)"),
            Field("category", "str", default="industrial",
                  choices=("industrial", "charging", "services"),
                  doc="consumer class for reporting"),
            _cos_phi(0.95),
        ), many=True, doc="fixed consumers: factories, charging depots, services"),
    )
}
