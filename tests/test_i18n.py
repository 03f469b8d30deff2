"""Numbers as Indonesians write them."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from povmap.i18n import format_number, format_numbers, format_percent, format_percents, label

LANG = st.sampled_from(["id", "en"])


@pytest.mark.parametrize(
    "value, decimals, lang, expected",
    [
        (1234, 0, "id", "1.234"),
        (1234567.891, 2, "id", "1.234.567,89"),
        (1.09, 2, "id", "1,09"),
        (1234, 0, "en", "1,234"),
        (None, 0, "id", "–"),
        (math.nan, 2, "id", "–"),
        (0, 0, "id", "0"),
    ],
)
def test_format_number(value, decimals, lang, expected):
    assert format_number(value, decimals, lang) == expected


def test_format_percent():
    assert format_percent(1.0912, 2, "id") == "1,09 %"
    assert format_percent(1.0912, 2, "en") == "1.09 %"


def test_labels_default_to_indonesian():
    assert label("no_data") == "Tidak ada data"
    assert label("no_data", "en") == "No data"


# A value of a tooltip column: any float (NaN, infinities, -0.0, ties such as 9.995 and
# 2.675 included), huge and negative integers, and missing values.
_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=1e6).map(lambda v: round(v, 3)),
    st.sampled_from([9.995, 2.675, 0.125, 1.005, -0.004, -0.0, 0.0, 0.5, 1.5, 1e21]),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.none(),
)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(_VALUES, max_size=40), decimals=st.integers(0, 4), lang=LANG)
def test_column_formatters_write_each_value_as_format_number(values, decimals, lang):
    """format_numbers / format_percents of a column equal format_number / format_percent of each
    of its values, whatever the column's dtype."""
    expected = [format_number(v, decimals, lang) for v in values]
    assert list(format_numbers(values, decimals, lang)) == expected
    assert list(format_numbers(pd.Series(values, dtype=object), decimals, lang)) == expected
    floats = pd.Series([math.nan if v is None else float(v) for v in values], dtype=float)
    assert list(format_numbers(floats, decimals, lang)) == [
        format_number(v, decimals, lang) for v in floats
    ]
    assert list(format_percents(values, decimals, lang)) == [
        format_percent(v, decimals, lang) for v in values
    ]


def test_column_formatters_on_nullable_and_empty_columns():
    counts = pd.Series([1234, None, -5, 0], dtype="Int64")
    assert list(format_numbers(counts, 0, "id")) == ["1.234", "–", "-5", "0"]
    assert list(format_percents(pd.Series([1.0912, 9.995, -0.0]), 2, "id")) == [
        "1,09 %",
        "9,99 %",
        "-0,00 %",
    ]
    assert list(format_numbers(pd.Series([1234567.891, -0.0]), 1, "en")) == ["1,234,567.9", "-0.0"]
    assert format_numbers(pd.Series([], dtype=float), 0, "id").tolist() == []
    # An object column of integers and -0.0: each value as float() reads it, sign kept.
    assert list(format_numbers(pd.Series([0, -0.0], dtype=object), 0, "en")) == ["0", "-0"]
