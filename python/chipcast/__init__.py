"""chipcast: Monte Carlo forecasts of domestic-foreign AI chip parity, from Python.

The package runs the same C++ run session as the ``chipcast`` command line
(``chipcast._core``), so a run here gives the numbers and the files the CLI
gives for the same config, seed and trajectory count::

    import chipcast
    sc = chipcast.load("configs/baseline.toml")          # chipcast.ConfigError, same message as the CLI
    r = chipcast.run("configs/baseline.toml", trajectories=1_000_000, seed=7,
                     threads=2, backend="openmp")         # or a loaded scenario; overrides as keywords
    r.summary        # dict: what summary.json holds
    r.crossing       # pandas DataFrame with crossing.csv's columns and values
    r.bands          # DataFrame (bands.csv); r.annual once annual totals exist
    r.save("out/x")  # writes exactly the CLI's files
    r.plot.fan("units"); r.plot.cdf("compute")           # matplotlib Figures
    chipcast.compare([...]), chipcast.sensitivity(...)    # results with DataFrames and plots

Functions: load, run, compare, sensitivity, score, calibrate, backends.
Results: Scenario, RunResult, CompareResult, SensitivityResult, ScoreResult,
CalibrateResult. Errors: ConfigError (a bad
config or argument: nothing ran), RunError (the backend or I/O failed),
CheckpointError; all subclass chipcast.Error. Trajectories run without the
GIL; Ctrl-C (or a notebook's interrupt) stops a run at the next batch with
KeyboardInterrupt, and nothing is written. Charts (``.plot``) come from
chipcast.plotting, which needs matplotlib.
"""

import io as _io
import json as _json
import os as _os
import pathlib as _pathlib
import warnings as _warnings

from . import _core

__version__ = _core.__version__

__all__ = [
    "__version__",
    "load",
    "run",
    "compare",
    "sensitivity",
    "score",
    "calibrate",
    "backends",
    "Scenario",
    "RunResult",
    "CompareResult",
    "SensitivityResult",
    "ScoreResult",
    "CalibrateResult",
    "Error",
    "ConfigError",
    "RunError",
    "CheckpointError",
    "ConfigWarning",
    "CalibrationWarning",
]


class Error(Exception):
    """Base class of chipcast's errors; str(e) is the message the CLI prints after "error: "."""


class ConfigError(Error, ValueError):
    """A bad config, override or argument (the CLI's exit status 2): nothing was run or written.

    The message names the file, key and value, exactly as ``chipcast run`` prints it.
    """


class RunError(Error, RuntimeError):
    """The run failed while it ran: the backend, the device or I/O (the CLI's exit status 1)."""


class CheckpointError(RunError):
    """A checkpoint was refused (corrupt, another run's, or present without resume); it was left untouched."""


class ConfigWarning(UserWarning):
    """A config warning (the CLI prints it as "warning: ...")."""


class CalibrationWarning(UserWarning):
    """Few trajectories accepted by chipcast.calibrate (under 1,000, or none): the warning calibration.json holds."""


_core.set_error_types(ConfigError, RunError, CheckpointError)

_OVERRIDES = ("trajectories", "seed", "sampling")


def backends():
    """The backend names compiled into this build, e.g. ``['openmp']`` (``backend=`` takes these or "auto")."""
    return list(_core.backends())


def _check_overrides(where, overrides):
    unknown = sorted(set(overrides) - set(_OVERRIDES))
    if unknown:
        raise TypeError(
            "{}: unknown override{} {} (the overrides are {})".format(
                where, "s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(_OVERRIDES)
            )
        )
    return {k: v for k, v in overrides.items() if v is not None}


def _warn(scenario, stacklevel):
    for text in scenario.warnings:
        _warnings.warn(text, ConfigWarning, stacklevel=stacklevel + 1)


class Scenario:
    """A loaded and validated scenario: the config with its overrides applied (see chipcast.load).

    Attributes: path, name (the file's stem), sha256 (of the resolved config),
    digest (its first 12 hex digits), trajectories, seed, sampling,
    start_year, horizon_year, dt, periods, parameters (the uncertain
    parameters' names), warnings, resolved_toml (what resolved.toml holds),
    overrides (the keywords it was loaded with).
    """

    def __init__(self, core, overrides):
        self._core = core
        self.overrides = dict(overrides)

    path = property(lambda self: self._core.path, doc="The config file, as given.")
    sha256 = property(lambda self: self._core.sha256, doc="Hex SHA-256 of the resolved config.")
    digest = property(lambda self: self._core.sha256[:12], doc="The first 12 hex digits of sha256.")
    trajectories = property(lambda self: self._core.trajectories, doc="[run] trajectories (after overrides).")
    seed = property(lambda self: self._core.seed, doc="[run] seed (after overrides).")
    sampling = property(lambda self: self._core.sampling, doc='[run] sampling: "independent" or "latin".')
    start_year = property(lambda self: self._core.start_year, doc="[run] start_year.")
    horizon_year = property(lambda self: self._core.horizon_year, doc="[run] horizon_year.")
    dt = property(lambda self: self._core.dt, doc="[run] dt, years per period.")
    periods = property(lambda self: self._core.periods, doc="Periods from start_year to horizon_year.")
    parameters = property(lambda self: list(self._core.parameters), doc="Names of the uncertain parameters.")
    warnings = property(lambda self: list(self._core.warnings), doc="The config's warnings.")
    resolved_toml = property(lambda self: self._core.resolved_toml, doc="The merged config, as resolved.toml.")

    @property
    def name(self):
        """The config file's stem, e.g. "baseline" (the CLI's default output folder is out/<name>)."""
        return _pathlib.Path(self.path).stem

    def __repr__(self):
        return "Scenario({!r}, digest={}, trajectories={}, seed={}, periods={}, path={!r})".format(
            self.name, self.digest, self.trajectories, self.seed, self.periods, self.path
        )


def load(path, **overrides):
    """Loads and validates a scenario config: ``chipcast.load("configs/baseline.toml", seed=7)``.

    Keyword overrides (as the CLI's flags): trajectories (-n), seed (--seed),
    sampling (--sampling: "independent" or "latin"); they apply before the
    config is validated and hashed, and appear in its resolved_toml.

    Returns a Scenario. Raises ConfigError with the CLI's message (naming the
    file, key and value) when the config is invalid; its warnings are issued
    as chipcast.ConfigWarning.
    """
    given = _check_overrides("chipcast.load", overrides)
    core = _core.load(_os.fspath(path), given.get("trajectories"), given.get("seed"), given.get("sampling"))
    sc = Scenario(core, given)
    _warn(sc, 2)
    return sc


def _scenario(where, config, overrides):
    """The Scenario to run: config loaded with overrides, or a Scenario reloaded when overrides are given."""
    given = _check_overrides(where, overrides)
    if isinstance(config, Scenario):
        if not given:
            return config
        merged = dict(config.overrides)
        merged.update(given)
        core = _core.load(config.path, merged.get("trajectories"), merged.get("seed"), merged.get("sampling"))
        return Scenario(core, merged)
    core = _core.load(_os.fspath(config), given.get("trajectories"), given.get("seed"), given.get("sampling"))
    sc = Scenario(core, given)
    _warn(sc, 3)
    return sc


class _Progress:
    """A tqdm bar (tqdm.auto: a widget in notebooks with ipywidgets, text otherwise) for the engine's reports."""

    def __init__(self, unit):
        try:
            from tqdm.auto import tqdm
        except ImportError as e:
            raise ImportError(
                "progress=True shows a tqdm bar, but tqdm is not installed (Debian: python3-tqdm); "
                "pass progress=False: {}".format(e)
            ) from e
        self._tqdm = tqdm
        self._unit = unit
        self._bar = None

    def start(self, total, initial, label):
        self._bar = self._tqdm(total=total, initial=initial, desc=label, unit=self._unit, unit_scale=True)

    def update(self, done):
        if self._bar is not None:
            self._bar.update(done - self._bar.n)

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _reporter(progress, unit):
    return _Progress(unit) if progress else None


def _frame(data):
    """A CSV file's bytes as a DataFrame, every number parsed back to the double the writer formatted."""
    import pandas

    return pandas.read_csv(_io.BytesIO(data), float_precision="round_trip")


def _call_text(name, first, keywords):
    args = [repr(first)] + ["{}={!r}".format(k, v) for k, v in keywords.items() if v is not None]
    return "chipcast.{}({})".format(name, ", ".join(args))


def _plots(kind, result):
    try:
        from . import plotting
    except ImportError as e:
        raise ImportError(
            "{}.plot draws with chipcast.plotting and matplotlib (Debian: python3-matplotlib), "
            "which cannot be imported here: {}".format(type(result).__name__, e)
        ) from e
    return getattr(plotting, kind)(result)


class RunResult:
    """A completed run (chipcast.run): the CLI's outputs as Python objects.

    Attributes:
      summary   dict, what summary.json holds (seconds, started_utc and command_line are this run's)
      crossing  DataFrame of crossing.csv (metric, year, p_crossed, stderr, lo95, hi95)
      bands     DataFrame of bands.csv (metric, series, year, q05 ... q95)
      annual    DataFrame of annual.csv when this build writes annual totals, else None
      files     dict, file name -> the exact bytes ``chipcast run`` would write
      scenario  the Scenario that ran
      headline  the lines ``chipcast run`` prints
      plot      chipcast.plotting.RunPlots(self): fan(metric), cdf(metric), annual(metric)
    Methods: save(dir).
    """

    sensitivity = None  # the attributes chipcast.plotting reads from any result
    compare = None
    path = None

    def __init__(self, record, scenario):
        self._record = record
        self.scenario = scenario
        self.files = dict(record.files)
        self.summary = _json.loads(self.files["summary.json"])
        self.crossing = _frame(self.files["crossing.csv"])
        self.bands = _frame(self.files["bands.csv"])
        self.annual = _frame(self.files["annual.csv"]) if "annual.csv" in self.files else None
        self.headline = record.headline

    @property
    def plot(self):
        """chipcast.plotting.RunPlots(self): fan(metric), cdf(metric), annual(metric) return matplotlib Figures."""
        return _plots("RunPlots", self)

    def save(self, dir):
        """Writes the CLI's output set (summary.json, crossing.csv, bands.csv, resolved.toml, ...) into dir.

        The same writers and output-folder protocol as ``chipcast run --out dir``:
        the folder appears whole or not at all, other files in it are kept.
        Raises ConfigError when the folder is refused (busy, not a folder).
        Returns dir as a pathlib.Path.
        """
        self._record.save(_os.fspath(dir))
        self.path = _pathlib.Path(dir)
        return self.path

    def __repr__(self):
        s = self.summary
        return "<chipcast.RunResult {} (digest {}): {} trajectories, seed {}, {}, {:.2f} s>\n{}".format(
            self.scenario.name,
            s["config_sha256"][:12],
            s["trajectories"],
            s["seed"],
            s["backend"],
            s["seconds"],
            self.headline.rstrip("\n"),
        )


def run(config, *, trajectories=None, seed=None, sampling=None, threads=0, backend="openmp", batch=0, progress=True):
    """Runs a scenario, as ``chipcast run``, and returns a RunResult.

    config       a config path, or a Scenario from chipcast.load
    trajectories, seed, sampling
                 overrides of [run] (the CLI's -n, --seed, --sampling); with
                 a Scenario they are applied on top of its own overrides
    threads      CPU threads (0: OpenMP's default)
    backend      "openmp" (default), "kokkos", "cuda", "hip" when built (chipcast.backends()), or "auto"
    batch        trajectories per step (0: the backend's preferred batch)
    progress     a tqdm progress bar (False: none)

    The trajectories run without the GIL. Ctrl-C stops the run at the next
    batch with KeyboardInterrupt; nothing is written (results are written
    only by RunResult.save). Raises ConfigError (bad config or argument),
    RunError (backend or I/O failure).
    """
    overrides = {"trajectories": trajectories, "seed": seed, "sampling": sampling}
    sc = _scenario("chipcast.run", config, overrides)
    command = _call_text(
        "run",
        sc.path,
        dict(overrides, threads=threads or None, backend=backend, batch=batch or None),
    )
    record = _core.run(sc._core, backend, int(threads), int(batch), command, _reporter(progress, "traj"))
    return RunResult(record, sc)


class CompareResult:
    """Scenarios against the first with common random numbers (chipcast.compare), as ``chipcast compare``.

    Attributes:
      compare    dict, what compare.json holds
      table      DataFrame of compare.csv (scenario, metric, quantity, year, a, b, shift, shift_stderr,
                 shift_stderr_unpaired)
      files      dict, file name -> the exact bytes of compare.json and compare.csv
      scenarios  the Scenarios compared (the first is the reference)
      headline   the lines ``chipcast compare`` prints
      plot       chipcast.plotting.ComparePlots(self): shift(metric)
    Methods: save(dir).
    """

    summary = crossing = bands = annual = sensitivity = None
    path = None

    def __init__(self, record):
        self._record = record
        self.files = {"compare.json": record.json.encode(), "compare.csv": bytes(record.csv)}
        self.compare = _json.loads(record.json)
        self.table = _frame(self.files["compare.csv"])
        self.scenarios = [Scenario(s, {}) for s in record.scenarios]
        self.headline = record.headline

    @property
    def plot(self):
        """chipcast.plotting.ComparePlots(self): shift(metric) returns a matplotlib Figure."""
        return _plots("ComparePlots", self)

    def save(self, dir):
        """Writes compare.json and compare.csv into dir, as ``chipcast compare --out dir``; returns a pathlib.Path."""
        self._record.save(_os.fspath(dir))
        self.path = _pathlib.Path(dir)
        return self.path

    def __repr__(self):
        return "<chipcast.CompareResult {} against {}: {} trajectories, seed {}, {:.2f} s>\n{}".format(
            ", ".join(s.name for s in self.scenarios[1:]),
            self.scenarios[0].name,
            self.compare.get("trajectories"),
            self.compare.get("seed"),
            self._record.seconds,
            self.headline.rstrip("\n"),
        )


def compare(configs, *, trajectories=None, seed=None, sampling=None, threads=0, backend="openmp", progress=True):
    """Compares scenarios with the first, as ``chipcast compare``, and returns a CompareResult.

    configs      two or more config paths (or Scenarios, taken by their path); the first is the reference
    trajectories, seed
                 for every scenario (default: the first config's, after its overrides)
    sampling     "independent" or "latin", for every scenario
    threads, backend, progress
                 as for chipcast.run

    Every scenario runs the same trajectory indices (common random numbers),
    so shifts come with paired standard errors. Ctrl-C stops it with
    KeyboardInterrupt after the chunk of trajectories in progress; nothing is
    written. Raises ConfigError for a bad config or fewer than two.
    """
    paths = []
    first = {}
    for i, c in enumerate(configs):
        if isinstance(c, Scenario):
            if i == 0:
                first = dict(c.overrides)
            paths.append(c.path)
        else:
            paths.append(_os.fspath(c))
    given = dict(first)
    given.update({k: v for k, v in {"trajectories": trajectories, "seed": seed, "sampling": sampling}.items() if v is not None})
    record = _core.compare(
        paths,
        given.get("trajectories"),
        given.get("seed"),
        given.get("sampling"),
        backend,
        int(threads),
        _reporter(progress, "traj"),
    )
    result = CompareResult(record)
    for sc in result.scenarios:
        _warn(sc, 2)
    return result


class SensitivityResult:
    """A tornado and Sobol study of one output (chipcast.sensitivity), as ``chipcast sensitivity``.

    Attributes:
      sensitivity  dict, what sensitivity.json holds
      table        DataFrame of sensitivity.csv (section, parameter, quantity, value, stderr, lo95, hi95)
      tornado      the table's tornado rows; sobol: its Sobol rows
      files        dict, file name -> the exact bytes of sensitivity.json and sensitivity.csv
      scenario     the Scenario studied
      headline     the lines ``chipcast sensitivity`` prints
      plot         chipcast.plotting.SensitivityPlots(self): tornado(), sobol()
    Methods: save(dir).
    """

    summary = crossing = bands = annual = compare = None
    path = None

    def __init__(self, record):
        self._record = record
        self.files = {"sensitivity.json": record.json.encode(), "sensitivity.csv": bytes(record.csv)}
        self.sensitivity = _json.loads(record.json)
        self.table = _frame(self.files["sensitivity.csv"])
        self.scenario = Scenario(record.scenario, {})
        self.headline = record.headline

    @property
    def tornado(self):
        """The tornado rows of the table (section "tornado")."""
        return self.table[self.table["section"] == "tornado"].reset_index(drop=True)

    @property
    def sobol(self):
        """The Sobol rows of the table (section "sobol")."""
        return self.table[self.table["section"] == "sobol"].reset_index(drop=True)

    @property
    def plot(self):
        """chipcast.plotting.SensitivityPlots(self): tornado() and sobol() return matplotlib Figures."""
        return _plots("SensitivityPlots", self)

    def save(self, dir):
        """Writes sensitivity.json and sensitivity.csv into dir, as ``chipcast sensitivity --out dir``."""
        self._record.save(_os.fspath(dir))
        self.path = _pathlib.Path(dir)
        return self.path

    def __repr__(self):
        return "<chipcast.SensitivityResult {} of {}: {} factors, {:.2f} s>\n{}".format(
            self.sensitivity.get("output", "?"),
            self.scenario.name,
            len(self.sobol["parameter"].unique()) if len(self.table) else 0,
            self._record.seconds,
            self.headline.rstrip("\n"),
        )


def sensitivity(
    config,
    *,
    output="parity_year:units",
    base_samples=1 << 14,
    bootstrap=200,
    group_policy=False,
    parameters=None,
    tornado_trajectories=4096,
    seed=None,
    sampling=None,
    threads=0,
    backend="openmp",
    progress=True,
):
    """Tornado and Sobol indices of one output, as ``chipcast sensitivity``; returns a SensitivityResult.

    config                a config path (or a Scenario, taken by its path)
    output                "parity_year:METRIC" (censored at the horizon) or "p_parity_by:YEAR:METRIC";
                          METRIC units, compute or memory
    base_samples          N, rows of each Saltelli matrix; the cost is (factors + 2) N trajectories
    bootstrap             bootstrap replicates for the 95 % intervals
    group_policy          every regime effect and shock rate as one factor, policy_and_shocks
    parameters            names of parameters or groups to index (default: all uncertain); the rest still vary
    tornado_trajectories  trajectories per tornado setting
    seed, sampling        overrides of [run]
    threads, backend, progress
                          as for chipcast.run

    Ctrl-C stops it with KeyboardInterrupt once the design in progress (a
    Saltelli matrix or a tornado setting) is done; nothing is written.
    Raises ConfigError for a bad config, output spec or parameter name.
    """
    if isinstance(config, Scenario):
        seed = config.overrides.get("seed") if seed is None else seed
        sampling = config.overrides.get("sampling") if sampling is None else sampling
        config = config.path
    record = _core.sensitivity(
        _os.fspath(config),
        output,
        int(base_samples),
        int(bootstrap),
        bool(group_policy),
        list(parameters or []),
        int(tornado_trajectories),
        seed,
        sampling,
        backend,
        int(threads),
        _reporter(progress, "design"),
    )
    result = SensitivityResult(record)
    _warn(result.scenario, 2)
    return result


class ScoreResult:
    """A run scored against observations (chipcast.score), as ``chipcast score``.

    Attributes:
      score         dict, what score.json holds
      observations  DataFrame of score.csv (year, bloc, metric, value, sd_log, q05, q50, q95, pit,
                    covered50, covered90, crps_log, source): one row per observation
      totals        dict, score.json's totals (observations, coverage50, coverage90, mean_crps_log)
      files         dict, file name -> the exact bytes of score.json and score.csv
      run           the RunResult of the re-run that was scored (its annual totals: run.annual)
      scenario      the Scenario that ran
      plot          chipcast.plotting.ObservedPlots(self): observed(metric)
    Methods: save(dir).
    """

    summary = crossing = bands = sensitivity = compare = None
    path = None

    def __init__(self, record, scenario):
        self._record = record
        self.files = {"score.json": bytes(record.json), "score.csv": bytes(record.csv)}
        self.score = _json.loads(self.files["score.json"])
        self.observations = _frame(self.files["score.csv"])
        self.totals = dict(self.score["totals"])
        self.scenario = scenario
        self.run = RunResult(record.run, scenario)

    @property
    def annual(self):
        """The re-run's annual.csv as a DataFrame (the fans the observations are drawn on)."""
        return self.run.annual

    @property
    def plot(self):
        """chipcast.plotting.ObservedPlots(self): observed(metric), the annual totals with the observations."""
        return _plots("ObservedPlots", self)

    def save(self, dir):
        """Writes score.json and score.csv into dir, as ``chipcast score RUN_DIR --out dir``; returns a pathlib.Path.

        The output-set protocol of the CLI: both files appear together, other files in dir are kept.
        """
        self._record.save(_os.fspath(dir))
        self.path = _pathlib.Path(dir)
        return self.path

    def __repr__(self):
        t = self.totals
        crps = t.get("mean_crps_log")
        return "<chipcast.ScoreResult {} ({} trajectories, seed {}): {} observations, {:.0f} % inside the 50 % " \
            "bands, {:.0f} % inside the 90 % bands, mean CRPS(log) {}>".format(
                self.score["run"] or self.scenario.name,
                self.score["trajectories"],
                self.score["seed"],
                t["observations"],
                100 * t["coverage50"],
                100 * t["coverage90"],
                "inf" if crps is None else "{:.6g}".format(crps),
            )


def score(run, observations=None, *, threads=0, backend="openmp", progress=True):
    """Scores a run against observations, as ``chipcast score``; returns a ScoreResult.

    run           a run's output folder (it re-runs RUN_DIR/resolved.toml, whose [run] holds the run's
                  seed and trajectory count: the same run), or a RunResult (its scenario is re-run)
    observations  a TOML file of [[observations]] only (the CLI's --observations); None: the run's own
                  [[observations]]
    threads, backend, progress
                  as for chipcast.run

    Per observation: the predictive q05/q50/q95 (the simulated calendar-year total times the
    observation's lognormal error), the PIT, 50 % and 90 % coverage and the CRPS of the log;
    totals across them. ScoreResult.save(dir) writes the CLI's exact score.json and score.csv
    (for a folder named the same way; score.json's "run" is the folder as given, null for a
    RunResult never saved). A wafers, hbm or packaging observation makes the re-run a calibrate
    run (as the CLI does: its prior is the same run, and it holds those quantities' histograms).
    Raises ConfigError (no resolved.toml, no observations, years the run does not simulate),
    RunError; Ctrl-C: KeyboardInterrupt, nothing written.
    """
    obs = "" if observations is None else _os.fspath(observations)
    keywords = dict(observations=observations, threads=threads or None, backend=backend)
    if isinstance(run, RunResult):
        label = "" if run.path is None else str(run.path)
        command = _call_text("score", "<RunResult {}>".format(run.scenario.name), keywords)
        record = _core.score(run.scenario._core, "", label, obs, backend, int(threads), command,
                             _reporter(progress, "traj"))
        return ScoreResult(record, run.scenario)
    folder = _os.fspath(run)
    command = _call_text("score", folder, keywords)
    record = _core.score(None, folder, folder, obs, backend, int(threads), command, _reporter(progress, "traj"))
    return ScoreResult(record, Scenario(record.run.scenario, {}))


class CalibrateResult:
    """A calibrate run (chipcast.calibrate), as ``chipcast calibrate``: the prior and, by exact rejection
    sampling, the posterior given the observations (MODEL-v2.md section 8).

    Attributes:
      calibration     dict, what calibration.json holds
      accepted        trajectories accepted; accepted_share: accepted / prior trajectories
      warning         calibration.json's warning (fewer than 1,000 accepted) or None
      prior           RunResult of every trajectory (the outputs of prior/: the same run as chipcast.run)
      posterior       RunResult of the accepted trajectories (posterior/), or None when none was accepted
      observations    DataFrame: calibration.csv's observation rows (name is the observation's label;
                      value, low, high, sd_log, prior_/posterior_ q05, q50, q95, percentile, rejects, source)
      parameters      DataFrame: its parameter rows (prior_/posterior_ q05, q50, q95, shrink90)
      quantiles       DataFrame of parameter_quantiles.csv (name, q, prior, posterior for q = 0.01 ... 0.99)
      table           DataFrame of the whole calibration.csv
      files           dict, path in the output folder -> the exact bytes ``chipcast calibrate`` writes
                      ("calibration.json", "prior/bands.csv", ...)
      scenario        the Scenario that ran
      headline        the prior and posterior parity years side by side, as the CLI prints them
      plot            chipcast.plotting.CalibrationPlots(self): observed(metric), marginals(count)
    Methods: save(dir).
    """

    summary = crossing = bands = annual = sensitivity = compare = score = None
    path = None

    def __init__(self, record, scenario):
        self._record = record
        self.scenario = scenario
        self.files = dict(record.files)
        self.calibration = _json.loads(self.files["calibration.json"])
        self.table = _frame(self.files["calibration.csv"])
        self.observations = self.table[self.table["kind"] == "observation"].reset_index(drop=True)
        for column in ("year", "rejects"):
            self.observations[column] = self.observations[column].astype("int64")
        self.parameters = self.table[self.table["kind"] == "parameter"].reset_index(drop=True)
        self.quantiles = _frame(self.files["parameter_quantiles.csv"])
        self.accepted = int(record.accepted)
        self.accepted_share = self.calibration["accepted_share"]
        self.warning = self.calibration.get("warning")
        self.prior = RunResult(record.prior, scenario)
        self.posterior = None if record.posterior is None else RunResult(record.posterior, scenario)
        self.headline = record.headline

    @property
    def plot(self):
        """chipcast.plotting.CalibrationPlots(self): observed(metric) and marginals(count) return Figures."""
        return _plots("CalibrationPlots", self)

    def save(self, dir):
        """Writes the CLI's output folder (prior/, posterior/ when any was accepted, calibration.json,
        calibration.csv, parameter_quantiles.csv) into dir, as ``chipcast calibrate --out dir``, through
        the same writer and output-set protocol; returns dir as a pathlib.Path."""
        self._record.save(_os.fspath(dir))
        self.path = _pathlib.Path(dir)
        return self.path

    def __repr__(self):
        c = self.calibration
        return "<chipcast.CalibrateResult {} (digest {}): {} of {} trajectories accepted, seed {}, {} observations, " \
            "{:.2f} s>\n{}".format(
                self.scenario.name,
                c["config_sha256"][:12],
                self.accepted,
                c["trajectories"],
                c["seed"],
                len(self.observations),
                self._record.seconds,
                self.headline.rstrip("\n"),
            )


def calibrate(config, observations=None, *, trajectories=None, seed=None, sampling=None, threads=0, backend="openmp",
              batch=0, progress=True):
    """Calibrates a scenario to observations, as ``chipcast calibrate``; returns a CalibrateResult.

    config        a config path, or a Scenario from chipcast.load
    observations  a TOML file of [[observations]] only (the CLI's --observations; it replaces the
                  scenario's); None: the scenario's own [[observations]]
    trajectories, seed, sampling
                  overrides of [run], as for chipcast.run (trajectories: the prior's count)
    threads, backend, batch, progress
                  as for chipcast.run

    Runs the prior's trajectories and accepts each with probability its likelihood of the
    observations (its own uniform: exact rejection sampling), so the accepted ones are draws of the
    posterior. Fewer than 1,000 accepted issues a CalibrationWarning (the warning of
    calibration.json, naming the observation that rejects the most); with none, posterior is None.
    Ctrl-C stops it at the next batch with KeyboardInterrupt; nothing is written (only save writes).
    Raises ConfigError (a bad config, no observations, an observation the run cannot hold),
    RunError (backend or I/O).
    """
    overrides = {"trajectories": trajectories, "seed": seed, "sampling": sampling}
    sc = _scenario("chipcast.calibrate", config, overrides)
    obs = "" if observations is None else _os.fspath(observations)
    command = _call_text(
        "calibrate",
        sc.path,
        dict(overrides, observations=observations, threads=threads or None, backend=backend, batch=batch or None),
    )
    record = _core.calibrate(sc._core, obs, backend, int(threads), int(batch), command, _reporter(progress, "traj"))
    result = CalibrateResult(record, sc)
    if result.warning:
        _warnings.warn(result.warning, CalibrationWarning, stacklevel=2)
    return result
