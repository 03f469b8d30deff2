"""SLD and QML styles carry the map's classes: same breaks, colours, labels as the HTML legend."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import HSS_DESA, make_counts, need

import povmap
from povmap.classify import NO_DATA_CLASS, make_classification
from povmap.cli import main
from povmap.export import qml, sld
from povmap.render.legend import graduated_items

NS = {"sld": "http://www.opengis.net/sld", "ogc": "http://www.opengis.net/ogc"}


def sld_rules(text: str) -> list[dict]:
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == f"{{{NS['sld']}}}StyledLayerDescriptor" and root.get("version") == "1.0.0"
    rules = []
    for rule in root.iterfind(".//sld:Rule", NS):
        fill = rule.find("sld:PolygonSymbolizer/sld:Fill/sld:CssParameter[@name='fill']", NS)
        literals = [int(e.text) for e in rule.iterfind(".//ogc:PropertyIsEqualTo/ogc:Literal", NS)]
        fields = {e.text for e in rule.iterfind(".//ogc:PropertyName", NS)}
        rules.append(
            {
                "title": rule.find("sld:Title", NS).text,
                "fill": fill.text,
                "classes": literals,
                "fields": fields,
                "null": rule.find(".//ogc:PropertyIsNull", NS) is not None,
            }
        )
    return rules


def qml_categories(text: str) -> list[dict]:
    root = ET.fromstring(text.split("\n", 1)[1].encode("utf-8"))  # skip the DOCTYPE line
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "KELAS"
    colours = {}
    for symbol in renderer.iterfind("symbols/symbol"):
        rgba = symbol.find("layer/Option/Option[@name='color']").get("value")
        r, g, b, _ = (int(v) for v in rgba.split(","))
        colours[symbol.get("name")] = f"#{r:02x}{g:02x}{b:02x}"
    return [
        {"value": int(c.get("value")), "label": c.get("label"), "colour": colours[c.get("symbol")]}
        for c in renderer.iterfind("categories/category")
    ]


@pytest.fixture(scope="module")
def classified(hss_raw, tmp_path_factory):
    path = tmp_path_factory.mktemp("styles") / "hss.csv"
    make_counts(hss_raw, seed=11).to_csv(path, index=False)
    return povmap.run(need(HSS_DESA), path)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_sld_rules_are_the_legend(classified, lang):
    classification = classified.classification
    rules = sld_rules(sld(classification, layer="desa", lang=lang))
    legend = graduated_items(classification, lang)
    assert [(r["fill"], r["title"]) for r in rules] == legend
    assert [r["classes"] for r in rules] == [[i] for i in range(classification.k)] + [
        [NO_DATA_CLASS]
    ]
    assert all(r["fields"] == {"KELAS"} for r in rules)
    assert rules[-1]["null"] and not any(r["null"] for r in rules[:-1])
    assert rules[-1]["title"] == ("Tidak ada data" if lang == "id" else "No data")


def test_qml_categories_are_the_legend(classified):
    classification = classified.classification
    categories = qml_categories(qml(classification, layer="desa"))
    assert [(c["colour"], c["label"]) for c in categories] == graduated_items(classification, "id")
    assert [c["value"] for c in categories] == [*range(classification.k), NO_DATA_CLASS]


def test_user_breaks_and_another_colour_map():
    classification = make_classification(
        np.array([0.5, 1.5, 2.5, 7.0, 12.0]), column="persen_desil_1", breaks=[1, 2, 5]
    )
    rules = sld_rules(sld(classification, layer="kecamatan"))
    assert len(rules) == classification.k + 1 == 5
    assert [r["fill"] for r in rules[:-1]] == list(classification.colors)
    assert rules[0]["title"] == "0,5 – 1,0"  # Indonesian number format, as on the map


def test_bundle_styles_match_the_exported_classes(hss_raw, tmp_path):
    """The style files of a bundle colour each feature as the map would, layer by layer."""
    counts = tmp_path / "hss.csv"
    make_counts(hss_raw, seed=11).to_csv(counts, index=False)
    out = tmp_path / "bundle"
    result = CliRunner().invoke(
        main,
        [
            "export",
            str(need(HSS_DESA)),
            str(counts),
            "-o",
            str(out),
            "-k",
            "4",
            "--scheme",
            "fisher_jenks",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    for layer in ("desa", "kecamatan"):
        classes = manifest["klasifikasi_lapisan"][layer]
        assert classes["scheme"] == "fisher_jenks" and len(classes["bins"]) == 4
        rules = sld_rules((out / f"{layer}.sld").read_text(encoding="utf-8"))
        assert [r["fill"] for r in rules] == [*classes["colors"], classes["no_data_color"]]
        categories = qml_categories((out / f"{layer}.qml").read_text(encoding="utf-8"))
        assert [c["colour"] for c in categories] == [r["fill"] for r in rules]
        # KELAS in the data is the class the map's breaks give each value.
        features = json.loads((out / f"{layer}.geojson").read_text())["features"]
        values = np.array([f["properties"]["PRS_ME"] for f in features], dtype=float)
        bins = np.array(classes["bins"])
        expected = np.minimum(np.searchsorted(bins, values, side="left"), len(bins) - 1)
        kelas = np.array([f["properties"]["KELAS"] for f in features])
        # PRS_ME is rounded to 4 decimals in the file; only a value within that of a break
        # could fall on the other side.
        near_break = np.abs(values[:, None] - bins[None, :]).min(axis=1) < 1e-4
        assert ((kelas == expected) | near_break).all()
