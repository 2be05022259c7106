"""Name normalisation shared by identity matching (provider) and cross-validation (requester side)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from oots.edm.model import LegalPerson, NaturalPerson


def normalise(name: str) -> str:
    """Case, diacritics (Latvian ā/č/ē/ģ/ī/ķ/ļ/ņ/š/ū/ž as base letters), hyphens and spacing ignored: foreign
    eIDAS nodes and registers transliterate inconsistently."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s\-‐'’]+", " ", stripped).strip()


def mds_digest(person: NaturalPerson | LegalPerson) -> str:
    """A digest of the person's mandatory data set, normalised: what a preview session remembers of the person
    (the preview space's re-authentication and request #2 must name the same one) without keeping the MDS."""
    if isinstance(person, NaturalPerson):
        fields = ["N", normalise(person.family_name), normalise(person.given_name), person.date_of_birth,
                  person.identifier.value if person.identifier else ""]
    else:
        fields = ["L", normalise(person.legal_name),
                  person.legal_person_identifier.value if person.legal_person_identifier else ""]
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def person_reference(family_name: str, given_name: str, date_of_birth: str) -> str:
    """The audit subject of preview events: who the data is about, reproducible from any login of that person
    (national or foreign eID: names normalised, no identifier, whose scheme differs between logins), so the
    person's access log finds every request for their data. Only its keyed hash reaches the audit log."""
    fields = ["P", normalise(family_name), normalise(given_name), date_of_birth]
    return "mds-ref:" + hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()
