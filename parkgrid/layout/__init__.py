"""Park networks drawn as TOML layouts, and checks of any network.

A layout file lists the network's elements as tables (``[[bus]]``, ``[[line]]``,
``[[transformer]]``, ``[[switch]]``, ``[[ext_grid]]``, with its own standard types
in ``[line_type."NAME"]`` and ``[trafo_type."NAME"]``); :func:`read_layout` checks
it and builds the pandapower net, :func:`layout_to_net` does the same for tables
already read (a layout inline in a scenario). Reading runs no code (``tomllib``).
:func:`check_network` reports islands, voltage-level mismatches and radial branches
against the assets that can flow through them. The keys of every table are in
:data:`TABLES`.
"""

from parkgrid.layout._build import WINDING_TOLERANCE_PU, layout_to_net, read_layout
from parkgrid.layout._tables import REQUIRED, TABLES, Table
from parkgrid.layout.check import (
    AssetRating,
    BranchRating,
    Finding,
    NetworkCheck,
    check_network,
)

__all__ = [
    "REQUIRED",
    "TABLES",
    "WINDING_TOLERANCE_PU",
    "AssetRating",
    "BranchRating",
    "Finding",
    "NetworkCheck",
    "Table",
    "check_network",
    "layout_to_net",
    "read_layout",
]
