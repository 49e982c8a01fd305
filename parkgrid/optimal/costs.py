"""The one cost function that rules and the optimum are judged by.

:func:`evaluate_objective` prices any :class:`~parkgrid.dispatch.DispatchResult`
(a rule's or the optimiser's) with the same terms the optimiser minimises, so
"rule minus optimum" is a like-for-like gap.

Objective [CNY], to be minimised::

    w_energy   * sum_t import_t * price_t * dt          (TOU energy cost)
  + w_capacity * sum_m max_{t in m} import_t * cc      (capacity charge, per billing month)
  + w_carbon   * carbon_price * ef * sum_t import_t * dt
  + w_carbon   * carbon_price * sum_{t,k} coal_t,k * dt * co2_k  (coal CO2, co2_k [t/MWh])
  + w_energy   * sum_{t,k} coal_t,k * dt * fuel_k      (coal fuel, fuel_k [CNY/MWh])
  + sum_k start_cost_k * starts_k                      (coal unit starts, unweighted)
  - w_export   * sum_t export_t * export_price_t * dt
  - w_hydrogen * hydrogen_value * H2 delivered
  + unserved_penalty * unserved MWh + shortfall_penalty * H2 shortfall kg
  - sum_b value_b * (E_b,end - E_b,start) - tank_value * (tank_end - tank_start)

The last line is the terminal condition: energy and hydrogen left in storage at
the end are worth ``value_b`` [CNY/MWh stored] and ``tank_value`` [CNY/kg], and
what a schedule takes out of storage is charged at the same rate. Without it a
finite horizon drains storage at its end, and a rule that empties the battery
would look cheaper than it is. The default battery value is the mean weighted
import cost (energy + carbon) over the horizon times the discharging efficiency,
i.e. what a stored MWh saves on average when it is discharged; the default tank
value is the hydrogen value. Without a tank (``h2_demand_kg is None``) all
hydrogen produced is delivered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from parkgrid.dispatch import DispatchInputs, DispatchResult

__all__ = ["ObjectiveBreakdown", "Prices", "ResolvedPrices", "Weights", "evaluate_objective"]


@dataclass(frozen=True)
class Weights:
    """Weights of the objective terms (1 = the term in CNY as it is)."""

    energy: float = 1.0
    capacity: float = 1.0
    carbon: float = 1.0
    hydrogen: float = 1.0
    export: float = 1.0


@dataclass(frozen=True)
class Prices:
    """Prices and penalties of the objective.

    Attributes
    ----------
    import_cny_per_mwh:
        Import price per step [CNY/MWh] (the TOU tariff), scalar or length T.
    export_cny_per_mwh:
        Export revenue per step [CNY/MWh], scalar or length T.
    period:
        Billing period (e.g. month number) of every step for the capacity
        charge; ``None`` = one period.
    capacity_charge_cny_per_mw_month:
        Charge on each period's highest step-mean import [CNY/MW].
    carbon_cny_per_t, ef_kg_per_kwh:
        Carbon price [CNY/tCO2] and the emission factor of imports [kgCO2/kWh].
    hydrogen_cny_per_kg:
        Value of hydrogen delivered [CNY/kg].
    battery_value_cny_per_mwh:
        Value of stored battery energy at the end [CNY/MWh stored], scalar or
        per battery; ``None`` = mean weighted import cost x eta_discharge.
    tank_value_cny_per_kg:
        Value of hydrogen in the tank at the end [CNY/kg]; ``None`` = weighted
        hydrogen value.
    unserved_cny_per_mwh, shortfall_cny_per_kg:
        Penalties of unserved load [CNY/MWh] and unmet hydrogen offtake [CNY/kg].
        Shedding 1 MW for one 15-minute step must cost more than raising a
        month's peak by 1 MW (the capacity charge), or the optimum sheds load
        to shave peaks: hence 1e6 CNY/MWh by default.
    coal_co2_t_per_mwh:
        CO2 of each captive coal unit per MWh generated [tCO2/MWh], scalar or
        per unit (``coal_gce_per_kwh * co2_kg_per_kgce / 1000``); priced at the
        carbon price.
    coal_fuel_cny_per_mwh:
        Fuel cost of each coal unit per MWh generated [CNY/MWh], scalar or per
        unit (``coal_gce_per_kwh / 1000 * fuel_cny_per_tce``); weighted as energy.
    coal_start_cny:
        Cost of one start of each coal unit [CNY], scalar or per unit.
    weights:
        Weights of the objective terms.
    """

    import_cny_per_mwh: np.ndarray | float = 0.0
    export_cny_per_mwh: np.ndarray | float = 0.0
    period: np.ndarray | None = None
    capacity_charge_cny_per_mw_month: float = 0.0
    carbon_cny_per_t: float = 0.0
    ef_kg_per_kwh: float = 0.0
    hydrogen_cny_per_kg: float = 0.0
    battery_value_cny_per_mwh: np.ndarray | float | None = None
    tank_value_cny_per_kg: float | None = None
    unserved_cny_per_mwh: float = 1e6
    shortfall_cny_per_kg: float = 200.0
    coal_co2_t_per_mwh: np.ndarray | float = 0.0
    coal_start_cny: np.ndarray | float = 0.0
    coal_fuel_cny_per_mwh: np.ndarray | float = 0.0
    weights: Weights = field(default_factory=Weights)

    def resolve(self, inputs: DispatchInputs) -> ResolvedPrices:
        """Per-step cost coefficients for *inputs* (defaults filled in, weights applied)."""
        n, dt, w = inputs.n_steps, float(inputs.dt_h), self.weights
        imp = np.broadcast_to(np.asarray(self.import_cny_per_mwh, float), (n,)).copy()
        exp = np.broadcast_to(np.asarray(self.export_cny_per_mwh, float), (n,)).copy()
        period = (np.zeros(n, np.int64) if self.period is None
                  else np.asarray(self.period, np.int64).reshape(n))
        # weighted import cost per MWh: energy + carbon (ef kg/kWh == t/MWh)
        imp_cost = w.energy * imp + w.carbon * self.carbon_cny_per_t * self.ef_kg_per_kwh
        nb = len(inputs.bat_p_mw)
        if self.battery_value_cny_per_mwh is None:
            mean = float(imp_cost.mean()) if n else 0.0
            bat_value = mean * np.asarray(inputs.bat_eta_discharge, float).reshape(nb)
        else:
            bat_value = np.broadcast_to(
                np.asarray(self.battery_value_cny_per_mwh, float), (nb,)).copy()
        h2 = w.hydrogen * self.hydrogen_cny_per_kg
        tank_value = h2 if self.tank_value_cny_per_kg is None else self.tank_value_cny_per_kg
        nc = len(getattr(inputs, "coal_p_min_mw", ()))
        coal_co2 = np.broadcast_to(np.asarray(self.coal_co2_t_per_mwh, float), (nc,))
        coal_start = np.broadcast_to(np.asarray(self.coal_start_cny, float), (nc,)).copy()
        coal_cost = w.carbon * self.carbon_cny_per_t * coal_co2
        coal_fuel = w.energy * np.broadcast_to(
            np.asarray(self.coal_fuel_cny_per_mwh, float), (nc,)).copy()
        for name, v in (("import", imp), ("export", exp), ("battery value", bat_value),
                        ("coal CO2", coal_cost), ("coal start", coal_start),
                        ("coal fuel", coal_fuel)):
            if not np.all(np.isfinite(v)):
                raise ValueError(f"prices: {name} prices contain NaN or infinite values")
        return ResolvedPrices(
            import_cost=imp_cost, export_revenue=w.export * exp, period=period,
            capacity=w.capacity * self.capacity_charge_cny_per_mw_month,
            hydrogen=h2, bat_value=bat_value, tank_value=float(tank_value),
            unserved=float(self.unserved_cny_per_mwh), shortfall=float(self.shortfall_cny_per_kg),
            dt_h=dt, coal_cost=coal_cost, coal_start=coal_start, coal_fuel=coal_fuel,
        )


@dataclass(frozen=True)
class ResolvedPrices:
    """Weighted per-step coefficients [CNY/MWh, CNY/MW, CNY/kg]; see :meth:`Prices.resolve`."""

    import_cost: np.ndarray
    export_revenue: np.ndarray
    period: np.ndarray
    capacity: float
    hydrogen: float
    bat_value: np.ndarray
    tank_value: float
    unserved: float
    shortfall: float
    dt_h: float
    coal_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [CNY/MWh] per unit
    coal_start: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [CNY/start] per unit
    coal_fuel: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [CNY/MWh] per unit

    def __post_init__(self) -> None:
        if self.coal_fuel.size == 0 and self.coal_cost.size:  # built without fuel: unpriced
            object.__setattr__(self, "coal_fuel", np.zeros_like(self.coal_cost))


@dataclass(frozen=True)
class ObjectiveBreakdown:
    """The weighted objective [CNY] term by term; ``total`` is what is minimised.

    ``import_cost_cny`` is the weighted TOU energy cost plus the weighted carbon
    cost of the imports; ``storage_value_change_cny`` is the value of the stored
    energy and hydrogen at the end minus at the start (the terminal condition);
    ``coal_carbon_cny`` the weighted carbon cost of coal generation,
    ``coal_start_cny`` the coal units' start costs and ``coal_fuel_cny`` their
    weighted fuel cost.
    """

    import_cost_cny: float
    capacity_cny: float
    export_revenue_cny: float
    hydrogen_value_cny: float
    unserved_penalty_cny: float
    shortfall_penalty_cny: float
    storage_value_change_cny: float
    coal_carbon_cny: float = 0.0
    coal_start_cny: float = 0.0
    coal_fuel_cny: float = 0.0

    @property
    def total(self) -> float:
        """Import cost + capacity - export - hydrogen + penalties - storage value change + coal."""
        return (self.import_cost_cny + self.capacity_cny - self.export_revenue_cny
                - self.hydrogen_value_cny + self.unserved_penalty_cny
                + self.shortfall_penalty_cny - self.storage_value_change_cny
                + self.coal_carbon_cny + self.coal_start_cny + self.coal_fuel_cny)


def evaluate_objective(
    inputs: DispatchInputs, prices: Prices | ResolvedPrices, result: DispatchResult
) -> ObjectiveBreakdown:
    """Price the schedule *result* of *inputs* with the optimiser's objective.

    Works for any strategy's result; the rule-vs-optimum gap is the difference
    of the two ``total`` values.
    """
    rp = prices.resolve(inputs) if isinstance(prices, Prices) else prices
    dt = rp.dt_h
    imp = np.asarray(result.grid_import_mw, float)
    peaks = 0.0
    if rp.capacity and len(imp):
        for p in np.unique(rp.period):
            peaks += float(imp[rp.period == p].max())
    e0 = (np.asarray(inputs.bat_e_mwh, float).reshape(-1)
          * np.asarray(inputs.bat_soc_initial_pu, float).reshape(-1))
    if len(imp) and result.bat_e_mwh.size:
        bat_change = float(rp.bat_value @ (result.bat_e_mwh[-1] - e0))
    else:
        bat_change = 0.0
    tank0 = float(inputs.tank_initial_kg)
    tank_end = float(result.tank_kg[-1]) if len(imp) else tank0
    no_tank = inputs.h2_demand_kg is None or bool(np.all(np.isinf(inputs.h2_demand_kg)))
    delivered = float(np.sum(result.h2_delivered_kg))
    coal_carbon = coal_start = coal_fuel = 0.0
    nc = rp.coal_cost.size
    coal_p = getattr(result, "coal_p_mw", None)
    if nc and len(imp):
        if coal_p is None or np.shape(coal_p) != (len(imp), nc):
            raise ValueError(f"evaluate_objective: the inputs have {nc} coal unit(s); the "
                             "schedule must give coal_p_mw and coal_starts of shape "
                             f"({len(imp)}, {nc})")
        starts = np.asarray(getattr(result, "coal_starts", None), float).reshape(len(imp), nc)
        coal_mwh = np.asarray(coal_p, float).sum(axis=0) * dt
        coal_carbon = float(coal_mwh @ rp.coal_cost)
        coal_fuel = float(coal_mwh @ rp.coal_fuel)
        coal_start = float(starts.sum(axis=0) @ rp.coal_start)
    return ObjectiveBreakdown(
        import_cost_cny=float(imp @ rp.import_cost) * dt,
        capacity_cny=peaks * rp.capacity,
        export_revenue_cny=float(np.asarray(result.grid_export_mw) @ rp.export_revenue) * dt,
        hydrogen_value_cny=rp.hydrogen * delivered,
        unserved_penalty_cny=rp.unserved * float(np.sum(result.unserved_mw)) * dt,
        shortfall_penalty_cny=rp.shortfall * float(np.sum(result.h2_shortfall_kg)),
        storage_value_change_cny=bat_change + (
            0.0 if no_tank else rp.tank_value * (tank_end - tank0)),
        coal_carbon_cny=coal_carbon, coal_start_cny=coal_start, coal_fuel_cny=coal_fuel,
    )
