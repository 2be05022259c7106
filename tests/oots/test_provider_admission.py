"""Admission of inbound requests: unauthorised requester or intermediary (EDM:ERR:0002), invalid EDM naming the
rule (EDM:ERR:0003), unreadable bytes, and LoA below the evidence type's (EDM:ERR:0001); answers validate."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.db.engine import create_engine
from oots.dataservice import latvian_registers as lv
from oots.dataservice.sql_register import SqlRegisterAdapter
from oots.edm import V1_2, V2_0, ExceptionResponse, QueryResponse, to_bytes
from oots.edm.model import Identifier, NaturalPerson
from oots.preview.machine import PreviewSession
from oots.preview.service import PreviewService
from oots.provider.admission import Admission, RequesterRegistry
from oots.provider.preview_flow import PreviewFlow
from oots.provider.service import EvidenceProviderService
from oots.validation import validate_bytes
from tests.conftest import make_settings
from tests.oots import samples

ANNA = NaturalPerson("Berzina", "Anna", "1990-01-01", Identifier("LV/DE/ANNA-1", "eidas"), "Substantial")
REGISTRY = RequesterRegistry(frozenset({samples.REQUESTER.identifier.value}),
                             frozenset({samples.INTERMEDIARY.identifier.value}))


class MemoryStore:
    """The preview-store port in memory (the port is small enough to implement in a test)."""

    def __init__(self) -> None:
        self.sessions: dict[str, PreviewSession] = {}

    async def create(self, session: PreviewSession) -> None:
        self.sessions[session.id] = session

    async def get(self, session_id: str) -> PreviewSession | None:
        return self.sessions.get(session_id)

    async def find_by_token(self, token_hash: str) -> PreviewSession | None:
        return next((s for s in self.sessions.values() if s.token_hash == token_hash), None)

    async def update(self, session_id: str, change: Callable[[PreviewSession], PreviewSession]) -> PreviewSession:
        self.sessions[session_id] = change(self.sessions[session_id])
        return self.sessions[session_id]


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[tuple[EvidenceProviderService, Admission]]:
    engine = create_engine(make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'registers.db'}"))
    await lv.create_sample_registers(engine)
    adapter = SqlRegisterAdapter(engine, lv.MAPPINGS, person_query=lv.PERSON_QUERY)
    clock = lambda: datetime.now(UTC)  # noqa: E731
    new_id = lambda: str(uuid.uuid4())  # noqa: E731
    flow = PreviewFlow(PreviewService(MemoryStore(), base_url="https://preview.gw.example.lv/p", clock=clock),
                       adapter, clock=clock, new_id=new_id, part_domain="gw.example.lv")
    yield (EvidenceProviderService(adapter, flow, clock=clock, new_id=new_id, part_domain="gw.example.lv"),
           Admission(REGISTRY, adapter.required_loa))
    await engine.dispose()


def request(version=V1_2, **changes):  # type: ignore[no-untyped-def]
    evidence = dataclasses.replace(samples.evidence_type(version), classification=changes.pop("et", lv.DIPLOMA))
    changes.setdefault("natural_person", ANNA)
    return samples.request(version, evidence_request=evidence, possibility_for_preview=False, **changes)


async def answer(service, data: bytes):  # type: ignore[no-untyped-def]
    provider, admission = service
    response, parts = await provider.answer_bytes(data, admission, node_agent=samples.PROVIDER)
    report = validate_bytes(to_bytes(response))
    assert report.valid, [f.as_dict() for f in report.findings if f.fatal]
    return response, parts


@pytest.mark.parametrize("version", [V1_2, V2_0], ids=lambda v: v.label)
async def test_admitted_request_gets_its_evidence(service, version) -> None:  # type: ignore[no-untyped-def]
    response, parts = await answer(service, to_bytes(request(version)))
    assert isinstance(response, QueryResponse) and len(parts) == 1


async def test_unauthorised_requester_and_intermediary(service) -> None:  # type: ignore[no-untyped-def]
    scheme = samples.REQUESTER.identifier.scheme_id
    stranger = dataclasses.replace(samples.REQUESTER, identifier=Identifier("FR000", scheme))
    for requesters in ((stranger,), (samples.REQUESTER, dataclasses.replace(
            samples.INTERMEDIARY, identifier=Identifier("ROGUE-IP", samples.INTERMEDIARY.identifier.scheme_id)))):
        response, _ = await answer(service, to_bytes(request(evidence_requesters=requesters)))
        assert isinstance(response, ExceptionResponse)
        assert (response.exception.code, response.exception.severity) == (
            "EDM:ERR:0002", "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error")


async def test_invalid_request_names_the_rule(service) -> None:  # type: ignore[no-untyped-def]
    data = to_bytes(request(preview_location="https://x.example/p")).replace(b"https://x.example/p",
                                                                              b"http://x.example/p")
    response, _ = await answer(service, data)
    assert response.exception.code == "EDM:ERR:0003" and "OOTS-REQ-006" in (response.exception.detail or "")


async def test_unreadable_request(service) -> None:  # type: ignore[no-untyped-def]
    data = to_bytes(request()).replace(b'name="EvidenceRequest"', b'name="EvidenceRequested"')
    response, _ = await answer(service, data)
    assert response.exception.code == "EDM:ERR:0003" and "OOTS-PARSE-EDM_MISSING" in (response.exception.detail or "")
    assert response.request_id == samples.REQUEST_ID
    garbage, _ = await answer(service, b"<!DOCTYPE x><x/>")
    assert garbage.exception.code == "EDM:ERR:0003" and "XML_DTD_FORBIDDEN" in (garbage.exception.detail or "")


async def test_level_of_assurance_too_low(service) -> None:  # type: ignore[no-untyped-def]
    response, _ = await answer(service, to_bytes(request(et=lv.BIRTH)))  # a birth record needs High
    assert response.exception.code == "EDM:ERR:0001" and "High" in (response.exception.detail or "")
    high = dataclasses.replace(ANNA, level_of_assurance="High")
    response, parts = await answer(service, to_bytes(request(et=lv.BIRTH, natural_person=high)))
    assert isinstance(response, QueryResponse) and len(parts) == 1
