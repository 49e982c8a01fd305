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

A family is a module whose ``compile_ahead()`` compiles its kernels for the
argument types a run uses; the process imports that module and nothing else of
parkgrid (not the package's ``__init__``, which may import pandapower).
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

from parkgrid._gc import few_collections

__all__ = ["COMPILE_CPU_S", "DISPATCH", "FAMILIES", "LABELS", "POWERFLOW", "SAY", "WAITED",
           "cold", "command", "compile_family", "import_bare", "start", "wait"]

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

#: background compiles under way: family -> (process, its start [time.perf_counter])
_PENDING: dict[str, tuple[subprocess.Popen[bytes], float]] = {}
#: seconds a run waited for each family's background compile (for the terminal)
WAITED: dict[str, float] = {}
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


def wait(family: str) -> float:
    """Wait for *family*'s background compile, if one is under way; return the seconds waited.

    If it is still running, first tell :data:`SAY` what the run waits for, how long
    the compile has run and about how long such a compile takes.
    """
    pending = _PENDING.pop(family, None)
    if pending is None:
        return 0.0
    proc, started = pending
    t0 = time.perf_counter()
    if SAY is not None and proc.poll() is None:
        SAY(f"parkgrid:   waiting for the background compile of {LABELS.get(family, family)} "
            f"(running for {t0 - started:.0f} s; about {COMPILE_CPU_S.get(family, 10.0):.0f} s "
            "of CPU in all, longer while other processes share the cores)")
    proc.wait()
    WAITED[family] = time.perf_counter() - t0
    return WAITED[family]


def compile_family(family: str) -> None:
    """Compile *family*'s kernels (its ``compile_ahead()``): the background process's job.

    numba's compile allocates as much as a run: the garbage collector runs rarely and
    skips the imported modules' objects (:func:`parkgrid._gc.few_collections`).
    """
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
