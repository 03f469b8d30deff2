"""Progress toward zero across vintages, on the real Lahat layer (378 desa, 42 repeated names).

Three vintages are generated, deterministic from a seed, whose kabupaten rates are exactly those of
Lahat's rakor: 7,35 % (2022), 2,68 % (2023) and 1,09 % (2024). The 2022 table uses old-edition codes
for three desa (a code under another kecamatan), one desa has no row in 2023 and one desa first
appears in 2024.
"""

from __future__ import annotations

import json
import math
import subprocess
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import LAHAT_DESA, need, open_offline
from hypothesis import given, settings
from hypothesis import strategies as st

import povmap
from povmap import PovmapInputError
from povmap.cli import main
from povmap.i18n import format_number
from povmap.render.trend import _signed
from povmap.trend import crosswalk

#: People in extreme poverty per 10 000 inhabitants, per vintage: 7,35 %, 2,68 %, 1,09 %.
RATES = {"2022": 735, "2023": 268, "2024": 109}


def make_vintages(raw: gpd.GeoDataFrame, seed: int = 1604) -> tuple[dict, dict]:
    """Counts tables for 2022-2024 keyed to the real codes and names of ``raw``.

    Each vintage's population is made a multiple of 10 000 and its poor counts are allotted so
    that they sum to exactly the rate above. Returns the tables and what was planted.
    """
    rng = np.random.default_rng(seed)
    n = len(raw)
    codes, names = raw["kode"].to_numpy(copy=True), raw["nama"].to_numpy(copy=True)
    kec, kec_code = raw["nama_kec"].to_numpy(copy=True), raw["kode_kec"].to_numpy(copy=True)
    repeated = pd.Series(names).duplicated(keep=False).to_numpy()
    unique = np.flatnonzero(~repeated)
    missing, new = int(unique[10]), int(unique[20])
    # Old-edition codes: two desa with a unique name, one with a repeated name (found through
    # its kecamatan name); the second one's row also names the old kecamatan.
    old = [int(unique[30]), int(unique[40]), int(np.flatnonzero(repeated)[5])]
    base = rng.integers(400, 6000, n)
    tables = {}
    plan = {"missing_2023": codes[missing], "new_2024": codes[new], "old_codes": {}}
    for k, (label, per_10k) in enumerate(RATES.items()):
        present = np.ones(n, bool)
        if label in ("2022", "2023"):
            present[new] = False
        if label == "2023":
            present[missing] = False
        population = (base * (1 + 0.02 * k)).astype(int)
        first = int(np.flatnonzero(present)[0])
        population[first] += (-population[present].sum()) % 10_000
        total = population[present].sum() // 10_000 * per_10k
        weight = np.where(present, population * rng.uniform(0.2, 1.8, n), 0.0)
        share = total * weight / weight.sum()
        poor = np.floor(share).astype(int)
        poor[np.argsort(-(share - poor))[: int(total - poor.sum())]] += 1
        table = pd.DataFrame(
            {
                "kode_wilayah": codes.copy(),
                "nama_kecamatan": kec.copy(),
                "nama_desa": names.copy(),
                "jumlah_penduduk": population,
                "jumlah_miskin_ekstrem": poor,
            }
        )
        if label == "2022":
            for j, i in enumerate(old):
                other = next(c for c in sorted(set(kec_code)) if c != kec_code[i])
                table.loc[i, "kode_wilayah"] = f"{other}.2{990 + j}"
                plan["old_codes"][codes[i]] = table.loc[i, "kode_wilayah"]
                if j == 1:
                    table.loc[i, "nama_kecamatan"] = kec[kec_code == other][0]
        tables[label] = table[present].reset_index(drop=True)
    return tables, plan


@pytest.fixture(scope="module")
def lahat():
    return povmap.read_boundaries(need(LAHAT_DESA)).gdf


@pytest.fixture(scope="module")
def vintages():
    return make_vintages(gpd.read_file(need(LAHAT_DESA)))


@pytest.fixture(scope="module")
def result(lahat, vintages):
    return povmap.trend(lahat, vintages[0], target=0)


@pytest.fixture(scope="module")
def written(tmp_path_factory, vintages):
    """The command as a user runs it, on CSV files."""
    tmp = tmp_path_factory.mktemp("trend")
    paths = []
    for label, table in vintages[0].items():
        path = tmp / f"rekap_{label}.csv"
        table.to_csv(path, index=False)
        paths.append(str(path))
    out = tmp / "tren"
    run = CliRunner().invoke(
        main,
        [
            "trend",
            str(need(LAHAT_DESA)),
            *paths,
            "--labels",
            "2022,2023,2024",
            "-o",
            str(out),
            "--tiles",
            "none",
        ],
    )
    assert run.exit_code == 0, run.output
    return out, run


def test_kabupaten_series_reproduces_the_rakor_rates(result):
    kab = result.kabupaten
    assert len(kab) == 1 and kab.at[0, "nama_kecamatan"] == "Kabupaten Lahat"
    for label, per_10k in RATES.items():
        assert kab.at[0, f"persen_miskin_ekstrem_{label}"] == pytest.approx(
            per_10k / 100, abs=1e-12
        )
    assert kab.at[0, "perubahan_persen"] == pytest.approx(1.09 - 7.35, abs=1e-12)
    assert "2022: 7,35 % → 2023: 2,68 % → 2024: 1,09 %" in result.summary()
    assert result.series == ("2022", "2023", "2024") and result.measure == "jumlah_miskin_ekstrem"


def test_every_change_is_last_minus_first(result, vintages):
    desa = result.desa
    assert len(desa) == 378 and desa["kode_desa"].is_unique
    both = desa["jumlah_miskin_ekstrem_2022"].notna() & desa["jumlah_miskin_ekstrem_2024"].notna()
    assert both.sum() == 377
    np.testing.assert_array_equal(
        desa.loc[both, "perubahan_jumlah"],
        desa.loc[both, "jumlah_miskin_ekstrem_2024"] - desa.loc[both, "jumlah_miskin_ekstrem_2022"],
    )
    rate = {
        lb: 100 * desa[f"jumlah_miskin_ekstrem_{lb}"] / desa[f"jumlah_penduduk_{lb}"]
        for lb in ("2022", "2024")
    }
    np.testing.assert_allclose(
        desa.loc[both, "perubahan_persen"], (rate["2024"] - rate["2022"])[both], atol=1e-12
    )
    # The values are the tables' own, desa by desa (matched by code).
    table = vintages[0]["2024"].set_index("kode_wilayah")
    np.testing.assert_array_equal(
        desa.set_index("kode_desa")["jumlah_miskin_ekstrem_2024"].loc[table.index],
        table["jumlah_miskin_ekstrem"],
    )
    # Direction with the stated tolerance (0,1 percentage points).
    turun = desa["perubahan_persen"] < -0.1
    assert (desa.loc[turun, "arah"] == "turun").all()
    tetap = desa["perubahan_persen"].abs() <= 0.1
    assert (desa.loc[tetap, "arah"] == "tetap").all()
    assert (desa["selisih_target_jiwa"] == desa["jumlah_miskin_ekstrem_2024"]).all()
    np.testing.assert_allclose(desa["selisih_target_persen"], rate["2024"], atol=1e-12)


def test_summaries_equal_the_sums(result):
    desa, kec = result.desa, result.kecamatan
    lines = kec[kec["tingkat"] == "kecamatan"].set_index("kode_kecamatan")
    assert len(lines) == 24 and lines["jumlah_desa"].sum() == 378
    for column in (
        "jumlah_miskin_ekstrem_2022",
        "jumlah_penduduk_2023",
        "jumlah_miskin_ekstrem_2024",
        "selisih_target_jiwa",
    ):
        sums = desa.groupby("kode_kecamatan")[column].sum()
        np.testing.assert_array_equal(lines.loc[sums.index, column], sums)
        assert result.kabupaten.at[0, column] == lines[column].sum() == desa[column].sum()
    for arah in ("turun", "tetap", "naik", "baru", "hilang"):
        counted = (desa["arah"] == arah).groupby(desa["kode_kecamatan"]).sum()
        np.testing.assert_array_equal(lines.loc[counted.index, f"desa_{arah}"], counted)
        assert result.kabupaten.at[0, f"desa_{arah}"] == (desa["arah"] == arah).sum()
    # Rates are recomputed from the sums, and the change is last minus first at every level.
    np.testing.assert_allclose(
        lines["persen_miskin_ekstrem_2023"],
        100 * lines["jumlah_miskin_ekstrem_2023"] / lines["jumlah_penduduk_2023"],
        atol=1e-12,
    )
    np.testing.assert_array_equal(
        kec["perubahan_jumlah"],
        kec["jumlah_miskin_ekstrem_2024"] - kec["jumlah_miskin_ekstrem_2022"],
    )


def test_old_edition_codes_are_matched_by_name_and_reported(result, lahat, vintages):
    tables, plan = vintages
    old = tables["2022"].set_index("kode_wilayah")
    desa = result.desa.set_index("kode_desa")
    for code, old_code in plan["old_codes"].items():
        assert (
            desa.at[code, "jumlah_miskin_ekstrem_2022"] == old.at[old_code, "jumlah_miskin_ekstrem"]
        )
    moved = {m["kode_asli"]: m["kode_desa"] for m in result.changes["kode_berubah"]}
    assert moved == {old: new for new, old in plan["old_codes"].items()}
    assert {m["periode"] for m in result.changes["kode_berubah"]} == {"2022"}
    assert "kode_berubah" in " ".join(result.reports["2022"].notes)
    # Without the crosswalk the join does not find these desa by their old codes.
    plain = povmap.join(lahat, tables["2022"]).joined.set_index("kode_desa")
    assert plain.loc[list(plan["old_codes"]), "baris"].isna().all()


def test_crosswalk_points_a_reused_code_to_the_desa_of_its_name(lahat):
    table = pd.DataFrame(
        {
            "kode_wilayah": ["16.04.01.2001", "16.04.01.2002"],
            "nama_kecamatan": ["Tanjungsakti Pumu"] * 2,
            # the first code now belongs to Kembang Ayun; the row names another desa
            "nama_desa": ["Tanjung Alam", "Gunung Meraksa"],
            "jumlah_miskin_ekstrem": [5, 7],
        }
    )
    out, moved, renamed = crosswalk(lahat, table)
    assert list(out["kode_wilayah"]) == ["16.04.01.2003", "16.04.01.2002"]
    assert moved[0]["kode_asli"] == "16.04.01.2001" and moved[0]["kode_desa"] == "16.04.01.2003"
    assert moved[0]["cara"].startswith("kode_dipakai_desa_lain")
    assert renamed == []


def test_missing_and_new_desa_are_kept_and_reported(result, vintages):
    _, plan = vintages
    desa = result.desa.set_index("kode_desa")
    gap, new = plan["missing_2023"], plan["new_2024"]
    assert np.isnan(desa.at[gap, "jumlah_miskin_ekstrem_2023"])
    assert desa.at[gap, "perubahan_jumlah"] == (
        desa.at[gap, "jumlah_miskin_ekstrem_2024"] - desa.at[gap, "jumlah_miskin_ekstrem_2022"]
    )
    assert desa.at[new, "arah"] == "baru" and np.isnan(desa.at[new, "perubahan_jumlah"])
    assert desa.at[new, "jumlah_miskin_ekstrem_2024"] >= 0
    changes = result.changes
    assert [(d["kode_desa"], d["tanpa_data"]) for d in changes["tidak_lengkap"]] == [
        (gap, ["2023"])
    ]
    assert [(d["kode_desa"], d["ada_sejak"]) for d in changes["baru"]] == [(new, "2024")]
    report = result.report()
    assert report["baru"][0]["kode_desa"] == new and report["tidak_lengkap"][0]["kode_desa"] == gap
    assert any("1 desa baru" in n for n in result.notes)


def test_a_desa_gone_in_the_last_vintage_is_hilang(lahat, vintages):
    tables = dict(vintages[0])
    gone = tables["2024"]["kode_wilayah"].iloc[100]
    tables["2024"] = tables["2024"].drop(index=100)
    out = povmap.trend(lahat, tables)
    row = out.desa.set_index("kode_desa").loc[gone]
    assert row["arah"] == "hilang" and np.isnan(row["perubahan_jumlah"])
    assert [(d["kode_desa"], d["terakhir_ada"]) for d in out.changes["hilang"]] == [(gone, "2023")]


def _neighbours(lahat: gpd.GeoDataFrame) -> tuple[int, int]:
    """Two touching desa of one kecamatan (positions in the layer)."""
    metric = lahat.to_crs(lahat.estimate_utm_crs())
    for i in range(len(metric)):
        near = metric.index[metric.geometry.intersects(metric.geometry.iloc[i].buffer(10))]
        same = [
            j
            for j in near
            if j != i and lahat.at[j, "kode_kecamatan"] == lahat.at[i, "kode_kecamatan"]
        ]
        if same:
            return i, same[0]
    raise AssertionError("no neighbours")


def test_a_split_desa_is_reported_and_not_compared(lahat, vintages):
    parent, child = _neighbours(lahat)
    tables = {lb: t.copy() for lb, t in vintages[0].items()}
    code_p, code_c = lahat.at[parent, "kode_desa"], lahat.at[child, "kode_desa"]
    last = tables["2024"].set_index("kode_wilayah")
    first = tables["2022"]
    # 2022: the child did not exist yet; its people and poor were the parent's.
    row = first.index[first["kode_wilayah"] == code_p][0]
    for column in ("jumlah_penduduk", "jumlah_miskin_ekstrem"):
        first.loc[row, column] = last.at[code_p, column] + last.at[code_c, column] + 3
    tables["2022"] = first[first["kode_wilayah"] != code_c].reset_index(drop=True)
    tables["2023"] = tables["2023"][tables["2023"]["kode_wilayah"] != code_c]
    out = povmap.trend(lahat, tables)
    desa = out.desa.set_index("kode_desa")
    assert desa.at[code_p, "arah"] == "tidak_sebanding"
    assert np.isnan(desa.at[code_p, "perubahan_jumlah"])
    assert np.isnan(desa.at[code_p, "perubahan_persen"])
    assert desa.at[code_c, "arah"] == "baru"
    [split] = out.changes["pemekaran"]
    assert split["kode_desa"] == code_p and split["desa_baru"][0]["kode_desa"] == code_c
    assert "penduduk" in split["bukti"]
    # The change of the whole (parent and child together) is comparable, and given.
    assert split["perubahan_jumlah_gabungan"] == -3
    assert any("dimekarkan" in n for n in out.notes)


def test_a_merged_desa_is_reported_and_not_compared(lahat, vintages):
    tables = {lb: t.copy() for lb, t in vintages[0].items()}
    target = tables["2024"].iloc[200]
    code = target["kode_wilayah"]
    kecamatan_code = ".".join(code.split(".")[:3])
    # 2022 has a desa that no longer exists: it merged into `code` (whose 2024 population holds
    # both).
    merged = {
        "kode_wilayah": f"{kecamatan_code}.2999",
        "nama_kecamatan": target["nama_kecamatan"],
        "nama_desa": "Desa Yang Dihapus",
        "jumlah_penduduk": 2000,
        "jumlah_miskin_ekstrem": 150,
    }
    first = tables["2022"]
    first.loc[first["kode_wilayah"] == code, "jumlah_penduduk"] = target["jumlah_penduduk"] - 2000
    tables["2022"] = pd.concat([first, pd.DataFrame([merged])], ignore_index=True)
    out = povmap.trend(lahat, tables)
    desa = out.desa.set_index("kode_desa")
    assert desa.at[code, "arah"] == "tidak_sebanding"
    assert np.isnan(desa.at[code, "perubahan_jumlah"])
    [entry] = out.changes["penggabungan"]
    assert (
        entry["kode_desa"] == code
        and entry["baris_bergabung"][0]["nama_desa"] == "Desa Yang Dihapus"
    )
    assert "2022" not in out.changes["tanpa_wilayah"]  # the row is accounted for by the merge


def _registers(vintages) -> dict:
    """2022 and 2023 P3KE recaps (with desil 1), 2025 a DTSEN recap (desil 1-10, no extreme
    poverty count)."""
    tables = {
        lb: t.assign(jumlah_desil_1=(t["jumlah_miskin_ekstrem"] * 1.5).round())
        for lb, t in vintages[0].items()
        if lb != "2024"
    }
    dtsen = vintages[0]["2024"].drop(columns="jumlah_miskin_ekstrem")
    for d in range(1, 11):
        dtsen[f"jumlah_desil_{d}"] = (dtsen["jumlah_penduduk"] * 0.1).round()
    tables["2025"] = dtsen
    return tables


def test_p3ke_and_dtsen_are_kept_apart(lahat, vintages, tmp_path):
    out = povmap.trend(lahat, _registers(vintages))
    assert out.registers == {"2022": "p3ke", "2023": "p3ke", "2025": "dtsen"}
    assert out.series == ("2022", "2023") and not out.forced
    assert out.measures["2025"] == "jumlah_desil_1"
    desa = out.desa
    np.testing.assert_array_equal(
        desa["perubahan_jumlah"].dropna(),
        (desa["jumlah_miskin_ekstrem_2023"] - desa["jumlah_miskin_ekstrem_2022"]).dropna(),
    )
    [warning] = [n for n in out.notes if n.startswith("PERHATIAN")]
    assert "2025" in warning and "--force-compare" in warning and "tidak dibandingkan" in warning
    assert "different registers" in warning.en
    # The map, the chart's footnote and the summaries say so too.
    povmap.export.write_trend(out, tmp_path / "tren", tiles=None)
    assert "PERHATIAN: periode berasal dari register berbeda" in (
        tmp_path / "tren" / "trend.html"
    ).read_text(encoding="utf-8")
    table = pd.read_csv(tmp_path / "tren" / "ringkasan_kecamatan.csv", dtype=str)
    assert (
        table["catatan"].iloc[-1].startswith("PERHATIAN")
        and table["catatan"].iloc[0] != table["catatan"].iloc[-1]
    )
    excel = pd.read_excel(tmp_path / "tren" / "ringkasan_kecamatan.xlsx")
    assert excel["catatan"].iloc[-1].startswith("PERHATIAN: periode berasal dari register")
    assert "2025" in table.columns[table.columns.str.endswith("_2025")][0]
    # The terminal chains only the compared series; 2025 (DTSEN) stands apart.
    summary = out.summary("id")
    assert "→ 2025" not in summary and "(register lain, tidak dibandingkan: 2025:" in summary


def test_forced_comparison_uses_the_common_column_and_says_so(lahat, vintages):
    out = povmap.trend(lahat, _registers(vintages), force_compare=True)
    assert out.forced and out.series == ("2022", "2023", "2025")
    assert set(out.measures.values()) == {"jumlah_desil_1"}
    notes = " ".join(out.notes)
    assert "bukan tren" in notes and "dibandingkan hanya pada jumlah_desil_1" in notes
    assert out.desa["perubahan_jumlah"].notna().sum() > 300


def test_two_registers_without_a_series_stop_with_a_message(lahat, vintages):
    tables = _registers(vintages)
    del tables["2023"]
    with pytest.raises(PovmapInputError, match="--force-compare") as info:
        povmap.trend(lahat, tables)
    assert "P3KE" in str(info.value) and "different registers" in info.value.message("en")
    # Or named by hand: --register gives one register per vintage.
    out = povmap.trend(lahat, tables, registers="p3ke")
    assert out.series == ("2022", "2025")


def test_bad_labels_and_one_vintage_are_refused(lahat, vintages):
    tables = vintages[0]
    with pytest.raises(PovmapInputError, match="dua periode"):
        povmap.trend(lahat, {"2022": tables["2022"]})
    with pytest.raises(PovmapInputError, match="tidak dapat dipakai"):
        povmap.trend(lahat, {"2022": tables["2022"], "2023 baru": tables["2023"]})


def test_cli_writes_every_output(written, vintages):
    out, run = written
    names = {p.name for p in out.iterdir()}
    assert names == {
        "trend.geojson",
        "trend.gpkg",
        "trend.html",
        "trend.png",
        "ringkasan_kecamatan.csv",
        "ringkasan_kecamatan.xlsx",
        "laporan_tren.json",
        "manifest.json",
        *(f"laporan_penggabungan_{lb}.json" for lb in RATES),
    }
    assert "2022: 7,35 % → 2023: 2,68 % → 2024: 1,09 %" in run.output
    layer = gpd.read_file(out / "trend.geojson")
    assert len(layer) == 378 and layer.crs.to_epsg() == 4326
    assert {
        "kode_desa",
        "nama_desa",
        "jumlah_miskin_ekstrem_2022",
        "persen_miskin_ekstrem_2024",
        "perubahan_jumlah",
        "perubahan_persen",
        "arah",
        "selisih_target_jiwa",
        "selisih_target_persen",
    } <= set(layer.columns)
    info = subprocess.run(
        ["ogrinfo", "-so", "-al", str(out / "trend.gpkg")], capture_output=True, text=True
    )
    assert info.returncode == 0 and "Feature Count: 378" in info.stdout
    assert "Feature Count: 24" in info.stdout  # the kecamatan summary with outlines
    table = pd.read_csv(out / "ringkasan_kecamatan.csv", dtype={"kode_kecamatan": str})
    kab = table[table["tingkat"] == "kabupaten"].iloc[0]
    assert [kab[f"persen_miskin_ekstrem_{lb}"] for lb in RATES] == [7.35, 2.68, 1.09]
    assert (
        kab["jumlah_miskin_ekstrem_2022"]
        == table.loc[table["tingkat"] == "kecamatan", "jumlah_miskin_ekstrem_2022"].sum()
    )
    excel = pd.read_excel(out / "ringkasan_kecamatan.xlsx")
    assert excel.iloc[-1]["persen_miskin_ekstrem_2024"] == 1.09  # a number, not text
    assert out.joinpath("trend.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["periode"] == ["2022", "2023", "2024"]
    assert {f["berkas"] for f in manifest["keluaran"]} == names - {"manifest.json"}
    assert len(manifest["masukan"]) == 4  # the boundaries and the three tables, hashed
    report = json.loads((out / "laporan_tren.json").read_text(encoding="utf-8"))
    assert (
        len(report["kode_berubah"]) == 3
        and report["baru"][0]["kode_desa"] == vintages[1]["new_2024"]
    )
    joined = json.loads((out / "laporan_penggabungan_2023.json").read_text(encoding="utf-8"))
    assert joined["matched"] == 376
    assert zipfile.is_zipfile(out / "ringkasan_kecamatan.xlsx")


def test_cli_refuses_labels_that_do_not_fit(tmp_path, vintages):
    path = tmp_path / "a.csv"
    vintages[0]["2022"].to_csv(path, index=False)
    run = CliRunner().invoke(
        main,
        [
            "trend",
            str(need(LAHAT_DESA)),
            str(path),
            str(path),
            "--labels",
            "2022",
            "-o",
            str(tmp_path / "out"),
        ],
    )
    assert run.exit_code == 2 and "--labels" in run.output
    assert not (tmp_path / "out").exists()


def test_cli_failed_run_writes_nothing(tmp_path, vintages):
    good = tmp_path / "a.csv"
    vintages[0]["2022"].to_csv(good, index=False)
    other = tmp_path / "b.csv"
    pd.DataFrame(
        {
            "kode_wilayah": ["63.06.01.2001"],
            "nama_desa": ["Tambak Bitin"],
            "jumlah_miskin_ekstrem": [4],
        }
    ).to_csv(other, index=False)
    out = tmp_path / "out"
    run = CliRunner().invoke(
        main,
        [
            "trend",
            str(need(LAHAT_DESA)),
            str(good),
            str(other),
            "--labels",
            "2022,2023",
            "-o",
            str(out),
            "--lang",
            "en",
        ],
    )
    assert run.exit_code == 1
    assert "Error: Vintage 2023" in run.output and "no row matches" in run.output
    assert "Traceback" not in run.output
    assert not out.exists()


@pytest.mark.browser
def test_trend_map_opens_offline_with_one_path_per_desa(browser, written):
    out, _ = written
    path = out / "trend.html"
    page = open_offline(browser, path)
    errors, requests = page.errors, page.requests
    try:
        layers = page.evaluate("""() => {
            const out = [];
            for (const key of Object.keys(window)) {
                const v = window[key];
                if (v instanceof L.GeoJSON && v.getLayers().length) {
                    out.push({features: v.getLayers().length, shown: !!v._map,
                              drawn: v._map ? v.getLayers().filter(
                                  l => l._parts && l._parts.length).length : 0,
                              fields: Object.keys(v.getLayers()[0].feature.properties)});
                }
            }
            return out;
        }""")
        assert errors == [] and requests == []
        # The map opens on Lahat (about 0.9° across), not on the whole world.
        view = page.evaluate("""() => {
            for (const key of Object.keys(window)) {
                if (window[key] instanceof L.Map) {
                    const b = window[key].getBounds();
                    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
                }
            }
        }""")
        assert view[2] - view[0] < 5 and 100 < view[0] < 104, view
        desa = [layer for layer in layers if "s" in layer["fields"]]
        # Change, three vintages and the gap: each one path per desa; only the change is shown.
        assert len(desa) == 5 and all(layer["features"] == 378 for layer in desa)
        assert [layer["drawn"] for layer in desa if layer["shown"]] == [378]
        legend = page.locator(".povmap-legend").inner_text()
        assert "Turun (biru) = lebih baik" in page.locator(".povmap-title").inner_text()
        assert "Perubahan persentase 2022–2024 (poin persen)" in legend
        control = page.locator(".leaflet-control-layers").inner_text()
        for name in ("Periode 2022", "Periode 2023", "Periode 2024", "Selisih dengan target"):
            assert name in control
        # The tooltip of a desa shows its series, formatted the Indonesian way.
        text = page.evaluate("""() => {
            for (const key of Object.keys(window)) {
                const v = window[key];
                if (v instanceof L.GeoJSON && v._map && v.getLayers().length === 378) {
                    const l = v.getLayers()[0];
                    const c = l.getCenter();
                    l.fire('mouseover', {latlng: c, layerPoint: v._map.latLngToLayerPoint(c),
                           containerPoint: v._map.latLngToContainerPoint(c)}, true);
                    return document.querySelector('.leaflet-tooltip').innerText;
                }
            }
        }""")
        assert "2022: " in text and " → 2024: " in text and " %" in text
        assert errors == []
    finally:
        page.close()


def test_cli_refuses_an_output_folder_holding_an_input(tmp_path, vintages):
    out = tmp_path / "tren"
    out.mkdir()
    paths = []
    for label in ("2022", "2024"):
        path = out / f"rekap_{label}.csv"
        vintages[0][label].to_csv(path, index=False)
        paths.append(str(path))
    run = CliRunner().invoke(
        main, ["trend", str(need(LAHAT_DESA)), *paths, "--labels", "2022,2024", "-o", str(out)]
    )
    assert run.exit_code == 1 and "rekap_2022.csv" in run.output
    assert sorted(p.name for p in out.iterdir()) == ["rekap_2022.csv", "rekap_2024.csv"]


def test_no_target_gap_for_a_desil_series(lahat, vintages, tmp_path):
    from povmap.export.trend import write_trend

    tables = {
        lb: t.drop(columns="jumlah_miskin_ekstrem").assign(
            jumlah_desil_1=(t["jumlah_penduduk"] * 0.1).round()
        )
        for lb, t in vintages[0].items()
    }
    out = povmap.trend(lahat, tables, target=0)
    assert out.measure == "jumlah_desil_1" and out.rate == "persen_desil_1"
    assert out.desa["selisih_target_jiwa"].isna().all()
    assert out.kabupaten["selisih_target_persen"].isna().all()
    assert any("selisih dengan target tidak dihitung" in n for n in out.notes)
    written = write_trend(out, tmp_path / "tren", tiles=None)
    page = (tmp_path / "tren" / "trend.html").read_text(encoding="utf-8")
    assert "Selisih dengan target" not in page and len(written) == 11
    assert "Bagian penduduk desil 1" in page  # a welfare rank, never called a poverty rate


def test_manifest_records_every_vintage_and_the_boundary_reading(written):
    out, _ = written
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["penggabungan"]) == {"2022", "2023", "2024"}
    assert manifest["penggabungan"]["2023"]["matched"] == 376
    assert manifest["penggabungan"]["2022"]["totals"]["jumlah_miskin_ekstrem"]["input"] == 88_200
    assert manifest["batas_wilayah"]["skema"]  # what reading the boundary file found
    assert manifest["seri"] == ["2022", "2023", "2024"] and manifest["target_persen"] == 0
    assert set(manifest["masukan"]) == {"batas", "tabel_2022", "tabel_2023", "tabel_2024"}


HOSTILE = '<img src=x onerror="window.__pwned=1">'
FORMULA = '=HYPERLINK("http://contoh.invalid","klik")'
TEMPLATE = "Kec {{7*7}} $5 {# x"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, vintages):
    """Lahat with a desa named like markup and a kecamatan named like a spreadsheet formula,
    written by the command in English."""
    tmp = tmp_path_factory.mktemp("hostile")
    raw = gpd.read_file(need(LAHAT_DESA))
    code = raw.loc[1, "kode"]
    raw.loc[1, "nama"] = HOSTILE
    raw.loc[raw["kode_kec"] == "16.04.01", "nama_kec"] = FORMULA
    # Template and mathematics syntax: text, never a Jinja template nor mathtext.
    raw.loc[raw["kode_kec"] == "16.04.06", "nama_kec"] = TEMPLATE
    raw.to_file(tmp / "lahat.geojson")
    paths = []
    for label in ("2022", "2024"):
        paths.append(tmp / f"{label}.csv")
        vintages[0][label].to_csv(paths[-1], index=False)
    run = CliRunner().invoke(
        main,
        [
            "trend",
            str(tmp / "lahat.geojson"),
            *map(str, paths),
            "--labels",
            "2022,2024",
            "-o",
            str(tmp / "out"),
            "--tiles",
            "none",
            "--lang",
            "en",
        ],
    )
    assert run.exit_code == 0, run.output
    return tmp / "out", code


def test_names_never_become_formulas_in_the_summaries(hostile):
    out, _ = hostile
    table = pd.read_csv(out / "ringkasan_kecamatan.csv", dtype=str)
    assert f"'{FORMULA}" in set(table["nama_kecamatan"])
    import openpyxl

    sheet = openpyxl.load_workbook(out / "ringkasan_kecamatan.xlsx").active
    cells = [c for row in sheet.iter_rows() for c in row if "HYPERLINK" in str(c.value)]
    # Stored as text (with Excel's quote prefix), never as a formula.
    assert cells and all(c.data_type == "s" and c.value == FORMULA and c.quotePrefix for c in cells)
    assert TEMPLATE in set(table["nama_kecamatan"])
    page = (out / "trend.html").read_text(encoding="utf-8")
    assert "Kec {{7*7}} $5 {# x" in page and "Kec 49" not in page


@pytest.mark.browser
def test_english_trend_map_shows_hostile_names_as_text(browser, hostile):
    out, code = hostile
    path = out / "trend.html"
    page = browser.new_page(viewport={"width": 1100, "height": 750})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(("file:", "data:")) else route.abort()
        ),
    )
    try:
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_timeout(500)
        assert "Down (blue) = better" in page.locator(".povmap-title").inner_text()
        assert "Change in the share 2022–2024" in page.locator(".povmap-legend").inner_text()
        text = page.evaluate(
            """(code) => {
            for (const key of Object.keys(window)) {
                const v = window[key];
                if (!(v instanceof L.GeoJSON) || !v._map) continue;
                for (const l of v.getLayers()) {
                    if (l.feature.properties.t2 === code) {
                        const c = l.getCenter();
                        l.fire('mouseover', {latlng: c,
                               layerPoint: v._map.latLngToLayerPoint(c),
                               containerPoint: v._map.latLngToContainerPoint(c)}, true);
                        return document.querySelector('.leaflet-tooltip').innerText;
                    }
                }
            }
        }""",
            code,
        )
        assert HOSTILE in text and FORMULA in text  # shown literally ...
        assert page.evaluate("window.__pwned") is None  # ... and never run
        assert page.locator(".leaflet-tooltip img").count() == 0
        assert errors == []
    finally:
        page.close()


def test_without_population_the_counts_are_compared(lahat, vintages, tmp_path):
    tables = {lb: t.drop(columns="jumlah_penduduk") for lb, t in vintages[0].items()}
    out = povmap.trend(lahat, tables)
    desa = out.desa
    assert "persen_miskin_ekstrem_2022" not in desa.columns
    assert desa["perubahan_persen"].isna().all() and out.change_column == "perubahan_jumlah"
    change = desa["perubahan_jumlah"]
    assert (desa.loc[change < 0, "arah"] == "turun").all()
    assert (desa.loc[change == 0, "arah"] == "tetap").all()  # no tolerance on people
    assert (desa.loc[change > 0, "arah"] == "naik").all()
    # Target 0: the gap is everyone still counted, in people; no rate, no gap in points.
    assert (desa["selisih_target_jiwa"] == desa["jumlah_miskin_ekstrem_2024"]).all()
    assert out.kabupaten.at[0, "jumlah_miskin_ekstrem_2024"] == 13_734
    assert len(povmap.export.write_trend(out, tmp_path / "tren", tiles=None)) == 11
    page = (tmp_path / "tren" / "trend.html").read_text(encoding="utf-8")
    assert "Perubahan jumlah 2022–2024 (jiwa)" in page and "0 (tetap)" in page


def test_a_second_run_leaves_no_stale_vintage(lahat, vintages, tmp_path):
    out = tmp_path / "tren"
    tables = vintages[0]
    first = povmap.trend(lahat, {"2022": tables["2022"], "2023": tables["2023"]})
    povmap.export.write_trend(first, out, tiles=None)
    second = povmap.trend(lahat, {"2023": tables["2023"], "2024": tables["2024"]})
    written = povmap.export.write_trend(second, out, tiles=None)
    names = {p.name for p in out.iterdir()}
    assert "laporan_penggabungan_2022.json" not in names  # the earlier run's, not this one's
    assert names == {p.name for p in written}
    # A file povmap did not write is never replaced: the run is refused, naming it.
    (out / "catatan_saya.txt").write_text("milik pengguna", encoding="utf-8")
    with pytest.raises(PovmapInputError, match="catatan_saya.txt"):
        povmap.export.write_trend(first, out, tiles=None)
    assert (out / "catatan_saya.txt").read_text(encoding="utf-8") == "milik pengguna"
    assert "laporan_penggabungan_2024.json" in {p.name for p in out.iterdir()}


def test_a_merged_desa_is_found_by_its_name(lahat, vintages):
    tables = {lb: t.copy() for lb, t in vintages[0].items()}
    target = tables["2024"].iloc[150]
    code = target["kode_wilayah"]
    # 2022 has "<name> Ilir", gone since: merged into <name> (no population evidence needed).
    merged = {
        "kode_wilayah": f"{'.'.join(code.split('.')[:3])}.2998",
        "nama_kecamatan": target["nama_kecamatan"],
        "nama_desa": f"{target['nama_desa']} Ilir",
        "jumlah_penduduk": 900,
        "jumlah_miskin_ekstrem": 40,
    }
    tables["2022"] = pd.concat([tables["2022"], pd.DataFrame([merged])], ignore_index=True)
    out = povmap.trend(lahat, tables)
    [entry] = out.changes["penggabungan"]
    assert entry["kode_desa"] == code and entry["bukti"] == ["nama"]
    assert out.desa.set_index("kode_desa").at[code, "arah"] == "tidak_sebanding"
    before = out.desa.set_index("kode_desa").at[code, "jumlah_miskin_ekstrem_2022"]
    assert entry["perubahan_jumlah_gabungan"] == target["jumlah_miskin_ekstrem"] - before - 40


def test_change_of_the_same_desa_beside_the_change_of_totals(result, vintages):
    # A new desa in 2024 adds its people to the 2024 total: the totals' change is not a change
    # of the same desa. perubahan_jumlah_sebanding is, and equals the sum of the desa changes.
    from povmap.export.trend import summary_table

    _, plan = vintages
    desa = result.desa
    new = desa.set_index("kode_desa").at[plan["new_2024"], "jumlah_miskin_ekstrem_2024"]
    kab = result.kecamatan[result.kecamatan["tingkat"] == "kabupaten"].iloc[0]
    assert kab["perubahan_jumlah_sebanding"] == desa["perubahan_jumlah"].sum()
    assert kab["perubahan_jumlah"] == kab["perubahan_jumlah_sebanding"] + new
    kec = result.kecamatan[result.kecamatan["tingkat"] == "kecamatan"].set_index("kode_kecamatan")
    by_kec = desa.groupby("kode_kecamatan")["perubahan_jumlah"].sum(min_count=1)
    assert (kec["perubahan_jumlah_sebanding"] == by_kec.reindex(kec.index)).all()
    table = summary_table(result)
    line = table[table["tingkat"] == "kabupaten"].iloc[0]
    assert "1 desa baru/hilang/tidak sebanding" in line["catatan"]


def test_cli_refuses_repeated_labels_and_swapped_files(tmp_path, vintages):
    path = tmp_path / "a.csv"
    vintages[0]["2022"].to_csv(path, index=False)
    run = CliRunner().invoke(
        main,
        [
            "trend",
            str(need(LAHAT_DESA)),
            str(path),
            str(path),
            "--labels",
            "2022,2022",
            "-o",
            str(tmp_path / "out"),
        ],
    )
    assert run.exit_code == 2 and "2022 berulang" in run.output
    run = CliRunner().invoke(
        main,
        [
            "trend",
            str(path),
            str(need(LAHAT_DESA)),
            str(path),
            "--labels",
            "2022,2023",
            "-o",
            str(tmp_path / "out"),
        ],
    )
    assert run.exit_code == 1 and "BATAS" in run.output.upper(), run.output
    assert not (tmp_path / "out").exists()


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.one_of(st.floats(), st.integers(-(10**9), 10**9), st.none()), max_size=30),
    decimals=st.integers(0, 2),
    lang=st.sampled_from(["id", "en"]),
)
def test_signed_changes_of_a_column_are_each_value_with_its_sign(values, decimals, lang):
    """The trend map's change column, formatted a column at a time: "+" before a rise, the
    number as format_number writes it, the unit; an en dash when unknown."""
    unit = " poin"

    def one(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "–"
        return ("+" if v > 0 else "") + format_number(float(v), decimals, lang) + unit

    got = _signed(pd.Series(values, dtype=object), decimals, lang, unit)
    assert list(got) == [one(v) for v in values]
