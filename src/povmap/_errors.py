"""Errors povmap raises for bad input, and the bilingual text they and the report notes carry.

The CLI turns a :class:`PovmapInputError` into exit code 1 and prints its message, so every message
must name the file, the row or the column, and say what to do. Every message is written in
Indonesian and English: ``str(exc)`` is the Indonesian text (the Python API's default), and
``exc.message("en")`` the English one that ``--lang en`` prints.
"""

from __future__ import annotations

from ._privacy import mask_text

LANGS = ("id", "en")


class Text(str):
    """Indonesian text that also carries its English translation in :attr:`en`.

    A ``str`` itself, so that lists of notes stay lists of strings (JSON, ``in`` checks, joins)
    while the terminal can still print them in the user's language with :func:`in_lang`.
    """

    en: str

    def __new__(cls, text: str, en: str | None = None) -> Text:
        # Every message and note is a Text or an error: masking here keeps NIK and phone numbers
        # out of all of them (SECURITY.md, row 2).
        self = super().__new__(cls, mask_text(str(text)))
        self.en = str(self) if en is None else mask_text(str(en))
        return self

    def __reduce__(self):
        return (Text, (str(self), self.en))


def in_lang(text: str, lang: str = "id") -> str:
    """``text`` in ``lang``: the English of a :class:`Text` for ``"en"``, else the text itself.

    Plain strings (no translation known) are returned as they are in either language.
    """
    if lang not in LANGS:
        raise PovmapInputError(f"lang={lang!r}: gunakan 'id' atau 'en'.",
                               en=f"lang={lang!r}: use 'id' or 'en'.")
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

    def __init__(self, message: str = "", *, en: str | None = None) -> None:
        super().__init__(mask_text(str(message)))
        en = en if en is not None else getattr(message, "en", None)
        self.en = None if en is None else mask_text(str(en))

    def message(self, lang: str = "id") -> str:
        """The message in ``lang`` (``"id"`` or ``"en"``); Indonesian when no English was given."""
        return in_lang(Text(str(self), self.en) if self.en else str(self), lang)

    def __reduce__(self):
        # Pickling (multiprocessing, notebooks) keeps the English text too.
        return (_rebuild, (type(self), str(self), self.en))


def _rebuild(cls: type[PovmapError], message: str, en: str | None) -> PovmapError:
    return cls(message, en=en)


class PovmapInputError(PovmapError, ValueError):
    """The input (a file, a column, a row, a parameter value) is not usable as given."""
