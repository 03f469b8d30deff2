"""Poverty-pocket outlines, shared by the province, national and static maps.

A pocket is drawn the same way on every map: the union of its desa as one outline (a desa of a
pocket type without a pocket id, such as an outlier, on its own), in its category's colour and
dashes over a white casing (:mod:`.layers`), with one legend section (:func:`pocket_section`).
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .layers import (
    POCKET_CASING,
    POCKET_DASH,
    POCKET_WEIGHT,
    category_label,
    pocket_categories,
)
from .legend import outline_swatch, section_html

#: Gaps between neighbouring desa narrower than twice this (metres) are closed in the pocket
#: outlines of static maps (:func:`closed_union`).
POCKET_CLOSE_M = 50.0


def pocket_table(pockets: object) -> pd.DataFrame:
    """``kode_desa``, ``jenis_kantong`` (and ``id_kantong``) of each desa, one row per desa.

    Parameters
    ----------
    pockets
        A :class:`povmap.pockets.Pockets` result, its ``.desa`` layer, or any table with
        ``kode_desa`` and ``jenis_kantong`` (optionally ``id_kantong``).

    Returns
    -------
    pandas.DataFrame
        Those columns, the first row of each ``kode_desa``.

    Raises
    ------
    PovmapInputError
        ``kode_desa`` or ``jenis_kantong`` is missing.
    """
    # A povmap.pockets.Pockets result, or its layer.
    table: pd.DataFrame = getattr(pockets, "desa", pockets)
    cols = [c for c in ("kode_desa", "jenis_kantong", "id_kantong") if c in table.columns]
    if "jenis_kantong" not in cols or "kode_desa" not in cols:
        from .._errors import PovmapInputError

        raise PovmapInputError.from_catalogue("interactive.pockets_must_columns_kode")
    return pd.DataFrame(table[cols]).drop_duplicates("kode_desa")


def pocket_outlines(
    web: gpd.GeoDataFrame, union: Callable[[np.ndarray], shapely.Geometry]
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """One outline per pocket, with its category index ``k``, and the colour of each category.

    Parameters
    ----------
    web
        The drawn desa with ``kode_desa``, ``jenis_kantong`` (``id_kantong`` when known) and
        polygons.
    union
        Dissolves one pocket's desa polygons: the fast coverage union on a cleaned web coverage,
        :func:`closed_union` on polygons that are no clean coverage.

    Returns
    -------
    tuple of geopandas.GeoDataFrame and dict
        The outlines (column ``k``, in ``web``'s CRS), one per pocket id and category, a desa
        without a pocket id (an outlier) on its own, ordered by category then id (or desa code);
        and category -> colour (:func:`povmap.render.layers.pocket_categories`; ``k`` indexes
        it). Not clickable on a map: a click on a pocket desa reaches the desa, whose popup has it
        all.
    """
    colors = pocket_categories(web["jenis_kantong"].tolist())
    inside = web[web["jenis_kantong"].isin(colors)]
    if not len(inside):
        return gpd.GeoDataFrame({"k": []}, geometry=[], crs=web.crs), colors
    ids = inside["id_kantong"] if "id_kantong" in inside else pd.Series(None, index=inside.index)
    # A desa without a pocket id (an outlier) is outlined on its own.
    group = inside["jenis_kantong"].astype(str) + ids.map(lambda v: f"|id:{v}").where(
        ids.notna(), "|desa:" + inside["kode_desa"].astype(str)
    )
    # Groups in sorted order, split from arrays: a pandas group per pocket cost 1 ms each (3 s
    # for the 2,640 pockets of a national test).
    codes, _ = pd.factorize(group, sort=True)
    order = np.argsort(codes, kind="stable")
    cuts = np.flatnonzero(np.diff(codes[order])) + 1
    geoms = np.split(np.asarray(inside.geometry.values)[order], cuts)
    cats = {c: k for k, c in enumerate(colors)}
    kinds = [cats[c[0]] for c in np.split(inside["jenis_kantong"].to_numpy()[order], cuts)]
    obj = gpd.GeoDataFrame({"k": kinds}, geometry=[union(g) for g in geoms], crs=web.crs)
    return obj, colors


def closed_union(geoms: np.ndarray, distance: float = POCKET_CLOSE_M) -> shapely.Geometry:
    """The union of desa polygons without the slits between neighbours.

    Boundary files are no clean coverage, nor are desa simplified one by one: neighbours leave
    gaps, which a plain union keeps as slivers, drawn as lines across the pocket. Closing (grow,
    then shrink, by ``distance``, mitred so that corners stay sharp) removes those narrower than
    twice ``distance``.

    Parameters
    ----------
    geoms
        The polygons of one pocket.
    distance
        In the polygons' units (metres in a UTM zone; degrees in EPSG:4326).

    Returns
    -------
    shapely.Geometry
        The closed union (a lone polygon as it is).
    """
    if len(geoms) == 1:
        return geoms[0]  # nothing to close; and its outline stays exactly the drawn desa's
    union = shapely.union_all(geoms)
    return shapely.buffer(
        shapely.buffer(union, distance, join_style="mitre"), -distance, join_style="mitre"
    )


def pocket_section(layer_name: str, colors: dict[str, str], lang: str) -> str:
    """The legend section of the pocket layer called ``layer_name``: one outline swatch (the
    map's stroke over its white casing) and the category's label per category of ``colors``."""
    return section_html(
        layer_name,
        layer_name,
        [
            (
                outline_swatch(c, POCKET_WEIGHT, POCKET_DASH.get(v), casing=POCKET_CASING),
                category_label(v, lang),
            )
            for v, c in colors.items()
        ],
    )
