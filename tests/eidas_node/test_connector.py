"""The connector's shell: metadata fetched, cached and refreshed; portal requests refused with codes; the
country page in both languages; an ambiguous identity ends as a refusal for user and portal alike."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from eidas_node.mapping import RegisterPerson
from eidas_node.request import AuthnRequestSpec, RequestedAttribute, ServiceProvider, build_authn_request
from eidas_node.saml import LOA_SUBSTANTIAL, EidasError
from eidas_node.simulator.keys import make_key
from gateway.eidas_register import SqlPersonRegister
from tests.eidas_node.stack import login_stack
from tests.eidas_node.test_login_flow import run_login, submit


async def test_metadata_cached_refreshed_and_never_served_expired(tmp_path: Path, db_url: str) -> None:
    async with login_stack(tmp_path, db_url, countries=("DE",)) as stack:
        connector, now = stack.connector, datetime.now(UTC)
        first = await connector.metadata_for("DE", now)
        assert first.country == "DE" and first.entity_id == stack.simulator.countries["DE"].entity_id
        assert await connector.metadata_for("DE", now + timedelta(minutes=1)) is first  # cached, not fetched
        connector.countries["DE"].metadata_url = stack.simulator.base_url + "/XX/metadata"  # refresh will fail
        later = now + timedelta(hours=2)
        assert await connector.metadata_for("DE", later) is first  # still valid: the cached copy serves
        with pytest.raises(EidasError) as expired:
            await connector.metadata_for("DE", now + timedelta(days=2))
        assert expired.value.code == "EIDAS_METADATA_EXPIRED"
        del connector.cache._entries["DE"]  # a node that never fetched it, with the URL now failing
        with pytest.raises(EidasError) as unavailable:
            await connector.metadata_for("DE", now)
        assert unavailable.value.code == "EIDAS_METADATA_UNAVAILABLE"
        with pytest.raises(EidasError) as unknown:
            await connector.metadata_for("FR", now)
        assert unknown.value.code == "EIDAS_COUNTRY_UNKNOWN"


async def test_metadata_signed_by_another_key_is_not_used(tmp_path: Path, db_url: str) -> None:
    async with login_stack(tmp_path, db_url, countries=("DE",)) as stack:
        stack.connector.countries["DE"].anchors = [make_key("someone else", "ec", datetime.now(UTC)).certificate]
        with pytest.raises(EidasError) as refused:
            await stack.connector.metadata_for("DE", datetime.now(UTC))
        assert refused.value.code == "EIDAS_METADATA_SIGNATURE"  # nothing cached to fall back on: the reason


async def test_portal_requests_refused_with_codes(tmp_path: Path, db_url: str) -> None:
    async with login_stack(tmp_path, db_url, countries=("DE",)) as stack, aiohttp.ClientSession() as session:
        now = datetime.now(UTC)
        spec = AuthnRequestSpec(stack.connector.idp_sso_url, LOA_SUBSTANTIAL,
                                [RequestedAttribute("http://eidas.europa.eu/attributes/naturalperson/PersonIdentifier",
                                                    True)])
        portal = stack.portal
        stranger = make_key("stranger", "ec", now)
        cases = [
            (build_authn_request(ServiceProvider("https://unknown.example/md", portal.acs_url), spec, now,
                                 signer=portal.key.signer).xml, "EIDAS_PORTAL_UNKNOWN"),
            (build_authn_request(ServiceProvider(portal.entity_id, portal.acs_url), spec, now, signer=None).xml,
             "EIDAS_REQUEST_UNSIGNED"),
            (build_authn_request(ServiceProvider(portal.entity_id, portal.acs_url), spec, now,
                                 signer=stranger.signer).xml, "EIDAS_REQUEST_SIGNATURE"),
            (build_authn_request(ServiceProvider(portal.entity_id, "https://evil.example/acs"), spec, now,
                                 signer=portal.key.signer).xml, "EIDAS_REQUEST_ACS"),
            (b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", "EIDAS_REQUEST_MALFORMED"),
        ]
        for xml, code in cases:
            async with session.post(stack.connector.idp_sso_url, data={
                    "SAMLRequest": base64.b64encode(xml).decode()}, allow_redirects=False) as reply:
                body = await reply.text()
                assert reply.status == 400, (code, body[:300])
                assert f'id="error-code">{code}<' in body


async def test_country_page_languages_and_unknown_session(tmp_path: Path, db_url: str) -> None:
    async with login_stack(tmp_path, db_url, countries=("DE", "EE")) as stack, aiohttp.ClientSession() as session:
        async with session.get(f"{stack.node_url}/eidas/select?s=nope&lang=en") as reply:
            body = await reply.text()
            assert reply.status == 400 and 'lang="en"' in body and "EIDAS_SESSION_UNKNOWN" in body
        async with session.post(stack.portal.base_url + "/login") as reply:
            page = await reply.text()
        target, data = submit(page, str(reply.url))
        async with session.post(target, data=data) as reply:
            lv = await reply.text()
            url = str(reply.url)
        assert 'lang="lv"' in lv and "Vācija" in lv and "Igaunija" in lv and '<label for="country-DE">' in lv
        async with session.get(url.replace("lang=lv", "lang=en")) as reply:
            en = await reply.text()
        assert 'lang="en"' in en and "Germany" in en and "Estonia" in en and "Continue" in en
        target, data = submit(en, url, {"country": "FR"})  # not configured
        async with session.post(target, data=data) as reply:
            assert reply.status == 400 and "EIDAS_COUNTRY_UNKNOWN" in await reply.text()


async def test_ambiguous_identity_refused_to_user_and_portal(tmp_path: Path, db_url: str) -> None:
    async with login_stack(tmp_path, db_url, countries=("DE",)) as stack:
        register = SqlPersonRegister(stack.node.engine)
        for code in ("121264-11111", "121264-22222"):
            await register.add(RegisterPerson(code, "natural", "Mustermann", "Erika", date(1964, 8, 12),
                                              "register"), datetime.now(UTC))
        page, _ = await run_login(stack, "DE", "erika")
        assert 'id="error-code">EIDAS_MAPPING_AMBIGUOUS<' in page and "national-id" not in page
        assert 'id="return"' in page  # the portal gets a SAML error status through this button


async def test_portal_request_by_redirect_binding(tmp_path: Path, db_url: str) -> None:
    import yarl

    from eidas_node.request import redirect_binding

    async with login_stack(tmp_path, db_url, countries=("DE",)) as stack, aiohttp.ClientSession() as session:
        now = datetime.now(UTC)
        portal = stack.portal
        spec = AuthnRequestSpec(stack.connector.idp_sso_url, LOA_SUBSTANTIAL, [RequestedAttribute(
            "http://eidas.europa.eu/attributes/naturalperson/PersonIdentifier", True)])
        built = build_authn_request(ServiceProvider(portal.entity_id, portal.acs_url), spec, now, signer=None)
        url = redirect_binding(built.xml, spec.destination, "portal-state", portal.key.signer)
        async with session.get(yarl.URL(url, encoded=True)) as reply:
            assert reply.status == 200 and "/eidas/select?s=" in str(reply.url)
        tampered = url.replace("portal-state", "portal-stat3")
        async with session.get(yarl.URL(tampered, encoded=True), allow_redirects=False) as reply:
            assert reply.status == 400 and "EIDAS_REQUEST_SIGNATURE" in await reply.text()


async def test_country_without_the_needed_loa_refused_before_login(tmp_path: Path, db_url: str) -> None:
    from dataclasses import replace

    async with login_stack(tmp_path, db_url, countries=("DE",)) as stack, aiohttp.ClientSession() as session:
        now = datetime.now(UTC)
        metadata = await stack.connector.metadata_for("DE", now)
        stack.connector.cache.put(replace(metadata, loas=("http://eidas.europa.eu/LoA/low",)), now)
        async with session.post(stack.portal.base_url + "/login") as reply:  # the demo portal asks substantial
            page, url = await reply.text(), str(reply.url)
        target, data = submit(page, url)
        async with session.post(target, data=data) as reply:
            page, url = await reply.text(), str(reply.url)
        target, data = submit(page, url, {"country": "DE"})
        async with session.post(target, data=data) as reply:
            body = await reply.text()
            assert reply.status == 400 and 'id="error-code">EIDAS_LOA_UNAVAILABLE<' in body
