"""Every message in Indonesian by default and in English with ``--lang en``: errors and notes."""

from __future__ import annotations

import ast
import json
import pickle
import string
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import DEMO_COUNTS, DEMO_DESA, HSS_DESA, KALSEL_DESA, LAHAT_DESA, make_counts, need

import povmap
from povmap._errors import PovmapError, PovmapInputError, Text, in_lang
from povmap._messages import text
from povmap.cli import main

SRC = Path(povmap.__file__).resolve().parent
ERRORS = {"PovmapError", "PovmapInputError", "OfflineAssetError"}


def _error_calls() -> list[tuple[str, ast.Call]]:
    """Every error povmap builds: ``Error(...)`` or ``Error.from_catalogue(...)``."""
    calls = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr == "from_catalogue":
                    func = func.value
                name = getattr(func, "id", getattr(func, "attr", None))
                if name in ERRORS:
                    calls.append((f"{path.relative_to(SRC)}:{node.lineno}", node))
    return calls


def test_every_error_raised_in_povmap_has_an_english_text():
    calls = _error_calls()
    assert len(calls) > 80  # the walk found the raise sites (about 90 today)
    # From the catalogue (both languages, tests/test_catalogue.py), or with en= beside it.
    missing = [
        where
        for where, call in calls
        if not (
            getattr(call.func, "attr", None) == "from_catalogue"
            or any(k.arg == "en" for k in call.keywords)
        )
    ]
    assert missing == [], f"add en='...' (the English message) to: {missing}"
    # A copy of the Indonesian text is no translation.
    same = [
        where
        for where, call in calls
        for k in call.keywords
        if k.arg == "en" and call.args and ast.dump(k.value) == ast.dump(call.args[0])
    ]
    assert same == [], f"en= repeats the Indonesian message at: {same}"


def test_error_keeps_indonesian_str_and_gives_english_on_request():
    exc = PovmapInputError("Berkas tabel tidak ditemukan: a.csv", en="Table file not found: a.csv")
    assert str(exc) == "Berkas tabel tidak ditemukan: a.csv"
    assert exc.message() == exc.message("id") == str(exc)
    assert exc.message("en") == "Table file not found: a.csv"
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is PovmapInputError and again.message("en") == exc.message("en")
    # No English given: both languages get the one text there is.
    assert PovmapError("hanya ini").message("en") == "hanya ini"
    with pytest.raises(PovmapInputError, match="lang='fr'"):
        exc.message("fr")


def test_text_is_a_string_that_carries_its_english():
    note = Text("2 geometri tidak valid diperbaiki", en="2 invalid geometries repaired")
    assert note == "2 geometri tidak valid diperbaiki" and "geometri" in note
    assert in_lang(note, "en") == "2 invalid geometries repaired"
    assert in_lang(note, "id") == "2 geometri tidak valid diperbaiki"
    assert in_lang("tanpa terjemahan", "en") == "tanpa terjemahan"
    assert json.loads(json.dumps([note])) == ["2 geometri tidak valid diperbaiki"]
    assert pickle.loads(pickle.dumps(note)).en == note.en


def test_api_errors_carry_english_for_the_same_case(tmp_path):
    with pytest.raises(PovmapInputError) as info:
        povmap.read_counts(tmp_path / "tidak_ada.csv")
    assert str(info.value).startswith("Berkas tabel tidak ditemukan")
    assert info.value.message("en") == f"Table file not found: {tmp_path / 'tidak_ada.csv'}"


@pytest.fixture(scope="module")
def bad_cell_csv(tmp_path_factory) -> Path:
    """Real HSS codes, with a word where row 4's population should be."""
    counts = make_counts(gpd.read_file(need(HSS_DESA)), seed=6306)
    counts = counts.astype({"jumlah_penduduk": object})
    counts.loc[2, "jumlah_penduduk"] = "banyak"  # data row 3 = file row 4 under the header
    path = tmp_path_factory.mktemp("pesan") / "jumlah.csv"
    counts.to_csv(path, index=False)
    return path


def _join(*args: object) -> object:
    return CliRunner().invoke(main, ["join", *map(str, args)])


def test_bad_cell_in_english_names_file_row_and_column(bad_cell_csv, tmp_path):
    result = _join(HSS_DESA, bad_cell_csv, "-o", tmp_path / "j.gpkg", "--lang", "en")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert (
        f"{bad_cell_csv}, row 4, column 'jumlah_penduduk': 'banyak' is not a number"
        in result.stderr
    )
    assert "Galat" not in result.stderr and "bukan angka" not in result.stderr
    assert "Traceback" not in result.output


def test_bad_cell_in_indonesian_by_default(bad_cell_csv, tmp_path):
    result = _join(HSS_DESA, bad_cell_csv, "-o", tmp_path / "j.gpkg")
    assert result.exit_code == 1
    assert result.stderr.startswith("Galat: ")
    assert (
        f"{bad_cell_csv}, baris 4, kolom 'jumlah_penduduk': 'banyak' bukan angka" in result.stderr
    )
    assert "Error:" not in result.stderr


def test_missing_boundary_file_in_english(tmp_path):
    missing = tmp_path / "batas.geojson"
    result = _join(missing, need(DEMO_COUNTS), "-o", tmp_path / "j.gpkg", "--lang", "en")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: Boundary file not found: {missing}"


def test_impossible_values_listed_by_row_in_english(tmp_path):
    counts = pd.read_csv(need(DEMO_COUNTS), dtype=str)
    column = next(c for c in counts.columns if "miskin" in c.lower())
    counts.loc[0, column] = "-5"
    path = tmp_path / "negatif.csv"
    counts.to_csv(path, index=False)
    result = _join(need(DEMO_DESA), path, "-o", tmp_path / "j.gpkg", "--lang", "en")
    assert result.exit_code == 1, result.output
    # One impossible value: the English singular, not "1 values".
    assert "negatif.csv: 1 value cannot be true:" in result.stderr
    assert "  - row 2: " in result.stderr and "is negative (-5)" in result.stderr
    assert "--allow-invalid" in result.stderr and "baris" not in result.stderr


def test_unexpected_error_line_follows_lang(monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise RuntimeError("rusak")

    monkeypatch.setattr("povmap.pipeline.run", broken)  # the CLI imports it per command
    monkeypatch.delenv("POVMAP_DEBUG", raising=False)
    args = [need(DEMO_DESA), need(DEMO_COUNTS), "-o", tmp_path / "j.gpkg"]
    english = _join(*args, "--lang", "en")
    assert english.exit_code == 1
    assert english.stderr.startswith("Unexpected error in povmap (RuntimeError: rusak)")
    assert "POVMAP_DEBUG=1" in english.stderr
    assert _join(*args).stderr.startswith("Galat tak terduga di povmap (RuntimeError: rusak)")


def test_malformed_breaks_are_a_usage_error_in_english(tmp_path):
    args = [
        "map",
        need(DEMO_DESA),
        need(DEMO_COUNTS),
        "-o",
        tmp_path / "p.html",
        "--breaks",
        "5,1",
        "--lang",
        "en",
    ]
    result = CliRunner().invoke(main, list(map(str, args)))
    assert result.exit_code == 2
    assert "class limits must rise" in result.output


def test_lahat_repairs_are_noted_in_english_and_both_languages_in_the_report(tmp_path):
    lahat = gpd.read_file(need(LAHAT_DESA))
    make_counts(lahat, seed=1604).to_csv(tmp_path / "lahat.csv", index=False)
    report = tmp_path / "laporan.json"
    result = _join(
        LAHAT_DESA,
        tmp_path / "lahat.csv",
        "-o",
        tmp_path / "j.gpkg",
        "--report",
        report,
        "--lang",
        "en",
    )
    assert result.exit_code == 0, result.output
    assert "! 2 invalid geometries repaired (make_valid): " in result.stderr
    assert "16.04.23.2006" in result.stderr
    assert "geometri tidak valid" not in result.stderr
    written = json.loads(report.read_text(encoding="utf-8"))
    assert len(written["notes"]) == len(written["notes_en"]) >= 1
    assert any(n.startswith("2 geometri tidak valid diperbaiki") for n in written["notes"])
    assert any(n.startswith("2 invalid geometries repaired") for n in written["notes_en"])
    assert all(isinstance(n, str) for n in written["notes"])  # the contract's type is unchanged


def test_export_metadata_note_follows_lang(tmp_path):
    args = [
        "export",
        need(DEMO_DESA),
        need(DEMO_COUNTS),
        "-o",
        tmp_path / "out",
        "--format",
        "geojson",
    ]
    english = CliRunner().invoke(main, list(map(str, [*args, "--lang", "en"])))
    assert english.exit_code == 0, english.output
    assert 'Note: the metadata still holds the placeholder [isi: ...] ("fill in") for ' in (
        english.stderr
    )
    assert "Catatan:" not in english.stderr
    args[4] = tmp_path / "keluaran"
    indonesian = CliRunner().invoke(main, list(map(str, args)))
    assert "Catatan: metadata masih berisi [isi: ...]" in indonesian.stderr


@pytest.mark.parametrize(
    ("key", "count"),
    [
        ("legend.of", "total"),
        ("tooltip.of", "total"),
        ("boundaries.pairs_areas_overlap_more", "n_partial"),
        ("trend.rows_coded_another_edition", "n_moved"),
    ],
)
def test_english_singular_when_the_count_is_one(key, count):
    from povmap import _messages

    english = _messages.entry(key)["en"]
    fields = {name: "x" for _, name, _, _ in string.Formatter().parse(english) if name}
    one = _messages.text(key, "en", **{**fields, count: 1})
    many = _messages.text(key, "en", **{**fields, count: 3})
    assert one != many
    assert " 1 " in f" {one} " and " 3 " in f" {many} "
    # The Indonesian form needs no plural: it is the same text with the number changed.
    one_id = " " + _messages.text(key, "id", **{**fields, count: 1})
    assert one_id.replace(" 1 ", " 3 ") == " " + _messages.text(key, "id", **{**fields, count: 3})


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (
            {"pockets": 1, "kantong": 1, "pencilan_tinggi": 1, "islands": 1},
            "1 poverty pocket (1 village), 1 poor village among better-off ones; 1 island village "
            "linked to its nearest neighbours.",
        ),
        (
            {"pockets": 2, "kantong": 9, "pencilan_tinggi": 0, "islands": 3},
            "2 poverty pockets (9 villages), 0 poor villages among better-off ones; 3 island "
            "villages linked to their nearest neighbours.",
        ),
    ],
)
def test_every_count_of_a_message_gets_its_own_english_number(counts, expected):
    """A message with several counts: each noun follows its own count ({n:word|words})."""
    from povmap._messages import text

    assert text("pockets.summary", "en", **counts) == expected
    # The Indonesian text has no plural to choose, and the numbers are written as given.
    assert text("pockets.summary", "id", **counts).startswith(f"{counts['pockets']} kantong")


def test_counts_in_messages_are_written_as_numbers_in_the_language(tmp_path):
    # Kalimantan Selatan's 2,008 desa, 1,200 with an impossible (negative) count: the stop says
    # "1.200 nilai" (id) and "1,200 values" (en), as every number povmap writes, not "1200".
    counts = make_counts(gpd.read_file(need(KALSEL_DESA)))
    counts.loc[counts.index[:1200], "jumlah_miskin_ekstrem"] = -3
    path = tmp_path / "jumlah.csv"
    counts.to_csv(path, index=False)
    for lang, expected in (
        ("id", "jumlah.csv: 1.200 nilai tidak"),
        ("en", "jumlah.csv: 1,200 values"),
    ):
        args = ["map", str(need(KALSEL_DESA)), str(path), "-o", str(tmp_path / "x.html")]
        result = CliRunner().invoke(main, [*args, "--lang", lang])
        assert result.exit_code == 1, result.output
        assert expected in result.output
        assert not (tmp_path / "x.html").exists()
    # A count of one still takes the singular form.
    one = text("validate.impossible", "en", source="a", n_blocking=1, problems="p")
    assert one.startswith("a: 1 value cannot be true")
