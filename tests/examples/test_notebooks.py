"""The tutorial notebooks in examples/ run top to bottom on the real MovieLens files (#18).

Each notebook is a jupytext percent file, converted in memory and executed by nbclient from
examples/, as Jupyter runs it. A cell that raises fails the test, and every notebook ends
with asserts on the figures it printed, so a notebook that stops saying something true
fails too. Skipped when the data set a notebook reads is absent.

The notebooks share one kernel, each starting from an empty namespace (`%reset -f`): the
kernel's start and the imports of torch, pandas and matplotlib (about 5 s of the 2-core
budget per notebook) are paid once. Modules stay imported, so a missing import still fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
jupyter_client = pytest.importorskip("jupyter_client")
nbformat = pytest.importorskip("nbformat")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# notebook -> the conftest fixture of the data set it reads (each skips when it is absent)
NOTEBOOKS = {
    "01_timeserio_multinetwork": "ml100k_dir",
    "02_keras_movie_recommender": "ml_latest_small_dir",
    "03_tensorflow_recommenders": "ml100k_dir",
    "04_conx_softmax_rater": "ml100k_dir",  # ml-1m instead once its ratings.dat exists
    "05_keras_matrix_factorisation": "ml_latest_small_dir",
}
CELL_TIMEOUT_S = 180  # a notebook must finish within 3 minutes; no cell may take longer


@pytest.fixture(scope="module")
def kernel():
    """One Python kernel for the module's notebooks, started in examples/."""
    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(EXAMPLES))
    yield manager
    manager.shutdown_kernel(now=True)


def test_every_notebook_in_examples_is_run_here():
    assert sorted(path.stem for path in EXAMPLES.glob("*.py")) == sorted(NOTEBOOKS)


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("stem", sorted(NOTEBOOKS))
def test_notebook_runs_and_its_checks_hold(stem, request):
    data_dir: Path = request.getfixturevalue(NOTEBOOKS[stem])  # skips when absent
    notebook = jupytext.read(EXAMPLES / f"{stem}.py")
    fresh_start = f"%reset -f\n%env MOVIEREC_DATA={data_dir.parent}"
    notebook.cells.insert(0, nbformat.v4.new_code_cell(fresh_start))
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT_S,
                                     km=request.getfixturevalue("kernel"))
    try:
        client.execute()
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no plot rendered inline"
