"""Charts (matplotlib) and report.html for chipcast output folders and result objects.

Works on anything with the attributes of :class:`RunData` (``summary``, ``crossing``,
``bands``, ``annual``, ``sensitivity``, ``compare``, ``path``; ``score``, ``observations`` and
``run`` for a score; ``calibration``, ``observations``, ``parameters``, ``quantiles``, ``prior``
and ``posterior`` for a calibration): a folder read by :func:`read_output_dir`, or the result
objects of the ``chipcast`` bindings. Imports only
NumPy, pandas and matplotlib, so it runs without the compiled engine.

Command line (used by ``chipcast plot DIR`` and ``chipcast run --plot``)::

    python -m chipcast.plotting SRC_DIR DST_DIR [--name NAME]
    python -m chipcast.plotting --check

writes every chart the folder's files allow as SVG and PNG, and report.html, into DST_DIR
and prints their names, one a line. Output is byte-for-byte repeatable.
"""

import base64
import html
import io
import json
import math
import os
import sys
import textwrap

# Exit status of the command line when NumPy, pandas or matplotlib cannot be imported
# (EX_UNAVAILABLE); the C++ side turns it into its message and exit status.
EXIT_MISSING = 69
_INSTALL_HINT = (
    "install them with `sudo apt-get install python3-matplotlib python3-pandas python3-numpy` "
    "(Debian/Ubuntu) or `python3 -m pip install --user matplotlib pandas numpy`, or point "
    "CHIPCAST_PYTHON at an interpreter that has them"
)

try:
    import numpy as np
    import pandas as pd
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator
except ImportError as _missing:  # pragma: no cover - exercised through the CLI test
    if __name__ == "__main__":
        sys.stderr.write(
            "error: chipcast charts need NumPy, pandas and matplotlib for %s (%s): %s\n"
            % (sys.executable, _missing, _INSTALL_HINT)
        )
        sys.exit(EXIT_MISSING)
    raise ImportError("chipcast.plotting needs NumPy, pandas and matplotlib (%s): %s" % (_missing, _INSTALL_HINT))

__all__ = [
    "RunData",
    "read_output_dir",
    "RunPlots",
    "SensitivityPlots",
    "ComparePlots",
    "ObservedPlots",
    "CalibrationPlots",
    "observation_intervals",
    "write_charts",
    "format_value",
    "metric_label",
]

# Fixed so that the ids in an SVG are the same on every render.
_HASH_SALT = "chipcast"
_STYLE = {
    "svg.hashsalt": _HASH_SALT,
    "svg.fonttype": "path",  # glyphs as paths: the SVG looks the same without the fonts installed
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e4e4e4",
    "grid.linewidth": 0.8,
    "legend.frameon": False,
    "path.simplify": False,
}

_METRIC_ORDER = ("units", "compute", "memory")
_METRIC_LABELS = {
    "units": "Units (accelerators)",
    "compute": "Compute (H100-equivalents)",
    "memory": "Memory (GB of HBM)",
}
_PARITY_RED = "#c62828"
_MUTED = "#555555"


def metric_label(metric):
    """Human-readable name of a metric with its unit, e.g. ``"Units (accelerators)"``."""
    return _METRIC_LABELS.get(metric, metric[:1].upper() + metric[1:])


def format_value(value, digits=2):
    """``value`` with ``digits`` decimals, never ``-0.00``: a value that rounds to zero prints as zero."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    text = "%.*f" % (digits, value)
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text


def _year_text(year):
    return "%g" % year


def _group_digits(n):
    return "{:,}".format(int(n)).replace(",", "\u2009")


def _short_sha(sha):
    return sha[:12] + "\u2026" if sha and len(sha) > 12 else (sha or "")


class ChartFigure(Figure):
    """A matplotlib Figure that shows itself in Jupyter (as PNG) without pyplot or ``%matplotlib``:
    the charts are built on Figure directly, which has no display hook of its own."""

    def _repr_png_(self):
        buf = io.BytesIO()
        self.savefig(buf, format="png", metadata={"Software": None})
        return buf.getvalue()


def _new_figure(width, height, **kwargs):
    with matplotlib.rc_context(_STYLE):
        fig = ChartFigure(figsize=(width, height), layout="constrained", **kwargs)
    return fig


def _styled(method):
    """Runs a chart method under the package's rcParams, so charts look the same in a notebook."""

    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(_STYLE):
            return method(*args, **kwargs)

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


def _footer(fig, lines):
    """Notes and the provenance line under the axes, wrapped to the figure's width."""
    width_chars = int(fig.get_figwidth() * 14)
    text = "\n".join(textwrap.fill(line, width_chars) for line in lines if line)
    if text:
        fig.supxlabel(text, x=0.0, ha="left", fontsize=7.5, color=_MUTED, linespacing=1.35)


# ---------------------------------------------------------------------------------------------
# Reading an output folder.


class RunData:
    """The files of one chipcast output folder.

    Attributes: ``path`` (the folder), ``summary`` (summary.json as a dict, or None in a
    compare or sensitivity folder), ``crossing`` / ``bands`` / ``annual`` (DataFrames of
    crossing.csv, bands.csv and annual.csv, or None when absent), ``sensitivity``
    (sensitivity.json as a dict, or None), ``compare`` (compare.json as a dict, or None).
    A score folder: ``score`` (score.json), ``observations`` (score.csv), ``run`` (the RunData
    of the run scored) and ``annual`` (its annual.csv). A calibrate folder: ``calibration``
    (calibration.json), ``observations`` and ``parameters`` (calibration.csv's rows of each
    kind), ``quantiles`` (parameter_quantiles.csv), ``prior`` and ``posterior`` (RunData of
    prior/ and posterior/; posterior None when none was accepted).
    """

    _KINDS = ("summary", "crossing", "bands", "annual", "sensitivity", "compare", "score", "calibration")

    def __init__(self, path, summary=None, crossing=None, bands=None, annual=None, sensitivity=None, compare=None):
        self.path = path
        self.summary = summary
        self.crossing = crossing
        self.bands = bands
        self.annual = annual
        self.sensitivity = sensitivity
        self.compare = compare
        # A score folder: score.json, score.csv (observations) and the RunData of the run scored
        # (run; its annual.csv is also this folder's annual).
        self.score = None
        self.run = None
        self.observations = None
        # A calibrate folder: calibration.json, the observation and parameter rows of
        # calibration.csv, parameter_quantiles.csv, and the RunData of prior/ and posterior/.
        self.calibration = None
        self.parameters = None
        self.quantiles = None
        self.prior = None
        self.posterior = None

    def __repr__(self):
        kinds = [k for k in self._KINDS if getattr(self, k) is not None]
        return "RunData(%r: %s)" % (str(self.path), ", ".join(kinds) or "empty")


class OutputFolderError(ValueError):
    """A folder that is not a chipcast output folder, or one of its files is malformed (names the file)."""


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except ValueError as e:
        raise OutputFolderError("%s: not valid JSON: %s" % (path, e)) from None


def _read_csv(path, columns, text=("metric", "series")):
    try:
        df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (ValueError, pd.errors.ParserError) as e:
        raise OutputFolderError("%s: not a CSV file: %s" % (path, e)) from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise OutputFolderError("%s: no column %s in the header" % (path, ", ".join(repr(c) for c in missing)))
    for c in columns:
        if c in text or df[c].dtype != object:
            continue
        values = pd.to_numeric(df[c].astype(str).str.strip(), errors="coerce")
        bad = values.isna() & ~df[c].astype(str).str.strip().str.lower().eq("nan")
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            raise OutputFolderError("%s: line %d: column %s: %r is not a number" % (path, row + 2, c, df[c].iloc[row]))
        df[c] = values
    return df


_CROSSING_COLUMNS = ["metric", "year", "p_crossed", "stderr", "lo95", "hi95"]
_BANDS_COLUMNS = ["metric", "series", "year", "q05", "q25", "q50", "q75", "q95"]


def read_output_dir(path):
    """Reads a chipcast output folder (run, compare or sensitivity) into a :class:`RunData`.

    A run folder has summary.json, crossing.csv and bands.csv (annual.csv and sensitivity.json
    when present); a compare folder compare.json; a sensitivity folder sensitivity.json.
    Raises :class:`OutputFolderError` naming the folder or the malformed file.
    """
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise OutputFolderError("%s: not a folder" % path)

    def there(name):
        return os.path.isfile(os.path.join(path, name))

    data = RunData(path)
    if there("summary.json"):
        data.summary = _read_json(os.path.join(path, "summary.json"))
        for name in ("crossing.csv", "bands.csv"):
            if not there(name):
                raise OutputFolderError("%s: missing (the folder has summary.json: a run folder needs it too)" % os.path.join(path, name))
        data.crossing = _read_csv(os.path.join(path, "crossing.csv"), _CROSSING_COLUMNS)
        data.bands = _read_csv(os.path.join(path, "bands.csv"), _BANDS_COLUMNS)
        if there("annual.csv"):
            data.annual = _read_csv(os.path.join(path, "annual.csv"), _BANDS_COLUMNS)
    if there("sensitivity.json"):
        data.sensitivity = _read_json(os.path.join(path, "sensitivity.json"))
    if there("compare.json"):
        data.compare = _read_json(os.path.join(path, "compare.json"))
    if there("score.json"):
        _read_score(path, data)
    if there("calibration.json"):
        _read_calibration(path, data)
    if data.summary is None and data.sensitivity is None and data.compare is None and data.score is None \
            and data.calibration is None:
        raise OutputFolderError(
            "%s: no summary.json, sensitivity.json, compare.json, score.json or calibration.json (is this a "
            "chipcast output folder?)" % path
        )
    return data


_SCORE_COLUMNS = ["year", "bloc", "metric", "value", "sd_log", "q05", "q50", "q95", "pit"]
_CALIBRATION_COLUMNS = ["kind", "name", "year", "bloc", "metric", "value", "low", "high", "sd_log", "prior_q05",
                        "prior_q50", "prior_q95", "posterior_q05", "posterior_q50", "posterior_q95", "shrink90"]
_QUANTILE_COLUMNS = ["name", "q", "prior", "posterior"]


def _scored_run(path, score):
    """The run folder a score folder scored: score.json's "run" (as the score command was given it,
    so relative to where it ran) or the folder above (RUN_DIR/score, the default), whichever is a
    run folder with annual.csv of that run (score.json's trajectories and seed)."""
    candidates = []
    if isinstance(score.get("run"), str):
        candidates.append(score["run"])
    candidates.append(os.path.dirname(os.path.abspath(path)))
    for c in candidates:
        if not (os.path.isfile(os.path.join(c, "summary.json")) and os.path.isfile(os.path.join(c, "annual.csv"))):
            continue
        run = read_output_dir(c)
        if run.summary.get("trajectories") == score.get("trajectories") and run.summary.get("seed") == score.get("seed"):
            return run
    raise OutputFolderError(
        "%s: score.json scored the run %r (%s trajectories, seed %s), but neither it nor the folder above is that "
        "run's folder with annual.csv (the observations are drawn on its annual totals)"
        % (path, score.get("run"), score.get("trajectories"), score.get("seed")))


def _read_score(path, data):
    data.score = _read_json(os.path.join(path, "score.json"))
    csv_path = os.path.join(path, "score.csv")
    if not os.path.isfile(csv_path):
        raise OutputFolderError("%s: missing (the folder has score.json: a score folder needs it too)" % csv_path)
    data.observations = _read_csv(csv_path, _SCORE_COLUMNS, text=("bloc", "metric"))
    data.run = _scored_run(path, data.score)
    data.annual = data.run.annual


def _read_calibration(path, data):
    data.calibration = _read_json(os.path.join(path, "calibration.json"))
    for name in ("calibration.csv", "parameter_quantiles.csv"):
        if not os.path.isfile(os.path.join(path, name)):
            raise OutputFolderError("%s: missing (the folder has calibration.json: a calibrate folder needs it too)"
                                    % os.path.join(path, name))
    table = _read_csv(os.path.join(path, "calibration.csv"), _CALIBRATION_COLUMNS, text=("kind", "name", "bloc", "metric"))
    data.observations = table[table["kind"] == "observation"].reset_index(drop=True)
    data.parameters = table[table["kind"] == "parameter"].reset_index(drop=True)
    data.quantiles = _read_csv(os.path.join(path, "parameter_quantiles.csv"), _QUANTILE_COLUMNS, text=("name",))
    prior = os.path.join(path, "prior")
    if not os.path.isfile(os.path.join(prior, "summary.json")):
        raise OutputFolderError("%s: missing (a calibrate folder holds the prior's run outputs)"
                                % os.path.join(prior, "summary.json"))
    data.prior = read_output_dir(prior)
    posterior = os.path.join(path, "posterior")
    data.posterior = read_output_dir(posterior) if os.path.isdir(posterior) else None


def _metrics_of(frame):
    names = list(dict.fromkeys(frame["metric"]))
    return [m for m in _METRIC_ORDER if m in names] + [m for m in names if m not in _METRIC_ORDER]


def _source_line(parts, s):
    """The provenance footer: `parts`, then the seed, backend, config digest and start time of `s`."""
    if s.get("seed") is not None:
        parts.append("seed %s" % s["seed"])
    if s.get("backend"):
        parts.append(str(s["backend"]))
    if s.get("config_sha256"):
        parts.append("config sha256 " + _short_sha(s["config_sha256"]))
    if s.get("started_utc"):
        parts.append(str(s["started_utc"]))
    return "Source: " + " \u00b7 ".join(parts)


def _run_provenance(summary):
    """One line: version, config, trajectories, seed, backend, config digest, start time."""
    s = summary or {}
    parts = ["chipcast " + str(s.get("version", "?"))]
    if s.get("config_path"):
        parts.append(os.path.basename(str(s["config_path"])))
    if s.get("trajectories") is not None:
        parts.append(_group_digits(s["trajectories"]) + " trajectories")
    return _source_line(parts, s)


# ---------------------------------------------------------------------------------------------
# Run charts.


class RunPlots:
    """Charts of a run: ``fan(metric)``, ``cdf(metric)`` and ``annual(metric)``, each a matplotlib Figure.

    ``data`` needs ``summary``, ``crossing`` and ``bands`` (and ``annual`` for ``annual()``).
    All fan charts of one run share one log axis range, so the metrics compare at a glance.
    """

    def __init__(self, data):
        if getattr(data, "summary", None) is None or getattr(data, "bands", None) is None:
            raise ValueError("RunPlots needs a run's summary, crossing and bands (this has none)")
        self.data = data

    def __repr__(self):
        return "RunPlots(%s)" % ", ".join(self.metrics())

    def metrics(self):
        """The metrics with bands, units / compute / memory first."""
        return _metrics_of(self.data.bands)

    def _run(self):
        return self.data.summary.get("run", {})

    def _check_metric(self, metric):
        if metric not in self.metrics():
            raise ValueError("no metric %r in this run (it has %s)" % (metric, ", ".join(self.metrics())))

    def ratio_limits(self):
        """The (low, high) of the fan charts' shared log axis: decades around every finite positive
        ratio quantile of every metric, and the parity threshold."""
        b = self.data.bands
        values = b.loc[b["series"] == "ratio", ["q05", "q25", "q50", "q75", "q95"]].to_numpy(dtype=float).ravel()
        values = values[np.isfinite(values) & (values > 0)]
        threshold = float(self._run().get("threshold", 1.0))
        lo = min(values.min(), threshold) if values.size else threshold / 10
        hi = max(values.max(), threshold) if values.size else threshold * 10
        lo_e, hi_e = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        if hi_e <= lo_e:
            hi_e = lo_e + 1
        return 10.0 ** lo_e, 10.0 ** hi_e

    @_styled
    def fan(self, metric):
        """Fan chart of the domestic / foreign ratio of ``metric``: 5-95 % and 25-75 % bands, the
        median and the parity line, on the log axis all metrics of the run share."""
        self._check_metric(metric)
        run = self._run()
        b = self.data.bands
        rows = b[(b["metric"] == metric) & (b["series"] == "ratio")].sort_values("year", kind="stable")
        lo, hi = self.ratio_limits()
        years = rows["year"].to_numpy(dtype=float)
        q = {k: rows[k].to_numpy(dtype=float) for k in ("q05", "q25", "q50", "q75", "q95")}
        clipped = any(((v <= lo) | (v >= hi) | ~np.isfinite(v)).any() for v in q.values())
        # Zero and infinite quantiles are drawn at the axis edges (a note says so).
        q = {k: np.clip(np.nan_to_num(v, nan=lo, posinf=hi, neginf=lo), lo, hi) for k, v in q.items()}
        threshold = float(run.get("threshold", 1.0))

        fig = _new_figure(8, 5)
        ax = fig.add_subplot()
        ax.fill_between(years, q["q05"], q["q95"], color="#c6dbef", lw=0, label="5\u201395 % band")
        ax.fill_between(years, q["q25"], q["q75"], color="#6baed6", lw=0, label="25\u201375 % band")
        ax.plot(years, q["q50"], color="#08306b", lw=2.2, label="median")
        ax.axhline(threshold, color=_PARITY_RED, lw=1.6, ls=(0, (7, 4)), label="parity (ratio = %g)" % threshold)
        ax.set_yscale("log")
        ax.set_ylim(lo, hi)
        ax.set_xlim(float(run.get("start_year", years.min())), float(run.get("horizon_year", years.max())))
        ax.set_xlabel("year")
        ax.set_ylabel("domestic / foreign output (log scale)")
        ax.set_title(metric_label(metric) + ": domestic / foreign output", loc="left")
        ax.legend(loc="upper left", fontsize=8.5)
        notes = [
            "Pointwise quantiles of the ratio of domestic to foreign %s output per period over %s trajectories "
            "(the same axis range for every metric of this run)."
            % (metric, _group_digits(self.data.summary.get("trajectories", 0)))
        ]
        if clipped:
            notes.append("Quantiles of 0 or infinity, or outside the axis range, are drawn at its edges.")
        notes.append(_run_provenance(self.data.summary))
        _footer(fig, notes)
        return fig

    @_styled
    def cdf(self, metric):
        """P(parity by year) of ``metric`` with its 95 % Wilson band; the lower panel shows the band
        around the estimate in percentage points, so it is visible at any trajectory count."""
        self._check_metric(metric)
        run = self._run()
        horizon = float(run.get("horizon_year", 0))
        m = self.data.summary.get("metrics", {}).get(metric, {})
        c = self.data.crossing
        rows = c[c["metric"] == metric].sort_values("year", kind="stable")
        years = rows["year"].to_numpy(dtype=float)
        p = rows["p_crossed"].to_numpy(dtype=float)
        lo95 = rows["lo95"].to_numpy(dtype=float)
        hi95 = rows["hi95"].to_numpy(dtype=float)

        fig = _new_figure(8, 6)
        ax, dev = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.2]})
        band_color, line_color = "#fdae6b", "#a63603"
        ax.fill_between(years, lo95, hi95, color=band_color, alpha=0.8, lw=0)
        ax.plot(years, lo95, color=band_color, lw=0.8)
        ax.plot(years, hi95, color=band_color, lw=0.8)
        ax.plot(years, p, color=line_color, lw=1.8)
        quantiles = m.get("crossing_year", {}) or {}
        marks = []
        for key, label in (("q05", "q05"), ("q50", "median"), ("q95", "q95")):
            y = quantiles.get(key)
            if y is not None:
                ax.axvline(y, color="#444444", lw=0.9, ls=":")
                ax.annotate("%s %.2f" % (label, y), (y, 0.5), xycoords=("data", "axes fraction"), rotation=90,
                            xytext=(-2, 0), textcoords="offset points", ha="right", va="center", fontsize=8,
                            color="#333333")
                marks.append(key)
        ax.set_ylim(0, 1)
        ax.set_ylabel("P(parity by year)")
        ax.set_title(metric_label(metric) + ": P(parity by year)", loc="left")
        handles = [
            Line2D([], [], color=line_color, lw=1.8, label="P(parity by year)"),
            Patch(color=band_color, alpha=0.8, label="95 % Wilson interval (Monte Carlo error)"),
        ]
        if marks:
            handles.append(Line2D([], [], color="#444444", lw=0.9, ls=":", label="parity-year quantiles"))
        ax.legend(handles=handles, loc="upper left", fontsize=8.5)

        dev.fill_between(years, 100 * (lo95 - p), 100 * (hi95 - p), color=band_color, alpha=0.8, lw=0)
        dev.axhline(0, color=line_color, lw=1.2)
        dev.set_ylabel("95 % interval\n\u2212 estimate (pp)", fontsize=8.5)
        dev.set_xlabel("year")
        dev.set_xlim(float(run.get("start_year", years.min())), horizon or years.max())

        h = _year_text(horizon)
        p_no = m.get("p_no_parity_by_horizon")
        se = m.get("p_parity_by_horizon_stderr")
        notes = []
        if p_no is not None:
            notes.append(
                "P(no parity by %s) = %s (P(parity by %s) = %s%s)."
                % (h, format_value(p_no, 3), h, format_value(m.get("p_parity_by_horizon", 1 - p_no), 3),
                   ", Monte Carlo s.e. %.2g" % se if se is not None else "")
            )
        def q_text(k):
            v = quantiles.get(k)
            return "after %s" % h if v is None else "%.2f" % v

        notes.append("Parity year: median %s, 90 %% band %s \u2013 %s." % (q_text("q50"), q_text("q05"), q_text("q95")))
        widest = float(np.nanmax(hi95 - lo95)) if len(years) else 0.0
        notes.append(
            "Band: 95 %% Wilson score interval of each probability (Monte Carlo error only, not model uncertainty); "
            "at most %.2g wide, drawn magnified in the lower panel." % widest
        )
        notes.append(_run_provenance(self.data.summary))
        _footer(fig, notes)
        return fig

    def has_annual(self):
        """Whether the run has annual totals (annual.csv)."""
        return getattr(self.data, "annual", None) is not None and len(self.data.annual) > 0

    @_styled
    def annual(self, metric):
        """Annual totals of ``metric``: domestic and foreign fans (5-95 %, 25-75 %, median) on a log axis."""
        if not self.has_annual():
            raise ValueError("this run has no annual totals (annual.csv)")
        a = self.data.annual
        rows = a[a["metric"] == metric]
        if rows.empty:
            raise ValueError("no metric %r in annual.csv (it has %s)" % (metric, ", ".join(_metrics_of(a))))
        fig = _new_figure(8, 5)
        ax = fig.add_subplot()
        colors = {"domestic": ("#c6dbef", "#6baed6", "#08306b"), "foreign": ("#fdd0a2", "#fd8d3c", "#7f2704")}
        handles = []
        for series, (outer, inner, line) in colors.items():
            s = rows[rows["series"] == series].sort_values("year", kind="stable")
            if s.empty:
                continue
            y = s["year"].to_numpy(dtype=float)
            q = {k: s[k].to_numpy(dtype=float) for k in ("q05", "q25", "q50", "q75", "q95")}
            ax.fill_between(y, q["q05"], q["q95"], color=outer, alpha=0.6, lw=0)
            ax.fill_between(y, q["q25"], q["q75"], color=inner, alpha=0.6, lw=0)
            ax.plot(y, q["q50"], color=line, lw=2, marker="o", ms=3)
            handles += [
                Line2D([], [], color=line, lw=2, label="%s median" % series),
                Patch(color=inner, alpha=0.6, label="%s 25\u201375 %%" % series),
                Patch(color=outer, alpha=0.6, label="%s 5\u201395 %%" % series),
            ]
        ax.set_yscale("log")
        ax.set_xlabel("year")
        ax.set_ylabel("annual total (log scale)")
        ax.set_title(metric_label(metric) + ": annual totals", loc="left")
        ax.legend(handles=handles, loc="upper left", fontsize=8, ncol=2)
        _footer(fig, ["Pointwise quantiles of each calendar year's total over the run's trajectories.",
                      _run_provenance(self.data.summary)])
        return fig


# ---------------------------------------------------------------------------------------------
# Sensitivity charts.


def _sensitivity_provenance(s):
    """The study's own provenance line (its trajectories and config digest, not a run's)."""
    parts = ["chipcast " + str(s.get("version", "?")) + " sensitivity"]
    if s.get("config_path"):
        parts.append(os.path.basename(str(s["config_path"])))
    if s.get("base_samples") is not None:
        parts.append("%s base samples" % _group_digits(s["base_samples"]))
    if s.get("tornado_trajectories") is not None:
        parts.append("%s trajectories per tornado setting" % _group_digits(s["tornado_trajectories"]))
    if s.get("trajectories_run") is not None:
        parts.append("%s trajectories in all" % _group_digits(s["trajectories_run"]))
    return _source_line(parts, s)


def _output_title(output):
    """``"parity_year:units"`` -> ``"parity year (units)"``; ``"p_parity_by:2040:memory"`` -> ``"P(parity by 2040) (memory)"``."""
    if not output:
        return "output"
    parts = output.split(":")
    if parts[0] == "p_parity_by" and len(parts) == 3:
        return "P(parity by %s) (%s)" % (parts[1], parts[2])
    head = parts[0].replace("_", " ")
    return head if len(parts) == 1 else "%s (%s)" % (head, ", ".join(parts[1:]))


def _sensitivity_horizon(s, summary=None):
    """The horizon year a parity-year study counts censored runs at (from the study, else the run)."""
    import re

    found = re.search(r"are set to ([0-9.eE+-]+)", str(s.get("output_description", "")))
    if found:
        return float(found.group(1))
    if summary and "run" in summary:
        return float(summary["run"]["horizon_year"])
    return None


class SensitivityPlots:
    """Charts of a sensitivity study: ``tornado()`` and ``sobol()``, each a matplotlib Figure.

    ``data.sensitivity`` is sensitivity.json as a dict. Each chart carries the study's own
    provenance (its trajectories, seed and config digest).
    """

    #: Bars drawn per chart, largest first; the rest are listed in report.html.
    max_rows = 20

    def __init__(self, data):
        s = getattr(data, "sensitivity", None)
        if s is None:
            raise ValueError("SensitivityPlots needs a sensitivity study (sensitivity.json); this has none")
        self.data = data
        self.study = s

    def __repr__(self):
        return "SensitivityPlots(%s: %d factors, %d tornado rows)" % (
            self.study.get("output", "?"), len(self.study.get("indices", [])), len(self.study.get("tornado", [])))

    def _label_width(self, names):
        # Wide enough for the longest full name next to the bars (names are never cut).
        longest = max((len(n) for n in names), default=10)
        return 6.5 + 0.085 * longest

    def tornado_rows(self):
        """The tornado entries sorted by |high - low|, largest first (a DataFrame)."""
        rows = pd.DataFrame(self.study.get("tornado", []))
        if rows.empty:
            return rows
        for k in ("low", "high", "base"):
            rows[k] = pd.to_numeric(rows.get(k), errors="coerce")
        swing = (rows["high"] - rows["low"]).abs().fillna(0)
        return rows.assign(_swing=swing).sort_values("_swing", ascending=False, kind="stable").drop(columns="_swing").reset_index(drop=True)

    def sobol_rows(self):
        """The Sobol entries sorted by total index, largest first (a DataFrame)."""
        rows = pd.DataFrame(self.study.get("indices", []))
        if rows.empty:
            return rows
        for k in ("first", "total"):
            rows[k] = pd.to_numeric(rows.get(k), errors="coerce")
        key = rows["total"].fillna(-np.inf)
        return rows.assign(_key=key).sort_values("_key", ascending=False, kind="stable").drop(columns="_key").reset_index(drop=True)

    @_styled
    def tornado(self):
        """One parameter at a time: the output with each parameter at its 10th and 90th percentile
        (the others at their medians), bars drawn from the base value, sorted by swing."""
        rows = self.tornado_rows()
        if rows.empty:
            raise ValueError("the study has no tornado entries")
        s = self.study
        output = s.get("output", "")
        years = output.startswith("parity_year")
        horizon = _sensitivity_horizon(s, getattr(self.data, "summary", None)) if years else None
        hidden = max(0, len(rows) - self.max_rows)
        rows = rows.head(self.max_rows)
        n = len(rows)
        fig = _new_figure(self._label_width(rows["parameter"]), 2.8 + 0.34 * n)
        ax = fig.add_subplot()
        y = np.arange(n)[::-1].astype(float)
        base = float(rows["base"].iloc[0])
        low_color, high_color = "#4393c3", "#d6604d"

        def fmt(v):
            return format_value(v, 1 if years else 3)

        for yi, (_, r) in zip(y, rows.iterrows()):
            for value, color, dy in ((r["low"], low_color, 0.19), (r["high"], high_color, -0.19)):
                if pd.isna(value):
                    continue
                ax.barh(yi + dy, value - base, left=base, height=0.36, color=color)
                at_horizon = horizon is not None and value >= horizon - 1e-9
                ax.annotate(fmt(value) + (" (horizon)" if at_horizon else ""), (value, yi + dy),
                            xytext=(3 if value >= base else -3, 0), textcoords="offset points",
                            ha="left" if value >= base else "right", va="center", fontsize=7.5, color="#333333")
        ax.axvline(base, color="#111111", lw=1.8)
        if horizon is not None:
            ax.axvline(horizon, color="#999999", lw=1, ls=(0, (4, 3)))
            ax.annotate("horizon %s" % _year_text(horizon), (horizon, 0.0), xycoords=("data", "axes fraction"),
                        xytext=(3, 3), textcoords="offset points", rotation=90, ha="left", va="bottom", fontsize=8,
                        color=_MUTED)
        ax.set_yticks(y)
        ax.set_yticklabels(list(rows["parameter"]))
        ax.yaxis.grid(False)
        ax.set_ylim(-0.7, n - 0.3)
        values = np.concatenate([rows["low"].to_numpy(float), rows["high"].to_numpy(float), [base]])
        values = values[np.isfinite(values)]
        span = (values.max() - values.min()) or max(1.0, abs(base) * 0.1)
        left, right = values.min() - 0.18 * span, values.max() + 0.18 * span
        if horizon is not None:
            right = max(right, horizon + 0.05 * span)
        ax.set_xlim(left, right)
        ax.set_xlabel(_output_title(output) + (" (mean over the setting's trajectories)" if years else ""))
        ax.xaxis.set_major_locator(MaxNLocator(7))
        ax.set_title("Sensitivity: one parameter at a time (tornado)", loc="left", pad=36)
        ax.legend(handles=[Patch(color=low_color, label="parameter at its 10th percentile"),
                           Patch(color=high_color, label="at its 90th percentile"),
                           Line2D([], [], color="#111111", lw=1.8, label="base: all at their medians (%s)" % fmt(base))],
                  loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=8, borderaxespad=0.2)
        notes = []
        if hidden:
            notes.append("%d parameters with smaller swings not shown (all are in sensitivity.json and report.html)." % hidden)
        if horizon is not None:
            h = _year_text(horizon)
            notes.append(
                "Censoring: runs that did not reach parity by the horizon %s are counted at %s, so a bar ending at "
                "the %s line is runs that did not reach parity by then (the mean is a lower bound on their parity "
                "year; censored share of the Sobol runs %s)." % (h, h, h, format_value(s.get("censored_share"), 3))
            )
        notes.append(_sensitivity_provenance(s))
        _footer(fig, notes)
        return fig

    @_styled
    def sobol(self):
        """First-order and total Sobol indices per factor with their bootstrap 95 % intervals, sorted by total."""
        rows = self.sobol_rows()
        if rows.empty:
            raise ValueError("the study has no Sobol indices")
        s = self.study
        hidden = max(0, len(rows) - self.max_rows)
        rows = rows.head(self.max_rows)
        n = len(rows)
        fig = _new_figure(self._label_width(rows["parameter"]), 2.8 + 0.38 * n)
        ax = fig.add_subplot()
        y = np.arange(n)[::-1].astype(float)
        hi_edge = 0.1
        for key, color, dy, label in (("first", "#4c78a8", 0.19, "first-order index"),
                                      ("total", "#f58518", -0.19, "total index")):
            values = rows[key].to_numpy(float)
            ax.barh(y + dy, np.nan_to_num(values), height=0.36, color=color, label=label)
            ci = rows.get(key + "_ci95")
            for yi, v, c in zip(y, values, ci if ci is not None else [None] * n):
                end = v if np.isfinite(v) else 0.0
                if c is not None and len(c) == 2 and c[0] is not None and c[1] is not None:
                    ax.plot([c[0], c[1]], [yi + dy] * 2, color="#222222", lw=1.1)
                    ax.plot([c[0]] * 2, [yi + dy - 0.1, yi + dy + 0.1], color="#222222", lw=1.1)
                    ax.plot([c[1]] * 2, [yi + dy - 0.1, yi + dy + 0.1], color="#222222", lw=1.1)
                    end = max(end, c[1])
                hi_edge = max(hi_edge, end)
                ax.annotate(format_value(v, 2), (max(end, 0), yi + dy), xytext=(3, 0), textcoords="offset points",
                            ha="left", va="center", fontsize=7.5, color="#333333")
        lows = [min(c) for c in rows.get("first_ci95", []) if c and None not in c] + [0.0]
        ax.set_xlim(min(min(lows), 0.0) - 0.02, min(hi_edge, 2.0) * 1.15 + 0.02)
        ax.axvline(0, color="#444444", lw=1.1)
        ax.set_yticks(y)
        ax.set_yticklabels(list(rows["parameter"]))
        ax.yaxis.grid(False)
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlabel("Sobol index of " + _output_title(s.get("output", "")))
        ax.set_title("Sensitivity: Sobol indices", loc="left", pad=24)
        ax.legend(handles=[Patch(color="#4c78a8", label="first-order index"), Patch(color="#f58518", label="total index"),
                           Line2D([], [], color="#222222", lw=1.1, label="bootstrap 95 % interval")],
                  loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, fontsize=8, borderaxespad=0.2)
        notes = []
        if hidden:
            notes.append("%d factors with smaller total indices not shown (all are in sensitivity.json and report.html)." % hidden)
        if s.get("first_sum") is not None:
            notes.append("Sum of first-order indices = %s; 1 \u2212 sum is the share of variance left to the noise "
                         "and to interactions." % format_value(s["first_sum"], 2))
        if str(s.get("output", "")).startswith("parity_year"):
            h = _sensitivity_horizon(s, getattr(self.data, "summary", None))
            if h is not None:
                notes.append("Censoring: runs without parity by the horizon %s count as %s (censored share %s)."
                             % (_year_text(h), _year_text(h), format_value(s.get("censored_share"), 3)))
        notes.append(_sensitivity_provenance(s))
        _footer(fig, notes)
        return fig


# ---------------------------------------------------------------------------------------------
# Compare charts.


class ComparePlots:
    """Charts of a comparison (compare.json): ``shift(metric)``, a matplotlib Figure."""

    def __init__(self, data):
        c = getattr(data, "compare", None)
        if c is None:
            raise ValueError("ComparePlots needs a comparison (compare.json); this has none")
        self.data = data
        self.comparison = c

    def __repr__(self):
        return "ComparePlots(%d scenarios against %s)" % (
            len(self.comparison.get("comparisons", [])),
            os.path.basename(str(self.comparison.get("baseline", {}).get("config_path", "?"))))

    def metrics(self):
        """The metrics compared, units / compute / memory first."""
        names = []
        for comp in self.comparison.get("comparisons", []):
            names += [m for m in comp.get("metrics", {}) if m not in names]
        return [m for m in _METRIC_ORDER if m in names] + [m for m in names if m not in _METRIC_ORDER]

    def shift_rows(self, metric):
        """Per scenario and period end: year, p_a, p_b, shift, shift_stderr, lo95, hi95 (a DataFrame)."""
        frames = []
        for comp in self.comparison.get("comparisons", []):
            rows = comp.get("metrics", {}).get(metric, {}).get("p_parity_by", [])
            df = pd.DataFrame(rows)
            if df.empty:
                continue
            df.insert(0, "scenario", os.path.basename(str(comp.get("config_path", "?"))))
            df["lo95"] = df["shift"] - 1.959963984540054 * df["shift_stderr"]
            df["hi95"] = df["shift"] + 1.959963984540054 * df["shift_stderr"]
            frames.append(df)
        if not frames:
            raise ValueError("no metric %r in compare.json (it has %s)" % (metric, ", ".join(self.metrics())))
        return pd.concat(frames, ignore_index=True)

    @_styled
    def shift(self, metric):
        """Shift of P(parity by year) of each scenario against the baseline, with its paired 95 % band."""
        rows = self.shift_rows(metric)
        c = self.comparison
        fig = _new_figure(8, 5)
        ax = fig.add_subplot()
        palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]
        handles = []
        for i, (name, df) in enumerate(rows.groupby("scenario", sort=False)):
            color = palette[i % len(palette)]
            yr = df["year"].to_numpy(float)
            ax.fill_between(yr, 100 * df["lo95"].to_numpy(float), 100 * df["hi95"].to_numpy(float), color=color, alpha=0.3, lw=0)
            ax.plot(yr, 100 * df["shift"].to_numpy(float), color=color, lw=1.8)
            handles += [Line2D([], [], color=color, lw=1.8, label="%s \u2212 baseline" % name),
                        Patch(color=color, alpha=0.3, label="paired 95 % interval")]
        ax.axhline(0, color="#444444", lw=1)
        ax.set_xlabel("year")
        ax.set_ylabel("shift of P(parity by year) (percentage points)")
        ax.set_title(metric_label(metric) + ": shift of P(parity by year)", loc="left")
        ax.legend(handles=handles, loc="best", fontsize=8)
        base = c.get("baseline", {})
        parts = ["chipcast %s compare" % c.get("version", "?"),
                 "baseline " + os.path.basename(str(base.get("config_path", "?"))),
                 "%s trajectories per scenario" % _group_digits(c.get("trajectories", 0)),
                 "seed %s" % c.get("seed", "?")]
        if c.get("backend"):
            parts.append(str(c["backend"]))
        if base.get("config_sha256"):
            parts.append("baseline config sha256 " + _short_sha(base["config_sha256"]))
        if c.get("started_utc"):
            parts.append(str(c["started_utc"]))
        _footer(fig, ["Band: shift \u00b1 1.96 paired standard errors (common random numbers: the same "
                      "trajectories in every scenario, McNemar's paired proportions).",
                      "Source: " + " \u00b7 ".join(parts)])
        return fig


# ---------------------------------------------------------------------------------------------
# Observations on the annual totals (score and calibrate), and prior vs posterior marginals.

#: z of a two-sided 90 % normal interval, as the C++ side (host/config/observation.h) uses it.
_Z90 = 1.6449
_OBSERVED_BLOCS = ("domestic", "foreign", "ratio")
_OBSERVED_COLOR = "#d95f02"
_FAN_STYLES = {
    # label: (5-95 % colour, 25-75 % colour, median colour, median dashes, alpha)
    "run": ("#c6dbef", "#6baed6", "#08306b", "-", 0.7),
    "prior": ("#d9d9d9", "#bdbdbd", "#525252", (0, (5, 3)), 0.6),
    "posterior": ("#c6dbef", "#6baed6", "#08306b", "-", 0.6),
}
#: Years drawn after the last observation on the observed charts (the rest is in annual_*).
OBSERVED_YEARS_AFTER = 10


def observation_intervals(frame):
    """``frame`` (score.csv or calibration.csv's observation rows) with ``low90`` and ``high90``: each
    observation's 90 % interval, the ``low`` / ``high`` it was given as where there are such columns
    and cells, else value x exp(-/+ 1.6449 sd_log) (the same interval: MODEL-v2.md section 7)."""
    out = frame.copy()
    value = out["value"].to_numpy(dtype=float)
    sd = out["sd_log"].to_numpy(dtype=float)
    low = value * np.exp(-_Z90 * sd)
    high = value * np.exp(_Z90 * sd)
    if "low" in out.columns and "high" in out.columns:
        given_low = out["low"].to_numpy(dtype=float)
        given_high = out["high"].to_numpy(dtype=float)
        has = np.isfinite(given_low) & np.isfinite(given_high)
        low = np.where(has, given_low, low)
        high = np.where(has, given_high, high)
    out["low90"] = low
    out["high90"] = high
    return out


def _calibration_provenance(c):
    """The calibrate run's provenance line (its prior trajectories, accepted count, seed, config digest)."""
    parts = ["chipcast " + str(c.get("version", "?")) + " calibrate"]
    if c.get("config_path"):
        parts.append(os.path.basename(str(c["config_path"])))
    if c.get("trajectories") is not None:
        parts.append(_group_digits(c["trajectories"]) + " prior trajectories")
    if c.get("accepted") is not None:
        parts.append(_group_digits(c["accepted"]) + " accepted")
    return _source_line(parts, c)


def _score_provenance(score, run_summary):
    parts = ["chipcast " + str((run_summary or {}).get("version", "?")) + " score"]
    if score.get("run"):
        parts.append("scored run folder " + str(score["run"]))
    if score.get("trajectories") is not None:
        parts.append(_group_digits(score["trajectories"]) + " trajectories")
    s = dict(run_summary or {})
    s["seed"] = score.get("seed", s.get("seed"))
    s.pop("started_utc", None)  # the run's start, not the score's: left out rather than mislabelled
    return _source_line(parts, s)


def _log_limits(values):
    """Decades around the finite positive ``values`` (None when there are none)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if not v.size:
        return None
    lo, hi = math.floor(math.log10(v.min())), math.ceil(math.log10(v.max()))
    return 10.0 ** lo, 10.0 ** (hi if hi > lo else lo + 1)


def _wrap_name(name, width):
    """A dotted parameter name in lines of at most ``width`` characters, broken after its dots
    (a part longer than ``width`` stands alone): full names, never cut."""
    lines, line = [], ""
    for part in name.replace(".", ".\0").split("\0"):
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = ""
        line += part
    return "\n".join(lines + [line])


class ObservedPlots:
    """The annual totals with the observations drawn on them: ``observed(metric)``, a Figure.

    A score (``data.score``): the scored run's annual fans (``data.annual``). A calibration
    (``data.calibration``): the prior's and the posterior's fans (``data.prior.annual``,
    ``data.posterior.annual``). The observations (``data.observations``: score.csv or
    calibration.csv's observation rows) are points at their values with their 90 % intervals
    as error bars, one panel per bloc observed (domestic, foreign, the ratio).
    """

    def __init__(self, data):
        if getattr(data, "observations", None) is None or (
                getattr(data, "score", None) is None and getattr(data, "calibration", None) is None):
            raise ValueError("ObservedPlots needs a score (score.json, score.csv) or a calibration "
                             "(calibration.json, calibration.csv); this has neither")
        self.data = data

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(self.metrics()) or "no metric with annual totals")

    def _calibrated(self):
        return getattr(self.data, "calibration", None) is not None

    def fans(self):
        """(label, annual DataFrame) pairs drawn under the observations: ("run", ...) for a score;
        ("prior", ...) and, when trajectories were accepted, ("posterior", ...) for a calibration."""
        if self._calibrated():
            out = [("prior", getattr(self.data.prior, "annual", None))]
            if self.data.posterior is not None:
                out.append(("posterior", self.data.posterior.annual))
            return [(k, a) for k, a in out if a is not None and len(a)]
        a = getattr(self.data, "annual", None)
        return [("run", a)] if a is not None and len(a) else []

    def metrics(self):
        """The metrics that have both observations and annual totals, units / compute / memory first."""
        fans = self.fans()
        if not fans:
            return []
        have = set(fans[0][1]["metric"])
        observed = [m for m in _metrics_of(self.data.observations) if m in have]
        return observed

    def not_drawn(self):
        """The observations of quantities without annual totals (wafers, hbm, packaging): a DataFrame."""
        o = self.data.observations
        return o[~o["metric"].isin(self.metrics())].reset_index(drop=True)

    def observation_rows(self, metric):
        """The observations of ``metric`` with their 90 % intervals (observation_intervals)."""
        if metric not in self.metrics():
            raise ValueError("no observed metric %r with annual totals here (there are %s)"
                             % (metric, ", ".join(self.metrics()) or "none"))
        o = self.data.observations
        return observation_intervals(o[o["metric"] == metric].reset_index(drop=True))

    def _provenance(self):
        if self._calibrated():
            return _calibration_provenance(self.data.calibration)
        run = getattr(self.data, "run", None)
        return _score_provenance(self.data.score, getattr(run, "summary", None))

    @_styled
    def observed(self, metric):
        """Annual totals of ``metric`` (5-95 %, 25-75 % bands and median of each fan) with each
        observation of it as a point and its 90 % interval, one panel per bloc observed, from the
        first year to ``OBSERVED_YEARS_AFTER`` years after the last observation."""
        obs = self.observation_rows(metric)
        blocs = [b for b in _OBSERVED_BLOCS if (obs["bloc"] == b).any()]
        fans = self.fans()
        last = float(obs["year"].max()) + OBSERVED_YEARS_AFTER
        fig = _new_figure(8, 1.9 + 3.0 * len(blocs))
        axes = fig.subplots(len(blocs), 1, sharex=True, squeeze=False)[:, 0]
        first_year = min([float(obs["year"].min())] + [float(a["year"].min()) for _, a in fans])
        handles = []
        for ax, bloc in zip(axes, blocs):
            values = []
            for label, annual in fans:
                outer, inner, line, dashes, alpha = _FAN_STYLES[label]
                rows = annual[(annual["metric"] == metric) & (annual["series"] == bloc) & (annual["year"] <= last)]
                rows = rows.sort_values("year", kind="stable")
                if rows.empty:
                    continue
                y = rows["year"].to_numpy(dtype=float)
                q = {k: rows[k].to_numpy(dtype=float) for k in ("q05", "q25", "q50", "q75", "q95")}
                values += [v for k in q for v in q[k]]
                ax.fill_between(y, q["q05"], q["q95"], color=outer, alpha=alpha, lw=0)
                ax.fill_between(y, q["q25"], q["q75"], color=inner, alpha=alpha, lw=0)
                ax.plot(y, q["q50"], color=line, lw=2, ls=dashes, marker="o", ms=3)
                if ax is axes[0]:
                    name = "" if label == "run" else label + " "
                    handles += [Line2D([], [], color=line, lw=2, ls=dashes, label="%smedian" % name),
                                Patch(color=inner, alpha=alpha, label="%s25\u201375 %%" % name),
                                Patch(color=outer, alpha=alpha, label="%s5\u201395 %%" % name)]
            o = obs[obs["bloc"] == bloc]
            v = o["value"].to_numpy(dtype=float)
            lo, hi = o["low90"].to_numpy(dtype=float), o["high90"].to_numpy(dtype=float)
            values += list(lo) + list(hi)
            ax.errorbar(o["year"].to_numpy(dtype=float), v, yerr=[v - lo, hi - v], fmt="o", color=_OBSERVED_COLOR,
                        ecolor=_OBSERVED_COLOR, elinewidth=1.6, capsize=4, ms=5.5, zorder=5)
            ax.set_yscale("log")
            limits = _log_limits(values)
            if limits:
                ax.set_ylim(*limits)
            ax.set_ylabel("domestic / foreign (log scale)" if bloc == "ratio" else "%s annual total (log scale)" % bloc)
            ax.set_title("domestic / foreign" if bloc == "ratio" else bloc, loc="left", fontsize=10.5)
        handles.append(Line2D([], [], color=_OBSERVED_COLOR, marker="o", lw=1.6, ms=5.5,
                              label="observed, with its 90 % interval"))
        axes[-1].set_xlabel("calendar year")
        axes[-1].set_xlim(first_year - 0.5, last + 0.5)
        axes[0].legend(handles=handles, loc="upper left", fontsize=8, ncol=2)
        fig.suptitle(metric_label(metric) + ": annual totals and the observations", x=0.0, ha="left",
                     fontsize=12, fontweight="bold")
        notes = []
        if self._calibrated():
            c = self.data.calibration
            notes.append("Prior: all %s trajectories; posterior: the %s accepted (share %s), each with probability "
                         "its likelihood of every observation (exact rejection sampling, MODEL-v2.md section 8)."
                         % (_group_digits(c.get("trajectories", 0)), _group_digits(c.get("accepted", 0)),
                            format_value(c.get("accepted_share"), 4)))
            if self.data.posterior is None:
                notes.append("No trajectory was accepted: no posterior is drawn.")
        else:
            notes.append("Pointwise quantiles of each calendar year's simulated total over the run's trajectories.")
        notes.append("Error bars: the observation's 90 %% interval (its lognormal error, z = %g); drawn to %d years "
                     "after the last observation." % (_Z90, OBSERVED_YEARS_AFTER))
        skipped = self.not_drawn()
        if len(skipped):
            notes.append("Not drawn (no annual totals of them): %s." % ", ".join(
                "%d %s %s" % (r["year"], r["bloc"], r["metric"]) for _, r in skipped.iterrows()))
        notes.append(self._provenance())
        _footer(fig, notes)
        return fig


class CalibrationPlots(ObservedPlots):
    """Charts of a calibration: ``observed(metric)`` (prior and posterior annual fans with the
    observations) and ``marginals(count)`` (prior vs posterior CDFs of the parameters whose 90 %
    intervals narrowed most), each a matplotlib Figure."""

    def __init__(self, data):
        if getattr(data, "calibration", None) is None:
            raise ValueError("CalibrationPlots needs a calibration (calibration.json); this has none")
        super().__init__(data)

    def __repr__(self):
        return "CalibrationPlots(%s accepted; observed: %s)" % (
            _group_digits(self.data.calibration.get("accepted", 0)), ", ".join(self.metrics()) or "none")

    def ranked_parameters(self):
        """calibration.csv's parameter rows with a shrink90, largest first (ties in file order)."""
        p = self.data.parameters
        p = p[np.isfinite(p["shrink90"].to_numpy(dtype=float))]
        return p.sort_values("shrink90", ascending=False, kind="stable").reset_index(drop=True)

    @_styled
    def marginals(self, count=6):
        """Prior and posterior CDFs of the ``count`` parameters with the largest shrink90 (1 - posterior
        / prior width of the 90 % interval, calibration.csv), each drawn through its 1st to 99th
        percentiles (parameter_quantiles.csv). A CDF, not a density: it is the quantiles themselves,
        with no smoothing or differencing of 99 points to choose."""
        ranked = self.ranked_parameters()
        if ranked.empty:
            raise ValueError("no parameter has a posterior (none accepted, or no parameter is drawn)")
        shown = ranked.head(count)
        n = len(shown)
        ncols = min(3, n)
        nrows = int(math.ceil(n / ncols))
        fig = _new_figure(3.3 * ncols + 0.6, 2.9 * nrows + 1.9)
        axes = fig.subplots(nrows, ncols, squeeze=False)
        quantiles = self.data.quantiles
        prior_color, post_color = "#737373", "#08519c"
        for i, (ax, (_, p)) in enumerate(zip(axes.flat, shown.iterrows())):
            q = quantiles[quantiles["name"] == p["name"]].sort_values("q", kind="stable")
            qs = q["q"].to_numpy(dtype=float)
            prior = q["prior"].to_numpy(dtype=float)
            post = q["posterior"].to_numpy(dtype=float)
            ax.plot(prior, qs, color=prior_color, lw=1.8, ls=(0, (5, 3)))
            ax.plot(post, qs, color=post_color, lw=2.2)
            for k, color in (("prior", prior_color), ("posterior", post_color)):
                lo, hi = p.get(k + "_q05"), p.get(k + "_q95")
                if np.isfinite(lo) and np.isfinite(hi):
                    ax.plot([lo, hi], [-0.06 if k == "prior" else -0.12] * 2, color=color, lw=3.2,
                            solid_capstyle="butt", clip_on=False)
            both = np.concatenate([prior, post])
            both = both[np.isfinite(both)]
            if both.size and both.min() > 0 and both.max() / both.min() >= 20:
                ax.set_xscale("log")
            ax.set_ylim(-0.16, 1.0)
            ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
            if i % ncols == 0:
                ax.set_ylabel("cumulative probability")
            if ax.get_xscale() == "linear":
                ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.tick_params(labelsize=8)
            ax.set_title(_wrap_name(str(p["name"]), 38) +
                         "\n90 %% interval %s %.0f %%" % ("narrower by" if p["shrink90"] >= 0 else "wider by",
                                                        abs(100 * p["shrink90"])),
                         loc="left", fontsize=8.5, fontweight="normal")
        for ax in list(axes.flat)[n:]:
            ax.set_visible(False)
        # On the first panel, right of centre, which a CDF leaves empty (matplotlib 3.6, Debian 12's,
        # cannot place a figure legend outside constrained-layout axes).
        axes[0, 0].legend(handles=[Line2D([], [], color=prior_color, lw=1.8, ls=(0, (5, 3)), label="prior CDF"),
                                   Line2D([], [], color=post_color, lw=2.2, label="posterior CDF"),
                                   Line2D([], [], color="#333333", lw=3.2, label="90 % intervals\n(prior above)")],
                          loc="center right", fontsize=7.5)
        fig.suptitle("Prior vs posterior: the %d parameter%s whose 90 %% interval narrowed most"
                     % (n, "" if n == 1 else "s"), x=0.0, ha="left", fontsize=12, fontweight="bold")
        c = self.data.calibration
        notes = ["CDFs through the 1st to 99th percentiles of parameter_quantiles.csv (each from a 4096-bin "
                 "histogram of the parameter's uniform draws, through its inverse CDF); ranked by shrink90 = 1 "
                 "\u2212 posterior / prior width of the 90 %% interval; %d of %d drawn parameters shown."
                 % (n, len(self.data.parameters)),
                 "Posterior: the %s of %s trajectories accepted (share %s)." % (
                     _group_digits(c.get("accepted", 0)), _group_digits(c.get("trajectories", 0)),
                     format_value(c.get("accepted_share"), 4)),
                 _calibration_provenance(c)]
        _footer(fig, notes)
        return fig


# ---------------------------------------------------------------------------------------------
# Writing the charts and report.html.


def _save(fig, dst_dir, stem):
    """Writes ``stem``.svg and ``stem``.png, byte-for-byte repeatable; returns their names."""
    names = []
    with matplotlib.rc_context(_STYLE):
        for ext, metadata in (("svg", {"Date": None}), ("png", {"Software": None})):
            name = "%s.%s" % (stem, ext)
            fig.savefig(os.path.join(dst_dir, name), format=ext, metadata=metadata, dpi=110)
            names.append(name)
    return names


def _png_data_uri(path):
    with open(path, "rb") as f:
        return "data:image/png;base64," + base64.b64encode(f.read()).decode("ascii")


def _e(text):
    return html.escape(str(text), quote=True)


def _table(rows, header=None):
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join("<th>%s</th>" % _e(h) for h in header) + "</tr>")
    for r in rows:
        out.append("<tr>" + "".join("<td>%s</td>" % _e(v) for v in r) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


_CSS = """body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ddd;margin-top:2em}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}
th{background:#f4f4f4}td.num{text-align:right}img{max-width:100%;height:auto;display:block;margin:.8em 0}
.muted{color:#555;font-size:.9em}pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.85em}"""


def _run_headline(data):
    s = data.summary
    h = _year_text(s.get("run", {}).get("horizon_year", 0))
    rows = []
    for metric in _metrics_of(data.bands):
        m = s.get("metrics", {}).get(metric, {})
        cy = m.get("crossing_year", {}) or {}

        def year(k):
            v = cy.get(k)
            return "after %s" % h if v is None else "%.2f" % v

        rows.append((metric_label(metric), year("q50"), "%s \u2013 %s" % (year("q05"), year("q95")),
                     format_value(m.get("p_no_parity_by_horizon"), 3)))
    return _table(rows, ["metric", "median parity year", "90 % band", "P(no parity by %s)" % h])


def _run_provenance_table(s):
    keys = [("trajectories", "Trajectories"), ("seed", "Seed"), ("backend", "Backend"), ("backend_detail", "Backend detail"),
            ("threads", "Threads"), ("ranks", "MPI ranks"), ("config_path", "Config"), ("config_sha256", "Config SHA-256"),
            ("version", "chipcast version"), ("seconds", "Run time (s)"), ("started_utc", "Started (UTC)"),
            ("command_line", "Command line")]
    rows = [(label, s[k]) for k, label in keys if s.get(k) is not None]
    run = s.get("run", {})
    if run:
        rows.append(("Time grid", "%s to %s, dt = %g year" % (_year_text(run.get("start_year", 0)),
                                                           _year_text(run.get("horizon_year", 0)), run.get("dt", 0))))
        rows.append(("Parity", "domestic / foreign \u2265 %g for %s consecutive period(s)"
                     % (run.get("threshold", 1), run.get("sustain", 1))))
    return _table(rows)


def _study_provenance_table(s, keys):
    rows = [(label, s[k]) for k, label in keys if s.get(k) is not None]
    return _table(rows)


def _sensitivity_section(sp):
    """Factors ranked by total index, grouped by the part of the model they belong to."""
    s = sp.study
    rows = sp.sobol_rows()
    out = ["<h2>Sensitivity of %s</h2>" % _e(_output_title(s.get("output", "")))]
    if s.get("output_description"):
        out.append("<p class=\"muted\">%s</p>" % _e(s["output_description"]))
    if not rows.empty:
        rows = rows.assign(rank=np.arange(1, len(rows) + 1))
        rows["group"] = [str(p).split(".", 1)[0] if "." in str(p) else "grouped factors" for p in rows["parameter"]]
        out.append("<p>Factors ranked by total Sobol index (share of the output's variance the factor accounts "
                   "for, its interactions included), grouped by where they act; rank is the overall rank.</p>")
        order = list(dict.fromkeys(rows["group"]))
        for g in order:
            sub = rows[rows["group"] == g]
            out.append("<h3>%s</h3>" % _e(g))
            table = []
            for _, r in sub.iterrows():
                def ci(c):
                    return "[%s, %s]" % (format_value(c[0]), format_value(c[1])) if isinstance(c, list) and None not in c else ""
                members = r.get("members")
                table.append((r["rank"], r["parameter"], format_value(r["total"]), ci(r.get("total_ci95")),
                              format_value(r["first"]), ci(r.get("first_ci95")),
                              ", ".join(members) if isinstance(members, list) and len(members) > 1 else ""))
            out.append(_table(table, ["rank", "factor", "total", "95 % interval", "first-order", "95 % interval", "members"]))
    t = sp.tornado_rows()
    if not t.empty:
        out.append("<h3>Tornado (largest swings)</h3>")
        dig = 1 if str(s.get("output", "")).startswith("parity_year") else 3
        out.append(_table([(r["parameter"], format_value(r["low"], dig), format_value(r["base"], dig),
                            format_value(r["high"], dig), format_value(r["high"] - r["low"], dig))
                           for _, r in t.head(10).iterrows()],
                          ["parameter", "output at p10", "base (medians)", "output at p90", "swing"]))
    prov = ["<h3>Provenance of the study</h3>"]
    prov.append(_study_provenance_table(s, [
        ("config_path", "Config"), ("config_sha256", "Config SHA-256"), ("seed", "Seed"), ("sampling", "Sampling"),
        ("base_samples", "Base samples"), ("bootstrap", "Bootstrap replicates"),
        ("tornado_trajectories", "Trajectories per tornado setting"), ("trajectories_run", "Trajectories in all"),
        ("backend", "Backend"), ("threads", "Threads"), ("version", "chipcast version"), ("started_utc", "Started (UTC)")]))
    return "\n".join(out), "\n".join(prov)


def _compare_section(cp):
    c = cp.comparison
    out = ["<h2>Comparison with %s</h2>" % _e(os.path.basename(str(c.get("baseline", {}).get("config_path", "?"))))]
    rows = []
    for comp in c.get("comparisons", []):
        for metric, m in comp.get("metrics", {}).items():
            def yr(v):
                return "after the horizon" if v is None else "%.2f" % v
            se = m.get("median_shift_stderr")
            rows.append((os.path.basename(str(comp.get("config_path", "?"))), metric, yr(m.get("median_year_a")),
                         yr(m.get("median_year_b")),
                         "n/a" if m.get("median_shift") is None else format_value(m["median_shift"], 2)
                         + ("" if se is None else " \u00b1 " + format_value(se, 2)),
                         format_value(m.get("share_earlier"), 3), format_value(m.get("share_later"), 3)))
    out.append(_table(rows, ["scenario", "metric", "median (baseline)", "median (scenario)", "median shift \u00b1 s.e.",
                             "share earlier", "share later"]))
    base = c.get("baseline", {})
    prov = [("Baseline config", base.get("config_path")), ("Baseline SHA-256", base.get("config_sha256"))]
    prov += [("Scenario config", comp.get("config_path")) for comp in c.get("comparisons", [])]
    prov += [(label, c.get(k)) for k, label in (("trajectories", "Trajectories per scenario"), ("seed", "Seed"),
                                                 ("backend", "Backend"), ("version", "chipcast version"),
                                                 ("started_utc", "Started (UTC)"))]
    return "\n".join(out), "<h3>Provenance of the comparison</h3>\n" + _table([(a, b) for a, b in prov if b is not None])


def _observed_section(op):
    """A score's or a calibration's numbers: per observation its predictive quantiles, and for a
    calibration the accepted count and the parameters ranked by shrink90."""
    d = op.data

    def num(v, digits=4):
        return "" if v is None or (isinstance(v, float) and not math.isfinite(v)) else "%.*g" % (digits, v)

    out = []
    if op._calibrated():
        c = d.calibration
        out.append("<h2>Calibration</h2>")
        out.append("<p>%s of %s prior trajectories accepted (share %s).</p>" % (
            _e(_group_digits(c.get("accepted", 0))), _e(_group_digits(c.get("trajectories", 0))),
            _e(format_value(c.get("accepted_share"), 4))))
        if c.get("warning"):
            out.append("<p><strong>Warning:</strong> %s</p>" % _e(c["warning"]))
        head = c.get("headline") or {}
        if head:
            prior_run = (getattr(d.prior, "summary", None) or {}).get("run", {})
            h = _year_text(prior_run.get("horizon_year", 0))

            def years(m):
                if not m:
                    return "no posterior", ""
                cy = m.get("crossing_year") or {}

                def y(k):
                    return "after %s" % h if cy.get(k) is None else "%.2f" % cy[k]

                return "%s (%s – %s)" % (y("q50"), y("q05"), y("q95")), format_value(m.get("p_parity_by_horizon"), 3)

            rows = []
            for metric in [m for m in _METRIC_ORDER if m in head] + [m for m in head if m not in _METRIC_ORDER]:
                pri, post = years(head[metric].get("prior")), years(head[metric].get("posterior"))
                rows.append((metric_label(metric), pri[0], post[0], pri[1], post[1]))
            out.append("<h3>Parity year, prior and posterior</h3>")
            out.append(_table(rows, ["metric", "prior: median (90 % band)", "posterior: median (90 % band)",
                                     "prior P(parity by %s)" % h, "posterior P(parity by %s)" % h]))
        o = observation_intervals(d.observations)
        out.append("<h3>Observations</h3>")
        out.append(_table([(r["name"], num(r["value"]), "%s – %s" % (num(r["low90"]), num(r["high90"])),
                            "%s / %s / %s" % (num(r["prior_q05"]), num(r["prior_q50"]), num(r["prior_q95"])),
                            "%s / %s / %s" % (num(r["posterior_q05"]), num(r["posterior_q50"]), num(r["posterior_q95"])),
                            num(r.get("rejects"), 12), r.get("source", ""))
                           for _, r in o.iterrows()],
                          ["observation", "value", "90 % interval", "prior q05 / q50 / q95",
                           "posterior q05 / q50 / q95", "rejects", "source"]))
        ranked = op.ranked_parameters()
        rest = d.parameters[~d.parameters["name"].isin(ranked["name"])]
        out.append("<h3>Parameters, by how much the history narrowed their 90 % interval</h3>")
        out.append(_table([(r["name"], "%s / %s / %s" % (num(r["prior_q05"]), num(r["prior_q50"]), num(r["prior_q95"])),
                            "%s / %s / %s" % (num(r["posterior_q05"]), num(r["posterior_q50"]), num(r["posterior_q95"])),
                            format_value(r["shrink90"], 3))
                           for _, r in pd.concat([ranked, rest]).iterrows()],
                          ["parameter", "prior q05 / q50 / q95", "posterior q05 / q50 / q95", "shrink90"]))
        prov = [(label, c.get(k)) for k, label in (
            ("config_path", "Config"), ("config_sha256", "Config SHA-256"), ("trajectories", "Prior trajectories"),
            ("seed", "Seed"), ("accepted", "Accepted"), ("backend", "Backend"), ("version", "chipcast version"),
            ("started_utc", "Started (UTC)"), ("command_line", "Command line"))]
        return "\n".join(out), "<h3>Provenance of the calibration</h3>\n" + _table([(a, b) for a, b in prov if b is not None])
    sc = d.score
    t = sc.get("totals", {})
    out.append("<h2>Score against observations</h2>")
    out.append("<p>%s observations: %s inside the 50 %% bands, %s inside the 90 %% bands, mean CRPS(log) %s.</p>" % (
        t.get("observations", 0), format_value(t.get("coverage50"), 2), format_value(t.get("coverage90"), 2),
        format_value(t.get("mean_crps_log"), 4)))
    o = observation_intervals(d.observations)
    out.append(_table([("%d %s %s" % (r["year"], r["bloc"], r["metric"]), num(r["value"]),
                        "%s – %s" % (num(r["low90"]), num(r["high90"])),
                        "%s / %s / %s" % (num(r["q05"]), num(r["q50"]), num(r["q95"])), format_value(r["pit"], 3),
                        r.get("source", "")) for _, r in o.iterrows()],
                      ["observation", "value", "90 % interval", "predictive q05 / q50 / q95", "PIT", "source"]))
    run = d.run.summary if getattr(d, "run", None) is not None and d.run.summary else {}
    prov = [("Run scored", sc.get("run")), ("Trajectories", sc.get("trajectories")), ("Seed", sc.get("seed")),
            ("Config", run.get("config_path")), ("Config SHA-256", run.get("config_sha256"))]
    return "\n".join(out), "<h3>Provenance of the score</h3>\n" + _table([(a, b) for a, b in prov if b is not None])


def write_charts(src_dir, dst_dir, name=None):
    """Reads the output folder ``src_dir`` and writes every chart its files allow (SVG and PNG) and
    report.html into ``dst_dir``; returns the file names written, in order.

    Run folder: fan_<metric>, cdf_<metric> (and annual_<metric> with annual.csv); sensitivity.json:
    tornado, sobol; compare.json: shift_<metric>; a score folder: annual_observed_<metric>; a
    calibrate folder: marginals (when trajectories were accepted) and annual_observed_<metric>. ``name`` labels the folder in report.html
    (default: ``src_dir``). The same inputs give byte-identical files.
    """
    data = read_output_dir(src_dir)
    name = os.fspath(name if name is not None else src_dir)
    os.makedirs(dst_dir, exist_ok=True)
    written, charts = [], []  # charts: (section, title, png name)

    def emit(fig, stem, section, title):
        files = _save(fig, dst_dir, stem)
        written.extend(files)
        charts.append((section, title, files[1]))

    if data.summary is not None:
        rp = RunPlots(data)
        for metric in rp.metrics():
            emit(rp.fan(metric), "fan_" + metric, "run", metric_label(metric) + ": ratio fan")
            emit(rp.cdf(metric), "cdf_" + metric, "run", metric_label(metric) + ": P(parity by year)")
        if rp.has_annual():
            for metric in _metrics_of(data.annual):
                emit(rp.annual(metric), "annual_" + metric, "run", metric_label(metric) + ": annual totals")
    sp = None
    if data.sensitivity is not None:
        sp = SensitivityPlots(data)
        if not sp.tornado_rows().empty:
            emit(sp.tornado(), "tornado", "sensitivity", "Tornado")
        if not sp.sobol_rows().empty:
            emit(sp.sobol(), "sobol", "sensitivity", "Sobol indices")
    cp = None
    if data.compare is not None:
        cp = ComparePlots(data)
        for metric in cp.metrics():
            emit(cp.shift(metric), "shift_" + metric, "compare", metric_label(metric) + ": shift of P(parity by year)")
    op = None
    if data.calibration is not None:
        op = CalibrationPlots(data)
        if not op.ranked_parameters().empty:
            emit(op.marginals(), "marginals", "observed", "Prior vs posterior marginals")
    elif data.score is not None:
        op = ObservedPlots(data)
    if op is not None:
        for metric in op.metrics():
            emit(op.observed(metric), "annual_observed_" + metric, "observed",
                 metric_label(metric) + ": annual totals and the observations")

    page = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
            "<title>chipcast report: %s</title>" % _e(name), "<style>%s</style></head><body>" % _CSS,
            "<h1>chipcast report: %s</h1>" % _e(name)]

    def images(section):
        for _, title, png in [c for c in charts if c[0] == section]:
            page.append("<figure><img alt=\"%s\" src=\"%s\"></figure>" % (_e(title), _png_data_uri(os.path.join(dst_dir, png))))

    if data.summary is not None:
        s = data.summary
        page.append("<h2>Headline</h2>")
        page.append(_run_headline(data))
        notes = list(s.get("notes", []) or []) + list(s.get("warnings", []) or [])
        for metric, m in (s.get("metrics", {}) or {}).items():
            notes += ["%s: %s" % (metric, n) for n in (m.get("notes", []) or []) + (m.get("warnings", []) or [])]
        if notes:
            page.append("<ul>" + "".join("<li>%s</li>" % _e(n) for n in notes) + "</ul>")
        page.append("<h2>Charts</h2>")
        images("run")
        page.append("<h2>Provenance of the run</h2>")
        page.append(_run_provenance_table(s))
    # Each study: its numbers, its charts, then its provenance.
    for plots, section, make in ((sp, "sensitivity", _sensitivity_section), (cp, "compare", _compare_section),
                                 (op, "observed", _observed_section)):
        if plots is not None:
            body, provenance = make(plots)
            page.append(body)
            images(section)
            page.append(provenance)
    resolved = os.path.join(data.path, "resolved.toml")
    if data.summary is not None and os.path.isfile(resolved):
        with open(resolved, encoding="utf-8") as f:
            page.append("<h2>Resolved config</h2><pre>%s</pre>" % _e(f.read()))
    page.append("</body></html>\n")
    with open(os.path.join(dst_dir, "report.html"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(page))
    written.append("report.html")
    return written


def main(argv=None):
    """The command line (see the module docstring). Returns the exit status."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m chipcast.plotting", description="chipcast charts and report.html")
    parser.add_argument("--check", action="store_true", help="only check that the chart tools import, and exit")
    parser.add_argument("src", nargs="?", help="output folder to read")
    parser.add_argument("dst", nargs="?", help="folder to write the charts into (default: SRC)")
    parser.add_argument("--name", help="the folder's name in report.html (default: SRC)")
    args = parser.parse_args(argv)
    if args.check:
        return 0
    if not args.src:
        parser.error("SRC is required")
    try:
        for f in write_charts(args.src, args.dst or args.src, args.name):
            print(f)
    except (OutputFolderError, ValueError, OSError) as e:
        sys.stderr.write("error: %s\n" % e)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
