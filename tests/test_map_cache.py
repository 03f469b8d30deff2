"""The map's geometry pieces in povmap's cache (issue 15, province map): the simplified coverage,
the label circles and the kecamatan outlines of a layer are computed once, taken from the cache
for the same geometries and options (exactly what was computed), and computed afresh for
another file, option or grouping, or when the entry cannot be theirs."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from conftest import KAYONG_DESA, KONSEL_DESA, invoke, make_counts, need
from geopandas.testing import assert_geodataframe_equal

from povmap import _cache
from povmap.render import interactive, layers
from povmap.simplify import simplify_coverage


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(_cache.CACHE_ENV, str(folder))
    return folder


@pytest.fixture(scope="module")
def kayong():
    return gpd.read_file(need(KAYONG_DESA))


def never(*args, **kwargs):
    raise AssertionError("computed again")


def counting(monkeypatch, module, name):
    """Count the calls of ``module.name`` (still calling it)."""
    calls = []
    original = getattr(module, name)

    def wrapped(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapped)
    return calls


def test_second_simplification_of_a_layer_is_the_first_from_the_cache(cache, kayong):
    first = simplify_coverage(kayong)
    assert len(list(cache.glob("*.npz"))) == 1
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shapely, "coverage_clean", never)
        patch.setattr(shapely, "coverage_simplify", never)
        second = simplify_coverage(kayong)
    assert_geodataframe_equal(first, second)
    assert shapely.equals_identical(first.geometry.values, second.geometry.values).all()
    # And both are what the layer gives with the cache off.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(_cache.CACHE_ENV, "off")
        uncached = simplify_coverage(kayong)
    assert shapely.equals_identical(first.geometry.values, uncached.geometry.values).all()


def test_another_option_or_geometry_or_crs_is_simplified_afresh(cache, kayong, monkeypatch):
    coarse = simplify_coverage(kayong, 400.0)
    cleaned = counting(monkeypatch, shapely, "coverage_clean")
    fine = simplify_coverage(kayong, 100.0)
    assert len(cleaned) == 1
    # A coarser tolerance keeps fewer vertices: the entry of 400 m was not used for 100 m.
    vertices = [shapely.get_num_coordinates(w.geometry.values).sum() for w in (coarse, fine)]
    assert vertices[0] < vertices[1]
    # One desa moved by 1 km (another edition of the file): computed again, and it moved.
    moved = kayong.copy()
    moved.loc[0, "geometry"] = shapely.affinity.translate(kayong.geometry[0], 0.009, 0.0)
    web = simplify_coverage(moved, 100.0)
    assert len(cleaned) == 2
    shift = web.geometry[0].centroid.x - fine.geometry[0].centroid.x
    assert shift == pytest.approx(0.009, abs=0.002)
    # The same coordinates under another CRS are another layer.
    simplify_coverage(kayong.to_crs(kayong.estimate_utm_crs()), 100.0)
    assert len(cleaned) == 3
    # Rows in another order: another key, and each desa keeps its own shape.
    reversed_ = simplify_coverage(kayong.iloc[::-1], 100.0)
    assert len(cleaned) == 4
    assert list(reversed_["kode"]) == list(kayong["kode"])[::-1]
    a, b = np.asarray(reversed_.geometry.values[::-1]), np.asarray(fine.geometry.values)
    overlap = shapely.area(shapely.intersection(a, b)) / shapely.area(shapely.union(a, b))
    assert overlap.min() > 0.95


def test_an_entry_that_cannot_be_this_layers_is_computed_again(cache, kayong, monkeypatch):
    first = simplify_coverage(kayong)
    (entry,) = cache.glob("*.npz")
    # Well-formed, but of another layer (one geometry): not read as this layer's.
    np.savez(entry, **_cache.pack_wkb(first.geometry.values[:1]))
    cleaned = counting(monkeypatch, shapely, "coverage_clean")
    again = simplify_coverage(kayong)
    assert len(cleaned) == 1
    assert shapely.equals_identical(first.geometry.values, again.geometry.values).all()
    # Damaged bytes: computed again too.
    entry.write_bytes(b"not an npz")
    assert shapely.equals_identical(
        first.geometry.values, simplify_coverage(kayong).geometry.values
    ).all()
    assert len(cleaned) == 2


def test_label_circles_come_from_the_cache_for_the_same_areas_only(cache, kayong, monkeypatch):
    web = simplify_coverage(kayong)
    first = layers.label_points(web, "nama")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shapely, "maximum_inscribed_circle", never)
        assert layers.label_points(web, "nama") == first
    # Other names over the same areas: the same circles, the new names.
    renamed = web.assign(nama=web["nama"].str.upper())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shapely, "maximum_inscribed_circle", never)
        assert layers.label_points(renamed, "nama") == [(n.upper(), *p) for n, *p in first]
    # One thread: one call per computation (on all cores the areas come in several chunks).
    monkeypatch.setenv("POVMAP_THREADS", "1")
    circles = counting(monkeypatch, shapely, "maximum_inscribed_circle")
    # Another working CRS (diameters in its metres): computed again.
    other = layers.label_points(web, "nama", crs=pyproj.CRS.from_epsg(3857))
    assert len(circles) == 1 and other != first
    # A desa without a name has no label, and the others' circles are computed for them.
    unnamed = web.assign(nama=web["nama"].where(web.index != web.index[0]))
    points = layers.label_points(unnamed, "nama")
    assert len(circles) == 2 and len(points) == len(first) - 1


def test_outlines_come_from_the_cache_for_the_same_grouping_only(cache, kayong, monkeypatch):
    web = simplify_coverage(kayong).rename(
        columns={"kode_kec": "kode_kecamatan", "nama_kec": "nama_kecamatan"}
    )
    first = interactive._dissolve(web, "kecamatan")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(interactive, "web_union", never)
        assert_geodataframe_equal(first, interactive._dissolve(web, "kecamatan"))
    # Two kecamatan merged into one: computed again, the merged outline covers both.
    codes = sorted(web["kode_kecamatan"].unique())
    merged = web.assign(kode_kecamatan=web["kode_kecamatan"].replace(codes[1], codes[0]))
    unions = counting(monkeypatch, interactive, "web_union")
    outlines = interactive._dissolve(merged, "kecamatan")
    assert len(unions) == len(codes) - 1
    assert list(outlines["kode_kecamatan"]) == codes[:1] + codes[2:]
    both = shapely.union_all(first.geometry.values[:2])
    assert outlines.geometry.values[0].symmetric_difference(both).area < 1e-9


def _page(path):
    """The page without folium's random element ids."""
    return re.sub(r"_[0-9a-f]{32}", "_ID", path.read_text(encoding="utf-8"))


def test_second_map_of_a_file_is_the_same_page(cache, tmp_path, monkeypatch):
    boundaries = need(KONSEL_DESA)
    counts = tmp_path / "counts.csv"
    make_counts(gpd.read_file(boundaries)).to_csv(counts, index=False)
    first, second, uncached = (tmp_path / f"{n}.html" for n in ("first", "second", "uncached"))
    assert invoke("--quiet", "map", boundaries, counts, "-o", first)[0] == 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shapely, "coverage_clean", never)
        patch.setattr(shapely, "maximum_inscribed_circle", never)
        patch.setattr(interactive, "web_union", never)
        assert invoke("--quiet", "map", boundaries, counts, "-o", second)[0] == 0
    monkeypatch.setenv(_cache.CACHE_ENV, "off")
    assert invoke("--quiet", "map", boundaries, counts, "-o", uncached)[0] == 0
    assert _page(first) == _page(second) == _page(uncached)


def test_topology_text_comes_from_the_cache_for_the_same_layers_and_grid(cache, kayong):
    from povmap.render import topo

    web = simplify_coverage(kayong)
    layers_ = {"desa": web[["kode", "geometry"]], "kecamatan": web.iloc[:3][["geometry"]]}
    first = topo.TopologyData.from_layers(layers_)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(topo, "topology_of", never)
        second = topo.TopologyData.from_layers(layers_)
    assert second.json == first.json
    assert second.columns == first.columns == {"desa": {"kode": list(web["kode"])}, "kecamatan": {}}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(_cache.CACHE_ENV, "off")
        assert topo.TopologyData.from_layers(layers_).json == first.json
    # Another grid, another object name, or one layer fewer: each a topology of its own.
    assert topo.TopologyData.from_layers(layers_, grid_m=50.0).json != first.json
    renamed = {"desa": layers_["desa"], "kec": layers_["kecamatan"]}
    assert '"kec":' in topo.TopologyData.from_layers(renamed).json
    alone = topo.TopologyData.from_layers({"desa": layers_["desa"]}).json
    assert '"kecamatan"' not in alone and alone != first.json


def test_an_entry_copied_over_another_is_not_read_as_it(cache, kayong):
    # A well-formed entry of other inputs, copied or renamed over this entry's file, is not
    # taken as this entry (the topology text has no shape of its own to tell them apart).
    from povmap.render import topo

    web = simplify_coverage(kayong)
    whole = {"desa": web[["geometry"]]}
    part = {"desa": web.iloc[:5][["geometry"]]}
    before = set(cache.glob("*.npz"))
    topo.TopologyData.from_layers(whole)
    (entry_whole,) = set(cache.glob("*.npz")) - before
    before = set(cache.glob("*.npz"))
    own = topo.TopologyData.from_layers(part).json
    (entry_part,) = set(cache.glob("*.npz")) - before
    entry_part.write_bytes(entry_whole.read_bytes())
    again = topo.TopologyData.from_layers(part).json
    assert again == own
    assert len(json.loads(again)["objects"]["desa"]["geometries"]) == 5
