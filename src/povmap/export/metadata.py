"""ISO 19115 metadata, ISO 19139 XML encoding, following SNI 8843-1:2019 as far as povmap can.

SNI 8843-1:2019 (Profil Metadata Spasial Indonesia) is the profile BIG's circular 6/2021 asks
geoportals to use. povmap fills what it can derive from the data (title, abstract, extent, CRS,
dates, vintage, sources, lineage, formats, the data dictionary) and leaves the contact and licence
as visible placeholders (``[isi: ...]``) unless the user gives them with options or a small
TOML/JSON file (keys: the fields of :class:`MetadataConfig`), e.g.::

    organization = "Dinas Kominfo Kabupaten Hulu Sungai Selatan"
    email = "geoportal@hulusungaiselatankab.go.id"
    license = "CC BY 4.0"

The Indonesian keys of povmap 0.1 (``organisasi``, ``lisensi``, ``judul`` ...: :data:`OLD_KEYS`)
are still read.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import geopandas as gpd

from .._errors import PovmapInputError, reason
from .._io import write_text
from .._messages import message
from .._safe_text import clean_xml_tree

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 has no TOML reader: JSON configs only
    tomllib = None  # type: ignore[assignment]

GMD = "http://www.isotc211.org/2005/gmd"
GCO = "http://www.isotc211.org/2005/gco"
GMX_CODELISTS = "http://standards.iso.org/iso/19139/resources/gmxCodelists.xml"
STANDARD_NAME = "ISO 19115:2003/19139"
STANDARD_VERSION = "1.0 (SNI 8843-1:2019 Profil Metadata Spasial Indonesia)"
#: A stable namespace for file identifiers: the same layer of the same region and vintage keeps
#: its identifier across re-exports, so a geoportal updates the record instead of duplicating it.
_NAMESPACE = uuid.UUID("5b0c6f52-3c1e-4d0b-9a57-70f0c0de0b1a")


def _placeholder(name: str) -> str:
    """The text written where the user still has to fill something in."""
    return f"[isi: {name}]"


#: Keys of a metadata file (and :class:`MetadataConfig` fields) up to povmap 0.1, in Indonesian,
#: by their new names; files written with them keep working for one more release.
OLD_KEYS = {
    "judul": "title",
    "abstrak": "abstract",
    "tujuan": "purpose",
    "organisasi": "organization",
    "nama_kontak": "contact_name",
    "jabatan": "position",
    "telepon": "phone",
    "alamat": "address",
    "kota": "city",
    "provinsi": "province",
    "kode_pos": "postal_code",
    "negara": "country",
    "lisensi": "license",
    "kata_kunci": "keywords",
    "sumber_data": "data_source",
    "periode_data": "data_period",
    "edisi_batas": "boundary_edition",
    "tabel_kode": "code_table",
}


@dataclass(frozen=True)
class MetadataConfig:
    """What povmap cannot know: who publishes the layer, under what licence, and editions.

    Every field is optional; an empty contact or licence field is written as a visible
    ``[isi: ...]`` placeholder (see :meth:`missing`). The ISO 19115/19139 element each fills
    is named; a config file may also use the Indonesian keys of earlier releases
    (:data:`OLD_KEYS`: ``organisasi``, ``lisensi``, ...).

    Attributes
    ----------
    title
        ``CI_Citation/title``; by default the layer's own title.
    abstract
        ``abstract``; by default the layer's description.
    purpose
        ``purpose``; by default "Penentuan sasaran dan pemantauan penanggulangan kemiskinan
        ekstrem di tingkat desa/kelurahan."
    organization, contact_name, position
        The point of contact and metadata contact (``CI_ResponsibleParty``:
        ``organisationName``, ``individualName``, ``positionName``); ``organization`` is required.
    email, phone, address, city, province, postal_code, country
        The contact's ``CI_Contact`` (``electronicMailAddress``, ``voice``, ``deliveryPoint``,
        ``city``, ``administrativeArea``, ``postalCode``, ``country``); ``email`` is required,
        ``country`` is ``"Indonesia"`` by default.
    url
        Base address the files will be published at: each ``CI_OnlineResource/linkage`` is
        ``url/<file>`` (the bare file name without it).
    license
        ``useLimitation`` of the legal constraints, e.g. ``"CC BY 4.0"``; required.
    keywords
        Theme keywords added to povmap's own (``kemiskinan ekstrem``, ``desa`` ...).
    data_source
        Where the counts come from, as the publisher names them (e.g. ``"P3KE Kemenko PMK"``):
        the lineage's ``LI_Source/description``, beside the statement naming the files read.
    data_period
        The period of the counts: the citation's ``edition`` when ``--vintage`` is not given.
    boundary_edition
        The edition of the boundary file (``batas_wilayah`` in the manifest); by default the
        KUGI ``METADATA`` field when the layer has a single value of it.
    code_table
        The edition of the Kemendagri code table (``tabel_kode`` in the manifest).
    """

    title: str | None = None
    abstract: str | None = None
    purpose: str | None = None
    organization: str | None = None
    contact_name: str | None = None
    position: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    city: str | None = None
    province: str | None = None
    postal_code: str | None = None
    country: str = "Indonesia"
    url: str | None = None
    license: str | None = None
    keywords: tuple[str, ...] = ()
    data_source: str | None = None
    data_period: str | None = None
    boundary_edition: str | None = None
    code_table: str | None = None

    #: The fields a geoportal record needs and only the user can fill.
    REQUIRED = ("organization", "email", "license")

    def missing(self) -> list[str]:
        """Required fields still empty (written as placeholders)."""
        return [name for name in self.REQUIRED if not getattr(self, name)]


def load_config(path: str | os.PathLike) -> MetadataConfig:
    """Read a :class:`MetadataConfig` from a ``.toml`` or ``.json`` file.

    Parameters
    ----------
    path
        A TOML or JSON file holding one table of :class:`MetadataConfig` keys (English, or the
        Indonesian keys of earlier releases); ``keywords`` a list or a comma-separated text.

    Returns
    -------
    MetadataConfig
        The values read; keys not given keep their defaults.

    Raises
    ------
    PovmapInputError
        Naming the file (and the key): the file does not exist or cannot be parsed, holds no
        table, has an unknown key, a key under its old and its new name, ``keywords`` that is
        not a list, or another value that is not text.
    """
    path = Path(path)
    if not path.exists():
        raise PovmapInputError.from_catalogue("metadata.metadata_file_not_found", path=path)
    data = _parse(path)
    if not isinstance(data, dict):
        raise PovmapInputError.from_catalogue("metadata.metadata_must_hold_key", path=path)
    data = _renamed(data, path)
    known = {f.name for f in fields(MetadataConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise PovmapInputError.from_catalogue(
            "metadata.metadata_unknown_key_known",
            path=path,
            unknown=", ".join(unknown),
            known=", ".join(sorted(known)),
        )
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "keywords":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list):
                raise PovmapInputError.from_catalogue("metadata.keywords_must_be_list", path=path)
            values[key] = tuple(str(v) for v in value)
        elif isinstance(value, (dict, list)):
            raise PovmapInputError.from_catalogue(
                "metadata.metadata_key_must_text", path=path, key=key
            )
        else:
            values[key] = str(value)
    return MetadataConfig(**values)


def _renamed(data: dict, path: Path) -> dict:
    """``data`` with the keys of earlier releases (:data:`OLD_KEYS`) under their new names."""
    out = {}
    for key, value in data.items():
        new = OLD_KEYS.get(key, key)
        if new in out:
            old = next(old for old, name in OLD_KEYS.items() if name == new)
            raise PovmapInputError.from_catalogue("metadata.key_twice", path=path, key=new, old=old)
        out[new] = value
    return out


def _parse(path: Path) -> object:
    toml = path.suffix.lower() == ".toml"
    if toml and tomllib is None:
        raise PovmapInputError.from_catalogue("metadata.metadata_toml_needs_python", path=path)
    try:
        text = path.read_text(encoding="utf-8")
        return tomllib.loads(text) if toml else json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:  # TOMLDecodeError is a ValueError too
        raise PovmapInputError.from_catalogue(
            "metadata.metadata_cannot_read_toml",
            path=path,
            reason=reason(exc, message("metadata.use_toml_or_json")),
        ) from exc


def with_options(config: MetadataConfig | None, **options: str | None) -> MetadataConfig:
    """``config`` with the options given on the command line (those not None) on top."""
    config = config or MetadataConfig()
    given: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
    return replace(config, **given)


@dataclass(frozen=True)
class LayerDescription:
    """What the bundle knows of one layer, for its metadata record."""

    name: str
    level: str
    title: str
    abstract: str
    lineage: str
    files: tuple[tuple[str, str, str], ...]  # (file name, format name, format version)
    dictionary: str | None = None
    vintage: str | None = None
    keywords: tuple[str, ...] = ()


def iso19139(
    gdf: gpd.GeoDataFrame,
    layer: LayerDescription,
    config: MetadataConfig,
    *,
    date: dt.date | None = None,
) -> str:
    """An ISO 19139 ``gmd:MD_Metadata`` document for one exported layer.

    Parameters
    ----------
    gdf
        The exported layer (EPSG:4326); its extent and area names are read from it.
    layer
        Title, abstract, lineage and files of the layer.
    config
        Contact, licence and editions; empty fields become ``[isi: ...]`` placeholders.
    date
        Date of the metadata and of the dataset; today by default.
    """
    date = date or dt.date.today()
    ET.register_namespace("gmd", GMD)
    ET.register_namespace("gco", GCO)
    root = ET.Element(_g("MD_Metadata"))
    _text(root, "fileIdentifier", _identifier(gdf, layer))
    _language(root)
    _code(root, "characterSet", "MD_CharacterSetCode", "utf8")
    _code(root, "hierarchyLevel", "MD_ScopeCode", "dataset")
    _party(_nest(root, "contact"), config, "pointOfContact")
    _text(root, "dateStamp", date.isoformat(), "Date")
    _text(root, "metadataStandardName", STANDARD_NAME)
    _text(root, "metadataStandardVersion", STANDARD_VERSION)
    _reference_system(root)
    _identification(root, gdf, layer, config, date)
    if layer.dictionary:
        _feature_catalogue(root, layer.dictionary, date)
    _distribution(root, layer, config)
    _lineage(root, layer, config)
    # Names and config values may carry characters XML 1.0 forbids (Word's \x0b line break).
    ET.indent(clean_xml_tree(root))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_metadata(
    path: str | os.PathLike,
    gdf: gpd.GeoDataFrame,
    layer: LayerDescription,
    config: MetadataConfig,
    *,
    date: dt.date | None = None,
) -> Path:
    """Write :func:`iso19139` to ``path`` atomically."""
    write_text(path, iso19139(gdf, layer, config, date=date))
    return Path(path)


def area_names(gdf: gpd.GeoDataFrame) -> list[str]:
    """Kabupaten names of the layer (KUGI ``WADMKK`` or canonical), then the province names."""
    names = []
    for column in ("WADMKK", "nama_kabupaten", "WADMPR", "nama_provinsi"):
        if column in gdf.columns:
            names += [str(v) for v in gdf[column].dropna().unique() if str(v) not in names]
    return names


def _identifier(gdf: gpd.GeoDataFrame, layer: LayerDescription) -> str:
    codes = next(
        (gdf[c] for c in ("KDEPUM", "KDCPUM", "kode_desa", "kode_kecamatan") if c in gdf.columns),
        None,
    )
    region = ",".join(sorted({str(c)[:5] for c in codes.dropna()})) if codes is not None else ""
    key = f"{layer.level}|{region}|{layer.vintage or ''}"
    # A layer named apart from its level (the targeting layer ``sasaran_desa``) gets its own id.
    return str(uuid.uuid5(_NAMESPACE, key if layer.name == layer.level else f"{key}|{layer.name}"))


def _identification(
    root: ET.Element,
    gdf: gpd.GeoDataFrame,
    layer: LayerDescription,
    config: MetadataConfig,
    date: dt.date,
) -> None:
    info = _nest(root, "identificationInfo", "MD_DataIdentification")
    citation = _nest(info, "citation", "CI_Citation")
    _text(citation, "title", config.title or layer.title)
    for kind in ("creation", "publication"):
        _date(citation, date, kind)
    if layer.vintage:
        _text(citation, "edition", layer.vintage)
    _text(info, "abstract", config.abstract or layer.abstract)
    _text(
        info,
        "purpose",
        config.purpose
        or "Penentuan sasaran dan pemantauan penanggulangan "
        "kemiskinan ekstrem di tingkat desa/kelurahan.",
    )
    _code(info, "status", "MD_ProgressCode", "completed")
    _party(_nest(info, "pointOfContact"), config, "custodian")
    keywords = [
        "kemiskinan ekstrem",
        "kemiskinan",
        "desa",
        "kecamatan",
        *layer.keywords,
        *config.keywords,
    ]
    _keywords(info, dict.fromkeys(keywords), "theme")
    _keywords(info, dict.fromkeys(area_names(gdf)), "place")
    constraints = _nest(info, "resourceConstraints", "MD_LegalConstraints")
    licence = config.license or _placeholder("lisensi, mis. CC BY 4.0")
    _text(constraints, "useLimitation", licence)
    _code(constraints, "useConstraints", "MD_RestrictionCode", "license")
    _text(constraints, "otherConstraints", licence)
    _code(info, "spatialRepresentationType", "MD_SpatialRepresentationTypeCode", "vector")
    _language(info)
    _code(info, "characterSet", "MD_CharacterSetCode", "utf8")
    _nest(info, "topicCategory", "MD_TopicCategoryCode").text = "society"
    _extent(info, gdf)


def _extent(info: ET.Element, gdf: gpd.GeoDataFrame) -> None:
    extent = _nest(info, "extent", "EX_Extent")
    _text(extent, "description", ", ".join(area_names(gdf)) or "Indonesia")
    box = _nest(extent, "geographicElement", "EX_GeographicBoundingBox")
    west, south, east, north = gdf.to_crs("EPSG:4326").total_bounds
    for name, value in (
        ("westBoundLongitude", west),
        ("eastBoundLongitude", east),
        ("southBoundLatitude", south),
        ("northBoundLatitude", north),
    ):
        _text(box, name, f"{value:.6f}", "Decimal")


def _reference_system(root: ET.Element) -> None:
    identifier = _nest(
        root,
        "referenceSystemInfo",
        "MD_ReferenceSystem",
        "referenceSystemIdentifier",
        "RS_Identifier",
    )
    _text(identifier, "code", "4326")
    _text(identifier, "codeSpace", "EPSG")


def _feature_catalogue(root: ET.Element, dictionary: str, date: dt.date) -> None:
    catalogue = _nest(root, "contentInfo", "MD_FeatureCatalogueDescription")
    _text(catalogue, "includedWithDataset", "true", "Boolean")
    citation = _nest(catalogue, "featureCatalogueCitation", "CI_Citation")
    _text(citation, "title", f"Kamus data: {dictionary}")
    _date(citation, date, "creation")


def _distribution(root: ET.Element, layer: LayerDescription, config: MetadataConfig) -> None:
    distribution = _nest(root, "distributionInfo", "MD_Distribution")
    for name, version in dict.fromkeys((n, v) for _, n, v in layer.files):
        md_format = _nest(distribution, "distributionFormat", "MD_Format")
        _text(md_format, "name", name)
        _text(md_format, "version", version)
    options = _nest(distribution, "transferOptions", "MD_DigitalTransferOptions")
    base = (config.url or "").rstrip("/")
    for file_name, name, _ in layer.files:
        resource = _nest(options, "onLine", "CI_OnlineResource")
        _nest(resource, "linkage", "URL").text = f"{base}/{file_name}" if base else file_name
        _text(resource, "name", file_name)
        _text(resource, "description", name)


def _lineage(root: ET.Element, layer: LayerDescription, config: MetadataConfig) -> None:
    quality = _nest(root, "dataQualityInfo", "DQ_DataQuality")
    _code(_nest(quality, "scope", "DQ_Scope"), "level", "MD_ScopeCode", "dataset")
    lineage = _nest(quality, "lineage", "LI_Lineage")
    _text(lineage, "statement", layer.lineage)
    if config.data_source:
        # ISO 19115 LI_Lineage: statement, then source(s) (LI_Source/description).
        _text(_nest(lineage, "source", "LI_Source"), "description", config.data_source)


def _party(parent: ET.Element, config: MetadataConfig, role: str) -> None:
    party = _nest(parent, "CI_ResponsibleParty")
    _text(party, "individualName", config.contact_name or _placeholder("nama kontak"))
    _text(party, "organisationName", config.organization or _placeholder("organisasi"))
    _text(party, "positionName", config.position or _placeholder("jabatan"))
    contact = _nest(party, "contactInfo", "CI_Contact")
    phone = _nest(contact, "phone", "CI_Telephone")
    _text(phone, "voice", config.phone or _placeholder("telepon"))
    address = _nest(contact, "address", "CI_Address")
    _text(address, "deliveryPoint", config.address or _placeholder("alamat"))
    _text(address, "city", config.city or _placeholder("kota"))
    _text(address, "administrativeArea", config.province or _placeholder("provinsi"))
    _text(address, "postalCode", config.postal_code or _placeholder("kode pos"))
    _text(address, "country", config.country)
    _text(address, "electronicMailAddress", config.email or _placeholder("email"))
    _code(party, "role", "CI_RoleCode", role)


def _keywords(info: ET.Element, words: dict[str, None], kind: str) -> None:
    if not words:
        return
    keywords = _nest(info, "descriptiveKeywords", "MD_Keywords")
    for word in words:
        _text(keywords, "keyword", word)
    _code(keywords, "type", "MD_KeywordTypeCode", kind)


def _language(parent: ET.Element) -> None:
    ET.SubElement(
        _nest(parent, "language"),
        _g("LanguageCode"),
        {
            "codeList": "http://www.loc.gov/standards/iso639-2/",
            "codeListValue": "ind",
        },
    ).text = "ind"


def _code(parent: ET.Element, tag: str, code_list: str, value: str) -> None:
    ET.SubElement(
        _nest(parent, tag),
        _g(code_list),
        {
            "codeList": f"{GMX_CODELISTS}#{code_list}",
            "codeListValue": value,
        },
    ).text = value


def _date(citation: ET.Element, date: dt.date, kind: str) -> None:
    ci_date = _nest(citation, "date", "CI_Date")
    _text(ci_date, "date", date.isoformat(), "Date")
    _code(ci_date, "dateType", "CI_DateTypeCode", kind)


def _text(parent: ET.Element, tag: str, value: str, kind: str = "CharacterString") -> None:
    """``<gmd:tag><gco:kind>value</gco:kind></gmd:tag>``."""
    ET.SubElement(_nest(parent, tag), f"{{{GCO}}}{kind}").text = value


def _nest(parent: ET.Element, *tags: str) -> ET.Element:
    """A chain of ``gmd`` elements, each inside the one before; the innermost."""
    for tag in tags:
        parent = ET.SubElement(parent, _g(tag))
    return parent


def _g(tag: str) -> str:
    return f"{{{GMD}}}{tag}"
