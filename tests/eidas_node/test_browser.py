"""End to end in headless Chromium: demo portal → country selection → simulator login → back at the portal
with the mapped identity; once with the mouse (clicks), once with the keyboard only."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from eidas_node.mapping import RegisterPerson
from gateway.eidas_register import SqlPersonRegister
from tests.eidas_node.cdp import CHROMIUM, Browser
from tests.eidas_node.stack import login_stack

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None and not os.environ.get("CI"),
                                reason="chromium is not installed (apt-get install chromium)")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    started = await Browser().start()
    try:
        yield started
    finally:
        await started.close()


async def test_login_with_clicks(tmp_path: Path, browser: Browser) -> None:
    async with login_stack(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}", unmatched="refuse") as stack:
        # A national record the German eID must be matched to: "Müller, Jürgen" registered as "MUELLER JUERGEN".
        await SqlPersonRegister(stack.node.engine).add(RegisterPerson(
            "310170-12345", "natural", "MUELLER", "JUERGEN", date(1970, 1, 31), "register"), datetime.now(UTC))
        await browser.navigate(stack.portal.base_url + "/")
        await browser.wait_for("!!document.getElementById('login')")
        await browser.evaluate("document.getElementById('login').click()")
        await browser.wait_for("!!document.getElementById('country-DE')")
        assert await browser.evaluate("document.documentElement.lang") == "lv"
        labelled = "[...document.querySelectorAll('input[type=radio]')].every(i => i.labels.length === 1)"
        assert await browser.evaluate(labelled)
        await browser.evaluate("document.getElementById('country-DE').click()")
        await browser.evaluate("document.getElementById('continue').click()")
        await browser.wait_for("!!document.getElementById('u-juergen')")
        await browser.evaluate("document.getElementById('u-juergen').click()")
        await browser.evaluate("document.getElementById('login').click()")
        national = await browser.wait_for("document.getElementById('national-id')?.textContent")
        assert national == "310170-12345"
        assert (await browser.evaluate("location.href")).startswith(stack.portal.base_url + "/acs")
        assert await browser.evaluate("document.getElementById('attr-CurrentFamilyName').textContent") == "Müller"


async def test_login_keyboard_only_in_english(tmp_path: Path, browser: Browser) -> None:
    async with login_stack(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}") as stack:
        await browser.navigate(stack.portal.base_url + "/")
        await browser.wait_for("!!document.getElementById('login')")
        await browser.tab_to("el.id === 'login'")
        await browser.press("Enter")
        await browser.wait_for("!!document.getElementById('continue')")
        # Switch the page to English with the keyboard: the language link comes right after the skip link.
        await browser.tab_to("el.getAttribute('hreflang') === 'en'")
        await browser.press("Enter")
        await browser.wait_for("document.documentElement.lang === 'en' && !!document.getElementById('continue')")
        assert await browser.evaluate("document.querySelector('h1').textContent") == "Log in with a foreign eID"
        await browser.tab_to("el.type === 'radio'")
        for _ in range(10):  # arrow keys move the selection inside the radio group
            if await browser.evaluate("document.activeElement.value") == "BG":
                break
            await browser.press("ArrowDown")
        assert await browser.evaluate("document.getElementById('country-BG').checked")
        await browser.tab_to("el.id === 'continue'")
        await browser.press("Enter")
        await browser.wait_for("!!document.getElementById('u-ivan')")
        await browser.tab_to("el.id === 'login'")
        await browser.press("Enter")
        national = await browser.wait_for("document.getElementById('national-id')?.textContent")
        assert national.startswith("32")  # no register record: a foreign person record was created
        assert await browser.evaluate("document.getElementById('attr-CurrentFamilyName').textContent") == "Иванов"


async def test_login_without_javascript(tmp_path: Path, browser: Browser) -> None:
    """Scripts off: every auto-posting page falls back to its visible button, the country page is a form."""
    async with login_stack(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}") as stack:
        await browser.send("Emulation.setScriptExecutionDisabled", value=True)
        await browser.navigate(stack.portal.base_url + "/")
        await browser.wait_for("!!document.getElementById('login')")

        async def press_button(condition: str) -> None:
            await browser.wait_for(f"!document.documentElement.dataset.left && "
                                   f"!![...document.querySelectorAll('button')].find(el => {condition})")
            await browser.tab_to(f"el.tagName === 'BUTTON' && ({condition})")
            await browser.evaluate("document.documentElement.dataset.left = '1'")  # to see the next page come
            await browser.press("Enter")

        await press_button("el.id === 'login'")  # portal
        await press_button("el.type === 'submit' && el.textContent.includes('Turpināt')")  # request to the node
        await press_button("el.id === 'continue'")  # country page, first country (Bulgārija) preselected
        await press_button("el.textContent.includes('Turpināt')")  # request to the proxy service
        await press_button("el.id === 'login'")  # simulator login
        await press_button("el.textContent.includes('Turpināt')")  # response to the node
        await press_button("el.textContent.includes('Turpināt')")  # answer to the portal
        national = await browser.wait_for("document.getElementById('national-id')?.textContent")
        assert national.startswith("32")
        assert await browser.evaluate("document.getElementById('attr-CurrentGivenName').textContent") == "Иван"
