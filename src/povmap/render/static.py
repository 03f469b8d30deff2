"""Static maps (PNG/PDF) for slides and reports, and a one-page-per-kecamatan atlas.

Drawn with matplotlib in the local UTM zone (so the scale bar is true), with the same classes,
colours and legend as the interactive map: all come from the layer's :class:`Classification`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import geopandas as gpd

# Figures are made with matplotlib.figure.Figure, not pyplot: no backend is chosen and no global
# figure registry is touched, so povmap neither needs a display nor changes the user's settings
# (savefig picks the Agg or PDF canvas from the file format).
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from .._errors import PovmapInputError
from .._io import atomic_path
from ..classify import Classification, classification_of
from ..i18n import check_lang, label
from .interactive import suppressed_in
from .legend import coverage_note, footer_lines, graduated_items

FORMATS = (".png", ".pdf")
#: Text properties of every text from data or options (names, title, source, vintage): drawn as
#: written. Without them matplotlib would typeset a name such as ``Desa $x^2$`` as mathematics.
LITERAL: dict[str, Any] = {"parse_math": False, "usetex": False}


def static_map(
    gdf: gpd.GeoDataFrame,
    *,
    kecamatan: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    source: str | None = None,
    vintage: str | None = None,
    suppressed: bool | None = None,
    lang: str = "id",
    label_kecamatan: bool = True,
) -> Figure:
    """A static choropleth of a classified layer (see :func:`povmap.classify`).

    Parameters
    ----------
    gdf
        Classified desa (or kecamatan) layer: its ``kelas`` and classification give the colours.
    kecamatan
        Kecamatan polygons drawn as outlines (and labelled) on top.
    title, source, vintage, suppressed, lang
        As in :func:`povmap.choropleth`.
    label_kecamatan
        Write the kecamatan names at their representative points.

    Returns
    -------
    The matplotlib figure (A4 landscape); save it with :func:`save_static`.
    """
    check_lang(lang)
    classification = classification_of(gdf)
    crs = gdf.estimate_utm_crs()
    layer = gdf.to_crs(crs)
    fig = Figure(figsize=(11.69, 8.27), layout="constrained")
    ax = fig.subplots()
    layer.plot(ax=ax, color=classification.color_of(layer["kelas"].to_numpy()),
               edgecolor="#555555", linewidth=0.25)
    if kecamatan is not None:
        kec = kecamatan.to_crs(crs)
        kec.boundary.plot(ax=ax, color="#222222", linewidth=1.0)
        if label_kecamatan and "nama_kecamatan" in kec.columns:
            for name, point in zip(kec["nama_kecamatan"], kec.representative_point(),
                                   strict=True):
                ax.annotate(str(name), (point.x, point.y), ha="center", fontsize=6.5,
                            color="#222222", **LITERAL)
    _furnish(ax, classification, title or label("title_default", lang), lang)
    if suppressed is None:
        suppressed = suppressed_in(gdf)
    foot = [coverage_note(gdf, classification, lang),
            *footer_lines(source, vintage, suppressed, lang)]
    if foot:
        fig.text(0.01, 0.01, "   ·   ".join(foot), fontsize=8, color="#444444", **LITERAL)
    return fig


def save_static(fig: Figure, path: str | os.PathLike) -> Path:
    """Write a figure as PNG (200 dpi) or PDF, atomically; the format follows the suffix."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise PovmapInputError(f"-o {path}: peta statis harus berakhiran .png atau .pdf.",
                               en=f"-o {path}: a static map must end in .png or .pdf.")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=200, format=path.suffix.lower().lstrip("."))
    return path


def atlas(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    kecamatan: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    source: str | None = None,
    vintage: str | None = None,
    suppressed: bool | None = None,
    lang: str = "id",
) -> Path:
    """A PDF atlas: the whole area, then one page per kecamatan with the same classes.

    Parameters as in :func:`static_map`; ``gdf`` must be a classified desa layer.
    """
    path = Path(path)
    if path.suffix.lower() != ".pdf":
        raise PovmapInputError(f"--atlas {path}: atlas ditulis sebagai PDF (.pdf).",
                               en=f"--atlas {path}: the atlas is written as a PDF (.pdf).")
    if "kode_kecamatan" not in gdf.columns:
        raise PovmapInputError("Atlas per kecamatan perlu lapisan desa dengan kode_kecamatan.",
                               en="An atlas per kecamatan needs a desa layer with kode_kecamatan.")
    title = title or label("title_default", lang)
    common: dict[str, Any] = dict(source=source, vintage=vintage, suppressed=suppressed,
                                  lang=lang)
    with atomic_path(path) as tmp, PdfPages(tmp) as pdf:
        fig = static_map(gdf, kecamatan=kecamatan, title=title, **common)
        pdf.savefig(fig)
        for _, desa in gdf.groupby("kode_kecamatan", sort=True):
            desa = desa.copy()
            desa.attrs = gdf.attrs  # keep the layer-wide classes on every page
            name = desa["nama_kecamatan"].iloc[0]
            fig = static_map(desa, title=f"{title} – {label('nama_kecamatan', lang)} {name}",
                             label_kecamatan=False, **common)
            _label_desa(fig.axes[0], desa)
            pdf.savefig(fig)
    return path


def _label_desa(ax, desa: gpd.GeoDataFrame) -> None:
    projected = desa.to_crs(desa.estimate_utm_crs())
    for name, point in zip(projected["nama_desa"], projected.representative_point(),
                           strict=True):
        ax.annotate(str(name), (point.x, point.y), ha="center", fontsize=6, color="#111111",
                    **LITERAL)


def _furnish(ax, classification: Classification, title: str, lang: str) -> None:
    """Title, legend, north arrow and scale bar; no axes (the coordinates are UTM metres)."""
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=14, fontweight="bold", **LITERAL)
    handles = [Patch(facecolor=c, edgecolor="#777777", label=t)
               for c, t in graduated_items(classification, lang)]
    legend = ax.legend(handles=handles, title=label(classification.column, lang),
                       loc="lower right", fontsize=8, title_fontsize=8, frameon=True,
                       framealpha=0.9)
    for text in (legend.get_title(), *legend.get_texts()):
        text.set(**LITERAL)
    ax.annotate(label("north", lang), xy=(0.04, 0.96), xytext=(0.04, 0.86),
                xycoords="axes fraction", ha="center", va="center", fontsize=12,
                fontweight="bold", arrowprops=dict(facecolor="black", width=4, headwidth=12))
    _scale_bar(ax)


def _scale_bar(ax) -> None:
    """A two-segment scale bar at the lower left, a round length near a fifth of the width."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    target = (x1 - x0) / 5
    magnitude = 10 ** math.floor(math.log10(target))
    length = max(m * magnitude for m in (1, 2, 5) if m * magnitude <= target)
    left, bottom, height = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04, (y1 - y0) * 0.012
    for i, color in enumerate(("black", "white")):
        ax.add_patch(Rectangle((left + i * length / 2, bottom), length / 2, height,
                               facecolor=color, edgecolor="black", linewidth=0.8))
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(left, bottom + height * 1.6, "0", ha="center", fontsize=8)
    ax.text(left + length, bottom + height * 1.6, text, ha="center", fontsize=8)
