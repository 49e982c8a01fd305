"""Exception hierarchy of parkgrid.

Every error a user can provoke with bad input derives from :class:`ParkgridError`
and says *where* the problem is (file, field path or row) and *what* is allowed.
Validation collects :class:`ValidationIssue` objects first and raises one
:class:`ScenarioError` listing all of them, so a user fixes a file in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "IssueListError",
    "LayoutError",
    "MeterDataError",
    "NetworkError",
    "OptimalInfeasibleError",
    "OptimalSolveError",
    "OptimalUnsupportedError",
    "ParkgridError",
    "PowerFlowError",
    "ProfileError",
    "ResultExistsError",
    "ScenarioError",
    "SweepError",
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


class IssueListError(ParkgridError, ValueError):
    """An input failed validation; ``issues`` lists every problem found.

    The message counts the problems and lists one per line, so a user fixes a file
    in one pass. Subclasses name what was validated in :attr:`what`.
    """

    what = "input"

    def __init__(self, issues: list[ValidationIssue]):
        self.issues = list(issues)
        n = len(self.issues)
        head = f"{n} problem{'s' if n != 1 else ''} in {self.what}"
        super().__init__(head + ":\n" + "\n".join(f"  - {i}" for i in self.issues))


class ScenarioError(IssueListError):
    """A scenario failed validation; ``issues`` lists every problem found."""

    what = "scenario"


class SweepError(IssueListError):
    """A sweep file failed validation; ``issues`` lists every problem found."""

    what = "sweep file"


class MeterDataError(ParkgridError, ValueError):
    """A meter file was refused; ``problems`` lists every reason, each naming row and time."""

    def __init__(self, source: str, problems: list[str], repairs: list[str] | None = None):
        self.source = source
        self.problems = list(problems)
        self.repairs = list(repairs or [])
        n = len(self.problems)
        text = f"{source}: {n} problem{'s' if n != 1 else ''} in the meter data, refused:\n"
        text += "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(text)


class OptimalUnsupportedError(ParkgridError, ValueError):
    """The inputs use a feature the optimal strategy does not model yet."""


class OptimalInfeasibleError(ParkgridError, ValueError):
    """The inputs of a window cannot be met whatever the schedule.

    ``constraint`` names the constraint family, ``window`` the window number and
    ``step`` the first step (0-based, of the whole horizon) where it fails.
    """

    def __init__(self, message: str, *, constraint: str, window: int, step: int):
        super().__init__(message)
        self.constraint, self.window, self.step = constraint, window, step


class OptimalSolveError(ParkgridError, RuntimeError):
    """HiGHS did not return an optimal solution for a window (time limit and the like)."""


class ProfileError(ParkgridError, ValueError):
    """A profile file or series is unusable (gaps, duplicates, NaN, wrong length ...)."""


class NetworkError(ParkgridError, ValueError):
    """A network cannot be loaded or does not fit the scenario."""


class LayoutError(IssueListError, NetworkError):
    """A layout file (TOML network) was refused; ``issues`` names file, row and key of each."""

    what = "layout"


class PowerFlowError(ParkgridError, RuntimeError):
    """A power flow did not converge (and the caller asked for an exception)."""


class ResultExistsError(ParkgridError, FileExistsError):
    """The output folder exists and overwriting was not requested."""
