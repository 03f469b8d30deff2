"""Layer styles for GeoServer/GeoNode (SLD 1.0) and QGIS (QML) from the map's own classes.

Both read one :class:`povmap.classify.Classification`, the object the HTML legend is drawn from,
so breaks, colours and labels cannot disagree with the map. A rule matches the ``KELAS`` field
(the class index computed with those breaks) rather than re-testing value ranges, which would
round differently at the class edges; one more rule draws "Tidak ada data" (``KELAS = -1`` or
empty) in the map's grey.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from .._io import write_text
from .._safe_text import clean_xml_tree
from ..classify import INCOMPLETE_CLASS, NO_DATA_CLASS, Classification
from ..i18n import check_lang, label

#: Outline and opacity of the map (povmap.render): the styles draw polygons the same way.
FILL_OPACITY = 0.8
OUTLINE = "#555555"
#: Outline width per layer in pixels (SLD) as on the web map.
OUTLINE_PX = {"desa": 0.4, "kecamatan": 0.8}

#: SLD rule names of the entries that are not value classes.
_RULE_NAMES = {NO_DATA_CLASS: "tidak_ada_data", INCOMPLETE_CLASS: "data_tidak_lengkap"}

SLD = "http://www.opengis.net/sld"
OGC = "http://www.opengis.net/ogc"
XLINK = "http://www.w3.org/1999/xlink"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _rules(classification: Classification, lang: str = "id") -> list[tuple[int, str, str]]:
    """``(class index, label, colour)`` per legend entry, exactly as the map legend shows them:
    the classes, "Data tidak lengkap" (``KELAS = -2``) when some area is, "Tidak ada data"."""
    return classification.legend_items(check_lang(lang))


def sld(
    classification: Classification,
    *,
    layer: str,
    field: str = "KELAS",
    lang: str = "id",
    title: str | None = None,
) -> str:
    """An SLD 1.0.0 document: one rule per class of ``classification`` plus "Tidak ada data".

    Parameters
    ----------
    classification
        The classes of the map (``povmap.classify(...).classification``).
    layer
        The layer name (``NamedLayer/Name``), e.g. ``desa``.
    field
        The class index field of the exported layer.
    lang
        Language of the rule titles.
    title
        Style title; by default the mapped value's label.

    Returns
    -------
    str
        The SLD XML: one ``Rule`` per legend entry (the classes, then ``KELAS = -2`` "Data
        tidak lengkap" when some area is, then ``KELAS = -1`` "Tidak ada data"), filtered on
        ``field``, with the map's fill colours and outline width.

    Raises
    ------
    PovmapInputError
        ``lang`` is neither ``"id"`` nor ``"en"``.
    """
    ET.register_namespace("sld", SLD)
    ET.register_namespace("ogc", OGC)
    ET.register_namespace("xlink", XLINK)
    ET.register_namespace("xsi", _XSI)
    root = ET.Element(
        f"{{{SLD}}}StyledLayerDescriptor",
        {
            "version": "1.0.0",
            f"{{{_XSI}}}schemaLocation": f"{SLD} http://schemas.opengis.net/sld/1.0.0/StyledLayerDescriptor.xsd",
        },
    )
    named = _sub(root, "NamedLayer")
    _sub(named, "Name", layer)
    style = _sub(named, "UserStyle")
    _sub(style, "Name", f"povmap_{layer}")
    _sub(style, "Title", title or label(classification.column, lang))
    feature_style = _sub(style, "FeatureTypeStyle")
    width = OUTLINE_PX.get(layer, 0.4)
    for index, text, colour in _rules(classification, lang):
        rule = _sub(feature_style, "Rule")
        _sub(rule, "Name", _RULE_NAMES.get(index, f"kelas_{index}"))
        _sub(rule, "Title", text)
        rule.append(_filter(field, index))
        symbolizer = _sub(rule, "PolygonSymbolizer")
        fill = _sub(symbolizer, "Fill")
        _css(fill, "fill", colour)
        _css(fill, "fill-opacity", f"{FILL_OPACITY}")
        stroke = _sub(symbolizer, "Stroke")
        _css(stroke, "stroke", OUTLINE)
        _css(stroke, "stroke-width", f"{width}")
    ET.indent(clean_xml_tree(root))  # a control character in a title would break the file
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def qml(
    classification: Classification, *, layer: str = "desa", field: str = "KELAS", lang: str = "id"
) -> str:
    """A QGIS style (QML, categorized on ``field``): same classes, colours and labels as the map.

    Written in the QGIS 3 format (``Option`` maps, read by QGIS 3.26 and later, the current
    long-term releases).

    Parameters
    ----------
    classification
        The classes of the map (``povmap.classify(...).classification``).
    layer
        The layer name (``desa`` or ``kecamatan``): sets the outline width, as on the map.
    field
        The class index field of the exported layer.
    lang
        Language of the category labels.

    Returns
    -------
    str
        The QML document: one category per legend entry, as the rules of :func:`sld`.

    Raises
    ------
    PovmapInputError
        ``lang`` is neither ``"id"`` nor ``"en"``.
    """
    root = ET.Element("qgis", {"version": "3.28.0", "styleCategories": "Symbology"})
    renderer = ET.SubElement(
        root,
        "renderer-v2",
        {
            "type": "categorizedSymbol",
            "attr": field,
            "symbollevels": "0",
            "enableorderby": "0",
            "forceraster": "0",
        },
    )
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    width_mm = f"{OUTLINE_PX.get(layer, 0.4) * 0.2646:.3f}"  # px at 96 dpi -> mm
    for position, (index, text, colour) in enumerate(_rules(classification, lang)):
        ET.SubElement(
            categories,
            "category",
            {
                "value": str(index),
                "symbol": str(position),
                "label": text,
                "render": "true",
            },
        )
        symbol = ET.SubElement(
            symbols,
            "symbol",
            {
                "type": "fill",
                "name": str(position),
                "alpha": f"{FILL_OPACITY}",
                "clip_to_extent": "1",
                "force_rhr": "0",
            },
        )
        layer_el = ET.SubElement(
            symbol,
            "layer",
            {
                "class": "SimpleFill",
                "pass": "0",
                "locked": "0",
                "enabled": "1",
            },
        )
        options = ET.SubElement(layer_el, "Option", {"type": "Map"})
        for name, value in (
            ("color", _qgis_colour(colour)),
            ("style", "solid"),
            ("outline_color", _qgis_colour(OUTLINE)),
            ("outline_style", "solid"),
            ("outline_width", width_mm),
            ("outline_width_unit", "MM"),
        ):
            ET.SubElement(options, "Option", {"type": "QString", "name": name, "value": value})
    ET.SubElement(root, "layerGeometryType").text = "2"  # polygons
    ET.indent(clean_xml_tree(root))
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        + ET.tostring(root, encoding="unicode")
        + "\n"
    )


def write_styles(
    classification: Classification,
    out_dir: str | os.PathLike,
    *,
    layer: str,
    lang: str = "id",
    title: str | None = None,
    field: str = "KELAS",
) -> list[Path]:
    """Write ``{layer}.sld`` and ``{layer}.qml`` into ``out_dir`` (atomically); return them.

    ``field`` is the class index field of the layer (``kelas`` in the targeting layer).
    """
    out_dir = Path(out_dir)
    paths = [out_dir / f"{layer}.sld", out_dir / f"{layer}.qml"]
    write_text(paths[0], sld(classification, layer=layer, field=field, lang=lang, title=title))
    write_text(paths[1], qml(classification, layer=layer, field=field, lang=lang))
    return paths


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{SLD}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _css(parent: ET.Element, name: str, value: str) -> None:
    _sub(parent, "CssParameter", value).set("name", name)


def _filter(field: str, index: int) -> ET.Element:
    element = ET.Element(f"{{{OGC}}}Filter")
    equal = _equal_to(field, index)
    if index != NO_DATA_CLASS:
        element.append(equal)
        return element
    either = ET.SubElement(element, f"{{{OGC}}}Or")
    either.append(equal)
    is_null = ET.SubElement(either, f"{{{OGC}}}PropertyIsNull")
    ET.SubElement(is_null, f"{{{OGC}}}PropertyName").text = field
    return element


def _equal_to(field: str, index: int) -> ET.Element:
    equal = ET.Element(f"{{{OGC}}}PropertyIsEqualTo")
    ET.SubElement(equal, f"{{{OGC}}}PropertyName").text = field
    ET.SubElement(equal, f"{{{OGC}}}Literal").text = str(index)
    return equal


def _qgis_colour(hex_colour: str) -> str:
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},255"
