"""Tooltip and popup text, formatted in Python and HTML-escaped.

Numbers are written the Indonesian way here (``1.234``, ``1,09 %``), never left to the browser's
locale. Every value is escaped, because folium's tooltip and popup templates insert the property
values as HTML: a desa called ``<img src=x onerror=...>`` must show as text.
"""

from __future__ import annotations

import html
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..classify import Classification
from ..i18n import format_number, format_percent, label

#: Tooltip rows of a desa layer: (column, kind), kind choosing the number format.
DESA_TOOLTIP = (
    ("nama_desa", "text"), ("nama_kecamatan", "text"), ("kode_desa", "text"),
    ("jumlah_miskin_ekstrem", "int"), ("jumlah_penduduk", "int"),
    ("persen_miskin_ekstrem", "percent"), ("kepadatan_miskin_ekstrem", "decimal"),
)
KECAMATAN_TOOLTIP = (
    ("nama_kecamatan", "text"), ("kode_kecamatan", "text"),
    ("jumlah_miskin_ekstrem", "int"), ("jumlah_penduduk", "int"),
    ("persen_miskin_ekstrem", "percent"), ("kepadatan_miskin_ekstrem", "decimal"),
    ("jumlah_desa", "int"),
)
#: Kinds of the mapped column when it is not in the rows above.
_KIND_BY_PREFIX = (("jumlah_", "int"), ("persen_", "percent"), ("kepadatan_", "decimal"))


def tooltip_rows(
    level: str, column: str | None = None
) -> tuple[tuple[str, str], ...]:
    """The (column, kind) rows of a ``desa`` or ``kecamatan`` tooltip, with ``column`` included."""
    rows: tuple[tuple[str, str], ...] = DESA_TOOLTIP if level == "desa" else KECAMATAN_TOOLTIP
    if column and column not in {c for c, _ in rows}:
        kind = next((k for p, k in _KIND_BY_PREFIX if column.startswith(p)), "decimal")
        rows = (*rows, (column, kind))
    return rows


def tooltip_frame(
    gdf: gpd.GeoDataFrame,
    rows: tuple[tuple[str, str], ...],
    lang: str,
    classification: Classification | None = None,
) -> tuple[list[str], list[str], pd.DataFrame]:
    """Pre-formatted, escaped tooltip columns ``t0``, ``t1``, ... and their escaped aliases.

    Parameters
    ----------
    gdf
        The layer.
    rows
        (column, kind) pairs; absent columns are skipped. Kinds: text, int, percent, decimal.
    lang
        ``"id"`` or ``"en"``.
    classification
        When given, a last row ``kelas`` shows the class range of each area.

    Returns
    -------
    Field names, aliases, and a frame (same index as ``gdf``) holding the fields.
    """
    out = pd.DataFrame(index=gdf.index)
    fields: list[str] = []
    aliases: list[str] = []
    for column, kind in (r for r in rows if r[0] in gdf.columns):
        name = f"t{len(fields)}"
        out[name] = [format_value(v, kind, lang) for v in gdf[column]]
        fields.append(name)
        aliases.append(html.escape(label(column, lang)))
    if classification is not None and "kelas" in gdf.columns:
        name = f"t{len(fields)}"
        out[name] = class_texts(gdf["kelas"].to_numpy(), classification, lang)
        fields.append(name)
        aliases.append(html.escape(label("kelas", lang)))
    return fields, aliases, out


def class_texts(classes: np.ndarray, classification: Classification, lang: str) -> list[str]:
    """The legend label of each area's class (escaped), as the legend names it ('Tidak ada data',
    'Data tidak lengkap' included)."""
    labels = {index: html.escape(text) for index, text, _ in classification.legend_items(lang)}
    return [labels[int(c)] for c in classes]


def format_value(value: Any, kind: str, lang: str) -> str:
    """One tooltip value as escaped text; missing values become an en dash."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "–"
    if kind == "text":
        return html.escape(str(value))
    if kind == "percent":
        return format_percent(float(value), 2, lang)
    return format_number(float(value), 0 if kind == "int" else 1, lang)
