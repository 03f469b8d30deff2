"""Kemendagri codes in every spelling, and BPS codes told apart from them, on the real tables."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from conftest import HSS_DESA, KALSEL_DESA, LAHAT_DESA, SHARED, need
from hypothesis import given
from hypothesis import strategies as st

from povmap.codes import (
    _bps_only,
    code_level,
    code_system,
    is_truncated_code,
    looks_like_bps,
    normalize_code,
    normalize_codes,
    parent_code,
)

BPS_VILLAGES = SHARED / "codes" / "bps_mfd2018" / "villages_63_16_74_61.csv"
BPS_DISTRICTS = SHARED / "codes" / "bps_mfd2018" / "districts_63_16_74_61.csv"

desa_codes = st.tuples(
    st.integers(11, 96),
    st.integers(1, 79),
    st.integers(1, 60),
    st.sampled_from([1, 2]),
    st.integers(1, 199),
).map(lambda t: f"{t[0]:02d}.{t[1]:02d}.{t[2]:02d}.{t[3]}{t[4]:03d}")


@given(desa_codes, st.sampled_from([".", " ", "", "-", " . "]))
def test_any_separator_gives_the_dotted_code(code, separator):
    written = separator.join(code.split("."))
    assert normalize_code(written) == code
    assert normalize_code(f"  {written}\t") == code


@given(desa_codes)
def test_codes_stored_as_numbers(code):
    digits = code.replace(".", "")
    assert normalize_code(int(digits)) == code
    assert normalize_code(float(digits)) == code
    assert normalize_code(f"{digits}.0") == code
    assert normalize_code(f"{int(digits):.9E}") == code  # 6.306012001E+09


@given(desa_codes)
def test_level_and_parents(code):
    assert code_level(code) == "desa"
    kec = parent_code(code, "kecamatan")
    assert code_level(kec) == "kecamatan" and code.startswith(kec)
    assert normalize_code(kec.replace(".", "")) == kec
    assert code_level(parent_code(code, "kabupaten")) == "kabupaten"


@given(st.text(max_size=14))
def test_never_crashes_and_only_returns_dotted_codes(text):
    out = normalize_code(text)
    assert out is None or code_level(out) in ("provinsi", "kabupaten", "kecamatan", "desa")
    assert out is None or (out.isascii() and out.replace(".", "").isdigit())


@pytest.mark.parametrize(
    "value",
    ["1E9999999", "1e+9999", pytest.param("9" * 5000 + ".0", id="5000-digits"), "1E20", "1.5E25"],
)
def test_a_number_too_large_for_a_code_is_no_code_and_is_read_at_once(value):
    # int(Decimal("1E9999999")) wrote ten million digits (minutes); 1E9999 and a 5000-digit
    # number stopped with Python's "Exceeds the limit (4300 digits)".
    assert normalize_code(value) is None
    assert is_truncated_code(value) is False
    assert _bps_only(value) is None
    assert normalize_codes([value, "7405011001"]).tolist() == [None, "74.05.01.1001"]
    assert code_system([value]) is None


@pytest.mark.parametrize(
    "zero",
    ["\uff10", "\u0660", "\u0966"],  # fullwidth, Arabic-Indic, Devanagari zero
)
def test_digits_of_any_script_are_the_same_code_in_ascii(zero):
    def written(code: str) -> str:
        return "".join(chr(ord(zero) + int(c)) if c.isdigit() else c for c in code)

    codes = ["16.04.01.2001", "16.04.01.2002", "16.04.12.1003", "16.04.12.2004"]
    undotted = [written(c.replace(".", "")) for c in codes]
    dotted = [written(c) for c in codes]
    assert [normalize_code(c) for c in undotted + dotted] == codes + codes
    assert normalize_codes(undotted + dotted).tolist() == codes + codes
    # Kemendagri codes, as in ASCII: the 7th digit is read as the digit it is, 1 or 2.
    assert code_system(undotted) == code_system(dotted) == "kemendagri"
    assert [_bps_only(c) for c in undotted + dotted] == [False] * 8
    # A BPS code stays one, in any script.
    assert code_system([written("1604010001"), written("1604020002")]) == "bps"
    # Digits that are not decimals (superscript, circled) are no code.
    assert normalize_code("\u00b2\u00b3") is None and normalize_code("\u2460\u2461") is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        None,
        float("nan"),
        "abc",
        "63.6.1.2001x",
        "630601200",
        "63.06.01.2001.5",
        "12345678901",
        -6306012001,
    ],
)
def test_not_codes(value):
    assert normalize_code(value) is None


def test_one_digit_parts_get_their_zero():
    assert normalize_code("63.6.1.2001") == "63.06.01.2001"


@pytest.mark.parametrize("path", [HSS_DESA, LAHAT_DESA, KALSEL_DESA])
def test_real_kemendagri_codes_in_every_form_are_kemendagri(path):
    codes = gpd.read_file(need(path), columns=["kode", "kode_nodot"])
    assert code_system(codes["kode"]) == "kemendagri"
    assert code_system(codes["kode_nodot"]) == "kemendagri"
    assert code_system(codes["kode_nodot"].astype("int64")) == "kemendagri"
    assert [normalize_code(c) for c in codes["kode_nodot"]] == codes["kode"].tolist()


@pytest.mark.parametrize("prefix", ["6306", "1604", "7405", "6111", "63"])
def test_real_bps_codes_are_bps(prefix):
    villages = pd.read_csv(need(BPS_VILLAGES), dtype=str)
    ids = villages.loc[villages["id"].str.startswith(prefix), "id"]
    assert looks_like_bps(ids)
    assert looks_like_bps(ids.astype("int64"))  # a spreadsheet stored them as numbers
    districts = pd.read_csv(need(BPS_DISTRICTS), dtype=str)
    assert code_system(districts.loc[districts["id"].str.startswith(prefix), "id"]) == "bps"


def test_bps_codes_that_look_kemendagri_one_by_one_are_still_bps_as_a_column():
    # 61 % of Lahat's BPS desa codes (kecamatan 052, 011 ...) would pass for Kemendagri codes alone.
    villages = pd.read_csv(need(BPS_VILLAGES), dtype=str)
    lahat = villages.loc[villages["id"].str.startswith("1604"), "id"]
    assert (lahat.str[6].isin(["1", "2"])).mean() > 0.5
    assert code_system(lahat) == "bps"
    assert code_system(["63.06.010.001", "63.06.010.002"]) == "bps"  # dotted BPS


def test_a_few_typos_do_not_make_a_kemendagri_column_bps():
    codes = gpd.read_file(need(HSS_DESA), columns=["kode_nodot"])["kode_nodot"].tolist()
    codes[:5] = ["6306010001"] * 5
    assert code_system(codes) == "kemendagri"


_WRITTEN = st.one_of(
    st.sampled_from(
        [
            "63.06.01.2001",
            "63.06.01.0001",
            "6306012001",
            "6306010001",
            "63.06.010.0001",
            " 6306012001 ",
            "'6306012001",
            "63 06 01 2001",
            "6.30601E+09",
            "63.06.01",
            "x63.06.01.2001",
            "",
            "٦٣٠٦٠١٠٠٠١",
            "٦٣.٠٦.٠١.٣٠٠١",
        ]
    ),
    st.from_regex(r"\d{2}\.\d{2}\.\d{2}\.\d{4}|\d{10}|\d{7}", fullmatch=True),
    st.integers(0, 10**10),
    st.none(),
    st.just(float("nan")),
)


@given(st.lists(_WRITTEN, max_size=30))
def test_code_system_votes_as_each_value_does(values):
    # The usual text forms are voted on at once; the vote is _bps_only's, value by value.
    from povmap.codes import _bps_only

    votes = [v for v in map(_bps_only, values) if v is not None]
    expected = (
        None if not votes else "bps" if sum(votes) >= max(1, 0.1 * len(votes)) else "kemendagri"
    )
    assert code_system(values) == expected
    assert code_system(pd.Series(values, dtype=object)) == expected
