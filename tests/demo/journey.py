"""Steps of the demo journey in headless Chromium, shared by the tests and the screenshot run
(scripts/screenshots.py): log in at the portal with a simulated foreign eID, request the diploma, wait for it."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from gateway.devnet import REPO
from tests.eidas_node.cdp import Browser
from tests.preview_space.test_preview_browser import click

SHOTS = REPO / "docs" / "screenshots"
WIDTH = 1000


async def shot(browser: Browser, name: str) -> Path | None:
    """With DEMO_SCREENSHOTS=1: the page (1000 px wide, full height up to 1400 px) as docs/screenshots/<name>.png."""
    if not os.environ.get("DEMO_SCREENSHOTS"):
        return None
    height = min(int(await browser.evaluate("document.documentElement.scrollHeight")), 1400)
    await browser.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=height, deviceScaleFactor=1,
                       mobile=False)
    data = await browser.send("Page.captureScreenshot", format="png")
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    path.write_bytes(base64.b64decode(data["data"]))
    return path


async def log_in_with_clicks(browser: Browser, portal: str, *, country: str = "DE", user: str = "erika",
                             shots: bool = False) -> None:
    await browser.navigate(portal + "/")
    await browser.wait_for("!!document.getElementById('login')")
    if shots:
        await shot(browser, "1-portal")
    await browser.evaluate("document.getElementById('login').click()")
    await browser.wait_for(f"!!document.getElementById('country-{country}')")
    if shots:
        await shot(browser, "2-country")
    await browser.evaluate(f"document.getElementById('country-{country}').click()")
    await browser.evaluate("document.getElementById('continue').click()")
    await browser.wait_for(f"!!document.getElementById('u-{user}')")
    await browser.evaluate(f"document.getElementById('u-{user}').click()")
    if shots:
        await shot(browser, "3-foreign-login")
    await browser.evaluate("document.getElementById('login').click()")
    await browser.wait_for("!!document.getElementById('who')")


async def wait_settled(browser: Browser, seconds: float = 60.0) -> str:
    """The final state the status page shows (it refreshes itself without JavaScript)."""
    return str(await browser.wait_for(
        "(s => s && ['completed', 'failed'].includes(s.dataset.state) && s.dataset.state)"
        "(document.getElementById('state'))", seconds))


async def request_and_wait(browser: Browser, seconds: float = 60.0) -> str:
    """Submit the request form; the final state shown."""
    await browser.evaluate("document.getElementById('request').click()")
    await browser.wait_for("!!document.getElementById('state')")
    return await wait_settled(browser, seconds)


async def preview_and_accept(browser: Browser, *, national_user: str | None = None, country: str = "DE",
                             foreign_user: str = "erika", shot_name: str | None = None, accept: bool = True) -> None:
    """In the provider's preview space (the portal redirected the browser there): log in (the simulated Latvian
    login, else a foreign eID through the provider node's connector), open the evidence, agree (or decline),
    confirm, and follow the way back to the portal."""
    if national_user is not None:
        await click(browser, "method-national")
        await click(browser, "login-submit")
        await click(browser, f"u-{national_user}")
    else:
        await click(browser, "method-foreign")
        await click(browser, "login-submit")
        await click(browser, f"country-{country}")
        await browser.evaluate(f"document.getElementById('country-{country}').form.submit()")
        await click(browser, f"u-{foreign_user}")
    await click(browser, "login")
    await click(browser, "evidence-1")
    await browser.wait_for("!!document.getElementById('accept')")
    if shot_name:
        await shot(browser, shot_name)
    await click(browser, "accept" if accept else "decline")
    await click(browser, "confirm")
    await click(browser, "return")
