"""Search keys: desa names folded the way the join folds them (:mod:`povmap.names`).

Each desa carries a key (``normalize_name`` of its desa and kecamatan names) computed in Python;
the page folds the typed text with the same rules (lower case, accents and punctuation dropped,
a leading area prefix dropped, the abbreviations of :data:`povmap.names.ABBREVIATIONS`
expanded). A typed word matches a key word that starts with it, or that abbreviates it
(``mdl`` is in ``mandala`` letter by letter, first letter first): "Desa Mandala Murung" finds
"Mdl. Murung Mesjid". The text as typed, anywhere in "Desa, Kecamatan", still matches too.
"""

from __future__ import annotations

import geopandas as gpd

from ..names import _DOTTED_ONLY, ABBREVIATIONS, PREFIXES, ROMAN, normalize_name
from .topo import script_json

#: The page's text folding and matching; ``RULES`` is filled in from :mod:`povmap.names`.
SEARCH_JS = """
function(rules) {
    function fold(text) {
        text = String(text).normalize('NFKD').replace(/[\\u0300-\\u036f]/g, '').toLowerCase();
        text = text.replace(/['`"]/g, '').replace(/[^a-z0-9.]+/g, ' ');
        var words = text.match(/[a-z0-9]+\\.?/g) || [], out = [];
        words.forEach(function(token, i) {
            var dotted = token.slice(-1) === '.', word = token.replace(/\\.$/, '');
            if (!out.length && rules.prefixes.indexOf(word) >= 0 && i + 1 < words.length) return;
            if (rules.abbreviations.hasOwnProperty(word) && i + 1 < words.length
                    && (dotted || rules.dotted.indexOf(word) < 0)) {
                word = rules.abbreviations[word];
            } else if (rules.roman.hasOwnProperty(word) && out.length) {
                word = rules.roman[word];
            }
            out.push(word);
        });
        return out;
    }
    function abbreviates(short, word) {
        if (short.length < 2 || short[0] !== word[0]) return false;
        var j = 0;
        for (var i = 0; i < word.length && j < short.length; i++) {
            if (word[i] === short[j]) j++;
        }
        return j === short.length;
    }
    function matches(typed, key) {
        var words = key.split(' ');
        return typed.every(function(t) {
            return words.some(function(w) {
                return w.indexOf(t) === 0 || abbreviates(w, t);
            });
        });
    }
    return function(text, records) {
        var typed = fold(text), raw = String(text).toLowerCase(), found = {};
        for (var title in records) {
            var layer = records[title].layer;
            // The text as typed anywhere in "Desa, Kecamatan", or the folded words.
            if (title.toLowerCase().indexOf(raw) >= 0
                    || (typed.length && layer && matches(typed, layer.feature.properties.q))) {
                found[title] = records[title];
            }
        }
        return found;
    };
}
"""


def search_keys(gdf: gpd.GeoDataFrame) -> list[str]:
    """The search key of each desa: its normalised desa and kecamatan names, space-separated.

    Parameters
    ----------
    gdf
        Desa layer with ``nama_desa`` and ``nama_kecamatan``.

    Returns
    -------
    One lower-case ASCII key per row, e.g. ``"mdl murung mesjid daha utara"``.
    """
    return [f"{normalize_name(d)} {normalize_name(k)}".strip()
            for d, k in zip(gdf["nama_desa"], gdf["nama_kecamatan"], strict=True)]


def search_rules() -> str:
    """The folding rules of :func:`povmap.names.normalize_name`, as JSON for the page."""
    return script_json({"prefixes": list(PREFIXES), "abbreviations": ABBREVIATIONS,
                        "dotted": sorted(_DOTTED_ONLY), "roman": ROMAN})
