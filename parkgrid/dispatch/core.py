"""Dispatch inputs, state, results and the public wrapper around the kernel."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numba
import numpy as np
from numba import njit

from parkgrid import _ahead
from parkgrid.dispatch import kernels as K

__all__ = ["DispatchInputs", "DispatchResult", "Packed", "run_dispatch"]

#: steps the kernel's Python advances between two looks at the background compile
#: (about 0.1 s of the flagship's; see :func:`call_kernel`)
INTERPRETED_STEPS = 4096
_BIG_TIMER = 1 << 40  # "off for ever": no minimum down time blocks the first start
_MISSING = np.zeros(0)  # sentinel: "not given" in DispatchResult


def _vec(x: object, n: int, name: str, default: float | None = None) -> np.ndarray:
    if x is None:
        if default is None:
            raise ValueError(f"{name} is required")
        x = default
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(n, float(a))
    if a.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},), got {a.shape}")
    return np.ascontiguousarray(a)


def _availability(x: object, n: int, m: int, name: str) -> np.ndarray:
    """Return a private (n, m) copy of *x*, or (0, m) for ``None``: always in service."""
    if x is None:
        return np.ones((0, m))
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1 and m == 1:
        a = a[:, None]
    if a.shape != (n, m):
        raise ValueError(f"{name}: expected shape ({n}, {m}), got {a.shape}")
    return np.array(a, order="C")


@njit(cache=True)
def _uninitialised(shape):  # pragma: no cover - compiled
    # numba's allocator, not numpy's: numpy asks for transparent huge pages on
    # arrays of 4 MB or more (madvise), which made first writes ~4x slower on
    # the benchmark machine
    return np.empty(shape)


def compile_ahead() -> None:
    """Compile the dispatch kernels into numba's cache (see :mod:`parkgrid._ahead`)."""
    K.advance.compile(K.advance_signature())
    for ndim in (2, 3):  # allocate_outputs' shapes
        _uninitialised.compile((numba.typeof((0,) * ndim),))


def _empty() -> np.ndarray:
    return np.zeros(0)


class Packed(NamedTuple):
    """Kernel inputs in their column layouts (see :mod:`parkgrid.dispatch.kernels`).

    ``series``, ``load_mw`` and the availability matrices given are private
    copies: the event engine writes into them for steps that have not been
    dispatched yet. An availability not given is a (0, units) array, "always in
    service" (the engine makes a matrix when an outage needs one). ``res_mw``
    may share memory with the inputs: it is only read.
    """

    params: np.ndarray
    series: np.ndarray
    res_mw: np.ndarray
    res_av: np.ndarray
    load_mw: np.ndarray
    load_av: np.ndarray
    load_order: np.ndarray
    bat: np.ndarray
    bat_av: np.ndarray
    el: np.ndarray
    el_curve: np.ndarray
    el_av: np.ndarray
    coal: np.ndarray
    coal_av: np.ndarray


@dataclass(frozen=True)
class DispatchInputs:
    """Everything the dispatch needs, as arrays.

    Per-step arrays have length T (``res_mw`` and ``load_mw`` may be (T,) or one
    column per plant/load); battery arrays length B, electrolyser arrays E, coal
    arrays C. Availability matrices (``*_av``, 1 = in service) default to ones.
    ``h2_demand_kg`` [kg per step] ``None`` means "no tank: hydrogen leaves as it
    is made". Times are in steps.
    """

    res_mw: Any
    load_mw: Any
    import_limit_mw: Any
    export_limit_mw: Any
    res_av: Any = None
    load_av: Any = None
    load_priority: Any = None
    island: Any = None
    valley: Any = None
    bat_p_mw: Any = field(default_factory=_empty)
    bat_e_mwh: Any = field(default_factory=_empty)
    bat_eta_charge: Any = field(default_factory=_empty)
    bat_eta_discharge: Any = field(default_factory=_empty)
    bat_soc_min_pu: Any = field(default_factory=_empty)
    bat_soc_max_pu: Any = field(default_factory=_empty)
    bat_soc_initial_pu: Any = field(default_factory=_empty)
    bat_self_discharge_pu: Any = None
    bat_grid_forming: Any = None
    bat_fade_calendar_pu: Any = None
    bat_fade_cycle_pu: Any = None
    bat_av: Any = None
    el_p_mw: Any = field(default_factory=_empty)
    el_kwh_per_kg: Any = field(default_factory=_empty)
    el_min_load_pu: Any = field(default_factory=_empty)
    el_standby_pu: Any = None
    el_start_steps: Any = None
    el_min_up_steps: Any = None
    el_min_down_steps: Any = None
    el_standby_max_steps: Any = None
    el_curve: Any = None
    el_av: Any = None
    coal_p_min_mw: Any = field(default_factory=_empty)
    coal_p_max_mw: Any = field(default_factory=_empty)
    coal_ramp_up_mw: Any = None
    coal_ramp_down_mw: Any = None
    coal_start_steps: Any = None
    coal_min_up_steps: Any = None
    coal_min_down_steps: Any = None
    coal_av: Any = None
    import_cap_mw: float = np.inf
    green_share_min: float = 0.0
    tank_capacity_kg: float = 0.0
    tank_initial_kg: float = 0.0
    h2_demand_kg: Any = None
    dt_h: float = 0.25

    @property
    def n_steps(self) -> int:
        """Number of steps T."""
        return int(np.asarray(self.res_mw).shape[0])

    def packed(self) -> Packed:
        """Return the kernel inputs, checked for shape and finiteness."""
        n = self.n_steps
        res = np.asarray(self.res_mw, dtype=np.float64)
        res = np.ascontiguousarray(res[:, None] if res.ndim == 1 else res)
        load = np.asarray(self.load_mw, dtype=np.float64)
        load = np.array(load[:, None] if load.ndim == 1 else load, order="C")
        if res.shape[0] != n or load.shape[0] != n:
            raise ValueError("res_mw and load_mw must have the same number of steps")
        for name, a in (("res_mw", res), ("load_mw", load)):
            if not np.all(np.isfinite(a)):
                raise ValueError(f"dispatch inputs contain NaN or infinite values ({name})")
        nl = load.shape[1]
        prio = _vec(self.load_priority, nl, "load_priority", 0.0)
        series = np.empty((K.N_SERIES, n))
        series[K.S_IMP_LIM] = _vec(self.import_limit_mw, n, "import_limit_mw")
        series[K.S_EXP_LIM] = _vec(self.export_limit_mw, n, "export_limit_mw")
        series[K.S_H2_DEMAND] = _vec(self.h2_demand_kg, n, "h2_demand_kg", np.inf)
        series[K.S_VALLEY] = _vec(self.valley, n, "valley", 0.0)
        series[K.S_ISLAND] = _vec(self.island, n, "island", 0.0)
        series[K.S_TRAILER_KG] = 0.0
        if np.any(np.isnan(series)):
            raise ValueError("dispatch inputs contain NaN values (limits or hydrogen demand)")

        b = len(self.bat_p_mw)
        bat = np.zeros((b, K.N_BAT))
        bat[:, K.B_P] = _vec(self.bat_p_mw, b, "bat_p_mw")
        bat[:, K.B_ETA_C] = _vec(self.bat_eta_charge, b, "bat_eta_charge")
        bat[:, K.B_ETA_D] = _vec(self.bat_eta_discharge, b, "bat_eta_discharge")
        bat[:, K.B_SOC_MIN] = _vec(self.bat_soc_min_pu, b, "bat_soc_min_pu")
        bat[:, K.B_SOC_MAX] = _vec(self.bat_soc_max_pu, b, "bat_soc_max_pu")
        bat[:, K.B_E_NOM] = _vec(self.bat_e_mwh, b, "bat_e_mwh")
        bat[:, K.B_SELF_DIS] = _vec(self.bat_self_discharge_pu, b, "bat_self_discharge_pu", 0.0)
        bat[:, K.B_GRID_FORMING] = _vec(self.bat_grid_forming, b, "bat_grid_forming", 0.0)
        bat[:, K.B_FADE_CAL] = _vec(self.bat_fade_calendar_pu, b, "bat_fade_calendar_pu", 0.0)
        bat[:, K.B_FADE_CYC] = _vec(self.bat_fade_cycle_pu, b, "bat_fade_cycle_pu", 0.0)

        m = len(self.el_p_mw)
        el = np.zeros((m, K.N_EL))
        el[:, K.E_P] = _vec(self.el_p_mw, m, "el_p_mw")
        el[:, K.E_KWH_PER_KG] = _vec(self.el_kwh_per_kg, m, "el_kwh_per_kg")
        el[:, K.E_MIN_LOAD] = _vec(self.el_min_load_pu, m, "el_min_load_pu")
        el[:, K.E_STANDBY_PU] = _vec(self.el_standby_pu, m, "el_standby_pu", 0.0)
        el[:, K.E_START_STEPS] = _vec(self.el_start_steps, m, "el_start_steps", 0.0)
        el[:, K.E_MIN_UP] = _vec(self.el_min_up_steps, m, "el_min_up_steps", 0.0)
        el[:, K.E_MIN_DOWN] = _vec(self.el_min_down_steps, m, "el_min_down_steps", 0.0)
        el[:, K.E_STANDBY_MAX] = _vec(self.el_standby_max_steps, m, "el_standby_max_steps", 0.0)
        if self.el_curve is None:
            curve = np.zeros((m, 2, 2))
            curve[:, 1, 0] = 1.0
            curve[:, :, 1] = 1.0
        else:
            curve = np.ascontiguousarray(np.asarray(self.el_curve, dtype=np.float64))
            if curve.ndim != 3 or curve.shape[0] != m or curve.shape[2] != 2:
                raise ValueError(f"el_curve: expected shape ({m}, K, 2), got {curve.shape}")

        c = len(self.coal_p_min_mw)
        coal = np.zeros((c, K.N_COAL))
        coal[:, K.C_PMIN] = _vec(self.coal_p_min_mw, c, "coal_p_min_mw")
        coal[:, K.C_PMAX] = _vec(self.coal_p_max_mw, c, "coal_p_max_mw")
        coal[:, K.C_RAMP_UP] = _vec(self.coal_ramp_up_mw, c, "coal_ramp_up_mw", np.inf)
        coal[:, K.C_RAMP_DOWN] = _vec(self.coal_ramp_down_mw, c, "coal_ramp_down_mw", np.inf)
        coal[:, K.C_START_STEPS] = _vec(self.coal_start_steps, c, "coal_start_steps", 0.0)
        coal[:, K.C_MIN_UP] = _vec(self.coal_min_up_steps, c, "coal_min_up_steps", 0.0)
        coal[:, K.C_MIN_DOWN] = _vec(self.coal_min_down_steps, c, "coal_min_down_steps", 0.0)

        params = np.zeros(K.N_PARAMS)
        params[K.P_IMPORT_CAP] = self.import_cap_mw
        params[K.P_GREEN_SHARE_MIN] = self.green_share_min
        params[K.P_TANK_CAP] = self.tank_capacity_kg
        return Packed(
            params=params, series=series, res_mw=res,
            res_av=_availability(self.res_av, n, res.shape[1], "res_av"),
            load_mw=load, load_av=_availability(self.load_av, n, nl, "load_av"),
            load_order=np.argsort(prio, kind="stable").astype(np.int64),
            bat=bat, bat_av=_availability(self.bat_av, n, b, "bat_av"),
            el=el, el_curve=curve, el_av=_availability(self.el_av, n, m, "el_av"),
            coal=coal, coal_av=_availability(self.coal_av, n, c, "coal_av"),
        )

    def initial_energy_mwh(self) -> np.ndarray:
        """Return the stored energy of every battery before the first step [MWh]."""
        b = len(self.bat_p_mw)
        return (_vec(self.bat_e_mwh, b, "bat_e_mwh")
                * _vec(self.bat_soc_initial_pu, b, "bat_soc_initial_pu"))

    def initial_state(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the float and integer state before the first step."""
        b, m, c = len(self.bat_p_mw), len(self.el_p_mw), len(self.coal_p_min_mw)
        nf, ni = K.state_sizes(b, m, c)
        sf = np.zeros(nf)
        e0 = (_vec(self.bat_e_mwh, b, "bat_e_mwh")
              * _vec(self.bat_soc_initial_pu, b, "bat_soc_initial_pu"))
        sf[K.N_F_FIXED:K.N_F_FIXED + 2 * b:2] = e0
        sf[K.F_TANK] = float(self.tank_initial_kg)
        si = np.zeros(ni, dtype=np.int64)
        si[1:3 * m:3] = _BIG_TIMER
        si[3 * m + 1::2] = _BIG_TIMER
        return sf, si


@dataclass(frozen=True)
class DispatchResult:
    """Per-step dispatch: powers [MW] (step means), energies [MWh], hydrogen [kg].

    Battery arrays are (T, B), electrolyser arrays (T, E), coal arrays (T, C),
    ``load_served_mw`` (T, L). ``trailer_kg`` is hydrogen taken by trailer pick-ups at
    the start of each step. ``bat_e_mwh`` and ``tank_kg`` are the states at the
    *end* of each step; ``el_p_mw`` includes standby and start-up draw.
    """

    grid_import_mw: np.ndarray
    grid_export_mw: np.ndarray
    curtailed_mw: np.ndarray
    unserved_mw: np.ndarray
    bat_charge_mw: np.ndarray
    bat_discharge_mw: np.ndarray
    bat_e_mwh: np.ndarray
    el_p_mw: np.ndarray
    h2_produced_kg: np.ndarray
    h2_delivered_kg: np.ndarray
    h2_shortfall_kg: np.ndarray
    tank_kg: np.ndarray
    # zeros when a dispatcher does not give them (the optimum has no coal or events)
    dumped_mw: np.ndarray = field(default_factory=lambda: _MISSING)
    bat_grid_charge_mw: np.ndarray = field(default_factory=lambda: _MISSING)
    el_h2_kg: np.ndarray = field(default_factory=lambda: _MISSING)
    el_mode: np.ndarray = field(default_factory=lambda: _MISSING)
    el_grid_mw: np.ndarray = field(default_factory=lambda: _MISSING)
    coal_p_mw: np.ndarray = field(default_factory=lambda: _MISSING)
    coal_mode: np.ndarray = field(default_factory=lambda: _MISSING)
    coal_starts: np.ndarray = field(default_factory=lambda: _MISSING)
    trailer_kg: np.ndarray = field(default_factory=lambda: _MISSING)
    # None when not recorded
    load_served_mw: np.ndarray | None = None
    bat_capacity_mwh: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.grid_import_mw)
        shapes = {
            "dumped_mw": (n,), "bat_grid_charge_mw": (n,), "el_grid_mw": (n,),
            "trailer_kg": (n,), "coal_p_mw": (n, 0), "coal_mode": (n, 0),
            "coal_starts": (n, 0), "el_h2_kg": self.el_p_mw.shape,
            "el_mode": self.el_p_mw.shape,
        }
        for name, shape in shapes.items():
            if getattr(self, name) is _MISSING:
                object.__setattr__(self, name, np.zeros(shape))

    @classmethod
    def from_outputs(cls, out: tuple[np.ndarray, ...]) -> DispatchResult:
        """Wrap the kernel output arrays ``(sys, load, bat, el, coal)``.

        The fields are views, not copies: the caller must not reuse the arrays.
        """
        o, ol, ob, oe, oc = out
        return cls(
            grid_import_mw=o[:, K.O_IMP], grid_export_mw=o[:, K.O_EXP],
            curtailed_mw=o[:, K.O_CURT], unserved_mw=o[:, K.O_UNSERVED],
            dumped_mw=o[:, K.O_DUMP], load_served_mw=ol,
            bat_charge_mw=ob[:, :, K.OB_CH], bat_discharge_mw=ob[:, :, K.OB_DIS],
            bat_e_mwh=ob[:, :, K.OB_E], bat_capacity_mwh=ob[:, :, K.OB_CAP],
            bat_grid_charge_mw=o[:, K.O_BAT_GRID],
            el_p_mw=oe[:, :, K.OE_P], el_h2_kg=oe[:, :, K.OE_KG],
            el_mode=oe[:, :, K.OE_MODE].astype(np.int8), el_grid_mw=o[:, K.O_EL_GRID],
            coal_p_mw=oc[:, :, K.OC_P], coal_mode=oc[:, :, K.OC_MODE].astype(np.int8),
            coal_starts=oc[:, :, K.OC_START], trailer_kg=o[:, K.O_TRAILER_KG],
            h2_produced_kg=o[:, K.O_H2_PROD], h2_delivered_kg=o[:, K.O_H2_DEL],
            h2_shortfall_kg=o[:, K.O_H2_SHORT], tank_kg=o[:, K.O_TANK],
        )


def allocate_outputs(p: Packed) -> tuple[np.ndarray, ...]:
    """Kernel outputs ``(sys, load, bat, el, coal)`` for the packed inputs.

    Not initialised: the kernel writes every output of every step it advances.
    """
    # numba's allocator once compiled; numpy's while a first run compiles it (see
    # call_kernel): the arrays are the same but for how their pages are first written
    empty = _uninitialised.py_func if _ahead.compiling(_ahead.DISPATCH) else _uninitialised
    n = p.series.shape[1]
    return (empty((n, K.N_OUT)), empty((n, p.load_mw.shape[1])), empty((n, p.bat.shape[0], 4)),
            empty((n, p.el.shape[0], 3)), empty((n, p.coal.shape[0], 3)))


def strategy_code(strategy: str) -> int:
    """Kernel code of the strategy called *strategy*."""
    try:
        return K.STRATEGY_CODES[strategy]
    except KeyError:
        raise ValueError(
            f"unknown dispatch strategy {strategy!r}; allowed: "
            + ", ".join(sorted(K.STRATEGY_CODES))
        ) from None


def call_kernel(t0: int, t1: int, dt_h: float, code: int, p: Packed, sf: np.ndarray,
                si: np.ndarray, out: tuple[np.ndarray, ...]) -> None:
    """Advance the kernel over steps ``[t0, t1)``.

    While a first run compiles the kernel in the background (:mod:`parkgrid._ahead`),
    the steps are advanced by the kernel's own Python source (numba's ``py_func``,
    the same function uncompiled), :data:`INTERPRETED_STEPS` at a time, until the
    compile has finished; the compiled kernel advances the rest. The kernel carries
    every state in ``sf``/``si``, so where the steps are split does not matter, and
    the Python gives the same floating-point results as the compiled kernel, bit for
    bit (``tests/test_compile_ahead.py``). The flagship year takes 0.7-0.9 s so,
    against the 8-9 s a first run waited for the compile (issue 17).
    """
    args = (dt_h, code, p.params, p.series, p.res_mw, p.res_av, p.load_mw, p.load_av,
            p.load_order, p.bat, p.bat_av, p.el, p.el_curve, p.el_av, p.coal, p.coal_av, sf,
            si, *out)
    while t0 < t1 and _ahead.compiling(_ahead.DISPATCH):
        t = time.perf_counter()
        t_end = min(t1, t0 + INTERPRETED_STEPS)
        K.advance.py_func(t0, t_end, *args)
        _ahead.interpreted(_ahead.DISPATCH, time.perf_counter() - t, t_end - t0)
        t0 = t_end
    if t0 < t1:
        _ahead.wait(_ahead.DISPATCH)  # finished, or never started: no wait
        K.advance(t0, t1, *args)


def run_dispatch(inputs: DispatchInputs, strategy: str = "self_consumption") -> DispatchResult:
    """Dispatch every step of *inputs* with the rule *strategy* (no events).

    Parameters
    ----------
    inputs:
        The arrays to dispatch (see :class:`DispatchInputs`).
    strategy:
        One of ``parkgrid.dispatch.STRATEGIES``.
    """
    code = strategy_code(strategy)
    p = inputs.packed()
    sf, si = inputs.initial_state()
    if inputs.tank_capacity_kg < 0 or sf[K.F_TANK] > inputs.tank_capacity_kg + 1e-9:
        raise ValueError("tank_initial_kg must lie within [0, tank_capacity_kg]")
    out = allocate_outputs(p)
    call_kernel(0, inputs.n_steps, float(inputs.dt_h), code, p, sf, si, out)
    return DispatchResult.from_outputs(out)
