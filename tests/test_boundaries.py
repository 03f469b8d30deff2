"""Reading real boundary files in both schemas, with both engines."""

from __future__ import annotations

import geopandas as gpd
import pytest
from conftest import (
    HSS_DESA,
    HSS_KECAMATAN,
    HSS_KUGI_GPKG,
    HSS_KUGI_ZIP,
    KAYONG_DESA,
    LAHAT_DESA,
    need,
)

import povmap
from povmap.boundaries import CANONICAL

ENGINES = ["pyogrio", "fiona"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", [HSS_DESA, HSS_KUGI_ZIP, HSS_KUGI_GPKG], ids=lambda p: p.name)
def test_hss_desa_in_every_schema_and_engine(path, engine, hss_raw):
    bounds = povmap.read_boundaries(need(path), engine=engine)
    assert list(bounds.gdf.columns[:8]) == CANONICAL["desa"]
    assert len(bounds.gdf) == 148
    assert bounds.gdf.crs.to_epsg() == 4326
    assert set(bounds.gdf["kode_desa"]) == set(hss_raw["kode"])
    assert bounds.gdf["kode_kecamatan"].nunique() == 11
    by_code = bounds.gdf.set_index("kode_desa")
    assert by_code.loc["63.06.01.2001", "nama_desa"] == "Hamalau"
    assert by_code.loc["63.06.01.2001", "nama_kecamatan"] == "Sungai Raya"
    # Areas in an equal-area projection: the KUGI LUAS field (km², UTM, rounded) agrees to within
    # UTM's scale factor (0.9996², about 0.08 %) and the rounding.
    if "LUAS" in bounds.gdf.columns:
        relative = (bounds.gdf["luas_km2"] - bounds.gdf["LUAS"]).abs() / bounds.gdf["LUAS"]
        assert relative.max() < 0.002 + 0.005 / bounds.gdf["LUAS"].min()
    assert bounds.gdf["luas_km2"].sum() == pytest.approx(1697.2, abs=1)
    info = bounds.source
    assert info.schema == ("kugi" if "kugi" in path.name else "lain")


def test_utm_shapefile_reprojected_to_same_geometry():
    lonlat = povmap.read_boundaries(need(HSS_KUGI_GPKG)).gdf.set_index("kode_desa")
    read = povmap.read_boundaries(need(HSS_KUGI_ZIP))
    assert read.source.source_crs == "EPSG:32750"
    utm = read.gdf.set_index("kode_desa")
    shift = utm.to_crs(32750).centroid.distance(lonlat.loc[utm.index].to_crs(32750).centroid)
    assert shift.max() < 0.01  # metres


def test_invalid_geometries_repaired_and_reported():
    bounds = povmap.read_boundaries(need(LAHAT_DESA))
    assert sorted(bounds.source.repaired) == ["16.04.23.2006", "16.04.23.2007"]
    assert bounds.gdf.geometry.is_valid.all()
    assert bounds.gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all()


def test_kecamatan_file_detected_as_kecamatan_level():
    bounds = povmap.read_boundaries(need(HSS_KECAMATAN))
    assert bounds.source.level == "kecamatan"
    assert "kode_desa" not in bounds.gdf.columns
    assert len(bounds.gdf) == 11


def test_multipolygon_islands_kept():
    gdf = povmap.read_boundaries(need(KAYONG_DESA)).gdf
    assert len(gdf) == 43
    assert (gdf.geom_type == "MultiPolygon").sum() == 11


def test_explicit_column_mapping(tmp_path, hss_raw):
    renamed = hss_raw.rename(columns={"kode": "KODE_DS", "nama": "NAMA_DS"})[
        ["KODE_DS", "NAMA_DS", "geometry"]
    ]
    path = tmp_path / "odd.gpkg"
    renamed.to_file(path)
    with pytest.raises(povmap.PovmapInputError, match="KODE_DS"):
        povmap.read_boundaries(path)
    gdf = povmap.read_boundaries(path, columns={"kode_desa": "KODE_DS", "nama_desa": "NAMA_DS"}).gdf
    assert len(gdf) == 148 and gdf["nama_desa"].notna().all()
    # Parent codes are derived from the desa code even when the file lacks them.
    assert (gdf["kode_kecamatan"] == gdf["kode_desa"].str[:8]).all()


def test_split_desa_merged_into_one_row(tmp_path, hss_raw):
    parts = hss_raw.iloc[:3].explode(index_parts=False)
    doubled = gpd.GeoDataFrame(gpd.pd.concat([parts, hss_raw.iloc[[0]]]), crs=hss_raw.crs)
    path = tmp_path / "parts.geojson"
    doubled.to_file(path)
    bounds = povmap.read_boundaries(path)
    assert len(bounds.gdf) == 3
    assert bounds.source.merged_parts == ["63.06.01.2001"]


@pytest.mark.parametrize("bad", ["missing.geojson", "not_geo.geojson"])
def test_bad_boundary_file_names_the_file(tmp_path, bad):
    path = tmp_path / bad
    if bad == "not_geo.geojson":
        path.write_text("this is not json")
    with pytest.raises(povmap.PovmapInputError, match=bad):
        povmap.read_boundaries(path)


def test_unknown_engine_names_the_parameter():
    with pytest.raises(povmap.PovmapInputError, match="engine"):
        povmap.read_boundaries(need(HSS_DESA), engine="gdal")


def test_the_layer_is_read_with_the_cycle_collector_paused(monkeypatch):
    """GDAL's features become tens of thousands of geometries at once: the cycle collector
    waits until they are read, then runs as before."""
    import gc

    read = gpd.read_file
    during = []
    monkeypatch.setattr(
        gpd, "read_file", lambda *a, **k: during.append(gc.isenabled()) or read(*a, **k)
    )
    layer = povmap.read_boundaries(need(HSS_DESA))
    assert during == [False] and gc.isenabled()
    assert len(layer.gdf) == 148


def test_a_polygon_repaired_to_nothing_and_a_missing_one_are_both_without_geometry(
    tmp_path, monkeypatch
):
    """A ring with all its points on a line is repaired to nothing: like a feature without a
    geometry, it is reported as having none; a repaired bow-tie keeps its area. The same on a
    second reading, which takes the invalid ones from the cache."""
    import shapely

    monkeypatch.setenv("POVMAP_CACHE_DIR", str(tmp_path / "cache"))

    raw = gpd.read_file(need(HSS_DESA))
    flat, bowtie, missing = raw["kode"].iloc[[3, 7, 11]]
    raw.loc[3, "geometry"] = shapely.Polygon([(115.1, -2.7), (115.2, -2.7), (115.3, -2.7)])
    x0, y0, x1, y1 = raw.geometry[7].bounds
    raw.loc[7, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    raw.loc[11, "geometry"] = None
    path = tmp_path / "hss.geojson"
    raw.to_file(path)
    for cache in ("disimpan", "dipakai"):
        read = povmap.read_boundaries(path)
        assert read.source.cache == cache
        assert read.source.null_geometry == [flat, missing]
        assert flat in read.source.repaired and bowtie in read.source.repaired
        assert missing not in read.source.repaired
        kept = read.gdf.set_index("kode_desa").geometry
        assert kept[bowtie].area > 0 and not kept[bowtie].is_empty
