"""The EDM versions as data: what differs between oots-edm v1.0, v1.2 and v2.0.

One codec and one rule set read these profiles; adding a version means adding a profile, not a code path.
Sources: the v1.0 XSD/Schematron in ../shared/specs, the TDD query-model pages (v1.1 cardinalities), and the
v2.0 changes summarised in ../shared/notes/oots-eidas.md §1 (ReturnLocation, evidence in RegistryPackages
classified MainEvidence, AuthorizedRepresentativeLegalPerson, AssociatedDocumentRequest).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EdmVersion:
    specification_id: str
    # Host of Semantic Repository identifiers (requirements, evidence-type classifications, code URNs) we
    # write, and the hosts we accept (production and acceptance; v1.0 traffic used both generations).
    sr_host: str
    sr_hosts_accepted: tuple[str, ...]
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
    # The fixed rs:Exception messages where this version's EDMErrorCodes list differs from v2.0.1's, and
    # messages also accepted on receipt (the v1.0 EC example TC03 alt2 writes "Query Exception").
    error_messages: dict[str, str] = field(default_factory=dict)
    error_message_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def error_message(self, code: str) -> str:
        from oots.edm.errors import EDM_ERRORS

        return self.error_messages.get(code) or EDM_ERRORS[code].message

    def accepts_error_message(self, code: str, message: str) -> bool:
        return message == self.error_message(code) or message in self.error_message_aliases.get(code, ())

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
# EDMErrorCodes 2022-12 (v1.0 specs): EDM:ERR:0008 was still "Problem during the processing of a QueryRequest".
_V1_MESSAGES = {"EDM:ERR:0008": "Problem during the processing of a QueryRequest"}

V1_0 = EdmVersion(
    specification_id="oots-edm:v1.0",
    sr_host="sr.oots.tech.europa.eu",
    sr_hosts_accepted=("sr.oots.tech.europa.eu", "sr.oots.tech.ec.europa.eu", "sr.acc.oots.tech.ec.europa.eu"),
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
    error_messages=_V1_MESSAGES,
    error_message_aliases={"EDM:ERR:0008": ("Query Exception",)},
)

# v1.1 made Procedure and Requirements mandatory (TDD 4.4, September 2024); v1.2 keeps v1.1's model.
V1_2 = EdmVersion(
    specification_id="oots-edm:v1.2",
    sr_host="sr.oots.tech.ec.europa.eu",
    sr_hosts_accepted=("sr.oots.tech.ec.europa.eu", "sr.acc.oots.tech.ec.europa.eu"),
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
    error_messages=_V1_MESSAGES,
    error_message_aliases={"EDM:ERR:0008": ("Query Exception",)},
)

V2_0 = EdmVersion(
    specification_id="oots-edm:v2.0",
    sr_host="sr.oots.tech.ec.europa.eu",
    sr_hosts_accepted=("sr.oots.tech.ec.europa.eu", "sr.acc.oots.tech.ec.europa.eu"),
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
