"""Indonesian place names: normalisation and matching.

Recap sheets write the same desa many ways: ``DESA SUNGAI RAYA``, ``Ds. Sei Raya``,
``Kel.  Kandangan  Kota``, ``Sungai Mata - Mata``, ``Jenti'an``. :func:`normalize_name` folds all of
them to one key; :func:`best_match` picks a fuzzy candidate only when it is good and clearly
ahead of the runner-up, so that a typo is forgiven and a different desa is never taken for it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from rapidfuzz import fuzz, process

# Default similarity (0-100, rapidfuzz ``ratio`` of normalised names) a fuzzy match must reach.
from ._distinct import map_distinct
from .defaults import FUZZY_THRESHOLD

#: Words dropped from the front of a name: they say what kind of area it is, not which one.
PREFIXES = (
    "desa",
    "ds",
    "kelurahan",
    "kel",
    "kecamatan",
    "kec",
    "kabupaten",
    "kab",
    "provinsi",
    "prov",
)
#: Abbreviations written in recap sheets, expanded to the word the boundary files use.
ABBREVIATIONS = {
    "sei": "sungai",
    "sui": "sungai",
    "s": "sungai",
    "tj": "tanjung",
    "tjg": "tanjung",
    "tg": "tanjung",
    "kp": "kampung",
    "kpg": "kampung",
    "pl": "pulau",
    "p": "pulau",
    "bt": "batu",
    "sp": "simpang",
    "smp": "simpang",
    "lbk": "lubuk",
    "ma": "muara",
    "krg": "karang",
    "tlk": "teluk",
}
ROMAN = {
    "i": "1",
    "ii": "2",
    "iii": "3",
    "iv": "4",
    "v": "5",
    "vi": "6",
    "vii": "7",
    "viii": "8",
    "ix": "9",
    "x": "10",
    "xi": "11",
    "xii": "12",
}
# The single-letter "s" and "p" are only abbreviations when followed by a dot ("S. Raya").
_DOTTED_ONLY = {"s", "p", "ma"}
_WORD = re.compile(r"[a-z0-9]+\.?")

#: How far the best candidate must be ahead of the second best.
FUZZY_MARGIN = 6.0


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def normalize_name(value: object) -> str:
    """Fold a place name to a comparison key.

    Lower case, accents and apostrophes removed (``Jenti'an`` -> ``jentian``), other punctuation
    to spaces (``Mata-Mata`` = ``Mata - Mata``), area prefixes dropped (``Desa``, ``Kel.``,
    ``Kec.`` ...), common abbreviations expanded (``Sei``/``S.`` -> ``sungai``, ``Tj.`` ->
    ``tanjung``) and roman numerals written as digits (``Sukamaju II`` -> ``sukamaju 2``).

    Examples
    --------
    >>> normalize_name("DESA  Sei. Raya")
    'sungai raya'
    >>> normalize_name("Kel. Kandangan Kota")
    'kandangan kota'
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = _ascii(str(value)).lower()
    text = re.sub(r"['`\"]", "", text)
    words = _WORD.findall(re.sub(r"[^a-z0-9.]+", " ", text))
    out: list[str] = []
    for i, token in enumerate(words):
        dotted = token.endswith(".")
        word = token.rstrip(".")
        if not word:
            continue
        if not out and word in PREFIXES and i + 1 < len(words):
            continue
        if word in ABBREVIATIONS and (dotted or word not in _DOTTED_ONLY) and i + 1 < len(words):
            word = ABBREVIATIONS[word]
        elif word in ROMAN and out:
            word = ROMAN[word]
        out.append(word)
    return " ".join(out)


def name_key(value: object) -> str:
    """:func:`normalize_name` without spaces, the key for exact matching (``Sungaimatamata``)."""
    return normalize_name(value).replace(" ", "")


def similarity(a: str, b: str) -> float:
    """Similarity (0-100) of two normalised names: the better of plain and word-order-free ratio."""
    return max(fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")), fuzz.token_sort_ratio(a, b))


def _scorer(a: str, b: str, **_: object) -> float:
    return similarity(a, b)


@dataclass(frozen=True)
class Match:
    """The outcome of a fuzzy lookup: the chosen index (or None) and the scored candidates."""

    index: int | None
    candidates: list[tuple[int, float]]

    @property
    def ambiguous(self) -> bool:
        """Good candidates exist but none is clearly ahead."""
        return self.index is None and bool(self.candidates)


def best_match(
    name: str,
    choices: Sequence[str],
    *,
    threshold: float = FUZZY_THRESHOLD,
    margin: float = FUZZY_MARGIN,
) -> Match:
    """Find the one choice ``name`` (both normalised) most likely means.

    Parameters
    ----------
    name
        A normalised name (:func:`normalize_name`).
    choices
        Normalised candidate names, for example the desa of one kecamatan.
    threshold
        Minimum similarity (0-100) of the chosen candidate.
    margin
        The chosen candidate must beat the second best by at least this much.

    Returns
    -------
    A :class:`Match`: ``index`` into ``choices`` when one candidate is good and clearly ahead;
    otherwise None, with ``candidates`` (index, score) listing the close ones, which makes it
    ambiguous, or empty when nothing is close.
    """
    if not name or not choices:
        return Match(None, [])
    scored = process.extract(name, list(choices), scorer=_scorer, limit=3)
    ranked = [(int(index), float(score)) for _, score, index in scored]
    good = [(i, s) for i, s in ranked if s >= threshold]
    if not good:
        return Match(None, [])
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if good[0][1] - runner_up >= margin:
        return Match(good[0][0], good[:1])
    return Match(None, [(i, s) for i, s in ranked if s >= threshold - margin])


def kabupaten_key(value: object) -> str:
    """:func:`name_key` of a kabupaten/kota name, also without a leading "Kota" word."""
    words = normalize_name(value).split()
    if len(words) > 1 and words[0] == "kota":
        words = words[1:]
    return "".join(words)


@dataclass(frozen=True)
class Lookup:
    """Where a row's names lead: ``kind`` is ``name`` (one area), ``pending`` (try fuzzy within
    ``pool``), ``ambiguous`` (several areas in ``candidates``) or ``unmatched`` (see ``reason``)."""

    kind: str
    index: int | None = None
    pool: tuple[int, ...] = ()
    candidates: tuple[tuple[int, float], ...] = ()
    reason: str = ""


class AreaIndex:
    """Boundary areas indexed by normalised names, to find the area a table row names.

    Parameters
    ----------
    areas
        Canonical boundary attributes: ``nama_<level>`` and, where present, ``nama_kecamatan``,
        ``kode_kecamatan`` and ``nama_kabupaten``.
    level
        ``"desa"`` or ``"kecamatan"``.
    """

    def __init__(self, areas: pd.DataFrame, level: str) -> None:
        self.level = level
        self.names = map_distinct(normalize_name, areas[f"nama_{level}"])
        self.keys = [n.replace(" ", "") for n in self.names]
        self.parents: dict[str, list[str]] = {}
        if "nama_kabupaten" in areas.columns:
            self.parents["kabupaten"] = map_distinct(kabupaten_key, areas["nama_kabupaten"])
        if level == "desa" and "nama_kecamatan" in areas.columns:
            self.parents["kecamatan"] = map_distinct(name_key, areas["nama_kecamatan"])
        self.by_key: dict[str, list[int]] = {}
        for i, key in enumerate(self.keys):
            self.by_key.setdefault(key, []).append(i)
        self.by_parent_code: dict[str, list[int]] = {}
        if level == "desa" and "kode_kecamatan" in areas.columns:
            for i, code in enumerate(areas["kode_kecamatan"]):
                self.by_parent_code.setdefault(code, []).append(i)

    def _within(
        self, kind: str, value: object, pool: list[int], threshold: float
    ) -> list[int] | None:
        """Areas of ``pool`` whose ``kind`` parent is named ``value``; None if no parent is."""
        keys = self.parents[kind]
        wanted = kabupaten_key(value) if kind == "kabupaten" else name_key(value)
        found = [i for i in pool if keys[i] == wanted]
        if found:
            return found
        distinct = sorted({keys[i] for i in pool})
        match = best_match(wanted, distinct, threshold=threshold)
        if match.index is None:
            return None
        return [i for i in pool if keys[i] == distinct[match.index]]

    def locate(
        self,
        name: object,
        *,
        kecamatan: object = None,
        kabupaten: object = None,
        kecamatan_code: str | None = None,
        threshold: float = FUZZY_THRESHOLD,
    ) -> Lookup:
        """Find the area a row names by exact normalised names; see :class:`Lookup`.

        A desa is only found by its name alone when that name is unique among the candidate
        areas; fuzzy matching (left to the caller, ``pending``) is only offered within a known
        kecamatan (or, at kecamatan level, within a known kabupaten or a one-kabupaten layer).
        """
        key = name_key(name)
        if not key:
            return Lookup("unmatched", reason="tanpa_nama")
        pool = list(range(len(self.keys)))
        scoped = False
        if not _blank(kabupaten) and "kabupaten" in self.parents:
            within = self._within("kabupaten", kabupaten, pool, threshold)
            if within is None:
                return Lookup("unmatched", reason="kabupaten_tidak_dikenal")
            pool, scoped = within, self.level == "kecamatan"
        elif self.level == "kecamatan" and len(set(self.parents.get("kabupaten", [""]))) == 1:
            scoped = True
        if self.level == "desa":
            if kecamatan_code and kecamatan_code in self.by_parent_code:
                pool, scoped = self.by_parent_code[kecamatan_code], True
            elif not _blank(kecamatan) and "kecamatan" in self.parents:
                within = self._within("kecamatan", kecamatan, pool, threshold)
                if within is None:
                    return Lookup("unmatched", reason="kecamatan_tidak_dikenal")
                pool, scoped = within, True
        allowed = set(pool)
        exact = [i for i in self.by_key.get(key, []) if i in allowed]
        if len(exact) == 1:
            return Lookup("name", index=exact[0])
        if exact:
            return Lookup(
                "ambiguous", candidates=tuple((i, 100.0) for i in exact), reason="nama_ganda"
            )
        if not scoped:
            return Lookup("unmatched", reason="nama_tidak_ditemukan")
        return Lookup("pending", pool=tuple(pool))

    def fuzzy(
        self, name: object, pool: tuple[int, ...], *, threshold: float = FUZZY_THRESHOLD
    ) -> Match:
        """:func:`best_match` of ``name`` among the areas of ``pool`` (indices into the index)."""
        found = best_match(normalize_name(name), [self.names[i] for i in pool], threshold=threshold)
        return Match(
            None if found.index is None else pool[found.index],
            [(pool[i], s) for i, s in found.candidates],
        )


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or not str(value).strip()
