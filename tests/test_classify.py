"""Class breaks and their labels."""

from __future__ import annotations

import mapclassify
import numpy as np
import pytest

import povmap
from povmap.classify import NO_DATA_CLASS, make_classification

VALUES = np.array([0.2, 0.5, 0.9, 1.09, 1.5, 2.2, 3.0, 4.5, 7.25, 9.3, np.nan])


@pytest.mark.parametrize("scheme", ["quantiles", "fisher_jenks", "equal_interval"])
def test_breaks_match_mapclassify(scheme):
    c = make_classification(VALUES, column="persen_miskin_ekstrem", scheme=scheme, k=4)
    expected = mapclassify.classify(VALUES[~np.isnan(VALUES)], scheme=scheme, k=4).bins
    np.testing.assert_allclose(c.bins, expected)
    assert c.lower == 0.2 and len(c.colors) == c.k == 4


def test_assign_is_inclusive_upper_edge_and_marks_missing():
    c = make_classification(VALUES, column="persen_miskin_ekstrem", breaks=[1.09, 3.0])
    assert c.scheme == "user"
    assert c.bins == (1.09, 3.0, 9.3)
    classes = c.assign(VALUES)
    assert classes.tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, NO_DATA_CLASS]


def test_labels_are_indonesian_numbers():
    c = make_classification(VALUES, column="persen_miskin_ekstrem", breaks=[1.09, 3.0])
    assert c.labels("id") == ["0,20 – 1,09", "1,09 – 3,00", "3,00 – 9,30"]
    assert c.labels("en") == ["0.20 – 1.09", "1.09 – 3.00", "3.00 – 9.30"]
    assert c.no_data_label("id") == "Tidak ada data"
    counts = make_classification([1200, 5400, 13000], column="jumlah_miskin_ekstrem", k=2)
    assert counts.labels("id")[-1].endswith("13.000")


def test_fewer_distinct_values_than_classes():
    c = make_classification([1.0, 1.0, 2.0], column="persen_miskin_ekstrem", k=5)
    assert c.k <= 2


@pytest.mark.parametrize("kwargs, word", [({"scheme": "jenks"}, "scheme"), ({"k": 12}, "k=12"),
                                          ({"breaks": [3, 1]}, "breaks")])
def test_bad_parameters_are_named(kwargs, word):
    with pytest.raises(povmap.PovmapInputError, match=word):
        make_classification(VALUES, column="persen_miskin_ekstrem", **kwargs)


def test_desil_share_gets_its_own_colours_and_label():
    c = make_classification(VALUES, column="persen_desil_1", k=3)
    reds = make_classification(VALUES, column="persen_miskin_ekstrem", k=3)
    assert c.colors != reds.colors
    assert "bukan tingkat kemiskinan" in povmap.i18n.label("persen_desil_1", "id")
