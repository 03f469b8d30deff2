"""The national HTML map: build seconds, file size and time to first polygons in Chromium.

Run from the repository root (needs ../shared/data and Debian's Chromium):

    python benchmarks/bench_national_map.py            # the 83,403-desa layer, end to end
    python benchmarks/bench_national_map.py --province # Kalimantan Selatan forced --national

``povmap map`` runs in a fresh interpreter under ``/usr/bin/time`` (wall seconds, peak memory),
twice: with an empty boundary cache (cold: the overlap check and the kecamatan outlines are
computed) and again with the cache the first run filled (warm).
The page is then opened in headless Chromium with every network request aborted (as offline):
"first polygons" is the page's own clock (``performance.now()``, from the start of navigation)
when the kabupaten layer has its first path drawn; "desa" the time from a zoom to Yogyakarta
(zoom 11) to the first desa drawn there. The issue's targets: at most 40 MB, first polygons
within 15 s, built within 2 minutes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from run_all import KALSEL, WORK, counts_csv, measure, national_fgb

#: Where the desa are loaded after the opening view: Yogyakarta (dense desa), and Banjarmasin
#: for the province run.
ZOOM_TO = {"national": (-7.80, 110.37), "province": (-3.32, 114.59)}
ENGINE = "Object.values(window).find(v => v && v.layers && v.chunks && v.update)"


def browser_times(path: Path, centre: tuple[float, float]) -> dict[str, float]:
    """Seconds to the first kabupaten polygon drawn, and from a zoom-in to the first desa."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        page = browser.new_page(viewport={"width": 1100, "height": 750})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith("file:") else route.abort()
            ),
        )
        page.goto(path.as_uri(), wait_until="commit")
        page.wait_for_function(
            f"() => {{ const e = {ENGINE}; return e && e.layers.kab.getLayers()"
            ".some(l => l._parts && l._parts.length); }",
            timeout=120_000,
            polling=50,
        )
        first = page.evaluate("() => performance.now()") / 1000
        start = time.perf_counter()
        page.evaluate(
            f"() => {{ {ENGINE}.layers.kab._map.setView([{centre[0]}, {centre[1]}], 11,"
            " {animate: false}); }"
        )
        page.wait_for_function(
            f"() => {ENGINE}.layers.desa.getLayers().some(c => c.getLayers()"
            ".some(l => l._parts && l._parts.length))",
            timeout=60_000,
            polling=20,
        )
        desa = time.perf_counter() - start
        browser.close()
    if errors:
        raise SystemExit(f"the page raised: {errors}")
    return {"first_polygons_s": first, "desa_after_zoom_s": desa}


def run(province: bool = False) -> dict[str, float]:
    """Build the map with the CLI with a cold, then a warm boundary cache (``povmap._cache``:
    the overlap check and kecamatan outlines of this edition of the file kept from the first
    run), then time the page in Chromium; print and return the numbers."""
    WORK.mkdir(exist_ok=True)
    if province:
        boundaries, counts = KALSEL, counts_csv(KALSEL, WORK / "kalsel.csv")
        output, extra = WORK / "kalsel_national.html", ["--national"]
    else:
        boundaries = national_fgb()
        counts = WORK / "nasional.csv"
        if not counts.exists():
            counts_csv(boundaries, counts)
        output, extra = WORK / "nasional.html", []
    cache = WORK / "cache_map"
    shutil.rmtree(cache, ignore_errors=True)
    built = {
        state: measure(
            f"map: povmap map (national map, {state} cache)",
            [
                sys.executable,
                "-m",
                "povmap.cli",
                "--quiet",
                "map",
                str(boundaries),
                str(counts),
                "-o",
                str(output),
                *extra,
            ],
            POVMAP_CACHE_DIR=str(cache),
        )
        for state in ("cold", "warm")
    }
    numbers = {
        "build_cold_s": built["cold"].seconds,
        "build_warm_s": built["warm"].seconds,
        "peak_gib": max(b.peak_gib for b in built.values()),
        "file_mb": output.stat().st_size / 1e6,
        **browser_times(output, ZOOM_TO["province" if province else "national"]),
    }
    for key, value in numbers.items():
        print(f"  {key:<20} {value:8.2f}")
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--province", action="store_true", help="Kalimantan Selatan forced --national"
    )
    args = parser.parse_args()
    run(province=args.province)


if __name__ == "__main__":
    main()
