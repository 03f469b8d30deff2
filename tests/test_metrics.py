"""Rates, densities and aggregation on real layers: sums conserved, rates recomputed from sums."""

from __future__ import annotations

import inspect

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import HSS_DESA, KALSEL_DESA, make_counts, need
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import povmap
from povmap import boundaries
from povmap.metrics import summary


@pytest.fixture(scope="module")
def kalsel_joined(kalsel_raw):
    desa = povmap.read_boundaries(need(KALSEL_DESA)).gdf
    counts = make_counts(kalsel_raw, seed=63)
    counts.insert(0, "baris", np.arange(2, len(counts) + 2))
    # Leave some desa without data: aggregates must say so, not invent zeros.
    counts = counts.iloc[10:]
    return povmap.add_rates(povmap.join(desa, counts).joined), counts


def test_rates_recomputed(kalsel_joined):
    layer, _ = kalsel_joined
    has = layer["jumlah_penduduk"].notna()
    expected = 100 * layer.loc[has, "jumlah_miskin_ekstrem"] / layer.loc[has, "jumlah_penduduk"]
    np.testing.assert_allclose(layer.loc[has, "persen_miskin_ekstrem"], expected)
    density = layer.loc[has, "jumlah_miskin_ekstrem"] / layer.loc[has, "luas_km2"]
    np.testing.assert_allclose(layer.loc[has, "kepadatan_miskin_ekstrem"], density)
    assert layer.loc[~has, "persen_miskin_ekstrem"].isna().all()


def test_kecamatan_sums_equal_desa_sums(kalsel_joined):
    layer, counts = kalsel_joined
    kec = povmap.aggregate(layer, "kecamatan")
    assert len(kec) == 156
    for column in ("jumlah_miskin_ekstrem", "jumlah_penduduk", "jumlah_desil_1"):
        assert kec[column].sum() == counts[column].sum()
        by_kec = layer.groupby("kode_kecamatan")[column].sum()
        np.testing.assert_allclose(kec[column], by_kec.loc[kec["kode_kecamatan"]])
    # Rates of the aggregate are ratios of sums, not means of desa rates.
    np.testing.assert_allclose(
        kec["persen_miskin_ekstrem"], 100 * kec["jumlah_miskin_ekstrem"] / kec["jumlah_penduduk"]
    )
    assert kec["jumlah_desa"].sum() == 2008
    assert kec["jumlah_desa_tanpa_data"].sum() == 10


def test_kecamatan_geometry_dissolved_from_desa_without_slivers(kalsel_joined):
    layer, _ = kalsel_joined
    kec = povmap.aggregate(layer, "kecamatan")
    assert kec.geometry.is_valid.all()
    # The union of the kecamatan covers the desa (same outline) ...
    desa_area = layer.to_crs(6933).union_all().area
    assert kec.to_crs(6933).union_all().area == pytest.approx(desa_area, rel=1e-3)
    # ... and the sliver holes between desa are gone (SOURCES.md: 3,645 in Kalsel's union).
    holes = sum(len(p.interiors) for g in kec.geometry for p in getattr(g, "geoms", [g]))
    assert holes < 20


@pytest.mark.parametrize("level", ["kecamatan", "kabupaten"])
def test_dissolve_equals_the_exact_union_per_area(kalsel_joined, level):
    # The outlines are built for all areas at once; each must be the exact union of its desa
    # (same sliver-hole rule), within 1e-6 of its area (Kalsel: 156 kecamatan, 13 kabupaten).
    layer, _ = kalsel_joined
    parents = povmap.aggregate(layer, level).set_index(f"kode_{level}")
    exact = layer.groupby(f"kode_{level}").geometry.agg(lambda s: shapely.union_all(s.values))
    exact = gpd.GeoSeries(
        boundaries._drop_sliver_holes(np.asarray(exact.loc[parents.index].values), layer.crs),
        crs=layer.crs,
    )
    ours = gpd.GeoSeries(parents.geometry.values, crs=layer.crs)
    assert ours.is_valid.all() and ours.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    # Compared in degrees (projecting can itself make a polygon invalid), measured in m².
    apart = ours.symmetric_difference(exact).to_crs(6933).area.to_numpy()
    area = exact.to_crs(6933).area.to_numpy()
    assert (apart <= 1e-6 * area).all()
    # United in the equal-area projection (where the overlap check unites them), the outlines
    # differ from the union in degrees by hair slivers: 42 m² of Kalsel's 37,127 km².
    assert ours.to_crs(6933).area.sum() == pytest.approx(area.sum(), rel=1e-8)


def test_dissolve_of_desa_in_any_order(kalsel_joined):
    # Files need not list desa by kecamatan (two kabupaten files appended, say): the outlines and
    # sums do not depend on the order of the rows.
    layer, _ = kalsel_joined
    shuffled = layer.sample(frac=1, random_state=4)
    for level in ("kecamatan", "kabupaten"):
        ours = povmap.aggregate(shuffled, level)
        expected = povmap.aggregate(layer, level)
        # Sums in another order may differ in the last bit of a float, nothing more.
        pd.testing.assert_frame_equal(
            ours.drop(columns="geometry"), expected.drop(columns="geometry"), rtol=1e-12
        )
        assert shapely.equals(ours.geometry.values, expected.geometry.values).all()


def test_kabupaten_aggregate_and_summary(kalsel_joined):
    layer, counts = kalsel_joined
    kab = povmap.aggregate(layer, "kabupaten")
    assert len(kab) == 13
    total = summary(layer)
    assert total["jumlah_miskin_ekstrem"] == counts["jumlah_miskin_ekstrem"].sum()
    assert total["persen_miskin_ekstrem"] == pytest.approx(
        100 * counts["jumlah_miskin_ekstrem"].sum() / counts["jumlah_penduduk"].sum()
    )


def test_zero_population_gives_no_rate(hss_counts):
    desa = povmap.read_boundaries(need(HSS_DESA)).gdf
    counts = hss_counts.assign(baris=range(2, 150))
    counts.loc[0, ["jumlah_penduduk", "jumlah_miskin_ekstrem"]] = 0
    layer = povmap.add_rates(povmap.join(desa, counts).joined)
    assert np.isnan(layer.set_index("kode_desa").loc["63.06.01.2001", "persen_miskin_ekstrem"])


# --- Rates from incomplete data (issue #10, kind 1): only desa with both values count.


@pytest.fixture(scope="module")
def hss_two_kecamatan(hss_counts):
    """Joined HSS desa of two kecamatan (35 desa), every count present."""
    desa = povmap.read_boundaries(need(HSS_DESA)).gdf
    desa = desa[desa["kode_kecamatan"].isin(["63.06.01", "63.06.02"])].reset_index(drop=True)
    return povmap.join(desa, hss_counts.assign(baris=range(2, 150))).joined


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_aggregated_rate_is_ratio_of_sums_over_complete_desa(hss_two_kecamatan, data):
    layer = hss_two_kecamatan.copy()
    n = len(layer)
    for column in ("jumlah_miskin_ekstrem", "jumlah_penduduk", "jumlah_desil_1"):
        gaps = data.draw(st.lists(st.booleans(), min_size=n, max_size=n), label=column)
        layer[column] = layer[column].astype(float).mask(np.array(gaps))
    layer = povmap.add_rates(layer)
    kec = povmap.aggregate(layer, "kecamatan").set_index("kode_kecamatan")
    for code, group in layer.groupby("kode_kecamatan"):
        row = kec.loc[code]
        for rate, numerator in (
            ("persen_miskin_ekstrem", "jumlah_miskin_ekstrem"),
            ("persen_desil_1", "jumlah_desil_1"),
        ):
            both = group[numerator].notna() & group["jumlah_penduduk"].notna()
            bottom = group.loc[both, "jumlah_penduduk"].sum()
            expected = 100 * group.loc[both, numerator].sum() / bottom if bottom else np.nan
            np.testing.assert_allclose(row[rate], expected, rtol=1e-12)
        complete = (group["jumlah_miskin_ekstrem"].notna() & group["jumlah_penduduk"].notna()).sum()
        assert row["jumlah_desa"] == len(group) and row["desa_berdata"] == complete
        assert row["jumlah_desa_tanpa_data"] == len(group) - complete
        counts = group[
            [
                "jumlah_miskin_ekstrem",
                "jumlah_penduduk",
                "jumlah_desil_1",
                "jumlah_keluarga_miskin_ekstrem",
            ]
        ]
        assert row["jumlah_sebagian"] == int(counts.isna().any(axis=None))
        # Each count sums the desa that have it (NaN when none has).
        np.testing.assert_allclose(
            row["jumlah_penduduk"], group["jumlah_penduduk"].sum(min_count=1)
        )
    total = summary(layer)
    both = layer["jumlah_miskin_ekstrem"].notna() & layer["jumlah_penduduk"].notna()
    if layer.loc[both, "jumlah_penduduk"].sum() > 0:
        assert total["persen_miskin_ekstrem"] == pytest.approx(
            100
            * layer.loc[both, "jumlah_miskin_ekstrem"].sum()
            / layer.loc[both, "jumlah_penduduk"].sum()
        )


def _konsel_with_gaps(tmp_path):
    """Konawe Selatan counts with planted gaps, as Dinsos recaps have them.

    Tinanggea (74.05.01, 24 desa): population 1.000 each and 10, 20, ... 240 people; desa 1-4
    have "-" for the people, desa 5-6 a blank population, desa 7 no row. Over the 17 complete
    desa: 10 × (8 + ... + 24) = 2.720 of 17.000 people = 16 %. Andoolo (74.05.03, 10 desa):
    6 desa with "-", so it rests on 4 of 10 desa (< 50 %).
    """
    import geopandas as gpd
    from conftest import KONSEL_DESA

    raw = gpd.read_file(need(KONSEL_DESA))
    table = make_counts(raw, seed=7405).astype(
        {"jumlah_miskin_ekstrem": object, "jumlah_penduduk": object}
    )
    tinanggea = np.flatnonzero(table["kode_wilayah"].str.startswith("74.05.01."))
    assert len(tinanggea) == 24
    table.loc[tinanggea, "jumlah_penduduk"] = 1000
    table.loc[tinanggea, "jumlah_miskin_ekstrem"] = 10 * np.arange(1, 25)
    table.loc[tinanggea, "jumlah_keluarga_miskin_ekstrem"] = 3 * np.arange(1, 25)
    table.loc[tinanggea, "jumlah_desil_1"] = 500
    table.loc[tinanggea[:4], "jumlah_miskin_ekstrem"] = "-"
    table.loc[tinanggea[4:6], "jumlah_penduduk"] = ""
    andoolo = np.flatnonzero(table["kode_wilayah"].str.startswith("74.05.03."))
    table.loc[andoolo[:6], "jumlah_miskin_ekstrem"] = "-"
    table = table.drop(index=tinanggea[6])
    path = tmp_path / "konsel.csv"
    table.to_csv(path, index=False)
    return KONSEL_DESA, path


def test_kecamatan_rate_rests_on_complete_desa_in_export_and_map(tmp_path):
    import xml.etree.ElementTree as ET

    import geopandas as gpd
    import pandas as pd
    from click.testing import CliRunner

    from povmap.cli import main

    desa, path = _konsel_with_gaps(tmp_path)
    out = tmp_path / "bundel"
    done = CliRunner().invoke(main, ["export", str(desa), str(path), "-o", str(out)])
    assert done.exit_code == 0, done.output
    kec = gpd.read_file(out / "kecamatan.geojson").set_index("KDCPUM")
    tinanggea, andoolo = kec.loc["74.05.01"], kec.loc["74.05.03"]
    assert tinanggea["PRS_ME"] == pytest.approx(16.0, abs=1e-4)  # not 2.830 / 21.000 = 13,48 %
    assert (tinanggea["JML_DESA"], tinanggea["DESA_BDATA"], tinanggea["DESA_TDATA"]) == (24, 17, 7)
    # Counts sum the desa that have them, flagged as partial: 2.830 people, 21.000 population.
    assert (tinanggea["JML_ME"], tinanggea["JML_PDDK"], tinanggea["JML_SBGN"]) == (2830, 21000, 1)
    assert tinanggea["KELAS"] >= 0
    assert (andoolo["JML_DESA"], andoolo["DESA_BDATA"], andoolo["KELAS"]) == (10, 4, -2)
    complete = kec.drop(index=["74.05.01", "74.05.03"])
    assert (complete["DESA_BDATA"] == complete["JML_DESA"]).all()
    assert (complete["JML_SBGN"] == 0).all() and (complete["KELAS"] >= 0).all()
    # The styles draw -2 as the legend does, distinct from "Tidak ada data".
    ns = {"sld": "http://www.opengis.net/sld", "ogc": "http://www.opengis.net/ogc"}
    rules = {
        r.find("sld:Title", ns).text: [e.text for e in r.iterfind(".//ogc:Literal", ns)]
        for r in ET.parse(out / "kecamatan.sld").getroot().iterfind(".//sld:Rule", ns)
    }
    assert rules["Data tidak lengkap"] == ["-2"] and rules["Tidak ada data"] == ["-1"]
    categories = ET.parse(out / "kecamatan.qml").getroot().iterfind(".//category")
    assert {c.get("value"): c.get("label") for c in categories}["-2"] == "Data tidak lengkap"
    fields = pd.read_csv(out / "kamus_data.csv", encoding="utf-8-sig")
    described = fields[fields["lapisan"] == "kecamatan"].set_index("field")["keterangan"]
    assert "hanya dari desa tersebut" in described["DESA_BDATA"]
    assert "JML_DESA − DESA_BDATA" in described["DESA_TDATA"]
    assert "batas bawah" in described["JML_SBGN"]

    page = tmp_path / "peta.html"
    done = CliRunner().invoke(
        main, ["map", str(desa), str(path), "-o", str(page), "--tiles", "none"]
    )
    assert done.exit_code == 0, done.output
    assert "Andoolo (4 dari 10)" in done.output  # the terminal names the kecamatan left out
    html = page.read_text(encoding="utf-8")
    assert "17 dari 24 desa" in html and "4 dari 10 desa" in html  # kecamatan tooltips
    assert "2.830 (dari desa berdata)" in html
    # Legend notes: desa and kecamatan sections, and the incomplete entry.
    assert "338 dari 351 desa berdata</div>" in html
    assert (
        "338 dari 351 desa berdata; 1 kecamatan: data tidak lengkap (desa berdata &lt; 50 %)"
    ) in html
    assert "</span>Data tidak lengkap</div>" in html


def test_min_berdata_sets_the_threshold(tmp_path):
    from povmap import defaults
    from povmap.classify import classify
    from povmap.cli import main
    from povmap.pipeline import Options, run

    option = next(p for p in main.commands["map"].params if p.name == "min_coverage")
    assert option.default == 100 * defaults.MIN_COVERAGE == 100 * Options().min_coverage
    assert inspect.signature(classify).parameters["min_coverage"].default == defaults.MIN_COVERAGE
    # The names of povmap 0.1 still work for one release.
    assert Options(min_berdata=0.8).min_coverage == 0.8 and defaults.MIN_BERDATA == 0.5

    desa, path = _konsel_with_gaps(tmp_path)
    kec = run(desa, path, Options(min_coverage=0.8)).layers["kecamatan"].set_index("kode_kecamatan")
    assert kec.loc[["74.05.01", "74.05.03"], "kelas"].tolist() == [-2, -2]  # 17/24 < 80 %
    kec = run(desa, path, Options(min_coverage=0.0)).layers["kecamatan"]
    assert (kec["kelas"] >= 0).all()


def test_incomplete_note_writes_its_counts_the_indonesian_way(kalsel_joined):
    # 2,008 desa in Kalimantan Selatan, ten without data: the note's counts are 1.998 and 2.008
    # (id) or 1,998 and 2,008 (en), as every other number povmap writes, never "1998 dari 2008".
    from povmap.classify import incomplete_notes

    kecamatan = povmap.aggregate(kalsel_joined[0], "kecamatan")
    n, total = int(kecamatan["desa_berdata"].sum()), int(kecamatan["jumlah_desa"].sum())
    assert (n, total) == (1998, 2008)
    note = incomplete_notes(kecamatan)[0]
    assert "1.998 dari 2.008 desa berdata" in str(note)
    assert "1,998 of 2,008 villages have data" in note.en


def _aggregate_values_by_column(gdf: pd.DataFrame, level: str, column: str) -> pd.DataFrame:
    """The former aggregate_values: one grouping of the codes per column summed."""
    from povmap.metrics import COUNT_COLUMNS, DENSITIES, RATES, has_data

    key = f"kode_{level}"
    groups = gdf[key]
    counts = [c for c in COUNT_COLUMNS if c in gdf.columns]
    found: dict[str, pd.Series] = {}
    if counts:
        found.update(gdf.groupby(key)[counts].sum(min_count=1).items())
        found["jumlah_sebagian"] = gdf[counts].isna().any(axis=1).groupby(groups).any()
    for rate, (numerator, denominator) in {**RATES, **DENSITIES}.items():
        if numerator in gdf.columns and denominator in gdf.columns:
            both = gdf[numerator].notna() & gdf[denominator].notna()
            top = gdf[numerator].where(both).groupby(groups).sum(min_count=1)
            bottom = gdf[denominator].where(both).groupby(groups).sum(min_count=1)
            found[rate] = (100.0 if rate in RATES else 1.0) * top / bottom.where(bottom > 0)
    berdata = has_data(gdf, column).groupby(groups).sum()
    found["desa_berdata"] = berdata
    found["jumlah_desa_tanpa_data"] = groups.groupby(groups).size() - berdata
    table = pd.DataFrame(found)
    table["jumlah_sebagian"] = table.get("jumlah_sebagian", False)
    return table.astype(
        {"desa_berdata": int, "jumlah_desa_tanpa_data": int, "jumlah_sebagian": int}
    )


@pytest.mark.parametrize("column", ["persen_miskin_ekstrem", "jumlah_desil_1", "persen_desil_2"])
@pytest.mark.parametrize("level", ["kecamatan", "kabupaten"])
def test_aggregate_values_are_the_sums_column_by_column(kalsel_joined, level, column):
    """One grouping of the codes for every sum gives what one grouping per column gave, with
    blanks, zero populations, nullable integers, desil counts and repeated row labels."""
    from povmap.metrics import aggregate_values

    gdf = pd.DataFrame(kalsel_joined[0].drop(columns="geometry"))
    rng = np.random.default_rng(7)
    n = len(gdf)
    gdf.loc[rng.random(n) < 0.1, "jumlah_miskin_ekstrem"] = np.nan
    gdf.loc[rng.random(n) < 0.1, "jumlah_penduduk"] = np.nan
    gdf.loc[rng.random(n) < 0.05, "jumlah_penduduk"] = 0
    gdf["jumlah_desil_1"] = pd.array(rng.integers(0, 50, n), dtype="Int64")
    gdf.loc[rng.random(n) < 0.2, "jumlah_desil_1"] = pd.NA
    gdf["jumlah_desil_2"] = rng.integers(0, 50, n).astype(float)
    gdf.index = np.repeat(np.arange(n // 2 + 1), 2)[:n]  # labels repeated, as after a concat
    got = aggregate_values(gdf, level, column=column)
    expected = _aggregate_values_by_column(gdf, level, column)
    pd.testing.assert_frame_equal(got, expected)
    assert got["desa_berdata"].sum() < n  # the blanks were there to be left out
