"""Compact map data: the layers embedded once as quantized TopoJSON, decoded in the browser.

GeoJSON writes every shared edge twice (once per neighbour) with full decimal coordinates.
TopoJSON stores each edge once, as small integer deltas, so the desa layer and the kecamatan
layer dissolved from it share almost all their bytes. The page decodes it with topojson-client
(shipped in ``povmap/static``) into ordinary Leaflet GeoJSON layers, so tooltips, popups, search
and Canvas rendering work as with :class:`folium.GeoJson`.
"""

from __future__ import annotations

import json
from typing import Any

import folium
import geopandas as gpd
import topojson
from folium.elements import JSCSSMixin
from folium.template import Template
from folium.utilities import JsCode

from .inert import InertMacroElement

#: Quantization step in metres: a tenth of the default simplification tolerance, invisible at
#: any zoom the simplified lines are good for.
GRID_M = 10.0

TOPOJSON_CLIENT = (
    "topojson-client",
    "https://cdn.jsdelivr.net/npm/topojson-client@3.1.0/dist/topojson-client.min.js",
)


def build_topology(layers: dict[str, gpd.GeoDataFrame], grid_m: float = GRID_M) -> dict:
    """One TopoJSON topology holding every layer as a named object (edges shared across them).

    Parameters
    ----------
    layers
        Object name -> layer in EPSG:4326 whose non-geometry columns become the properties.
    grid_m
        Coordinates are quantized to about this many metres.

    Returns
    -------
    dict
        The TopoJSON ``Topology`` (``objects``, quantized delta-encoded ``arcs``, ``transform``,
        ``bbox``), as :meth:`topojson.Topology.to_dict` gives it.
    """
    # What Topology.to_dict returns, without its deep copy of every arc (about a fifth of the
    # topology's time): the Topology object is dropped here, so nothing else shares the dict.
    # (to_dict also resolves point coordinates; these layers are polygons only.)
    data = _topology(layers, grid_m).output
    data.pop("options", None)
    data.pop("coordinates", None)
    return data


def _topology(layers: dict[str, gpd.GeoDataFrame], grid_m: float) -> topojson.Topology:
    frames = [gdf.reset_index(drop=True) for gdf in layers.values()]
    minx, miny, maxx, maxy = frames[0].total_bounds
    extent_m = max(maxx - minx, maxy - miny) * 111_320.0  # degrees to metres, near the equator
    steps = int(min(max(extent_m / grid_m, 1_000), 1_000_000))
    return topojson.Topology(
        frames,
        object_name=list(layers),
        topology=True,
        prequantize=steps,
        presimplify=False,
        toposimplify=False,
    )


def script_json(data: object) -> str:
    """Compact JSON that is safe inside a ``<script>`` element (no ``</script>`` can appear)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def split_properties(topology: dict) -> tuple[dict, dict[str, dict[str, list]]]:
    """Move the features' properties out of the topology into one list per field and object.

    Column-wise, each field name is written once per layer instead of once per feature, and the
    feature ids topojson adds (unused by the map) are dropped.
    """
    columns: dict[str, dict[str, list]] = {}
    for name, obj in topology["objects"].items():
        geometries = obj.get("geometries", [])
        keys = list(dict.fromkeys(k for g in geometries for k in g.get("properties", {})))
        columns[name] = {k: [g.get("properties", {}).get(k) for g in geometries] for k in keys}
        for g in geometries:
            g.pop("properties", None)
            g.pop("id", None)
    return topology, columns


class TopologyData(JSCSSMixin, InertMacroElement):
    """The topology and its property columns as JavaScript variables, read by every layer."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = {{ this.json }};
        var {{ this.get_name() }}_props = {{ this.props_json }};
        {% endmacro %}
        """
    )
    default_js = [TOPOJSON_CLIENT]

    def __init__(self, topology: dict):
        super().__init__()
        self._name = "TopologyData"
        topology, self.columns = split_properties(topology)
        self.json = script_json(topology)
        self.props_json = script_json(self.columns)

    @classmethod
    def from_layers(
        cls, layers: dict[str, gpd.GeoDataFrame], grid_m: float = GRID_M
    ) -> TopologyData:
        """The data of :func:`build_topology` ``(layers, grid_m)``, built faster.

        topojson gets the geometries alone (it copies every feature's properties deeply), and
        the property columns are taken from the layers as they are.

        Parameters
        ----------
        layers, grid_m
            As for :func:`build_topology`.

        Returns
        -------
        TopologyData
        """
        shapes = {
            name: gpd.GeoDataFrame(geometry=gdf.geometry.values, crs=gdf.crs)
            for name, gdf in layers.items()
        }
        data = cls(build_topology(shapes, grid_m))
        data.columns = {
            name: {c: gdf[c].tolist() for c in gdf.columns if c != gdf.geometry.name}
            for name, gdf in layers.items()
        }
        data.props_json = script_json(data.columns)
        return data


class TopoGeoJson(folium.GeoJson, InertMacroElement):
    """A Leaflet GeoJSON layer made from one object of a :class:`TopologyData`.

    Styling is a JavaScript function (per-feature colours travel as a property), so folium does
    not write a per-feature style table. Tooltips, popups and the Search plugin attach to it as to
    :class:`folium.GeoJson`.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }}_fc = topojson.feature(
            {{ this.topology.get_name() }},
            {{ this.topology.get_name() }}.objects[{{ this.object|tojson }}]);
        (function(fc, cols) {
            fc.features.forEach(function(f, i) {
                var p = {};
                for (var key in cols) { p[key] = cols[key][i]; }
                f.properties = p;
            });
        })({{ this.get_name() }}_fc,
           {{ this.topology.get_name() }}_props[{{ this.object|tojson }}]);
        var {{ this.get_name() }} = L.geoJson(
            {{ this.get_name() }}_fc,
            {
                style: {{ this.style_js }},
                onEachFeature: function(feature, layer) {
                    {%- if this.hover %}
                    layer.on({
                        mouseover: function(e) {
                            e.target.setStyle({weight: 2.5, color: '#000000'});
                        },
                        mouseout: function(e) { {{ this.get_name() }}.resetStyle(e.target); }
                    });
                    {%- endif %}
                    {%- if this.zoom_on_click %}
                    layer.on('click', function(e) {
                        {{ this.parent_map.get_name() }}.fitBounds(e.target.getBounds());
                    });
                    {%- endif %}
                },
                ...{{ this.options|tojavascript }}
            }
        );
        {% endmacro %}
        """
    )

    def __init__(
        self,
        topology: TopologyData,
        obj: str,
        *,
        style: JsCode,
        name: str,
        show: bool = True,
        control: bool = True,
        highlight: bool = False,
        zoom_on_click: bool = False,
        tooltip: folium.GeoJsonTooltip | None = None,
        popup: folium.GeoJsonPopup | None = None,
        **options: Any,
    ):
        columns = topology.columns[obj]
        # folium's tooltip, popup and search check field names against the first feature.
        sample = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": None,
                    "properties": {key: values[0] for key, values in columns.items() if values},
                }
            ],
        }
        super().__init__(
            sample, name=name, show=show, control=control, tooltip=tooltip, popup=popup, **options
        )
        self._name = "TopoGeoJson"
        self.topology = topology
        self.object = obj
        self.style_js = style
        self.hover = highlight
        self.zoom_on_click = zoom_on_click
