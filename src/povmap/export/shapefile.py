"""Zipped shapefile, for portals that take nothing else: one zip per layer, UTF-8, styles inside.

GeoNode accepts a zip holding ``.shp .shx .dbf .prj .cpg`` plus a ``.sld`` and an ISO ``.xml``
of the same base name, so the layer's style and metadata travel inside the zip.
Field names longer than 10 characters are cut predictably (:func:`kugi.shapefile_names`); the
data dictionary lists both names.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio

from .._io import atomic_path
from .kugi import shapefile_names

SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def write_shapefile_zip(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, layer: str, extras: list[Path] | None = None
) -> Path:
    """Write ``gdf`` as ``{layer}.shp`` (and its parts) into the zip ``path``, atomically.

    Parameters
    ----------
    gdf
        An exported layer (:func:`kugi.to_kugi` output), any CRS (written as is).
    path
        The zip file.
    layer
        Base name of the shapefile inside the zip.
    extras
        Files to add beside it (e.g. ``desa.sld``, ``desa.xml``), stored under their own names.
    """
    renamed = gdf.rename(
        columns=shapefile_names([c for c in gdf.columns if c != gdf.geometry.name])
    )
    # The parts are written beside the staged zip: on the same disk, and gone with the staging
    # folder if the run dies.
    with (
        atomic_path(path) as out,
        tempfile.TemporaryDirectory(prefix=".povmap-shp-", dir=out.parent) as tmp,
    ):
        shp = Path(tmp) / f"{layer}.shp"
        pyogrio.write_dataframe(
            renamed,
            shp,
            driver="ESRI Shapefile",
            layer=layer,
            encoding="UTF-8",
            promote_to_multi=True,
        )
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for suffix in SHAPEFILE_PARTS:
                part = shp.with_suffix(suffix)
                if part.exists():
                    zf.write(part, part.name)
            for extra in extras or []:
                zf.write(extra, Path(extra).name)
    return Path(path)
