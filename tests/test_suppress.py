"""Small-cell suppression, proved by linear programming on what is really published.

For every blanked cell, the smallest and largest value it can take is computed with scipy's
``linprog`` from everything a published output gives an attacker: the published cells (zeros
included), every kecamatan total, the region total in the manifest, rates × population and
densities × area of blanked rows if any were published, the class of a blanked row (an interval)
and its pocket flag. The attacker is also told which blanked cells are small (1 to N-1) and
which were blanked to protect them (N or more): more than is published. No blanked cell may be
pinned to one value. The audit here is written independently of :mod:`povmap.export.suppress`.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import HSS_DESA, KAYONG_DESA, make_counts, need
from scipy.optimize import linprog

import povmap
from povmap.cli import main
from povmap.export import suppress_layers
from povmap.export.suppress import FLAG

N = 10
KUGI = {
    "desa": "KDEPUM",
    "kec": "KDCPUM",
    "flag": "DISAMARKAN",
    "pop": "JML_PDDK",
    "area": "LUAS_KM2",
    "kelas": "KELAS",
    "kantong": "KANTONG",
}
CANONICAL = {
    "desa": "kode_desa",
    "kec": "kode_kecamatan",
    "flag": FLAG,
    "pop": "jumlah_penduduk",
    "area": "luas_km2",
    "kelas": "kelas",
    "kantong": "kantong",
}
#: count column -> (its rate, its density), as KUGI fields and as canonical columns.
KUGI_COUNTS = {
    "JML_ME": ("PRS_ME", "PADAT_ME"),
    "JML_KK_ME": (None, None),
    "JML_D1": ("PRS_D1", None),
}
CANONICAL_NAME = {
    "JML_ME": "jumlah_miskin_ekstrem",
    "JML_KK_ME": "jumlah_keluarga_miskin_ekstrem",
    "JML_D1": "jumlah_desil_1",
}


def attacker_bounds(value: float) -> tuple[float, float | None]:
    """A small cell is 1..N-1; a cell blanked to protect it is N or more (zeros are published)."""
    if 1 <= value < N:
        return 1.0, float(N - 1)
    return (float(N), None) if value >= N else (0.0, None)


def audit(
    desa: pd.DataFrame,
    kec: pd.DataFrame | None,
    total: float | None,
    count: str,
    truth: dict[str, float],
    names: dict[str, str],
    rate: str | None = None,
    density: str | None = None,
    classes: dict | None = None,
) -> dict[str, tuple]:
    """``{code: (min, max)}`` of every blanked cell of ``count`` given what is published."""
    layers = {"d": desa} if kec is None else {"d": desa, "k": kec}
    unknown = []  # (layer, code)
    for key, layer in layers.items():
        code = names["desa"] if key == "d" else names["kec"]
        blank = layer[count].isna() & (layer[names["flag"]] == 1)
        unknown += [(key, c) for c in layer.loc[blank, code]]
    index = {u: k for k, u in enumerate(unknown)}
    rows, rhs = [], []

    def equation(terms: dict, constant: float) -> None:
        row = np.zeros(len(unknown))
        for u, coefficient in terms.items():
            row[index[u]] += coefficient
        rows.append(row)
        rhs.append(constant)

    def cell(key: str, row: pd.Series) -> tuple[str, float]:
        code = row[names["desa"] if key == "d" else names["kec"]]
        return ((key, code), 0.0) if (key, code) in index else (None, float(row[count]))

    lower = np.array([attacker_bounds(truth[c])[0] for _, c in unknown])
    upper = [attacker_bounds(truth[c])[1] for _, c in unknown]
    for key, layer in layers.items():
        for _, row in layer.iterrows():
            u, _ = cell(key, row)
            if u is None:
                continue
            if rate and pd.notna(row.get(rate)):  # rate x population gives the count
                equation({u: 1.0}, row[rate] * row[names["pop"]] / 100)
            if density and pd.notna(row.get(density)):
                equation({u: 1.0}, row[density] * row[names["area"]])
            if names["kantong"] in row.index:
                assert pd.isna(row[names["kantong"]]), f"pocket flag published on blanked {u}"
            if classes and rate and row.get(names["kelas"], -1) >= 0:  # a class is an interval
                edges = (classes[key]["lower"], *classes[key]["bins"])
                k = int(row[names["kelas"]])
                lower[index[u]] = max(lower[index[u]], edges[k] * row[names["pop"]] / 100)
                top = edges[k + 1] * row[names["pop"]] / 100
                upper[index[u]] = top if upper[index[u]] is None else min(upper[index[u]], top)
    has_data = desa[count].notna() | (desa[names["flag"]] == 1)
    if kec is not None:  # each kecamatan total is the sum of its desa
        for _, row in kec.iterrows():
            terms, constant = {}, 0.0
            u, value = cell("k", row)
            if u is not None:
                terms[u] = 1.0
            else:
                constant = value
            members = desa[has_data & (desa[names["kec"]] == row[names["kec"]])]
            for _, member in members.iterrows():
                v, value = cell("d", member)
                if v is not None:
                    terms[v] = terms.get(v, 0.0) - 1.0
                else:
                    constant -= value
            if terms:  # known parts to the right-hand side
                equation(terms, -constant)
    if total is not None:  # the region total in the manifest
        top = kec if kec is not None else desa[has_data]
        key = "k" if kec is not None else "d"
        terms, constant = {}, float(total)
        for _, row in top.iterrows():
            u, value = cell(key, row)
            if u is not None:
                terms[u] = 1.0
            else:
                constant -= value
        if terms:
            equation(terms, constant)
    a = np.array(rows) if rows else None
    b = np.array(rhs) if rows else None
    out = {}
    for u, k in index.items():
        extremes = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(unknown))
            c[k] = sign
            res = linprog(
                c, A_eq=a, b_eq=b, bounds=list(zip(lower, upper, strict=True)), method="highs"
            )
            assert res.status in (0, 3), (u, res.message)  # feasible (3: unbounded)
            extremes.append(sign * res.fun if res.status == 0 else sign * np.inf)
        out[f"{u[1]}"] = tuple(extremes)
    return out


def pinned(ranges: dict[str, tuple]) -> dict[str, tuple]:
    """Cells with fewer than two possible whole values."""
    return {code: r for code, r in ranges.items() if r[1] - r[0] < 1 - 1e-6}


def truth_of(
    counts: pd.DataFrame, column: str, desa_codes: pd.Series, kec_codes: pd.Series
) -> dict[str, float]:
    values = dict(zip(counts["kode_wilayah"], counts[column].astype(float), strict=True))
    kec = pd.Series([values[c] for c in desa_codes], index=kec_codes.to_numpy())
    return values | kec.groupby(level=0).sum().to_dict()


def export_public(boundaries, counts: pd.DataFrame, tmp_path, *extra) -> tuple:
    path = tmp_path / "jumlah.csv"
    counts.to_csv(path, index=False)
    out = tmp_path / "publik"
    result = CliRunner().invoke(
        main,
        [
            "export",
            str(boundaries),
            str(path),
            "-o",
            str(out),
            "--suppress-below",
            str(N),
            *map(str, extra),
        ],
    )
    assert result.exit_code == 0, result.output
    desa = gpd.read_file(out / "desa.geojson")
    kec = gpd.read_file(out / "kecamatan.geojson")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return desa, kec, manifest


def audit_bundle(desa, kec, manifest, counts) -> dict[str, dict]:
    """Pinned cells per count field of a public bundle; asserts every small cell is blanked."""
    found = {}
    for field, (rate, density) in KUGI_COUNTS.items():
        column = CANONICAL_NAME[field]
        truth = truth_of(counts, column, desa["KDEPUM"], desa["KDCPUM"])
        small = [c for c in desa["KDEPUM"] if 1 <= truth[c] < N]
        assert desa.set_index("KDEPUM").loc[small, field].isna().all()
        total = manifest["penggabungan"]["totals"][column]["matched"]
        classes = {
            "d": manifest["klasifikasi_lapisan"]["desa"],
            "k": manifest["klasifikasi_lapisan"]["kecamatan"],
        }
        classes = classes if classes["d"]["column"] == CANONICAL_NAME.get(field) else None
        ranges = audit(desa, kec, total, field, truth, KUGI, rate, density, classes)
        found[field] = pinned(ranges)
        assert ranges, f"{field}: nothing was blanked, the test proves nothing"
    return found


def adversarial_counts(raw: gpd.GeoDataFrame) -> pd.DataFrame:
    """Counts built to be undone: in one kecamatan exactly two desa of 1, in another one small
    desa alone, one with two desa of N-1, one whose other desa are 0, one whose only other
    non-zero desa is exactly N."""
    counts = make_counts(raw, seed=611)
    counts["jumlah_miskin_ekstrem"] = counts["jumlah_miskin_ekstrem"].clip(lower=40)
    kecs = counts.groupby("nama_kecamatan").indices
    sized = sorted((len(rows), name) for name, rows in kecs.items())
    big = [kecs[name] for size, name in sized if size >= 3][:5]
    assert len(big) == 5, "the layer needs five kecamatan of three desa or more"
    column = counts.columns.get_loc("jumlah_miskin_ekstrem")
    two_ones, alone, two_nines, zeros, exactly_n = big
    counts.iloc[two_ones[:2], column] = 1
    counts.iloc[alone[:1], column] = 3
    counts.iloc[two_nines[:2], column] = N - 1
    counts.iloc[zeros, column] = 0
    counts.iloc[zeros[:1], column] = 2
    counts.iloc[exactly_n, column] = 0
    counts.iloc[exactly_n[:2], column] = [1, N]
    return counts


def test_adversarial_table_pins_no_cell(tmp_path):
    raw = gpd.read_file(need(KAYONG_DESA))
    counts = adversarial_counts(raw)
    desa, kec, manifest = export_public(KAYONG_DESA, counts, tmp_path)
    found = audit_bundle(desa, kec, manifest, counts)
    assert found == {field: {} for field in KUGI_COUNTS}
    two_ones = counts.loc[counts["jumlah_miskin_ekstrem"] == 1, "kode_wilayah"]
    assert desa.set_index("KDEPUM").loc[two_ones, "JML_ME"].isna().all()
    applied = manifest["penyamaran"]
    assert applied["ambang"] == N
    assert applied["per_lapisan"]["desa"]["primer"]["jumlah_miskin_ekstrem"] == (
        ((counts["jumlah_miskin_ekstrem"] >= 1) & (counts["jumlah_miskin_ekstrem"] < N)).sum()
    )
    assert applied["sel_sekunder"]["jumlah_miskin_ekstrem"] >= 5
    assert {"persen_miskin_ekstrem", "kepadatan_miskin_ekstrem"} <= set(
        applied["kolom_ikut_dikosongkan"]
    )
    assert "jumlah_miskin_ekstrem" in applied["kolom"]


def test_real_hss_bundle_pins_no_cell(hss_raw, tmp_path):
    counts = make_counts(hss_raw, seed=6306)
    desa, kec, manifest = export_public(need(HSS_DESA), counts, tmp_path)
    assert audit_bundle(desa, kec, manifest, counts) == {field: {} for field in KUGI_COUNTS}


def test_real_kalsel_layers_pin_no_cell(kalsel_raw):
    counts = make_counts(kalsel_raw, seed=63)
    desa = pd.DataFrame(
        {
            "kode_desa": kalsel_raw["kode"].to_numpy(copy=True),
            "kode_kecamatan": kalsel_raw["kode_kec"].to_numpy(copy=True),
        }
    )
    for column in ("jumlah_penduduk", "jumlah_miskin_ekstrem", "jumlah_keluarga_miskin_ekstrem"):
        desa[column] = counts[column].to_numpy(dtype=float)
    sums = ["jumlah_penduduk", "jumlah_miskin_ekstrem", "jumlah_keluarga_miskin_ekstrem"]
    kec = desa.groupby("kode_kecamatan", as_index=False)[sums].sum()
    for layer in (desa, kec):
        layer["persen_miskin_ekstrem"] = (
            100 * layer["jumlah_miskin_ekstrem"] / layer["jumlah_penduduk"]
        )
    done = suppress_layers({"desa": desa, "kecamatan": kec}, N)
    out, report = done.layers, done.report
    for column, rate in (
        ("jumlah_miskin_ekstrem", "persen_miskin_ekstrem"),
        ("jumlah_keluarga_miskin_ekstrem", None),
    ):
        truth = dict(zip(desa["kode_desa"], desa[column], strict=True)) | dict(
            zip(kec["kode_kecamatan"], kec[column], strict=True)
        )
        total = None if column in report.total_hidden else desa[column].sum()
        ranges = audit(out["desa"], out["kecamatan"], total, column, truth, CANONICAL, rate)
        assert len(ranges) >= 20, column  # the generated families give many small cells
        assert pinned(ranges) == {}, column


@pytest.mark.parametrize("seed", range(40))
def test_generated_tables_pin_no_cell(seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5, rng.integers(1, 6))
    kode_kec = np.repeat([f"63.06.{j + 1:02d}" for j in range(len(sizes))], sizes)
    values = rng.choice([0, 1, 2, 3, 5, 8, 9, 10, 12, 30, 80], size=len(kode_kec)).astype(float)
    desa = pd.DataFrame(
        {
            "kode_desa": [f"{k}.{2001 + i}" for i, k in enumerate(kode_kec)],
            "kode_kecamatan": kode_kec,
            "jumlah_miskin_ekstrem": values,
        }
    )
    kec = desa.groupby("kode_kecamatan", as_index=False)[["jumlah_miskin_ekstrem"]].sum()
    done = suppress_layers({"desa": desa, "kecamatan": kec}, N)
    out, report = done.layers, done.report
    truth = dict(zip(desa["kode_desa"], values, strict=True)) | dict(
        zip(kec["kode_kecamatan"], kec["jumlah_miskin_ekstrem"], strict=True)
    )
    total = None if report.total_hidden else values.sum()
    assert (out["desa"]["jumlah_miskin_ekstrem"].isna() >= ((values >= 1) & (values < N))).all()
    ranges = audit(out["desa"], out["kecamatan"], total, "jumlah_miskin_ekstrem", truth, CANONICAL)
    assert pinned(ranges) == {}, (desa, kec)
    # One layer alone, against its own total.
    done = povmap.suppress_below(desa, N)
    alone, hidden = done.layer, done.report.total_hidden
    ranges = audit(
        alone, None, None if hidden else values.sum(), "jumlah_miskin_ekstrem", truth, CANONICAL
    )
    assert pinned(ranges) == {}, desa


def test_map_manifest_records_the_suppression(hss_raw, tmp_path):
    counts = make_counts(hss_raw, seed=6306)
    path = tmp_path / "jumlah.csv"
    counts.to_csv(path, index=False)
    html = tmp_path / "peta.html"
    result = CliRunner().invoke(
        main,
        [
            "map",
            str(need(HSS_DESA)),
            str(path),
            "-o",
            str(html),
            "--tiles",
            "none",
            "--suppress-below",
            str(N),
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads(html.with_suffix(".manifest.json").read_text(encoding="utf-8"))
    applied = manifest["penyamaran"]
    small = (
        (counts["jumlah_keluarga_miskin_ekstrem"] >= 1)
        & (counts["jumlah_keluarga_miskin_ekstrem"] < N)
    ).sum()
    assert applied["ambang"] == N and small > 0
    assert applied["sel_primer"]["jumlah_keluarga_miskin_ekstrem"] >= small
    assert applied["per_lapisan"]["desa"]["primer"]["jumlah_keluarga_miskin_ekstrem"] == small
    assert set(applied["kolom"]) >= {"jumlah_miskin_ekstrem", "jumlah_keluarga_miskin_ekstrem"}
    # Public: only matched totals, as in a public bundle.
    assert all(set(v) == {"matched"} for v in manifest["penggabungan"]["totals"].values())
    private = CliRunner().invoke(
        main,
        ["map", str(HSS_DESA), str(path), "-o", str(tmp_path / "dalam.html"), "--tiles", "none"],
    )
    assert private.exit_code == 0
    assert json.loads((tmp_path / "dalam.manifest.json").read_text())["penyamaran"] is None


def test_pocket_flags_of_blanked_desa_are_blanked(hss_raw, tmp_path):
    counts = make_counts(hss_raw, seed=6306)
    path = tmp_path / "jumlah.csv"
    counts.to_csv(path, index=False)
    result = povmap.run(
        need(HSS_DESA), path, povmap.pipeline.Options(column="persen_miskin_ekstrem", pockets=True)
    )
    out = suppress_layers(result.layers, 120).layers["desa"]
    blanked = out[FLAG].to_numpy()
    assert blanked.any() and (~blanked).any()
    assert result.layers["desa"].loc[blanked, "kantong"].notna().all()  # tested before
    for column in ("kantong", "jenis_kantong", "id_kantong"):
        assert out.loc[blanked, column].isna().all(), column
    assert out.loc[~blanked, "kantong"].equals(result.layers["desa"].loc[~blanked, "kantong"])


@pytest.mark.parametrize("threshold", [0, 1, 2])
def test_thresholds_that_cannot_protect_are_refused(hss_raw, tmp_path, threshold):
    path = tmp_path / "jumlah.csv"
    make_counts(hss_raw, seed=1).to_csv(path, index=False)
    for command in (
        ["export", str(HSS_DESA), str(path), "-o", str(tmp_path / "b")],
        ["map", str(HSS_DESA), str(path), "-o", str(tmp_path / "p.html")],
    ):
        result = CliRunner().invoke(main, [*command, "--suppress-below", str(threshold)])
        assert result.exit_code == 1, result.output
        assert f"--suppress-below {threshold}: gunakan bilangan bulat ≥ 3" in result.output
        assert not (tmp_path / "b").exists() and not (tmp_path / "p.html").exists()


def test_map_draws_no_pocket_flag_on_a_blanked_desa(hss_raw, tmp_path, monkeypatch):
    import povmap.render.output as output

    counts = make_counts(hss_raw, seed=6306)
    path = tmp_path / "jumlah.csv"
    counts.to_csv(path, index=False)
    drawn = {}
    real = output.choropleth

    def spy(gdf, *args, **kwargs):
        drawn["layer"], drawn["pockets"] = gdf.gdf, kwargs["pockets"]
        return real(gdf, *args, **kwargs)

    monkeypatch.setattr(output, "choropleth", spy)
    result = CliRunner().invoke(
        main,
        [
            "map",
            str(need(HSS_DESA)),
            str(path),
            "-o",
            str(tmp_path / "peta.html"),
            "--tiles",
            "none",
            "--kantong",
            "--suppress-below",
            "120",
        ],
    )
    assert result.exit_code == 0, result.output
    flags = getattr(drawn["pockets"], "desa", drawn["pockets"]).set_index("kode_desa")
    blanked = drawn["layer"].loc[drawn["layer"][FLAG], "kode_desa"]
    assert len(blanked) > 10
    assert flags.loc[blanked, "jenis_kantong"].isna().all()  # before: tidak_signifikan etc.
    shown = drawn["layer"].loc[~drawn["layer"][FLAG], "kode_desa"]
    assert flags.loc[shown, "jenis_kantong"].notna().all()
