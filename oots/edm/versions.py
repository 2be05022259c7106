"""The EDM versions as data: what differs between oots-edm v1.0, v1.2 and v2.0.

One codec and one rule set read these profiles; adding a version means adding a profile, not a code path.
Sources: the v1.0 XSD/Schematron in ../shared/specs, the TDD query-model pages (v1.1 cardinalities), and the
v2.0 changes summarised in ../shared/notes/oots-eidas.md §1 (ReturnLocation, evidence in RegistryPackages
classified MainEvidence, AuthorizedRepresentativeLegalPerson, AssociatedDocumentRequest).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EdmVersion:
    specification_id: str
    # Host of Semantic Repository identifiers (requirements, evidence-type classifications, code URNs).
    sr_host: str
    preview_required_severity: str
    # Slots of query:QueryRequest (top level) and of query:Query that must / may appear.
    request_required: frozenset[str]
    request_optional: frozenset[str]
    query_required: frozenset[str]
    query_optional: frozenset[str]
    response_required: frozenset[str]
    response_optional: frozenset[str]
    # Procedure as rim:InternationalStringValueType (v1.x) or a plain code in rim:StringValueType (v2.0).
    procedure_localized: bool
    # sdg:Requirement may carry sdg:Description (not in the v1.0 SDG profile).
    requirement_description: bool
    # Evidence inside rim:RegistryPackage objects, each ExtrinsicObject classified (v2.0).
    evidence_in_packages: bool
    # Collections (EvidenceRequester, EvidenceProvider) carry collectionType="...:Set" (the v1.0 examples
    # leave it out; later examples and the France implementation write it).
    collections_as_set: bool = True

    @property
    def label(self) -> str:
        return self.specification_id.split(":", 1)[1]


_REQ_REQUIRED_10 = frozenset({"SpecificationIdentifier", "IssueDateTime", "PossibilityForPreview",
                              "ExplicitRequestGiven", "EvidenceRequester", "EvidenceProvider"})
_REQ_OPTIONAL_10 = frozenset({"Procedure", "Requirements", "PreviewLocation", "EvidenceProviderClassification"})
_QUERY_REQUIRED = frozenset({"EvidenceRequest"})
_QUERY_OPTIONAL_1X = frozenset({"NaturalPerson", "LegalPerson", "AuthorizedRepresentative"})
_RESP_REQUIRED = frozenset({"SpecificationIdentifier", "EvidenceResponseIdentifier", "IssueDateTime",
                            "EvidenceProvider", "EvidenceRequester"})
_RESP_OPTIONAL = frozenset({"ResponseAvailableDateTime"})

V1_0 = EdmVersion(
    specification_id="oots-edm:v1.0",
    sr_host="sr.oots.tech.europa.eu",
    preview_required_severity="urn:sr.oots.tech.europa.eu:codes:ErrorSeverity:EDMErrorResponse:PreviewRequired",
    request_required=_REQ_REQUIRED_10,
    request_optional=_REQ_OPTIONAL_10,
    query_required=_QUERY_REQUIRED,
    query_optional=_QUERY_OPTIONAL_1X,
    response_required=_RESP_REQUIRED,
    response_optional=_RESP_OPTIONAL,
    procedure_localized=True,
    requirement_description=False,
    evidence_in_packages=False,
    collections_as_set=False,
)

# v1.1 made Procedure and Requirements mandatory (TDD 4.4, September 2024); v1.2 keeps v1.1's model.
V1_2 = EdmVersion(
    specification_id="oots-edm:v1.2",
    sr_host="sr.oots.tech.ec.europa.eu",
    preview_required_severity="urn:sr.oots.tech.ec.europa.eu:codes:ErrorSeverity:EDMErrorResponse:PreviewRequired",
    request_required=_REQ_REQUIRED_10 | {"Procedure", "Requirements"},
    request_optional=frozenset({"PreviewLocation", "EvidenceProviderClassification"}),
    query_required=_QUERY_REQUIRED,
    query_optional=_QUERY_OPTIONAL_1X,
    response_required=_RESP_REQUIRED,
    response_optional=_RESP_OPTIONAL,
    procedure_localized=True,
    requirement_description=True,
    evidence_in_packages=False,
)

V2_0 = EdmVersion(
    specification_id="oots-edm:v2.0",
    sr_host="sr.oots.tech.ec.europa.eu",
    preview_required_severity=V1_2.preview_required_severity,
    request_required=V1_2.request_required,
    request_optional=V1_2.request_optional | {"ReturnLocation"},
    query_required=_QUERY_REQUIRED,
    query_optional=_QUERY_OPTIONAL_1X | {"AuthorizedRepresentativeLegalPerson", "AssociatedDocumentRequest"},
    response_required=_RESP_REQUIRED,
    response_optional=_RESP_OPTIONAL,
    procedure_localized=False,
    requirement_description=True,
    evidence_in_packages=True,
)

VERSIONS: dict[str, EdmVersion] = {v.specification_id: v for v in (V1_0, V1_2, V2_0)}


def version_for(specification_id: str) -> EdmVersion:
    from oots.edm.errors import EdmCodecError

    try:
        return VERSIONS[specification_id.strip()]
    except KeyError:
        raise EdmCodecError(
            "EDM_VERSION_UNKNOWN",
            f"SpecificationIdentifier {specification_id!r} is not one of {', '.join(sorted(VERSIONS))}",
        ) from None
