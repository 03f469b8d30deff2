"""The geoportal bundle: layers, styles, metadata, data dictionary and manifest, all or nothing.

Everything is written into a hidden staging folder beside the output folder and moved in only
when every file is written, so a run that fails leaves no partial bundle behind (a bundle whose
GeoJSON is new but whose style is old would be worse than none).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from .._errors import PovmapInputError
from ..classify import Classification
from ..i18n import check_lang, format_number
from .kugi import describe, to_kugi, write_dictionary
from .metadata import LayerDescription, MetadataConfig, area_names, write_metadata
from .shapefile import write_shapefile_zip
from .styles import write_styles
from .suppress import suppress_layers
from .writers import write_geojson, write_gpkg

FORMATS = ("geojson", "gpkg", "shp")
DICTIONARY = "kamus_data.csv"
REPORT = "laporan_penggabungan.json"
MANIFEST = "manifest.json"
_FORMAT_NAMES = {"geojson": ("GeoJSON", "RFC 7946"), "gpkg": ("GeoPackage", "1.2"),
                 "shp": ("ESRI Shapefile (zip)", "1.0")}
_LEVEL_TEXT = {"id": {"desa": "desa/kelurahan", "kecamatan": "kecamatan"},
               "en": {"desa": "village", "kecamatan": "district"}}


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
    """

    formats: tuple[str, ...] = ("geojson",)
    precision: int = 6
    lang: str = "id"
    title: str | None = None
    vintage: str | None = None
    metadata: MetadataConfig | None = None
    suppress_below: int | None = None
    stem: str = "povmap"

    def checked(self) -> BundleOptions:
        """Raise :class:`~povmap.PovmapInputError` for a bad option before anything is written."""
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown or not self.formats:
            raise PovmapInputError(f"--format {','.join(unknown) or '(kosong)'} tidak dikenal; "
                                   f"pilih dari {', '.join(FORMATS)}.")
        if not 0 <= self.precision <= 15:
            raise PovmapInputError(f"--precision {self.precision}: pilih 0 sampai 15 desimal.")
        check_lang(self.lang)
        if self.suppress_below is not None and self.suppress_below < 1:
            raise PovmapInputError(f"--suppress-below {self.suppress_below}: gunakan N ≥ 1.")
        return self


def export(
    layers: dict[str, gpd.GeoDataFrame],
    out_dir: str | os.PathLike,
    *,
    formats: tuple[str, ...] = ("geojson",),
    stem: str = "povmap",
    **options,
) -> list[Path]:
    """Write layers (e.g. ``{"desa": joined, "kecamatan": aggregated}``) as a geoportal bundle.

    Per layer: ``{name}.geojson`` (RFC 7946, feature id = Kemendagri code), a table in
    ``{stem}.gpkg``, ``{name}_shp.zip``, styles ``{name}.sld``/``{name}.qml`` (when the layer is
    classified), ISO 19139 metadata ``{name}.xml``; and ``kamus_data.csv`` for all layers. Fields
    use KUGI names and short poverty names (:mod:`.kugi`). Other keyword arguments are the
    fields of :class:`BundleOptions`.

    Returns
    -------
    The paths written, inside ``out_dir``.
    """
    settings = BundleOptions(formats=tuple(formats), stem=stem, **options).checked()
    if settings.suppress_below:
        layers = suppress_layers(layers, settings.suppress_below)
    with staged(out_dir) as stage:
        names = _write_layers(layers, stage, settings)
    return [Path(out_dir) / name for name in names]


def export_result(result, out_dir: str | os.PathLike, options: BundleOptions, *,
                  command: list[str] | None = None) -> list[Path]:
    """Write the bundle of a :class:`povmap.pipeline.Result`, its join report and manifest.

    With ``suppress_below`` the bundle is meant for the public: the join report (whose
    unmatched rows carry their values) is left out and the manifest keeps only totals.
    """
    from ..manifest import build_manifest, write_manifest

    settings = options.checked()
    layers = result.layers
    if settings.suppress_below:
        layers = suppress_layers(layers, settings.suppress_below)
    with staged(out_dir) as stage:
        names = _write_layers(layers, stage, settings, inputs=result.inputs,
                              processing=_join_text(result, settings.lang))
        if not settings.suppress_below:
            result.report.write(stage / REPORT)
            names.append(REPORT)
        suppression = next(iter(layers.values())).attrs.get("povmap_suppression")
        manifest = build_manifest(
            result, [stage / name for name in names], command=command, layers=layers,
            vintage=settings.vintage, editions=_editions(settings.metadata, result.main),
            suppression=suppression.to_dict() if suppression else None,
            public=bool(settings.suppress_below))
        write_manifest(stage / MANIFEST, manifest)
        names.append(MANIFEST)
    return [Path(out_dir) / name for name in names]


@contextlib.contextmanager
def staged(out_dir: str | os.PathLike) -> Iterator[Path]:
    """A hidden folder beside ``out_dir``; its files are moved into ``out_dir`` only on success."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise PovmapInputError(f"-o {out_dir}: sudah ada sebagai berkas; beri nama folder.")
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=parent))
    try:
        yield stage
        out_dir.mkdir(exist_ok=True)
        for item in sorted(stage.iterdir()):
            os.replace(item, out_dir / item.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _write_layers(layers: dict[str, gpd.GeoDataFrame], stage: Path, settings: BundleOptions, *,
                  inputs: dict[str, Path] | None = None, processing: str = "") -> list[str]:
    """Write every file of the bundle but the report and manifest into ``stage``; their names."""
    exported = {name: to_kugi(gdf, _level(gdf)) for name, gdf in layers.items()}
    inputs = inputs or {}
    sources = {key: Path(inputs[name]).name for key, name in
               (("batas", "boundaries"), ("tabel", "counts")) if name in inputs}
    written: list[str] = []
    data_files: dict[str, list[tuple[str, str, str]]] = {name: [] for name in layers}
    titles = {name: _title(gdf, _level(gdf), settings) for name, gdf in layers.items()}
    if "gpkg" in settings.formats:
        gpkg = f"{settings.stem}.gpkg"
        write_gpkg(exported, stage / gpkg, descriptions=titles, multi=True)
        written.append(gpkg)
        for name in layers:
            data_files[name].append((gpkg, *_FORMAT_NAMES["gpkg"]))
    for name, gdf in exported.items():
        level = _level(layers[name])
        if "geojson" in settings.formats:
            write_geojson(gdf, stage / f"{name}.geojson", layer=name,
                          precision=settings.precision, id_field=_own_code(level),
                          description=titles[name])
            written.append(f"{name}.geojson")
            data_files[name].append((f"{name}.geojson", *_FORMAT_NAMES["geojson"]))
        if "shp" in settings.formats:
            data_files[name].append((f"{name}_shp.zip", *_FORMAT_NAMES["shp"]))
    write_dictionary(stage / DICTIONARY, describe(exported, sources))
    written.append(DICTIONARY)
    for name, gdf in exported.items():
        level = _level(layers[name])
        extras = []
        classification = layers[name].attrs.get("povmap_classification")
        if classification is not None:
            styles = write_styles(classification, stage, layer=name, lang=settings.lang,
                                  title=titles[name])
            extras.append(styles[0])
            written += [p.name for p in styles]
        description = LayerDescription(
            name=name, level=level, title=titles[name],
            abstract=_abstract(layers[name], level, classification, settings, sources),
            lineage=_lineage(layers[name], sources, processing, settings),
            files=tuple(data_files[name]), dictionary=DICTIONARY, vintage=settings.vintage)
        xml = write_metadata(stage / f"{name}.xml", gdf, description,
                             settings.metadata or MetadataConfig())
        extras.append(xml)
        written.append(xml.name)
        if "shp" in settings.formats:
            write_shapefile_zip(gdf, stage / f"{name}_shp.zip", layer=name, extras=extras)
            written.append(f"{name}_shp.zip")
    return written


def _level(gdf: gpd.GeoDataFrame) -> str:
    return "desa" if "kode_desa" in gdf.columns else "kecamatan"


def _own_code(level: str) -> str:
    return "KDEPUM" if level == "desa" else "KDCPUM"


def _title(gdf: gpd.GeoDataFrame, level: str, settings: BundleOptions) -> str:
    lang = settings.lang
    if settings.title:
        return f"{settings.title} ({_LEVEL_TEXT[lang][level]})"
    areas = [str(v) for column in ("nama_kabupaten", "nama_provinsi") if column in gdf.columns
             for v in gdf[column].dropna().unique()][:4] or ["Indonesia"]
    where = ", ".join(areas[:3]) + (" …" if len(areas) > 3 else "")
    topic = "Kemiskinan ekstrem per" if lang == "id" else "Extreme poverty by"
    vintage = f" ({settings.vintage})" if settings.vintage else ""
    return f"{topic} {_LEVEL_TEXT[lang][level]}, {where}{vintage}"


def _abstract(gdf: gpd.GeoDataFrame, level: str, classification: Classification | None,
              settings: BundleOptions, sources: dict[str, str]) -> str:
    lang = settings.lang
    n = format_number(len(gdf), lang=lang)
    table = sources.get("tabel", "P3KE/DTSEN")
    period = f" ({settings.vintage})" if settings.vintage else ""
    if lang == "en":
        text = (f"People in extreme poverty in {n} {_LEVEL_TEXT[lang][level]} areas of "
                f"{', '.join(area_names(gdf))}: counts of people and families, the share of the "
                f"population and the number per km², from the counts table {table}{period} "
                "joined to the boundaries by Kemendagri code. A welfare decile share is a rank, "
                "not a poverty rate.")
        if classification is not None:
            text += (f" {classification.k} map classes ({classification.scheme}) on "
                     f"{classification.column}; colours in the .sld/.qml files.")
        if settings.suppress_below:
            text += (f" Counts below {settings.suppress_below} and the values that would give "
                     "them back are blanked (DISAMARKAN = 1).")
        return text
    text = (f"Penduduk miskin ekstrem di {n} {_LEVEL_TEXT[lang][level]} di "
            f"{', '.join(area_names(gdf))}: jumlah jiwa dan keluarga, persentase terhadap jumlah "
            f"penduduk, dan jumlah per km², dari tabel jumlah {table}{period} yang digabung "
            "dengan batas wilayah berdasarkan kode Kemendagri. Bagian desil kesejahteraan adalah "
            "peringkat, bukan tingkat kemiskinan.")
    if classification is not None:
        text += (f" {classification.k} kelas peta ({classification.scheme}) pada "
                 f"{classification.column}; warnanya di berkas .sld/.qml.")
    if settings.suppress_below:
        text += (f" Jumlah di bawah {settings.suppress_below} dan nilai yang dapat "
                 "mengungkapnya dikosongkan (DISAMARKAN = 1).")
    return text


def _lineage(gdf: gpd.GeoDataFrame, sources: dict[str, str], processing: str,
             settings: BundleOptions) -> str:
    from .. import __version__

    info = gdf.attrs.get("povmap")
    parts = []
    if info is not None:
        parts.append(f"Batas wilayah: {sources.get('batas', Path(info.path).name)} (skema "
                     f"{info.schema}, CRS asal {info.source_crs}; {len(info.repaired)} geometri "
                     "diperbaiki dengan make_valid).")
    if "tabel" in sources:
        parts.append(f"Tabel jumlah: {sources['tabel']}"
                     + (f", periode {settings.vintage}." if settings.vintage else "."))
    if processing:
        parts.append(processing)
    parts.append("Kecamatan dijumlahkan dari desa; persentase dihitung ulang dari jumlahnya. "
                 f"Koordinat WGS 84 dibulatkan ke {settings.precision} desimal (GEOS "
                 f"set_precision). Diproses dengan povmap {__version__}.")
    if settings.suppress_below:
        parts.append(f"Jumlah 1 sampai {settings.suppress_below - 1} dikosongkan, beserta sel "
                     "pelengkap agar tidak dapat dihitung dari total kecamatan atau wilayah.")
    return " ".join(parts)


def _join_text(result, lang: str) -> str:
    report = result.report.to_dict()
    by = ", ".join(f"{k} {format_number(v, lang=lang)}" for k, v in report["matched_by"].items())
    return (f"Penggabungan: {format_number(report['matched'], lang=lang)} baris cocok ({by}); "
            f"{format_number(len(report['unmatched_counts']), lang=lang)} baris tanpa wilayah; "
            f"{format_number(len(report['unmatched_boundaries']), lang=lang)} wilayah tanpa "
            "data.")


def _editions(config: MetadataConfig | None, gdf: gpd.GeoDataFrame) -> dict[str, str | None]:
    """Code table and boundary edition: from the user's config, else the KUGI METADATA field."""
    config = config or MetadataConfig()
    boundary = config.edisi_batas
    if boundary is None and "METADATA" in gdf.columns:
        values = gdf["METADATA"].dropna().astype(str).unique()
        boundary = values[0] if len(values) == 1 else None
    return {"tabel_kode": config.tabel_kode, "batas_wilayah": boundary}
