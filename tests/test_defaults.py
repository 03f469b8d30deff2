"""Each default is defined once (povmap.defaults) and the CLI, the options and the API agree."""

from __future__ import annotations

import inspect

import click
import pytest

import povmap
from povmap import defaults
from povmap._errors import LANGS
from povmap.cli import main
from povmap.export import BundleOptions, write_geojson
from povmap.export.writers import check_precision
from povmap.pipeline import Options
from povmap.pockets import find_pockets, weights_for


def _params(command: str) -> dict[str, click.Parameter]:
    return {p.name: p for p in main.commands[command].params}


def _default(function, name: str):
    return inspect.signature(function).parameters[name].default


def test_pocket_defaults_agree():
    cli = _params("pockets")
    for name, value in (
        ("alpha", defaults.ALPHA),
        ("permutations", defaults.PERMUTATIONS),
        ("seed", defaults.SEED),
        ("snap_m", defaults.SNAP_M),
    ):
        assert cli[name].default == _default(find_pockets, name) == value, name
    assert _default(weights_for, "snap_m") == defaults.SNAP_M


def test_fuzzy_threshold_agrees():
    for command in ("join", "map", "export", "pockets"):
        assert _params(command)["fuzzy_threshold"].default == defaults.FUZZY_THRESHOLD
    assert Options().fuzzy_threshold == defaults.FUZZY_THRESHOLD
    assert _default(povmap.join, "fuzzy_threshold") == defaults.FUZZY_THRESHOLD


def test_precision_agrees_and_is_checked_once():
    option = _params("export")["precision"]
    assert option.default == BundleOptions().precision == _default(write_geojson, "precision")
    assert option.type.max == defaults.MAX_PRECISION
    with pytest.raises(povmap.PovmapInputError, match="0 sampai 15"):
        BundleOptions(precision=defaults.MAX_PRECISION + 1).checked()
    with pytest.raises(povmap.PovmapInputError, match="0 sampai 15"):
        check_precision(-1)


def test_languages_agree():
    for command in ("join", "map", "export", "pockets", "demo"):
        assert tuple(_params(command)["lang"].type.choices) == LANGS
