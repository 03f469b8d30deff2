"""Where the time of a whole run goes, stage by stage, as shares of the total (one run).

Counts are generated (deterministic, seed 1) for every desa of the layer. Stages: read the
boundaries, read the counts, join, rates, aggregate to kecamatan, classify, find pockets, build the
HTML map (these two skipped past
``--map-limit`` desa), write the GeoPackage.

    python benchmarks/bench_pipeline.py [--national]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_read import DATA, national_fgb

import povmap
from povmap.pockets import find_pockets
from povmap.render import choropleth


def counts_for(desa, path: Path) -> Path:
    """A generated counts table for every desa of ``desa``."""
    rng = np.random.default_rng(1)
    population = rng.integers(300, 9000, len(desa))
    poor = np.floor(population * rng.uniform(0.001, 0.09, len(desa))).astype(int)
    pd.DataFrame(
        {
            "kode_wilayah": desa["kode_desa"],
            "jumlah_miskin_ekstrem": poor,
            "jumlah_penduduk": population,
        }
    ).to_csv(path, index=False)
    return path


def profile(boundaries: Path, map_limit: int) -> dict[str, float]:
    """Seconds per stage for one run on ``boundaries``."""
    times: dict[str, float] = {}
    work = Path(tempfile.mkdtemp())

    def stage(name, fn):
        start = time.perf_counter()
        out = fn()
        times[name] = time.perf_counter() - start
        return out

    desa = stage("read boundaries", lambda: povmap.read_boundaries(boundaries))
    table = counts_for(desa.gdf, work / "counts.csv")
    counts = stage("read counts", lambda: povmap.read_counts(table))
    joined = stage("join", lambda: povmap.join(desa, counts).joined)
    layer = stage("rates", lambda: povmap.add_rates(joined))
    kec = stage("aggregate", lambda: povmap.aggregate(layer, "kecamatan"))
    layer = stage("classify", lambda: povmap.classify(layer).gdf)
    # Pockets and the HTML map are kabupaten/province tools; a national layer skips them.
    if len(layer) <= map_limit:
        stage("pockets", lambda: find_pockets(layer))
        stage("HTML map", lambda: choropleth(layer, kecamatan=kec).get_root().render())
    stage(
        "write GeoPackage",
        lambda: povmap.write_gpkg({"desa": layer, "kecamatan": kec}, work / "out.gpkg"),
    )
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--national", action="store_true", help="also the 83,403-desa layer")
    parser.add_argument("--map-limit", type=int, default=10_000)
    args = parser.parse_args()
    layers = {
        "HSS (148)": DATA / "6306_hulu_sungai_selatan_desa.geojson",
        "Kalsel (2,008)": DATA / "63_kalimantan_selatan_desa.geojson",
    }
    if args.national:
        layers["Indonesia (83,403)"] = national_fgb()
    for name, path in layers.items():
        times = profile(path, args.map_limit)
        total = sum(times.values())
        print(f"\n{name}: total {total:.1f} s")
        for stage, seconds in times.items():
            print(f"  {stage:<18}{seconds / total:>7.1%}")


if __name__ == "__main__":
    main()
