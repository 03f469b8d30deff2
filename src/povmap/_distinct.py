"""Apply a per-value function to a column once per distinct value, not once per row.

A national table has 83,403 rows but far fewer distinct kabupaten and kecamatan names, count
texts or blank markers; the text functions of povmap (name folding, code parsing, number parsing)
are pure, so their result for a value can be computed once and spread to every row holding it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import repeat
from typing import TypeVar

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

T = TypeVar("T")


def map_distinct(func: Callable[[object], T], values: Iterable[object]) -> list[T]:
    """``[func(v) for v in values]``, calling ``func`` once per distinct text value.

    Parameters
    ----------
    func
        A pure function of one cell (its result depends on the value alone).
    values
        The cells: a Series, an array or any iterable.

    Returns
    -------
    The results in the order of ``values``.

    Notes
    -----
    Only ``str`` cells are grouped (``pd.factorize``); any other cell (None, NaN, a number read
    from XLSX) goes through ``func`` by itself, because pandas groups values that compare equal
    (``1``, ``1.0``, ``True``) although their text differs.
    """
    cells = np.fromiter(
        values.to_numpy(dtype=object) if isinstance(values, pd.Series) else values, dtype=object
    )
    is_text = np.fromiter(map(type, cells), dtype=object, count=len(cells)) == str  # noqa: E721
    out = np.empty(len(cells), dtype=object)
    if is_text.any():
        labels, uniques = pd.factorize(cells[is_text])
        results = np.fromiter(map(func, uniques), dtype=object, count=len(uniques))
        out[is_text] = results[labels]
    others = np.flatnonzero(~is_text)
    if len(others):
        out[others] = np.fromiter(map(func, cells[others]), dtype=object, count=len(others))
    return out.tolist()


def text_mask(values: Iterable[object]) -> np.ndarray:
    """Which cells are text (``isinstance(v, str)``), as a boolean array.

    A column of text only (a national layer's codes and names, 83,403 each) is told by one
    scan in C (pandas' ``infer_dtype``, whose ``"string"`` is ``isinstance(v, str)`` of every
    cell); any other column cell by cell.
    """
    if isinstance(values, pd.Series):
        cells = values.to_numpy(dtype=object)
    elif isinstance(values, np.ndarray) and values.dtype == object and values.ndim == 1:
        cells = values
    else:  # any iterable, a cell a value (a tuple cell stays one cell)
        cells = np.fromiter(values, dtype=object)
    if len(cells) and infer_dtype(cells, skipna=False) == "string":
        return np.ones(len(cells), dtype=bool)
    return np.fromiter(map(isinstance, cells, repeat(str)), dtype=bool, count=len(cells))


def string_array(texts: Iterable[str]) -> np.ndarray | None:
    """``texts`` as a NumPy ``StringDType`` array, for the C loops of ``np.strings``.

    None when a text cannot be stored (a lone surrogate, possible only from a notebook): the
    caller then takes its per-value path.
    """
    try:
        return np.array(list(texts), dtype=np.dtypes.StringDType())
    except UnicodeEncodeError:
        return None


def holding_nul(texts: np.ndarray, joined: str | None = None) -> np.ndarray:
    """Which of ``texts`` (an object array of str) hold a NUL character.

    NumPy's string loops drop a NUL at the end of a text (``np.strings.strip`` takes it off,
    ``np.strings.find`` takes ``"\x00"`` for the empty text), where ``str.strip`` keeps it: a
    text holding one takes its caller's per-value path. One search of all the texts joined
    (``joined``, when the caller has it) says whether any does; mostly none.
    """
    if "\x00" not in ("".join(texts) if joined is None else joined):
        return np.zeros(len(texts), dtype=bool)
    return np.fromiter(("\x00" in t for t in texts), dtype=bool, count=len(texts))
