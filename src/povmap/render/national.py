"""National-scale HTML maps: kabupaten at the opening view, desa loaded per view from chunks.

A province map embeds every desa as one TopoJSON layer that the page decodes and draws at once
(:mod:`povmap.render.topo`). For the whole country (83,403 desa, 8.8 million vertices) that page
weighed 38 MB, needed 30 s before Chromium drew anything and more than 400 s to build
(``coverage_clean`` of the national layer alone takes 228 s). A large layer is drawn here
instead as:

- a **kabupaten/kota choropleth** (values aggregated from the desa, classified on their own
  values with the desa layer's scheme) and **province outlines**, both small and simplified, drawn
  as soon as the page opens;
- the **desa**, stored per kabupaten as compact binary chunks: coordinates quantized to
  :data:`GRID_DEG` and delta-encoded per ring (Int32, little-endian), followed by the chunk's
  pre-formatted popup texts as JSON, the whole gzip-compressed and base64-encoded inside an inert
  ``<script type="application/octet-stream">`` block that the browser never executes. The page
  decodes a chunk (with the browser's own ``DecompressionStream('gzip')``, offline) only once the
  view is at :data:`DESA_MIN_ZOOM` or closer and overlaps the chunk's bounding box, and draws it on
  one Canvas renderer.

Names and other text from the files reach the page only as JSON inside those inert blocks
(escaped by :func:`povmap.render.topo.script_json` or inside the gzip payload), never as
template or script source. Popups and tooltips show the same pre-formatted, escaped texts as a
province map (:func:`povmap.render.tooltips.tooltip_frame`).

The desa are simplified polygon by polygon (:func:`simplify_fast`: ``shapely.simplify`` without
topology preservation, a few seconds for the whole country) rather than as a cleaned coverage
(``coverage_clean`` 228 s; ``coverage_simplify`` of the raw layer 119 s, then an error; both per
kabupaten 290 s): at the zoom levels where desa appear (one pixel is about 150 m at zoom 10) the
slivers this leaves between neighbours are under a pixel wide.

**Poverty pockets** (``pockets``) are drawn as on a province map (:mod:`.pocket_outlines`: one
outline per pocket, its category's colour over a white casing, the same legend section, taking
no clicks). A pocket is found over the whole layer, so its desa may lie in several kabupaten
chunks. Each pocket's outline (the union of its simplified desa, gaps narrower than 100 m
closed) is stored whole in the pocket chunk ``p<i>`` of every kabupaten holding one of its
desa, numbered; from :data:`DESA_MIN_ZOOM` the page draws each pocket of the shown chunks once
(by its number), so a pocket is outlined whole whichever of its kabupaten is loaded, and
exactly once when several are. The other way, outlining each desa's edges that face no desa of
its pocket, was not taken: the desa are simplified one by one, so two neighbours' edges do not
coincide and their shared edge cannot be told from an outer one, and a dashed outline cut in
pieces restarts its dashes at every piece. Storing whole outlines costs only the duplicates of
the pockets across a border. Measured on the national layer (83,403 desa) with a hand-made
pocket table of 2,640 outlines (601 pockets of 6,450 desa, 95 of them across 2 to 5
kabupaten; 1,668 low cluster desa and 371 poor desa among better-off ones, each on its own):
the page grows from 24.9 to 26.5 MB (pocket chunks 0.93 MB, of which the duplicates are 14 %
of the vertices; coarse outlines 0.38 MB), the build by 3-4 s, and the first polygons
come as soon as without pockets (2.4-4.4 s against 2.3-3.6 s, headless Chromium on the shared
2-core machine under load): the coarse outlines are decoded once the kabupaten are drawn.
Below :data:`DESA_MIN_ZOOM` those outlines, simplified like the kabupaten (500 m), show where
the pockets are, and each kabupaten's popup counts its pockets, desa in pockets and poor desa
among better-off ones.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
from functools import partial

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from .._offline import OfflineMap
from .._progress import step
from ..boundaries import dissolve
from ..classify import Classified, classify
from ..i18n import label
from ..metrics import aggregate_values
from .controls import SEARCH_LIBRARY_CSS, SEARCH_LIBRARY_JS, Fullscreen, add_basemaps
from .inert import InertMacroElement
from .layers import POCKET_CASING, POCKET_DASH, POCKET_WEIGHT
from .legend import (
    MapDecorations,
    coverage_note,
    default_title,
    footer_lines,
    graduated_items,
    legend_heading,
    outline_swatch,
    section_html,
)
from .pocket_outlines import POCKET_CLOSE_M, closed_union, pocket_outlines, pocket_section
from .search import SEARCH_JS, SEARCH_OPTIONS, search_keys, search_rules
from .tooltips import short_fields, tooltip_frame, tooltip_rows
from .topo import script_json

#: Leaflet zoom from which desa are drawn (about 150 m per pixel at the equator); below it the
#: kabupaten choropleth is shown. At zoom 10 a 1,100-pixel-wide window spans about 120 km.
DESA_MIN_ZOOM = 10
#: Decoded desa chunks the page keeps at most (about 10,000 desa): those out of view longest are
#: dropped first.
MAX_DECODED_CHUNKS = 60
#: Simplification tolerances (metres) of the desa and of the kabupaten/province outlines.
DESA_TOLERANCE_M = 100.0
KABUPATEN_TOLERANCE_M = 500.0
#: A polygon's simplification tolerance as a share of its size (:func:`simplify_fast`).
SIZE_FRACTION = 1 / 30
#: Quantization step of the chunk coordinates in degrees (about 1.1 m; 5 decimals).
GRID_DEG = 1e-5
#: Metres per degree of latitude (and of longitude at the equator): Indonesia lies within 11° of
#: it, where a degree of longitude is still 98 % of this.
METRES_PER_DEGREE = 111_320.0


def simplify_fast(geoms: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Simplify each polygon on its own (Douglas-Peucker in degrees), in proportion to its size,
    never to nothing.

    A desa's tolerance is :data:`SIZE_FRACTION` of its size (the square root of its area),
    between a fifth of ``tolerance_m`` and ``tolerance_m``: a town desa 300 m across, read at
    zoom 14 or closer, keeps its shape (20 m), a rural one 5 km across loses what no zoom at
    which it fills the screen shows (100 m). Nationally this keeps 2.5 million of the 8.8
    million vertices (a flat 100 m: 2.1 million) in about 4 s.

    Parameters
    ----------
    geoms
        Polygons and multipolygons in EPSG:4326.
    tolerance_m
        The largest tolerance in metres, turned into degrees with :data:`METRES_PER_DEGREE`.

    Returns
    -------
    numpy.ndarray
        The simplified geometries; a polygon too small for its tolerance keeps its own outline
        (simplifying it would leave an empty geometry: a desa missing from the map).
    """
    size_m = np.sqrt(shapely.area(geoms)) * METRES_PER_DEGREE
    tolerance = np.clip(size_m * SIZE_FRACTION, tolerance_m / 5, tolerance_m)
    out = shapely.simplify(geoms, tolerance / METRES_PER_DEGREE, preserve_topology=False)
    lost = shapely.is_empty(out) | shapely.is_missing(out)
    out[lost] = geoms[lost]
    return out


def encode_chunk(geoms: np.ndarray, props: dict[str, list], origin: tuple[float, float]) -> bytes:
    """Polygons and their properties as one gzip-compressed binary chunk.

    Layout (little-endian Int32 unless said): ``nFeatures, nPolygons, nRings, nCoords,
    nPropBytes``; feature -> polygon offsets (``nFeatures + 1``); polygon -> ring offsets
    (``nPolygons + 1``); ring -> coordinate offsets (``nRings + 1``); ``2 * nCoords`` coordinates
    on a grid of :data:`GRID_DEG` from ``origin``, the first of each ring absolute and the others
    the difference to the previous one; then ``nPropBytes`` of UTF-8 JSON (one list per property,
    in feature order).

    Parameters
    ----------
    geoms
        Polygons/multipolygons in EPSG:4326, none empty.
    props
        Property name -> one JSON-able value per geometry.
    origin
        ``(lon, lat)`` of the grid's origin (the chunk's lower-left corner).

    Returns
    -------
    bytes
        The gzip-compressed chunk.
    """
    _, coords, (rings, polygons, features) = shapely.to_ragged_array(_as_multi(geoms))
    grid = np.rint((coords - np.asarray(origin)) / GRID_DEG).astype(np.int64)
    deltas = grid.copy()
    deltas[1:] -= grid[:-1]
    starts = rings[:-1]
    deltas[starts] = grid[starts]
    text = json.dumps(props, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    head = np.array(
        [len(features) - 1, len(polygons) - 1, len(rings) - 1, len(grid), len(text)], "<i4"
    )
    body = b"".join(
        np.asarray(a, "<i4").tobytes() for a in (head, features, polygons, rings, deltas.ravel())
    )
    # Level 3: a third of level 6's time for 1 % more bytes (measured on 80 kabupaten).
    return gzip.compress(body + text, compresslevel=3, mtime=0)


def _as_multi(geoms: np.ndarray) -> np.ndarray:
    """Every geometry as a MultiPolygon (one ragged layout for all)."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    return shapely.multipolygons(parts[keep], indices=owner[keep], out=np.full(len(geoms), None))


class NationalData(InertMacroElement):
    """The inert data blocks of a national map and the script that draws them.

    One ``application/json`` block holds the layout (chunk ids and boxes, fields, palettes,
    labels); one ``application/octet-stream`` block per chunk holds its base64 text. The script
    (:data:`NATIONAL_JS`) reads them with ``textContent``: data never become code.
    """

    _template = Template(
        """
        {% macro html(this, kwargs) %}{{ this.blocks }}{% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = ({{ this.js }})(
            {{ this._parent.get_name() }},
            JSON.parse(document.getElementById({{ this.meta_id|tojson }}).textContent));
        {% endmacro %}
        """
    )

    def __init__(self, meta: dict, chunks: dict[str, bytes]):
        super().__init__()
        self._name = "NationalData"
        self.meta_id = f"{self.get_name()}_meta"
        meta = {**meta, "ids": {key: f"{self.get_name()}_{key}" for key in chunks}}
        parts = [
            f'<script type="application/json" id="{self.meta_id}">{script_json(meta)}</script>'
        ]
        # base64 has no '<', '&' or quote: the text cannot end its block.
        parts += [
            f'<script type="application/octet-stream" id="{meta["ids"][key]}">'
            f"{base64.b64encode(data).decode('ascii')}</script>"
            for key, data in chunks.items()
        ]
        self.blocks = "\n".join(parts)
        self.js = NATIONAL_JS
        self.size = sum(len(p) for p in parts)


class NationalSearch(JSCSSMixin, InertMacroElement):
    """The search box of a national map: finds any desa by name (as :mod:`.search` folds and
    ranks them), loads its chunk, zooms to it and opens its popup.

    The list of names is decoded the first time something is typed.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = new L.Control.Search({
            sourceData: {{ this.data.get_name() }}.searchSource,
            formatData: function(records) { return records; },
            tooltipLimit: 30,
"""
        + SEARCH_OPTIONS
        + """            moveToLocation: function(record) {
                {{ this.data.get_name() }}.locate(record);
            }
        });
        {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
        {% endmacro %}
        """
    )
    default_js = SEARCH_LIBRARY_JS
    default_css = SEARCH_LIBRARY_CSS

    def __init__(self, data: NationalData, lang: str):
        super().__init__()
        self._name = "NationalSearch"
        self.data = data
        self.search_js = SEARCH_JS
        self.rules = search_rules()
        self.placeholder = label("search_placeholder", lang)
        self.text_err = label("search_not_found", lang)


class NationalLayer(Layer, InertMacroElement):
    """One of the layers the :class:`NationalData` script made, for the layer control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = {{ this.data.get_name() }}.layers[{{ this.key|tojson }}];
        {% endmacro %}
        """
    )

    def __init__(self, data: NationalData, key: str, name: str, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "NationalLayer"
        self.data = data
        self.key = key


def national_choropleth(
    drawn: Classified,
    *,
    kecamatan: gpd.GeoDataFrame | None = None,
    pockets: pd.DataFrame | None = None,
    title: str | None = None,
    source: str | None = None,
    vintage: str | None = None,
    suppressed: bool = False,
    lang: str = "id",
    tiles: str | None = "OpenStreetMap",
    tolerance: float = DESA_TOLERANCE_M,
) -> OfflineMap:
    """Draw a national (or any large) desa choropleth that opens quickly.

    Parameters
    ----------
    drawn
        The classified desa layer (EPSG:4326, canonical columns with ``kode_kabupaten``,
        ``nama_kabupaten``, ``kode_provinsi``, ``nama_provinsi``, and ``kelas``).
    kecamatan
        The kecamatan layer of the same desa (:func:`povmap.aggregate`), if at hand: the
        kabupaten outlines are dissolved from it (faster than from the desa).
    pockets
        Per-desa poverty pockets, ``kode_desa``, ``jenis_kantong`` and ``id_kantong``
        (:func:`povmap.render.pocket_outlines.pocket_table`): each desa's popup says its pocket,
        each pocket is outlined (:func:`_pocket_chunks`), coarsely at the opening view and
        along its desa from :data:`DESA_MIN_ZOOM`, and each kabupaten's popup counts its
        pockets (:func:`_kabupaten_pockets`).
    title, source, vintage, suppressed, lang, tiles
        As in :func:`povmap.choropleth`.
    tolerance
        Simplification tolerance of the desa in metres (each polygon on its own).

    Returns
    -------
    OfflineMap
        The map; ``.save(path)`` writes the self-contained page.

    Raises
    ------
    PovmapInputError
        Anything :func:`povmap.aggregate` or :func:`povmap.classify` refuses for the kabupaten
        layer (e.g. a layer without ``kode_kabupaten``).
    """
    gdf, classification, column = drawn.gdf, drawn.classification, drawn.column
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if pockets is not None:
        # Every desa's popup says its pocket status: one popup, numbers and pocket together.
        own = gdf.drop(columns=[c for c in pockets.columns if c != "kode_desa"], errors="ignore")
        gdf = own.merge(pockets, on="kode_desa", how="left")
    with step("progress.national_simplify"):
        web = gdf.set_geometry(simplify_fast(np.asarray(gdf.geometry.values), tolerance))
        kab = _kabupaten(web, drawn, kecamatan)
        provinces = _provinces(kab.gdf)

    fields, aliases, props = tooltip_frame(web, tooltip_rows("desa", column), lang, classification)
    short = short_fields((fields, aliases), lang)
    props["k"] = web["kelas"].to_numpy().astype(int)
    kab_rows, kab_gdf = _kabupaten_rows(column), kab.gdf
    if pockets is not None:
        # Where the pockets are, in numbers, in each kabupaten's popup at the opening view.
        kab_rows += KABUPATEN_POCKET_ROWS
        kab_gdf = kab_gdf.join(_kabupaten_pockets(web), on="kode_kabupaten")
    kab_fields, kab_aliases, kab_props = tooltip_frame(kab_gdf, kab_rows, lang, kab.classification)
    kab_props["k"] = kab.gdf["kelas"].to_numpy().astype(int)

    order = np.argsort(web["kode_kabupaten"].to_numpy(), kind="stable")
    web, props = web.iloc[order], props.iloc[order]
    chunks, boxes, chunk_of, position = _desa_chunks(web, props)
    kx0, ky0 = (float(v) for v in kab.gdf.total_bounds[:2])
    chunks["kab"] = encode_chunk(
        np.asarray(kab.gdf.geometry.values),
        {c: kab_props[c].tolist() for c in kab_props.columns},
        (kx0, ky0),
    )
    chunks["prov"] = encode_chunk(np.asarray(provinces.geometry.values), {}, (kx0, ky0))
    chunks["search"] = _search_index(web, chunk_of, position)
    if kecamatan is not None and "kode_kabupaten" in kecamatan:
        chunks.update(_outline_chunks(kecamatan, boxes, tolerance))
    pocket_meta: dict | None = None
    pocket_colors: dict[str, str] = {}
    if pockets is not None:
        pocket_meta, pocket_colors = _pocket_chunks(web, chunk_of, boxes, chunks)

    desa_name = label("desa_layer", lang)
    kab_name = label("kabupaten_layer", lang)
    meta = {
        "chunks": boxes,
        "grid": GRID_DEG,
        "origin": {"kab": [kx0, ky0], "prov": [kx0, ky0]},
        "minZoom": DESA_MIN_ZOOM,
        "maxDecoded": MAX_DECODED_CHUNKS,
        "desa": _layer_meta(classification, fields, aliases, short),
        # The kabupaten's hover: its name, province and code, then the desa hover's values.
        "kab": _layer_meta(
            kab.classification,
            kab_fields,
            kab_aliases,
            kab_fields[:3] + short_fields((kab_fields, kab_aliases), lang),
        ),
        "pockets": pocket_meta,
    }
    data = NationalData(meta, chunks)

    m = OfflineMap(tiles=None, control_scale=False, prefer_canvas=True, zoom_snap=0.25)
    add_basemaps(m, tiles, lang)
    data.add_to(m)
    NationalLayer(data, "kab", kab_name).add_to(m)
    NationalLayer(data, "desa", desa_name).add_to(m)
    NationalLayer(data, "prov", label("provinsi_outline", lang)).add_to(m)
    pockets_name = label("pockets_layer", lang)
    if pocket_meta is not None:
        NationalLayer(data, "pockets", pockets_name).add_to(m)
    sections = [
        section_html(
            kab_name,
            f"{kab_name}: {legend_heading(column, lang)}",
            graduated_items(kab.classification, lang),
            note=coverage_note(kab.gdf, kab.classification, lang),
        ),
        section_html(
            desa_name,
            f"{desa_name}: {legend_heading(column, lang)}",
            graduated_items(classification, lang)
            + (
                [(outline_swatch("#222222", 1.2, None), label("kecamatan_outline", lang))]
                if any(key.startswith("o") for key in chunks)
                else []
            ),
            note=" ".join(
                n
                for n in (
                    label("desa_appear_zoomed", lang),
                    coverage_note(gdf, classification, lang),
                )
                if n
            ),
        ),
        # One entry, no heading: it would say "Batas provinsi" a second time.
        section_html(
            label("provinsi_outline", lang),
            "",
            [(outline_swatch("#222222", 1.6, None), label("provinsi_outline", lang))],
        ),
    ]
    if pocket_meta is not None:
        sections.append(pocket_section(pockets_name, pocket_colors, lang))
    MapDecorations(
        title or default_title(gdf, vintage, lang),
        [],
        sections,
        footer_lines(source, vintage, suppressed, lang),
        bounds=web.total_bounds,
        lang=lang,
    ).add_to(m)
    Fullscreen(label("fullscreen", lang), label("fullscreen_exit", lang)).add_to(m)
    NationalSearch(data, lang).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    minx, miny, maxx, maxy = web.total_bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def _desa_chunks(
    web: gpd.GeoDataFrame, props: pd.DataFrame
) -> tuple[dict[str, bytes], list[list], np.ndarray, np.ndarray]:
    """One chunk per kabupaten of ``web`` (sorted by ``kode_kabupaten``): the chunks, their
    ``[key, x0, y0, x1, y1, n, kode_kabupaten]`` boxes, and each desa's chunk number and place
    in it."""
    keys = web["kode_kabupaten"].to_numpy()
    cuts = (np.flatnonzero(keys[1:] != keys[:-1]) + 1).tolist()
    geoms = np.asarray(web.geometry.values)
    bounds = shapely.bounds(geoms)
    columns = {c: props[c].tolist() for c in props.columns}  # sliced per chunk below
    chunks: dict[str, bytes] = {}
    boxes = []
    chunk_of = np.zeros(len(web), dtype=int)
    position = np.zeros(len(web), dtype=int)
    with step("progress.national_chunks", total=len(cuts) + 1) as advance:
        for i, (a, b) in enumerate(zip([0, *cuts], [*cuts, len(web)], strict=True)):
            # The box as the page reads it (4 decimals, outwards): its corner is the origin the
            # page decodes the chunk from, so it must be the one it was encoded from.
            x0, y0 = (math.floor(v * 1e4) / 1e4 for v in bounds[a:b, :2].min(axis=0))
            x1, y1 = (math.ceil(v * 1e4) / 1e4 for v in bounds[a:b, 2:].max(axis=0))
            chunk = {c: values[a:b] for c, values in columns.items()}
            chunks[f"d{i}"] = encode_chunk(geoms[a:b], chunk, (x0, y0))
            boxes.append([f"d{i}", x0, y0, x1, y1, b - a, str(keys[a])])
            chunk_of[a:b] = i
            position[a:b] = np.arange(b - a)
            advance(1)
    return chunks, boxes, chunk_of, position


def _outline_chunks(
    kecamatan: gpd.GeoDataFrame, boxes: list[list], tolerance: float
) -> dict[str, bytes]:
    """The kecamatan outlines of each desa chunk's kabupaten, simplified like the desa, as one
    more chunk per kabupaten (``o<i>``, named at the end of its box); the page draws them over
    the desa of that kabupaten."""
    kecamatan = kecamatan[~(kecamatan.geometry.isna() | kecamatan.geometry.is_empty)]
    geoms = simplify_fast(np.asarray(kecamatan.geometry.values), tolerance)
    rows = pd.Series(np.arange(len(kecamatan))).groupby(kecamatan["kode_kabupaten"].to_numpy())
    found = rows.indices
    chunks = {}
    for i, box in enumerate(boxes):
        if box[6] in found:
            chunks[f"o{i}"] = encode_chunk(geoms[found[box[6]]], {}, (box[1], box[2]))
            box.append(f"o{i}")
    return chunks


def _pocket_chunks(
    web: gpd.GeoDataFrame, chunk_of: np.ndarray, boxes: list[list], chunks: dict[str, bytes]
) -> tuple[dict | None, dict[str, str]]:
    """Add the pocket outlines to ``chunks``; return their part of the page's layout (None
    when no desa is in a pocket) and the colour of each pocket category.

    Each pocket (:func:`povmap.render.pocket_outlines.pocket_outlines`, its simplified desa
    closed by :data:`POCKET_CLOSE_M`) is stored whole, numbered ``n``, in the pocket chunk
    (``p<i>``) of every desa chunk holding one of its desa; the page draws a pocket once while
    any of those chunks is shown. All of them, simplified to :data:`KABUPATEN_TOLERANCE_M`, also
    form the ``pockets`` chunk drawn below :data:`DESA_MIN_ZOOM`.
    """
    close = partial(closed_union, distance=POCKET_CLOSE_M / METRES_PER_DEGREE)
    outlines, colors = pocket_outlines(web, close)
    if not len(outlines):
        return None, colors
    geoms = np.asarray(outlines.geometry.values)
    kinds = outlines["k"].to_numpy()
    # The pockets each chunk's pocket desa lie in: a desa's inner point is inside its pocket's
    # outline (a union of the same polygons, closed: never smaller).
    category = {c: i for i, c in enumerate(colors)}
    inside = np.flatnonzero(web["jenis_kantong"].isin(colors).to_numpy())
    points = shapely.point_on_surface(np.asarray(web.geometry.values)[inside])
    at, pocket = shapely.STRtree(geoms).query(points, predicate="intersects")
    own = kinds[pocket] == web["jenis_kantong"].iloc[inside[at]].map(category).to_numpy()
    pairs = pd.DataFrame({"chunk": chunk_of[inside[at[own]]], "pocket": pocket[own]})
    keys: list[str | None] = [None] * len(boxes)
    for i, group in pairs.drop_duplicates().groupby("chunk", sort=True):
        n = np.sort(group["pocket"].to_numpy())
        keys[i] = f"p{i}"
        chunks[keys[i]] = encode_chunk(
            geoms[n], {"n": n.tolist(), "k": kinds[n].tolist()}, (boxes[i][1], boxes[i][2])
        )
    x0, y0 = (float(v) for v in shapely.total_bounds(geoms)[:2])
    chunks["pockets"] = encode_chunk(
        simplify_fast(geoms, KABUPATEN_TOLERANCE_M), {"k": kinds.tolist()}, (x0, y0)
    )
    layout = {
        "chunks": keys,
        "origin": [x0, y0],
        "colors": list(colors.values()),
        "dash": [POCKET_DASH.get(c) for c in colors],
        "weight": POCKET_WEIGHT,
        "casing": POCKET_CASING,
    }
    return layout, colors


def _search_index(web: gpd.GeoDataFrame, chunk_of: np.ndarray, position: np.ndarray) -> bytes:
    """The search box's list, gzip-compressed JSON: each desa's title ("Desa, Kecamatan,
    Kabupaten", raw text: the page writes it with textContent), its search key
    (:func:`povmap.render.search.search_keys`), chunk number and place in the chunk."""
    # Missing names (a file without kecamatan or kabupaten names) are left out of the title.
    parts = [
        web[c].astype("string").fillna("").str.strip()
        if c in web.columns
        else pd.Series("", index=web.index, dtype="string")
        for c in ("nama_desa", "nama_kecamatan", "nama_kabupaten")
    ]
    codes = web["kode_desa"].astype("string")
    titles = parts[0].where(parts[0] != "", codes)
    for part in parts[1:]:
        titles = titles.where(part == "", titles + ", " + part)
    # Two desa of one name in one kecamatan: their codes tell them apart.
    twice = titles.duplicated(keep=False).to_numpy()
    titles = titles.where(~twice, titles + " (" + codes + ")")
    index = {
        "t": titles.tolist(),
        "q": search_keys(web),
        "c": chunk_of.tolist(),
        "i": position.tolist(),
    }
    text = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=3, mtime=0)


def _layer_meta(classification, fields, aliases, short) -> dict:
    return {
        "palette": list(classification.colors),
        "noData": classification.no_data_color,
        "incomplete": classification.incomplete_color,
        "fields": fields,
        "aliases": aliases,
        "short": short,
    }


def _kabupaten_rows(column: str) -> tuple[tuple[str, str], ...]:
    """Tooltip rows of a kabupaten: its name and code, then the kecamatan rows' values."""
    rows = tooltip_rows("kecamatan", column)
    return (
        ("nama_kabupaten", "text"),
        ("nama_provinsi", "text"),
        ("kode_kabupaten", "text"),
        *(r for r in rows if r[0] not in ("nama_kecamatan", "kode_kecamatan")),
    )


#: Tooltip rows of a kabupaten's pockets (:func:`_kabupaten_pockets`).
KABUPATEN_POCKET_ROWS = (
    ("jumlah_kantong", "int"),
    ("jumlah_desa_kantong", "int"),
    ("jumlah_pencilan_tinggi", "int"),
)


def _kabupaten_pockets(web: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per ``kode_kabupaten``: the poverty pockets with a desa in it (``jumlah_kantong``; a
    pocket across a border counts in both kabupaten), its desa in them
    (``jumlah_desa_kantong``) and its poor desa among better-off ones
    (``jumlah_pencilan_tinggi``); 0 where there is none."""
    kind = web["jenis_kantong"].astype("string")
    pocket = kind == "kantong"  # the types of povmap.pockets.JENIS
    by = web["kode_kabupaten"]
    ids = web["id_kantong"] if "id_kantong" in web else pd.Series(pd.NA, index=web.index)
    # A pocket desa without an id is a pocket of its own (as it is outlined).
    ids = ids.astype("string").fillna("desa:" + web["kode_desa"].astype(str))
    out = pd.DataFrame(
        {
            "jumlah_kantong": ids[pocket].groupby(by[pocket]).nunique(),
            "jumlah_desa_kantong": pocket.groupby(by).sum(),
            "jumlah_pencilan_tinggi": (kind == "pencilan_tinggi").groupby(by).sum(),
        }
    )
    return out.fillna(0).astype(int)


def _kabupaten(
    web: gpd.GeoDataFrame, drawn: Classified, kecamatan: gpd.GeoDataFrame | None
) -> Classified:
    """The kabupaten layer, classified like the desa (scheme, k, breaks, min coverage).

    Values are summed from the desa (:func:`povmap.metrics.aggregate_values`). Outlines are
    dissolved from the kecamatan layer when given (7,000 outlines nationally instead of 83,000
    desa; about 1.5 s), else from the desa, each simplified first to
    :data:`KABUPATEN_TOLERANCE_M` (the outlines are only drawn at kabupaten zoom).
    """
    c = drawn.classification
    source = kecamatan if kecamatan is not None and "kode_kabupaten" in kecamatan else web
    coarse = simplify_fast(np.asarray(source.geometry.values), KABUPATEN_TOLERANCE_M)
    kab = dissolve(source.set_geometry(coarse), "kabupaten").drop(
        columns=["jumlah_wilayah", "jumlah_desa"], errors="ignore"
    )
    kab["jumlah_desa"] = kab["kode_kabupaten"].map(web.groupby("kode_kabupaten").size())
    values = aggregate_values(web, "kabupaten", column=drawn.column)
    kab = kab.merge(values, left_on="kode_kabupaten", right_index=True, how="left")
    kab = kab.set_geometry(simplify_fast(np.asarray(kab.geometry.values), KABUPATEN_TOLERANCE_M))
    return classify(
        kab,
        drawn.column,
        scheme=c.scheme,
        k=c.k_requested or c.k,
        breaks=list(c.bins) if c.scheme == "user" else None,
        min_coverage=c.min_coverage,
    )


def _provinces(kab: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Province outlines: the union of each province's kabupaten."""
    groups = kab.groupby("kode_provinsi", sort=True)
    geoms = [shapely.union_all(g.geometry.values) for _, g in groups]
    return gpd.GeoDataFrame(
        pd.DataFrame({"kode_provinsi": list(groups.groups)}), geometry=geoms, crs=kab.crs
    )


#: The page's side: decode chunks, draw the layers, load the desa of the view.
NATIONAL_JS = """
function(map, meta) {
    var renderer = L.canvas({padding: 0.3});
    function bytesOf(key) {
        var text = document.getElementById(meta.ids[key]).textContent.trim();
        if (Uint8Array.fromBase64) { return Uint8Array.fromBase64(text); }
        var bin = atob(text), out = new Uint8Array(bin.length);
        for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
        return out;
    }
    // The browser's own gzip decoder: works offline, no library.
    function unpack(key) {
        var stream = new Blob([bytesOf(key)]).stream()
            .pipeThrough(new DecompressionStream('gzip'));
        return new Response(stream).arrayBuffer();
    }
    function decode(buf, origin) {
        var head = new Int32Array(buf, 0, 5), off = 20, g = meta.grid;
        function ints(n) { var a = new Int32Array(buf, off, n); off += 4 * n; return a; }
        var feat = ints(head[0] + 1), poly = ints(head[1] + 1), ring = ints(head[2] + 1);
        var xy = ints(2 * head[3]);
        var props = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, off, head[4])));
        var out = [];
        for (var f = 0; f < head[0]; f++) {
            var polys = [];
            for (var p = feat[f]; p < feat[f + 1]; p++) {
                var rings = [];
                for (var r = poly[p]; r < poly[p + 1]; r++) {
                    var pts = [], x = 0, y = 0;
                    for (var c = ring[r]; c < ring[r + 1]; c++) {
                        if (c === ring[r]) { x = xy[2 * c]; y = xy[2 * c + 1]; }
                        else { x += xy[2 * c]; y += xy[2 * c + 1]; }
                        pts.push([origin[1] + y * g, origin[0] + x * g]);
                    }
                    rings.push(pts);
                }
                polys.push(rings);
            }
            var pr = {};
            for (var key in props) { pr[key] = props[key][f]; }
            out.push({latlngs: polys, properties: pr});
        }
        return out;
    }
    function styleOf(m, opacity, weight) {
        return function(feature) {
            var k = feature.properties.k;
            return {fillColor: k >= 0 ? m.palette[k] : (k === -2 && m.incomplete
                        ? m.incomplete : m.noData),
                    fillOpacity: opacity, color: '#555555', weight: weight};
        };
    }
    // Popup and tooltip rows: the texts were formatted and HTML-escaped in Python.
    function table(m, fields) {
        return function(layer) {
            var p = layer.feature.properties, t = document.createElement('table');
            fields.forEach(function(f) {
                var i = m.fields.indexOf(f), tr = t.insertRow(), th = document.createElement('th');
                th.innerHTML = m.aliases[i];
                tr.appendChild(th);
                tr.insertCell().innerHTML = p[f];
            });
            return t;
        };
    }
    // The polygons, in the chunk's order (the search index points into it).
    function fill(group, items, interactive) {
        return items.map(function(it) {
            if (!it.latlngs.length) { return null; }  // no polygon left: nothing to draw
            var poly = L.polygon(it.latlngs, {renderer: renderer, interactive: interactive});
            poly.feature = {type: 'Feature', properties: it.properties, geometry: null};
            // What L.GeoJSON.addData does: resetStyle (after a hover or a search) starts from
            // defaultOptions; without them it would drop the fill and leave the desa grey.
            poly.defaultOptions = poly.options;
            group.resetStyle(poly);
            group.addLayer(poly);
            return poly;
        });
    }
    function polygonGroup(m, opacity, weight) {
        var group = L.geoJson(null, {style: styleOf(m, opacity, weight)});
        group.bindTooltip(table(m, m.short), {sticky: true});
        group.bindPopup(table(m, m.fields), {maxWidth: 420});
        group.on('mouseover', function(e) {
            e.layer.setStyle({weight: 2.5, color: '#000000'});
        });
        group.on('mouseout', function(e) { group.resetStyle(e.layer); });
        return group;
    }
    var kab = polygonGroup(meta.kab, 0.8, 0.6);
    var desa = L.layerGroup();
    var prov = L.geoJson(null);
    // Pocket outlines: every white casing under every coloured line, as on a province map.
    var casings = L.layerGroup(), lines = L.layerGroup();
    var pockets = L.layerGroup([casings, lines]);
    var pk = meta.pockets, coarse = null, drawnPockets = {};
    var chunks = meta.chunks.map(function(c, i) {
        return {key: c[0], bounds: L.latLngBounds([c[2], c[1]], [c[4], c[3]]), count: c[5],
                outline: c[7] || null, pocketKey: pk ? pk.chunks[i] : null,
                layer: null, items: null, pockets: null, loading: false, waiting: [], used: 0};
    });
    function pocketLines(it) {
        var k = it.properties.k, common = {renderer: renderer, interactive: false, fill: false,
                                           opacity: 1, lineJoin: 'round'};
        return [L.polygon(it.latlngs, L.extend({color: '#ffffff', weight: pk.weight + pk.casing},
                                              common)),
                L.polygon(it.latlngs, L.extend({color: pk.colors[k], weight: pk.weight,
                                                dashArray: pk.dash[k]}, common))];
    }
    // The pockets wanted now: all, coarse, below the desa zoom; from it, each pocket of a shown
    // chunk once (a pocket across two kabupaten is stored whole in both chunks).
    function syncPockets(deep) {
        if (!pk) { return; }
        var want = {};
        if (!deep && coarse) {
            coarse.forEach(function(it, n) { want['c' + n] = it; });
        }
        chunks.forEach(function(c) {
            if (deep && c.pockets && desa.hasLayer(c.layer)) {
                c.pockets.forEach(function(it) { want['d' + it.properties.n] = it; });
            }
        });
        Object.keys(drawnPockets).forEach(function(key) {
            if (want[key]) { return; }
            casings.removeLayer(drawnPockets[key][0]);
            lines.removeLayer(drawnPockets[key][1]);
            delete drawnPockets[key];
        });
        Object.keys(want).forEach(function(key) {
            if (drawnPockets[key] || !want[key].latlngs.length) { return; }
            var pair = pocketLines(want[key]);
            casings.addLayer(pair[0]);
            lines.addLayer(pair[1]);
            drawnPockets[key] = pair;
        });
    }
    unpack('kab').then(function(buf) {
        fill(kab, decode(buf, meta.origin.kab), true);
        update();
        // The coarse pocket outlines once the kabupaten are drawn: they must not delay them.
        if (pk) {
            unpack('pockets').then(function(buf) {
                coarse = decode(buf, pk.origin);
                update();
            });
        }
    });
    unpack('prov').then(function(buf) {
        decode(buf, meta.origin.prov).forEach(function(it) {
            prov.addLayer(L.polygon(it.latlngs, {renderer: renderer, interactive: false,
                fill: false, color: '#222222', weight: 1.6}));
        });
    });
    // Decode chunk c once; then(c) runs when it is ready.
    function load(c, then) {
        if (c.layer) { if (then) { then(c); } return; }
        if (then) { c.waiting.push(then); }
        if (c.loading) { return; }
        c.loading = true;
        Promise.all([unpack(c.key), c.outline ? unpack(c.outline) : null,
                     c.pocketKey ? unpack(c.pocketKey) : null]).then(function(bufs) {
            var layer = polygonGroup(meta.desa, 0.8, 0.4);
            var origin = [c.bounds.getWest(), c.bounds.getSouth()];
            c.items = fill(layer, decode(bufs[0], origin), true);
            c.pockets = bufs[2] ? decode(bufs[2], origin) : null;
            // The kecamatan boundaries over the desa (drawn after them), taking no clicks.
            if (bufs[1]) {
                decode(bufs[1], origin).forEach(function(it) {
                    if (!it.latlngs.length) { return; }
                    var line = L.polygon(it.latlngs, {renderer: renderer, interactive: false,
                        fill: false, color: '#222222', weight: 1.2});
                    line.feature = {type: 'Feature', properties: {}, geometry: null};
                    layer.addLayer(line);
                });
            }
            c.layer = layer;
            c.loading = false;
            update();
            c.waiting.splice(0).forEach(function(f) { f(c); });
        });
    }
    // The search box's records, decoded on first use: title -> {chunk, place, search key}.
    var records = null, found = null;
    function searchSource(text, callback) {
        if (records) { callback(records); return; }
        unpack('search').then(function(buf) {
            var index = JSON.parse(new TextDecoder().decode(buf));
            records = {};
            index.t.forEach(function(title, n) {
                records[title] = {c: index.c[n], i: index.i[n],
                                  layer: {feature: {properties: {q: index.q[n]}}}};
            });
            callback(records);
        });
    }
    // Zoom to a found desa (close enough for the desa to show), outline it, open its popup.
    function locate(record) {
        load(chunks[record.c], function(c) {
            var poly = c.items[record.i];
            if (!poly) { return; }
            var bounds = poly.getBounds();
            var zoom = Math.min(Math.max(map.getBoundsZoom(bounds), meta.minZoom), 14);
            if (!map.hasLayer(desa)) { map.addLayer(desa); }
            map.setView(bounds.getCenter(), zoom, {animate: false});
            update();
            unfind();
            var at = poly.getCenter();
            poly.fire('click', {latlng: at, layerPoint: map.latLngToLayerPoint(at),
                                containerPoint: map.latLngToContainerPoint(at)}, true);
            // Outlined (class colour kept) after its popup opened: closing the previous one
            // must not clear this one.
            found = {group: c.layer, poly: poly};
            poly.setStyle({color: '#00e5ff', weight: 4, opacity: 1});
            poly.bringToFront();
        });
    }
    // The found desa back to its class style: another desa found, or its popup closed.
    function unfind() {
        if (found) { found.group.resetStyle(found.poly); }
        found = null;
    }
    map.on('popupclose', unfind);
    var tick = 0;
    function update() {
        var deep = map.getZoom() >= meta.minZoom && map.hasLayer(desa);
        var view = map.getBounds().pad(0.2);
        // Desa on top: the kabupaten only outline them (and take no clicks) once they show.
        kab.eachLayer(function(l) {
            l.options.interactive = !deep;
            l.setStyle(deep ? {fillOpacity: 0, weight: 1.2, color: '#333333'}
                            : kab.options.style(l.feature));
        });
        tick += 1;
        chunks.forEach(function(c) {
            var want = deep && view.intersects(c.bounds);
            if (want) { c.used = tick; load(c); }
            if (c.layer && want !== desa.hasLayer(c.layer)) {
                if (want) { desa.addLayer(c.layer); } else { desa.removeLayer(c.layer); }
            }
        });
        // Memory stays bounded however far one travels: the chunks out of view longest are
        // dropped (decoded again if they come back into view).
        var kept = chunks.filter(function(c) { return c.layer; });
        kept.filter(function(c) { return !desa.hasLayer(c.layer); })
            .sort(function(a, b) { return a.used - b.used; })
            .slice(0, Math.max(0, kept.length - meta.maxDecoded))
            .forEach(function(c) { c.layer = null; c.items = null; c.pockets = null; });
        desa.eachLayer(function(l) { l.bringToFront(); });
        if (map.hasLayer(prov)) { prov.bringToFront(); }
        syncPockets(deep);
        if (map.hasLayer(pockets)) {
            casings.eachLayer(function(l) { l.bringToFront(); });
            lines.eachLayer(function(l) { l.bringToFront(); });
        }
    }
    map.on('zoomend moveend overlayadd overlayremove', update);
    return {layers: {kab: kab, desa: desa, prov: prov, pockets: pockets}, chunks: chunks,
            meta: meta, pocketLines: lines,
            update: update, searchSource: searchSource, locate: locate};
}
"""
