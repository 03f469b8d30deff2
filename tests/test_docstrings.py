"""Every public function and class documents its parameters, its result and its errors (#12).

Checked with numpydoc's own validator (``numpydoc.validate``) on every name of ``povmap.__all__``
and of the public subpackages ``povmap.export`` and ``povmap.render``:

- GL08: a docstring;
- PR01 / PR02: every parameter documented, and no parameter documented that does not exist;
- RT01: a Returns section (the validator asks it only of functions that return something);
- Raises: every public function says which :class:`~povmap.PovmapInputError` it raises and when,
  since each of them reads a user's files, tables, layers or options; the few that take only
  povmap's own checked objects are listed in :data:`NO_RAISES`, each with its reason.

Dataclasses (``Classification``, ``JoinReport``, ``Options``...) follow numpydoc's convention for
classes whose parameters are their fields: an **Attributes** section documenting every field
stands for Parameters (checked here field by field, since the validator reads only Parameters).
"""

from __future__ import annotations

import dataclasses
import inspect
import types

import numpydoc.validate as numpydoc_validate  # the test extra: pip install -e ".[test]"
import pytest
from numpydoc.docscrape import NumpyDocString

import povmap
import povmap.export
import povmap.render

CHECKED = ("PR01", "PR02", "RT01", "GL08")

#: Public functions without a Raises section, and why they raise no PovmapInputError.
NO_RAISES = {
    "povmap.metrics.add_rates": (
        "arithmetic on the columns present: a missing input leaves its rate out, a zero or "
        "missing population gives NaN"
    ),
}


def _public() -> list[tuple[str, object]]:
    """(import path, object) of every public function and class, each once."""
    found: dict[str, object] = {}
    for package in (povmap, povmap.export, povmap.render):
        for name in package.__all__:
            obj = getattr(package, name)
            if isinstance(obj, types.ModuleType):  # povmap.export, .trend, .targeting: callable
                obj = getattr(obj, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return sorted(found.items())


PUBLIC = _public()


def _names(section: list) -> set[str]:
    """The names documented in a Parameters/Attributes section (``a, b`` documents both)."""
    return {part.strip().lstrip("*") for item in section for part in item.name.split(",")}


def test_the_walk_finds_the_api():
    paths = dict(PUBLIC)
    for path in (
        "povmap.metrics.aggregate",
        "povmap.classify.Classified",
        "povmap.export.bundle.export",
        "povmap.trend.trend",
        "povmap.render.static.atlas",
        "povmap._errors.PovmapInputError",
    ):
        assert path in paths
    assert not set(NO_RAISES) - set(paths), "NO_RAISES names a function that is not public"


@pytest.mark.parametrize("path, obj", PUBLIC, ids=[path for path, _ in PUBLIC])
def test_numpydoc_sections(path, obj):
    errors = [
        (code, text) for code, text in numpydoc_validate.validate(path)["errors"] if code in CHECKED
    ]
    if dataclasses.is_dataclass(obj):
        # Attributes stand for Parameters: every field documented, nothing unknown documented.
        errors = [(code, text) for code, text in errors if code not in ("PR01", "PR02")]
        doc = NumpyDocString(inspect.getdoc(obj) or "")
        documented = _names(doc["Attributes"]) | _names(doc["Parameters"])
        # Every field, and every other argument of __init__ (an InitVar: in Parameters).
        fields = {field.name for field in dataclasses.fields(obj)}
        fields |= set(inspect.signature(obj).parameters)
        known = fields | {name for name, _ in inspect.getmembers(obj, inspect.isdatadescriptor)}
        if fields - documented:
            errors.append(("PR01", f"fields {sorted(fields - documented)} not in Attributes"))
        if documented - known:
            errors.append(("PR02", f"unknown attributes {sorted(documented - known)}"))
    elif inspect.isfunction(obj) and path not in NO_RAISES:
        raises = NumpyDocString(inspect.getdoc(obj) or "")["Raises"]
        if not any(
            "PovmapInputError" in item.type or "PovmapError" in item.type for item in raises
        ):
            errors.append(("Raises", "no Raises section naming PovmapInputError"))
    assert not errors, f"{path}: {errors}"
