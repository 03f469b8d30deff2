"""The manifest: what went into an output and what came out, so any file can be traced."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from ._io import sha256, write_text
from .classify import classification_of
from .export.suppress import PUBLIC_COUNTS
from .pipeline import Result


def build_manifest(result: Result, outputs: list[Path], *, command: list[str] | None = None,
                   layers: dict | None = None, vintage: str | None = None,
                   editions: dict | None = None, suppression: dict | None = None,
                   public: bool = False) -> dict:
    """Describe a run: povmap version, command, input hashes, join statistics, classes, outputs.

    Parameters
    ----------
    result
        The analysed run.
    outputs
        Files written (hashed here, so hash them where they are, before any move).
    command
        The command line; ``sys.argv`` by default.
    layers
        The layers actually written when they differ from ``result.layers`` (suppressed); their
        classifications are recorded.
    vintage
        Data period (``periode_data``), e.g. ``"P3KE 2024"``.
    editions
        ``{"tabel_kode": ..., "batas_wilayah": ...}`` when known.
    suppression
        What small-cell suppression did (``Suppression.to_dict()``).
    public
        For a public bundle: the join statistics keep only matched totals, and a total under the
        suppression threshold is blanked too.
    """
    from . import __version__

    layers = layers if layers is not None else result.layers
    info = result.main.attrs.get("povmap")
    report = result.report.to_dict()
    classifications = {name: classification_of(gdf) for name, gdf in layers.items()
                       if gdf.attrs.get("povmap_classification") is not None}
    joined = {k: report[k] for k in ("level", "matched", "matched_by")}
    joined["totals"] = _totals(report["totals"], public, (suppression or {}).get("ambang"))
    return {
        "povmap": __version__,
        "dibuat": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "perintah": command if command is not None else sys.argv,
        "masukan": {
            name: {"berkas": str(path), "sha256": sha256(path), "ukuran": path.stat().st_size}
            for name, path in result.inputs.items()
        },
        "periode_data": vintage,
        "edisi": editions or {"tabel_kode": None, "batas_wilayah": None},
        "batas_wilayah": None if info is None else {
            "skema": info.schema, "crs_asal": info.source_crs, "layer": info.layer,
            "kolom": info.columns, "geometri_diperbaiki": info.repaired,
            "geometri_kosong": info.null_geometry,
        },
        "penggabungan": joined
        | {"unmatched_counts": len(report["unmatched_counts"]),
           "unmatched_boundaries": len(report["unmatched_boundaries"]),
           "ambiguous": len(report["ambiguous"]), "notes": report["notes"]},
        "klasifikasi": asdict(next(iter(classifications.values()), result.classification)),
        "klasifikasi_lapisan": {name: asdict(c) for name, c in classifications.items()},
        "penyamaran": suppression,
        "keluaran": [
            {"berkas": p.name, "sha256": sha256(p), "ukuran": p.stat().st_size} for p in outputs
        ],
    }


def _totals(totals: dict, public: bool, threshold: int | None) -> dict:
    """Join totals; in a public bundle only the matched total, blanked when it is small."""
    if not public:
        return totals
    out = {}
    for column, values in totals.items():
        matched = values.get("matched")
        small = (threshold and matched is not None and 0 < matched < threshold
                 and column not in PUBLIC_COUNTS)
        out[column] = {"matched": None if small else matched}
    return out


def write_manifest(path: str | os.PathLike, manifest: dict) -> Path:
    """Write the manifest as JSON, atomically."""
    write_text(path, json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n")
    return Path(path)
