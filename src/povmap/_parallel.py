"""Run shapely's vectorised GEOS functions on all cores, chunk by chunk, in threads.

Shapely's array functions release the GIL while GEOS works on each geometry (``intersection``,
``buffer``, ``is_valid``, ``make_valid``, ``area``, ...), so threads of one process can work on
chunks of one array side by side, with no copy and no pickling. Each geometry's result depends on
that geometry alone, so the result put together from the chunks is exactly the serial one: the
same values, in the same order (``tests/test_parallel.py`` compares them on real layers).

The number of threads is the number of processors this process may run on, or
``POVMAP_THREADS`` (a whole number, at least 1; ``1`` runs everything in the calling thread).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import numpy as np

from ._errors import PovmapInputError

#: The environment variable that caps the threads (``POVMAP_THREADS=1``: no threads at all).
THREADS_ENV = "POVMAP_THREADS"
#: Chunks per thread when the caller does not fix them: enough for the threads to even out
#: chunks of unequal cost, few enough that their overhead (a few ms each) does not count.
_CHUNKS_PER_THREAD = 8


def threads() -> int:
    """How many threads :func:`map_chunks` uses: ``POVMAP_THREADS``, else the usable processors.

    Returns
    -------
    int
        At least 1: the value of ``POVMAP_THREADS`` when set, else the processors this process
        may run on (``os.sched_getaffinity``; ``os.cpu_count()`` where that is unknown).

    Raises
    ------
    PovmapInputError
        ``POVMAP_THREADS`` is set but is not a whole number of at least 1.
    """
    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        try:
            count = int(value)
        except ValueError:
            count = 0
        if count < 1:
            raise PovmapInputError.from_catalogue(
                "parallel.threads_not_a_count", env=THREADS_ENV, value=value
            )
        return count
    if hasattr(os, "sched_getaffinity"):  # the processors this process may run on (Linux)
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def chunk_positions(
    n: int, parts: int, *, size: int | None = None, weights: np.ndarray | None = None
) -> list[np.ndarray | slice]:
    """Split positions ``0 .. n-1`` into chunks.

    Parameters
    ----------
    n
        Number of items.
    parts
        Number of chunks wanted (fewer when there are fewer items).
    size
        Items per chunk, in order (the last one shorter): chunks the caller needs as they are
        (``parts`` is then ignored); with ``weights``, the costliest chunk comes first.
    weights
        Cost of each item (e.g. its number of vertices): the chunks are of about equal total
        cost, the costliest items first (a single item costlier than a chunk's share is a
        chunk by itself), so that threads taking chunks as they come finish together.

    Returns
    -------
    list
        Slices (in order, when ``weights`` is None) or arrays of positions; together they hold
        every position exactly once.
    """
    if n == 0:
        return []
    # Every item costs something (+1), also one of no vertices.
    cost = None if weights is None else np.maximum(np.asarray(weights, dtype=float), 0.0) + 1.0
    if size is not None:
        runs: list[np.ndarray | slice] = [
            slice(start, min(start + size, n)) for start in range(0, n, size)
        ]
        if cost is None:
            return runs
        # Costliest first: a thread left with the last chunk then waits the least.
        totals = np.array([cost[run].sum() for run in runs])
        return [runs[i] for i in np.argsort(-totals, kind="stable")]
    parts = max(1, min(parts, n))
    if cost is None:
        edges = np.linspace(0, n, parts + 1).round().astype(int)
        return [slice(lo, hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True) if hi > lo]
    order = np.argsort(-cost, kind="stable")
    cumulative = np.cumsum(cost[order])
    edges = np.searchsorted(cumulative, cumulative[-1] * np.arange(1, parts) / parts, side="right")
    edges = np.unique(np.r_[0, edges, n])
    return [order[lo:hi] for lo, hi in zip(edges[:-1], edges[1:], strict=True)]


def map_chunks(
    func: Callable[..., np.ndarray],
    arrays: Sequence[np.ndarray],
    *,
    size: int | None = None,
    weights: np.ndarray | None = None,
    done: Callable[[int], None] | None = None,
) -> np.ndarray:
    """``func(*arrays)``, computed chunk by chunk on all cores; the same values in the same order.

    Parameters
    ----------
    func
        A function of aligned arrays returning one value per item (a shapely vectorised
        function, or a small function of a few of them). Each item's value must depend on that
        item alone, and ``func`` must release the GIL for threads to help.
    arrays
        Arrays of equal length, cut into the same chunks.
    size, weights
        How to cut (see :func:`chunk_positions`); by default into equal runs, several per
        thread.
    done
        Called in the calling thread with the number of items of each chunk as it is finished
        (a progress bar's ``advance``).

    Returns
    -------
    numpy.ndarray
        The values of ``func`` for every item, in the order of ``arrays``.

    Notes
    -----
    A chunk's exception is raised here (the chunks not started are cancelled). Warnings raised
    in the threads are not shown: ``warnings.catch_warnings``, which shapely uses inside some
    functions, swaps process-wide state and is not safe across threads, so the pool runs inside
    one context of the calling thread that restores the filters as they were.
    """
    n = len(arrays[0])
    workers = threads()
    parts = workers * _CHUNKS_PER_THREAD if workers > 1 else 1
    chunks = chunk_positions(n, parts, size=size, weights=weights)
    out = None

    def keep(chunk: np.ndarray | slice, values: np.ndarray) -> None:
        nonlocal out
        values = np.asarray(values)
        if out is None:
            out = np.empty(n, dtype=values.dtype)
        out[chunk] = values
        if done is not None:
            done(len(values))

    if workers == 1 or len(chunks) < 2:
        for chunk in chunks:  # in this thread (the caller's chunks kept: they may matter)
            keep(chunk, func(*(a[chunk] for a in arrays)))
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with ThreadPoolExecutor(min(workers, len(chunks)), thread_name_prefix="povmap") as pool:
                pending = {pool.submit(func, *(a[c] for a in arrays)): c for c in chunks}
                try:
                    while pending:
                        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                        for future in finished:
                            keep(pending.pop(future), future.result())
                except BaseException:
                    for future in pending:
                        future.cancel()
                    raise
    return np.asarray(func(*arrays)) if out is None else out
