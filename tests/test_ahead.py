"""Work started ahead (issue 15, a province map's first run).

``povmap map`` simplifies the layer for the web in a thread while folium loads and the page is
assembled (:func:`povmap._cache.ahead`, :func:`povmap.render.choice.simplified_ahead`): a caller
of an entry being computed waits for it instead of computing it again; the page is the one
built without the thread; an error in the thread reaches the user as it would have without it;
no thread is left behind.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import threading
from concurrent.futures import Future

import geopandas as gpd
import numpy as np
import pytest
from conftest import KAYONG_DESA, ROOT, invoke, make_counts, need

from povmap import _cache, simplify
from povmap._errors import PovmapInputError
from povmap.render import choice


@pytest.fixture
def cache_off(monkeypatch):
    monkeypatch.setenv(_cache.CACHE_ENV, "off")
    monkeypatch.setenv("POVMAP_THREADS", "2")  # a thread ahead also on a one-processor machine


def pack(value):
    return {"v": value}


def unpack(entry):
    return entry["v"]


def never():
    raise AssertionError("computed again")


def ahead_threads():
    return [t for t in threading.enumerate() if t.name.startswith("povmap-ahead")]


@pytest.fixture
def watched(monkeypatch):
    """An event set when a caller starts waiting for an entry another thread computes."""
    waiting = threading.Event()

    class Watched(Future):
        def exception(self, timeout=None):
            waiting.set()
            return super().exception(timeout)

    monkeypatch.setattr(_cache, "Future", Watched)
    return waiting


def first_caller(compute, results):
    """Call ``computed("k", compute)`` in a thread; its value or error lands in ``results``."""

    def run():
        try:
            results["first"] = _cache.computed("k", compute, pack, unpack)
        except PovmapInputError as exc:
            results["first"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_second_caller_of_an_entry_being_computed_waits_and_takes_its_value(cache_off, watched):
    started, calls, results = threading.Event(), [], {}

    def compute():
        calls.append(threading.current_thread().name)
        started.set()
        assert watched.wait(30)  # the second caller is waiting now
        return np.arange(3)

    thread = first_caller(compute, results)
    assert started.wait(30)
    second = _cache.computed("k", never, pack, unpack)
    thread.join()
    assert len(calls) == 1 and second is results["first"]
    assert "k" not in _cache._running  # done: a later caller computes (or loads) it again


def test_an_error_of_the_first_caller_is_raised_by_the_second_from_its_own_computation(
    cache_off, watched
):
    started, calls, results = threading.Event(), [], {}

    def compute():
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            started.set()
            assert watched.wait(30)
        raise PovmapInputError.from_catalogue("simplify.boundary_layer_no_crs")

    thread = first_caller(compute, results)
    assert started.wait(30)
    with pytest.raises(PovmapInputError) as raised:
        _cache.computed("k", compute, pack, unpack)
    thread.join()
    assert calls == [thread.name, threading.current_thread().name]
    assert raised.value.message("en") == results["first"].message("en")
    assert "k" not in _cache._running


def test_an_entry_computed_ahead_is_handed_to_the_block_once_and_dropped_after_it(cache_off):
    calls = []

    def compute():
        calls.append(threading.current_thread().name)
        return np.arange(4)

    with _cache.ahead(lambda: _cache.computed("k", compute, pack, unpack)):
        # Waited for while it runs, or taken as it is once finished: computed once either way,
        # also with the cache off.
        first = _cache.computed("k", never, pack, unpack)
        again = _cache.computed("k", never, pack, unpack)
    assert first is again and list(first) == [0, 1, 2, 3]
    assert len(calls) == 1 and calls[0].startswith("povmap-ahead")
    assert not ahead_threads() and "k" not in _cache._running
    _cache.computed("k", compute, pack, unpack)
    assert len(calls) == 2  # after the block: the cache (off here) decides, as without ahead


def test_an_error_ahead_is_raised_by_the_blocks_own_call_and_nowhere_else(cache_off):
    calls = []

    def compute():
        calls.append(1)
        raise PovmapInputError.from_catalogue("simplify.boundary_layer_no_crs")

    with _cache.ahead(lambda: _cache.computed("k", compute, pack, unpack)):
        pass  # a block that does not need the entry: the thread's error is not raised
    assert calls == [1] and not ahead_threads()
    with (
        pytest.raises(PovmapInputError) as raised,
        _cache.ahead(lambda: _cache.computed("k", compute, pack, unpack)),
    ):
        _cache.computed("k", compute, pack, unpack)
    assert raised.value.message("en") == str(
        PovmapInputError.from_catalogue("simplify.boundary_layer_no_crs").message("en")
    )
    assert len(calls) == 3 and not ahead_threads() and "k" not in _cache._running


def _page(path):
    """The page without folium's random element ids."""
    return re.sub(r"_[0-9a-f]{32}", "_ID", path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def kayong_inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kayong")
    boundaries_path = need(KAYONG_DESA)
    counts = folder / "counts.csv"
    make_counts(gpd.read_file(boundaries_path), seed=3).to_csv(counts, index=False)
    return boundaries_path, counts


def counted_simplification(monkeypatch, fail: bool = False):
    """The threads in which the layer is simplified (``simplify._simplified``), each call; and
    those in which the CLI started it ahead (``choice.web_coverage``)."""
    threads: list[str] = []
    started: list[str] = []
    original, start = simplify._simplified, choice.web_coverage
    monkeypatch.setattr(
        choice,
        "web_coverage",
        lambda *a, **k: started.append(threading.current_thread().name) or start(*a, **k),
    )

    def wrapped(*args, **kwargs):
        threads.append(threading.current_thread().name)
        if fail:
            raise PovmapInputError.from_catalogue(
                "simplify.boundary_layer_empty_geometries", bad="7"
            )
        return original(*args, **kwargs)

    monkeypatch.setattr(simplify, "_simplified", wrapped)
    return threads, started


@contextlib.contextmanager
def nothing_ahead(*args, **kwargs):
    yield


def test_map_simplified_ahead_is_the_map_without_it_computed_once(
    cache_off, kayong_inputs, tmp_path, monkeypatch
):
    boundaries_path, counts = kayong_inputs
    ahead, serial = tmp_path / "ahead.html", tmp_path / "serial.html"
    threads, started = counted_simplification(monkeypatch)
    assert invoke("--quiet", "map", boundaries_path, counts, "-o", ahead)[0] == 0
    # Started in the thread, asked for again by choropleth, simplified once (the cache is off:
    # whichever came second waited for the first).
    assert len(started) == 1 and started[0].startswith("povmap-ahead")
    assert len(threads) == 1 and not ahead_threads()
    monkeypatch.setattr(choice, "simplified_ahead", nothing_ahead)
    assert invoke("--quiet", "map", boundaries_path, counts, "-o", serial)[0] == 0
    assert threads[1:] == [threading.current_thread().name] and len(started) == 1
    assert _page(ahead) == _page(serial)


def test_an_error_in_the_simplification_ahead_reaches_the_user_as_without_it(
    cache_off, kayong_inputs, tmp_path, monkeypatch
):
    boundaries_path, counts = kayong_inputs
    threads, started = counted_simplification(monkeypatch, fail=True)
    code, said = invoke("--lang", "en", "map", boundaries_path, counts, "-o", tmp_path / "a.html")
    assert code == 1 and "(rows 7)" in said and "Traceback" not in said
    # Failed in the thread and in the command's own call, which raised it (in either order).
    assert started[0].startswith("povmap-ahead") and len(threads) == 2
    assert threading.current_thread().name in threads
    assert not ahead_threads() and not (tmp_path / "a.html").exists()
    monkeypatch.setattr(choice, "simplified_ahead", nothing_ahead)
    serial = invoke("--lang", "en", "map", boundaries_path, counts, "-o", tmp_path / "b.html")
    assert serial == (code, said.replace("a.html", "b.html"))


def test_nothing_is_started_ahead_for_a_static_or_national_map(monkeypatch):
    monkeypatch.setenv("POVMAP_THREADS", "2")
    layer = gpd.read_file(need(KAYONG_DESA)).rename(columns={"kode": "kode_desa"})
    layer["kode_kabupaten"] = "61.11"
    started = []
    monkeypatch.setattr(choice, "web_coverage", lambda gdf, tolerance: started.append(len(gdf)))
    for output, national in [("peta.png", None), ("peta.pdf", None), ("peta.html", True)]:
        with choice.simplified_ahead(layer, ROOT / output, national):
            pass
    assert started == []
    # A province map (43 desa, national left to the size) is simplified ahead.
    with choice.simplified_ahead(layer, ROOT / "peta.html", None):
        pass
    assert started == [43] and not ahead_threads()


def test_the_map_choices_load_no_folium():
    # What lets folium load beside the simplification: the CLI decides before importing it.
    code = "import sys, povmap.render.choice; print('folium' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_no_thread_is_started_ahead_with_povmap_threads_1(
    cache_off, kayong_inputs, tmp_path, monkeypatch
):
    # POVMAP_THREADS=1 means no threads at all: the map simplifies its layer itself, the same.
    boundaries_path, counts = kayong_inputs
    threads, started = counted_simplification(monkeypatch)
    monkeypatch.setenv("POVMAP_THREADS", "1")
    assert invoke("--quiet", "map", boundaries_path, counts, "-o", tmp_path / "one.html")[0] == 0
    assert started == [] and threads == [threading.current_thread().name]
    monkeypatch.setenv("POVMAP_THREADS", "2")
    assert invoke("--quiet", "map", boundaries_path, counts, "-o", tmp_path / "two.html")[0] == 0
    assert len(started) == 1 and started[0].startswith("povmap-ahead") and len(threads) == 2
    assert _page(tmp_path / "one.html") == _page(tmp_path / "two.html")
