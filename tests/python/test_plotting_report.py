"""report.html opened in headless Chromium: every image loads and the page logs no console error.
Skipped, with the reason, where Chromium is not installed (Debian: apt-get install chromium)."""

import os
import shutil
import subprocess
import tempfile

import pytest

pytest.importorskip("matplotlib")

from chipcast import plotting  # noqa: E402

EXE = os.environ.get("CHIPCAST_EXE")
SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# The flags that keep a headless Chromium from reaching for hosts this machine cannot reach
# (shared/design/TOOLCHAIN.md).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--allow-file-access-from-files", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=10000", "--dump-dom"]

# Loads the report in a frame and writes what it found into the page, which --dump-dom prints.
PROBE = """<!DOCTYPE html><html><body><div id="out">pending</div>
<iframe id="f" src="report.html" width="1200" height="800"></iframe>
<script>
document.getElementById('f').onload = function () {
  var d = this.contentDocument, imgs = d.images, bad = [];
  for (var i = 0; i < imgs.length; i++)
    if (!imgs[i].complete || imgs[i].naturalWidth === 0) bad.push(imgs[i].alt);
  document.getElementById('out').textContent = 'images=' + imgs.length + ' broken=' + bad.join('|') + ' end';
};
</script></body></html>
"""


@pytest.mark.skipif(not CHROMIUM, reason="Chromium is not installed (Debian: apt-get install chromium)")
@pytest.mark.skipif(not EXE, reason="CHIPCAST_EXE (the chipcast binary) is not set")
def test_report_opens_in_chromium_with_every_image_and_no_console_error(tmp_path):
    cfg = os.path.join(SOURCE, "configs", "baseline.toml")
    run = tmp_path / "run"
    subprocess.run([EXE, "run", cfg, "-n", "2000", "--threads", "1", "--quiet", "--out", str(run)], check=True)
    subprocess.run([EXE, "sensitivity", cfg, "--base-samples", "32", "--tornado-trajectories", "32", "--bootstrap",
                    "5", "--threads", "1", "--quiet", "--out", str(tmp_path / "sens")], check=True)
    shutil.copy(tmp_path / "sens" / "sensitivity.json", run / "sensitivity.json")
    written = plotting.write_charts(run, tmp_path / "charts")
    pngs = [n for n in written if n.endswith(".png")]
    (tmp_path / "charts" / "probe.html").write_text(PROBE)
    with tempfile.TemporaryDirectory() as profile:
        r = subprocess.run([CHROMIUM, *FLAGS, "--user-data-dir=" + profile,
                            "file://" + str(tmp_path / "charts" / "probe.html")],
                           capture_output=True, text=True, timeout=120)
    assert "images=%d broken= end" % len(pngs) in r.stdout, (r.stdout[-2000:], r.stderr[-2000:])
    console = [line for line in r.stderr.splitlines() if "CONSOLE" in line and "report.html" in line]
    assert console == [], console
