"""Rates, densities, and aggregation from desa to kecamatan (and kabupaten).

Rates of an aggregate are always recomputed from the summed counts, never averaged.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

# dissolve lives with the boundaries (join needs it too); re-exported as povmap.metrics.dissolve.
from .boundaries import dissolve
from .counts import COUNT_COLUMNS

__all__ = ["RATES", "add_rates", "aggregate", "dissolve", "summary"]

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
