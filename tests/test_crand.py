"""povmap._crand: esda's conditional permutation test, many desa at a time, with esda's numbers.

Every test runs the same test through esda itself and asserts the same arrays, not close ones:
esda's pseudo p-values (``p_sim``), and the statistic, quadrant and two-sided p-value that
povmap's pockets take from them. Real layers: Kalimantan Selatan (2,008 desa), Kayong Utara
(islands, once linked as povmap links them and once left without neighbours) and Lahat.
"""

from __future__ import annotations

import esda
import geopandas as gpd
import numpy as np
import pytest
from conftest import KALSEL_DESA, KAYONG_DESA, LAHAT_DESA, make_counts, need
from esda.crand import crand as esda_crand
from esda.moran import _moran_local_crand
from esda.smoothing import Empirical_Bayes
from libpysal.weights import W, fill_diagonal

from povmap import _crand
from povmap._crand import crand
from povmap.pockets import _QUADRANT, _local_test, _two_sided, weights_for

PERMUTATIONS = 9999
SEED = 20240


@pytest.fixture(scope="module", params=[KALSEL_DESA, KAYONG_DESA, LAHAT_DESA])
def layer(request):
    """A real desa layer, its neighbours as povmap builds them, and the islands' rows."""
    gdf = gpd.read_file(need(request.param))
    gdf["kode_desa"] = gdf["kode"]
    weights = weights_for(gdf)
    islands = [weights.kode.index(k) for k in weights.islands]
    return gdf, weights.w.neighbors, islands


def _values(gdf: gpd.GeoDataFrame, kind: str) -> np.ndarray:
    """Smoothed rates as pockets test them, or whole percents: many ties, within and between
    neighbourhoods."""
    counts = make_counts(gdf, seed=7)
    rate = Empirical_Bayes(counts["jumlah_miskin_ekstrem"], counts["jumlah_penduduk"]).r.ravel()
    return 100 * rate if kind == "smoothed" else np.round(100 * rate)


def _without_links(neighbours: dict, islands: list[int]) -> dict:
    """The neighbours before povmap linked the islands to their nearest desa."""
    cut = set(islands)
    return {i: [] if i in cut else [j for j in nb if j not in cut] for i, nb in neighbours.items()}


def _w(neighbours: dict) -> W:
    return W(neighbours, silence_warnings=True)


@pytest.mark.filterwarnings("ignore:The alternative hypothesis")
@pytest.mark.parametrize("kind", ["smoothed", "ties"])
@pytest.mark.parametrize("linked", [True, False], ids=["islands_linked", "islands_alone"])
def test_moran_p_values_are_esdas(layer, kind, linked):
    gdf, neighbours, islands = layer
    if not linked:
        if not islands:
            pytest.skip("no islands in this layer")
        neighbours = _without_links(neighbours, islands)
    y = _values(gdf, kind)
    esdas = esda.Moran_Local(
        y, _w(neighbours), permutations=PERMUTATIONS, seed=SEED, n_jobs=1, keep_simulations=False
    )
    lisa = esda.Moran_Local(y, _w(neighbours), permutations=0)
    p_sim = crand(lisa.z, lisa.w, lisa.Is, PERMUTATIONS, "moran", seed=SEED)
    assert p_sim.dtype == esdas.p_sim.dtype == np.float32
    assert np.array_equal(p_sim, esdas.p_sim)
    # Not a trivial agreement: the p-values spread, some desa are significant.
    assert len(np.unique(p_sim)) > len(p_sim) // 3 and (p_sim < 0.05).any()
    # What pockets reads: the statistic, the two-sided p-value and the quadrant, all esda's.
    statistic, p_value, jenis = _local_test(y, _w(neighbours), "moran", PERMUTATIONS, SEED)
    assert np.array_equal(statistic, esdas.Is)
    assert np.array_equal(p_value, _two_sided(esdas.p_sim, PERMUTATIONS))
    assert list(jenis) == [_QUADRANT[q] for q in esdas.q]


@pytest.mark.filterwarnings("ignore:The alternative hypothesis")
@pytest.mark.filterwarnings("ignore:The weights matrix is not fully connected")
@pytest.mark.parametrize("linked", [True, False], ids=["islands_linked", "islands_alone"])
def test_getis_ord_p_values_are_esdas(layer, linked):
    gdf, neighbours, islands = layer
    if not linked:
        if not islands:
            pytest.skip("no islands in this layer")
        neighbours = _without_links(neighbours, islands)
    y = _values(gdf, "ties")
    esdas = esda.G_Local(
        y,
        fill_diagonal(_w(neighbours), 1.0),
        transform="R",
        permutations=PERMUTATIONS,
        star=None,
        seed=SEED,
        n_jobs=1,
        keep_simulations=False,
    )
    gi = esda.G_Local(
        y, fill_diagonal(_w(neighbours), 1.0), transform="R", permutations=0, star=None
    )
    p_sim = crand(gi.y, gi.w, gi.Gs, PERMUTATIONS, "g_star", seed=SEED, scaling=gi.y.sum())
    assert np.array_equal(p_sim, esdas.p_sim)
    statistic, p_value, jenis = _local_test(y, _w(neighbours), "getis_ord", PERMUTATIONS, SEED)
    assert np.array_equal(statistic, esdas.Gs)
    assert np.array_equal(p_value, _two_sided(esdas.p_sim, PERMUTATIONS))
    assert list(jenis) == ["kantong" if z > 0 else "dingin" for z in esdas.Zs]


@pytest.mark.filterwarnings("ignore:The alternative hypothesis")
def test_values_that_are_not_numbers_and_a_layer_of_islands_as_esda(layer):
    """A missing value (no ordering of the statistics to rely on) and no neighbours at all."""
    gdf, neighbours, _ = layer
    w = _w(neighbours)
    w.transform = "r"
    z = _values(gdf, "smoothed")
    z[[3, len(z) // 2]] = np.nan
    observed = np.random.default_rng(1).normal(size=len(z))
    expected, _ = esda_crand(
        z, w, observed, 999, False, 1, _moran_local_crand, seed=SEED, alternative="directed"
    )
    assert np.array_equal(crand(z, w, observed, 999, "moran", seed=SEED), expected)
    alone = _w({i: [] for i in range(len(z))})
    expected, _ = esda_crand(
        z, alone, observed, 999, False, 1, _moran_local_crand, seed=SEED, alternative="directed"
    )
    assert np.array_equal(crand(z, alone, observed, 999, "moran", seed=SEED), expected)


@pytest.mark.filterwarnings("ignore:The alternative hypothesis")
def test_draws_of_a_large_layer_are_kept_in_the_cache(tmp_path, monkeypatch):
    """A second run takes esda's draws from the cache (esda is not asked again); a damaged
    entry is drawn again. The p-values are esda's each time."""
    gdf = gpd.read_file(need(KAYONG_DESA))
    gdf["kode_desa"] = gdf["kode"]
    neighbours = weights_for(gdf).w.neighbors
    y = _values(gdf, "ties")
    esdas = esda.Moran_Local(
        y, _w(neighbours), permutations=999, seed=SEED, n_jobs=1, keep_simulations=False
    )
    lisa = esda.Moran_Local(y, _w(neighbours), permutations=0)
    monkeypatch.setenv("POVMAP_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_crand, "CACHED_FROM", len(gdf))  # Kayong Utara counts as large

    def p_sim():
        return crand(lisa.z, lisa.w, lisa.Is, 999, "moran", seed=SEED)

    assert np.array_equal(p_sim(), esdas.p_sim)
    (entry,) = tmp_path.glob("*.npz")
    with monkeypatch.context() as m:
        m.setattr("esda.crand.vec_permutations", lambda *args: pytest.fail("drawn again"))
        assert np.array_equal(p_sim(), esdas.p_sim)
    entry.write_bytes(b"not an archive")
    assert np.array_equal(p_sim(), esdas.p_sim)
    assert len(list(tmp_path.glob("*.npz"))) == 1 and entry.stat().st_size > 999 * 4
    # Another seed is another entry, with esda's draws for that seed.
    other = crand(lisa.z, lisa.w, lisa.Is, 999, "moran", seed=SEED + 1)
    expected = esda.Moran_Local(
        y, _w(neighbours), permutations=999, seed=SEED + 1, n_jobs=1, keep_simulations=False
    )
    assert np.array_equal(other, expected.p_sim) and len(list(tmp_path.glob("*.npz"))) == 2
