"""The Python API as an analyst uses it in a notebook: hand-built frames, inputs left untouched."""

from __future__ import annotations

import html
import json

import geopandas as gpd
import pandas as pd
import pytest
from conftest import HSS_DESA, KAYONG_DESA, invoke, make_counts, need

import povmap
from povmap.pockets import find_pockets


def test_hand_built_table_and_inputs_untouched(hss_raw):
    desa = povmap.read_boundaries(need(HSS_DESA)).gdf
    counts = make_counts(hss_raw, seed=11)  # no "baris": built in a notebook, not read from a file
    counts.loc[::3, "kode_wilayah"] = None  # a third of the rows must match by name
    counts["nama_desa"] = counts["nama_desa"].str.upper()
    before_desa, before_counts = desa.drop(columns="geometry").copy(), counts.copy()

    result = povmap.join(desa, counts)
    layer = povmap.classify(povmap.add_rates(result.joined)).gdf
    povmap.aggregate(layer, "kecamatan")
    find_pockets(layer, permutations=999)

    assert result.report.matched == 148 and result.report.matched_by["name"] >= 45
    assert sorted(layer["baris"]) == list(range(1, 149))  # rows numbered 1, 2, ... by position
    pd.testing.assert_frame_equal(desa.drop(columns="geometry"), before_desa)
    pd.testing.assert_frame_equal(counts, before_counts)


# --- explicit data between stages (#12) and the classified layer (#11) -------------------------


def _kayong(tmp_path, *, population: bool = True):
    raw = gpd.read_file(need(KAYONG_DESA))
    counts = make_counts(raw, seed=43)
    if not population:
        counts = counts.drop(columns="jumlah_penduduk")
    path = tmp_path / "kayong.csv"
    counts.to_csv(path, index=False)
    return path


def _wipe(frame):
    """What an analyst's pandas step may do: drop ``.attrs`` (concat, merge, to_parquet...)."""
    frame.attrs.clear()
    return frame


def test_clearing_attrs_between_stages_changes_nothing(tmp_path):
    table = _kayong(tmp_path)

    def stages(wipe):
        bounds = povmap.read_boundaries(need(KAYONG_DESA))
        counts = povmap.read_counts(table)
        wipe(bounds.gdf), wipe(counts.frame)
        joined = wipe(povmap.join(bounds, counts).joined)
        layer = wipe(povmap.add_rates(joined))
        kec = wipe(povmap.aggregate(layer, "kecamatan"))
        # Not the defaults: a stage that lost them would draw quantiles in five classes.
        classified = povmap.classify(layer, scheme="equal_interval", k=3)
        wipe(classified.gdf)
        html = povmap.choropleth(classified, kecamatan=kec, tiles=None).get_root().render()
        out = tmp_path / f"bundel_{wipe is _wipe}"
        povmap.export({"desa": classified, "kecamatan": kec}, out, boundary=bounds.source)
        return classified, html, out

    kept, kept_html, kept_out = stages(lambda frame: frame)
    wiped, wiped_html, wiped_out = stages(_wipe)
    assert wiped.classification == kept.classification
    assert wiped.classification.k == 3 and wiped.classification.scheme == "equal_interval"
    for text in wiped.classification.labels():
        assert f"</span>{html.escape(text)}</div>" in wiped_html
    # The same page but for folium's random element ids.
    assert len(wiped_html) == len(kept_html)
    files = sorted(p.name for p in kept_out.iterdir())
    assert files == sorted(p.name for p in wiped_out.iterdir()) and "desa.sld" in files
    for name in ("desa.sld", "desa.qml", "desa.geojson", "kamus_data.csv"):
        assert (kept_out / name).read_bytes() == (wiped_out / name).read_bytes(), name
    rules = (wiped_out / "desa.sld").read_text(encoding="utf-8").count("<sld:Rule>")
    assert rules == 3 + 1  # three classes and "Tidak ada data"
    # The boundary file's facts reach the metadata's lineage although no frame carries them.
    assert KAYONG_DESA.name in (wiped_out / "desa.xml").read_text(encoding="utf-8")


def test_choropleth_draws_the_classes_classify_gave(tmp_path):
    bounds = povmap.read_boundaries(need(KAYONG_DESA))
    layer = povmap.add_rates(povmap.join(bounds, povmap.read_counts(_kayong(tmp_path))).joined)
    classified = povmap.classify(layer, "jumlah_miskin_ekstrem", scheme="fisher_jenks", k=4)
    assert classified.column == "jumlah_miskin_ekstrem" and "kelas" in classified.gdf
    page = povmap.choropleth(classified, tiles=None).get_root().render()  # no column repeated
    for text in classified.classification.labels():
        assert f"</span>{html.escape(text)}</div>" in page
    assert "Penduduk miskin ekstrem (jiwa)" in page
    # A plain layer is classified on the default column, as before.
    plain = povmap.choropleth(layer, tiles=None).get_root().render()
    assert "Persentase penduduk miskin ekstrem" in plain


def test_classify_without_population_falls_back_as_the_cli_does(tmp_path):
    table = _kayong(tmp_path, population=False)
    bounds = povmap.read_boundaries(need(KAYONG_DESA))
    layer = povmap.add_rates(povmap.join(bounds, povmap.read_counts(table)).joined)
    assert "persen_miskin_ekstrem" not in layer.columns
    with pytest.warns(povmap.PovmapWarning) as caught:
        classified = povmap.classify(layer, "persen_miskin_ekstrem")
    # The first fallback with values: no population gives no persen_desil_1 either.
    assert classified.column == "jumlah_desil_1"
    assert classified.note == (
        "Tabel tidak memberi persen_miskin_ekstrem; yang dipetakan: jumlah_desil_1."
    )
    assert classified.note.en == (
        "The table does not give persen_miskin_ekstrem; mapped instead: jumlah_desil_1."
    )
    (warning,) = caught
    assert str(warning.message) == classified.note and warning.message.en == classified.note.en
    assert warning.filename == __file__  # points at the user's line, not into povmap
    # The CLI maps the same column with the same note, in its report and on the terminal.
    out = tmp_path / "peta.html"
    code, printed = invoke("map", need(KAYONG_DESA), table, "-o", out, "--tiles", "none")
    assert code == 0 and f"! {classified.note}" in printed
    manifest = json.loads(out.with_suffix(".manifest.json").read_text(encoding="utf-8"))
    assert classified.note in manifest["penggabungan"]["notes"]
    assert manifest["klasifikasi"]["column"] == "jumlah_desil_1"
    assert manifest["klasifikasi"]["bins"] == list(classified.classification.bins)
    # A column other than the default is never replaced: it is an error naming the columns.
    with pytest.raises(povmap.PovmapInputError, match="column='persen_desil_1' tidak ada"):
        povmap.classify(layer, "persen_desil_1")


def test_aggregate_and_pockets_take_what_classify_returns(tmp_path):
    bounds = povmap.read_boundaries(need(KAYONG_DESA))
    result = povmap.join(bounds, povmap.read_counts(_kayong(tmp_path)))
    layer = povmap.add_rates(result.joined)
    classified = povmap.classify(layer, scheme="quantiles", k=4)

    kec = povmap.aggregate(classified, "kecamatan")
    expected = povmap.aggregate(classified.gdf, "kecamatan")
    pd.testing.assert_frame_equal(kec.drop(columns="geometry"), expected.drop(columns="geometry"))
    assert kec["jumlah_miskin_ekstrem"].sum() == layer["jumlah_miskin_ekstrem"].sum()

    pockets = find_pockets(classified, permutations=999)
    same = find_pockets(classified.gdf, permutations=999)
    pd.testing.assert_frame_equal(
        pockets.desa.drop(columns="geometry"), same.desa.drop(columns="geometry")
    )
    assert len(pockets.desa) == len(layer)

    # Anything else is a clear error in both languages, naming the function and what it got.
    for function, name in ((povmap.aggregate, "aggregate"), (find_pockets, "find_pockets")):
        for wrong, kind in (
            (result, "JoinResult"),
            (pd.DataFrame(layer), "DataFrame"),
            (str(KAYONG_DESA), "str"),
        ):
            with pytest.raises(povmap.PovmapInputError) as caught:
                function(wrong)
            assert caught.value.key == "classify.layer_not_geodataframe"
            assert str(caught.value) == (
                f"{name}: lapisan harus GeoDataFrame desa atau hasil povmap.classify, bukan {kind}."
            )
            assert caught.value.en == (
                f"{name}: the layer must be a desa GeoDataFrame or the "
                f"result of povmap.classify, not {kind}."
            )
