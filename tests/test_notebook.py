"""The exploration notebook runs top to bottom on the sample build (headless, nbclient)."""

import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"


@pytest.mark.slow
def test_explore_notebook_runs(sample_build, tmp_path, monkeypatch):
    monkeypatch.setenv("CORPUS_OUT", str(sample_build))
    monkeypatch.setenv("CORPUS_EXPORT", str(tmp_path))
    # The kernel imports this checkout's `corpus`, whatever is installed.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) == 2  # score distributions and the article heatmap
    train = [(tmp_path / f"train.{lang}").read_text().splitlines() for lang in ("ar", "sv")]
    assert len(train[0]) == len(train[1]) > 0
