"""``parkgrid sweep SWEEP.toml [-o DIR]``: the command-line side of sweeps."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_sweep_parser"]


def _cmd_sweep(args: argparse.Namespace) -> int:
    from parkgrid.sweep.run import run_sweep
    from parkgrid.sweep.spec import load_sweep

    if getattr(args, "verbose", 0) < 2:
        # a local scheduler runs in this process and logs every connection at INFO;
        # distributed sets that level when imported, so import it first
        try:
            import distributed  # noqa: F401
        except ImportError:
            pass  # run_sweep says what to install
        logging.getLogger("distributed").setLevel(logging.WARNING)
    spec = load_sweep(args.sweep)
    out = Path(args.output or Path("results") / Path(args.sweep).stem)
    n = len(spec.scenarios())
    if not args.quiet:
        where = args.scheduler or f"a local cluster of {args.workers or 'all'} worker processes"
        print(f"parkgrid: sweep {spec.name!r}: {n} scenarios ({spec.sampling}) on {where}",
              file=sys.stderr)
    outcome = run_sweep(spec, out, scheduler=args.scheduler, n_workers=args.workers,
                        resume=args.resume, overwrite=args.overwrite,
                        progress=not args.quiet and sys.stderr.isatty(),
                        figure=not args.no_figure, batch=args.batch)
    if not args.quiet:
        ok = len(outcome.table) - outcome.n_failed
        rate = outcome.n_run / outcome.wall_s if outcome.wall_s > 0 and outcome.n_run else 0.0
        print(f"{ok} ok, {outcome.n_failed} failed, {outcome.n_skipped} skipped (already done); "
              f"{outcome.n_run} run in {outcome.wall_s:.1f} s ({rate:.2f} scenarios/s)")
        failed = outcome.table[outcome.table["status"] != "ok"]
        for _, row in failed.head(10).iterrows():
            first = str(row["error"]).splitlines()[0] if row["error"] else ""
            print(f"  failed: scenario {row['scenario']} ({row['key']}): {first}")
        if len(failed) > 10:
            print(f"  ... and {len(failed) - 10} more (see the error column)")
        print(f"results written to {out} (sweep.parquet, pareto.png, sweep.json)")
    return 1 if outcome.n_failed else 0


def add_sweep_parser(sub: Any) -> None:
    """Add the ``sweep`` subcommand to the subparsers *sub* of the parkgrid command."""
    p = sub.add_parser(
        "sweep", help="run many variants of a scenario on a dask cluster",
        description="Run a base scenario with varied parameters (grid, random or "
                    "Latin-hypercube sampling) on dask.distributed: a local cluster by "
                    "default, or an existing scheduler. Writes a tidy Parquet table (one row "
                    "per scenario: parameters, status, KPIs) and a Pareto figure. Exit code "
                    "1 if any scenario failed (each is recorded with its error).")
    p.add_argument("sweep", help="sweep file (TOML), e.g. examples/flagship_sweep.toml")
    p.add_argument("-o", "--output", help="output folder (default: results/<sweep file name>)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="dask scheduler of an existing cluster, e.g. tcp://10.0.0.1:8786 "
                        "(default: start a local cluster)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="worker processes of the local cluster (default: all cores)")
    p.add_argument("--batch", type=int, default=1, metavar="N",
                   help="scenarios per dask task (default 1; e.g. 10-50 on clusters of "
                        "hundreds of workers, to spare the scheduler)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted sweep in the output folder: scenarios "
                        "already written ok are skipped, failed ones are tried again")
    p.add_argument("--overwrite", action="store_true", help="discard the output folder's "
                                                            "results and start again")
    p.add_argument("--no-figure", action="store_true", help="skip pareto.png")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=_cmd_sweep)
