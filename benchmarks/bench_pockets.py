"""Poverty pockets on a whole layer: seconds of each step of ``find_pockets`` (issue 15).

Run from the repository root (needs ../shared/data):

    PYTHONPATH=src python benchmarks/bench_pockets.py [--national]

Kalimantan Selatan (2,008 desa), and with ``--national`` the 83,403 desa, are joined with
generated counts whose rates cluster by kabupaten (a level per kabupaten times noise per desa,
seeded), so that pockets exist and their regions are dissolved too. Each step of one
``find_pockets`` call (9,999 permutations, the defaults) is timed in wall and CPU seconds: the
weights, the permutation test, the FDR correction, the pocket ids and the regions.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
from run_all import KALSEL, national_fgb

import povmap
from povmap import pockets

STEPS = ("weights_for", "_local_test", "benjamini_hochberg", "_pocket_ids", "_regions")


def clustered_counts(boundaries: Path, target: Path, seed: int = 15) -> Path:
    """Counts whose rate is a level per kabupaten times noise per desa (seeded)."""
    read = pyogrio.read_dataframe(boundaries, read_geometry=False)
    rng = np.random.default_rng(seed)
    kabupaten = read["kode"].str[:5]
    codes = kabupaten.unique()
    level = pd.Series(rng.lognormal(np.log(0.02), 0.8, len(codes)), index=codes)
    population = rng.integers(400, 9000, len(read))
    rate = np.clip(level[kabupaten].to_numpy() * rng.lognormal(0, 0.3, len(read)), 0, 0.6)
    pd.DataFrame(
        {
            "kode_wilayah": read["kode"],
            "jumlah_miskin_ekstrem": np.floor(population * rate).astype(int),
            "jumlah_penduduk": population,
        }
    ).to_csv(target, index=False)
    return target


def timed(name: str, function: Callable, times: dict) -> Callable:
    """``function``, adding its wall and CPU seconds to ``times[name]``."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            times[name] = (time.perf_counter() - wall, time.process_time() - cpu)

    return wrapper


def measure(name: str, boundaries: Path, folder: Path, times: dict) -> None:
    counts = clustered_counts(boundaries, folder / f"{name}.csv")
    layer = povmap.run(boundaries, counts).layers["desa"]
    times.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    found = pockets.find_pockets(layer)
    times["find_pockets"] = (time.perf_counter() - wall, time.process_time() - cpu)
    print(
        f"\n{name}: {len(layer):,} desa, {found.weights.n_islands} islands, "
        f"{len(found.wilayah)} pockets of {int(found.desa['id_kantong'].notna().sum())} desa"
    )
    for step, (seconds, cpu_seconds) in times.items():
        print(f"  {step:<20} wall {seconds:7.2f} s   cpu {cpu_seconds:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--national", action="store_true", help="also the 83,403 desa")
    args = parser.parse_args()
    times: dict[str, tuple[float, float]] = {}
    for step in STEPS:  # find_pockets looks these up in its module: time them there
        setattr(pockets, step, timed(step, getattr(pockets, step), times))
    with tempfile.TemporaryDirectory() as folder:
        measure("kalsel", KALSEL, Path(folder), times)
        if args.national:
            measure("nasional", national_fgb(), Path(folder), times)


if __name__ == "__main__":
    main()
