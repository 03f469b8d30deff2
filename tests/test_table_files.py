"""Tables as offices really send them: damaged or hostile XLSX files, signature blocks under the
table, header spellings, codes Excel mangled, and input files given in the wrong order.

Every table is generated from the real Lahat or Konawe Selatan desa (not the handed HSS cases).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import KONSEL_DESA, LAHAT_DESA, make_counts, need

import povmap
from povmap._errors import PovmapInputError


def cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "povmap.cli", *map(str, args)], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def lahat_raw() -> gpd.GeoDataFrame:
    return gpd.read_file(need(LAHAT_DESA))


@pytest.fixture
def lahat_xlsx(lahat_raw, tmp_path) -> Path:
    path = tmp_path / "rekap_lahat.xlsx"
    make_counts(lahat_raw, seed=1604).to_excel(path, index=False)
    return path


def rewrite(source: Path, target: Path, change) -> Path:
    """Copy an XLSX member by member; ``change(name, data)`` returns new data or None to drop."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info.filename))
            if data is not None:
                new.writestr(info.filename, data)
    return target


@pytest.mark.parametrize(
    ("damage", "what"),
    [
        ("cut_sheet", "isinya terpotong atau rusak"),
        ("no_sheet", "bagian berkas hilang (sheet atau bagian yang didaftar workbook: Sheet1)"),
        ("cut_workbook", "isinya terpotong atau rusak"),
    ],
)
def test_damaged_xlsx_named_with_what_is_wrong_and_how_to_fix(damage, what, lahat_xlsx, tmp_path):
    def change(name: str, data: bytes) -> bytes | None:
        if damage == "cut_sheet" and name == "xl/worksheets/sheet1.xml":
            return data[: len(data) // 2]
        if damage == "no_sheet" and name == "xl/worksheets/sheet1.xml":
            return None
        if damage == "cut_workbook" and name == "xl/workbook.xml":
            return data[: len(data) // 3]
        return data

    broken = rewrite(lahat_xlsx, tmp_path / f"{damage}.xlsx", change)
    start = time.monotonic()
    proc = cli("join", LAHAT_DESA, broken, "-o", tmp_path / "gabung.gpkg")
    assert time.monotonic() - start < 60
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"Galat: {broken}: berkas XLSX rusak: {what}")
    assert "simpan ulang sebagai .xlsx atau CSV" in proc.stderr
    assert "tak terduga" not in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "gabung.gpkg").exists()


def test_corrupt_compressed_data_is_a_damaged_file(lahat_xlsx, tmp_path):
    data = bytearray(lahat_xlsx.read_bytes())
    with zipfile.ZipFile(lahat_xlsx) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 200, start + 260):
        data[i] ^= 0x5A
    broken = tmp_path / "crc.xlsx"
    broken.write_bytes(bytes(data))
    with pytest.raises(PovmapInputError, match="berkas XLSX rusak: data terkompresinya rusak"):
        povmap.read_counts(broken)


def test_zip_bomb_refused_before_it_is_unpacked(lahat_xlsx, tmp_path):
    bomb = tmp_path / "bom.xlsx"
    with (
        zipfile.ZipFile(lahat_xlsx) as old,
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as new,
    ):
        for info in old.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                new.writestr(info.filename, old.read(info.filename))
        with new.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                b'2006/main"><sheetData>'
            )
            block = b" " * (1 << 20)
            for _ in range(300):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")
    assert bomb.stat().st_size < 3 * 2**20
    start = time.monotonic()
    with pytest.raises(PovmapInputError) as caught:
        povmap.read_counts(bomb)
    assert time.monotonic() - start < 5
    message = str(caught.value)
    assert message.startswith(
        f"{bomb}: XLSX ditolak sebelum dibuka: isinya akan membesar menjadi 300 MB"
    )
    assert "xl/worksheets/sheet1.xml dipadatkan" in message and "zip bomb" in message
    assert "unpack to 300 MB" in caught.value.message("en")


SIGNER = "Drs. H. Rustam Effendi Sanjaya, M.Si"


def recap_with_signature(
    raw: gpd.GeoDataFrame, path: Path, headers: list[str], *, blank_last: bool = False
) -> tuple[Path, pd.DataFrame]:
    """A Dinsos recap: title, header, one row per desa, JUMLAH, source line and signature block.

    The signer's name is written both in a count column and in the desa column, as the block
    falls wherever the office put it.
    """
    counts = make_counts(raw, seed=74).head(60)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["REKAPITULASI DATA KEMISKINAN EKSTREM PER DESA"])
    sheet.append([])
    sheet.append(["No", "Kecamatan", "Desa/Kelurahan", *headers])
    columns = ["jumlah_keluarga_miskin_ekstrem", "jumlah_miskin_ekstrem", "jumlah_penduduk"]
    for i, row in enumerate(counts.itertuples(), start=1):
        values = [getattr(row, c) for c in columns]
        if blank_last and i == len(counts):
            values = [None, None, None]
        sheet.append([i, row.nama_kecamatan, row.nama_desa, *values])
    sheet.append(["JUMLAH", None, None, *(int(counts[c].sum()) for c in columns)])
    sheet.append([])
    sheet.append(["Sumber: Dinas Sosial (data P3KE)"])
    sheet.append([])
    sheet.append([None, None, None, "Andoolo, 15 Maret 2024"])
    sheet.append([None, None, None, "KEPALA DINAS SOSIAL"])
    sheet.append([])
    sheet.append([None, None, SIGNER])
    sheet.append([None, None, None, SIGNER])
    sheet.append([None, None, None, "NIP. 19700101 199803 1 001"])
    sheet.append([None, None, None, "19700101 199803 1 001"])  # a NIP without its label
    book.save(path)
    if blank_last:
        counts.loc[counts.index[-1], columns] = np.nan
    return path, counts


def test_signature_block_under_a_recap_is_skipped_and_its_name_never_shown(tmp_path):
    raw = gpd.read_file(need(KONSEL_DESA))
    path, counts = recap_with_signature(
        raw, tmp_path / "rekap.xlsx", ["Jml. KK Miskin", "Jml. Jiwa Miskin", "Jml Penduduk"]
    )
    report = tmp_path / "laporan.json"
    proc = cli("join", KONSEL_DESA, path, "-o", tmp_path / "gabung.gpkg", "--report", report)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["matched"] == 60 and data["unmatched_counts"] == []
    for column in ("jumlah_miskin_ekstrem", "jumlah_keluarga_miskin_ekstrem", "jumlah_penduduk"):
        assert data["totals"][column]["input"] == counts[column].sum()
    # 60 desa from row 4; JUMLAH on row 64; the block is rows 66-74, 7 of them not blank.
    note = (
        "7 baris teks di bawah tabel (baris 66-74: tempat dan tanggal, tanda tangan, sumber) "
        "bukan data dan dilewati."
    )
    assert note in data["notes"] and f"! {note}" in proc.stderr
    shown = report.read_text(encoding="utf-8") + proc.stderr + proc.stdout
    assert "Rustam" not in shown and "199803" not in shown


def test_desa_with_blank_counts_above_the_signature_stays_data(tmp_path):
    raw = gpd.read_file(need(KONSEL_DESA))
    path, counts = recap_with_signature(
        raw,
        tmp_path / "rekap.xlsx",
        ["Jumlah KK", "Jumlah Jiwa", "Jumlah Penduduk"],
        blank_last=True,
    )
    read = povmap.read_counts(path)
    table = read.frame
    assert len(table) == 60
    assert table["nama_desa"].iloc[-1] == counts["nama_desa"].iloc[-1]
    assert np.isnan(table["jumlah_miskin_ekstrem"].iloc[-1])
    assert read.source.footer_rows == [66, 68, 69, 71, 72, 73, 74]


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("Jml. Jiwa Miskin", "jumlah_miskin_ekstrem"),
        ("Jumlah Jiwa Miskin Ekstrem", "jumlah_miskin_ekstrem"),
        ("JML JIWA MISKIN EKSTRIM", "jumlah_miskin_ekstrem"),
        ("Jml. KK Miskin", "jumlah_keluarga_miskin_ekstrem"),
        ("Jumlah RTM", "jumlah_keluarga_miskin_ekstrem"),
        ("Jml Penduduk", "jumlah_penduduk"),
        ("Jumlah Penduduk (Jiwa)", "jumlah_penduduk"),
        ("Jml. KK Desil 3", "jumlah_keluarga_desil_3"),
    ],
)
def test_common_header_variants(header, canonical, tmp_path):
    pd.DataFrame(
        {"Kecamatan": ["Andoolo"], "Nama Desa/Kelurahan": ["Lapoa"], header: ["1.234"]}
    ).to_csv(tmp_path / "t.csv", index=False)
    counts = povmap.read_counts(tmp_path / "t.csv").frame
    assert counts[canonical].tolist() == [1234.0]
    assert counts["nama_desa"].tolist() == ["Lapoa"]


def test_header_alias_table_is_data(tmp_path):
    from povmap.counts import HEADER_ALIASES, load_header_aliases

    table = tmp_path / "aliases.csv"
    table.write_text(
        "# a comment\nkolom,judul\njumlah_miskin_ekstrem,Jml. Warga Sangat Miskin\n"
        "jumlah_desil_{d},Peringkat {d}\n",
        encoding="utf-8",
    )
    assert load_header_aliases(table) == {
        "jumlah_miskin_ekstrem": ("jumlah_warga_sangat_miskin",),
        **{f"jumlah_desil_{d}": (f"peringkat_{d}",) for d in range(1, 11)},
    }
    assert "jumlah_jiwa_miskin" in HEADER_ALIASES["jumlah_miskin_ekstrem"]


def test_codes_excel_turned_into_scientific_notation_are_named_as_such(lahat_raw, tmp_path):
    counts = make_counts(lahat_raw, seed=3)
    table = counts.drop(columns=["nama_desa", "nama_kecamatan"]).assign(
        kode_wilayah=[f"{float(k.replace('.', '')):.5E}" for k in counts["kode_wilayah"]]
    )
    table.to_csv(tmp_path / "kode.csv", index=False)
    assert table["kode_wilayah"].iloc[0] == "1.60401E+09"
    for lang, expected in (
        (
            "id",
            f"{tmp_path / 'kode.csv'}: kode wilayah di tabel diubah Excel menjadi notasi ilmiah "
            f"(mis. 1.60401E+09, baris 2, 3, 4, 5, 6 ...; 378 dari 378 baris): digit "
            "terakhirnya hilang",
        ),
        (
            "en",
            f"{tmp_path / 'kode.csv'}: Excel turned the table's area codes into scientific "
            "notation (e.g. 1.60401E+09, rows 2, 3, 4, 5, 6 ...; 378 of 378 rows): their last "
            "digits are lost",
        ),
    ):
        proc = cli(
            "join", LAHAT_DESA, tmp_path / "kode.csv", "-o", tmp_path / "g.gpkg", "--lang", lang
        )
        assert proc.returncode == 1
        assert expected in proc.stderr
        assert "Format Cells > Text" in proc.stderr
        assert "kolom kode (mis." not in proc.stderr and "add a code column" not in proc.stderr


@pytest.mark.parametrize("table_suffix", [".csv", ".xlsx"])
def test_files_given_in_the_wrong_order(table_suffix, lahat_raw, tmp_path):
    table = tmp_path / f"jumlah{table_suffix}"
    counts = make_counts(lahat_raw, seed=4)
    counts.to_csv(table, index=False) if table_suffix == ".csv" else counts.to_excel(
        table, index=False
    )
    for command, output in (
        ("join", "g.gpkg"),
        ("map", "p.html"),
        ("export", "bundel"),
        ("pockets", "k.geojson"),
    ):
        proc = cli(command, table, LAHAT_DESA, "-o", tmp_path / output, "--lang", "en")
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.startswith(
            f"Error: The files seem swapped: jumlah{table_suffix} is a table and "
            "1604_lahat_desa.geojson a boundary file. BOUNDARIES comes first"
        ), proc.stderr
        assert "Field1" not in proc.stderr
        assert not (tmp_path / output).exists()
    proc = cli("join", table, table, "-o", tmp_path / "g.gpkg")
    assert proc.returncode == 1
    assert f"{table}: berkas pertama harus berkas batas wilayah" in proc.stderr


def test_fuzzy_matches_named_in_the_report_and_the_terminal(tmp_path):
    raw = gpd.read_file(need(KONSEL_DESA))
    counts = make_counts(raw, seed=5).drop(columns="kode_wilayah")
    counts.loc[40, "nama_desa"] = "Mataiwoih"  # Mataiwoi, kecamatan Angata
    counts.to_csv(tmp_path / "nama.csv", index=False)
    report = tmp_path / "laporan.json"
    proc = cli(
        "join", KONSEL_DESA, tmp_path / "nama.csv", "-o", tmp_path / "g.gpkg", "--report", report
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["matched_by"]["fuzzy"] == 1
    assert data["fuzzy"] == [
        {
            "baris": 42,
            "nama_tabel": "Mataiwoih",
            "kode_desa": "74.05.02.2017",
            "nama_desa": "Mataiwoi",
            "nama_kecamatan": "Angata",
            "skor": 94.1,
        }
    ]
    assert (
        "Padanan ejaan mirip (periksa):\n"
        "  ~ baris 42: Mataiwoih → Mataiwoi (74.05.02.2017), skor 94\n"
    ) in proc.stderr
    english = povmap.join(
        povmap.read_boundaries(KONSEL_DESA), povmap.read_counts(tmp_path / "nama.csv")
    ).report.summary("en")
    assert "  ~ row 42: Mataiwoih → Mataiwoi (74.05.02.2017), score 94" in english


def test_xlsx_cut_short_is_damaged_and_other_files_are_not_xlsx(lahat_xlsx, tmp_path):
    cut = tmp_path / "terpotong.xlsx"
    cut.write_bytes(lahat_xlsx.read_bytes()[:5000])  # a download that stopped: no zip directory
    with pytest.raises(
        PovmapInputError, match="terpotong.xlsx: berkas XLSX rusak: data terkompresinya rusak"
    ):
        povmap.read_counts(cut)
    renamed = tmp_path / "tabel.xlsx"
    renamed.write_text("kode,jumlah\n1604012001,5\n")
    with pytest.raises(PovmapInputError, match=r"bukan berkas XLSX \(isinya bukan arsip zip\)"):
        povmap.read_counts(renamed)


def test_some_codes_in_scientific_notation_without_names_are_reported_as_such(lahat_raw, tmp_path):
    counts = make_counts(lahat_raw, seed=6).drop(columns=["nama_desa", "nama_kecamatan"])
    undotted = counts["kode_wilayah"].str.replace(".", "", regex=False)
    counts["kode_wilayah"] = [
        f"{float(c):.5E}" if i % 5 == 0 else c for i, c in enumerate(undotted)
    ]
    counts.to_csv(tmp_path / "kode.csv", index=False)
    report = povmap.join(
        povmap.read_boundaries(LAHAT_DESA), povmap.read_counts(tmp_path / "kode.csv")
    ).report
    cut = [r for r in report.unmatched_counts if r["alasan"] == "kode_terpotong"]
    assert len(cut) == len(report.unmatched_counts) == 76  # rows 2, 7, 12 ... of 378
    assert [r["baris"] for r in cut[:3]] == [2, 7, 12] and cut[0]["kode_asli"] == "1.60401E+09"
    assert report.notes[0].startswith(
        "76 kode terpotong: diubah spreadsheet menjadi notasi ilmiah (mis. 1.60401E+09, baris 2, "
        "7, 12,"
    )
    assert "baris tanpa nama desa tidak dapat dipadankan" in report.notes[0]
    assert "baris 2: 1.60401E+09 (kode diubah Excel menjadi notasi ilmiah" in report.summary()
