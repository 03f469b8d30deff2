"""Personal data never shown: the one masking rule every report, message and summary goes through.

A by-name register (P3KE/DTSEN) holds NIK and KK numbers, names, addresses and phone numbers. povmap
reads only its area and count columns, but a value can still reach a place where it is shown: a row
shifted by an unquoted comma puts part of an address into the desa column, a NIK is typed into
the code column, a phone number into a count cell. So every value a user can see passes
:func:`mask_text` (values that look like NIK/KK or phone numbers, anywhere in a text), and every
value of a by-name register that is not a known area code or area name passes :func:`mask`.

See SECURITY.md, row 2.
"""

from __future__ import annotations

import re

_SEP = r"[ .\-]?"
#: A NIK or KK number (16 digits, optionally written in groups of four), or an Indonesian phone
#: number: mobile ``08..``, ``628..`` or anything after ``+62`` (landlines too).
PERSONAL_NUMBER = re.compile(
    r"(?<![\d+])(?:"
    r"\d{16}"
    r"|\d{4}([ \-])\d{4}\1\d{4}\1\d{4}"
    r"|\d([.,])\d{3}(?:\2\d{3}){4}(?![.,]\d)"  # 16 digits printed as a number: 6.306.111.122...
    rf"|\+62{_SEP}(?:\(0\){_SEP})?\d(?:{_SEP}\d){{6,11}}"
    rf"|62{_SEP}8(?:{_SEP}\d){{7,11}}"
    rf"|0{_SEP}8(?:{_SEP}\d){{7,11}}"
    r")(?!\d)"
)


def mask(value: object) -> str:
    """Mask a personal value so that it cannot identify anyone, keeping a hint of its shape.

    A number (NIK, KK, phone) keeps its first four digits and, for 16 digits or more, its last four
    (``3201********0001``), else its last two. Any other text keeps its first character
    (``S***********``). This is the only masking function: every place that shows a value from a
    table uses it, directly or through :func:`mask_text`.

    Parameters
    ----------
    value
        The value as read (text or number).

    Returns
    -------
    The masked text, as long as the value's digits (numbers) or characters (text).

    Examples
    --------
    >>> mask("3201234567890001")
    '3201********0001'
    >>> mask("+62 812-3456-7890")
    '6281*******90'
    >>> mask("Jl. Mangga No. 9")
    'J***************'
    """
    text = str(value).strip()
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 8 and not re.search(r"[^\W\d_]", text):
        tail = 4 if len(digits) >= 16 else 2
        return digits[:4] + "*" * (len(digits) - 4 - tail) + digits[-tail:]
    return text[:1] + "*" * max(len(text) - 1, 0)


def mask_text(text: str) -> str:
    """``text`` with every NIK/KK-like and phone-like number in it masked by :func:`mask`.

    A :class:`povmap._errors.Text` keeps its English form, masked the same way.

    Examples
    --------
    >>> mask_text("baris 7: 3201234567890001 bukan kode")
    'baris 7: 3201********0001 bukan kode'
    >>> mask_text("kode 63.06.01.2001 dan 6306012001 tetap")
    'kode 63.06.01.2001 dan 6306012001 tetap'
    """
    if not isinstance(text, str) or not PERSONAL_NUMBER.search(text):
        return text
    masked = PERSONAL_NUMBER.sub(lambda m: mask(m.group()), str(text))
    english = getattr(text, "en", None)
    if english is None:
        return masked
    # A Text masks its English form itself (type(text) is Text here: only Text has .en).
    return type(text)(masked, en=english)  # type: ignore[call-overload]


def shown(value: object, *, allowed: bool = True) -> object:
    """A table value as it may be shown: masked whole unless ``allowed``, else :func:`mask_text`.

    Parameters
    ----------
    value
        A cell value; None, NaN and numbers other than text are returned unchanged.
    allowed
        False for a value of a by-name register that is not a known area code or area name (it
        may be a name or an address that slid into an area column).
    """
    if not isinstance(value, str):
        return value
    return mask_text(value) if allowed else mask(value)
