"""The interactive map: :func:`choropleth` assembles layers, legend and controls."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import _cache
from .._offline import OfflineMap
from ..classify import DEFAULT_COLUMN, NO_DATA_CLASS, Classified, classify
from ..i18n import check_lang, label
from ..simplify import TOLERANCE_M, web_coverage
from .choice import use_national
from .controls import add_basemaps, add_controls
from .layers import (
    DesaLabels,
    KecamatanLabels,
    LabelDeclutter,
    add_outline_layer,
    add_polygon_layer,
    palette_style,
    pocket_casing_style,
    pocket_style,
)
from .legend import (
    MapDecorations,
    coverage_note,
    default_title,
    footer_lines,
    graduated_items,
    legend_heading,
    section_html,
)
from .pocket_outlines import pocket_outlines, pocket_section, pocket_table
from .search import search_keys
from .tooltips import short_fields, tooltip_frame, tooltip_rows
from .topo import TopoGeoJson, TopologyData

#: Columns by which a layer says some counts were suppressed (small cells hidden).
SUPPRESSION_FLAGS = ("disamarkan", "sel_kecil_disamarkan", "disensor")
MAX_SHOWN_LABELS = 40


def choropleth(
    layer: Classified | gpd.GeoDataFrame,
    column: str | None = None,
    *,
    kecamatan: Classified | gpd.GeoDataFrame | None = None,
    pockets: pd.DataFrame | object | None = None,
    title: str | None = None,
    source: str | None = None,
    vintage: str | None = None,
    suppressed: bool | None = None,
    lang: str = "id",
    tiles: str | None = "OpenStreetMap",
    scheme: str = "quantiles",
    k: int = 5,
    breaks: list[float] | None = None,
    tolerance: float = TOLERANCE_M,
    national: bool | None = None,
) -> OfflineMap:
    """Draw a layered choropleth of ``column`` for sharing: small, Indonesian, offline-ready.

    Layers (with a layer control): the desa choropleth; the kecamatan choropleth when
    ``kecamatan`` holds its values (classified on its own values); kecamatan outlines and name
    labels dissolved from the desa (so they match the fill exactly); poverty pockets when given;
    the basemaps and "no basemap". Tooltips and popups show pre-formatted numbers; a search
    box finds a desa by its name or its kecamatan's; a select box zooms to a kecamatan.

    Parameters
    ----------
    layer
        A classified layer (:func:`povmap.classify`): its classes are drawn as they are; or a
        joined layer (desa or kecamatan, EPSG:4326) with rates (:func:`povmap.add_rates`),
        classified here on ``column`` with ``scheme``, ``k`` and ``breaks``.
    column
        The value to map: by default the classified column of ``layer``, else
        ``persen_miskin_ekstrem`` (with the fallback of :func:`povmap.classify` for a table
        without population). A column other than the classified one is classified anew.
    kecamatan
        The kecamatan layer with aggregated values (:func:`povmap.aggregate`), drawn as a
        second choropleth (hidden at first), classified on its own values unless it is a
        classified layer of the same column.
    pockets
        Per-desa poverty pockets with ``kode_desa`` and ``jenis_kantong`` (optionally
        ``id_kantong``), e.g. ``povmap.pockets.find_pockets(...)`` or its ``.desa`` layer; the
        pocket types (not "tidak_signifikan"/"tanpa_data") are drawn as a categorical layer.
    title, source, vintage
        Title, data source and data vintage (e.g. "P3KE 2024") shown on the map.
    suppressed
        Whether small counts were suppressed (a note is shown); by default read from the layer's
        ``disamarkan`` flag column.
    lang
        ``"id"`` (default) or ``"en"``.
    tiles
        Basemap shown first (``osm``, ``cartodb``, a folium tile name) or None/``"none"`` for
        no basemap: then the page needs no network at all.
    scheme, k, breaks
        Classification, when ``layer`` is not classified on ``column`` yet.
    tolerance
        Web simplification tolerance in metres (:func:`povmap.simplify.simplify_coverage`).
    national
        Draw a national map (:mod:`povmap.render.national`: kabupaten at the opening view,
        desa loaded per view): True forces it, False never, None (default) for a desa layer of
        more than :data:`~povmap.render.choice.NATIONAL_MIN_DESA` desa. The ``kecamatan``
        choropleth is not drawn on it (its outlines are); ``pockets`` are outlined as here
        from the desa zoom (:data:`~povmap.render.national.DESA_MIN_ZOOM`), coarsely at the
        opening view, and each desa's popup says its pocket.

    Returns
    -------
    OfflineMap
        A :class:`folium.Map` that displays inline in a notebook and whose ``.save(path)``
        writes the self-contained page (as :func:`povmap.save_map` and ``povmap map`` do).

    Raises
    ------
    PovmapInputError
        ``lang`` is unknown; or, when ``layer`` is not classified on ``column`` yet, anything
        :func:`povmap.classify` refuses (no such column, no value in it, an unknown scheme, bad
        ``k`` or ``breaks``).
    """
    check_lang(lang)
    drawn = _classified(layer, column, scheme, k, breaks)
    gdf, classification, column = drawn.gdf, drawn.classification, drawn.column
    kec = (
        _classified(kecamatan, column, scheme, k, breaks)
        if kecamatan is not None and column in _frame(kecamatan).columns
        else None
    )
    if use_national(gdf, national):
        from .national import national_choropleth  # a province map does not need its templates

        if suppressed is None:
            suppressed = suppressed_in(gdf)
        return national_choropleth(
            drawn,
            kecamatan=_frame(kecamatan) if kecamatan is not None else None,
            pockets=pocket_table(pockets) if pockets is not None else None,
            title=title,
            source=source,
            vintage=vintage,
            suppressed=suppressed,
            lang=lang,
            tiles=tiles,
            tolerance=tolerance,
        )
    level = "desa" if "kode_desa" in gdf.columns else "kecamatan"
    # An area without geometry cannot be drawn (reading reported it: BoundaryInfo.null_geometry);
    # one UTM zone for cleaning and labels.
    web, utm = web_coverage(gdf, tolerance)
    outlines = _dissolve(web, "kecamatan") if level == "desa" and "kode_kecamatan" in web else None

    # Quarter zoom steps: the opening view fits the data beside the legend more closely.
    m = OfflineMap(tiles=None, control_scale=False, prefer_canvas=True, zoom_snap=0.25)
    add_basemaps(m, tiles, lang)
    objects, fields, pocket_colors = _objects(
        web, level, column, classification, outlines, kec, pockets, lang
    )
    topology = TopologyData.from_layers(objects)
    topology.add_to(m)

    layer_name = label(f"{level}_layer", lang)
    main = add_polygon_layer(
        m,
        topology,
        level,
        name=layer_name,
        fields=fields[level][0],
        aliases=fields[level][1],
        tooltip_fields=short_fields(fields[level], lang),
        style=palette_style(
            list(classification.colors),
            classification.no_data_color,
            opacity=0.8,
            weight=0.4,
            incomplete=classification.incomplete_color,
        ),
    )
    sections = [
        section_html(
            layer_name,
            f"{layer_name}: {legend_heading(column, lang)}",
            graduated_items(classification, lang),
            note=coverage_note(gdf, classification, lang),
        )
    ]
    if level == "desa" and "kecamatan" in fields:  # a kecamatan map's main layer is "kecamatan"
        assert kec is not None  # the kecamatan fields come from its classified layer
        sections.append(_add_kecamatan_choropleth(m, topology, fields, kec, lang))
    if "kantong" in objects:
        sections.append(_add_pockets(m, topology, pocket_colors, lang))
    if outlines is not None:
        add_outline_layer(m, topology, "kecamatan", lang)
        # Past a few dozen kecamatan the names overlap at the opening zoom: offer, don't show.
        KecamatanLabels(
            outlines,
            label("kecamatan_labels", lang),
            show=len(outlines) <= MAX_SHOWN_LABELS,
            crs=utm,
        ).add_to(m)
    if level == "desa":
        # Readable on a printed screenshot once zoomed in; hidden at the opening view.
        DesaLabels(web, label("desa_labels", lang), crs=utm).add_to(m)
    LabelDeclutter().add_to(m)

    if suppressed is None:
        suppressed = suppressed_in(gdf)
    MapDecorations(
        title or default_title(gdf, vintage, lang),
        [],
        sections,
        footer_lines(source, vintage, suppressed, lang),
        bounds=web.total_bounds,
        lang=lang,
    ).add_to(m)
    add_controls(
        m,
        search_layer=main if level == "desa" else None,
        search_label="s",
        kecamatan=outlines,
        lang=lang,
    )
    # The first view; MapDecorations refits it beside the legend once the page is laid out.
    minx, miny, maxx, maxy = web.total_bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def _frame(layer: Classified | gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return layer.gdf if isinstance(layer, Classified) else layer


def _classified(
    layer: Classified | gpd.GeoDataFrame,
    column: str | None,
    scheme: str,
    k: int,
    breaks: list[float] | None,
) -> Classified:
    """``layer`` as classified when it is classified on ``column``; else classified here."""
    if isinstance(layer, Classified) and column in (None, layer.column):
        return layer
    return classify(_frame(layer), column or DEFAULT_COLUMN, scheme=scheme, k=k, breaks=breaks)


def _objects(web, level, column, classification, outlines, kec: Classified | None, pockets, lang):
    """The topology's objects (geometry + compact properties), each one's tooltip fields, and
    the colour of each pocket category drawn."""
    table = pocket_table(pockets) if pockets is not None and level == "desa" else None
    if table is not None:
        # Every desa's popup says its pocket status: one popup, numbers and pocket together.
        web = web.drop(columns=[c for c in ("jenis_kantong", "id_kantong") if c in web.columns])
        web = web.merge(table, on="kode_desa", how="left")
    fields, aliases, props = tooltip_frame(web, tooltip_rows(level, column), lang, classification)
    main = gpd.GeoDataFrame(props, geometry=web.geometry.values, crs=4326)
    main["k"] = web["kelas"].to_numpy().astype(int)
    if level == "desa":
        # Raw text: the search box builds its suggestions with textContent.
        main["s"] = [
            f"{d}, {c}" for d, c in zip(web["nama_desa"], web["nama_kecamatan"], strict=True)
        ]
        main["q"] = search_keys(web)
    objects = {level: main}
    found = {level: (fields, aliases)}
    if outlines is not None:
        objects["kecamatan"] = gpd.GeoDataFrame(geometry=outlines.geometry.values, crs=4326)
        if kec is not None:
            kec_class = kec.classification
            values = outlines[["kode_kecamatan", "geometry"]].merge(
                kec.gdf.drop(columns=kec.gdf.geometry.name), on="kode_kecamatan", how="left"
            )
            # The class computed by classify (it knows "data tidak lengkap"); -1 for an outline
            # whose kecamatan has no row.
            values["kelas"] = values["kelas"].fillna(NO_DATA_CLASS).astype(int)
            f, a, p = tooltip_frame(values, tooltip_rows("kecamatan", column), lang, kec_class)
            # The outline layer ignores these properties: one object serves both layers.
            obj = gpd.GeoDataFrame(p, geometry=outlines.geometry.values, crs=4326)
            obj["k"] = values["kelas"].to_numpy().astype(int)
            objects["kecamatan"] = obj
            found["kecamatan"] = (f, a)
    colors: dict[str, str] = {}
    if table is not None:
        obj, colors = pocket_outlines(web, web_union)
        if len(obj):
            objects["kantong"] = obj
    return objects, found, colors


def _add_kecamatan_choropleth(m, topology, fields, kec: Classified, lang) -> str:
    kec_class = kec.classification
    name = label("kecamatan_layer", lang)
    add_polygon_layer(
        m,
        topology,
        "kecamatan",
        name=name,
        show=False,
        zoom_on_click=True,
        fields=fields["kecamatan"][0],
        aliases=fields["kecamatan"][1],
        style=palette_style(
            list(kec_class.colors),
            kec_class.no_data_color,
            opacity=0.8,
            weight=0.8,
            incomplete=kec_class.incomplete_color,
        ),
    )
    return section_html(
        name,
        f"{name}: {legend_heading(kec.column, lang)}",
        graduated_items(kec_class, lang),
        shown=False,
        note=coverage_note(kec.gdf, kec_class, lang),
    )


def web_union(geoms: np.ndarray) -> shapely.Geometry:
    """The union of polygons of the web coverage: the fast coverage union, or the exact union
    where they do not form a valid coverage.

    :func:`povmap.simplify.simplify_coverage` gives a polygon its own outline back when cleaning
    would have emptied it (a desa kept twice with ``--keep-duplicates``, or lying inside
    another; Kabupaten Pemalang, 33.27, has one): it then overlaps a neighbour, and
    :func:`shapely.coverage_union_all` refuses overlapping input ("incorrectly noded").
    """
    try:
        return shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:
        return shapely.union_all(geoms)


def _add_pockets(m, topology, colors: dict[str, str], lang: str) -> str:
    name = label("pockets_layer", lang)
    # One entry in the layer control: the white casing and the coloured outline over it.
    group = folium.FeatureGroup(name=name).add_to(m)
    for style in (pocket_casing_style(), pocket_style(colors)):
        TopoGeoJson(
            topology, "kantong", style=style, name=name, control=False, interactive=False
        ).add_to(group)
    return pocket_section(name, colors, lang)


def _dissolve(web: gpd.GeoDataFrame, level: str) -> gpd.GeoDataFrame:
    """Union the (clean) desa coverage per kecamatan: outlines that match the desa exactly.

    The unions come from povmap's cache when this coverage was dissolved by the same codes
    before (keyed on its geometries and the codes, as
    :func:`povmap.simplify.simplify_coverage`).
    """
    key, name = f"kode_{level}", f"nama_{level}"
    groups = web.groupby(key, sort=True)
    codes = list(groups.groups)
    geoms = np.asarray(web.geometry.values)

    def compute() -> np.ndarray:
        members = groups.indices
        return np.array([web_union(geoms[members[c]]) for c in codes], dtype=object)

    def unpack(entry: dict[str, np.ndarray]) -> np.ndarray:
        if len(entry["wkb_ends"]) != len(codes):
            raise ValueError("another layer's entry")
        return _cache.unpack_wkb(entry)

    # Each row's group, numbered in the order of ``codes`` (-1: no code): the unions and their
    # order depend on nothing else.
    grouping = groups.ngroup().to_numpy(dtype=np.int64).tobytes()
    cache_key = _cache.key(
        {},
        {"dissolve": level},
        [__file__, _cache.__file__],
        [*_cache.geometry_data(geoms, web.crs), grouping],
    )
    return gpd.GeoDataFrame(
        {key: codes, name: groups[name].first().to_numpy()},
        geometry=_cache.computed(cache_key, compute, _cache.pack_wkb, unpack),
        crs=web.crs,
    )


def suppressed_in(gdf: gpd.GeoDataFrame) -> bool:
    """Whether the layer says small counts were blanked (export's ``disamarkan`` flag)."""
    return any(
        flag in gdf.columns and bool(np.asarray(gdf[flag].fillna(False), dtype=bool).any())
        for flag in SUPPRESSION_FLAGS
    )
