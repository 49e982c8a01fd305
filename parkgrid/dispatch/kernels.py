"""numba dispatch kernels: every strategy, every asset with state.

One signature for all strategies, so the event engine can advance any of them
over an interval ``[t0, t1)`` of steps between two events::

    advance(t0, t1, dt_h, strategy, params, series, res_mw, res_av, load_mw, load_av,
            load_order, bat, bat_av, el, el_curve, el_av, coal, coal_av,
            sf, si, out_sys, out_load, out_bat, out_el, out_coal)

Inputs are read-only arrays (column layouts below); an availability matrix
(``*_av``, T x units, 1 = in service) with no rows means "always in service".
The state ``sf`` (floats) and ``si`` (integers) is carried explicitly and left at
its value after step ``t1 - 1``; every output of the steps of the interval is
written (the output arrays need no initialising), no other. Powers are
step means [MW]; energies MW x ``dt_h``; hydrogen [kg]. The rules are written out
in README.md ("Dispatch strategies"); ``tests/reference_engine.py`` is an
independent step-by-step twin that must agree to 1e-9.

Three rules within a step (README, "Three rules within a step"):

- Hydrogen offtake is served from the tank at the start of the step (after trailer
  pick-ups) plus the same step's production; the electrolysers' room counts the
  step's offtake: they make at most ``capacity - tank + offtake`` [kg], and the tank
  ends at ``min(tank + made - delivered, capacity)``.
- Self-discharge compounds per step, before dispatch (after capacity fade):
  ``e *= (1 - self_discharge_pu_per_h) ** dt_h`` (the wrapper passes the per-step
  fraction ``1 - (1 - sd) ** dt_h``). It may take ``e`` below ``soc_min * cap``, as
  intended (``soc_min`` limits dispatch, not physics); the battery then cannot
  discharge, only charge.
- An electrolyser whose share of the surplus (what the units before it left) is
  below its minimum load stays off, or makes nothing if committed, and the surplus
  goes on down the order (next electrolyser, export, curtailment); outside
  ``valley_hydrogen``'s valley hours it never draws on the battery or the grid.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit

__all__ = ["STRATEGY_CODES", "advance", "advance_signature"]

STRATEGY_CODES = {
    "self_consumption": 0,
    "hydrogen_first": 1,
    "valley_hydrogen": 2,
    "peak_shaving": 3,
    "coal_peaking": 4,
}
SELF, H2FIRST, VALLEY, PEAK, COAL = 0, 1, 2, 3, 4

# params
P_IMPORT_CAP, P_GREEN_SHARE_MIN, P_TANK_CAP = 0, 1, 2
N_PARAMS = 3
# series rows (series is N_SERIES x T: one contiguous row per quantity)
S_IMP_LIM, S_EXP_LIM, S_H2_DEMAND, S_VALLEY, S_ISLAND, S_TRAILER_KG = 0, 1, 2, 3, 4, 5
N_SERIES = 6
# battery parameter columns
(B_P, B_ETA_C, B_ETA_D, B_SOC_MIN, B_SOC_MAX, B_E_NOM, B_SELF_DIS, B_GRID_FORMING,
 B_FADE_CAL, B_FADE_CYC) = range(10)
N_BAT = 10
# electrolyser parameter columns
(E_P, E_KWH_PER_KG, E_MIN_LOAD, E_STANDBY_PU, E_START_STEPS, E_MIN_UP, E_MIN_DOWN,
 E_STANDBY_MAX) = range(8)
N_EL = 8
# coal unit parameter columns
C_PMIN, C_PMAX, C_RAMP_UP, C_RAMP_DOWN, C_START_STEPS, C_MIN_UP, C_MIN_DOWN = range(7)
N_COAL = 7
# float state layout: per battery [e_mwh, discharged_mwh]; then tank, green/grid MWh
# into electrolysers, then coal output per unit
F_TANK, F_EL_GREEN, F_EL_GRID = 0, 1, 2
N_F_FIXED = 3
# integer state: per electrolyser [mode, timer, standby_timer], per coal [mode, timer]
OFF, STARTING, ON = 0, 1, 2
# system outputs
(O_IMP, O_EXP, O_CURT, O_UNSERVED, O_H2_PROD, O_H2_DEL, O_H2_SHORT, O_TANK, O_DUMP,
 O_EL_GRID, O_BAT_GRID, O_RES, O_LOAD, O_TRAILER_KG) = range(14)
N_OUT = 14
# per-battery outputs
OB_CH, OB_DIS, OB_E, OB_CAP = range(4)
# per-electrolyser outputs
OE_P, OE_KG, OE_MODE = range(3)
# per-coal outputs
OC_P, OC_MODE, OC_START = range(3)


def advance_signature() -> tuple:
    """Return the numba types of :func:`advance`'s arguments as the wrappers pass them.

    Python ints and floats, C-contiguous writeable float64 arrays (1-, 2- or 3-d),
    int64 ``load_order`` and ``si``.
    """
    f1, f2, f3 = np.zeros(0), np.zeros((0, 0)), np.zeros((0, 0, 0))
    i1 = np.zeros(0, dtype=np.int64)
    return tuple(numba.typeof(a) for a in (
        0, 0, 0.0, 0, f1, f2, f2, f2, f2, f2, i1, f2, f2, f2, f3, f2, f2, f2, f1, i1,
        f2, f2, f3, f3, f3))


def state_sizes(n_bat: int, n_el: int, n_coal: int) -> tuple[int, int]:
    """Lengths of the float and integer state arrays."""
    return N_F_FIXED + 2 * n_bat + n_coal, 3 * n_el + 2 * n_coal


@njit(cache=True)
def advance(
    t0, t1, dt_h, strategy, params, series, res_mw, res_av, load_mw, load_av, load_order,
    bat, bat_av, el, el_curve, el_av, coal, coal_av, sf, si,
    out_sys, out_load, out_bat, out_el, out_coal,
):  # pragma: no cover - compiled; tested against tests/reference_engine.py
    """Advance dispatch and every asset state over steps ``[t0, t1)``."""
    nb, ne, nc = bat.shape[0], el.shape[0], coal.shape[0]
    nl = load_mw.shape[1]
    cap = np.empty(nb)
    coal_f = N_F_FIXED + 2 * nb
    # an availability matrix with no rows means "always in service"
    res_av_given, load_av_given = res_av.shape[0] > 0, load_av.shape[0] > 0
    bat_av_given, el_av_given = bat_av.shape[0] > 0, el_av.shape[0] > 0
    coal_av_given = coal_av.shape[0] > 0

    # The helpers are closures over this call's arrays, which numba inlines.
    # Module-level helpers taking the arrays as arguments were inlined too, but
    # kept an (atomic) reference-count increment and decrement per array and
    # call: a third of the kernel's time. (Measured again for issue 17: as
    # module-level kernels, called or inlined, the one-off compile falls from
    # 7.3 to 4.2-5.8 s of CPU but a flagship year takes 3.2 ms instead of 1.5 ms,
    # and the event engine's benchmark slows by 1-2 ms: not kept.)

    def bat_down(t, k):
        return bat_av_given and bat_av[t, k] <= 0.0

    def el_down(t, k):
        return el_av_given and el_av[t, k] <= 0.0

    def coal_down(t, k):
        return coal_av_given and coal_av[t, k] <= 0.0

    def curve_multiplier(k, x):
        """Piecewise-linear specific-consumption multiplier at load fraction *x*."""
        n = el_curve.shape[1]
        if x <= el_curve[k, 0, 0]:
            return el_curve[k, 0, 1]
        for i in range(1, n):
            x1 = el_curve[k, i, 0]
            if x <= x1:
                x0, m0, m1 = el_curve[k, i - 1, 0], el_curve[k, i - 1, 1], el_curve[k, i, 1]
                return m0 + (m1 - m0) * (x - x0) / (x1 - x0)
        return el_curve[k, n - 1, 1]

    def kg_from_mw(p_mw, k):
        """Hydrogen [kg] made in one step at input *p_mw* [MW] on the part-load curve."""
        if p_mw <= 0.0:
            return 0.0
        x = p_mw / el[k, E_P]
        m = curve_multiplier(k, x)
        return p_mw * dt_h * 1000.0 / (el[k, E_KWH_PER_KG] * m)

    # constants of the units, computed once per call
    usable = np.empty(nb)
    for k in range(nb):
        usable[k] = bat[k, B_E_NOM] * (bat[k, B_SOC_MAX] - bat[k, B_SOC_MIN])
    kg_rated = np.empty(ne)
    p_standby = np.empty(ne)
    for k in range(ne):
        kg_rated[k] = kg_from_mw(el[k, E_P], k)
        p_standby[k] = el[k, E_STANDBY_PU] * el[k, E_P]

    def mw_for_kg(kg, k):
        """Largest input [MW] whose hydrogen output does not exceed *kg* (inverse of kg_from_mw).

        On each curve segment kg(x) = x P c / (m0 + s (x - x0)), c = dt 1000 / k0,
        which solves in closed form; segments are tried from full load down.
        """
        p_rated = el[k, E_P]
        if kg >= kg_rated[k]:
            return p_rated
        if kg <= 0.0:
            return 0.0
        c = dt_h * 1000.0 / el[k, E_KWH_PER_KG]
        n = el_curve.shape[1]
        for i in range(n - 1, 0, -1):
            x0, x1 = el_curve[k, i - 1, 0], el_curve[k, i, 0]
            if x1 <= x0:
                continue  # padding: a repeated end point
            m0, m1 = el_curve[k, i - 1, 1], el_curve[k, i, 1]
            s = (m1 - m0) / (x1 - x0)
            den = p_rated * c - kg * s
            if den <= 0.0:
                continue
            x = kg * (m0 - s * x0) / den
            if x0 - 1e-12 <= x <= x1 + 1e-12:
                return min(max(x, 0.0), 1.0) * p_rated
        # below the first breakpoint the multiplier is constant
        return kg * el[k, E_KWH_PER_KG] * el_curve[k, 0, 1] / (dt_h * 1000.0)

    def charge(p_avail, t):
        """Charge batteries in order from *p_avail* [MW]; return what is left."""
        for k in range(nb):
            if p_avail <= 0.0:
                break
            if bat_down(t, k):
                continue
            e = sf[N_F_FIXED + 2 * k]
            e_max = bat[k, B_SOC_MAX] * cap[k]
            room = (e_max - e) / (bat[k, B_ETA_C] * dt_h)
            p = min(p_avail, bat[k, B_P] - out_bat[t, k, OB_CH], max(room, 0.0))
            if p > 0.0:
                sf[N_F_FIXED + 2 * k] = min(e + p * bat[k, B_ETA_C] * dt_h, e_max)
                out_bat[t, k, OB_CH] += p
                p_avail -= p
        return p_avail

    def discharge(need, t):
        """Discharge batteries in order to cover *need* [MW]; return what is left."""
        for k in range(nb):
            if need <= 0.0:
                break
            if bat_down(t, k):
                continue
            e = sf[N_F_FIXED + 2 * k]
            e_min = bat[k, B_SOC_MIN] * cap[k]
            avail = (e - e_min) * bat[k, B_ETA_D] / dt_h
            p = min(need, bat[k, B_P], max(avail, 0.0))
            if p > 0.0:
                sf[N_F_FIXED + 2 * k] = max(e - p / bat[k, B_ETA_D] * dt_h, e_min)
                sf[N_F_FIXED + 2 * k + 1] += p * dt_h
                out_bat[t, k, OB_DIS] += p
                need -= p
        return need

    def electrolyse(p_avail, headroom_kg, t):
        """Offer *p_avail* [MW] to the electrolysers in order, within the tank headroom.

        A committed unit (ON) takes power above its standby draw (already served
        as base load) if its total reaches the minimum load; an OFF unit whose
        minimum down time has passed starts at once when it has no start-up
        delay, otherwise it begins its start-up when the offer would reach its
        minimum load. Returns (power left [MW], hydrogen made [kg], headroom left [kg]).
        """
        made = 0.0
        for k in range(ne):
            if el_down(t, k):
                continue
            mode = si[3 * k]
            p_rated = el[k, E_P]
            p_min = el[k, E_MIN_LOAD] * p_rated
            if mode == ON:
                base = out_el[t, k, OE_P]  # standby already drawn this step
            elif mode == OFF and si[3 * k + 1] >= el[k, E_MIN_DOWN]:
                if el[k, E_START_STEPS] > 0:
                    if p_avail >= p_min and p_avail > 0.0:
                        si[3 * k] = STARTING
                        si[3 * k + 1] = -1
                    continue
                base = 0.0
            else:
                continue
            cap_h2 = mw_for_kg(headroom_kg, k)
            total = min(base + max(p_avail, 0.0), p_rated, max(cap_h2, base))
            if total <= 0.0 or total < p_min:
                continue
            extra = total - base
            kg = kg_from_mw(total, k)
            out_el[t, k, OE_P] = total
            out_el[t, k, OE_KG] = kg
            if mode == OFF:
                si[3 * k] = ON
                si[3 * k + 1] = 0
                out_el[t, k, OE_MODE] = ON
            made += kg
            headroom_kg -= kg
            p_avail -= extra
        return p_avail, made, headroom_kg

    def coal_bounds(k, prev):
        """Feasible output range [MW] of running coal unit *k* after output *prev*.

        The first step after synchronising (*prev* = 0) starts at minimum load
        and may ramp up from there.
        """
        if prev <= 0.0:
            return coal[k, C_PMIN], min(coal[k, C_PMAX], coal[k, C_PMIN] + coal[k, C_RAMP_UP])
        return (max(coal[k, C_PMIN], prev - coal[k, C_RAMP_DOWN]),
                min(coal[k, C_PMAX], prev + coal[k, C_RAMP_UP]))

    def shed(deficit, t):
        """Shed *deficit* [MW] from loads in priority order (first listed shed first)."""
        for i in range(load_order.shape[0]):
            if deficit <= 0.0:
                break
            j = load_order[i]
            cut = min(out_load[t, j], deficit)
            out_load[t, j] -= cut
            deficit -= cut
        return deficit

    for t in range(t0, t1):
        # every output of the step is written below; the per-unit ones start at zero
        for k in range(nb):
            out_bat[t, k, OB_CH] = 0.0
            out_bat[t, k, OB_DIS] = 0.0
        for k in range(ne):
            out_el[t, k, OE_P] = 0.0
            out_el[t, k, OE_KG] = 0.0
            out_el[t, k, OE_MODE] = 0.0
        for k in range(nc):
            out_coal[t, k, OC_P] = 0.0
            out_coal[t, k, OC_MODE] = 0.0
            out_coal[t, k, OC_START] = 0.0
        el_grid = 0.0
        bat_grid = 0.0
        island = series[S_ISLAND, t] > 0.0
        imp_lim = 0.0 if island else series[S_IMP_LIM, t]
        exp_lim = 0.0 if island else series[S_EXP_LIM, t]
        valley = series[S_VALLEY, t] > 0.0

        res = 0.0
        for k in range(res_mw.shape[1]):
            res += res_mw[t, k] * (res_av[t, k] if res_av_given else 1.0)
        demand = 0.0
        for j in range(nl):
            out_load[t, j] = load_mw[t, j] * (load_av[t, j] if load_av_given else 1.0)
            demand += out_load[t, j]
        out_sys[t, O_RES] = res
        out_sys[t, O_LOAD] = demand

        # batteries: capacity fade, then self-discharge, then clip to the new maximum
        for k in range(nb):
            efc = sf[N_F_FIXED + 2 * k + 1] / usable[k] if usable[k] > 0.0 else 0.0
            fade = bat[k, B_FADE_CAL] * t + bat[k, B_FADE_CYC] * efc
            cap[k] = bat[k, B_E_NOM] * max(1.0 - fade, 0.0)
            e = sf[N_F_FIXED + 2 * k] * (1.0 - bat[k, B_SELF_DIS])
            sf[N_F_FIXED + 2 * k] = min(e, bat[k, B_SOC_MAX] * cap[k])
            out_bat[t, k, OB_CAP] = cap[k]

        # electrolysers: outages, end of start-up, standby draw of committed units
        standby = 0.0
        for k in range(ne):
            if el_down(t, k):
                if si[3 * k] != OFF:
                    si[3 * k] = OFF
                    si[3 * k + 1] = 0
                continue
            if si[3 * k] == STARTING and si[3 * k + 1] >= el[k, E_START_STEPS]:
                si[3 * k] = ON
                si[3 * k + 1] = 0
                si[3 * k + 2] = 0
            if si[3 * k] != OFF:
                out_el[t, k, OE_P] = p_standby[k]
                standby += p_standby[k]
            out_el[t, k, OE_MODE] = si[3 * k]  # the mode during this step

        # coal units: outages, end of start-up, this step's feasible range
        coal_lo = 0.0
        coal_hi = 0.0
        for k in range(nc):
            if coal_down(t, k):
                if si[3 * ne + 2 * k] != OFF:
                    si[3 * ne + 2 * k] = OFF
                    si[3 * ne + 2 * k + 1] = 0
                sf[coal_f + k] = 0.0
                continue
            if si[3 * ne + 2 * k] == STARTING and si[3 * ne + 2 * k + 1] >= coal[k, C_START_STEPS]:
                si[3 * ne + 2 * k] = ON
                si[3 * ne + 2 * k + 1] = 0
                sf[coal_f + k] = 0.0
            if si[3 * ne + 2 * k] == ON:
                prev = sf[coal_f + k]
                lo, hi = coal_bounds(k, prev)
                coal_lo += lo
                coal_hi += hi

        # an island without a grid-forming battery in service is a blackout
        blackout = island
        if island:
            for k in range(nb):
                if not bat_down(t, k) and bat[k, B_GRID_FORMING] > 0.0:
                    blackout = False
        if blackout:
            standby = 0.0
            coal_lo = 0.0
            coal_hi = 0.0
            for k in range(ne):
                out_el[t, k, OE_P] = 0.0
                out_el[t, k, OE_MODE] = OFF
                if si[3 * k] != OFF:
                    si[3 * k] = OFF
                    si[3 * k + 1] = 0
            for k in range(nc):
                if si[3 * ne + 2 * k] != OFF:
                    si[3 * ne + 2 * k] = OFF
                    si[3 * ne + 2 * k + 1] = 0
                sf[coal_f + k] = 0.0

        # trailer pick-ups at the start of the step take what the tank holds
        taken = min(series[S_TRAILER_KG, t], sf[F_TANK])
        sf[F_TANK] -= taken
        out_sys[t, O_TRAILER_KG] = taken
        demand_kg = series[S_H2_DEMAND, t]
        tank = sf[F_TANK]
        headroom = params[P_TANK_CAP] - tank + demand_kg
        made = 0.0
        green_el = 0.0
        net = res - demand - standby
        coal_out = coal_lo  # committed units run at least at their lower bound
        imp = 0.0
        exp = 0.0
        curt = 0.0
        dump = 0.0
        unserved = 0.0
        if blackout:
            curt = res
            unserved = demand
        elif net + coal_out >= 0.0:
            s = net + coal_out
            # batteries then electrolysers (hydrogen_first: the other way round);
            # one call site each keeps the compiled kernel smaller
            h2_first = strategy == H2FIRST
            for stage in range(2):
                if (stage == 0) == h2_first:
                    before = s
                    s, made, headroom = electrolyse(s, headroom, t)
                    green_el = before - s
                else:
                    s = charge(s, t)
            s = max(s, 0.0)  # rounding in the cascade must not make a negative export
            exp = min(s, exp_lim)
            rest = s - exp
            curt = min(rest, res)
            dump = rest - curt
        else:
            d = -(net + coal_out)
            if strategy == PEAK:
                shave = max(d - params[P_IMPORT_CAP], 0.0)
                left = discharge(shave, t)
                d -= shave - left
            else:
                d = discharge(d, t)
            if strategy == COAL and coal_hi > coal_lo:
                extra = min(d, coal_hi - coal_lo)
                coal_out += extra
                d -= extra
            imp = min(d, imp_lim)
            unserved = d - imp

        # valley_hydrogen: in valley hours electrolysers also take curtailed and
        # exported power, then grid power within the green-share bound
        if strategy == VALLEY and valley and not island:
            share = params[P_GREEN_SHARE_MIN]
            for k in range(ne):
                if el_down(t, k) or si[3 * k] == STARTING:
                    continue
                mode = si[3 * k]
                if mode == OFF and si[3 * k + 1] < el[k, E_MIN_DOWN]:
                    continue
                grid_room = max(imp_lim - imp, 0.0)
                if share > 0.0:
                    green = sf[F_EL_GREEN] + green_el * dt_h
                    grid = sf[F_EL_GRID] + el_grid * dt_h
                    grid_room = min(grid_room, max(green / share - green - grid, 0.0) / dt_h)
                offer = curt + exp + grid_room
                if mode == OFF and el[k, E_START_STEPS] > 0:
                    if offer >= el[k, E_MIN_LOAD] * el[k, E_P] and offer > 0.0:
                        si[3 * k] = STARTING
                        si[3 * k + 1] = -1
                    continue
                base = out_el[t, k, OE_P]
                kg_old = out_el[t, k, OE_KG]
                cap_h2 = mw_for_kg(headroom + kg_old, k)
                total = min(base + offer, el[k, E_P], max(cap_h2, base))
                if total <= base or total < el[k, E_MIN_LOAD] * el[k, E_P]:
                    continue
                kg_new = kg_from_mw(total, k)
                made += kg_new - kg_old
                headroom -= kg_new - kg_old
                out_el[t, k, OE_P] = total
                out_el[t, k, OE_KG] = kg_new
                if mode == OFF:
                    si[3 * k] = ON
                    si[3 * k + 1] = 0
                    out_el[t, k, OE_MODE] = ON
                g = total - base
                take = min(g, curt)
                curt -= take
                g -= take
                green_el += take
                take = min(g, exp)
                exp -= take
                g -= take
                green_el += take
                imp += g
                el_grid += g

        # grid charging in valley hours under the import cap (peak_shaving)
        if strategy == PEAK and valley and not island:
            room = min(imp_lim, params[P_IMPORT_CAP]) - imp
            if room > 0.0:
                left = charge(room, t)
                imp += room - left
                bat_grid = room - left

        # unserved load is shed by priority; beyond all load, committed
        # electrolysers drop their standby draw and shut down
        if unserved > 0.0:
            left = shed(unserved, t)
            for k in range(ne):
                if left <= 0.0:
                    break
                if out_el[t, k, OE_P] > 0.0 and out_el[t, k, OE_KG] <= 0.0:
                    cut = min(out_el[t, k, OE_P], left)
                    out_el[t, k, OE_P] -= cut
                    left -= cut
                    unserved -= cut
                    si[3 * k] = OFF
                    si[3 * k + 1] = -1

        # hydrogen tank: production, then offtake
        avail_kg = tank + made
        if np.isinf(demand_kg):
            delivered = made
            tank_end = tank
            short = 0.0
        else:
            delivered = min(demand_kg, avail_kg)
            tank_end = min(avail_kg - delivered, params[P_TANK_CAP])
            short = demand_kg - delivered
        sf[F_TANK] = tank_end
        sf[F_EL_GREEN] += green_el * dt_h
        sf[F_EL_GRID] += el_grid * dt_h

        # coal: commit decisions and outputs per unit; each unit runs at its
        # lower bound and the extra above the sum of lower bounds goes in order
        remaining = coal_out - coal_lo
        for k in range(nc):
            base_i = 3 * ne + 2 * k
            mode = si[base_i]
            if coal_down(t, k):
                continue
            if mode == ON:
                prev = sf[coal_f + k]
                lo, hi = coal_bounds(k, prev)
                p = lo + min(max(remaining, 0.0), hi - lo)
                remaining -= p - lo
                sf[coal_f + k] = p
                out_coal[t, k, OC_P] = p
                # shut down when running at minimum with no deficit left to fill
                if (strategy == COAL and unserved <= 0.0 and imp <= 0.0 and lo <= coal[k, C_PMIN]
                        and si[base_i + 1] + 1 >= coal[k, C_MIN_UP] and net + coal_out - p >= 0.0):
                    si[base_i] = OFF
                    si[base_i + 1] = -1
            elif mode == OFF:
                if (strategy == COAL and not blackout and (imp > 0.0 or unserved > 0.0)
                        and si[base_i + 1] >= coal[k, C_MIN_DOWN]):
                    si[base_i] = STARTING
                    si[base_i + 1] = -1
                    out_coal[t, k, OC_START] = 1.0
            out_coal[t, k, OC_MODE] = mode  # during this step

        # electrolyser mode bookkeeping at the end of the step
        for k in range(ne):
            if el_down(t, k):
                si[3 * k + 1] += 1
                continue
            if si[3 * k] == ON:
                if out_el[t, k, OE_KG] > 0.0:
                    si[3 * k + 2] = 0
                else:
                    si[3 * k + 2] += 1
                    if (si[3 * k + 2] > el[k, E_STANDBY_MAX]
                            and si[3 * k + 1] + 1 >= el[k, E_MIN_UP]):
                        si[3 * k] = OFF
                        si[3 * k + 1] = -1
                        si[3 * k + 2] = 0
            si[3 * k + 1] += 1
        for k in range(nc):
            si[3 * ne + 2 * k + 1] += 1

        out_sys[t, O_EL_GRID] = el_grid
        out_sys[t, O_BAT_GRID] = bat_grid
        out_sys[t, O_IMP] = imp
        out_sys[t, O_EXP] = exp
        out_sys[t, O_CURT] = curt
        out_sys[t, O_DUMP] = dump
        out_sys[t, O_UNSERVED] = unserved
        out_sys[t, O_H2_PROD] = made
        out_sys[t, O_H2_DEL] = delivered
        out_sys[t, O_H2_SHORT] = short
        out_sys[t, O_TANK] = tank_end
        for k in range(nb):
            out_bat[t, k, OB_E] = sf[N_F_FIXED + 2 * k]
