"""Boundary files as offices really have them (issue #10 kinds 2-6, #9 kind 8, boundary part).

Each test builds its input in tmp_path from a real boundary file of another kabupaten than the
handed case, and asserts the right values: names exactly, geometry non-empty with the same area,
or an error naming the file and the option that fixes it.
"""

from __future__ import annotations

import json
import re
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import KAYONG_DESA, KONSEL_DESA, LAHAT_DESA, invoke, make_counts, need

import povmap
from povmap.boundaries import CANONICAL, DBF_FIELD_LENGTH
from povmap.pipeline import Options, run


@pytest.fixture(scope="module")
def lahat() -> gpd.GeoDataFrame:
    return povmap.read_boundaries(need(LAHAT_DESA)).gdf


def lahat_counts(tmp_path) -> str:
    path = tmp_path / "jumlah.csv"
    make_counts(gpd.read_file(need(LAHAT_DESA))).to_csv(path, index=False)
    return path


def utm_without_crs(lahat, path, epsg=32748):
    """Lahat in UTM metres written as GeoJSON with no crs member (read as lon/lat by GDAL)."""
    lahat.to_crs(epsg).set_crs(None, allow_override=True).drop(columns="luas_km2").to_file(path)
    assert '"crs"' not in path.read_text()[:500]
    return path


# --- #10.2 coordinates that are not lon/lat ------------------------------------------------------


def test_utm_geojson_without_crs_stops_naming_the_zone(lahat, tmp_path):
    path = utm_without_crs(lahat, tmp_path / "lahat_utm.geojson")
    with pytest.raises(povmap.PovmapInputError) as err:
        povmap.read_boundaries(path)
    text = str(err.value)
    assert str(path) in text and "bukan lon/lat" in text and "meter" in text
    # Lahat lies in UTM zone 48S: the one candidate that puts it inside Sumatera Selatan.
    assert "Kemungkinan: EPSG:32748 (WGS 84 / UTM zone 48S)." in text
    assert "--crs EPSG:32748" in text
    assert "--crs EPSG:32748" in err.value.message("en") and "metres" in err.value.message("en")


def test_crs_option_reads_utm_geojson_to_the_same_areas(lahat, tmp_path):
    path = utm_without_crs(lahat, tmp_path / "lahat_utm.geojson")
    bounds = povmap.read_boundaries(path, crs="EPSG:32748")
    assert bounds.source.source_crs == "EPSG:32748 (--crs)"
    assert not bounds.gdf.geometry.is_empty.any() and bounds.gdf.geometry.notna().all()
    assert list(bounds.gdf["kode_desa"]) == list(lahat["kode_desa"])
    assert np.allclose(bounds.gdf["luas_km2"], lahat["luas_km2"], rtol=1e-6)
    assert bounds.gdf.total_bounds == pytest.approx(lahat.total_bounds, abs=1e-6)


def test_cli_on_utm_without_crs_stops_and_writes_nothing(lahat, tmp_path):
    path = utm_without_crs(lahat, tmp_path / "lahat_utm.geojson")
    counts = lahat_counts(tmp_path)
    for command, out in (("map", tmp_path / "peta.html"), ("export", tmp_path / "bundel")):
        code, text = invoke(command, path, counts, "-o", out, "--lang", "en")
        assert code == 1, text
        assert "lahat_utm.geojson" in text and "--crs EPSG:32748" in text
        assert "Unexpected" not in text and not out.exists()
    code, text = invoke("export", path, counts, "-o", tmp_path / "bundel", "--crs", "EPSG:32748")
    assert code == 0, text
    desa = gpd.read_file(tmp_path / "bundel" / "desa.geojson")
    assert len(desa) == 378 and not desa.geometry.is_empty.any()


def test_wrong_utm_zone_is_refused(lahat, tmp_path):
    path = utm_without_crs(lahat, tmp_path / "lahat_utm.geojson")
    with pytest.raises(povmap.PovmapInputError) as err:
        povmap.read_boundaries(path, crs="EPSG:32750")  # two zones too far east
    text = str(err.value)
    assert str(path) in text and "di luar provinsi 16" in text
    assert "Kemungkinan: EPSG:32748" in text


def test_swapped_lat_lon_is_named(lahat, tmp_path):
    swapped = lahat.drop(columns="luas_km2").copy()
    swapped["geometry"] = shapely.transform(swapped.geometry.values, lambda xy: xy[:, ::-1])
    path = tmp_path / "tertukar.geojson"
    swapped.to_file(path)
    with pytest.raises(povmap.PovmapInputError) as err:
        povmap.read_boundaries(path)
    assert str(path) in str(err.value) and "tertukar" in str(err.value)
    assert "look swapped" in err.value.message("en")
    code, text = invoke("map", path, lahat_counts(tmp_path), "-o", tmp_path / "p.html")
    assert code == 1 and "tertukar" in text and "tak terduga" not in text


def test_degrees_labelled_as_utm_are_refused(lahat, tmp_path):
    path = tmp_path / "salah_prj.gpkg"
    lahat.drop(columns="luas_km2").set_crs(32748, allow_override=True).to_file(path)
    with pytest.raises(povmap.PovmapInputError, match="--crs EPSG:4326") as err:
        povmap.read_boundaries(path)
    assert "salah_prj.gpkg" in str(err.value)


# --- #9.8 damaged files: absurd coordinates, incomplete shapefiles -------------------------------


@pytest.mark.parametrize("token", ["1e308", "Infinity", "NaN", "1e30"])
def test_absurd_coordinates_stop_with_a_clear_message(token, tmp_path):
    text = need(LAHAT_DESA).read_text()
    second = re.search(r"\[\[\[-?[\d.]+,-?[\d.]+\],\[([\d.]+)", text)
    path = tmp_path / "rusak.geojson"
    path.write_text(text[: second.start(1)] + token + text[second.end(1) :])
    code, out = invoke("export", path, lahat_counts(tmp_path), "-o", tmp_path / "bundel")
    assert code == 1, out
    assert "rusak.geojson: 1 fitur berisi koordinat yang mustahil" in out
    assert "fitur ke-1 (16.04.01.2001)" in out
    assert "Warning" not in out and not (tmp_path / "bundel").exists()


def konsel_shapefile(folder, **kwargs):
    gdf = gpd.read_file(need(KONSEL_DESA))
    folder.mkdir(exist_ok=True)
    gdf.to_file(folder / "batas.shp", **kwargs)
    return gdf, folder / "batas.shp"


@pytest.mark.parametrize("missing", ["shp", "shx", "dbf"])
def test_zipped_shapefile_missing_a_part_is_named(missing, tmp_path):
    _, shp = konsel_shapefile(tmp_path / "shp")
    path = tmp_path / "batas.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in shp.parent.iterdir():
            if part.suffix != f".{missing}":
                archive.write(part, f"BATAS DESA/{part.name}")
    with pytest.raises(povmap.PovmapInputError) as err:
        povmap.read_boundaries(path)
    text = str(err.value)
    assert str(path) in text
    if missing == "shp":
        assert "tidak berisi berkas .shp" in text and "BATAS DESA/batas.dbf" in text
    else:
        assert f"tidak ada BATAS DESA/batas.{missing}" in text
    shp.with_suffix(f".{missing}").unlink()
    if missing != "shp":
        with pytest.raises(povmap.PovmapInputError, match=f"tidak ada .*batas.{missing}"):
            povmap.read_boundaries(shp)


# --- #10.3 shapefile text encoding ---------------------------------------------------------------


def with_typographic_names(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    out.loc[0, "nama"] = "Lapoa’"  # noqa: RUF001 - the typographic apostrophe is the point
    out.loc[1, "nama"] = "Tinanggea – Seberang"  # noqa: RUF001
    out.loc[2, "nama_kec"] = "Café"
    return out


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8"])
def test_dbf_without_cpg_is_read_in_its_encoding(encoding, tmp_path):
    gdf = with_typographic_names(gpd.read_file(need(KONSEL_DESA)))
    shp = tmp_path / "batas.shp"
    gdf.to_file(shp, encoding=encoding)
    shp.with_suffix(".cpg").unlink()
    assert shp.with_suffix(".dbf").read_bytes()[29] == 0  # no language driver either
    read = povmap.read_boundaries(shp)
    by_code = read.gdf.set_index("kode_desa")
    codes = gdf["kode"]
    assert by_code.loc[codes[0], "nama_desa"] == "Lapoa’"  # noqa: RUF001
    assert by_code.loc[codes[1], "nama_desa"] == "Tinanggea – Seberang"  # noqa: RUF001
    assert by_code.loc[codes[2], "nama_kecamatan"] == "Café"
    info = read.source
    assert info.encoding == encoding.upper()
    assert any(
        f"dibaca sebagai {encoding.upper()}" in note and "--encoding" in note for note in info.notes
    )


def test_encoding_option_overrides_and_wrong_text_never_passes(tmp_path):
    gdf = with_typographic_names(gpd.read_file(need(KONSEL_DESA)))
    shp = tmp_path / "batas.shp"
    gdf.to_file(shp, encoding="cp1252")
    shp.with_suffix(".cpg").unlink()
    # Read as ISO-8859-1 the apostrophe becomes the control character \x92: refused, not shown.
    with pytest.raises(povmap.PovmapInputError) as err:
        povmap.read_boundaries(shp, encoding="ISO-8859-1")
    text = str(err.value)
    assert "batas.shp" in text and "nama_desa" in text and "--encoding" in text
    assert r"'Lapoa\x92'" in text
    gdf = povmap.read_boundaries(shp, encoding="cp1252").gdf
    assert gdf.loc[0, "nama_desa"] == "Lapoa’"  # noqa: RUF001


def test_cli_names_the_guessed_encoding(tmp_path):
    gdf = with_typographic_names(gpd.read_file(need(KONSEL_DESA)))
    shp = tmp_path / "batas.shp"
    gdf.to_file(shp, encoding="cp1252")
    shp.with_suffix(".cpg").unlink()
    counts = tmp_path / "jumlah.csv"
    make_counts(gdf).to_csv(counts, index=False)
    out = tmp_path / "gabung.geojson"
    code, text = invoke("join", shp, counts, "-o", out, "--report", tmp_path / "r.json")
    assert code == 0, text
    assert "batas.dbf tanpa berkas .cpg: teksnya dibaca sebagai CP1252" in text
    names = set(gpd.read_file(out)["nama_desa"])
    assert "Lapoa’" in names and not any("\x92" in n or "\ufffd" in n for n in names)  # noqa: RUF001
    report = json.loads((tmp_path / "r.json").read_text())
    assert any("CP1252" in note for note in report["notes"])


def test_replacement_characters_in_a_geojson_name_are_refused(tmp_path):
    gdf = gpd.read_file(need(KONSEL_DESA))
    gdf.loc[5, "nama"] = "Lapoa\ufffd"
    path = tmp_path / "batas.geojson"
    gdf.to_file(path)
    with pytest.raises(povmap.PovmapInputError, match=r"fitur ke-6 \(74\.05\.\d\d\.\d{4}: "):
        povmap.read_boundaries(path)


# --- #10.4 truncated shapefile field names -------------------------------------------------------


def test_truncated_field_names_are_recognised(tmp_path):
    kayong = povmap.read_boundaries(need(KAYONG_DESA)).gdf
    shp = tmp_path / "kayong.shp"
    kayong.to_file(shp)  # geopandas cuts nama_kecamatan to nama_kecam ...
    fields = pyogrio.read_info(shp)["fields"].tolist()
    assert "nama_kecam" in fields and "kode_provi" in fields
    bounds = povmap.read_boundaries(shp)
    mapping = bounds.source.columns
    for canonical in CANONICAL["desa"]:
        assert mapping[canonical] == canonical[:DBF_FIELD_LENGTH]
    pd.testing.assert_frame_equal(bounds.gdf[CANONICAL["desa"]], kayong[CANONICAL["desa"]])
    assert bounds.source.notes == []


def test_names_only_table_joins_to_truncated_shapefile(tmp_path):
    kayong = povmap.read_boundaries(need(KAYONG_DESA)).gdf
    shp = tmp_path / "kayong.shp"
    kayong.to_file(shp)
    counts = make_counts(gpd.read_file(need(KAYONG_DESA))).drop(columns="kode_wilayah")
    path = tmp_path / "nama_saja.csv"
    counts.to_csv(path, index=False)
    result = run(shp, path, Options())
    assert result.report.matched == 43
    assert result.main["nama_kecamatan"].notna().all()


def test_missing_name_column_says_what_was_there(tmp_path):
    kayong = povmap.read_boundaries(need(KAYONG_DESA)).gdf
    path = tmp_path / "tanpa_nama_kec.gpkg"
    kayong.drop(columns=["nama_kecamatan", "luas_km2"]).rename(
        columns={"nama_desa": "NAMA"}
    ).to_file(path)
    bounds = povmap.read_boundaries(path)
    assert bounds.gdf["nama_kecamatan"].isna().all()
    (note,) = [n for n in bounds.source.notes if "nama_kecamatan" in n]
    assert "tidak ditemukan untuk nama_kecamatan, nama_desa (" in note  # both missing, named
    assert "nama_kec, nama_kecamatan, kecamatan, nama_kecam;" in note  # what was looked for
    present = note.split("kolom yang ada: ")[1].split(".")[0].split(", ")
    assert {"kode_desa", "NAMA", "kode_kecamatan", "jenis"} <= set(present)
    assert "--columns nama_kecamatan=" in note


# --- #10.5 layers and tables in one file ---------------------------------------------------------


def two_editions(tmp_path):
    gdf = gpd.read_file(need(KONSEL_DESA))
    path = tmp_path / "batas.gpkg"
    pyogrio.write_dataframe(
        pd.DataFrame({"catatan": ["rekap"]}), path, layer="a_rekap", driver="GPKG"
    )
    gdf.to_file(path, layer="batas_desa_2019")
    newer = gdf.copy()
    newer.loc[0, "nama"] = "Lapoa Baru"
    newer.to_file(path, layer="batas_desa_2023")
    return path


def test_two_boundary_layers_stop_listing_them(tmp_path):
    path = two_editions(tmp_path)
    with pytest.raises(povmap.PovmapInputError) as err:
        povmap.read_boundaries(path)
    text = str(err.value)
    assert str(path) in text and "(batas_desa_2019, batas_desa_2023)" in text
    assert "--layer" in text and "a_rekap" not in text
    gdf = povmap.read_boundaries(path, layer="batas_desa_2023").gdf
    assert gdf.loc[0, "nama_desa"] == "Lapoa Baru" and len(gdf) == 351


def test_table_without_geometry_is_skipped_with_a_note(tmp_path):
    gdf = gpd.read_file(need(KONSEL_DESA))
    path = tmp_path / "batas.gpkg"
    pyogrio.write_dataframe(
        pd.DataFrame({"catatan": ["rekap"]}), path, layer="a_rekap", driver="GPKG"
    )
    gdf.to_file(path, layer="desa")
    read = povmap.read_boundaries(path)
    assert len(read.gdf) == 351 and read.source.layer == "desa"
    assert any("tabel tanpa geometri dilewati: a_rekap" in n for n in read.source.notes)
    with pytest.raises(povmap.PovmapInputError, match=r"\(layer a_rekap\): tidak berisi geometri"):
        povmap.read_boundaries(path, layer="a_rekap")


def test_cli_on_two_editions_exits_1_listing_layers(tmp_path):
    path = two_editions(tmp_path)
    counts = tmp_path / "jumlah.csv"
    make_counts(gpd.read_file(need(KONSEL_DESA))).to_csv(counts, index=False)
    code, text = invoke("join", path, counts, "-o", tmp_path / "g.gpkg")
    assert code == 1 and "batas_desa_2019, batas_desa_2023" in text and "--layer" in text
    code, text = invoke(
        "join", path, counts, "-o", tmp_path / "g.gpkg", "--layer", "batas_desa_2019"
    )
    assert code == 0, text


def test_a_feature_collection_is_read_without_listing_its_one_layer(tmp_path, monkeypatch):
    # Listing a GeoJSON parses the whole file (0.07 s for Kalimantan Selatan) before reading
    # parses it again; a FeatureCollection is one layer, so it is not listed (issue 15).
    listed = []
    original = pyogrio.list_layers
    monkeypatch.setattr(pyogrio, "list_layers", lambda path: listed.append(path) or original(path))
    read = povmap.read_boundaries(need(KAYONG_DESA))
    assert listed == [] and len(read.gdf) == 43
    # The same file with its type written after its features: listed, and read the same.
    data = json.loads(need(KAYONG_DESA).read_text(encoding="utf-8"))
    late = tmp_path / "late.geojson"
    late.write_text(json.dumps({k: data[k] for k in sorted(data)}), encoding="utf-8")
    assert list(data)[0] == "type" and sorted(data)[-1] == "type"
    again = povmap.read_boundaries(late)
    assert len(listed) == 1
    pd.testing.assert_frame_equal(again.gdf, read.gdf)
    assert (again.source.layer, again.source.notes) == (read.source.layer, read.source.notes)


def test_a_topojson_of_two_layers_is_listed_and_refused(tmp_path):
    # GDAL reads each TopoJSON object as a layer: povmap does not guess which one is meant.
    arcs = [[[0, 0], [1, 0], [1, 1], [0, 0]]]
    polygon = {"type": "Polygon", "arcs": [[0]], "properties": {"kode": "63.06.01.2001"}}
    objects = {name: {"type": "GeometryCollection", "geometries": [polygon]} for name in "ab"}
    path = tmp_path / "dua.json"
    path.write_text(json.dumps({"type": "Topology", "objects": objects, "arcs": arcs}))
    with pytest.raises(povmap.PovmapInputError) as err:
        povmap.read_boundaries(path)
    assert "(a, b)" in str(err.value) and "--layer b" in str(err.value)


# --- #10.6 duplicates, overlaps, Z ---------------------------------------------------------------


def test_same_polygon_under_two_codes_is_reported_and_kept_out(lahat, tmp_path):
    raw = gpd.read_file(need(LAHAT_DESA))
    copy = raw.iloc[[0]].copy()
    copy["kode"] = "16.04.01.2099"
    copy["nama"] = "Salinan"
    path = tmp_path / "ganda.geojson"
    gpd.GeoDataFrame(pd.concat([raw, copy]), crs=raw.crs).to_file(path)
    bounds = povmap.read_boundaries(path)
    info = bounds.source
    assert info.duplicates == [("16.04.01.2001", "16.04.01.2099")]
    assert "16.04.01.2099" not in set(bounds.gdf["kode_desa"]) and len(bounds.gdf) == 378
    assert any(
        "16.04.01.2001 = 16.04.01.2099" in n and "--keep-duplicates" in n for n in info.notes
    )
    # The kecamatan keeps its true area and desa count.
    counts = tmp_path / "jumlah.csv"
    make_counts(raw).to_csv(counts, index=False)
    kecamatan = run(path, counts).layers["kecamatan"].set_index("kode_kecamatan")
    truth = lahat[lahat["kode_kecamatan"] == "16.04.01"]
    assert kecamatan.loc["16.04.01", "jumlah_desa"] == len(truth)
    assert kecamatan.loc["16.04.01", "luas_km2"] == pytest.approx(truth["luas_km2"].sum())
    kept = povmap.read_boundaries(path, keep_duplicates=True)
    assert len(kept.gdf) == 379 and kept.source.duplicates == info.duplicates


def test_overlapping_desa_are_reported_with_both_codes(tmp_path):
    raw = gpd.read_file(need(LAHAT_DESA))
    path = tmp_path / "tumpang.geojson"
    # Real Lahat has no overlap above 5 % (its largest is 4.3 %): nothing reported.
    assert povmap.read_boundaries(need(LAHAT_DESA)).source.overlaps == []
    moved = raw.copy()
    neighbour = moved.set_index("kode").loc["16.04.01.2002", "geometry"]
    target = moved.index[moved["kode"] == "16.04.01.2001"][0]
    moved.loc[target, "geometry"] = moved.loc[target, "geometry"].union(neighbour.buffer(-0.001))
    moved.to_file(path)
    info = povmap.read_boundaries(path).source
    ((a, b, share),) = info.overlaps
    assert (a, b) == ("16.04.01.2001", "16.04.01.2002") and share > 0.5
    assert info.duplicates == []
    assert any("16.04.01.2001 & 16.04.01.2002" in n for n in info.notes)


def test_z_coordinates_are_dropped_with_a_note(tmp_path):
    raw = gpd.read_file(need(KAYONG_DESA))
    flat = povmap.read_boundaries(need(KAYONG_DESA)).gdf
    raw["geometry"] = shapely.force_3d(raw.geometry.values, z=12.5)
    path = tmp_path / "z.gpkg"
    raw.to_file(path)
    assert "Z" in pyogrio.read_info(path)["geometry_type"]
    bounds = povmap.read_boundaries(path)
    assert not shapely.has_z(bounds.gdf.geometry.values).any()
    assert np.allclose(bounds.gdf["luas_km2"], flat["luas_km2"])
    assert any("43 fitur punya koordinat Z" in n for n in bounds.source.notes)
    counts = tmp_path / "jumlah.csv"
    make_counts(gpd.read_file(need(KAYONG_DESA))).to_csv(counts, index=False)
    code, text = invoke("join", path, counts, "-o", tmp_path / "g.gpkg")
    assert code == 0, text
    assert pyogrio.read_info(tmp_path / "g.gpkg", layer="desa")["geometry_type"] in (
        "MultiPolygon",
        "Polygon",
    )


def test_nothing_matched_names_the_missing_name_columns(tmp_path):
    kayong = povmap.read_boundaries(need(KAYONG_DESA)).gdf
    path = tmp_path / "tanpa_nama.gpkg"
    kayong.drop(columns=["nama_desa", "nama_kecamatan", "luas_km2"]).to_file(path)
    counts = make_counts(gpd.read_file(need(KAYONG_DESA))).drop(columns="kode_wilayah")
    table = tmp_path / "nama_saja.csv"
    counts.to_csv(table, index=False)
    code, text = invoke("join", path, table, "-o", tmp_path / "g.gpkg")
    assert code == 1
    assert "tidak punya kolom nama untuk nama_kecamatan, nama_desa" in text
    assert "--columns" in text


def test_kept_duplicate_is_never_emptied_on_the_web_map(tmp_path):
    from povmap.simplify import simplify_coverage

    raw = gpd.read_file(need(LAHAT_DESA))
    copy = raw.iloc[[0]].copy()
    copy["kode"] = "16.04.01.2099"
    path = tmp_path / "ganda.geojson"
    gpd.GeoDataFrame(pd.concat([raw, copy]), crs=raw.crs).to_file(path)
    gdf = povmap.read_boundaries(path, keep_duplicates=True).gdf
    web = simplify_coverage(gdf).set_index("kode_desa")
    assert not (web.geometry.is_empty | web.geometry.isna()).any()
    original = gdf.set_index("kode_desa").to_crs(32748).area
    area = web.to_crs(32748).area
    assert area["16.04.01.2099"] == pytest.approx(original["16.04.01.2099"], rel=1e-3)


def test_encoding_option_leaves_utf8_formats_alone(tmp_path):
    gdf = with_typographic_names(gpd.read_file(need(KONSEL_DESA)))
    path = tmp_path / "batas.gpkg"
    gdf.to_file(path)
    read = povmap.read_boundaries(path, encoding="cp1252")
    assert read.gdf.loc[0, "nama_desa"] == "Lapoa’"  # noqa: RUF001 - not "Lapoaâ€™"
    assert read.source.encoding is None
    assert any("--encoding cp1252 diabaikan" in n for n in read.source.notes)


def test_zipped_cp1252_shapefile_without_cpg(tmp_path):
    gdf = with_typographic_names(gpd.read_file(need(KONSEL_DESA)))
    folder = tmp_path / "shp"
    folder.mkdir()
    gdf.to_file(folder / "batas.shp", encoding="cp1252")
    path = tmp_path / "batas.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in folder.iterdir():
            if part.suffix != ".cpg":
                archive.write(part, f"BATAS DESA/{part.name}")
    read = povmap.read_boundaries(path)
    assert read.gdf.loc[1, "nama_desa"] == "Tinanggea – Seberang"  # noqa: RUF001
    assert read.source.encoding == "CP1252"


def test_missing_kecamatan_names_are_named_with_the_files_columns(tmp_path):
    # A Lahat layer saved without its kecamatan columns, and a table of kecamatan and desa names
    # only: the message names the missing column, gives an example for it, and lists the columns
    # the file has, so the user can pick one for --columns.
    lahat = gpd.read_file(need(LAHAT_DESA)).drop(columns=["nama_kec", "kode_kec"])
    path = tmp_path / "lahat_tanpa_kec.gpkg"
    lahat.to_file(path)
    counts = make_counts(gpd.read_file(need(LAHAT_DESA)), seed=2).drop(columns="kode_wilayah")
    counts["nama_desa"] = counts["nama_desa"] + " Lama"  # no desa name alone can match either
    table = tmp_path / "nama_saja.csv"
    counts.to_csv(table, index=False)
    code, text = invoke("join", path, table, "-o", tmp_path / "g.gpkg")
    assert code == 1, text
    assert "tidak punya kolom nama untuk nama_kecamatan" in text
    assert "--columns nama_kecamatan=KOLOM" in text
    assert "kolom berkas: kode, kode_nodot, nama" in text
