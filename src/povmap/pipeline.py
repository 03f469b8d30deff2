"""The whole path from two files to analysed layers, shared by the CLI commands and the demo."""

from __future__ import annotations

import os
from dataclasses import InitVar, dataclass, field
from pathlib import Path

import geopandas as gpd

from ._errors import PovmapInputError, Text
from ._messages import message
from ._progress import step
from .boundaries import BoundaryInfo, boundary_notes, read_boundaries
from .classify import DEFAULT_COLUMN, classify, column_to_map, incomplete_notes
from .counts import read_counts
from .defaults import FUZZY_THRESHOLD, MIN_COVERAGE
from .join import JoinReport, join
from .metrics import add_rates, aggregate
from .pockets import UNTESTED, Pockets, find_pockets
from .result import Result


@dataclass(frozen=True)
class Options:
    """Choices a user makes on the command line or in a notebook.

    Each field is passed to the stage that uses it, with that stage's default.

    Attributes
    ----------
    level
        ``"desa"`` or ``"kecamatan"``: the level the table is joined and mapped at.
    column
        The column mapped and classified (``persen_miskin_ekstrem``, %, by default).
    scheme
        Classification scheme: ``"quantiles"``, ``"fisher_jenks"``, ``"equal_interval"``,
        ``"natural_breaks"`` or ``"user"`` (with ``breaks``).
    k
        Number of classes.
    breaks
        Upper class edges, rising, in the unit of ``column`` (for ``scheme="user"``).
    lang
        ``"id"`` or ``"en"``: the language of labels, notes and messages.
    engine
        ``"pyogrio"`` or ``"fiona"``: the library reading the boundary file.
    layer
        The layer of a multi-layer boundary file (``--layer``).
    sheet
        The sheet of an Excel counts table, by name or position (``--sheet``).
    column_map
        ``{canonical: source}`` columns of the counts table (``--column-map``).
    boundary_columns
        ``{canonical: source}`` columns of the boundary file (``--columns``).
    fuzzy_threshold
        Similarity (0-100, rapidfuzz) a misspelt name must reach to match; 101 turns fuzzy
        matching off.
    allow_invalid
        Join despite impossible values, reporting them, and leave out the rows of a by-name
        register whose desil is impossible, counting them (``--allow-invalid``).
    pockets
        Also find poverty pockets (:func:`povmap.find_pockets`, ``--pockets``).
    crs
        The CRS of the boundary file, replacing what the file says (``--crs``), e.g.
        ``"EPSG:32750"``.
    encoding
        The text encoding of a shapefile's attributes (``--encoding``); detected by default.
    keep_duplicates
        Keep both areas when one polygon is stored under two codes.
    min_coverage
        Share of its desa with data (0 to 1) a kecamatan needs to be classified
        (``--min-coverage``, in percent on the command line).

    Parameters
    ----------
    min_berdata
        The name of ``min_coverage`` up to povmap 0.1: ``Options(min_berdata=0.8)`` still works.
    """

    level: str = "desa"
    column: str = DEFAULT_COLUMN
    scheme: str = "quantiles"
    k: int = 5
    breaks: tuple[float, ...] | None = None
    lang: str = "id"
    engine: str = "pyogrio"
    layer: str | None = None
    sheet: str | int | None = None
    column_map: dict[str, str] = field(default_factory=dict)
    boundary_columns: dict[str, str] = field(default_factory=dict)
    fuzzy_threshold: float = FUZZY_THRESHOLD
    allow_invalid: bool = False
    pockets: bool = False
    crs: str | None = None
    encoding: str | None = None
    keep_duplicates: bool = False
    min_coverage: float = MIN_COVERAGE
    min_berdata: InitVar[float | None] = None

    def __post_init__(self, min_berdata: float | None) -> None:
        if min_berdata is not None:
            object.__setattr__(self, "min_coverage", min_berdata)

    def boundary_options(self) -> dict:
        """Keyword arguments of :func:`povmap.read_boundaries` chosen here."""
        return {
            "layer": self.layer,
            "columns": self.boundary_columns,
            "engine": self.engine,
            "crs": self.crs,
            "encoding": self.encoding,
            "keep_duplicates": self.keep_duplicates,
        }

    def counts_options(self) -> dict:
        """Keyword arguments of :func:`povmap.read_counts` chosen here."""
        return {"sheet": self.sheet, "column_map": self.column_map}


def _nothing_matched(
    counts, boundaries, report: JoinReport, bounds: gpd.GeoDataFrame, info: BoundaryInfo, level: str
) -> PovmapInputError:
    """Say why a table and a boundary file have no area in common, with examples of each.

    The table's examples come from the report, so that they are shown as the report shows them
    (a by-name register's values masked, SECURITY.md row 2).
    """
    key = f"kode_{level}"
    rows = [*report.unmatched_counts, *report.ambiguous]
    row_examples = ", ".join(
        str(r.get("kode_wilayah") or r.get(f"nama_{level}") or r.get("kode_asli") or "")
        for r in rows[:3]
    )
    area_examples = ", ".join(bounds[key].head(3)) if key in bounds else ""
    # A boundary file without name columns cannot match a table without codes: say so.
    missing = info.missing_names
    present = ", ".join(info.source_columns) or "-"
    names = (
        message(
            "pipeline.no_name_columns",
            missing=", ".join(missing),
            first=missing[0],
            present=present,
        )
        if missing
        else Text("")
    )
    return PovmapInputError.from_catalogue(
        "pipeline.no_row_matches_area",
        counts=counts,
        boundaries=boundaries,
        rows=row_examples or "-",
        areas=area_examples or "-",
        names=names,
    )


#: File suffixes of counts tables and of boundary files, to tell when the two are given swapped.
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls")
BOUNDARY_SUFFIXES = (
    ".geojson",
    ".json",
    ".gpkg",
    ".shp",
    ".zip",
    ".fgb",
    ".kml",
    ".gml",
    ".topojson",
)


def check_order(boundaries: str | os.PathLike, counts: str | os.PathLike) -> None:
    """Refuse a counts table given where the boundary file belongs, before either is read.

    GDAL reads a CSV or XLSX as a layer without geometry (columns ``Field1``, ``Field2`` ...), so
    without this check the user is told about missing code columns instead of the real fault.

    Raises
    ------
    PovmapInputError
        If ``boundaries`` is a table (CSV/XLSX); the message says whether the two are swapped.
    """
    first, second = Path(boundaries), Path(counts)
    if first.suffix.lower() not in TABLE_SUFFIXES:
        return
    if second.suffix.lower() in BOUNDARY_SUFFIXES:
        raise PovmapInputError.from_catalogue(
            "pipeline.files_seem_swapped_table",
            name=first.name,
            name2=second.name,
            second=second,
            first=first,
        )
    raise PovmapInputError.from_catalogue("pipeline.first_file_must_boundary", first=first)


def run(
    boundaries: str | os.PathLike, counts: str | os.PathLike, options: Options = Options()
) -> Result:
    """Read, join, compute rates, aggregate to kecamatan and classify.

    Each layer is classified on its own values with the same scheme (a kecamatan rate and a desa
    rate live on different scales).

    Parameters
    ----------
    boundaries
        The boundary file (any file OGR reads: GeoJSON, GeoPackage, shapefile, zipped
        shapefile), desa or kecamatan; read by :func:`povmap.read_boundaries`.
    counts
        The counts table (CSV, XLSX, or a P3KE/DTSEN export), read by
        :func:`povmap.read_counts`.
    options
        The choices of the run (:class:`Options`): level, column, classes, reading options.

    Returns
    -------
    Result
        ``layers``: ``{"desa": ..., "kecamatan": ...}`` (``{"kecamatan": ...}`` at kecamatan
        level), EPSG:4326, with the count columns (jiwa, KK), the rates of
        :func:`povmap.add_rates` (%, jiwa/km²), ``luas_km2`` (km²), ``kelas`` and, at kecamatan,
        the coverage columns of :func:`povmap.aggregate`; ``report`` (the join report with every
        note); ``classifications`` per layer; ``pockets`` with ``options.pockets`` at desa level.

    Raises
    ------
    PovmapInputError
        A counts table given where the boundary file belongs; anything
        :func:`~povmap.read_boundaries`, :func:`~povmap.read_counts`, :func:`~povmap.join`,
        :func:`~povmap.classify` or :func:`~povmap.find_pockets` refuses; or no row of the
        table matched any area (the message gives examples of both sides' codes and names).
    """
    check_order(boundaries, counts)
    with step("progress.read_boundaries", name=Path(boundaries).name):
        bounds = read_boundaries(boundaries, **options.boundary_options())
    with step("progress.read_counts", name=Path(counts).name):
        table = read_counts(counts, allow_invalid=options.allow_invalid, **options.counts_options())
    with step("progress.join"):
        result = join(
            bounds,
            table,
            level=options.level,
            fuzzy_threshold=options.fuzzy_threshold,
            allow_invalid=options.allow_invalid,
        )
    result.report.notes.extend(boundary_notes(bounds.source))
    if result.report.matched == 0:
        raise _nothing_matched(
            counts, boundaries, result.report, bounds.gdf, bounds.source, options.level
        )
    finest = add_rates(result.joined)
    column, fallback = column_to_map(finest, options.column)
    if fallback is not None:
        result.report.notes.append(fallback)
    layers = {options.level: finest}
    if options.level == "desa":
        with step("progress.aggregate", level="kecamatan"):
            layers["kecamatan"] = aggregate(
                finest, "kecamatan", column=column, outlines=bounds.outlines
            )
    with step("progress.classify"):
        classified = {
            name: classify(
                layer,
                column,
                scheme=options.scheme,
                k=options.k,
                breaks=list(options.breaks) if options.breaks else None,
                min_coverage=options.min_coverage,
            )
            for name, layer in layers.items()
        }
    analysed = {name: c.gdf for name, c in classified.items()}
    pockets = None
    if options.pockets and options.level == "desa":
        with step("progress.pockets"):
            pockets = find_pockets(analysed["desa"], column, lang=options.lang)
        analysed["desa"] = with_pockets(analysed["desa"], pockets)
    for name, layer in analysed.items():
        result.report.notes.extend(classified[name].classification.notes(name))
        result.report.notes.extend(incomplete_notes(layer, options.min_coverage))
    return Result(
        layers=analysed,
        report=result.report,
        pockets=pockets,
        inputs={"boundaries": Path(boundaries), "counts": Path(counts)},
        boundary=bounds.source,
        classifications={name: c.classification for name, c in classified.items()},
    )


def with_pockets(desa: gpd.GeoDataFrame, pockets: Pockets) -> gpd.GeoDataFrame:
    """Add ``jenis_kantong``, ``id_kantong`` and the flag ``kantong`` (1 in a pocket, 0 tested and
    not in one, empty when not tested) to a copy of the desa layer (its ``kelas`` kept)."""
    found = pockets.desa.set_index("kode_desa")
    out = desa.copy()
    jenis = out["kode_desa"].map(found["jenis_kantong"])
    out["jenis_kantong"] = jenis
    out["id_kantong"] = out["kode_desa"].map(found["id_kantong"])
    out["kantong"] = (jenis == "kantong").astype("Int64").where(~jenis.isin(UNTESTED))
    geometry = out.geometry.name
    return out[[c for c in out.columns if c != geometry] + [geometry]]
