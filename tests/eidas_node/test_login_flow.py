"""The whole login over real HTTP (no browser): demo portal → node → country selection → simulator → node
ACS → portal. A small form-following client plays the browser; Chromium does the same in test_browser.py."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urljoin

import aiohttp
from sqlalchemy import select

from eidas_node.simulator.responses import Faults
from gateway.db.schema import audit_record
from tests.eidas_node.stack import Stack, login_stack

_FORM = re.compile(r'<form method="post" action="([^"]*)"(.*?)</form>', re.S)
_INPUT = re.compile(r'<input type="(?:hidden|radio)" name="([^"]+)"(?: id="[^"]*")? value="([^"]*)"([^>]*)>')


def submit(page: str, base: str, choose: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """The first form of the page as a browser would submit it (checked radios, hidden fields)."""
    found = _FORM.search(page)
    assert found is not None, page[:500]
    action, body = html.unescape(found.group(1)), found.group(2)
    data: dict[str, str] = {}
    for name, value, rest in _INPUT.findall(body):
        if 'type="radio"' in body and name in (choose or {}):
            continue
        if "checked" in rest or name not in data:
            data[name] = html.unescape(value)
    data.update(choose or {})
    return urljoin(base, action), data


async def _post(session: aiohttp.ClientSession, url: str, data: dict[str, str]) -> tuple[str, str]:
    async with session.post(url, data=data) as reply:
        return await reply.text(), str(reply.url)


async def run_login(stack: Stack, country: str, user: str, *, action: str = "login") -> tuple[str, str]:
    async with aiohttp.ClientSession() as session:
        async with session.get(stack.portal.base_url + "/") as reply:
            page, url = await reply.text(), str(reply.url)
        page, url = await _post(session, *submit(page, url))  # portal → autopost to the node
        page, url = await _post(session, *submit(page, url))  # node: 303 → country selection
        assert 'lang="lv"' in page and "country-" in page
        page, url = await _post(session, *submit(page, url, {"country": country}))  # → autopost to simulator
        page, url = await _post(session, *submit(page, url))  # simulator login page
        target, data = submit(page, url, {"user": user})
        data["action"] = action
        page, url = await _post(session, target, data)  # → autopost Response to the node's ACS
        page, url = await _post(session, *submit(page, url))  # node → autopost to the portal (or error page)
        if "SAMLResponse" in page and "onload=" in page:  # an auto-posting page, not the error page
            page, url = await _post(session, *submit(page, url))
        return page, url


async def _events(stack: Stack) -> list[str]:
    async with stack.node.engine.connect() as conn:
        rows = await conn.execute(select(audit_record.c.event).where(audit_record.c.event.like("eidas.%"))
                                  .order_by(audit_record.c.seq))
        return [r[0] for r in rows]


async def test_foreign_login_reaches_portal_with_mapped_identity(tmp_path: Path, db_url: str) -> None:
    async with login_stack(tmp_path, db_url) as stack:
        page, _ = await run_login(stack, "EL", "giorgos")
        national = re.search(r'id="national-id">([^<]+)<', page)
        assert national is not None, page
        assert national.group(1).startswith("32")  # registered as a new foreign person (policy: register)
        assert "Παπαδόπουλος" in page and "http://eidas.europa.eu/LoA/high" in page
        again, _ = await run_login(stack, "EL", "giorgos")
        assert f'id="national-id">{national.group(1)}<' in again  # the link wins the second time
        events = await _events(stack)
        assert events.count("eidas.login.succeeded") == 2
        assert "eidas.identity.registered" in events and "eidas.identity.matched" in events


async def test_cancel_gives_clear_page_and_portal_status(tmp_path: Path, db_url: str) -> None:
    async with login_stack(tmp_path, db_url, countries=("DE",)) as stack:
        async with aiohttp.ClientSession() as session:
            async with session.get(stack.portal.base_url + "/") as reply:
                page, url = await reply.text(), str(reply.url)
            for step in range(4):
                page, url = await _post(session, *submit(page, url, {"country": "DE"} if step == 2 else None))
            target, data = submit(page, url)
            data["action"] = "cancel"
            page, url = await _post(session, target, data)
            page, url = await _post(session, *submit(page, url))
            assert 'id="error-code">EIDAS_STATUS_CANCELLED<' in page and "pārtraucāt" in page
            page, url = await _post(session, *submit(page, url))  # "Return to the service"
            assert url.startswith(stack.portal.base_url) and 'id="error-code">RequestDenied<' in page


async def test_broken_response_refused_with_code(tmp_path: Path, db_url: str) -> None:
    async with login_stack(tmp_path, db_url, countries=("DE",)) as stack:
        stack.simulator.countries["DE"].faults = Faults(assertion_xsw=3)
        page, _ = await run_login(stack, "DE", "erika")
        assert 'id="error-code">EIDAS_' in page and "national-id" not in page
        assert "eidas.login.failed" in await _events(stack)


async def test_relay_state_cannot_redirect(tmp_path: Path, db_url: str) -> None:
    async with login_stack(tmp_path, db_url, countries=("DE",)) as stack:
        async with aiohttp.ClientSession() as session:
            async with session.get(stack.portal.base_url + "/") as reply:
                page, url = await reply.text(), str(reply.url)
            for step in range(4):
                page, url = await _post(session, *submit(page, url, {"country": "DE"} if step == 2 else None))
            target, data = submit(page, url)
            data["action"] = "login"
            page, url = await _post(session, target, data)
            acs, form = submit(page, url)
            form["RelayState"] = "https://evil.example/steal"
            async with session.post(acs, data=form, allow_redirects=False) as reply:
                body = await reply.text()
                assert reply.status == 400 and "Location" not in reply.headers
                assert "evil.example" not in body and 'id="error-code">EIDAS_RELAY_STATE<' in body
            form["RelayState"] = submit(page, url)[1]["RelayState"]
            page, _ = await _post(session, acs, form)  # the genuine RelayState still works: nothing was used up
            assert "SAMLResponse" in page and stack.portal.base_url in page


async def test_representative_of_a_legal_person(tmp_path: Path, db_url: str) -> None:
    from dataclasses import replace

    async with login_stack(tmp_path, db_url, countries=("DE",)) as stack:
        users = stack.simulator.countries["DE"].users
        users["erika"] = replace(users["erika"], legal_person_identifier="DE/LV/HRB-4711", legal_name="Muster GmbH")
        page, _ = await run_login(stack, "DE", "erika")
        assert 'id="attr-legal-code">' in page and "Muster GmbH" in page and 'id="national-id">32' in page
        events = await _events(stack)
        assert events.count("eidas.identity.registered") == 2  # the person and the company
