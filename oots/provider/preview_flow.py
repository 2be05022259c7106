"""Requests with preview at the provider, at EDM level: request #1 → EDM:ERR:0002 with a PreviewLocation;
request #2 → held until the decision, then the evidence (accepted), a response without evidence (declined,
as in TC08) or EDM:ERR:0005 (abandoned or past T3, TC09). Unknown, foreign or reused PreviewLocations are
answered EDM:ERR:0006, another person in request #2 EDM:ERR:0003."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from oots.dataservice.port import DataServiceAdapter, DataServiceError, EvidenceQuery
from oots.edm.model import Agent, ExceptionResponse, NaturalPerson, QueryRequest, QueryResponse, Text
from oots.identity import mds_digest, person_reference
from oots.preview.machine import Outcome, PreviewError, PreviewSession
from oots.preview.service import PreviewService
from oots.provider.answers import EvidencePart, evidence_response, exception_response

DESCRIPTION = (Text("Review the evidence and decide whether to share it.", "EN"),
               Text("Pārskatiet pierādījumu un izlemiet, vai to nodot.", "LV"))
Answer = tuple[QueryResponse | ExceptionResponse, list[EvidencePart]]
# Called with each new preview session and its request #1 (the preview space keeps what its pages show).
OnOpen = Callable[[PreviewSession, QueryRequest], Awaitable[None]]


class PreviewFlow:
    def __init__(self, previews: PreviewService, adapter: DataServiceAdapter, *, provider: Agent | None = None,
                 clock: Callable[[], datetime], new_id: Callable[[], str], part_domain: str) -> None:
        self._previews = previews
        self._adapter = adapter
        self._provider = provider
        self._clock = clock
        self._new_id = new_id
        self._domain = part_domain
        self.on_open: list[OnOpen] = []

    def answering_as(self, request: QueryRequest) -> Agent:
        """The provider the node answers as: the configured one, else the one the request is addressed to
        (the node serves several Latvian publishers; routing has checked the request is for one of them)."""
        return self._provider or request.evidence_provider

    def _error(self, request: QueryRequest, code: str, detail: str, **preview: object) -> ExceptionResponse:
        return exception_response(request, code, provider=self.answering_as(request), now=self._clock(),
                                  new_id=self._new_id, detail=detail, **preview)  # type: ignore[arg-type]

    async def first_request(self, request: QueryRequest) -> ExceptionResponse:
        person = request.natural_person or request.legal_person
        assert person is not None, "a validated request names one person"
        requester = next((a for a in request.evidence_requesters if a.classification == "ER"),
                         request.evidence_requesters[0])
        person_ref = (person_reference(person.family_name, person.given_name, person.date_of_birth)
                      if isinstance(person, NaturalPerson) else None)
        session, location = await self._previews.open(
            request_id=request.id, requester=requester.identifier.value,
            evidence_type=request.evidence_request.classification, subject=mds_digest(person),
            person_ref=person_ref, procedure=request.procedure.value if request.procedure else None)
        for hook in self.on_open:
            await hook(session, request)
        return self._error(request, "EDM:ERR:0002", "The evidence must be previewed on the provider's side",
                           preview_location=location, preview_description=DESCRIPTION)

    async def second_request(self, request: QueryRequest) -> Answer:
        person = request.natural_person or request.legal_person
        assert person is not None and request.preview_location is not None
        try:
            _, outcome = await self._previews.second_request(request.preview_location, request.id,
                                                             subject=mds_digest(person))
        except PreviewError as exc:
            return self._error(request, exc.edm_code, exc.message), []
        if outcome is Outcome.TIMEOUT:
            return self._error(request, "EDM:ERR:0005", "The preview was not completed in time"), []
        documents = []
        if outcome is Outcome.RELEASE:
            try:
                documents = await self._adapter.fetch(EvidenceQuery(request.evidence_request.classification, person))
            except DataServiceError as exc:
                return self._error(request, exc.edm_code, exc.message), []
        return evidence_response(request, documents, provider=self.answering_as(request), now=self._clock(),
                                 new_id=self._new_id, part_domain=self._domain)
