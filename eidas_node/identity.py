"""The neutral identity in the middle of the proxy: what a foreign login proved, independent of SAML.

The eIDAS back end produces it, identity mapping and the national front end consume it; a later wallet
(OpenID4VP) back end would produce the same object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class NaturalPerson:
    person_identifier: str  # eIDAS form CC/LV/local-id
    family_name: str
    given_name: str
    date_of_birth: date

    @property
    def origin_country(self) -> str:
        return self.person_identifier.split("/", 1)[0]


@dataclass(frozen=True)
class LegalPerson:
    legal_person_identifier: str
    legal_name: str


@dataclass(frozen=True)
class ForeignIdentity:
    """One authenticated foreign subject (a natural person, a legal person, or both: a representative)."""

    country: str  # the proxy service's country (from its metadata, verified)
    issuer: str  # entity id of the proxy service
    loa: str
    authn_instant: datetime
    name_id: str
    natural: NaturalPerson | None = None
    legal: LegalPerson | None = None
    # Every attribute read from the verified assertion: URI -> values (optional ones included).
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = "eidas-saml"
