"""The accounting of :mod:`parkgrid.carbon` over per-step arrays (definitions there)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

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
    keys, inverse = np.unique(_keys(idx, "monthly"), return_inverse=True)
    e_m, co2_m, green_m = (np.bincount(inverse, weights=x, minlength=len(keys))
                           for x in (mwh, co2, mwh * share))
    total = float(mwh.sum())
    rows = []
    for j, key in enumerate(keys.tolist()):
        e = float(e_m[j])
        output = p.output_per_year * e / total if total > 0 else 0.0
        rows.append([p.name, _month_text(key), output, p.output_unit, float(co2_m[j]),
                     _ratio(float(co2_m[j]) * 1000.0, output), _ratio(float(green_m[j]), e)])
    rows.append([p.name, "year", p.output_per_year, p.output_unit, float(co2.sum()),
                 _ratio(float(co2.sum()) * 1000.0, p.output_per_year),
                 _ratio(float((mwh * share).sum()), total)])
    return rows


def _month_text(key: int) -> str:
    """``2025-01`` for the month key ``year x 12 + month - 1``."""
    return f"{key // 12}-{key % 12 + 1:02d}"


def _monthly(idx: pd.DatetimeIndex, steps: pd.DataFrame, net: np.ndarray,
             matches: dict[str, _Match]) -> pd.DataFrame:
    m = matches["monthly"]
    keys = np.unique(_keys(idx, "monthly"))

    def agg(x: np.ndarray) -> np.ndarray:
        return np.bincount(m.inverse, weights=x, minlength=len(keys))

    net_m = agg(net)
    out = pd.DataFrame({c: agg(steps[c].to_numpy()) for c in
                        ("co2_scope1_t", "co2_scope2_location_t", "co2_scope2_market_t")},
                       index=pd.Index([_month_text(k) for k in keys.tolist()], name="month"))
    out["net_consumption_mwh"] = net_m
    out["green_share_monthly_matched"] = _div(m.green, m.n)
    out["green_share_hourly_matched"] = _div(agg(matches["hourly"].green), net_m)
    out["green_own_mwh"] = m.own
    out["green_contract_mwh"] = m.contract_green
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
