"""Join a counts table to a boundary layer, and report what matched and what did not.

Nothing is lost: every data row of the table ends up matched, unmatched or ambiguous in the
:class:`JoinReport`, and every area without a row is listed. ``totals`` proves it per count column:
``input == matched + unmatched``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import PovmapInputError
from ._io import write_text
from .boundaries import boundary_level
from .codes import code_level, looks_like_bps
from .counts import COUNT_COLUMNS
from .i18n import check_lang, format_number

METHODS = ("code", "name", "fuzzy")


@dataclass
class JoinReport:
    """What the join did. The JSON form (:meth:`to_dict`) is a contract: see DESIGN.md."""

    level: str
    matched: int
    matched_by: dict[str, int]
    unmatched_counts: list[dict]
    unmatched_boundaries: list[dict]
    ambiguous: list[dict]
    totals: dict[str, dict[str, float]]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain JSON-ready dictionary."""
        return _jsonable(asdict(self))

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
        if lang == "id":
            lines = [
                f"Baris tabel cocok: {n(self.matched)} ({by or '-'})",
                f"Baris tanpa wilayah: {n(len(self.unmatched_counts))}",
                f"Baris ambigu: {n(len(self.ambiguous))}",
                f"Wilayah tanpa baris data: {n(len(self.unmatched_boundaries))}",
            ]
        else:
            lines = [
                f"Rows matched: {n(self.matched)} ({by or '-'})",
                f"Rows with no area: {n(len(self.unmatched_counts))}",
                f"Ambiguous rows: {n(len(self.ambiguous))}",
                f"Areas with no row: {n(len(self.unmatched_boundaries))}",
            ]
        for row in self.unmatched_counts[:10]:
            lines.append(f"  - baris {row['baris']}: {row.get('kode_asli') or ''} "
                         f"{row.get('nama_kecamatan') or ''} {row.get('nama_desa') or ''}".rstrip())
        lines.extend(f"! {note}" for note in self.notes)
        return "\n".join(lines)


@dataclass
class JoinResult:
    """The joined layer (every boundary area, counts where a row matched) and its report."""

    joined: gpd.GeoDataFrame
    report: JoinReport


def join(
    boundaries: gpd.GeoDataFrame,
    counts: pd.DataFrame,
    *,
    level: str | None = None,
) -> JoinResult:
    """Attach the counts to the boundary areas, by Kemendagri code.

    Parameters
    ----------
    boundaries
        Canonical boundary layer from :func:`povmap.read_boundaries` (desa or kecamatan).
    counts
        Canonical counts table from :func:`povmap.read_counts`.
    level
        ``"desa"`` or ``"kecamatan"``; by default the level of ``boundaries``. A desa layer joined
        at kecamatan level is dissolved to kecamatan first.

    Returns
    -------
    A :class:`JoinResult`: ``joined`` has every area of ``boundaries`` (count columns NaN where no
    row matched), ``baris`` (the table row) and ``cara_padan`` (how it matched); ``report`` lists
    everything that did not match.
    """
    from .metrics import dissolve  # metrics imports join's callers; keep the cycle out

    level = level or boundary_level(boundaries)
    if level not in ("desa", "kecamatan"):
        raise PovmapInputError(f"level={level!r} tidak dikenal; pilih 'desa' atau 'kecamatan'.")
    if boundary_level(boundaries) == "desa" and level == "kecamatan":
        boundaries = dissolve(boundaries, "kecamatan")
    elif boundary_level(boundaries) != level:
        raise PovmapInputError(
            f"Lapisan batas berisi kecamatan, tetapi level={level!r}: gunakan level 'kecamatan' "
            "atau berkas batas desa."
        )
    notes = _check_codes(counts, level)
    key = f"kode_{level}"
    known = set(boundaries[key])
    matched_code = counts.get("kode_wilayah", pd.Series(None, index=counts.index))
    matched_code = matched_code.where(matched_code.isin(known))
    _refuse_duplicates(counts, matched_code, key)

    count_columns = [c for c in COUNT_COLUMNS if c in counts.columns]
    is_matched = matched_code.notna()
    values = counts.loc[is_matched, ["baris", *count_columns]].assign(**{key: matched_code[is_matched]})
    values["cara_padan"] = "code"
    drop = [c for c in [*count_columns, "baris", "cara_padan"] if c in boundaries.columns]
    joined = boundaries.drop(columns=drop).merge(values, on=key, how="left", validate="one_to_one")
    joined["baris"] = joined["baris"].astype("Int64")
    joined = joined[[c for c in joined.columns if c != "geometry"] + ["geometry"]]

    report = JoinReport(
        level=level,
        matched=int(is_matched.sum()),
        matched_by={m: int((values["cara_padan"] == m).sum()) for m in METHODS},
        unmatched_counts=_rows(counts[~is_matched], count_columns),
        unmatched_boundaries=_areas(joined[joined["baris"].isna()], level),
        ambiguous=[],
        totals=_totals(counts, is_matched, count_columns),
        notes=notes,
    )
    return JoinResult(joined=joined, report=report)


def _check_codes(counts: pd.DataFrame, level: str) -> list[str]:
    """Refuse codes of the wrong system or level; return notes for the report."""
    if "kode_wilayah" not in counts.columns:
        return ["Tabel tidak punya kolom kode wilayah; padanan hanya bisa lewat nama."]
    codes = counts["kode_wilayah"].dropna()
    if codes.empty:
        return ["Kolom kode wilayah kosong atau tidak berisi kode Kemendagri."]
    if looks_like_bps(codes):
        raise PovmapInputError(
            "Kode di tabel tampaknya kode BPS (mis. 6306010001: kecamatan dan desa 3 digit), bukan "
            "kode Kemendagri (63.06.01.2001). Keduanya sama panjang tetapi penomorannya berbeda. "
            "Gunakan kode Kemendagri, atau kosongkan kolom kode agar dipadankan lewat nama."
        )
    levels = codes.map(code_level)
    wrong = levels != level
    if wrong.mean() > 0.5:
        found = levels.mode().iloc[0]
        raise PovmapInputError(
            f"Kode di tabel adalah kode {found} (mis. {codes[wrong].iloc[0]}), tetapi penggabungan "
            f"dilakukan pada level {level}. Gunakan --level {found}, atau tabel dengan kode {level}."
        )
    return []


def _refuse_duplicates(counts: pd.DataFrame, matched: pd.Series, key: str) -> None:
    dup = matched.notna() & matched.duplicated(keep=False)
    if dup.any():
        groups = counts[dup].groupby(matched[dup])["baris"].apply(list)
        listed = "; ".join(f"{code}: baris {', '.join(map(str, rows))}" for code, rows in
                           groups.head(10).items())
        raise PovmapInputError(
            f"Wilayah yang sama muncul lebih dari sekali di tabel ({listed}). Gabungkan atau hapus "
            "baris gandanya."
        )


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


def _rows(rows: pd.DataFrame, count_columns: list[str]) -> list[dict]:
    keep = [c for c in ("baris", "kode_asli", "kode_wilayah", "nama_kecamatan", "nama_desa")
            if c in rows.columns]
    return rows[keep + count_columns].to_dict(orient="records")


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
    return value
