"""Reports of results: the HTML report, its figures, targets and side-by-side tables.

The names are imported on first use (:mod:`parkgrid._lazy`): checking targets
needs no matplotlib, so a run without figures never imports it.
"""

from typing import TYPE_CHECKING

from parkgrid._lazy import export_lazily

if TYPE_CHECKING:
    from parkgrid.report.compare import (
        compare_kpis,
        comparison_page,
        duration_overlay_figure,
    )
    from parkgrid.report.html import (
        REPORT_RC,
        render_report,
        report_figure_jobs,
        report_figure_specs,
        write_report,
    )
    from parkgrid.report.targets import TARGETS, TargetCheck, check_targets

export_lazily(__name__, {
    "parkgrid.report.compare": ("compare_kpis", "comparison_page", "duration_overlay_figure"),
    "parkgrid.report.html": ("REPORT_RC", "render_report", "report_figure_jobs",
                             "report_figure_specs", "write_report"),
    "parkgrid.report.targets": ("TARGETS", "TargetCheck", "check_targets"),
})

__all__ = [
    "REPORT_RC",
    "TARGETS",
    "TargetCheck",
    "check_targets",
    "compare_kpis",
    "comparison_page",
    "duration_overlay_figure",
    "render_report",
    "report_figure_jobs",
    "report_figure_specs",
    "write_report",
]
