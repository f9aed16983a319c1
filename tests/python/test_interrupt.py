# Ctrl-C during a run: KeyboardInterrupt at the next batch, nothing written; the GIL is free while trajectories run.
import signal
import threading
import time

import pytest

import chipcast
from conftest import BASELINE, MINIMAL, TIGHTENED, python_child

# A child that records what the engine reports and prints "started" once the run has begun. The
# run cannot finish in any test's time (10^12 trajectories), so only an honoured stop ends it.
CHILD = r"""
import os, signal, sys, chipcast
# Python's own SIGINT handler, as in a terminal or a notebook kernel, even where the test runner
# was started with SIGINT ignored (a background job of a non-interactive shell).
signal.signal(signal.SIGINT, signal.default_int_handler)
out = os.environ["OUT"]
class Recorder:
    def __init__(self, unit):
        self.done = []
    def start(self, total, initial, label):
        print("started", flush=True)
    def update(self, done):
        self.done.append(done)
    def close(self):
        pass
rec = []
def make(unit):
    rec.append(Recorder(unit))
    return rec[-1]
chipcast._Progress = make
try:
    if os.environ.get("KIND", "run") == "run":
        r = chipcast.run(os.environ["CONFIG"], trajectories=10**12, seed=1, threads=1, batch=1000)
    elif os.environ["KIND"] == "calibrate":
        r = chipcast.calibrate(os.environ["CONFIG"], os.environ["OBS"], trajectories=10**12, seed=1, threads=1,
                               batch=1000)
    else:
        r = chipcast.compare([os.environ["CONFIG"], os.environ["CONFIG2"]], trajectories=10**12, threads=1)
    r.save(out)
    print("completed", flush=True)
except KeyboardInterrupt:
    print("KeyboardInterrupt after", rec[0].done, flush=True)
    # The process goes on: a new run (without the step hook) completes and saves.
    os.environ.pop("CHIPCAST_TEST_STEP_HOOK", None)
    r = chipcast.run(os.environ["CONFIG"], trajectories=2000, seed=1, threads=1, progress=False)
    r.save(out + "-after")
    print("after", r.summary["trajectories"], flush=True)
    raise
"""


# One observation of a year the baseline simulates (2026), for the calibrate child.
OBSERVATION = """
[[observations]]
year = 2026
bloc = "domestic"
metric = "units"
low = 150000.0
high = 900000.0
source = "test"
"""


def leftovers(folder):
    """Files an interrupted output set could leave next to its folder (temporary siblings, locks)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def check_interrupted(p, out, stdout, stderr):
    assert p.returncode == -signal.SIGINT, (p.returncode, stdout, stderr)  # re-raised to the top: Python's exit
    assert "Traceback" in stderr and stderr.rstrip().endswith("KeyboardInterrupt"), stderr
    assert "completed" not in stdout
    assert not out.exists(), "an interrupted run wrote its output folder"
    assert (out.parent / (out.name + "-after") / "crossing.csv").exists()
    assert "after 2000" in stdout
    assert leftovers(out.parent) == []


@pytest.mark.parametrize("kind", ["run", "compare", "calibrate"])
def test_sigint_from_outside_stops_the_work(tmp_path, kind):
    out = tmp_path / "out"
    (tmp_path / "obs.toml").write_text(OBSERVATION)
    p = python_child(CHILD, env={"CONFIG": str(BASELINE), "CONFIG2": str(TIGHTENED), "OUT": str(out), "KIND": kind,
                                 "OBS": str(tmp_path / "obs.toml")})
    try:
        assert p.stdout.readline() == "started\n"
        p.send_signal(signal.SIGINT)
        stdout, stderr = p.communicate(timeout=300)
    finally:
        p.kill()
    assert stdout.startswith("KeyboardInterrupt after ["), stdout
    check_interrupted(p, out, stdout, stderr)


@pytest.mark.parametrize("kind", ["run", "calibrate"])
def test_sigint_at_a_step_stops_at_that_step_boundary(tmp_path, kind):
    # The test step hook raises SIGINT in the process after step 3: Python's handler records it,
    # the session asks the observer after that step, which stops it there.
    out = tmp_path / "out"
    (tmp_path / "obs.toml").write_text(OBSERVATION)
    p = python_child(CHILD, env={"CONFIG": str(BASELINE), "OUT": str(out), "CHIPCAST_TEST_STEP_HOOK": "3:raise=SIGINT",
                                 "KIND": kind, "OBS": str(tmp_path / "obs.toml")})
    try:
        stdout, stderr = p.communicate(timeout=300)
    finally:
        p.kill()
    # Steps 1 and 2 were reported; the stop came before step 3's report, at 3000 trajectories.
    assert stdout.startswith("started\nKeyboardInterrupt after [1000, 2000]\n"), stdout
    check_interrupted(p, out, stdout, stderr)


def test_the_gil_is_released_while_trajectories_run(monkeypatch, tmp_path):
    # The engine holds step 1 until the main thread removes the file it creates there
    # (step hook "handshake"): the main thread's loop runs Python, so it needs the GIL while the
    # run is inside the engine. Were the GIL held there, the hook would give up after 300 s
    # and the run raise. No timing decides the outcome.
    flag = tmp_path / "held_at_step_1"
    monkeypatch.setenv("CHIPCAST_TEST_STEP_HOOK", f"1:handshake={flag}")
    errors = []

    def target():
        try:
            chipcast.run(MINIMAL, trajectories=2000, batch=1000, threads=1, progress=False)
        except BaseException as e:  # noqa: BLE001 (reported by the assertion below)
            errors.append(e)

    worker = threading.Thread(target=target)
    worker.start()
    while not flag.exists() and worker.is_alive():
        time.sleep(0.001)
    held = worker.is_alive() and flag.exists()
    if flag.exists():
        flag.unlink()
    worker.join()
    assert held and not errors, errors


def test_progress_bar_shows_and_can_be_switched_off():
    code = (
        "import os, chipcast; chipcast.run(os.environ['CONFIG'], trajectories=3000, seed=1, batch=1000, "
        "threads=1, progress={})"
    )
    shown = python_child(code.format(True), env={"CONFIG": str(MINIMAL)})
    out, err = shown.communicate(timeout=300)
    assert shown.returncode == 0, err
    assert "3.00k/3.00k" in err and "100%" in err, err
    hidden = python_child(code.format(False), env={"CONFIG": str(MINIMAL)})
    out, err = hidden.communicate(timeout=300)
    assert hidden.returncode == 0 and err == "", err
