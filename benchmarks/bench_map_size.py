"""Bytes of povmap's Kalimantan Selatan desa map beside GeoDataFrame.explore() and mapshaper.

Run from the repository root (needs ../shared/data; mapshaper is optional):

    npm install --prefix benchmarks/_work mapshaper     # once, for the comparison only
    python benchmarks/bench_map_size.py

All numbers come from one run, so the ratios compare like with like. The counts are generated
(deterministic), since real P3KE counts are not public; they only affect the tooltip texts.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
KALSEL = ROOT.parent / "shared" / "data" / "boundaries" / "63_kalimantan_selatan_desa.geojson"
MAPSHAPER = ROOT / "benchmarks" / "_work" / "node_modules" / ".bin" / "mapshaper"


def counts_for(raw: gpd.GeoDataFrame, seed: int = 63) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    population = rng.integers(400, 9000, len(raw))
    poor = np.floor(population * rng.uniform(0.001, 0.09, len(raw))).astype(int)
    return pd.DataFrame(
        {
            "kode_wilayah": raw["kode"],
            "nama_kecamatan": raw["nama_kec"],
            "nama_desa": raw["nama"],
            "jumlah_penduduk": population,
            "jumlah_miskin_ekstrem": poor,
        }
    )


def mapshaper_bytes(layer: gpd.GeoDataFrame, work: Path) -> dict[str, int]:
    """mapshaper -clean -simplify to about the same detail, as GeoJSON and as TopoJSON."""
    if not MAPSHAPER.exists():
        return {}
    source = work / "desa.geojson"
    layer.to_file(source)
    out = {}
    for fmt in ("geojson", "topojson"):
        target = work / f"ms.{fmt}"
        subprocess.run(
            [
                str(MAPSHAPER),
                str(source),
                "-clean",
                "-simplify",
                "interval=100",
                "keep-shapes",
                "-o",
                f"format={fmt}",
                "precision=0.00001",
                str(target),
            ],
            check=True,
            capture_output=True,
        )
        out[f"mapshaper {fmt} (data only)"] = target.stat().st_size
    return out


def main() -> int:
    from povmap._offline import inline_assets
    from povmap.pipeline import Options, run
    from povmap.render import choropleth
    from povmap.simplify import check_coverage, simplify_coverage

    if not KALSEL.exists():
        print(f"needs {KALSEL}", file=sys.stderr)
        return 1
    raw = gpd.read_file(KALSEL)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        counts_for(raw).to_csv(work / "counts.csv", index=False)
        result = run(KALSEL, work / "counts.csv", Options())
        layer = result.main

        t = time.perf_counter()
        ours = inline_assets(choropleth(layer, kecamatan=result.layers["kecamatan"], tiles=None))
        ours_s = time.perf_counter() - t
        t = time.perf_counter()
        explore = layer.explore().get_root().render()
        explore_s = time.perf_counter() - t
        sizes = {
            "GeoDataFrame.explore() (CDN page)": len(explore.encode()),
            "povmap map, self-contained (libraries inlined)": len(ours.encode()),
        }
        data = re.findall(r"var topology_data_\w+ = (.*?);\n", ours)
        sizes["povmap data only (TopoJSON + tooltip columns)"] = sum(len(d.encode()) for d in data)
        sizes.update(mapshaper_bytes(layer[["kode_desa", "geometry"]], work))

    base = sizes["GeoDataFrame.explore() (CDN page)"]
    print(
        f"Kalimantan Selatan, {len(layer)} desa; povmap {ours_s:.1f} s, explore {explore_s:.1f} s"
    )
    print(f"{'what':52} {'bytes':>11} {'ratio to explore':>17}")
    for name, size in sizes.items():
        print(f"{name:52} {size:>11,} {size / base:>17.3f}")

    raw_check = check_coverage(raw)
    web_check = check_coverage(simplify_coverage(raw))
    print("\ngap check (union of all desa, UTM 50S):")
    for name, c in (("shared file as is", raw_check), ("povmap web layer", web_check)):
        print(
            f"  {name:20} valid coverage={c.valid_coverage!s:5} holes={c.holes:5} "
            f"hole area={c.hole_area_m2 / 1e6:.3f} km²"
        )
    print(
        json.dumps(
            {
                "bytes": sizes,
                "ratio": sizes["povmap map, self-contained (libraries inlined)"] / base,
            }
        )
    )
    return 0


if __name__ == "__main__":
    if shutil.which("node") is None:
        print("(node not found: mapshaper column skipped)", file=sys.stderr)
    sys.exit(main())
