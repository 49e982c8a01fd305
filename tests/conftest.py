from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/reference_*.py


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
