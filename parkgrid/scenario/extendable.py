"""Extendable capacities: ``p_mw = {min = 0, max = 800}`` for ``parkgrid size``.

A capacity written as an inline table ``{min = ..., max = ...}`` instead of a
number marks the asset as extendable: sizing gives it a capacity variable in
that range. Only :func:`split_extendables` (used by :mod:`parkgrid.sizing`)
accepts such tables; a normal run refuses them with an error naming the field
(:meth:`parkgrid.scenario.schema.Field.parse`), because a simulation needs one
capacity. The keys that may be extendable are :data:`EXTENDABLE`.

:func:`split_extendables` returns the scenario dictionary with each extendable
value replaced by its ``max`` (so the network, profile and placement checks of
the loader see the largest design) and the list of :class:`Extendable` specs;
:func:`sized_toml` writes a scenario file with the sized values in place of the
tables, keeping every other line (comments included) as it was.
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass
from typing import Any

from parkgrid.errors import ScenarioError, ValidationIssue
from parkgrid.scenario.schema import TABLES

__all__ = ["EXTENDABLE", "Extendable", "sized_toml", "split_extendables"]

#: (table, key) pairs whose value may be ``{min, max}``; ``many`` tables are per asset
EXTENDABLE: tuple[tuple[str, str], ...] = (
    ("pv", "p_mw"), ("wind", "p_mw"), ("battery", "p_mw"), ("battery", "e_mwh"),
    ("electrolyser", "p_mw"), ("hydrogen", "capacity_kg"), ("grid", "import_limit_mw"),
)
_UNITS = {"p_mw": "MW", "e_mwh": "MWh", "capacity_kg": "kg", "import_limit_mw": "MW"}


@dataclass(frozen=True)
class Extendable:
    """One extendable capacity: where it is and its allowed range.

    ``kind`` is the table (``battery``), ``index`` the asset's position in its
    array of tables (``None`` for a section such as ``grid``), ``key`` the
    capacity key (``e_mwh``), ``name`` the asset's name (the section's name for
    a section) and ``lo``/``hi`` the range in the key's unit (``unit``).
    """

    kind: str
    index: int | None
    key: str
    name: str
    lo: float
    hi: float

    @property
    def path(self) -> str:
        """Field path as errors name it: ``battery[0].e_mwh``, ``grid.import_limit_mw``."""
        at = self.kind if self.index is None else f"{self.kind}[{self.index}]"
        return f"{at}.{self.key}"

    @property
    def unit(self) -> str:
        """Unit of the capacity [MW, MWh or kg]."""
        return _UNITS[self.key]


def split_extendables(raw: dict[str, Any], *, source: str = "<dict>"
                      ) -> tuple[dict[str, Any], list[Extendable]]:
    """Return *raw* with every ``{min, max}`` capacity replaced by its max, and the specs.

    *raw* is not changed. ``min`` and ``max`` must be numbers within the key's
    range (``parkgrid schema``) with ``min <= max``; ``max`` must satisfy the
    key's own lower bound (a battery's ``e_mwh`` > 0), so the largest design is a
    valid scenario. ``{min, max}`` anywhere else, or an empty result, is an error.

    Raises
    ------
    ScenarioError
        Naming the file and the field of every problem.
    """
    out = copy.deepcopy(raw)
    specs: list[Extendable] = []
    issues: list[ValidationIssue] = []

    def bad(path: str, msg: str) -> None:
        issues.append(ValidationIssue(source, path, msg))

    for kind, key in EXTENDABLE:
        value = out.get(kind)
        many = TABLES[kind].many
        items = (list(enumerate(value)) if many and isinstance(value, list)
                 else [(None, value)] if isinstance(value, dict) else [])
        for i, item in items:
            if not isinstance(item, dict) or not isinstance(item.get(key), dict):
                continue
            path = f"{kind}[{i}].{key}" if i is not None else f"{kind}.{key}"
            spec = _parse_range(item[key], kind, key, path, bad)
            if spec is None:
                item[key] = None  # the loader reports nothing more about it
                continue
            lo, hi = spec
            name = str(item.get("name", kind))
            specs.append(Extendable(kind, i, key, name, lo, hi))
            item[key] = hi
    # {min, max} on a key that cannot be sized: name it rather than a type error
    for kind, value in out.items():
        items = (list(enumerate(value)) if isinstance(value, list)
                 else [(None, value)] if isinstance(value, dict) else [])
        for i, item in items:
            if not isinstance(item, dict):
                continue
            for k, v in item.items():
                if (isinstance(v, dict) and (kind, k) not in EXTENDABLE
                        and f"{kind}.{k}" not in TABLES and ("min" in v or "max" in v)):
                    at = f"{kind}[{i}].{k}" if i is not None else f"{kind}.{k}"
                    bad(at, "cannot be extendable; {min, max} is allowed for "
                        + ", ".join(f"{t}.{x}" for t, x in EXTENDABLE))
    if not issues and not specs:
        bad("<file>", "no extendable capacity to size: write one of "
            + ", ".join(f"{t}.{x}" for t, x in EXTENDABLE)
            + " as {min = ..., max = ...}")
    if issues:
        raise ScenarioError(issues)
    return out, specs


def _parse_range(v: dict[str, Any], kind: str, key: str, path: str, bad: Any
                 ) -> tuple[float, float] | None:
    field = TABLES[kind].field(key)
    unknown = sorted(set(v) - {"min", "max"})
    if unknown:
        bad(path, f"unknown key(s) {', '.join(unknown)} in the extendable range; "
            "write {min = ..., max = ...}")
        return None
    if "min" not in v or "max" not in v:
        bad(path, "an extendable capacity needs both min and max, e.g. {min = 0, max = 800}")
        return None
    # the range of the key itself, except that min may be 0 where the key needs > 0
    # (an asset sized to zero is left out of the sized scenario)
    out: list[float] = []
    for bound in ("min", "max"):
        x = v[bound]
        if isinstance(x, bool) or not isinstance(x, int | float) or x != x:
            bad(f"{path}.{bound}", f"must be a number [{_UNITS[key]}], got {x!r}")
            return None
        if x in (float("inf"), float("-inf")):
            bad(f"{path}.{bound}", f"must be finite [{_UNITS[key]}], got {x!r}")
            return None
        lo_ok = x >= (field.lo or 0.0)
        if not lo_ok or (bound == "max" and not field.in_range(x)):
            bad(f"{path}.{bound}", f"{x!r} is outside the allowed range "
                f"{field.range_text()} [{_UNITS[key]}]")
            return None
        out.append(float(x))
    if out[0] > out[1]:
        bad(f"{path}.min", f"min = {out[0]:g} exceeds max = {out[1]:g} {_UNITS[key]}")
        return None
    return out[0], out[1]


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.]+)\s*\]\]?")


def sized_toml(text: str, specs: list[Extendable], values: dict[str, float],
               drop: tuple[tuple[str, int], ...] = (), note: str = "") -> str:
    """Scenario text *text* with each extendable ``{min, max}`` replaced by its size.

    *values* maps :attr:`Extendable.path` to the sized capacity; the table is
    replaced in place with a comment giving the range. Assets in *drop*
    (``(kind, index)``, sized to zero where the key must be positive) are
    removed with their whole ``[[kind]]`` block. *note* is put at the top as
    comment lines. The result is parsed back and every sized value checked, so
    a file that would not say what was sized is never returned.
    """
    lines = text.splitlines(keepends=True)
    section, counts = "", dict[str, int]()
    index: int | None = None
    wanted = {(s.kind, s.index, s.key): s for s in specs}
    out: list[str] = []
    skipping = False
    for line in lines:
        m = _HEADER.match(line)
        if m:
            section = m.group(2)
            if m.group(1) == "[[":
                index = counts.get(section, 0)
                counts[section] = index + 1
            else:
                index = None
            skipping = (section, index) in drop
            if skipping:
                out.append(f"# [[{section}]] #{index} sized to zero and left out\n")
        if skipping:
            continue
        for key in ("p_mw", "e_mwh", "capacity_kg", "import_limit_mw"):
            spec = wanted.get((section, index, key))
            if spec is None:
                continue
            pat = re.compile(rf"^(\s*{key}\s*=\s*)\{{[^}}]*\}}(.*)$", re.S)
            mm = pat.match(line)
            if mm:
                rest = mm.group(2).rstrip("\n")
                comment = (f"  # sized in [{spec.lo:g}, {spec.hi:g}] {spec.unit}"
                           + (f"; {rest.strip().lstrip('#').strip()}" if rest.strip() else ""))
                line = f"{mm.group(1)}{_num(values[spec.path])}{comment}\n"
        out.append(line)
    head = "".join(f"# {x}\n" if x else "#\n" for x in note.splitlines()) if note else ""
    result = head + "".join(out)
    parsed = tomllib.loads(result)
    for s in specs:
        if (s.kind, s.index) in drop:
            continue
        node = parsed[s.kind] if s.index is None else parsed[s.kind][_kept(s, drop)]
        got = node.get(s.key)
        if not isinstance(got, int | float) or abs(float(got) - values[s.path]) > 1e-9 * max(
                1.0, abs(values[s.path])):
            raise ValueError(f"sized_toml: could not write {s.path} (is its "
                             "{min, max} table on one line?)")
    return result


def _kept(s: Extendable, drop: tuple[tuple[str, int], ...]) -> int:
    assert s.index is not None
    return s.index - sum(1 for k, i in drop if k == s.kind and i < s.index)


def _num(x: float) -> str:
    """Write a float so that it reads back exactly (repr round-trips)."""
    return repr(float(x))
