"""The benchmark suite: named, versioned cases.

Two kinds of case:

- ``park``: a scenario run through the whole pipeline (dispatch + power flow of
  every step + KPIs), from a frozen scenario file in ``parkgrid/bench/scenarios``;
- ``grid``: a grid with its own year profiles (SimBench, or a synthetic scale-up
  of a SimBench MV grid), power flow of every step + network KPIs.

Bump :data:`SUITE_VERSION` whenever a case changes what it computes; results of
different suite versions are not compared KPI by KPI.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from parkgrid.bench.synthetic import replicated_grid
from parkgrid.scenario import load_scenario

__all__ = ["CASES", "QUICK", "SUITE_VERSION", "BenchCase", "load_case", "select_cases"]

SUITE_VERSION = "1"
_SCENARIOS = Path(__file__).resolve().parent / "scenarios"


@dataclass(frozen=True)
class BenchCase:
    """One benchmark case.

    Attributes
    ----------
    name:
        Registry name (``parkgrid bench NAME``).
    kind:
        ``"park"`` (full pipeline) or ``"grid"`` (power flow of the grid's profiles).
    source:
        Scenario file (park), SimBench code, or ``synthetic:<buses>``.
    description:
        One line for the table and the JSON.
    """

    name: str
    kind: str
    source: str
    description: str


CASES: dict[str, BenchCase] = {c.name: c for c in (
    BenchCase("flagship", "park", "flagship.toml",
              "Ordos flagship park, 43 buses: dispatch + power flow + KPIs, full year"),
    BenchCase("cigre_mv_der", "park", "cigre_mv_der.toml",
              "green microgrid on the CIGRE MV benchmark with DER, full year"),
    BenchCase("sb_mv_rural", "grid", "1-MV-rural--0-sw", "SimBench MV rural, own profiles"),
    BenchCase("sb_mv_urban", "grid", "1-MV-urban--0-sw", "SimBench MV urban, own profiles"),
    BenchCase("sb_lv_rural1", "grid", "1-LV-rural1--0-sw", "SimBench LV rural 1, own profiles"),
    BenchCase("sb_lv_urban6", "grid", "1-LV-urban6--0-sw", "SimBench LV urban 6, own profiles"),
    BenchCase("synthetic_1k", "grid", "synthetic:1000",
              "10 copies of SimBench MV rural on one slack (970 buses)"),
    BenchCase("synthetic_5k", "grid", "synthetic:5000",
              "52 copies of SimBench MV rural on one slack (5,044 buses)"),
)}

#: the subset run by ``parkgrid bench --quick``
QUICK = ("flagship", "cigre_mv_der", "sb_mv_rural", "sb_lv_rural1")


def select_cases(names: list[str] | None, *, quick: bool = False) -> list[BenchCase]:
    """Cases by name (all, or the quick subset); unknown names raise ``KeyError``."""
    if names:
        unknown = [n for n in names if n not in CASES]
        if unknown:
            raise KeyError(f"unknown benchmark case(s) {', '.join(unknown)}; allowed: "
                           + ", ".join(CASES))
        return [CASES[n] for n in names]
    return [CASES[n] for n in (QUICK if quick else CASES)]


@dataclass
class LoadedCase:
    """A case ready to time: a validated scenario (park) or a net and its profiles (grid)."""

    case: BenchCase
    scenario: Any = None
    net: Any = None
    profiles: dict[tuple[str, str], pd.DataFrame] | None = None

    @property
    def n_buses(self) -> int:
        """Buses of the network (park: before the assets are attached)."""
        net = self.scenario.net if self.scenario is not None else self.net
        return len(net.bus)


def load_case(case: BenchCase, *, steps: int | None = None) -> LoadedCase:
    """Load the inputs of *case* (not timed); *steps* keeps only the first steps."""
    if case.kind == "park":

        scenario = load_scenario(_SCENARIOS / case.source)
        if steps is not None:
            import dataclasses

            scenario = dataclasses.replace(scenario, pf_steps=tuple(range(steps)))
        return LoadedCase(case, scenario=scenario)
    if case.source.startswith("synthetic:"):

        net, profiles = replicated_grid(int(case.source.split(":", 1)[1]), steps=steps)
        return LoadedCase(case, net=net, profiles=profiles)
    net, prof = _simbench(case.source)
    prof = {k: (v if steps is None else v.iloc[:steps]) for k, v in prof.items()}
    return LoadedCase(case, net=net, profiles=prof)


@functools.lru_cache(maxsize=4)
def _simbench(code: str) -> tuple[Any, dict[tuple[str, str], pd.DataFrame]]:
    """Load a SimBench grid and its absolute year profiles (cached: reading takes seconds).

    Shared between calls: the timed power flow works on a copy and never mutates them.
    """
    import simbench

    net = simbench.get_simbench_net(code)
    prof = simbench.get_absolute_values(net, profiles_instead_of_study_cases=True)
    net.profiles = {}
    return net, {k: v for k, v in prof.items() if v.shape[1] > 0}
