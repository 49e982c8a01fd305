from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/reference_*.py

#: most worker processes ``-n auto`` starts (pyproject.toml's addopts): each worker
#: imports pandapower and compiles or loads the numba kernels it needs, about 1 GB
#: of memory and a first-call compile each, so more than a few only adds duplicates
MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config):
    """Worker count for ``-n auto``: the cores this process may use, at most 4."""
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


@pytest.fixture(scope="session", autouse=True)
def _network_cache(tmp_path_factory):
    """Runs of the tests (and their subprocesses) use a network cache of their own."""
    import os

    old = os.environ.get("PARKGRID_CACHE_DIR")
    os.environ["PARKGRID_CACHE_DIR"] = str(tmp_path_factory.mktemp("netcache"))
    yield
    if old is None:
        os.environ.pop("PARKGRID_CACHE_DIR", None)
    else:
        os.environ["PARKGRID_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def flagship_result(tmp_path_factory):
    """One full flagship year (dispatch + reference power flow of one day), shared."""
    import parkgrid

    scenario = parkgrid.load_scenario(ROOT / "examples" / "flagship_park.toml")
    return parkgrid.simulate(scenario, pf_steps="day:190")
