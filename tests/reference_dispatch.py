"""Slow pure-Python references of the dispatch kernels (tests only).

Written from the rule text in README.md, step by step with plain floats, so a
kernel bug does not reproduce itself here.
"""

from __future__ import annotations

import math

from parkgrid.dispatch import DispatchInputs


def self_consumption_reference(inp: DispatchInputs) -> dict[str, list]:
    dt = float(inp.dt_h)
    n = inp.n_steps
    nb, ne = len(inp.bat_p_mw), len(inp.el_p_mw)
    e = [float(inp.bat_e_mwh[k]) * float(inp.bat_soc_initial_pu[k]) for k in range(nb)]
    e_min = [float(inp.bat_e_mwh[k]) * float(inp.bat_soc_min_pu[k]) for k in range(nb)]
    e_max = [float(inp.bat_e_mwh[k]) * float(inp.bat_soc_max_pu[k]) for k in range(nb)]
    tank = float(inp.tank_initial_kg)
    cap = float(inp.tank_capacity_kg)

    def at(x, t):
        try:
            return float(x[t])
        except (TypeError, IndexError):
            return float(x)

    out = {k: [] for k in ("imp", "exp", "curt", "unserved", "ch", "dis", "e", "el",
                           "h2_prod", "h2_del", "h2_short", "tank")}
    for t in range(n):
        res, load = at(inp.res_mw, t), at(inp.load_mw, t)
        demand = math.inf if inp.h2_demand_kg is None else at(inp.h2_demand_kg, t)
        ch, dis, el = [0.0] * nb, [0.0] * nb, [0.0] * ne
        imp = exp = curt = unserved = 0.0
        produced = 0.0
        if res - load >= 0:
            surplus = res - load
            for k in range(nb):
                if surplus <= 0:
                    break
                eta = float(inp.bat_eta_charge[k])
                p = min(surplus, float(inp.bat_p_mw[k]), max((e_max[k] - e[k]) / (eta * dt), 0.0))
                if p > 0:
                    e[k] = min(e[k] + p * eta * dt, e_max[k])
                    ch[k] = p
                    surplus -= p
            headroom = cap - tank + demand
            for k in range(ne):
                if surplus <= 0:
                    break
                rated = float(inp.el_p_mw[k])
                spec = float(inp.el_kwh_per_kg[k])
                p = min(surplus, rated, headroom * spec / (1000.0 * dt))
                if p <= 0 or p < float(inp.el_min_load_pu[k]) * rated:
                    continue
                kg = p * dt * 1000.0 / spec
                el[k] = p
                produced += kg
                headroom -= kg
                surplus -= p
            exp = min(surplus, at(inp.export_limit_mw, t))
            curt = surplus - exp
        else:
            deficit = load - res
            for k in range(nb):
                if deficit <= 0:
                    break
                eta = float(inp.bat_eta_discharge[k])
                p = min(deficit, float(inp.bat_p_mw[k]), max((e[k] - e_min[k]) * eta / dt, 0.0))
                if p > 0:
                    e[k] = max(e[k] - p / eta * dt, e_min[k])
                    dis[k] = p
                    deficit -= p
            imp = min(deficit, at(inp.import_limit_mw, t))
            unserved = deficit - imp
        if math.isinf(demand):
            delivered, short = produced, 0.0
        else:
            delivered = min(demand, tank + produced)
            short = demand - delivered
            tank = min(tank + produced - delivered, cap)
        for key, val in (("imp", imp), ("exp", exp), ("curt", curt), ("unserved", unserved),
                         ("ch", ch), ("dis", dis), ("e", list(e)), ("el", el),
                         ("h2_prod", produced), ("h2_del", delivered), ("h2_short", short),
                         ("tank", tank)):
            out[key].append(val)
    return out
