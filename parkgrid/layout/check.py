"""Check a pandapower net: islands, voltage levels, branch ratings against the assets.

:func:`check_network` works on any net (built from a layout or read from JSON) and,
given the rated power of the assets on its buses (:class:`AssetRating`), checks
every radial branch against what can flow through it.

**The radial rule.** A line or transformer whose removal splits the network in two
(a bridge of the network graph, with switch states and in_service flags respected)
carries at most what one side can push out and the other side can take in. A side
pushes out at most the feed-in ratings of its assets (PV, wind, battery discharge,
coal) and takes in at most their draw ratings (loads at their peak, electrolysers,
battery charging, chargers); the side with the grid connection adds the grid's
import (push) and export (take) limits, unlimited unless given. So the branch must
carry ``max(min(feed_beyond, draw_rest), min(draw_beyond, feed_rest))``; feed-in and
draw on one side do not offset, since either can happen with the other at zero.
Each asset counts as apparent power ``S = P / cos phi`` at its bus; at the branch's
nominal voltage this is a current ``I = S / (sqrt(3) V_n)`` [kA for MVA and kV]
against the line's ``max_i_ka * df * parallel``; a transformer's ``S`` is set
against ``sn_mva * df * parallel``. Losses, voltage below nominal and the network's
own reactive power are not counted, and the grid limits (MW) count as MVA.
Branches in a mesh (rings, parallel transformers joined by a closed coupler) share
their flow by impedance; they are listed as not checked by this rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AssetRating", "BranchRating", "Finding", "NetworkCheck", "check_network"]

#: rated winding voltage off its bus's nominal voltage by more than this: a warning
WINDING_WARNING_PU = 0.10


@dataclass(frozen=True)
class AssetRating:
    """An asset's worst case at its bus [MVA]: what it can feed in and what it can draw."""

    name: str
    kind: str
    bus: str
    feed_in_mva: float = 0.0
    draw_mva: float = 0.0


@dataclass(frozen=True)
class Finding:
    """One problem of the net: ``severity`` is ``"error"`` or ``"warning"``."""

    severity: str
    element: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.element}: {self.message}"


@dataclass(frozen=True)
class BranchRating:
    """A radial line or transformer against the assets beyond it (the radial rule).

    ``needed`` and ``rated`` are in kA for a line (one value for all its parallel
    circuits), in MVA for a transformer.
    """

    element: str
    index: int
    name: str
    vn_kv: float
    feed_in_mva: float
    draw_mva: float
    needed: float
    rated: float
    assets: tuple[str, ...]

    @property
    def loading_percent(self) -> float:
        """Needed over rated [%]."""
        return 100.0 * self.needed / self.rated if self.rated > 0 else math.inf

    @property
    def unit(self) -> str:
        """Unit of ``needed`` and ``rated``."""
        return "kA" if self.element == "line" else "MVA"


@dataclass(frozen=True)
class NetworkCheck:
    """What :func:`check_network` found; ``ok`` is false when any finding is an error."""

    counts: dict[str, int]
    islands: list[list[str]]
    voltage_levels_kv: list[float]
    findings: list[Finding] = field(default_factory=list)
    branches: list[BranchRating] = field(default_factory=list)
    meshed: list[str] = field(default_factory=list)
    rated_assets: int = 0

    @property
    def ok(self) -> bool:
        """No finding is an error."""
        return not any(f.severity == "error" for f in self.findings)

    def text(self, *, limit_percent: float = 100.0) -> str:
        """Render the report as aligned text, as ``parkgrid network check`` prints it."""
        plural = {"bus": "buses", "switch": "switches"}
        lines = [", ".join(f"{n} {k if n == 1 else plural.get(k, k + 's')}"
                           for k, n in self.counts.items()),
                 "voltage levels: " + ", ".join(f"{v:g} kV" for v in self.voltage_levels_kv)]
        if self.islands:
            lines.append(f"islands (not supplied from an ext_grid): {len(self.islands)}")
            lines += [f"  - {', '.join(island)}" for island in self.islands]
        else:
            lines.append("islands: none, every in-service bus is supplied")
        if self.rated_assets:
            lines.append(f"\nbranch ratings, radial rule ({self.rated_assets} assets): what "
                         "the side beyond can feed in or draw,\nup to what the rest (grid "
                         "included) can take or give")
            width = max([len(b.name) for b in self.branches] + [6])
            lines.append(f"  {'branch':<{width}}  {'kV':>5}  {'feed-in MVA':>11}  "
                         f"{'draw MVA':>9}  {'needed':>12}  {'rated':>12}  {'loading':>9}")
            for b in sorted(self.branches, key=lambda b: -b.loading_percent):
                flag = "  OVER" if b.loading_percent > limit_percent else ""
                lines.append(f"  {b.name:<{width}}  {b.vn_kv:>5g}  {b.feed_in_mva:>11.1f}  "
                             f"{b.draw_mva:>9.1f}  {b.needed:>8.3f} {b.unit:<3}  "
                             f"{b.rated:>8.3f} {b.unit:<3}  {b.loading_percent:>7.1f} %{flag}")
            if self.meshed:
                lines.append(f"  in a mesh, not checked by the radial rule: "
                             f"{', '.join(self.meshed)}")
        else:
            lines.append("\nbranch ratings: not checked (no assets; pass --scenario)")
        errors = [f for f in self.findings if f.severity == "error"]
        warnings = [f for f in self.findings if f.severity == "warning"]
        lines.append(f"\n{len(errors)} error{'s' * (len(errors) != 1)}, "
                     f"{len(warnings)} warning{'s' * (len(warnings) != 1)}")
        lines += [f"  - {f}" for f in (*errors, *warnings)]
        return "\n".join(lines)


def check_network(net: Any, ratings: list[AssetRating] | None = None, *,
                  grid_import_mva: float = math.inf, grid_export_mva: float = math.inf,
                  limit_percent: float = 100.0) -> NetworkCheck:
    """Check *net* (never changed) and, with *ratings*, its radial branches.

    Parameters
    ----------
    net:
        A pandapower net.
    ratings:
        The assets on its buses (by bus name); ``None`` skips the branch ratings.
    grid_import_mva, grid_export_mva:
        What the grid connection can supply and take [MVA] (the scenario's
        import and export limits); unlimited by default.
    limit_percent:
        A branch needing more than this share of its rating is an error [%].
    """
    findings: list[Finding] = []
    names = net.bus["name"].astype(str)
    vn = net.bus["vn_kv"].astype(float)
    counts = {k: len(net[t]) for k, t in (("bus", "bus"), ("line", "line"),
                                          ("transformer", "trafo"), ("switch", "switch"),
                                          ("ext_grid", "ext_grid"))}
    _check_levels(net, findings)
    import networkx as nx  # on first use: start-up time
    import pandapower.topology as top

    graph = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False)
    slack_buses = {int(b) for b in net.ext_grid.loc[net.ext_grid["in_service"].astype(bool),
                                                    "bus"]}
    if not slack_buses:
        findings.append(Finding("error", "ext_grid", "no in-service ext_grid: nothing is "
                                                     "supplied"))
    islands = [sorted(int(b) for b in comp) for comp in nx.connected_components(graph)
               if not comp & slack_buses]
    by_bus: dict[int, list[AssetRating]] = {}
    bus_of = {n: int(i) for i, n in names.items()}
    for r in ratings or []:
        if r.bus not in bus_of or (names == r.bus).sum() > 1:
            findings.append(Finding("error", f"{r.kind} {r.name!r}", f"bus {r.bus!r} is not a "
                                    "unique bus name of this network"))
            continue
        by_bus.setdefault(bus_of[r.bus], []).append(r)
    for island in islands:
        on = [r for b in island for r in by_bus.get(b, [])]
        label = f"bus {names[island[0]]!r}" + (f" and {len(island) - 1} more"
                                               if len(island) > 1 else "")
        if on:
            findings.append(Finding("error", label, "island with assets: "
                                    + ", ".join(f"{r.kind} {r.name!r} on {r.bus!r}"
                                                for r in on)
                                    + " cannot be supplied (open switch or element out of "
                                      "service?)"))
        else:
            findings.append(Finding("warning", label, "not supplied from an ext_grid"))
    branches: list[BranchRating] = []
    meshed: list[str] = []
    if ratings is not None and slack_buses:
        branches, meshed = _radial_ratings(net, graph, slack_buses, by_bus,
                                           (grid_import_mva, grid_export_mva))
        for b in branches:
            if b.loading_percent > limit_percent:
                findings.append(Finding(
                    "error", f"{b.element} {b.name!r}",
                    f"under-rated: the assets beyond it can make it carry {b.needed:.3f} "
                    f"{b.unit} (feed-in {b.feed_in_mva:.1f} MVA, draw {b.draw_mva:.1f} MVA), "
                    f"{b.loading_percent:.0f} % of its {b.rated:.3f} {b.unit}"))
    return NetworkCheck(
        counts=counts, islands=[[str(names[b]) for b in isl] for isl in islands],
        voltage_levels_kv=sorted(set(vn.tolist()), reverse=True), findings=findings,
        branches=branches, meshed=meshed, rated_assets=len(ratings or []))


def _check_levels(net: Any, findings: list[Finding]) -> None:
    """Lines and closed couplers within one voltage level; transformers between two."""
    vn, names = net.bus["vn_kv"].astype(float), net.bus["name"].astype(str)
    for _, ln in net.line.iterrows():
        a, b = vn[ln.from_bus], vn[ln.to_bus]
        if a != b:
            findings.append(Finding("error", f"line {ln['name']!r}", f"voltage-level mismatch: "
                                    f"joins {names[ln.from_bus]!r} ({a:g} kV) and "
                                    f"{names[ln.to_bus]!r} ({b:g} kV)"))
    couplers = net.switch[(net.switch["et"] == "b") & net.switch["closed"].astype(bool)]
    for _, s in couplers.iterrows():
        a, b = vn[s.bus], vn[s.element]
        if a != b:
            findings.append(Finding("error", f"switch {s['name']!r}", f"voltage-level mismatch: "
                                    f"couples {a:g} kV and {b:g} kV"))
    for _, t in net.trafo.iterrows():
        hv, lv = vn[t.hv_bus], vn[t.lv_bus]
        if hv <= lv:
            findings.append(Finding("error", f"transformer {t['name']!r}",
                                    f"voltage-level mismatch: HV bus {hv:g} kV, LV bus {lv:g} kV"))
            continue
        for side, bus_kv in (("hv", hv), ("lv", lv)):
            rated = float(t[f"vn_{side}_kv"])
            if abs(rated / bus_kv - 1.0) > WINDING_WARNING_PU:
                findings.append(Finding("warning", f"transformer {t['name']!r}",
                                        f"voltage-level mismatch: {side.upper()} winding rated "
                                        f"{rated:g} kV on a {bus_kv:g} kV bus"))


def _radial_ratings(net: Any, graph: Any, slack_buses: set[int],
                    by_bus: dict[int, list[AssetRating]], grid: tuple[float, float]
                    ) -> tuple[list[BranchRating], list[str]]:
    import networkx as nx

    root = "__grid__"
    g = graph.copy()
    g.add_edges_from((root, b) for b in slack_buses)
    parent: dict[Any, Any] = {root: None}
    order: list[Any] = [root]
    for u, v in nx.bfs_edges(g, root):
        parent[v] = u
        order.append(v)
    at: dict[Any, list[AssetRating]] = {n: by_bus.get(n, []) for n in order}
    feed: dict[Any, float] = {n: sum(r.feed_in_mva for r in at[n]) for n in order}
    draw: dict[Any, float] = {n: sum(r.draw_mva for r in at[n]) for n in order}
    beyond: dict[Any, list[str]] = {n: [r.name for r in at[n]] for n in order}
    feed[root], draw[root] = grid  # the grid connection pushes imports, takes exports
    for n in reversed(order[1:]):
        feed[parent[n]] += feed[n]
        draw[parent[n]] += draw[n]
        beyond[parent[n]] = beyond[parent[n]] + beyond[n]
    bridges = {frozenset(e) for e in nx.bridges(g) if root not in e}
    branches, meshed = [], []
    for u, v, key in g.edges(keys=True):
        if root in (u, v) or key[0] not in ("line", "trafo"):
            continue
        table, idx = key[0], int(key[1])
        row = net[table].loc[idx]
        if frozenset((u, v)) not in bridges:
            meshed.append(str(row["name"]))
            continue
        child = v if parent.get(v) == u else u
        s_mva = max(min(feed[child], draw[root] - draw[child]),
                    min(draw[child], feed[root] - feed[child]))
        if table == "line":
            kv = float(net.bus.at[int(row.from_bus), "vn_kv"])
            needed = s_mva / (math.sqrt(3.0) * kv)
            rated = float(row.max_i_ka) * float(row.df) * float(row.parallel)
        else:
            kv = float(net.bus.at[int(row.hv_bus), "vn_kv"])
            needed, rated = s_mva, float(row.sn_mva) * float(row.df) * float(row.parallel)
        branches.append(BranchRating(
            element="line" if table == "line" else "transformer", index=idx,
            name=str(row["name"]), vn_kv=kv, feed_in_mva=feed[child], draw_mva=draw[child],
            needed=needed, rated=rated, assets=tuple(beyond[child])))
    return branches, meshed
