"""Checks of the fictional demo region shipped as package data (see boundaries/README.md)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "povmap" / "data" / "demo"
GEOJSON = DEMO / "demo_desa.geojson"
COUNTS = DEMO / "demo_counts.csv"
SCRIPT = ROOT / "boundaries" / "make_demo.py"

KODE_RE = re.compile(r"^99\.01\.(0[1-9]|1[0-2])\.[12]\d{3}$")
COUNT_COLUMNS = [
    "kode_wilayah",
    "nama_kecamatan",
    "nama_desa",
    "jumlah_penduduk",
    "jumlah_keluarga_miskin_ekstrem",
    "jumlah_miskin_ekstrem",
    "jumlah_desil_1",
]


def load_generator() -> ModuleType:
    """Import ``boundaries/make_demo.py`` by path (the folder is not a package)."""
    name = "povmap_demo_make_demo"
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look the module up while the class is created
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


@pytest.fixture(scope="module")
def desa() -> gpd.GeoDataFrame:
    return gpd.read_file(GEOJSON)


@pytest.fixture(scope="module")
def counts() -> pd.DataFrame:
    return pd.read_csv(COUNTS, dtype={"kode_wilayah": str}, encoding="utf-8")


def test_files_are_small() -> None:
    assert GEOJSON.stat().st_size + COUNTS.stat().st_size < 300_000


def test_desa_and_kecamatan_counts(desa: gpd.GeoDataFrame) -> None:
    assert len(desa) == 150
    sizes = desa.groupby("kode_kec").size()
    assert len(sizes) == 12
    assert sizes.min() >= 5
    assert desa.groupby("kode_kec")["nama_kec"].nunique().eq(1).all()
    assert desa["nama_kec"].nunique() == 12


def test_schema_and_fictional_labels(desa: gpd.GeoDataFrame) -> None:
    expected = {
        "kode", "kode_nodot", "nama", "kode_kec", "nama_kec", "kode_kab", "nama_kab",
        "kode_prov", "nama_prov", "jenis", "geometry",
    }  # fmt: skip
    assert set(desa.columns) == expected
    assert desa.crs is not None and desa.crs.to_epsg() == 4326
    assert (desa["nama_kab"] == "Kabupaten Contoh (fiktif)").all()
    assert (desa["nama_prov"] == "Provinsi Contoh").all()


def test_geometries_valid_and_in_open_sea(desa: gpd.GeoDataFrame) -> None:
    assert (desa.geom_type == "Polygon").all()
    assert desa.is_valid.all()
    assert not desa.is_empty.any()
    minx, miny, maxx, maxy = desa.total_bounds
    assert 112.0 <= minx < maxx <= 112.4
    assert -5.3 <= miny < maxy <= -5.0
    coords = shapely.get_coordinates(desa.geometry.values)
    np.testing.assert_array_equal(coords, np.round(coords, 6))


def test_tessellation_has_no_gaps_or_overlaps(desa: gpd.GeoDataFrame) -> None:
    geoms = list(desa.geometry)
    assert shapely.coverage_is_valid(geoms)
    union = shapely.union_all(geoms)
    assert union.geom_type == "Polygon"
    assert len(union.interiors) == 0
    total = sum(g.area for g in geoms)
    assert abs(union.area - total) <= 1e-6 * total


def test_kecamatan_are_contiguous(desa: gpd.GeoDataFrame) -> None:
    for kode_kec, group in desa.groupby("kode_kec"):
        merged = shapely.union_all(list(group.geometry))
        assert merged.geom_type == "Polygon", kode_kec


def test_codes_unique_well_formed_and_consistent(desa: gpd.GeoDataFrame) -> None:
    assert desa["kode"].is_unique
    assert desa["kode"].map(lambda k: bool(KODE_RE.match(k))).all()
    assert (desa["kode_nodot"] == desa["kode"].str.replace(".", "", regex=False)).all()
    assert desa["kode_nodot"].str.fullmatch(r"\d{10}").all()
    assert (desa["kode_kec"] == desa["kode"].str[:8]).all()
    assert (desa["kode_kab"] == "99.01").all()
    assert (desa["kode_prov"] == "99").all()
    first_digit = desa["kode"].str[9]
    assert ((first_digit == "1") == (desa["jenis"] == "kelurahan")).all()
    assert set(desa["jenis"]) == {"desa", "kelurahan"}
    assert (desa["jenis"] == "kelurahan").sum() == 8


def test_exactly_two_names_repeat_in_different_kecamatan(desa: gpd.GeoDataFrame) -> None:
    repeated = desa["nama"].value_counts()
    repeated = repeated[repeated > 1]
    assert len(repeated) == 2
    assert (repeated == 2).all()
    for nama in repeated.index:
        assert desa.loc[desa["nama"] == nama, "kode_kec"].nunique() == 2


def test_counts_one_row_per_desa(desa: gpd.GeoDataFrame, counts: pd.DataFrame) -> None:
    assert list(counts.columns) == COUNT_COLUMNS
    assert len(counts) == len(desa)
    assert counts["kode_wilayah"].is_unique
    assert set(counts["kode_wilayah"]) == set(desa["kode_nodot"])
    merged = counts.merge(desa, left_on="kode_wilayah", right_on="kode_nodot", validate="1:1")
    assert (merged["nama_desa"] == merged["nama"]).all()
    assert (merged["nama_kecamatan"] == merged["nama_kec"]).all()


def test_counts_are_plausible(counts: pd.DataFrame) -> None:
    numbers = counts[COUNT_COLUMNS[3:]]
    assert all(pd.api.types.is_integer_dtype(t) for t in numbers.dtypes)
    assert (numbers >= 0).all().all()
    pop = counts["jumlah_penduduk"]
    poor = counts["jumlah_miskin_ekstrem"]
    assert pop.between(800, 9000).all()
    assert (poor <= pop).all()
    assert (counts["jumlah_desil_1"] <= pop).all()
    assert (counts["jumlah_desil_1"] >= poor).all()
    assert (counts["jumlah_keluarga_miskin_ekstrem"] <= poor).all()
    rate = poor / pop
    assert rate.min() < 0.005
    assert 0.07 < rate.max() < 0.11
    assert (rate > 0.04).sum() >= 10  # poverty pockets for the pocket finder to find


def test_generator_reproduces_files_byte_for_byte(tmp_path: Path) -> None:
    generator = load_generator()
    paths = generator.generate(tmp_path)
    assert {p.name for p in paths.values()} == {GEOJSON.name, COUNTS.name}
    for path in paths.values():
        assert path.read_bytes() == (DEMO / path.name).read_bytes(), path.name


def test_generator_writes_the_package_data_by_default() -> None:
    # One copy of the demo region: the generator's default target is what the package ships.
    assert load_generator().PACKAGE_DATA == DEMO
    assert not (ROOT / "boundaries" / GEOJSON.name).exists()
    assert not (ROOT / "boundaries" / COUNTS.name).exists()
