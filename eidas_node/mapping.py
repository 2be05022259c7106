"""Identity mapping: a foreign identity to one national person record, or a clear refusal.

Rules, in order (unique match or nothing):
1. A stored link from the eIDAS PersonIdentifier (``CC/LV/...``) wins.
2. Otherwise the minimum data set: exact date of birth and normalised family and given names
   (:mod:`eidas_node.names`); only a **unique** candidate is accepted, and the link is then stored.
3. No candidate: register a new foreign person record, or refuse, as the policy says.
4. Several candidates: refuse (EIDAS_MAPPING_AMBIGUOUS); nothing is linked.
Legal persons map by their LegalPersonIdentifier link alone (no name matching for organisations).
Every decision goes to the audit sink before it takes effect.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Protocol

from eidas_node.identity import ForeignIdentity
from eidas_node.names import name_keys, names_match
from eidas_node.saml import EidasError

Unmatched = Literal["register", "refuse"]


@dataclass(frozen=True)
class RegisterPerson:
    national_id: str
    kind: Literal["natural", "legal"]
    family_name: str  # for legal persons: the name
    given_name: str
    date_of_birth: date | None
    origin: str  # "register" (existing national record) or "eidas" (created here for a foreign person)


@dataclass(frozen=True)
class MappedIdentity:
    national_id: str
    legal_national_id: str | None
    how: Literal["link", "mds", "registered"]
    identity: ForeignIdentity


class MappingRefused(EidasError):
    pass


class PersonRegister(Protocol):
    async def linked(self, eidas_identifier: str) -> str | None: ...

    async def born_on(self, day: date) -> list[RegisterPerson]: ...

    async def link(self, eidas_identifier: str, national_id: str, now: datetime) -> None: ...

    async def add(self, person: RegisterPerson, now: datetime) -> None: ...


class AuditSink(Protocol):
    async def __call__(self, event: str, subject: str | None, details: dict[str, Any]) -> None: ...


def new_foreign_code() -> str:
    """A personal code for a foreign person created here: Latvia's new-format codes start with 32."""
    digits = f"{secrets.randbelow(10**9):09d}"
    return f"32{digits[:4]}-{digits[4:]}"


class IdentityMapper:
    def __init__(self, register: PersonRegister, audit: AuditSink, *, unmatched: Unmatched = "refuse") -> None:
        self.register = register
        self.audit = audit
        self.unmatched = unmatched

    async def map(self, identity: ForeignIdentity, now: datetime, *, correlation: str | None = None) -> MappedIdentity:
        base = {"country": identity.country, "loa": identity.loa, "correlation_id": correlation}
        legal_id = None
        if identity.legal is not None:
            legal_id = await self._legal(identity, now, base)
        natural = identity.natural
        if natural is None:
            if legal_id is None:
                raise MappingRefused("EIDAS_MAPPING_NO_SUBJECT", "the identity names no person")
            return MappedIdentity(legal_id, legal_id, "link", identity)
        subject = natural.person_identifier
        linked = await self.register.linked(subject)
        if linked is not None:
            await self.audit("eidas.identity.matched", subject, {**base, "how": "link", "national_id": linked})
            return MappedIdentity(linked, legal_id, "link", identity)
        candidates = [p for p in await self.register.born_on(natural.date_of_birth)
                      if p.kind == "natural" and names_match(p.family_name, natural.family_name)
                      and names_match(p.given_name, natural.given_name)]
        if len(candidates) == 1:
            national_id = candidates[0].national_id
            await self.audit("eidas.identity.matched", subject, {**base, "how": "mds", "national_id": national_id})
            await self.register.link(subject, national_id, now)
            return MappedIdentity(national_id, legal_id, "mds", identity)
        if len(candidates) > 1:
            await self.audit("eidas.identity.refused", subject, {
                **base, "code": "EIDAS_MAPPING_AMBIGUOUS", "candidates": len(candidates)})
            raise MappingRefused("EIDAS_MAPPING_AMBIGUOUS",
                                 f"{len(candidates)} register records match the minimum data set; none is chosen")
        if self.unmatched == "refuse":
            await self.audit("eidas.identity.refused", subject, {**base, "code": "EIDAS_MAPPING_NO_MATCH"})
            raise MappingRefused("EIDAS_MAPPING_NO_MATCH", "no register record matches and policy refuses new ones")
        national_id = new_foreign_code()
        await self.audit("eidas.identity.registered", subject, {**base, "national_id": national_id})
        await self.register.add(RegisterPerson(national_id, "natural", natural.family_name, natural.given_name,
                                               natural.date_of_birth, "eidas"), now)
        await self.register.link(subject, national_id, now)
        return MappedIdentity(national_id, legal_id, "registered", identity)

    async def _legal(self, identity: ForeignIdentity, now: datetime, base: dict[str, Any]) -> str:
        assert identity.legal is not None
        subject = identity.legal.legal_person_identifier
        linked = await self.register.linked(subject)
        if linked is not None:
            await self.audit("eidas.identity.matched", subject, {**base, "how": "link", "national_id": linked,
                                                                 "kind": "legal"})
            return linked
        if self.unmatched == "refuse":
            await self.audit("eidas.identity.refused", subject, {**base, "code": "EIDAS_MAPPING_NO_MATCH",
                                                                 "kind": "legal"})
            raise MappingRefused("EIDAS_MAPPING_NO_MATCH", "the legal person is not linked to a register record")
        national_id = "F" + new_foreign_code().replace("-", "")
        await self.audit("eidas.identity.registered", subject, {**base, "national_id": national_id, "kind": "legal"})
        await self.register.add(RegisterPerson(national_id, "legal", identity.legal.legal_name, "", None, "eidas"), now)
        await self.register.link(subject, national_id, now)
        return national_id


class MemoryRegister:
    def __init__(self, people: list[RegisterPerson] | None = None) -> None:
        self.people = {p.national_id: p for p in people or []}
        self.links: dict[str, str] = {}

    async def linked(self, eidas_identifier: str) -> str | None:
        return self.links.get(eidas_identifier)

    async def born_on(self, day: date) -> list[RegisterPerson]:
        return [p for p in self.people.values() if p.date_of_birth == day]

    async def link(self, eidas_identifier: str, national_id: str, now: datetime) -> None:
        self.links[eidas_identifier] = national_id

    async def add(self, person: RegisterPerson, now: datetime) -> None:
        self.people[person.national_id] = person


__all__ = ["IdentityMapper", "MappedIdentity", "MappingRefused", "MemoryRegister", "PersonRegister",
           "RegisterPerson", "name_keys"]
