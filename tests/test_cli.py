"""The ``parkgrid`` command: help, schema, errors that leave nothing behind, a real run.

Runs use a small park on the flagship network (one PV plant, one load) with the
power flow switched off and no figure, so a full year takes about a second.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import parkgrid
import parkgrid.result
from parkgrid.cli import main

ROOT = Path(__file__).resolve().parents[1]
OUTPUT_FILES = {"timeseries.parquet", "kpis.json", "scenario.json", "scenario.toml"}

TINY = """\
[scenario]
name = "tiny park"
year = 2025
seed = 7

[powerflow]
steps = "none"

[grid]
import_limit_mw = 50.0
export_limit_mw = 20.0
export_price_cny_per_mwh = 300.0

[grid.tariff]
peak_cny_per_mwh = 600.0
flat_cny_per_mwh = 400.0
valley_cny_per_mwh = 200.0
peak_hours = [18, 19]
valley_hours = [0, 1, 2, 3, 4, 5]

[[pv]]
name = "PV"
bus = "PV-A 35kV"
p_mw = {pv_mw}

[[load]]
name = "Offices"
bus = "Offices 10kV"
profile = "load_offices_pu"
peak_mw = 10.0
"""


def tiny_scenario(folder: Path, pv_mw: float = 30.0, name: str = "tiny.toml") -> Path:
    path = folder / name
    path.write_text(TINY.format(pv_mw=pv_mw), encoding="utf-8")
    return path


def entries(folder: Path) -> set[str]:
    """Every name in *folder*, hidden ones included (temporary folders start with '.')."""
    return set(os.listdir(folder))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    """Run the tiny scenario once: (scenario file, results folder, exit code)."""
    folder = tmp_path_factory.mktemp("cli_run")
    scenario = tiny_scenario(folder)
    out = folder / "results"
    code = main(["run", str(scenario), "-o", str(out), "--no-figure", "-q"])
    return scenario, out, code


def test_a_run_collects_garbage_rarely_and_restores_the_collector(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While ``parkgrid run`` works, the youngest generation is collected every
    RUN_GC_THRESHOLD allocations and the imported modules' objects are frozen; after
    it (here: an error raised from the simulation), the collector is as it was,
    and objects a caller froze itself stay frozen."""
    import gc
    import importlib

    import parkgrid._gc
    from parkgrid.errors import ParkgridError

    seen = {}

    def fake_simulate(*args, **kwargs):
        seen["threshold"] = gc.get_threshold()
        seen["frozen"] = gc.get_freeze_count()
        raise ParkgridError("stop here")

    sim = importlib.import_module("parkgrid.simulate")  # the module, not the function
    monkeypatch.setattr(sim, "simulate", fake_simulate)
    before = gc.get_threshold()
    gc.collect()
    assert gc.get_freeze_count() == 0
    code = main(["run", str(tiny_scenario(tmp_path)), "-o", str(tmp_path / "r"), "-q"])
    assert code != 0 and seen["frozen"] > 10_000  # numpy, pandas, parkgrid, ...
    assert seen["threshold"][0] == parkgrid._gc.RUN_GC_THRESHOLD > before[0]
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    keep = [object() for _ in range(3)]
    gc.freeze()  # a caller's own
    try:
        frozen = gc.get_freeze_count()
        main(["run", str(tiny_scenario(tmp_path)), "-o", str(tmp_path / "r"), "-q"])
        assert gc.get_freeze_count() >= frozen and gc.get_threshold() == before
    finally:
        gc.unfreeze()
    del keep


# ----------------------------------------------------------------------------- help
def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: parkgrid")
    for text in ("run", "schema", "simulate a scenario", "--verbose"):
        assert text in out


def test_run_help_describes_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: parkgrid run")
    for option in ("scenario", "-o OUTPUT, --output OUTPUT", "--overwrite",
                   "--pf-steps SPEC", "--no-figure", "-q, --quiet"):
        assert option in out, option
    # the help says what the options do, not only their names
    assert "replace an existing folder" in out
    assert "week:N" in out and "none" in out


def test_console_script_help() -> None:
    script = Path(sys.executable).with_name("parkgrid")
    if not script.exists():
        pytest.skip("parkgrid console script not installed next to the interpreter")
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "usage: parkgrid" in proc.stdout and "run" in proc.stdout


def test_missing_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 64  # EX_USAGE: distinct from bad input (2)
    assert "COMMAND" in capsys.readouterr().err


# ----------------------------------------------------------------------------- schema
def test_schema_battery_prints_units_and_ranges(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "battery"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert out.startswith("[[battery]]")
    assert set(lines) >= {"name", "bus", "p_mw", "e_mwh", "eta_charge", "eta_discharge",
                          "soc_min_pu", "soc_max_pu", "soc_initial_pu"}
    assert "MWh" in lines["e_mwh"] and "required" in lines["e_mwh"]
    assert "(0, inf]" in lines["e_mwh"]
    assert "MW " in lines["p_mw"] and "[0, inf]" in lines["p_mw"]
    assert "0.95" in lines["eta_charge"] and "(0, 1]" in lines["eta_charge"]
    assert "pu" in lines["soc_min_pu"] and "[0, 1]" in lines["soc_min_pu"]
    assert "[[pv]]" not in out and "[grid]" not in out


def test_schema_lists_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    for header in ("[scenario]", "[grid]", "[grid.tariff]", "[hydrogen]", "[[pv]]",
                   "[[wind]]", "[[battery]]", "[[electrolyser]]", "[[load]]"):
        assert header in out
    assert "[30, 100]" in out  # electrolyser kwh_per_kg


def test_schema_unknown_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "batteries"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("parkgrid: error:")
    assert "'batteries'" in err and "battery" in err


# ----------------------------------------------------------------------------- errors
def test_bad_scenario_exits_2_and_writes_nothing(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    text = TINY.format(pv_mw=30.0) + "\n[[battery]]\nname = \"B\"\nbus = \"BESS 35kV\"\n" \
        "p_mw = 5.0\ne_mwh = 0.0\n"
    bad.write_text(text, encoding="utf-8")
    out = tmp_path / "results"
    assert main(["run", str(bad), "-o", str(out), "--no-figure"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("parkgrid: error:")
    assert "bad.toml" in captured.err
    assert "battery[0].e_mwh" in captured.err and "(0, inf]" in captured.err
    assert "Traceback" not in captured.err
    assert not out.exists()
    assert entries(tmp_path) == {"bad.toml"}


def test_missing_scenario_file_exits_2(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results"
    assert main(["run", str(tmp_path / "nope.toml"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "nope.toml" in err and "cannot read" in err
    assert entries(tmp_path) == set()


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [("weekly", "'weekly'"), ("1,x", "'1,x'"), ("week:60", "selects no step"),
     ("0,35040", "[0, 35039]"), ("", "''")],
)
def test_bad_pf_steps_exits_2_and_writes_nothing(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 spec: str, fragment: str) -> None:
    scenario = tiny_scenario(tmp_path)
    out = tmp_path / "results"
    assert main(["run", str(scenario), "-o", str(out), "--pf-steps", spec, "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("parkgrid: error: --pf-steps")
    assert fragment in err
    assert entries(tmp_path) == {"tiny.toml"}


def test_existing_folder_is_not_overwritten(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tiny_scenario(tmp_path)
    out = tmp_path / "results"
    out.mkdir()
    (out / "sentinel.txt").write_text("earlier work", encoding="utf-8")
    assert main(["run", str(scenario), "-o", str(out), "--no-figure", "-q"]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--overwrite" in err and str(out) in err
    assert entries(out) == {"sentinel.txt"}
    assert (out / "sentinel.txt").read_text(encoding="utf-8") == "earlier work"
    assert entries(tmp_path) == {"tiny.toml", "results"}


# ----------------------------------------------------------------------------- a real run
def test_run_writes_the_result_folder(tiny_run: tuple[Path, Path, int], tmp_path: Path) -> None:
    scenario, out, code = tiny_run
    assert code == 0
    plain = tmp_path / "plain"
    plain.mkdir()  # the permissions any folder the user makes gets (umask)
    assert stat.S_IMODE(out.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
    assert OUTPUT_FILES <= entries(out)
    assert "dispatch.png" not in entries(out)  # --no-figure
    assert "network" not in entries(out)  # powerflow.steps = "none"
    assert entries(out.parent) == {scenario.name, out.name}  # no temporary folders left
    assert (out / "scenario.toml").read_bytes() == scenario.read_bytes()
    data = json.loads((out / "scenario.json").read_text())
    assert data["scenario"]["name"] == "tiny park"
    assert data["pv"][0]["profile"] == "pv_pu"  # default filled in
    assert data["load"][0]["cos_phi"] == 0.95
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["metadata"]["scenario_name"] == "tiny park"
    assert kpis["metadata"]["seed"] == "7"
    assert len(kpis["metadata"]["scenario_hash"]) == 64


def test_kpis_equal_hand_calculation(tiny_run: tuple[Path, Path, int]) -> None:
    _, out, code = tiny_run
    assert code == 0
    ts = pd.read_parquet(out / "timeseries.parquet")
    kpis = json.loads((out / "kpis.json").read_text())["kpis"]
    assert len(ts) == 35040
    dt = 0.25
    imported = ts["grid_import_mw"].sum() * dt
    exported = ts["grid_export_mw"].sum() * dt
    assert imported > 0 and exported > 0  # the checks below are not 0 == 0
    assert kpis["imported_mwh"] == pytest.approx(imported, rel=1e-12)
    assert kpis["exported_mwh"] == pytest.approx(exported, rel=1e-12)
    assert kpis["co2_t"] == pytest.approx(imported * 0.6849, rel=1e-12)
    assert kpis["export_revenue_cny"] == pytest.approx(exported * 300.0, rel=1e-12)

    # time-of-use cost from the hour of each timestamp, independently of parkgrid's tariff
    hour = ts.index.hour
    price = np.where(hour.isin([18, 19]), 600.0, np.where(hour.isin(range(6)), 200.0, 400.0))
    assert kpis["energy_cost_cny"] == pytest.approx(
        float((ts["grid_import_mw"] * price).sum() * dt), rel=1e-12)

    # available PV from the shipped profile itself: 30 MW x per-unit profile
    profile = pd.read_parquet(ROOT / "profiles" / "ordos_2025.parquet")
    assert kpis["pv_available_mwh"] == pytest.approx(30.0 * profile["pv_pu"].sum() * dt,
                                                     rel=1e-12)
    demand = profile["load_offices_pu"] * (10.0 / profile["load_offices_pu"].max())
    assert kpis["load_mwh"] == pytest.approx(demand.sum() * dt, rel=1e-12)
    assert kpis["peak_import_mw"] == pytest.approx(ts["grid_import_mw"].max(), rel=1e-12)


def test_overwrite_replaces_the_folder(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results"
    first = tiny_scenario(tmp_path, pv_mw=30.0, name="first.toml")
    assert main(["run", str(first), "-o", str(out), "--no-figure", "-q"]) == 0
    (out / "sentinel.txt").write_text("left from the first run", encoding="utf-8")
    second = tiny_scenario(tmp_path, pv_mw=12.5, name="second.toml")
    capsys.readouterr()
    assert main(["run", str(second), "-o", str(out), "--no-figure", "--overwrite"]) == 0
    captured = capsys.readouterr()
    assert "results written to" in captured.out and "imported_mwh" in captured.out
    assert entries(out) == OUTPUT_FILES  # the sentinel went with the old folder
    assert (out / "scenario.toml").read_bytes() == second.read_bytes()
    # old and temporary folders are gone
    assert entries(tmp_path) == {"first.toml", "second.toml", "results"}
    profile = pd.read_parquet(ROOT / "profiles" / "ordos_2025.parquet")
    kpis = json.loads((out / "kpis.json").read_text())["kpis"]
    assert kpis["pv_available_mwh"] == pytest.approx(12.5 * profile["pv_pu"].sum() * 0.25,
                                                     rel=1e-12)


def test_overwrite_refuses_a_folder_that_is_not_a_result(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tiny_scenario(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("months of work", encoding="utf-8")
    assert main(["run", str(scenario), "-o", str(project), "--overwrite", "-q"]) == 2
    err = capsys.readouterr().err
    assert "not a parkgrid results folder" in err and str(project) in err
    assert entries(project) == {"notes.txt"}
    assert entries(tmp_path) == {"tiny.toml", "project"}


@pytest.mark.parametrize("target", [".", "..", "sub/.."])
def test_output_must_name_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    scenario = tiny_scenario(tmp_path)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert main(["run", str(scenario), "-o", target, "--overwrite", "-q"]) == 2
    assert "name a results folder of its own" in capsys.readouterr().err
    assert entries(tmp_path) == {"tiny.toml", "sub"} and entries(tmp_path / "sub") == set()


def test_unwritable_output_is_an_error_not_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tiny_scenario(tmp_path)
    (tmp_path / "a_file").write_text("not a folder", encoding="utf-8")
    out = tmp_path / "a_file" / "results"
    assert main(["run", str(scenario), "-o", str(out), "--no-figure", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("parkgrid: error:") and "a_file" in err
    assert entries(tmp_path) == {"tiny.toml", "a_file"}


def _failing_write(self: parkgrid.result.Result, folder: Path, **options: object) -> None:
    (folder / "timeseries.parquet").write_bytes(b"half a file")
    raise OSError(28, "No space left on device")


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tiny_scenario(tmp_path)
    monkeypatch.setattr(parkgrid.result.Result, "_write", _failing_write)
    out = tmp_path / "results"
    assert main(["run", str(scenario), "-o", str(out), "--no-figure", "-q"]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert entries(tmp_path) == {"tiny.toml"}


def test_failed_overwrite_keeps_the_old_folder(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tiny_scenario(tmp_path)
    out = tmp_path / "results"
    out.mkdir()
    (out / "kpis.json").write_text("{}", encoding="utf-8")  # looks like an earlier result
    (out / "sentinel.txt").write_text("old result", encoding="utf-8")
    monkeypatch.setattr(parkgrid.result.Result, "_write", _failing_write)
    assert main(["run", str(scenario), "-o", str(out), "--no-figure", "-q",
                 "--overwrite"]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert entries(tmp_path) == {"tiny.toml", "results"}
    assert entries(out) == {"kpis.json", "sentinel.txt"}
    assert (out / "sentinel.txt").read_text(encoding="utf-8") == "old result"


def test_compile_notice_only_on_a_parkgrid_compile(capsys: pytest.CaptureFixture[str]) -> None:
    """The first-run notice is said once, when numba compiles a parkgrid kernel, and
    not for other code or when nothing compiles."""
    from numba import njit

    from parkgrid.cli import COMPILE_NOTICE, compile_notice

    def twice(x):  # pragma: no cover - numba
        return 2 * x

    def thrice(x):  # pragma: no cover - numba
        return 3 * x

    twice.__module__ = "parkgrid._notice_probe"  # as if it were one of ours
    ours, other = njit(twice), njit(thrice)
    with compile_notice():
        assert other(1) == 3  # not parkgrid's: silent
    assert COMPILE_NOTICE not in capsys.readouterr().err
    with compile_notice(enabled=False):
        assert ours(1.0) == 2.0
    assert COMPILE_NOTICE not in capsys.readouterr().err
    with compile_notice():
        assert ours(1) == 2  # a new signature compiles: said once
        assert ours(1j) == 2j
        assert ours(2) == 4  # compiled already: nothing to say
    err = capsys.readouterr().err
    assert err.count(COMPILE_NOTICE) == 1
    # one line per signature compiled, naming the kernel, then the total
    assert len(re.findall(r"compiled twice in \d+\.\d s", err)) == 2
    assert "thrice" not in err
    assert re.search(r"compiling took \d+\.\d s", err)
    with compile_notice():
        assert ours(3) == 6
    assert COMPILE_NOTICE not in capsys.readouterr().err


# ----------------------------------------------------------------------------- version, start-up
def test_version_flag_and_attribute(capsys: pytest.CaptureFixture[str]) -> None:
    import tomllib

    version = parkgrid.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?(a|b|rc|dev|post)\d+)*", version), version
    for flag in ("--version", "-V"):
        with pytest.raises(SystemExit) as info:
            main([flag])
        assert info.value.code == 0
        assert capsys.readouterr().out == f"parkgrid {version}\n"
    # one source of truth: the build reads the version from the module parkgrid imports
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    source = project["tool"]["hatch"]["version"]["path"]
    assert (ROOT / source).resolve() == Path(sys.modules["parkgrid._version"].__file__).resolve()


def test_python_m_parkgrid_and_results_carry_the_version(
        tiny_run: tuple[Path, Path, int]) -> None:
    proc = subprocess.run([sys.executable, "-m", "parkgrid", "--version"], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                          timeout=120, check=False)
    assert (proc.returncode, proc.stdout) == (0, f"parkgrid {parkgrid.__version__}\n")
    _, out, code = tiny_run
    assert code == 0
    meta = json.loads((out / "kpis.json").read_text())["metadata"]
    assert meta["parkgrid_version"] == parkgrid.__version__


HEAVY = ("pandapower", "numba", "matplotlib", "pandas", "scipy", "dask", "highspy", "pyarrow",
         "simpy")


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["schema"], ["schema", "event"],
                                  ["run", "--help"], ["bench", "--help"], ["sweep", "--help"]])
def test_help_version_and_schema_do_not_import_the_engines(argv: list[str]) -> None:
    """In a fresh interpreter, `parkgrid --help` and friends load no heavy package."""
    code = ("import sys\nfrom parkgrid.cli import main\n"
            f"try:\n    code = main({argv!r})\nexcept SystemExit as exc:\n    code = exc.code\n"
            f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
            "print('HEAVY', code, ','.join(heavy), file=sys.stderr)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120, check=False)
    last = proc.stderr.strip().splitlines()[-1].split()
    assert last[:2] == ["HEAVY", "0"], proc.stderr
    assert last[2:] == [], f"{argv} imported {last[2]}"


def test_lazy_package_names_behave_like_eager_imports() -> None:
    """`parkgrid.simulate` stays the function even once the module parkgrid.simulate is
    imported; every name of __all__ resolves, in parkgrid and its lazy subpackages."""
    code = """
import importlib, sys
import parkgrid
from parkgrid.simulate import select_pf_steps  # binds the submodule to the package
assert callable(parkgrid.simulate) and parkgrid.simulate.__name__ == "simulate", parkgrid.simulate
from parkgrid import simulate
assert simulate is sys.modules["parkgrid.simulate"].simulate
for pkg in ("parkgrid", "parkgrid.scenario", "parkgrid.bench", "parkgrid.sweep"):
    mod = importlib.import_module(pkg)
    for name in mod.__all__:
        assert getattr(mod, name) is not None, (pkg, name)
        assert name in dir(mod), (pkg, name)
    try:
        getattr(mod, "no_such_name")
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError(pkg)
namespace = {}
exec("from parkgrid import *", namespace)
assert set(parkgrid.__all__) <= set(namespace)
print("OK")
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "OK", proc.stderr


# ----------------------------------------------------------------------------- schema tables
def test_schema_prints_every_table_the_readme_promises(
        capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Scenario files", 1)[1].split("\n## ", 1)[0]
    promised = set(re.findall(r"`(\[\[?[a-z_.]+\]\]?)`", section))
    assert {"[[event]]", "[[reliability]]", "[[tariff_season]]", "[grid.tariff]",
            "[[coal]]"} <= promised  # the paragraph the check reads is the right one
    assert main(["schema"]) == 0
    headers = {line.split()[0] for line in capsys.readouterr().out.splitlines()
               if line.startswith("[")}
    assert promised <= headers, f"missing from parkgrid schema: {sorted(promised - headers)}"
    for kind in ("event", "reliability", "tariff_season"):
        assert main(["schema", kind]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"[[{kind}]]")
    assert "duration_h" in main_output(["schema", "event"], capsys)
    assert "mtbf_h" in main_output(["schema", "reliability"], capsys)


def main_output(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def test_schema_writes_integer_ranges_as_integers(capsys: pytest.CaptureFixture[str]) -> None:
    out = main_output(["schema"], capsys)
    seed = next(line for line in out.splitlines() if line.split()[:1] == ["seed"])
    assert "[0, 4294967295]" in seed
    assert not re.search(r"\d[eE][+-]?\d", out), "a bound written in exponent notation"
    assert "[2000, 2100]" in out  # scenario year


# ----------------------------------------------------------------------------- -q, -v, exit codes
POSITIONALS = {"run": ["park.toml"], "report": ["results"], "compare": ["results"],
               "assess": ["meters.csv"], "export": ["results"], "schema": [], "bench": [],
               "sweep": ["sweep.toml"], "network": ["check", "layout.toml"],
               "hosting": ["park.toml", "--bus", "PV 35kV"], "size": ["park.toml"]}


def test_every_command_is_covered() -> None:
    from parkgrid.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) == set(POSITIONALS)  # type: ignore[arg-type]


@pytest.mark.parametrize("command", sorted(POSITIONALS))
def test_quiet_and_verbose_before_or_after_every_command(command: str) -> None:
    from parkgrid.cli import parse_args

    pos = POSITIONALS[command]
    plain = parse_args([command, *pos])
    assert (plain.quiet, plain.verbose) == (False, 0)
    before = parse_args(["-q", "-v", command, *pos])
    assert (before.quiet, before.verbose) == (True, 1)
    after = parse_args([command, *pos, "--quiet", "-vv"])
    assert (after.quiet, after.verbose) == (True, 2)
    both = parse_args(["-v", command, *pos, "--verbose"])
    assert (both.quiet, both.verbose) == (False, 2)
    assert both.command == command


def test_exit_codes_are_documented(capsys: pytest.CaptureFixture[str]) -> None:
    from parkgrid import cli

    codes = {cli.EXIT_OK: "0", cli.EXIT_CHECK_FAILED: "1", cli.EXIT_BAD_INPUT: "2",
             cli.EXIT_INTERNAL: "3", cli.EXIT_USAGE: "64"}
    assert [str(c) for c in codes] == list(codes.values())  # distinct, as documented
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code in codes.values():
        assert re.search(rf"^  {code} +\S", help_text, re.M), f"exit code {code} not in --help"
        assert re.search(rf"^\| `{code}` \|", readme, re.M), f"exit code {code} not in README"


@pytest.mark.parametrize("argv", [["nonsense"], ["run"], ["run", "x.toml", "--no-such-option"],
                                  ["bench", "--steps", "many"], ["schema", "a", "b"]])
def test_usage_errors_exit_64(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 64
    err = capsys.readouterr().err
    assert "usage: parkgrid" in err and "error:" in err


def test_internal_error_exits_3_with_one_line_and_a_hint(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import parkgrid.cli

    def broken(args: object) -> int:
        return {}["no such key"]  # type: ignore[no-any-return]

    monkeypatch.setattr(parkgrid.cli, "_cmd_schema", broken)
    assert main(["schema"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("parkgrid: internal error: KeyError: 'no such key'\n")
    assert "-v" in err and "Traceback" not in err
    assert main(["schema", "-v"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError" in err


TARGETS = """
[targets]
self_sufficiency_min = {min_share}
"""


@pytest.mark.parametrize(("min_share", "code"), [(0.0, 0), (1.0, 1)])
def test_a_missed_target_exits_1_and_still_writes_the_results(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], min_share: float,
        code: int) -> None:
    """The tiny park imports at night (PV only), so it cannot be self-sufficient."""
    scenario = tiny_scenario(tmp_path)
    scenario.write_text(scenario.read_text(encoding="utf-8")
                        + TARGETS.format(min_share=min_share), encoding="utf-8")
    out = tmp_path / "results"
    assert main(["run", str(scenario), "-o", str(out), "--no-figure", "-q"]) == code
    kpis = json.loads((out / "kpis.json").read_text())["kpis"]
    assert kpis["imported_mwh"] > 0 and 0 < kpis["self_sufficiency"] < 1.0
    err = capsys.readouterr().err
    if code:
        assert "1 target not met: self_sufficiency_min" in err
    else:
        assert err == ""


# ----------------------------------------------------------------------------- number formats
def test_counts_print_as_integers_other_values_keep_decimals() -> None:
    from parkgrid.cli import format_kpis

    table = format_kpis({"engine_events": 13633.0, "steps_voltage_violation": 972.0,
                         "pf_steps_not_converged": 0.0, "imported_mwh": 972.0,
                         "self_sufficiency": 0.972})
    rows = {line.split()[0]: line.split()[1] for line in table.splitlines()[2:]}
    assert rows == {"engine_events": "13,633", "steps_voltage_violation": "972",
                    "pf_steps_not_converged": "0", "imported_mwh": "972.0",
                    "self_sufficiency": "0.9720"}


def test_count_kpis_follow_the_kpi_definitions() -> None:
    """A count is dimensionless and not a quotient; every other '-' KPI is a quotient."""
    from parkgrid.kpis import COUNT_KPIS, KPI_INFO

    assert COUNT_KPIS <= set(KPI_INFO)
    for name, (unit, definition) in KPI_INFO.items():
        if unit != "-":
            assert name not in COUNT_KPIS, name
        elif name in COUNT_KPIS:
            assert "/" not in definition, (name, definition)
        else:
            assert "/" in definition, f"{name}: a count? add it to kpis.COUNT_KPIS"


def test_count_kpis_of_a_real_year_are_whole_numbers(flagship_result) -> None:
    from parkgrid.cli import format_kpis
    from parkgrid.kpis import COUNT_KPIS

    counts = {k: v for k, v in flagship_result.kpis.items() if k in COUNT_KPIS}
    assert "pf_steps" in counts and counts["pf_steps"] == 96  # pf_steps="day:190"
    for name, value in counts.items():
        assert float(value).is_integer(), (name, value)
    lines = {line.split()[0]: line for line in format_kpis(flagship_result.kpis).splitlines()}
    for name in counts:
        assert not re.search(r"\d\.\d", lines[name]), lines[name]


def test_html_and_strategy_tables_print_counts_as_integers() -> None:
    import pandas as pd

    from parkgrid.compare import format_comparison
    from parkgrid.report.html import kpi_table_html

    page = kpi_table_html({"steps_voltage_violation": 972.0, "imported_mwh": 972.0})
    assert "<td class='num'>972</td>" in page and "<td class='num'>972.0</td>" in page
    table = pd.DataFrame({"optimal": [13633.0, 972.0], "self_consumption": [12.0, 12.5]},
                         index=["engine_events", "imported_mwh"])
    text = format_comparison(table)
    assert re.search(r"^engine_events +13,633 +12 +-", text, re.M), text
    assert re.search(r"^imported_mwh +972\.0 +12\.5 +MWh", text, re.M), text
