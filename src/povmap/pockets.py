"""Poverty pockets (kantong kemiskinan): local clusters of high rates, tested honestly.

The recipe, one small step each:

1. **Weights** (:func:`weights_for`): queen contiguity that tolerates the slivers and gaps of real
   desa layers (two desa are neighbours when their edges come within ``snap_m`` metres), and
   k-nearest-neighbour links for desa with no neighbour at all (small islands), so none vanishes.
2. **Smoothing**: a rate is first shrunk towards the overall rate with esda's empirical Bayes
   smoother, more so for desa with few people, so that a tiny desa with 3 of 20 people poor does
   not look like a pocket.
3. **Local statistic**: local Moran's I (high-high, high-low, ...) or Getis-Ord Gi* (hot/cold
   spots) from esda, with esda's conditional permutation test drawn from a fixed seed, so the
   same input gives byte-identical output (computed by :mod:`povmap._crand`, many desa at a
   time, with esda's numbers).
4. **Significance**: the pseudo p-values are corrected for testing every desa at once with the
   Benjamini-Hochberg false discovery rate (``q_value``, scipy's ``false_discovery_control``),
   unless ``fdr=False``.
5. **Pockets**: significant high-high desa that are neighbours form one pocket (``id_kantong``
   ``K01``, ``K02`` ..., numbered by the number of poor people in them); their union is the pocket
   region.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import PovmapInputError
from ._messages import Text, text
from ._progress import step
from .boundaries import AREA_COLUMNS
from .classify import Classified, layer_frame
from .defaults import ALPHA, PERMUTATIONS, SEED, SNAP_M
from .i18n import check_lang, format_number, label, number_text, percent_text
from .metrics import RATES
from .simplify import utm_crs

# esda, libpysal and scipy.stats take seconds to import (scipy's distributions, sklearn): they are
# imported where a pocket analysis runs, not by every command that only carries a Pockets along.
if TYPE_CHECKING:
    from libpysal.weights import W

METHODS = ("moran", "getis_ord")

#: Cluster types (``jenis_kantong``), in legend order.
JENIS = (
    "kantong",
    "pencilan_tinggi",
    "dingin",
    "pencilan_rendah",
    "tidak_signifikan",
    "tanpa_geometri",
    "tanpa_data",
)

#: The types of desa that were not tested: data but no shape to find neighbours with, or no data.
UNTESTED = ("tanpa_geometri", "tanpa_data")

#: The types a pockets file and the priority table put first: where the poor are concentrated.
FLAGGED = ("kantong", "pencilan_tinggi")

# esda's local Moran quadrants (geoda_quads=False): 1 HH, 2 LH, 3 LL, 4 HL.
_QUADRANT = {1: "kantong", 2: "pencilan_rendah", 3: "dingin", 4: "pencilan_tinggi"}

#: The area columns a pockets table carries, desa up to kabupaten (a kabupaten's pockets).
_NAME_COLUMNS = AREA_COLUMNS[:6]


@dataclass(frozen=True)
class Weights:
    """Spatial weights of a desa layer, row ``i`` of the layer being id ``i`` of ``w``.

    Attributes
    ----------
    w
        Binary libpysal weights (ids ``0 .. n-1``), symmetric, no desa without a neighbour.
    kode
        ``kode_desa`` of each id.
    islands
        ``kode_desa`` of the desa that had no neighbour within ``snap_m`` and were linked to their
        ``k_islands`` nearest desa instead.
    snap_m
        Largest gap (metres) between two desa still counted as a shared border.
    k_islands
        Number of nearest desa each island was linked to.
    crs
        The projected (UTM) CRS the distances were measured in.
    """

    w: W
    kode: tuple[str, ...]
    islands: tuple[str, ...]
    snap_m: float
    k_islands: int
    crs: object

    @property
    def n_islands(self) -> int:
        """How many island desa were linked by nearest neighbours."""
        return len(self.islands)


def weights_for(gdf: gpd.GeoDataFrame, snap_m: float = SNAP_M, *, k_islands: int = 2) -> Weights:
    """Queen contiguity with a snapping tolerance, and nearest-neighbour links for islands.

    Each desa is buffered by ``snap_m / 2`` in a local UTM projection and two desa are neighbours
    when their buffers intersect (libpysal ``Graph.build_fuzzy_contiguity``): shared edges, shared
    corners (queen), and edges that were digitised apart by up to ``snap_m`` metres all count. A
    desa with no neighbour then (an island) is linked, both ways, to the ``k_islands`` desa nearest
    to its outline (equal distances: the earlier row first). The national layer (83,403 desa, 344
    islands) takes about 25 CPU-seconds, mostly the projection, the buffers and the index query;
    the neighbours are then kept in povmap's cache (:mod:`povmap._cache`, keyed by the
    geometries, ``snap_m``, ``k_islands`` and this code), and a rerun on the same layer reads
    them (about a second nationally, most of it hashing the geometries).

    Parameters
    ----------
    gdf
        Desa layer with ``kode_desa`` and non-empty geometries, in any CRS.
    snap_m
        Gap tolerance in metres.
    k_islands
        Neighbours given to each island.

    Returns
    -------
    The weights, with the islands that were handled.

    Raises
    ------
    PovmapInputError
        ``snap_m`` below 0 or ``k_islands`` below 1, fewer than 2 desa, or a desa without a
        geometry (missing or empty: it has no neighbours to find).
    """
    if snap_m < 0 or k_islands < 1:
        raise PovmapInputError.from_catalogue(
            "pockets.snap_islands_snap_must", snap_m=snap_m, k_islands=k_islands
        )
    if len(gdf) < 2:
        raise PovmapInputError.from_catalogue("pockets.only_desa_spatial_weights", n_gdf=len(gdf))
    missing = (gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    if missing.any():  # no neighbour to find: the search for its nearest desa would never end
        bad = ", ".join(gdf["kode_desa"].astype(str).to_numpy()[missing][:5])
        raise PovmapInputError.from_catalogue("simplify.boundary_layer_empty_geometries", bad=bad)
    from libpysal.weights import W

    from . import _cache

    crs = utm_crs(gdf)
    key = _cache.key(
        {},
        {"pockets_weights": [float(snap_m), int(k_islands), crs.to_wkt()]},
        [__file__, _cache.__file__],
        _cache.geometry_data(gdf.geometry.values, gdf.crs),
    )

    def unpack(entry: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        pairs, islands = entry["pairs"].astype(np.intp), entry["islands"].astype(np.intp)
        rows = np.concatenate([pairs.ravel(), islands])  # empty: ValueError from min
        if pairs.shape[1:] != (2,) or not 0 <= rows.min() <= rows.max() < len(gdf):
            raise ValueError("another layer's entry")
        return pairs, islands

    pairs, islands = _cache.computed(
        key,
        lambda: _neighbour_pairs(gdf, crs, snap_m, k_islands),
        lambda found: {"pairs": found[0].astype(np.int32), "islands": found[1].astype(np.int32)},
        unpack,
    )
    split = np.searchsorted(pairs[:, 0], np.arange(1, len(gdf)))
    neighbours = dict(enumerate(a.tolist() for a in np.split(pairs[:, 1], split)))
    w = W(neighbours, silence_warnings=True)
    kode = tuple(gdf["kode_desa"].astype(str))
    return Weights(
        w=w,
        kode=kode,
        islands=tuple(kode[i] for i in islands),
        snap_m=float(snap_m),
        k_islands=k_islands,
        crs=crs,
    )


def _neighbour_pairs(
    gdf: gpd.GeoDataFrame, crs: object, snap_m: float, k_islands: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`weights_for`'s neighbours: the ``(head, tail)`` row pairs, sorted and without
    repeats, and the rows of the islands."""
    from libpysal.graph import Graph

    geoms = gdf.geometry.to_crs(crs).make_valid().values
    with step("progress.pockets_weights", n=number_text(len(gdf))), warnings.catch_warnings():
        # libpysal warns about islands and components (both handled and reported below);
        # neither is the user's business.
        warnings.simplefilter("ignore")
        # libpysal's vectorised builder: the same buffers and the same "intersects" query of a
        # spatial index as its older fuzzy_contiguity, so the same neighbours, without that one's
        # scan of every pair per desa (minutes for a national layer).
        graph = Graph.build_fuzzy_contiguity(
            gpd.GeoSeries(geoms, crs=crs), buffer=snap_m / 2 if snap_m > 0 else None
        )
    sparse = graph.sparse.tocsr()
    sparse.setdiag(0)  # an island is its own neighbour with weight 0 in a Graph
    sparse.eliminate_zeros()
    islands = np.flatnonzero(np.diff(sparse.indptr) == 0)
    heads, tails = sparse.nonzero()
    links = [(heads, tails)]
    for i, nearest in zip(islands, _nearest(geoms, islands, k_islands), strict=True):
        links += [(np.full(len(nearest), i), nearest), (nearest, np.full(len(nearest), i))]
    heads, tails = (np.concatenate(side) for side in zip(*links, strict=True))
    # Each desa's neighbours, sorted and without repeats (an island's nearest desa can be an
    # island too, linked from both sides).
    pairs = np.unique(np.column_stack([heads, tails]), axis=0)
    return pairs, islands


def _nearest(geoms: np.ndarray, islands: np.ndarray, k: int) -> list[np.ndarray]:
    """The ``k`` desa nearest to each island's outline (itself excluded), nearest first, equal
    distances in row order.

    The same as sorting every desa by its distance to the island, but only the desa within a
    radius are measured: the radius doubles (from 1 km) until ``k`` of them lie within it, and
    every desa further away is further than those. A spatial index finds them; measuring the
    distance from each island to all 83,403 desa of a national layer took minutes.
    """
    if not len(islands):
        return []
    tree = shapely.STRtree(geoms)
    k = min(k, len(geoms) - 1)
    found: list[np.ndarray] = []
    for i in islands:
        radius = 1000.0
        while True:
            near = tree.query(geoms[i], predicate="dwithin", distance=radius)
            near = np.sort(near[near != i])
            if len(near) >= k or len(near) == len(geoms) - 1:
                break
            radius *= 2
        distance = shapely.distance(geoms[i], geoms[near])
        found.append(near[np.argsort(distance, kind="stable")[:k]])
    return found


@dataclass(frozen=True)
class Pockets:
    """What :func:`find_pockets` found.

    Attributes
    ----------
    desa
        Every desa of the input, one row each, in input order, with ``kode_desa``, the names, the
        counts, the rate, ``nilai_eb`` (the smoothed value that was tested), ``statistik`` (local
        Moran's I or Gi*), ``p_value`` (two-sided pseudo p-value of the permutation test),
        ``q_value`` (Benjamini-Hochberg adjusted; equal to ``p_value`` when ``fdr=False``),
        ``signifikan``,
        ``jenis_kantong`` (one of :data:`JENIS`), ``label_kantong`` (its legend text) and
        ``id_kantong`` (``K01`` ... for desa in a pocket, else empty). EPSG:4326.
    wilayah
        One row per pocket, the union of its desa: ``id_kantong``, ``jenis_kantong``,
        ``label_kantong``, ``jumlah_desa``, ``daftar_kecamatan``, ``daftar_kabupaten``, summed
        counts and the rate recomputed from them, ``luas_km2``. Ordered by ``id_kantong``.
    peringkat
        Priority table of the analysed desa (no geometry): desa in a pocket or high outliers
        first, then by number of poor people and by rate, with ``prioritas``,
        ``peringkat_jumlah``, ``peringkat_persen`` and the pocket each belongs to.
    weights
        The spatial weights used (see :class:`Weights`).
    method, column, alpha, fdr, permutations, seed
        The options used.
    smoothed
        Whether the value was smoothed by empirical Bayes (only rates with their counts are).
    """

    desa: gpd.GeoDataFrame
    wilayah: gpd.GeoDataFrame
    peringkat: pd.DataFrame
    weights: Weights
    method: str
    column: str
    alpha: float
    fdr: bool
    permutations: int
    seed: int
    smoothed: bool

    @property
    def flagged(self) -> gpd.GeoDataFrame:
        """The desa in a pocket or poor among better-off neighbours: what a pockets file holds."""
        return self.desa[self.desa["jenis_kantong"].isin(FLAGGED)]

    @property
    def fdr_minimum(self) -> int:
        """How many desa must be significant together before the FDR correction lets one through.

        The smallest two-sided p-value is ``2 / (permutations + 1)``; Benjamini-Hochberg accepts
        it only among at least ``p * n / alpha`` discoveries. 1 without the correction.
        """
        if not self.fdr:
            return 1
        smallest = 2 / (self.permutations + 1)
        return max(1, math.ceil(round(smallest * len(self.weights.kode) / self.alpha, 9)))

    def summary(self, lang: str = "id") -> str:
        """Pockets, desa in them, outliers, islands linked; and a note when too few permutations
        keep the FDR correction from finding small pockets at all."""
        check_lang(lang)
        counts = self.desa["jenis_kantong"].value_counts()
        values = {key: int(counts.get(key, 0)) for key in JENIS} | {
            "pockets": len(self.wilayah),
            "islands": self.weights.n_islands,
            "needed": self.fdr_minimum,
            "permutations": self.permutations,
        }
        shown = {key: format_number(value, lang=lang) for key, value in values.items()}
        # The findings; desa with data but no geometry, which could not be tested; and a note
        # when too few permutations keep the FDR correction from finding small pockets.
        return (
            text("pockets.summary", lang, **shown)
            + (text("pockets.untested", lang, **shown) if counts.get("tanpa_geometri") else "")
            + (text("pockets.few_permutations", lang, **shown) if self.fdr_minimum > 10 else "")
        )


def find_pockets(
    gdf: gpd.GeoDataFrame | Classified,
    column: str = "persen_miskin_ekstrem",
    *,
    method: str = "moran",
    alpha: float = ALPHA,
    fdr: bool = True,
    permutations: int = PERMUTATIONS,
    seed: int = SEED,
    snap_m: float = SNAP_M,
    k_islands: int = 2,
    lang: str = "id",
) -> Pockets:
    """Find poverty pockets and high outliers in a joined desa layer with rates.

    Parameters
    ----------
    gdf
        Desa layer with ``kode_desa`` and ``column``, e.g. ``povmap.run(...).layers["desa"]`` or
        ``povmap.add_rates(povmap.join(...).joined)``. Desa without a value (no row in the counts
        table, no population) are not tested and get ``jenis_kantong = "tanpa_data"``; desa with
        data but no geometry are not tested either and get ``"tanpa_geometri"``. Both stay in
        :attr:`Pockets.desa`, and in the priority table when they have counts. The
        :class:`~povmap.classify.Classified` from :func:`povmap.classify` is taken too (its
        ``.gdf``).
    column
        The value tested. A rate from :data:`povmap.metrics.RATES` whose counts are present is
        smoothed by empirical Bayes first; any other column is tested as it is.
    method
        ``"moran"`` (local Moran's I: pockets, high and low outliers, cold spots) or
        ``"getis_ord"`` (Gi*, the desa itself included: pockets and cold spots only).
    alpha
        Significance level (of the false discovery rate when ``fdr``).
    fdr
        Correct for testing every desa at once (Benjamini-Hochberg). Without it about ``alpha``
        of the desa look significant even when the rates have no pattern at all.
    permutations
        Conditional permutations per desa. The smallest two-sided p-value is
        ``2 / (permutations + 1)``; the FDR correction needs it well below ``alpha / n``
        times the number of true pockets, so keep 9999 for a province-sized layer.
    seed
        Seed of the permutations: the same input and seed give the same result.
    snap_m, k_islands
        See :func:`weights_for`.
    lang
        Language of ``label_kantong``.

    Returns
    -------
    The per-desa layer, the pocket regions and the priority table (see :class:`Pockets`).

    Raises
    ------
    PovmapInputError
        For a layer that is neither a GeoDataFrame nor a ``Classified``, bad options (no CRS,
        no ``kode_desa``, no ``column``, unknown ``method``, ``alpha`` outside (0, 1), too few
        ``permutations``, unknown ``lang``), fewer than 3 desa with a value and a geometry,
        or values that do not vary (before or after smoothing): no pocket can be tested then.
    """
    gdf = layer_frame(gdf, "find_pockets")
    _check_options(gdf, column, method, alpha, permutations, lang)
    value, raw, smoothed = _tested_value(gdf, column)
    has_value = np.isfinite(value)
    has_shape = ~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    usable = has_value & has_shape
    _check_testable(column, raw, has_value, usable)
    y = value[usable]
    if np.ptp(y) == 0:
        raise PovmapInputError.from_catalogue("pockets.column_every_desa_same", column=column)
    weights = weights_for(gdf[usable], snap_m, k_islands=k_islands)
    with step("progress.pockets_test", permutations=number_text(permutations)):
        statistic, p_value, jenis = _local_test(y, weights.w, method, permutations, seed)
    q_value = benjamini_hochberg(p_value) if fdr else p_value
    significant = q_value <= alpha
    jenis = np.where(significant, jenis, "tidak_signifikan")
    pocket_id = _pocket_ids(weights.w, jenis, gdf[usable], column)

    shapeless = ~has_shape & (has_value | _has_counts(gdf, column))
    desa = _desa_layer(
        gdf,
        column,
        usable,
        shapeless,
        {
            "nilai_eb": y,
            "statistik": statistic,
            "p_value": p_value,
            "q_value": q_value,
            "signifikan": significant,
            "jenis_kantong": jenis,
            "id_kantong": pocket_id,
        },
        lang,
    )
    return Pockets(
        desa=desa,
        wilayah=_regions(desa, column, weights, lang),
        peringkat=_ranking(desa, column),
        weights=weights,
        method=method,
        column=column,
        alpha=alpha,
        fdr=fdr,
        permutations=permutations,
        seed=seed,
        smoothed=smoothed,
    )


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values): reject where ``q <= alpha``.

    Equivalent to comparing each p-value with esda's ``fdr(p, alpha)`` cut-off, but gives every
    desa its own number, which a table can show.

    Parameters
    ----------
    p_values
        One p-value per test, in [0, 1].

    Returns
    -------
    The q-values, in the same order (scipy's ``false_discovery_control(p, method="bh")``).

    Examples
    --------
    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5])).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    """
    from scipy.stats import false_discovery_control

    return false_discovery_control(np.asarray(p_values, dtype=float), method="bh")


def _check_testable(
    column: str, raw: np.ndarray, has_value: np.ndarray, usable: np.ndarray
) -> None:
    """Stop, saying what is really wrong, when no pocket can be tested."""
    if has_value.sum() < 3:
        raise PovmapInputError.from_catalogue(
            "pockets.column_only_desa_value", column=column, n_value=int(has_value.sum())
        )
    if usable.sum() < 3:
        raise PovmapInputError.from_catalogue(
            "pockets.column_desa_value_but",
            column=column,
            n_value=int(has_value.sum()),
            n_usable=int(usable.sum()),
        )
    tested = raw[usable]
    if np.ptp(tested) == 0:
        # A count of people is whole: 7, not 7,00; a density keeps its decimals.
        value = float(tested[0])
        shown = (
            percent_text(value)
            if column in RATES
            else number_text(value, 0 if value.is_integer() else 2)
        )
        raise PovmapInputError.from_catalogue(
            "pockets.column_all_desa_same",
            column=column,
            n=number_text(int(usable.sum())),
            shown=shown,
        )


def _has_counts(gdf: gpd.GeoDataFrame, column: str) -> np.ndarray:
    """Whether each desa has the count behind ``column`` (or ``column`` itself)."""
    numerator = RATES.get(column, (column,))[0]
    source = numerator if numerator in gdf.columns else column
    return pd.to_numeric(gdf[source], errors="coerce").notna().to_numpy()


def _check_options(
    gdf: gpd.GeoDataFrame, column: str, method: str, alpha: float, permutations: int, lang: str
) -> None:
    check_lang(lang)
    if gdf.crs is None:
        raise PovmapInputError.from_catalogue("pockets.desa_layer_no_crs")
    if "kode_desa" not in gdf.columns:
        raise PovmapInputError.from_catalogue("pockets.layer_no_kode_desa")
    if column not in gdf.columns:
        raise PovmapInputError.from_catalogue(
            "pockets.column_not_desa_layer", column=column, columns=", ".join(map(str, gdf.columns))
        )
    if method not in METHODS:
        raise PovmapInputError.from_catalogue(
            "pockets.method_unknown_choose",
            method=method,
            methods=Text(" atau ".join(METHODS), " or ".join(METHODS)),
        )
    if not 0 < alpha < 1:
        raise PovmapInputError.from_catalogue("pockets.alpha_significance_level_must", alpha=alpha)
    if permutations < 99:
        raise PovmapInputError.from_catalogue(
            "pockets.permutations_least_recommended", permutations=permutations
        )


def _tested_value(gdf: gpd.GeoDataFrame, column: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """The value to test per desa (NaN where unusable), the value before smoothing, and whether
    it was smoothed."""
    numerator, denominator = RATES.get(column, (None, None))
    if numerator not in gdf.columns or denominator not in gdf.columns:
        value = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=float)
        return value, value, False
    events = pd.to_numeric(gdf[numerator], errors="coerce").to_numpy(dtype=float)
    base = pd.to_numeric(gdf[denominator], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(events) & np.isfinite(base) & (base > 0) & (events >= 0)
    value, unsmoothed = np.full(len(gdf), np.nan), np.full(len(gdf), np.nan)
    raw = events[ok] / base[ok]
    unsmoothed[ok] = 100.0 * raw
    if ok.sum() >= 2 and np.ptp(raw) > 0:  # equal rates: nothing to smooth (esda divides by 0)
        from esda.smoothing import Empirical_Bayes

        # Rates are in percent like the column; esda smooths proportions.
        smoothed = Empirical_Bayes(events[ok], base[ok]).r.ravel()
        mean = events[ok].sum() / base[ok].sum()
        # When the rates vary less than chance alone would make them, esda's prior variance is
        # negative and its weights push rates *across* the mean; empirical Bayes then means
        # full shrinkage: every desa at the overall rate, i.e. nothing to find.
        if np.any((smoothed - mean) * (raw - mean) < 0):
            smoothed = np.full(len(raw), mean)
        value[ok] = 100.0 * smoothed
    else:
        value[ok] = unsmoothed[ok]
    return value, unsmoothed, True


def _local_test(
    y: np.ndarray, w: W, method: str, permutations: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Statistic, pseudo p-value and cluster type (before significance) per desa."""
    import esda
    from libpysal.weights import W, fill_diagonal

    from ._crand import crand

    # esda computes the statistic (permutations=0); the permutation test is esda's own, with
    # its draws and numbers, computed many desa at a time (see povmap._crand: esda's copies the
    # whole layer per desa, most of a national run). The seeded draws make reruns identical.
    # esda row-standardises the weights it is given in place: give it a copy.
    w = W(w.neighbors, silence_warnings=True)
    with warnings.catch_warnings():
        # Gi*'s fill_diagonal warns "not fully connected", but islands are already linked.
        warnings.filterwarnings("ignore", message=".*not fully connected", category=UserWarning)
        if method == "moran":
            lisa = esda.Moran_Local(y, w, transformation="r", permutations=0)
            p_sim = crand(lisa.z, lisa.w, lisa.Is, permutations, "moran", seed=seed)
            return (
                lisa.Is,
                _two_sided(p_sim, permutations),
                np.vectorize(_QUADRANT.get, otypes=[object])(lisa.q),
            )
        # Gi*: the desa itself counts as one of its neighbours (weight 1 before row-standardising).
        gi = esda.G_Local(y, fill_diagonal(w, 1.0), transform="R", permutations=0, star=None)
    p_sim = crand(gi.y, gi.w, gi.Gs, permutations, "g_star", seed=seed, scaling=gi.y.sum())
    hot_or_cold = np.where(gi.Zs > 0, "kantong", "dingin").astype(object)
    return gi.Gs, _two_sided(p_sim, permutations), hot_or_cold


def _two_sided(p_directed: np.ndarray, permutations: int) -> np.ndarray:
    """Two-sided p-value from esda's directed pseudo p-value: twice the smaller tail, at most 1.

    esda counts the permutations at least as extreme *in the direction the statistic fell*; a
    desa can be a pocket or an outlier, so both directions are tested and the tail is doubled.
    esda stores ``(count + 1) / (permutations + 1)`` as float32: the count is recovered first so
    that the p-values written out are exact (0.0062, not 0.006200000178).
    """
    tail = np.rint(np.asarray(p_directed, dtype=float) * (permutations + 1))
    return np.minimum(1.0, 2.0 * tail / (permutations + 1))


def _pocket_ids(w: W, jenis: np.ndarray, analysed: gpd.GeoDataFrame, column: str) -> np.ndarray:
    """``K01``, ``K02`` ... for groups of neighbouring pocket desa, largest (most poor) first."""
    members = np.flatnonzero(jenis == "kantong")
    ids = np.full(len(jenis), None, dtype=object)
    if not len(members):
        return ids
    from scipy.sparse.csgraph import connected_components

    sub = w.sparse.tocsr()[members][:, members]
    _, component = connected_components(sub, directed=False)
    numerator = RATES.get(column, (None,))[0]
    weight = (
        pd.to_numeric(analysed[numerator], errors="coerce").fillna(0).to_numpy()
        if numerator in analysed.columns
        else np.ones(len(analysed))
    )
    kode = analysed["kode_desa"].astype(str).to_numpy()
    groups = pd.DataFrame(
        {"component": component, "weight": weight[members], "kode": kode[members]}
    ).groupby("component")
    order = pd.DataFrame(
        {"weight": groups["weight"].sum(), "size": groups.size(), "first": groups["kode"].min()}
    )
    order = order.sort_values(
        ["weight", "size", "first"], ascending=[False, False, True], kind="stable"
    )
    width = max(2, len(str(len(order))))
    names = {c: f"K{rank:0{width}d}" for rank, c in enumerate(order.index, start=1)}
    ids[members] = [names[c] for c in component]
    return ids


def _desa_layer(
    gdf: gpd.GeoDataFrame,
    column: str,
    usable: np.ndarray,
    shapeless: np.ndarray,
    results: dict,
    lang: str,
) -> gpd.GeoDataFrame:
    numerator, denominator = RATES.get(column, (None, None))
    keep = [
        c
        for c in (*_NAME_COLUMNS, numerator, denominator, column)
        if c is not None and c in gdf.columns
    ]
    out = pd.DataFrame(gdf[keep]).reset_index(drop=True)
    rows = np.flatnonzero(usable)
    for name, values in results.items():
        out[name] = pd.Series(values, index=rows).reindex(range(len(gdf)))
    out["jenis_kantong"] = out["jenis_kantong"].fillna("tanpa_data")
    out.loc[shapeless, "jenis_kantong"] = "tanpa_geometri"
    out["signifikan"] = out["signifikan"].fillna(False).astype(bool)
    out["label_kantong"] = [label(f"kantong:{j}", lang) for j in out["jenis_kantong"]]
    ordered = [
        *keep,
        "nilai_eb",
        "statistik",
        "p_value",
        "q_value",
        "signifikan",
        "jenis_kantong",
        "label_kantong",
        "id_kantong",
    ]
    return gpd.GeoDataFrame(
        out[ordered], geometry=gdf.geometry.to_crs("EPSG:4326").values, crs="EPSG:4326"
    )


def _regions(desa: gpd.GeoDataFrame, column: str, weights: Weights, lang: str) -> gpd.GeoDataFrame:
    """Dissolve the desa of each pocket; gaps narrower than ``snap_m`` between them are closed."""
    numerator, denominator = RATES.get(column, (None, None))
    sums = [c for c in (numerator, denominator) if c is not None and c in desa.columns]
    members = desa[desa["id_kantong"].notna()].sort_values("kode_desa", kind="stable")
    half = weights.snap_m / 2
    rows, geoms = [], []
    with step("progress.pockets_regions", total=members["id_kantong"].nunique()) as advance:
        for pocket, group in members.groupby("id_kantong", sort=True):
            projected = group.geometry.to_crs(weights.crs).make_valid()
            # Closing (grow, union, shrink) fills the slivers between neighbouring desa.
            merged = shapely.union_all(projected.buffer(half, join_style="mitre").values)
            geoms.append(shapely.make_valid(merged.buffer(-half, join_style="mitre")))
            row = {
                "id_kantong": pocket,
                "jenis_kantong": "kantong",
                "label_kantong": label("kantong:kantong", lang),
                "jumlah_desa": len(group),
                "daftar_kecamatan": _distinct(group, "nama_kecamatan"),
                "daftar_kabupaten": _distinct(group, "nama_kabupaten"),
            }
            row.update({c: group[c].sum(min_count=1) for c in sums})
            if len(sums) == 2:
                numerator, denominator = sums  # both present
                share = row[numerator] / row[denominator] if row[denominator] else np.nan
                row[column] = 100.0 * share
            rows.append(row)
            advance(1)
    columns = [
        "id_kantong",
        "jenis_kantong",
        "label_kantong",
        "jumlah_desa",
        "daftar_kecamatan",
        "daftar_kabupaten",
        *sums,
        *([column] if len(sums) == 2 else []),
    ]
    regions = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=columns), geometry=gpd.GeoSeries(geoms, crs=weights.crs)
    )
    regions["luas_km2"] = regions.geometry.area / 1e6
    return regions.to_crs("EPSG:4326")


def _distinct(group: pd.DataFrame, column: str) -> str | None:
    if column not in group.columns:
        return None
    return ", ".join(sorted(group[column].dropna().astype(str).unique()))


def _ranking(desa: gpd.GeoDataFrame, column: str) -> pd.DataFrame:
    """Every desa tested or with counts, flagged ones first, then by count of poor people and by
    rate; untested ones say why in ``jenis_kantong`` (``tanpa_geometri``, ``tanpa_data``)."""
    numerator = RATES.get(column, (None,))[0]
    numerator = numerator if numerator in desa.columns else None
    table = pd.DataFrame(desa.drop(columns=desa.geometry.name))
    counted = table[numerator or column].notna()
    table = table[(~table["jenis_kantong"].isin(UNTESTED)) | counted].copy()
    if numerator:
        table["peringkat_jumlah"] = table[numerator].rank(method="min", ascending=False)
    table["peringkat_persen"] = table[column].rank(method="min", ascending=False)
    table["_flagged"] = table["jenis_kantong"].isin(FLAGGED)
    keys = ["_flagged", *([numerator] if numerator else []), column, "kode_desa"]
    table = table.sort_values(
        keys, ascending=[False, *([False] if numerator else []), False, True], kind="stable"
    )
    table.insert(0, "prioritas", np.arange(1, len(table) + 1))
    rank_columns = [c for c in ("peringkat_jumlah", "peringkat_persen") if c in table.columns]
    for c in rank_columns:
        table[c] = table[c].astype("Int64")  # empty for a desa with counts but no rate
    first = [
        "prioritas",
        *[c for c in _NAME_COLUMNS if c in table.columns],
        "jenis_kantong",
        "label_kantong",
        "id_kantong",
        *rank_columns,
    ]
    rest = [c for c in table.columns if c not in first and c not in ("_flagged", "signifikan")]
    return table[first + rest].reset_index(drop=True)
