"""Numbers as Indonesians write them."""

from __future__ import annotations

import math

import pytest

from povmap.i18n import format_number, format_percent, label


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
