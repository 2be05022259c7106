"""The preview space end to end between two node processes (Projectathon TC06-TC10): a portal asks node DE-GW
for evidence with preview; node LV-GW-DEV answers EDM:ERR:0002 with a PreviewLocation; the user (a real HTTP
user agent: cookies, redirects, forms with their CSRF tokens) opens it, logs in, previews and decides; the
portal gets the evidence only after "accept"."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin

import aiohttp
import pytest

from gateway.devnet import BackendClient
from tests.oots.oots_net import ANNA, SimulatorThread, create, settled
from tests.preview_space.preview_net import RETURN_URL, Page, PreviewNet, UserAgent, start_net, stop_net

pytestmark = pytest.mark.slow


@pytest.fixture
async def portal(preview_net: PreviewNet) -> AsyncIterator[BackendClient]:
    async with aiohttp.ClientSession() as http:
        yield BackendClient(preview_net.pair.requester, http)


@pytest.fixture
async def user(preview_net: PreviewNet) -> AsyncIterator[UserAgent]:
    agent = UserAgent(preview_net.tls_cert)
    try:
        yield agent
    finally:
        await agent.close()


async def preview_pending(portal: BackendClient, procedure: str = "T2", person: dict[str, Any] = ANNA
                          ) -> tuple[dict[str, Any], dict[str, Any]]:
    status, created = await create(portal, procedure=procedure, country="LV", person=person, return_url=RETURN_URL)
    assert status == 201, created
    pending = await portal.wait_for(f"/api/oots/requests/{created['id']}",
                                    lambda r: r["state"] in ("completed", "failed") or (r["state"] == "preview-required"
                                    and all(x["state"] == "preview" and x["redirect_url"] for x in r["exchanges"])),
                                    timeout_s=30, every_s=0.05)
    assert pending["state"] == "preview-required", pending
    return created, pending


async def arrive_and_login(user: UserAgent, redirect_url: str, who: str = "anna") -> Page:
    login = await user.get(redirect_url)
    assert login.status == 200 and login.by_id("login-submit") is not None, login.text[:500]
    return await user.national_login(login, who)


async def decide(user: UserAgent, evidence_list: Page, decision: str) -> Page:
    detail = await user.get(urljoin(evidence_list.url, evidence_list.by_id("evidence-1").get("href")))
    assert detail.status == 200 and detail.by_id("evidence-rows") is not None, detail.text[:500]
    confirm = await user.submit(detail, decision)
    assert confirm.status == 200 and confirm.by_id("confirm") is not None, confirm.text[:500]
    return await user.submit(confirm, "confirm")


async def test_tc06_preview_with_reauthentication_releases_after_accept(
        portal: BackendClient, user: UserAgent) -> None:
    created, pending = await preview_pending(portal)
    (exchange,) = pending["exchanges"]
    evidence = await arrive_and_login(user, exchange["redirect_url"])
    assert evidence.status == 200 and evidence.url.endswith("/preview-space/evidence"), evidence.text[:500]
    assert evidence.text_of("requester") == "Latvijas Universitāte" and evidence.text_of("procedure") == "T2"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", evidence.text_of("requested-at") or "")
    done = await portal.get(f"/api/oots/requests/{created['id']}")
    assert done[1]["evidence"] == []  # nothing released while the user looks
    accepted = await decide(user, evidence, "accept")
    assert accepted.status == 200 and accepted.by_id("return").get("href") == RETURN_URL, accepted.text[:500]
    finished = await settled(portal, created["id"])
    assert finished["state"] == "completed" and len(finished["evidence"]) == 1
    again = await user.get(exchange["redirect_url"])  # the link was used up
    assert again.status == 409 and again.text_of("code") == "PREVIEW_TOKEN_REPLAYED"


async def test_tc07_preview_at_two_providers(portal: BackendClient, user: UserAgent) -> None:
    created, pending = await preview_pending(portal, procedure="S1")
    assert len(pending["exchanges"]) == 2
    for exchange in pending["exchanges"]:  # each provider's PreviewLocation in turn, each with its own login
        evidence = await arrive_and_login(user, exchange["redirect_url"])
        assert evidence.status == 200, evidence.text[:500]
        accepted = await decide(user, evidence, "accept")
        assert accepted.by_id("return") is not None, accepted.text[:500]
    finished = await settled(portal, created["id"])
    assert finished["state"] == "completed" and len(finished["evidence"]) == 2


async def test_tc08_preview_rejected_releases_nothing(portal: BackendClient, user: UserAgent) -> None:
    created, pending = await preview_pending(portal)
    evidence = await arrive_and_login(user, pending["exchanges"][0]["redirect_url"])
    declined = await decide(user, evidence, "decline")
    assert declined.status == 200 and declined.text_of("code") == "PREVIEW_DECLINED"
    assert declined.by_id("return").get("href") == RETURN_URL
    finished = await settled(portal, created["id"])
    assert finished["state"] == "completed" and finished["evidence"] == []


async def test_tc09_preview_closed_releases_nothing(portal: BackendClient, user: UserAgent) -> None:
    created, pending = await preview_pending(portal)
    evidence = await arrive_and_login(user, pending["exchanges"][0]["redirect_url"])
    left = await user.submit(evidence if evidence.by_id("leave") is not None else
                             await user.get(evidence.url + "/1"), "leave")
    assert left.status == 410 and left.text_of("code") == "PREVIEW_ABANDONED"
    finished = await settled(portal, created["id"])
    assert finished["state"] == "failed" and finished["error"]["code"] == "EDM:ERR:0005"
    assert finished["evidence"] == []


async def test_tc09_preview_timed_out_releases_nothing(preview_net: PreviewNet, portal: BackendClient,
                                                      user: UserAgent) -> None:
    """Time passes by moving the session's deadline in the provider's database (T3 is 90 s here)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from gateway.db.oots_schema import oots_preview_session

    created, pending = await preview_pending(portal)
    evidence = await arrive_and_login(user, pending["exchanges"][0]["redirect_url"])
    assert evidence.status == 200
    node = await preview_net.provider.open()
    try:
        async with node.engine.begin() as conn:
            await conn.execute(update(oots_preview_session).where(oots_preview_session.c.state == "user_present")
                               .values(deadline=(datetime.now(UTC) - timedelta(seconds=1)).isoformat()))
    finally:
        await node.close()
    expired = await user.get(evidence.url)
    assert expired.status == 410 and expired.text_of("code") == "PREVIEW_TIMED_OUT"
    finished = await settled(portal, created["id"])
    assert finished["state"] == "failed" and finished["error"]["code"] == "EDM:ERR:0005"


async def test_tc10_human_readable_transformation_of_the_evidence(portal: BackendClient, user: UserAgent) -> None:
    _created, pending = await preview_pending(portal)
    evidence = await arrive_and_login(user, pending["exchanges"][0]["redirect_url"])
    detail = await user.get(evidence.url + "/1")
    rows = {(tr.xpath("th/text()")[0].strip(), tr.xpath("th/span[@class='path']")[0].text_content()):
            tr.xpath("td")[0].text_content() for tr in detail.doc.xpath("//table[@id='evidence-rows']/tbody/tr")}
    assert rows[("Record id", "/Diploma/record_id")] == "D-LU-2012-0001", rows  # a label, and the path it reads
    assert detail.text_of("issuer") == "Izglītības un zinātnes ministrija"  # Latvian by default
    assert detail.text_of("requester") == "Latvijas Universitāte" and detail.text_of("procedure")
    english = await user.get(evidence.url + "/1?lang=en")
    assert english.doc.get("lang") == "en" and english.text_of("issuer") == "Ministry of Education and Science"
    assert "D-LU-2012-0001" not in detail.url and "D-LU" not in english.url  # no evidence in URLs
    left = await user.submit(detail, "leave")
    assert left.status == 410


@pytest.fixture(scope="module")
def preview_net_v12(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PreviewNet]:
    """The same two nodes speaking EDM v1.2 over eDelivery AS4 1.15 (the package's network speaks v2.0)."""
    simulator = SimulatorThread().start()
    net = start_net(tmp_path_factory.mktemp("preview-net-v12"), simulator, version="oots-edm:v1.2")
    try:
        yield net
    finally:
        stop_net(net)
        simulator.stop()


@pytest.mark.parametrize("decision", ["accept", "decline"], ids=["TC06", "TC08"])
async def test_tc06_tc08_on_edm_v1_2(preview_net_v12: PreviewNet, decision: str) -> None:
    async with aiohttp.ClientSession() as http:
        portal = BackendClient(preview_net_v12.pair.requester, http)
        created, pending = await preview_pending(portal)
        assert pending["exchanges"][0]["edm_version"] == "oots-edm:v1.2"
        user = UserAgent(preview_net_v12.tls_cert)
        try:
            evidence = await arrive_and_login(user, pending["exchanges"][0]["redirect_url"])
            done = await decide(user, evidence, decision)
            assert done.by_id("return").get("href") == RETURN_URL
        finally:
            await user.close()
        finished = await settled(portal, created["id"])
        assert finished["state"] == "completed"
        assert len(finished["evidence"]) == (1 if decision == "accept" else 0)
