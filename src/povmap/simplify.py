"""Simplify a desa layer for the web without opening gaps between neighbouring desa.

The shared boundary files are not clean coverages: each desa was simplified on its own, so
neighbours overlap a little and leave slivers between them. Simplifying each polygon separately
would widen those slivers into visible gaps. So we work on the layer as a *coverage*:

1. project to the local UTM zone, so every tolerance is in metres;
2. ``shapely.coverage_clean`` snaps nearby vertices, gives overlaps to one neighbour and fills
   narrow gaps, after which shared edges are exactly identical in both polygons;
3. ``shapely.coverage_simplify`` simplifies each shared edge once, so both sides move together;
4. back to WGS 84, coordinates rounded to what the map's zoom needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from . import _cache
from ._errors import PovmapInputError

#: Defaults measured on Kalimantan Selatan (2,008 desa): a valid coverage with no gaps.
SNAPPING_DISTANCE_M = 30.0
GAP_WIDTH_M = 60.0
#: 100 m is about 2-3 screen pixels at zoom 12, the closest a kabupaten map is usually read.
TOLERANCE_M = 100.0
#: 5 decimals of a degree is about 1 m on the ground, far below the tolerance.
DECIMALS = 5


@dataclass(frozen=True)
class CoverageCheck:
    """How well a layer tiles the plane.

    Attributes
    ----------
    valid_coverage
        No overlaps and identical shared edges (``shapely.coverage_is_valid``).
    invalid
        Polygons that are not valid geometries.
    holes
        Interior rings of the union of all polygons: gaps between desa (or true enclaves).
    hole_area_m2
        Their total area in m².
    """

    valid_coverage: bool
    invalid: int
    holes: int
    hole_area_m2: float


def utm_crs(gdf: gpd.GeoDataFrame) -> CRS:
    """The WGS 84 UTM zone of a layer's centre, as :meth:`geopandas.GeoDataFrame.estimate_utm_crs`
    gives it, without its query of the PROJ database (a tenth of a second each time).

    Parameters
    ----------
    gdf
        A layer with a CRS (any).

    Returns
    -------
    pyproj.CRS
        ``WGS 84 / UTM zone <n>N`` (EPSG:326nn) or ``S`` (EPSG:327nn, south of the equator)
        for the centre of the layer's bounds in longitude and latitude.

    Raises
    ------
    PovmapInputError
        The layer has no CRS.
    """
    if gdf.crs is None:
        raise PovmapInputError.from_catalogue("simplify.boundary_layer_no_crs")
    bounds = gdf.total_bounds
    if not gdf.crs.is_geographic:
        bounds = Transformer.from_crs(gdf.crs, 4326, always_xy=True).transform_bounds(*bounds)
    west, south, east, north = (float(b) for b in bounds)
    if west > east:  # across the antimeridian
        east += 360.0
    longitude = ((west + east) / 2 + 180.0) % 360.0 - 180.0
    zone = min(int((longitude + 180.0) // 6) + 1, 60)
    return CRS.from_epsg((32700 if (south + north) / 2 < 0 else 32600) + zone)


def clean_coverage(
    gdf: gpd.GeoDataFrame,
    *,
    snapping_distance: float = SNAPPING_DISTANCE_M,
    gap_width: float = GAP_WIDTH_M,
    crs: CRS | None = None,
) -> gpd.GeoDataFrame:
    """Turn a layer of neighbouring polygons into a clean coverage, in its local UTM zone.

    Parameters
    ----------
    gdf
        Polygons with a CRS (any), e.g. desa boundaries.
    snapping_distance
        Vertices closer than this (metres) are snapped together.
    gap_width
        Gaps narrower than this (metres) are merged into the neighbour with the longest border.
    crs
        The projected CRS (metres) to work in; by default the layer's UTM zone
        (:func:`utm_crs`).

    Returns
    -------
    A copy of ``gdf`` in ``crs`` whose polygons share identical edges and do not overlap.
    """
    _check_layer(gdf)
    projected = gdf.to_crs(crs or utm_crs(gdf))
    geoms = shapely.make_valid(projected.geometry.values)
    # make_valid may turn a bow-tie into a collection with stray lines: keep the polygonal part.
    geoms = np.array([_polygonal(g) for g in geoms], dtype=object)
    cleaned = shapely.coverage_clean(
        geoms, snapping_distance=snapping_distance, gap_width=gap_width
    )
    return projected.set_geometry(cleaned)


def simplify_coverage(
    gdf: gpd.GeoDataFrame,
    tolerance: float = TOLERANCE_M,
    *,
    decimals: int = DECIMALS,
    snapping_distance: float = SNAPPING_DISTANCE_M,
    gap_width: float = GAP_WIDTH_M,
    crs: CRS | None = None,
) -> gpd.GeoDataFrame:
    """Clean, simplify as a coverage and round a polygon layer for web maps.

    Cleaning takes most of a province map's time and depends only on the layer's geometries
    and these options: the simplified geometries are kept in povmap's cache
    (:mod:`povmap._cache`) under a key of the geometries (WKB and CRS), the options and this
    code, so a layer simplified again (a second map of the same file) takes them from there.
    Another geometry, order, CRS or option is another key.

    Parameters
    ----------
    gdf
        Polygons with a CRS, e.g. a joined desa layer (attributes are kept).
    tolerance
        Simplification tolerance in metres (``shapely.coverage_simplify``); 0 only cleans.
    decimals
        Decimals of the WGS 84 coordinates (5 = about 1 m).
    snapping_distance, gap_width, crs
        Passed to :func:`clean_coverage`.

    Returns
    -------
    A copy of ``gdf`` in EPSG:4326 whose polygons still tile without gaps or overlaps.

    Raises
    ------
    PovmapInputError
        The layer has no CRS, or a missing or empty geometry.
    """
    _check_layer(gdf)
    work = crs or utm_crs(gdf)
    geoms = np.asarray(gdf.geometry.values)
    options = [float(tolerance), int(decimals), float(snapping_distance), float(gap_width)]
    key = _cache.key(
        {},
        {"simplify_coverage": [*options, work.to_wkt()]},
        [__file__, _cache.__file__],
        _cache.geometry_data(geoms, gdf.crs),
    )

    def unpack(entry: dict[str, np.ndarray]) -> np.ndarray:
        if len(entry["wkb_ends"]) != len(geoms):
            raise ValueError("another layer's entry")
        return _cache.unpack_wkb(entry)

    simplified = _cache.computed(
        key,
        lambda: _simplified(gdf, tolerance, decimals, snapping_distance, gap_width, work),
        _cache.pack_wkb,
        unpack,
    )
    return gdf.set_geometry(simplified, crs=4326)


def web_coverage(
    gdf: gpd.GeoDataFrame, tolerance: float = TOLERANCE_M
) -> tuple[gpd.GeoDataFrame, CRS]:
    """The areas of a layer that can be drawn, simplified for a web map, and the UTM zone in
    which they were cleaned.

    Parameters
    ----------
    gdf
        A polygon layer with a CRS (any), e.g. a joined desa layer; rows without a geometry
        (missing or empty) are left out: they cannot be drawn.
    tolerance
        Simplification tolerance in metres (:func:`simplify_coverage`).

    Returns
    -------
    web : geopandas.GeoDataFrame
        The rows with a geometry, simplified (:func:`simplify_coverage`), in EPSG:4326.
    utm : pyproj.CRS
        Their UTM zone (:func:`utm_crs`): the metres of cleaning and of label sizes.

    Raises
    ------
    PovmapInputError
        The layer has no CRS.
    """
    drawable = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    utm = utm_crs(drawable)
    return simplify_coverage(drawable, tolerance, crs=utm), utm


def _simplified(
    gdf: gpd.GeoDataFrame,
    tolerance: float,
    decimals: int,
    snapping_distance: float,
    gap_width: float,
    crs: CRS,
) -> np.ndarray:
    """The geometries of :func:`simplify_coverage` (EPSG:4326), computed."""
    cleaned = clean_coverage(gdf, snapping_distance=snapping_distance, gap_width=gap_width, crs=crs)
    geoms = cleaned.geometry.values
    if tolerance > 0:
        geoms = shapely.coverage_simplify(geoms, tolerance)
    out = cleaned.set_geometry(geoms).to_crs(4326)
    # Rounding on a grid moves a shared vertex to the same place in both polygons, so shared
    # edges stay identical. Point by point (a tenth of the time of GEOS's validating mode); a
    # polygon that rounding made invalid (two of its edges closer than the grid) is rounded
    # again by the validating mode.
    grid = 10.0**-decimals
    unrounded = np.asarray(out.geometry.values)
    rounded = shapely.set_precision(unrounded, grid, mode="pointwise")
    broken = ~shapely.is_valid(rounded)
    if broken.any():
        rounded[broken] = shapely.set_precision(unrounded[broken], grid)
    # Never an empty geometry where the input had one: cleaning gives an overlap to one
    # neighbour, so a polygon stored twice (kept with --keep-duplicates) or lying inside another
    # would vanish. It keeps its own outline instead, unsimplified.
    lost = shapely.is_empty(rounded) | shapely.is_missing(rounded)
    if lost.any():
        own = shapely.make_valid(np.asarray(gdf.geometry.to_crs(4326).values)[lost])
        rounded[lost] = shapely.set_precision(
            np.array([_polygonal(g) for g in own], dtype=object), grid
        )
    return rounded


def check_coverage(gdf: gpd.GeoDataFrame) -> CoverageCheck:
    """Count overlaps, invalid polygons and gaps (holes in the union) of a polygon layer."""
    projected = gdf.to_crs(gdf.estimate_utm_crs()).geometry.values
    union = shapely.union_all(projected)
    rings = [ring for part in getattr(union, "geoms", [union]) for ring in part.interiors]
    return CoverageCheck(
        valid_coverage=bool(shapely.coverage_is_valid(projected)),
        invalid=int((~shapely.is_valid(projected)).sum()),
        holes=len(rings),
        hole_area_m2=float(sum(shapely.Polygon(r).area for r in rings)),
    )


def _check_layer(gdf: gpd.GeoDataFrame) -> None:
    """Refuse a layer without CRS, or with a missing or empty geometry."""
    if gdf.crs is None:
        raise PovmapInputError.from_catalogue("simplify.boundary_layer_no_crs")
    if gdf.geometry.isna().any() or gdf.geometry.is_empty.any():
        bad = ", ".join(map(str, gdf.index[gdf.geometry.isna() | gdf.geometry.is_empty][:5]))
        raise PovmapInputError.from_catalogue("simplify.boundary_layer_empty_geometries", bad=bad)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else geom
