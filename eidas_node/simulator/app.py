"""Simulated foreign proxy services on loopback: one aiohttp server, one path prefix per country.

``/{CC}/metadata`` serves signed proxy-service metadata, ``/{CC}/sso`` takes a signed AuthnRequest (HTTP-POST
or HTTP-Redirect) and shows a login page listing the country's test users, ``/{CC}/login`` answers the
connector's ACS with a signed, encrypted eIDAS Response through an HTML form (HTTP-POST binding). Tests set
``faults`` per country to get deliberately broken responses.
"""

from __future__ import annotations

import base64
import html
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web
from cryptography import x509

from eidas_node.inbound import ReceivedRequest, read_post, read_redirect
from eidas_node.metadata import SpMetadata, build_idp_metadata, parse_sp_metadata
from eidas_node.request import post_binding
from eidas_node.saml import LOA_HIGH, LOA_LOW, LOA_SUBSTANTIAL, STATUS_REQUEST_DENIED, EidasError
from eidas_node.simulator.keys import KeyPair, make_key
from eidas_node.simulator.responses import NO_FAULTS, Faults, ProxyService, RequestInfo, TestUser, build_response
from eidas_node.simulator.users import default_users


@dataclass
class SimulatedCountry:
    code: str
    key: KeyPair
    users: dict[str, TestUser]
    faults: Faults = NO_FAULTS
    entity_id: str = ""

    def service(self) -> ProxyService:
        return ProxyService(self.entity_id, self.code, self.key.signer)


@dataclass
class _Login:
    country: str
    request: ReceivedRequest
    relay_state: str | None


@dataclass
class Simulator:
    countries: dict[str, SimulatedCountry] = field(default_factory=dict)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    base_url: str = ""
    sp: SpMetadata | None = None
    issued: list[bytes] = field(default_factory=list)  # every response sent, for replay tests
    _logins: dict[str, _Login] = field(default_factory=dict)
    _runner: web.AppRunner | None = None

    @classmethod
    def create(cls, codes: Iterable[str], *, family: str = "ec", clock: Callable[[], datetime] | None = None,  # type: ignore[no-untyped-def]
               destination: str = "LV"):
        simulator = cls(clock=clock or (lambda: datetime.now(UTC)))
        now = simulator.clock()
        for code in codes:
            simulator.countries[code] = SimulatedCountry(code, make_key(f"eIDAS proxy service {code}", family, now),
                                                         default_users(code, destination))
        return simulator

    def trust_anchor(self, code: str) -> x509.Certificate:
        return self.countries[code].key.certificate

    def register_sp(self, metadata: bytes, anchors: list[x509.Certificate]) -> None:
        self.sp = parse_sp_metadata(metadata, anchors=anchors, now=self.clock())

    def metadata(self, code: str) -> bytes:
        country = self.countries[code]
        return build_idp_metadata(entity_id=country.entity_id, sso_url=f"{self.base_url}/{code}/sso", country=code,
                                  signer=country.key.signer, signing_certificates=[country.key.certificate],
                                  encryption_certificates=[country.key.certificate], now=self.clock(),
                                  loas=[LOA_LOW, LOA_SUBSTANTIAL, LOA_HIGH])

    def app(self) -> web.Application:
        app = web.Application(client_max_size=512 * 1024)
        app.router.add_get("/{cc}/metadata", self._metadata)
        app.router.add_route("*", "/{cc}/sso", self._sso)
        app.router.add_post("/{cc}/login", self._login)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://{host}:{bound}"
        for code, country in self.countries.items():
            country.entity_id = f"{self.base_url}/{code}/metadata"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _country(self, request: web.Request) -> SimulatedCountry:
        country = self.countries.get(request.match_info["cc"])
        if country is None:
            raise web.HTTPNotFound(text="unknown country")
        return country

    async def _metadata(self, request: web.Request) -> web.Response:
        country = self._country(request)
        return web.Response(body=self.metadata(country.code), content_type="application/samlmetadata+xml")

    async def _sso(self, request: web.Request) -> web.Response:
        country = self._country(request)
        if self.sp is None:
            raise web.HTTPServiceUnavailable(text="no connector registered with the simulator")
        try:
            if request.method == "POST":
                form = await request.post()
                received = read_post(str(form.get("SAMLRequest", "")), self.sp)
                relay = form.get("RelayState")
            else:
                received = read_redirect(request.rel_url.raw_query_string, self.sp)
                relay = request.query.get("RelayState")
        except EidasError as exc:
            return web.Response(status=400, text=f"{exc.code}: {exc.message}")
        login_id = secrets.token_urlsafe(16)
        self._logins[login_id] = _Login(country.code, received, None if relay is None else str(relay))
        return web.Response(text=_login_page(country, login_id, received), content_type="text/html")

    async def _login(self, request: web.Request) -> web.Response:
        country = self._country(request)
        form = await request.post()
        login = self._logins.pop(str(form.get("login", "")), None)
        if login is None or login.country != country.code or self.sp is None:
            return web.Response(status=400, text="unknown or finished login")
        user = country.users.get(str(form.get("user", "")))
        faults = country.faults
        if form.get("action") == "cancel":
            faults, user = Faults(status=STATUS_REQUEST_DENIED), None
        info = RequestInfo(login.request.request_id, login.request.acs_url, self.sp.entity_id,
                           login.request.loa or LOA_LOW)
        recipient = self.sp.encryption_certificates[0]
        data = build_response(country.service(), info, user, recipient, self.clock(), faults)
        self.issued.append(data)
        page = post_binding(data, login.request.acs_url, login.relay_state, field_name="SAMLResponse")
        return web.Response(text=page, content_type="text/html")


def _login_page(country: SimulatedCountry, login_id: str, received: ReceivedRequest) -> str:
    options = "".join(
        f'<div><input type="radio" name="user" id="u-{html.escape(name)}" value="{html.escape(name)}"'
        f'{" checked" if index == 0 else ""}><label for="u-{html.escape(name)}">'
        f"{html.escape(user.given_name)} {html.escape(user.family_name)} ({html.escape(name)})</label></div>"
        for index, (name, user) in enumerate(country.users.items()))
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>eID {country.code} (simulator)</title>'
        '</head><body><main><h1>Simulated eID of ' + country.code + '</h1>'
        f"<p>Requested level of assurance: {html.escape(received.loa or '-')}</p>"
        f'<form method="post" action="login"><input type="hidden" name="login" value="{login_id}">'
        f'<fieldset><legend>Test user</legend>{options}</fieldset>'
        '<button type="submit" name="action" value="login" id="login">Log in</button> '
        '<button type="submit" name="action" value="cancel" id="cancel">Cancel</button>'
        "</form></main></body></html>"
    )


def decode_form_response(page: str) -> tuple[bytes, str | None]:
    """Pull SAMLResponse and RelayState out of an HTTP-POST binding page (for tests and the CLI)."""
    import re

    found = re.search(r'name="SAMLResponse" value="([^"]+)"', page)
    relay = re.search(r'name="RelayState" value="([^"]*)"', page)
    if found is None:
        raise ValueError("no SAMLResponse in the page")
    return base64.b64decode(found.group(1)), None if relay is None else html.unescape(relay.group(1))
