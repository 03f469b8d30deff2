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
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import Text
from ._messages import message

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


def _desil(value: object) -> float:
    """``1``, ``1.0``, ``"Desil 1"``, ``"desil 1 (sangat miskin)"`` -> 1; otherwise NaN."""
    match = re.search(r"\d+", str(value)) if value is not None else None
    if not match:
        return np.nan
    number = int(match.group())
    return float(number) if 1 <= number <= 10 else np.nan


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
    body: pd.DataFrame, area: pd.DataFrame, columns: dict[str, int], path: Path
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

    Returns
    -------
    frame : pandas.DataFrame
        One row per desa: the area columns (first row of the desa; ``baris`` is its first sheet
        row), ``jumlah_desil_d`` (people) and ``jumlah_keluarga_desil_d`` (families) for d = 1
        up to the highest desil present (at least 4).
    left_out : dict
        What was counted and left out (:attr:`povmap.counts.CountsInfo.p3ke`); its notes are
        :func:`notes_of`.
    """
    cells = {name: body.iloc[:, pos].tolist() for name, pos in columns.items()}
    n = len(body)
    individual = any(m in columns for m in ("id_individu", "hubungan"))
    desil = np.array([_desil(v) for v in cells["desil"]])
    status = [_status(v) for v in cells.get("status", [""] * n)]
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
        ``dikecualikan``, ``tanpa_desil``).

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
    return notes
