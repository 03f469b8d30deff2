"""povmap's GeoJSON text (export/_geojson.py) against GEOS and orjson doing each step plainly.

The writer snaps, winds and prints a batch of features with numpy; the reference below does what
the writer did before, one GEOS call per step and one ``orjson`` call per feature. The bytes must
be the same, on real desa (Kalimantan Selatan, Konawe Selatan) and on the shapes where a shortcut
could go wrong: rounding ties, negative zeros, numbers ``orjson`` prints with an exponent,
polygons rounding breaks or empties, wrong windings, holes, repeated vertices, empty parts.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import pytest
import shapely
from conftest import HSS_DESA, KALSEL_DESA, KAYONG_DESA, KONSEL_DESA, need
from shapely import Polygon

import povmap
from povmap import PovmapInputError
from povmap.export import _geojson
from povmap.export.writers import write_geojson


def _reference(source: np.ndarray, precision: int) -> list[bytes]:
    """Each geometry's GeoJSON object the plain way: GEOS snaps (pointwise; snap-rounding where
    that breaks a polygon) and winds, ``orjson`` prints ``np.round`` of each ring."""
    grid = 10.0**-precision
    snapped = shapely.set_precision(source, grid, mode="pointwise")
    broken = ~shapely.is_valid(snapped) & ~shapely.is_missing(snapped)
    snapped[~broken] = shapely.remove_repeated_points(snapped[~broken])
    snapped[broken] = shapely.set_precision(source[broken], grid)
    snapped = shapely.orient_polygons(snapped, exterior_cw=False)
    out = []
    for before, after in zip(source, snapped, strict=True):
        if before is None:
            out.append(b"null")
            continue
        kind = before.geom_type if after.is_empty else after.geom_type
        if after.is_empty:
            coordinates: list = []
        else:
            polygons = after.geoms if kind == "MultiPolygon" else [after]
            nested = [
                [
                    np.round(np.asarray(r.coords)[:, :2], precision)
                    for r in (p.exterior, *p.interiors)
                ]
                for p in polygons
            ]
            coordinates = nested if kind == "MultiPolygon" else nested[0]
        geometry = {"type": kind, "coordinates": coordinates}
        out.append(orjson.dumps(geometry, option=orjson.OPT_SERIALIZE_NUMPY))
    return out


def _edge_cases() -> np.ndarray:
    return np.array(
        [
            shapely.box(110, -3, 110.5, -2.5),
            Polygon([(0, 0), (0, 1), (1, 1), (1, 0)]),  # clockwise shell
            Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (1, 2), (2, 2), (2, 1)]]),
            Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 2)]]),
            shapely.multipolygons([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]),
            shapely.multipolygons([Polygon(), shapely.box(0, 0, 1, 1)]),  # an empty part
            # Negative zeros, ties (half up, as GEOS: -2.5e-6 to -0.000002), tiny numbers.
            Polygon([(-3e-7, -3e-7), (1.0000005, -1.0000005), (1.0000005, 5e-5), (-3e-7, -3e-7)]),
            Polygon([(2e-5, 2e-5), (9e-5, 2e-5), (9e-5, 9e-5), (2e-5, 2e-5)]),
            Polygon([(-2.5e-6, 1), (1, 1), (1, 2), (-2.5e-6, 1)]),
            # Rounding collapses a vertex onto another: invalid, snap-rounded by GEOS.
            Polygon([(110.1234564, 1), (110.1234566, 1), (110.12346, 1.0000001), (110.12347, 2)]),
            Polygon([(0, 0), (1, 0), (1, 1e-7), (2, 0), (3, 0), (3, 1), (0, 1)]),  # a spike
            Polygon([(179.9999999, -89.9999999), (-179.9999999, -89.9999999), (0, 89.9999999)]),
            shapely.box(110.00000049, -3.0000005, 110.0000015, -2.4999995),
            Polygon(),
            shapely.MultiPolygon(),
            None,
            shapely.box(0, 0, 1e-7, 1e-7),  # snapped to nothing: written empty, as a polygon
            Polygon([(1, 1), (1, 1), (2, 1), (2, 2), (2, 2), (1, 1), (1, 1)]),  # repeated vertices
            # A ring whose area is too small for its sign to be sure in floating point.
            Polygon([(100.0000001, 1), (100.0000004, 1), (100.0000002, 1.0000004)]),
            Polygon([(100, 1), (100.000003, 1), (100.000003, 1.000001), (100, 1.000002)]),
            # Beyond 2**52 grid steps (12 decimals): already whole numbers once scaled.
            shapely.box(5000.1234567891234, 1, 5001, 2),
        ],
        dtype=object,
    )


@pytest.mark.parametrize("precision", [0, 1, 3, 5, 6, 7, 9, 12, 15])
def test_edge_cases_as_geos_and_orjson_write_them(precision):
    cases = _edge_cases()
    assert _geojson.geometry_texts(cases, precision) == _reference(cases, precision)


@pytest.mark.parametrize("precision", [6, 5, 3])
def test_real_desa_byte_for_byte(kalsel_raw, precision):
    for geoms in (
        np.asarray(kalsel_raw.geometry.values),
        np.asarray(gpd.read_file(need(KONSEL_DESA)).geometry.values),
    ):
        ours = _geojson.geometry_texts(geoms, precision)
        assert ours == _reference(geoms, precision)


def test_rounding_is_geos_pointwise_rounding(kalsel_raw):
    coords = shapely.get_coordinates(kalsel_raw.geometry.values)[::7]
    for precision in range(_geojson._NUMPY_PRECISION + 1):
        # Exact ties and near-ties at this grid, both signs, around zero.
        k = np.arange(-3, 4, dtype=float)
        ties = np.concatenate([(k + 0.5), (k - 0.3), [0.49999999999999994, -0.49999999999999994]])
        values = np.concatenate([coords.ravel(), ties / 10.0**precision])
        ours = _geojson._round_as_geos(values, precision)
        geos = shapely.get_coordinates(
            shapely.set_precision(
                shapely.points(values, values), 10.0**-precision, mode="pointwise"
            )
        )[:, 0]
        assert np.array_equal(ours, geos)
        assert np.array_equal(np.signbit(ours), np.signbit(geos))  # -0.0 stays "-0.0"


def test_some_real_polygons_take_every_path(kalsel_raw):
    # The national layer has 72 desa rounding breaks; on Kalimantan Selatan at 3 decimals,
    # rounding breaks some too: the GEOS path is exercised by the real-desa test above.
    geoms = np.asarray(kalsel_raw.geometry.values)
    rings = _geojson._Rings.of(geoms)
    rings.coords = _geojson._round_as_geos(rings.coords, 3)
    assert (~shapely.is_valid(rings.geometries())).sum() > 0


def test_three_dimensional_polygons_are_written_in_two(tmp_path):
    layer = gpd.GeoDataFrame(
        {"KODE": ["a", "b"]},
        geometry=[
            Polygon([(110, -3, 5.5), (111, -3, 6.5), (111, -2, 7.5), (110, -3, 5.5)]),
            shapely.box(112, -3, 113, -2),
        ],
        crs=4326,
    )
    path = write_geojson(layer, tmp_path / "z.geojson", layer="z")
    features = json.loads(path.read_bytes())["features"]
    positions = [p for f in features for ring in f["geometry"]["coordinates"] for p in ring]
    # Before, a layer mixing 2D and 3D got [lon, lat, null] positions: not GeoJSON.
    assert {len(p) for p in positions} == {2}
    assert features[0]["geometry"]["coordinates"][0][:2] == [[110.0, -3.0], [111.0, -3.0]]


def test_a_line_among_polygons_is_refused_by_name(tmp_path):
    layer = gpd.GeoDataFrame(
        {"KODE": ["a", "b"]},
        geometry=[shapely.box(110, -3, 111, -2), shapely.LineString([(110, -3), (111, -2)])],
        crs=4326,
    )
    with pytest.raises(PovmapInputError, match="LINESTRING"):  # was a raw ValueError
        write_geojson(layer, tmp_path / "x.geojson", layer="x")
    assert not (tmp_path / "x.geojson").exists()


def test_crs84_is_written_as_it_is(kalsel_raw, tmp_path, monkeypatch):
    layer = kalsel_raw.iloc[:50].to_crs(4326)
    as_4326 = write_geojson(layer, tmp_path / "a.geojson", layer="desa").read_bytes()
    relabelled = layer.set_crs("OGC:CRS84", allow_override=True)

    def no_reprojection(*args, **kwargs):
        raise AssertionError("CRS84 needs no reprojection: it is lon/lat WGS84")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_crs", no_reprojection)
    as_crs84 = write_geojson(relabelled, tmp_path / "b.geojson", layer="desa").read_bytes()
    assert as_crs84 == as_4326


def test_threads_do_not_change_a_byte(kalsel_raw, tmp_path, monkeypatch):
    layer = kalsel_raw.to_crs(4326)
    many = write_geojson(layer, tmp_path / "many.geojson", layer="desa").read_bytes()
    monkeypatch.setenv("POVMAP_THREADS", "1")
    one = write_geojson(layer, tmp_path / "one.geojson", layer="desa").read_bytes()
    assert many == one


def test_split_provinsi_names_each_file_and_ogrinfo_reads_it(tmp_path):
    if shutil.which("ogrinfo") is None:
        pytest.skip("GDAL ogrinfo not installed (apt-get install gdal-bin)")
    # Kalimantan Selatan with a made-up second province: the desa of two kabupaten moved to 64.
    desa = povmap.read_boundaries(need(KALSEL_DESA)).gdf
    moved = desa["kode_kabupaten"].isin(sorted(desa["kode_kabupaten"].unique())[:2])
    for column in ("kode_desa", "kode_kecamatan", "kode_kabupaten", "kode_provinsi", "kode_nodot"):
        desa.loc[moved, column] = "64" + desa.loc[moved, column].str[2:]
    counts = pd.DataFrame(
        {"kode_wilayah": desa["kode_desa"], "jumlah_penduduk": 900, "jumlah_miskin_ekstrem": 30}
    )
    written = povmap.export(
        {"desa": povmap.join(desa, counts).joined}, tmp_path / "out", split="provinsi"
    )
    files = sorted(p.name for p in written if p.suffix == ".geojson")
    assert files == ["desa_63.geojson", "desa_64.geojson"]
    total = 0
    for name in files:
        path = tmp_path / "out" / name
        info = subprocess.run(
            ["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, check=True
        ).stdout
        count = int(info.split("Feature Count: ")[1].split()[0])
        assert f"Layer name: {path.stem}" in info  # not the name of the staging file
        content = json.loads(path.read_bytes())
        assert content["name"] == path.stem and len(content["features"]) == count
        assert {f["properties"]["KDPPUM"] for f in content["features"]} == {path.stem[-2:]}
        total += count
    assert total == len(desa) and moved.sum() > 0


def test_validity_is_kept_in_the_cache_keyed_by_the_coordinates(kalsel_raw, tmp_path, monkeypatch):
    monkeypatch.setenv("POVMAP_CACHE_DIR", str(tmp_path / "cache"))
    layer = kalsel_raw.to_crs(4326)
    first = write_geojson(layer, tmp_path / "a.geojson", layer="desa", precision=3).read_bytes()
    entries = sorted((tmp_path / "cache").glob("geojson_invalid_*.npz"))
    assert len(entries) == 1  # 2,008 desa: one batch
    assert len(np.load(entries[0])["broken"]) > 0  # Kalsel at 3 decimals: some break

    def no_check(*args, **kwargs):
        raise AssertionError("the cache holds the answer")

    monkeypatch.setattr(_geojson, "map_chunks", no_check)
    second = write_geojson(layer, tmp_path / "b.geojson", layer="desa", precision=3).read_bytes()
    assert second == first
    # Other coordinates are another key: checked again.
    with pytest.raises(AssertionError, match="the cache holds"):
        write_geojson(layer, tmp_path / "c.geojson", layer="desa", precision=4)


def test_a_broken_cache_entry_is_checked_again(kalsel_raw, tmp_path, monkeypatch):
    monkeypatch.setenv("POVMAP_CACHE_DIR", str(tmp_path / "cache"))
    layer = kalsel_raw.to_crs(4326)
    first = write_geojson(layer, tmp_path / "a.geojson", layer="desa", precision=3).read_bytes()
    (entry,) = (tmp_path / "cache").glob("geojson_invalid_*.npz")
    np.savez(entry, broken=np.array([10**6]))  # no such feature
    again = write_geojson(layer, tmp_path / "b.geojson", layer="desa", precision=3).read_bytes()
    assert again == first
    assert np.load(entry)["broken"].max() < len(layer)  # and stored right again


def test_split_provinsi_file_describes_its_own_province(tmp_path):
    # Two real kabupaten of two provinces: each province's file names only its own kabupaten.
    hss = povmap.read_boundaries(need(HSS_DESA)).gdf
    kayong = povmap.read_boundaries(need(KAYONG_DESA)).gdf
    desa = pd.concat([hss, kayong], ignore_index=True)
    counts = pd.DataFrame(
        {"kode_wilayah": desa["kode_desa"], "jumlah_penduduk": 900, "jumlah_miskin_ekstrem": 30}
    )
    povmap.export({"desa": povmap.join(desa, counts).joined}, tmp_path / "out", split="provinsi")
    descriptions = {
        code: json.loads((tmp_path / "out" / f"desa_{code}.geojson").read_bytes())["description"]
        for code in ("61", "63")
    }
    assert descriptions == {
        "61": "Kemiskinan ekstrem per desa/kelurahan, Kabupaten Kayong Utara, Kalimantan Barat",
        "63": "Kemiskinan ekstrem per desa/kelurahan, Kabupaten Hulu Sungai Selatan, "
        "Kalimantan Selatan",
    }
