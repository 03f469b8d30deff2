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

from .._messages import text
from ..classify import Classification
from ..i18n import format_number, format_percent, label
from .layers import category_label

#: Tooltip rows of a desa layer: (column, kind), kind choosing the number format.
#: ``pocket`` rows show the pocket type's legend text, ``match`` rows how the join matched the
#: row (``cara_padan``: kode / nama / mirip).
DESA_TOOLTIP = (
    ("nama_desa", "text"),
    ("nama_kecamatan", "text"),
    ("kode_desa", "text"),
    ("jumlah_miskin_ekstrem", "int"),
    ("jumlah_keluarga_miskin_ekstrem", "int"),
    ("jumlah_penduduk", "int"),
    ("persen_miskin_ekstrem", "percent"),
    ("kepadatan_miskin_ekstrem", "decimal"),
    ("jenis_kantong", "pocket"),
    ("id_kantong", "text"),
    ("cara_padan", "match"),
)
#: ``jumlah_desa`` is shown as "n dari N desa" berdata (with ``jumlah_desa_tanpa_data``).
KECAMATAN_TOOLTIP = (
    ("nama_kecamatan", "text"),
    ("kode_kecamatan", "text"),
    ("jumlah_miskin_ekstrem", "int"),
    ("jumlah_keluarga_miskin_ekstrem", "int"),
    ("jumlah_penduduk", "int"),
    ("persen_miskin_ekstrem", "percent"),
    ("kepadatan_miskin_ekstrem", "decimal"),
    ("desa_berdata", "berdata"),
)
#: Columns of the short hover tooltip (the click popup shows every row).
TOOLTIP_COLUMNS = (
    "nama_desa",
    "nama_kecamatan",
    "jumlah_miskin_ekstrem",
    "persen_miskin_ekstrem",
    "jenis_kantong",
)
#: Kinds of the mapped column when it is not in the rows above.
_KIND_BY_PREFIX = (("jumlah_", "int"), ("persen_", "percent"), ("kepadatan_", "decimal"))


def tooltip_rows(level: str, column: str | None = None) -> tuple[tuple[str, str], ...]:
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
    Field names, aliases, and a frame (same index as ``gdf``) holding the fields: numbers
    written the Indonesian way for ``"id"`` (``1.234``, ``1,09 %``), every text HTML-escaped.

    Raises
    ------
    PovmapInputError
        ``lang`` is neither ``"id"`` nor ``"en"``.
    """
    out = pd.DataFrame(index=gdf.index)
    fields: list[str] = []
    aliases: list[str] = []
    for column, kind in (r for r in rows if r[0] in gdf.columns):
        name = f"t{len(fields)}"
        out[name] = _texts(gdf, column, kind, lang)
        fields.append(name)
        aliases.append(html.escape(label(column, lang)))
    if classification is not None and "kelas" in gdf.columns:
        name = f"t{len(fields)}"
        out[name] = class_texts(gdf["kelas"].to_numpy(), classification, lang)
        fields.append(name)
        aliases.append(html.escape(label("kelas", lang)))
    return fields, aliases, out


def _texts(gdf: gpd.GeoDataFrame, column: str, kind: str, lang: str) -> list[str]:
    """One column's tooltip texts. An aggregate says what it rests on: ``desa_berdata`` reads
    "11 dari 18 desa", and a count of an area flagged ``jumlah_sebagian`` "1.234 (dari desa
    berdata)", since it sums only the desa that have it."""
    if kind == "berdata" and "jumlah_desa" in gdf.columns:
        return [
            text(
                "tooltip.of",
                lang,
                n=format_value(n, "int", lang),
                total=format_value(t, "int", lang),
            )
            for n, t in zip(gdf[column], gdf["jumlah_desa"], strict=True)
        ]
    texts = [format_value(v, "int" if kind == "berdata" else kind, lang) for v in gdf[column]]
    if column.startswith("jumlah_") and "jumlah_sebagian" in gdf.columns:
        partial = gdf["jumlah_sebagian"].fillna(0).astype(bool).to_numpy()
        texts = [
            text("tooltip.partial", lang, value=t) if p and t != "–" else t
            for t, p in zip(texts, partial, strict=True)
        ]
    return texts


def class_texts(classes: np.ndarray, classification: Classification, lang: str) -> list[str]:
    """The legend label of each area's class (escaped), as the legend names it ('Tidak ada data',
    'Data tidak lengkap' included)."""
    labels = {index: html.escape(text) for index, text, _ in classification.legend_items(lang)}
    return [labels[int(c)] for c in classes]


def short_fields(fields: tuple[list[str], list[str]], lang: str) -> list[str]:
    """Of (fields, aliases) from :func:`tooltip_frame`, those of the short hover tooltip."""
    wanted = {html.escape(label(c, lang)) for c in TOOLTIP_COLUMNS}
    return [f for f, a in zip(*fields, strict=True) if a in wanted]


def format_value(value: Any, kind: str, lang: str) -> str:
    """One tooltip value as escaped text; missing values become an en dash."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "–"
    if kind == "text":
        return html.escape(str(value))
    if kind == "pocket":
        return html.escape(category_label(str(value), lang))
    if kind == "match":
        return html.escape(label(f"cara_padan:{value}", lang).removeprefix("cara_padan:"))
    if kind == "percent":
        return format_percent(float(value), 2, lang)
    return format_number(float(value), 0 if kind == "int" else 1, lang)
