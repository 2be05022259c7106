"""Two node processes with the preview space (tests/oots/oots_net.py + gateway/oots_devnet.py), and a user
agent that plays the browser over real HTTP: it keeps cookies, follows redirects and submits the page's forms
as a browser would (hidden fields with the CSRF token, the chosen radio, the pressed button).

The provider node serves the preview space on its own https listener (a self-signed loopback certificate the
user agent pins), the simulated Latvian login and, through its eIDAS connector, a foreign login with the
proxy-service simulator for DE."""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import aiohttp
import lxml.html
from yarl import URL

from gateway.devnet import BackendClient, DevNode, NodeProcess, free_port
from gateway.oots_devnet import OotsPair, prepare_oots_pair, write_trust_dir
from gateway.preview_web_dev import dev_settings
from pki.specs import default_specs_dir
from tests.oots.oots_net import SimulatorThread

RETURN_URL = "https://portal.gov.lv/back?case=7"
TIMEOUTS = {"t1_s": 20, "t2_s": 60, "t3_s": 90, "requester_margin_s": 4, "lease_s": 2}


@dataclasses.dataclass
class PreviewNet:
    pair: OotsPair
    procs: tuple[NodeProcess, NodeProcess]
    preview_origin: str
    tls_cert: Path

    @property
    def provider(self) -> DevNode:
        return self.pair.provider


def start_net(base: Path, simulator: SimulatorThread, version: str = "oots-edm:v2.0") -> PreviewNet:
    trust = write_trust_dir(base / "cs-trust", simulator.certificate_pem)
    portal_node = DevNode("DE-GW", base / "de", free_port())
    provider_node = DevNode("LV-GW-DEV", base / "lv", free_port())
    pair = asyncio.run(prepare_oots_pair(portal_node, provider_node, cs_url=simulator.url, cs_trust_dir=trust,
                                         versions=(version,), timeouts=TIMEOUTS, register_timeout_s=5))
    port = free_port()
    origin = f"https://127.0.0.1:{port}"
    provider_node.settings_overrides.update(dev_settings(base / "preview-tls", port,
                                                         return_origins={"*": ["https://portal.gov.lv"]}))
    provider_node.settings_overrides.update({
        "eidas__enabled": "true", "eidas__public_url": provider_node.url, "eidas__simulator_countries": "DE"})
    specs = default_specs_dir()  # the connector needs the SAML/eIDAS schemas (GATEWAY_SPECS_DIR, not a setting)
    if specs is not None:
        provider_node.settings_overrides["specs_dir"] = str(specs)
    procs = (NodeProcess(portal_node), NodeProcess(provider_node))
    for proc in procs:
        proc.start()
    return PreviewNet(pair, procs, origin, base / "preview-tls" / "preview-tls.pem")


def stop_net(net: PreviewNet) -> None:
    for proc in net.procs:
        proc.stop()


@dataclasses.dataclass
class Page:
    status: int
    url: str
    text: str

    @property
    def doc(self) -> Any:
        return lxml.html.fromstring(self.text)

    def by_id(self, ident: str) -> Any:
        found = self.doc.xpath(f"//*[@id='{ident}']")
        return found[0] if found else None

    def text_of(self, ident: str) -> str | None:
        element = self.by_id(ident)
        return None if element is None else element.text_content().strip()


class UserAgent:
    """A browser without a screen: cookies (also for IP hosts), redirects, forms."""

    def __init__(self, tls_cert: Path | None) -> None:
        self.ssl = ssl.create_default_context(cafile=str(tls_cert) if tls_cert else None)
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                          connector=aiohttp.TCPConnector(ssl=self.ssl))

    async def close(self) -> None:
        await self.http.close()

    async def get(self, url: str) -> Page:
        return await self._request("GET", url)

    async def post(self, url: str, data: dict[str, str]) -> Page:
        return await self._request("POST", url, data)

    async def _request(self, method: str, url: str, data: dict[str, str] | None = None) -> Page:
        """Redirects are followed like a browser does: the Location exactly as sent (a signed SAML
        HTTP-Redirect query must not be re-quoted), 303 → GET."""
        target: str | URL = url
        for _ in range(10):
            async with self.http.request(method, target, data=data, allow_redirects=False) as reply:
                if reply.status in (301, 302, 303, 307, 308):
                    location = urljoin(str(reply.url), reply.headers["Location"])
                    target = URL(location, encoded=True)
                    if reply.status in (301, 302, 303):
                        method, data = "GET", None
                    continue
                return Page(reply.status, str(reply.url), await reply.text())
        raise AssertionError(f"too many redirects from {url}")

    @staticmethod
    def form(page: Page, button: str | None = None, choose: dict[str, str] | None = None
             ) -> tuple[str, dict[str, str]]:
        """The form holding the element with id ``button`` (else the first form), as the browser submits it."""
        doc = page.doc
        if button is not None:
            found = doc.xpath(f"//form[.//*[@id='{button}']]")
            assert found, f"no form with #{button} on {page.url}: {page.text[:300]}"
            form = found[0]
        else:
            assert doc.forms, f"no form on {page.url}: {page.text[:300]}"
            form = doc.forms[0]
        data = {name: value for name, value in form.form_values()}
        if button is not None:
            pressed = doc.xpath(f"//*[@id='{button}']")[0]
            if pressed.get("name"):
                data[pressed.get("name")] = pressed.get("value", "")
        data.update(choose or {})
        return urljoin(page.url, form.get("action") or page.url), data

    async def submit(self, page: Page, button: str | None = None, choose: dict[str, str] | None = None) -> Page:
        return await self.post(*self.form(page, button, choose))

    async def autopost(self, page: Page) -> Page:
        """An HTTP-POST binding page (SAML): submit its form as the page's script would."""
        assert "SAMLRe" in page.text, page.text[:300]
        return await self.submit(page)

    async def national_login(self, login_page: Page, user: str, *, action: str = "login") -> Page:
        """From the preview space's login page through the simulated Latvian login back to the preview space."""
        idp = await self.submit(login_page, "login-submit", {"method": "national"})
        assert "Simulēta Latvijas eID" in idp.text, idp.text[:300]
        return await self.autopost(await self.submit(idp, action, {"user": user}))

    async def foreign_login(self, login_page: Page, country: str, user: str) -> Page:
        """Through the node's eIDAS connector: country selection, the country's (simulated) eID, back."""
        select = await self.submit(login_page, "login-submit", {"method": "foreign"})
        assert f"country-{country}" in select.text, select.text[:300]
        simulator = await self.autopost(await self.submit(select, None, {"country": country}))
        login = await self.submit(simulator, "login", {"user": user})
        at_node = await self.autopost(login)  # the country's Response → the connector's ACS
        return await self.autopost(at_node)  # the connector's answer → the preview space's ACS


async def portal_client(net: PreviewNet, http: aiohttp.ClientSession) -> BackendClient:
    return BackendClient(net.pair.requester, http)
