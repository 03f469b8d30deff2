"""P3KE and DTSEN by-name exports, aggregated to counts per desa and desil.

Pemda receive these registers one row per family (``id_keluarga_P3KE``, ``kepala_keluarga``,
``nik``, ``alamat``, ``desil_kesejahteraan`` ...) or one row per person (adds ``id_individu``,
``nama_lengkap``, ``hubungan_dengan_kepala_keluarga``). povmap only ever needs how many people and
families of each desil live in each desa, so that is all that leaves this module: the area columns
and the counts. NIK, names and addresses are read as cells of the sheet but never copied into the
result. People a verification marked as dead, not found or moved away (``status_keberadaan``) are
left out and counted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import PovmapInputError, Text
from ._messages import message
from .i18n import number_text

#: Header spellings of the by-name columns povmap uses (after lower-casing and folding punctuation
#: to underscores). Documented in the README.
BY_NAME_ALIASES: dict[str, tuple[str, ...]] = {
    "desil": (
        "desil_kesejahteraan",
        "desil",
        "desil_nasional",
        "desil_kesejahteraan_nasional",
        "desil_p3ke",
        "desil_dtsen",
        "peringkat_desil",
        "kelompok_desil",
    ),
    "status": (
        "status_keberadaan",
        "keberadaan",
        "status_keberadaan_keluarga",
        "status_keberadaan_individu",
        "status_keberadaan_art",
    ),
    "id_keluarga": (
        "id_keluarga_p3ke",
        "id_keluarga",
        "idkeluarga",
        "id_keluarga_dtsen",
        "id_kk",
        "no_kk",
        "nomor_kk",
        "nkk",
        "id_rumah_tangga",
        "idbdt",
    ),
    "id_individu": ("id_individu", "id_individu_p3ke", "id_art", "idartbdt", "id_individu_dtsen"),
    "hubungan": (
        "hubungan_dengan_kepala_keluarga",
        "hubungan_keluarga",
        "hubungan_dengan_kk",
        "shdk",
        "hub_krt",
        "hubungan_dengan_krt",
        "status_hubungan_keluarga",
    ),
    "anggota": (
        "jumlah_anggota_keluarga",
        "jumlah_art",
        "jml_art",
        "jumlah_anggota",
        "jumlah_anggota_rumah_tangga",
        "jumlah_jiwa",
    ),
}
#: Columns whose presence marks a table as one row per family or person rather than a recap.
_PERSON_MARKERS = (
    "nik",
    "nama_lengkap",
    "kepala_keluarga",
    "nama_kepala_keluarga",
    "id_individu",
    "id_keluarga_p3ke",
    "id_keluarga",
    "no_kk",
    "nomor_kk",
    "id_art",
)
#: ``status_keberadaan`` values (normalised) whose people are no longer in the desa.
EXCLUDED_STATUS = ("meninggal", "tidak ditemukan", "tidak diketahui", "pindah")
_HEAD = re.compile(r"kepala\s*(keluarga|rumah\s*tangga)|^krt$|^kk$")


def is_by_name(keys: list[str]) -> bool:
    """Whether header keys (:func:`povmap.counts._header_key`) are those of a by-name export."""
    has_desil = any(k in keys for k in BY_NAME_ALIASES["desil"])
    return has_desil and any(k in keys for k in _PERSON_MARKERS)


def by_name_columns(keys: list[str]) -> dict[str, int]:
    """Positions of the by-name columns povmap uses; PII columns are never among them."""
    found = {}
    for canonical, aliases in BY_NAME_ALIASES.items():
        for alias in aliases:
            if alias in keys:
                found[canonical] = keys.index(alias)
                break
    return found


# --- what a desil is: one rule for every reader (read_counts, read_register, scale) ---------------
#
# The rule is two full-match regular expressions, written so that Python ``re`` and DuckDB's RE2
# read them alike (ASCII classes only, no case folding, no look-around), and a range check:
# :func:`desil_sql` gives the DuckDB query of :mod:`povmap.scale` the very same rule as
# :func:`desil_of` (tests/test_scale.py and tests/test_p3ke.py feed both the same messy cells).

#: The desil a DTSEN ranking gives (P3KE used 1-4 of them): a whole number in this range.
DESIL_RANGE = (1, 10)
#: Cells that say "no desil" (any case, spaces around): the row is not ranked, which is
#: legitimate; it is left out of the counts and counted as ``tanpa_desil``.
NO_DESIL = ("", "-", "\u2013", "\u2014", "nan", "none", "null", "n/a", "na", "#n/a", "tidak ada")
#: A number in a desil cell: a minus sign, digits, a decimal part after a point or a comma.
DESIL_NUMBER = r"-?[0-9]+(?:[.,][0-9]+)?"
#: White space, the no-break space of spreadsheets included.
_SPACE = r"[ \t\n\r\f\v\xa0]"


def _spelled(word: str) -> str:
    """A pattern for ``word`` in any ASCII case, spaces as any white space, nothing special."""
    return "".join(
        f"[{c.lower()}{c.upper()}]"
        if c.isascii() and c.isalpha()
        else f"{_SPACE}+"
        if c == " "
        else f"[{c}]"
        for c in word
    )


#: A cell without desil: one of :data:`NO_DESIL`, white space around it.
_NO_DESIL_CELL = f"{_SPACE}*(?:{'|'.join(_spelled(w) for w in NO_DESIL)}){_SPACE}*"
#: A cell holding exactly one number (``3``, ``03``, `` 3 ``, ``3.0``, ``Desil 3``, ``desil 4
#: (rentan)``), captured. A cell with two (``1-4``, a date) or none (``abc``) is impossible.
_ONE_NUMBER_CELL = f"[^0-9]*?({DESIL_NUMBER})[^0-9]*"
#: How many of the rows with an impossible desil a message lists.
SHOWN_ROWS = 5


def desil_text(cell: object) -> str:
    """The text of a desil cell as the rule reads it: as written; a missing cell is ``""``.

    A number from a spreadsheet is read as Python writes it (``3``, ``3.0``, ``2.5``), as
    DuckDB writes a number column of a Parquet file.

    Examples
    --------
    >>> desil_text(" Desil 3 "), desil_text(3.0), desil_text(None), desil_text(float("nan"))
    (' Desil 3 ', '3.0', '', '')
    """
    if cell is None or cell is pd.NA or (isinstance(cell, float) and np.isnan(cell)):
        return ""
    return str(cell)


def desil_of(text: str) -> float | None:
    """The desil of a cell's :func:`desil_text`: 1.0-10.0, NaN for no desil, None if impossible.

    A desil is a cell holding exactly one number, a whole number from 1 to 10
    (:data:`DESIL_RANGE`), whatever words surround it; a blank cell or one of :data:`NO_DESIL`
    is no desil; anything else (0, 11, 2.5, -3, ``1-4``, ``abc``, a NIK a shifted row put there)
    is impossible.

    Parameters
    ----------
    text
        The cell as text (:func:`desil_text`).

    Returns
    -------
    float or None
        The desil, NaN for a cell without desil, None for an impossible one.

    Examples
    --------
    >>> [desil_of(v) for v in ("03", " 3 ", "Desil 3", "3.0", "desil 4 (rentan)")]
    [3.0, 3.0, 3.0, 3.0, 4.0]
    >>> [desil_of(v) for v in ("0", "11", "2.5", "-3", "1-4", "abc")]
    [None, None, None, None, None, None]
    >>> desil_of(" - "), desil_of("Tidak  Ada")
    (nan, nan)
    """
    if re.fullmatch(_NO_DESIL_CELL, text):
        return np.nan
    match = re.fullmatch(_ONE_NUMBER_CELL, text)
    if match is None:
        return None
    number = float(match.group(1).replace(",", "."))
    low, high = DESIL_RANGE
    return number if number.is_integer() and low <= number <= high else None


def desil_values(cells: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    """Desil of each cell of a desil column, by the one rule of :func:`desil_of`.

    Parameters
    ----------
    cells
        The column's cells as read (text, numbers, None/NaN for blank).

    Returns
    -------
    desil : numpy.ndarray of float
        1.0-10.0, NaN for a cell without desil (blank, ``-``) and for an impossible one.
    impossible : numpy.ndarray of bool
        The cells that are neither a desil nor without one.
    """
    out = np.full(len(cells), np.nan)
    impossible = np.zeros(len(cells), dtype=bool)
    for i, cell in enumerate(cells):
        value = desil_of(desil_text(cell))
        if value is None:
            impossible[i] = True
        else:
            out[i] = value
    return out, impossible


def desil_sql(column: str) -> tuple[str, str, str]:
    """The rule of :func:`desil_of` as DuckDB SQL, from the same patterns and range.

    In two steps, so that each pattern runs at most once per row: ``read`` selects
    ``_desil_teks`` and ``_desil_angka`` (the one number of the cell) from the column; ``desil``
    and ``impossible`` are computed from those two in a query over that selection. Only a cell
    without a number is matched against :data:`NO_DESIL` (no spelling of "no desil" holds a
    digit, so the verdict is the same as checking that first, as :func:`desil_of` does).

    Parameters
    ----------
    column
        The desil column, quoted as SQL (``"Desil Kesejahteraan"``); any type (cast to text as
        DuckDB writes it).

    Returns
    -------
    (read, desil, impossible)
        SQL: the select-list of the first step; the desil as a DOUBLE (NULL without one); and
        whether the cell is impossible (a BOOLEAN).
    """

    def literal(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    text = f"coalesce(CAST({column} AS VARCHAR), '')"
    # RE2's ``$`` is the end of the text (Python's would allow a final newline): a full match.
    number = f"regexp_extract({text}, {literal('^' + _ONE_NUMBER_CELL + '$')}, 1)"
    read = f"{text} AS _desil_teks, TRY_CAST(replace({number}, ',', '.') AS DOUBLE) AS _desil_angka"
    low, high = DESIL_RANGE
    whole = f"(_desil_angka = floor(_desil_angka) AND _desil_angka BETWEEN {low} AND {high})"
    return (
        read,
        f"CASE WHEN {whole} THEN _desil_angka END",
        f"CASE WHEN {whole} THEN false WHEN _desil_angka IS NOT NULL THEN true "
        f"ELSE NOT regexp_full_match(_desil_teks, {literal(_NO_DESIL_CELL)}) END",
    )


def rows_listed(rows: Sequence[int], n: int) -> Text:
    """``"6, 9, 14, 20, 33 dan 12 lainnya"``: the first rows (:data:`SHOWN_ROWS`) and how many more.

    Parameters
    ----------
    rows
        Sheet row numbers, rising; only the first :data:`SHOWN_ROWS` are shown.
    n
        How many rows there are in all.
    """
    shown = ", ".join(str(int(r)) for r in list(rows)[:SHOWN_ROWS])
    extra = n - min(n, SHOWN_ROWS)
    if extra <= 0:
        return Text(shown, shown)
    more = message("validate.more", extra=number_text(extra))
    return Text(f"{shown} {more}", f"{shown} {more.en}")


def check_desil(
    n: int,
    rows: Sequence[int],
    header: str,
    path: str | Path,
    *,
    allow_invalid: bool,
    total: int | None = None,
) -> None:
    """Stop on rows whose desil is impossible, unless the caller leaves them out.

    The message names the file, the column and the rows, and says what to do; it never shows
    a cell (a shifted row can put a NIK in the desil column).

    Parameters
    ----------
    n
        How many rows hold an impossible desil (:func:`desil_values`).
    rows
        Their sheet row numbers, rising (at least the first :data:`SHOWN_ROWS`).
    header
        The desil column's header as written.
    path
        The file.
    allow_invalid
        Leave such rows out (``--allow-invalid``), counted as ``desil_tidak_sah``.
    total
        How many data rows the file has: when every one is impossible, leaving them out leaves
        nothing, and that stops the run even with ``allow_invalid`` (most likely the wrong
        column was taken for the desil, or every row slid over).

    Raises
    ------
    PovmapInputError
        ``n`` is not 0 and ``allow_invalid`` is false, or every row is impossible.
    """
    if not n:
        return
    fields = {
        "path": path,
        "column": repr(header),
        "n": number_text(n),
        "rows": rows_listed(rows, n),
    }
    if not allow_invalid:
        raise PovmapInputError.from_catalogue("p3ke.impossible_desil", **fields)
    if total is not None and n >= total:
        raise PovmapInputError.from_catalogue("p3ke.every_desil_impossible", **fields)


def _status(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return " ".join(re.sub(r"[^a-z]+", " ", str(value).lower()).split())


def _category(status: str) -> str | None:
    """The :data:`EXCLUDED_STATUS` entry a normalised status falls under, or None."""
    if status.startswith("ditemukan"):
        return None
    return next((s for s in EXCLUDED_STATUS if status.startswith(s) or s in status), None)


def _excluded(status: str) -> bool:
    return _category(status) is not None


def aggregate_by_name(
    body: pd.DataFrame,
    area: pd.DataFrame,
    columns: dict[str, int],
    path: Path,
    *,
    headers: Sequence[str] | None = None,
    allow_invalid: bool = False,
) -> tuple[pd.DataFrame, dict]:
    """Count people and families per desa and desil.

    Parameters
    ----------
    body
        The data rows of the sheet (text cells), indexed by 0-based sheet row.
    area
        The area columns already read from ``body`` (``baris``, ``kode_asli``, ``kode_wilayah``,
        ``nama_*``), one row per ``body`` row.
    columns
        :func:`by_name_columns` of the header row.
    path
        The file, for messages.
    headers
        The header row as written, for messages (by default the canonical names).
    allow_invalid
        Leave out rows whose desil is impossible (:func:`desil_of`), counted as
        ``desil_tidak_sah``, instead of stopping (``--allow-invalid``). Such a row is left out
        whole: its area cells are as unreliable as its desil (a shifted row).

    Returns
    -------
    frame : pandas.DataFrame
        One row per desa: the area columns (first row of the desa; ``baris`` is its first sheet
        row), ``jumlah_desil_d`` (people) and ``jumlah_keluarga_desil_d`` (families) for d = 1
        up to the highest desil present (at least 4).
    left_out : dict
        What was counted and left out (:attr:`povmap.counts.CountsInfo.p3ke`); its notes are
        :func:`notes_of`.

    Raises
    ------
    PovmapInputError
        Rows with an impossible desil, unless ``allow_invalid`` (:func:`check_desil`).
    """
    n = len(body)
    desil, impossible = desil_values(body.iloc[:, columns["desil"]].tolist())
    bad_rows = area["baris"].to_numpy()[impossible].tolist()
    header = headers[columns["desil"]] if headers is not None else "desil"
    check_desil(len(bad_rows), bad_rows, header, path, allow_invalid=allow_invalid, total=n)
    body, area, desil = body[~impossible], area[~impossible], desil[~impossible]

    cells = {name: body.iloc[:, pos].tolist() for name, pos in columns.items()}
    individual = any(m in columns for m in ("id_individu", "hubungan"))
    status = [_status(v) for v in cells.get("status", [""] * len(body))]
    gone = np.array([_excluded(s) for s in status], dtype=bool)
    keep = ~gone & ~np.isnan(desil)

    frame = area.copy()
    frame["_desil"] = desil
    frame["_key"] = _area_keys(area)
    if individual:
        frame["_orang"] = 1.0
        if "id_keluarga" in cells:
            frame["_id"] = [None if _blank(v) else str(v).strip() for v in cells["id_keluarga"]]
        elif "hubungan" in cells:
            frame["_keluarga"] = [float(bool(_HEAD.search(_status(v)))) for v in cells["hubungan"]]
    else:
        frame["_keluarga"] = 1.0
        if "anggota" in cells:
            people = pd.to_numeric(pd.Series(cells["anggota"]), errors="coerce").to_numpy()
            if not np.isnan(people).all():
                frame["_orang"] = people

    out = _per_desa(frame, keep)
    # Counted by category, never by the cell's own text: a shifted row can put an address there.
    left_out = Counter(_category(s) for s, g in zip(status, gone, strict=True) if g)
    info = {
        "jenis": "individu" if individual else "keluarga",
        "baris_data": int(n),
        "dikecualikan": {k: int(v) for k, v in sorted(left_out.items())},
        "tanpa_desil": int((~gone & np.isnan(desil)).sum()),
        "desil_tidak_sah": len(bad_rows),
        "baris_desil_tidak_sah": bad_rows[:SHOWN_ROWS],
    }
    return out, info


def _area_keys(area: pd.DataFrame) -> list[str]:
    """One key per row: the code when it is a code, else the (kabupaten, kecamatan, desa) names.

    A row with a blank or invalid code (``-``, a NIK typed in the code column) is grouped with the
    rows of the same names: with the coded rows of that desa when their names agree on one code,
    else on its own, so that it is matched by name or reported, never credited to another desa.
    """
    from .codes import code_level
    from .names import name_key

    names = [c for c in ("nama_kabupaten", "nama_kecamatan", "nama_desa") if c in area.columns]
    codes = area["kode_wilayah"].tolist() if "kode_wilayah" in area.columns else [None] * len(area)
    codes = [c if isinstance(c, str) and c else None for c in codes]
    named = (
        [
            "nama|" + "|".join(name_key(v) for v in texts)
            for texts in zip(*(area[c].tolist() for c in names), strict=True)
        ]
        if names
        else ["nama|"] * len(area)
    )
    # A kecamatan (or coarser) code names no desa: such rows are grouped by that code and their
    # names, so that the families of different desa of one kecamatan are never pooled.
    named = [
        key if code is None or code_level(code) == "desa" else f"{key}|{code}"
        for code, key in zip(codes, named, strict=True)
    ]
    codes = [c if c is not None and code_level(c) == "desa" else None for c in codes]
    # The code each set of names is written with, where the coded rows agree on one.
    coded: dict[str, set[str]] = {}
    for code, key in zip(codes, named, strict=True):
        if code:
            coded.setdefault(key, set()).add(code)
    return [
        f"kode|{code}"
        if code
        else (f"kode|{next(iter(coded[key]))}" if len(coded.get(key, ())) == 1 else key)
        for code, key in zip(codes, named, strict=True)
    ]


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip()


def _per_desa(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    area_cols = [c for c in frame.columns if not c.startswith("_")]
    first = frame.groupby("_key", sort=False)[area_cols].agg(
        {c: ("min" if c == "baris" else "first") for c in area_cols}
    )
    kept = frame[keep]
    top = int(max(4, kept["_desil"].max() if len(kept) else 4))
    out = first.copy()
    for d in range(1, top + 1):
        group = kept[kept["_desil"] == d].groupby("_key", sort=False)
        if "_orang" in kept.columns:
            out[f"jumlah_desil_{d}"] = group["_orang"].sum(min_count=1).reindex(out.index)
        if "_id" in kept.columns:
            out[f"jumlah_keluarga_desil_{d}"] = group["_id"].nunique().reindex(out.index)
        elif "_keluarga" in kept.columns:
            out[f"jumlah_keluarga_desil_{d}"] = group["_keluarga"].sum().reindex(out.index)
    counts = [c for c in out.columns if c.startswith("jumlah_")]
    out[counts] = out[counts].astype(float).fillna(0.0)
    return out.sort_values("baris").reset_index(drop=True)


def notes_of(info: dict) -> list[Text]:
    """The report's notes on a by-name register: what was counted and what was left out.

    Parameters
    ----------
    info
        The ``left_out`` dict of :func:`aggregate_by_name` (``jenis``, ``baris_data``,
        ``dikecualikan``, ``tanpa_desil``, ``desil_tidak_sah``, ``baris_desil_tidak_sah``).

    Returns
    -------
    list of Text
        Bilingual notes for the join report and the terminal.
    """
    notes = [
        message("p3ke.ke_dtsen_name_table", jenis=info["jenis"], baris_data=info["baris_data"])
    ]
    if info["dikecualikan"]:
        listed = ", ".join(f"{k}: {v}" for k, v in info["dikecualikan"].items())
        notes.append(message("p3ke.rows_not_counted_status", listed=listed))
    if info["tanpa_desil"]:
        notes.append(message("p3ke.rows_without_desil_not", tanpa_desil=info["tanpa_desil"]))
    notes.extend(desil_notes(info))
    return notes


def desil_notes(info: dict) -> list[Text]:
    """The note on rows left out for an impossible desil (``--allow-invalid``), if any.

    Parameters
    ----------
    info
        What a reader left out: ``desil_tidak_sah`` (how many rows) and
        ``baris_desil_tidak_sah`` (the first of them).

    Returns
    -------
    list of Text
        No note, or one naming how many rows and the first of them (never their cells).
    """
    n = info.get("desil_tidak_sah", 0)
    if not n:
        return []
    rows = rows_listed(info.get("baris_desil_tidak_sah", []), n)
    return [message("p3ke.desil_tidak_sah", n=number_text(n), rows=rows)]
