"""The national map (:mod:`povmap.render.national`): kabupaten first, desa loaded per view.

A real layer (Kalimantan Selatan, 13 kabupaten, 2,008 desa) is forced into national mode, so the
page is small enough for a test while working exactly as the national one (83,403 desa) does.
"""

from __future__ import annotations

import base64
import gzip
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import DEMO_COUNTS, DEMO_DESA, KALSEL_DESA, invoke, make_counts, need, open_offline

from povmap.i18n import label
from povmap.metrics import aggregate
from povmap.pipeline import Options, run
from povmap.render import choropleth
from povmap.render.choice import NATIONAL_MIN_DESA, use_national
from povmap.render.national import (
    DESA_MIN_ZOOM,
    DESA_TOLERANCE_M,
    GRID_DEG,
    encode_chunk,
    simplify_fast,
)

HOSTILE = '<img src=x onerror="window.__pwned=1">'
KNOWN = "63.06.01.2001"  # a real HSS desa (Kecamatan Sungai Raya), in Kalimantan Selatan

#: The page's engine (the object the national script returns), found among the globals.
ENGINE = "Object.values(window).find(v => v && v.layers && v.chunks && v.update)"


def _decode(data: bytes, origin: tuple[float, float]) -> tuple[list, dict]:
    """A reader of :func:`encode_chunk`'s layout, written from its docstring."""
    raw = gzip.decompress(data)
    head = np.frombuffer(raw, "<i4", 5)
    n_feat, n_poly, n_ring, n_coord, n_text = (int(v) for v in head)
    off = 20
    arrays = []
    for n in (n_feat + 1, n_poly + 1, n_ring + 1, 2 * n_coord):
        arrays.append(np.frombuffer(raw, "<i4", n, off))
        off += 4 * n
    feat, poly, ring, xy = arrays
    props = json.loads(raw[off : off + n_text].decode("utf-8"))
    xy = xy.reshape(-1, 2).astype(np.int64)
    features = []
    for f in range(n_feat):
        polygons = []
        for p in range(feat[f], feat[f + 1]):
            rings = []
            for r in range(poly[p], poly[p + 1]):
                pts = np.cumsum(xy[ring[r] : ring[r + 1]], axis=0) * GRID_DEG + origin
                rings.append(pts)
            polygons.append(shapely.Polygon(rings[0], rings[1:]))
        features.append(shapely.MultiPolygon(polygons))
    return features, props


def test_chunk_round_trip_keeps_every_polygon_and_property():
    square = shapely.box(115.0, -3.0, 115.2, -2.8)
    holed = shapely.Polygon(
        [(115.3, -3.0), (115.6, -3.0), (115.6, -2.7), (115.3, -2.7)],
        [[(115.4, -2.9), (115.5, -2.9), (115.5, -2.8), (115.4, -2.8)]],
    )
    multi = shapely.MultiPolygon(
        [shapely.box(116, -4, 116.1, -3.9), shapely.box(116.2, -4, 116.3, -3.9)]
    )
    geoms = np.array([square, holed, multi], dtype=object)
    props = {"t0": ["A", HOSTILE, "Ç"], "k": [0, 4, -1]}
    features, back = _decode(encode_chunk(geoms, props, (115.0, -4.0)), (115.0, -4.0))
    assert back == props
    for got, want in zip(features, geoms, strict=True):
        # Same shape, to the grid step (about 1 m).
        assert got.symmetric_difference(want).area < 1e-9
        assert len(shapely.get_parts(got)) == len(shapely.get_parts(want))
    assert len(features[1].geoms[0].interiors) == 1


def test_national_mode_by_size_or_forced():
    desa = gpd.GeoDataFrame(
        {"kode_desa": ["63.06.01.2001"], "kode_kabupaten": ["63.06"]},
        geometry=[shapely.box(0, 0, 1, 1)],
    )
    assert not use_national(desa)
    assert use_national(desa, True)
    n = NATIONAL_MIN_DESA + 1
    many = gpd.GeoDataFrame(
        {"kode_desa": [str(i) for i in range(n)], "kode_kabupaten": ["63.06"] * n},
        geometry=[None] * n,
    )
    assert use_national(many)
    assert not use_national(many, False)
    # A kecamatan layer is always a province map.
    assert not use_national(gpd.GeoDataFrame({"kode_kecamatan": ["63.06.01"]}), True)


@pytest.fixture(scope="module")
def kalsel(tmp_path_factory):
    """Kalimantan Selatan with a hostile desa name, run through the pipeline and drawn as a
    national map (forced), with the CLI."""
    tmp = tmp_path_factory.mktemp("national")
    raw = gpd.read_file(need(KALSEL_DESA))
    hostile_code = raw.loc[raw["kode"] != KNOWN, "kode"].iloc[5]
    raw.loc[raw["kode"] == hostile_code, "nama"] = HOSTILE
    raw.to_file(tmp / "kalsel.geojson")
    make_counts(raw, seed=7).to_csv(tmp / "kalsel.csv", index=False)
    path = tmp / "peta.html"
    code, out = invoke(
        "map",
        tmp / "kalsel.geojson",
        tmp / "kalsel.csv",
        "-o",
        path,
        "--national",
        "--tiles",
        "none",
    )
    assert code == 0, out
    result = run(tmp / "kalsel.geojson", tmp / "kalsel.csv", Options())
    return path, result, hostile_code


def test_page_keeps_names_inside_inert_blocks(kalsel):
    path, result, _ = kalsel
    page = path.read_text(encoding="utf-8")
    assert HOSTILE not in page
    assert 'type="application/octet-stream"' in page
    # No desa or kabupaten name in the page's script or markup: they travel compressed.
    assert "Sungai Raya" not in page
    assert "Hulu Sungai Selatan" not in page


def _engine(page, body: str):
    return page.evaluate(f"() => {{ const e = {ENGINE}; {body} }}")


def _wait(page, condition: str) -> None:
    page.wait_for_function(
        f"() => {{ const e = {ENGINE}; return e && ({condition}); }}", timeout=20000
    )


def _desa_center(result, code: str) -> list[float]:
    desa = result.main.set_index("kode_desa").loc[code]
    point = desa.geometry.representative_point()
    return [point.y, point.x]


def _popup(page, code: str) -> str:
    """Click the loaded desa ``code`` through Leaflet's API and read its popup."""
    alias = label("kode_desa")
    page.evaluate(
        """([engine, code, alias]) => {
        const e = eval(engine), m = e.meta.desa, field = m.fields[m.aliases.indexOf(alias)];
        e.layers.desa.eachLayer(chunk => chunk.eachLayer(l => {
            if (l.feature.properties[field] !== code) return;
            const map = chunk._map, c = l.getCenter();
            l.fire('click', {latlng: c, layerPoint: map.latLngToLayerPoint(c),
                             containerPoint: map.latLngToContainerPoint(c)}, true);
        }));
    }""",
        [ENGINE, code, alias],
    )
    popup = page.locator(".leaflet-popup-content")
    popup.last.wait_for(timeout=5000)
    return popup.last.inner_text()


def _id(value: float, decimals: int = 0) -> str:
    """``value`` written the Indonesian way, independently of povmap.i18n."""
    return f"{value:,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")


@pytest.mark.browser
def test_kabupaten_first_then_desa_of_the_view_with_their_popups(browser, kalsel):
    path, result, hostile_code = kalsel
    page = open_offline(browser, path)
    try:
        kabupaten = result.main["kode_kabupaten"].nunique()
        _wait(page, f"e.layers.kab.getLayers().length === {kabupaten}")
        drawn = _engine(
            page,
            "return {kab: e.layers.kab.getLayers().filter(l => l._parts && l._parts.length)"
            ".length, desa: e.layers.desa.getLayers().length,"
            " decoded: e.chunks.filter(c => c.layer || c.loading).length,"
            " zoom: e.layers.kab._map.getZoom()};",
        )
        # The opening view: every kabupaten drawn, no desa chunk even decoded.
        assert drawn["kab"] == kabupaten
        assert drawn["desa"] == 0 and drawn["decoded"] == 0
        assert drawn["zoom"] < DESA_MIN_ZOOM

        # Zoomed in on the known desa: its kabupaten's chunk is loaded, not all of them.
        lat, lng = _desa_center(result, KNOWN)
        _engine(page, f"e.layers.kab._map.setView([{lat}, {lng}], 12, {{animate: false}});")
        _wait(page, "e.layers.desa.getLayers().length > 0")
        loaded = _engine(page, "return e.chunks.filter(c => c.layer).length;")
        assert 0 < loaded < kabupaten
        # Each loaded kabupaten has its kecamatan boundaries drawn over its desa.
        outlines = _engine(
            page,
            "return e.chunks.map((c, i) => c.layer ? [e.meta.chunks[i][6], c.layer.getLayers()"
            ".filter(l => !l.options.interactive).length] : null).filter(x => x);",
        )
        per_kabupaten = result.layers["kecamatan"].groupby("kode_kabupaten").size()
        assert outlines and all(n == per_kabupaten[code] for code, n in outlines)
        desa = result.main.set_index("kode_desa").loc[KNOWN]
        text = _popup(page, KNOWN)
        assert desa["nama_desa"] in text and desa["nama_kecamatan"] in text
        assert f"{_id(desa['persen_miskin_ekstrem'], 2)} %" in text
        assert _id(desa["jumlah_miskin_ekstrem"]) in text

        # The hostile name is shown as text, never run.
        lat, lng = _desa_center(result, hostile_code)
        _engine(page, f"e.layers.kab._map.setView([{lat}, {lng}], 12, {{animate: false}});")
        _wait(page, "e.chunks.every(c => !c.loading)")
        assert HOSTILE in _popup(page, hostile_code)
        assert page.evaluate("() => window.__pwned") is None

        # Back to the opening zoom: the desa leave the map again.
        _engine(page, "e.layers.kab._map.setZoom(7, {animate: false});")
        _wait(page, "e.layers.desa.getLayers().length === 0")
        assert page.errors == [] and page.requests == []
    finally:
        page.close()


def test_python_api_forces_national_mode(kalsel):
    _, result, _ = kalsel
    m = choropleth(result.classified(), tiles=None, national=True)
    html = m.get_root().render()
    # One desa chunk per kabupaten, then the kabupaten, the province outlines, the search list.
    blocks = html.count('type="application/octet-stream"')
    assert blocks == result.main["kode_kabupaten"].nunique() + 3
    english = choropleth(result.classified(), tiles=None, national=True, lang="en")
    html = english.get_root().render()
    assert "Regencies/Cities" in html and "Villages appear when you zoom in." in html
    assert "Kabupaten/Kota" not in html
    # The province outlines' legend entry says "Province boundaries" once (no heading over it).
    section = re.search(
        r'<div class="povmap-section" data-layer="Province boundaries">.*?</div>'
        r"</div>",
        html,
    )
    assert section and section.group(0).count("Province boundaries") == 2  # data-layer + entry
    assert "<b>" not in section.group(0)


@pytest.mark.browser
def test_search_finds_a_desa_whose_chunk_is_not_loaded_yet(browser, kalsel):
    path, result, _ = kalsel
    page = open_offline(browser, path)
    try:
        _wait(page, "e.layers.kab.getLayers().length > 0")
        assert _engine(page, "return e.chunks.filter(c => c.layer).length;") == 0
        search = page.locator(".leaflet-control-search input.search-input")
        search.press_sequentially("desa MANDALA murung")  # the file says "Mdl. Murung Mesjid"
        tips = page.locator(".leaflet-control-search .search-tip")
        tips.first.wait_for(timeout=10000)
        desa = result.main.set_index("kode_desa").loc["63.06.08.2011"]
        title = f"{desa['nama_desa']}, {desa['nama_kecamatan']}, {desa['nama_kabupaten']}"
        assert tips.all_inner_texts() == [title]
        search.press("Enter")
        popup = page.locator(".leaflet-popup-content")
        popup.last.wait_for(timeout=10000)
        text = popup.last.inner_text()
        assert "Mdl. Murung Mesjid" in text and "63.06.08.2011" in text
        assert f"{_id(desa['persen_miskin_ekstrem'], 2)} %" in text
        state = _engine(
            page,
            "const map = e.layers.kab._map; let hit = null;"
            " e.layers.desa.eachLayer(c => c.eachLayer(l => {"
            "   if (l.options.color === '#00e5ff') hit = l; }));"
            " return {zoom: map.getZoom(),"
            "         inView: !!hit && map.getBounds().contains(hit.getBounds())};",
        )
        assert state["zoom"] >= DESA_MIN_ZOOM and state["inView"]

        # A second desa found (another kabupaten), its popup closed, back to the first: the
        # first is drawn in its class colour again, not grey ("Tidak ada data") nor outlined.
        _engine(
            page,
            "const map = e.layers.kab._map; window.__first = [map.getCenter(), map.getZoom()];",
        )
        second = _second_desa(result, "63.06")
        search.fill("")
        search.press_sequentially(second["nama_desa"])
        title = f"{second['nama_desa']}, {second['nama_kecamatan']}, {second['nama_kabupaten']}"
        tips.filter(has_text=title).first.click()
        _wait(
            page,
            "Array.from(document.querySelectorAll('.leaflet-popup-content'))"
            f".some(p => p.textContent.includes({json.dumps(second.name)}))",
        )
        assert _outlined(page) == [second.name]
        _engine(
            page,
            "const map = e.layers.kab._map; map.closePopup();"
            " map.setView(window.__first[0], window.__first[1], {animate: false});",
        )
        _wait(page, "e.chunks.every(c => !c.loading)")
        page.wait_for_timeout(300)  # the canvas redraws on the next animation frame
        assert _outlined(page) == []
        kelas = int(result.classified().gdf.set_index("kode_desa").loc[desa.name, "kelas"])
        assert kelas >= 0
        palette = _engine(page, "return e.meta.desa.palette;")
        red, green, blue, alpha = _pixel(page, _desa_center(result, desa.name))
        assert alpha > 150  # filled (fill opacity 0.8), not the page background showing through
        assert [red, green, blue] == pytest.approx(_rgb(palette[kelas]), abs=3)
        assert page.errors == [] and page.requests == []
    finally:
        page.close()


def _second_desa(result, not_in: str) -> pd.Series:
    """A desa with a name no other desa has, with a class, outside kabupaten ``not_in``."""
    gdf = result.classified().gdf.set_index("kode_desa")
    unique = ~gdf["nama_desa"].duplicated(keep=False)
    pick = gdf[unique & (gdf["kelas"] >= 0) & (gdf["kode_kabupaten"] != not_in)]
    return pick.iloc[0]


def _outlined(page) -> list[str]:
    """Codes of the desa drawn with the search highlight."""
    return _engine(
        page,
        "const m = e.meta.desa, field = m.fields[m.aliases.indexOf("
        f"{json.dumps(label('kode_desa'))})]; const out = [];"
        " e.layers.desa.eachLayer(c => c.eachLayer(l => {"
        "   if (l.options.color === '#00e5ff') out.push(l.feature.properties[field]); }));"
        " return out;",
    )


def _pixel(page, latlng: list[float]) -> list[int]:
    """RGBA of the map's canvas at ``latlng`` ([lat, lng])."""
    return _engine(
        page,
        "const map = e.layers.kab._map, canvas = map.getPanes().overlayPane"
        ".querySelector('canvas'); const cr = canvas.getBoundingClientRect(),"
        " mr = map.getContainer().getBoundingClientRect(),"
        f" p = map.latLngToContainerPoint({json.dumps(latlng)}), r = canvas.width / cr.width;"
        " const x = Math.round((p.x + mr.left - cr.left) * r),"
        " y = Math.round((p.y + mr.top - cr.top) * r);"
        " return Array.from(canvas.getContext('2d').getImageData(x, y, 1, 1).data);",
    )


def _rgb(color: str) -> list[int]:
    return [int(color[i : i + 2], 16) for i in (1, 3, 5)]


@pytest.mark.browser
def test_chunks_out_of_view_longest_are_dropped(browser, kalsel):
    path, result, _ = kalsel
    page = open_offline(browser, path)
    try:
        _wait(page, "e.layers.kab.getLayers().length > 0")
        _engine(page, "e.meta.maxDecoded = 1;")
        # The desa nearest the middle of three kabupaten far apart, one after the other.
        desa = result.main
        visited = []
        for code in sorted(desa["kode_kabupaten"].unique())[:3]:
            first = desa[desa["kode_kabupaten"] == code].iloc[0]
            lat, lng = _desa_center(result, first["kode_desa"])
            _engine(page, f"e.layers.kab._map.setView([{lat}, {lng}], 13, {{animate: false}});")
            _wait(page, "e.chunks.every(c => !c.loading) && e.layers.desa.getLayers().length > 0")
            visited.append(
                _engine(
                    page,
                    "return e.chunks.filter(c => c.layer && e.layers.desa.hasLayer(c.layer))"
                    ".map(c => c.key);",
                )
            )
        state = _engine(
            page,
            "return {kept: e.chunks.filter(c => c.layer).map(c => c.key),"
            " shown: e.layers.desa.getLayers().length};",
        )
        # At most one chunk kept beyond those in view, and the first kabupaten's chunk dropped.
        assert len(state["kept"]) <= state["shown"] + 1
        assert not set(visited[0]) & (set(state["kept"]) - set(visited[2]))
        assert page.errors == []
    finally:
        page.close()


def test_search_list_without_kecamatan_or_kabupaten_names():
    # The national file has desa names only: the titles must still be text, unique, valid JSON.
    from povmap.render.national import _search_index

    web = gpd.GeoDataFrame(
        {
            "kode_desa": ["11.01.01.2001", "11.01.01.2002", "11.01.02.2001"],
            "nama_desa": ["Keude Bakongan", "Ujong Mangki", "Keude Bakongan"],
            "nama_kecamatan": [None, None, None],
            "nama_kabupaten": [None, None, None],
        },
        geometry=[shapely.box(0, 0, 1, 1)] * 3,
    )
    index = json.loads(gzip.decompress(_search_index(web, np.zeros(3, int), np.arange(3))))
    assert index["t"] == [
        "Keude Bakongan (11.01.01.2001)",
        "Ujong Mangki",
        "Keude Bakongan (11.01.02.2001)",
    ]
    assert index["c"] == [0, 0, 0] and index["i"] == [0, 1, 2]


def _page_data(path) -> tuple[dict, dict[str, bytes]]:
    """The national page's layout (meta) and each block's gzip bytes, read as the page does."""
    page = path.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="[^"]+_meta">(.*?)</script>', page)
    meta = json.loads(found.group(1))
    blocks = {
        key: base64.b64decode(re.search(rf'id="{ident}">([^<]*)</script>', page).group(1))
        for key, ident in meta["ids"].items()
    }
    return meta, blocks


def test_kabupaten_values_are_summed_from_their_desa(kalsel):
    # The opening view's numbers: decoded from the page as the browser does, compared with the
    # kabupaten aggregate of the same desa.
    path, result, _ = kalsel
    meta, blocks = _page_data(path)
    _, props = _decode(blocks["kab"], (0.0, 0.0))
    fields = dict(zip(meta["kab"]["aliases"], meta["kab"]["fields"], strict=True))
    codes = props[fields[label("kode_kabupaten")]]
    shares = props[fields[label("persen_miskin_ekstrem")]]
    expected = aggregate(result.main, "kabupaten").set_index("kode_kabupaten")
    assert sorted(codes) == sorted(expected.index)
    for code, share in zip(codes, shares, strict=True):
        assert share == f"{_id(expected.loc[code, 'persen_miskin_ekstrem'], 2)} %"


def test_desa_decode_where_they_are(kalsel):
    # Decoded from the corner of the chunk's box as the page reads it, each desa lies where the
    # simplified desa lies, to the grid step (the corner was once rounded after encoding: 5 m off).
    path, result, _ = kalsel
    meta, blocks = _page_data(path)
    fields = dict(zip(meta["desa"]["aliases"], meta["desa"]["fields"], strict=True))
    desa = result.main.set_index("kode_desa")
    for key, x0, y0, *_ in meta["chunks"]:
        features, props = _decode(blocks[key], (x0, y0))
        codes = props[fields[label("kode_desa")]]
        want = simplify_fast(np.asarray(desa.loc[codes].geometry.values), DESA_TOLERANCE_M)
        for got, geom in zip(features, want, strict=True):
            assert shapely.hausdorff_distance(got, geom) < 2 * GRID_DEG


# Poverty pockets on the national map.

#: The pocket categories of the hand-made table, as :mod:`povmap.render.layers` colours them.
POCKET_COLORS = {"kantong": "#7a0177", "pencilan_tinggi": "#e7298a", "dingin": "#2166ac"}


def _border_pair(desa: gpd.GeoDataFrame) -> tuple[str, str]:
    """Two neighbouring desa in different kabupaten (the first such pair by code)."""
    desa = desa.sort_values("kode_desa").reset_index(drop=True)
    geoms = np.asarray(desa.geometry.values)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    kab = desa["kode_kabupaten"].to_numpy()
    across = (left < right) & (kab[left] != kab[right])
    i, j = left[across][0], right[across][0]
    return desa["kode_desa"].iloc[i], desa["kode_desa"].iloc[j]


@pytest.fixture(scope="module")
def pocketed(kalsel, tmp_path_factory):
    """Kalimantan Selatan as a national map with a hand-made pocket table: pocket K01 of two
    neighbouring desa in two kabupaten (its id hostile text), a poor desa among better-off
    ones, a low cluster desa, and a desa not significant; the same map in English; and none."""
    _, result, _ = kalsel
    tmp = tmp_path_factory.mktemp("pockets")
    first, second = _border_pair(result.main)
    others = result.main.loc[
        ~result.main["kode_kabupaten"].isin([first[:5], second[:5]]), "kode_desa"
    ].tolist()
    table = pd.DataFrame(
        {
            "kode_desa": [first, second, others[0], others[40], others[80]],
            "jenis_kantong": [
                "kantong",
                "kantong",
                "pencilan_tinggi",
                "dingin",
                "tidak_signifikan",
            ],
            "id_kantong": [HOSTILE, HOSTILE, None, None, None],
        }
    )
    paths = {}
    for name, pockets, lang in (("id", table, "id"), ("en", table, "en"), ("none", None, "id")):
        m = choropleth(result.classified(), pockets=pockets, tiles=None, national=True, lang=lang)
        paths[name] = tmp / f"{name}.html"
        m.save(paths[name])
    return paths, table, result


def _drawn_pockets(page) -> list[dict]:
    """The pocket outlines drawn on the page: colour, dashes, width, ring (lng, lat)."""
    return _engine(
        page,
        "return e.pocketLines.getLayers().map(l => ({color: l.options.color,"
        " dash: l.options.dashArray || null, weight: l.options.weight,"
        " drawn: !!(l._parts && l._parts.length),"
        " rings: l.getLatLngs().map(p => p[0].map(q => [q.lng, q.lat]))}));",
    )


def _shape(drawn: dict) -> shapely.Geometry:
    return shapely.union_all([shapely.Polygon(r) for r in drawn["rings"]])


@pytest.mark.browser
def test_pockets_outlined_from_the_desa_zoom_in_their_colours(browser, pocketed):
    paths, table, result = pocketed
    desa = result.main.set_index("kode_desa")
    points = {code: desa.loc[code].geometry.representative_point() for code in table.kode_desa}
    page = open_offline(browser, paths["id"])
    try:
        # The opening view: where the pockets are, coarsely (one outline per pocket: K01, the
        # poor desa and the low cluster desa; not the desa that is not significant).
        _wait(page, "e.pocketLines.getLayers().length === 3")
        assert _engine(page, "return e.layers.kab._map.getZoom();") < DESA_MIN_ZOOM
        # At the desa zoom, on the border of the two kabupaten of K01: both chunks are shown,
        # and K01, stored whole in each, is drawn once, around both its desa.
        first, second = table.kode_desa[:2]
        middle = shapely.MultiPoint([points[first], points[second]]).centroid
        _engine(
            page,
            f"e.layers.kab._map.setView([{middle.y}, {middle.x}], 12, {{animate: false}});",
        )
        _wait(page, "e.chunks.filter(c => c.layer && e.layers.desa.hasLayer(c.layer)).length > 1")
        _wait(page, "e.chunks.every(c => !c.loading)")
        shown = _engine(
            page,
            "return e.chunks.filter(c => c.layer && e.layers.desa.hasLayer(c.layer))"
            ".map((c, i) => c.key);",
        )
        keys = _engine(page, "return e.meta.chunks.map(c => [c[0], c[6]]);")
        assert {first[:5], second[:5]} <= {kab for key, kab in keys if key in shown}
        drawn = _drawn_pockets(page)
        k01 = [d for d in drawn if _shape(d).contains(points[first])]
        assert len(k01) == 1 and _shape(k01[0]).contains(points[second])
        assert k01[0]["color"] == POCKET_COLORS["kantong"] and k01[0]["dash"] is None
        assert k01[0]["weight"] == 3 and k01[0]["drawn"]
        # Around its two desa only: no other desa's inner point lies inside it.
        inside = desa[desa.geometry.representative_point().within(_shape(k01[0]))].index
        assert sorted(inside) == sorted([first, second])
        # Over a white casing 3 pixels wider, one per outline.
        casings = _engine(
            page,
            "return e.layers.pockets.getLayers()[0].getLayers().map(l => [l.options.color,"
            " l.options.weight]);",
        )
        assert casings == [["#ffffff", 6]] * len(drawn)
        # The canvas shows the pocket's colour on its outline.
        ring = k01[0]["rings"][0]
        on_screen = [
            p
            for p in ring
            if _engine(page, f"return e.layers.kab._map.getBounds().contains([{p[1]}, {p[0]}]);")
        ]
        page.wait_for_timeout(300)
        hits = [
            _pixel(page, [lat, lng])[:3] for lng, lat in on_screen[:: max(1, len(on_screen) // 8)]
        ]
        assert any(h == pytest.approx(_rgb(POCKET_COLORS["kantong"]), abs=3) for h in hits)
        # Clicks go through to the desa: its popup says its pocket.
        assert "Kantong kemiskinan (tinggi dikelilingi tinggi)" in _popup(page, first)

        # The single-desa pockets, each at its desa, in its category's colour and dashes.
        for code, kind, dash in (
            (table.kode_desa[2], "pencilan_tinggi", None),
            (table.kode_desa[3], "dingin", "6 4"),
        ):
            at = points[code]
            _engine(page, f"e.layers.kab._map.setView([{at.y}, {at.x}], 12, {{animate: false}});")
            _wait(page, "e.chunks.every(c => !c.loading) && e.layers.desa.getLayers().length")
            found = [d for d in _drawn_pockets(page) if _shape(d).contains(at)]
            assert [(d["color"], d["dash"]) for d in found] == [(POCKET_COLORS[kind], dash)]
            outline = _shape(found[0])
            simplified = simplify_fast(np.array([desa.loc[code].geometry]), DESA_TOLERANCE_M)[0]
            assert shapely.hausdorff_distance(outline, simplified) < 2 * GRID_DEG
        # The desa that is not significant is not outlined.
        at = points[table.kode_desa[4]]
        _engine(page, f"e.layers.kab._map.setView([{at.y}, {at.x}], 12, {{animate: false}});")
        _wait(page, "e.chunks.every(c => !c.loading) && e.layers.desa.getLayers().length")
        assert not [d for d in _drawn_pockets(page) if _shape(d).contains(at)]

        assert page.errors == [] and page.requests == []
    finally:
        page.close()


def test_pocket_chunks_hold_each_pocket_whole_in_each_kabupaten_it_touches(pocketed):
    # K01 lies in two kabupaten: each one's pocket chunk has all of it (the page draws it from
    # whichever is shown), decoded where its desa are.
    paths, table, result = pocketed
    meta, blocks = _page_data(paths["id"])
    desa = result.main.set_index("kode_desa")
    first, second = table.kode_desa[:2]
    both = [desa.loc[c].geometry.representative_point() for c in (first, second)]
    holding = []
    for (_key, x0, y0, _x1, _y1, _n, kabupaten, *_), pocket_key in zip(
        meta["chunks"], meta["pockets"]["chunks"], strict=True
    ):
        if pocket_key is None:
            continue
        features, props = _decode(blocks[pocket_key], (x0, y0))
        for geom, k in zip(features, props["k"], strict=True):
            if geom.contains(both[0]):
                assert geom.contains(both[1]) and k == 0
                holding.append(kabupaten)
    assert sorted(holding) == sorted([first[:5], second[:5]])
    assert HOSTILE not in paths["id"].read_text(encoding="utf-8")


def test_pocket_legend_in_indonesian_and_english_and_nothing_without_pockets(pocketed):
    paths, _, _ = pocketed
    page = paths["id"].read_text(encoding="utf-8")
    section = re.search(
        r'<div class="povmap-section" data-layer="Kantong kemiskinan">.*?</div></div>', page
    )
    assert section, "no pocket section in the legend"
    text = section.group(0)
    assert "<b>Kantong kemiskinan</b>" in text
    assert (
        text.index("Kantong kemiskinan (tinggi dikelilingi tinggi)")
        < text.index("Desa miskin di antara desa sejahtera")
        < text.index("Kantong rendah (rendah dikelilingi rendah)")
    )
    # The same swatches as the province map: the stroke over a white casing, cold ones dashed.
    assert 'stroke="#ffffff" stroke-width="6"/>' in text
    assert 'stroke="#7a0177" stroke-width="3"/>' in text
    assert 'stroke="#2166ac" stroke-width="3" stroke-dasharray="6 4"/>' in text
    assert '"Kantong kemiskinan"' in page  # its entry in the layer control
    english = paths["en"].read_text(encoding="utf-8")
    assert 'data-layer="Poverty pockets"><b>Poverty pockets</b>' in english
    assert "Poverty pocket (high among high)" in english
    assert "Poor village among better-off villages" in english
    assert "Kantong kemiskinan" not in english
    # Without pockets: no pocket chunk, layout, legend section or layer.
    bare = paths["none"].read_text(encoding="utf-8")
    meta, blocks = _page_data(paths["none"])
    assert meta["pockets"] is None
    assert not [k for k in blocks if re.fullmatch(r"p\d+|pockets", k)]
    assert sorted(k for k in blocks if not k.startswith("d")) == ["kab", "prov", "search"]
    assert "Kantong kemiskinan" not in bare


@pytest.mark.browser
def test_no_pocket_drawn_without_pockets(browser, pocketed):
    paths, table, result = pocketed
    page = open_offline(browser, paths["none"])
    try:
        _wait(page, "e.layers.kab.getLayers().length > 0")
        at = result.main.set_index("kode_desa").loc[table.kode_desa[0]].geometry.centroid
        _engine(page, f"e.layers.kab._map.setView([{at.y}, {at.x}], 12, {{animate: false}});")
        _wait(page, "e.chunks.every(c => !c.loading) && e.layers.desa.getLayers().length")
        assert _engine(page, "return e.pocketLines.getLayers().length;") == 0
        assert _engine(page, "return e.layers.kab._map.hasLayer(e.layers.pockets);") is False
        assert page.errors == []
    finally:
        page.close()


def test_kabupaten_popup_counts_its_pockets(pocketed):
    # At the opening view each kabupaten's popup says how many pockets reach into it, how many
    # of its desa are in one, and its poor desa among better-off ones.
    paths, table, result = pocketed
    meta, blocks = _page_data(paths["id"])
    _, props = _decode(blocks["kab"], (0.0, 0.0))
    fields = dict(zip(meta["kab"]["aliases"], meta["kab"]["fields"], strict=True))
    rows = {
        code: [
            props[fields[label(c)]][i]
            for c in ("jumlah_kantong", "jumlah_desa_kantong", "jumlah_pencilan_tinggi")
        ]
        for i, code in enumerate(props[fields[label("kode_kabupaten")]])
    }
    first, second, outlier = table.kode_desa[:3]
    expected = {code: [0, 0, 0] for code in rows}
    expected[first[:5]] = [1, 1, 0]
    expected[second[:5]] = [1, 1, 0]
    expected[outlier[:5]] = [0, 0, 1]
    assert rows == {code: [str(v) for v in want] for code, want in expected.items()}
    assert label("jumlah_kantong", "en") == "Poverty pockets (number)"
    bare, _ = _page_data(paths["none"])
    assert label("jumlah_kantong") not in bare["kab"]["aliases"]


def test_cli_national_map_outlines_the_pockets_it_found(tmp_path):
    # povmap map --pockets --national: the pockets the pipeline found reach the national page,
    # one outline per pocket, each in the pocket chunk of its kabupaten.
    path = tmp_path / "peta.html"
    code, out = invoke(
        "map", DEMO_DESA, DEMO_COUNTS, "-o", path, "--pockets", "--national", "--tiles", "none"
    )
    assert code == 0, out
    found = run(DEMO_DESA, DEMO_COUNTS, Options(pockets=True)).pockets
    assert found is not None and len(found.wilayah) >= 1
    meta, blocks = _page_data(path)
    features, props = _decode(blocks["pockets"], tuple(meta["pockets"]["origin"]))
    kinds = ["kantong", "pencilan_tinggi", "dingin", "pencilan_rendah"]
    present = [k for k in kinds if k in set(found.desa["jenis_kantong"])]
    assert meta["pockets"]["colors"] == [POCKET_COLORS.get(k, "#67a9cf") for k in present]
    flagged = found.desa[found.desa["jenis_kantong"].isin(kinds)]
    alone = flagged["id_kantong"].isna().sum()
    assert len(features) == flagged["id_kantong"].nunique() + alone
    # Each pocket of the pipeline is one outline around its desa (coarse: to 500 m).
    pockets = [f for f, k in zip(features, props["k"], strict=True) if k == 0]
    assert len(pockets) == len(found.wilayah)
    for _, region in found.wilayah.iterrows():
        members = flagged[flagged["id_kantong"] == region["id_kantong"]]
        points = members.geometry.representative_point().to_numpy()
        holding = [f for f in pockets if shapely.contains(f.buffer(5e-3), points).all()]
        assert len(holding) == 1


@pytest.mark.browser
def test_pocket_legend_and_layer_switch_in_english(browser, pocketed):
    # The English page: the legend shows the pocket section while the layer is on; unticking
    # "Poverty pockets" in the layer control removes the outlines and hides the section.
    paths, _, _ = pocketed
    page = open_offline(browser, paths["en"])
    try:
        _wait(page, "e.pocketLines.getLayers().length === 3")
        section = page.locator('.povmap-section[data-layer="Poverty pockets"]')
        assert section.is_visible()
        assert "Poverty pocket (high among high)" in section.inner_text()
        page.get_by_label("Poverty pockets").uncheck()
        _wait(page, "!e.layers.kab._map.hasLayer(e.layers.pockets)")
        assert not section.is_visible()
        page.get_by_label("Poverty pockets").check()
        _wait(page, "e.layers.kab._map.hasLayer(e.layers.pockets)")
        assert section.is_visible() and page.errors == []
    finally:
        page.close()
