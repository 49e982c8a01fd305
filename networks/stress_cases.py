"""Stress cases for the flagship park network, shared by the tests and the README table.

Usage::

    python networks/stress_cases.py [NET.json]

Each case adds loads, static generators and the battery to a deep copy of the net
(never the net passed in), runs ``pandapower.runpp`` and reports min/max bus voltage
[pu], max line and transformer loading [%] and the grid exchange at the slack [MW]
(import +, export -). Generation is at unity power factor, loads at cos phi 0.95.
"""

from __future__ import annotations

import copy
import math
import sys
from pathlib import Path

import pandapower as pp

from parkgrid.network import read_network_file

DEFAULT_NET = Path(__file__).resolve().parent / "flagship_park.json"

#: Factory peak demand [MW] by 10 kV bus name.
FACTORY_PEAK_MW = {
    "Cell factory 10kV": 50.0,
    "Module factory 10kV": 30.0,
    "Chemical plant 10kV": 60.0,
    "Truck depot 10kV": 20.0,
    "Offices 10kV": 5.0,
}
PV_BUSES = ("PV-A 35kV", "PV-B 35kV", "PV-C 35kV", "PV-D 35kV")
WIND_BUSES = ("Wind-A 35kV", "Wind-B 35kV", "Wind-C 35kV")
BLOCK_MW = 100.0
BESS_MW = 150.0
BESS_MWH = 600.0
ELECTROLYSER_MW = 150.0
LOW_LOAD_SHARE = 0.4
EXPORT_CAP_MW = 100.0
COS_PHI_LOAD = 0.95

_LOW_FACTORY_MW = LOW_LOAD_SHARE * sum(FACTORY_PEAK_MW.values())
# Generation that balances low load + electrolyser + battery charging + 100 MW export.
_GEN_CAPPED_MW = _LOW_FACTORY_MW + ELECTROLYSER_MW + BESS_MW + EXPORT_CAP_MW


def _case(pv_mw: float, wind_mw: float, load_share: float, bess_mw: float, h2_mw: float) -> dict:
    return {
        "pv_mw": pv_mw,
        "wind_mw": wind_mw,
        "load_share": load_share,
        "bess_mw": bess_mw,
        "electrolyser_mw": h2_mw,
    }


#: Stress cases. ``pv_mw``/``wind_mw`` are per block; ``bess_mw`` > 0 is charging.
CASES: dict[str, dict] = {
    # Midday, clear sky: every PV block at rated output, wind curtailed/low so that the
    # 220 kV export stays at ~100 MW while electrolyser and battery absorb the rest.
    "peak PV, low load": _case(
        BLOCK_MW, (_GEN_CAPPED_MW - 4 * BLOCK_MW) / 3, LOW_LOAD_SHARE, BESS_MW, ELECTROLYSER_MW
    ),
    # Windy spell: every wind block at rated output, PV low, same sinks and export cap.
    "peak wind, low load": _case(
        (_GEN_CAPPED_MW - 3 * BLOCK_MW) / 4, BLOCK_MW, LOW_LOAD_SHARE, BESS_MW, ELECTROLYSER_MW
    ),
    # Evening peak, no wind or sun: factories at peak, electrolyser on, battery discharging.
    "peak load, no generation": _case(0.0, 0.0, 1.0, -BESS_MW, ELECTROLYSER_MW),
}

#: Not a design case (the export cap forbids it); reported in the README for information.
INFO_CASES: dict[str, dict] = {
    "all 700 MW RES, no curtailment": _case(
        BLOCK_MW, BLOCK_MW, LOW_LOAD_SHARE, BESS_MW, ELECTROLYSER_MW
    ),
}


def _bus(net: pp.pandapowerNet, name: str) -> int:
    idx = net.bus.index[net.bus.name == name]
    if len(idx) != 1:
        raise KeyError(f"bus {name!r} found {len(idx)} times, expected once")
    return int(idx[0])


def apply_case(net: pp.pandapowerNet, case: dict) -> pp.pandapowerNet:
    """Return a deep copy of ``net`` with the case's assets added (``net`` is untouched)."""
    work = copy.deepcopy(net)
    tan_phi = math.tan(math.acos(COS_PHI_LOAD))
    for name in PV_BUSES:
        pp.create_sgen(work, _bus(work, name), p_mw=case["pv_mw"], name=f"PV {name}", type="PV")
    for name in WIND_BUSES:
        pp.create_sgen(work, _bus(work, name), p_mw=case["wind_mw"], name=f"WP {name}", type="WP")
    for name, peak in FACTORY_PEAK_MW.items():
        p = peak * case["load_share"]
        pp.create_load(work, _bus(work, name), p_mw=p, q_mvar=p * tan_phi, name=name)
    h2 = case["electrolyser_mw"]
    pp.create_load(
        work, _bus(work, "Electrolyser 35kV"), p_mw=h2, q_mvar=h2 * tan_phi, name="Electrolyser"
    )
    pp.create_storage(
        work,
        _bus(work, "BESS 35kV"),
        p_mw=case["bess_mw"],
        max_e_mwh=BESS_MWH,
        soc_percent=50.0,
        name="BESS",
    )
    return work


#: Conductor temperatures [degC] of the hot-conductor sensitivity, by line ``type``.
HOT_CONDUCTOR_C = {"cs": 90.0, "ol": 70.0}


def run_case(net: pp.pandapowerNet, case: dict, *, hot_conductors: bool = False) -> dict:
    """Run the power flow of one case; return the summary figures (see module doc).

    With ``hot_conductors`` the line resistances are taken at their rated temperature
    (cables 90 degC, overhead lines 70 degC) instead of the 20 degC catalogue values.
    """
    work = apply_case(net, case)
    if hot_conductors:
        work.line["temperature_degree_celsius"] = work.line.type.map(HOT_CONDUCTOR_C)
    # A DC start copes with the 30 degree shifts of the YNd11/Dyn11 transformers.
    pp.runpp(
        work,
        algorithm="nr",
        init="dc",
        calculate_voltage_angles=True,
        max_iteration=30,
        consider_line_temperature=hot_conductors,
    )
    return {
        "vm_min_pu": float(work.res_bus.vm_pu.min()),
        "vm_max_pu": float(work.res_bus.vm_pu.max()),
        "line_max_percent": float(work.res_line.loading_percent.max()),
        "trafo_max_percent": float(work.res_trafo.loading_percent.max()),
        "grid_p_mw": float(work.res_ext_grid.p_mw.sum()),
        "grid_q_mvar": float(work.res_ext_grid.q_mvar.sum()),
        "losses_mw": float(work.res_line.pl_mw.sum() + work.res_trafo.pl_mw.sum()),
        "vm_min_bus": str(work.bus.name[work.res_bus.vm_pu.idxmin()]),
        "vm_max_bus": str(work.bus.name[work.res_bus.vm_pu.idxmax()]),
        "line_max_name": str(work.line.name[work.res_line.loading_percent.idxmax()]),
        "trafo_max_name": str(work.trafo.name[work.res_trafo.loading_percent.idxmax()]),
    }


def main(argv: list[str] | None = None) -> int:
    """Print a Markdown table of all cases for the network file ``argv[0]``."""
    args = sys.argv[1:] if argv is None else argv
    net = read_network_file(Path(args[0]) if args else DEFAULT_NET)
    print(
        "| case | PV / wind per block [MW] | grid P [MW] / Q [Mvar] | V min [pu] (bus) "
        "| V max [pu] (bus) | max line [%] (line) | max trafo [%] (trafo) | losses [MW] |"
    )
    print("|---|---|---|---|---|---|---|---|")
    rows = [(name, case, False) for name, case in {**CASES, **INFO_CASES}.items()]
    rows += [(name, case, True) for name, case in CASES.items()]
    for name, case, hot in rows:
        r = run_case(net, case, hot_conductors=hot)
        label = f"{name}, hot conductors" if hot else name
        print(
            f"| {label} | {case['pv_mw']:.1f} / {case['wind_mw']:.1f} "
            f"| {r['grid_p_mw']:.1f} / {r['grid_q_mvar']:.1f} "
            f"| {r['vm_min_pu']:.4f} ({r['vm_min_bus']}) "
            f"| {r['vm_max_pu']:.4f} ({r['vm_max_bus']}) "
            f"| {r['line_max_percent']:.1f} ({r['line_max_name']}) "
            f"| {r['trafo_max_percent']:.1f} ({r['trafo_max_name']}) | {r['losses_mw']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
