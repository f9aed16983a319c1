# Shared fixtures of the Python package's tests: the CLI built next to the package, the configs, CLI runs.
import os
import pathlib
import subprocess
import sys

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("CHIPCAST_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
CHIPCAST_EXE = pathlib.Path(os.environ.get("CHIPCAST_EXE", SOURCE_DIR / "build" / "chipcast"))
BASELINE = SOURCE_DIR / "configs" / "baseline.toml"
TIGHTENED = SOURCE_DIR / "configs" / "controls_tightened.toml"
MINIMAL = SOURCE_DIR / "tests" / "config" / "data" / "minimal.toml"

# Keys of summary.json, compare.json and sensitivity.json that differ between two runs of the
# same work: wall times, the start time, and the command (a CLI line here, a Python call there).
VOLATILE_KEYS = {
    "seconds",
    "started_utc",
    "command_line",
    "seconds_sobol_runs",
    "seconds_bootstrap",
    "seconds_tornado",
}


def cli(*args, cwd=None, check=True):
    """Runs the chipcast CLI; returns the CompletedProcess (text output)."""
    p = subprocess.run([str(CHIPCAST_EXE), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600)
    if check and p.returncode != 0:
        raise AssertionError("chipcast {} exited {}:\n{}".format(" ".join(map(str, args)), p.returncode, p.stderr))
    return p


def strip_volatile(doc):
    """A JSON document without VOLATILE_KEYS (top level)."""
    return {k: v for k, v in doc.items() if k not in VOLATILE_KEYS}


def python_child(code, env=None, timeout=300):
    """Starts /usr/bin/python3 (this interpreter) on `code` with the package on its path; returns the Popen."""
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-c", code], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture(scope="session")
def exe():
    if not CHIPCAST_EXE.exists():
        pytest.fail("the chipcast CLI is not at {} (set CHIPCAST_EXE)".format(CHIPCAST_EXE))
    return CHIPCAST_EXE
