"""Read boundary files of any OGR format and bring them to povmap's canonical columns.

Two schemas are recognised automatically: BIG's KUGI fields (``KDEPUM``, ``WADMKD``, ``KDCPUM``,
``WADMKC``, ``KDPKAB``, ``WADMKK``, ``KDPPUM``, ``WADMPR``) and the ``kode``/``nama``/
``kode_kec``... schema of the public boundary dumps, each also in the 10-character form a
shapefile cuts field names to (``nama_kecam``). An explicit ``columns`` mapping overrides both.

What is read is checked before anything is computed from it: the coordinates must be finite
lon/lat inside Indonesia once reprojected (metres without a CRS, swapped axes and absurd values
stop the run with a message saying what they look like and how to name the CRS with ``--crs``);
a shapefile's text encoding is detected when no ``.cpg`` names it; names never carry replacement
or control characters; Z coordinates are dropped; areas stored twice under two codes are found.
"""

from __future__ import annotations

import contextlib
import functools
import operator
import os
import posixpath
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from . import _cache
from ._distinct import map_distinct, string_array, text_mask
from ._errors import PovmapInputError, Text, reason
from ._io import input_files, no_cycle_collection, sha256
from ._messages import message
from ._parallel import map_chunks
from ._progress import step
from .codes import DOTTED_LENGTH, LEVELS, code_level, normalize_code, normalize_codes
from .i18n import format_number, number_text

WGS84 = "EPSG:4326"
#: World Cylindrical Equal Area: one projection for areas anywhere in Indonesia, never degrees.
EQUAL_AREA = "EPSG:6933"
ENGINES = ("pyogrio", "fiona")
#: The canonical area columns of a desa layer (codes and names, desa up to provinsi), in the order
#: tables show them; a layer holds those its file had.
AREA_COLUMNS = tuple(c for lv in reversed(LEVELS) for c in (f"kode_{lv}", f"nama_{lv}"))

#: Canonical columns per level, from the top of the hierarchy down.
CANONICAL = {
    level: [c for lv in LEVELS[: i + 1] for c in (f"kode_{lv}", f"nama_{lv}")]
    for i, level in enumerate(LEVELS)
}

#: A shapefile's DBF keeps at most this many characters of a field name (geopandas, QGIS and
#: ogr2ogr cut ``nama_kecamatan`` to ``nama_kecam``).
DBF_FIELD_LENGTH = 10

# Source column names recognised for each canonical column, compared case-insensitively.
# Kemendagri codes only: KUGI's BPS code fields (KDEBPS, ...) use the other numbering.
_NAMED = {
    "kode_desa": ["KDEPUM", "kode_desa", "kd_desa", "kode_kel", "kode_desa_kel", "kdepum"],
    "nama_desa": ["WADMKD", "nama_desa", "desa", "nama_kel", "desa_kelurahan", "namobj"],
    "kode_kecamatan": ["KDCPUM", "kode_kec", "kode_kecamatan", "kd_kec"],
    "nama_kecamatan": ["WADMKC", "nama_kec", "nama_kecamatan", "kecamatan"],
    "kode_kabupaten": ["KDPKAB", "KDBPUM", "kode_kab", "kode_kabupaten", "kd_kab"],
    "nama_kabupaten": ["WADMKK", "nama_kab", "nama_kabupaten", "kabupaten"],
    "kode_provinsi": ["KDPPUM", "kode_prov", "kode_provinsi", "kd_prov"],
    "nama_provinsi": ["WADMPR", "nama_prov", "nama_provinsi", "provinsi"],
}


def _with_dbf_truncations(named: dict[str, list[str]]) -> dict[str, list[str]]:
    """Each name list plus the shapefile form of every name in it (and of the canonical name)."""
    return {
        canonical: list(
            dict.fromkeys(
                [
                    *names,
                    *(
                        n[:DBF_FIELD_LENGTH]
                        for n in [*names, canonical]
                        if len(n) > DBF_FIELD_LENGTH
                    ),
                ]
            )
        )
        for canonical, names in named.items()
    }


_ALIASES = _with_dbf_truncations(_NAMED)

#: Two areas overlapping by more than this share of the smaller one are reported.
OVERLAP_SHARE = 0.05
#: Two areas overlapping by at least this share of the larger one are the same polygon.
DUPLICATE_SHARE = 0.95
#: Degrees added around the extent of desa centroids when checking where a layer lies.
_PAD_DEGREES = 1.0
#: Coordinates beyond this (in any unit) are not coordinates on the Earth (e.g. 1e308).
_ABSURD = 1e8


@dataclass(frozen=True)
class BoundaryInfo:
    """What :func:`read_boundaries` found and did: the ``source`` of a :class:`BoundaryLayer`.

    Attributes
    ----------
    path
        The file read, as given.
    layer
        The layer read from a multi-layer file (GeoPackage, FileGDB); None for a single layer.
    level
        ``"desa"`` or ``"kecamatan"``: the lowest level whose code column was found.
    schema
        ``"kugi"`` for BIG's KUGI attribute names (``KDEPUM``/``KDCPUM``), ``"lain"`` otherwise.
    source_crs
        The file's CRS before the layer was brought to EPSG:4326, as a label (``"... (--crs)"``
        when ``--crs`` replaced it).
    columns
        ``{canonical: source}``: the source column each canonical column was read from.
    repaired
        Codes of the areas whose invalid geometry was repaired (``shapely.make_valid``,
        method ``"structure"``).
    null_geometry
        Codes of the areas left with no geometry (missing, empty, or of no area once repaired).
    merged_parts
        Codes stored on several features (the islands of one desa), merged into one area.
    duplicates
        ``(kept, left_out)`` codes of one polygon stored under two codes.
    overlaps
        ``(code_a, code_b, share)`` for areas overlapping by more than :data:`OVERLAP_SHARE`
        of the smaller one (share as a fraction).
    encoding
        The text encoding povmap read a shapefile with (``--encoding`` or detected); None for
        formats that declare theirs.
    missing_names
        The canonical name columns (``nama_*``) no source column was found for.
    notes
        Bilingual sentences (:class:`~povmap._messages.Text`) for the report and the terminal.
    source_columns
        The file's own attribute columns, to name them when a canonical column is missing.
    cache
        ``"dipakai"`` when the overlap check, the areas and the kecamatan outlines were taken
        from the cache of this edition of the file (:mod:`povmap._cache`), ``"disimpan"`` when
        they were computed and stored there, ``"tidak_dapat_ditulis"`` when the cache folder
        cannot be written (then a note says so), None when the cache is off (or the file is a
        folder, which is not cached).
    sha256
        The hex SHA-256 of the file's bytes, taken once as it was read: the cache key and the
        manifest's ``masukan`` both use it (None for a folder, e.g. a FileGDB).
    """

    path: str
    layer: str | None
    level: str
    schema: str
    source_crs: str
    columns: dict[str, str]
    repaired: list[str] = field(default_factory=list)
    null_geometry: list[str] = field(default_factory=list)
    merged_parts: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    overlaps: list[tuple[str, str, float]] = field(default_factory=list)
    encoding: str | None = None
    missing_names: list[str] = field(default_factory=list)
    notes: list[Text] = field(default_factory=list)
    source_columns: list[str] = field(default_factory=list)
    cache: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class BoundaryLayer:
    """A boundary layer as :func:`read_boundaries` returns it: the areas and how they were read.

    Attributes
    ----------
    gdf
        The areas, one row per area, in EPSG:4326: ``kode_desa``, ``nama_desa`` (desa level
        only), ``kode_kecamatan`` ... ``nama_provinsi``, ``luas_km2`` (km², equal-area), the
        source's other columns and 2D polygon ``geometry``.
    source
        What reading detected, repaired and left out (:class:`BoundaryInfo`): the join, the
        report, the manifest and the metadata take it from here.
    outlines
        The kecamatan outlines united for the overlap check (:class:`Outlines`), which
        :func:`povmap.aggregate` takes for the dissolve; None for a layer above desa or
        without ``kode_kecamatan``.

    Examples
    --------
    >>> bounds = povmap.read_boundaries("ADMINISTRASIDESA_AR_25K.shp")  # doctest: +SKIP
    >>> bounds.gdf.plot(), bounds.source.schema  # doctest: +SKIP
    """

    gdf: gpd.GeoDataFrame
    source: BoundaryInfo
    outlines: Outlines | None = None


@dataclass(frozen=True)
class Outlines:
    """The kecamatan outlines :func:`read_boundaries` built for its overlap check, for reuse.

    Checking a desa layer for overlaps needs the union of each kecamatan's desa (see
    :func:`_duplicates_and_overlaps`); :func:`dissolve` takes them instead of computing them a
    second time, but only for the very layer they were built from (:meth:`fits`).

    Attributes
    ----------
    level
        ``"kecamatan"``: the level the outlines are of.
    members
        The desa geometries they were built from, in the layer's order (the same objects as the
        layer's geometry column: shapely geometries never change).
    codes
        ``kode_kecamatan`` of each of those desa.
    geometry
        One outline per kecamatan, indexed by ``kode_kecamatan``, in :data:`EQUAL_AREA` (where
        :func:`dissolve` unites areas): the exact union of its desa, holes kept; missing when
        no desa has a geometry. Made on first use by ``unions`` (from the boundary cache, only
        a dissolve above kecamatan or without ``final`` needs them: on the national layer they
        are half of the cache entry).
    final
        The kecamatan outlines as :func:`dissolve` makes them from ``geometry`` (sliver holes
        dropped, EPSG:4326), indexed by ``kode_kecamatan``, when the boundary cache keeps them;
        else None (the dissolve makes them).
    """

    level: str
    members: np.ndarray
    codes: np.ndarray
    unions: Callable[[], gpd.GeoSeries] = field(repr=False, compare=False)
    final: gpd.GeoSeries | None = None

    @functools.cached_property
    def geometry(self) -> gpd.GeoSeries:
        """The kecamatan unions (see the class's attributes), made once."""
        return self.unions()

    def fits(self, gdf: gpd.GeoDataFrame) -> bool:
        """Whether ``gdf`` holds exactly the areas (same geometries, same parents, same order)."""
        key = f"kode_{self.level}"
        if key not in gdf.columns or len(gdf) != len(self.members) or gdf.crs != WGS84:
            return False
        geoms = np.asarray(gdf.geometry.values)
        same = np.frompyfunc(operator.is_, 2, 1)(geoms, self.members).astype(bool)
        return bool(same.all()) and np.array_equal(gdf[key].to_numpy(dtype=object), self.codes)


def read_boundaries(
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    columns: dict[str, str] | None = None,
    engine: str = "pyogrio",
    crs: str | None = None,
    encoding: str | None = None,
    keep_duplicates: bool = False,
) -> BoundaryLayer:
    """Read a desa or kecamatan boundary file into canonical columns, in EPSG:4326.

    Parameters
    ----------
    path
        Any file OGR reads: GeoJSON, GeoPackage, FlatGeobuf, a shapefile or a zipped shapefile.
    layer
        Layer to read from a multi-layer file; by default the only layer with polygons, or the
        one whose name says it holds desa (``ADMINISTRASIDESA_AR_25K``) or kecamatan. Tables
        without geometry are skipped (with a note).
    columns
        Explicit mapping ``{canonical: source}``, e.g. ``{"kode_desa": "KODE", "nama_desa":
        "NAMA"}``; it overrides the automatic detection for the columns it names.
    engine
        ``"pyogrio"`` (fast, default) or ``"fiona"``.
    crs
        The coordinate reference system of the file's coordinates (``"EPSG:32750"``), for a
        file that names none or names a wrong one; it replaces what the file says.
    encoding
        Text encoding of a shapefile's DBF (``"CP1252"``, ``"UTF-8"``); by default the
        ``.cpg`` file's, else detected (UTF-8 when the bytes decode as UTF-8, else CP1252).
    keep_duplicates
        Keep both areas when one polygon is stored under two codes. By default the later one is
        left out (so that it does not count twice in kecamatan areas and desa counts) and both
        codes are reported.

    Returns
    -------
    BoundaryLayer
        ``.gdf``: a GeoDataFrame with ``kode_desa``, ``nama_desa`` (desa level only),
        ``kode_kecamatan`` ... ``nama_provinsi``, ``luas_km2`` (equal-area), the source's other
        columns, and 2D polygon ``geometry`` in EPSG:4326, one row per area. ``.source``: what
        was detected, repaired and left out (:class:`BoundaryInfo`).

    Raises
    ------
    PovmapInputError
        If the file cannot be read, a shapefile part is missing, several layers could be meant,
        no code column is found, the coordinates are not lon/lat in Indonesia once reprojected
        (the message says what they look like and which ``--crs`` may fit), or names hold
        characters of a wrongly decoded text.
    """
    if engine not in ENGINES:
        raise PovmapInputError.from_catalogue(
            "boundaries.engine_unknown_choose", engine=engine, engines=ENGINES
        )
    path = Path(path)
    if not path.exists():
        raise PovmapInputError.from_catalogue("boundaries.boundary_file_not_found", path=path)
    _check_shapefile_parts(path)
    with _no_feature_size_limit():
        layer, notes = _choose_layer(path, layer)
    encoding, said = _shapefile_encoding(path, layer, encoding)
    if said:
        notes.append(said)
    options: dict[str, object] = {"encoding": encoding} if encoding else {}
    if engine == "pyogrio":
        # Never through Arrow, whatever PYOGRIO_USE_ARROW says: GDAL 3.12's FlatGeobuf Arrow
        # stream gives a feature without geometry an invalid offset (the national file has one),
        # and pyarrow then reads out of bounds and kills the interpreter (benchmarks/README.md).
        options["use_arrow"] = False
    try:
        with warnings.catch_warnings():
            # GDAL's and shapely's warnings (a NaN coordinate, an odd field) are not for the
            # user raw: what they warn of is checked below and reported in povmap's words.
            warnings.simplefilter("ignore")
            with _no_feature_size_limit(), no_cycle_collection():
                raw = gpd.read_file(_gdal_path(path), layer=layer, engine=engine, **options)
    except Exception as exc:  # GDAL's messages are the useful part; keep them.
        raise PovmapInputError.from_catalogue(
            "boundaries.cannot_read_boundary_file",
            path=path,
            reason=reason(exc, message("boundaries.use_boundary_format")),
        ) from exc
    if not isinstance(raw, gpd.GeoDataFrame) or raw.geometry.name not in raw.columns:
        raise _no_geometry(path, layer)
    if raw.empty:
        raise PovmapInputError.from_catalogue("boundaries.file_holds_no_area", path=path)
    raw, source_crs = _assign_crs(raw, crs, path)
    raw, flat = _drop_z(raw)
    notes += flat
    mapping, schema = _detect_columns(raw, columns or {}, path)
    level, codes, of_level = _detect_level(raw, mapping, path)
    notes += _missing_names(raw, mapping, level, path)
    gdf = _to_canonical(raw, mapping, level, codes, of_level, path)
    _check_names(gdf, level, path, encoding)
    gdf = _polygons_only(gdf, level, path)
    gdf, source_crs, crs_notes = _to_wgs84(gdf, path, level, source_crs)
    notes += crs_notes
    gdf, merged = _merge_parts(gdf, level)
    options = {
        "layer": layer,
        "columns": columns,
        "engine": engine,
        "crs": crs,
        "encoding": encoding,
        "keep_duplicates": keep_duplicates,
    }
    digests = _file_digests(path)
    key = _cache_key(digests, options)
    entry = _cache_entry(key, gdf, level, keep_duplicates)
    gdf, repaired, null = _repair(gdf, level, None if entry is None else entry["repaired"])
    checked, cache = _checked_cached(gdf, level, keep_duplicates, key, entry, repaired)
    if cache == CACHE_UNWRITABLE:
        notes.append(message("boundaries.cache_not_writable", folder=_cache.cache_dir()))
    gdf, duplicates, overlaps = checked.gdf, checked.duplicates, checked.overlaps
    notes += _overlap_notes(duplicates, overlaps, keep_duplicates)
    gdf["luas_km2"] = checked.luas_km2
    gdf = gdf[[c for c in gdf.columns if c != "geometry"] + ["geometry"]]
    outlines = None
    unions, parents = checked.unions, checked.parents
    if unions is not None:
        outlines = Outlines(
            level="kecamatan",
            members=np.asarray(gdf.geometry.values),
            codes=gdf["kode_kecamatan"].to_numpy(dtype=object),
            unions=lambda: gpd.GeoSeries(
                unions() if callable(unions) else unions, index=parents, crs=EQUAL_AREA
            ),
            final=checked.final,
        )
    return BoundaryLayer(
        gdf,
        BoundaryInfo(
            path=str(path),
            layer=layer,
            level=level,
            schema=schema,
            source_crs=source_crs,
            columns=mapping,
            repaired=repaired,
            null_geometry=null,
            merged_parts=merged,
            duplicates=duplicates,
            overlaps=overlaps,
            encoding=encoding,
            missing_names=[
                c for c in CANONICAL[level] if c.startswith("nama_") and c not in mapping
            ],
            notes=notes,
            source_columns=[str(c) for c in raw.columns if c != raw.geometry.name],
            cache=cache,
            sha256=digests.get(path),
        ),
        outlines,
    )


#: What reading a boundary file may report: BoundaryInfo attributes, each with its note
#: ``pipeline.boundary_note.<attribute>`` in the message catalogue.
_BOUNDARY_NOTES = ("repaired", "null_geometry", "merged_parts")


def boundary_notes(info: BoundaryInfo | None) -> list[Text]:
    """What reading the boundary file repaired or found missing, for the report and the terminal.

    Parameters
    ----------
    info
        ``read_boundaries(...).source``, or None when the layer was not read from a file.

    Returns
    -------
    list of Text
        Bilingual notes: geometries repaired, missing or merged (with their codes), then what
        reading detected and chose (layers skipped, encoding guessed, Z dropped, duplicates).
    """
    notes = []
    for attribute in _BOUNDARY_NOTES:
        codes = getattr(info, attribute, None) if info else None
        if codes:
            listed = ", ".join(codes[:10])
            notes.append(
                message(f"pipeline.boundary_note.{attribute}", n=len(codes), listed=listed)
            )
    # What reading detected and chose: layers skipped, encoding guessed, Z dropped, duplicates.
    return notes + list(getattr(info, "notes", []) or [])


def boundary_level(gdf: gpd.GeoDataFrame) -> str:
    """Level of a canonical boundary layer: the lowest level whose code column it has."""
    for level in reversed(LEVELS):
        if f"kode_{level}" in gdf.columns:
            return level
    raise PovmapInputError.from_catalogue("boundaries.boundary_layer_no_kode")


def area_km2(gdf: gpd.GeoDataFrame) -> pd.Series:
    """Area of each geometry in km², computed in an equal-area projection (never in degrees)."""
    return gdf.geometry.to_crs(EQUAL_AREA).area / 1e6


#: GDAL's GeoJSON driver refuses a feature whose parsed JSON exceeds this many megabytes
#: (200 by default): a desa of a densified boundary file can (the fresh tester's 62 MB file
#: with one 1.38-million-vertex desa). povmap lifts it while reading (0: no limit).
_GEOJSON_SIZE_OPTION = "OGR_GEOJSON_MAX_OBJ_SIZE"


@contextlib.contextmanager
def _no_feature_size_limit() -> Iterator[None]:
    """Lift GDAL's GeoJSON feature size limit (pyogrio's GDAL) while reading; restore it after."""
    before = pyogrio.get_gdal_config_option(_GEOJSON_SIZE_OPTION)
    pyogrio.set_gdal_config_options({_GEOJSON_SIZE_OPTION: "0"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(
            {_GEOJSON_SIZE_OPTION: None if before is None else str(before)}
        )


def _choose_layer(path: Path, layer: str | None) -> tuple[str | None, list[Text]]:
    """The layer to read, and notes on the layers left aside.

    Tables without geometry (a GeoPackage's attribute tables) are never candidates. Among the
    layers with polygons, the only one is taken, or the only one whose name says desa (or
    kecamatan); several candidates stop the run: reading the first silently may read the wrong
    edition.
    """
    if layer is None and _feature_collection(path):
        return None, []  # one layer, with geometry: nothing to choose, nothing left aside
    try:
        listed = [(str(name), kind) for name, kind in pyogrio.list_layers(_gdal_path(path))]
    except Exception:
        return layer, []  # let read_file report the problem with its own message
    names = [name for name, _ in listed]
    tables = [name for name, kind in listed if kind is None]
    spatial = [name for name, kind in listed if kind is not None]
    polygonal = [name for name, kind in listed if kind is not None and not _point_or_line(kind)]
    if layer is not None:
        if layer not in names:
            raise PovmapInputError.from_catalogue(
                "boundaries.layer_does_not_exist", path=path, layer=layer, names=", ".join(names)
            )
        if layer in tables:
            raise _no_geometry(path, layer, spatial)
        return layer, []
    candidates = polygonal or spatial
    if not candidates:
        raise _no_geometry(path, None, [])
    chosen = candidates[0] if len(candidates) == 1 else None
    for hint in ("DESA", "KELURAHAN", "KECAMATAN"):
        found = [name for name in candidates if hint in name.upper()]
        if chosen is None and len(found) == 1:
            chosen = found[0]
    if chosen is None:
        raise PovmapInputError.from_catalogue(
            "boundaries.several_layers_could_boundaries",
            path=path,
            candidates=", ".join(candidates),
            candidates2=candidates[-1],
        )
    notes = []
    if tables:
        notes.append(
            message(
                "boundaries.tables_without_geometry_skipped", path=path, tables=", ".join(tables)
            )
        )
    others = [name for name in spatial if name != chosen]
    if others:
        notes.append(
            message(
                "boundaries.layer_read_other_layers",
                path=path,
                chosen=chosen,
                others=", ".join(others),
            )
        )
    return (chosen if len(listed) > 1 else None), notes


#: The start of a GeoJSON FeatureCollection (RFC 7946): its first member says its type.
_FEATURE_COLLECTION = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{\s*"type"\s*:\s*"FeatureCollection"')


def _feature_collection(path: Path) -> bool:
    """Whether ``path`` is a GeoJSON file that opens with its type, ``"FeatureCollection"``.

    GDAL's GeoJSON driver reads it as one layer with a geometry field (an empty one where the
    features have none), so :func:`_choose_layer` has nothing to list: listing it would parse
    the whole file once more before reading it (0.07 s for Kalimantan Selatan). A TopoJSON file
    (several layers, ``"type": "Topology"``), or a GeoJSON whose type comes after its features,
    is listed as any other file.
    """
    if path.suffix.lower() not in (".geojson", ".json"):
        return False
    try:
        with path.open("rb") as f:
            head = f.read(256)
    except OSError:
        return False  # read_file says what is wrong with it
    return _FEATURE_COLLECTION.match(head) is not None


def _point_or_line(kind: str) -> bool:
    return any(word in kind.upper() for word in ("POINT", "LINE", "CURVE"))


def _no_geometry(
    path: Path, layer: str | None, spatial: list[str] | None = None
) -> PovmapInputError:
    """The error for a layer (or a whole file) that holds a table without geometry."""
    where = f"{path}" + (f" (layer {layer})" if layer else "")
    others = (
        message("boundaries.layers_with_geometry", layers=", ".join(spatial))
        if spatial
        else Text("")
    )
    return PovmapInputError.from_catalogue(
        "boundaries.holds_no_geometry_only", where=where, others=others
    )


def _check_shapefile_parts(path: Path) -> None:
    """A shapefile is several files: name the ones missing before GDAL gives a riddle.

    Raises
    ------
    PovmapInputError
        If a ``.shp`` (or a zip holding one) lacks its ``.shx`` or ``.dbf``, or a zip holds
        shapefile parts but no ``.shp``.
    """
    suffix = path.suffix.lower()
    if suffix == ".shp":
        present = {p.name.lower() for p in path.parent.iterdir()}
        stems = {
            path.stem.lower(): {
                ext for ext in ("shp", "shx", "dbf") if f"{path.stem.lower()}.{ext}" in present
            }
        }
        shown = {path.stem.lower(): str(path.with_suffix(""))}
    elif suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                members = archive.namelist()
        except (OSError, zipfile.BadZipFile):
            return  # read_file says what is wrong with it
        stems, shown = {}, {}
        for member in members:
            stem, _, ext = member.rpartition(".")
            if ext.lower() in ("shp", "shx", "dbf"):
                stems.setdefault(stem.lower(), set()).add(ext.lower())
                shown[stem.lower()] = stem
    else:
        return
    if suffix == ".zip" and stems and not any("shp" in found for found in stems.values()):
        listed = ", ".join(f"{shown[s]}.{ext}" for s in sorted(stems) for ext in sorted(stems[s]))
        raise PovmapInputError.from_catalogue(
            "boundaries.zip_holds_no_shp", path=path, listed=listed
        )
    for stem, found in stems.items():
        missing = [f"{shown[stem]}.{ext}" for ext in ("shp", "shx", "dbf") if ext not in found]
        if "shp" in found and missing:
            raise PovmapInputError.from_catalogue(
                "boundaries.incomplete_shapefile_missing_shx", path=path, missing=", ".join(missing)
            )


def _shapefile_encoding(
    path: Path, layer: str | None, encoding: str | None
) -> tuple[str | None, Text | None]:
    """The encoding to read a shapefile's DBF with, and a note when povmap guessed or ignored it.

    A DBF says its encoding in a ``.cpg`` file or in its language-driver byte; without either,
    GDAL assumes ISO-8859-1 and Windows files (CP1252) or UTF-8 files come out as mojibake
    (``Hamalau\x92``, ``CafÃ©``). povmap then decides from the bytes: UTF-8 when they decode as
    UTF-8 (text in another encoding almost never does), else CP1252.
    """
    if encoding and path.suffix.lower() not in (".shp", ".dbf", ".zip"):
        # GeoJSON, GeoPackage and FlatGeobuf text is UTF-8 by their specifications; decoding it
        # otherwise would make the mojibake the option is meant to prevent.
        return None, message(
            "boundaries.encoding_ignored_text_always",
            path=path,
            encoding=encoding,
            suffix=path.suffix,
        )
    if encoding:
        try:
            "".encode(encoding)
        except LookupError:
            raise PovmapInputError.from_catalogue(
                "boundaries.encoding_unknown_text_encoding", encoding=encoding
            ) from None
        return encoding, None
    found = _dbf_bytes(path, layer)
    if found is None:
        return None, None
    name, data, has_cpg = found
    if has_cpg or len(data) < 32 or data[29] != 0:
        return None, None
    records = data[int.from_bytes(data[8:10], "little") :]
    if records.isascii():
        return None, None  # every encoding reads ASCII alike
    for candidate in ("UTF-8", "CP1252"):
        try:
            records.decode(candidate)
        except UnicodeDecodeError:
            continue
        return candidate, message("boundaries.no_cpg_file_text", name=name, candidate=candidate)
    return None, None


def _dbf_bytes(path: Path, layer: str | None) -> tuple[str, bytes, bool] | None:
    """The DBF of the shapefile to read: its name, bytes, and whether a ``.cpg`` is beside it."""
    suffix = path.suffix.lower()
    if suffix == ".shp":
        siblings = {p.name.lower(): p for p in path.parent.iterdir()}
        dbf = siblings.get(f"{path.stem.lower()}.dbf")
        if dbf is None:
            return None
        return dbf.name, dbf.read_bytes(), f"{path.stem.lower()}.cpg" in siblings
    if suffix != ".zip":
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            members = {m.lower(): m for m in archive.namelist()}
            dbfs = [
                m
                for m in members
                if m.endswith(".dbf")
                and (layer is None or posixpath.basename(m)[:-4] == layer.lower())
            ]
            if len(dbfs) != 1:
                return None
            stem = dbfs[0][:-4]
            return (
                posixpath.basename(members[dbfs[0]]),
                archive.read(members[dbfs[0]]),
                f"{stem}.cpg" in members,
            )
    except (OSError, zipfile.BadZipFile, KeyError):
        return None


def _gdal_path(path: Path) -> str:
    """What GDAL opens: a zip's shapefiles may sit in one folder inside it ("BATAS DESA/...")."""
    if path.suffix.lower() != ".zip":
        return str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            folders = {
                posixpath.dirname(name)
                for name in archive.namelist()
                if name.lower().endswith(".shp")
            }
    except (OSError, zipfile.BadZipFile):
        folders = set()  # read_file says what is wrong with it
    inner = f"/{folders.pop()}" if len(folders) == 1 and "" not in folders else ""
    return f"/vsizip/{path}{inner}"


def _detect_columns(
    raw: pd.DataFrame, explicit: dict[str, str], path: Path
) -> tuple[dict[str, str], str]:
    """Map canonical names to source columns: explicit first, then KUGI and common names."""
    by_lower = {c.lower(): c for c in raw.columns if c != "geometry"}
    for canonical, source in explicit.items():
        if canonical not in _ALIASES:
            raise PovmapInputError.from_catalogue(
                "boundaries.columns_not_canonical_column",
                canonical=canonical,
                _aliases=sorted(_ALIASES),
            )
        if source.lower() not in by_lower:
            raise PovmapInputError.from_catalogue(
                "boundaries.column_does_not_exist",
                path=path,
                source=source,
                canonical=canonical,
                value=", ".join(by_lower.values()),
            )
    mapping = {k: by_lower[v.lower()] for k, v in explicit.items()}
    for canonical, aliases in _ALIASES.items():
        if canonical in mapping:
            continue
        for alias in aliases:
            if alias.lower() in by_lower and by_lower[alias.lower()] not in mapping.values():
                mapping[canonical] = by_lower[alias.lower()]
                break
    # The public dumps name the layer's own level just "kode"/"nama".
    if "kode" in by_lower:
        own = code_level(normalize_code(raw[by_lower["kode"]].dropna().iloc[0]))
        if own in ("desa", "kecamatan") and f"kode_{own}" not in mapping:
            mapping[f"kode_{own}"] = by_lower["kode"]
            if "nama" in by_lower and f"nama_{own}" not in explicit:
                mapping[f"nama_{own}"] = by_lower["nama"]
    schema = "kugi" if "kdepum" in by_lower or "kdcpum" in by_lower else "lain"
    if not any(k in mapping for k in ("kode_desa", "kode_kecamatan")):
        raise PovmapInputError.from_catalogue(
            "boundaries.no_kemendagri_desa_kecamatan", path=path, value=", ".join(by_lower.values())
        )
    return mapping, schema


def _detect_level(
    raw: pd.DataFrame, mapping: dict[str, str], path: Path
) -> tuple[str, pd.Series, np.ndarray]:
    """The level of the layer, its own code column normalised (read once, used twice) and
    which of those codes are of that level (:func:`_of_level`)."""
    for level in ("desa", "kecamatan"):
        column = mapping.get(f"kode_{level}")
        if column is None:
            continue
        codes = normalize_codes(raw[column]).set_axis(raw.index)
        of_level = _of_level(codes, level)
        # A KDEPUM column may exist but be empty in a kecamatan file.
        if of_level.mean() > 0.5:
            return level, codes, of_level
    tried = ", ".join(mapping[key] for key in ("kode_desa", "kode_kecamatan") if key in mapping)
    raise PovmapInputError.from_catalogue("boundaries.code_columns_hold_no", path=path, tried=tried)


def _of_level(codes: pd.Series, level: str) -> np.ndarray:
    """Which of ``codes`` (as :func:`~povmap.codes.normalize_codes` gives them: dotted, or
    None) are codes of ``level``: a dotted code's length is its level's
    (:data:`~povmap.codes.DOTTED_LENGTH`), one vectorised comparison instead of
    :func:`~povmap.codes.code_level` per row (the lengths counted in NumPy's string loops)."""
    cells = codes.to_numpy(dtype=object)
    is_text = text_mask(cells)
    written = string_array(cells[is_text])
    if written is None:  # a text NumPy cannot hold (no normalised code is one)
        return codes.str.len().eq(DOTTED_LENGTH[level]).to_numpy(dtype=bool)
    out = np.zeros(len(cells), dtype=bool)
    out[is_text] = np.strings.str_len(written) == DOTTED_LENGTH[level]
    return out


def _to_canonical(
    raw: gpd.GeoDataFrame,
    mapping: dict[str, str],
    level: str,
    codes: pd.Series,
    of_level: np.ndarray,
    path: Path,
) -> gpd.GeoDataFrame:
    """``raw`` in the canonical columns; ``codes`` is its own code column, normalised, and
    ``of_level`` says which of them are of ``level``."""
    own_code = f"kode_{level}"
    bad = ~of_level
    if bad.any():
        rows = [str(i + 1) for i in np.flatnonzero(bad)[:10]]
        raise PovmapInputError.from_catalogue(
            "boundaries.column_holds_invalid_codes",
            path=path,
            mapping=mapping[own_code],
            level=level,
            rows=", ".join(rows),
        )
    out = pd.DataFrame(index=raw.index)
    out[own_code] = codes
    # Every code is a dotted code of the level now: sliced in NumPy's string loops.
    written = string_array(codes.to_numpy(dtype=object))
    for canonical in CANONICAL[level]:
        if canonical == own_code:
            continue
        lv = canonical.split("_", 1)[1]
        if canonical.startswith("kode_"):
            # Dotted codes nest by prefix: 63.06.01.2001 -> 63.06.01 -> 63.06 -> 63.
            out[canonical] = (
                codes.str[: DOTTED_LENGTH[lv]]
                if written is None
                else pd.Series(
                    np.strings.slice(written, 0, DOTTED_LENGTH[lv]).astype(object),
                    index=raw.index,
                    dtype=object,
                )
            )
        elif canonical in mapping:
            out[canonical] = pd.Series(_clean_names(raw[mapping[canonical]]), index=raw.index)
        else:
            out[canonical] = None
    extra = [c for c in raw.columns if c not in mapping.values() and c != raw.geometry.name]
    extra = [c for c in extra if c not in out.columns]
    return gpd.GeoDataFrame(
        pd.concat([out[CANONICAL[level]], raw[extra]], axis=1),
        geometry=raw.geometry.values,
        crs=raw.crs,
    )


def _polygons_only(gdf: gpd.GeoDataFrame, level: str, path: Path) -> gpd.GeoDataFrame:
    """Refuse points and lines: an area is a polygon (a file of desa office points is not a
    boundary file). Collections keep their polygonal parts."""
    geoms = gdf.geometry.values
    kinds = pd.Series(geoms.geom_type, index=gdf.index)
    collections = (kinds == "GeometryCollection").to_numpy()
    if collections.any():
        gdf = gdf.copy()
        gdf.loc[collections, gdf.geometry.name] = [
            _polygonal_part(g) for g in np.asarray(geoms[collections])
        ]
        kinds = pd.Series(gdf.geometry.values.geom_type, index=gdf.index)
    bad = ~kinds.isin(["Polygon", "MultiPolygon"]) & kinds.notna()
    if bad.any():
        positions = np.flatnonzero(bad.to_numpy())
        shown = ", ".join(f"{i + 1} ({gdf[f'kode_{level}'].iloc[i]})" for i in positions[:5])
        raise PovmapInputError.from_catalogue(
            "boundaries.features_not_polygons_feature",
            path=path,
            value=bad.sum(),
            n_gdf=len(gdf),
            kinds=", ".join(sorted(set(kinds[bad]))),
            shown=shown,
        )
    return gdf


def _polygonal_part(collection: shapely.Geometry) -> shapely.Geometry | None:
    polygons = [
        g for g in shapely.get_parts(collection) if g.geom_type in ("Polygon", "MultiPolygon")
    ]
    return shapely.union_all(polygons) if polygons else None


def _clean_name(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    # split() also breaks on the control characters that act as spaces (\x0b, \x1c-\x1f, \x85).
    return " ".join(str(value).split())


#: A space :func:`_clean_name` changes whatever its neighbours: any but " " (``\\s`` is what
#: ``str.split`` breaks on, every character ``str.isspace`` says is a space).
_ODD_SPACE = re.compile("[^\\S ]")


def _clean_names(values: pd.Series) -> list:
    """``[_clean_name(v) for v in values]``, with one search of all the texts first.

    A national layer's 83,403 desa names mostly need no cleaning; when one search of the
    joined texts (joined by a private-use character, :data:`_JOIN`) finds nothing to clean,
    the texts are kept as they are and only the other cells (None, NaN, numbers) are cleaned;
    else each distinct value is cleaned, as the kecamatan, kabupaten and province names,
    repeated tens of thousands of times, always are cheaply.
    """
    cells = values.to_numpy(dtype=object)
    is_text = text_mask(cells)
    joined = _JOIN.join(cells[is_text])
    # What else it changes: " " at either end of a text (where the joiner is), or twice.
    spaced = ("  ", " " + _JOIN, _JOIN + " ")
    if (
        _ODD_SPACE.search(joined)
        or any(pair in joined for pair in spaced)
        or joined.startswith(" ")
        or joined.endswith(" ")
    ):
        return map_distinct(_clean_name, cells)
    out = cells.copy()
    out[~is_text] = map_distinct(_clean_name, cells[~is_text])
    return out.tolist()


#: What a correctly decoded place name never holds: U+FFFD (bytes that did not decode), control
#: characters (C1 \x80-\x9f is what CP1252 punctuation becomes when read as ISO-8859-1), lone
#: surrogates and Unicode noncharacters (U+FDD0-U+FDEF, U+FFFE, U+FFFF: never text, XML 1.0
#: forbids the last two and no font draws them).
_NOT_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffd-\uffff]")
#: UTF-8 read as CP1252/ISO-8859-1: "Ã©" for "é", "â€™" for "’".
_MOJIBAKE = re.compile("[\u00c2\u00c3\u00e2][\u0080-\u00bf\u0152-\u2122]")


def _miscoded(name: str) -> bool:
    """True when ``name`` holds characters a correctly decoded name never has."""
    if _NOT_TEXT.search(name):
        return True
    if not _MOJIBAKE.search(name):
        return False
    for wrong in ("cp1252", "latin-1"):
        try:
            return name.encode(wrong).decode("utf-8") != name
        except UnicodeError:
            continue
    return False


def _miscoded_cell(value: object) -> bool:
    """:func:`_miscoded` of a name cell; a missing name (None) is not miscoded."""
    return isinstance(value, str) and _miscoded(value)


#: Joins a column's names into one text for one search (:func:`_any_miscoded`): a private-use
#: character, in neither pattern, so that no match spans two names.
_JOIN = "\ue000"


def _any_miscoded(names: pd.Series) -> bool:
    """Whether some name of ``names`` may be :func:`_miscoded`, searched in one text.

    Never False when a name is miscoded: a match inside a name is a match inside the joined
    text. May be True when none is (a :data:`_MOJIBAKE` pair that is the right text after
    all); the caller then checks name by name.
    """
    cells = names.to_numpy(dtype=object)
    joined = _JOIN.join(cells[text_mask(cells)])
    return bool(_NOT_TEXT.search(joined) or _MOJIBAKE.search(joined))


def _check_names(gdf: gpd.GeoDataFrame, level: str, path: Path, encoding: str | None) -> None:
    """Stop before a wrongly decoded name reaches a map, a layer or a report.

    Raises
    ------
    PovmapInputError
        Naming the column, the features (number and code), the name as read, and ``--encoding``.
    """
    for column in (c for c in CANONICAL[level] if c.startswith("nama_")):
        names = gdf[column]
        if not _any_miscoded(names):
            continue
        bad = np.array(map_distinct(_miscoded_cell, names), dtype=bool)
        if not bad.any():
            continue
        positions = np.flatnonzero(bad)
        shown = ", ".join(
            f"{i + 1} ({gdf[f'kode_{level}'].iloc[i]}: {ascii(names.iloc[i])})"
            for i in positions[:5]
        )
        if path.suffix.lower() not in (".shp", ".dbf", ".zip"):
            # GeoJSON, GeoPackage and FlatGeobuf are UTF-8 by definition: no encoding option can
            # help, the name itself was saved wrong.
            raise PovmapInputError.from_catalogue(
                "boundaries.names_column_hold_characters_2",
                path=path,
                value=bad.sum(),
                column=column,
                shown=shown,
            )
        used = Text(encoding) if encoding else message("boundaries.gdal_default_encoding")
        raise PovmapInputError.from_catalogue(
            "boundaries.names_column_hold_characters",
            path=path,
            value=bad.sum(),
            column=column,
            shown=shown,
            used=used,
        )


def _assign_crs(
    raw: gpd.GeoDataFrame, crs: str | None, path: Path
) -> tuple[gpd.GeoDataFrame, str | None]:
    """Apply ``--crs`` (it replaces what the file says); return the CRS label for the report."""
    if not crs:
        return raw, None
    try:
        parsed = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        raise PovmapInputError.from_catalogue(
            "boundaries.crs_unknown_coordinate_reference", crs=crs
        ) from None
    return raw.set_crs(parsed, allow_override=True), f"{crs} (--crs)"


def _drop_z(raw: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[Text]]:
    """Boundaries are 2D: heights (Z) would reach the layers as ``MultiPolygon Z``."""
    geoms = raw.geometry.values
    with_z = shapely.has_z(np.asarray(geoms))
    if not with_z.any():
        return raw, []
    raw = raw.copy()
    raw[raw.geometry.name] = gpd.GeoSeries(
        shapely.force_2d(np.asarray(geoms)), index=raw.index, crs=raw.crs
    )
    return raw, [message("boundaries.features_had_height_coordinates", value=with_z.sum())]


def _missing_names(
    raw: pd.DataFrame, mapping: dict[str, str], level: str, path: Path
) -> list[Text]:
    """Say which name columns were not found, what was expected, and what the file has."""
    missing = [c for c in CANONICAL[level] if c.startswith("nama_") and c not in mapping]
    if not missing:
        return []
    expected = "; ".join(f"{c}: {', '.join(_ALIASES[c])}" for c in missing)
    present = ", ".join(c for c in raw.columns if c != raw.geometry.name)
    return [
        message(
            "boundaries.no_name_column_found",
            path=path,
            missing=", ".join(missing),
            expected=expected,
            present=present,
            missing2=missing[0],
        )
    ]


@functools.cache
def _provinces() -> pd.DataFrame:
    """Extent of each province's desa (lon/lat), from the packaged table, indexed by code."""
    source = resources.files("povmap") / "data" / "provinsi_bbox.csv"
    with source.open(encoding="utf-8") as handle:
        table = pd.read_csv(
            handle, comment="#", dtype={"kode_provinsi": str, "provinsi_induk": str}
        )
    return table.set_index("kode_provinsi")


def _extent(provinces: list[str] | None = None) -> tuple[float, float, float, float]:
    """Padded lon/lat extent of ``provinces`` with the provinces they split from or into (their
    areas carry the other code in older editions), or of all Indonesia."""
    table = _provinces()
    if provinces:
        related = table.index.isin(provinces) | table["provinsi_induk"].isin(provinces)
        related |= table.index.isin(table.loc[table.index.isin(provinces), "provinsi_induk"])
        table = table[related]
    if table.empty:
        table = _provinces()
    return (
        table["min_lon"].min() - _PAD_DEGREES,
        table["min_lat"].min() - _PAD_DEGREES,
        table["max_lon"].max() + _PAD_DEGREES,
        table["max_lat"].max() + _PAD_DEGREES,
    )


def _inside(bounds, extent) -> bool:
    minx, miny, maxx, maxy = bounds
    return extent[0] <= minx <= maxx <= extent[2] and extent[1] <= miny <= maxy <= extent[3]


#: Projected CRSs Indonesian boundary files use: UTM zones 46-54 south and north (WGS 84), and
#: DGN95 / Indonesia TM-3 (EPSG:23830-23845).
_PROJECTED_CANDIDATES = (*range(32746, 32755), *range(32646, 32655), *range(23830, 23846))


def _likely_crs(bounds, provinces: list[str]) -> list[str]:
    """Projected CRSs that put ``bounds`` (metres) inside the layer's provinces, best first."""
    extent = _extent(provinces)
    corners = np.array([[bounds[0], bounds[1]], [bounds[2], bounds[3]]])
    fits = []
    for epsg in _PROJECTED_CANDIDATES:
        lon, lat = _transformer(epsg).transform(corners[:, 0], corners[:, 1])
        if (
            np.isfinite(lon).all()
            and np.isfinite(lat).all()
            and _inside((lon.min(), lat.min(), lon.max(), lat.max()), extent)
        ):
            fits.append(f"EPSG:{epsg} ({pyproj.CRS.from_epsg(epsg).name})")
    return fits


@functools.cache
def _transformer(epsg: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(epsg, 4326, always_xy=True)


def _span(low: float, high: float, lang: str = "id") -> str:
    return f"{format_number(low, 2, lang)} … {format_number(high, 2, lang)}"


def _span_text(low: float, high: float) -> Text:
    """:func:`_span` in both languages, for a message field."""
    return Text(_span(low, high), _span(low, high, "en"))


def _not_finite(gdf: gpd.GeoDataFrame, level: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Stop on infinite, NaN or absurdly large coordinates (a damaged or hostile file).

    The usual case is decided per geometry without copying its coordinates out. A geometry's
    length is the sum of ``sqrt(dx² + dy²)`` over its segments, and every coordinate of a
    polygon is the end of a segment (GEOS builds no ring of one point), so the length is
    finite only when every coordinate is: a NaN gives NaN, an infinity gives infinity or NaN.
    The bounds alone would not do: GEOS widens an envelope by comparisons, which a NaN fails,
    so ``POLYGON ((0 0, NaN 0, 1 1, 0 0))`` has the bounds of its finite points. Once every
    coordinate is finite, the bounds are their exact minimum and maximum, and tell the absurd
    ones (a finite 1e30 may still give a finite length).

    Returns
    -------
    present, bounds
        Which geometries are neither missing nor empty, and their bounds (``minx, miny, maxx,
        maxy`` per row, as ``shapely.bounds``), for the caller to reuse.
    """
    geoms = np.asarray(gdf.geometry.values)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    with np.errstate(all="ignore"):  # an overflow here is what is being looked for
        length = shapely.length(geoms[present])
        bounds = shapely.bounds(geoms[present])
    if np.isfinite(length).all() and (np.abs(bounds) <= _ABSURD).all():
        return present, bounds
    # Something is wrong: name the features, coordinate by coordinate (rare, so the copy is fine).
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    # One comparison finds all three: NaN compares false, infinity is above the limit.
    bad = ~(np.abs(coords) <= _ABSURD).all(axis=1)
    features = np.unique(index[bad])
    shown = ", ".join(f"{i + 1} ({gdf[f'kode_{level}'].iloc[i]})" for i in features[:5])
    raise PovmapInputError.from_catalogue(
        "boundaries.impossible_coordinates",
        path=path,
        n_features=len(features),
        limit=number_text(_ABSURD),
        shown=shown,
    )


def _to_wgs84(
    gdf: gpd.GeoDataFrame, path: Path, level: str, assigned: str | None
) -> tuple[gpd.GeoDataFrame, str, list[Text]]:
    """Reproject to EPSG:4326 after checking that the coordinates are what the CRS says.

    A GeoJSON without a ``crs`` member is read as lon/lat whatever it holds, so metres, swapped
    axes and coordinates outside Indonesia are recognised from the values themselves.
    """
    present, box = _not_finite(gdf, level, path)
    geoms = gdf.geometry.values
    if not present.any():
        raise PovmapInputError.from_catalogue("boundaries.not_feature_geometry", path=path)
    # GeoSeries.total_bounds of the present geometries, from the bounds already taken.
    bounds = (box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max())
    provinces = sorted(gdf["kode_provinsi"].dropna().unique())
    crs = gdf.crs
    source = assigned or (crs.to_string() if crs is not None else "tidak ada (dianggap EPSG:4326)")
    notes = []
    reprojected = True
    if crs is None or crs.is_geographic:
        _check_lonlat(bounds, provinces, path, crs, assigned)
        if crs is None:
            notes.append(message("boundaries.names_no_crs_coordinates", path=path))
            out, reprojected = gdf.set_crs(WGS84), False
        elif crs.equals(WGS84, ignore_axis_order=True):
            # OGC:CRS84 (GeoJSON, FlatGeobuf) is EPSG:4326 in lon/lat order: relabel only.
            out, reprojected = gdf.set_crs(WGS84, allow_override=True), False
        else:
            out = gdf.to_crs(WGS84)
    else:
        if _inside(bounds, (-180, -90, 180, 90)):
            raise PovmapInputError.from_catalogue(
                "boundaries.crs_metres_but_coordinates",
                path=path,
                source=source,
                value=Text(_span(bounds[0], bounds[2]), _span(bounds[0], bounds[2], "en")),
                value2=Text(_span(bounds[1], bounds[3]), _span(bounds[1], bounds[3], "en")),
            )
        out = gdf.to_crs(WGS84)
    if reprojected:  # a relabelled layer has its coordinates as read: nothing was emptied
        _check_not_emptied(geoms, out.geometry.values, gdf[f"kode_{level}"], path, source)
    # A relabelled layer has the coordinates, so the bounds, it was read with.
    after = (
        tuple(gpd.GeoSeries(out.geometry.values[present]).total_bounds) if reprojected else bounds
    )
    if not _inside(after, _extent(provinces)):
        likely = _likely_crs(bounds, provinces) if crs is not None and crs.is_projected else []
        raise _wrong_place(path, source, after, provinces, likely)
    return out, source, notes


def _check_lonlat(bounds, provinces: list[str], path: Path, crs, assigned: str | None) -> None:
    """Raise, saying what the coordinates look like, when they are not lon/lat in Indonesia."""
    minx, miny, maxx, maxy = bounds
    said = (
        Text("--crs " + assigned.split(" ")[0])
        if assigned
        else message("boundaries.said_no_crs")
        if crs is None
        else message("boundaries.said_lonlat", crs=crs.to_string())
    )
    where = Text(
        f"x {_span(minx, maxx)}, y {_span(miny, maxy)}",
        f"x {_span(minx, maxx, 'en')}, y {_span(miny, maxy, 'en')}",
    )
    indonesia = _extent()
    if _inside((miny, minx, maxy, maxx), indonesia):
        raise PovmapInputError.from_catalogue(
            "boundaries.latitude_longitude_look_swapped", path=path, where=where, said=said
        )
    if _inside(bounds, (-180, -90, 180, 90)):
        if _inside(bounds, _extent(provinces)):
            return
        raise _wrong_place(
            path, assigned or (crs.to_string() if crs else WGS84), bounds, provinces, []
        )
    likely = _likely_crs(bounds, provinces)
    guess = (
        message("boundaries.likely", likely="; ".join(likely[:3]))
        if likely
        else message("boundaries.usual_utm")
    )
    example = likely[0].split(" ")[0] if likely else "EPSG:32750"
    raise PovmapInputError.from_catalogue(
        "boundaries.coordinates_not_lon_lat",
        path=path,
        where=where,
        said=said,
        guess=guess,
        example=example,
    )


def _wrong_place(
    path: Path, source: str, bounds, provinces: list[str], likely: list[str]
) -> PovmapInputError:
    extent = _extent(provinces)
    where = message(
        "boundaries.where_lonlat",
        lon=_span_text(bounds[0], bounds[2]),
        lat=_span_text(bounds[1], bounds[3]),
    )
    expected = Text(
        f"{_span(extent[0], extent[2])} / {_span(extent[1], extent[3])}",
        f"{_span(extent[0], extent[2], 'en')} / {_span(extent[1], extent[3], 'en')}",
    )
    region = (
        message("boundaries.region_provinces", provinces=", ".join(provinces))
        if provinces
        else Text("Indonesia")
    )
    guess = message("boundaries.likely_note", likely="; ".join(likely[:3])) if likely else Text("")
    return PovmapInputError.from_catalogue(
        "boundaries.crs_areas_fall_outside",
        path=path,
        source=source,
        where=where,
        region=region,
        expected=expected,
        guess=guess,
    )


def _check_not_emptied(before, after, codes: pd.Series, path: Path, source: str) -> None:
    """Never let reprojection turn a geometry the input had into an empty one."""
    had = np.asarray(~(before.isna() | before.is_empty))
    coords, index = shapely.get_coordinates(np.asarray(after), return_index=True)
    not_finite = np.zeros(len(after), dtype=bool)
    not_finite[index[~np.isfinite(coords).all(axis=1)]] = True
    lost = had & (np.asarray(after.isna() | after.is_empty) | not_finite)
    if not lost.any():
        return
    shown = ", ".join(codes.iloc[np.flatnonzero(lost)[:5]])
    raise PovmapInputError.from_catalogue(
        "boundaries.geometries_lost_when_projected",
        path=path,
        value=lost.sum(),
        source=source,
        shown=shown,
    )


def _merge_parts(gdf: gpd.GeoDataFrame, level: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    """One row per area: some files store the islands of one desa as separate features."""
    code = f"kode_{level}"
    duplicated = gdf[code].duplicated(keep=False)
    if not duplicated.any():
        return gdf.reset_index(drop=True), []
    merged = sorted(gdf.loc[duplicated, code].unique())
    out = gdf.dissolve(by=code, as_index=False, sort=False, aggfunc="first")
    return out[gdf.columns].reset_index(drop=True), merged


def _repair(
    gdf: gpd.GeoDataFrame, level: str, known: np.ndarray | None = None
) -> tuple[gpd.GeoDataFrame, list[str], list[str]]:
    """Repair invalid geometries; ``known``: the codes of the invalid ones, when the cache of
    this edition of the file says which (the validity of every polygon is then not tested)."""
    code = f"kode_{level}"
    geoms = gdf.geometry.values
    empty = geoms.isna() | geoms.is_empty
    invalid = (
        ~_is_valid(np.asarray(geoms)) & ~empty
        if known is None
        else gdf[code].isin(known).to_numpy() & ~empty
    )
    gone = empty.copy()
    if invalid.any():
        fixed = _make_valid(np.asarray(geoms[invalid]))
        gdf = gdf.copy()
        gdf.loc[invalid, gdf.geometry.name] = fixed
        # A polygon of no area (all its points on a line) has nothing to draw once repaired
        # (only the repaired ones changed).
        gone[invalid] = shapely.is_missing(fixed) | shapely.is_empty(fixed)
    null = gdf.loc[gone, code].tolist()
    return gdf, gdf.loc[invalid, code].tolist(), null


#: Holes smaller than this (m²) left by a dissolve are slivers between desa, not enclaves.
SLIVER_HOLE_M2 = 200_000.0


def dissolve(
    gdf: gpd.GeoDataFrame, level: str, *, outlines: Outlines | None = None
) -> gpd.GeoDataFrame:
    """Dissolve areas to ``level`` (kecamatan, kabupaten, provinsi), names and area kept.

    The outline of each parent is the union of its areas, computed for all parents at once: each
    parent's polygons become one (overlapping) MultiPolygon and GEOS's zero-width buffer, which
    nodes all their rings in one pass, returns their union. On the national layer (83,403 desa)
    this is several times faster than a ``union_all`` per kecamatan and gives the same outlines
    (area difference below 1e-9 of the total, see ``benchmarks/README.md``). Holes smaller than
    :data:`SLIVER_HOLE_M2` (slivers between desa, not enclaves) are removed.

    Parameters
    ----------
    gdf
        A canonical desa (or kecamatan, kabupaten) layer: ``kode_<level>`` and the name columns
        of ``level`` and above, ``luas_km2`` (km², summed) when present, polygon geometry.
    level
        ``"kecamatan"``, ``"kabupaten"`` or ``"provinsi"``: above the layer's own level.
    outlines
        ``read_boundaries(...).outlines``: the kecamatan unions computed while reading, used
        when they were built from exactly ``gdf``'s areas (:meth:`Outlines.fits`, else they are
        ignored and the unions computed here).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per area of ``level``, sorted by code, in ``gdf``'s CRS: its canonical code and
        name columns, ``jumlah_desa`` (``jumlah_wilayah`` from a layer above desa), ``luas_km2``
        (sum of the areas' ``luas_km2``, NaN without it) and the outline.

    Raises
    ------
    PovmapInputError
        ``level`` is not a level above the layer's own.
    """
    own = boundary_level(gdf)
    if level not in LEVELS or LEVELS.index(level) >= LEVELS.index(own):
        raise PovmapInputError.from_catalogue(
            "boundaries.cannot_aggregate_layer_level", own=own, level=level
        )
    key = f"kode_{level}"
    names = CANONICAL[level]
    grouped = gdf.groupby(key, sort=True)
    out = grouped[[c for c in names if c != key]].first()
    out["jumlah_desa" if own == "desa" else "jumlah_wilayah"] = grouped.size()
    out["luas_km2"] = grouped["luas_km2"].sum() if "luas_km2" in gdf.columns else np.nan
    group = out.index.get_indexer(gdf[key])
    if outlines is not None and own == "desa" and outlines.fits(gdf):
        if level == "kecamatan" and outlines.final is not None:
            geometry = outlines.final.reindex(out.index).to_numpy()
            out = gpd.GeoDataFrame(out.reset_index(), geometry=geometry, crs=gdf.crs)
            return out[[*names, *[c for c in out.columns if c not in names]]]
        if level == "kecamatan":
            union = outlines.geometry.reindex(out.index).to_numpy()
        else:
            kecamatan = gdf.groupby("kode_kecamatan", sort=False)[key].first()
            geoms = outlines.geometry.reindex(kecamatan.index).to_numpy()
            union = _unions(geoms, out.index.get_indexer(kecamatan.to_numpy()), len(out))
    else:
        # In the equal-area projection, as the overlap check of read_boundaries unites them, so
        # that the outlines are the same whether or not they were computed there.
        geoms = _equal_area(gdf.geometry)
        if own == "desa" and level != "kecamatan" and "kode_kecamatan" in gdf.columns:
            # Kecamatan first: a kabupaten or province is then the union of a few large outlines
            # instead of thousands of noisy desa rings (the union is the same, faster).
            kecamatan = gdf.groupby("kode_kecamatan", sort=False)[key].first()
            geoms = _unions(
                geoms, kecamatan.index.get_indexer(gdf["kode_kecamatan"]), len(kecamatan)
            )
            group = out.index.get_indexer(kecamatan.to_numpy())
        union = _unions(geoms, group, len(out))
    out = gpd.GeoDataFrame(out.reset_index(), geometry=_outlines(union, gdf.crs), crs=gdf.crs)
    return out[[*names, *[c for c in out.columns if c not in names]]]


def _outlines(unions: np.ndarray, crs) -> np.ndarray:
    """Outlines from unions in :data:`EQUAL_AREA`: sliver holes dropped, brought to ``crs``."""
    outline = gpd.GeoSeries(_drop_sliver_holes(unions, EQUAL_AREA), crs=EQUAL_AREA)
    # Projected back, two nearly touching rings of an outline may cross by a hair: repaired,
    # so that every outline written is valid.
    return _valid(np.asarray(outline.to_crs(crs).values))


def _equal_area(geometry: gpd.GeoSeries) -> np.ndarray:
    """The geometries in :data:`EQUAL_AREA`, valid: those that projecting made invalid repaired.

    A polygon valid in degrees may cross itself once projected: an edge is straight in each
    projection, so a vertex a hair from a long edge can end up on its other side (desa
    62.13.02.2007 of the national layer). Intersections and unions of such a polygon are wrong
    (an overlap of 3.3 times its own area with a neighbour, or none), so it is repaired
    (``make_valid``, method ``"structure"``: polygonal, the hair crossing undone).
    """
    return _valid(np.asarray(geometry.to_crs(EQUAL_AREA).values))


def _is_valid(geoms: np.ndarray) -> np.ndarray:
    """``shapely.is_valid`` on all cores (:mod:`povmap._parallel`; cost: the vertices)."""
    return map_chunks(shapely.is_valid, (geoms,), weights=shapely.get_num_coordinates(geoms))


def _make_valid(geoms: np.ndarray) -> np.ndarray:
    """``shapely.make_valid`` on all cores; "structure" keeps polygons polygonal (no stray lines
    from a self-touching ring, no collapsed parts)."""
    return map_chunks(
        functools.partial(shapely.make_valid, method="structure", keep_collapsed=False),
        (geoms,),
        weights=shapely.get_num_coordinates(geoms),
    )


def _valid(geoms: np.ndarray) -> np.ndarray:
    """``geoms`` with the invalid ones repaired (:func:`_make_valid`); missing ones stay so."""
    invalid = ~_is_valid(geoms) & ~shapely.is_missing(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = _make_valid(geoms[invalid])
    return geoms


def _unions(
    geoms: np.ndarray, group: np.ndarray, n: int, done: Callable[[int], None] | None = None
) -> np.ndarray:
    """The union of the polygons of each group ``0 .. n-1`` (``group`` -1: left out), at once.

    Each group's polygons become one (overlapping) MultiPolygon, and GEOS's zero-width buffer of
    it, which nodes all its rings in one pass, is their union (``union_all`` for a group with a
    very dense polygon, see :func:`_union_parts`). ``done(k)`` is called as ``k``
    more groups are united (a progress bar's ``advance``).
    """
    parts, row = shapely.get_parts(geoms, return_index=True)
    keep = np.flatnonzero(
        (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & (group[row] >= 0)
    )
    # GEOS builds collections from sorted indices; areas need not come sorted by their parent.
    keep = keep[np.argsort(group[row[keep]], kind="stable")]
    merged = shapely.multipolygons(
        parts[keep], indices=group[row[keep]], out=np.full(n, None, dtype=object)
    )
    # On all cores, balanced by vertices: a few kecamatan (and every kabupaten) are far larger
    # than the rest, and a chunk of them alone would keep one core busy while the other waits.
    return map_chunks(
        _union_parts, (merged,), weights=shapely.get_num_coordinates(merged), done=done
    )


#: A polygon with more vertices than this is united with ``union_all``, not the zero-width
#: buffer: the buffer slows down far more than linearly on a ring with many vertices along
#: straight runs (a densified desa of 276,000 vertices: 10.7 s against 1.2 s; 43,000: 1.3 s
#: against 0.13 s), while on ordinary rings it is several times faster. No desa or kecamatan
#: part of the national layer comes near it (at most 7,413 vertices), so its outlines are
#: unchanged.
_DENSE_PART_VERTICES = 20_000


def _union_parts(geoms: np.ndarray) -> np.ndarray:
    """The union of each (overlapping) MultiPolygon's parts: GEOS's zero-width buffer, or
    ``union_all`` of the parts of one holding a part of over :data:`_DENSE_PART_VERTICES`."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    densest = np.zeros(len(geoms), dtype=np.int64)
    np.maximum.at(densest, owner, shapely.get_num_coordinates(parts))
    dense = densest > _DENSE_PART_VERTICES
    if not dense.any():
        return shapely.buffer(geoms, 0)
    out = np.empty(len(geoms), dtype=object)
    out[~dense] = shapely.buffer(geoms[~dense], 0)
    for i in np.flatnonzero(dense):
        try:
            out[i] = shapely.union_all(parts[owner == i])
        except shapely.errors.GEOSException:  # the buffer copes with what the overlay cannot
            out[i] = shapely.buffer(geoms[i], 0)
    return out


def _drop_sliver_holes(geoms: np.ndarray, crs) -> np.ndarray:
    """Remove interior rings smaller than :data:`SLIVER_HOLE_M2`, measured in an equal-area CRS.

    All polygons at once: their rings are taken apart, the holes measured, and the polygons
    rebuilt from their shells and the holes kept (a one-part result stays a Polygon).
    """
    parts, owner = shapely.get_parts(geoms, return_index=True)
    rings, part = shapely.get_rings(parts, return_index=True)
    shell = np.r_[True, part[1:] != part[:-1]]
    keep = shell.copy()
    if (~shell).any():
        holes = gpd.GeoSeries(shapely.polygons(rings[~shell]), crs=crs)
        if not holes.crs.equals(EQUAL_AREA):
            holes = holes.to_crs(EQUAL_AREA)
        keep[~shell] = holes.area.to_numpy() >= SLIVER_HOLE_M2
    polygons = shapely.polygons(rings[keep], indices=part[keep])
    out = np.full(len(geoms), None, dtype=object)
    shapely.multipolygons(polygons, indices=owner, out=out)
    single = np.bincount(owner, minlength=len(geoms)) == 1
    out[single] = polygons[np.searchsorted(owner, np.flatnonzero(single))]
    # An empty union (no polygon in the group) stays an empty polygon, not a missing one.
    out[~shapely.is_missing(geoms) & shapely.is_missing(out)] = shapely.Polygon()
    return out


#: Pairs of neighbouring areas intersected at once when looking for overlaps.
_PAIRS = 10_000
#: Share of a kecamatan's area added to its excess (sum of its desa areas minus the area of
#: their union) before it may rule out an overlap: room for the rounding of GEOS's union, which
#: is of the order of 1e-11 of the area (benchmarks/README.md).
_EXCESS_MARGIN = 1e-6


class _Checked(NamedTuple):
    """What :func:`_duplicates_and_overlaps` returns."""

    gdf: gpd.GeoDataFrame  # the layer without left-out duplicates
    luas_km2: np.ndarray  # the area of each of its areas, km² (equal-area)
    duplicates: list[tuple[str, str]]
    overlaps: list[tuple[str, str, float]]
    # The union of each kecamatan's desa, EQUAL_AREA; from the cache, a function reading them.
    unions: np.ndarray | Callable[[], np.ndarray] | None
    parents: pd.Index | None  # their kode_kecamatan
    final: gpd.GeoSeries | None = None  # the kecamatan outlines of dissolve, when cached


def _groups(gdf: gpd.GeoDataFrame, level: str) -> tuple[pd.Index, np.ndarray] | None:
    """The kecamatan of a desa layer and each desa's position among them (-1: no code)."""
    if level != "desa" or "kode_kecamatan" not in gdf.columns:
        return None
    codes = gdf["kode_kecamatan"]
    index = pd.Index(codes.dropna().unique())
    return index, index.get_indexer(codes)


def _duplicates_and_overlaps(
    gdf: gpd.GeoDataFrame,
    level: str,
    keep_duplicates: bool,
    projected: np.ndarray,
    *,
    screen: bool = True,
) -> _Checked:
    """Find areas that overlap by more than :data:`OVERLAP_SHARE` of the smaller one.

    Pairs come from a spatial index (STRtree) and are measured in an equal-area projection
    (``projected``: the layer's geometries in :data:`EQUAL_AREA`). A pair overlapping by
    :data:`DUPLICATE_SHARE` of the larger one is one polygon under two codes: the later feature
    is left out unless ``keep_duplicates``, so that it does not count twice in the kecamatan
    area and the desa count.

    The exact intersection is computed only for the pairs that could overlap by more than
    :data:`OVERLAP_SHARE` of the smaller area (``screen``; False intersects every pair). Two
    upper bounds of a pair's overlap rule the others out:

    - the area shared by the two bounding boxes (the overlap lies inside both);
    - for two desa of one kecamatan, the kecamatan's excess: the sum of its desa areas minus
      the area of their union. It is the integral of (number of desa covering a point - 1) over
      the kecamatan, at least 1 on the overlap of any two of its desa, so it is at least that
      overlap (plus :data:`_EXCESS_MARGIN` of the area for rounding). The unions are the
      kecamatan outlines the dissolve needs anyway; they are returned for it.

    A pair ruled out has an overlap of at most :data:`OVERLAP_SHARE` of its smaller area, so it
    is neither reported nor a duplicate: the reports are those of the exact check on every pair
    (``tests/test_boundary_files.py``, screened against unscreened on real layers).

    Returns
    -------
    _Checked
        The layer without left-out duplicates and its projected geometries, the
        ``(kept, left_out)`` code pairs, the ``(code_a, code_b, share of the smaller)`` overlaps
        (duplicates included), and the kecamatan unions in :data:`EQUAL_AREA` with their codes
        (None when the layer is not desa with ``kode_kecamatan``).
    """
    geoms = projected
    groups = _groups(gdf, level)
    unions = None
    luas = shapely.area(geoms)  # m², NaN for a missing geometry
    areas = np.nan_to_num(luas)
    bound: np.ndarray | None = None
    left, right = shapely.STRtree(geoms).query(geoms)  # pairs whose bounding boxes meet
    pair = left < right
    left, right = left[pair], right[pair]
    small, large = np.minimum(areas[left], areas[right]), np.maximum(areas[left], areas[right])
    if groups is not None:
        index, group = groups
        with step("progress.outlines", total=len(index)) as advance:
            unions = _unions(geoms, group, len(index), done=advance)
    if screen:
        box = shapely.bounds(geoms)
        width = np.minimum(box[left, 2], box[right, 2]) - np.maximum(box[left, 0], box[right, 0])
        height = np.minimum(box[left, 3], box[right, 3]) - np.maximum(box[left, 1], box[right, 1])
        bound = np.clip(width, 0, None) * np.clip(height, 0, None)
        if unions is not None:
            total = np.bincount(group[group >= 0], weights=areas[group >= 0], minlength=len(index))
            excess = total - np.nan_to_num(shapely.area(unions)) + _EXCESS_MARGIN * total
            inside = (group[left] == group[right]) & (group[left] >= 0)
            bound[inside] = np.minimum(bound[inside], excess[group[left[inside]]])
    exact = np.flatnonzero(bound > OVERLAP_SHARE * small) if bound is not None else None
    shared = _shared_areas(geoms, left, right, exact)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(small > 0, shared / small, 0.0)
        same = np.where(large > 0, shared / large, 0.0) >= DUPLICATE_SHARE
    over = share > OVERLAP_SHARE
    codes = gdf[f"kode_{level}"].to_numpy()
    overlaps = [
        (codes[a], codes[b], round(float(x), 4))
        for a, b, x in zip(left[over], right[over], share[over], strict=True)
    ]
    left_out: list[int] = []
    duplicates = []
    for a, b in zip(left[same], right[same], strict=True):  # only the duplicate pairs, if any
        if a not in left_out and b not in left_out:
            duplicates.append((codes[a], codes[b]))
            left_out.append(b)
    if left_out and not keep_duplicates:
        kept = np.ones(len(gdf), dtype=bool)
        kept[left_out] = False
        gdf, geoms, luas = gdf[kept].reset_index(drop=True), geoms[kept], luas[kept]
        if unions is not None:
            # The kecamatan that lost a desa are united again without it.
            lost = np.unique(group[left_out])
            lost = lost[lost >= 0]
            group = group[kept]
            again = _unions(geoms, np.where(np.isin(group, lost), group, -1), len(unions))
            unions = unions.copy()
            unions[lost] = again[lost]
    parents = groups[0] if groups else None
    return _Checked(gdf, luas / 1e6, duplicates, overlaps, unions, parents)


def _file_digests(path: Path) -> dict[Path, str]:
    """The hex SHA-256 of ``path`` and of a shapefile's parts, each file read once per run.

    Empty for a folder (a FileGDB is not cached) or a file that cannot be read (reading it
    says why).
    """
    if not path.is_file():
        return {}
    try:
        return {file: sha256(file) for file in input_files([path])}
    except OSError:
        return {}


def _cache_key(digests: dict[Path, str], options: dict) -> str | None:
    """The cache key of reading the files of ``digests`` with ``options`` (None: not cached)."""
    code = [__file__, _cache.__file__]
    return _cache.key(digests, {"read_boundaries": options}, code)


def _cache_entry(
    key: str | None, gdf: gpd.GeoDataFrame, level: str, keep_duplicates: bool
) -> dict[str, np.ndarray] | None:
    """The cache entry of ``key`` when it describes these areas (``gdf``, as read), else None.

    The key already names the file's bytes, the options and the code; the codes are compared
    too, so that an entry of other areas (a damaged entry, a hash collision) is never used, and
    every array is checked for what :func:`_checked_cached` needs of it (kind, lengths equal to
    the layer's and to each other's, kecamatan outlines that decode): an entry failing any
    check is computed again, as an absent one. Its ``"final"`` is returned decoded (the
    kecamatan outlines, in the order of ``"parents"``).
    """
    # The kecamatan unions (half of a national entry) are read only if a dissolve needs them.
    entry = _cache.load(key, without=_UNION_ARRAYS) if key else None
    if entry is None:
        return None
    codes = gdf[f"kode_{level}"].to_numpy(dtype=str)
    groups = _groups(gdf, level)
    try:
        texts = ("codes_read", "repaired", "dup_kept", "dup_left", "ov_a", "ov_b")
        if any(entry[k].dtype.kind != "U" or entry[k].ndim != 1 for k in texts):
            raise ValueError("not text")
        if not np.array_equal(codes, entry["codes_read"]):
            raise ValueError("other areas")
        named = np.concatenate([entry[k] for k in texts[1:]])
        left_out = np.isin(codes, entry["dup_left"]).sum() if not keep_duplicates else 0
        if (
            not np.isin(named, codes).all()
            or len(entry["dup_kept"]) != len(entry["dup_left"])
            or not len(entry["ov_a"]) == len(entry["ov_b"]) == len(entry["ov_share"])
            or entry["luas_km2"].shape != (len(codes) - left_out,)
            or entry["luas_km2"].dtype != float
            or entry["ov_share"].dtype != float
        ):
            raise ValueError("lengths or kinds differ from the layer's")
        if groups is None:
            return entry if "parents" not in entry else None
        if not np.array_equal(entry["parents"], groups[0].to_numpy(dtype=str)):
            raise ValueError("other kecamatan")
        return entry | {"final": _polygons_from(entry, "final", len(groups[0]))}
    except (KeyError, ValueError, TypeError):
        return None


def _polygons_from(arrays: dict[str, np.ndarray], name: str, count: int) -> np.ndarray:
    """The ``count`` outlines stored under ``name`` in a boundary cache entry.

    Raises
    ------
    KeyError, ValueError
        The entry does not hold them, or they are damaged (not ``count`` polygons or missing).
    """
    geoms = _cache.unpack_wkb(arrays, name, count)
    kinds = shapely.get_type_id(geoms)
    if not np.isin(
        kinds, [-1, shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON]
    ).all():
        raise ValueError(f"{name}: not polygons")
    return geoms


#: The arrays of a boundary cache entry holding the kecamatan unions (:func:`_cache.pack_wkb`).
_UNION_ARRAYS = ("wkb", "wkb_ends")


def _cached_unions(
    key: str | None, gdf: gpd.GeoDataFrame, parents: pd.Index
) -> Callable[[], np.ndarray]:
    """A function giving the kecamatan unions of ``gdf`` (its kecamatan: ``parents``), read
    from the cache entry ``key`` when it is called.

    The entry was read without them (:data:`_UNION_ARRAYS`); if it has gone or is damaged by
    then, the unions are computed again from ``gdf`` as :func:`_duplicates_and_overlaps` unites
    them (the areas left out as duplicates are no longer in ``gdf``).
    """

    def unions() -> np.ndarray:
        arrays = _cache.load(key, only=_UNION_ARRAYS) if key else None
        if arrays is not None:
            try:
                return _polygons_from(arrays, "wkb", len(parents))
            except (KeyError, ValueError, TypeError):
                pass
        group = parents.get_indexer(gdf["kode_kecamatan"])
        return _unions(_equal_area(gdf.geometry), group, len(parents))

    return unions


#: ``BoundaryInfo.cache`` (the manifest's ``batas_wilayah.cache``) when the cache is on but its
#: folder cannot be written: told apart from None (cache off), and said in a note.
CACHE_UNWRITABLE = "tidak_dapat_ditulis"


def _checked_cached(
    gdf: gpd.GeoDataFrame,
    level: str,
    keep_duplicates: bool,
    key: str | None,
    entry: dict[str, np.ndarray] | None,
    repaired: list[str],
) -> tuple[_Checked, str | None]:
    """:func:`_duplicates_and_overlaps` of the layer, from the cache ``entry`` of this edition
    of the file when there is one, else computed and stored under ``key`` (with the codes of the
    ``repaired`` geometries and the final kecamatan outlines)."""
    code = f"kode_{level}"
    if entry is not None:
        left_out = entry["dup_left"] if not keep_duplicates else np.array([], dtype=str)
        kept = gdf[~gdf[code].isin(left_out)].reset_index(drop=True)
        parents = pd.Index(entry["parents"], dtype=object) if "parents" in entry else None
        found = _Checked(
            kept,
            entry["luas_km2"],
            list(zip(entry["dup_kept"].tolist(), entry["dup_left"].tolist(), strict=True)),
            list(
                zip(
                    entry["ov_a"].tolist(),
                    entry["ov_b"].tolist(),
                    entry["ov_share"].tolist(),
                    strict=True,
                )
            ),
            _cached_unions(key, kept, parents) if parents is not None else None,
            parents,
            gpd.GeoSeries(entry["final"], index=parents, crs=WGS84)
            if parents is not None
            else None,
        )
        return found, "dipakai"
    read = gdf[code].to_numpy(dtype=str)
    checked = _duplicates_and_overlaps(gdf, level, keep_duplicates, _equal_area(gdf.geometry))
    if key is None or _cache.cache_dir() is None:
        return checked, None
    arrays = {
        "codes_read": read,
        "repaired": np.array(repaired, dtype=str),
        "luas_km2": np.asarray(checked.luas_km2, dtype=float),
        "dup_kept": np.array([a for a, _ in checked.duplicates], dtype=str),
        "dup_left": np.array([b for _, b in checked.duplicates], dtype=str),
        "ov_a": np.array([a for a, _, _ in checked.overlaps], dtype=str),
        "ov_b": np.array([b for _, b, _ in checked.overlaps], dtype=str),
        "ov_share": np.array([x for *_, x in checked.overlaps], dtype=float),
    }
    unions, parents = checked.unions, checked.parents
    if isinstance(unions, np.ndarray) and parents is not None:
        # The kecamatan outlines the dissolve will want, made once here for the cache.
        final = _outlines(unions, WGS84)
        checked = checked._replace(final=gpd.GeoSeries(final, index=parents, crs=WGS84))
        arrays["parents"] = parents.to_numpy(dtype=str)
        arrays |= _cache.pack_wkb(unions) | _cache.pack_wkb(final, "final")
    return checked, "disimpan" if _cache.store(key, arrays) else CACHE_UNWRITABLE


def _shared_areas(
    geoms: np.ndarray, left: np.ndarray, right: np.ndarray, exact: np.ndarray | None
) -> np.ndarray:
    """Area of the intersection of each pair ``(left, right)``: 0 outside ``exact`` (positions of
    the pairs to intersect; None: all)."""
    shared = np.zeros(len(left))
    todo = np.arange(len(left)) if exact is None else exact
    with step("progress.overlaps", total=len(todo)) as advance:
        # In chunks of _PAIRS, on all cores: a bar can move (advanced from this thread as each
        # chunk is done), and a robustness failure of GEOS on nearly coincident edges is settled
        # on a 1 m grid for its chunk only, not by redoing every pair.
        vertices = shapely.get_num_coordinates(geoms)
        shared[todo] = map_chunks(
            _intersection_areas,
            (geoms[left[todo]], geoms[right[todo]]),
            size=_PAIRS,
            weights=vertices[left[todo]] + vertices[right[todo]],
            done=advance,
        )
    return np.nan_to_num(shared)


def _intersection_areas(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Area of the intersection of each pair ``(a[i], b[i])``; on a 1 m grid when GEOS fails
    on any pair (nearly coincident edges)."""
    try:
        return shapely.area(shapely.intersection(a, b))
    except shapely.errors.GEOSException:
        return shapely.area(shapely.intersection(a, b, grid_size=1.0))


def _overlap_notes(
    duplicates: list[tuple[str, str]], overlaps: list[tuple[str, str, float]], keep_duplicates: bool
) -> list[Text]:
    notes = []
    if duplicates:
        pairs = ", ".join(f"{a} = {b}" for a, b in duplicates[:10])
        if keep_duplicates:
            notes.append(
                message(
                    "boundaries.polygons_stored_under_two",
                    n_duplicates=len(duplicates),
                    pairs=pairs,
                )
            )
        else:
            notes.append(
                message(
                    "boundaries.polygons_stored_under_two_2",
                    n_duplicates=len(duplicates),
                    pairs=pairs,
                )
            )
    duplicated = set(duplicates)
    partial = [o for o in overlaps if (o[0], o[1]) not in duplicated]
    if partial:
        listed = ", ".join(f"{a} & {b} ({format_number(100 * x, 1)} %)" for a, b, x in partial[:10])
        listed_en = ", ".join(
            f"{a} & {b} ({format_number(100 * x, 1, 'en')} %)" for a, b, x in partial[:10]
        )
        limit = format_number(100 * OVERLAP_SHARE, 0)
        notes.append(
            message(
                "boundaries.pairs_areas_overlap_more",
                n_partial=len(partial),
                limit=limit,
                listed=Text(listed, listed_en),
            )
        )
    return notes
