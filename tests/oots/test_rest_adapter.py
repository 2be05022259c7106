"""The REST data-service adapter against a real aiohttp register on loopback serving the sample Latvian registers:
unique match, base64 and download-URL evidence, no evidence, no/ambiguous match, timeout, 5xx, malformed JSON."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from oots.dataservice import latvian_registers as lv
from oots.dataservice.port import DataServiceError, EvidenceQuery
from oots.dataservice.rest_adapter import EvidenceTypeInfo, RestRegisterAdapter
from oots.edm.model import Identifier, NaturalPerson
from tests.oots import sample_register

TYPES = [EvidenceTypeInfo(m.evidence_type, m.titles, m.issuing_authority, m.level_of_assurance) for m in lv.MAPPINGS]


def _register_answer(wanted: dict[str, Any], by_url: bool) -> dict[str, Any]:
    """The sample register's honest answer: candidates by date of birth, their records as JSON evidence."""
    persons, records = sample_register.lookup(wanted["evidence_type"], wanted["person"]["date_of_birth"])
    evidence: dict[str, list[dict[str, Any]]] = {}
    for key, rows in records.items():
        for row in rows:
            item: dict[str, Any] = {"identifier": row["record_id"], "media_type": "application/json",
                                    "issuing_date": row["issued_on"], "conforms_to": "urn:x:json"}
            if by_url:
                item["url"] = f"/documents/{row['record_id']}"
            else:
                item["content_base64"] = base64.b64encode(json.dumps(row).encode()).decode()
            evidence.setdefault(key, []).append(item)
    return {"persons": persons, "evidence": evidence}


@pytest.fixture
async def register() -> AsyncIterator[tuple[str, dict[str, Any]]]:
    behaviour: dict[str, Any] = {"mode": "ok", "seen_auth": None}

    async def query(request: web.Request) -> web.StreamResponse:
        behaviour["seen_auth"] = request.headers.get("Authorization")
        mode = behaviour["mode"]
        if mode == "slow":
            await asyncio.sleep(2)
        if mode == "500":
            return web.Response(status=500, text="boom")
        if mode == "404":
            return web.Response(status=404)
        if mode == "garbage":
            return web.Response(text="{not json", content_type="application/json")
        return web.json_response(_register_answer(await request.json(), mode == "url"))

    async def document(request: web.Request) -> web.StreamResponse:
        row = sample_register.record(request.match_info["rid"])
        if row is None:
            return web.Response(status=404)
        return web.Response(body=json.dumps(row).encode(), content_type="application/json")

    app = web.Application()
    app.router.add_post("/evidence-queries", query)
    app.router.add_get("/documents/{rid}", document)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/", behaviour
    await runner.cleanup()


ANNA = NaturalPerson("BERZINA", "anna", "1990-01-01")


async def test_unique_match_returns_the_persons_evidence_base64(register) -> None:  # type: ignore[no-untyped-def]
    url, behaviour = register
    docs = await RestRegisterAdapter(url, TYPES, bearer_token="t0k").fetch(EvidenceQuery(lv.DIPLOMA, ANNA))
    assert [d.identifier for d in docs] == ["D-LU-2012-0001"]
    assert json.loads(docs[0].content)["institution"] == "Latvijas Universitāte"
    assert docs[0].subject.family_name == "Bērziņa" and docs[0].media_type == "application/json"
    assert behaviour["seen_auth"] == "Bearer t0k"


async def test_download_url_evidence(register) -> None:  # type: ignore[no-untyped-def]
    url, behaviour = register
    behaviour["mode"] = "url"
    docs = await RestRegisterAdapter(url, TYPES).fetch(EvidenceQuery(lv.RESIDENCE, ANNA))
    assert json.loads(docs[0].content)["record_id"] == "R-2019-7788"


async def test_no_evidence_for_matched_person_and_404(register) -> None:  # type: ignore[no-untyped-def]
    url, behaviour = register
    assert await RestRegisterAdapter(url, TYPES).fetch(EvidenceQuery(lv.VEHICLE, ANNA)) == []
    behaviour["mode"] = "404"
    assert await RestRegisterAdapter(url, TYPES).fetch(EvidenceQuery(lv.DIPLOMA, ANNA)) == []


async def test_ambiguous_and_no_match(register) -> None:  # type: ignore[no-untyped-def]
    url, _ = register
    with pytest.raises(DataServiceError) as amb:
        await RestRegisterAdapter(url, TYPES).fetch(EvidenceQuery(lv.VEHICLE, NaturalPerson("Ozols", "Janis",
                                                                                          "1985-05-15")))
    assert amb.value.code == "IDENTITY_AMBIGUOUS" and amb.value.edm_code == "EDM:ERR:0004"
    # The eIDAS identifier decides between the two namesakes.
    docs = await RestRegisterAdapter(url, TYPES).fetch(EvidenceQuery(
        lv.BIRTH, NaturalPerson("Ozols", "Janis", "1985-05-15", Identifier("LV/DE/OZOLS-3"))))
    assert [d.identifier for d in docs] == ["B-1985-0420"]
    with pytest.raises(DataServiceError) as none:
        await RestRegisterAdapter(url, TYPES).fetch(EvidenceQuery(lv.BIRTH, NaturalPerson("Nobody", "X",
                                                                                        "1990-01-01")))
    assert none.value.code == "IDENTITY_NOT_MATCHED"


@pytest.mark.parametrize(("mode", "code", "edm"), [("slow", "REGISTRY_TIMEOUT", "EDM:ERR:0005"),
                                                   ("500", "REGISTRY_ERROR", "EDM:ERR:0008"),
                                                   ("garbage", "REGISTRY_ERROR", "EDM:ERR:0008")])
async def test_register_failures(register, mode: str, code: str, edm: str) -> None:  # type: ignore[no-untyped-def]
    url, behaviour = register
    behaviour["mode"] = mode
    with pytest.raises(DataServiceError) as err:
        await RestRegisterAdapter(url, TYPES, timeout_s=0.2).fetch(EvidenceQuery(lv.BIRTH, ANNA))
    assert err.value.code == code and err.value.edm_code == edm


async def test_unreachable_register_and_unknown_type() -> None:
    with socket.socket() as s:  # an ephemeral port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/"
    with pytest.raises(DataServiceError) as err:
        await RestRegisterAdapter(dead, TYPES).fetch(EvidenceQuery(lv.BIRTH, ANNA))
    assert err.value.code == "REGISTRY_ERROR"
    with pytest.raises(DataServiceError) as unknown:
        await RestRegisterAdapter(dead, TYPES).fetch(EvidenceQuery("urn:x:other", ANNA))
    assert unknown.value.code == "EVIDENCE_TYPE_UNKNOWN"
