"""Compile numba kernels ahead, in background processes, on a run with a cold cache.

numba compiles a kernel at its first call and keeps it in its on-disk cache, so
only the first run after installing (or after a kernel's source changed) pays for
it: about 12 s of CPU for the dispatch kernel and 12 s for the power flow's on the
benchmark machine (:data:`COMPILE_CPU_S`). numba
compiles one function at a time under a lock, but separate processes compile side
by side. So a run whose cache is cold starts one process per kernel family
(:func:`start`), which compiles into the shared cache while the run goes on
importing pandapower, reading the scenario and dispatching; before its first call
of a family the run waits for that process (:func:`wait`) and then loads the
kernel from the cache. A warm run starts nothing. If a process fails, the run
compiles the kernel itself, as without this module.

The dispatch is not waited for: while its compile is under way (:func:`compiling`)
the run advances the dispatch with the kernel's own Python source, which gives the
compiled kernel's results bit for bit, and hands over to the compiled kernel once
the compile has finished (:func:`parkgrid.dispatch.core.call_kernel`). The
flagship year takes 0.7-0.9 s that way, where a first run waited 8-9 s. The
dispatch's compile then only serves later runs, so it runs at the lowest CPU
priority (:data:`NICE`) and may outlive the run; the power flow's, which the run
waits for, keeps its cores.

A family is a module whose ``compile_ahead()`` compiles its kernels for the
argument types a run uses; the process imports that module and nothing else of
parkgrid (not the package's ``__init__``, which may import pandapower).
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import logging
import os
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

from parkgrid._gc import few_collections

log = logging.getLogger(__name__)

__all__ = ["COMPILE_CPU_S", "DISPATCH", "FAMILIES", "INTERPRETED", "LABELS", "NICE", "POWERFLOW",
           "SAY", "WAITED", "WHILE_WAITING", "cold", "command", "compile_family", "compiling",
           "import_bare", "interpreted", "start", "wait", "yielding"]

#: the kernel families: the dispatch kernel, the power flow's fixed-point solver
DISPATCH = "parkgrid.dispatch.core"
POWERFLOW = "parkgrid.powerflow._kernel_args"
FAMILIES = (DISPATCH, POWERFLOW)

#: what each family compiles, for the terminal
LABELS = {DISPATCH: "the dispatch kernel", POWERFLOW: "the power-flow kernel"}
#: CPU seconds each family's compile takes: ``benchmarks/bench_compile.py``, AMD EPYC
#: 2 cores, 7 Dec 2026 (dispatch 12.6 s; power flow 11-13 s); an estimate for the
#: terminal, not a limit
COMPILE_CPU_S = {DISPATCH: 12.6, POWERFLOW: 12.0}

#: the ``nice`` increment of a family's background compile (none if not listed). The
#: dispatch's compile takes the lowest priority: the run advances the dispatch as
#: Python meanwhile (:func:`parkgrid.dispatch.core.call_kernel`), so that compile only
#: serves later runs, and it yields the cores to the run and to the power flow's
#: compile, which the run waits for
NICE = {DISPATCH: 19}

#: background compiles under way: family -> (process, its start [time.perf_counter])
_PENDING: dict[str, tuple[subprocess.Popen[bytes], float]] = {}
#: seconds a run waited for each family's background compile (for the terminal)
WAITED: dict[str, float] = {}
#: seconds a run spent in a family's kernels run as Python (:func:`interpreted`),
#: and the steps they advanced, for the terminal
INTERPRETED: dict[str, list[float]] = {}
#: work a run can do while it waits for a compile, such as importing what it needs
#: after the kernel (``parkgrid run`` imports matplotlib for its figures): called
#: the first time :func:`wait` really waits, then dropped
WHILE_WAITING: list[Callable[[], object]] = []
#: called with a line for the terminal when a run starts waiting for a compile
#: still under way (the command line sets it; a library caller hears nothing)
SAY: Callable[[str], None] | None = None


def cold(dispatcher: object) -> bool:
    """Tell whether numba's on-disk cache holds no compiled version of *dispatcher*.

    Reads the kernel's cache index (numba's own file; a private interface, so any
    surprise counts as "not cold" and the run compiles in process as before).
    """
    try:
        index = dispatcher._cache._cache_file._load_index()  # type: ignore[attr-defined]
    except Exception:  # numba internals changed: do nothing ahead
        return False
    return not index


def start() -> list[str]:
    """Start compiling every family in background processes if the cache is cold.

    The dispatch kernel, which every run calls, stands for all: its cache is cold
    after installing or upgrading, when all are. Nothing starts on a single core
    or while compiles are under way. Returns the families started.
    """
    if _PENDING or (os.cpu_count() or 1) < 2:
        return []
    kernels = importlib.import_module("parkgrid.dispatch.kernels")
    if not cold(kernels.advance):
        return []
    for family in FAMILIES:
        _PENDING[family] = (subprocess.Popen(
            command(family), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL), time.perf_counter())
    return list(FAMILIES)


def command(family: str) -> list[str]:
    """Return the command of *family*'s background compile: this parkgrid, whatever the cwd.

    ``python -c`` puts the working directory first on ``sys.path``, so a run started
    in a checkout of parkgrid next to an installed copy (the README's quick start:
    ``pip install .`` then ``parkgrid run`` from the repository root) would compile
    the checkout's kernels, into the checkout's cache, and the run would then compile
    its own again. The code therefore puts this parkgrid's folder first itself.
    """
    root = str(Path(__file__).resolve().parents[1])
    code = (f"import sys; sys.path.insert(0, {root!r}); "
            f"import parkgrid._ahead as a; a.compile_family({family!r})")
    return [sys.executable, "-c", code]


def compiling(family: str) -> bool:
    """Tell whether *family*'s background compile is still under way.

    ``False`` where none was started or where it has finished (then :func:`wait`
    returns at once).
    """
    pending = _PENDING.get(family)
    return pending is not None and pending[0].poll() is None


def yielding() -> int:
    """Count this run's background compiles still running at a lower priority (:data:`NICE`).

    They count in the load average but leave their cores to any process of normal
    priority, such as a forked figure worker (:meth:`parkgrid.report.work.FigureWork.start`).
    """
    return sum(1 for family, (proc, _) in _PENDING.items()
               if NICE.get(family) and proc.poll() is None)


def interpreted(family: str, seconds: float, steps: int) -> None:
    """Count *seconds* and *steps* a run advanced in *family*'s kernels as Python.

    The first time, tell :data:`SAY` that the run goes on in Python meanwhile.
    """
    if family not in INTERPRETED and SAY is not None:
        SAY(f"parkgrid:   running {LABELS.get(family, family)} as Python while it compiles "
            "in the background (the same results, slower; the compiled kernel takes over "
            "when ready)")
    total = INTERPRETED.setdefault(family, [0.0, 0])
    total[0] += seconds
    total[1] += steps


def wait(family: str, kernel: object = None) -> float:
    """Wait for *family*'s background compile, if one is under way; return the seconds waited.

    If it is still running, first tell :data:`SAY` what the run waits for, how long
    the compile has run and about how long such a compile takes. Not if numba's
    cache already holds *kernel* (a dispatcher of the family): an earlier run's
    compile, still finishing the family's other kernels when this run started it
    again, has filled it.
    """
    pending = _PENDING.pop(family, None)
    if pending is None:
        return 0.0
    proc, started = pending
    if kernel is not None and proc.poll() is None and not cold(kernel):
        return 0.0  # the compile goes on, to no purpose, and leaves the cache as it is
    t0 = time.perf_counter()
    if SAY is not None and proc.poll() is None:
        SAY(f"parkgrid:   waiting for the background compile of {LABELS.get(family, family)} "
            f"(running for {t0 - started:.0f} s; about {COMPILE_CPU_S.get(family, 10.0):.0f} s "
            "of CPU in all, longer while other processes share the cores)")
    while WHILE_WAITING and proc.poll() is None:
        work = WHILE_WAITING.pop(0)
        try:
            work()
        except Exception:  # only a head start: whatever needs it does it again later
            log.debug("work while waiting for %s failed", family, exc_info=True)
    proc.wait()
    WAITED[family] = time.perf_counter() - t0
    return WAITED[family]


def compile_family(family: str) -> None:
    """Compile *family*'s kernels (its ``compile_ahead()``): the background process's job.

    numba's compile allocates as much as a run: the garbage collector runs rarely and
    skips the imported modules' objects (:func:`parkgrid._gc.few_collections`).
    """
    if NICE.get(family) and hasattr(os, "nice"):  # POSIX
        os.nice(NICE[family])
    with few_collections():
        module = import_bare(family)
        gc.freeze()
        module.compile_ahead()


def import_bare(family: str) -> types.ModuleType:
    """Import the module *family* without running its packages' ``__init__``.

    The packages between ``parkgrid`` and the module become bare namespaces, so the
    module's own imports still resolve; its kernels keep their module names and
    source files, hence numba's cache entries.
    """
    parts = family.split(".")
    for i in range(2, len(parts)):
        name = ".".join(parts[:i])
        if name not in sys.modules:
            spec = importlib.util.find_spec(name)
            assert spec is not None and spec.submodule_search_locations is not None
            pkg = types.ModuleType(name)
            pkg.__path__ = list(spec.submodule_search_locations)
            sys.modules[name] = pkg
    return importlib.import_module(family)
