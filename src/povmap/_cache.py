"""A cache of what povmap computed from one edition of an input file, in the user's cache folder.

Checking the national boundary layer for overlaps and uniting its kecamatan takes most of a
national run, and the result depends only on the file, the reading options and the code that
computed it. So it is kept under a key that hashes all of them: the SHA-256 of the file's bytes
(and of a shapefile's companion files), the reading options, povmap's version and the source
of the module that computes the entry, and the versions of GEOS and PROJ. A changed file, option,
povmap or library is another key: an entry is never stale, only unused.

Entries are NumPy ``.npz`` archives of plain arrays (numbers, text, WKB bytes), read with
``allow_pickle=False`` (data, never code), written to a temporary file beside the entry and
renamed into place (a reader never sees half an entry); each holds its own key, so a file
copied over another entry's is not read as it. A large array few runs need can be left in the
file when the entry is read (:func:`load` ``without``) and read later on its own. The cache is
an optimisation only: an entry that cannot be read is computed again, without a message; a
folder that cannot be written is said in a note of the run (:func:`povmap.read_boundaries`,
``BoundaryInfo.cache`` ``"tidak_dapat_ditulis"``). The folder is trusted as the user's home
folder is: an entry altered on purpose with well-formed content is read as it is (on a shared
machine, ``POVMAP_CACHE_DIR=off`` or a private folder).

The folder is ``platformdirs.user_cache_dir("povmap")`` (``~/.cache/povmap`` on Linux);
the environment variable ``POVMAP_CACHE_DIR`` names another, or turns the cache off with
``off`` (or an empty value). It holds at most :data:`LIMIT_BYTES`: storing an entry removes the
entries used longest ago beyond that (an entry read is marked as used).

Within one process, an entry being computed is computed once: a second caller of its key waits
for the first (:func:`computed`), and :func:`ahead` computes entries in a thread while the
caller goes on with other work.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import os
import tempfile
import threading
import zipfile
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np

T = TypeVar("T")

#: Environment variable naming the cache folder, or ``off``.
CACHE_ENV = "POVMAP_CACHE_DIR"
#: Version of the layout of the entries; part of every key.
FORMAT = 3
#: Name of the array in which each entry holds its own key: a file copied or renamed over another
#: entry's (well-formed, but of other inputs) is then not read as that entry.
OWN_KEY = "povmap_key"
#: The most the cache folder holds (bytes); the national layer's entry is about 135 MB.
LIMIT_BYTES = 2 * 2**30

#: Entries being computed in this process, by key (:func:`computed`), and those an
#: :func:`ahead` computed, kept until it ends.
_running: dict[str, Future] = {}
_running_lock = threading.Lock()
#: In the thread of an :func:`ahead`: the keys it computed, left in ``_running`` for its caller.
_kept: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("povmap_kept", default=None)


def cache_dir() -> Path | None:
    """The cache folder, or None when ``POVMAP_CACHE_DIR`` turns the cache off."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        if chosen.strip().lower() in ("", "off", "0", "no"):
            return None
        # "~/..." as written in a quoted export or a .env file: the home folder, not a folder
        # named "~" in the current one (which a later "rm -rf ~" to clean up would be fatal to).
        return Path(chosen).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("povmap", appauthor=False))


def key(
    files: Mapping[Path, str], parameters: dict, code: list[str], data: list[bytes] | None = None
) -> str | None:
    """The key of an entry: a hex SHA-256 of the files' digests, ``parameters``, ``code`` and
    ``data``.

    Parameters
    ----------
    files
        ``{path: hex SHA-256 of its bytes}`` of the input files (:func:`povmap._io.sha256`,
        taken once per run by the caller, who also records it in the manifest). Empty: not
        cached (a folder, e.g. a FileGDB, or a file that cannot be read).
    parameters
        JSON-serialisable options that change the result.
    code
        Paths of the modules whose source computes the entry (hashed too, so that an edited
        development tree never reads an entry its old code wrote).
    data
        What the entry is computed from when it is not a file (e.g. the WKB of a layer's
        geometries, :func:`geometry_data`): hashed in place of ``files``, which may then be
        empty.

    Returns
    -------
    str or None
        The key, or None when ``files`` is empty without ``data``, or some module cannot be
        read.
    """
    import pyproj
    import shapely

    from ._io import sha256
    from ._version import __version__

    if not files and data is None:
        return None
    versions = [FORMAT, __version__, shapely.geos_version_string, pyproj.proj_version_str]
    named = sorted((path.name, digest) for path, digest in files.items())
    try:
        named += [(Path(path).name, sha256(path)) for path in code]
    except OSError:
        return None
    blobs = None
    if data is not None:
        digest = hashlib.sha256()
        for blob in data:
            digest.update(len(blob).to_bytes(8, "little"))
            digest.update(blob)
        blobs = digest.hexdigest()
    text = json.dumps([versions, parameters, named, blobs], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def load(
    name: str, *, only: Collection[str] | None = None, without: Collection[str] = ()
) -> dict[str, np.ndarray] | None:
    """The arrays of entry ``name``, or None when there is none, it cannot be read, or it is
    not the entry stored under ``name`` (its own key, :data:`OWN_KEY`, differs).

    Parameters
    ----------
    name
        The entry's key (:func:`key`).
    only
        Read these arrays alone (None when one of them is not in the entry); by default all.
    without
        Arrays not read now (a large one that few runs need): a later ``load(name,
        only=...)`` reads them if and when they are needed, and checks the entry's own key
        again.

    Returns
    -------
    dict or None
        ``{array name: array}``, each array read whole from the file.
    """
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / f"{name}.npz"
    try:
        with np.load(path, allow_pickle=False) as entry:
            if str(entry[OWN_KEY]) != name:
                return None
            wanted = entry.files if only is None else only
            arrays = {k: entry[k] for k in wanted if k != OWN_KEY and k not in without}
        os.utime(path)  # used now: the last to be removed when the folder is full
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        return None
    return arrays


def store(name: str, arrays: dict[str, np.ndarray]) -> bool:
    """Write entry ``name`` atomically; False when the cache is off or cannot be written."""
    folder = cache_dir()
    if folder is None:
        return False
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as f:
            tmp = Path(f.name)
            np.savez(f, **arrays, **{OWN_KEY: np.array(name)})  # type: ignore[arg-type]
        os.replace(tmp, folder / f"{name}.npz")
    except OSError:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        return False
    _prune(folder, keep=folder / f"{name}.npz")
    return True


def _prune(folder: Path, keep: Path) -> None:
    """Remove the entries used longest ago until the folder holds at most :data:`LIMIT_BYTES`
    (never ``keep``, the entry just stored)."""
    try:
        entries = sorted(
            ((p.stat().st_mtime, p.stat().st_size, p) for p in folder.glob("*.npz")), reverse=True
        )
    except OSError:
        return
    total = 0
    for _, size, path in entries:
        total += size
        if total > LIMIT_BYTES and path != keep:
            path.unlink(missing_ok=True)


def pack_wkb(geoms: np.ndarray, name: str = "wkb") -> dict[str, np.ndarray]:
    """Geometries as two plain arrays: their WKB bytes end to end (``name``), and where each
    ends (``name + "_ends"``).

    A missing geometry is stored as no bytes (and read back as None by :func:`unpack_wkb`).
    """
    import shapely

    wkb = shapely.to_wkb(geoms)
    blobs = [b if b is not None else b"" for b in wkb]
    ends = np.cumsum([len(b) for b in blobs], dtype=np.int64)
    return {name: np.frombuffer(b"".join(blobs), dtype=np.uint8), f"{name}_ends": ends}


def unpack_wkb(
    arrays: dict[str, np.ndarray], name: str = "wkb", count: int | None = None
) -> np.ndarray:
    """The geometries :func:`pack_wkb` stored under ``name`` (None where it stored none).

    Parameters
    ----------
    arrays
        The arrays of an entry (:func:`load`).
    name
        The name :func:`pack_wkb` stored them under.
    count
        How many geometries the caller needs (None: any number).

    Returns
    -------
    numpy.ndarray
        The geometries (object array), in the order they were stored.

    Raises
    ------
    KeyError
        The arrays are not in the entry.
    ValueError
        They are not what :func:`pack_wkb` writes (damaged: not bytes and increasing ends
        within them, another number of geometries than ``count``, or bytes that are not WKB):
        the caller computes the value again (:func:`computed`).
    """
    import shapely

    data, ends = arrays[name], arrays[f"{name}_ends"]
    if data.dtype != np.uint8 or data.ndim != 1 or ends.ndim != 1 or ends.dtype.kind not in "iu":
        raise ValueError(f"{name}: not the arrays of pack_wkb")
    if count is not None and len(ends) != count:
        raise ValueError(f"{name}: {len(ends)} geometries, not {count}")
    starts = np.r_[0, ends[:-1]]
    if len(ends) and ((ends < starts).any() or ends[-1] != len(data)):
        raise ValueError(f"{name}: its ends do not divide its bytes")
    # Each geometry's bytes copied once, straight from the array (not the whole array first).
    blobs = np.array(
        [data[a:b].tobytes() or None for a, b in zip(starts.tolist(), ends.tolist(), strict=True)],
        dtype=object,
    )
    try:
        return shapely.from_wkb(blobs)
    except shapely.errors.GEOSException as exc:  # damaged bytes: as any damaged entry
        raise ValueError(f"{name}: {exc}") from exc


def geometry_data(geoms: np.ndarray, crs: object) -> list[bytes]:
    """The ``data`` of :func:`key` for a geometry array: its CRS (WKT) and its WKB (in order;
    a missing geometry is no bytes), so that another shape, order or CRS is another key."""
    packed = pack_wkb(np.asarray(geoms, dtype=object))
    wkt = crs.to_wkt() if hasattr(crs, "to_wkt") else str(crs)
    return [wkt.encode(), packed["wkb"].tobytes(), packed["wkb_ends"].tobytes()]


def computed(
    key: str | None,
    compute: Callable[[], T],
    pack: Callable[[T], dict[str, np.ndarray]],
    unpack: Callable[[dict[str, np.ndarray]], T],
) -> T:
    """The value of entry ``key`` (``unpack`` of its arrays) when the cache holds one, else
    ``compute()``, stored under ``key`` as ``pack`` gives it (None: computed, not stored).

    ``unpack`` raises ``KeyError`` or ``ValueError`` for an entry that cannot be what
    ``compute`` gives (damaged, or not of these inputs: names or lengths differ): it is then
    computed again.

    While another thread of this process computes ``key`` (or an :func:`ahead` has computed
    it), this waits for its value instead of computing it again, also when the cache is off.
    Where that computation failed, this computes the value itself: its error is raised here as
    it would have been without the other.
    """
    if not key:
        return _loaded_or_computed(key, compute, pack, unpack)
    with _running_lock:
        running = _running.get(key)
        if running is None:
            mine = _running[key] = Future()
    if running is not None:
        if running.exception() is None:  # waits for it
            return running.result()
        return _loaded_or_computed(key, compute, pack, unpack)
    try:
        value = _loaded_or_computed(key, compute, pack, unpack)
    except BaseException as exc:
        with _running_lock:
            del _running[key]
        mine.set_exception(exc)
        raise
    kept = _kept.get()
    if kept is not None:
        kept.add(key)  # the ahead's caller takes it from there
    else:
        with _running_lock:
            del _running[key]
    mine.set_result(value)
    return value


def _loaded_or_computed(
    key: str | None,
    compute: Callable[[], T],
    pack: Callable[[T], dict[str, np.ndarray]],
    unpack: Callable[[dict[str, np.ndarray]], T],
) -> T:
    """:func:`computed` without the entries being computed in this process."""
    entry = load(key) if key else None
    if entry is not None:
        try:
            return unpack(entry)
        except (KeyError, ValueError, TypeError):
            pass
    value = compute()
    if key:
        store(key, pack(value))
    return value


@contextlib.contextmanager
def ahead(compute: Callable[[], object]) -> Iterator[None]:
    """Run ``compute()`` in a thread while the ``with`` block runs, and wait for it at its end.

    Every entry ``compute`` gets through :func:`computed` is handed to the block's callers of
    the same key: one that asks while it is computed waits for it, one that asks later takes it
    as it is, until the block ends (also with the cache off). So a caller starts early what a
    later step needs (GEOS releases the GIL: it runs beside the caller's Python work) without
    passing it on.

    With ``POVMAP_THREADS=1`` (:func:`povmap._parallel.threads`) no thread is started: the
    block computes what it needs itself.

    Parameters
    ----------
    compute
        Called without arguments in the thread, in a copy of the caller's context
        (:mod:`contextvars`); what it returns is dropped. Its errors are not raised here: a
        caller in the block that needs the same entry computes it again and raises them
        itself, as it would have without ``compute``; one that does not need it is not
        concerned.

    Yields
    ------
    None
        The block runs beside ``compute``; leaving it waits for ``compute`` to end.

    Raises
    ------
    PovmapInputError
        ``POVMAP_THREADS`` is not a whole number of at least 1.
    """
    from ._parallel import threads

    if threads() == 1:
        yield
        return
    kept: set[str] = set()

    def run() -> None:
        _kept.set(kept)
        compute()

    context = contextvars.copy_context()
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="povmap-ahead") as pool:
            pool.submit(context.run, run)
            yield
    finally:  # the thread has ended: its entries are no longer handed out
        with _running_lock:
            for name in kept:
                _running.pop(name, None)
