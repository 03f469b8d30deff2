"""Deterministic by-name registers for the targeting tests, with the truth per desa.

Real P3KE/DTSEN registers are personal data, so they are generated here: the real desa codes and
names of a boundary layer, made-up families with known program receipt and living conditions,
written in P3KE-like or DTSEN-like column spellings, one row per family or per person. Fake NIKs,
KK numbers, names, addresses and phone numbers are planted (:attr:`Generated.pii`) so that a test
can grep every output byte for them.

The truth is computed from what was generated (each family's true flags and which cells were left
blank), never by reading the written table back.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

PROGRAMS = ("pkh", "bpnt", "pbi", "blt_dd", "bpum")
CONDITIONS = ("air_minum", "sanitasi", "lantai", "dinding", "atap", "listrik", "bahan_bakar")

#: Column spellings: (P3KE-like, DTSEN-like).
HEADERS = {
    "id": ("id_keluarga_P3KE", "ID Keluarga"),
    "provinsi": ("provinsi", "Provinsi"),
    "kabupaten": ("kabupaten_kota", "Kabupaten/Kota"),
    "kecamatan": ("kecamatan", "Kecamatan"),
    "desa": ("desa_kelurahan", "Desa/Kelurahan"),
    "kode": ("kode_kemdagri", "Kode Wilayah"),
    "desil": ("desil_kesejahteraan", "Desil Nasional"),
    "alamat": ("alamat", "Alamat"),
    "kepala": ("kepala_keluarga", "Nama Kepala Keluarga"),
    "nik": ("nik", "NIK"),
    "kk": ("no_kk", "No KK"),
    "hp": ("no_hp", "No HP"),
    "status": ("status_keberadaan", "Status Keberadaan"),
    "nama": ("nama_lengkap", "Nama Lengkap"),
    "id_individu": ("id_individu", "ID ART"),
    "hubungan": ("hubungan_dengan_kepala_keluarga", "Hubungan dengan KK"),
    "pkh": ("penerima_pkh", "Penerima PKH"),
    "bpnt": ("penerima_bpnt", "Penerima Sembako"),
    "pbi": ("penerima_pbi", "PBI JK"),
    "blt_dd": ("penerima_blt_dd", "BLT DD"),
    "bpum": ("penerima_bpum", "Penerima BPUM"),
    "air_minum": ("sumber_air_minum", "Sumber Air Minum Utama"),
    "sanitasi": ("fasilitas_bab", "Kepemilikan Jamban"),
    "lantai": ("jenis_lantai", "Jenis Lantai Terluas"),
    "dinding": ("jenis_dinding", "Jenis Dinding Terluas"),
    "atap": ("jenis_atap", "Jenis Atap Terluas"),
    "listrik": ("sumber_penerangan", "Sumber Penerangan Utama"),
    "bahan_bakar": ("bahan_bakar_memasak", "Bahan Bakar Utama Memasak"),
}
#: Ways of writing yes / no in a program column.
YES = ("Ya", "1", "Y", "ya", "YA")
NO = ("Tidak", "0", "T", "tidak", "TIDAK")
#: Values of each condition: (lacking, having).
VALUES = {
    "air_minum": (
        ("Sumur tak terlindung", "Mata air tidak terlindung", "Air sungai/danau/irigasi"),
        ("Air kemasan bermerk", "Air isi ulang", "Leding", "Sumur bor/pompa"),
    ),
    "sanitasi": (("Tidak ada", "MCK umum", "Tidak punya"), ("Sendiri", "Bersama", "Milik sendiri")),
    "lantai": (
        ("Tanah", "Bambu", "Kayu/papan kualitas rendah"),
        ("Keramik", "Semen/bata merah", "Ubin/tegel/teraso"),
    ),
    "dinding": (
        ("Anyaman bambu", "Bambu", "Tembok tanpa diplester"),
        ("Tembok", "Plesteran anyaman bambu/kawat", "Kayu/papan"),
    ),
    "atap": (("Jerami/ijuk/daun-daunan/rumbia", "Bambu"), ("Genteng", "Seng", "Beton", "Asbes")),
    "listrik": (
        ("Bukan listrik", "Pelita/obor"),
        ("Listrik PLN dengan meteran", "Listrik non-PLN"),
    ),
    "bahan_bakar": (("Kayu bakar", "Minyak tanah", "Arang"), ("Gas elpiji 3 kg", "Listrik")),
}
#: Written for a condition whose value is unknown: blank, a dash, or a value nobody recognises.
UNKNOWN_VALUES = ("", "-", "belum didata")


@dataclass
class Generated:
    """A generated register, its recipients list, the truth per desa and the planted PII."""

    register: pd.DataFrame
    recipients: pd.DataFrame
    truth: pd.DataFrame
    pii: set[str] = field(default_factory=set)
    family_ids: set[str] = field(default_factory=set)
    verification: set[str] = field(default_factory=set)


def _phone(rng: np.random.Generator) -> str:
    return "08" + "".join(str(d) for d in rng.integers(0, 10, 10))


def make_register(
    raw: gpd.GeoDataFrame,
    *,
    seed: int = 0,
    level: str = "keluarga",
    style: str = "p3ke",
    desil_sasaran: int = 1,
    desil_layak: int = 4,
    with_recipients: bool = False,
) -> Generated:
    """Generate a register on every desa of ``raw`` (shared schema: kode, nama, nama_kec ...).

    Parameters
    ----------
    raw
        The boundary layer as stored (``kode``, ``kode_nodot``, ``nama``, ``nama_kec``,
        ``nama_kab``, ``nama_prov``).
    seed
        Everything follows from it.
    level
        ``"keluarga"`` (one row per family) or ``"individu"`` (one row per person).
    style
        ``"p3ke"`` (desil 1-4, snake_case headers) or ``"dtsen"`` (desil 1-10, title headers).
    desil_sasaran, desil_layak
        The truth's target and eligibility desil.
    with_recipients
        Also make a recipients list for PKH and BPNT keyed by NIK (some NIKs not in the
        register, some rows keyed by family id, some repeated); the truth then follows the list
        for those two programs.

    Truth columns (index ``kode_desa``): ``jumlah_keluarga_register``, ``keluarga_sasaran``,
    ``keluarga_sasaran_tanpa_program``, ``keluarga_sasaran_<p>``, ``jumlah_penerima``,
    ``penerima_di_atas_desil_layak``, ``kebutuhan_<c>``, ``keluarga_sasaran_<c>_diketahui``,
    ``jumlah_entri_penerima``, ``penerima_tidak_di_register`` (NaN = unknown).
    """
    rng = np.random.default_rng(seed)
    col = {k: v[0 if style == "p3ke" else 1] for k, v in HEADERS.items()}
    top = 4 if style == "p3ke" else 10
    n_desa = len(raw)
    kec_names = raw["nama_kec"].to_numpy()
    first_kec = kec_names[0]
    # blt_dd blank for every family of the first kecamatan's desa: "tidak diketahui" there;
    # every program blank in desa 5: no exclusion count at all there.
    blank_program = {i: {"blt_dd"} for i in range(n_desa) if kec_names[i] == first_kec}
    blank_program[5] = set(PROGRAMS)

    rows, families = [], []
    for i in range(n_desa):
        desa = raw.iloc[i]
        for f in range(int(rng.integers(0, 9))):
            fid = f"{'P3KE' if style == 'p3ke' else 'DT'}{seed:02d}{i:04d}{f:02d}"
            desil = int(rng.integers(1, top + 1))
            gone = rng.random() < 0.05  # the whole family: moved or died
            has_desil = rng.random() > 0.02
            truth_programs = {
                p: bool(rng.random() < (0.45 if desil <= 2 else 0.2)) for p in PROGRAMS
            }
            blank = {
                p: p in blank_program.get(i, set())
                or (not truth_programs[p] and rng.random() < 0.2)
                for p in PROGRAMS
            }
            written = {
                p: "" if blank[p] else (YES if truth_programs[p] else NO)[int(rng.integers(5))]
                for p in PROGRAMS
            }
            cond_state = {}
            cond_value = {}
            for c in CONDITIONS:
                r = rng.random()
                state = None if r < 0.1 else bool(r < 0.45)
                cond_state[c] = state
                choices = UNKNOWN_VALUES if state is None else VALUES[c][0 if state else 1]
                cond_value[c] = choices[int(rng.integers(len(choices)))]
            family = {
                "i": i,
                "kode": desa["kode"],
                "id": fid,
                "desil": desil,
                "counted": not gone and has_desil,
                "programs": truth_programs,
                "known_cell": {p: not blank[p] for p in PROGRAMS},
                "conditions": cond_state,
                "niks": [],
            }
            members = 1 if level == "keluarga" else int(rng.integers(1, 5))
            head_nik = f"74{seed:02d}{i:04d}{f:02d}{rng.integers(10**5, 10**6)}"[:16]
            kk = f"74{seed:02d}{i:04d}{f:02d}8{rng.integers(10**4, 10**5)}"[:16]
            for m in range(members):
                nik = head_nik if m == 0 else f"{head_nik[:-2]}{m:02d}"
                family["niks"].append(nik)
                status = (
                    ("Meninggal" if gone else "Ditemukan")
                    if m == 0
                    else (
                        "Pindah" if gone else ("Meninggal" if rng.random() < 0.1 else "Ditemukan")
                    )
                )
                row = {
                    col["id"]: fid,
                    col["provinsi"]: desa["nama_prov"].upper(),
                    col["kabupaten"]: desa["nama_kab"].upper(),
                    col["kecamatan"]: desa["nama_kec"].upper(),
                    col["desa"]: desa["nama"].upper(),
                    col["kode"]: desa["kode_nodot"] if (i + f) % 2 else desa["kode"],
                    col["desil"]: (
                        "" if not has_desil else f"Desil {desil}" if f % 3 == 0 else desil
                    ),
                    col["alamat"]: f"JL. KENANGA GANG {seed}{i:04d}{f:02d} RT 0{m}",
                    col["kepala"]: f"KEPALAKK {seed}{i:04d}{f:02d}",
                    col["nik"]: nik,
                    col["kk"]: kk,
                    col["hp"]: _phone(rng),
                    col["status"]: status,
                }
                if level == "individu":
                    row[col["nama"]] = f"WARGANAMA {seed}{i:04d}{f:02d}{m}"
                    row[col["id_individu"]] = f"{fid}-{m}"
                    row[col["hubungan"]] = "Kepala Keluarga" if m == 0 else "Anak"
                for p in PROGRAMS:
                    row[col[p]] = written[p]
                for c in CONDITIONS:
                    row[col[c]] = cond_value[c]
                rows.append(row)
            families.append(family)

    register = pd.DataFrame(rows)
    pii = {str(v) for c in ("alamat", "kepala", "nik", "kk", "hp") for v in register[col[c]]}
    if level == "individu":
        pii |= {str(v) for v in register[col["nama"]]}

    recipients = pd.DataFrame()
    list_programs = ("pkh", "bpnt") if with_recipients else ()
    entries: dict[str, int] = {}
    unfound: dict[str, int] = {}
    if with_recipients:
        list_rows = []
        for fam in families:
            if not fam["counted"]:
                continue
            for p in list_programs:
                on_list = rng.random() < 0.3
                fam.setdefault("list", {})[p] = on_list
                if not on_list:
                    continue
                by_id = rng.random() < 0.15
                key = (
                    {"id_keluarga_P3KE": fam["id"]}
                    if by_id
                    else {"NIK": fam["niks"][int(rng.integers(len(fam["niks"])))]}
                )
                code = raw.iloc[fam["i"]]
                entry = {
                    "NIK": "",
                    "id_keluarga_P3KE": "",
                    **key,
                    "Nama Penerima": f"PENERIMAKPM {fam['id']}",
                    "Kode Wilayah": code["kode"],
                    "Kecamatan": code["nama_kec"],
                    "Desa": code["nama"],
                    "Program": {"pkh": "PKH", "bpnt": "BPNT"}[p],
                }
                list_rows.append(entry)
                entries[code["kode"]] = entries.get(code["kode"], 0) + 1
                if rng.random() < 0.05:  # listed twice: counted once
                    list_rows.append(dict(entry))
        for n in range(40):  # recipients the register does not know
            code = raw.iloc[int(rng.integers(n_desa))]
            list_rows.append(
                {
                    "NIK": f"7499{seed:02d}{n:010d}",
                    "id_keluarga_P3KE": "",
                    "Nama Penerima": f"ORANGLUAR {seed}{n:03d}",
                    "Kode Wilayah": code["kode"],
                    "Kecamatan": code["nama_kec"],
                    "Desa": code["nama"],
                    "Program": ("PKH", "Sembako")[n % 2],
                }
            )
            entries[code["kode"]] = entries.get(code["kode"], 0) + 1
            unfound[code["kode"]] = unfound.get(code["kode"], 0) + 1
        recipients = pd.DataFrame(list_rows)
        pii |= {str(v) for v in recipients["NIK"] if v} | set(recipients["Nama Penerima"])

    truth, verification = _truth(
        raw, families, desil_sasaran, desil_layak, list_programs, entries, unfound
    )
    counted_ids = {f["id"] for f in families if f["counted"]}
    return Generated(
        register=register,
        recipients=recipients,
        truth=truth,
        pii=pii,
        family_ids=counted_ids,
        verification=verification,
    )


def _truth(raw, families, desil_sasaran, desil_layak, list_programs, entries, unfound):
    out = {}
    verification = set()
    for i in range(len(raw)):
        code = raw.iloc[i]["kode"]
        fams = [f for f in families if f["i"] == i and f["counted"]]
        row: dict[str, float] = {}
        if not fams:
            out[code] = row
            continue
        # The list decides for its programs (known everywhere); the register for the others:
        # known where any counted family has a cell written.
        known = [p for p in PROGRAMS if p in list_programs or any(f["known_cell"][p] for f in fams)]

        def gets(f, p):
            return f.get("list", {}).get(p, False) if p in list_programs else f["programs"][p]

        target = [f for f in fams if f["desil"] <= desil_sasaran]
        row["jumlah_keluarga_register"] = len(fams)
        row["keluarga_sasaran"] = len(target)
        for p in PROGRAMS:
            row[f"keluarga_sasaran_{p}"] = sum(gets(f, p) for f in target) if p in known else np.nan
        if known:
            excluded = [f for f in target if not any(gets(f, p) for p in known)]
            recipients = [f for f in fams if any(gets(f, p) for p in known)]
            above = [f for f in recipients if f["desil"] > desil_layak]
            row["keluarga_sasaran_tanpa_program"] = len(excluded)
            row["jumlah_penerima"] = len(recipients)
            row["penerima_di_atas_desil_layak"] = len(above)
            verification |= {f["id"] for f in excluded + above}
        else:
            row["keluarga_sasaran_tanpa_program"] = np.nan
            row["jumlah_penerima"] = np.nan
            row["penerima_di_atas_desil_layak"] = np.nan
        for c in CONDITIONS:
            known_c = [f for f in target if f["conditions"][c] is not None]
            row[f"keluarga_sasaran_{c}_diketahui"] = len(known_c)
            row[f"kebutuhan_{c}"] = sum(f["conditions"][c] for f in known_c) if known_c else np.nan
        out[code] = row
    truth = pd.DataFrame.from_dict(out, orient="index")
    truth.index.name = "kode_desa"
    if list_programs:
        truth["jumlah_entri_penerima"] = pd.Series(entries, dtype=float)
        truth["penerima_tidak_di_register"] = (
            pd.Series(unfound, dtype=float)
            .reindex(truth.index)
            .fillna(0.0)
            .where(truth["jumlah_entri_penerima"].notna())
        )
    return truth.astype(float), verification


def all_bytes(path: Path) -> list[tuple[str, bytes]]:
    """Every file's bytes under ``path`` (or of the file ``path``), and every member of a zip
    (XLSX, zipped shapefile) unpacked too: what a test greps for :attr:`Generated.pii`."""
    out = []
    for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
        out.append((file.name, file.read_bytes()))
        if zipfile.is_zipfile(file):
            with zipfile.ZipFile(file) as archive:
                out += [(f"{file.name}:{m}", archive.read(m)) for m in archive.namelist()]
    return out
