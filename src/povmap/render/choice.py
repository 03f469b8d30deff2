"""What a map will be, decided before folium is loaded: the kind of output, the basemap, a
national or a province map, and the web coverage a province map starts from.

``povmap map`` checks its options here before the analysis, and once the layer is known it
simplifies it for the web in a thread (:func:`simplified_ahead`) while it loads folium and
builds the page: GEOS releases the GIL, so the two run side by side on two cores.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd

from .. import _cache
from .._errors import PovmapInputError
from ..simplify import TOLERANCE_M, web_coverage

#: Short basemap names accepted by ``--tiles`` -> folium tile names.
#: (CartoDB tiles now need an API key, so they are not offered.)
BASEMAPS = {
    "osm": "OpenStreetMap",
    "openstreetmap": "OpenStreetMap",
    "topo": "OpenTopoMap",
    "opentopomap": "OpenTopoMap",
    "satelit": "Esri.WorldImagery",
    "esri": "Esri.WorldImagery",
}

#: A desa layer with more desa than this is drawn as a national map (:func:`use_national`).
#: Measured (headless Chromium, shared 2-core machine): a province map's first polygons come
#: after 1.7 s for Kalimantan Selatan (2,008 desa), 4.0 s for Jawa Barat (5,957 desa), 5.0 s for
#: Jawa Tengah (8,563 desa, the largest province) and 30 s for the national layer (83,403 desa):
#: about 0.5 ms per desa, so about 5 s at this threshold, which keeps every province a province
#: map.
NATIONAL_MIN_DESA = 10_000


def check_map_output(output: Path) -> str:
    """The suffix of a map output (``.html``, ``.htm``, ``.png`` or ``.pdf``), or an input error."""
    suffix = output.suffix.lower()
    if suffix not in (".html", ".htm", ".png", ".pdf"):
        raise PovmapInputError.from_catalogue("output.suffix_html_interactive_png", output=output)
    return suffix


def basemap_name(tiles: str | None) -> str | None:
    """The folium tile name of ``tiles``, or None for no basemap (``None``/``"none"``)."""
    if tiles is None or str(tiles).strip().lower() in ("none", "tanpa", ""):
        return None
    key = str(tiles).strip().lower()
    if key in BASEMAPS:
        return BASEMAPS[key]
    known = {v.lower(): v for v in BASEMAPS.values()}
    if key in known:
        return known[key]
    raise PovmapInputError.from_catalogue(
        "controls.tiles_unknown_choose_none", tiles=tiles, basemaps=", ".join(sorted(set(BASEMAPS)))
    )


def use_national(gdf: gpd.GeoDataFrame, national: bool | None = None) -> bool:
    """Whether ``gdf`` is drawn as a national map: forced by ``national``, else by its size.

    Parameters
    ----------
    gdf
        The layer to draw.
    national
        True or False forces the choice; None (default) chooses national for a desa layer of
        more than :data:`NATIONAL_MIN_DESA` desa. A layer without ``kode_desa`` and
        ``kode_kabupaten`` (the canonical columns of :func:`povmap.read_boundaries`) is always
        drawn as a province map.

    Returns
    -------
    bool
        True for a national map (kabupaten first, desa per view), False for a province map.
    """
    if "kode_desa" not in gdf.columns or "kode_kabupaten" not in gdf.columns:
        return False  # a kecamatan layer, or desa that cannot be put in kabupaten chunks
    if national is not None:
        return bool(national)
    return len(gdf) > NATIONAL_MIN_DESA


@contextlib.contextmanager
def simplified_ahead(
    gdf: gpd.GeoDataFrame,
    output: Path,
    national: bool | None = None,
    tolerance: float = TOLERANCE_M,
) -> Iterator[None]:
    """Simplify ``gdf`` for the web in a thread while the ``with`` block runs, when the block
    draws it as an HTML province map.

    :func:`povmap.choropleth` then takes the simplified layer as it is computed
    (:func:`povmap._cache.ahead`): the same geometries, computed once. A PNG/PDF or national map
    does not use it, so nothing is started for them.

    Parameters
    ----------
    gdf
        The layer the block draws (e.g. ``Result.classified().gdf``).
    output, national
        The map's file and ``national`` choice, as given to the block's
        :func:`povmap.render.output.write_map`.
    tolerance
        The tolerance the block draws with (metres).

    Yields
    ------
    None
        The block; leaving it waits for the thread.

    Raises
    ------
    PovmapInputError
        ``output`` is not a map file (:func:`check_map_output`). An error of the simplification
        is raised by the block's own call, as without this.
    """
    if check_map_output(output) in (".html", ".htm") and not use_national(gdf, national):
        with _cache.ahead(lambda: web_coverage(gdf, tolerance)):
            yield
    else:
        yield
