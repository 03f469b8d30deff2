"""Class breaks (mapclassify) and their labels: one small contract shared by maps and styles.

A :class:`Classification` holds the breaks and the colours; the HTML legend, the static map and
the SLD/QML styles all read the same object, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import PovmapInputError
from .i18n import format_number, label

SCHEMES = ("quantiles", "fisher_jenks", "equal_interval", "natural_breaks", "user")
NO_DATA_COLOR = "#d9d9d9"
NO_DATA_CLASS = -1
#: Default colour map per kind of value: reds for poverty, purples for desil (a welfare rank).
CMAPS = {"persen_desil": "Purples", "kepadatan": "OrRd", "default": "YlOrRd"}


@dataclass(frozen=True)
class Classification:
    """Class breaks of one column.

    Attributes
    ----------
    column
        The classified column.
    scheme
        ``quantiles``, ``fisher_jenks``, ``equal_interval``, ``natural_breaks`` or ``user``.
    lower
        Lowest value (lower edge of the first class).
    bins
        Upper edge of each class, inclusive (mapclassify's convention).
    colors
        Hex colour of each class, light to dark.
    decimals
        Decimals shown in labels.
    """

    column: str
    scheme: str
    lower: float
    bins: tuple[float, ...]
    colors: tuple[str, ...]
    decimals: int
    no_data_color: str = NO_DATA_COLOR

    @property
    def k(self) -> int:
        """Number of classes."""
        return len(self.bins)

    def assign(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Class index of each value (0 = lowest), :data:`NO_DATA_CLASS` for missing values."""
        values = np.asarray(values, dtype=float)
        classes = np.searchsorted(np.asarray(self.bins), values, side="left")
        classes = np.minimum(classes, self.k - 1)
        return np.where(np.isnan(values), NO_DATA_CLASS, classes)

    def color_of(self, classes: np.ndarray) -> list[str]:
        """Colour per class index, the no-data grey for :data:`NO_DATA_CLASS`."""
        return [self.colors[c] if c >= 0 else self.no_data_color for c in classes]

    def labels(self, lang: str = "id") -> list[str]:
        """One label per class, e.g. ``0,25 – 1,09``; the unit is in the legend title."""
        edges = [self.lower, *self.bins]
        return [
            f"{format_number(lo, self.decimals, lang)} – {format_number(hi, self.decimals, lang)}"
            for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        ]

    def no_data_label(self, lang: str = "id") -> str:
        """Legend label of areas without data."""
        return label("no_data", lang)


def make_classification(
    values: pd.Series | np.ndarray,
    *,
    column: str,
    scheme: str = "quantiles",
    k: int = 5,
    breaks: list[float] | None = None,
    cmap: str | None = None,
) -> Classification:
    """Compute class breaks of ``values`` (missing values ignored).

    Parameters
    ----------
    values
        The values to classify.
    column
        Name of the column (chooses the colour map and decimals).
    scheme
        One of :data:`SCHEMES`; ``user`` (or passing ``breaks``) uses the given breaks.
    k
        Number of classes (2 to 9); fewer when the data has fewer distinct values.
    breaks
        Upper edges of the classes, ascending; the highest value always closes the last class.
    cmap
        A matplotlib colour map name; by default one suited to ``column``.
    """
    if breaks:
        scheme = "user"
    if scheme not in SCHEMES:
        raise PovmapInputError(f"scheme={scheme!r} tidak dikenal; pilih salah satu dari {SCHEMES}.",
                               en=f"scheme={scheme!r} is unknown; choose one of {SCHEMES}.")
    if not 2 <= k <= 9:
        raise PovmapInputError(f"k={k} di luar rentang; pilih 2 sampai 9 kelas.",
                               en=f"k={k} is out of range; choose 2 to 9 classes.")
    y = np.asarray(values, dtype=float)
    y = y[~np.isnan(y)]
    if y.size == 0:
        raise PovmapInputError(
            f"Kolom {column!r} tidak berisi satu pun nilai; tidak ada yang dipetakan.",
            en=f"Column {column!r} has no values; nothing to map."
        )
    bins = _bins(y, scheme, k, breaks)
    return Classification(
        column=column, scheme=scheme, lower=float(y.min()), bins=tuple(float(b) for b in bins),
        colors=_colors(cmap or _default_cmap(column), len(bins)), decimals=_decimals(column, y),
    )


def classify(
    gdf: gpd.GeoDataFrame,
    column: str = "persen_miskin_ekstrem",
    *,
    scheme: str = "quantiles",
    k: int = 5,
    breaks: list[float] | None = None,
    cmap: str | None = None,
) -> gpd.GeoDataFrame:
    """Add ``kelas`` (class index, -1 = no data) to a copy of ``gdf``.

    The :class:`Classification` is kept in ``gdf.attrs["povmap_classification"]`` so that maps and
    styles drawn from the result use exactly these breaks. Parameters as in
    :func:`make_classification`.
    """
    if column not in gdf.columns:
        mappable = [c for c in gdf.columns if c.startswith(("jumlah_", "persen_", "kepadatan_"))]
        raise PovmapInputError(
            f"column={column!r} tidak ada; kolom yang bisa dipetakan: {', '.join(mappable)}.",
            en=f"column={column!r} does not exist; columns that can be mapped: "
               f"{', '.join(mappable)}."
        )
    classification = make_classification(
        gdf[column], column=column, scheme=scheme, k=k, breaks=breaks, cmap=cmap
    )
    out = gdf.copy()
    out["kelas"] = classification.assign(out[column])
    out.attrs["povmap_classification"] = classification
    return out


def classification_of(gdf: gpd.GeoDataFrame) -> Classification:
    """The classification :func:`classify` attached to ``gdf``."""
    found = gdf.attrs.get("povmap_classification")
    if found is None:
        raise PovmapInputError("Lapisan belum diklasifikasi; panggil povmap.classify dulu.",
                               en="The layer is not classified yet; call povmap.classify first.")
    return found


def _bins(y: np.ndarray, scheme: str, k: int, breaks: list[float] | None) -> np.ndarray:
    if scheme == "user":
        if not breaks or list(breaks) != sorted(breaks):
            raise PovmapInputError("breaks harus berisi batas kelas yang naik, mis. 1,2,5.",
                                   en="breaks must be rising class limits, e.g. 1,2,5.")
        bins = [b for b in breaks if b < y.max()] + [y.max()]
        return np.unique(bins)
    k = min(k, np.unique(y).size)
    if k < 2:
        return np.array([y.max()])
    import mapclassify  # imports matplotlib; only when classes are computed

    classifier = mapclassify.classify(y, scheme=scheme, k=k)
    return np.unique(classifier.bins)


def _default_cmap(column: str) -> str:
    for prefix, cmap in CMAPS.items():
        if column.startswith(prefix):
            return cmap
    return CMAPS["default"]


def _colors(cmap: str, n: int) -> tuple[str, ...]:
    # matplotlib only for its colour maps, imported here: importing povmap must not load it.
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    try:
        colormap = colormaps[cmap]
    except KeyError:
        raise PovmapInputError(f"cmap={cmap!r} bukan nama colour map matplotlib.",
                               en=f"cmap={cmap!r} is not a matplotlib colour map name.") from None
    # Skip the palest end so the lowest class still differs from the no-data grey and the basemap.
    return tuple(to_hex(colormap(x)) for x in np.linspace(0.15, 0.95, n))


def _decimals(column: str, y: np.ndarray) -> int:
    if column.startswith("jumlah_"):
        return 0
    spread = float(np.nanmax(y) - np.nanmin(y)) if y.size else 0.0
    return 2 if spread < 10 else 1 if spread < 100 else 0
