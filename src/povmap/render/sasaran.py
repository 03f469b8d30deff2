"""The targeting map (HTML) of a :class:`povmap.targeting.Targeting`.

It reuses the choropleth's machinery (one TopoJSON topology, pre-formatted and escaped popups,
legend sections that follow the layer control, search and zoom controls, Indonesian numbers): one
layer per measure, each a share with its denominator named in the legend: exclusion (target
families receiving no known program), inclusion (recipients above the eligibility desil),
recipients not in the register (with a recipients list), and one per need (target families
lacking a living condition).
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from .._messages import text
from ..classify import Classification
from ..i18n import check_lang, format_numbers, format_percents, label
from ..registers import PROGRAM_NAMES
from ..simplify import TOLERANCE_M, simplify_coverage
from ..targeting import (
    Targeting,
    desil_span,
    measure_classes,
    measures,
    need_column,
    program_column,
    rate_column,
)
from .controls import add_basemaps, add_controls
from .interactive import _dissolve
from .layers import KecamatanLabels, add_outline_layer, add_polygon_layer, palette_style
from .legend import MapDecorations, footer_lines, graduated_items, section_html
from .search import search_keys
from .tooltips import column_texts, labelled
from .topo import TopologyData


def _t(key: str, lang: str, **values: object) -> str:
    """The map's words: ``sasaran.map.<key>`` of the catalogue (``messages.toml``)."""
    return text(f"sasaran.map.{key}", lang, **values)


def need_label(condition: str, lang: str = "id") -> str:
    """What a family lacks for ``condition``, in words (``"air minum layak"``)."""
    return text(f"sasaran.need.{condition}", lang)


def _count_rate(count: pd.Series, rate: pd.Series | None, lang: str) -> np.ndarray:
    """``3 (25,00 %)``: a count with its share; an en dash when unknown (a column at a time;
    formatted numbers hold nothing to escape)."""
    out = format_numbers(count, 0, lang)
    if rate is not None:
        shown = (out != "–") & rate.notna().to_numpy(dtype=bool)
        out[shown] = out[shown] + " (" + format_percents(rate[shown], 2, lang) + ")"
    return out


def _texts_only(values: pd.Series, name: Callable[[str], str]) -> np.ndarray:
    """``labelled`` texts of the non-empty strings of a column; an en dash for anything else."""
    strings = np.fromiter(map(isinstance, values, itertools.repeat(str)), bool, len(values))
    strings &= values.astype(object).to_numpy() != ""
    out = np.full(len(values), "–", dtype=object)
    out[strings] = labelled(values[strings], name)
    return out


def _popup(
    result: Targeting, web: gpd.GeoDataFrame, lang: str
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Escaped, pre-formatted popup texts ``t0`` ... and their escaped aliases."""
    span, layak = desil_span(result.desil_sasaran), result.desil_layak
    rows: list[tuple[str, np.ndarray]] = [
        *(
            (label(c, lang), column_texts(web[c], "text", lang))
            for c in ("nama_desa", "nama_kecamatan", "kode_desa")
        ),
        (_t("keluarga_register", lang), _count_rate(web["jumlah_keluarga_register"], None, lang)),
        (_t("sasaran", lang, span=span), _count_rate(web["keluarga_sasaran"], None, lang)),
        (
            _t("tanpa_program", lang),
            _count_rate(
                web["keluarga_sasaran_tanpa_program"], web["persen_sasaran_tanpa_program"], lang
            ),
        ),
        (
            _t("diketahui", lang),
            _texts_only(
                web["program_diketahui"],
                lambda v: ", ".join(PROGRAM_NAMES[p] for p in v.split(",") if p in PROGRAM_NAMES),
            ),
        ),
    ]
    for p in result.programs:
        count = program_column(p)
        rows.append(
            (
                _t("program", lang, program=PROGRAM_NAMES[p]),
                _count_rate(web[count], web[rate_column(count)], lang),
            )
        )
    rows += [
        (_t("penerima", lang), _count_rate(web["jumlah_penerima"], None, lang)),
        (
            _t("di_atas", lang, layak=layak),
            _count_rate(
                web["penerima_di_atas_desil_layak"],
                web["persen_penerima_di_atas_desil_layak"],
                lang,
            ),
        ),
    ]
    if "penerima_tidak_di_register" in web.columns:
        rows += [
            (_t("entri", lang), _count_rate(web["jumlah_entri_penerima"], None, lang)),
            (
                _t("tidak_di_register", lang),
                _count_rate(
                    web["penerima_tidak_di_register"],
                    web["persen_penerima_tidak_di_register"],
                    lang,
                ),
            ),
        ]
    for c in result.conditions:
        count = need_column(c)
        rows.append(
            (
                _t("kebutuhan", lang, need=need_label(c, lang)),
                _count_rate(web[count], web[rate_column(count)], lang),
            )
        )
    if result.conditions:
        rows.append(
            (
                _t("utama", lang),
                _texts_only(web["kebutuhan_utama"], lambda v: need_label(v, lang)),
            )
        )
    if "kantong" in web.columns:
        rows.append(
            (
                _t("kantong", lang),
                _yes_no(web["kantong"], lang),
            )
        )
    props = pd.DataFrame({f"t{i}": values for i, (_, values) in enumerate(rows)}, index=web.index)
    return props, [f"t{i}" for i in range(len(rows))], [html.escape(a) for a, _ in rows]


def _yes_no(flags: pd.Series, lang: str) -> np.ndarray:
    """Ya / Tidak of a 0/1 column (an integer part of 1 is yes); an en dash when unknown."""
    numbers = flags.to_numpy(dtype=float, na_value=np.nan)
    out = np.where(np.trunc(numbers) == 1, _t("yes", lang), _t("no", lang)).astype(object)
    out[np.isnan(numbers)] = "–"
    return out


def _percent_items(classes: Classification, lang: str) -> list[tuple[str, str]]:
    """Legend entries of a rate layer written as the popups write rates: ``33,33 – 50,00 %``
    (2 decimals, :func:`povmap.targeting.measure_classes`; the unit on every class; "0 (tidak
    ada)" and the no-data entries as they are)."""
    zero = text("classify.zero", lang)
    return [
        (colour, f"{name} %" if i < classes.k and name != zero else name)
        for i, (colour, name) in enumerate(graduated_items(classes, lang))
    ]


def _layers(result: Targeting, lang: str) -> list[tuple[str, str, str, str]]:
    """(key, rate column, layer name, legend heading) of each measure the map shows."""
    span, layak = desil_span(result.desil_sasaran), result.desil_layak
    out = []
    for kind, column in measures(result):
        if kind == "need":
            words = need_label(column.removeprefix("persen_kebutuhan_"), lang)
            out.append(
                (kind, column, _t("need", lang, need=words), _t("need_head", lang, need=words))
            )
        else:
            name = _t(kind, lang, layak=layak)
            out.append((kind, column, name, _t(f"{kind}_head", lang, span=span, layak=layak)))
    return out


def targeting_map(
    result: Targeting,
    *,
    title: str | None = None,
    source: str | None = None,
    suppressed: bool = False,
    lang: str = "id",
    tiles: str | None = "OpenStreetMap",
    tolerance_m: float = TOLERANCE_M,
) -> folium.Map:
    """The interactive targeting map: a layer per measure, one popup with every number.

    Parameters
    ----------
    result
        From :func:`povmap.targeting` (suppressed for publication, if it is to be published).
    title, source
        Map title (default: "Sasaran program: keluarga desil 1 yang belum terjangkau") and
        data source.
    suppressed
        Whether small counts were blanked (a note says so).
    lang
        ``"id"`` (default) or ``"en"``.
    tiles
        Basemap (``osm``, ``topo``, ``satelit``) or None/``"none"``.
    tolerance_m
        Web simplification tolerance in metres.

    Returns
    -------
    A folium map; save it with :func:`povmap._offline.save_map` (self-contained HTML).
    """
    check_lang(lang)
    desa = result.desa[~(result.desa.geometry.isna() | result.desa.geometry.is_empty)]
    web = simplify_coverage(desa, tolerance_m)
    outlines = _dissolve(web, "kecamatan")
    props, fields, aliases = _popup(result, web, lang)
    layers = []
    for i, (kind, column, name, heading) in enumerate(_layers(result, lang)):
        if not web[column].notna().any():
            continue  # nothing known of this measure anywhere: no empty layer
        classes = measure_classes(web[column], column, kind)
        props[f"k{i}"] = classes.assign(web[column]).astype(int)
        layers.append((f"k{i}", name, heading, classes))
    props["s"] = [f"{d}, {c}" for d, c in zip(web["nama_desa"], web["nama_kecamatan"], strict=True)]
    props["q"] = search_keys(web)
    objects = {
        "desa": gpd.GeoDataFrame(props, geometry=web.geometry.values, crs=4326),
        "kecamatan": gpd.GeoDataFrame(geometry=outlines.geometry.values, crs=4326),
    }
    topology = TopologyData.from_layers(objects)

    m = folium.Map(tiles=None, control_scale=False, prefer_canvas=True)
    add_basemaps(m, tiles, lang)
    topology.add_to(m)
    sections, main = [], None
    for j, (key, name, heading, classes) in enumerate(layers):
        layer = add_polygon_layer(
            m,
            topology,
            "desa",
            name=name,
            fields=fields,
            aliases=aliases,
            show=j == 0,
            tooltip_fields=fields[:2] + fields[4:6],
            style=palette_style(
                list(classes.colors), classes.no_data_color, opacity=0.8, weight=0.4, key=key
            ),
        )
        main = main or layer
        sections.append(section_html(name, heading, _percent_items(classes, lang), shown=j == 0))
    add_outline_layer(m, topology, "kecamatan", lang)
    KecamatanLabels(outlines, label("kecamatan_labels", lang), show=len(outlines) <= 40).add_to(m)
    notes = [text("sasaran.desil_rank", lang), _t("unknown", lang)]
    MapDecorations(
        title or _t("title", lang, span=desil_span(result.desil_sasaran)),
        notes,
        sections,
        footer_lines(source, None, suppressed, lang),
        bounds=tuple(web.total_bounds),
        lang=lang,
    ).add_to(m)
    add_controls(m, search_layer=main, search_label="s", kecamatan=outlines, lang=lang)
    return m
