"""The command line speaks the user's language: help, usage errors and click's own words follow
``--lang`` (or ``POVMAP_LANG``); options are English, their povmap 0.1 spellings still work."""

from __future__ import annotations

import gettext
import json

import click
import pytest
from click.testing import CliRunner
from conftest import invoke

from povmap._messages import catalogue
from povmap.cli import argv_lang, main
from povmap.export.metadata import OLD_KEYS, MetadataConfig, load_config

#: Option spellings of povmap 0.1 and the English ones that replace them.
RENAMED = {
    "--kantong": "--pockets",
    "--organisasi": "--organization",
    "--lisensi": "--license",
    "--min-berdata": "--min-coverage",
}


def test_help_is_indonesian_by_default_and_english_with_lang_en():
    code, out = invoke("map", "--help")
    assert code == 0
    first = out.splitlines()[0]  # the program's name is the runner's
    assert first.startswith("Penggunaan: ") and first.endswith(" map [OPSI] BATAS TABEL")
    assert "Opsi:" in out and "Tampilkan pesan ini lalu keluar." in out
    assert "Buat peta choropleth" in out and "[bawaan: desa]" in out
    assert "Usage:" not in out and "Show this message" not in out
    code, out = invoke("map", "--help", "--lang", "en")
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("Usage: ") and first.endswith(" map [OPTIONS] BOUNDARIES COUNTS")
    assert "Options:" in out and "Show this message and exit." in out
    assert "Make a choropleth map" in out and "[default: desa]" in out
    assert "Penggunaan" not in out and "Buat peta" not in out
    # The group's own help too, in both languages, and each language again after the other.
    assert "Perintah:" in invoke("--help")[1]
    assert "Commands:" in invoke("--help", "--lang=en")[1]
    assert "Tampilkan pesan ini" in invoke("join", "-h")[1]
    assert ", versi 0" in invoke("--version")[1]
    assert ", version 0" in invoke("--version", "--lang", "en")[1]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", "Galat: Argumen tidak ada: 'TABEL'."),
        ("en", "Error: Missing argument 'COUNTS'."),
    ],
)
def test_usage_errors_follow_lang_even_after_the_error_point(lang, expected):
    """``--lang en`` after the missing argument still turns the message English; exit code 2
    (wrong usage, README), never a traceback."""
    code, out = invoke("map", "batas.shp", *(["--lang", "en"] if lang == "en" else []))
    assert code == 2
    assert out.rstrip().endswith(expected)
    assert "Traceback" not in out


def test_unknown_option_and_bad_choice_in_indonesian():
    code, out = invoke("map", "a.shp", "b.csv", "-o", "p.html", "--levle", "desa")
    assert code == 2 and "Galat: Opsi '--levle' tidak ada. (Maksudnya salah satu dari:" in out
    code, out = invoke("map", "a.shp", "b.csv", "-o", "p.html", "--level", "provinsi")
    assert code == 2
    assert "Nilai tidak valid untuk '--level': 'provinsi' bukan salah satu dari" in out
    code, out = invoke(
        "map", "a.shp", "b.csv", "-o", "p.html", "--level", "provinsi", "--lang", "en"
    )
    assert code == 2 and "Invalid value for '--level': 'provinsi' is not one of" in out


def test_povmap_lang_sets_the_default(monkeypatch):
    monkeypatch.setenv("POVMAP_LANG", "en")
    assert invoke("map", "--help")[1].startswith("Usage:")
    assert invoke("map", "--help", "--lang", "id")[1].startswith("Penggunaan:")
    assert argv_lang(["map"]) == "en"
    monkeypatch.setenv("POVMAP_LANG", "fr")  # not a language povmap speaks: Indonesian
    assert argv_lang(["map"]) == "id"
    monkeypatch.setenv("POVMAP_LANG", " EN ")  # as a person may set it: English
    assert argv_lang(["map"]) == "en"
    assert invoke("map", "--help")[1].startswith("Usage:")


def test_click_is_left_as_it_was():
    """click's gettext hooks are povmap's only while a povmap command line runs."""
    invoke("map", "--help")
    assert click.core._ is gettext.gettext and click.exceptions.ngettext is gettext.ngettext


def _options():
    """Every shown option: the group's (``povmap --quiet``) and each command's."""
    for name, command in [("povmap", main), *main.commands.items()]:
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                yield name, param


def test_every_option_has_help_in_both_languages():
    entries = catalogue()
    missing = [
        f"{name} {param.opts[0]}"
        for name, param in _options()
        if f"help.{name}.{param.name}" not in entries and f"help.option.{param.name}" not in entries
    ]
    assert missing == []
    commands = [
        name for name in ["povmap", *main.commands] if f"help.command.{name}" not in entries
    ]
    assert commands == []
    # No help entry for an option or command that does not exist (a renamed one left behind).
    names = {param.name for _, param in _options()} | {"version"}
    stale = [key for key in entries if key.startswith("help.option.") and key[12:] not in names]
    stale += [
        key
        for key in entries
        if key.startswith("help.command.") and key[13:] not in {"povmap", *main.commands}
    ]
    assert stale == []


def test_options_are_english():
    """Python names and options in English (README, contracts); the old spellings are hidden."""
    shown = {
        opt for _, param in _options() for opt in param.opts if opt != getattr(param, "old", None)
    }
    assert not shown & set(RENAMED)
    assert set(RENAMED.values()) <= shown
    for old in RENAMED:
        assert old not in invoke("export", "--help")[1] + invoke("map", "--help")[1]


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED.items()))
def test_old_option_spellings_still_work(old, new):
    """Both spellings give the command the same value."""
    command = main.commands["export"]
    value = [] if old == "--kantong" else ["60" if old == "--min-berdata" else "CC BY 4.0"]
    base = ["a.shp", "b.csv", "-o", "out"]
    with (
        command.make_context("export", [*base, old, *value]) as ctx_old,
        command.make_context("export", [*base, new, *value]) as ctx_new,
    ):
        assert ctx_old.params == ctx_new.params
        name = new[2:].replace("-", "_")
        assert ctx_new.params[name] == (
            True if not value else 60.0 if new == "--min-coverage" else "CC BY 4.0"
        )


def test_metadata_keys_of_the_old_release_are_read(tmp_path):
    old, new = tmp_path / "lama.json", tmp_path / "baru.toml"
    old.write_text(
        json.dumps(
            {
                "organisasi": "Bappeda",
                "lisensi": "CC BY 4.0",
                "judul": "Peta",
                "kata_kunci": ["P3KE"],
                "periode_data": "P3KE 2024",
            }
        )
    )
    new.write_text(
        'organization = "Bappeda"\nlicense = "CC BY 4.0"\ntitle = "Peta"\n'
        'keywords = ["P3KE"]\ndata_period = "P3KE 2024"\n'
    )
    assert (
        load_config(old)
        == load_config(new)
        == MetadataConfig(
            title="Peta",
            organization="Bappeda",
            license="CC BY 4.0",
            keywords=("P3KE",),
            data_period="P3KE 2024",
        )
    )
    both = tmp_path / "dua.toml"
    both.write_text('lisensi = "CC BY 4.0"\nlicense = "CC0"\n')
    with pytest.raises(Exception, match="license") as info:
        load_config(both)
    assert "lisensi" in str(info.value)
    # Every old key names a field that exists.
    assert set(OLD_KEYS.values()) <= set(MetadataConfig.__dataclass_fields__)


def test_export_with_the_new_options_fills_the_metadata(tmp_path):
    """End to end on the demo region: --organization and --license reach the ISO metadata."""
    from conftest import DEMO_COUNTS, DEMO_DESA

    result = CliRunner().invoke(
        main,
        [
            "export",
            str(DEMO_DESA),
            str(DEMO_COUNTS),
            "-o",
            str(tmp_path / "out"),
            "--organization",
            "Bappeda Contoh",
            "--license",
            "CC BY 4.0",
            "--email",
            "a@b.id",
        ],
    )
    assert result.exit_code == 0, result.output
    xml = (tmp_path / "out" / "desa.xml").read_text(encoding="utf-8")
    assert "Bappeda Contoh" in xml and "CC BY 4.0" in xml and "[isi: organisasi]" not in xml


def test_min_coverage_keeps_its_old_python_name_for_one_release():
    """``classify(min_berdata=...)`` (povmap 0.1) classifies exactly as ``min_coverage``."""
    from conftest import DEMO_COUNTS, DEMO_DESA

    import povmap

    joined = povmap.join(
        povmap.read_boundaries(DEMO_DESA).gdf, povmap.read_counts(DEMO_COUNTS)
    ).joined
    # 60 % of one kecamatan's desa lose their population: it rests on 40 % of its desa.
    first = joined["kode_kecamatan"] == joined["kode_kecamatan"].iloc[0]
    blank = joined.index[first][: int(0.6 * first.sum())]
    joined.loc[blank, "jumlah_penduduk"] = float("nan")
    kec = povmap.aggregate(povmap.add_rates(joined), "kecamatan")
    default = povmap.classify(kec).gdf["kelas"].tolist()
    new = povmap.classify(kec, min_coverage=0.3).gdf["kelas"].tolist()
    assert -2 in default and -2 not in new
    assert povmap.classify(kec, min_berdata=0.3).gdf["kelas"].tolist() == new
