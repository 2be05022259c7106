"""A small Latvian portal (SAML SP) for demos and browser tests: asks the node's national IdP to log a
foreign user in and shows who came back. It checks what a real portal must: the node's signatures (by the
certificate it was configured with), destination, InResponseTo, audience; it decrypts with its own key."""

from __future__ import annotations

import base64
import html
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web
from cryptography import x509

from eidas_node.metadata import build_sp_metadata
from eidas_node.request import AuthnRequestSpec, RequestedAttribute, ServiceProvider, build_authn_request, post_binding
from eidas_node.saml import LOA_SUBSTANTIAL
from eidas_node.simulator.keys import KeyPair, make_key
from eidas_node.sp_response import IdpResponseRefused, read_idp_response


class PortalError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class DemoPortal:
    idp_sso_url: str
    idp_certificate: x509.Certificate
    idp_entity_id: str
    key: KeyPair = field(default_factory=lambda: make_key("demo portal", "ec", datetime.now(UTC)))
    base_url: str = ""
    _pending: set[str] = field(default_factory=set)

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}/metadata"

    @property
    def acs_url(self) -> str:
        return f"{self.base_url}/acs"

    def metadata(self) -> bytes:
        return build_sp_metadata(entity_id=self.entity_id, acs_url=self.acs_url, country="LV", sp_type="public",
                                 signer=self.key.signer, signing_certificates=[self.key.certificate],
                                 encryption_certificates=[self.key.certificate], now=datetime.now(UTC))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self._home)
        app.router.add_get("/metadata", self._metadata)
        app.router.add_post("/login", self._login)
        app.router.add_post("/acs", self._acs)
        return app

    async def _metadata(self, request: web.Request) -> web.Response:
        return web.Response(body=self.metadata(), content_type="application/samlmetadata+xml")

    async def _home(self, request: web.Request) -> web.Response:
        return _page("Demo portāls", '<form method="post" action="/login"><button type="submit" id="login">'
                     "Pieteikties ar ārvalstu eID / Log in with a foreign eID</button></form>")

    async def _login(self, request: web.Request) -> web.Response:
        return web.Response(text=self.login_form(secrets.token_urlsafe(12)), content_type="text/html")

    def login_form(self, relay_state: str, *, lang: str | None = None, provider_name: str = "Demo portal") -> str:
        """The auto-posting page carrying a signed AuthnRequest to the node's national IdP (``lang``: the
        language the node's country selection opens in)."""
        spec = AuthnRequestSpec(self.idp_sso_url, LOA_SUBSTANTIAL, [RequestedAttribute(
            "http://eidas.europa.eu/attributes/naturalperson/PersonIdentifier", True)])
        built = build_authn_request(ServiceProvider(self.entity_id, self.acs_url, provider_name=provider_name),
                                    spec, datetime.now(UTC), signer=self.key.signer)
        self._pending.add(built.request_id)
        action = f"{self.idp_sso_url}?lang={lang}" if lang else self.idp_sso_url
        return post_binding(built.xml, action, relay_state)

    async def _acs(self, request: web.Request) -> web.Response:
        form = await request.post()
        try:
            who = self.read_response(base64.b64decode(str(form.get("SAMLResponse", ""))))
        except PortalError as exc:
            return _page("Kļūda / Error", f'<p id="error-code">{html.escape(exc.code)}</p>'
                         f"<p>{html.escape(str(exc))}</p>", status=400)
        rows = "".join(f'<dt>{html.escape(k.rsplit(":", 1)[-1].rsplit("/", 1)[-1])}</dt>'
                       f'<dd id="attr-{html.escape(k.rsplit(":", 1)[-1].rsplit("/", 1)[-1])}">'
                       f'{html.escape(", ".join(v))}</dd>' for k, v in who["attributes"].items())
        return _page("Sveiki / Welcome", f'<p>Personas kods: <strong id="national-id">{html.escape(who["name_id"])}'
                     f'</strong></p><p id="loa">{html.escape(who["loa"])}</p><dl>{rows}</dl>')

    def read_response(self, data: bytes) -> dict:  # type: ignore[type-arg]
        try:
            who = read_idp_response(data, idp_certificates=[self.idp_certificate], acs_url=self.acs_url,
                                    entity_id=self.entity_id, decrypter=self.key.decrypter,
                                    solicited=lambda request_id: request_id in self._pending)
        except IdpResponseRefused as exc:
            raise PortalError(exc.code, str(exc)) from None
        self._pending.discard(who["in_response_to"])
        return who


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (f'<!DOCTYPE html><html lang="lv"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
            f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>")
    return web.Response(text=text, content_type="text/html", status=status)


