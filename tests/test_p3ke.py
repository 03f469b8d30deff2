"""P3KE/DTSEN by-name exports: counts per desa and desil, the departed left out, no PII out.

The registers themselves are personal data and not public, so the exports here are generated: real
HSS desa codes and names, made-up families, people, NIKs and addresses, in the column layout of the
P3KE exports pemda receive (``id_keluarga_P3KE``, ``kode_kemdagri``, ``desil_kesejahteraan``,
``status_keberadaan`` ...).
"""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import HSS_DESA, need

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
