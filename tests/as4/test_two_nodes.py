"""Two node processes on loopback (gateway.devnet) exchanging AS4 messages through the backend API: every
profile both ways, webhook push and pull, isolation between clients, pause/resume, ping, the NR archive,
receiver down → retries → delivery, and one delivery per message even when the partner resends."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from gateway.as4_delivery import MESSAGE_ID_HEADER, SIGNATURE_HEADER, verify_push
from gateway.devnet import DEVNET_PROFILES, BackendClient, DevNode, NodeProcess, free_port, prepare_pair

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevNode, DevNode]]:
    base = tmp_path_factory.mktemp("devnet")
    lv = DevNode("LV-GW", base / "lv", free_port())
    ee = DevNode("EE-GW", base / "ee", free_port())
    asyncio.run(prepare_pair(lv, ee, retry=(0.5, 0.5, 1.0, 1.0, 2.0)))
    yield lv, ee


@pytest.fixture(scope="module")
def running(network: tuple[DevNode, DevNode]) -> Iterator[tuple[NodeProcess, NodeProcess]]:
    procs = (NodeProcess(network[0]), NodeProcess(network[1]))
    for proc in procs:
        proc.start()
    try:
        yield procs
    finally:
        for proc in procs:
            proc.stop()


@pytest.fixture
async def apis(network, running) -> AsyncIterator[tuple[BackendClient, BackendClient]]:
    async with aiohttp.ClientSession() as http:
        yield BackendClient(network[0], http), BackendClient(network[1], http)


async def _pull_one(api: BackendClient, message_id: str) -> dict:
    return await api.wait_for(f"/api/as4/inbox/{message_id}", lambda m: m["status"] == "received")


async def _download(api: BackendClient, message_id: str, index: int) -> tuple[bytes, dict[str, str]]:
    async with api.http.get(f"{api.node.url}/api/as4/inbox/{message_id}/payloads/{index}",
                            headers=await api.headers()) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.read(), dict(resp.headers)


@pytest.mark.parametrize("profile", DEVNET_PROFILES, ids=lambda p: p.name)
async def test_every_profile_both_ways_through_the_backend_apis(apis, profile) -> None:
    lv, ee = apis
    for sender, receiver in ((lv, ee), (ee, lv)):
        xml = b"<doc>" + profile.name.encode() + b"</doc>"
        pdf = b"%PDF-1.7\n" + bytes(range(256)) * 300
        message_id = await sender.submit(
            f"to-{receiver.node.name}-{profile.name}", [("application/xml", xml), ("application/pdf", pdf)],
            conversation_id="conv-42", properties=[{"name": "originalSender", "value": "urn:lv:portal"}])
        sent = await sender.wait_for(f"/api/as4/messages/{message_id}", lambda s: s["status"] == "delivered")
        assert sent["receipt"] is True and sent["attempts"] == 1
        got = await _pull_one(receiver, message_id)
        assert got["from"]["ids"][0][0] == sender.node.name and got["conversation_id"] == "conv-42"
        assert got["properties"] == [{"name": "originalSender", "value": "urn:lv:portal", "type": None}]
        assert [p["content_type"] for p in got["payloads"]] == ["application/xml", "application/pdf"]
        body, headers = await _download(receiver, message_id, 1)
        assert body == pdf and headers["X-Content-SHA256"] == hashlib.sha256(pdf).hexdigest()
        assert (await _download(receiver, message_id, 0))[0] == xml
        status, acked = await receiver.post(f"/api/as4/inbox/{message_id}/ack")
        assert status == 200 and acked["acknowledged_now"] is True
        status, again = await receiver.post(f"/api/as4/inbox/{message_id}/ack")
        assert status == 200 and again["acknowledged_now"] is False  # delivered once
        status, listed = await receiver.get("/api/as4/inbox")
        assert message_id not in [m["message_id"] for m in listed["messages"]]
        async with receiver.http.get(f"{receiver.node.url}/api/as4/inbox/{message_id}/payloads/0",
                                     headers=await receiver.headers()) as resp:
            assert resp.status == 410  # payloads deleted at the acknowledgement (retention 0)


async def test_webhook_push_is_signed_and_delivers_once(apis) -> None:
    lv, ee = apis
    pushes: list[tuple[bytes, bytes, str, str]] = []
    fail_first = {"left": 1}

    async def hook(request: web.Request) -> web.Response:
        if fail_first["left"]:
            fail_first["left"] -= 1
            return web.Response(status=503)  # the backend is busy once: the push is retried
        reader = await request.multipart()
        document = await (await reader.next()).read()  # type: ignore[union-attr]
        payload = await (await reader.next()).read()  # type: ignore[union-attr]
        pushes.append((document, payload, request.headers[SIGNATURE_HEADER], request.headers[MESSAGE_ID_HEADER]))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        status, registered = await _put(ee, {"url": f"http://127.0.0.1:{port}/hook"})
        assert status == 200
        secret = registered["secret"]
        message_id = await lv.submit("to-EE-GW-edelivery-2.0", [("text/plain", b"pushed")])
        for _ in range(200):
            if pushes:
                break
            await asyncio.sleep(0.05)
        assert len(pushes) == 1
        document, payload, header, pushed_id = pushes[0]
        assert json.loads(document)["message_id"] == message_id == pushed_id and payload == b"pushed"
        assert verify_push(secret, header, document)
        assert not verify_push("wrong-secret", header, document)
        assert not verify_push(secret, header, document.replace(b"text/plain", b"text/html"))
        got = await ee.wait_for(f"/api/as4/inbox/{message_id}", lambda m: m["status"] == "delivered")
        assert got["status"] == "delivered"
        await asyncio.sleep(1.0)
        assert len(pushes) == 1  # never pushed again once acknowledged
    finally:
        await _delete(ee, "/api/as4/webhook")
        await runner.cleanup()


async def _put(api: BackendClient, payload: dict) -> tuple[int, dict]:
    async with api.http.put(f"{api.node.url}/api/as4/webhook", json=payload, headers=await api.headers()) as resp:
        return resp.status, await resp.json()


async def _delete(api: BackendClient, path: str) -> int:
    async with api.http.delete(f"{api.node.url}{path}", headers=await api.headers()) as resp:
        return resp.status


async def _other_client_token(api: BackendClient) -> str:
    """A second backend client on the same node (role portal only)."""
    from gateway.auth.clients import register_client

    node = await api.node.open()
    try:
        other = await register_client(node, "other portal", ("portal",), with_secret=True, actor="test")
    finally:
        await node.close()
    async with api.http.post(f"{api.node.url}/oauth2/token", data={"grant_type": "client_credentials"},
                             headers={"Authorization": aiohttp.encode_basic_auth(other.client.client_id,
                                                                                 other.secret or "")}) as resp:
        return str((await resp.json())["access_token"])


async def test_refusals_have_codes_and_clients_see_only_their_own(apis) -> None:
    lv, _ee = apis
    with pytest.raises(RuntimeError, match="unknown-pmode"):
        await lv.submit("no-such-pmode", [("text/plain", b"x")])
    with pytest.raises(RuntimeError, match="invalid-request"):
        await lv.submit("to-EE-GW-edelivery-2.0", [])
    with pytest.raises(RuntimeError, match="invalid-request"):
        await lv.submit("to-EE-GW-edelivery-2.0", [("text/plain", b"x")], colour="blue")
    status, body = await _put(lv, {"url": "ftp://example.org/hook"})
    assert (status, body["code"]) == (400, "invalid-webhook-url")
    message_id = await lv.submit("to-EE-GW-edelivery-2.0", [("text/plain", b"mine")])

    other = {"Authorization": f"Bearer {await _other_client_token(lv)}"}
    # Another client's message and another client's PMode answer exactly like missing ones.
    async with lv.http.get(f"{lv.node.url}/api/as4/messages/{message_id}", headers=other) as resp:
        assert resp.status == 404 and (await resp.json())["code"] == "not-found"
    form = aiohttp.FormData()
    form.add_field("metadata", json.dumps({"pmode_id": "from-EE-GW-edelivery-2.0"}), content_type="application/json")
    form.add_field("payload", b"x", content_type="text/plain", filename="p")
    async with lv.http.post(f"{lv.node.url}/api/as4/messages", data=form, headers=other) as resp:
        assert resp.status == 404 and (await resp.json())["code"] == "unknown-pmode"
    async with lv.http.get(f"{lv.node.url}/api/as4/messages", headers=other) as resp:
        assert (await resp.json())["messages"] == []
    async with lv.http.get(f"{lv.node.url}/api/as4/messages/{message_id}") as resp:
        assert resp.status == 401
    status, own = await lv.get(f"/api/as4/messages/{message_id}")
    assert status == 200 and own["message_id"] == message_id


async def test_openapi_describes_every_route(apis) -> None:
    lv, _ = apis
    async with lv.http.get(f"{lv.node.url}/api/as4/openapi.json") as resp:
        assert resp.status == 200
        spec = await resp.json()
    from gateway.as4_backend_api import BackendApi

    async def handler(_request: web.Request) -> web.Response:
        return web.Response()

    app = web.Application()
    handlers = type("Handlers", (), {name: staticmethod(handler) for name in vars(BackendApi)
                                     if not name.startswith("_")})
    BackendApi.add_routes(handlers(), app)  # type: ignore[arg-type]
    routes = {(r.method.lower(), r.resource.canonical) for r in app.router.routes()  # type: ignore[union-attr]
              if r.method != "HEAD"}
    described = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert routes == described


def _cli(node: DevNode, *args: str) -> tuple[int, str]:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(node.environ())
    done = subprocess.run([sys.executable, "-m", "gateway.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    return done.returncode, done.stdout + done.stderr


async def test_pause_resume_ping_and_evidence(apis) -> None:
    lv, ee = apis
    code, out = await asyncio.to_thread(_cli, lv.node, "as4", "ping", "--pmode", "to-EE-GW-edelivery-1.15", "--json")
    assert code == 0, out
    assert json.loads(out)["ok"] is True
    assert (await asyncio.to_thread(_cli, lv.node, "as4", "pause", "EE-GW"))[0] == 0
    code, out = await asyncio.to_thread(_cli, lv.node, "as4", "pause", "EE-GW")
    assert code != 0 and "already-paused" in out
    message_id = await lv.submit("to-EE-GW-edelivery-2.0", [("text/plain", b"held")])
    await asyncio.sleep(1.5)
    _status, held = await lv.get(f"/api/as4/messages/{message_id}")
    assert held["status"] == "pending" and held["attempts"] == 0  # nothing claimed while paused
    assert (await asyncio.to_thread(_cli, lv.node, "as4", "resume", "EE-GW"))[0] == 0
    await lv.wait_for(f"/api/as4/messages/{message_id}", lambda s: s["status"] == "delivered")
    code, out = await asyncio.to_thread(_cli, lv.node, "as4", "evidence", message_id, "--json")
    assert code == 0, out
    kinds = {(item["direction"], item["kind"]) for item in json.loads(out)}
    assert kinds == {("outbound", "message"), ("outbound", "receipt")}
    code, out = await asyncio.to_thread(_cli, ee.node, "as4", "evidence", message_id, "--json")
    assert {(i["direction"], i["kind"]) for i in json.loads(out)} == {("inbound", "message"), ("inbound", "receipt")}
    code, out = await asyncio.to_thread(_cli, lv.node, "as4", "ping", "--pmode", "nope", "--json")
    assert code != 0 and json.loads(out)["code"] == "unknown-pmode"


async def test_receiver_down_then_up_is_retried_and_delivered_once(apis, running) -> None:
    lv, ee = apis
    _, ee_proc = running
    ee_proc.stop()
    try:
        message_id = await lv.submit("to-EE-GW-edelivery-2.0", [("text/plain", b"later")])
        retried = await lv.wait_for(f"/api/as4/messages/{message_id}", lambda s: s["attempts"] >= 2, timeout_s=20)
        assert retried["status"] == "pending" and retried["last_error_code"] == "EBMS:0005"
    finally:
        ee_proc.start()
    await lv.wait_for(f"/api/as4/messages/{message_id}", lambda s: s["status"] == "delivered", timeout_s=30)
    got = await _pull_one(ee, message_id)
    assert got["message_id"] == message_id
