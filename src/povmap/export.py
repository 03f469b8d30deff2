"""Write joined layers for GIS and geoportals: GeoJSON (RFC 7946) and GeoPackage.

Every file is written to a temporary name and renamed, so a failed run leaves no half-written
output; the GeoJSON layer name is set explicitly so the temporary name never leaks into the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pyogrio

from ._errors import PovmapInputError
from ._io import atomic_path

FORMATS = ("geojson", "gpkg")
_SUFFIX = {"geojson": ".geojson", "gpkg": ".gpkg"}


def write_geojson(gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, layer: str,
                  precision: int = 6) -> Path:
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
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        pyogrio.write_dataframe(
            _for_output(gdf).to_crs("EPSG:4326"), tmp, driver="GeoJSON", layer=layer,
            RFC7946="YES", COORDINATE_PRECISION=precision, WRITE_NAME="YES",
        )
    return path


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: str | os.PathLike) -> Path:
    """Write several layers (``{table name: frame}``) into one GeoPackage, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            pyogrio.write_dataframe(_for_output(gdf), tmp, driver="GPKG", layer=name)
    return path


def export(
    layers: dict[str, gpd.GeoDataFrame],
    out_dir: str | os.PathLike,
    *,
    formats: tuple[str, ...] = ("geojson",),
    stem: str = "povmap",
) -> list[Path]:
    """Write layers (e.g. ``{"desa": joined, "kecamatan": aggregated}``) into ``out_dir``.

    GeoJSON gets one file per layer (``desa.geojson``); GeoPackage one file with a table per layer
    (``povmap.gpkg``). Returns the paths written.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise PovmapInputError(f"--format {','.join(unknown)} tidak dikenal; pilih dari {FORMATS}.")
    out_dir = Path(out_dir)
    written = []
    if "geojson" in formats:
        written += [write_geojson(g, out_dir / f"{name}.geojson", layer=name)
                    for name, g in layers.items()]
    if "gpkg" in formats:
        written.append(write_gpkg(layers, out_dir / f"{stem}.gpkg"))
    return written


def _for_output(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop povmap's private columns (leading underscore); nullable ints become floats for GDAL."""
    out = gdf[[c for c in gdf.columns if not str(c).startswith("_")]].copy()
    for column in out.columns:
        if str(out[column].dtype) == "Int64":
            out[column] = out[column].astype("float64")
    return out
