"""Command line: ``parkgrid run SCENARIO.toml`` and friends."""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path
from typing import Any

from parkgrid.errors import ParkgridError, ResultExistsError

__all__ = ["main"]


def _fmt(v: float) -> str:
    if isinstance(v, float) and math.isnan(v):
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.4f}"


def format_kpis(kpis: dict[str, float]) -> str:
    """Render KPIs as an aligned text table with units."""
    from parkgrid.kpis import KPI_INFO

    width = max(len(k) for k in kpis)
    lines = [f"{'KPI':<{width}}  {'value':>16}  unit", "-" * (width + 30)]
    for k, v in kpis.items():
        unit = KPI_INFO.get(k, ("", ""))[0]
        lines.append(f"{k:<{width}}  {_fmt(v):>16}  {unit}")
    return "\n".join(lines)


def _parse_pf_steps(spec: str, scenario: Any) -> str | tuple[int, ...]:
    """Parse ``--pf-steps`` and check it selects steps of the year, before any work."""
    from parkgrid.simulate import select_pf_steps

    try:
        steps = (tuple(int(x) for x in spec.split(",")) if spec.strip()[:1].isdigit()
                 else spec.strip())
        select_pf_steps(steps, scenario.profiles.index)
    except ValueError as exc:
        msg = str(exc).removeprefix("powerflow.steps: ")
        raise ParkgridError(f"--pf-steps {spec!r}: {msg}") from None
    return steps


def _check_output_dir(out: Path, *, overwrite: bool) -> None:
    """Refuse an existing folder without --overwrite, and any folder but a result with it.

    ``--overwrite`` replaces the whole folder, so a mistyped ``-o`` (``.``, a project
    or home folder) would delete it: only an empty folder or one holding a parkgrid
    result (``kpis.json``) is replaced.
    """
    if out.name in {"", ".", ".."}:
        raise ParkgridError(f"output folder {str(out)!r}: name a results folder of its "
                            "own (-o), e.g. results/run1")
    if not out.exists():
        return
    if not overwrite:
        raise ResultExistsError(f"{out} already exists; choose another folder (-o) or pass "
                                "--overwrite")
    if not out.is_dir() or not ((out / "kpis.json").is_file() or not any(out.iterdir())):
        raise ResultExistsError(f"{out} is not a parkgrid results folder (no kpis.json); "
                                "refusing to replace it even with --overwrite")


def _cmd_run(args: argparse.Namespace) -> int:
    from parkgrid.scenario import load_scenario
    from parkgrid.simulate import simulate

    scenario = load_scenario(args.scenario)
    out = Path(args.output or scenario.output_dir or Path("results") / Path(args.scenario).stem)
    if not out.is_absolute() and not args.output and scenario.output_dir:
        out = scenario.base_dir / out
    _check_output_dir(out, overwrite=args.overwrite)  # before the work, not after it
    pf_steps = None if args.pf_steps is None else _parse_pf_steps(args.pf_steps, scenario)
    progress = not args.quiet and sys.stderr.isatty()
    if not args.quiet:
        n_steps = 0 if scenario.profiles is None else len(scenario.profiles)
        print(f"parkgrid: simulating {scenario.name!r} ({n_steps} steps, "
              f"strategy {scenario.strategy})", file=sys.stderr)
    result = simulate(scenario, pf_steps=pf_steps, progress=progress)
    result.save(out, overwrite=args.overwrite, figure=not args.no_figure)
    if not args.quiet:
        print(format_kpis(result.kpis))
        times = ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items())
        print(f"\nresults written to {out}  ({times})")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from parkgrid.scenario.schema import ASSET_KINDS, SECTIONS

    tables = {**SECTIONS, **ASSET_KINDS}
    keys = [args.kind] if args.kind else list(tables)
    for key in keys:
        if key not in tables:
            raise ParkgridError(f"unknown section {key!r}; allowed: {', '.join(tables)}")
        t = tables[key]
        print(f"[[{key}]]" if t.many else f"[{key}]", f"  {t.doc}" if t.doc else "")
        for f in t.fields:
            default = "required" if f.required else repr(f.default)
            rng = f.range_text()
            print(f"  {f.name:<34} {f.unit or '':<16} {default:<18} {rng:<14} {f.doc}")
        print()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``parkgrid`` command."""
    p = argparse.ArgumentParser(
        prog="parkgrid",
        description="Simulate zero-carbon industrial parks for a whole year at 15-minute "
                    "resolution: dispatch, AC power flow, KPIs.",
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="simulate a scenario for a year and write a results folder",
                         description="Simulate a scenario file for its whole year and write "
                                     "time series (Parquet), kpis.json, the scenario as run and "
                                     "a dispatch figure.")
    run.add_argument("scenario", help="scenario file (TOML)")
    run.add_argument("-o", "--output", help="results folder (default: the scenario's "
                                            "output.dir, else results/<scenario name>)")
    run.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    run.add_argument("--pf-steps", metavar="SPEC",
                     help="power-flow steps: none, all, day:N, week:N, month:N or 0-based "
                          "step numbers separated by commas (default: the scenario's)")
    run.add_argument("--no-figure", action="store_true", help="skip the figure")
    run.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    run.set_defaults(func=_cmd_run)

    schema = sub.add_parser("schema", help="list every scenario key with unit, default, range")
    schema.add_argument("kind", nargs="?", help="one section or asset kind, e.g. battery")
    schema.set_defaults(func=_cmd_schema)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``parkgrid`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING - 10 * min(args.verbose, 2),
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except ParkgridError as exc:
        print(f"parkgrid: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # unwritable or full output folder and the like: no traceback
        logging.getLogger("parkgrid").debug("OS error", exc_info=True)
        print(f"parkgrid: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
