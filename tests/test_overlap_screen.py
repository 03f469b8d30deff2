"""The overlap check of read_boundaries intersects only the pairs that could overlap (issue 15).

Its screen (bounding boxes, and each kecamatan's excess: sum of its desa areas minus the area of
their union) must never hide an overlap or a duplicate the exact check of every pair reports. Each
test plants overlaps and duplicates into a real layer, in tmp_path, and compares the screened
check with the exact one.
"""

from __future__ import annotations

import functools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import HSS_DESA, KALSEL_DESA, LAHAT_DESA, make_counts, need

import povmap
from povmap import boundaries
from povmap.boundaries import OVERLAP_SHARE, dissolve


def planted(path, tmp_path) -> gpd.GeoDataFrame:
    """The real layer with overlaps and duplicates planted inside one kecamatan and across two:

    - desa 0 takes most of a neighbour of its own kecamatan (far above the limit);
    - a desa takes a sliver of a neighbour just above the limit (6 % of the neighbour) and
      another just below (4 %), inside its kecamatan;
    - a desa takes a part of a neighbour in another kecamatan;
    - a desa is stored again under a new code of its kecamatan, and another under a code of
      another kecamatan (duplicates, one within a kecamatan and one across).
    """
    raw = gpd.read_file(need(path))
    metric = raw.to_crs(6933)
    kec = raw["kode"].str[:8]
    touching = shapely.STRtree(metric.geometry.values).query(
        metric.geometry.values, predicate="intersects"
    )
    pairs = [(a, b) for a, b in zip(*touching, strict=True) if a < b]
    inside = [(a, b) for a, b in pairs if kec[a] == kec[b]]
    across = [(a, b) for a, b in pairs if kec[a] != kec[b]]

    def take(a: int, b: int, share: float) -> None:
        """Desa a gains the part of desa b nearest to it, about ``share`` of b's area."""
        target = metric.geometry[b]
        centre = metric.geometry[a].centroid
        lo, hi = 0.0, centre.distance(target) + np.sqrt(target.area) * 4
        for _ in range(40):  # the disc around a's centre that covers share of b
            mid = (lo + hi) / 2
            lo, hi = (
                (mid, hi)
                if centre.buffer(mid).intersection(target).area < share * target.area
                else (lo, mid)
            )
        grown = metric.geometry[a].union(centre.buffer(hi).intersection(target))
        raw.loc[a, "geometry"] = gpd.GeoSeries([grown], crs=6933).to_crs(raw.crs).iloc[0]

    used: set[int] = set()

    def fresh(candidates):
        for a, b in candidates:
            if not {a, b} & used:
                used.update((a, b))
                return a, b
        raise AssertionError("no pair left to plant in")

    take(*fresh(inside), 0.6)
    take(*fresh(inside), 0.06)
    take(*fresh(inside), 0.04)
    take(*fresh(across), 0.3)
    copies = raw.iloc[[0, len(raw) - 1]].copy()
    other = next(k for k in kec if k != kec.iloc[-1])
    copies["kode"] = [f"{kec.iloc[0]}.2991", f"{other}.2992"]
    out = gpd.GeoDataFrame(pd.concat([raw, copies], ignore_index=True), crs=raw.crs)
    file = tmp_path / "planted.geojson"
    out.to_file(file)
    return file


def read_both(path, monkeypatch, keep_duplicates=False):
    """The layer read with the screened check, and with the exact check of every pair."""
    exact_pairs: list[int] = []
    shared_areas = boundaries._shared_areas

    def counting(geoms, left, right, exact):
        exact_pairs.append(len(left) if exact is None else len(exact))
        return shared_areas(geoms, left, right, exact)

    monkeypatch.setattr(boundaries, "_shared_areas", counting)
    screened = povmap.read_boundaries(path, keep_duplicates=keep_duplicates)
    check = boundaries._duplicates_and_overlaps
    monkeypatch.setattr(
        boundaries, "_duplicates_and_overlaps", functools.partial(check, screen=False)
    )
    exact = povmap.read_boundaries(path, keep_duplicates=keep_duplicates)
    return screened, exact, exact_pairs


@pytest.mark.parametrize("layer", [LAHAT_DESA, KALSEL_DESA])
@pytest.mark.parametrize("keep_duplicates", [False, True])
def test_screened_check_reports_what_the_exact_check_reports(
    layer, keep_duplicates, tmp_path, monkeypatch
):
    path = planted(layer, tmp_path)
    screened, exact, pairs = read_both(path, monkeypatch, keep_duplicates)
    assert screened.source.overlaps == exact.source.overlaps
    assert screened.source.duplicates == exact.source.duplicates
    # What was planted is found: 2 duplicates, and the overlaps above the limit (the 4 % one not).
    assert len(exact.source.duplicates) == 2
    partial = [o for o in exact.source.overlaps if o[2] < 0.95]
    assert len(partial) >= 3 and all(share > OVERLAP_SHARE for *_, share in partial)
    pd.testing.assert_frame_equal(screened.gdf, exact.gdf)
    # The screen intersected under half of the pairs the exact check intersects (the rest are
    # pairs of two kecamatan, which no union bounds here).
    assert pairs[0] < pairs[1] / 2


def test_real_layer_without_plants_is_reported_alike(monkeypatch):
    screened, exact, pairs = read_both(need(HSS_DESA), monkeypatch)
    assert screened.source.overlaps == exact.source.overlaps
    assert screened.source.duplicates == exact.source.duplicates == []
    assert pairs[0] < pairs[1]


def test_outlines_of_reading_are_the_dissolve_of_the_layer(tmp_path):
    path = planted(LAHAT_DESA, tmp_path)
    bounds = povmap.read_boundaries(path)  # the duplicates left out: their kecamatan redone
    assert bounds.outlines is not None and bounds.outlines.fits(bounds.gdf)
    for level in ("kecamatan", "kabupaten"):
        given = dissolve(bounds.gdf, level, outlines=bounds.outlines)
        fresh = dissolve(bounds.gdf, level)
        pd.testing.assert_frame_equal(given, fresh)
        # Every outline is the exact union of its desa (same sliver-hole rule) within 1e-6 of
        # its area, though united in the equal-area projection rather than in degrees.
        key = f"kode_{level}"
        exact = bounds.gdf.groupby(key).geometry.agg(lambda s: shapely.union_all(s.values))
        exact = gpd.GeoSeries(
            boundaries._drop_sliver_holes(np.asarray(exact.values), bounds.gdf.crs),
            crs=bounds.gdf.crs,
        )
        apart = gpd.GeoSeries(given.geometry.values, crs=bounds.gdf.crs).symmetric_difference(exact)
        area = exact.to_crs(6933).area.to_numpy()
        assert (apart.to_crs(6933).area.to_numpy() <= 1e-6 * area).all()


def test_outlines_are_not_used_for_another_layer(tmp_path):
    bounds = povmap.read_boundaries(need(LAHAT_DESA))
    counts = make_counts(gpd.read_file(need(LAHAT_DESA)))
    joined = povmap.add_rates(povmap.join(bounds, counts).joined)
    assert bounds.outlines.fits(joined)  # the pipeline's case: the same areas, joined
    # A layer with a desa less, or one desa moved, is dissolved from its own areas.
    fewer = joined.iloc[1:].reset_index(drop=True)
    moved = joined.copy()
    moved.loc[0, "geometry"] = shapely.affinity.translate(moved.geometry[0], 0.01)
    for changed in (fewer, moved):
        assert not bounds.outlines.fits(changed)
        pd.testing.assert_frame_equal(
            povmap.aggregate(changed, outlines=bounds.outlines), povmap.aggregate(changed)
        )
    first = fewer["kode_kecamatan"].iloc[0]
    fresh = povmap.aggregate(fewer).set_index("kode_kecamatan")
    whole = povmap.aggregate(joined, outlines=bounds.outlines).set_index("kode_kecamatan")
    assert fresh.loc[first, "jumlah_desa"] == whole.loc[first, "jumlah_desa"] - 1
    assert fresh.to_crs(6933).area[first] < whole.to_crs(6933).area[first]


def test_a_desa_crossing_itself_once_projected_is_measured_repaired(tmp_path):
    # Valid in degrees, a vertex 1 mm from a long diagonal edge (Lahat's latitude) ends up on its
    # other side in the equal-area projection, where edges are straight along other lines (the
    # national layer's 62.13.02.2007: it "overlapped" its neighbours by up to 3.3 times its own
    # area). What the overlap check and luas_km2 measure must be valid and of the same area.
    from shapely.geometry import Polygon

    lon, lat, d, eps = 103.5, -3.8, 0.03, 1e-8
    mid = (lon + d / 2, lat + d / 2)
    notch = [
        (mid[0] + 0.0006, mid[1] - 0.0006),
        (mid[0] + eps, mid[1] - eps),
        (mid[0] + 0.0012, mid[1] - 0.0012),
    ]
    desa = Polygon([(lon, lat), (lon + d, lat + d), (lon + d, lat), *notch])
    rest = shapely.box(*desa.bounds).difference(desa)
    layer = gpd.GeoSeries([desa, rest], crs=4326)
    raw = layer.to_crs(boundaries.EQUAL_AREA)
    assert desa.is_valid and not raw.is_valid.iloc[0]  # the fault this guards against
    measured = boundaries._equal_area(layer)
    assert shapely.is_valid(measured).all()
    np.testing.assert_allclose(shapely.area(measured), raw.area, rtol=1e-9)
    assert shapely.area(shapely.intersection(measured[0], measured[1])) < 1e-3  # m²
