"""The map's TopoJSON: what the page decodes is the topology topojson builds (real HSS desa)."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from povmap.render.topo import GRID_M, TopologyData, _topology, build_topology
from povmap.simplify import simplify_coverage


@pytest.fixture(scope="module")
def layers(hss_raw):
    web = simplify_coverage(hss_raw)
    groups = web.groupby("kode_kec", sort=True)
    kecamatan = gpd.GeoDataFrame(
        geometry=[shapely.coverage_union_all(g.geometry.values) for _, g in groups], crs=4326
    )
    return {"desa": web[["nama", "geometry"]], "kecamatan": kecamatan}


def test_topology_is_topojsons_to_dict(layers):
    built = build_topology(layers)
    assert built == _topology(layers, GRID_M).to_dict()
    assert set(built) == {"type", "objects", "bbox", "transform", "arcs"}
    assert len(built["objects"]["desa"]["geometries"]) == 148


def test_topology_data_from_layers_equals_the_one_from_build_topology(layers):
    layers = {**layers, "kecamatan": layers["kecamatan"].assign(k=[3, -1] * 5 + [0])}
    fast = TopologyData.from_layers(layers)
    slow = TopologyData(build_topology(layers))
    assert fast.json == slow.json
    assert fast.columns == slow.columns and fast.props_json == slow.props_json
    assert fast.columns["kecamatan"]["k"][:3] == [3, -1, 3]
    assert len(fast.columns["desa"]["nama"]) == 148
