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
from make_registers import all_bytes, make_register

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
    generated = make_register(
        konsel_raw, seed=12, level="individu", style="dtsen", with_recipients=True
    )
    folder = tmp_path_factory.mktemp("dtsen")
    path, kpm = folder / "dtsen_individu.xlsx", folder / "kpm.xlsx"
    generated.register.to_excel(path, index=False)
    generated.recipients.to_excel(kpm, index=False)
    return generated, path, kpm


@pytest.fixture(scope="module")
def family_result(family_p3ke):
    """``povmap.targeting`` of the family-level register with the default options."""
    return povmap.targeting(family_p3ke[1], KONSEL_DESA)


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


def test_family_register_counts_equal_the_truth_per_desa(family_p3ke, family_result):
    generated = family_p3ke[0]
    result = family_result
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
    generated = make_register(konsel_raw, seed=13, style="dtsen", desil_sasaran=3, desil_layak=6)
    path = tmp_path / "dtsen.csv"
    generated.register.to_csv(path, index=False)
    result = povmap.targeting(path, KONSEL_DESA, desil_sasaran=3, desil_layak=6)
    assert _compare(result.desa, generated.truth) == {}


def test_rates_name_their_denominator(family_result):
    result = family_result
    desa = result.desa
    for rate, (count, denominator) in result.rates().items():
        assert rate in desa.columns
        expected = 100 * desa[count] / desa[denominator].where(desa[denominator] > 0)
        pd.testing.assert_series_equal(desa[rate], expected, check_names=False)
    assert result.rates()["persen_sasaran_tanpa_program"] == (
        "keluarga_sasaran_tanpa_program",
        "keluarga_sasaran",
    )


def test_a_program_blank_for_a_whole_desa_is_unknown_not_no(family_p3ke, family_result, tmp_path):
    generated = family_p3ke[0]
    result = family_result.desa.set_index("kode_desa")
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
    row = edited.index[
        edited["kode_kemdagri"].map(
            lambda c: c if "." in c else f"{c[:2]}.{c[2:4]}.{c[4:6]}.{c[6:]}"
        )
        == with_target[0]
    ][0]
    edited.loc[row, "penerima_blt_dd"] = "Tidak"
    edited_path = tmp_path / "edited.csv"
    edited.to_csv(edited_path, index=False)
    again = povmap.targeting(edited_path, KONSEL_DESA).desa.set_index("kode_desa")
    assert again.at[with_target[0], "keluarga_sasaran_blt_dd"] == 0
    assert "blt_dd" in again.at[with_target[0], "program_diketahui"]


def test_a_desa_with_no_program_known_has_no_exclusion_count(family_p3ke, family_result):
    generated = family_p3ke[0]
    result = family_result.desa
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
        "id_keluarga",
        "baris_register",
        "kode_desa",
        "nama_desa",
        "nama_kecamatan",
        "desil",
        "program",
        "alasan",
    ]
    assert set(result.verification["alasan"]) == {"tidak_menerima_program", "di_atas_desil_layak"}


def test_priority_table_orders_desa_by_excluded_families(family_result):
    result = family_result
    lokus = result.lokus
    assert (lokus["keluarga_sasaran"] > 0).all()
    excluded = lokus["keluarga_sasaran_tanpa_program"].to_numpy()
    known = excluded[~np.isnan(excluded)]
    assert (np.diff(known) <= 0).all()
    assert np.isnan(excluded[len(known) :]).all()  # unknown exclusion last
    assert list(lokus["peringkat"]) == list(range(1, len(lokus) + 1))
    # The main need is the condition most target families lack.
    desa = result.desa.set_index("kode_desa")
    for _, row in lokus.head(20).iterrows():
        if isinstance(row["kebutuhan_utama"], str):
            needs = {c: desa.at[row["kode_desa"], f"kebutuhan_{c}"] for c in result.conditions}
            assert row["jumlah_kebutuhan_utama"] == max(v for v in needs.values() if v == v)


def test_result_is_a_frozen_dataclass_without_attrs(family_result):
    result = family_result
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


# --- The command and its files -------------------------------------------------------------------

HOSTILE = '<img src=x onerror="window.__pwned=1">'
FORMULA = '=HYPERLINK("http://contoh.invalid","klik")'


@pytest.fixture(scope="module")
def hostile_run(konsel_raw, tmp_path_factory):
    """``povmap sasaran`` on a DTSEN-like person-level register with a recipients list, where
    two desa with excluded families are named with HTML and a spreadsheet formula."""
    from conftest import invoke

    folder = tmp_path_factory.mktemp("sasaran_cli")
    first = make_register(
        konsel_raw, seed=21, level="individu", style="dtsen", with_recipients=True
    )
    excluded = first.truth["keluarga_sasaran_tanpa_program"].fillna(0)
    chosen = [
        konsel_raw.index[konsel_raw["kode"] == c][0] for c in excluded[excluded > 0].index[:2]
    ]
    raw = konsel_raw.copy()
    raw.loc[chosen[0], "nama"] = HOSTILE
    raw.loc[chosen[1], "nama"] = FORMULA
    boundaries = folder / "konsel.geojson"
    raw.to_file(boundaries)
    generated = make_register(raw, seed=21, level="individu", style="dtsen", with_recipients=True)
    register, kpm = folder / "dtsen.xlsx", folder / "kpm.csv"
    generated.register.to_excel(register, index=False)
    generated.recipients.to_csv(kpm, index=False)
    out, verification = folder / "keluaran", folder / "internal" / "verifikasi.xlsx"
    code, text = invoke(
        "sasaran",
        boundaries,
        register,
        "-o",
        out,
        "--recipients",
        kpm,
        "--daftar-verifikasi",
        verification,
        "--tiles",
        "none",
        "--kantong",
    )
    assert code == 0, text
    return generated, out, verification, text, [raw.loc[i, "kode"] for i in chosen]


def test_no_personal_data_in_any_output_byte(hostile_run):
    generated, out, verification, text, _ = hostile_run
    files = all_bytes(out) + all_bytes(verification)
    names = {name for name, _ in files}
    assert {
        "sasaran.html",
        "lokus.csv",
        "lokus.xlsx",
        "sasaran.gpkg",
        "manifest.json",
        "laporan_sasaran.json",
        "verifikasi.xlsx",
    } <= names
    assert any(name.startswith("lokus.xlsx:xl/") for name in names)  # members were read too
    assert len(generated.pii) > 3000
    leaks = [
        (name, value) for value in generated.pii for name, data in files if value.encode() in data
    ]
    assert leaks == []
    assert not [v for v in generated.pii if v in text]  # nor on the terminal


def test_verification_list_is_internal_and_holds_register_ids_only(hostile_run):
    import openpyxl

    generated, _, verification, _, _ = hostile_run
    book = openpyxl.load_workbook(verification, read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    assert rows[0][0].startswith("INTERNAL - TIDAK UNTUK DIPUBLIKASIKAN")
    header = rows[1]
    assert header[:2] == ("id_keluarga", "baris_register")
    assert not {"nik", "nama", "alamat", "no_hp"} & {str(h).lower() for h in header}
    ids = {r[0] for r in rows[2:]}
    assert ids == generated.verification
    assert ids <= generated.family_ids


def test_priority_table_files_and_hostile_names(hostile_run):
    import openpyxl

    _, out, _, _, codes = hostile_run
    lokus = pd.read_csv(out / "lokus.csv", dtype={"kode_desa": str})
    assert list(lokus.columns[:5]) == [
        "peringkat",
        "kode_desa",
        "nama_desa",
        "kode_kecamatan",
        "nama_kecamatan",
    ]
    assert "kantong" in lokus.columns
    by_code = lokus.set_index("kode_desa")
    assert by_code.at[codes[0], "nama_desa"] == HOSTILE
    assert by_code.at[codes[1], "nama_desa"] == "'" + FORMULA  # never a formula in a CSV
    book = openpyxl.load_workbook(out / "lokus.xlsx")
    cells = [c for row in book.active.iter_rows() for c in row if c.value == FORMULA]
    assert cells and all(c.data_type == "s" for c in cells)
    html_text = (out / "sasaran.html").read_text(encoding="utf-8")
    assert HOSTILE not in html_text  # escaped wherever it is written


@pytest.mark.browser
def test_map_opens_without_errors_and_shows_names_as_text(hostile_run, browser):
    from conftest import open_offline
    from test_browser import LAYERS_JS, _popup_of

    _, out, _, _, codes = hostile_run
    page = open_offline(browser, out / "sasaran.html")
    try:
        assert page.errors == [] and page.requests == []
        layers = page.evaluate(LAYERS_JS)
        desa = [layer for layer in layers if "s" in layer["fields"]]
        assert len(desa) >= 3  # exclusion, inclusion, not in register, needs: one per measure
        assert max(layer["drawn"] for layer in desa) == 351
        legend = page.locator(".povmap-legend").inner_text()
        assert "Keluarga sasaran (desil 1) yang tidak menerima program yang diketahui" in legend
        text = _popup_of(page, codes[0])
        assert HOSTILE in text and "Keluarga sasaran" in text
        assert page.evaluate("window.__pwned") is None
    finally:
        page.close()


def test_suppressed_outputs_hold_no_small_count(family_p3ke, tmp_path):
    from conftest import invoke

    _, path = family_p3ke
    out = tmp_path / "publik"
    code, text = invoke(
        "sasaran", KONSEL_DESA, path, "-o", out, "--suppress-below", "5", "--tiles", "none"
    )
    assert code == 0, text
    assert not (out / "laporan_sasaran.json").exists()
    layer = gpd.read_file(out / "sasaran.gpkg")
    counts = [
        c
        for c in layer.columns
        if c.startswith(("keluarga_", "jumlah_", "penerima_", "kebutuhan_"))
        and not c.endswith("utama")
    ]
    values = layer[counts].to_numpy(dtype=float)
    assert not ((values >= 1) & (values < 5)).any()
    assert layer["disamarkan"].any()
    # A blanked exclusion count takes the program counts of its desa with it.
    blanked = (
        layer["keluarga_sasaran_tanpa_program"].isna()
        & layer["program_diketahui"].fillna("").astype(bool)
        & layer["keluarga_sasaran"].notna()
    )
    assert layer.loc[blanked, "keluarga_sasaran_pkh"].isna().all()
    lokus = pd.read_csv(out / "lokus.csv")
    shown = lokus[[c for c in lokus.columns if c in counts]].to_numpy(dtype=float)
    assert not ((shown >= 1) & (shown < 5)).any()
    import json

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["penyamaran"]["ambang"] == 5
    assert manifest["penggabungan"]["totals"]["jumlah_keluarga"]["matched"] is None
    assert "disamarkan" in (out / "sasaran.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("case", ["bad_flag", "inside", "csv_list", "recap", "swapped", "program"])
def test_cli_errors_exit_1_naming_the_file_or_column(family_p3ke, konsel_raw, tmp_path, case):
    from conftest import invoke, make_counts

    generated, path = family_p3ke
    out = tmp_path / "keluaran"
    args = [KONSEL_DESA, path, "-o", out, "--tiles", "none"]
    expect = ""
    if case == "bad_flag":
        table = generated.register.copy()
        table.loc[3, "penerima_bpnt"] = "mungkin"
        path = tmp_path / "salah.csv"
        table.to_csv(path, index=False)
        args[1] = path
        expect = "salah.csv, row 5, column 'penerima_bpnt'"
    elif case == "inside":
        args += ["--daftar-verifikasi", out / "verifikasi.xlsx"]
        expect = "must not lie in the public output folder"
    elif case == "csv_list":
        args += ["--daftar-verifikasi", tmp_path / "verifikasi.csv"]
        expect = "use an .xlsx file"
    elif case == "recap":
        args[1] = tmp_path / "rekap.csv"
        make_counts(konsel_raw).to_csv(args[1], index=False)
        expect = "rekap.csv: not a by-name register"
    elif case == "swapped":
        args[:2] = [path, KONSEL_DESA]
        expect = "BOUNDARIES comes first"
    elif case == "program":
        args += ["--programs", "pkh,zakat"]
        expect = "--programs zakat: unknown program"
    code, text = invoke("sasaran", *args, "--lang", "en")
    assert code == 1, text
    assert expect in text
    assert not out.exists()  # nothing written


def test_cli_message_in_indonesian_by_default(family_p3ke, tmp_path):
    from conftest import invoke

    _, path = family_p3ke
    code, text = invoke("sasaran", KONSEL_DESA, path, "-o", tmp_path / "k", "--desil-layak", "12")
    assert code == 1 and "--desil-layak 12: gunakan bilangan bulat 1 sampai 10" in text


def test_recipients_list_without_area_columns_gives_a_total_only(individual_dtsen, tmp_path):
    generated, path, _ = individual_dtsen
    kpm = tmp_path / "kpm_tanpa_wilayah.csv"
    generated.recipients.drop(columns=["Kode Wilayah", "Kecamatan", "Desa"]).to_csv(
        kpm, index=False
    )
    result = povmap.targeting(path, KONSEL_DESA, recipients=kpm)
    assert result.recipients_total["tidak_di_register"] == 40
    assert "penerima_tidak_di_register" not in result.desa.columns
    assert any("tanpa kolom wilayah" in n for n in result.notes)
    # Who receives PKH and BPNT still follows the list, linked by NIK or family id.
    truth = generated.truth.drop(columns=["jumlah_entri_penerima", "penerima_tidak_di_register"])
    assert _compare(result.desa, truth) == {}


def test_person_rows_without_a_family_id_are_refused(individual_dtsen, tmp_path):
    generated, _, _ = individual_dtsen
    path = tmp_path / "tanpa_id.csv"
    generated.register.drop(columns=["ID Keluarga", "No KK"]).to_csv(path, index=False)
    with pytest.raises(PovmapInputError, match="tanpa_id.csv: ekspor per orang tanpa kolom id"):
        povmap.targeting(path, KONSEL_DESA)


def test_an_address_shifted_into_the_desa_column_stays_masked(family_p3ke, tmp_path):
    from conftest import invoke

    generated, _ = family_p3ke
    table = generated.register.copy()
    address = "JL. MELATI GANG TUJUH NO 12"
    table.loc[10, ["kode_kemdagri", "desa_kelurahan"]] = ["", address]
    path = tmp_path / "geser.csv"
    table.to_csv(path, index=False)
    out = tmp_path / "keluaran"
    code, text = invoke("sasaran", KONSEL_DESA, path, "-o", out, "--tiles", "none")
    assert code == 0, text
    report = (out / "laporan_sasaran.json").read_text(encoding="utf-8")
    assert "J" + "*" * (len(address) - 1) in report  # the unmatched row, masked
    leaks = [name for name, data in all_bytes(out) if address.encode() in data]
    assert leaks == [] and address not in text


@pytest.mark.parametrize("lang", ["id", "en"])
def test_suppression_on_a_small_kabupaten_is_said_on_the_terminal(lang, tmp_path):
    """Kayong Utara (43 desa): most desa have fewer than 5 target families, so suppression
    empties most of the priority table; the terminal and the manifest say so."""
    import json

    from conftest import KAYONG_DESA, invoke

    raw = gpd.read_file(need(KAYONG_DESA))
    path = tmp_path / "p3ke.csv"
    make_register(raw, seed=5, level="keluarga", style="p3ke").register.to_csv(path, index=False)
    out = tmp_path / "publik"
    code, text = invoke(
        "sasaran",
        KAYONG_DESA,
        path,
        "-o",
        out,
        "--suppress-below",
        "5",
        "--tiles",
        "none",
        "--lang",
        lang,
    )
    assert code == 0, text
    layer = gpd.read_file(out / "sasaran.gpkg")
    suppressed = int(layer["disamarkan"].sum())
    written = len(pd.read_csv(out / "lokus.csv"))
    unsuppressed = len(povmap.targeting(path, KAYONG_DESA).lokus)
    assert suppressed > 0 and written < unsuppressed
    assert written == 0  # seed 5: every desa with target families has fewer than 5
    if lang == "id":
        assert f"{suppressed} dari {len(layer)} desa punya angka yang dikosongkan" in text
        assert (
            f"Tabel prioritas (lokus) kosong: jumlah keluarga sasaran di ke-{unsuppressed} "
            "desa yang seharusnya tercantum dikosongkan"
        ) in text
    else:
        assert f"{suppressed} of {len(layer)} villages have blanked values" in text
        assert (
            f"is empty: suppression blanked the number of target families in all {unsuppressed}"
        ) in text
    record = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["penyamaran"]
    assert record["desa_disamarkan"] == suppressed and record["desa"] == len(layer)
    assert record["lokus_tertulis"] == written
    assert record["lokus_tanpa_penyamaran"] == unsuppressed


def test_desa_without_geometry_are_named_as_not_on_the_map(tmp_path):
    """Null geometries in the boundary file: the terminal and the report say which desa the map
    cannot draw, with the note ``map``, ``export`` and ``pockets`` give."""
    import json

    from conftest import LAHAT_DESA, invoke

    raw = gpd.read_file(need(LAHAT_DESA))
    path = tmp_path / "p3ke.csv"
    make_register(raw, seed=8, level="keluarga", style="p3ke").register.to_csv(path, index=False)
    holes = raw.copy()
    holes.loc[[3, 17], "geometry"] = None
    batas = tmp_path / "lahat_lubang.geojson"
    holes.to_file(batas, driver="GeoJSON")
    out = tmp_path / "publik"
    code, text = invoke("sasaran", batas, path, "-o", out, "--tiles", "none")
    assert code == 0, text
    assert "2 wilayah tanpa geometri (tidak tergambar di peta)" in text
    report = json.loads((out / "laporan_sasaran.json").read_text(encoding="utf-8"))
    assert any("2 areas without geometry (not drawn on the map)" in n for n in report["catatan_en"])
    code, text = invoke(
        "sasaran", batas, path, "-o", tmp_path / "en", "--tiles", "none", "--lang", "en"
    )
    assert code == 0 and "2 areas without geometry (not drawn on the map)" in text


def test_an_impossible_desil_names_file_row_and_column_never_the_cell(tmp_path):
    """An impossible desil stops the run like a bad program flag (not "tanpa desil"), by the
    rule every reader shares (povmap.p3ke.desil_of); --allow-invalid leaves the row out and
    notes it."""
    from conftest import KAYONG_DESA

    raw = gpd.read_file(need(KAYONG_DESA))
    table = make_register(raw, seed=3, level="keluarga", style="p3ke").register.astype(
        {"desil_kesejahteraan": object}
    )
    blank = tmp_path / "blank_desil.csv"
    table.assign(desil_kesejahteraan=table["desil_kesejahteraan"].mask(table.index == 4)).to_csv(
        blank, index=False
    )
    expected = povmap.targeting(blank, KAYONG_DESA).desa["jumlah_keluarga_register"]
    said = set()
    for value in ("3201234567890123", "0", "11", "2.5", "abc", "-3"):
        table.loc[4, "desil_kesejahteraan"] = value
        path = tmp_path / "bad_desil.csv"
        table.to_csv(path, index=False)
        with pytest.raises(PovmapInputError) as info:
            povmap.targeting(path, KAYONG_DESA)
        text = str(info.value)
        assert "bad_desil.csv, kolom 'desil_kesejahteraan': 1 baris berisi desil" in text
        assert "(baris 6)" in text and "--allow-invalid" in text
        assert "column 'desil_kesejahteraan': 1 row holds an impossible desil (row 6)" in (
            info.value.message("en")
        )
        said.add(text)
        allowed = povmap.targeting(path, KAYONG_DESA, allow_invalid=True)
        assert (
            "desil_tidak_sah: 1 baris dengan desil yang tidak mungkin (bukan bilangan bulat "
            "1-10; baris 6) dilewatkan (--allow-invalid)."
        ) in allowed.notes
        # Left out like a row without desil: the same counts as with that cell blank.
        assert allowed.desa["jumlah_keluarga_register"].equals(expected)
    # Never the cell, not even masked (a shifted row can put a NIK there): one message for all.
    assert len(said) == 1 and "*" not in said.pop()


@pytest.mark.browser
def test_title_clear_of_the_layer_control_and_legend_in_percent(hostile_run, browser):
    """At 1280×800 the title box does not sit under the (long) layer control, and the legend
    writes each class as the popups write rates: decimal comma and "%"."""
    from conftest import open_offline

    _, out, _, _, _ = hostile_run
    page = open_offline(browser, out / "sasaran.html", width=1280, height=800)
    try:
        page.wait_for_timeout(300)
        title = page.locator(".povmap-title").bounding_box()
        controls = [
            page.locator(".leaflet-control-layers").bounding_box(),
            *(
                el.bounding_box()
                for el in page.locator(".leaflet-top.leaflet-left .leaflet-control").all()
            ),
        ]
        for box in controls:
            assert box is not None and title is not None
            apart = (
                title["x"] + title["width"] <= box["x"]
                or box["x"] + box["width"] <= title["x"]
                or title["y"] + title["height"] <= box["y"]
                or box["y"] + box["height"] <= title["y"]
            )
            assert apart, (title, box)
        labels = page.locator(".povmap-section").first.inner_text()
        classes = [
            line
            for line in labels.splitlines()[1:]
            if any(ch.isdigit() for ch in line) and line != "0 (tidak ada)"
        ]
        assert classes and all(line.endswith(" %") and "," in line for line in classes), labels
    finally:
        page.close()


def test_suppression_summary_of_a_short_priority_table():
    from povmap.export.sasaran import suppression_summary

    record = {
        "ambang": 10,
        "desa_disamarkan": 1200,
        "desa": 2500,
        "lokus_tanpa_penyamaran": 2000,
        "lokus_tertulis": 1500,
    }
    assert suppression_summary(record, "id").splitlines() == [
        "Penyamaran (--suppress-below 10): 1.200 dari 2.500 desa punya angka yang dikosongkan "
        "(kolom disamarkan)",
        "Tabel prioritas (lokus) hanya memuat 1.500 desa: 500 desa keluar karena jumlah keluarga "
        "sasarannya dikosongkan oleh penyamaran",
    ]
    assert "holds only 1,500 villages: 500 villages left" in suppression_summary(record, "en")
