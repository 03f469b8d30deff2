"""Outputs that are safe to write: never over an input, all or nothing, never stale (issue #9).

The inputs are copies of the real Kayong Utara layer in ``tmp_path``, because a failing test here
would destroy them.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pytest
from conftest import KALSEL_DESA, KAYONG_DESA, invoke, make_counts, need


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with its SHA-256."""
    return {str(p.relative_to(folder)): digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def kayong_raw() -> gpd.GeoDataFrame:
    return gpd.read_file(need(KAYONG_DESA))


@pytest.fixture
def inputs(kayong_raw, tmp_path) -> tuple[Path, Path]:
    """``data/batas.geojson`` and ``data/jumlah.csv``: the user's own files, writable."""
    data = tmp_path / "data"
    data.mkdir()
    boundaries = data / "batas.geojson"
    boundaries.write_bytes(need(KAYONG_DESA).read_bytes())
    counts = data / "jumlah.csv"
    make_counts(kayong_raw, seed=6111).to_csv(counts, index=False)
    return boundaries, counts


# --- kind 6: an output path that is an input -------------------------------------------------


@pytest.mark.parametrize("how", ["same", "relative", "symlink", "hardlink"])
def test_pockets_output_over_the_boundary_file_is_refused(how, inputs, tmp_path, monkeypatch):
    boundaries, counts = inputs
    before = digest(boundaries), digest(counts)
    monkeypatch.chdir(tmp_path)
    target = {
        "same": boundaries,
        "relative": Path("data/../data/batas.geojson"),
        "symlink": tmp_path / "tautan.geojson",
        "hardlink": tmp_path / "kaitan.geojson",
    }[how]
    if how == "symlink":
        target.symlink_to(boundaries)
    if how == "hardlink":
        os.link(boundaries, target)
    code, out = invoke("pockets", boundaries, counts, "-o", target, "--permutations", 99)
    assert code == 1, out
    assert f"{target} adalah berkas masukan ({boundaries})" in out
    assert "Pilih nama keluaran lain" in out
    assert (digest(boundaries), digest(counts)) == before
    assert not (target.parent / f"{target.stem}_peringkat.csv").exists()


def test_ranking_and_report_over_the_counts_table_are_refused(inputs, tmp_path):
    boundaries, counts = inputs
    before = digest(counts)
    code, out = invoke(
        "pockets",
        boundaries,
        counts,
        "-o",
        tmp_path / "k.geojson",
        "--ranking",
        counts,
        "--lang",
        "en",
    )
    assert code == 1 and f"{counts} is an input file ({counts})" in out
    code, out = invoke("join", boundaries, counts, "-o", tmp_path / "j.gpkg", "--report", counts)
    assert code == 1 and f"{counts} adalah berkas masukan" in out
    assert digest(counts) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # nothing was written


def test_every_part_of_a_shapefile_counts_as_input(kayong_raw, inputs, tmp_path):
    _, counts = inputs
    shp = tmp_path / "data" / "Batas.shp"
    kayong_raw.to_file(shp)
    before = tree(tmp_path / "data")
    code, out = invoke(
        "join", shp, counts, "-o", tmp_path / "j.gpkg", "--report", tmp_path / "data" / "Batas.dbf"
    )
    assert code == 1 and "Batas.dbf adalah berkas masukan" in out
    assert tree(tmp_path / "data") == before


def test_export_into_the_folder_that_holds_an_input_is_refused(inputs, tmp_path):
    boundaries, counts = inputs
    before = tree(tmp_path / "data")
    code, out = invoke("export", boundaries, counts, "-o", tmp_path / "data")
    assert code == 1
    assert f"Folder keluaran {tmp_path / 'data'} berisi berkas masukan" in out
    # A hard link of the counts table inside an otherwise unrelated folder is the same file.
    (tmp_path / "bundel").mkdir()
    os.link(counts, tmp_path / "bundel" / "salinan.csv")
    code, out = invoke("export", boundaries, counts, "-o", tmp_path / "bundel", "--lang", "en")
    assert code == 1 and "The output folder" in out and "holds the input file" in out
    assert tree(tmp_path / "data") == before


def test_demo_into_the_folder_of_its_own_data_is_refused(tmp_path, monkeypatch):
    import povmap.demo

    demo = tmp_path / "boundaries"  # a copy: a failure must not write into the repository
    demo.mkdir()
    for name in ("demo_desa.geojson", "demo_counts.csv"):
        (demo / name).write_bytes((povmap.demo.DEMO_DIR / name).read_bytes())
    monkeypatch.setattr(povmap.demo, "DEMO_DIR", demo)
    before = tree(demo)
    code, out = invoke("demo", "-o", demo)
    assert code == 1 and f"Folder keluaran {demo} berisi berkas masukan" in out
    assert tree(demo) == before


def test_two_outputs_that_are_one_file_are_refused(inputs, tmp_path):
    boundaries, counts = inputs
    code, out = invoke(
        "map",
        boundaries,
        counts,
        "-o",
        tmp_path / "peta.pdf",
        "--atlas",
        tmp_path / "." / "peta.pdf",
    )
    assert code == 1 and "adalah berkas keluaran yang sama" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_join_output_in_a_format_povmap_does_not_write(tmp_path):
    # Checked before any work: the counts table named here does not even exist.
    code, out = invoke(
        "join", need(KAYONG_DESA), tmp_path / "tidak_ada.csv", "-o", tmp_path / "hasil.csv"
    )
    assert code == 1, out
    assert (
        "hasil.csv: join menulis GeoPackage atau GeoJSON; gunakan akhiran .gpkg, .geojson "
        "atau .json" in out
    )
    assert "tak terduga" not in out
    assert list(tmp_path.iterdir()) == []


def test_join_writes_geojson_for_json_suffix(inputs, tmp_path):
    boundaries, counts = inputs
    code, out = invoke("join", boundaries, counts, "-o", tmp_path / "hasil.json")
    assert code == 0, out
    assert json.loads((tmp_path / "hasil.json").read_text())["type"] == "FeatureCollection"


# --- kind 5: all or nothing, never stale -----------------------------------------------------


def hidden(folder: Path) -> list[str]:
    """povmap's hidden entries (staging, old, lock) in ``folder``: none may survive a run."""
    return sorted(p.name for p in folder.iterdir() if ".povmap-" in p.name)


def check_bundle(folder: Path) -> dict:
    """Assert ``folder`` holds exactly its manifest and the files it lists, with their hashes."""
    manifest = json.loads((folder / "manifest.json").read_text())
    listed = {item["berkas"]: item["sha256"] for item in manifest["keluaran"]}
    assert sorted(p.name for p in folder.iterdir()) == sorted([*listed, "manifest.json"])
    for name, sha in listed.items():
        assert digest(folder / name) == sha, name
    return manifest


def test_publication_export_replaces_an_internal_bundle_whole(inputs, tmp_path):
    boundaries, counts = inputs
    out = tmp_path / "geoportal"
    code, text = invoke("export", boundaries, counts, "-o", out, "--format", "geojson,gpkg,shp")
    assert code == 0, text
    assert {"desa_shp.zip", "laporan_penggabungan.json"} <= {p.name for p in out.iterdir()}
    code, text = invoke("export", boundaries, counts, "-o", out, "--suppress-below", "10")
    assert code == 0, text
    manifest = check_bundle(out)
    assert manifest["penyamaran"] is not None
    for stale in ("desa_shp.zip", "kecamatan_shp.zip", "laporan_penggabungan.json"):
        assert not (out / stale).exists()
    assert (
        "Dihapus dari keluaran sebelumnya (tidak ditulis oleh perintah ini): desa_shp.zip, "
        "kecamatan_shp.zip, laporan_penggabungan.json"
    ) in text
    assert oct(out.stat().st_mode & 0o777) == oct(0o777 & ~_umask())
    assert hidden(tmp_path) == []


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_folder_with_files_povmap_did_not_write_is_refused(inputs, tmp_path):
    boundaries, counts = inputs
    out = tmp_path / "laporan"
    out.mkdir()
    (out / "catatan rapat.docx").write_bytes(b"rapat")
    (out / "foto").mkdir()
    code, text = invoke("export", boundaries, counts, "-o", out)
    assert code == 1
    assert (
        f"Folder keluaran {out} berisi berkas yang tidak ditulis povmap: catatan rapat.docx, "
        "foto." in text
    )
    assert sorted(p.name for p in out.iterdir()) == ["catatan rapat.docx", "foto"]
    # Beside a bundle too: a user's file added to an earlier bundle folder is never deleted.
    (out / "catatan rapat.docx").unlink()
    (out / "foto").rmdir()
    (out / ".gitkeep").write_bytes(b"")
    code, text = invoke("export", boundaries, counts, "-o", out)
    assert code == 0, text
    (out / "catatan.txt").write_text("jangan hapus")
    before = tree(out)
    code, text = invoke("export", boundaries, counts, "-o", out, "--lang", "en")
    assert code == 1 and "holds files povmap did not write: catatan.txt" in text
    assert tree(out) == before
    (out / "catatan.txt").unlink()
    code, text = invoke("export", boundaries, counts, "-o", out, "--format", "geojson")
    assert code == 0, text
    assert (out / ".gitkeep").exists()  # a version-control marker is kept, not reported
    assert "Dihapus dari keluaran sebelumnya (tidak ditulis oleh perintah ini): povmap.gpkg" in text
    assert hidden(tmp_path) == [] and hidden(out) == []


def test_a_failed_move_puts_every_earlier_file_back(inputs, tmp_path, monkeypatch):
    # pockets writes three files; the third cannot be moved in: the first two must be the old
    # ones again, not new files beside an old ranking.
    boundaries, counts = inputs
    out = tmp_path / "kantong.geojson"
    for name in ("kantong.geojson", "kantong_wilayah.geojson", "kantong_peringkat.csv"):
        (tmp_path / name).write_text(f"hasil lama: {name}")  # an earlier run's files
    before = tree(tmp_path)
    real_replace = os.replace

    def failing(src, dst, *args, **kwargs):
        if Path(dst).name == "kantong_peringkat.csv" and not failing.done:
            failing.done = True
            raise OSError(5, "Input/output error", str(dst))
        return real_replace(src, dst, *args, **kwargs)

    failing.done = False
    monkeypatch.setattr(os, "replace", failing)
    code, text = invoke("pockets", boundaries, counts, "-o", out, "--permutations", 99)
    assert code == 1 and "Input/output error" in text
    assert tree(tmp_path) == before


def test_a_failed_atlas_leaves_the_earlier_map(inputs, tmp_path, monkeypatch):
    import povmap.render.static as static

    boundaries, counts = inputs
    code, text = invoke("map", boundaries, counts, "-o", tmp_path / "peta.html")
    assert code == 0, text
    before = tree(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("matplotlib gagal")

    monkeypatch.setattr(static, "PdfPages", broken)
    code, text = invoke(
        "map",
        boundaries,
        counts,
        "-o",
        tmp_path / "peta.html",
        "--title",
        "Baru",
        "--atlas",
        tmp_path / "atlas.pdf",
    )
    assert code == 1 and "matplotlib gagal" in text
    assert tree(tmp_path) == before  # neither the new map nor its manifest


def test_a_failed_report_leaves_no_joined_layer(inputs, tmp_path, monkeypatch):
    from povmap.join import JoinReport

    boundaries, counts = inputs

    def broken(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(JoinReport, "write", broken)
    code, text = invoke(
        "join",
        boundaries,
        counts,
        "-o",
        tmp_path / "hasil.gpkg",
        "--report",
        tmp_path / "laporan.json",
    )
    assert code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_export_into_a_mount_point(inputs, tmp_path, monkeypatch):
    # A USB stick mounted at usb/: a rename from its parent into it fails with EXDEV, as the
    # kernel does across filesystems. The bundle must be staged inside the stick.
    boundaries, counts = inputs
    usb = tmp_path / "usb"
    usb.mkdir()
    real_ismount, real_rename, real_replace = os.path.ismount, os.rename, os.replace

    def across(src, dst) -> bool:
        def inside(p):
            return Path(os.path.abspath(p)).is_relative_to(usb)

        return inside(src) != inside(dst)

    def rename(src, dst, *args, **kwargs):
        if across(src, dst):
            raise OSError(errno.EXDEV, "Invalid cross-device link", str(src))
        return real_rename(src, dst, *args, **kwargs)

    def replace(src, dst, *args, **kwargs):
        if across(src, dst):
            raise OSError(errno.EXDEV, "Invalid cross-device link", str(src))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p) == usb or real_ismount(p))
    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(os, "replace", replace)
    code, text = invoke("export", boundaries, counts, "-o", usb, "--format", "geojson,shp")
    assert code == 0, text
    check_bundle(usb)
    code, text = invoke("export", boundaries, counts, "-o", usb, "--suppress-below", "10")
    assert code == 0, text
    check_bundle(usb)
    assert not (usb / "desa_shp.zip").exists()
    assert hidden(usb) == [] and hidden(tmp_path) == []

    # A failure half-way through the swap on the stick: every old file back, no new one left.
    before = tree(usb)
    moved = []

    def failing(src, dst, *args, **kwargs):
        if ".povmap-stage-" in str(src):
            moved.append(dst)
            if len(moved) == 4:
                raise OSError(errno.EIO, "Input/output error", str(dst))
        return rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", failing)
    code, text = invoke("export", boundaries, counts, "-o", usb, "--format", "geojson,shp")
    assert code == 1 and "Input/output error" in text and len(moved) == 4
    assert tree(usb) == before and hidden(usb) == []


@pytest.mark.parametrize("moved_aside,moved_in", [(5, 0), (None, 3)])
def test_a_run_killed_in_a_mount_point_swap_is_undone_by_the_next(
    moved_aside, moved_in, inputs, tmp_path, monkeypatch
):
    # What a SIGKILL half-way through a swap inside a mount point leaves: some old files moved
    # aside, maybe some new ones moved in. The next run puts the old bundle back first.
    boundaries, counts = inputs
    usb = tmp_path / "usb"
    code, text = invoke("export", boundaries, counts, "-o", usb)
    assert code == 0, text
    before = tree(usb)
    real_ismount = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p) == usb or real_ismount(p))
    old, stage = usb / ".povmap-old-dead", usb / ".povmap-stage-dead"
    old.mkdir()
    stage.mkdir()
    names = sorted(p.name for p in usb.iterdir() if not p.name.startswith("."))
    new = [*names, "desa_shp.zip"]
    (old / ".povmap-moves.json").write_text(json.dumps({"old": names, "new": new}))
    for name in names[:moved_aside]:
        os.rename(usb / name, old / name)
    for name in new[::-1][:moved_in]:
        (usb / name).write_text("baru")
    for name in new[::-1][moved_in:]:
        (stage / name).write_text("baru")
    code, text = invoke("export", boundaries, counts, "-o", usb, "--title", "Baru")
    assert code == 0, text
    assert "Dihapus" not in text  # the interrupted run's files were never the bundle
    manifest = check_bundle(usb)
    assert manifest["keluaran"][0]["sha256"] != before[manifest["keluaran"][0]["berkas"]]
    assert hidden(usb) == []


def povmap_process(*args: object) -> subprocess.Popen:
    """The real ``povmap`` command in a process of its own (to run beside or to kill)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    env.pop("POVMAP_DEBUG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "povmap.cli", *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, process: subprocess.Popen, timeout: float = 300) -> None:
    """Poll until ``condition()`` holds; fail if ``process`` ended first."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_concurrent_run_into_the_same_folder_is_refused(inputs, tmp_path):
    boundaries, counts = inputs
    out = tmp_path / "bundel"
    first = povmap_process("export", boundaries, counts, "-o", out, "--format", "geojson,gpkg,shp")
    wait_for(lambda: (tmp_path / ".bundel.povmap-lock").exists(), first)
    code, text = invoke("export", boundaries, counts, "-o", out, "--format", "geojson")
    assert code == 1
    assert f"{out} sedang ditulis oleh proses povmap lain" in text
    assert first.wait(timeout=300) == 0, first.communicate()
    check_bundle(out)
    assert (out / "desa_shp.zip").exists()
    assert hidden(tmp_path) == []


def province_over_a_bundle(kalsel_raw, inputs, tmp_path: Path) -> tuple[Path, Path, dict]:
    """A Kalimantan Selatan counts table to export over a fresh one-kabupaten bundle ``bundel``:
    the table, the bundle folder and its files as they were (:func:`tree`)."""
    boundaries, counts = inputs
    kalsel_counts = tmp_path / "kalsel.csv"
    make_counts(kalsel_raw, seed=63).to_csv(kalsel_counts, index=False)
    out = tmp_path / "bundel"
    code, text = invoke("export", boundaries, counts, "-o", out)
    assert code == 0, text
    return kalsel_counts, out, tree(out)


def test_export_killed_at_any_point_leaves_the_old_bundle(kalsel_raw, inputs, tmp_path):
    # SIGKILL (power cut, closed laptop lid, task manager) while the whole province is exported
    # over a bundle of one kabupaten: the folder stays exactly the old bundle.
    boundaries, counts = inputs
    kalsel_counts, out, old = province_over_a_bundle(kalsel_raw, inputs, tmp_path)
    old_manifest = check_bundle(out)
    for files in (0, 4, 10):

        def staged(n=files) -> bool:
            stages = list(tmp_path.glob(".bundel.povmap-stage-*"))
            return bool(stages) and len(list(stages[0].iterdir())) >= n

        process = povmap_process(
            "export", need(KALSEL_DESA), kalsel_counts, "-o", out, "--format", "geojson,gpkg,shp"
        )
        wait_for(staged, process)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert tree(out) == old, files
    # The next run cleans up what the killed ones left, and swaps its bundle in.
    code, text = invoke("export", boundaries, counts, "-o", out, "--title", "Bundel baru")
    assert code == 0, text
    assert check_bundle(out)["keluaran"] != old_manifest["keluaran"]
    assert hidden(tmp_path) == []


def test_staging_left_by_a_killed_run_is_cleaned_up(inputs, tmp_path):
    boundaries, counts = inputs
    for stale in (
        ".peta.html.povmap-stage-abcd1234",
        ".bundel.povmap-stage-x",
        ".bundel.povmap-trash-y",
    ):
        (tmp_path / stale).mkdir()
        (tmp_path / stale / "sisa.geojson").write_text("{}")
    (tmp_path / ".peta.html.povmap-lock").write_text("")
    code, text = invoke("map", boundaries, counts, "-o", tmp_path / "peta.html")
    assert code == 0, text
    code, text = invoke("export", boundaries, counts, "-o", tmp_path / "bundel")
    assert code == 0, text
    assert hidden(tmp_path) == []


# --- kind 8, output side: a full disk, a folder that cannot be written --------------------------


def test_full_disk_during_export_says_so_and_keeps_the_old_bundle(inputs, tmp_path, monkeypatch):
    import povmap.export.bundle as bundle

    boundaries, counts = inputs
    out = tmp_path / "bundel"
    code, text = invoke("export", boundaries, counts, "-o", out)
    assert code == 0, text
    before = tree(out)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(bundle, "write_shapefile_zip", full)
    code, text = invoke("export", boundaries, counts, "-o", out, "--format", "geojson,shp")
    assert code == 1, text
    assert f"Disk penuh: tidak ada ruang tersisa untuk menulis keluaran di {tmp_path}" in text
    assert "tak terduga" not in text
    assert tree(out) == before and hidden(tmp_path) == []


def test_full_disk_reported_by_gdal(inputs, tmp_path, monkeypatch):
    import pyogrio

    boundaries, counts = inputs

    def full(*args, **kwargs):
        raise pyogrio.errors.DataSourceError(
            f"Failed to write features: {os.strerror(errno.ENOSPC)}"
        )

    monkeypatch.setattr(pyogrio, "write_dataframe", full)
    code, text = invoke(
        "pockets",
        boundaries,
        counts,
        "-o",
        tmp_path / "hasil" / "k.gpkg",
        "--permutations",
        99,
        "--lang",
        "en",
    )
    assert code == 1, text
    assert f"Disk full: no space left to write the output in {tmp_path / 'hasil'}" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_output_folder_that_cannot_be_made(tmp_path):
    blocker = tmp_path / "berkas.txt"
    blocker.write_text("bukan folder")
    # Refused before any work: the counts table does not even exist.
    code, text = invoke(
        "join", need(KAYONG_DESA), tmp_path / "tidak_ada.csv", "-o", blocker / "hasil.gpkg"
    )
    assert code == 1
    assert f"folder {blocker} tidak dapat ditulis" in text and "tidak_ada" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["berkas.txt"]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_terminated_run_leaves_no_hidden_file(kalsel_raw, inputs, tmp_path, stop):
    # kill (SIGTERM), a closed terminal or Ctrl-C (SIGINT) unwind the run: the staging folder
    # and the lock are removed, the earlier bundle stays as it was.
    kalsel_counts, out, old = province_over_a_bundle(kalsel_raw, inputs, tmp_path)

    def staged() -> bool:
        return bool(list(tmp_path.glob(".bundel.povmap-stage-*")))

    process = povmap_process(
        "export", need(KALSEL_DESA), kalsel_counts, "-o", out, "--format", "geojson,gpkg,shp"
    )
    wait_for(staged, process)
    os.kill(process.pid, stop)
    _, err = process.communicate(timeout=300)
    assert process.returncode in (128 + stop, 130), err
    assert "Traceback" not in err
    assert tree(out) == old
    assert hidden(tmp_path) == []
