"""Poverty pockets on the real Kalimantan Selatan (2,008 desa) and Kayong Utara (islands) layers."""

from __future__ import annotations

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import KALSEL_DESA, KAYONG_DESA, make_counts, need
from esda.smoothing import Empirical_Bayes
from libpysal.weights import W, fill_diagonal

import povmap
from povmap.cli import main
from povmap.export.pockets import write_pockets
from povmap.pockets import benjamini_hochberg, find_pockets, weights_for

#: A mainland desa of Hulu Sungai Selatan; it and three rings of neighbours get high rates.
PLANTED_SEED = "63.06.03.2003"


def _layer(boundaries, seed: int, tmp_path_factory) -> tuple:
    """The joined desa layer with rates, as povmap.run gives it, and its counts CSV."""
    counts = tmp_path_factory.mktemp("counts") / "counts.csv"
    make_counts(gpd.read_file(need(boundaries)), seed=seed).to_csv(counts, index=False)
    return povmap.run(boundaries, counts).layers["desa"], counts


@pytest.fixture(scope="module")
def kalsel(tmp_path_factory):
    return _layer(KALSEL_DESA, 63, tmp_path_factory)[0]


@pytest.fixture(scope="module")
def kalsel_weights(kalsel):
    return weights_for(kalsel)


@pytest.fixture(scope="module")
def planted(kalsel, kalsel_weights):
    """Kalsel with a contiguous cluster of desa at 20 % extreme poverty; the cluster's rows."""
    w = kalsel_weights.w
    cluster = {kalsel_weights.kode.index(PLANTED_SEED)}
    for _ in range(3):
        cluster |= {j for i in cluster for j in w.neighbors[i]}
    rows = np.array(sorted(cluster))
    layer = kalsel.copy()
    column = layer.columns.get_loc("jumlah_miskin_ekstrem")
    layer.iloc[rows, column] = np.floor(layer["jumlah_penduduk"].to_numpy()[rows] * 0.2)
    return povmap.add_rates(layer), rows


@pytest.mark.parametrize("method, stray", [("moran", 5), ("getis_ord", 12)])
def test_planted_cluster_is_found_as_one_pocket(planted, method, stray):
    layer, rows = planted
    assert 30 <= len(rows) <= 60  # three rings around one desa
    result = find_pockets(layer, method=method)
    pocket = (result.desa["jenis_kantong"] == "kantong").to_numpy()
    inside = np.zeros(len(layer), bool)
    inside[rows] = True
    assert pocket[inside].mean() >= 0.8, "most of the planted cluster must be found"
    assert (pocket & ~inside).sum() <= stray, "few desa outside the cluster may be flagged"
    # The planted desa form one pocket, the largest: K01, dissolved into one region.
    assert set(result.desa.loc[inside & pocket, "id_kantong"]) == {"K01"}
    region = result.wilayah.set_index("id_kantong").loc["K01"]
    assert region["jumlah_desa"] == (result.desa["id_kantong"] == "K01").sum()
    assert region.geometry.is_valid and region.geometry.geom_type == "Polygon"
    seed_desa = layer.loc[layer["kode_desa"] == PLANTED_SEED].geometry.iloc[0]
    assert region.geometry.contains(seed_desa.representative_point())
    members = result.desa[result.desa["id_kantong"] == "K01"]
    assert region["jumlah_miskin_ekstrem"] == members["jumlah_miskin_ekstrem"].sum()
    assert (
        result.desa.loc[inside & pocket, "label_kantong"]
        .eq("Kantong kemiskinan (tinggi dikelilingi tinggi)")
        .all()
    )
    # The priority table puts the flagged desa first and names their pocket.
    top = result.peringkat.head(int(pocket.sum()))
    assert set(top["jenis_kantong"]) <= {"kantong", "pencilan_tinggi"}
    assert list(result.peringkat["prioritas"]) == list(range(1, len(layer) + 1))


def test_random_rates_give_few_pockets_with_fdr(kalsel):
    corrected = find_pockets(kalsel)
    raw = find_pockets(kalsel, fdr=False)
    assert corrected.flagged.shape[0] <= 5
    assert (raw.desa["p_value"] == corrected.desa["p_value"]).all()
    # Without the correction about alpha of 2,008 desa look significant by chance alone.
    assert raw.desa["signifikan"].sum() > 40 > corrected.desa["signifikan"].sum()


@pytest.mark.filterwarnings("ignore:The weights matrix is not fully connected")
@pytest.mark.filterwarnings("ignore:The alternative hypothesis")
def test_numbers_match_esda_called_directly(planted, kalsel_weights):
    layer, _ = planted
    result = find_pockets(layer, permutations=999, seed=7)
    gi = find_pockets(layer, method="getis_ord", permutations=999, seed=7)
    y = 100 * Empirical_Bayes(layer["jumlah_miskin_ekstrem"], layer["jumlah_penduduk"]).r.ravel()
    assert np.allclose(result.desa["nilai_eb"], y)
    lisa = esda.Moran_Local(y, W(kalsel_weights.w.neighbors), permutations=999, seed=7, n_jobs=1)
    assert np.allclose(result.desa["statistik"], lisa.Is, rtol=1e-12)
    assert np.allclose(result.desa["p_value"], np.minimum(1, 2 * lisa.p_sim), atol=1e-6)
    # Benjamini-Hochberg q <= alpha rejects exactly what esda's FDR cut-off rejects.
    p = result.desa["p_value"].to_numpy()
    assert (result.desa["signifikan"] == (p <= esda.fdr(p, 0.05))).all()
    hh = result.desa["signifikan"] & (lisa.q == 1)
    assert (hh == (result.desa["jenis_kantong"] == "kantong")).all()
    star = fill_diagonal(W(kalsel_weights.w.neighbors), 1.0)
    g = esda.G_Local(y, star, transform="R", permutations=999, star=None, seed=7, n_jobs=1)
    assert np.allclose(gi.desa["statistik"], g.Gs, rtol=1e-12)
    assert np.allclose(gi.desa["p_value"], np.minimum(1, 2 * g.p_sim), atol=1e-6)


def test_rerun_writes_byte_identical_files(planted, tmp_path):
    layer, _ = planted
    written = [
        write_pockets(find_pockets(layer), tmp_path / run / "k.geojson") for run in ("a", "b")
    ]
    assert [p.name for p in written[0]] == ["k.geojson", "k_wilayah.geojson", "k_peringkat.csv"]
    for first, second in zip(*written, strict=True):
        assert first.read_bytes() == second.read_bytes()
    desa = gpd.read_file(written[0][0])
    assert len(desa) > 30 and {"kode_desa", "jenis_kantong", "id_kantong", "label_kantong"} <= set(
        desa.columns
    )
    assert len(gpd.read_file(written[0][1])) >= 1


def test_ranking_as_xlsx_keeps_numbers_numbers(planted, tmp_path):
    """Indonesian Excel reads "8.81" in a CSV as 881; a spreadsheet cannot be misread."""
    layer, _ = planted
    result = find_pockets(layer)
    written = write_pockets(result, tmp_path / "k.gpkg", ranking=tmp_path / "prioritas.xlsx")
    table = pd.read_excel(written[-1], sheet_name="peringkat")
    assert list(table["kode_desa"]) == list(result.peringkat["kode_desa"])
    assert table["persen_miskin_ekstrem"].dtype.kind == "f"
    np.testing.assert_allclose(
        table["persen_miskin_ekstrem"], result.peringkat["persen_miskin_ekstrem"].round(2)
    )


def test_islands_are_linked_not_lost(kalsel_weights, tmp_path_factory):
    # Kotabaru (63.02) lies on Pulau Laut and smaller islands.
    assert any(k.startswith("63.02.") for k in kalsel_weights.islands)
    layer, _ = _layer(KAYONG_DESA, 61, tmp_path_factory)
    result = find_pockets(layer, permutations=999)
    assert list(result.desa["kode_desa"]) == list(layer["kode_desa"])  # every desa, none dropped
    assert result.desa["p_value"].notna().all()
    weights = result.weights
    assert weights.n_islands >= 1 and "pulau" in result.summary()
    for kode in weights.islands:
        assert len(weights.w.neighbors[weights.kode.index(kode)]) >= weights.k_islands
    assert not weights.w.islands


def test_too_few_permutations_are_reported(kalsel):
    # 2,008 desa, 999 permutations: the smallest p (0.002) passes FDR only among >= 81 discoveries.
    result = find_pockets(kalsel, permutations=999)
    assert result.fdr_minimum == 81 and "naikkan --permutations" in result.summary()
    assert find_pockets(kalsel).fdr_minimum == 9


def test_desa_without_data_are_kept_but_not_tested(kalsel):
    layer = kalsel.copy()
    layer.loc[layer.index[:10], "jumlah_penduduk"] = np.nan
    result = find_pockets(povmap.add_rates(layer), permutations=999)
    assert len(result.desa) == len(layer) and len(result.weights.kode) == len(layer) - 10
    assert (result.desa["jenis_kantong"].iloc[:10] == "tanpa_data").all()
    assert result.desa["p_value"].iloc[:10].isna().all()
    # Every desa with counts is in the table; these ten, untested, say so and come last.
    assert len(result.peringkat) == len(layer)
    untested = result.peringkat[result.peringkat["kode_desa"].isin(layer["kode_desa"].iloc[:10])]
    assert (untested["jenis_kantong"] == "tanpa_data").all()
    assert untested["peringkat_persen"].isna().all() and untested["p_value"].isna().all()


def test_benjamini_hochberg_by_hand():
    q = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5]))
    # sorted p 0.01 0.03 0.04 0.5 -> p n / rank = 0.04 0.06 0.0533 0.5 -> running min from top
    assert np.allclose(q, [0.04, 0.05333333, 0.05333333, 0.5])


def test_bad_column_names_it(kalsel):
    with pytest.raises(povmap.PovmapInputError, match="persen_tidak_ada"):
        find_pockets(kalsel, "persen_tidak_ada")


def test_rates_within_chance_are_not_pockets(kalsel):
    # Every desa at 3 % give or take rounding: empirical Bayes shrinks all to the mean.
    layer = kalsel.copy()
    layer["jumlah_miskin_ekstrem"] = np.round(layer["jumlah_penduduk"] * 0.03)
    with pytest.raises(povmap.PovmapInputError, match="Bayes empiris"):
        find_pockets(povmap.add_rates(layer))


def test_cli_pockets_writes_layers_and_ranking(tmp_path, tmp_path_factory):
    _, counts = _layer(KAYONG_DESA, 61, tmp_path_factory)
    out = tmp_path / "kantong.gpkg"
    args = [
        "pockets",
        str(KAYONG_DESA),
        str(counts),
        "-o",
        str(out),
        "--method",
        "getis_ord",
        "--permutations",
        "999",
        "--ranking",
        str(tmp_path / "prioritas.csv"),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "desa pulau dihubungkan" in result.output
    layers = set(gpd.list_layers(out)["name"])
    assert layers == {"kantong_desa", "kantong_wilayah"}
    ranking = (tmp_path / "prioritas.csv").read_text(encoding="utf-8").splitlines()
    assert ranking[0].startswith("prioritas,kode_desa,nama_desa") and len(ranking) == 44
    bad = CliRunner().invoke(
        main, ["pockets", str(KAYONG_DESA), str(counts), "-o", str(tmp_path / "k.shp")]
    )
    assert bad.exit_code == 1 and "geojson" in bad.output and "Traceback" not in bad.output
    assert not (tmp_path / "k.shp").exists()
