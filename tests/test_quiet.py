"""No library warning reaches the terminal raw, and no noncharacter reaches a published name."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import pytest
from conftest import KAYONG_DESA, make_counts, need

from povmap import PovmapInputError, read_boundaries


def _layer(tmp_path, name: str):
    gdf = gpd.read_file(need(KAYONG_DESA))
    counts = make_counts(gdf, seed=5)
    gdf.loc[0, "nama"] = name
    counts.loc[0, "nama_desa"] = name
    path = tmp_path / "desa.geojson"
    gdf.to_file(path)
    table = tmp_path / "jumlah.csv"
    counts.to_csv(table, index=False)
    return path, table


@pytest.mark.parametrize("char", ["\ufffe", "\uffff", "\ufdd0"])
def test_noncharacters_in_names_are_refused(tmp_path, char):
    path, _ = _layer(tmp_path, f"Desa {char} Baru")
    # A GeoJSON is UTF-8 by definition: the message says to fix the name, not the encoding.
    with pytest.raises(PovmapInputError, match="Perbaiki nama itu di berkas sumber") as caught:
        read_boundaries(path)
    assert "--encoding" not in str(caught.value)


def test_glyphs_missing_from_the_font_give_no_raw_warning(tmp_path):
    # A CJK name: DejaVu Sans has no glyph for it, and matplotlib warns once per glyph.
    path, table = _layer(tmp_path, "Desa 村庄")
    out, atlas = tmp_path / "peta.pdf", tmp_path / "atlas.pdf"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "povmap.cli",
            "map",
            str(path),
            str(table),
            "-o",
            str(out),
            "--atlas",
            str(atlas),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0 and atlas.stat().st_size > 0
    assert "Warning" not in done.stderr and "warn" not in done.stderr.lower()
