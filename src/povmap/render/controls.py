"""Map controls: basemaps (including none), search, zoom to a kecamatan, fullscreen, layers."""

from __future__ import annotations

import folium
import geopandas as gpd
from folium.elements import JSCSSMixin
from folium.template import Template

from ..i18n import label
from .choice import basemap_name
from .inert import InertMacroElement
from .search import SEARCH_JS, SEARCH_OPTIONS, search_rules
from .topo import TopoGeoJson, script_json


def add_basemaps(m: folium.Map, tiles: str | None, lang: str) -> None:
    """The chosen basemap shown, the others offered, and 'no basemap' (all that works offline).

    With no basemap chosen nothing is loaded from the network at all, so the map is complete
    offline; the empty base layer is still there so the layer control reads the same.
    """
    chosen = basemap_name(tiles)
    if chosen is not None:
        for name in dict.fromkeys([chosen, "OpenStreetMap", "Esri.WorldImagery"]):
            # Named for the reader ("Citra satelit"), not by the tile provider's id.
            folium.TileLayer(name, name=label(f"basemap:{name}", lang), show=name == chosen).add_to(
                m
            )
    folium.FeatureGroup(name=label("no_basemap", lang), overlay=False, show=chosen is None).add_to(
        m
    )


# The search box and the fullscreen button are the Leaflet plugins folium.plugins.Search and
# Fullscreen load (vendored for offline pages, povmap._offline), drawn by povmap's own elements:
# importing folium.plugins loads and compiles all of folium's ~40 plugins, about 0.15 s of CPU,
# a twentieth of a province map (benchmarks/README.md).
#: leaflet-search, as ``folium.plugins.Search`` loads it.
SEARCH_LIBRARY_JS = [
    (
        "Leaflet.Search.js",
        "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.js",
    )
]
SEARCH_LIBRARY_CSS = [
    (
        "Leaflet.Search.css",
        "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.css",
    )
]


class Fullscreen(JSCSSMixin, InertMacroElement):
    """The fullscreen button (leaflet.fullscreen, as ``folium.plugins.Fullscreen`` adds it)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.control.fullscreen(
                {{ this.options|tojavascript }}
            ).addTo({{this._parent.get_name()}});
        {% endmacro %}
        """
    )
    default_js = [
        (
            "Control.Fullscreen.js",
            "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js",
        )
    ]
    default_css = [
        (
            "Control.FullScreen.css",
            "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css",
        )
    ]

    def __init__(self, title: str, title_cancel: str):
        super().__init__()
        self._name = "Fullscreen"
        self.options = {
            "position": "topleft",
            "title": title,
            "title_cancel": title_cancel,
            "force_separate_button": False,
        }


class PlaceSearch(JSCSSMixin, InertMacroElement):
    """Search desa by name or by kecamatan name (matches anywhere in "Desa, Kecamatan").

    The suggestions are built with textContent: names are data, never markup.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = new L.Control.Search({
            layer: {{ this.layer.get_name() }},
            propertyName: {{ this.search_label|tojson }},
"""
        + SEARCH_OPTIONS
        + """            moveToLocation: function(latlng, title, map) {
                map.fitBounds(latlng.layer.getBounds(), {maxZoom: 14});
            }
        });
        (function(search, layer) {
            // The found desa stays outlined and its popup open until the next search.
            var found = null;
            search.on('search:locationfound', function(e) {
                if (found) { layer.resetStyle(found); }
                found = e.layer;
                found.setStyle({color: '#00e5ff', weight: 4, opacity: 1});
                found.bringToFront();
                // The popup is bound to the layer, not the feature: open it as a click does.
                var map = layer._map, c = found.getCenter();
                found.fire('click', {latlng: c, layerPoint: map.latLngToLayerPoint(c),
                                     containerPoint: map.latLngToContainerPoint(c)}, true);
            });
        })({{ this.get_name() }}, {{ this.layer.get_name() }});
        {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
        {% endmacro %}
        """
    )

    default_js = SEARCH_LIBRARY_JS
    default_css = SEARCH_LIBRARY_CSS

    def __init__(self, layer: TopoGeoJson, search_label: str, lang: str):
        super().__init__()
        self._name = "Search"
        if search_label not in layer.topology.columns[layer.object]:
            raise ValueError(f"the layer has no property {search_label!r} to search")
        self.layer = layer
        self.search_label = search_label
        self.placeholder = label("search_placeholder", lang)
        self.text_err = label("search_not_found", lang)
        self.search_js = SEARCH_JS
        self.rules = search_rules()


class KecamatanZoom(JSCSSMixin, InertMacroElement):
    """A select box listing the kecamatan; choosing one zooms the map to it."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(map) {
            var places = {{ this.data }};
            var control = L.control({position: 'topright'});
            control.onAdd = function() {
                var div = L.DomUtil.create('div', 'povmap-box povmap-zoom');
                var select = L.DomUtil.create('select', '', div);
                var first = document.createElement('option');
                first.value = '';
                first.textContent = {{ this.prompt|tojson }};
                select.appendChild(first);
                places.forEach(function(p, i) {
                    var opt = document.createElement('option');
                    opt.value = String(i);
                    opt.textContent = p[0];
                    select.appendChild(opt);
                });
                select.addEventListener('change', function() {
                    if (select.value === '') { map.fitBounds({{ this.all_bounds }}); return; }
                    var b = places[Number(select.value)][1];
                    map.fitBounds(b);
                });
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            control.addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, kecamatan: gpd.GeoDataFrame, lang: str):
        super().__init__()
        self._name = "KecamatanZoom"
        ordered = kecamatan.sort_values("nama_kecamatan")
        self.data = script_json(
            [
                [str(n), [[round(b[1], 4), round(b[0], 4)], [round(b[3], 4), round(b[2], 4)]]]
                for n, b in zip(
                    ordered["nama_kecamatan"], ordered.geometry.bounds.to_numpy(), strict=True
                )
            ]
        )
        x0, y0, x1, y1 = kecamatan.total_bounds
        self.all_bounds = script_json([[y0, x0], [y1, x1]])
        self.prompt = label("zoom_to_kecamatan", lang)


def add_controls(
    m: folium.Map,
    *,
    search_layer: TopoGeoJson | None,
    search_label: str,
    kecamatan: gpd.GeoDataFrame | None,
    lang: str,
) -> None:
    """Fullscreen, search, zoom-to-kecamatan and the layer control (added last: it lists all)."""
    Fullscreen(label("fullscreen", lang), label("fullscreen_exit", lang)).add_to(m)
    if search_layer is not None:
        PlaceSearch(search_layer, search_label, lang).add_to(m)
    if kecamatan is not None and len(kecamatan) > 1:
        KecamatanZoom(kecamatan, lang).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
