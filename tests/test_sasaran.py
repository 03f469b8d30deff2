"""Targeting from by-name registers (issue #14): counts against the generator's truth, unknown
programs, the verification list, no personal data in any output, the map in a browser, the CLI.

Registers are generated (:mod:`make_registers`) on the real Konawe Selatan layer (351 desa).
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import KONSEL_DESA, need
from make_registers import make_register

import povmap
from povmap._errors import PovmapInputError


@pytest.fixture(scope="module")
def konsel_raw() -> gpd.GeoDataFrame:
    return gpd.read_file(need(KONSEL_DESA))


@pytest.fixture(scope="module")
def family_p3ke(konsel_raw, tmp_path_factory):
    """A family-level P3KE-like register (CSV, desil 1-4) and what it should give."""
    generated = make_register(konsel_raw, seed=11, level="keluarga", style="p3ke")
    path = tmp_path_factory.mktemp("p3ke") / "p3ke_keluarga.csv"
    generated.register.to_csv(path, index=False)
    return generated, path


@pytest.fixture(scope="module")
def individual_dtsen(konsel_raw, tmp_path_factory):
    """A person-level DTSEN-like register (XLSX, desil 1-10) with a recipients list by NIK."""
    generated = make_register(konsel_raw, seed=12, level="individu", style="dtsen",
                              with_recipients=True)
    folder = tmp_path_factory.mktemp("dtsen")
    path, kpm = folder / "dtsen_individu.xlsx", folder / "kpm.xlsx"
    generated.register.to_excel(path, index=False)
    generated.recipients.to_excel(kpm, index=False)
    return generated, path, kpm


def _compare(desa: pd.DataFrame, truth: pd.DataFrame) -> dict[str, int]:
    """Columns whose values differ from the truth (NaN = NaN), with the number of desa."""
    got = desa.set_index("kode_desa")
    bad = {}
    for column in truth.columns:
        a = got[column].reindex(truth.index).astype(float)
        b = truth[column]
        differ = ~((a == b) | (a.isna() & b.isna()))
        if differ.any():
            bad[column] = int(differ.sum())
    return bad


def test_family_register_counts_equal_the_truth_per_desa(family_p3ke):
    generated, path = family_p3ke
    result = povmap.targeting(path, KONSEL_DESA)
    assert len(result.desa) == 351
    assert _compare(result.desa, generated.truth) == {}
    assert result.programs == ("pkh", "bpnt", "pbi", "blt_dd", "bpum")
    assert len(result.conditions) == 7
    # P3KE holds desil 1-4: the note says inclusion errors cannot show in it.
    assert any("P3KE hanya memuat desil 1-4" in n for n in result.notes)


def test_individual_register_with_recipients_equals_the_truth(individual_dtsen):
    generated, path, kpm = individual_dtsen
    result = povmap.targeting(path, KONSEL_DESA, recipients=kpm)
    assert _compare(result.desa, generated.truth) == {}
    assert result.register_kind == "individu"
    # 40 made-up NIKs are not in the register; repeated rows count once.
    assert result.recipients_total["tidak_di_register"] == 40
    assert result.desa["penerima_tidak_di_register"].sum() == 40
    assert result.desa["penerima_di_atas_desil_layak"].sum() > 0  # DTSEN: desil up to 10


def test_other_desil_choices_equal_the_truth(konsel_raw, tmp_path):
    generated = make_register(konsel_raw, seed=13, style="dtsen", desil_sasaran=3,
                              desil_layak=6)
    path = tmp_path / "dtsen.csv"
    generated.register.to_csv(path, index=False)
    result = povmap.targeting(path, KONSEL_DESA, desil_sasaran=3, desil_layak=6)
    assert _compare(result.desa, generated.truth) == {}


def test_rates_name_their_denominator(family_p3ke):
    generated, path = family_p3ke
    result = povmap.targeting(path, KONSEL_DESA)
    desa = result.desa
    for rate, (count, denominator) in result.rates().items():
        assert rate in desa.columns
        expected = 100 * desa[count] / desa[denominator].where(desa[denominator] > 0)
        pd.testing.assert_series_equal(desa[rate], expected, check_names=False)
    assert result.rates()["persen_sasaran_tanpa_program"] == ("keluarga_sasaran_tanpa_program",
                                                             "keluarga_sasaran")


def test_a_program_blank_for_a_whole_desa_is_unknown_not_no(family_p3ke, tmp_path):
    generated, path = family_p3ke
    result = povmap.targeting(path, KONSEL_DESA).desa.set_index("kode_desa")
    register = generated.register
    first_kec = register["kecamatan"].iloc[0]
    codes = register.loc[register["kecamatan"] == first_kec, "kode_kemdagri"]
    codes = {c if "." in c else f"{c[:2]}.{c[2:4]}.{c[4:6]}.{c[6:]}" for c in codes}
    with_target = [c for c in codes if result.at[c, "keluarga_sasaran"] > 0]
    assert with_target
    # BLT DD is blank for every family of these desa: unknown there, while PKH is counted.
    assert result.loc[with_target, "keluarga_sasaran_blt_dd"].isna().all()
    assert result.loc[with_target, "keluarga_sasaran_pkh"].notna().all()
    assert all("blt_dd" not in result.at[c, "program_diketahui"] for c in with_target)

    # One written "Tidak" makes BLT DD known in that desa: then the blanks there read as "no".
    edited = register.copy()
    row = edited.index[edited["kode_kemdagri"].map(
        lambda c: (c if "." in c else f"{c[:2]}.{c[2:4]}.{c[4:6]}.{c[6:]}")) == with_target[0]][0]
    edited.loc[row, "penerima_blt_dd"] = "Tidak"
    edited_path = tmp_path / "edited.csv"
    edited.to_csv(edited_path, index=False)
    again = povmap.targeting(edited_path, KONSEL_DESA).desa.set_index("kode_desa")
    assert again.at[with_target[0], "keluarga_sasaran_blt_dd"] == 0
    assert "blt_dd" in again.at[with_target[0], "program_diketahui"]


def test_a_desa_with_no_program_known_has_no_exclusion_count(family_p3ke):
    generated, path = family_p3ke
    result = povmap.targeting(path, KONSEL_DESA).desa
    # The generator blanks every program in the sixth desa of the layer.
    code = generated.truth.index[5]
    row = result.set_index("kode_desa").loc[code]
    if row["jumlah_keluarga_register"] > 0:
        assert np.isnan(row["keluarga_sasaran_tanpa_program"])
        assert np.isnan(row["jumlah_penerima"])
        assert row["program_diketahui"] == ""


def test_verification_list_holds_only_register_family_ids(individual_dtsen):
    generated, path, kpm = individual_dtsen
    result = povmap.targeting(path, KONSEL_DESA, recipients=kpm)
    listed = set(result.verification["id_keluarga"])
    assert listed == generated.verification
    assert listed <= generated.family_ids
    assert list(result.verification.columns) == [
        "id_keluarga", "baris_register", "kode_desa", "nama_desa", "nama_kecamatan", "desil",
        "program", "alasan"]
    assert set(result.verification["alasan"]) == {"tidak_menerima_program",
                                                  "di_atas_desil_layak"}


def test_priority_table_orders_desa_by_excluded_families(family_p3ke):
    _, path = family_p3ke
    result = povmap.targeting(path, KONSEL_DESA)
    lokus = result.lokus
    assert (lokus["keluarga_sasaran"] > 0).all()
    excluded = lokus["keluarga_sasaran_tanpa_program"].to_numpy()
    known = excluded[~np.isnan(excluded)]
    assert (np.diff(known) <= 0).all()
    assert np.isnan(excluded[len(known):]).all()  # unknown exclusion last
    assert list(lokus["peringkat"]) == list(range(1, len(lokus) + 1))
    # The main need is the condition most target families lack.
    desa = result.desa.set_index("kode_desa")
    for _, row in lokus.head(20).iterrows():
        if isinstance(row["kebutuhan_utama"], str):
            needs = {c: desa.at[row["kode_desa"], f"kebutuhan_{c}"] for c in result.conditions}
            assert row["jumlah_kebutuhan_utama"] == max(v for v in needs.values() if v == v)


def test_result_is_a_frozen_dataclass_without_attrs(family_p3ke):
    _, path = family_p3ke
    result = povmap.targeting(path, KONSEL_DESA)
    assert isinstance(result, povmap.Targeting)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.desil_layak = 5  # type: ignore[misc]
    assert not result.desa.attrs and not result.lokus.attrs


def test_programs_option_limits_and_checks(family_p3ke):
    _, path = family_p3ke
    result = povmap.targeting(path, KONSEL_DESA, programs="pkh,bpnt")
    assert result.programs == ("pkh", "bpnt")
    assert "keluarga_sasaran_pbi" not in result.desa.columns
    with pytest.raises(PovmapInputError, match="pkhx"):
        povmap.targeting(path, KONSEL_DESA, programs="pkhx")
    with pytest.raises(PovmapInputError, match="pip"):
        povmap.targeting(path, KONSEL_DESA, programs="pip")


@pytest.mark.parametrize("value", [0, 11, 2.5])
def test_desil_options_are_checked(family_p3ke, value):
    _, path = family_p3ke
    with pytest.raises(PovmapInputError, match="--desil-sasaran"):
        povmap.targeting(path, KONSEL_DESA, desil_sasaran=value)


def test_a_bad_flag_names_file_row_and_column_masked(family_p3ke, tmp_path):
    generated, _ = family_p3ke
    table = generated.register.copy()
    table.loc[7, "penerima_pkh"] = "3201234567890001"  # a NIK slid into the flag column
    path = tmp_path / "bad.csv"
    table.to_csv(path, index=False)
    with pytest.raises(PovmapInputError) as info:
        povmap.targeting(path, KONSEL_DESA)
    text = str(info.value)
    assert "bad.csv" in text and "baris 9" in text and "'penerima_pkh'" in text
    assert "3201234567890001" not in text and "3201********0001" in text
    assert "row 9" in info.value.message("en")


def test_a_recap_table_is_not_a_register(tmp_path, konsel_raw):
    from conftest import make_counts

    path = tmp_path / "rekap.csv"
    make_counts(konsel_raw).to_csv(path, index=False)
    with pytest.raises(PovmapInputError, match="bukan register by-name"):
        povmap.targeting(path, KONSEL_DESA)
