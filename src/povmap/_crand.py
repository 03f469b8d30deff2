"""esda's conditional permutation test, computed for many desa at once with the same numbers.

Why this exists: esda 2.9's serial ``esda.crand.crand`` (``compute_chunk`` ->
``_prepare_univariate``) builds, for every desa ``i``, a copy of the whole value array without
``i`` (``z[mask]``) and then indexes it with the shared random draws. That is an O(n) copy per
desa, O(n^2) in all: about 30 of the 41 CPU-seconds of a national ``Moran_Local`` (83,403
desa, 9,999 permutations; numba does not help, see ``benchmarks/README.md``).

The copy is not needed. esda draws one matrix of random indices for all desa
(``vec_permutations``: row ``k`` is ``max_card`` distinct indices into the ``n - 1`` other
desa) and desa ``i`` reads draw ``p`` as ``z_no_i[p]``, which is ``z[p + (p >= i)]``. So in
row ``k`` of a desa with ``c`` neighbours, the draws below ``i`` read ``z[p]`` and the others
``z[p + 1]``: only ``m``, how many of the ``c`` draws are below ``i``, depends on the desa. The
spatial lag of row ``k`` therefore takes one of ``c + 1`` values, the same for every desa with
the same weights (with binary row-standardised weights: every desa with ``c`` neighbours).
:func:`crand` computes those values once per weight pattern, then per desa only looks up
``m`` for each row.

The numbers are esda's, bit for bit: the same draws (esda's own ``vec_permutations``, same
seed), the lags from the same BLAS call on a matrix of the same shape with each row in its
place (OpenBLAS sums a row differently depending on its position in the matrix, not on the
other rows), the statistic with esda's expression, and esda's "directed" pseudo p-value. The
tests compare with ``esda.Moran_Local`` and ``esda.G_Local`` on real layers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from libpysal.weights import W

#: Layers of at least this many desa keep esda's draws in povmap's cache: below, drawing them
#: takes about a second or less (9,999 permutations).
CACHED_FROM = 10_000

#: The statistic of one desa from its value ``zi``, the lags of its random draws, its self-weight
#: and the scaling, exactly as esda's kernels write it.
STATISTICS: dict[str, Callable[[np.ndarray, np.ndarray, float, float], np.ndarray]] = {
    # esda.moran._moran_local_crand
    "moran": lambda zi, lag, self_weight, scaling: zi * (lag + self_weight * zi) * scaling,
    # esda.getisord._g_local_star_crand
    "g_star": lambda zi, lag, self_weight, scaling: (lag + self_weight * zi) / scaling,
}


def crand(
    z: np.ndarray,
    w: W,
    observed: np.ndarray,
    permutations: int,
    statistic: str,
    *,
    seed: int,
    scaling: float | None = None,
    island_weight: float = 0.0,
) -> np.ndarray:
    """esda's ``crand(..., n_jobs=1, keep=False, alternative="directed")``: pseudo p-values.

    Parameters
    ----------
    z
        The values esda permutes, shape ``(n,)``: ``Moran_Local(...).z`` (standardised) for local
        Moran, ``y`` for Gi*.
    w
        The weights esda used, already transformed (``Moran_Local(...).w``, ``G_Local(...).w``).
        Not modified.
    observed
        The observed statistic per desa (``.Is``, ``.Gs``).
    permutations
        Number of random draws per desa.
    statistic
        ``"moran"`` or ``"g_star"`` (see :data:`STATISTICS`).
    seed
        Seed of esda's draws.
    scaling
        As esda's: ``None`` for local Moran (``(n - 1) / sum(z**2)``), ``y.sum()`` for Gi*.
    island_weight
        As esda's: the weight of the one drawn "neighbour" of a desa without neighbours.

    Returns
    -------
    esda's ``p_sim``: per desa ``(k + 1) / (permutations + 1)``, ``k`` the number of draws at
    least as extreme as the observed statistic in the tail it fell in; float32 as esda's.
    """
    z = np.asarray(z, dtype=float)
    observed = np.asarray(observed, dtype=float)
    n = len(z)
    if scaling is None:
        scaling = (n - 1) / (z * z).sum()
    # esda's set-up, on a copy: self-weights apart, the other weights row by row (CSR order).
    adj = w.sparse.tocsr(copy=True)
    self_weights = adj.diagonal().astype(z.dtype)
    adj.setdiag(0)
    adj.eliminate_zeros()
    cardinality = np.asarray((adj != 0).sum(1)).ravel()
    other = adj.data.astype(z.dtype)
    start = np.concatenate([[0], np.cumsum(cardinality)])
    draws = _draws(int(cardinality.max()), n, permutations, seed)
    if not draws.shape[1]:  # no desa has a neighbour: esda compares with no draws at all
        return np.ones(n, dtype=np.float32)
    # Desa with the same weights (self-weight first; an island: 0 and one island_weight, as
    # esda) share their candidate lags.
    island = np.array([0.0, island_weight], dtype=z.dtype)
    patterns: dict[bytes, list[int]] = {}
    for i in range(n):
        row = np.concatenate([self_weights[i : i + 1], other[start[i] : start[i + 1]]])
        patterns.setdefault((row if cardinality[i] else island).tobytes(), []).append(i)
    larger = np.zeros(n, dtype=np.int64)
    for key, members in patterns.items():
        row = np.frombuffer(key, dtype=z.dtype)
        rows = np.array(members)
        larger[rows] = _larger(
            z,
            observed,
            rows,
            draws[:, : len(row) - 1],
            row[1:].copy(),
            row[0],
            STATISTICS[statistic],
            scaling,
        )
    # esda's "directed" p-value: the tail the observed statistic fell in.
    low = (permutations - larger) < larger
    larger[low] = permutations - larger[low]
    return ((larger + 1.0) / (permutations + 1.0)).astype(np.float32)


def _draws(max_card: int, n: int, permutations: int, seed: int) -> np.ndarray:
    """esda's draws, ``vec_permutations(max_card, n, permutations, seed)``; for a layer of at
    least :data:`CACHED_FROM` desa kept in povmap's cache (:mod:`povmap._cache`).

    They depend on these four numbers alone, and each of their rows shuffles all ``n - 1``
    indices to keep ``max_card`` (NumPy's legacy ``choice``, whose stream esda's seed fixes):
    about 11 CPU-seconds for a national layer, the same in every run of it.
    """
    import importlib.util

    import esda
    from esda.crand import vec_permutations

    from . import _cache

    def compute() -> np.ndarray:
        return vec_permutations(max_card, n, permutations, seed)

    if n < CACHED_FROM:
        return compute()

    def unpack(entry: dict[str, np.ndarray]) -> np.ndarray:
        draws = entry["draws"]
        if draws.shape != (permutations, max_card) or draws.min() < 0 or draws.max() >= n - 1:
            raise ValueError("another layer's entry")
        return draws.astype(np.int64)

    parameters = {
        "esda_vec_permutations": [max_card, n, permutations, seed],
        # esda draws with numba's generator when numba is there: another stream, in principle.
        "versions": {
            "esda": esda.__version__,
            "numpy": np.__version__,
            "numba": importlib.util.find_spec("numba") is not None,
        },
    }
    key = _cache.key({}, parameters, [__file__, _cache.__file__], data=[])
    return _cache.computed(key, compute, lambda d: {"draws": d.astype(np.int32)}, unpack)


def _larger(
    z: np.ndarray,
    observed: np.ndarray,
    rows: np.ndarray,
    draws: np.ndarray,
    weights: np.ndarray,
    self_weight: float,
    stat: Callable,
    scaling: float,
) -> np.ndarray:
    """For desa ``rows`` (ascending) sharing ``weights``: how many permuted statistics are at
    least the observed one."""
    permutations, c = draws.shape
    if len(rows) <= c:  # fewer desa than candidate lags: each desa's lags as esda computes them
        return np.array(
            [
                (
                    stat(z[i], z[draws + (draws >= i)] @ weights, self_weight, scaling)
                    >= observed[i]
                ).sum()
                for i in rows
            ]
        )
    # lags[k, m]: row k's lag when its m smallest draws are below the desa (read z[p]) and the
    # others are not (read z[p + 1]); each computed as esda does, one (permutations, c) matrix
    # times the weights, row k in place.
    rank = np.argsort(np.argsort(draws, axis=1), axis=1)
    lags = np.empty((permutations, c + 1))
    for m in range(c + 1):
        lags[:, m] = z[draws + (rank >= m)] @ weights
    # A statistic is monotonic in the lag when the numbers are finite: then the rows whose lag
    # is the same for a whole chunk of desa are counted by bisection in their sorted lags.
    sortable = bool(np.isfinite(z).all() and np.isfinite(scaling) and scaling != 0)
    # Chunks of desa close together in the layer's order, so that few rows have a draw among
    # them: about sqrt(desa * (c + log2(permutations)) / c), balancing the per-chunk sort and
    # search against the rows counted one by one.
    size = max(16, int(np.sqrt(len(rows) * (c + np.log2(permutations)) / c)))
    out = np.empty(len(rows), dtype=np.int64)
    for lo in range(0, len(rows), size):
        chunk = rows[lo : lo + size]
        zi, seen = z[chunk], observed[chunk]
        # first[k, j]: the first desa of the chunk that draw p = draws[k, j] is below; the
        # desa before it read z[p + 1].
        first = np.searchsorted(chunk, draws, side="right")
        moving = ((first > 0) & (first < len(chunk))).any(axis=1) | (not sortable)
        still = np.flatnonzero(~moving)
        still_lags = np.sort(lags[still, (first[still] == 0).sum(axis=1)])
        counted = _at_least(stat, zi, still_lags, self_weight, scaling, seen)
        rows_moving = np.flatnonzero(moving)
        position = np.arange(len(chunk))[:, None]
        below = np.zeros((len(chunk), len(rows_moving)), dtype=np.intp)
        for j in range(c):
            below += first[rows_moving, j] <= position
        lag = lags[rows_moving, below]
        counted += (stat(zi[:, None], lag, self_weight, scaling) >= seen[:, None]).sum(axis=1)
        out[lo : lo + len(chunk)] = counted
    return out


def _at_least(
    stat: Callable,
    zi: np.ndarray,
    lags: np.ndarray,
    self_weight: float,
    scaling: float,
    observed: np.ndarray,
) -> np.ndarray:
    """How many of the sorted ``lags`` give each desa a statistic at least its observed one.

    ``stat`` is monotonic in the lag (an affine map, rounded at each step: rounding keeps the
    order), so whether a lag reaches the observed value changes at most once along the sorted
    lags: found by bisection, for every desa at once.
    """
    n = len(lags)
    if not n:
        return np.zeros(len(zi), dtype=np.int64)

    def reaches(j: np.ndarray) -> np.ndarray:
        return stat(zi, lags[j], self_weight, scaling) >= observed

    at_first = reaches(np.zeros(len(zi), dtype=np.intp))
    lo, hi = np.zeros(len(zi), dtype=np.intp), np.full(len(zi), n, dtype=np.intp)
    while (open_ := lo < hi).any():  # lo: the first lag whose answer differs from the first's
        mid = (lo + hi) // 2
        flips = reaches(np.minimum(mid, n - 1)) != at_first
        hi = np.where(open_ & flips, mid, hi)
        lo = np.where(open_ & ~flips, mid + 1, lo)
    return np.where(at_first, lo, n - lo)
