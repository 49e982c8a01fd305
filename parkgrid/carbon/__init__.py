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

from parkgrid.carbon._account import (
    H2_THRESHOLDS_KG_PER_KG,
    MATCHING,
    CarbonAccount,
    Flows,
    Instruments,
    Product,
    Rules,
    account,
    product_column,
    product_table,
)
from parkgrid.carbon._build import contract_instruments, flows_from_timeseries, scenario_account

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
