"""Outputs that are safe to write: never over an input, all or nothing, never stale (issue #9).

The inputs are copies of the real Kayong Utara layer in ``tmp_path``, because a failing test here
would destroy them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from conftest import KAYONG_DESA, make_counts, need

from povmap.cli import main


def invoke(*args: object) -> tuple[int, str]:
    """Run the CLI in-process; return the exit code and everything it printed."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with its SHA-256."""
    return {str(p.relative_to(folder)): digest(p) for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def kayong_raw() -> gpd.GeoDataFrame:
    return gpd.read_file(need(KAYONG_DESA))


@pytest.fixture
def inputs(kayong_raw, tmp_path) -> tuple[Path, Path]:
    """``data/batas.geojson`` and ``data/jumlah.csv``: the user's own files, writable."""
    data = tmp_path / "data"
    data.mkdir()
    boundaries = data / "batas.geojson"
    boundaries.write_bytes(need(KAYONG_DESA).read_bytes())
    counts = data / "jumlah.csv"
    make_counts(kayong_raw, seed=6111).to_csv(counts, index=False)
    return boundaries, counts


# --- kind 6: an output path that is an input -------------------------------------------------

@pytest.mark.parametrize("how", ["same", "relative", "symlink", "hardlink"])
def test_pockets_output_over_the_boundary_file_is_refused(how, inputs, tmp_path, monkeypatch):
    boundaries, counts = inputs
    before = digest(boundaries), digest(counts)
    monkeypatch.chdir(tmp_path)
    target = {"same": boundaries, "relative": Path("data/../data/batas.geojson"),
              "symlink": tmp_path / "tautan.geojson", "hardlink": tmp_path / "kaitan.geojson"}[how]
    if how == "symlink":
        target.symlink_to(boundaries)
    if how == "hardlink":
        os.link(boundaries, target)
    code, out = invoke("pockets", boundaries, counts, "-o", target, "--permutations", 99)
    assert code == 1, out
    assert f"{target} adalah berkas masukan ({boundaries})" in out
    assert "Pilih nama keluaran lain" in out
    assert (digest(boundaries), digest(counts)) == before
    assert not (target.parent / f"{target.stem}_peringkat.csv").exists()


def test_ranking_and_report_over_the_counts_table_are_refused(inputs, tmp_path):
    boundaries, counts = inputs
    before = digest(counts)
    code, out = invoke("pockets", boundaries, counts, "-o", tmp_path / "k.geojson",
                       "--ranking", counts, "--lang", "en")
    assert code == 1 and f"{counts} is an input file ({counts})" in out
    code, out = invoke("join", boundaries, counts, "-o", tmp_path / "j.gpkg", "--report", counts)
    assert code == 1 and f"{counts} adalah berkas masukan" in out
    assert digest(counts) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # nothing was written


def test_every_part_of_a_shapefile_counts_as_input(kayong_raw, inputs, tmp_path):
    _, counts = inputs
    shp = tmp_path / "data" / "Batas.shp"
    kayong_raw.to_file(shp)
    before = tree(tmp_path / "data")
    code, out = invoke("join", shp, counts, "-o", tmp_path / "j.gpkg",
                       "--report", tmp_path / "data" / "Batas.dbf")
    assert code == 1 and "Batas.dbf adalah berkas masukan" in out
    assert tree(tmp_path / "data") == before


def test_export_into_the_folder_that_holds_an_input_is_refused(inputs, tmp_path):
    boundaries, counts = inputs
    before = tree(tmp_path / "data")
    code, out = invoke("export", boundaries, counts, "-o", tmp_path / "data")
    assert code == 1
    assert f"Folder keluaran {tmp_path / 'data'} berisi berkas masukan" in out
    # A hard link of the counts table inside an otherwise unrelated folder is the same file.
    (tmp_path / "bundel").mkdir()
    os.link(counts, tmp_path / "bundel" / "salinan.csv")
    code, out = invoke("export", boundaries, counts, "-o", tmp_path / "bundel", "--lang", "en")
    assert code == 1 and "The output folder" in out and "holds the input file" in out
    assert tree(tmp_path / "data") == before


def test_demo_into_the_folder_of_its_own_data_is_refused(tmp_path, monkeypatch):
    import povmap.demo

    demo = tmp_path / "boundaries"  # a copy: a failure must not write into the repository
    demo.mkdir()
    for name in ("demo_desa.geojson", "demo_counts.csv"):
        (demo / name).write_bytes((povmap.demo.DEMO_DIR / name).read_bytes())
    monkeypatch.setattr(povmap.demo, "DEMO_DIR", demo)
    before = tree(demo)
    code, out = invoke("demo", "-o", demo)
    assert code == 1 and f"Folder keluaran {demo} berisi berkas masukan" in out
    assert tree(demo) == before


def test_two_outputs_that_are_one_file_are_refused(inputs, tmp_path):
    boundaries, counts = inputs
    code, out = invoke("map", boundaries, counts, "-o", tmp_path / "peta.pdf",
                       "--atlas", tmp_path / "." / "peta.pdf")
    assert code == 1 and "adalah berkas keluaran yang sama" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_join_output_in_a_format_povmap_does_not_write(tmp_path):
    # Checked before any work: the counts table named here does not even exist.
    code, out = invoke("join", need(KAYONG_DESA), tmp_path / "tidak_ada.csv",
                       "-o", tmp_path / "hasil.csv")
    assert code == 1, out
    assert "hasil.csv: join menulis GeoPackage atau GeoJSON; gunakan akhiran .gpkg, .geojson " \
           "atau .json" in out
    assert "tak terduga" not in out
    assert list(tmp_path.iterdir()) == []


def test_join_writes_geojson_for_json_suffix(inputs, tmp_path):
    boundaries, counts = inputs
    code, out = invoke("join", boundaries, counts, "-o", tmp_path / "hasil.json")
    assert code == 0, out
    assert json.loads((tmp_path / "hasil.json").read_text())["type"] == "FeatureCollection"
