"""The boundary cache (povmap._cache): a second read of one edition of a file takes the overlap
check, the areas and the kecamatan outlines from the cache, gives exactly what the first read
gave, and never what another edition, option or broken entry would give (issue 15)."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import KAYONG_DESA, LAHAT_DESA, invoke, make_counts, need

import povmap
from povmap import _cache, boundaries
from povmap._messages import message


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(_cache.CACHE_ENV, str(folder))
    return folder


def planted(tmp_path):
    """Lahat with a duplicate (a desa again under another code), an overlap, and a desa whose
    ring crosses itself."""
    raw = gpd.read_file(need(LAHAT_DESA))
    copy = raw.iloc[[0]].copy()
    copy["kode"] = "16.04.01.2099"
    raw = gpd.GeoDataFrame(pd.concat([raw, copy], ignore_index=True), crs=raw.crs)
    neighbour = raw.set_index("kode").loc["16.04.01.2002", "geometry"]
    target = raw.index[raw["kode"] == "16.04.01.2003"][0]
    raw.loc[target, "geometry"] = raw.geometry[target].union(neighbour.buffer(-0.001))
    # And one desa whose ring crosses itself (two vertices swapped): repaired on reading.
    ring = list(shapely.get_parts(raw.geometry[10])[0].exterior.coords)
    ring[5], ring[6] = ring[6], ring[5]
    raw.loc[10, "geometry"] = shapely.Polygon(ring)
    path = tmp_path / "lahat.geojson"
    raw.to_file(path)
    return path


def same_reading(a, b):
    pd.testing.assert_frame_equal(a.gdf, b.gdf)
    assert a.source.overlaps == b.source.overlaps and a.source.duplicates == b.source.duplicates
    assert a.source.notes == b.source.notes
    assert (
        a.source.repaired == b.source.repaired and a.source.null_geometry == b.source.null_geometry
    )
    assert a.outlines.geometry.index.equals(b.outlines.geometry.index)
    assert shapely.equals_identical(a.outlines.geometry.values, b.outlines.geometry.values).all()


def test_second_read_takes_the_check_from_the_cache(cache, tmp_path):
    path = planted(tmp_path)
    first = povmap.read_boundaries(path)
    assert first.source.cache == "disimpan" and len(list(cache.glob("*.npz"))) == 1
    # Lahat's own two invalid desa, and the one planted.
    assert first.source.repaired == ["16.04.01.2011", "16.04.23.2006", "16.04.23.2007"]
    assert first.gdf.geometry.is_valid.all()
    assert first.source.duplicates == [("16.04.01.2001", "16.04.01.2099")]
    assert [o[:2] for o in first.source.overlaps if o[2] < 0.95] == [
        ("16.04.01.2002", "16.04.01.2003")
    ]

    def never(*args, **kwargs):
        raise AssertionError("the overlap check ran again")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(boundaries, "_duplicates_and_overlaps", never)
        patch.setattr(shapely, "is_valid", never)  # the repaired desa are known too
        second = povmap.read_boundaries(path)
    assert second.source.cache == "dipakai"
    same_reading(first, second)
    # The outlines from the cache are what the dissolve makes from the layer.
    assert second.outlines.fits(second.gdf) and second.outlines.final is not None
    for level in ("kecamatan", "kabupaten"):
        pd.testing.assert_frame_equal(
            boundaries.dissolve(second.gdf, level, outlines=second.outlines),
            boundaries.dissolve(first.gdf, level),
        )


def test_kecamatan_unions_are_read_from_the_cache_only_when_a_dissolve_needs_them(
    cache, tmp_path, monkeypatch
):
    """The kecamatan unions (half of a national entry) are parsed only for a dissolve above
    kecamatan: a kecamatan dissolve takes the final outlines stored beside them."""
    path = planted(tmp_path)
    first = povmap.read_boundaries(path)
    parsed = []
    unpack = _cache.unpack_wkb
    monkeypatch.setattr(
        _cache,
        "unpack_wkb",
        lambda arrays, name="wkb", *a: parsed.append(name) or unpack(arrays, name, *a),
    )
    second = povmap.read_boundaries(path)
    assert second.source.cache == "dipakai" and parsed == ["final"]
    kecamatan = boundaries.dissolve(second.gdf, "kecamatan", outlines=second.outlines)
    assert parsed == ["final"]
    pd.testing.assert_frame_equal(kecamatan, boundaries.dissolve(first.gdf, "kecamatan"))
    kabupaten = boundaries.dissolve(second.gdf, "kabupaten", outlines=second.outlines)
    assert parsed == ["final", "wkb"]
    pd.testing.assert_frame_equal(kabupaten, boundaries.dissolve(first.gdf, "kabupaten"))
    assert shapely.equals_identical(
        second.outlines.geometry.values, first.outlines.geometry.values
    ).all()
    assert parsed == ["final", "wkb"]  # made once


def test_kecamatan_unions_are_not_even_read_from_the_file_unless_a_dissolve_needs_them(
    cache, tmp_path, monkeypatch
):
    """The arrays of the unions are left in the entry's file (not read, not only not parsed)
    until a dissolve above kecamatan asks for them."""
    path = planted(tmp_path)
    first = povmap.read_boundaries(path)
    opened = []
    zip_open = zipfile.ZipFile.open
    monkeypatch.setattr(
        zipfile.ZipFile,
        "open",
        lambda self, name, *a, **k: opened.append(name) or zip_open(self, name, *a, **k),
    )
    second = povmap.read_boundaries(path)
    assert second.source.cache == "dipakai"
    assert {"codes_read.npy", "final.npy"} <= set(opened)
    boundaries.dissolve(second.gdf, "kecamatan", outlines=second.outlines)
    assert not {"wkb.npy", "wkb_ends.npy"} & set(opened)
    read = len(opened)
    kabupaten = boundaries.dissolve(second.gdf, "kabupaten", outlines=second.outlines)
    # The entry's own key is checked again, then the unions alone are read.
    assert sorted(opened[read:]) == ["povmap_key.npy", "wkb.npy", "wkb_ends.npy"]
    pd.testing.assert_frame_equal(kabupaten, boundaries.dissolve(first.gdf, "kabupaten"))


@pytest.mark.parametrize("damage", ["removed", "cut", "another entry"])
def test_kecamatan_unions_of_an_entry_gone_since_it_was_read_are_computed_again(
    cache, tmp_path, damage
):
    path = planted(tmp_path)
    first = povmap.read_boundaries(path)
    (entry,) = cache.glob("*.npz")
    other = povmap.read_boundaries(path, keep_duplicates=True)  # a second entry
    (another,) = set(cache.glob("*.npz")) - {entry}
    second = povmap.read_boundaries(path)
    assert second.source.cache == "dipakai" and other.source.cache == "disimpan"
    # After the reading and before the dissolve: the entry is pruned, cut short by a full
    # disk, or another entry's file is copied over it.
    if damage == "removed":
        entry.unlink()
    elif damage == "cut":
        entry.write_bytes(entry.read_bytes()[:100])
    else:
        entry.write_bytes(another.read_bytes())
    assert _cache.load(entry.stem, only=boundaries._UNION_ARRAYS) is None
    kabupaten = boundaries.dissolve(second.gdf, "kabupaten", outlines=second.outlines)
    pd.testing.assert_frame_equal(kabupaten, boundaries.dissolve(first.gdf, "kabupaten"))
    assert shapely.equals_identical(
        second.outlines.geometry.values, first.outlines.geometry.values
    ).all()


def test_another_edition_or_option_is_computed_again(cache, tmp_path):
    path = planted(tmp_path)
    first = povmap.read_boundaries(path)
    kept = povmap.read_boundaries(path, keep_duplicates=True)
    assert kept.source.cache == "disimpan" and len(kept.gdf) == len(first.gdf) + 1
    # The same file edited (one desa moved): its own check, not the old entry.
    raw = gpd.read_file(path)
    raw.loc[5, "geometry"] = shapely.affinity.translate(raw.geometry[5], 0.002)
    raw.to_file(path)
    edited = povmap.read_boundaries(path)
    assert edited.source.cache == "disimpan"
    moved = edited.gdf.set_index("kode_desa").loc[raw.loc[5, "kode"]]
    assert moved.geometry.equals(raw.geometry[5])
    with pytest.MonkeyPatch.context() as off:
        off.setenv(_cache.CACHE_ENV, "off")
        fresh = povmap.read_boundaries(path)
    assert fresh.source.cache is None
    same_reading(edited, fresh)


def test_a_broken_entry_is_computed_again(cache, tmp_path):
    path = planted(tmp_path)
    first = povmap.read_boundaries(path)
    (entry,) = cache.glob("*.npz")
    entry.write_bytes(entry.read_bytes()[:100])  # cut short, as by a full disk
    again = povmap.read_boundaries(path)
    assert again.source.cache == "disimpan"
    same_reading(first, again)
    # An entry of other areas (as a hash collision would give) is not used either.
    arrays = dict(np.load(entry, allow_pickle=False))
    arrays["codes_read"] = arrays["codes_read"][::-1]
    np.savez(entry, **arrays)
    assert povmap.read_boundaries(path).source.cache == "disimpan"


def _damaged(arrays: dict, damage: str) -> dict:
    """An entry's arrays with one of them damaged, its own key kept (still a valid npz)."""
    arrays = dict(arrays)
    if damage in ("final", "wkb"):
        garbage = arrays[damage].copy()
        garbage[5:200] = 7
        arrays[damage] = garbage
    elif damage in ("final_ends", "wkb_ends"):
        arrays[damage] = arrays[damage][:-1]
    elif damage == "luas_km2":
        arrays[damage] = arrays[damage][:-3]
    elif damage == "luas_km2 as text":
        arrays["luas_km2"] = arrays["luas_km2"].astype(str)
    elif damage == "parents":
        arrays[damage] = arrays[damage][:-1]
    elif damage == "repaired":
        arrays[damage] = np.array(["99.99.99.9999"])
    else:  # an overlap's share without its pair
        arrays["ov_share"] = np.r_[arrays["ov_share"], 0.5]
    return arrays


@pytest.mark.parametrize(
    "damage",
    [
        "final",
        "final_ends",
        "wkb",
        "wkb_ends",
        "luas_km2",
        "luas_km2 as text",
        "parents",
        "repaired",
        "ov_share",
    ],
)
def test_a_damaged_entry_with_its_own_key_is_computed_again(cache, tmp_path, damage):
    """An entry that is a well-formed archive with the right own key but a damaged array (cut
    short, garbage WKB, another kind) is not trusted: the reading and the dissolves are those
    of a run without the cache, no exception."""
    path = need(KAYONG_DESA)
    with pytest.MonkeyPatch.context() as off:
        off.setenv(_cache.CACHE_ENV, "off")
        fresh = povmap.read_boundaries(path)
        expected = {
            level: boundaries.dissolve(fresh.gdf, level, outlines=fresh.outlines)
            for level in ("kecamatan", "kabupaten")
        }
    assert povmap.read_boundaries(path).source.cache == "disimpan"
    (entry,) = cache.glob("*.npz")
    arrays = dict(np.load(entry, allow_pickle=False))
    np.savez(entry, **_damaged(arrays, damage))
    assert str(np.load(entry)[_cache.OWN_KEY]) == entry.stem
    again = povmap.read_boundaries(path)
    # The unions are read only by a dissolve above kecamatan (below): computed again there.
    assert again.source.cache == ("dipakai" if damage.startswith("wkb") else "disimpan")
    same_reading(fresh, again)
    for level in ("kecamatan", "kabupaten"):
        pd.testing.assert_frame_equal(
            boundaries.dissolve(again.gdf, level, outlines=again.outlines), expected[level]
        )


def test_manifest_says_the_cache_was_used(cache, tmp_path):
    path = planted(tmp_path)
    counts = tmp_path / "jumlah.csv"
    make_counts(gpd.read_file(need(LAHAT_DESA))).to_csv(counts, index=False)
    said = []
    for run in ("a", "b"):
        code, text = invoke("export", path, counts, "-o", tmp_path / run, "--format", "gpkg")
        assert code == 0, text
        manifest = json.loads((tmp_path / run / "manifest.json").read_text())
        said.append(manifest["batas_wilayah"]["cache"])
    assert said == ["disimpan", "dipakai"]
    one, two = (gpd.read_file(tmp_path / r / "povmap.gpkg", layer="kecamatan") for r in "ab")
    pd.testing.assert_frame_equal(one, two)


def test_a_cache_folder_that_cannot_be_written_is_said_and_told_apart_from_off(
    tmp_path, monkeypatch
):
    blocker = tmp_path / "berkas.txt"
    blocker.write_text("not a folder")
    folder = blocker / "cache"  # under a file: cannot be made
    monkeypatch.setenv(_cache.CACHE_ENV, str(folder))
    path = planted(tmp_path)
    read = povmap.read_boundaries(path)
    assert read.source.cache == "tidak_dapat_ditulis"
    note = message("boundaries.cache_not_writable", folder=folder)
    assert read.source.notes.count(note) == 1
    assert note.en.startswith(f"Cache folder {folder} cannot be written; the cache is not used")
    counts = tmp_path / "jumlah.csv"
    make_counts(gpd.read_file(need(LAHAT_DESA))).to_csv(counts, index=False)
    out = tmp_path / "out"
    code, text = invoke("export", path, counts, "-o", out, "--format", "gpkg", "--lang", "en")
    assert code == 0, text
    assert f"Cache folder {folder} cannot be written" in text
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["batas_wilayah"]["cache"] == "tidak_dapat_ditulis"
    assert str(note) in manifest["penggabungan"]["notes"]  # the record is in Indonesian
    # Off is still None, without a note.
    monkeypatch.setenv(_cache.CACHE_ENV, "off")
    off = povmap.read_boundaries(path)
    assert off.source.cache is None and note not in off.source.notes


def test_the_cache_keeps_the_entries_used_last_within_its_limit(cache, tmp_path, monkeypatch):
    path = planted(tmp_path)
    povmap.read_boundaries(path)
    (entry,) = cache.glob("*.npz")
    # Room for two entries: storing a third removes the one used longest ago.
    monkeypatch.setattr(_cache, "LIMIT_BYTES", int(2.5 * entry.stat().st_size))
    povmap.read_boundaries(path, keep_duplicates=True)
    assert povmap.read_boundaries(path).source.cache == "dipakai"  # used again: now the latest
    other = tmp_path / "other.geojson"
    gpd.read_file(path).iloc[:-1].to_file(other)  # the file without its duplicate
    assert povmap.read_boundaries(other).source.cache == "disimpan"
    assert len(list(cache.glob("*.npz"))) == 2
    assert povmap.read_boundaries(path).source.cache == "dipakai"
    assert povmap.read_boundaries(path, keep_duplicates=True).source.cache == "disimpan"


def test_a_cache_folder_under_home_written_with_a_tilde_is_there(tmp_path, monkeypatch):
    # POVMAP_CACHE_DIR="~/povmap-cache" (quoted, so the shell left the tilde): the entry is in
    # the home folder, and no folder named "~" appears where povmap was run.
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv(_cache.CACHE_ENV, "~/povmap-cache")
    monkeypatch.chdir(work)
    assert _cache.cache_dir() == home / "povmap-cache"
    assert povmap.read_boundaries(need(LAHAT_DESA)).source.cache == "disimpan"
    assert len(list((home / "povmap-cache").glob("*.npz"))) == 1
    assert list(work.iterdir()) == []
