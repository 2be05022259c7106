"""RegRep query responses of the EB and the DSD ↔ model (pure). HTTP 200 carries failures too: the status
attribute and rs:Exception/@code decide, so :func:`registry_objects` raises for every Failure."""

from __future__ import annotations

from lxml import etree

from oots.commonservices.model import (
    ADDITIONAL_INPUT_SEVERITY_SUFFIX,
    AccessService,
    AdditionalInputRequired,
    ClassificationConcept,
    CommonServicesError,
    DataServiceOffer,
    EvidenceTypeInfo,
    EvidenceTypeList,
    ReferenceFramework,
    RequirementInfo,
)
from oots.edm import ns
from oots.edm import sdg as S
from oots.edm.errors import EdmCodecError
from oots.edm.slots import read_any, slots_by_name
from pki.xml.parser import XmlRefused, parse_xml

Element = etree._Element


def registry_objects(data: bytes) -> list[Element]:
    """The rim:RegistryObjects of a Success answer; a Failure raises its code (DSD:ERR:0005 with its concepts)."""
    try:
        root = parse_xml(data).getroot()
    except XmlRefused as exc:
        raise CommonServicesError("CS_MALFORMED", f"{exc.code}: {exc.message}") from None
    if root.tag != ns.query("QueryResponse"):
        raise CommonServicesError("CS_MALFORMED", f"root {root.tag} is not query:QueryResponse")
    status = root.get("status")
    if status == ns.STATUS_FAILURE:
        exception = root.find(ns.rs("Exception"))
        if exception is None:
            raise CommonServicesError("CS_MALFORMED", "Failure without rs:Exception")
        code = exception.get("code") or "CS_UNKNOWN_FAILURE"
        message = exception.get("message") or exception.get("detail") or ""
        if code == "DSD:ERR:0005" or (exception.get("severity") or "").endswith(ADDITIONAL_INPUT_SEVERITY_SUFFIX):
            raise _additional_input(exception, message)
        raise CommonServicesError(code, message)
    if status != ns.STATUS_SUCCESS:
        raise CommonServicesError("CS_MALFORMED", f"status {status!r}")
    return root.findall(f"{ns.rim('RegistryObjectList')}/{ns.rim('RegistryObject')}")


def _additional_input(exception: Element, message: str) -> AdditionalInputRequired:
    found = slots_by_name(exception)
    concepts = tuple(
        ClassificationConcept(
            identifier=S.required_text(e, "Identifier"), type=S.optional_text(e, "Type"),
            descriptions=S.texts(e, "Description"),
            supported_values=tuple(S.text_of(v) or "" for v in e.iterfind(f"{ns.sdg('SupportedValue')}/*")),
        )
        for slot in found.get("UserRequestedClassificationConcepts", [])
        for e in read_any(slot)
    )
    types = [S.read_evidence_type(e) for slot in found.get("DataServiceEvidenceType", []) for e in read_any(slot)]
    return AdditionalInputRequired(message or "additional user input required", concepts, types[0] if types else None)


def _slot_elements(obj: Element, name: str, local: str) -> list[Element]:
    return [e for slot in slots_by_name(obj).get(name, []) for e in read_any(slot)
            if etree.QName(e).localname == local]


def _read_requirement(element: Element) -> RequirementInfo:
    frameworks = tuple(
        ReferenceFramework(
            identifier=S.required_text(f, "Identifier"), titles=S.texts(f, "Title"),
            procedures=tuple(S.required_text(r, "Identifier") for r in S.children(f, "RelatedTo")),
            jurisdiction=S.optional_text(S.child(f, "Jurisdiction") or f, "AdminUnitLevel1")
            if S.child(f, "Jurisdiction") is not None else None,
        )
        for f in S.children(element, "ReferenceFramework")
    )
    lists = tuple(
        EvidenceTypeList(
            identifier=S.required_text(lst, "Identifier"), names=S.texts(lst, "Name"),
            evidence_types=tuple(
                EvidenceTypeInfo(S.required_text(t, "EvidenceTypeClassification"), S.texts(t, "Title"),
                                 S.texts(t, "Description"))
                for t in S.children(lst, "EvidenceType")),
            jurisdiction=S.optional_text(S.child(lst, "Jurisdiction"), "AdminUnitLevel1")  # type: ignore[arg-type]
            if S.child(lst, "Jurisdiction") is not None else None,
        )
        for lst in S.children(element, "EvidenceTypeList")
    )
    return RequirementInfo(S.required_text(element, "Identifier"), S.texts(element, "Name"),
                           S.texts(element, "Description"), frameworks, lists)


def parse_requirements(data: bytes) -> list[RequirementInfo]:
    """EB answers (requirements by procedure, evidence types by requirement): one sdg:Requirement per object."""
    try:
        return [_read_requirement(e) for obj in registry_objects(data)
                for e in _slot_elements(obj, "Requirement", "Requirement")]
    except EdmCodecError as exc:
        raise CommonServicesError("CS_MALFORMED", exc.message) from None


def _read_access_service(element: Element) -> AccessService:
    publisher = S.child(element, "Publisher")
    identifier = S.read_identifier(S.child(element, "Identifier"))
    if publisher is None or identifier is None:
        raise CommonServicesError("CS_MALFORMED", "AccessService needs an Identifier and a Publisher")
    return AccessService(identifier, S.texts(element, "Name"),
                         tuple(S.text_of(c) or "" for c in S.children(element, "ConformsTo")),
                         S.read_agent(publisher))


def parse_data_services(data: bytes) -> list[DataServiceOffer]:
    try:
        offers = []
        for obj in registry_objects(data):
            for element in _slot_elements(obj, "DataServiceEvidenceType", "DataServiceEvidenceType"):
                offers.append(DataServiceOffer(
                    S.read_evidence_type(element),
                    tuple(_read_access_service(a) for a in S.children(element, "AccessService")),
                    S.optional_text(element, "AuthenticationLevelOfAssurance"),
                ))
        return offers
    except EdmCodecError as exc:
        raise CommonServicesError("CS_MALFORMED", exc.message) from None
