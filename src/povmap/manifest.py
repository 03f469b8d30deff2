"""The manifest: what went into an output and what came out, so any file can be traced."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from ._io import sha256, write_text
from .pipeline import Result


def build_manifest(result: Result, outputs: list[Path], *, command: list[str] | None = None,
                   extra: dict | None = None) -> dict:
    """Describe a run: povmap version, command, input hashes, join statistics, classes, outputs."""
    from . import __version__

    info = result.main.attrs.get("povmap")
    classification = result.classification
    report = result.report.to_dict()
    return {
        "povmap": __version__,
        "dibuat": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "perintah": command if command is not None else sys.argv,
        "masukan": {
            name: {"berkas": str(path), "sha256": sha256(path), "ukuran": path.stat().st_size}
            for name, path in result.inputs.items()
        },
        "batas_wilayah": None if info is None else {
            "skema": info.schema, "crs_asal": info.source_crs, "layer": info.layer,
            "kolom": info.columns, "geometri_diperbaiki": info.repaired,
            "geometri_kosong": info.null_geometry,
        },
        "penggabungan": {k: report[k] for k in ("level", "matched", "matched_by", "totals")}
        | {"unmatched_counts": len(report["unmatched_counts"]),
           "unmatched_boundaries": len(report["unmatched_boundaries"]),
           "ambiguous": len(report["ambiguous"]), "notes": report["notes"]},
        "klasifikasi": asdict(classification),
        "keluaran": [
            {"berkas": p.name, "sha256": sha256(p), "ukuran": p.stat().st_size} for p in outputs
        ],
        **(extra or {}),
    }


def write_manifest(path: str | os.PathLike, manifest: dict) -> Path:
    """Write the manifest as JSON, atomically."""
    write_text(path, json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n")
    return Path(path)
