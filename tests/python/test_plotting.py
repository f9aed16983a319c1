"""Tests of chipcast.plotting: each chart type renders from real output folders (written by the
chipcast binary named by CHIPCAST_EXE) with its key elements, determinism, report.html."""

import base64
import csv
import json
import math
import os
import shutil
import subprocess

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("pandas")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from chipcast import plotting  # noqa: E402

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXE = os.environ.get("CHIPCAST_EXE")
needs_exe = pytest.mark.skipif(not EXE, reason="CHIPCAST_EXE (the chipcast binary) is not set")


def chipcast(*args):
    r = subprocess.run([EXE, *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="session")
def folders(tmp_path_factory):
    """A run folder (with a sensitivity study copied in), a compare folder, a sensitivity folder."""
    if not EXE:
        pytest.skip("CHIPCAST_EXE (the chipcast binary) is not set")
    root = tmp_path_factory.mktemp("folders")
    cfg = os.path.join(SOURCE, "configs")
    chipcast("run", os.path.join(cfg, "baseline.toml"), "-n", "4000", "--seed", "5", "--threads", "1", "--quiet",
             "--out", str(root / "run"))
    chipcast("compare", os.path.join(cfg, "baseline.toml"), os.path.join(cfg, "controls_tightened.toml"),
             os.path.join(cfg, "taiwan_disruption.toml"), "-n", "4000", "--threads", "1", "--quiet", "--out",
             str(root / "cmp"))
    chipcast("sensitivity", os.path.join(cfg, "baseline.toml"), "--base-samples", "64", "--tornado-trajectories",
             "64", "--bootstrap", "10", "--seed", "9", "--threads", "1", "--quiet", "--out", str(root / "sens"))
    shutil.copytree(root / "run", root / "runsens")
    shutil.copy(root / "sens" / "sensitivity.json", root / "runsens" / "sensitivity.json")
    return root


def all_texts(fig):
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


def read_csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_format_value_never_negative_zero():
    assert plotting.format_value(-0.001) == "0.00"
    assert plotting.format_value(-0.0) == "0.00"
    assert plotting.format_value(-0.004999, 2) == "0.00"
    assert plotting.format_value(-0.005001, 2) == "-0.01"
    assert plotting.format_value(0.126, 2) == "0.13"
    assert plotting.format_value(None) == "n/a"


def test_not_an_output_folder(tmp_path):
    with pytest.raises(plotting.OutputFolderError, match="no summary.json, sensitivity.json, compare.json, score.json or calibration.json"):
        plotting.read_output_dir(tmp_path)
    (tmp_path / "summary.json").write_text("{}")
    with pytest.raises(plotting.OutputFolderError, match="crossing.csv: missing"):
        plotting.read_output_dir(tmp_path)


def test_malformed_csv_names_file_line_and_column(folders, tmp_path):
    d = tmp_path / "bad"
    shutil.copytree(folders / "run", d)
    lines = (d / "bands.csv").read_text().splitlines()
    fields = lines[3].split(",")
    fields[4] = "abc"
    lines[3] = ",".join(fields)
    (d / "bands.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(plotting.OutputFolderError, match=r"bands.csv: line 4: column q25: 'abc' is not a number"):
        plotting.read_output_dir(d)


@needs_exe
def test_read_output_dir_kinds(folders):
    run = plotting.read_output_dir(folders / "run")
    assert run.summary["trajectories"] == 4000 and run.sensitivity is None and run.compare is None
    # baseline.toml starts on a year boundary with quarters: it has calendar-year totals.
    assert list(run.annual.columns) == ["metric", "series", "year", "q05", "q25", "q50", "q75", "q95"]
    assert sorted(set(run.annual["series"])) == ["domestic", "foreign", "ratio"]
    assert list(run.crossing.columns) == ["metric", "year", "p_crossed", "stderr", "lo95", "hi95"]
    cmp = plotting.read_output_dir(folders / "cmp")
    assert cmp.summary is None and cmp.compare["trajectories"] == 4000
    sens = plotting.read_output_dir(folders / "sens")
    assert sens.summary is None and sens.sensitivity["base_samples"] == 64


@needs_exe
def test_fan_charts_share_one_log_axis_that_holds_every_quantile(folders):
    data = plotting.read_output_dir(folders / "run")
    plots = plotting.RunPlots(data)
    # Oracle: the finite positive ratio quantiles of bands.csv, read with the csv module.
    values = []
    for row in read_csv_rows(folders / "run" / "bands.csv"):
        if row["series"] == "ratio":
            for k in ("q05", "q25", "q50", "q75", "q95"):
                v = float(row[k])
                if math.isfinite(v) and v > 0:
                    values.append(v)
    limits = set()
    for metric in ("units", "compute", "memory"):
        ax = plots.fan(metric).axes[0]
        assert ax.get_yscale() == "log"
        limits.add(ax.get_ylim())
        assert ax.get_title(loc="left").startswith(plotting.metric_label(metric))
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels[:3] == ["5\u201395 % band", "25\u201375 % band", "median"]
    assert len(limits) == 1, limits
    lo, hi = limits.pop()
    assert lo <= min(values) and hi >= max(values)
    assert math.log10(lo) == int(math.log10(lo)) and math.log10(hi) == int(math.log10(hi))  # whole decades


@needs_exe
def test_cdf_band_is_drawn_and_in_the_legend(folders):
    data = plotting.read_output_dir(folders / "run")
    fig = plotting.RunPlots(data).cdf("units")
    ax, dev = fig.axes
    assert ax.get_ylim() == (0.0, 1.0)
    assert "95 % Wilson interval (Monte Carlo error)" in [t.get_text() for t in ax.get_legend().get_texts()]
    rows = [r for r in read_csv_rows(folders / "run" / "crossing.csv") if r["metric"] == "units"]
    widest = max(float(r["hi95"]) - float(r["lo95"]) for r in rows)
    # The lower panel shows the band in percentage points: its range covers the band on both sides of
    # the estimate (the Wilson interval is not symmetric near 0 and 1) and the band fills a visible
    # share of it (at least a third), whatever the trajectory count.
    above = max(float(r["hi95"]) - float(r["p_crossed"]) for r in rows)
    below = max(float(r["p_crossed"]) - float(r["lo95"]) for r in rows)
    lo, hi = dev.get_ylim()
    assert hi >= 100 * above * 0.999 and lo <= -100 * below * 0.999
    assert 100 * widest / (hi - lo) > 1 / 3
    assert any(isinstance(c, PolyCollection) for c in dev.collections)


@needs_exe
def test_tornado_full_names_own_provenance_censoring(folders):
    data = plotting.read_output_dir(folders / "runsens")
    study = json.loads((folders / "sens" / "sensitivity.json").read_text())
    run = json.loads((folders / "runsens" / "summary.json").read_text())
    sp = plotting.SensitivityPlots(data)
    fig = sp.tornado()
    ax = fig.axes[0]
    # Rows: by |high - low| from sensitivity.json, at most max_rows, names whole.
    expected = sorted(study["tornado"], key=lambda e: -abs(e["high"] - e["low"]))[: sp.max_rows]
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == [e["parameter"] for e in expected]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 2 * len(expected)
    FigureCanvasAgg(fig).draw()  # lays the figure out as savefig(png) does
    box = fig.bbox
    for label in ax.get_yticklabels():
        ext = label.get_window_extent()
        assert ext.x0 >= box.x0 - 0.5 and ext.x1 <= box.x1 + 0.5, label.get_text()
    text = "\n".join(all_texts(fig))
    assert "%s trajectories in all" % plotting._group_digits(study["trajectories_run"]) in text
    assert study["config_sha256"][:12] in text
    assert run["config_sha256"][:12] not in text  # not the forecast run's provenance
    assert "%s trajectories" % plotting._group_digits(run["trajectories"]) not in text
    assert "did not reach parity by the horizon 2060" in text.replace("\n", " ")


@needs_exe
def test_sobol_bars_sorted_by_total_and_no_negative_zero(folders):
    data = plotting.read_output_dir(folders / "sens")
    study = data.sensitivity
    sp = plotting.SensitivityPlots(data)
    fig = sp.sobol()
    ax = fig.axes[0]
    expected = sorted(study["indices"], key=lambda e: -e["total"])[: sp.max_rows]
    assert [t.get_text() for t in ax.get_yticklabels()] == [e["parameter"] for e in expected]
    assert len([p for p in ax.patches if isinstance(p, Rectangle)]) == 2 * len(expected)
    for t in all_texts(fig):
        assert "-0.00" not in t and "\u22120.00" not in t, t
    labels = [t.get_text() for t in ax.texts]
    assert plotting.format_value(expected[0]["total"], 2) in labels


@needs_exe
def test_compare_shift_lines_and_paired_bands(folders):
    data = plotting.read_output_dir(folders / "cmp")
    fig = plotting.ComparePlots(data).shift("units")
    ax = fig.axes[0]
    lines = [l for l in ax.get_lines() if len(l.get_xdata()) > 2]
    assert len(lines) == 2  # two scenarios against the baseline
    rows = data.compare["comparisons"][0]["metrics"]["units"]["p_parity_by"]
    assert [round(v, 9) for v in lines[0].get_ydata()] == [round(100 * r["shift"], 9) for r in rows]
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 2
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels.count("paired 95 % interval") == 2
    assert "controls_tightened.toml \u2212 baseline" in labels


@needs_exe
def test_annual_totals_fan(folders, tmp_path):
    d = tmp_path / "annual"
    shutil.copytree(folders / "run", d)
    rows = ["metric,series,year,q05,q25,q50,q75,q95"]
    for metric in ("units", "compute", "memory"):
        for series, scale in (("domestic", 1.0), ("foreign", 10.0), ("ratio", 0.1)):
            for year in range(2026, 2031):
                g = scale * 1.3 ** (year - 2026)
                rows.append("%s,%s,%d,%g,%g,%g,%g,%g" % (metric, series, year, g * 0.5, g * 0.8, g, g * 1.2, g * 2))
    (d / "annual.csv").write_text("\n".join(rows) + "\n")
    data = plotting.read_output_dir(d)
    plots = plotting.RunPlots(data)
    assert plots.has_annual()
    ax = plots.annual("units").axes[0]
    assert ax.get_yscale() == "log"
    medians = [l for l in ax.get_lines() if len(l.get_xdata()) == 5]
    assert len(medians) == 2  # domestic and foreign
    assert list(medians[1].get_ydata()) == pytest.approx([10 * 1.3 ** k for k in range(5)])
    written = plotting.write_charts(d, tmp_path / "charts")
    assert "annual_units.svg" in written and "annual_memory.png" in written


@needs_exe
@pytest.mark.parametrize("kind,expected", [
    ("runsens", ["fan_units.svg", "cdf_memory.png", "tornado.svg", "sobol.png"]),
    ("cmp", ["shift_units.svg", "shift_memory.png"]),
    ("sens", ["tornado.svg", "sobol.svg"]),
])
def test_write_charts_is_byte_identical_and_report_is_whole(folders, tmp_path, kind, expected):
    a = plotting.write_charts(folders / kind, tmp_path / "a", name="X")
    b = plotting.write_charts(folders / kind, tmp_path / "b", name="X")
    assert a == b and a[-1] == "report.html"
    for name in expected:
        assert name in a
    for name in a:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    page = (tmp_path / "a" / "report.html").read_text()
    pngs = page.split('src="data:image/png;base64,')[1:]
    assert len(pngs) == len([n for n in a if n.endswith(".png")])
    for chunk in pngs:
        assert base64.b64decode(chunk.split('"', 1)[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "http://" not in page and "https://" not in page and "<script" not in page


@needs_exe
def test_report_sensitivity_section_ranked_and_grouped(folders, tmp_path):
    plotting.write_charts(folders / "runsens", tmp_path)
    page = (tmp_path / "report.html").read_text()
    study = json.loads((folders / "sens" / "sensitivity.json").read_text())
    assert "<h2>Headline</h2>" in page and "Provenance of the run" in page and "Provenance of the study" in page
    ranked = sorted(study["indices"], key=lambda e: -e["total"])
    # Every factor appears once with its overall rank, and the groups are headed by the model part.
    for rank, e in enumerate(ranked, 1):
        assert "<td>%d</td><td>%s</td>" % (rank, e["parameter"]) in page
    for group in ("domestic", "foreign"):
        assert "<h3>%s</h3>" % group in page
    # Within a group, the rows follow the total index.
    section = page.split("<h3>domestic</h3>", 1)[1].split("</table>", 1)[0]
    dom = [e["parameter"] for e in ranked if e["parameter"].startswith("domestic.")]
    positions = [section.index("<td>%s</td>" % p) for p in dom]
    assert positions == sorted(positions)
