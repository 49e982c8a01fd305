"""Bad engine inputs are clear errors naming the field, before anything runs."""

from __future__ import annotations

import copy
import tomllib

import pytest

import parkgrid
from parkgrid.scenario import validate_scenario_dict

SRC = "examples/flagship_events.toml"


@pytest.fixture(scope="module")
def raw(repo_root):
    return tomllib.loads((repo_root / SRC).read_text())


def problems(raw_dict):
    _, issues = validate_scenario_dict(raw_dict, source="park.toml")
    return {(i.field, i.message) for i in issues}


def only(raw_dict, field):
    found = problems(raw_dict)
    assert found, "no problem reported"
    fields = {f for f, _ in found}
    assert field in fields, found
    return next(m for f, m in found if f == field)


def test_example_is_valid(raw):
    assert problems(raw) == set()


def test_overlapping_events(raw):
    r = copy.deepcopy(raw)
    r["event"].append({"kind": "maintenance", "target": "BESS", "start": "2025-04-08 00:00",
                       "duration_h": 5.0})
    msg = only(r, "event[4].start")
    assert "overlaps event[0]" in msg and "BESS" in msg


def test_negative_and_zero_duration(raw):
    r = copy.deepcopy(raw)
    r["event"][1]["duration_h"] = -3.0
    assert "outside the allowed range (0, inf]" in only(r, "event[1].duration_h")
    r["event"][1]["duration_h"] = 0.0
    assert "outside the allowed range" in only(r, "event[1].duration_h")


def test_event_outside_the_year_or_off_grid(raw):
    r = copy.deepcopy(raw)
    r["event"][2]["start"] = "2024-09-15 07:00"
    assert "not in the simulated year 2025" in only(r, "event[2].start")
    r["event"][2]["start"] = "2025-09-15 07:10"
    assert "15-minute grid" in only(r, "event[2].start")


def test_grid_outage_needs_grid_forming_battery(raw):
    r = copy.deepcopy(raw)
    r["battery"][0]["grid_forming"] = False
    assert "grid_forming = true" in only(r, "event")


def test_min_up_longer_than_year(raw):
    r = copy.deepcopy(raw)
    r["coal"][0]["min_up_h"] = 9000.0
    assert "longer than the year (8760 h)" in only(r, "coal[0].min_up_h")


def test_ramp_cannot_reach_min_load(raw):
    r = copy.deepcopy(raw)
    r["coal"][0]["ramp_up_mw_per_min"] = 0.1
    r["coal"][0]["start_up_h"] = 1.0
    msg = only(r, "coal[0].ramp_up_mw_per_min")
    assert "cannot reach the minimum load 40 MW" in msg and "75 min" in msg


def test_coal_needs_coal_peaking(raw):
    r = copy.deepcopy(raw)
    r["dispatch"]["strategy"] = "self_consumption"
    assert "coal_peaking" in only(r, "dispatch.strategy")


def test_peak_shaving_needs_a_cap(raw):
    r = copy.deepcopy(raw)
    r["dispatch"]["strategy"] = "peak_shaving"
    del r["coal"]
    assert "import cap > 0" in only(r, "dispatch.import_cap_mw")


def test_standby_at_or_above_min_load(raw):
    r = copy.deepcopy(raw)
    r["electrolyser"][0]["standby_pu"] = 0.3
    assert "below min_load_pu" in only(r, "electrolyser[0].standby_pu")


def test_c_rate_of_technology(raw):
    r = copy.deepcopy(raw)
    r["battery"][0]["technology"] = "vanadium_flow"  # c_rate_max 0.5: 300 MW max on 600 MWh
    r["battery"][0]["p_mw"] = 400.0
    assert "c_rate_max" in only(r, "battery[0].p_mw")


def test_unknown_event_target(raw, repo_root):
    r = copy.deepcopy(raw)
    r["event"][0]["target"] = "BESS-2"
    with pytest.raises(parkgrid.ScenarioError) as err:
        parkgrid.scenario_from_dict(r, source="park.toml", base_dir=repo_root / "examples")
    [issue] = err.value.issues
    assert issue.field == "event[0].target" and "unknown target 'BESS-2'" in issue.message


def test_presets_fill_only_missing_keys(raw, repo_root):
    r = copy.deepcopy(raw)
    r["battery"][0]["eta_charge"] = 0.99
    data, issues = validate_scenario_dict(r, source="park.toml")
    assert not issues
    b = data["battery"][0]
    assert b["eta_charge"] == 0.99  # given
    assert b["eta_discharge"] == pytest.approx(0.86 ** 0.5)  # from the LFP preset
