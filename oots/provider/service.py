"""The provider's answer to one (already validated and authorised) EDM request, at EDM level:

* with a PreviewLocation → request #2 of a preview (held until the decision, see preview_flow);
* preview required (the requester allows it and the policy asks for it) → EDM:ERR:0002 with PreviewLocation;
* otherwise the evidence straight from the data service (TC01), none (TC02: a Success without evidence), or the
  data service's error (no unique match → 0004, register timeout → 0005, register failure → 0008; TC03).

Preview is decided under the law of the requester's Member State (SDGR Art. 14(3)(f)): ``preview_required`` is
the node's policy hook, by default "whenever the requester allows it".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from oots.audit import AuditSink, NoAudit
from oots.dataservice.port import DataServiceAdapter, DataServiceError, EvidenceQuery
from oots.edm.model import Agent, ExceptionResponse, QueryRequest
from oots.provider.admission import Admission, Refusal
from oots.provider.answers import evidence_response, exception_for_unreadable, exception_response
from oots.provider.preview_flow import Answer, PreviewFlow


def preview_when_allowed(request: QueryRequest) -> bool:
    return request.possibility_for_preview


class EvidenceProviderService:
    def __init__(self, adapter: DataServiceAdapter, preview: PreviewFlow, *,
                 clock: Callable[[], datetime], new_id: Callable[[], str], part_domain: str,
                 preview_required: Callable[[QueryRequest], bool] = preview_when_allowed,
                 audit: AuditSink | None = None) -> None:
        self._adapter = adapter
        self._preview = preview
        self._clock = clock
        self._new_id = new_id
        self._domain = part_domain
        self._preview_required = preview_required
        self._audit = audit or NoAudit()

    async def answer_bytes(self, data: bytes, admission: Admission, *, node_agent: Agent) -> Answer:
        """Admit an inbound request (readable, authorised, valid, LoA) and answer it; ``node_agent`` is the
        error provider when the request cannot even be read."""
        admitted = admission.admit(data)
        if not isinstance(admitted, Refusal):
            return await self.answer(admitted)
        now = self._clock()
        if admitted.request is None:
            refusal = exception_for_unreadable(admitted.request_id, admitted.specification_id, admitted.code,
                                               provider=node_agent, now=now, new_id=self._new_id,
                                               detail=admitted.detail)
            await self._audit.append("oots.request.refused", "oots-provider", None,
                                     {"request_id": admitted.request_id, "outcome": admitted.code,
                                      "detail": admitted.detail[:500]}, correlation_id=admitted.request_id)
            return refusal, []
        answer = exception_response(admitted.request, admitted.code, provider=self._preview.answering_as(
            admitted.request), now=now, new_id=self._new_id, detail=admitted.detail)
        await self._record(admitted.request, answer, [])
        return answer, []

    async def answer(self, request: QueryRequest) -> Answer:
        answer = await self._answer(request)
        await self._record(request, *answer)
        return answer

    async def _record(self, request: QueryRequest, response: object, parts: list) -> None:  # type: ignore[type-arg]
        outcome = response.exception.code if isinstance(response, ExceptionResponse) else f"evidence:{len(parts)}"
        requester = next((a for a in request.evidence_requesters if a.classification == "ER"),
                         request.evidence_requesters[0])
        person = request.natural_person
        details = {"request_id": request.id, "requester": requester.identifier.value,
                   "provider": request.evidence_provider.identifier.value,
                   "evidence_type": request.evidence_request.classification, "outcome": outcome,
                   "second_request": request.preview_location is not None}
        subject = person.identifier.value if person is not None and person.identifier is not None else None
        await self._audit.append("oots.request.answered", "oots-provider", subject, details, correlation_id=request.id)
        if parts:
            await self._audit.append("oots.evidence.released", "oots-provider", subject,
                                     {**details, "parts": [p.content_id for p in parts]}, correlation_id=request.id)

    async def _answer(self, request: QueryRequest) -> Answer:
        if request.preview_location is not None:
            return await self._preview.second_request(request)
        if self._preview_required(request):
            return await self._preview.first_request(request), []
        person = request.natural_person or request.legal_person
        assert person is not None, "a validated request names one person"
        try:
            documents = await self._adapter.fetch(EvidenceQuery(request.evidence_request.classification, person))
        except DataServiceError as exc:
            return exception_response(request, exc.edm_code, provider=self._preview.answering_as(request),
                                      now=self._clock(),
                                      new_id=self._new_id, detail=exc.message), []
        return evidence_response(request, documents, provider=self._preview.answering_as(request), now=self._clock(),
                                 new_id=self._new_id, part_domain=self._domain)
