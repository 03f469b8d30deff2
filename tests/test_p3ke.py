"""P3KE/DTSEN by-name exports: counts per desa and desil, the departed left out, no PII out.

The registers themselves are personal data and not public, so the exports here are generated: real
HSS desa codes and names, made-up families, people, NIKs and addresses, in the column layout of the
P3KE exports pemda receive (``id_keluarga_P3KE``, ``kode_kemdagri``, ``desil_kesejahteraan``,
``status_keberadaan`` ...).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import HSS_DESA, KONSEL_DESA, invoke, need

import povmap

STATUSES = ["Ditemukan"] * 16 + ["Meninggal", "Tidak Ditemukan", "Pindah", ""]


def individual_export(raw: gpd.GeoDataFrame, seed: int = 0, families: int = 700) -> pd.DataFrame:
    """One row per person, several per family, with made-up NIKs, names and addresses."""
    rng = np.random.default_rng(seed)
    rows = []
    for f in range(families):
        desa = raw.iloc[rng.integers(40)]  # 40 desa, so that most have several families
        desil = int(rng.integers(1, 5))
        family_id = f"P3KE{seed:02d}{f:06d}"
        for member in range(int(rng.integers(1, 6))):
            rows.append(
                {
                    "id_keluarga_P3KE": family_id,
                    "provinsi": "KALIMANTAN SELATAN",
                    "kabupaten_kota": "HULU SUNGAI SELATAN",
                    "kecamatan": desa["nama_kec"].upper(),
                    "desa_kelurahan": desa["nama"].upper(),
                    "kode_kemdagri": desa["kode_nodot"] if f % 2 else desa["kode"],
                    "desil_kesejahteraan": f"Desil {desil}" if f % 3 == 0 else desil,
                    "alamat": f"JL. MAWAR NO {f} RT 0{member}",
                    "kepala_keluarga": f"KEPALA {f:05d}",
                    "nik": f"6306{f:08d}{member:04d}",
                    "padan_dukcapil": "Padan",
                    "id_individu": f"{family_id}-{member}",
                    "nama_lengkap": f"ORANG {f:05d} {member}",
                    "hubungan_dengan_kepala_keluarga": "Kepala Keluarga" if member == 0 else "Anak",
                    "status_keberadaan": STATUSES[rng.integers(len(STATUSES))],
                    "penerima_pkh": "Ya" if rng.random() < 0.4 else "Tidak",
                }
            )
    return pd.DataFrame(rows)


def expected(people: pd.DataFrame) -> pd.DataFrame:
    """People and families per desa and desil, computed directly."""
    here = people[~people["status_keberadaan"].isin(["Meninggal", "Tidak Ditemukan", "Pindah"])]
    desil = here["desil_kesejahteraan"].astype(str).str.extract(r"(\d+)")[0].astype(int)
    code = here["kode_kemdagri"].str.replace(".", "", regex=False)
    grouped = here.assign(desil=desil, code=code).groupby(["code", "desil"])
    return pd.DataFrame(
        {"orang": grouped.size(), "keluarga": grouped["id_keluarga_P3KE"].nunique()}
    )


PII = ("nik", "nama_lengkap", "kepala_keluarga", "alamat")


def pii_values(people: pd.DataFrame) -> set[str]:
    return {str(v) for column in PII for v in people[column]}


def test_individual_export_counts_per_desa_and_desil(hss_raw, tmp_path):
    people = individual_export(hss_raw)
    path = tmp_path / "p3ke_individu.xlsx"
    people.to_excel(path, index=False)
    read = povmap.read_counts(path)
    counts = read.frame

    want = expected(people)
    for row in counts.itertuples():
        code = row.kode_wilayah.replace(".", "")
        for d in range(1, 5):
            key = (code, d)
            got_people = getattr(row, f"jumlah_desil_{d}")
            got_families = getattr(row, f"jumlah_keluarga_desil_{d}")
            assert got_people == (want.loc[key, "orang"] if key in want.index else 0)
            assert got_families == (want.loc[key, "keluarga"] if key in want.index else 0)
    info = read.source.p3ke
    gone = people["status_keberadaan"].value_counts()
    assert info["dikecualikan"] == {
        "meninggal": gone["Meninggal"],
        "pindah": gone["Pindah"],
        "tidak ditemukan": gone["Tidak Ditemukan"],
    }
    assert info["jenis"] == "individu" and info["baris_data"] == len(people)
    assert counts["jumlah_desil_1"].sum() + counts["jumlah_desil_2"].sum() + counts[
        "jumlah_desil_3"
    ].sum() + counts["jumlah_desil_4"].sum() == len(people) - sum(info["dikecualikan"].values())
    # Nothing that identifies a person is in the result, as a column or as a value.
    assert not set(counts.columns) & {*PII, "id_individu", "id_keluarga_P3KE"}
    cells = {str(v) for v in counts.to_numpy().ravel()}
    assert not cells & pii_values(people)


def test_family_export_with_household_size(hss_raw, tmp_path):
    people = individual_export(hss_raw, seed=1)
    here = people[people["status_keberadaan"] != "Meninggal"]
    families = (
        here.groupby("id_keluarga_P3KE")
        .agg(
            kode_kemdagri=("kode_kemdagri", "first"),
            kecamatan=("kecamatan", "first"),
            desa_kelurahan=("desa_kelurahan", "first"),
            kepala_keluarga=("kepala_keluarga", "first"),
            nik=("nik", "first"),
            alamat=("alamat", "first"),
            desil_kesejahteraan=("desil_kesejahteraan", "first"),
            jumlah_anggota_keluarga=("nik", "size"),
        )
        .reset_index()
    )
    families.loc[::25, "desil_kesejahteraan"] = "-"  # not ranked: left out and counted
    families.to_csv(tmp_path / "p3ke_keluarga.csv", index=False, sep=";")
    read = povmap.read_counts(tmp_path / "p3ke_keluarga.csv")
    counts, info = read.frame, read.source.p3ke
    assert info["jenis"] == "keluarga" and info["tanpa_desil"] == len(families[::25])
    ranked = families.drop(index=families.index[::25])
    families_total = sum(counts[f"jumlah_keluarga_desil_{d}"].sum() for d in range(1, 5))
    people_total = sum(counts[f"jumlah_desil_{d}"].sum() for d in range(1, 5))
    assert families_total == len(ranked)
    assert people_total == ranked["jumlah_anggota_keluarga"].sum()


def test_by_name_export_through_the_cli_leaks_nothing(hss_raw, tmp_path):
    people = individual_export(hss_raw, seed=2)
    path = tmp_path / "dtsen.csv"
    people.to_csv(path, index=False, encoding="cp1252")
    report = tmp_path / "laporan.json"
    out = tmp_path / "gabung.geojson"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "povmap.cli",
            "join",
            str(need(HSS_DESA)),
            str(path),
            "-o",
            str(out),
            "--report",
            str(report),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Meninggal" in proc.stderr or "meninggal" in proc.stderr
    data = json.loads(report.read_text())
    desa = {code for code in people["kode_kemdagri"].str.replace(".", "", regex=False)}
    assert data["matched"] == len(desa) and data["matched_by"]["code"] == len(desa)
    assert len(data["unmatched_boundaries"]) == 148 - len(desa)
    written = out.read_text(encoding="utf-8") + report.read_text(encoding="utf-8") + proc.stderr
    leaked = [v for v in pii_values(people) if v in written]
    assert leaked == []
    joined = gpd.read_file(out)
    kept = people[~people["status_keberadaan"].isin(["Meninggal", "Tidak Ditemukan", "Pindah"])]
    assert (
        joined["jumlah_desil_1"].sum()
        == (kept["desil_kesejahteraan"].astype(str).str.extract(r"(\d+)")[0] == "1").sum()
    )


@pytest.mark.parametrize("header", ["desil", "desil_nasional"])
def test_dtsen_desil_1_to_10_and_names_only(hss_raw, tmp_path, header):
    rng = np.random.default_rng(3)
    picks = hss_raw.iloc[rng.integers(148, size=500)]
    table = pd.DataFrame(
        {
            "id_individu": range(500),
            "nik": [f"63{i:014d}" for i in range(500)],
            "kecamatan": picks["nama_kec"].to_numpy(),
            "desa": picks["nama"].to_numpy(),
            header: rng.integers(1, 11, size=500),
        }
    )
    table.to_csv(tmp_path / "dtsen.csv", index=False)
    counts = povmap.read_counts(tmp_path / "dtsen.csv").frame
    assert [f"jumlah_desil_{d}" in counts.columns for d in range(1, 11)] == [True] * 10
    assert sum(counts[f"jumlah_desil_{d}"].sum() for d in range(1, 11)) == 500
    result = povmap.join(povmap.read_boundaries(HSS_DESA), counts)
    assert result.report.matched == picks["kode"].nunique()
    assert result.joined["jumlah_desil_7"].sum() == (table[header] == 7).sum()


# --- one rule for a desil value (povmap.p3ke.desil_of), shared by every reader -----------------

#: Cells and what the rule makes of them: a desil, None for no desil (blank), "mustahil".
DESIL_RULE = [
    ("3", 3.0),
    ("03", 3.0),
    (" 3 ", 3.0),
    ("3.0", 3.0),
    ("2,0", 2.0),
    ("Desil 3", 3.0),
    ("desil 4 (rentan)", 4.0),
    ("10", 10.0),
    (7, 7.0),
    (7.0, 7.0),
    ("", None),
    ("-", None),
    ("  ", None),
    ("N/A", None),
    ("Tidak  Ada", None),
    ("\xa03\n", 3.0),
    ("3 (2024)", "mustahil"),
    (None, None),
    (float("nan"), None),
    ("0", "mustahil"),
    ("11", "mustahil"),
    ("2.5", "mustahil"),
    ("2,5", "mustahil"),
    ("-3", "mustahil"),
    ("1-4", "mustahil"),
    ("3201234567890123", "mustahil"),
    (3201234567890123, "mustahil"),
    (2.5, "mustahil"),
    ("abc", "mustahil"),
]


@pytest.mark.parametrize("cell, want", DESIL_RULE)
def test_one_desil_rule_in_python_and_in_duckdb(cell, want):
    from povmap.p3ke import desil_sql, desil_values

    desil, impossible = desil_values([cell])
    assert bool(impossible[0]) == (want == "mustahil")
    got = None if np.isnan(desil[0]) else float(desil[0])
    assert got == (want if isinstance(want, float) else None)
    duckdb = pytest.importorskip("duckdb")
    read, value_sql, impossible_sql = desil_sql("v")
    # As DuckDB reads the cell from a CSV (text) and from a typed Parquet column.
    kind = (
        "VARCHAR"
        if cell is None or isinstance(cell, str)
        else "DOUBLE"
        if isinstance(cell, float)
        else "BIGINT"
    )
    row = duckdb.execute(
        f"SELECT {value_sql}, {impossible_sql} FROM (SELECT {read} FROM "
        f"(SELECT CAST(? AS {kind}) AS v))",
        [cell],
    ).fetchone()
    assert row == (got, want == "mustahil")


def _families(raw: gpd.GeoDataFrame, n: int = 300, seed: int = 4) -> pd.DataFrame:
    """A family-level DTSEN export on the desa of ``raw``, desil 1-10 written as numbers."""
    rng = np.random.default_rng(seed)
    desa = raw.iloc[rng.integers(len(raw), size=n)]
    return pd.DataFrame(
        {
            "id_keluarga": [f"DTSEN{i:06d}" for i in range(n)],
            "nik": [f"6111{i:012d}" for i in range(n)],
            "kepala_keluarga": [f"KEPALA {i}" for i in range(n)],
            "kecamatan": desa["nama_kec"].to_numpy(),
            "desa_kelurahan": desa["nama"].to_numpy(),
            "kode_kemdagri": desa["kode"].to_numpy(),
            "desil_kesejahteraan": rng.integers(1, 11, size=n).astype(object),
        }
    )


#: Impossible desil cells planted at these table rows (file row = index + 2).
PLANTED = {3: "2.5", 10: "11", 25: "0", 31: "6111999988887777", 40: "2.5", 77: "abc"}


def test_impossible_desil_is_refused_not_read_as_another_desil_or_none(tmp_path):
    from conftest import KAYONG_DESA

    families = _families(gpd.read_file(need(KAYONG_DESA)))
    clean = tmp_path / "bersih.csv"
    families.drop(index=list(PLANTED)).to_csv(clean, index=False)
    for row, cell in PLANTED.items():
        families.loc[row, "desil_kesejahteraan"] = cell
    families.loc[50, "desil_kesejahteraan"] = ""  # no desil: legitimate, counted as such
    path = tmp_path / "dtsen.csv"
    families.to_csv(path, index=False)

    with pytest.raises(povmap.PovmapInputError) as refused:
        povmap.read_counts(path)
    text, en = str(refused.value), refused.value.message("en")
    assert "dtsen.csv, kolom 'desil_kesejahteraan': 6 baris berisi desil yang tidak mungkin" in text
    assert "(baris 5, 12, 27, 33, 42 dan 1 lainnya)" in text
    assert "--allow-invalid" in text and "desil_tidak_sah" in text
    assert "column 'desil_kesejahteraan': 6 rows hold an impossible desil" in en
    assert "(rows 5, 12, 27, 33, 42 and 1 more)" in en
    assert "6111999988887777" not in text + en and "abc" not in text + en

    read = povmap.read_counts(path, allow_invalid=True)
    info = read.source.p3ke
    assert info["desil_tidak_sah"] == 6 and info["baris_desil_tidak_sah"] == [5, 12, 27, 33, 42]
    assert info["tanpa_desil"] == 1  # the blank cell only: 11, 0 and the NIK are not "no desil"
    # "2.5" is not desil 2, "11" not desil 1 (nor anything else): the counts are those of the
    # table without the planted rows, less the one family whose cell was blanked.
    counts = [f"jumlah_keluarga_desil_{d}" for d in range(1, 11)]
    got = read.frame.set_index("kode_wilayah")[counts]
    want = povmap.read_counts(clean).frame.set_index("kode_wilayah")[counts]
    blanked = families.loc[50]
    want.loc[blanked["kode_kemdagri"], f"jumlah_keluarga_desil_{_desil_of_clean(clean, 50)}"] -= 1
    pd.testing.assert_frame_equal(got.sort_index(), want.sort_index())
    assert got.to_numpy().sum() == len(families) - 7
    assert any("desil_tidak_sah: 6 baris" in note for note in read.source.notes)


def _desil_of_clean(clean, index: int) -> int:
    """The desil family ``index`` has in the clean table (before its cell was blanked)."""
    table = pd.read_csv(clean, dtype=str).set_index("id_keluarga")
    return int(table.loc[f"DTSEN{index:06d}", "desil_kesejahteraan"])


@pytest.mark.parametrize("command", ["join", "map", "export"])
def test_map_join_export_stop_on_an_impossible_desil_or_leave_it_out(command, tmp_path):
    from conftest import KAYONG_DESA, invoke

    families = _families(gpd.read_file(need(KAYONG_DESA)))
    for row, cell in PLANTED.items():
        families.loc[row, "desil_kesejahteraan"] = cell
    path = tmp_path / "dtsen.csv"
    families.to_csv(path, index=False)
    out = tmp_path / {"join": "gabung.gpkg", "map": "peta.html", "export": "bundel"}[command]
    args = [command, KAYONG_DESA, path, "-o", out]
    if command == "join":
        args += ["--report", tmp_path / "laporan.json"]
    if command == "map":
        args += ["--tiles", "none"]

    for lang, words in (
        ("id", "6 baris berisi desil yang tidak mungkin (baris 5, 12, 27, 33, 42 dan 1 lainnya)"),
        ("en", "6 rows hold an impossible desil (rows 5, 12, 27, 33, 42 and 1 more)"),
    ):
        code, said = invoke(*args, "--lang", lang)
        said = " ".join(said.split())
        assert code == 1 and words in said, said
        assert "dtsen.csv" in said and "'desil_kesejahteraan'" in said
        assert "--allow-invalid" in said and "6111999988887777" not in said
        assert not out.exists() and not (tmp_path / "laporan.json").exists()

    code, said = invoke(*args, "--allow-invalid")
    assert code == 0, said
    note = (
        "desil_tidak_sah: 6 baris dengan desil yang tidak mungkin (bukan bilangan bulat 1-10; "
        "baris 5, 12, 27, 33, 42 dan 1 lainnya) dilewatkan (--allow-invalid)."
    )
    assert note in " ".join(said.split())
    if command == "join":
        report = json.loads((tmp_path / "laporan.json").read_text(encoding="utf-8"))
        assert note in report["notes"]
    if command == "export":
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert note in manifest["penggabungan"]["notes"]
    written = [p for p in ([out] if out.is_file() else out.rglob("*")) if p.is_file()]
    assert written and not [p for p in written if b"6111999988887777" in p.read_bytes()]


def test_every_desil_impossible_stops_even_with_allow_invalid(tmp_path):
    """Leaving out every row would leave nothing: the wrong column, or every row slid over.
    Before, this stopped with "the table has neither codes nor desa names", which is false."""
    from conftest import KAYONG_DESA

    from povmap.registers import read_register

    families = _families(gpd.read_file(need(KAYONG_DESA)), n=20)
    families["desil_kesejahteraan"] = "11"
    path = tmp_path / "dtsen.csv"
    families.to_csv(path, index=False)
    readers = [povmap.read_counts, read_register]
    if importlib.util.find_spec("duckdb") is not None:
        from povmap.scale import aggregate_register

        readers.append(aggregate_register)
    for reader in readers:
        with pytest.raises(povmap.PovmapInputError) as stopped:
            reader(path, allow_invalid=True)
        assert stopped.value.key == "p3ke.every_desil_impossible", reader
        assert (
            "dtsen.csv, kolom 'desil_kesejahteraan': setiap baris (20) berisi desil yang tidak "
            "mungkin (baris 2, 3, 4, 5, 6 dan 15 lainnya)"
        ) in str(stopped.value)
        assert "every row (20) holds an impossible desil" in stopped.value.message("en")


@pytest.mark.parametrize("blank_first", [False, True])
def test_blank_kecamatan_in_a_by_name_export_is_unknown_not_the_row_above(tmp_path, blank_first):
    """A by-name row without kecamatan never takes the kecamatan of the row sorted above it.

    Konawe Selatan has a Lakomea in Landono and one in Moramo. A family in "Lakomea" with a blank
    kecamatan is ambiguous wherever it stands; one in Lapoa (a unique name) still matches.
    """
    need(KONSEL_DESA)
    families = [
        ("Lakomea", "Landono", 1, "K1"),
        ("Lakomea", "Moramo", 2, "K2"),
        ("Lakomea", "", 1, "K3"),  # unknown kecamatan: which Lakomea is not known
        ("Awalo", "Benua", 2, "K4"),
        ("Lapoa", "", 1, "K5"),  # the only Lapoa of the kabupaten (Tinanggea)
    ]
    if blank_first:
        families = [families[2], families[4], *families[:2], families[3]]
    table = pd.DataFrame(
        {
            "NIK": [f"7405{i:012d}" for i in range(len(families))],
            "Nama Lengkap": [f"ORANG {i}" for i in range(len(families))],
            "Desa": [f[0] for f in families],
            "Kecamatan": [f[1] for f in families],
            "Desil Kesejahteraan": [f[2] for f in families],
            "ID Keluarga": [f[3] for f in families],
        }
    )
    path = tmp_path / "register.csv"
    table.to_csv(path, index=False)
    report = tmp_path / "laporan.json"
    code, output = invoke(
        "join", KONSEL_DESA, path, "-o", tmp_path / "gabung.gpkg", "--report", report
    )
    assert code == 0, output
    data = json.loads(report.read_text())
    assert [(a["nama_desa"], a["nama_kecamatan"]) for a in data["ambiguous"]] == [("Lakomea", None)]
    assert data["matched"] == 4 and data["matched_by"]["name"] == 4
    assert data["totals"]["jumlah_keluarga_desil_1"] == {"input": 3, "matched": 2, "unmatched": 1}
    assert data["totals"]["jumlah_keluarga_desil_2"] == {"input": 2, "matched": 2, "unmatched": 0}
    joined = gpd.read_file(tmp_path / "gabung.gpkg").set_index("kode_desa")
    assert joined.loc["74.05.05.2035", "jumlah_keluarga_desil_1"] == 1  # Lakomea, Landono
    assert joined.loc["74.05.10.2015", "jumlah_keluarga_desil_1"] == 0  # Lakomea, Moramo
    assert joined.loc["74.05.10.2015", "jumlah_keluarga_desil_2"] == 1
    assert joined.loc["74.05.01.2003", "jumlah_keluarga_desil_1"] == 1  # Lapoa, Tinanggea
