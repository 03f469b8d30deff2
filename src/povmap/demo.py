"""The embedded demo: the whole pipeline on the project's own fictional region."""

from __future__ import annotations

import os
from pathlib import Path

from ._errors import PovmapInputError
from ._io import check_outputs
from .export import BundleOptions, export_result
from .i18n import label
from .pipeline import Options, run
from .render.output import write_map

#: The demo files live in the repository's ``boundaries/`` folder (see its README).
DEMO_DIR = Path(__file__).resolve().parents[2] / "boundaries"


def demo_paths() -> tuple[Path, Path]:
    """Paths of the demo boundary layer and counts table."""
    boundaries, counts = DEMO_DIR / "demo_desa.geojson", DEMO_DIR / "demo_counts.csv"
    if not boundaries.exists() or not counts.exists():
        raise PovmapInputError(
            f"Data contoh tidak ditemukan di {DEMO_DIR}. Pasang povmap dari repositorinya "
            "(pip install -e .) atau buat ulang dengan python boundaries/make_demo.py.",
            en=f"Demo data not found in {DEMO_DIR}. Install povmap from its repository "
               "(pip install -e .) or rebuild it with python boundaries/make_demo.py."
        )
    return boundaries, counts


def run_demo(out_dir: str | os.PathLike = "output", *, lang: str = "id") -> list[Path]:
    """Map the demo region into ``out_dir``: the HTML map with its poverty pockets (and its
    manifest), and the geoportal bundle (GeoJSON, styles, metadata, join report, manifest)."""
    out_dir = Path(out_dir)
    boundaries, counts = demo_paths()
    check_outputs(folders=[out_dir], inputs=[boundaries, counts])
    result = run(boundaries, counts, Options(lang=lang, pockets=True))
    fictional = label("illustrative", lang)
    title = f"{label('title_default', lang)} – Kabupaten Contoh ({fictional})"
    html = write_map(result, out_dir / "demo_peta.html", title=title, source=fictional,
                     tiles=None, lang=lang)
    bundle = export_result(result, out_dir, BundleOptions(
        formats=("geojson",), lang=lang, title=title, vintage=fictional))
    return [html, html.with_suffix(".manifest.json"), *bundle]
