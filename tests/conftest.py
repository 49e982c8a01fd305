from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/reference_*.py


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def flagship_result(tmp_path_factory):
    """One full flagship year (dispatch + reference power flow of one day), shared."""
    import parkgrid

    scenario = parkgrid.load_scenario(ROOT / "examples" / "flagship_park.toml")
    return parkgrid.simulate(scenario, pf_steps="day:190")
