"""Labels in Indonesian (default) and English, and numbers written the Indonesian way.

Numbers are formatted here, in Python, and never left to the browser's locale: a planner's laptop
set to English must still show ``1.234`` and ``1,09 %``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._errors import LANGS, PovmapInputError
from ._messages import Text, format_number, has, text


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise naming the parameter."""
    if lang not in LANGS:
        raise PovmapInputError.from_catalogue("lang.choose", lang=repr(lang), langs=LANGS)
    return lang


def label(key: str, lang: str = "id", **fields: Any) -> str:
    """The label of ``key`` (a column name or a UI word) in ``lang``; the key itself if unknown.

    Labels are the catalogue's ``label.*`` entries (``messages.toml``); ``fields`` fill the
    named fields of one that has some (``label("title_region", region="Lahat")``).

    Examples
    --------
    >>> label("nama_desa"), label("nama_desa", "en"), label("kolom_lain")
    ('Desa/Kelurahan', 'Village', 'kolom_lain')
    """
    check_lang(lang)
    return text(f"label.{key}", lang, **fields) if has(f"label.{key}") else key


def number_text(value: float | int | None, decimals: int = 0) -> Text:
    """``value`` formatted in both languages (``1.234,5`` / ``1,234.5``), for a message field."""
    return Text(format_number(value, decimals, "id"), format_number(value, decimals, "en"))


def percent_text(value: float | None, decimals: int = 2) -> Text:
    """``value`` as a percentage in both languages (``1,09 %`` / ``1.09 %``), for a message."""
    return Text(format_percent(value, decimals, "id"), format_percent(value, decimals, "en"))


def format_percent(value: float | None, decimals: int = 2, lang: str = "id") -> str:
    """Format a percentage as Indonesians write it, ``1,09 %`` (id), or ``1.09 %`` (en)."""
    text = format_number(value, decimals, lang)
    return text if text == "–" else f"{text} %"


def format_numbers(values: Any, decimals: int = 0, lang: str = "id") -> np.ndarray:
    """:func:`format_number` of a whole column at once: the same text for every value.

    Parameters
    ----------
    values
        Numbers (a Series, array or list; float, int, nullable Int64 or object with None).
        None, NaN and ``pd.NA`` are missing.
    decimals
        Digits after the decimal separator.
    lang
        ``"id"`` (``1.234,5``) or ``"en"`` (``1,234.5``).

    Returns
    -------
    numpy.ndarray
        One ``str`` per value (object dtype), in order; an en dash for a missing value.

    Raises
    ------
    ValueError
        A value is not a number (e.g. the text ``"abc"``).
    """
    return _formatted(values, decimals, lang, "")


def format_percents(values: Any, decimals: int = 2, lang: str = "id") -> np.ndarray:
    """:func:`format_percent` of a whole column at once (``1,09 %`` / ``1.09 %``, en dash if
    missing); parameters and result as in :func:`format_numbers`."""
    return _formatted(values, decimals, lang, " %")


def _formatted(values: Any, decimals: int, lang: str, suffix: str) -> np.ndarray:
    """The digits come from Python's own float formatting (correctly rounded, as
    :func:`format_number`), called from C over the column's distinct values; the separators
    are then swapped with numpy's vectorised string functions, not per value in Python."""
    check_lang(lang)
    # float() of each value, as format_number (pd.to_numeric would turn an object -0.0 into 0).
    numbers = pd.Series(values, copy=False).to_numpy(dtype=float, na_value=np.nan)
    if not numbers.size:  # numpy's replace cannot size an empty result
        return np.array([], dtype=object)
    # Indonesian: group with "_" first, so the decimal point and the grouping can be swapped
    # without a placeholder ("1_234.5" -> "1_234,5" -> "1.234,5").
    spec = f"{{:{'_' if lang == 'id' else ','}.{decimals}f}}{suffix}"
    # Counts repeat a lot: each distinct value is formatted once. Distinct by its bits, so
    # that -0.0 keeps its "-0".
    codes, distinct = pd.factorize(numbers.view(np.int64))
    texts = np.array(list(map(spec.format, distinct.view(float).tolist())), dtype=str)
    if lang == "id":
        texts = np.strings.replace(np.strings.replace(texts, ".", ","), "_", ".")
    out = texts.astype(object)[codes]
    out[np.isnan(numbers)] = "–"
    return out
