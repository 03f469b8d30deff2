"""Personal data never leaves povmap: not in outputs, reports or messages (SECURITY.md row 2).

A by-name register (P3KE/DTSEN) is generated on the real Lahat and Konawe Selatan layers, with
made-up NIKs, names, addresses and phone numbers planted in it, rows shifted by an unquoted comma
in the address, and NIKs and phone numbers typed into the code and desa columns. Every command is
run through the real CLI and every byte it writes or prints is searched for the planted values.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from conftest import KONSEL_DESA, LAHAT_DESA, make_counts, need

import povmap
from povmap._errors import PovmapInputError, Text
from povmap._privacy import mask, mask_text

HEADER = [
    "NIK",
    "Nama Kepala Keluarga",
    "No HP",
    "Alamat",
    "Desa/Kelurahan",
    "Kecamatan",
    "Kode Kemendagri",
    "Desil Kesejahteraan",
    "ID Keluarga P3KE",
    "Jumlah Anggota Keluarga",
]
#: Every planted name and address carries this token, so that any fragment of one is found too.
TOKEN = "qzxwvplnt"


def _line(cells: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def planted_register(
    raw: gpd.GeoDataFrame, path: Path, families: int = 1500, seed: int = 9
) -> tuple[Path, set[str], pd.DataFrame]:
    """A family register on the desa of ``raw``, written as CSV with some broken rows.

    Returns the path, the planted personal values, and the well-formed rows (what must be
    counted): ``kode`` (dotted), ``desil``, ``anggota``.
    """
    rng = np.random.default_rng(seed)
    prefix = raw["kode_nodot"].iloc[0][:4]
    planted: set[str] = set()
    good, lines = [], [_line(HEADER)]
    for f in range(families):
        desa = raw.iloc[rng.integers(len(raw))]
        nik = f"{prefix}{rng.integers(10**7, 10**8)}{f:04d}"
        name = f"Siti {TOKEN.title()}{f} Rahmah"
        phone = f"08{rng.integers(11, 99)}{rng.integers(10**7, 10**8)}"
        address = f"Jl. Mawar {TOKEN}{f} RT 0{f % 9}"
        desil, members = int(rng.integers(1, 5)), int(rng.integers(1, 7))
        code = desa["kode_nodot"] if f % 2 else desa["kode"]
        planted |= {nik, name, phone, address}
        kind = f % 50
        if kind == 7:
            # An unquoted comma in the address: every later cell slides one column right, so
            # part of the address lands in the desa column.
            tail = f"belakang rumah H. {TOKEN.upper()}{f}"
            planted.add(tail)
            lines.append(
                ",".join(
                    [
                        nik,
                        name,
                        phone,
                        address,
                        tail,
                        desa["nama"],
                        desa["nama_kec"],
                        code,
                        str(desil),
                        f"K{f}",
                        str(members),
                    ]
                )
                + "\n"
            )
            continue
        if kind == 11:
            # The same, with a phone number in the second half of the address.
            other = f"0813{rng.integers(10**7, 10**8)}"
            planted.add(other)
            lines.append(
                ",".join(
                    [
                        nik,
                        name,
                        phone,
                        f"Jl. Kenanga {TOKEN}{f}",
                        f"HP {other}",
                        desa["nama"],
                        desa["nama_kec"],
                        code,
                        str(desil),
                        f"K{f}",
                        str(members),
                    ]
                )
                + "\n"
            )
            continue
        if kind == 19:
            code = nik  # the NIK typed into the code column
        elif kind == 23:
            code = phone  # a phone number in the code column
        elif kind == 29:
            # A person's name and NIK in the area columns: never shown, never counted anywhere.
            lines.append(
                _line([nik, name, phone, address, name, nik, nik, desil, f"K{f}", members])
            )
            continue
        good.append({"kode": desa["kode"], "desil": desil, "anggota": members})
        lines.append(
            _line(
                [
                    nik,
                    name,
                    phone,
                    address,
                    desa["nama"],
                    desa["nama_kec"],
                    code,
                    desil,
                    f"K{f}",
                    members,
                ]
            )
        )
    path.write_text("".join(lines), encoding="utf-8")
    return path, planted, pd.DataFrame(good)


def every_byte(paths: list[Path]) -> dict[str, bytes]:
    """What a user could read in each file: its bytes, zip members, and GeoPackage tables."""
    out: dict[str, bytes] = {}
    for path in paths:
        data = path.read_bytes()
        out[str(path)] = data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    out[f"{path}!{member}"] = archive.read(member)
        if data[:16] == b"SQLite format 3\x00":
            with sqlite3.connect(path) as db:
                out[f"{path}!sql"] = "\n".join(db.iterdump()).encode("utf-8")
            for layer in pyogrio.list_layers(path)[:, 0]:
                frame = gpd.read_file(path, layer=layer)
                out[f"{path}!{layer}"] = frame.drop(columns="geometry").to_csv().encode()
    return out


def leaks(texts: dict[str, bytes], planted: set[str]) -> list[tuple[str, str]]:
    found = []
    for where, data in texts.items():
        lower = data.lower()
        if TOKEN.encode() in lower:
            found.append((where, TOKEN))
        for value in planted:
            if value.encode("utf-8") in data:
                found.append((where, value))
    return found


def cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "povmap.cli", *map(str, args)], capture_output=True, text=True
    )


def test_planted_personal_data_reaches_no_output_of_any_command(tmp_path):
    raw = gpd.read_file(need(LAHAT_DESA))
    register, planted, good = planted_register(raw, tmp_path / "p3ke_lahat.csv")
    out = tmp_path / "keluaran"
    out.mkdir()
    runs = [
        (
            "join",
            need(LAHAT_DESA),
            register,
            "-o",
            out / "gabung.gpkg",
            "--report",
            out / "laporan.json",
        ),
        ("map", LAHAT_DESA, register, "-o", out / "peta.html", "--lang", "en"),
        ("export", LAHAT_DESA, register, "-o", out / "bundel", "--format", "geojson,gpkg,shp"),
        (
            "pockets",
            LAHAT_DESA,
            register,
            "-o",
            out / "kantong.geojson",
            "--permutations",
            "99",
            "--ranking",
            out / "peringkat.xlsx",
        ),
    ]
    # The rows an unquoted comma shifted (every 50th family from the 7th and the 11th, file row
    # = family + 2) put a desa code in the desil column: every command stops, naming the file,
    # the column and the rows, never a cell, and writes nothing.
    printed = {}
    for command, *args in runs:
        proc = cli(command, *args)
        assert proc.returncode == 1, proc.stderr
        said = " ".join(proc.stderr.split())
        if "--lang" in args:
            assert "column 'Desil Kesejahteraan': 60 rows hold an impossible desil" in said
            assert "(rows 9, 13, 59, 63, 109 and 55 more)" in said and "--allow-invalid" in said
        else:
            assert "kolom 'Desil Kesejahteraan': 60 baris berisi desil yang tidak mungkin" in said
            assert "(baris 9, 13, 59, 63, 109 dan 55 lainnya)" in said
            assert "--allow-invalid" in said and "desil_tidak_sah" in said
        assert "p3ke_lahat.csv" in said and "Traceback" not in said
        printed[f"{command} {args[-1]} refused stdout"] = proc.stdout.encode()
        printed[f"{command} {args[-1]} refused stderr"] = proc.stderr.encode()
    assert [p for p in out.rglob("*")] == []
    assert leaks(printed, planted) == []

    # With --allow-invalid they are left out and counted (desil_tidak_sah), the rest is mapped.
    for command, *args in runs:
        proc = cli(command, *args, "--allow-invalid")
        assert proc.returncode == 0, proc.stderr
        printed[f"{command} {args[-1]} stdout"] = proc.stdout.encode()
        printed[f"{command} {args[-1]} stderr"] = proc.stderr.encode()
    written = sorted(p for p in out.rglob("*") if p.is_file())
    assert len(written) > 15
    assert leaks(every_byte(written) | printed, planted) == []

    # The broken rows are reported by row number, masked; the good rows are all counted.
    report = json.loads((out / "laporan.json").read_text(encoding="utf-8"))
    shown = report["unmatched_counts"] + report["ambiguous"]
    assert shown and all("*" in (r.get("nama_desa") or "*") for r in shown)
    # The rows with a NIK in the code column and a name in the desa column (every 50th family
    # from the 29th): the NIK masked the NIK way, the name masked whole.
    niks = [r for r in shown if re.fullmatch(r"1604\*{8}\d{4}", r.get("kode_asli") or "")]
    assert len(niks) == 30
    assert all(re.fullmatch(r"S\*+", r["nama_desa"]) for r in niks)
    joined = gpd.read_file(out / "gabung.gpkg", layer="desa")
    want = good.groupby("kode").size()
    got = joined.set_index("kode_desa")[[f"jumlah_keluarga_desil_{d}" for d in range(1, 5)]]
    assert got.sum(axis=1).reindex(want.index).tolist() == want.tolist()
    # The shifted rows are counted by number in the report and the manifest, never shown.
    note = (
        "desil_tidak_sah: 60 baris dengan desil yang tidak mungkin (bukan bilangan bulat 1-10; "
        "baris 9, 13, 59, 63, 109 dan 55 lainnya) dilewatkan (--allow-invalid)."
    )
    assert note in report["notes"]
    assert not [r for r in shown if r["baris"] in (9, 13, 59, 63, 109)]
    manifest = json.loads((out / "bundel" / "manifest.json").read_text(encoding="utf-8"))
    assert note in manifest["penggabungan"]["notes"]
    said = " ".join(printed["map en stderr"].decode().split())  # the map run is in English
    assert "desil_tidak_sah: 60 rows with an impossible desil (not a whole number 1-10;" in said


def test_shifted_row_and_nik_as_code_masked_in_report_and_summary(tmp_path):
    raw = gpd.read_file(need(KONSEL_DESA))
    desa = raw.iloc[5]
    lines = [
        _line(
            [
                "NIK",
                "Nama Lengkap",
                "Alamat",
                "Desa",
                "Kecamatan",
                "Kode Desa",
                "Desil Kesejahteraan",
                "ID Keluarga",
            ]
        ),
        _line(
            [
                "7405111122223333",
                "Ani Satu",
                "Jl. A",
                desa["nama"],
                desa["nama_kec"],
                desa["kode_nodot"],
                1,
                "K1",
            ]
        ),
        # Unquoted comma: "Lorong Mawar Dua" lands in the desa column.
        "7405777788889999,Wa Ode Geser,Jl. Kenari 9, Lorong Mawar Dua,"
        f"{desa['nama']},{desa['nama_kec']},{desa['kode_nodot']},1,K2\n",
        _line(
            [
                "7405555566667777",
                "La Kode",
                "Jl. B",
                "Desa Pemekaran",
                desa["nama_kec"],
                "7405555566667777",
                1,
                "K3",
            ]
        ),
    ]
    path = tmp_path / "register.csv"
    path.write_text("".join(lines), encoding="utf-8")
    secrets = ("Lorong Mawar", "7405555566667777", "7405777788889999", "Pemekaran", "Kenari")
    # The shifted row put the desa code in the desil column: refused by row, the cell unshown.
    with pytest.raises(PovmapInputError) as refused:
        povmap.read_counts(path)
    said = str(refused.value) + refused.value.message("en")
    assert "register.csv, kolom 'Desil Kesejahteraan': 1 baris berisi desil" in said
    assert "(baris 3)" in said and "(row 3)" in said
    assert not [s for s in (*secrets, desa["kode_nodot"], "Wa Ode") if s in said]
    # Left out (allow_invalid): the row with a NIK as its code is still reported, masked.
    counts = povmap.read_counts(path, allow_invalid=True)
    assert counts.source.p3ke["desil_tidak_sah"] == 1
    report = povmap.join(povmap.read_boundaries(KONSEL_DESA), counts).report
    rows = {r["baris"]: r for r in report.unmatched_counts}
    assert 3 not in rows  # left out whole: its area cells slid over too
    assert rows[4]["kode_asli"] == "7405********7777"
    assert rows[4]["nama_desa"] == "D*************"
    assert rows[4]["nama_kecamatan"] == desa["nama_kec"]  # a real kecamatan name stays
    text = report.summary() + report.summary("en") + json.dumps(report.to_dict())
    assert "desil_tidak_sah: 1 baris dengan desil yang tidak mungkin" in text
    assert "desil_tidak_sah: 1 row with an impossible desil" in text
    for secret in secrets:
        assert secret not in text


def test_blank_and_invalid_codes_grouped_by_their_names(tmp_path):
    raw = gpd.read_file(need(KONSEL_DESA))
    a, b, c = raw.iloc[10], raw.iloc[11], raw.iloc[200]
    rows = [
        ["7405000000000001", a["nama"], a["nama_kec"], a["kode_nodot"], 1, "K1"],
        ["7405000000000002", b["nama"], b["nama_kec"], "", 1, "K2"],
        ["7405000000000003", a["nama"], a["nama_kec"], "", 1, "K3"],
        ["7405000000000004", c["nama"], c["nama_kec"], "-", 1, "K4"],
        ["7405000000000005", c["nama"], c["nama_kec"], "7405000000000005", 2, "K5"],
        ["7405000000000006", b["nama"], b["nama_kec"], "", 1, "K6"],
    ]
    path = tmp_path / "register.csv"
    path.write_text(
        "".join(
            _line(r)
            for r in [
                ["NIK", "Desa", "Kecamatan", "Kode Desa", "Desil Kesejahteraan", "ID Keluarga"],
                *rows,
            ]
        )
    )
    joined = povmap.join(povmap.read_boundaries(KONSEL_DESA), povmap.read_counts(path)).joined
    got = joined.set_index("kode_desa")
    assert got.at[a["kode"], "jumlah_keluarga_desil_1"] == 2  # coded row and the blank one
    assert got.at[b["kode"], "jumlah_keluarga_desil_1"] == 2
    assert got.at[c["kode"], "jumlah_keluarga_desil_1"] == 1
    assert got.at[c["kode"], "jumlah_keluarga_desil_2"] == 1
    assert joined["jumlah_keluarga_desil_1"].sum() == 5


def test_left_out_statuses_counted_by_category_never_by_cell_text(tmp_path):
    raw = gpd.read_file(need(KONSEL_DESA))
    desa = raw.iloc[3]
    rows = [
        ["NIK", "Desa", "Kecamatan", "Desil", "Status Keberadaan"],
        ["7405000000000001", desa["nama"], desa["nama_kec"], 1, "Ditemukan"],
        ["7405000000000002", desa["nama"], desa["nama_kec"], 1, "Meninggal Dunia 2023"],
        ["7405000000000003", desa["nama"], desa["nama_kec"], 1, "pindah ke rumah Bapak Sanusi"],
    ]
    path = tmp_path / "register.csv"
    path.write_text("".join(_line(r) for r in rows))
    info = povmap.read_counts(path).source
    assert info.p3ke["dikecualikan"] == {"meninggal": 1, "pindah": 1}
    assert "Sanusi" not in json.dumps(dataclasses.asdict(info), default=str)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("3201234567890001", "3201********0001"),
        ("3201 2345 6789 0001", "3201********0001"),
        ("081234567890", "0812******90"),
        ("+62 812-3456-7890", "6281*******90"),
        ("Jl. Mangga No. 9", "J***************"),
    ],
)
def test_mask(value, masked):
    assert mask(value) == masked


def test_mask_text_masks_personal_numbers_and_keeps_codes_and_counts():
    text = (
        "baris 4: NIK 3201234567890001, HP 0812-3456-7890 / +6281234567890; kode "
        "63.06.01.2001, 6306012001, 62.08.01.2001; 1.234.567 jiwa; 3,25 %"
    )
    assert mask_text(text) == (
        "baris 4: NIK 3201********0001, HP 0812******90 / 6281*******90; kode "
        "63.06.01.2001, 6306012001, 62.08.01.2001; 1.234.567 jiwa; 3,25 %"
    )
    # Every message and note is masked where it is made, in both languages.
    error = PovmapInputError("kode 3201234567890001 salah", en="code 3201234567890001 wrong")
    assert str(error) == "kode 3201********0001 salah"
    assert error.message("en") == "code 3201********0001 wrong"
    note = Text("HP 081234567890", en="phone 081234567890")
    assert (str(note), note.en) == ("HP 0812******90", "phone 0812******90")


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("1604123456780001", "1604********0001"),  # a NIK slid into the count column
        ("081277778888", "0812******88"),  # a phone number, read as the number 81277778888
        ("0812-7777-8888", "0812******88"),  # a phone number that is not a number at all
    ],
)
def test_identifier_in_a_count_column_is_refused_and_shown_masked(cell, shown, tmp_path):
    raw = gpd.read_file(need(LAHAT_DESA))
    counts = make_counts(raw, seed=8).astype({"jumlah_miskin_ekstrem": object})
    counts.loc[9, "jumlah_miskin_ekstrem"] = cell
    counts.to_csv(tmp_path / "rekap.csv", index=False)
    proc = cli("join", LAHAT_DESA, tmp_path / "rekap.csv", "-o", tmp_path / "g.gpkg")
    assert proc.returncode == 1
    assert (
        f"baris 11, kolom 'jumlah_miskin_ekstrem': '{shown}'" in proc.stderr
        or (f"baris 11, kolom 'jumlah_miskin_ekstrem': {shown} bukan jumlah") in proc.stderr
    )
    assert cell not in proc.stderr and cell.replace("-", "") not in proc.stderr
    assert not (tmp_path / "g.gpkg").exists()


def test_by_name_rows_with_kecamatan_codes_are_not_pooled(tmp_path):
    raw = gpd.read_file(need(KONSEL_DESA))
    kecamatan = raw[raw["kode_kec"] == raw["kode_kec"].iloc[0]].head(3)
    rows = [["NIK", "Desa", "Kecamatan", "Kode", "Desil", "ID Keluarga"]]
    for i, desa in enumerate(kecamatan.itertuples()):
        for member in range(i + 1):
            rows.append(
                [
                    f"74050000000{i}{member:04d}",
                    desa.nama,
                    desa.nama_kec,
                    desa.kode_kec.replace(".", ""),
                    1,
                    f"K{i}{member}",
                ]
            )
    path = tmp_path / "register.csv"
    path.write_text("".join(_line(r) for r in rows))
    joined = povmap.join(povmap.read_boundaries(KONSEL_DESA), povmap.read_counts(path)).joined
    got = joined.set_index("kode_desa")["jumlah_keluarga_desil_1"]
    assert got.reindex(kecamatan["kode"]).tolist() == [1, 2, 3]


def test_blank_code_of_an_unmatched_by_name_row_shows_blank_not_nan(tmp_path):
    raw = gpd.read_file(need(KONSEL_DESA))
    a = raw.iloc[10]
    rows = [
        ["NIK", "Desa", "Kecamatan", "Kode Desa", "Desil Kesejahteraan", "ID Keluarga"],
        ["7405000000000001", a["nama"], a["nama_kec"], a["kode_nodot"], 1, "K1"],
        ["7405000000000002", a["nama"] + " Lama", a["nama_kec"], "", 1, "K2"],
    ]
    path = tmp_path / "register.csv"
    path.write_text("".join(_line(r) for r in rows))
    result = povmap.join(povmap.read_boundaries(KONSEL_DESA), povmap.read_counts(path))
    unmatched = result.report.unmatched_counts
    assert len(unmatched) == 1
    assert unmatched[0]["kode_asli"] is None
    assert "nan" not in result.report.summary("id").split()
