"""Checks on the values of a counts table: what cannot be true of a count of people.

Each problem is a plain dict (``jenis``, ``baris``, ``kolom``, ``nilai``, ``pesan``) so that it goes
into the join report as it is. :func:`raise_or_keep` stops the run with a message naming the rows,
unless the caller chose to continue, in which case the problems are only reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._errors import PovmapInputError, Text, in_lang
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
            problems.append(_problem("negatif", rows[i], column, values[i],
                                     Text(f"{column} bernilai negatif ({_fmt(values[i])}).",
                                          en=f"{column} is negative ({_fmt(values[i])}).")))
        for i in np.flatnonzero(known & (values != np.round(values))):
            problems.append(_problem(
                "bukan_bilangan_bulat", rows[i], column, values[i],
                Text(f"{column} = {_fmt(values[i])} bukan bilangan bulat; jumlah orang atau "
                     "keluarga harus bulat (periksa pemisah ribuan: 1.234, bukan 1,234).",
                     en=f"{column} = {_fmt(values[i])} is not a whole number; counts of people "
                        "or families are whole (check the thousands separator: 1.234, "
                        "not 1,234).")))
        cap = _denominator(column, count_columns)
        if cap:
            limit = counts[cap].to_numpy(dtype=float)
            # A population of 0 in recap sheets means "not filled in": no rate, no check.
            over = known & ~np.isnan(limit) & (limit > 0) & (values > limit)
            for i in np.flatnonzero(over):
                problems.append(_problem(
                    "melebihi_penduduk", rows[i], column, values[i],
                    Text(f"{column} ({_fmt(values[i])}) lebih besar dari {cap} "
                         f"({_fmt(limit[i])}).",
                         en=f"{column} ({_fmt(values[i])}) is larger than {cap} "
                            f"({_fmt(limit[i])}).")))
    return sorted(problems, key=lambda p: p["baris"][0])


def duplicate_problem(rows: list[int], area: str, same_values: bool) -> dict:
    """The problem of one area given by several rows."""
    if same_values:
        return _problem("ganda_sama", rows, None, None,
                        Text(f"Wilayah {area} muncul di baris {_rows(rows)} dengan nilai sama; "
                             "hanya baris pertama dipakai.",
                             en=f"Area {area} appears in rows {_rows(rows)} with the same "
                                "values; only the first row is used."))
    return _problem("ganda_berbeda", rows, None, None,
                    Text(f"Wilayah {area} muncul di baris {_rows(rows)} dengan nilai berbeda; "
                         "hanya baris pertama dipakai bila dilanjutkan.",
                         en=f"Area {area} appears in rows {_rows(rows)} with different values; "
                            "only the first row is used if you continue."))


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

    def listed(row: str, more: str, lang: str) -> str:
        lines = [f"  - {row} {_rows(p['baris'])}: {in_lang(p['pesan'], lang)}" for p in shown]
        return "\n".join(lines + ([f"  ... {more}"] if extra > 0 else []))

    raise PovmapInputError(
        f"{source}: {len(blocking)} nilai tidak mungkin benar:\n"
        f"{listed('baris', f'dan {extra} lainnya', 'id')}\n"
        "Perbaiki tabelnya, atau jalankan dengan --allow-invalid untuk melanjutkan; setiap masalah "
        "lalu dicatat di laporan (problems).",
        en=f"{source}: {len(blocking)} values cannot be true:\n"
           f"{listed('row', f'and {extra} more', 'en')}\n"
           "Fix the table, or run with --allow-invalid to continue; every problem is then listed "
           "in the report (problems)."
    )


def _problem(kind: str, rows: int | list[int] | tuple[int, ...], column: str | None,
             value: float | None, message: Text) -> dict:
    listed = [int(r) for r in rows] if isinstance(rows, list | tuple) else [int(rows)]
    return {"jenis": kind, "baris": listed, "kolom": column,
            "nilai": None if value is None else float(value), "pesan": message}


def _rows(rows: list[int]) -> str:
    return ", ".join(str(r) for r in rows)


def _fmt(value: float) -> str:
    return format_number(value, 0 if float(value).is_integer() else 2)
