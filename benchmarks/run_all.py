"""Every comparison of issue 15 side by side, in one run: a table on the terminal and RESULTS.md.

Each measured command runs in its own fresh interpreter under ``/usr/bin/time`` (wall seconds and
peak resident memory), one after the other, so the ratios of a run compare like with like on a
shared, noisy machine. Inputs are generated or decompressed into a temporary folder (the national
FlatGeobuf is ``xz``-compressed in ``../shared/data``; it is never written into the repository).

    python benchmarks/run_all.py                 # province scale (Kalimantan Selatan, 2,008 desa)
    python benchmarks/run_all.py --national      # + the 83,403 desa and a 20-million-row register

Compared: ``povmap`` (CLI, end to end) against a plain ``pyogrio.read_dataframe``, GDAL's own
writes (``ogr2ogr``, pyogrio with ``RFC7946=YES``), ``GeoDataFrame.explore()`` + save, and
mapshaper when it is installed (``npm install --prefix /tmp/povmap-bench/ms mapshaper``, or set
``MAPSHAPER`` to its path).
"""

from __future__ import annotations

import argparse
import datetime as dt
import lzma
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data" / "boundaries"
KALSEL = DATA / "63_kalimantan_selatan_desa.geojson"
NATIONAL_XZ = DATA / "national" / "indonesia_desa.fgb.xz"
WORK = Path(tempfile.gettempdir()) / "povmap-bench"
TIME = "/usr/bin/time"


@dataclass
class Run:
    """One measured command: wall seconds and peak resident memory (GiB)."""

    name: str
    seconds: float
    peak_gib: float
    note: str = ""


def measure(name: str, command: list[str], note: str = "", **env: str) -> Run:
    """Run ``command`` under ``/usr/bin/time`` in a fresh process; fail loudly if it fails."""
    # One report file per benchmark process: two runs at once (helpers share the machine and
    # /tmp/povmap-bench) read each other's numbers otherwise (an ogr2ogr row read 54,424 s).
    report = WORK / f"time-{os.getpid()}.txt"
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **env}
    done = subprocess.run(
        [TIME, "-f", "%e %M", "-o", str(report), *command],
        capture_output=True,
        text=True,
        env=environment,
    )
    if done.returncode != 0:
        raise SystemExit(f"{name} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    seconds, kib = report.read_text().split()[-2:]
    run = Run(name, float(seconds), int(kib) / 2**20, note)
    print(f"  {name:<58} {run.seconds:8.2f} s {run.peak_gib:6.2f} GiB", flush=True)
    return run


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def national_fgb() -> Path:
    """The national FlatGeobuf, decompressed once into the temporary folder."""
    target = WORK / "indonesia_desa.fgb"
    if not target.exists():
        with lzma.open(NATIONAL_XZ) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return target


def counts_csv(boundaries: Path, target: Path) -> Path:
    """A generated counts row (population, people in extreme poverty) for every desa."""
    subprocess.run(
        python(f"""
        import numpy as np, pandas as pd, pyogrio
        codes = pyogrio.read_dataframe({str(boundaries)!r}, read_geometry=False,
                                       columns=["kode"])["kode"]
        rng = np.random.default_rng(1)
        population = rng.integers(300, 9000, len(codes))
        poor = np.floor(population * rng.uniform(0.001, 0.09, len(codes))).astype(int)
        pd.DataFrame({{"kode_wilayah": codes, "jumlah_miskin_ekstrem": poor,
                      "jumlah_penduduk": population}}).to_csv({str(target)!r}, index=False)
    """),
        check=True,
    )
    return target


def register_csv(boundaries: Path, rows: int, target: Path) -> Path:
    """A generated individual-level by-name register of ``rows`` people over every desa.

    DuckDB writes it (pandas would need the whole table in memory): one row per person with a
    NIK-like id, a name, the desa code, a family id, a desil and a status, 5 % of them gone.
    """
    if target.exists():
        return target
    subprocess.run(
        python(f"""
        import duckdb, pyogrio
        codes = pyogrio.read_dataframe({str(boundaries)!r}, read_geometry=False,
                                       columns=["kode"])["kode"].tolist()
        con = duckdb.connect()
        con.execute("CREATE TABLE desa AS SELECT * FROM (SELECT unnest(?) AS kode)", [codes])
        con.execute("ALTER TABLE desa ADD COLUMN i BIGINT")
        con.execute("UPDATE desa SET i = rowid")
        n = len(codes)
        con.execute(f'''COPY (
            SELECT p AS id_individu, 'K' || (p // 4) AS id_keluarga_p3ke,
                   printf('%016d', 3100000000000000 + p) AS nik, 'Warga' AS nama_lengkap,
                   d.kode AS kode_wilayah,
                   1 + ((p // 4) * 7919) % 10 AS desil_kesejahteraan,
                   CASE WHEN hash(p) % 20 = 0 THEN 'Meninggal' ELSE 'Ditemukan' END
                       AS status_keberadaan
            FROM range({rows}) t(p) JOIN desa d ON d.i = (p // 4) % {{n}}
        ) TO {str(target)!r} (HEADER, DELIMITER ',')''')
    """),
        check=True,
    )
    return target


def ogr2ogr_geojson(out: str, source: str) -> list[str]:
    """GDAL's own RFC 7946 GeoJSON write of ``source`` to ``out`` (6 decimals, as povmap)."""
    return [
        "ogr2ogr",
        "-overwrite",
        "-f",
        "GeoJSON",
        "-lco",
        "RFC7946=YES",
        "-lco",
        "COORDINATE_PRECISION=6",
        out,
        source,
    ]


def mapshaper() -> str | None:
    found = os.environ.get("MAPSHAPER") or shutil.which("mapshaper")
    for candidate in (
        WORK / "ms" / "node_modules" / ".bin" / "mapshaper",
        HERE / "_work" / "node_modules" / ".bin" / "mapshaper",
    ):
        if not found and candidate.exists():
            found = str(candidate)
    return found


def explore_command(counts: Path) -> list[str]:
    """``GeoDataFrame.explore()`` + save of Kalsel with ``counts`` joined (povmap's yardstick)."""
    return python(f"""
        import geopandas as gpd, pandas as pd
        gdf = gpd.read_file({str(KALSEL)!r})
        counts = pd.read_csv({str(counts)!r}, dtype={{"kode_wilayah": str}})
        gdf = gdf.merge(counts, left_on="kode", right_on="kode_wilayah", how="left")
        gdf["persen"] = 100 * gdf["jumlah_miskin_ekstrem"] / gdf["jumlah_penduduk"]
        gdf.explore(column="persen", scheme="quantiles", k=5, tooltip=["nama", "persen"]
                    ).save({str(WORK / "explore.html")!r})""")


def povmap_map_command(counts: Path, output: Path = WORK / "kalsel.html") -> list[str]:
    """``povmap map`` of Kalsel with ``counts``, end to end (the source on ``PYTHONPATH``)."""
    return [
        sys.executable,
        "-m",
        "povmap.cli",
        "--quiet",
        "map",
        str(KALSEL),
        str(counts),
        "-o",
        str(output),
    ]


def province(runs: list[Run]) -> None:
    """Kalimantan Selatan: povmap map and exports against explore(), GDAL and mapshaper."""
    print("Kalimantan Selatan (2,008 desa)")
    counts = counts_csv(KALSEL, WORK / "kalsel.csv")
    runs.append(
        measure(
            "read: pyogrio.read_dataframe",
            python(f"""
        import pyogrio; pyogrio.read_dataframe({str(KALSEL)!r})"""),
        )
    )
    runs.append(measure("map: GeoDataFrame.explore() + save", explore_command(counts)))
    runs.append(measure("map: povmap map (end to end)", povmap_map_command(counts)))
    _rm(WORK / "kalsel_ogr.geojson")
    runs.append(
        measure(
            "geojson: ogr2ogr (read + GDAL write)",
            ogr2ogr_geojson(str(WORK / "kalsel_ogr.geojson"), str(KALSEL)),
        )
    )
    ms = mapshaper()
    if ms:
        runs.append(
            measure(
                "geojson: mapshaper (read + write)",
                [
                    ms,
                    str(KALSEL),
                    "-o",
                    "format=geojson",
                    "precision=0.000001",
                    str(WORK / "kalsel_ms.geojson"),
                ],
            )
        )
    _rm(WORK / "kalsel_out")
    runs.append(
        measure(
            "geojson: povmap export --format geojson",
            [
                sys.executable,
                "-m",
                "povmap.cli",
                "--quiet",
                "export",
                str(KALSEL),
                str(counts),
                "-o",
                str(WORK / "kalsel_out"),
                "--format",
                "geojson",
            ],
        )
    )


def national(runs: list[Run], register_rows: int) -> None:
    """Indonesia: exports against a plain read and GDAL's writes; the register in DuckDB."""
    print("Indonesia (83,403 desa)")
    fgb = national_fgb()
    counts = counts_csv(fgb, WORK / "nasional.csv")
    runs.append(
        measure(
            "read: pyogrio.read_dataframe (national)",
            python(f"""
        import pyogrio; pyogrio.read_dataframe({str(fgb)!r})"""),
        )
    )
    _rm(WORK / "nat_gdal.geojson")
    runs.append(
        measure(
            "geojson: read + GDAL write, RFC 7946 (pyogrio)",
            python(f"""
        import pyogrio
        df = pyogrio.read_dataframe({str(fgb)!r})
        pyogrio.write_dataframe(df, {str(WORK / "nat_gdal.geojson")!r}, driver="GeoJSON",
                                RFC7946="YES", COORDINATE_PRECISION=6)"""),
        )
    )
    runs.append(
        measure(
            "geojson: read + povmap's writer, RFC 7946",
            python(f"""
        import pyogrio
        from povmap.export.writers import write_geojson
        df = pyogrio.read_dataframe({str(fgb)!r})
        write_geojson(df, {str(WORK / "nat_povmap.geojson")!r}, layer="desa", precision=6)"""),
        )
    )
    _rm(WORK / "nat_ogr.geojson")
    runs.append(
        measure(
            "geojson: ogr2ogr (national)",
            ogr2ogr_geojson(str(WORK / "nat_ogr.geojson"), str(fgb)),
        )
    )
    ms = mapshaper()
    if ms:
        runs.append(
            measure(
                "geojson: mapshaper (national, from GDAL's GeoJSON)",
                [
                    "node",
                    "--max-old-space-size=8000",
                    ms,
                    str(WORK / "nat_ogr.geojson"),
                    "-o",
                    "format=geojson",
                    "precision=0.000001",
                    str(WORK / "nat_ms.geojson"),
                ],
            )
        )
    # Cold: an empty boundary cache (povmap._cache), so the overlap check and the kecamatan
    # outlines are computed; warm: the second export of the same file takes them from it.
    cache = WORK / "cache"
    for fmt in ("gpkg", "geojson"):
        for state in ("cold", "warm"):
            if state == "cold":
                shutil.rmtree(cache, ignore_errors=True)
            _rm(WORK / f"nat_{fmt}")
            runs.append(
                measure(
                    f"{fmt}: povmap export --format {fmt} (national, {state} cache)",
                    [
                        sys.executable,
                        "-m",
                        "povmap.cli",
                        "--quiet",
                        "export",
                        str(fgb),
                        str(counts),
                        "-o",
                        str(WORK / f"nat_{fmt}"),
                        "--format",
                        fmt,
                    ],
                    POVMAP_CACHE_DIR=str(cache),
                )
            )
    # One GeoJSON per province and layer, as national geoportals load them (warm cache).
    _rm(WORK / "nat_split")
    runs.append(
        measure(
            "geojson: povmap export --split provinsi (national, warm cache)",
            [
                *[sys.executable, "-m", "povmap.cli", "--quiet", "export", str(fgb), str(counts)],
                *["-o", str(WORK / "nat_split"), "--format", "geojson", "--split", "provinsi"],
            ],
            note="38 provinces x (desa, kecamatan): 76 files",
            POVMAP_CACHE_DIR=str(cache),
        )
    )
    runs.extend(national_map())
    if register_rows:
        register = register_csv(fgb, register_rows, WORK / f"register_{register_rows}.csv")
        size = register.stat().st_size / 2**30
        name = f"register: DuckDB, {register_rows:,} people -> desa counts"
        runs.append(
            measure(
                name,
                python(f"""
            from povmap.scale import aggregate_register
            out = aggregate_register({str(register)!r}, memory_limit="8GB")
            print(len(out.frame))"""),
                note=f"CSV {size:.1f} GiB",
            )
        )


def national_map() -> list[Run]:
    """``povmap map`` of the national layer (bench_national_map.py): build, size, Chromium."""
    from bench_national_map import run as bench_map

    found = bench_map()
    note = (
        f"{found['file_mb']:.1f} MB; first polygons in Chromium after "
        f"{found['first_polygons_s']:.1f} s; desa {found['desa_after_zoom_s']:.1f} s after a zoom"
    )
    return [
        Run(
            f"map: povmap map (national, {state} cache)",
            found[f"build_{state}_s"],
            found["peak_gib"],
            note,
        )
        for state in ("cold", "warm")
    ]


def _rm(path: Path) -> None:
    """Remove an output of an earlier run (GDAL's GeoJSON driver cannot overwrite a file)."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _ratio(runs: dict[str, Run], name: str, base: str) -> str:
    if name in runs and base in runs:
        return f"{runs[name].seconds / runs[base].seconds:.2f}"
    return "-"


def table(runs: list[Run]) -> str:
    by_name = {r.name: r for r in runs}
    lines = ["| what | seconds | peak GiB | note |", "|---|---:|---:|---|"]
    lines += [f"| {r.name} | {r.seconds:.2f} | {r.peak_gib:.2f} | {r.note} |" for r in runs]
    ratios = [
        (
            "povmap map / explore() + save (Kalsel; target ≤ 0.5)",
            "map: povmap map (end to end)",
            "map: GeoDataFrame.explore() + save",
        ),
        (
            "povmap export geojson / ogr2ogr (Kalsel)",
            "geojson: povmap export --format geojson",
            "geojson: ogr2ogr (read + GDAL write)",
        ),
        (
            "povmap export gpkg / plain read (national, cold cache; target ≤ 4)",
            "gpkg: povmap export --format gpkg (national, cold cache)",
            "read: pyogrio.read_dataframe (national)",
        ),
        (
            "povmap export gpkg / plain read (national, warm cache; target ≤ 4)",
            "gpkg: povmap export --format gpkg (national, warm cache)",
            "read: pyogrio.read_dataframe (national)",
        ),
        (
            "read + povmap's GeoJSON writer / read + GDAL write (national)",
            "geojson: read + povmap's writer, RFC 7946",
            "geojson: read + GDAL write, RFC 7946 (pyogrio)",
        ),
        (
            "povmap export geojson / read + GDAL write (national, cold cache; target ≤ 1)",
            "geojson: povmap export --format geojson (national, cold cache)",
            "geojson: read + GDAL write, RFC 7946 (pyogrio)",
        ),
        (
            "povmap export geojson / read + GDAL write (national, warm cache; aim 0.5)",
            "geojson: povmap export --format geojson (national, warm cache)",
            "geojson: read + GDAL write, RFC 7946 (pyogrio)",
        ),
        (
            "povmap export geojson --split provinsi / read + GDAL write (national, warm cache)",
            "geojson: povmap export --split provinsi (national, warm cache)",
            "geojson: read + GDAL write, RFC 7946 (pyogrio)",
        ),
    ]
    lines += ["", "| ratio | value |", "|---|---:|"]
    lines += [f"| {label} | {_ratio(by_name, a, b)} |" for label, a, b in ratios]
    return "\n".join(lines)


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{memory:.0f} GiB, load average {load} at the end; Python "
        f"{platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--national",
        action="store_true",
        help="also the 83,403-desa layer and the generated register",
    )
    parser.add_argument(
        "--register-rows",
        type=int,
        default=20_000_000,
        help="people in the generated register (0: skip it)",
    )
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    # Every other command runs without the boundary cache (the user's may be warm from any
    # earlier run); the national exports name theirs, cold and warm.
    os.environ.setdefault("POVMAP_CACHE_DIR", "off")
    runs: list[Run] = []
    province(runs)
    if args.national:
        national(runs, args.register_rows)
    text = table(runs)
    print()
    print(text)
    args.output.write_text(
        "# Benchmark results\n\nWritten by `python benchmarks/run_all.py"
        f"{' --national' if args.national else ''}` (one run; every command a fresh process "
        "under `/usr/bin/time`).\n\n"
        f"Machine: {machine()}.\n\n{text}\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
