"""Tooltip and popup text, formatted in Python and HTML-escaped.

Numbers are written the Indonesian way here (``1.234``, ``1,09 %``), never left to the browser's
locale. Every value is escaped, because folium's tooltip and popup templates insert the property
values as HTML: a desa called ``<img src=x onerror=...>`` must show as text.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._messages import text
from ..classify import Classification
from ..i18n import check_lang, format_numbers, format_percents, label
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
#: The characters ``html.escape`` replaces.
_HTML_SPECIAL = ("&", "<", ">", '"', "'")
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


def _texts(gdf: gpd.GeoDataFrame, column: str, kind: str, lang: str) -> np.ndarray:
    """One column's tooltip texts. An aggregate says what it rests on: ``desa_berdata`` reads
    "11 dari 18 desa", and a count of an area flagged ``jumlah_sebagian`` "1.234 (dari desa
    berdata)", since it sums only the desa that have it."""
    if kind == "berdata" and "jumlah_desa" in gdf.columns:
        # Kecamatan and kabupaten layers only (hundreds of rows): the catalogue fills each text
        # (its plural forms), the numbers are formatted a column at a time.
        pairs = zip(
            column_texts(gdf[column], "int", lang),
            column_texts(gdf["jumlah_desa"], "int", lang),
            strict=True,
        )
        return np.array([text("tooltip.of", lang, n=n, total=t) for n, t in pairs], dtype=object)
    texts = column_texts(gdf[column], "int" if kind == "berdata" else kind, lang)
    if column.startswith("jumlah_") and "jumlah_sebagian" in gdf.columns:
        partial = gdf["jumlah_sebagian"].fillna(0).astype(bool).to_numpy() & (texts != "–")
        for i in np.flatnonzero(partial):  # only the areas summing part of their desa
            texts[i] = text("tooltip.partial", lang, value=texts[i])
    return texts


def column_texts(values: pd.Series, kind: str, lang: str) -> np.ndarray:
    """The tooltip texts of a whole column, escaped; missing values become an en dash.

    Parameters
    ----------
    values
        One column of the layer.
    kind
        ``text``, ``pocket`` (the pocket type's legend text), ``match`` (how the join matched),
        ``int``, ``percent`` (two decimals and " %") or ``decimal`` (one decimal).
    lang
        ``"id"`` or ``"en"``.

    Returns
    -------
    numpy.ndarray
        One ``str`` per value (object dtype), in order: numbers as :func:`format_number` and
        :func:`format_percent` write them, computed a column at a time (no Python call per
        value on the national layer's 83,403 desa).

    Raises
    ------
    PovmapInputError
        ``lang`` is neither ``"id"`` nor ``"en"``.
    """
    check_lang(lang)
    if kind == "percent":
        return format_percents(values, 2, lang)
    if kind not in ("text", "pocket", "match"):
        return format_numbers(values, 0 if kind == "int" else 1, lang)
    missing = pd.isna(values).to_numpy(dtype=bool)
    strings = pd.Series(values, copy=False).astype(object).to_numpy()
    if kind == "text":
        out = escaped(np.array(list(map(str, strings)), dtype=object))
    elif kind == "pocket":
        out = labelled(strings, lambda v: category_label(v, lang))
    else:
        out = labelled(
            strings, lambda v: label(f"cara_padan:{v}", lang).removeprefix("cara_padan:")
        )
    out[missing] = "–"
    return out


def _match_word(lang: str) -> Callable[[str], str]:
    """How the join matched a row (``cara_padan``: kode / nama / mirip), in ``lang``."""
    return lambda how: label(f"cara_padan:{how}", lang).removeprefix("cara_padan:")


def labelled(values: Any, name: Callable[[str], str]) -> np.ndarray:
    """``html.escape(name(str(value)))`` of each value, for a column of a few categories.

    Parameters
    ----------
    values
        A column (Series, array or list).
    name
        The text of one category, given ``str`` of the value.

    Returns
    -------
    numpy.ndarray
        One escaped ``str`` per value (object dtype): ``name`` is called once per distinct
        value, and its text spread to the rows.
    """
    strings = np.array(list(map(str, pd.Series(values, copy=False).astype(object))), dtype=object)
    codes, distinct = pd.factorize(strings)
    return np.array([html.escape(name(d)) for d in distinct], dtype=object)[codes]


def escaped(strings: np.ndarray) -> np.ndarray:
    """``html.escape`` of an object array of ``str``, a new array: the few strings holding one of
    ``& < > " '`` are found by numpy's vectorised search, and only they are escaped one by one."""
    out = strings.copy()
    if not out.size:
        return out
    fixed = out.astype(str)
    risky = np.logical_or.reduce([np.strings.find(fixed, c) >= 0 for c in _HTML_SPECIAL])
    out[risky] = [html.escape(s) for s in out[risky]]
    return out


def class_texts(classes: np.ndarray, classification: Classification, lang: str) -> np.ndarray:
    """The legend label of each area's class (escaped), as the legend names it ('Tidak ada data',
    'Data tidak lengkap' included)."""
    items = classification.legend_items(lang)
    where = pd.Index([index for index, _, _ in items]).get_indexer(np.asarray(classes, dtype=int))
    if (where < 0).any():  # a class the legend does not have: a fault of povmap
        raise KeyError(int(np.asarray(classes, dtype=int)[where < 0][0]))
    return np.array([html.escape(text) for _, text, _ in items], dtype=object)[where]


def short_fields(fields: tuple[list[str], list[str]], lang: str) -> list[str]:
    """Of (fields, aliases) from :func:`tooltip_frame`, those of the short hover tooltip."""
    wanted = {html.escape(label(c, lang)) for c in TOOLTIP_COLUMNS}
    return [f for f, a in zip(*fields, strict=True) if a in wanted]


def format_value(value: Any, kind: str, lang: str) -> str:
    """One tooltip value as escaped text (:func:`column_texts` of one value)."""
    return str(column_texts(pd.Series([value], dtype=object), kind, lang)[0])
