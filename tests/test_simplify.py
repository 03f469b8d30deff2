"""Web simplification keeps the desa layer a gap-free coverage (real Kalimantan Selatan data)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import (
    HSS_DESA,
    HSS_KUGI_ZIP,
    KALSEL_DESA,
    KAYONG_DESA,
    KONSEL_DESA,
    LAHAT_DESA,
    need,
)

from povmap import PovmapInputError
from povmap.simplify import check_coverage, simplify_coverage, utm_crs


@pytest.fixture(scope="module")
def kalsel_web(kalsel_raw):
    return simplify_coverage(kalsel_raw)


def test_raw_kalsel_is_not_a_clean_coverage(kalsel_raw):
    # Why the cleaning step exists: the shared file has overlaps and sliver gaps.
    check = check_coverage(kalsel_raw)
    assert not check.valid_coverage
    assert check.holes > 1000


def test_simplified_kalsel_has_no_gaps_or_overlaps(kalsel_raw, kalsel_web):
    check = check_coverage(kalsel_web)
    assert check.valid_coverage
    assert check.invalid == 0
    assert check.holes == 0 and check.hole_area_m2 == 0.0
    assert len(kalsel_web) == len(kalsel_raw) == 2008
    assert not kalsel_web.geometry.is_empty.any()


def test_simplification_halves_vertices_and_keeps_areas_and_attributes(kalsel_raw, kalsel_web):
    before = shapely.get_num_coordinates(kalsel_raw.geometry.values).sum()
    after = shapely.get_num_coordinates(kalsel_web.geometry.values).sum()
    assert after < 0.6 * before
    assert kalsel_web.crs.to_epsg() == 4326
    assert list(kalsel_web["kode"]) == list(kalsel_raw["kode"])
    utm = kalsel_raw.estimate_utm_crs()
    area_before = kalsel_raw.to_crs(utm).area.to_numpy()
    area_after = kalsel_web.to_crs(utm).area.to_numpy()
    # Each desa keeps its area within a few percent (median), none is swallowed.
    ratio = area_after / area_before
    assert np.median(np.abs(ratio - 1)) < 0.02
    assert ratio.min() > 0.5


def test_coordinates_are_rounded_to_five_decimals(kalsel_web):
    coords = shapely.get_coordinates(kalsel_web.geometry.values[:50])
    assert np.allclose(coords, np.round(coords, 5), atol=1e-9, rtol=0)


def test_layer_without_crs_is_refused(hss_raw):
    with pytest.raises(PovmapInputError, match="CRS"):
        simplify_coverage(
            gpd.GeoDataFrame(
                hss_raw.drop(columns="geometry"), geometry=np.asarray(hss_raw.geometry.values)
            )
        )


def test_layer_with_empty_geometries_is_refused_naming_its_rows_as_text(hss_raw):
    gdf = hss_raw.copy()
    gdf.loc[[3, 8], "geometry"] = None
    with pytest.raises(PovmapInputError) as caught:
        simplify_coverage(gdf)
    assert str(caught.value) == "Lapisan batas berisi geometri kosong (baris 3, 8); hapus dulu."


def test_a_polygon_that_rounding_would_break_stays_valid(hss_raw):
    # A slot 0.3 m wide cut into a real HSS desa, its two sides inside one 1e-5 degree cell:
    # rounded point by point they fall on one line and the polygon touches itself.
    raw = hss_raw.iloc[:3].copy()
    desa = raw.geometry.iloc[0]
    x, y = desa.representative_point().coords[0]
    bottom = np.floor(y / 1e-5) * 1e-5 + 1e-6
    raw.loc[raw.index[0], "geometry"] = desa.difference(
        shapely.box(x, bottom, desa.bounds[2] + 0.01, bottom + 3e-6)
    )
    web = simplify_coverage(raw, 0, snapping_distance=0, gap_width=0)
    unrounded = simplify_coverage(raw, 0, decimals=12, snapping_distance=0, gap_width=0)
    pointwise = shapely.set_precision(unrounded.geometry.values, 1e-5, mode="pointwise")
    assert not shapely.is_valid(pointwise[0])  # what a point-by-point rounding alone gives
    assert shapely.is_valid(web.geometry.values).all()
    coords = shapely.get_coordinates(web.geometry.values)
    assert np.allclose(coords, np.round(coords, 5), atol=1e-9, rtol=0)


@pytest.mark.parametrize(
    "path", [HSS_DESA, LAHAT_DESA, KAYONG_DESA, KONSEL_DESA, KALSEL_DESA, HSS_KUGI_ZIP]
)
def test_utm_zone_is_the_one_geopandas_estimates(path):
    layer = gpd.read_file(need(path))
    assert utm_crs(layer) == layer.estimate_utm_crs()
    # Far from Indonesia too: north of the equator, and in the last zone.
    for x, y in [(8.5, 47.4), (-70.0, -33.0), (179.5, 65.0), (-179.5, -17.0)]:
        point = gpd.GeoDataFrame(geometry=[shapely.Point(x, y)], crs=4326)
        assert utm_crs(point) == point.estimate_utm_crs()
