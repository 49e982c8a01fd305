"""Speculation: the windows after a MIP solved from its best rounding's state while it runs.

Kept only where the MIP commits that state bit for bit, so the year is the same with and
without it; only the wall time may differ (``OptimalOptions.speculate``).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

import parkgrid
from parkgrid.inputs import asset_power_mw, dispatch_inputs
from parkgrid.optimal import OptimalOptions, _highs, solve_optimal
from parkgrid.optimal.scenario import scenario_options, scenario_prices

DAY = 96  # steps of 15 min


@pytest.fixture(scope="module")
def flagship(repo_root):
    s = parkgrid.load_scenario(repo_root / "examples" / "flagship_optimal.toml")
    return (dispatch_inputs(s, asset_power_mw(s)), scenario_prices(s, s.profiles.index),
            scenario_options(s))


def _days(obj, n: int, d0: int, d1: int):
    """*obj* (inputs or prices) cut to days [d0, d1) of the year's n steps."""
    return dataclasses.replace(obj, **{
        f.name: v[d0 * DAY:d1 * DAY] for f in dataclasses.fields(obj)
        if isinstance(v := getattr(obj, f.name), np.ndarray) and v.shape[:1] == (n,)})


_SEQUENTIAL: dict[tuple[int, int], object] = {}


def _slice(flagship, days: tuple[int, int]):
    """Inputs, prices and options of *days*, and their solution without speculation."""
    inp, prices, opt = flagship
    n = len(inp.res_mw)
    inp, prices = _days(inp, n, *days), _days(prices, n, *days)
    if days not in _SEQUENTIAL:
        _SEQUENTIAL[days] = solve_optimal(inp, prices, dataclasses.replace(opt, speculate=False))
    return inp, prices, opt, _SEQUENTIAL[days]


@pytest.fixture()
def slow_mips(monkeypatch):
    """Every MIP run takes 0.1 s longer, so the guesses are always solved ahead."""
    solve = _highs.HighsWindow.solve

    def slow(self, integrality, *args, **kwargs):
        if np.any(np.asarray(integrality) > 0):
            time.sleep(0.1)
        return solve(self, integrality, *args, **kwargs)

    monkeypatch.setattr(_highs.HighsWindow, "solve", slow)


# slices of the flagship year: days 300-312 have MIPs that keep the rounding's state
# (guesses kept) and a second, different guess of a window (the first one's windows
# solved again); in days 260-272 the neighbourhood MIP improves on the rounding and
# commits another state (every guessed window solved again)
@pytest.mark.parametrize(("days", "some_kept"), [((300, 312), True), ((260, 272), False)])
def test_speculation_changes_nothing_but_the_time(flagship, slow_mips, days, some_kept):
    inp, prices, opt, one = _slice(flagship, days)
    two = solve_optimal(inp, prices, dataclasses.replace(opt, speculate=True))
    assert one.guessed_windows == 0
    assert two.guessed_windows > two.guessed_kept
    assert (two.guessed_kept >= 1) == some_kept
    assert two.objective.total == one.objective.total
    for f in dataclasses.fields(one.dispatch):
        a, b = getattr(one.dispatch, f.name), getattr(two.dispatch, f.name)
        if isinstance(a, np.ndarray):
            assert a.tobytes() == b.tobytes(), f.name
    key = [(w.window, w.t0, w.commit_end, w.method, w.mip_gap, w.highs_status)
           for w in one.windows]
    assert key == [(w.window, w.t0, w.commit_end, w.method, w.mip_gap, w.highs_status)
                   for w in two.windows]


def test_the_default_speculates_only_with_an_idle_core(monkeypatch):
    from parkgrid.optimal import rolling

    assert OptimalOptions().speculate is None
    monkeypatch.setattr(rolling.os, "getloadavg", lambda: (64.0, 0.0, 0.0))
    assert not rolling._idle_core()
    monkeypatch.setattr(rolling.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert rolling._idle_core()


def test_an_error_in_a_guessed_window_only_ends_the_guess(flagship, slow_mips, monkeypatch):
    """Windows solved from a guess run on the calling thread: make every one of them fail,
    and the year is still solved, as without speculation."""
    import threading

    from parkgrid.optimal import rolling

    inp, prices, opt, one = _slice(flagship, (300, 312))
    window = rolling._Windows.window
    failed = []

    def failing(self, *args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            failed.append(args[0])
            raise rolling.OptimalSolveError("a guessed window failed")
        return window(self, *args, **kwargs)

    monkeypatch.setattr(rolling._Windows, "window", failing)
    two = solve_optimal(inp, prices, dataclasses.replace(opt, speculate=True))
    assert failed and two.guessed_windows == 0
    assert two.objective.total == one.objective.total
    assert two.dispatch.grid_import_mw.tobytes() == one.dispatch.grid_import_mw.tobytes()
