"""Place-name normalisation and matching, on the spelling variants found in the real tables."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from conftest import HSS_DESA, LAHAT_DESA, SHARED, need

from povmap.names import AreaIndex, best_match, name_key, normalize_name

BPS_VILLAGES = SHARED / "codes" / "bps_mfd2018" / "villages_63_16_74_61.csv"
BPS_DISTRICTS = SHARED / "codes" / "bps_mfd2018" / "districts_63_16_74_61.csv"


@pytest.mark.parametrize(
    "a, b",
    [
        ("Sungai Mata-Mata", "Sungai Mata - Mata"),  # Kayong Utara, two tables
        ("Gunung Liwat", "Gunung liwat"),  # Lahat, one table
        ("Jenti'an", "JENTIAN"),
        ("DESA  SUNGAI RAYA", "Sungai Raya"),
        ("Ds. Sungai Raya", "sungai raya "),
        ("Kel. Kandangan Kota", "Kelurahan Kandangan Kota"),
        ("Kec. Padang Batung", "KECAMATAN PADANG BATUNG"),
        ("Sei Raya", "Sungai Raya"),
        ("S. Raya", "Sungai Raya"),
        ("Tj. Agung", "Tanjung Agung"),
        ("Sukamaju II", "Sukamaju 2"),
        ("Pulau Ku'u", 'Pulau Ku"u'),
        ("Sungai Punggu Baru ", "Sungai Punggu Baru"),
        ("Désa Cèpu", "cepu"),
    ],
)
def test_spellings_of_one_name_share_a_key(a, b):
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("Baru", "Baru Waki"),
        ("Simpang Empat", "Simpang Empat Sungai Baru"),
        ("Sungai Raya", "Sungai Raya Utara"),
        ("Desa Baru", "Kota Baru"),
    ],
)
def test_different_names_stay_different(a, b):
    assert name_key(a) != name_key(b)


def test_prefix_alone_is_a_name():
    assert normalize_name("Desa") == "desa"
    assert normalize_name(None) == "" and normalize_name(float("nan")) == ""


def test_best_match_needs_score_and_lead():
    choices = ["teluk kabak", "teluk bayur", "telaga"]
    assert best_match("teluk labak", choices).index == 0
    tie = best_match("barabai xarat", ["barabai barat", "barabai darat"])
    assert tie.index is None and tie.ambiguous and len(tie.candidates) == 2
    far = best_match("sukamakmur jaya", choices)
    assert far.index is None and not far.ambiguous
    assert best_match("teluk labak", choices, threshold=95).index is None


def test_lahat_repeated_names_never_match_on_desa_name_alone():
    raw = gpd.read_file(need(LAHAT_DESA), columns=["kode", "nama", "nama_kec", "kode_kec"])
    areas = raw.rename(
        columns={"nama": "nama_desa", "nama_kec": "nama_kecamatan", "kode_kec": "kode_kecamatan"}
    )
    index = AreaIndex(areas, "desa")
    repeated = areas["nama_desa"].map(name_key).duplicated(keep=False)
    assert repeated.sum() >= 84  # 42 names, each in at least two kecamatan
    for i, row in areas.iterrows():
        alone = index.locate(row["nama_desa"].upper())
        if repeated[i]:
            assert alone.kind == "ambiguous" and i in {c for c, _ in alone.candidates}
        else:
            assert alone.kind == "name" and alone.index == i
        placed = index.locate(row["nama_desa"], kecamatan="Kec. " + row["nama_kecamatan"])
        assert placed.kind == "name" and placed.index == i


def test_bps_names_of_hss_find_their_desa_without_a_wrong_one():
    """BPS 2018 spells some HSS desa differently; normalised names still never pick a wrong one."""
    raw = gpd.read_file(need(HSS_DESA), columns=["kode", "nama", "nama_kec", "kode_kec"])
    areas = raw.rename(
        columns={"nama": "nama_desa", "nama_kec": "nama_kecamatan", "kode_kec": "kode_kecamatan"}
    )
    index = AreaIndex(areas, "desa")
    villages = pd.read_csv(need(BPS_VILLAGES), dtype=str)
    districts = pd.read_csv(need(BPS_DISTRICTS), dtype=str).set_index("id")["name"]
    hss = villages[villages["id"].str.startswith("6306")]
    found = 0
    for _, row in hss.iterrows():
        kec = districts[row["district_id"]]
        hit = index.locate(row["name"], kecamatan=kec)
        if hit.kind == "name":
            found += 1
            assert name_key(areas.at[hit.index, "nama_desa"]) == name_key(row["name"])
            assert name_key(areas.at[hit.index, "nama_kecamatan"]) == name_key(kec)
    assert found >= 140  # SOURCES.md: 142 of 148 match after normalisation
