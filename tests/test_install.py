"""povmap installs as users install it: ``pip install .`` (not editable) into a fresh virtual
environment, then ``povmap demo`` from any folder, with no source tree on the path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_pip_install_then_demo_in_a_fresh_venv(tmp_path):
    # Build from a copy holding only what a source distribution holds, so that nothing outside
    # the package (boundaries/, tests/) can be reached by walking up from an installed file, and
    # the build writes no egg-info or build/ into the repository.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    venv = tmp_path / "venv"
    # The dependencies come from this interpreter's site-packages: nothing is downloaded again.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(source)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    where = subprocess.run(
        [str(python), "-c", "import povmap.demo as d; print(d.__file__)"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout  # not the source tree

    out = tmp_path / "elsewhere" / "hasil"
    demo = subprocess.run(
        [str(bindir / "povmap"), "demo", "-o", str(out)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    listed = [Path(line) for line in demo.stdout.splitlines()]
    for name in (
        "demo_peta.html",
        "demo_peta.manifest.json",
        "desa.geojson",
        "kecamatan.geojson",
        "manifest.json",
        "laporan_penggabungan.json",
    ):
        assert (out / name).stat().st_size > 0, name
        assert out / name in listed
    html = (out / "demo_peta.html").read_text(encoding="utf-8")
    assert "Kabupaten Contoh" in html and "unpkg.com" not in html  # offline assets shipped too
    desa = json.loads((out / "desa.geojson").read_text(encoding="utf-8"))
    assert len(desa["features"]) == 150  # every desa of the packaged demo region
    manifest = json.loads((out / "demo_peta.manifest.json").read_text(encoding="utf-8"))
    assert Path(manifest["masukan"]["boundaries"]["berkas"]).is_relative_to(venv)
