# examples/forecast.ipynb executed top to bottom (Debian python3-nbclient, python3-ipykernel), as a user would.
import os
import sys

import pytest

from conftest import SOURCE_DIR

nbformat = pytest.importorskip("nbformat", reason="python3-nbformat is not installed (scripts/setup.sh installs it)")
nbclient = pytest.importorskip("nbclient", reason="python3-nbclient is not installed (scripts/setup.sh installs it)")
pytest.importorskip("ipykernel", reason="python3-ipykernel is not installed (scripts/setup.sh installs it)")

NOTEBOOK = SOURCE_DIR / "examples" / "forecast.ipynb"


def test_forecast_notebook_runs_without_error(tmp_path):
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    # The kernel is this interpreter with the build tree's package (PYTHONPATH from ctest), and a
    # small run so the whole notebook takes about a minute on two shared cores.
    os.environ["CHIPCAST_NOTEBOOK_TRAJECTORIES"] = "20000"
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # ipykernel 6: no debugger notice about frozen modules
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError naming the cell on any error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    # Every chart cell displayed a figure, and the run's DataFrames were shown.
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 8, len(images)  # 6 run, compare and sensitivity charts, 2 of the calibration
    assert any("text/html" in o.get("data", {}) and "p_crossed" in o["data"]["text/html"] for o in outputs)
    assert sys.executable  # the kernel ran under the interpreter ctest named (python3 kernelspec)
