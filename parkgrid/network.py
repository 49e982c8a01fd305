"""Load park networks and connect scenario assets to them.

parkgrid never mutates a network it is given: :func:`build_park_net` works on a
deep copy and returns it together with the element indices of every asset.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandapower.topology as top
import pandas as pd

from parkgrid._paths import data_dir
from parkgrid.errors import NetworkError
from parkgrid.timeseries import asset_column

if TYPE_CHECKING:
    from parkgrid.scenario.model import Scenario

__all__ = [
    "BUILDERS",
    "ParkNet",
    "build_park_net",
    "bus_index_by_name",
    "load_network",
    "pf_profiles",
    "unsupplied_buses",
]

# Topology-only variants of pandapower's built-in networks: parkgrid places its
# own assets, so the built-in loads/sgens/storage are dropped unless the source
# name ends in "+elements".
BUILDERS: dict[str, Callable[[], Any]] = {
    "cigre_mv": lambda: pn.create_cigre_network_mv(with_der=False),
    "cigre_mv_der": lambda: pn.create_cigre_network_mv(with_der="pv_wind"),
    "cigre_mv_all_der": lambda: pn.create_cigre_network_mv(with_der="all"),
    "cigre_lv": pn.create_cigre_network_lv,
    "case33bw": pn.case33bw,
    "mv_oberrhein": pn.mv_oberrhein,
}

_INJECTION_TABLES = ("load", "sgen", "storage", "gen", "motor", "asymmetric_load",
                     "asymmetric_sgen")


def load_network(source: str, base_dir: Path | None = None) -> Any:
    """Return the pandapower net named by *source* (a fresh object, safe to keep).

    Parameters
    ----------
    source:
        ``"flagship_park"`` (a file of the shipped ``networks/`` folder, with or
        without ``.json``), a path to a pandapower JSON file (relative paths are
        taken from *base_dir*), ``"pandapower:<builder>"`` (see ``BUILDERS``;
        append ``+elements`` to keep the builder's loads and generators) or
        ``"simbench:<code>"``.
    base_dir:
        Folder relative paths are resolved against (the scenario's folder).
    """
    if source.startswith("pandapower:"):
        name = source.split(":", 1)[1]
        keep = name.endswith("+elements")
        name = name.removesuffix("+elements")
        if name not in BUILDERS:
            raise NetworkError(
                f"unknown pandapower builder {name!r}; allowed: {', '.join(sorted(BUILDERS))}"
            )
        net = BUILDERS[name]()
        return net if keep else _strip_injections(net)
    if source.startswith("simbench:"):
        code = source.split(":", 1)[1]
        try:
            import simbench
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise NetworkError("simbench networks need the 'simbench' package") from exc
        try:
            return _strip_injections(simbench.get_simbench_net(code))
        except Exception as exc:
            raise NetworkError(f"simbench code {code!r} could not be loaded: {exc}") from exc
    path = _resolve_network_path(source, base_dir)
    try:
        return pp.from_json(str(path))
    except Exception as exc:
        raise NetworkError(f"{path}: not a readable pandapower JSON network ({exc})") from exc


def _resolve_network_path(source: str, base_dir: Path | None) -> Path:
    candidates = []
    p = Path(source)
    if p.is_absolute():
        candidates.append(p)
    else:
        if base_dir is not None:
            candidates.append(base_dir / p)
        candidates.append(Path.cwd() / p)
        shipped = data_dir("networks")
        candidates += [shipped / p, shipped / f"{source}.json"]
    for c in candidates:
        if c.is_file():
            return c
    shipped_names = sorted(f.stem for f in data_dir("networks").glob("*.json"))
    raise NetworkError(
        f"network {source!r} not found (looked in: {', '.join(str(c) for c in candidates)}); "
        f"shipped networks: {', '.join(shipped_names) or 'none'}; builders: "
        + ", ".join(f"pandapower:{b}" for b in sorted(BUILDERS))
    )


def _strip_injections(net: Any) -> Any:
    for table in _INJECTION_TABLES:
        if table in net and len(net[table]):
            net[table] = net[table].iloc[0:0]
    return net


def bus_index_by_name(net: Any) -> dict[str, int]:
    """Map bus names to pandapower bus indices (names must be unique to be usable)."""
    names = net.bus["name"].astype(str)
    return {name: int(idx) for idx, name in names.items() if (names == name).sum() == 1}


def unsupplied_buses(net: Any) -> set[int]:
    """Buses not connected to any in-service ext_grid (islanded)."""
    return {int(b) for b in top.unsupplied_buses(net)}


@dataclass(frozen=True)
class ParkNet:
    """A copy of the network with one pandapower element per scenario asset.

    ``elements`` maps ``(kind, name)`` to ``(table, index)``: PV and wind are
    ``sgen``, batteries ``storage``, loads and electrolysers ``load``.
    """

    net: Any
    elements: dict[tuple[str, str], tuple[str, int]]


def build_park_net(scenario: Scenario) -> ParkNet:
    """Copy the scenario's network and add one element per asset (zero power)."""
    net = copy.deepcopy(scenario.net)
    buses = bus_index_by_name(net)
    elements: dict[tuple[str, str], tuple[str, int]] = {}
    for kind in ("pv", "wind"):
        for a in getattr(scenario, kind):
            idx = pp.create_sgen(net, buses[a.bus], p_mw=0.0, name=a.name, type=kind.upper())
            elements[(kind, a.name)] = ("sgen", int(idx))
    for b in scenario.battery:
        idx = pp.create_storage(net, buses[b.bus], p_mw=0.0, max_e_mwh=b.e_mwh, name=b.name)
        elements[("battery", b.name)] = ("storage", int(idx))
    for kind in ("load", "electrolyser"):
        for a in getattr(scenario, kind):
            idx = pp.create_load(net, buses[a.bus], p_mw=0.0, name=a.name, type=kind)
            elements[(kind, a.name)] = ("load", int(idx))
    return ParkNet(net=net, elements=elements)


def _q_from_p(p: np.ndarray, cos_phi: float) -> np.ndarray:
    return np.asarray(p * np.tan(np.arccos(cos_phi)))


def pf_profiles(
    scenario: Scenario, park: ParkNet, timeseries: pd.DataFrame
) -> dict[tuple[str, str], pd.DataFrame]:
    """Per-step element set-points for the power flow from a dispatch time series.

    Returns the ``{(table, column): DataFrame(time x element index)}`` mapping that
    pandapower's ``ConstControl`` and :func:`parkgrid.powerflow.run_timeseries_pf`
    consume. Reactive power follows each asset's ``cos_phi`` (consumers inductive).
    """
    cols: dict[tuple[str, str], dict[int, np.ndarray]] = {}

    def put(table: str, column: str, idx: int, values: np.ndarray) -> None:
        cols.setdefault((table, column), {})[idx] = values

    for (kind, name), (table, idx) in park.elements.items():
        asset = next(a for a in getattr(scenario, kind) if a.name == name)
        if kind == "battery":
            p = timeseries[asset_column("battery", name, "p_mw")].to_numpy()
            put(table, "p_mw", idx, p)
            put(table, "q_mvar", idx, np.zeros_like(p))
            continue
        p = timeseries[asset_column(kind, name, "p_mw")].to_numpy()
        put(table, "p_mw", idx, p)
        put(table, "q_mvar", idx, _q_from_p(p, asset.cos_phi))
    return {
        key: pd.DataFrame(series, index=timeseries.index) for key, series in cols.items()
    }
