"""Sweep files: a base scenario, fixed settings and the parameters to vary.

A sweep file is TOML::

    [sweep]
    name = "flagship sizing"
    base = "flagship_park.toml"      # the base scenario, relative to this file
    sampling = "lhs"                 # grid | random | lhs
    samples = 200                    # random and lhs only
    seed = 7

    [sweep.set]                      # applied to every scenario
    "powerflow.steps" = "all"

    [[parameter]]
    path = "pv[*].p_mw"              # every PV plant
    min = 50.0
    max = 150.0

    [[parameter]]
    path = "dispatch.strategy"
    values = ["self_consumption"]

Parameter paths address scenario fields: ``section.key`` (``dispatch.strategy``,
``grid.tariff.peak_cny_per_mwh``), ``kind[i].key`` (``battery[0].e_mwh``) or
``kind[*].key`` (all assets of a kind). ``scale = true`` multiplies the base value(s)
instead of replacing them. Validation collects every problem, each naming the file,
the field and what is allowed, as scenario validation does.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from parkgrid.errors import ScenarioError, SweepError, ValidationIssue
from parkgrid.kpis import ECONOMIC_KPI_INFO, KPI_INFO
from parkgrid.scenario.schema import ASSET_KINDS, SECTIONS, Field

__all__ = [
    "SAMPLINGS",
    "Parameter",
    "SweepError",
    "SweepSpec",
    "apply_overrides",
    "load_sweep",
    "resolve_path",
    "scenario_key",
    "sweep_from_dict",
]

SAMPLINGS = ("grid", "random", "lhs")
#: fields a sweep must not vary: the network and profiles are shipped to workers once
_FIXED = ("network.source", "profiles.source", "scenario.year")
_PATH = re.compile(r"^(?P<kind>[a-z_]+)\[(?P<idx>\*|\d+)\]\.(?P<key>[a-z0-9_]+)$")
_DEFAULT_OBJECTIVES = ("max:self_consumption_ratio", "min:net_cost_cny", "min:co2_t")
_MAX_SCENARIOS = 1_000_000


@dataclass(frozen=True)
class Parameter:
    """One varied scenario field.

    ``values`` lists the allowed values (grid: all of them; random/lhs: drawn
    uniformly); otherwise numbers are drawn from ``[lo, hi]`` (grid: ``num`` evenly
    spaced points). With ``scale`` the value multiplies the base value(s).
    """

    path: str
    values: tuple[Any, ...] | None = None
    lo: float | None = None
    hi: float | None = None
    num: int | None = None
    scale: bool = False
    integer: bool = False

    def grid_values(self) -> list[Any]:
        """Return the values a grid sweep takes."""
        if self.values is not None:
            return list(self.values)
        assert self.lo is not None and self.hi is not None and self.num is not None
        pts = np.linspace(self.lo, self.hi, self.num)
        return [self._cast(float(v)) for v in pts]

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map uniform numbers in [0, 1) to values of the parameter."""
        if self.values is not None:
            idx = np.minimum((u * len(self.values)).astype(np.int64), len(self.values) - 1)
            return [self.values[i] for i in idx]
        assert self.lo is not None and self.hi is not None
        return [self._cast(float(self.lo + x * (self.hi - self.lo))) for x in u]

    def _cast(self, v: float) -> Any:
        return round(v) if self.integer else v


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file; :meth:`scenarios` lists the parameter sets."""

    name: str
    source: str
    base_path: Path
    base_raw: dict[str, Any]
    sampling: str
    parameters: tuple[Parameter, ...]
    samples: int | None = None
    seed: int = 0
    objectives: tuple[str, ...] = _DEFAULT_OBJECTIVES
    fixed: dict[str, Any] = field(default_factory=dict)

    def scenarios(self) -> list[dict[str, Any]]:
        """Parameter sets, one dict ``{path: value}`` per scenario, in a stable order."""
        params = self.parameters
        if self.sampling == "grid":
            combos = itertools.product(*(p.grid_values() for p in params))
            return [dict(zip((p.path for p in params), c, strict=True)) for c in combos]
        n = int(self.samples or 0)
        rng = np.random.default_rng(self.seed)
        cols: list[list[Any]] = []
        for p in params:
            if self.sampling == "random":
                u = rng.random(n)
            else:  # Latin hypercube: one draw in each of n equal strata, shuffled
                u = (rng.permutation(n) + rng.random(n)) / n
            cols.append(p.from_unit(u))
        return [{p.path: cols[j][i] for j, p in enumerate(params)} for i in range(n)]


def scenario_key(base_raw: dict[str, Any], params: dict[str, Any]) -> str:
    """Stable key of one scenario: a hash of the base scenario and the parameter values."""
    payload = json.dumps({"base": base_raw, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def resolve_path(path: str) -> tuple[str, str | int | None, str, Field]:
    """Split a parameter path into (section or kind, index, key, schema field).

    The index is ``None`` for sections, ``"*"`` or an int for asset kinds.

    Raises
    ------
    KeyError
        With a message saying what is allowed.
    """
    m = _PATH.match(path)
    idx: str | int | None
    if m:
        kind, idx_s, key = m["kind"], m["idx"], m["key"]
        if kind not in ASSET_KINDS:
            raise KeyError(f"unknown asset kind {kind!r}; allowed: {', '.join(ASSET_KINDS)}")
        table = ASSET_KINDS[kind]
        idx = idx_s if idx_s == "*" else int(idx_s)
    else:
        section, _, key = path.rpartition(".")
        if not section or section not in SECTIONS:
            raise KeyError("must be 'section.key' (e.g. dispatch.strategy), 'kind[i].key' "
                           "or 'kind[*].key' (e.g. pv[*].p_mw); sections: "
                           + ", ".join(SECTIONS))
        kind, idx, table = section, None, SECTIONS[section]
    try:
        f = table.field(key)
    except KeyError:
        raise KeyError(f"{key!r} is not a key of {kind}; allowed: "
                       + ", ".join(table.names)) from None
    return kind, idx, key, f


def _targets(raw: dict[str, Any], path: str) -> list[tuple[dict[str, Any], str]]:
    """Return the dictionaries (and key) *path* writes into; create missing sections."""
    kind, idx, key, _ = resolve_path(path)
    if idx is None:
        node = raw
        for part in kind.split("."):
            node = node.setdefault(part, {})
        return [(node, key)]
    items = raw.get(kind, [])
    if idx == "*":
        return [(item, key) for item in items]
    assert isinstance(idx, int)
    return [(items[idx], key)]


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any],
                    *, scale: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Return a copy of the scenario dictionary *raw* with *overrides* applied.

    Paths in *scale* multiply the base value instead of replacing it.
    """
    out = copy.deepcopy(raw)
    for path, value in overrides.items():
        for node, key in _targets(out, path):
            node[key] = node[key] * value if path in scale else value
    return out


# ------------------------------------------------------------------ loading
def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate the sweep file at *path* (its base scenario is read, not run).

    Raises
    ------
    SweepError
        Listing every problem, each naming the file and the field.
    ScenarioError
        If the base scenario file itself is invalid.
    """
    path = Path(path)
    src = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SweepError([ValidationIssue(src, "<file>", f"cannot read: {exc.strerror}")]) \
            from None
    except tomllib.TOMLDecodeError as exc:
        raise SweepError([ValidationIssue(src, "<file>", f"invalid TOML: {exc}")]) from None
    return sweep_from_dict(raw, source=src, base_dir=path.resolve().parent)


def sweep_from_dict(raw: dict[str, Any], *, source: str = "<dict>",
                    base_dir: str | Path = ".") -> SweepSpec:
    """Validate a sweep dictionary (TOML structure); see :func:`load_sweep`."""
    issues: list[ValidationIssue] = []

    def bad(fld: str, msg: str) -> None:
        issues.append(ValidationIssue(source, fld, msg))

    for key in raw:
        if key not in ("sweep", "parameter"):
            bad(key, "unknown section; allowed: parameter, sweep")
    sw = raw.get("sweep")
    if not isinstance(sw, dict):
        bad("sweep", "missing section [sweep] (name, base, sampling, samples, seed, set, "
                     "objectives)")
        raise SweepError(issues)
    allowed = {"name", "base", "sampling", "samples", "seed", "set", "objectives"}
    for key in sw:
        if key not in allowed:
            bad(f"sweep.{key}", f"unknown key; allowed: {', '.join(sorted(allowed))}")
    sampling = sw.get("sampling", "grid")
    if sampling not in SAMPLINGS:
        bad("sweep.sampling", f"{sampling!r} is not allowed; one of "
                              + ", ".join(repr(s) for s in SAMPLINGS))
    samples: Any = sw.get("samples")
    if sampling in ("random", "lhs"):
        if not _is_int(samples) or not 1 <= samples <= _MAX_SCENARIOS:
            bad("sweep.samples", f"must be an integer in [1, {_MAX_SCENARIOS}] for "
                                 f"sampling = {sampling!r}, got {samples!r}")
    elif samples is not None and sampling == "grid":
        bad("sweep.samples", "only for sampling = 'random' or 'lhs' (a grid takes every "
                             "combination)")
    seed = sw.get("seed", 0)
    if not _is_int(seed) or seed < 0:
        bad("sweep.seed", f"must be a non-negative integer, got {seed!r}")
    name = sw.get("name", Path(source).stem)
    if not isinstance(name, str):
        bad("sweep.name", f"must be a string, got {name!r}")
    objectives = _check_objectives(sw.get("objectives", list(_DEFAULT_OBJECTIVES)), bad)

    base_raw, base_path = _read_base(sw.get("base"), Path(base_dir), bad)
    if base_raw is not None and "economics" not in base_raw:
        for i, o in enumerate(objectives):
            if o.partition(":")[2] in ECONOMIC_KPI_INFO:
                bad(f"sweep.objectives[{i}]", f"{o!r} is an economic KPI: the base scenario "
                                              "needs an [economics] section and asset costs")
    fixed = sw.get("set", {})
    if not isinstance(fixed, dict):
        bad("sweep.set", "must be a table of 'path' = value")
        fixed = {}
    if base_raw is not None:
        for p, v in fixed.items():
            if _check_path(p, f"sweep.set.{p}", base_raw, bad, allow_fixed=True):
                _check_value(p, v, f"sweep.set.{p}", bad)
    params = _check_parameters(raw.get("parameter"), sampling, base_raw, fixed, bad)
    if issues:
        raise SweepError(issues)
    assert base_raw is not None and base_path is not None
    base_raw = apply_overrides(base_raw, fixed)
    spec = SweepSpec(name=str(name), source=source, base_path=base_path, base_raw=base_raw,
                     sampling=sampling, parameters=tuple(params), samples=samples,
                     seed=int(seed), objectives=objectives, fixed=dict(fixed))
    if sampling == "grid":
        n = math.prod(len(p.grid_values()) for p in spec.parameters)
        if n > _MAX_SCENARIOS:
            raise SweepError([ValidationIssue(source, "parameter", f"the grid has {n:,} "
                                              f"scenarios; at most {_MAX_SCENARIOS:,}")])
    return spec


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _read_base(base: Any, base_dir: Path, bad: Any) -> tuple[dict[str, Any] | None, Path | None]:
    if not isinstance(base, str) or not base:
        bad("sweep.base", "missing: the base scenario file (TOML), relative to the sweep file")
        return None, None
    p = Path(base)
    p = p if p.is_absolute() else base_dir / p
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        bad("sweep.base", f"cannot read base scenario {str(p)!r}: {exc.strerror}")
        return None, None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([ValidationIssue(str(p), "<file>", f"invalid TOML: {exc}")]) \
            from None
    return raw, p.resolve()


def _check_objectives(obj: Any, bad: Any) -> tuple[str, ...]:

    if not isinstance(obj, list) or len(obj) < 2:
        bad("sweep.objectives", "must be a list of at least two 'max:KPI' or 'min:KPI'")
        return _DEFAULT_OBJECTIVES
    for i, o in enumerate(obj):
        sense, _, kpi = str(o).partition(":")
        if sense not in ("max", "min") or kpi not in KPI_INFO:
            bad(f"sweep.objectives[{i}]", f"{o!r} must be 'max:KPI' or 'min:KPI' with a KPI "
                                          "of `parkgrid run` (e.g. min:co2_t)")
    return tuple(str(o) for o in obj)


def _check_path(path: str, where: str, base: dict[str, Any], bad: Any,
                *, allow_fixed: bool = False) -> bool:
    try:
        kind, idx, _, _ = resolve_path(path)
    except KeyError as exc:
        bad(where, f"path {path!r}: {exc.args[0]}")
        return False
    if not allow_fixed and path in _FIXED:
        bad(where, f"{path!r} cannot vary in a sweep: the network and profiles are loaded "
                   "once and shipped to every worker; sweep separate files instead")
        return False
    if idx is not None:
        items = base.get(kind, [])
        n = len(items) if isinstance(items, list) else 0
        if n == 0:
            bad(where, f"path {path!r}: the base scenario has no [[{kind}]]")
            return False
        if isinstance(idx, int) and idx >= n:
            bad(where, f"path {path!r}: index {idx} out of range; the base scenario has "
                       f"{n} [[{kind}]] (0 to {n - 1})")
            return False
    return True


def _check_value(path: str, v: Any, where: str, bad: Any, *, scale: bool = False) -> None:
    """Check one value for the scenario field of *path* (the scenario's own check)."""
    _, _, _, f = resolve_path(path)
    if scale:
        if not _is_num(v) or v < 0:
            bad(where, f"{v!r}: a scale factor must be a non-negative number")
        return
    for problem in f.check(v, where, subject=path):
        bad(*problem)


def _check_parameters(items: Any, sampling: str, base: dict[str, Any] | None,
                      fixed: dict[str, Any], bad: Any) -> list[Parameter]:
    if not isinstance(items, list) or not items:
        bad("parameter", "at least one [[parameter]] (path plus values or min/max) is needed")
        return []
    out: list[Parameter] = []
    seen: set[str] = set()
    allowed = {"path", "values", "min", "max", "num", "scale", "integer"}
    for i, item in enumerate(items):
        where = f"parameter[{i}]"
        if not isinstance(item, dict):
            bad(where, "must be a table, written [[parameter]]")
            continue
        for key in item:
            if key not in allowed:
                bad(f"{where}.{key}", f"unknown key; allowed: {', '.join(sorted(allowed))}")
        path = item.get("path")
        if not isinstance(path, str):
            bad(f"{where}.path", "missing: the scenario field to vary, e.g. pv[*].p_mw")
            continue
        if path in seen:
            bad(f"{where}.path", f"{path!r} is varied twice")
        seen.add(path)
        if path in fixed:
            bad(f"{where}.path", f"{path!r} is also fixed in [sweep.set]")
        if base is None or not _check_path(path, f"{where}.path", base, bad):
            continue
        p = _check_parameter(item, path, where, sampling, bad)
        if p is not None:
            out.append(p)
    return out


def _check_parameter(item: dict[str, Any], path: str, where: str, sampling: str,
                     bad: Any) -> Parameter | None:
    scale = item.get("scale", False)
    integer = item.get("integer", False)
    if not isinstance(scale, bool) or not isinstance(integer, bool):
        bad(where, "scale and integer must be true or false")
        return None
    values: Any = item.get("values")
    lo: Any = item.get("min")
    hi: Any = item.get("max")
    num: Any = item.get("num")
    if values is not None:
        if lo is not None or hi is not None or num is not None:
            bad(where, "give either values or min/max (with num for a grid), not both")
            return None
        if not isinstance(values, list) or not values:
            bad(f"{where}.values", "must be a non-empty list")
            return None
        problems: list[str] = []
        for v in values:
            _check_value(path, v, f"{where}.values", lambda _f, m: problems.append(m),
                         scale=scale)
        for m in problems:
            bad(f"{where}.values", m)
        return None if problems else Parameter(path, values=tuple(values), scale=scale)
    if not (_is_num(lo) and _is_num(hi)):
        bad(where, "needs values = [...] or numeric min and max")
        return None
    if lo > hi:
        bad(f"{where}.min", f"min {lo!r} is above max {hi!r}")
        return None
    if sampling == "grid" and (not _is_int(num) or num < 1):
        bad(f"{where}.num", f"a grid needs num, the number of points (integer >= 1), got "
                            f"{num!r}")
        return None
    if sampling != "grid" and num is not None:
        bad(f"{where}.num", "only for sampling = 'grid'")
        return None
    _, _, _, f = resolve_path(path)
    if f.kind not in ("float", "int", "str|float"):
        bad(where, f"{path} is not numeric; list its values = [...]")
        return None
    found: list[tuple[str, str]] = []
    for key, v in (("min", lo), ("max", hi)):
        _check_value(path, v, f"{where}.{key}", lambda f_, m: found.append((f_, m)),
                     scale=scale)
    for f_, m in found:
        bad(f_, m)
    if found:
        return None
    return Parameter(path, lo=float(lo), hi=float(hi), num=num, scale=scale,
                     integer=integer or f.kind == "int")
