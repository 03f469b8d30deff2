"""Checks on the values of a counts table: what cannot be true of a count of people.

Each problem is a plain dict (``jenis``, ``baris``, ``kolom``, ``nilai``, ``pesan``) so that it goes
into the join report as it is. :func:`raise_or_keep` stops the run with a message naming the rows,
unless the caller chose to continue, in which case the problems are only reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._errors import PovmapInputError, Text, in_lang
from ._messages import message, text
from .i18n import format_number

#: Problem kinds that stop a run unless the user opts to continue (``--allow-invalid``).
BLOCKING = ("negatif", "melebihi_penduduk", "bukan_bilangan_bulat", "ganda_berbeda")
_SHOWN = 10


def _denominator(column: str, columns: list[str]) -> str | None:
    """The column a count cannot exceed: families by families, people by population."""
    if column in ("jumlah_penduduk", "jumlah_keluarga"):
        return None
    if "keluarga" in column and "jumlah_keluarga" in columns:
        return "jumlah_keluarga"
    return "jumlah_penduduk" if "jumlah_penduduk" in columns else None


def check_values(counts: pd.DataFrame, count_columns: list[str]) -> list[dict]:
    """Negative counts, counts above their population, and counts that are not whole numbers.

    Parameters
    ----------
    counts
        Canonical counts table (:func:`povmap.read_counts`), with ``baris``.
    count_columns
        The count columns to check.

    Returns
    -------
    One problem dict per offending cell, in row order.
    """
    problems: list[dict] = []
    rows = counts["baris"].to_numpy()
    for column in count_columns:
        values = counts[column].to_numpy(dtype=float)
        known = ~np.isnan(values)
        for i in np.flatnonzero(known & (values < 0)):
            problems.append(
                _problem(
                    "negatif",
                    rows[i],
                    column,
                    values[i],
                    message("validate.negative", column=column, value=_fmt(values[i])),
                )
            )
        for i in np.flatnonzero(known & (values != np.round(values))):
            problems.append(
                _problem(
                    "bukan_bilangan_bulat",
                    rows[i],
                    column,
                    values[i],
                    message(
                        "validate.whole_number_counts_people", column=column, value=_fmt(values[i])
                    ),
                )
            )
        cap = _denominator(column, count_columns)
        if cap:
            limit = counts[cap].to_numpy(dtype=float)
            # A population of 0 in recap sheets means "not filled in": no rate, no check.
            over = known & ~np.isnan(limit) & (limit > 0) & (values > limit)
            for i in np.flatnonzero(over):
                problems.append(
                    _problem(
                        "melebihi_penduduk",
                        rows[i],
                        column,
                        values[i],
                        message(
                            "validate.larger_than",
                            column=column,
                            value=_fmt(values[i]),
                            cap=cap,
                            value2=_fmt(limit[i]),
                        ),
                    )
                )
    return sorted(problems, key=lambda p: p["baris"][0])


def duplicate_problem(rows: list[int], area: str, same_values: bool) -> dict:
    """The problem of one area given by several rows."""
    if same_values:
        return _problem(
            "ganda_sama",
            rows,
            None,
            None,
            message("validate.area_appears_rows_same", area=area, value=_rows(rows)),
        )
    return _problem(
        "ganda_berbeda",
        rows,
        None,
        None,
        message("validate.area_appears_rows_different", area=area, value=_rows(rows)),
    )


def raise_or_keep(problems: list[dict], *, allow_invalid: bool, source: str) -> None:
    """Stop with a message naming the rows, unless ``allow_invalid``.

    Raises
    ------
    PovmapInputError
        If any problem is of a :data:`BLOCKING` kind and ``allow_invalid`` is false.
    """
    blocking = [p for p in problems if p["jenis"] in BLOCKING]
    if not blocking or allow_invalid:
        return
    shown, extra = blocking[:_SHOWN], len(blocking) - _SHOWN

    def listed(lang: str) -> str:
        row = text("word.row", lang)
        lines = [f"  - {row} {_rows(p['baris'])}: {in_lang(p['pesan'], lang)}" for p in shown]
        more = text("validate.more", lang, extra=extra)
        return "\n".join(lines + ([f"  ... {more}"] if extra > 0 else []))

    raise PovmapInputError.from_catalogue(
        "validate.impossible",
        source=source,
        n_blocking=len(blocking),
        problems=Text(listed("id"), listed("en")),
    )


def _problem(
    kind: str,
    rows: int | list[int] | tuple[int, ...],
    column: str | None,
    value: float | None,
    message: Text,
) -> dict:
    listed = [int(r) for r in rows] if isinstance(rows, list | tuple) else [int(rows)]
    return {
        "jenis": kind,
        "baris": listed,
        "kolom": column,
        "nilai": None if value is None else float(value),
        "pesan": message,
    }


def _rows(rows: list[int]) -> str:
    return ", ".join(str(r) for r in rows)


def _fmt(value: float) -> str:
    return format_number(value, 0 if float(value).is_integer() else 2)
