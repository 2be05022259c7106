"""SDG-profile elements (namespace http://data.europa.eu/p4s) ↔ model values.

Writers follow the element order of the SDG Generic Metadata Profile XSD; readers look elements up by
namespace and local name (never by prefix) and strip surrounding whitespace, as the EC examples indent.
"""

from __future__ import annotations

from lxml import etree

from oots.edm.errors import EdmCodecError
from oots.edm.model import (
    Address,
    Agent,
    ClassificationValue,
    Distribution,
    EvidenceMetadata,
    EvidenceTypeRef,
    Identifier,
    LegalPerson,
    NaturalPerson,
    Requirement,
    SectorAttribute,
    Text,
)
from oots.edm.ns import sdg

Element = etree._Element


# --- reading -------------------------------------------------------------------------------------------------

def child(parent: Element, local: str) -> Element | None:
    return parent.find(sdg(local))


def children(parent: Element, local: str) -> list[Element]:
    return parent.findall(sdg(local))


def text_of(element: Element | None) -> str | None:
    if element is None:
        return None
    value = (element.text or "").strip()
    return value or None


def required_text(parent: Element, local: str) -> str:
    value = text_of(child(parent, local))
    if value is None:
        raise EdmCodecError("EDM_MISSING", f"sdg:{local} is required", where=f"sdg:{etree.QName(parent).localname}")
    return value


def optional_text(parent: Element, local: str) -> str | None:
    return text_of(child(parent, local))


def texts(parent: Element, local: str) -> tuple[Text, ...]:
    return tuple(Text(text_of(e) or "", e.get("lang")) for e in children(parent, local))


def read_identifier(element: Element | None) -> Identifier | None:
    if element is None:
        return None
    return Identifier(text_of(element) or "", element.get("schemeID"))


def read_address(element: Element | None) -> Address | None:
    if element is None:
        return None
    return Address(
        admin_unit_level_1=optional_text(element, "AdminUnitLevel1"),
        full_address=optional_text(element, "FullAddress"),
        locator_designator=optional_text(element, "LocatorDesignator"),
        post_code=optional_text(element, "PostCode"),
        post_city_name=optional_text(element, "PostCityName"),
        thoroughfare=optional_text(element, "Thoroughfare"),
        admin_unit_level_2=optional_text(element, "AdminUnitLevel2"),
    )


def read_agent(element: Element) -> Agent:
    identifier = read_identifier(child(element, "Identifier"))
    if identifier is None or not identifier.value:
        raise EdmCodecError("EDM_MISSING", "sdg:Identifier is required", where="sdg:Agent")
    return Agent(identifier=identifier, names=texts(element, "Name"), address=read_address(child(element, "Address")),
                 classification=optional_text(element, "Classification"))


def _sector_attributes(element: Element) -> tuple[SectorAttribute, ...]:
    return tuple(
        SectorAttribute(required_text(e, "AttributeName"), required_text(e, "AttributeURI"),
                        required_text(e, "AttributeValue"))
        for e in children(element, "SectorSpecificAttribute")
    )


def read_person(element: Element) -> NaturalPerson:
    return NaturalPerson(
        family_name=required_text(element, "FamilyName"),
        given_name=required_text(element, "GivenName"),
        date_of_birth=required_text(element, "DateOfBirth"),
        identifier=read_identifier(child(element, "Identifier")),
        level_of_assurance=optional_text(element, "LevelOfAssurance"),
        birth_name=optional_text(element, "BirthName"),
        place_of_birth=optional_text(element, "PlaceOfBirth"),
        current_address=read_address(child(element, "CurrentAddress")),
        gender=optional_text(element, "Gender"),
        sector_attributes=_sector_attributes(element),
    )


def read_legal_person(element: Element) -> LegalPerson:
    return LegalPerson(
        legal_name=required_text(element, "LegalName"),
        legal_person_identifier=read_identifier(child(element, "LegalPersonIdentifier")),
        identifiers=tuple(i for e in children(element, "Identifier") if (i := read_identifier(e)) is not None),
        level_of_assurance=optional_text(element, "LevelOfAssurance"),
        registered_address=read_address(child(element, "RegisteredAddress")),
        sector_attributes=_sector_attributes(element),
    )


def read_requirement(element: Element) -> Requirement:
    return Requirement(identifier=required_text(element, "Identifier"), names=texts(element, "Name"),
                       descriptions=texts(element, "Description"))


def read_distribution(element: Element) -> Distribution:
    return Distribution(
        format=required_text(element, "Format"),
        conforms_to=optional_text(element, "ConformsTo"),
        transformation=optional_text(element, "Transformation"),
        languages=tuple(text_of(e) or "" for e in children(element, "Language")),
    )


def read_evidence_type(element: Element) -> EvidenceTypeRef:
    return EvidenceTypeRef(
        identifier=required_text(element, "Identifier"),
        classification=required_text(element, "EvidenceTypeClassification"),
        titles=texts(element, "Title"),
        distributions=tuple(read_distribution(e) for e in children(element, "DistributedAs")),
        descriptions=texts(element, "Description"),
        authentication_level_of_assurance=optional_text(element, "AuthenticationLevelOfAssurance"),
    )


def read_classification_value(element: Element) -> ClassificationValue:
    return ClassificationValue(
        identifier=required_text(element, "Identifier"), value=optional_text(element, "ValueExpression"),
        type=optional_text(element, "Type"), descriptions=texts(element, "Description"),
    )


def read_evidence(element: Element) -> EvidenceMetadata:
    about = child(element, "IsAbout")
    if about is None:
        raise EdmCodecError("EDM_MISSING", "sdg:IsAbout is required", where="sdg:Evidence")
    natural, legal = child(about, "NaturalPerson"), child(about, "LegalPerson")
    if (natural is None) == (legal is None):
        raise EdmCodecError("EDM_BAD_VALUE", "sdg:IsAbout holds exactly one NaturalPerson or LegalPerson")
    authority = child(element, "IssuingAuthority")
    conformant = child(element, "IsConformantTo")
    distribution = child(element, "Distribution")
    if authority is None or conformant is None or distribution is None:
        raise EdmCodecError("EDM_MISSING", "IssuingAuthority, IsConformantTo and Distribution are required",
                            where="sdg:Evidence")
    period = child(element, "ValidityPeriod")
    return EvidenceMetadata(
        identifier=required_text(element, "Identifier"),
        is_about=read_person(natural) if natural is not None else read_legal_person(legal),  # type: ignore[arg-type]
        issuing_authority=read_agent(authority),
        classification=required_text(conformant, "EvidenceTypeClassification"),
        titles=texts(conformant, "Title"),
        descriptions=texts(conformant, "Description"),
        issuing_date=required_text(element, "IssuingDate"),
        distribution=read_distribution(distribution),
        validity=None if period is None else (required_text(period, "StartDate"), required_text(period, "EndDate")),
    )


# --- writing -------------------------------------------------------------------------------------------------

def add(parent: Element, local: str, value: str | None = None, **attributes: str | None) -> Element:
    element = etree.SubElement(parent, sdg(local))
    if value is not None:
        element.text = value
    for name, attr in attributes.items():
        if attr is not None:
            element.set(name, attr)
    return element


def add_optional(parent: Element, local: str, value: str | None) -> None:
    if value is not None:
        add(parent, local, value)


def add_texts(parent: Element, local: str, values: tuple[Text, ...]) -> None:
    for text in values:
        add(parent, local, text.value, lang=text.lang)


def add_identifier(parent: Element, identifier: Identifier, local: str = "Identifier") -> None:
    add(parent, local, identifier.value, schemeID=identifier.scheme_id)


def add_address(parent: Element, local: str, address: Address | None) -> None:
    if address is None:
        return
    element = add(parent, local)
    for name, value in (("FullAddress", address.full_address), ("LocatorDesignator", address.locator_designator),
                        ("PostCode", address.post_code), ("PostCityName", address.post_city_name),
                        ("Thoroughfare", address.thoroughfare), ("AdminUnitLevel1", address.admin_unit_level_1),
                        ("AdminUnitLevel2", address.admin_unit_level_2)):
        add_optional(element, name, value)


def add_agent(parent: Element, agent: Agent, local: str = "Agent") -> Element:
    element = add(parent, local)
    add_identifier(element, agent.identifier)
    add_texts(element, "Name", agent.names)
    add_address(element, "Address", agent.address)
    add_optional(element, "Classification", agent.classification)
    return element


def _add_sector_attributes(element: Element, attributes: tuple[SectorAttribute, ...]) -> None:
    for attribute in attributes:
        holder = add(element, "SectorSpecificAttribute")
        add(holder, "AttributeName", attribute.name)
        add(holder, "AttributeURI", attribute.uri)
        add(holder, "AttributeValue", attribute.value)


def add_person(parent: Element, person: NaturalPerson, local: str = "Person") -> None:
    element = add(parent, local)
    add_optional(element, "LevelOfAssurance", person.level_of_assurance)
    if person.identifier is not None:
        add_identifier(element, person.identifier)
    add(element, "FamilyName", person.family_name)
    add(element, "GivenName", person.given_name)
    add(element, "DateOfBirth", person.date_of_birth)
    add_optional(element, "BirthName", person.birth_name)
    add_optional(element, "PlaceOfBirth", person.place_of_birth)
    add_address(element, "CurrentAddress", person.current_address)
    add_optional(element, "Gender", person.gender)
    _add_sector_attributes(element, person.sector_attributes)


def add_legal_person(parent: Element, person: LegalPerson) -> None:
    element = add(parent, "LegalPerson")
    add_optional(element, "LevelOfAssurance", person.level_of_assurance)
    for identifier in person.identifiers:
        add_identifier(element, identifier)
    if person.legal_person_identifier is not None:
        add_identifier(element, person.legal_person_identifier, "LegalPersonIdentifier")
    add(element, "LegalName", person.legal_name)
    add_address(element, "RegisteredAddress", person.registered_address)
    _add_sector_attributes(element, person.sector_attributes)


def add_requirement(parent: Element, requirement: Requirement, with_description: bool) -> None:
    element = add(parent, "Requirement")
    add(element, "Identifier", requirement.identifier)
    add_texts(element, "Name", requirement.names)
    if with_description:
        add_texts(element, "Description", requirement.descriptions)


def _add_distribution(parent: Element, local: str, distribution: Distribution, with_languages: bool) -> None:
    element = add(parent, local)
    add(element, "Format", distribution.format)
    if with_languages:
        for language in distribution.languages:
            add(element, "Language", language)
    add_optional(element, "ConformsTo", distribution.conforms_to)
    add_optional(element, "Transformation", distribution.transformation)


def add_evidence_type(parent: Element, evidence_type: EvidenceTypeRef) -> None:
    element = add(parent, "DataServiceEvidenceType")
    add(element, "Identifier", evidence_type.identifier)
    add(element, "EvidenceTypeClassification", evidence_type.classification)
    add_texts(element, "Title", evidence_type.titles)
    add_texts(element, "Description", evidence_type.descriptions)
    for distribution in evidence_type.distributions:
        _add_distribution(element, "DistributedAs", distribution, with_languages=False)
    add_optional(element, "AuthenticationLevelOfAssurance", evidence_type.authentication_level_of_assurance)


def add_classification_value(parent: Element, value: ClassificationValue) -> None:
    element = add(parent, "EvidenceProviderClassification")
    add(element, "Identifier", value.identifier)
    add_optional(element, "Type", value.type)
    add_optional(element, "ValueExpression", value.value)
    add_texts(element, "Description", value.descriptions)


def add_evidence(parent: Element, evidence: EvidenceMetadata) -> None:
    element = add(parent, "Evidence")
    add(element, "Identifier", evidence.identifier)
    about = add(element, "IsAbout")
    if isinstance(evidence.is_about, NaturalPerson):
        add_person(about, evidence.is_about, "NaturalPerson")
    else:
        add_legal_person(about, evidence.is_about)
    add_agent(element, evidence.issuing_authority, "IssuingAuthority")
    conformant = add(element, "IsConformantTo")
    add(conformant, "EvidenceTypeClassification", evidence.classification)
    add_texts(conformant, "Title", evidence.titles)
    add_texts(conformant, "Description", evidence.descriptions)
    add(element, "IssuingDate", evidence.issuing_date)
    _add_distribution(element, "Distribution", evidence.distribution, with_languages=True)
    if evidence.validity is not None:
        period = add(element, "ValidityPeriod")
        add(period, "StartDate", evidence.validity[0])
        add(period, "EndDate", evidence.validity[1])
