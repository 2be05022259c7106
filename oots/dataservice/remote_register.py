"""What every adapter for a register behind a network API (REST, SOAP) shares: the evidence types it serves with
the metadata the register does not send, the checks and timeout around one lookup, the unique match decided by
US over the register's candidates (:func:`match_person`), and strict base64 decoding of evidence content.

Error codes are the same for every remote adapter: no/ambiguous match and unknown types → EDM:ERR:0004, the
lookup not done within ``timeout_s`` → REGISTRY_TIMEOUT (EDM:ERR:0005), any transport or shape failure →
REGISTRY_ERROR (EDM:ERR:0008).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from oots.dataservice.matching import RegisterPerson, match_person
from oots.dataservice.port import DataServiceError, EvidenceDocument, EvidenceQuery
from oots.edm.model import Agent, NaturalPerson, Text

Item = TypeVar("Item")


@dataclass(frozen=True)
class EvidenceTypeInfo:
    """What the register does not send but the response's sdg:Evidence needs, per evidence type."""

    evidence_type: str
    titles: tuple[Text, ...]
    issuing_authority: Agent
    level_of_assurance: str = "Substantial"


@dataclass(frozen=True)
class RegisterEvidence:
    """One evidence item as the register described it (content already fetched and decoded)."""

    identifier: str
    content: bytes
    media_type: str
    issuing_date: str
    conforms_to: str | None = None


class RemoteRegister:
    """Base of the network adapters: subclasses implement :meth:`_lookup` and name the exceptions of their
    transport that mean "the register failed" in ``failures``."""

    failures: tuple[type[BaseException], ...] = ()

    def __init__(self, types: Sequence[EvidenceTypeInfo], *, timeout_s: float) -> None:
        self._types = {t.evidence_type: t for t in types}
        self._timeout = timeout_s

    @property
    def evidence_types(self) -> frozenset[str]:
        return frozenset(self._types)

    @property
    def required_loa(self) -> dict[str, str]:
        return {t: i.level_of_assurance for t, i in self._types.items()}

    async def fetch(self, query: EvidenceQuery) -> list[EvidenceDocument]:
        info = self._types.get(query.evidence_type)
        if info is None:
            raise DataServiceError("EVIDENCE_TYPE_UNKNOWN", f"this register does not provide {query.evidence_type}")
        if not isinstance(query.person, NaturalPerson):
            raise DataServiceError("IDENTITY_NOT_MATCHED", "this register holds natural persons only")
        try:
            return await asyncio.wait_for(self._lookup(info, query.person), self._timeout)
        except TimeoutError:
            raise DataServiceError("REGISTRY_TIMEOUT",
                                   f"the register did not answer within {self._timeout} s") from None
        except self.failures as exc:
            raise DataServiceError("REGISTRY_ERROR", f"the register failed: {type(exc).__name__}") from None

    async def _lookup(self, info: EvidenceTypeInfo, person: NaturalPerson) -> list[EvidenceDocument]:
        raise NotImplementedError


def choose(person: NaturalPerson, candidates: list[RegisterPerson],
           evidence: Mapping[str, Sequence[Item]]) -> tuple[RegisterPerson, list[Item]]:
    """The uniquely matched candidate and the register's items for them (none: the person has no evidence)."""
    chosen = match_person(person, candidates)
    return chosen, list(evidence.get(chosen.key) or [])


def documents(info: EvidenceTypeInfo, chosen: RegisterPerson, person: NaturalPerson,
              items: Sequence[RegisterEvidence]) -> list[EvidenceDocument]:
    """The port's documents; the subject is the person as registered, with the identifier that was asked for."""
    subject = NaturalPerson(chosen.family_name, chosen.given_name, chosen.date_of_birth, person.identifier)
    return [EvidenceDocument(i.identifier, i.content, i.media_type, i.issuing_date, info.issuing_authority,
                             info.titles, subject, i.conforms_to) for i in items]


def decode_base64(text: str) -> bytes:
    """Strict: characters outside the alphabet are a register failure, not silently dropped."""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise DataServiceError("REGISTRY_ERROR", "evidence content is not valid base64") from None
