"""Class breaks (numpy, mapclassify) and their labels: one small contract shared by maps and styles.

A :class:`Classification` holds the breaks and the colours; the HTML legend, the static map and
the SLD/QML styles all read the same object, so they cannot disagree.
"""

from __future__ import annotations

import functools
import json
import warnings
from dataclasses import dataclass, replace
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import PovmapInputError, PovmapWarning, Text
from ._messages import message, text
from .counts import COUNT_COLUMNS
from .defaults import MIN_COVERAGE
from .i18n import LANGS, check_lang, format_number, label, number_text, percent_text

SCHEMES = ("quantiles", "fisher_jenks", "equal_interval", "natural_breaks", "user")
#: The column mapped unless another is chosen.
DEFAULT_COLUMN = "persen_miskin_ekstrem"
#: What to map when the default column cannot be computed, e.g. a P3KE by-name export gives desil
#: counts and no population. A desil share is a welfare rank, never labelled a poverty rate.
FALLBACK_COLUMNS = (
    "persen_desil_1",
    "jumlah_desil_1",
    "jumlah_keluarga_desil_1",
    "jumlah_miskin_ekstrem",
    "jumlah_keluarga_miskin_ekstrem",
)
NO_DATA_COLOR = "#d9d9d9"
NO_DATA_CLASS = -1
#: Class of an aggregate resting on too few desa with data ("data tidak lengkap"): not classified.
INCOMPLETE_CLASS = -2
#: A mid grey, darker than "no data", so an incomplete kecamatan never reads as a value class.
INCOMPLETE_COLOR = "#969696"
#: Default colour map per kind of value: reds for poverty, purples for desil (a welfare rank).
CMAPS = {"persen_desil": "Purples", "kepadatan": "OrRd", "default": "YlOrRd"}
#: Most decimals a label gets while looking for edges that read differently.
MAX_DECIMALS = 6


@dataclass(frozen=True)
class Classification:
    """Class breaks of one column.

    Class 0 holds the values from ``lower`` to ``bins[0]``, class *i* those above ``bins[i-1]``
    up to ``bins[i]`` (upper edges inclusive, mapclassify's convention), so the labels read
    ``0,12 – 0,45``, ``> 0,45 – 0,82``: no two classes share a value. A value shared by many areas
    (most often 0) has a class of its own (listed in ``exact``), labelled with that value alone.

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
        Decimals shown in labels: enough for every class edge to read differently.
    no_data_color
        Colour of areas without a value.
    exact
        Indexes of the classes that hold one value only (a value shared by many areas).
    k_requested
        The number of classes asked for; :attr:`k` is smaller when the data did not allow it.
    distinct
        Number of distinct values classified.
    most_common
        ``(value, number of areas)`` of the most frequent value, to say why classes are fewer.
    incomplete
        Number of areas not classified because they rest on fewer than ``min_coverage`` of their
        desa (``kelas`` = :data:`INCOMPLETE_CLASS`).
    min_coverage
        Share (0 to 1) of desa with data an aggregate needs to be classified.
    incomplete_color
        Colour of those areas.
    """

    column: str
    scheme: str
    lower: float
    bins: tuple[float, ...]
    colors: tuple[str, ...]
    decimals: int
    no_data_color: str = NO_DATA_COLOR
    exact: tuple[int, ...] = ()
    k_requested: int | None = None
    distinct: int | None = None
    most_common: tuple[float, int] | None = None
    incomplete: int = 0
    min_coverage: float = MIN_COVERAGE
    incomplete_color: str = INCOMPLETE_COLOR

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
        """Colour per class index; no-data grey and the incomplete colour for those classes."""
        special = {NO_DATA_CLASS: self.no_data_color, INCOMPLETE_CLASS: self.incomplete_color}
        return [self.colors[c] if c >= 0 else special[c] for c in classes]

    def intervals(self) -> list[tuple[float, float, bool]]:
        """``(low, high, low_included)`` of each class; an exact class is ``(v, v, True)``."""
        edges = [self.lower, *self.bins]
        return [
            (hi, hi, True) if i in self.exact or lo == hi else (lo, hi, i == 0)
            for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True))
        ]

    def labels(self, lang: str = "id") -> list[str]:
        """One label per class, e.g. ``0 (tidak ada)``, ``0,12 – 0,45``, ``> 0,45 – 0,82``.

        The unit is in the legend title. Every map, legend and style takes its labels from here.
        """

        def number(value: float) -> str:
            return format_number(value, self.decimals, lang)

        out = []
        for low, high, included in self.intervals():
            if low == high:
                out.append(text("classify.zero", lang) if high == 0 else number(high))
            else:
                out.append(f"{'' if included else '> '}{number(low)} – {number(high)}")
        return out

    def no_data_label(self, lang: str = "id") -> str:
        """Legend label of areas without data."""
        return label("no_data", lang)

    def incomplete_label(self, lang: str = "id") -> str:
        """Legend label of aggregates resting on too few desa with data."""
        return text("classify.incomplete", check_lang(lang))

    def legend_items(self, lang: str = "id") -> list[tuple[int, str, str]]:
        """``(class index, label, colour)`` of every legend entry, in legend order.

        The classes light to dark, then "Data tidak lengkap" when some area is in that state,
        then "Tidak ada data". The HTML and PNG legends and the SLD/QML rules all use this list.
        """
        items = list(zip(range(self.k), self.labels(lang), self.colors, strict=True))
        if self.incomplete:
            items.append((INCOMPLETE_CLASS, self.incomplete_label(lang), self.incomplete_color))
        items.append((NO_DATA_CLASS, self.no_data_label(lang), self.no_data_color))
        return items

    def notes(self, level: str | None = None) -> list[Text]:
        """What the reader must know about these classes, in both languages.

        Says when fewer classes than asked could be formed, and why (few distinct values, or
        many areas sharing one value). ``level`` (``"desa"``, ``"kecamatan"``) names the layer.
        """
        if not self.k_requested or self.k >= self.k_requested:
            return []
        where = (
            Text(*(f"{label(f'{level}_layer', lang)}: " for lang in LANGS)) if level else Text("")
        )
        head = message(
            "classify.fewer_classes",
            where=where,
            k=self.k,
            requested=self.k_requested,
            column=Text(*(label(self.column, lang).lower() for lang in LANGS)),
        )
        if self.distinct is not None and self.distinct < self.k_requested:
            return [
                message("classify.data_only_distinct_values", head=head, distinct=self.distinct)
            ]
        value, count = self.most_common or (float("nan"), 0)
        return [
            message(
                "classify.many_areas_share_value",
                head=head,
                count=count,
                value=number_text(value, self.decimals),
            )
        ]


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

    A value that at least a ``1/k`` share of the areas hold (often 0: no one in extreme poverty)
    gets a class of its own, and the scheme divides the other values into the remaining classes.
    mapclassify's own warnings are caught: when fewer classes than ``k`` are possible,
    :meth:`Classification.notes` says so in Indonesian and English.

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

    Returns
    -------
    Classification

    Raises
    ------
    PovmapInputError
        Unknown scheme or colour map, ``k`` outside 2 to 9, breaks not rising, or no value.
    """
    if breaks:
        scheme = "user"
    if scheme not in SCHEMES:
        raise PovmapInputError.from_catalogue(
            "classify.scheme_unknown_choose", scheme=scheme, schemes=SCHEMES
        )
    if not 2 <= k <= 9:
        raise PovmapInputError.from_catalogue("classify.out_range_choose_classes", k=k)
    y = np.asarray(values, dtype=float)
    y = y[~np.isnan(y)]
    if y.size == 0:
        raise PovmapInputError.from_catalogue("classify.column_no_values_nothing", column=column)
    unique, counts = np.unique(y, return_counts=True)
    exact: tuple[int, ...]
    if scheme == "user":
        bins, exact = _user_bins(y, breaks), ()
    else:
        bins, exact = _scheme_bins(y, unique, counts, scheme, k)
    top = int(np.argmax(counts))
    return Classification(
        column=column,
        scheme=scheme,
        lower=float(y.min()),
        bins=tuple(float(b) for b in bins),
        colors=_colors(cmap or _default_cmap(column), len(bins)),
        decimals=_decimals(column, y, [float(y.min()), *bins]),
        exact=exact,
        k_requested=len(breaks or ()) + 1 if scheme == "user" else k,
        distinct=int(unique.size),
        most_common=(float(unique[top]), int(counts[top])),
    )


@dataclass(frozen=True)
class Classified:
    """A layer and its classes, as :func:`classify` returns them and maps and styles take them.

    Attributes
    ----------
    gdf
        The layer (CRS as given, usually EPSG:4326) with ``kelas``: the class index of each area
        (0 = lowest, -1 = no data, -2 = data tidak lengkap).
    classification
        The breaks, colours and labels of those classes: the HTML and PNG legends and the
        SLD/QML styles drawn from this layer all use it.
    note
        What the reader must know about the column mapped, when povmap chose it (the table gives
        no population, so a count or desil share is mapped instead); None otherwise.

    Examples
    --------
    >>> layer = povmap.classify(povmap.add_rates(joined))  # doctest: +SKIP
    >>> layer.classification.labels(), layer.gdf["kelas"]  # doctest: +SKIP
    >>> povmap.choropleth(layer)  # the same classes, no column to repeat  # doctest: +SKIP
    """

    gdf: gpd.GeoDataFrame
    classification: Classification
    note: Text | None = None

    @property
    def column(self) -> str:
        """The classified column."""
        return self.classification.column


def column_to_map(gdf: pd.DataFrame, column: str = DEFAULT_COLUMN) -> tuple[str, Text | None]:
    """The column to map: ``column``, or when the default is absent, the first fallback.

    One rule for the CLI and the Python API: a table without population gives no
    ``persen_miskin_ekstrem``, so the first of :data:`FALLBACK_COLUMNS` that holds a value is
    mapped instead, with a note saying so. A column other than the default is never replaced.

    Parameters
    ----------
    gdf
        The joined layer with rates (:func:`povmap.add_rates`).
    column
        The column asked for.

    Returns
    -------
    column : str
        The column to map.
    note : Text or None
        The bilingual note when a fallback was chosen.

    Raises
    ------
    PovmapInputError
        The default column is absent and the layer has no count at all to map (the message
        lists the count columns read).
    """
    if column in gdf.columns or column != DEFAULT_COLUMN:
        return column, None
    for fallback in FALLBACK_COLUMNS:
        if fallback in gdf.columns and gdf[fallback].notna().any():
            return fallback, message(
                "pipeline.table_does_not_mapped", column=column, column2=fallback
            )
    if not [c for c in gdf.columns if c.startswith("jumlah_") and c != "jumlah_penduduk"]:
        read = ", ".join(c for c in COUNT_COLUMNS if c in gdf.columns) or "-"
        raise PovmapInputError.from_catalogue("pipeline.table_no_counts_extreme", source=read)
    return column, None


def classify(
    gdf: gpd.GeoDataFrame,
    column: str = DEFAULT_COLUMN,
    *,
    scheme: str = "quantiles",
    k: int = 5,
    breaks: list[float] | None = None,
    cmap: str | None = None,
    min_coverage: float = MIN_COVERAGE,
    min_berdata: float | None = None,
) -> Classified:
    """Classify ``column`` of ``gdf``: a copy with ``kelas`` and the :class:`Classification`.

    Maps, static maps, styles and exports drawn from the result use exactly these breaks
    (``povmap.choropleth(classified)``). When ``column`` is the default
    (``persen_miskin_ekstrem``) and the table gave no population, the first of
    :data:`FALLBACK_COLUMNS` with values is classified instead, as the CLI does: the result's
    ``note`` says so and a :class:`povmap.PovmapWarning` shows it.

    Parameters
    ----------
    gdf
        A layer with ``column`` (e.g. :func:`povmap.add_rates` or :func:`povmap.aggregate`).
    column
        The column to classify.
    scheme, k, breaks, cmap
        As in :func:`make_classification`.
    min_coverage
        For an aggregate layer (with ``jumlah_desa`` and ``desa_berdata``, see
        :func:`povmap.aggregate`): an area whose desa with data are fewer than this share
        (0 to 1) is not classified (``kelas`` = -2, "Data tidak lengkap") and its value does
        not move the class breaks. An area with no desa with data is "Tidak ada data" (-1).
    min_berdata
        The name of ``min_coverage`` up to povmap 0.1, kept for one release.

    Returns
    -------
    Classified
        ``.gdf``: a copy of ``gdf`` with ``kelas`` (int); ``.classification``; ``.note``.

    Raises
    ------
    PovmapInputError
        ``column`` is absent (the message lists the columns that can be mapped), the layer has
        no count to fall back on, ``min_coverage`` is outside 0 to 1, or the classes cannot be
        formed (see :func:`make_classification`).
    """
    column, note = column_to_map(gdf, column)
    if note is not None:
        warnings.warn(PovmapWarning(note), stacklevel=2)
    if column not in gdf.columns:
        mappable = [c for c in gdf.columns if c.startswith(("jumlah_", "persen_", "kepadatan_"))]
        raise PovmapInputError.from_catalogue(
            "classify.column_does_not_exist", column=column, mappable=", ".join(mappable)
        )
    if min_berdata is not None:  # the name up to povmap 0.1
        min_coverage = min_berdata
    if not 0 <= min_coverage <= 1:
        raise PovmapInputError.from_catalogue(
            "classify.min_coverage_out_range", min_coverage=min_coverage
        )
    values = pd.to_numeric(gdf[column], errors="coerce").astype(float)
    short = incomplete_areas(gdf, min_coverage) & values.notna().to_numpy()
    # The breaks come from the areas that are classified; when no area is, from all values,
    # so that the legend still reads (every area then shows "Data tidak lengkap").
    basis = values.where(~short) if (~short & values.notna().to_numpy()).any() else values
    classification = replace(
        make_classification(basis, column=column, scheme=scheme, k=k, breaks=breaks, cmap=cmap),
        incomplete=int(short.sum()),
        min_coverage=float(min_coverage),
    )
    out = gdf.copy()
    out["kelas"] = np.where(short, INCOMPLETE_CLASS, classification.assign(values))
    return Classified(out, classification, note)


def reclassify(gdf: gpd.GeoDataFrame, previous: Classification) -> Classified:
    """Classify ``gdf`` again with the choices behind ``previous`` (scheme, classes asked for,
    user breaks, threshold), e.g. after values were blanked: breaks come from the values now."""
    breaks = list(previous.bins) if previous.scheme == "user" else None
    k = previous.k_requested if previous.scheme != "user" and previous.k_requested else 5
    return classify(
        gdf.drop(columns="kelas", errors="ignore"),
        previous.column,
        scheme=previous.scheme,
        k=k,
        breaks=breaks,
        min_coverage=previous.min_coverage,
    )


def incomplete_areas(gdf: pd.DataFrame, min_coverage: float = MIN_COVERAGE) -> np.ndarray:
    """Whether each area rests on fewer than ``min_coverage`` of its desa (boolean array).

    Uses ``desa_berdata`` and ``jumlah_desa`` of an aggregate layer; False everywhere for a
    layer without them (a desa layer).
    """
    if "desa_berdata" not in gdf.columns or "jumlah_desa" not in gdf.columns:
        return np.zeros(len(gdf), dtype=bool)
    n = pd.to_numeric(gdf["desa_berdata"], errors="coerce").fillna(0).to_numpy(float)
    total = pd.to_numeric(gdf["jumlah_desa"], errors="coerce").fillna(0).to_numpy(float)
    return (n > 0) & (n < min_coverage * total)


def incomplete_notes(gdf: pd.DataFrame, min_coverage: float = MIN_COVERAGE) -> list[Text]:
    """Notes on an aggregate layer resting on part of its desa, for the report and the terminal.

    One note when some area's values come from only part of its desa (how many of how many
    overall), and one naming the areas not classified ("data tidak lengkap") with their
    ``desa_berdata`` of ``jumlah_desa``. No note for a layer without those columns.
    """
    if "desa_berdata" not in gdf.columns or "jumlah_desa" not in gdf.columns:
        return []
    level = next(
        (lv for lv in ("kecamatan", "kabupaten", "provinsi") if f"nama_{lv}" in gdf.columns),
        "wilayah",
    )
    n, total = int(gdf["desa_berdata"].sum()), int(gdf["jumlah_desa"].sum())
    notes = []
    if n < total:
        notes.append(
            message(
                "classify.values_computed_only_villages",
                level=Text(level, level.capitalize()),
                n=number_text(n),
                total=number_text(total),
            )
        )
    if "kelas" in gdf.columns:
        short = gdf[gdf["kelas"] == INCOMPLETE_CLASS]
    else:
        short = gdf[incomplete_areas(gdf, min_coverage)]
    if len(short):
        name = f"nama_{level}" if f"nama_{level}" in gdf.columns else f"kode_{level}"
        listed = Text(
            *(
                ", ".join(
                    text(
                        "classify.of_desa",
                        lang,
                        area=a,
                        n=format_number(int(b), lang=lang),
                        total=format_number(int(c), lang=lang),
                    )
                    for a, b, c in zip(
                        short[name].head(10),
                        short["desa_berdata"].head(10),
                        short["jumlah_desa"].head(10),
                        strict=True,
                    )
                )
                + (", …" if len(short) > 10 else "")
                for lang in LANGS
            )
        )
        notes.append(
            message(
                "classify.areas_data_less_than",
                n_short=number_text(len(short)),
                level=level,
                share=percent_text(100 * min_coverage, 0),
                listed=listed,
            )
        )
    return notes


def classified(layer: Classified | gpd.GeoDataFrame) -> Classified:
    """``layer`` itself when it is :class:`Classified`; else an error saying to classify first.

    For the outputs that draw given classes and never choose them (static maps, styles).

    Parameters
    ----------
    layer
        What an output was given.

    Returns
    -------
    Classified
        ``layer``.

    Raises
    ------
    PovmapInputError
        ``layer`` is a plain GeoDataFrame.
    """
    if not isinstance(layer, Classified):
        raise PovmapInputError.from_catalogue("classify.layer_not_classified_yet")
    return layer


def layer_frame(layer: Classified | gpd.GeoDataFrame, function: str) -> gpd.GeoDataFrame:
    """The table of ``layer``: its ``.gdf`` when :class:`Classified`, else ``layer`` itself.

    For the stages that read a layer's columns and need no classes (:func:`povmap.aggregate`,
    :func:`povmap.find_pockets`), so that the result of :func:`classify` can be passed on as it is.

    Parameters
    ----------
    layer
        What ``function`` was given as its layer.
    function
        The public function's name, for the message.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer's table, not copied.

    Raises
    ------
    PovmapInputError
        ``layer`` is neither a GeoDataFrame nor a :class:`Classified` (a path, a plain
        DataFrame, a :class:`~povmap.join.JoinResult`, ...).
    """
    if isinstance(layer, Classified):
        return layer.gdf
    if isinstance(layer, gpd.GeoDataFrame):
        return layer
    raise PovmapInputError.from_catalogue(
        "classify.layer_not_geodataframe", function=function, given=type(layer).__name__
    )


def _user_bins(y: np.ndarray, breaks: list[float] | None) -> np.ndarray:
    if not breaks or list(breaks) != sorted(breaks):
        raise PovmapInputError.from_catalogue("classify.breaks_must_rising_class")
    bins = [b for b in breaks if b < y.max()] + [y.max()]
    return np.unique(bins)


def _scheme_bins(
    y: np.ndarray, unique: np.ndarray, counts: np.ndarray, scheme: str, k: int
) -> tuple[np.ndarray, tuple[int, ...]]:
    """Upper edges and the indexes of one-value classes.

    A value held by at least ``n/k`` areas would take a whole quantile class and make two
    breaks coincide (labels ``0,00 – 0,00`` then ``0,00 – 3,76``): it gets its own class, and
    the values between such values (segments) share the other classes, in proportion to their
    number of areas.
    """
    if unique.size <= k:  # one class per value: nothing to divide
        return unique.astype(float), tuple(range(unique.size))
    # Selected as an array: a national layer has tens of thousands of distinct values.
    heavy = unique[counts >= max(2, y.size / k)].astype(float).tolist()
    while True:
        segments = _segments(y, heavy)
        if len(heavy) + len(segments) <= k:
            break
        # Too many pieces for k classes: the least shared value loses its own class.
        heavy.remove(min(heavy, key=lambda v: int(np.sum(y == v))))
    shares = _share_classes(
        [s.size for s in segments], [np.unique(s).size for s in segments], k - len(heavy)
    )
    pieces: list[tuple[float, np.ndarray, bool]] = [(v, np.array([v]), True) for v in heavy]
    for segment, n_classes in zip(segments, shares, strict=True):
        pieces.append((float(segment.min()), _segment_bins(segment, scheme, n_classes), False))
    bins: list[float] = []
    exact: list[int] = []
    for _, edges, one_value in sorted(pieces, key=lambda p: p[0]):
        if one_value:
            exact.append(len(bins))
        bins.extend(float(b) for b in edges)
    return np.asarray(bins), tuple(exact)


def _segments(y: np.ndarray, heavy: list[float]) -> list[np.ndarray]:
    """The values between consecutive ``heavy`` values (and below/above them), non-empty ones."""
    edges = [-np.inf, *sorted(heavy), np.inf]
    rest = y[~np.isin(y, heavy)]
    found = [rest[(rest > lo) & (rest < hi)] for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return [s for s in found if s.size]


def _share_classes(sizes: list[int], distinct: list[int], available: int) -> list[int]:
    """Classes per segment: one each, the rest by the largest areas-per-class (D'Hondt)."""
    shares = [1] * len(sizes)
    for _ in range(available - len(sizes)):
        open_ = [i for i in range(len(sizes)) if shares[i] < distinct[i]]
        if not open_:
            break
        best = max(open_, key=lambda i: sizes[i] / (shares[i] + 1))
        shares[best] += 1
    return shares


def _segment_bins(segment: np.ndarray, scheme: str, k: int) -> np.ndarray:
    """Upper edges of ``k`` classes of ``segment`` by ``scheme`` (fewer when ties allow less)."""
    if k < 2:
        return np.array([segment.max()])
    if scheme == "quantiles":
        bins = np.unique(quantile_breaks(segment, k))
        return bins[bins < segment.max()].tolist() + [float(segment.max())]
    # Imports scipy.stats, scikit-learn and matplotlib.pyplot (about 1.3 s of CPU): only for
    # the schemes numpy does not compute.
    import mapclassify

    with warnings.catch_warnings():
        # mapclassify warns in English when ties leave fewer classes ("Not enough unique
        # values ..."); Classification.notes says it to the user in their language instead.
        warnings.simplefilter("ignore")
        classifier = mapclassify.classify(segment, scheme=scheme, k=k)
    bins = np.unique(np.asarray(classifier.bins, dtype=float))
    return bins[bins < segment.max()].tolist() + [float(segment.max())]


def quantile_breaks(values: np.ndarray, k: int) -> np.ndarray:
    """Upper edges of ``k`` quantile classes: the ``i/k`` quantiles, ``i = 1..k``.

    The quantiles of ``mapclassify.Quantiles`` (linear interpolation between the sorted values),
    computed by :func:`numpy.percentile`, whose import costs nothing beyond numpy. Where
    ``i (n - 1) / k`` is a whole number the quantile *is* that sorted value; floating point may
    put it a hair below (numpy, and mapclassify in about one case in eight), which would colour
    an area whose value is the printed break with the class above. There it is taken exactly.

    Parameters
    ----------
    values
        The values (no NaN), any order.
    k
        Number of classes (at least 1).

    Returns
    -------
    numpy.ndarray
        ``k`` ascending upper edges (equal ones where ties leave fewer classes), the last
        being the largest value.
    """
    ordered = np.sort(np.asarray(values, dtype=float))
    step = np.arange(1, k + 1)
    edges = np.percentile(ordered, 100.0 * step / k)
    position, rest = np.divmod(step * (ordered.size - 1), k)
    edges[rest == 0] = ordered[position[rest == 0]]
    return edges


def _default_cmap(column: str) -> str:
    for prefix, cmap in CMAPS.items():
        if column.startswith(prefix):
            return cmap
    return CMAPS["default"]


def _colors(cmap: str, n: int) -> tuple[str, ...]:
    """``n`` class colours from matplotlib colour map ``cmap``, as hex, palest first.

    The default maps' colours come from a packaged table (``data/class_colors.json``, checked
    against matplotlib by the tests); any other map or number of classes asks matplotlib,
    imported only then: it takes longer to import than a national layer takes to classify.
    """
    known = _known_colors().get(cmap, {}).get(str(n))
    if known is not None:
        return tuple(known)
    # matplotlib only for its colour maps, imported here: importing povmap must not load it.
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    try:
        colormap = colormaps[cmap]
    except KeyError:
        raise PovmapInputError.from_catalogue(
            "classify.cmap_not_matplotlib_colour", cmap=cmap
        ) from None
    # Skip the palest end so the lowest class still differs from the no-data grey and the basemap.
    return tuple(to_hex(colormap(x)) for x in np.linspace(0.15, 0.95, n))


@functools.cache
def _known_colors() -> dict[str, dict[str, list[str]]]:
    """The packaged class colours: ``{cmap: {str(n): [hex, ...]}}`` (see :func:`_colors`)."""
    source = resources.files("povmap") / "data" / "class_colors.json"
    table = json.loads(source.read_text(encoding="utf-8"))
    return {cmap: colors for cmap, colors in table.items() if not cmap.startswith("_")}


def _decimals(column: str, y: np.ndarray, edges: list[float]) -> int:
    """Decimals for labels: by the spread of the values, more until every edge reads differently
    (so no two classes show the same end value)."""
    if column.startswith("jumlah_"):
        base = 0
    else:
        spread = float(np.nanmax(y) - np.nanmin(y)) if y.size else 0.0
        base = 2 if spread < 10 else 1 if spread < 100 else 0
    distinct = sorted(set(edges))
    for decimals in range(base, MAX_DECIMALS + 1):
        if len({format_number(e, decimals) for e in distinct}) == len(distinct):
            return decimals
    return MAX_DECIMALS
