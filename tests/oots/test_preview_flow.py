"""Preview at the provider, end to end at EDM level over the node database (SQLite and PostgreSQL) and the
sample registers: every message exchanged validates and the pairs cross-validate."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.db.engine import create_engine
from gateway.oots_preview_store import SqlPreviewStore
from gateway.runtime import Node
from oots.dataservice import latvian_registers as lv
from oots.dataservice.sql_register import SqlRegisterAdapter
from oots.edm import V1_2, V2_0, ExceptionResponse, QueryResponse, parse_message, to_bytes
from oots.edm.model import Identifier, NaturalPerson
from oots.preview.service import PreviewService
from oots.provider.preview_flow import PreviewFlow
from oots.validation import validate_bytes
from oots.validation.cross import cross_check
from tests.conftest import make_settings
from tests.oots import samples

ANNA = NaturalPerson("Berzina", "Anna", "1990-01-01", Identifier("LV/DE/ANNA-1", "eidas"), "High")


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def adapter(tmp_path: Path) -> AsyncIterator[SqlRegisterAdapter]:
    engine = create_engine(make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'registers.db'}"))
    await lv.create_sample_registers(engine)
    yield SqlRegisterAdapter(engine, lv.MAPPINGS, person_query=lv.PERSON_QUERY)
    await engine.dispose()


def flow(node: Node, adapter: SqlRegisterAdapter, clock: Clock, **kwargs: object) -> tuple[PreviewFlow,
                                                                                             PreviewService]:
    previews = PreviewService(SqlPreviewStore(node.engine), base_url="https://preview.gw.example.lv/p", clock=clock,
                              poll_interval_s=0.01, **kwargs)  # type: ignore[arg-type]
    return PreviewFlow(previews, adapter, provider=samples.PROVIDER, clock=clock, new_id=lambda: str(uuid.uuid4()),
                       part_domain="gw.example.lv"), previews


def requests(version):  # type: ignore[no-untyped-def]
    first = samples.request(version, natural_person=ANNA, evidence_request=dataclasses.replace(
        samples.evidence_type(version), classification=lv.DIPLOMA))
    return first, lambda location: dataclasses.replace(first, id=f"urn:uuid:{uuid.uuid4()}",
                                                       preview_location=location)


def valid(message) -> bytes:  # type: ignore[no-untyped-def]
    data = to_bytes(message)
    report = validate_bytes(data)
    assert report.valid, [f.as_dict() for f in report.findings if f.fatal]
    return data


@pytest.mark.parametrize("version", [V1_2, V2_0], ids=lambda v: v.label)
async def test_accepted_preview_releases_the_evidence(version, node: Node, adapter) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    provider, previews = flow(node, adapter, clock)
    first, second_for = requests(version)
    answer = await provider.first_request(first)
    valid(answer)
    assert answer.exception.code == "EDM:ERR:0002" and answer.exception.preview_required
    location = answer.exception.preview_location
    assert location is not None
    second = second_for(location)
    assert cross_check(answer, second, first) == [] and valid(second)
    held = asyncio.create_task(provider.second_request(second))  # request #2 before the user
    await asyncio.sleep(0.05)
    assert not held.done()
    session = await previews.user_arrived(location.rsplit("/", 1)[1])
    await previews.decide(session.id, True)
    response, parts = await asyncio.wait_for(held, 5)
    assert isinstance(response, QueryResponse) and len(parts) == 1
    assert cross_check(second, parse_message(valid(response))) == []
    assert b"Datorzin" in parts[0].content


async def test_declined_answers_without_evidence(node: Node, adapter) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    provider, previews = flow(node, adapter, clock)
    first, second_for = requests(V2_0)
    answer = await provider.first_request(first)
    location = answer.exception.preview_location or ""
    session = await previews.user_arrived(location.rsplit("/", 1)[1])  # the user comes first
    await previews.decide(session.id, False)
    response, parts = await provider.second_request(second_for(location))
    assert isinstance(response, QueryResponse) and response.evidence == () and parts == []
    valid(response)


async def test_timeout_forgery_other_person_and_replay(node: Node, adapter) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()

    async def sleep(seconds: float) -> None:
        clock.now += timedelta(minutes=10)
        await asyncio.sleep(0)

    provider, _ = flow(node, adapter, clock, sleep=sleep)
    first, second_for = requests(V1_2)
    location = (await provider.first_request(first)).exception.preview_location or ""
    timed_out, _ = await provider.second_request(second_for(location))
    assert isinstance(timed_out, ExceptionResponse) and timed_out.exception.code == "EDM:ERR:0005"
    valid(timed_out)
    replayed, _ = await provider.second_request(second_for(location))
    assert isinstance(replayed, ExceptionResponse) and replayed.exception.code == "EDM:ERR:0006"
    forged, _ = await provider.second_request(second_for("https://preview.gw.example.lv/p/forged"))
    assert isinstance(forged, ExceptionResponse) and forged.exception.code == "EDM:ERR:0006"
    fresh = (await provider.first_request(first)).exception.preview_location or ""
    other = dataclasses.replace(second_for(fresh), natural_person=dataclasses.replace(ANNA, given_name="Olga"))
    mismatch, _ = await provider.second_request(other)
    assert isinstance(mismatch, ExceptionResponse) and mismatch.exception.code == "EDM:ERR:0003"
    valid(mismatch)
