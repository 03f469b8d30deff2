"""Folium choropleth maps: a colour precomputed per feature, a trivial style function.

Tooltip text is formatted in Python (Indonesian numbers) and HTML-escaped, so a desa name is
shown as text, never run as markup.
"""

from __future__ import annotations

import html

import branca
import folium
import geopandas as gpd
import numpy as np

from .classify import Classification, classification_of, classify
from .i18n import check_lang, format_number, format_percent, label

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
)


def choropleth(
    gdf: gpd.GeoDataFrame,
    column: str = "persen_miskin_ekstrem",
    *,
    kecamatan: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    source: str | None = None,
    lang: str = "id",
    tiles: str | None = "OpenStreetMap",
    scheme: str = "quantiles",
    k: int = 5,
    breaks: list[float] | None = None,
) -> folium.Map:
    """Draw a choropleth of ``column`` with tooltips, a legend and kecamatan outlines.

    Parameters
    ----------
    gdf
        Joined layer (desa or kecamatan) with rates, from :func:`povmap.add_rates`; if it was
        classified with :func:`povmap.classify` on ``column``, those breaks are used.
    column
        The value to map.
    kecamatan
        Kecamatan layer drawn as outlines on top (e.g. from :func:`povmap.aggregate`).
    title, source
        Map title and data source shown with the legend.
    lang
        ``"id"`` (default) or ``"en"``.
    tiles
        A folium basemap name, or None for no basemap (works offline).
    scheme, k, breaks
        Classification, when ``gdf`` is not classified yet (see :func:`povmap.classify`).
    """
    check_lang(lang)
    found = gdf.attrs.get("povmap_classification")
    if found is None or found.column != column:
        gdf = classify(gdf, column, scheme=scheme, k=k, breaks=breaks)
    classification = classification_of(gdf)
    level = "desa" if "kode_desa" in gdf.columns else "kecamatan"
    m = folium.Map(tiles=tiles, control_scale=True, prefer_canvas=True)
    _add_choropleth_layer(m, gdf, classification, level, lang)
    if kecamatan is not None:
        _add_outline_layer(m, kecamatan, lang)
    _add_legend(m, classification, title or label("title_default", lang), source, lang)
    folium.LayerControl(collapsed=False).add_to(m)
    minx, miny, maxx, maxy = gdf.total_bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def tooltip_frame(
    gdf: gpd.GeoDataFrame, rows: tuple[tuple[str, str], ...], lang: str
) -> tuple[list[str], list[str], gpd.GeoDataFrame]:
    """Pre-formatted, escaped tooltip columns ``_t0``, ``_t1``, ... and their aliases."""
    out = gpd.GeoDataFrame(geometry=gdf.geometry.values, crs=gdf.crs, index=gdf.index)
    fields, aliases = [], []
    for i, (column, kind) in enumerate(r for r in rows if r[0] in gdf.columns):
        out[f"_t{i}"] = [_format(v, kind, lang) for v in gdf[column]]
        fields.append(f"_t{i}")
        aliases.append(html.escape(label(column, lang)))
    return fields, aliases, out


def _format(value: object, kind: str, lang: str) -> str:
    if kind == "text":
        return "–" if value is None or value != value else html.escape(str(value))
    number = None if value is None or (isinstance(value, float) and np.isnan(value)) else value
    if kind == "percent":
        return format_percent(number, 2, lang)
    return format_number(number, 0 if kind == "int" else 1, lang)


def _add_choropleth_layer(
    m: folium.Map, gdf: gpd.GeoDataFrame, classification: Classification, level: str, lang: str
) -> None:
    rows = DESA_TOOLTIP if level == "desa" else KECAMATAN_TOOLTIP
    fields, aliases, layer = tooltip_frame(gdf, rows, lang)
    layer["_warna"] = classification.color_of(gdf["kelas"].to_numpy())
    layer[f"kode_{level}"] = gdf[f"kode_{level}"].values
    folium.GeoJson(
        layer.to_json(drop_id=True),
        name=label(f"{level}_layer", lang),
        style_function=lambda f: {
            "fillColor": f["properties"]["_warna"], "fillOpacity": 0.8,
            "color": "#555555", "weight": 0.5,
        },
        highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
    ).add_to(m)


def _add_outline_layer(m: folium.Map, kecamatan: gpd.GeoDataFrame, lang: str) -> None:
    layer = kecamatan[["kode_kecamatan", "nama_kecamatan", "geometry"]].copy()
    layer["nama_kecamatan"] = layer["nama_kecamatan"].map(lambda v: html.escape(str(v)))
    folium.GeoJson(
        layer.to_json(drop_id=True),
        name=label("kecamatan_outline", lang),
        style_function=lambda f: {"fill": False, "color": "#222222", "weight": 2},
        interactive=False,
    ).add_to(m)


def legend_html(classification: Classification, title: str, source: str | None, lang: str) -> str:
    """The legend box: title, the column's label, one swatch per class and 'Tidak ada data'."""
    swatch = (
        '<div><span style="display:inline-block;width:14px;height:14px;margin-right:6px;'
        'border:1px solid #777;background:{color}"></span>{text}</div>'
    )
    items = [swatch.format(color=c, text=html.escape(t))
             for c, t in zip(classification.colors, classification.labels(lang), strict=True)]
    items.append(swatch.format(color=classification.no_data_color,
                               text=html.escape(classification.no_data_label(lang))))
    foot = f'<div style="margin-top:4px;color:#555">{html.escape(label("source", lang))}: ' \
           f"{html.escape(source)}</div>" if source else ""
    return (
        '<div class="povmap-legend" style="position:fixed;bottom:24px;right:12px;z-index:9999;'
        "background:white;padding:8px 10px;border:1px solid #999;border-radius:4px;"
        'font:12px sans-serif;max-width:280px">'
        f"<b>{html.escape(title)}</b><br>{html.escape(label(classification.column, lang))}"
        f"{''.join(items)}{foot}</div>"
    )


def _add_legend(
    m: folium.Map, classification: Classification, title: str, source: str | None, lang: str
) -> None:
    element = branca.element.Element(legend_html(classification, title, source, lang))
    m.get_root().html.add_child(element)
