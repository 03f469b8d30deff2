"""Rates, densities, and aggregation from desa to kecamatan (and kabupaten).

Rates of an aggregate are always recomputed from the summed counts, never averaged.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import PovmapInputError
from .boundaries import CANONICAL, EQUAL_AREA, boundary_level
from .codes import LEVELS
from .counts import COUNT_COLUMNS

#: Holes smaller than this (m²) left by a dissolve are slivers between desa, not enclaves.
SLIVER_HOLE_M2 = 200_000.0

#: Rate columns: name -> (numerator, denominator).
#: Desil shares are welfare ranks, not poverty rates.
RATES = {
    "persen_miskin_ekstrem": ("jumlah_miskin_ekstrem", "jumlah_penduduk"),
    **{f"persen_desil_{d}": (f"jumlah_desil_{d}", "jumlah_penduduk") for d in range(1, 11)},
}


def add_rates(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add percentages and the density of people in extreme poverty.

    ``persen_miskin_ekstrem`` = 100 × ``jumlah_miskin_ekstrem`` / ``jumlah_penduduk`` (NaN when the
    population is missing or zero), ``persen_desil_d`` likewise for desil counts, and
    ``kepadatan_miskin_ekstrem`` = people in extreme poverty per km² of ``luas_km2``.

    Returns
    -------
    A copy of ``gdf`` with the columns whose inputs are present.
    """
    out = gdf.copy()
    for rate, (numerator, denominator) in RATES.items():
        if numerator in out.columns and denominator in out.columns:
            population = out[denominator].where(out[denominator] > 0)
            out[rate] = 100.0 * out[numerator] / population
    if "jumlah_miskin_ekstrem" in out.columns and "luas_km2" in out.columns:
        out["kepadatan_miskin_ekstrem"] = out["jumlah_miskin_ekstrem"] / out["luas_km2"].where(
            out["luas_km2"] > 0
        )
    return _geometry_last(out)


def aggregate(gdf: gpd.GeoDataFrame, level: str = "kecamatan") -> gpd.GeoDataFrame:
    """Sum a joined desa layer up to ``level`` and recompute the rates from the sums.

    Geometry is dissolved from the desa (so outlines match the desa fill), with the sliver holes
    between desa removed. ``jumlah_desa`` counts the desa, ``jumlah_desa_tanpa_data`` those
    without a row in the counts table: an aggregate over incomplete desa is a lower bound.

    Returns
    -------
    One row per area at ``level``, with canonical columns, summed counts, ``luas_km2`` and rates.
    """
    out = dissolve(gdf, level)
    key = f"kode_{level}"
    counts = [c for c in COUNT_COLUMNS if c in gdf.columns]
    if counts:
        # min_count=1: an area whose desa all lack data stays NaN instead of a false 0.
        sums = gdf.groupby(key)[counts].sum(min_count=1)
        out = out.merge(sums, left_on=key, right_index=True, how="left")
    if "baris" in gdf.columns:
        missing = gdf["baris"].isna().groupby(gdf[key]).sum().rename("jumlah_desa_tanpa_data")
        out = out.merge(missing, left_on=key, right_index=True, how="left")
    return add_rates(out)


def dissolve(gdf: gpd.GeoDataFrame, level: str) -> gpd.GeoDataFrame:
    """Dissolve areas to ``level`` (kecamatan, kabupaten, provinsi), names and area kept."""
    own = boundary_level(gdf)
    if level not in LEVELS or LEVELS.index(level) >= LEVELS.index(own):
        raise PovmapInputError(f"Tidak dapat menggabungkan lapisan {own} ke level {level!r}.",
                               en=f"Cannot aggregate the {own} layer to level {level!r}.")
    key = f"kode_{level}"
    names = CANONICAL[level]
    grouped = gdf.groupby(key, sort=True)
    out = grouped[[c for c in names if c != key]].first()
    out["jumlah_desa" if own == "desa" else "jumlah_wilayah"] = grouped.size()
    out["luas_km2"] = grouped["luas_km2"].sum() if "luas_km2" in gdf.columns else np.nan
    geometry = gpd.GeoSeries(gdf.geometry.values, index=gdf[key].values, crs=gdf.crs)
    dissolved = geometry.groupby(level=0).agg(lambda s: shapely.union_all(s.values))
    out = gpd.GeoDataFrame(out.reset_index(), geometry=_drop_sliver_holes(
        gpd.GeoSeries(dissolved.loc[out.index].values, crs=gdf.crs)
    ).values, crs=gdf.crs)
    return out[[*names, *[c for c in out.columns if c not in names]]]


def _drop_sliver_holes(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Remove interior rings smaller than :data:`SLIVER_HOLE_M2`, measured in an equal-area CRS."""
    projected = geoms.to_crs(EQUAL_AREA)
    return gpd.GeoSeries(
        [_keep_large_holes(g, p) for g, p in zip(geoms.values, projected.values, strict=True)],
        crs=geoms.crs,
    )


def _keep_large_holes(geom, projected):
    if geom is None or geom.is_empty:
        return geom
    parts = getattr(geom, "geoms", [geom])
    projected_parts = getattr(projected, "geoms", [projected])
    polygons = []
    for part, ppart in zip(parts, projected_parts, strict=True):
        if part.geom_type != "Polygon":
            continue
        holes = [h for h, ph in zip(part.interiors, ppart.interiors, strict=True)
                 if shapely.Polygon(ph).area >= SLIVER_HOLE_M2]
        polygons.append(shapely.Polygon(part.exterior, holes))
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def _geometry_last(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    name = gdf.geometry.name
    return gdf[[c for c in gdf.columns if c != name] + [name]]


def summary(gdf: gpd.GeoDataFrame) -> pd.Series:
    """Totals of the count columns over the whole layer, with rates recomputed from them."""
    counts = [c for c in COUNT_COLUMNS if c in gdf.columns]
    totals = gdf[counts].sum(min_count=1)
    for rate, (numerator, denominator) in RATES.items():
        if numerator in totals and denominator in totals and totals[denominator] > 0:
            totals[rate] = 100.0 * totals[numerator] / totals[denominator]
    return totals
