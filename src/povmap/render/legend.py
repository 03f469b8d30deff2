"""Legends and the title box, as HTML built in Python from the :class:`Classification`.

The legend colours and class edges come from the same object as the map colours and the SLD/QML
styles, so they cannot disagree. Every text is escaped: titles and sources are user input.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence

import pandas as pd
from folium.template import Template

from .._messages import text
from ..classify import Classification
from ..i18n import format_number, format_percent, label
from ..metrics import has_data
from .inert import InertMacroElement

_SWATCH = (
    '<div class="povmap-item"><span class="povmap-swatch" style="background:{color}"></span>'
    "{text}</div>"
)
_CSS = """
<style>
.povmap-box{background:#fff;padding:6px 9px;border:1px solid #999;border-radius:4px;
  font:12px/1.35 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.25)}
.povmap-legend{position:absolute;bottom:26px;right:10px;z-index:800;max-width:260px;
  max-height:70vh;overflow:auto}
.povmap-legend summary{cursor:pointer;font-weight:600}
.povmap-title{position:absolute;top:10px;left:50%;transform:translateX(-50%);z-index:800;
  max-width:60%;text-align:center}
.povmap-title b{font-size:15px}
.povmap-section{margin-top:4px}
.povmap-swatch{display:inline-block;width:14px;height:14px;margin-right:6px;
  vertical-align:-2px;border:1px solid #777}
.povmap-swatch.povmap-outline{border:none;width:26px;height:16px;vertical-align:-4px}
.povmap-foot{margin-top:4px;color:#444}
.povmap-kec-label span,.povmap-desa-label span{position:absolute;transform:translate(-50%,-50%);
  padding:0 2px;white-space:nowrap;line-height:14px;
  text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff}
.povmap-kec-label span{color:#222;font:700 11px sans-serif;text-transform:uppercase;
  letter-spacing:.05em}
.povmap-desa-label span{color:#111;font:600 11px sans-serif}
.leaflet-popup-content table,.leaflet-tooltip table{font:12px/1.3 sans-serif;
  border-collapse:collapse}
.leaflet-popup-content th,.leaflet-tooltip th{text-align:left;font-weight:600;color:#333;
  padding:1px 10px 1px 0;vertical-align:top}
.leaflet-popup-content td,.leaflet-tooltip td{padding:1px 0;vertical-align:top}
.povmap-zoom select{max-width:190px;font:12px sans-serif}
</style>
"""


#: Unit of a mapped column by its name's prefix (first match), shown in the legend heading.
UNITS = (
    ("persen_", "%"),
    ("kepadatan_", "unit:jiwa_km2"),
    ("jumlah_keluarga", "KK"),
    ("jumlah_", "unit:jiwa"),
)


def legend_heading(column: str, lang: str) -> str:
    """The column's label with its unit: ``Persentase penduduk miskin ekstrem (%)``."""
    text = label(column, lang)
    unit = next((u for prefix, u in UNITS if column.startswith(prefix)), None)
    if unit is None:
        return text
    unit = label(unit, lang) if unit.startswith("unit:") else unit
    return text if text.endswith(f"({unit})") else f"{text} ({unit})"


def default_title(gdf: pd.DataFrame, vintage: str | None, lang: str) -> str:
    """ "Kemiskinan ekstrem Kab. Hulu Sungai Selatan, 2024" when the region and year are known.

    The region is the layer's one ``nama_kabupaten`` (else its one ``nama_provinsi``); the
    period is the year in ``vintage`` (else ``vintage`` itself). Without a region, the generic
    title.
    """
    region = None
    for column in ("nama_kabupaten", "nama_provinsi"):
        names = gdf[column].dropna().unique() if column in gdf.columns else []
        if len(names) == 1:
            region = re.sub(r"^Kabupaten\s+", "Kab. ", str(names[0]))
            break
    if region is None:
        return label("title_default", lang)
    title = label("title_region", lang, region=region)
    if vintage:
        year = re.search(r"\b(19|20)\d\d\b", vintage)
        title += f", {year.group(0) if year else vintage}"
    return title


def graduated_items(classification: Classification, lang: str) -> list[tuple[str, str]]:
    """(colour, label) of each class, light to dark, then "Data tidak lengkap" (when some area
    is) and "Tidak ada data": :meth:`Classification.legend_items`, as the SLD/QML rules.

    Parameters
    ----------
    classification
        The classes of the map (``povmap.classify(...).classification``).
    lang
        ``"id"`` or ``"en"``: the language of the labels and of their numbers (``1,5`` or
        ``1.5``).

    Returns
    -------
    list of (str, str)
        ``(colour "#rrggbb", label)`` per legend entry, in the legend's order.

    Raises
    ------
    PovmapInputError
        ``lang`` is neither ``"id"`` nor ``"en"``.
    """
    return [(colour, text) for _, text, colour in classification.legend_items(lang)]


def outline_swatch(color: str, weight: float, dash: str | None, casing: float = 0) -> str:
    """An inline SVG swatch drawn with the same stroke (colour, width, dashes) as the map, over
    a white band ``casing`` pixels wider when the map draws one."""
    dash_attr = f' stroke-dasharray="{html.escape(dash)}"' if dash else ""
    outer = weight + casing
    rects = (
        []
        if not casing
        else [
            f'<rect x="{outer / 2}" y="{outer / 2}" width="{26 - outer}" height="{16 - outer}"'
            f' fill="none" stroke="#ffffff" stroke-width="{outer}"/>'
        ]
    )
    rects.append(
        f'<rect x="{outer / 2}" y="{outer / 2}" width="{26 - outer}" height="{16 - outer}"'
        f' fill="none" stroke="{html.escape(color)}" stroke-width="{weight}"{dash_attr}/>'
    )
    return (
        '<svg class="povmap-swatch povmap-outline" width="26" height="16" '
        f'viewBox="0 0 26 16">{"".join(rects)}</svg>'
    )


def section_html(
    layer_name: str,
    heading: str,
    items: Sequence[tuple[str, str]],
    shown: bool = True,
    note: str | None = None,
) -> str:
    """One legend section, tied to the layer called ``layer_name`` (shown while it is on);
    ``note`` is a small line under its entries (e.g. :func:`coverage_note`). An item whose colour
    is an ``<svg`` swatch (:func:`outline_swatch`) is drawn as that swatch. An empty ``heading``
    writes none (a section whose one entry already names it)."""
    swatches = "".join(
        _SWATCH.format(color=html.escape(c), text=html.escape(t))
        if not c.startswith("<svg")
        else f'<div class="povmap-item">{c}{html.escape(t)}</div>'
        for c, t in items
    )
    style = "" if shown else ' style="display:none"'
    foot = f'<div class="povmap-foot">{html.escape(note)}</div>' if note else ""
    return (
        f'<div class="povmap-section" data-layer="{html.escape(layer_name)}"{style}>'
        f"{f'<b>{html.escape(heading)}</b>' if heading else ''}{swatches}{foot}</div>"
    )


def coverage_note(gdf: pd.DataFrame, classification: Classification, lang: str) -> str:
    """How many desa the mapped values rest on, as the legend says it: "141 dari 148 desa
    berdata", and for an aggregate layer the areas not classified ("2 kecamatan: data tidak
    lengkap, desa berdata < 50 %").

    Parameters
    ----------
    gdf
        The classified layer: desa (counted with :func:`povmap.metrics.has_data`) or an
        aggregate with ``desa_berdata`` and ``jumlah_desa`` (:func:`povmap.aggregate`).
    classification
        Its classification (the mapped column, the areas marked incomplete, the threshold).
    lang
        ``"id"`` or ``"en"``.
    """
    if "desa_berdata" in gdf.columns and "jumlah_desa" in gdf.columns:
        n, total = gdf["desa_berdata"].sum(), gdf["jumlah_desa"].sum()
    else:
        n, total = has_data(gdf, classification.column).sum(), len(gdf)
    note = text("legend.of", lang, n=format_number(n, 0, lang), total=format_number(total, 0, lang))
    if classification.incomplete:
        level = "kabupaten" if "nama_kecamatan" not in gdf.columns else "kecamatan"
        note += text(
            "legend.incomplete",
            lang,
            m=classification.incomplete,
            level=text(f"legend.{level}", lang),
            label=classification.incomplete_label(lang).lower(),
            share=format_percent(100 * classification.min_coverage, 0, lang),
        )
    return note


def title_html(title: str, notes: Sequence[str]) -> str:
    """The title box at the top of the map; ``notes`` are small lines under the title."""
    lines = "".join(f"<div>{html.escape(n)}</div>" for n in notes if n)
    return f'<div class="povmap-box povmap-title"><b>{html.escape(title)}</b>{lines}</div>'


def footer_lines(source: str | None, vintage: str | None, suppressed: bool, lang: str) -> list[str]:
    """Data source, vintage and the small-cell suppression note, as plain text lines."""
    lines = []
    if source:
        lines.append(f"{label('source', lang)}: {source}")
    if vintage:
        lines.append(f"{label('vintage', lang)}: {vintage}")
    if suppressed:
        lines.append(label("suppressed_note", lang))
    return lines


class MapDecorations(InertMacroElement):
    """Title box and legend on top of the map; legend sections follow the layer control."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}{{ this.css }}{% endmacro %}
        {% macro html(this, kwargs) %}
        {{ this.title_html }}
        <details class="povmap-box povmap-legend" open><summary>{{ this.toggle }}</summary>
        {{ this.sections }}{{ this.foot }}</details>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function(map) {
            // Inside the map container the boxes stay visible in fullscreen mode.
            var box = map.getContainer();
            document.querySelectorAll('.povmap-legend, .povmap-title').forEach(function(el) {
                box.appendChild(el);
                L.DomEvent.disableClickPropagation(el);
                L.DomEvent.disableScrollPropagation(el);
            });
            function toggle(e, show) {
                document.querySelectorAll('.povmap-section').forEach(function(el) {
                    if (el.getAttribute('data-layer') === e.name) {
                        el.style.display = show ? '' : 'none';
                    }
                });
            }
            map.on('overlayadd', function(e) { toggle(e, true); });
            map.on('overlayremove', function(e) { toggle(e, false); });
            L.control.scale({metric: true, imperial: false}).addTo(map);
            // After every control is on the page (scripts run in order, this one later): on a
            // small screen the legend starts folded; the data are fitted into the space left of
            // the right-hand column (layer list, legend) and below the title, so no box covers
            // them at the opening view.
            setTimeout(function() {
                var box = map.getContainer(), legend = box.querySelector('.povmap-legend');
                if (box.clientWidth < 700) { legend.open = false; }
                var right = 0;
                box.querySelectorAll('.povmap-legend, .leaflet-top.leaflet-right .leaflet-control'
                ).forEach(function(el) { right = Math.max(right, el.offsetWidth); });
                // The left-hand column (zoom, search): the data go below it or beside it,
                // whichever leaves them larger.
                var leftW = 0, leftH = 0;
                box.querySelectorAll('.leaflet-top.leaflet-left .leaflet-control').forEach(
                    function(el) {
                        leftW = Math.max(leftW, el.offsetLeft + el.offsetWidth);
                        leftH = Math.max(leftH, el.offsetTop + el.offsetHeight);
                    });
                // The title is centred in the gap between the two columns, never under a
                // control (a long layer list is wide).
                var title = box.querySelector('.povmap-title');
                if (title) {
                    var gapL = leftW + 10, gapR = box.clientWidth - right - 20;
                    title.style.left = ((gapL + gapR) / 2) + 'px';
                    title.style.boxSizing = 'border-box';
                    title.style.maxWidth = Math.max(gapR - gapL, 120) + 'px';
                }
                var top = title ? title.offsetTop + title.offsetHeight : 0;
                var bounds = L.latLngBounds({{ this.bounds }});
                var options = [[10, Math.max(top, leftH) + 10], [leftW + 10, top + 10]];
                var best = options.map(function(tl) {
                    return map.getBoundsZoom(bounds, false,
                                             L.point(tl[0] + right + 20, tl[1] + 10));
                });
                var tl = best[1] > best[0] ? options[1] : options[0];
                map.fitBounds(bounds, {paddingTopLeft: tl, paddingBottomRight: [right + 20, 10]});
            }, 0);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        title: str,
        notes: Sequence[str],
        sections: Sequence[str],
        foot: Sequence[str],
        bounds: Sequence[float] | None = None,
        lang: str = "id",
    ):
        super().__init__()
        # (minx, miny, maxx, maxy) in degrees: the opening view, fitted beside the boxes.
        x0, y0, x1, y1 = bounds if bounds is not None else (-180.0, -85.0, 180.0, 85.0)
        self.bounds = json.dumps([[float(y0), float(x0)], [float(y1), float(x1)]])
        self.toggle = html.escape(label("legend_toggle", lang))
        self._name = "MapDecorations"
        self.css = _CSS
        self.title_html = title_html(title, notes)
        self.sections = "".join(sections)
        self.foot = "".join(f'<div class="povmap-foot">{html.escape(t)}</div>' for t in foot)
