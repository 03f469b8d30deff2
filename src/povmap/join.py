"""Join a counts table to a boundary layer, and report what matched and what did not.

Rows are matched in this order, and each records how (``cara_padan``):

1. ``code``: the Kemendagri code, in any spelling (:func:`povmap.codes.normalize_code`);
2. ``name``: the exact normalised (kabupaten,) kecamatan and desa names
   (:func:`povmap.names.normalize_name`); a desa name alone only when it is unique in the layer;
3. ``fuzzy``: a close spelling (rapidfuzz) within the row's kecamatan, only above a threshold and
   only when the best candidate is clearly ahead of the second.

Nothing is lost: every data row of the table ends up matched, unmatched or ambiguous in the
:class:`JoinReport`, and every area without a row is listed. ``totals`` proves it per count column:
``input == matched + unmatched`` (ambiguous and duplicate rows count as unmatched).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from ._distinct import map_distinct, string_array, text_mask
from ._errors import PovmapInputError, Text, in_lang
from ._io import write_text
from ._messages import message, text
from ._privacy import PERSONAL_NUMBER, mask_text, shown
from ._validate import check_values, duplicate_problem, raise_or_keep
from .boundaries import BoundaryInfo, BoundaryLayer, boundary_level, dissolve
from .codes import (
    LEVELS,
    code_level,
    code_system,
    is_truncated_code,
    normalize_code,
    parent_code,
)
from .counts import COUNT_COLUMNS, CountsInfo, CountsTable
from .i18n import check_lang, format_number
from .names import FUZZY_THRESHOLD, AreaIndex, name_key, similarity

METHODS = ("code", "name", "fuzzy")
_NAMES = ("nama_kabupaten", "nama_kecamatan", "nama_desa")
#: The table's columns a report or message may show (through :func:`_shown_table`).
_SHOWN = ("kode_asli", "nama_provinsi", *_NAMES)
#: Why a row did not match, as written in ``unmatched_counts[*].alasan``; the explanation of
#: each is ``reason.<alasan>`` in the message catalogue.
REASONS = (
    "kode_tidak_ada",
    "tanpa_nama",
    "kode_terpotong",
    "kabupaten_tidak_dikenal",
    "kecamatan_tidak_dikenal",
    "nama_tidak_ditemukan",
    "mirip_wilayah_terpakai",
    "baris_ganda",
    "nama_ganda",
    "tidak_ada_yang_unggul",
    "bersaing",
)


@dataclass
class JoinReport:
    """What the join did. The JSON form (:meth:`to_dict`) is a contract: see DESIGN.md.

    Attributes
    ----------
    level
        ``"desa"`` or ``"kecamatan"``: the level the table was joined at.
    matched
        Number of table rows matched to exactly one area.
    matched_by
        Matched rows by method: ``{"code": n, "name": n, "fuzzy": n}``.
    unmatched_counts
        One dict per table row that matched no area: ``baris`` (the file row), the row's codes
        and area names as shown in reports (masked from a by-name register, SECURITY.md row 2),
        its counts, ``alasan`` (why: a key of :data:`REASONS`) and, when close names exist,
        ``kandidat`` (their codes, names and score).
    unmatched_boundaries
        One dict per area no row matched: ``kode_<level>``, ``nama_<level>`` (and
        ``nama_kecamatan`` for desa). Their counts stay NaN in the joined layer.
    ambiguous
        The rows whose name fits several areas equally well, as in ``unmatched_counts``; they
        are not joined.
    totals
        Per count column: ``{"input", "matched", "unmatched"}`` sums (jiwa or KK, blanks as 0),
        with ``input == matched + unmatched`` (ambiguous and duplicate rows count as unmatched).
    notes
        Bilingual sentences for the report and the terminal (codes truncated by Excel, areas
        that moved kecamatan, ...).
    problems
        Values that cannot be true (negative counts, counts above their population, non-integer
        people, one area given twice), one dict per cell; a join only returns with them when the
        caller allowed it (``allow_invalid``).
    fuzzy
        Every row matched by a close spelling: ``baris``, ``nama_tabel`` (the name as the table
        writes it), the area's code and names, and ``skor`` (0-100), so that each can be checked.
    """

    level: str
    matched: int
    matched_by: dict[str, int]
    unmatched_counts: list[dict]
    unmatched_boundaries: list[dict]
    ambiguous: list[dict]
    totals: dict[str, dict[str, float]]
    notes: list[str] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    fuzzy: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain JSON-ready dictionary: ``notes`` in Indonesian, ``notes_en`` in English."""
        return _jsonable({**asdict(self), "notes_en": [in_lang(n, "en") for n in self.notes]})

    def write(self, path: str | os.PathLike) -> None:
        """Write the report as UTF-8 JSON, atomically."""
        write_text(path, json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n")

    @property
    def complete(self) -> bool:
        """True when every data row matched exactly one area."""
        return not self.unmatched_counts and not self.ambiguous

    def summary(self, lang: str = "id") -> str:
        """A few lines for the terminal, in Indonesian (default) or English."""
        check_lang(lang)
        n = lambda v: format_number(v, 0, lang)  # noqa: E731
        by = ", ".join(f"{k}: {n(v)}" for k, v in self.matched_by.items() if v)
        words = {key: text(f"join.summary.{key}", lang) for key in _WORDS}
        lines = [
            f"{words['matched']}: {n(self.matched)} ({by or '-'})",
            f"{words['unmatched']}: {n(len(self.unmatched_counts))}",
            f"{words['ambiguous']}: {n(len(self.ambiguous))}",
            f"{words['areas']}: {n(len(self.unmatched_boundaries))}",
        ]
        if self.problems:
            lines.append(f"{words['problems']}: {n(len(self.problems))}")
        rows = [*self.unmatched_counts, *self.ambiguous]
        for row in rows[:10]:
            alasan = row.get("alasan", "")
            reason = text(f"reason.{alasan}", lang) if alasan in REASONS else ""
            shown = " ".join(
                str(row.get(c) or "") for c in ("kode_asli", "nama_kecamatan", "nama_desa")
            ).strip()
            lines.append(
                f"  - {words['row']} {row['baris']}: {shown}" + (f" ({reason})" if reason else "")
            )
        if len(rows) > 10:
            # map and pockets print only these lines: say where the whole list is.
            lines.append("  " + text("join.summary.more", lang, n=n(len(rows) - 10)))
        if any(r.get("alasan") == "nama_ganda" and not r.get("nama_kecamatan") for r in rows):
            lines.append("  " + words["add_kecamatan"])
        if self.fuzzy:
            lines.append(f"{words['fuzzy']}:")
            for match in self.fuzzy[:10]:
                code = next((v for k, v in match.items() if k.startswith("kode_")), "")
                name = match.get(f"nama_{self.level}", "")
                lines.append(
                    f"  ~ {words['row']} {match['baris']}: {match['nama_tabel']} → "
                    f"{name} ({code}), {words['score']} {n(match['skor'])}"
                )
            if len(self.fuzzy) > 10:
                lines.append(
                    "  " + text("join.summary.more_fuzzy", lang, n=n(len(self.fuzzy) - 10))
                )
        lines.extend(
            f"  ! {words['row']} {', '.join(map(str, p['baris']))}: {in_lang(p['pesan'], lang)}"
            for p in self.problems[:10]
        )
        lines.extend(f"! {in_lang(note, lang)}" for note in self.notes)
        return mask_text("\n".join(lines))


#: The words of :meth:`JoinReport.summary` (``join.summary.<word>`` in the message catalogue).
_WORDS = (
    "matched",
    "unmatched",
    "ambiguous",
    "areas",
    "problems",
    "row",
    "fuzzy",
    "score",
    "add_kecamatan",
)


@dataclass
class JoinResult:
    """The joined layer (every boundary area, counts where a row matched) and its report.

    Attributes
    ----------
    joined
        Every area of the boundary layer (EPSG:4326), its canonical columns and ``luas_km2``
        (km²), the count columns (``jumlah_penduduk``, ``jumlah_miskin_ekstrem`` in jiwa,
        ``jumlah_keluarga_miskin_ekstrem`` in KK, ``jumlah_desil_*``; NaN where no row
        matched), ``baris`` (the table row, nullable integer) and ``cara_padan`` (``"code"``,
        ``"name"`` or ``"fuzzy"``).
    report
        What matched, what did not and why (:class:`JoinReport`).
    """

    joined: gpd.GeoDataFrame
    report: JoinReport


@dataclass
class _Rows:
    """Per table row: the area it matched (position in the boundary layer) and how, or why not."""

    area: list[int | None]
    how: list[str | None]
    reason: list[str]
    # Replaced, never changed in place: every row starts with the one empty tuple (not 83,403
    # empty lists for a national table).
    candidates: list[Sequence[tuple[int, float]]]

    @classmethod
    def empty(cls, n: int) -> _Rows:
        return cls([None] * n, [None] * n, [""] * n, [()] * n)

    def unmatch(self, i: int, reason: str, candidates: Sequence[tuple[int, float]] | None = None):
        self.area[i], self.how[i], self.reason[i] = None, None, reason
        self.candidates[i] = list(candidates or [])


def join(
    boundaries: BoundaryLayer | gpd.GeoDataFrame,
    counts: CountsTable | pd.DataFrame,
    *,
    level: str | None = None,
    fuzzy_threshold: float = FUZZY_THRESHOLD,
    allow_invalid: bool = False,
) -> JoinResult:
    """Attach the counts to the boundary areas: by code, then by names, then by close spelling.

    Parameters
    ----------
    boundaries
        The boundary layer from :func:`povmap.read_boundaries` (desa or kecamatan), or its
        ``.gdf`` (any GeoDataFrame with the canonical columns); messages then name no file.
    counts
        The counts table from :func:`povmap.read_counts`, or any DataFrame with the canonical
        columns (a table built in a notebook: its rows are numbered 1, 2, ... and messages name
        it "tabel").
    level
        ``"desa"`` or ``"kecamatan"``; by default the level of ``boundaries``. A desa layer joined
        at kecamatan level is dissolved to kecamatan first.
    fuzzy_threshold
        Similarity (0-100) a misspelt name must reach to be matched; 101 turns fuzzy matching off.
    allow_invalid
        Continue despite impossible values (negative counts, counts above population, non-integer
        people, one area given twice with different values), reporting each in
        ``report.problems``. By default they raise :class:`PovmapInputError` naming the rows.

    Returns
    -------
    A :class:`JoinResult`: ``joined`` has every area of ``boundaries`` (count columns NaN where no
    row matched), ``baris`` (the table row) and ``cara_padan`` (how it matched); ``report`` lists
    everything that did not match.

    Raises
    ------
    PovmapInputError
        ``level`` is not ``"desa"`` or ``"kecamatan"`` or is below the layer's own level; the
        layer has no ``kode_*`` column; the table has neither Kemendagri codes nor area names,
        or has only codes of another level or BPS codes (no names to match by); or, unless
        ``allow_invalid``, impossible values (the message names each row and column).
    """
    read = boundaries.source if isinstance(boundaries, BoundaryLayer) else None
    gdf = boundaries.gdf if isinstance(boundaries, BoundaryLayer) else boundaries
    level, gdf = _at_level(gdf, level, read)
    info = counts.source if isinstance(counts, CountsTable) else CountsInfo(path="tabel")
    counts = (counts.frame if isinstance(counts, CountsTable) else counts).reset_index(drop=True)
    if "baris" not in counts.columns:
        # A table built in a notebook has no file rows: number its rows 1, 2, ... instead.
        counts = counts.assign(baris=np.arange(1, len(counts) + 1))
    source = info.path
    count_columns = [c for c in COUNT_COLUMNS if c in counts.columns]
    problems = check_values(counts, count_columns)
    areas = gdf.drop(columns="geometry").reset_index(drop=True)
    codes, hints, notes = _usable_codes(counts, level, source)
    notes = [*info.notes, *_truncated_code_notes(counts, level), *notes]

    rows = _Rows.empty(len(counts))
    _match_codes(rows, codes, areas[f"kode_{level}"])
    codes, hints = _check_code_names(rows, counts, areas, level, codes, hints, notes)
    if None in rows.area:
        # Names are folded only when the codes left rows to match by name: a national table
        # matched wholly by code needs no name index (1 s for 83,403 desa).
        index = AreaIndex(areas, level)
        pending = _match_names(rows, counts, index, level, hints, fuzzy_threshold)
        _match_fuzzy(rows, counts, index, level, pending, fuzzy_threshold)
    problems += _drop_duplicates(rows, counts, areas, level, count_columns)
    display = _shown_table(counts, areas, by_name=info.by_name)
    notes += _moved_areas(rows, counts, display, areas, level)
    raise_or_keep(problems, allow_invalid=allow_invalid, source=source)
    return JoinResult(
        *_assemble(gdf, areas, counts, display, rows, level, count_columns, notes, problems)
    )


def _shown_table(counts: pd.DataFrame, areas: pd.DataFrame, *, by_name: bool) -> pd.DataFrame:
    """The table's code and name columns as reports and messages may show them.

    From a by-name register (P3KE/DTSEN) only area codes and the area names the boundary layer
    has are shown; any other value (an address or a name that slid into an area column, a NIK
    typed into the code column) is masked. From any table, NIK- and phone-like numbers are masked.
    See SECURITY.md, row 2.
    """
    out = counts[["baris"]].copy()
    for column in (c for c in _SHOWN if c in counts.columns):
        if column == "kode_asli":
            if not by_name:
                out[column] = _shown_values(counts[column])
                continue
            allowed = [
                normalize_code(v) is not None or is_truncated_code(v) for v in counts[column]
            ]
        else:
            if not by_name:
                out[column] = _shown_values(counts[column])
                continue
            known = (
                set(map_distinct(name_key, areas[column][text_mask(areas[column])]))
                if column in areas.columns
                else set()
            )
            allowed = [k in known for k in map_distinct(name_key, counts[column])]
        out[column] = [shown(v, allowed=ok) for v, ok in zip(counts[column], allowed, strict=True)]
    return out


#: Joins a column's texts for one search (:func:`_shown_values`): no character of a personal
#: number, and, like the start or end of a text, neither a digit nor ``+`` for its lookarounds.
_JOIN = "\x00"


def _shown_values(values: pd.Series) -> list:
    """``[shown(v) for v in values]``, with one search of all the texts first.

    A national table's 83,403 codes hold no personal number: :func:`~povmap._privacy.shown`
    then returns every value as it is, and one search of the joined texts says so. The joiner
    can be part of no match and is seen by the pattern's lookarounds as the end of a text is,
    so the joined text holds a match exactly when some value does; then each distinct value
    is masked as before.
    """
    cells = values.to_numpy(dtype=object)
    if not PERSONAL_NUMBER.search(_JOIN.join(cells[text_mask(cells)])):
        return cells.tolist()
    return map_distinct(shown, cells)


def _at_level(
    boundaries: gpd.GeoDataFrame, level: str | None, info: BoundaryInfo | None
) -> tuple[str, gpd.GeoDataFrame]:
    own = boundary_level(boundaries)
    level = level or own
    if level not in ("desa", "kecamatan"):
        raise PovmapInputError.from_catalogue("join.level_unknown_choose_desa", level=level)
    if own == "desa" and level == "kecamatan":
        return level, dissolve(boundaries, "kecamatan")
    if own != level:
        where = f"{info.path}{f' (layer {info.layer})' if info.layer else ''}: " if info else ""
        raise PovmapInputError.from_catalogue(
            "join.boundary_layer_holds_kecamatan", where=where, level=level
        )
    return level, boundaries


def _usable_codes(
    counts: pd.DataFrame, level: str, source: str
) -> tuple[list[str | None], list[str | None], list[str]]:
    """Codes to match at ``level``, kecamatan hints for name matching, and notes.

    BPS codes are never used (they number kecamatan and desa differently); codes of a coarser
    level are used to narrow name matching; codes of a finer level are refused.
    """
    n = len(counts)
    own_names = f"nama_{level}" in counts.columns and counts[f"nama_{level}"].notna().any()
    if "kode_wilayah" not in counts.columns or counts["kode_wilayah"].isna().all():
        if not own_names:
            _refuse_truncated_codes(counts, level, source)
            raise PovmapInputError.from_catalogue(
                "join.table_neither_kemendagri_codes",
                source=source,
                level=level,
                level_label=_label(level),
            )
        note = (
            message("join.table_no_kemendagri_area")
            if "kode_asli" not in counts.columns or counts["kode_asli"].isna().all()
            else message("join.code_column_holds_no")
        )
        if "kode_asli" in counts.columns and code_system(counts["kode_asli"]) == "bps":
            note = _bps_note()
        return [None] * n, [None] * n, [note]
    raw = counts["kode_asli"] if "kode_asli" in counts.columns else counts["kode_wilayah"]
    if code_system(raw) == "bps":
        if not own_names:
            raise PovmapInputError.from_catalogue("join.table_codes_look_like_2", source=source)
        return [None] * n, [None] * n, [_bps_note()]
    written = counts["kode_wilayah"]
    codes = written.to_numpy(dtype=object, copy=True)
    codes[~text_mask(written)] = None
    levels = _code_levels(codes)
    present = [lv for lv in levels if lv]
    notes: list[str] = []
    rank = pd.Series(levels, dtype=object).map({lv: k for k, lv in enumerate(LEVELS)})
    finer = int((rank > LEVELS.index(level)).sum())
    coarser = int((rank < LEVELS.index(level)).sum())
    example = next(c for c in codes if c)
    if finer > len(present) / 2:
        raise PovmapInputError.from_catalogue(
            "join.table_codes_desa_codes", source=source, example=example, level=level
        )
    if coarser > len(present) / 2:
        found = max(set(present), key=present.count)
        if not own_names:
            raise PovmapInputError.from_catalogue(
                "join.table_codes_codes_but",
                source=source,
                found=found,
                example=example,
                level=level,
            )
        notes.append(
            message("join.table_codes_codes_not", found=found, example=example, level=level)
        )
    usable = codes.copy()
    usable[np.array(levels, dtype=object) != level] = None
    return usable.tolist(), _kecamatan_hints(codes, levels, level), notes


def _kecamatan_hints(codes: np.ndarray, levels: list[str | None], level: str) -> list[str | None]:
    """For a desa join, the kecamatan code of each row coded as a kecamatan or desa (None else)."""
    hints = np.full(len(codes), None, dtype=object)
    levels_array = np.array(levels, dtype=object)
    inside = np.flatnonzero(np.isin(levels_array, ["kecamatan", "desa"]))
    written = string_array(codes[inside])
    if level != "desa" or not len(inside):
        return hints.tolist()
    if written is None:
        hints[inside] = [parent_code(c, "kecamatan") for c in codes[inside]]
        return hints.tolist()
    # parent_code(code, "kecamatan"): a kecamatan code itself, a desa code without its last part.
    desa = levels_array[inside] == "desa"
    stop = np.where(desa, np.strings.rfind(written, "."), np.strings.str_len(written))
    hints[inside] = np.strings.slice(written, 0, stop).astype(object)
    return hints.tolist()


def _code_levels(codes: np.ndarray) -> list[str | None]:
    """:func:`povmap.codes.code_level` of each code (None where not text), by its dots."""
    out = np.full(len(codes), None, dtype=object)
    text = np.flatnonzero(text_mask(codes))
    written = string_array(codes[text])
    if written is None:
        return [code_level(c) if isinstance(c, str) else None for c in codes]
    dots = np.strings.count(written, ".")
    ok = (np.strings.str_len(written) > 0) & (dots < 4)
    out[text[ok]] = np.array(LEVELS, dtype=object)[dots[ok]]
    return out.tolist()


def _refuse_truncated_codes(counts: pd.DataFrame, level: str, source: str) -> None:
    """Codes that a spreadsheet cut to ``6.30601E+09`` and no names to fall back on: say so.

    The table does have a code column, so "add a code column" would send the user looking for the
    wrong fault; what is wrong is that Excel turned the codes into scientific notation.
    """
    cut = _truncated_rows(counts)
    if not cut:
        return
    rows = ", ".join(str(counts["baris"].iloc[i]) for i in cut[:5]) + (
        " ..." if len(cut) > 5 else ""
    )
    example = counts["kode_asli"].iloc[cut[0]]
    raise PovmapInputError.from_catalogue(
        "join.excel_turned_table_area",
        source=source,
        example=example,
        rows=rows,
        n_cut=len(cut),
        n_counts=len(counts),
        level=level,
    )


def _truncated_code_notes(counts: pd.DataFrame, level: str) -> list[str]:
    """Name the rows whose codes a spreadsheet cut to ``6.30601E+09``: matched by name if they
    have one, else left unmatched (``alasan`` ``kode_terpotong``)."""
    cut = _truncated_rows(counts)
    if not cut:
        return []
    rows = ", ".join(str(counts["baris"].iloc[i]) for i in cut[:10]) + (
        " ..." if len(cut) > 10 else ""
    )
    example = counts["kode_asli"].iloc[cut[0]]
    names = counts[f"nama_{level}"] if f"nama_{level}" in counts.columns else None
    if names is not None and all(isinstance(names.iloc[i], str) for i in cut):
        how = message("join.cut_matched_by_name")
    else:
        how = message("join.cut_without_name", level=level)
    return [
        message("join.codes_cut_turned_into", n_cut=len(cut), example=example, rows=rows, how=how)
    ]


def _truncated_rows(counts: pd.DataFrame) -> list[int]:
    """Positions of the rows whose code a spreadsheet cut to ``6.30601E+09``."""
    if "kode_asli" not in counts.columns:
        return []
    written = counts["kode_asli"]
    text = np.flatnonzero(text_mask(written))
    # One search of all the texts first: a table without a letter e has no cut code.
    if not len(text) or not _SCIENTIFIC.search(_JOIN.join(written.to_numpy(dtype=object)[text])):
        return []
    # Only a text in scientific notation can be a cut code: test those alone, not every row.
    scientific = written.iloc[text].str.contains("[eE]", regex=True).to_numpy(dtype=bool)
    return [int(i) for i in text[scientific] if is_truncated_code(written.iloc[i])]


#: The letter of a number in scientific notation (``6.30601E+09``).
_SCIENTIFIC = re.compile("[eE]")


def _bps_note() -> Text:
    return message("join.table_codes_look_like")


def _match_codes(rows: _Rows, codes: list[str | None], known: pd.Series) -> None:
    """Match each row whose code is one of ``known`` (the areas' codes) to that area."""
    index = pd.Index(known.to_numpy(dtype=object), dtype=object)
    if not index.is_unique or index.hasnans:
        # A layer from a notebook may repeat a code or lack one: then the last area of a code
        # is its match, as a dict of the codes says.
        position = {code: i for i, code in enumerate(known)}
        for i, code in enumerate(codes):
            if code in position:
                rows.area[i], rows.how[i] = position[code], "code"
        return
    # All the rows at once (a national table: 83,403 codes).
    found = index.get_indexer(pd.Index(codes, dtype=object))
    hit = found >= 0
    area = np.array(rows.area, dtype=object)
    how = np.array(rows.how, dtype=object)
    area[hit], how[hit] = found[hit].astype(object), "code"
    rows.area, rows.how = area.tolist(), how.tolist()


def _check_code_names(
    rows: _Rows,
    counts: pd.DataFrame,
    areas: pd.DataFrame,
    level: str,
    codes: list[str | None],
    hints: list[str | None],
    notes: list[str],
) -> tuple[list[str | None], list[str | None]]:
    """Codes matched but names disagree for most rows: the codes are of another system.

    Then every code match is undone (the rows go on to name matching) and a note says so.
    """
    column = f"nama_{level}"
    if column not in counts.columns:
        return codes, hints
    from .names import normalize_name

    pairs = [
        (counts.at[i, column], areas.at[a, column])
        for i, a in enumerate(rows.area)
        if a is not None and isinstance(counts.at[i, column], str)
    ]
    if len(pairs) < 5:
        return codes, hints
    agree = sum(similarity(normalize_name(a), normalize_name(b)) >= 70 for a, b in pairs)
    if agree >= len(pairs) / 2:
        return codes, hints
    notes.append(
        message("join.rows_table_name_differs", value=len(pairs) - agree, n_pairs=len(pairs))
    )
    for i, how in enumerate(rows.how):
        if how == "code":
            rows.area[i], rows.how[i] = None, None
    return [None] * len(codes), [None] * len(hints)


def _match_names(
    rows: _Rows,
    counts: pd.DataFrame,
    index: AreaIndex,
    level: str,
    hints: list[str | None],
    threshold: float,
) -> dict[int, tuple[int, ...]]:
    """Exact name matches; returns the rows left for fuzzy matching with their candidate pools."""
    column = f"nama_{level}"
    pending: dict[int, tuple[int, ...]] = {}
    has_code = counts["kode_wilayah"].notna() if "kode_wilayah" in counts.columns else None
    cut = set(_truncated_rows(counts))
    for i in range(len(counts)):
        if rows.area[i] is not None:
            continue
        name = counts.at[i, column] if column in counts.columns else None
        if name is None or (isinstance(name, float) and np.isnan(name)):
            coded = has_code is not None and bool(has_code.iloc[i])
            rows.unmatch(
                i, "kode_tidak_ada" if coded else "kode_terpotong" if i in cut else "tanpa_nama"
            )
            continue
        found = index.locate(
            name,
            kecamatan=_cell(counts, i, "nama_kecamatan") if level == "desa" else None,
            kabupaten=_cell(counts, i, "nama_kabupaten"),
            kecamatan_code=hints[i],
            threshold=threshold,
        )
        if found.kind == "name":
            rows.area[i], rows.how[i] = found.index, "name"
        elif found.kind == "pending":
            pending[i] = found.pool
        else:
            rows.unmatch(i, found.reason, list(found.candidates))
            rows.how[i] = "ambiguous" if found.kind == "ambiguous" else None
    return pending


def _match_fuzzy(
    rows: _Rows,
    counts: pd.DataFrame,
    index: AreaIndex,
    level: str,
    pending: dict[int, tuple[int, ...]],
    threshold: float,
) -> None:
    """Close spellings within the row's kecamatan, never onto an area another row already has."""
    taken = {a for a in rows.area if a is not None}
    proposals: dict[int, list[int]] = {}
    for i, pool in pending.items():
        found = index.fuzzy(counts.at[i, f"nama_{level}"], pool, threshold=threshold)
        if found.index is None:
            rows.unmatch(
                i,
                "tidak_ada_yang_unggul" if found.ambiguous else "nama_tidak_ditemukan",
                found.candidates,
            )
            rows.how[i] = "ambiguous" if found.ambiguous else None
        elif found.index in taken:
            rows.unmatch(i, "mirip_wilayah_terpakai", found.candidates)
        else:
            proposals.setdefault(found.index, []).append(i)
            rows.candidates[i] = found.candidates
    for area, claimants in proposals.items():
        for i in claimants:
            if len(claimants) == 1:
                rows.area[i], rows.how[i] = area, "fuzzy"
            else:
                rows.unmatch(i, "bersaing", rows.candidates[i])
                rows.how[i] = "ambiguous"


def _moved_areas(
    rows: _Rows, counts: pd.DataFrame, display: pd.DataFrame, areas: pd.DataFrame, level: str
) -> list[str]:
    """Rows not found in their kecamatan whose name an area without a row has elsewhere.

    A desa moved to another kecamatan between code editions (Konawe Selatan's Ranowila:
    74.05.07.2021 in one table, 74.05.18.2006 in the boundaries) is never matched across
    kecamatan on the name alone, but the report names the likely area as a candidate.
    """
    from .names import name_key

    column = f"nama_{level}"
    if level != "desa" or column not in counts.columns:
        return []
    taken = {a for a in rows.area if a is not None}
    free: dict[str, list[int]] = {}
    for a, name in enumerate(areas[column]):
        if a not in taken and isinstance(name, str):
            free.setdefault(name_key(name), []).append(a)
    found = []
    for i, reason in enumerate(rows.reason):
        name = counts.at[i, column]
        if reason == "nama_tidak_ditemukan" and not rows.candidates[i] and isinstance(name, str):
            rows.candidates[i] = [(a, 100.0) for a in free.get(name_key(name), [])]
            if rows.candidates[i]:
                found.append(i)
    if not found:
        return []
    first = rows.candidates[found[0]][0][0]
    example = (
        f"{display.at[found[0], 'baris']} {display.at[found[0], column]}: "
        f"{areas.at[first, f'kode_{level}']}"
    )
    kecamatan = areas.at[first, "nama_kecamatan"]
    return [
        message(
            "join.rows_not_found_their", n_found=len(found), example=example, kecamatan=kecamatan
        )
    ]


def _drop_duplicates(
    rows: _Rows, counts: pd.DataFrame, areas: pd.DataFrame, level: str, columns: list[str]
) -> list[dict]:
    """One area given by several rows: keep the first, report the rest (and the problem)."""
    matched = pd.Series(rows.area, dtype=object).dropna()
    given_twice = matched[matched.duplicated(keep=False)]
    # Areas in the order of their first row, each with its rows in file order.
    by_area = {
        int(area): [int(i) for i in group.index]
        for area, group in given_twice.groupby(given_twice, sort=False)
    }
    problems = []
    for area, members in by_area.items():
        values = counts.loc[members, columns].fillna(-1.0)
        same = bool((values.nunique() <= 1).all())
        label = f"{areas.at[area, f'kode_{level}']} {areas.at[area, f'nama_{level}']}"
        problems.append(
            duplicate_problem([int(counts.at[i, "baris"]) for i in members], label, same)
        )
        for i in members[1:]:
            rows.unmatch(i, "baris_ganda", [(area, 100.0)])
    return problems


def _assemble(
    boundaries, areas, counts, display, rows: _Rows, level, count_columns, notes, problems
):
    key = f"kode_{level}"
    matched = np.array([a is not None for a in rows.area], dtype=bool)
    values = counts.loc[matched, ["baris", *count_columns]].copy()
    # One positional take, not a lookup per row (83,403 of them for the national layer).
    values[key] = areas[key].to_numpy()[[a for a in rows.area if a is not None]]
    values["cara_padan"] = [h for h, a in zip(rows.how, rows.area, strict=True) if a is not None]
    drop = [c for c in [*count_columns, "baris", "cara_padan"] if c in boundaries.columns]
    # One row per area on either side: checked with one hash table each, and only when it
    # fails by pandas' own check (validate="one_to_one", which sorts both sides' codes first),
    # for its error.
    unique = all(
        pd.Index(codes.to_numpy(dtype=object), dtype=object).is_unique
        for codes in (boundaries[key], values[key])
    )
    joined = boundaries.drop(columns=drop).merge(
        values, on=key, how="left", validate=None if unique else "one_to_one"
    )
    joined["baris"] = joined["baris"].astype("Int64")
    joined = joined[[c for c in joined.columns if c != "geometry"] + ["geometry"]]
    ambiguous = [i for i, h in enumerate(rows.how) if h == "ambiguous"]
    skipped = set(ambiguous)
    unmatched = [i for i in range(len(counts)) if not matched[i] and i not in skipped]
    report = JoinReport(
        level=level,
        matched=int(matched.sum()),
        matched_by={m: int((values["cara_padan"] == m).sum()) for m in METHODS},
        unmatched_counts=_rows(counts, display, unmatched, rows, areas, level, count_columns),
        unmatched_boundaries=_areas(joined[joined["baris"].isna()], level),
        ambiguous=_rows(counts, display, ambiguous, rows, areas, level, count_columns),
        totals=_totals(counts, pd.Series(matched, index=counts.index), count_columns),
        notes=notes,
        problems=problems,
        fuzzy=_fuzzy(display, rows, areas, level),
    )
    return joined, report


def _fuzzy(display: pd.DataFrame, rows: _Rows, areas: pd.DataFrame, level: str) -> list[dict]:
    """Every row matched by a close spelling: the table's name, the area it went to, the score."""
    out = []
    for i, how in enumerate(rows.how):
        if how != "fuzzy":
            continue
        area = rows.area[i]
        assert area is not None  # a fuzzy match always has its area
        score = next((s for a, s in rows.candidates[i] if a == area), float("nan"))
        record = {
            "baris": int(display.at[i, "baris"]),
            "nama_tabel": display.at[i, f"nama_{level}"],
        }
        out.append(record | _candidate(areas, level, area, score))
    return out


def _rows(counts, display, which, rows: _Rows, areas, level, count_columns) -> list[dict]:
    """Report records of the rows ``which``: their values as :func:`_shown_table` shows them."""
    table = display.join(
        counts[[c for c in ("kode_wilayah", *count_columns) if c in counts.columns]]
    )
    keep = [c for c in ("baris", "kode_asli", "kode_wilayah", *_NAMES) if c in table.columns]
    records = table.loc[which, keep + count_columns].to_dict(orient="records")
    for record, i in zip(records, which, strict=True):
        # A blank code or name cell (NaN once a by-name register is grouped) is shown blank in
        # the report and on the terminal, never as "nan".
        record.update({c: None for c in keep if _blank(record[c])})
        record["alasan"] = rows.reason[i]
        if rows.candidates[i]:
            record["kandidat"] = [_candidate(areas, level, a, s) for a, s in rows.candidates[i]]
    return records


def _blank(value: object) -> bool:
    return not isinstance(value, str) and bool(pd.isna(value))


def _candidate(areas: pd.DataFrame, level: str, area: int, score: float) -> dict:
    out = {
        f"kode_{level}": areas.at[area, f"kode_{level}"],
        f"nama_{level}": areas.at[area, f"nama_{level}"],
    }
    if level == "desa" and "nama_kecamatan" in areas.columns:
        out["nama_kecamatan"] = areas.at[area, "nama_kecamatan"]
    out["skor"] = round(float(score), 1)
    return out


def _cell(counts: pd.DataFrame, i: int, column: str) -> object:
    return counts.at[i, column] if column in counts.columns else None


def _label(level: str) -> str:
    return "Desa/Kelurahan" if level == "desa" else "Kecamatan"


def _totals(counts: pd.DataFrame, matched: pd.Series, columns: list[str]) -> dict:
    totals = {}
    for column in columns:
        values = counts[column].fillna(0)
        totals[column] = {
            "input": float(values.sum()),
            "matched": float(values[matched].sum()),
            "unmatched": float(values[~matched].sum()),
        }
    return totals


def _areas(areas: pd.DataFrame, level: str) -> list[dict]:
    keep = [f"kode_{level}", f"nama_{level}"] + (["nama_kecamatan"] if level == "desa" else [])
    return areas[keep].to_dict(orient="records")


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return None
        return int(value) if float(value).is_integer() else float(value)
    if value is pd.NA:
        return None
    if isinstance(value, str):
        return mask_text(str(value))  # a Text note becomes its plain Indonesian string
    return value
