"""Write layers for GIS and geoportals: GeoJSON (RFC 7946) and GeoPackage, each file atomically.

GDAL does the GeoJSON work it does well: with ``RFC7946=YES`` it writes lon/lat WGS84 without a
``crs`` member and winds exterior rings counter-clockwise; ``COORDINATE_PRECISION`` limits the
decimals. Geometries are snapped to that same grid with GEOS first (``set_precision``), because
rounding coordinates on output alone can make a valid polygon self-intersect. The layer name is
set explicitly so the temporary file name never leaks into the GeoJSON ``name``.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pyogrio

from .._errors import PovmapInputError
from .._io import atomic_path
from .._messages import Text
from ..defaults import MAX_PRECISION, PRECISION

WGS84 = "EPSG:4326"
#: Temporary column GDAL turns into the feature ``id`` (GDAL removes it from the properties).
_ID_COLUMN = "__povmap_id__"


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


def write_geojson(gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, layer: str,
                  precision: int = PRECISION, id_field: str | None = None,
                  description: str | None = None) -> Path:
    """Write ``gdf`` as RFC 7946 GeoJSON (lon/lat WGS84, no ``crs`` member, CCW shells).

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
    """
    check_precision(precision)
    out = _snap(_for_output(gdf).to_crs(WGS84), precision)
    options = {"RFC7946": "YES", "COORDINATE_PRECISION": precision, "WRITE_NAME": "YES"}
    if id_field is not None:
        ids = out[id_field]
        duplicated = ids[ids.duplicated()].astype(str).unique()
        if len(duplicated) or ids.isna().any():
            raise PovmapInputError.from_catalogue(
                "writers.column_must_unique_filled", path=path, id_field=id_field,
                codes=Text(", ".join(duplicated[:5]) or "(kosong)",
                           ", ".join(duplicated[:5]) or "(empty)")
            )
        out.insert(0, _ID_COLUMN, ids.astype(str))
        options["ID_FIELD"] = _ID_COLUMN
    if description:
        options["DESCRIPTION"] = description
    path = Path(path)
    with atomic_path(path) as tmp:
        pyogrio.write_dataframe(out, tmp, driver="GeoJSON", layer=layer, **options)
    return path


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: str | os.PathLike, *,
               descriptions: dict[str, str] | None = None, multi: bool = False) -> Path:
    """Write several layers (``{table name: frame}``) into one GeoPackage, atomically.

    ``descriptions`` (``{table name: text}``) go into the GeoPackage's ``gpkg_contents``;
    ``multi`` writes every polygon as a MultiPolygon, so a table has one geometry type.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            extra = {}
            if descriptions and name in descriptions:
                extra["DESCRIPTION"] = descriptions[name]
            pyogrio.write_dataframe(_for_output(gdf), tmp, driver="GPKG", layer=name,
                                    promote_to_multi=multi or None, **extra)
    return path


def _for_output(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop povmap's private columns (leading underscore).

    Nullable integer columns stay integers (pyogrio writes their missing values as null), so a
    count is written ``355``, never ``355.0``.
    """
    return gdf[[c for c in gdf.columns if not str(c).startswith("_")]].copy()


def _snap(gdf: gpd.GeoDataFrame, precision: int) -> gpd.GeoDataFrame:
    """Snap coordinates to a ``10**-precision`` grid, keeping every polygon valid (GEOS)."""
    out = gdf.copy()
    out[out.geometry.name] = out.geometry.set_precision(10.0 ** -precision)
    return out
