"""Lazy top-level names of a package (PEP 562), for start-up time.

``parkgrid --help`` and ``parkgrid schema`` must not import pandapower, numba or
matplotlib, yet ``parkgrid.simulate`` and ``from parkgrid.bench import run_suite``
must keep working. A package lists its public names and the module each lives in;
the module is imported the first time one of its names is looked up.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

__all__ = ["export_lazily"]


class _LazyPackage(ModuleType):
    """A package whose public names are imported on first use."""

    _lazy_exports: dict[str, str]

    def __getattr__(self, name: str) -> Any:
        # called only when *name* is not (yet) an attribute of the package
        module = self.__dict__.get("_lazy_exports", {}).get(name)
        if module is None:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(self, name, value)  # later look-ups are plain attribute reads
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # Importing a submodule binds it as an attribute of its package. Where the
        # package exports a function of the submodule's own name (parkgrid.simulate is
        # both), keep the function, as an eager ``from ... import`` would have.
        if (isinstance(value, ModuleType)
                and self.__dict__.get("_lazy_exports", {}).get(name) == value.__name__):
            value = getattr(value, name)
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*self.__dict__, *self.__dict__.get("_lazy_exports", {})})


def export_lazily(package: str, exports: Mapping[str, tuple[str, ...]]) -> None:
    """Make the names of *exports* (module -> names) attributes of *package* on first use."""
    module = sys.modules[package]
    module.__class__ = _LazyPackage
    module.__dict__["_lazy_exports"] = {name: source for source, names in exports.items()
                                        for name in names}
