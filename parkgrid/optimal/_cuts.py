"""Valid inequalities that tighten a window's LP relaxation (no schedule removed).

A window's binaries (:mod:`parkgrid.optimal.model`) are the import/export
direction ``g`` of a step where export pays more than import, and each
electrolyser's on/off ``on`` (minimum load). Their LP relaxation is weak: with
``g`` fractional a valley step imports and exports at once (arbitrage) up to
the period peak, and with ``on = el / P`` a unit runs below its minimum load.
On the flagship year that relaxation was 2-5 times the accepted gap
(``OptimalOptions.mip_rel_gap``) below the optimum in over half the windows, so
HiGHS's branch and bound ran in 199 of 364 windows (80 % of the year's time).
The rows below hold at every integer point of the window's model, so the MILP
and its optimum are the same; only relaxed points are cut off.

Notation per step t: ``s = res - load`` the surplus [MW] (``d = -s``), ``R =
uns + sum(dis) + sum(coal_p)`` the supply other than import and RES, ``S =
sum(el) + sum(ch)`` the sinks, ``M_S`` and ``M_R`` their upper bounds
(ratings x availability, the load, coal p_max). The balance reads ``imp - exp
= d + S + curt + dump + sum(flex) - R``, with every term >= 0 but ``d``.

Direction (``g`` binary, the import limit ``imp <= L_i g``, export ``exp <= L_e
(1 - g)``)::

    exp + S <= s (1 - g) + M_S g + R                           (mode: export)
    imp + R <= d g + M_R (1 - g) + S + curt + dump + sum(flex)   (mode: import)
    imp <= peak - P0 (1 - g)                                    (peak)

g = 0 makes ``imp = 0`` and the first the balance with the non-negative
terms dropped; g = 1 makes ``exp = 0`` and it reads ``S <= M_S``. The second
likewise (g = 1: the balance itself; g = 0: ``R <= M_R``).

The first two hold for any part of the sinks, resp. the supply, in place of
``S`` (``R``): with ``S_K`` a sum over groups K of {electrolysers, charging}
and ``M_K`` its bound, ``exp + S_K <= s (1 - g) + M_K g + R`` (g = 0: the
balance with the sinks outside K dropped as well; g = 1: ``S_K <= M_K``, R >= 0);
with ``R_K`` over groups K of {unserved load, discharging, coal},
``imp + R_K <= d g + M_K (1 - g) + S + curt + dump + sum(flex)`` (g = 1: the
balance with the supply outside K dropped; g = 0: ``R_K <= M_K``, the right
side's other terms >= 0). Every such K is a row, the empty one included
(``exp <= s (1 - g) + R``: exporting, at most the surplus and the supply;
``imp <= d g + S + curt + dump + sum(flex)``). Which is tightest depends on
the relaxed point: with the whole of S and a fractional ``g`` the term ``M_S
g`` leaves room to buy at the peak and sell at once in every step of a surplus
day; with S_K = 0 the row allows that room only for sinks that actually run
(measured on the flagship year: whole-window branch and bounds 36 -> 9). The third holds as
``imp <= peak`` (g = 1) and ``0 <= peak - P0`` (g = 0), ``P0`` being the
period's running peak, the lower bound of ``peak``: the McCormick bound of
``imp <= peak g``.

Minimum load (unit j, ``on`` binary, ``el_j <= P_j on``, ``P_j`` its rating
times availability)::

    el_j <= min(s, P_j) on + imp + R                  (where s > 0)
    el_j <= min(s + P0, P_j) on + (peak - P0) + R     (with a capacity charge)

on = 0: ``el_j = 0`` and the right sides are >= 0. on = 1: the balance gives
``el_j <= s + imp + R`` (every other sink dropped) and ``imp <= peak``, and
``el_j <= P_j`` adds at most a non-negative term. They bind where the
relaxation runs a unit below its minimum load on a surplus (or headroom under
the peak) smaller than that load: the rest must then come from the battery,
a higher peak or import, as for a unit switched on and off.

Rows only in the steps whose binaries are binary (the window's head); the
relaxed look-ahead tail keeps its model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from parkgrid.optimal._inputs import Park

__all__ = ["add_valid_cuts"]


def add_valid_cuts(b: Any, blocks: dict[str, np.ndarray], park: Park, period: np.ndarray,
                   periods: np.ndarray, peak_floor_mw: np.ndarray, sl: slice,
                   head: int) -> None:
    """Add the rows of the module doc for the first *head* steps of the window *sl*.

    *b* is the window's ``model._Builder`` (passed in: this module sits below
    ``model`` so the two do not import each other); *period* the billing period of
    each step of the window, *periods* and *peak_floor_mw* the window's periods
    with a ``peak`` column and their running peaks [MW].
    """
    n = head
    if n <= 0:
        return
    res, load = park.res[sl][:n], park.load[sl][:n]
    s = res - load

    def cols(name: str) -> np.ndarray:
        if name not in blocks:
            return np.zeros((n, 0), int)
        return blocks[name][:n].reshape(n, -1)

    dis, ch, el = cols("dis"), cols("ch"), cols("el")
    coal, flex = cols("coal_p"), cols("flex_p")
    imp, exp = blocks["imp"][:n], blocks["exp"][:n]
    curt, uns = blocks["curt"][:n], blocks["uns"][:n]
    dump = blocks["dump"][:n] if "dump" in blocks else None
    p_bat = (park.bat_p * park.bat_av[sl])[:n] if dis.shape[1] else np.zeros((n, 0))
    p_el = (park.el_p * park.el_av[sl])[:n] if el.shape[1] else np.zeros((n, 0))
    peak = p0 = None
    if "peak" in blocks:
        pos = np.searchsorted(periods, period[sl][:n])
        peak, p0 = blocks["peak"][pos], peak_floor_mw[pos]

    def supply(r: np.ndarray, st: np.ndarray, sign: float) -> None:
        b.coef(r, uns[st], sign)
        for m in (dis, coal):
            for j in range(m.shape[1]):
                b.coef(r, m[st, j], sign)

    def sinks(r: np.ndarray, st: np.ndarray, sign: float, all_sinks: bool) -> None:
        for m in (el, ch) + ((flex,) if all_sinks else ()):
            for j in range(m.shape[1]):
                b.coef(r, m[st, j], sign)
        if all_sinks:
            b.coef(r, curt[st], sign)
            if dump is not None:
                b.coef(r, dump[st], sign)

    if "importing" in blocks:
        steps = blocks["importing_steps"]
        head_g = steps < n
        g, st = blocks["importing"][head_g], steps[head_g]
        if st.size:
            # (name, columns T x k, upper bounds T x k) of the groups of sinks and supply
            sink_groups = [(nm, m, ub) for nm, m, ub in
                           (("electrolysers", el, p_el), ("charging", ch, p_bat)) if m.shape[1]]
            supply_groups = [(nm, m, ub) for nm, m, ub in
                             (("unserved load", uns[:, None], load[:, None]),
                              ("discharging", dis, p_bat),
                              ("coal", coal, np.broadcast_to(park.coal_p_max, (n, coal.shape[1]))))
                             if m.shape[1]]
            for group in _subsets(sink_groups):
                m_k = sum((ub[st].sum(axis=1) for _, _, ub in group), np.zeros(st.size))
                r = b.rows_block(_name("export mode", group), (st.size,), -np.inf, s[st], st)
                b.coef(r, exp[st], 1.0)
                b.coef(r, g, s[st] - m_k)
                for _, m, _ in group:
                    for j in range(m.shape[1]):
                        b.coef(r, m[st, j], 1.0)
                supply(r, st, -1.0)
            for group in _subsets(supply_groups):
                m_k = sum((ub[st].sum(axis=1) for _, _, ub in group), np.zeros(st.size))
                r = b.rows_block(_name("import mode", group), (st.size,), -np.inf, m_k, st)
                b.coef(r, imp[st], 1.0)
                b.coef(r, g, m_k + s[st])
                for _, m, _ in group:
                    for j in range(m.shape[1]):
                        b.coef(r, m[st, j], 1.0)
                sinks(r, st, -1.0, all_sinks=True)
            if peak is not None and p0 is not None:
                r = b.rows_block("cut: import below the peak when importing", (st.size,),
                                 -np.inf, -p0[st], st)
                b.coef(r, imp[st], 1.0)
                b.coef(r, peak[st], -1.0)
                b.coef(r, g, -p0[st])

    if "on" in blocks:
        with_min = np.flatnonzero(park.el_min_load * park.el_p > 0)
        on, el_on = blocks["on"][:n], blocks["el_on"][:n]
        cap = p_el[:, with_min]
        for j in range(with_min.size):
            st = np.flatnonzero(s > 0)
            if st.size:
                r = b.rows_block("cut: electrolyser above the surplus", (st.size,), -np.inf,
                                 0.0, st)
                b.coef(r, el_on[st, j], 1.0)
                b.coef(r, on[st, j], -np.minimum(s[st], cap[st, j]))
                b.coef(r, imp[st], -1.0)
                supply(r, st, -1.0)
            if peak is not None and p0 is not None:
                st = np.arange(n)
                r = b.rows_block("cut: electrolyser above the surplus and the peak", (n,),
                                 -np.inf, -p0, st)
                b.coef(r, el_on[:, j], 1.0)
                b.coef(r, on[:, j], -np.minimum(s + p0, cap[:, j]))
                b.coef(r, peak, -1.0)
                supply(r, st, -1.0)


def _subsets(groups: list[Any]) -> list[list[Any]]:
    """Every subset of *groups* (the empty one first, all of them last)."""
    out: list[list[Any]] = [[]]
    for gr in groups:
        out += [[*sub, gr] for sub in out]
    return out


def _name(mode: str, group: list[Any]) -> str:
    return f"cut: {mode}, " + (" + ".join(nm for nm, _, _ in group) or "grid only")
