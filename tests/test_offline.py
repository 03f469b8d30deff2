"""Offline HTML maps: every library inlined from povmap/static, nothing fetched from a CDN."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import folium
import folium.plugins
import pytest
from branca.element import JavascriptLink

from povmap._offline import OfflineAssetError, inline_assets, save_map

STATIC = Path(__file__).resolve().parents[1] / "src" / "povmap" / "static"
DESA = ["Sukamaju", "Sukajadi", "Mekarsari"]

# <script src=...> and <link href=...> with an absolute http(s) or protocol-relative URL.
EXTERNAL_REF = re.compile(
    r"""<(?:script\b[^>]*?\bsrc|link\b[^>]*?\bhref)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE
)


def _villages() -> dict:
    """Three adjacent square 'villages' so the test knows how many paths Leaflet must draw."""
    features = [
        {
            "type": "Feature",
            "properties": {"desa": name},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[106 + i, -6], [107 + i, -6], [107 + i, -5], [106 + i, -5], [106 + i, -6]]
                ],
            },
        }
        for i, name in enumerate(DESA)
    ]
    return {"type": "FeatureCollection", "features": features}


def _map(**kwargs) -> folium.Map:
    """A map like povmap's: GeoJson with tooltip, Fullscreen, Search, LayerControl, no tiles."""
    m = folium.Map(location=[-5.5, 107.5], zoom_start=7, tiles=None, **kwargs)
    layer = folium.GeoJson(
        _villages(), name="desa", tooltip=folium.GeoJsonTooltip(fields=["desa"])
    ).add_to(m)
    folium.plugins.Fullscreen().add_to(m)
    folium.plugins.Search(layer=layer, search_label="desa", placeholder="Cari desa").add_to(m)
    folium.LayerControl().add_to(m)
    return m


# ---------------------------------------------------------------- HTML checks, no browser needed


def test_inlined_page_has_no_external_script_or_stylesheet():
    html = inline_assets(_map())
    assert not EXTERNAL_REF.search(html)
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", html, re.IGNORECASE)
    assert not re.search(r"<link\b[^>]*\bhref\s*=", html, re.IGNORECASE)
    # The libraries really are there, with their licence notices, and the dropped ones are gone.
    for package in ("leaflet 1.9.4", "jquery 3.7.1", "leaflet.fullscreen 3.0.0", "leaflet-search"):
        assert f"Inlined by povmap for offline use: {package}" in html
    assert "bootstrap" not in html.lower()
    assert "fontawesome" not in html.lower()
    # Stylesheet images became data: URIs (a relative url() would point next to the HTML file).
    styles = "".join(re.findall(r"<style>(.*?)</style>", html, re.DOTALL))
    css_urls = re.findall(r"url\(\s*[\"']?([^\"')]+)", styles)
    assert css_urls  # Leaflet's layers/marker icons, the fullscreen and search buttons
    for css_url in css_urls:
        assert css_url.startswith(("data:", "#")), css_url


def test_cdn_page_when_not_offline(tmp_path):
    target = tmp_path / "peta.html"
    save_map(_map(), target, offline=False)
    html = target.read_text(encoding="utf-8")
    assert '<script src="https://cdn.jsdelivr.net/npm/leaflet@' in html
    assert "leaflet-search@" in html
    assert "Inlined by povmap" not in html


def test_save_map_writes_offline_page_atomically(tmp_path):
    target = tmp_path / "sub" / "peta.html"
    save_map(_map(), target)
    html = target.read_text(encoding="utf-8")
    assert "Inlined by povmap for offline use: leaflet 1.9.4" in html
    assert not EXTERNAL_REF.search(html)
    assert [p.name for p in target.parent.iterdir()] == ["peta.html"]  # no temp file left


def test_unknown_external_asset_raises_and_keeps_old_file(tmp_path):
    target = tmp_path / "peta.html"
    target.write_text("old map", encoding="utf-8")
    m = _map()
    m.get_root().header.add_child(JavascriptLink("https://example.org/new-plugin.js"))
    with pytest.raises(OfflineAssetError, match=r"https://example\.org/new-plugin\.js"):
        save_map(m, target)
    assert target.read_text(encoding="utf-8") == "old map"
    assert [p.name for p in tmp_path.iterdir()] == ["peta.html"]


def test_new_leaflet_major_version_is_not_silently_swapped():
    # If folium moves to Leaflet 2 our 1.9 copy would not match its templates: must be noticed.
    m = _map()
    m.default_js = [
        (name, url.replace("leaflet@1.9.3", "leaflet@2.0.0")) for name, url in m.default_js
    ]
    with pytest.raises(OfflineAssetError, match=r"leaflet@2\.0\.0/dist/leaflet\.js"):
        inline_assets(m)


def test_awesome_marker_icon_is_refused():
    m = _map()
    folium.Marker([-5.5, 107.5], icon=folium.Icon(color="red", icon="info-sign")).add_to(m)
    with pytest.raises(OfflineAssetError, match="folium.Icon"):
        inline_assets(m)


def test_readme_lists_every_vendored_file_with_its_sha256():
    readme = (STATIC / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([^`]+)` \| [^|]+ \| \d+ \| `([0-9a-f]{64})` \|$", readme, re.M))
    files = {
        p.relative_to(STATIC).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in STATIC.rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    assert rows == files
    total = sum(p.stat().st_size for p in STATIC.rglob("*") if p.is_file())
    assert total < 400_000


def test_vendored_files_are_not_git_ignored():
    # The project ignores dist/ (build output); a vendored file caught by that would be left out
    # of commits and every fresh checkout would write broken maps.
    git = shutil.which("git")
    repo = STATIC.parents[2]
    if git is None or not (repo / ".git").exists():
        pytest.skip("not a git checkout")
    files = [str(p) for p in STATIC.rglob("*") if p.is_file()]
    result = subprocess.run(
        [git, "check-ignore", *files], cwd=repo, capture_output=True, text=True, check=False
    )
    assert result.stdout == ""  # check-ignore prints the ignored paths


# ---------------------------------------------------------------------- real browser, no network


def _open_offline(browser, path: Path):
    """Open ``path`` via file:// with the network cut off; return (page, errors, requests).

    ``requests`` lists every URL the page asked for apart from the HTML file itself: a non-file
    URL means the map needs the network, a file: URL means it needs a file beside it that an
    e-mailed map will not have. Both must be empty.
    """
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def only_local(route):
        url = route.request.url
        if url != path.as_uri():
            requests.append(url)
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", only_local)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(300)  # let Leaflet finish its post-load rendering
    return page, errors, requests


@pytest.mark.browser
def test_offline_page_renders_in_chromium_without_network(browser, tmp_path):
    target = tmp_path / "peta.html"
    save_map(_map(), target)
    page, errors, requests = _open_offline(browser, target)
    try:
        assert errors == []
        assert requests == []
        assert page.evaluate("typeof L !== 'undefined'")
        assert page.locator("path.leaflet-interactive").count() == len(DESA)
        assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
        assert page.locator(".leaflet-control-search").count() == 1
        assert page.locator(".leaflet-control-layers").count() == 1

        # The search control works, not just exists: typing lists the matching villages.
        page.click(".leaflet-control-search .search-button")
        # leaflet-search listens to keyup, so type key by key rather than fill().
        page.locator(".leaflet-control-search input.search-input").press_sequentially("Suka")
        tips = page.locator(".leaflet-control-search .search-tip")
        tips.first.wait_for(timeout=5000)
        assert sorted(tips.all_inner_texts()) == ["Sukajadi", "Sukamaju"]
        assert errors == []
    finally:
        page.close()


@pytest.mark.browser
def test_offline_canvas_map_with_marker_and_popup(browser, tmp_path):
    # prefer_canvas as in povmap.render; a plain Marker (default icon) and a folium.Popup, which
    # needs jQuery; the icon must come from a data: URI, not marker-icon.png beside the file.
    m = _map(prefer_canvas=True)
    folium.Marker([-5.5, 107.5], popup=folium.Popup("<b>Kantor desa</b>")).add_to(m)
    target = tmp_path / "peta.html"
    save_map(m, target)
    page, errors, requests = _open_offline(browser, target)
    try:
        assert errors == []
        assert requests == []
        assert page.locator(".leaflet-overlay-pane canvas").count() == 1
        icon = page.locator("img.leaflet-marker-icon")
        assert icon.get_attribute("src").startswith("data:image/png;base64,")
        assert page.evaluate("document.querySelector('img.leaflet-marker-icon').naturalWidth") > 0
        icon.click()
        assert page.locator(".leaflet-popup-content b").inner_text() == "Kantor desa"
        assert errors == []
        assert requests == []
    finally:
        page.close()
