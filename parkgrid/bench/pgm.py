"""Minimal pandapower -> power-grid-model conversion for the benchmark grids.

Covers what SimBench MV/LV grids use: buses, lines, 2-winding transformers at fixed
taps, line switches (open ends), closed bus-bus switches (links), ext_grid, loads,
sgens. Written for timing comparisons; it does not claim pandapower-identical models
(PGM's transformer model differs slightly), so the benchmark prints the max voltage
difference to parkgrid next to the timings. power-grid-model is an optional
dependency (the ``bench`` extra): import this module only where it is needed.
"""

from __future__ import annotations

__all__ = ["batch_update", "to_pgm"]

import numpy as np
import pandapower as pp
from power_grid_model import (
    BranchSide,
    ComponentType,
    DatasetType,
    LoadGenType,
    WindingType,
    initialize_array,
)


def to_pgm(net: pp.pandapowerNet) -> tuple[dict, dict[str, np.ndarray]]:
    """Return (input data, id arrays of loads/sgens/nodes)."""
    nid = {}
    next_id = 0

    def new_ids(n: int) -> np.ndarray:
        nonlocal next_id
        ids = np.arange(next_id, next_id + n)
        next_id += n
        return ids

    node = initialize_array(DatasetType.input, ComponentType.node, len(net.bus))
    node["id"] = new_ids(len(net.bus))
    node["u_rated"] = net.bus.vn_kv.to_numpy() * 1e3
    nid = dict(zip(net.bus.index, node["id"], strict=True))

    open_ends = {(int(s.element), int(s.bus)) for s in net.switch.itertuples()
                 if s.et == "l" and not s.closed}
    line = initialize_array(DatasetType.input, ComponentType.line, len(net.line))
    ln = net.line
    line["id"] = new_ids(len(ln))
    line["from_node"] = [nid[b] for b in ln.from_bus]
    line["to_node"] = [nid[b] for b in ln.to_bus]
    line["from_status"] = [int(ok and (i, fb) not in open_ends)
                           for i, fb, ok in zip(ln.index, ln.from_bus, ln.in_service, strict=True)]
    line["to_status"] = [int(ok and (i, tb) not in open_ends)
                         for i, tb, ok in zip(ln.index, ln.to_bus, ln.in_service, strict=True)]
    par = ln.parallel.to_numpy()
    line["r1"] = ln.r_ohm_per_km.to_numpy() * ln.length_km.to_numpy() / par
    line["x1"] = ln.x_ohm_per_km.to_numpy() * ln.length_km.to_numpy() / par
    line["c1"] = ln.c_nf_per_km.to_numpy() * ln.length_km.to_numpy() * 1e-9 * par
    line["tan1"] = 0.0
    line["i_n"] = ln.max_i_ka.to_numpy() * 1e3 * ln.df.to_numpy() * par

    tr = net.trafo
    trafo = initialize_array(DatasetType.input, ComponentType.transformer, len(tr))
    trafo["id"] = new_ids(len(tr))
    trafo["from_node"] = [nid[b] for b in tr.hv_bus]
    trafo["to_node"] = [nid[b] for b in tr.lv_bus]
    trafo["from_status"] = tr.in_service.astype(int).to_numpy()
    trafo["to_status"] = tr.in_service.astype(int).to_numpy()
    trafo["u1"] = tr.vn_hv_kv.to_numpy() * 1e3
    trafo["u2"] = tr.vn_lv_kv.to_numpy() * 1e3
    trafo["sn"] = tr.sn_mva.to_numpy() * 1e6 * tr.parallel.to_numpy()
    trafo["uk"] = tr.vk_percent.to_numpy() / 100
    trafo["pk"] = tr.vkr_percent.to_numpy() / 100 * trafo["sn"]
    trafo["i0"] = tr.i0_percent.to_numpy() / 100
    trafo["p0"] = tr.pfe_kw.to_numpy() * 1e3 * tr.parallel.to_numpy()
    trafo["winding_from"] = WindingType.delta
    trafo["winding_to"] = WindingType.wye_n
    trafo["clock"] = (np.round(tr.shift_degree.to_numpy() / 30).astype(int)) % 12
    trafo["tap_side"] = [BranchSide.from_side if s == "hv" else BranchSide.to_side
                         for s in tr.tap_side.fillna("hv")]
    trafo["tap_pos"] = tr.tap_pos.fillna(0).to_numpy()
    trafo["tap_nom"] = tr.tap_neutral.fillna(0).to_numpy()
    trafo["tap_min"] = tr.tap_min.fillna(0).to_numpy()
    trafo["tap_max"] = tr.tap_max.fillna(0).to_numpy()
    vn_tap = np.where(tr.tap_side.fillna("hv") == "hv", tr.vn_hv_kv, tr.vn_lv_kv) * 1e3
    trafo["tap_size"] = tr.tap_step_percent.fillna(0).to_numpy() / 100 * vn_tap

    bb = net.switch[(net.switch.et == "b") & net.switch.closed]
    link = initialize_array(DatasetType.input, ComponentType.link, len(bb))
    link["id"] = new_ids(len(bb))
    link["from_node"] = [nid[b] for b in bb.bus]
    link["to_node"] = [nid[b] for b in bb.element]
    link["from_status"] = 1
    link["to_status"] = 1

    eg = net.ext_grid
    source = initialize_array(DatasetType.input, ComponentType.source, len(eg))
    source["id"] = new_ids(len(eg))
    source["node"] = [nid[b] for b in eg.bus]
    source["status"] = eg.in_service.astype(int).to_numpy()
    source["u_ref"] = eg.vm_pu.to_numpy()
    source["u_ref_angle"] = np.deg2rad(eg.va_degree.to_numpy())
    source["sk"] = 1e15  # pandapower's ext_grid is an ideal source in a power flow

    load = initialize_array(DatasetType.input, ComponentType.sym_load, len(net.load))
    load["id"] = new_ids(len(net.load))
    load["node"] = [nid[b] for b in net.load.bus]
    load["status"] = net.load.in_service.astype(int).to_numpy()
    load["type"] = LoadGenType.const_power
    load["p_specified"] = net.load.p_mw.to_numpy() * 1e6
    load["q_specified"] = net.load.q_mvar.to_numpy() * 1e6

    gen = initialize_array(DatasetType.input, ComponentType.sym_gen, len(net.sgen))
    gen["id"] = new_ids(len(net.sgen))
    gen["node"] = [nid[b] for b in net.sgen.bus]
    gen["status"] = net.sgen.in_service.astype(int).to_numpy()
    gen["type"] = LoadGenType.const_power
    gen["p_specified"] = net.sgen.p_mw.to_numpy() * 1e6
    gen["q_specified"] = net.sgen.q_mvar.to_numpy() * 1e6

    data = {ComponentType.node: node, ComponentType.line: line,
            ComponentType.transformer: trafo, ComponentType.link: link,
            ComponentType.source: source, ComponentType.sym_load: load,
            ComponentType.sym_gen: gen}
    return data, {"load": load["id"], "sgen": gen["id"], "node": node["id"]}


def batch_update(ids: dict[str, np.ndarray], net: pp.pandapowerNet, prof: dict) -> dict:
    """Per-step sym_load / sym_gen updates from a profile set (MW -> W)."""
    n = len(next(iter(prof.values())))
    upd = {}
    if ("load", "p_mw") in prof:
        u = initialize_array(DatasetType.update, ComponentType.sym_load, (n, len(net.load)))
        u["id"] = ids["load"][None, :]
        pos = net.load.index.get_indexer(prof[("load", "p_mw")].columns)
        p = np.tile(net.load.p_mw.to_numpy(), (n, 1))
        p[:, pos] = prof[("load", "p_mw")].to_numpy()
        q = np.tile(net.load.q_mvar.to_numpy(), (n, 1))
        if ("load", "q_mvar") in prof:
            q[:, net.load.index.get_indexer(prof[("load", "q_mvar")].columns)] = \
                prof[("load", "q_mvar")].to_numpy()
        u["p_specified"] = p * 1e6
        u["q_specified"] = q * 1e6
        upd[ComponentType.sym_load] = u
    if ("sgen", "p_mw") in prof:
        u = initialize_array(DatasetType.update, ComponentType.sym_gen, (n, len(net.sgen)))
        u["id"] = ids["sgen"][None, :]
        p = np.tile(net.sgen.p_mw.to_numpy(), (n, 1))
        p[:, net.sgen.index.get_indexer(prof[("sgen", "p_mw")].columns)] = \
            prof[("sgen", "p_mw")].to_numpy()
        u["p_specified"] = p * 1e6
        u["q_specified"] = np.tile(net.sgen.q_mvar.to_numpy(), (n, 1)) * 1e6
        upd[ComponentType.sym_gen] = u
    return upd
