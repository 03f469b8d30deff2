"""The Python API as an analyst uses it in a notebook: hand-built frames, inputs left untouched."""

from __future__ import annotations

import pandas as pd
from conftest import HSS_DESA, make_counts, need

import povmap
from povmap.pockets import find_pockets


def test_hand_built_table_and_inputs_untouched(hss_raw):
    desa = povmap.read_boundaries(need(HSS_DESA)).gdf
    counts = make_counts(hss_raw, seed=11)  # no "baris": built in a notebook, not read from a file
    counts.loc[::3, "kode_wilayah"] = None  # a third of the rows must match by name
    counts["nama_desa"] = counts["nama_desa"].str.upper()
    before_desa, before_counts = desa.drop(columns="geometry").copy(), counts.copy()

    result = povmap.join(desa, counts)
    layer = povmap.classify(povmap.add_rates(result.joined))
    povmap.aggregate(layer, "kecamatan")
    find_pockets(layer, permutations=999)

    assert result.report.matched == 148 and result.report.matched_by["name"] >= 45
    assert sorted(layer["baris"]) == list(range(1, 149))  # rows numbered 1, 2, ... by position
    pd.testing.assert_frame_equal(desa.drop(columns="geometry"), before_desa)
    pd.testing.assert_frame_equal(counts, before_counts)
