"""Errors povmap raises for bad input; their text comes from the message catalogue.

The CLI turns a :class:`PovmapInputError` into exit code 1 and prints its message, so every message
must name the file, the row or the column, and say what to do. Every message is written in
Indonesian and English: ``str(exc)`` is the Indonesian text (the Python API's default), and
``exc.message("en")`` the English one that ``--lang en`` prints.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ._messages import LANGS, Text, message
from ._privacy import mask_text

__all__ = ["LANGS", "PovmapError", "PovmapInputError", "PovmapWarning", "Text", "in_lang"]

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
