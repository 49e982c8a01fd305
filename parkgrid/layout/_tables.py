"""The key tables of a layout file: every key's type, unit, default and allowed range.

One table per element kind, like the scenario's attribute tables; they drive the
checks of :mod:`parkgrid.layout._build` and the key list of the README. A key whose
default is :data:`REQUIRED` must be given; a default of ``None`` means "not given"
(pandapower's own default, or taken from a standard type).
"""

from __future__ import annotations

from dataclasses import dataclass

from parkgrid._fields import REQUIRED, Field


@dataclass(frozen=True)
class Table:
    """The keys of one element kind; ``many``: an array of tables (``[[line]]``)."""

    key: str
    keys: tuple[Field, ...]
    many: bool = True
    doc: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """The names of all keys."""
        return tuple(k.name for k in self.keys)


_NAME = Field("name", "str", doc="unique name; scenarios, events and results refer to it")
_IN_SERVICE = Field("in_service", "bool", default=True, doc="false: the element is out of service")
_PARALLEL = Field("parallel", "int", "", 1, 1, 1000, doc="identical circuits or units in parallel")
_DF = Field("df", "float", "", 1.0, 0.0, 1.0, lo_open=True,
          doc="derating factor: usable share of the rated current")

#: the electrical data of a line, given directly or by a standard type
LINE_PARAMETERS = (
    Field("r_ohm_per_km", "float", "ohm/km", None, 0.0, None, doc="series resistance at 20 degC"),
    Field("x_ohm_per_km", "float", "ohm/km", None, 0.0, None, lo_open=True,
        doc="series reactance"),
    Field("c_nf_per_km", "float", "nF/km", None, 0.0, None, doc="shunt capacitance"),
    Field("max_i_ka", "float", "kA", None, 0.0, None, lo_open=True,
        doc="thermal rating of one circuit"),
)
_LINE_OPTIONAL = (
    Field("g_us_per_km", "float", "uS/km", None, 0.0, None, doc="shunt conductance (default 0)"),
    Field("alpha", "float", "1/K", None, 0.0, 0.1,
        doc="temperature coefficient of the resistance"),
    Field("type", "str", "", None, choices=("cs", "ol"), doc="cable ('cs') or overhead ('ol')"),
)
#: the electrical data of a transformer, given directly or by a standard type
TRAFO_PARAMETERS = (
    Field("sn_mva", "float", "MVA", None, 0.0, None, lo_open=True, doc="rated apparent power"),
    Field("vn_hv_kv", "float", "kV", None, 0.0, None, lo_open=True, doc="rated HV voltage"),
    Field("vn_lv_kv", "float", "kV", None, 0.0, None, lo_open=True, doc="rated LV voltage"),
    Field("vk_percent", "float", "%", None, 0.0, 100.0, lo_open=True,
        doc="short-circuit voltage"),
    Field("vkr_percent", "float", "%", None, 0.0, 100.0, doc="its real part (load losses)"),
    Field("pfe_kw", "float", "kW", None, 0.0, None, doc="iron (no-load) losses"),
    Field("i0_percent", "float", "%", None, 0.0, 100.0, doc="no-load current"),
    Field("shift_degree", "float", "deg", None, -360.0, 360.0,
        doc="phase shift of the vector group (default 0)"),
    Field("vector_group", "str", "", None, doc="e.g. 'YNd11', 'Dyn11'"),
)
#: the tap changer of a transformer (pandapower's names); on a standard-type
#: transformer these override the type's
TAP_KEYS = (
    Field("tap_side", "str", "", None, choices=("hv", "lv"), doc="winding with the taps"),
    Field("tap_neutral", "int", "", None, -100, 100, doc="neutral position"),
    Field("tap_min", "int", "", None, -100, 100, doc="lowest position"),
    Field("tap_max", "int", "", None, -100, 100, doc="highest position"),
    Field("tap_step_percent", "float", "%", None, 0.0, 20.0, doc="voltage change per step"),
    Field("tap_step_degree", "float", "deg", None, -30.0, 30.0, doc="angle change per step"),
    Field("tap_changer_type", "str", "", None, choices=("Ratio", "Symmetrical", "Ideal"),
        doc="pandapower's tap changer model"),
)

TABLES: dict[str, Table] = {t.key: t for t in (
    Table("layout", (
        Field("name", "str", default="", doc="title of the network"),
        Field("description", "str", default="", doc="free text"),
        Field("f_hz", "float", "Hz", 50.0, 1.0, 1000.0, doc="system frequency"),
        Field("sn_mva", "float", "MVA", 1.0, 0.0, None, lo_open=True,
            doc="per-unit base power of the power flow"),
    ), many=False, doc="the network as a whole (optional)"),
    Table("line_type", (*(Field(k.name, k.kind, k.unit, REQUIRED, k.lo, k.hi, k.lo_open,
                              doc=k.doc) for k in LINE_PARAMETERS),
                        *_LINE_OPTIONAL,
                        Field("q_mm2", "float", "mm2", None, 0.0, None, lo_open=True,
                            doc="conductor cross-section")),
          many=False, doc="a line standard type of this layout"),
    Table("trafo_type", (*(Field(k.name, k.kind, k.unit, REQUIRED if k.name in
                               {"sn_mva", "vn_hv_kv", "vn_lv_kv", "vk_percent", "vkr_percent",
                                "pfe_kw", "i0_percent"} else None, k.lo, k.hi, k.lo_open,
                               doc=k.doc) for k in TRAFO_PARAMETERS),
                         *TAP_KEYS),
          many=False, doc="a transformer standard type of this layout"),
    Table("bus", (
        _NAME,
        Field("vn_kv", "float", "kV", REQUIRED, 0.0, 1500.0, lo_open=True,
            doc="nominal voltage"),
        Field("zone", "str", "", None, doc="free grouping label, e.g. 'PV-A'"),
        Field("type", "str", "", "b", choices=("b", "n", "m"),
            doc="busbar ('b'), node ('n') or muff ('m'), pandapower's bus types"),
        _IN_SERVICE,
    ), doc="a node of the network"),
    Table("ext_grid", (
        Field("bus", "str", doc="bus of the grid connection (the slack)"),
        Field("name", "str", "", None, doc="name"),
        Field("vm_pu", "float", "pu", 1.0, 0.8, 1.2, doc="voltage set point"),
        Field("va_degree", "float", "deg", 0.0, -360.0, 360.0, doc="voltage angle"),
        Field("s_sc_max_mva", "float", "MVA", None, 0.0, None, lo_open=True,
            doc="maximum short-circuit power (short-circuit studies only)"),
        Field("s_sc_min_mva", "float", "MVA", None, 0.0, None, lo_open=True,
            doc="minimum short-circuit power"),
        Field("rx_max", "float", "", None, 0.0, None, doc="R/X ratio at s_sc_max_mva"),
        Field("rx_min", "float", "", None, 0.0, None, doc="R/X ratio at s_sc_min_mva"),
        _IN_SERVICE,
    ), doc="the grid connection (slack bus)"),
    Table("line", (
        _NAME,
        Field("from_bus", "str", doc="bus at the sending end"),
        Field("to_bus", "str", doc="bus at the receiving end"),
        Field("length_km", "float", "km", REQUIRED, 0.0, 1000.0, lo_open=True, doc="length"),
        Field("std_type", "str", "", None,
            doc="a standard type (pandapower's library or [line_type]); else the parameters"),
        *LINE_PARAMETERS, *_LINE_OPTIONAL, _PARALLEL, _DF, _IN_SERVICE,
    ), doc="a cable or overhead line"),
    Table("transformer", (
        _NAME,
        Field("hv_bus", "str", doc="high-voltage bus"),
        Field("lv_bus", "str", doc="low-voltage bus"),
        Field("std_type", "str", "", None,
            doc="a standard type (pandapower's library or [trafo_type]); else the parameters"),
        *TRAFO_PARAMETERS, *TAP_KEYS,
        Field("tap_pos", "int", "", None, -100, 100,
            doc="tap position in service (default tap_neutral)"),
        Field("oltc", "bool", "", False, doc="an on-load tap changer (for tap control)"),
        _PARALLEL, _DF, _IN_SERVICE,
    ), doc="a two-winding transformer"),
    Table("switch", (
        Field("name", "str", "", None, doc="name (unique if given)"),
        Field("bus", "str", doc="bus the switch sits at"),
        Field("to_bus", "str", "", None, doc="a bus-bus switch (coupler) to this bus"),
        Field("line", "str", "", None, doc="a switch at bus's end of this line"),
        Field("transformer", "str", "", None, doc="a switch at bus's side of this transformer"),
        Field("closed", "bool", "", True, doc="false: open"),
        Field("type", "str", "", "CB", choices=("CB", "LBS", "LS", "DS"),
            doc="circuit breaker, load-break switch, load switch, disconnector"),
    ), doc="a breaker or disconnector: give exactly one of to_bus, line, transformer"),
)}
