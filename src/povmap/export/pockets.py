"""Writing poverty pockets: the flagged desa, the pocket regions and the priority table.

The analysis lives in :mod:`povmap.pockets`; this module only writes its result, so that file
writing stays in the output layer.
"""

from __future__ import annotations

import os
from pathlib import Path

from .._errors import PovmapInputError
from .._io import atomic_path, staged_outputs, write_text
from .._safe_text import csv_text, write_xlsx
from ..pockets import Pockets
from .writers import write_geojson, write_gpkg


def write_pockets(
    result: Pockets, output: str | os.PathLike, ranking: str | os.PathLike | None = None
) -> list[Path]:
    """Write the flagged desa, the pocket regions and the priority table; return the paths.

    ``POCKETS.geojson`` holds the desa in a pocket and the high outliers (:attr:`Pockets.flagged`),
    ``POCKETS_wilayah.geojson`` the pocket regions; a ``.gpkg`` output holds both as the layers
    ``kantong_desa`` and ``kantong_wilayah``. The table goes to ``ranking`` (default
    ``POCKETS_peringkat.csv``): CSV in UTF-8 with a dot as decimal mark, for scripts, or, when the
    name ends in ``.xlsx``, a spreadsheet whose numbers stay numbers whatever the locale of the
    planner's Excel (which would read ``8.81`` as eight hundred and eighty-one). No text cell is
    ever a formula: in the CSV a name starting with ``=``, ``+``, ``-`` or ``@`` gets a leading
    ``'``, in the XLSX it is stored as text (:mod:`povmap._safe_text`). The files are written
    all or nothing (:func:`povmap._io.staged_outputs`).
    """
    paths = output_paths(output, ranking)
    with staged_outputs(paths.values()):
        return _write_pockets(result, paths)


def _write_pockets(result: Pockets, paths: dict[str, Path]) -> list[Path]:
    if "wilayah" in paths:
        written = [
            write_geojson(result.flagged, paths["desa"], layer="kantong_desa"),
            write_geojson(result.wilayah, paths["wilayah"], layer="kantong_wilayah"),
        ]
    else:
        written = [
            write_gpkg(
                {"kantong_desa": result.flagged, "kantong_wilayah": result.wilayah}, paths["desa"]
            )
        ]
    table = result.peringkat.round(_RANKING_DECIMALS)
    if paths["peringkat"].suffix.lower() == ".xlsx":
        with atomic_path(paths["peringkat"]) as tmp:
            write_xlsx(table, tmp, sheet_name="peringkat")
    else:
        write_text(paths["peringkat"], csv_text(table))
    return [*written, paths["peringkat"]]


#: Decimals kept in the priority table: enough to rank and read, no float noise.
_RANKING_DECIMALS = {
    "persen_miskin_ekstrem": 2,
    "nilai_eb": 3,
    "statistik": 4,
    "p_value": 4,
    "q_value": 4,
}


def output_paths(
    output: str | os.PathLike, ranking: str | os.PathLike | None = None
) -> dict[str, Path]:
    """The files :func:`write_pockets` writes (``desa``, ``wilayah`` for GeoJSON, ``peringkat``).

    Raises :class:`PovmapInputError` for an output that is neither GeoJSON nor GeoPackage, so a
    command can check before the analysis runs.
    """
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in (".geojson", ".json", ".gpkg"):
        raise PovmapInputError.from_catalogue("pocket_files.suffix_geojson_gpkg", output=output)
    paths = {"desa": output}
    if suffix != ".gpkg":
        paths["wilayah"] = output.with_name(f"{output.stem}_wilayah{output.suffix}")
    paths["peringkat"] = (
        Path(ranking) if ranking else output.with_name(f"{output.stem}_peringkat.csv")
    )
    return paths
