"""Reports of results: the HTML report, its figures, targets and side-by-side tables."""

from parkgrid.report.compare import compare_kpis, comparison_page, duration_overlay_figure
from parkgrid.report.html import render_report, write_report
from parkgrid.report.targets import TARGETS, TargetCheck, check_targets

__all__ = [
    "TARGETS",
    "TargetCheck",
    "check_targets",
    "compare_kpis",
    "comparison_page",
    "duration_overlay_figure",
    "render_report",
    "write_report",
]
