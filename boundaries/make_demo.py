"""Generate povmap's fictional demo region: desa boundaries and an illustrative counts table.

Everything written by this script is invented. "Kabupaten Contoh (fiktif)" lies in the open Java
Sea (lon 112.0-112.4, lat -5.0 to -5.3) so that nobody can mistake it for a real place on a
basemap; its names, codes (province "99") and counts are illustrative, not official data.

The output is deterministic: the same seed gives byte-identical files. Run::

    python boundaries/make_demo.py            # writes the package data, src/povmap/data/demo/
    python boundaries/make_demo.py --out-dir some/folder --seed 20240817

Files written
-------------
demo_desa.geojson
    About 150 desa polygons (EPSG:4326, 6 decimals) that tile the region without gaps or overlaps,
    grouped into 12 contiguous kecamatan.
demo_counts.csv
    One row per desa with population, extreme-poor families and people, and people in desil 1.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon, mapping

SEED = 20240817
"""Seed of :func:`numpy.random.default_rng` used for every random choice."""

N_DESA = 150
N_KEC = 12
N_KELURAHAN = 8
N_REPEATED_NAMES = 2

CENTER_LON, CENTER_LAT = 112.2, -5.15
KM_PER_DEG_LON = 110.87  # at latitude -5.15
KM_PER_DEG_LAT = 110.60
HALF_WIDTH_KM, HALF_HEIGHT_KM = 20.0, 15.0
GRID_DEG = 1e-6

KODE_PROV, NAMA_PROV = "99", "Provinsi Contoh"
KODE_KAB, NAMA_KAB = "99.01", "Kabupaten Contoh (fiktif)"

TOWN_KM = (-3.0, 2.0)
"""Centre of the (fictional) kabupaten capital; the kecamatan containing it is the capital's."""
KELURAHAN_TOWNS = ((TOWN_KM, 5), ((12.0, 7.0), 3))
"""Towns as ((x km, y km), number of nearest units that become kelurahan)."""

KEC_NAMES = (
    "Bukit Raya",
    "Sungai Lebar",
    "Padang Luas",
    "Teluk Damai",
    "Karang Tengah",
    "Muara Indah",
    "Air Jernih",
    "Lembah Hijau",
    "Tanjung Batu",
    "Pasir Putih",
    "Simpang Empat",
)
CAPITAL_KEC_NAME = "Kota Contoh"

NAME_HEADS = (
    "Sungai", "Tanjung", "Karang", "Sido", "Pematang", "Sumber", "Teluk", "Bukit", "Padang",
    "Suka", "Mekar", "Kampung", "Lubuk", "Muara", "Tebing", "Simpang", "Pasir", "Batu", "Talang",
    "Sri", "Tegal", "Rawa",
)  # fmt: skip
NAME_TAILS = (
    "Baru", "Harapan", "Anyar", "Makmur", "Jaya", "Mulya", "Sari", "Indah", "Rahayu", "Maju",
    "Asri", "Damai", "Lestari", "Sejahtera", "Tengah", "Rejo", "Luhur", "Permai",
)  # fmt: skip

HOT_SPOTS = ((9.0, -7.0, 5.5, 0.085), (-13.0, 6.0, 4.0, 0.055))
"""Poverty hot spots as (x km, y km, sigma km, added rate)."""
BASE_RATE, RATE_NOISE_SD = 0.003, 0.35
RATE_MIN, RATE_MAX = 0.0025, 0.08

#: Where the demo files live: inside the package, so that an installed povmap finds them.
PACKAGE_DATA = Path(__file__).resolve().parents[1] / "src" / "povmap" / "data" / "demo"
GEOJSON_NAME = "demo_desa.geojson"
COUNTS_NAME = "demo_counts.csv"
COUNT_COLUMNS = (
    "kode_wilayah",
    "nama_kecamatan",
    "nama_desa",
    "jumlah_penduduk",
    "jumlah_keluarga_miskin_ekstrem",
    "jumlah_miskin_ekstrem",
    "jumlah_desil_1",
)


@dataclass
class Desa:
    """One generated desa (or kelurahan) with its geometry in lon/lat and its attributes.

    Attributes
    ----------
    geometry
        Polygon in EPSG:4326, snapped to 6 decimals.
    x_km, y_km
        Centroid in local km east and north of the region's centre.
    kec
        Kecamatan number, 1 to ``N_KEC``.
    kelurahan
        Whether the unit is a kelurahan rather than a desa.
    kode, nama, nama_kec
        Dotted code, name and kecamatan name.
    """

    geometry: Polygon
    x_km: float
    y_km: float
    kec: int = 0
    kelurahan: bool = False
    kode: str = ""
    nama: str = ""
    nama_kec: str = ""


def make_outline(rng: np.random.Generator, n_vertices: int = 96) -> Polygon:
    """Return a smooth random blob of about 40 x 30 km, in local km around the centre.

    Parameters
    ----------
    rng
        Random generator.
    n_vertices
        Number of outline vertices.

    Returns
    -------
    Polygon
        A simple polygon whose radius wobbles by at most about 10 %.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, n_vertices, endpoint=False)
    wobble = np.zeros_like(theta)
    for harmonic in (2, 3, 5, 7):
        amplitude = rng.uniform(0.01, 0.09) / harmonic**0.5
        wobble += amplitude * np.sin(harmonic * theta + rng.uniform(0.0, 2.0 * np.pi))
    wobble = np.clip(wobble, -0.18, 0.09)
    radius = 1.0 + wobble
    xs = HALF_WIDTH_KM * radius * np.cos(theta)
    ys = HALF_HEIGHT_KM * radius * np.sin(theta)
    outline = Polygon(np.column_stack([xs, ys]))
    assert outline.is_valid, "outline must be a simple polygon"
    return outline


def random_points_in(polygon: Polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` uniform random points inside ``polygon`` by rejection sampling.

    Parameters
    ----------
    polygon
        Region to sample.
    n
        Number of points.
    rng
        Random generator.

    Returns
    -------
    numpy.ndarray
        Array of shape ``(n, 2)``.
    """
    minx, miny, maxx, maxy = polygon.bounds
    found: list[np.ndarray] = []
    count = 0
    while count < n:
        candidates = rng.uniform((minx, miny), (maxx, maxy), size=(4 * n, 2))
        inside = candidates[shapely.contains_xy(polygon, candidates[:, 0], candidates[:, 1])]
        found.append(inside)
        count += len(inside)
    return np.concatenate(found)[:n]


def clipped_voronoi(points: np.ndarray, outline: Polygon) -> list[Polygon]:
    """Voronoi cells of ``points`` clipped to ``outline``, in the order of ``points``.

    Parameters
    ----------
    points
        Array of shape ``(n, 2)``.
    outline
        Region the cells must tile.

    Returns
    -------
    list of Polygon
        One cell per point.
    """
    frame = outline.buffer(10.0)
    cells = shapely.voronoi_polygons(MultiPoint(points), extend_to=frame, ordered=True)
    return [cell.intersection(outline) for cell in cells.geoms]


def relax(points: np.ndarray, outline: Polygon, iterations: int) -> np.ndarray:
    """Move points towards the centroids of their cells (Lloyd relaxation) for even desa sizes.

    Parameters
    ----------
    points
        Array of shape ``(n, 2)``.
    outline
        Region the cells must tile.
    iterations
        Number of relaxation steps.

    Returns
    -------
    numpy.ndarray
        Relaxed points, same shape.
    """
    for _ in range(iterations):
        cells = clipped_voronoi(points, outline)
        points = shapely.get_coordinates(shapely.centroid(cells))
    return points


def km_to_lonlat(xy: np.ndarray) -> np.ndarray:
    """Map local km coordinates (east, north of the centre) to lon/lat degrees.

    Parameters
    ----------
    xy
        Array of shape ``(n, 2)`` in km.

    Returns
    -------
    numpy.ndarray
        Array of shape ``(n, 2)`` in degrees.
    """
    lon = CENTER_LON + xy[:, 0] / KM_PER_DEG_LON
    lat = CENTER_LAT + xy[:, 1] / KM_PER_DEG_LAT
    return np.column_stack([lon, lat])


def to_lonlat_grid(cell: Polygon) -> Polygon:
    """Convert a cell from local km to lon/lat snapped to a 1e-6 degree grid, outer ring CCW.

    Parameters
    ----------
    cell
        Polygon in local km.

    Returns
    -------
    Polygon
        Valid polygon in EPSG:4326 whose coordinates are rounded to 6 decimals.
    """
    lonlat = shapely.transform(cell, km_to_lonlat)
    snapped = shapely.set_precision(lonlat, GRID_DEG)
    rounded = shapely.transform(snapped, lambda xy: np.round(xy, 6))
    return shapely.orient_polygons(rounded)


def kmeans(points: np.ndarray, k: int, rng: np.random.Generator, steps: int = 50) -> np.ndarray:
    """Cluster points into ``k`` groups with plain Lloyd k-means.

    Parameters
    ----------
    points
        Array of shape ``(n, 2)``.
    k
        Number of clusters.
    rng
        Random generator (picks the initial centres).
    steps
        Number of iterations.

    Returns
    -------
    numpy.ndarray
        Cluster label per point, shape ``(n,)``.
    """
    centres = points[rng.choice(len(points), size=k, replace=False)]
    labels = np.zeros(len(points), dtype=int)
    for _ in range(steps):
        dist = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=2)
        labels = dist.argmin(axis=1)
        centres = np.array([points[labels == j].mean(axis=0) for j in range(k)])
    return labels


def reading_order(xs: np.ndarray, ys: np.ndarray, band_km: float) -> np.ndarray:
    """Indices sorting positions north to south in bands, west to east within a band.

    Parameters
    ----------
    xs, ys
        Positions in km.
    band_km
        Height of a band.

    Returns
    -------
    numpy.ndarray
        Sort order.
    """
    bands = np.floor((ys.max() - ys) / band_km)
    return np.lexsort((xs, bands))


def assign_kecamatan(desa: list[Desa], rng: np.random.Generator) -> None:
    """Group the desa into kecamatan numbered in reading order and name them.

    Parameters
    ----------
    desa
        Desa to update in place (``kec`` and ``nama_kec``).
    rng
        Random generator.
    """
    points = np.array([(d.x_km, d.y_km) for d in desa])
    labels = kmeans(points, N_KEC, rng)
    centres = np.array([points[labels == j].mean(axis=0) for j in range(N_KEC)])
    order = reading_order(centres[:, 0], centres[:, 1], band_km=10.0)
    number = {int(label): i + 1 for i, label in enumerate(order)}
    town = np.array(TOWN_KM)
    capital = number[int(labels[np.linalg.norm(points - town, axis=1).argmin()])]
    other_names = iter(KEC_NAMES)
    names = {
        k: CAPITAL_KEC_NAME if k == capital else next(other_names) for k in range(1, N_KEC + 1)
    }
    for d, label in zip(desa, labels, strict=True):
        d.kec = number[int(label)]
        d.nama_kec = names[d.kec]


def assign_kelurahan(desa: list[Desa]) -> None:
    """Mark the units nearest each town of ``KELURAHAN_TOWNS`` as kelurahan.

    Parameters
    ----------
    desa
        Desa to update in place.
    """
    for (tx, ty), n in KELURAHAN_TOWNS:
        dist = [np.hypot(d.x_km - tx, d.y_km - ty) for d in desa]
        for i in np.argsort(dist, kind="stable")[:n]:
            desa[i].kelurahan = True
    assert sum(d.kelurahan for d in desa) == N_KELURAHAN


def assign_codes(desa: list[Desa]) -> list[Desa]:
    """Give each unit its dotted code and return the units sorted by code.

    Within a kecamatan, kelurahan are numbered 1001, 1002, ... and desa 2001, 2002, ... in
    reading order.

    Parameters
    ----------
    desa
        Desa to update in place.

    Returns
    -------
    list of Desa
        The same objects sorted by ``kode``.
    """
    for kec in range(1, N_KEC + 1):
        for kelurahan, first in ((True, 1001), (False, 2001)):
            group = [d for d in desa if d.kec == kec and d.kelurahan == kelurahan]
            xs = np.array([d.x_km for d in group])
            ys = np.array([d.y_km for d in group])
            for seq, i in enumerate(reading_order(xs, ys, band_km=3.0) if group else []):
                group[i].kode = f"{KODE_KAB}.{kec:02d}.{first + seq}"
    return sorted(desa, key=lambda d: d.kode)


def assign_names(desa: list[Desa], rng: np.random.Generator) -> None:
    """Give every unit an invented name; exactly two names recur in a different kecamatan.

    Parameters
    ----------
    desa
        Desa sorted by code, updated in place.
    rng
        Random generator.
    """
    combos = [f"{head} {tail}" for head in NAME_HEADS for tail in NAME_TAILS]
    picks = rng.choice(len(combos), size=len(desa), replace=False)
    for d, pick in zip(desa, picks, strict=True):
        d.nama = combos[pick]
    rural = [i for i, d in enumerate(desa) if not d.kelurahan]
    order = [rural[i] for i in rng.permutation(len(rural))]
    used: set[int] = set()
    repeats = 0
    for source in order:
        if repeats == N_REPEATED_NAMES:
            break
        if source in used:
            continue
        target = next(
            t for t in order if t not in used | {source} and desa[t].kec != desa[source].kec
        )
        desa[target].nama = desa[source].nama
        used |= {source, target}
        repeats += 1


def build_desa(rng: np.random.Generator) -> tuple[Polygon, list[Desa]]:
    """Build the region outline and its desa with geometry, kecamatan, codes and names.

    Parameters
    ----------
    rng
        Random generator.

    Returns
    -------
    tuple of (Polygon, list of Desa)
        The outline in lon/lat and the desa sorted by code.
    """
    outline = make_outline(rng)
    points = relax(random_points_in(outline, N_DESA, rng), outline, iterations=3)
    cells = clipped_voronoi(points, outline)
    desa = []
    for cell in cells:
        centre = cell.centroid
        desa.append(Desa(to_lonlat_grid(cell), centre.x, centre.y))
    assign_kecamatan(desa, rng)
    assign_kelurahan(desa)
    desa = assign_codes(desa)
    assign_names(desa, rng)
    return to_lonlat_grid(outline), desa


def check_tessellation(outline: Polygon, desa: list[Desa]) -> None:
    """Assert the desa are valid polygons that tile ``outline`` and form sound kecamatan.

    Parameters
    ----------
    outline
        Region outline in lon/lat.
    desa
        Generated desa.
    """
    geoms = [d.geometry for d in desa]
    assert all(g.geom_type == "Polygon" and g.is_valid and not g.is_empty for g in geoms)
    assert shapely.coverage_is_valid(geoms), "desa overlap or leave slivers"
    union = shapely.union_all(geoms)
    total = sum(g.area for g in geoms)
    assert union.geom_type == "Polygon" and not union.interiors, "union must be one solid polygon"
    assert abs(union.area - total) <= 1e-9 * total, "desa overlap"
    assert abs(union.area - outline.area) <= 1e-6 * outline.area, "desa leave gaps"
    sizes = Counter(d.kec for d in desa)
    assert len(sizes) == N_KEC and min(sizes.values()) >= 5, sizes
    for kec in sizes:
        merged = shapely.union_all([d.geometry for d in desa if d.kec == kec])
        assert merged.geom_type == "Polygon", f"kecamatan {kec} is not contiguous"


def rate_field(x_km: np.ndarray, y_km: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Spatially clustered extreme-poverty rate: a low base, two hot spots and noise.

    Parameters
    ----------
    x_km, y_km
        Desa centroids in local km.
    rng
        Random generator.

    Returns
    -------
    numpy.ndarray
        Rate per desa between ``RATE_MIN`` and ``RATE_MAX``.
    """
    rate = np.full(x_km.shape, BASE_RATE)
    for hx, hy, sigma, amplitude in HOT_SPOTS:
        dist2 = (x_km - hx) ** 2 + (y_km - hy) ** 2
        rate += amplitude * np.exp(-dist2 / (2.0 * sigma**2))
    rate *= rng.lognormal(0.0, RATE_NOISE_SD, size=rate.shape)
    return np.clip(rate, RATE_MIN, RATE_MAX)


def make_counts(desa: list[Desa], rng: np.random.Generator) -> list[dict[str, object]]:
    """Generate the illustrative counts table, one row per desa.

    Parameters
    ----------
    desa
        Desa sorted by code.
    rng
        Random generator.

    Returns
    -------
    list of dict
        Rows with the keys of ``COUNT_COLUMNS``.
    """
    n = len(desa)
    urban = np.array([d.kelurahan for d in desa])
    population = rng.lognormal(np.log(2600.0), 0.45, size=n) * np.where(urban, 2.0, 1.0)
    population = np.clip(np.round(population), 800, 9000).astype(int)
    rate = rate_field(np.array([d.x_km for d in desa]), np.array([d.y_km for d in desa]), rng)
    poor = rng.binomial(population, rate)
    families = np.minimum(np.round(poor / 3.5 * rng.uniform(0.9, 1.1, size=n)), poor)
    families = np.maximum(families, (poor > 0).astype(int)).astype(int)
    extra_rate = 0.5 * rate + 0.004
    desil_1 = poor + rng.binomial(population - poor, extra_rate)
    return [
        {
            "kode_wilayah": d.kode.replace(".", ""),
            "nama_kecamatan": d.nama_kec,
            "nama_desa": d.nama,
            "jumlah_penduduk": int(population[i]),
            "jumlah_keluarga_miskin_ekstrem": int(families[i]),
            "jumlah_miskin_ekstrem": int(poor[i]),
            "jumlah_desil_1": int(desil_1[i]),
        }
        for i, d in enumerate(desa)
    ]


def feature(d: Desa) -> dict[str, object]:
    """GeoJSON feature of one desa in the shared boundary schema.

    Parameters
    ----------
    d
        The desa.

    Returns
    -------
    dict
        A GeoJSON Feature.
    """
    properties = {
        "kode": d.kode,
        "kode_nodot": d.kode.replace(".", ""),
        "nama": d.nama,
        "kode_kec": d.kode.rsplit(".", 1)[0],
        "nama_kec": d.nama_kec,
        "kode_kab": KODE_KAB,
        "nama_kab": NAMA_KAB,
        "kode_prov": KODE_PROV,
        "nama_prov": NAMA_PROV,
        "jenis": "kelurahan" if d.kelurahan else "desa",
    }
    return {"type": "Feature", "properties": properties, "geometry": mapping(d.geometry)}


def write_geojson(path: Path, desa: list[Desa]) -> None:
    """Write the desa as an RFC 7946 FeatureCollection, one feature per line.

    Parameters
    ----------
    path
        Output file.
    desa
        Desa sorted by code.
    """
    lines = [json.dumps(feature(d), ensure_ascii=False, separators=(",", ":")) for d in desa]
    text = (
        '{"type":"FeatureCollection","name":"demo_desa",\n"features":[\n'
        + ",\n".join(lines)
        + "\n]}\n"
    )
    path.write_text(text, encoding="utf-8", newline="\n")


def write_counts(path: Path, rows: list[dict[str, object]]) -> None:
    """Write the counts table as UTF-8 CSV with ``\\n`` line endings.

    Parameters
    ----------
    path
        Output file.
    rows
        Rows with the keys of ``COUNT_COLUMNS``.
    """
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COUNT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def generate(out_dir: str | Path, seed: int = SEED) -> dict[str, Path]:
    """Generate the demo boundaries and counts into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write into; created if missing.
    seed
        Seed for :func:`numpy.random.default_rng`.

    Returns
    -------
    dict
        Paths written, keyed ``"geojson"`` and ``"counts"``.
    """
    rng = np.random.default_rng(seed)
    outline, desa = build_desa(rng)
    check_tessellation(outline, desa)
    rows = make_counts(desa, rng)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"geojson": out_dir / GEOJSON_NAME, "counts": out_dir / COUNTS_NAME}
    write_geojson(paths["geojson"], desa)
    write_counts(paths["counts"], rows)
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point.

    Parameters
    ----------
    argv
        Arguments; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=PACKAGE_DATA)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    paths = generate(args.out_dir, args.seed)
    for path in paths.values():
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
