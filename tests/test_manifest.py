"""The manifest traces a bundle: input and output hashes match the files; classes, vintage kept."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import asdict

import pytest
from click.testing import CliRunner
from conftest import HSS_DESA, HSS_KUGI_ZIP, make_counts, need

import povmap
from povmap.cli import main
from povmap.manifest import build_manifest


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def counts_csv(hss_raw, tmp_path_factory):
    path = tmp_path_factory.mktemp("manifest") / "hss.csv"
    make_counts(hss_raw, seed=21).to_csv(path, index=False)
    return path


def export(tmp_path, counts_csv, *extra) -> tuple:
    out = tmp_path / "bundle"
    result = CliRunner().invoke(
        main,
        [
            "export",
            str(need(HSS_KUGI_ZIP)),
            str(counts_csv),
            "-o",
            str(out),
            "--format",
            "geojson,gpkg,shp",
            "--vintage",
            "DTSEN 2025 triwulan I",
            *map(str, extra),
        ],
    )
    assert result.exit_code == 0, result.output
    return out, json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_hashes_match_the_files(tmp_path, counts_csv):
    out, manifest = export(tmp_path, counts_csv)
    listed = {entry["berkas"]: entry for entry in manifest["keluaran"]}
    on_disk = {p.name for p in out.iterdir()} - {"manifest.json"}
    assert set(listed) == on_disk
    for name, entry in listed.items():
        assert entry["sha256"] == digest(out / name), name
        assert entry["ukuran"] == (out / name).stat().st_size
    inputs = manifest["masukan"]
    assert inputs["boundaries"]["sha256"] == digest(HSS_KUGI_ZIP)
    assert inputs["counts"]["sha256"] == digest(counts_csv)
    assert manifest["periode_data"] == "DTSEN 2025 triwulan I"
    assert manifest["batas_wilayah"]["crs_asal"] == "EPSG:32750"
    assert manifest["batas_wilayah"]["skema"] == "kugi"
    assert set(manifest["edisi"]) == {"tabel_kode", "batas_wilayah"}
    assert manifest["penggabungan"]["matched"] == 148
    assert (
        manifest["penggabungan"]["totals"]["jumlah_miskin_ekstrem"]["input"]
        == (manifest["penggabungan"]["totals"]["jumlah_miskin_ekstrem"]["matched"])
    )
    assert "laporan_penggabungan.json" in listed and manifest["penyamaran"] is None
    assert set(manifest["klasifikasi_lapisan"]) == {"desa", "kecamatan"}
    assert manifest["klasifikasi"] == manifest["klasifikasi_lapisan"]["desa"]
    assert isinstance(manifest["perintah"], list) and manifest["perintah"]


def test_public_manifest_keeps_only_totals(tmp_path, counts_csv):
    out = tmp_path / "bundle"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "povmap.cli",
            "export",
            str(need(HSS_KUGI_ZIP)),
            str(counts_csv),
            "-o",
            str(out),
            "--suppress-below",
            "10",
        ],
        check=True,
        capture_output=True,
    )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["perintah"][-2:] == ["--suppress-below", "10"]
    totals = manifest["penggabungan"]["totals"]
    assert all(set(v) == {"matched"} for v in totals.values())
    suppression = manifest["penyamaran"]
    assert suppression["ambang"] == 10
    assert sum(suppression["sel_primer"].values()) > 0
    assert not (out / "laporan_penggabungan.json").exists()
    # Counts only: the manifest never names which desa had a small number.
    assert "63.06." not in json.dumps(suppression)
    kec = json.loads((out / "kecamatan.geojson").read_text())["features"]
    published = [f["properties"]["JML_ME"] for f in kec]
    if None not in published:
        assert sum(published) == totals["jumlah_miskin_ekstrem"]["matched"]


def test_small_public_total_is_blanked(hss_raw, tmp_path):
    counts = make_counts(hss_raw, seed=5)
    counts["jumlah_miskin_ekstrem"] = 0
    counts.loc[0, "jumlah_miskin_ekstrem"] = 4  # the whole region has 4 poor people
    path = tmp_path / "counts.csv"
    counts.to_csv(path, index=False)
    result = povmap.run(need(HSS_DESA), path)
    facts = {
        "inputs": result.inputs,
        "report": result.report.to_dict(),
        "classifications": result.classifications,
        "classification": result.classification,
    }
    manifest = build_manifest([], **facts, suppression={"ambang": 10}, public=True)
    assert manifest["penggabungan"]["totals"]["jumlah_miskin_ekstrem"] == {"matched": None}
    assert manifest["penggabungan"]["totals"]["jumlah_penduduk"]["matched"] > 0
    private = build_manifest([], **facts)  # the map command's call: everything, as before
    assert private["penggabungan"]["totals"]["jumlah_miskin_ekstrem"]["input"] == 4
    assert private["klasifikasi"] == asdict(result.classification)
