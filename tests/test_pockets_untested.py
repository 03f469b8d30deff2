"""Pockets on the data offices really have: desa without geometry, values that do not vary, and
the false discovery rate from scipy. Real layers: Kayong Utara and Lahat."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import KAYONG_DESA, LAHAT_DESA, make_counts, need

import povmap
from povmap.cli import main
from povmap.pockets import benjamini_hochberg, find_pockets


def _hand_written_bh(p_values: np.ndarray) -> np.ndarray:
    """The Benjamini-Hochberg povmap used before scipy's: the reference values."""
    p = np.asarray(p_values, dtype=float)
    n = len(p)
    order = np.argsort(p, kind="stable")
    q = np.minimum.accumulate((p[order] * n / np.arange(1, n + 1))[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


@pytest.fixture(scope="module")
def kayong(tmp_path_factory):
    """The Kayong Utara layer with two desa whose geometry is gone, and its counts CSV."""
    base = tmp_path_factory.mktemp("kayong")
    raw = gpd.read_file(need(KAYONG_DESA))
    counts = make_counts(raw, seed=61)
    gone = ["61.11.01.2003", "61.11.03.2002"]
    raw.loc[raw["kode"].isin(gone), "geometry"] = None
    raw.to_file(base / "desa.geojson", driver="GeoJSON")
    counts.to_csv(base / "jumlah.csv", index=False)
    return base, counts, gone


def test_desa_without_geometry_stay_in_the_ranking(kayong, tmp_path):
    base, counts, gone = kayong
    out = tmp_path / "kantong.geojson"
    result = CliRunner().invoke(
        main,
        [
            "pockets",
            str(base / "desa.geojson"),
            str(base / "jumlah.csv"),
            "-o",
            str(out),
            "--permutations",
            "999",
        ],
    )
    assert result.exit_code == 0, result.output
    ranking = pd.read_csv(tmp_path / "kantong_peringkat.csv", dtype={"kode_desa": str})
    assert len(ranking) == len(counts) == 43  # before: 41, the two desa silently missing
    rows = ranking.set_index("kode_desa").loc[gone]
    assert (rows["jenis_kantong"] == "tanpa_geometri").all()
    assert (rows["label_kantong"] == "Tanpa geometri (tidak diuji)").all()
    expected = counts.set_index("kode_wilayah").loc[gone, "jumlah_miskin_ekstrem"]
    assert rows["jumlah_miskin_ekstrem"].tolist() == expected.tolist()
    assert rows["p_value"].isna().all() and rows["id_kantong"].isna().all()
    # Ranked by their number of poor people like every other desa.
    by_count = ranking["jumlah_miskin_ekstrem"].rank(method="min", ascending=False)
    by_count.index = ranking["kode_desa"]
    assert rows["peringkat_jumlah"].tolist() == by_count.loc[gone].tolist()
    assert "2 desa tanpa geometri tidak diuji" in result.output


def test_desa_without_geometry_are_marked_in_the_layer(kayong):
    base, _, gone = kayong
    run = povmap.run(
        base / "desa.geojson", base / "jumlah.csv", povmap.pipeline.Options(pockets=True, lang="en")
    )
    desa = run.pockets.desa.set_index("kode_desa")
    assert (desa.loc[gone, "jenis_kantong"] == "tanpa_geometri").all()
    assert (desa.loc[gone, "label_kantong"] == "No geometry (not tested)").all()
    layer = run.layers["desa"].set_index("kode_desa")
    assert layer.loc[gone, "kantong"].isna().all()  # not tested: neither 1 nor 0
    assert len(run.pockets.peringkat) == 43
    assert "2 villages without geometry were not tested" in run.pockets.summary("en")


@pytest.fixture(scope="module")
def lahat(tmp_path_factory):
    raw = gpd.read_file(need(LAHAT_DESA))
    base = tmp_path_factory.mktemp("lahat")
    return raw, base


@pytest.mark.parametrize("kind", ["constant", "zero"])
def test_values_that_do_not_vary_are_said_so_without_warnings(lahat, kind):
    raw, base = lahat
    counts = make_counts(raw, seed=1604).drop(columns="jumlah_desil_1")
    counts["jumlah_penduduk"] = 1000
    counts["jumlah_keluarga_miskin_ekstrem"] = 0
    counts["jumlah_miskin_ekstrem"] = 20 if kind == "constant" else 0
    path = base / f"{kind}.csv"
    counts.to_csv(path, index=False)
    layer = povmap.run(LAHAT_DESA, path).layers["desa"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any raw library warning fails the test
        with pytest.raises(povmap.PovmapInputError) as caught:
            find_pockets(layer, permutations=99)
    text = "2,00 %" if kind == "constant" else "0,00 %"
    n = povmap.i18n.format_number(len(raw))
    assert str(caught.value) == (
        f"Kolom 'persen_miskin_ekstrem': semua {n} desa bernilai sama ({text}); nilainya tidak "
        "bervariasi, jadi tidak ada kantong yang dapat diuji."
    )
    value = "2.00 %" if kind == "constant" else "0.00 %"
    assert caught.value.en == (
        f"Column 'persen_miskin_ekstrem': all {len(raw)} villages have the same value ({value}); "
        "the values do not vary, so no pocket can be tested."
    )


def test_cli_on_constant_values_names_the_fault_and_no_warning(lahat, tmp_path):
    raw, base = lahat
    counts = make_counts(raw, seed=3).drop(columns="jumlah_desil_1")
    counts["jumlah_penduduk"] = 500
    counts["jumlah_keluarga_miskin_ekstrem"] = 3
    counts["jumlah_miskin_ekstrem"] = 10
    counts.to_csv(tmp_path / "sama.csv", index=False)
    result = CliRunner().invoke(
        main,
        [
            "pockets",
            str(LAHAT_DESA),
            str(tmp_path / "sama.csv"),
            "-o",
            str(tmp_path / "k.geojson"),
            "--lang",
            "en",
        ],
    )
    assert result.exit_code == 1
    assert "the values do not vary, so no pocket can be tested" in result.output
    assert "Warning" not in result.output and "only 0 desa" not in result.output


def test_a_normal_run_raises_no_library_warning(kayong):
    base, _, _ = kayong
    layer = povmap.run(KAYONG_DESA, base / "jumlah.csv").layers["desa"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        find_pockets(layer, permutations=99)
        find_pockets(layer, method="getis_ord", permutations=99)


def test_fdr_is_scipys_with_the_old_values():
    rng = np.random.default_rng(12)
    fixed = np.array([0.01, 0.04, 0.03, 0.5, 0.0002, 0.0002, 1.0, 0.049])
    assert np.allclose(benjamini_hochberg(fixed), _hand_written_bh(fixed), rtol=0, atol=1e-15)
    assert np.allclose(
        benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5])), [0.04, 0.05333333, 0.05333333, 0.5]
    )
    for _ in range(20):  # permutation p-values: many ties, some at 1
        p = np.minimum(1, 2 * rng.integers(1, 1000, rng.integers(2, 300)) / 1000)
        assert np.allclose(benjamini_hochberg(p), _hand_written_bh(p), rtol=0, atol=1e-15)


def test_fdr_on_a_real_run_matches_the_old_values(kayong):
    base, _, _ = kayong
    layer = povmap.run(KAYONG_DESA, base / "jumlah.csv").layers["desa"]
    result = find_pockets(layer, permutations=999)
    tested = result.desa["p_value"].notna()
    p = result.desa.loc[tested, "p_value"].to_numpy()
    assert np.allclose(result.desa.loc[tested, "q_value"], _hand_written_bh(p), rtol=0, atol=1e-15)
    assert (result.desa.loc[tested, "q_value"] > result.desa.loc[tested, "p_value"]).any()
