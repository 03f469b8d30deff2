"""The trend map (HTML) and chart (PNG) of a :class:`povmap.trend.Trend`.

The map reuses the choropleth's machinery (one TopoJSON topology, pre-formatted and escaped
tooltips, legend sections that follow the layer control, search and zoom controls): a layer of
the change with a diverging palette centred on zero, one layer per vintage (one set of classes
for all, so colours compare across years), and a layer of the gap to the target. The chart is
drawn on a bare matplotlib :class:`~matplotlib.figure.Figure` (Agg canvas), never through
pyplot, so no global backend is switched.
"""

from __future__ import annotations

import functools
import html
import math

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .._messages import text
from .._offline import OfflineMap
from ..classify import Classification, make_classification
from ..i18n import (
    check_lang,
    format_number,
    format_numbers,
    format_percent,
    format_percents,
    label,
)
from ..simplify import TOLERANCE_M, simplify_coverage
from ..trend import Trend
from .controls import add_basemaps, add_controls
from .interactive import _dissolve
from .layers import (
    KecamatanLabels,
    LabelDeclutter,
    add_outline_layer,
    add_polygon_layer,
    palette_style,
)
from .legend import MapDecorations, graduated_items, section_html
from .static import LITERAL
from .tooltips import column_texts, escaped, labelled
from .topo import TopologyData

#: Colours of the directions that have no change value, after the diverging classes.
DIRECTION_COLORS = {"baru": "#9e9ac8", "hilang": "#737373", "tidak_sebanding": "#e6ab02"}
#: Colour of "target reached" (at or below the target) in the gap layer.
REACHED_COLOR = "#1a9850"


def _t(key: str, lang: str, **values: object) -> str:
    return text(f"trend_map.{key}", lang, **values)


def _nice(value: float) -> float:
    """The smallest 1-2-2.5-5 × 10^n number at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(s * power for s in (1, 2, 2.5, 5, 10) if s * power >= value - 1e-12)


def change_classification(values: pd.Series, column: str, tolerance: float) -> Classification:
    """Seven classes centred on zero: three steps down, no change (± ``tolerance``), three up.

    The outer edge is a round number at or above the largest change and the inner edges halve
    it, so the palette is symmetric: the same colour strength means the same size of change
    either way. A change in people has no tolerance: only 0 is "no change".
    """
    y = np.asarray(values, dtype=float)
    y = y[~np.isnan(y)]
    middle = max(tolerance if column == "perubahan_persen" else 0.5, 1e-9)
    top = _nice(
        max(
            float(np.abs(y).max()) if y.size else 0.0,
            4 * middle,
            0.0 if column == "perubahan_persen" else 8.0,
        )
    )
    half = top / 2
    quarter = max(top / 4, (middle + half) / 2) if top / 4 <= middle else top / 4
    cmap = colormaps["RdBu_r"]
    colors = tuple(to_hex(cmap(x)) for x in (0.02, 0.17, 0.33, 0.5, 0.67, 0.83, 0.98))
    return Classification(
        column=column,
        scheme="user",
        lower=-top,
        bins=(-half, -quarter, -middle, middle, quarter, half, top),
        colors=colors,
        decimals=2 if column == "perubahan_persen" else 0,
    )


def _change_labels(change: Classification, lang: str) -> list[str]:
    """Legend labels of the change classes; a change in people is a whole number, so its
    classes read ``-250 – -126``, ``0``, ``1 – 125``."""
    edges = [change.lower, *change.bins]
    centre = change.k // 2
    stay = f" ({_t('arah:tetap', lang).lower()})"
    if change.column == "perubahan_persen":
        labels = change.labels(lang)
        labels[centre] += stay
        return labels
    labels = []
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        if i == centre:
            labels.append("0" + stay)
            continue
        first, last = math.floor(lo) + 1, math.floor(hi)
        if i == 0:
            first = math.ceil(lo)
        labels.append(
            format_number(first, 0, lang)
            if first == last
            else f"{format_number(first, 0, lang)} – {format_number(last, 0, lang)}"
        )
    return labels


def _vintage_classification(trend: Trend) -> tuple[Classification, str]:
    """One set of classes for every vintage's rate (or count), so colours compare across years."""
    kind = (
        "persen"
        if trend.rate
        and all(trend.column(lb, "persen") in trend.desa.columns for lb in trend.labels)
        else "jumlah"
    )
    pooled = pd.concat([trend.desa[trend.column(lb, kind)] for lb in trend.labels])
    column = trend.rate if kind == "persen" and trend.rate else trend.measure
    return make_classification(pooled, column=column, scheme="quantiles", k=5), kind


def _gap_classification(values: pd.Series, column: str) -> Classification:
    """ "Target reached" (≤ 0) then four classes of the distance still to go."""
    y = np.asarray(values, dtype=float)
    y = y[~np.isnan(y)]
    above = y[y > 0]
    lower = float(min(y.min(), 0.0)) if y.size else 0.0
    decimals = 2 if column == "selisih_target_persen" else 0
    if above.size == 0:
        return Classification(
            column=column,
            scheme="user",
            lower=lower,
            bins=(0.0,),
            colors=(REACHED_COLOR,),
            decimals=decimals,
        )
    steps = make_classification(above, column=column, scheme="quantiles", k=4, cmap="YlOrRd")
    return Classification(
        column=column,
        scheme="user",
        lower=lower,
        bins=(0.0, *steps.bins),
        colors=(REACHED_COLOR, *steps.colors),
        decimals=decimals,
    )


def _series_text(
    web: pd.DataFrame, columns: list[tuple[str, str]], kind: str, lang: str
) -> np.ndarray:
    """``2023: 1,09 % → 2024: 0,98 %`` of each desa, escaped (a column at a time)."""
    parts = []
    for lb, column in columns:
        values = web[column] if column in web.columns else pd.Series(np.nan, index=web.index)
        shown = (
            format_percents(values, 2, lang)
            if kind == "persen"
            else format_numbers(values, 0, lang)
        )
        parts.append(f"{lb}: " + shown)
    return escaped(functools.reduce(lambda a, b: a + " → " + b, parts))


def _signed(values: pd.Series, decimals: int, lang: str, unit: str = "") -> np.ndarray:
    """Each change with its sign (``+1,50 poin``), escaped; an en dash when unknown."""
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    out = escaped(
        np.where(numbers > 0, "+", "").astype(object)
        + format_numbers(numbers, decimals, lang)
        + unit
    )
    out[np.isnan(numbers)] = "–"
    return out


def trend_map(
    trend: Trend,
    *,
    title: str | None = None,
    source: str | None = None,
    lang: str = "id",
    tiles: str | None = "OpenStreetMap",
    tolerance_m: float = TOLERANCE_M,
) -> OfflineMap:
    """The interactive map of a trend: change, each vintage, and the gap to the target.

    Parameters
    ----------
    trend
        From :func:`povmap.trend`.
    title, source
        Map title (default: "Perubahan kemiskinan ekstrem <first>–<last>") and data source.
    lang
        ``"id"`` (default) or ``"en"``.
    tiles
        Basemap (``osm``, ``topo``, ``satelit``) or None/``"none"``: then nothing is loaded
        from the network.
    tolerance_m
        Web simplification tolerance in metres.

    Returns
    -------
    A folium map whose ``.save(path)`` writes the self-contained page (:func:`povmap.save_map`).
    """
    check_lang(lang)
    first, last = trend.series[0], trend.series[-1]
    desa = trend.desa[~(trend.desa.geometry.isna() | trend.desa.geometry.is_empty)]
    web = simplify_coverage(desa, tolerance_m)
    outlines = _dissolve(web, "kecamatan")

    change_col = trend.change_column
    change = change_classification(web[change_col], change_col, trend.tolerance)
    vintage, kind = _vintage_classification(trend)
    gap_col = "selisih_target_persen" if kind == "persen" else "selisih_target_jiwa"
    gap = _gap_classification(web[gap_col], gap_col)
    target = format_percent(trend.target, 2, lang)

    props, fields, aliases = _tooltips(trend, web, kind, change_col, gap_col, lang)
    extra = list(DIRECTION_COLORS)
    classes = change.assign(web[change_col])
    for i, arah in enumerate(extra):
        classes = np.where(web["arah"].to_numpy() == arah, change.k + i, classes)
    props["k"] = classes.astype(int)
    for i, lb in enumerate(trend.labels):
        props[f"v{i}"] = vintage.assign(web[trend.column(lb, kind)]).astype(int)
    props["g"] = gap.assign(web[gap_col]).astype(int)
    props["s"] = [f"{d}, {c}" for d, c in zip(web["nama_desa"], web["nama_kecamatan"], strict=True)]
    objects = {
        "desa": gpd.GeoDataFrame(props, geometry=web.geometry.values, crs=4326),
        "kecamatan": gpd.GeoDataFrame(geometry=outlines.geometry.values, crs=4326),
    }
    topology = TopologyData.from_layers(objects)

    # Metric scale only (MapDecorations adds it); quarter zoom steps, as the choropleth.
    m = OfflineMap(tiles=None, control_scale=False, prefer_canvas=True, zoom_snap=0.25)
    add_basemaps(m, tiles, lang)
    topology.add_to(m)

    change_name = _t("change_layer", lang, first=first, last=last)
    heading = _t(
        "change_pp" if change_col == "perubahan_persen" else "change_n",
        lang,
        first=first,
        last=last,
    )
    main = add_polygon_layer(
        m,
        topology,
        "desa",
        name=change_name,
        fields=fields,
        aliases=aliases,
        style=palette_style(
            [*change.colors, *DIRECTION_COLORS.values()],
            change.no_data_color,
            opacity=0.8,
            weight=0.4,
        ),
    )
    items = list(zip(change.colors, _change_labels(change, lang), strict=True))
    items += [(c, _t(f"arah:{a}", lang)) for a, c in DIRECTION_COLORS.items()]
    items.append((change.no_data_color, _t("arah:tanpa_data", lang)))
    sections = [section_html(change_name, heading, items)]
    for i, lb in enumerate(trend.labels):
        name = _t("vintage_layer", lang, label=lb)
        add_polygon_layer(
            m,
            topology,
            "desa",
            name=name,
            fields=fields,
            aliases=aliases,
            show=False,
            style=palette_style(
                list(vintage.colors), vintage.no_data_color, opacity=0.8, weight=0.4, key=f"v{i}"
            ),
        )
        heading = f"{name}: {label(vintage.column, lang)}"
        if lb not in trend.series:
            heading += " " + _t("apart", lang)
        sections.append(section_html(name, heading, graduated_items(vintage, lang), shown=False))
    if web[gap_col].notna().any():  # no gap for a measure the target is not about (desil)
        gap_name = _t("gap_layer", lang, target=target)
        add_polygon_layer(
            m,
            topology,
            "desa",
            name=gap_name,
            fields=fields,
            aliases=aliases,
            show=False,
            style=palette_style(
                list(gap.colors), gap.no_data_color, opacity=0.8, weight=0.4, key="g"
            ),
        )
        gap_items = graduated_items(gap, lang)
        gap_items[0] = (gap_items[0][0], _t("reached", lang))
        sections.append(
            section_html(
                gap_name,
                _t("gap_pp" if kind == "persen" else "gap_n", lang, last=last, target=target),
                gap_items,
                shown=False,
            )
        )
    add_outline_layer(m, topology, "kecamatan", lang)
    KecamatanLabels(outlines, label("kecamatan_labels", lang), show=len(outlines) <= 40).add_to(m)
    LabelDeclutter().add_to(m)

    notes = [_t("better", lang)]
    if change_col == "perubahan_persen":
        notes.append(_t("tolerance", lang, tol=format_number(trend.tolerance, 2, lang)))
    notes += [
        n.en if lang == "en" else str(n) for n in trend.notes if str(n).startswith("PERHATIAN")
    ]
    foot = [f"{label('source', lang)}: {source}"] if source else []
    foot.append(f"{label('vintage', lang)}: {', '.join(trend.labels)}")
    # The opening view is the data's extent, fitted beside the title and legend boxes.
    MapDecorations(
        title or _t("title", lang, first=first, last=last),
        notes,
        sections,
        foot,
        bounds=tuple(web.total_bounds),
        lang=lang,
    ).add_to(m)
    add_controls(m, search_layer=main, search_label="s", kecamatan=outlines, lang=lang)
    return m


def _tooltips(
    trend: Trend, web: gpd.GeoDataFrame, kind: str, change_col: str, gap_col: str, lang: str
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Escaped, pre-formatted tooltip texts ``t0`` ... and their escaped aliases."""
    rows: list[tuple[str, np.ndarray]] = [
        (label(c, lang), column_texts(web[c], "text", lang))
        for c in ("nama_desa", "nama_kecamatan", "kode_desa")
    ]
    if kind == "persen":
        columns = [(lb, trend.column(lb, "persen")) for lb in trend.labels]
        rows.append(
            (
                f"{_t('series', lang)} ({label(trend.rate or trend.measure, lang)})",
                _series_text(web, columns, "persen", lang),
            )
        )
    columns = [(lb, trend.column(lb)) for lb in trend.labels]
    rows.append(
        (
            f"{_t('series_n', lang)} ({label(trend.measure, lang)})",
            _series_text(web, columns, "jumlah", lang),
        )
    )
    unit = f" {_t('points', lang)}" if change_col == "perubahan_persen" else ""
    decimals = 2 if change_col == "perubahan_persen" else 0
    rows.append(
        (
            f"{_t('change', lang)} {trend.series[0]}–{trend.series[-1]}",
            _signed(web[change_col], decimals, lang, unit),
        )
    )
    rows.append((_t("direction", lang), labelled(web["arah"], lambda a: _t(f"arah:{a}", lang))))
    if web[gap_col].notna().any():
        gap_unit = f" {_t('points', lang)}" if gap_col == "selisih_target_persen" else ""
        rows.append(
            (
                _t("gap", lang),
                _signed(web[gap_col], 2 if gap_unit else 0, lang, gap_unit),
            )
        )
    props = pd.DataFrame({f"t{i}": values for i, (_, values) in enumerate(rows)})
    return props, [f"t{i}" for i in range(len(rows))], [html.escape(a) for a, _ in rows]


def trend_chart(trend: Trend, *, title: str | None = None, lang: str = "id") -> Figure:
    """The kabupaten series (thick) and each kecamatan's (thin), with the target line.

    Vintages outside the compared series (another register) are drawn as separate points, not
    joined to the line.

    Returns
    -------
    A matplotlib figure (16:9, for slides); save it with ``fig.savefig(path, dpi=150)``.
    """
    check_lang(lang)
    kind = (
        "persen"
        if trend.rate
        and all(trend.column(lb, "persen") in trend.kecamatan.columns for lb in trend.labels)
        else "jumlah"
    )
    fig = Figure(figsize=(11, 6.2))
    ax = fig.add_subplot()
    x = np.arange(len(trend.labels))
    inside = np.array([lb in trend.series for lb in trend.labels])
    table = trend.kecamatan
    colors = colormaps["tab20"]
    kecamatan = table[table["tingkat"] == "kecamatan"]
    for i, (_, row) in enumerate(kecamatan.iterrows()):
        y = np.array([row.get(trend.column(lb, kind), np.nan) for lb in trend.labels], float)
        ax.plot(
            x[inside],
            y[inside],
            color=colors(i % 20),
            linewidth=0.9,
            alpha=0.75,
            marker="o",
            markersize=2.5,
            label=str(row["nama_kecamatan"]),
        )
        ax.plot(
            x[~inside],
            y[~inside],
            color=colors(i % 20),
            linestyle="none",
            marker="o",
            markersize=2.5,
            alpha=0.75,
        )
    for _, row in trend.kabupaten.iterrows():
        y = np.array([row.get(trend.column(lb, kind), np.nan) for lb in trend.labels], float)
        ax.plot(
            x[inside],
            y[inside],
            color="black",
            linewidth=3,
            marker="o",
            markersize=7,
            label=str(row["nama_kecamatan"]),
            zorder=5,
        )
        ax.plot(
            x[~inside],
            y[~inside],
            color="black",
            linestyle="none",
            marker="s",
            markersize=7,
            zorder=5,
        )
        for xi, yi in zip(x, y, strict=True):
            if not np.isnan(yi):
                text = (
                    format_percent(yi, 2, lang) if kind == "persen" else format_number(yi, 0, lang)
                )
                ax.annotate(
                    text,
                    (xi, yi),
                    textcoords="offset points",
                    xytext=(0, 10),
                    ha="center",
                    fontsize=10,
                    fontweight="bold",
                    zorder=6,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
                    **LITERAL,
                )
    if trend.desa["selisih_target_jiwa"].notna().any():  # the target is about this measure
        ax.axhline(
            trend.target if kind == "persen" else 0.0,
            color="#1a9850",
            linestyle="--",
            linewidth=1.8,
            label=_t("target_line", lang, target=format_percent(trend.target, 2, lang)),
        )
    ax.set_xticks(
        x, [lb if lb in trend.series else f"{lb}\n{_t('apart', lang)}" for lb in trend.labels]
    )
    decimals = 1 if kind == "persen" else 0
    suffix = " %" if kind == "persen" else ""
    ax.yaxis.set_major_formatter(
        FuncFormatter(lambda v, _: format_number(v, decimals, lang) + suffix)
    )
    ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    ax.grid(axis="y", color="#dddddd")
    column = trend.rate if kind == "persen" and trend.rate else trend.measure
    ax.set_title(
        title or _t("chart_title", lang, measure=label(column, lang)), fontsize=13, **LITERAL
    )
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    for entry in legend.get_texts():  # kecamatan names are data, never mathematics
        entry.set_parse_math(False)
        entry.set_usetex(False)
    warnings = [
        n.en if lang == "en" else str(n) for n in trend.notes if str(n).startswith("PERHATIAN")
    ]
    if warnings:
        fig.text(0.01, 0.01, "\n".join(warnings), fontsize=7, color="#b2182b", wrap=True, **LITERAL)
    fig.tight_layout(rect=(0, 0.06 if warnings else 0, 1, 1))
    return fig
