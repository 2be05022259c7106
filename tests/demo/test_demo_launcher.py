"""The launcher as ``make run`` runs it (real processes, ephemeral ports, a temporary data directory): it serves
every part, the portal shows a clear error with its code when the partner member state is down, Ctrl-C stops
every process cleanly, and a second start reuses what the first one created. Runs after the journey tests
(it breaks and stops the package's launcher)."""

from __future__ import annotations

import base64
import os
import re
import socket
from pathlib import Path

import aiohttp
import pytest

from gateway.demo.network import LV_NODE, PARTNER_NODE
from oots.commonservices.jws import SIGNATURE_HEADER
from oots.commonservices.model import EB_REQUIREMENTS
from tests.demo.conftest import needs_chromium
from tests.demo.journey import log_in_with_clicks, request_and_wait
from tests.demo.launcher_proc import DemoProcess
from tests.eidas_node.cdp import Browser
from tests.preview_space.axe import axe_source, violations

pytestmark = pytest.mark.slow


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def test_every_part_serves(demo: DemoProcess) -> None:
    p = demo.ports
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:  # cookies of 127.0.0.1
        for port in (p.lv, p.partner):
            async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                assert resp.status == 200, await resp.text()
        async with http.get(f"http://127.0.0.1:{p.lv}/eidas/idp/metadata") as resp:
            assert resp.status == 200
        async with http.get(f"http://127.0.0.1:{p.common_services}/eb/rest/search",
                            params={"queryId": EB_REQUIREMENTS, "procedure-id": "T2", "country-code": "DE"}) as resp:
            assert resp.status == 200 and SIGNATURE_HEADER in {k.lower() for k in resp.headers}
        async with http.get(demo.portal + "/") as resp:
            page = await resp.text()
            assert resp.status == 200 and 'lang="lv"' in page and 'id="login"' in page
            assert resp.headers["Cache-Control"] == "no-store"
        async with http.post(demo.portal + "/registry", data={"csrf": "forged", "person": "anna"}) as resp:
            assert resp.status == 403 and "DEMO_CSRF" in await resp.text()
        await _refused_logins(http, demo.portal)
    for name in (f"http://127.0.0.1:{p.portal}/", LV_NODE, PARTNER_NODE):
        assert name in demo.output()  # the banner names the URLs and both nodes


async def _refused_logins(http: aiohttp.ClientSession, portal: str) -> None:
    """The ACS answers only its own pending login, and a forged answer ends on an error page with its code."""
    async with http.post(portal + "/acs", data={"SAMLResponse": "PHg+", "RelayState": "guessed"}) as resp:
        assert resp.status == 400 and "DEMO_RELAY_STATE" in await resp.text()
    async with http.get(portal + "/") as resp:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert csrf is not None
    async with http.post(portal + "/login", data={"csrf": csrf.group(1)}) as resp:
        relay = re.search(r'name="RelayState" value="([^"]+)"', await resp.text())
    assert relay is not None
    forged = base64.b64encode(b"<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol'/>").decode()
    async with http.post(portal + "/acs", data={"SAMLResponse": forged, "RelayState": relay.group(1)}) as resp:
        page = await resp.text()
        assert resp.status == 400 and 'id="error-code"' in page, page
    async with http.post(portal + "/acs", data={"SAMLResponse": forged, "RelayState": relay.group(1)}) as resp:
        assert "DEMO_RELAY_STATE" in await resp.text()  # used once


@needs_chromium
async def test_partner_down_shows_the_failure_with_its_code(demo: DemoProcess, browser: Browser) -> None:
    await log_in_with_clicks(browser, demo.portal, user="juergen")
    await browser.evaluate("document.getElementById('preview').click()")  # explicit request, no preview
    os.kill(demo.node_pid(demo.data / "partner"), 9)  # the partner's access point is gone
    assert await request_and_wait(browser, seconds=90) == "failed"
    code = await browser.evaluate("document.getElementById('error-code').textContent")
    assert code.startswith(("OOTS_", "EBMS:", "AS4")), code
    assert await violations(browser, axe_source()) == []
    # The partner's own API is down too: its registry page says so, with a code.
    await browser.navigate(demo.portal + "/registry?lang=en")
    await browser.wait_for("!!document.getElementById('request')")
    await browser.evaluate("document.getElementById('request').click()")
    await browser.wait_for("!!document.getElementById('error-code')")
    assert await browser.evaluate("document.getElementById('error-code').textContent") == "DEMO_NODE_UNREACHABLE"
    assert await violations(browser, axe_source()) == []


def test_ctrl_c_stops_everything_and_a_second_start_reuses_the_data(demo: DemoProcess) -> None:
    children = demo.children()
    assert demo.stop() == 0
    assert "stopped" in demo.output()
    assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    assert not any(_listening(port) for port in (demo.ports.lv, demo.ports.partner, demo.ports.portal,
                                                 demo.ports.common_services))
    again = DemoProcess(demo.data, demo.ports)
    again.log = demo.log
    again.start()
    try:
        assert "reusing the demo network" in again.output(since=again.offset)
        assert "first start" not in again.output(since=again.offset)
        assert len(again.children()) == 2
    finally:
        assert again.stop() == 0
