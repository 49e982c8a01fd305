"""Capacity-expansion LP: the optimal strategy's operation plus capacity variables.

The operation is the optimal strategy's model (:func:`parkgrid.optimal.model.build_window`)
over the whole horizon in one window, built for the largest design, with these
changes:

* every binary is relaxed: electrolyser minimum load is dropped (a unit may run
  anywhere in [0, capacity]), coal on/off and starts become continuous in [0, 1];
* storage is cyclic: each battery starts at ``soc_initial_pu`` x its energy and
  ends at least there; the tank starts at ``initial_kg`` and ends at least there
  (so a sized tank is at least ``initial_kg``); storage has no terminal value;
* each extendable capacity is one column, bounded by its ``{min, max}``, costing
  its annualised capital cost plus fixed O&M per unit and year, times the
  horizon's share of a year; the operation's bounds become rows
  ``x_t <= availability_t x capacity`` (battery power and energy, electrolyser
  power, tank, grid import, and the RES available ``sum_k profile_k,t x P_k``).
  An extendable battery's energy column holds the energy above ``soc_min_pu x E``
  (``e_t - soc_min E``): its lower limit is then a column bound, not a row per step,
  and the energy rows, differences of consecutive steps, are unchanged (the same
  LP, one row per step fewer).

One connection point: a step imports or exports, never both, which an LP cannot
say where export pays more than import costs (there buying and selling at once
would pay). Exactly, such a "direction step" needs a binary: its exchange is in
``{0 <= imp <= I, exp = 0} U {imp = 0, 0 <= exp <= E}`` (``I``, ``E`` the step's
import and export limits). The LP is solved twice (``first_pass="hull"``, the
default):

1. **The convex hull of that union** (a triangle): ``imp, exp >= 0``,
   ``imp / I + exp / E <= 1``, one row per direction step, with the real prices.
   Every exact schedule satisfies it, so this LP's optimum is a **lower bound** on
   the exact (binary) optimum of the sizing model (to the solver's tolerance: an
   interior point's objective is within its relative duality gap, 1e-8). When the
   grid import capacity is extendable, ``I`` is its upper bound ``{max}`` (the
   step's limit in the inputs, which hold the largest design): an exact schedule
   of any design in the range imports at most ``min(capacity, limit) <= I``, so it
   still lies in the triangle, and the relaxation stays valid (it is weaker than
   the hull for the sized capacity, which would be bilinear).
2. **Each direction fixed** from the first solve: a step imports where ``imp - exp >
   1e-9 MW`` in the first solution, else it exports (a tie, most often a step
   neither importing nor exporting, exports: there export is the direction that
   pays; on 4 weeks of the flagship, simplex, no step was idle, and the rule
   ``imp / I > exp / E`` instead gave a 2.8 % dearer design). The first solution
   netted (``imp - exp`` on one side) is feasible here, so this solve is never
   dearer than it; its optimum is a feasible design of the exact problem: an
   **upper bound**. The design is this solve's. Two ways (``second_pass``):

   * ``full``: the whole LP again, capacities free (the optimum for those directions);
   * ``windows`` (:mod:`._windows`): the first solve's capacities kept, the netted
     schedule re-solved window by window (``window_h``, a quarter of a year by
     default, ``window_sweeps`` times, every second sweep shifted by half a window),
     each window a simplex LP with the rest of the horizon held. Also a feasible
     design, so also an upper bound, never dearer than the netted first solution; it
     cannot move a capacity. ``auto`` (the default) takes ``full`` up to 3,000 steps
     and ``windows`` beyond: on a year the interior point's second full solve cost
     more than its first (no warm start, more iterations with the directions fixed).

   Measured on the flagship (6 Dec 2026, AMD EPYC, 2 cores, load 2-3, other work on
   the second core; the same first solve; CNY/yr, gap to the lower bound, wall time of
   the second pass):

   ==========================================  ===========  =======  ==========
   second pass                                 design       gap      time
   ==========================================  ===========  =======  ==========
   none: the first solution netted             25,411,828   10.64 %  0
   windows of a week, 1 sweep                  24,315,264   6.610 %  6.0-7.5 s
   windows of a week, 2 sweeps                 24,285,976   6.497 %  15.7 s
   windows of 2 weeks, 2 sweeps                24,279,353   6.472 %  16.6 s
   windows of a quarter, 1 sweep (default)     24,275,569   6.457 %  11.8-16.7 s
   windows of a quarter, 2 sweeps              24,271,156   6.440 %  36.7 s
   one window of the whole year                24,271,156   6.440 %  27.2 s
   ``full`` (capacities free)                  24,265,885   6.420 %  125.3 CPU-s
   ==========================================  ===========  =======  ==========

   The whole-year window is the optimum for the first solve's capacities and
   directions; keeping the capacities costs 0.02 %, the default's windows 0.04 %
   against ``full``. On 4 weeks (one window): 34,788,847 (1.997 %) in 0.8 CPU-s
   against ``full`` 34,738,226 (1.854 %) in 3.9 CPU-s.

``stats["lower_bound_cny"]`` (first solve) and ``stats["upper_bound_cny"]`` (second)
[CNY/yr] bound the exact optimum; ``stats["gap_pct"]`` = 100 x (upper - lower) /
|upper|. With no direction step the LP is exact (one solve, gap 0).
``first_pass="import_price"`` is the former first solve, kept for comparison:
export valued at the import cost (no arbitrage pays, no hull rows); it gives no
bound. Elsewhere doing both never pays (:mod:`parkgrid.optimal.model`). The other
relaxations (electrolyser minimum load, coal commitment) are in both solves: the
bounds are on the sizing model as stated here, not on a model with those binaries.

Targets (:class:`TargetRows`) are rows on the whole horizon:

* annual green share (KPI ``green_share_annual``): ``sum(RES - curtailed) >= s x
  sum(loads + electrolysers + charging - discharging)`` (consumption, as storage
  ends where it started or above; exact, except that the loads count in full,
  unserved load too, so shedding load never meets a target);
* hourly-matched green share (KPI ``green_share_hourly``): ``m_t <= RES_t -
  curtailed_t - exported_t``, ``m_t <= net consumption_t``, ``sum m >= s x sum net
  consumption`` (exact: the KPI is a sum of minima);
* green hydrogen (KPI ``h2_green_kg``): ``g_t <= electrolyser MW_t``, ``g_t <=
  RES_t - curtailed_t - exported_t``, ``sum g x dt x 1000 / kWh per kg >= target``,
  with the largest kWh/kg of the units. The step's local RES goes to the
  electrolysers first, where the KPI shares it pro rata among all consumers, so
  the LP can count more green hydrogen than the KPI of its own schedule; the
  truth check reports the KPI;
* CO2 cap (KPI ``co2_total_t``): ``sum import x ef x dt + coal MWh x tCO2/MWh <= cap`` (exact).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from parkgrid.errors import ParkgridError
from parkgrid.optimal._inputs import Park, park_arrays, to_result
from parkgrid.optimal.model import WindowState, _Builder, build_window
from parkgrid.sizing._highs_lp import HighsLp
from parkgrid.sizing._hipo import HipoLp, hipo_available
from parkgrid.sizing._windows import WindowRepair, repair_in_windows
from parkgrid.sizing.problem import (
    CapacityColumn,
    SizingInfeasibleError,
    SizingProblem,
    SizingSolution,
    TargetRows,
)

__all__ = [
    "CapacityColumn",
    "SizingInfeasibleError",
    "SizingProblem",
    "SizingSolution",
    "TargetRows",
    "solve_sizing",
]

_HOURS_PER_YEAR = 8760.0
#: default window of the second pass in windows [h]: a quarter of a year (module doc)
WINDOW_H = _HOURS_PER_YEAR / 4


@dataclass
class _Built:
    """The assembled LP and where its parts are."""

    c: np.ndarray
    A: sparse.csr_array
    rlo: np.ndarray
    rhi: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    offset: float
    blocks: dict[str, np.ndarray]
    caps: list[tuple[CapacityColumn, int]]
    target_rows: dict[str, np.ndarray]
    park: Park
    res_fixed: np.ndarray
    res_unit: np.ndarray
    horizon_fraction: float
    cap_cost: np.ndarray
    c_true: np.ndarray
    direction_steps: np.ndarray
    rp: Any
    #: (battery, soc_min_pu, its energy column): the block "e" of an extendable battery
    #: holds the energy above soc_min_pu x E (module doc)
    e_above_min: list[tuple[int, float, int]] = dataclasses.field(default_factory=list)
    #: each column's step (-1: none), for HiPO's split of dense columns (:mod:`._hipo`)
    col_step: np.ndarray | None = None


def _rows_of(row_blocks: list[tuple[str, int, int]], name: str) -> np.ndarray:
    for nm, a, b in row_blocks:
        if nm == name:
            return np.arange(a, b)
    raise KeyError(name)  # pragma: no cover


def build_sizing(problem: SizingProblem, *, hull: bool = True) -> _Built:
    """Assemble the sizing LP of *problem* (see the module doc).

    *hull*: the first pass is the convex hull of each direction step's import/export
    disjunction at the real prices (else export at the import cost, no hull rows).
    """
    inputs = problem.inputs
    park = park_arrays(inputs)
    n, dt = park.n, park.dt_h
    nb, ne, nc = park.bat_p.size, park.el_p.size, park.coal_p_max.size
    for name, got, want in (("battery_p", len(problem.battery_p), nb),
                            ("battery_e", len(problem.battery_e), nb),
                            ("electrolyser_p", len(problem.electrolyser_p), ne)):
        if got != want:
            raise ValueError(f"sizing: {name} has {got} entries for {want} units")
    park = dataclasses.replace(park, el_min_load=np.zeros(ne))
    prices = dataclasses.replace(problem.prices, battery_value_cny_per_mwh=0.0,
                                 tank_value_cny_per_kg=0.0)
    rp_true = prices.resolve(inputs)
    # steps where export pays more than import costs: the first pass values export
    # at the import cost there, so the window has no direction binaries (module doc)
    direction_steps = np.flatnonzero((rp_true.export_revenue > rp_true.import_cost)
                                     & (park.imp_lim > 0) & (park.exp_lim > 0))
    rp = dataclasses.replace(rp_true, export_revenue=np.minimum(rp_true.export_revenue,
                                                                rp_true.import_cost))
    horizon_fraction = n * dt / _HOURS_PER_YEAR

    res_fixed = park.res.copy()
    k_res = len(problem.res)
    res_unit = (np.column_stack([np.asarray(p, float).reshape(n) for _, p in problem.res])
                if k_res else np.zeros((n, 0)))
    res_hi = np.array([c.hi for c, _ in problem.res], float)
    # the largest RES available bounds curtailment in build_window; the rows below
    # bound it by the sized RES
    park = dataclasses.replace(park, res=res_fixed + res_unit @ res_hi)

    e_ext = [c is not None for c in problem.battery_e]
    bat_e0 = park.bat_e0.copy()
    bat_e0[e_ext] = 0.0  # the initial energy of an extendable battery is a row term
    tank0 = float(park.tank0_kg)
    state = WindowState(bat_e_mwh=bat_e0, tank_kg=tank0, peak_mw={},
                        coal_on=np.zeros(nc), coal_p_mw=np.zeros(nc),
                        coal_state_steps=np.full(nc, np.inf))
    wm = build_window(park, rp, 0, n, state)
    blocks = dict(wm.blocks)
    lb, ub = wm.lb.copy(), wm.ub.copy()
    b = _Builder()
    b.n, b.m = wm.c.size, wm.A.shape[0]
    # keep the balance rows' right-hand side for the fixed RES only
    bal = _rows_of(wm.row_blocks, "power balance")
    rlo, rhi = wm.row_lo.copy(), wm.row_hi.copy()
    rlo[bal] = rhi[bal] = park.load - res_fixed

    caps: list[tuple[CapacityColumn, int]] = []

    def cap(col: CapacityColumn, lo: float | None = None) -> np.ndarray:
        lo_v = col.lo if lo is None else max(col.lo, lo)
        if lo_v > col.hi + 1e-12:
            raise ValueError(f"sizing: {col.path} needs at least {lo_v:g}, above its max "
                             f"{col.hi:g}")
        j = b.var((), lo_v, col.hi, col.cost_cny_per_unit_yr * horizon_fraction)
        caps.append((col, int(j)))
        return j

    # extendable RES: P_k in the balance and as the curtailment bound
    if k_res:
        pk = np.array([int(cap(c)) for c, _ in problem.res])
        b.coef(bal[:, None], pk[None, :], res_unit)
        r = b.rows_block("curtailment within the sized RES", (n,), -np.inf, res_fixed)
        b.coef(r, blocks["curt"], 1.0)
        b.coef(r[:, None], pk[None, :], -res_unit)
        blocks["res_cap"] = pk
    # batteries
    e_above_min: list[tuple[int, float, int]] = []
    if nb:
        e, ch, dis = blocks["e"], blocks["ch"], blocks["dis"]
        soc_rows = _rows_of(wm.row_blocks, "battery energy").reshape(n, nb)
        smin = np.asarray(inputs.bat_soc_min_pu, float).reshape(nb)
        smax = np.asarray(inputs.bat_soc_max_pu, float).reshape(nb)
        sini = np.asarray(inputs.bat_soc_initial_pu, float).reshape(nb)
        for i in range(nb):
            pcol, ecol = problem.battery_p[i], problem.battery_e[i]
            if pcol is not None:
                j = cap(pcol)
                av = park.bat_av[:, i]
                for blk, what in ((ch, "charge"), (dis, "discharge")):
                    r = b.rows_block(f"battery {what} within the sized power", (n,), -np.inf, 0.0)
                    b.coef(r, blk[:, i], 1.0)
                    b.coef(r, j, -av)
            if ecol is not None:
                # e holds the energy above soc_min x E (>= 0, a column bound rather than
                # a row per step); the energy rows' differences do not see the shift
                j = cap(ecol)
                e_above_min.append((i, float(smin[i]), int(j)))
                lb[e[:, i]] = 0.0
                r = b.rows_block("battery energy within the sized capacity", (n,), -np.inf, 0.0)
                b.coef(r, e[:, i], 1.0)
                b.coef(r, j, -(smax[i] - smin[i]))
                b.coef(soc_rows[0, i], j, smin[i] - sini[i])  # starts at soc_initial x E
                r = b.rows_block("battery ends where it started", (1,), 0.0, np.inf)
                b.coef(r, e[-1, i], 1.0)
                b.coef(r, j, -(sini[i] - smin[i]))
            else:
                lb[e[-1, i]] = max(lb[e[-1, i]], park.bat_e0[i])
    # electrolysers
    for i in range(ne):
        col = problem.electrolyser_p[i]
        if col is not None:
            j = cap(col)
            r = b.rows_block("electrolyser within the sized power", (n,), -np.inf, 0.0)
            b.coef(r, blocks["el"][:, i], 1.0)
            b.coef(r, j, -park.el_av[:, i])
    # tank: ends at least at its initial content
    if "tank" in blocks:
        tk = blocks["tank"]
        lb[tk[-1]] = max(lb[tk[-1]], tank0)
        if problem.tank is not None:
            j = cap(problem.tank, lo=tank0)
            r = b.rows_block("tank within the sized capacity", (n,), -np.inf, 0.0)
            b.coef(r, tk, 1.0)
            b.coef(r, j, -1.0)
    elif problem.tank is not None:
        raise ValueError("sizing: hydrogen.capacity_kg is extendable but the park has no "
                         "hydrogen offtake to size a tank for")
    # grid import
    if problem.grid_import is not None:
        j = cap(problem.grid_import)
        r = b.rows_block("import within the sized connection", (n,), -np.inf, 0.0)
        b.coef(r, blocks["imp"], 1.0)
        b.coef(r, j, -1.0)
    target_rows = _add_targets(b, blocks, problem, park, res_fixed, res_unit, bal.size, dt)
    if hull and direction_steps.size:
        # imp / I + exp / E <= 1: the convex hull of {imp <= I, exp = 0} U {imp = 0,
        # exp <= E} (module doc); I = the largest import (an extendable import's max)
        r = b.rows_block("one direction: the hull of import or export", (direction_steps.size,),
                         -np.inf, 1.0)
        b.coef(r, blocks["imp"][direction_steps], 1.0 / park.imp_lim[direction_steps])
        b.coef(r, blocks["exp"][direction_steps], 1.0 / park.exp_lim[direction_steps])

    old = sparse.coo_array(wm.A)
    A = sparse.csr_array(
        (np.concatenate([old.data, *b.vals]),
         (np.concatenate([old.row, *b.rows]), np.concatenate([old.col, *b.cols]))),
        shape=(b.m, b.n))
    c = np.concatenate([wm.c, *b.c]) if b.c else wm.c.copy()
    lb = np.concatenate([lb, *b.lb]) if b.lb else lb
    ub = np.concatenate([ub, *b.ub]) if b.ub else ub
    rlo = np.concatenate([rlo, *b.rlo]) if b.rlo else rlo
    rhi = np.concatenate([rhi, *b.rhi]) if b.rhi else rhi
    if k_res:  # curtailment may reach the largest RES; the sized RES row binds it
        ub[blocks["curt"]] = park.res
    cap_cost = np.array([col.cost_cny_per_unit_yr * horizon_fraction for col, _ in caps])
    c_true = c.copy()
    c_true[blocks["exp"][direction_steps]] = -rp_true.export_revenue[direction_steps] * dt
    if hull:
        c = c_true.copy()
    col_step = np.full(c.size, -1, np.int64)
    for blk in blocks.values():
        if np.ndim(blk) and np.shape(blk)[0] == n:
            col_step[np.asarray(blk).reshape(n, -1)] = np.arange(n)[:, None]
    return _Built(c=c, A=A, rlo=rlo, rhi=rhi, lb=lb, ub=ub, offset=wm.offset, blocks=blocks,
                  caps=caps, target_rows=target_rows, park=park, res_fixed=res_fixed,
                  res_unit=res_unit, horizon_fraction=horizon_fraction, cap_cost=cap_cost,
                  c_true=c_true, direction_steps=direction_steps, rp=rp_true,
                  e_above_min=e_above_min, col_step=col_step)


def _add_targets(b: _Builder, blocks: dict[str, np.ndarray], problem: SizingProblem,
                 park: Park, res_fixed: np.ndarray, res_unit: np.ndarray, n: int,
                 dt: float) -> dict[str, np.ndarray]:
    """Rows of the targets (module doc); returns target name -> its row indices."""
    t = problem.targets
    rows: dict[str, np.ndarray] = {}
    pk = blocks.get("res_cap", np.zeros(0, int))
    el = blocks.get("el", np.zeros((n, 0), int))
    ch = blocks.get("ch", np.zeros((n, 0), int))
    dis = blocks.get("dis", np.zeros((n, 0), int))

    def net_consumption(r: np.ndarray, scale: float) -> None:
        # scale x (load + el + ch - dis), the load a constant on the right; the whole
        # demand counts (unserved too), so shedding load never meets a target
        for blk, sign in ((el, 1.0), (ch, 1.0), (dis, -1.0)):
            if blk.size:
                b.coef(r[:, None], blk, sign * scale)  # r (T,), blk (T, units)

    def local_res(r: np.ndarray, scale: float, *, exported: bool) -> None:
        # scale x (RES - curtailed [- exported]) per step, without the fixed RES constant
        b.coef(r, blocks["curt"], -scale)
        if exported:
            b.coef(r, blocks["exp"], -scale)
        if pk.size:
            b.coef(r[:, None], pk[None, :], scale * res_unit)

    if t.green_share_annual_min is not None:
        s = float(t.green_share_annual_min)
        # sum(RES - curt) - s sum(net consumption) >= 0
        r = b.rows_block("target: annual green share", (), s * park.load.sum() - res_fixed.sum(),
                         np.inf)
        r_all = np.full(n, int(r))
        local_res(r_all, 1.0, exported=False)
        net_consumption(r_all, -s)
        rows["green_share_annual_min"] = np.atleast_1d(r)
    if t.green_share_hourly_min is not None:
        s = float(t.green_share_hourly_min)
        m = b.var((n,), -np.inf, np.inf)
        r1 = b.rows_block("hourly match below local RES", (n,), -np.inf, res_fixed)
        b.coef(r1, m, 1.0)
        local_res(r1, -1.0, exported=True)
        r2 = b.rows_block("hourly match below net consumption", (n,), -np.inf, park.load)
        b.coef(r2, m, 1.0)
        net_consumption(r2, -1.0)
        r = b.rows_block("target: hourly green share", (), s * park.load.sum(), np.inf)
        b.coef(np.full(n, int(r)), m, 1.0)
        net_consumption(np.full(n, int(r)), -s)
        rows["green_share_hourly_min"] = np.concatenate([np.atleast_1d(r)])
    if t.green_h2_kg_min is not None:
        if el.size == 0:
            raise ValueError("sizing: a green-hydrogen target needs an electrolyser")
        g = b.var((n,), -np.inf, np.inf)
        r1 = b.rows_block("green power to electrolysers", (n,), -np.inf, 0.0)
        b.coef(r1, g, 1.0)
        b.coef(r1[:, None], el, -1.0)
        r2 = b.rows_block("green power from local RES", (n,), -np.inf, res_fixed)
        b.coef(r2, g, 1.0)
        local_res(r2, -1.0, exported=True)
        kg_per_mw_step = dt * 1000.0 / float(np.max(park.el_kwh_per_kg))
        r = b.rows_block("target: green hydrogen", (), float(t.green_h2_kg_min), np.inf)
        b.coef(np.full(n, int(r)), g, kg_per_mw_step)
        blocks["green_h2"] = g
        rows["green_h2_kg_min"] = np.atleast_1d(r)
    if t.co2_t_max is not None:
        r = b.rows_block("target: CO2 cap", (), -np.inf, float(t.co2_t_max))
        ef = float(problem.prices.ef_kg_per_kwh)  # kg/kWh == t/MWh
        b.coef(np.full(n, int(r)), blocks["imp"], ef * dt)
        if "coal_p" in blocks:
            nc = blocks["coal_p"].shape[1]
            co2 = np.broadcast_to(np.asarray(problem.prices.coal_co2_t_per_mwh, float), (nc,))
            b.coef(np.full((n, nc), int(r)), blocks["coal_p"], co2[None, :] * dt)
        rows["co2_t_max"] = np.atleast_1d(r)
    return rows


def solve_sizing(problem: SizingProblem, *, solver: str = "auto",
                 time_limit_s: float = 3600.0, first_pass: str = "hull",
                 second_pass: str = "auto", window_h: float = WINDOW_H,
                 window_sweeps: int = 1) -> SizingSolution:
    """Size *problem*: the cheapest design over its horizon (module doc).

    *solver* is HiGHS's LP solver: ``simplex``, ``ipm`` (IPX, without crossover),
    ``hipo`` (HiGHS's HiPO interior point through cyhighs, :mod:`._hipo`, without
    crossover), ``choose`` (HiGHS picks), or ``auto``: simplex up to 3,000 steps (an
    exact vertex), beyond it ``hipo`` where cyhighs is installed, else ``ipm``. An
    interior point's design is the optimum to HiGHS's tolerance (relative duality
    gap 1e-8), not a vertex.

    *first_pass* (steps where export pays more than import costs, module doc):
    ``hull`` (the convex hull of import-or-export: a lower bound, ``stats``
    ``lower_bound_cny`` and ``gap_pct``) or ``import_price`` (export at the import
    cost; no bound).

    *second_pass* (with such steps; module doc): ``full`` (the whole LP re-solved with
    each direction fixed, capacities free), ``windows`` (the first pass's capacities
    kept, its netted schedule re-solved window by window, *window_h* hours each (a
    quarter of a year by default), *window_sweeps* times over the horizon,
    :mod:`._windows`) or ``auto``: ``full`` up to 3,000 steps, ``windows`` beyond,
    where a full second solve of the interior point costs more than the first.

    Raises
    ------
    SizingInfeasibleError
        No design in the ranges meets the targets; the message names each
        target without which a design exists.
    """
    if first_pass not in ("hull", "import_price"):
        raise ValueError(f"sizing: first_pass must be 'hull' or 'import_price', "
                         f"not {first_pass!r}")
    if second_pass not in ("auto", "full", "windows"):
        raise ValueError(f"sizing: second_pass must be 'auto', 'full' or 'windows', "
                         f"not {second_pass!r}")
    if not window_h > 0:
        raise ValueError(f"sizing: window_h must be > 0 h, not {window_h!r}")
    if window_sweeps < 1:
        raise ValueError(f"sizing: window_sweeps must be >= 1, not {window_sweeps!r}")
    hull = first_pass == "hull"
    t0 = time.perf_counter()
    built = build_sizing(problem, hull=hull)
    build_s = time.perf_counter() - t0
    if solver == "auto":
        solver = ("simplex" if built.park.n <= 3000
                  else "hipo" if hipo_available() else "ipm")
    steps = built.direction_steps
    lp: HighsLp | HipoLp = (
        HipoLp(built.c, built.A, built.rlo, built.rhi, built.lb, built.ub,
               time_limit_s=time_limit_s, col_step=built.col_step) if solver == "hipo"
        else HighsLp(built.c, built.A, built.rlo, built.rhi, built.lb, built.ub, solver=solver,
                     time_limit_s=time_limit_s))
    t1, cpu1 = time.perf_counter(), time.process_time()
    status, x, _ = lp.run()
    passes = 1
    pass_cpu_s = [time.process_time() - cpu1]
    if status == "infeasible":
        raise SizingInfeasibleError(_diagnose(lp, built, problem))
    if x is None:
        raise ParkgridError(f"sizing: HiGHS stopped without a solution ({status})")
    hf = built.horizon_fraction
    first_cny = (float(built.c @ x) + built.offset) / hf
    if second_pass == "auto":
        second_pass = "full" if built.park.n <= 3000 else "windows"
    repair: WindowRepair | None = None
    if steps.size and second_pass == "windows":  # pass 2 in windows, capacities kept
        cpu2 = time.process_time()
        x, repair = _second_pass_in_windows(built, x, window_h, window_sweeps)
        passes = 2
        pass_cpu_s.append(time.process_time() - cpu2)
    elif steps.size:  # pass 2: each such step's direction fixed, export at its price
        imp, exp, ub_imp, ub_exp = _fixed_directions(built, x)
        lp.set_cols(imp, lb=np.zeros(steps.size), ub=ub_imp)
        lp.set_cols(exp, cost=built.c_true[exp], lb=np.zeros(steps.size), ub=ub_exp)
        status, x2, _ = lp.run()
        passes = 2
        pass_cpu_s.append(time.process_time() - cpu1 - pass_cpu_s[0])
        if x2 is None:  # pragma: no cover - the first solution, netted, stays feasible
            raise ParkgridError(f"sizing: the second pass failed ({status})")
        x = x2
    solve_s, solve_cpu_s = time.perf_counter() - t1, time.process_time() - cpu1
    upper = (float(built.c_true @ x) + built.offset) / hf
    lower = first_cny if hull or not steps.size else None
    bounds: dict[str, Any] = {
        "first_pass": first_pass if steps.size else "exact",
        "second_pass": second_pass if steps.size else None,
        "lower_bound_cny": lower, "upper_bound_cny": upper,
        "gap_pct": (None if lower is None
                    else 100.0 * (upper - lower) / max(abs(upper), 1e-9))}
    return _solution(problem, built, x, built.c_true, built.rp, {**bounds,
        "variables": int(built.c.size), "rows": int(built.A.shape[0]),
        "nonzeros": int(built.A.nnz), "steps": int(built.park.n), "passes": passes,
        "direction_steps": int(steps.size), "build_s": build_s, "solve_s": solve_s,
        "pass_cpu_s": pass_cpu_s,
        "solve_cpu_s": solve_cpu_s, "solver": solver,
        **({} if repair is None else {
            "window_h": float(window_h), "window_sweeps": int(window_sweeps),
            "windows": repair.windows,
            "windows_kept": repair.kept, "window_simplex_iterations": repair.simplex_iterations,
        })})


def _fixed_directions(built: _Built, x: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each direction step's direction from the first solution *x* (module doc, 2.).

    A step imports where ``imp - exp > 1e-9 MW``, else it exports. Returns the import
    and export columns of those steps and their upper bounds with the other direction
    closed (0).
    """
    steps = built.direction_steps
    imp, exp = built.blocks["imp"][steps], built.blocks["exp"][steps]
    importing = x[imp] - x[exp] > 1e-9
    return (imp, exp, np.where(importing, built.ub[imp], 0.0),
            np.where(importing, 0.0, built.ub[exp]))


def _second_pass_in_windows(built: _Built, x1: np.ndarray, window_h: float, sweeps: int
                            ) -> tuple[np.ndarray, WindowRepair]:
    """Net the first solution *x1*, fix its capacities, re-solve it window by window.

    Each direction step's direction is fixed as in the full second pass
    (:func:`_fixed_directions`; :mod:`._windows`).
    """
    x = np.clip(x1, built.lb, built.ub)
    imp, exp, ub_imp, ub_exp = _fixed_directions(built, x)
    net = x[imp] - x[exp]
    lb, ub = built.lb.copy(), built.ub.copy()
    ub[imp], ub[exp] = ub_imp, ub_exp
    # netted, within the closed direction's bound 0 (a net of at most 1e-9 MW exports)
    x[imp] = np.minimum(np.maximum(net, 0.0), ub_imp)
    x[exp] = np.minimum(np.maximum(-net, 0.0), ub_exp)
    for _, j in built.caps:
        lb[j] = ub[j] = x[j]
    assert built.col_step is not None
    window_steps = max(1, round(window_h / built.park.dt_h))
    return repair_in_windows(built.c_true, built.A, built.rlo, built.rhi, lb, ub, x,
                             built.col_step, window_steps=window_steps, sweeps=sweeps)


def _diagnose(lp: HighsLp | HipoLp, built: _Built, problem: SizingProblem) -> str:
    targets = built.target_rows
    if not targets:
        return ("sizing: no design within the capacity ranges is feasible (check the "
                "{min, max} ranges and the hydrogen tank's initial_kg)")
    binding: list[str] = []
    for name, rows in targets.items():
        lp.set_rows(rows, np.full(rows.size, -np.inf), np.full(rows.size, np.inf))
        status, _, _ = lp.run()
        lp.set_rows(rows, built.rlo[rows], built.rhi[rows])
        if status != "infeasible":
            binding.append(name)
    values = dict(problem.targets.items())
    if binding:
        named = ", ".join(f"targets.{_TARGET_KEYS[k]} = {values[k]:g}" for k in binding)
        return (f"sizing: no design within the capacity ranges meets the targets; "
                f"binding: {named} (a design exists without it; widen the ranges or "
                "lower the target)")
    named = ", ".join(f"targets.{_TARGET_KEYS[k]}" for k in targets)
    return ("sizing: no design within the capacity ranges meets the targets together "
            f"({named}), nor without any single one of them")


#: TargetRows field -> the [targets] key it comes from
_TARGET_KEYS = {"green_share_annual_min": "clean_power_share_min",
                "green_share_hourly_min": "green_share_hourly_min",
                "green_h2_kg_min": "green_h2_t_per_yr_min", "co2_t_max": "co2_t_max"}


def _solution(problem: SizingProblem, built: _Built, x: np.ndarray, c: np.ndarray,
              rp: Any, stats: dict[str, Any]) -> SizingSolution:
    blocks, park, dt = built.blocks, built.park, built.park.dt_h
    n = park.n
    caps = {col.path: float(x[j]) for col, j in built.caps}
    hf = built.horizon_fraction

    def col(name: str, shape: tuple[int, ...]) -> np.ndarray:
        return x[blocks[name]] if name in blocks else np.zeros(shape)

    imp, exp = col("imp", (n,)), col("exp", (n,))
    nb, ne, nc = park.bat_p.size, park.el_p.size, park.coal_p_max.size
    ch, dis, e = col("ch", (n, nb)), col("dis", (n, nb)), col("e", (n, nb)).copy()
    for i, smin, j in built.e_above_min:
        e[:, i] += smin * x[j]
    el = col("el", (n, ne))
    coal = col("coal_p", (n, nc))
    # the sized park, as the schedule's context
    res_k = (np.array([caps[cc.path] for cc, _ in problem.res]) if problem.res
             else np.zeros(0))
    sized_res = built.res_fixed + built.res_unit @ res_k
    e_nom = park.bat_e_nom.copy()
    for i, cc in enumerate(problem.battery_e):
        if cc is not None:
            e_nom[i] = caps[cc.path]
    sized = dataclasses.replace(
        park, res=sized_res, res_cols=np.column_stack([park.res_cols, built.res_unit * res_k])
        if problem.res else park.res_cols, bat_e_nom=e_nom)
    made = el @ park.kg_per_mw_step
    if park.demand is None:
        deliv, short, tank = made.copy(), np.zeros(n), np.full(n, park.tank0_kg)
    else:
        deliv, tank = col("deliv", (n,)), col("tank", (n,))
        short = park.demand - deliv
    dispatch = to_result(sized, {
        "grid_import_mw": imp, "grid_export_mw": exp, "curtailed_mw": col("curt", (n,)),
        "unserved_mw": col("uns", (n,)), "bat_charge_mw": ch, "bat_discharge_mw": dis,
        "bat_e_mwh": e, "el_p_mw": el, "h2_produced_kg": made, "h2_delivered_kg": deliv,
        "h2_shortfall_kg": short, "tank_kg": tank, "coal_p_mw": coal,
        "dumped_mw": col("dump", (n,)),
    })
    # annualised cost terms [CNY/yr]
    peaks = col("peak", (0,))
    coal_mwh = coal.sum(axis=0) * dt
    terms = {
        "capacity_cny": float(built.cap_cost @ np.array([x[j] for _, j in built.caps]))
        if built.caps else 0.0,
        "energy_cny": float(imp @ rp.import_cost) * dt,
        "capacity_charge_cny": float(peaks.sum()) * rp.capacity,
        "export_revenue_cny": float(exp @ rp.export_revenue) * dt,
        "hydrogen_value_cny": rp.hydrogen * float(deliv.sum()),
        "penalties_cny": rp.unserved * float(col("uns", (n,)).sum()) * dt
        + rp.shortfall * float(short.sum()),
        "coal_cny": float(coal_mwh @ (rp.coal_cost + rp.coal_fuel)),
    }
    total = float(c @ x) + built.offset
    cost = {k: v / hf for k, v in terms.items()}
    cost["total_cny"] = total / hf
    check = (cost["capacity_cny"] + cost["energy_cny"] + cost["capacity_charge_cny"]
             - cost["export_revenue_cny"] - cost["hydrogen_value_cny"] + cost["penalties_cny"]
             + cost["coal_cny"])
    stats["terms_residual_cny"] = cost["total_cny"] - check  # coal starts, rounding
    green = float(x[blocks["green_h2"]].sum()) * dt * 1000.0 / float(
        np.max(park.el_kwh_per_kg)) if "green_h2" in blocks else 0.0
    notes = ["electrolyser minimum load relaxed (a unit runs anywhere in [0, capacity])",
             "storage cyclic: batteries end at least at soc_initial_pu x e_mwh, the tank "
             "at initial_kg"]
    if nc:
        notes.append("coal unit commitment relaxed (on/off and starts continuous)")
    if stats.get("direction_steps"):
        head = (f"{stats['direction_steps']} steps where export pays more than import: "
                "each step's direction fixed from a first solve")
        if stats.get("gap_pct") is None:
            optimal = ("the design is optimal for those directions, "
                       if stats.get("second_pass") == "full" else "")
            notes.append(f"{head} with export at the import cost; {optimal}no bound on the "
                         "exact optimum")
        else:
            gap = stats["gap_pct"]
            gap = 0.0 if -1e-6 < gap < 0.0 else gap  # within the solvers' tolerance
            notes.append(f"{head} on the convex hull of import-or-export, whose optimum "
                         f"bounds the exact one from below: the design costs at most "
                         f"{gap:.2f} % above the exact optimum (lower bound "
                         f"{stats['lower_bound_cny']:,.0f} CNY/yr)")
        if stats.get("second_pass") == "windows":
            notes.append(f"second solve in windows of {stats['window_h']:g} h: the first "
                         "solve's capacities kept, its schedule netted and re-solved window "
                         "by window with each direction fixed")
    if stats.get("solver") == "ipm" and not hipo_available() and park.n > 3000:
        notes.append("solved with IPX: install parkgrid[sizing] (cyhighs) for HiGHS's faster "
                     "HiPO interior point on year-long LPs")
    if problem.targets.green_h2_kg_min is not None:
        notes.append("green hydrogen in the LP: local RES to the electrolysers first "
                     "(the KPI shares it pro rata)")
    return SizingSolution(capacities=caps, cost=cost, dispatch=dispatch, stats=stats,
                          notes=(*notes, *problem.notes), hydrogen_green_kg_lp=green)
