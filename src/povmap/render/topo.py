"""Compact map data: the layers embedded once as quantized TopoJSON, decoded in the browser.

GeoJSON writes every shared edge twice (once per neighbour) with full decimal coordinates.
TopoJSON stores each edge once, as small integer deltas, so the desa layer and the kecamatan
layer dissolved from it share almost all their bytes. The page decodes it with topojson-client
(shipped in ``povmap/static``) into ordinary Leaflet GeoJSON layers, so tooltips, popups, search
and Canvas rendering work as with :class:`folium.GeoJson`.

The topology is built here (:func:`topology_of`, numpy and shapely) rather than by the
``topojson`` package, against the project's rule of preferring a library, because that package
does not keep features aligned with their rows: it drops a missing geometry (printing "removed 1
invalid geometric object" to standard output) and fails on a layer with no geometry at all,
so a popup would show the next desa's numbers. On a clean coverage the two give the same
topology once decoded (``tests/test_topo.py`` checks it against ``topojson``), ours in a fifth
of the time.
"""

from __future__ import annotations

import json
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.elements import JSCSSMixin
from folium.template import Template
from folium.utilities import JsCode
from geopandas.array import GeometryArray

from .. import _cache
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
        ``bbox``) of :func:`topology_of`, each geometry with its feature's ``properties``.
    """
    topology = topology_of([gdf.geometry.values for gdf in layers.values()], list(layers), grid_m)
    for name, gdf in layers.items():
        records = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).to_dict("records")
        for geometry, record in zip(topology["objects"][name]["geometries"], records, strict=True):
            geometry["properties"] = record
    return topology


def topology_of(
    layers: list[np.ndarray | GeometryArray], names: list[str], grid_m: float = GRID_M
) -> dict:
    """The TopoJSON topology of polygon layers: each shared boundary stored once, as an arc.

    The coordinates are quantized on one grid of about ``grid_m`` metres (the steps of
    ``topojson.Topology(prequantize=...)``, whose output this equals once decoded for a clean
    coverage, in a fifth of its time). A point is a junction where the rings through it do
    not all come from and go to the same two neighbours; each ring is cut at its junctions
    and identical pieces, in either direction, become one arc. The rings are encoded exactly as
    quantized (repeated points dropped; no vertex added or moved), in their own orientation.

    Parameters
    ----------
    layers
        Geometry arrays (Polygon or MultiPolygon, EPSG:4326; missing or empty ones allowed).
    names
        The object name of each layer.
    grid_m
        The quantization step in metres (near the equator).

    Returns
    -------
    dict
        ``{"type": "Topology", "objects": {name: GeometryCollection}, "bbox", "transform",
        "arcs"}``; a feature without geometry has ``{"type": None}``.
    """
    arrays = [np.asarray(layer, dtype=object) for layer in layers]
    geoms = np.concatenate(arrays) if arrays else np.empty(0, dtype=object)
    # The grid's steps from the first layer's extent (all layers' if it has no geometry).
    first = shapely.total_bounds(arrays[0]) if arrays and arrays[0].size else [np.nan] * 4
    every = shapely.total_bounds(geoms) if geoms.size else np.zeros(4)
    every = np.nan_to_num(every)  # no geometry at all: an empty topology
    minx, miny, maxx, maxy = (float(v) for v in (first if np.isfinite(first).all() else every))
    extent_m = max(maxx - minx, maxy - miny) * 111_320.0  # degrees to metres, near the equator
    steps = int(min(max(extent_m / grid_m, 1_000), 1_000_000))
    x0, y0, x1, y1 = (float(v) for v in every)
    kx = 1.0 if x1 == x0 else (x1 - x0) / (steps - 1)
    ky = 1.0 if y1 == y0 else (y1 - y0) / (steps - 1)
    parts, part_geom = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    grid = np.round((xy - [x0, y0]) / [kx, ky]).astype(np.int64)
    points = _Rings(grid, ring_of, len(rings))
    arcs, ring_arcs = points.arcs()

    # Each polygon: its rings' arcs (exterior first, as shapely gives them); each feature: its
    # polygons.
    part_rings: list[list[list[int]]] = [[] for _ in range(len(parts))]
    for arc_ids, part in zip(ring_arcs, ring_part.tolist(), strict=True):
        part_rings[part].append(arc_ids)
    feature_parts: list[list[list[list[int]]]] = [[] for _ in range(len(geoms))]
    for polygon, feature in zip(part_rings, part_geom.tolist(), strict=True):
        if polygon:  # an empty polygon has no ring
            feature_parts[feature].append(polygon)
    out: list[dict[str, Any]] = []
    for polygons, kind in zip(feature_parts, shapely.get_type_id(geoms).tolist(), strict=True):
        if not polygons:
            out.append({"type": None})
        elif kind == shapely.GeometryType.POLYGON and len(polygons) == 1:
            out.append({"type": "Polygon", "arcs": polygons[0]})
        else:
            out.append({"type": "MultiPolygon", "arcs": polygons})
    objects, offset = {}, 0
    for name, array in zip(names, arrays, strict=True):
        objects[name] = {
            "type": "GeometryCollection",
            "geometries": out[offset : offset + array.size],
        }
        offset += array.size
    return {
        "type": "Topology",
        "objects": objects,
        "bbox": [x0, y0, x1, y1],
        "transform": {"scale": [kx, ky], "translate": [x0, y0]},
        "arcs": arcs,
    }


class _Rings:
    """The quantized rings of :func:`topology_of`, cut into shared arcs with numpy."""

    def __init__(self, grid: np.ndarray, ring_of: np.ndarray, n_rings: int):
        # One integer per grid point, so that points compare (and sort) as numbers.
        key = grid[:, 0] * (int(grid[:, 1].max(initial=0)) + 1) + grid[:, 1]
        # Drop each ring's closing point and the points quantization put on the one before.
        same_ring = np.zeros(len(key), dtype=bool)
        same_ring[1:] = ring_of[1:] == ring_of[:-1]
        closing = np.ones(len(key), dtype=bool)
        closing[:-1] = ~same_ring[1:]
        repeated = same_ring & (key == np.roll(key, 1))
        keep = ~closing & ~repeated
        key, grid, ring_of = key[keep], grid[keep], ring_of[keep]
        counts = np.bincount(ring_of, minlength=n_rings)
        starts = np.cumsum(counts) - counts
        # ... and a ring's last point when it is now its first.
        last = starts + counts - 1
        longer = counts > 1
        wraps = np.zeros(len(key), dtype=bool)
        wraps[last[longer]] = key[last[longer]] == key[starts[longer]]
        key, grid, ring_of = key[~wraps], grid[~wraps], ring_of[~wraps]
        self.key, self.grid, self.ring_of = key, grid, ring_of
        self.counts = np.bincount(ring_of, minlength=n_rings)
        self.starts = np.cumsum(self.counts) - self.counts

    def junctions(self) -> np.ndarray:
        """Whether each point is a junction: reached between different neighbours somewhere."""
        key, n = self.key, len(self.key)
        index = np.arange(n)
        position = index - self.starts[self.ring_of]
        count = self.counts[self.ring_of]
        before = key[np.where(position == 0, index + count - 1, index - 1)]
        after = key[np.where(position == count - 1, index - count + 1, index + 1)]
        low, high = np.minimum(before, after), np.maximum(before, after)
        order = np.lexsort((high, low, key))
        k, lo, hi = key[order], low[order], high[order]
        other = (k[1:] == k[:-1]) & ((lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1]))
        return np.isin(key, k[1:][other])

    def closed_rings(self, junction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every ring as point indexes, from its first junction (or, without one, from its
        smallest point, so that equal rings start alike) back to that point again; and where
        each ring starts in that array."""
        n, ring_of, counts, starts = len(self.key), self.ring_of, self.counts, self.starts
        position = np.arange(n) - starts[ring_of]
        none = np.iinfo(np.int64).max
        first = np.full(len(counts), none)
        np.minimum.at(first, ring_of[junction], position[junction])
        by_key = np.lexsort((self.key, ring_of))
        head = np.ones(n, dtype=bool)
        head[1:] = ring_of[by_key][1:] != ring_of[by_key][:-1]
        smallest = np.zeros(len(counts), dtype=np.int64)
        smallest[ring_of[by_key][head]] = position[by_key][head]
        shift = np.where(first == none, smallest, first)
        rotated = np.empty(n, dtype=np.int64)
        rotated[starts[ring_of] + (position - shift[ring_of]) % counts[ring_of]] = np.arange(n)
        closed_starts = starts + np.arange(len(counts))
        closed = np.empty(n + len(counts), dtype=np.int64)
        closed[closed_starts[ring_of] + position] = rotated
        closed[closed_starts + counts] = rotated[starts]
        return closed, closed_starts

    def arcs(self) -> tuple[list[list[list[int]]], list[list[int]]]:
        """The arcs (delta-encoded grid points) and each ring's arc indexes (``~i``: arc ``i``
        reversed)."""
        junction = self.junctions()
        closed, closed_starts = self.closed_rings(junction)
        ends = closed_starts + self.counts
        cut = junction[closed]
        cut[closed_starts] = True
        cut[ends] = True
        cuts = np.flatnonzero(cut)
        is_end = np.zeros(len(closed), dtype=bool)
        is_end[ends] = True
        arc_start = cuts[~is_end[cuts]]
        arc_end = cuts[np.searchsorted(cuts, arc_start, side="right")]
        # Pieces compared as bytes: the same points forwards, or backwards, are one arc.
        keys = self.key[closed]
        forwards, backwards, size = keys.tobytes(), keys[::-1].tobytes(), len(keys)
        found: dict[bytes, int] = {}
        uses: list[int] = []
        first_s: list[int] = []
        first_e: list[int] = []
        for s, e in zip(arc_start.tolist(), arc_end.tolist(), strict=True):
            piece = forwards[8 * s : 8 * (e + 1)]
            arc = found.get(piece)
            if arc is None:
                reverse = found.get(backwards[8 * (size - 1 - e) : 8 * (size - s)])
                if reverse is not None:
                    uses.append(~reverse)
                    continue
                arc = found[piece] = len(first_s)
                first_s.append(s)
                first_e.append(e)
            uses.append(arc)
        lengths = np.asarray(first_e, dtype=np.int64) - np.asarray(first_s, dtype=np.int64) + 1
        offsets = np.cumsum(lengths) - lengths
        flat = np.repeat(np.asarray(first_s, dtype=np.int64) - offsets, lengths)
        flat += np.arange(int(lengths.sum()))
        points = self.grid[closed[flat]]
        deltas = np.diff(points, axis=0, prepend=points[:1])
        deltas[offsets] = points[offsets]
        as_list = deltas.tolist()
        bounds = np.append(offsets, len(as_list)).tolist()
        arcs = [as_list[bounds[i] : bounds[i + 1]] for i in range(len(first_s))]
        ring_arcs: list[list[int]] = [[] for _ in range(len(self.counts))]
        for ring, arc in zip(self.ring_of[closed[arc_start]].tolist(), uses, strict=True):
            ring_arcs[ring].append(arc)
        return arcs, ring_arcs


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

    def __init__(self, topology: dict | str):
        """``topology``: a TopoJSON topology (its properties become the columns), or the text
        of one without properties (:func:`script_json`)."""
        super().__init__()
        self._name = "TopologyData"
        self.columns: dict[str, dict[str, list]] = {}
        if isinstance(topology, str):
            self.json = topology
        else:
            topology, self.columns = split_properties(topology)
            self.json = script_json(topology)
        self.props_json = script_json(self.columns)

    @classmethod
    def from_layers(
        cls, layers: dict[str, gpd.GeoDataFrame], grid_m: float = GRID_M
    ) -> TopologyData:
        """The data of ``TopologyData(build_topology(layers, grid_m))``, built faster: the
        property columns are taken from the layers as they are, not through a dict per feature,
        and the topology's text comes from povmap's cache when these geometries (WKB and CRS of
        each layer, in order) and ``grid_m`` made it before (:mod:`povmap._cache`).

        Parameters
        ----------
        layers, grid_m
            As for :func:`build_topology`.

        Returns
        -------
        TopologyData
        """
        shapes = [gdf.geometry.values for gdf in layers.values()]
        names = list(layers)
        key = _cache.key(
            {},
            {"topology": [names, float(grid_m)]},
            [__file__, _cache.__file__],
            [b for s in shapes for b in _cache.geometry_data(np.asarray(s), s.crs)],
        )
        text = _cache.computed(
            key,
            lambda: script_json(topology_of(shapes, names, grid_m)),
            lambda t: {"json": np.frombuffer(t.encode(), dtype=np.uint8)},
            lambda entry: entry["json"].tobytes().decode(),
        )
        data = cls(text)
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
