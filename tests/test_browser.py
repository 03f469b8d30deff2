"""The generated map in headless Chromium with the network cut off: one page load per map."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import HSS_DESA, KAYONG_DESA, make_counts, need, open_offline

import povmap
from povmap._offline import save_map
from povmap.pipeline import Options, run
from povmap.render import choropleth

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror="window.__pwned=1">'
KNOWN = "63.06.01.2001"  # a real HSS desa, Kecamatan Sungai Raya

# Every Leaflet GeoJSON layer of the page, found by scanning globals (folium names them).
LAYERS_JS = """() => {
    const out = [];
    for (const key of Object.keys(window)) {
        const v = window[key];
        if (v instanceof L.GeoJSON && v.getLayers().length) {
            const shown = v._map ? v.getLayers().filter(l => l._parts && l._parts.length).length
                                 : 0;
            out.push({key: key, features: v.getLayers().length, drawn: shown,
                      fields: Object.keys(v.getLayers()[0].feature.properties)});
        }
    }
    return out;
}"""


@pytest.fixture(scope="module")
def hss_map(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    raw = gpd.read_file(need(HSS_DESA))
    hostile_code = raw.loc[1, "kode"]
    raw.loc[1, "nama"] = HOSTILE
    raw.to_file(tmp / "hss.geojson")
    make_counts(raw, seed=11).to_csv(tmp / "hss.csv", index=False)
    result = run(tmp / "hss.geojson", tmp / "hss.csv", Options())
    path = tmp / "peta.html"
    save_map(
        choropleth(
            result.main,
            kecamatan=result.layers["kecamatan"],
            tiles=None,
            title="Peta uji",
            pockets=_pockets(result.main),
        ),
        path,
    )
    return path, result, hostile_code


def _pockets(desa: gpd.GeoDataFrame) -> pd.DataFrame:
    """Kecamatan Sungai Raya (where KNOWN lies) as one hot pocket, Loksado's desa as cold."""
    kinds = np.select(
        [desa["nama_kecamatan"] == "Sungai Raya", desa["nama_kecamatan"] == "Loksado"],
        ["kantong", "dingin"],
        "tidak_signifikan",
    )
    return pd.DataFrame(
        {
            "kode_desa": desa["kode_desa"],
            "jenis_kantong": kinds,
            "id_kantong": np.where(kinds == "kantong", "K01", None),
        }
    )


@pytest.fixture(scope="module")
def page(browser, hss_map):
    page = open_offline(browser, hss_map[0])
    yield page
    page.close()


def _tooltip_of(page, code: str) -> str:
    """Hover the desa ``code`` through Leaflet's API and read its tooltip's text.

    Canvas paths have no DOM element to hover, so the mouseover event is fired on the feature;
    it propagates to the GeoJSON layer that holds the tooltip, as a real hover does.
    """
    _fire(page, code, "mouseover")
    return page.locator(".leaflet-tooltip").last.inner_text()


def _fire(page, code: str, event: str) -> None:
    """Fire ``event`` at the centre of the desa ``code`` (``t2``) through Leaflet's API."""
    page.evaluate(
        """([code, event]) => {
        for (const key of Object.keys(window)) {
            const v = window[key];
            if (!(v instanceof L.GeoJSON) || !v._map) continue;
            for (const l of v.getLayers()) {
                if (l.feature.properties.t2 === code && 's' in l.feature.properties) {
                    const c = l.getCenter();
                    l.fire(event, {latlng: c, layerPoint: v._map.latLngToLayerPoint(c),
                                   containerPoint: v._map.latLngToContainerPoint(c)}, true);
                    return;
                }
            }
        }
    }""",
        [code, event],
    )


# Close popups and show the whole kabupaten again, as the page opened.
RESET_JS = """() => {
    const map = Object.values(window).find(v => v instanceof L.Map);
    map.closePopup();
    const desa = Object.values(window).find(v => v instanceof L.GeoJSON && v._map
        && v.getLayers().length && 's' in v.getLayers()[0].feature.properties);
    map.fitBounds(desa.getBounds(), {animate: false});
}"""


def _popup_of(page, code: str) -> str:
    """Click the desa ``code`` through Leaflet's API (as :func:`_tooltip_of`); its popup text."""
    _fire(page, code, "click")
    popup = page.locator(".leaflet-popup-content")
    popup.last.wait_for(timeout=3000)
    return popup.last.inner_text()


def _id(value: float, decimals: int = 0) -> str:
    """``value`` written the Indonesian way, independently of povmap.i18n."""
    return f"{value:,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")


def test_pocket_desa_popup_holds_its_numbers(page, hss_map):
    _, result, _ = hss_map
    row = result.main.set_index("kode_desa").loc[KNOWN]
    text = _popup_of(page, KNOWN)
    lines = dict(line.split("\t", 1) for line in text.splitlines() if "\t" in line)
    assert lines["Desa/Kelurahan"] == row["nama_desa"]
    assert lines["Penduduk miskin ekstrem (jiwa)"] == _id(row["jumlah_miskin_ekstrem"])
    assert lines["Keluarga miskin ekstrem (KK)"] == _id(row["jumlah_keluarga_miskin_ekstrem"])
    assert lines["Jumlah penduduk (jiwa)"] == _id(row["jumlah_penduduk"])
    assert (
        lines["Persentase penduduk miskin ekstrem"] == _id(row["persen_miskin_ekstrem"], 2) + " %"
    )
    assert lines["Jenis kantong"] == "Kantong kemiskinan (tinggi dikelilingi tinggi)"
    assert lines["Cara padan"] == "kode"
    page.evaluate("() => { Object.values(window).find(v => v instanceof L.Map).closePopup(); }")


def test_search_with_prefix_and_case_highlights_and_opens_popup(page, hss_map):
    search = page.locator(".leaflet-control-search input.search-input")
    search.fill("")
    search.press_sequentially("desa MANDALA murung")  # the file says "Mdl. Murung Mesjid"
    tips = page.locator(".leaflet-control-search .search-tip")
    tips.first.wait_for(timeout=5000)
    assert tips.all_inner_texts() == ["Mdl. Murung Mesjid, Daha Utara"]
    search.press("Enter")
    page.wait_for_timeout(600)
    found = page.evaluate("""() => {
        const map = Object.values(window).find(v => v instanceof L.Map);
        for (const v of Object.values(window)) {
            if (!(v instanceof L.GeoJSON) || !v._map) continue;
            for (const l of v.getLayers()) {
                if (l.feature.properties.s && l.feature.properties.s.startsWith('Mdl. ')) {
                    return {color: l.options.color, weight: l.options.weight,
                            inView: map.getBounds().contains(l.getBounds()),
                            zoom: map.getZoom()};
                }
            }
        }
    }""")
    assert found["color"] == "#00e5ff" and found["weight"] == 4 and found["inView"]
    popup = page.locator(".leaflet-popup-content").last.inner_text()
    assert "Mdl. Murung Mesjid" in popup and "Daha Utara" in popup
    search.fill("")
    page.evaluate(RESET_JS)
    page.wait_for_timeout(400)


@pytest.mark.parametrize(
    ("typed", "desa_starts"), [("kandangan", "Kandangan "), ("sei raya", "Sungai Raya ")]
)
def test_search_lists_hits_on_the_desa_name_first(page, typed, desa_starts):
    # "kandangan" once offered "Batang Kulur Kanan, Sungai Raya" first (a loose match), and
    # "sei raya" "Hamalau, Sungai Raya" (a kecamatan-name hit) above desa "Sungai Raya Utara".
    search = page.locator(".leaflet-control-search input.search-input")
    search.fill("")
    search.press_sequentially(typed)
    tips = page.locator(".leaflet-control-search .search-tip")
    tips.first.wait_for(timeout=5000)
    texts = tips.all_inner_texts()
    assert texts[0].split(", ")[0].startswith(desa_starts), texts[:5]
    hits = [t for t in texts if t.startswith(desa_starts)]
    assert texts[: len(hits)] == sorted(hits)  # every such desa before any other hit
    search.press("ArrowDown")
    search.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    popup.last.wait_for(timeout=3000)
    lines = dict(
        line.split("\t", 1) for line in popup.last.inner_text().splitlines() if "\t" in line
    )
    assert lines["Desa/Kelurahan"] == texts[0].split(", ")[0]
    search.fill("")
    page.evaluate(RESET_JS)
    page.wait_for_timeout(400)


def test_legend_swatches_look_like_the_map(page):
    drawn = page.evaluate("""() => {
        const fills = new Set(), strokes = {};
        for (const v of Object.values(window)) {
            if (!(v instanceof L.GeoJSON) || !v._map) continue;
            for (const l of v.getLayers()) {
                const o = l.options;
                if (Object.keys(l.feature.properties).join() === 'k') {  // the pocket outlines
                    strokes[o.color] = [o.weight, o.dashArray || null];  // (and white casing)
                } else if ('s' in l.feature.properties) {
                    fills.add(o.fillColor);
                }
            }
        }
        return {fills: [...fills], strokes: strokes};
    }""")
    legend = page.evaluate("""() => {
        const sec = [...document.querySelectorAll('.povmap-section')];
        const desa = sec.find(s => s.dataset.layer === 'Desa/Kelurahan');
        const rgb = [...desa.querySelectorAll('span.povmap-swatch')]
            .map(s => getComputedStyle(s).backgroundColor);
        const pockets = sec.find(s => s.dataset.layer === 'Kantong kemiskinan');
        const outlines = [...pockets.querySelectorAll('rect')].map(r => [
            r.getAttribute('stroke'), Number(r.getAttribute('stroke-width')),
            r.getAttribute('stroke-dasharray')]);
        return {rgb: rgb, outlines: outlines};
    }""")

    def rgb(hex_color: str) -> str:
        r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
        return f"rgb({r}, {g}, {b})"

    # Every fill on the map has its swatch (the legend also lists classes not drawn).
    assert {rgb(c) for c in drawn["fills"]} <= set(legend["rgb"])
    # Each swatch: the white casing, then the type's stroke, as drawn on the map.
    assert {tuple(o) for o in legend["outlines"]} == {(c, *v) for c, v in drawn["strokes"].items()}
    assert [o[0] for o in legend["outlines"]].count("#ffffff") == 2
    assert len(legend["outlines"]) == 4


def test_page_loads_offline_without_errors_and_draws_every_desa(page, hss_map):
    assert page.errors == []
    assert page.requests == []  # nothing fetched: no network, no file beside the HTML
    layers = page.evaluate(LAYERS_JS)
    desa = [layer for layer in layers if "s" in layer["fields"]]
    assert len(desa) == 1
    assert desa[0]["features"] == desa[0]["drawn"] == 148
    outlines = [layer for layer in layers if layer["features"] == 11 and layer["drawn"] == 11]
    assert outlines  # kecamatan outlines drawn (the kecamatan choropleth starts hidden)
    assert page.locator(".leaflet-overlay-pane canvas").count() >= 1


def test_tooltip_of_known_desa(page, hss_map):
    _, result, _ = hss_map
    row = result.main.set_index("kode_desa").loc[KNOWN]
    text = _tooltip_of(page, KNOWN)
    assert row["nama_desa"] in text and "Sungai Raya" in text
    assert f"{row['persen_miskin_ekstrem']:.2f}".replace(".", ",") + " %" in text
    assert f"{int(row['jumlah_miskin_ekstrem']):,}".replace(",", ".") in text
    assert "Persentase penduduk miskin ekstrem" in text
    # The hover tooltip is short; the click popup has every number (tested above).
    assert "Jumlah penduduk" not in text


def test_hostile_name_is_inert_text(page, hss_map):
    _, _, code = hss_map
    text = _tooltip_of(page, code)
    assert HOSTILE in text  # shown literally ...
    assert page.evaluate("window.__pwned") is None  # ... and never run
    assert page.locator(".leaflet-tooltip img").count() == 0


def test_controls_search_and_zoom(page):
    assert page.locator(".leaflet-control-layers").count() == 1
    assert "Batas kecamatan" in page.locator(".leaflet-control-layers").inner_text()
    assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
    assert page.locator(".leaflet-control-scale").count() == 1
    search = page.locator(".leaflet-control-search input.search-input")
    search.press_sequentially("Sungai Raya")  # a kecamatan name lists its desa
    tips = page.locator(".leaflet-control-search .search-tip")
    tips.first.wait_for(timeout=5000)
    assert all("Sungai Raya" in t for t in tips.all_inner_texts())
    search.fill("")
    zoom_before = page.evaluate("Object.values(window).find(v => v instanceof L.Map).getZoom()")
    page.select_option(".povmap-zoom select", label="Loksado")
    page.wait_for_timeout(400)
    zoom_after = page.evaluate("Object.values(window).find(v => v instanceof L.Map).getZoom()")
    assert zoom_after > zoom_before
    page.select_option(".povmap-zoom select", index=0)  # back to the whole kabupaten
    page.wait_for_timeout(400)
    assert page.errors == []


def test_screenshot_shows_the_class_colours(page, hss_map, tmp_path):
    _, result, _ = hss_map
    page.mouse.move(5, 740)  # no hover highlight or tooltip over the map
    page.evaluate("document.querySelectorAll('.leaflet-tooltip').forEach(t => t.remove())")
    shot = tmp_path / "peta.png"
    page.screenshot(path=str(shot))
    import matplotlib.image

    pixels = (matplotlib.image.imread(shot)[..., :3] * 255).round().astype(int)
    colors = [tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in result.classification.colors]
    flat = pixels.reshape(-1, 3)
    # Fill opacity 0.8 over the light grey page: expected colour = 0.8 c + 0.2 background.
    background = np.array([221, 221, 221])
    shares = [
        np.mean(np.abs(flat - (0.8 * np.array(c) + 0.2 * background)).max(axis=1) <= 12)
        for c in colors
    ]
    assert all(s > 0.005 for s in shares), shares  # every class visible
    assert 0.15 < sum(shares) < 0.9, shares  # the map fills a good part of the view


def test_legend_leaves_the_data_free_at_the_opening_view(browser, hss_map, tmp_path):
    path = hss_map[0]
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.route(
        "**/*",
        lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort(),
    )
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(600)
    boxes = page.evaluate("""() => {
        const map = Object.values(window).find(v => v instanceof L.Map);
        const desa = Object.values(window).find(v => v instanceof L.GeoJSON && v._map
            && v.getLayers().length && 's' in v.getLayers()[0].feature.properties);
        const b = desa.getBounds(), r = map.getContainer().getBoundingClientRect();
        const nw = map.latLngToContainerPoint(b.getNorthWest());
        const se = map.latLngToContainerPoint(b.getSouthEast());
        const box = el => { const b = el.getBoundingClientRect();
                            return [b.left, b.top, b.right, b.bottom]; };
        const legend = box(document.querySelector('.povmap-legend'));
        // Title, zoom buttons, search, layer list, kecamatan select.
        const others = [...document.querySelectorAll('.povmap-title, .leaflet-control')]
            .filter(el => !el.closest('.leaflet-bottom')).map(box);
        return {data: [nw.x + r.left, nw.y + r.top, se.x + r.left, se.y + r.top],
                legend: legend, others: others,
                open: document.querySelector('.povmap-legend').open};
    }""")
    x0, y0, x1, y1 = boxes["data"]
    lx0, ly0, lx1, ly1 = boxes["legend"]
    assert boxes["open"]  # a wide window shows the legend unfolded
    assert x1 - x0 > 300 and y1 - y0 > 300  # the data still fill a good part of the window
    assert lx0 >= x1 or lx1 <= x0 or ly0 >= y1 or ly1 <= y0, boxes
    # Nor do the title and the controls: the data are fitted below or beside them.
    assert len(boxes["others"]) >= 5
    for cx0, cy0, cx1, cy1 in boxes["others"]:
        assert cx0 >= x1 or cx1 <= x0 or cy0 >= y1 or cy1 <= y0, boxes
    page.screenshot(path=str(tmp_path / "peta_interaktif.png"))
    page.close()


def _map_js(body: str) -> str:
    """A page function with ``map`` (the Leaflet map) and ``desa`` (the desa layer) in scope."""
    return (
        "(arg) => { const map = Object.values(window).find(v => v instanceof L.Map);"
        " const desa = Object.values(window).find(v => v instanceof L.GeoJSON && v._map"
        " && v.getLayers().length && 's' in v.getLayers()[0].feature.properties);" + body + "}"
    )


# The shown place names (kecamatan and desa) and their boxes on the screen.
LABEL_BOXES_JS = """(kind) => [...document.querySelectorAll(
        kind ? `.povmap-${kind}-label span` : '.povmap-kec-label span, .povmap-desa-label span')]
    .filter(s => getComputedStyle(s).visibility !== 'hidden').map(s => {
        const r = s.getBoundingClientRect();
        return [s.textContent, r.left, r.top, r.right, r.bottom];
    })"""


def _overlapping(boxes: list) -> list:
    return [
        (a[0], b[0])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
    ]


def test_desa_labels_appear_zoomed_in_without_piling_up(page, hss_map):
    _, _, hostile_code = hss_map
    page.evaluate(RESET_JS)
    page.wait_for_timeout(300)
    opening = page.evaluate(_map_js("return map.getZoom();"))
    assert page.evaluate(LABEL_BOXES_JS, "desa") == []  # the opening view: classes, no desa
    kecamatan = page.evaluate(LABEL_BOXES_JS, "kec")
    assert len(kecamatan) >= 8 and _overlapping(kecamatan) == []  # of 11, none over another
    # Zoomed in on Kecamatan Sungai Raya (KNOWN lies there): names, none over another.
    page.evaluate(
        _map_js("""
        const l = desa.getLayers().find(l => l.feature.properties.t2 === arg);
        map.setView(l.getCenter(), 13, {animate: false});"""),
        KNOWN,
    )
    page.wait_for_timeout(300)
    boxes = page.evaluate(LABEL_BOXES_JS, "desa")
    assert opening < 12 and len(boxes) >= 5, (opening, boxes)
    assert _overlapping(page.evaluate(LABEL_BOXES_JS, "")) == []  # desa and kecamatan names
    names = set(hss_map[1].main["nama_desa"])
    assert {b[0] for b in boxes} <= names
    # The layer control turns them off and on again ("Nama desa", on by default).
    control = page.locator(".leaflet-control-layers-overlays label", has_text="Nama desa")
    checkbox = control.locator("input")
    assert checkbox.is_checked()
    checkbox.uncheck()
    page.wait_for_timeout(100)
    assert page.evaluate(LABEL_BOXES_JS, "desa") == []
    checkbox.check()
    page.wait_for_timeout(100)
    assert len(page.evaluate(LABEL_BOXES_JS, "desa")) == len(boxes)
    # A name is text, never markup: the hostile name is written out literally at close zoom.
    page.evaluate(
        _map_js("""
        const l = desa.getLayers().find(l => l.feature.properties.t2 === arg);
        map.setView(l.getCenter(), 17, {animate: false});"""),
        hostile_code,
    )
    page.wait_for_timeout(300)
    assert HOSTILE in [b[0] for b in page.evaluate(LABEL_BOXES_JS, "desa")]
    assert page.locator(".povmap-desa-label img").count() == 0
    assert page.evaluate("window.__pwned") is None
    page.evaluate(RESET_JS)
    page.wait_for_timeout(300)
    assert page.evaluate(LABEL_BOXES_JS, "desa") == []


def test_notebook_map_saved_with_the_public_api_draws_offline(browser, tmp_path):
    """As an analyst does in a notebook: the public API, then ``m.save``; no network at all."""
    raw = gpd.read_file(need(KAYONG_DESA))
    make_counts(raw, seed=61).to_csv(tmp_path / "kayong.csv", index=False)
    desa = povmap.read_boundaries(KAYONG_DESA)
    result = povmap.join(desa, povmap.read_counts(tmp_path / "kayong.csv"))
    layer = povmap.classify(povmap.add_rates(result.joined), "persen_miskin_ekstrem")
    m = povmap.choropleth(layer, kecamatan=povmap.aggregate(layer.gdf, "kecamatan"))  # OSM tiles
    m.save(tmp_path / "peta.html")
    povmap.save_map(m, tmp_path / "peta2.html")
    page = open_offline(browser, tmp_path / "peta.html")
    try:
        assert page.errors == []
        # Only basemap tiles were asked for (and refused): every script and style is inline.
        assert page.requests and all("tile.openstreetmap.org" in u for u in page.requests)
        shown = [x for x in page.evaluate(LAYERS_JS) if "s" in x["fields"]]
        assert shown[0]["features"] == shown[0]["drawn"] == len(desa.gdf)
    finally:
        page.close()
    page = open_offline(browser, tmp_path / "peta2.html")
    try:
        shown = [x for x in page.evaluate(LAYERS_JS) if "s" in x["fields"]]
        assert page.errors == [] and shown[0]["drawn"] == len(desa.gdf)
    finally:
        page.close()


def test_each_desa_is_filled_with_the_swatch_of_its_legend_class(page, hss_map):
    """The fill Leaflet computed for every desa is the swatch beside its class's legend label,
    and the labels are the classes' own ("> a – b" after the first: no shared end values)."""
    _, result, _ = hss_map
    fills = dict(
        page.evaluate("""() => {
        const out = [];
        for (const v of Object.values(window)) {
            if (!(v instanceof L.GeoJSON) || !v._map) continue;
            for (const l of v.getLayers()) {
                if ('s' in l.feature.properties) out.push([l.feature.properties.t2,
                                                          l.options.fillColor]);
            }
        }
        return out;
    }""")
    )
    legend = page.evaluate("""() => {
        const desa = [...document.querySelectorAll('.povmap-section')]
            .find(s => s.dataset.layer === 'Desa/Kelurahan');
        return [...desa.querySelectorAll('.povmap-item')].map(item => [
            item.textContent, getComputedStyle(item.querySelector('.povmap-swatch'))
                .backgroundColor]);
    }""")
    labels = [text for text, _ in legend]
    classification = result.classification
    assert labels == [*classification.labels("id"), "Tidak ada data"]
    assert not labels[0].startswith(">") and all(t.startswith("> ") for t in labels[1:-1])
    swatch = dict(legend)
    names = {i: text for i, text, _ in classification.legend_items("id")}
    kelas = result.main.set_index("kode_desa")["kelas"]
    assert len(fills) == len(kelas) == 148

    def rgb(hex_color: str) -> str:
        r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
        return f"rgb({r}, {g}, {b})"

    wrong = {
        code: (fill, names[int(kelas[code])])
        for code, fill in fills.items()
        if rgb(fill) != swatch[names[int(kelas[code])]]
    }
    assert wrong == {}
