"""The interactive map's HTML: compact data, escaped names, legends, layers, languages."""

from __future__ import annotations

import json
import math
import re
from html import escape

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import HSS_DESA, KALSEL_DESA, make_counts, need
from hypothesis import given, settings
from hypothesis import strategies as st

from povmap import PovmapInputError
from povmap._offline import inline_assets
from povmap.i18n import format_number, format_percent, label
from povmap.pipeline import Options, run
from povmap.render import choropleth
from povmap.render.layers import category_label
from povmap.render.tooltips import column_texts, tooltip_frame, tooltip_rows

HOSTILE = '<img src=x onerror="window.__pwned=1">'


def _result(tmp_path, raw: gpd.GeoDataFrame, name: str = "b"):
    boundaries, counts = tmp_path / f"{name}.geojson", tmp_path / f"{name}.csv"
    raw.to_file(boundaries)
    make_counts(raw, seed=7).to_csv(counts, index=False)
    return run(boundaries, counts, Options())


@pytest.fixture(scope="module")
def hss(tmp_path_factory):
    raw = gpd.read_file(need(HSS_DESA))
    raw.loc[0, "nama"] = HOSTILE
    return _result(tmp_path_factory.mktemp("hss"), raw)


def _columns(html: str) -> dict:
    found = re.search(r"var topology_data_\w+_props = (.*?);\n", html)
    return json.loads(found.group(1))


def test_desa_properties_are_formatted_in_python_and_escaped(hss):
    html = choropleth(hss.main, kecamatan=hss.layers["kecamatan"], tiles=None).get_root().render()
    desa = _columns(html)["desa"]
    assert len(desa["k"]) == 148
    row = hss.main.iloc[0]
    assert desa["t0"][0] == "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;"
    assert desa["t2"][0] == row["kode_desa"]
    assert desa["t3"][0] == f"{int(row['jumlah_miskin_ekstrem']):,}".replace(",", ".")
    assert desa["t4"][0] == f"{int(row['jumlah_keluarga_miskin_ekstrem']):,}".replace(",", ".")
    assert desa["t5"][0] == f"{int(row['jumlah_penduduk']):,}".replace(",", ".")
    assert desa["t6"][0] == f"{row['persen_miskin_ekstrem']:.2f}".replace(".", ",") + " %"
    assert desa["t8"][0] == {"code": "kode", "name": "nama", "fuzzy": "mirip"}[row["cara_padan"]]
    # The class shown in the tooltip is the legend label of the desa's class.
    labels = hss.classification.labels("id")
    assert desa["t9"][0] == labels[int(row["kelas"])]
    assert desa["k"] == [int(k) for k in hss.main["kelas"]]
    # The search label is raw text (the search box renders it with textContent) ...
    assert desa["s"][0] == f"{HOSTILE}, {row['nama_kecamatan']}"
    # ... and nowhere in the page can it act as markup.
    assert "<img src=x" not in html
    kec = _columns(html)["kecamatan"]
    assert len(kec["k"]) == 11
    # "n dari N desa" with data, never the raw column name.
    first = hss.layers["kecamatan"].set_index("kode_kecamatan").loc[kec["t1"][0]]
    n = int(first["jumlah_desa"] - first["jumlah_desa_tanpa_data"])
    assert kec["t7"][0] == f"{n} dari {int(first['jumlah_desa'])} desa"
    assert '"Desa berdata"' in html and "jumlah_desa" not in html


def test_legend_layers_and_controls(hss):
    m = choropleth(
        hss.main,
        kecamatan=hss.layers["kecamatan"],
        tiles="osm",
        title="Peta <script>",
        source="P3KE Kab. HSS",
        vintage="2024",
        suppressed=True,
    )
    html = m.get_root().render()
    for text in hss.classification.labels("id"):
        assert escape(text) in html  # "> 1,80 – 3,81" is escaped as text
    assert "Tidak ada data" in html
    assert "Peta &lt;script&gt;" in html and "Peta <script>" not in html
    assert "Sumber: P3KE Kab. HSS" in html and "Periode data: 2024" in html
    assert "Jumlah kecil disamarkan" in html
    for layer in (
        "Desa/Kelurahan",
        "Kecamatan",
        "Batas kecamatan",
        "Nama kecamatan",
        "Peta jalan (OSM)",
        "Citra satelit",
        "Tanpa peta dasar",
    ):
        assert f'"{layer}"' in html, layer
    assert '"Esri.WorldImagery"' not in html
    # Units in the legend headings; a metric scale bar only.
    assert "Desa/Kelurahan: Persentase penduduk miskin ekstrem (%)</b>" in html
    assert "L.control.scale({metric: true, imperial: false})" in html
    assert "<summary>Legenda</summary>" in html
    assert "L.Control.Search" in html and "Perbesar ke kecamatan" in html
    assert '"preferCanvas": true' in html and "L.control.fullscreen" in html
    assert "tile.openstreetmap.org" in html


def test_default_title_names_region_and_year(hss):
    html = choropleth(hss.main, tiles=None, vintage="P3KE 2024").get_root().render()
    assert "<b>Kemiskinan ekstrem Kab. Hulu Sungai Selatan, 2024</b>" in html
    english = choropleth(hss.main, "jumlah_miskin_ekstrem", tiles="osm", lang="en")
    html = english.get_root().render()
    assert "<b>Extreme poverty, Kab. Hulu Sungai Selatan</b>" in html
    assert "Villages: People in extreme poverty (people)</b>" in html
    indonesian = choropleth(hss.main, "jumlah_miskin_ekstrem", tiles=None).get_root().render()
    # The unit already in the label is not written twice.
    assert "Desa/Kelurahan: Penduduk miskin ekstrem (jiwa)</b>" in indonesian
    assert '"Street map (OSM)"' in html and '"Satellite imagery"' in html


def test_no_basemap_means_no_network_and_english(hss):
    html = inline_assets(
        choropleth(hss.main, kecamatan=hss.layers["kecamatan"], tiles="none", lang="en")
    )
    assert not re.search(r"https?://[^\"' ]*\{z\}", html)  # no tile URL template
    assert "No basemap" in html and "No data" in html and "Villages" in html
    desa = _columns(html)["desa"]
    row = hss.main.iloc[0]
    assert desa["t5"][0] == f"{int(row['jumlah_penduduk']):,}"
    assert "Inlined by povmap for offline use: topojson-client 3.1.0" in html


def test_unknown_basemap_is_an_input_error(hss):
    with pytest.raises(PovmapInputError, match="--tiles"):
        choropleth(hss.main, tiles="googlemaps")


def test_pockets_layer_with_categorical_legend(hss):
    codes = hss.main["kode_desa"].tolist()
    pockets = pd.DataFrame(
        {
            "kode_desa": codes[:6],
            "jenis_kantong": [
                "kantong",
                "kantong",
                "pencilan_tinggi",
                "tidak_signifikan",
                "tanpa_data",
                "dingin",
            ],
            "id_kantong": ["K01", "K01", None, None, None, None],
        }
    )
    html = choropleth(hss.main, pockets=pockets, tiles=None).get_root().render()
    columns = _columns(html)
    # One outline per pocket (K01's two desa dissolved), in legend order, no popup of its own.
    assert sorted(columns["kantong"]["k"]) == [0, 1, 2] and list(columns["kantong"]) == ["k"]
    # Every desa's popup (the desa layer) says its pocket status beside its numbers.
    assert columns["desa"]["t8"][:6] == [
        "Kantong kemiskinan (tinggi dikelilingi tinggi)",
        "Kantong kemiskinan (tinggi dikelilingi tinggi)",
        "Desa miskin di antara desa sejahtera",
        "Tidak membentuk kantong (tidak signifikan)",
        "Tidak ada data",
        "Kantong rendah (rendah dikelilingi rendah)",
    ]
    assert columns["desa"]["t8"][6] == "–"
    # Legend swatches are outlines with the map's stroke colour and dashes.
    assert 'stroke="#7a0177" stroke-width="3"/>' in html
    assert 'stroke="#2166ac" stroke-width="3" stroke-dasharray="6 4"/>' in html
    # Over a white casing, as on the map: a pocket outline stays visible on the darkest class.
    assert 'stroke="#ffffff" stroke-width="6"/>' in html
    assert "color: '#ffffff', weight: 6" in html
    assert '"Kantong kemiskinan"' in html
    assert "Desa miskin di antara desa sejahtera" in html  # the legend text of pencilan_tinggi


def test_kalsel_map_is_at_most_a_fifth_of_explore(tmp_path):
    raw = gpd.read_file(need(KALSEL_DESA))
    result = _result(tmp_path, raw, "kalsel")
    ours = inline_assets(choropleth(result.main, kecamatan=result.layers["kecamatan"], tiles=None))
    explore = result.main.explore().get_root().render()
    assert len(ours.encode()) <= len(explore.encode()) / 5
    assert len(_columns(ours)["desa"]["k"]) == 2008


def test_a_desa_kept_twice_still_gets_its_kecamatan_outline(tmp_path):
    # With --keep-duplicates a polygon stays under two codes, so the web layer overlaps there and
    # is no valid coverage; the kecamatan outlines (a coverage union) stopped the map with
    # "TopologyException: CoverageUnion cannot process incorrectly noded inputs". So did Kabupaten
    # Pemalang (33.27) of the national layer, and with it every Jawa Tengah province map.
    raw = gpd.read_file(need(HSS_DESA))
    twin = raw.iloc[[3]].copy()
    twin["kode"] = twin["kode"].str[:-4] + "2999"
    twin["nama"] = "Desa Kembar"
    raw = pd.concat([raw, twin], ignore_index=True)
    raw.to_file(tmp_path / "b.geojson")
    make_counts(raw, seed=7).to_csv(tmp_path / "b.csv", index=False)
    result = run(tmp_path / "b.geojson", tmp_path / "b.csv", Options(keep_duplicates=True))
    html = choropleth(result.main, kecamatan=result.layers["kecamatan"], tiles=None)
    page = html.get_root().render()
    topology = json.loads(re.search(r"var topology_data_\w+ = (.*?);\n", page).group(1))
    kecamatan = topology["objects"]["kecamatan"]["geometries"]
    assert len(kecamatan) == raw["nama_kec"].nunique()
    assert all(g.get("arcs") for g in kecamatan)  # every outline drawn, none empty


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.one_of(st.text(), st.integers(), st.floats(), st.none()), max_size=30),
    lang=st.sampled_from(["id", "en"]),
)
def test_tooltip_text_columns_escape_each_value(values, lang):
    """A text column's tooltips, computed a column at a time, are each value's escaped text
    (``&<>"'`` escaped wherever they are), an en dash when missing."""
    expected = [
        "–" if v is None or (isinstance(v, float) and math.isnan(v)) else escape(str(v))
        for v in values
    ]
    assert list(column_texts(pd.Series(values, dtype=object), "text", lang)) == expected


def test_tooltip_columns_of_every_kind_on_kalsel():
    """On the 2,008 desa of Kalimantan Selatan: the numbers as format_number/format_percent
    write each, the pocket and match words as the legend and labels name them."""
    names = gpd.read_file(need(KALSEL_DESA), ignore_geometry=True)["nama"]
    rng = np.random.default_rng(3)
    n = len(names)
    layer = pd.DataFrame(
        {
            "nama_desa": names.where(rng.random(n) > 0.05, None),
            "jumlah_penduduk": pd.array(rng.integers(-50, 2_000_000, n), dtype="Int64"),
            "persen_miskin_ekstrem": np.where(rng.random(n) > 0.1, rng.normal(5, 4, n), np.nan),
            "kepadatan_miskin_ekstrem": rng.integers(0, 10_000, n) / 200,  # many ties at .x5
            "jenis_kantong": rng.choice(["kantong", "dingin", "tidak_signifikan", "lain"], n),
            "cara_padan": rng.choice(["kode", "nama", "mirip"], n),
        }
    )
    layer.loc[:3, "jumlah_penduduk"] = [None, 0, -1, 1_234_567]
    for lang in ("id", "en"):
        fields, aliases, out = tooltip_frame(layer, tooltip_rows("desa"), lang)
        assert aliases == [escape(label(c, lang)) for c in layer.columns]
        got = {c: list(out[f]) for c, f in zip(layer.columns, fields, strict=True)}
        assert got["nama_desa"] == ["–" if pd.isna(v) else escape(v) for v in layer["nama_desa"]]
        assert got["jumlah_penduduk"] == [
            format_number(None if v is pd.NA else v, 0, lang) for v in layer["jumlah_penduduk"]
        ]
        assert got["jumlah_penduduk"][:4] == (
            ["–", "0", "-1", "1.234.567"] if lang == "id" else ["–", "0", "-1", "1,234,567"]
        )
        assert got["persen_miskin_ekstrem"] == [
            format_percent(v, 2, lang) for v in layer["persen_miskin_ekstrem"]
        ]
        assert got["kepadatan_miskin_ekstrem"] == [
            format_number(v, 1, lang) for v in layer["kepadatan_miskin_ekstrem"]
        ]
        assert got["jenis_kantong"] == [
            escape(category_label(v, lang)) for v in layer["jenis_kantong"]
        ]
        assert set(got["cara_padan"]) == {
            label(f"cara_padan:{v}", lang).removeprefix("cara_padan:")
            for v in ("kode", "nama", "mirip")
        }


def test_pocket_types_of_a_table_never_become_script(hss):
    # A pockets table from the Python API may name its own types. Their names went into the
    # outline style's script as its "colours": "</script>" ended the script (and the page ran
    # what followed), and a type such as "zona_merah" was stroked in no colour at all while the
    # legend showed it in tab10 blue.
    codes = hss.main["kode_desa"].tolist()
    hostile = "</script><script>window.__pwned=1</script>"
    pockets = pd.DataFrame(
        {"kode_desa": codes[:3], "jenis_kantong": [hostile, "zona_merah", "kantong"]}
    )
    html = choropleth(hss.main, pockets=pockets, tiles=None).get_root().render()
    assert hostile not in html
    # The style's palette is the legend's: known types first, others sorted, in tab10 colours.
    assert 'var pal = ["#7a0177", "#1f77b4", "#ff7f0e"];' in html
    assert 'stroke="#ff7f0e" stroke-width="3"/>' in html and "Zona merah" in html
