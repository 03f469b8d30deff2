"""Write folium maps that work with no network: inline the JS/CSS folium would load from CDNs.

Planners receive the HTML maps by e-mail and often open them offline. A default folium page loads
Leaflet and friends from CDNs, so offline it shows a blank page (``L is not defined``). Here we
render the page as usual and then swap each CDN ``<script src>`` / ``<link href>`` in ``<head>``
for the pinned copy shipped in ``povmap/static/`` (see its ``README.md`` for versions, sources,
licences and checksums), or remove it when povmap deliberately does not ship it.

Anything external that is left afterwards raises :class:`OfflineAssetError`: a page that silently
needs the network is exactly the failure this module exists to prevent, so a folium upgrade or a new
plugin that brings another CDN asset must be noticed, not shipped.
"""

from __future__ import annotations

import base64
import functools
import logging
import os
import posixpath
import re
from dataclasses import dataclass
from importlib import resources
from typing import IO, Any

import folium

from ._errors import PovmapError
from ._io import write_text

__all__ = ["OfflineAssetError", "OfflineMap", "inline_assets", "save_map"]

log = logging.getLogger(__name__)


class OfflineAssetError(PovmapError, RuntimeError):
    """The map needs an external asset that povmap cannot (or chooses not to) provide offline."""


@dataclass(frozen=True)
class _Package:
    """A vendored npm package: enough to put its licence notice into every page that inlines it."""

    name: str
    version: str
    licence: str
    licence_file: str  # path under static/


_LEAFLET = _Package("leaflet", "1.9.4", "BSD-2-Clause", "leaflet/LICENSE")
_JQUERY = _Package("jquery", "3.7.1", "MIT", "jquery/LICENSE.txt")
_FULLSCREEN = _Package("leaflet.fullscreen", "3.0.0", "MIT", "leaflet.fullscreen/LICENSE")
_SEARCH = _Package("leaflet-search", "2.9.7", "MIT", "leaflet-search/license.txt")
_TOPOJSON = _Package("topojson-client", "3.1.0", "ISC", "topojson-client/LICENSE")


@dataclass(frozen=True)
class _Inline:
    """CDN URLs matching ``pattern`` are replaced by the shipped file ``asset`` (under static/)."""

    pattern: re.Pattern[str]
    asset: str
    package: _Package


# Patterns ignore the exact version so a folium patch release that bumps a CDN URL keeps working
# with our tested copy, but they pin the major version: a new major (e.g. Leaflet 2, which is
# ESM-only) would not be API-compatible with the copy we ship, so it must fall through to the
# "unknown asset" error instead of being silently swapped.
_INLINE_RULES: tuple[_Inline, ...] = tuple(
    _Inline(re.compile(p), a, pkg)
    for p, a, pkg in (
        (r"/leaflet@1\.[^/]+/dist/leaflet\.js$", "leaflet/npm-dist/leaflet.js", _LEAFLET),
        (r"/leaflet@1\.[^/]+/dist/leaflet\.css$", "leaflet/npm-dist/leaflet.css", _LEAFLET),
        (
            r"(?:/jquery-3\.[\d.]+|/jquery@3\.[^/]+/dist/jquery)(?:\.min)?\.js$",
            "jquery/npm-dist/jquery.min.js",
            _JQUERY,
        ),
        # folium asks jsDelivr for Control.FullScreen.min.js, a file jsDelivr minifies on the
        # fly; the npm package only contains the unminified source, which is what we ship (8 KB).
        (
            r"/leaflet\.fullscreen@3\.[^/]+/Control\.FullScreen(?:\.min)?\.js$",
            "leaflet.fullscreen/Control.FullScreen.js",
            _FULLSCREEN,
        ),
        (
            r"/leaflet\.fullscreen@3\.[^/]+/Control\.FullScreen(?:\.min)?\.css$",
            "leaflet.fullscreen/Control.FullScreen.css",
            _FULLSCREEN,
        ),
        (
            r"/leaflet-search@2\.[^/]+/dist/leaflet-search(?:\.min)?\.js$",
            "leaflet-search/npm-dist/leaflet-search.min.js",
            _SEARCH,
        ),
        (
            r"/leaflet-search@2\.[^/]+/dist/leaflet-search(?:\.min)?\.css$",
            "leaflet-search/npm-dist/leaflet-search.min.css",
            _SEARCH,
        ),
        # povmap.render embeds its layers as TopoJSON and decodes them with topojson-client.
        (
            r"/topojson-client@3\.[^/]+/dist/topojson-client(?:\.min)?\.js$",
            "topojson-client/npm-dist/topojson-client.min.js",
            _TOPOJSON,
        ),
    )
)

# Assets folium.Map() loads by default that our maps do not use. They are removed rather than
# shipped: Bootstrap's CSS alone is ~190 KB and Font Awesome needs ~300 KB of web fonts, all of it
# only for folium.Icon (awesome markers). Leaflet, GeoJson, tooltips, popups, LayerControl,
# Fullscreen and Search work without them (tests/test_offline.py checks this in Chromium).
_DROP_RULES: tuple[re.Pattern[str], ...] = (
    re.compile(r"/bootstrap@5\.[^/]+/dist/js/bootstrap\.bundle(?:\.min)?\.js$"),
    re.compile(r"/bootstrap@5\.[^/]+/dist/css/bootstrap(?:\.min)?\.css$"),
    re.compile(r"/bootstrap/3\.[^/]+/css/bootstrap-glyphicons\.css$"),
    re.compile(r"/@fortawesome/fontawesome-free@[^/]+/css/all(?:\.min)?\.css$"),
    re.compile(r"/Leaflet\.awesome-markers/[^/]+/leaflet\.awesome-markers(?:\.min)?\.(?:js|css)$"),
    re.compile(r"/leaflet\.awesome\.rotate(?:\.min)?\.css$"),
)

# Dropping an asset is only safe while nothing on the page uses it. These markers in the rendered
# page mean a dropped asset is needed after all; fail loudly instead of writing a broken map.
_USES_DROPPED: tuple[tuple[str, str], ...] = (
    (
        "L.AwesomeMarkers",
        "folium.Icon (awesome markers) needs Leaflet.awesome-markers, Bootstrap and Font Awesome, "
        "which povmap does not ship for offline maps; use folium.CircleMarker or a plain "
        "folium.Marker (default icon) instead",
    ),
)

_SCRIPT_TAG = re.compile(
    r"""<script\b[^>]*?\bsrc\s*=\s*["']([^"']*)["'][^>]*>\s*</script\s*>""", re.IGNORECASE
)
_LINK_TAG = re.compile(r"""<link\b[^>]*?\bhref\s*=\s*["']([^"']*)["'][^>]*>""", re.IGNORECASE)
# Anything still loading a script or stylesheet from somewhere other than a data: URI after
# inlining; relative paths count too, since the e-mailed file travels without neighbours.
_LEFTOVER_REF = re.compile(
    r"""<(?:script\b[^>]*?\bsrc|link\b[^>]*?\bhref)\s*=\s*["']?(?!data:)([^"'\s>]+)""",
    re.IGNORECASE,
)
_CSS_URL = re.compile(r"""url\(\s*(["']?)([^"')]+)\1\s*\)""")
_SOURCE_MAP = re.compile(
    r"^\s*(?://[#@] sourceMappingURL=.*|/\*[#@] sourceMappingURL=.*?\*/)\s*$", re.MULTILINE
)
_MIME = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".woff2": "font/woff2",
}


def _read_static(path: str) -> bytes:
    """Bytes of ``static/<path>``, read through importlib.resources so zipped installs work too."""
    node = resources.files("povmap") / "static"
    for part in path.split("/"):
        node = node / part
    try:
        return node.read_bytes()
    except FileNotFoundError as exc:  # a broken install or a rule pointing at a missing file
        raise OfflineAssetError.from_catalogue(
            "offline.povmap_missing_vendored_asset", path=path
        ) from exc


def _data_uri(path: str) -> str:
    ext = posixpath.splitext(path)[1].lower()
    mime = _MIME.get(ext)
    if mime is None:
        raise OfflineAssetError.from_catalogue("offline.mime_type_known_vendored", path=path)
    return f"data:{mime};base64,{base64.b64encode(_read_static(path)).decode('ascii')}"


def _css_with_data_uris(css: str, css_path: str) -> str:
    """Replace the stylesheet's relative ``url(...)`` references by data: URIs.

    Leaflet's layer-switcher icon and the plugins' button icons are referenced relative to the
    CSS file; in an inlined ``<style>`` they would resolve against the HTML file's folder, where
    they do not exist.
    """
    base = posixpath.dirname(css_path)

    def repl(match: re.Match[str]) -> str:
        ref = match.group(2).strip()
        # Fragments (Leaflet's old-IE "#default#VML") and absolute/data URLs are left alone; an
        # absolute URL would then make the page depend on the network, which we do not expect
        # in the shipped CSS (tests scan for it).
        if ref.startswith(("#", "data:")) or re.match(r"^[a-z][a-z0-9+.-]*:|^//", ref, re.I):
            return match.group(0)
        return f'url("{_data_uri(posixpath.normpath(posixpath.join(base, ref)))}")'

    return _CSS_URL.sub(repl, css)


def _notice(package: _Package, asset: str) -> str:
    """Licence notice put in front of each inlined asset.

    Inlining redistributes the library inside every e-mailed map, and both MIT and BSD-2-Clause
    require the copyright and licence text to travel with copies.
    """
    text = _read_static(package.licence_file).decode("utf-8").replace("*/", "* /")
    return (
        f"/* Inlined by povmap for offline use: {package.name} {package.version} "
        f"(npm), file {asset}, licence {package.licence}:\n\n{text.strip()}\n*/\n"
    )


@functools.cache
def _inline_block(rule: _Inline) -> str:
    """The ``<script>``/``<style>`` element that replaces one CDN tag (cached: pure function)."""
    text = _read_static(rule.asset).decode("utf-8")
    # Source-map comments would make browser dev tools request a .map file next to the HTML.
    text = _SOURCE_MAP.sub("", text)
    notice = _notice(rule.package, rule.asset)
    if rule.asset.endswith(".css"):
        text = _css_with_data_uris(text, rule.asset)
        # A literal "</style" inside the CSS would end the element early.
        text = re.sub(r"</(style)", r"<\\/\1", text, flags=re.IGNORECASE)
        return f"<style>\n{notice}{text}\n</style>"
    # Likewise "</script" ends an inline script; "<\/script" means the same inside JS strings.
    text = re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)
    block = f"<script>\n{notice}{text}\n</script>"
    if rule.asset == "leaflet/npm-dist/leaflet.js":
        block += _leaflet_icon_fix()
    return block


def _leaflet_icon_fix() -> str:
    """Point Leaflet's default marker icon at data: URIs.

    Leaflet finds the marker images by reading the path of ``marker-icon.png`` out of leaflet.css.
    With the CSS inlined as data: URIs that detection fails and it would request
    ``marker-icon.png`` next to the HTML file, i.e. a broken image on a plain ``folium.Marker``.
    """
    icons = {
        "iconUrl": _data_uri("leaflet/npm-dist/images/marker-icon.png"),
        "iconRetinaUrl": _data_uri("leaflet/npm-dist/images/marker-icon-2x.png"),
        "shadowUrl": _data_uri("leaflet/npm-dist/images/marker-shadow.png"),
    }
    options = ", ".join(f'{key}: "{uri}"' for key, uri in icons.items())
    return (
        "\n<script>\nL.Icon.Default.imagePath = '';\n"
        f"L.Icon.Default.mergeOptions({{{options}}});\n</script>"
    )


def _replacement(url: str) -> str | None:
    """What a CDN tag becomes: inlined content, ``""`` (dropped), or None (unknown, keep it)."""
    for rule in _INLINE_RULES:
        if rule.pattern.search(url):
            log.debug("inlining %s from static/%s", url, rule.asset)
            return _inline_block(rule)
    for pattern in _DROP_RULES:
        if pattern.search(url):
            log.debug("dropping %s (not needed by povmap maps)", url)
            return ""
    return None


def inline_assets(m: folium.Map) -> str:
    """Render a folium map as one self-contained HTML page that needs no network.

    Every CDN ``<script src>`` and stylesheet ``<link>`` that folium puts in the page's
    ``<head>`` is replaced by the pinned copy shipped in ``povmap/static/`` (inlined as
    ``<script>``/``<style>``, with CSS images as data: URIs) or removed if povmap deliberately
    does not ship it (Bootstrap, Font Awesome, glyphicons, awesome-markers).

    Parameters
    ----------
    m
        The map to render. It may carry any layers and the ``Fullscreen`` and ``Search`` plugins.
        Tile layers still load their tiles from the network (or show none offline); use
        ``folium.Map(tiles=None)`` for a map that is complete offline.

    Returns
    -------
    The full HTML document.

    Raises
    ------
    OfflineAssetError
        If the page still references an external script or stylesheet that povmap does not ship
        (e.g. after a folium upgrade or with another plugin), or uses one that povmap drops.
    """
    html = m.get_root().render()

    for marker, advice in _USES_DROPPED:
        if marker in html:
            raise OfflineAssetError.from_catalogue(
                "offline.cannot_write_map_offline", advice=advice
            )

    # folium registers every library in <head>; restricting the rewrite to it keeps user content
    # in the body (popup HTML, GeoJSON properties) from being rewritten by accident.
    end = re.search(r"</head\s*>", html, re.IGNORECASE)
    cut = end.start() if end else len(html)
    head, rest = html[:cut], html[cut:]

    def swap(match: re.Match[str]) -> str:
        new = _replacement(match.group(1))
        return match.group(0) if new is None else new

    head = _SCRIPT_TAG.sub(swap, head)
    head = _LINK_TAG.sub(swap, head)
    html = head + rest

    leftovers = sorted(set(_LEFTOVER_REF.findall(html)))
    if leftovers:
        raise OfflineAssetError.from_catalogue("offline.leftovers", assets=", ".join(leftovers))
    return html


def save_map(m: folium.Map, path: str | os.PathLike[str], *, offline: bool = True) -> None:
    """Write a folium map to an HTML file atomically, self-contained by default.

    Examples
    --------
    >>> m = povmap.choropleth(layer, kecamatan=kec)      # doctest: +SKIP
    >>> povmap.save_map(m, "peta.html")   # the same as m.save("peta.html")  # doctest: +SKIP

    Parameters
    ----------
    m
        The map to write.
    path
        Target file. It is replaced only once the whole page is written, so an interrupted or
        failed run never leaves a truncated map where a good one used to be.
    offline
        True (default) writes a self-contained page (see :func:`inline_assets`) that opens
        without network.
        False writes folium's normal page, which loads its libraries from CDNs (smaller file).

    Raises
    ------
    OfflineAssetError
        With ``offline=True``, if the map needs an asset povmap cannot inline. Nothing is written.
    PovmapInputError
        ``path`` cannot be written safely (a folder of that name, locked by another run, a full
        disk); the old file stays.
    """
    # Render fully before touching the disk: an error while rendering must not cost the old file.
    html = inline_assets(m) if offline else m.get_root().render()
    write_text(path, html)


class OfflineMap(folium.Map):
    """A :class:`folium.Map` whose :meth:`save` writes the self-contained page.

    :func:`povmap.choropleth` returns one, so that ``m.save("peta.html")`` in a notebook
    writes what ``povmap map`` writes: a page that opens without network (folium's own ``save``
    writes a page that loads Leaflet from CDNs and shows nothing offline). A subclass rather than
    a ``save`` patched onto one object: the behaviour belongs to the type, shows in ``help()``,
    and survives copies; it is still a ``folium.Map`` for everything else (display, plugins).
    """

    def save(  # type: ignore[override]
        self,
        outfile: str | os.PathLike[str] | IO[bytes],
        close_file: bool = True,
        *,
        offline: bool = True,
        **kwargs: Any,
    ) -> None:
        """Write the map as HTML: self-contained (default) or, with ``offline=False``, folium's
        page that loads its libraries from CDNs.

        Parameters
        ----------
        outfile
            A path (written atomically, see :func:`save_map`) or a binary file object.
        close_file
            Close ``outfile`` afterwards when it is a file object (as folium does).
        offline
            See :func:`save_map`.

        Raises
        ------
        OfflineAssetError
            With ``offline=True``, if the map needs an asset povmap cannot inline (e.g. a plugin
            added to the map); nothing is written.
        """
        if isinstance(outfile, (str, os.PathLike)):
            save_map(self, outfile, offline=offline)
            return
        html = inline_assets(self) if offline else self.get_root().render(**kwargs)
        outfile.write(html.encode("utf-8"))
        if close_file:
            outfile.close()
