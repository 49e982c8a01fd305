"""``parkgrid bench [CASES...]``: the command-line side of the benchmark suite."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

from parkgrid.errors import ParkgridError

__all__ = ["add_bench_parser", "reference_to_update"]


def _is_source_checkout(reference: Path) -> bool:
    """Whether *reference* (``<root>/parkgrid/bench/reference_kpis.json``) is a checkout's.

    A checkout has parkgrid's own ``pyproject.toml`` at ``<root>``; an installed
    parkgrid (a wheel in site-packages) has not.
    """
    pyproject = reference.resolve().parents[2] / "pyproject.toml"
    try:
        return tomllib.loads(pyproject.read_text(encoding="utf-8")).get(
            "project", {}).get("name") == "parkgrid"
    except (OSError, ValueError):
        return False


def reference_to_update(reference: str | None, default: Path) -> Path:
    """Return the file ``--update-reference`` writes: ``--reference`` or the checkout's.

    The suite's own reference (*default*) is written only in a source checkout, where
    the change shows in ``git diff``; inside an installed package it would silently
    change site-packages, so there ``--reference PATH`` is required.
    """
    if reference:
        return Path(reference)
    if _is_source_checkout(default):
        return default
    raise ParkgridError(
        f"--update-reference: the suite's reference {default} belongs to the installed "
        "parkgrid package and is not rewritten; pass --reference PATH to write the KPIs "
        "to a file of your own (and --reference PATH to check against it later), or run "
        "from a source checkout of parkgrid")


def _cmd_bench(args: argparse.Namespace) -> int:
    from parkgrid.bench.cases import CASES, SUITE_VERSION, select_cases
    from parkgrid.bench.compare import (
        REFERENCE_PATH,
        check_reference,
        compare_runs,
        format_table,
        load_reference,
        reference_from_run,
    )
    from parkgrid.bench.runner import run_suite

    if args.list:
        for c in CASES.values():
            print(f"{c.name:<14} {c.kind:<5} {c.source:<20} {c.description}")
        return 0
    update_path = (reference_to_update(args.reference, REFERENCE_PATH)
                   if args.update_reference else None)  # refused before hours of work
    try:
        cases = select_cases(args.cases, quick=args.quick)
    except KeyError as exc:
        raise ParkgridError(str(exc.args[0])) from None
    old = None
    if args.compare:
        try:
            old = json.loads(Path(args.compare).read_text())
        except (OSError, ValueError) as exc:
            raise ParkgridError(f"--compare {args.compare}: cannot read a suite run: {exc}") \
                from None

    def progress(case: Any) -> None:
        if not args.quiet:
            print(f"parkgrid bench: {case.name} ({case.description})", file=sys.stderr)

    run = run_suite(cases, steps=args.steps, peers=not args.no_peers,
                    pp_sample=args.pp_sample, progress=progress)
    ref_path = Path(args.reference) if args.reference else REFERENCE_PATH
    reference = load_reference(ref_path)
    for rec in run["cases"]:
        rec["reference"] = check_reference(rec, reference, SUITE_VERSION)
    if args.output:
        Path(args.output).write_text(json.dumps(run, indent=2, default=str) + "\n")
    if not args.quiet:
        print(format_table(run))
        if old is not None:
            print("\n" + compare_runs(old, run))
        if args.output:
            print(f"\nsuite run written to {args.output}")
    if update_path is not None:
        tmp = update_path.with_name(f".{update_path.name}.tmp")
        tmp.write_text(json.dumps(reference_from_run(run, reference), indent=2) + "\n")
        os.replace(tmp, update_path)  # never a half-written reference
        print(f"reference KPIs written to {update_path}", file=sys.stderr)
        return 0
    changed = [r["name"] for r in run["cases"] if r["reference"]["status"] == "CHANGED"]
    if changed:
        print(f"parkgrid bench: results changed against the reference in {', '.join(changed)}"
              " (see CHANGED lines; --update-reference if intended)", file=sys.stderr)
        return 1
    return 0


def add_bench_parser(sub: Any) -> None:
    """Add the ``bench`` subcommand to the subparsers *sub* of the parkgrid command."""
    p = sub.add_parser(
        "bench", help="run the benchmark suite (timings, KPIs, reference check)",
        description="Run named benchmark cases for a full year each: the flagship park, a "
                    "CIGRE MV park, SimBench MV/LV grids with their own profiles and "
                    "synthetic 1,000 and 5,000-bus grids. Prints a table, checks KPIs "
                    "against the stored reference (exit code 1 if a result changed) and "
                    "optionally writes JSON with machine, package versions and git commit.")
    p.add_argument("cases", nargs="*", metavar="CASE", help="cases to run (default: all; "
                                                            "--list shows them)")
    p.add_argument("--quick", action="store_true", help="only the quick subset of cases")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.add_argument("-o", "--output", metavar="JSON", help="write the run as JSON")
    p.add_argument("--compare", metavar="OLD_JSON", help="compare with an earlier run")
    p.add_argument("--steps", type=int, metavar="N",
                   help="power flow over the first N steps only (not checked against the "
                        "reference)")
    p.add_argument("--no-peers", action="store_true",
                   help="skip the pandapower/power-grid-model columns")
    p.add_argument("--pp-sample", type=int, default=48, metavar="N",
                   help="steps pandapower's run_timeseries is timed on (default 48)")
    p.add_argument("--reference", metavar="JSON",
                   help="reference KPI file to check against and, with --update-reference, "
                        "to write (default: the suite's own)")
    p.add_argument("--update-reference", action="store_true",
                   help="store this run's full-year KPIs as the reference: into --reference "
                        "JSON, else into the source checkout's "
                        "parkgrid/bench/reference_kpis.json (refused for an installed "
                        "parkgrid: pass --reference)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=_cmd_bench)
