"""Write layers for GIS and geoportals: GeoJSON (RFC 7946) and GeoPackage, each file atomically.

GeoJSON is written by povmap itself, as GDAL's driver writes it with ``RFC7946=YES`` (lon/lat
WGS84, no ``crs`` member, exterior rings counter-clockwise, at most ``precision`` decimals) but
several times faster on the national layer: vertices are snapped to the grid of the precision
(GEOS's pointwise rule, in numpy), checked with GEOS, wound and printed (orjson) a batch of
features at a time (:mod:`._geojson`), and the file is streamed. Rounding coordinates on output
alone can make a valid polygon self-intersect: the polygons that happens to are snap-rounded by
GEOS (``set_precision``) instead. The layer name is set explicitly so the temporary file name
never leaks into the GeoJSON ``name``. GeoPackage is GDAL's (pyogrio), a large one in 64 KiB
SQLite pages (:data:`GPKG_PRAGMA`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import orjson
import pyogrio
import shapely

from .._errors import PovmapInputError
from .._io import atomic_path
from .._messages import Text
from .._progress import step
from ..defaults import MAX_PRECISION, PRECISION
from ._geojson import feature_texts

WGS84 = "EPSG:4326"
CRS84 = "OGC:CRS84"


def check_precision(precision: int) -> int:
    """``precision`` if it is a usable number of coordinate decimals (0 to 15).

    Raises
    ------
    PovmapInputError
        For any other number, naming ``--precision``.
    """
    if not 0 <= precision <= MAX_PRECISION:
        raise PovmapInputError.from_catalogue(
            "writers.precision_choose_decimals", precision=precision, max_precision=MAX_PRECISION
        )
    return precision


def write_geojson(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    layer: str,
    precision: int = PRECISION,
    id_field: str | None = None,
    description: str | None = None,
) -> Path:
    """Write ``gdf`` as RFC 7946 GeoJSON (lon/lat WGS84, no ``crs`` member, CCW shells).

    The text is what GDAL's GeoJSON driver writes with ``RFC7946=YES`` (same members, same
    properties and types, coordinates with at most ``precision`` decimals, the GDAL 3.9
    ``xy_coordinate_resolution`` member), produced several times faster: coordinates are
    snapped and printed by numpy for a batch of features at once (:mod:`._geojson`), and the
    file is streamed batch by batch, so memory stays flat on the national layer. Positions are
    ``[lon, lat]``: a ``z`` is dropped.

    Parameters
    ----------
    gdf
        Layer to write; reprojected to EPSG:4326 if needed.
    path
        Output file.
    layer
        The FeatureCollection's ``name``.
    precision
        Decimals of coordinates (6 ≈ 0.1 m).
    id_field
        Column whose values become each feature's ``id`` (e.g. ``KDEPUM``, the Kemendagri
        code); it stays in the properties too. Values must be unique.
    description
        The FeatureCollection's ``description`` (e.g. the title).

    Returns
    -------
    pathlib.Path
        ``path``, written atomically (replaced only once complete).

    Raises
    ------
    PovmapInputError
        If ``precision`` is out of range or the ``id_field`` values are not unique and filled.
    """
    check_precision(precision)
    out = _for_output(gdf)
    if out.crs is not None and not out.crs.equals(WGS84):
        if out.crs.equals(CRS84):  # the same datum and the same lon/lat order GeoJSON writes
            out = out.set_crs(WGS84, allow_override=True)
        else:
            out = out.to_crs(WGS84)
    if id_field is not None:
        ids = out[id_field]
        duplicated = ids[ids.duplicated()].astype(str).unique()
        if len(duplicated) or ids.isna().any():
            raise PovmapInputError.from_catalogue(
                "writers.column_must_unique_filled",
                path=path,
                id_field=id_field,
                codes=Text(
                    ", ".join(duplicated[:5]) or "(kosong)", ", ".join(duplicated[:5]) or "(empty)"
                ),
            )
    head: dict[str, object] = {"type": "FeatureCollection", "name": layer}
    if description:
        head["description"] = description
    head["xy_coordinate_resolution"] = 10.0**-precision
    path = Path(path)
    with (
        atomic_path(path) as tmp,
        open(tmp, "wb") as file,
        step("progress.write", total=len(out), name=path.name) as advance,
    ):
        file.write(orjson.dumps(head)[:-1] + b',"features":[\n')
        for start in range(0, len(out), _BATCH):
            batch = out.iloc[start : start + _BATCH]
            if start:
                file.write(b",\n")
            file.write(b",\n".join(feature_texts(batch, precision, id_field)))
            advance(len(batch))
        file.write(b"\n]}\n")
    return path


#: Features formatted at once: large enough for numpy to pay, small enough for flat memory.
_BATCH = 5_000


def write_gpkg(
    layers: dict[str, gpd.GeoDataFrame],
    path: str | os.PathLike,
    *,
    descriptions: dict[str, str] | None = None,
    multi: bool = False,
) -> Path:
    """Write several layers (``{table name: frame}``) into one GeoPackage, atomically.

    Parameters
    ----------
    layers
        ``{table name: layer}``; each table keeps its layer's CRS (povmap's layers are in
        EPSG:4326). Columns starting with ``_`` are povmap's own and are left out; nullable
        integer counts stay integers.
    path
        The ``.gpkg`` file; replaced only once every table is written.
    descriptions
        ``{table name: text}`` for the GeoPackage's ``gpkg_contents``.
    multi
        Write every polygon as a MultiPolygon, so a table has one geometry type.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    PovmapInputError
        ``path`` cannot be written safely (locked by another run, a folder of that name, a full
        disk); the old file stays.
    """
    path = Path(path)
    vertices = sum(
        int(shapely.get_num_coordinates(g.geometry.values).sum()) for g in layers.values()
    )
    pragma = GPKG_PRAGMA if vertices >= LARGE_GPKG_VERTICES else None
    with atomic_path(path) as tmp, _sqlite_pragma(pragma):
        for name, gdf in layers.items():
            extra = {}
            if descriptions and name in descriptions:
                extra["DESCRIPTION"] = descriptions[name]
            with step("progress.write", total=len(gdf), name=f"{path.name}:{name}") as advance:
                pyogrio.write_dataframe(
                    _for_output(gdf),
                    tmp,
                    driver="GPKG",
                    layer=name,
                    promote_to_multi=multi or None,
                    **extra,
                )
                advance(len(gdf))
    return path


#: SQLite settings of povmap's large GeoPackages (:data:`LARGE_GPKG_VERTICES`). 64 KiB pages
#: (GDAL's default is 4 KiB) hold most desa polygons whole instead of chaining each over
#: overflow pages: the national layer's file is 11 % smaller (232 instead of 260 MB) and written
#: with a sixteenth of the page writes. The tables are the same; every SQLite reader (GDAL,
#: QGIS, sqlite3) reads any page size.
GPKG_PRAGMA = "page_size=65536"
#: From this many vertices in all layers a GeoPackage takes :data:`GPKG_PRAGMA`. Below, GDAL's
#: 4 KiB pages: each of a GeoPackage's dozen tables and indexes takes at least one page, which
#: makes a province's file larger in 64 KiB pages (Kalimantan Selatan, 0.18 M vertices: 5.3
#: instead of 4.2 MB). The national layer has 12.4 M (desa and kecamatan).
LARGE_GPKG_VERTICES = 1_000_000


@contextlib.contextmanager
def _sqlite_pragma(pragma: str | None) -> Iterator[None]:
    """GDAL's ``OGR_SQLITE_PRAGMA`` set to ``pragma`` for the block (None: left as it is), unless
    the user set one (their settings are theirs to keep), and put back afterwards."""
    if pragma is None or pyogrio.get_gdal_config_option(_PRAGMA_OPTION):
        yield
        return
    pyogrio.set_gdal_config_options({_PRAGMA_OPTION: pragma})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({_PRAGMA_OPTION: None})


_PRAGMA_OPTION = "OGR_SQLITE_PRAGMA"


def _for_output(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop povmap's private columns (leading underscore).

    Nullable integer columns stay integers (pyogrio writes their missing values as null), so a
    count is written ``355``, never ``355.0``.
    """
    return gdf[[c for c in gdf.columns if not str(c).startswith("_")]].copy()
