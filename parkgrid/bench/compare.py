"""Reference KPIs, run-to-run comparison and the printed tables of the suite."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

__all__ = [
    "CHECKED_KPIS",
    "REFERENCE_PATH",
    "check_reference",
    "compare_runs",
    "format_table",
    "load_reference",
    "reference_from_run",
]

REFERENCE_PATH = Path(__file__).resolve().parent / "reference_kpis.json"
#: KPIs stored and checked per kind of case
CHECKED_KPIS: dict[str, tuple[str, ...]] = {
    "park": ("self_consumption_ratio", "res_utilisation", "self_sufficiency", "curtailed_mwh",
             "imported_mwh", "exported_mwh", "unserved_mwh", "h2_produced_kg", "co2_t",
             "net_cost_cny", "pf_steps", "pf_steps_not_converged", "losses_mwh", "vm_min_pu",
             "vm_max_pu", "line_loading_max_percent", "trafo_loading_max_percent"),
    "grid": ("pf_steps", "pf_steps_not_converged", "losses_mwh", "vm_min_pu", "vm_max_pu",
             "steps_voltage_violation", "line_loading_max_percent",
             "trafo_loading_max_percent", "steps_overloaded"),
}
#: default tolerance: the kernels converge to 1e-8 pu, so 1e-6 relative is a real change
RTOL, ATOL = 1e-6, 1e-9


def load_reference(path: str | Path = REFERENCE_PATH) -> dict[str, Any]:
    """Read the stored reference KPIs (``{"suite_version", "rtol", "atol", "cases"}``)."""
    p = Path(path)
    if not p.is_file():
        return {"suite_version": None, "rtol": RTOL, "atol": ATOL, "cases": {}}
    return dict(json.loads(p.read_text()))


def _close(a: float | None, b: float | None, rtol: float, atol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= atol + rtol * abs(b)


def check_reference(rec: dict[str, Any], reference: dict[str, Any],
                    suite_version: str) -> dict[str, Any]:
    """Compare one case record with the reference; never hides a change.

    Returns ``{"status": ..., "changed": [(kpi, reference, now), ...]}`` where status
    is ``"ok"``, ``"CHANGED"``, ``"new"`` (no reference), ``"partial"`` (not a full
    year, not checked) or ``"other-suite"`` (reference of another suite version).
    """
    if not rec.get("full_year", True):
        return {"status": "partial", "changed": []}
    ref = reference.get("cases", {}).get(rec["name"])
    if ref is None:
        return {"status": "new", "changed": []}
    if reference.get("suite_version") != suite_version:
        return {"status": "other-suite", "changed": []}
    rtol = float(reference.get("rtol", RTOL))
    atol = float(reference.get("atol", ATOL))
    changed = []
    for kpi, want in ref["kpis"].items():
        got = rec["kpis"].get(kpi)
        if not _close(None if got is None else float(got),
                      None if want is None else float(want), rtol, atol):
            changed.append((kpi, want, got))
    return {"status": "CHANGED" if changed else "ok", "changed": changed}


def _json_float(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def reference_from_run(run: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    """Make reference KPIs from a suite run (full-year cases only), merged into *old*."""
    cases = dict((old or {}).get("cases", {})) \
        if (old or {}).get("suite_version") == run["suite_version"] else {}
    for rec in run["cases"]:
        if not rec.get("full_year"):
            continue
        names = CHECKED_KPIS[rec["kind"]]
        cases[rec["name"]] = {
            "source": rec["source"], "steps": rec["steps"],
            "kpis": {k: _json_float(rec["kpis"].get(k)) for k in names if k in rec["kpis"]},
            "recorded_with": {"commit": run["git"].get("commit"),
                              "created_utc": run["created_utc"]},
        }
    return {"suite_version": run["suite_version"], "rtol": RTOL, "atol": ATOL,
            "cases": dict(sorted(cases.items()))}


def _num(v: Any, fmt: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return format(v, fmt)


def _key_kpi(rec: dict[str, Any]) -> str:
    k = rec["kpis"]
    if rec["kind"] == "park":
        return (f"self-cons {_num(k.get('self_consumption_ratio'), '.3f')}, "
                f"CO2 {_num(k.get('co2_t', float('nan')) / 1e3, ',.1f')} kt")
    return (f"losses {_num(k.get('losses_mwh'), ',.0f')} MWh, "
            f"line max {_num(k.get('line_loading_max_percent'), '.0f')} %")


def format_table(run: dict[str, Any]) -> str:
    """Render the suite run as an aligned text table, with the machine and peers."""
    head = ("case", "buses", "steps", "wall s", "steps/s", "key KPIs", "vm min", "vm max",
            "pp s (est.)", "x pp", "pgm s (est.)", "reference")
    rows = []
    for rec in run["cases"]:
        pp = rec.get("peers", {}).get("pandapower", {})
        pgm = rec.get("peers", {}).get("power_grid_model", {})
        ref = rec.get("reference", {}).get("status", "")
        rows.append((rec["name"], f"{rec['buses']:,}", f"{rec['steps']:,}",
                     _num(rec["wall_s"], ".2f"), _num(rec["steps_per_s"], ",.0f"),
                     _key_kpi(rec), _num(rec["kpis"].get("vm_min_pu"), ".4f"),
                     _num(rec["kpis"].get("vm_max_pu"), ".4f"),
                     _num(pp.get("estimated_s"), ",.0f"), _num(pp.get("ratio"), ",.0f"),
                     _num(pgm.get("estimated_s"), ".1f"), ref))
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    m = run["machine"]
    samples = {rec.get("peers", {}).get("pandapower", {}).get("sample_steps")
               for rec in run["cases"]} - {None}
    lines.append("")
    lines.append(f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, "
                 f"load {m['load_average_1min']}; parkgrid {run['packages'].get('parkgrid')}, "
                 f"commit {str(run['git'].get('commit'))[:10]}"
                 f"{' (dirty)' if run['git'].get('dirty') else ''}")
    if samples:
        lines.append("pp s (est.): pandapower run_timeseries timed on "
                     f"{', '.join(map(str, samples))} evenly spread steps and extrapolated to "
                     "all steps; x pp = that / wall s")
    pgm = {str(rec.get("peers", {}).get("power_grid_model", {}).get("skipped"))
           for rec in run["cases"]} - {"None"}
    pgm_samples = {rec.get("peers", {}).get("power_grid_model", {}).get("sample_steps")
                   for rec in run["cases"]} - {None}
    if pgm_samples:
        lines.append("pgm s (est.): power-grid-model batch Newton-Raphson on "
                     f"{', '.join(map(str, pgm_samples))} evenly spread steps, extrapolated "
                     "(its own element models; max |dvm| in the JSON)")
    for reason in sorted(pgm):
        lines.append(f"power-grid-model skipped: {reason}")
    for miss in run.get("unavailable", []):
        lines.append(f"unavailable: {miss['name']} ({miss['reason']})")
    for rec in run["cases"]:
        for kpi, want, got in rec.get("reference", {}).get("changed", []):
            lines.append(f"CHANGED {rec['name']}: {kpi} = {got!r}, reference {want!r}")
    return "\n".join(lines)


def compare_runs(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Side-by-side wall times and KPI changes of two suite runs (JSON records)."""
    lines = []
    if old.get("machine", {}).get("cpu") != new.get("machine", {}).get("cpu"):
        lines.append(f"note: different machines ({old.get('machine', {}).get('cpu')} vs "
                     f"{new.get('machine', {}).get('cpu')}); times are not comparable")
    old_commit = str(old.get("git", {}).get("commit"))[:10]
    new_commit = str(new.get("git", {}).get("commit"))[:10]
    lines.append(f"old: {old.get('created_utc')} commit {old_commit}   "
                 f"new: {new.get('created_utc')} commit {new_commit}")
    head = ("case", "old wall s", "new wall s", "speed-up", "KPIs")
    rows = []
    old_cases = {r["name"]: r for r in old.get("cases", [])}
    same_suite = old.get("suite_version") == new.get("suite_version")
    for rec in new["cases"]:
        o = old_cases.get(rec["name"])
        if o is None:
            rows.append((rec["name"], "-", _num(rec["wall_s"], ".2f"), "-", "new case"))
            continue
        diff = []
        if same_suite and o.get("steps") == rec.get("steps"):
            for kpi in CHECKED_KPIS[rec["kind"]]:
                a, b = o["kpis"].get(kpi), rec["kpis"].get(kpi)
                if not _close(_json_float(b), _json_float(a), RTOL, ATOL):
                    diff.append(f"{kpi} {_num(a, '.6g')} -> {_num(b, '.6g')}")
        note = ("same" if not diff else "CHANGED: " + "; ".join(diff)) if same_suite and \
            o.get("steps") == rec.get("steps") else "not comparable (suite or steps differ)"
        rows.append((rec["name"], _num(o["wall_s"], ".2f"), _num(rec["wall_s"], ".2f"),
                     _num(o["wall_s"] / rec["wall_s"], ".2f") + "x", note))
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines.append("  ".join(str(c).ljust(w) for c, w in zip(head, widths, strict=True)))
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)
