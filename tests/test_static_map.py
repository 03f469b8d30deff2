"""Static maps (PNG/PDF) and the kecamatan atlas through the CLI, on real HSS data."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import matplotlib.image
import numpy as np
import pypdf
import pytest
from click.testing import CliRunner
from conftest import HSS_DESA, KALSEL_DESA, KAYONG_DESA, invoke, make_counts, need
from matplotlib import patheffects
from matplotlib.colors import to_hex, to_rgb
from matplotlib.legend import Legend
from matplotlib.patches import FancyArrow, Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from shapely.geometry import Point

from povmap.classify import Classified
from povmap.cli import main
from povmap.i18n import label
from povmap.pipeline import Options, run
from povmap.render.layers import DesaLabels
from povmap.render.legend import graduated_items
from povmap.render.static import HALO_GID, LABEL_GID, atlas_pages, save_static, static_map


@pytest.fixture(scope="module")
def hss_csv(tmp_path_factory, hss_counts):
    path = tmp_path_factory.mktemp("static") / "hss.csv"
    hss_counts.to_csv(path, index=False)
    return path


def test_png_map_uses_the_class_colours(hss_csv, tmp_path):
    out = tmp_path / "peta.png"
    args = [
        "map",
        str(need(HSS_DESA)),
        str(hss_csv),
        "-o",
        str(out),
        "--title",
        "Peta HSS",
        "--vintage",
        "2024",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    pixels = (matplotlib.image.imread(out)[..., :3] * 255).round().astype(int).reshape(-1, 3)
    assert len(pixels) > 2000 * 1500  # 200 dpi A4 landscape
    classes = run(need(HSS_DESA), hss_csv, Options()).classification.colors
    for color in classes:  # every class colour is painted (fills and legend swatches)
        rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(pixels - rgb).max(axis=1) <= 2).mean() > 0.001, color
    assert out.with_suffix(".manifest.json").exists()


def test_pdf_map_and_atlas_one_page_per_kecamatan(hss_csv, tmp_path):
    out, atlas = tmp_path / "peta.pdf", tmp_path / "atlas.pdf"
    args = [
        "map",
        str(need(HSS_DESA)),
        str(hss_csv),
        "-o",
        str(out),
        "--atlas",
        str(atlas),
        "--lang",
        "en",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page\b", atlas.read_bytes()))
    assert pages == 1 + 11  # the whole kabupaten, then its 11 kecamatan
    # The names are text in the PDF, not outlines: a planner can search the atlas for a desa.
    kecamatan = set(gpd.read_file(need(HSS_DESA))["nama_kec"].str.upper())
    words = set(pypdf.PdfReader(out).pages[0].extract_text().upper().split("\n"))
    assert len(kecamatan & words) >= 8, words
    desa_pages = " ".join(page.extract_text() for page in pypdf.PdfReader(atlas).pages[1:])
    assert "Kandangan Kota" in desa_pages
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "atlas.pdf",
        "peta.manifest.json",
        "peta.pdf",
    ]


def test_wrong_suffix_is_exit_1_without_output(hss_csv, tmp_path):
    out = tmp_path / "peta.jpg"
    result = CliRunner().invoke(main, ["map", str(need(HSS_DESA)), str(hss_csv), "-o", str(out)])
    assert result.exit_code == 1
    assert ".png" in result.output and not out.exists()


# --- Labels and legend of the static maps, measured on the figures (#11) ---------------------


def _luminance(color: str) -> float:
    """WCAG 2 relative luminance of a colour."""
    channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(color)]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _halo(text) -> str | None:
    """The colour of the outline drawn beneath ``text`` (a stroke-only copy of it), if any."""
    for other in text.axes.texts:
        if (
            other.get_gid() == HALO_GID
            and other.get_text() == text.get_text()
            and other.xy == text.xy
            and other.xyann == text.xyann
            and other.get_zorder() < text.get_zorder()
        ):
            for effect in other.get_path_effects():
                if isinstance(effect, patheffects.Stroke):
                    return effect._gc.get("foreground")  # the stroke's keyword arguments
    return None


def _check_figure(fig, layer, classification) -> int:
    """Names apart and readable, legend beside the data; the number of names on dark fills."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_gid() == LABEL_GID]
    assert labels
    boxes = [t.get_window_extent(renderer) for t in labels]
    overlaps = [
        (labels[i].get_text(), labels[j].get_text())
        for i, a in enumerate(boxes)
        for j, b in enumerate(boxes[:i])
        if a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1
    ]
    assert overlaps == []
    utm = layer.to_crs(layer.estimate_utm_crs())
    fills = classification.color_of(utm["kelas"].to_numpy())
    to_data = ax.transData.inverted()
    dark = 0
    for text, box in zip(labels, boxes, strict=True):
        x, y = to_data.transform(((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2))
        under = np.flatnonzero(utm.contains(Point(x, y)).to_numpy())
        if not len(under):
            continue  # between polygons (a river, the sea): the page is white there
        fill, color = fills[under[0]], to_hex(text.get_color())
        if _contrast(color, fill) < 4.5:
            dark += 1
            halo = _halo(text)
            assert halo is not None and _contrast(color, halo) >= 4.5, (text.get_text(), fill)
    # The legends (classes, pockets) lie beside the drawn polygons, never over them.
    (x0, y0), (x1, y1) = ax.transData.transform(utm.total_bounds.reshape(2, 2))
    legends = [
        a.get_window_extent(renderer)
        for a in [*ax.get_children(), *fig.legends]
        if isinstance(a, Legend)
    ]
    page = fig.bbox
    assert all(
        page.x0 <= b.x0 and b.x1 <= page.x1 and page.y0 <= b.y0 and b.y1 <= page.y1 for b in legends
    )  # whole on the page
    assert legends
    for box in legends:
        assert box.x0 >= x1 or box.x1 <= x0 or box.y0 >= y1 or box.y1 <= y0
    for a, b in zip(legends, legends[1:], strict=False):
        assert not a.overlaps(b)
    return dark


def _legend_texts(fig) -> tuple[str, list[str]]:
    legend = fig.axes[0].get_legend()
    return legend.get_title().get_text().replace("\n", " "), [
        t.get_text() for t in legend.get_texts()
    ]


def test_static_labels_apart_with_halo_and_legend_beside_the_data(hss_csv, tmp_path):
    result = run(need(HSS_DESA), hss_csv, Options())
    fig = static_map(result.classified(), kecamatan=result.layers["kecamatan"], vintage="2024")
    save_static(fig, tmp_path / "peta.png")
    dark = _check_figure(fig, result.main, result.classification)
    assert len([t for t in fig.axes[0].texts if t.get_gid() == LABEL_GID]) == 11
    # The legend reads as the HTML legend: unit in the heading, "> a – b", "Tidak ada data".
    title, texts = _legend_texts(fig)
    assert title == "Persentase penduduk miskin ekstrem (%)"
    assert texts == [text for _, text in graduated_items(result.classification, "id")]
    assert texts[1].startswith("> ") and texts[-1] == "Tidak ada data"
    assert fig.get_suptitle() == "Kemiskinan ekstrem Kab. Hulu Sungai Selatan, 2024"
    # Every atlas page: each kecamatan's desa named, apart and readable.
    named = 0
    pages = list(atlas_pages(result.classified(), kecamatan=result.layers["kecamatan"]))[1:]
    groups = [desa for _, desa in result.main.groupby("kode_kecamatan", sort=True)]
    assert len(pages) == len(groups) == 11
    for page, desa in zip(pages, groups, strict=True):
        dark += _check_figure(page, desa, result.classification)
        named += len([t for t in page.axes[0].texts if t.get_gid() == LABEL_GID])
    assert named >= 0.9 * len(result.main)  # few desa names had to be left out
    assert dark > 0  # some names lie on a dark class: the halo was needed and checked


def _furniture_boxes(fig) -> list[Bbox]:
    """Window extents of the north arrow (its word and arrow) and of the scale bar (its black
    segment and its texts), wherever and however they are drawn."""
    renderer = fig.canvas.get_renderer()
    north = label("north", "id")

    def furniture(artist) -> bool:
        if isinstance(artist, Text):
            return artist.get_text() == north or bool(
                re.fullmatch(r"0|[\d.]+ k?m", artist.get_text())
            )
        if isinstance(artist, Rectangle):
            return to_hex(artist.get_facecolor()) == "#000000"
        return isinstance(artist, FancyArrow)

    return [a.get_window_extent(renderer) for a in fig.findobj(furniture) if a.get_visible()]


@pytest.mark.parametrize("boundaries", [KAYONG_DESA, HSS_DESA], ids=["kayong", "hss"])
def test_scale_bar_and_north_arrow_leave_the_data_free(boundaries, tmp_path):
    # On Kayong Utara the scale bar was drawn over an island of Kepulauan Karimata.
    raw = gpd.read_file(need(boundaries))
    make_counts(raw, seed=5).to_csv(tmp_path / "counts.csv", index=False)
    result = run(need(boundaries), tmp_path / "counts.csv", Options())
    fig = static_map(result.classified(), kecamatan=result.layers["kecamatan"])
    save_static(fig, tmp_path / "peta.png")
    ax = fig.axes[0]
    polygons = [path.get_extents(ax.transData) for path in ax.collections[0].get_paths()]
    assert len(polygons) >= len(result.main)  # every desa part drawn (islands apart)
    boxes = _furniture_boxes(fig)
    texts = [a.get_text() for a in fig.findobj(Text) if a.get_visible()]
    assert label("north", "id") in texts and any(re.fullmatch(r"\d+ k?m", t) for t in texts)
    assert len(boxes) >= 4  # the word (and arrow), the black segment, "0" and the length
    hits = [(b.bounds, p.bounds) for b in boxes for p in polygons if b.overlaps(p)]
    assert hits == []


def test_kalsel_static_map_drops_names_that_would_collide(kalsel_raw, tmp_path):
    make_counts(kalsel_raw, seed=63).to_csv(tmp_path / "kalsel.csv", index=False)
    result = run(need(KALSEL_DESA), tmp_path / "kalsel.csv", Options())
    kecamatan = result.layers["kecamatan"]
    fig = static_map(result.classified(), kecamatan=kecamatan)
    save_static(fig, tmp_path / "kalsel.png")
    _check_figure(fig, result.main, result.classification)
    shown = len([t for t in fig.axes[0].texts if t.get_gid() == LABEL_GID])
    assert 40 <= shown < len(kecamatan)  # 156 names cannot all fit on A4 at a readable size


def test_areas_without_a_name_or_a_geometry_get_no_label(hss_csv):
    """A desa whose geometry is missing or whose name is blank is drawn as it is, unnamed: never
    'None' or 'nan' on the map, and no failure computing where its name would go."""
    result = run(need(HSS_DESA), hss_csv, Options())
    desa = result.main.copy()
    desa.loc[desa.index[0], "geometry"] = None
    desa.loc[desa.index[1], "nama_desa"] = None
    desa.loc[desa.index[2], "nama_desa"] = "  "
    named = {str(n) for n in desa["nama_desa"].iloc[3:]}
    texts = [
        t.get_text()
        for page in atlas_pages(Classified(desa, result.classification))
        for t in page.axes[0].texts
        if t.get_gid() == LABEL_GID
    ]
    assert texts and set(texts) <= named
    points = json.loads(DesaLabels(desa, "Nama desa").data)
    assert len(points) == len(desa) - 3 and {p[0] for p in points} == named


def test_png_with_pockets_draws_them_as_the_html_map_does(tmp_path, hss_raw):
    """``povmap map -o peta.png --kantong`` draws the pockets (before, the PNG left them out)."""
    table = make_counts(hss_raw, seed=6306)
    points = hss_raw.to_crs(32750).geometry.representative_point()
    centre = points[hss_raw["nama_kec"].eq("Sungai Raya").to_numpy()].union_all().centroid
    near = (points.distance(centre).rank(method="first") <= 15).to_numpy()
    table.loc[near, "jumlah_miskin_ekstrem"] = table.loc[near, "jumlah_penduduk"] // 5
    table.to_csv(tmp_path / "hss.csv", index=False)
    out = tmp_path / "peta.png"
    code, output = invoke("map", need(HSS_DESA), tmp_path / "hss.csv", "-o", out, "--kantong")
    assert code == 0 and out.exists(), output
    result = run(need(HSS_DESA), tmp_path / "hss.csv", Options(pockets=True))
    fig = static_map(
        result.classified(), kecamatan=result.layers["kecamatan"], pockets=result.pockets
    )
    _check_figure(fig, result.main, result.classification)
    texts = [t.get_text().replace("\n", " ") for t in fig.axes[0].get_legend().get_texts()]
    # Under the classes: a blank line, the heading, the pocket types present.
    classes = len(result.classification.legend_items("id"))
    assert texts[classes : classes + 3] == [
        "",
        "Kantong kemiskinan",
        "Kantong kemiskinan (tinggi dikelilingi tinggi)",
    ]
    # The PNG has the hot pocket's colour (#7a0177) on its outline.
    pixels = (matplotlib.image.imread(out)[..., :3] * 255).round().astype(int).reshape(-1, 3)
    assert (np.abs(pixels - np.array([0x7A, 0x01, 0x77])).max(axis=1) <= 3).sum() > 200
