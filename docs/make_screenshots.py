"""Make the screenshots of the README in docs/: one per kind of map, on real HSS boundaries.

The counts are generated (tests/conftest.make_counts, fixed seeds; a cluster of high rates is
planted around Kecamatan Sungai Raya so that a pocket is found): the pictures are illustrative,
not official figures. Needs ../shared/data beside the repository and Chromium::

    PYTHONPATH=src python docs/make_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "tests"))

from conftest import HSS_DESA, make_counts  # noqa: E402

import povmap  # noqa: E402
from povmap.render.static import atlas_pages, static_map  # noqa: E402
from povmap.render.trend import trend_map  # noqa: E402

VIEW = {"width": 1366, "height": 768}
MAP_JS = "Object.values(window).find(v => v instanceof L.Map)"


def counts(raw: gpd.GeoDataFrame, seed: int, planted: float | None = None):
    """Generated counts; with ``planted``, the 15 desa nearest Sungai Raya's centre get that
    share of their population in extreme poverty."""
    table = make_counts(raw, seed=seed)
    if planted is not None:
        points = raw.to_crs(raw.estimate_utm_crs()).geometry.representative_point()
        centre = points[raw["nama_kec"].eq("Sungai Raya").to_numpy()].union_all().centroid
        near = (points.distance(centre).rank(method="first") <= 15).to_numpy()
        table.loc[near, "jumlah_miskin_ekstrem"] = np.floor(
            table.loc[near, "jumlah_penduduk"] * planted
        ).astype(int)
        table["jumlah_keluarga_miskin_ekstrem"] = np.floor(
            table["jumlah_miskin_ekstrem"] / 3.5
        ).astype(int)
        table["jumlah_desil_1"] = np.maximum(
            table["jumlah_desil_1"], table["jumlah_miskin_ekstrem"]
        )
    return table


def shoot(browser, html: Path, png: Path, script: str | None = None) -> None:
    """Open ``html`` offline in a 1366×768 window, run ``script`` (with ``map``), screenshot."""
    page = browser.new_page(viewport=VIEW)
    page.route(
        "**/*",
        lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort(),
    )
    page.goto(html.as_uri(), wait_until="load")
    page.wait_for_timeout(700)
    if script:
        page.evaluate(f"() => {{ const map = {MAP_JS}; {script} }}")
        page.wait_for_timeout(700)
    page.mouse.move(1360, 760)
    page.evaluate("document.querySelectorAll('.leaflet-tooltip').forEach(t => t.remove())")
    page.screenshot(path=str(png))
    page.close()
    print(png.relative_to(DOCS.parent))


def main() -> None:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="povmap-docs-"))
    raw = gpd.read_file(HSS_DESA)
    counts(raw, 2024, planted=0.2).to_csv(work / "2024.csv", index=False)
    counts(raw, 2022, planted=0.3).to_csv(work / "2022.csv", index=False)
    result = povmap.run(HSS_DESA, work / "2024.csv")
    kecamatan = result.layers["kecamatan"]
    source = "Data dibangkitkan untuk contoh, bukan data resmi"

    pockets = povmap.find_pockets(result.main)
    fig = static_map(
        result.classified(), kecamatan=kecamatan, vintage="2024", source=source, pockets=pockets
    )
    fig.savefig(DOCS / "peta_statis.png", dpi=110)
    pages = atlas_pages(
        result.classified(), kecamatan=kecamatan, vintage="2024", source=source, pockets=pockets
    )
    next(pages)
    next(pages).savefig(DOCS / "atlas_halaman.png", dpi=110)

    povmap.choropleth(
        result.classified(), kecamatan=kecamatan, vintage="2024", source=source, tiles=None
    ).save(work / "peta.html")
    povmap.choropleth(
        result.classified(),
        kecamatan=kecamatan,
        pockets=pockets,
        vintage="2024",
        source=source,
        tiles=None,
    ).save(work / "kantong.html")
    trend = povmap.trend(HSS_DESA, {"2022": work / "2022.csv", "2024": work / "2024.csv"})
    trend_map(trend, source=source, tiles=None).save(work / "tren.html")

    # The pocket in view, with the desa names of that zoom.
    inside = pockets.desa["jenis_kantong"] == "kantong"
    x0, y0, x1, y1 = result.main[
        result.main["kode_desa"].isin(pockets.desa.loc[inside, "kode_desa"])
    ].total_bounds
    zoom_in = (
        f"map.fitBounds([[{y0}, {x0}], [{y1}, {x1}]], "
        "{animate: false, paddingTopLeft: [60, 80], paddingBottomRight: [320, 40]});"
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        shoot(browser, work / "peta.html", DOCS / "peta_interaktif.png")
        shoot(browser, work / "kantong.html", DOCS / "peta_kantong.png", zoom_in)
        shoot(browser, work / "tren.html", DOCS / "peta_tren.png")
        browser.close()


if __name__ == "__main__":
    main()
