"""The one catalogue of what povmap says to people, in Indonesian and English side by side.

Every user-facing string (error messages, report notes, terminal summaries, map and legend
labels, CLI help) lives in ``messages.toml`` beside this module, keyed by an id::

    [join.strict]
    id = "{counts}: {unmatched} baris tidak cocok ..."
    en = "{counts}: {unmatched} rows unmatched ..."

:func:`text` gives one language, :func:`message` both (a :class:`Text`). Fields are filled with
named ``{fields}`` only (an entry with ``one = "n"`` and ``en_one`` has an English form for
when the count ``n`` is 1; ``{n:row|rows}`` writes the word for the count ``n``), and the
values are data: a place name holding ``{0}`` or
``{x.__class__}`` comes out as written, never read as a format (see :class:`_Fill`).
"""

from __future__ import annotations

import functools
import math
import numbers
import re
import string
import sys
from collections.abc import Mapping
from importlib.resources import files
from typing import Any

from ._privacy import mask_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 reads TOML with tomli (a dependency there)
    import tomli as tomllib

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


#: A table header of the catalogue (``[join.strict]``, ``[label."kantong:kantong"]``).
_HEADER = re.compile(r"^\[([^\[\]\n]+)\][ \t]*$", re.M)
#: One part of a dotted header: a quoted key or a bare one.
_PART = re.compile(r'\s*(?:"([^"]*)"|([A-Za-z0-9_-]+))\s*(?:\.|$)')


@functools.cache
def _source() -> str:
    return files("povmap").joinpath("messages.toml").read_text(encoding="utf-8")


@functools.cache
def _index() -> dict[str, tuple[int, int]]:
    """Where each entry's lines are in ``messages.toml``, by id.

    Parsing the whole file takes about as long as starting click, and a run needs a few entries
    (``povmap --help`` about a hundred): each entry is parsed when first used (:func:`entry`),
    from its own lines. :func:`catalogue` parses the whole file, and the tests check that both
    read the same.
    """
    source = _source()
    headers = list(_HEADER.finditer(source))
    spans = {}
    for this, after in zip(headers, [*headers[1:], None], strict=True):
        key = ".".join(quoted or bare for quoted, bare in _PART.findall(this.group(1)))
        spans[key] = (this.end(), after.start() if after else len(source))
    return spans


@functools.cache
def entry(key: str) -> dict[str, str]:
    """The message ``key``: ``{"id": "...", "en": "..."}``.

    Raises
    ------
    KeyError
        No message has this id.
    """
    table = _table(key)
    return {lang: table.get(lang, "") for lang in LANGS}


@functools.cache
def _table(key: str) -> dict[str, Any]:
    start, end = _index()[key]
    return tomllib.loads(_source()[start:end])


def _template(key: str, lang: str, fields: Mapping[str, Any]) -> str:
    """The template of ``key`` in ``lang``, its singular form when its count field is 1.

    An entry may name a count field (``one = "k"``) and give a form for one (``en_one``):
    "only 1 class" / "only 3 classes". Indonesian nouns need none (the form without is used).
    """
    table = _table(key)
    count = table.get("one")
    if count and f"{lang}_one" in table and _is_one(fields.get(count)):
        return table[f"{lang}_one"]
    return table.get(lang, "")


def _is_one(value: Any) -> bool:
    # A count is an int, or a formatted number (a Text "1" in both languages).
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return value == 1
    return str(value).strip() == "1"


def has(key: str) -> bool:
    """Whether the catalogue has a message ``key``."""
    return key in _index()


def keys() -> list[str]:
    """Every message id, in the order of ``messages.toml``."""
    return list(_index())


@functools.cache
def catalogue() -> dict[str, dict[str, str]]:
    """Every message by id: ``{"join.strict": {"id": "...", "en": "..."}, ...}``.

    The whole of ``messages.toml`` parsed at once (the tests; a run reads single entries with
    :func:`entry`); nested TOML tables give dotted ids.
    """
    raw = tomllib.loads(_source())
    out: dict[str, dict[str, str]] = {}

    def walk(prefix: str, table: Mapping[str, Any]) -> None:
        if "id" in table and isinstance(table["id"], str):
            out[prefix] = {lang: table.get(lang, "") for lang in LANGS}
            return
        for key, value in table.items():
            walk(f"{prefix}.{key}" if prefix else key, value)

    walk("", raw)
    return out


class _Fill(string.Formatter):
    """``str.format`` with named fields only, whose values are data, in one language.

    The template comes from the catalogue (the project's own text); a field is a plain name,
    never ``{a.b}`` or ``{a[0]}`` (so no attribute of a value is ever read), and a value is
    inserted as it is, never parsed again. A :class:`Text` value (a label, a formatted number)
    gives its text in the language being written.
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> tuple[Any, str]:
        if not field_name.isidentifier():
            raise KeyError(f"message field {field_name!r}: only plain {{names}} are allowed")
        return kwargs[field_name], field_name

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec:
            # ``{n:row|rows}``: the word for the count ``n`` (written by the catalogue, e.g.
            # "{n} {n:row|rows}"), for messages with more counts than ``one`` can name.
            singular, plural = format_spec.split("|", 1)
            return singular if _is_one(value) else plural
        if isinstance(value, Text):
            value = value.en if self.lang == "en" else str(value)
        return format(value, format_spec)


def text(key: str, lang: str = "id", /, **fields: Any) -> str:
    """The message ``key`` in ``lang`` (``"id"`` or ``"en"``), its ``{fields}`` filled.

    Parameters
    ----------
    key
        The message id in ``messages.toml``, e.g. ``"cli.failed"``.
    lang
        ``"id"`` (Indonesian, the default) or ``"en"``.
    **fields
        The values of the message's named fields; data, inserted as they are (a :class:`Text`
        value in ``lang``).

    Returns
    -------
    str
        The text, with personal data (NIK, phone numbers) in the values masked.

    Raises
    ------
    KeyError
        ``key`` is not in the catalogue, or a field is missing: a fault of povmap, not of input.
    ValueError
        ``lang`` is neither ``"id"`` nor ``"en"``.
    """
    if lang not in LANGS:
        raise ValueError(f"lang={lang!r}: gunakan 'id' atau 'en' / use 'id' or 'en'.")
    if not fields:
        return entry(key)[lang]
    template = _template(key, lang, fields)
    return mask_text(_Fill(lang).vformat(template, (), _counts_written(key, lang, fields)))


#: A field the template writes with a plural spec, ``{n:row|rows}``: a count.
_PLURAL_FIELD = re.compile(r"\{(\w+):[^{}|]*\|[^{}]*\}")


def _counts_written(key: str, lang: str, fields: Mapping[str, Any]) -> Mapping[str, Any]:
    """``fields`` with each count the catalogue marks (``one = "n"``, or ``{n:row|rows}``)
    written as a number in ``lang`` when it is a whole number: ``1.873`` (id), ``1,873`` (en),
    as every number povmap shows, not ``1873``."""
    table = _table(key)
    counts = {str(table.get("one", ""))} | {
        name for lang_ in LANGS for name in _PLURAL_FIELD.findall(table.get(lang_, ""))
    }
    written = dict(fields)
    for name in counts:
        value = written.get(name)
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            written[name] = format_number(int(value), lang=lang)
    return written


def format_number(value: float | int | None, decimals: int = 0, lang: str = "id") -> str:
    """Format a number with thousands separators: ``1.234,5`` (id) or ``1,234.5`` (en).

    Missing values (None, NaN) become an en dash, which reads as "no value" in both languages.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{float(value):,.{decimals}f}"
    if lang == "id":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def message(key: str, /, **fields: Any) -> Text:
    """The message ``key`` in both languages: Indonesian, carrying its English in ``.en``.

    Examples
    --------
    >>> note = message("cli.stopped")
    >>> str(note).startswith("Dihentikan"), note.en.startswith("Stopped")
    (True, True)
    """
    return Text(text(key, "id", **fields), text(key, "en", **fields))
