"""The benchmark suite: registry, reference check, comparison, CLI (nothing is timed)."""

from __future__ import annotations

import copy
import json

import pytest

from parkgrid.bench import (
    CASES,
    QUICK,
    REFERENCE_PATH,
    SUITE_VERSION,
    check_reference,
    compare_runs,
    format_table,
    load_reference,
    reference_from_run,
    run_case,
    select_cases,
)
from parkgrid.bench.compare import CHECKED_KPIS


def test_registry_has_the_cases_the_suite_promises():
    kinds = {c.name: c.kind for c in CASES.values()}
    assert kinds["flagship"] == "park" and kinds["cigre_mv_der"] == "park"
    sb = [c.source for c in CASES.values() if c.kind == "grid" and c.source[0].isdigit()]
    assert len(sb) >= 3
    assert any("-MV-" in s for s in sb) and any("-LV-" in s for s in sb)
    assert any("rural" in s for s in sb) and any("urban" in s for s in sb)
    sizes = sorted(int(c.source.split(":")[1]) for c in CASES.values()
                   if c.source.startswith("synthetic:"))
    assert sizes == [1000, 5000]
    assert set(QUICK) < set(CASES)
    assert [c.name for c in select_cases(None, quick=True)] == list(QUICK)
    with pytest.raises(KeyError, match="nope"):
        select_cases(["flagship", "nope"])


def test_stored_reference_covers_every_case_with_its_checked_kpis():
    ref = load_reference(REFERENCE_PATH)
    assert ref["suite_version"] == SUITE_VERSION
    assert set(ref["cases"]) == set(CASES)
    for name, entry in ref["cases"].items():
        assert set(entry["kpis"]) == set(CHECKED_KPIS[CASES[name].kind]), name
        assert entry["kpis"]["pf_steps"] == entry["steps"]  # every step of the year solved
        assert entry["kpis"]["pf_steps_not_converged"] == 0


def _run(records):
    return {"suite_version": SUITE_VERSION, "created_utc": "2026-01-01T00:00:00Z",
            "machine": {"cpu": "x", "cores": 2, "memory_gb": 1.0, "load_average_1min": 0.0},
            "packages": {"parkgrid": "0"}, "git": {"commit": "abc", "dirty": False},
            "cases": records}


def _rec(name="sb_lv_rural1", kind="grid", **kpis):
    base = {"pf_steps": 10.0, "pf_steps_not_converged": 0.0, "losses_mwh": 5.0,
            "vm_min_pu": 0.98, "vm_max_pu": 1.03, "steps_voltage_violation": 0.0,
            "line_loading_max_percent": 26.0, "trafo_loading_max_percent": 40.0,
            "steps_overloaded": 0.0}
    base.update(kpis)
    return {"name": name, "kind": kind, "source": "x", "buses": 15, "steps": 10,
            "full_year": True, "wall_s": 2.0, "steps_per_s": 5.0, "kpis": base, "peers": {}}


def test_reference_check_flags_a_changed_result_and_passes_an_unchanged_one():
    ref = reference_from_run(_run([_rec()]))
    assert check_reference(_rec(), ref, SUITE_VERSION) == {"status": "ok", "changed": []}
    changed = check_reference(_rec(losses_mwh=5.001), ref, SUITE_VERSION)
    assert changed["status"] == "CHANGED"
    assert changed["changed"] == [("losses_mwh", 5.0, 5.001)]
    assert check_reference(_rec(losses_mwh=5.0 * (1 + 1e-9)), ref, SUITE_VERSION)["status"] \
        == "ok"
    assert check_reference(_rec(name="other"), ref, SUITE_VERSION)["status"] == "new"
    partial = {**_rec(), "full_year": False}
    assert check_reference(partial, ref, SUITE_VERSION)["status"] == "partial"
    assert check_reference(_rec(), ref, "999")["status"] == "other-suite"
    run = _run([{**_rec(losses_mwh=6.0), "reference": changed}])
    assert "CHANGED sb_lv_rural1: losses_mwh" in format_table(run)


def test_compare_runs_shows_speed_up_and_kpi_changes():
    old = _run([_rec(), _rec(name="flagship2")])
    new = copy.deepcopy(old)
    new["cases"][0]["wall_s"] = 1.0
    new["cases"][1]["kpis"]["vm_min_pu"] = 0.9
    text = compare_runs(old, new)
    lines = {ln.split()[0]: ln for ln in text.splitlines() if ln.strip()}
    assert "2.00x" in lines["sb_lv_rural1"] and "same" in lines["sb_lv_rural1"]
    assert "CHANGED: vm_min_pu 0.98 -> 0.9" in lines["flagship2"]


def test_park_case_short_run_matches_pandapower_and_is_not_reference_checked():
    rec = run_case(CASES["cigre_mv_der"], steps=24, pp_sample=3)
    assert rec["buses"] == 15 and rec["steps"] == 35040 and rec["pf_steps"] == 24
    assert rec["full_year"] is False
    assert rec["kpis"]["pf_steps_not_converged"] == 0
    pp = rec["peers"]["pandapower"]
    assert pp["sample_steps"] == 3
    assert pp["max_dvm_pu"] < 1e-6  # the same voltages as pandapower.runpp
    assert check_reference(rec, load_reference(), SUITE_VERSION)["status"] == "partial"


def test_synthetic_case_is_about_the_promised_size_and_solves():
    rec = run_case(CASES["synthetic_1k"], steps=8, peers=False)
    assert 900 <= rec["buses"] <= 1100
    assert rec["pf_steps"] == 8 and rec["kpis"]["pf_steps_not_converged"] == 0
    assert 0.9 < rec["kpis"]["vm_min_pu"] <= rec["kpis"]["vm_max_pu"] < 1.1


def test_cli_writes_json_with_provenance_and_compares(tmp_path, capsys):
    from parkgrid.cli import main

    out = tmp_path / "run.json"
    assert main(["bench", "sb_lv_rural1", "--steps", "48", "--no-peers", "-o", str(out)]) == 0
    run = json.loads(out.read_text())
    assert {"machine", "packages", "git", "suite_version", "cases"} <= set(run)
    assert run["machine"]["cores"] >= 1 and run["packages"]["pandapower"]
    assert len(run["git"]["commit"]) == 40
    (rec,) = run["cases"]
    assert rec["name"] == "sb_lv_rural1" and rec["steps"] == 48
    assert rec["reference"]["status"] == "partial"
    printed = capsys.readouterr().out
    assert "sb_lv_rural1" in printed and "vm min" in printed
    # a doctored earlier run: the comparison must call the changed KPI out
    old = json.loads(out.read_text())
    old["cases"][0]["kpis"]["losses_mwh"] *= 2
    old_path = tmp_path / "old.json"
    old_path.write_text(json.dumps(old))
    assert main(["bench", "sb_lv_rural1", "--steps", "48", "--no-peers", "--compare",
                 str(old_path)]) == 0
    assert "CHANGED: losses_mwh" in capsys.readouterr().out


def test_cli_checks_a_full_year_against_the_reference_and_flags_a_change(tmp_path, capsys):
    from parkgrid.cli import main

    # a full year is needed for the check; sb_lv_rural1 is the smallest grid
    out = tmp_path / "run.json"
    assert main(["bench", "sb_lv_rural1", "--no-peers", "-o", str(out)]) == 0
    (rec,) = json.loads(out.read_text())["cases"]
    assert rec["steps"] == 35136 and rec["reference"] == {"status": "ok", "changed": []}
    capsys.readouterr()
    ref = load_reference()
    entry = ref["cases"]["cigre_mv_der"]
    doctored = {"suite_version": SUITE_VERSION, "rtol": 1e-6, "atol": 1e-9,
                "cases": {"sb_lv_rural1": {**entry, "kpis": {"pf_steps": 1.0}}}}
    path = tmp_path / "ref.json"
    path.write_text(json.dumps(doctored))
    code = main(["bench", "sb_lv_rural1", "--no-peers", "--reference", str(path)])
    captured = capsys.readouterr()
    assert code == 1
    assert "CHANGED sb_lv_rural1: pf_steps" in captured.out
    assert "changed against the reference" in captured.err


def test_grid_case_in_blocks_gives_the_same_kpis(monkeypatch):
    import parkgrid.bench.runner as runner

    whole = run_case(CASES["sb_lv_rural1"], steps=300, peers=False)
    monkeypatch.setattr(runner, "_BLOCK_VALUES", 15 * 100)  # 100 steps per block
    blocks = run_case(CASES["sb_lv_rural1"], steps=300, peers=False)
    # block boundaries change the warm start: equal within the solver tolerance (1e-8 pu)
    assert blocks["kpis"] == pytest.approx(whole["kpis"], rel=1e-7, nan_ok=True)
    assert whole["kpis"]["pf_steps"] == 300


def test_a_case_whose_inputs_are_missing_is_listed_as_unavailable(monkeypatch):
    import parkgrid.bench.synthetic as synthetic
    from parkgrid.bench import run_suite

    def no_simbench(code):
        raise ModuleNotFoundError("No module named 'simbench'")

    monkeypatch.setattr(synthetic, "simbench_case", no_simbench)
    run = run_suite([CASES["synthetic_1k"]], steps=4, peers=False)
    assert run["cases"] == []
    (miss,) = run["unavailable"]
    assert miss["name"] == "synthetic_1k" and "simbench" in miss["reason"]
    assert "unavailable: synthetic_1k" in format_table(run)
