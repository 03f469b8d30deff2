"""ISO 19139 metadata: fields derived from the data, contact from config or visible placeholders."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

import geopandas as gpd
import pytest
from click.testing import CliRunner
from conftest import HSS_KUGI_ZIP, make_counts, need

from povmap import PovmapInputError
from povmap.cli import main
from povmap.export import MetadataConfig, load_config
from povmap.export.metadata import LayerDescription, iso19139

NS = {"gmd": "http://www.isotc211.org/2005/gmd", "gco": "http://www.isotc211.org/2005/gco"}


def text(root: ET.Element, path: str) -> list[str]:
    return [e.text for e in root.iterfind(path, NS)]


@pytest.fixture(scope="module")
def bundle(hss_raw, tmp_path_factory):
    base = tmp_path_factory.mktemp("meta")
    # Keys and --lisensi as povmap 0.1 spelt them: still read (tests/test_cli_lang.py has both).
    make_counts(hss_raw, seed=3).to_csv(base / "hss.csv", index=False)
    (base / "kontak.toml").write_text(
        'organisasi = "Dinas Kominfo Kabupaten Hulu Sungai Selatan"\n'
        'email = "geoportal@example.go.id"\n'
        'kata_kunci = ["P3KE", "bansos"]\n'
        'tabel_kode = "Kepmendagri 300.2.2-2138/2025"\n',
        encoding="utf-8",
    )
    out = base / "bundle"
    result = CliRunner().invoke(
        main,
        [
            "export",
            str(need(HSS_KUGI_ZIP)),
            str(base / "hss.csv"),
            "-o",
            str(out),
            "--metadata",
            str(base / "kontak.toml"),
            "--vintage",
            "P3KE 2024",
            "--lisensi",
            "CC BY 4.0",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def parse(path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == f"{{{NS['gmd']}}}MD_Metadata"
    return root


def test_metadata_fields_derived_from_the_data(bundle):
    root = parse(bundle / "desa.xml")
    info = "gmd:identificationInfo/gmd:MD_DataIdentification"
    title = text(root, f"{info}/gmd:citation/gmd:CI_Citation/gmd:title/gco:CharacterString")[0]
    assert "Hulu Sungai Selatan" in title and "P3KE 2024" in title
    assert text(root, f"{info}/gmd:citation/gmd:CI_Citation/gmd:edition/gco:CharacterString") == [
        "P3KE 2024"
    ]
    assert "148 desa/kelurahan" in text(root, f"{info}/gmd:abstract/gco:CharacterString")[0]
    box = f"{info}/gmd:extent/gmd:EX_Extent/gmd:geographicElement/gmd:EX_GeographicBoundingBox"
    bounds = [
        float(text(root, f"{box}/gmd:{name}/gco:Decimal")[0])
        for name in (
            "westBoundLongitude",
            "southBoundLatitude",
            "eastBoundLongitude",
            "northBoundLatitude",
        )
    ]
    expected = gpd.read_file(bundle / "desa.geojson").total_bounds
    assert bounds == pytest.approx(list(expected), abs=1e-6)
    assert text(root, "gmd:referenceSystemInfo//gmd:code/gco:CharacterString") == ["4326"]
    assert root.find("gmd:language/gmd:LanguageCode", NS).get("codeListValue") == "ind"
    assert "SNI 8843-1:2019" in text(root, "gmd:metadataStandardVersion/gco:CharacterString")[0]
    formats = text(root, ".//gmd:MD_Format/gmd:name/gco:CharacterString")
    assert formats == ["GeoPackage", "GeoJSON"]
    links = text(root, ".//gmd:CI_OnlineResource/gmd:linkage/gmd:URL")
    assert links == ["povmap.gpkg", "desa.geojson"]
    lineage = text(root, ".//gmd:LI_Lineage/gmd:statement/gco:CharacterString")[0]
    assert "6306_hss_desa_kugi_utm50s.zip" in lineage and "EPSG:32750" in lineage
    assert "148 baris cocok" in lineage
    by_type = {
        k.find("gmd:type/gmd:MD_KeywordTypeCode", NS).get("codeListValue"): text(
            k, "gmd:keyword/gco:CharacterString"
        )
        for k in root.iterfind(".//gmd:MD_Keywords", NS)
    }
    assert by_type["place"] == ["Hulu Sungai Selatan", "Kalimantan Selatan"]
    themes = text(root, ".//gmd:MD_Keywords/gmd:keyword/gco:CharacterString")
    assert "P3KE" in themes and "bansos" in themes
    assert (
        "kamus_data.csv"
        in text(root, ".//gmd:featureCatalogueCitation//gmd:title/gco:CharacterString")[0]
    )


def test_contact_from_config_and_options(bundle):
    root = parse(bundle / "kecamatan.xml")
    assert set(text(root, ".//gmd:organisationName/gco:CharacterString")) == {
        "Dinas Kominfo Kabupaten Hulu Sungai Selatan"
    }
    assert set(text(root, ".//gmd:electronicMailAddress/gco:CharacterString")) == {
        "geoportal@example.go.id"
    }
    assert text(root, ".//gmd:MD_LegalConstraints/gmd:useLimitation/gco:CharacterString") == [
        "CC BY 4.0"
    ]
    # Not given: still a visible placeholder, never an invented value.
    assert set(text(root, ".//gmd:voice/gco:CharacterString")) == {"[isi: telepon]"}
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["edisi"]["tabel_kode"] == "Kepmendagri 300.2.2-2138/2025"


def test_placeholders_without_config(hss_raw):
    layer = LayerDescription(
        name="desa",
        level="desa",
        title="Uji",
        abstract="Abstrak",
        lineage="Asal",
        files=(("desa.geojson", "GeoJSON", "RFC 7946"),),
    )
    root = ET.fromstring(iso19139(hss_raw, layer, MetadataConfig()).encode("utf-8"))
    assert set(text(root, ".//gmd:organisationName/gco:CharacterString")) == {"[isi: organisasi]"}
    assert text(root, ".//gmd:useLimitation/gco:CharacterString")[0].startswith("[isi: lisensi")
    assert MetadataConfig().missing() == ["organization", "email", "license"]
    # The same layer, region and vintage keep their identifier: the portal updates the record.
    again = ET.fromstring(iso19139(hss_raw, layer, MetadataConfig()).encode("utf-8"))
    assert text(root, "gmd:fileIdentifier/gco:CharacterString") == text(
        again, "gmd:fileIdentifier/gco:CharacterString"
    )


def test_json_config_and_bad_keys(tmp_path):
    good = tmp_path / "meta.json"
    good.write_text(json.dumps({"organisasi": "Bappeda", "kata_kunci": "a, b"}))
    config = load_config(good)
    assert config.organization == "Bappeda" and config.keywords == ("a", "b")
    bad = tmp_path / "meta.toml"
    bad.write_text('organisasi = "Bappeda"\nemial = "x@y"\n')
    with pytest.raises(PovmapInputError, match="emial"):
        load_config(bad)
    broken = tmp_path / "rusak.toml"
    broken.write_text('organisasi = "Bappeda\n')
    with pytest.raises(PovmapInputError, match="rusak.toml"):
        load_config(broken)


def test_cli_bad_config_exits_1_and_writes_nothing(tmp_path):
    bad = tmp_path / "meta.toml"
    bad.write_text("tidak_dikenal = 1\n")
    out = tmp_path / "bundle"
    result = CliRunner().invoke(
        main, ["export", str(need(HSS_KUGI_ZIP)), str(bad), "-o", str(out), "--metadata", str(bad)]
    )
    assert result.exit_code == 1 and "tidak_dikenal" in result.output
    assert not out.exists()


def test_every_date_is_the_date_given(hss_raw):
    layer = LayerDescription(
        name="desa",
        level="desa",
        title="Uji",
        abstract="Abstrak",
        lineage="Asal",
        files=(),
        dictionary="kamus_data.csv",
    )
    xml = iso19139(hss_raw, layer, MetadataConfig(), date=dt.date(2024, 3, 1))
    dates = text(ET.fromstring(xml.encode("utf-8")), ".//gco:Date")
    assert dates == ["2024-03-01"] * 4  # stamp, creation, publication, data dictionary


def test_data_source_is_the_lineage_source(hss_raw):
    # A config's data_source (sumber_data in 0.1 files) was read but never written.
    layer = LayerDescription("desa", "desa", "Judul", "Abstrak", "Dibaca: hss.csv", ())
    config = MetadataConfig(data_source="P3KE Kemenko PMK 2024")
    root = ET.fromstring(iso19139(hss_raw, layer, config).encode("utf-8"))
    lineage = "gmd:dataQualityInfo/gmd:DQ_DataQuality/gmd:lineage/gmd:LI_Lineage"
    assert text(root, f"{lineage}/gmd:statement/gco:CharacterString") == ["Dibaca: hss.csv"]
    assert text(
        root, f"{lineage}/gmd:source/gmd:LI_Source/gmd:description/gco:CharacterString"
    ) == ["P3KE Kemenko PMK 2024"]
    bare = ET.fromstring(iso19139(hss_raw, layer, MetadataConfig()).encode("utf-8"))
    assert not text(bare, f"{lineage}/gmd:source/gmd:LI_Source/gmd:description/gco:CharacterString")
