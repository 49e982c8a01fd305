"""Compiling the kernels ahead, in background processes, on a run with a cold cache."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from park_strategies import parks

from parkgrid import _ahead
from parkgrid.dispatch import DispatchInputs, run_dispatch
from parkgrid.dispatch.kernels import STRATEGY_CODES, advance, advance_signature

ROOT = Path(__file__).resolve().parents[1]


def test_dispatch_compiles_ahead_the_types_a_run_uses() -> None:
    n = 8
    inputs = DispatchInputs(res_mw=np.linspace(0, 5, n), load_mw=np.full(n, 2.0),
                            import_limit_mw=10.0, export_limit_mw=10.0,
                            bat_p_mw=[1.0], bat_e_mwh=[2.0], bat_eta_charge=[0.95],
                            bat_eta_discharge=[0.95], bat_soc_min_pu=[0.1],
                            bat_soc_max_pu=[0.9], bat_soc_initial_pu=[0.5])
    run_dispatch(inputs)
    assert advance.signatures == [advance_signature()]


def _python(code: str, cache_dir: Path, path: Path | None = None) -> str:
    pythonpath = os.pathsep.join(str(p) for p in (ROOT, path) if p is not None)
    env = {**os.environ, "PYTHONPATH": pythonpath, "NUMBA_CACHE_DIR": str(cache_dir)}
    return subprocess.run([sys.executable, "-c", code], env=env, check=True,
                          capture_output=True, text=True).stdout


PROBE_MODULE = """
import numba

@numba.njit(cache=True)
def twice(x):
    return 2 * x

def compile_ahead():
    twice.compile((numba.int64,))
"""


def test_cold_cache_is_seen_and_a_family_compile_fills_it(tmp_path) -> None:
    """An empty cache is cold; a family compiled ahead (here a one-line kernel, not
    the real ones: seconds each) fills it, and the next process finds it warm."""
    (tmp_path / "ahead_probe.py").write_text(PROBE_MODULE)
    cache = tmp_path / "cache"
    probe = "from parkgrid import _ahead; import ahead_probe as m; print(_ahead.cold(m.twice))"
    assert _python(probe, cache, tmp_path).strip() == "True"
    _python("from parkgrid import _ahead; _ahead.compile_family('ahead_probe')", cache, tmp_path)
    assert _python(probe, cache, tmp_path).strip() == "False"
    real = ("from parkgrid import _ahead; from parkgrid.dispatch.kernels import advance; "
            "print(_ahead.cold(advance))")
    assert _python(real, cache).strip() == "True"  # nothing of parkgrid's was compiled


def test_power_flow_family_imports_without_pandapower(tmp_path) -> None:
    """The background process imports the power-flow family without
    parkgrid.powerflow's ``__init__``, so it does not load pandapower."""
    out = _python("import sys; from parkgrid import _ahead; "
                  f"m = _ahead.import_bare({_ahead.POWERFLOW!r}); "
                  "print('pandapower' in sys.modules, len(m.lanes_signature()))", tmp_path)
    assert out.split() == ["False", "12"]


def test_a_run_waiting_for_a_compile_says_what_and_how_long(monkeypatch) -> None:
    """A run that reaches a family whose background compile is still running says
    so (what, for how long it has run, about how long it takes), then waits; one
    that finds the compile finished waits silently."""
    said: list[str] = []
    monkeypatch.setattr(_ahead, "SAY", said.append)
    slow = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    monkeypatch.setitem(_ahead._PENDING, _ahead.DISPATCH, (slow, 0.0))
    monkeypatch.setitem(_ahead._PENDING, _ahead.POWERFLOW, (done, 0.0))
    monkeypatch.setattr(_ahead, "WAITED", {})
    assert _ahead.wait(_ahead.DISPATCH) > 0.0
    assert slow.returncode == 0
    assert _ahead.wait(_ahead.POWERFLOW) >= 0.0
    assert _ahead.wait(_ahead.POWERFLOW) == 0.0  # nothing pending any more
    assert len(said) == 1
    assert "the dispatch kernel" in said[0] and "running for" in said[0]
    assert f"about {_ahead.COMPILE_CPU_S[_ahead.DISPATCH]:.0f} s of CPU" in said[0]


def test_background_compile_imports_this_parkgrid_from_any_working_directory(tmp_path) -> None:
    # a run started in a checkout next to an installed copy (the README's quick start)
    # must compile the copy it runs, not the checkout ``python -c`` would find first
    decoy = tmp_path / "parkgrid"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise SystemExit('decoy parkgrid imported')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # a module without compile_ahead(): the child gets as far as compile_family
    proc = subprocess.run(_ahead.command("parkgrid._version"), cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert "decoy" not in proc.stderr
    assert "compile_ahead" in proc.stderr and proc.returncode == 1


def test_a_family_compiles_with_the_collector_rarely_and_the_imports_frozen(monkeypatch):
    """compile_family runs the family's compile_ahead() with the youngest generation's
    threshold raised and the imports frozen, and restores the collector after."""
    import gc
    import types

    from parkgrid import _ahead, _gc

    seen = {}

    def compile_ahead():
        seen["threshold"] = gc.get_threshold()
        seen["frozen"] = gc.get_freeze_count()

    monkeypatch.setattr(_ahead, "import_bare",
                        lambda family: types.SimpleNamespace(compile_ahead=compile_ahead))
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    _ahead.compile_family("parkgrid.anything")
    assert seen["threshold"][0] == _gc.RUN_GC_THRESHOLD and seen["frozen"] > 10_000
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


class _Compiling:
    """A background compile, as ``_ahead`` sees it, that finishes after *polls* looks."""

    def __init__(self, polls: int) -> None:
        self.polls = polls

    def poll(self) -> int | None:
        self.polls -= 1
        return None if self.polls >= 0 else 0

    def wait(self) -> int:
        return 0


@settings(max_examples=60, deadline=None)
@given(parks(), st.sampled_from(sorted(STRATEGY_CODES)), st.integers(0, 4),
       st.integers(1, 20))
def test_a_run_advances_the_dispatch_as_python_while_it_compiles_bit_for_bit(
        inputs: DispatchInputs, strategy: str, polls: int, chunk: int) -> None:
    """While the dispatch compiles in the background, the kernel's own Python advances
    the steps, *chunk* at a time, until the compile has finished (after *polls* looks);
    the compiled kernel does the rest. Every output equals the compiled kernel's alone,
    bit for bit, wherever the steps are split."""
    from parkgrid.dispatch import core
    from parkgrid.dispatch import kernels as K

    class Spy:  # the steps each of the kernel's two forms advanced
        def __init__(self) -> None:
            self.python = self.compiled = 0

        def __call__(self, t0, t1, *args):
            self.compiled += t1 - t0
            advance(t0, t1, *args)

        def py_func(self, t0, t1, *args):
            self.python += t1 - t0
            advance.py_func(t0, t1, *args)

    compiled = run_dispatch(inputs, strategy)
    said: list[str] = []
    spy = Spy()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(K, "advance", spy)
        mp.setattr(_ahead, "INTERPRETED", {})
        mp.setattr(_ahead, "SAY", said.append)
        mp.setattr(core, "INTERPRETED_STEPS", chunk)
        mp.setitem(_ahead._PENDING, _ahead.DISPATCH, (_Compiling(polls), 0.0))
        mixed = run_dispatch(inputs, strategy)
        # one look when the outputs are allocated, then one before each chunk
        in_python = min(inputs.n_steps, max(polls - 1, 0) * chunk)
        assert _ahead.INTERPRETED.get(_ahead.DISPATCH, [0.0, 0])[1] == in_python
        assert (spy.python, spy.compiled) == (in_python, inputs.n_steps - in_python)
        assert len(said) == (1 if in_python else 0)
    for f in dataclasses.fields(compiled):
        a, b = getattr(compiled, f.name), getattr(mixed, f.name)
        assert np.array_equal(a, b, equal_nan=True), f.name


def test_a_finished_compile_of_a_warm_kernel_is_not_waited_for(monkeypatch) -> None:
    """A compile started again while an earlier run's still fills the cache: the run
    finds its kernel warm and goes on without waiting."""

    class Forever(_Compiling):
        def wait(self) -> int:
            raise AssertionError("waited for a compile of a warm kernel")

    run_dispatch(DispatchInputs(res_mw=[1.0], load_mw=[0.5], import_limit_mw=1.0,
                                export_limit_mw=1.0))  # advance is in the cache now
    monkeypatch.setitem(_ahead._PENDING, _ahead.DISPATCH, (Forever(10**9), 0.0))
    assert _ahead.wait(_ahead.DISPATCH, advance) == 0.0
    assert _ahead.DISPATCH not in _ahead._PENDING


def test_the_dispatch_compiles_in_the_background_at_the_lowest_priority(monkeypatch) -> None:
    import types

    niced: list[int] = []
    monkeypatch.setattr(os, "nice", niced.append, raising=False)
    monkeypatch.setattr(_ahead, "import_bare",
                        lambda family: types.SimpleNamespace(compile_ahead=lambda: None))
    _ahead.compile_family(_ahead.DISPATCH)
    _ahead.compile_family(_ahead.POWERFLOW)
    assert niced == [19]  # the power flow's compile, which the run waits for, keeps its


def test_a_run_does_its_waiting_work_while_a_compile_runs_and_only_then() -> None:
    """WHILE_WAITING work is done once, the first time a run really waits; a
    failure in it is not the run's; a finished compile is not waited for at all."""
    done: list[str] = []

    def fails() -> None:
        done.append("fails")
        raise ImportError("no matplotlib here")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_ahead, "WHILE_WAITING", [fails, lambda: done.append("imports")])
        mp.setitem(_ahead._PENDING, _ahead.POWERFLOW, (_Compiling(0), 0.0))  # finished
        assert _ahead.wait(_ahead.POWERFLOW) >= 0.0
        assert done == [] and len(_ahead.WHILE_WAITING) == 2
        mp.setitem(_ahead._PENDING, _ahead.POWERFLOW, (_Compiling(10), 0.0))  # running
        _ahead.wait(_ahead.POWERFLOW)
        assert done == ["fails", "imports"] and _ahead.WHILE_WAITING == []


def test_only_low_priority_compiles_still_running_count_as_yielding(monkeypatch) -> None:
    monkeypatch.setattr(_ahead, "_PENDING", {})
    assert _ahead.yielding() == 0
    monkeypatch.setitem(_ahead._PENDING, _ahead.POWERFLOW, (_Compiling(10), 0.0))
    assert _ahead.yielding() == 0  # the power flow's compile keeps its priority
    monkeypatch.setitem(_ahead._PENDING, _ahead.DISPATCH, (_Compiling(10), 0.0))
    assert _ahead.yielding() == 1
    monkeypatch.setitem(_ahead._PENDING, _ahead.DISPATCH, (_Compiling(0), 0.0))
    assert _ahead.yielding() == 0  # finished
