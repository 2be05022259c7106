"""Name normalisation shared by identity matching (provider) and cross-validation (requester side)."""

from __future__ import annotations

import re
import unicodedata


def normalise(name: str) -> str:
    """Case, diacritics (Latvian ā/č/ē/ģ/ī/ķ/ļ/ņ/š/ū/ž as base letters), hyphens and spacing ignored: foreign
    eIDAS nodes and registers transliterate inconsistently."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s\-‐'’]+", " ", stripped).strip()
