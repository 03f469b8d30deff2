"""Reading the counts tables people actually have: title rows, totals, cp1252, semicolons, 1.234."""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import pytest
from conftest import KAYONG_DESA, make_counts, need
from hypothesis import given
from hypothesis import strategies as st

import povmap
from povmap import PovmapInputError, read_counts
from povmap.counts import HEADER_ALIASES, parse_number


def id_thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_indonesian_thousands_round_trip(n):
    assert parse_number(id_thousands(n)) == n
    assert parse_number(str(n)) == n
    assert parse_number(f" {id_thousands(n)}\u00a0") == n


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=99))
def test_indonesian_decimal_comma(whole, cents):
    text = f"{id_thousands(whole)},{cents:02d}"
    assert math.isclose(parse_number(text), whole + cents / 100, rel_tol=1e-12)


@given(st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_numbers_stored_as_numbers_pass_through(x):
    assert parse_number(x) == x


@pytest.mark.parametrize(
    "text, value",
    [
        ("1.234", 1234),
        ("1.234.567", 1234567),
        ("2,5", 2.5),
        ("1.234,5", 1234.5),
        ("0", 0),
        ("12", 12),
        ("1 234", 1234),
        ("−7", -7),
        ("+3", 3),
        ("1.5", 1.5),
        ("007", 7),
    ],
)
def test_number_edge_cases(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "-", "–", " ", "N/A", "nan", None, "tidak ada"])
def test_missing_values(text):
    assert math.isnan(parse_number(text))


@pytest.mark.parametrize("text", ["banyak", "1.23.4", "12a", "1,2,3", "Rp", "--5", "5."])
def test_not_numbers(text):
    with pytest.raises(ValueError):
        parse_number(text)


def recap_rows() -> list[list[object]]:
    return [
        ["REKAPITULASI DATA KEMISKINAN EKSTREM", None, None, None, None],
        ["KABUPATEN HULU SUNGAI SELATAN TAHUN 2024", None, None, None, None],
        [None, None, None, None, None],
        ["No", "Kecamatan", "Desa/Kelurahan", "Jumlah", None],
        [None, None, None, "KK", "Jiwa"],
        ["(1)", "(2)", "(3)", "(4)", "(5)"],
        [1, "Sungai Raya", "Desa Sungai Raya Utara", "1.234", "3.456"],
        [2, None, "Kel. Baruh Jaya", "12", "40"],
        [None, "Jumlah Kecamatan Sungai Raya", None, "1.246", "3.496"],
        [None, None, None, None, None],
        [3, "Padang Batung", "Batu Laki", "-", "7"],
        [None, "JUMLAH", None, "1.246", "3.503"],
        [None, "TOTAL KABUPATEN", None, "1.246", "3.503"],
    ]


def test_xlsx_recap_two_row_header_below_titles_totals_skipped(tmp_path):
    path = tmp_path / "rekap.xlsx"
    pd.DataFrame(recap_rows()).to_excel(path, header=False, index=False)
    read = read_counts(path)
    counts = read.frame
    assert counts["baris"].tolist() == [7, 8, 11]
    assert counts["nama_desa"].tolist() == [
        "Desa Sungai Raya Utara",
        "Kel. Baruh Jaya",
        "Batu Laki",
    ]
    # The kecamatan is written once for its group (merged cells) and carried down.
    assert counts["nama_kecamatan"].tolist() == ["Sungai Raya", "Sungai Raya", "Padang Batung"]
    assert counts["jumlah_keluarga_miskin_ekstrem"].tolist()[:2] == [1234, 12]
    assert math.isnan(counts["jumlah_keluarga_miskin_ekstrem"].iloc[2])
    assert counts["jumlah_miskin_ekstrem"].sum() == 3503
    assert read.source.header_row == 5 and read.source.total_rows == [9, 12, 13]


def kayong_sheet(tmp_path, *, total_text: str) -> tuple[object, pd.DataFrame]:
    """Kayong Utara's desa (undotted codes), a kecamatan subtotal row carrying its kecamatan
    code, a kabupaten "TOTAL" row without code, and the first desa's count cell ``total_text``.
    """
    table = make_counts(gpd.read_file(need(KAYONG_DESA)), seed=6)
    table["kode_wilayah"] = table["kode_wilayah"].str.replace(".", "", regex=False)
    columns = ["kode_wilayah", "nama_kecamatan", "nama_desa", "jumlah_penduduk"]
    columns.append("jumlah_miskin_ekstrem")
    sheet = table[columns].astype(object)
    first = sheet.iloc[0]
    in_kec = sheet[sheet["nama_kecamatan"] == first["nama_kecamatan"]]
    subtotal = [
        first["kode_wilayah"][:6],
        f"Jumlah Kecamatan {first['nama_kecamatan']}",
        None,
        int(in_kec["jumlah_penduduk"].sum()),
        int(in_kec["jumlah_miskin_ekstrem"].sum()),
    ]
    total = [None, "TOTAL", None, int(table["jumlah_penduduk"].sum()), None]
    rows = [*sheet.iloc[: len(in_kec)].values.tolist(), subtotal]
    rows += [*sheet.iloc[len(in_kec) :].values.tolist(), total]
    out = pd.DataFrame(rows, columns=columns, dtype=object)
    out.loc[0, "jumlah_miskin_ekstrem"] = total_text
    path = tmp_path / "kayong.csv"
    out.to_csv(path, index=False)
    return path, table


@pytest.mark.parametrize("total_text", ["JUMLAH", "Total"])
def test_coded_row_with_total_text_in_a_count_is_refused_not_dropped(tmp_path, total_text):
    # A desa row (it has its code) whose count cell reads "JUMLAH" was taken for a total row and
    # dropped without a word: its people left out of every total, its desa shown as "no data".
    path, table = kayong_sheet(tmp_path, total_text=total_text)
    with pytest.raises(PovmapInputError) as caught:
        read_counts(path)
    text = str(caught.value)
    assert "baris 2, kolom 'jumlah_miskin_ekstrem'" in text and repr(total_text) in text
    assert "row 2, column 'jumlah_miskin_ekstrem'" in caught.value.en


def test_total_rows_skipped_are_named_in_the_report(tmp_path):
    # The same table with a number in the desa row: the kecamatan subtotal (its label beside
    # the kecamatan code) and the kabupaten total (no code) are skipped, and said so by row.
    path, table = kayong_sheet(tmp_path, total_text="7")
    read = read_counts(path)
    n_kec = int((table["nama_kecamatan"] == table["nama_kecamatan"].iloc[0]).sum())
    assert read.source.total_rows == [n_kec + 2, len(table) + 3]
    assert len(read.frame) == len(table)
    assert read.frame["jumlah_miskin_ekstrem"].iloc[0] == 7
    assert read.frame["jumlah_penduduk"].sum() == table["jumlah_penduduk"].sum()
    result = povmap.join(povmap.read_boundaries(KAYONG_DESA), read)
    assert result.report.matched == len(table)
    listed = f"(baris {n_kec + 2}, {len(table) + 3})"
    assert any(listed in str(note) for note in result.report.notes)
    assert any(f"(rows {n_kec + 2}, {len(table) + 3})" in note.en for note in read.source.notes)


def test_second_sheet_chosen_by_name(tmp_path):
    path = tmp_path / "dua.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"catatan": ["lihat sheet Data"]}).to_excel(
            writer, sheet_name="Info", index=False
        )
        pd.DataFrame({"kode_wilayah": ["63.06.01.2001"], "jumlah_jiwa": [5]}).to_excel(
            writer, sheet_name="Data", index=False
        )
    assert read_counts(path, sheet="Data").frame["jumlah_miskin_ekstrem"].tolist() == [5]
    with pytest.raises(PovmapInputError, match="baris judul kolom"):
        read_counts(path)
    with pytest.raises(PovmapInputError, match="--sheet"):
        read_counts(path, sheet="Tidak Ada")


def test_cp1252_semicolon_csv_with_accents_and_thousands(tmp_path):
    text = (
        "Rekap Dinas Sosial;;;\n"
        "Kode Wilayah;Kecamatan;Desa/Kelurahan;Jumlah Jiwa;Jumlah Penduduk\n"
        "6306012001;Sungai Raya;Jenti’an Désa;1.234;12.345\n"
        "63 06 01 2002;Sungai Raya;Baru;7;890\n"
        ";JUMLAH;;1.241;13.235\n"
    )
    path = tmp_path / "rekap.csv"
    path.write_bytes(text.encode("cp1252"))
    counts = read_counts(path).frame
    assert counts["kode_wilayah"].tolist() == ["63.06.01.2001", "63.06.01.2002"]
    assert counts["kode_asli"].tolist() == ["6306012001", "63 06 01 2002"]
    assert counts["nama_desa"].iloc[0] == "Jenti’an Désa"
    assert counts["jumlah_miskin_ekstrem"].tolist() == [1234, 7]
    assert counts["jumlah_penduduk"].tolist() == [12345, 890]


@pytest.mark.parametrize(
    "header, canonical",
    [
        ("Jumlah Jiwa", "jumlah_miskin_ekstrem"),
        ("Jumlah Individu", "jumlah_miskin_ekstrem"),
        ("Jumlah KK", "jumlah_keluarga_miskin_ekstrem"),
        ("JUMLAH PENDUDUK", "jumlah_penduduk"),
        ("Jumlah Keluarga", "jumlah_keluarga"),
        ("Desil 1", "jumlah_desil_1"),
        ("kk_desil_2", "jumlah_keluarga_desil_2"),
    ],
)
def test_recognised_headers(tmp_path, header, canonical):
    pd.DataFrame(
        {
            "Desa/Kelurahan": ["Baru"],
            "Kecamatan": ["X"],
            "kode_kemendagri": ["6306"],
            header: ["1.000"],
        }
    ).to_csv(tmp_path / "t.csv", index=False)
    counts = read_counts(tmp_path / "t.csv").frame
    assert counts[canonical].tolist() == [1000]
    assert {"nama_desa", "nama_kecamatan", "kode_wilayah"} <= set(counts.columns)
    assert header.lower().replace(" ", "_") in HEADER_ALIASES[canonical] or header == "Desil 1"


def test_column_map_overrides_and_names_what_is_wrong(tmp_path):
    pd.DataFrame(
        {"Wilayah": ["63.06.01.2001"], "Warga Rentan": ["2.000"], "Jumlah Jiwa": [5]}
    ).to_csv(tmp_path / "t.csv", index=False)
    counts = read_counts(
        tmp_path / "t.csv",
        column_map={"kode_wilayah": "Wilayah", "jumlah_miskin_ekstrem": "Warga Rentan"},
    ).frame
    assert counts["jumlah_miskin_ekstrem"].tolist() == [2000]
    with pytest.raises(PovmapInputError, match="'Tidak Ada' tidak ada di tabel"):
        read_counts(tmp_path / "t.csv", column_map={"kode_wilayah": "Tidak Ada"})
    with pytest.raises(PovmapInputError, match="bukan kolom kanonik"):
        read_counts(tmp_path / "t.csv", column_map={"kode": "Wilayah"})


def test_bad_number_names_file_row_and_column(tmp_path):
    pd.DataFrame(
        {"kode_wilayah": ["6306012001", "6306012002"], "Jumlah Jiwa": ["3", "banyak"]}
    ).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(PovmapInputError, match=r"t\.csv, baris 3, kolom 'Jumlah Jiwa'"):
        read_counts(tmp_path / "t.csv")


def test_non_integer_people_are_read_and_left_to_validation(tmp_path):
    pd.DataFrame({"kode_wilayah": ["6306012001"], "Jumlah Jiwa": ["2,5"]}).to_csv(
        tmp_path / "t.csv", index=False
    )
    assert read_counts(tmp_path / "t.csv").frame["jumlah_miskin_ekstrem"].tolist() == [2.5]


def test_a_table_is_read_without_cycle_collections_and_the_collector_is_back(tmp_path):
    """Reading a large table makes one list per row: the cycle collector, which would walk
    every live object meanwhile, waits until the rows are freed, then runs as before."""
    import gc

    from povmap.counts import read_table

    path = tmp_path / "jumlah.csv"
    rows = "".join(f"74.05.01.{2001 + i},{i % 50},{300 + i}\n" for i in range(60_000))
    path.write_text("kode_wilayah,jumlah_miskin_ekstrem,jumlah_penduduk\n" + rows)
    collections = []

    def seen(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        table = read_table(path)
        assert collections == [] and gc.isenabled()
        gc.disable()
        read_table(path)
        assert not gc.isenabled()  # a collector turned off stays off
    finally:
        gc.enable()
        gc.callbacks.remove(seen)
    assert table.shape == (60_001, 3) and table.iloc[60_000, 0] == "74.05.01.62000"


def test_a_code_holding_a_nul_is_shown_with_it_not_as_a_valid_code(tmp_path):
    # NumPy's strip takes a NUL off the end of a text: the code was shown as "6111012001", a
    # code that looks right, in the report of rows without a matching desa.
    gdf = gpd.read_file(need(KAYONG_DESA))
    codes = gdf["kode"].astype(str).tolist()[:3]
    path = tmp_path / "nul.csv"
    rows = [f"{codes[0]}\x00,10,100", f"{codes[1]},5,50", f"\x00{codes[2]},7,70"]
    path.write_text("kode_wilayah,jumlah_miskin_ekstrem,jumlah_penduduk\n" + "\n".join(rows) + "\n")
    table = read_counts(path).frame
    assert table["kode_asli"].tolist() == [f"{codes[0]}\x00", codes[1], f"\x00{codes[2]}"]
    assert table["kode_wilayah"].tolist()[1] == codes[1]
