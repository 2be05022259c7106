"""What the Evidence Broker and the Data Service Directory answer, as frozen values; their errors with codes."""

from __future__ import annotations

from dataclasses import dataclass

from oots.edm.model import Agent, EvidenceTypeRef, Identifier, Text

# RegRep query ids (TDD 3.2; ../shared/notes/oots-eidas.md §2).
EB_REQUIREMENTS = "urn:fdc:oots:eb:ebxml-regrep:queries:requirements-by-procedure-and-jurisdiction"
EB_EVIDENCE_TYPES = "urn:fdc:oots:eb:ebxml-regrep:queries:evidence-types-by-requirement-and-jurisdiction"
DSD_DATA_SERVICES = "urn:fdc:oots:dsd:ebxml-regrep:queries:dataservices-by-evidencetype-and-jurisdiction"
ACCEPT = "application/x-ebrs+xml"
CS_VERSION = "oots-cs:v2.0"
ADDITIONAL_INPUT_SEVERITY_SUFFIX = ":codes:ErrorSeverity:DSDErrorResponse:AdditionalInput"


class CommonServicesError(Exception):
    """A refusal of, or a failure talking to, a common service. ``code`` is the service's own code
    (EB:ERR:0005, DSD:ERR:0001 ...) when it answered one, else ours (CS_HTTP, CS_MALFORMED, CS_SIG_*)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ClassificationConcept:
    """A question the DSD asks the user (sdg:EvidenceProviderClassification in DSD:ERR:0005)."""

    identifier: str
    type: str | None
    descriptions: tuple[Text, ...]
    supported_values: tuple[str, ...] = ()


class AdditionalInputRequired(CommonServicesError):
    """DSD:ERR:0005: the provider depends on attributes the user must supply; ask, then query again with them."""

    def __init__(self, message: str, concepts: tuple[ClassificationConcept, ...],
                 evidence_type: EvidenceTypeRef | None) -> None:
        super().__init__("DSD:ERR:0005", message)
        self.concepts = concepts
        self.evidence_type = evidence_type


@dataclass(frozen=True)
class ReferenceFramework:
    identifier: str
    titles: tuple[Text, ...] = ()
    procedures: tuple[str, ...] = ()  # RelatedTo/Identifier: procedure codes (T2, R1 ...)
    jurisdiction: str | None = None


@dataclass(frozen=True)
class EvidenceTypeInfo:
    classification: str
    titles: tuple[Text, ...]
    descriptions: tuple[Text, ...] = ()


@dataclass(frozen=True)
class EvidenceTypeList:
    """Types in one list are all needed (AND); lists of one requirement are alternatives (OR)."""

    identifier: str
    names: tuple[Text, ...]
    evidence_types: tuple[EvidenceTypeInfo, ...]
    jurisdiction: str | None = None


@dataclass(frozen=True)
class RequirementInfo:
    identifier: str
    names: tuple[Text, ...]
    descriptions: tuple[Text, ...] = ()
    reference_frameworks: tuple[ReferenceFramework, ...] = ()
    evidence_type_lists: tuple[EvidenceTypeList, ...] = ()


@dataclass(frozen=True)
class AccessService:
    identifier: Identifier  # the provider's access point party id → PMode responder
    names: tuple[Text, ...]
    conforms_to: tuple[str, ...]  # oots-edm:v1.2, oots-edm:v2.0
    publisher: Agent  # the evidence provider → EvidenceProvider / finalRecipient


@dataclass(frozen=True)
class DataServiceOffer:
    evidence_type: EvidenceTypeRef  # copied into EvidenceRequest
    access_services: tuple[AccessService, ...]
    level_of_assurance: str | None = None
