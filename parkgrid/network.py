"""Load park networks and connect scenario assets to them.

parkgrid never mutates a network it is given: :func:`build_park_net` works on a
deep copy and returns it together with the element indices of every asset.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import inspect
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from parkgrid._paths import data_dir
from parkgrid.errors import NetworkError
from parkgrid.layout import read_layout
from parkgrid.netcache import LiteNet, cached_net
from parkgrid.timeseries import asset_column

if TYPE_CHECKING:
    from parkgrid.scenario.model import Scenario

__all__ = [
    "BUILDERS",
    "ParkNet",
    "build_park_net",
    "bus_index_by_name",
    "inverter_s_mva",
    "lite_park_net",
    "load_network",
    "network_from_json",
    "park_element_indices",
    "park_elements",
    "pf_profiles",
    "q_cos_phi_p",
    "read_network_file",
    "screen_network_json",
    "unsupplied_buses",
]

# Topology-only variants of pandapower's built-in networks: parkgrid places its
# own assets, so the built-in loads/sgens/storage are dropped unless the source
# name ends in "+elements".
# (pandapower is imported when a net is built, not with parkgrid: start-up time)
def _pn() -> Any:
    import pandapower.networks as pn

    return pn


BUILDERS: dict[str, Callable[[], Any]] = {
    "cigre_mv": lambda: _pn().create_cigre_network_mv(with_der=False),
    "cigre_mv_der": lambda: _pn().create_cigre_network_mv(with_der="pv_wind"),
    "cigre_mv_all_der": lambda: _pn().create_cigre_network_mv(with_der="all"),
    "cigre_lv": lambda: _pn().create_cigre_network_lv(),
    "case33bw": lambda: _pn().case33bw(),
    "mv_oberrhein": lambda: _pn().mv_oberrhein(),
}

#: scenario tables of truck stations: a pandapower load each, fed by their load column
STATION_KINDS = ("depot", "swap_station", "h2_station")
_INJECTION_TABLES = ("load", "sgen", "storage", "gen", "motor", "asymmetric_load",
                     "asymmetric_sgen")


def load_network(source: str, base_dir: Path | None = None, *, cached: bool = False) -> Any:
    """Return the pandapower net named by *source* (a fresh object, safe to keep).

    Parameters
    ----------
    source:
        ``"flagship_park"`` (a file of the shipped ``networks/`` folder, with or
        without ``.json``), a path to a pandapower JSON file or to a layout file
        (``.toml``, see :mod:`parkgrid.layout`; relative paths are taken from
        *base_dir*), ``"pandapower:<builder>"`` (see ``BUILDERS``;
        append ``+elements`` to keep the builder's loads and generators) or
        ``"simbench:<code>"``.
    base_dir:
        Folder relative paths are resolved against (the scenario's folder).
    cached:
        For a network file: answer from the network cache
        (:mod:`parkgrid.netcache`) with a :class:`~parkgrid.netcache.LiteNet`
        that loads the pandapower net only when something needs it.
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
    layout = path.suffix.lower() == ".toml"
    if cached:
        try:
            payload = path.read_bytes()
        except OSError as exc:
            raise NetworkError(f"{path}: cannot read the network file ({exc})") from exc
        return cached_net("layout-file" if layout else "pandapower-json", payload,
                          lambda: read_layout(path) if layout else read_network_file(path),
                          unsupplied_buses)
    return read_layout(path) if layout else read_network_file(path)


# ---------------------------------------------------------------- safe JSON reading
# pandapower's JSON decoder turns every object carrying "_module" and "_class" keys
# into a Python object: for a pair it has no dedicated decoder for, it imports the
# named module and calls the named attribute with the file's data. A network file
# naming a module on the Python path therefore runs that module's code, and one
# naming e.g. a callable of the standard library calls it. parkgrid screens every
# pair in the file (and in the JSON strings nested in it: pandapower stores each
# table as a JSON string inside the file) before pandapower decodes anything, and
# lets through only what pandapower itself writes for a network.

#: (module, class) pairs pandapower writes for a network, each decoded without a
#: call chosen by the file: a dedicated decoder (net, DataFrame, Series, MultiGraph,
#: GeoDataFrame, shapely geometries) or a constructor of plain data (numpy scalars
#: and arrays, pandas indexes, builtins complex/tuple/set/frozenset).
_SAFE_PAIRS: frozenset[tuple[str, str]] = frozenset({
    ("pandapower.auxiliary", "pandapowerNet"),
    ("pandas.core.frame", "DataFrame"),
    ("pandas.core.series", "Series"),
    ("geopandas.geodataframe", "GeoDataFrame"),
    ("networkx", "MultiGraph"),
    ("builtins", "complex"),
    ("builtins", "tuple"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("numpy", "array"),
    ("numpy", "bool_"),  # numpy < 2 names its bool scalar so
    *(("numpy", t.__name__) for t in set(np.sctypeDict.values())
      if issubclass(t, np.number | np.bool_)),
    *(("pandas", c) for c in ("Index", "RangeIndex", "MultiIndex", "DatetimeIndex",
                              "TimedeltaIndex", "CategoricalIndex")),
    *(("shapely", c) for c in ("Point", "LineString", "Polygon", "MultiPoint",
                               "MultiLineString", "MultiPolygon", "GeometryCollection")),
})
#: pandas objects whose "_object" pandapower hands to ``pandas.read_json``: it must be
#: a JSON text (pandapower would read an absolute path ending in .json as a file)
_PANDAS_PAYLOAD = frozenset({("pandas.core.frame", "DataFrame"),
                             ("pandas.core.series", "Series")})
#: JSON strings inside JSON strings deeper than this are refused (pandapower nests 2)
_MAX_NESTING = 16


def _pandapower_class_ok(module: str, cls: str) -> bool:
    """Tell whether *cls* is a ``JSONSerializableClass`` or an Enum of pandapower's own package.

    Those are controllers, data sources, characteristics and pandapower's enums;
    pandapower decodes the first with ``cls.from_dict``, which fills the
    instance's ``__dict__`` and calls nothing, the enums by value. Only modules
    inside the installed pandapower package are imported to check (library code,
    not code the file brings).
    """
    parts = module.split(".")
    if parts[0] != "pandapower" or not all(p.isidentifier() and not p.startswith("_")
                                           for p in parts[1:]):
        return False
    if not (cls.isidentifier() and not cls.startswith("_")):
        return False
    import pandapower as pp
    from pandapower.io_utils import JSONSerializableClass

    root = Path(pp.__file__).resolve().parent
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return False
    if spec is None or spec.origin is None or not Path(spec.origin).resolve().is_relative_to(
            root):
        return False
    obj = getattr(importlib.import_module(module), cls, None)
    return inspect.isclass(obj) and issubclass(obj, JSONSerializableClass | Enum)


def _pairs_no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # pandas' own JSON parser (for the nested tables) may keep another of two equal
    # keys than Python's json: a file with duplicate keys could show the screen one
    # "_module" and pandapower another
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _parse(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_pairs_no_duplicates)


def screen_network_json(text: str, source: str = "<string>") -> None:
    """Refuse a pandapower JSON text that would make pandapower import or call code.

    Parses *text* with the standard :mod:`json` module (which runs no code) and
    walks every object, list and nested JSON string. Every object with a
    ``"_module"`` or ``"_class"`` key must be a pair pandapower writes for a network
    (``_SAFE_PAIRS``) or a ``JSONSerializableClass`` of pandapower's own package.

    Raises
    ------
    NetworkError
        Naming *source*, the key path of the object (e.g.
        ``_object.controller._object(json).data[0][0]``, where ``(json)`` marks a
        JSON string parsed in turn) and the module it names.
    """
    def refuse(path: str, why: str) -> NetworkError:
        return NetworkError(f"{source}: refused to load this network: {path or '(top)'}: {why}")

    try:
        root = _parse(text)
    except ValueError as exc:
        raise NetworkError(f"{source}: not a readable pandapower JSON network ({exc})") from exc
    stack: list[tuple[Any, str, int]] = [(root, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict):
            if "_module" in value or "_class" in value:
                module, cls = value.get("_module"), value.get("_class")
                if not (isinstance(module, str) and isinstance(cls, str)):
                    raise refuse(path, f"_module {module!r} / _class {cls!r} must both be "
                                       "strings")
                if (module, cls) not in _SAFE_PAIRS and not _pandapower_class_ok(module, cls):
                    raise refuse(path, f"module {module!r} (class {cls!r}) is not one "
                                       "pandapower networks contain; decoding it could run "
                                       "code of that module, so parkgrid does not open the "
                                       "file (allowed: pandapower's own classes, pandas "
                                       "DataFrame/Series/Index, numpy arrays and numbers, "
                                       "builtins complex/tuple/set/frozenset, shapely "
                                       "geometries, networkx MultiGraph, geopandas "
                                       "GeoDataFrame)")
                payload = value.get("_object")
                if (module, cls) in _PANDAS_PAYLOAD and isinstance(payload, str):
                    try:
                        parsed = _parse(payload)
                    except ValueError as exc:
                        raise refuse(f"{path}._object", f"the {cls} data is not JSON "
                                                        f"({exc})") from exc
                    stack.append((parsed, f"{path}._object(json)", depth + 1))
                    value = {k: v for k, v in value.items() if k != "_object"}
            for key, item in value.items():
                stack.append((item, f"{path}.{key}" if path else str(key), depth))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]", depth) for i, item in enumerate(value))
        elif isinstance(value, str) and value.lstrip()[:1] in ("{", "[", '"'):
            try:
                parsed = _parse(value)
            except ValueError:
                continue  # plain text that only looks like JSON: never decoded
            if depth + 1 > _MAX_NESTING:
                raise refuse(path, f"JSON strings nested more than {_MAX_NESTING} deep")
            stack.append((parsed, f"{path}(json)", depth + 1))


def network_from_json(text: str, source: str = "<string>") -> Any:
    """Decode a pandapower JSON text into a net after :func:`screen_network_json`."""
    screen_network_json(text, source)
    import pandapower as pp

    try:
        net = pp.from_json_string(text, convert=True)
    except Exception as exc:
        raise NetworkError(f"{source}: not a readable pandapower JSON network ({exc})") from exc
    if not isinstance(net, pp.pandapowerNet):
        raise NetworkError(f"{source}: not a pandapower network (the JSON decodes to a "
                           f"{type(net).__name__})")
    return net


def read_network_file(path: str | os.PathLike[str]) -> Any:
    """Read a pandapower JSON network file, screened first (see :func:`screen_network_json`).

    Every place parkgrid reads a network file goes through here: scenario networks
    (runs, sweeps, bench) and the ``network/net.json`` of a results folder.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NetworkError(f"{p}: cannot read the network file ({exc})") from exc
    return network_from_json(text, str(p))


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
    shipped_names = sorted(f.stem for f in data_dir("networks").glob("*.json")) + sorted(
        f.name for f in data_dir("networks").glob("*.toml"))
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
    if isinstance(net, LiteNet):  # found when the net was cached
        return set(net.unsupplied)
    import pandapower.topology as top

    return {int(b) for b in top.unsupplied_buses(net)}


@dataclass(frozen=True)
class ParkNet:
    """A copy of the network with one pandapower element per scenario asset.

    ``elements`` maps ``(kind, name)`` to ``(table, index)``: PV, wind, STATCOMs (in
    service) and direct-line contracts are ``sgen``, batteries ``storage``, loads and
    electrolysers ``load``.
    """

    net: Any
    elements: dict[tuple[str, str], tuple[str, int]]


def park_elements(scenario: Scenario) -> list[tuple[tuple[str, str], str, dict[str, Any]]]:
    """List the elements :func:`build_park_net` adds, one per asset, in order.

    ``((kind, name), table, values)``; *values* are the new row's bus, name, type
    (and ``max_e_mwh`` of a battery) with zero power, in service, scaling 1.
    """
    buses = bus_index_by_name(scenario.net)
    out: list[tuple[tuple[str, str], str, dict[str, Any]]] = []

    def add(key: tuple[str, str], table: str, bus: str, type_: str | None,
            **extra: Any) -> None:
        out.append((key, table, {"name": key[1], "bus": buses[bus], "p_mw": 0.0,
                                 "q_mvar": 0.0, "scaling": 1.0, "in_service": True,
                                 "type": type_, **extra}))

    for kind in ("pv", "wind"):
        for a in getattr(scenario, kind):
            add((kind, a.name), "sgen", a.bus, kind.upper())
    for c in scenario.green_contract:
        if c.kind == "direct_line":  # an off-site plant injecting at the line's bus
            add(("direct_line", c.name), "sgen", c.bus, "DL")
    for b in scenario.battery:
        add(("battery", b.name), "storage", b.bus, None, max_e_mwh=b.e_mwh)
    for st in getattr(scenario, "statcom", ()):
        if st.in_service:  # reactive power only: an sgen with p = 0
            add(("statcom", st.name), "sgen", st.bus, "STATCOM")
    for kind in ("load", "electrolyser", *STATION_KINDS):
        for a in getattr(scenario, kind, ()):
            add((kind, a.name), "load", a.bus, kind)
    return out


def build_park_net(scenario: Scenario) -> ParkNet:
    """Copy the scenario's network and add one element per asset (zero power)."""
    import pandapower as pp

    specs = park_elements(scenario)
    net = copy.deepcopy(scenario.net)  # a LiteNet gives its pandapower net's copy
    elements: dict[tuple[str, str], tuple[str, int]] = {}
    for key, table, v in specs:
        if table == "sgen":
            idx = pp.create_sgen(net, v["bus"], p_mw=0.0, name=v["name"], type=v["type"])
        elif table == "storage":
            idx = pp.create_storage(net, v["bus"], p_mw=0.0, max_e_mwh=v["max_e_mwh"],
                                    name=v["name"])
        else:
            idx = pp.create_load(net, v["bus"], p_mw=0.0, name=v["name"], type=v["type"])
        elements[key] = (table, int(idx))
    return ParkNet(net=net, elements=elements)


def lite_park_net(scenario: Scenario) -> ParkNet:
    """:func:`build_park_net` over a cached network's tables, without pandapower.

    The scenario's net must be a :class:`~parkgrid.netcache.LiteNet`; the park net
    is one too, with the rows pandapower would add at the indices it would give.
    """
    net = scenario.net
    assert isinstance(net, LiteNet)
    specs = park_elements(scenario)
    park = net.with_rows((table, v) for _, table, v in specs)
    return ParkNet(net=park, elements=park_element_indices(net, specs))


def park_element_indices(net: Any, specs: list[tuple[tuple[str, str], str, dict[str, Any]]]
                         ) -> dict[tuple[str, str], tuple[str, int]]:
    """``(kind, name) -> (table, index)`` the park's elements get on top of *net*.

    *specs* is :func:`park_elements`' list; each new row takes the next index of its
    table (one past the largest, as pandapower's ``create_*`` gives it), so this
    holds for a pandapower net and a :class:`~parkgrid.netcache.LiteNet` alike.
    """
    elements: dict[tuple[str, str], tuple[str, int]] = {}
    counts: dict[str, int] = {}
    for key, table, _ in specs:
        base = net[table] if table in net else None
        start = int(base.index.max()) + 1 if base is not None and len(base) else 0
        elements[key] = (table, start + counts.get(table, 0))
        counts[table] = counts.get(table, 0) + 1
    return elements


def _q_from_p(p: np.ndarray, cos_phi: float) -> np.ndarray:
    return np.asarray(p * np.tan(np.arccos(cos_phi)))


def inverter_s_mva(kind: str, asset: Any) -> float:
    """Return the apparent-power limit of an inverter [MVA].

    ``s_mva`` if set, else ``p_mw / 0.95`` for PV and wind (cos phi 0.95 at rated
    power) and ``p_mw`` for batteries.
    """
    if asset.s_mva > 0:
        return float(asset.s_mva)
    return float(asset.p_mw) if kind == "battery" else float(asset.p_mw) / 0.95


def q_cos_phi_p(p_mw: np.ndarray, p_rated_mw: float, curve: Any, s_mva: float) -> np.ndarray:
    """Reactive power [Mvar] of a generator under a cos phi(P) curve (+ injects).

    *curve* is ``[(p_pu, cos_phi), ...]`` with ``p_pu`` per unit of *p_rated_mw*;
    a negative ``cos_phi`` is under-excited (absorbing). Between points the curve is
    linear in ``sign(cos_phi) x (1 - |cos_phi|)``, which is continuous through unity
    (pandapower's ``CosphiPCurve`` interpolates the same way); flat beyond the end
    points. ``|q| <= sqrt(s_mva^2 - p^2)`` (active power first).
    """
    p = np.asarray(p_mw, dtype=float)
    xs = np.array([c[0] for c in curve], dtype=float)
    cs = np.array([c[1] for c in curve], dtype=float)
    pos = np.sign(cs) * (1.0 - np.abs(cs))
    x = np.interp(p / p_rated_mw if p_rated_mw > 0 else np.zeros_like(p), xs, pos)
    q = np.sign(x) * np.abs(p) * np.tan(np.arccos(1.0 - np.abs(x)))
    room = np.sqrt(np.maximum(s_mva**2 - p**2, 0.0))
    return np.asarray(np.clip(q, -room, room))


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
        items = scenario.green_contract if kind == "direct_line" else getattr(scenario, kind)
        asset: Any = next(a for a in items if a.name == name)  # an asset or a direct line
        if kind == "statcom":  # no active power; Q fixed or set by its Q(U) controller
            zero = np.zeros(len(timeseries))
            put(table, "p_mw", idx, zero)
            put(table, "q_mvar", idx, zero + (asset.q_mvar if asset.q_control == "fixed"
                                              else 0.0))
            continue
        if kind == "battery":
            p = timeseries[asset_column("battery", name, "p_mw")].to_numpy()
            put(table, "p_mw", idx, p)
            put(table, "q_mvar", idx, np.zeros_like(p))
            continue
        # truck stations are load columns of the time series
        column = asset_column("load" if kind in STATION_KINDS else kind, name, "p_mw")
        p = timeseries[column].to_numpy()
        put(table, "p_mw", idx, p)
        mode = getattr(asset, "q_control", "fixed")
        if mode == "cos_phi_p":
            q = q_cos_phi_p(p, asset.p_mw, asset.cos_phi_p_curve, inverter_s_mva(kind, asset))
        elif mode == "q_u":
            q = np.zeros_like(p)  # set by the Q(U) controller in the power flow
        else:
            q = _q_from_p(p, asset.cos_phi)
        put(table, "q_mvar", idx, q)
    return {
        key: pd.DataFrame(series, index=timeseries.index) for key, series in cols.items()
    }
