"""Small-cell suppression for public exports: no published number lets a small count be recovered.

What is done, for every count of poor people or families (``jumlah_miskin_ekstrem``,
``jumlah_keluarga_*``, ``jumlah_desil_*``; population totals are public and stay):

1. **Primary**: a count from 1 to N-1 is blanked. Zero is published (it discloses nobody).
2. **Rates**: a rate or density computed from a blanked count is blanked too, since the
   population is published and rate × population gives the count back.
3. **Secondary (complementary)**: published totals are sums of published cells. A kecamatan total
   is the sum of its desa, and the whole region's total is in the manifest. If one desa of a
   kecamatan were the only blanked cell, ``kecamatan - other desa`` would give it back; if one
   kecamatan were the only blanked one, ``region - other kecamatan`` would. So more cells are
   blanked until no blanked cell is determined by the published ones: the equations
   (kecamatan = sum of its desa, region = sum of kecamatan) form a graph whose edges are the
   blanked cells, and a cell is recoverable exactly when its edge is a bridge (cut space of an
   incidence matrix). The rules that follow, applied until nothing changes:

   - a kecamatan with exactly one blanked desa also blanks its smallest other non-zero desa, or,
     when it has no other desa, its own total;
   - a blanked kecamatan total blanks at least one of its desa (otherwise the desa sum gives it);
   - when only one kecamatan total is blanked, the next smallest non-zero kecamatan total is
     blanked as well (with a desa in it), so that ``region - others`` is a sum of two unknowns.

   A single layer (no kecamatan layer beside it) is protected against its own total the same
   way: never exactly one blanked cell.

This protects against exact recovery by subtraction; it does not hide that a blanked cell is
small (that is what the flag says). Class breaks are recomputed from the blanked values, so no
break (the maximum, for one) is a suppressed value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import PovmapInputError
from ..classify import Classification, classify
from ..counts import COUNT_COLUMNS, PUBLIC_COUNTS
from ..metrics import RATES

#: Counts that are suppressed when small.
SENSITIVE = tuple(c for c in COUNT_COLUMNS if c not in PUBLIC_COUNTS)
#: The flag column: True where any value of the row was blanked.
FLAG = "disamarkan"


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
    """What was blanked: per column, the codes blanked for being small and to protect others."""

    n: int
    primer: dict[str, list[str]] = field(default_factory=dict)
    sekunder: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Counts only (the codes would say which desa has a small number)."""
        return {
            "ambang": self.n,
            "sel_primer": {c: len(v) for c, v in self.primer.items()},
            "sel_sekunder": {c: len(v) for c, v in self.sekunder.items()},
            "catatan": self.notes,
        }


def suppress_below(gdf: gpd.GeoDataFrame, n: int) -> gpd.GeoDataFrame:
    """Blank counts under ``n`` (and the rates made from them) in one layer, and flag the rows.

    Parameters
    ----------
    gdf
        A desa or kecamatan layer with count columns (e.g. ``povmap.run(...).main``).
    n
        Threshold: counts 1 to ``n - 1`` are blanked.

    Returns
    -------
    A copy with blanked values (NaN), a boolean ``disamarkan`` column, the classes recomputed
    when the layer was classified, and :class:`Suppression` in ``attrs["povmap_suppression"]``.
    See the module docstring for the secondary suppression against the layer's total.
    """
    return suppress_layers({"lapisan": gdf}, n)["lapisan"]


def suppress_layers(layers: dict[str, gpd.GeoDataFrame], n: int) -> dict[str, gpd.GeoDataFrame]:
    """Suppress small cells in a desa layer and its kecamatan aggregate together.

    Parameters
    ----------
    layers
        ``{"desa": ..., "kecamatan": ...}`` as from ``povmap.run``; a single layer of any name is
        protected on its own.
    n
        Threshold: counts 1 to ``n - 1`` are blanked.

    Returns
    -------
    The layers, copied and suppressed (see :func:`suppress_below`).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise PovmapInputError(f"--suppress-below {n!r}: gunakan bilangan bulat ≥ 1, mis. 10.",
                               en=f"--suppress-below {n!r}: use a whole number ≥ 1, e.g. 10.")
    desa, kec = layers.get("desa"), layers.get("kecamatan")
    linked = [] if desa is None or kec is None or "kode_kecamatan" not in desa.columns else [
        c for c in SENSITIVE if c in desa.columns and c in kec.columns]
    group = _group_index(desa["kode_kecamatan"], kec["kode_kecamatan"]) if linked else None
    report = Suppression(n=int(n))
    masks: dict[str, dict[str, np.ndarray]] = {name: {} for name in layers}
    for column in SENSITIVE:
        if column in linked:
            sd, sk = _protect(_values(desa[column]), group, _values(kec[column]), n)
            masks["desa"][column], masks["kecamatan"][column] = sd, sk
            _record(report, column, desa, "kode_desa", sd, n)
            _record(report, column, kec, "kode_kecamatan", sk, n)
            if not _safe(sd, group, sk):
                report.notes.append(f"{column}: wilayah terlalu kecil untuk menyamarkan tanpa "
                                    "celah; periksa sebelum dipublikasikan.")
        for name, gdf in layers.items():
            if column in gdf.columns and column not in masks[name]:
                values = _values(gdf[column])
                mask, _ = _protect(values, np.zeros(len(values), int), None, n)
                masks[name][column] = mask
                own = next((c for c in ("kode_desa", "kode_kecamatan") if c in gdf.columns), None)
                _record(report, column, gdf, own, mask, n)
    out = {name: _apply(gdf, masks[name]) for name, gdf in layers.items()}
    for gdf in out.values():
        gdf.attrs["povmap_suppression"] = report
        gdf.attrs["povmap_disamarkan"] = bool(gdf[FLAG].any())
    return out


def _values(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)


def _group_index(desa_kec: pd.Series, kec_codes: pd.Series) -> np.ndarray:
    position = {code: i for i, code in enumerate(kec_codes)}
    missing = sorted(set(desa_kec) - set(position))
    if missing:
        raise PovmapInputError(
            f"Lapisan kecamatan tidak memuat kecamatan {', '.join(map(str, missing[:5]))} dari "
            "lapisan desa; buat lapisan kecamatan dengan povmap.aggregate dari desa yang sama.",
            en=f"The kecamatan layer lacks kecamatan {', '.join(map(str, missing[:5]))} of "
               "the desa layer; build the kecamatan layer with povmap.aggregate from the "
               "same desa.")
    return desa_kec.map(position).to_numpy(dtype=int)


def _primary(values: np.ndarray, n: int) -> np.ndarray:
    return (values >= 1) & (values < n)


def _protect(desa: np.ndarray, group: np.ndarray, kec: np.ndarray | None, n: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """Primary then secondary suppression masks for the desa cells and the kecamatan cells."""
    sd = _primary(desa, n)
    sk = _primary(kec, n) if kec is not None else np.zeros(0, bool)
    changed = True
    while changed:
        changed = False
        if kec is None:
            # One layer against its total: never exactly one blanked cell.
            if sd.sum() == 1:
                changed = _blank_one(desa, sd, np.ones(len(desa), bool))
            continue
        for j in range(len(kec)):
            members = group == j
            s_j = int(sd[members].sum())
            if s_j == 1 and not _escapes_via_region(j, sk, sd, group):
                changed |= _blank_one(desa, sd, members) or _set(sk, j)
            elif sk[j] and s_j == 0:
                changed |= _blank_one(desa, sd, members, allow_zero=True)
        blanked_kec = np.flatnonzero(sk)
        if len(blanked_kec) == 1:
            changed |= _blank_one(kec, sk, np.ones(len(kec), bool))
    return sd, sk


def _escapes_via_region(j: int, sk: np.ndarray, sd: np.ndarray, group: np.ndarray) -> bool:
    """Whether the one blanked desa of kecamatan ``j`` lies on a cycle through the region total."""
    if not sk[j]:
        return False
    return any(sk[other] and sd[group == other].any() for other in np.flatnonzero(sk)
               if other != j)


def _blank_one(values: np.ndarray, mask: np.ndarray, among: np.ndarray,
               allow_zero: bool = False) -> bool:
    """Blank the smallest non-zero published cell among ``among`` (zero if allowed and needed)."""
    candidates = among & ~mask & ~np.isnan(values)
    nonzero = candidates & (values > 0)
    pool = nonzero if nonzero.any() else (candidates if allow_zero else nonzero)
    if not pool.any():
        return False
    index = np.flatnonzero(pool)
    mask[index[np.argmin(values[index])]] = True
    return True


def _set(mask: np.ndarray, j: int) -> bool:
    if mask[j]:
        return False
    mask[j] = True
    return True


def _safe(sd: np.ndarray, group: np.ndarray, sk: np.ndarray) -> bool:
    """No blanked cell is a bridge (see the module docstring)."""
    for j in range(len(sk)):
        s_j = int(sd[group == j].sum())
        if s_j == 1 and not _escapes_via_region(j, sk, sd, group):
            return False
        if sk[j] and (s_j == 0 or not _escapes_via_region(j, sk, sd, group)):
            return False
    return True


def _record(report: Suppression, column: str, gdf: gpd.GeoDataFrame, code: str | None,
            mask: np.ndarray, n: int) -> None:
    codes = gdf[code].astype(str).to_numpy() if code else np.arange(len(gdf)).astype(str)
    primary = _primary(_values(gdf[column]), n)
    report.primer.setdefault(column, []).extend(codes[mask & primary].tolist())
    report.sekunder.setdefault(column, []).extend(codes[mask & ~primary].tolist())


def _apply(gdf: gpd.GeoDataFrame, masks: dict[str, np.ndarray]) -> gpd.GeoDataFrame:
    out = gdf.copy()
    flag = np.zeros(len(out), bool)
    for column, mask in masks.items():
        if not mask.any():
            continue
        flag |= mask
        for target in [column, *DERIVED.get(column, [])]:
            if target in out.columns:
                out[target] = out[target].astype("float64").mask(mask)
    out[FLAG] = flag
    classification = gdf.attrs.get("povmap_classification")
    if classification is not None and "kelas" in out.columns:
        out = _reclassify(out, classification)
    return out


def _reclassify(gdf: gpd.GeoDataFrame, c: Classification) -> gpd.GeoDataFrame:
    """Same scheme and number of classes, breaks from the published values only."""
    breaks = list(c.bins) if c.scheme == "user" else None
    out = classify(gdf.drop(columns="kelas"), c.column, scheme=c.scheme, k=max(c.k, 2),
                   breaks=breaks)
    return out[list(gdf.columns)]  # kelas back in its place
