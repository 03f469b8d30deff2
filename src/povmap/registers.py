"""By-name registers (P3KE, DTSEN) read one family per row, for targeting; and recipients lists.

:mod:`povmap.p3ke` sums a register to counts per desa and desil. Targeting needs more of each
family: which programs it receives (``penerima_pkh``, ``penerima_bpnt`` ...) and what its house
lacks (drinking water, latrine, floor, wall, roof, electricity, cooking fuel). This module reads
those into :class:`Register`, one row per family, holding only:

- where the family lives (its area columns, grouped per desa as
  :func:`povmap.p3ke.aggregate_by_name` groups them),
- its desil, the register's own family id (``id_keluarga_P3KE`` ...) and its first sheet row,
- per program a flag (1 receives, 0 does not, NaN unknown) and per condition a flag (1 lacks it,
  0 has it, NaN unknown).

NIK, KK numbers, names, addresses and phone numbers are never copied into it. To link a separate
recipients list (:func:`read_recipients`) by NIK or KK number, the register's identifiers are kept
**in memory only** as keyed hashes (BLAKE2b with a key drawn at random when povmap starts), in a
field that is not shown, never written and never the same from one run to the next.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import PovmapInputError, Text
from ._messages import message
from ._privacy import mask
from .counts import (
    _area_columns,
    _blank_rows,
    _code_text,
    _find_header,
    _header_key,
    _total_rows,
    read_table,
    recognise_headers,
)
from .p3ke import (
    BY_NAME_ALIASES,
    SHOWN_ROWS,
    _area_keys,
    _excluded,
    _status,
    by_name_columns,
    check_desil,
    desil_notes,
    desil_values,
)

#: Programs povmap recognises, with the header spellings of their flag column (after
#: lower-casing and folding punctuation to ``_``) and the words naming them in a recipients list.
PROGRAMS: dict[str, tuple[tuple[str, ...], str]] = {
    "pkh": (
        ("penerima_pkh", "pkh", "status_pkh", "kpm_pkh", "bansos_pkh", "penerima_bansos_pkh"),
        r"\bpkh\b|keluarga harapan",
    ),
    "bpnt": (
        (
            "penerima_bpnt",
            "penerima_sembako",
            "bpnt",
            "sembako",
            "kpm_bpnt",
            "kpm_sembako",
            "program_sembako",
            "penerima_program_sembako",
        ),
        r"bpnt|sembako|pangan non ?tunai",
    ),
    "pbi": (
        (
            "penerima_pbi",
            "pbi_jk",
            "penerima_pbi_jk",
            "pbi",
            "pbi_jkn",
            "penerima_pbi_jkn",
            "penerima_kis",
            "kis_pbi",
        ),
        r"\bpbi\b|pbi ?jkn?|\bkis\b|jkn",
    ),
    "blt_dd": (
        (
            "penerima_blt_dd",
            "blt_dd",
            "penerima_blt_dana_desa",
            "blt_dana_desa",
            "penerima_bltdd",
            "bltdd",
        ),
        r"blt ?dd|blt dana desa|dana desa",
    ),
    "bpum": (
        ("penerima_bpum", "bpum", "penerima_banpres_um", "banpres_um"),
        r"bpum|banpres|usaha mikro",
    ),
    "pip": (("penerima_pip", "pip", "penerima_kip", "kip"), r"\bpip\b|\bkip\b|indonesia pintar"),
}
#: Programs by their usual name, for labels.
PROGRAM_NAMES = {
    "pkh": "PKH",
    "bpnt": "BPNT/Sembako",
    "pbi": "PBI-JK",
    "blt_dd": "BLT Dana Desa",
    "bpum": "BPUM",
    "pip": "PIP",
}

#: Values of a program flag (after lower-casing and trimming).
_YES = frozenset({"ya", "y", "1", "iya", "true", "benar", "penerima", "menerima", "v", "ada"})
_NO = frozenset(
    {
        "tidak",
        "t",
        "0",
        "tdk",
        "no",
        "n",
        "false",
        "salah",
        "bukan",
        "bukan penerima",
        "tidak menerima",
        "bukan kpm",
    }
)
#: Flag values meaning nothing was recorded (blank, dash).
_BLANK = frozenset({"", "-", "–", "—", "nan", "none", "null", "n/a", "na", "#n/a"})


@dataclass(frozen=True)
class Condition:
    """A living condition: its header spellings and how a value is read.

    ``rules`` are tried in order on the value (lower-cased, punctuation as spaces); the first
    pattern that matches decides: True = the family lacks the condition, False = it has it. A
    value no rule matches is unknown (and counted in the notes).
    """

    aliases: tuple[str, ...]
    rules: tuple[tuple[str, bool], ...]


#: Flag-style answers (``memiliki_jamban: Ya``) shared by every condition, tried last.
_FLAG_RULES: tuple[tuple[str, bool], ...] = (
    (r"^(tidak|t|0|tdk|no|n|tidak ada|tidak punya|tidak memiliki|tidak layak)$", True),
    (r"^(ya|y|1|ada|punya|memiliki|layak)$", False),
)

#: Living conditions, their header spellings and value rules (BPS/P3KE categories; documented in
#: the README). The rules say "lacks" for what Susenas and P3KE count as not decent (*tidak layak*).
CONDITIONS: dict[str, Condition] = {
    "air_minum": Condition(
        (
            "sumber_air_minum",
            "sumber_air_minum_utama",
            "air_minum",
            "sumber_air",
            "akses_air_minum",
            "akses_air_minum_layak",
            "air_minum_layak",
        ),
        (
            (
                r"tidak terlindung|tak terlindung|sungai|danau|irigasi|waduk|kolam|lainnya|"
                r"tidak layak",
                True,
            ),
            (
                r"kemasan|isi ulang|leding|ledeng|\bpam\b|pdam|sumur bor|pompa|terlindung|"
                r"air hujan|layak",
                False,
            ),
        ),
    ),
    "sanitasi": Condition(
        (
            "fasilitas_bab",
            "fasilitas_buang_air_besar",
            "tempat_bab",
            "fasilitas_tempat_bab",
            "jamban",
            "kepemilikan_jamban",
            "memiliki_jamban",
            "punya_jamban",
            "sanitasi",
            "akses_sanitasi_layak",
            "kepemilikan_fasilitas_bab",
        ),
        (
            (
                r"tidak ada|tidak punya|tidak memiliki|tanpa|umum|sembarang|sungai|kebun|pantai|"
                r"lubang tanah|cubluk|tidak layak",
                True,
            ),
            (r"sendiri|bersama|leher angsa|tangki septik|septic|layak", False),
        ),
    ),
    "lantai": Condition(
        (
            "jenis_lantai",
            "jenis_lantai_terluas",
            "lantai",
            "lantai_terluas",
            "bahan_lantai",
            "bahan_lantai_terluas",
        ),
        (
            (r"tanah|bambu|kualitas rendah|lainnya", True),
            (
                r"keramik|marmer|granit|ubin|tegel|teraso|semen|bata|parket|vinil|permadani|karpet|"
                r"kayu|papan",
                False,
            ),
        ),
    ),
    "dinding": Condition(
        (
            "jenis_dinding",
            "jenis_dinding_terluas",
            "dinding",
            "dinding_terluas",
            "bahan_dinding",
            "bahan_dinding_terluas",
        ),
        (
            (r"plesteran", False),
            (
                r"tanpa (di)?plester|tidak diplester|bambu|batang kayu|rumbia|kualitas rendah|"
                r"lainnya",
                True,
            ),
            (r"tembok|beton|bata|batako|kayu|papan|seng|gipsum|gypsum|asbes|grc", False),
        ),
    ),
    "atap": Condition(
        (
            "jenis_atap",
            "jenis_atap_terluas",
            "atap",
            "atap_terluas",
            "bahan_atap",
            "bahan_atap_terluas",
        ),
        (
            (r"jerami|ijuk|daun|rumbia|bambu|lainnya|kualitas rendah", True),
            (r"beton|genteng|genting|seng|asbes|sirap|kayu|metal|spandek|galvalum", False),
        ),
    ),
    "listrik": Condition(
        (
            "sumber_penerangan",
            "sumber_penerangan_utama",
            "penerangan",
            "penerangan_utama",
            "listrik",
            "sumber_listrik",
            "memiliki_listrik",
            "akses_listrik",
        ),
        (
            (r"bukan listrik|tanpa listrik|pelita|minyak|obor|lilin|petromak|sentir|lainnya", True),
            (r"listrik|\bpln\b|surya|genset", False),
        ),
    ),
    "bahan_bakar": Condition(
        (
            "bahan_bakar_memasak",
            "bahan_bakar_utama_memasak",
            "bahan_bakar_untuk_memasak",
            "bahan_bakar",
            "bahan_bakar_utama",
            "energi_memasak",
        ),
        (
            (r"tidak memasak", False),
            (r"kayu|arang|minyak tanah|briket|lainnya", True),
            (r"listrik|gas|elpiji|lpg|biogas", False),
        ),
    ),
}

#: Identifier columns used to link a recipients list to the register (never output).
_NIK = (
    "nik",
    "nik_kepala_keluarga",
    "nik_krt",
    "nik_kk",
    "nik_art",
    "no_nik",
    "nomor_nik",
    "nik_penerima",
    "nik_kpm",
)
_KK = ("no_kk", "nomor_kk", "nkk", "no_kartu_keluarga", "nomor_kartu_keluarga")
#: Family identifiers that are the register's own (shown on the verification list).
_FAMILY_ID = tuple(a for a in BY_NAME_ALIASES["id_keluarga"] if a not in _KK)
#: Column of a recipients list naming the program of each row.
_PROGRAM_COLUMN = (
    "program",
    "nama_program",
    "jenis_program",
    "jenis_bantuan",
    "bantuan",
    "bansos",
    "jenis_bansos",
    "program_bantuan",
    "nama_bantuan",
)

#: The key of this process's identifier hashes: random, never stored, so a hash means nothing
#: outside this run.
_SECRET = os.urandom(32)


def _hash(kind: str, value: object) -> bytes | None:
    """Keyed hash of an identifier (``kind`` keeps a NIK apart from a KK of the same digits)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = re.sub(r"[\s.\-']", "", _code_text(value)).upper()
    if not text or text.lower() in _BLANK:
        return None
    return hashlib.blake2b(f"{kind}:{text}".encode(), key=_SECRET, digest_size=16).digest()


@dataclass(frozen=True)
class Register:
    """A by-name register, one row per family, without personal data.

    Attributes
    ----------
    families
        One row per family counted: ``baris`` (its first sheet row), ``id_keluarga`` (the
        register's own family id, None when the register has none), ``desil`` (1-10), ``_desa``
        (the desa key, see :func:`povmap.p3ke._area_keys`), then ``program_<p>`` for each program
        in :attr:`programs` and ``kurang_<c>`` for each condition in :attr:`conditions` (float:
        1, 0 or NaN = unknown).
    desa
        One row per desa key (index ``_desa``): the area columns as read (``kode_wilayah``,
        ``nama_kecamatan``, ``nama_desa`` ...), ``baris`` (first sheet row) and
        ``jumlah_keluarga`` (families counted): the table :func:`povmap.join` matches.
    programs, conditions
        The programs and conditions the register has a column for.
    columns
        ``{program or condition: header as written}``.
    individual
        Whether the export is one row per person.
    path
        The file read.
    info
        What was left out: ``baris_data``, ``dikecualikan`` (by ``status_keberadaan``),
        ``tanpa_desil``, ``desil_tidak_sah`` (impossible desil left out with
        ``allow_invalid``) and ``baris_desil_tidak_sah`` (the first of those rows),
        ``tidak_dikenali`` (unrecognised condition values per condition).
    """

    families: pd.DataFrame
    desa: pd.DataFrame
    programs: tuple[str, ...]
    conditions: tuple[str, ...]
    columns: dict[str, str]
    individual: bool
    path: str
    info: dict = field(default_factory=dict)
    #: Keyed hashes of NIK / KK / family id -> family position; in memory only.
    links: dict[bytes, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def has_family_id(self) -> bool:
        """Whether the register carries its own family id (``id_keluarga_P3KE`` ...)."""
        return bool(self.families["id_keluarga"].notna().any())

    def notes(self) -> list[Text]:
        """What reading left out, in Indonesian and English."""
        info = self.info
        notes = [
            message(
                "sasaran.register_individu" if self.individual else "sasaran.register_keluarga",
                rows=info["baris_data"],
                families=len(self.families),
            )
        ]
        if info.get("dikecualikan"):
            listed = ", ".join(f"{k}: {v}" for k, v in info["dikecualikan"].items())
            notes.append(message("sasaran.left_out", listed=listed))
        if info.get("tanpa_desil"):
            notes.append(message("sasaran.no_desil", n=info["tanpa_desil"]))
        notes.extend(desil_notes(info))
        for condition, n in info.get("tidak_dikenali", {}).items():
            notes.append(
                message(
                    "sasaran.unrecognised",
                    column=repr(self.columns[condition]),
                    n=n,
                    need=condition,
                )
            )
        return notes


def _cells(body: pd.DataFrame, position: int) -> list[object]:
    return body.iloc[:, position].tolist()


def _first(keys: list[str], aliases: Iterable[str]) -> int | None:
    return next((keys.index(a) for a in aliases if a in keys), None)


def _found(keys: list[str], aliases: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """``{name: position}`` of the names whose column is among ``keys`` (first alias wins)."""
    out = {}
    for name, spellings in aliases.items():
        position = _first(keys, spellings)
        if position is not None:
            out[name] = position
    return out


def _flag_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float, np.integer, np.floating)) and float(value).is_integer():
        return str(int(value))
    return " ".join(str(value).strip().lower().split())


def parse_flags(
    cells: Sequence[object], rows: Sequence[int], header: str, path: Path
) -> np.ndarray:
    """Program flags as 1.0 (receives), 0.0 (does not) and NaN (blank).

    Accepted: ``Ya/Tidak``, ``Y/T``, ``1/0``, ``true/false``, ``Penerima/Bukan penerima``, blank
    or ``-``.

    Raises
    ------
    PovmapInputError
        For any other value, naming the file, the sheet row and the column; the value is shown
        masked (it may be personal data that slid into the column).
    """
    out = np.full(len(cells), np.nan)
    for i, cell in enumerate(cells):
        text = _flag_text(cell)
        if text in _BLANK:
            continue
        if text in _YES:
            out[i] = 1.0
        elif text in _NO:
            out[i] = 0.0
        else:
            raise PovmapInputError.from_catalogue(
                "sasaran.bad_flag",
                path=path,
                row=rows[i],
                column=repr(header),
                value=mask(str(cell)),
            )
    return out


def condition_flags(cells: Sequence[object], condition: Condition) -> tuple[np.ndarray, int]:
    """``(flags, unrecognised)``: 1.0 lacks, 0.0 has, NaN blank or unrecognised."""
    rules = [(re.compile(p), v) for p, v in (*condition.rules, *_FLAG_RULES)]
    out = np.full(len(cells), np.nan)
    unknown = 0
    for i, cell in enumerate(cells):
        text = " ".join(re.sub(r"[^0-9a-z]+", " ", _flag_text(cell)).split())
        if text in _BLANK:
            continue
        verdict = next((v for pattern, v in rules if pattern.search(text)), None)
        if verdict is None:
            unknown += 1
        else:
            out[i] = float(verdict)
    return out, unknown


def check_programs(programs: Iterable[str] | str | None) -> tuple[str, ...] | None:
    """Program ids asked for (``"pkh,bpnt"`` or a list), checked; None = every program found.

    Raises
    ------
    PovmapInputError
        For a name that is not one of :data:`PROGRAMS`.
    """
    if programs is None:
        return None
    names = [
        p.strip().lower()
        for p in (programs.split(",") if isinstance(programs, str) else programs)
        if p.strip()
    ]
    unknown = [p for p in names if p not in PROGRAMS]
    if unknown or not names:
        known = ", ".join(PROGRAMS)
        raise PovmapInputError.from_catalogue(
            "sasaran.unknown_program", programs=", ".join(unknown) or "-", known=known
        )
    return tuple(dict.fromkeys(names))


def _not_a_register(path: Path) -> PovmapInputError:
    desil = ", ".join(BY_NAME_ALIASES["desil"][:3])
    return PovmapInputError.from_catalogue("sasaran.not_register", path=path, desil=desil)


def read_register(
    path: str | os.PathLike,
    *,
    sheet: str | int | None = None,
    column_map: dict[str, str] | None = None,
    programs: Iterable[str] | str | None = None,
    allow_invalid: bool = False,
) -> Register:
    """Read a P3KE/DTSEN by-name export into one row per family, for targeting.

    Parameters
    ----------
    path
        CSV or XLSX, one row per family or per person (an individual export needs a family id
        column: ``id_keluarga_P3KE``, ``id_keluarga``, ``no_kk`` ...).
    sheet, column_map
        As in :func:`povmap.read_counts` (area columns only).
    programs
        Program ids to read (``"pkh,bpnt"``; see :data:`PROGRAMS`); by default every program
        the register has a column for.
    allow_invalid
        Leave out rows whose desil is impossible (not a whole number 1 to 10), counted in
        ``info["desil_tidak_sah"]`` and noted, instead of stopping (``--allow-invalid``).

    Returns
    -------
    Register

    Raises
    ------
    PovmapInputError
        Not a by-name register, an individual export without a family id, a program asked for
        that the register has no column for, a program flag that is not Ya/Tidak, Y/T, 1/0 or
        blank, or (without ``allow_invalid``) an impossible desil (file, row and column named).
    """
    path = Path(path)
    wanted = check_programs(programs)
    table = read_table(path, sheet=sheet)
    try:
        header = _find_header(table, column_map, path)
    except PovmapInputError as exc:
        raise _not_a_register(path) from exc
    if header.by_name is None or "desil" not in header.by_name:
        raise _not_a_register(path)
    heads = ["" if pd.isna(h) else str(h).strip() for h in table.iloc[header.row].tolist()]
    keys = [_header_key(h) for h in heads]
    columns = by_name_columns(keys)
    body = table.iloc[header.first_data :]
    body = body[~_blank_rows(body)]
    body = body[~_total_rows(body, list(header.columns.values()))]
    if body.empty:
        raise PovmapInputError.from_catalogue("sasaran.no_rows", path=path)
    area = _area_columns(body, header.columns)
    rows = (body.index.to_numpy() + 1).tolist()
    individual = "id_individu" in columns or "hubungan" in columns

    found_programs = _found(keys, {p: aliases for p, (aliases, _) in PROGRAMS.items()})
    if wanted is not None:
        missing = [p for p in wanted if p not in found_programs]
        if missing:
            present = ", ".join(h for h in heads if h)
            raise PovmapInputError.from_catalogue(
                "sasaran.no_program_column",
                path=path,
                programs=", ".join(missing),
                example=PROGRAMS[missing[0]][0][0],
                columns=present,
            )
        found_programs = {p: found_programs[p] for p in wanted}
    found_conditions = _found(keys, {c: cond.aliases for c, cond in CONDITIONS.items()})

    status = (
        [_status(v) for v in _cells(body, columns["status"])]
        if "status" in columns
        else [""] * len(body)
    )
    gone = np.array([_excluded(s) for s in status], dtype=bool)
    desil, impossible = desil_values(_cells(body, columns["desil"]))
    bad_rows = np.asarray(rows)[impossible].tolist()
    check_desil(
        len(bad_rows),
        bad_rows,
        heads[columns["desil"]],
        path,
        allow_invalid=allow_invalid,
        total=len(rows),
    )
    # A row with an impossible desil is left out whole (``desil_tidak_sah``), whatever its
    # status says: a shifted row's status cell is as unreliable as its desil.
    gone &= ~impossible

    frame = pd.DataFrame({"baris": rows, "desil": desil, "_desa": _area_keys(area)})
    family_column = _first(keys, _FAMILY_ID)
    # Persons are put together by the family id, else by the KK number; only the register's own
    # family id is ever shown (a KK number is personal data, like a NIK).
    group_column = family_column if family_column is not None else _first(keys, _KK)
    frame["id_keluarga"] = (
        [None if _is_blank(v) else _code_text(v) for v in _cells(body, family_column)]
        if family_column is not None
        else None
    )
    if individual and group_column is None:
        raise PovmapInputError.from_catalogue("sasaran.no_family_id", path=path)
    if individual:
        assert group_column is not None
        groups = [_hash("kelompok", v) for v in _cells(body, group_column)]
        frame["_family"] = [
            f"{d}|{g.hex()}" if g is not None else f"baris|{r}"
            for d, g, r in zip(frame["_desa"], groups, rows, strict=True)
        ]
    else:
        frame["_family"] = [f"baris|{r}" for r in rows]
    for program, position in found_programs.items():
        frame[f"program_{program}"] = parse_flags(
            _cells(body, position), rows, heads[position], path
        )
    unknown: dict[str, int] = {}
    for condition, position in found_conditions.items():
        lacks, n = condition_flags(_cells(body, position), CONDITIONS[condition])
        frame[f"kurang_{condition}"] = lacks
        if n:
            unknown[condition] = n

    keep = ~gone & ~np.isnan(desil)
    links_rows = _link_rows(body, keys, frame["_family"].tolist())
    kept = frame[keep]
    flags = [c for c in kept.columns if c.startswith(("program_", "kurang_"))]
    grouped = kept.groupby("_family", sort=False)
    families = grouped.agg(
        {
            "baris": "min",
            "desil": "first",
            "_desa": "first",
            "id_keluarga": "first",
            **{c: ("max" if c.startswith("program_") else "first") for c in flags},
        }
    ).reset_index()
    index = {family: i for i, family in enumerate(families["_family"])}
    links = {h: index[f] for h, f in links_rows if f in index}
    families = families.drop(columns="_family")

    area = area.assign(_desa=frame["_desa"].to_numpy())[keep]
    area_cols = [c for c in area.columns if c not in ("_desa",)]
    desa = area.groupby("_desa", sort=False)[area_cols].agg(
        {c: ("min" if c == "baris" else "first") for c in area_cols}
    )
    desa["jumlah_keluarga"] = families.groupby("_desa").size().reindex(desa.index).astype(float)
    desa = desa.sort_values("baris")

    from .p3ke import _category

    left_out = pd.Series([_category(s) for s, g in zip(status, gone, strict=True) if g])
    info = {
        "baris_data": int(len(body)),
        "dikecualikan": {str(k): int(v) for k, v in sorted(left_out.value_counts().items())},
        "tanpa_desil": int((~gone & ~impossible & np.isnan(desil)).sum()),
        "desil_tidak_sah": len(bad_rows),
        "baris_desil_tidak_sah": bad_rows[:SHOWN_ROWS],
        "tidak_dikenali": unknown,
    }
    names = {
        **{p: heads[i] for p, i in found_programs.items()},
        **{c: heads[i] for c, i in found_conditions.items()},
    }
    return Register(
        families=families,
        desa=desa,
        programs=tuple(found_programs),
        conditions=tuple(found_conditions),
        columns=names,
        individual=individual,
        path=str(path),
        info=info,
        links=links,
    )


def _is_blank(value: object) -> bool:
    return _flag_text(value) in _BLANK


def _link_rows(body: pd.DataFrame, keys: list[str], families: list[str]) -> list[tuple[bytes, str]]:
    """(hash, family) of every identifier of every row: NIK, KK number, family id."""
    out = []
    sources = [
        ("nik", _first(keys, _NIK)),
        ("kk", _first(keys, _KK)),
        ("id", _first(keys, _FAMILY_ID)),
    ]
    for kind, position in sources:
        if position is None:
            continue
        for value, family in zip(_cells(body, position), families, strict=True):
            digest = _hash(kind, value)
            if digest is not None:
                out.append((digest, family))
    return out


@dataclass(frozen=True)
class Recipients:
    """A recipients list linked to a register, without personal data.

    Attributes
    ----------
    received
        ``{program: set of family positions in the register}`` for the families found.
    programs
        The programs the list covers (for those the list decides who receives).
    unfound
        One row per list entry not found in the register: ``program``, ``baris``, ``_desa``
        (the desa key of the list's own area columns, None without them).
    desa
        One row per desa key of the unfound entries and of all entries (index ``_desa``): area
        columns, ``baris``, ``jumlah_keluarga`` = entries of the list in that desa (the table
        :func:`povmap.join` matches), or None when the list has no area columns.
    entries
        Per desa key, the list's entries (after removing repeats of one person and program).
    path
        The file read.
    rows
        Data rows read.
    """

    received: dict[str, set[int]]
    programs: tuple[str, ...]
    unfound: pd.DataFrame
    desa: pd.DataFrame | None
    entries: pd.Series
    path: str
    rows: int


def read_recipients(
    path: str | os.PathLike, register: Register, *, sheet: str | int | None = None
) -> Recipients:
    """Read a recipients list (KPM) and link it to ``register`` by NIK, KK number or family id.

    The list has one row per family or person, an identifier column (``nik``, ``no_kk``,
    ``id_keluarga_P3KE`` ...) and either a program column (``program``, ``jenis_bantuan`` ...:
    "PKH", "BPNT", "Sembako", "PBI-JK", "BLT DD" ...) or program flag columns
    (``penerima_pkh`` ...). Area columns (``kode_kemdagri``, ``kecamatan``, ``desa_kelurahan``)
    place the entries not found in the register per desa.

    Linking happens in memory (keyed hashes, :data:`_SECRET`); no identifier is kept.

    Raises
    ------
    PovmapInputError
        No header with an identifier and a program, or a program name not recognised (file,
        row and column named).
    """
    path = Path(path)
    table = read_table(path, sheet=sheet)
    found = None
    for row in range(min(30, len(table))):
        heads = ["" if pd.isna(h) else str(h).strip() for h in table.iloc[row].tolist()]
        keys = [_header_key(h) for h in heads]
        ids = list(_found(keys, {"nik": _NIK, "kk": _KK, "id": _FAMILY_ID}).items())
        program_col = _first(keys, _PROGRAM_COLUMN)
        flags = _found(keys, {p: a for p, (a, _) in PROGRAMS.items()})
        if ids and (program_col is not None or flags):
            found = (row, heads, keys, ids, program_col, flags)
            break
    if found is None:
        raise PovmapInputError.from_catalogue("sasaran.recipients_header", path=path)
    row, heads, keys, ids, program_col, flags = found
    body = table.iloc[row + 1 :]
    body = body[~_blank_rows(body)]
    rows = (body.index.to_numpy() + 1).tolist()
    area_positions = {
        c: p
        for c, p in recognise_headers(heads).items()
        if c in ("kode_wilayah", "nama_provinsi", "nama_kabupaten", "nama_kecamatan", "nama_desa")
    }
    has_area = any(c in area_positions for c in ("kode_wilayah", "nama_desa"))
    area = _area_columns(body, area_positions) if has_area else None
    desa_keys = _area_keys(area) if area is not None else [None] * len(body)

    entries: list[tuple[str, int, object, list[bytes]]] = []  # program, row, desa, hashes
    per_row: list[list[bytes]] = []
    for i in range(len(body)):
        values = body.iloc[i].tolist()
        per_row.append([h for kind, p in ids if (h := _hash(kind, values[p])) is not None])
    if program_col is not None:
        pattern = [(p, re.compile(words)) for p, (_, words) in PROGRAMS.items()]
        for i, cell in enumerate(_cells(body, program_col)):
            text = " ".join(re.sub(r"[^0-9a-z]+", " ", _flag_text(cell)).split())
            if text in _BLANK:
                continue
            program = next((p for p, rx in pattern if rx.search(text)), None)
            if program is None:
                raise PovmapInputError.from_catalogue(
                    "sasaran.recipients_program",
                    path=path,
                    row=rows[i],
                    column=repr(heads[program_col]),
                    value=mask(str(cell)),
                )
            entries.append((program, rows[i], desa_keys[i], per_row[i]))
    for program, position in flags.items():
        values = parse_flags(_cells(body, position), rows, heads[position], path)
        entries += [
            (program, rows[i], desa_keys[i], per_row[i]) for i in np.flatnonzero(values == 1.0)
        ]

    received: dict[str, set[int]] = {}
    unfound, seen, counted = [], set(), []
    for program, baris, desa_key, digests in entries:
        identity = (program, digests[0] if digests else baris)
        if identity in seen:  # the same person or family listed twice for one program
            continue
        seen.add(identity)
        counted.append(desa_key)
        family = next((register.links[h] for h in digests if h in register.links), None)
        if family is None:
            unfound.append({"program": program, "baris": baris, "_desa": desa_key})
        else:
            received.setdefault(program, set()).add(family)
    programs = tuple(sorted({e[0] for e in entries}, key=list(PROGRAMS).index))
    desa = None
    if area is not None:
        area = area.assign(_desa=desa_keys)
        cols = [c for c in area.columns if c != "_desa"]
        desa = area.groupby("_desa", sort=False)[cols].agg(
            {c: ("min" if c == "baris" else "first") for c in cols}
        )
        desa["jumlah_keluarga"] = (
            pd.Series(counted).value_counts().reindex(desa.index).fillna(0).astype(float)
        )
        desa = desa[desa["jumlah_keluarga"] > 0].sort_values("baris")
    return Recipients(
        received=received,
        programs=programs,
        unfound=pd.DataFrame(unfound, columns=["program", "baris", "_desa"]),
        desa=desa,
        entries=pd.Series(counted, dtype=object).value_counts(dropna=False),
        path=str(path),
        rows=int(len(body)),
    )
