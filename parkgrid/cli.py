"""Command line: ``parkgrid run SCENARIO.toml`` and friends.

Start-up time: ``parkgrid --help``, ``--version`` and ``schema`` must answer without
loading pandapower, numba, matplotlib or pandas, so this module imports only the
standard library and ``parkgrid.errors`` at the top. Each subcommand imports what it
needs inside its handler function (``_cmd_*``), the one place the layering contract
allows function-level imports.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

from parkgrid._format import format_number
from parkgrid._version import __version__
from parkgrid.bench.cli import add_bench_parser
from parkgrid.errors import ParkgridError, ResultExistsError
from parkgrid.scenario.schema import ASSET_KINDS, EVENT_TABLES, SECTIONS
from parkgrid.sweep.cli import add_sweep_parser

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_CHECK_FAILED",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_USAGE",
    "build_parser",
    "format_kpis",
    "format_targets",
    "main",
    "parse_args",
]

#: the run finished and every check it makes passed
EXIT_OK = 0
#: the run finished but a checked result failed: a [targets] entry missed (run, assess),
#: a KPI changed against the reference (bench), a sweep scenario failed (sweep)
EXIT_CHECK_FAILED = 1
#: bad input: a refused scenario, network, profile, meter or sweep file, an existing
#: output folder, a file that cannot be read or written; nothing was written
EXIT_BAD_INPUT = 2
#: an unexpected error inside parkgrid (a bug): one line, the traceback with -v
EXIT_INTERNAL = 3
#: the command line itself is wrong: unknown command or option, missing argument
#: (EX_USAGE of BSD sysexits.h, so that it differs from bad input files)
EXIT_USAGE = 64

EXIT_CODES_HELP = f"""\
exit codes:
  {EXIT_OK:<3} success
  {EXIT_CHECK_FAILED:<3} a checked result failed: a [targets] entry was missed (run, assess),
      KPIs changed against the reference (bench), a scenario failed (sweep), the
      sized design violates the network (size)
  {EXIT_BAD_INPUT:<3} bad input: a scenario, network, profile or meter file was refused, the
      output folder exists, a file could not be read or written
  {EXIT_INTERNAL:<3} internal error (a bug in parkgrid): run again with -v for the traceback
  {EXIT_USAGE:<3} usage error: unknown command or option, missing argument (EX_USAGE)

-q and -v work before or after the command: parkgrid -q run park.toml, parkgrid run
park.toml -v. Every command: parkgrid COMMAND --help."""


def format_kpis(kpis: dict[str, float]) -> str:
    """Render KPIs as an aligned text table with units; counts as whole numbers."""
    # imported here, not at the top: start-up time of parkgrid --help
    from parkgrid.kpis import COUNT_KPIS, KPI_INFO

    width = max(len(k) for k in kpis)
    lines = [f"{'KPI':<{width}}  {'value':>16}  unit", "-" * (width + 30)]
    for k, v in kpis.items():
        unit = KPI_INFO.get(k, ("", ""))[0]
        lines.append(f"{k:<{width}}  {format_number(v, count=k in COUNT_KPIS):>16}  {unit}")
    return "\n".join(lines)


def _parse_pf_steps(spec: str, scenario: Any) -> str | tuple[int, ...]:
    """Parse ``--pf-steps`` and check it selects steps of the year, before any work."""
    # imported here, not at the top: start-up time of parkgrid --help
    from parkgrid.timeseries import select_pf_steps

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


#: said once when numba compiles a parkgrid kernel (a cache miss)
COMPILE_NOTICE = ("parkgrid: compiling numba kernels: once after installing, about "
                  "15-20 s; later runs load them from numba's cache")


@contextlib.contextmanager
def compile_notice(enabled: bool = True) -> Iterator[None]:
    """Say :data:`COMPILE_NOTICE` once if numba compiles a parkgrid kernel in the block.

    Printed to stderr at the first such compile, so a first run does not look hung.
    numba raises its ``numba:compile`` event only on a cache miss, so a run whose
    kernels load from the on-disk cache says nothing.
    """
    if not enabled:
        yield
        return
    # imported here, not at the top: start-up time of parkgrid --help
    from numba.core import event

    class _Notice(event.Listener):
        said = False

        def on_start(self, ev: event.Event) -> None:
            if self.said:
                return
            func = getattr(ev.data.get("dispatcher"), "py_func", None)
            if str(getattr(func, "__module__", "")).startswith("parkgrid."):
                self.said = True
                print(COMPILE_NOTICE, file=sys.stderr, flush=True)

        def on_end(self, ev: event.Event) -> None:
            pass

    with event.install_listener("numba:compile", _Notice()):
        yield


def _cmd_run(args: argparse.Namespace) -> int:
    # imported here, not at the top: start-up time of parkgrid --help
    from parkgrid.report.targets import check_targets
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
    with compile_notice(not args.quiet):
        result = simulate(scenario, pf_steps=pf_steps, progress=progress)
    report = not (args.no_figure or args.no_report)
    result.save(out, overwrite=args.overwrite, figure=not args.no_figure, report=report,
                float32=args.float32)
    checks = check_targets(scenario.targets, result.kpis)
    if not args.quiet:
        print(format_kpis(result.kpis))
        targets = format_targets(checks)
        if targets:
            print("\n" + targets)
        times = ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items())
        print(f"\nresults written to {out}  ({times})")
    return _targets_exit_code(checks)


def _targets_exit_code(checks: list[Any]) -> int:
    """:data:`EXIT_CHECK_FAILED` (and a line on stderr) if a target failed, else 0."""
    failed = [c.key for c in checks if c.passed is False]
    if not failed:
        return EXIT_OK
    print(f"parkgrid: {len(failed)} target{'s' * (len(failed) > 1)} not met: "
          f"{', '.join(failed)} (exit code {EXIT_CHECK_FAILED})", file=sys.stderr)
    return EXIT_CHECK_FAILED


def format_targets(checks: list[Any]) -> str:
    """Render target checks (``parkgrid.report.check_targets``) as aligned text."""
    if not checks:
        return ""
    width = max(len(c.key) for c in checks)
    lines = [f"{'target':<{width}}  {'required':>20}  {'reached':>14}  status"]
    for c in checks:
        lines.append(f"{c.key:<{width}}  {c.text:>20}  {format_number(c.value):>14}  {c.status}")
    return "\n".join(lines)


def _progress(args: argparse.Namespace) -> bool:
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def _cmd_report(args: argparse.Namespace) -> int:
    # imported here, not at the top: start-up time of parkgrid --help
    import pandas as pd

    from parkgrid.report import write_report
    from parkgrid.result import load_result

    folder = Path(args.directory)
    out = Path(args.output) if args.output else folder / "report.html"
    if (folder / "sweep.parquet").is_file() and not (folder / "timeseries.parquet").is_file():
        from parkgrid.report.html import render_sweep_report

        out.write_text(render_sweep_report(pd.read_parquet(folder / "sweep.parquet"),
                                           title=f"Sweep {folder.name}"), encoding="utf-8")
        if not args.quiet:
            print(f"sweep report written to {out}")
        return 0
    result = load_result(folder)
    sweep = None
    for name in ("sweep.parquet", "sweep.csv"):
        if (folder / name).is_file():
            sweep = (pd.read_parquet(folder / name) if name.endswith("parquet")
                     else pd.read_csv(folder / name, index_col=0))
            break
    write_report(result, out, sweep=sweep, progress=_progress(args))
    if not args.quiet:
        print(f"report written to {out}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths]
    if len(paths) == 1 and paths[0].suffix == ".toml":
        # one scenario file: its dispatch strategies side by side;
        # imported here, not at the top: start-up time of parkgrid --help
        from parkgrid.compare import compare_scenario_file

        print(compare_scenario_file(paths[0]))
        return 0
    not_dirs = [str(p) for p in paths if not p.is_dir()]
    if not_dirs:
        raise ParkgridError(f"compare: not a result folder: {', '.join(not_dirs)}")
    # imported here, not at the top: start-up time of parkgrid --help
    from parkgrid.compare import compare_results
    from parkgrid.kpis import COUNT_KPIS

    table, _ = compare_results(paths, output=args.output)
    if not args.quiet:
        units = table.pop("unit")
        width = max(len(str(k)) for k in table.index)
        cols = [str(c) for c in table.columns]
        w = max(14, *(len(c) for c in cols))
        print(f"{'KPI':<{width}}  " + "  ".join(f"{c:>{w}}" for c in cols) + "  unit")
        for k, row in table.iterrows():
            cells = "  ".join(f"{format_number(v, count=k in COUNT_KPIS):>{w}}" for v in row)
            print(f"{k!s:<{width}}  {cells}  {units[k]}")
        if args.output:
            print(f"\ncomparison written to {args.output}")
    return 0


def _cmd_assess(args: argparse.Namespace) -> int:
    # imported here, not at the top: start-up time of parkgrid --help
    from parkgrid.assess import MeterDataError, assess_meters, write_assessment

    try:
        a = assess_meters(args.meters, config=args.config, naive_tz=args.tz,
                          max_gap=args.max_gap, longitude=args.longitude)
    except MeterDataError as exc:
        if exc.repairs and not args.quiet:
            print("would have repaired:\n" + "\n".join(f"  - {r}" for r in exc.repairs),
                  file=sys.stderr)
        raise
    print(a.quality_text())
    print()
    print(format_kpis(a.kpis))
    print("\nby month:")
    print(a.monthly.to_string(float_format=format_number))
    checks = a.target_checks()
    targets = format_targets(checks)
    if targets:
        print("\n" + targets)
    if args.output:
        write_assessment(a, args.output)
        print(f"\nassessment written to {args.output}")
    return _targets_exit_code(checks)


def _cmd_export(args: argparse.Namespace) -> int:
    # imported here, not at the top: start-up time of parkgrid --help
    from parkgrid.result import export_csv

    out = export_csv(args.directory, args.output or Path(args.directory) / "csv",
                     overwrite=args.overwrite)
    if not args.quiet:
        print(f"CSV files written to {out}")
    return 0


def _cmd_size(args: argparse.Namespace) -> int:
    # imported here, not at the top: start-up time of parkgrid --help
    from parkgrid.size import size
    from parkgrid.sizing.scenario import load_sizing_scenario

    sz = load_sizing_scenario(args.scenario)
    out = Path(args.output or Path("results") / (Path(args.scenario).stem + "_sized"))
    _check_output_dir(out, overwrite=args.overwrite)  # before the work, not after it
    if not args.quiet:
        names = ", ".join(s.path for s in sz.extendables)
        print(f"parkgrid: sizing {sz.scenario.name!r}: {names}", file=sys.stderr)
    with compile_notice(not args.quiet):
        result = size(sz, optimal=args.optimal, progress=_progress(args), solver=args.solver)
    result.save(out, overwrite=args.overwrite)
    if not args.quiet:
        print(result.markdown())
        print(f"written to {out}")
    if not result.network_ok:
        print(f"parkgrid: the sized design violates the network (see {out}/violations.csv; "
              f"exit code {EXIT_CHECK_FAILED})", file=sys.stderr)
        return EXIT_CHECK_FAILED
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    tables = {**SECTIONS, **ASSET_KINDS, **EVENT_TABLES}
    keys = [args.kind] if args.kind else list(tables)
    for key in keys:
        if key not in tables:
            raise ParkgridError(f"unknown section {key!r}; allowed: {', '.join(tables)}")
        t = tables[key]
        header = f"[[{key}]]" if t.many else f"[{key}]"
        print(f"{header}   {t.doc}" if t.doc else header)
        for f in t.fields:
            default = "required" if f.required else repr(f.default)
            rng = f.range_text()
            print(f"  {f.name:<34} {f.unit or '':<16} {default:<18} {rng:<14} {f.doc}")
        print()
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with its own exit code for usage errors (:data:`EXIT_USAGE`)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _add_output_options(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    """Add ``-q``/``-v`` to *p*; on a subcommand they combine with the ones before it.

    A subcommand parses into a fresh namespace and copies every value over the main
    parser's, so the two levels use different names (``quiet``/``quiet_top``) and
    :func:`main` combines them.
    """
    suffix = "_top" if top else ""
    try:
        p.add_argument("-q", "--quiet", action="store_true", dest="quiet" + suffix,
                       help="print nothing but errors")
    except argparse.ArgumentError:
        pass  # the subcommand has its own -q/--quiet (dest quiet)
    p.add_argument("-v", "--verbose", action="count", default=0, dest="verbose" + suffix,
                   help="more log output (-vv: debug); tracebacks of internal errors")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``parkgrid`` command."""
    p = _Parser(
        prog="parkgrid",
        description="Simulate zero-carbon industrial parks for a whole year at 15-minute\n"
                    "resolution: dispatch, AC power flow, KPIs.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-V", "--version", action="version", version=f"parkgrid {__version__}")
    _add_output_options(p, top=True)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="simulate a scenario for a year and write a results folder",
                         description="Simulate a scenario file for its whole year and write "
                                     "time series (Parquet), kpis.json, the scenario as run and "
                                     "a dispatch figure. Exit code 1 if a [targets] entry is "
                                     "missed (the results are written all the same).")
    run.add_argument("scenario", help="scenario file (TOML)")
    run.add_argument("-o", "--output", help="results folder (default: the scenario's "
                                            "output.dir, else results/<scenario name>)")
    run.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    run.add_argument("--pf-steps", metavar="SPEC",
                     help="power-flow steps: none, all, day:N, week:N, month:N or 0-based "
                          "step numbers separated by commas (default: the scenario's)")
    run.add_argument("--no-figure", action="store_true",
                     help="skip the figure and the report")
    run.add_argument("--no-report", action="store_true", help="skip report.html")
    run.add_argument("--float32", action="store_true",
                     help="store per-bus and per-line power-flow tables as 32-bit floats")
    run.set_defaults(func=_cmd_run)

    rep = sub.add_parser("report", help="write the HTML report of a results folder",
                         description="Write a self-contained HTML report (KPIs with "
                                     "definitions and targets, energy balance, dispatch weeks, "
                                     "storage, carpet plots, duration curves, energy flows, "
                                     "emissions; a Pareto plot if the folder holds sweep.csv).")
    rep.add_argument("directory", help="results folder written by 'parkgrid run' (or a "
                                       "sweep folder: variants and their Pareto plot)")
    rep.add_argument("-o", "--output", help="HTML file (default: DIRECTORY/report.html)")
    rep.set_defaults(func=_cmd_report)

    cmp_ = sub.add_parser("compare", help="compare result folders, or the strategies of a "
                                          "scenario, side by side",
                          description="KPI table of two or more result folders side by side "
                                      "and overlaid duration curves; with one scenario file "
                                      "(.toml), its dispatch strategies side by side.")
    cmp_.add_argument("paths", nargs="+", metavar="DIR",
                      help="result folders, or one SCENARIO.toml")
    cmp_.add_argument("-o", "--output", help="also write an HTML page with table and curves")
    cmp_.set_defaults(func=_cmd_compare)

    ass = sub.add_parser("assess", help="check metered data and compute the KPIs from it",
                         description="Check a meter CSV (gaps, duplicates, negative or "
                                     "implausible values, clock shifts), report what was "
                                     "repaired or refused, and compute the simulation's KPIs "
                                     "with the same definitions, by month too. Exit code 1 "
                                     "if a [targets] entry of --config is missed.")
    ass.add_argument("meters", help="meter CSV: timestamp, pv_mw, wind_mw, consumption_mw, "
                                    "grid_import_mw, grid_export_mw (kW/MWh/kWh units too)")
    ass.add_argument("--config", help="scenario TOML: emission factor, tariff, ratings for "
                                      "plausibility checks, [targets]")
    ass.add_argument("--tz", default=None,
                     help="time zone of naive timestamps (default: the park's local time, "
                          "[scenario] utc_offset_h of --config, else UTC+8)")
    ass.add_argument("--longitude", type=float, default=None,
                     help="longitude of the PV plants [deg E] for the solar-noon clock check "
                          "(default: [scenario] longitude of --config, else Ordos 109.8)")
    ass.add_argument("--max-gap", default="1h", help="longest gap interpolated (default 1h)")
    ass.add_argument("-o", "--output", help="folder for assessment.json, monthly.csv, "
                                            "timeseries.csv and report.html")
    ass.set_defaults(func=_cmd_assess)

    exp = sub.add_parser("export", help="write a results folder as plain CSV files")
    exp.add_argument("directory", help="results folder")
    exp.add_argument("-o", "--output", help="CSV folder (default: DIRECTORY/csv)")
    exp.add_argument("--overwrite", action="store_true", help="replace files in the folder")
    exp.set_defaults(func=_cmd_export)

    schema = sub.add_parser("schema", help="list every scenario key with unit, default, range",
                            description="Print the attribute tables that validate scenario "
                                        "files: every section, asset kind and event table "
                                        "with its keys, units, defaults and allowed ranges.")
    schema.add_argument("kind", nargs="?", help="one section, asset kind or event table, "
                                                "e.g. battery, grid.tariff, event")
    schema.set_defaults(func=_cmd_schema)

    siz = sub.add_parser("size", help="size the extendable capacities, then simulate the "
                                      "sized park (truth check)",
                         description="Capacity-expansion LP over the scenario's full year "
                                     "(keys written {min = ..., max = ...}); then the sized "
                                     "park is simulated with its own strategy, events and AC "
                                     "power flow on every step, and the LP and the simulation "
                                     "are put side by side. Exit code 1 if the sized design "
                                     "violates the network.")
    siz.add_argument("scenario", help="scenario file (TOML) with extendable capacities")
    siz.add_argument("-o", "--output", help="output folder (default: "
                                            "results/<scenario name>_sized)")
    siz.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    siz.add_argument("--optimal", action="store_true",
                     help="also simulate the sized park with strategy 'optimal' (slower)")
    siz.add_argument("--solver", choices=("auto", "simplex", "ipm", "choose"), default="auto",
                     help="HiGHS LP solver (default auto: simplex up to 3,000 steps, "
                          "interior point beyond)")
    siz.set_defaults(func=_cmd_size)

    add_bench_parser(sub)
    add_sweep_parser(sub)
    for command in sub.choices.values():
        _add_output_options(command)
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line; ``-q``/``-v`` given before and after the command combine."""
    args = build_parser().parse_args(argv)
    args.quiet = bool(args.quiet or args.quiet_top)
    args.verbose = args.verbose + args.verbose_top
    del args.quiet_top, args.verbose_top
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``parkgrid`` command; returns the exit code.

    ``--help``, ``--version`` and usage errors raise :class:`SystemExit` (codes 0
    and :data:`EXIT_USAGE`), as argparse does.
    """
    args = parse_args(argv)
    level = logging.ERROR if args.quiet else logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except ParkgridError as exc:
        print(f"parkgrid: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # unwritable or full output folder and the like: no traceback
        logging.getLogger("parkgrid").debug("OS error", exc_info=True)
        print(f"parkgrid: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # a bug: say so in one line, the traceback on request
        if args.verbose:
            traceback.print_exc(file=sys.stderr)
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(f"parkgrid: internal error: {type(exc).__name__}: {first}", file=sys.stderr)
        if not args.verbose:
            print("parkgrid: this is a bug in parkgrid; run the command again with -v for "
                  "the traceback and report it", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
