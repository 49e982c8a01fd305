"""The figures of a results folder, drawn by two processes while the tables are written.

:meth:`parkgrid.result.Result.save` writes the tables (Parquet, on a thread) and draws
the figures: the dispatch figure (``dispatch.png``) and, with the report, the report's
figures. :class:`FigureWork` forks one worker before the tables are written and
before matplotlib is imported, where ``fork`` exists and half a core is idle: the worker
imports matplotlib and draws while this process writes the tables, then this process
joins in. Both take the next figure from a shared counter until none is left, so the
work splits itself by what each figure costs; where the worker has taken every figure
by the time the tables are written (``--no-report``: the dispatch figure alone), this
process never imports matplotlib. Without the worker, this process draws every figure
while a thread writes the tables. A figure is the same PNG whichever process draws
it (``test_report``).

Nothing here imports matplotlib at module level: a run without figures needs none.
"""

from __future__ import annotations

import base64
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import parkgrid.report as reports  # its names on first use: matplotlib only then
from parkgrid import plotting

__all__ = ["FigureWork", "idle_cores"]


def idle_cores() -> float:
    """Cores not busy by the 1-minute load average (0 where the system cannot tell)."""
    try:
        return (os.cpu_count() or 1) - os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


#: the work being drawn, for the forked worker (a fork shares it; the figure makers
#: are closures, which cannot be sent to a process otherwise)
_CURRENT: list[FigureWork] = []


def _draw_in_worker() -> dict[int, bytes]:
    return _CURRENT[0].draw()


class FigureWork:
    """The figures of one results folder: job 0 the dispatch figure, then the report's.

    Parameters
    ----------
    result:
        The :class:`parkgrid.result.Result` being saved.
    dispatch:
        Draw the dispatch figure (:func:`parkgrid.plotting.dispatch_figure`, 110 dpi).
    report:
        Draw the report's figures (:func:`parkgrid.report.html.report_figure_specs`).
    """

    def __init__(self, result: Any, *, dispatch: bool, report: bool) -> None:
        self.result = result
        self.dispatch = dispatch
        self.report = report
        self._next: Any = None  # the shared counter, with the worker
        self._total: Any = None  # the number of jobs, once the worker knows it
        self._local = 0  # the counter without it
        self._pool: ProcessPoolExecutor | None = None
        self._future: Future[dict[int, bytes]] | None = None

    @property
    def forked(self) -> bool:
        """Whether a worker draws a share of the figures."""
        return self._future is not None

    def start(self) -> None:
        """Fork the worker if it pays: call before any thread starts."""
        if not (self.dispatch or self.report):
            return
        if "fork" not in multiprocessing.get_all_start_methods() or idle_cores() < 0.5:
            # on a machine whose cores are all busy the worker only competes with this
            # process (the flagship report took 7.8 s with it against 7.0 s without,
            # load average 6.5 on 2 cores). Half a core, not a whole one: the run
            # itself counts in the load average (runs one after the other hold it
            # near 1 on a machine otherwise idle)
            return
        ctx = multiprocessing.get_context("fork")
        self._next = ctx.Value("i", 0)
        self._total = ctx.Value("i", -1)
        _CURRENT[:] = [self]
        self._pool = ProcessPoolExecutor(1, mp_context=ctx)
        self._future = self._pool.submit(_draw_in_worker)  # forks here

    def _take(self, n: int) -> int | None:
        """Take the next job not yet taken by either process (``None``: all taken)."""
        if self._next is None:
            i, self._local = self._local, self._local + 1
        else:
            with self._next.get_lock():
                i = self._next.value
                self._next.value = i + 1
        return i if i < n else None

    def _all_taken(self) -> bool:
        """Whether the worker knows the jobs and every one is taken."""
        if self._total is None:
            return False
        with self._next.get_lock():
            return 0 <= self._total.value <= self._next.value

    def _jobs(self) -> list[tuple[Callable[[], Any], int, bool]]:
        """(figure maker, dpi, report style) of every job, the same in both processes."""
        jobs: list[tuple[Callable[[], Any], int, bool]] = []
        if self.dispatch:
            jobs.append((lambda: plotting.dispatch_figure(self.result), 110, False))
        if self.report:
            jobs += [(make, 100, True)
                     for _, _, make in reports.report_figure_specs(self.result)[0]]
        return jobs

    def draw(self) -> dict[int, bytes]:
        """Draw jobs until none is left; returns the PNG of each drawn here by job."""
        import matplotlib as mpl  # here, not at the top: a run without figures needs none

        jobs = self._jobs()
        if self._total is not None:
            self._total.value = len(jobs)
        out: dict[int, bytes] = {}
        while (i := self._take(len(jobs))) is not None:
            make, dpi, styled = jobs[i]
            with mpl.rc_context(reports.REPORT_RC if styled else {}):
                out[i] = plotting.png_bytes(make(), dpi)
        return out

    def finish(self) -> tuple[bytes | None, list[str]]:
        """Draw this process's share, wait for the worker's.

        Returns the dispatch figure's PNG (``None`` without it) and the report's
        figures as base64 strings in their order (empty without the report).
        """
        if not (self.dispatch or self.report):
            return None, []  # no figure: matplotlib is never imported
        try:
            # nothing to import here if the worker has taken every job already (the
            # dispatch figure alone, drawn while this process wrote the tables)
            done = {} if self._all_taken() else self.draw()
            if self._future is not None:
                done.update(self._future.result())
        finally:
            if self._pool is not None:
                self._pool.shutdown()
            _CURRENT.clear()
        first = None
        if self.dispatch:
            first = done.pop(0)
        images = [base64.b64encode(done[k]).decode("ascii") for k in sorted(done)]
        return first, images
