"""Write a :class:`povmap.targeting.Targeting` into one folder, all or nothing; and the internal
verification list.

Public folder: ``sasaran.html`` (self-contained map, a layer per measure), ``lokus.csv`` and
``lokus.xlsx`` (the priority table), ``sasaran.gpkg`` (the per-desa layer), ``laporan_sasaran.json``
(the join reports and notes; not written with ``suppress_below``) and ``manifest.json``.

The verification list (``--daftar-verifikasi``) is written apart, never into the public folder:
one row per family to verify, by the register's own family id, with a first line saying it is
internal. No NIK, name, address or phone is ever in any of these files: the result holds none.

**Small cells** (``suppress_below``, the same threshold rule as :mod:`povmap.export.suppress`):
every count from 1 to N-1 is blanked, with every rate made from it or from a blanked
denominator. A published count must not give a blanked one back by difference: in a desa where
the exclusion count or a program count is blanked, all of them are (with one program known, the
excluded families are the target families less that program's). No total over desa is published
(not in the table, the map nor the manifest), so no sum pins a blanked cell, and the priority
table is ordered on published values only.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import PovmapInputError, Text
from .._io import atomic_path, sha256, staged_outputs, write_text
from .._messages import message, text
from .._safe_text import csv_text, write_xlsx
from ..classify import NO_DATA_CLASS, Classification
from ..i18n import format_number
from ..registers import PROGRAM_NAMES, PROGRAMS
from ..targeting import (
    Targeting,
    desil_span,
    measure_classes,
    measures,
    need_column,
    priority_table,
    program_column,
)
from .kugi import KUGI_ADMIN, POVERTY_FIELDS, Field, _typed, describe, write_dictionary
from .metadata import LayerDescription, area_names
from .suppress import FLAG, check_threshold
from .writers import write_geojson, write_gpkg

if TYPE_CHECKING:
    from .bundle import BundleOptions

MANIFEST = "manifest.json"
REPORT = "laporan_sasaran.json"
LOKUS = "lokus"
MAP = "sasaran.html"
LAYER = "sasaran.gpkg"


def suppress_targeting(result: Targeting, n: int) -> tuple[Targeting, dict]:
    """Blank small counts (1 to ``n - 1``) for publication; see the module docstring.

    Returns
    -------
    The result with its desa layer blanked (``disamarkan`` = True on a row with a blank) and
    its priority table rebuilt from the published values; and what was blanked, as counts of
    cells per column (for the manifest; never which desa).
    """
    n = check_threshold(n)
    desa = result.desa.copy()
    counts = result.counts()
    values = desa[counts].to_numpy(dtype=float)
    blank = (values >= 1) & (values < n)
    primary = blank.copy()
    linked = [
        counts.index(c)
        for c in ("keluarga_sasaran_tanpa_program", *(program_column(p) for p in result.programs))
        if c in counts
    ]
    if linked:
        rows = blank[:, linked].any(axis=1)
        for j in linked:
            blank[:, j] |= rows & ~np.isnan(values[:, j])
    for j, column in enumerate(counts):
        desa[column] = desa[column].mask(blank[:, j])
    hidden = {c for j, c in enumerate(counts) if blank[:, j].any()}
    for rate, (count, denominator) in result.rates().items():
        if rate in desa.columns:
            gone = desa[count].isna() & result.desa[count].notna()
            gone |= desa[denominator].isna() & result.desa[denominator].notna()
            desa[rate] = desa[rate].mask(gone)
    desa[FLAG] = blank.any(axis=1)
    public = dataclasses.replace(result, desa=desa, lokus=priority_table(desa, result.conditions))
    # Desa, never people: how many desa carry a blank, and how many desa with target families
    # left the priority table because their count of target families was blanked.
    record: dict[str, object] = {
        "ambang": n,
        "kolom": counts,
        "desa_disamarkan": int(desa[FLAG].sum()),
        "desa": int(len(desa)),
        "lokus_tanpa_penyamaran": int(len(result.lokus)),
        "lokus_tertulis": int(len(public.lokus)),
        "sel_primer": {c: int(primary[:, j].sum()) for j, c in enumerate(counts)},
        "sel_sekunder": {c: int((blank & ~primary)[:, j].sum()) for j, c in enumerate(counts)},
        "kolom_ikut_dikosongkan": sorted(
            r for r, (c, d) in result.rates().items() if c in hidden or d in hidden
        ),
        "total_wilayah_tidak_dipublikasikan": counts,
    }
    return public, record


def suppression_summary(record: dict, lang: str = "id") -> str:
    """The terminal line of a suppression: desa with a blanked cell, and the rows the priority
    table lost to it (a short or empty ``lokus.csv`` is then the suppression, not the data).

    Parameters
    ----------
    record
        The second value of :func:`suppress_targeting`.
    lang
        ``"id"`` or ``"en"``.

    Returns
    -------
    str
        One or two lines.
    """
    from ..i18n import format_number

    def n(key: str) -> str:
        return format_number(record[key], 0, lang)

    lines = [
        text(
            "sasaran.suppressed_desa",
            lang,
            threshold=record["ambang"],
            suppressed=n("desa_disamarkan"),
            total=n("desa"),
        )
    ]
    dropped = int(record["lokus_tanpa_penyamaran"]) - int(record["lokus_tertulis"])
    if dropped and not record["lokus_tertulis"]:
        lines.append(
            text("sasaran.suppressed_lokus_empty", lang, dropped=format_number(dropped, 0, lang))
        )
    elif dropped:
        lines.append(
            text(
                "sasaran.suppressed_lokus",
                lang,
                dropped=format_number(dropped, 0, lang),
                written=n("lokus_tertulis"),
            )
        )
    return "\n".join(lines)


def lokus_table(result: Targeting) -> pd.DataFrame:
    """The priority table as written: counts whole, rates to 2 decimals."""
    table = result.lokus.copy()
    for column in table.columns:
        if column.startswith("persen_"):
            table[column] = table[column].round(2)
        elif column in ("peringkat", "kantong") or column.startswith(
            ("keluarga_", "jumlah_", "penerima_")
        ):
            table[column] = table[column].round().astype("Int64")
    return table


def write_targeting(
    result: Targeting,
    out_dir: str | os.PathLike,
    *,
    lang: str = "id",
    title: str | None = None,
    source: str | None = None,
    tiles: str | None = "OpenStreetMap",
    offline: bool = True,
    suppress_below: int | None = None,
    verification: str | os.PathLike | None = None,
    command: list[str] | None = None,
) -> list[Path]:
    """Write the targeting outputs into ``out_dir``, and the verification list if asked.

    Parameters
    ----------
    result
        From :func:`povmap.targeting`.
    out_dir
        The public output folder (created; replaced whole).
    lang, title, source, tiles, offline
        As for the map (:func:`povmap.render.sasaran.targeting_map`,
        :func:`povmap._offline.save_map`).
    suppress_below
        Blank counts 1 to N-1 in every public file (N ≥ 3).
    verification
        An ``.xlsx`` for field officers (internal), outside ``out_dir``.
    command
        The command line for the manifest.

    Returns
    -------
    The paths written.

    Raises
    ------
    PovmapInputError
        A verification list that is not ``.xlsx``, lies in ``out_dir``, or cannot be made (the
        register has no family id of its own); a bad threshold.
    """
    from .._offline import save_map
    from ..manifest import build_manifest, write_manifest
    from ..render.sasaran import targeting_map

    if verification is not None:
        check_verification(verification, out_dir, result)
    public, suppression = (
        suppress_targeting(result, suppress_below) if suppress_below is not None else (result, None)
    )
    page = targeting_map(
        public,
        title=title,
        source=source,
        lang=lang,
        tiles=tiles,
        suppressed=suppression is not None,
    )
    names: list[str] = []
    with staged_outputs(
        files=[verification], folders=[out_dir], inputs=result.inputs.values()
    ) as outputs:
        stage = outputs.path(out_dir)
        save_map(page, stage / MAP, offline=offline)
        table = lokus_table(public)
        write_text(stage / f"{LOKUS}.csv", csv_text(table))
        with atomic_path(stage / f"{LOKUS}.xlsx") as tmp:
            write_xlsx(table, tmp, sheet_name="lokus")
        write_gpkg({"sasaran_desa": public.desa}, stage / LAYER, multi=True)
        names += [MAP, f"{LOKUS}.csv", f"{LOKUS}.xlsx", LAYER]
        if suppression is None:  # the report holds totals: not in a published folder
            write_text(
                stage / REPORT,
                json.dumps(report(result), ensure_ascii=False, indent=2, default=str) + "\n",
            )
            names.append(REPORT)
        written = [stage / name for name in names]
        if verification is not None:
            target = outputs.path(verification)
            with atomic_path(target) as tmp:
                # The first line says, in both languages, that the list must not be published.
                internal = message("sasaran.internal")
                write_xlsx(
                    result.verification,
                    tmp,
                    sheet_name="verifikasi",
                    heading=[f"{internal} / {internal.en}"],
                )
        inputs = {k: Path(v) for k, v in result.inputs.items() if Path(v).is_file()}
        manifest = build_manifest(
            written,
            inputs=inputs,
            report=result.report.to_dict(),
            command=command,
            suppression=(
                {**suppression, "total_wilayah_tidak_dipublikasikan": ["jumlah_keluarga"]}
                if suppression
                else None
            ),
        )
        for key in ("klasifikasi", "klasifikasi_lapisan"):
            manifest.pop(key, None)
        manifest["penyamaran"] = suppression
        manifest["sasaran"] = settings(result)
        write_manifest(stage / MANIFEST, manifest)
        names.append(MANIFEST)
    paths = [Path(out_dir) / name for name in names]
    return paths + ([Path(verification)] if verification is not None else [])


#: The targeting layer's name in a bundle (its GeoJSON, styles, metadata and shapefile zip).
BUNDLE_LAYER = "sasaran_desa"
#: Its class index column (the first layer of the map), so named in every format: one SLD/QML
#: styles the GeoJSON, the GeoPackage table and the shapefile alike.
CLASS_FIELD = "kelas"
#: Short codes of the conditions in shapefile names (``KB_AIR``, ``TAHU_AIR``, ``PRS_KB_AIR``).
_CONDITION_CODES = {
    "air_minum": "AIR",
    "sanitasi": "SAN",
    "lantai": "LTI",
    "dinding": "DND",
    "atap": "ATP",
    "listrik": "LST",
    "bahan_bakar": "BBK",
}


def sasaran_fields(result: Targeting, classified: str | None = None) -> dict[str, Field]:
    """Column of the targeting layer -> :class:`~povmap.export.kugi.Field` for the bundle.

    The field's ``name`` is the shapefile name (≤ 10 characters: KUGI names for the areas,
    ``KK_SASARAN``, ``KK_TANPA``, ``PRS_TANPA`` ...; ``kelas``, ``kantong``, ``disamarkan``
    as they are), its descriptions (Indonesian and English) say what the column counts, and a
    rate's names its count and denominator (:meth:`Targeting.rates`).

    Parameters
    ----------
    result
        The targeting (its target and eligibility desil go into the descriptions).
    classified
        The column :data:`CLASS_FIELD` classifies (the map's first layer).

    Returns
    -------
    dict
        Every column the layer may have (areas, counts, rates, ``program_diketahui``,
        ``kebutuhan_utama``, ``kantong``, ``disamarkan``, ``kelas``), in layer order.
    """
    span, layak = desil_span(result.desil_sasaran), result.desil_layak

    def field(
        short: str,
        key: str,
        kind: str = "Integer",
        unit: str = "KK",
        origin: str = "register",
        **values: object,
    ) -> Field:
        words = {
            lang: {
                k: text(f"sasaran.need.{v}", lang) if k == "need" else v for k, v in values.items()
            }
            for lang in ("id", "en")
        }
        return Field(
            short,
            kind,
            unit,
            text(f"field.sasaran.{key}", "id", **words["id"]),
            text(f"field.sasaran.{key}", "en", **words["en"]),
            origin,
        )

    fields = {
        canonical: Field(
            kugi, "String", "-", text(f"kugi.{kugi}"), text(f"kugi.{kugi}", "en"), "batas"
        )
        for canonical, kugi in KUGI_ADMIN.items()
    }
    fields["jumlah_keluarga_register"] = field("JML_KK_REG", "jumlah_keluarga_register")
    fields["keluarga_sasaran"] = field("KK_SASARAN", "keluarga_sasaran", span=span)
    fields["program_diketahui"] = field("PROG_TAHU", "program_diketahui", "String", "-")
    fields["keluarga_sasaran_tanpa_program"] = field("KK_TANPA", "tanpa_program")
    for p in PROGRAMS:
        fields[program_column(p)] = field(f"KK_{p.upper()}", "program", program=PROGRAM_NAMES[p])
    fields["jumlah_penerima"] = field("JML_PNRM", "jumlah_penerima")
    fields["penerima_di_atas_desil_layak"] = field("PNRM_ATAS", "di_atas", layak=layak)
    fields["jumlah_entri_penerima"] = field("JML_ENTRI", "entri", unit="entri", origin="penerima")
    fields["penerima_tidak_di_register"] = field(
        "PNRM_TDREG", "tidak_di_register", unit="entri", origin="penerima"
    )
    for c, code in _CONDITION_CODES.items():
        fields[need_column(c)] = field(f"KB_{code}", "kebutuhan", need=c)
        fields[f"keluarga_sasaran_{c}_diketahui"] = field(f"TAHU_{code}", "diketahui", need=c)
    for rate, (count, denominator) in result.rates().items():
        short = fields[count].name.removeprefix("KK_").removeprefix("PNRM_")

        def formula(lang: str, count: str = count, denominator: str = denominator) -> str:
            meaning = (
                fields[denominator].keterangan if lang == "id" else fields[denominator].description
            )
            return text(
                "field.sasaran.rate",
                lang,
                count=f"{count} ({fields[count].name})",
                denominator=f"{denominator} ({fields[denominator].name})",
                meaning=meaning,
            )

        fields[rate] = Field(f"PRS_{short}", "Real", "%", formula("id"), formula("en"), "povmap")
    fields["kebutuhan_utama"] = field("KB_UTAMA", "kebutuhan_utama", "String", "-", "povmap")
    fields["kantong"] = field("kantong", "kantong", unit="-", origin="povmap")
    fields[CLASS_FIELD] = field(
        CLASS_FIELD, "kelas", unit="-", origin="povmap", column=classified or "-"
    )
    fields["disamarkan"] = dataclasses.replace(
        POVERTY_FIELDS["disamarkan"], name="disamarkan", origin="povmap"
    )
    return fields


def bundle_layer(result: Targeting) -> tuple[gpd.GeoDataFrame, Classification | None]:
    """The targeting layer as a bundle writes it, and the classes of its map's first layer.

    Returns
    -------
    The desa layer with :data:`CLASS_FIELD` (class index of the map's first measure; -1 no
    data), and the classes (None when no measure is known anywhere: the map shows no layer).
    The classes are those of :func:`povmap.render.sasaran.targeting_map` for the same result
    (:func:`povmap.targeting.measure_classes` on the drawn desa).
    """
    desa = result.desa
    drawn = desa[~(desa.geometry.isna() | desa.geometry.is_empty)]
    layer = desa.copy()
    for kind, column in measures(result):
        if drawn[column].notna().any():
            classes = measure_classes(drawn[column], column, kind)
            layer[CLASS_FIELD] = classes.assign(layer[column]).astype(int)
            return _geometry_last(layer), classes
    layer[CLASS_FIELD] = NO_DATA_CLASS
    return _geometry_last(layer), None


def no_data_classes(result: Targeting) -> Classification:
    """No class, only "Tidak ada data": the styles of a targeting layer whose every measure is
    unknown or blanked by suppression (``kelas`` -1 everywhere), so that the bundle still carries
    its ``.sld``/``.qml`` (one rule) like any other layer.

    Parameters
    ----------
    result
        The targeting result (its first measure names the style).

    Returns
    -------
    Classification
        ``k`` = 0 on the map's first measure column.
    """
    column = measures(result)[0][1]
    return Classification(
        column=column, scheme="quantiles", lower=float("nan"), bins=(), colors=(), decimals=2
    )


def _geometry_last(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geometry = gdf.geometry.name
    return gdf[[c for c in gdf.columns if c != geometry] + [geometry]]


def write_targeting_layers(
    result: Targeting, folder: str | os.PathLike, options: BundleOptions | None = None
) -> list[str]:
    """The targeting layer of a geoportal bundle (``povmap export --sasaran``), written into
    ``folder`` (the bundle's staged folder, where ``kamus_data.csv`` is already written).

    Files: ``sasaran_desa.geojson`` (RFC 7946, feature id = ``kode_desa``) and ``sasaran.gpkg``
    (table ``sasaran_desa``) as the formats ask, under the canonical Indonesian column names
    (README, *Contracts for scripts*) plus ``kelas``; ``sasaran_desa.sld``/``.qml`` (the
    classes and colours of the map's first layer; only the "Tidak ada data" rule when no desa
    has a value, e.g. all blanked by suppression: :func:`no_data_classes`); ISO 19139
    ``sasaran_desa.xml``; with ``shp`` ``sasaran_desa_shp.zip`` under short names
    (:func:`sasaran_fields`), the SLD and XML inside; ``lokus.csv``; and the layer's rows
    appended to ``kamus_data.csv``. Suppressed like the bundle when ``suppress_below``.

    Parameters
    ----------
    result
        From :func:`povmap.targeting`, unsuppressed.
    folder
        The staged bundle folder.
    options
        The bundle's settings (formats, precision, language, title, period, metadata,
        ``suppress_below``); GeoJSON and GeoPackage by default.

    Returns
    -------
    list of str
        The names written (``kamus_data.csv`` not among them: the bundle lists it).
    """
    from ..targeting import inputs_of
    from .bundle import (
        DICTIONARY,
        BundleOptions,
        _abstract_notes,
        _data_files,
        _join_text,
        _lineage,
        _title,
        _write_described,
    )

    options = (options or BundleOptions(formats=("geojson", "gpkg"))).checked()
    below = options.suppress_below
    public = suppress_targeting(result, below)[0] if below is not None else result
    folder = Path(folder)
    layer, classes = bundle_layer(public)
    fields = sasaran_fields(result, classes.column if classes is not None else None)
    title = _title(layer, "desa", options, topic="sasaran.bundle.topic")
    names = []
    if "geojson" in options.formats:
        write_geojson(
            layer,
            folder / f"{BUNDLE_LAYER}.geojson",
            layer=BUNDLE_LAYER,
            precision=options.precision,
            id_field="kode_desa",
            description=title,
        )
        names.append(f"{BUNDLE_LAYER}.geojson")
    if "gpkg" in options.formats:
        write_gpkg(
            {BUNDLE_LAYER: layer}, folder / LAYER, descriptions={BUNDLE_LAYER: title}, multi=True
        )
        names.append(LAYER)
    write_text(folder / f"{LOKUS}.csv", csv_text(lokus_table(public)))
    names.append(f"{LOKUS}.csv")
    inputs = inputs_of(result)
    sources = {
        key: inputs[role].name
        for key, role in (("batas", "batas"), ("register", "register"), ("penerima", "penerima"))
        if role in inputs
    }
    write_dictionary(
        folder / DICTIONARY, describe({BUNDLE_LAYER: layer}, sources, fields), append=True
    )
    lang = options.lang
    abstract = text(
        "sasaran.bundle.abstract",
        lang,
        n=format_number(len(layer), lang=lang),
        areas=", ".join(area_names(layer)),
        register=sources.get("register", "-"),
        span=desil_span(result.desil_sasaran),
        layak=result.desil_layak,
        rates="; ".join(
            f"{rate} = {count} / {denominator}"
            for rate, (count, denominator) in public.rates().items()
        ),
    ) + _abstract_notes(classes, options, flag="disamarkan")
    description = LayerDescription(
        name=BUNDLE_LAYER,
        level="desa",
        title=title,
        abstract=abstract,
        lineage=_lineage(
            None,
            sources,
            _register_text(result, inputs) + " " + _join_text(result),
            options,
            aggregated=False,
        ),
        files=_data_files(BUNDLE_LAYER, options, [f"{BUNDLE_LAYER}.geojson"], gpkg=LAYER),
        dictionary=DICTIONARY,
        vintage=options.vintage,
        keywords=("sasaran program", "bantuan sosial", "P3KE", "DTSEN"),
    )
    names += _write_described(
        classes if classes is not None else no_data_classes(result),
        layer,
        description,
        folder,
        options,
        field=CLASS_FIELD,
        shapefile=_shapefile_layer(layer, fields) if "shp" in options.formats else None,
    )
    return names


def _shapefile_layer(layer: gpd.GeoDataFrame, fields: dict[str, Field]) -> gpd.GeoDataFrame:
    """The layer under its short names, typed (counts whole, rates to 4 decimals), known
    fields only."""
    columns = {fields[c].name: _typed(layer[c], c, fields[c]) for c in layer.columns if c in fields}
    return gpd.GeoDataFrame(columns, geometry=layer.geometry.values, crs=layer.crs)


def _register_text(result: Targeting, inputs: dict[str, Path]) -> str:
    """The boundary file, the register (and recipients list) by file name and SHA-256 hash, and
    the choices, for the lineage: never a row of them."""
    files = [
        f"{what}: {inputs[role].name} (SHA-256 {sha256(inputs[role])})"
        for role, what in (("register", "Register by-name"), ("penerima", "daftar penerima"))
        if role in inputs
    ]
    if "batas" in inputs:
        files.insert(0, f"Batas wilayah: {inputs['batas'].name}")
    programs = ", ".join(PROGRAM_NAMES[p] for p in result.programs) or "-"
    return (
        "; ".join(files) + f"; register per {result.register_kind}, keluarga sasaran desil "
        f"{desil_span(result.desil_sasaran)}, desil layak sampai {result.desil_layak}, "
        f"program {programs}."
    )


def settings(result: Targeting) -> dict:
    """The choices behind a result, for the manifest and the report."""
    return {
        "desil_sasaran": result.desil_sasaran,
        "desil_layak": result.desil_layak,
        "program": list(result.programs),
        "kebutuhan": list(result.conditions),
        "register": result.register_kind,
        "kantong": result.pockets,
        "daftar_penerima": result.recipients_total is not None,
    }


def report(result: Targeting) -> dict:
    """``laporan_sasaran.json``: the settings, the join report(s), totals and the notes."""
    out: dict[str, object] = {"sasaran": settings(result), "penggabungan": result.report.to_dict()}
    if result.recipients_report is not None:
        out["penggabungan_penerima"] = result.recipients_report.to_dict()
    if result.recipients_total is not None:
        out["daftar_penerima"] = result.recipients_total
    out["catatan"] = [str(n) for n in result.notes]
    out["catatan_en"] = [n.en if isinstance(n, Text) else str(n) for n in result.notes]
    return out


def check_verification(
    path: str | os.PathLike, out_dir: str | os.PathLike, result: Targeting | None = None
) -> Path:
    """Refuse a verification list that is not ``.xlsx``, that lies inside the public folder, or
    (given ``result``) that cannot be made because the register has no family id of its own."""
    path, folder = Path(path), Path(out_dir)
    if path.suffix.lower() != ".xlsx":
        raise PovmapInputError.from_catalogue("sasaran.verification_suffix", path=path)
    if folder.resolve() in path.resolve().parents:
        raise PovmapInputError.from_catalogue(
            "sasaran.verification_inside", path=path, folder=folder
        )
    if (
        result is not None
        and len(result.verification)
        and result.verification["id_keluarga"].isna().all()
    ):
        raise PovmapInputError.from_catalogue("sasaran.verification_no_id")
    return path
