"""One value of a user's TOML file: its type, unit, default and allowed range.

:class:`Field` is the single rule book for reading a value from a file a user hands
over: the scenario's attribute tables (:mod:`parkgrid.scenario.schema`) and the
layout's key tables (:mod:`parkgrid.layout`) are both made of it, so a number is
accepted or refused with the same words wherever it is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["INF", "REQUIRED", "Field", "FieldProblem"]


class _Required:
    def __repr__(self) -> str:
        return "required"


REQUIRED: Any = _Required()
INF = float("inf")


class FieldProblem(NamedTuple):
    """One problem with one value: the field path it is about and what is wrong."""

    field: str
    message: str


@dataclass(frozen=True)
class Field:
    """One attribute of a section or asset kind.

    ``lo``/``hi`` bound numbers (inclusive unless ``lo_open``/``hi_open``);
    ``choices`` restricts strings; ``kind`` is one of ``float``, ``int``, ``str``,
    ``bool``, ``str|float`` (a name or a number), ``steps`` (a power-flow step
    selection: a string or a list of integers), ``int_list``, ``float_list``, ``str_list`` or
    ``pairs`` (a list of ``[number, number]``). ``allow_inf`` admits an infinite
    number (an unlimited grid exchange); NaN is never allowed.
    """

    name: str
    kind: str
    unit: str = ""
    default: Any = REQUIRED
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple[str, ...] | None = None
    doc: str = ""
    allow_inf: bool = False

    @property
    def required(self) -> bool:
        """Whether the field must be given."""
        return self.default is REQUIRED

    def range_text(self) -> str:
        """Human-readable allowed range, used in error messages and docs."""
        if self.choices is not None:
            names = "one of " + ", ".join(repr(c) for c in self.choices)
            if self.kind != "str|float":
                return names
            return f"{names} or a number in {self._numeric_range()}"
        return self._numeric_range()

    def _numeric_range(self) -> str:
        if self.lo is None and self.hi is None:
            return ""
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        lo = "-inf" if self.lo is None else _bound_text(self.lo)
        hi = "inf" if self.hi is None else _bound_text(self.hi)
        return f"{left}{lo}, {hi}{right}"

    def in_range(self, v: float) -> bool:
        """Whether the number *v* lies within ``lo``/``hi``."""
        if self.lo is not None and (v < self.lo or (self.lo_open and v == self.lo)):
            return False
        return not (self.hi is not None and (v > self.hi or (self.hi_open and v == self.hi)))

    def check(self, value: Any, path: str, *, subject: str = "") -> list[FieldProblem]:
        """Problems of *value* (TOML types) for this field, each filed under *path*.

        Scenario validation and sweep validation both call this, so a value is
        accepted or refused by the same rules with the same messages. *subject*
        names the field inside the messages, for problems filed under another path
        (a sweep's ``parameter[0].min`` about ``pv[*].p_mw``).
        """
        return self.parse(value, path, subject=subject)[1]

    def parse(self, value: Any, path: str, *, subject: str = ""
              ) -> tuple[Any, list[FieldProblem]]:
        """Check *value* like :meth:`check`; also return it normalised.

        The normalised value has the model's types (lists become tuples, an integer
        given for a float becomes a float). When *value* is refused, the value
        returned is a stand-in that rules between fields skip (``None`` for a
        number) rather than report again.
        """
        problems: list[FieldProblem] = []

        def bad(msg: str) -> None:
            problems.append(FieldProblem(path, msg))

        out = self._parse(value, bad, subject)
        return out, problems

    def _parse(self, v: Any, bad: Any, subject: str) -> Any:
        rng = self.range_text()
        name = f"{subject} " if subject else ""
        of = f" of {subject}" if subject else ""
        if self.kind == "bool":
            if not isinstance(v, bool):
                bad(f"{name}must be true or false, got {type(v).__name__} {v!r}")
                return self.default
            return v
        if self.kind == "str_list":
            if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
                bad(f"{name}must be a list of strings like \"08:30\"")
                return ()
            return tuple(v)
        if self.kind == "pairs":
            if not isinstance(v, list | tuple) or not all(
                isinstance(x, list | tuple) and len(x) == 2
                and all(isinstance(y, int | float) and not isinstance(y, bool) for y in x)
                for x in v
            ):
                bad(f"{name}must be a list of [number, number] pairs")
                return ()
            return tuple((float(a), float(b)) for a, b in v)
        unit = f" [{self.unit}]" if self.unit and self.unit not in {"-", "h"} else ""
        if self.kind == "str":
            if not isinstance(v, str):
                bad(f"{name}must be a string, got {type(v).__name__} {v!r}")
                return self.default if not self.required else None
            if self.choices is not None and v not in self.choices:
                bad(f"{v!r} is not allowed{' for ' + subject if subject else ''}; {rng}")
            return v
        if self.kind == "steps":
            if isinstance(v, str):
                return v
            if isinstance(v, list | tuple) and all(
                isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v
            ):
                return tuple(v)
            bad(f"{name}must be 'none', 'all', 'day:N', 'week:N', 'month:N' or a list of "
                "non-negative step numbers")
            return self.default
        if self.kind == "float_list":
            if not isinstance(v, list | tuple) or not all(
                isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
                for x in v
            ):
                bad(f"{name}must be a list of finite numbers")
                return ()
            for x in v:
                if not self.in_range(x):
                    bad(f"{x!r} is outside the allowed range {rng}{unit}{of}")
            return tuple(float(x) for x in v)
        if self.kind == "int_list":
            if not isinstance(v, list | tuple) or not all(
                isinstance(x, int) and not isinstance(x, bool) for x in v
            ):
                bad(f"{name}must be a list of integers in {rng}")
                return ()
            for x in v:
                if not self.in_range(x):
                    bad(f"{x} is outside the allowed range {rng}{of}")
            if len(set(v)) != len(v):
                bad(f"{name}lists an hour twice")
            return tuple(v)
        if self.kind == "str|float" and isinstance(v, str):
            if self.choices is not None and v not in self.choices:
                bad(f"{v!r} is not allowed{' for ' + subject if subject else ''}; {rng}")
            return v
        if isinstance(v, dict) and ("min" in v or "max" in v):
            # an extendable capacity (parkgrid.scenario.extendable): sizing only
            bad(f"{name}is an extendable capacity {{min, max}}, which only `parkgrid size` "
                f"reads; give one number{unit} to simulate (e.g. the sized scenario it writes)")
            return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            bad(f"{name}must be a number{unit}, got {type(v).__name__} {v!r}")
            return None
        if self.kind == "int" and not isinstance(v, int):
            bad(f"{name}must be an integer, got {v!r}")
            return None
        if math.isnan(v) or (math.isinf(v) and not self.allow_inf):
            bad(f"{name}must be a finite number{unit}, got {v!r}")
            return None
        if not self.in_range(v):
            bad(f"{v!r} is outside the allowed range {rng}{unit}{of}")
            return None  # like a wrong type: rules between fields skip it, not repeat it
        return float(v) if self.kind in {"float", "str|float"} else int(v)


def _bound_text(v: float) -> str:
    """Write a range bound: whole numbers in full (``4294967295``), others short."""
    return str(int(v)) if float(v).is_integer() else f"{v:g}"
