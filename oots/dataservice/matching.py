"""Identity matching (pure): a unique register person for the requested MDS, or an error.

An eIDAS identifier held by the register decides alone. Otherwise the date of birth must be equal and the
names equal after normalisation (case, diacritics — Latvian ā/č/ē/ģ/ī/ķ/ļ/ņ/š/ū/ž as their base letters —,
hyphens and spacing), because foreign eIDAS nodes transliterate inconsistently. Zero or several candidates:
no evidence (the notes' "unique match or nothing").
"""

from __future__ import annotations

from dataclasses import dataclass

from oots.dataservice.port import DataServiceError
from oots.edm.model import NaturalPerson
from oots.identity import normalise

__all__ = ["RegisterPerson", "match_person", "normalise"]


@dataclass(frozen=True)
class RegisterPerson:
    key: str
    family_name: str
    given_name: str
    date_of_birth: str
    eidas_identifier: str | None = None


def match_person(person: NaturalPerson, candidates: list[RegisterPerson]) -> RegisterPerson:
    wanted_id = person.identifier.value if person.identifier is not None else None
    if wanted_id:
        by_id = [c for c in candidates if c.eidas_identifier == wanted_id]
        if len(by_id) == 1:
            return by_id[0]
    family, given = normalise(person.family_name), normalise(person.given_name)
    found = [c for c in candidates
             if c.date_of_birth == person.date_of_birth and normalise(c.family_name) == family
             and normalise(c.given_name) == given
             and (c.eidas_identifier is None or wanted_id is None or c.eidas_identifier == wanted_id)]
    if not found:
        raise DataServiceError("IDENTITY_NOT_MATCHED", "no register person matches the requested identity")
    if len(found) > 1:
        raise DataServiceError("IDENTITY_AMBIGUOUS", f"{len(found)} register persons match the requested identity")
    return found[0]
