"""Progress toward the target across vintages: per desa change, kecamatan and kabupaten series.

Every vintage (a counts table of one period) is joined to the same boundary layer with
:func:`povmap.join`, so each has its own :class:`~povmap.join.JoinReport`. Before joining, rows
whose Kemendagri code belongs to another code-table edition are matched to the current areas
(:func:`crosswalk`): by code first, then by kecamatan and desa name, then by a desa name that is
unique in the layer, and every code that changed is reported. Nothing is compared silently:

- a desa with data in one vintage and none in another is kept and marked ``baru`` (new) or
  ``hilang`` (gone); a gap in a middle vintage is reported;
- a desa split (pemekaran) or merged between vintages is reported and its change is not computed
  from areas that are not the same (``arah = tidak_sebanding``);
- vintages with different count columns are compared only on the measure they all have;
- P3KE (2022-2024) and DTSEN (2025-) are different registers: vintages of different registers are
  kept in separate series unless the caller forces one series (``force_compare``).

This module computes; the files (GeoJSON, GeoPackage, HTML, CSV/XLSX, chart, manifest) are
written by :func:`povmap.export.trend.write_trend`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import PovmapInputError, Text
from ._messages import message, text
from ._module import make_callable
from .boundaries import (
    AREA_COLUMNS,
    BoundaryInfo,
    BoundaryLayer,
    boundary_level,
    read_boundaries,
)
from .codes import code_level, code_system
from .counts import CountsInfo, CountsTable, read_counts
from .defaults import TARGET_PERCENT, TOLERANCE_POINTS
from .i18n import format_number, format_percent, number_text
from .join import JoinReport, _jsonable, join
from .metrics import RATES
from .names import FUZZY_THRESHOLD, name_key, normalize_name, similarity
from .simplify import utm_crs

#: Measures a trend can follow, in order of preference: people in extreme poverty first.
MEASURES = (
    "jumlah_miskin_ekstrem",
    "jumlah_keluarga_miskin_ekstrem",
    "jumlah_desil_1",
    "jumlah_keluarga_desil_1",
)
REGISTERS = ("p3ke", "dtsen")
#: Values of ``arah``: the direction of the change from the first to the last vintage.
DIRECTIONS = ("turun", "tetap", "naik", "baru", "hilang", "tidak_sebanding", "tanpa_data")
#: The measure a target share of the population applies to.
TARGET_MEASURE = "jumlah_miskin_ekstrem"
#: A vintage label becomes part of column names: letters, digits, ``_`` and ``-`` only.
_LABEL = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,19}")
#: Population check for a split or a merge: the parts add up to the whole within this share.
_POPULATION_MATCH = 0.10
#: ... and the area that kept the name lost (split) or gained (merge) at least this share.
_POPULATION_SHIFT = 0.15
#: Words a new desa adds to its parent's name (after :func:`povmap.names.normalize_name`).
_SPLIT_WORDS = {
    "baru",
    "jaya",
    "induk",
    "lama",
    "ilir",
    "ulu",
    "darat",
    "laut",
    "timur",
    "barat",
    "utara",
    "selatan",
    "tengah",
    "i",
    "ii",
    "iii",
    "iv",
    "v",
    "1",
    "2",
    "3",
    "4",
    "5",
}


@dataclass(frozen=True)
class Trend:
    """The result of :func:`trend`.

    Attributes
    ----------
    desa
        One row per desa of the boundary layer (EPSG as read): ``kode_desa``, names, per vintage
        ``<measure>_<label>``, ``jumlah_penduduk_<label>`` and ``<rate>_<label>`` (when the
        population is known), then ``perubahan_jumlah``, ``perubahan_persen`` (percentage
        points), ``arah``, ``selisih_target_jiwa``, ``selisih_target_persen`` and ``catatan``.
    kecamatan
        One row per kecamatan, then one ``tingkat == "kabupaten"`` line per kabupaten: the same
        per-vintage totals and rates (recomputed from the sums), the change, the number of desa
        by direction (``desa_<arah>``) and the gap to the target.
    labels
        The vintage labels, oldest first.
    series
        The labels compared by ``perubahan_*`` (first and last of it): all labels, or the longest
        run of one register when registers differ and the comparison was not forced.
    measures
        Per label, the count column followed (the series share one).
    registers
        Per label, ``"p3ke"``, ``"dtsen"`` or None (not recognised).
    target
        The target, in percent of the population (0 = no one in extreme poverty).
    tolerance
        ``tetap`` means a change within this many percentage points (or no change in people
        when the population is unknown).
    reports
        Per label, the join report of that vintage.
    changes
        What the matching across vintages found: ``kode_berubah``, ``nama_berbeda``, ``baru``,
        ``hilang``, ``tidak_lengkap``, ``pemekaran``, ``penggabungan``, ``tanpa_wilayah``.
    notes
        Bilingual notes (:class:`povmap._errors.Text`) for the map, the summaries and the terminal.
    forced
        Whether vintages of different registers were put in one series on request.
    inputs
        The files read (``batas``, ``tabel_<label>``), for the manifest.
    boundary
        What reading the boundary file found (:class:`povmap.BoundaryInfo`), for the manifest;
        None when the boundaries were given as a GeoDataFrame.
    """

    desa: gpd.GeoDataFrame
    kecamatan: pd.DataFrame
    labels: tuple[str, ...]
    series: tuple[str, ...]
    measures: dict[str, str]
    registers: dict[str, str | None]
    target: float
    tolerance: float
    reports: dict[str, JoinReport]
    changes: dict[str, list | dict] = field(default_factory=dict)
    notes: tuple[Text, ...] = ()
    forced: bool = False
    inputs: dict[str, str] = field(default_factory=dict)
    boundary: BoundaryInfo | None = None

    @property
    def measure(self) -> str:
        """The count column the series follows (e.g. ``jumlah_miskin_ekstrem``)."""
        return self.measures[self.series[0]]

    @property
    def rate(self) -> str | None:
        """The rate of :attr:`measure` (e.g. ``persen_miskin_ekstrem``), None if it has none."""
        return rate_of(self.measure)

    @property
    def kabupaten(self) -> pd.DataFrame:
        """The kabupaten line(s) of :attr:`kecamatan`."""
        return self.kecamatan[self.kecamatan["tingkat"] == "kabupaten"].reset_index(drop=True)

    @property
    def change_column(self) -> str:
        """``perubahan_persen`` when rates are known, else ``perubahan_jumlah``."""
        return (
            "perubahan_persen"
            if self.desa["perubahan_persen"].notna().any()
            else "perubahan_jumlah"
        )

    def column(self, label: str, kind: str = "jumlah") -> str:
        """The desa/kecamatan column of vintage ``label``: ``kind`` is ``jumlah``, ``persen``
        or ``penduduk``."""
        measure = self.measures[label]
        if kind == "penduduk":
            return f"jumlah_penduduk_{label}"
        if kind == "persen":
            rate = rate_of(measure)
            return f"{rate}_{label}" if rate else ""
        return f"{measure}_{label}"

    def report(self) -> dict:
        """The trend report as plain JSON-ready data (written as ``laporan_tren.json``)."""
        return _jsonable(
            {
                "periode": list(self.labels),
                "seri": list(self.series),
                "register": self.registers,
                "register_dipaksa": self.forced,
                "ukuran": self.measures,
                "target_persen": self.target,
                "toleransi_poin": self.tolerance,
                **self.changes,
                "catatan": [str(n) for n in self.notes],
                "catatan_en": [n.en for n in self.notes],
            }
        )

    def summary(self, lang: str = "id") -> str:
        """A few lines for the terminal: the kabupaten series, the change and the notes."""
        lines = []
        for _, row in self.kabupaten.iterrows():
            values = {}
            for label in self.labels:
                rate = self.column(label, "persen")
                value = (
                    format_percent(row.get(rate), 2, lang)
                    if rate and pd.notna(row.get(rate))
                    else format_number(row.get(self.column(label)), 0, lang)
                )
                values[label] = f"{label}: {value}"
            # Only the compared series is chained with arrows: a vintage of another register
            # (P3KE beside DTSEN) is shown apart, never as a step of the same series.
            line = " → ".join(values[lb] for lb in self.series)
            apart = [values[lb] for lb in self.labels if lb not in self.series]
            if apart:
                line += text("trend.summary_apart", lang, apart="; ".join(apart))
            lines.append(f"{row['nama_kecamatan']}: {line}")
            # The column keeps the Indonesian words; an English summary translates them.
            counts = ", ".join(
                f"{text(f'direction.{a}', lang)} {format_number(row.get(f'desa_{a}'), 0, lang)}"
                for a in DIRECTIONS
                if row.get(f"desa_{a}")
            )
            lines.append(text("trend.summary_desa", lang, counts=counts))
        lines.extend(f"! {n.en if lang == 'en' else str(n)}" for n in self.notes)
        return "\n".join(lines)


def rate_of(measure: str) -> str | None:
    """The rate column :data:`povmap.metrics.RATES` computes from ``measure``, if any."""
    return next((rate for rate, (num, _) in RATES.items() if num == measure), None)


def trend(
    boundaries: BoundaryLayer | gpd.GeoDataFrame | str | os.PathLike,
    tables: Mapping[str, CountsTable | pd.DataFrame | str | os.PathLike],
    *,
    target: float = TARGET_PERCENT,
    tolerance: float = TOLERANCE_POINTS,
    registers: Mapping[str, str] | str | None = None,
    force_compare: bool = False,
    fuzzy_threshold: float = FUZZY_THRESHOLD,
    allow_invalid: bool = False,
    boundary_options: Mapping[str, Any] | None = None,
    counts_options: Mapping[str, Any] | None = None,
) -> Trend:
    """Follow extreme poverty per desa across vintages, toward a target.

    Parameters
    ----------
    boundaries
        A desa boundary layer (:func:`povmap.read_boundaries`, or its ``.gdf``) or its file.
    tables
        ``{label: table}``, oldest first: each a counts table (:func:`povmap.read_counts`, or a
        DataFrame) or its file. Labels (e.g. ``"2022"``, ``"2024-03"``) become part of column names.
    target
        Target share of the population in extreme poverty, in percent (0 by default).
    tolerance
        ``arah = tetap`` when the rate changed by at most this many percentage points (0.1 by
        default); when a desa's population is unknown, when its count did not change.
    registers
        ``"p3ke"`` or ``"dtsen"`` for every vintage, or ``{label: register}``; by default
        recognised from each table's columns (desil above 4 or a DTSEN header: DTSEN; extreme
        poverty counts, desil 1-4 only or a P3KE header: P3KE).
    force_compare
        Put vintages of different registers in one series anyway (the outputs still say that
        they differ). Without it they are kept apart: the change covers the longest run of
        vintages of one register.
    fuzzy_threshold, allow_invalid
        As in :func:`povmap.join`; ``allow_invalid`` also as in :func:`povmap.read_counts` (rows
        of a by-name register with an impossible desil left out and counted).
    boundary_options
        Keyword arguments of :func:`povmap.read_boundaries` (``layer``, ``columns``, ``crs``,
        ``encoding`` ...), when ``boundaries`` is a file.
    counts_options
        Keyword arguments of :func:`povmap.read_counts` (``sheet``, ``column_map``), when a
        table is a file.

    Returns
    -------
    A :class:`Trend`: the per-desa layer, the kecamatan and kabupaten summaries, the join report of
    every vintage and what matching across vintages found.

    Raises
    ------
    PovmapInputError
        Fewer than two vintages, a bad label, a kecamatan boundary layer, a vintage that matches
        no desa, no measure common to the compared vintages, or registers that differ with no two
        vintages of one register (unless forced).
    """
    labels = _check_labels(list(tables))
    if tolerance < 0:
        raise PovmapInputError.from_catalogue(
            "trend.tolerance_number_percentage_points", tolerance=tolerance
        )
    if not 0 <= target <= 100:
        raise PovmapInputError.from_catalogue("trend.target_percentage_between", target=target)
    read = (
        boundaries
        if isinstance(boundaries, BoundaryLayer | gpd.GeoDataFrame)
        else read_boundaries(boundaries, **(boundary_options or {}))
    )
    info = read.source if isinstance(read, BoundaryLayer) else None
    bounds = read.gdf if isinstance(read, BoundaryLayer) else read
    if boundary_level(bounds) != "desa":
        raise PovmapInputError.from_catalogue("trend.trends_computed_per_desa")
    bounds = bounds.reset_index(drop=True)
    counts = {
        label: (
            table
            if isinstance(table, CountsTable | pd.DataFrame)
            else read_counts(table, allow_invalid=allow_invalid, **(counts_options or {}))
        )
        for label, table in tables.items()
    }
    # What reading each file found (None for a table built in Python): path, headers, notes.
    sources = {
        label: t.source if isinstance(t, CountsTable) else None for label, t in counts.items()
    }
    notes: list[Text] = []
    changes: dict = {"kode_berubah": [], "nama_berbeda": []}
    reports, joined = {}, {}
    for label, table in counts.items():
        frame, moved, renamed = crosswalk(
            bounds, table.frame if isinstance(table, CountsTable) else table
        )
        changes["kode_berubah"] += [{"periode": label, **m} for m in moved]
        changes["nama_berbeda"] += [{"periode": label, **r} for r in renamed]
        source = sources[label]
        result = join(
            bounds,
            frame if source is None else CountsTable(frame, source),
            level="desa",
            fuzzy_threshold=fuzzy_threshold,
            allow_invalid=allow_invalid,
        )
        if moved:
            result.report.notes.append(
                message("trend.rows_coded_another_edition", n_moved=len(moved))
            )
        if result.report.matched == 0:
            where = source.path if source is not None else label
            raise PovmapInputError.from_catalogue(
                "trend.vintage_no_row_matches", label=label, source=where
            )
        reports[label], joined[label] = result.report, result.joined
    found = {label: _register(counts[label], sources[label]) for label in labels}
    chosen = _chosen_registers(labels, registers, found)
    series, forced = _series(labels, chosen, force_compare, notes)
    measures = _measures(labels, series, joined, notes)
    desa = _wide(bounds, joined, labels, measures)
    desa = _changes(desa, series, measures, target, tolerance)
    changes.update(_presence(desa, labels, measures))
    changes["pemekaran"] = _splits(desa, series, measures)
    changes["penggabungan"] = _merges(desa, series, measures, reports)
    changes["tanpa_wilayah"] = _unplaced(reports, measures, changes["penggabungan"])
    desa = _incomparable(desa, changes)
    notes += _change_notes(changes, labels)
    if measures[series[-1]] != TARGET_MEASURE:
        notes.append(
            message(
                "trend.target_applies_share_people",
                target=Text(format_percent(target), format_percent(target, lang="en")),
                measures=measures[series[-1]],
            )
        )
    kecamatan = summarise(desa, labels, series, measures, target)
    inputs = {
        f"tabel_{label}": str(table)
        for label, table in tables.items()
        if not isinstance(table, pd.DataFrame)
    }
    if not isinstance(boundaries, BoundaryLayer | gpd.GeoDataFrame):
        inputs = {"batas": str(boundaries), **inputs}
    return Trend(
        desa=desa,
        kecamatan=kecamatan,
        labels=tuple(labels),
        series=tuple(series),
        measures=measures,
        registers=chosen,
        target=float(target),
        tolerance=float(tolerance),
        reports=reports,
        changes=changes,
        notes=tuple(notes),
        forced=forced,
        inputs=inputs,
        boundary=info,
    )


def _check_labels(labels: list[str]) -> list[str]:
    if len(labels) < 2:
        raise PovmapInputError.from_catalogue("trend.trend_needs_least_two")
    bad = [str(lb) for lb in labels if not _LABEL.fullmatch(str(lb))]
    if bad:
        raise PovmapInputError.from_catalogue(
            "trend.vintage_label_cannot_used", bad=", ".join(map(repr, bad))
        )
    if len(set(labels)) != len(labels):
        twice = sorted({lb for lb in labels if labels.count(lb) > 1})
        raise PovmapInputError.from_catalogue(
            "trend.vintage_label_used_twice", twice=", ".join(twice)
        )
    return [str(lb) for lb in labels]


# --- matching across code-table editions ------------------------------------------------------


def crosswalk(
    bounds: gpd.GeoDataFrame, table: pd.DataFrame
) -> tuple[pd.DataFrame, list[dict], list[dict]]:
    """Point rows coded in another code-table edition to the desa they name.

    Kepmendagri codes change between editions (a desa can move to another kecamatan code).
    povmap ships no edition crosswalk, so the rows are matched as the join matches names: a row
    whose desa code is not in the layer is pointed to the desa with its kecamatan and desa name,
    or else to the only desa of the layer with its name; a row whose code belongs to a desa of
    another name is pointed to the one desa that has its name, when there is one (a code reused
    for another desa), and otherwise kept (a desa renamed) and listed.

    Parameters
    ----------
    bounds
        Canonical desa layer.
    table
        Canonical counts table (``kode_wilayah`` dotted, ``nama_desa``, ``nama_kecamatan``).

    Returns
    -------
    The table with ``kode_wilayah`` rewritten where a match was found (``kode_asli`` keeps the
    code as written), the rows whose code changed (``baris``, ``kode_asli``, ``kode_desa``,
    names, ``cara``), and the rows whose code matched a desa of another name.
    """
    if (
        "kode_wilayah" not in table.columns
        or "nama_desa" not in table.columns
        or table["kode_wilayah"].isna().all()
    ):
        return table, [], []
    raw = table["kode_asli"] if "kode_asli" in table.columns else table["kode_wilayah"]
    if code_system(raw) == "bps":
        return table, [], []  # the join matches BPS-coded rows by name and says so
    table = table.reset_index(drop=True)
    if "baris" not in table.columns:
        table = table.assign(baris=np.arange(1, len(table) + 1))
    codes = list(bounds["kode_desa"])
    position = {c: i for i, c in enumerate(codes)}
    desa_keys = [name_key(n) for n in bounds["nama_desa"]]
    kec_keys = [name_key(n) for n in bounds["nama_kecamatan"]]
    by_name: dict[str, list[int]] = {}
    by_pair: dict[tuple[str, str], list[int]] = {}
    for i, (d, k) in enumerate(zip(desa_keys, kec_keys, strict=True)):
        by_name.setdefault(d, []).append(i)
        by_pair.setdefault((k, d), []).append(i)
    given = [
        c if isinstance(c, str) and code_level(c) == "desa" else None for c in table["kode_wilayah"]
    ]
    claimed = {position[c] for c in given if c in position}
    out = table.copy()
    moved, renamed = [], []
    for i, code in enumerate(given):
        name = table.at[i, "nama_desa"]
        if code is None or not isinstance(name, str) or not name_key(name):
            continue
        kecamatan = table.at[i, "nama_kecamatan"] if "nama_kecamatan" in table.columns else None
        key = name_key(name)
        if code in position:
            area = position[code]
            if (
                key == desa_keys[area]
                or similarity(normalize_name(name), normalize_name(bounds.at[area, "nama_desa"]))
                >= 70
            ):
                continue
            found, how = _by_names(key, kecamatan, by_pair, by_name)
            record = {
                "baris": _int(table.at[i, "baris"]),
                "kode_asli": code,
                "nama_desa": name,
                "nama_desa_batas": bounds.at[area, "nama_desa"],
            }
            if found is None or found in claimed:
                renamed.append(record)
                continue
            how = f"kode_dipakai_desa_lain_{how}"
        else:
            found, how = _by_names(key, kecamatan, by_pair, by_name)
            if found is None or found in claimed:
                continue
        claimed.add(found)
        out.at[i, "kode_wilayah"] = codes[found]
        moved.append(
            {
                "baris": _int(table.at[i, "baris"]),
                "kode_asli": code,
                "kode_desa": codes[found],
                "nama_desa": bounds.at[found, "nama_desa"],
                "nama_kecamatan": bounds.at[found, "nama_kecamatan"],
                "nama_kecamatan_tabel": kecamatan if isinstance(kecamatan, str) else None,
                "cara": how,
            }
        )
    return out, moved, renamed


def _by_names(key: str, kecamatan: object, by_pair: dict, by_name: dict) -> tuple[int | None, str]:
    """The one desa with this (kecamatan,) desa name, and how it was found."""
    if isinstance(kecamatan, str) and name_key(kecamatan):
        found = by_pair.get((name_key(kecamatan), key), [])
        if len(found) == 1:
            return found[0], "nama_kecamatan_desa"
    found = by_name.get(key, [])
    return (found[0], "nama_desa_unik") if len(found) == 1 else (None, "")


# --- registers and the series -----------------------------------------------------------------


def _register(table: CountsTable | pd.DataFrame, info: CountsInfo | None) -> str | None:
    """``p3ke`` / ``dtsen`` from a table's headers, file name and columns; None if unknown."""
    table = table.frame if isinstance(table, CountsTable) else table
    headers = " ".join(str(h) for h in (info.columns if info else {}).values()).lower()
    for register in ("dtsen", "p3ke"):
        if register in headers:
            return register
    stem = Path(info.path).stem.lower() if info else ""
    hints = [r for r in REGISTERS if r in stem]
    if len(hints) == 1:
        return hints[0]
    high = [
        d
        for d in range(5, 11)
        for c in (f"jumlah_desil_{d}", f"jumlah_keluarga_desil_{d}")
        if c in table.columns and table[c].notna().any()
    ]
    if high:
        return "dtsen"  # P3KE covers desil 1-4 only
    if any(
        c in table.columns
        for c in (
            "jumlah_miskin_ekstrem",
            "jumlah_keluarga_miskin_ekstrem",
            "jumlah_desil_1",
            "jumlah_keluarga_desil_1",
        )
    ):
        return "p3ke"
    return None


def _chosen_registers(
    labels: list[str], given: Mapping[str, str] | str | None, found: dict[str, str | None]
) -> dict[str, str | None]:
    if given is None:
        return found
    if isinstance(given, str):
        parts = [p.strip().lower() for p in given.split(",") if p.strip()]
        if len(parts) == 1:
            given = dict.fromkeys(labels, parts[0])
        elif len(parts) == len(labels):
            given = dict(zip(labels, parts, strict=True))
        else:
            raise PovmapInputError.from_catalogue(
                "trend.register_register_all_vintages", given=given, n_labels=len(labels)
            )
    unknown = sorted({str(v) for v in given.values() if v not in REGISTERS})
    extra = sorted(set(given) - set(labels))
    if unknown or extra:
        raise PovmapInputError.from_catalogue(
            "trend.register_unknown_registers_ke",
            value=", ".join(unknown + extra),
            labels=", ".join(labels),
        )
    return {label: given.get(label, found[label]) for label in labels}


def _series(
    labels: list[str], registers: dict[str, str | None], force: bool, notes: list[Text]
) -> tuple[list[str], bool]:
    """The labels compared: all, or the longest run of one register when registers differ."""
    known = {r for r in registers.values() if r}
    listed = ", ".join(f"{lb} {(registers[lb] or '?').upper()}" for lb in labels)
    if len(known) <= 1:
        if None in registers.values() and known:
            notes.append(message("trend.register_some_vintages_not", listed=listed))
        return labels, False
    if force:
        notes.append(message("trend.warning_vintages_come_different_2", listed=listed))
        return labels, True
    runs: list[list[str]] = []
    for label in labels:
        register = registers[label]
        previous = runs[-1] if runs else None
        run_register = (
            next((registers[x] for x in previous if registers[x]), None) if previous else None
        )
        if previous is not None and (register is None or run_register in (None, register)):
            previous.append(label)
        else:
            runs.append([label])
    best = max(runs, key=lambda r: (len(r), labels.index(r[-1])))
    if len(best) < 2:
        raise PovmapInputError.from_catalogue(
            "trend.vintages_come_different_registers", listed=listed
        )
    apart = [lb for lb in labels if lb not in best]
    notes.append(
        message(
            "trend.warning_vintages_come_different",
            listed=listed,
            best=best[0],
            best2=best[-1],
            value=(registers[best[-1]] or "?").upper(),
            apart=", ".join(apart),
        )
    )
    return best, False


def _measures(
    labels: list[str], series: list[str], joined: dict[str, gpd.GeoDataFrame], notes: list[Text]
) -> dict[str, str]:
    """The count column followed per vintage: one shared by the whole series."""

    def present(label: str) -> list[str]:
        layer = joined[label]
        return [m for m in MEASURES if m in layer.columns and layer[m].notna().any()]

    available = {label: present(label) for label in labels}
    common = [m for m in MEASURES if all(m in available[lb] for lb in series)]
    if not common:
        listed = "; ".join(f"{lb}: {', '.join(available[lb]) or '-'}" for lb in series)
        raise PovmapInputError.from_catalogue(
            "trend.vintages_share_no_count", series=", ".join(series), listed=listed
        )
    measure = common[0]
    preferred = next((available[lb][0] for lb in series if available[lb]), measure)
    if preferred != measure or any(available[lb] != available[series[0]] for lb in series):
        listed = "; ".join(f"{lb}: {', '.join(available[lb])}" for lb in series)
        notes.append(message("trend.count_columns_differ_between", listed=listed, measure=measure))
    out = {}
    for label in labels:
        if label in series:
            out[label] = measure
        elif available[label]:
            out[label] = available[label][0]
        else:
            raise PovmapInputError.from_catalogue("trend.vintage_table_no_counts", label=label)
    return out


# --- the per-desa layer -----------------------------------------------------------------------


def _wide(
    bounds: gpd.GeoDataFrame,
    joined: dict[str, gpd.GeoDataFrame],
    labels: list[str],
    measures: dict[str, str],
) -> gpd.GeoDataFrame:
    keep = [c for c in AREA_COLUMNS if c in bounds.columns]
    out = pd.DataFrame(bounds[keep]).copy()
    for label in labels:
        layer = joined[label].set_index("kode_desa")
        measure = measures[label]
        values = out["kode_desa"].map(layer[measure])
        out[f"{measure}_{label}"] = values
        population = (
            out["kode_desa"].map(layer["jumlah_penduduk"])
            if "jumlah_penduduk" in layer.columns
            else pd.Series(np.nan, out.index)
        )
        out[f"jumlah_penduduk_{label}"] = population
        rate = rate_of(measure)
        if rate and population.notna().any():
            out[f"{rate}_{label}"] = 100.0 * values / population.where(population > 0)
    out = gpd.GeoDataFrame(out, geometry=bounds.geometry.values, crs=bounds.crs)
    return out


def _changes(
    desa: gpd.GeoDataFrame,
    series: list[str],
    measures: dict[str, str],
    target: float,
    tolerance: float,
) -> gpd.GeoDataFrame:
    first, last = series[0], series[-1]
    measure = measures[last]
    rate = rate_of(measure)
    out = desa.copy()
    a, b = out[f"{measure}_{first}"], out[f"{measure}_{last}"]
    out["perubahan_jumlah"] = b - a
    ra = out.get(f"{rate}_{first}") if rate else None
    rb = out.get(f"{rate}_{last}") if rate else None
    out["perubahan_persen"] = rb - ra if ra is not None and rb is not None else np.nan
    change_rate = out["perubahan_persen"]
    by_rate = change_rate.notna()
    change = np.where(by_rate, change_rate, out["perubahan_jumlah"])
    limit = np.where(by_rate, tolerance, 0.0)
    arah = np.select([change < -limit, change > limit], ["turun", "naik"], "tetap").astype(object)
    arah[a.isna() & b.notna()] = "baru"
    arah[a.notna() & b.isna()] = "hilang"
    arah[a.isna() & b.isna()] = "tanpa_data"
    out["arah"] = arah
    out["selisih_target_jiwa"], out["selisih_target_persen"] = _gap(
        measure, b, out[f"jumlah_penduduk_{last}"], rb, target
    )
    out["catatan"] = ""
    return out


def _gap(
    measure: str, count: pd.Series, population: pd.Series, rate: pd.Series | None, target: float
) -> tuple[pd.Series | float, pd.Series | float]:
    """People above the target share, and points above it; NaN for a measure the target is not
    about (families, desil: a welfare rank is not a poverty rate)."""
    if measure != TARGET_MEASURE:
        return np.nan, np.nan
    people = count - target / 100.0 * population if target else count
    return people, (rate - target) if rate is not None else np.nan


def _presence(desa: gpd.GeoDataFrame, labels: list[str], measures: dict[str, str]) -> dict:
    """Desa with data in some vintages and not in others."""
    has = pd.DataFrame({lb: desa[f"{measures[lb]}_{lb}"].notna() for lb in labels})
    names = ["kode_desa", "nama_desa", "nama_kecamatan"]
    baru, hilang, gaps = [], [], []
    for i, row in has.iterrows():
        present = [lb for lb in labels if row[lb]]
        if not present or len(present) == len(labels):
            continue
        record = {c: desa.at[i, c] for c in names}
        missing = [lb for lb in labels if not row[lb]]
        if desa.at[i, "arah"] == "baru":
            baru.append({**record, "ada_sejak": present[0], "tanpa_data": missing})
        elif desa.at[i, "arah"] == "hilang":
            hilang.append({**record, "terakhir_ada": present[-1], "tanpa_data": missing})
        else:
            gaps.append({**record, "tanpa_data": missing})
    return {"baru": baru, "hilang": hilang, "tidak_lengkap": gaps}


def _metric(desa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return desa.to_crs(utm_crs(desa)) if desa.crs and desa.crs.is_geographic else desa


def _base_name(name: object) -> str:
    words = normalize_name(name).split()
    while len(words) > 1 and words[-1] in _SPLIT_WORDS:
        words = words[:-1]
    return "".join(words)


def _splits(desa: gpd.GeoDataFrame, series: list[str], measures: dict[str, str]) -> list[dict]:
    """Desa split between the first and last vintage: a new desa beside the one it came from.

    Evidence: the new desa's name is its neighbour's with a word added (``Tanjung Raya Baru``,
    ``Muara Siban II``), or the neighbour's population fell by at least 15 % and the two
    together have its former population within 10 %.
    """
    first, last = series[0], series[-1]
    measure = measures[last]
    new = desa.index[desa["arah"] == "baru"]
    if not len(new):
        return []
    metric = _metric(desa)
    pop_a, pop_b = desa[f"jumlah_penduduk_{first}"], desa[f"jumlah_penduduk_{last}"]
    found: dict[int, dict] = {}
    for n in new:
        geom = metric.geometry.iloc[n]
        if geom is None or geom.is_empty:
            continue
        near = metric.index[metric.geometry.intersects(geom.buffer(50))]
        for p in near:
            if (
                p == n
                or desa.at[p, "arah"] not in ("turun", "tetap", "naik")
                or desa.at[p, "kode_kecamatan"] != desa.at[n, "kode_kecamatan"]
            ):
                continue
            by_name = _base_name(desa.at[n, "nama_desa"]) == _base_name(
                desa.at[p, "nama_desa"]
            ) and name_key(desa.at[n, "nama_desa"]) != name_key(desa.at[p, "nama_desa"])
            whole, part, rest = pop_a.iloc[p], pop_b.iloc[p], pop_b.iloc[n]
            by_population = bool(
                pd.notna(whole)
                and pd.notna(part)
                and pd.notna(rest)
                and whole > 0
                and part <= (1 - _POPULATION_SHIFT) * whole
                and abs(part + rest - whole) <= _POPULATION_MATCH * whole
            )
            if by_name or by_population:
                entry = found.setdefault(p, _change_entry(desa, p, "desa_baru"))
                entry["desa_baru"].append(
                    {"kode_desa": desa.at[n, "kode_desa"], "nama_desa": desa.at[n, "nama_desa"]}
                )
                entry["bukti"] = sorted(
                    set(entry["bukti"])
                    | ({"nama"} if by_name else set())
                    | ({"penduduk"} if by_population else set())
                )
    for p, entry in found.items():
        parts = [
            p,
            *[
                int(np.flatnonzero(desa["kode_desa"] == d["kode_desa"])[0])
                for d in entry["desa_baru"]
            ],
        ]
        entry.update(_combined(desa, [p], parts, first, last, measure))
    return list(found.values())


def _change_entry(desa: gpd.GeoDataFrame, row: Any, listed: str) -> dict:
    """The entry of a split or merge found for desa ``row``: its code and names, an empty list
    ``listed`` (the desa or rows it is linked to) and the evidence (``bukti``)."""
    return {
        "kode_desa": desa.at[row, "kode_desa"],
        "nama_desa": desa.at[row, "nama_desa"],
        "nama_kecamatan": desa.at[row, "nama_kecamatan"],
        listed: [],
        "bukti": [],
    }


def _combined(
    desa, before: list[int], after: list[int], first: str, last: str, measure: str
) -> dict:
    """Change of the area as a whole (the parts together), which is comparable."""
    rate = rate_of(measure)
    a = desa.loc[before, f"{measure}_{first}"].sum(min_count=1)
    b = desa.loc[after, f"{measure}_{last}"].sum(min_count=1)
    out = {"perubahan_jumlah_gabungan": b - a}
    pa = desa.loc[before, f"jumlah_penduduk_{first}"].sum(min_count=1)
    pb = desa.loc[after, f"jumlah_penduduk_{last}"].sum(min_count=1)
    if rate and pd.notna(pa) and pd.notna(pb) and pa > 0 and pb > 0:
        out["perubahan_persen_gabungan"] = 100.0 * (b / pb - a / pa)
    return out


def _merges(
    desa: gpd.GeoDataFrame,
    series: list[str],
    measures: dict[str, str],
    reports: dict[str, JoinReport],
) -> list[dict]:
    """Desa of the first vintage that are no longer in the layer and joined a desa that is.

    A row of the first vintage that matched no desa (its desa was merged away, so the current
    layer does not have it) is tied to a desa of the same kecamatan with data in both vintages
    when the name shows it (the desa kept the row's name, or a name built on it), or when that
    desa alone in the kecamatan grew by at least 15 % and now has, within 10 %, its former
    population plus the row's.
    """
    first, last = series[0], series[-1]
    measure = measures[last]
    report = reports[first]
    rows = [
        r
        for r in report.unmatched_counts
        if r.get("alasan")
        in (
            "kode_tidak_ada",
            "nama_tidak_ditemukan",
            "kecamatan_tidak_dikenal",
            "tidak_ada_yang_unggul",
            "mirip_wilayah_terpakai",
        )
    ]
    if not rows:
        return []
    comparable = desa.index[desa["arah"].isin(["turun", "tetap", "naik"])]
    pop_a, pop_b = desa[f"jumlah_penduduk_{first}"], desa[f"jumlah_penduduk_{last}"]
    found: dict[int, dict] = {}
    for row in rows:
        code = row.get("kode_wilayah")
        kec_code = (
            ".".join(code.split(".")[:3])
            if isinstance(code, str) and code.count(".") >= 2
            else None
        )
        kec_name = name_key(row.get("nama_kecamatan")) if row.get("nama_kecamatan") else None
        pool = [
            i
            for i in comparable
            if desa.at[i, "kode_kecamatan"] == kec_code
            or (kec_name and name_key(desa.at[i, "nama_kecamatan"]) == kec_name)
        ]
        name = row.get("nama_desa")
        by_name = [
            i
            for i in pool
            if isinstance(name, str) and _base_name(name) == _base_name(desa.at[i, "nama_desa"])
        ]
        extra = row.get("jumlah_penduduk")
        by_population = [
            i
            for i in pool
            if extra is not None
            and pd.notna(extra)
            and pd.notna(pop_a.iloc[i])
            and pd.notna(pop_b.iloc[i])
            and pop_a.iloc[i] > 0
            and pop_b.iloc[i] >= (1 + _POPULATION_SHIFT) * pop_a.iloc[i]
            and abs(pop_b.iloc[i] - pop_a.iloc[i] - extra) <= _POPULATION_MATCH * pop_b.iloc[i]
        ]
        chosen = by_name if len(by_name) == 1 else by_population if len(by_population) == 1 else []
        for i in chosen:
            entry = found.setdefault(i, _change_entry(desa, i, "baris_bergabung"))
            entry["baris_bergabung"].append(
                {
                    "periode": first,
                    "baris": row.get("baris"),
                    "kode_asli": row.get("kode_asli"),
                    "nama_desa": name,
                    measure: row.get(measure),
                }
            )
            entry["bukti"] = sorted(
                set(entry["bukti"]) | ({"nama"} if chosen is by_name else {"penduduk"})
            )
    for i, entry in found.items():
        merged = sum(float(r.get(measure) or 0) for r in entry["baris_bergabung"])
        a = desa.at[i, f"{measure}_{first}"] + merged
        entry["perubahan_jumlah_gabungan"] = desa.at[i, f"{measure}_{last}"] - a
    return list(found.values())


def _unplaced(
    reports: dict[str, JoinReport], measures: dict[str, str], merged: list[dict]
) -> dict[str, dict]:
    """Per vintage, the rows that matched no desa (and were not tied to a merge)."""
    tied = {(r["periode"], r["baris"]) for m in merged for r in m["baris_bergabung"]}
    out = {}
    for label, report in reports.items():
        rows = [
            r
            for r in [*report.unmatched_counts, *report.ambiguous]
            if (label, r.get("baris")) not in tied
        ]
        if rows:
            measure = measures[label]
            out[label] = {
                "baris": len(rows),
                measure: float(np.nansum([r.get(measure) or 0 for r in rows])),
                "contoh": [
                    {
                        k: r.get(k)
                        for k in ("baris", "kode_asli", "nama_kecamatan", "nama_desa", "alasan")
                    }
                    for r in rows[:10]
                ],
            }
    return out


def _incomparable(desa: gpd.GeoDataFrame, changes: dict) -> gpd.GeoDataFrame:
    out = desa.copy()
    for kind, word in (("pemekaran", "pemekaran"), ("penggabungan", "penggabungan")):
        for entry in changes[kind]:
            rows = out["kode_desa"] == entry["kode_desa"]
            out.loc[rows, "arah"] = "tidak_sebanding"
            out.loc[rows, ["perubahan_jumlah", "perubahan_persen"]] = np.nan
            out.loc[rows, "catatan"] = word
    for entry in changes["pemekaran"]:
        for new in entry["desa_baru"]:
            out.loc[out["kode_desa"] == new["kode_desa"], "catatan"] = (
                f"pemekaran dari {entry['kode_desa']}"
            )
    return out


#: The changes :func:`_change_notes` counts, in the order the notes list them.
_CHANGE_NOTES = (
    "kode_berubah",
    "nama_berbeda",
    "baru",
    "hilang",
    "tidak_lengkap",
    "pemekaran",
    "penggabungan",
)


def _change_notes(changes: dict, labels: list[str]) -> list[Text]:
    """One note per kind of change found (``trend.change.<kind>`` in the message catalogue)."""
    notes = [
        message(f"trend.change.{kind}", n=number_text(len(changes[kind])))
        for kind in _CHANGE_NOTES
        if changes[kind]
    ]
    notes += [
        message("trend.change.tanpa_wilayah", n=number_text(info["baris"]), label=label)
        for label, info in changes["tanpa_wilayah"].items()
        if info["baris"]
    ]
    return notes


# --- summaries --------------------------------------------------------------------------------


def summarise(
    desa: gpd.GeoDataFrame,
    labels: list[str],
    series: list[str],
    measures: dict[str, str],
    target: float,
) -> pd.DataFrame:
    """Per kecamatan, then per kabupaten: totals, rates, change, desa by direction, gap.

    Totals are sums over the desa with data in that vintage; a rate is recomputed from the sums
    over the desa whose count and population are both known (never an average of rates).

    Returns
    -------
    ``tingkat`` (``kecamatan`` / ``kabupaten``), ``kode_kecamatan``/``nama_kecamatan`` (the
    kabupaten's code and name on its line), per vintage the count, ``jumlah_penduduk_<label>``,
    the rate and ``jumlah_desa_berdata_<label>``, then ``perubahan_jumlah``,
    ``perubahan_jumlah_sebanding`` (over desa comparable in both periods: the sum of the desa
    changes), ``perubahan_persen``, ``desa_<arah>`` for each direction, ``selisih_target_jiwa`` and
    ``selisih_target_persen``.
    """
    frame = pd.DataFrame(desa.drop(columns=desa.geometry.name))
    kabupaten = "kode_kabupaten" if "kode_kabupaten" in frame.columns else None
    parts = [
        _aggregate(
            frame, ["kode_kecamatan", "nama_kecamatan"], labels, series, measures, target
        ).assign(tingkat="kecamatan")
    ]
    if kabupaten:
        kab = frame.assign(
            kode_kecamatan=frame["kode_kabupaten"],
            nama_kecamatan=frame.get("nama_kabupaten", frame["kode_kabupaten"]),
        )
        parts.append(
            _aggregate(
                kab, ["kode_kecamatan", "nama_kecamatan"], labels, series, measures, target
            ).assign(tingkat="kabupaten")
        )
    out = pd.concat(parts, ignore_index=True)
    return out[["tingkat", *[c for c in out.columns if c != "tingkat"]]]


def _aggregate(
    frame: pd.DataFrame,
    keys: list[str],
    labels: list[str],
    series: list[str],
    measures: dict[str, str],
    target: float,
) -> pd.DataFrame:
    groups = frame.groupby(keys, sort=True, dropna=False)
    out = groups.size().rename("jumlah_desa").reset_index()
    for label in labels:
        measure = measures[label]
        value, population = f"{measure}_{label}", f"jumlah_penduduk_{label}"
        both = frame[value].notna() & frame[population].notna()
        out[value] = groups[value].sum(min_count=1).to_numpy()
        out[population] = groups[population].sum(min_count=1).to_numpy()
        out[f"jumlah_desa_berdata_{label}"] = groups[value].count().to_numpy()
        rate = rate_of(measure)
        if rate and f"{rate}_{label}" in frame.columns:
            num = (
                frame[value]
                .where(both)
                .groupby([frame[k] for k in keys], dropna=False)
                .sum(min_count=1)
                .to_numpy()
            )
            den = (
                frame[population]
                .where(both)
                .groupby([frame[k] for k in keys], dropna=False)
                .sum(min_count=1)
                .to_numpy()
            )
            with np.errstate(invalid="ignore", divide="ignore"):
                out[f"{rate}_{label}"] = np.where(den > 0, 100.0 * num / den, np.nan)
    first, last = series[0], series[-1]
    measure = measures[last]
    rate = rate_of(measure)
    out["perubahan_jumlah"] = out[f"{measure}_{last}"] - out[f"{measure}_{first}"]
    # The change over the desa comparable in both periods (baru, hilang, split and merged desa
    # left out): the sum of the desa rows' changes. Beside the change of the totals it shows
    # how much of that comes from desa that appeared or vanished.
    out["perubahan_jumlah_sebanding"] = groups["perubahan_jumlah"].sum(min_count=1).to_numpy()
    has_rate = rate and f"{rate}_{first}" in out.columns and f"{rate}_{last}" in out.columns
    out["perubahan_persen"] = (
        (out[f"{rate}_{last}"] - out[f"{rate}_{first}"]) if has_rate else np.nan
    )
    for arah in DIRECTIONS:
        out[f"desa_{arah}"] = groups["arah"].apply(lambda s, a=arah: int((s == a).sum())).to_numpy()
    out["selisih_target_jiwa"], out["selisih_target_persen"] = _gap(
        measure,
        out[f"{measure}_{last}"],
        out[f"jumlah_penduduk_{last}"],
        out[f"{rate}_{last}"] if has_rate else None,
        target,
    )
    return out


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ``povmap.trend(...)`` calls :func:`trend`; ``povmap.trend.Trend`` and the helpers stay reachable.
make_callable(__name__, trend)
