"""The data-service adapter port: evidence for one person and evidence type, or an error with its EDM code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from oots.edm.model import Agent, LegalPerson, NaturalPerson, Text


class DataServiceError(Exception):
    """``code`` is ours; ``edm_code`` is what the provider answers (TDD / Projectathon usage):
    IDENTITY_NOT_MATCHED / IDENTITY_AMBIGUOUS / EVIDENCE_TYPE_UNKNOWN → EDM:ERR:0004 (no unique match means no
    evidence), REGISTRY_TIMEOUT → EDM:ERR:0005 (TC03 alt 1), REGISTRY_ERROR and REGISTRY_FAULT (a SOAP register
    answered a fault) → EDM:ERR:0008 (TC03 alt 2)."""

    EDM_CODES = {"IDENTITY_NOT_MATCHED": "EDM:ERR:0004", "IDENTITY_AMBIGUOUS": "EDM:ERR:0004",
                 "EVIDENCE_TYPE_UNKNOWN": "EDM:ERR:0004", "REGISTRY_TIMEOUT": "EDM:ERR:0005",
                 "REGISTRY_ERROR": "EDM:ERR:0008",
                 "REGISTRY_FAULT": "EDM:ERR:0008"}

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.edm_code = self.EDM_CODES[code]


@dataclass(frozen=True)
class EvidenceQuery:
    evidence_type: str  # EvidenceTypeClassification
    person: NaturalPerson | LegalPerson
    answers: dict[str, str] = field(default_factory=dict)  # provider classification answers (DSD:ERR:0005)


@dataclass(frozen=True)
class EvidenceDocument:
    """One evidence with what the response's sdg:Evidence needs; ``subject`` is the person as registered."""

    identifier: str
    content: bytes
    media_type: str
    issuing_date: str
    issuing_authority: Agent
    titles: tuple[Text, ...]
    subject: NaturalPerson
    # The data model of structured evidence (sdg:Distribution/ConformsTo, required for XML and JSON).
    conforms_to: str | None = None


class DataServiceAdapter(Protocol):
    @property
    def evidence_types(self) -> frozenset[str]: ...

    async def fetch(self, query: EvidenceQuery) -> list[EvidenceDocument]:
        """Evidence of the uniquely matched person; ``[]`` when the person has none (TC02). Raises
        :class:`DataServiceError` for no/ambiguous match, timeouts and register failures."""
        ...
