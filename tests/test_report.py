"""HTML report, its figures, targets and compare; the report in headless Chromium."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb

from parkgrid.cli import main
from parkgrid.compare import compare_results
from parkgrid.kpis import KPI_INFO
from parkgrid.report import check_targets, render_report
from parkgrid.report import figures as F
from parkgrid.report.targets import TARGETS
from parkgrid.scenario.schema import SECTIONS

ROOT = Path(__file__).resolve().parents[1]
N_FIGURES = 11  # balance, 2 weeks, storage, carpets, durations, Sankey, emissions; carbon:
# scopes, green-share carpet, hydrogen by class

TINY = """\
[scenario]
name = "{name}"
year = 2025

[powerflow]
steps = "day:180"

[grid]
import_limit_mw = 50.0
export_limit_mw = 20.0

[[pv]]
name = "PV"
bus = "PV-A 35kV"
p_mw = {pv_mw}

[[load]]
name = "Offices"
bus = "Offices 10kV"
profile = "load_offices_pu"
peak_mw = 10.0

[targets]
clean_power_share_min = 0.5
self_consumption_ratio_min = 0.9
"""


def tiny_result(folder: Path, name: str, pv_mw: float):
    import parkgrid

    path = folder / f"{name}.toml"
    path.write_text(TINY.format(name=name, pv_mw=pv_mw), encoding="utf-8")
    return parkgrid.simulate(path)


@pytest.fixture(scope="module")
def report_html(flagship_result, tmp_path_factory) -> Path:
    scenario = dataclasses.replace(flagship_result.scenario, targets=(
        ("clean_power_share_min", 0.5), ("green_h2_t_per_yr_min", 400_000.0)))
    result = dataclasses.replace(flagship_result, scenario=scenario)
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report(result), encoding="utf-8")
    return path


def test_report_is_self_contained_with_every_section(report_html, flagship_result):
    html = report_html.read_text()
    assert html.count("<img class='figure'") == N_FIGURES
    assert len(re.findall(r"src='data:image/png;base64,[A-Za-z0-9+/=]{1000,}'", html)) == N_FIGURES
    # nothing fetched from elsewhere
    assert not re.search(r"(src|href)=['\"](https?:|//|file:)", html)
    for heading in ("Monthly energy balance", "Battery and hydrogen tank", "Carpet plots",
                    "Duration curves", "Energy flows", "Emissions by month", "Targets",
                    "Key performance indicators", "Carbon and green power",
                    "Carbon: scopes by month", "Carbon: hydrogen by class"):
        assert f"<h2>{heading}</h2>" in html, heading
    for k in flagship_result.kpis:  # every KPI with its definition
        assert f"<code>{k}</code>" in html
        assert KPI_INFO[k][1].replace("<", "&lt;").replace(">", "&gt;") in html
    # the two targets: the share is met (1.0 >= 0.5), 400 kt of H2 is not (~5.3 kt)
    assert re.search(r"clean_power_share_min.*?<td class='pass'>pass</td>", html)
    assert re.search(r"green_h2_t_per_yr_min.*?<td class='fail'>fail</td>", html)
    assert flagship_result.metadata()["scenario_hash"][:16] in html


def test_pick_weeks_finds_the_highest_curtailment_and_import_weeks():
    idx = pd.date_range("2025-01-01", periods=96 * 70, freq="15min")
    ts = pd.DataFrame({"curtailed_mw": 0.0, "grid_import_mw": 1.0}, index=idx)
    ts.loc["2025-01-29":"2025-01-30", "curtailed_mw"] = 5.0  # days 29-30: week 5
    ts.loc["2025-02-26", "grid_import_mw"] = 9.0  # day 57: week 9
    weeks = F.pick_weeks(ts)
    assert [w for w, _ in weeks] == [5, 9]
    assert "highest curtailment: 240 MWh" in weeks[0][1]  # 2 days x 96 steps x 5 MW x 0.25 h
    ts["grid_import_mw"] = 0.0
    ts.loc["2025-01-30", "grid_import_mw"] = 3.0  # same week: one entry
    assert [w for w, _ in F.pick_weeks(ts)] == [5]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", None])
def test_time_axes_are_drawn_in_the_index_time_zone(zone):
    """Week and storage figures take their x values as UTC datetime64 (fast to convert)
    and still place the data at its instants and the day ticks at local midnight; the
    storage figure's days in New York cross both daylight-saving changes."""
    import matplotlib.dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def instants(ax, line):  # the x data as drawn, back in the index's zone
        utc = pd.DatetimeIndex(mdates.num2date(np.asarray(line.get_xdata(orig=False),
                                                          dtype=float)))
        return utc.tz_convert(zone)  # zone None: naive (matplotlib's naive is UTC)

    idx = pd.date_range("2025-01-01", periods=96 * 365, freq="15min", tz=zone)
    rng = np.random.default_rng(1)
    ts = pd.DataFrame({"pv_avail_mw": rng.uniform(0, 5, len(idx)), "load_mw": 3.0,
                       "grid_import_mw": 1.0, "battery.b1.soc_pu": rng.uniform(0, 1, len(idx))},
                      index=idx)
    week = F.week_figure(ts, 3)  # 15-21 January
    ax = week.axes[0]
    FigureCanvasAgg(week).draw()
    x = instants(ax, ax.get_lines()[0])  # "RES available", one point per step
    part = ts.loc["2025-01-15":"2025-01-21"].index
    assert len(x) == len(part) and abs(x - part).max() < pd.Timedelta("1ms")
    ticks = [mdates.num2date(t, tz=zone or "UTC") for t in ax.get_xticks()]
    assert len(ticks) >= 5 and all((t.hour, t.minute) == (0, 0) for t in ticks)
    storage = F.storage_figure(ts)
    ax = storage.axes[0]
    FigureCanvasAgg(storage).draw()
    days = instants(ax, ax.get_lines()[0])  # daily mean of the state of charge
    want = ts.resample("D").mean().index
    assert len(days) == len(want) and abs(days - want).max() < pd.Timedelta("1ms")


def test_fixed_titles_clear_everything_drawn_above_their_axes(flagship_result):
    """Titles sit at the top of their axes (``axes.titley`` 1.0 in the draw settings,
    not placed automatically): no title of the report's figures or the dispatch
    figure may overlap another text or the axes below it."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from parkgrid.plotting import DRAW_RC, dispatch_figure
    from parkgrid.report.html import report_figure_jobs, report_figure_specs

    specs, _ = report_figure_specs(flagship_result)
    jobs = [*report_figure_jobs(specs), (lambda: dispatch_figure(flagship_result), 110,
                                         DRAW_RC)]
    n_titles = 0
    for make, dpi, rc in jobs:
        assert rc["axes.titley"] == 1.0
        with mpl.rc_context(rc):
            fig = make()
            fig.set_dpi(dpi)
            canvas = FigureCanvasAgg(fig)
            canvas.draw()
            r = canvas.get_renderer()
            texts = [t for t in fig.findobj(mpl.text.Text) if t.get_visible() and t.get_text()]
            for ax in fig.axes:
                for title in (ax.title, ax._left_title, ax._right_title):
                    if title.get_text():
                        n_titles += 1
                        _assert_clear(title, ax, texts, r)
    assert n_titles >= 12


def _assert_clear(title, ax, texts, r):
    """*title* is above its axes *ax* and overlaps none of *texts* (renderer *r*)."""
    box = title.get_window_extent(r)
    assert box.y0 >= ax.get_window_extent(r).y1 - 1, title.get_text()
    for t in texts:
        if t is not title and t.get_window_extent(r).overlaps(box):
            pytest.fail(f"title {title.get_text()!r} overlaps {t.get_text()!r}")


def test_every_axis_has_units_and_technologies_keep_their_colours(flagship_result):
    ts, net = flagship_result.timeseries, flagship_result.network
    figs = [F.monthly_balance_figure(ts), F.week_figure(ts, 28), F.storage_figure(ts),
            F.carpet_figure(ts), F.duration_figure(ts, net), F.emissions_figure(ts, 0.6849)]
    for fig in figs:
        for ax in fig.axes:
            if ax.get_label() == "<colorbar>":
                assert "[MW]" in ax.get_ylabel()
                continue
            assert re.search(r"\[.+\]", ax.get_ylabel()), ax.get_title()
            assert ax.get_xlabel(), ax.get_title()
    bars = figs[0].axes[0].containers
    by_label = {c.get_label(): c for c in bars}
    assert np.allclose(by_label["pv"].patches[0].get_facecolor()[:3], to_rgb(F.COLOURS["pv"]))
    assert np.allclose(by_label["curtailed"].patches[0].get_facecolor()[:3],
                       to_rgb(F.COLOURS["curtailed"]))


def test_duration_and_emission_figures_show_the_numbers(flagship_result):
    ts, net = flagship_result.timeseries, flagship_result.network
    ax = F.duration_figure(ts, net).axes[0]
    imp = ax.get_lines()[0].get_ydata()
    assert imp[0] == pytest.approx(ts["grid_import_mw"].max())
    assert np.all(np.diff(imp) <= 0)
    vmax_line = F.duration_figure(ts, net).axes[1].get_lines()[0].get_ydata()
    assert vmax_line[0] == pytest.approx(flagship_result.kpis["vm_max_pu"])
    bars = F.emissions_figure(ts, 0.6849).axes[0].patches
    total = sum(b.get_height() for b in bars)
    assert total == pytest.approx(flagship_result.kpis["co2_t"], rel=1e-12)


def test_thinned_sorted_curves_keep_both_ends_and_every_pixel(flagship_result):
    assert list(F.thin_sorted(5, points=8)) == [0, 1, 2, 3, 4]  # short: every point
    keep = F.thin_sorted(35_040)
    assert keep[0] == 0 and keep[-1] == 35_039
    assert len(keep) <= F.CURVE_POINTS
    assert np.all(np.diff(keep) > 0)
    # spacing of kept positions: 35,039 / 2,047 = 17.1 positions, never more than 18
    assert np.diff(keep).max() <= 18
    # the drawn duration curve starts at the highest and ends at the lowest import
    ts = flagship_result.timeseries
    line = F.duration_figure(ts, flagship_result.network).axes[0].get_lines()[0]
    assert line.get_ydata()[-1] == pytest.approx(ts["grid_import_mw"].min())
    assert line.get_xdata()[-1] == pytest.approx(len(ts) * 0.25)


def _small_figure(k: int):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1.5))
    fig.subplots().plot([0, 1, 2], [k, 2 * k, k * k])
    return fig


def test_figures_drawn_in_a_forked_worker_equal_those_drawn_here(monkeypatch):
    from parkgrid.report import work

    jobs = [(lambda k=k: _small_figure(k), 80, {"font.size": 9}) for k in range(5)]
    pngs, forked = [], []
    for idle in (0.0, 2.0):  # no worker, then the forked one drawing its share
        monkeypatch.setattr(work, "idle_cores", lambda idle=idle: idle)
        figures = work.FigureWork(lambda: jobs)
        figures.start()
        forked.append(figures.forked)
        pngs.append(figures.finish())
    assert forked == [False, True]
    assert pngs[1] == pngs[0]
    assert len(set(pngs[0])) == 5 and all(p.startswith(b"\x89PNG") for p in pngs[0])


def test_a_first_runs_low_priority_compiles_do_not_keep_the_figure_worker_away(monkeypatch):
    """The load average counts a first run's background compiles; those at low
    priority (the dispatch's) yield their core, so they count as idle."""
    from parkgrid import _ahead
    from parkgrid.report import work

    class Running:
        def poll(self):
            return None

    monkeypatch.setattr(work, "idle_cores", lambda: 0.2)  # 2 cores, load 1.8
    forked = []
    for family in (_ahead.POWERFLOW, _ahead.DISPATCH):  # normal priority, then niced
        monkeypatch.setattr(_ahead, "_PENDING", {family: (Running(), 0.0)})
        figures = work.FigureWork(lambda: [(lambda: _small_figure(1), 80, {})])
        figures.start()
        forked.append(figures.forked)
        figures.finish()
    assert forked == [False, True]


def test_results_saved_with_the_figure_worker_equal_those_saved_without(tmp_path, monkeypatch):
    from parkgrid.report import work

    result = tiny_result(tmp_path, "tiny", 8.0)
    folders, forked = [], []
    for idle in (0.0, 2.0):  # no worker, then the forked one drawing its share
        monkeypatch.setattr(work, "idle_cores", lambda idle=idle: idle)
        made: list[work.FigureWork] = []
        real_start = work.FigureWork.start

        def start(self, made=made, real_start=real_start):
            made.append(self)
            real_start(self)

        monkeypatch.setattr(work.FigureWork, "start", start)
        folders.append(result.save(tmp_path / f"idle{idle}", report=True))
        forked.append(made[0].forked)
    assert forked == [False, True]
    pngs = [re.findall(r"base64,([A-Za-z0-9+/=]+)'", (f / "report.html").read_text())
            for f in folders]
    assert len(pngs[0]) == N_FIGURES - 1 and pngs[1] == pngs[0]
    assert (folders[1] / "dispatch.png").read_bytes() == (folders[0] / "dispatch.png").read_bytes()


def test_pareto_front_by_hand():
    # (cost, co2): a=(1,5) b=(2,2) c=(3,3) dominated by b, d=(4,1), e=(5,5) dominated
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([5.0, 2.0, 3.0, 1.0, 5.0])
    assert F.pareto_front(x, y).tolist() == [True, True, False, True, False]
    sweep = pd.DataFrame({"net_cost_cny": x, "co2_t": y}, index=list("abcde"))
    fig = F.pareto_figure(sweep, "net_cost_cny", "co2_t", units=("CNY", "tCO2"))
    assert fig.axes[0].get_xlabel() == "net_cost_cny [CNY]"
    assert "3 on the Pareto front" in fig.axes[0].get_title(loc="left")


def test_targets_table_matches_the_schema_and_checks_both_directions():
    assert set(TARGETS) == set(SECTIONS["targets"].names)
    for key, (kpi, sense, _, _) in TARGETS.items():
        assert kpi in KPI_INFO and sense in (">=", "<=")
        assert key.endswith("_min") == (sense == ">=")
    kpis = {"green_share_annual": 0.49, "h2_target_class_kg": 400_000.0, "co2_total_t": 10.0,
            "h2_kgco2_per_kg": float("nan")}
    checks = check_targets([("clean_power_share_min", 0.5), ("green_h2_t_per_yr_min", 400.0),
                            ("co2_t_max", 9.0), ("h2_kgco2_per_kg_max", 1.0)], kpis)
    assert [c.status for c in checks] == ["fail", "pass", "fail", "n/a"]
    assert checks[1].value == pytest.approx(400.0) and checks[1].text == ">= 400 t/yr"


def test_targets_from_a_scenario_reach_the_kpi_table(tmp_path):
    result = tiny_result(tmp_path, "small", 30.0)
    assert tuple(result.scenario.targets) == (("clean_power_share_min", 0.5),
                                              ("self_consumption_ratio_min", 0.9))
    table = result.kpi_table()
    row = table.loc["green_share_annual"]
    assert row["target"] == ">= 0.5"
    assert row["status"] == ("pass" if result.kpis["green_share_annual"] >= 0.5 else "fail")
    assert table.loc["co2_t", "status"] == ""


def test_bad_target_is_a_validation_error(tmp_path):
    from parkgrid import ScenarioError, load_scenario

    path = tmp_path / "bad.toml"
    path.write_text(TINY.format(name="bad", pv_mw=1.0).replace("= 0.9", "= 1.5"))
    with pytest.raises(ScenarioError, match=r"targets.self_consumption_ratio_min: 1.5 is "
                                            r"outside the allowed range \[0, 1\]"):
        load_scenario(path)


def test_run_writes_the_report_and_report_command_rebuilds_it(tmp_path, capsys):
    tiny_result(tmp_path, "a", 30.0)  # writes a.toml
    out = tmp_path / "res"
    code = main(["run", str(tmp_path / "a.toml"), "-o", str(out)])
    printed = capsys.readouterr().out  # the KPI table is followed by the targets
    assert re.search(r"clean_power_share_min\s+>= 0.5\s+\S+\s+(pass|fail)", printed)
    assert code == (1 if re.search(r"\sfail$", printed, re.M) else 0)  # 1: a target missed
    html = (out / "report.html").read_text()
    # the tiny park has no electrolyser: no hydrogen-class figure
    assert html.count("<img class='figure'") == N_FIGURES - 1
    assert "<table class='targets'>" in html
    (out / "report.html").unlink()
    pd.DataFrame({"net_cost_cny": [3.0, 1.0, 2.0], "co2_t": [1.0, 3.0, 2.5]},
                 index=["x", "y", "z"]).to_csv(out / "sweep.csv")
    assert main(["report", str(out), "-q"]) == 0
    html = (out / "report.html").read_text()
    assert html.count("<img class='figure'") == N_FIGURES - 1 + 1
    assert "Sweep: Pareto plot" in html


def test_compare_result_folders(tmp_path, capsys):
    folders, results = [], []
    for name, pv in (("low", 10.0), ("high", 40.0)):
        r = tiny_result(tmp_path, name, pv)
        results.append(r)
        folders.append(r.save(tmp_path / name, figure=False))
    table, fig = compare_results(folders, output=tmp_path / "cmp.html")
    assert list(table.columns) == ["unit", "low", "high"]
    assert table.loc["pv_available_mwh", "high"] == pytest.approx(
        4 * table.loc["pv_available_mwh", "low"], rel=1e-12)
    assert table.loc["co2_t", "unit"] == "tCO2"
    labels = [ln.get_label() for ln in fig.axes[0].get_lines()]
    assert [t for t in labels if not t.startswith("_")] == ["low", "high"]
    loading = [ln for ln in fig.axes[1].get_lines() if not ln.get_label().startswith("_")]
    assert len(loading) == 2  # line loading from the power flow of each folder
    # each sorted year is drawn thinned, as the report's duration curves: both ends kept
    ts = results[0].timeseries
    exchange = (ts["grid_import_mw"] - ts["grid_export_mw"]).to_numpy()
    curve = fig.axes[0].get_lines()[0]
    assert len(curve.get_ydata()) <= F.CURVE_POINTS < len(ts)
    assert curve.get_ydata()[0] == exchange.max() and curve.get_ydata()[-1] == exchange.min()
    assert curve.get_xdata()[-1] == pytest.approx(len(ts) * 0.25)
    assert "<img class='figure'" in (tmp_path / "cmp.html").read_text()
    assert main(["compare", *map(str, folders)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"self_consumption_ratio\s+\S+\s+\S+\s+-", out)
    assert main(["compare", str(folders[0]), str(tmp_path / "nope")]) == 2
    assert "not a result folder" in capsys.readouterr().err


# ------------------------------------------------------------------ headless Chromium
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _browser(args: list[str], page: Path, profile: Path) -> subprocess.CompletedProcess:
    exe = _chromium()
    assert exe is not None
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--hide-scrollbars", "--force-device-scale-factor=1",
           f"--user-data-dir={profile}", *args, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def browser_check(page: Path, work: Path, width: int = 1200) -> tuple[str, list, np.ndarray]:
    """Load *page* in headless Chromium; return figures loaded, their boxes, a screenshot."""
    dom = _browser(["--dump-dom", f"--window-size={width},1000"], page, work / "p1").stdout
    loaded = re.search(r'data-figures-loaded="([^"]*)"', dom)
    rects = re.search(r'data-figure-rects="([^"]*)"', dom)
    height = re.search(r'data-page-height="(\d+)"', dom)
    assert loaded and rects is not None and height, "the page's load check did not run"
    boxes = [tuple(int(v) for v in r.split(",")) for r in rects.group(1).split(";") if r]
    shot = work / "screenshot.png"
    _browser([f"--screenshot={shot}", f"--window-size={width},{int(height.group(1)) + 20}"],
             page, work / "p2")
    from matplotlib.image import imread

    return loaded.group(1), boxes, imread(shot)[..., :3]


needs_chromium = pytest.mark.skipif(_chromium() is None,
                                    reason="headless Chromium not installed")


@needs_chromium
def test_report_renders_in_headless_chromium(report_html, tmp_path):
    loaded, boxes, img = browser_check(report_html, tmp_path)
    print(f"screenshot: {tmp_path / 'screenshot.png'}")
    assert loaded == f"{N_FIGURES}/{N_FIGURES}"
    assert len(boxes) == N_FIGURES
    assert img.std() > 0.1  # not blank
    for i, (x, y, w, h) in enumerate(boxes):
        assert w >= 1000 and h >= 300, f"figure {i + 1} is {w}x{h} px"
        crop = img[y:y + h, x:x + w]
        assert crop.shape[0] == h, f"figure {i + 1} lies outside the screenshot"
        ink = (crop.min(axis=2) < 0.9).mean()  # share of pixels that are not white
        assert ink > 0.02 and crop.std() > 0.05, f"figure {i + 1} looks empty"
    # the monthly balance shows the PV colour, the carpet the import red and export blue
    x, y, w, h = boxes[0]
    pv = np.array(to_rgb(F.COLOURS["pv"]))
    assert (np.abs(img[y:y + h, x:x + w] - pv).max(axis=2) < 0.03).mean() > 0.01


@needs_chromium
def test_browser_check_catches_a_broken_figure(tmp_path):
    good = render_report.__module__  # noqa: F841  (the check is the page script of the report)
    from parkgrid.report.html import _SCRIPT

    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><img class='figure' alt='broken' "
                    "src='data:image/png;base64,iVBORw0KGgoAAAAbroken'>"
                    f"<script>{_SCRIPT}</script></body></html>")
    loaded, _, _ = browser_check(page, tmp_path)
    assert loaded == "0/1"


def test_compare_with_one_scenario_file_hands_over_to_the_strategy_comparison(
        monkeypatch, capsys, tmp_path):
    import parkgrid.compare as opt

    seen = []
    monkeypatch.setattr(opt, "compare_scenario_file",
                        lambda path: seen.append(path) or "strategy table")
    assert main(["compare", str(tmp_path / "park.toml")]) == 0
    assert seen == [tmp_path / "park.toml"]
    assert "strategy table" in capsys.readouterr().out


def test_report_of_a_sweep_folder_lists_variants_and_draws_the_pareto_plot(tmp_path):
    # a sweep.parquet as 'parkgrid sweep' writes it: key, scenario, parameters, status, KPIs
    table = pd.DataFrame({
        "key": ["b100", "b200", "b300", "b400"], "scenario": [0, 1, 2, 3],
        "battery.p_mw": [100.0, 200.0, 300.0, 400.0], "status": ["ok", "ok", "ok", "failed"],
        "error": ["", "", "", "boom"], "wall_s": [1.0, 1.0, 1.0, 0.1],
        "net_cost_cny": [3.0, 2.0, 4.0, np.nan], "co2_t": [1.0, 2.0, 3.0, np.nan],
    })
    (tmp_path / "sw").mkdir()
    table.to_parquet(tmp_path / "sw" / "sweep.parquet")
    assert main(["report", str(tmp_path / "sw"), "-q"]) == 0
    html = (tmp_path / "sw" / "report.html").read_text()
    assert "4 variants, 3 ran" in html and "<code>b400</code>" not in html
    assert html.count("<img class='figure'") == 1 and "net_cost_cny against co2_t" in html
    fig = F.pareto_figure(table.iloc[:3].set_index("key"), "net_cost_cny", "co2_t")
    assert "2 on the Pareto front" in fig.axes[0].get_title(loc="left")  # b300 dominated
