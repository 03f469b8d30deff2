"""The checks of read_boundaries taken without a per-row Python loop (issue 15, the national
GeoPackage export): impossible coordinates found from lengths and bounds, miscoded names from one
search of the whole column, each input file hashed once for the cache key and the manifest.
Each must still stop on, or report, exactly what the per-coordinate and per-name checks did."""

from __future__ import annotations

import builtins
import hashlib
import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import HSS_DESA, KAYONG_DESA, invoke, make_counts, need

import povmap
from povmap import _cache


@pytest.fixture(scope="module")
def hss() -> gpd.GeoDataFrame:
    return gpd.read_file(need(HSS_DESA))


def counts_csv(gdf: gpd.GeoDataFrame, tmp_path) -> str:
    path = tmp_path / "jumlah.csv"
    make_counts(gdf).to_csv(path, index=False)
    return str(path)


def with_x(geom, at: int, value: float):
    """``geom`` with the x of its coordinate number ``at`` (negative: from the end) replaced."""

    def change(xy):
        xy = xy.copy()
        xy[at, 0] = value
        return xy

    with np.errstate(all="ignore"):
        return shapely.transform(geom, change)


def damaged(hss: gpd.GeoDataFrame, case: str) -> tuple[gpd.GeoDataFrame, int]:
    """HSS with one desa's coordinates damaged in a place its bounds do not show; its row."""
    gdf = hss.copy()
    if case in ("nan_in_hole", "inf_in_hole"):
        row = 20
        shell = gdf.geometry[row]
        holed = shell.difference(shell.representative_point().buffer(0.001))
        assert len(holed.interiors) == 1
        # A vertex of the hole, well inside the bounds of the shell.
        value = np.nan if case == "nan_in_hole" else np.inf
        gdf.loc[row, "geometry"] = with_x(holed, -3, value)
    elif case == "nan_in_second_part":
        row = 49  # a MultiPolygon of two parts
        first = shapely.get_num_coordinates(gdf.geometry[row].geoms[0])
        gdf.loc[row, "geometry"] = with_x(gdf.geometry[row], first + 3, np.nan)
    else:  # every coordinate finite, but the desa moved to 1e30: its length stays finite
        row = 100
        gdf.loc[row, "geometry"] = shapely.transform(gdf.geometry[row], lambda xy: xy + 1e30)
    return gdf, row


@pytest.mark.parametrize(
    "case", ["nan_in_hole", "inf_in_hole", "nan_in_second_part", "finite_but_absurd"]
)
def test_impossible_coordinates_the_bounds_miss_stop_naming_the_desa(hss, case, tmp_path):
    gdf, row = damaged(hss, case)
    if case.startswith("nan"):
        # What makes the case: GEOS's envelope skips a NaN, so the bounds look fine.
        assert np.isfinite(shapely.bounds(gdf.geometry[row])).all()
    path = tmp_path / "batas.gpkg"
    gdf.to_file(path)
    code, out = invoke("export", path, counts_csv(hss, tmp_path), "-o", tmp_path / "bundel")
    assert code == 1, out
    assert "batas.gpkg: 1 fitur berisi koordinat yang mustahil" in out
    assert f"fitur ke-{row + 1} ({hss.loc[row, 'kode']})" in out
    assert "Warning" not in out and not (tmp_path / "bundel").exists()


def refusal(gdf: gpd.GeoDataFrame, tmp_path: Path) -> str:
    """The message with which read_boundaries refuses ``gdf`` written as a GeoPackage."""
    path = tmp_path / "batas.gpkg"
    gdf.to_file(path)
    with pytest.raises(povmap.PovmapInputError) as err:
        povmap.read_boundaries(path)
    return str(err.value)


def test_two_damaged_desa_are_both_counted(hss, tmp_path):
    gdf, first = damaged(hss, "nan_in_hole")
    second, other = damaged(gdf, "nan_in_second_part")
    text = refusal(second, tmp_path)
    assert "2 fitur berisi koordinat yang mustahil" in text
    assert f"fitur ke-{first + 1} ({hss.loc[first, 'kode']})" in text
    assert f"{other + 1} ({hss.loc[other, 'kode']})" in text


def test_a_miscoded_name_among_repeated_names_is_reported(hss, tmp_path):
    gdf = hss.copy()
    # One row of a kecamatan whose name repeats on every desa of it: only that row is wrong.
    name = gdf.loc[30, "nama_kec"]
    assert (gdf["nama_kec"] == name).sum() > 5
    gdf.loc[30, "nama_kec"] = name + "\x92"  # a CP1252 apostrophe read as ISO-8859-1
    text = refusal(gdf, tmp_path)
    assert "1 nama di kolom nama_kecamatan" in text
    assert f"fitur ke-31 ({gdf.loc[30, 'kode']}: {ascii(name + chr(0x92))})" in text


def test_mojibake_in_several_names_is_counted(hss, tmp_path):
    gdf = hss.copy()
    for row in (3, 60, 61):
        gdf.loc[row, "nama"] = gdf.loc[row, "nama"] + " CafÃ©"  # "Café" as UTF-8 read as CP1252
    text = refusal(gdf, tmp_path)
    assert "3 nama di kolom nama_desa" in text
    assert f"fitur ke-4 ({gdf.loc[3, 'kode']}:" in text


def test_a_name_that_only_looks_like_mojibake_is_kept(hss, tmp_path):
    gdf = hss.copy()
    # "â€" followed by "x" matches the mojibake pattern, but its bytes are no UTF-8: not
    # mojibake (the column search says "maybe", the name-by-name check says no).
    gdf.loc[7, "nama"] = "Desa â€x"
    gdf.loc[8, "nama"] = "  Desa   Baru\t"
    path = tmp_path / "batas.gpkg"
    gdf.to_file(path)
    read = povmap.read_boundaries(path).gdf
    assert read.loc[7, "nama_desa"] == "Desa â€x"
    assert read.loc[8, "nama_desa"] == "Desa Baru"  # spaces cleaned as before
    assert read["nama_kecamatan"].tolist() == [" ".join(n.split()) for n in hss["nama_kec"]]


def test_each_input_is_hashed_once_and_the_manifest_has_its_digest(tmp_path, monkeypatch):
    monkeypatch.setenv(_cache.CACHE_ENV, str(tmp_path / "cache"))
    raw = gpd.read_file(need(KAYONG_DESA))
    counts = counts_csv(raw, tmp_path)
    opened = []
    real = builtins.open

    def counting(file, mode="r", *args, **kwargs):
        if isinstance(file, str | os.PathLike) and "b" in mode:
            opened.append(str(file))
        return real(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting)
    for run in ("a", "b"):  # the cache filled, then used: the same digests either way
        code, text = invoke("export", KAYONG_DESA, counts, "-o", tmp_path / run, "--format", "gpkg")
        assert code == 0, text
        recorded = json.loads((tmp_path / run / "manifest.json").read_text())["masukan"]
        for role, path in (("boundaries", KAYONG_DESA), ("counts", counts)):
            assert recorded[role]["sha256"] == hashlib.sha256(Path(path).read_bytes()).hexdigest()
        # Python opens the boundary file once (to hash it: GDAL reads it itself).
        assert opened.count(str(KAYONG_DESA)) == 1, opened
        opened.clear()


def test_the_cache_key_follows_the_digest(hss, tmp_path, monkeypatch):
    monkeypatch.setenv(_cache.CACHE_ENV, str(tmp_path / "cache"))
    path = tmp_path / "batas.geojson"
    hss.to_file(path)
    first = povmap.read_boundaries(path)
    assert first.source.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert povmap.read_boundaries(path).source.cache == "dipakai"
    # The same size, one byte changed: another digest, so another entry.
    name = hss.loc[0, "nama"]
    renamed = name[:-1] + ("X" if name[-1] != "X" else "Y")
    size = path.stat().st_size
    path.write_text(path.read_text().replace(f'"{name}"', f'"{renamed}"', 1))
    assert path.stat().st_size == size
    second = povmap.read_boundaries(path)
    assert second.source.sha256 != first.source.sha256 and second.source.cache == "disimpan"
    pd.testing.assert_series_equal(first.gdf["luas_km2"], second.gdf["luas_km2"])


def test_codes_of_another_level_or_none_are_named_by_feature(hss, tmp_path):
    gdf = hss.copy()
    gdf["kode"] = gdf["kode"].astype(object)
    gdf.loc[4, "kode"] = "63.06.01"  # a kecamatan code in a desa layer
    gdf.loc[9, "kode"] = "desa baru"  # no code at all
    gdf.loc[12, "kode"] = "6306012013"  # undotted: a desa code all the same
    text = refusal(gdf, tmp_path)
    assert "kolom kode berisi kode desa yang tidak sah pada fitur ke-5, 10." in text
    # Most codes of the other level: the layer is that level's, its odd code is named.
    kecamatan = hss.drop(columns=["kode_kec", "kode_nodot"])
    kecamatan["kode"] = kecamatan["kode"].str[:8]
    kecamatan.loc[3, "kode"] = "63.06.01.2004"
    text = refusal(kecamatan, tmp_path)
    assert "kolom kode berisi kode kecamatan yang tidak sah pada fitur ke-4." in text


def test_shown_values_are_what_showing_each_value_gives():
    from povmap._privacy import shown
    from povmap.join import _shown_values

    values = [
        "63.06.01.2001",
        "1234567812345678",  # a NIK: masked
        "Desa 0812-3456-7890",  # a phone inside a name: masked
        "+62 812 3456 7890",
        "6.306.111.122.333.444",
        "1234 5678 1234 5678",
        "x\x001234567812345678",  # the joiner inside a value changes nothing
        None,
        np.nan,
        6306,
        "Kandangan",
    ]
    column = pd.Series(values, dtype=object)
    assert _shown_values(column) == [shown(v) for v in values]
    assert _shown_values(column)[1] == "1234********5678"
    # A NIK between two codes, alone among them: found, although a joiner that is a digit (or
    # nothing) would hide it from the pattern's lookarounds.
    nik = ["63.06.01.2001", "1234567812345678", "2"]
    assert _shown_values(pd.Series(nik, dtype=object)) == [nik[0], "1234********5678", "2"]
    # Texts that would read as one personal number if their joiner were nothing: each is
    # shown as it is, as shown() shows it alone.
    for pair in (["12345678", "12345678"], ["0", "8123456789"], ["+62", "81234567"]):
        assert _shown_values(pd.Series(pair, dtype=object)) == [shown(v) for v in pair] == pair


def test_a_desa_larger_than_gdals_geojson_feature_limit_is_read(tmp_path):
    """GDAL refuses a GeoJSON feature above OGR_GEOJSON_MAX_OBJ_SIZE (200 MB by default; here
    set to 1 MB, as a densified desa meets the default): povmap lifts the limit while it reads,
    reads the desa whole, and leaves the option as it was."""
    import pyogrio

    kayong = gpd.read_file(need(KAYONG_DESA))
    # One desa densified to about 60,000 vertices: a 2.7 MB feature.
    first = kayong.geometry.iloc[0]
    big = shapely.segmentize(first, max_segment_length=first.length / 60_000)
    kayong.loc[kayong.index[0], "geometry"] = big
    path = tmp_path / "kayong_rapat.geojson"
    kayong.to_file(path)
    pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": "1"})
    try:
        with pytest.raises(Exception, match="too complex/large"):
            pyogrio.read_dataframe(path)
        layer = povmap.read_boundaries(path)
        assert pyogrio.get_gdal_config_option("OGR_GEOJSON_MAX_OBJ_SIZE") in ("1", 1)
    finally:
        pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": None})
    assert len(layer.gdf) == len(kayong)
    assert shapely.get_num_coordinates(layer.gdf.geometry.values).max() >= 60_000
