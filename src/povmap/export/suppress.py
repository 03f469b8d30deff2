"""Small-cell suppression for public outputs: nothing published pins a blanked count to one value.

**What an attacker is assumed to know**: everything povmap publishes with ``--suppress-below N``:
every published cell, zeros included (so a blanked count is at least 1); every kecamatan total,
and the region total in the manifest; rates and densities (population and area are published, so
rate × population gives a count back); class indices and breaks; pocket flags; the threshold N.
And, to be safe, more than is published: which blanked cells are small (*primary*, then 1 to
N-1) and which were blanked to protect them (*secondary*, then N or more).

**What is done**, for every count of poor people or families (``jumlah_miskin_ekstrem``,
``jumlah_keluarga_*``, ``jumlah_desil_*``; population totals are public and stay):

1. **Primary**: counts 1 to N-1 are blanked, in the desa and the kecamatan layer. Zero is
   published: it discloses nobody.
2. **Derived**: rates and densities computed from a blanked count are blanked with it; classes
   are recomputed from the published values only, so a blanked row has no class (``kelas = -1``)
   and no break is a blanked value; the pocket flags (``kantong``, ``jenis_kantong``,
   ``id_kantong``) of a blanked row are blanked, since a pocket says its rate is high.
3. **Secondary (complementary)**: published totals are linear equations on the blanked cells (a
   kecamatan total is the sum of its desa, the region total the sum of the kecamatan). With the
   bounds above, a blanked cell is *pinned* when the equations leave it a single value: one
   blanked desa alone in a kecamatan, or two blanked desa whose kecamatan total minus the
   published desa is 2 (both must be 1). Cells are added until none is pinned:

   - a kecamatan whose published total pins its blanked desa (one alone, or all of them at the
     lowest or the highest values their bounds allow) blanks its smallest other non-zero desa
     that unpins them, else its own total;
   - a blanked kecamatan total blanks at least one of its desa;
   - the blanked kecamatan totals and their blanked desa, tied together by the region total,
     are checked by linear programming (scipy ``linprog``: the smallest and largest value each
     cell can take); while one is pinned, another desa of its kecamatan is blanked, else another
     kecamatan total (with one of its desa), and when nothing is left to blank, the region total
     is not published (:attr:`Suppression.total_hidden`, blanked in the manifest).

   The equations form a network matrix (totally unimodular), so with whole-number bounds the
   extreme values are whole numbers: a cell that is not pinned has at least two possible values.

A layer without a kecamatan layer beside it is protected the same way against its own total.
N must be at least 3: with N = 2 every small cell is 1, so a blanked small cell is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import PovmapInputError
from .._messages import message
from ..classify import Classification, Classified, reclassify
from ..counts import COUNT_COLUMNS, PUBLIC_COUNTS
from ..metrics import RATES
from ..result import Result

#: Counts that are suppressed when small.
SENSITIVE = tuple(c for c in COUNT_COLUMNS if c not in PUBLIC_COUNTS)
#: The flag column: True where any value of the row was blanked.
FLAG = "disamarkan"
#: Pocket results blanked on a blanked row: a pocket flag says the row's rate is high.
POCKET_COLUMNS = ("kantong", "jenis_kantong", "id_kantong")
#: The smallest threshold that protects anything: with 2, a blanked small count is 1.
MIN_THRESHOLD = 3


def _derived() -> dict[str, list[str]]:
    """Values computed from each sensitive count, blanked with it."""
    derived: dict[str, list[str]] = {column: [] for column in SENSITIVE}
    for rate, (numerator, _) in RATES.items():
        derived.setdefault(numerator, []).append(rate)
    derived["jumlah_miskin_ekstrem"].append("kepadatan_miskin_ekstrem")
    return derived


#: Values derived from each count (blanked with it).
DERIVED = _derived()


@dataclass
class Suppression:
    """What was blanked.

    Attributes
    ----------
    n
        The threshold: counts 1 to ``n - 1`` were blanked.
    primer, sekunder
        Per count column, the codes blanked for being small and those blanked to protect them
        (desa and kecamatan codes together).
    per_layer
        Per layer name, ``{"primer": {column: cells}, "sekunder": {column: cells}}``.
    columns
        The count columns that were checked.
    derived
        The other columns blanked with them (rates, densities, pocket flags).
    total_hidden
        Count columns whose region total must not be published (no other cell was left to
        protect the blanked ones with).
    notes
        Remarks for the user.
    """

    n: int
    primer: dict[str, list[str]] = field(default_factory=dict)
    sekunder: dict[str, list[str]] = field(default_factory=dict)
    per_layer: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    derived: list[str] = field(default_factory=list)
    total_hidden: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """For the manifest: counts only (codes would say which desa has a small number)."""
        return {
            "ambang": self.n,
            "kolom": self.columns,
            "kolom_ikut_dikosongkan": self.derived,
            "sel_primer": {c: len(v) for c, v in self.primer.items()},
            "sel_sekunder": {c: len(v) for c, v in self.sekunder.items()},
            "per_lapisan": self.per_layer,
            "total_wilayah_tidak_dipublikasikan": self.total_hidden,
            "catatan": self.notes,
        }


def check_threshold(n: object) -> int:
    """``n`` as an int when it is a usable ``--suppress-below`` threshold.

    Raises
    ------
    PovmapInputError
        For anything but a whole number of at least :data:`MIN_THRESHOLD`.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < MIN_THRESHOLD:
        raise PovmapInputError.from_catalogue(
            "suppress.suppress_below_whole_number", n=n, min_threshold=MIN_THRESHOLD
        )
    return int(n)


@dataclass(frozen=True)
class Suppressed:
    """Layers after small-cell suppression, and what was blanked.

    Attributes
    ----------
    layers
        The layers by name, copied and suppressed, of the kind given: a GeoDataFrame stays a
        GeoDataFrame; a :class:`povmap.classify.Classified` layer comes back classified anew on
        the published values (same scheme and number of classes).
    report
        What was blanked (:class:`Suppression`; ``report.to_dict()`` is the manifest's
        ``penyamaran``).
    """

    layers: dict[str, gpd.GeoDataFrame | Classified]
    report: Suppression

    @property
    def layer(self) -> gpd.GeoDataFrame | Classified:
        """The first (for :func:`suppress_below`, the only) layer."""
        return next(iter(self.layers.values()))


def suppress_below(layer: gpd.GeoDataFrame | Classified, n: int) -> Suppressed:
    """Blank counts under ``n`` (and the rates made from them) in one layer, and flag the rows.

    Parameters
    ----------
    layer
        A desa or kecamatan layer with count columns (e.g. ``povmap.run(...).main``), or a
        classified one (``povmap.classify(...)``, ``povmap.run(...).classified()``).
    n
        Threshold: counts 1 to ``n - 1`` are blanked; at least 3.

    Returns
    -------
    Suppressed
        ``.layer``: a copy with blanked values (NaN) and a boolean ``disamarkan`` column,
        classified anew when ``layer`` was classified; ``.report``: :class:`Suppression`. The
        layer is protected against its own total (see the module docstring).

    Raises
    ------
    PovmapInputError
        For a threshold under 3, or a layer that cannot be protected.
    """
    return suppress_layers({"lapisan": layer}, n)


def suppress_result(result: Result, n: int) -> Result:
    """The run ``result`` with its layers suppressed together (:func:`suppress_layers`).

    Parameters
    ----------
    result
        The result of :func:`povmap.run` (its ``layers`` and ``classifications``).
    n
        The threshold: every count from 1 to ``n - 1`` (jiwa or KK) is blanked, with the
        complementary cells that would let it be recomputed (3 at least).

    Returns
    -------
    Result
        A copy whose ``layers`` are suppressed, ``classifications`` recomputed on the published
        values and ``suppression`` the report (``Suppression.to_dict()``); the join report,
        inputs and pockets as they were.

    Raises
    ------
    PovmapInputError
        As :func:`suppress_layers`.
    """
    done = suppress_layers({name: result.classified(name) for name in result.layers}, n)
    layers = {name: layer for name, layer in done.layers.items() if isinstance(layer, Classified)}
    return replace(
        result,
        layers={name: c.gdf for name, c in layers.items()},
        classifications={name: c.classification for name, c in layers.items()},
        suppression=done.report.to_dict(),
    )


def suppress_layers(layers: Mapping[str, gpd.GeoDataFrame | Classified], n: int) -> Suppressed:
    """Suppress small cells in a desa layer and its kecamatan aggregate together.

    Parameters
    ----------
    layers
        ``{"desa": ..., "kecamatan": ...}`` as from ``povmap.run`` (the kecamatan counts the sums
        of the desa counts), each a GeoDataFrame or a classified layer; a single layer of any
        name is protected on its own.
    n
        Threshold: counts 1 to ``n - 1`` are blanked; at least 3.

    Returns
    -------
    Suppressed
        The layers, copied and suppressed (see :func:`suppress_below`), and the report.

    Raises
    ------
    PovmapInputError
        For a threshold under 3, a kecamatan layer lacking kecamatan of the desa layer, or
        cells that no further suppression can protect.
    """
    n = check_threshold(n)
    given = dict(layers)
    frames = {
        name: (layer.gdf if isinstance(layer, Classified) else layer)
        for name, layer in given.items()
    }
    desa, kec = frames.get("desa"), frames.get("kecamatan")
    linked = (
        []
        if desa is None or kec is None or "kode_kecamatan" not in desa.columns
        else [c for c in SENSITIVE if c in desa.columns and c in kec.columns]
    )
    group = (
        _group_index(desa["kode_kecamatan"], kec["kode_kecamatan"])
        if linked and desa is not None and kec is not None
        else None
    )
    report = Suppression(n=n)
    masks: dict[str, dict[str, np.ndarray]] = {name: {} for name in frames}
    for column in SENSITIVE:
        present = [name for name, gdf in frames.items() if column in gdf.columns]
        if not present:
            continue
        report.columns.append(column)
        if column in linked:
            assert desa is not None and kec is not None and group is not None  # linked says so
            table = _Table(_values(desa[column]), group, _values(kec[column]), n, column)
            masks["desa"][column], masks["kecamatan"][column] = table.protect()
            if not table.total_public:
                report.total_hidden.append(column)
        for name in present:
            if column not in masks[name]:
                values = _values(frames[name][column])
                table = _Table(values, np.zeros(len(values), int), None, n, column)
                masks[name][column] = table.protect()[0]
                if not table.total_public and column not in report.total_hidden:
                    report.total_hidden.append(column)
            _record(report, column, name, frames[name], masks[name][column], n)
    out = {name: _apply(layer, masks[name]) for name, layer in given.items()}
    report.notes.extend(
        message("suppress.total_hidden", column=column) for column in report.total_hidden
    )
    report.derived = sorted(
        {
            c
            for gdf in frames.values()
            for column in report.columns
            for c in (*DERIVED.get(column, []), *POCKET_COLUMNS)
            if c in gdf.columns
        }
    )
    return Suppressed(out, report)


def _values(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)


def _group_index(desa_kec: pd.Series, kec_codes: pd.Series) -> np.ndarray:
    position = {code: i for i, code in enumerate(kec_codes)}
    missing = sorted(set(desa_kec) - set(position))
    if missing:
        raise PovmapInputError.from_catalogue(
            "suppress.kecamatan_layer_lacks_kecamatan", missing=", ".join(map(str, missing[:5]))
        )
    return desa_kec.map(position).to_numpy(dtype=int)


def _primary(values: np.ndarray, n: int) -> np.ndarray:
    return (values >= 1) & (values < n)


def bounds(values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """What an attacker who knows which blanked cells are small can say of each blanked cell.

    Parameters
    ----------
    values
        The true counts of blanked cells.
    n
        The threshold.

    Returns
    -------
    Lower and upper bounds: 1 and ``n - 1`` for a small (primary) cell; ``n`` and infinity for a
    cell blanked to protect others (it is not small, and zeros are published, so it is not 0);
    0 and infinity for a blanked zero.
    """
    values = np.asarray(values, dtype=float)
    small = _primary(values, n)
    lower = np.where(small, 1.0, np.where(values >= n, float(n), 0.0))
    upper = np.where(small, float(n - 1), np.inf)
    return lower, upper


def _pinned_by_total(values: np.ndarray, n: int) -> bool:
    """Whether a published total pins the blanked cells it sums (one equation, box bounds).

    With the sum ``S`` between the sums of the lower bounds ``L`` and upper bounds ``U``, cell
    ``i`` can move by ``min(u_i - l_i, S - L, U - S, U - L - (u_i - l_i))``: it is pinned exactly
    when there is one cell, or ``S`` is ``L`` or ``U``.
    """
    lower, upper = bounds(values, n)
    total = values.sum()
    return len(values) < 2 or total == lower.sum() or total == upper.sum()


class _Table:
    """One count column: desa cells grouped into kecamatan cells, under a region total."""

    def __init__(
        self, desa: np.ndarray, group: np.ndarray, kec: np.ndarray | None, n: int, column: str
    ):
        # Without a kecamatan layer the one "kecamatan" is the region: blanking its total
        # means not publishing the region total.
        self.top = kec is None
        self.desa, self.group, self.n, self.column = desa, group, n, column
        self.kec = np.array([np.nansum(desa)]) if kec is None else kec
        self.sd = _primary(desa, n)
        self.sk = _primary(self.kec, n)
        self.total_public = True

    def protect(self) -> tuple[np.ndarray, np.ndarray]:
        """Blank secondary cells until none is pinned; the desa and kecamatan masks."""
        while self._fix_kecamatan() or (not self.top and self._fix_region()):
            pass
        if self.top:
            self.total_public = not self.sk[0]
            return self.sd, np.zeros(0, bool)
        return self.sd, self.sk

    def _fix_kecamatan(self) -> bool:
        changed = False
        for j in range(len(self.kec)):
            members = self.group == j
            blanked = members & self.sd
            if self.sk[j]:
                if not blanked.any():
                    changed |= self._blank_desa(members)  # else the desa give the total back
            elif blanked.any() and _pinned_by_total(self.desa[blanked], self.n):
                changed = True
                if not self._blank_desa(members, unpinning=blanked):
                    self.sk[j] = True
        return changed

    def _blank_desa(self, members: np.ndarray, unpinning: np.ndarray | None = None) -> bool:
        """Blank the smallest non-zero published desa among ``members``, preferring one that
        unpins the ``unpinning`` cells; whether one was left to blank."""
        pool = np.flatnonzero(members & ~self.sd & (self.desa > 0))
        if not len(pool):
            return False
        pool = pool[np.argsort(self.desa[pool], kind="stable")]
        chosen = pool[0]
        if unpinning is not None:
            chosen = next(
                (
                    i
                    for i in pool
                    if not _pinned_by_total(
                        self.desa[np.append(np.flatnonzero(unpinning), i)], self.n
                    )
                ),
                chosen,
            )
        self.sd[chosen] = True
        return True

    def _fix_region(self) -> bool:
        """Unpin the blanked kecamatan totals and their desa, tied by the region total."""
        pinned = self._pinned_in_region()
        if not pinned:
            return False
        for j in pinned:  # another desa of a pinned kecamatan first: it lowers what is known
            if self._blank_desa(self.group == j):
                return True
        pool = np.flatnonzero(~self.sk & (self.kec > 0))
        if len(pool):  # its desa follows in _fix_kecamatan
            self.sk[pool[np.argmin(self.kec[pool])]] = True
            return True
        if self.total_public:
            self.total_public = False
            return True
        raise PovmapInputError.from_catalogue(
            "suppress.column_small_counts_kecamatan", column=self.column, value=pinned[0] + 1
        )

    def _pinned_in_region(self) -> list[int]:
        """Kecamatan whose blanked total or blanked desa the region's equations pin."""
        kecs = np.flatnonzero(self.sk)
        if not len(kecs):
            return []
        cells = [i for i in np.flatnonzero(self.sd) if self.sk[self.group[i]]]
        values = np.concatenate([self.kec[kecs], self.desa[cells]])
        owner = np.concatenate([kecs, self.group[cells]])
        a = np.zeros((len(kecs) + 1, len(values)))
        for row, j in enumerate(kecs):  # y_j - sum of its blanked desa = its published desa
            a[row, row] = 1.0
            a[row, len(kecs) :] = -(self.group[cells] == j).astype(float)
        a[-1, : len(kecs)] = 1.0  # the region total less the published kecamatan
        if not self.total_public:
            a = a[:-1]
        lower, upper = bounds(values, self.n)
        span = feasible_ranges(a, a @ values, lower, upper)
        return sorted({int(owner[k]) for k in np.flatnonzero(span[:, 1] - span[:, 0] < 0.5)})


def feasible_ranges(
    a: np.ndarray, b: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """Smallest and largest value of each unknown under ``a @ x = b`` and the bounds.

    Parameters
    ----------
    a, b
        The published equations on the blanked cells.
    lower, upper
        Bounds per cell (``upper`` may be ``inf``).

    Returns
    -------
    ``(len(lower), 2)`` array of ``[min, max]`` per cell, by linear programming (HiGHS).
    """
    # Imported here: scipy.optimize takes a second to import, and only suppression with linked
    # totals needs it (not every map or export that imports this module).
    from scipy.optimize import linprog

    bounds_ = [(lo, None if np.isinf(hi) else hi) for lo, hi in zip(lower, upper, strict=True)]
    out = np.empty((len(lower), 2))
    for k in range(len(lower)):
        for side, sign in ((0, 1.0), (1, -1.0)):
            c = np.zeros(len(lower))
            c[k] = sign
            res = linprog(
                c,
                A_eq=a if len(a) else None,
                b_eq=b if len(a) else None,
                bounds=bounds_,
                method="highs",
            )
            out[k, side] = (
                sign * res.fun if res.status == 0 else (np.inf if side else -np.inf)
            )  # unbounded: far from pinned
    return out


def _record(
    report: Suppression, column: str, layer: str, gdf: gpd.GeoDataFrame, mask: np.ndarray, n: int
) -> None:
    own = next((c for c in ("kode_desa", "kode_kecamatan") if c in gdf.columns), None)
    codes = gdf[own].astype(str).to_numpy() if own else np.arange(len(gdf)).astype(str)
    primary = _primary(_values(gdf[column]), n)
    report.primer.setdefault(column, []).extend(codes[mask & primary].tolist())
    report.sekunder.setdefault(column, []).extend(codes[mask & ~primary].tolist())
    counts = report.per_layer.setdefault(layer, {"primer": {}, "sekunder": {}})
    counts["primer"][column] = int((mask & primary).sum())
    counts["sekunder"][column] = int((mask & ~primary).sum())


def _apply(
    layer: gpd.GeoDataFrame | Classified, masks: dict[str, np.ndarray]
) -> gpd.GeoDataFrame | Classified:
    gdf = layer.gdf if isinstance(layer, Classified) else layer
    out = gdf.copy()
    flag = np.zeros(len(out), bool)
    for column, mask in masks.items():
        if not mask.any():
            continue
        flag |= mask
        for target in [column, *DERIVED.get(column, [])]:
            if target in out.columns:
                out[target] = out[target].astype("float64").mask(mask)
    for target in POCKET_COLUMNS:
        if target in out.columns:
            out[target] = out[target].mask(flag)
    out[FLAG] = flag
    if isinstance(layer, Classified):
        return _reclassify(out, layer.classification)
    return out


def _reclassify(gdf: gpd.GeoDataFrame, c: Classification) -> Classified:
    """Same scheme and number of classes, breaks from the published values only."""
    out = reclassify(gdf, c)  # the classes asked for, not the fewer the old values allowed
    return replace(out, gdf=out.gdf[[*gdf.columns, *(["kelas"] if "kelas" not in gdf else [])]])
