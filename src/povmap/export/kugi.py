"""Field names for geoportals: BIG's KUGI names for the areas, short names for the poverty values.

Every exported field fits a shapefile's 10 characters, so the GeoJSON, GeoPackage and shapefile
of one bundle share one schema and one data dictionary. Only the fields listed here are
exported (a whitelist): a column povmap does not know (a name, an address, a row number of the
counts table) never reaches a public file.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import PovmapInputError
from .._io import write_text
from .._messages import has, text
from .._safe_text import csv_row

#: Canonical column -> KUGI field (Kemendagri codes and names), from the top level down.
KUGI_ADMIN = {
    "kode_provinsi": "KDPPUM",
    "nama_provinsi": "WADMPR",
    "kode_kabupaten": "KDPKAB",
    "nama_kabupaten": "WADMKK",
    "kode_kecamatan": "KDCPUM",
    "nama_kecamatan": "WADMKC",
    "kode_desa": "KDEPUM",
    "nama_desa": "WADMKD",
}

#: Other KUGI fields kept, as they are, when the source boundary file has them.
KUGI_KEPT = (
    "FCODE",
    "REMARK",
    "METADATA",
    "SRS_ID",
    "TIPADM",
    "UUPP",
    "LUAS",
    "KDPBPS",
    "KDBBPS",
    "KDCBPS",
    "KDEBPS",
)

#: Field types as the data dictionary names them (OGR's); an Integer is written ``355``, never
#: ``355.0``.
_INTEGER = "Integer"
_REAL = "Real"
_STRING = "String"


@dataclass(frozen=True)
class Field:
    """One exported field: its name, type, unit and description, for the data dictionary."""

    name: str
    type: str
    unit: str
    keterangan: str
    description: str
    origin: str  # "batas", "tabel" or "povmap": where the value comes from


def _field(name: str, kind: str, unit: str, key: str, origin: str, **fields: object) -> Field:
    """A :class:`Field` whose descriptions are ``field.<key>`` in the message catalogue."""
    return Field(
        name,
        kind,
        unit,
        text(f"field.{key}", "id", **fields),
        text(f"field.{key}", "en", **fields),
        origin,
    )


def _poverty_fields() -> dict[str, Field]:
    fields = {
        "luas_km2": _field("LUAS_KM2", _REAL, "km²", "luas_km2", "povmap"),
        "jumlah_desa": _field("JML_DESA", _INTEGER, "desa", "jml_desa", "povmap"),
        "desa_berdata": _field("DESA_BDATA", _INTEGER, "desa", "desa_bdata", "povmap"),
        "jumlah_desa_tanpa_data": _field("DESA_TDATA", _INTEGER, "desa", "desa_tdata", "povmap"),
        "jumlah_sebagian": _field("JML_SBGN", _INTEGER, "-", "jml_sbgn", "povmap"),
        "jumlah_penduduk": _field("JML_PDDK", _INTEGER, "jiwa", "jml_pddk", "tabel"),
        "jumlah_keluarga": _field("JML_KK", _INTEGER, "KK", "jml_kk", "tabel"),
        "jumlah_miskin_ekstrem": _field("JML_ME", _INTEGER, "jiwa", "jml_me", "tabel"),
        "jumlah_keluarga_miskin_ekstrem": _field("JML_KK_ME", _INTEGER, "KK", "jml_kk_me", "tabel"),
        "persen_miskin_ekstrem": _field("PRS_ME", _REAL, "%", "prs_me", "povmap"),
        "kepadatan_miskin_ekstrem": _field("PADAT_ME", _REAL, "jiwa/km²", "padat_me", "povmap"),
    }
    for d in range(1, 11):
        fields[f"jumlah_desil_{d}"] = _field(f"JML_D{d}", _INTEGER, "jiwa", "jml_d", "tabel", d=d)
        fields[f"jumlah_keluarga_desil_{d}"] = _field(
            f"JML_KK_D{d}", _INTEGER, "KK", "jml_kk_d", "tabel", d=d
        )
        fields[f"persen_desil_{d}"] = _field(f"PRS_D{d}", _REAL, "%", "prs_d", "povmap", d=d)
    fields["kelas"] = _field("KELAS", _INTEGER, "-", "kelas", "povmap")
    fields["kantong"] = _field("KANTONG", _INTEGER, "-", "kantong", "povmap")
    fields["disamarkan"] = _field("DISAMARKAN", _INTEGER, "-", "disamarkan", "povmap")
    return fields


#: Canonical poverty column -> exported field, in output order.
POVERTY_FIELDS: dict[str, Field] = _poverty_fields()


def to_kugi(gdf: gpd.GeoDataFrame, level: str) -> gpd.GeoDataFrame:
    """Rename a povmap layer to the exported schema: KUGI area fields, then poverty fields.

    Parameters
    ----------
    gdf
        A desa or kecamatan layer with canonical columns (``povmap.run(...).layers[level]``).
    level
        ``"desa"`` or ``"kecamatan"``: which KUGI area fields apply, and whose name is
        ``NAMOBJ`` (the source's own ``NAMOBJ`` is kept when it has one).

    Returns
    -------
    A new frame with only the exported fields, counts as nullable integers, rates rounded to 4
    decimals, and the geometry (CRS of ``gdf``).

    Raises
    ------
    PovmapInputError
        ``level`` is not ``"desa"`` or ``"kecamatan"``, or ``gdf`` has no ``kode_<level>``.
    """
    if level not in ("desa", "kecamatan"):
        raise PovmapInputError.from_catalogue("kugi.level_export_supports_desa", level=level)
    own = f"kode_{level}"
    if own not in gdf.columns:
        raise PovmapInputError.from_catalogue("kugi.layer_no_column_cannot", level=level, own=own)
    columns: dict[str, pd.Series] = {}
    for canonical, kugi in KUGI_ADMIN.items():
        if canonical in gdf.columns:
            columns[kugi] = gdf[canonical].astype("object")
    by_upper = {str(c).upper(): c for c in gdf.columns}
    source_name = by_upper.get("NAMOBJ")
    columns["NAMOBJ"] = (
        gdf[source_name] if source_name is not None else gdf[f"nama_{level}"]
    ).astype("object")
    for kugi in KUGI_KEPT:
        if kugi in by_upper and kugi not in columns:
            columns[kugi] = gdf[by_upper[kugi]]
    for canonical, field in POVERTY_FIELDS.items():
        if canonical in gdf.columns:
            columns[field.name] = _typed(gdf[canonical], canonical, field)
    out = gpd.GeoDataFrame(
        pd.DataFrame(columns, index=gdf.index), geometry=gdf.geometry.values, crs=gdf.crs
    )
    return out.reset_index(drop=True)


def _typed(values: pd.Series, canonical: str, field: Field) -> pd.Series:
    if canonical in ("kantong", "disamarkan"):
        return _flag(values)
    if field.type == _STRING:
        return values.astype("object")
    if field.type == _INTEGER:
        numbers = pd.to_numeric(values.astype("object"), errors="coerce")
        return numbers.round().astype("Int64")
    return pd.to_numeric(values, errors="coerce").astype("float64").round(4)


def _flag(values: pd.Series) -> pd.Series:
    """A pocket flag as 1/0/null, whether the column holds booleans, 0/1 or pocket ids."""

    def one(v: object) -> object:
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return pd.NA
        if isinstance(v, str):
            return int(v.strip() not in ("", "0", "false", "False", "tidak"))
        return int(bool(v))

    return pd.Series([one(v) for v in values], index=values.index, dtype="Int64")


def shapefile_names(
    columns: list[str], preferred: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Field name -> shapefile name: cut to 10 characters, clashes numbered predictably.

    ``NAMA_PANJANG_SEKALI`` becomes ``NAMA_PANJA``; a second name cutting to the same becomes
    ``NAMA_PAN_1``, then ``NAMA_PAN_2`` ..., in column order. Names already short are unchanged.

    Parameters
    ----------
    columns
        The field names, in order.
    preferred
        Column -> its own short name (≤ 10 characters, e.g. a :class:`Field` name), taken
        before any cut name.

    Returns
    -------
    dict
        Column -> a name of at most 10 characters, unique without regard to case.
    """
    preferred = {c: n for c, n in (preferred or {}).items() if c in columns and len(n) <= 10}
    out: dict[str, str] = dict(preferred)
    taken = {n.upper() for n in preferred.values()}
    taken |= {c.upper() for c in columns if len(c) <= 10 and c not in preferred}
    for column in columns:
        if column in preferred:
            continue
        if len(column) <= 10:
            out[column] = column
            continue
        name, n = column[:10], 0
        while name.upper() in taken:
            n += 1
            suffix = f"_{n}"
            name = column[: 10 - len(suffix)] + suffix
        taken.add(name.upper())
        out[column] = name
    return out


def describe(
    layers: dict[str, gpd.GeoDataFrame],
    sources: dict[str, str] | None = None,
    fields: Mapping[str, Field] | None = None,
) -> list[dict[str, str]]:
    """The data dictionary: one row per field of each exported layer (output of :func:`to_kugi`).

    Parameters
    ----------
    layers
        ``{layer name: exported frame}``.
    sources
        ``{"batas": boundary file name, "tabel": counts file name, "register": register file
        name, "penerima": recipients list file name}``, written in ``sumber``.
    fields
        Column -> :class:`Field` of the layers' columns; by default the poverty fields
        (:data:`POVERTY_FIELDS`, by exported name). A field's ``name`` is its shapefile name
        (``field_shp``), which may differ from the column (the targeting layer keeps its
        canonical names in GeoJSON and GeoPackage).

    Returns
    -------
    list of dict
        ``lapisan, field, field_shp, tipe, satuan, keterangan, description, sumber`` per field.
    """
    sources = sources or {}
    origin_text = {
        "batas": f"Berkas batas wilayah ({sources['batas']})"
        if "batas" in sources
        else "Berkas batas wilayah",
        "tabel": f"Tabel jumlah ({sources['tabel']})" if "tabel" in sources else "Tabel jumlah",
        "register": f"Register by-name ({sources['register']})"
        if "register" in sources
        else "Register by-name",
        "penerima": f"Daftar penerima ({sources['penerima']})"
        if "penerima" in sources
        else "Daftar penerima",
        "povmap": "Dihitung oleh povmap",
    }
    by_name = dict(fields) if fields is not None else {f.name: f for f in POVERTY_FIELDS.values()}
    rows = []
    for layer, gdf in layers.items():
        names = [c for c in gdf.columns if c != gdf.geometry.name]
        shp = shapefile_names(names, {c: f.name for c, f in by_name.items()})
        for name in names:
            field = by_name.get(name)
            if field is None:
                key = f"kugi.{name}"  # a KUGI field's description, else its own name
                keterangan, description = (
                    (text(key, "id"), text(key, "en")) if has(key) else (name, name)
                )
                field = Field(
                    name,
                    _field_type(gdf[name]),
                    "sesuai sumber" if name == "LUAS" else "-",
                    keterangan,
                    description,
                    "batas",
                )
            rows.append(
                {
                    "lapisan": layer,
                    "field": name,
                    "field_shp": shp[name],
                    "tipe": field.type,
                    "satuan": field.unit,
                    "keterangan": field.keterangan,
                    "description": field.description,
                    "sumber": origin_text[field.origin],
                }
            )
    return rows


def write_dictionary(
    path: str | os.PathLike, rows: list[dict[str, str]], *, append: bool = False
) -> Path:
    """Write the data dictionary as CSV (UTF-8 with BOM, so Excel shows ² and × right).

    With ``append`` the rows go after those of the dictionary already at ``path`` (same
    columns), e.g. the targeting layer's after the poverty layers'.
    """
    path = Path(path)
    old = path.read_text(encoding="utf-8-sig") if append and path.exists() else ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["field"])
    if not old:
        writer.writeheader()
    writer.writerows(csv_row(row) for row in rows)  # no text cell is read as a formula
    write_text(path, "\ufeff" + old + buffer.getvalue())
    return path


def _field_type(values: pd.Series) -> str:
    if pd.api.types.is_integer_dtype(values):
        return _INTEGER
    if pd.api.types.is_float_dtype(values):
        return _REAL
    return _STRING
