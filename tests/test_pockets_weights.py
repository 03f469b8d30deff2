"""The pocket weights: libpysal's vectorised builder gives the neighbours of the older one.

``weights_for`` used libpysal's ``fuzzy_contiguity`` (a scan of every pair per desa) and measured
each island's distance to every desa: about 17 CPU-minutes on the national layer (344 islands at
2.8 s each). These tests hold the faster builder to the old one's neighbours on real layers.
"""

from __future__ import annotations

import io
import sys
import warnings
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import KALSEL_DESA, KAYONG_DESA, need

from povmap import pockets
from povmap._errors import PovmapInputError
from povmap._progress import session
from povmap.pockets import find_pockets, weights_for
from povmap.simplify import utm_crs


def _layer(path) -> gpd.GeoDataFrame:
    raw = gpd.read_file(need(path))
    return gpd.GeoDataFrame({"kode_desa": raw["kode"]}, geometry=raw.geometry.values, crs=raw.crs)


def _neighbours_the_old_way(gdf: gpd.GeoDataFrame, snap_m: float, k: int) -> tuple[dict, list]:
    """What ``weights_for`` computed before: libpysal's fuzzy_contiguity, then each island's
    ``k`` nearest desa by the distance to every desa (stable order); and the islands' rows."""
    from libpysal.weights import fuzzy_contiguity

    crs = utm_crs(gdf)
    projected = gpd.GeoDataFrame(geometry=gdf.geometry.to_crs(crs).make_valid().values, crs=crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fuzzy = fuzzy_contiguity(
            projected, buffering=snap_m > 0, buffer=snap_m / 2 or None, silence_warnings=True
        )
    neighbours = {i: set(fuzzy.neighbors[i]) for i in range(len(gdf))}
    geoms = projected.geometry.values
    islands = [i for i in range(len(gdf)) if not neighbours[i]]
    for i in islands:
        distance = shapely.distance(geoms[i], geoms)
        distance[i] = np.inf
        for j in np.argsort(distance, kind="stable")[:k]:
            neighbours[i].add(int(j))
            neighbours[int(j)].add(i)
    return {i: sorted(nb) for i, nb in neighbours.items()}, islands


@pytest.mark.parametrize(
    ("path", "snap_m", "k"),
    [(KAYONG_DESA, 50.0, 2), (KAYONG_DESA, 0.0, 3), (KALSEL_DESA, 50.0, 2)],
)
def test_same_neighbours_as_libpysal_fuzzy_contiguity(path, snap_m, k):
    gdf = _layer(path)
    weights = weights_for(gdf, snap_m, k_islands=k)
    old, islands = _neighbours_the_old_way(gdf, snap_m, k)
    assert len(islands) >= 1  # Kayong Utara's islands, Kotabaru's in Kalimantan Selatan
    assert {i: list(nb) for i, nb in weights.w.neighbors.items()} == old
    assert weights.islands == tuple(gdf["kode_desa"].iloc[islands])


def test_nearest_desa_of_an_island_by_outline_distance_ties_in_row_order():
    # Four unit squares in a row 3 m apart and one 10 m off: the island (row 4) is nearest to
    # rows 1 and 2 (both at 10 m: the tie goes to the earlier row), then row 0.
    squares = [shapely.box(x, 0, x + 1, 1) for x in (0, 4, 8, 12)]
    island = shapely.box(6, 11, 7, 12)  # 10 m above the gap between rows 1 and 2
    geoms = np.array([*squares, island])
    assert [list(a) for a in pockets._nearest(geoms, np.array([4]), 2)] == [[1, 2]]
    assert [list(a) for a in pockets._nearest(geoms, np.array([4]), 3)] == [[1, 2, 0]]
    # Further than the first radius (1 km): the radius grows until enough desa lie within it.
    far = np.array([shapely.box(0, 0, 1, 1), shapely.box(5000, 0, 5001, 1)])
    assert [list(a) for a in pockets._nearest(far, np.array([0, 1]), 2)] == [[1], [0]]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_weights_and_permutations_show_progress(monkeypatch):
    # The steps that take seconds to a minute nationally (83,403 desa) have a bar each.
    shown: list[str] = []
    real_step = pockets.step

    @contextmanager
    def recording(key, total=None, **fields):
        shown.append(key)
        with real_step(key, total, **fields) as advance:
            yield advance

    monkeypatch.setattr(pockets, "step", recording)
    monkeypatch.setattr(sys, "stderr", _Terminal())
    gdf = _layer(KAYONG_DESA)
    gdf["nilai"] = np.random.default_rng(1).random(len(gdf))
    with session("en"):
        find_pockets(gdf, "nilai", permutations=99)
    assert shown == [
        "progress.pockets_weights",
        "progress.pockets_test",
        "progress.pockets_regions",
    ]
    assert "Pocket permutation test (99 permutations per desa)" in sys.stderr.getvalue()


def test_no_library_warning_reaches_the_user():
    # esda warns that its p-values are directed, and Gi*'s fill_diagonal that the weights are
    # not fully connected (Kayong Utara's islands): povmap handles both (p-values doubled,
    # islands linked), so neither may surface.
    gdf = _layer(KAYONG_DESA)
    gdf["nilai"] = np.random.default_rng(2).random(len(gdf))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for method in ("moran", "getis_ord"):
            find_pockets(gdf, "nilai", method=method, permutations=99)
    assert [str(w.message) for w in caught] == []


def test_neighbours_are_read_from_the_cache_on_a_rerun(tmp_path, monkeypatch):
    # Nationally the weights take ~22 s; a rerun on the same layer reads them from the cache,
    # libpysal not asked again. A damaged entry is computed again; a moved desa is another entry.
    monkeypatch.setenv("POVMAP_CACHE_DIR", str(tmp_path))
    gdf = _layer(KAYONG_DESA)
    first = weights_for(gdf)
    (entry,) = tmp_path.glob("*.npz")
    with monkeypatch.context() as m:
        m.setattr(
            "libpysal.graph.Graph.build_fuzzy_contiguity",
            lambda *args, **kwargs: pytest.fail("computed again"),
        )
        again = weights_for(gdf)
    assert len(first.islands) >= 1
    assert again.w.neighbors == first.w.neighbors and again.islands == first.islands
    entry.write_bytes(b"not an archive")
    assert weights_for(gdf).w.neighbors == first.w.neighbors
    geoms = gdf.geometry.to_numpy().copy()
    geoms[0] = shapely.affinity.translate(geoms[0], xoff=0.5)
    moved = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    assert weights_for(moved).islands != first.islands  # the moved desa is now an island
    assert len(list(tmp_path.glob("*.npz"))) == 2


@pytest.mark.parametrize("shape", [None, shapely.Polygon()], ids=["missing", "empty"])
def test_a_desa_without_geometry_is_refused_by_name(shape):
    # Its search for the nearest desa never ended (the radius doubled for ever).
    gdf = _layer(KAYONG_DESA)
    geoms = gdf.geometry.to_numpy().copy()
    geoms[[5, 9]] = shape
    gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    with pytest.raises(PovmapInputError) as caught:
        weights_for(gdf)
    # The codes as text, not a Python list ("['61.11.01.2006', ...]").
    codes = ", ".join(gdf["kode_desa"].iloc[[5, 9]])
    assert str(caught.value) == f"Lapisan batas berisi geometri kosong (baris {codes}); hapus dulu."
