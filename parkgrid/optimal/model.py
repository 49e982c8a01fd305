"""Sparse MILP of one dispatch window, built from arrays.

Every quantity is one *block* of variables (a contiguous index range shaped
``(T,)`` or ``(T, B)``) and every constraint family one block of rows; blocks are
filled with vectorised COO triplets, so the model of a window costs a handful of
numpy calls whatever its length. Variables per window of T steps, B batteries,
E electrolysers (E' of them with a minimum load):

=========  ========  =====================================================
block      shape     bounds
=========  ========  =====================================================
imp        T         [0, import limit]                       [MW]
exp        T         [0, export limit]                       [MW]
curt       T         [0, RES available]                      [MW]
uns        T         [0, load]                               [MW]
ch, dis    T x B     [0, rating]                             [MW]
e          T x B     [soc_min, soc_max] x e_mwh, end of step [MWh]
el         T x E     [0, rating]                             [MW]
on         T x E'    {0, 1}: electrolyser on (binary)
tank       T         [0, capacity], end of step              [kg]  (with a tank)
deliv      T         [0, offtake]                            [kg]  (with a tank)
peak       P         >= running peak of the billing period   [MW]  (capacity charge)
importing  T'        {0, 1}: import (1) or export (0) allowed (binary)
=========  ========  =====================================================

Rows: power balance (T), battery energy (T x B), electrolyser on/off limits
(2 x T x E'), tank mass (T), import below period peak (T), import/export
direction (2 x T').

One connection point: a step imports or exports, never both. Where export
earns more than import costs (T' steps: the flagship's 282.9 CNY/MWh export
against its 220 CNY/MWh valley), buying and selling at once would pay, so a
binary per such step allows one direction (big-M = the import and export
limits: ``imp <= L_imp g``, ``exp <= L_exp (1 - g)``). Elsewhere doing both
never pays: lowering import and export by the same amount keeps the balance,
loosens the peak rows and changes the objective by (export revenue - import
cost) x amount <= 0, so an optimum without it exists and
:func:`parkgrid.optimal.rolling` nets any tie out exactly.

No simultaneous charge and discharge: with efficiencies below one, doing both in
a step only burns energy, which is never cheaper than curtailing it (free) or
importing less, so an optimum without it always exists; HiGHS can still return
a tied one. :func:`parkgrid.optimal.rolling` removes such ties exactly (same
stored energy, the freed power goes to lower import or to curtailment, so the
objective does not rise) and, where it cannot, re-solves the window with one
binary per battery and step (``battery_binaries=True`` does that everywhere).

Captive coal units (C of them), per step and unit: output ``coal_p`` in
[0, p_max] [MW], on/off ``coal_on`` and start ``coal_start`` (binaries; the
look-ahead tail relaxed like the electrolyser binaries). Rows::

    p_min u_t <= p_t <= p_max u_t
    s_t >= u_t - u_{t-1},  s_t <= u_t,  s_t <= 1 - u_{t-1}      (s = start, exactly)
    p_t - p_{t-1} <= R_up + p_min s_t                          (a start may reach p_min)
    p_{t-1} - p_t <= R_down + p_max (1 - u_t)                  (a shutdown may drop to 0)

with ``u_{-1}``, ``p_{-1}`` the last committed state (:class:`WindowState`).
The shutdown term is ``p_max (1 - u_t)`` rather than ``p_max (u_{t-1} - u_t)``:
the latter would force ``p_t >= p_max - R_down`` at a start. Output enters the
balance with +1; coal CO2 x carbon price, fuel x MWh and start cost x starts enter ``c``.
A free dump load ``dump`` (T) <= total coal output takes must-run energy no
other sink can (as the rules' ``dumped_mw`` does).

Minimum up and down times mean what they mean in the rules
(:mod:`parkgrid.dispatch.kernels`), in terms of the on/off pattern. With
``U = coal_min_up_steps`` a unit whose first on step is t stays on through
t+U-1 (at least U on steps; the rules stop a unit only once ``timer + 1 >=
U``, the timer counting its on steps before the current one). With
``D = coal_min_down_steps`` the rules decide a start in an off step, once the
unit has been off D whole steps before it, and the unit runs from the next
step: a unit whose first off step is t stays off through t+D, so at least D+1
off steps (D = 0 binds nothing, as a restart needs an off step anyway). The
MILP imposes exactly these patterns with UT = U and DT = D + 1 (the rules'
start flag falls on the off step before the MILP's ``s = 1``, which is the
first on step). Rows per unit with UT > 1, resp. DT > 1 (the standard tight
unit-commitment rows)::

    sum_{tau=t-UT+1..t} s_tau <= u_t                          (minimum up)
    u_{t-DT} + sum_{tau=t-DT+1..t} s_tau <= 1                 (minimum down)

The second is ``sum_{tau=t-DT+1..t} d_tau <= 1 - u_t`` with the shutdown
``d_tau = u_{tau-1} - u_tau + s_tau`` substituted (the sum telescopes). Terms
before the window are constants from :class:`WindowState`: ``coal_on`` and
``coal_state_steps``, how long each unit has been in that state, give the
last start (on) or shutdown (off) before the window; the steps this forces on
(off) are also fixed through the bounds of ``coal_on``. A unit whose history is
unknown (``coal_state_steps`` empty or infinite: the first window, where units
start off as in the rules) counts as having been on, or off, long enough.
Start-up time is not modelled (refused by name in
:mod:`parkgrid.optimal._inputs`, as are coal outages).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from parkgrid.optimal._cuts import add_valid_cuts
from parkgrid.optimal._inputs import Park
from parkgrid.optimal.costs import ResolvedPrices

__all__ = ["WindowModel", "WindowState", "build_window", "carry_basis", "vertex_basis"]

_TINY_COST = 1e-30  # [CNY per unit of a variable]: cost coefficients below are dropped


@dataclass(frozen=True)
class WindowState:
    """State before the first step of a window.

    ``bat_e_mwh`` (B,) stored energy [MWh], ``tank_kg`` hydrogen [kg] and
    ``peak_mw`` the highest import so far in each billing period [MW];
    ``coal_on`` (C,) 0/1 and ``coal_p_mw`` (C,) [MW] each coal unit's state and
    output in the step before (empty: all off); ``coal_state_steps`` (C,) how
    many steps each unit has been in that state, i.e. since its last start
    (on) or shutdown (off) [steps] (empty or ``inf``: long enough, no minimum
    up/down time binds).
    """

    bat_e_mwh: np.ndarray
    tank_kg: float
    peak_mw: dict[int, float]
    coal_on: np.ndarray = field(default_factory=lambda: np.zeros(0))
    coal_p_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    coal_state_steps: np.ndarray = field(default_factory=lambda: np.zeros(0))
    flex_e_mwh: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Energy each truck station has charged so far [MWh] (``Park.flex``)."""


def _flat(v: object, shape: tuple[int, ...], k: int) -> np.ndarray:
    """*v* (a number or an array broadcastable to *shape*) as *k* floats in row order."""
    if isinstance(v, (float, int)):  # the common case, without numpy's broadcasting
        return np.full(k, float(v))
    return np.broadcast_to(np.asarray(v, float), shape).ravel()


class _Builder:
    """Accumulates variable blocks, row blocks and COO triplets.

    *steps* is the window's length: a block whose first axis has that length is
    indexed by step (``col_step``, ``row_step``; -1 for other blocks, unless a
    block is given its steps), and ``col_j``, ``row_j`` number the entries of a
    step within the block (battery, unit). They name a variable or row across
    windows (:func:`carry_basis`).
    """

    def __init__(self, steps: int = -1) -> None:
        self.n = 0
        self.m = 0
        self.steps = steps
        # (shape, steps or None) of each variable and row block, expanded on demand
        self.col_where: list[tuple[tuple[int, ...], np.ndarray | None]] = []
        self.row_where: list[tuple[tuple[int, ...], np.ndarray | None]] = []
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.integ: list[np.ndarray] = []
        self.rlo: list[np.ndarray] = []
        self.rhi: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.row_blocks: list[tuple[str, int, int]] = []

    def var(self, shape: tuple[int, ...], lb: object, ub: object, cost: object = 0.0,
            integer: bool = False, steps: np.ndarray | None = None) -> np.ndarray:
        k = math.prod(shape)
        idx = np.arange(self.n, self.n + k).reshape(shape)
        self.n += k
        self.col_where.append((shape, steps))
        self.lb.append(_flat(lb, shape, k))
        self.ub.append(_flat(ub, shape, k))
        self.c.append(_flat(cost, shape, k))
        self.integ.append(np.full(k, 1 if integer else 0, np.uint8))
        return idx

    def rows_block(self, name: str, shape: tuple[int, ...], lo: object, hi: object,
                   steps: np.ndarray | None = None) -> np.ndarray:
        k = math.prod(shape)
        idx = np.arange(self.m, self.m + k).reshape(shape)
        self.row_where.append((shape, steps))
        self.row_blocks.append((name, self.m, self.m + k))
        self.m += k
        self.rlo.append(_flat(lo, shape, k))
        self.rhi.append(_flat(hi, shape, k))
        return idx

    def coef(self, rows: np.ndarray, cols: np.ndarray, vals: object) -> None:
        if np.shape(rows) != np.shape(cols):
            rows, cols = np.broadcast_arrays(rows, cols)
        rows = np.asarray(rows)
        self.rows.append(rows.ravel())
        self.cols.append(np.asarray(cols).ravel())
        self.vals.append(_flat(vals, rows.shape, rows.size))


@dataclass
class WindowModel:
    """The assembled MILP ``min c x + offset, lo <= A x <= hi, lb <= x <= ub``.

    ``blocks`` maps block names to index arrays; ``row_blocks`` lists
    ``(constraint name, first row, end row)``.
    """

    c: np.ndarray
    offset: float
    A: sparse.csr_array
    row_lo: np.ndarray
    row_hi: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integrality: np.ndarray
    blocks: dict[str, np.ndarray]
    row_blocks: list[tuple[str, int, int]]
    periods: np.ndarray
    on_min_mw: np.ndarray
    naming: _Naming | None = field(default=None, repr=False)
    """Where each column and row sits (:attr:`col_step`, ...); built on first use."""
    step_period: np.ndarray | None = None
    """Position in ``periods`` of each step's billing period (``None``: not given)."""

    @property
    def col_step(self) -> np.ndarray:
        """Step in the window of each column (-1: none, e.g. a period's peak)."""
        return self._keys()[0]

    @property
    def col_tag(self) -> np.ndarray:
        """Each column's block and position within its step, the same in every window."""
        return self._keys()[1]

    @property
    def row_step(self) -> np.ndarray:
        """As :attr:`col_step`, for the rows."""
        return self._keys()[2]

    @property
    def row_tag(self) -> np.ndarray:
        """As :attr:`col_tag`, for the rows."""
        return self._keys()[3]

    def _keys(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self.naming is None:
            raise ValueError("this model was not built with the names of its columns and rows")
        return self.naming.keys()

    @property
    def size(self) -> dict[str, int]:
        """Variables, integer variables, rows and non-zeros."""
        return {"variables": int(self.c.size), "integers": int(self.integrality.sum()),
                "rows": int(self.A.shape[0]), "nonzeros": int(self.A.nnz)}


def build_window(
    park: Park, prices: ResolvedPrices, t0: int, t1: int, state: WindowState,
    *, battery_binaries: bool = False, integer_steps: int | None = None,
    valid_cuts: bool = False,
) -> WindowModel:
    """Build the MILP of steps ``[t0, t1)`` of *park* from *state*.

    The objective is :func:`parkgrid.optimal.evaluate_objective` restricted to the
    window (capacity charge counted above the running period peaks, the
    storage values at the window's end as the terminal condition). Binaries of
    steps from *integer_steps* on are relaxed to [0, 1] (relax-and-fix: the
    look-ahead tail of a window is never committed). *valid_cuts* adds the rows
    of :mod:`parkgrid.optimal._cuts` in the steps whose binaries are binary: the
    same MILP, a tighter LP relaxation.
    """
    sl = slice(t0, t1)
    n = t1 - t0
    dt = park.dt_h
    b = _Builder(n)
    blocks: dict[str, np.ndarray] = {}
    res, load = park.res[sl], park.load[sl]

    # grid, curtailment and unserved load, and the balance they meet
    blocks["imp"] = b.var((n,), 0.0, park.imp_lim[sl], prices.import_cost[sl] * dt)
    blocks["exp"] = b.var((n,), 0.0, park.exp_lim[sl], -prices.export_revenue[sl] * dt)
    blocks["curt"] = b.var((n,), 0.0, res)
    blocks["uns"] = b.var((n,), 0.0, load, prices.unserved * dt)
    bal = b.rows_block("power balance", (n,), load - res, load - res)
    b.coef(bal, blocks["imp"], 1.0)
    b.coef(bal, blocks["exp"], -1.0)
    b.coef(bal, blocks["curt"], -1.0)
    b.coef(bal, blocks["uns"], 1.0)
    _add_grid_direction(b, blocks, park, prices, sl)

    offset = _add_batteries(b, blocks, bal, park, sl, state, prices, battery_binaries)
    no_tank = park.demand is None
    on_min_mw = _add_electrolysers(b, blocks, bal, park, sl, prices.hydrogen if no_tank else 0.0)
    if park.demand is not None:
        offset += _add_tank(b, blocks, park, park.demand[sl], state, prices)
    periods, cap_offset = _add_capacity_charge(b, blocks, prices, sl, state, n)
    offset += cap_offset
    _add_coal(b, blocks, bal, park, state, prices)
    _add_flex(b, blocks, bal, park, sl, state)
    if valid_cuts:
        floor = np.array([state.peak_mw.get(int(p), 0.0) for p in periods])
        add_valid_cuts(b, blocks, park, prices.period, periods, floor, sl,
                       n if integer_steps is None else integer_steps)

    if integer_steps is not None:
        for name in ("on", "bat_charging", "coal_on", "coal_start", "importing"):
            if name in blocks:
                idx = blocks[name]
                tail = (idx[blocks["importing_steps"] >= integer_steps] if name == "importing"
                        else idx[integer_steps:])
                b.integ[_block_of(b, idx)][tail.ravel() - int(idx.flat[0])] = 0
    A = sparse.csr_array(
        (np.concatenate(b.vals), (np.concatenate(b.rows), np.concatenate(b.cols))),
        shape=(b.m, b.n))
    A.eliminate_zeros()  # a cut's coefficient can be 0 (parkgrid.optimal._cuts)
    c = np.concatenate(b.c)
    # HiGHS can return a wrong "optimal" point when a cost lies near the float
    # underflow range (seen with a 1e-302 CNY/MW capacity charge); such terms are
    # worth nothing anyway
    c[np.abs(c) < _TINY_COST] = 0.0
    return WindowModel(
        c=c, offset=offset, A=A, row_lo=np.concatenate(b.rlo),
        row_hi=np.concatenate(b.rhi), lb=np.concatenate(b.lb), ub=np.concatenate(b.ub),
        integrality=np.concatenate(b.integ), blocks=blocks, row_blocks=b.row_blocks,
        periods=periods, on_min_mw=on_min_mw, naming=_Naming(b, blocks),
        step_period=np.searchsorted(periods, prices.period[sl]),
    )


def _code(name: str) -> int:
    """Return a 16-bit code of a block's name, the same in every window and process."""
    return zlib.crc32(name.encode()) & 0xFFFF


def _expand(where: list[tuple[tuple[int, ...], np.ndarray | None]],
            window: int) -> tuple[np.ndarray, np.ndarray]:
    """Step (-1: none) and position within the step of each entry of the blocks *where*.

    A block of shape ``(s, ...)`` with ``s`` equal to *window* (or given its steps)
    is indexed by step along its first axis; its entries within a step are numbered
    from 0. One pass over all blocks (a window has about thirty).
    """
    if not where:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    firsts, inners, steps_all = [], [], []
    for shape, steps in where:
        k = math.prod(shape)
        first = shape[0] if shape else 1
        if not shape:
            steps = np.full(1, -1)
        elif steps is None:
            steps = np.arange(first) if first == window else np.full(first, -1)
        firsts.append(first)
        inners.append(k // max(first, 1))
        steps_all.append(np.asarray(steps, np.int64))
    reps = np.repeat(np.asarray(inners, np.int64), firsts)  # entries of each step row
    step = np.repeat(np.concatenate(steps_all), reps)
    row_start = np.cumsum(reps) - reps
    j = np.arange(step.size, dtype=np.int64) - np.repeat(row_start, reps)
    return step, j


class _Naming:
    """Step and tag (block name, position within the step) of every column and row.

    A column is named by its block in *blocks* (``*_steps`` entries hold steps, not
    columns; an alias block such as ``el_on`` names its columns the same way in every
    window), a row by its block's name and how many blocks of that name came before.
    Computed on first use only (the basis carried between windows needs them).
    """

    def __init__(self, b: _Builder, blocks: dict[str, np.ndarray]) -> None:
        self._n, self._m, self._window = b.n, b.m, b.steps
        self._col_where, self._row_where = b.col_where, b.row_where
        self._row_blocks, self._blocks = b.row_blocks, blocks
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def keys(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._cache is None:
            col_code = np.zeros(self._n, np.int64)
            for name, idx in self._blocks.items():
                if not name.endswith("_steps"):
                    col_code[np.asarray(idx).ravel()] = _code(name)
            row_code = np.zeros(self._m, np.int64)
            seen: dict[str, int] = {}
            for name, start, end in self._row_blocks:
                seen[name] = seen.get(name, -1) + 1
                row_code[start:end] = _code(f"{name}#{seen[name]}")
            out = []
            for where, code in ((self._col_where, col_code), (self._row_where, row_code)):
                step, j = _expand(where, self._window)
                out += [step, (code << 20) | j]
            self._cache = (out[0], out[1], out[2], out[3])
        return self._cache


def _add_grid_direction(b: _Builder, blocks: dict[str, np.ndarray], park: Park,
                        prices: ResolvedPrices, sl: slice) -> None:
    """One binary per step where export pays more than import: import or export, not both.

    ``importing`` = 1 allows import up to its limit and no export, 0 export and
    no import (``imp <= L_imp g``, ``exp <= L_exp (1 - g)``; big-M = the limits).
    ``blocks["importing"]`` holds the binaries, ``blocks["importing_steps"]``
    their steps in the window. Elsewhere doing both is never cheaper than doing
    neither (see the module doc) and :func:`parkgrid.optimal.rolling` nets any tie out.
    """
    imp_lim, exp_lim = park.imp_lim[sl], park.exp_lim[sl]
    steps = np.flatnonzero((prices.export_revenue[sl] > prices.import_cost[sl])
                           & (imp_lim > 0) & (exp_lim > 0))
    if steps.size == 0:
        return
    g = blocks["importing"] = b.var((steps.size,), 0.0, 1.0, integer=True, steps=steps)
    blocks["importing_steps"] = steps
    r = b.rows_block("import only when importing", (steps.size,), -np.inf, 0.0, steps)
    b.coef(r, blocks["imp"][steps], 1.0)
    b.coef(r, g, -imp_lim[steps])
    r = b.rows_block("export only when not importing", (steps.size,), -np.inf, exp_lim[steps],
                     steps)
    b.coef(r, blocks["exp"][steps], 1.0)
    b.coef(r, g, exp_lim[steps])


def _add_batteries(b: _Builder, blocks: dict[str, np.ndarray], bal: np.ndarray, park: Park,
                   sl: slice, state: WindowState, prices: ResolvedPrices,
                   binaries: bool) -> float:
    """Charge, discharge and stored energy; returns the objective offset."""
    nb = park.bat_p.size
    if nb == 0:
        return 0.0
    n, dt = bal.size, park.dt_h
    p = park.bat_p * park.bat_av[sl]
    eta_c, eta_d = park.bat_eta_c, park.bat_eta_d
    ch = blocks["ch"] = b.var((n, nb), 0.0, p)
    dis = blocks["dis"] = b.var((n, nb), 0.0, p)
    # terminal condition: energy left at the end is worth bat_value [CNY/MWh]
    cost_e = np.zeros((n, nb))
    cost_e[-1] = -prices.bat_value
    e = blocks["e"] = b.var((n, nb), park.bat_e_min, park.bat_e_max, cost_e)
    b.coef(bal[:, None], ch, -1.0)
    b.coef(bal[:, None], dis, 1.0)
    rhs = np.zeros((n, nb))
    rhs[0] = state.bat_e_mwh
    soc = b.rows_block("battery energy", (n, nb), rhs, rhs)
    b.coef(soc, e, 1.0)
    b.coef(soc[1:], e[:-1], -1.0)
    b.coef(soc, ch, -eta_c * dt)
    b.coef(soc, dis, dt / eta_d)
    if binaries:
        # u = 1 allows charging, u = 0 discharging
        u = blocks["bat_charging"] = b.var((n, nb), 0.0, 1.0, integer=True)
        r_ch = b.rows_block("battery charge only when charging", (n, nb), -np.inf, 0.0)
        b.coef(r_ch, ch, 1.0)
        b.coef(r_ch, u, -park.bat_p)
        r_dis = b.rows_block("battery discharge only when not charging", (n, nb), -np.inf,
                             park.bat_p)
        b.coef(r_dis, dis, 1.0)
        b.coef(r_dis, u, park.bat_p)
    return float(prices.bat_value @ state.bat_e_mwh)


def _add_electrolysers(b: _Builder, blocks: dict[str, np.ndarray], bal: np.ndarray,
                       park: Park, sl: slice, value_cny_per_kg: float) -> np.ndarray:
    """Electrolyser power and on/off binaries; returns the minimum loads of the binaries.

    *value_cny_per_kg* is credited for every kg produced (the no-tank case, where
    all hydrogen made is delivered). ``blocks["el_on"]`` are the power variables
    of the units with a binary, column for column with ``blocks["on"]``.
    """
    ne = park.el_p.size
    if ne == 0:
        return np.zeros(0)
    n = bal.size
    p = park.el_p * park.el_av[sl]
    p_min = park.el_min_load * park.el_p
    x = blocks["el"] = b.var((n, ne), 0.0, p, -value_cny_per_kg * park.kg_per_mw_step)
    b.coef(bal[:, None], x, -1.0)
    with_min = np.flatnonzero(p_min > 0)
    if with_min.size:
        k = with_min.size
        on = blocks["on"] = b.var((n, k), 0.0, 1.0, integer=True)
        blocks["el_on"] = x[:, with_min]
        hi = b.rows_block("electrolyser off means zero power", (n, k), -np.inf, 0.0)
        b.coef(hi, x[:, with_min], 1.0)
        b.coef(hi, on, -park.el_p[with_min])
        lo = b.rows_block("electrolyser minimum load", (n, k), 0.0, np.inf)
        b.coef(lo, x[:, with_min], 1.0)
        b.coef(lo, on, -p_min[with_min])
    return p_min[with_min]


def _add_tank(b: _Builder, blocks: dict[str, np.ndarray], park: Park, demand: np.ndarray,
              state: WindowState, prices: ResolvedPrices) -> float:
    """Tank mass balance and offtake; returns the objective offset."""
    n = demand.size
    # shortfall = demand - delivered is priced through the delivered kg
    deliv = blocks["deliv"] = b.var((n,), 0.0, demand, -(prices.hydrogen + prices.shortfall))
    cost_tank = np.zeros(n)
    cost_tank[-1] = -prices.tank_value
    tank = blocks["tank"] = b.var((n,), 0.0, park.tank_cap_kg, cost_tank)
    rhs = np.zeros(n)
    rhs[0] = state.tank_kg
    rows = b.rows_block("hydrogen tank balance", (n,), rhs, rhs)
    b.coef(rows, tank, 1.0)
    b.coef(rows[1:], tank[:-1], -1.0)
    if "el" in blocks:
        b.coef(rows[:, None], blocks["el"], -park.kg_per_mw_step)
    b.coef(rows, deliv, 1.0)
    return float(prices.shortfall * demand.sum() + prices.tank_value * state.tank_kg)


def _add_capacity_charge(b: _Builder, blocks: dict[str, np.ndarray], prices: ResolvedPrices,
                         sl: slice, state: WindowState, n: int) -> tuple[np.ndarray, float]:
    """One peak variable per billing period in the window, above its running peak.

    Only the rise of a period's peak is paid in this window (the running peak
    of the steps already committed is the lower bound), so the charges of all
    windows add up to the monthly peaks of the whole schedule.
    """
    per = prices.period[sl]
    periods = np.unique(per)
    if prices.capacity == 0 or n == 0:
        return periods, 0.0
    floor = np.array([state.peak_mw.get(int(p), 0.0) for p in periods])
    pk = blocks["peak"] = b.var((periods.size,), floor, np.inf, prices.capacity,
                                steps=np.full(periods.size, -1))
    rows = b.rows_block("import below period peak", (n,), -np.inf, 0.0)
    b.coef(rows, blocks["imp"], 1.0)
    b.coef(rows, pk[np.searchsorted(periods, per)], -1.0)
    return periods, -prices.capacity * float(floor.sum())


def _add_coal(b: _Builder, blocks: dict[str, np.ndarray], bal: np.ndarray, park: Park,
              state: WindowState, prices: ResolvedPrices) -> None:
    """Coal output, on/off and start binaries, limits, ramps, minimum up/down times.

    See the module doc.
    """
    nc = park.coal_p_max.size
    if nc == 0:
        return
    n, dt = bal.size, park.dt_h
    p_min, p_max = park.coal_p_min, park.coal_p_max
    u_prev = (np.zeros(nc) if state.coal_on.size == 0
              else np.asarray(state.coal_on, float).reshape(nc))
    p_prev = (np.zeros(nc) if state.coal_p_mw.size == 0
              else np.asarray(state.coal_p_mw, float).reshape(nc))
    # minimum up/down: UT on steps, DT off steps (see the module doc)
    up_steps = np.zeros(nc, int) if park.coal_min_up.size == 0 else park.coal_min_up
    down_steps = 1 + (np.zeros(nc, int) if park.coal_min_down.size == 0
                      else park.coal_min_down)
    held = (np.full(nc, np.inf) if state.coal_state_steps.size == 0
            else np.maximum(np.asarray(state.coal_state_steps, float).reshape(nc), 1.0))
    tt = np.arange(n)[:, None]
    on0 = u_prev > 0.5
    # steps the history fixes: on until its last start is UT steps old, off until
    # its last shutdown is DT steps old
    must_on = on0 & (tt <= up_steps - 1 - held)
    must_off = ~on0 & (tt <= down_steps - 1 - held)
    p = blocks["coal_p"] = b.var((n, nc), 0.0, p_max, (prices.coal_cost + prices.coal_fuel) * dt)
    u = blocks["coal_on"] = b.var((n, nc), must_on.astype(float), np.where(must_off, 0.0, 1.0),
                                  integer=True)
    s = blocks["coal_start"] = b.var((n, nc), 0.0, 1.0, prices.coal_start, integer=True)
    b.coef(bal[:, None], p, 1.0)
    # dump load: coal output no sink can take (the rules' dumped_mw), free
    dump = blocks["dump"] = b.var((n,), 0.0, np.inf)
    b.coef(bal, dump, -1.0)
    r = b.rows_block("dump at most the coal output", (n,), -np.inf, 0.0)
    b.coef(r, dump, 1.0)
    b.coef(r[:, None], p, -1.0)
    r = b.rows_block("coal minimum load", (n, nc), 0.0, np.inf)
    b.coef(r, p, 1.0)
    b.coef(r, u, -p_min)
    r = b.rows_block("coal off means zero output", (n, nc), -np.inf, 0.0)
    b.coef(r, p, 1.0)
    b.coef(r, u, -p_max)
    # s_t - u_t + u_{t-1} >= 0
    lo = np.zeros((n, nc))
    lo[0] = -u_prev
    r = b.rows_block("coal start when switched on", (n, nc), lo, np.inf)
    b.coef(r, s, 1.0)
    b.coef(r, u, -1.0)
    b.coef(r[1:], u[:-1], 1.0)
    r = b.rows_block("coal start only when on", (n, nc), -np.inf, 0.0)
    b.coef(r, s, 1.0)
    b.coef(r, u, -1.0)
    # s_t + u_{t-1} <= 1
    hi = np.ones((n, nc))
    hi[0] = 1.0 - u_prev
    r = b.rows_block("coal start only after off", (n, nc), -np.inf, hi)
    b.coef(r, s, 1.0)
    b.coef(r[1:], u[:-1], 1.0)
    # p_t - p_{t-1} - p_min s_t <= R_up
    hi = np.broadcast_to(park.coal_ramp_up, (n, nc)).copy()
    hi[0] += p_prev
    r = b.rows_block("coal ramp up", (n, nc), -np.inf, hi)
    b.coef(r, p, 1.0)
    b.coef(r[1:], p[:-1], -1.0)
    b.coef(r, s, -p_min)
    # p_{t-1} - p_t + p_max u_t <= R_down + p_max
    hi = np.broadcast_to(park.coal_ramp_down + p_max, (n, nc)).copy()
    hi[0] -= p_prev
    r = b.rows_block("coal ramp down", (n, nc), -np.inf, hi)
    b.coef(r[1:], p[:-1], 1.0)
    b.coef(r, p, -1.0)
    b.coef(r, u, p_max)
    _add_coal_min_up_down(b, u, s, up_steps, down_steps, u_prev, must_on, must_off)


def _add_coal_min_up_down(b: _Builder, u: np.ndarray, s: np.ndarray, up_steps: np.ndarray,
                          down_steps: np.ndarray, u_prev: np.ndarray, must_on: np.ndarray,
                          must_off: np.ndarray) -> None:
    """Minimum up and down rows of the units with UT > 1, resp. DT > 1 (module doc).

    *must_on* / *must_off* (T x C) are the steps the history before the window
    holds on / off: the constant terms of the rows.
    """
    n = u.shape[0]
    tt = np.arange(n)[:, None]
    up = np.flatnonzero(up_steps > 1)
    if up.size:
        # sum_{tau=t-UT+1..t} s_tau - u_t <= -(a start before the window within UT steps)
        r = b.rows_block("coal minimum up time", (n, up.size), -np.inf,
                         -must_on[:, up].astype(float))
        b.coef(r, u[:, up], -1.0)
        for lag in range(min(int(up_steps[up].max()), n)):
            m = up_steps[up] > lag
            b.coef(r[lag:, m], s[:n - lag, up[m]], 1.0)
    dn = np.flatnonzero(down_steps > 1)
    if dn.size:
        # u_{t-DT} + sum_{tau=t-DT+1..t} s_tau <= 1, where for t < DT the terms
        # before the window are u_{-1} or a shutdown within DT steps
        early = tt < down_steps[dn]
        hi = 1.0 - np.where(early, u_prev[dn], 0.0) - must_off[:, dn]
        r = b.rows_block("coal minimum down time", (n, dn.size), -np.inf, hi)
        for i, j in enumerate(dn):
            k = int(down_steps[j])
            if k < n:
                b.coef(r[k:, i], u[:n - k, j], 1.0)
        for lag in range(min(int(down_steps[dn].max()), n)):
            m = down_steps[dn] > lag
            b.coef(r[lag:, m], s[:n - lag, dn[m]], 1.0)


def _add_flex(b: _Builder, blocks: dict[str, np.ndarray], bal: np.ndarray, park: Park,
              sl: slice, state: WindowState) -> None:
    """Truck stations (S of them): power ``flex_p`` (T x S) and charged energy ``flex_e``.

    ``flex_e`` is the cumulative energy charged by the end of each step,
    ``flex_e_t = flex_e_{t-1} + flex_p_t dt`` from the state's, within
    ``[e_lo, e_hi]`` of :class:`parkgrid.optimal._inputs.FlexDemand`: every
    deadline met in aggregate, nothing charged before it arrived.
    """
    ns = len(park.flex)
    if ns == 0:
        return
    n, dt = bal.size, park.dt_h
    col = lambda name: np.column_stack([getattr(f, name)[sl] for f in park.flex])  # noqa: E731
    p = blocks["flex_p"] = b.var((n, ns), 0.0, col("p_max"))
    e = blocks["flex_e"] = b.var((n, ns), col("e_lo"), col("e_hi"))
    b.coef(bal[:, None], p, -1.0)
    rhs = np.zeros((n, ns))
    rhs[0] = (state.flex_e_mwh if state.flex_e_mwh.size else np.zeros(ns))
    r = b.rows_block("truck station energy", (n, ns), rhs, rhs)
    b.coef(r, e, 1.0)
    b.coef(r[1:], e[:-1], -1.0)
    b.coef(r, p, -dt)


def _block_of(b: _Builder, idx: np.ndarray) -> int:
    """Position in the builder's lists of the variable block starting at ``idx.flat[0]``."""
    start, pos = int(idx.flat[0]), 0
    for i, c in enumerate(b.c):
        if pos == start:
            return i
        pos += c.size
    raise KeyError(start)  # pragma: no cover


#: HiGHS's basis statuses (``highspy.HighsBasisStatus``) as the integers they stand for
BASIS_LOWER, BASIS_BASIC, BASIS_UPPER, BASIS_ZERO = 0, 1, 2, 3


def vertex_basis(model: WindowModel, x: np.ndarray, tol: float = 1e-9
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Basis statuses read off a vertex *x* of *model* (column, row; HiGHS's values).

    A column or row at a bound (within *tol*, relative above 1) is nonbasic there,
    the rest basic. At a degenerate vertex that is not a basis (fewer basic than
    rows); HiGHS completes it when it is passed as an alien basis. Reading the
    statuses off the point costs a matrix-vector product, where fetching HiGHS's own
    basis through highspy makes one Python object per status (about 2 ms a window).
    """
    out = []
    for v, lo, hi in ((x, model.lb, model.ub), (model.A @ x, model.row_lo, model.row_hi)):
        st = np.full(v.size, BASIS_BASIC, np.int8)
        with np.errstate(invalid="ignore"):  # infinite bounds: never at them
            at_hi = np.isfinite(hi) & (np.abs(v - hi) <= tol * np.maximum(1.0, np.abs(hi)))
            at_lo = np.isfinite(lo) & (np.abs(v - lo) <= tol * np.maximum(1.0, np.abs(lo)))
        st[at_hi] = BASIS_UPPER
        st[at_lo] = BASIS_LOWER
        out.append(st)
    return out[0], out[1]


def carry_basis(prev: WindowModel, col_status: np.ndarray, row_status: np.ndarray,
                model: WindowModel, shift: int) -> tuple[np.ndarray, np.ndarray]:
    """Basis statuses for *model* from those of the window *prev*, *shift* steps earlier.

    A column or row of *model* at step t takes the status of the same block and
    position at step ``(t + shift) mod T`` of *prev* (T its length): the steps both
    windows hold keep their status, the new look-ahead tail takes that of the
    steps one shift (the committed head) earlier, of the same time of day when
    the window is twice the shift. Columns and rows without a step (a period's
    peak) take the status of the same block and position. What has no
    counterpart is nonbasic at a bound (columns) or basic (rows). A nonbasic
    status is put at a finite bound. The result is a warm start for HiGHS, which
    repairs a basis of the wrong size or a singular one (``alien``); it does not
    change the optimum, only where the simplex starts.
    """
    t_prev = max(int(prev.col_step.max(initial=-1)) + 1, 1)

    def take(step_old: np.ndarray, tag_old: np.ndarray, status_old: np.ndarray,
             step: np.ndarray, tag: np.ndarray, default: int) -> np.ndarray:
        key_old = (tag_old << 21) | (step_old + 1)
        order = np.argsort(key_old, kind="stable")
        sorted_keys = key_old[order]
        want = np.where(step >= 0, (step + shift) % t_prev, -1)
        key = (tag << 21) | (want + 1)
        pos = np.minimum(np.searchsorted(sorted_keys, key), max(sorted_keys.size - 1, 0))
        out = np.full(key.size, default, np.int8)
        if sorted_keys.size:
            found = sorted_keys[pos] == key
            out[found] = status_old[order[pos[found]]]
        return out

    cols = take(prev.col_step, prev.col_tag, col_status, model.col_step, model.col_tag,
                BASIS_LOWER)
    rows = take(prev.row_step, prev.row_tag, row_status, model.row_step, model.row_tag,
                BASIS_BASIC)
    for st, lo, hi in ((cols, model.lb, model.ub), (rows, model.row_lo, model.row_hi)):
        nonbasic = st != BASIS_BASIC
        lo_ok, hi_ok = np.isfinite(lo), np.isfinite(hi)
        st[nonbasic & (st == BASIS_UPPER) & ~hi_ok] = BASIS_LOWER
        st[nonbasic & (st == BASIS_LOWER) & ~lo_ok] = BASIS_UPPER
        st[nonbasic & (st == BASIS_UPPER) & ~hi_ok] = BASIS_ZERO
        st[nonbasic & (st == BASIS_ZERO) & lo_ok] = BASIS_LOWER
        st[nonbasic & (st == BASIS_ZERO) & ~lo_ok & hi_ok] = BASIS_UPPER
    return cols, rows
