"""National scale: povmap's own GeoJSON writer against GDAL's, per-province files, progress."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import HSS_DESA, KALSEL_DESA, KAYONG_DESA, KONSEL_DESA, invoke, make_counts, need

import povmap
from povmap._progress import session, step
from povmap.export.kugi import to_kugi
from povmap.export.writers import _for_output, write_geojson


@pytest.fixture(scope="module")
def kalsel_kugi(kalsel_raw):
    desa = povmap.read_boundaries(need(KALSEL_DESA)).gdf
    counts = make_counts(kalsel_raw, seed=11).iloc[5:]  # some desa without data: nulls
    return to_kugi(povmap.add_rates(povmap.join(desa, counts).joined), "desa")


def _gdal_geojson(gdf, path, precision):
    """What povmap wrote before it wrote GeoJSON itself: GDAL's RFC 7946 driver."""
    out = _for_output(gdf)
    out[out.geometry.name] = out.geometry.set_precision(10.0**-precision)
    out.insert(0, "__id", out["KDEPUM"])
    pyogrio.write_dataframe(
        out,
        path,
        driver="GeoJSON",
        layer="desa",
        RFC7946="YES",
        COORDINATE_PRECISION=precision,
        WRITE_NAME="YES",
        ID_FIELD="__id",
        DESCRIPTION="Desa Kalsel",
    )


@pytest.mark.parametrize("precision", [6, 5])
def test_geojson_means_what_gdal_wrote(kalsel_kugi, tmp_path, precision):
    ours, gdal = tmp_path / "ours.geojson", tmp_path / "gdal.geojson"
    write_geojson(
        kalsel_kugi,
        ours,
        layer="desa",
        precision=precision,
        id_field="KDEPUM",
        description="Desa Kalsel",
    )
    _gdal_geojson(kalsel_kugi, gdal, precision)
    a, b = json.loads(ours.read_bytes()), json.loads(gdal.read_bytes())
    assert {k: v for k, v in a.items() if k != "features"} == {
        k: v for k, v in b.items() if k != "features"
    }
    assert a["name"] == "desa" and "crs" not in a
    assert len(a["features"]) == len(b["features"]) == 2008
    # Same ids, same properties with the same types (integers stay integers, blanks are null).
    assert [f["id"] for f in a["features"]] == [f["id"] for f in b["features"]]
    assert [f["properties"] for f in a["features"]] == [f["properties"] for f in b["features"]]
    assert any(f["properties"]["JML_ME"] is None for f in a["features"])
    # Coordinates: at most `precision` decimals, shells counter-clockwise, valid polygons ...
    text = ours.read_text()
    geometry = "".join(re.findall(r'"coordinates":([^}]*)', text))
    decimals = [len(n.split(".")[1]) for n in re.findall(r"\d+\.\d+", geometry)]
    assert max(decimals) <= precision
    mine = np.array([shapely.geometry.shape(f["geometry"]) for f in a["features"]])
    theirs = np.array([shapely.geometry.shape(f["geometry"]) for f in b["features"]])
    assert shapely.is_valid(mine).all()
    shells = shapely.get_exterior_ring(shapely.get_parts(mine))
    assert shapely.is_ccw(shells).all()
    # ... and the same shapes: GDAL's path snap-rounds every polygon, ours only those rounding
    # breaks, so a ring may start at another vertex and a sliver one grid cell wide that GEOS
    # would collapse may remain (Kalsel at 6 decimals: one desa, 0.4 m²): the two never differ
    # by more than a band one grid cell wide along the outline.
    same = shapely.equals_exact(shapely.normalize(mine), shapely.normalize(theirs), 0)
    assert same.mean() > 0.99
    apart = shapely.area(shapely.symmetric_difference(mine[~same], theirs[~same]))
    assert (apart <= 10.0**-precision * shapely.length(theirs[~same])).all()


def test_ogrinfo_reads_our_geojson(kalsel_kugi, tmp_path):
    if shutil.which("ogrinfo") is None:
        pytest.skip("GDAL ogrinfo not installed (apt-get install gdal-bin)")
    path = tmp_path / "desa.geojson"
    write_geojson(kalsel_kugi, path, layer="desa", id_field="KDEPUM")
    info = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "Layer name: desa" in info and "Feature Count: 2008" in info
    assert "JML_ME: Integer" in info and "PRS_ME: Real" in info
    back = pyogrio.read_dataframe(path)
    assert back["KDEPUM"].tolist() == kalsel_kugi["KDEPUM"].tolist()


def test_empty_and_missing_geometries_as_gdal_writes_them(tmp_path):
    layer = gpd.GeoDataFrame(
        {"KODE": ["a", "b", "c"], "n": pd.array([1, None, 3], "Int64")},
        geometry=[shapely.box(110, -3, 110.5, -2.5), shapely.Polygon(), None],
        crs=4326,
    )
    ours, gdal = tmp_path / "ours.geojson", tmp_path / "gdal.geojson"
    write_geojson(layer, ours, layer="x")
    pyogrio.write_dataframe(
        layer, gdal, driver="GeoJSON", layer="x", RFC7946="YES", COORDINATE_PRECISION=6
    )
    assert json.loads(ours.read_bytes()) == json.loads(gdal.read_bytes())
    features = json.loads(ours.read_bytes())["features"]
    assert features[1]["geometry"] == {"type": "Polygon", "coordinates": []}
    assert features[2]["geometry"] is None and features[1]["properties"]["n"] is None


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("terminal", "quiet", "shown"),
    [(True, False, True), (True, True, False), (False, False, False)],
)
def test_progress_bars_only_on_a_terminal_and_not_quiet(monkeypatch, terminal, quiet, shown):
    err = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with session("en", quiet=quiet), step("progress.write", total=3, name="desa.geojson") as go:
        go(3)
    assert ("Writing desa.geojson" in err.getvalue()) is shown
    # Outside a session (the Python API, a notebook) a step shows nothing and costs nothing.
    with step("progress.join") as go:
        go()
    assert "Joining" not in err.getvalue()


def test_no_progress_bar_in_captured_cli_output(hss_counts_csv, tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "povmap.cli",
            "export",
            str(need(HSS_DESA)),
            str(hss_counts_csv),
            "-o",
            str(tmp_path / "out"),
            "--format",
            "geojson",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "━" not in done.stderr + done.stdout and "Menulis" not in done.stderr


#: Desil cells as exports write them: every spelling of a desil, and blanks (no desil).
DESIL_CELLS = ["1", "Desil 2", "3.0", "desil 4 (rentan)", "5", " 3 ", "03", "10", "", "-"]
#: Cells no desil can be: out of range, a fraction, a NIK a shifted row put there, text.
IMPOSSIBLE_DESIL = ["0", "11", "2.5", "3201234567890123", "abc", "-3", "1-4"]


def _register(
    desa, rows: int, seed: int, *, family_id: bool = True, messy: bool = False
) -> pd.DataFrame:
    """A generated individual-level register over the desa of ``desa`` (shared raw schema).

    ``messy``: about one row in twenty holds one of :data:`IMPOSSIBLE_DESIL`.
    """
    rng = np.random.default_rng(seed)
    family = rng.integers(0, rows // 4, rows)
    where = family % len(desa)
    codes = desa["kode"].to_numpy()[where]
    # Some desa write their code undotted, as exports from spreadsheets do.
    codes = np.where(where % 5 == 0, np.char.replace(codes.astype(str), ".", ""), codes)
    desil = rng.choice(DESIL_CELLS, rows).astype(object)
    if messy:
        bad = rng.random(rows) < 0.05
        desil[bad] = rng.choice(IMPOSSIBLE_DESIL, int(bad.sum()))
    status = rng.choice(
        [
            "Ditemukan",
            "MENINGGAL DUNIA",
            "Tidak ditemukan",
            "pindah",
            "Ditemukan - pindah alamat",
            "",
        ],
        rows,
        p=[0.8, 0.05, 0.05, 0.04, 0.03, 0.03],
    )
    frame = pd.DataFrame(
        {
            "ID_INDIVIDU": np.arange(rows),
            "NIK": [f"63{i:014d}" for i in range(rows)],
            "Nama Lengkap": "Warga",
            "Kode Wilayah": codes,
            "Nama Desa": desa["nama"].to_numpy()[where],
            "Desil Kesejahteraan": desil,
            "Status Keberadaan": status,
            "Hubungan Dengan Kepala Keluarga": np.where(
                rng.random(rows) < 0.3, "Kepala Keluarga", "Anak"
            ),
        }
    )
    if family_id:
        frame.insert(1, "ID Keluarga P3KE", [f"K{f:07d}" for f in family])
    return frame


def _one_spelling_per_desa(register: pd.DataFrame, desa: pd.DataFrame) -> None:
    """Without a family id, families are summed, not counted distinct: one code spelling."""
    undotted = desa["kode"].str.replace(".", "")
    register["Kode Wilayah"] = desa["kode"].to_numpy()[
        undotted.searchsorted(register["Kode Wilayah"].str.replace(".", ""))
    ]


@pytest.mark.parametrize("family_id", [True, False])
def test_duckdb_register_counts_equal_the_pandas_path(hss_raw, tmp_path, family_id):
    pytest.importorskip("duckdb")
    from povmap.scale import aggregate_register

    path = tmp_path / "register.csv"
    register = _register(hss_raw, 6000, seed=7, family_id=family_id)
    if not family_id:
        _one_spelling_per_desa(register, hss_raw)
    register.to_csv(path, index=False)
    ours = aggregate_register(path)
    expected = povmap.read_counts(path)
    pd.testing.assert_frame_equal(ours.frame, expected.frame, check_dtype=False)
    assert ours.source.p3ke == expected.source.p3ke
    assert ours.source.notes == expected.source.notes
    assert ours.source.p3ke["dikecualikan"]["meninggal"] > 0
    assert ours.source.p3ke["tanpa_desil"] > 0 and ours.source.p3ke["desil_tidak_sah"] == 0
    # Every spelling of a desil is counted: " 3 " and "03" as desil 3, "10" as desil 10.
    assert ours.frame["jumlah_desil_10"].sum() > 0
    assert not {"NIK", "Nama Lengkap"} & set(ours.frame.columns)
    parquet = tmp_path / "register.parquet"
    if importlib.util.find_spec("pyarrow") is not None:
        register.astype(str).to_parquet(parquet)
        pd.testing.assert_frame_equal(aggregate_register(parquet).frame, ours.frame)


@pytest.mark.parametrize("family_id", [True, False])
def test_duckdb_and_pandas_apply_one_desil_rule_to_messy_cells(hss_raw, tmp_path, family_id):
    """0, 11, 2.5, a NIK, "abc" ... are impossible in both paths: the same rows refused, and with
    allow_invalid the same counts per desa and the same rows reported as desil_tidak_sah."""
    pytest.importorskip("duckdb")
    from povmap.scale import aggregate_register

    path = tmp_path / "register.csv"
    register = _register(hss_raw, 6000, seed=5, family_id=family_id, messy=True)
    if not family_id:
        _one_spelling_per_desa(register, hss_raw)
    register.to_csv(path, index=False)
    cells = register["Desil Kesejahteraan"]
    bad = cells.isin(IMPOSSIBLE_DESIL).to_numpy()
    first = [int(r) + 2 for r in np.flatnonzero(bad)[:5]]  # header on row 1
    assert set(cells[bad]) == set(IMPOSSIBLE_DESIL)

    with pytest.raises(povmap.PovmapInputError) as duck:
        aggregate_register(path)
    with pytest.raises(povmap.PovmapInputError) as panda:
        povmap.read_counts(path)
    assert str(duck.value) == str(panda.value) and duck.value.en == panda.value.en
    listed = ", ".join(map(str, first))
    assert f"{bad.sum()} baris berisi desil yang tidak mungkin (baris {listed} dan " in str(
        duck.value
    )
    assert "kolom 'Desil Kesejahteraan'" in str(duck.value)
    assert "3201234567890123" not in str(duck.value) + duck.value.en

    ours = aggregate_register(path, allow_invalid=True)
    expected = povmap.read_counts(path, allow_invalid=True)
    pd.testing.assert_frame_equal(ours.frame, expected.frame, check_dtype=False)
    assert ours.source.p3ke == expected.source.p3ke
    assert ours.source.notes == expected.source.notes
    info = ours.source.p3ke
    assert info["desil_tidak_sah"] == bad.sum() and info["baris_desil_tidak_sah"] == first
    # The impossible rows are left out whole: not as "no desil", not under a status, not as
    # desil 2 (from "2.5") or desil 1 (from "1-4"); the rest are counted as without them.
    clean = tmp_path / "clean.csv"
    register[~bad].to_csv(clean, index=False)
    alone = povmap.read_counts(clean).source.p3ke
    assert info["tanpa_desil"] == alone["tanpa_desil"]
    assert info["dikecualikan"] == alone["dikecualikan"]
    counts = [c for c in ours.frame.columns if c.startswith("jumlah_")]
    by_code = ours.frame.set_index("kode_wilayah")[counts]
    clean_counts = povmap.read_counts(clean).frame.set_index("kode_wilayah")[counts]
    pd.testing.assert_frame_equal(by_code.sort_index(), clean_counts.sort_index())


@pytest.mark.parametrize("individual", [True, False])
def test_duckdb_counts_a_desa_written_two_ways_as_pandas_does(tmp_path, individual):
    """One desa code written dotted on some rows and undotted on others, even within a family:
    DuckDB counts each family once, as read_counts does, and keeps the first row's spelling."""
    pytest.importorskip("duckdb")
    from povmap.scale import aggregate_register

    desa = gpd.read_file(need(KONSEL_DESA))
    register = _register(desa, 3000, seed=11)
    undot = np.random.default_rng(11).random(len(register)) < 0.5
    dotted = register["Kode Wilayah"].map(povmap.codes.normalize_code)
    register["Kode Wilayah"] = np.where(undot, dotted.str.replace(".", ""), dotted)
    if not individual:  # one row per family
        register = register.drop(columns=["ID_INDIVIDU", "Hubungan Dengan Kepala Keluarga"])
        register = register.drop_duplicates("ID Keluarga P3KE")
    path = tmp_path / "register.csv"
    register.to_csv(path, index=False)
    ours = aggregate_register(path)
    expected = povmap.read_counts(path)
    pd.testing.assert_frame_equal(ours.frame, expected.frame, check_dtype=False)
    assert ours.source.p3ke == expected.source.p3ke
    kept = register["Status Keberadaan"].str.lower().str.startswith("ditemukan") | (
        register["Status Keberadaan"] == ""
    )
    one = ours.frame.set_index("kode_wilayah")
    codes = register["Kode Wilayah"].map(povmap.codes.normalize_code)
    assert register.groupby(codes)["Kode Wilayah"].nunique().max() == 2  # desa written two ways
    if individual:  # and families too
        assert (register.groupby("ID Keluarga P3KE")["Kode Wilayah"].nunique() == 2).any()
    desil_1 = register["Desil Kesejahteraan"] == "1"
    families = register[kept & desil_1].groupby(codes[kept & desil_1])["ID Keluarga P3KE"]
    assert one["jumlah_keluarga_desil_1"].sum() == families.nunique().sum() > 0
    assert set(one.index) == set(codes.dropna())


def test_duckdb_refuses_rows_without_a_desa_code(hss_raw, tmp_path):
    pytest.importorskip("duckdb")
    from povmap.scale import aggregate_register

    register = _register(hss_raw, 400, seed=3)
    register.loc[17, "Kode Wilayah"] = "-"
    path = tmp_path / "register.csv"
    register.to_csv(path, index=False)
    with pytest.raises(povmap.PovmapInputError, match=r"1 baris tanpa kode desa.*- \(baris 19\)"):
        aggregate_register(path)


def test_boundaries_never_read_through_arrow(hss_raw, hss_counts_csv, tmp_path):
    # PYOGRIO_USE_ARROW=1 makes geopandas read through Arrow, where GDAL's FlatGeobuf stream
    # gives a feature without geometry an invalid offset and pyarrow then crashes the interpreter
    # (or, without pyarrow, the file is refused as unreadable). povmap reads without Arrow.
    layer = hss_raw.copy()
    layer.loc[5, "geometry"] = None
    path = tmp_path / "hss.fgb"
    layer.to_file(path, driver="FlatGeobuf", SPATIAL_INDEX="NO")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "povmap.cli",
            "export",
            str(path),
            str(hss_counts_csv),
            "-o",
            str(tmp_path / "out"),
            "--format",
            "geojson",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYOGRIO_USE_ARROW": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"1 wilayah tanpa geometri (tidak tergambar di peta): {layer.loc[5, 'kode']}" in (
        done.stdout + done.stderr
    )
    desa = json.loads((tmp_path / "out" / "desa.geojson").read_bytes())["features"]
    assert len(desa) == 148 and sum(f["geometry"] is None for f in desa) == 1


def test_split_provinsi_writes_one_geojson_per_province(hss_raw, tmp_path):
    # Two provinces in one layer: Hulu Sungai Selatan (63) and Kayong Utara (61).
    kayong = gpd.read_file(need(KAYONG_DESA))
    both = pd.concat([hss_raw, kayong], ignore_index=True)
    boundaries, table = tmp_path / "dua.geojson", tmp_path / "jumlah.csv"
    both.to_file(boundaries)
    make_counts(both, seed=2).to_csv(table, index=False)
    whole, split = tmp_path / "utuh", tmp_path / "pisah"
    for out, extra in ((whole, []), (split, ["--split", "provinsi"])):
        code, said = invoke("export", boundaries, table, "-o", out, "--format", "geojson", *extra)
        assert code == 0, said
    files = sorted(p.name for p in split.glob("*.geojson"))
    assert files == [
        "desa_61.geojson",
        "desa_63.geojson",
        "kecamatan_61.geojson",
        "kecamatan_63.geojson",
    ]
    for layer in ("desa", "kecamatan"):
        full = json.loads((whole / f"{layer}.geojson").read_bytes())["features"]
        parts = {
            code: json.loads((split / f"{layer}_{code}.geojson").read_bytes())
            for code in ("61", "63")
        }
        assert {c: p["name"] for c, p in parts.items()} == {c: f"{layer}_{c}" for c in parts}
        for code, part in parts.items():
            assert {f["properties"]["KDPPUM"] for f in part["features"]} == {code}
        # Together the province files hold exactly the features of the unsplit file.
        joined = sorted(f["id"] for p in parts.values() for f in p["features"])
        assert joined == sorted(f["id"] for f in full)
    manifest = json.loads((split / "manifest.json").read_bytes())
    assert "desa_61.geojson" in json.dumps(manifest) and "desa.geojson" not in json.dumps(manifest)
    assert "desa_63.geojson" in (split / "desa.xml").read_text(encoding="utf-8")
