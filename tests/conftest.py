"""Shared fixtures: paths to the real boundary data in ../shared/data and generated counts tables.

Real P3KE/DTSEN counts are personal-data-derived and not public, so counts tables are generated,
deterministic from a seed, keyed to the real codes and names of the boundary files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
BOUNDARIES = SHARED / "boundaries"
HSS_DESA = BOUNDARIES / "6306_hulu_sungai_selatan_desa.geojson"
HSS_KECAMATAN = BOUNDARIES / "6306_hulu_sungai_selatan_kecamatan.geojson"
HSS_KUGI_ZIP = BOUNDARIES / "variants" / "6306_hss_desa_kugi_utm50s.zip"
HSS_KUGI_GPKG = BOUNDARIES / "variants" / "6306_hss_desa_kugi.gpkg"
KALSEL_DESA = BOUNDARIES / "63_kalimantan_selatan_desa.geojson"
LAHAT_DESA = BOUNDARIES / "1604_lahat_desa.geojson"
KAYONG_DESA = BOUNDARIES / "6111_kayong_utara_desa.geojson"
KONSEL_DESA = BOUNDARIES / "7405_konawe_selatan_desa.geojson"
NATIONAL_FGB_XZ = BOUNDARIES / "national" / "indonesia_desa.fgb.xz"
DEMO_DESA = ROOT / "boundaries" / "demo_desa.geojson"
DEMO_COUNTS = ROOT / "boundaries" / "demo_counts.csv"


def need(path: Path) -> Path:
    """Skip the test, saying why, when a shared data file is absent."""
    if not path.exists():
        pytest.skip(f"shared data not found: {path} (tests read ../shared/data beside the repo)")
    return path


def need_chromium() -> str:
    """Path of Debian's chromium, or skip with the reason."""
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists()
                                         else None)
    if not found:
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    pytest.importorskip("playwright.sync_api",
                        reason="playwright not installed (pip install playwright)")
    return found


def make_counts(gdf: gpd.GeoDataFrame, seed: int = 0) -> pd.DataFrame:
    """A deterministic counts table for the desa of ``gdf`` (raw shared schema: kode, nama ...).

    Columns: ``kode_wilayah`` (dotted), ``nama_kecamatan``, ``nama_desa``, ``jumlah_penduduk``,
    ``jumlah_keluarga_miskin_ekstrem``, ``jumlah_miskin_ekstrem``, ``jumlah_desil_1``.
    """
    rng = np.random.default_rng(seed)
    n = len(gdf)
    population = rng.integers(400, 9000, n)
    rate = rng.uniform(0.001, 0.09, n)
    poor = np.floor(population * rate).astype(int)
    # Copies: without pyarrow, to_numpy() of a text column can be a view of the session-wide
    # boundary fixture, and a test that edits its table would then edit the fixture too.
    return pd.DataFrame({
        "kode_wilayah": gdf["kode"].to_numpy(copy=True),
        "nama_kecamatan": gdf["nama_kec"].to_numpy(copy=True),
        "nama_desa": gdf["nama"].to_numpy(copy=True),
        "jumlah_penduduk": population,
        "jumlah_keluarga_miskin_ekstrem": np.floor(poor / 3.5).astype(int),
        "jumlah_miskin_ekstrem": poor,
        "jumlah_desil_1": np.minimum(population, (poor * rng.uniform(1.2, 2.0, n)).astype(int)),
    })


@pytest.fixture(scope="session")
def hss_raw() -> gpd.GeoDataFrame:
    """The real HSS desa layer as stored (148 desa, shared schema)."""
    return gpd.read_file(need(HSS_DESA))


@pytest.fixture(scope="session")
def kalsel_raw() -> gpd.GeoDataFrame:
    """The real Kalimantan Selatan desa layer as stored (2,008 desa)."""
    return gpd.read_file(need(KALSEL_DESA))


@pytest.fixture(scope="session")
def hss_counts(hss_raw) -> pd.DataFrame:
    """Generated counts for all 148 HSS desa."""
    return make_counts(hss_raw, seed=6306)


@pytest.fixture
def hss_counts_csv(hss_counts, tmp_path) -> Path:
    """The HSS counts written as CSV with undotted codes, as P3KE exports often carry them."""
    path = tmp_path / "hss_counts.csv"
    hss_counts.assign(kode_wilayah=hss_counts["kode_wilayah"].str.replace(".", "")).to_csv(
        path, index=False)
    return path


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole session.

    Playwright's sync API allows one running instance per thread, so every browser test shares
    this one instead of starting its own.
    """
    chromium = need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update"])
        yield browser
        browser.close()
