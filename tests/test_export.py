"""The geoportal bundle: RFC 7946 GeoJSON, KUGI fields, GeoPackage, shapefile, suppression.

Each bundle is built once per module through the CLI (in process) on real boundaries: the
KUGI-schema zipped UTM shapefile and the shared GeoJSON layers (Lahat has two self-intersecting
desa, so validity after repair and snapping is really tested).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from conftest import HSS_DESA, HSS_KUGI_ZIP, LAHAT_DESA, make_counts, need

import povmap
from povmap.cli import main
from povmap.export import suppress_below, suppress_layers, to_kugi
from povmap.export.kugi import KUGI_ADMIN, POVERTY_FIELDS, shapefile_names
from povmap.export.suppress import FLAG, SENSITIVE

KUGI_SOURCE_FIELDS = (
    "NAMOBJ",
    "FCODE",
    "REMARK",
    "SRS_ID",
    "KDPPUM",
    "WADMPR",
    "KDPKAB",
    "WADMKK",
    "KDCPUM",
    "WADMKC",
    "KDEPUM",
    "WADMKD",
    "TIPADM",
    "LUAS",
)
COUNT_FIELDS = ("JML_ME", "JML_KK_ME", "JML_PDDK", "JML_D1")


def run_export(*args) -> object:
    result = CliRunner().invoke(main, ["export", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def counts_csv(hss_raw, tmp_path_factory):
    path = tmp_path_factory.mktemp("counts") / "hss.csv"
    make_counts(hss_raw, seed=6306).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def kugi_bundle(counts_csv, tmp_path_factory):
    """The KUGI UTM shapefile (zipped), all formats, suppressed for the public."""
    out = tmp_path_factory.mktemp("kugi") / "bundle"
    run_export(
        need(HSS_KUGI_ZIP),
        counts_csv,
        "-o",
        out,
        "--format",
        "geojson,gpkg,shp",
        "--vintage",
        "P3KE 2024",
        "--suppress-below",
        "10",
    )
    return out


@pytest.fixture(scope="module")
def lahat_bundle(tmp_path_factory):
    raw = gpd.read_file(need(LAHAT_DESA))
    base = tmp_path_factory.mktemp("lahat")
    counts = make_counts(raw, seed=1604)
    counts.to_csv(base / "lahat.csv", index=False)
    run_export(LAHAT_DESA, base / "lahat.csv", "-o", base / "bundle", "--precision", "5")
    return base / "bundle", counts


def features(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def decimals(coords) -> int:
    if isinstance(coords[0], (int, float)):
        return max(len(repr(float(c)).split(".")[1].rstrip("0")) for c in coords)
    return max(decimals(c) for c in coords)


def check_rfc7946(path, *, layer: str, id_field: str, precision: int) -> dict:
    doc = features(path)
    assert "crs" not in doc
    assert doc["name"] == layer  # never the temporary file name
    ids = [f["id"] for f in doc["features"]]
    assert len(ids) == len(set(ids))
    assert ids == [f["properties"][id_field] for f in doc["features"]]
    for feature in doc["features"]:
        geom = shapely.geometry.shape(feature["geometry"])
        assert geom.is_valid, feature["id"]
        assert decimals(feature["geometry"]["coordinates"]) <= precision
        for polygon in getattr(geom, "geoms", [geom]):
            assert polygon.exterior.is_ccw, feature["id"]
            assert not any(ring.is_ccw for ring in polygon.interiors), feature["id"]
        lon, lat = geom.centroid.x, geom.centroid.y
        assert 94 < lon < 142 and -12 < lat < 7  # lon/lat order, inside Indonesia
    return doc


def test_kugi_geojson_is_rfc7946(kugi_bundle):
    doc = check_rfc7946(kugi_bundle / "desa.geojson", layer="desa", id_field="KDEPUM", precision=6)
    assert len(doc["features"]) == 148
    kec = check_rfc7946(
        kugi_bundle / "kecamatan.geojson", layer="kecamatan", id_field="KDCPUM", precision=6
    )
    assert len(kec["features"]) == 11


def test_lahat_repaired_desa_valid_at_5_decimals(lahat_bundle):
    out, _ = lahat_bundle
    doc = check_rfc7946(out / "desa.geojson", layer="desa", id_field="KDEPUM", precision=5)
    ids = {f["id"] for f in doc["features"]}
    assert {"16.04.23.2006", "16.04.23.2007"} <= ids  # the two self-intersecting source desa


def test_counts_are_integers_and_conserved(lahat_bundle):
    out, counts = lahat_bundle
    text = (out / "desa.geojson").read_text(encoding="utf-8")
    assert not re.search(r'"JML_[A-Z0-9_]+": \d+\.0\b', text)
    desa = features(out / "desa.geojson")["features"]
    kec = features(out / "kecamatan.geojson")["features"]
    for field, column in (("JML_ME", "jumlah_miskin_ekstrem"), ("JML_PDDK", "jumlah_penduduk")):
        assert all(isinstance(f["properties"][field], int) for f in desa)
        assert sum(f["properties"][field] for f in desa) == counts[column].sum()
        assert sum(f["properties"][field] for f in kec) == counts[column].sum()
    by_code = counts.set_index("kode_wilayah")["jumlah_miskin_ekstrem"]
    assert all(f["properties"]["JML_ME"] == by_code[f["id"]] for f in desa)


def test_ogrinfo_reads_every_layer(kugi_bundle):
    if shutil.which("ogrinfo") is None:
        pytest.skip("GDAL ogrinfo not installed (apt-get install gdal-bin)")
    for name, n in (("desa", 148), ("kecamatan", 11)):
        path = kugi_bundle / f"{name}.geojson"
        info = subprocess.run(
            ["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, check=True
        ).stdout
        assert f"Layer name: {name}" in info and f"Feature Count: {n}" in info
        assert 'GEOGCRS["WGS 84"' in info or "WGS 84" in info
        invalid = subprocess.run(
            [
                "ogrinfo",
                "-ro",
                "-dialect",
                "SQLite",
                "-sql",
                f"SELECT COUNT(*) AS n_invalid FROM {name} WHERE NOT ST_IsValid(geometry)",
                str(path),
            ],
            capture_output=True,
            text=True,
        )
        if invalid.returncode == 0 and "n_invalid (Integer) =" in invalid.stdout:
            assert "n_invalid (Integer) = 0" in invalid.stdout


def test_kugi_fields_kept_from_the_kugi_source(kugi_bundle):
    props = features(kugi_bundle / "desa.geojson")["features"][0]["properties"]
    for field in KUGI_SOURCE_FIELDS:
        assert field in props, field
    assert props["FCODE"] == "BA03070040" and props["SRS_ID"] == "SRGI 2013"
    assert props["KDEPUM"] == "63.06.01.2001" and props["WADMKD"] == "Hamalau"
    kec = features(kugi_bundle / "kecamatan.geojson")["features"][0]["properties"]
    assert kec["KDCPUM"] == "63.06.01" and kec["NAMOBJ"] == kec["WADMKC"] == "Sungai Raya"
    assert "KDEPUM" not in kec


def test_kugi_fields_from_a_non_kugi_source(lahat_bundle):
    out, _ = lahat_bundle
    props = features(out / "desa.geojson")["features"][0]["properties"]
    assert set(KUGI_ADMIN.values()) <= set(props)
    assert props["NAMOBJ"] == props["WADMKD"]
    # Only documented fields: the source's own columns and the counts table's row number don't leak.
    allowed = set(KUGI_ADMIN.values()) | {"NAMOBJ"} | {f.name for f in POVERTY_FIELDS.values()}
    assert set(props) <= allowed
    assert all(len(name) <= 10 for name in props)


def test_data_dictionary_describes_every_field(kugi_bundle):
    rows = pd.read_csv(kugi_bundle / "kamus_data.csv", encoding="utf-8-sig")
    for layer in ("desa", "kecamatan"):
        props = features(kugi_bundle / f"{layer}.geojson")["features"][0]["properties"]
        described = rows[rows["lapisan"] == layer]
        assert list(described["field"]) == list(props)
        assert described["keterangan"].notna().all() and described["sumber"].notna().all()
    me = rows[(rows["lapisan"] == "desa") & (rows["field"] == "PRS_ME")].iloc[0]
    assert me["satuan"] == "%" and me["tipe"] == "Real"
    assert "hss.csv" in rows.loc[rows["field"] == "JML_ME", "sumber"].iloc[0]


def test_geopackage_round_trip(kugi_bundle):
    gpkg = kugi_bundle / "povmap.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert set(layers) == {"desa", "kecamatan"}
    assert layers["desa"] == "MultiPolygon"
    for name in layers:
        table = gpd.read_file(gpkg, layer=name)
        geojson = gpd.read_file(kugi_bundle / f"{name}.geojson")
        code = "KDEPUM" if name == "desa" else "KDCPUM"
        table, geojson = table.set_index(code), geojson.set_index(code)
        assert table.index.tolist() == geojson.index.tolist()
        assert table.crs.to_epsg() == 4326
        for field in ("JML_PDDK", "JML_ME", "KELAS", "DISAMARKAN"):
            pd.testing.assert_series_equal(
                table[field].astype("Float64"), geojson[field].astype("Float64"), check_names=False
            )
        # Same shapes; the GeoJSON is snapped to 1e-6 degrees (slivers thinner than that
        # collapse), the GeoPackage is not.
        a, b = table.geometry.to_crs(32750), geojson.geometry.to_crs(32750)
        # Each vertex moves at most half a grid cell diagonal (about 0.08 m here).
        assert (a.symmetric_difference(b, align=True).area <= a.length * 0.08).all()


def test_shapefile_zip(kugi_bundle):
    zipped = kugi_bundle / "desa_shp.zip"
    names = set(zipfile.ZipFile(zipped).namelist())
    assert {
        "desa.shp",
        "desa.shx",
        "desa.dbf",
        "desa.prj",
        "desa.cpg",
        "desa.sld",
        "desa.xml",
    } <= names
    shp = gpd.read_file(f"/vsizip/{zipped}/desa.shp")
    assert len(shp) == 148 and all(len(c) <= 10 for c in shp.columns)
    assert shp.crs.to_epsg() == 4326
    assert shp.loc[0, "WADMKD"] == "Hamalau"


def test_shapefile_names_cut_predictably():
    names = shapefile_names(["KDEPUM", "NAMA_PANJANG_SEKALI", "NAMA_PANJANG_JUGA", "NAMA_PANJA"])
    assert names == {
        "KDEPUM": "KDEPUM",
        "NAMA_PANJANG_SEKALI": "NAMA_PAN_1",
        "NAMA_PANJANG_JUGA": "NAMA_PAN_2",
        "NAMA_PANJA": "NAMA_PANJA",
    }
    assert shapefile_names(["ABCDEFGHIJKL", "ABCDEFGHIJXX"]) == {
        "ABCDEFGHIJKL": "ABCDEFGHIJ",
        "ABCDEFGHIJXX": "ABCDEFGH_1",
    }


def test_suppressed_bundle_blanks_small_counts_and_their_rates(kugi_bundle):
    desa = features(kugi_bundle / "desa.geojson")["features"]
    flagged = [f["properties"] for f in desa if f["properties"]["DISAMARKAN"] == 1]
    assert flagged, "the generated counts have small family counts to suppress"
    for props in (f["properties"] for f in desa):
        for field in ("JML_ME", "JML_KK_ME", "JML_D1"):
            assert props[field] is None or not 1 <= props[field] < 10
        assert props["JML_PDDK"] is not None  # population stays public
        if props["JML_ME"] is None:
            assert props["PRS_ME"] is None and props["PADAT_ME"] is None
            assert props["KELAS"] == -1
    assert not (kugi_bundle / "laporan_penggabungan.json").exists()  # its rows carry values


def test_a_failed_run_leaves_no_partial_files(counts_csv, tmp_path, monkeypatch):
    bundle = povmap.export.bundle

    def broken(*args, **kwargs):
        raise OSError("disk penuh")

    out = tmp_path / "bundle"
    monkeypatch.setattr(bundle, "write_metadata", broken)
    result = CliRunner().invoke(
        main, ["export", str(need(HSS_DESA)), str(counts_csv), "-o", str(out)]
    )
    assert result.exit_code == 1 and "disk penuh" in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no staging folder left behind either
    out.mkdir()
    (out / "lama.txt").write_text("isi lama")
    CliRunner().invoke(main, ["export", str(HSS_DESA), str(counts_csv), "-o", str(out)])
    assert sorted(p.name for p in out.iterdir()) == ["lama.txt"]


def test_bad_options_fail_before_writing(counts_csv, tmp_path):
    out = tmp_path / "bundle"
    result = CliRunner().invoke(
        main,
        ["export", str(need(HSS_DESA)), str(counts_csv), "-o", str(out), "--format", "geojson,kml"],
    )
    assert result.exit_code == 1 and "kml" in result.output and not out.exists()


def test_pocket_flag_field_when_the_layer_has_kantong(hss_raw, tmp_path):
    layer = povmap.run(need(HSS_DESA), _counts_file(hss_raw, tmp_path)).layers["desa"]
    flags = [True, False, None] * (len(layer) // 3) + [True] * (len(layer) % 3)
    layer["kantong"] = pd.array(flags, dtype="boolean")
    written = povmap.export({"desa": layer}, tmp_path / "out", formats=("geojson", "shp"))
    assert tmp_path / "out" / "desa.geojson" in written
    props = [
        f["properties"]["KANTONG"] for f in features(tmp_path / "out" / "desa.geojson")["features"]
    ]
    assert props[:3] == [1, 0, None]
    assert "KANTONG" not in to_kugi(layer.drop(columns="kantong"), "desa").columns


def _counts_file(raw, tmp_path):
    path = tmp_path / "counts.csv"
    make_counts(raw, seed=7).to_csv(path, index=False)
    return path


# Small-cell suppression: no blanked cell may be recoverable from the published numbers.


# The proof that no blanked cell is pinned, by linear programming: tests/test_suppress.py.


def test_one_small_desa_is_not_kecamatan_minus_the_others():
    desa = pd.DataFrame(
        {
            "kode_desa": ["a1", "a2", "a3", "b1", "b2"],
            "kode_kecamatan": ["A", "A", "A", "B", "B"],
            "jumlah_miskin_ekstrem": [3.0, 40.0, 25.0, 50.0, 60.0],
            "jumlah_penduduk": [500.0, 800.0, 700.0, 900.0, 950.0],
        }
    )
    kec = desa.groupby("kode_kecamatan", as_index=False)[
        ["jumlah_miskin_ekstrem", "jumlah_penduduk"]
    ].sum()
    done = suppress_layers({"desa": desa, "kecamatan": kec}, 10)
    out = done.layers
    d = out["desa"].set_index("kode_desa")
    # The small desa, and the smallest other desa of its kecamatan (25), not the larger one.
    assert d["jumlah_miskin_ekstrem"].isna().tolist() == [True, False, True, False, False]
    assert d[FLAG].tolist() == [True, False, True, False, False]
    assert out["kecamatan"]["jumlah_miskin_ekstrem"].notna().all()
    report = done.report.to_dict()
    assert report["sel_primer"]["jumlah_miskin_ekstrem"] == 1
    assert report["sel_sekunder"]["jumlah_miskin_ekstrem"] == 1


def test_suppression_blanks_rates_and_recomputes_classes(hss_raw, tmp_path):
    result = povmap.run(need(HSS_DESA), _counts_file(hss_raw, tmp_path))
    out = suppress_layers({name: result.classified(name) for name in result.layers}, 120).layers
    desa, classes = out["desa"].gdf, out["desa"].classification
    blanked = desa["jumlah_miskin_ekstrem"].isna() & result.main["jumlah_miskin_ekstrem"].notna()
    assert blanked.any()
    assert desa.loc[blanked, "persen_miskin_ekstrem"].isna().all()
    assert desa.loc[blanked, "kepadatan_miskin_ekstrem"].isna().all()
    assert (desa.loc[blanked, "kelas"] == -1).all() and desa.loc[blanked, FLAG].all()
    assert desa["jumlah_penduduk"].equals(result.main["jumlah_penduduk"])
    hidden = set(result.main.loc[blanked, "persen_miskin_ekstrem"].round(12))
    assert not hidden & {round(b, 12) for b in (classes.lower, *classes.bins)}
    assert set(SENSITIVE) >= {"jumlah_miskin_ekstrem", "jumlah_keluarga_miskin_ekstrem"}


def test_suppress_below_rejects_a_bad_threshold(hss_raw):
    with pytest.raises(povmap.PovmapInputError, match="suppress-below"):
        suppress_below(hss_raw, 0)


def test_povmap_export_is_the_function_and_the_package():
    import povmap.export.kugi as kugi  # failed while povmap.export was a plain function

    assert povmap.export.kugi is kugi and povmap.export.suppress.FLAG == FLAG
    assert povmap.export.export is povmap.export.bundle.export and callable(povmap.export)


def test_geopackage_in_64k_pages_holds_what_gdals_default_holds(tmp_path, monkeypatch):
    import sqlite3

    from conftest import KALSEL_DESA, need

    from povmap.boundaries import dissolve
    from povmap.export import writers
    from povmap.export.writers import write_gpkg

    monkeypatch.delenv("OGR_SQLITE_PRAGMA", raising=False)
    desa = povmap.read_boundaries(need(KALSEL_DESA)).gdf
    kecamatan = dissolve(desa, "kecamatan")
    layers = {"desa": desa, "kecamatan": kecamatan}
    # A province (0.18 M vertices) keeps GDAL's 4 KiB pages: 64 KiB ones would make it larger.
    small = write_gpkg(layers, tmp_path / "provinsi.gpkg", multi=True)
    with sqlite3.connect(small) as db:
        assert db.execute("PRAGMA page_size").fetchone() == (4096,)
    # Made large by a lower threshold, as the national layer (12.4 M vertices) is.
    monkeypatch.setattr(writers, "LARGE_GPKG_VERTICES", 100_000)
    ours = write_gpkg(layers, tmp_path / "povmap.gpkg", multi=True)
    assert pyogrio.get_gdal_config_option("OGR_SQLITE_PRAGMA") is None  # put back
    plain = tmp_path / "gdal.gpkg"
    for name, gdf in layers.items():
        pyogrio.write_dataframe(gdf, plain, driver="GPKG", layer=name, promote_to_multi=True)
    with sqlite3.connect(ours) as db:
        assert db.execute("PRAGMA page_size").fetchone() == (65536,)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM rtree_desa_geom").fetchone() == (len(desa),)
    for name in layers:
        a = pyogrio.read_dataframe(ours, layer=name)
        b = pyogrio.read_dataframe(plain, layer=name)
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        missing = a.geometry.isna().to_numpy() & b.geometry.isna().to_numpy()
        assert (shapely.equals_identical(a.geometry.values, b.geometry.values) | missing).all()
    if shutil.which("ogrinfo"):
        done = subprocess.run(["ogrinfo", "-so", "-al", ours], capture_output=True, text=True)
        assert done.returncode == 0 and f"Feature Count: {len(desa)}" in done.stdout
    # A user's own SQLite settings are theirs: kept, not replaced.
    monkeypatch.setenv("OGR_SQLITE_PRAGMA", "page_size=8192")
    write_gpkg(layers, tmp_path / "own.gpkg", multi=True)
    with sqlite3.connect(tmp_path / "own.gpkg") as db:
        assert db.execute("PRAGMA page_size").fetchone() == (8192,)
