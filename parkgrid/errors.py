"""Exception hierarchy of parkgrid.

Every error a user can provoke with bad input derives from :class:`ParkgridError`
and says *where* the problem is (file, field path or row) and *what* is allowed.
Validation collects :class:`ValidationIssue` objects first and raises one
:class:`ScenarioError` listing all of them, so a user fixes a file in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "NetworkError",
    "ParkgridError",
    "PowerFlowError",
    "ProfileError",
    "ResultExistsError",
    "ScenarioError",
    "ValidationIssue",
]


class ParkgridError(Exception):
    """Base class of all errors raised by parkgrid for bad input or failed runs."""


@dataclass(frozen=True)
class ValidationIssue:
    """One problem found while validating an input.

    Attributes
    ----------
    source:
        File the problem is in (or ``"<dict>"`` for in-memory input).
    field:
        Dotted field path, e.g. ``battery[0].e_mwh``.
    message:
        What is wrong and what is allowed.
    """

    source: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.field}: {self.message}"


class ScenarioError(ParkgridError, ValueError):
    """A scenario failed validation; ``issues`` lists every problem found."""

    def __init__(self, issues: list[ValidationIssue]):
        self.issues = list(issues)
        n = len(self.issues)
        head = f"{n} problem{'s' if n != 1 else ''} in scenario"
        super().__init__(head + ":\n" + "\n".join(f"  - {i}" for i in self.issues))


class ProfileError(ParkgridError, ValueError):
    """A profile file or series is unusable (gaps, duplicates, NaN, wrong length ...)."""


class NetworkError(ParkgridError, ValueError):
    """A network cannot be loaded or does not fit the scenario."""


class PowerFlowError(ParkgridError, RuntimeError):
    """A power flow did not converge (and the caller asked for an exception)."""


class ResultExistsError(ParkgridError, FileExistsError):
    """The output folder exists and overwriting was not requested."""
