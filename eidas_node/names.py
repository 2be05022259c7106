"""Name normalisation for identity matching: case, diacritics and transliteration, as a set of keys.

A name can be written several ways across registers: "Müller" is "Muller" or "Mueller", "Strauß" is
"Strauss", "Иванов" is "Ivanov", "Παπαδόπουλος" is "Papadopoulos". :func:`name_keys` returns every spelling
we consider equivalent (lower-case ASCII letters and single spaces); two names match when their key sets
intersect. Transliteration follows ICAO Doc 9303 (passports) for Cyrillic, ELOT 743 for Greek, with the
common alternatives (Bulgarian "ya"/"yu"/"h"/"sht", German "ue"/"oe"/"ae") as extra keys.
"""

from __future__ import annotations

import re
import unicodedata

# German-style expansions: each gives a second key (ü→ue as well as ü→u).
_EXPANSIONS = {"ä": "ae", "ö": "oe", "ü": "ue", "å": "aa", "æ": "ae", "ø": "oe"}
# Letters that NFKD does not decompose into ASCII.
_SPECIAL = {"ß": "ss", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ŋ": "n", "œ": "oe", "æ": "ae",
            "ø": "o", "ħ": "h", "ŧ": "t"}

_CYRILLIC_ICAO = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "ie", "ы": "y", "ь": "",
    "э": "e", "ю": "iu", "я": "ia", "і": "i", "ї": "i", "є": "ie", "ґ": "g", "ў": "u", "ј": "j", "љ": "lj",
    "њ": "nj", "ћ": "c", "ђ": "dj", "џ": "dz",
}
# Where national practice differs from ICAO (Bulgarian, Ukrainian, older passports).
_CYRILLIC_COMMON = {**_CYRILLIC_ICAO, "й": "y", "х": "h", "щ": "sht", "ъ": "a", "ю": "yu", "я": "ya", "ц": "c",
                    "є": "ye", "ї": "yi"}

_GREEK_DIGRAPHS = (("ου", "ou"), ("αυ", "av"), ("ευ", "ev"), ("ηυ", "iv"), ("μπ", "mp"), ("ντ", "nt"),
                   ("γγ", "ng"), ("γκ", "gk"), ("γξ", "nx"), ("γχ", "nch"))
_GREEK = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i", "κ": "k",
    "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r", "σ": "s", "ς": "s", "τ": "t",
    "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o",
}


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _greek(text: str) -> str:
    for digraph, latin in _GREEK_DIGRAPHS:
        text = text.replace(digraph, latin)
    return "".join(_GREEK.get(ch, ch) for ch in text)


def _latin(text: str, cyrillic: dict[str, str], expand: bool) -> str:
    out = []
    for ch in text:
        if expand and ch in _EXPANSIONS:
            out.append(_EXPANSIONS[ch])
        elif ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ch in cyrillic:
            out.append(cyrillic[ch])
        else:
            out.append(ch)
    return _strip_marks("".join(out))


def _clean(text: str) -> str:
    text = re.sub(r"[-‐‑'’`.,]", " ", text)
    text = re.sub(r"[^a-z ]", "", text)
    return " ".join(text.split())


def name_keys(name: str) -> frozenset[str]:
    """Every normalised spelling of ``name`` (empty set for an empty name)."""
    base = unicodedata.normalize("NFC", name).casefold()
    # Greek accents first (ώ → ω), so digraphs are found whatever the accents.
    base = _greek(unicodedata.normalize("NFC", "".join(
        ch for ch in unicodedata.normalize("NFD", base) if not unicodedata.combining(ch))
        if any("\u0370" <= ch <= "\u03ff" for ch in base) else base))
    keys = {_clean(_latin(base, table, expand)) for table in (_CYRILLIC_ICAO, _CYRILLIC_COMMON)
            for expand in (False, True)}
    return frozenset(key for key in keys if key)


def names_match(a: str, b: str) -> bool:
    return bool(name_keys(a) & name_keys(b))
