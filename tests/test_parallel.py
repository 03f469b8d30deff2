"""The boundary check on all cores (issue 15): threads give exactly the serial results.

``povmap._parallel.map_chunks`` runs shapely's GEOS functions (which release the GIL) on chunks
of an array in threads. Each geometry's result depends on it alone, so the outputs must be the
serial ones bit for bit: the same overlaps, areas, repaired geometries and kecamatan unions
(compared as WKB). The serial reference is the same code with ``map_chunks`` replaced by one
plain call of the function on the whole array (what ``read_boundaries`` did before).
"""

from __future__ import annotations

import os
import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import HSS_DESA, KALSEL_DESA, KAYONG_DESA, LAHAT_DESA, invoke, make_counts, need
from test_overlap_screen import planted

import povmap
from povmap import _parallel, boundaries
from povmap._errors import PovmapInputError
from povmap._parallel import chunk_positions, map_chunks


def _one_call(func, arrays, *, done=None, **_):
    """``map_chunks`` as the serial code was: one call on the whole arrays, in this thread."""
    out = func(*arrays)
    if done is not None:
        done(len(arrays[0]))
    return out


def _wkb(geoms) -> list[bytes | None]:
    return list(shapely.to_wkb(np.asarray(geoms, dtype=object)))


def _read(path, cache, monkeypatch):
    """The layer read with an empty boundary cache (the cold path: checked, outlines stored)."""
    monkeypatch.setenv("POVMAP_CACHE_DIR", str(cache))
    layer = povmap.read_boundaries(path)
    assert layer.source.cache == "disimpan"
    outlines = layer.outlines
    assert outlines is not None and outlines.final is not None
    return layer, _wkb(outlines.geometry.values), _wkb(outlines.final.values)


@pytest.fixture
def planted_kalsel(tmp_path) -> str:
    """Kalimantan Selatan with overlaps, duplicates and one self-crossing desa planted."""
    path = planted(KALSEL_DESA, tmp_path)
    raw = gpd.read_file(path)
    x0, y0, x1, y1 = raw.geometry.iloc[5].bounds
    raw.loc[5, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # a bow-tie
    raw.to_file(path)
    return path


def test_read_boundaries_on_all_cores_equals_the_serial_read(planted_kalsel, monkeypatch, tmp_path):
    monkeypatch.setenv("POVMAP_THREADS", "3")
    monkeypatch.setattr(boundaries, "_PAIRS", 700)  # many chunks of pairs on 2,008 desa
    ran_in: set[str] = set()
    intersection_areas = boundaries._intersection_areas

    def spied(a, b):
        ran_in.add(threading.current_thread().name)
        return intersection_areas(a, b)

    monkeypatch.setattr(boundaries, "_intersection_areas", spied)
    threaded, unions, final = _read(planted_kalsel, tmp_path / "threads", monkeypatch)
    assert len(ran_in) > 1 and all(name.startswith("povmap") for name in ran_in)

    monkeypatch.setattr(boundaries, "map_chunks", _one_call)
    serial, serial_unions, serial_final = _read(planted_kalsel, tmp_path / "serial", monkeypatch)

    assert threaded.source.overlaps == serial.source.overlaps
    assert len(serial.source.overlaps) >= 5  # what was planted is there to compare
    assert threaded.source.duplicates == serial.source.duplicates
    assert threaded.source.repaired == serial.source.repaired != []
    assert _wkb(threaded.gdf.geometry.values) == _wkb(serial.gdf.geometry.values)
    np.testing.assert_array_equal(threaded.gdf["luas_km2"], serial.gdf["luas_km2"])
    assert unions == serial_unions
    assert final == serial_final


def test_kabupaten_dissolve_on_all_cores_equals_the_serial_one(monkeypatch):
    monkeypatch.setenv("POVMAP_THREADS", "4")
    layer = povmap.read_boundaries(need(LAHAT_DESA)).gdf  # two desa repaired on reading
    threaded = boundaries.dissolve(layer, "kabupaten")
    kecamatan = boundaries.dissolve(layer, "kecamatan")
    monkeypatch.setattr(boundaries, "map_chunks", _one_call)
    assert _wkb(threaded.geometry) == _wkb(boundaries.dissolve(layer, "kabupaten").geometry)
    assert _wkb(kecamatan.geometry) == _wkb(boundaries.dissolve(layer, "kecamatan").geometry)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_a_failing_chunk_of_pairs_alone_is_measured_on_the_grid(threads, monkeypatch):
    # GEOS may fail on nearly coincident edges: that chunk (and only it) is redone on a 1 m grid,
    # whichever thread ran it, and also without threads.
    monkeypatch.setenv("POVMAP_THREADS", threads)
    monkeypatch.setattr(boundaries, "_PAIRS", 100)
    geoms = gpd.read_file(need(HSS_DESA)).to_crs(boundaries.EQUAL_AREA).geometry.values
    geoms = np.asarray(geoms, dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms)
    left, right = left[left < right], right[left < right]
    assert len(left) > 300
    poison = geoms[left[150]]  # in the second chunk of 100 pairs
    exact_intersection = shapely.intersection

    def fragile(a, b, grid_size=None, **kwargs):
        if grid_size is None and any(g is poison for g in np.atleast_1d(a)):
            raise shapely.errors.GEOSException("TopologyException: side location conflict")
        return exact_intersection(a, b, grid_size=grid_size, **kwargs)

    monkeypatch.setattr(shapely, "intersection", fragile)
    shared = boundaries._shared_areas(geoms, left, right, None)
    monkeypatch.setattr(shapely, "intersection", exact_intersection)
    exact = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    gridded = shapely.area(shapely.intersection(geoms[left], geoms[right], grid_size=1.0))
    failing = np.zeros(len(left), dtype=bool)
    for start in range(0, len(left), 100):
        chunk = slice(start, start + 100)
        failing[chunk] = any(g is poison for g in geoms[left[chunk]])
    assert failing[150] and failing.sum() <= 200
    np.testing.assert_array_equal(shared[failing], gridded[failing])
    np.testing.assert_array_equal(shared[~failing], exact[~failing])
    assert not np.array_equal(shared, exact)  # the grid did change the failing chunk's areas


def test_map_chunks_keeps_order_reports_progress_here_and_raises(monkeypatch):
    monkeypatch.setenv("POVMAP_THREADS", "4")
    values = np.arange(1000.0)
    seen: list[tuple[int, int]] = []
    here = threading.get_ident()
    out = map_chunks(
        np.sqrt, (values,), weights=values, done=lambda n: seen.append((n, threading.get_ident()))
    )
    np.testing.assert_array_equal(out, np.sqrt(values))
    assert sum(n for n, _ in seen) == 1000 and len(seen) > 1
    assert {ident for _, ident in seen} == {here}

    def broken(chunk):
        if 500 in chunk:
            raise shapely.errors.GEOSException("boom")
        return chunk

    with pytest.raises(shapely.errors.GEOSException, match="boom"):
        map_chunks(broken, (values,))
    assert map_chunks(np.sqrt, (np.array([]),)).shape == (0,)


@pytest.mark.parametrize("weights", [None, "vertices"])
def test_chunks_hold_every_position_once_and_balance_the_cost(weights):
    geoms = np.asarray(gpd.read_file(need(KALSEL_DESA)).geometry.values, dtype=object)
    cost = shapely.get_num_coordinates(geoms) if weights else None
    chunks = chunk_positions(len(geoms), 16, weights=cost)
    positions = np.concatenate([np.arange(len(geoms))[c] for c in chunks])
    assert sorted(positions.tolist()) == list(range(len(geoms)))
    assert len(chunks) == 16
    if cost is not None:
        totals = [cost[c].sum() + len(cost[c]) for c in chunks]
        assert max(totals) <= 1.1 * np.sum(cost + 1) / 16 + cost.max()
        assert cost[chunks[0]].max() == cost.max()  # the costliest first
    assert [len(range(*c.indices(10))) for c in chunk_positions(10, 4, size=3)] == [3, 3, 3, 1]
    # The caller's runs kept as they are, the costliest given out first.
    costs = np.array([0, 0, 0, 5, 5, 5, 1, 1, 1, 9])
    assert chunk_positions(10, 4, size=3, weights=costs) == [
        slice(3, 6),
        slice(9, 10),
        slice(6, 9),
        slice(0, 3),
    ]


def test_threads_from_the_environment(monkeypatch):
    monkeypatch.delenv("POVMAP_THREADS", raising=False)
    assert _parallel.threads() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("POVMAP_THREADS", " 3 ")
    assert _parallel.threads() == 3
    for wrong in ("0", "-2", "dua", "1.5"):
        monkeypatch.setenv("POVMAP_THREADS", wrong)
        with pytest.raises(PovmapInputError, match=f"POVMAP_THREADS={wrong}") as caught:
            _parallel.threads()
        assert "POVMAP_THREADS=2" in caught.value.message("en")


def test_cli_says_what_is_wrong_with_povmap_threads(monkeypatch, tmp_path):
    raw = gpd.read_file(need(HSS_DESA))
    counts = tmp_path / "counts.csv"
    make_counts(raw).to_csv(counts, index=False)
    monkeypatch.setenv("POVMAP_THREADS", "semua")
    code, output = invoke("join", HSS_DESA, counts, "-o", tmp_path / "joined.geojson")
    assert code == 1
    assert "POVMAP_THREADS=semua" in output and "bilangan bulat" in output
    assert not (tmp_path / "joined.geojson").exists()


def test_label_circles_on_all_cores_are_the_serial_ones(monkeypatch):
    """The map's label points (largest inscribed circles, computed in chunks on all cores) are
    those of one call on the whole layer."""
    need(KALSEL_DESA)
    from povmap.render import layers

    web = gpd.read_file(KALSEL_DESA).head(400)
    monkeypatch.setenv("POVMAP_THREADS", "2")
    chunked = layers.label_points(web, "nama")
    monkeypatch.setattr(layers, "map_chunks", _one_call)
    assert chunked == layers.label_points(web, "nama")
    assert len(chunked) == 400


def test_a_kecamatan_with_a_densified_desa_is_united_without_the_slow_buffer(monkeypatch):
    """A desa of 60,000 vertices along straight runs (a densified boundary) is united with
    union_all, where the zero-width buffer slows down far more than linearly; the outline is
    the same area as the buffer's, and the other kecamatan still go through the buffer."""
    need(KAYONG_DESA)
    kayong = gpd.read_file(KAYONG_DESA)
    first = kayong.geometry.iloc[0]
    kayong.loc[kayong.index[0], "geometry"] = shapely.segmentize(
        first, max_segment_length=first.length / 60_000
    )
    geoms = boundaries._equal_area(kayong.geometry)
    codes = kayong["kode_kec"].to_numpy()
    index = pd.Index(pd.unique(codes))
    group = index.get_indexer(codes)
    dense_group = group[0]
    united = []
    union_all = shapely.union_all
    monkeypatch.setattr(
        shapely,
        "union_all",
        lambda parts, **kw: united.append(len(parts)) or union_all(parts, **kw),
    )
    fast = boundaries._unions(geoms, group, len(index))
    # Only the dense kecamatan, all its polygons at once.
    assert united == [int(shapely.get_num_geometries(geoms[group == dense_group]).sum())]
    monkeypatch.setattr(boundaries, "_DENSE_PART_VERTICES", 10**9)
    buffered = boundaries._unions(geoms, group, len(index))
    assert len(united) == 1
    assert np.allclose(shapely.area(fast), shapely.area(buffered), rtol=1e-9)
    others = np.arange(len(index)) != dense_group
    assert shapely.equals_identical(fast[others], buffered[others]).all()
