# chipcast.calibrate against `chipcast run` / `chipcast calibrate`: the prior is the plain run, the files, none accepted.
import json
import subprocess
import warnings

import pandas
import pytest

import chipcast
from conftest import BASELINE, CHIPCAST_EXE, cli

N = 6000
SEED = 7

# Years the baseline (2026-2060) simulates in full; intervals wide enough that some hundreds of
# the N prior trajectories are accepted.
OBSERVATIONS = '''
[[observations]]
year = 2026
bloc = "domestic"
metric = "units"
low = 150000.0
high = 900000.0
source = "test: a wide interval, \\"quoted\\", with a comma"

[[observations]]
year = 2027
bloc = "foreign"
metric = "units"
value = 1.2e7
sd_log = 0.5
source = "test"
'''
# No simulated total comes near 1e15 units in 2026: every likelihood underflows to 0.
IMPOSSIBLE = '''
[[observations]]
year = 2026
bloc = "domestic"
metric = "units"
value = 1.0e15
sd_log = 0.01
source = "test: impossible"
'''


def has_calibrate_command():
    """Whether this chipcast lists a calibrate subcommand (the calibrate branch adds it)."""
    if not CHIPCAST_EXE.exists():
        return False
    listing = subprocess.run([str(CHIPCAST_EXE), "--help"], capture_output=True, text=True).stdout
    return any(line.split()[:1] == ["calibrate"] for line in listing.splitlines())


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory, exe):
    root = tmp_path_factory.mktemp("calibrate")
    (root / "obs.toml").write_text(OBSERVATIONS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = chipcast.calibrate(BASELINE, root / "obs.toml", trajectories=N, seed=SEED, threads=2, progress=False)
    return root, c, caught


def test_prior_is_the_plain_run(calibrated, tmp_path):
    _, c, _ = calibrated
    cli("run", BASELINE, "-n", N, "--seed", SEED, "--threads", 2, "--quiet", "--out", tmp_path / "run")
    for name in ("crossing.csv", "bands.csv", "annual.csv", "resolved.toml"):
        assert c.prior.files[name] == (tmp_path / "run" / name).read_bytes(), name
        assert c.files["prior/" + name] == c.prior.files[name]
    assert c.prior.summary["trajectories"] == N


def test_accepted_posterior_and_frames(calibrated):
    _, c, caught = calibrated
    doc = c.calibration
    assert 0 < c.accepted < N and c.accepted == doc["accepted"]
    assert c.accepted_share == pytest.approx(c.accepted / N, rel=1e-12)
    assert c.posterior is not None and c.posterior.summary["trajectories"] == c.accepted
    assert sorted(set(c.posterior.annual["series"])) == ["domestic", "foreign", "ratio"]
    # The DataFrames are the files' rows.
    table = pandas.read_csv(__import__("io").BytesIO(c.files["calibration.csv"]), float_precision="round_trip")
    assert len(c.observations) == 2 and len(c.observations) + len(c.parameters) == len(table)
    assert list(c.observations["name"]) == [o["label"] for o in doc["observations"]]
    assert list(c.observations["source"])[0] == 'test: a wide interval, "quoted", with a comma'
    assert list(c.parameters["name"]) == [p["name"] for p in doc["parameters"]]
    assert set(c.quantiles["name"]) == set(c.parameters["name"])
    assert len(c.quantiles) == 99 * len(c.parameters)
    for (_, row), p in zip(c.parameters.iterrows(), doc["parameters"]):
        assert row["prior_q50"] == pytest.approx(p["prior"]["q50"], rel=1e-9)
    # Under 1,000 accepted the warning is issued once, with calibration.json's text.
    ours = [w for w in caught if issubclass(w.category, chipcast.CalibrationWarning)]
    if c.accepted < 1000:
        assert [str(w.message) for w in ours] == [doc["warning"]]
    else:
        assert ours == [] and doc["warning"] is None
    text = repr(c)
    assert "{} of {} trajectories accepted".format(c.accepted, N) in text and "posterior" in text


def test_plot_of_the_result(calibrated):
    pytest.importorskip("matplotlib")
    _, c, _ = calibrated
    plots = c.plot
    assert [k for k, _ in plots.fans()] == ["prior", "posterior"]
    top = c.parameters.sort_values("shrink90", ascending=False, kind="stable")["name"].iloc[0]
    first = [a for a in plots.marginals(count=2).axes if a.get_visible()][0]
    assert first.get_title(loc="left").replace("\n", "").startswith(top)
    assert len(plots.observed("units").axes) == 2


def test_save_writes_its_files(calibrated, tmp_path):
    _, c, _ = calibrated
    dest = c.save(tmp_path / "py")
    assert dest == tmp_path / "py" and c.path == dest
    written = {str(p.relative_to(dest)): p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    assert written == c.files
    assert {"calibration.json", "calibration.csv", "parameter_quantiles.csv", "prior/summary.json",
            "posterior/annual.csv"} <= set(written)


@pytest.mark.skipif(not has_calibrate_command(), reason="this chipcast has no calibrate command yet")
def test_save_equals_the_clis_folder(calibrated, tmp_path):
    root, c, _ = calibrated
    cli("calibrate", BASELINE, "--observations", root / "obs.toml", "-n", N, "--seed", SEED, "--threads", 2,
        "--quiet", "--out", tmp_path / "cli")
    c.save(tmp_path / "py")
    cli_files = sorted(str(p.relative_to(tmp_path / "cli")) for p in (tmp_path / "cli").rglob("*") if p.is_file())
    assert sorted(c.files) == cli_files
    volatile = {"seconds", "started_utc", "command_line"}
    for name in cli_files:
        ours, theirs = (tmp_path / "py" / name).read_bytes(), (tmp_path / "cli" / name).read_bytes()
        if name.endswith(".json"):
            a, b = json.loads(ours), json.loads(theirs)
            assert {k: v for k, v in a.items() if k not in volatile} == {k: v for k, v in b.items() if k not in volatile}
        else:
            assert ours == theirs, name


def test_none_accepted(calibrated, tmp_path):
    root, _, _ = calibrated
    (tmp_path / "impossible.toml").write_text(IMPOSSIBLE)
    with pytest.warns(chipcast.CalibrationWarning) as caught:
        c = chipcast.calibrate(BASELINE, tmp_path / "impossible.toml", trajectories=2000, seed=SEED, threads=2,
                               progress=False)
    assert c.accepted == 0 and c.posterior is None and c.calibration["posterior"] is None
    assert str(caught[0].message) == c.calibration["warning"]
    assert c.parameters["posterior_q50"].isna().all() and c.quantiles["posterior"].isna().all()
    c.save(tmp_path / "out")
    assert (tmp_path / "out" / "prior").is_dir() and not (tmp_path / "out" / "posterior").exists()


def test_errors(calibrated, tmp_path):
    root, _, _ = calibrated
    empty = tmp_path / "empty.toml"
    empty.write_text("# no observations\n")
    with pytest.raises(chipcast.ConfigError) as e:
        chipcast.calibrate(BASELINE, empty, trajectories=100, progress=False)
    if has_calibrate_command():
        p = cli("calibrate", BASELINE, "--observations", empty, "-n", 100, "--out", tmp_path / "never", check=False)
        assert p.returncode == 2 and p.stderr == "error: {}\n".format(e.value)
        assert not (tmp_path / "never").exists()
    with pytest.raises(chipcast.ConfigError, match="observations"):
        chipcast.calibrate(BASELINE, trajectories=100, progress=False)  # the baseline has no [[observations]]
    late = tmp_path / "late.toml"
    late.write_text(OBSERVATIONS.replace("year = 2027", "year = 2061"))
    with pytest.raises(chipcast.ConfigError, match="2061"):
        chipcast.calibrate(BASELINE, late, trajectories=100, progress=False)
    with pytest.raises(chipcast.ConfigError, match="nosuch"):
        chipcast.calibrate(BASELINE, root / "obs.toml", trajectories=100, backend="nosuch", progress=False)


def test_chipcast_plot_draws_a_real_calibrate_folder(calibrated, tmp_path):
    """End to end: the folder write_calibration writes (through save; the CLI's own folder too once it
    has the command) drawn by `chipcast plot`: the marginals of the parameters with the largest
    shrink90 and the observed units fans of the prior and the posterior."""
    pytest.importorskip("matplotlib")
    from chipcast import plotting

    root, c, _ = calibrated
    folders = [c.save(tmp_path / "py")]
    if has_calibrate_command():
        cli("calibrate", BASELINE, "--observations", root / "obs.toml", "-n", N, "--seed", SEED, "--threads", 2,
            "--quiet", "--out", tmp_path / "cli")
        folders.append(tmp_path / "cli")
    for d in folders:
        p = cli("plot", d)
        names = [line.rsplit("/", 1)[-1] for line in p.stdout.split()]
        assert names == ["marginals.svg", "marginals.png", "annual_observed_units.svg", "annual_observed_units.png",
                         "report.html"]
        data = plotting.read_output_dir(d)
        plots = plotting.CalibrationPlots(data)
        ranked = c.parameters.dropna(subset=["shrink90"]).sort_values("shrink90", ascending=False, kind="stable")
        assert list(plots.ranked_parameters()["name"]) == list(ranked["name"])
        shown = [a for a in plots.marginals().axes if a.get_visible()]
        assert len(shown) == min(6, len(ranked))
        fig = plots.observed("units")
        assert [a.get_title(loc="left") for a in fig.axes] == ["domestic", "foreign"]
        page = (d / "report.html").read_text()
        assert "<h2>Calibration</h2>" in page and "prior trajectories accepted" in page
        # The headline side by side, from calibration.json.
        head = c.calibration["headline"]["units"]
        assert "Parity year, prior and posterior" in page
        assert "<td>%s</td>" % plotting.format_value(head["prior"]["p_parity_by_horizon"], 3) in page
        assert "<td>%s</td>" % plotting.format_value(head["posterior"]["p_parity_by_horizon"], 3) in page
        assert sorted(p.name for p in (d / "prior").iterdir()) == sorted(n[6:] for n in c.files if n.startswith("prior/"))
