"""What the preview space refuses, end to end between two node processes over real HTTP: another person
(MDS mismatch, national and foreign login), forged and replayed links, CSRF, another user's web session, an
expired web session, a failed login, a return URL of an unknown site. And the person's access log."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urljoin

import aiohttp
import pytest
from sqlalchemy import select, update

from gateway.db.preview_schema import preview_web_session
from gateway.db.schema import audit_record
from gateway.devnet import BackendClient
from gateway.preview_web import SESSION_COOKIE
from tests.oots.oots_net import settled
from tests.preview_space.preview_net import Page, PreviewNet, UserAgent
from tests.preview_space.test_preview_e2e import arrive_and_login, decide, preview_pending

pytestmark = pytest.mark.slow


@pytest.fixture
async def portal(preview_net: PreviewNet) -> AsyncIterator[BackendClient]:
    async with aiohttp.ClientSession() as http:
        yield BackendClient(preview_net.pair.requester, http)


@pytest.fixture
async def agents(preview_net: PreviewNet) -> AsyncIterator[list[UserAgent]]:
    made: list[UserAgent] = []

    def factory() -> UserAgent:
        made.append(UserAgent(preview_net.tls_cert))
        return made[-1]

    yield factory  # type: ignore[misc]
    for agent in made:
        await agent.close()


def _nothing_shown(page: Page) -> None:
    assert page.by_id("evidence-rows") is None and page.by_id("documents") is None
    assert "D-LU-2012-0001" not in page.text and "Latvijas Universitāte" not in page.text


async def test_mds_mismatch_shows_nothing_and_keeps_the_link_for_the_rightful_user(
        portal: BackendClient, agents) -> None:  # type: ignore[no-untyped-def]
    created, pending = await preview_pending(portal)
    link = pending["exchanges"][0]["redirect_url"]
    janis = agents()
    refused = await arrive_and_login(janis, link, "janis")  # another Latvian person
    assert refused.status == 403 and refused.text_of("code") == "PREVIEW_MDS_MISMATCH"
    _nothing_shown(refused)
    still = await janis.get(refused.url.replace("/login/done", "/evidence"))
    assert still.status == 403 and still.text_of("code") == "PREVIEW_NO_SESSION"
    _nothing_shown(still)
    erika = agents()  # a foreign eID (DE) through the node's eIDAS connector
    login = await erika.get(link)
    foreign = await erika.foreign_login(login, "DE", "erika")
    assert foreign.status == 403 and foreign.text_of("code") == "PREVIEW_MDS_MISMATCH", foreign.text[:500]
    _nothing_shown(foreign)
    anna = agents()  # the token was not used up: the person the request is about previews as usual
    evidence = await arrive_and_login(anna, link)
    assert evidence.status == 200 and evidence.by_id("documents") is not None
    accepted = await decide(anna, evidence, "accept")
    assert accepted.by_id("return") is not None
    assert len((await settled(portal, created["id"]))["evidence"]) == 1


async def test_forged_and_replayed_links(preview_net: PreviewNet, portal: BackendClient, agents) -> None:  # type: ignore[no-untyped-def]
    user = agents()
    forged = await user.get(f"{preview_net.preview_origin}/preview-space/p/{'A' * 43}")
    assert forged.status == 404 and forged.text_of("code") == "PREVIEW_TOKEN_UNKNOWN"
    too_long = await user.get(f"{preview_net.preview_origin}/preview-space/p/{'A' * 500}")
    assert too_long.status == 404
    _created, pending = await preview_pending(portal)
    link = pending["exchanges"][0]["redirect_url"]
    async with user.http.get(link, allow_redirects=False) as reply:  # the cookies the arrival sets
        assert reply.status == 303
        cookies = {c.key: c for c in reply.cookies.values()}
    for name in ("pv_sid", "pv_arrival"):
        assert cookies[name]["httponly"] and cookies[name]["secure"] and cookies[name]["samesite"] == "Lax"
    evidence = await arrive_and_login(user, link)
    declined = await decide(user, evidence, "decline")
    assert declined.text_of("code") == "PREVIEW_DECLINED"
    replayed = await agents().get(link)
    assert replayed.status == 409 and replayed.text_of("code") == "PREVIEW_TOKEN_REPLAYED"
    assert replayed.by_id("login-submit") is None


async def test_csrf_other_session_and_expired_session_cannot_decide(
        preview_net: PreviewNet, portal: BackendClient, agents) -> None:  # type: ignore[no-untyped-def]
    created, pending = await preview_pending(portal)
    owner = agents()
    evidence = await arrive_and_login(owner, pending["exchanges"][0]["redirect_url"])
    detail = await owner.get(evidence.url + "/1")
    confirm_url, form = owner.form(detail, "accept")
    decide_url = confirm_url.replace("/confirm", "/decide")
    for csrf in (None, "", "0" * 64):  # missing, empty, wrong
        data = {"decision": "accept", "confirmed": "yes"} | ({} if csrf is None else {"csrf": csrf})
        refused = await owner.post(decide_url, data)
        assert refused.status == 403 and refused.text_of("code") == "PREVIEW_CSRF"
    # Another person's web session (logged in for their access log) cannot decide on this preview, neither
    # with its own CSRF token nor with the owner's.
    other = agents()
    log_login = await other.get(f"{preview_net.preview_origin}/preview-space/log")
    own_log = await other.national_login(log_login, "jack")
    assert own_log.status == 200 and own_log.by_id("access-empty") is not None, own_log.text[:400]
    other_csrf = other.form(log_login)[1]["csrf"]
    refused = await other.post(decide_url, {"csrf": other_csrf, "decision": "accept", "confirmed": "yes"})
    assert refused.status == 403 and refused.text_of("code") == "PREVIEW_NO_SESSION"
    refused = await other.post(decide_url, {"csrf": form["csrf"], "decision": "accept", "confirmed": "yes"})
    assert refused.status == 403 and refused.text_of("code") == "PREVIEW_CSRF"
    # A decision needs its confirmation step.
    unconfirmed = await owner.post(decide_url, {"csrf": form["csrf"], "decision": "accept"})
    assert unconfirmed.status == 400 and unconfirmed.text_of("code") == "PREVIEW_DECISION_MISSING"
    # The owner's web session expires: nothing more can be seen or decided with it.
    cookie = next(c.value for c in owner.http.cookie_jar if c.key == SESSION_COOKIE)
    node = await preview_net.provider.open()
    try:
        async with node.engine.begin() as conn:
            await conn.execute(update(preview_web_session)
                               .where(preview_web_session.c.id_hash == hashlib.sha256(cookie.encode()).hexdigest())
                               .values(expires_at=(datetime.now(UTC) - timedelta(seconds=1))
                                       .strftime("%Y-%m-%dT%H:%M:%S.%fZ")))
    finally:
        await node.close()
    expired = await owner.get(evidence.url)
    assert expired.status == 401 and expired.text_of("code") == "PREVIEW_WEB_SESSION_EXPIRED"
    _nothing_shown(expired)
    late = await owner.post(decide_url, {"csrf": form["csrf"], "decision": "accept", "confirmed": "yes"})
    assert late.status == 401
    status, body = await portal.get(f"/api/oots/requests/{created['id']}")
    assert status == 200 and body["evidence"] == []  # nothing was released by any of these


async def test_failed_login_and_unknown_return_site(portal: BackendClient, agents) -> None:  # type: ignore[no-untyped-def]
    _created, pending = await preview_pending(portal)
    link = pending["exchanges"][0]["redirect_url"]
    user = agents()
    login = await user.get(link)
    cancelled = await user.national_login(login, "anna", action="cancel")
    assert cancelled.status == 401 and cancelled.text_of("code") == "RequestDenied", cancelled.text[:400]
    _nothing_shown(cancelled)
    no_choice = await user.submit(await user.get(login.url), "login-submit")  # no login method chosen
    assert no_choice.status == 400 and no_choice.by_id("method-error") is not None
    assert no_choice.doc.xpath("//fieldset/@aria-describedby") == ["method-error"]
    # The link still works after a failed login; a return URL to an unregistered site is not offered.
    evil = re.sub(r"returnurl=[^&]+", "returnurl=" + quote("https://evil.example/x", safe=""), link)
    visitor = agents()
    evidence = await arrive_and_login(visitor, evil)
    assert evidence.status == 200
    declined = await decide(visitor, evidence, "decline")
    assert declined.text_of("code") == "PREVIEW_DECLINED" and declined.by_id("return") is None
    assert "evil.example" not in declined.text
    reused = await agents().get(link)  # the link was used by that arrival
    assert reused.status == 409


async def test_access_log_lists_every_request_for_the_person(preview_net: PreviewNet, portal: BackendClient,
                                                             agents) -> None:  # type: ignore[no-untyped-def]
    _created, pending = await preview_pending(portal)
    user = agents()
    evidence = await arrive_and_login(user, pending["exchanges"][0]["redirect_url"])
    accepted = await decide(user, evidence, "accept")
    page = await user.get(urljoin(accepted.url, accepted.by_id("access-log").get("href")) + "?lang=en")
    assert page.status == 200 and page.doc.get("lang") == "en"
    rows = page.doc.xpath("//table[@id='access-log']/tbody/tr")
    decisions = [r.xpath("td[@class='decision']")[0].text_content() for r in rows]
    assert "sent" in decisions, decisions  # this one (and the other tests' requests for Anna)
    assert all(r.xpath("td")[1].text_content() == "Latvijas Universitāte" for r in rows)
    # The audit log behind it holds the person only as a keyed hash, and no evidence content.
    node = await preview_net.provider.open()
    try:
        async with node.engine.connect() as conn:
            records = (await conn.execute(select(audit_record.c.subject_hash, audit_record.c.details)
                                          .where(audit_record.c.event.like("oots.preview.%")))).all()
    finally:
        await node.close()
    assert records and all(r.subject_hash for r in records)
    assert not any("D-LU-2012-0001" in r.details or "Bērziņa" in r.details for r in records)
