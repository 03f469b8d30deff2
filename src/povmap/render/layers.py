"""The map's layers: desa and kecamatan choropleths, kecamatan outlines and labels, pockets.

All polygon layers are drawn from one :class:`~povmap.render.topo.TopologyData`; each feature
carries its class index ``k`` and the style function looks the colour up in the palette, so the
page holds no per-feature colour strings.
"""

from __future__ import annotations

import html
import json

import folium
import geopandas as gpd
import numpy as np
import shapely
from folium.map import Layer
from folium.template import Template
from folium.utilities import JsCode
from pyproj import CRS

from .. import _cache
from .._parallel import map_chunks
from ..i18n import label
from ..simplify import utm_crs
from .inert import InertMacroElement, InertPopup, InertTooltip
from .topo import TopoGeoJson, TopologyData, script_json

#: Colours of the pocket types of :mod:`povmap.pockets`, in legend order; other values get
#: tab10 colours after them. Hot types in magenta/purple, cold ones in blue.
POCKET_COLORS = {
    "kantong": "#7a0177",
    "pencilan_tinggi": "#e7298a",
    "dingin": "#2166ac",
    "pencilan_rendah": "#67a9cf",
}
#: Dash pattern of the cold pocket types (hot ones are solid): map stroke and legend swatch.
POCKET_DASH = {"dingin": "6 4", "pencilan_rendah": "6 4"}
#: Stroke width (pixels) of the pocket outlines, on the map and in the legend swatch.
POCKET_WEIGHT = 3
#: A white band under every pocket outline, this many pixels wider than it: a pocket is where
#: the classes are darkest, and a purple line alone vanishes on the darkest red.
POCKET_CASING = 3
#: Pocket values meaning "not a pocket": not drawn.
NOT_A_POCKET = {"", "tidak_signifikan", "tanpa_geometri", "tanpa_data", "none", "nan"}
#: Desa names are never drawn below this zoom level (Leaflet zoom; about 38 m per pixel at the
#: equator): the opening view of a kabupaten (zoom 9-11) shows the pattern of the classes, not 150
#: names. Above it each name appears once its desa is wide enough to hold it (:class:`DesaLabels`).
DESA_LABEL_MIN_ZOOM = 12
#: Font of the desa labels: the page measures each name in it (CSS ``.povmap-desa-label``).
DESA_LABEL_FONT = "600 11px sans-serif"
_TAB10 = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def palette_style(
    colors: list[str],
    no_data: str,
    *,
    opacity: float,
    weight: float,
    line: str = "#555555",
    incomplete: str | None = None,
    key: str = "k",
) -> JsCode:
    """A Leaflet style function colouring by the class index property ``key`` (-1 = no data,
    -2 = data tidak lengkap, coloured ``incomplete``).

    Several layers drawn from one topology object each read their own property (``key``).
    """
    other = (
        f"k === -2 ? {json.dumps(incomplete)} : {json.dumps(no_data)}"
        if incomplete
        else json.dumps(no_data)
    )
    return JsCode(
        "function(f) { var pal = "
        + json.dumps(list(colors))
        + "; var k = f.properties["
        + json.dumps(key)
        + "];"
        f" return {{fillColor: k >= 0 ? pal[k] : {other}, fillOpacity: {opacity},"
        f" color: {json.dumps(line)}, weight: {weight}}}; }}"
    )


def add_polygon_layer(
    m: folium.Map,
    topology: TopologyData,
    obj: str,
    *,
    name: str,
    style: JsCode,
    fields: list[str] | None = None,
    aliases: list[str] | None = None,
    show: bool = True,
    zoom_on_click: bool = False,
    tooltip_fields: list[str] | None = None,
) -> TopoGeoJson:
    """One interactive polygon layer with tooltip and popup (fields pre-formatted in Python).

    The popup shows every field; the hover tooltip only ``tooltip_fields`` (default: all).
    """
    tooltip = popup = None
    if fields:
        short = [f for f in fields if tooltip_fields is None or f in tooltip_fields]
        names = dict(zip(fields, aliases or fields, strict=True))
        tooltip = InertTooltip(fields=short, aliases=[names[f] for f in short], sticky=True)
        popup = InertPopup(fields=fields, aliases=aliases)
    layer = TopoGeoJson(
        topology,
        obj,
        style=style,
        name=name,
        show=show,
        tooltip=tooltip,
        popup=popup,
        highlight=bool(fields),
        zoom_on_click=zoom_on_click,
    )
    layer.add_to(m)
    return layer


def add_outline_layer(m: folium.Map, topology: TopologyData, obj: str, lang: str) -> None:
    """Kecamatan boundaries as thick lines, not clickable (the fill below stays clickable)."""
    style = JsCode("function(f) { return {fill: false, color: '#222222', weight: 1.8}; }")
    TopoGeoJson(
        topology, obj, style=style, name=label("kecamatan_outline", lang), interactive=False
    ).add_to(m)


def pocket_categories(values: list[str]) -> dict[str, str]:
    """Colour of each category present, known types first in legend order, others sorted."""
    present = {str(v) for v in values if v is not None and v == v}
    present -= NOT_A_POCKET
    cats = [c for c in POCKET_COLORS if c in present] + sorted(present - set(POCKET_COLORS))
    spare = iter(c for c in _TAB10 if c not in POCKET_COLORS.values())
    return {c: POCKET_COLORS.get(c) or next(spare, "#333333") for c in cats}


def pocket_style(categories: dict[str, str]) -> JsCode:
    """Pocket outlines over the choropleth: coloured stroke by type ``k``, no fill.

    An outline keeps the choropleth colour readable underneath and looks the same in the legend
    (:func:`povmap.render.legend.outline_swatch`), unlike a translucent fill mixed with the class.
    ``categories`` maps each type to its colour (:func:`pocket_categories`, whose order ``k``
    follows); only those colours and the dashes reach the script, never a type's name (text
    from a pockets table).
    """
    colors = list(categories.values())
    dashes = [POCKET_DASH.get(c) for c in categories]
    return JsCode(
        "function(f) { var pal = "
        + json.dumps(colors)
        + "; var dash = "
        + json.dumps(dashes)
        + "; var k = f.properties.k; return {fill: false, color: pal[k], weight: "
        f"{POCKET_WEIGHT}, opacity: 1, dashArray: dash[k], lineJoin: 'round'}}; }}"
    )


def pocket_casing_style() -> JsCode:
    """The white band drawn under the pocket outlines (:data:`POCKET_CASING`)."""
    return JsCode(
        "function(f) { return {fill: false, color: '#ffffff', weight: "
        f"{POCKET_WEIGHT + POCKET_CASING}, opacity: 1, lineJoin: 'round'}}; }}"
    )


def category_label(value: str, lang: str) -> str:
    """Legend text of a pocket type (``kantong:<value>`` in i18n), else the value made readable."""
    found = label(f"kantong:{value}", lang)
    return found if found != f"kantong:{value}" else str(value).replace("_", " ").capitalize()


class KecamatanLabels(Layer, InertMacroElement):
    """Kecamatan names as text labels at the centre of each kecamatan's largest inscribed circle
    (built with textContent, so a name is never markup)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.layerGroup(
            {{ this.data }}.map(function(d) {
                var span = document.createElement('span');
                span.textContent = d[0];
                return L.marker([d[1], d[2]], {
                    icon: L.divIcon({className: 'povmap-kec-label', html: span,
                                     iconSize: null, iconAnchor: [0, 0]}),
                    interactive: false, keyboard: false, zIndexOffset: 1000
                });
            })
        );
        {% endmacro %}
        """
    )

    def __init__(
        self, kecamatan: gpd.GeoDataFrame, name: str, show: bool = True, crs: CRS | None = None
    ):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "KecamatanLabels"
        # Largest first: where two names collide, LabelDeclutter keeps the first.
        self.data = script_json(
            [
                [n, round(y, 4), round(x, 4)]
                for n, x, y, _ in label_points(kecamatan, "nama_kecamatan", crs)
            ]
        )


class LabelDeclutter(InertMacroElement):
    """Hides a place name whose box would overlap a name already shown, after every zoom.

    Kecamatan names come first (largest kecamatan first, :class:`KecamatanLabels`), then the
    desa names (which never overlap one another, :class:`DesaLabels`): a desa name under a
    kecamatan name gives way. Measured in the page, so the real font decides.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(map) {
            var pending = false;
            function declutter() {
                pending = false;
                var box = map.getContainer(), view = box.getBoundingClientRect(), shown = [];
                var spans = [].concat(
                    [].slice.call(box.querySelectorAll('.povmap-kec-label span')),
                    [].slice.call(box.querySelectorAll('.povmap-desa-label span')));
                // All boxes read at once (visibility does not move them), then compared:
                // only the names on the screen, so a large map stays quick.
                var rects = spans.map(function(span) { return span.getBoundingClientRect(); });
                spans.forEach(function(span, i) {
                    var r = rects[i], hit = false;
                    if (r.right > view.left && r.left < view.right
                            && r.bottom > view.top && r.top < view.bottom) {
                        hit = shown.some(function(o) {
                            return r.left < o.right && o.left < r.right
                                && r.top < o.bottom && o.top < r.bottom;
                        });
                        if (!hit) { shown.push(r); }
                    }
                    span.style.visibility = hit ? 'hidden' : '';
                });
            }
            // After the label layers have updated for the new view (and once at the start).
            function later() {
                if (!pending) { pending = true; setTimeout(declutter, 0); }
            }
            map.on('zoomend moveend overlayadd overlayremove', later);
            later();
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "LabelDeclutter"


def escape_all(values: list[object]) -> list[str]:
    """HTML-escaped text of each value ('–' for missing)."""
    return ["–" if v is None or v != v else html.escape(str(v)) for v in values]


class DesaLabels(Layer, InertMacroElement):
    """Desa names that appear as the map zooms in, each once its desa can hold it.

    A name is shown when the zoom is at least :data:`DESA_LABEL_MIN_ZOOM` and the text's box
    (measured in the page in :data:`DESA_LABEL_FONT`) fits, diagonal included, inside the largest
    circle inscribed in its desa, at whose centre it is written. Desa do not overlap, so neither
    do their circles, and so two shown names never pile up, whatever the zoom and however small
    the desa of a town are. Names are built with textContent: a name is never markup.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function(map) {
            var group = L.layerGroup(), minZoom = {{ this.min_zoom }};
            var ctx = document.createElement('canvas').getContext('2d');
            ctx.font = {{ this.font|tojson }};
            var items = {{ this.data }}.map(function(d) {
                var span = document.createElement('span');
                span.textContent = d[0];
                // The label's box: text width plus its padding, by a line height of 14 px.
                var w = ctx.measureText(d[0]).width + 4, h = 14;
                return {need: Math.sqrt(w * w + h * h), metres: d[3],
                        cos: Math.cos(d[1] * Math.PI / 180),
                        marker: L.marker([d[1], d[2]], {
                            icon: L.divIcon({className: 'povmap-desa-label', html: span,
                                             iconSize: null, iconAnchor: [0, 0]}),
                            interactive: false, keyboard: false})};
            });
            function update() {
                if (!map.hasLayer(group)) { return; }
                var z = map.getZoom();
                items.forEach(function(it) {
                    // Web Mercator: metres per pixel at this latitude and zoom.
                    var mpp = 40075016.686 * it.cos / Math.pow(2, z + 8);
                    var show = z >= minZoom && it.metres / mpp >= it.need;
                    if (show !== group.hasLayer(it.marker)) {
                        if (show) { group.addLayer(it.marker); }
                        else { group.removeLayer(it.marker); }
                    }
                });
            }
            map.on('zoomend', update);
            group.on('add', update);
            return group;
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        desa: gpd.GeoDataFrame,
        name: str,
        show: bool = True,
        min_zoom: int = DESA_LABEL_MIN_ZOOM,
        crs: CRS | None = None,
    ):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "DesaLabels"
        self.min_zoom = int(min_zoom)
        self.font = DESA_LABEL_FONT
        self.data = script_json(
            [
                [n, round(y, 5), round(x, 5), round(d)]
                for n, x, y, d in label_points(desa, "nama_desa", crs)
            ]
        )


def label_points(
    gdf: gpd.GeoDataFrame, column: str, crs: CRS | None = None
) -> list[tuple[str, float, float, float]]:
    """Where to write each area's name: ``(name, x, y, diameter)``, largest area first.

    ``x, y`` (in ``gdf``'s CRS) is the centre of the area's largest inscribed circle, the point
    farthest from its border, where a label sits best; ``diameter`` is that circle's, in
    metres (computed in ``crs``, by default the local UTM zone). Areas without a name or a
    geometry get no label.
    """
    names = gdf[column]
    keep = (
        names.notna()
        & names.astype(str).str.strip().ne("")
        & gdf.geometry.notna()
        & ~gdf.geometry.is_empty
    ).to_numpy()
    areas = gdf[keep]
    if not len(areas):
        return []
    circles = _inscribed_circles(areas.geometry, crs or utm_crs(areas))
    points = [
        (str(n), x, y, d) for n, (x, y, d) in zip(areas[column], circles.tolist(), strict=True)
    ]
    return sorted(points, key=lambda item: -item[3])


def _inscribed_circles(geoms: gpd.GeoSeries, crs: CRS) -> np.ndarray:
    """``x, y`` (in the CRS of ``geoms``) and diameter (m, in ``crs``) of each area's largest
    inscribed circle, one row per area; from povmap's cache when these areas had them (keyed
    on their geometries and ``crs``, as :func:`povmap.simplify.simplify_coverage`)."""

    def compute() -> np.ndarray:
        utm = geoms.to_crs(crs)
        # A tolerance of 1/100 of the area's size: a precise enough circle at any scale.
        tolerance = np.maximum(np.sqrt(utm.area.to_numpy()) / 100, 1.0)
        # On all cores: each circle depends on its own area only (the same circles as serial).
        lines = map_chunks(
            shapely.maximum_inscribed_circle,
            (utm.values, tolerance),
            weights=shapely.get_num_coordinates(utm.values),
        )
        centres = gpd.GeoSeries(shapely.get_point(lines, 0), crs=crs).to_crs(geoms.crs)
        return np.column_stack([centres.x, centres.y, 2 * shapely.length(lines)])

    def unpack(entry: dict[str, np.ndarray]) -> np.ndarray:
        circles = entry["circles"]
        if circles.shape != (len(geoms), 3) or circles.dtype != np.float64:
            raise ValueError("another layer's entry")
        return circles

    key = _cache.key(
        {},
        {"label_points": CRS.from_user_input(crs).to_wkt()},
        [__file__, _cache.__file__],
        _cache.geometry_data(geoms.values, geoms.crs),
    )
    return _cache.computed(key, compute, lambda c: {"circles": c}, unpack)
