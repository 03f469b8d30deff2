"""The example notebooks run from top to bottom on real boundary layers.

Each notebook is executed in ``notebooks/`` (its relative path to ../../shared/data holds there);
the files it writes are git-ignored and removed afterwards.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import HSS_DESA, KALSEL_DESA, LAHAT_DESA, ROOT, need

NOTEBOOKS = ROOT / "notebooks"


def _execute(name: str) -> list[dict]:
    """Run ``notebooks/name`` in a kernel and return the outputs of its code cells, in order."""
    nbclient = pytest.importorskip("nbclient", reason="pip install .[test]")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]


def _errors(outputs: list[dict]) -> list[str]:
    return [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]


def _stream(outputs: list[dict]) -> str:
    return "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")


def _html(outputs: list[dict]) -> list[str]:
    return [o["data"].get("text/html", "") for o in outputs if o.output_type == "execute_result"]


def _remove(*paths: Path) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def test_notebooks_are_stored_without_outputs():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name


def test_hss_notebook_executes():
    need(HSS_DESA)
    try:
        outputs = _execute("hss_contoh.ipynb")
        assert not _errors(outputs)
        text = _stream(outputs)
        assert "148 desa" in text and "Baris tabel cocok: 148" in text
        assert any("leaflet" in h.lower() for h in _html(outputs))  # the map displayed inline
    finally:
        _remove(NOTEBOOKS / "keluaran_hss", NOTEBOOKS / "hss_contoh.csv")


def test_kalsel_pockets_notebook_executes():
    need(KALSEL_DESA)
    bundle = NOTEBOOKS / "keluaran_kalsel"
    try:
        outputs = _execute("kantong_kalsel.ipynb")
        assert not _errors(outputs), _errors(outputs)
        text = _stream(outputs)
        assert "Baris tabel cocok: 2.008" in text
        # The planted cluster of 25 desa is found as a pocket (the notebook asserts ≥ 80 % too).
        assert "Klaster yang ditanam: 25 desa" in text
        assert "1 kantong kemiskinan" in text
        found = int(text.split("Desa yang ditanam dan masuk kantong: ")[1].split()[0])
        assert found >= 20
        # The map is displayed inline with its pockets layer.
        maps = [h for h in _html(outputs) if "leaflet" in h.lower()]
        assert maps and "Kantong kemiskinan" in maps[0] and "K01" in maps[0]
        # peta.save wrote the self-contained page: no script or style loaded from elsewhere.
        saved = (NOTEBOOKS / "peta_kantong_kalsel.html").read_text(encoding="utf-8")
        assert "Inlined by povmap for offline use: leaflet" in saved
        assert not re.search(r"<(script|link)\b[^>]*\b(src|href)=", saved)
        _check_public_bundle(bundle)
    finally:
        _remove(bundle, NOTEBOOKS / "kantong_kalsel.csv", NOTEBOOKS / "peta_kantong_kalsel.html")


def _check_public_bundle(bundle: Path) -> None:
    """The suppressed bundle: all files, a manifest with totals only, no count from 1 to 9."""
    names = {p.name for p in bundle.iterdir()}
    for level in ("desa", "kecamatan"):
        assert {f"{level}.geojson", f"{level}.sld", f"{level}.qml", f"{level}.xml"} <= names
    assert {"povmap.gpkg", "kamus_data.csv", "manifest.json"} <= names
    assert "laporan_penggabungan.json" not in names  # its unmatched rows carry values
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["penyamaran"]["ambang"] == 10
    assert "KANTONG" in (bundle / "kamus_data.csv").read_text(encoding="utf-8-sig")

    desa = json.loads((bundle / "desa.geojson").read_text(encoding="utf-8"))["features"]
    assert len(desa) == 2008
    props = [f["properties"] for f in desa]
    assert sum(p["DISAMARKAN"] == 1 for p in props) > 0
    pocket = [p for p in props if p["KANTONG"] == 1]
    assert len(pocket) >= 20 and {"Piani", "Loksado"} <= {p["WADMKC"] for p in pocket}
    for level, features in (
        ("desa", desa),
        (
            "kecamatan",
            json.loads((bundle / "kecamatan.geojson").read_text(encoding="utf-8"))["features"],
        ),
    ):
        for feature in features:
            for field in ("JML_ME", "JML_KK_ME"):
                value = feature["properties"].get(field)
                assert value is None or not 1 <= value <= 9, (level, feature["id"], field, value)


def test_lahat_trend_notebook_executes():
    need(LAHAT_DESA)
    folder = NOTEBOOKS / "keluaran_tren"
    try:
        outputs = _execute("tren_lahat.ipynb")
        assert not _errors(outputs), _errors(outputs)
        text = _stream(outputs)
        assert "Kabupaten Lahat: 2022: 7,35 % → 2023: 2,68 % → 2024: 1,09 %" in text
        assert "3 baris berkode edisi lain" in text and "1 desa baru" in text
        assert any("leaflet" in h.lower() and "Perubahan 2022–2024" in h for h in _html(outputs))
        written = {p.name for p in folder.iterdir()}
        assert {
            "trend.html",
            "trend.geojson",
            "ringkasan_kecamatan.xlsx",
            "trend.png",
            "manifest.json",
        } <= written
    finally:
        _remove(folder)
