"""English says "1 class" and "3 classes", "villages" not "desa"; counts of people are whole."""

from __future__ import annotations

import string

import geopandas as gpd
import pytest
from conftest import LAHAT_DESA, invoke, need

from povmap._messages import _table, keys, text
from povmap.i18n import number_text


def test_every_singular_form_has_the_fields_of_its_entry():
    formatter = string.Formatter()
    for key in keys():
        table = _table(key)
        if "one" not in table:
            continue
        assert "en_one" in table, key
        fields = {f for _, f, _, _ in formatter.parse(table["en"]) if f}
        assert {f for _, f, _, _ in formatter.parse(table["en_one"]) if f} == fields, key
        assert table["one"] in fields, key


@pytest.mark.parametrize(
    "count,expected",
    [
        (1, "X: the data has only 1 distinct value."),
        (3, "X: the data has only 3 distinct values."),
        (number_text(1), "X: the data has only 1 distinct value."),
    ],
)
def test_english_plural_chosen_by_count(count, expected):
    assert text("classify.data_only_distinct_values", "en", head="X", distinct=count) == expected
    # Indonesian nouns do not change with the count.
    assert text("classify.data_only_distinct_values", "id", head="X", distinct=count).endswith(
        f"hanya punya {count} nilai berbeda."
    )


@pytest.mark.parametrize(
    "lang,expected",
    [
        (
            "en",
            [
                "only 1 class could be formed",
                "only 1 distinct value.",
                "all 378 villages have the same value (1,234)",
            ],
        ),
        (
            "id",
            [
                "hanya 1 kelas dapat dibentuk",
                "hanya punya 1 nilai berbeda",
                "semua 378 desa bernilai sama (1.234)",
            ],
        ),
    ],
)
def test_constant_counts_in_pockets(lang, expected, tmp_path):
    desa = gpd.read_file(need(LAHAT_DESA))
    table = tmp_path / "tetap.csv"
    desa[["kode"]].rename(columns={"kode": "kode_desa"}).assign(jumlah_miskin_ekstrem=1234).to_csv(
        table, index=False
    )
    code, out = invoke("--lang", lang, "pockets", LAHAT_DESA, table, "-o", tmp_path / "k.geojson")
    out = " ".join(out.split())
    assert code == 1
    for words in expected:
        assert words in out, out
    assert "1,234.00" not in out and "1.234,00" not in out


@pytest.mark.parametrize(
    "key,fields,one,many",
    [
        (
            "sasaran.no_desil",
            {},
            "1 row without desil 1-10 is not counted.",
            "2 rows without desil 1-10 are not counted.",
        ),
        (
            "pipeline.boundary_note.null_geometry",
            {"listed": "x"},
            "1 area without geometry (not drawn on the map): x",
            "2 areas without geometry (not drawn on the map): x",
        ),
        (
            "trend.change.tanpa_wilayah",
            {"label": "2024"},
            "1 row of vintage 2024 matches no desa and is not in the totals",
            "2 rows of vintage 2024 match no desa and are not in the totals",
        ),
    ],
)
def test_counted_rows_and_areas_in_english(key, fields, one, many):
    assert text(key, "en", n=1, **fields).startswith(one)
    assert text(key, "en", n=number_text(2), **fields).startswith(many)
