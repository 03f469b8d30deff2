"""The column-wise reading and joining give exactly what the former row-by-row code gave.

The reference functions below are the row loops that ``counts`` and ``join`` ran before they
worked per column and per distinct value (issue 15); they are compared on real names and codes of
Konawe Selatan made messy the way tables write them (case, spaces, non-breaking spaces, prefixes,
apostrophes, spreadsheet numbers, blanks, dashes, totals) and on numbers from XLSX cells.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pandas as pd
import pyogrio
from conftest import KONSEL_DESA, need
from hypothesis import given, settings
from hypothesis import strategies as st

import povmap
from povmap._distinct import map_distinct, text_mask
from povmap.boundaries import _clean_name, _clean_names, _of_level
from povmap.codes import (
    _DOTTED,
    DOTTED_LENGTH,
    _bps_only,
    _dotted,
    code_level,
    code_system,
    is_truncated_code,
    normalize_code,
    normalize_codes,
    parent_code,
)
from povmap.counts import (
    TOTAL_ROW,
    _area_columns,
    _blank_rows,
    _code_text,
    _is_blank,
    _numeric_cells,
    _parse_column,
    _total_rows,
    parse_number,
)
from povmap.join import _code_levels, _kecamatan_hints, _match_codes, _Rows, _truncated_rows
from povmap.names import AreaIndex, kabupaten_key, name_key, normalize_name


@cache
def _konsel() -> pd.DataFrame:
    return pyogrio.read_dataframe(need(KONSEL_DESA), read_geometry=False)


def _real(column: str) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(set(_konsel()[column].astype(str))))


_messy_text = st.text(alphabet="0123456789.,-eE+ '\u00a0\u2212\u2019aBjJ\t/_\u0663", max_size=16)
_decorated = st.tuples(
    st.sampled_from(["", " ", "  ", "\u00a0", "'", "Desa ", "KEL. ", "Kec. ", "\t"]),
    st.one_of(_real("nama"), _real("nama_kec"), _real("kode"), _real("kode_nodot")),
    st.sampled_from(["", " ", " II", " Sei.", "\n", ".0", "E+09", " - ", "'"]),
    st.sampled_from([str, str.upper, str.lower, str.title]),
).map(lambda t: t[3](t[0] + t[1] + t[2]))
cells = st.one_of(
    _decorated,
    _messy_text,
    _real("nama_kab"),
    st.sampled_from(["", "-", "—", "nan", "N/A", "JUMLAH", "Total Kecamatan X", "6.30601E+09"]),
    st.none(),
    st.floats(allow_infinity=False),
    st.integers(-(10**11), 10**11),
    st.booleans(),
)


def _same(a: list, b: list) -> bool:
    """Equal element by element, NaN equal to NaN, and of the same type."""
    return len(a) == len(b) and all(
        type(x) is type(y) and (x == y or (x != x and y != y)) for x, y in zip(a, b, strict=True)
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(cells, max_size=40))
def test_map_distinct_is_the_row_loop(values):
    for func in (normalize_name, name_key, kabupaten_key, normalize_code, _is_blank, repr):
        assert _same(map_distinct(func, values), [func(v) for v in values])
    assert text_mask(values).tolist() == [isinstance(v, str) for v in values]


class _Named(str):
    """A text of a str subclass (as povmap's own Text is)."""


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=5),
            st.text(max_size=5).map(_Named),
            st.text(max_size=5).map(np.str_),
        ),
        max_size=20,
    ),
    st.lists(st.one_of(st.none(), st.just(np.nan), st.just(pd.NA), st.integers(), st.binary())),
)
def test_text_mask_is_isinstance_str_per_cell(texts, others):
    # Columns of text only (told at once) and with other cells, as lists, arrays and Series.
    for values in (texts, texts + others, others + texts):
        expected = [isinstance(v, str) for v in values]
        array = np.empty(len(values), dtype=object)
        array[:] = values
        assert text_mask(values).tolist() == expected
        assert text_mask(array).tolist() == expected
        assert text_mask(pd.Series(array, dtype=object)).tolist() == expected
    assert text_mask([("a", "b"), "c"]).tolist() == [False, True]  # a tuple is one cell


@settings(max_examples=200, deadline=None)
@given(st.lists(cells, max_size=40))
def test_normalize_codes_is_normalize_code_per_value(values):
    assert normalize_codes(values).tolist() == [normalize_code(v) for v in values]
    # And the level of each code, by its length, as read_boundaries decides it.
    codes = normalize_codes(values)
    for level, length in DOTTED_LENGTH.items():
        assert _of_level(codes, level).tolist() == [
            isinstance(c, str) and len(c) == length for c in codes
        ]


_code_like = st.text(
    alphabet="0126.\x00 \u00a0\u2003\x1c\x85\t\u0663\uff16'-", min_size=0, max_size=15
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_code_like, _real("kode"), _real("kode_nodot")), max_size=40))
def test_codes_written_nearly_dotted_are_normalize_code_per_value(values):
    # Texts near the dotted form, with what NumPy's strip takes off and str.strip keeps (NUL),
    # what both take off (Unicode spaces) and decimals of other scripts.
    assert normalize_codes(values).tolist() == [normalize_code(v) for v in values]
    # _dotted is given texts without NUL (NumPy drops a trailing one from a StringDType array).
    written = [v.strip() for v in values if "\x00" not in v]
    text = np.array(written, dtype=np.dtypes.StringDType())
    dotted = [re.fullmatch(_DOTTED, v) is not None for v in written]
    assert _dotted(text).tolist() == dotted


def test_dotted_codes_are_taken_as_written_once_stripped_and_nothing_else_is():
    values = [
        " 63.06.01.2001\u2003",  # a Unicode space, as str.strip takes it off
        "63.06\x00",  # NUL is no space: no code
        "\x0063.06",
        "\u0666\u0663.\u0660\u0666",  # Arabic-Indic digits are decimals: the ASCII code
        "63.06.01.200",  # not dotted as is: the per-value parser pads the parts
        "63.6",
        "63.06.",
        "6306012001",
        63.06,  # a number: no dotted code
        "63.06\ud800",  # a lone surrogate: the whole column takes the per-value parser
    ]
    assert normalize_codes(values).tolist() == [
        "63.06.01.2001",
        None,
        None,
        "63.06",
        "63.06.01.0200",
        "63.06",
        "63.06",
        "63.06.01.2001",
        None,
        None,
    ]
    assert normalize_codes(values[:-1]).tolist() == normalize_codes(values).tolist()[:-1]


def test_dotted_codes_are_not_parsed_one_by_one(monkeypatch):
    """A column of dotted codes (a national layer: 83,403) is decided at once: the per-value
    parser sees only the other values, even when one text of the column holds NUL."""
    from povmap import codes

    parsed = []
    parse = codes.normalize_code
    monkeypatch.setattr(codes, "normalize_code", lambda v: parsed.append(v) or parse(v))
    written = _konsel()["kode"].tolist()
    assert normalize_codes(written).tolist() == written
    assert parsed == []
    assert normalize_codes([*written, "74.05\x00", " 7405 "]).tolist()[-3:] == [
        written[-1],
        None,
        "74.05",
    ]
    assert parsed == ["74.05\x00", " 7405 "]


_names = st.text(alphabet="ab \u00a0\u2003\t\n\x1c\x85\ue000\u0663-", min_size=0, max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_names, _real("nama"), cells), max_size=40))
def test_boundary_names_are_clean_name_per_value(values):
    # Names with every kind of space _clean_name takes out, and the joiner of the one search.
    got = _clean_names(pd.Series(values, dtype=object))
    assert _same(got, [_clean_name(v) for v in values])


def test_clean_boundary_names_are_not_cleaned_one_by_one(monkeypatch):
    """A column of names that need no cleaning (a national layer's 83,403 desa names) is kept
    as it is after one search: only its blank cells go through _clean_name."""
    from povmap import boundaries

    cleaned = []
    clean = boundaries._clean_name
    monkeypatch.setattr(boundaries, "_clean_name", lambda v: cleaned.append(v) or clean(v))
    names = _konsel()["nama"].tolist()
    assert _clean_names(pd.Series([*names, None], dtype=object)) == [*names, None]
    assert cleaned == [None]
    assert _clean_names(pd.Series([*names, " Lalonggasu\u00a0 Meeto"], dtype=object))[-1] == (
        "Lalonggasu Meeto"
    )


def test_parent_codes_are_the_prefixes_of_the_desa_codes():
    gdf = povmap.read_boundaries(need(KONSEL_DESA)).gdf
    for level, length in (("kecamatan", 8), ("kabupaten", 5), ("provinsi", 2)):
        assert gdf[f"kode_{level}"].tolist() == [c[:length] for c in gdf["kode_desa"]]
        assert gdf[f"kode_{level}"].map(type).eq(str).all()


def _area_columns_by_row(body: pd.DataFrame, columns: dict[str, int]) -> pd.DataFrame:
    """The former row loop of counts._area_columns (before the merged-cell fill)."""
    out = pd.DataFrame({"baris": body.index.to_numpy() + 1})
    cells = body.iloc[:, columns["kode_wilayah"]].tolist()
    out["kode_asli"] = [None if _is_blank(c) else _code_text(c) for c in cells]
    out["kode_wilayah"] = [normalize_code(c) for c in cells]
    cells = body.iloc[:, columns["nama_kabupaten"]].tolist()
    out["nama_kabupaten"] = [None if _is_blank(c) else " ".join(str(c).split()) for c in cells]
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(cells, cells, cells), min_size=1, max_size=30))
def test_counts_columns_are_the_row_loops(rows):
    body = pd.DataFrame(rows, dtype=object)
    body.index = body.index + 3  # rows under a header, as read_counts has them
    columns = {"kode_wilayah": 0, "nama_kabupaten": 1}
    expected = _area_columns_by_row(body, columns)
    got = _area_columns(body, columns)
    for column in expected.columns:
        assert _same(got[column].tolist(), expected[column].tolist()), column
    blank = [all(_is_blank(c) for c in row) for row in body.itertuples(index=False)]
    assert _blank_rows(body).tolist() == blank
    total = [
        any(isinstance(c, str) and bool(TOTAL_ROW.match(c)) for c in row)
        for row in body.itertuples(index=False)
    ]
    assert _total_rows(body, None).tolist() == total
    # The same from the numeric cells decided once for the whole body, as read_counts does.
    numeric = _numeric_cells(body)
    got = _area_columns(body, columns, numeric=numeric)
    for column in expected.columns:
        assert _same(got[column].tolist(), expected[column].tolist()), column
    assert _blank_rows(body, numeric).tolist() == blank
    assert _total_rows(body, None, numeric).tolist() == total
    assert _total_rows(body, [1], numeric).tolist() == [
        isinstance(c, str) and bool(TOTAL_ROW.match(c)) for c in body.iloc[:, 1]
    ]


def test_read_counts_decides_numeric_cells_once_per_column(tmp_path, monkeypatch):
    """The blank-row, total-row and code checks take one decision per column of which cells
    are numeric texts (a national table: three columns of 83,403 cells), not one each."""
    from povmap import counts

    path = tmp_path / "jumlah.csv"
    path.write_text(
        "kode_wilayah,jumlah_miskin_ekstrem,jumlah_penduduk\n"
        "74.05.01.2001,12,300\n,,\n 74.05.01.2002 ,7,250\nJUMLAH,19,550\n"
    )
    decided = []
    numeric_texts = counts._numeric_texts
    monkeypatch.setattr(
        counts,
        "_numeric_texts",
        lambda values: decided.append(len(values)) or numeric_texts(values),
    )
    frame = counts.read_counts(path).frame
    assert decided == [4, 4, 4]
    assert frame["kode_asli"].tolist() == ["74.05.01.2001", "74.05.01.2002"]
    assert frame["kode_wilayah"].tolist() == ["74.05.01.2001", "74.05.01.2002"]
    assert frame["baris"].tolist() == [2, 4]
    assert frame["jumlah_penduduk"].tolist() == [300.0, 250.0]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(0, 10**7).map(str),
            st.sampled_from(["1.234", "2,5", " 12 ", "1.234,5", "-", "", "\u221212", "7\u00a0000"]),
            st.integers(0, 10**7),
            st.floats(0, 1e8),
            st.none(),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_count_columns_are_parse_number_per_cell(values):
    got = _parse_column(values, pd.RangeIndex(len(values)), "Jumlah", KONSEL_DESA)
    expected = np.array([parse_number(v) for v in values])
    np.testing.assert_array_equal(got, expected)


def _hint_by_row(code: str | None, found: str | None, level: str) -> str | None:
    """The former per-row join._kecamatan_hint."""
    if level != "desa" or not code or found not in ("kecamatan", "desa"):
        return None
    return parent_code(code, "kecamatan")


@settings(max_examples=150, deadline=None)
@given(st.lists(cells, min_size=1, max_size=30), st.sampled_from(["desa", "kecamatan"]))
def test_join_code_columns_are_the_row_loops(values, level):
    counts = pd.DataFrame({"kode_asli": pd.Series(values, dtype=object)})
    counts["kode_wilayah"] = normalize_codes(values).tolist()
    assert _truncated_rows(counts) == [
        i for i, v in enumerate(counts["kode_asli"]) if isinstance(v, str) and is_truncated_code(v)
    ]
    codes = [c if isinstance(c, str) else None for c in counts["kode_wilayah"]]
    levels = [code_level(c) for c in codes]
    assert _code_levels(np.array(codes, dtype=object)) == levels
    hints = _kecamatan_hints(np.array(codes, dtype=object), levels, level)
    assert hints == [_hint_by_row(c, lv, level) for c, lv in zip(codes, levels, strict=True)]


_some_codes = st.sampled_from(["74.05.01.2001", "74.05.01.2002", "74.05.02.2001", "74.05"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(_some_codes, st.none()), max_size=30),
    st.lists(st.one_of(_some_codes, st.none(), st.just(float("nan"))), max_size=6),
)
def test_rows_match_by_code_as_a_dict_of_the_codes_says(codes, known):
    """_match_codes (at once for unique codes, a national layer) is the former row loop: the
    row takes the area of its code (the last one when a layer from a notebook repeats it)."""
    position = {code: i for i, code in enumerate(known)}
    rows = _Rows.empty(len(codes))
    rows.area[:1] = [99][: len(codes)]  # a row matched before stays matched
    expected_area = [position.get(c, a) for c, a in zip(codes, rows.area, strict=True)]
    _match_codes(rows, codes, pd.Series(known, dtype=object))
    assert rows.area == expected_area
    assert all(type(a) is int for a in rows.area if a is not None)
    assert rows.how == ["code" if c in position else None for c in codes]
    assert rows.candidates == [()] * len(codes) and rows.reason == [""] * len(codes)


@settings(max_examples=150, deadline=None)
@given(st.lists(cells, max_size=40))
def test_code_system_is_the_vote_of_every_value(values):
    assert code_system(values) == _vote(values)


def _vote(values: list) -> str | None:
    """code_system as documented: every value votes through _bps_only."""
    votes = [v for v in map(_bps_only, values) if v is not None]
    if not votes:
        return None
    return "bps" if sum(votes) >= max(1, 0.1 * len(votes)) else "kemendagri"


def test_area_index_keys_are_the_row_loops_on_a_real_layer():
    areas = _konsel().rename(
        columns={"nama": "nama_desa", "nama_kec": "nama_kecamatan", "nama_kab": "nama_kabupaten"}
    )
    index = AreaIndex(areas, "desa")
    assert index.names == [normalize_name(v) for v in areas["nama_desa"]]
    assert index.parents["kabupaten"] == [kabupaten_key(v) for v in areas["nama_kabupaten"]]
    assert index.parents["kecamatan"] == [name_key(v) for v in areas["nama_kecamatan"]]


def test_codes_numpy_cannot_store_take_the_per_value_path():
    # A lone surrogate (possible in a DataFrame built in a notebook) has no UTF-8 form.
    codes = np.array(["63.06.01.20\ud80001", "63.06.01", None, "63.06.01.2001"], dtype=object)
    levels = [code_level(c) for c in codes]
    assert _code_levels(codes) == levels == ["desa", "kecamatan", None, "desa"]
    assert _kecamatan_hints(codes, levels, "desa") == ["63.06.01", "63.06.01", None, "63.06.01"]
    for values in ([*codes, "6306010001", "\ud800"], [*codes] * 5 + ["6306010001"]):
        assert code_system(values) == _vote(values)
    assert code_system([*codes] * 5 + ["6306010001"]) == "kemendagri"
    body = pd.DataFrame({0: [" 63.06\ud800", " 6306012001 ", "-"], 1: ["JUMLAH", "", "nan"]})
    columns = {"kode_wilayah": 0, "nama_kabupaten": 1}
    expected = _area_columns_by_row(body, columns)
    got = _area_columns(body, columns)
    for column in expected.columns:
        assert _same(got[column].tolist(), expected[column].tolist()), column
    assert _blank_rows(body).tolist() == [False, False, True]
    assert _total_rows(body, None).tolist() == [True, False, False]
