"""The package's import graph: each stage imports only stages below it, and nothing is circular.

Imports are read with ``ast`` from the source, including the imports inside functions (a
function-level import hides a cycle from Python until the function runs, not from this test).
Importing ``povmap.a.b`` also runs ``povmap/a/__init__.py``, so that package is a dependency too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "povmap"

#: The layers, lowest first. A module may import its own layer and the layers below it. The names
#: are the first component under ``povmap`` (``render`` covers ``povmap.render.*``).
LAYERS: list[tuple[str, set[str]]] = [
    (
        "helpers",
        {
            "_errors",
            "_messages",
            "_io",
            "_safe_text",
            "_version",
            "defaults",
            "i18n",
            "_validate",
            "_privacy",
            "_module",
            "_progress",
            "_cache",
            "_distinct",
            "_parallel",
        },
    ),
    ("read", {"codes", "names", "boundaries", "counts", "p3ke", "registers", "scale"}),
    ("join", {"join"}),
    (
        "analysis",
        {"metrics", "classify", "pockets", "_crand", "simplify", "result", "trend", "targeting"},
    ),
    ("outputs", {"render", "export", "manifest", "_offline"}),
    ("pipeline", {"pipeline", "demo"}),
    ("cli", {"cli", "__main__"}),
]
#: The package itself (``povmap/__init__.py``): the public facade above everything.
TOP = len(LAYERS)


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ("povmap", *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _parents(name: str) -> list[str]:
    """The packages whose ``__init__`` runs when ``name`` is imported (the root excluded)."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(2, len(parts))]


def _imports(name: str) -> set[str]:
    """The povmap modules ``name`` imports anywhere in its source."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if _is_package(name) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join([*base, *([node.module] if node.module else [])])
            else:
                stem = node.module or ""
            # ``from . import export`` imports a module; ``from .join import join`` a name.
            targets = [
                f"{stem}.{a.name}" if f"{stem}.{a.name}" in MODULES else stem for a in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in MODULES and "." in target:
                target = target.rpartition(".")[0]  # povmap.export.writers.write_gpkg -> module
            if target in MODULES and target != name:
                found.add(target)
                found.update(p for p in _parents(target) if p != name and p not in _parents(name))
    return found


GRAPH = {name: _imports(name) for name in MODULES}


def layer_of(name: str) -> int:
    """The layer index of a module; the root package is the top."""
    if name == "povmap":
        return TOP
    first = name.split(".")[1]
    for index, (_, members) in enumerate(LAYERS):
        if first in members:
            return index
    raise AssertionError(f"{name} has no layer: add {first!r} to LAYERS in {__file__}")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_walk_sees_imports_inside_functions():
    # The CLI imports the pipeline only inside its commands (a fast --help): still an edge.
    assert "povmap.pipeline" in GRAPH["povmap.cli"]
    assert "povmap.render" in GRAPH["povmap.demo"]  # importing render.output runs render/__init__
    assert "povmap.join" in GRAPH["povmap.pipeline"]


def test_every_module_has_a_layer():
    for name in MODULES:
        layer_of(name)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_only_below(name):
    upward = sorted(
        f"{target} ({LAYERS[layer_of(target)][0] if layer_of(target) < TOP else 'povmap'})"
        for target in GRAPH[name]
        if layer_of(target) > layer_of(name)
    )
    assert not upward, (
        f"{name} (layer {LAYERS[layer_of(name)][0]}) imports a layer above it: {', '.join(upward)}"
    )


def test_no_import_cycles():
    assert _cycles(GRAPH) == []


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# --- no hidden state between stages (#12) -------------------------------------------------------


def _attrs_uses(source: str) -> list[int]:
    """Lines that read or write pandas ``.attrs`` (``x.attrs``, ``getattr(x, "attrs")``)."""

    def named(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "attrs"
        )

    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(source))
        if (isinstance(node, ast.Attribute) and node.attr == "attrs") or named(node)
    )


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_stage_hands_facts_over_in_attrs(name):
    # What a stage finds beside its table is returned beside it (BoundaryLayer, CountsTable,
    # Classified, Suppressed, Result): pandas drops .attrs in many operations (concat, merge
    # of some kinds, file round trips), so a fact kept there is lost without a word.
    uses = _attrs_uses(MODULES[name].read_text(encoding="utf-8"))
    assert not uses, f"{MODULES[name]}: .attrs at line(s) {uses}"


def test_the_attrs_finder_finds_reads_writes_and_getattr():
    source = (
        "a.attrs['x'] = 1\n"
        "b = gdf.attrs.get('povmap')\n"
        "c = getattr(layer, 'attrs', {})\n"
        "d = layer.attributes\n"
    )
    assert _attrs_uses(source) == [1, 2, 3]
