"""Text from files made safe for the formats povmap writes: spreadsheets and XML.

Two small, pure rules used by every writer of those formats (issue #9):

* **Spreadsheet formulas.** A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is run as a formula by Excel or LibreOffice when the file is opened (OWASP,
  "CSV Injection"). In a CSV such a text cell gets a leading ``'`` (:func:`csv_cell`,
  :func:`csv_frame`); in an XLSX every text is stored as a text cell, never as a formula, and those
  cells carry Excel's own "quote prefix" mark (:func:`write_xlsx`). Numbers stay numbers.
* **Terminal escapes.** A name holding ``\x1b]0;...\x07`` or ``\x1b[2J`` would retitle the
  window, clear the screen or worse when povmap echoes the row; :func:`terminal_text` shows
  control characters as ``\x1b``-style escapes instead.
* **XML characters.** XML 1.0 forbids most C0 control characters (Word's soft line break
  ``\\x0b`` among them), lone surrogates and U+FFFE/U+FFFF; one of them makes a whole SLD or
  ISO 19139 file unreadable. :func:`xml_text` replaces them (line-break-like ones by a space,
  the rest removed), :func:`clean_xml_tree` does it for every text and attribute of a tree.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line imports this module: nothing heavy on import
    import xml.etree.ElementTree as ET

    import pandas as pd

__all__ = [
    "FORMULA_START",
    "clean_xml_tree",
    "csv_cell",
    "csv_frame",
    "csv_row",
    "csv_text",
    "starts_formula",
    "terminal_text",
    "write_xlsx",
    "xml_text",
]

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV Injection),
#: with their full-width forms, which some spreadsheet locales also accept.
FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
#: Texts that start like a formula but are not one: a lone dash is the usual "no value".
_HARMLESS = frozenset({"-"})

#: Characters XML 1.0 does not allow (§2.2 Char): C0 controls but tab, LF and CR; surrogates;
#: U+FFFE and U+FFFF.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: Those that separate words or lines (vertical tab, form feed, the information separators):
#: a space keeps the words apart.
_XML_AS_SPACE = frozenset("\x0b\x0c\x1c\x1d\x1e\x1f")
#: C0 and C1 control characters but tab and line feed: what terminal escape sequences are made of.
_TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def starts_formula(text: str) -> bool:
    """Whether a spreadsheet would read ``text`` as a formula.

    Examples
    --------
    >>> starts_formula("=1+2 Desa"), starts_formula("-2+3"), starts_formula("Desa -1")
    (True, True, False)
    >>> starts_formula("-")
    False
    """
    return bool(text) and text[0] in FORMULA_START and text not in _HARMLESS


def csv_cell(value: object) -> object:
    """``value`` for a CSV cell: a text that would start a formula gets a leading ``'``.

    Anything that is not a ``str`` (numbers, missing values) is returned unchanged.

    Examples
    --------
    >>> csv_cell("=HYPERLINK(\\"http://x\\")"), csv_cell("@SUM(1)"), csv_cell(-2.5)
    ('\\'=HYPERLINK("http://x")', "'@SUM(1)", -2.5)
    >>> csv_cell("Sungai Raya")
    'Sungai Raya'
    """
    if isinstance(value, str) and starts_formula(value):
        return "'" + value
    return value


def csv_row(row: Mapping[str, object]) -> dict[str, object]:
    """A row (``{column: value}``) for :class:`csv.DictWriter` with every text cell neutralised."""
    return {key: csv_cell(value) for key, value in row.items()}


def csv_frame(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` for ``to_csv`` with every text cell neutralised (:func:`csv_cell`).

    Numeric columns are left as they are; column names are neutralised too, since they become
    the header row.
    """
    import pandas as pd

    out = table.copy()
    for column in out.columns:
        if not (
            pd.api.types.is_numeric_dtype(out[column])
            or pd.api.types.is_datetime64_any_dtype(out[column])
        ):
            out[column] = out[column].map(csv_cell)
    out.columns = [csv_cell(c) for c in out.columns]
    return out


def csv_text(table: pd.DataFrame) -> str:
    """``table`` (without its index) as CSV text, every text cell neutralised (:func:`csv_frame`).

    Lines end in CRLF as RFC 4180 asks, so that a text holding a carriage return is quoted
    (Python's csv module quotes the characters of the line terminator) and stays one cell.
    """
    return csv_frame(table).to_csv(index=False, lineterminator="\r\n")


def write_xlsx(
    table: pd.DataFrame, path: str | os.PathLike, *, sheet_name: str, heading: Sequence[str] = ()
) -> Path:
    """Write ``table`` as one sheet: texts as text cells, numbers as numbers, no formula ever.

    pandas (through openpyxl) turns any text starting with ``=`` into a live formula. Here every
    text is stored as a text cell (``data_type`` ``"s"``); one that a spreadsheet would take for
    a formula also gets the quote prefix, so editing the cell in Excel keeps it text. Characters
    XML forbids (an XLSX is XML inside) are cleaned with :func:`xml_text`.

    Parameters
    ----------
    table
        The table; its index is not written.
    path
        The ``.xlsx`` file to write (not atomically: pass a temporary path).
    sheet_name
        Name of the sheet.
    heading
        Lines written above the table, one cell each (e.g. "internal, not for publication").

    Returns
    -------
    ``path``.
    """
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_name
    for line in heading:
        sheet.append([_xlsx_value(str(line))])
    sheet.append([_xlsx_value(str(c)) for c in table.columns])
    for row in table.itertuples(index=False, name=None):
        sheet.append([_xlsx_value(v) for v in row])
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never "f": a formula is never written
                if starts_formula(cell.value):
                    cell.quotePrefix = True
    book.save(path)
    return Path(path)


def _xlsx_value(value: object) -> object:
    """A plain Python value openpyxl writes as itself (numpy scalars unwrapped, NA as empty)."""
    import numpy as np
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, str):
        return xml_text(value)
    return value


def terminal_text(text: str) -> str:
    """``text`` for a terminal: control characters (but tab and newline) shown, never run.

    Examples
    --------
    >>> print(terminal_text("Desa\\x1b]0;judul\\x07 Baru"))
    Desa\\x1b]0;judul\\x07 Baru
    """
    return _TERMINAL_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 forbids replaced: a space or nothing.

    Examples
    --------
    >>> xml_text("Dinas\\x0bSosial"), xml_text("Judul\\x01")
    ('Dinas Sosial', 'Judul')
    """
    if not _XML_FORBIDDEN.search(text):
        return text
    return _XML_FORBIDDEN.sub(lambda m: " " if m.group() in _XML_AS_SPACE else "", text)


def clean_xml_tree(root: ET.Element) -> ET.Element:
    """Clean every text, tail and attribute value under ``root`` in place; return ``root``."""
    for element in root.iter():
        if element.text:
            element.text = xml_text(element.text)
        if element.tail:
            element.tail = xml_text(element.tail)
        for key, value in element.attrib.items():
            element.attrib[key] = xml_text(value)
    return root
