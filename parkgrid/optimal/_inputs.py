"""DispatchInputs as the plain arrays the optimiser needs, and results back.

The optimiser reads the public attributes of :class:`DispatchInputs` (not the
kernels' packed layout, which belongs to the rules) and refuses, by name, any
feature it does not model yet rather than silently ignoring it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from parkgrid.dispatch import DispatchInputs, DispatchResult
from parkgrid.errors import OptimalUnsupportedError

__all__ = ["UNMODELLED", "FlexDemand", "Park", "Unmodelled", "park_arrays", "to_result"]

@dataclass(frozen=True)
class Unmodelled:
    """A feature the optimal strategy does not model yet, as the user and the arrays see it.

    ``scenario_field`` is where a scenario sets it: a section key (``trucks``,
    ``events``), an asset key for every asset of a kind (``battery[].c_rate_max``)
    or ``hydrogen.trailers``; ``inputs_field`` is the :class:`DispatchInputs` field
    whose non-zero value uses it. Either may be ``None`` where the feature has no
    such form.
    """

    what: str
    scenario_field: str | None
    inputs_field: str | None
    scenario_label: str = ""


#: every feature the optimiser refuses, in one list: the scenario check
#: (:func:`parkgrid.optimal.scenario.unsupported_features`) and the array check
#: (:func:`park_arrays`) both read it
UNMODELLED: tuple[Unmodelled, ...] = (
    Unmodelled("truck charging", "trucks", None, "truck charging [trucks]"),
    Unmodelled("events", "events", None, "events [[event]]"),
    Unmodelled("forced outages", "reliability", None, "forced outages [[reliability]]"),
    Unmodelled("tariff seasons", "tariff_season", None, "tariff seasons [[tariff_season]]"),
    Unmodelled("import cap", "import_cap_mw", None, "dispatch.import_cap_mw"),
    Unmodelled("minimum green share", "green_share_min_pu", "green_share_min",
               "dispatch.green_share_min_pu"),
    Unmodelled("hydrogen trailers", "hydrogen.trailers", None, "hydrogen trailers"),
    Unmodelled("battery self-discharge", "battery[].self_discharge_pu_per_h",
               "bat_self_discharge_pu"),
    Unmodelled("battery calendar fade", "battery[].fade_calendar_pu_per_year",
               "bat_fade_calendar_pu"),
    Unmodelled("battery cycle fade", "battery[].fade_cycle_pu_per_efc", "bat_fade_cycle_pu"),
    Unmodelled("battery C-rate limit", "battery[].c_rate_max", None),
    Unmodelled("electrolyser part-load curve", "electrolyser[].part_load_curve", "el_curve"),
    Unmodelled("electrolyser standby draw", "electrolyser[].standby_pu", "el_standby_pu"),
    Unmodelled("electrolyser start-up time", "electrolyser[].start_delay_h", "el_start_steps"),
    Unmodelled("electrolyser minimum up time", "electrolyser[].min_up_h", "el_min_up_steps"),
    Unmodelled("electrolyser minimum down time", "electrolyser[].min_down_h",
               "el_min_down_steps"),
    Unmodelled("coal unit start-up time", "coal[].start_up_h", "coal_start_steps"),
    Unmodelled("load shifting", "load[].flexible_share", None),
    Unmodelled("islanded operation", None, "island"),
)


@dataclass(frozen=True, eq=False)
class FlexDemand:
    """A truck station as a flexible demand with energy-by-deadline bounds.

    Per step [MW, MWh]: ``p_max`` the most it can draw (chargers or racks with a
    truck or pack present, within its limit); ``e_lo`` the cumulative energy that
    must be charged by the end of the step (every truck or pack whose deadline
    has come: aggregated per departure step), ``e_hi`` the cumulative energy that
    may be (every truck or pack arrived).
    """

    name: str
    p_max: np.ndarray
    e_lo: np.ndarray
    e_hi: np.ndarray


@dataclass(frozen=True)
class Park:
    """Copper-plate park for the optimiser; powers [MW], energies [MWh], H2 [kg]."""

    n: int
    dt_h: float
    res: np.ndarray
    load: np.ndarray
    imp_lim: np.ndarray
    exp_lim: np.ndarray
    demand: np.ndarray | None
    bat_p: np.ndarray
    bat_eta_c: np.ndarray
    bat_eta_d: np.ndarray
    bat_e_nom: np.ndarray
    bat_e_min: np.ndarray
    bat_e_max: np.ndarray
    bat_e0: np.ndarray
    bat_av: np.ndarray
    el_p: np.ndarray
    el_kwh_per_kg: np.ndarray
    el_min_load: np.ndarray
    el_av: np.ndarray
    tank_cap_kg: float
    tank0_kg: float
    res_cols: np.ndarray
    load_cols: np.ndarray
    coal_p_min: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    coal_p_max: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    coal_ramp_up: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    coal_ramp_down: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    coal_min_up: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, int))
    coal_min_down: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, int))
    flex: tuple[FlexDemand, ...] = ()

    @property
    def kg_per_mw_step(self) -> np.ndarray:
        """Hydrogen per MW over one step, per electrolyser [kg/MW]."""
        return self.dt_h * 1000.0 / self.el_kwh_per_kg


def _vec(x: Any, n: int, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        a = np.full(n, float(a))
    if a.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},), got {a.shape}")
    return a


def _cols(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    a = a[:, None] if a.ndim == 1 else a
    if not np.all(np.isfinite(a)):
        raise ValueError(f"dispatch inputs contain NaN or infinite values ({name})")
    return a


def _av(inputs: DispatchInputs, name: str, n: int, m: int) -> np.ndarray:
    x = getattr(inputs, name, None)
    if x is None:
        return np.ones((n, m))
    a = np.asarray(x, dtype=float)
    return (a[:, None] if a.ndim == 1 else a).reshape(n, m)


def _unused(v: Any) -> bool:
    if v is None:
        return True
    a = np.asarray(v, dtype=float)
    return a.size == 0 or bool(np.all(a == 0))


def park_arrays(inputs: DispatchInputs) -> Park:
    """Normalise *inputs*; raise :class:`OptimalUnsupportedError` for features not modelled."""
    missing = [u.what for u in UNMODELLED
               if u.inputs_field and not _unused(getattr(inputs, u.inputs_field, None))]
    if np.isfinite(getattr(inputs, "import_cap_mw", np.inf)):
        missing.append("import cap")
    c = len(getattr(inputs, "coal_p_min_mw", ()))
    coal_av = getattr(inputs, "coal_av", None)
    if c and coal_av is not None and not np.all(np.asarray(coal_av, float) == 1.0):
        missing.append("coal unit availability (outages)")
    if missing:
        raise OptimalUnsupportedError(
            "the optimal strategy does not model " + ", ".join(missing)
            + " yet; use a rule-based strategy for this scenario")
    res_cols, load_cols = _cols(inputs.res_mw, "res_mw"), _cols(inputs.load_mw, "load_mw")
    n = res_cols.shape[0]
    res_cols = res_cols * _av(inputs, "res_av", n, res_cols.shape[1])
    load_cols = load_cols * _av(inputs, "load_av", n, load_cols.shape[1])
    b, m = len(inputs.bat_p_mw), len(inputs.el_p_mw)
    e_nom = _vec(inputs.bat_e_mwh, b, "bat_e_mwh")
    demand = None
    if inputs.h2_demand_kg is not None:
        demand = _vec(inputs.h2_demand_kg, n, "h2_demand_kg")
        if np.all(np.isinf(demand)):
            demand = None
        elif not np.all(np.isfinite(demand)):
            raise ValueError("h2_demand_kg must be finite everywhere or None (no tank)")
    imp_lim = _vec(inputs.import_limit_mw, n, "import_limit_mw")
    exp_lim = _vec(inputs.export_limit_mw, n, "export_limit_mw")
    if not (np.all(np.isfinite(imp_lim)) and np.all(np.isfinite(exp_lim))):
        raise ValueError("dispatch inputs contain NaN or infinite values (grid limits)")
    return Park(
        n=n, dt_h=float(inputs.dt_h), res=res_cols.sum(axis=1), load=load_cols.sum(axis=1),
        imp_lim=imp_lim, exp_lim=exp_lim, demand=demand,
        bat_p=_vec(inputs.bat_p_mw, b, "bat_p_mw"),
        bat_eta_c=_vec(inputs.bat_eta_charge, b, "bat_eta_charge"),
        bat_eta_d=_vec(inputs.bat_eta_discharge, b, "bat_eta_discharge"),
        bat_e_nom=e_nom, bat_e_min=e_nom * _vec(inputs.bat_soc_min_pu, b, "bat_soc_min_pu"),
        bat_e_max=e_nom * _vec(inputs.bat_soc_max_pu, b, "bat_soc_max_pu"),
        bat_e0=e_nom * _vec(inputs.bat_soc_initial_pu, b, "bat_soc_initial_pu"),
        bat_av=_av(inputs, "bat_av", n, b),
        el_p=_vec(inputs.el_p_mw, m, "el_p_mw"),
        el_kwh_per_kg=_vec(inputs.el_kwh_per_kg, m, "el_kwh_per_kg"),
        el_min_load=_vec(inputs.el_min_load_pu, m, "el_min_load_pu"),
        el_av=_av(inputs, "el_av", n, m),
        tank_cap_kg=float(inputs.tank_capacity_kg), tank0_kg=float(inputs.tank_initial_kg),
        res_cols=res_cols, load_cols=load_cols, **_coal(inputs, c),
    )


def _coal(inputs: DispatchInputs, c: int) -> dict[str, Any]:
    """Coal unit limits [MW] and minimum up/down times [steps].

    A ramp limit of ``None`` or infinity is no limit (p_max). Minimum up/down
    times are the rules' ``coal_min_up_steps`` / ``coal_min_down_steps``
    (``None``: 0), rounded up to whole steps as the rules' step timers compare
    them; :mod:`parkgrid.optimal.model` says what they mean.
    """
    p_min = _vec(inputs.coal_p_min_mw, c, "coal_p_min_mw")
    p_max = _vec(inputs.coal_p_max_mw, c, "coal_p_max_mw")
    if not (np.all(np.isfinite(p_max)) and np.all((0 <= p_min) & (p_min <= p_max))):
        raise ValueError("coal units need finite 0 <= p_min_mw <= p_max_mw")

    def ramp(x: Any, name: str) -> np.ndarray:
        r = np.full(c, np.inf) if x is None else _vec(x, c, name)
        if np.any(np.isnan(r)) or np.any(r < 0):
            raise ValueError(f"{name} must be >= 0")
        return np.minimum(r, p_max)  # a ramp above p_max does not bind

    def steps(x: Any, name: str) -> np.ndarray:
        a = np.zeros(c) if x is None else _vec(x, c, name)
        if not np.all(np.isfinite(a) & (a >= 0)):
            raise ValueError(f"{name} must be finite and >= 0")
        return np.minimum(np.ceil(a), 2.0**40).astype(np.int64)  # beyond any horizon

    return {"coal_p_min": p_min, "coal_p_max": p_max,
            "coal_ramp_up": ramp(inputs.coal_ramp_up_mw, "coal_ramp_up_mw"),
            "coal_ramp_down": ramp(inputs.coal_ramp_down_mw, "coal_ramp_down_mw"),
            "coal_min_up": steps(inputs.coal_min_up_steps, "coal_min_up_steps"),
            "coal_min_down": steps(inputs.coal_min_down_steps, "coal_min_down_steps")}


def to_result(park: Park, values: dict[str, np.ndarray]) -> DispatchResult:
    """Wrap the optimiser's arrays as a :class:`DispatchResult` of any field set.

    *values* holds the common fields (``grid_import_mw`` ... ``tank_kg``); fields
    that newer DispatchResult versions add are derived here from the schedule.
    """
    n = park.n
    imp, ch = values["grid_import_mw"], values["bat_charge_mw"]
    el = values["el_p_mw"]
    load = park.load
    served_share = np.divide(load - values["unserved_mw"], load, out=np.ones(n),
                             where=load > 0)
    # grid import attributed to storage and electrolysers after the loads (merit order
    # of the rules: loads first, then batteries, then electrolysers)
    coal = values.get("coal_p_mw", np.zeros((n, 0)))
    after_load = np.maximum(imp - np.maximum(load - values["unserved_mw"] - park.res
                                             - coal.sum(axis=1)
                                             + values["curtailed_mw"], 0.0), 0.0)
    bat_grid = np.minimum(after_load, ch.sum(axis=1))
    el_grid = np.minimum(after_load - bat_grid, el.sum(axis=1))
    on = (el > 0).astype(np.int8) * 2
    derived: dict[str, Any] = {
        "res_mw": park.res, "load_mw": load, "dumped_mw": np.zeros(n),
        "load_served_mw": park.load_cols * served_share[:, None],
        "bat_capacity_mwh": np.broadcast_to(park.bat_e_nom, ch.shape).copy(),
        "bat_grid_charge_mw": bat_grid, "el_grid_mw": el_grid,
        "el_h2_kg": el * park.kg_per_mw_step, "el_mode": on,
        "coal_p_mw": np.zeros((n, park.coal_p_max.size)),
        "coal_mode": np.zeros((n, park.coal_p_max.size), np.int8),
        "coal_starts": np.zeros((n, park.coal_p_max.size)),
    }
    kw: dict[str, Any] = {}
    for f in dataclasses.fields(DispatchResult):
        if f.name in values:
            kw[f.name] = values[f.name]
        elif f.name in derived:
            kw[f.name] = derived[f.name]
        elif (f.default is dataclasses.MISSING
              and f.default_factory is dataclasses.MISSING):  # pragma: no cover
            raise NotImplementedError(f"optimal dispatch cannot fill DispatchResult.{f.name}")
        # optional fields this module does not know keep their defaults (zeros)
    return DispatchResult(**kw)

