"""The provider's EDM answers to a request (pure): evidence responses whose evidence travels as AS4 parts,
and exception responses. Ids come from ``new_id`` and time from ``now``, so answers are reproducible in tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from oots.dataservice.port import EvidenceDocument
from oots.edm.model import (
    Agent,
    Distribution,
    EvidenceItem,
    EvidenceMetadata,
    ExceptionResponse,
    QueryRequest,
    QueryResponse,
    RepositoryItemRef,
    Text,
    edm_exception,
)
from oots.edm.versions import VERSIONS


@dataclass(frozen=True)
class EvidencePart:
    """An AS4 payload part carrying one evidence; the response references it as ``cid:<content_id>``."""

    content_id: str
    media_type: str
    content: bytes


def _requester(request: QueryRequest) -> Agent:
    """The evidence requester (ER) of the request, as the answer names it (identifier and names only)."""
    chosen = next((a for a in request.evidence_requesters if a.classification == "ER"), request.evidence_requesters[0])
    return Agent(chosen.identifier, chosen.names)


def evidence_response(request: QueryRequest, documents: Sequence[EvidenceDocument], *, provider: Agent,
                      now: datetime, new_id: Callable[[], str], part_domain: str
                      ) -> tuple[QueryResponse, list[EvidencePart]]:
    """Success with the documents (none: TC02 "no evidence", TC08 "declined")."""
    version = request.version
    package = f"urn:uuid:{new_id()}" if version.evidence_in_packages else None
    items, parts = [], []
    for index, document in enumerate(documents):
        content_id = f"{new_id()}@{part_domain}"
        parts.append(EvidencePart(content_id, document.media_type, document.content))
        items.append(EvidenceItem(
            id=f"urn:uuid:{new_id()}",
            metadata=EvidenceMetadata(
                identifier=new_id(), is_about=document.subject, issuing_authority=document.issuing_authority,
                classification=request.evidence_request.classification,
                titles=document.titles or request.evidence_request.titles, issuing_date=document.issuing_date,
                distribution=Distribution(document.media_type, document.conforms_to),
            ),
            repository_item=RepositoryItemRef(f"cid:{content_id}", "Evidence"),
            package_id=package,
            classification_node=("MainEvidence" if index == 0 else "Annex") if package else None,
            classification_id=f"urn:uuid:{new_id()}" if package else None,
        ))
    response = QueryResponse(
        specification_id=request.specification_id, request_id=request.id, response_id=f"urn:uuid:{new_id()}",
        issue_datetime=now, evidence_providers=(Agent(provider.identifier, provider.names, provider.address, "EP"),),
        evidence_requester=_requester(request), evidence=tuple(items),
    )
    return response, parts


def exception_response(request: QueryRequest, code: str, *, provider: Agent, now: datetime,
                       new_id: Callable[[], str], detail: str | None = None, preview_location: str | None = None,
                       preview_description: tuple[Text, ...] = ()) -> ExceptionResponse:
    return ExceptionResponse(
        specification_id=request.specification_id, request_id=request.id, response_id=f"urn:uuid:{new_id()}",
        error_provider=Agent(provider.identifier, provider.names, provider.address, "ERRP"),
        exception=edm_exception(code, request.version, timestamp=now, detail=detail,
                                preview_location=preview_location, preview_description=preview_description),
        evidence_requester=_requester(request),
    )


def exception_for_unreadable(request_id: str | None, specification_id: str | None, code: str, *, provider: Agent,
                             now: datetime, new_id: Callable[[], str], detail: str | None = None) -> ExceptionResponse:
    """An exception response to a request the codec could not read: its id and version as far as they could
    be seen (an unknown version is answered in v1.2, which every partner reads)."""
    spec = specification_id if specification_id in VERSIONS else "oots-edm:v1.2"
    return ExceptionResponse(
        specification_id=spec,  # type: ignore[arg-type]
        request_id=request_id or f"urn:uuid:{new_id()}", response_id=f"urn:uuid:{new_id()}",
        error_provider=Agent(provider.identifier, provider.names, provider.address, "ERRP"),
        exception=edm_exception(code, VERSIONS[spec], timestamp=now, detail=detail),  # type: ignore[index]
    )
