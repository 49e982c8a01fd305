"""Build the flagship zero-carbon industrial park network (topology only).

Usage::

    python networks/build_flagship.py [OUT.json]

Writes ``networks/flagship_park.json`` (or ``OUT.json``) with ``pandapower.to_json``.
The net holds buses, lines, transformers, switches and one ext_grid (the slack at
``HV 220kV``); parkgrid places loads, generators, storage and electrolysers on buses by
name. Parameters, their sources and the stress cases are documented in
``networks/README.md``. The output is deterministic: the same code gives the same bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandapower as pp

DEFAULT_OUT = Path(__file__).resolve().parent / "flagship_park.json"

# --- Equipment types (catalogue-typical values; see README for sources) ---------------
CABLE = "YJV22-26/35kV 3x300"
OHL = "JL/G1A-240/30 35kV"
T220 = "SZ11-180000/220"
T35_315 = "SZ11-31500/35"
T35_200 = "SZ11-20000/35"
T35_63 = "SZ11-6300/35"

LINE_TYPES: dict[str, dict[str, float | str]] = {
    # 3-core Cu XLPE, steel-tape armoured, 26/35 kV; buried rating. R at 20 degC as in
    # pandapower's own types (alpha gives R at 90 degC with consider_line_temperature).
    CABLE: {
        "r_ohm_per_km": 0.0601,
        "x_ohm_per_km": 0.110,
        "c_nf_per_km": 190.0,
        "g_us_per_km": 0.0,
        "max_i_ka": 0.445,
        "type": "cs",
        "q_mm2": 300,
        "alpha": 0.00393,
    },
    # Al conductor steel reinforced (GB/T 1179), 35 kV tower geometry (Dm ~ 3.5 m).
    # R at 20 degC. Rating: 70 degC conductor, 0.5 m/s wind, derated to 30 degC ambient.
    OHL: {
        "r_ohm_per_km": 0.1181,
        "x_ohm_per_km": 0.376,
        "c_nf_per_km": 9.5,
        "g_us_per_km": 0.0,
        "max_i_ka": 0.575,
        "type": "ol",
        "q_mm2": 240,
        "alpha": 0.00403,
    },
}


def _trafo_type(
    sn_mva: float,
    vn_hv_kv: float,
    vn_lv_kv: float,
    vk_percent: float,
    pk_kw: float,
    pfe_kw: float,
    i0_percent: float,
    vector_group: str,
    shift_degree: float,
    tap_range: int,
    tap_step_percent: float,
) -> dict[str, float | int | str | bool]:
    """Return a pandapower transformer std type; ``vkr`` follows from load loss ``pk``."""
    return {
        "sn_mva": sn_mva,
        "vn_hv_kv": vn_hv_kv,
        "vn_lv_kv": vn_lv_kv,
        "vk_percent": vk_percent,
        "vkr_percent": round(100.0 * pk_kw / (1000.0 * sn_mva), 4),
        "pfe_kw": pfe_kw,
        "i0_percent": i0_percent,
        "shift_degree": shift_degree,
        "vector_group": vector_group,
        "tap_side": "hv",
        "tap_neutral": 0,
        "tap_min": -tap_range,
        "tap_max": tap_range,
        "tap_step_percent": tap_step_percent,
        "tap_step_degree": 0.0,
        "tap_changer_type": "Ratio",
        "trafo_characteristic_table": False,
    }


TRAFO_TYPES = {
    # 220 kV step-up/step-down, on-load tap changer 230 +/- 8 x 1.25 % / 37 kV, YNd11.
    T220: _trafo_type(180.0, 230.0, 37.0, 14.0, 540.0, 115.0, 0.25, "YNd11", 330.0, 8, 1.25),
    # 35/10 kV distribution transformers, on-load tap changer 35 +/- 3 x 2.5 % / 10.5 kV.
    T35_315: _trafo_type(31.5, 35.0, 10.5, 8.0, 135.0, 25.0, 0.45, "Dyn11", 330.0, 3, 2.5),
    T35_200: _trafo_type(20.0, 35.0, 10.5, 8.0, 98.0, 18.0, 0.50, "Dyn11", 330.0, 3, 2.5),
    T35_63: _trafo_type(6.3, 35.0, 10.5, 7.5, 36.0, 6.8, 0.70, "Dyn11", 330.0, 3, 2.5),
}

# --- Plant data ------------------------------------------------------------------------
SUB_I = "Substation 35kV"
SUB_II = "Substation 35kV section II"

# Fixed tap positions (tap_side hv; negative = fewer HV turns = higher LV voltage).
TAP_220 = -2
TAP_35 = 1

# PV blocks: 100 MW each, buried cable, sections listed from the substation outwards.
PV_BLOCKS = [
    # (block bus, substation section, circuits, section lengths [km])
    ("PV-A", SUB_I, 5, (1.0, 1.0, 1.0, 1.0)),
    ("PV-B", SUB_I, 5, (1.5, 1.0, 1.0, 1.0)),
    ("PV-C", SUB_II, 5, (1.5, 1.5, 1.5, 1.0)),
    ("PV-D", SUB_II, 5, (2.0, 1.5, 1.5, 1.5)),
]

# Wind blocks: 100 MW each, overhead double-circuit lines plus a cable entry section.
WIND_BLOCKS = [
    # (block bus, substation section, circuits, cable entry [km], overhead sections [km])
    ("Wind-A", SUB_I, 5, 0.5, (4.0, 3.0, 3.0)),
    ("Wind-B", SUB_II, 5, 0.5, (5.0, 5.0, 5.0)),
    ("Wind-C", SUB_II, 5, 0.5, (7.0, 7.0, 6.0)),
]

# Point-to-point cable feeders to the battery station and the electrolyser plant.
STATIONS = [
    # (bus, substation section, circuits, length [km])
    ("BESS 35kV", SUB_I, 8, 1.0),
    ("Electrolyser 35kV", SUB_II, 8, 1.5),
]

# Factories: 35 kV cable feeder to the factory's 35 kV switchroom, then 35/10 kV.
FACTORIES = [
    # (name, substation section, cable circuits, length [km], trafo type, trafo count)
    ("Cell factory", SUB_I, 3, 3.0, T35_315, 3),
    ("Module factory", SUB_I, 2, 4.0, T35_315, 2),
    ("Chemical plant", SUB_II, 4, 5.0, T35_315, 3),
    ("Truck depot", SUB_II, 2, 2.0, T35_200, 2),
    ("Offices", SUB_I, 2, 1.0, T35_63, 2),
]


def _bus(net: pp.pandapowerNet, name: str, vn_kv: float, zone: str, kind: str = "b") -> int:
    return int(pp.create_bus(net, vn_kv=vn_kv, name=name, zone=zone, type=kind))


def _line(
    net: pp.pandapowerNet,
    from_bus: int,
    to_bus: int,
    length_km: float,
    std_type: str,
    name: str,
    parallel: int,
    breaker: bool = False,
) -> int:
    """Create a (multi-circuit) line section; optionally a circuit breaker at its head."""
    lid = int(
        pp.create_line(
            net,
            from_bus,
            to_bus,
            length_km,
            std_type,
            name=name,
            parallel=parallel,
            # pandapower copies alpha from the type only once the column exists; pass it.
            alpha=LINE_TYPES[std_type]["alpha"],
        )
    )
    if breaker:
        pp.create_switch(net, from_bus, lid, et="l", closed=True, type="CB", name=f"CB {name}")
    return lid


def build() -> pp.pandapowerNet:
    """Return the flagship park network [buses, lines, trafos, switches, ext_grid]."""
    net = pp.create_empty_network(name="parkgrid flagship park", f_hz=50.0, sn_mva=1.0)
    for name, data in LINE_TYPES.items():
        pp.create_std_type(net, data, name, element="line")
    for name, data in TRAFO_TYPES.items():
        pp.create_std_type(net, data, name, element="trafo")

    # 220 kV connection and main transformers.
    hv = _bus(net, "HV 220kV", 220.0, "220kV")
    pp.create_ext_grid(
        net,
        hv,
        vm_pu=1.0,
        va_degree=0.0,
        name="Grid 220kV",
        s_sc_max_mva=12000.0,
        s_sc_min_mva=8000.0,
        rx_max=0.1,
        rx_min=0.1,
    )
    sub = {
        SUB_I: _bus(net, SUB_I, 35.0, "substation"),
        SUB_II: _bus(net, SUB_II, 35.0, "substation"),
    }
    pp.create_switch(
        net, sub[SUB_I], sub[SUB_II], et="b", closed=True, type="CB", name="Bus coupler 35kV"
    )
    for i, section in enumerate((SUB_I, SUB_II), start=1):
        tid = pp.create_transformer(
            net, hv, sub[section], T220, name=f"T{i} 220/35kV", tap_pos=TAP_220
        )
        pp.create_switch(net, hv, tid, et="t", closed=True, type="CB", name=f"CB T{i} 220kV")
        pp.create_switch(
            net, sub[section], tid, et="t", closed=True, type="CB", name=f"CB T{i} 35kV"
        )

    # PV collector feeders: substation -> node 1 -> ... -> block bus.
    for block, section, circuits, lengths in PV_BLOCKS:
        prev = sub[section]
        for k, length in enumerate(lengths, start=1):
            last = k == len(lengths)
            bus = _bus(net, f"{block} 35kV" if last else f"{block} feeder node {k}", 35.0, block)
            _line(net, prev, bus, length, CABLE, f"{block} cable {k}", circuits, breaker=k == 1)
            prev = bus

    # Wind feeders: cable entry to a riser tower, then overhead sections to the block.
    for block, section, circuits, cable_km, lengths in WIND_BLOCKS:
        riser = _bus(net, f"{block} riser tower", 35.0, block)
        _line(
            net,
            sub[section],
            riser,
            cable_km,
            CABLE,
            f"{block} cable entry",
            circuits,
            breaker=True,
        )
        prev = riser
        for k, length in enumerate(lengths, start=1):
            last = k == len(lengths)
            bus = _bus(net, f"{block} 35kV" if last else f"{block} tower node {k}", 35.0, block)
            _line(net, prev, bus, length, OHL, f"{block} overhead {k}", circuits)
            prev = bus

    for name, section, circuits, length in STATIONS:
        bus = _bus(net, name, 35.0, name.removesuffix(" 35kV"))
        _line(net, sub[section], bus, length, CABLE, f"{name} cable", circuits, breaker=True)

    for name, section, circuits, length, ttype, count in FACTORIES:
        mv = _bus(net, f"{name} 35kV", 35.0, name)
        lv = _bus(net, f"{name} 10kV", 10.0, name)
        _line(net, sub[section], mv, length, CABLE, f"{name} cable", circuits, breaker=True)
        tid = pp.create_transformer(
            net, mv, lv, ttype, name=f"{name} 35/10kV", parallel=count, tap_pos=TAP_35
        )
        pp.create_switch(
            net, lv, tid, et="t", closed=True, type="CB", name=f"CB {name} 10kV incomer"
        )
    return net


def main(argv: list[str] | None = None) -> int:
    """Build the network and write it as pandapower JSON to ``argv[0]`` or the default."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(args[0]) if args else DEFAULT_OUT
    net = build()
    tmp = out.with_name(out.name + ".tmp")
    pp.to_json(net, str(tmp))
    tmp.replace(out)
    print(
        f"wrote {out}: {len(net.bus)} buses, {len(net.line)} lines, "
        f"{len(net.trafo)} transformers, {len(net.switch)} switches"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
