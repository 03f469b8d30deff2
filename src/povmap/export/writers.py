"""Write layers for GIS and geoportals: GeoJSON (RFC 7946) and GeoPackage, each file atomically.

GeoJSON is written by povmap itself, as GDAL's driver writes it with ``RFC7946=YES`` (lon/lat
WGS84, no ``crs`` member, exterior rings counter-clockwise, at most ``precision`` decimals) but
several times faster on the national layer: coordinates are printed a batch of features at a
time by numpy and orjson, and the file is streamed. Geometries are snapped to the grid of the
precision with GEOS first (``set_precision``), because rounding coordinates on output alone can
make a valid polygon self-intersect. The layer name is set explicitly so the temporary file name
never leaks into the GeoJSON ``name``. GeoPackage is GDAL's (pyogrio).
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import pyogrio
import shapely

from .._errors import PovmapInputError
from .._io import atomic_path
from .._messages import Text
from .._progress import step
from ..defaults import MAX_PRECISION, PRECISION

WGS84 = "EPSG:4326"


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
    formatted for a batch of features at once (:func:`_features`), and the file is streamed
    batch by batch, so memory stays flat on the national layer.

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
            file.write(b",\n".join(_features(batch, precision, id_field)))
            advance(len(batch))
        file.write(b"\n]}\n")
    return path


#: Features formatted at once: large enough for numpy to pay, small enough for flat memory.
_BATCH = 5_000


def _features(gdf: gpd.GeoDataFrame, precision: int, id_field: str | None) -> list[bytes]:
    """The GeoJSON text of each feature of ``gdf`` (EPSG:4326).

    Geometries are snapped to the ``10**-precision`` grid by GEOS (``set_precision`` keeps each
    polygon valid, where rounding the printed digits alone could make it self-intersect), shells
    wound counter-clockwise and holes clockwise (RFC 7946). All coordinates of the batch are then
    printed by one ``orjson`` call on a numpy array (shortest round-trip text of each rounded
    number, so never more than ``precision`` decimals), and each ring is a slice of that text,
    found from the positions of its brackets.
    """
    source = np.asarray(gdf.geometry.values)
    geoms = shapely.orient_polygons(_snap(source, precision), exterior_cw=False)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    # An empty polygon is written as GDAL writes it, by its own type (snapping may change it).
    types = np.where(missing, shapely.get_type_id(source), shapely.get_type_id(geoms))
    geometry = (
        _geometry_texts(geoms, types, missing, precision)
        if not missing.all()
        else [_EMPTY.get(t, b"null") for t in types.tolist()]
    )
    properties = _property_texts(gdf.drop(columns=gdf.geometry.name))
    if id_field is None:
        return [
            b'{"type":"Feature","properties":' + p + b',"geometry":' + g + b"}"
            for p, g in zip(properties, geometry, strict=True)
        ]
    ids = [orjson.dumps(str(v)) for v in gdf[id_field].tolist()]
    return [
        b'{"type":"Feature","id":' + i + b',"properties":' + p + b',"geometry":' + g + b"}"
        for i, p, g in zip(ids, properties, geometry, strict=True)
    ]


#: An empty polygon as GDAL writes it; a missing geometry (type id -1) is ``null``.
_EMPTY = {
    shapely.GeometryType.POLYGON: b'{"type":"Polygon","coordinates":[]}',
    shapely.GeometryType.MULTIPOLYGON: b'{"type":"MultiPolygon","coordinates":[]}',
}


def _snap(geoms: np.ndarray, precision: int) -> np.ndarray:
    """Snap coordinates to a ``10**-precision`` grid, keeping every polygon valid.

    Rounding each coordinate keeps almost every polygon valid with its vertices in order, and is
    several times faster than GEOS's snap-rounding (``mode="valid_output"``); the few polygons
    rounding breaks (two vertices falling on one point of a narrow neck) are snap-rounded.
    """
    grid = 10.0**-precision
    snapped = shapely.set_precision(geoms, grid, mode="pointwise")
    broken = ~shapely.is_valid(snapped) & ~shapely.is_missing(snapped)
    snapped[~broken] = shapely.remove_repeated_points(snapped[~broken])
    snapped[broken] = shapely.set_precision(geoms[broken], grid)
    return snapped


def _geometry_texts(
    geoms: np.ndarray, types: np.ndarray, missing: np.ndarray, precision: int
) -> list[bytes]:
    """Each feature's geometry member from the rings' text slices (``null`` when missing)."""
    present = geoms.copy()
    present[missing] = None
    kind, coords, offsets = shapely.to_ragged_array(present)
    text = orjson.dumps(np.round(coords, precision), option=orjson.OPT_SERIALIZE_NUMPY)
    buffer = np.frombuffer(text, dtype=np.uint8)
    opens = np.flatnonzero(buffer == ord("["))[1:]
    closes = np.flatnonzero(buffer == ord("]"))[:-1]
    if kind == shapely.GeometryType.POLYGON:
        rings, polygons = offsets
        parts = np.arange(len(polygons) - 1)  # one polygon per feature: polygon i is feature i
        features = np.column_stack([parts, parts + 1])
    elif kind == shapely.GeometryType.MULTIPOLYGON:
        rings, polygons, features_at = offsets
        features = np.column_stack([features_at[:-1], features_at[1:]])
    else:
        raise PovmapInputError.from_catalogue("writers.only_polygons", kind=kind.name)

    def ring(r: int) -> bytes:
        return b"[" + text[opens[rings[r]] : closes[rings[r + 1] - 1] + 1] + b"]"

    def polygon(p: int) -> bytes:
        return b"[" + b",".join([ring(r) for r in range(polygons[p], polygons[p + 1])]) + b"]"

    out = []
    for (first, last), type_id, absent in zip(
        features.tolist(), types.tolist(), missing.tolist(), strict=True
    ):
        if absent:
            out.append(_EMPTY.get(type_id, b"null"))
        elif type_id == shapely.GeometryType.POLYGON:
            out.append(b'{"type":"Polygon","coordinates":' + polygon(first) + b"}")
        else:
            out.append(
                b'{"type":"MultiPolygon","coordinates":['
                + b",".join([polygon(p) for p in range(first, last)])
                + b"]}"
            )
    return out


def _property_texts(table: pd.DataFrame) -> list[bytes]:
    """Each row's ``properties`` object: numbers as numbers, missing values as ``null``.

    Columns become Python lists once (``tolist`` gives native ints and floats); a nullable
    integer column keeps its integers (``355``, never ``355.0``), as GDAL writes them.
    """
    columns = []
    for name in table.columns:
        column = table[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            column = column.dt.strftime("%Y-%m-%dT%H:%M:%S")  # GDAL's form of a DateTime field
        values = column.astype(object).where(column.notna(), None).tolist()
        columns.append(values)
    names = [str(c) for c in table.columns]
    return [orjson.dumps(dict(zip(names, row, strict=True))) for row in zip(*columns, strict=True)]


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
    with atomic_path(path) as tmp:
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


def _for_output(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop povmap's private columns (leading underscore).

    Nullable integer columns stay integers (pyogrio writes their missing values as null), so a
    count is written ``355``, never ``355.0``.
    """
    return gdf[[c for c in gdf.columns if not str(c).startswith("_")]].copy()
