"""The preview space in headless Chromium between two node processes: every page and state checked with
axe-core (no serious or critical WCAG 2.1 AA violation), in Latvian and English; the journey once with the
mouse and once with the keyboard only (Tab / Space / Enter through CDP Input.dispatchKeyEvent)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import update

from gateway.db.oots_schema import oots_preview_session
from gateway.devnet import BackendClient
from tests.eidas_node.cdp import CHROMIUM, Browser
from tests.oots.oots_net import settled
from tests.preview_space.axe import axe_source, violations
from tests.preview_space.preview_net import RETURN_URL, PreviewNet
from tests.preview_space.test_preview_e2e import preview_pending

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which(CHROMIUM) is None and not os.environ.get("CI"),
                                 reason="chromium is not installed (apt-get install chromium)")]


@pytest.fixture
async def portal(preview_net: PreviewNet) -> AsyncIterator[BackendClient]:
    async with aiohttp.ClientSession() as http:
        yield BackendClient(preview_net.pair.requester, http)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    started = await Browser(("--ignore-certificate-errors",)).start()  # the preview listener's dev certificate
    try:
        yield started
    finally:
        await started.close()


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


class Audit:
    """Runs axe on each state of the journey and keeps what it found, so one run reports every page."""

    def __init__(self, browser: Browser, source: str) -> None:
        self.browser, self.source = browser, source
        self.found: dict[str, list[dict[str, Any]]] = {}

    async def check(self, state: str, ready: str, lang: str | None = None) -> None:
        """Wait for a new document (the previous one was marked) holding ``ready``, then run axe on it."""
        await self.browser.wait_for(f"!window.__audited && document.readyState === 'complete' && "
                                    f"!!document.getElementById('{ready}')")
        if lang is not None:
            assert await self.browser.evaluate("document.documentElement.lang") == lang, state
        self.found[state] = await violations(self.browser, self.source)
        await self.browser.evaluate("window.__audited = true")

    def assert_clean(self) -> None:
        bad = {state: v for state, v in self.found.items() if v}
        assert not bad, bad


async def click(browser: Browser, ident: str) -> None:
    await browser.wait_for(f"!!document.getElementById('{ident}')")
    await browser.evaluate(f"document.getElementById('{ident}').click()")


async def national_login(browser: Browser, user: str = "anna") -> None:
    await click(browser, "method-national")
    await click(browser, "login-submit")
    await click(browser, f"u-{user}")
    await click(browser, "login")  # the IdP's answer posts itself (HTTP-POST binding) to the preview space


async def test_every_page_and_state_is_accessible_in_both_languages(
        preview_net: PreviewNet, portal: BackendClient, browser: Browser, axe: str) -> None:
    audit = Audit(browser, axe)
    created, pending = await preview_pending(portal)
    link = pending["exchanges"][0]["redirect_url"]
    await browser.navigate(link)
    await audit.check("login (en: the browser asks for English)", "login-submit", "en")
    await click(browser, "login-submit")  # nothing chosen
    await audit.check("login error: no method", "method-error", "en")
    await click(browser, "switch-language")
    await audit.check("login (lv: switched)", "login-submit", "lv")
    await click(browser, "method-foreign")
    await click(browser, "login-submit")
    await audit.check("country selection", "country-DE")
    await click(browser, "country-DE")
    await browser.evaluate("document.getElementById('country-DE').form.submit()")
    await click(browser, "u-erika")
    await click(browser, "login")
    await audit.check("MDS mismatch (foreign eID)", "code", "lv")
    assert await browser.evaluate("document.getElementById('code').textContent") == "PREVIEW_MDS_MISMATCH"
    await browser.navigate(link)  # the link is intact for the person the request is about
    await click(browser, "method-national")
    await click(browser, "login-submit")
    await click(browser, "cancel")
    await audit.check("login error: cancelled", "code", "lv")
    await browser.navigate(link)
    await national_login(browser)
    await audit.check("evidence list (lv)", "evidence-1", "lv")
    await click(browser, "switch-language")
    await audit.check("evidence list (en)", "evidence-1", "en")
    await click(browser, "evidence-1")
    await audit.check("evidence detail, XML (en)", "evidence-rows", "en")
    await click(browser, "decline")
    await audit.check("decline confirmation", "confirm", "en")
    await click(browser, "back")
    await click(browser, "evidence-1")
    await click(browser, "accept")
    await audit.check("accept confirmation", "confirm", "en")
    await click(browser, "confirm")
    await audit.check("accepted", "return", "en")
    assert await browser.evaluate("document.getElementById('return').href") == RETURN_URL
    assert len((await settled(portal, created["id"]))["evidence"]) == 1
    await click(browser, "access-log")
    await audit.check("access log (en)", "access-log", "en")
    await click(browser, "switch-language")
    await audit.check("access log (lv)", "access-log", "lv")

    _created, pending = await preview_pending(portal)  # declined
    await browser.navigate(pending["exchanges"][0]["redirect_url"])
    await national_login(browser)
    await click(browser, "evidence-1")
    await click(browser, "decline")
    await click(browser, "confirm")
    await audit.check("declined", "code")
    _created, pending = await preview_pending(portal)  # timed out while looking
    await browser.navigate(pending["exchanges"][0]["redirect_url"])
    await national_login(browser)
    await browser.wait_for("!!document.getElementById('evidence-1')")
    node = await preview_net.provider.open()
    try:
        async with node.engine.begin() as conn:
            await conn.execute(update(oots_preview_session).where(oots_preview_session.c.state == "user_present")
                               .values(deadline=(datetime.now(UTC) - timedelta(seconds=1)).isoformat()))
    finally:
        await node.close()
    await click(browser, "evidence-1")
    await audit.check("timed out", "code")
    assert await browser.evaluate("document.getElementById('code').textContent") == "PREVIEW_TIMED_OUT"
    await browser.navigate(f"{preview_net.preview_origin}/preview-space/p/{'x' * 43}")
    await audit.check("unknown link", "code")
    await browser.navigate(link)
    await audit.check("replayed link", "code")
    audit.assert_clean()
    assert len(audit.found) >= 18


async def test_journey_with_the_keyboard_only(portal: BackendClient, browser: Browser) -> None:
    created, pending = await preview_pending(portal)
    await browser.navigate(pending["exchanges"][0]["redirect_url"])
    await browser.wait_for("!!document.getElementById('login-submit')")
    await browser.tab_to("el.id === 'method-national'")
    await browser.press("Space")
    # The focused control shows where it is (WCAG 2.4.7): a visible outline.
    assert await browser.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    await browser.tab_to("el.id === 'login-submit'")
    await browser.press("Enter")
    await browser.wait_for("!!document.getElementById('u-anna')")
    await browser.tab_to("el.id === 'login'")
    await browser.press("Enter")
    await browser.wait_for("!!document.getElementById('evidence-1')")
    await browser.tab_to("el.id === 'evidence-1'")
    await browser.press("Enter")
    await browser.wait_for("!!document.getElementById('accept')")
    await browser.tab_to("el.id === 'accept'")
    await browser.press("Enter")
    await browser.wait_for("!!document.getElementById('confirm')")
    await browser.tab_to("el.id === 'confirm'")
    await browser.press("Enter")
    await browser.wait_for("!!document.getElementById('return')")
    finished = await settled(portal, created["id"])
    assert finished["state"] == "completed" and len(finished["evidence"]) == 1


async def test_the_accessibility_check_can_fail(browser: Browser, axe: str) -> None:
    """A page with an unlabelled button and an image without text: axe must report them (critical)."""
    await browser.navigate("data:text/html,<html><head><title>t</title></head><body><main>"
                           "<img src='x.png'><button></button></main></body></html>")
    await browser.wait_for("document.readyState === 'complete'")
    found = {v["id"] for v in await violations(browser, axe)}
    assert {"button-name", "image-alt"} <= found, found
