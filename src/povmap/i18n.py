"""Labels in Indonesian (default) and English, and numbers written the Indonesian way.

Numbers are formatted here, in Python, and never left to the browser's locale: a planner's laptop
set to English must still show ``1.234`` and ``1,09 %``.
"""

from __future__ import annotations

import math

from ._errors import LANGS, PovmapInputError

LABELS: dict[str, dict[str, str]] = {
    "id": {
        "nama_desa": "Desa/Kelurahan",
        "nama_kecamatan": "Kecamatan",
        "nama_kabupaten": "Kabupaten/Kota",
        "kode_desa": "Kode desa",
        "kode_kecamatan": "Kode kecamatan",
        "jumlah_miskin_ekstrem": "Penduduk miskin ekstrem (jiwa)",
        "jumlah_keluarga_miskin_ekstrem": "Keluarga miskin ekstrem (KK)",
        "jumlah_penduduk": "Jumlah penduduk (jiwa)",
        "persen_miskin_ekstrem": "Persentase penduduk miskin ekstrem",
        "kepadatan_miskin_ekstrem": "Penduduk miskin ekstrem per km²",
        "luas_km2": "Luas (km²)",
        "jumlah_desil_1": "Penduduk desil 1 (jiwa)",
        "persen_desil_1": (
            "Bagian penduduk desil 1 (peringkat kesejahteraan, bukan tingkat kemiskinan)"
        ),
        "kelas": "Kelas",
        "jumlah_desa": "Jumlah desa",
        "desa_berdata": "Desa berdata",
        "no_data": "Tidak ada data",
        "desa_layer": "Desa/Kelurahan",
        "kecamatan_layer": "Kecamatan",
        "kecamatan_outline": "Batas kecamatan",
        "source": "Sumber",
        "title_default": "Peta kemiskinan ekstrem",
        "illustrative": "Wilayah dan data fiktif, hanya untuk ilustrasi",
        # Poverty pockets (pockets.py): legend texts of jenis_kantong and column labels.
        "kantong:kantong": "Kantong kemiskinan (tinggi dikelilingi tinggi)",
        "kantong:pencilan_tinggi": "Desa miskin di antara desa sejahtera",
        "kantong:dingin": "Kantong rendah (rendah dikelilingi rendah)",
        "kantong:pencilan_rendah": "Desa sejahtera di antara desa miskin",
        "kantong:tidak_signifikan": "Tidak membentuk kantong (tidak signifikan)",
        "kantong:tanpa_geometri": "Tanpa geometri (tidak diuji)",
        "kantong:tanpa_data": "Tidak ada data",
        "jenis_kantong": "Jenis kantong",
        "id_kantong": "Kantong",
        "nilai_eb": "Nilai dihaluskan (Bayes empiris)",
        "statistik": "Statistik lokal",
        "p_value": "Nilai p (permutasi)",
        "q_value": "Nilai q (dikoreksi FDR)",
        "pockets_layer": "Kantong kemiskinan",
        # Map furniture (povmap.render).
        "vintage": "Periode data",
        "suppressed_note": "Jumlah kecil disamarkan untuk melindungi privasi.",
        "no_basemap": "Tanpa peta dasar",
        "search_placeholder": "Cari desa atau kecamatan…",
        "search_not_found": "Tidak ditemukan",
        "zoom_to_kecamatan": "Perbesar ke kecamatan…",
        "fullscreen": "Layar penuh",
        "fullscreen_exit": "Keluar dari layar penuh",
        "kecamatan_labels": "Nama kecamatan",
        "desa_labels": "Nama desa",
        "cara_padan": "Cara padan",
        "cara_padan:code": "kode",
        "cara_padan:name": "nama",
        "cara_padan:fuzzy": "mirip",
        "legend_toggle": "Legenda",
        "unit:jiwa": "jiwa",
        "unit:jiwa_km2": "jiwa/km²",
        "basemap:OpenStreetMap": "Peta jalan (OSM)",
        "basemap:Esri.WorldImagery": "Citra satelit",
        "basemap:OpenTopoMap": "Topografi",
        "title_region": "Kemiskinan ekstrem {region}",
        "north": "U",
        "page": "Halaman",
    },
    "en": {
        "nama_desa": "Village",
        "nama_kecamatan": "District (kecamatan)",
        "nama_kabupaten": "Regency/City",
        "kode_desa": "Village code",
        "kode_kecamatan": "District code",
        "jumlah_miskin_ekstrem": "People in extreme poverty",
        "jumlah_keluarga_miskin_ekstrem": "Families in extreme poverty",
        "jumlah_penduduk": "Population",
        "persen_miskin_ekstrem": "Share of people in extreme poverty",
        "kepadatan_miskin_ekstrem": "People in extreme poverty per km²",
        "luas_km2": "Area (km²)",
        "jumlah_desil_1": "People in welfare decile 1",
        "persen_desil_1": "Share in welfare decile 1 (a welfare rank, not a poverty rate)",
        "kelas": "Class",
        "jumlah_desa": "Number of villages",
        "desa_berdata": "Villages with data",
        "no_data": "No data",
        "desa_layer": "Villages",
        "kecamatan_layer": "Districts",
        "kecamatan_outline": "District boundaries",
        "source": "Source",
        "title_default": "Extreme poverty map",
        "illustrative": "Fictional region and data, for illustration only",
        "kantong:kantong": "Poverty pocket (high among high)",
        "kantong:pencilan_tinggi": "Poor village among better-off villages",
        "kantong:dingin": "Low cluster (low among low)",
        "kantong:pencilan_rendah": "Better-off village among poor villages",
        "kantong:tidak_signifikan": "No pocket (not significant)",
        "kantong:tanpa_geometri": "No geometry (not tested)",
        "kantong:tanpa_data": "No data",
        "jenis_kantong": "Cluster type",
        "id_kantong": "Pocket",
        "nilai_eb": "Smoothed value (empirical Bayes)",
        "statistik": "Local statistic",
        "p_value": "p-value (permutation)",
        "q_value": "q-value (FDR-adjusted)",
        "pockets_layer": "Poverty pockets",
        "vintage": "Data period",
        "suppressed_note": "Small counts are suppressed to protect privacy.",
        "no_basemap": "No basemap",
        "search_placeholder": "Search village or district…",
        "search_not_found": "Not found",
        "zoom_to_kecamatan": "Zoom to district…",
        "fullscreen": "Full screen",
        "fullscreen_exit": "Exit full screen",
        "kecamatan_labels": "District names",
        "desa_labels": "Village names",
        "cara_padan": "Matched by",
        "cara_padan:code": "code",
        "cara_padan:name": "name",
        "cara_padan:fuzzy": "similar name",
        "legend_toggle": "Legend",
        "unit:jiwa": "people",
        "unit:jiwa_km2": "people/km²",
        "basemap:OpenStreetMap": "Street map (OSM)",
        "basemap:Esri.WorldImagery": "Satellite imagery",
        "basemap:OpenTopoMap": "Topographic",
        "title_region": "Extreme poverty, {region}",
        "north": "N",
        "page": "Page",
    },
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise naming the parameter."""
    if lang not in LANGS:
        raise PovmapInputError(f"lang={lang!r} tidak dikenal; pilih salah satu dari {LANGS}.",
                               en=f"lang={lang!r} is unknown; choose one of {LANGS}.")
    return lang


def label(key: str, lang: str = "id") -> str:
    """The label of ``key`` (a column name or a UI word) in ``lang``; the key itself if unknown."""
    return LABELS[check_lang(lang)].get(key, key)


def format_number(value: float | int | None, decimals: int = 0, lang: str = "id") -> str:
    """Format a number with thousands separators: ``1.234,5`` (id) or ``1,234.5`` (en).

    Missing values (None, NaN) become an en dash, which reads as "no value" in both languages.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{float(value):,.{decimals}f}"
    if lang == "id":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_percent(value: float | None, decimals: int = 2, lang: str = "id") -> str:
    """Format a percentage as Indonesians write it, ``1,09 %`` (id), or ``1.09 %`` (en)."""
    text = format_number(value, decimals, lang)
    return text if text == "–" else f"{text} %"
