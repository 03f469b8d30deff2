"""Aim the programs: who is missed, who is served wrongly, and what each desa lacks.

From a by-name register (P3KE, DTSEN; :func:`povmap.registers.read_register`), per desa:

- **keluarga sasaran**: families in the target desil (desil 1 to ``desil_sasaran``);
- **exclusion** (``keluarga_sasaran_tanpa_program``): target families receiving none of the
  programs *known for that desa*. A program whose column is blank for every family of a desa is
  unknown there (*tidak diketahui*), never read as "not received"; a desa where no program is
  known has no exclusion count. Inside a desa where a program is known, a blank cell reads as
  "not received" (exports write only the recipients);
- **per program** (``keluarga_sasaran_<p>``): target families receiving it;
- **inclusion** (``penerima_di_atas_desil_layak``): families receiving a known program whose desil
  is above ``desil_layak``, out of all families receiving one (``jumlah_penerima``);
- with a recipients list: its entries not found in the register (``penerima_tidak_di_register``),
  out of its entries placed in that desa (``jumlah_entri_penerima``);
- **needs** (``kebutuhan_<c>``): target families lacking each living condition, out of the target
  families whose condition is known (``keluarga_sasaran_<c>_diketahui``).

Every rate is ``persen_<count>`` = 100 × count / its named denominator. A desil is a welfare rank
(the poorest tenth of the national ranking is desil 1), not a poverty rate.

This module computes; the files are written by :func:`povmap.export.sasaran.write_targeting`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
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
    BoundaryLayer,
    boundary_level,
    boundary_notes,
    read_boundaries,
)
from .classify import Classification, make_classification
from .counts import CountsInfo, CountsTable
from .i18n import format_number
from .join import JoinReport, join
from .names import FUZZY_THRESHOLD
from .registers import (
    CONDITIONS,
    PROGRAM_NAMES,
    PROGRAMS,
    Recipients,
    Register,
    check_programs,
    read_recipients,
    read_register,
)

#: Default target desil (families in desil 1 to this) and eligibility desil (above it: inclusion).
DESIL_SASARAN = 1
DESIL_LAYAK = 4
#: ``{rate: (count, denominator)}`` of the fixed measures (programs and needs add their own).
FIXED_RATES = {
    "persen_sasaran_tanpa_program": ("keluarga_sasaran_tanpa_program", "keluarga_sasaran"),
    "persen_penerima_di_atas_desil_layak": ("penerima_di_atas_desil_layak", "jumlah_penerima"),
    "persen_penerima_tidak_di_register": ("penerima_tidak_di_register", "jumlah_entri_penerima"),
}
#: Why a family is on the verification list.
REASONS = {
    "tidak_menerima_program": (
        "keluarga sasaran yang tidak menerima program apa pun",
        "target family receiving no program",
    ),
    "di_atas_desil_layak": (
        "penerima program di atas desil layak",
        "programme recipient above the eligibility desil",
    ),
}


def program_column(program: str) -> str:
    """``keluarga_sasaran_<program>``: target families receiving ``program``."""
    return f"keluarga_sasaran_{program}"


def need_column(condition: str) -> str:
    """``kebutuhan_<condition>``: target families lacking ``condition``."""
    return f"kebutuhan_{condition}"


def rate_column(count: str) -> str:
    """The rate of a count column: ``keluarga_sasaran_pkh`` -> ``persen_sasaran_pkh``."""
    for rate, (num, _) in FIXED_RATES.items():
        if num == count:
            return rate
    if count.startswith("keluarga_sasaran_"):
        return "persen_sasaran_" + count.removeprefix("keluarga_sasaran_")
    return "persen_" + count


@dataclass(frozen=True)
class Targeting:
    """The result of :func:`targeting`.

    Attributes
    ----------
    desa
        One row per desa of the boundary layer (CRS as read): the area columns, then
        ``jumlah_keluarga_register`` (families with a desil), ``keluarga_sasaran``,
        ``program_diketahui`` (the programs known there, comma-separated),
        ``keluarga_sasaran_tanpa_program``, ``keluarga_sasaran_<p>`` per program,
        ``jumlah_penerima``, ``penerima_di_atas_desil_layak``, with a recipients list
        ``jumlah_entri_penerima`` and ``penerima_tidak_di_register``, per condition
        ``kebutuhan_<c>`` and ``keluarga_sasaran_<c>_diketahui``, each count's rate
        (:meth:`rates`), ``kebutuhan_utama`` (the condition most target families lack), and
        with pockets ``kantong`` (1 in a pocket, 0 not, empty untested). Counts are floats (NaN
        = unknown: no family of the register there, or nothing known).
    lokus
        The priority table: desa with target families, most excluded families first (see
        :func:`priority_table`).
    verification
        One row per excluded or inclusion-error family of a matched desa: ``id_keluarga`` (the
        register's own id; None when it has none), ``baris_register``, ``kode_desa``,
        ``nama_desa``, ``nama_kecamatan``, ``desil``, ``program`` (received, comma-separated),
        ``alasan``. No NIK, name, address or phone.
    programs, conditions
        The programs and conditions measured.
    desil_sasaran, desil_layak
        The target desil (1 to this) and the eligibility desil (recipients above it: inclusion).
    report
        The join report of the register's desa.
    recipients_report
        The join report of the recipients list's desa (None without a list or area columns).
    recipients_total
        ``{"entri": n, "tidak_di_register": n}`` over the whole list, or None.
    notes
        Bilingual notes.
    inputs
        The files read, for the manifest.
    register_kind
        ``"keluarga"`` or ``"individu"``.
    pockets
        Whether pockets of target families were looked for (``kantong`` in ``desa`` and
        ``lokus``).
    """

    desa: gpd.GeoDataFrame
    lokus: pd.DataFrame
    verification: pd.DataFrame
    programs: tuple[str, ...]
    conditions: tuple[str, ...]
    desil_sasaran: int
    desil_layak: int
    report: JoinReport
    recipients_report: JoinReport | None = None
    recipients_total: dict[str, int] | None = None
    notes: tuple[Text, ...] = ()
    inputs: dict[str, str] = field(default_factory=dict)
    register_kind: str = "keluarga"
    pockets: bool = False

    def counts(self) -> list[str]:
        """Every count column of :attr:`desa` (what small-cell suppression checks)."""
        out = [
            "jumlah_keluarga_register",
            "keluarga_sasaran",
            "keluarga_sasaran_tanpa_program",
            *(program_column(p) for p in self.programs),
            "jumlah_penerima",
            "penerima_di_atas_desil_layak",
        ]
        if self.recipients_total is not None:
            out += ["jumlah_entri_penerima", "penerima_tidak_di_register"]
        for c in self.conditions:
            out += [need_column(c), f"keluarga_sasaran_{c}_diketahui"]
        return [c for c in out if c in self.desa.columns]

    def rates(self) -> dict[str, tuple[str, str]]:
        """``{rate: (count, denominator)}`` of every rate column of :attr:`desa`."""
        out = {rate: pair for rate, pair in FIXED_RATES.items() if rate in self.desa.columns}
        for p in self.programs:
            out[rate_column(program_column(p))] = (program_column(p), "keluarga_sasaran")
        for c in self.conditions:
            out[rate_column(need_column(c))] = (need_column(c), f"keluarga_sasaran_{c}_diketahui")
        return out

    def summary(self, lang: str = "id") -> str:
        """A few lines for the terminal: totals over the matched desa, and the notes."""
        d = self.desa
        en = lang == "en"

        def n(column: str) -> str:
            return format_number(d[column].sum(min_count=1), 0, lang) if column in d else "–"

        lines = [
            text(
                "sasaran.summary_target",
                lang,
                span=desil_span(self.desil_sasaran),
                target=n("keluarga_sasaran"),
                excluded=n("keluarga_sasaran_tanpa_program"),
            ),
            text(
                "sasaran.summary_inclusion",
                lang,
                layak=self.desil_layak,
                above=n("penerima_di_atas_desil_layak"),
                recipients=n("jumlah_penerima"),
            ),
        ]
        if self.recipients_total is not None:
            total = self.recipients_total
            lines.append(
                text(
                    "sasaran.summary_recipients",
                    lang,
                    unfound=format_number(total["tidak_di_register"], 0, lang),
                    entries=format_number(total["entri"], 0, lang),
                )
            )
        lines.extend(f"! {note.en if en else str(note)}" for note in self.notes)
        return "\n".join(lines)


#: Colour map of each kind of measure, on the targeting map and in the bundle's SLD/QML: the
#: errors in reds and purples, the needs in browns.
MEASURE_CMAPS = {"exclusion": "YlOrRd", "inclusion": "PuRd", "unfound": "BuPu", "need": "YlOrBr"}


def measures(result: Targeting) -> list[tuple[str, str]]:
    """``(kind, rate column)`` of each measure the targeting map shows, in its layer order.

    The kinds are ``exclusion``, ``inclusion``, ``unfound`` (with a recipients list placed per
    desa) and ``need`` (one per condition), the keys of :data:`MEASURE_CMAPS`.
    """
    out = [
        ("exclusion", "persen_sasaran_tanpa_program"),
        ("inclusion", "persen_penerima_di_atas_desil_layak"),
    ]
    if "persen_penerima_tidak_di_register" in result.desa.columns:
        out.append(("unfound", "persen_penerima_tidak_di_register"))
    out += [("need", rate_column(need_column(c))) for c in result.conditions]
    return out


def measure_classes(values: pd.Series, column: str, kind: str) -> Classification:
    """The classes of one measure: 5 quantiles in the colours of its kind.

    The HTML map's layers and the bundle's styles both call this, so they cannot disagree
    (class edges, colours, and labels to at least 2 decimals as every rate is written).

    Parameters
    ----------
    values
        The measure (%) of the desa drawn; NaN = unknown.
    column
        Its column name.
    kind
        A key of :data:`MEASURE_CMAPS`.

    Returns
    -------
    Classification
    """
    classes = make_classification(
        values, column=column, scheme="quantiles", k=5, cmap=MEASURE_CMAPS[kind]
    )
    # Labels with the 2 decimals the popups and tables give every rate.
    return dataclasses.replace(classes, decimals=max(classes.decimals, 2))


def desil_span(desil: int) -> str:
    """``"1"`` or ``"1-3"``: the target desil as written in labels."""
    return "1" if desil == 1 else f"1-{desil}"


def targeting(
    register: Register | str | os.PathLike,
    boundaries: BoundaryLayer | gpd.GeoDataFrame | str | os.PathLike,
    *,
    programs: Iterable[str] | str | None = None,
    desil_sasaran: int = DESIL_SASARAN,
    desil_layak: int = DESIL_LAYAK,
    recipients: str | os.PathLike | None = None,
    pockets: bool = False,
    fuzzy_threshold: float = FUZZY_THRESHOLD,
    allow_invalid: bool = False,
    boundary_options: Mapping[str, Any] | None = None,
    register_options: Mapping[str, Any] | None = None,
    lang: str = "id",
) -> Targeting:
    """Exclusion and inclusion errors, program coverage and needs per desa, from a register.

    Parameters
    ----------
    register
        A by-name register file (CSV/XLSX, family or individual level) or a :class:`Register`.
    boundaries
        A desa boundary layer (:func:`povmap.read_boundaries`, or its ``.gdf``) or its file.
    programs
        Program ids to measure (``"pkh,bpnt,pbi"``, see :data:`povmap.registers.PROGRAMS`); by
        default every program the register (or the recipients list) has.
    desil_sasaran
        Target families are those in desil 1 to this (1 to 10; default 1).
    desil_layak
        Recipients above this desil count as inclusion errors (1 to 10; default 4).
    recipients
        A recipients list (KPM) file, linked to the register by NIK, KK number or family id in
        memory; for each program it names, the list decides who receives it.
    pockets
        Find poverty pockets of target families (local Moran on ``keluarga_sasaran``) and add
        ``kantong`` to the layer and the priority table.
    fuzzy_threshold, allow_invalid
        As in :func:`povmap.join`.
    boundary_options
        Keyword arguments of :func:`povmap.read_boundaries`, when ``boundaries`` is a file.
    register_options
        ``sheet`` and ``column_map``, when ``register`` is a file.
    lang
        Language of the pocket labels.

    Returns
    -------
    Targeting

    Raises
    ------
    PovmapInputError
        Bad desil options, a kecamatan boundary layer, a register that is not by-name or whose
        desa match no boundary, an unknown program or one neither file has.
    """
    _check_desil(desil_sasaran, "--desil-sasaran")
    _check_desil(desil_layak, "--desil-layak")
    wanted = check_programs(programs)
    bounds = (
        boundaries
        if isinstance(boundaries, BoundaryLayer | gpd.GeoDataFrame)
        else read_boundaries(boundaries, **(boundary_options or {}))
    )
    # What reading repaired or found missing (desa without geometry are not on the map), as
    # ``map``, ``export`` and ``pockets`` say it.
    read_notes = boundary_notes(bounds.source) if isinstance(bounds, BoundaryLayer) else []
    bounds = bounds.gdf if isinstance(bounds, BoundaryLayer) else bounds
    if boundary_level(bounds) != "desa":
        raise PovmapInputError.from_catalogue("sasaran.kecamatan_layer")
    bounds = bounds.reset_index(drop=True)
    reg = (
        register
        if isinstance(register, Register)
        else read_register(register, allow_invalid=allow_invalid, **(register_options or {}))
    )
    notes: list[Text] = [*read_notes, *reg.notes()]
    report, codes = _place(bounds, reg.desa, reg.path, fuzzy_threshold, allow_invalid)
    if report.matched == 0:
        raise PovmapInputError.from_catalogue("sasaran.no_match", path=reg.path)
    families = reg.families.assign(kode_desa=reg.families["_desa"].map(codes))

    rec: Recipients | None = None
    rec_report = None
    if recipients is not None:
        rec = read_recipients(recipients, reg, sheet=(register_options or {}).get("sheet"))
        for program in rec.programs:  # the list decides for the programs it names
            received = rec.received.get(program, set())
            families[f"program_{program}"] = [float(i in received) for i in range(len(families))]
    available = tuple(p for p in PROGRAMS if f"program_{p}" in families.columns)
    if wanted is not None:
        missing = [p for p in wanted if p not in available]
        if missing:
            raise PovmapInputError.from_catalogue(
                "sasaran.programs_missing_list" if rec else "sasaran.programs_missing",
                programs=", ".join(missing),
                path=reg.path,
                example=PROGRAMS[missing[0]][0][0],
            )
        available = tuple(p for p in available if p in wanted)
    if not available:
        notes.append(message("sasaran.no_program_columns"))
    conditions = tuple(c for c in CONDITIONS if f"kurang_{c}" in families.columns)

    counted = families[families["kode_desa"].notna()]
    per_desa = measure(counted, available, conditions, desil_sasaran, desil_layak)
    desa = bounds[[c for c in AREA_COLUMNS if c in bounds.columns]].copy()
    desa = desa.merge(per_desa, left_on="kode_desa", right_index=True, how="left")
    recipients_total = None
    if rec is not None:
        desa, rec_report, recipients_total = _add_recipients(
            desa, bounds, rec, fuzzy_threshold, allow_invalid, notes
        )
    for rate, (num, den) in _rates(available, conditions, desa).items():
        desa[rate] = 100 * desa[num] / desa[den].where(desa[den] > 0)
    desa["kebutuhan_utama"] = main_need(desa, conditions)
    desa = gpd.GeoDataFrame(desa, geometry=bounds.geometry.values, crs=bounds.crs)
    notes += _notes(reg, desa, available, desil_layak, families)
    if pockets:
        desa = _with_pockets(desa, lang, notes)
    verification = verification_list(counted, desa, available, desil_sasaran, desil_layak)
    inputs = {}
    if not isinstance(boundaries, BoundaryLayer | gpd.GeoDataFrame):
        inputs["batas"] = str(boundaries)
    if not isinstance(register, Register):
        inputs["register"] = str(register)
    if recipients is not None:
        inputs["penerima"] = str(recipients)
    return Targeting(
        desa=desa,
        lokus=priority_table(desa, conditions),
        verification=verification,
        programs=available,
        conditions=conditions,
        desil_sasaran=int(desil_sasaran),
        desil_layak=int(desil_layak),
        report=report,
        recipients_report=rec_report,
        recipients_total=recipients_total,
        notes=tuple(notes),
        inputs=inputs,
        register_kind="individu" if reg.individual else "keluarga",
        pockets=pockets,
    )


def _check_desil(value: object, option: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 10:
        raise PovmapInputError.from_catalogue(
            "sasaran.desil_option", option=option, value=repr(value)
        )


def _place(
    bounds: gpd.GeoDataFrame,
    table: pd.DataFrame,
    path: str,
    fuzzy_threshold: float,
    allow_invalid: bool,
) -> tuple[JoinReport, pd.Series]:
    """Join the desa keys of a by-name table to the boundaries: the report, and key -> kode_desa.

    The table's values that are not known area codes or names are masked in the report (it is
    marked as a by-name register).
    """
    rows = table.reset_index()
    named = CountsTable(rows.drop(columns="_desa"), CountsInfo(path=path, p3ke={}))
    result = join(
        bounds, named, level="desa", fuzzy_threshold=fuzzy_threshold, allow_invalid=allow_invalid
    )
    matched = result.joined.dropna(subset=["baris"])
    by_row = dict(zip(matched["baris"].astype(int), matched["kode_desa"], strict=True))
    codes = pd.Series(
        {key: by_row.get(int(row)) for key, row in zip(rows["_desa"], rows["baris"], strict=True)},
        dtype=object,
    )
    return result.report, codes


def measure(
    families: pd.DataFrame,
    programs: tuple[str, ...],
    conditions: tuple[str, ...],
    desil_sasaran: int,
    desil_layak: int,
) -> pd.DataFrame:
    """The counts per desa from one row per family (see the module docstring for each measure).

    Parameters
    ----------
    families
        One row per family of a matched desa: ``kode_desa``, ``desil`` (1-10),
        ``program_<p>`` and ``kurang_<c>`` (floats: 1, 0, NaN = unknown).
    programs, conditions
        The programs and conditions to count.
    desil_sasaran, desil_layak
        Target families are in desil 1 to ``desil_sasaran``; recipients above ``desil_layak``
        are inclusion errors.

    Returns
    -------
    One row per desa having families (index ``kode_desa``): ``jumlah_keluarga_register``,
    ``keluarga_sasaran``, ``keluarga_sasaran_tanpa_program``, ``jumlah_penerima``,
    ``penerima_di_atas_desil_layak``, ``keluarga_sasaran_<p>``, ``kebutuhan_<c>``,
    ``keluarga_sasaran_<c>_diketahui`` (floats, NaN = unknown) and ``program_diketahui``.
    """
    flags = [f"program_{p}" for p in programs]
    group = families.groupby("kode_desa")
    # A program is known in a desa when any family there has a value for it.
    known = (group[flags].count() > 0) if flags else pd.DataFrame(index=group.size().index)
    known_of = known.reindex(families["kode_desa"]).to_numpy(dtype=bool) if flags else None
    target = (families["desil"] <= desil_sasaran).to_numpy()
    received = (
        (families[flags].fillna(0.0).to_numpy() == 1.0)
        if flags
        else np.zeros((len(families), 0), bool)
    )
    any_known = known_of.any(axis=1) if known_of is not None else np.zeros(len(families), bool)
    gets = (received & known_of).any(axis=1) if known_of is not None else any_known
    frame = pd.DataFrame(
        {
            "kode_desa": families["kode_desa"].to_numpy(),
            "jumlah_keluarga_register": 1.0,
            "keluarga_sasaran": target.astype(float),
            "keluarga_sasaran_tanpa_program": np.where(
                any_known, (target & ~gets).astype(float), np.nan
            ),
            "jumlah_penerima": np.where(any_known, gets.astype(float), np.nan),
            "penerima_di_atas_desil_layak": np.where(
                any_known,
                (gets & (families["desil"].to_numpy() > desil_layak)).astype(float),
                np.nan,
            ),
        }
    )
    for i, p in enumerate(programs):
        assert known_of is not None
        frame[program_column(p)] = np.where(
            known_of[:, i], (target & received[:, i]).astype(float), np.nan
        )
    for c in conditions:
        lacks = families[f"kurang_{c}"].to_numpy()
        frame[need_column(c)] = np.where(target & ~np.isnan(lacks), lacks, np.nan)
        frame[f"keluarga_sasaran_{c}_diketahui"] = (target & ~np.isnan(lacks)).astype(float)
    # Sums over families: NaN only where every family's value is unknown (the program unknown
    # in the desa, the condition unknown for every target family).
    out = frame.groupby("kode_desa").sum(min_count=1)
    out["program_diketahui"] = (
        [",".join(p for p in programs if known.at[code, f"program_{p}"]) for code in out.index]
        if flags
        else ""
    )
    return out


def _rates(
    programs: tuple[str, ...], conditions: tuple[str, ...], desa: pd.DataFrame
) -> dict[str, tuple[str, str]]:
    out = {rate: pair for rate, pair in FIXED_RATES.items() if pair[0] in desa.columns}
    for p in programs:
        out[rate_column(program_column(p))] = (program_column(p), "keluarga_sasaran")
    for c in conditions:
        out[rate_column(need_column(c))] = (need_column(c), f"keluarga_sasaran_{c}_diketahui")
    return out


def main_need(desa: pd.DataFrame, conditions: tuple[str, ...]) -> list[str | None]:
    """Per desa, the condition the most target families lack (first in :data:`CONDITIONS`
    order on a tie), None when no target family is known to lack any."""
    if not conditions:
        return [None] * len(desa)
    values = desa[[need_column(c) for c in conditions]].fillna(0.0).to_numpy()
    best = values.argmax(axis=1)
    return [conditions[b] if values[i, b] > 0 else None for i, b in enumerate(best)]


def _add_recipients(
    desa: pd.DataFrame,
    bounds: gpd.GeoDataFrame,
    rec: Recipients,
    fuzzy_threshold: float,
    allow_invalid: bool,
    notes: list[Text],
) -> tuple[pd.DataFrame, JoinReport | None, dict[str, int]]:
    """Entries of the list and those not found in the register, per desa where it says where."""
    total = {"entri": int(rec.entries.sum()), "tidak_di_register": int(len(rec.unfound))}
    if rec.desa is None:
        notes.append(
            message(
                "sasaran.recipients_no_area",
                path=rec.path,
                unfound=total["tidak_di_register"],
                entries=total["entri"],
            )
        )
        return desa, None, total
    report, codes = _place(bounds, rec.desa, rec.path, fuzzy_threshold, allow_invalid)
    entries = rec.entries.rename(index=codes.to_dict()).groupby(level=0).sum()
    unfound = rec.unfound["_desa"].map(codes).value_counts()
    desa = desa.copy()
    desa["jumlah_entri_penerima"] = desa["kode_desa"].map(entries).astype(float)
    desa["penerima_tidak_di_register"] = (
        desa["kode_desa"]
        .map(unfound)
        .astype(float)
        .where(desa["jumlah_entri_penerima"].notna())
        .fillna(0.0)
        .where(desa["jumlah_entri_penerima"].notna())
    )
    return desa, report, total


def _notes(
    reg: Register,
    desa: pd.DataFrame,
    programs: tuple[str, ...],
    desil_layak: int,
    families: pd.DataFrame,
) -> list[Text]:
    notes = []
    for p in programs:
        column = program_column(p)
        unknown = int(
            (desa["keluarga_sasaran"] > 0).sum()
            - desa.loc[desa["keluarga_sasaran"] > 0, column].notna().sum()
        )
        if unknown:
            notes.append(
                message("sasaran.program_unknown_desa", program=PROGRAM_NAMES[p], n=unknown)
            )
    if programs and families["desil"].max() <= desil_layak:
        notes.append(
            message("sasaran.p3ke_desil", top=int(families["desil"].max()), layak=desil_layak)
        )
    notes.append(message("sasaran.desil_rank"))
    return notes


def _with_pockets(desa: gpd.GeoDataFrame, lang: str, notes: list[Text]) -> gpd.GeoDataFrame:
    from .pockets import UNTESTED, find_pockets

    found = find_pockets(desa, "keluarga_sasaran", lang=lang)
    jenis = desa["kode_desa"].map(found.desa.set_index("kode_desa")["jenis_kantong"])
    out = desa.copy()
    out["kantong"] = (jenis == "kantong").astype("Int64").where(~jenis.isin(UNTESTED))
    notes.append(message("sasaran.pockets"))
    geometry = out.geometry.name
    return out[[c for c in out.columns if c != geometry] + [geometry]]


#: Columns of the priority table (lokus), in order; ``kantong`` only with pockets.
LOKUS_COLUMNS = (
    "peringkat",
    "kode_desa",
    "nama_desa",
    "kode_kecamatan",
    "nama_kecamatan",
    "keluarga_sasaran",
    "keluarga_sasaran_tanpa_program",
    "persen_sasaran_tanpa_program",
    "program_diketahui",
    "jumlah_penerima",
    "penerima_di_atas_desil_layak",
    "persen_penerima_di_atas_desil_layak",
    "kebutuhan_utama",
    "jumlah_kebutuhan_utama",
    "persen_kebutuhan_utama",
    "kantong",
)


def priority_table(desa: pd.DataFrame, conditions: tuple[str, ...]) -> pd.DataFrame:
    """The *lokus*: desa with target families, most excluded families first.

    Ties and desa whose exclusion is unknown (no program known there) follow by exclusion rate,
    then by target families, then by name. ``jumlah_kebutuhan_utama`` and
    ``persen_kebutuhan_utama`` are the count and share of target families lacking
    ``kebutuhan_utama``.

    Parameters
    ----------
    desa
        :attr:`Targeting.desa` (or its suppressed copy: blanked values sort last, so the order
        reveals nothing of them).
    conditions
        The conditions measured.

    Returns
    -------
    The columns of :data:`LOKUS_COLUMNS` present, one row per desa with target families.
    """
    table = pd.DataFrame(
        desa.drop(columns=desa.geometry.name) if isinstance(desa, gpd.GeoDataFrame) else desa
    )
    table = table[table["keluarga_sasaran"] > 0].copy()
    need = table["kebutuhan_utama"]
    table["jumlah_kebutuhan_utama"] = [
        table.at[i, need_column(c)] if isinstance(c, str) else np.nan for i, c in need.items()
    ]
    table["persen_kebutuhan_utama"] = [
        table.at[i, rate_column(need_column(c))] if isinstance(c, str) else np.nan
        for i, c in need.items()
    ]
    table = table.sort_values(
        [
            "keluarga_sasaran_tanpa_program",
            "persen_sasaran_tanpa_program",
            "keluarga_sasaran",
            "nama_desa",
        ],
        ascending=[False, False, False, True],
        na_position="last",
        kind="stable",
    )
    table["peringkat"] = np.arange(1, len(table) + 1)
    return table[[c for c in LOKUS_COLUMNS if c in table.columns]].reset_index(drop=True)


def verification_list(
    families: pd.DataFrame,
    desa: pd.DataFrame,
    programs: tuple[str, ...],
    desil_sasaran: int,
    desil_layak: int,
) -> pd.DataFrame:
    """The families a field officer should verify: excluded target families and recipients above
    the eligibility desil, of matched desa, by the register's own family id (no personal data).

    Parameters
    ----------
    families
        One row per family of a matched desa (:attr:`povmap.registers.Register.families` with
        ``kode_desa``).
    desa
        The per-desa layer (which programs are known where; desa and kecamatan names).
    programs
        The programs measured.
    desil_sasaran, desil_layak
        As in :func:`targeting`.

    Returns
    -------
    Columns ``id_keluarga``, ``baris_register``, ``kode_desa``, ``nama_desa``,
    ``nama_kecamatan``, ``desil``, ``program``, ``alasan``; sorted by kecamatan, desa, reason.
    """
    columns = [
        "id_keluarga",
        "baris_register",
        "kode_desa",
        "nama_desa",
        "nama_kecamatan",
        "desil",
        "program",
        "alasan",
    ]
    flags = [f"program_{p}" for p in programs]
    if not flags or families.empty:
        return pd.DataFrame(columns=columns)
    known_cols = {p: set(desa.loc[desa[program_column(p)].notna(), "kode_desa"]) for p in programs}
    known = np.array(
        [[code in known_cols[p] for p in programs] for code in families["kode_desa"]], dtype=bool
    ).reshape(len(families), -1)
    received = (families[flags].fillna(0.0).to_numpy() == 1.0) & known
    any_known = known.any(axis=1)
    gets = received.any(axis=1)
    desil = families["desil"].to_numpy()
    excluded = any_known & (desil <= desil_sasaran) & ~gets
    inclusion = gets & (desil > desil_layak)
    names = desa.set_index("kode_desa")[["nama_desa", "nama_kecamatan"]]
    chosen = families[excluded | inclusion]
    out = pd.DataFrame(
        {
            "id_keluarga": chosen["id_keluarga"].to_numpy(),
            "baris_register": chosen["baris"].astype(int).to_numpy(),
            "kode_desa": chosen["kode_desa"].to_numpy(),
            "nama_desa": chosen["kode_desa"].map(names["nama_desa"]).to_numpy(),
            "nama_kecamatan": chosen["kode_desa"].map(names["nama_kecamatan"]).to_numpy(),
            "desil": chosen["desil"].astype(int).to_numpy(),
            "program": [
                ",".join(p for p, r in zip(programs, row, strict=True) if r)
                for row in received[excluded | inclusion]
            ],
            "alasan": np.where(
                excluded[excluded | inclusion], "tidak_menerima_program", "di_atas_desil_layak"
            ),
        }
    )
    return out.sort_values(
        ["nama_kecamatan", "nama_desa", "alasan", "baris_register"], kind="stable"
    ).reset_index(drop=True)


def inputs_of(result: Targeting) -> dict[str, Path]:
    """The input files of ``result`` that exist, by role, for the manifest."""
    return {name: Path(p) for name, p in result.inputs.items() if Path(p).is_file()}


# ``povmap.targeting(...)`` calls :func:`targeting`; the module's helpers stay reachable.
make_callable(__name__, targeting)
