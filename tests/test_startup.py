"""Nothing heavy happens on import: ``import povmap`` and ``povmap --help`` stay fast.

Timings are measured in ``benchmarks/bench_startup.py``; these tests check the cause instead:
which packages an import loads, in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")

#: Packages that take a large part of a second to import, or change global state (matplotlib's
#: backend) when imported.
HEAVY = ("matplotlib", "folium", "esda", "topojson", "libpysal", "mapclassify")


def _loaded_after(code: str) -> dict:
    script = (
        f"import sys; sys.path.insert(0, {SRC!r}); {code}; import json; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_import_povmap_loads_nothing_heavy():
    loaded = _loaded_after("import povmap")
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    assert "geopandas" not in loaded and "pandas" not in loaded


def test_the_cli_module_loads_only_click():
    loaded = _loaded_after("import povmap.cli")
    assert loaded.isdisjoint({*HEAVY, "geopandas", "pandas", "numpy", "shapely"})
    # The output transaction (_io: ctypes for renameat2, hashlib) loads when a command
    # runs, not for --help (about a fifth of the help's start-up, bench_startup.py).
    assert loaded.isdisjoint({"ctypes", "hashlib"}), loaded & {"ctypes", "hashlib"}


def test_analysis_stages_do_not_load_matplotlib():
    # Importing a stage must not choose a backend for the user's notebook or application.
    loaded = _loaded_after("import povmap; povmap.read_boundaries; povmap.find_pockets")
    assert "matplotlib" not in loaded


def test_public_api_is_reachable_and_listed():
    script = (
        f"import sys; sys.path.insert(0, {SRC!r}); import povmap, json; "
        "print(json.dumps({'dir': dir(povmap), 'all': povmap.__all__, "
        "'kinds': {n: type(getattr(povmap, n)).__name__ for n in povmap.__all__}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    got = json.loads(done.stdout)
    assert set(got["all"]) <= set(got["dir"])
    assert got["kinds"]["read_boundaries"] == "function"
    assert got["kinds"]["join"] == "function"  # not the module povmap.join
    assert got["kinds"]["classify"] == "function"
    assert got["kinds"]["JoinReport"] == "type"
    assert got["kinds"]["__version__"] == "str"


def test_function_names_survive_importing_their_modules():
    import povmap
    import povmap.classify  # noqa: F401  (binds the module povmap.classify on the package)
    import povmap.join  # noqa: F401

    assert callable(povmap.join) and povmap.join.__name__ == "join"
    assert callable(povmap.classify) and povmap.classify.__name__ == "classify"
    assert povmap.__getattr__("read_counts").__module__ == "povmap.counts"


def test_unknown_attribute_is_an_attribute_error():
    import povmap

    try:
        povmap.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("povmap.no_such_thing did not raise")


def test_html_map_modules_leave_out_pockets_suppression_and_static_maps():
    # What ``povmap map -o peta.html`` imports: esda/libpysal (pockets, seconds of scipy.stats
    # and sklearn), scipy.optimize (suppression) and matplotlib's PDF backend (static maps) load
    # only when --kantong, --suppress-below or a PNG/PDF/atlas asks for them.
    script = (
        f"import sys; sys.path.insert(0, {SRC!r}); "
        "import povmap.pipeline, povmap.export.suppress, povmap.render.controls, "
        "povmap.render.output; import json; print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    heavy = {
        "esda",
        "libpysal",
        "scipy.optimize",
        "scipy.stats",
        "povmap.render.static",
        "matplotlib.backends.backend_pdf",
        # All of folium's ~40 plugins, compiled (0.15 s): the map draws search and fullscreen.
        "folium.plugins",
        # The national map's module (its templates compiled, ~10 ms): a province map's page
        # does not use it.
        "povmap.render.national",
    }
    assert not loaded & heavy, sorted(loaded & heavy)


def test_quantile_classes_need_neither_mapclassify_nor_scipy():
    # The default scheme is numpy's: mapclassify imports scipy.stats, scikit-learn and
    # matplotlib.pyplot (about 1.3 s of CPU, a third of GeoDataFrame.explore()'s whole run).
    loaded = _loaded_after(
        "from povmap.classify import make_classification; "
        "make_classification([0, 0, 0, 1.5, 2.5, 3.1, 4.2, 7.7, 9.0], column='persen')"
    )
    heavy = {"mapclassify", "scipy", "sklearn"}
    assert loaded.isdisjoint(heavy), loaded & heavy


def test_an_html_map_leaves_the_export_package_out(tmp_path):
    # writers, styles, KUGI and the geoportal bundle: only a suppressed map needs povmap.export.
    demo = Path(SRC) / "povmap" / "data" / "demo"
    args = ["--quiet", "map", demo / "demo_desa.geojson", demo / "demo_counts.csv"]
    script = (
        f"import sys; sys.path.insert(0, {SRC!r}); from povmap.cli import main; "
        f"main({[str(a) for a in args] + ['-o', str(tmp_path / 'peta.html')]!r}, "
        "standalone_mode=False); import json; print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert (tmp_path / "peta.html").stat().st_size > 0
    assert not {m for m in loaded if m.startswith("povmap.export")}


def test_static_maps_still_reachable_from_the_render_package():
    import povmap.render

    assert povmap.render.static_map.__module__ == "povmap.render.static"
    assert povmap.render.atlas.__module__ == "povmap.render.static"
