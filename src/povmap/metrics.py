"""Rates, densities, and aggregation from desa to kecamatan (and kabupaten).

Rates of an aggregate are always recomputed from summed counts, never averaged, and only over the
desa that have both the numerator and the denominator: a desa with a population but a blank
count ("-") must not lower the kecamatan rate. Aggregates say how many desa they rest on.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

# dissolve lives with the boundaries (join needs it too); re-exported as povmap.metrics.dissolve.
from .boundaries import Outlines, dissolve
from .classify import Classified, layer_frame
from .counts import COUNT_COLUMNS

__all__ = ["RATES", "add_rates", "aggregate", "dissolve", "summary"]

#: Rate columns: name -> (numerator, denominator).
#: Desil shares are welfare ranks, not poverty rates.
RATES = {
    "persen_miskin_ekstrem": ("jumlah_miskin_ekstrem", "jumlah_penduduk"),
    **{f"persen_desil_{d}": (f"jumlah_desil_{d}", "jumlah_penduduk") for d in range(1, 11)},
}
#: Density columns: name -> (numerator, area).
DENSITIES = {"kepadatan_miskin_ekstrem": ("jumlah_miskin_ekstrem", "luas_km2")}
#: The value whose desa with data an aggregate counts, unless told another one.
DEFAULT_VALUE = "persen_miskin_ekstrem"


def value_inputs(column: str) -> tuple[str, ...]:
    """The desa columns a value is computed from: a rate's numerator and denominator, a
    density's count and area, or a count itself.

    Examples
    --------
    >>> value_inputs("persen_miskin_ekstrem")
    ('jumlah_miskin_ekstrem', 'jumlah_penduduk')
    >>> value_inputs("jumlah_desil_1")
    ('jumlah_desil_1',)
    """
    return RATES.get(column) or DENSITIES.get(column) or (column,)


def has_data(gdf: pd.DataFrame, column: str = DEFAULT_VALUE) -> pd.Series:
    """Whether each area has every input of ``column`` (see :func:`value_inputs`), boolean.

    When the layer has none of those inputs (a table without population, say), an area has data
    when it has any count.
    """
    inputs = [c for c in value_inputs(column) if c in gdf.columns]
    if inputs:
        return gdf[inputs].notna().all(axis=1)
    counts = [c for c in COUNT_COLUMNS if c in gdf.columns]
    return gdf[counts].notna().any(axis=1) if counts else pd.Series(False, index=gdf.index)


def add_rates(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add percentages and the density of people in extreme poverty.

    ``persen_miskin_ekstrem`` = 100 × ``jumlah_miskin_ekstrem`` / ``jumlah_penduduk`` (NaN when the
    population is missing or zero), ``persen_desil_d`` likewise for desil counts, and
    ``kepadatan_miskin_ekstrem`` = people in extreme poverty per km² of ``luas_km2``.

    Parameters
    ----------
    gdf
        A joined layer (:func:`povmap.join`) with the count columns (``jumlah_miskin_ekstrem``
        and ``jumlah_penduduk`` in jiwa, ``jumlah_desil_1`` ... ``jumlah_desil_10``) and
        ``luas_km2`` (km², computed in EPSG:6933 by :func:`povmap.read_boundaries`), any CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``gdf`` with the columns whose inputs are present: ``persen_miskin_ekstrem``
        and ``persen_desil_d`` (%), ``kepadatan_miskin_ekstrem`` (jiwa/km²); geometry last.
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


def aggregate(
    gdf: gpd.GeoDataFrame | Classified,
    level: str = "kecamatan",
    *,
    column: str = DEFAULT_VALUE,
    outlines: Outlines | None = None,
) -> gpd.GeoDataFrame:
    """Sum a joined desa layer up to ``level``; rates only over desa with both of their values.

    Geometry is dissolved from the desa (so outlines match the desa fill), with the sliver holes
    between desa removed.

    Parameters
    ----------
    gdf
        Joined desa layer (:func:`povmap.join`, canonical columns, counts may be missing), or
        the :class:`~povmap.classify.Classified` that :func:`povmap.classify` made of it (its
        ``.gdf`` is summed; the classes are not carried over).
    level
        ``kecamatan``, ``kabupaten`` or ``provinsi``.
    column
        The value mapped: ``desa_berdata`` counts the desa that have every input of it (for
        ``persen_miskin_ekstrem``: ``jumlah_miskin_ekstrem`` and ``jumlah_penduduk``).
    outlines
        ``read_boundaries(...).outlines``: the kecamatan unions computed while reading the
        layer; the dissolve uses them when ``gdf`` holds exactly the areas they were built from
        (see :func:`povmap.boundaries.dissolve`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per area at ``level`` (CRS of ``gdf``), with canonical columns, ``luas_km2`` and:

        - each count column: the sum over the desa that have that count (NaN when none has);
        - each rate (``persen_*``, %) = 100 × sum(numerator) / sum(denominator) over the desa
          that have both; ``kepadatan_miskin_ekstrem`` (per km²) likewise over the desa with a
          count (their area);
        - ``jumlah_desa`` (N): desa in the area; ``desa_berdata`` (n): desa with every input of
          ``column``; ``jumlah_desa_tanpa_data`` = N − n (no row, or a blank count or
          population);
        - ``jumlah_sebagian``: 1 when some count sum of the area leaves out a desa (no row, or a
          blank in that column), so those sums are lower bounds; 0 when every sum is complete.

    Raises
    ------
    PovmapInputError
        ``gdf`` is neither a GeoDataFrame nor a ``Classified``; or ``level`` is not a level
        above the layer's own (``kecamatan`` < ``kabupaten`` < ``provinsi``).
    """
    gdf = layer_frame(gdf, "aggregate")
    out = dissolve(gdf, level, outlines=outlines)
    table = aggregate_values(gdf, level, column=column)
    out = out.merge(table, left_on=f"kode_{level}", right_index=True, how="left")
    return _geometry_last(out)


def aggregate_values(
    gdf: pd.DataFrame, level: str = "kecamatan", *, column: str = DEFAULT_VALUE
) -> pd.DataFrame:
    """The values of :func:`aggregate` without the outlines: nothing is dissolved.

    For a map that draws the areas from outlines it already has (the national map dissolves
    kabupaten from the simplified kecamatan, far faster than from the desa).

    Parameters
    ----------
    gdf
        Joined desa layer (a DataFrame is enough: geometry is not used).
    level
        ``kecamatan``, ``kabupaten`` or ``provinsi``; ``gdf`` must have ``kode_<level>``.
    column
        The value mapped (see :func:`aggregate`).

    Returns
    -------
    pandas.DataFrame
        One row per area, indexed by ``kode_<level>``: the count sums, rates, ``desa_berdata``,
        ``jumlah_desa_tanpa_data`` and ``jumlah_sebagian`` of :func:`aggregate`.
    """
    key = f"kode_{level}"
    groups = gdf[key]
    counts = [c for c in COUNT_COLUMNS if c in gdf.columns]
    # Every sum is taken from one grouping of the areas' codes (made once: 83,403 codes
    # nationally), by position: the columns of ``work`` are 0, 1, 2 ... (no name can clash).
    summed: list[pd.Series] = [gdf[c] for c in counts]
    quotients = []
    for rate, (numerator, denominator) in {**RATES, **DENSITIES}.items():
        if numerator in gdf.columns and denominator in gdf.columns:
            both = gdf[numerator].notna() & gdf[denominator].notna()
            quotients.append((rate, len(summed), len(summed) + 1))
            summed += [gdf[numerator].where(both), gdf[denominator].where(both)]
    flags = [gdf[counts].isna().any(axis=1)] if counts else []
    berdata = has_data(gdf, column)
    columns = [*summed, *flags, berdata]
    work = pd.DataFrame({i: c.array for i, c in enumerate(columns)}, index=gdf.index)
    grouped = work.groupby(groups)
    found: dict[str, pd.Series] = {}
    # min_count=1: an area whose desa all lack data stays NaN instead of a false 0.
    sums = grouped[list(range(len(summed)))].sum(min_count=1)
    found.update((c, sums[i]) for i, c in enumerate(counts))
    if counts:
        found["jumlah_sebagian"] = grouped[len(summed)].any()
    for rate, top, bottom in quotients:
        found[rate] = (
            (100.0 if rate in RATES else 1.0) * sums[top] / sums[bottom].where(sums[bottom] > 0)
        )
    desa_berdata = grouped[work.columns[-1]].sum()
    found["desa_berdata"] = desa_berdata
    found["jumlah_desa_tanpa_data"] = grouped.size() - desa_berdata
    table = pd.DataFrame(found)
    table["jumlah_sebagian"] = table.get("jumlah_sebagian", False)
    table = table.astype(
        {"desa_berdata": int, "jumlah_desa_tanpa_data": int, "jumlah_sebagian": int}
    )
    return table


def _geometry_last(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    name = gdf.geometry.name
    return gdf[[c for c in gdf.columns if c != name] + [name]]


def summary(gdf: gpd.GeoDataFrame) -> pd.Series:
    """Totals of the count columns over the whole layer (each over the areas that have it), with
    rates recomputed from the areas that have both their numerator and their denominator."""
    counts = [c for c in COUNT_COLUMNS if c in gdf.columns]
    totals = gdf[counts].sum(min_count=1)
    for rate, (numerator, denominator) in RATES.items():
        if numerator in gdf.columns and denominator in gdf.columns:
            both = gdf[numerator].notna() & gdf[denominator].notna()
            bottom = gdf.loc[both, denominator].sum()
            if bottom > 0:
                totals[rate] = 100.0 * gdf.loc[both, numerator].sum() / bottom
    return totals
