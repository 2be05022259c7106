"""The demo journey in headless Chromium against the real launcher (two node processes, the simulators, the
portal): a foreign eID login → the diploma requested from the partner member state → the evidence shown; once
with the keyboard only in English; the other direction (a foreign registry asks Latvia); axe-core on every page
of the portal and state."""

from __future__ import annotations

from typing import Any

import pytest

from tests.demo.conftest import needs_chromium
from tests.demo.journey import log_in_with_clicks, preview_and_accept, request_and_wait, shot, wait_settled
from tests.demo.launcher_proc import DemoProcess
from tests.eidas_node.cdp import Browser
from tests.preview_space.axe import axe_source, violations
from tests.preview_space.test_preview_browser import click

pytestmark = [needs_chromium, pytest.mark.slow]


async def _accessible(browser: Browser, where: str) -> None:
    found: list[dict[str, Any]] = await violations(browser, axe_source())
    assert found == [], f"{where}: {found}"


async def test_journey_foreign_eid_to_diploma(demo: DemoProcess, browser: Browser) -> None:
    await log_in_with_clicks(browser, demo.portal, shots=True)
    assert await browser.evaluate("document.documentElement.lang") == "lv"
    who = await browser.evaluate("document.getElementById('who').textContent")
    assert "Erika Mustermann" in who and "1964-08-12" in who
    await _accessible(browser, "home, logged in")
    await shot(browser, "4-logged-in")
    assert await browser.evaluate("document.getElementById('preview').checked")
    await browser.evaluate("document.getElementById('request').click()")
    await click(browser, "method-foreign")  # the partner's preview space: the portal redirected the browser there
    assert (await browser.evaluate("location.href")).startswith(f"https://127.0.0.1:{demo.ports.partner_preview}/")
    await preview_and_accept(browser, shot_name="5-preview-at-partner")
    assert await wait_settled(browser) == "completed"
    assert (await browser.evaluate("location.href")).startswith(demo.portal + "/applications/")
    await shot(browser, "6-evidence")
    evidence = await browser.evaluate("document.getElementById('evidence-1').textContent")
    assert "Humboldt-Universität zu Berlin" in evidence and "DE-HU-1988-0412" in evidence
    title = await browser.evaluate("document.querySelector('#ev-1').textContent")
    assert title.startswith("Augstākās izglītības"), title
    await _accessible(browser, "status, completed")
    assert "evidence" not in (await browser.evaluate("location.search"))  # only ids travel in URLs


async def test_journey_keyboard_only_in_english(demo: DemoProcess, browser: Browser) -> None:
    await browser.navigate(demo.portal + "/")
    await browser.wait_for("!!document.getElementById('login')")
    await browser.tab_to("el.id === 'lang-switch'")
    await browser.press("Enter")
    await browser.wait_for("document.documentElement.lang === 'en' && !!document.getElementById('login')")
    assert await browser.evaluate("document.querySelector('h1').textContent") == \
        "Apply for studies at the University of Latvia"
    await _accessible(browser, "home, logged out, English")
    await browser.tab_to("el.id === 'login'")
    await browser.press("Enter")
    await browser.wait_for("document.documentElement.lang === 'en' && !!document.getElementById('continue')")
    await browser.tab_to("el.type === 'radio'")
    for _ in range(20):  # arrow keys move the selection inside the radio group
        if await browser.evaluate("document.activeElement.value") == "DE":
            break
        await browser.press("ArrowDown")
    assert await browser.evaluate("document.getElementById('country-DE').checked")
    await browser.tab_to("el.id === 'continue'")
    await browser.press("Enter")
    await browser.wait_for("!!document.getElementById('u-juergen')")
    await browser.tab_to("el.id === 'u-erika' || el.id === 'u-juergen'")
    for _ in range(5):
        if await browser.evaluate("document.activeElement.id") == "u-juergen":
            break
        await browser.press("ArrowDown")
    await browser.tab_to("el.id === 'login'")
    await browser.press("Enter")
    await browser.wait_for("!!document.getElementById('who')")
    assert "Jürgen Müller" in await browser.evaluate("document.getElementById('who').textContent")
    assert await browser.evaluate("document.documentElement.lang") == "en"
    await browser.tab_to("el.id === 'preview'")
    await browser.press("Space")  # no preview: the diploma is asked for explicitly and sent at once
    assert not await browser.evaluate("document.getElementById('preview').checked")
    await browser.tab_to("el.id === 'request'")
    await browser.press("Enter")
    assert await wait_settled(browser) == "completed"
    assert "Technische Universität München" in await browser.evaluate("document.getElementById('evidence-1')"
                                                                       ".textContent")
    assert await browser.evaluate("document.querySelector('h2').textContent") == "Evidence received"


async def test_foreign_registry_asks_latvia_and_the_person_previews_in_latvia(demo: DemoProcess,
                                                                               browser: Browser) -> None:
    """The other direction: the partner's registry asks for Anna's birth record with preview → the portal sends
    her to the Latvian preview space → simulated Latvian login → she accepts → back at the portal, the record."""
    await browser.navigate(demo.portal + "/registry")
    await browser.wait_for("!!document.getElementById('request')")
    assert await browser.evaluate("document.getElementById('preview').checked")
    await _accessible(browser, "registry")
    await shot(browser, "7-registry")
    await browser.evaluate("document.getElementById('request').click()")
    await click(browser, "method-national")  # the preview space's login page: redirected there by the portal
    assert (await browser.evaluate("location.href")).startswith(f"https://127.0.0.1:{demo.ports.lv_preview}/")
    await preview_and_accept(browser, national_user="anna", shot_name="8-preview-in-latvia")
    assert await wait_settled(browser) == "completed"
    assert (await browser.evaluate("location.href")).startswith(demo.portal + "/applications/")
    assert "B-1990-0001" in await browser.evaluate("document.getElementById('evidence-1').textContent")
    await shot(browser, "9-birth-record")


async def test_declined_in_the_preview_space_nothing_arrives(demo: DemoProcess, browser: Browser) -> None:
    await browser.navigate(demo.portal + "/registry?lang=en")
    await browser.wait_for("!!document.getElementById('request')")
    await browser.evaluate("document.getElementById('request').click()")
    await preview_and_accept(browser, national_user="anna", accept=False)
    assert await wait_settled(browser) == "completed"
    assert await browser.evaluate("!!document.getElementById('no-evidence')")
    assert not await browser.evaluate("!!document.getElementById('evidence-1')")


async def test_person_without_diploma_and_error_pages(demo: DemoProcess, browser: Browser) -> None:
    await log_in_with_clicks(browser, demo.portal, user="strauss")  # the partner's register has no diploma of his
    await browser.evaluate("document.getElementById('preview').click()")  # asked for explicitly, no preview
    assert await request_and_wait(browser) == "completed"
    assert await browser.evaluate("!!document.getElementById('no-evidence')")
    await _accessible(browser, "status, no evidence")
    await browser.navigate(demo.portal + "/applications/not-yours?lang=en")
    await browser.wait_for("!!document.getElementById('error-code')")
    assert await browser.evaluate("document.getElementById('error-code').textContent") == "DEMO_NOT_FOUND"
    await _accessible(browser, "error page")


async def test_portal_works_without_javascript(demo: DemoProcess, browser: Browser) -> None:
    """Scripts off: forms are plain forms and the status page reaches the result by its meta refresh."""
    await browser.send("Emulation.setScriptExecutionDisabled", value=True)
    await browser.navigate(demo.portal + "/registry?lang=en")
    await browser.wait_for("!!document.getElementById('request')")
    await browser.tab_to("el.id === 'person'")
    await browser.press("ArrowDown")  # Jānis Ozols: the register matches him by his eIDAS identifier
    await browser.tab_to("el.id === 'preview'")
    await browser.press("Space")
    await browser.tab_to("el.id === 'request'")
    await browser.press("Enter")
    assert await wait_settled(browser) == "completed"
    assert "B-1985-0420" in await browser.evaluate("document.getElementById('evidence-1').textContent")
