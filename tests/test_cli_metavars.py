"""Usage lines and help name arguments and values in the run's language; --breaks is unambiguous."""

from __future__ import annotations

import re

import pytest
from conftest import invoke

COMMANDS = ("map", "join", "export", "pockets", "trend", "sasaran")
ENGLISH_KINDS = re.compile(r"--[a-z-]+ (TEXT|INTEGER|FLOAT|FILE|PATH|DIRECTORY)\b")
INDONESIAN_KINDS = re.compile(r"--[a-z-]+ (TEKS|BILANGAN|ANGKA|BERKAS|JALUR|BATAS\w*)\b")


@pytest.mark.parametrize(
    "lang,expected",
    [
        ("id", "Argumen tidak ada: 'BATAS'"),
        ("en", "Missing argument 'BOUNDARIES'"),
    ],
)
def test_missing_argument_named_in_the_language(lang, expected):
    code, out = invoke("--lang", lang, "map")
    assert code == 2
    assert expected in out


@pytest.mark.parametrize(
    "lang,command,usage",
    [
        ("id", "map", "map [OPSI] BATAS TABEL"),
        ("en", "map", "map [OPTIONS] BOUNDARIES COUNTS"),
        ("id", "trend", "trend [OPSI] BATAS TABEL..."),
        ("en", "trend", "trend [OPTIONS] BOUNDARIES TABLES..."),
        ("id", "sasaran", "sasaran [OPSI] BATAS REGISTER"),
        ("en", "sasaran", "sasaran [OPTIONS] BOUNDARIES REGISTER"),
    ],
)
def test_usage_line_in_the_language(lang, command, usage):
    code, out = invoke("--lang", lang, command, "--help")
    assert code == 0 and usage in out, out


@pytest.mark.parametrize(
    "lang,wrong,right",
    [
        ("id", ENGLISH_KINDS, "--breaks BATAS_KELAS"),
        ("en", INDONESIAN_KINDS, "--breaks LIMITS"),
    ],
)
def test_option_values_named_in_the_language(lang, wrong, right):
    # Both languages in one process: the names follow each run's --lang.
    for command in COMMANDS:
        code, out = invoke("--lang", lang, command, "--help")
        assert code == 0
        assert wrong.findall(out) == [], (command, out)
    assert right in " ".join(invoke("--lang", lang, "map", "--help")[1].split())


def test_breaks_hint_is_unambiguous_for_indonesians():
    out = " ".join(invoke("map", "--help")[1].split())
    assert "dipisah titik koma, dengan koma desimal, mis. 1;2,5;5;10." in out
    code, out = invoke("map", "a.geojson", "b.csv", "-o", "p.html", "--breaks", "1;x")
    assert code == 2
    assert (
        "tulis batas kelas dipisah titik koma, dengan koma desimal, mis. 1;2,5;5 "
        "(atau dipisah koma dengan titik desimal: 1,2.5,5)"
    ) in " ".join(out.split())
