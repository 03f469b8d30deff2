"""National by-name registers (DTSEN, P3KE: tens of millions of rows) to counts per desa, in DuckDB.

:func:`povmap.read_counts` reads a by-name register into pandas, which holds every cell of every
row in memory: fine for a kabupaten, not for the 20-odd million people of a province or the
whole country. :func:`aggregate_register` gives the same counts (people and families per desa
and desil, the people a verification marked dead, not found or moved left out) by running one
SQL query in DuckDB straight on the CSV or Parquet file: DuckDB streams the file in parallel and
holds only the groups (desa × desil), spilling to disk past ``memory_limit``. NIK, names and
addresses are never selected, so they never leave the file.

The query is plain SQL over the file, so the national team can run the same aggregation on a
cluster engine; the README gives it for Spark SQL and Dask. Rows are grouped by their desa code
only: a register whose rows lack a valid desa code (names only) needs the name matching of
:func:`povmap.read_counts`, and is refused with the rows to fix.

Install with ``pip install povmap[scale]``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._errors import PovmapInputError, Text, reason
from ._messages import message
from .codes import code_level, normalize_codes
from .counts import HEADER_ALIASES, CountsInfo, CountsTable, _alias_key, _header_key
from .p3ke import (
    _HEAD,
    EXCLUDED_STATUS,
    SHOWN_ROWS,
    by_name_columns,
    check_desil,
    desil_sql,
    is_by_name,
    notes_of,
)

#: Name columns carried per desa (the first row's value), as :func:`povmap.read_counts` does.
_NAMES = ("nama_provinsi", "nama_kabupaten", "nama_kecamatan", "nama_desa")


def aggregate_register(
    path: str | os.PathLike,
    *,
    memory_limit: str = "4GB",
    threads: int | None = None,
    allow_invalid: bool = False,
) -> CountsTable:
    """Count people and families per desa and desil of a by-name register, in DuckDB.

    Parameters
    ----------
    path
        The register as CSV (any delimiter DuckDB detects; header on the first line) or Parquet,
        one row per person (``id_individu`` ...) or per family, with a Kemendagri desa code
        column (``kode_wilayah``, ``kode_desa`` ...), ``desil_kesejahteraan`` and optionally
        ``status_keberadaan``, ``id_keluarga_P3KE``, ``hubungan_dengan_kepala_keluarga``,
        ``jumlah_anggota_keluarga`` (the spellings :mod:`povmap.p3ke` knows).
    memory_limit
        DuckDB's memory limit (``"4GB"``); past it, DuckDB spills to a temporary folder.
    threads
        DuckDB threads; by default all cores.
    allow_invalid
        Leave out rows whose desil is impossible (the rule of :func:`povmap.p3ke.desil_of`,
        run as SQL), counted as ``desil_tidak_sah``, instead of stopping; as
        :func:`povmap.read_counts` does. When there are such rows, a second pass over the file
        finds the first of them (for the message or the note).

    Returns
    -------
    povmap.counts.CountsTable
        What :func:`povmap.read_counts` gives for the same register: ``frame`` has one row per
        desa with ``baris`` (its first data row, the header being row 1), ``kode_asli``,
        ``kode_wilayah`` (dotted), the name columns the register has, and ``jumlah_desil_d``
        (people) and ``jumlah_keluarga_desil_d`` (families) for d = 1 up to the highest desil
        present (at least 4), as floats; ``source.p3ke`` says what was left out.

    Raises
    ------
    PovmapInputError
        If DuckDB is not installed, the file cannot be read, it is not a by-name register,
        some rows have an impossible desil (without ``allow_invalid``; the message names the
        rows, never the cells), or some rows have no valid desa code (the message gives the
        first such rows).
    """
    try:
        import duckdb
    except ImportError as exc:
        raise PovmapInputError.from_catalogue("scale.needs_duckdb") from exc
    path = Path(path)
    if not path.exists():
        raise PovmapInputError.from_catalogue("scale.not_found", path=path)
    con = duckdb.connect(
        config={"memory_limit": memory_limit, **({"threads": threads} if threads else {})}
    )
    # DuckDB draws its own progress bar on a long query; a library prints nothing.
    con.execute("SET enable_progress_bar = false")
    try:
        source = _source(con, path)
        headers = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        columns = _columns(headers, path)
        per_group, rows, no_desil, left_out, bad_rows = _query(con, source, columns)
        spellings = _one_spelling(per_group)
        if columns["individual"] and "id_keluarga" in columns and len(spellings):
            # Families are counted distinct per code as written: again, one spelling per desa.
            per_group, rows, no_desil, left_out, bad_rows = _query(con, source, columns, spellings)
    except duckdb.Error as exc:
        raise PovmapInputError.from_catalogue(
            "scale.unreadable", path=path, reason=reason(exc, message("scale.use_csv_or_parquet"))
        ) from exc
    finally:
        con.close()
    n_invalid = int(per_group.loc[per_group["tidak_sah"], "n"].sum())
    check_desil(
        n_invalid, bad_rows, columns["desil"], path, allow_invalid=allow_invalid, total=rows
    )
    # Left out whole, as read_counts does: a shifted row's code is as unreliable as its desil.
    out = _per_desa(per_group[~per_group["tidak_sah"]], columns, path)
    info = {
        "jenis": "individu" if columns["individual"] else "keluarga",
        "baris_data": rows,
        "dikecualikan": left_out,
        "tanpa_desil": no_desil,
        "desil_tidak_sah": n_invalid,
        "baris_desil_tidak_sah": bad_rows,
    }
    used: dict[str, str] = {"kode_wilayah": columns["kode"]}
    used.update(
        {
            name: columns[name]
            for name in ("desil", "status", "id_keluarga", "id_individu", "hubungan", "anggota")
            if name in columns
        }
    )
    return CountsTable(
        out,
        CountsInfo(
            path=str(path), columns={**used, **columns["names"]}, notes=notes_of(info), p3ke=info
        ),
    )


def _source(con, path: Path) -> str:
    """The table function reading ``path`` (the path passed as a quoted literal, never as SQL)."""
    literal = "'" + str(path).replace("'", "''") + "'"
    if path.suffix.lower() in (".parquet", ".pq"):
        return f"read_parquet({literal})"
    return f"read_csv({literal}, header = true, all_varchar = true)"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(headers: list[str], path: Path) -> dict[str, Any]:
    """Which header is the code, desil, status, family id, head-of-family and members column."""
    keys = [_header_key(h) for h in headers]
    if not is_by_name(keys):
        raise PovmapInputError.from_catalogue("scale.not_by_name", path=path)
    found: dict[str, Any] = {name: headers[pos] for name, pos in by_name_columns(keys).items()}
    codes = [h for h in headers if _alias_key(h) in HEADER_ALIASES.get("kode_wilayah", ())]
    if not codes:
        raise PovmapInputError.from_catalogue("scale.no_code_column", path=path)
    found["kode"] = codes[0]
    found["names"] = {
        name: h for name in _NAMES for h in headers if _alias_key(h) in HEADER_ALIASES.get(name, ())
    }
    found["individual"] = "id_individu" in found or "hubungan" in found
    return found


def _normalised(column: str) -> str:
    """SQL of :func:`povmap.p3ke._status`: lower case, non-letters to one space, trimmed."""
    return (
        f"trim(regexp_replace(lower(coalesce(CAST({_quote(column)} AS VARCHAR), '')), "
        "'[^a-z]+', ' ', 'g'))"
    )


def _query(
    con, source: str, columns: dict, spellings: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, int, int, dict[str, int], list[int]]:
    """One pass over the file: counts per (code as written, desil, reason left out).

    ``spellings`` (columns ``dari``, ``ke``) rewrites a code written ``dari`` as ``ke`` before
    counting: :func:`_one_spelling` gives one spelling per desa, so that a family written under
    two spellings of its desa code is counted once.

    Returns the groups (``tidak_sah`` marks those of rows with an impossible desil), the rows
    read, without a desil, and left out per status category (rows with an impossible desil in
    none of them), and the first rows with an impossible desil (a second pass, when any).
    """
    status = _normalised(columns["status"]) if "status" in columns else "''"
    # p3ke._category: a status starting with "ditemukan" stays; else the first excluded word
    # it contains says why it leaves.
    category = " ".join(f"WHEN contains(status, '{w}') THEN '{w}'" for w in EXCLUDED_STATUS)
    # p3ke.desil_of, the same rule written in SQL from the same patterns: read, then judged.
    read, desil, impossible = desil_sql(_quote(columns["desil"]))
    names = "".join(f", {_quote(h)} AS {n}" for n, h in columns["names"].items())
    people, families, family_sum = "1.0", "NULL", "NULL"
    if columns["individual"]:
        if "id_keluarga" in columns:
            families = f"nullif(trim(CAST({_quote(columns['id_keluarga'])} AS VARCHAR)), '')"
            family_sum = "count(DISTINCT keluarga)"
        elif "hubungan" in columns:
            families = (
                f"CASE WHEN regexp_matches({_normalised(columns['hubungan'])}, "
                f"'{_HEAD.pattern}') THEN 1.0 ELSE 0.0 END"
            )
            family_sum = "sum(keluarga)"
    else:
        families, family_sum = "1.0", "sum(keluarga)"
        people = (
            f"TRY_CAST({_quote(columns['anggota'])} AS DOUBLE)" if "anggota" in columns else "NULL"
        )
    first_names = "".join(
        f", arg_min({n}, baris) FILTER (WHERE nullif(trim({n}), '') IS NOT NULL) AS {n}"
        for n in columns["names"]
    )
    spelled = ""
    if spellings is not None:
        con.register("_ejaan", spellings)
        spelled = """,
        r AS (SELECT w.* REPLACE (coalesce(e.ke, w.kode) AS kode)
              FROM w LEFT JOIN _ejaan e ON e.dari = w.kode)"""
    rows = f"""
        WITH {"w" if spellings is not None else "r"} AS (
            SELECT row_number() OVER () + 1 AS baris,
                   trim(CAST({_quote(columns["kode"])} AS VARCHAR)) AS kode, {read},
                   {status} AS status, {people} AS orang, {families} AS keluarga{names}
            FROM {source}){spelled},
        d AS (SELECT * EXCLUDE (_desil_teks), {desil} AS desil, {impossible} AS tidak_sah
              FROM r)"""
    groups = con.execute(f"""{rows},
        c AS (
            SELECT *, CASE WHEN tidak_sah OR starts_with(status, 'ditemukan') THEN NULL
                           ELSE CASE {category} END END AS pergi
            FROM d)
        SELECT kode,
               CASE WHEN pergi IS NULL AND NOT tidak_sah THEN CAST(desil AS BIGINT) END AS desil,
               pergi, tidak_sah, min(baris) AS baris, count(*) AS n, sum(orang) AS orang,
               {family_sum} AS keluarga{first_names}
        FROM c GROUP BY ALL""").df()
    # The first rows with an impossible desil, for the message or the note: a second pass, only
    # when there are such rows (listing them in the pass above slows every register down).
    first = (
        [
            int(row[0])
            for row in con.execute(
                f"{rows} SELECT baris FROM d WHERE tidak_sah ORDER BY baris LIMIT {SHOWN_ROWS}"
            ).fetchall()
        ]
        if groups["tidak_sah"].any()
        else []
    )
    counted = groups["desil"].notna()
    kept = groups["pergi"].isna() & ~groups["tidak_sah"]
    left = groups[groups["pergi"].notna()].groupby("pergi")["n"].sum()
    return (
        groups,
        int(groups["n"].sum()),
        int(groups.loc[kept & ~counted, "n"].sum()),
        {str(c): int(n) for c, n in sorted(left.items())},
        first,
    )


def _one_spelling(groups: pd.DataFrame) -> pd.DataFrame:
    """The codes written otherwise than the first row of their desa wrote them (``dari``), with
    that first spelling (``ke``); desa are told apart by :func:`povmap.codes.normalize_codes`,
    as :func:`povmap.read_counts` tells them apart. Empty when every desa has one spelling.
    """
    written = groups.dropna(subset="kode").groupby("kode")["baris"].min().sort_values()
    desa = normalize_codes(written.index).to_numpy()
    known = pd.notna(desa)
    first = pd.Series(written.index[known], index=desa[known]).groupby(level=0).first()
    found = pd.DataFrame(
        {"dari": written.index[known], "ke": first.reindex(desa[known]).to_numpy()}
    )
    return found[found["dari"] != found["ke"]].reset_index(drop=True)


def _per_desa(groups: pd.DataFrame, columns: dict, path: Path) -> pd.DataFrame:
    """One row per desa in the layout of :func:`povmap.read_counts` (small: desa × desil)."""
    written = groups["kode"].dropna().unique()
    dotted = dict(zip(written, normalize_codes(written), strict=True))
    groups = groups.assign(kode_wilayah=groups["kode"].map(dotted))
    bad = groups[
        [not isinstance(c, str) or code_level(c) != "desa" for c in groups["kode_wilayah"]]
    ]
    if len(bad):
        first_rows = bad.sort_values("baris")
        examples = ", ".join(
            f"{c} (baris {b})"
            for c, b in zip(
                first_rows["kode"].fillna("(kosong)")[:5], first_rows["baris"][:5], strict=True
            )
        )
        raise PovmapInputError.from_catalogue(
            "scale.rows_without_desa_code",
            path=path,
            n=int(bad["n"].sum()),
            examples=Text(examples, examples.replace("baris", "row")),
        )
    first = groups.sort_values("baris").groupby("kode_wilayah", sort=False)
    out = pd.DataFrame(
        {"baris": first["baris"].min().astype(np.int64), "kode_asli": first["kode"].first()}
    )
    out["kode_wilayah"] = out.index
    for name in columns["names"]:
        out[name] = [
            None if v is None or pd.isna(v) else " ".join(str(v).split())
            for v in first[name].first().reindex(out.index)
        ]
    counted = groups[groups["desil"].notna()].astype({"desil": int})
    top = int(max(4, counted["desil"].max() if len(counted) else 4))
    table = counted.groupby(["kode_wilayah", "desil"])[["orang", "keluarga"]].sum(min_count=1)
    people = columns["individual"] or "anggota" in columns
    families = not columns["individual"] or "id_keluarga" in columns or "hubungan" in columns
    for d in range(1, top + 1):
        at = table.xs(d, level="desil") if d in table.index.get_level_values("desil") else None
        if people:
            out[f"jumlah_desil_{d}"] = at["orang"].reindex(out.index) if at is not None else np.nan
        if families:
            out[f"jumlah_keluarga_desil_{d}"] = (
                at["keluarga"].reindex(out.index) if at is not None else np.nan
            )
    counts = [c for c in out.columns if c.startswith("jumlah_")]
    out[counts] = out[counts].astype(float).fillna(0.0)
    return out.sort_values("baris").reset_index(drop=True)
