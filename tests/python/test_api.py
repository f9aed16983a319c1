# The chipcast package against the CLI built from the same tree: errors, run, save, overrides, compare, sensitivity.
import importlib.util
import io
import json
import pydoc

import pandas
import pytest

import chipcast
from conftest import BASELINE, MINIMAL, TIGHTENED, cli, strip_volatile

N = 3000  # trajectories: enough for every output row, small for 2 shared cores
SEED = 7


def read_frame(path):
    return pandas.read_csv(path, float_precision="round_trip")


def frame_from(data):
    return pandas.read_csv(io.BytesIO(data), float_precision="round_trip")


# --- version, repr, help -------------------------------------------------------------------


def test_version_and_backends_are_the_engines(exe):
    lines = cli("info").stdout.splitlines()
    assert lines[0] == "chipcast " + chipcast.__version__
    assert lines[1] == "backends: " + ", ".join(chipcast.backends())


def test_every_public_name_has_a_docstring():
    for name in chipcast.__all__:
        if name == "__version__":
            continue
        obj = getattr(chipcast, name)
        assert obj.__doc__ and len(obj.__doc__.strip()) > 20, name
    text = pydoc.render_doc(chipcast.run, renderer=pydoc.plaintext)
    for word in ("trajectories", "backend", "progress", "KeyboardInterrupt", "ConfigError"):
        assert word in text
    assert "chipcast.load" in pydoc.render_doc(chipcast, renderer=pydoc.plaintext)


def test_scenario_repr_and_attributes():
    sc = chipcast.load(BASELINE)
    assert sc.name == "baseline"
    assert sc.trajectories == 1_000_000 and sc.seed == 20261123
    # 2026 to 2060 in quarters.
    assert sc.periods == 136
    assert len(sc.sha256) == 64 and sc.digest == sc.sha256[:12]
    assert repr(sc) == "Scenario('baseline', digest={}, trajectories=1000000, seed=20261123, periods=136, path={!r})".format(
        sc.sha256[:12], str(BASELINE)
    )
    assert "domestic.wafers0" in sc.parameters


# --- errors -----------------------------------------------------------------------------------


def bad_config(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text(MINIMAL.read_text().replace("dt = 0.25", "dt = -0.25", 1))
    assert p.read_text() != MINIMAL.read_text()
    return p


def test_config_error_carries_the_clis_message(exe, tmp_path):
    bad = bad_config(tmp_path)
    p = cli("run", bad, "-n", "10", "--out", tmp_path / "out", check=False)
    assert p.returncode == 2
    with pytest.raises(chipcast.ConfigError) as load_error:
        chipcast.load(bad)
    assert p.stderr == "error: {}\n".format(load_error.value)
    with pytest.raises(chipcast.ConfigError) as run_error:
        chipcast.run(bad, trajectories=10, progress=False)
    assert str(run_error.value) == str(load_error.value)
    assert isinstance(load_error.value, ValueError) and isinstance(load_error.value, chipcast.Error)
    assert not (tmp_path / "out").exists()


def test_unknown_backend_is_a_config_error_with_the_clis_message(exe, tmp_path):
    p = cli("run", MINIMAL, "-n", "10", "--backend", "nosuch", "--out", tmp_path / "out", check=False)
    assert p.returncode == 2
    with pytest.raises(chipcast.ConfigError) as e:
        chipcast.run(MINIMAL, trajectories=10, backend="nosuch", progress=False)
    assert p.stderr == "error: {}\n".format(e.value)


def test_refused_output_folder_is_a_config_error(tmp_path):
    r = chipcast.run(MINIMAL, trajectories=100, seed=1, progress=False)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(chipcast.ConfigError, match=str(blocker)):
        r.save(blocker)
    assert blocker.read_text() == "not a folder"


def test_unknown_override_is_a_type_error():
    with pytest.raises(TypeError, match="trajectorie.*the overrides are trajectories, seed, sampling"):
        chipcast.load(BASELINE, trajectorie=5)


# --- overrides --------------------------------------------------------------------------------


def test_overrides_as_keywords_resolve_as_the_clis_flags(exe, tmp_path):
    sc = chipcast.load(BASELINE, trajectories=123, seed=9, sampling="latin")
    assert (sc.trajectories, sc.seed, sc.sampling) == (123, 9, "latin")
    cli("run", BASELINE, "-n", "123", "--seed", "9", "--sampling", "latin", "--threads", "2", "--quiet",
        "--out", tmp_path / "o")
    assert sc.resolved_toml == (tmp_path / "o" / "resolved.toml").read_text()
    assert sc.sha256 == json.loads((tmp_path / "o" / "summary.json").read_text())["config_sha256"]
    # A run of a loaded scenario with more overrides keeps its own and adds the new ones.
    r = chipcast.run(sc, seed=10, threads=2, progress=False)
    assert (r.scenario.trajectories, r.scenario.seed, r.scenario.sampling) == (123, 10, "latin")
    assert r.summary["trajectories"] == 123 and r.summary["seed"] == 10


# --- run: DataFrames and files equal to the CLI's, on every backend built --------------------


@pytest.fixture(scope="module", params=chipcast.backends())
def run_pair(request, tmp_path_factory, exe):
    """(backend, Python RunResult, the CLI's output folder) for the baseline at N, SEED."""
    backend = request.param
    out = tmp_path_factory.mktemp("cli_" + backend) / "baseline"
    cli("run", BASELINE, "-n", N, "--seed", SEED, "--threads", 2, "--backend", backend, "--quiet", "--out", out)
    r = chipcast.run(BASELINE, trajectories=N, seed=SEED, threads=2, backend=backend, progress=False)
    return backend, r, out


def test_frames_equal_the_clis_csv_files(run_pair):
    backend, r, out = run_pair
    assert r.summary["backend"] == backend
    for name, frame in (("crossing.csv", r.crossing), ("bands.csv", r.bands)):
        assert r.files[name] == (out / name).read_bytes(), name
        pandas.testing.assert_frame_equal(frame, read_frame(out / name), check_exact=True)
    assert list(r.crossing.columns) == ["metric", "year", "p_crossed", "stderr", "lo95", "hi95"]
    assert list(r.bands.columns) == ["metric", "series", "year", "q05", "q25", "q50", "q75", "q95"]
    # 3 metrics x 136 period ends.
    assert len(r.crossing) == 3 * 136
    if (out / "annual.csv").exists():
        pandas.testing.assert_frame_equal(r.annual, read_frame(out / "annual.csv"), check_exact=True)
    else:
        assert r.annual is None


def test_summary_is_the_clis_summary_json(run_pair):
    _, r, out = run_pair
    cli_summary = json.loads((out / "summary.json").read_text())
    assert strip_volatile(r.summary) == strip_volatile(cli_summary)
    assert r.summary["command_line"].startswith("chipcast.run(")


def test_save_writes_the_clis_files(run_pair, tmp_path):
    _, r, out = run_pair
    dest = r.save(tmp_path / "py")
    assert dest == tmp_path / "py" and r.path == dest
    names = sorted(p.name for p in out.iterdir())
    assert sorted(p.name for p in dest.iterdir()) == names
    for name in names:
        if name == "summary.json":
            continue
        assert (dest / name).read_bytes() == (out / name).read_bytes(), name
    # summary.json: byte-identical but for the lines of the volatile keys.
    def lines(p):
        return [l for l in p.read_text().splitlines() if l.strip().split(":")[0].strip('"') not in
                {"seconds", "started_utc", "command_line"}]

    assert lines(dest / "summary.json") == lines(out / "summary.json")
    assert (dest / "summary.json").read_bytes() == r.files["summary.json"]


def test_run_result_repr_has_the_headline(run_pair):
    _, r, _ = run_pair
    text = repr(r)
    assert text.startswith("<chipcast.RunResult baseline (digest {}): {} trajectories, seed {}, ".format(
        r.scenario.digest, N, SEED))
    for metric in ("units", "compute", "memory"):
        assert metric in text


def test_plot_needs_the_plotting_module(run_pair):
    _, r, _ = run_pair
    if importlib.util.find_spec("chipcast.plotting") is None:
        with pytest.raises(ImportError, match="chipcast.plotting"):
            r.plot
    else:
        import chipcast.plotting

        assert isinstance(r.plot, chipcast.plotting.RunPlots)


# --- compare and sensitivity ------------------------------------------------------------------


def test_compare_equals_the_clis(exe, tmp_path):
    out = tmp_path / "cli"
    cli("compare", BASELINE, TIGHTENED, "-n", 2000, "--seed", 5, "--threads", 2, "--quiet", "--out", out)
    c = chipcast.compare([BASELINE, TIGHTENED], trajectories=2000, seed=5, threads=2, progress=False)
    assert c.files["compare.csv"] == (out / "compare.csv").read_bytes()
    pandas.testing.assert_frame_equal(c.table, read_frame(out / "compare.csv"), check_exact=True)
    assert strip_volatile(c.compare) == strip_volatile(json.loads((out / "compare.json").read_text()))
    assert [s.name for s in c.scenarios] == ["baseline", "controls_tightened"]
    assert "controls_tightened against baseline: 2000 trajectories, seed 5" in repr(c)
    saved = c.save(tmp_path / "py")
    assert sorted(p.name for p in saved.iterdir()) == ["compare.csv", "compare.json"]
    assert (saved / "compare.csv").read_bytes() == (out / "compare.csv").read_bytes()
    with pytest.raises(chipcast.ConfigError, match="at least two configs"):
        chipcast.compare([BASELINE], progress=False)


def test_sensitivity_equals_the_clis(exe, tmp_path):
    out = tmp_path / "cli"
    args = dict(base_samples=64, bootstrap=20, tornado_trajectories=64, seed=3, threads=2)
    cli("sensitivity", BASELINE, "--base-samples", 64, "--bootstrap", 20, "--tornado-trajectories", 64,
        "--seed", 3, "--threads", 2, "--quiet", "--out", out)
    s = chipcast.sensitivity(BASELINE, progress=False, **args)
    assert s.files["sensitivity.csv"] == (out / "sensitivity.csv").read_bytes()
    pandas.testing.assert_frame_equal(s.table, read_frame(out / "sensitivity.csv"), check_exact=True)
    assert strip_volatile(s.sensitivity) == strip_volatile(json.loads((out / "sensitivity.json").read_text()))
    assert set(s.tornado["section"]) == {"tornado"} and set(s.sobol["section"]) == {"sobol"}
    assert len(s.tornado) + len(s.sobol) == len(s.table)
    assert repr(s).startswith("<chipcast.SensitivityResult parity_year:units of baseline: ")
    saved = s.save(tmp_path / "py")
    assert (saved / "sensitivity.csv").read_bytes() == (out / "sensitivity.csv").read_bytes()
    with pytest.raises(chipcast.ConfigError, match="nosuch"):
        chipcast.sensitivity(BASELINE, output="nosuch", progress=False, **args)
