"""The geoportal bundle: layers, styles, metadata, data dictionary and manifest, all or nothing.

The bundle is built in a hidden staging folder and swapped in whole only when every file is
written (:func:`povmap._io.staged_outputs`), so the folder always holds one bundle: the old one
or the new one, never a mix (a bundle whose GeoJSON is new but whose style is old would be worse
than none), and never a file of an earlier bundle that this one does not list.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from .._errors import PovmapInputError
from .._io import staged_outputs
from .._messages import Text, text
from .._version import __version__
from ..boundaries import BoundaryInfo
from ..classify import Classification, Classified
from ..defaults import PRECISION
from ..i18n import check_lang, format_number
from ..manifest import build_manifest, write_manifest
from .kugi import describe, to_kugi, write_dictionary
from .metadata import LayerDescription, MetadataConfig, area_names, write_metadata
from .shapefile import write_shapefile_zip
from .styles import write_styles
from .suppress import check_threshold, suppress_layers, suppress_result
from .writers import check_precision, write_geojson, write_gpkg

FORMATS = ("geojson", "gpkg", "shp")
#: How GeoJSON may be split: not at all, or one file per province (KUGI ``KDPPUM``).
SPLITS = (None, "provinsi")
DICTIONARY = "kamus_data.csv"
REPORT = "laporan_penggabungan.json"
MANIFEST = "manifest.json"
#: Format name and version per data format, in the order the metadata lists the files.
_FORMAT_NAMES = {
    "gpkg": ("GeoPackage", "1.2"),
    "geojson": ("GeoJSON", "RFC 7946"),
    "shp": ("ESRI Shapefile (zip)", "1.0"),
}


@dataclass(frozen=True)
class BundleOptions:
    """Choices for :func:`export` and :func:`export_result`.

    Attributes
    ----------
    formats
        Any of :data:`FORMATS`; styles, metadata and the data dictionary are always written.
    precision
        Decimals of GeoJSON coordinates (6 ≈ 0.1 m).
    lang
        Language of style labels, default title and abstract.
    title
        Title of the layers (the level is appended); by default from the area names.
    vintage
        Data period, e.g. ``"P3KE 2024"`` or ``"DTSEN 2025 triwulan I"``.
    metadata
        Contact, licence and editions for the metadata records.
    suppress_below
        Blank counts 1 to N-1 and whatever would give them back (see :mod:`.suppress`).
    stem
        Base name of the GeoPackage.
    split
        ``"provinsi"``: one GeoJSON per province and layer (``desa_63.geojson``: the province
        code), as national geoportals load them, instead of one per layer.
    """

    formats: tuple[str, ...] = ("geojson",)
    precision: int = PRECISION
    lang: str = "id"
    title: str | None = None
    vintage: str | None = None
    metadata: MetadataConfig | None = None
    suppress_below: int | None = None
    stem: str = "povmap"
    split: str | None = None

    def checked(self) -> BundleOptions:
        """Raise :class:`~povmap.PovmapInputError` for a bad option before anything is written."""
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown or not self.formats:
            raise PovmapInputError.from_catalogue(
                "bundle.format_unknown_choose",
                value=Text(",".join(unknown) or "(kosong)", ",".join(unknown) or "(empty)"),
                formats=", ".join(FORMATS),
            )
        check_precision(self.precision)
        check_lang(self.lang)
        if self.split not in SPLITS:
            raise PovmapInputError.from_catalogue(
                "bundle.split_unknown", split=self.split, choices=", ".join(filter(None, SPLITS))
            )
        if self.suppress_below is not None:
            check_threshold(self.suppress_below)
        return self


def export(
    layers: Mapping[str, gpd.GeoDataFrame | Classified],
    out_dir: str | os.PathLike,
    *,
    formats: tuple[str, ...] = ("geojson",),
    stem: str = "povmap",
    boundary: BoundaryInfo | None = None,
    **options,
) -> list[Path]:
    """Write layers (e.g. ``{"desa": classified, "kecamatan": aggregated}``) as a geoportal bundle.

    Per layer: ``{name}.geojson`` (RFC 7946, feature id = Kemendagri code), a table in
    ``{stem}.gpkg``, ``{name}_shp.zip``, styles ``{name}.sld``/``{name}.qml`` (for a classified
    layer, :func:`povmap.classify`: the styles draw its classes), ISO 19139 metadata
    ``{name}.xml``; and ``kamus_data.csv`` for all layers. Fields use KUGI names and short
    poverty names (:mod:`.kugi`). GeoJSON is in EPSG:4326 (RFC 7946), coordinates rounded to
    ``precision`` decimals.

    Parameters
    ----------
    layers
        Layer name -> desa or kecamatan layer with canonical columns (count columns in jiwa and
        KK, rates in %, ``luas_km2`` in km²), plain or :class:`~povmap.classify.Classified`.
    out_dir
        The bundle folder; replaced whole when everything is written, untouched otherwise.
    formats
        Any of :data:`FORMATS`: ``"geojson"``, ``"gpkg"``, ``"shp"``.
    stem
        File name of the GeoPackage (``{stem}.gpkg``).
    boundary
        ``read_boundaries(...).source``, when given: describes the boundary file in the
        metadata's lineage.
    **options
        The other fields of :class:`BundleOptions` (``precision``, ``lang``, ``title``,
        ``vintage``, ``metadata``, ``suppress_below``, ``split``).

    Returns
    -------
    list of pathlib.Path
        The paths written, inside ``out_dir``.

    Raises
    ------
    PovmapInputError
        An unknown format, ``precision``, ``lang``, ``split`` or a ``suppress_below`` under 3
        (before anything is written); cells small-cell suppression cannot protect; an output
        folder that is an input, is locked by another run, holds foreign files or cannot be
        written, or a full disk.
    """
    settings = BundleOptions(formats=tuple(formats), stem=stem, **options).checked()
    if settings.suppress_below:
        layers = suppress_layers(layers, settings.suppress_below).layers
    with staged_outputs(folders=[out_dir]) as outputs:
        names = _write_layers(layers, outputs.path(out_dir), settings, boundary=boundary)
    return [Path(out_dir) / name for name in names]


def export_result(
    result,
    out_dir: str | os.PathLike,
    options: BundleOptions,
    *,
    command: list[str] | None = None,
    also: Callable[[Path], list[str]] | None = None,
) -> list[Path]:
    """Write the bundle of a :class:`povmap.pipeline.Result`, its join report and manifest.

    With ``suppress_below`` the bundle is meant for the public: the join report (whose
    unmatched rows carry their values) is left out and the manifest keeps only totals.
    ``also(folder)`` writes more files into the staged folder (e.g. the targeting layers of
    ``povmap export --sasaran``) and returns their names; the manifest lists them too.

    Parameters
    ----------
    result
        The result of :func:`povmap.run`: its layers (written with their classes), report,
        inputs and boundary facts.
    out_dir
        The bundle folder; replaced whole when everything is written, untouched otherwise.
    options
        The bundle's settings (:class:`BundleOptions`).
    command
        The command line that made the bundle, recorded in the manifest.
    also
        Writes more files into the staged folder given to it and returns their names.

    Returns
    -------
    list of pathlib.Path
        The paths written, inside ``out_dir``: the layers' files, ``kamus_data.csv``, the
        join report ``laporan_penggabungan.json`` (unless ``suppress_below``), the files of
        ``also`` and ``manifest.json``.

    Raises
    ------
    PovmapInputError
        As :func:`export`: a bad option, cells suppression cannot protect, or an output that
        cannot be written safely.
    """
    settings = options.checked()
    if settings.suppress_below:
        result = suppress_result(result, settings.suppress_below)
    layers = {name: result.classified(name) for name in result.layers}
    with staged_outputs(folders=[out_dir], inputs=result.inputs.values()) as outputs:
        stage = outputs.path(out_dir)
        names = _write_layers(
            layers,
            stage,
            settings,
            inputs=result.inputs,
            processing=_join_text(result),
            boundary=result.boundary,
        )
        if not settings.suppress_below:
            result.report.write(stage / REPORT)
            names.append(REPORT)
        if also is not None:
            names += also(stage)
        manifest = build_manifest(
            [stage / name for name in names],
            inputs=result.inputs,
            report=result.report.to_dict(),
            classifications=result.classifications,
            classification=result.classification,
            boundary=result.boundary,
            command=command,
            vintage=settings.vintage,
            editions=_editions(settings.metadata, result.main),
            suppression=result.suppression,
            public=bool(settings.suppress_below),
        )
        write_manifest(stage / MANIFEST, manifest)
        names.append(MANIFEST)
    return [Path(out_dir) / name for name in names]


def _write_layers(
    given: Mapping[str, gpd.GeoDataFrame | Classified],
    stage: Path,
    settings: BundleOptions,
    *,
    inputs: dict[str, Path] | None = None,
    processing: str = "",
    boundary: BoundaryInfo | None = None,
) -> list[str]:
    """Write every file of the bundle but the report and manifest into ``stage``; their names."""
    layers = {
        name: layer.gdf if isinstance(layer, Classified) else layer for name, layer in given.items()
    }
    classes = {
        name: layer.classification if isinstance(layer, Classified) else None
        for name, layer in given.items()
    }
    inputs = inputs or {}
    sources = {
        key: Path(inputs[name]).name
        for key, name in (("batas", "boundaries"), ("tabel", "counts"))
        if name in inputs
    }
    levels = {name: _level(gdf) for name, gdf in layers.items()}
    exported = {name: to_kugi(gdf, levels[name]) for name, gdf in layers.items()}
    titles = {name: _title(gdf, levels[name], settings) for name, gdf in layers.items()}
    geojson = {name: _geojson_parts(gdf, name, settings) for name, gdf in exported.items()}
    written = _write_data(exported, stage, settings, levels, titles, geojson)
    write_dictionary(stage / DICTIONARY, describe(exported, sources))
    written.append(DICTIONARY)
    for name, gdf in layers.items():
        description = LayerDescription(
            name=name,
            level=levels[name],
            title=titles[name],
            abstract=_abstract(gdf, levels[name], settings, sources, classes[name]),
            lineage=_lineage(boundary, sources, processing, settings),
            files=_data_files(name, settings, list(geojson[name])),
            dictionary=DICTIONARY,
            vintage=settings.vintage,
        )
        written += _write_described(classes[name], exported[name], description, stage, settings)
    return written


def _write_data(
    exported: dict[str, gpd.GeoDataFrame],
    stage: Path,
    settings: BundleOptions,
    levels: dict[str, str],
    titles: dict[str, str],
    geojson: dict[str, dict[str, gpd.GeoDataFrame]],
) -> list[str]:
    """The GeoPackage (one table per layer) and the GeoJSON files, as the formats ask."""
    written = []
    if "gpkg" in settings.formats:
        gpkg = f"{settings.stem}.gpkg"
        write_gpkg(exported, stage / gpkg, descriptions=titles, multi=True)
        written.append(gpkg)
    if "geojson" in settings.formats:
        for name, parts in geojson.items():
            for file, part in parts.items():
                write_geojson(
                    part,
                    stage / file,
                    layer=Path(file).stem,
                    precision=settings.precision,
                    id_field=_own_code(levels[name]),
                    # A province's file names its own kabupaten, not the whole layer's.
                    description=titles[name]
                    if len(parts) == 1
                    else _title(part, levels[name], settings),
                )
                written.append(file)
    return written


def _geojson_parts(
    gdf: gpd.GeoDataFrame, name: str, settings: BundleOptions
) -> dict[str, gpd.GeoDataFrame]:
    """``{file name: rows}`` of layer ``name``'s GeoJSON: the whole layer, or one per province."""
    if settings.split != "provinsi":
        return {f"{name}.geojson": gdf}
    codes = gdf["KDPPUM"].astype(str)
    return {f"{name}_{code}.geojson": gdf[codes == code] for code in sorted(codes.unique())}


def _write_described(
    classification: Classification | None,
    exported: gpd.GeoDataFrame,
    description: LayerDescription,
    stage: Path,
    settings: BundleOptions,
    *,
    field: str = "KELAS",
    shapefile: gpd.GeoDataFrame | None = None,
) -> list[str]:
    """A layer's styles (when classified, drawing the class index ``field``) and metadata, then
    the shapefile zip carrying both (of ``shapefile``, the layer under its shapefile names, if
    they differ from ``exported``'s)."""
    name = description.name
    written, in_zip = [], []
    if classification is not None:
        sld_path, qml_path = write_styles(
            classification,
            stage,
            layer=name,
            lang=settings.lang,
            title=description.title,
            field=field,
        )
        written += [sld_path.name, qml_path.name]
        in_zip.append(sld_path)  # GeoNode styles a zipped shapefile with the SLD beside it
    xml = write_metadata(
        stage / f"{name}.xml", exported, description, settings.metadata or MetadataConfig()
    )
    written.append(xml.name)
    in_zip.append(xml)
    if "shp" in settings.formats:
        write_shapefile_zip(
            exported if shapefile is None else shapefile,
            stage / f"{name}_shp.zip",
            layer=name,
            extras=in_zip,
        )
        written.append(f"{name}_shp.zip")
    return written


def _data_files(
    name: str, settings: BundleOptions, geojson: list[str], gpkg: str | None = None
) -> tuple[tuple[str, str, str], ...]:
    """``(file, format name, version)`` of each data file holding layer ``name`` (its table in
    ``gpkg``, by default ``{stem}.gpkg``)."""
    gpkg = gpkg or f"{settings.stem}.gpkg"
    files = {"gpkg": [gpkg], "geojson": geojson, "shp": [f"{name}_shp.zip"]}
    return tuple(
        (file, *_FORMAT_NAMES[f])
        for f in _FORMAT_NAMES
        if f in settings.formats
        for file in files[f]
    )


def _level(gdf: gpd.GeoDataFrame) -> str:
    return "desa" if "kode_desa" in gdf.columns else "kecamatan"


def _own_code(level: str) -> str:
    return "KDEPUM" if level == "desa" else "KDCPUM"


def _title(
    gdf: gpd.GeoDataFrame, level: str, settings: BundleOptions, topic: str = "bundle.topic"
) -> str:
    """The layer's title: the ``topic`` message and level, where and when (or ``--title``)."""
    level_name = text(f"bundle.{level}", settings.lang)
    what = f"{text(topic, settings.lang)} {level_name}"
    if settings.title:
        return f"{settings.title} ({level_name if topic == 'bundle.topic' else what})"
    areas = area_names(gdf)[:4] or ["Indonesia"]
    where = ", ".join(areas[:3]) + (" …" if len(areas) > 3 else "")
    vintage = f" ({settings.vintage})" if settings.vintage else ""
    return f"{what}, {where}{vintage}"


def _abstract(
    gdf: gpd.GeoDataFrame,
    level: str,
    settings: BundleOptions,
    sources: dict[str, str],
    classification: Classification | None,
) -> str:
    lang = settings.lang
    abstract = text(
        "bundle.abstract",
        lang,
        n=format_number(len(gdf), lang=lang),
        level=text(f"bundle.{level}", lang),
        areas=", ".join(area_names(gdf)),
        table=sources.get("tabel", "P3KE/DTSEN"),
        period=f" ({settings.vintage})" if settings.vintage else "",
    )
    return abstract + _abstract_notes(classification, settings)


def _abstract_notes(
    classification: Classification | None, settings: BundleOptions, flag: str = "DISAMARKAN"
) -> str:
    """The abstract's closing sentences: the map classes, and the suppression (row ``flag``)."""
    notes = ""
    if classification is not None:
        notes += text(
            "bundle.classes",
            settings.lang,
            k=classification.k,
            scheme=classification.scheme,
            column=classification.column,
        )
    if settings.suppress_below:
        notes += text("bundle.suppressed", settings.lang, n=settings.suppress_below, flag=flag)
    return notes


def _lineage(
    info: BoundaryInfo | None,
    sources: dict[str, str],
    processing: str,
    settings: BundleOptions,
    *,
    aggregated: bool = True,
) -> str:
    """The lineage sentences (Indonesian): boundary file, counts table, ``processing``, the
    aggregation to kecamatan (``aggregated``), rounding and suppression."""
    parts = []
    if info is not None:
        parts.append(
            f"Batas wilayah: {sources.get('batas', Path(info.path).name)} (skema "
            f"{info.schema}, CRS asal {info.source_crs}; {len(info.repaired)} geometri "
            "diperbaiki dengan make_valid)."
        )
    if "tabel" in sources:
        parts.append(
            f"Tabel jumlah: {sources['tabel']}"
            + (f", periode {settings.vintage}." if settings.vintage else ".")
        )
    if processing:
        parts.append(processing)
    parts.append(
        (
            "Kecamatan dijumlahkan dari desa; persentase dihitung ulang dari jumlahnya. "
            if aggregated
            else ""
        )
        + f"Koordinat WGS 84 dibulatkan ke {settings.precision} desimal (GEOS "
        f"set_precision). Diproses dengan povmap {__version__}."
    )
    if settings.suppress_below:
        parts.append(
            f"Jumlah 1 sampai {settings.suppress_below - 1} dikosongkan, beserta sel "
            "pelengkap agar tidak dapat dihitung dari total kecamatan atau wilayah."
        )
    return " ".join(parts)


def _join_text(result) -> str:
    """The join in one sentence for the lineage, which is Indonesian whatever ``lang`` says."""
    report = result.report.to_dict()
    by = ", ".join(f"{k} {format_number(v)}" for k, v in report["matched_by"].items())
    return (
        f"Penggabungan: {format_number(report['matched'])} baris cocok ({by}); "
        f"{format_number(len(report['unmatched_counts']))} baris tanpa wilayah; "
        f"{format_number(len(report['unmatched_boundaries']))} wilayah tanpa data."
    )


def _editions(config: MetadataConfig | None, gdf: gpd.GeoDataFrame) -> dict[str, str | None]:
    """Code table and boundary edition: from the user's config, else the KUGI METADATA field."""
    config = config or MetadataConfig()
    boundary = config.boundary_edition
    if boundary is None and "METADATA" in gdf.columns:
        values = gdf["METADATA"].dropna().astype(str).unique()
        boundary = values[0] if len(values) == 1 else None
    return {"tabel_kode": config.code_table, "batas_wilayah": boundary}
