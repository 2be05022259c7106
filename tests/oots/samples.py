"""Sample EDM messages built from the model, for every version (tests only)."""

from __future__ import annotations

from datetime import UTC, datetime

from oots.edm import (
    Address,
    Agent,
    Distribution,
    EdmVersion,
    EvidenceItem,
    EvidenceMetadata,
    EvidenceTypeRef,
    ExceptionResponse,
    Identifier,
    NaturalPerson,
    QueryRequest,
    QueryResponse,
    Requirement,
    Text,
    edm_exception,
)
from oots.edm.model import RepositoryItemRef

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
REQUEST_ID = "urn:uuid:4ffb5281-179d-4578-adf2-39fd13ccc797"

REQUESTER = Agent(Identifier("LV40003011203", "urn:cef.eu:names:identifier:EAS:9939"),
                  (Text("Latvijas Universitāte", "LV"),),
                  Address(admin_unit_level_1="LV", full_address="Raiņa bulvāris 19, Rīga"), "ER")
INTERMEDIARY = Agent(Identifier("LVGATEWAY", "urn:oasis:names:tc:ebcore:partyid-type:unregistered:LV"),
                     (Text("Latvian OOTS gateway", "EN"),), None, "IP")
PROVIDER = Agent(Identifier("02-SchoolAuthority-34", "urn:cef.eu:names:identifier:EAS:0204"),
                 (Text("Authority for school and occupational training", "EN"),))
PERSON = NaturalPerson("Smith", "Jack", "1999-03-01", Identifier("DE/LV/123456789", "eidas"), "High",
                       place_of_birth="Duesseldorf")


def sr(version: EdmVersion, path: str) -> str:
    return f"https://{version.sr_host}/{path}"


def evidence_type(version: EdmVersion) -> EvidenceTypeRef:
    return EvidenceTypeRef(
        "59f098d4-8afe-4ac2-9197-b8fe9e1c2c85",
        sr(version, "evidencetypeclassifications/EU/b6a49e54-8b3c-4688-acad-380440dc5962"),
        (Text("EU-Wide Diploma/Bachelor's Degree", "EN"),), (Distribution("application/pdf"),))


def request(version: EdmVersion, **changes: object) -> QueryRequest:
    values: dict[str, object] = dict(
        specification_id=version.specification_id, id=REQUEST_ID, issue_datetime=NOW,
        possibility_for_preview=True, explicit_request_given=True,
        evidence_requesters=(REQUESTER, INTERMEDIARY), evidence_provider=PROVIDER,
        evidence_request=evidence_type(version),
        procedure=Text("T2", "EN" if version.procedure_localized else None),
        requirements=(Requirement(sr(version, "requirements/f8a6a284-34e9-42c7-9733-63b5c4f4aa42"),
                                  (Text("Proof of tertiary education diploma", "EN"),),
                                  (Text("A diploma of higher education", "EN"),)),),
        natural_person=PERSON,
    )
    values.update(changes)
    return QueryRequest(**values)  # type: ignore[arg-type]


def response(version: EdmVersion, *, items: int = 1) -> QueryResponse:
    evidence = tuple(
        EvidenceItem(
            id=f"urn:uuid:dc518a5b-ff25-44de-9bc5-2ecda71d3f6{n}",
            metadata=EvidenceMetadata(
                identifier=f"5ee5c0de-c066-4637-bea3-6e3511ada97{n}",
                is_about=NaturalPerson("Smith", "Jack", "1999-03-01", Identifier("DE/LV/123456789", "eidas")),
                issuing_authority=Agent(Identifier("DE7657587001", "urn:cef.eu:names:identifier:EAS:9930"),
                                        (Text("Wilhelm Gymnasium", "EN"),)),
                classification=evidence_type(version).classification,
                titles=(Text("EU-Wide Diploma/Bachelor's Degree", "EN"),),
                issuing_date="2019-05-10", distribution=Distribution("application/pdf"),
            ),
            repository_item=RepositoryItemRef(f"cid:evidence{n}@oots.example.lv", "Evidence"),
            package_id="urn:uuid:1a2b3c4d-0000-4000-8000-000000000016" if version.evidence_in_packages else None,
            classification_node=("MainEvidence" if n == 0 else "Annex") if version.evidence_in_packages else None,
            classification_id=f"urn:uuid:1a2b3c4d-0000-4000-8000-00000000001{n}"
            if version.evidence_in_packages else None,
        )
        for n in range(items)
    )
    return QueryResponse(
        specification_id=version.specification_id, request_id=REQUEST_ID,
        response_id="urn:uuid:abd12484-aa7d-4bb7-a697-7b15ab9b3b79", issue_datetime=NOW,
        evidence_providers=(Agent(PROVIDER.identifier, PROVIDER.names,
                                  Address(admin_unit_level_1="DE", post_city_name="Hamburg"), "EP"),),
        evidence_requester=Agent(REQUESTER.identifier, REQUESTER.names), evidence=evidence,
    )


def exception(version: EdmVersion, code: str = "EDM:ERR:0004", **kwargs: object) -> ExceptionResponse:
    return ExceptionResponse(
        specification_id=version.specification_id, request_id=REQUEST_ID,
        response_id="cf5bbaab-646f-4a06-bbac-ccadeaad1f6d",
        error_provider=Agent(PROVIDER.identifier, PROVIDER.names, None, "ERRP"),
        exception=edm_exception(code, version, timestamp=NOW, **kwargs),  # type: ignore[arg-type]
        evidence_requester=Agent(REQUESTER.identifier, REQUESTER.names),
    )
