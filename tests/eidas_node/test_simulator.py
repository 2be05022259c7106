"""The foreign proxy-service simulator over real HTTP on loopback, driven like the connector drives it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
import yarl

from eidas_node import attributes as attrs
from eidas_node.metadata import build_sp_metadata, parse_idp_metadata
from eidas_node.request import (
    AuthnRequestSpec,
    RequestedAttribute,
    ServiceProvider,
    build_authn_request,
    redirect_binding,
)
from eidas_node.response import ResponseChecker, ResponseExpectations
from eidas_node.saml import LOA_SUBSTANTIAL, POST_BINDING, REDIRECT_BINDING
from eidas_node.service import check_response
from eidas_node.simulator.app import Simulator, decode_form_response
from eidas_node.simulator.keys import KeyPair, make_key
from eidas_node.simulator.responses import Faults
from eidas_node.stores import MemoryPendingRequests, MemoryReplayCache, PendingRequest

SP_ENTITY = "https://node.example.lv/eidas/metadata"
ACS = "https://node.example.lv/eidas/acs"


@dataclass
class Harness:
    sim: Simulator
    sp_key: KeyPair
    session: aiohttp.ClientSession
    checker: ResponseChecker
    pending: MemoryPendingRequests
    replay: MemoryReplayCache


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    sim = Simulator.create(["DE", "EL", "BG"])
    await sim.start()
    now = datetime.now(UTC)
    sp_key = make_key("connector", "ec", now)
    sim.register_sp(build_sp_metadata(entity_id=SP_ENTITY, acs_url=ACS, country="LV", sp_type="public",
                                      signer=sp_key.signer, signing_certificates=[sp_key.certificate],
                                      encryption_certificates=[sp_key.certificate], now=now), [sp_key.certificate])
    checker = ResponseChecker(ResponseExpectations(SP_ENTITY, ACS), lambda info: sp_key.decrypter)
    async with aiohttp.ClientSession() as session:
        yield Harness(sim, sp_key, session, checker, MemoryPendingRequests(), MemoryReplayCache())
    await sim.stop()


async def _login(h: Harness, country: str, *, user: str | None = None, binding: str = POST_BINDING,
                 action: str = "login") -> tuple[bytes, str | None, object]:
    now = datetime.now(UTC)
    async with h.session.get(f"{h.sim.base_url}/{country}/metadata") as reply:
        metadata = parse_idp_metadata(await reply.read(), anchors=[h.sim.trust_anchor(country)], country=country,
                                      now=now)
    spec = AuthnRequestSpec(metadata.sso[binding], LOA_SUBSTANTIAL,
                            [RequestedAttribute(n, True) for n in attrs.NATURAL_MDS])
    sp = ServiceProvider(SP_ENTITY, ACS)
    if binding == POST_BINDING:
        built = build_authn_request(sp, spec, now, signer=h.sp_key.signer)
        import base64

        reply = await h.session.post(spec.destination, data={"SAMLRequest": base64.b64encode(built.xml).decode(),
                                                               "RelayState": "rs-1"})
    else:
        built = build_authn_request(sp, spec, now, signer=None)
        url = redirect_binding(built.xml, spec.destination, "rs-1", h.sp_key.signer)
        reply = await h.session.get(yarl.URL(url, encoded=True))  # exactly the bytes that were signed
    page = await reply.text()
    assert reply.status == 200, page
    login_id = re.search(r'name="login" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    user = user or re.search(r'name="user" id="u-[^"]+" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    async with h.session.post(f"{h.sim.base_url}/{country}/login",
                              data={"login": login_id, "user": user, "action": action}) as reply:
        data, relay = decode_form_response(await reply.text())
    await h.pending.put(PendingRequest(built.request_id, country, metadata.entity_id, LOA_SUBSTANTIAL,
                                       attrs.NATURAL_MDS, now, now + timedelta(minutes=10)))
    return data, relay, metadata


async def _check(h: Harness, data: bytes, metadata):  # type: ignore[no-untyped-def]
    return await check_response(h.checker, data, metadata_for=lambda c: metadata,
                                metadata_by_issuer=lambda i: metadata, pending=h.pending, replay=h.replay,
                                now=datetime.now(UTC))


@pytest.mark.parametrize("binding", [POST_BINDING, REDIRECT_BINDING])
async def test_login_through_simulator(harness: Harness, binding: str) -> None:
    data, relay, metadata = await _login(harness, "EL", binding=binding)
    assert relay == "rs-1"
    report, taken = await _check(harness, data, metadata)
    assert report.ok, report.failure
    assert report.identity.natural.family_name == "Παπαδόπουλος"  # type: ignore[union-attr]
    assert taken is not None
    again, _ = await _check(harness, data, metadata)
    assert not again.ok


async def test_cancel_gives_request_denied(harness: Harness) -> None:
    data, _, metadata = await _login(harness, "DE", action="cancel")
    report, _ = await _check(harness, data, metadata)
    assert report.failure is not None and report.failure.name == "response.status"
    assert report.status is not None and report.status.endswith("RequestDenied")


@pytest.mark.parametrize("faults", [Faults(response_xsw=1), Faults(assertion_xsw=7), Faults(unsigned_assertion=True),
                                    Faults(audience="https://x.example/")])
async def test_fault_switches_reach_the_connector_refused(harness: Harness, faults: Faults) -> None:
    harness.sim.countries["BG"].faults = faults
    data, _, metadata = await _login(harness, "BG")
    report, _ = await _check(harness, data, metadata)
    assert not report.ok and report.failure is not None


async def test_unsigned_or_foreign_requests_refused(harness: Harness) -> None:
    import base64

    now = datetime.now(UTC)
    spec = AuthnRequestSpec(f"{harness.sim.base_url}/DE/sso", LOA_SUBSTANTIAL,
                            [RequestedAttribute(attrs.PERSON_IDENTIFIER, True)])
    unsigned = build_authn_request(ServiceProvider(SP_ENTITY, ACS), spec, now, signer=None)
    stranger = build_authn_request(ServiceProvider(SP_ENTITY, ACS), spec, now,
                                   signer=make_key("stranger", "ec", now).signer)
    for built, code in ((unsigned, "EIDAS_REQUEST_UNSIGNED"), (stranger, "EIDAS_REQUEST_SIGNATURE")):
        async with harness.session.post(spec.destination,
                                        data={"SAMLRequest": base64.b64encode(built.xml).decode()}) as reply:
            assert reply.status == 400
            assert (await reply.text()).startswith(code)
