"""Static maps (PNG/PDF) and the kecamatan atlas through the CLI, on real HSS data."""

from __future__ import annotations

import re

import matplotlib.image
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import HSS_DESA, need

from povmap.cli import main
from povmap.pipeline import Options, run


@pytest.fixture(scope="module")
def hss_csv(tmp_path_factory, hss_counts):
    path = tmp_path_factory.mktemp("static") / "hss.csv"
    hss_counts.to_csv(path, index=False)
    return path


def test_png_map_uses_the_class_colours(hss_csv, tmp_path):
    out = tmp_path / "peta.png"
    args = ["map", str(need(HSS_DESA)), str(hss_csv), "-o", str(out), "--title", "Peta HSS",
            "--vintage", "2024"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    pixels = (matplotlib.image.imread(out)[..., :3] * 255).round().astype(int).reshape(-1, 3)
    assert len(pixels) > 2000 * 1500  # 200 dpi A4 landscape
    classes = run(need(HSS_DESA), hss_csv, Options()).classification.colors
    for color in classes:  # every class colour is painted (fills and legend swatches)
        rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(pixels - rgb).max(axis=1) <= 2).mean() > 0.001, color
    assert out.with_suffix(".manifest.json").exists()


def test_pdf_map_and_atlas_one_page_per_kecamatan(hss_csv, tmp_path):
    out, atlas = tmp_path / "peta.pdf", tmp_path / "atlas.pdf"
    args = ["map", str(need(HSS_DESA)), str(hss_csv), "-o", str(out), "--atlas", str(atlas),
            "--lang", "en"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page\b", atlas.read_bytes()))
    assert pages == 1 + 11  # the whole kabupaten, then its 11 kecamatan
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "atlas.pdf", "peta.manifest.json", "peta.pdf"]


def test_wrong_suffix_is_exit_1_without_output(hss_csv, tmp_path):
    out = tmp_path / "peta.jpg"
    result = CliRunner().invoke(main, ["map", str(need(HSS_DESA)), str(hss_csv), "-o", str(out)])
    assert result.exit_code == 1
    assert ".png" in result.output and not out.exists()
