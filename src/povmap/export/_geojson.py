"""The text of GeoJSON features, made by numpy a batch of features at a time.

:func:`povmap.export.writers.write_geojson` streams what :func:`feature_texts` returns. The text
is what GDAL's driver writes with ``RFC7946=YES``; only the way it is made differs, because on
the national layer (83,403 desa, 8.8 M vertices) the time goes into each step done per feature or
per number:

- **Snapping.** Every vertex is rounded to the ``10**-precision`` grid in numpy, by GEOS's own
  rule (:func:`_round_as_geos`, what ``shapely.set_precision(mode="pointwise")`` does), instead of
  making a GEOS geometry of each rounded polygon and reading its coordinates back. Rounding a
  coordinate alone can make a valid polygon self-intersect (two vertices falling on one point of
  a narrow neck), so the rounded polygons are checked with GEOS (``is_valid``, in threads on all
  cores: :func:`povmap._parallel.map_chunks`; the answer is kept in povmap's cache, keyed by the
  rounded coordinates), and the few it refuses are snap-rounded by GEOS (``set_precision``),
  which keeps them valid.
- **Repeated vertices and winding.** Consecutive equal vertices are dropped and rings reversed
  where RFC 7946 wants the other winding (shells counter-clockwise, holes clockwise) in numpy,
  from each ring's signed area; a ring whose area is too small for its sign to be sure in floating
  point is left to GEOS (``orient_polygons``).
- **Text.** The rounded coordinates of a batch are handed to ``orjson`` as one numpy array per
  ring, nested in lists as GeoJSON nests them: one call per feature, no text cut and joined
  ring by ring in Python. ``orjson`` prints each number as the shortest text that reads back
  as it, as GDAL does.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

from .. import _cache
from .._errors import PovmapInputError
from .._parallel import map_chunks

_POLYGON = int(shapely.GeometryType.POLYGON)
_MULTIPOLYGON = int(shapely.GeometryType.MULTIPOLYGON)
#: An empty polygon as GDAL writes it; a missing geometry (type id -1) is ``null``.
_EMPTY = {
    _POLYGON: b'{"type":"Polygon","coordinates":[]}',
    _MULTIPOLYGON: b'{"type":"MultiPolygon","coordinates":[]}',
}
_OPEN = {
    _POLYGON: b'{"type":"Polygon","coordinates":',
    _MULTIPOLYGON: b'{"type":"MultiPolygon","coordinates":',
}
#: Up to this many decimals, numpy rounds as GEOS does (checked up to 14, tests/test_geojson.py);
#: finer grids are snapped by GEOS itself.
_NUMPY_PRECISION = 12


def feature_texts(gdf: gpd.GeoDataFrame, precision: int, id_field: str | None) -> list[bytes]:
    """The GeoJSON text of each feature of ``gdf`` (EPSG:4326, polygons).

    Parameters
    ----------
    gdf
        Features in lon/lat; columns become the properties, ``id_field`` also the ``id``.
    precision
        Decimals of the coordinates: every vertex is snapped to the ``10**-precision`` grid.
    id_field
        Column whose values (as text) become each feature's ``id``, or None.

    Returns
    -------
    list of bytes
        One ``{"type":"Feature",...}`` object per row, in order.

    Raises
    ------
    PovmapInputError
        A geometry that is not a polygon or multipolygon.
    """
    geometry = geometry_texts(np.asarray(gdf.geometry.values), precision)
    properties = _property_texts(gdf.drop(columns=gdf.geometry.name))
    if id_field is None:
        return [
            b'{"type":"Feature","properties":' + p + b',"geometry":' + g + b"}"
            for p, g in zip(properties, geometry, strict=True)
        ]
    ids = [orjson.dumps(str(v)) for v in gdf[id_field].tolist()]
    return [
        b'{"type":"Feature","id":' + i + b',"properties":' + p + b',"geometry":' + g + b"}"
        for i, p, g in zip(ids, properties, geometry, strict=True)
    ]


def geometry_texts(source: np.ndarray, precision: int) -> list[bytes]:
    """Each geometry's GeoJSON object, snapped to the ``10**-precision`` grid, valid, RFC 7946.

    Parameters
    ----------
    source
        Polygons and multipolygons (lon/lat); None and empty geometries allowed.
    precision
        Decimals of the coordinates.

    Returns
    -------
    list of bytes
        ``{"type":"Polygon","coordinates":...}`` and the like; ``null`` for a missing geometry,
        and an empty one (also one the snapping empties) as GDAL writes it, by its own type.

    Raises
    ------
    PovmapInputError
        A geometry that is not a polygon or multipolygon.
    """
    types = shapely.get_type_id(source)
    other = ~np.isin(types, (-1, _POLYGON, _MULTIPOLYGON))
    if other.any():
        kind = shapely.GeometryType(int(types[other][0])).name
        raise PovmapInputError.from_catalogue("writers.only_polygons", kind=kind)
    out: list[bytes] = [_EMPTY.get(t, b"null") for t in types.tolist()]
    present = np.flatnonzero((types != -1) & ~shapely.is_empty(source))
    if not len(present):
        return out
    if precision > _NUMPY_PRECISION:
        regular = np.zeros(len(present), dtype=bool)
    else:
        rings = _Rings.of(source[present])
        # A polygon without rings or a ring without vertices inside a feature: GEOS writes those.
        regular = ~rings.has_empty_parts()
    fast = np.zeros(len(present), dtype=bool)
    if regular.any():
        rings = rings.subset(regular)
        rings.coords = _round_as_geos(rings.coords, precision)
        broken = _broken(rings)
        rings = rings.without_repeated_points()
        unsure = rings.orient()
        fast[regular] = ~(broken | unsure)
        _put(out, present[fast], rings.subset(fast[regular]), precision, types[present[fast]])
    by_geos = present[~fast]
    if len(by_geos):
        geoms = shapely.orient_polygons(
            _snap_by_geos(source[by_geos], precision), exterior_cw=False
        )
        kept = ~shapely.is_empty(geoms)  # an emptied polygon stays as its source type says
        if kept.any():
            geoms = geoms[kept]
            _put(out, by_geos[kept], _Rings.of(geoms), precision, shapely.get_type_id(geoms))
    return out


def _broken(rings: _Rings) -> np.ndarray:
    """Per feature of ``rings``: not a valid polygon (GEOS ``is_valid``, in threads).

    The answer is kept in povmap's cache (:mod:`povmap._cache`) under a key hashing the
    coordinates and offsets themselves (with GEOS's version and this module's source), so a
    second export of the same layer takes it from there instead of checking every polygon again.
    """
    name = None
    if _cache.cache_dir() is not None:
        arrays = (rings.coords, rings.rings, rings.polygons, rings.features)
        data = [np.ascontiguousarray(a).tobytes() for a in arrays]
        digest = _cache.key({}, {"entry": "geojson_invalid"}, [__file__], data=data)
        name = digest and f"geojson_invalid_{digest}"
    entry = _cache.load(name) if name else None
    count = len(rings.features) - 1
    if entry is not None and set(entry) == {"broken"}:
        where = entry["broken"]
        if where.dtype.kind == "i" and ((where >= 0) & (where < count)).all():
            broken = np.zeros(count, dtype=bool)
            broken[where] = True
            return broken
    broken = ~map_chunks(shapely.is_valid, [rings.geometries()])
    if name:
        _cache.store(name, {"broken": np.flatnonzero(broken)})
    return broken


def _snap_by_geos(geoms: np.ndarray, precision: int) -> np.ndarray:
    """Snap ``geoms`` to the ``10**-precision`` grid with GEOS, keeping every polygon valid.

    What :func:`geometry_texts` does in numpy, for the few polygons numpy leaves to GEOS: each
    coordinate rounded, repeated vertices dropped; a polygon rounding breaks is snap-rounded
    (``set_precision``'s default mode) instead.
    """
    grid = 10.0**-precision
    snapped = shapely.set_precision(geoms, grid, mode="pointwise")
    broken = ~shapely.is_valid(snapped) & ~shapely.is_missing(snapped)
    snapped[~broken] = shapely.remove_repeated_points(snapped[~broken])
    snapped[broken] = shapely.set_precision(geoms[broken], grid)
    return snapped


def _put(
    out: list[bytes], where: np.ndarray, rings: _Rings, precision: int, types: np.ndarray
) -> None:
    """Set ``out[where[f]]`` to the geometry object of feature ``f`` of ``rings``.

    The coordinates are rounded for the whole batch at once and handed to ``orjson`` as one
    array per ring, nested in lists as GeoJSON nests them, one call per feature.
    """
    values = np.round(rings.coords, precision)
    ends = rings.rings.tolist()
    by_ring = [values[a:b] for a, b in zip(ends[:-1], ends[1:], strict=True)]
    starts = rings.polygons.tolist()
    by_polygon = [by_ring[a:b] for a, b in zip(starts[:-1], starts[1:], strict=True)]
    features = rings.features.tolist()
    for f, (position, type_id, multi) in enumerate(
        zip(where.tolist(), types.tolist(), rings.multi.tolist(), strict=True)
    ):
        parts = by_polygon[features[f] : features[f + 1]]
        coordinates = orjson.dumps(parts if multi else parts[0], option=orjson.OPT_SERIALIZE_NUMPY)
        out[position] = _OPEN[type_id] + coordinates + b"}"


@dataclass
class _Rings:
    """Polygonal features as flat arrays (shapely's ragged layout, multipolygons throughout).

    ``coords[rings[r]:rings[r + 1]]`` are the vertices of ring ``r``,
    ``rings[polygons[p]:polygons[p + 1]]`` the rings of polygon ``p`` (its shell first), and
    ``polygons[features[f]:features[f + 1]]`` the polygons of feature ``f``; ``multi[f]``: feature
    ``f`` is written as a MultiPolygon.
    """

    coords: np.ndarray
    rings: np.ndarray
    polygons: np.ndarray
    features: np.ndarray
    multi: np.ndarray

    @classmethod
    def of(cls, geoms: np.ndarray) -> _Rings:
        """The rings of non-empty polygons and multipolygons, in two dimensions (a ``z`` is
        dropped: a position is ``[lon, lat]``)."""
        kind, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
        if kind == shapely.GeometryType.POLYGON:
            rings, polygons = offsets
            features = np.arange(len(polygons))
        else:
            rings, polygons, features = offsets
        multi = shapely.get_type_id(geoms) == _MULTIPOLYGON
        return cls(coords, rings, polygons, features, multi)

    def geometries(self) -> np.ndarray:
        """The features as shapely multipolygons (for checks that do not mind the type)."""
        return shapely.from_ragged_array(
            shapely.GeometryType.MULTIPOLYGON,
            self.coords,
            (self.rings, self.polygons, self.features),
        )

    def has_empty_parts(self) -> np.ndarray:
        """Per feature: some polygon without rings or ring without vertices."""
        empty_ring = np.diff(self.rings) == 0
        empty_polygon = (np.diff(self.polygons) == 0) | _any_in(empty_ring, self.polygons)
        return _any_in(empty_polygon, self.features)

    def without_repeated_points(self) -> _Rings:
        """The same rings with consecutive equal vertices dropped (``remove_repeated_points``)."""
        coords = self.coords
        keep = np.ones(len(coords), dtype=bool)
        keep[1:] = (coords[1:, 0] != coords[:-1, 0]) | (coords[1:, 1] != coords[:-1, 1])
        keep[self.rings[:-1]] = True  # a ring starts afresh
        if keep.all():
            return self
        rings = np.concatenate([[0], np.cumsum(keep)])[self.rings]
        return _Rings(coords[keep], rings, self.polygons, self.features, self.multi)

    def orient(self) -> np.ndarray:
        """Wind shells counter-clockwise and holes clockwise (RFC 7946), in place.

        Every ring must have vertices. The winding is the sign of the ring's area, summed from
        the ring's first vertex (so the products are of the ring's own size, not of the
        coordinates).

        Returns
        -------
        numpy.ndarray of bool
            Per feature: some ring's area too small for its sign to be sure in floating point.
        """
        coords, starts = self.coords, self.rings[:-1]
        lengths = np.diff(self.rings)
        relative = coords[:, :2] - np.repeat(coords[starts, :2], lengths, axis=0)
        x, y = relative[:, 0], relative[:, 1]
        # Terms of each vertex with the next. A ring's last vertex is its first, (0, 0) from
        # the origin, so its term with the next ring's first vertex is 0: one sum per ring.
        left, right = x[:-1] * y[1:], x[1:] * y[:-1]
        area = np.add.reduceat(np.append(left - right, 0.0), starts)
        # A generous bound on the rounding error of the sum: no sign below it is trusted.
        size = np.append(np.abs(left) + np.abs(right), 0.0)
        error = np.add.reduceat(size, starts) * lengths * 4e-16
        shell = np.zeros(len(starts), dtype=bool)
        shell[self.polygons[:-1]] = True
        flip = (area > 0) != shell
        if flip.any():
            # Vertex i of a reversed ring [s, e) is taken from s + e - 1 - i, the others stay.
            base = np.repeat(np.where(flip, starts + self.rings[1:] - 1, 0), lengths)
            step = np.repeat(np.where(flip, -1, 1).astype(np.int8), lengths)
            self.coords = coords[base + step * np.arange(len(coords))]
        return _any_in(_any_in(np.abs(area) <= error, self.polygons), self.features)

    def subset(self, chosen: np.ndarray) -> _Rings:
        """The chosen features (a boolean per feature)."""
        if chosen.all():
            return self
        polygon_chosen = np.repeat(chosen, np.diff(self.features))
        ring_chosen = np.repeat(polygon_chosen, np.diff(self.polygons))
        vertex_chosen = np.repeat(ring_chosen, np.diff(self.rings))

        def offsets(counts: np.ndarray) -> np.ndarray:
            return np.concatenate([[0], np.cumsum(counts)])

        return _Rings(
            self.coords[vertex_chosen],
            offsets(np.diff(self.rings)[ring_chosen]),
            offsets(np.diff(self.polygons)[polygon_chosen]),
            offsets(np.diff(self.features)[chosen]),
            self.multi[chosen],
        )


def _any_in(flags: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per segment ``flags[offsets[i]:offsets[i + 1]]``: any flag set (False when empty)."""
    counts = np.concatenate([[0], np.cumsum(flags, dtype=np.int64)])
    return counts[offsets[1:]] > counts[offsets[:-1]]


def _round_as_geos(coords: np.ndarray, precision: int) -> np.ndarray:
    """``coords`` rounded to the ``10**-precision`` grid as GEOS's pointwise precision does.

    GEOS rounds ``value * scale`` half up (Java's ``Math.round``: 2.5 to 3, -2.5 to -2, -0.3 to
    -0.0) and divides by the scale. ``floor(v + 0.5)`` is that, but where the sum was rounded up
    to the next integer (0.49999999999999994 + 0.5 is 1.0 in floating point), which is taken
    back, and for the sign of a zero; from 2**52 on, a double is a whole number already.
    """
    scale = 10.0**precision
    scaled = coords * scale
    rounded = np.floor(scaled + 0.5)
    rounded -= rounded - 0.5 > scaled  # both sides exact below 2**52
    if len(scaled) and max(-scaled.min(), scaled.max()) >= 2.0**52:
        huge = np.abs(scaled) >= 2.0**52
        rounded[huge] = scaled[huge]
    return np.copysign(rounded, scaled, where=rounded == 0, out=rounded) / scale


def _property_texts(table: pd.DataFrame) -> list[bytes]:
    """Each row's ``properties`` object: numbers as numbers, missing values as ``null``.

    Columns become Python lists once (``tolist`` gives native ints and floats); a nullable
    integer column keeps its integers (``355``, never ``355.0``), as GDAL writes them.
    """
    columns = []
    for name in table.columns:
        column = table[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            column = column.dt.strftime("%Y-%m-%dT%H:%M:%S")  # GDAL's form of a DateTime field
        values = column.astype(object).where(column.notna(), None).tolist()
        columns.append(values)
    names = [str(c) for c in table.columns]
    return [orjson.dumps(dict(zip(names, row, strict=True))) for row in zip(*columns, strict=True)]
