"""Cross-validation of message pairs (ids OOTS-X-nnn), as the EC validator's pair checks do:
request ↔ response / exception, and preview exception ↔ second request (optionally with request #1)."""

from __future__ import annotations

from oots.edm.model import EdmMessage, ExceptionResponse, NaturalPerson, QueryRequest, QueryResponse
from oots.identity import normalise
from oots.validation.findings import Finding

CROSS_RULES = {
    "OOTS-X-001": "the response answers the request (requestId = request id)",
    "OOTS-X-002": "both use the same SpecificationIdentifier",
    "OOTS-X-003": "the response names the request's evidence requester",
    "OOTS-X-004": "the evidence conforms to the requested evidence type classification",
    "OOTS-X-005": "the evidence is about the requested person (MDS match)",
    "OOTS-X-006": "the response comes from the requested evidence provider",
    "OOTS-X-010": "the first response is EDM:ERR:0002 with a PreviewLocation",
    "OOTS-X-011": "request #2 carries the PreviewLocation of the exception",
    "OOTS-X-012": "request #2 repeats request #1 (provider, evidence type, person, procedure, requirements)",
    "OOTS-X-013": "request #2 has an id of its own",
}


def _finding(rule: str, message: str) -> Finding:
    return Finding(rule, message, "cross")


def cross_check(first: EdmMessage, second: EdmMessage, original: QueryRequest | None = None) -> list[Finding]:
    """Findings for a pair in exchange order: (request, response|exception) or (exception, request #2)."""
    if isinstance(first, QueryRequest) and isinstance(second, QueryResponse | ExceptionResponse):
        return _request_answer(first, second)
    if isinstance(first, ExceptionResponse) and isinstance(second, QueryRequest):
        return _preview_second_request(first, second, original)
    return [_finding("OOTS-X-000", f"no pair check for {type(first).__name__} → {type(second).__name__}")]


def _request_answer(request: QueryRequest, answer: QueryResponse | ExceptionResponse) -> list[Finding]:
    found: list[Finding] = []
    if answer.request_id != request.id:
        found.append(_finding("OOTS-X-001", f"requestId {answer.request_id!r} ≠ request id {request.id!r}"))
    if answer.specification_id != request.specification_id:
        found.append(_finding("OOTS-X-002", f"{answer.specification_id} answers a {request.specification_id} request"))
    requester = answer.evidence_requester
    if requester is not None and requester.identifier.value not in {a.identifier.value
                                                                    for a in request.evidence_requesters}:
        found.append(_finding("OOTS-X-003", f"EvidenceRequester {requester.identifier.value!r} did not ask"))
    if isinstance(answer, ExceptionResponse):
        return found
    wanted = request.evidence_request.classification
    for item in answer.evidence:
        if item.metadata.classification != wanted and item.classification_node in (None, "MainEvidence"):
            found.append(_finding("OOTS-X-004", f"evidence {item.id} is {item.metadata.classification}, not {wanted}"))
        person, about = request.natural_person, item.metadata.is_about
        if person is not None and not _same_person(person, about):
            found.append(_finding("OOTS-X-005", f"evidence {item.id} is about another person"))
    providers = {a.identifier.value for a in answer.evidence_providers}
    if request.evidence_provider.identifier.value not in providers:
        found.append(_finding("OOTS-X-006", f"provider {request.evidence_provider.identifier.value!r} is not among "
                                            f"the responding providers {sorted(providers)}"))
    return found


def _same_person(person: NaturalPerson, about: object) -> bool:
    if not isinstance(about, NaturalPerson):
        return False
    if person.identifier is not None and about.identifier is not None:
        if person.identifier.value != about.identifier.value:
            return False
    return ((normalise(person.family_name), normalise(person.given_name), person.date_of_birth)
            == (normalise(about.family_name), normalise(about.given_name), about.date_of_birth))


def _preview_second_request(exception: ExceptionResponse, second: QueryRequest,
                            original: QueryRequest | None) -> list[Finding]:
    found: list[Finding] = []
    error = exception.exception
    if error.code != "EDM:ERR:0002" or error.preview_location is None:
        found.append(_finding("OOTS-X-010", f"{error.code} without PreviewLocation asks for no second request"))
    elif second.preview_location != error.preview_location:
        found.append(_finding("OOTS-X-011", f"request #2 PreviewLocation {second.preview_location!r} is not "
                                            f"{error.preview_location!r}"))
    if exception.specification_id != second.specification_id:
        found.append(_finding("OOTS-X-002", "request #2 changes the SpecificationIdentifier"))
    if second.id == exception.request_id:
        found.append(_finding("OOTS-X-013", "request #2 reuses the id of request #1"))
    if original is not None:
        if original.id != exception.request_id:
            found.append(_finding("OOTS-X-001", "the exception does not answer the given request #1"))
        for field in ("evidence_provider", "evidence_request", "natural_person", "legal_person", "procedure",
                      "requirements"):
            if getattr(original, field) != getattr(second, field):
                found.append(_finding("OOTS-X-012", f"request #2 changes {field}"))
    return found
