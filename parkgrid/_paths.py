"""Locate the data folders shipped with parkgrid (networks/, profiles/).

In a wheel they are installed as ``parkgrid/_data/<name>``; in a source checkout
(editable install or running from the repository) they sit at the top level.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder of shipped data called *name* (``"networks"`` or ``"profiles"``)."""
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"parkgrid data folder {name!r} not found next to {_PKG}")
