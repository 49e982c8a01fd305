"""The benchmark suite: named cases, their timings, reference KPIs and comparisons.

``parkgrid bench [CASES...]`` runs it from the command line; from Python::

    from parkgrid.bench import run_suite, select_cases
    run = run_suite(select_cases(None, quick=True))

The names below are imported on first use (``parkgrid._lazy``), so that
building the command line does not load pandapower.
"""

from typing import TYPE_CHECKING

from parkgrid._lazy import export_lazily

if TYPE_CHECKING:
    from parkgrid.bench.cases import (
        CASES,
        QUICK,
        SUITE_VERSION,
        BenchCase,
        load_case,
        select_cases,
    )
    from parkgrid.bench.compare import (
        REFERENCE_PATH,
        check_reference,
        compare_runs,
        format_table,
        load_reference,
        reference_from_run,
    )
    from parkgrid.bench.runner import machine_info, package_versions, run_case, run_suite
    from parkgrid.bench.synthetic import replicated_grid

export_lazily(__name__, {
    "parkgrid.bench.cases": ("CASES", "QUICK", "SUITE_VERSION", "BenchCase", "load_case",
                             "select_cases"),
    "parkgrid.bench.compare": ("REFERENCE_PATH", "check_reference", "compare_runs",
                               "format_table", "load_reference", "reference_from_run"),
    "parkgrid.bench.runner": ("machine_info", "package_versions", "run_case", "run_suite"),
    "parkgrid.bench.synthetic": ("replicated_grid",),
})

__all__ = [
    "CASES",
    "QUICK",
    "REFERENCE_PATH",
    "SUITE_VERSION",
    "BenchCase",
    "check_reference",
    "compare_runs",
    "format_table",
    "load_case",
    "load_reference",
    "machine_info",
    "package_versions",
    "reference_from_run",
    "replicated_grid",
    "run_case",
    "run_suite",
    "select_cases",
]
