"""Command line: ``parkgrid run SCENARIO.toml`` and friends.

Start-up time: ``parkgrid --help``, ``--version`` and ``schema`` must answer without
loading pandapower, numba, matplotlib or pandas, so this module imports only the
standard library and ``parkgrid.errors`` at the top. Each subcommand imports what it
needs inside its handler function (``_cmd_*``), the one place the layering contract
allows function-level imports.

Adding a subcommand (the pattern that keeps ``--help`` under 0.3 s, issue 17):

1. ``build_parser`` declares its arguments with argparse only (help texts, choices
   and defaults as literals or from light modules: ``parkgrid.errors``,
   ``parkgrid.scenario.schema``, ``parkgrid._format``);
2. its handler ``_cmd_<name>(args)`` starts with the imports of the work, marked
   ``# imported here, not at the top: start-up time of parkgrid --help``;
3. a larger command keeps its parser in its own ``<package>/cli.py`` module that
   imports nothing heavy (as ``bench/cli.py`` and ``sweep/cli.py`` do) and is added
   to ``LAZY_OK`` in ``tests/test_architecture.py``.

``tests/test_cli.py::test_help_version_and_schema_do_not_import_the_engines`` fails
when ``--help`` of any command loads one of its ``HEAVY`` packages (pandapower,
numba, matplotlib, pandas, scipy, dask, highspy, pyarrow, simpy); add the new
command's ``--help`` to its list. ``benchmarks/bench_cli.py`` times it.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import logging
import sys
import time
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
      KPIs changed against the reference (bench), a scenario failed (sweep), a
      branch is under-rated or assets sit on an island (network check), the
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
COMPILE_NOTICE = ("parkgrid: compiling numba kernels: once after installing (about 10-20 s "
                  "on 2 cores), later runs load them from numba's cache")


#: said when a run with a cold cache compiles its kernels in background processes
AHEAD_NOTICE = ("parkgrid: compiling numba kernels in 2 background processes while the run "
                "starts: once after installing, later runs load them from numba's cache")


@contextlib.contextmanager
def compile_notice(enabled: bool = True) -> Iterator[None]:
    """Say on stderr what numba compiles of parkgrid in the block, and how long it took.

    :data:`COMPILE_NOTICE` at the first compile of a parkgrid kernel, so a first run
    does not look hung; then one line per kernel as it finishes (``compiled
    solve_chunk_lanes in 4.1 s``; kernels compiled inside another count in its
    time) and the total at the end. numba raises its ``numba:compile`` event only on
    a cache miss, so a run whose kernels load from the on-disk cache says nothing.
    """
    if not enabled:
        yield
        return
    # imported here, not at the top: start-up time of parkgrid --help
    from numba.core import event

    def ours(ev: event.Event) -> str | None:
        func = getattr(ev.data.get("dispatcher"), "py_func", None)
        module = str(getattr(func, "__module__", ""))
        return getattr(func, "__name__", "?") if module.startswith("parkgrid.") else None

    class _Notice(event.Listener):
        def __init__(self) -> None:
            self.said = False
            self.total = 0.0
            self.started: list[float] = []  # start times of the compiles under way

        def on_start(self, ev: event.Event) -> None:
            self.started.append(time.perf_counter())
            if self.said or ours(ev) is None:
                return
            self.said = True
            print(COMPILE_NOTICE, file=sys.stderr, flush=True)

        def on_end(self, ev: event.Event) -> None:
            took = time.perf_counter() - self.started.pop()
            name = ours(ev)
            if name is None or self.started:  # another's callee: counted in its time
                return
            self.total += took
            print(f"parkgrid:   compiled {name} in {took:.1f} s", file=sys.stderr,
                  flush=True)

    from parkgrid import _ahead

    notice = _Notice()
    with event.install_listener("numba:compile", notice):
        yield
    for family, waited in _ahead.WAITED.items():
        print(f"parkgrid:   waited {waited:.1f} s for the background compile of {family}",
              file=sys.stderr, flush=True)
    _ahead.WAITED.clear()
    for family, (seconds, steps) in _ahead.INTERPRETED.items():
        print(f"parkgrid:   ran {_ahead.LABELS.get(family, family)} as Python for {steps:,} "
              f"steps ({seconds:.1f} s) while it compiled", file=sys.stderr, flush=True)
    _ahead.INTERPRETED.clear()
    if notice.said:
        print(f"parkgrid: compiling took {notice.total:.1f} s (once: cached for later runs)",
              file=sys.stderr, flush=True)


def _say(line: str) -> None:
    """Print *line* to stderr at once (progress for the terminal)."""
    print(line, file=sys.stderr, flush=True)


def _cmd_run(args: argparse.Namespace) -> int:
    from parkgrid._gc import few_collections  # standard library only

    with few_collections():  # the collector rarely, and never over the imports' objects
        try:
            return _run(args)
        finally:
            from parkgrid import _ahead

            _ahead.WHILE_WAITING.clear()  # what this run did not wait for


def _run(args: argparse.Namespace) -> int:
    """``parkgrid run`` inside :func:`~parkgrid._gc.few_collections`."""
    # imported here, not at the top: start-up time of parkgrid --help
    from parkgrid import _ahead

    if _ahead.start():  # a cold cache: compile while this run imports
        if not args.quiet:
            print(AHEAD_NOTICE, file=sys.stderr, flush=True)
            _ahead.SAY = _say
        if not args.no_figure:  # matplotlib imported while the run waits for a compile
            from parkgrid.report.work import preload

            _ahead.WHILE_WAITING.append(functools.partial(preload, report=not args.no_report))
    from parkgrid.report.targets import check_targets
    from parkgrid.scenario import load_scenario
    from parkgrid.simulate import simulate

    gc.freeze()  # what the imports made lives as long as the process
    t_load = time.perf_counter()
    # the network from the network cache: no pandapower where the run needs none
    scenario = load_scenario(args.scenario, cached_network=True)
    t_load = time.perf_counter() - t_load
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
    result.timings = {"load_s": t_load, **result.timings}  # kpis.json: where time went
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


def _cmd_hosting(args: argparse.Namespace) -> int:
    # imported here, not at the top: start-up time of parkgrid --help
    from parkgrid.enforce import NetworkLimits
    from parkgrid.hosting import hosting_capacity
    from parkgrid.plotting import hosting_figure

    if args.figure and Path(args.figure).exists() and not args.overwrite:
        raise ResultExistsError(f"{args.figure} exists; pass --overwrite to replace it")
    buses = [b.strip() for item in args.bus for b in item.split(";") if b.strip()]
    limits = NetworkLimits(vm_min_pu=args.vm_min, vm_max_pu=args.vm_max,
                           loading_max_percent=args.loading_max)
    with compile_notice(not args.quiet):
        res = hosting_capacity(args.scenario, asset=args.asset, buses=buses,
                               start_mw=args.start_mw, max_mw=args.max_mw, tol_mw=args.tol_mw,
                               limits=limits, controls=args.controls, progress=_progress(args))
    t = res.table
    width = max(len(str(b)) for b in t.index)
    print(f"{args.asset.upper()} hosting capacity, whole year, band {limits.vm_min_pu}-"
          f"{limits.vm_max_pu} pu, loading <= {limits.loading_max_percent} % "
          f"(bracket {args.tol_mw} MW; {res.preexisting} element-steps already outside "
          "their limits without the plant are not held against it)")
    for bus, row in t.iterrows():
        if not row["bounded"]:
            print(f"{bus!s:<{width}}  >= {res.max_mw:,.1f} MW  (no limit reached)")
            continue
        sign = "<" if row["quantity"] == "vm_min_pu" else ">"
        print(f"{bus!s:<{width}}  {row['capacity_mw']:>9,.1f} MW  binding at "
              f"{row['first_violation_mw']:,.1f} MW: {row['step']}  {row['element']}  "
              f"{row['quantity']} {row['value']:.7f} {sign} limit {row['limit']:.7f}")
    sys.stdout.flush()
    if not args.quiet:
        print(f"({res.info['total_s']:.2f} s)", file=sys.stderr)
    if args.figure:
        out = Path(args.figure)
        tmp = out.with_name(f".{out.name}.tmp{out.suffix}")
        hosting_figure(t, args.asset, res.max_mw).savefig(tmp, dpi=120)
        tmp.replace(out)
    if args.csv:
        t.to_csv(args.csv)
    return EXIT_OK


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
                          max_gap=args.max_gap, longitude=args.longitude,
                          contracts=args.contracts)
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
    if len(a.products):
        print("\nproduct footprints (kgco2_per_unit; green_share matched per interval):")
        print(a.products.to_string(index=False, float_format=format_number))
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


def _hours(text: str) -> float:
    """Read a window length [h] from the command line: a number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of hours > 0, not {text!r}")
    return value


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
        result = size(sz, optimal=args.optimal, progress=_progress(args), solver=args.solver,
                      second_pass=args.second_pass, window_h=args.window_h)
    result.save(out, overwrite=args.overwrite)
    if not args.quiet:
        print(result.markdown())
        print(f"written to {out}")
    if not result.network_ok:
        print(f"parkgrid: the sized design violates the network (see {out}/violations.csv; "
              f"exit code {EXIT_CHECK_FAILED})", file=sys.stderr)
        return EXIT_CHECK_FAILED
    return EXIT_OK


def _cmd_network_build(args: argparse.Namespace) -> int:
    # imported here, not at the top: start-up time of parkgrid --help
    import pandapower as pp

    from parkgrid.io import atomic_file
    from parkgrid.layout import read_layout

    net = read_layout(args.layout)
    out = Path(args.output or Path(args.layout).with_suffix(".json"))
    with atomic_file(out, overwrite=args.overwrite) as tmp:
        pp.to_json(net, str(tmp))
    if not args.quiet:
        print(f"wrote {out}: {len(net.bus)} buses, {len(net.line)} lines, {len(net.trafo)} "
              f"transformers, {len(net.switch)} switches, {len(net.ext_grid)} ext_grid")
    return EXIT_OK


def _cmd_network_check(args: argparse.Namespace) -> int:
    # imported here, not at the top: start-up time of parkgrid --help
    import copy
    import tomllib

    from parkgrid.errors import ScenarioError, ValidationIssue
    from parkgrid.inputs import asset_ratings
    from parkgrid.layout import check_network
    from parkgrid.network import load_network
    from parkgrid.scenario import scenario_from_dict

    net = load_network(args.network, Path.cwd())
    ratings, grid = None, {}
    if args.scenario:
        path = Path(args.scenario)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ScenarioError([ValidationIssue(str(path), "<file>", str(exc))]) from None
        # the scenario's assets on the network being checked, not on its own network;
        # validated with every switch closed and every branch in service, so that assets
        # behind an open switch reach the check's report ("island with assets")
        closed = copy.deepcopy(net)
        closed.switch["closed"] = True
        for table in ("bus", "line", "trafo"):
            closed[table]["in_service"] = True
        scenario = scenario_from_dict(raw, source=str(path), base_dir=path.resolve().parent,
                                      net=closed)
        ratings = asset_ratings(scenario)
        grid = {"grid_import_mva": scenario.grid.import_limit_mw,
                "grid_export_mva": scenario.grid.export_limit_mw}
    report = check_network(net, ratings, limit_percent=args.limit, **grid)
    if not args.quiet:
        print(f"{args.network}: " + report.text(limit_percent=args.limit))
    return EXIT_OK if report.ok else EXIT_CHECK_FAILED


def _add_network_parser(sub: Any) -> None:
    net = sub.add_parser("network", help="build a network from a layout file; check a network",
                         description="Park networks drawn as TOML layouts (README, 'Drawing "
                                     "a park').")
    cmds = net.add_subparsers(dest="network_command", required=True, metavar="ACTION")
    build = cmds.add_parser("build", help="write a layout's pandapower net as JSON",
                            description="Check a layout file and write its pandapower net "
                                        "(pandapower JSON), atomically.")
    build.add_argument("layout", help="layout file (TOML)")
    build.add_argument("-o", "--output", help="JSON file (default: the layout's name, .json)")
    build.add_argument("--overwrite", action="store_true", help="replace an existing file")
    build.set_defaults(func=_cmd_network_build)
    check = cmds.add_parser(
        "check", help="islands, voltage levels, branch ratings against the assets",
        description="Report islands (buses no ext_grid supplies), voltage-level mismatches "
                    "and, with --scenario, each radial line's and transformer's rating "
                    "against the rated power of the assets beyond it. Exit code 1 if a "
                    "check fails.")
    check.add_argument("network", help="layout (.toml), pandapower JSON, or any network "
                                       "source of a scenario (flagship_park, pandapower:...)")
    check.add_argument("--scenario", help="scenario TOML whose assets are placed on the "
                                          "network's buses (by name) for the ratings")
    check.add_argument("--limit", type=float, default=100.0, metavar="PERCENT",
                       help="highest allowed loading of a branch (default 100)")
    check.set_defaults(func=_cmd_network_check)
    for command in cmds.choices.values():
        _add_output_options(command)


def _cmd_schema(args: argparse.Namespace) -> int:
    if args.kind and args.kind.split(".")[0] == "layout":
        return _schema_layout(args.kind)
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


def _schema_layout(kind: str) -> int:
    """Print the key tables of layout files (``layout`` or ``layout.line`` ...)."""
    # imported here, not at the top: start-up time of parkgrid --help
    from parkgrid.layout import TABLES

    name = kind.partition(".")[2]
    if name and name not in TABLES:
        raise ParkgridError(f"unknown layout table {name!r}; allowed: {', '.join(TABLES)}")
    for key, t in TABLES.items():
        if name and key != name:
            continue
        header = {True: f"[[{key}]]", False: f"[{key}]"}[t.many]
        if key.endswith("_type"):
            header = f'[{key}."NAME"]'
        print(f"{header}   {t.doc}")
        for k in t.keys:
            default = "required" if k.required else "-" if k.default is None else repr(k.default)
            print(f"  {k.name:<20} {k.unit:<8} {default:<10} {k.range_text():<24} {k.doc}")
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
    ass.add_argument("--contracts", help="TOML of [[green_contract]] (ppa, certificates), "
                                         "[carbon] and [[product]] (of load.<name>_kw "
                                         "meters) for the carbon and green-power KPIs; "
                                         "read as data, never run")
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
                                                "e.g. battery, grid.tariff, event; 'layout' "
                                                "or 'layout.line': the keys of layout files")
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
    siz.add_argument("--solver", choices=("auto", "simplex", "ipm", "hipo", "choose"),
                     default="auto",
                     help="HiGHS LP solver (default auto: simplex up to 3,000 steps, "
                          "beyond the HiPO interior point, or IPX without cyhighs)")
    siz.add_argument("--second-pass", choices=("auto", "full", "windows"), default="auto",
                     help="where export pays more than import, the solve after the hull "
                          "bound: 'full' re-solves the whole LP with each step's direction "
                          "fixed, 'windows' keeps the first solve's capacities and re-solves "
                          "the schedule window by window (default auto: full up to 3,000 "
                          "steps, windows beyond)")
    # parkgrid.sizing.lp.WINDOW_H, written out: --help imports no sizing code (a test
    # holds the two equal)
    siz.add_argument("--window-h", type=_hours, default=2190.0,
                     help="window length of --second-pass windows [h] (default 2190, a "
                          "quarter of a year)")
    siz.set_defaults(func=_cmd_size)

    _add_network_parser(sub)
    host = sub.add_parser("hosting", help="hosting capacity of buses over the whole year",
                          description="Largest PV or wind plant each bus takes with every "
                                      "step of the year inside the voltage band and loading "
                                      "limits (bisection on the year-long AC power flow; the "
                                      "plant is added on top of the scenario's dispatch, the "
                                      "grid takes the difference). Prints the binding step, "
                                      "element and limit per bus.")
    host.add_argument("scenario", help="scenario file (TOML)")
    host.add_argument("--asset", choices=("pv", "wind"), default="pv",
                      help="kind of the added plant: its profile and cos phi (default pv)")
    host.add_argument("--bus", action="append", required=True,
                      help="bus name; repeat, or separate names with ';'")
    host.add_argument("--max-mw", type=float, default=1000.0,
                      help="largest capacity tried [MW] (default 1000)")
    host.add_argument("--start-mw", type=float, default=100.0,
                      help="first capacity tried, doubled while it holds [MW] (default 100)")
    host.add_argument("--tol-mw", type=float, default=1.0,
                      help="bisection bracket [MW] (default 1)")
    host.add_argument("--vm-min", type=float, default=0.95, help="voltage band low [pu]")
    host.add_argument("--vm-max", type=float, default=1.05, help="voltage band high [pu]")
    host.add_argument("--loading-max", type=float, default=100.0,
                      help="line and transformer loading limit [%%] (default 100)")
    host.add_argument("--controls", action="store_true",
                      help="with the scenario's tap changer ([powerflow.oltc]) and Q(U) "
                           "inverters in every power flow (whole-year solves, slower)")
    host.add_argument("--figure", help="write a bar chart of capacity per bus (PNG, SVG, PDF)")
    host.add_argument("--csv", help="write the table as CSV")
    host.add_argument("--overwrite", action="store_true", help="replace an existing figure")
    host.set_defaults(func=_cmd_hosting)

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
