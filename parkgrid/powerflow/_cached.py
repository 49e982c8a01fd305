"""The network model of a cached network (:mod:`parkgrid.netcache`), without pandapower.

The model of the network as loaded (no park elements, no profile columns) is
stored next to its tables as ``model.npz``; a run adds its park's profile columns
with :func:`~parkgrid.powerflow._model.with_injections`. On a miss, or when the
stored arrays fail any check, it is converted through pandapower again and stored.
"""

from __future__ import annotations

import logging

import pandas as pd

from parkgrid.netcache import LiteNet
from parkgrid.powerflow._model import NetModel, build_model, model_arrays, model_from_arrays
from parkgrid.powerflow._profiles import ProfileSet

__all__ = ["cached_base_model"]

log = logging.getLogger(__name__)

MODEL_FILE = "model.npz"


def cached_base_model(net: LiteNet) -> NetModel:
    """Return the model of *net* without profile columns, from its cache entry if valid."""
    entry = net.entry
    arrays = entry.read_arrays(MODEL_FILE) if entry is not None else None
    if arrays is not None:
        try:
            return model_from_arrays(arrays)
        except ValueError as exc:
            log.debug("network cache: %s rejected (%s); rebuilt", MODEL_FILE, exc)
    empty = ProfileSet(index=pd.RangeIndex(0), columns={}, values={})
    stored = model_arrays(build_model(net.real(), empty))
    if entry is not None:
        entry.write_arrays(MODEL_FILE, stored)
    return model_from_arrays(stored)  # what a hit reads: the same arrays either way
