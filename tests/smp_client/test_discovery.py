"""End to end through real parts: dnsmasq (SML) → the local SMP publisher (aiohttp) → verified endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web

from gateway.smp_publisher import build_documents, publisher_app
from smp_client import identifiers
from smp_client.errors import SmpError
from smp_client.hashing import dns_name
from smp_client.lookup import Network, SmpApi, discover
from smp_client.model import Flavour
from smp_client.sml import SmlNetwork
from tests.smp_client.dnsmasq import Dnsmasq, DnsZone, Naptr
from tests.smp_client.servers import fixed_app, start_app
from tests.smp_client.smpfixtures import DOC, PARTICIPANT, PROCESS, metadata, partner_endpoint, smp_keys

ZONE = "sml.test.example"
NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _fresh_now() -> None:
    """Each test validates at its own "now": certificates made later in a long run (the dev CA backdates by
    only 5 minutes) must not look not-yet-valid against a time taken at import."""
    global NOW
    NOW = datetime.now(UTC)
Start = Callable[[DnsZone], Dnsmasq]


def network(server: Dnsmasq, api: SmpApi = "oasis-1", **changes: object) -> Network:
    values: dict[str, object] = {"name": "test", "sml": SmlNetwork(ZONE, require_https=False),
                                 "trust": smp_keys().trust, "api": api, "require_https_endpoint": True,
                                 "nameserver": server.address, "dns_timeout_s": 2.0, "http_timeout_s": 2.0}
    values.update(changes)
    return Network(**values)  # type: ignore[arg-type]


async def _publisher(flavour_1: Flavour = Flavour.OASIS_1, max_age_s: int = 120, **endpoint: object):  # type: ignore[no-untyped-def]
    published = build_documents([metadata(Flavour.OASIS_1, partner_endpoint(**endpoint))], smp_keys().signer,
                                flavour_1=flavour_1, max_age_s=max_age_s)
    return await start_app(publisher_app(published))


@pytest.mark.parametrize(("api", "flavour_1"), [("oasis-1", Flavour.OASIS_1), ("oasis-1", Flavour.PEPPOL),
                                               ("oasis-2", Flavour.OASIS_1)])
async def test_discovery_end_to_end(dnsmasq: Start, api: SmpApi, flavour_1: Flavour) -> None:
    runner, base = await _publisher(flavour_1)
    try:
        server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(PARTICIPANT, ZONE), f"!.*!{base}/!")], ttl=900))
        async with aiohttp.ClientSession() as session:
            found = await discover(identifiers.participant("ISO6523-ACTORID-UPIS::0088:4035811991021"), DOC,
                                   PROCESS, network(server, api), session=session, now=NOW)
    finally:
        await runner.cleanup()
    assert found.smp_url == base
    assert found.endpoint.address == "https://ap.partner.example/as4"
    assert found.ttl_s == 120  # min(DNS 900, HTTP max-age 120), within the bounds
    assert "SMP-PUBLISHER" in found.signer_subject


async def test_ttl_bounds(dnsmasq: Start) -> None:
    runner, base = await _publisher(max_age_s=5)
    try:
        server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(PARTICIPANT, ZONE), f"!.*!{base}!")]))
        async with aiohttp.ClientSession() as session:
            found = await discover(PARTICIPANT, DOC, PROCESS, network(server, min_ttl_s=30), session=session, now=NOW)
    finally:
        await runner.cleanup()
    assert found.ttl_s == 30


async def test_unknown_document_type_is_404(dnsmasq: Start) -> None:
    runner, base = await _publisher()
    try:
        server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(PARTICIPANT, ZONE), f"!.*!{base}!")]))
        async with aiohttp.ClientSession() as session:
            with pytest.raises(SmpError) as caught:
                await discover(PARTICIPANT, identifiers.document_type("busdox-docid-qns::other"), None,
                               network(server), session=session, now=NOW)
    finally:
        await runner.cleanup()
    assert caught.value.code == "SMP_NOT_FOUND"


async def _bad_smp(dnsmasq: Start, handler, **net: object) -> SmpError:  # type: ignore[no-untyped-def]
    runner, base = await start_app(fixed_app(handler))
    try:
        server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(PARTICIPANT, ZONE), f"!.*!{base}!")]))
        async with aiohttp.ClientSession() as session:
            with pytest.raises(SmpError) as caught:
                await discover(PARTICIPANT, DOC, PROCESS, network(server, **net), session=session, now=NOW)
    finally:
        await runner.cleanup()
    return caught.value


async def test_smp_500(dnsmasq: Start) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")
    assert (await _bad_smp(dnsmasq, handler)).code == "SMP_HTTP_STATUS"


async def test_smp_403_and_http_redirect_not_followed(dnsmasq: Start) -> None:
    async def forbidden(request: web.Request) -> web.Response:
        return web.Response(status=403)

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("https://elsewhere.example/")
    assert (await _bad_smp(dnsmasq, forbidden)).code == "SMP_HTTP_UNEXPECTED"
    assert (await _bad_smp(dnsmasq, moved)).code == "SMP_HTTP_UNEXPECTED"


async def test_smp_oversized_streamed_and_declared(dnsmasq: Start) -> None:
    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(64):
            await response.write(b"<" + b"a" * 65535)
        return response

    async def declared(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 300_000)
    assert (await _bad_smp(dnsmasq, chunked, max_bytes=100_000)).code == "SMP_TOO_LARGE"
    assert (await _bad_smp(dnsmasq, declared, max_bytes=100_000)).code == "SMP_TOO_LARGE"


async def test_smp_slow(dnsmasq: Start) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(text="late")
    assert (await _bad_smp(dnsmasq, slow, http_timeout_s=0.5)).code == "SMP_TIMEOUT"


async def test_smp_answers_unsigned_or_for_someone_else(dnsmasq: Start) -> None:
    from smp_client import publish

    unsigned = publish.build(metadata(Flavour.OASIS_1), None)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=unsigned)
    assert (await _bad_smp(dnsmasq, handler)).code == "SMP_SIGNATURE_MISSING"
    other = publish.build(metadata(Flavour.OASIS_1, participant=identifiers.participant(
        "iso6523-actorid-upis::0088:1111")), smp_keys().signer)

    async def elsewhere(request: web.Request) -> web.Response:
        return web.Response(body=other)
    assert (await _bad_smp(dnsmasq, elsewhere)).code == "SMP_PARTICIPANT_MISMATCH"


async def test_expired_endpoint_and_unknown_profile(dnsmasq: Start) -> None:
    runner, base = await _publisher(expiration=datetime(2020, 1, 1, tzinfo=UTC))
    try:
        server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(PARTICIPANT, ZONE), f"!.*!{base}!")]))
        async with aiohttp.ClientSession() as session:
            with pytest.raises(SmpError) as caught:
                await discover(PARTICIPANT, DOC, PROCESS, network(server), session=session, now=NOW)
            assert caught.value.code == "SMP_ENDPOINT_EXPIRED"
            with pytest.raises(SmpError) as caught:
                await discover(PARTICIPANT, DOC, PROCESS, network(server, transport_profiles=("other-profile",)),
                               session=session, now=NOW)
            assert caught.value.code == "SMP_TRANSPORT_PROFILE_UNKNOWN"
    finally:
        await runner.cleanup()


async def test_smp_down(dnsmasq: Start) -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.Response()
    runner, base = await start_app(fixed_app(ok))
    await runner.cleanup()  # the port is now closed
    server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(PARTICIPANT, ZONE), f"!.*!{base}!")]))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(SmpError) as caught:
            await discover(PARTICIPANT, DOC, PROCESS, network(server), session=session, now=NOW)
    assert caught.value.code == "SMP_UNREACHABLE"


@pytest.mark.parametrize("api", ["oasis-1", "oasis-2"])
async def test_redirect_one_hop_checked(dnsmasq: Start, api: SmpApi) -> None:
    from smp_client.lookup import metadata_url
    from smp_client.model import Redirect, ServiceMetadata

    keys = smp_keys()
    target_signer = keys.ec_signer  # the second SMP signs with another (trusted) key
    assert target_signer.certificate is not None and keys.signer.certificate is not None
    target = build_documents([metadata(Flavour.OASIS_1, partner_endpoint("https://redirected.example/as4"))],
                             target_signer)
    t_runner, t_base = await start_app(publisher_app(target))
    href = metadata_url(t_base, api, PARTICIPANT, DOC)

    async def run(named) -> object:  # type: ignore[no-untyped-def]
        redirect = Redirect(href, named.subject.rfc4514_string(), (named,))
        first = build_documents([ServiceMetadata(Flavour.OASIS_1, PARTICIPANT, DOC, (), redirect)], keys.signer)
        runner, base = await start_app(publisher_app(first))
        try:
            server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(PARTICIPANT, ZONE), f"!.*!{base}!")]))
            async with aiohttp.ClientSession() as session:
                try:
                    return await discover(PARTICIPANT, DOC, PROCESS, network(server, api), session=session, now=NOW)
                except SmpError as exc:
                    return exc
        finally:
            await runner.cleanup()

    try:
        found = await run(target_signer.certificate)
        assert not isinstance(found, SmpError), found
        assert found.endpoint.address == "https://redirected.example/as4"  # type: ignore[attr-defined]
        refused = await run(keys.signer.certificate)  # the Redirect names a different certificate
        assert isinstance(refused, SmpError) and refused.code == "SMP_REDIRECT_CERTIFICATE"
    finally:
        await t_runner.cleanup()


async def test_redirect_loop_refused(dnsmasq: Start) -> None:
    from smp_client.model import Redirect, ServiceMetadata

    keys = smp_keys()
    cert = keys.signer.certificate
    assert cert is not None
    holder: dict[str, bytes] = {}

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=holder["doc"])
    runner, base = await start_app(fixed_app(handler))
    redirect = Redirect(f"{base}/again", cert.subject.rfc4514_string(), (cert,))
    from smp_client import publish
    holder["doc"] = publish.build(ServiceMetadata(Flavour.OASIS_1, PARTICIPANT, DOC, (), redirect), keys.signer)
    try:
        server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(PARTICIPANT, ZONE), f"!.*!{base}!")]))
        async with aiohttp.ClientSession() as session:
            with pytest.raises(SmpError) as caught:
                await discover(PARTICIPANT, DOC, PROCESS, network(server), session=session, now=NOW)
    finally:
        await runner.cleanup()
    assert caught.value.code == "SMP_REDIRECT_LOOP"
