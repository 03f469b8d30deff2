"""Why a file could not be read or written, said in the user's language (#msgfix).

A library's or the system's English ("No such file or directory", pandas' "new-line character
seen in unquoted field") never stands for the reason inside an Indonesian message: the common
cases are catalogue sentences that say what to do; any other text comes last, as a detail.
"""

from __future__ import annotations

import csv
import errno
import zipfile

import geopandas as gpd
import pytest
from conftest import KAYONG_DESA, invoke, need

from povmap._errors import reason

#: Per errno / exception: words the Indonesian and the English reason must hold.
CASES = [
    (
        OSError(errno.ENOENT, "No such file or directory"),
        True,
        "folder tujuan tidak ada; buat foldernya dulu",
        "target folder does not exist",
    ),
    (
        OSError(errno.ENOENT, "No such file or directory"),
        False,
        "berkas atau folder itu tidak ada",
        "file or folder does not exist",
    ),
    (
        PermissionError(errno.EACCES, "Permission denied"),
        True,
        "tidak ada izin menulis",
        "no permission to write",
    ),
    (
        PermissionError(errno.EACCES, "Permission denied"),
        False,
        "tidak ada izin membaca",
        "no permission to read",
    ),
    (OSError(errno.EROFS, "Read-only file system"), True, "hanya-baca", "read-only"),
    (OSError(errno.ENOSPC, "No space left on device"), True, "disk penuh", "disk is full"),
    (
        IsADirectoryError(errno.EISDIR, "Is a directory"),
        False,
        "itu sebuah folder, bukan berkas",
        "that is a folder, not a file",
    ),
    (
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
        False,
        "bukan teks UTF-8",
        "not UTF-8 text",
    ),
    (
        csv.Error("new-line character seen in unquoted field"),
        False,
        "bukan berkas CSV teks; simpan ulang sebagai CSV UTF-8",
        "not a text CSV file",
    ),
    (
        zipfile.BadZipFile("File is not a zip file"),
        False,
        "bukan berkas XLSX (isinya bukan arsip zip); buka di Excel lalu simpan sebagai .xlsx",
        "not an XLSX file (its content is not a zip archive)",
    ),
]


@pytest.mark.parametrize("exc,writing,indonesian,english", CASES)
def test_common_errors_are_said_in_both_languages(exc, writing, indonesian, english):
    said = reason(exc, writing=writing)
    assert indonesian in said and english in said.en
    # The system's or the library's English is not repeated.
    assert str(exc.args[-1]) not in said and str(exc.args[-1]) not in said.en


def test_library_errors_by_class():
    import pandas as pd
    from openpyxl.utils.exceptions import InvalidFileException

    assert "bukan berkas CSV teks" in reason(pd.errors.ParserError("Error tokenizing data"))
    said = reason(InvalidFileException("openpyxl does not support .foo file format"))
    assert "bukan buku kerja XLSX" in said and "not an XLSX workbook" in said.en


def test_unknown_library_text_comes_last_after_what_to_do():
    said = reason(RuntimeError("GDAL: something odd"))
    assert said.startswith("periksa berkasnya")
    assert said.endswith("(rincian teknis: GDAL: something odd)")
    assert said.en.startswith("check the file")
    assert said.en.endswith("(technical detail: GDAL: something odd)")


@pytest.fixture
def kayong_csv(tmp_path):
    desa = gpd.read_file(need(KAYONG_DESA))
    path = tmp_path / "jumlah.csv"
    desa[["kode"]].rename(columns={"kode": "kode_desa"}).assign(jumlah_miskin_ekstrem=7).to_csv(
        path, index=False
    )
    return path


@pytest.mark.parametrize(
    "lang,expected",
    [
        (
            "id",
            "acak.csv: CSV tidak dapat dibaca: bukan berkas CSV teks; simpan ulang sebagai "
            "CSV UTF-8 dari Excel.",
        ),
        (
            "en",
            "acak.csv: cannot read the CSV: not a text CSV file; save it again as CSV UTF-8 "
            "from Excel.",
        ),
    ],
)
def test_random_bytes_as_csv(lang, expected, tmp_path):
    garbage = tmp_path / "acak.csv"
    # Bytes that decode (as latin-1) but hold a bare carriage return in an unquoted field.
    garbage.write_bytes(b'a,b\r\nx\ry\rz,"q"w"\x00\r\n')
    code, out = invoke("--lang", lang, "map", need(KAYONG_DESA), garbage, "-o", tmp_path / "p.html")
    assert code == 1
    assert expected in " ".join(out.split()), out


@pytest.mark.parametrize(
    "lang,expected",
    [
        (
            "id",
            "XLSX tidak dapat dibaca: bukan berkas XLSX (isinya bukan arsip zip); buka di Excel "
            "lalu simpan sebagai .xlsx.",
        ),
        (
            "en",
            "cannot read the XLSX: not an XLSX file (its content is not a zip archive); open it "
            "in Excel and save it as .xlsx.",
        ),
    ],
)
def test_csv_renamed_to_xlsx(lang, expected, kayong_csv, tmp_path):
    renamed = tmp_path / "tabel.xlsx"
    renamed.write_bytes(kayong_csv.read_bytes())
    code, out = invoke("--lang", lang, "map", KAYONG_DESA, renamed, "-o", tmp_path / "p.html")
    assert code == 1
    assert expected in " ".join(out.split()), out
    assert "zip file" not in out


@pytest.mark.parametrize(
    "lang,expected",
    [
        (
            "id",
            "folder /proc/tidak-ada tidak dapat ditulis: folder tujuan tidak ada; buat foldernya "
            "dulu atau pilih folder lain.",
        ),
        (
            "en",
            "folder /proc/tidak-ada is not writable: the target folder does not exist; create it "
            "first or choose another folder.",
        ),
    ],
)
def test_missing_output_folder(lang, expected, kayong_csv):
    code, out = invoke(
        "--lang", lang, "map", KAYONG_DESA, kayong_csv, "-o", "/proc/tidak-ada/peta.html"
    )
    assert code == 1
    assert expected in " ".join(out.split()), out
    assert "No such file" not in out
