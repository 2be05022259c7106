"""query:QueryRequest (evidence request #1 and #2) ↔ :class:`QueryRequest`."""

from __future__ import annotations

from lxml import etree

from oots.edm import sdg as S
from oots.edm.errors import EdmCodecError
from oots.edm.model import QueryRequest, Text
from oots.edm.ns import REQUEST_NSMAP, XML_LANG, query
from oots.edm.slots import (
    any_slot,
    boolean_slot,
    collection_element,
    collection_slot,
    datetime_slot,
    localized_slot,
    one,
    read_any,
    read_boolean,
    read_datetime,
    read_localized,
    read_one_any,
    read_string,
    slots_by_name,
    string_slot,
)
from oots.edm.versions import version_for

Element = etree._Element


def build_request(request: QueryRequest) -> Element:
    version = request.version
    root = etree.Element(query("QueryRequest"), nsmap=REQUEST_NSMAP)
    if request.lang is not None:
        root.set(XML_LANG, request.lang)
    root.set("id", request.id)
    string_slot(root, "SpecificationIdentifier", version.specification_id)
    datetime_slot(root, "IssueDateTime", request.issue_datetime)
    if request.procedure is not None:
        if version.procedure_localized:
            localized_slot(root, "Procedure", (request.procedure,))
        else:
            string_slot(root, "Procedure", request.procedure.value)
    if request.preview_location is not None:
        string_slot(root, "PreviewLocation", request.preview_location)
    if request.return_location is not None:
        if "ReturnLocation" not in version.request_optional:
            raise EdmCodecError("EDM_NOT_IN_VERSION", f"ReturnLocation does not exist in {version.label}")
        string_slot(root, "ReturnLocation", request.return_location)
    boolean_slot(root, "PossibilityForPreview", request.possibility_for_preview)
    boolean_slot(root, "ExplicitRequestGiven", request.explicit_request_given)
    if request.requirements:
        requirements = collection_slot(root, "Requirements")
        for requirement in request.requirements:
            S.add_requirement(collection_element(requirements), requirement, version.requirement_description)
    requesters = collection_slot(root, "EvidenceRequester", as_set=version.collections_as_set)
    for agent in request.evidence_requesters:
        S.add_agent(collection_element(requesters), agent)
    S.add_agent(any_slot(root, "EvidenceProvider"), request.evidence_provider)
    if request.provider_classifications:
        classifications = collection_slot(root, "EvidenceProviderClassification")
        for value in request.provider_classifications:
            S.add_classification_value(collection_element(classifications), value)
    etree.SubElement(root, query("ResponseOption"), returnType="LeafClassWithRepositoryItem")
    body = etree.SubElement(root, query("Query"), queryDefinition="DocumentQuery")
    if request.natural_person is not None:
        S.add_person(any_slot(body, "NaturalPerson"), request.natural_person)
    if request.legal_person is not None:
        S.add_legal_person(any_slot(body, "LegalPerson"), request.legal_person)
    if request.authorized_representative is not None:
        S.add_person(any_slot(body, "AuthorizedRepresentative"), request.authorized_representative)
    if request.authorized_representative_legal_person is not None:
        if "AuthorizedRepresentativeLegalPerson" not in version.query_optional:
            raise EdmCodecError("EDM_NOT_IN_VERSION",
                                f"AuthorizedRepresentativeLegalPerson does not exist in {version.label}")
        S.add_legal_person(any_slot(body, "AuthorizedRepresentativeLegalPerson"),
                           request.authorized_representative_legal_person)
    S.add_evidence_type(any_slot(body, "EvidenceRequest"), request.evidence_request)
    return root


def parse_request(root: Element) -> QueryRequest:
    where = "query:QueryRequest"
    request_id = root.get("id")
    if not request_id:
        raise EdmCodecError("EDM_MISSING", "attribute id is required", where=where)
    found = slots_by_name(root)
    spec = one(found, "SpecificationIdentifier", where)
    version = version_for(read_string(spec))  # type: ignore[arg-type]
    procedure_slot = one(found, "Procedure", where, required=False)
    procedure: Text | None = None
    if procedure_slot is not None:
        values = read_localized(procedure_slot)
        procedure = values[0] if values else None
    body = root.find(query("Query"))
    if body is None:
        raise EdmCodecError("EDM_MISSING", "query:Query is required", where=where)
    in_query = slots_by_name(body)

    def optional_string(name: str) -> str | None:
        slot = one(found, name, where, required=False)
        return None if slot is None else read_string(slot)

    def person_slot(name: str, local: str) -> Element | None:
        slot = one(in_query, name, "query:Query", required=False)
        return None if slot is None else read_one_any(slot, local)

    natural = person_slot("NaturalPerson", "Person")
    legal = person_slot("LegalPerson", "LegalPerson")
    representative = person_slot("AuthorizedRepresentative", "Person")
    representative_legal = person_slot("AuthorizedRepresentativeLegalPerson", "LegalPerson")
    requirements = one(found, "Requirements", where, required=False)
    classifications = one(found, "EvidenceProviderClassification", where, required=False)
    requesters = [S.read_agent(e) for e in read_any(one(found, "EvidenceRequester", where))]  # type: ignore[arg-type]
    if not requesters:
        raise EdmCodecError("EDM_MISSING", "EvidenceRequester holds no sdg:Agent", where=where)
    return QueryRequest(
        specification_id=version.specification_id,
        id=request_id,
        issue_datetime=read_datetime(one(found, "IssueDateTime", where)),  # type: ignore[arg-type]
        possibility_for_preview=read_boolean(one(found, "PossibilityForPreview", where)),  # type: ignore[arg-type]
        explicit_request_given=read_boolean(one(found, "ExplicitRequestGiven", where)),  # type: ignore[arg-type]
        evidence_requesters=tuple(requesters),
        evidence_provider=S.read_agent(read_one_any(one(found, "EvidenceProvider", where), "Agent")),  # type: ignore[arg-type]
        evidence_request=S.read_evidence_type(
            read_one_any(one(in_query, "EvidenceRequest", "query:Query"), "DataServiceEvidenceType")),  # type: ignore[arg-type]
        procedure=procedure,
        requirements=() if requirements is None else tuple(S.read_requirement(e) for e in read_any(requirements)),
        natural_person=None if natural is None else S.read_person(natural),
        legal_person=None if legal is None else S.read_legal_person(legal),
        authorized_representative=None if representative is None else S.read_person(representative),
        authorized_representative_legal_person=(
            None if representative_legal is None else S.read_legal_person(representative_legal)),
        preview_location=optional_string("PreviewLocation"),
        return_location=optional_string("ReturnLocation"),
        provider_classifications=() if classifications is None else tuple(
            S.read_classification_value(e) for e in read_any(classifications)),
        lang=root.get(XML_LANG),
    )


__all__ = ["build_request", "parse_request"]
