"""Discovery plugged into the node: a backend submits through the API to a participant identifier only; the node
finds the access point through a real DNS server (dnsmasq) and the SMP publisher (SMP 2.0, signed), stores the
PMode it built, and its sender delivers over HTTPS (TLS checked against the partner's CA) with the receipt checked
against the published certificate. The receiving node has no PMode for the sender: it accepts it because the
sender's certificate chains to the network's AS4 anchor, and delivers it to its configured backend. Both
eDelivery profiles; plus the refusals a backend sees (unknown participant, discovery not configured)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from as4.profiles import EDELIVERY_1_15, EDELIVERY_2_0, As4Profile
from gateway.as4_pmodes import PModeStore
from gateway.as4_receiver import AS4_RECEIVER_KEY
from gateway.as4_sender import As4Sender
from gateway.auth.clients import register_client
from gateway.db.schema import as4_inbound, as4_outbound
from gateway.runtime import Node
from gateway.smp_discovery import client_tls
from gateway.smp_publisher import build_documents, publisher_app
from gateway.web.app import build_app
from smp_client.hashing import dns_name
from smp_client.model import Flavour, ProcessGroup, ServiceMetadata
from tests.as4.secfixtures import pki
from tests.conftest import make_settings
from tests.smp_client.dnsmasq import Dnsmasq, DnsZone, Naptr
from tests.smp_client.servers import server_tls, start_app
from tests.smp_client.smpfixtures import smp_keys
from tests.smp_client.test_as4_discovered import ACTION, DOC, PROCESS, QUERY, RECEIVER, ZONE, _published_endpoint

pytestmark = pytest.mark.slow


async def _token(http: aiohttp.ClientSession, base: str, node: Node) -> str:
    created = await register_client(node, "backend", ("portal", "register"), with_secret=True, actor="test")
    async with http.post(f"{base}/oauth2/token", data={"grant_type": "client_credentials"}, headers={
            "Authorization": aiohttp.encode_basic_auth(created.client.client_id, created.secret or "")}) as resp:
        return str((await resp.json())["access_token"])


async def _submit(http: aiohttp.ClientSession, base: str, token: str, meta: dict) -> tuple[int, dict]:
    form = aiohttp.FormData()
    form.add_field("metadata", json.dumps(meta), content_type="application/json")
    form.add_field("payload", QUERY, content_type="application/xml", filename="q.xml")
    async with http.post(f"{base}/api/as4/messages", data=form, headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status, await r.json()


@pytest.mark.parametrize("profile", [EDELIVERY_1_15, EDELIVERY_2_0], ids=lambda p: p.name)
async def test_backend_submits_to_a_participant_id_and_the_node_finds_the_partner(
        tmp_path: Path, dnsmasq: Callable[[DnsZone], Dnsmasq], profile: As4Profile) -> None:
    keys = pki()
    trust = str(keys.node_dir / "trust")
    receiver = await Node.open(make_settings(
        tmp_path / "b", f"sqlite:///{tmp_path / 'b.db'}", pki__dir=str(keys.node_dir), smp__as4_trust_dir=trust,
        smp__inbound_backend="c-register-b", smp__inbound_profile=profile.name))
    b_runner, b_base = await start_app(build_app(receiver), tls=server_tls())
    service = ServiceMetadata(Flavour.OASIS_2, RECEIVER, DOC,
                              (ProcessGroup((PROCESS,), (_published_endpoint(f"{b_base}/as4", profile),)),))
    smp_runner, smp_base = await start_app(publisher_app(build_documents([service], smp_keys().signer)),
                                           tls=server_tls())
    server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(RECEIVER, ZONE), f"!.*!{smp_base}!")]))
    host, port = server.address
    sender = await Node.open(make_settings(
        tmp_path / "a", f"sqlite:///{tmp_path / 'a.db'}", pki__dir=str(keys.node_dir), smp__trust_dir=trust,
        smp__dns=f"{host}:{port}", smp__sml_zone=ZONE, smp__api="oasis-2", smp__tls_trust_dir=trust,
        smp__as4_trust_dir=trust, smp__receiver_party_id="LV-GW", smp__sender_party_id="EE-AP"))
    unconfigured = await Node.open(make_settings(tmp_path / "c", f"sqlite:///{tmp_path / 'c.db'}",
                                                 pki__dir=str(keys.node_dir)))
    a_app = build_app(sender)
    a_runner, a_base = await start_app(a_app)
    c_runner, c_base = await start_app(build_app(unconfigured))
    try:
        async with aiohttp.ClientSession() as http:
            token = await _token(http, a_base, sender)
            ids = {"participant": RECEIVER.full, "document_type": DOC.full, "process": PROCESS.full, "action": ACTION}
            status, body = await _submit(http, a_base, token, ids)
            assert status == 202, body
            message_id = body["message_id"]
            status, refused = await _submit(http, a_base, token, {**ids, "participant": "iso6523-actorid-upis::0088:1"})
            assert (status, refused["code"]) == (502, "discovery-failed") and "SML_" in refused["detail"]
            status, refused = await _submit(http, c_base, await _token(http, c_base, unconfigured), ids)
            assert (status, refused["code"]) == (409, "discovery-not-configured")
        stored = [p for p in await PModeStore(sender.engine).active() if p.id.startswith("dyn:")]
        assert [(p.profile_name, p.endpoint) for p in stored] == [(profile.name, f"{b_base}/as4")]
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_tls(trust))) as http:
            outbox = As4Sender(sender, PModeStore(sender.engine), a_app[AS4_RECEIVER_KEY].payloads, http)
            assert await outbox.run_once() == 1
        async with sender.engine.connect() as conn:
            row = (await conn.execute(select(as4_outbound).where(as4_outbound.c.message_id == message_id))).one()
        assert row.status == "delivered", (row.last_error_code, row.last_error_text)
        async with receiver.engine.connect() as conn:
            got = (await conn.execute(select(as4_inbound))).one()
        assert (got.message_id, got.client_id, got.pmode_id) == (message_id, "c-register-b", "dyn:edelivery:inbound")
    finally:
        for runner in (a_runner, c_runner, smp_runner, b_runner):
            await runner.cleanup()
        for node in (sender, unconfigured, receiver):
            await node.close()
