"""Static maps (PNG/PDF) for slides and reports, and a one-page-per-kecamatan atlas.

Drawn with matplotlib in the local UTM zone (so the scale bar is true), with the same classes,
colours and legend as the interactive map: all come from the layer's :class:`Classification`.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd

# Figures are made with matplotlib.figure.Figure, not pyplot: no backend is chosen and no global
# figure registry is touched, so povmap neither needs a display nor changes the user's settings
# (savefig picks the Agg or PDF canvas from the file format).
from matplotlib import patheffects
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.offsetbox import AnchoredOffsetbox, AuxTransformBox, DrawingArea, TextArea, VPacker
from matplotlib.patches import FancyArrow, Patch, Rectangle
from matplotlib.text import Text

from .._errors import PovmapInputError
from .._io import atomic_path
from ..classify import Classification, Classified, classified
from ..i18n import check_lang, label
from ..simplify import utm_crs
from .interactive import suppressed_in
from .layers import POCKET_CASING, POCKET_DASH, POCKET_WEIGHT, category_label, label_points
from .legend import coverage_note, default_title, footer_lines, graduated_items, legend_heading
from .pocket_outlines import closed_union, pocket_outlines, pocket_table

FORMATS = (".png", ".pdf")
#: Text properties of every text from data or options (names, title, source, vintage): drawn as
#: written. Without them matplotlib would typeset a name such as ``Desa $x^2$`` as mathematics.
LITERAL: dict[str, Any] = {"parse_math": False, "usetex": False}
#: Width (points) of the white outline around every place name: dark text stays readable on the
#: darkest class (#222222 on white is 16:1; on the darkest YlOrRd class it would be 1.5:1).
HALO_WIDTH = 2.5
#: The halo alone (no glyph fill): drawn by a copy of each name beneath it. matplotlib turns a
#: text with path effects into outlines, so the name itself is drawn without any and stays text
#: in a PDF: a planner can search the atlas for a desa.
HALO = (patheffects.Stroke(linewidth=HALO_WIDTH, foreground="white"),)
#: ``gid`` of the place-name texts (kecamatan and desa), as tests and callers find them.
LABEL_GID = "povmap-label"
#: ``gid`` of the white halo drawn beneath each place name (a stroke-only copy of it).
HALO_GID = "povmap-label-halo"
#: ``gid`` of the box beside the frame holding the north arrow and the scale bar.
FURNITURE_GID = "povmap-furniture"
#: Place names above the polygons and the pocket outlines (drawn at zorder 3 and 3.1).
_LABEL_ZORDER = 4.0
#: Where a name that collides at its point is tried next: offsets in font sizes (x, y).
_NUDGES = ((0.0, 0.0), (0.0, 0.8), (0.0, -0.8), (1.5, 0.0), (-1.5, 0.0))


def static_map(
    layer: Classified,
    *,
    kecamatan: gpd.GeoDataFrame | Classified | None = None,
    title: str | None = None,
    source: str | None = None,
    vintage: str | None = None,
    suppressed: bool | None = None,
    lang: str = "id",
    label_kecamatan: bool = True,
    pockets: object | None = None,
) -> Figure:
    """A static choropleth of a classified layer (see :func:`povmap.classify`).

    Parameters
    ----------
    layer
        Classified desa (or kecamatan) layer (:func:`povmap.classify`, or
        ``povmap.run(...).classified()``): its ``kelas`` and classification give the colours.
    kecamatan
        Kecamatan polygons (a GeoDataFrame or a classified layer) drawn as outlines (and
        labelled) on top.
    title, source, vintage, suppressed, lang
        As in :func:`povmap.choropleth`.
    label_kecamatan
        Write the kecamatan names (at the centre of each one's largest inscribed circle).
    pockets
        Per-desa poverty pockets (as in :func:`povmap.choropleth`): drawn as outlines over a
        white casing, with their own legend, as in the HTML map.

    Returns
    -------
    The matplotlib figure (A4 landscape); save it with :func:`save_static`.

    Raises
    ------
    PovmapInputError
        ``layer`` is a plain GeoDataFrame, not classified.
    """
    check_lang(lang)
    gdf, classification = classified(layer).gdf, layer.classification
    crs = utm_crs(gdf)
    projected = gdf.to_crs(crs)
    fig = Figure(figsize=(11.69, 8.27), layout="constrained")
    FigureCanvasAgg(fig)  # a renderer to measure the labels with (savefig picks its own)
    ax = fig.subplots()
    projected.plot(
        ax=ax,
        color=classification.color_of(projected["kelas"].to_numpy()),
        edgecolor="#555555",
        linewidth=0.25,
    )
    names: list[tuple[str, float, float, float]] = []
    if kecamatan is not None:
        kec = (kecamatan.gdf if isinstance(kecamatan, Classified) else kecamatan).to_crs(crs)
        kec.boundary.plot(ax=ax, color="#222222", linewidth=1.0)
        if label_kecamatan and "nama_kecamatan" in kec.columns:
            names = label_points(kec, "nama_kecamatan")
    extra = (
        _draw_pockets(ax, projected, pockets, lang)
        if pockets is not None and "kode_desa" in projected.columns
        else []
    )
    _furnish(ax, classification, title or default_title(gdf, vintage, lang), lang, extra)
    if suppressed is None:
        suppressed = suppressed_in(gdf)
    foot = [
        coverage_note(gdf, classification, lang),
        *footer_lines(source, vintage, suppressed, lang),
    ]
    if foot:
        fig.text(0.01, 0.01, "   ·   ".join(foot), fontsize=8, color="#444444", **LITERAL)
    if names:
        place_labels(ax, names, fontsize=7, color="#222222", weight="bold")
    return fig


def save_static(fig: Figure, path: str | os.PathLike) -> Path:
    """Write a figure as PNG (200 dpi) or PDF, atomically; the format follows the suffix.

    Parameters
    ----------
    fig
        A figure of :func:`static_map` (or any matplotlib figure).
    path
        The file to write, ending in ``.png`` or ``.pdf``; replaced only once fully written.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    PovmapInputError
        ``path`` ends in neither ``.png`` nor ``.pdf``; or it cannot be written safely (locked
        by another run, a full disk).
    """
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise PovmapInputError.from_catalogue("static.static_map_must_end", path=path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=200, format=path.suffix.lower().lstrip("."))
    return path


def atlas(
    layer: Classified,
    path: str | os.PathLike,
    *,
    kecamatan: gpd.GeoDataFrame | Classified | None = None,
    title: str | None = None,
    source: str | None = None,
    vintage: str | None = None,
    suppressed: bool | None = None,
    lang: str = "id",
    pockets: object | None = None,
) -> Path:
    """A PDF atlas: the whole area, then one page per kecamatan with the same classes.

    Each page is A4 landscape, drawn in the layer's UTM zone (from EPSG:4326); the kecamatan
    pages name their desa.

    Parameters
    ----------
    layer
        Classified desa layer (:func:`povmap.classify`) with ``kode_kecamatan`` and
        ``nama_kecamatan``: its ``kelas`` and classification colour every page.
    path
        The PDF to write; replaced only once every page is written.
    kecamatan, title, source, vintage, suppressed, lang, pockets
        As in :func:`static_map`; the title of a kecamatan page is followed by its name.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    PovmapInputError
        ``path`` does not end in ``.pdf``; ``layer`` is not classified or has no
        ``kode_kecamatan``; ``lang`` is unknown; or the PDF cannot be written safely.
    """
    path = Path(path)
    if path.suffix.lower() != ".pdf":
        raise PovmapInputError.from_catalogue("static.atlas_atlas_written_pdf", path=path)
    if "kode_kecamatan" not in classified(layer).gdf.columns:
        raise PovmapInputError.from_catalogue("static.atlas_per_kecamatan_needs")
    with atomic_path(path) as tmp, PdfPages(tmp) as pdf:
        for fig in atlas_pages(
            layer,
            kecamatan=kecamatan,
            title=title,
            source=source,
            vintage=vintage,
            suppressed=suppressed,
            lang=lang,
            pockets=pockets,
        ):
            pdf.savefig(fig)
    return path


def atlas_pages(
    layer: Classified,
    *,
    kecamatan: gpd.GeoDataFrame | Classified | None = None,
    title: str | None = None,
    source: str | None = None,
    vintage: str | None = None,
    suppressed: bool | None = None,
    lang: str = "id",
    pockets: object | None = None,
) -> Iterator[Figure]:
    """The pages of :func:`atlas`, one figure at a time: the whole area, then each kecamatan
    (sorted by code) with its desa named, all in the classes of ``layer``."""
    gdf, classification = classified(layer).gdf, layer.classification
    title = title or default_title(gdf, vintage, lang)
    common: dict[str, Any] = dict(
        source=source, vintage=vintage, suppressed=suppressed, lang=lang, pockets=pockets
    )
    yield static_map(layer, kecamatan=kecamatan, title=title, **common)
    for _, desa in gdf.groupby("kode_kecamatan", sort=True):
        name = desa["nama_kecamatan"].iloc[0]
        # The layer-wide classes on every page: a kecamatan's colours match the first page.
        fig = static_map(
            Classified(desa, classification),
            title=f"{title} – {label('nama_kecamatan', lang)} {name}",
            label_kecamatan=False,
            **common,
        )
        place_labels(
            fig.axes[0],
            label_points(desa.to_crs(utm_crs(desa)), "nama_desa"),
            fontsize=6.5,
            color="#111111",
        )
        yield fig


def place_labels(
    ax,
    names: list[tuple[str, float, float, float]],
    *,
    fontsize: float,
    color: str,
    weight: str = "normal",
) -> list[Text]:
    """Write place names with a white halo inside the frame, none over another.

    The areas are named in the order given (largest first from
    :func:`~povmap.render.layers.label_points`). A name whose box would overlap a name already
    written (or a text already on the axes) is tried a little above, below, right and left of
    its point; if it still collides, or would leave the frame, it is left out: a map
    with fewer names beats one whose names cannot be read. Boxes are measured with the figure's
    renderer once its layout is settled (matplotlib's own ``Bbox.overlaps``).

    Parameters
    ----------
    ax
        Axes of a figure from :func:`static_map` (data coordinates: UTM metres).
    names
        ``(text, x, y, size)`` per area (:func:`povmap.render.layers.label_points`).
    fontsize, color, weight
        Text properties.

    Returns
    -------
    list of matplotlib.text.Text
        The texts written (``gid`` :data:`LABEL_GID`).
    """
    fig = ax.figure
    fig.draw_without_rendering()  # settle the constrained layout: boxes measured in place
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    taken = [t.get_window_extent(renderer) for t in ax.texts]
    # The halo reaches beyond the glyphs: boxes are padded by half its width (points -> px).
    pad = HALO_WIDTH / 2 * fig.dpi / 72
    kept: list[Text] = []
    for name, x, y, _ in names:
        text = ax.annotate(
            name,
            (x, y),
            xytext=(0, 0),
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=fontsize,
            color=color,
            fontweight=weight,
            gid=LABEL_GID,
            annotation_clip=False,
            zorder=_LABEL_ZORDER,
            **LITERAL,
        )
        text.set_in_layout(False)
        for dx, dy in _NUDGES:
            text.xyann = (dx * fontsize, dy * fontsize)
            box = text.get_window_extent(renderer).padded(pad)
            inside = (
                frame.x0 <= box.x0
                and box.x1 <= frame.x1
                and frame.y0 <= box.y0
                and box.y1 <= frame.y1
            )
            if inside and not any(box.overlaps(other) for other in taken):
                taken.append(box)
                kept.append(text)
                halo = ax.annotate(
                    name,
                    (x, y),
                    xytext=text.xyann,
                    textcoords="offset points",
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color="none",
                    fontweight=weight,
                    path_effects=list(HALO),
                    gid=HALO_GID,
                    annotation_clip=False,
                    zorder=_LABEL_ZORDER - 0.01,
                    **LITERAL,
                )
                halo.set_in_layout(False)
                break
        else:
            text.remove()
    return kept


def _draw_pockets(ax, layer: gpd.GeoDataFrame, pockets: object, lang: str) -> list[Artist]:
    """Pocket outlines over a white casing, in the colours and dashes of the HTML map; returns
    their legend entries (a heading, then one line per pocket type present)."""
    table = pocket_table(pockets)
    desa = layer.drop(columns=[c for c in ("jenis_kantong", "id_kantong") if c in layer.columns])
    outlines, colors = pocket_outlines(desa.merge(table, on="kode_desa", how="left"), closed_union)
    if not len(outlines):
        return []
    width = POCKET_WEIGHT * 0.6  # pixels on the screen -> points on the page
    handles: list[Artist] = [
        Patch(visible=False, label=""),  # a blank line, then the heading
        Patch(visible=False, label=label("pockets_layer", lang)),
    ]
    for k, (kind, color) in enumerate(colors.items()):
        # Dashed (cold types) as on the map; dashes scale with the line width.
        style: tuple[float, tuple[float, ...]] = (
            0.0,
            (3.0, 2.0) if POCKET_DASH.get(kind) else (1.0, 0.0),
        )
        edges = outlines[outlines["k"] == k].boundary
        edges.plot(ax=ax, color="white", linewidth=width + POCKET_CASING * 0.6, zorder=3)
        edges.plot(ax=ax, color=color, linewidth=width, linestyle=style, zorder=3.1)
        text = "\n".join(textwrap.wrap(category_label(kind, lang), 30))
        handles.append(Line2D([], [], color=color, linewidth=width, linestyle=style, label=text))
    return handles


def _furnish(
    ax, classification: Classification, title: str, lang: str, extra: list[Artist]
) -> None:
    """Title, legend (the classes, then ``extra`` entries: a blank line, a heading and its
    entries), north arrow and scale bar; no axes (the coordinates are UTM metres)."""
    ax.set_axis_off()
    # The data limits give way to the aspect, not the frame: the legend beside the frame
    # stays where the layout left room for it.
    ax.set_aspect("equal", adjustable="datalim")
    # Over the page, not the axes: a long atlas title is never cut at the page's edge.
    ax.figure.suptitle(title, fontsize=14, fontweight="bold", **LITERAL)
    handles: list[Artist] = [
        Patch(facecolor=c, edgecolor="#777777", label=t)
        for c, t in graduated_items(classification, lang)
    ]
    handles += extra
    # Beside the frame, never over the data; the heading with its unit and the class labels
    # are those of the HTML map (legend_heading, Classification.legend_items).
    heading = "\n".join(textwrap.wrap(legend_heading(classification.column, lang), 28))
    legend = ax.legend(
        handles=handles,
        title=heading,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        fontsize=8,
        title_fontsize=8,
        frameon=True,
        alignment="left",
    )
    for text in (legend.get_title(), *legend.get_texts()):
        text.set(**LITERAL)
    if extra:  # the heading of the extra entries, in bold like the legend's title
        legend.get_texts()[len(handles) - len(extra) + 1].set_fontweight("bold")
    # Beside the frame too, below the legend: over the data they would hide a desa (an island
    # in a corner of the frame, say). Packed in one box so the layout makes room for both.
    box = VPacker(children=[_north_arrow(lang), _scale_bar(ax)], align="left", pad=0, sep=10)
    furniture = AnchoredOffsetbox(
        loc="lower left",
        child=box,
        frameon=False,
        bbox_to_anchor=(1.02, 0.0),
        bbox_transform=ax.transAxes,
        borderpad=0.0,
        pad=0.0,
    )
    furniture.set_gid(FURNITURE_GID)
    ax.add_artist(furniture)


def _north_arrow(lang: str) -> VPacker:
    """The north arrow: the word for north above an arrow pointing up (sizes in points)."""
    arrow = DrawingArea(16, 30)
    arrow.add_artist(
        FancyArrow(
            8,
            0,
            0,
            28,
            width=4,
            head_width=12,
            head_length=10,
            length_includes_head=True,
            color="black",
        )
    )
    return VPacker(
        children=[
            TextArea(label("north", lang), textprops=dict(fontsize=12, fontweight="bold")),
            arrow,
        ],
        align="center",
        pad=0,
        sep=2,
    )


def _scale_bar(ax) -> AuxTransformBox:
    """A two-segment scale bar, a round length near a fifth of the frame's width.

    Drawn in data units (UTM metres) through the axes' scale, so it measures true wherever it
    is placed.
    """
    x0, x1 = ax.get_xlim()
    target = (x1 - x0) / 5
    magnitude = 10 ** math.floor(math.log10(target))
    length = max(m * magnitude for m in (1, 2, 5) if m * magnitude <= target)
    height = length / 25
    bar = AuxTransformBox(ax.transData)
    for i, color in enumerate(("black", "white")):
        bar.add_artist(
            Rectangle(
                (i * length / 2, 0),
                length / 2,
                height,
                facecolor=color,
                edgecolor="black",
                linewidth=0.8,
            )
        )
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    for x, words in ((0.0, "0"), (length, text)):
        bar.add_artist(Text(x, height * 1.6, words, ha="center", va="bottom", fontsize=8))
    return bar
