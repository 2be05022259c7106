"""Admission of an inbound EDM request, in the order the provider must check (issue #9 §6): readable →
requester authorised (registry of requesters and intermediary platforms) → valid (our rules for its version,
failed rules named in the answer's detail) → the user's level of assurance at least the evidence type's.

Codes: unreadable or invalid → EDM:ERR:0003; requester or intermediary not registered → EDM:ERR:0002 (Missing
Authorization, plain Error severity); LoA too low → EDM:ERR:0001 (Failed Authentication: the authentication
does not suffice). The last two mappings are our reading of the TDD, which names no code for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from oots.edm.codec import load, parse_element
from oots.edm.errors import EdmCodecError
from oots.edm.model import QueryRequest
from oots.validation.findings import Report
from oots.validation.rules_common import slot_text
from oots.validation.validate import validate_element

LOA_ORDER = {"Low": 1, "Substantial": 2, "High": 3}


@dataclass(frozen=True)
class Refusal:
    code: str  # EDM:ERR:000x
    detail: str
    request: QueryRequest | None  # None when the request could not be read
    request_id: str | None = None
    specification_id: str | None = None


@dataclass(frozen=True)
class RequesterRegistry:
    """Identifiers (sdg:Agent/Identifier values) of the evidence requesters (ER) and intermediary platforms
    (IP) this node answers."""

    requesters: frozenset[str]
    intermediaries: frozenset[str] = frozenset()


class Admission:
    def __init__(self, registry: RequesterRegistry, required_loa: Mapping[str, str], *,
                 specs: Sequence[Path] = (), official: bool = False) -> None:
        self._registry = registry
        self._required = dict(required_loa)
        self._specs = tuple(specs)
        self._official = official  # the official artifacts exist for v1.0 only, and cost ~18 ms

    def admit(self, data: bytes) -> QueryRequest | Refusal:
        try:
            root = load(data)
        except EdmCodecError as exc:
            return Refusal("EDM:ERR:0003", f"{exc.code}: {exc.message}", None)
        raw_id, raw_spec = root.get("id"), slot_text(root, "SpecificationIdentifier")
        try:
            request = parse_element(root)
        except EdmCodecError as exc:
            return Refusal("EDM:ERR:0003", f"OOTS-PARSE-{exc.code}: {exc.message}", None, raw_id, raw_spec)
        if not isinstance(request, QueryRequest):
            return Refusal("EDM:ERR:0003", "not a query:QueryRequest", None, raw_id, raw_spec)
        for agent in request.evidence_requesters:
            known = (self._registry.requesters if agent.classification == "ER" else self._registry.intermediaries
                     if agent.classification == "IP" else frozenset())
            if agent.identifier.value not in known:
                return Refusal("EDM:ERR:0002", f"{agent.classification or 'agent'} {agent.identifier.value} is not "
                                               "a registered evidence requester or intermediary platform", request)
        report = validate_element(root, Report("request"), self._specs, official=self._official)
        if not report.valid:
            failed = [f"{f.rule}: {f.message}" for f in report.findings if f.fatal]
            return Refusal("EDM:ERR:0003", "; ".join(failed)[:2000], request)
        required = self._required.get(request.evidence_request.classification)
        person = request.natural_person or request.legal_person
        given = person.level_of_assurance if person is not None else None
        if required is not None and LOA_ORDER.get(given or "", 0) < LOA_ORDER[required]:
            return Refusal("EDM:ERR:0001", f"level of assurance {given or '(none)'} is below the {required} this "
                                           "evidence type requires", request)
        return request
