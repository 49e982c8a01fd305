"""The key tables of a layout file: every key's type, unit, default and allowed range.

One table per element kind, like the scenario's attribute tables; they drive the
checks of :mod:`parkgrid.layout._build` and the key list of the README. A key whose
default is :data:`REQUIRED` must be given; a default of ``None`` means "not given"
(pandapower's own default, or taken from a standard type).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


class _Required:
    def __repr__(self) -> str:
        return "required"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Key:
    """One key of a layout table (``kind``: ``str``, ``float``, ``int`` or ``bool``)."""

    name: str
    kind: str
    unit: str = ""
    default: Any = REQUIRED
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    choices: tuple[str, ...] | None = None
    doc: str = ""

    @property
    def required(self) -> bool:
        """Whether the key must be given."""
        return self.default is REQUIRED

    def range_text(self) -> str:
        """Describe the allowed values, as error messages and the README show them."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.lo is None and self.hi is None:
            return ""
        lo = "-inf" if self.lo is None else f"{self.lo:g}"
        hi = "inf" if self.hi is None else f"{self.hi:g}"
        return f"{'(' if self.lo_open else '['}{lo}, {hi}]"

    def parse(self, v: Any) -> tuple[Any, str | None]:
        """Return ``(value, None)`` for an allowed *v*, else ``(None, what is wrong)``."""
        unit = f" [{self.unit}]" if self.unit else ""
        if self.kind == "bool":
            return (v, None) if isinstance(v, bool) else (
                None, f"must be true or false, got {type(v).__name__} {v!r}")
        if self.kind == "str":
            if not isinstance(v, str):
                return None, f"must be a string, got {type(v).__name__} {v!r}"
            if self.choices is not None and v not in self.choices:
                return None, f"{v!r} is not allowed; {self.range_text()}"
            return v, None
        if isinstance(v, bool) or not isinstance(v, int | float):
            return None, f"must be a number{unit}, got {type(v).__name__} {v!r}"
        if self.kind == "int" and not (isinstance(v, int) or float(v).is_integer()):
            return None, f"must be a whole number, got {v!r}"
        if not math.isfinite(v):
            return None, f"must be a finite number{unit}, got {v!r}"
        if ((self.lo is not None and (v < self.lo or (self.lo_open and v == self.lo)))
                or (self.hi is not None and v > self.hi)):
            return None, f"{v!r} is outside the allowed range {self.range_text()}{unit}"
        return (int(v) if self.kind == "int" else float(v)), None


@dataclass(frozen=True)
class Table:
    """The keys of one element kind; ``many``: an array of tables (``[[line]]``)."""

    key: str
    keys: tuple[Key, ...]
    many: bool = True
    doc: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """The names of all keys."""
        return tuple(k.name for k in self.keys)


_NAME = Key("name", "str", doc="unique name; scenarios, events and results refer to it")
_IN_SERVICE = Key("in_service", "bool", default=True, doc="false: the element is out of service")
_PARALLEL = Key("parallel", "int", "", 1, 1, 1000, doc="identical circuits or units in parallel")
_DF = Key("df", "float", "", 1.0, 0.0, 1.0, lo_open=True,
          doc="derating factor: usable share of the rated current")

#: the electrical data of a line, given directly or by a standard type
LINE_PARAMETERS = (
    Key("r_ohm_per_km", "float", "ohm/km", None, 0.0, None, doc="series resistance at 20 degC"),
    Key("x_ohm_per_km", "float", "ohm/km", None, 0.0, None, lo_open=True,
        doc="series reactance"),
    Key("c_nf_per_km", "float", "nF/km", None, 0.0, None, doc="shunt capacitance"),
    Key("max_i_ka", "float", "kA", None, 0.0, None, lo_open=True,
        doc="thermal rating of one circuit"),
)
_LINE_OPTIONAL = (
    Key("g_us_per_km", "float", "uS/km", None, 0.0, None, doc="shunt conductance (default 0)"),
    Key("alpha", "float", "1/K", None, 0.0, 0.1,
        doc="temperature coefficient of the resistance"),
    Key("type", "str", "", None, choices=("cs", "ol"), doc="cable ('cs') or overhead ('ol')"),
)
#: the electrical data of a transformer, given directly or by a standard type
TRAFO_PARAMETERS = (
    Key("sn_mva", "float", "MVA", None, 0.0, None, lo_open=True, doc="rated apparent power"),
    Key("vn_hv_kv", "float", "kV", None, 0.0, None, lo_open=True, doc="rated HV voltage"),
    Key("vn_lv_kv", "float", "kV", None, 0.0, None, lo_open=True, doc="rated LV voltage"),
    Key("vk_percent", "float", "%", None, 0.0, 100.0, lo_open=True,
        doc="short-circuit voltage"),
    Key("vkr_percent", "float", "%", None, 0.0, 100.0, doc="its real part (load losses)"),
    Key("pfe_kw", "float", "kW", None, 0.0, None, doc="iron (no-load) losses"),
    Key("i0_percent", "float", "%", None, 0.0, 100.0, doc="no-load current"),
    Key("shift_degree", "float", "deg", None, -360.0, 360.0,
        doc="phase shift of the vector group (default 0)"),
    Key("vector_group", "str", "", None, doc="e.g. 'YNd11', 'Dyn11'"),
)
#: the tap changer of a transformer (pandapower's names); on a standard-type
#: transformer these override the type's
TAP_KEYS = (
    Key("tap_side", "str", "", None, choices=("hv", "lv"), doc="winding with the taps"),
    Key("tap_neutral", "int", "", None, -100, 100, doc="neutral position"),
    Key("tap_min", "int", "", None, -100, 100, doc="lowest position"),
    Key("tap_max", "int", "", None, -100, 100, doc="highest position"),
    Key("tap_step_percent", "float", "%", None, 0.0, 20.0, doc="voltage change per step"),
    Key("tap_step_degree", "float", "deg", None, -30.0, 30.0, doc="angle change per step"),
    Key("tap_changer_type", "str", "", None, choices=("Ratio", "Symmetrical", "Ideal"),
        doc="pandapower's tap changer model"),
)

TABLES: dict[str, Table] = {t.key: t for t in (
    Table("layout", (
        Key("name", "str", default="", doc="title of the network"),
        Key("description", "str", default="", doc="free text"),
        Key("f_hz", "float", "Hz", 50.0, 1.0, 1000.0, doc="system frequency"),
        Key("sn_mva", "float", "MVA", 1.0, 0.0, None, lo_open=True,
            doc="per-unit base power of the power flow"),
    ), many=False, doc="the network as a whole (optional)"),
    Table("line_type", (*(Key(k.name, k.kind, k.unit, REQUIRED, k.lo, k.hi, k.lo_open,
                              doc=k.doc) for k in LINE_PARAMETERS),
                        *_LINE_OPTIONAL,
                        Key("q_mm2", "float", "mm2", None, 0.0, None, lo_open=True,
                            doc="conductor cross-section")),
          many=False, doc="a line standard type of this layout"),
    Table("trafo_type", (*(Key(k.name, k.kind, k.unit, REQUIRED if k.name in
                               {"sn_mva", "vn_hv_kv", "vn_lv_kv", "vk_percent", "vkr_percent",
                                "pfe_kw", "i0_percent"} else None, k.lo, k.hi, k.lo_open,
                               doc=k.doc) for k in TRAFO_PARAMETERS),
                         *TAP_KEYS),
          many=False, doc="a transformer standard type of this layout"),
    Table("bus", (
        _NAME,
        Key("vn_kv", "float", "kV", REQUIRED, 0.0, 1500.0, lo_open=True,
            doc="nominal voltage"),
        Key("zone", "str", "", None, doc="free grouping label, e.g. 'PV-A'"),
        Key("type", "str", "", "b", choices=("b", "n", "m"),
            doc="busbar ('b'), node ('n') or muff ('m'), pandapower's bus types"),
        _IN_SERVICE,
    ), doc="a node of the network"),
    Table("ext_grid", (
        Key("bus", "str", doc="bus of the grid connection (the slack)"),
        Key("name", "str", "", None, doc="name"),
        Key("vm_pu", "float", "pu", 1.0, 0.8, 1.2, doc="voltage set point"),
        Key("va_degree", "float", "deg", 0.0, -360.0, 360.0, doc="voltage angle"),
        Key("s_sc_max_mva", "float", "MVA", None, 0.0, None, lo_open=True,
            doc="maximum short-circuit power (short-circuit studies only)"),
        Key("s_sc_min_mva", "float", "MVA", None, 0.0, None, lo_open=True,
            doc="minimum short-circuit power"),
        Key("rx_max", "float", "", None, 0.0, None, doc="R/X ratio at s_sc_max_mva"),
        Key("rx_min", "float", "", None, 0.0, None, doc="R/X ratio at s_sc_min_mva"),
        _IN_SERVICE,
    ), doc="the grid connection (slack bus)"),
    Table("line", (
        _NAME,
        Key("from_bus", "str", doc="bus at the sending end"),
        Key("to_bus", "str", doc="bus at the receiving end"),
        Key("length_km", "float", "km", REQUIRED, 0.0, 1000.0, lo_open=True, doc="length"),
        Key("std_type", "str", "", None,
            doc="a standard type (pandapower's library or [line_type]); else the parameters"),
        *LINE_PARAMETERS, *_LINE_OPTIONAL, _PARALLEL, _DF, _IN_SERVICE,
    ), doc="a cable or overhead line"),
    Table("transformer", (
        _NAME,
        Key("hv_bus", "str", doc="high-voltage bus"),
        Key("lv_bus", "str", doc="low-voltage bus"),
        Key("std_type", "str", "", None,
            doc="a standard type (pandapower's library or [trafo_type]); else the parameters"),
        *TRAFO_PARAMETERS, *TAP_KEYS,
        Key("tap_pos", "int", "", None, -100, 100,
            doc="tap position in service (default tap_neutral)"),
        Key("oltc", "bool", "", False, doc="an on-load tap changer (for tap control)"),
        _PARALLEL, _DF, _IN_SERVICE,
    ), doc="a two-winding transformer"),
    Table("switch", (
        Key("name", "str", "", None, doc="name (unique if given)"),
        Key("bus", "str", doc="bus the switch sits at"),
        Key("to_bus", "str", "", None, doc="a bus-bus switch (coupler) to this bus"),
        Key("line", "str", "", None, doc="a switch at bus's end of this line"),
        Key("transformer", "str", "", None, doc="a switch at bus's side of this transformer"),
        Key("closed", "bool", "", True, doc="false: open"),
        Key("type", "str", "", "CB", choices=("CB", "LBS", "LS", "DS"),
            doc="circuit breaker, load-break switch, load switch, disconnector"),
    ), doc="a breaker or disconnector: give exactly one of to_bus, line, transformer"),
)}
