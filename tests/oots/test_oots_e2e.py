"""OOTS over AS4 end to end: two node processes on loopback (gateway.oots_devnet) and the common-services
simulator; a portal uses the requester API of node DE-GW, node LV-GW-DEV answers from the sample Latvian
registers. Tests are named after the Projectathon cases and run for EDM v1.2 (eDelivery AS4 1.15) and v2.0
(AS4 2.0); one pair of node processes per version. The preview space is the next issue: the tests drive the
provider's decision port (oots.preview.service.PreviewService over the provider's database) as the user."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from gateway.as4_receiver import open_payload_store
from gateway.db.schema import as4_inbound, audit_record
from gateway.devnet import BackendClient, DevNode, NodeProcess, free_port
from gateway.oots_devnet import OotsPair, oots_pmode_id, prepare_oots_pair, write_trust_dir
from gateway.oots_preview_store import SqlPreviewStore
from oots.edm import ExceptionResponse, QueryRequest, QueryResponse, parse_message, to_bytes
from oots.edm.model import Agent, Identifier, Text
from oots.edm.versions import VERSIONS
from oots.preview.machine import PreviewError
from oots.preview.service import PreviewService
from oots.transport import AS4_PROFILES, REGREP_MIME, SERVICE
from oots.validation import validate_bytes
from oots.validation.cross import cross_check
from tests.oots import samples
from tests.oots.oots_net import ANNA, JACK, REGION, SimulatorThread, create, download, settled

pytestmark = pytest.mark.slow
EDM_VERSIONS = ("oots-edm:v1.2", "oots-edm:v2.0")
_ET = "https://sr.oots.tech.ec.europa.eu/evidencetypeclassifications/LV/"
DIPLOMA, BIRTH = _ET + "6a1f2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b", _ET + "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
PREVIEW_BASE = "https://preview.lv-gw.example/p"
INVALID_ON_PURPOSE = b"http://insecure.example/p/x"  # the one message a test sends invalid
FORGED_RESPONSE_ID = "urn:uuid:0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f"  # the one answer a test forges


@dataclasses.dataclass
class Net:
    pair: OotsPair
    portal_proc: NodeProcess
    provider_proc: NodeProcess
    version: str

    @property
    def request_pmode(self) -> str:
        return oots_pmode_id("to", self.pair.provider.name, AS4_PROFILES[self.version], "ExecuteQueryRequest")


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorThread]:
    sim = SimulatorThread().start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module", params=EDM_VERSIONS)
def net(request: pytest.FixtureRequest, simulator: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Net]:
    version = request.param
    base = tmp_path_factory.mktemp("oots-" + version.replace(":", "-"))
    trust = write_trust_dir(base / "cs-trust", simulator.certificate_pem)
    portal_node = DevNode("DE-GW", base / "de", free_port())
    provider_node = DevNode("LV-GW-DEV", base / "lv", free_port())
    pair = asyncio.run(prepare_oots_pair(
        portal_node, provider_node, cs_url=simulator.url, cs_trust_dir=trust, versions=(version,),
        timeouts={"t1_s": 20, "t2_s": 5, "t3_s": 8, "requester_margin_s": 4, "lease_s": 2}, register_timeout_s=1.5))
    for node in (portal_node, provider_node):  # keep payloads after delivery: the tests validate every message
        node.settings_overrides["as4__payload_retention_s"] = "3600"
    procs = (NodeProcess(portal_node), NodeProcess(provider_node))
    for proc in procs:
        proc.start()
    try:
        yield Net(pair, procs[0], procs[1], version)
    finally:
        for proc in procs:
            proc.stop()


@pytest.fixture
async def portal(net: Net) -> AsyncIterator[BackendClient]:
    async with aiohttp.ClientSession() as http:
        yield BackendClient(net.pair.requester, http)


@pytest.fixture
async def previews(net: Net) -> AsyncIterator[PreviewService]:
    """The provider's decision port, over its database (any process can continue a session)."""
    node = await net.pair.provider.open()
    try:
        yield PreviewService(SqlPreviewStore(node.engine), base_url=PREVIEW_BASE, clock=lambda: datetime.now(UTC))
    finally:
        await node.close()


def _token(location: str) -> str:
    assert location.startswith(PREVIEW_BASE + "/")
    return location.rsplit("/", 1)[1]


async def _request(portal: BackendClient, **body: Any) -> dict[str, Any]:
    status, created = await create(portal, **body)
    assert status == 201, created
    return created


async def test_tc01_request_without_preview_gives_the_evidence(net: Net, portal: BackendClient) -> None:
    created = await _request(portal, procedure="T2", country="LV", person=ANNA, preview_allowed=False)
    done = await settled(portal, created["id"])
    assert done["state"] == "completed", (done["error"], done["exchanges"])
    (exchange,) = done["exchanges"]
    assert exchange["edm_version"] == net.version and exchange["state"] == "evidence"
    assert exchange["provider"] == "90000011588" and exchange["second_request"] is False
    (evidence,) = done["evidence"]
    assert evidence["metadata"]["evidence_type"] == DIPLOMA
    status, body, headers = await download(portal, created["id"], evidence["id"])
    assert status == 200 and b"D-LU-2012-0001" in body and headers["X-Content-SHA256"] == evidence["sha256"]
    status, _, _ = await download(portal, created["id"], "no-such-evidence")
    assert status == 404


async def test_tc02_no_evidence_for_the_person_and_the_portal_is_notified(portal: BackendClient) -> None:
    import hashlib
    import hmac

    from aiohttp import web

    pushes: list[tuple[bytes, str]] = []
    arrived = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        pushes.append((await request.read(), request.headers["X-OOTS-Signature"]))
        arrived.set()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        created = await _request(portal, procedure="X1", country="LV", person=ANNA, preview_allowed=False,
                                 notify_url=f"http://127.0.0.1:{port}/hook")
        done = await settled(portal, created["id"])
        assert done["state"] == "completed" and done["evidence"] == []
        assert [x["state"] for x in done["exchanges"]] == ["no-evidence"]
        for _ in range(100):
            if any(json.loads(body)["state"] == "completed" for body, _ in pushes):
                break
            await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()
    body, header = next((b, h) for b, h in pushes if json.loads(b)["state"] == "completed")
    assert json.loads(body)["id"] == created["id"]
    stamp, mac = (part.split("=", 1)[1] for part in header.split(","))
    expected = hmac.new(created["notify_secret"].encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(mac, expected)
    assert "notify_secret" not in done  # shown once, at creation


async def test_tc03_register_timeout_then_register_error(net: Net, portal: BackendClient) -> None:
    # Timeout: the register is locked (EXCLUSIVE) longer than the provider's register timeout (1.5 s).
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(net.pair.registers_db, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(10)
        conn.execute("ROLLBACK")
        conn.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(5)
        created = await _request(portal, procedure="T2", country="LV", person=ANNA, preview_allowed=False)
        done = await settled(portal, created["id"])
    finally:
        release.set()
        holder.join()
    assert done["state"] == "failed" and done["error"]["code"] == "EDM:ERR:0005", done["error"]
    # Error: the register's table is gone (a broken register) → EDM:ERR:0008, then repaired.
    conn = sqlite3.connect(net.pair.registers_db)
    conn.execute("ALTER TABLE lv_diploma RENAME TO lv_diploma_broken")
    conn.commit()
    try:
        created = await _request(portal, procedure="T2", country="LV", person=ANNA, preview_allowed=False)
        done = await settled(portal, created["id"])
    finally:
        conn.execute("ALTER TABLE lv_diploma_broken RENAME TO lv_diploma")
        conn.commit()
        conn.close()
    assert done["state"] == "failed" and done["error"]["code"] == "EDM:ERR:0008", done["error"]


async def test_tc04_provider_access_point_unreachable(net: Net, portal: BackendClient) -> None:
    net.provider_proc.stop()
    try:
        created = await _request(portal, procedure="T2", country="LV", person=ANNA, preview_allowed=False)
        done = await settled(portal, created["id"], timeout_s=30)
    finally:
        net.provider_proc.start()
    assert done["state"] == "failed", done
    assert done["error"]["code"].startswith("EBMS:"), done["error"]
    (exchange,) = done["exchanges"]
    status, _ = await portal.get(f"/api/as4/messages/{exchange['message_id']}")
    # The AS4 message is kept as a dead letter (another client's: the OOTS service owns it), nothing is lost:
    node = await net.pair.requester.open()
    try:
        from gateway.as4_sender import message_status
        row = await message_status(node.engine, exchange["message_id"])
    finally:
        await node.close()
    assert row is not None and row["status"] == "failed" and row["last_error_code"] == done["error"]["code"]
    assert status == 404  # the portal cannot read the OOTS service's AS4 messages


async def test_tc05_additional_dsd_input_then_second_query(portal: BackendClient) -> None:
    created = await _request(portal, procedure="V1", country="LV", person=JACK, preview_allowed=False)
    assert created["state"] == "input-required" and created["exchanges"] == []
    (concept,) = created["input_required"]
    assert concept["identifier"] == REGION and "LV006" in concept["values"]
    status, problem = await portal.post(f"/api/oots/requests/{created['id']}/input", {"answers": "LV006"})
    assert status == 400 and problem["code"] == "OOTS_REQ_ANSWERS"
    status, resumed = await portal.post(f"/api/oots/requests/{created['id']}/input", {"answers": {REGION: "LV006"}})
    assert status == 200 and resumed["state"] in ("exchanging", "completed")
    done = await settled(portal, created["id"])
    assert done["state"] == "completed" and done["exchanges"][0]["provider"] == "90011524360"  # Riga
    status, body, _ = await download(portal, created["id"], done["evidence"][0]["id"])
    assert status == 200 and b"LV006" in body
    status, again = await portal.post(f"/api/oots/requests/{created['id']}/input", {"answers": {REGION: "LV006"}})
    assert status == 409 and again["code"] == "OOTS_REQ_STATE"


async def _preview_pending(portal: BackendClient, **body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    created = await _request(portal, return_url="https://portal.gov.lv/back?case=7", **body)
    pending = await settled(portal, created["id"], ("preview-required", "completed", "failed"))
    assert pending["state"] == "preview-required", pending
    return created, pending


@pytest.mark.parametrize("accept", [True, False], ids=["TC06_accepted", "TC08_declined"])
async def test_preview_decided(portal: BackendClient, previews: PreviewService, accept: bool) -> None:
    created, pending = await _preview_pending(portal, procedure="T2", country="LV", person=ANNA)
    (exchange,) = pending["exchanges"]
    assert exchange["state"] == "preview" and exchange["second_request"] is True
    assert exchange["redirect_url"].startswith(exchange["preview_location"] + "?returnurl=https%3A%2F%2Fportal")
    session = await previews.user_arrived(_token(exchange["preview_location"]))
    await previews.decide(session.id, accept)
    done = await settled(portal, created["id"])
    assert done["state"] == "completed"
    assert len(done["evidence"]) == (1 if accept else 0)  # declined: nothing released
    with pytest.raises(PreviewError) as replayed:  # the link is single-use
        await previews.user_arrived(_token(exchange["preview_location"]))
    assert replayed.value.code == "PREVIEW_TOKEN_REPLAYED"


async def test_tc09_preview_timed_out_releases_nothing(portal: BackendClient, previews: PreviewService) -> None:
    created, pending = await _preview_pending(portal, procedure="T2", country="LV", person=ANNA)
    await previews.user_arrived(_token(pending["exchanges"][0]["preview_location"]))  # and never decides
    done = await settled(portal, created["id"], timeout_s=30)
    assert done["state"] == "failed" and done["error"]["code"] == "EDM:ERR:0005" and done["evidence"] == []


async def test_tc07_two_providers_in_one_procedure(portal: BackendClient, previews: PreviewService) -> None:
    created = await _request(portal, procedure="S1", country="LV", person=ANNA, return_url="https://portal.gov.lv/r")
    pending = await portal.wait_for(f"/api/oots/requests/{created['id']}",
                                    lambda r: [x["state"] for x in r["exchanges"]] == ["preview", "preview"],
                                    timeout_s=20, every_s=0.05)
    assert {x["evidence_type"] for x in pending["exchanges"]} == {DIPLOMA, BIRTH}
    assert len({x["provider"] for x in pending["exchanges"]}) == 2
    for exchange in pending["exchanges"]:  # the user previews at each provider in turn
        session = await previews.user_arrived(_token(exchange["preview_location"]))
        await previews.decide(session.id, True)
    done = await settled(portal, created["id"])
    assert done["state"] == "completed"
    assert {e["metadata"]["evidence_type"] for e in done["evidence"]} == {DIPLOMA, BIRTH}


async def test_user_arrives_and_decides_before_request_2(net: Net, portal: BackendClient,
                                                        previews: PreviewService) -> None:
    """The provider's answer to request #1 is held in its outbox (partner paused), so the user reaches the
    preview (with the PreviewLocation of that answer) before request #2 exists; request #2 is then answered at
    once with the evidence."""
    from gateway.as4_ops import pause_partner, resume_partner
    from gateway.db.schema import as4_outbound

    node = await net.pair.provider.open()
    try:
        await pause_partner(node, net.pair.requester.name, actor="test")
        try:
            created = await _request(portal, procedure="T2", country="LV", person=ANNA)
            store = open_payload_store(node)
            location = None
            for _ in range(200):
                async with node.engine.connect() as conn:
                    rows = (await conn.execute(select(as4_outbound.c.payload_ids).where(
                        as4_outbound.c.pmode_id.like("%ExceptionResponse"),
                        as4_outbound.c.status == "pending"))).all()
                for row in rows:
                    first = json.loads(row.payload_ids)[0]
                    answer = parse_message(await asyncio.to_thread(lambda p=first: store.open(p).read_all()))
                    assert isinstance(answer, ExceptionResponse)
                    location = answer.exception.preview_location
                if location:
                    break
                await asyncio.sleep(0.05)
            assert location, "the provider did not answer request #1 with a PreviewLocation"
            session = await previews.user_arrived(_token(location))
            decided = await previews.decide(session.id, True)
            assert decided.request2_id is None  # request #2 has not reached the provider yet
            _, view = await portal.get(f"/api/oots/requests/{created['id']}")
            assert view["state"] == "exchanging" and view["exchanges"][0]["state"] == "sent"
        finally:
            await resume_partner(node, net.pair.requester.name, actor="test")
    finally:
        await node.close()
    done = await settled(portal, created["id"])
    assert done["state"] == "completed" and len(done["evidence"]) == 1


async def test_provider_killed_while_holding_request_2_nothing_lost(net: Net, portal: BackendClient,
                                                                     previews: PreviewService) -> None:
    """SIGKILL of the provider while request #2 waits for the user: the user decides meanwhile (the decision port
    works on the database), the restarted process takes the message over when its lease expires and answers."""
    from gateway.db.oots_schema import oots_preview_session

    created, pending = await _preview_pending(portal, procedure="T2", country="LV", person=ANNA)
    location = pending["exchanges"][0]["preview_location"]
    node = await net.pair.provider.open()
    try:
        for _ in range(200):  # until request #2 is held by the provider
            async with node.engine.connect() as conn:
                held = (await conn.execute(select(oots_preview_session.c.id).where(
                    oots_preview_session.c.request2_id == pending["exchanges"][0]["edm_request_id"]))).first()
            if held is not None:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("request #2 did not reach the provider")
    finally:
        await node.close()
    net.provider_proc.kill()
    try:
        session = await previews.user_arrived(_token(location))
        await previews.decide(session.id, True)
    finally:
        net.provider_proc.start()
    done = await settled(portal, created["id"], timeout_s=30)
    assert done["state"] == "completed" and len(done["evidence"]) == 1, done


async def test_openapi_describes_every_route(portal: BackendClient) -> None:
    from aiohttp import web

    from gateway.oots_requester_api import RequesterApi

    async with portal.http.get(f"{portal.node.url}/api/oots/openapi.json", headers=await portal.headers()) as resp:
        assert resp.status == 200
        spec = await resp.json()
    app = web.Application()
    RequesterApi(None).add_routes(app)  # type: ignore[arg-type]
    routes = {(r.method.lower(), r.resource.canonical) for r in app.router.routes()  # type: ignore[union-attr]
              if r.method != "HEAD"}
    assert routes == {(m, p) for p, ops in spec["paths"].items() for m in ops}


async def test_loa_too_low_is_refused_by_the_provider(portal: BackendClient) -> None:
    low = {**ANNA, "level_of_assurance": "Low"}
    created = await _request(portal, procedure="T2", country="LV", person=low, preview_allowed=False)
    done = await settled(portal, created["id"])
    assert done["state"] == "failed" and done["error"]["code"] == "EDM:ERR:0001", done["error"]


async def test_portal_input_is_checked_and_requests_are_isolated(net: Net, portal: BackendClient) -> None:
    for body, code in (({"procedure": "T2", "country": "lv", "person": ANNA}, "OOTS_REQ_COUNTRY"),
                       ({"procedure": "T2", "country": "LV", "person": {"family_name": "X"}}, "OOTS_REQ_PERSON"),
                       ({"procedure": "T2", "country": "LV", "person": {**ANNA, "level_of_assurance": "Top"}},
                        "OOTS_REQ_LOA"),
                       ({"country": "LV", "person": ANNA}, "OOTS_REQ_PROCEDURE")):
        status, problem = await create(portal, **body)
        assert (status, problem["code"]) == (400, code)
    status, failed = await create(portal, procedure="NOPE", country="LV", person=ANNA)
    assert status == 201 and failed["state"] == "failed" and failed["error"]["code"].startswith("EB:")
    async with portal.http.get(f"{portal.node.url}/api/oots/requests/{failed['id']}") as resp:
        assert resp.status == 401
    other = await _other_portal(portal)
    async with portal.http.get(f"{portal.node.url}/api/oots/requests/{failed['id']}", headers=other) as resp:
        assert resp.status == 404 and (await resp.json())["code"] == "not-found"
    async with portal.http.get(f"{portal.node.url}/api/oots/requests", headers=other) as resp:
        assert (await resp.json())["requests"] == []
    status, mine = await portal.get("/api/oots/requests")
    assert failed["id"] in [r["id"] for r in mine["requests"]]


async def _other_portal(portal: BackendClient) -> dict[str, str]:
    from gateway.auth.clients import register_client

    node = await portal.node.open()
    try:
        other = await register_client(node, f"other portal {uuid.uuid4().hex[:6]}", ("portal",), with_secret=True,
                                      actor="test")
    finally:
        await node.close()
    async with portal.http.post(f"{portal.node.url}/oauth2/token", data={"grant_type": "client_credentials"},
                                headers={"Authorization": aiohttp.encode_basic_auth(other.client.client_id,
                                                                                    other.secret or "")}) as resp:
        return {"Authorization": f"Bearer {(await resp.json())['access_token']}"}


# --- hand-made EDM requests over AS4 (what a foreign requester might send) ------------------------------------

async def _raw(net: Net, portal: BackendClient, request: QueryRequest, body: bytes | None = None) -> ExceptionResponse:
    """Send an EDM request over the OOTS PMode through the backend API and return the provider's answer (the
    requester node's OOTS service takes it as unmatched; its payloads are kept)."""
    props = [{"name": "originalSender", "value": "LV40003011203", "type": "urn:cef.eu:names:identifier:EAS:9939"},
             {"name": "finalRecipient", "value": request.evidence_provider.identifier.value,
              "type": request.evidence_provider.identifier.scheme_id or ""}]
    props = [{k: v for k, v in p.items() if v} for p in props]
    if net.version == "oots-edm:v2.0":
        props += [{"name": "ExchangeId", "value": str(uuid.uuid4())},
                  {"name": "SpecificationId", "value": net.version}]
    sent = await portal.submit(net.request_pmode, [(REGREP_MIME, body or to_bytes(request))],
                               service=SERVICE.value, service_type=SERVICE.type, action="ExecuteQueryRequest",
                               properties=props)
    for _ in range(300):
        for document, ref in await _received(net.pair.requester):
            if ref == sent:
                answer = parse_message(document)
                assert isinstance(answer, ExceptionResponse)
                return answer
        await asyncio.sleep(0.05)
    raise AssertionError(f"no answer to {sent}")


async def _received(node: DevNode) -> list[tuple[bytes, str | None]]:
    """Every RegRep document this node received over OOTS PModes, with the MessageId it refers to."""
    opened = await node.open()
    try:
        async with opened.engine.connect() as conn:
            rows = (await conn.execute(select(as4_inbound).where(as4_inbound.c.service == SERVICE.value))).all()
        store = open_payload_store(opened)
        out = []
        for row in rows:
            for view in json.loads(row.payloads or "[]"):
                if view["content_type"].startswith(REGREP_MIME):
                    data = await asyncio.to_thread(lambda v=view: store.open(v["payload_id"]).read_all())
                    out.append((data, json.loads(row.user_message).get("ref_to_message_id")))
        return out
    finally:
        await opened.close()


async def test_unauthorised_requester_is_refused(net: Net, portal: BackendClient) -> None:
    stranger = Agent(Identifier("XX000000000", "urn:cef.eu:names:identifier:EAS:9939"), (Text("Unknown", "EN"),),
                     None, "ER")
    request = samples.request(VERSIONS[net.version], evidence_requesters=(stranger,), possibility_for_preview=False,
                              id=f"urn:uuid:{uuid.uuid4()}")
    answer = await _raw(net, portal, request)
    assert answer.exception.code == "EDM:ERR:0002" and not answer.exception.preview_required
    assert "XX000000000" in (answer.exception.detail or "")


async def test_invalid_edm_is_answered_0003_naming_the_rule(net: Net, portal: BackendClient) -> None:
    request = samples.request(VERSIONS[net.version], evidence_requesters=(samples.REQUESTER,),
                              preview_location=INVALID_ON_PURPOSE.decode(), id=f"urn:uuid:{uuid.uuid4()}")
    answer = await _raw(net, portal, request)
    assert answer.exception.code == "EDM:ERR:0003" and "OOTS-REQ-006" in (answer.exception.detail or "")


async def test_forged_and_replayed_preview_locations(net: Net, portal: BackendClient,
                                                     previews: PreviewService) -> None:
    base = dict(evidence_requesters=(samples.REQUESTER,), natural_person=samples.PERSON)
    forged = samples.request(VERSIONS[net.version], preview_location=f"{PREVIEW_BASE}/forged-token",
                             id=f"urn:uuid:{uuid.uuid4()}", **base)
    answer = await _raw(net, portal, forged)
    assert answer.exception.code == "EDM:ERR:0006"
    # A finished preview's location used again by another request #2:
    created, pending = await _preview_pending(portal, procedure="T2", country="LV", person=ANNA)
    location = pending["exchanges"][0]["preview_location"]
    session = await previews.user_arrived(_token(location))
    await previews.decide(session.id, True)
    assert (await settled(portal, created["id"]))["state"] == "completed"
    replay = samples.request(VERSIONS[net.version], preview_location=location, id=f"urn:uuid:{uuid.uuid4()}",
                             **{**base, "natural_person": samples.PERSON})
    answer = await _raw(net, portal, replay)
    assert answer.exception.code in ("EDM:ERR:0006", "EDM:ERR:0003")


async def test_forged_response_without_the_ebms_corners_fails_the_exchange(net: Net, portal: BackendClient) -> None:
    """An answer whose ebMS header does not match the EDM it carries (no originalSender/finalRecipient) is not
    taken as the provider's answer: the exchange fails with OOTS_REQ_INVALID_RESPONSE naming the problem."""
    created, pending = await _preview_pending(portal, procedure="T2", country="LV", person=ANNA)
    (exchange,) = pending["exchanges"]
    forged = dataclasses.replace(samples.response(VERSIONS[net.version], items=0),
                                 request_id=exchange["edm_request_id"], response_id=FORGED_RESPONSE_ID)
    profile = AS4_PROFILES[net.version]
    props = ([{"name": "ExchangeId", "value": "x"}, {"name": "SpecificationId", "value": net.version}]
             if net.version == "oots-edm:v2.0" else None)
    provider_side = BackendClient(net.pair.provider, portal.http)
    await provider_side.submit(oots_pmode_id("to", net.pair.requester.name, profile, "ExecuteQueryResponse"),
                               [(REGREP_MIME, to_bytes(forged))], service=SERVICE.value, service_type=SERVICE.type,
                               action="ExecuteQueryResponse", **({"properties": props} if props else {}))
    done = await settled(portal, created["id"])
    assert done["state"] == "failed" and done["error"]["code"] == "OOTS_REQ_INVALID_RESPONSE"
    assert "originalSender" in done["error"]["detail"] and done["evidence"] == []


async def test_every_message_exchanged_validates_and_audit_has_no_content(net: Net) -> None:
    """Runs last in the module: every RegRep document either node received validates (our rules for the
    version), every response cross-validates with its request, and the audit names ids, not evidence."""
    documents = [d for node in (net.pair.requester, net.pair.provider) for d, _ in await _received(node)
                 if INVALID_ON_PURPOSE not in d]
    assert len(documents) > 20
    requests: dict[str, QueryRequest] = {}
    answers = []
    for document in documents:
        report = validate_bytes(document)
        assert report.valid, [f.as_dict() for f in report.findings if f.fatal]
        message = parse_message(document)
        if isinstance(message, QueryRequest):
            requests[message.id] = message
        else:
            answers.append(message)
    crossed = 0
    for answer in answers:
        if answer.response_id == FORGED_RESPONSE_ID:
            continue
        if answer.request_id in requests and isinstance(answer, QueryResponse | ExceptionResponse):
            assert cross_check(requests[answer.request_id], answer) == []
            crossed += 1
    assert crossed >= 10
    for dev in (net.pair.requester, net.pair.provider):  # both roles audit every exchange step
        node = await dev.open()
        try:
            async with node.engine.connect() as conn:
                rows = (await conn.execute(select(audit_record.c.event, audit_record.c.details,
                                                  audit_record.c.correlation_id)
                                           .where(audit_record.c.event.like("oots.exchange.%")))).all()
        finally:
            await node.close()
        assert len(rows) >= 10, dev.name
        for row in rows:
            details = json.loads(row.details)
            assert {"message_id", "requester", "provider", "evidence_type", "outcome"} <= set(details)
            assert details["message_id"] and details["evidence_type"] and row.correlation_id
            assert "D-LU-2012" not in row.details and "Bērziņa" not in row.details  # no content, no names
