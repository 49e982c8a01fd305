"""The network cache (issue 17): a run that reads its network as data, without pandapower.

A cached run and an uncached one give the same KPIs, time series, network results
and results files; a truncated, altered or pickled cache file is refused (no code
runs) and rebuilt; a changed network file is a new entry; and a cached run does not
import pandapower at all.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import parkgrid
from parkgrid.netcache import CACHE_ENV, FORMAT, LiteNet, cache_dir
from parkgrid.network import build_park_net, lite_park_net
from parkgrid.powerflow import cached_base_model, check_profiles, with_injections
from parkgrid.powerflow._model import build_model, model_arrays, model_from_arrays
from parkgrid.result import scenario_hash

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "examples" / "flagship_park.toml"
STEPS = "day:190"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


def _entry(cache: Path) -> Path:
    (entry,) = (cache / f"net-v{FORMAT}").iterdir()
    return entry


def _run(cached: bool, steps: object = STEPS):
    scenario = parkgrid.load_scenario(FLAGSHIP, cached_network=cached)
    return parkgrid.simulate(scenario, pf_steps=steps)


def _assert_same(a, b) -> None:
    assert a.kpis.keys() == b.kpis.keys()
    for k, v in a.kpis.items():
        assert (v == b.kpis[k]) or (np.isnan(v) and np.isnan(b.kpis[k])), k
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    for name in ("vm_pu", "va_degree", "line_loading_percent", "line_p_from_mw",
                 "trafo_loading_percent", "ext_grid_p_mw", "ext_grid_q_mvar"):
        pd.testing.assert_frame_equal(getattr(a.network, name), getattr(b.network, name),
                                      check_exact=True)
    pd.testing.assert_series_equal(a.network.losses_mw, b.network.losses_mw, check_exact=True)
    for table, names in a.network.names.items():
        pd.testing.assert_series_equal(names, b.network.names[table])


def test_cached_run_equals_uncached_run_and_files(cache, tmp_path):
    plain = _run(cached=False)
    first = _run(cached=True)  # a miss: builds the entry
    assert isinstance(first.scenario.net, LiteNet)
    again = _run(cached=True)  # a hit
    assert isinstance(again.scenario.net, LiteNet) and again.scenario.net._real is None
    _assert_same(plain, first)
    _assert_same(plain, again)
    # the results folder: the same park network file and the same scenario hash
    plain.save(tmp_path / "plain", figure=False)
    first.save(tmp_path / "first", figure=False)  # stores the park network's file
    again.save(tmp_path / "cached", figure=False)
    name = "network/net.json"
    assert (tmp_path / "plain" / name).read_bytes() == (tmp_path / "cached" / name).read_bytes()
    name = "network/elements.parquet"  # (its metadata holds the time it was written)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "plain" / name),
                                  pd.read_parquet(tmp_path / "cached" / name))
    assert scenario_hash(plain.scenario) == scenario_hash(again.scenario)
    assert again.scenario.net._real is None  # saving needed no pandapower either
    for name in ("motor", "std_types", "no_such_table"):
        assert (name in again.scenario.net) == (name in plain.scenario.net)
    assert again.scenario.net._real is None


def test_cached_model_equals_pandapower_conversion(cache):
    scenario = parkgrid.load_scenario(FLAGSHIP, cached_network=True)
    real = parkgrid.load_scenario(FLAGSHIP)
    park, lite = build_park_net(real), lite_park_net(scenario)
    assert park.elements == lite.elements
    for table in ("bus", "line", "trafo", "ext_grid"):
        pd.testing.assert_frame_equal(scenario.net[table], real.net[table][
            scenario.net[table].columns], check_exact=True)
    ts = pd.DataFrame({c: np.linspace(0.0, 1.0, 4) for c in _asset_columns(real)})
    profiles = parkgrid.network.pf_profiles(real, park, ts)
    want = build_model(park.net, check_profiles(park.net, profiles))
    got = with_injections(cached_base_model(scenario.net), lite.net,
                          check_profiles(lite.net, profiles))
    assert got.keys == want.keys
    for name in ("inj_bus", "inj_coef", "bus_lookup", "v0", "sbus_base", "load_fac",
                 "load_br", "line_br", "loss_br", "eg_bus", "eg_s0"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    for name in ("ybus", "yf", "yt"):
        assert (getattr(got, name) != getattr(want, name)).nnz == 0


def _asset_columns(scenario) -> list[str]:
    from parkgrid.timeseries import asset_column

    cols = [asset_column(k, a.name, "p_mw") for k in ("pv", "wind", "load", "electrolyser",
                                                       "battery")
            for a in getattr(scenario, k)]
    return cols


class _Bomb:
    """Unpickling this would create the file *path*: proof that code ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def _tamper_cases(marker: Path) -> dict[str, object]:
    buf = io.BytesIO()
    np.save(buf, np.array([_Bomb(str(marker))], dtype=object), allow_pickle=True)
    return {
        "truncated model": ("model.npz", lambda b: b[: len(b) // 2]),
        "pickled model": ("model.npz", lambda b: _npz_with(b, "v0", buf.getvalue())),
        "pickle file": ("model.npz", lambda b: pickle.dumps(_Bomb(str(marker)))),
        "index out of range": ("model.npz", lambda b: _npz_changed(b, "f_bus", 10**6)),
        "wrong dtype": ("model.npz", lambda b: _npz_changed(b, "v0", None)),
        "truncated tables": ("tables.json", lambda b: b[: len(b) // 3]),
        "tables of another kind": ("tables.json", lambda b: _tables_changed(b)),
    }


def _npz_with(data: bytes, name: str, raw_npy: bytes) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.namelist():
            zout.writestr(item, raw_npy if item == f"{name}.npy" else zin.read(item))
    return out.getvalue()


def _npz_changed(data: bytes, name: str, value: int | None) -> bytes:
    with np.load(io.BytesIO(data)) as z:
        arrays = {k: z[k] for k in z.files}
    arrays[name] = (arrays[name].real.copy() if value is None
                    else np.full_like(arrays[name], value))
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def _tables_changed(data: bytes) -> bytes:
    raw = json.loads(data)
    bus = raw["tables"]["bus"]
    bus["index"] = bus["index"][:-1]  # one row fewer than the columns hold
    return json.dumps(raw).encode()


@pytest.mark.parametrize("case", ["truncated model", "pickled model", "pickle file",
                                  "index out of range", "wrong dtype", "truncated tables",
                                  "tables of another kind"])
def test_altered_cache_file_is_refused_and_rebuilt(cache, tmp_path, case):
    marker = tmp_path / "code-ran"
    first = parkgrid.load_scenario(FLAGSHIP, cached_network=True)  # builds the entry
    want = model_arrays(cached_base_model(first.net))
    name, change = _tamper_cases(marker)[case]  # type: ignore[misc]
    path = _entry(cache) / name
    path.write_bytes(change(path.read_bytes()))
    scenario = parkgrid.load_scenario(FLAGSHIP, cached_network=True)
    got = model_arrays(cached_base_model(scenario.net))
    assert not marker.exists()
    assert want.keys() == got.keys()
    for key, value in want.items():
        np.testing.assert_array_equal(got[key], value, err_msg=key)
        assert got[key].dtype == value.dtype
    for table in ("bus", "line", "trafo", "ext_grid", "load", "sgen"):
        pd.testing.assert_frame_equal(scenario.net[table], first.net[table], check_exact=True)
    assert scenario.net.unsupplied == first.net.unsupplied
    rebuilt = parkgrid.load_scenario(FLAGSHIP, cached_network=True)
    assert rebuilt.net._real is None  # the entry is whole again: a plain hit
    arrays = np.load(_entry(cache) / "model.npz", allow_pickle=False)
    model_from_arrays({k: arrays[k] for k in arrays.files})
    assert not marker.exists()


def test_changed_network_file_is_a_new_entry(cache, tmp_path):
    net_file = tmp_path / "park.json"
    net_file.write_text((ROOT / "networks" / "flagship_park.json").read_text())
    text = FLAGSHIP.read_text().replace('source = "flagship_park"', f'source = "{net_file}"')
    scenario_file = tmp_path / "s.toml"
    scenario_file.write_text(text)
    first = parkgrid.load_scenario(scenario_file, cached_network=True)
    hit = parkgrid.load_scenario(scenario_file, cached_network=True)
    assert hit.net._real is None
    net = first.net.real()
    solved = cached_base_model(first.net).line_br >= 0  # a line the power flow sees
    line = int(net.line.index[np.flatnonzero(solved)[0]])
    length = float(net.line.at[line, "length_km"])
    net.line.at[line, "length_km"] = 2 * length
    from parkgrid.result import _to_json

    net_file.write_text(_to_json(net))
    changed = parkgrid.load_scenario(scenario_file, cached_network=True)
    assert changed.net._real is not None  # a miss: converted again
    assert changed.net.line.at[line, "length_km"] == 2 * length
    assert len(list((cache / f"net-v{FORMAT}").iterdir())) == 2
    a = cached_base_model(hit.net)
    b = cached_base_model(changed.net)
    assert (a.ybus != b.ybus).nnz > 0


def test_cache_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, "off")
    assert cache_dir() is None
    scenario = parkgrid.load_scenario(FLAGSHIP, cached_network=True)
    assert not isinstance(scenario.net, LiteNet)
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "parkgrid"


def test_cached_run_command_does_not_import_pandapower(cache, tmp_path):
    # fills the cache: tables, model and the park network's file
    _run(cached=True, steps=(0, 1)).save(tmp_path / "warm", figure=False)
    prog = (
        "import sys\n"
        "from parkgrid.cli import main\n"
        f"code = main(['-q', 'run', {str(FLAGSHIP)!r}, '-o', {str(tmp_path / 'out')!r},"
        " '--pf-steps', 'day:1', '--no-figure'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == "
        "'pandapower'))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), CACHE_ENV: str(cache)}
    out = subprocess.run([sys.executable, "-c", prog], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
    assert (tmp_path / "out" / "network" / "net.json").is_file()
