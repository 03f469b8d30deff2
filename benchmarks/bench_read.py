"""Side-by-side: reading boundary layers with pyogrio (default) versus fiona, in one run.

Machines here are shared and noisy, so the result is a ratio of medians, not absolute seconds.
The national layer (83,403 desa) is decompressed once into ``benchmarks/_work/`` (git-ignored).

    python benchmarks/bench_read.py [--national] [--repeat 3]
"""

from __future__ import annotations

import argparse
import lzma
import shutil
import statistics
import time
from pathlib import Path

import povmap

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "boundaries"
WORK = HERE / "_work"


def national_fgb() -> Path:
    """The national FlatGeobuf, decompressed once (lzma from the standard library)."""
    target = WORK / "indonesia_desa.fgb"
    if not target.exists():
        WORK.mkdir(exist_ok=True)
        source = DATA / "national" / "indonesia_desa.fgb.xz"
        with lzma.open(source) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return target


def median_seconds(fn, repeat: int) -> float:
    """Median wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--national", action="store_true", help="also the 83,403-desa layer")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    layers = {
        "HSS (148)": DATA / "6306_hulu_sungai_selatan_desa.geojson",
        "HSS KUGI zip UTM (148)": DATA / "variants" / "6306_hss_desa_kugi_utm50s.zip",
        "Kalsel (2,008)": DATA / "63_kalimantan_selatan_desa.geojson",
    }
    if args.national:
        layers["Indonesia FGB (83,403)"] = national_fgb()
    print(f"{'layer':<26}{'pyogrio s':>11}{'fiona s':>10}{'fiona/pyogrio':>15}")
    for name, path in layers.items():
        fast = median_seconds(lambda p=path: povmap.read_boundaries(p), args.repeat)
        slow = median_seconds(lambda p=path: povmap.read_boundaries(p, engine="fiona"), args.repeat)
        print(f"{name:<26}{fast:>11.2f}{slow:>10.2f}{slow / fast:>15.2f}")


if __name__ == "__main__":
    main()
