"""A demanding user on the command line: messy tables, odd boundary files, wrong options.

Every failure must exit 1 with a message naming the file, row or column (2 for wrong usage), never
a traceback, and leave no output file behind, not even a hidden temporary one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from conftest import (
    HSS_DESA,
    HSS_KECAMATAN,
    KONSEL_DESA,
    LAHAT_DESA,
    SHARED,
    invoke,
    make_counts,
    need,
)

from povmap.counts import read_counts


def leftovers(folder: Path) -> list[str]:
    """Files in ``folder`` (none expected after a failure), hidden temporaries included."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def dinsos_recap(path: Path, counts: pd.DataFrame, *, formulas: bool = False) -> Path:
    """An XLSX recap as a Dinas Sosial makes it.

    Two title rows (merged), a blank row, "Jumlah" merged over "KK" and "Jiwa" beside a one-row
    "Jumlah Penduduk", a row of column numbers, the kecamatan written once per group (merged),
    numbers as text with thousands dots, "Jumlah Kecamatan" subtotals and a "JUMLAH" row as SUM
    formulas, a hidden first column and a second sheet. ``formulas`` writes the Jiwa cells as
    formulas without cached values, as openpyxl and some app exports leave them.
    """
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Rekap"
    ws.append(["REKAPITULASI DATA KEMISKINAN EKSTREM"])
    ws.append(["KABUPATEN HULU SUNGAI SELATAN TAHUN 2024"])
    ws.merge_cells("A1:G1")
    ws.merge_cells("A2:G2")
    ws.append([])
    ws.append(["No", "Kode Desa", "Kecamatan", "Desa/Kelurahan", "Jumlah", None, "Jumlah Penduduk"])
    ws.merge_cells("E4:F4")
    ws.append([None, None, None, None, "KK", "Jiwa", None])
    ws.append([1, 2, 3, 4, 5, 6, 7])
    row = 7
    for kecamatan, group in counts.groupby("nama_kecamatan", sort=False):
        start = row
        for i, desa in enumerate(group.itertuples()):
            jiwa = int(desa.jumlah_miskin_ekstrem)
            ws.append(
                [
                    row - 6,
                    desa.kode_wilayah,
                    kecamatan if i == 0 else None,
                    desa.nama_desa,
                    f"{int(desa.jumlah_keluarga_miskin_ekstrem):,}".replace(",", "."),
                    f"={jiwa}*1" if formulas else jiwa,
                    f"{int(desa.jumlah_penduduk):,}".replace(",", "."),
                ]
            )
            row += 1
        ws.merge_cells(f"C{start}:C{row - 1}")
        ws.append(
            [
                None,
                None,
                f"Jumlah Kecamatan {kecamatan}",
                None,
                f"=SUM(E{start}:E{row - 1})",
                f"=SUM(F{start}:F{row - 1})",
                f"=SUM(G{start}:G{row - 1})",
            ]
        )
        row += 1
    ws.append([None, None, "JUMLAH", None, f"=SUM(E7:E{row})", f"=SUM(F7:F{row})", None])
    ws.column_dimensions["A"].hidden = True
    book.create_sheet("Catatan")["A1"] = "Sumber: P3KE Dinas Sosial"
    book.save(path)
    return path


def test_recap_two_row_header_beside_one_row_header_keeps_every_column(hss_counts, tmp_path):
    # "Jumlah Penduduk" made the top row a header by itself, so "Jumlah" over KK/Jiwa was lost,
    # and the blank row above the header was read as its merged top half.
    path = dinsos_recap(tmp_path / "rekap.xlsx", hss_counts)
    read = read_counts(path)
    counts = read.frame
    assert read.source.header_row == 5
    assert len(counts) == 148
    assert counts["jumlah_miskin_ekstrem"].sum() == hss_counts["jumlah_miskin_ekstrem"].sum()
    assert (
        counts["jumlah_keluarga_miskin_ekstrem"].sum()
        == hss_counts["jumlah_keluarga_miskin_ekstrem"].sum()
    )
    assert counts["jumlah_penduduk"].sum() == hss_counts["jumlah_penduduk"].sum()

    report = tmp_path / "laporan.json"
    code, out = invoke("join", need(HSS_DESA), path, "-o", tmp_path / "j.gpkg", "--report", report)
    assert code == 0, out
    totals = json.loads(report.read_text())["totals"]
    assert totals["jumlah_miskin_ekstrem"] == {
        "input": int(hss_counts["jumlah_miskin_ekstrem"].sum()),
        "matched": int(hss_counts["jumlah_miskin_ekstrem"].sum()),
        "unmatched": 0,
    }


def test_formulas_without_cached_values_are_refused_by_row_and_column(hss_counts, tmp_path):
    path = dinsos_recap(tmp_path / "rekap.xlsx", hss_counts, formulas=True)
    out_dir = tmp_path / "keluaran"
    code, out = invoke("map", need(HSS_DESA), path, "-o", out_dir / "peta.html")
    assert code == 1
    assert "baris 7, kolom 'Jumlah Jiwa'" in out and "=" in out and "simpan ulang" in out
    assert leftovers(out_dir) == []


def test_column_map_error_lists_the_header_row_not_a_data_row(hss_counts_csv, tmp_path):
    code, out = invoke(
        "map",
        need(HSS_DESA),
        hss_counts_csv,
        "-o",
        tmp_path / "p.html",
        "--column-map",
        "jumlah_penduduk=Jml Pddk",
    )
    assert code == 1
    assert "'Jml Pddk' tidak ada" in out
    assert "Kolom yang ada: kode_wilayah, nama_kecamatan, nama_desa" in out


@pytest.mark.parametrize(
    "option",
    [
        ("--breaks", "1,,x"),
        ("--breaks", "5,1"),
        ("--breaks", "1,1,2"),
        ("--breaks", "-"),
        ("--column-map", "jumlah_penduduk"),
        ("-k", "1"),
        ("--lang", "xx"),
        ("--scheme", "acak"),
    ],
)
def test_malformed_options_are_usage_errors(option, hss_counts_csv, tmp_path):
    # --breaks and --column-map are parsed inside the command: they used to exit 1 as an
    # "unexpected error in povmap" instead of 2 with the usage line.
    code, out = invoke("map", need(HSS_DESA), hss_counts_csv, "-o", tmp_path / "p.html", *option)
    assert code == 2, out
    assert "Penggunaan:" in out and option[0] in out  # the usage line, in Indonesian by default
    assert "tak terduga" not in out
    assert leftovers(tmp_path) == ["hss_counts.csv"]


def test_breaks_written_the_indonesian_way(hss_counts_csv, tmp_path):
    code, out = invoke(
        "map", need(HSS_DESA), hss_counts_csv, "-o", tmp_path / "p.html", "--breaks", "1;2,5;5"
    )
    assert code == 0, out
    classes = json.loads((tmp_path / "p.manifest.json").read_text())
    assert "2.5" in json.dumps(classes) and "[1.0, 2.5, 5.0" in json.dumps(classes)


@pytest.mark.parametrize(
    "command,output",
    [
        ("map", "/proc/povmap-tidak-ada/peta.html"),
        ("join", "/proc/gabung.gpkg"),
        ("export", "/proc/povmap-bundel"),
        ("pockets", "/proc/kantong.geojson"),
    ],
)
def test_unwritable_output_folder_is_named(command, output, hss_counts_csv):
    # /proc refuses new files even to root: the message named only a hidden temporary file.
    extra = ("--permutations", "99") if command == "pockets" else ()
    code, out = invoke(command, need(HSS_DESA), hss_counts_csv, "-o", output, *extra)
    assert code == 1
    assert f"folder {Path(output).parent}" in out and "tidak dapat ditulis" in out
    assert "/proc/." not in out


def test_map_output_suffix_checked_before_the_analysis(tmp_path):
    # The boundary file does not exist: a wrong -o must be reported first, without reading it.
    code, out = invoke(
        "map", tmp_path / "tidak_ada.shp", tmp_path / "tidak_ada.csv", "-o", tmp_path / "peta.txt"
    )
    assert code == 1 and "gunakan akhiran .html" in out


def test_output_that_is_a_folder(hss_counts_csv, tmp_path):
    code, out = invoke("map", need(HSS_DESA), hss_counts_csv, "-o", tmp_path)
    assert code == 2 and "adalah folder" in out  # click's own words, in Indonesian by default
    code, out = invoke(
        "export", need(HSS_DESA), hss_counts_csv, "-o", hss_counts_csv, "--lang", "en"
    )
    assert code == 2 and "is a file" in out


def test_excel_mangled_codes(hss_counts, tmp_path):
    # "'6306012002" (Excel's text marker) is a good code; "6.30601E+09" lost its last digits and
    # must not count as a BPS code, which sent the whole table to name matching.
    table = hss_counts.copy()
    undotted = table["kode_wilayah"].str.replace(".", "")
    table["kode_wilayah"] = [
        [f"{float(c):.5E}", f"'{c}", c, f"{c}.0"][i % 4] for i, c in enumerate(undotted)
    ]
    path = tmp_path / "kode_excel.csv"
    table.to_csv(path, index=False)
    report = tmp_path / "laporan.json"
    code, out = invoke("join", need(HSS_DESA), path, "-o", tmp_path / "j.gpkg", "--report", report)
    assert code == 0, out
    data = json.loads(report.read_text())
    assert data["matched_by"] == {"code": 111, "name": 37, "fuzzy": 0}
    assert not data["unmatched_counts"]
    assert "37 kode terpotong" in out and "baris 2, 6, 10" in out and "BPS" not in out


def test_table_with_both_bps_and_kemendagri_codes(hss_counts, tmp_path):
    table = pd.DataFrame(
        {
            "Kode Desa (BPS)": [f"6306{i:06d}" for i in range(len(hss_counts))],
            "Kode": [f"6306{i:06d}" for i in range(len(hss_counts))],
            "Kode Desa (Kemendagri)": hss_counts["kode_wilayah"].str.replace(".", ""),
            "Kecamatan": hss_counts["nama_kecamatan"],
            "Desa": hss_counts["nama_desa"],
            "Jumlah Jiwa": hss_counts["jumlah_miskin_ekstrem"],
        }
    )
    path = tmp_path / "dua_kode.csv"
    table.to_csv(path, index=False)
    assert read_counts(path).source.columns["kode_wilayah"] == "Kode Desa (Kemendagri)"
    code, out = invoke("join", need(HSS_DESA), path, "-o", tmp_path / "j.gpkg")
    assert code == 0 and "(code: 148)" in out


def test_two_count_columns_with_the_same_title_are_refused(hss_counts, tmp_path):
    # The second "Jumlah Jiwa" (here the desil 1 counts) was silently ignored.
    path = tmp_path / "judul_ganda.csv"
    hss_counts[
        ["kode_wilayah", "nama_desa", "jumlah_miskin_ekstrem", "jumlah_penduduk", "jumlah_desil_1"]
    ].set_axis(["Kode", "Desa", "Jumlah Jiwa", "Jumlah Penduduk", "Jumlah Jiwa"], axis=1).to_csv(
        path, index=False
    )
    code, out = invoke("join", need(HSS_DESA), path, "-o", tmp_path / "keluaran" / "j.gpkg")
    assert code == 1
    assert "baris 1: judul kolom 'Jumlah Jiwa' muncul lebih dari sekali (kolom C dan E)" in out
    assert leftovers(tmp_path / "keluaran") == []


@pytest.mark.parametrize(
    "name,change,message",
    [
        (
            "lebih",
            {3: ("jumlah_miskin_ekstrem", 999999)},
            "baris 5: jumlah_miskin_ekstrem (999.999) lebih besar dari jumlah_penduduk (3.606)",
        ),
        (
            "negatif",
            {5: ("jumlah_miskin_ekstrem", -4)},
            "baris 7: jumlah_miskin_ekstrem bernilai negatif (-4)",
        ),
    ],
)
def test_impossible_values_named_with_indonesian_numbers(
    name, change, message, hss_counts, tmp_path
):
    table = hss_counts.copy()
    for row, (column, value) in change.items():
        table.loc[row, column] = value
    path = tmp_path / f"{name}.csv"
    table.to_csv(path, index=False)
    out_dir = tmp_path / "keluaran"
    code, out = invoke("export", need(HSS_DESA), path, "-o", out_dir)
    assert code == 1 and message in out and "--allow-invalid" in out
    assert leftovers(out_dir) == [] and not [p for p in tmp_path.iterdir() if p.name[0] == "."]


def test_desa_listed_twice_is_reported_and_counted_unmatched(hss_counts, tmp_path):
    extra = hss_counts.iloc[[7]].assign(jumlah_miskin_ekstrem=1)
    path = tmp_path / "ganda.csv"
    pd.concat([hss_counts, extra]).to_csv(path, index=False)
    code, out = invoke("join", need(HSS_DESA), path, "-o", tmp_path / "j.gpkg")
    assert code == 1 and "baris 9, 150" in out and "nilai berbeda" in out
    report = tmp_path / "laporan.json"
    code, out = invoke(
        "join",
        need(HSS_DESA),
        path,
        "-o",
        tmp_path / "j.gpkg",
        "--report",
        report,
        "--allow-invalid",
    )
    assert code == 0, out
    data = json.loads(report.read_text())
    total = int(hss_counts["jumlah_miskin_ekstrem"].sum())
    assert data["totals"]["jumlah_miskin_ekstrem"] == {
        "input": total + 1,
        "matched": total,
        "unmatched": 1,
    }
    assert [(r["baris"], r["alasan"]) for r in data["unmatched_counts"]] == [(150, "baris_ganda")]


def shapefile_zip(
    gdf: gpd.GeoDataFrame,
    path: Path,
    members: dict[str, str],
    keep: tuple[str, ...] = ("shp", "shx", "dbf", "prj", "cpg"),
) -> Path:
    """Zip shapefiles: ``members`` maps a name in the zip (folders allowed) to a layer written
    from ``gdf`` (``"desa"``) or the HSS kecamatan layer (``"kecamatan"``)."""
    layers = {"desa": gdf, "kecamatan": gpd.read_file(need(HSS_KECAMATAN))}
    with zipfile.ZipFile(path, "w") as archive:
        for inner, which in members.items():
            folder = path.parent / f"_{path.stem}_{Path(inner).name}"
            folder.mkdir()
            layers[which].to_file(folder / "x.shp")
            for part in folder.iterdir():
                if part.suffix[1:] in keep:
                    archive.write(part, f"{inner}.{part.suffix[1:]}")
    return path


def test_zipped_shapefiles_without_prj_in_a_folder_or_two(hss_raw, hss_counts_csv, tmp_path):
    no_prj = shapefile_zip(
        hss_raw, tmp_path / "tanpa_prj.zip", {"batas": "desa"}, keep=("shp", "shx", "dbf")
    )
    code, out = invoke("map", no_prj, hss_counts_csv, "-o", tmp_path / "a.html")
    assert code == 0, out  # lon/lat coordinates: taken as WGS 84
    utm = shapefile_zip(
        hss_raw.to_crs(32750), tmp_path / "utm.zip", {"batas": "desa"}, keep=("shp", "shx", "dbf")
    )
    code, out = invoke("map", utm, hss_counts_csv, "-o", tmp_path / "b.html")
    assert code == 1 and "utm.zip" in out and ".prj" in out
    # BIG downloads unzip to a folder: the shapefile is not at the zip's root.
    nested = shapefile_zip(hss_raw, tmp_path / "folder.zip", {"BATAS DESA/batas": "desa"})
    code, out = invoke("map", nested, hss_counts_csv, "-o", tmp_path / "c.html")
    assert code == 0, out
    two = shapefile_zip(hss_raw, tmp_path / "dua.zip", {"data_a": "desa", "data_b": "kecamatan"})
    code, out = invoke("map", two, hss_counts_csv, "-o", tmp_path / "d.html")
    assert code == 1 and "beberapa layer (data_a, data_b)" in out and "--layer" in out
    code, out = invoke("map", two, hss_counts_csv, "-o", tmp_path / "d.html", "--layer", "data_a")
    assert code == 0, out
    code, out = invoke("map", two, hss_counts_csv, "-o", tmp_path / "d.html", "--layer", "desa")
    assert code == 1 and "layer 'desa' tidak ada; layer yang ada: data_a, data_b" in out
    assert not (tmp_path / "b.html").exists()


def test_geopackage_whose_guessed_layer_is_kecamatan(hss_raw, hss_counts_csv, tmp_path):
    path = tmp_path / "banyak.gpkg"
    hss_raw.to_file(path, layer="batas_a")
    gpd.read_file(need(HSS_KECAMATAN)).to_file(path, layer="kecamatan_b")
    code, out = invoke("map", path, hss_counts_csv, "-o", tmp_path / "p.html")
    assert code == 1
    assert "banyak.gpkg (layer kecamatan_b)" in out and "--layer" in out


@pytest.mark.parametrize("kind", ["point", "line", "some points"])
def test_boundary_file_of_points_or_lines_is_refused(kind, hss_raw, hss_counts_csv, tmp_path):
    # Points and lines reached the map code and failed there as an "unexpected error".
    gdf = hss_raw.copy()
    if kind == "point":
        gdf["geometry"] = gdf.representative_point()
    elif kind == "line":
        gdf["geometry"] = gdf.boundary
    else:
        gdf.loc[[0, 1, 2], "geometry"] = gdf.representative_point()[[0, 1, 2]]
    path = tmp_path / "batas.geojson"
    gdf.to_file(path)
    out_dir = tmp_path / "keluaran"
    code, out = invoke("map", path, hss_counts_csv, "-o", out_dir / "p.html")
    assert code == 1
    assert "bukan poligon" in out and "fitur ke-1 (63.06.01.2001)" in out
    assert leftovers(out_dir) == []


def test_collections_keep_their_polygons_and_empty_geometries_are_reported(
    hss_raw, hss_counts_csv, tmp_path
):
    gdf = hss_raw.copy()
    first = gdf.geometry.iloc[0]
    gdf.loc[0, "geometry"] = shapely.GeometryCollection(
        [first, shapely.LineString([(0, 0), (1, 1)])]
    )
    gdf.loc[4, "geometry"] = shapely.Polygon()
    gdf.loc[5, "geometry"] = None
    path = tmp_path / "batas.gpkg"
    gdf.to_file(path)
    report = tmp_path / "laporan.json"
    code, out = invoke("join", path, hss_counts_csv, "-o", tmp_path / "j.gpkg", "--report", report)
    assert code == 0, out
    assert "2 wilayah tanpa geometri" in out and "63.06.01.2005, 63.06.01.2006" in out
    joined = gpd.read_file(tmp_path / "j.gpkg", layer="desa")
    assert joined.geometry.iloc[0].equals(first)


def test_konawe_selatan_table_of_another_code_edition(tmp_path):
    # idn-area-data numbers Ranowila 74.05.07.2021 (Konda) and Wonuakoa 74.05.05.2028 (Landono);
    # the boundaries have 74.05.18.2006 (Wolasi) and 74.05.24.2009 Wonua Koa (Sabulakoa).
    villages = pd.read_csv(need(SHARED / "codes" / "idn-area-data" / "villages.csv"), dtype=str)
    districts = pd.read_csv(SHARED / "codes" / "idn-area-data" / "districts.csv", dtype=str)
    table = villages[villages["code"].str.startswith("74.05.")].merge(
        districts.rename(columns={"code": "district_code", "name": "Kecamatan"})[
            ["district_code", "Kecamatan"]
        ],
        on="district_code",
    )
    table = table.rename(columns={"code": "Kode Wilayah", "name": "Desa"})
    table["Jumlah Jiwa"] = range(1, len(table) + 1)
    path = tmp_path / "konsel.csv"
    table[["Kode Wilayah", "Kecamatan", "Desa", "Jumlah Jiwa"]].to_csv(path, index=False)
    report = tmp_path / "laporan.json"
    code, out = invoke(
        "join", need(KONSEL_DESA), path, "-o", tmp_path / "j.gpkg", "--report", report
    )
    assert code == 0, out
    data = json.loads(report.read_text())
    unmatched = {r["kode_wilayah"]: r for r in data["unmatched_counts"]}
    assert set(unmatched) == {"74.05.07.2021", "74.05.05.2028"}
    assert unmatched["74.05.07.2021"]["kandidat"][0]["kode_desa"] == "74.05.18.2006"
    assert unmatched["74.05.05.2028"]["kandidat"][0]["kode_desa"] == "74.05.24.2009"
    assert {a["kode_desa"] for a in data["unmatched_boundaries"]} == {
        "74.05.18.2006",
        "74.05.24.2009",
    }
    total = data["totals"]["jumlah_miskin_ekstrem"]
    assert total["input"] == total["matched"] + total["unmatched"] == sum(range(1, len(table) + 1))
    assert "2 baris tidak ditemukan di kecamatannya" in out


def by_name_export(hss_raw: gpd.GeoDataFrame, path: Path, families: int = 600) -> Path:
    """A P3KE family export: a title row, NIK and codes stored as numbers, names, addresses."""
    rows = []
    for f in range(families):
        desa = hss_raw.iloc[(f * 7) % len(hss_raw)]
        rows.append(
            {
                "id_keluarga_P3KE": f"P3KE{f:08d}",
                "Kecamatan": desa["nama_kec"].upper(),
                "Desa/Kelurahan": desa["nama"].upper(),
                "kode_kemdagri": int(desa["kode_nodot"]),
                "Kepala Keluarga": f"Siti Rahmah {f}",
                "NIK": 6306015507800000 + f,
                "Alamat": f"Jl. Melati RT {f % 9:02d}",
                "desil_kesejahteraan": 1 + f % 4,
                "Jumlah Anggota Keluarga": 1 + f % 5,
                "status_keberadaan": ("Ditemukan", "Meninggal", "Pindah")[
                    (f % 5 == 4) + (f % 10 == 9)
                ],
            }
        )
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame([["DATA P3KE KAB. HULU SUNGAI SELATAN"]]).to_excel(
            writer, sheet_name="Data", header=False, index=False
        )
        pd.DataFrame(rows).to_excel(writer, sheet_name="Data", index=False, startrow=2)
    return path


def test_p3ke_by_name_with_numeric_nik_through_every_command(hss_raw, tmp_path):
    # pockets tested persen_miskin_ekstrem, which a by-name export cannot give, and failed with a
    # list of every layer column; map --kantong used the desil fallback. Now both use it.
    path = by_name_export(hss_raw, tmp_path / "p3ke.xlsx")
    out = tmp_path / "keluaran"
    runs = [
        ("export", out / "bundel"),
        ("map", out / "peta.html"),
        ("pockets", out / "kantong.geojson", "--permutations", "99"),
        ("join", out / "gabung.geojson", "--report", out / "laporan.json"),
    ]
    for command, target, *extra in runs:
        code, text = invoke(command, need(HSS_DESA), path, "-o", target, *extra)
        assert code == 0, text
    assert "yang dipetakan: jumlah_desil_1" in text and "meninggal" in text
    report = json.loads((out / "laporan.json").read_text())
    assert report["totals"]["jumlah_keluarga_desil_1"]["input"] > 0
    written = [p for p in out.rglob("*") if p.is_file()]
    assert len(written) > 15
    for file in written:
        data = file.read_bytes()
        for secret in (b"Siti Rahmah", b"Melati", b"63060155078", b"P3KE0000"):
            assert secret not in data, (file.name, secret)


def test_lahat_names_only_map_says_where_the_rest_is_and_what_to_add(tmp_path):
    lahat = gpd.read_file(need(LAHAT_DESA))
    counts = make_counts(lahat, seed=1604)
    with_kecamatan = tmp_path / "lahat_nama.csv"
    counts.drop(columns="kode_wilayah").to_csv(with_kecamatan, index=False)
    code, out = invoke("map", LAHAT_DESA, with_kecamatan, "-o", tmp_path / "a.html")
    assert code == 0 and "Baris tabel cocok: 378 (name: 378)" in out
    desa_only = tmp_path / "lahat_desa.csv"
    counts.drop(columns=["kode_wilayah", "nama_kecamatan"]).to_csv(desa_only, index=False)
    code, out = invoke("map", LAHAT_DESA, desa_only, "-o", tmp_path / "b.html", "--lang", "en")
    assert code == 0
    # 42 names repeat in Lahat: their 104 rows are ambiguous; the terminal lists 10 of them.
    assert "Ambiguous rows: 104" in out and "... and 94 more rows" in out
    assert "add a Kecamatan column" in out
    manifest = json.loads((tmp_path / "b.manifest.json").read_text())["penggabungan"]
    total = manifest["totals"]["jumlah_miskin_ekstrem"]
    assert (
        total["input"]
        == total["matched"] + total["unmatched"]
        == counts["jumlah_miskin_ekstrem"].sum()
    )


def test_table_with_population_only_says_which_column_is_missing(hss_counts, tmp_path):
    path = tmp_path / "penduduk.csv"
    hss_counts[["kode_wilayah", "nama_desa", "jumlah_penduduk"]].to_csv(path, index=False)
    code, out = invoke("map", need(HSS_DESA), path, "-o", tmp_path / "keluaran" / "p.html")
    assert code == 1
    assert "kolom jumlah yang terbaca: jumlah_penduduk" in out and "--column-map" in out
    assert leftovers(tmp_path / "keluaran") == []


def test_empty_tables_and_files_that_are_not_xlsx(hss_counts, tmp_path):
    header_only = tmp_path / "judul.csv"
    hss_counts.head(0).to_csv(header_only, index=False)
    old = tmp_path / "lama.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))  # an OLE2 header
    cases = {
        header_only: "tidak ada baris data di bawah judul kolom (baris 1)",
        old: "simpan sebagai .xlsx atau CSV",
    }
    for path, message in cases.items():
        code, out = invoke("map", need(HSS_DESA), path, "-o", tmp_path / "keluaran" / "p.html")
        assert code == 1 and path.name in out and message in out
    assert leftovers(tmp_path / "keluaran") == []


def test_real_process_no_traceback_and_exit_codes(hss_counts_csv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "POVMAP_DEBUG"}
    base = [sys.executable, "-m", "povmap.cli"]
    points = tmp_path / "titik.geojson"
    gdf = gpd.read_file(need(HSS_DESA))
    gdf.assign(geometry=gdf.representative_point()).to_file(points)
    bad = subprocess.run(
        [*base, "map", str(points), str(hss_counts_csv), "-o", str(tmp_path / "out" / "p.html")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("Galat: ") and "titik.geojson" in bad.stderr
    usage = subprocess.run(
        [
            *base,
            "map",
            str(HSS_DESA),
            str(hss_counts_csv),
            "-o",
            str(tmp_path / "out" / "p.html"),
            "--breaks",
            "5,1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
    assert "Penggunaan:" in usage.stderr
    assert leftovers(tmp_path / "out") == []


def test_sheets_named_by_year_hidden_first_sheet_and_a_missing_sheet(hss_counts, tmp_path):
    book = openpyxl.Workbook()
    raw = book.active
    raw.title = "Mentah"
    raw.sheet_state = "hidden"  # the raw list a Dinsos recap is computed from
    raw.append(["catatan"])
    for year, scale in (("2023", 1), ("2024", 2)):
        ws = book.create_sheet(year)
        ws.append(["Kode Desa", "Desa", "Jumlah Jiwa"])
        for desa in hss_counts.itertuples():
            ws.append([desa.kode_wilayah, desa.nama_desa, int(desa.jumlah_miskin_ekstrem) * scale])
    path = tmp_path / "rekap_tahunan.xlsx"
    book.save(path)
    total = hss_counts["jumlah_miskin_ekstrem"].sum()
    assert read_counts(path).frame["jumlah_miskin_ekstrem"].sum() == total  # first visible sheet
    # "--sheet 2024" is the sheet named 2024, not the 2025th sheet.
    code, out = invoke(
        "join",
        need(HSS_DESA),
        path,
        "--sheet",
        "2024",
        "-o",
        tmp_path / "j.gpkg",
        "--report",
        tmp_path / "r.json",
    )
    assert code == 0, out
    assert (
        json.loads((tmp_path / "r.json").read_text())["totals"]["jumlah_miskin_ekstrem"]["input"]
        == 2 * total
    )
    code, out = invoke("join", HSS_DESA, path, "--sheet", "2025", "-o", tmp_path / "k.gpkg")
    assert code == 1 and "sheet 2025 tidak ada; sheet yang ada: Mentah, 2023, 2024" in out


def test_utf8_bom_semicolons_and_trailing_empty_columns(hss_counts, tmp_path):
    lines = ["Kode Wilayah;Kecamatan;Desa/Kelurahan;Jumlah Penduduk;Jumlah Jiwa;;;"]
    lines += [
        f"{d.kode_wilayah};{d.nama_kecamatan};{d.nama_desa};"
        f"{int(d.jumlah_penduduk):,};{d.jumlah_miskin_ekstrem};;;".replace(",", ".")
        for d in hss_counts.itertuples()
    ]
    path = tmp_path / "bom.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    read = read_counts(path)
    counts = read.frame
    assert read.source.columns["kode_wilayah"] == "Kode Wilayah"  # BOM stripped
    assert counts["jumlah_penduduk"].sum() == hss_counts["jumlah_penduduk"].sum()
    assert len(counts) == 148


def test_unknown_basemap_fails_before_reading_anything(tmp_path):
    code, out = invoke(
        "map",
        tmp_path / "tidak_ada.geojson",
        tmp_path / "tidak_ada.csv",
        "-o",
        tmp_path / "p.html",
        "--tiles",
        "google",
    )
    assert code == 1 and "--tiles 'google' tidak dikenal" in out
