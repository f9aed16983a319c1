"""Tests of the observation charts of chipcast.plotting: a score folder written by the chipcast
binary (CHIPCAST_EXE), and a calibrate folder in the documented layout (calibrate2 brief: prior/,
posterior/, calibration.json, calibration.csv, parameter_quantiles.csv) written here by hand for
the drawing only; its prior/ and posterior/ are real run folders."""

import json
import math
import os
import shutil
import statistics
import subprocess

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("pandas")

from matplotlib.container import ErrorbarContainer  # noqa: E402

from chipcast import plotting  # noqa: E402

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BASELINE = os.path.join(SOURCE, "configs", "baseline.toml")
EXE = os.environ.get("CHIPCAST_EXE")
needs_exe = pytest.mark.skipif(not EXE, reason="CHIPCAST_EXE (the chipcast binary) is not set")

# Two metrics observed (units in two blocs, memory as a ratio); 2026-2027 lie inside the baseline.
OBSERVATIONS = """
[[observations]]
year = 2026
bloc = "domestic"
metric = "units"
low = 300000.0
high = 900000.0
source = "test interval"

[[observations]]
year = 2027
bloc = "foreign"
metric = "units"
value = 8.0e6
sd_log = 0.3
source = "test value"

[[observations]]
year = 2026
bloc = "ratio"
metric = "memory"
low = 0.005
high = 0.05
source = "test ratio"
"""


def chipcast(*args, cwd=None):
    r = subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    if not EXE:
        pytest.skip("CHIPCAST_EXE (the chipcast binary) is not set")
    root = tmp_path_factory.mktemp("observed")
    (root / "obs.toml").write_text(OBSERVATIONS)
    for name, seed in (("run", 5), ("run2", 6)):
        chipcast("run", BASELINE, "-n", 3000, "--seed", seed, "--threads", 1, "--quiet", "--out", root / name)
    chipcast("score", root / "run", "--observations", root / "obs.toml", "--threads", 1, "--quiet")
    return root


def errorbars(ax):
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


@needs_exe
def test_score_folder_draws_the_runs_fan_and_every_observation_with_its_interval(root):
    data = plotting.read_output_dir(root / "run" / "score")
    assert data.score["trajectories"] == 3000 and data.run.summary["seed"] == 5
    plots = plotting.ObservedPlots(data)
    assert plots.metrics() == ["units", "memory"]
    fig = plots.observed("units")
    axes = [a for a in fig.axes if a.get_visible()]
    assert [a.get_title(loc="left") for a in axes] == ["domestic", "foreign"]
    annual = data.run.annual
    for ax, bloc, value, low, high in ((axes[0], "domestic", 519615, 3e5, 9e5),
                                       (axes[1], "foreign", 8e6, 8e6 * math.exp(-1.6449 * 0.3),
                                        8e6 * math.exp(1.6449 * 0.3))):
        assert ax.get_yscale() == "log"
        (bar,) = errorbars(ax)
        point, _, (segments,) = bar.lines
        assert list(point.get_ydata()) == pytest.approx([value], rel=1e-5)
        (seg,) = segments.get_segments()
        # The 90 % interval (score.csv has value and sd_log to 6 digits).
        assert [seg[0][1], seg[1][1]] == pytest.approx([low, high], rel=2e-5)
        median = [l for l in ax.get_lines() if l.get_marker() == "o" and len(l.get_xdata()) > 1]
        rows = annual[(annual["metric"] == "units") & (annual["series"] == bloc) & (annual["year"] <= 2037)]
        assert len(median) == 1 and list(median[0].get_ydata()) == list(rows.sort_values("year")["q50"])
        lo, hi = ax.get_ylim()
        assert lo <= low and hi >= high
    # From the first year to 10 years after the last observation.
    assert axes[-1].get_xlim() == (2025.5, 2037.5)
    texts = " ".join(" ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))).split())
    assert "observed, with its 90 % interval" in texts and "3 000 trajectories" in texts  # (split() also splits at the thin space)
    ratio = plots.observed("memory").axes
    assert [a.get_title(loc="left") for a in ratio] == ["domestic / foreign"]


@needs_exe
def test_chipcast_plot_on_a_score_folder(root, tmp_path):
    d = tmp_path / "run"
    shutil.copytree(root / "run", d)
    r = chipcast("plot", d / "score")
    names = [os.path.basename(l) for l in r.stdout.split()]
    assert names == ["annual_observed_units.svg", "annual_observed_units.png", "annual_observed_memory.svg",
                     "annual_observed_memory.png", "report.html"]
    page = (d / "score" / "report.html").read_text()
    assert "Score against observations" in page and "Provenance of the score" in page
    # Repeatable to the byte.
    again = plotting.write_charts(d / "score", tmp_path / "again", name=str(d / "score"))
    for n in again:
        assert (tmp_path / "again" / n).read_bytes() == (d / "score" / n).read_bytes(), n


@needs_exe
def test_score_folder_elsewhere_finds_its_run_or_says_why(root, tmp_path):
    chipcast("score", root / "run", "--observations", root / "obs.toml", "--threads", 1, "--quiet", "--out",
             tmp_path / "elsewhere")
    data = plotting.read_output_dir(tmp_path / "elsewhere")  # score.json names the run by an absolute path
    assert data.run.path == str(root / "run")
    doc = json.loads((tmp_path / "elsewhere" / "score.json").read_text())
    doc["seed"] = 99  # no longer that run
    (tmp_path / "elsewhere" / "score.json").write_text(json.dumps(doc))
    with pytest.raises(plotting.OutputFolderError, match="seed 99.*annual.csv"):
        plotting.read_output_dir(tmp_path / "elsewhere")


# --- a calibrate folder in the documented layout ---------------------------------------------

PARAMETERS = [
    # name, prior (mu, sigma) of ln value, posterior (mu, sigma): lognormal marginals
    ("domestic.wafers0", (math.log(40000), 0.5), (math.log(30000), 0.2)),
    ("domestic.hbm_growth", (math.log(0.5), 0.3), (math.log(0.55), 0.25)),
    ("foreign.wafer_growth", (math.log(0.2), 0.2), (math.log(0.2), 0.19)),
    ("policy.regimes.controls_tightened.domestic.a_very_long_effect_name", (0.0, 1.0), (0.1, 0.4)),
]


def quantile(mu_sigma, q):
    mu, sigma = mu_sigma
    return math.exp(statistics.NormalDist(mu, sigma).inv_cdf(q))


def shrink90(prior, post):
    return 1 - (quantile(post, 0.95) - quantile(post, 0.05)) / (quantile(prior, 0.95) - quantile(prior, 0.05))


def write_calibration(d, root, accepted=True):
    os.makedirs(d)
    shutil.copytree(root / "run", d / "prior")
    if accepted:
        shutil.copytree(root / "run2", d / "posterior")
    json.dump({"trajectories": 3000, "seed": 5, "accepted": 120 if accepted else 0,
               "accepted_share": 0.04 if accepted else 0.0, "warning": "only 120 accepted" if accepted else "none",
               "most_rejecting": "2027 foreign units", "version": "0.1.0", "config_path": BASELINE,
               "config_sha256": "ab" * 32, "backend": "openmp"}, open(d / "calibration.json", "w"))
    header = ("kind,name,year,bloc,metric,value,low,high,sd_log,prior_q05,prior_q50,prior_q95,prior_percentile,"
              "posterior_q05,posterior_q50,posterior_q95,posterior_percentile,shrink90,rejects,source")
    rows = [header,
            "observation,2026 domestic units,2026,domestic,units,519615,300000,900000,0.333945,1e5,3e5,7e5,0.8,"
            "2e5,4e5,8e5,0.6,,100,\"test interval\"",
            "observation,2027 foreign units,2027,foreign,units,8e+06,,,0.3,8e6,1.6e7,3e7,0.05,9e6,1.2e7,2e7,0.3,,"
            "2000,\"test value\"",
            "observation,2026 ratio memory,2026,ratio,memory,0.0158114,0.005,0.05,0.699916,0.003,0.014,0.06,0.56,"
            "0.004,0.015,0.05,0.5,,10,\"test ratio\""]
    for name, prior, post in PARAMETERS:
        p = [quantile(prior, q) for q in (0.05, 0.5, 0.95)]
        o = [quantile(post, q) for q in (0.05, 0.5, 0.95)] if accepted else ["", "", ""]
        s = shrink90(prior, post) if accepted else ""
        rows.append("parameter,%s,,,,,,,,%s,%s,%s,,%s,%s,%s,,%s,," % ((name,) + tuple(p) + tuple(o) + (s,)))
    (d / "calibration.csv").write_text("\n".join(rows) + "\n")
    q_rows = ["name,q,prior,posterior"]
    for name, prior, post in PARAMETERS:
        for k in range(1, 100):
            q = k / 100
            q_rows.append("%s,%.2f,%.10g,%s" % (name, q, quantile(prior, q),
                                                "%.10g" % quantile(post, q) if accepted else ""))
    (d / "parameter_quantiles.csv").write_text("\n".join(q_rows) + "\n")
    return d


@needs_exe
def test_marginals_rank_by_shrink90_and_draw_the_quantiles_as_cdfs(root, tmp_path):
    data = plotting.read_output_dir(write_calibration(tmp_path / "cal", root))
    plots = plotting.CalibrationPlots(data)
    expected = sorted(PARAMETERS, key=lambda p: -shrink90(p[1], p[2]))
    assert list(plots.ranked_parameters()["name"]) == [p[0] for p in expected]
    fig = plots.marginals(count=3)
    shown = [a for a in fig.axes if a.get_visible()]
    assert len(shown) == 3 and len(fig.axes) == 3
    for ax, (name, prior, post) in zip(shown, expected):
        title = ax.get_title(loc="left")
        assert title.replace("\n", "").startswith(name)  # full name, wrapped, never cut
        assert "narrower by %.0f %%" % (100 * shrink90(prior, post)) in title
        prior_line, post_line = [l for l in ax.get_lines() if len(l.get_xdata()) == 99]
        assert list(post_line.get_ydata()) == pytest.approx([k / 100 for k in range(1, 100)])
        assert list(prior_line.get_xdata()) == pytest.approx([quantile(prior, k / 100) for k in range(1, 100)])
        assert list(post_line.get_xdata()) == pytest.approx([quantile(post, k / 100) for k in range(1, 100)])
    # A log axis where the values span 20x or more: the policy effect's (sigma 1: q99/q01 = 105),
    # not wafers0's (sigma 0.5: 10x).
    assert [a.get_xscale() for a in shown[:2]] == ["linear", "log"]
    assert [p[0] for p in expected[:2]] == ["domestic.wafers0", PARAMETERS[3][0]]
    assert len([a for a in plots.marginals().axes if a.get_visible()]) == 4  # all four: fewer than 6


@needs_exe
def test_calibrate_folder_draws_prior_and_posterior_fans_and_the_observations(root, tmp_path):
    d = write_calibration(tmp_path / "cal", root)
    data = plotting.read_output_dir(d)
    plots = plotting.CalibrationPlots(data)
    assert [k for k, _ in plots.fans()] == ["prior", "posterior"]
    fig = plots.observed("units")
    for ax in fig.axes:
        medians = [l for l in ax.get_lines() if l.get_marker() == "o" and len(l.get_xdata()) > 1]
        assert len(medians) == 2  # prior and posterior
        assert len(errorbars(ax)) == 1
    (bar,) = errorbars(fig.axes[0])
    (seg,) = bar.lines[2][0].get_segments()
    assert [seg[0][1], seg[1][1]] == [300000, 900000]  # the interval as given in calibration.csv
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "prior median" in labels and "posterior 5\u201395 %" in labels
    written = plotting.write_charts(d, tmp_path / "charts")
    assert written == ["marginals.svg", "marginals.png", "annual_observed_units.svg", "annual_observed_units.png",
                       "annual_observed_memory.svg", "annual_observed_memory.png", "report.html"]
    page = (tmp_path / "charts" / "report.html").read_text()
    assert "<h2>Calibration</h2>" in page and "Provenance of the calibration" in page
    assert page.index("policy.regimes.controls_tightened") < page.index("foreign.wafer_growth")  # ranked


@needs_exe
def test_calibrate_folder_with_none_accepted_draws_no_posterior(root, tmp_path):
    d = write_calibration(tmp_path / "cal0", root, accepted=False)
    data = plotting.read_output_dir(d)
    assert data.posterior is None
    plots = plotting.CalibrationPlots(data)
    assert [k for k, _ in plots.fans()] == ["prior"]
    with pytest.raises(ValueError, match="no parameter has a posterior"):
        plots.marginals()
    texts = " ".join(" ".join(t.get_text() for t in plots.observed("units").findobj(lambda a: hasattr(a, "get_text"))).split())
    assert "No trajectory was accepted: no posterior is drawn." in texts
    r = chipcast("plot", d)
    names = [os.path.basename(l) for l in r.stdout.split()]
    assert "marginals.svg" not in names and "annual_observed_units.png" in names
    assert sorted(os.listdir(d / "prior")) == sorted(os.listdir(root / "run"))  # sub-folders kept as they were


@needs_exe
def test_scoring_or_calibrating_again_removes_the_charts_of_the_earlier_set(root, tmp_path):
    # The charts drew the earlier score / calibration: a new set replaces them as a whole (as run's
    # do), and the user's own files stay.
    d = tmp_path / "run"
    shutil.copytree(root / "run", d)
    chipcast("plot", d / "score")
    (d / "score" / "notes.txt").write_text("mine")
    assert (d / "score" / "annual_observed_units.svg").exists()
    chipcast("score", d, "--observations", root / "obs.toml", "--threads", 1, "--quiet")
    assert sorted(os.listdir(d / "score")) == ["notes.txt", "score.csv", "score.json"]
    cal = tmp_path / "cal"
    args = ("calibrate", BASELINE, "--observations", root / "obs.toml", "-n", 2000, "--seed", 3, "--threads", 1,
            "--quiet", "--out", cal)
    chipcast(*args)
    chipcast("plot", cal)
    assert (cal / "marginals.png").exists() and (cal / "report.html").exists()
    chipcast(*args)
    assert sorted(os.listdir(cal)) == ["calibration.csv", "calibration.json", "parameter_quantiles.csv", "posterior",
                                       "prior"]
