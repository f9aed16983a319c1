# chipcast.score against `chipcast score`: the files byte for byte, the DataFrame, the errors.
import json

import pandas
import pytest

import chipcast
from conftest import BASELINE, cli

N = 3000
SEED = 7

# Three observations of years the baseline (2026-2060) simulates in full: an interval, a value
# with sd_log, and a ratio; the source has a comma and quotes (score.csv quotes it).
OBSERVATIONS = '''
[[observations]]
year = 2026
bloc = "domestic"
metric = "units"
low = 300000.0
high = 900000.0
source = "test: an interval, \\"quoted\\", with a comma"

[[observations]]
year = 2027
bloc = "foreign"
metric = "units"
value = 8.0e6
sd_log = 0.3
source = "test"

[[observations]]
year = 2026
bloc = "ratio"
metric = "memory"
low = 0.005
high = 0.05
source = "test ratio"
'''


@pytest.fixture(scope="module")
def scored(tmp_path_factory, exe):
    """(folder holding obs.toml, run/ and run/score/ written by the CLI, the Python ScoreResult of run/)."""
    root = tmp_path_factory.mktemp("score")
    (root / "obs.toml").write_text(OBSERVATIONS)
    cli("run", BASELINE, "-n", N, "--seed", SEED, "--threads", 2, "--quiet", "--out", root / "run")
    cli("score", root / "run", "--observations", root / "obs.toml", "--threads", 2, "--quiet")
    s = chipcast.score(root / "run", root / "obs.toml", threads=2, progress=False)
    return root, s


def test_files_are_the_clis_bytes(scored, tmp_path):
    root, s = scored
    for name in ("score.json", "score.csv"):
        assert s.files[name] == (root / "run" / "score" / name).read_bytes(), name
    assert s.save(tmp_path / "py") == tmp_path / "py"
    for name in ("score.json", "score.csv"):
        assert (tmp_path / "py" / name).read_bytes() == (root / "run" / "score" / name).read_bytes(), name
    assert sorted(p.name for p in (tmp_path / "py").iterdir()) == ["score.csv", "score.json"]


def test_frame_and_totals_are_the_clis_files(scored):
    root, s = scored
    expected = pandas.read_csv(root / "run" / "score" / "score.csv", float_precision="round_trip")
    pandas.testing.assert_frame_equal(s.observations, expected, check_exact=True)
    assert list(s.observations["source"])[0] == 'test: an interval, "quoted", with a comma'
    doc = json.loads((root / "run" / "score" / "score.json").read_text())
    assert s.score == doc and s.totals == doc["totals"] and s.totals["observations"] == 3
    assert "3 observations" in repr(s) and str(root / "run") in repr(s)


def test_the_scored_run_is_the_runs_folder(scored):
    root, s = scored
    # The re-run is the same run: its annual totals are the folder's, byte for byte.
    assert s.run.files["annual.csv"] == (root / "run" / "annual.csv").read_bytes()
    assert s.annual is s.run.annual
    assert s.run.summary["command_line"].startswith("chipcast.score(")


def test_a_run_result_scores_as_its_saved_folder(scored, tmp_path):
    root, s = scored
    r = chipcast.run(BASELINE, trajectories=N, seed=SEED, threads=2, progress=False)
    unsaved = chipcast.score(r, root / "obs.toml", threads=2, progress=False)
    assert unsaved.files["score.csv"] == s.files["score.csv"]
    assert unsaved.score["run"] is None
    r.save(tmp_path / "r")
    saved = chipcast.score(r, root / "obs.toml", threads=2, progress=False)
    cli("score", tmp_path / "r", "--observations", root / "obs.toml", "--threads", 2, "--quiet")
    for name in ("score.json", "score.csv"):
        assert saved.files[name] == (tmp_path / "r" / "score" / name).read_bytes(), name


def test_errors_carry_the_clis_messages(scored, tmp_path):
    root, _ = scored
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [((empty,), ()), ((root / "run",), ())]  # no resolved.toml; the run has no [[observations]]
    late = tmp_path / "late.toml"
    late.write_text(OBSERVATIONS.replace("year = 2027", "year = 2061"))
    cases.append(((root / "run", late), ("--observations", late)))
    for args, flags in cases:
        p = cli("score", args[0], *flags, "--out", tmp_path / "never", check=False)
        assert p.returncode == 2, p.stderr
        with pytest.raises(chipcast.ConfigError) as e:
            chipcast.score(*args, progress=False)
        assert p.stderr == "error: {}\n".format(e.value)
    assert not (tmp_path / "never").exists()
    assert "2061" in str(e.value)


def test_plot_draws_the_observations_on_the_reruns_fans(scored):
    pytest.importorskip("matplotlib")
    _, s = scored
    plots = s.plot
    assert plots.metrics() == ["units", "memory"]
    fig = plots.observed("units")
    assert [a.get_title(loc="left") for a in fig.axes] == ["domestic", "foreign"]
    point = fig.axes[0].containers[0].lines[0]
    assert list(point.get_ydata()) == [s.observations["value"][0]]


def test_a_supply_quantity_scores_as_the_cli_does(scored, tmp_path):
    # A wafers observation has no row in a run's tally: both re-run it as a calibrate (same prior).
    root, _ = scored
    obs = tmp_path / "wafers.toml"
    obs.write_text(OBSERVATIONS + '''
[[observations]]
year = 2027
bloc = "domestic"
metric = "wafers"
value = 2.0e4
sd_log = 0.3
source = "test wafers"
''')
    cli("score", root / "run", "--observations", obs, "--threads", 2, "--quiet", "--out", tmp_path / "cli")
    s = chipcast.score(root / "run", obs, threads=2, progress=False)
    for name in ("score.json", "score.csv"):
        assert s.files[name] == (tmp_path / "cli" / name).read_bytes(), name
    assert list(s.observations["metric"]) == ["units", "units", "memory", "wafers"]
    # The re-run's files are still the run's.
    assert s.run.files["annual.csv"] == (root / "run" / "annual.csv").read_bytes()
