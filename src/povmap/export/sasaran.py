"""Write a :class:`povmap.targeting.Targeting` into one folder, all or nothing; and the internal
verification list.

Public folder: ``sasaran.html`` (self-contained map, a layer per measure), ``lokus.csv`` and
``lokus.xlsx`` (the priority table), ``sasaran.gpkg`` (the per-desa layer), ``laporan_sasaran.json``
(the join reports and notes; not written with ``suppress_below``) and ``manifest.json``.

The verification list (``--daftar-verifikasi``) is written apart, never into the public folder:
one row per family to verify, by the register's own family id, with a first line saying it is
internal. No NIK, name, address or phone is ever in any of these files: the result holds none.

**Small cells** (``suppress_below``, the same threshold rule as :mod:`povmap.export.suppress`):
every count from 1 to N-1 is blanked, with every rate made from it or from a blanked
denominator. A published count must not give a blanked one back by difference: in a desa where
the exclusion count or a program count is blanked, all of them are (with one program known, the
excluded families are the target families less that program's). No total over desa is published
(not in the table, the map nor the manifest), so no sum pins a blanked cell, and the priority
table is ordered on published values only.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import PovmapInputError, Text
from .._io import atomic_path, staged_outputs, write_text
from .._messages import message, text
from .._safe_text import csv_text, write_xlsx
from ..targeting import Targeting, priority_table, program_column
from .suppress import FLAG, check_threshold
from .writers import write_geojson, write_gpkg

MANIFEST = "manifest.json"
REPORT = "laporan_sasaran.json"
LOKUS = "lokus"
MAP = "sasaran.html"
LAYER = "sasaran.gpkg"


def suppress_targeting(result: Targeting, n: int) -> tuple[Targeting, dict]:
    """Blank small counts (1 to ``n - 1``) for publication; see the module docstring.

    Returns
    -------
    The result with its desa layer blanked (``disamarkan`` = True on a row with a blank) and
    its priority table rebuilt from the published values; and what was blanked, as counts of
    cells per column (for the manifest; never which desa).
    """
    n = check_threshold(n)
    desa = result.desa.copy()
    counts = result.counts()
    values = desa[counts].to_numpy(dtype=float)
    blank = (values >= 1) & (values < n)
    primary = blank.copy()
    linked = [
        counts.index(c)
        for c in ("keluarga_sasaran_tanpa_program", *(program_column(p) for p in result.programs))
        if c in counts
    ]
    if linked:
        rows = blank[:, linked].any(axis=1)
        for j in linked:
            blank[:, j] |= rows & ~np.isnan(values[:, j])
    for j, column in enumerate(counts):
        desa[column] = desa[column].mask(blank[:, j])
    hidden = {c for j, c in enumerate(counts) if blank[:, j].any()}
    for rate, (count, denominator) in result.rates().items():
        if rate in desa.columns:
            gone = desa[count].isna() & result.desa[count].notna()
            gone |= desa[denominator].isna() & result.desa[denominator].notna()
            desa[rate] = desa[rate].mask(gone)
    desa[FLAG] = blank.any(axis=1)
    public = dataclasses.replace(result, desa=desa, lokus=priority_table(desa, result.conditions))
    # Desa, never people: how many desa carry a blank, and how many desa with target families
    # left the priority table because their count of target families was blanked.
    record: dict[str, object] = {
        "ambang": n,
        "kolom": counts,
        "desa_disamarkan": int(desa[FLAG].sum()),
        "desa": int(len(desa)),
        "lokus_tanpa_penyamaran": int(len(result.lokus)),
        "lokus_tertulis": int(len(public.lokus)),
        "sel_primer": {c: int(primary[:, j].sum()) for j, c in enumerate(counts)},
        "sel_sekunder": {c: int((blank & ~primary)[:, j].sum()) for j, c in enumerate(counts)},
        "kolom_ikut_dikosongkan": sorted(
            r for r, (c, d) in result.rates().items() if c in hidden or d in hidden
        ),
        "total_wilayah_tidak_dipublikasikan": counts,
    }
    return public, record


def suppression_summary(record: dict, lang: str = "id") -> str:
    """The terminal line of a suppression: desa with a blanked cell, and the rows the priority
    table lost to it (a short or empty ``lokus.csv`` is then the suppression, not the data).

    Parameters
    ----------
    record
        The second value of :func:`suppress_targeting`.
    lang
        ``"id"`` or ``"en"``.

    Returns
    -------
    str
        One or two lines.
    """
    from ..i18n import format_number

    def n(key: str) -> str:
        return format_number(record[key], 0, lang)

    lines = [
        text(
            "sasaran.suppressed_desa",
            lang,
            threshold=record["ambang"],
            suppressed=n("desa_disamarkan"),
            total=n("desa"),
        )
    ]
    dropped = int(record["lokus_tanpa_penyamaran"]) - int(record["lokus_tertulis"])
    if dropped and not record["lokus_tertulis"]:
        lines.append(
            text("sasaran.suppressed_lokus_empty", lang, dropped=format_number(dropped, 0, lang))
        )
    elif dropped:
        lines.append(
            text(
                "sasaran.suppressed_lokus",
                lang,
                dropped=format_number(dropped, 0, lang),
                written=n("lokus_tertulis"),
            )
        )
    return "\n".join(lines)


def lokus_table(result: Targeting) -> pd.DataFrame:
    """The priority table as written: counts whole, rates to 2 decimals."""
    table = result.lokus.copy()
    for column in table.columns:
        if column.startswith("persen_"):
            table[column] = table[column].round(2)
        elif column in ("peringkat", "kantong") or column.startswith(
            ("keluarga_", "jumlah_", "penerima_")
        ):
            table[column] = table[column].round().astype("Int64")
    return table


def write_targeting(
    result: Targeting,
    out_dir: str | os.PathLike,
    *,
    lang: str = "id",
    title: str | None = None,
    source: str | None = None,
    tiles: str | None = "OpenStreetMap",
    offline: bool = True,
    suppress_below: int | None = None,
    verification: str | os.PathLike | None = None,
    command: list[str] | None = None,
) -> list[Path]:
    """Write the targeting outputs into ``out_dir``, and the verification list if asked.

    Parameters
    ----------
    result
        From :func:`povmap.targeting`.
    out_dir
        The public output folder (created; replaced whole).
    lang, title, source, tiles, offline
        As for the map (:func:`povmap.render.sasaran.targeting_map`,
        :func:`povmap._offline.save_map`).
    suppress_below
        Blank counts 1 to N-1 in every public file (N ≥ 3).
    verification
        An ``.xlsx`` for field officers (internal), outside ``out_dir``.
    command
        The command line for the manifest.

    Returns
    -------
    The paths written.

    Raises
    ------
    PovmapInputError
        A verification list that is not ``.xlsx``, lies in ``out_dir``, or cannot be made (the
        register has no family id of its own); a bad threshold.
    """
    from .._offline import save_map
    from ..manifest import build_manifest, write_manifest
    from ..render.sasaran import targeting_map

    if verification is not None:
        check_verification(verification, out_dir, result)
    public, suppression = (
        suppress_targeting(result, suppress_below) if suppress_below is not None else (result, None)
    )
    page = targeting_map(
        public,
        title=title,
        source=source,
        lang=lang,
        tiles=tiles,
        suppressed=suppression is not None,
    )
    names: list[str] = []
    with staged_outputs(
        files=[verification], folders=[out_dir], inputs=result.inputs.values()
    ) as outputs:
        stage = outputs.path(out_dir)
        save_map(page, stage / MAP, offline=offline)
        table = lokus_table(public)
        write_text(stage / f"{LOKUS}.csv", csv_text(table))
        with atomic_path(stage / f"{LOKUS}.xlsx") as tmp:
            write_xlsx(table, tmp, sheet_name="lokus")
        write_gpkg({"sasaran_desa": public.desa}, stage / LAYER, multi=True)
        names += [MAP, f"{LOKUS}.csv", f"{LOKUS}.xlsx", LAYER]
        if suppression is None:  # the report holds totals: not in a published folder
            write_text(
                stage / REPORT,
                json.dumps(report(result), ensure_ascii=False, indent=2, default=str) + "\n",
            )
            names.append(REPORT)
        written = [stage / name for name in names]
        if verification is not None:
            target = outputs.path(verification)
            with atomic_path(target) as tmp:
                # The first line says, in both languages, that the list must not be published.
                internal = message("sasaran.internal")
                write_xlsx(
                    result.verification,
                    tmp,
                    sheet_name="verifikasi",
                    heading=[f"{internal} / {internal.en}"],
                )
        inputs = {k: Path(v) for k, v in result.inputs.items() if Path(v).is_file()}
        manifest = build_manifest(
            written,
            inputs=inputs,
            report=result.report.to_dict(),
            command=command,
            suppression=(
                {**suppression, "total_wilayah_tidak_dipublikasikan": ["jumlah_keluarga"]}
                if suppression
                else None
            ),
        )
        for key in ("klasifikasi", "klasifikasi_lapisan"):
            manifest.pop(key, None)
        manifest["penyamaran"] = suppression
        manifest["sasaran"] = settings(result)
        write_manifest(stage / MANIFEST, manifest)
        names.append(MANIFEST)
    paths = [Path(out_dir) / name for name in names]
    return paths + ([Path(verification)] if verification is not None else [])


def write_targeting_layers(
    result: Targeting,
    folder: str | os.PathLike,
    *,
    formats: tuple[str, ...] = ("geojson", "gpkg"),
    precision: int = 6,
    suppress_below: int | None = None,
) -> list[str]:
    """The targeting layer and priority table for a geoportal bundle (``povmap export
    --sasaran``), written into ``folder`` (the bundle's staged folder).

    Files: ``sasaran_desa.geojson`` (RFC 7946, feature id = ``kode_desa``) and ``sasaran.gpkg``
    (table ``sasaran_desa``) as ``formats`` ask, and ``lokus.csv``; columns under their canonical
    Indonesian names (README, *Contracts for scripts*), suppressed like the bundle when
    ``suppress_below`` is given. Returns the names written.
    """
    public = suppress_targeting(result, suppress_below)[0] if suppress_below is not None else result
    folder = Path(folder)
    names = []
    if "geojson" in formats:
        write_geojson(
            public.desa,
            folder / "sasaran_desa.geojson",
            layer="sasaran_desa",
            precision=precision,
            id_field="kode_desa",
        )
        names.append("sasaran_desa.geojson")
    if "gpkg" in formats:
        write_gpkg({"sasaran_desa": public.desa}, folder / LAYER, multi=True)
        names.append(LAYER)
    write_text(folder / f"{LOKUS}.csv", csv_text(lokus_table(public)))
    return [*names, f"{LOKUS}.csv"]


def settings(result: Targeting) -> dict:
    """The choices behind a result, for the manifest and the report."""
    return {
        "desil_sasaran": result.desil_sasaran,
        "desil_layak": result.desil_layak,
        "program": list(result.programs),
        "kebutuhan": list(result.conditions),
        "register": result.register_kind,
        "kantong": result.pockets,
        "daftar_penerima": result.recipients_total is not None,
    }


def report(result: Targeting) -> dict:
    """``laporan_sasaran.json``: the settings, the join report(s), totals and the notes."""
    out: dict[str, object] = {"sasaran": settings(result), "penggabungan": result.report.to_dict()}
    if result.recipients_report is not None:
        out["penggabungan_penerima"] = result.recipients_report.to_dict()
    if result.recipients_total is not None:
        out["daftar_penerima"] = result.recipients_total
    out["catatan"] = [str(n) for n in result.notes]
    out["catatan_en"] = [n.en if isinstance(n, Text) else str(n) for n in result.notes]
    return out


def check_verification(
    path: str | os.PathLike, out_dir: str | os.PathLike, result: Targeting | None = None
) -> Path:
    """Refuse a verification list that is not ``.xlsx``, that lies inside the public folder, or
    (given ``result``) that cannot be made because the register has no family id of its own."""
    path, folder = Path(path), Path(out_dir)
    if path.suffix.lower() != ".xlsx":
        raise PovmapInputError.from_catalogue("sasaran.verification_suffix", path=path)
    if folder.resolve() in path.resolve().parents:
        raise PovmapInputError.from_catalogue(
            "sasaran.verification_inside", path=path, folder=folder
        )
    if (
        result is not None
        and len(result.verification)
        and result.verification["id_keluarga"].isna().all()
    ):
        raise PovmapInputError.from_catalogue("sasaran.verification_no_id")
    return path
