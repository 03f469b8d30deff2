"""The join on messy tables built from the real boundaries: nothing lost, nothing matched wrongly.

Tables are generated from the real HSS (148 desa), Lahat (378 desa, 42 names repeated in several
kecamatan) and Kalimantan Selatan (2,008 desa) layers, then made messy the way recap sheets are:
capitals, "Desa"/"Kel." prefixes, double spaces, typos, title and total rows, ``1.234`` numbers,
codes in several spellings or absent, rows for desa that do not exist and desa left out.
"""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import HSS_DESA, KALSEL_DESA, LAHAT_DESA, SHARED, invoke, make_counts, need

import povmap
from povmap import PovmapInputError
from povmap.names import name_key

COUNTS = [
    "jumlah_penduduk",
    "jumlah_keluarga_miskin_ekstrem",
    "jumlah_miskin_ekstrem",
    "jumlah_desil_1",
]
BPS_VILLAGES = SHARED / "codes" / "bps_mfd2018" / "villages_63_16_74_61.csv"
BPS_DISTRICTS = SHARED / "codes" / "bps_mfd2018" / "districts_63_16_74_61.csv"
FAKES = [
    ("Sungai Raya", "Desa Sukamakmur Jaya"),
    ("Kandangan", "Kelurahan Fiktif Indah"),
    ("Angkinang", "Pematang Tujuh Belas"),
]


def typo(name: str, rng: np.random.Generator) -> str:
    """One letter changed, dropped or swapped with its neighbour (never the first letter)."""
    chars = list(name)
    letters = [i for i, c in enumerate(chars) if c.isalpha()][1:]
    i = letters[rng.integers(len(letters))]
    op = rng.integers(3)
    if op == 0:
        chars[i] = "e" if chars[i].lower() == "a" else "a"
    elif op == 1:
        del chars[i]
    elif i + 1 < len(chars):
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def messy(
    raw: gpd.GeoDataFrame,
    seed: int,
    *,
    codes: bool = True,
    typos: float = 0.1,
    kabupaten: bool = False,
) -> pd.DataFrame:
    """Counts for every desa of ``raw`` with messy names and codes; ``truth`` is the real code."""
    rng = np.random.default_rng(seed)
    table = make_counts(raw, seed)
    table["truth"] = table["kode_wilayah"]
    table["typo"] = False
    jenis = raw["jenis"].to_numpy()
    for i in table.index:
        name = table.at[i, "nama_desa"]
        style = rng.integers(5)
        if style == 0:
            name = name.upper()
        elif style == 1:
            name = ("Kel. " if jenis[i] == "kelurahan" else "Desa ") + name
        elif style == 2:
            name = "  ".join(name.split()) + " "
        elif style == 3:
            name = name.lower()
        if rng.random() < typos and len(name.replace(" ", "")) >= 7:
            name, table.at[i, "typo"] = typo(name, rng), True
        table.at[i, "nama_desa"] = name
        if rng.random() < 0.3:
            table.at[i, "nama_kecamatan"] = "Kec. " + table.at[i, "nama_kecamatan"].upper()
        code = table.at[i, "kode_wilayah"]
        form = rng.integers(5) if codes else 4
        table.at[i, "kode_wilayah"] = [
            code,
            code.replace(".", ""),
            code.replace(".", " "),
            " " + code.replace(".", "") + " ",
            None,
        ][form]
    if kabupaten:
        table.insert(0, "nama_kabupaten", raw["nama_kab"].str.upper().to_numpy())
    return table


def matched_codes(result: povmap.JoinResult) -> dict[int, str]:
    """Sheet row number -> matched area code."""
    hit = result.joined.dropna(subset=["baris"])
    return dict(zip(hit["baris"].astype(int), hit["kode_desa"], strict=True))


def assert_conserved(report: povmap.JoinReport, expected: dict[str, float]) -> None:
    for column, total in report.totals.items():
        assert total["input"] == total["matched"] + total["unmatched"]
        assert total["input"] == expected[column], column


def assert_no_wrong_match(result: povmap.JoinResult, truth: dict[int, str | None]) -> int:
    """Every match is the true desa (fakes never match); returns how many rows matched."""
    got = matched_codes(result)
    wrong = {row: (truth[row], code) for row, code in got.items() if truth[row] != code}
    assert wrong == {}
    return len(got)


@pytest.fixture(scope="module")
def hss() -> gpd.GeoDataFrame:
    return povmap.read_boundaries(need(HSS_DESA))


@pytest.fixture(scope="module")
def kalsel() -> gpd.GeoDataFrame:
    return povmap.read_boundaries(need(KALSEL_DESA))


@pytest.fixture(scope="module")
def lahat() -> gpd.GeoDataFrame:
    return povmap.read_boundaries(need(LAHAT_DESA))


@pytest.fixture(scope="module")
def lahat_raw() -> gpd.GeoDataFrame:
    return gpd.read_file(need(LAHAT_DESA))


def write_recap_xlsx(table: pd.DataFrame, path) -> dict[int, str | None]:
    """Write ``table`` as a Dinsos recap sheet; return sheet row -> true code.

    Two title rows and a blank row above the header, numbers as Indonesian text (``1.234``), a
    blank row in the middle and a "JUMLAH" total row at the bottom.
    """
    body = table[["kode_wilayah", "nama_kecamatan", "nama_desa", *COUNTS]].copy()
    body.columns = [
        "Kode Wilayah",
        "Kecamatan",
        "Desa/Kelurahan",
        "Jumlah Penduduk",
        "Jumlah KK",
        "Jumlah Jiwa",
        "Desil 1",
    ]
    for column in body.columns[3:]:
        body[column] = [f"{int(v):,}".replace(",", ".") for v in body[column]]
    rows = [
        ["REKAPITULASI P3KE KABUPATEN HULU SUNGAI SELATAN", *[None] * 6],
        ["Keadaan: Desember 2024", *[None] * 6],
        [None] * 7,
        list(body.columns),
    ]
    truth: dict[int, str | None] = {}
    for i, values in enumerate(body.itertuples(index=False)):
        if i == 40:
            rows.append([None] * 7)
        rows.append(list(values))
        truth[len(rows)] = table["truth"].iloc[i]
    rows.append(
        [None, "JUMLAH", None, *(f"{int(table[c].sum()):,}".replace(",", ".") for c in COUNTS)]
    )
    pd.DataFrame(rows).to_excel(path, header=False, index=False)
    return truth


def with_fakes(table: pd.DataFrame) -> pd.DataFrame:
    fakes = pd.DataFrame(
        [
            {
                "kode_wilayah": code,
                "nama_kecamatan": kec,
                "nama_desa": name,
                "jumlah_penduduk": 1000,
                "jumlah_keluarga_miskin_ekstrem": 3,
                "jumlah_miskin_ekstrem": 11,
                "jumlah_desil_1": 20,
                "truth": None,
            }
            for (kec, name), code in zip(FAKES, ["63.06.01.2999", None, "6306"], strict=True)
        ]
    )
    return pd.concat([table, fakes], ignore_index=True)


def test_hss_recap_sheet_every_real_row_right_fakes_and_missing_reported(hss_raw, hss, tmp_path):
    table = messy(hss_raw, seed=3)
    left_out = table.iloc[[7, 50, 120]]
    table = with_fakes(table.drop(index=left_out.index)).reset_index(drop=True)
    path = tmp_path / "rekap.xlsx"
    truth = write_recap_xlsx(table, path)

    counts = povmap.read_counts(path)
    assert len(counts.frame) == len(table)  # title, header, blank and JUMLAH rows are not data
    result = povmap.join(hss, counts)
    report = result.report
    assert assert_no_wrong_match(result, truth) == len(table) - len(FAKES)
    assert report.matched == len(table) - len(FAKES) and report.ambiguous == []
    assert sum(report.matched_by.values()) == report.matched
    assert report.matched_by["name"] > 0 and report.matched_by["fuzzy"] > 0
    assert sorted(r["nama_desa"] for r in report.unmatched_counts) == sorted(n for _, n in FAKES)
    assert {r["baris"] for r in report.unmatched_counts} == {
        row for row, code in truth.items() if code is None
    }
    assert sorted(a["kode_desa"] for a in report.unmatched_boundaries) == sorted(left_out["truth"])
    assert_conserved(report, {c: float(table[c].sum()) for c in COUNTS})
    assert report.totals["jumlah_miskin_ekstrem"]["unmatched"] == 11 * len(FAKES)


def test_kalsel_names_only_99_percent_and_never_wrong(kalsel_raw, kalsel, tmp_path):
    table = messy(kalsel_raw, seed=63, codes=False, typos=0.1, kabupaten=True)
    table.drop(columns=["kode_wilayah", "truth", "typo"]).to_csv(
        tmp_path / "kalsel.csv", index=False, sep=";", encoding="cp1252"
    )
    result = povmap.join(kalsel, povmap.read_counts(tmp_path / "kalsel.csv"))
    truth = dict(zip(table.index + 2, table["truth"], strict=True))
    matched = assert_no_wrong_match(result, truth)
    assert matched >= 0.99 * len(table)
    assert result.report.matched_by["fuzzy"] > 0.5 * table["typo"].sum()
    left = result.report.unmatched_counts + result.report.ambiguous
    assert len(left) == len(table) - matched  # every row is accounted for
    assert_conserved(result.report, {c: float(table[c].sum()) for c in COUNTS})


def test_lahat_repeated_names_need_the_kecamatan(lahat_raw, lahat):
    table = make_counts(lahat_raw, seed=16)
    repeated = table["nama_desa"].map(name_key).duplicated(keep=False)
    assert table.loc[repeated, "nama_desa"].map(name_key).nunique() >= 40

    by_desa_only = povmap.join(
        lahat,
        table.drop(columns=["kode_wilayah", "nama_kecamatan"]).assign(
            baris=range(2, len(table) + 2)
        ),
    )
    truth = dict(zip(range(2, len(table) + 2), table["kode_wilayah"], strict=True))
    assert assert_no_wrong_match(by_desa_only, truth) == (~repeated).sum()
    ambiguous = by_desa_only.report.ambiguous
    assert len(ambiguous) == repeated.sum()
    for row in ambiguous:
        codes = {c["kode_desa"] for c in row["kandidat"]}
        assert len(codes) >= 2 and truth[row["baris"]] in codes

    with_kecamatan = povmap.join(
        lahat, table.drop(columns="kode_wilayah").assign(baris=range(2, len(table) + 2))
    )
    assert assert_no_wrong_match(with_kecamatan, truth) == len(table)
    assert with_kecamatan.report.matched_by == {"code": 0, "name": len(table), "fuzzy": 0}


def bps_table(raw: gpd.GeoDataFrame) -> pd.DataFrame:
    """HSS rows carrying their real BPS code, for the desa whose BPS names match exactly."""
    villages = pd.read_csv(need(BPS_VILLAGES), dtype=str)
    districts = pd.read_csv(need(BPS_DISTRICTS), dtype=str).set_index("id")["name"]
    villages = villages[villages["id"].str.startswith("6306")]
    bps = {
        (name_key(districts[d]), name_key(n)): code
        for code, d, n in villages[["id", "district_id", "name"]].itertuples(index=False)
    }
    table = make_counts(raw, seed=1)
    table["kode_bps"] = [
        bps.get((name_key(k), name_key(n)))
        for k, n in zip(table["nama_kecamatan"], table["nama_desa"], strict=True)
    ]
    return table.dropna(subset=["kode_bps"]).reset_index(drop=True)


def test_bps_codes_are_detected_and_names_used(hss_raw, hss, tmp_path):
    table = bps_table(hss_raw)
    assert len(table) >= 140
    sheet = table.drop(columns="kode_wilayah").rename(columns={"kode_bps": "kode_wilayah"})
    sheet.to_csv(tmp_path / "bps.csv", index=False)
    result = povmap.join(hss, povmap.read_counts(tmp_path / "bps.csv"))
    truth = dict(zip(table.index + 2, table["kode_wilayah"], strict=True))
    assert assert_no_wrong_match(result, truth) == len(table)
    assert result.report.matched_by["code"] == 0
    assert any("BPS" in note for note in result.report.notes)

    sheet[["kode_wilayah", *COUNTS]].to_csv(tmp_path / "bps_only.csv", index=False)
    with pytest.raises(PovmapInputError, match="BPS"):
        povmap.join(hss, povmap.read_counts(tmp_path / "bps_only.csv"))


def test_kecamatan_codes_at_desa_level(hss_raw, hss):
    table = make_counts(hss_raw, seed=2)
    table["kode_wilayah"] = table["kode_wilayah"].str[:8]
    table["nama_kecamatan"] = None  # only the kecamatan code says where the desa is
    result = povmap.join(hss, table.assign(baris=range(2, len(table) + 2)))
    truth = dict(
        zip(range(2, len(table) + 2), make_counts(hss_raw, 2)["kode_wilayah"], strict=True)
    )
    assert assert_no_wrong_match(result, truth) == len(table)
    assert any("kode kecamatan" in note for note in result.report.notes)
    with pytest.raises(PovmapInputError, match="kode kecamatan.*--level kecamatan"):
        povmap.join(hss, table.drop(columns=["nama_desa"]).assign(baris=range(len(table))))


def test_wrong_code_edition_falls_back_to_names(hss_raw, hss):
    table = make_counts(hss_raw, seed=4)
    truth = dict(zip(range(2, len(table) + 2), table["kode_wilayah"], strict=True))
    table["kode_wilayah"] = np.roll(table["kode_wilayah"].to_numpy(), 1)  # codes of other desa
    result = povmap.join(hss, table.assign(baris=range(2, len(table) + 2)))
    assert assert_no_wrong_match(result, truth) == len(table)
    assert result.report.matched_by["code"] == 0


def test_fuzzy_refuses_a_close_tie_and_a_taken_area(kalsel_raw, kalsel):
    table = make_counts(kalsel_raw, seed=5)
    truth = dict(zip(table.index + 2, table["kode_wilayah"], strict=True))
    table = table.drop(columns="kode_wilayah").assign(baris=table.index + 2)
    # Barabai Barat and Barabai Darat (63.07.06) are one letter apart: "Barabai Xarat" is both.
    tie = table.index[table["nama_desa"] == "Barabai Barat"][0]
    table.at[tie, "nama_desa"] = "BARABAI XARAT"
    truth[tie + 2] = None
    # "Antar Jayaa" is closest to Antar Jaya (63.04.15), which has its own row already.
    taken = table[table["nama_desa"] == "Antar Jaya"].assign(nama_desa="Antar Jayaa", baris=9999)
    table = pd.concat([table, taken], ignore_index=True)
    truth[9999] = None
    result = povmap.join(kalsel, table)
    assert_no_wrong_match(result, truth)
    [tied] = [r for r in result.report.ambiguous if r["baris"] == tie + 2]
    assert tied["alasan"] == "tidak_ada_yang_unggul"
    assert {c["nama_desa"] for c in tied["kandidat"]} >= {"Barabai Barat", "Barabai Darat"}
    [near] = [r for r in result.report.unmatched_counts if r["baris"] == 9999]
    assert near["alasan"] == "mirip_wilayah_terpakai"
    assert near["kandidat"][0]["nama_desa"] == "Antar Jaya"


def test_invalid_values_stop_unless_allowed(hss_raw, hss):
    table = make_counts(hss_raw, seed=6).assign(baris=lambda t: range(2, len(t) + 2))
    table = table.astype({c: float for c in COUNTS})
    table.loc[3, "jumlah_miskin_ekstrem"] = -4
    table.loc[10, "jumlah_miskin_ekstrem"] = table.loc[10, "jumlah_penduduk"] + 1
    table.loc[20, "jumlah_keluarga_miskin_ekstrem"] = 2.5
    duplicate = table.iloc[[30]].assign(baris=999, jumlah_desil_1=1)
    table = pd.concat([table, duplicate], ignore_index=True)
    with pytest.raises(PovmapInputError) as error:
        povmap.join(hss, table)
    message = str(error.value)
    for row in ("baris 5:", "baris 12:", "baris 22:", "baris 32, 999:", "--allow-invalid"):
        assert row in message
    result = povmap.join(hss, table, allow_invalid=True)
    kinds = {p["jenis"]: p["baris"] for p in result.report.problems}
    assert kinds == {
        "negatif": [5],
        "melebihi_penduduk": [12],
        "bukan_bilangan_bulat": [22],
        "ganda_berbeda": [32, 999],
    }
    [dup] = result.report.unmatched_counts
    assert dup["baris"] == 999 and dup["alasan"] == "baris_ganda"
    assert result.report.matched == len(hss_raw)
    assert_conserved(result.report, {c: float(table[c].sum()) for c in COUNTS})


def test_kalsel_read_and_join_are_quick_enough_to_not_notice(kalsel_raw, kalsel, tmp_path):
    # Not a timing assert: it only has to finish; a slow path shows as a slow test.
    table = messy(kalsel_raw, seed=7, codes=True, typos=0.05)
    table.drop(columns=["truth", "typo"]).to_csv(tmp_path / "k.csv", index=False)
    result = povmap.join(kalsel, povmap.read_counts(tmp_path / "k.csv"))
    truth = dict(zip(table.index + 2, table["truth"], strict=True))
    assert assert_no_wrong_match(result, truth) >= 0.99 * len(table)


def povmap_cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "povmap.cli", *map(str, args)], capture_output=True, text=True
    )


def test_cli_join_report_strict_and_allow_invalid(hss_raw, tmp_path):
    table = with_fakes(messy(hss_raw, seed=8).iloc[2:]).reset_index(drop=True)
    path = tmp_path / "rekap.xlsx"
    truth = write_recap_xlsx(table, path)
    report = tmp_path / "r.json"
    proc = povmap_cli("join", HSS_DESA, path, "-o", tmp_path / "j.gpkg", "--report", report)
    assert proc.returncode == 0, proc.stderr
    assert "Baris tanpa wilayah: 3" in proc.stderr and "Wilayah tanpa baris data: 2" in proc.stderr
    data = json.loads(report.read_text())
    assert data["matched"] == len(table) - 3 and data["problems"] == []
    assert sum(data["matched_by"].values()) == data["matched"]
    assert {r["baris"] for r in data["unmatched_counts"]} == {
        r for r, c in truth.items() if c is None
    }
    for totals in data["totals"].values():
        assert totals["input"] == totals["matched"] + totals["unmatched"]
    joined = gpd.read_file(tmp_path / "j.gpkg", layer="desa")
    assert (
        joined["jumlah_miskin_ekstrem"].sum() == data["totals"]["jumlah_miskin_ekstrem"]["matched"]
    )

    strict = povmap_cli("join", HSS_DESA, path, "-o", tmp_path / "s.gpkg", "--strict")
    assert strict.returncode == 1 and "Traceback" not in strict.stderr
    assert not (tmp_path / "s.gpkg").exists()

    bad = table.iloc[:-3].copy()
    bad.loc[0, "jumlah_miskin_ekstrem"] = -1
    bad.drop(columns=["truth", "typo"]).to_csv(tmp_path / "bad.csv", index=False)
    refused = povmap_cli("join", HSS_DESA, tmp_path / "bad.csv", "-o", tmp_path / "b.gpkg")
    assert refused.returncode == 1 and "baris 2" in refused.stderr
    assert "negatif" in refused.stderr and not (tmp_path / "b.gpkg").exists()
    allowed = povmap_cli(
        "join",
        HSS_DESA,
        tmp_path / "bad.csv",
        "-o",
        tmp_path / "b.gpkg",
        "--allow-invalid",
        "--report",
        tmp_path / "b.json",
        "--lang",
        "en",
    )
    assert allowed.returncode == 0, allowed.stderr
    assert "Value problems: 1" in allowed.stderr
    assert json.loads((tmp_path / "b.json").read_text())["problems"][0]["baris"] == [2]


def test_a_code_too_large_to_write_out_is_a_bad_code_reported_by_row(lahat_raw, tmp_path):
    # "1E9999999" hung the join for minutes (ten million digits written out); "1E9999" stopped
    # with Python's English "Exceeds the limit (4300 digits)", naming no row.
    table = make_counts(lahat_raw)
    table.loc[3, "kode_wilayah"] = "1E9999999"
    table.loc[5, "kode_wilayah"] = "1E9999"
    table.loc[[3, 5], "nama_desa"] = None
    table.to_csv(tmp_path / "t.csv", index=False)
    report = tmp_path / "r.json"
    code, out = invoke(
        "join", LAHAT_DESA, tmp_path / "t.csv", "-o", tmp_path / "j.gpkg", "--report", report
    )
    assert code == 0, out
    data = json.loads(report.read_text())
    assert {(r["baris"], r["kode_asli"]) for r in data["unmatched_counts"]} == {
        (5, "1E9999999"),
        (7, "1E9999"),
    }
    assert data["matched_by"]["code"] == len(table) - 2


@pytest.mark.parametrize("zero", ["\uff10", "\u0660"])  # fullwidth, Arabic-Indic
def test_codes_in_digits_of_another_script_match_by_code(lahat_raw, lahat, tmp_path, zero):
    table = make_counts(lahat_raw)
    table["kode_wilayah"] = [
        "".join(chr(ord(zero) + int(c)) if c.isdigit() else c for c in code.replace(".", ""))
        for code in table["kode_wilayah"]
    ]
    table.to_csv(tmp_path / "t.csv", index=False)
    result = povmap.join(lahat, povmap.read_counts(tmp_path / "t.csv"))
    assert result.report.matched_by["code"] == len(table)
    assert not any("BPS" in note for note in result.report.notes)
    # Without names, only the codes: they were taken for BPS codes and the join refused.
    table.drop(columns=["nama_kecamatan", "nama_desa"]).to_csv(tmp_path / "c.csv", index=False)
    result = povmap.join(lahat, povmap.read_counts(tmp_path / "c.csv"))
    assert result.report.matched_by["code"] == len(table)
    assert sorted(result.joined["kode_desa"]) == sorted(lahat_raw["kode"])
