"""Evidence requests from what the EB and the DSD answered (TDD rules in ../shared/notes/oots-eidas.md §2):
the DSD's DataServiceEvidenceType becomes EvidenceRequest, its Publisher the EvidenceProvider, the EDM version
is one the chosen access service conforms to, every requirement is kept, and the user's answers to DSD:ERR:0005
travel as EvidenceProviderClassification. Request #2 repeats request #1 with the PreviewLocation (and, in
v2.0, the ReturnLocation)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from oots.commonservices.model import AccessService, DataServiceOffer, RequirementInfo
from oots.edm.model import (
    Agent,
    ClassificationValue,
    ExceptionResponse,
    LegalPerson,
    NaturalPerson,
    QueryRequest,
    Requirement,
    Text,
)
from oots.edm.versions import VERSIONS


class RequestBuildError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def choose_version(service: AccessService, supported: Sequence[str] = ("oots-edm:v2.0", "oots-edm:v1.2")) -> str:
    """The newest EDM version both sides speak (our preference order)."""
    for spec in supported:
        if spec in service.conforms_to:
            return spec
    raise RequestBuildError("OOTS_NO_COMMON_VERSION", f"the access service speaks {list(service.conforms_to)}, "
                                                      f"we speak {list(supported)}")


def first_request(*, offer: DataServiceOffer, service: AccessService, requirements: Sequence[RequirementInfo],
                  procedure: str, person: NaturalPerson | LegalPerson, requesters: Sequence[Agent],
                  possibility_for_preview: bool, now: datetime, new_id: Callable[[], str],
                  answers: Mapping[str, str] | None = None, version: str | None = None) -> QueryRequest:
    if service not in offer.access_services:
        raise RequestBuildError("OOTS_SERVICE_NOT_OFFERED", "the access service does not belong to the offer")
    spec = version or choose_version(service)
    profile = VERSIONS[spec]
    if not any(r.classification == "ER" for r in requesters):
        raise RequestBuildError("OOTS_NO_REQUESTER", "one requester agent must be classified ER")
    provider = service.publisher
    return QueryRequest(
        specification_id=spec, id=f"urn:uuid:{new_id()}", issue_datetime=now,
        possibility_for_preview=possibility_for_preview, explicit_request_given=True,
        evidence_requesters=tuple(requesters),
        evidence_provider=Agent(provider.identifier, provider.names),
        evidence_request=offer.evidence_type,
        procedure=Text(procedure, "EN" if profile.procedure_localized else None),
        requirements=tuple(Requirement(r.identifier, r.names, r.descriptions) for r in requirements),
        natural_person=person if isinstance(person, NaturalPerson) else None,
        legal_person=person if isinstance(person, LegalPerson) else None,
        provider_classifications=tuple(ClassificationValue(k, v) for k, v in (answers or {}).items()),
    )


def second_request(first: QueryRequest, exception: ExceptionResponse, *, now: datetime, new_id: Callable[[], str],
                   return_location: str | None = None) -> QueryRequest:
    error = exception.exception
    if error.code != "EDM:ERR:0002" or error.preview_location is None:
        raise RequestBuildError("OOTS_NO_PREVIEW", f"{error.code} asks for no second request")
    if exception.request_id != first.id:
        raise RequestBuildError("OOTS_NOT_OUR_EXCHANGE", "the exception answers another request")
    if return_location is not None and not first.version.evidence_in_packages:
        return_location = None  # v1.x: the return URL goes on the redirect, not in the message
    return dataclasses.replace(first, id=f"urn:uuid:{new_id()}", issue_datetime=now,
                               preview_location=error.preview_location, return_location=return_location)
