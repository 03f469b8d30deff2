"""The example notebook runs from top to bottom on the real HSS layer."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from conftest import HSS_DESA, ROOT, need

NOTEBOOK = ROOT / "notebooks" / "hss_contoh.ipynb"


def test_hss_notebook_executes():
    need(HSS_DESA)
    nbclient = pytest.importorskip("nbclient", reason="pip install .[test]")
    # Run a copy placed where the notebook's relative path to ../../shared/data still holds.
    workdir = ROOT / "notebooks"
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "148 desa" in text and "Baris tabel cocok: 148" in text
    html = [o["data"].get("text/html", "") for o in outputs if o.output_type == "execute_result"]
    assert any("leaflet" in h.lower() for h in html)  # the map displayed inline
    shutil.rmtree(workdir / "keluaran_hss", ignore_errors=True)
    (workdir / "hss_contoh.csv").unlink(missing_ok=True)
