"""The map's TopoJSON: the topology the page decodes (real HSS, Lahat and Kalsel desa)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
import topojson
from conftest import KALSEL_DESA, LAHAT_DESA, need

from povmap.render.topo import GRID_M, TopologyData, build_topology, topology_of
from povmap.simplify import simplify_coverage


def _layers(desa: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    groups = desa.groupby("kode_kec", sort=True)
    kecamatan = gpd.GeoDataFrame(
        geometry=[shapely.union_all(g.geometry.values) for _, g in groups], crs=4326
    )
    return {"desa": desa[["nama", "geometry"]], "kecamatan": kecamatan}


@pytest.fixture(scope="module")
def layers(hss_raw):
    return _layers(simplify_coverage(hss_raw))


def _steps(layer: gpd.GeoDataFrame) -> int:
    minx, miny, maxx, maxy = layer.total_bounds
    return int(min(max(max(maxx - minx, maxy - miny) * 111_320.0 / GRID_M, 1_000), 1_000_000))


def _decoded(topology: dict) -> dict[str, list]:
    """Each feature as its polygons' rings of grid points, each ring from its smallest point in
    its smaller direction (so two encodings of one ring compare equal)."""
    arcs = [np.cumsum(np.asarray(a, dtype=np.int64), axis=0).tolist() for a in topology["arcs"]]

    def ring(ids: list[int]) -> tuple:
        points: list[tuple] = []
        for i in ids:
            arc = arcs[i] if i >= 0 else arcs[~i][::-1]
            points.extend(map(tuple, arc if not points else arc[1:]))
        return _canonical(points)

    out = {}
    for name, obj in topology["objects"].items():
        features: list = []
        for g in obj["geometries"]:
            polygons = [g["arcs"]] if g["type"] == "Polygon" else g.get("arcs") or []
            features.append(sorted(tuple(sorted(ring(r) for r in p)) for p in polygons))
        out[name] = features
    return out


def _canonical(points: list[tuple]) -> tuple:
    """A ring's points without repeats and closing point, from its smallest point, in the
    direction whose second point is smaller."""
    points = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    points = points[:-1] if len(points) > 1 and points[0] == points[-1] else points
    start = points.index(min(points))
    forwards = points[start:] + points[:start]
    return min(tuple(forwards), tuple(forwards[:1] + forwards[:0:-1]))


def _topojson(layers: dict[str, gpd.GeoDataFrame]) -> dict:
    frames = [gpd.GeoDataFrame(geometry=g.geometry.values, crs=4326) for g in layers.values()]
    return topojson.Topology(
        frames,
        object_name=list(layers),
        prequantize=_steps(frames[0]),
        presimplify=False,
        toposimplify=False,
    ).to_dict()


@pytest.mark.parametrize("path", [LAHAT_DESA, KALSEL_DESA], ids=["lahat", "kalsel"])
def test_topology_decodes_to_what_topojson_gives_for_the_map_coverage(path):
    layers = _layers(simplify_coverage(gpd.read_file(need(path))))
    ours, theirs = build_topology(layers), _topojson(layers)
    assert ours["transform"] == theirs["transform"]
    assert _decoded(ours) == _decoded(theirs)
    # Each shared edge is stored once: no more arcs than topojson needs, give or take a few
    # rings cut at another point.
    assert len(ours["arcs"]) <= 1.01 * len(theirs["arcs"])
    desa = ours["objects"]["desa"]["geometries"]
    assert [g["properties"]["nama"] for g in desa] == layers["desa"]["nama"].tolist()


def test_raw_rings_are_encoded_exactly_as_quantized(hss_raw):
    # A layer that is not a clean coverage (neighbours overlap, vertices differ): every ring
    # decodes to its own quantized points, none added or moved.
    topology = topology_of([hss_raw.geometry.values], ["desa"])
    scale, translate = topology["transform"]["scale"], topology["transform"]["translate"]
    expected = []
    for polygon in hss_raw.geometry.values:
        rings = shapely.get_rings(shapely.get_parts(polygon))
        grids = [np.round((shapely.get_coordinates(r) - translate) / scale) for r in rings]
        expected.append(
            sorted(_canonical([tuple(p) for p in g.astype(int).tolist()]) for g in grids)
        )
    decoded = [sorted(r for p in feature for r in p) for feature in _decoded(topology)["desa"]]
    assert decoded == expected


def test_a_missing_geometry_stays_a_feature_without_geometry(hss_raw):
    shapes = np.array(hss_raw.geometry.values[:4], dtype=object)  # a copy: not the fixture
    shapes[1], shapes[2] = None, shapely.Polygon()
    geometries = topology_of([shapes], ["desa"])["objects"]["desa"]["geometries"]
    assert [g["type"] for g in geometries] == ["Polygon", None, None, "Polygon"]
    # A layer with no geometry at all (first or only) is an empty topology, not an error.
    empty = topology_of([shapes[1:3], shapes[:1]], ["a", "b"])
    assert [g["type"] for g in empty["objects"]["a"]["geometries"]] == [None, None]
    assert topology_of([shapes[1:3]], ["a"])["arcs"] == []


def test_topology_data_from_layers_equals_the_one_from_build_topology(layers):
    layers = {**layers, "kecamatan": layers["kecamatan"].assign(k=[3, -1] * 5 + [0])}
    fast = TopologyData.from_layers(layers)
    slow = TopologyData(build_topology(layers))
    assert fast.json == slow.json
    assert fast.columns == slow.columns and fast.props_json == slow.props_json
    assert fast.columns["kecamatan"]["k"][:3] == [3, -1, 3]
    assert len(fast.columns["desa"]["nama"]) == 148
