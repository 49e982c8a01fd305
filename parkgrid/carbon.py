"""Carbon and green-power accounting over per-step arrays, for simulations and meters alike.

Everything here is a pure function of per-step energy flows, so a simulated year
(:func:`parkgrid.stages.kpi_stage`) and a meter export (:mod:`parkgrid.assess`) are
accounted by the same code. Energies are [MWh per step], CO2 [t], factors
[kgCO2/kWh] (= tCO2/MWh).

Definitions
-----------
Per step t, with exports taken from the direct line first, then own RES (so the
park's own plants serve it first, the contracts the rest):

* own RES generation ``R`` (after curtailment), direct-line delivery ``D``, import
  ``I``, coal ``K`` (CO2 ``k``), battery charge/discharge, electrolyser ``EL``,
  loads served ``L_j``;
* gross consumption ``G = sum L_j + EL + charge``; every consumer gets the same mix
  of the step's supply (own RES, direct line, import, coal consumed on site,
  battery discharge, which is neither green nor emitting: its charging took its
  share);
* coal consumed on site ``Kon = clip(G - discharge - I - Ron - Don, 0, K - dumped)``
  and its CO2 ``kon = k Kon / K``; net consumption ``N = Ron + Don + I + Kon`` (what the
  park consumes from generation and imports, battery round trip excluded).

**Scope 1** = sum k (all captive coal CO2, wherever its power went). **Scope 2
location-based** = sum I x ef_location (the MEE/NBS factor, or a per-step column).
**Scope 2 market-based** = sum (I - covered) x ef_residual, where ``covered`` is the
PPA and certificate volume matched to imports (``market_matching``; an annual or
monthly match is spread over the period's imports in proportion). The direct line
is not grid electricity: it carries its plant's factor (0, wind/PV) under both
methods (GHG Protocol Scope 2 Guidance, 2015, on direct-line transfers; cited from
memory, not re-checked). With the default residual factor (the location factor of
each step; the Guidance's fallback where no residual mix is published, and no
Chinese residual mix is published: MEE/NBS's national factor without market-traded
non-fossil power, ``national_excl_market``, is the nearest and may be chosen)
market-based <= location-based; a residual factor above the grid average can make
it larger, as in Europe.

**Matching.** For a period k (a step = "hourly", a calendar month, a calendar year)
PPA and certificates cover the period's imports: ``ppa = min(P_k, I_k)``,
``certificates = min(C_k, I_k - ppa)``, ``covered_k = ppa + certificates`` (GHG
Protocol Scope 2: instruments apply to purchased grid power; exports never offset
imports). Green energy is claimed in this order and never beyond what the park
consumed: ``own = min(N_k, R_k)``, ``direct_line = min(N_k - own, D_k)``, then
``contracts = min(N_k - own - direct_line, covered_k)``; so green_k = min(N_k, R_k +
D_k + covered_k), own generation exported in the period counting towards it (as in
``green_share_annual``). Certificates carry no time stamp finer than the year, so
they count in annual matching only. Green share = sum green_k / sum N_k; "hourly"
means per time step (15 min in simulations, the meter interval in ``assess``),
stricter than per hour. Contract volume that covers no import (and direct-line
energy exported in its step) is **surplus**, reported (``*_surplus_mwh``) and never
counted. hourly <= monthly <= annual by construction.

**Hydrogen.** Intensity of the hydrogen of period k: the electrolyser's share of
the period's gross consumption times the period's emitting supply (the electrolyser
gets the period's average mix like every consumer, no priority on green claims, so a
longer period averages away an electrolyser's favourable timing),
``EL_k / G_k x (kon_k + (I_k - covered_k) x ef)``, with ef = the location factor and
covered = 0 for ``grid_share`` (the physical mix of each step, the KPI
``h2_kgco2_per_kg`` of :mod:`parkgrid.kpis`), else ef = the residual factor and the
contracts matched per step / month / year. Classes of T/CAB 0078-2020 (China
Association for the Promotion of Industry-University-Research Cooperation, 29 Dec
2020, "Standard and evaluation of low-carbon hydrogen, clean hydrogen and renewable
hydrogen"; thresholds as reported at publication): low-carbon <= 14.51, clean <= 4.9
kgCO2e/kgH2, renewable <= 4.9 *and* made from renewable energy; parkgrid counts the
hydrogen of a period renewable only if the period's consumption is wholly green
under the matching (green share 1). The standard's thresholds are life-cycle
figures; parkgrid counts electricity and captive coal only (no water, no
equipment), which a certifier would add. EU RFNBO (optional): Delegated Regulation
(EU) 2023/1185 sets the saving at 70 % against a fossil comparator of 94 gCO2e/MJ,
i.e. 28.2 gCO2e/MJ x 120 MJ/kg (LHV) = 3.384 kgCO2e/kgH2 (the 94 g/MJ comparator is
cited from memory); 2023/1184 requires temporal correlation (hourly from 2030) and
additionality: parkgrid counts RFNBO hydrogen per step with green share 1,
intensity <= 3.384 and ``rfnbo_additional`` declared.

**Product footprints.** Per step, a load's share of the step's emitting supply is
``L_j / G x (kon + scope-2 CO2 of the step)`` (scope 2 by ``footprint_scope2``).
The product's output is spread over the year in proportion to the load's energy,
so kgCO2 per unit of a month = the month's CO2 / (output_per_year x the month's
share of the load's annual energy). Unattributed = scope 1 + scope 2 - products:
hydrogen, battery charging, loads without a product, coal exported or dumped.

**Avoided emissions** = own RES generation (used on site and exported) x the
displaced factor; reported apart, never netted against the park's own emissions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.factors import emission_factor

__all__ = [
    "H2_THRESHOLDS_KG_PER_KG",
    "MATCHING",
    "CarbonAccount",
    "Flows",
    "Instruments",
    "Product",
    "Rules",
    "account",
    "contract_instruments",
    "flows_from_timeseries",
    "product_column",
    "product_table",
    "scenario_account",
]

#: kgCO2e per kg H2: T/CAB 0078-2020 (low-carbon 14.51, clean and renewable 4.9) and
#: EU RFNBO (70 % below 94 gCO2e/MJ x 120 MJ/kg, Delegated Regulation (EU) 2023/1185)
H2_THRESHOLDS_KG_PER_KG: dict[str, float] = {
    "low_carbon": 14.51, "clean": 4.9, "renewable": 4.9, "rfnbo": 0.3 * 94.0 * 120.0 / 1000.0,
}
MATCHING = ("hourly", "monthly", "annual")
_GREEN_TOL = 1e-9  # a period counts as wholly green when its green share >= 1 - this


def product_column(product: str) -> str:
    """Time-series column of a product's attributed CO2 per step [t]."""
    return f"product.{product}.co2_t"


@dataclass(frozen=True)
class Flows:
    """Per-step energy flows of a park [MWh per step], all >= 0, on a DatetimeIndex.

    ``own_res_mwh`` is own PV + wind generation after curtailment (exports included);
    ``loads_mwh`` has one column per load (served energy), named by ``load_names``.
    """

    index: pd.DatetimeIndex
    own_res_mwh: np.ndarray
    import_mwh: np.ndarray
    export_mwh: np.ndarray
    loads_mwh: np.ndarray
    load_names: tuple[str, ...]
    direct_line_mwh: np.ndarray | None = None
    coal_mwh: np.ndarray | None = None
    coal_co2_t: np.ndarray | None = None
    dumped_mwh: np.ndarray | None = None
    charge_mwh: np.ndarray | None = None
    discharge_mwh: np.ndarray | None = None
    electrolyser_mwh: np.ndarray | None = None
    h2_kg: np.ndarray | None = None

    def get(self, name: str) -> np.ndarray:
        """Return the array *name*, zeros when not given."""
        v = getattr(self, name)
        return np.zeros(len(self.index)) if v is None else np.asarray(v, dtype=float)


@dataclass(frozen=True)
class Instruments:
    """Contract volumes: PPA delivery per step [MWh], certificates per year [MWh]."""

    ppa_mwh: np.ndarray
    certificates_mwh_by_year: Mapping[int, float] = field(default_factory=dict)
    cost_cny: float = 0.0


@dataclass(frozen=True)
class Rules:
    """Factors per step [kgCO2/kWh] and the matching rules (``[carbon]``)."""

    ef_location: np.ndarray
    ef_residual: np.ndarray
    ef_displaced: np.ndarray
    market_matching: str = "annual"
    h2_matching: str = "hourly"
    h2_class: str = "renewable"
    rfnbo_additional: bool = False
    footprint_scope2: str = "market"


@dataclass(frozen=True)
class Product:
    """A product and the loads (columns of ``Flows.loads_mwh``) that make it."""

    name: str
    output_per_year: float
    output_unit: str
    loads: tuple[int, ...]


@dataclass
class CarbonAccount:
    """What :func:`account` returns: KPIs, per-step columns, monthly and product tables."""

    kpis: dict[str, float]
    steps: pd.DataFrame
    monthly: pd.DataFrame
    products: pd.DataFrame
    notes: list[str]


@dataclass(frozen=True)
class _Match:
    inverse: np.ndarray
    n: np.ndarray
    imp: np.ndarray
    own: np.ndarray
    dl: np.ndarray
    ppa: np.ndarray
    cert: np.ndarray
    ppa_offered: np.ndarray
    cert_offered: np.ndarray

    @property
    def green(self) -> np.ndarray:
        """Green energy claimed: own, direct line, then instruments, up to consumption."""
        return self.own + self.dl + np.minimum(self.n - self.own - self.dl, self.covered)

    @property
    def contract_green(self) -> np.ndarray:
        return self.green - self.own

    @property
    def covered(self) -> np.ndarray:
        return self.ppa + self.cert


def _keys(index: pd.DatetimeIndex, level: str) -> np.ndarray:
    if level == "hourly":
        return np.arange(len(index))
    if level == "monthly":
        return np.asarray(index.year * 12 + index.month - 1)
    return np.asarray(index.year)


def _match(level: str, index: pd.DatetimeIndex, n: np.ndarray, own: np.ndarray,
           dl: np.ndarray, imp: np.ndarray, ppa: np.ndarray,
           certs: Mapping[int, float]) -> _Match:
    keys, inverse = np.unique(_keys(index, level), return_inverse=True)

    def agg(x: np.ndarray) -> np.ndarray:
        return np.bincount(inverse, weights=x, minlength=len(keys))

    nk, rk, dk, ik, pk = agg(n), agg(own), agg(dl), agg(imp), agg(ppa)
    ck = (np.array([float(certs.get(int(y), 0.0)) for y in keys]) if level == "annual"
          else np.zeros(len(keys)))
    g_own = np.minimum(nk, rk)
    g_dl = np.minimum(nk - g_own, dk)
    # instruments cover imports (GHG Protocol Scope 2: exports never offset imports)
    ppa = np.minimum(pk, ik)
    cert = np.minimum(ck, ik - ppa)
    return _Match(inverse, nk, ik, g_own, g_dl, ppa, cert, pk, ck)


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b > 1e-12)


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 1e-12 else float("nan")


def account(flows: Flows, instruments: Instruments, rules: Rules,
            products: Sequence[Product] = ()) -> CarbonAccount:
    """Scopes, green shares, hydrogen classes, footprints and avoided CO2 of *flows*."""
    f = flows
    idx = f.index
    own, dl = f.get("own_res_mwh"), f.get("direct_line_mwh")
    imp, exp = f.get("import_mwh"), f.get("export_mwh")
    coal, coal_co2 = f.get("coal_mwh"), f.get("coal_co2_t")
    dumped = f.get("dumped_mwh")
    ch, dis = f.get("charge_mwh"), f.get("discharge_mwh")
    el, h2 = f.get("electrolyser_mwh"), f.get("h2_kg")
    loads = np.asarray(f.loads_mwh, dtype=float).reshape(len(idx), -1)
    ppa = np.asarray(instruments.ppa_mwh, dtype=float)
    certs = instruments.certificates_mwh_by_year

    gross = loads.sum(axis=1) + el + ch
    exp_dl = np.minimum(exp, dl)
    exp_own = np.minimum(exp - exp_dl, own)
    own_on, dl_on = own - exp_own, dl - exp_dl
    coal_on = np.clip(gross - dis - imp - own_on - dl_on, 0.0, np.maximum(coal - dumped, 0.0))
    kon = coal_co2 * _div(coal_on, coal)
    net = own_on + dl_on + imp + coal_on

    scope1 = coal_co2
    s2_loc = imp * rules.ef_location
    matches = {lv: _match(lv, idx, net, own, dl, imp, ppa, certs) for lv in MATCHING}
    mm = matches[rules.market_matching]
    covered_step = imp * _div(mm.covered, mm.imp)[mm.inverse]
    s2_mkt = (imp - covered_step) * rules.ef_residual

    kpis: dict[str, float] = {
        "co2_scope1_t": float(scope1.sum()),
        "co2_scope2_location_t": float(s2_loc.sum()),
        "co2_scope2_market_t": float(s2_mkt.sum()),
        "co2_scope12_location_t": float(scope1.sum() + s2_loc.sum()),
        "co2_scope12_market_t": float(scope1.sum() + s2_mkt.sum()),
        "net_consumption_mwh": float(net.sum()),
        "direct_line_mwh": float(dl.sum()),
        "ppa_mwh": float(ppa.sum()),
        "certificates_mwh": float(mm.cert_offered.sum() if rules.market_matching == "annual"
                                  else matches["annual"].cert_offered.sum()),
    }
    for lv, m in matches.items():
        total = float(m.n.sum())
        kpis[f"green_share_total_{lv}"] = _ratio(float(m.green.sum()), total)
        kpis[f"green_share_own_{lv}"] = _ratio(float(m.own.sum()), total)
        kpis[f"green_share_contract_{lv}"] = _ratio(float(m.contract_green.sum()), total)
    kpis["direct_line_surplus_mwh"] = float(dl.sum() - matches["hourly"].dl.sum())
    kpis["ppa_surplus_mwh"] = float((mm.ppa_offered - mm.ppa).sum())
    annual = matches["annual"]
    kpis["certificates_surplus_mwh"] = float((annual.cert_offered - annual.cert).sum())
    kpis["green_contract_cost_cny"] = float(instruments.cost_cny)
    kpis["avoided_co2_t"] = float((own * rules.ef_displaced).sum())

    green_step = matches["hourly"].green
    share_step = np.minimum(_div(green_step, net), 1.0)
    h2_k, h2_classes = _hydrogen(idx, rules, matches, gross, el, h2, kon, imp)
    kpis.update(h2_k)
    steps = pd.DataFrame({"co2_scope1_t": scope1, "co2_scope2_location_t": s2_loc,
                          "co2_scope2_market_t": s2_mkt, "green_share_hourly_step": share_step,
                          **h2_classes}, index=idx)

    s2_fp = s2_mkt if rules.footprint_scope2 == "market" else s2_loc
    emitting = kon + s2_fp
    per_mwh = _div(emitting, gross)
    attributed = 0.0
    rows = []
    for p in products:
        mwh = loads[:, list(p.loads)].sum(axis=1)
        co2 = mwh * per_mwh
        steps[product_column(p.name)] = co2
        attributed += float(co2.sum())
        rows += _product_rows(p, idx, mwh, co2, share_step)
    total_fp = float(scope1.sum() + s2_fp.sum())
    kpis["product_co2_t"] = attributed
    kpis["unattributed_co2_t"] = total_fp - attributed

    monthly = _monthly(idx, steps, net, matches)
    notes = _notes(kpis, rules.market_matching)
    product_table = pd.DataFrame(rows, columns=["product", "month", "output", "unit",
                                                "co2_t", "kgco2_per_unit", "green_share"])
    return CarbonAccount(kpis=kpis, steps=steps, monthly=monthly, products=product_table,
                         notes=notes)


def _hydrogen(idx: pd.DatetimeIndex, rules: Rules, matches: dict[str, _Match],
              gross: np.ndarray, el: np.ndarray, h2: np.ndarray, kon: np.ndarray,
              imp: np.ndarray) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Hydrogen intensity under each rule and kg per class under the chosen rule."""
    out: dict[str, float] = {}
    kg_total = float(h2.sum())
    per_rule: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for rule in ("grid_share", *MATCHING):
        if rule == "grid_share":
            inverse = np.arange(len(idx))
            agg_kon, agg_el, agg_g, agg_h2 = kon, el, gross, h2
            emit = imp * rules.ef_location
            m = matches["hourly"]  # the physical mix: own RES and direct line only
            green_share = np.minimum(_div(m.own + m.dl, m.n), 1.0)
        else:
            m = matches[rule]
            inverse = m.inverse
            k = int(inverse.max()) + 1 if len(inverse) else 0

            def agg(x: np.ndarray, inv: np.ndarray = inverse, k: int = k) -> np.ndarray:
                return np.bincount(inv, weights=x, minlength=k)

            agg_kon, agg_el, agg_g, agg_h2 = agg(kon), agg(el), agg(gross), agg(h2)
            residual = agg(imp * rules.ef_residual)
            emit = residual * (1.0 - _div(m.covered, m.imp))
            green_share = np.minimum(_div(m.green, m.n), 1.0)
        co2_t = _div(agg_el, agg_g) * (agg_kon + emit)
        out[f"h2_kgco2_per_kg_{rule}"] = _ratio(float(co2_t.sum()) * 1000.0, kg_total)
        intensity = np.where(agg_h2 > 0, _div(co2_t * 1000.0, agg_h2), np.inf)
        per_rule[rule] = (intensity, green_share, inverse)
    intensity, share, inverse = per_rule[rules.h2_matching]
    wholly_green = share >= 1.0 - _GREEN_TOL
    th = H2_THRESHOLDS_KG_PER_KG
    classes = {
        "low_carbon": intensity <= th["low_carbon"],
        "clean": intensity <= th["clean"],
        "renewable": (intensity <= th["renewable"]) & wholly_green,
    }
    step_cols: dict[str, np.ndarray] = {}
    for name, ok in classes.items():
        kg = h2 * ok[inverse]
        out[f"h2_tcab_{name}_kg"] = float(kg.sum())
        step_cols[f"h2_{name}_kg"] = kg
    # RFNBO: per step always (temporal correlation), additionality declared
    s_int, s_share, _ = per_rule["hourly"]
    rfnbo = ((s_int <= th["rfnbo"]) & (s_share >= 1.0 - _GREEN_TOL)
             & bool(rules.rfnbo_additional))
    step_cols["h2_rfnbo_kg"] = h2 * rfnbo
    out["h2_rfnbo_kg"] = float((h2 * rfnbo).sum())
    target = "h2_rfnbo_kg" if rules.h2_class == "rfnbo" else f"h2_tcab_{rules.h2_class}_kg"
    out["h2_target_class_kg"] = out[target]
    return out, step_cols


def _product_rows(p: Product, idx: pd.DatetimeIndex, mwh: np.ndarray, co2: np.ndarray,
                  share: np.ndarray) -> list[list[Any]]:
    frame = pd.DataFrame({"mwh": mwh, "co2": co2, "green": mwh * share}, index=idx)
    total = float(mwh.sum())
    rows = []
    for month, part in frame.groupby(_months(idx)):
        e = float(part["mwh"].sum())
        output = p.output_per_year * e / total if total > 0 else 0.0
        rows.append([p.name, str(month), output, p.output_unit, float(part["co2"].sum()),
                     _ratio(float(part["co2"].sum()) * 1000.0, output),
                     _ratio(float(part["green"].sum()), e)])
    rows.append([p.name, "year", p.output_per_year, p.output_unit, float(co2.sum()),
                 _ratio(float(co2.sum()) * 1000.0, p.output_per_year),
                 _ratio(float((mwh * share).sum()), total)])
    return rows


def _months(idx: pd.DatetimeIndex) -> pd.PeriodIndex:
    """Calendar month of each step, on the park's local clock."""
    return (idx.tz_localize(None) if idx.tz is not None else idx).to_period("M")


def _monthly(idx: pd.DatetimeIndex, steps: pd.DataFrame, net: np.ndarray,
             matches: dict[str, _Match]) -> pd.DataFrame:
    period = _months(idx)
    out = steps[["co2_scope1_t", "co2_scope2_location_t", "co2_scope2_market_t"]].groupby(
        period).sum()
    hourly = matches["hourly"]
    frame = pd.DataFrame({"net": net, "green_hourly": hourly.green}, index=idx).groupby(
        period).sum()
    m = matches["monthly"]
    out["net_consumption_mwh"] = frame["net"].to_numpy()
    out["green_share_monthly_matched"] = _div(m.green, m.n)
    out["green_share_hourly_matched"] = _div(frame["green_hourly"].to_numpy(),
                                             frame["net"].to_numpy())
    out["green_own_mwh"] = m.own
    out["green_contract_mwh"] = m.contract_green
    out.index = out.index.astype(str)
    out.index.name = "month"
    return out


def _notes(kpis: dict[str, float], market_matching: str) -> list[str]:
    notes = []
    for key, what in (("direct_line_surplus_mwh", "direct-line energy the park did not "
                       "consume in its time step (exported)"),
                      ("ppa_surplus_mwh", f"PPA volume beyond the imports it can cover "
                       f"({market_matching} matching)"),
                      ("certificates_surplus_mwh", "certificate volume beyond the imports "
                       "left after the PPA (annual matching)")):
        if kpis[key] > 1e-6:
            notes.append(f"surplus: {kpis[key]:,.1f} MWh of {what}; reported as "
                         f"{key}, not counted as green")
    return notes


# ----------------------------------------------------------------- builders
def flows_from_timeseries(ts: pd.DataFrame, *, dt_h: float,
                          coal_t_per_mwh: Sequence[tuple[str, float]] = (),
                          load_names: Sequence[str] = ()) -> Flows:
    """Flows of a time series in the simulation's column names (MW per step).

    Loads are the ``load.<name>.p_mw`` columns of *load_names* (served power); without
    them (metered data) one load of ``load_mw - unserved_mw``.
    """
    def col(name: str) -> np.ndarray:
        return ts[name].to_numpy(dtype=float) if name in ts else np.zeros(len(ts))

    own = col("pv_avail_mw") + col("wind_avail_mw") - col("curtailed_mw")
    cols = [f"load.{n}.p_mw" for n in load_names]
    if cols and all(c in ts for c in cols):
        loads = np.column_stack([col(c) for c in cols]) * dt_h
        names = tuple(load_names)
    else:
        loads = ((col("load_mw") - col("unserved_mw")) * dt_h)[:, None]
        names = ("load",)
    coal = np.zeros(len(ts))
    coal_co2 = np.zeros(len(ts))
    for name, t in coal_t_per_mwh:
        unit = col(f"coal.{name}.p_mw") * dt_h
        coal += unit
        coal_co2 += unit * t
    if not coal_t_per_mwh and "coal_mw" in ts:
        coal = col("coal_mw") * dt_h
    return Flows(
        index=pd.DatetimeIndex(ts.index), own_res_mwh=np.maximum(own, 0.0) * dt_h,
        import_mwh=col("grid_import_mw") * dt_h, export_mwh=col("grid_export_mw") * dt_h,
        loads_mwh=loads, load_names=names, direct_line_mwh=col("direct_line_mw") * dt_h,
        coal_mwh=coal, coal_co2_t=coal_co2, dumped_mwh=col("dumped_mw") * dt_h,
        charge_mwh=col("bat_charge_mw") * dt_h, discharge_mwh=col("bat_discharge_mw") * dt_h,
        electrolyser_mwh=col("electrolyser_mw") * dt_h, h2_kg=col("h2_produced_kg"))


def _year_fraction(index: pd.DatetimeIndex, dt_h: float) -> dict[int, float]:
    """Share of each calendar year the index covers [-]."""
    out = {}
    for y in np.unique(np.asarray(index.year)):
        hours = (pd.Timestamp(f"{y + 1}-01-01") - pd.Timestamp(f"{y}-01-01")) / pd.Timedelta(
            hours=1)
        out[int(y)] = float((np.asarray(index.year) == y).sum() * dt_h / hours)
    return out


def contract_instruments(contracts: Sequence[Any], index: pd.DatetimeIndex, *, dt_h: float,
                         shapes: Mapping[str, np.ndarray] | None = None,
                         direct_line_mwh: Mapping[str, float] | None = None) -> Instruments:
    """PPA delivery per step and certificates per year of ``[[green_contract]]`` entries.

    A PPA's annual (or monthly) volume is spread over the steps of its year (month)
    in proportion to its ``profile`` column in *shapes* (flat without one); data
    covering part of a year (or month) get that part of the volume, and certificates
    of a year likewise. *direct_line_mwh* (delivered energy by contract name) prices
    the direct lines.
    """
    n = len(index)
    ppa = np.zeros(n)
    certs: dict[int, float] = {}
    cost = 0.0
    years = np.asarray(index.year)
    months = np.asarray(index.month)
    cover = _year_fraction(index, dt_h)
    for c in contracts:
        if c.kind == "direct_line":
            cost += (direct_line_mwh or {}).get(c.name, 0.0) * c.price_cny_per_mwh
        elif c.kind == "certificates":
            for y, mwh in c.mwh_by_year:
                if int(y) in cover:
                    certs[int(y)] = certs.get(int(y), 0.0) + mwh * cover[int(y)]
                    cost += mwh * cover[int(y)] * c.price_cny_per_mwh
        elif c.kind == "ppa":
            shape = np.ones(n) if not c.profile else np.asarray(
                (shapes or {})[c.profile], dtype=float)
            delivery = np.zeros(n)
            for y in cover:
                in_year = years == y
                if c.monthly_mwh:
                    for m in range(1, 13):
                        sel = in_year & (months == m)
                        if not sel.any():
                            continue
                        start = pd.Timestamp(year=y, month=m, day=1)
                        hours = (start + pd.offsets.MonthBegin(1) - start) / pd.Timedelta(
                            hours=1)
                        delivery += _spread(sel, shape, c.monthly_mwh[m - 1]
                                            * min(1.0, sel.sum() * dt_h / hours))
                else:
                    delivery += _spread(in_year, shape, c.volume_mwh * cover[y])
            ppa += delivery
            cost += float(delivery.sum()) * c.price_cny_per_mwh
    return Instruments(ppa_mwh=ppa, certificates_mwh_by_year=certs, cost_cny=cost)


def _spread(sel: np.ndarray, shape: np.ndarray, volume: float) -> np.ndarray:
    w = np.where(sel, shape, 0.0)
    if w.sum() <= 0:
        w = sel.astype(float)
    return w / w.sum() * volume


def _factor(value: str | float, location: np.ndarray, table: str, year: int) -> np.ndarray:
    """Return a ``[carbon]`` factor per step: location factor, MEE/NBS entry or number."""
    if isinstance(value, str):
        return location if value == "location" else np.full(len(location),
                                                             emission_factor(table, year))
    return np.full(len(location), float(value))


def scenario_account(scenario: Any, ts: pd.DataFrame, *, dt_h: float) -> CarbonAccount:
    """:func:`account` of a simulated (or metered) time series with a scenario's settings.

    *scenario* supplies ``[grid]`` factors, ``[carbon]`` rules, ``[[green_contract]]``,
    loads with products and coal units; the per-step location factor is the column
    ``ef_location_kg_per_kwh`` of *ts* when present, else the annual factor.
    """
    g, c = scenario.grid, scenario.carbon
    index = pd.DatetimeIndex(ts.index)
    n = len(ts)
    ef_loc = (ts["ef_location_kg_per_kwh"].to_numpy(dtype=float)
              if "ef_location_kg_per_kwh" in ts else np.full(n, float(g.ef_kg_per_kwh)))
    year = int(g.emission_factor_year)
    rules = Rules(
        ef_location=ef_loc,
        ef_residual=_factor(c.residual_factor, ef_loc, "national_excl_market", year),
        ef_displaced=_factor(c.displaced_factor, ef_loc, "national_fossil", year),
        market_matching=c.market_matching, h2_matching=c.h2_matching, h2_class=c.h2_class,
        rfnbo_additional=c.rfnbo_additional, footprint_scope2=c.footprint_scope2)
    load_names = [ld.name for ld in scenario.load]
    trucks = getattr(scenario, "trucks", None)
    if trucks is not None:
        load_names.append(trucks.name)
    flows = flows_from_timeseries(
        ts, dt_h=dt_h, coal_t_per_mwh=[(u.name, u.co2_t_per_mwh) for u in scenario.coal],
        load_names=load_names)
    shapes = {}
    profiles = getattr(scenario, "profiles", None)
    for k in scenario.green_contract:
        if k.kind == "ppa" and k.profile and profiles is not None:
            shapes[k.profile] = profiles[k.profile].to_numpy(dtype=float)
    delivered = {k.name: float(ts[f"direct_line.{k.name}.p_mw"].sum() * dt_h)
                 for k in scenario.green_contract
                 if k.kind == "direct_line" and f"direct_line.{k.name}.p_mw" in ts}
    instruments = contract_instruments(scenario.green_contract, index, dt_h=dt_h,
                                       shapes=shapes, direct_line_mwh=delivered)
    by_product: dict[str, list[int]] = {}
    outputs: dict[str, tuple[float, str]] = {}
    if flows.load_names != ("load",):
        for j, ld in enumerate(scenario.load):
            if ld.product:
                by_product.setdefault(ld.product, []).append(j)
                out, unit = outputs.get(ld.product, (0.0, ld.output_unit))
                outputs[ld.product] = (out + ld.output_per_year, unit)
    products = [Product(name, outputs[name][0], outputs[name][1], tuple(js))
                for name, js in by_product.items()]
    return account(flows, instruments, rules, products)


def product_table(ts: pd.DataFrame, loads: Sequence[Any], dt_h: float) -> pd.DataFrame:
    """Monthly and annual footprint of every product from a result's time series.

    Uses the columns :func:`account` adds (``product.<name>.co2_t``,
    ``green_share_hourly_step``) and the loads' served power; empty without them.
    """
    columns = ["product", "month", "output", "unit", "co2_t", "kgco2_per_unit", "green_share"]
    rows: list[list[Any]] = []
    by_product: dict[str, list[Any]] = {}
    for ld in loads:
        if getattr(ld, "product", ""):
            by_product.setdefault(ld.product, []).append(ld)
    index = pd.DatetimeIndex(ts.index)
    for name, lds in by_product.items():
        cols = [f"load.{ld.name}.p_mw" for ld in lds]
        if product_column(name) not in ts or not all(c in ts for c in cols):
            continue
        mwh = ts[cols].to_numpy(dtype=float).sum(axis=1) * dt_h
        p = Product(name, float(sum(ld.output_per_year for ld in lds)), lds[0].output_unit,
                    ())
        rows += _product_rows(p, index, mwh, ts[product_column(name)].to_numpy(dtype=float),
                              ts["green_share_hourly_step"].to_numpy(dtype=float))
    return pd.DataFrame(rows, columns=columns)
