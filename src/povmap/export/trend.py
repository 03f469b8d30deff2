"""Write a :class:`povmap.trend.Trend` into one folder, all or nothing.

Files: ``trend.geojson`` and ``trend.gpkg`` (per desa; the GeoPackage adds the kecamatan
summary with its outline), ``trend.html`` (self-contained map), ``ringkasan_kecamatan.csv`` and
``.xlsx`` (kecamatan and kabupaten lines), ``trend.png`` (chart for slides),
``laporan_tren.json`` (what matching across vintages found), one
``laporan_penggabungan_<label>.json`` per vintage, and ``manifest.json``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .._io import atomic_path, staged_outputs, write_text
from .._safe_text import csv_text, write_xlsx
from ..trend import Trend
from .writers import write_geojson, write_gpkg

MANIFEST = "manifest.json"
REPORT = "laporan_tren.json"
SUMMARY = "ringkasan_kecamatan"
#: Decimals kept in the summary tables: rates to 4 (a hundredth of a point is shown), counts whole.
_DECIMALS = 4


def write_trend(
    trend: Trend,
    out_dir: str | os.PathLike,
    *,
    lang: str = "id",
    title: str | None = None,
    source: str | None = None,
    tiles: str | None = "OpenStreetMap",
    offline: bool = True,
    command: list[str] | None = None,
) -> list[Path]:
    """Write every trend output into ``out_dir``; nothing is moved in unless all are written.

    Parameters
    ----------
    trend
        From :func:`povmap.trend`.
    out_dir
        The output folder (created; files of the same names are replaced).
    lang
        Language of the map and chart (``"id"`` or ``"en"``).
    title, source
        Map title and data source.
    tiles, offline
        Basemap and whether the page embeds its libraries (see :func:`povmap._offline.save_map`).
    command
        The command line for the manifest (``sys.argv`` by default).

    Returns
    -------
    The paths written, in ``out_dir``.

    Raises
    ------
    PovmapInputError
        ``lang`` is unknown; or an output cannot be written safely (it is an input, is locked
        by another run, holds foreign files, or the disk is full); nothing is written then.
    """
    from .._offline import save_map
    from ..manifest import write_manifest
    from ..render.trend import trend_chart, trend_map

    # Build the page and chart before anything is written: an error costs no file.
    page = trend_map(trend, title=title, source=source, lang=lang, tiles=tiles)
    chart = trend_chart(trend, lang=lang)
    names: list[str] = []
    with staged_outputs(folders=[out_dir], inputs=trend.inputs.values()) as outputs:
        stage = outputs.path(out_dir)
        for label, report in trend.reports.items():
            report.write(stage / f"laporan_penggabungan_{label}.json")
            names.append(f"laporan_penggabungan_{label}.json")
        desa = trend.desa
        write_geojson(desa, stage / "trend.geojson", layer="trend", id_field="kode_desa")
        write_gpkg(
            {"trend": desa, "ringkasan_kecamatan": _kecamatan_layer(trend)},
            stage / "trend.gpkg",
            multi=True,
        )
        table = summary_table(trend)
        write_text(stage / f"{SUMMARY}.csv", csv_text(table))
        with atomic_path(stage / f"{SUMMARY}.xlsx") as tmp:
            write_xlsx(table, tmp, sheet_name="ringkasan")
        with atomic_path(stage / "trend.png") as tmp:
            chart.savefig(tmp, dpi=150)
        save_map(page, stage / "trend.html", offline=offline)
        write_text(stage / REPORT, json.dumps(trend.report(), ensure_ascii=False, indent=2) + "\n")
        names += [
            "trend.geojson",
            "trend.gpkg",
            f"{SUMMARY}.csv",
            f"{SUMMARY}.xlsx",
            "trend.png",
            "trend.html",
            REPORT,
        ]
        write_manifest(
            stage / MANIFEST,
            build_trend_manifest(trend, [stage / n for n in names], command=command),
        )
        names.append(MANIFEST)
    return [Path(out_dir) / n for n in names]


def summary_table(trend: Trend) -> pd.DataFrame:
    """The kecamatan lines then the kabupaten line, rates rounded to 4 decimals.

    The kabupaten line's ``catatan`` carries the notes that change how the table may be read
    (registers kept apart or forced together, the count column compared), so that the table
    says so even when it travels alone.
    """
    table = trend.kecamatan.copy()
    plain = [str(n) for n in trend.notes if _READING.search(str(n))]
    table["catatan"] = np.where(table["tingkat"] == "kabupaten", " ".join(plain), "")
    # Where desa appeared, vanished or were split/merged, the totals' change is not a change of
    # the same desa: say so on the line, beside perubahan_jumlah_sebanding.
    moved = table[
        [c for c in ("desa_baru", "desa_hilang", "desa_tidak_sebanding") if c in table.columns]
    ].sum(axis=1)
    note = (
        "perubahan_jumlah memuat " + moved.astype(int).astype(str) + " desa baru/hilang/"
        "tidak sebanding; perubahan desa yang sama: perubahan_jumlah_sebanding."
    )
    table["catatan"] = np.where(
        moved > 0, (table["catatan"] + " " + note).str.strip(), table["catatan"]
    )
    for column in table.columns:
        if column.startswith(("persen_", "perubahan_persen", "selisih_target_persen")):
            table[column] = table[column].round(_DECIMALS)
        elif column.startswith(("jumlah_", "desa_", "perubahan_jumlah", "selisih_target_jiwa")):
            table[column] = table[column].round().astype("Int64")
    return table


#: Notes that change how the summary may be read: registers, the column compared, no target.
_READING = re.compile(r"^PERHATIAN|dibandingkan hanya pada|selisih dengan target tidak")


def _kecamatan_layer(trend: Trend) -> gpd.GeoDataFrame:
    from ..metrics import dissolve

    outlines = dissolve(trend.desa, "kecamatan")
    table = summary_table(trend)
    table = table[table["tingkat"] == "kecamatan"].drop(
        columns=["tingkat", "nama_kecamatan", "catatan"]
    )
    out = outlines[["kode_kecamatan", "nama_kecamatan", outlines.geometry.name]].merge(
        table, on="kode_kecamatan", how="left"
    )
    return gpd.GeoDataFrame(out, geometry=outlines.geometry.name, crs=outlines.crs)


def build_trend_manifest(
    trend: Trend, outputs: list[Path], *, command: list[str] | None = None
) -> dict:
    """:func:`povmap.manifest.build_manifest` of the run, with one join summary per vintage and
    the trend's choices (series, registers, measure, target, tolerance) and notes."""
    from ..manifest import build_manifest

    inputs = {name: Path(path) for name, path in trend.inputs.items() if Path(path).is_file()}
    reports = {label: report.to_dict() for label, report in trend.reports.items()}
    manifest = build_manifest(
        outputs,
        inputs=inputs,
        report=reports[trend.labels[-1]],
        command=command,
        vintage=", ".join(trend.labels),
        boundary=trend.boundary,
    )
    manifest["penggabungan"] = {
        label: build_manifest([], inputs={}, report=report)["penggabungan"]
        for label, report in reports.items()
    }
    del manifest["klasifikasi"], manifest["klasifikasi_lapisan"], manifest["penyamaran"]
    return manifest | {
        "periode": list(trend.labels),
        "seri": list(trend.series),
        "register": trend.registers,
        "register_dipaksa": trend.forced,
        "ukuran": trend.measures,
        "target_persen": trend.target,
        "toleransi_poin": trend.tolerance,
        "catatan": [str(n) for n in trend.notes],
    }
