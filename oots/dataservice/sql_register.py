"""The default data-service adapter: a register in an SQL database, mapped per evidence type.

One person query returns the candidates for the requested date of birth; :func:`match_person` picks the unique
one; the evidence query of the evidence type returns that person's records, each rendered as a small XML
document (the register's own columns as elements). Queries run under a timeout (TC03: base-registry timeout →
EDM:ERR:0005; any database failure → EDM:ERR:0008).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from oots.dataservice.matching import RegisterPerson, match_person
from oots.dataservice.port import DataServiceError, EvidenceDocument, EvidenceQuery
from oots.edm.model import Agent, NaturalPerson, Text


@dataclass(frozen=True)
class RegisterMapping:
    evidence_type: str  # EvidenceTypeClassification served
    titles: tuple[Text, ...]
    issuing_authority: Agent
    # SQL with :person_key; columns record_id and issued_on, then any columns to render.
    evidence_query: str
    element: str  # root element of the rendered evidence
    namespace: str
    level_of_assurance: str = "Substantial"  # the LoA the user must have (the DSD's AuthenticationLevelOfAssurance)

    @property
    def conforms_to(self) -> str:
        """The data model of the rendered XML (Distribution/ConformsTo): the root element's qualified name."""
        return f"{self.namespace}:{self.element}"


class SqlRegisterAdapter:
    def __init__(self, engine: AsyncEngine, mappings: Sequence[RegisterMapping], *, person_query: str,
                 timeout_s: float = 10.0) -> None:
        self._engine = engine
        self._mappings = {m.evidence_type: m for m in mappings}
        self._person_query = sa.text(person_query)
        self._timeout = timeout_s

    @property
    def evidence_types(self) -> frozenset[str]:
        return frozenset(self._mappings)

    @property
    def required_loa(self) -> dict[str, str]:
        return {t: m.level_of_assurance for t, m in self._mappings.items()}

    async def fetch(self, query: EvidenceQuery) -> list[EvidenceDocument]:
        mapping = self._mappings.get(query.evidence_type)
        if mapping is None:
            raise DataServiceError("EVIDENCE_TYPE_UNKNOWN", f"this register does not provide {query.evidence_type}")
        if not isinstance(query.person, NaturalPerson):
            raise DataServiceError("IDENTITY_NOT_MATCHED", "this register holds natural persons only")
        try:
            return await asyncio.wait_for(self._fetch(mapping, query.person), self._timeout)
        except TimeoutError:
            raise DataServiceError("REGISTRY_TIMEOUT",
                                   f"the register did not answer within {self._timeout} s") from None
        except SQLAlchemyError as exc:
            raise DataServiceError("REGISTRY_ERROR", f"the register failed: {type(exc).__name__}") from None

    async def _fetch(self, mapping: RegisterMapping, person: NaturalPerson) -> list[EvidenceDocument]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(self._person_query, {"date_of_birth": person.date_of_birth})).mappings().all()
            candidates = [RegisterPerson(str(r["key"]), r["family_name"], r["given_name"], str(r["date_of_birth"]),
                                         r["eidas_identifier"]) for r in rows]
            chosen = match_person(person, candidates)
            records = (await conn.execute(sa.text(mapping.evidence_query),
                                          {"person_key": chosen.key})).mappings().all()
        subject = NaturalPerson(chosen.family_name, chosen.given_name, chosen.date_of_birth, person.identifier)
        return [EvidenceDocument(str(r["record_id"]), _render(mapping, r), "application/xml", str(r["issued_on"]),
                                 mapping.issuing_authority, mapping.titles, subject, mapping.conforms_to)
                for r in records]


def _render(mapping: RegisterMapping, row: Mapping[str, Any]) -> bytes:
    root = etree.Element(f"{{{mapping.namespace}}}{mapping.element}", nsmap={None: mapping.namespace})
    for column, value in row.items():
        if value is not None:
            etree.SubElement(root, f"{{{mapping.namespace}}}{column}").text = str(value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
