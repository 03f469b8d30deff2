"""Kemendagri area codes: normalise any common spelling to the dotted form, level and parent.

Kemendagri codes are ``PP.KK.CC.DDDD`` (province, kabupaten/kota, kecamatan, desa). Tables write
them dotted, undotted (``6306012001``), with spaces, or as numbers a spreadsheet mangled
(``6306012001.0``, ``6.306012001E9``). BPS codes (``6306010001``: 3-digit kecamatan and desa parts)
have the same undotted length but number kecamatan and desa differently, so they are detected here
and never silently taken for Kemendagri codes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from ._distinct import holding_nul, string_array, text_mask

LEVELS = ("provinsi", "kabupaten", "kecamatan", "desa")
#: Number of digits of an undotted Kemendagri code at each level.
DIGITS = {"provinsi": 2, "kabupaten": 4, "kecamatan": 6, "desa": 10}
#: Length of a dotted Kemendagri code at each level (63 / 63.06 / 63.06.01 / 63.06.01.2001).
DOTTED_LENGTH = {"provinsi": 2, "kabupaten": 5, "kecamatan": 8, "desa": 13}
_PARTS = (2, 2, 2, 4)
_DOTTED = r"\d\d(\.\d\d(\.\d\d(\.\d{4})?)?)?"
_SEPARATORS = re.compile(r"[\s.\-_/]+")
# A code a spreadsheet stored as a number: "6306012001.0" or "6.306012001E+09". Three or more digits
# before ".0" so that a dotted kabupaten code such as "63.06" is not read as a number.
_SPREADSHEET_NUMBER = re.compile(r"\d{3,}\.0+|\d(\.\d+)?[eE]\+?\d+")
#: Most digits a number can have and still be read as a code (a desa code has 10; a KK or NIK
#: number 16). Checked before the number is written out in full: ``1E9999999`` has ten million
#: digits, which would take minutes to write (and Python refuses more than 4300).
_MAX_DIGITS = 20


def _number(text: str) -> Decimal | None:
    """``text`` as a non-negative number of at most :data:`_MAX_DIGITS` digits before the
    decimal point, or None (not a number, negative, or too large to be a code)."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0 or number.adjusted() >= _MAX_DIGITS:
        return None
    return number


class _AsciiDigits(dict[int, int]):
    """Translate table (:meth:`str.translate`) from every Unicode decimal digit (category Nd:
    fullwidth ``７``, Arabic-Indic ``٧``, ...) to its ASCII digit; any other character to itself.

    Filled as characters are met: the whole table would take a look-up of each of the 1.1
    million code points at import.
    """

    def __missing__(self, point: int) -> int:
        digit = unicodedata.decimal(chr(point), None)
        self[point] = point if digit is None else ord("0") + digit
        return self[point]


_ASCII_DIGITS = _AsciiDigits()


def _ascii_digits(text: str) -> str:
    """``text`` with its decimal digits of any script as ASCII digits: ``７４０５`` and ``٧٤٠٥``
    are the code ``7405`` as written on another keyboard."""
    return text if text.isascii() else text.translate(_ASCII_DIGITS)


def _ascii_texts(texts: np.ndarray, joined: str) -> np.ndarray:
    """:func:`_ascii_digits` of each of ``texts`` (an object array of str), given ``joined``,
    all of them joined: one check of that says whether any text needs it (mostly none)."""
    if joined.isascii():
        return texts
    return np.fromiter(map(_ascii_digits, texts), dtype=object, count=len(texts))


def _digits_of_number(text: str) -> str | None:
    """Digits of a code that a spreadsheet stored as a number (``6306012001.0``, ``6.3E9``).

    None when the number lost digits: Excel shows a narrow column's codes as ``6.30601E+09``
    (6 significant digits) and saves that text to CSV. Every real desa code keeps at least 8
    significant digits (its 4-digit desa part never ends in ``000``). None too for a number of
    more than :data:`_MAX_DIGITS` digits (``1E9999999``): no code.
    """
    number = _number(text)
    if number is None or number != number.to_integral_value():
        return None
    digits = str(int(number))
    if len(digits) == DIGITS["desa"] and len(digits.rstrip("0")) < 8:
        return None
    return digits


def is_truncated_code(value: object) -> bool:
    """Whether ``value`` is a desa code a spreadsheet cut to scientific notation (``6.30601E+09``):
    its last digits are gone for good."""
    text = str(value).strip()
    if not re.fullmatch(r"\d(\.\d+)?[eE]\+?\d+", text):
        return False
    number = _number(text)
    # adjusted(): the power of ten of the first digit, so a 10-digit number has 9.
    return (
        number is not None
        and number.adjusted() + 1 == DIGITS["desa"]
        and _digits_of_number(text) is None
    )


def normalize_code(value: object) -> str | None:
    """Return the dotted Kemendagri form of ``value``, or None if it is not a code.

    Parameters
    ----------
    value
        A code as text or number: ``"63.06.01.2001"``, ``"6306012001"``, ``"63 06 01 2001"``,
        ``6306012001``, ``6306012001.0``.

    Returns
    -------
    The dotted code (``"63.06.01.2001"``; ``"63.06.01"`` for a kecamatan), or None for blanks and
    values that are not a 2-, 4-, 6- or 10-digit code.

    Examples
    --------
    >>> normalize_code("6306012001")
    '63.06.01.2001'
    >>> normalize_code(630601)
    '63.06.01'
    """
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, int | float):
        text = _digits_of_number(repr(value)) or ""
    else:
        # A leading apostrophe is Excel's "keep as text" marker, exported with the cell.
        text = _ascii_digits(str(value).strip().lstrip("'\u2019").strip())
        if _SPREADSHEET_NUMBER.fullmatch(text):
            text = _digits_of_number(text) or text
    parts = [p for p in _SEPARATORS.split(text) if p]
    # ASCII only: a digit still of another script is no decimal (superscript ², circled ①).
    if not parts or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    if len(parts) > 1:
        # Dotted or spaced: each part must have its own width (a one-digit part lost its zero).
        if len(parts) > 4:
            return None
        widths = _PARTS[: len(parts)]
        padded = [p.zfill(w) for p, w in zip(parts, widths, strict=True)]
        if any(len(p) != w for p, w in zip(padded, widths, strict=True)):
            return None
        return ".".join(padded)
    digits = parts[0]
    if len(digits) not in DIGITS.values():
        return None
    return _dot(digits)


def _dot(digits: str) -> str:
    out, start = [], 0
    for width in _PARTS:
        if start >= len(digits):
            break
        out.append(digits[start : start + width])
        start += width
    return ".".join(out)


def code_level(code: str | None) -> str | None:
    """Level of a dotted code: ``provinsi``, ``kabupaten``, ``kecamatan`` or ``desa``."""
    if not code:
        return None
    return LEVELS[code.count(".")] if code.count(".") < 4 else None


def parent_code(code: str, level: str) -> str:
    """The code of the area at ``level`` that contains ``code`` (``63.06.01.2001`` -> ``63.06``)."""
    return ".".join(code.split(".")[: LEVELS.index(level) + 1])


def normalize_codes(values: Iterable[object]) -> pd.Series:
    """:func:`normalize_code` over many values, as an object Series with None where not a code.

    Codes already in the dotted form (every boundary file of BIG, 83,403 desa nationally) take a
    vectorised path (:func:`_dotted`); only the others go through the per-value parser.
    """
    series = pd.Series(
        list(values) if not isinstance(values, pd.Series) else values.to_numpy(), dtype="object"
    )
    cells = series.to_numpy()
    # Only text takes the fast path: the number 63.06 (a spreadsheet cell) is no code.
    is_text = text_mask(cells)
    dotted = np.zeros(len(cells), dtype=bool)
    out = np.full(len(cells), None, dtype=object)
    joined = "".join(cells[is_text])
    texts = _ascii_texts(cells[is_text], joined)
    text = string_array(texts)
    if text is not None:  # else (a lone surrogate) every value takes the per-value parser
        # A text holding a NUL is left to the per-value parser, as it is no code.
        nul = holding_nul(texts, joined)
        if nul.any():
            text = np.where(nul, "", text)
        stripped = np.strings.strip(text)
        fast = _dotted(stripped)
        dotted[np.flatnonzero(is_text)[fast]] = True
        out[dotted] = stripped[fast].astype(object)
    out[~dotted] = np.fromiter(
        map(normalize_code, cells[~dotted]), dtype=object, count=int((~dotted).sum())
    )
    return pd.Series(out, index=series.index, dtype=object)


def _dotted(text: np.ndarray) -> np.ndarray:
    """Which of ``text`` (a NumPy ``StringDType`` array, no NUL in its texts: NumPy drops a
    trailing one) are whole codes in the dotted form, as ``re.fullmatch(_DOTTED, t)`` says:
    2, 5, 8 or 13 characters, each part decimal digits (``\\d`` is any Unicode decimal, as
    ``isdecimal``), dots between.

    The texts of those lengths are read as a table of 13 code points each, where one
    comparison per position tells ASCII digits and dots; the few holding any other character
    (a decimal of another script, a letter) are checked part by part.
    """
    length = np.strings.str_len(text)
    out = np.isin(length, list(DOTTED_LENGTH.values()))
    candidates = np.flatnonzero(out)
    points = text[candidates].astype("U13").view(np.uint32).reshape(len(candidates), 13)
    width = length[candidates][:, None]
    inside = np.arange(13) < width  # positions within each text (the rest is padding)
    dot = np.isin(np.arange(13), (2, 5, 8))
    digit = (points >= ord("0")) & (points <= ord("9"))
    ascii_ok = np.where(dot, points == ord("."), digit) | ~inside
    other = (points > 127).any(axis=1)
    out[candidates] = ascii_ok.all(axis=1) & ~other
    if other.any():
        out[candidates[other]] = _dotted_by_part(text[candidates[other]])
    return out


def _dotted_by_part(text: np.ndarray) -> np.ndarray:
    """:func:`_dotted`, part by part in NumPy's string loops (any Unicode decimal)."""
    length = np.strings.str_len(text)
    out = np.isin(length, list(DOTTED_LENGTH.values()))
    for start, stop in ((0, 2), (3, 5), (6, 8), (9, 13)):
        out &= (length <= start) | np.strings.isdecimal(np.strings.slice(text, start, stop))
    for dot in (2, 5, 8):
        out &= (length <= dot) | (np.strings.slice(text, dot, dot + 1) == ".")
    return out


def _bps_only(value: object) -> bool | None:
    """True when ``value`` can only be a BPS code, False when it is a Kemendagri-looking code,
    None when it is not a code at all."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = _ascii_digits(str(value).strip().lstrip("'\u2019").strip())
    if _SPREADSHEET_NUMBER.fullmatch(text) or isinstance(value, int | float):
        text = _digits_of_number(repr(value) if isinstance(value, int | float) else text) or text
    parts = [p for p in _SEPARATORS.split(text) if p]
    if not parts or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    widths = tuple(len(p) for p in parts)
    if widths in ((2, 2, 3), (2, 2, 3, 3)) or widths in ((7,), (4, 3), (4, 3, 3), (7, 3)):
        return True
    if widths == (10,):
        # The 7th digit starts the Kemendagri desa part (1 kelurahan, 2 desa); in a BPS code it is
        # the last digit of the 3-digit kecamatan number, mostly 0.
        return parts[0][6] not in "12"
    if widths == (2, 2, 2, 4):
        return parts[3][0] not in "12"
    return False if normalize_code(text) else None


def code_system(values: Iterable[object]) -> str | None:
    """Guess the code system of a column of codes as written: ``"kemendagri"``, ``"bps"`` or None.

    A Kemendagri desa code never has a 7th digit other than 1 or 2, and no Kemendagri code has a
    3-digit kecamatan part, so a column where at least a tenth of the codes can only be BPS codes is
    a BPS column (in Lahat 61 % of BPS desa codes also look like Kemendagri codes; a tenth is
    enough to tell, a few typos are not).

    Examples
    --------
    >>> code_system(["6306010001", "6306010002", "6306020001"])
    'bps'
    >>> code_system(["6306012001", "63.06.01.2002"])
    'kemendagri'
    """
    cells = np.fromiter(
        values.to_numpy(dtype=object) if isinstance(values, pd.Series) else values, dtype=object
    )
    is_text = text_mask(cells)
    # Digits of other scripts as ASCII first, as _bps_only reads them: "٧٤٠٥٠١١٠٠١" votes as
    # "7405011001" (else its 7th digit is no "1" or "2", and the table would look BPS).
    text = string_array(_ascii_texts(cells[is_text], "".join(cells[is_text])))
    if text is None:  # text NumPy cannot hold: every value votes through _bps_only
        text, is_text = np.array([], dtype=np.dtypes.StringDType()), np.zeros(len(cells), bool)
    # The two usual forms of a desa code written as text (every row of a national table) are
    # voted on at once, as _bps_only votes on them: by the first digit of the desa part.
    # ``\d{2}\.\d{2}\.\d{2}\.\d{4}`` and ``\d{10}`` (``\d``: any Unicode decimal, as isdecimal).
    length = np.strings.str_len(text)
    dotted = (length == DOTTED_LENGTH["desa"]) & _dotted(text)
    plain = (length == 10) & np.strings.isdecimal(text)
    first = np.where(dotted, np.strings.slice(text, 9, 10), np.strings.slice(text, 6, 7))
    bps = int(np.isin(first[dotted | plain], ["1", "2"], invert=True).sum())
    n_fast = int((dotted | plain).sum())
    rest = [*cells[~is_text], *text[~(dotted | plain)].astype(object)]
    votes = [v for v in map(_bps_only, rest) if v is not None]
    n = n_fast + len(votes)
    if not n:
        return None
    return "bps" if bps + sum(votes) >= max(1, 0.1 * n) else "kemendagri"


def looks_like_bps(codes: Iterable[object]) -> bool:
    """Whether a column of codes (as written, or dotted) looks like BPS codes; see
    :func:`code_system`."""
    return code_system(codes) == "bps"
