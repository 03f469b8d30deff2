"""Tooltip and popup texts of a desa layer: seconds of ``tooltip_frame`` (issue 15).

Run from the repository root (needs ../shared/data):

    PYTHONPATH=src python benchmarks/bench_tooltips.py

For the national layer (83,403 desa) and Kalimantan Selatan (2,008 desa) it builds the columns a
map's tooltips show (names and codes from the file; generated counts, rates, densities, pocket
types and match kinds, 3 % missing) and prints the best of three ``tooltip_frame`` calls per
language, with the number of Python function calls of one call (load-independent).
"""

from __future__ import annotations

import cProfile
import pstats
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
from run_all import KALSEL, national_fgb

from povmap.render.tooltips import tooltip_frame, tooltip_rows


def tooltip_layer(path: Path) -> pd.DataFrame:
    """The tooltip columns of a desa layer, the numbers generated (seeded)."""
    read = pyogrio.read_dataframe(path, read_geometry=False)
    n = len(read)
    rng = np.random.default_rng(1)
    population = rng.integers(300, 9000, n).astype(float)
    poor = np.floor(population * rng.uniform(0.001, 0.09, n))
    poor[rng.random(n) < 0.03] = np.nan
    return pd.DataFrame(
        {
            "nama_desa": read["nama"],
            "nama_kecamatan": read["nama_kec"] if "nama_kec" in read else read["nama"],
            "kode_desa": read["kode"],
            "jumlah_miskin_ekstrem": poor,
            "jumlah_keluarga_miskin_ekstrem": np.floor(poor / 3.7),
            "jumlah_penduduk": population,
            "persen_miskin_ekstrem": 100 * poor / population,
            "kepadatan_miskin_ekstrem": poor / rng.uniform(0.5, 80, n),
            "jenis_kantong": rng.choice(["kantong", "tidak_signifikan", "dingin"], n),
            "id_kantong": rng.choice(["K1", "K2", ""], n),
            "cara_padan": rng.choice(["kode", "nama", "mirip"], n),
        }
    )


def main() -> None:
    for name, path in (("nasional", national_fgb()), ("kalsel", KALSEL)):
        layer = tooltip_layer(path)
        rows = tooltip_rows("desa")
        profile = cProfile.Profile()
        profile.runcall(tooltip_frame, layer, rows, "id")
        calls = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
        for lang in ("id", "en"):
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                tooltip_frame(layer, rows, lang)
                best = min(best, time.perf_counter() - start)
            print(f"{name:9} {len(layer):6} desa  {lang}  {best:6.3f} s  ({calls:,} calls)")


if __name__ == "__main__":
    main()
