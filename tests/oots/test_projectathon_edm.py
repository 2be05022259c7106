"""Projectathon cases at EDM level (no AS4 yet): the requester builds its requests from the common-services
simulator over HTTP, the provider answers from the sample registers with its preview state in the database
(SQLite and PostgreSQL); every message validates and every pair cross-validates."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.db.engine import create_engine
from gateway.oots_preview_store import SqlPreviewStore
from gateway.runtime import Node
from oots.commonservices.model import AdditionalInputRequired
from oots.dataservice import latvian_registers as lv
from oots.dataservice.sql_register import SqlRegisterAdapter
from oots.edm import ExceptionResponse, QueryRequest, QueryResponse, parse_message, to_bytes
from oots.edm.model import Identifier, NaturalPerson
from oots.preview.machine import Timing
from oots.preview.service import PreviewService
from oots.provider.preview_flow import PreviewFlow
from oots.provider.service import EvidenceProviderService
from oots.requester.requests import first_request, second_request
from oots.validation import validate_bytes
from oots.validation.cross import cross_check
from tests.conftest import make_settings
from tests.oots import samples
from tests.oots.cs_fixtures import REGION, RESIDENCE, client

ANNA = NaturalPerson("Bērziņa", "Anna", "1990-01-01", Identifier("LV/DE/ANNA-1", "eidas"), "High")
JACK = NaturalPerson("Smith", "Jack", "1999-03-01", Identifier("DE/LV/123456789", "eidas"), "High")


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def registers(tmp_path: Path) -> AsyncIterator[SqlRegisterAdapter]:
    engine = create_engine(make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'registers.db'}"))
    await lv.create_sample_registers(engine)
    yield SqlRegisterAdapter(engine, lv.MAPPINGS, person_query=lv.PERSON_QUERY)
    await engine.dispose()


def provider(node: Node, registers: SqlRegisterAdapter, **kwargs: object) -> tuple[EvidenceProviderService,
                                                                                  PreviewService]:
    previews = PreviewService(SqlPreviewStore(node.engine), base_url="https://preview.gw.example.lv/p", clock=now,
                              poll_interval_s=0.01, audit=node.audit,
                              timing=kwargs.pop("timing", None))  # type: ignore[arg-type]
    flow = PreviewFlow(previews, registers, clock=now, new_id=new_id, part_domain="gw.example.lv")
    return EvidenceProviderService(registers, flow, clock=now, new_id=new_id, audit=node.audit,
                                   part_domain="gw.example.lv", **kwargs), previews  # type: ignore[arg-type]


async def request_for(cs, classification: str, person: NaturalPerson, *, preview: bool,  # type: ignore[no-untyped-def]
                      answers: dict[str, str] | None = None, procedure: str = "T2") -> QueryRequest:
    requirements = await cs.requirements(procedure, "LV")
    (offer,) = await cs.data_services(classification, "LV", additional=answers)
    return first_request(offer=offer, service=offer.access_services[0], requirements=requirements,
                         procedure=procedure, person=person, requesters=[samples.REQUESTER],
                         possibility_for_preview=preview, now=now(), new_id=new_id, answers=answers)


def exchanged(request: QueryRequest, answer) -> object:  # type: ignore[no-untyped-def]
    for message in (request, answer):
        report = validate_bytes(to_bytes(message))
        assert report.valid, [f.as_dict() for f in report.findings if f.fatal]
    assert cross_check(request, parse_message(to_bytes(answer))) == []
    return answer


async def test_tc01_without_preview_gives_the_evidence(start, session, node: Node, registers) -> None:  # type: ignore[no-untyped-def]
    cs = client(session, await start())
    request = await request_for(cs, lv.DIPLOMA, ANNA, preview=False)
    answer, parts = await provider(node, registers)[0].answer(request)
    assert isinstance(exchanged(request, answer), QueryResponse) and len(parts) == 1


async def test_tc02_no_evidence_for_the_person(start, session, node: Node, registers) -> None:  # type: ignore[no-untyped-def]
    cs = client(session, await start())
    request = await request_for(cs, lv.VEHICLE, ANNA, preview=False, procedure="X1")
    answer, parts = await provider(node, registers)[0].answer(request)
    assert isinstance(exchanged(request, answer), QueryResponse) and answer.evidence == () and parts == []


async def test_tc03_register_timeout_and_unknown_person(start, session, node: Node, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cs = client(session, await start())
    engine = create_engine(make_settings(tmp_path / "d2", f"sqlite:///{tmp_path / 'slow.db'}"))
    await lv.create_sample_registers(engine)
    try:
        slow = SqlRegisterAdapter(engine, lv.MAPPINGS, person_query=lv.PERSON_QUERY, timeout_s=0)
        request = await request_for(cs, lv.DIPLOMA, ANNA, preview=False)
        answer, _ = await provider(node, slow)[0].answer(request)
        assert isinstance(exchanged(request, answer), ExceptionResponse)
        assert answer.exception.code == "EDM:ERR:0005"
        nobody = dataclasses.replace(request, natural_person=dataclasses.replace(ANNA, date_of_birth="1991-01-01"))
        answer, _ = await provider(node, SqlRegisterAdapter(engine, lv.MAPPINGS, person_query=lv.PERSON_QUERY)
                                   )[0].answer(nobody)
        assert answer.exception.code == "EDM:ERR:0004"  # type: ignore[union-attr]
    finally:
        await engine.dispose()


async def test_tc05_additional_dsd_input(start, session, node: Node, registers) -> None:  # type: ignore[no-untyped-def]
    cs = client(session, await start())
    with pytest.raises(AdditionalInputRequired) as asked:
        await request_for(cs, RESIDENCE, JACK, preview=False, procedure="V1")
    answers = {asked.value.concepts[0].identifier: "LV006"}  # the user's answer: Riga
    request = await request_for(cs, RESIDENCE, JACK, preview=False, procedure="V1", answers=answers)
    assert request.provider_classifications[0].identifier == REGION
    answer, parts = await provider(node, registers)[0].answer(request)
    assert isinstance(exchanged(request, answer), QueryResponse) and b"LV006" in parts[0].content


@pytest.mark.parametrize("accept", [True, False], ids=["TC06_accepted", "TC08_declined"])
async def test_preview_accepted_or_declined(start, session, node: Node, registers, accept: bool) -> None:  # type: ignore[no-untyped-def]
    cs = client(session, await start())
    service, previews = provider(node, registers)
    first = await request_for(cs, lv.DIPLOMA, ANNA, preview=True)
    exception, _ = await service.answer(first)
    assert isinstance(exchanged(first, exception), ExceptionResponse) and exception.exception.code == "EDM:ERR:0002"
    second = second_request(first, exception, now=now(), new_id=new_id, return_location="https://portal.gov.lv/r")
    assert cross_check(exception, second, first) == []
    held = asyncio.create_task(service.answer(second))
    location = exception.exception.preview_location or ""
    arrived = await previews.user_arrived(location.rsplit("/", 1)[1])
    await previews.decide(arrived.id, accept)
    answer, parts = await asyncio.wait_for(held, 5)
    assert isinstance(exchanged(second, answer), QueryResponse)
    assert len(parts) == (1 if accept else 0)
    async with node.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT event, details, correlation_id FROM audit_record WHERE event LIKE 'oots.%' ORDER BY seq"))).all()
    events = [r[0] for r in rows]
    assert events[:2] == ["oots.preview.opened", "oots.request.answered"]
    assert {"oots.preview.user_arrived", "oots.preview.decided", "oots.preview.answered"} <= set(events)
    assert ("oots.evidence.released" in events) == accept
    assert all(r[2] in (first.id, second.id) for r in rows)  # one correlation id per request
    assert not any("Datorzin" in r[1] or "Bērziņa" in r[1] for r in rows)  # no evidence content, no MDS


async def test_tc07_preview_at_two_providers(start, session, node: Node, registers) -> None:  # type: ignore[no-untyped-def]
    cs = client(session, await start())
    service, previews = provider(node, registers)
    firsts = [await request_for(cs, lv.DIPLOMA, ANNA, preview=True),
              await request_for(cs, lv.BIRTH, ANNA, preview=True, procedure="R1")]
    assert firsts[0].evidence_provider.identifier != firsts[1].evidence_provider.identifier
    exceptions = [(await service.answer(f))[0] for f in firsts]
    locations = [e.exception.preview_location or "" for e in exceptions]  # type: ignore[union-attr]
    assert len(set(locations)) == 2
    seconds = [second_request(f, e, now=now(), new_id=new_id) for f, e in zip(firsts, exceptions, strict=True)]
    held = [asyncio.create_task(service.answer(s)) for s in seconds]
    for location in locations:
        arrived = await previews.user_arrived(location.rsplit("/", 1)[1])
        await previews.decide(arrived.id, True)
    for second, task in zip(seconds, held, strict=True):
        answer, parts = await asyncio.wait_for(task, 5)
        assert isinstance(exchanged(second, answer), QueryResponse) and len(parts) == 1


async def test_tc09_preview_expires(start, session, node: Node, registers) -> None:  # type: ignore[no-untyped-def]
    cs = client(session, await start())
    service, previews = provider(node, registers, timing=Timing(t2=timedelta(seconds=1), t3=timedelta(seconds=0.3)))
    first = await request_for(cs, lv.DIPLOMA, ANNA, preview=True)
    exception, _ = await service.answer(first)
    location = exception.exception.preview_location or ""  # type: ignore[union-attr]
    await previews.user_arrived(location.rsplit("/", 1)[1])  # looks, never decides
    second = second_request(first, exception, now=now(), new_id=new_id)  # type: ignore[arg-type]
    answer, parts = await asyncio.wait_for(service.answer(second), 5)
    assert isinstance(exchanged(second, answer), ExceptionResponse) and parts == []
    assert answer.exception.code == "EDM:ERR:0005"
