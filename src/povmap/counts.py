"""Read counts tables (CSV or XLSX) into canonical columns.

Headers are recognised loosely (see :data:`HEADER_ALIASES`); ``column_map`` overrides. Numbers are
read the Indonesian way (``1.234`` is one thousand two hundred and thirty-four, ``2,5`` is two and a
half). Columns that identify people (NIK, names, addresses) are never read into the result.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from ._distinct import holding_nul, map_distinct, string_array, text_mask
from ._errors import PovmapInputError, Text, reason
from ._io import no_cycle_collection
from ._messages import message
from ._privacy import mask
from .codes import normalize_code, normalize_codes
from .i18n import number_text

#: Count columns povmap knows, in the order they are shown.
COUNT_COLUMNS = (
    "jumlah_miskin_ekstrem",
    "jumlah_keluarga_miskin_ekstrem",
    *(f"jumlah_desil_{d}" for d in range(1, 11)),
    *(f"jumlah_keluarga_desil_{d}" for d in range(1, 11)),
    "jumlah_penduduk",
    "jumlah_keluarga",
)
#: Counts never suppressed: population totals are published by BPS and Dukcapil anyway.
PUBLIC_COUNTS = ("jumlah_penduduk", "jumlah_keluarga")


@dataclass(frozen=True)
class CountsInfo:
    """What :func:`read_counts` found in a table: the ``source`` of a :class:`CountsTable`.

    Attributes
    ----------
    path
        The file read.
    header_row
        Spreadsheet row number (1-based) of the header; None for a by-name register whose rows
        were aggregated.
    columns
        ``{canonical column: header as written}`` of every column used.
    total_rows, footer_rows
        Spreadsheet row numbers of total rows ("JUMLAH") and of the text under the table
        (place, date, signature), neither of them data.
    notes
        Bilingual sentences (:class:`povmap._errors.Text`) for the join report and the terminal.
    p3ke
        For a P3KE/DTSEN by-name export, what aggregating it counted and left out:
        ``jenis`` (``"keluarga"`` or ``"individu"``), ``baris_data``, ``dikecualikan``
        (``{status: rows}``), ``tanpa_desil`` (rows without desil), ``desil_tidak_sah`` (rows
        with an impossible desil left out, ``allow_invalid``) and ``baris_desil_tidak_sah``
        (the first of them); None for a table of counts.
    """

    path: str
    header_row: int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    total_rows: list[int] = field(default_factory=list)
    footer_rows: list[int] = field(default_factory=list)
    notes: list[Text] = field(default_factory=list)
    p3ke: dict | None = None

    @property
    def by_name(self) -> bool:
        """Whether the table was a by-name register (its values may be personal data)."""
        return self.p3ke is not None


@dataclass(frozen=True)
class CountsTable:
    """A counts table as :func:`read_counts` returns it: the rows and how they were read.

    Attributes
    ----------
    frame
        One row per area: ``baris``, ``kode_wilayah``, ``kode_asli``, the name columns and the
        count columns found (see :func:`read_counts`).
    source
        What reading found (:class:`CountsInfo`): the file, the header, the rows that are not
        data, the notes and, for a by-name register, what was left out.
    """

    frame: pd.DataFrame
    source: CountsInfo


def _header_key(header: object) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(header).strip().lower()).strip("_")


#: Words offices abbreviate or spell two ways in headers, folded before headers are compared.
_HEADER_WORDS = {"jml": "jumlah", "jmlh": "jumlah", "ekstrim": "ekstrem"}


def _alias_key(header: object) -> str:
    """:func:`_header_key` with abbreviations folded (``Jml. Jiwa`` -> ``jumlah_jiwa``)."""
    return "_".join(_HEADER_WORDS.get(w, w) for w in _header_key(header).split("_"))


def load_header_aliases(path: str | os.PathLike | None = None) -> dict[str, tuple[str, ...]]:
    """Read the header alias table: which header spellings mean which canonical column.

    Parameters
    ----------
    path
        A CSV with columns ``kolom`` (canonical column; ``{d}`` stands for desil 1-10) and
        ``judul`` (a header as written); lines starting with ``#`` are comments. By default the
        table shipped in the package (``povmap/data/header_aliases.csv``, listed in the README).

    Returns
    -------
    ``{canonical: (key, ...)}`` in the file's order, each key as :func:`_alias_key` folds it.
    """
    from importlib.resources import files

    text = (
        Path(path).read_text(encoding="utf-8")
        if path is not None
        else files("povmap").joinpath("data", "header_aliases.csv").read_text(encoding="utf-8")
    )
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    aliases: dict[str, list[str]] = {}
    for row in rows:
        column, header = row["kolom"].strip(), row["judul"].strip()
        for d in range(1, 11) if "{d}" in column else (None,):
            canonical = column if d is None else column.replace("{d}", str(d))
            key = _alias_key(header if d is None else header.replace("{d}", str(d)))
            if key not in aliases.setdefault(canonical, []):
                aliases[canonical].append(key)
    return {canonical: tuple(keys) for canonical, keys in aliases.items()}


#: Header spellings recognised for each canonical column, after :func:`_alias_key`: the data in
#: ``povmap/data/header_aliases.csv`` (documented in the README).
HEADER_ALIASES: dict[str, tuple[str, ...]] = load_header_aliases()

_MISSING = {"", "-", "–", "—", "nan", "none", "null", "n/a", "na", "#n/a", "tidak ada"}
_ID_THOUSANDS = re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?")
_ID_DECIMAL = re.compile(r"[+-]?\d+,\d+")
_PLAIN = re.compile(r"[+-]?\d+(\.\d+)?")


def parse_number(value: object) -> float:
    """Parse a number written the Indonesian way; NaN for blanks and dashes.

    ``1.234`` -> 1234, ``1.234.567`` -> 1234567, ``2,5`` -> 2.5, ``1.234,5`` -> 1234.5, ``-`` ->
    NaN. Numbers already stored as numbers (XLSX cells) are returned unchanged.

    Raises
    ------
    ValueError
        If the text is not a number.
    """
    if value is None:
        return float("nan")
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return float(value)
    if str(value).strip().lower() in _MISSING:
        return float("nan")
    # Non-breaking spaces and the typographic minus come from word processors and web exports.
    text = str(value).strip().replace("\u00a0", "").replace(" ", "").replace("\u2212", "-")
    if _ID_THOUSANDS.fullmatch(text):
        return float(text.replace(".", "").replace(",", "."))
    if _ID_DECIMAL.fullmatch(text):
        return float(text.replace(",", "."))
    if _PLAIN.fullmatch(text):
        return float(text)
    raise ValueError(f"bukan angka: {value!r}")


def read_table(path: str | os.PathLike, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX file as text cells, without interpreting any row as the header.

    CSV files may use comma, semicolon or tab, in UTF-8 (with or without BOM) or Windows-1252.
    """
    path = Path(path)
    if not path.exists():
        raise PovmapInputError.from_catalogue("counts.table_file_not_found", path=path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return _read_excel(path, sheet)
    if suffix in (".csv", ".txt", ".tsv"):
        # Its rows (a list each) are made and freed within the pause.
        with no_cycle_collection():
            return _read_csv(path)
    raise PovmapInputError.from_catalogue("counts.unknown_file_type_csv", path=path, suffix=suffix)


def _read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):  # latin-1 decodes any byte
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    delimiter = _delimiter(text)
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise PovmapInputError.from_catalogue(
            "counts.cannot_read_csv", path=path, reason=reason(exc)
        ) from exc
    # Title rows have fewer cells than the table under them: pad every row to the widest
    # (only the short ones: a national table's 83,403 rows are all as wide).
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    width = int(lengths.max(initial=0))
    for i in np.flatnonzero(lengths < width).tolist():
        rows[i] = rows[i] + [""] * (width - len(rows[i]))
    return pd.DataFrame(rows, dtype=object)


def _delimiter(text: str) -> str:
    """The delimiter that splits most lines into the same number (> 1) of cells.

    :class:`csv.Sniffer` gives up on title rows above the table, and counting characters is
    fooled by decimal commas (``2,5``) in a semicolon file; consistency of the split is not.
    """
    lines = [line for line in text[:50000].splitlines()[:200] if line.strip()]
    best, best_score = ",", (0.0, 0)
    for delimiter in (";", ",", "\t", "|"):
        widths = [len(r) for r in csv.reader(lines, delimiter=delimiter)]
        if not widths:
            continue
        modal = max(set(widths), key=widths.count)
        if modal < 2:
            continue
        score = (widths.count(modal) / len(widths), modal)
        if score > best_score:
            best, best_score = delimiter, score
    return best


#: Limits on an XLSX archive, checked before it is opened (a zip bomb would fill the memory). A
#: real sheet compresses about 10 times; a 100,000-family register is a few hundred megabytes.
XLSX_MAX_BYTES = 1 << 30
XLSX_MAX_RATIO = 100
XLSX_MAX_MEMBERS = 10_000
#: What a damaged XLSX raises while it is read: cut XML, a broken compressed stream or checksum,
#: a part the workbook lists but the archive lacks.
_DAMAGED = (ElementTree.ParseError, zipfile.BadZipFile, zlib.error, EOFError, KeyError)


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    _check_archive(path)
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:
        if isinstance(exc, _DAMAGED) and _starts_as_zip(path):
            raise _damaged(path, exc) from exc
        # An .xls is named as such; any other file gets the reason its content gave.
        why = (
            message("counts.hint_xls")
            if path.suffix.lower() == ".xls"
            else reason(exc, message("counts.hint_xlsx"))
        )
        raise PovmapInputError.from_catalogue(
            "counts.cannot_read_xlsx", path=path, reason=why
        ) from exc
    with book:
        states = {ws.title: ws.sheet_state for ws in book.book.worksheets}
        missing = _missing_sheets(path)
        if missing or not states:
            raise _damaged(path, KeyError(", ".join(missing) or "-"))
        try:
            return pd.read_excel(
                book, sheet_name=_sheet_name(path, states, sheet), header=None, dtype=object
            )
        except _DAMAGED as exc:
            raise _damaged(path, exc) from exc


def _starts_as_zip(path: Path) -> bool:
    """Whether the file begins as a zip (an XLSX, perhaps cut short), not an .xls or a CSV."""
    with path.open("rb") as stream:
        return stream.read(4) == b"PK\x03\x04"


def _check_archive(path: Path) -> None:
    """Refuse an XLSX whose archive would unpack to more than povmap should hold in memory.

    Only the sizes the archive declares are read (nothing is unpacked), so a zip bomb is refused
    in milliseconds. Reading later never yields more than the declared sizes: Python's zipfile stops
    there and a stream that lies about its size fails its checksum as a damaged file.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # not a zip at all: openpyxl's error says so, with the hint for renamed files
    total = sum(m.file_size for m in members)
    ratio = max(
        ((m.file_size / max(m.compress_size, 1), m) for m in members if m.file_size > 10 * 2**20),
        default=(0.0, None),
        key=lambda r: r[0],
    )
    if len(members) <= XLSX_MAX_MEMBERS and total <= XLSX_MAX_BYTES and ratio[0] <= XLSX_MAX_RATIO:
        return
    squeezed = (
        message("counts.xlsx_squeezed", member=ratio[1].filename, ratio=number_text(ratio[0]))
        if ratio[1]
        else Text("")
    )
    raise PovmapInputError.from_catalogue(
        "counts.xlsx_bomb",
        path=path,
        size=number_text(total / 2**20),
        parts=len(members),
        squeezed=squeezed,
    )


def _missing_sheets(path: Path) -> list[str]:
    """Sheets the workbook lists whose part is missing from the archive (openpyxl skips them)."""
    from openpyxl.reader.excel import ExcelReader

    reader = ExcelReader(path, read_only=True, keep_links=False)
    try:
        reader.read_manifest()
        reader.read_workbook()
        return [
            sheet.name
            for sheet, rel in reader.parser.find_sheets()
            if rel.target not in reader.valid_files
        ]
    except Exception:  # noqa: BLE001 - only a better message is at stake; reading goes on
        return []
    finally:
        reader.archive.close()


def _damaged(path: Path, exc: BaseException) -> PovmapInputError:
    """The message for an XLSX whose archive opens but whose content is damaged."""
    if isinstance(exc, ElementTree.ParseError):
        what = message("counts.damaged_xml")
    elif isinstance(exc, KeyError):
        what = message("counts.damaged_part_missing", part=exc.args[0])
    else:
        what = message("counts.damaged_compressed")
    return PovmapInputError.from_catalogue("counts.xlsx_file_damaged_may", path=path, what=what)


def _sheet_name(path: Path, states: dict[str, str], sheet: str | int | None) -> str:
    """The sheet to read: by name (a sheet named "2024" before the 2025th index), by index from 0,
    or by default the first sheet a user sees (hidden sheets hold raw data or lists)."""
    names = list(states)
    if sheet is None:
        return next((n for n in names if states[n] == "visible"), names[0])
    if str(sheet) in names:
        return str(sheet)
    folded = {n.strip().lower(): n for n in names}
    if str(sheet).strip().lower() in folded:
        return folded[str(sheet).strip().lower()]
    if isinstance(sheet, int) and 0 <= sheet < len(names):
        return names[sheet]
    raise PovmapInputError.from_catalogue(
        "counts.sheet_does_not_exist", path=path, sheet=sheet, names=", ".join(names)
    )


_KEMENDAGRI_CODE = re.compile(r"^(kode|kd)(_\w+)?_k[e]?m[e]?n?dagri(_|$)")


def recognise_headers(
    headers: Sequence[object], column_map: dict[str, str] | None = None
) -> dict[str, int]:
    """Map canonical column names to positions in ``headers``.

    ``column_map`` (``{canonical: header}``) wins over the aliases; names are compared after
    lower-casing and folding punctuation and spaces to underscores.
    """
    keys = [_alias_key(h) for h in headers]
    found: dict[str, int] = {}
    for canonical, header in (column_map or {}).items():
        if canonical not in HEADER_ALIASES:
            raise PovmapInputError.from_catalogue(
                "counts.column_map_not_canonical",
                canonical=canonical,
                header_aliases=", ".join(HEADER_ALIASES),
            )
        if _alias_key(header) not in keys:
            raise PovmapInputError.from_catalogue(
                "counts.column_map_column_not",
                header=header,
                value=", ".join(str(h) for h in headers),
            )
        found[canonical] = keys.index(_alias_key(header))
    if "kode_wilayah" not in found:
        # A table with both numberings ("Kode" or "Kode BPS" beside "Kode Kemendagri"): the
        # header that says Kemendagri wins over the plain "Kode".
        kemendagri = [i for i, k in enumerate(keys) if _KEMENDAGRI_CODE.search(k)]
        if kemendagri:
            found["kode_wilayah"] = kemendagri[0]
    taken = set(found.values())
    for canonical, aliases in HEADER_ALIASES.items():
        if canonical in found:
            continue
        for alias in aliases:
            if alias in keys and keys.index(alias) not in taken:
                found[canonical] = keys.index(alias)
                taken.add(found[canonical])
                break
    return found


#: A cell that makes its row a total, not data: "JUMLAH", "Total", "Jumlah Kecamatan X".
TOTAL_ROW = re.compile(
    r"^\s*(jumlah|jml|total|sub\s*-?\s*total|grand\s*total|rekapitulasi)\b", re.IGNORECASE
)
_NAME_COLUMNS = ("nama_provinsi", "nama_kabupaten", "nama_kecamatan", "nama_desa")


def read_counts(
    path: str | os.PathLike,
    *,
    sheet: str | int | None = None,
    column_map: dict[str, str] | None = None,
    allow_invalid: bool = False,
) -> CountsTable:
    """Read a counts table into canonical columns, one row per data row of the file.

    Title rows above the header, a second header row under merged cells ("Jumlah" over "KK" and
    "Jiwa"), a row of column numbers, blank rows and total rows ("JUMLAH", "TOTAL", "Jumlah
    Kecamatan ...") are recognised and are not data. Kecamatan names written once per group (merged
    cells) are carried down. A P3KE/DTSEN by-name export (one row per family or person) is
    aggregated to counts per desa and desil by :func:`povmap.p3ke.aggregate_by_name`.

    Parameters
    ----------
    path
        CSV or XLSX file.
    sheet
        XLSX sheet name or index (default: the first).
    column_map
        ``{canonical: header}`` for headers povmap does not recognise by itself.
    allow_invalid
        For a by-name register: leave out rows whose desil is impossible (not a whole number
        1 to 10, :func:`povmap.p3ke.desil_of`), counted as ``desil_tidak_sah`` and noted,
        instead of stopping (``--allow-invalid``).

    Returns
    -------
    CountsTable
        ``.frame``: a DataFrame with ``baris`` (the row number a spreadsheet shows),
        ``kode_wilayah`` (dotted Kemendagri form, None if absent or not a code), ``kode_asli``
        (as written), the name columns found and the count columns found (floats, NaN where
        blank). ``.source`` (:class:`CountsInfo`): the header row, the columns used, the total
        and footer rows skipped, notes for the join report and, for a by-name register, what
        was left out.

    Raises
    ------
    PovmapInputError
        If the file cannot be read, no header is recognised, a ``column_map`` header is absent,
        no data row is left, a number cannot be read (the message names row and column), or
        (without ``allow_invalid``) rows of a by-name register hold an impossible desil (the
        message names the file, the column and the rows, never the cells).
    """
    path = Path(path)
    table = read_table(path, sheet=sheet)
    header = _find_header(table, column_map, path)
    body = table.iloc[header.first_data :]
    # Which cells are numeric texts, decided once for the three row checks below.
    numeric = _numeric_cells(body)
    blank = _blank_rows(body, numeric)
    body, numeric = body[~blank], numeric[~blank]
    totals = _total_rows(
        body,
        None if header.by_name is None else list(header.columns.values()),
        numeric,
        columns=header.columns,
    )
    body, numeric = body[~totals], numeric[~totals.to_numpy()]
    footer = (
        _footer_rows(body, header.columns)
        if header.by_name is None
        else pd.Series(False, index=body.index)
    )
    body, numeric = body[~footer], numeric[~footer.to_numpy()]
    if body.empty:
        raise PovmapInputError.from_catalogue(
            "counts.no_data_rows_below", path=path, value=header.row + 1
        )
    area = _area_columns(body, header.columns, merged_cells=header.by_name is None, numeric=numeric)
    footer_rows = [int(i) + 1 for i in footer[footer].index]
    info = CountsInfo(
        path=str(path),
        header_row=header.row + 1,
        columns=header.names,
        total_rows=[int(i) + 1 for i in totals[totals].index],
        footer_rows=footer_rows,
    )
    if header.by_name is not None:
        from .p3ke import aggregate_by_name, notes_of

        out, left_out = aggregate_by_name(
            body, area, header.by_name, path, headers=header.texts, allow_invalid=allow_invalid
        )
        notes = [*_total_notes(info.total_rows), *notes_of(left_out)]
        return CountsTable(out, replace(info, p3ke=left_out, notes=notes))
    out = area
    for canonical, position in header.columns.items():
        if canonical in COUNT_COLUMNS:
            out[canonical] = _parse_column(
                body.iloc[:, position].tolist(), body.index, header.names[canonical], path
            )
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        _check_formulas(out, header, path, sheet)
    out = out[~_empty_rows(out)].reset_index(drop=True)
    notes = [*_total_notes(info.total_rows), *_footer_notes(footer_rows)]
    return CountsTable(out, replace(info, notes=notes))


#: Text of the lines under a recap that are not data: the place and date, who signs (title, NIP),
#: the source. A date is written "15 Maret 2024".
FOOTER_TEXT = re.compile(
    r"\b(nip|nrp|nik|kepala|mengetahui|diketahui|menyetujui|disetujui|sumber|keterangan|catatan|"
    r"ket|plt|plh|sekretaris|sekda|kadis|kabid|camat|bupati|wali\s?kota|pejabat|pembina|penata|"
    r"a\.?\s?n|ttd|dicetak|dibuat|disahkan|tanggal|tgl)\b\.?"
    r"|\b\d{1,2}\s+(januari|februari|maret|april|mei|juni|juli|agustus|september|oktober|"
    r"november|desember)\s+\d{4}\b"
    r"|\b\d{1,2}[-/]\d{1,2}[-/]\d{2,4}\b",
    re.IGNORECASE,
)


def _footer_rows(body: pd.DataFrame, columns: dict[str, int]) -> pd.Series:
    """The block of text rows under the table: place and date, a signature, the source.

    Among the rows at the bottom with no number (and no "-") in any count column and no area code,
    the block starts at the first that is plainly not data: text in a count column ("Kandangan,
    15 Maret 2024" under "Jumlah KK") or a line such as "Kepala Dinas Sosial", "NIP ...",
    "Sumber: ...". Rows above it without numbers (a desa whose counts are blank) stay data.
    """
    counts = [p for c, p in columns.items() if c in COUNT_COLUMNS]
    code = columns.get("kode_wilayah")
    flags = pd.Series(False, index=body.index)
    start = None
    for position in range(len(body) - 1, -1, -1) if counts else ():
        row = body.iloc[position].tolist()
        cells = [row[p] for p in counts]
        if any(_is_number(c) or _missing_marker(c) for c in cells) or (
            code is not None and normalize_code(row[code]) is not None
        ):
            break
        in_counts = any(not _is_blank(c) for c in cells)  # text where a number belongs
        if in_counts or any(FOOTER_TEXT.search(str(c)) for c in row if not _is_blank(c)):
            start = position
    if start is not None:
        flags.iloc[start:] = True
    return flags


def _is_number(value: object) -> bool:
    """A count: a number below :data:`COUNT_LIMIT` (a NIP such as 19700101 199803 1 001 is not)."""
    try:
        number = parse_number(value)
    except ValueError:
        return False
    return not np.isnan(number) and abs(number) < COUNT_LIMIT


def _missing_marker(value: object) -> bool:
    """A cell that says "no data" on purpose ("-", "n/a"), as opposed to an empty one."""
    return isinstance(value, str) and bool(value.strip()) and value.strip().lower() in _MISSING


def _footer_notes(rows: list[int]) -> list[Text]:
    if not rows:
        return []
    listed = f"{rows[0]}-{rows[-1]}" if len(rows) > 1 else str(rows[0])
    # The rows are named by number only: a signature line holds a person's name.
    return [message("counts.text_rows_below_table", n_rows=len(rows), listed=listed)]


def _total_notes(rows: list[int]) -> list[Text]:
    """The note that total rows were skipped, naming them, so that a skipped row is never
    silent."""
    if not rows:
        return []
    from .p3ke import rows_listed

    listed = rows_listed(rows, len(rows))
    return [message("counts.total_rows_skipped", n_rows=len(rows), listed=listed)]


def _check_formulas(
    out: pd.DataFrame, header: _Header, path: Path, sheet: str | int | None
) -> None:
    """Refuse formula cells that have no computed value.

    A workbook written by a program (openpyxl, some app exports) stores formulas without their
    results until Excel or LibreOffice saves it; they read as blanks and would be mapped as "no
    data". Only blank count cells are checked, so ordinary tables are read once.
    """
    columns = [c for c in header.columns if c in COUNT_COLUMNS and c in out.columns]
    blank = out[columns].isna().to_numpy()
    if not blank.any():
        return
    cells = {
        (int(out["baris"].iloc[i]), header.columns[columns[j]] + 1): columns[j]
        for i, j in zip(*np.nonzero(blank), strict=True)
    }
    found = _formula_cells(path, sheet, cells)
    if found:
        (row, column), formula = next(iter(found.items()))
        raise PovmapInputError.from_catalogue(
            "counts.row_column_cell_holds",
            path=path,
            row=row,
            names=header.names[cells[row, column]],
            formula=formula,
            n_found=len(found),
        )


def _formula_cells(
    path: Path, sheet: str | int | None, cells: dict[tuple[int, int], str]
) -> dict[tuple[int, int], str]:
    """Which of ``cells`` ((row, column), 1-based) hold a formula, with the formula text."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        ws = book[_sheet_name(path, {w.title: w.sheet_state for w in book.worksheets}, sheet)]
        by_row: dict[int, list[int]] = {}
        for r, c in cells:
            by_row.setdefault(r, []).append(c)
        found = {}
        for number, row in enumerate(
            ws.iter_rows(min_row=min(by_row), max_row=max(by_row), values_only=True),
            start=min(by_row),
        ):
            for c in by_row.get(number, ()):
                value = row[c - 1] if c <= len(row) else None
                if isinstance(value, str) and value.startswith("="):
                    found[number, c] = value
        return found
    finally:
        book.close()


def _blank_rows(body: pd.DataFrame, numeric: np.ndarray | None = None) -> np.ndarray:
    """Rows whose every cell is blank; ``numeric``: :func:`_numeric_cells` of ``body`` when
    the caller has it."""
    numeric = _numeric_cells(body) if numeric is None else numeric
    blank = np.ones(len(body), dtype=bool)
    for position in range(body.shape[1]):
        blank &= _cell_flags(_is_blank, body.iloc[:, position], numeric[:, position])
    return blank


def _total_rows(
    body: pd.DataFrame,
    positions: list[int] | None,
    numeric: np.ndarray | None = None,
    *,
    columns: dict[str, int] | None = None,
) -> pd.Series:
    """Rows with a text cell such as "JUMLAH" or "Total Kecamatan": sums of other rows.

    ``positions`` limits the search to some columns (by-name exports have free-text columns).
    ``numeric``: :func:`_numeric_cells` of ``body`` (all its columns) when the caller has it.
    ``columns``: the header's ``{canonical: position}``. With a code column, a row that holds
    an area code there is a total only if the label is in the code or a name column ("Jumlah
    Kecamatan X" beside the kecamatan code): "JUMLAH" or "Total" in a count column of a coded
    row is a desa row with a text where its number belongs, read (and refused) as data, not
    dropped.
    """
    positions = list(range(body.shape[1])) if positions is None else positions
    columns = {} if columns is None else columns
    code = columns.get("kode_wilayah")
    labels = {p for c, p in columns.items() if c == "kode_wilayah" or c in _NAME_COLUMNS}
    labelled = np.zeros(len(body), dtype=bool)  # the label where recap exports write it
    elsewhere = np.zeros(len(body), dtype=bool)  # the label in any other column
    for position in positions:
        column = body.iloc[:, position]
        found = _cell_flags(
            _is_total_cell, column, None if numeric is None else numeric[:, position]
        )
        if position in labels:
            labelled |= found
        else:
            elsewhere |= found
    candidates = elsewhere & ~labelled
    if code is not None and candidates.any():
        # Only the few rows flagged by another column are looked at: a national table's codes
        # are normalised once, later, by _area_columns.
        cells = body.iloc[np.flatnonzero(candidates), code].tolist()
        coded = np.array([c is not None for c in map_distinct(normalize_code, cells)])
        elsewhere[np.flatnonzero(candidates)[coded]] = False
    return pd.Series(labelled | elsewhere, index=body.index, dtype=bool)


def _numeric_texts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which cells are text starting (after spaces) with a digit, and those texts stripped.

    Such a cell (a code, a count) is never blank nor a total row, and its :func:`_code_text` is
    the stripped text; a national table's code column (83,403 distinct codes) is decided at
    once instead of code by code.
    """
    is_text = text_mask(values)
    texts = string_array(values[is_text])
    if texts is None:  # text NumPy cannot hold: no shortcut
        return np.zeros(len(values), dtype=bool), np.array([], dtype=object)
    stripped = np.strings.strip(texts)
    # A decimal digit has no case, so no spelling of "-", "nan" or "JUMLAH" starts with one.
    numeric = np.strings.isdecimal(np.strings.slice(stripped, 0, 1))
    # NumPy's strip takes a NUL off the end: "7405011001\x00" would be shown as the valid code it
    # is not. Such a text takes the per-value path, which keeps the NUL.
    numeric &= ~holding_nul(values[is_text])
    mask = np.zeros(len(values), dtype=bool)
    mask[np.flatnonzero(is_text)[numeric]] = True
    return mask, stripped[numeric].astype(object)


def _numeric_cells(body: pd.DataFrame) -> np.ndarray:
    """:func:`_numeric_texts` of every column of ``body``, as one object array of its shape:
    the stripped text of a numeric text cell, None elsewhere (so that the row checks, each on
    fewer rows, take their rows of it instead of deciding again)."""
    out = np.full(body.shape, None, dtype=object)
    for position in range(body.shape[1]):
        mask, stripped = _numeric_texts(body.iloc[:, position].to_numpy(dtype=object))
        out[mask, position] = stripped
    return out


def _cell_flags(
    func: Callable[[object], bool], column: pd.Series, numeric: np.ndarray | None = None
) -> np.ndarray:
    """``func`` of every cell of ``column`` for a ``func`` False on every numeric text (see
    :func:`_numeric_texts`); the other cells once per distinct value. ``numeric``: the
    column's :func:`_numeric_cells` when the caller has them."""
    values = column.to_numpy(dtype=object)
    is_numeric = _numeric_texts(values)[0] if numeric is None else pd.notna(numeric)
    flags = np.zeros(len(values), dtype=bool)
    flags[~is_numeric] = map_distinct(func, values[~is_numeric])
    return flags


def _is_total_cell(value: object) -> bool:
    return isinstance(value, str) and TOTAL_ROW.match(value) is not None


def _area_columns(
    body: pd.DataFrame,
    columns: dict[str, int],
    *,
    merged_cells: bool = False,
    numeric: np.ndarray | None = None,
) -> pd.DataFrame:
    """The area columns of ``body``, cleaned; ``baris`` is the sheet row (1-based).

    With ``merged_cells`` (a recap table) a blank kecamatan (kabupaten, provinsi) cell under a
    desa name takes the name above it: merged cells written once for a group of desa rows. A
    by-name export has one family per row and no merged cells: there a blank cell means the
    area is unknown, and taking the row above would credit the family to whatever desa happens
    to be sorted before it. ``numeric``: :func:`_numeric_cells` of ``body`` when the caller
    has it.
    """
    out = pd.DataFrame({"baris": body.index.to_numpy() + 1})
    if "kode_wilayah" in columns:
        cells = body.iloc[:, columns["kode_wilayah"]]
        values = cells.to_numpy(dtype=object)
        if numeric is None:
            is_numeric, stripped = _numeric_texts(values)
        else:
            stripped = numeric[:, columns["kode_wilayah"]]
            is_numeric = pd.notna(stripped)
            stripped = stripped[is_numeric]
        written = np.empty(len(values), dtype=object)
        written[is_numeric] = stripped
        written[~is_numeric] = np.fromiter(map_distinct(_written_code, values[~is_numeric]), object)
        out["kode_asli"] = written.tolist()
        out["kode_wilayah"] = normalize_codes(cells).tolist()
    for canonical in _NAME_COLUMNS:
        if canonical in columns:
            out[canonical] = map_distinct(_written_name, body.iloc[:, columns[canonical]])
    if merged_cells and "nama_desa" in out.columns:
        # Merged cells: a kecamatan (kabupaten) name written once for its group of desa rows.
        has_desa = out["nama_desa"].notna()
        for parent in ("nama_provinsi", "nama_kabupaten", "nama_kecamatan"):
            if parent in out.columns:
                out[parent] = out[parent].where(~has_desa, out[parent].ffill())
    return out


def _written_code(value: object) -> str | None:
    return None if _is_blank(value) else _code_text(value)


def _written_name(value: object) -> str | None:
    return None if _is_blank(value) else " ".join(str(value).split())


def _code_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_blank(value: object) -> bool:
    return (
        value is None
        or (isinstance(value, float) and np.isnan(value))
        or (str(value).strip().lower() in _MISSING)
    )


@dataclass(frozen=True)
class _Header:
    """Where the header is and what it says."""

    row: int
    first_data: int
    columns: dict[str, int]
    names: dict[str, str]
    by_name: dict[str, int] | None
    #: Every column's header as written (two header rows read as one).
    texts: tuple[str, ...] = ()


def _find_header(table: pd.DataFrame, column_map: dict[str, str] | None, path: Path) -> _Header:
    """The first row (among the first 30) that names an area column and a count column.

    A header split over two rows (merged "Jumlah" above "KK" and "Jiwa") is read as one; a row of
    column numbers ("1", "2", "(3)") right under the header is skipped.
    """
    from .p3ke import by_name_columns, is_by_name

    last = min(30, len(table))
    problem: tuple[int, PovmapInputError] | None = None
    for row in range(last):
        found = []
        if all(_is_blank(c) for c in table.iloc[row].tolist()):
            continue  # else a blank row over the header reads as its merged top half
        for depth in (1, 2):
            if row + depth > len(table):
                continue
            headers = _header_texts(table, row, depth)
            keys = [_header_key(h) for h in headers]
            try:
                columns = recognise_headers(headers, column_map)
            except PovmapInputError as exc:
                # Name the columns of the row that looks most like the header, not the last row.
                score = len(recognise_headers(headers))
                if problem is None or score > problem[0]:
                    problem = (score, exc)
                continue
            if not any(c in columns for c in ("kode_wilayah", "nama_desa", "nama_kecamatan")):
                continue
            by_name = by_name_columns(keys) if is_by_name(keys) else None
            if by_name is None and not any(c in columns for c in COUNT_COLUMNS):
                continue
            if by_name is not None:
                columns = {k: v for k, v in columns.items() if k not in COUNT_COLUMNS}
            found.append((len(columns), depth, headers, columns, by_name))
        if found:
            # "Jumlah Penduduk" may make the top row a header by itself while the merged "Jumlah"
            # over "KK" and "Jiwa" needs the second row: take the reading that finds more columns.
            _, depth, headers, columns, by_name = max(found, key=lambda f: (f[0], -f[1]))
            if by_name is None:
                _refuse_duplicate_counts(headers, columns, path, row + depth)
            first = row + depth
            if first < len(table) and _is_numbering(table.iloc[first].tolist()):
                first += 1
            return _Header(
                row + depth - 1,
                first,
                columns,
                {k: str(headers[v]) for k, v in columns.items()},
                by_name,
                tuple(str(h) for h in headers),
            )
    if problem is not None and column_map:
        raise problem[1]
    raise PovmapInputError.from_catalogue("counts.header_row_not_found", path=path)


def _refuse_duplicate_counts(
    headers: list[str], columns: dict[str, int], path: Path, row: int
) -> None:
    """Two count columns with the same title: which one holds the numbers cannot be guessed."""
    keys = [_header_key(h) for h in headers]
    for canonical, position in columns.items():
        same = [i for i, k in enumerate(keys) if k == keys[position]]
        if canonical in COUNT_COLUMNS and len(same) > 1:
            # Imported only here: openpyxl takes a quarter second, and a CSV never needs it.
            from openpyxl.utils import get_column_letter

            letters = " dan ".join(get_column_letter(i + 1) for i in same)
            raise PovmapInputError.from_catalogue(
                "counts.row_header_appears_more",
                path=path,
                row=row,
                headers=headers[position],
                letters=letters,
                canonical=canonical,
            )


def _header_texts(table: pd.DataFrame, row: int, depth: int) -> list[str]:
    top = ["" if _is_blank(c) else str(c).strip() for c in table.iloc[row].tolist()]
    if depth == 1:
        return top
    # A merged cell is read in its first column only: carry it right over the blanks it covers.
    carried, current = [], ""
    for cell in top:
        current = cell or current
        carried.append(current)
    low = ["" if _is_blank(c) else str(c).strip() for c in table.iloc[row + 1].tolist()]
    return [f"{t} {b}".strip() if b else t for t, b in zip(carried, low, strict=True)]


def _is_numbering(cells: list[object]) -> bool:
    """A row of column numbers under a header: 1, 2, 3 ... or (1), (2), (3) ..."""
    numbers = []
    for cell in cells:
        if _is_blank(cell):
            continue
        match = re.fullmatch(r"\(?(\d+)\)?(\.0)?", str(cell).strip())
        if not match:
            return False
        numbers.append(int(match.group(1)))
    return len(numbers) >= 3 and numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def _parse_column(cells: list[object], index: pd.Index, header: object, path: Path) -> np.ndarray:
    # A column holds few distinct texts: parse each once. Only a column with a cell that is not a
    # count goes through the rows one by one, to name the first such row as the file has it.
    parsed = map_distinct(_number_or_none, cells)
    if all(v is not None for v in parsed):
        values = np.array(parsed, dtype=float)
        if not (np.abs(values) >= COUNT_LIMIT).any():
            return values
    values = np.empty(len(cells))
    for i, cell in enumerate(cells):
        try:
            values[i] = parse_number(cell)
        except ValueError:
            raise PovmapInputError.from_catalogue(
                "counts.row_column_not_number",
                path=path,
                value=index[i] + 1,
                header=header,
                cell=cell,
            ) from None
        if abs(values[i]) >= COUNT_LIMIT:
            _refuse_identifier(cell, index[i] + 1, header, path)
    return values


def _number_or_none(value: object) -> float | None:
    """:func:`parse_number`, None where the cell is not a number."""
    try:
        return parse_number(value)
    except ValueError:
        return None


#: No count of people or families reaches a billion (Indonesia has under 300 million people): a
#: larger number in a count column is a NIK, KK or phone number that slid there, never a count.
COUNT_LIMIT = 1e9


def _refuse_identifier(cell: object, row: int, header: object, path: Path) -> None:
    """Stop on an identifier in a count column, showing it masked (SECURITY.md row 2)."""
    text = _code_text(cell)
    raise PovmapInputError.from_catalogue(
        "counts.row_column_not_count", path=path, row=row, header=header, value=mask(text)
    )


def _empty_rows(out: pd.DataFrame) -> pd.Series:
    data = out.drop(columns=["baris"])
    return data.isna().all(axis=1)
