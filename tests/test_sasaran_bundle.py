"""The targeting layer as a first-class geoportal layer (``povmap export --sasaran``): data
dictionary rows, shapefile under short names, SLD/QML drawing the map's first layer, ISO 19139
record, read back through GDAL as a geoportal would, suppressed, and free of personal data.

The register is generated (:mod:`make_registers`) on the real Hulu Sungai Selatan layer, DTSEN-like
(desil 1-10, so inclusion errors show), one row per family.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import subprocess
import xml.etree.ElementTree as ET
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from conftest import HSS_DESA, invoke, make_counts, need
from make_registers import all_bytes, make_register

import povmap
from povmap._messages import text as text_of
from povmap.classify import NO_DATA_COLOR
from povmap.i18n import label

SLD = "{http://www.opengis.net/sld}"
OGC = "{http://www.opengis.net/ogc}"
GMD = "{http://www.isotc211.org/2005/gmd}"
GCO = "{http://www.isotc211.org/2005/gco}"
SHP = "/vsizip/{}/sasaran_desa.shp"


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    raw = gpd.read_file(need(HSS_DESA))
    generated = make_register(raw, seed=21, level="keluarga", style="dtsen")
    folder = tmp_path_factory.mktemp("hss_register")
    path = folder / "dtsen_hss.csv"
    generated.register.to_csv(path, index=False)
    counts = folder / "rekap_hss.csv"
    make_counts(raw, seed=5).to_csv(counts, index=False)
    return generated, path, counts


def _export(register, out, *extra):
    generated, path, counts = register
    code, text = invoke(
        "export",
        HSS_DESA,
        counts,
        "-o",
        out,
        "--format",
        "geojson,gpkg,shp",
        "--sasaran",
        path,
        *extra,
    )
    assert code == 0, text
    return out


@pytest.fixture(scope="module")
def bundle(register, tmp_path_factory):
    return _export(register, tmp_path_factory.mktemp("hss_bundle") / "bundel")


@pytest.fixture(scope="module")
def public_bundle(register, tmp_path_factory):
    out = tmp_path_factory.mktemp("hss_public") / "bundel"
    return _export(register, out, "--suppress-below", "5", "--lang", "en")


@pytest.fixture(scope="module")
def result(register):
    return povmap.targeting(register[1], HSS_DESA)


def _ogr(*args: object) -> str:
    done = subprocess.run(
        ["ogrinfo", "-ro", *map(str, args)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _dictionary(out) -> pd.DataFrame:
    table = pd.read_csv(out / "kamus_data.csv", encoding="utf-8-sig", dtype=str)
    return table[table["lapisan"] == "sasaran_desa"].set_index("field")


def test_every_file_of_the_layer_is_written_and_listed(bundle):
    names = {
        "sasaran_desa.geojson",
        "sasaran.gpkg",
        "lokus.csv",
        "sasaran_desa.sld",
        "sasaran_desa.qml",
        "sasaran_desa.xml",
        "sasaran_desa_shp.zip",
    }
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert names <= {item["berkas"] for item in manifest["keluaran"]}
    with zipfile.ZipFile(bundle / "sasaran_desa_shp.zip") as archive:
        inside = set(archive.namelist())
    # GeoNode styles and describes a zipped shapefile with the SLD and XML beside it.
    assert {
        "sasaran_desa.shp",
        "sasaran_desa.dbf",
        "sasaran_desa.sld",
        "sasaran_desa.xml",
    } <= inside


def test_data_dictionary_describes_every_field_with_its_denominator(bundle, result):
    layer = gpd.read_file(bundle / "sasaran_desa.geojson")
    rows = _dictionary(bundle)
    columns = [c for c in layer.columns if c not in ("geometry", "id")]  # id: the feature id
    assert sorted(rows.index) == sorted(columns)
    assert not rows.index.duplicated().any()
    # Described, not just named: in Indonesian and in English.
    assert (rows["keterangan"] != rows.index).all() and (rows["description"] != rows.index).all()
    assert rows.loc["keluarga_sasaran", "satuan"] == "KK"
    assert rows.loc["keluarga_sasaran", "tipe"] == "Integer"
    assert rows.loc["program_diketahui", "tipe"] == "String"
    rates = result.rates()
    assert rates  # the register has rates to describe
    for rate, (count, denominator) in rates.items():
        row = rows.loc[rate]
        assert (row["tipe"], row["satuan"]) == ("Real", "%")
        short = rows.loc[denominator, "field_shp"]
        assert f"{count} (" in row["keterangan"]
        assert f"/ {denominator} ({short}) × 100" in row["keterangan"], rate
        assert f"/ {denominator} ({short}) × 100 (denominator:" in row["description"]
    # The README's definitions: exclusion over target families, inclusion over recipients.
    assert (
        "/ keluarga_sasaran (KK_SASARAN)" in rows.loc["persen_sasaran_tanpa_program", "keterangan"]
    )
    assert (
        "/ jumlah_penerima (JML_PNRM)"
        in rows.loc["persen_penerima_di_atas_desil_layak", "keterangan"]
    )
    assert rows.loc["keluarga_sasaran", "sumber"] == "Register by-name (dtsen_hss.csv)"


def test_shapefile_names_are_short_unique_and_read_back_with_the_right_values(
    bundle, register, result
):
    rows = _dictionary(bundle)
    short = rows["field_shp"]
    assert (short.str.len() <= 10).all()
    assert not short.str.upper().duplicated().any()
    shp = pyogrio.read_dataframe(SHP.format(bundle / "sasaran_desa_shp.zip"))
    assert [c for c in shp.columns if c != "geometry"] == list(short)
    truth = register[0].truth
    # A desa with target families, some of them excluded: its numbers in the shapefile.
    known = truth[(truth["keluarga_sasaran"] > 0) & (truth["keluarga_sasaran_tanpa_program"] > 0)]
    code = known.index[0]
    row = shp[shp["KDEPUM"] == code].iloc[0]
    assert row["KK_SASARAN"] == truth.at[code, "keluarga_sasaran"]
    assert row["KK_TANPA"] == truth.at[code, "keluarga_sasaran_tanpa_program"]
    expected = (
        100 * truth.at[code, "keluarga_sasaran_tanpa_program"] / truth.at[code, "keluarga_sasaran"]
    )
    assert row["PRS_TANPA"] == pytest.approx(round(expected, 4), abs=1e-9)
    desa = result.desa.set_index("kode_desa")
    assert row["WADMKD"] == desa.at[code, "nama_desa"]
    # ogrinfo (GDAL's own reader) sees the same fields and value.
    text = _ogr(
        f"/vsizip/{bundle / 'sasaran_desa_shp.zip'}", "sasaran_desa", "-where", f"KDEPUM='{code}'"
    )
    assert "Feature Count: 1" in text or "OGRFeature(sasaran_desa):" in text
    assert re.search(
        rf"KK_SASARAN \(Integer64\) = {int(truth.at[code, 'keluarga_sasaran'])}\n", text
    )


def test_geojson_and_geopackage_read_through_gdal(bundle, register):
    truth = register[0].truth
    code = truth.index[truth["keluarga_sasaran"] > 0][0]
    for source, layer in (
        (bundle / "sasaran_desa.geojson", "sasaran_desa"),
        (bundle / "sasaran.gpkg", "sasaran_desa"),
    ):
        summary = _ogr("-so", source, layer)
        assert f"Feature Count: {len(truth)}" in summary
        assert "kelas: Integer" in summary and "persen_sasaran_tanpa_program: Real" in summary
        found = _ogr(source, layer, "-where", f"kode_desa='{code}'")
        n = int(truth.at[code, "keluarga_sasaran"])
        assert re.search(rf"keluarga_sasaran \((Real|Integer64?)\) = {n}(\.0+)?\n", found), source


def _first_measure(result) -> tuple[str, object]:
    """The map's first layer, as the HTML map chooses it: the first measure with a value."""
    from povmap.targeting import measure_classes, measures

    kind, column = next((k, c) for k, c in measures(result) if result.desa[c].notna().any())
    return column, measure_classes(result.desa[column], column, kind)


def test_styles_draw_the_classes_of_the_first_map_layer(bundle, result, register, tmp_path):
    column, classes = _first_measure(result)
    assert column == "persen_sasaran_tanpa_program"
    root = ET.parse(bundle / "sasaran_desa.sld").getroot()
    rules = root.findall(f".//{SLD}Rule")
    assert len(rules) == classes.k + 1  # the classes and "Tidak ada data"
    fills = [r.find(f".//{SLD}Fill/{SLD}CssParameter[@name='fill']").text for r in rules]
    assert fills == [*classes.colors, classes.no_data_color]
    assert {e.text for e in root.iter(f"{OGC}PropertyName")} == {"kelas"}
    qml = ET.parse(bundle / "sasaran_desa.qml").getroot()
    renderer = qml.find("renderer-v2")
    assert renderer.get("attr") == "kelas"
    assert len(renderer.findall("categories/category")) == len(rules)
    # Every desa's class is the class of its value, in every format.
    layer = gpd.read_file(bundle / "sasaran_desa.geojson")
    assert (layer["kelas"].to_numpy() == classes.assign(layer[column])).all()
    shp = pyogrio.read_dataframe(SHP.format(bundle / "sasaran_desa_shp.zip"))
    assert (shp["kelas"].to_numpy() == layer["kelas"].to_numpy()).all()
    # The HTML map of the same register draws its first layer in the same colours.
    out = tmp_path / "peta"
    code, text = invoke("sasaran", HSS_DESA, register[1], "-o", out, "--tiles", "none")
    assert code == 0, text
    page = (out / "sasaran.html").read_text(encoding="utf-8")
    assert all(colour.lower() in page.lower() for colour in classes.colors)
    # ... and labels: the legend's entries are the SLD's rule titles, with the unit.
    titles = [r.find(f"{SLD}Title").text for r in rules]
    zero = text_of("classify.zero")
    for title in titles[: classes.k]:
        shown = title if title == zero else f"{title} %"
        assert f">{html.escape(shown)}</div>" in page, shown
    assert re.search(r"\d,\d\d", titles[classes.k - 1])  # rates to 2 decimals, as written


def test_a_layer_without_any_known_measure_has_no_classes_and_kelas_minus_one(result, tmp_path):
    from povmap.export.sasaran import bundle_layer

    rates = list(result.rates())
    blank = dataclasses.replace(result, desa=result.desa.assign(**dict.fromkeys(rates, np.nan)))
    layer, classes = bundle_layer(blank)
    assert classes is None and (layer["kelas"] == -1).all()
    assert list(layer.columns[-2:]) == ["kelas", "geometry"]


def test_styles_are_written_when_suppression_blanks_every_class(register, tmp_path):
    # Every register count of a desa is under 10 (the poverty counts are not): no desa keeps a
    # targeting rate, every kelas is -1.
    out = _export(register, tmp_path / "bundel", "--suppress-below", "10")
    layer = gpd.read_file(out / "sasaran_desa.geojson")
    assert len(layer) > 100 and (layer["kelas"] == -1).all()
    root = ET.parse(out / "sasaran_desa.sld").getroot()
    rules = root.findall(f".//{SLD}Rule")
    assert [r.find(f"{SLD}Title").text for r in rules] == [label("no_data")]
    assert rules[0].find(f".//{SLD}Fill/{SLD}CssParameter[@name='fill']").text == NO_DATA_COLOR
    assert rules[0].find(f".//{OGC}Literal").text == "-1"
    renderer = ET.parse(out / "sasaran_desa.qml").getroot().find("renderer-v2")
    assert [c.get("value") for c in renderer.findall("categories/category")] == ["-1"]
    with zipfile.ZipFile(out / "sasaran_desa_shp.zip") as z:
        assert "sasaran_desa.sld" in z.namelist()
    listed = json.dumps(json.loads((out / "manifest.json").read_text(encoding="utf-8")))
    assert "sasaran_desa.sld" in listed and "sasaran_desa.qml" in listed


def test_iso_record_names_what_the_rates_rest_on_and_the_register(bundle, register):
    path = register[1]
    root = ET.parse(bundle / "sasaran_desa.xml").getroot()
    texts = [e.text or "" for e in root.iter(f"{GCO}CharacterString")]
    title = root.find(f".//{GMD}citation//{GMD}title/{GCO}CharacterString").text
    abstract = root.find(f".//{GMD}abstract/{GCO}CharacterString").text
    lineage = root.find(f".//{GMD}statement/{GCO}CharacterString").text
    assert title.startswith("Sasaran program per desa/kelurahan") and "Hulu Sungai Selatan" in title
    assert (
        "persen_sasaran_tanpa_program = keluarga_sasaran_tanpa_program / keluarga_sasaran"
        in abstract
    )
    assert "dtsen_hss.csv" in abstract
    import hashlib

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert f"dtsen_hss.csv (SHA-256 {digest})" in lineage
    assert HSS_DESA.name in lineage
    box = root.find(f".//{GMD}EX_GeographicBoundingBox")
    west = float(box.find(f"{GMD}westBoundLongitude/{GCO}Decimal").text)
    north = float(box.find(f"{GMD}northBoundLatitude/{GCO}Decimal").text)
    bounds = gpd.read_file(bundle / "sasaran_desa.geojson").total_bounds
    assert west == pytest.approx(bounds[0], abs=1e-5) and north == pytest.approx(
        bounds[3], abs=1e-5
    )
    # Its own record: not the desa poverty layer's identifier.
    desa = ET.parse(bundle / "desa.xml").getroot()
    ident = f"{GMD}fileIdentifier/{GCO}CharacterString"
    assert root.find(ident).text != desa.find(ident).text
    assert "sasaran_desa_shp.zip" in texts and "sasaran.gpkg" in texts


def test_public_bundle_is_suppressed_in_every_new_file_and_in_english(public_bundle, register):
    out = public_bundle
    frames = {
        "geojson": gpd.read_file(out / "sasaran_desa.geojson"),
        "gpkg": gpd.read_file(out / "sasaran.gpkg", layer="sasaran_desa"),
        "lokus": pd.read_csv(out / "lokus.csv"),
    }
    shp = pyogrio.read_dataframe(SHP.format(out / "sasaran_desa_shp.zip"))
    rows = _dictionary(out)
    counts = rows[(rows["tipe"] == "Integer") & rows["satuan"].isin(["KK", "entri"])]
    frames["shp"] = shp[list(counts["field_shp"])]
    for name, frame in frames.items():
        columns = [c for c in frame.columns if c in counts.index or c in set(counts["field_shp"])]
        assert columns, name
        values = frame[columns].to_numpy(dtype=float)
        assert not ((values >= 1) & (values < 5)).any(), name
    assert (shp["disamarkan"] == 1).sum() == frames["geojson"]["disamarkan"].sum() > 0
    # The styles and the record follow --lang en, and say what was blanked.
    root = ET.parse(out / "sasaran_desa.xml").getroot()
    abstract = root.find(f".//{GMD}abstract/{GCO}CharacterString").text
    assert abstract.startswith("Programme targeting in") and "(disamarkan = 1)" in abstract
    titles = [t.text for t in ET.parse(out / "sasaran_desa.sld").getroot().iter(f"{SLD}Title")]
    assert "No data" in titles


@pytest.mark.parametrize("which", ["bundle", "public_bundle"])
def test_no_planted_personal_data_in_any_byte_of_the_bundle(which, request, register):
    generated = register[0]
    assert len(generated.pii) > 100  # NIKs, KK numbers, names, addresses, phones
    files = all_bytes(request.getfixturevalue(which))
    assert any(name == "sasaran_desa_shp.zip:sasaran_desa.dbf" for name, _ in files)
    leaks = [(n, v) for v in generated.pii for n, data in files if v.encode() in data]
    assert leaks == []
