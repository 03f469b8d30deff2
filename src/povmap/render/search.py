"""Search keys: desa names folded the way the join folds them (:mod:`povmap.names`).

Each desa carries a key (``normalize_name`` of its desa and kecamatan names) computed in Python;
the page folds the typed text with the same rules (lower case, accents and punctuation dropped,
a leading area prefix dropped, the abbreviations of :data:`povmap.names.ABBREVIATIONS`
expanded). A typed word matches a key word that starts with it, or that abbreviates it
(``mdl`` is in ``mandala`` letter by letter, first letter first): "Desa Mandala Murung" finds
"Mdl. Murung Mesjid". The text as typed, anywhere in "Desa, Kecamatan", still matches too.
The suggestions come best first (Enter opens the first): the desa's own name typed whole, then
its beginning, then words of it, then hits needing the kecamatan name, then the looser ones.
"""

from __future__ import annotations

import geopandas as gpd

from .._distinct import map_distinct
from ..names import _DOTTED_ONLY, ABBREVIATIONS, PREFIXES, ROMAN, normalize_name
from .topo import script_json

#: Between the desa's and the kecamatan's words in a key: folded names hold single spaces only.
KEY_SEPARATOR = "  "

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
    function matches(typed, words, fuzzy) {
        return typed.every(function(t) {
            return words.some(function(w) {
                return w.indexOf(t) === 0 || (fuzzy && abbreviates(w, t));
            });
        });
    }
    // 0 the desa's own name, 1 its prefix, 2 word prefixes inside it, 3 with the kecamatan
    // name, 4 anything looser; -1 no match. The best first: Enter opens the first.
    function rank(typed, raw, title, key) {
        var parts = key.split(rules.separator), desa = parts[0], name = desa.split(' ');
        var words = name.concat(parts.length > 1 ? parts[1].split(' ') : []);
        var text = typed.join(' ');
        if (typed.length) {
            if (desa === text) return 0;
            if (desa.indexOf(text) === 0) return 1;
            if (matches(typed, name, false)) return 2;
            if (matches(typed, words, false)) return 3;
            if (matches(typed, words, true)) return 4;
        }
        // The text as typed anywhere in "Desa, Kecamatan".
        return raw && title.toLowerCase().indexOf(raw) >= 0 ? 4 : -1;
    }
    return function(text, records) {
        var typed = fold(text), raw = String(text).toLowerCase(), hits = [], found = {};
        for (var title in records) {
            var layer = records[title].layer;
            var r = rank(typed, raw, title, layer ? layer.feature.properties.q : '');
            if (r >= 0) hits.push({title: title, rank: r});
        }
        hits.sort(function(a, b) {
            return a.rank - b.rank || a.title.localeCompare(b.title, 'id');
        });
        // Leaflet-search lists the tips in the key order of the returned object.
        hits.forEach(function(h) { found[h.title] = records[h.title]; });
        return found;
    };
}
"""


#: Options of ``L.Control.Search`` shared by the province and national search boxes (template
#: source: constant text, the values come from the element's own attributes).
SEARCH_OPTIONS = """\
            filterData: ({{ this.search_js }})({{ this.rules }}),
            initial: false,
            marker: false,
            firstTipSubmit: true,
            collapsed: false,
            textPlaceholder: {{ this.placeholder|tojson }},
            textErr: {{ this.text_err|tojson }},
            position: 'topleft',
            buildTip: function(text) {
                var li = document.createElement('li');
                li.textContent = text;
                return li;
            },
"""


def search_keys(gdf: gpd.GeoDataFrame) -> list[str]:
    """The search key of each desa: its normalised desa and kecamatan names, space-separated.

    Parameters
    ----------
    gdf
        Desa layer with ``nama_desa`` and ``nama_kecamatan``.

    Returns
    -------
    One lower-case ASCII key per row, the desa's words and the kecamatan's words separated by
    two spaces (the page ranks hits on the desa's own name first), e.g.
    ``"mandala murung mesjid  daha utara"``.
    """
    # Each distinct name folded once (a kecamatan's name is on all its desa).
    desa = map_distinct(normalize_name, gdf["nama_desa"])
    kecamatan = map_distinct(normalize_name, gdf["nama_kecamatan"])
    return [f"{d}{KEY_SEPARATOR}{k}" for d, k in zip(desa, kecamatan, strict=True)]


def search_rules() -> str:
    """The folding rules of :func:`povmap.names.normalize_name`, as JSON for the page."""
    return script_json(
        {
            "prefixes": list(PREFIXES),
            "abbreviations": ABBREVIATIONS,
            "dotted": sorted(_DOTTED_ONLY),
            "roman": ROMAN,
            "separator": KEY_SEPARATOR,
        }
    )
