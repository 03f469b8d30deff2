"""Read boundary files of any OGR format and bring them to povmap's canonical columns.

Two schemas are recognised automatically: BIG's KUGI fields (``KDEPUM``, ``WADMKD``, ``KDCPUM``,
``WADMKC``, ``KDPKAB``, ``WADMKK``, ``KDPPUM``, ``WADMPR``) and the ``kode``/``nama``/
``kode_kec``... schema of the public boundary dumps. An explicit ``columns`` mapping overrides both.
"""

from __future__ import annotations

import logging
import os
import posixpath
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from ._errors import PovmapInputError
from .codes import DOTTED_LENGTH, LEVELS, code_level, normalize_code, normalize_codes

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
#: World Cylindrical Equal Area: one projection for areas anywhere in Indonesia, never degrees.
EQUAL_AREA = "EPSG:6933"
ENGINES = ("pyogrio", "fiona")

#: Canonical columns per level, from the top of the hierarchy down.
CANONICAL = {
    level: [c for lv in LEVELS[: i + 1] for c in (f"kode_{lv}", f"nama_{lv}")]
    for i, level in enumerate(LEVELS)
}

# Source column names recognised for each canonical column, compared case-insensitively.
# Kemendagri codes only: KUGI's BPS code fields (KDEBPS, ...) use the other numbering.
_ALIASES = {
    "kode_desa": ["KDEPUM", "kode_desa", "kd_desa", "kode_kel", "kode_desa_kel", "kdepum"],
    "nama_desa": ["WADMKD", "nama_desa", "desa", "nama_kel", "desa_kelurahan", "namobj"],
    "kode_kecamatan": ["KDCPUM", "kode_kec", "kode_kecamatan", "kd_kec"],
    "nama_kecamatan": ["WADMKC", "nama_kec", "nama_kecamatan", "kecamatan"],
    "kode_kabupaten": ["KDPKAB", "KDBPUM", "kode_kab", "kode_kabupaten", "kd_kab"],
    "nama_kabupaten": ["WADMKK", "nama_kab", "nama_kabupaten", "kabupaten"],
    "kode_provinsi": ["KDPPUM", "kode_prov", "kode_provinsi", "kd_prov"],
    "nama_provinsi": ["WADMPR", "nama_prov", "nama_provinsi", "provinsi"],
}


@dataclass(frozen=True)
class BoundaryInfo:
    """What :func:`read_boundaries` found and did, kept in ``gdf.attrs["povmap"]``."""

    path: str
    layer: str | None
    level: str
    schema: str
    source_crs: str
    columns: dict[str, str]
    repaired: list[str] = field(default_factory=list)
    null_geometry: list[str] = field(default_factory=list)
    merged_parts: list[str] = field(default_factory=list)


def read_boundaries(
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    columns: dict[str, str] | None = None,
    engine: str = "pyogrio",
) -> gpd.GeoDataFrame:
    """Read a desa or kecamatan boundary file into canonical columns, in EPSG:4326.

    Parameters
    ----------
    path
        Any file OGR reads: GeoJSON, GeoPackage, FlatGeobuf, a shapefile or a zipped shapefile.
    layer
        Layer to read from a multi-layer file; by default the only layer, or the one whose name
        says it holds desa (``ADMINISTRASIDESA_AR_25K``) or kecamatan.
    columns
        Explicit mapping ``{canonical: source}``, e.g. ``{"kode_desa": "KODE", "nama_desa":
        "NAMA"}``; it overrides the automatic detection for the columns it names.
    engine
        ``"pyogrio"`` (fast, default) or ``"fiona"``.

    Returns
    -------
    A GeoDataFrame with ``kode_desa``, ``nama_desa`` (desa level only), ``kode_kecamatan`` ...
    ``nama_provinsi``, ``luas_km2`` (equal-area), the source's other columns, and ``geometry``,
    one row per area. What was detected and repaired is in ``gdf.attrs["povmap"]``.
    """
    if engine not in ENGINES:
        raise PovmapInputError(f"engine={engine!r} tidak dikenal; pilih salah satu dari {ENGINES}.",
                               en=f"engine={engine!r} is unknown; choose one of {ENGINES}.")
    path = Path(path)
    if not path.exists():
        raise PovmapInputError(f"Berkas batas wilayah tidak ditemukan: {path}",
                               en=f"Boundary file not found: {path}")
    layer = _check_layer(path, layer) if layer else _pick_layer(path)
    try:
        raw = gpd.read_file(_gdal_path(path), layer=layer, engine=engine)
    except Exception as exc:  # GDAL's messages are the useful part; keep them.
        raise PovmapInputError(
            f"{path}: tidak dapat dibaca sebagai berkas batas wilayah ({exc}). "
            "Gunakan GeoJSON, GeoPackage, FlatGeobuf atau shapefile (boleh di-zip).",
            en=f"{path}: cannot be read as a boundary file ({exc}). "
               "Use GeoJSON, GeoPackage, FlatGeobuf or a shapefile (zipped is fine)."
        ) from exc
    if raw.empty:
        raise PovmapInputError(f"{path}: berkas tidak berisi satu pun wilayah.",
                               en=f"{path}: the file holds no area.")
    mapping, schema = _detect_columns(raw, columns or {}, path)
    level = _detect_level(raw, mapping, path)
    gdf = _to_canonical(raw, mapping, level, path)
    gdf = _polygons_only(gdf, level, path)
    gdf, source_crs = _to_wgs84(gdf, path)
    gdf, merged = _merge_parts(gdf, level)
    gdf, repaired, null = _repair(gdf, level)
    gdf["luas_km2"] = area_km2(gdf)
    gdf = gdf[[c for c in gdf.columns if c != "geometry"] + ["geometry"]]
    gdf.attrs["povmap"] = BoundaryInfo(
        path=str(path), layer=layer, level=level, schema=schema, source_crs=source_crs,
        columns=mapping, repaired=repaired, null_geometry=null, merged_parts=merged,
    )
    if repaired:
        log.info("%s: %d geometri tidak valid diperbaiki (make_valid)", path, len(repaired))
    return gdf


def boundary_level(gdf: gpd.GeoDataFrame) -> str:
    """Level of a canonical boundary layer: the lowest level whose code column it has."""
    for level in reversed(LEVELS):
        if f"kode_{level}" in gdf.columns:
            return level
    raise PovmapInputError("Lapisan batas wilayah tidak punya kolom kode_desa atau kode_kecamatan.",
                           en="The boundary layer has no kode_desa or kode_kecamatan column.")


def area_km2(gdf: gpd.GeoDataFrame) -> pd.Series:
    """Area of each geometry in km², computed in an equal-area projection (never in degrees)."""
    return gdf.geometry.to_crs(EQUAL_AREA).area / 1e6


def _pick_layer(path: Path) -> str | None:
    try:
        layers = [name for name, _ in pyogrio.list_layers(_gdal_path(path))]
    except Exception:
        return None  # let read_file report the problem with its own message
    if len(layers) <= 1:
        return None
    for hint in ("DESA", "KELURAHAN", "KECAMATAN"):
        found = [name for name in layers if hint in name.upper()]
        if found:
            return found[0]
    raise PovmapInputError(
        f"{path} berisi beberapa layer ({', '.join(layers)}); pilih satu dengan --layer.",
        en=f"{path} has several layers ({', '.join(layers)}); choose one with --layer."
    )


def _check_layer(path: Path, layer: str) -> str:
    try:
        layers = [name for name, _ in pyogrio.list_layers(_gdal_path(path))]
    except Exception:
        return layer  # let read_file report the problem with its own message
    if layer not in layers:
        raise PovmapInputError(f"{path}: layer {layer!r} tidak ada; layer yang ada: "
                               f"{', '.join(layers)}. Pilih salah satu dengan --layer.",
                               en=f"{path}: layer {layer!r} does not exist; layers: "
                                  f"{', '.join(layers)}. Choose one with --layer.")
    return layer


def _gdal_path(path: Path) -> str:
    """What GDAL opens: a zip's shapefiles may sit in one folder inside it ("BATAS DESA/...")."""
    if path.suffix.lower() != ".zip":
        return str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            folders = {posixpath.dirname(name) for name in archive.namelist()
                       if name.lower().endswith(".shp")}
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
            raise PovmapInputError(
                f"columns: {canonical!r} bukan kolom kanonik; gunakan salah satu dari "
                f"{sorted(_ALIASES)}.",
                en=f"columns: {canonical!r} is not a canonical column; use one of "
                   f"{sorted(_ALIASES)}."
            )
        if source.lower() not in by_lower:
            raise PovmapInputError(
                f"{path}: kolom {source!r} (untuk {canonical}) tidak ada. Kolom yang ada: "
                f"{', '.join(by_lower.values())}.",
                en=f"{path}: column {source!r} (for {canonical}) does not exist. Columns: "
                   f"{', '.join(by_lower.values())}."
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
        raise PovmapInputError(
            f"{path}: tidak ditemukan kolom kode Kemendagri desa atau kecamatan (misalnya KDEPUM, "
            f"KDCPUM, kode_desa). Kolom yang ada: {', '.join(by_lower.values())}. Sebutkan "
            "kolomnya dengan --columns kode_desa=NAMA_KOLOM.",
            en=f"{path}: no Kemendagri desa or kecamatan code column found (e.g. KDEPUM, KDCPUM, "
               f"kode_desa). Columns: {', '.join(by_lower.values())}. Name the column with "
               "--columns kode_desa=COLUMN_NAME."
        )
    return mapping, schema


def _detect_level(raw: pd.DataFrame, mapping: dict[str, str], path: Path) -> str:
    for level in ("desa", "kecamatan"):
        column = mapping.get(f"kode_{level}")
        if column is None:
            continue
        codes = normalize_codes(raw[column]).set_axis(raw.index)
        # A KDEPUM column may exist but be empty in a kecamatan file.
        if codes.map(code_level).eq(level).mean() > 0.5:
            return level
    tried = ", ".join(mapping[key] for key in ("kode_desa", "kode_kecamatan") if key in mapping)
    raise PovmapInputError(
        f"{path}: kolom kode ({tried}) "
        "tidak berisi kode Kemendagri desa (63.06.01.2001) atau kecamatan (63.06.01).",
        en=f"{path}: the code columns ({tried}) hold no Kemendagri desa (63.06.01.2001) or "
           "kecamatan (63.06.01) codes."
    )


def _to_canonical(
    raw: gpd.GeoDataFrame, mapping: dict[str, str], level: str, path: Path
) -> gpd.GeoDataFrame:
    own_code = f"kode_{level}"
    codes = normalize_codes(raw[mapping[own_code]]).set_axis(raw.index)
    bad = codes.isna() | codes.map(code_level).ne(level)
    if bad.any():
        rows = [str(i + 1) for i in np.flatnonzero(bad.to_numpy())[:10]]
        raise PovmapInputError(
            f"{path}: kolom {mapping[own_code]} berisi kode {level} yang tidak sah pada fitur ke-"
            f"{', '.join(rows)}. Perbaiki kodenya, atau pilih kolom lain dengan --columns.",
            en=f"{path}: column {mapping[own_code]} holds invalid {level} codes in feature(s) "
               f"{', '.join(rows)}. Fix the codes, or choose another column with --columns."
        )
    out = pd.DataFrame(index=raw.index)
    out[own_code] = codes
    for canonical in CANONICAL[level]:
        if canonical == own_code:
            continue
        lv = canonical.split("_", 1)[1]
        if canonical.startswith("kode_"):
            # Dotted codes nest by prefix: 63.06.01.2001 -> 63.06.01 -> 63.06 -> 63.
            out[canonical] = codes.str[: DOTTED_LENGTH[lv]]
        elif canonical in mapping:
            out[canonical] = raw[mapping[canonical]].astype("object").map(_clean_name)
        else:
            out[canonical] = None
    extra = [c for c in raw.columns if c not in mapping.values() and c != raw.geometry.name]
    extra = [c for c in extra if c not in out.columns]
    return gpd.GeoDataFrame(
        pd.concat([out[CANONICAL[level]], raw[extra]], axis=1),
        geometry=raw.geometry.values, crs=raw.crs,
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
            _polygonal_part(g) for g in np.asarray(geoms[collections])]
        kinds = pd.Series(gdf.geometry.values.geom_type, index=gdf.index)
    bad = ~kinds.isin(["Polygon", "MultiPolygon"]) & kinds.notna()
    if bad.any():
        positions = np.flatnonzero(bad.to_numpy())
        shown = ", ".join(f"{i + 1} ({gdf[f'kode_{level}'].iloc[i]})" for i in positions[:5])
        raise PovmapInputError(
            f"{path}: {bad.sum()} dari {len(gdf)} fitur bukan poligon ("
            f"{', '.join(sorted(set(kinds[bad])))}), mis. fitur ke-{shown}. Batas wilayah harus "
            "Polygon atau MultiPolygon: gunakan berkas batas desa/kecamatan (bukan titik kantor "
            "desa atau garis batas), atau hapus/perbaiki fitur tersebut.",
            en=f"{path}: {bad.sum()} of {len(gdf)} features are not polygons "
               f"({', '.join(sorted(set(kinds[bad])))}), e.g. feature {shown}. Boundaries "
               "must be Polygon or MultiPolygon: use a desa/kecamatan boundary file (not "
               "village office points or boundary lines), or delete/fix those features."
        )
    return gdf


def _polygonal_part(collection: shapely.Geometry) -> shapely.Geometry | None:
    polygons = [g for g in shapely.get_parts(collection)
                if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polygons) if polygons else None


def _clean_name(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return " ".join(str(value).split())


def _to_wgs84(gdf: gpd.GeoDataFrame, path: Path) -> tuple[gpd.GeoDataFrame, str]:
    if gdf.crs is None:
        minx, miny, maxx, maxy = gdf.total_bounds
        if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
            log.warning("%s tidak punya CRS; koordinatnya dianggap lon/lat WGS84.", path)
            return gdf.set_crs(WGS84), "tidak ada (dianggap EPSG:4326)"
        raise PovmapInputError(
            f"{path}: sistem koordinat (CRS) tidak diketahui (berkas .prj hilang?) dan "
            "koordinatnya bukan lon/lat. Tambahkan berkas .prj atau simpan ulang dengan CRS.",
            en=f"{path}: unknown coordinate reference system (CRS; missing .prj file?) and the "
               "coordinates are not lon/lat. Add the .prj file or save the file again with a CRS."
        )
    source = gdf.crs.to_string()
    if gdf.crs.equals(WGS84, ignore_axis_order=True):
        # OGC:CRS84 (GeoJSON, FlatGeobuf) is EPSG:4326 in lon/lat order: relabel, don't transform.
        return gdf.set_crs(WGS84, allow_override=True), source
    return gdf.to_crs(WGS84), source


def _merge_parts(gdf: gpd.GeoDataFrame, level: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    """One row per area: some files store the islands of one desa as separate features."""
    code = f"kode_{level}"
    duplicated = gdf[code].duplicated(keep=False)
    if not duplicated.any():
        return gdf.reset_index(drop=True), []
    merged = sorted(gdf.loc[duplicated, code].unique())
    out = gdf.dissolve(by=code, as_index=False, sort=False, aggfunc="first")
    return out[gdf.columns].reset_index(drop=True), merged


def _repair(gdf: gpd.GeoDataFrame, level: str) -> tuple[gpd.GeoDataFrame, list[str], list[str]]:
    code = f"kode_{level}"
    geoms = gdf.geometry.values
    null = gdf.loc[geoms.isna() | geoms.is_empty, code].tolist()
    invalid = ~geoms.is_valid & ~(geoms.isna() | geoms.is_empty)
    if invalid.any():
        # "structure" keeps polygons polygonal (no stray lines from a self-touching ring).
        fixed = shapely.make_valid(np.asarray(geoms[invalid]), method="structure",
                                   keep_collapsed=False)
        gdf = gdf.copy()
        gdf.loc[invalid, gdf.geometry.name] = fixed
    return gdf, gdf.loc[invalid, code].tolist(), null


#: Holes smaller than this (m²) left by a dissolve are slivers between desa, not enclaves.
SLIVER_HOLE_M2 = 200_000.0


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
