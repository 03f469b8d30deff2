"""The message catalogue (``messages.toml``): complete, bilingual, used, and data-safe."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

import povmap
from povmap._errors import PovmapInputError
from povmap._messages import Text, _Fill, catalogue, entry, keys, message, text
from povmap.i18n import label, number_text

SRC = Path(povmap.__file__).resolve().parent
#: Modules whose inline ``en=`` texts are not in the catalogue yet (empties as they convert).
NOT_YET: set[str] = set()
#: Calls whose first argument is a catalogue id (``label`` takes it without ``label.``).
LOOKUPS = {"text": "", "message": "", "from_catalogue": "", "label": "label."}


def _fields(template: str) -> list[str]:
    # A field may appear twice (``{n} {n:row|rows}``): its name counts once.
    parsed = string.Formatter().parse(template)
    return sorted({name for _, name, _, _ in parsed if name is not None})


def _sources() -> dict[str, ast.Module]:
    return {
        str(p.relative_to(SRC)): ast.parse(p.read_text(encoding="utf-8"))
        for p in sorted(SRC.rglob("*.py"))
    }


def _constants(trees) -> set[str]:
    """Every string literal of the package, and every literal piece of its f-strings."""
    return {
        node.value
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_every_message_has_both_languages_with_the_same_fields():
    entries = catalogue()
    assert len(entries) > 60
    empty = [key for key, langs in entries.items() if not all(langs[lang] for lang in ("id", "en"))]
    assert empty == []
    differ = {
        key: (_fields(v["id"]), _fields(v["en"]))
        for key, v in entries.items()
        if _fields(v["id"]) != _fields(v["en"])
    }
    assert differ == {}
    # A copy of the Indonesian text is no translation (a word such as "Kecamatan" may be both).
    same = [key for key, v in entries.items() if v["id"] == v["en"] and len(v["id"]) > 20]
    assert same == []


def test_singular_forms_name_a_count_and_keep_the_fields():
    """``en_one`` is the English text for a count of 1: same fields, and ``one`` is one of them."""
    from povmap._messages import _table

    tables = {key: _table(key) for key in keys()}
    singular = {key: v for key, v in tables.items() if "en_one" in v}
    assert len(singular) > 20
    bad = {
        key: v
        for key, v in singular.items()
        if v.get("one") not in _fields(v["en"]) or _fields(v["en_one"]) != _fields(v["en"])
    }
    assert bad == {}


def test_entries_read_one_by_one_are_the_whole_file_parsed():
    """A run parses only the entries it uses (startup): they must read as tomllib reads them."""
    assert {key: entry(key) for key in keys()} == catalogue()


def test_fields_are_plain_names():
    """``{a.b}`` or ``{a[0]}`` in a template would read an attribute of a value: none exist."""
    bad = [
        key
        for key, v in catalogue().items()
        for lang in ("id", "en")
        for name in _fields(v[lang])
        if not name.isidentifier()
    ]
    assert bad == []


def test_every_id_used_in_code_exists_and_every_entry_is_used():
    trees = _sources()
    used, missing = set(), []
    for where, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            first = node.args[0]
            if name in LOOKUPS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                key = LOOKUPS[name] + first.value
                used.add(key)
                if key not in catalogue() and name != "label":
                    missing.append(f"{where}:{node.lineno}: {key}")
    assert missing == []
    constants = _constants(trees.values())
    # Families looked up with a computed id: a literal prefix ending in "." or ":" names them
    # (label(f"kantong:{jenis}"), text(f"reason.{alasan}")), and a label by its column name.
    prefixes = tuple(c for c in constants if c.endswith((".", ":")) and len(c) > 2)

    def is_used(key: str) -> bool:
        if key in used or key in constants or key.startswith(prefixes):
            return True
        return key.startswith("label.") and (
            key[6:] in constants or ("label." + key[6:]).startswith(prefixes)
        )

    unused = sorted(key for key in catalogue() if not is_used(key))
    assert unused == []


def test_no_inline_english_text_in_the_package():
    """A new message goes into messages.toml, not into an ``en=`` argument beside the code."""
    inline = []
    for where, tree in _sources().items():
        # _messages/_errors build Text and errors; _privacy rebuilds a masked Text.
        if where in NOT_YET or where in ("_messages.py", "_errors.py", "_privacy.py"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and any(k.arg == "en" for k in node.keywords):
                inline.append(f"{where}:{node.lineno}")
    assert inline == []


@pytest.mark.parametrize("name", ["{0}", "{x.__class__}", "{region!r:>99}", "{{}}", "%s %(x)s"])
def test_values_are_data_never_formats(name):
    """A desa name holding format syntax comes out exactly as written, in both languages."""
    assert label("title_region", "id", region=name) == f"Kemiskinan ekstrem {name}"
    assert label("title_region", "en", region=name) == f"Extreme poverty, {name}"
    exc = PovmapInputError.from_catalogue("cli.join_output", output=name)
    assert str(exc).startswith(f"-o {name}: join menulis")
    assert exc.message("en").startswith(f"-o {name}: join writes") and exc.key == "cli.join_output"


def test_templates_with_attribute_fields_are_refused():
    with pytest.raises(KeyError, match="only plain"):
        _Fill("id").vformat("{x.__class__}", (), {"x": 1})


def test_text_values_come_out_in_the_language_written():
    note = message("cli.labels_count", labels=number_text(1234), tables=Text("dua", en="two"))
    assert str(note) == "1.234 label untuk dua tabel: beri satu label per tabel"
    assert note.en == "1,234 labels for two tables: give one label per table"
    # Personal data in a value is masked in every message (SECURITY.md, row 2).
    assert "3171012345678901" not in text("cli.error", "en", message="NIK 3171012345678901")


def test_unknown_language_and_unknown_id():
    with pytest.raises(ValueError, match="lang='fr'"):
        text("cli.stopped", "fr")
    with pytest.raises(KeyError):
        text("tidak.ada")


def test_catalogue_ships_as_package_data():
    pyproject = (SRC.parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'povmap = \[[^\]]*"messages\.toml"', pyproject)
