"""Packaging: licence, type marker, wheel contents, dependency bounds, pandapower's
private functions, and where ``bench --update-reference`` may write."""

from __future__ import annotations

import ast
import inspect
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from parkgrid.cli import main

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _requirements(extra: str | None = None) -> dict[str, Requirement]:
    project = PYPROJECT["project"]
    lines = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return {Requirement(line).name: Requirement(line) for line in lines}


# ----------------------------------------------------------------------------- metadata
def test_license_py_typed_and_classifiers() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "parkgrid developers" in text
    assert (ROOT / "parkgrid" / "py.typed").is_file()
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    classifiers = set(project["classifiers"])
    assert {"Typing :: Typed", "Programming Language :: Python :: 3.11",
            "Topic :: Scientific/Engineering"} <= classifiers
    # no invented addresses: any URL given must not be a placeholder
    for url in project.get("urls", {}).values():
        assert not re.search(r"example\.|your-?org|TODO|placeholder", url, re.I), url


@pytest.mark.slow
def test_wheel_holds_license_type_marker_and_data(tmp_path: Path) -> None:
    pytest.importorskip("hatchling", reason="the test extra installs hatchling")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("parkgrid-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    assert f"{dist_info}/licenses/LICENSE" in names
    assert {"parkgrid/py.typed", "parkgrid/_version.py", "parkgrid/bench/reference_kpis.json",
            "parkgrid/_data/networks/flagship_park.json",
            "parkgrid/_data/profiles/ordos_2025.parquet"} <= names
    metadata = zipfile.ZipFile(wheel).read(f"{dist_info}/METADATA").decode()
    import parkgrid

    assert f"\nVersion: {parkgrid.__version__}\n" in metadata
    assert "\nLicense-Expression: MIT\n" in metadata
    assert "\nClassifier: Typing :: Typed\n" in metadata
    (line,) = re.findall(r"^Requires-Dist: (pandapower\b.*)$", metadata, re.M)
    assert Requirement(line).specifier == _requirements()["pandapower"].specifier
    assert any(spec.operator == "<" for spec in Requirement(line).specifier)  # bounded above


def test_minimum_constraints_pin_the_declared_lower_bounds() -> None:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints" / "minimum.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.strip()] = Version(version)
    declared = {**_requirements(), **_requirements("test")}
    lower = {}
    for name, req in declared.items():
        (bound,) = [s.version for s in req.specifier if s.operator == ">="]
        lower[name] = Version(bound)
        if name == "dask":  # dask[distributed]: both packages of one release
            lower["distributed"] = Version(bound)
    assert pins == lower


# ----------------------------------------------------------------------------- pandapower
SUPPORTED = str(_requirements()["pandapower"].specifier)

#: every name parkgrid/powerflow/_model.py imports from pandapower, with the parameters
#: it passes by name (``**`` = it also passes keywords through **kwargs)
PRIVATE_API: dict[tuple[str, str], tuple[str, ...] | None] = {
    ("pandapower.auxiliary", "_init_runpp_options"): (
        "net", "algorithm", "calculate_voltage_angles", "init", "max_iteration",
        "tolerance_mva", "trafo_model", "trafo_loading", "enforce_q_lims",
        "check_connectivity", "voltage_depend_loads", "passed_parameters", "**"),
    ("pandapower.auxiliary", "_add_auxiliary_elements"): ("net",),
    ("pandapower.pd2ppc", "_pd2ppc"): ("net",),
    ("pandapower.pf.ppci_variables", "_get_pf_variables_from_ppci"): ("ppci", "vsc_ref"),
    ("pandapower.pypower.makeSbus", "makeSbus"): ("baseMVA", "bus", "gen"),
    ("pandapower.pypower.makeYbus", "makeYbus"): ("baseMVA", "bus", "branch"),
    ("pandapower.pypower.idx_bus", "BASE_KV"): None,  # column indices: imported, not called
    ("pandapower.pypower.idx_gen", "GEN_BUS"): None,
    ("pandapower.pypower.idx_gen", "GEN_STATUS"): None,
    ("pandapower.pypower.idx_gen", "PG"): None,
    ("pandapower.pypower.idx_gen", "QG"): None,
}


def _changed(what: str) -> str:
    import pandapower

    return (f"pandapower {pandapower.__version__}: {what}. parkgrid's power-flow model "
            f"(parkgrid/powerflow/_model.py) is verified with pandapower {SUPPORTED} "
            "(pyproject.toml); adapt the model before widening the bound")


def test_the_table_lists_every_pandapower_import_of_the_model() -> None:
    tree = ast.parse((ROOT / "parkgrid" / "powerflow" / "_model.py").read_text())
    imported = {(node.module, alias.name) for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "pandapower") for alias in node.names}
    assert imported == set(PRIVATE_API), "update PRIVATE_API (and the test) for _model.py"


@pytest.mark.parametrize(("module", "name"), sorted(PRIVATE_API))
def test_pandapower_private_functions_keep_their_signature(module: str, name: str) -> None:
    import importlib

    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        pytest.fail(_changed(f"{module}.{name} no longer exists"))
    wanted = PRIVATE_API[(module, name)]
    if wanted is None:
        assert isinstance(obj, int), _changed(f"{module}.{name} is no longer a column index")
        return
    params = inspect.signature(obj).parameters
    kinds = {p.kind for p in params.values()}
    missing = [p for p in wanted if p != "**" and p not in params]
    assert not missing, _changed(f"{module}.{name}{inspect.signature(obj)} lacks {missing}")
    if "**" in wanted:
        assert inspect.Parameter.VAR_KEYWORD in kinds, _changed(
            f"{module}.{name} no longer takes **kwargs")


def test_pandapower_private_functions_keep_their_results() -> None:
    """The calls of build_model on case9 (1 slack, 2 generators, 6 other buses): the
    options passed through **kwargs arrive, and the ppci variables are where the model
    reads them (ref, pv, pq at -7, -6, -5 and V0 at -2 of the returned tuple)."""
    import numpy as np
    import pandapower.networks as pn
    from pandapower.auxiliary import _add_auxiliary_elements, _init_runpp_options
    from pandapower.pd2ppc import _pd2ppc
    from pandapower.pf.ppci_variables import _get_pf_variables_from_ppci

    net = pn.case9()
    _init_runpp_options(net, algorithm="nr", calculate_voltage_angles=True, init="auto",
                        max_iteration="auto", tolerance_mva=1e-10, trafo_model="t",
                        trafo_loading="current", enforce_p_lims=False, enforce_q_lims=False,
                        check_connectivity=True, voltage_depend_loads=True,
                        passed_parameters=None, init_vm_pu=1.0, init_va_degree="dc",
                        numba=False)
    for key, want in {"init_vm_pu": 1.0, "init_va_degree": "dc", "numba": False,
                      "tolerance_mva": 1e-10}.items():
        assert net._options.get(key) == want, _changed(
            f"_init_runpp_options no longer stores {key}={want!r} in net._options")
    _add_auxiliary_elements(net)
    net._pd2ppc_lookups = {k: np.array([], dtype=np.int64) for k in
                           ("bus", "bus_dc", "ext_grid", "gen", "branch", "branch_dc")}
    _, ppci = _pd2ppc(net)
    out = _get_pf_variables_from_ppci(ppci, True)
    ref, pv, pq, v0 = out[-7], out[-6], out[-5], out[-2]
    layout = f"_get_pf_variables_from_ppci returns {len(out)} items"
    assert (len(ref), len(pv), len(pq)) == (1, 2, 6), _changed(layout + " in another order")
    assert np.iscomplexobj(v0) and len(v0) == 9, _changed(layout + ": V0 is not at -2")
    assert out[0] == net.sn_mva, _changed(layout + ": baseMVA is not first")


# ----------------------------------------------------------------------------- bench reference
def _fake_run(name: str = "flagship") -> dict:
    from parkgrid.bench import SUITE_VERSION

    return {"suite_version": SUITE_VERSION, "created_utc": "2026-01-01T00:00:00Z",
            "git": {"commit": "abc"},
            "cases": [{"name": name, "kind": "park", "source": "flagship_park.toml",
                       "steps": 35040, "full_year": True,
                       "kpis": {"self_sufficiency": 0.5, "imported_mwh": 123.0}}]}


def _install_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *,
                    checkout: bool) -> Path:
    """The suite's reference at <root>/parkgrid/bench/, <root> a checkout or site-packages."""
    import parkgrid.bench.compare as compare

    root = tmp_path / ("checkout" if checkout else "site-packages")
    ref = root / "parkgrid" / "bench" / "reference_kpis.json"
    ref.parent.mkdir(parents=True)
    shutil.copyfile(compare.REFERENCE_PATH, ref)
    if checkout:
        (root / "pyproject.toml").write_text('[project]\nname = "parkgrid"\n')
    monkeypatch.setattr(compare, "REFERENCE_PATH", ref)
    return ref


def test_update_reference_refuses_an_installed_package_before_running(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import parkgrid.bench.runner as runner

    ref = _install_layout(tmp_path, monkeypatch, checkout=False)
    before = ref.read_bytes()

    def must_not_run(*args: object, **kwargs: object) -> dict:
        raise AssertionError("the suite ran although the reference cannot be written")

    monkeypatch.setattr(runner, "run_suite", must_not_run)
    assert main(["bench", "flagship", "--update-reference", "-q"]) == 2
    err = capsys.readouterr().err
    assert "--reference PATH" in err and str(ref) in err and "installed" in err
    assert ref.read_bytes() == before
    assert sorted(p.name for p in ref.parent.iterdir()) == ["reference_kpis.json"]


@pytest.mark.parametrize("checkout", [False, True])
def test_update_reference_writes_the_named_file_or_the_checkout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checkout: bool) -> None:
    import parkgrid.bench.runner as runner

    ref = _install_layout(tmp_path, monkeypatch, checkout=checkout)
    before = ref.read_bytes()
    monkeypatch.setattr(runner, "run_suite", lambda *a, **k: _fake_run())
    mine = tmp_path / "mine.json"
    argv = ["bench", "flagship", "--update-reference", "-q"]
    assert main([*argv, "--reference", str(mine)]) == 0
    assert json.loads(mine.read_text())["cases"]["flagship"]["kpis"] == {
        "self_sufficiency": 0.5, "imported_mwh": 123.0}
    assert ref.read_bytes() == before  # --reference names the only file written
    code = main(argv)
    if checkout:
        assert code == 0
        assert json.loads(ref.read_text())["cases"]["flagship"]["kpis"]["imported_mwh"] == 123.0
    else:
        assert code == 2 and ref.read_bytes() == before
    assert sorted(p.name for p in ref.parent.iterdir()) == ["reference_kpis.json"]


def test_this_checkout_is_recognised_as_one() -> None:
    from parkgrid.bench.cli import reference_to_update
    from parkgrid.bench.compare import REFERENCE_PATH

    if not (REFERENCE_PATH.parents[2] / "pyproject.toml").is_file():
        pytest.skip("parkgrid is installed, not run from its checkout")
    assert reference_to_update(None, REFERENCE_PATH) == REFERENCE_PATH
