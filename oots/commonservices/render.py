"""Model → RegRep query responses of the EB and the DSD (pure; used by the common-services simulator)."""

from __future__ import annotations

import uuid

from lxml import etree

from oots.commonservices.model import (
    CS_VERSION,
    ClassificationConcept,
    DataServiceOffer,
    RequirementInfo,
)
from oots.edm import ns
from oots.edm import sdg as S
from oots.edm.model import EvidenceTypeRef
from oots.edm.slots import any_slot, collection_element, collection_slot, string_slot

Element = etree._Element
# Codes of the DSD and EB code lists (v1.0 specs, unchanged in later releases for these rows).
SERVICE_ERRORS = {
    "EB:ERR:0001": ("rs:ObjectNotFoundExceptionType", "The result set is empty"),
    "EB:ERR:0002": ("rs:ObjectNotFoundExceptionType",
                    "The requirement requested, represented by the requirement id, does not exist"),
    "EB:ERR:0003": ("rs:InvalidRequestExceptionType", "The query parameters do not follow the query specification"),
    "EB:ERR:0005": ("rs:InvalidRequestExceptionType",
                    "The value of the procedure-id query parameter is invalid or unknown"),
    "EB:ERR:0007": ("rs:InvalidRequestExceptionType", "The requested Query does not exist"),
    "DSD:ERR:0001": ("rs:ObjectNotFoundExceptionType", "No Data Services were found based on the given parameters"),
    "DSD:ERR:0002": ("rs:ObjectNotFoundExceptionType", "The Evidence Type requested cannot be found"),
    "DSD:ERR:0003": ("rs:InvalidRequestExceptionType", "The query parameters do not follow the query specification"),
    "DSD:ERR:0004": ("rs:InvalidRequestExceptionType", "The requested Query does not exist"),
    "DSD:ERR:0005": ("rs:ObjectNotFoundExceptionType",
                     "The query requires the included extra attributes to be provided by the user"),
}


def _root(status: str, with_version: bool) -> Element:
    root = etree.Element(ns.query("QueryResponse"), nsmap=ns.NSMAP)
    root.set("status", status)
    if with_version:  # without Accept-Version the v1.0 shape comes back, without SpecificationIdentifier
        string_slot(root, "SpecificationIdentifier", CS_VERSION)
    return root


def _object(objects: Element) -> Element:
    obj = etree.SubElement(objects, ns.rim("RegistryObject"))
    obj.set("id", f"urn:uuid:{uuid.uuid4()}")
    return obj


def _add_requirement(parent: Element, requirement: RequirementInfo) -> None:
    element = S.add(parent, "Requirement")
    S.add(element, "Identifier", requirement.identifier)
    S.add_texts(element, "Name", requirement.names)
    S.add_texts(element, "Description", requirement.descriptions)
    for framework in requirement.reference_frameworks:
        holder = S.add(element, "ReferenceFramework")
        S.add(holder, "Identifier", framework.identifier)
        S.add_texts(holder, "Title", framework.titles)
        for procedure in framework.procedures:
            S.add(S.add(holder, "RelatedTo"), "Identifier", procedure)
        if framework.jurisdiction:
            S.add(S.add(holder, "Jurisdiction"), "AdminUnitLevel1", framework.jurisdiction)
    for listed in requirement.evidence_type_lists:
        holder = S.add(element, "EvidenceTypeList")
        S.add(holder, "Identifier", listed.identifier)
        S.add_texts(holder, "Name", listed.names)
        for evidence_type in listed.evidence_types:
            item = S.add(holder, "EvidenceType")
            S.add(item, "EvidenceTypeClassification", evidence_type.classification)
            S.add_texts(item, "Title", evidence_type.titles)
            S.add_texts(item, "Description", evidence_type.descriptions)
        if listed.jurisdiction:
            S.add(S.add(holder, "Jurisdiction"), "AdminUnitLevel1", listed.jurisdiction)


def render_requirements(requirements: list[RequirementInfo], *, with_version: bool = True) -> bytes:
    root = _root(ns.STATUS_SUCCESS, with_version)
    objects = etree.SubElement(root, ns.rim("RegistryObjectList"))
    for requirement in requirements:
        _add_requirement(any_slot(_object(objects), "Requirement"), requirement)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def render_data_services(offers: list[DataServiceOffer], *, with_version: bool = True) -> bytes:
    root = _root(ns.STATUS_SUCCESS, with_version)
    objects = etree.SubElement(root, ns.rim("RegistryObjectList"))
    for offer in offers:
        slot = any_slot(_object(objects), "DataServiceEvidenceType")
        S.add_evidence_type(slot, offer.evidence_type)
        element = slot[-1]
        # sdg:AccessService sits between DistributedAs and AuthenticationLevelOfAssurance (SDG profile order).
        anchor = element.find(ns.sdg("AuthenticationLevelOfAssurance"))
        for service in offer.access_services:
            access = etree.Element(ns.sdg("AccessService"))
            S.add_identifier(access, service.identifier)
            S.add_texts(access, "Name", service.names)
            for conforms in service.conforms_to:
                S.add(access, "ConformsTo", conforms)
            S.add_agent(access, service.publisher, "Publisher")
            if anchor is not None:
                anchor.addprevious(access)
            else:
                element.append(access)
        if offer.level_of_assurance and anchor is None:
            S.add(element, "AuthenticationLevelOfAssurance", offer.level_of_assurance)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def render_failure(code: str, *, severity_host: str = "sr.oots.tech.ec.europa.eu", detail: str | None = None,
                   concepts: tuple[ClassificationConcept, ...] = (), evidence_type: EvidenceTypeRef | None = None,
                   with_version: bool = True) -> bytes:
    exception_type, message = SERVICE_ERRORS[code]
    root = _root(ns.STATUS_FAILURE, with_version)
    exception = etree.SubElement(root, ns.rs("Exception"))
    exception.set(ns.XSI_TYPE, exception_type)
    exception.set("severity", f"urn:{severity_host}:codes:ErrorSeverity:DSDErrorResponse:AdditionalInput"
                  if code == "DSD:ERR:0005" else ns.SEVERITY_ERROR)
    exception.set("message", message)
    if detail:
        exception.set("detail", detail)
    exception.set("code", code)
    if evidence_type is not None:
        S.add_evidence_type(any_slot(exception, "DataServiceEvidenceType"), evidence_type)
    if concepts:
        collection = collection_slot(exception, "UserRequestedClassificationConcepts")
        for concept in concepts:
            element = S.add(collection_element(collection), "EvidenceProviderClassification")
            S.add(element, "Identifier", concept.identifier)
            if concept.type:
                S.add(element, "Type", concept.type)
            S.add_texts(element, "Description", concept.descriptions)
            if concept.supported_values:
                values = S.add(element, "SupportedValue")
                for value in concept.supported_values:
                    S.add(values, "StringValue", value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
