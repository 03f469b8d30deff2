"""Errors povmap raises for bad input; their text comes from the message catalogue.

The CLI turns a :class:`PovmapInputError` into exit code 1 and prints its message, so every message
must name the file, the row or the column, and say what to do. Every message is written in
Indonesian and English: ``str(exc)`` is the Indonesian text (the Python API's default), and
``exc.message("en")`` the English one that ``--lang en`` prints.
"""

from __future__ import annotations

import errno
from typing import Any, TypeVar

from ._messages import LANGS, Text, message
from ._privacy import mask_text

__all__ = ["LANGS", "PovmapError", "PovmapInputError", "PovmapWarning", "Text", "in_lang", "reason"]

_E = TypeVar("_E", bound="PovmapError")


def in_lang(text: str, lang: str = "id") -> str:
    """``text`` in ``lang``: the English of a :class:`Text` for ``"en"``, else the text itself.

    Plain strings (no translation known) are returned as they are in either language.
    """
    if lang not in LANGS:
        raise PovmapInputError.from_catalogue("lang.unknown", lang=repr(lang))
    return getattr(text, "en", text) if lang == "en" else str(text)


class PovmapError(Exception):
    """Base class of povmap's own errors.

    Parameters
    ----------
    message
        The Indonesian message: what ``str(exc)`` returns.
    en
        The same message in English, printed by the CLI with ``--lang en``.
    """

    #: The catalogue id of the message, when it came from :meth:`from_catalogue`.
    key: str | None = None

    def __init__(self, message: str = "", *, en: str | None = None) -> None:
        super().__init__(mask_text(str(message)))
        en = en if en is not None else getattr(message, "en", None)
        self.en = None if en is None else mask_text(str(en))

    @classmethod
    def from_catalogue(cls: type[_E], key: str, /, **fields: Any) -> _E:
        """The error whose message is ``key`` in the catalogue (``messages.toml``), filled.

        Parameters
        ----------
        key
            The message id, e.g. ``"join.strict"``.
        **fields
            The values of its named fields (data: inserted as they are, never formatted as
            code; a :class:`Text` value in each language).

        Returns
        -------
        PovmapError
            An error of this class (``PovmapInputError.from_catalogue`` gives a
            ``PovmapInputError``) carrying both languages, and the id in :attr:`key`.
        """
        text = message(key, **fields)
        exc = cls(text, en=text.en)
        exc.key = key
        return exc

    def message(self, lang: str = "id") -> str:
        """The message in ``lang`` (``"id"`` or ``"en"``); Indonesian when no English was given."""
        return in_lang(Text(str(self), self.en) if self.en else str(self), lang)

    def __reduce__(self):
        # Pickling (multiprocessing, notebooks) keeps the English text too.
        return (_rebuild, (type(self), str(self), self.en))


def _rebuild(cls: type[PovmapError], message: str, en: str | None) -> PovmapError:
    return cls(message, en=en)


class PovmapInputError(PovmapError, ValueError):
    """The input (a file, a column, a row, a parameter value) is not usable as given.

    The CLI prints its message (Indonesian, or English with ``--lang en``) and exits with 1.

    Parameters
    ----------
    message
        The Indonesian message, naming the file, row or column and what to do; a
        :class:`~povmap._messages.Text` carries its English too. NIK and phone numbers in it
        are masked.
    en
        The same message in English, when ``message`` is a plain ``str``.
    """


class PovmapWarning(UserWarning):
    """A choice povmap made for a Python user that they must know of, in povmap's own words.

    E.g. :func:`povmap.classify` mapping a count because the table gives no population: the same
    note the CLI prints and writes to the report. ``str(w)`` is Indonesian, ``w.en`` English.
    Filter it as any warning (``warnings.filterwarnings("ignore", category=PovmapWarning)``).

    Parameters
    ----------
    text
        The note: a :class:`~povmap._messages.Text` (Indonesian, with its English in ``.en``)
        or a plain ``str`` (then ``en`` is the same text).
    """

    def __init__(self, text: str) -> None:
        super().__init__(str(text))
        self.en = getattr(text, "en", str(text))


#: The catalogue's words for what the system said, by errno: (when reading, when writing).
_OS_REASONS = {
    errno.ENOENT: ("file_reason.not_found_read", "file_reason.not_found_write"),
    errno.ENOTDIR: ("file_reason.not_found_read", "file_reason.not_found_write"),
    errno.EACCES: ("file_reason.no_permission_read", "file_reason.no_permission_write"),
    errno.EPERM: ("file_reason.no_permission_read", "file_reason.no_permission_write"),
    errno.EROFS: ("file_reason.read_only", "file_reason.read_only"),
    errno.ENOSPC: ("file_reason.disk_full", "file_reason.disk_full"),
    errno.EDQUOT: ("file_reason.disk_full", "file_reason.disk_full"),
    errno.EISDIR: ("file_reason.is_folder", "file_reason.is_folder"),
}
#: Library errors by class name (pandas and openpyxl are not imported for a name): a file that
#: is not text, a CSV that does not parse, an "XLSX" that is no zip or not a workbook.
_NAMED_REASONS = {
    "UnicodeDecodeError": "file_reason.not_utf8",
    "Error": "file_reason.not_csv",  # csv.Error (checked with its module below)
    "ParserError": "file_reason.not_csv",
    "EmptyDataError": "file_reason.not_csv",
    "BadZipFile": "file_reason.not_zip",
    "InvalidFileException": "file_reason.not_xlsx",
}


def reason(exc: BaseException, action: str = "", *, writing: bool = False) -> Text:
    """Why ``exc`` happened and what to do, in the catalogue's words (both languages).

    A library's or the system's own text (``No such file or directory``, pandas' English) never
    stands for the reason in a message: the common cases have catalogue entries; any other keeps
    its text only as a detail at the end, after ``action``.

    Parameters
    ----------
    exc
        The error caught while reading or writing a file.
    action
        What the user should do when the error is not one povmap knows (a catalogue
        :class:`Text`, e.g. "use GeoJSON, GeoPackage ..."); the library's text follows it.
    writing
        Whether the file was being written (a missing folder is then the target folder).

    Returns
    -------
    Text
        A clause to put after ``{path}: ... :`` in a message.
    """
    if isinstance(exc, OSError) and exc.errno in _OS_REASONS:
        return message(_OS_REASONS[exc.errno][writing])
    for cls in type(exc).__mro__:
        key = _NAMED_REASONS.get(cls.__name__)
        if key and (cls.__name__ != "Error" or cls.__module__ == "_csv"):
            return message(key)
    detail = mask_text(f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc))
    return message(
        "file_reason.other", action=action or message("file_reason.check_file"), detail=detail
    )
