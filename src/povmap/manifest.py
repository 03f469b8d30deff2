"""The manifest: what went into an output and what came out, so any file can be traced."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

from ._io import sha256, write_text
from ._version import __version__
from .boundaries import BoundaryInfo
from .classify import Classification
from .counts import PUBLIC_COUNTS


def build_manifest(
    outputs: list[Path],
    *,
    inputs: Mapping[str, Path],
    report: dict,
    classifications: Mapping[str, Classification] | None = None,
    classification: Classification | None = None,
    boundary: BoundaryInfo | None = None,
    command: list[str] | None = None,
    vintage: str | None = None,
    editions: dict | None = None,
    suppression: dict | None = None,
    public: bool = False,
) -> dict:
    """Describe a run: povmap version, command, input hashes, join statistics, classes, outputs.

    Built from plain values (not from a pipeline run), so any caller can describe what it wrote.

    Parameters
    ----------
    outputs
        Files written (hashed here, so hash them where they are, before any move).
    inputs
        The files read, by role (``{"boundaries": ..., "counts": ...}``); hashed here, but for
        the boundary file of ``boundary``, hashed when it was read.
    report
        The join report as a dict (:meth:`povmap.join.JoinReport.to_dict`).
    classifications
        The classes of the layers actually written (suppressed ones when suppressed), by layer
        name: all are recorded.
    classification
        The classes recorded as the map's when ``classifications`` is empty.
    boundary
        What reading the boundary file found (:class:`povmap.boundaries.BoundaryInfo`).
    command
        The command line; ``sys.argv`` by default.
    vintage
        Data period (``periode_data``), e.g. ``"P3KE 2024"``.
    editions
        ``{"tabel_kode": ..., "batas_wilayah": ...}`` when known.
    suppression
        What small-cell suppression did (``Suppression.to_dict()``), if it was applied.
    public
        For a public output: the join statistics keep only matched totals, and a total under the
        suppression threshold, or one suppression could not protect, is blanked too. Always so
        when ``suppression`` is given.

    Returns
    -------
    The manifest as a JSON-ready dict.
    """
    public = public or suppression is not None
    classifications = dict(classifications or {})
    shown = next(iter(classifications.values()), classification)
    joined = {k: report[k] for k in ("level", "matched", "matched_by")}
    joined["totals"] = _totals(report["totals"], public, suppression or {})
    return {
        "povmap": __version__,
        "dibuat": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "perintah": command if command is not None else sys.argv,
        "masukan": {
            name: {
                "berkas": str(path),
                "sha256": _input_digest(path, boundary),
                "ukuran": path.stat().st_size,
            }
            for name, path in inputs.items()
        },
        "periode_data": vintage,
        "edisi": editions or {"tabel_kode": None, "batas_wilayah": None},
        "batas_wilayah": None
        if boundary is None
        else {
            "skema": boundary.schema,
            "crs_asal": boundary.source_crs,
            "layer": boundary.layer,
            "kolom": boundary.columns,
            "geometri_diperbaiki": boundary.repaired,
            "geometri_kosong": boundary.null_geometry,
            # "dipakai": the overlap check and kecamatan outlines came from povmap's cache of
            # this edition of the file; "disimpan": computed and stored there;
            # "tidak_dapat_ditulis": the cache folder cannot be written (a note says so);
            # None: no cache.
            "cache": boundary.cache,
        },
        "penggabungan": joined
        | {
            "unmatched_counts": len(report["unmatched_counts"]),
            "unmatched_boundaries": len(report["unmatched_boundaries"]),
            "ambiguous": len(report["ambiguous"]),
            "notes": report["notes"],
        },
        "klasifikasi": asdict(shown) if shown is not None else None,
        "klasifikasi_lapisan": {name: asdict(c) for name, c in classifications.items()},
        "penyamaran": suppression,
        "keluaran": [
            {"berkas": p.name, "sha256": sha256(p), "ukuran": p.stat().st_size} for p in outputs
        ],
    }


def _input_digest(path: Path, boundary: BoundaryInfo | None) -> str:
    """The hex SHA-256 of an input file: the boundary file's as reading it took it (once per
    run: ``BoundaryInfo.sha256``), any other hashed here."""
    if boundary is not None and boundary.sha256 and Path(boundary.path) == Path(path):
        return boundary.sha256
    return sha256(path)


def _totals(totals: dict, public: bool, suppression: dict) -> dict:
    """Join totals; in a public output only the matched total, blanked when it is small or when
    suppression had nothing else left to protect a blanked cell with."""
    if not public:
        return totals
    threshold = suppression.get("ambang")
    hidden = suppression.get("total_wilayah_tidak_dipublikasikan", [])
    out = {}
    for column, values in totals.items():
        matched = values.get("matched")
        small = (
            threshold
            and matched is not None
            and 0 < matched < threshold
            and column not in PUBLIC_COUNTS
        )
        out[column] = {"matched": None if small or column in hidden else matched}
    return out


def write_manifest(path: str | os.PathLike, manifest: dict) -> Path:
    """Write the manifest as JSON, atomically."""
    write_text(path, json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n")
    return Path(path)
