"""The eIDAS attribute registry (attribute profile 1.2 plus the newer optional attributes)."""

from __future__ import annotations

from dataclasses import dataclass

from eidas_node.saml import LEGAL, NATURAL

_NP = "http://eidas.europa.eu/attributes/naturalperson/"
_LP = "http://eidas.europa.eu/attributes/legalperson/"


@dataclass(frozen=True)
class AttributeDef:
    name: str  # the URI, SAML Attribute/@Name
    friendly: str
    xsi_type: str  # local type name in the attribute namespace (or xs:string)
    namespace: str
    mds: bool  # part of the minimum data set: requested with isRequired="true"


def _np(friendly: str, xsi: str, mds: bool = False) -> AttributeDef:
    return AttributeDef(_NP + friendly, friendly, xsi, NATURAL, mds)


def _lp(friendly: str, xsi: str, mds: bool = False) -> AttributeDef:
    return AttributeDef(_LP + friendly, friendly, xsi, LEGAL, mds)


NATURAL_PERSON = (
    _np("PersonIdentifier", "PersonIdentifierType", True),
    _np("CurrentFamilyName", "CurrentFamilyNameType", True),
    _np("CurrentGivenName", "CurrentGivenNameType", True),
    _np("DateOfBirth", "DateOfBirthType", True),
    _np("BirthName", "BirthNameType"),
    _np("PlaceOfBirth", "PlaceOfBirthType"),
    _np("Gender", "GenderType"),
    _np("Nationality", "string"),
    _np("CountryOfBirth", "string"),
    _np("TownOfBirth", "string"),
    _np("CountryOfResidence", "string"),
    _np("PhoneNumber", "string"),
    _np("EmailAddress", "string"),
)
LEGAL_PERSON = (
    _lp("LegalPersonIdentifier", "LegalPersonIdentifierType", True),
    _lp("LegalName", "LegalNameType", True),
    _lp("VATRegistrationNumber", "VATRegistrationNumberType"),
    _lp("TaxReference", "TaxReferenceType"),
    _lp("LEI", "LEIType"),
    _lp("EORI", "EORIType"),
)
REGISTRY = {attribute.name: attribute for attribute in NATURAL_PERSON + LEGAL_PERSON}
BY_FRIENDLY = {attribute.friendly: attribute for attribute in NATURAL_PERSON + LEGAL_PERSON}

PERSON_IDENTIFIER = _NP + "PersonIdentifier"
FAMILY_NAME = _NP + "CurrentFamilyName"
GIVEN_NAME = _NP + "CurrentGivenName"
DATE_OF_BIRTH = _NP + "DateOfBirth"
LEGAL_PERSON_IDENTIFIER = _LP + "LegalPersonIdentifier"
LEGAL_NAME = _LP + "LegalName"
NATURAL_MDS = tuple(a.name for a in NATURAL_PERSON if a.mds)
LEGAL_MDS = tuple(a.name for a in LEGAL_PERSON if a.mds)
