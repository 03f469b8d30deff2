"""The spine through the command line, on the real Hulu Sungai Selatan layer."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import (
    HSS_DESA,
    HSS_KECAMATAN,
    HSS_KUGI_ZIP,
    KALSEL_DESA,
    LAHAT_DESA,
    make_counts,
    need,
)

from povmap.cli import main


def povmap(*args: object) -> subprocess.CompletedProcess:
    """Run the installed command as a user would, in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "povmap.cli", *map(str, args)], capture_output=True, text=True
    )


def test_map_draws_every_desa_with_indonesian_tooltips(hss_counts_csv, hss_counts, tmp_path):
    out = tmp_path / "peta.html"
    args = ["map", str(need(HSS_DESA)), str(hss_counts_csv), "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    # The map embeds its layers as TopoJSON with one list per tooltip field (povmap.render.topo).
    drawn = set(re.findall(r'"(\d\d\.\d\d\.\d\d\.\d{4})"', html))
    assert drawn == set(hss_counts["kode_wilayah"])
    row = hss_counts.iloc[0]
    percent = 100 * row["jumlah_miskin_ekstrem"] / row["jumlah_penduduk"]
    expected = f"{percent:.2f}".replace(".", ",") + " %"
    assert expected in html
    assert "Tidak ada data" in html and "Persentase penduduk miskin ekstrem" in html
    assert "Batas kecamatan" in html  # kecamatan outlines layer
    manifest = json.loads(out.with_suffix(".manifest.json").read_text())
    assert manifest["penggabungan"]["matched"] == 148


def test_export_geojson_counts_equal_input(hss_counts_csv, hss_counts, tmp_path):
    result = CliRunner().invoke(
        main, ["export", str(need(HSS_DESA)), str(hss_counts_csv), "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    # Geoportal layers carry KUGI names (KDEPUM ...) and short poverty fields (JML_ME ...).
    desa = gpd.read_file(tmp_path / "out" / "desa.geojson")
    kec = gpd.read_file(tmp_path / "out" / "kecamatan.geojson")
    assert desa.crs.to_epsg() == 4326 and len(desa) == 148 and len(kec) == 11
    merged = desa.merge(hss_counts, left_on="KDEPUM", right_on="kode_wilayah")
    assert len(merged) == 148
    assert (merged["JML_ME"] == merged["jumlah_miskin_ekstrem"]).all()
    for field, column in (("JML_ME", "jumlah_miskin_ekstrem"), ("JML_PDDK", "jumlah_penduduk")):
        assert kec[field].sum() == desa[field].sum() == hss_counts[column].sum()
    recomputed = 100 * kec["JML_ME"] / kec["JML_PDDK"]
    assert (kec["PRS_ME"] - recomputed).abs().max() < 1e-4


@pytest.mark.parametrize("engine", ["pyogrio", "fiona"])
def test_join_codes_in_any_form_from_xlsx(hss_counts, tmp_path, engine):
    forms = hss_counts.copy().astype({"kode_wilayah": object})
    undotted = forms["kode_wilayah"].str.replace(".", "")
    forms.loc[0::4, "kode_wilayah"] = undotted[0::4].astype("int64")  # stored as a number
    forms.loc[1::4, "kode_wilayah"] = undotted[1::4]
    forms.loc[2::4, "kode_wilayah"] = forms.loc[2::4, "kode_wilayah"].str.replace(".", " ")
    table = tmp_path / "jumlah.xlsx"
    forms.to_excel(table, index=False)
    report = tmp_path / "laporan.json"
    result = CliRunner().invoke(
        main,
        [
            "join",
            str(need(HSS_KUGI_ZIP)),
            str(table),
            "-o",
            str(tmp_path / "gabung.gpkg"),
            "--report",
            str(report),
            "--engine",
            engine,
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert data["matched"] == 148 and data["matched_by"]["code"] == 148
    assert data["unmatched_counts"] == [] and data["unmatched_boundaries"] == []
    for column, totals in data["totals"].items():
        assert totals["input"] == totals["matched"] + totals["unmatched"]
        assert totals["input"] == hss_counts[column].sum()
    joined = gpd.read_file(tmp_path / "gabung.gpkg", layer="desa")
    assert joined["jumlah_miskin_ekstrem"].sum() == hss_counts["jumlah_miskin_ekstrem"].sum()


def test_join_reports_every_unmatched_row_and_area(hss_counts, tmp_path):
    table = hss_counts.iloc[5:].copy()
    fake = pd.DataFrame(
        [
            {
                "kode_wilayah": "63.06.01.2999",
                "nama_kecamatan": "Sungai Raya",
                "nama_desa": "Tidak Ada",
                "jumlah_penduduk": 100,
                "jumlah_keluarga_miskin_ekstrem": 1,
                "jumlah_miskin_ekstrem": 7,
                "jumlah_desil_1": 9,
            }
        ]
    )
    pd.concat([table, fake]).to_csv(tmp_path / "t.csv", index=False)
    report = tmp_path / "r.json"
    proc = povmap(
        "join", need(HSS_DESA), tmp_path / "t.csv", "-o", tmp_path / "j.gpkg", "--report", report
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(report.read_text())
    assert [r["kode_wilayah"] for r in data["unmatched_counts"]] == ["63.06.01.2999"]
    assert data["unmatched_counts"][0]["baris"] == len(table) + 2
    assert sorted(a["kode_desa"] for a in data["unmatched_boundaries"]) == sorted(
        hss_counts["kode_wilayah"].iloc[:5]
    )
    assert data["totals"]["jumlah_miskin_ekstrem"]["unmatched"] == 7
    strict = povmap("join", HSS_DESA, tmp_path / "t.csv", "-o", tmp_path / "s.gpkg", "--strict")
    assert strict.returncode == 1 and "Traceback" not in strict.stderr
    assert not (tmp_path / "s.gpkg").exists()


def test_bad_input_exit_1_names_the_problem_and_writes_nothing(tmp_path, hss_counts):
    table = hss_counts.astype({"jumlah_penduduk": object})
    table.loc[3, "jumlah_penduduk"] = "banyak"
    table.to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "peta.html"
    proc = povmap("map", need(HSS_DESA), tmp_path / "t.csv", "-o", out)
    assert proc.returncode == 1
    assert "baris 5" in proc.stderr and "jumlah_penduduk" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "t.csv"]


def test_wrong_usage_exit_2(tmp_path):
    proc = povmap("map", HSS_DESA)
    assert proc.returncode == 2


def test_demo_writes_map_and_layers(tmp_path):
    result = CliRunner().invoke(main, ["demo", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "demo_peta.html").read_text(encoding="utf-8")
    assert "fiktif" in html
    desa = gpd.read_file(tmp_path / "desa.geojson")
    assert len(desa) == 150 and desa["JML_ME"].notna().all()
    assert (tmp_path / "manifest.json").exists() and (tmp_path / "demo_peta.manifest.json").exists()
    assert (tmp_path / "laporan_penggabungan.json").exists() and (tmp_path / "desa.sld").exists()


def test_repaired_geometries_are_reported(tmp_path):
    lahat = gpd.read_file(need(LAHAT_DESA))
    make_counts(lahat, seed=1604).to_csv(tmp_path / "lahat.csv", index=False)
    report = tmp_path / "r.json"
    proc = povmap(
        "join", LAHAT_DESA, tmp_path / "lahat.csv", "-o", tmp_path / "j.gpkg", "--report", report
    )
    assert proc.returncode == 0, proc.stderr
    assert "2 geometri tidak valid diperbaiki" in proc.stderr
    assert any("16.04.23.2006" in note for note in json.loads(report.read_text())["notes"])


def test_kalsel_export_every_desa_and_conserved_counts(kalsel_raw, tmp_path):
    counts = make_counts(kalsel_raw, seed=63)
    counts.to_csv(tmp_path / "kalsel.csv", index=False)
    proc = povmap("export", need(KALSEL_DESA), tmp_path / "kalsel.csv", "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    desa = gpd.read_file(tmp_path / "out" / "desa.geojson")
    kec = gpd.read_file(tmp_path / "out" / "kecamatan.geojson")
    assert sorted(desa["KDEPUM"]) == sorted(kalsel_raw["kode"])
    assert len(kec) == 156
    for field, column in (
        ("JML_ME", "jumlah_miskin_ekstrem"),
        ("JML_PDDK", "jumlah_penduduk"),
        ("JML_D1", "jumlah_desil_1"),
    ):
        assert desa[field].sum() == kec[field].sum() == counts[column].sum()


def test_kantong_flag_adds_pockets_to_map_and_bundle(tmp_path):
    """The demo counts have two planted hot spots: --kantong finds them in map and bundle."""
    from conftest import DEMO_COUNTS, DEMO_DESA

    from povmap.pipeline import Options, run
    from povmap.pockets import find_pockets

    html = tmp_path / "peta.html"
    proc = povmap("map", DEMO_DESA, DEMO_COUNTS, "-o", html, "--kantong", "--tiles", "none")
    assert proc.returncode == 0, proc.stderr
    assert "kantong kemiskinan" in proc.stderr  # the pockets summary on the terminal
    assert "Kantong kemiskinan" in html.read_text(encoding="utf-8")  # layer and legend
    proc = povmap(
        "export", DEMO_DESA, DEMO_COUNTS, "-o", tmp_path / "out", "--kantong", "--format", "geojson"
    )
    assert proc.returncode == 0, proc.stderr
    desa = gpd.read_file(tmp_path / "out" / "desa.geojson").set_index("KDEPUM")
    direct = find_pockets(run(DEMO_DESA, DEMO_COUNTS, Options()).layers["desa"])
    in_pocket = set(direct.desa.loc[direct.desa["jenis_kantong"] == "kantong", "kode_desa"])
    assert len(in_pocket) >= 5
    assert set(desa.index[desa["KANTONG"] == 1]) == in_pocket


def test_area_without_geometry_is_reported_and_the_rest_mapped(hss_raw, hss_counts_csv, tmp_path):
    broken = hss_raw.copy()
    broken.loc[3, "geometry"] = None  # like 96.01.05.1012 Malagusa in the national file
    broken.to_file(tmp_path / "batas.geojson")
    for output in ("peta.html", "peta.png"):
        proc = povmap("map", tmp_path / "batas.geojson", hss_counts_csv, "-o", tmp_path / output)
        assert proc.returncode == 0, proc.stderr
        note = f"1 wilayah tanpa geometri (tidak tergambar di peta): {hss_raw.kode[3]}"
        assert note in proc.stderr
    html = (tmp_path / "peta.html").read_text(encoding="utf-8")
    assert hss_raw.kode[4] in html


@pytest.mark.parametrize("boundaries", [HSS_DESA, HSS_KECAMATAN], ids=["desa", "kecamatan"])
def test_kecamatan_level_map_and_export(boundaries, hss_counts, tmp_path):
    counts = hss_counts.assign(kode_kecamatan=hss_counts["kode_wilayah"].str[:8])
    table = counts.groupby("kode_kecamatan")[["jumlah_miskin_ekstrem", "jumlah_penduduk"]].sum()
    table.to_csv(tmp_path / "kec.csv")
    for output in ("peta.html", "peta.png"):
        proc = povmap(
            "map",
            need(boundaries),
            tmp_path / "kec.csv",
            "-o",
            tmp_path / output,
            "--level",
            "kecamatan",
        )
        assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "peta.html").read_text(encoding="utf-8")
    assert all(code in html for code in table.index)
    proc = povmap(
        "export",
        boundaries,
        tmp_path / "kec.csv",
        "-o",
        tmp_path / "out",
        "--level",
        "kecamatan",
        "--format",
        "geojson",
    )
    assert proc.returncode == 0, proc.stderr
    kec = gpd.read_file(tmp_path / "out" / "kecamatan.geojson")
    assert len(kec) == 11 and kec["JML_ME"].sum() == table["jumlah_miskin_ekstrem"].sum()


def test_unexpected_error_gives_one_line_not_a_traceback(tmp_path, monkeypatch):
    import povmap.pipeline as pipeline

    def broken(*args, **kwargs):
        raise KeyError("classification")

    monkeypatch.setattr(pipeline, "run", broken)  # the CLI imports it when a command runs
    result = CliRunner().invoke(
        main, ["map", str(need(HSS_DESA)), str(HSS_DESA), "-o", str(tmp_path / "p.html")]
    )
    assert result.exit_code == 1
    assert "Galat tak terduga" in result.output and "Traceback" not in result.output


def test_table_of_another_region_says_so(tmp_path):
    from conftest import DEMO_COUNTS

    proc = povmap("map", need(HSS_DESA), DEMO_COUNTS, "-o", tmp_path / "p.html")
    assert proc.returncode == 1
    assert "Tidak satu pun baris" in proc.stderr and "99.01.01.2001" in proc.stderr
    assert "63.06.01.2001" in proc.stderr and not (tmp_path / "p.html").exists()


def test_map_suppresses_small_counts_like_the_bundle(hss_counts_csv, hss_counts, tmp_path):
    out = tmp_path / "peta.html"
    result = CliRunner().invoke(
        main,
        ["map", str(need(HSS_DESA)), str(hss_counts_csv), "-o", str(out), "--suppress-below", "20"],
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    props = json.loads(re.search(r"_props = (\{.*?\});\n", html, re.S).group(1))["desa"]
    codes, counts = props["t2"], props["t3"]  # tooltip rows: desa, kecamatan, code, count ...
    small = hss_counts.set_index("kode_wilayah")["jumlah_miskin_ekstrem"].between(1, 19)
    assert small.sum() > 0
    for code, shown in zip(codes, counts, strict=True):
        if small[code]:
            assert shown == "–"
    assert "disamarkan" in html  # the legend says why some desa have no value
