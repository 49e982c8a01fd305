"""Figures drawn by two processes: a forked worker and this one, sharing the jobs.

Every figure parkgrid writes goes through :class:`FigureWork`: the dispatch figure and
the report's figures while :meth:`parkgrid.result.Result.save` writes the tables, and
the report's figures when :func:`parkgrid.report.render_report` draws them itself
(``parkgrid report DIR``, ``parkgrid assess``). Drawing is matplotlib's Python code
(text layout, constrained layout, PNG encoding), about 0.3-0.6 s a figure.

Where ``fork`` exists and half a core is idle, :meth:`FigureWork.start` forks one
worker before matplotlib is imported; the worker imports matplotlib and draws while
this process goes on (``Result.save`` writes the tables meanwhile), then this process
joins in at :meth:`FigureWork.finish`. Both take the next figure from a shared counter
until none is left, so the work splits itself by what each figure costs; where the
worker has taken every figure by the time this process joins (``--no-report``: the
dispatch figure alone), this process never imports matplotlib. Without the worker,
this process draws every figure. A figure is the same PNG whichever process draws it
(``test_report``).

Nothing here imports matplotlib at module level: a run without figures needs none.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from parkgrid import _ahead, plotting

__all__ = ["FigureJob", "FigureWork", "idle_cores", "preload"]

log = logging.getLogger(__name__)

#: one figure to draw: its maker (returns a matplotlib ``Figure``), the PNG's dots per
#: inch, and the matplotlib rc parameters it is drawn under
FigureJob = tuple[Callable[[], Any], int, Mapping[str, Any]]


def idle_cores() -> float:
    """Cores not busy by the 1-minute load average (0 where the system cannot tell)."""
    try:
        return (os.cpu_count() or 1) - os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


#: the modules drawing imports first: matplotlib's, PIL's PNG writer, the report's
_DRAWING = ("matplotlib.backends.backend_agg", "matplotlib.figure", "matplotlib.dates",
            "PIL.Image", "PIL.PngImagePlugin")
_REPORT = ("parkgrid.report.html",)


def preload(*, report: bool) -> None:
    """Import what drawing the figures (and the report's, if *report*) needs.

    About 0.6-0.8 s of CPU that each drawing process pays before its first figure.
    Done by a run while it waits for the power flow's compile on its first run
    (:data:`parkgrid._ahead.WHILE_WAITING`), so that this process and the worker it
    forks start drawing at once. Not worth doing otherwise: in a thread beside the
    run it slowed the run by as much (benchmarks/HISTORY.md).
    """
    for name in _DRAWING + (_REPORT if report else ()):
        importlib.import_module(name)


#: the work being drawn, for the forked worker (a fork shares it; the figure makers
#: are closures, which cannot be sent to a process otherwise)
_CURRENT: list[FigureWork] = []


def _draw_in_worker() -> dict[int, bytes]:
    return _CURRENT[0].draw()


class FigureWork:
    """Figures to draw as PNG, shared between this process and a forked worker.

    Parameters
    ----------
    jobs:
        Returns the figures to draw as :data:`FigureJob`, in their order. Called in
        each process when it starts drawing (after the fork, so nothing of matplotlib
        is imported before it), and must give the same list in both.
    progress:
        Show a progress bar while this process waits for the figures.
    """

    def __init__(self, jobs: Callable[[], Sequence[FigureJob]], *,
                 progress: bool = False) -> None:
        self.jobs = jobs
        self.progress = progress
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
        idle = idle_cores() + _ahead.yielding()
        if "fork" not in multiprocessing.get_all_start_methods() or idle < 0.5:
            # on a machine whose cores are all busy the worker only competes with this
            # process (the flagship report took 7.8 s with it against 7.0 s without,
            # load average 6.5 on 2 cores). Half a core, not a whole one: the run
            # itself counts in the load average (runs one after the other hold it
            # near 1 on a machine otherwise idle). A first run's own background
            # compiles at low priority count as idle: they yield to the worker
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

    def draw(self, bar: Any = None) -> dict[int, bytes]:
        """Draw jobs until none is left; returns the PNG of each drawn here by job."""
        import matplotlib as mpl  # here, not at the top: a run without figures needs none

        jobs = self.jobs()
        if self._total is not None:
            self._total.value = len(jobs)
        if bar is not None:
            bar.total = len(jobs)
            bar.refresh()
        out: dict[int, bytes] = {}
        while (i := self._take(len(jobs))) is not None:
            make, dpi, rc = jobs[i]
            with mpl.rc_context(dict(rc)):  # type: ignore[arg-type]
                out[i] = plotting.png_bytes(make(), dpi)
            log.debug("figure %d of %d drawn", i + 1, len(jobs))
            if bar is not None:
                bar.update()
        return out

    def finish(self) -> list[bytes]:
        """Draw this process's share, wait for the worker's; the PNGs in job order."""
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(desc="figures", unit="fig")
        try:
            # nothing to import here if the worker has taken every job already (the
            # dispatch figure alone, drawn while this process wrote the tables)
            done = {} if self._all_taken() else self.draw(bar)
            if self._future is not None:
                theirs = self._future.result()
                if bar is not None:
                    bar.update(len(theirs))
                done.update(theirs)
        finally:
            if bar is not None:
                bar.close()
            if self._pool is not None:
                self._pool.shutdown()
            _CURRENT.clear()
        return [done[k] for k in sorted(done)]
