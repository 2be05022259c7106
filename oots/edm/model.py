"""The EDM message model: frozen, typed values named after the SDG profile and RegRep 4.

Containers are tuples so messages compare by value (round-trip tests). The model refuses only what no
message could carry (a naive timestamp, an unknown error code); what a received message must satisfy is the
business of :mod:`oots.validation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oots.edm.errors import EDM_ERRORS, SEVERITY_ERROR, EdmCodecError
from oots.edm.versions import EdmVersion, version_for


def _aware(value: datetime, what: str) -> None:
    if value.tzinfo is None:
        raise EdmCodecError("EDM_NAIVE_DATETIME", f"{what} needs a time zone")


@dataclass(frozen=True)
class Text:
    """A multilingual string (sdg:Name/Title/Description, rim:LocalizedString)."""

    value: str
    lang: str | None = None


@dataclass(frozen=True)
class Identifier:
    value: str
    scheme_id: str | None = None


@dataclass(frozen=True)
class Address:
    admin_unit_level_1: str | None = None  # country (ISO 3166-1 alpha-2)
    full_address: str | None = None
    locator_designator: str | None = None
    post_code: str | None = None
    post_city_name: str | None = None
    thoroughfare: str | None = None
    admin_unit_level_2: str | None = None  # NUTS


@dataclass(frozen=True)
class Agent:
    """sdg:Agent: evidence requester (ER), intermediary platform (IP), evidence provider (EP), error provider."""

    identifier: Identifier
    names: tuple[Text, ...]
    address: Address | None = None
    classification: str | None = None


@dataclass(frozen=True)
class SectorAttribute:
    name: str
    uri: str
    value: str


@dataclass(frozen=True)
class NaturalPerson:
    """sdg:Person; the eIDAS minimum data set plus the optional attributes of the SDG profile."""

    family_name: str
    given_name: str
    date_of_birth: str  # xsd:date as written
    identifier: Identifier | None = None
    level_of_assurance: str | None = None
    birth_name: str | None = None
    place_of_birth: str | None = None
    current_address: Address | None = None
    gender: str | None = None
    sector_attributes: tuple[SectorAttribute, ...] = ()


@dataclass(frozen=True)
class LegalPerson:
    legal_name: str
    legal_person_identifier: Identifier | None = None
    identifiers: tuple[Identifier, ...] = ()  # VAT, Tax ...
    level_of_assurance: str | None = None
    registered_address: Address | None = None
    sector_attributes: tuple[SectorAttribute, ...] = ()


@dataclass(frozen=True)
class Requirement:
    identifier: str
    names: tuple[Text, ...] = ()
    descriptions: tuple[Text, ...] = ()


@dataclass(frozen=True)
class Distribution:
    format: str  # media type
    conforms_to: str | None = None
    transformation: str | None = None
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvidenceTypeRef:
    """sdg:DataServiceEvidenceType as the DSD returned it and the request carries it (EvidenceRequest)."""

    identifier: str
    classification: str
    titles: tuple[Text, ...]
    distributions: tuple[Distribution, ...]
    descriptions: tuple[Text, ...] = ()
    authentication_level_of_assurance: str | None = None


@dataclass(frozen=True)
class ClassificationValue:
    """sdg:EvidenceProviderClassification answered by the user (DSD:ERR:0005 additional input)."""

    identifier: str
    value: str | None = None  # sdg:ValueExpression
    type: str | None = None
    descriptions: tuple[Text, ...] = ()


@dataclass(frozen=True)
class QueryRequest:
    specification_id: str
    id: str  # urn:uuid:...
    issue_datetime: datetime
    possibility_for_preview: bool
    explicit_request_given: bool
    evidence_requesters: tuple[Agent, ...]  # the requester (ER) and any intermediary platforms (IP)
    evidence_provider: Agent
    evidence_request: EvidenceTypeRef
    procedure: Text | None = None
    requirements: tuple[Requirement, ...] = ()
    natural_person: NaturalPerson | None = None
    legal_person: LegalPerson | None = None
    authorized_representative: NaturalPerson | None = None
    authorized_representative_legal_person: LegalPerson | None = None  # v2.0
    preview_location: str | None = None  # request #2 only
    return_location: str | None = None  # v2.0
    provider_classifications: tuple[ClassificationValue, ...] = ()
    lang: str | None = None  # xml:lang of the root, as the EC examples carry it

    def __post_init__(self) -> None:
        _aware(self.issue_datetime, "IssueDateTime")

    @property
    def version(self) -> EdmVersion:
        return version_for(self.specification_id)


@dataclass(frozen=True)
class RepositoryItemRef:
    """Where the evidence bytes are: ``cid:<Content-ID>`` of an AS4 payload part."""

    href: str
    title: str | None = None

    @property
    def content_id(self) -> str | None:
        return self.href[4:] if self.href.startswith("cid:") else None


@dataclass(frozen=True)
class EvidenceMetadata:
    identifier: str
    is_about: NaturalPerson | LegalPerson
    issuing_authority: Agent
    classification: str  # IsConformantTo/EvidenceTypeClassification
    titles: tuple[Text, ...]
    issuing_date: str
    distribution: Distribution
    descriptions: tuple[Text, ...] = ()
    validity: tuple[str, str] | None = None  # ValidityPeriod start, end


@dataclass(frozen=True)
class EvidenceItem:
    """One rim:ExtrinsicObject. In v2.0 items sit in RegistryPackages (``package_id``) and carry a
    classification node (MainEvidence, or annexes/translations beside it)."""

    id: str
    metadata: EvidenceMetadata
    repository_item: RepositoryItemRef | None
    package_id: str | None = None
    classification_node: str | None = None
    classification_id: str | None = None


@dataclass(frozen=True)
class QueryResponse:
    specification_id: str
    request_id: str
    response_id: str  # EvidenceResponseIdentifier
    issue_datetime: datetime
    evidence_providers: tuple[Agent, ...]
    evidence_requester: Agent
    evidence: tuple[EvidenceItem, ...] = ()  # empty: no evidence for this person (TC02)
    response_available_datetime: datetime | None = None

    def __post_init__(self) -> None:
        _aware(self.issue_datetime, "IssueDateTime")

    @property
    def version(self) -> EdmVersion:
        return version_for(self.specification_id)


@dataclass(frozen=True)
class EdmException:
    exception_type: str
    code: str
    message: str
    severity: str
    timestamp: datetime | None = None
    detail: str | None = None
    preview_location: str | None = None
    preview_description: tuple[Text, ...] = ()
    preview_method: str | None = None

    @property
    def preview_required(self) -> bool:
        return self.severity.endswith(":EDMErrorResponse:PreviewRequired")


@dataclass(frozen=True)
class ExceptionResponse:
    """A QueryResponse with status Failure and exactly one rs:Exception."""

    specification_id: str
    request_id: str
    response_id: str
    error_provider: Agent
    exception: EdmException
    evidence_requester: Agent | None = None

    @property
    def version(self) -> EdmVersion:
        return version_for(self.specification_id)


EdmMessage = QueryRequest | QueryResponse | ExceptionResponse


def edm_exception(code: str, version: EdmVersion, *, timestamp: datetime, detail: str | None = None,
                  preview_location: str | None = None, preview_description: tuple[Text, ...] = (),
                  preview_method: str | None = None) -> EdmException:
    """The ``rs:Exception`` for ``code`` with its exact type, message and severity in ``version``.

    PreviewRequired goes with EDM:ERR:0002 and a PreviewLocation (R-EDM-ERR-C015/C022); every other exception
    has plain Error severity."""
    known = EDM_ERRORS.get(code)
    if known is None:
        raise EdmCodecError("EDM_ERROR_CODE_UNKNOWN", f"{code!r} is not in the EDMErrorCodes code list")
    if preview_location is not None and code != "EDM:ERR:0002":
        raise EdmCodecError("EDM_PREVIEW_CODE", "a PreviewLocation goes only with EDM:ERR:0002")
    _aware(timestamp, "Timestamp")
    severity = version.preview_required_severity if preview_location is not None else SEVERITY_ERROR
    return EdmException(
        exception_type=known.exception_type, code=code, message=version.error_message(code), severity=severity,
        timestamp=timestamp, detail=detail, preview_location=preview_location,
        preview_description=preview_description, preview_method=preview_method or (
            "GET" if preview_location is not None else None),
    )
