"""Check and normalise time-series profiles for the power flows.

A profile set maps ``(element, column)`` to a DataFrame indexed by time step whose
columns are element indices of that table -- the format of
``simbench.get_absolute_values(net, True)`` and of pandapower's ``ConstControl``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from parkgrid.errors import ProfileError
from parkgrid.powerflow._kernels import empty_2d

__all__ = ["SUPPORTED_COLUMNS", "ProfileSet", "check_profiles"]

#: (element, column) pairs a profile may vary. Voltage set-points are not among
#: them: the kernel keeps PV and slack set-points at the net's static values.
SUPPORTED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("gen", "p_mw"),
    ("load", "p_mw"),
    ("load", "q_mvar"),
    ("sgen", "p_mw"),
    ("sgen", "q_mvar"),
    ("storage", "p_mw"),
    ("storage", "q_mvar"),
)


@dataclass(frozen=True)
class ProfileSet:
    """Validated profiles: one shared time index, float arrays per key.

    Attributes
    ----------
    index:
        The common time index of all profiles.
    columns:
        ``(element, column) -> element indices`` (int array) that the profile sets.
    values:
        ``(element, column) -> float64 array`` of shape (steps, len(indices)); a
        view of the caller's DataFrame where pandas allows (no copy of a year).

    """

    index: pd.Index
    columns: dict[tuple[str, str], np.ndarray]
    values: dict[tuple[str, str], np.ndarray]

    def row(self, key: tuple[str, str], pos: int) -> np.ndarray:
        """Values of *key* at step position *pos*."""
        return self.values[key][pos]

    def block(self, keys: Sequence[tuple[str, str]], start: int, stop: int,
              out: np.ndarray | None = None) -> np.ndarray:
        """Return steps ``start:stop`` of *keys* side by side as a C-contiguous array.

        *out*, if given, is a C-contiguous float array of at least ``stop - start``
        rows and the total width; the rows are written into it (no allocation).
        """
        width = sum(self.values[k].shape[1] for k in keys)
        if out is None:
            out = empty_2d(stop - start, width)  # numba-allocated: see there
        else:
            out = out[: stop - start]
        col = 0
        for k in keys:
            w = self.values[k].shape[1]
            out[:, col : col + w] = self.values[k][start:stop]
            col += w
        return out


def check_profiles(
    net: object, profiles: Mapping[tuple[str, str], pd.DataFrame] | None
) -> ProfileSet:
    """Validate *profiles* against *net* and return them as a :class:`ProfileSet`.

    Raises
    ------
    ProfileError
        Unknown element table or column, unknown element indices, differing time
        indices between profiles, non-numeric values or NaN/inf.

    """
    if profiles is None or len(profiles) == 0:
        raise ProfileError("profiles: empty; give at least one (element, column) DataFrame")
    index: pd.Index | None = None
    first_key: tuple[str, str] | None = None
    columns: dict[tuple[str, str], np.ndarray] = {}
    values: dict[tuple[str, str], np.ndarray] = {}
    for key, frame in profiles.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ProfileError(f"profiles: key {key!r} is not an (element, column) tuple")
        if key not in SUPPORTED_COLUMNS:
            allowed = ", ".join(f"{e}.{c}" for e, c in SUPPORTED_COLUMNS)
            raise ProfileError(f"profiles[{key!r}]: not supported; allowed: {allowed}")
        if not isinstance(frame, pd.DataFrame):
            raise ProfileError(f"profiles[{key!r}]: expected a DataFrame, got {type(frame)}")
        element, _ = key
        table = net[element]  # type: ignore[index]
        if frame.shape[1] == 0:
            continue
        try:
            idx = np.asarray(frame.columns, dtype=np.int64)
        except (TypeError, ValueError) as err:
            raise ProfileError(
                f"profiles[{key!r}]: columns must be {element} indices (integers)"
            ) from err
        unknown = np.setdiff1d(idx, np.asarray(table.index, dtype=np.int64))
        if unknown.size:
            raise ProfileError(
                f"profiles[{key!r}]: unknown {element} indices {unknown[:10].tolist()}"
            )
        if len(np.unique(idx)) != len(idx):
            raise ProfileError(f"profiles[{key!r}]: duplicate {element} indices")
        if index is None:
            index, first_key = frame.index, key
            if index.has_duplicates:
                raise ProfileError(f"profiles[{key!r}]: duplicate time index labels")
        elif not frame.index.equals(index):
            raise ProfileError(
                f"profiles[{key!r}]: time index differs from profiles[{first_key!r}] "
                f"({len(frame.index)} vs {len(index)} rows, or different labels)"
            )
        try:
            arr = frame.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ProfileError(f"profiles[{key!r}]: non-numeric values") from err
        # NaN and inf propagate through a sum, so a finite sum proves every value
        # finite without a year-sized temporary; only a non-finite sum (or an
        # overflow of huge values) needs the row-by-row search
        if arr.size and not np.isfinite(arr.sum()):
            for r0 in range(0, arr.shape[0], 8192):  # bounded temporaries on big years
                bad = ~np.isfinite(arr[r0 : r0 + 8192])
                if bad.any():
                    r, c = np.argwhere(bad)[0]
                    raise ProfileError(
                        f"profiles[{key!r}]: NaN/inf values, first at "
                        f"step {frame.index[r0 + r]!r}, {element} {idx[c]}"
                    )
        columns[key] = idx
        values[key] = arr
    if index is None:
        raise ProfileError("profiles: every DataFrame has zero columns")
    return ProfileSet(index=index, columns=columns, values=values)


def check_steps(steps: Sequence[int] | None, n: int) -> np.ndarray:
    """Return *steps* (positions into the profile index) as a checked int array."""
    if steps is None:
        return np.arange(n, dtype=np.int64)
    pos = np.asarray(list(steps), dtype=np.int64)
    if pos.ndim != 1:
        raise ProfileError("steps: expected a flat list of positions")
    if pos.size and (pos.min() < -n or pos.max() >= n):
        raise ProfileError(f"steps: positions must lie in [0, {n}); got {pos.min()}..{pos.max()}")
    return np.where(pos < 0, pos + n, pos)
