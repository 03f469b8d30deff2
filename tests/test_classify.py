"""Class breaks and their labels."""

from __future__ import annotations

import html
import re
import warnings
import xml.etree.ElementTree as ET

import mapclassify
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import povmap
from povmap.classify import NO_DATA_CLASS, make_classification, quantile_breaks

VALUES = np.array([0.2, 0.5, 0.9, 1.09, 1.5, 2.2, 3.0, 4.5, 7.25, 9.3, np.nan])


@pytest.mark.parametrize("scheme", ["quantiles", "fisher_jenks", "equal_interval"])
def test_breaks_match_mapclassify(scheme):
    c = make_classification(VALUES, column="persen_miskin_ekstrem", scheme=scheme, k=4)
    expected = mapclassify.classify(VALUES[~np.isnan(VALUES)], scheme=scheme, k=4).bins
    np.testing.assert_allclose(c.bins, expected)
    assert c.lower == 0.2 and len(c.colors) == c.k == 4


def test_quantiles_are_mapclassify_quantiles_computed_by_numpy():
    # Random values (with ties) of many sizes: the same classes as mapclassify.Quantiles, except
    # a value equal to a quantile that mapclassify's floating point put a hair below it.
    rng = np.random.default_rng(7)
    differ = 0
    for n in range(12, 400, 7):
        values = rng.gamma(2.0, 3.0, n)
        if n % 2:
            values = np.round(values, 1)
        for k in range(2, 10):
            ours = np.unique(quantile_breaks(values, k))
            theirs = mapclassify.Quantiles(values, k=k).bins
            assert ours.size == theirs.size
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)
            moved = np.searchsorted(ours, values) != np.searchsorted(theirs, values)
            assert set(values[moved]) <= set(ours)
            differ += int(moved.any())
    assert differ  # such values exist: the next test pins one


def test_a_value_at_an_exact_quantile_is_in_the_class_the_legend_gives_it():
    # Ten values, nine classes: each quantile is a value (i (n - 1) / k is whole). mapclassify
    # computes the one at 0.4 as 0.39999999999999997 and colours 0.4 with the class "> 0,4".
    values = np.round(np.arange(1, 11) * 0.1, 1)
    c = make_classification(values, column="persen_miskin_ekstrem", k=9)
    assert c.bins == tuple(values[1:])
    assert c.assign(values).tolist() == [0, 0, 1, 2, 3, 4, 5, 6, 7, 8]
    assert c.labels()[2] == "> 0,30 – 0,40"


def test_assign_is_inclusive_upper_edge_and_marks_missing():
    c = make_classification(VALUES, column="persen_miskin_ekstrem", breaks=[1.09, 3.0])
    assert c.scheme == "user"
    assert c.bins == (1.09, 3.0, 9.3)
    classes = c.assign(VALUES)
    assert classes.tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, NO_DATA_CLASS]


def test_labels_are_indonesian_numbers():
    c = make_classification(VALUES, column="persen_miskin_ekstrem", breaks=[1.09, 3.0])
    # Upper edges are inclusive: the next class starts above them, as planners read "> 1,09".
    assert c.labels("id") == ["0,20 – 1,09", "> 1,09 – 3,00", "> 3,00 – 9,30"]
    assert c.labels("en") == ["0.20 – 1.09", "> 1.09 – 3.00", "> 3.00 – 9.30"]
    assert c.no_data_label("id") == "Tidak ada data"
    counts = make_classification([1200, 5400, 13000], column="jumlah_miskin_ekstrem", k=2)
    assert counts.labels("id")[-1].endswith("13.000")


def test_fewer_distinct_values_than_classes():
    c = make_classification([1.0, 1.0, 2.0], column="persen_miskin_ekstrem", k=5)
    assert c.k <= 2


@pytest.mark.parametrize(
    "kwargs, word",
    [({"scheme": "jenks"}, "scheme"), ({"k": 12}, "k=12"), ({"breaks": [3, 1]}, "breaks")],
)
def test_bad_parameters_are_named(kwargs, word):
    with pytest.raises(povmap.PovmapInputError, match=word):
        make_classification(VALUES, column="persen_miskin_ekstrem", **kwargs)


def test_desil_share_gets_its_own_colours_and_label():
    c = make_classification(VALUES, column="persen_desil_1", k=3)
    reds = make_classification(VALUES, column="persen_miskin_ekstrem", k=3)
    assert c.colors != reds.colors
    assert "bukan tingkat kemiskinan" in povmap.i18n.label("persen_desil_1", "id")


# --- Classes that do not lie (issue #10, kind 7): many equal values, labels that never overlap.


def _lahat_mostly_zero(tmp_path, distinct: int = 37) -> tuple:
    """Lahat (378 desa) with 70 % of desa at 0 %: population 1.000, the others 1 to ``distinct``
    people (0,1 % to ``distinct``/10 %)."""
    import geopandas as gpd
    from conftest import LAHAT_DESA, make_counts, need

    raw = gpd.read_file(need(LAHAT_DESA))
    counts = make_counts(raw, seed=1604)
    i = np.arange(len(counts))
    poor = np.where(i % 10 >= 7, i % distinct + 1, 0)
    counts = counts.assign(
        jumlah_penduduk=1000,
        jumlah_miskin_ekstrem=poor,
        jumlah_keluarga_miskin_ekstrem=poor // 3,
        jumlah_desil_1=poor * 2,
    )
    path = tmp_path / "lahat.csv"
    counts.to_csv(path, index=False)
    return LAHAT_DESA, path, counts


@pytest.mark.filterwarnings("error")  # a library warning reaching the user fails the test
def test_zero_gets_its_own_class_and_labels_do_not_overlap_on_lahat(tmp_path):
    from povmap.export import qml, sld
    from povmap.render import choropleth, static_map
    from povmap.render.legend import graduated_items

    desa, path, counts = _lahat_mostly_zero(tmp_path)
    assert (counts["jumlah_miskin_ekstrem"] == 0).sum() == 266  # 70 % of 378
    result = povmap.run(desa, path)
    layer, c = result.main, result.classification
    assert c.labels("id") == [
        "0 (tidak ada)",
        "> 0,00 – 0,97",
        "> 0,97 – 1,90",
        "> 1,90 – 2,80",
        "> 2,80 – 3,70",
    ]
    assert c.labels("en") == [
        "0 (none)",
        "> 0.00 – 0.97",
        "> 0.97 – 1.90",
        "> 1.90 – 2.80",
        "> 2.80 – 3.70",
    ]
    zero = layer["jumlah_miskin_ekstrem"] == 0
    assert (layer.loc[zero, "kelas"] == 0).all() and (layer.loc[~zero, "kelas"] > 0).all()
    assert c.k == 5 and not c.notes() and not any("kelas" in n for n in result.report.notes)
    # One Classification, the same labels everywhere: HTML legend, PNG legend, SLD, QML.
    legend = graduated_items(c, "id")
    assert [t for _, t in legend] == [*c.labels("id"), "Tidak ada data"]
    ns = {"sld": "http://www.opengis.net/sld"}
    rules = ET.fromstring(sld(c, layer="desa").encode()).iterfind(".//sld:Rule/sld:Title", ns)
    assert [r.text for r in rules] == [t for _, t in legend]
    styled = ET.fromstring(qml(c, layer="desa").split("\n", 1)[1].encode())
    assert [e.get("label") for e in styled.iterfind(".//category")] == [t for _, t in legend]
    page = choropleth(layer, kecamatan=result.layers["kecamatan"], tiles=None).get_root().render()
    for text in c.labels("id"):
        assert f"</span>{html.escape(text)}</div>" in page
    fig = static_map(result.classified())
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [t for _, t in legend]


def test_fewer_classes_are_said_in_the_users_language_and_no_raw_warning(tmp_path):
    import subprocess
    import sys

    desa, path, _ = _lahat_mostly_zero(tmp_path, distinct=3)  # 0 and 0,1 / 0,2 / 0,3 %
    for lang, expected in (
        ("id", "hanya 4 kelas dapat dibentuk dari 5 yang diminta"),
        ("en", "only 4 classes could be formed of the 5 asked"),
    ):
        out = tmp_path / f"peta_{lang}.html"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "povmap.cli",
                "map",
                str(desa),
                str(path),
                "-o",
                str(out),
                "--tiles",
                "none",
                "--lang",
                lang,
            ],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        assert expected in done.stderr
        assert "Warning" not in done.stderr and "Not enough unique" not in done.stderr
    result = povmap.run(desa, path)
    assert result.classification.labels() == ["0 (tidak ada)", "0,10", "0,20", "0,30"]
    assert any("4 nilai berbeda" in n for n in result.report.notes)


def _parse(text: str) -> tuple[float, float, bool]:
    """(low, high, low included) of a label as a reader takes it."""
    numbers = [
        float(t.replace(".", "").replace(",", ".")) for t in re.findall(r"\d[\d.]*(?:,\d+)?", text)
    ]
    if len(numbers) == 1:
        return numbers[0], numbers[0], True
    return numbers[0], numbers[1], not text.startswith(">")


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.sampled_from([0.0, 0.0, 0.0, 1.5, 12.25]),
            st.floats(0, 60, allow_nan=False).map(lambda v: round(v, 3)),
        ),
        min_size=1,
        max_size=60,
    ),
    k=st.integers(2, 9),
    scheme=st.sampled_from(["quantiles", "equal_interval", "fisher_jenks"]),
)
def test_label_intervals_are_disjoint_ordered_and_hold_their_values(values, k, scheme):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = make_classification(values, column="persen_miskin_ekstrem", scheme=scheme, k=k)
    assert 1 <= c.k <= k and len(set(c.labels())) == c.k
    parsed = [_parse(t) for t in c.labels()]
    for (lo, hi, _), (next_lo, next_hi, included) in zip(parsed, parsed[1:], strict=False):
        assert lo <= hi < next_hi
        # The next class starts above this one: "> hi – ..." or a higher single value.
        assert next_lo > hi or (next_lo == hi and not included)
    for value, cls in zip(values, c.assign(values), strict=True):
        lo, hi, _ = parsed[cls]
        shown = float(f"{value:.{c.decimals}f}")  # the value as labels and tooltips round it
        assert lo <= shown <= hi


# --- Class colours without importing matplotlib (issue 15: the national export) ----------------


def test_packaged_class_colours_are_matplotlibs():
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    from povmap.classify import CMAPS, _colors, _known_colors

    table = _known_colors()
    assert set(table) == set(CMAPS.values())
    for cmap, by_n in table.items():
        assert sorted(by_n, key=int) == [str(n) for n in range(1, 10)]
        for n in range(1, 10):
            expected = tuple(to_hex(colormaps[cmap](x)) for x in np.linspace(0.15, 0.95, n))
            assert _colors(cmap, n) == expected, (cmap, n)
    # Another map, or more classes than the table holds, still comes from matplotlib.
    assert _colors("Blues", 3) == tuple(
        to_hex(colormaps["Blues"](x)) for x in np.linspace(0.15, 0.95, 3)
    )
    assert _colors("YlOrRd", 12)[-1] == to_hex(colormaps["YlOrRd"](0.95))


def test_classifying_with_the_default_colours_does_not_import_matplotlib():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from povmap.classify import make_classification\n"
        "for column in ('persen_miskin_ekstrem', 'persen_desil_1', 'kepadatan_miskin_ekstrem'):\n"
        "    c = make_classification(np.arange(40.0), column=column, k=5)\n"
        "    assert len(c.colors) == 5 and c.colors[0].startswith('#'), c.colors\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_an_unknown_colour_map_is_still_named():
    with pytest.raises(povmap.PovmapInputError, match="Merah_Tua"):
        make_classification(VALUES, column="persen_miskin_ekstrem", cmap="Merah_Tua")
