"""Development parts of the preview space (never in production configurations):

* a **simulated Latvian national login** (``preview_space.national_idp = "simulated"``): a SAML IdP on its own
  loopback port with made-up people of the sample registers; it reads the preview space's signed
  HTTP-Redirect AuthnRequest (eidas_node.inbound) and answers with a signed Response built like the node's
  national IdP answers portals (eidas_node.national.portal_response), so the preview space checks both logins
  with one SP code path (eidas_node.sp_response);
* a self-signed loopback TLS certificate for the preview space's own https listener.
"""

from __future__ import annotations

import html
import ipaddress
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from eidas_node import attributes as attrs
from eidas_node.identity import ForeignIdentity, NaturalPerson
from eidas_node.inbound import ReceivedRequest, read_redirect
from eidas_node.mapping import MappedIdentity
from eidas_node.metadata import SpMetadata
from eidas_node.national import portal_error, portal_response
from eidas_node.request import post_binding
from eidas_node.saml import LOA_HIGH, STATUS_AUTHN_FAILED, STATUS_REQUEST_DENIED, STATUS_REQUESTER, EidasError
from eidas_node.simulator.keys import KeyPair, make_key
from gateway.web.listen import start_site

NATIONAL_SCHEME = "lv-personal-code"


@dataclass(frozen=True)
class LatvianUser:
    personal_code: str
    family_name: str
    given_name: str
    date_of_birth: str


# People of oots.dataservice.latvian_registers' sample data (Anna has a diploma and a birth record).
USERS = {
    "anna": LatvianUser("010190-10001", "Bērziņa", "Anna", "1990-01-01"),
    "janis": LatvianUser("150585-10002", "Ozols", "Jānis", "1985-05-15"),
    "jack": LatvianUser("320399-10004", "Smith", "Jack", "1999-03-01"),
}


@dataclass
class SimulatedNationalIdp:
    """The simulated Latvian login. ``sp`` is the preview space's SP metadata (set by the preview space)."""

    key: KeyPair = field(default_factory=lambda: make_key("simulated Latvian login", "ec", datetime.now(UTC)))
    base_url: str = ""
    sp: SpMetadata | None = None
    _logins: dict[str, tuple[ReceivedRequest, str | None]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}/metadata"

    @property
    def sso_url(self) -> str:
        return f"{self.base_url}/sso"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/sso", self._sso)
        app.router.add_post("/login", self._login)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner, bound = await start_site(self.app(), host, port)
        self.base_url = f"http://{host}:{bound}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _sso(self, request: web.Request) -> web.Response:
        if self.sp is None:
            return web.Response(status=503, text="no service provider registered")
        try:
            received = read_redirect(request.rel_url.raw_query_string, self.sp)
        except EidasError as exc:
            return web.Response(status=400, text=f"{exc.code}: refused")
        login_id = secrets.token_urlsafe(16)
        self._logins[login_id] = (received, request.query.get("RelayState"))
        return web.Response(text=_login_page(login_id), content_type="text/html")

    async def _login(self, request: web.Request) -> web.Response:
        form = await request.post()
        entry = self._logins.pop(str(form.get("login", "")), None)
        if entry is None or self.sp is None:
            return web.Response(status=400, text="unknown or finished login")
        received, relay = entry
        now = datetime.now(UTC)
        user = USERS.get(str(form.get("user", "")))
        if form.get("action") == "cancel" or user is None:
            second = STATUS_REQUEST_DENIED if form.get("action") == "cancel" else STATUS_AUTHN_FAILED
            xml = portal_error(issuer=self.entity_id, signer=self.key.signer, portal=self.sp,
                               in_response_to=received.request_id, top=STATUS_REQUESTER, second=second,
                               message="login cancelled" if form.get("action") == "cancel" else "unknown user",
                               now=now)
        else:
            xml = portal_response(issuer=self.entity_id, signer=self.key.signer, portal=self.sp,
                                  in_response_to=received.request_id, mapped=_mapped(user, self.entity_id, now),
                                  now=now)
        page = post_binding(xml, self.sp.acs_url, relay, field_name="SAMLResponse")
        return web.Response(text=page, content_type="text/html")


def _mapped(user: LatvianUser, issuer: str, now: datetime) -> MappedIdentity:
    person = NaturalPerson(f"LV/LV/{user.personal_code}", user.family_name, user.given_name,
                           date.fromisoformat(user.date_of_birth))
    identity = ForeignIdentity(country="LV", issuer=issuer, loa=LOA_HIGH, authn_instant=now,
                               name_id=user.personal_code, natural=person, attributes={
                                   attrs.FAMILY_NAME: (user.family_name,), attrs.GIVEN_NAME: (user.given_name,),
                                   attrs.DATE_OF_BIRTH: (user.date_of_birth,)}, source="lv-national-login")
    return MappedIdentity(user.personal_code, None, "link", identity)


def _login_page(login_id: str) -> str:
    options = "".join(
        f'<div><input type="radio" name="user" id="u-{name}" value="{name}"{" checked" if i == 0 else ""}>'
        f'<label for="u-{name}">{html.escape(u.given_name)} {html.escape(u.family_name)} ({u.personal_code})'
        "</label></div>" for i, (name, u) in enumerate(USERS.items()))
    return (
        '<!DOCTYPE html><html lang="lv"><head><meta charset="utf-8"><title>Latvija.lv (simulācija)</title></head>'
        "<body><main><h1>Simulēta Latvijas eID pieteikšanās / Simulated Latvian eID login</h1>"
        f'<form method="post" action="login"><input type="hidden" name="login" value="{login_id}">'
        f"<fieldset><legend>Persona / Person</legend>{options}</fieldset>"
        '<button type="submit" name="action" value="login" id="login">Pieteikties / Log in</button> '
        '<button type="submit" name="action" value="cancel" id="cancel">Atcelt / Cancel</button>'
        "</form></main></body></html>")


def dev_settings(tls_dir: Path, port: int, *, return_origins: dict[str, list[str]],
                 host: str = "127.0.0.1") -> dict[str, str]:
    """The settings (``section__key`` as for ``GATEWAY_*`` variables) of a development preview space on its own
    https listener at ``https://host:port``, with the simulated Latvian login and a fresh self-signed
    certificate in ``tls_dir`` (browsers and clients pin ``tls_dir/preview-tls.pem``). A dev launcher adds
    these to the provider node's settings; the foreign login also needs ``eidas__enabled``."""
    import json

    cert, key = write_dev_tls(tls_dir, host=host)
    return {"oots__preview_base_url": f"https://{host}:{port}/preview-space/p",
            "preview_space__enabled": "true", "preview_space__port": str(port),
            "preview_space__tls_cert": str(cert), "preview_space__tls_key": str(key),
            "preview_space__national_idp": "simulated",
            "preview_space__return_origins": json.dumps(return_origins)}


def write_dev_tls(directory: Path, *, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for ``host`` (and localhost), valid 30 days; returns (cert, key) paths.
    Browsers and test clients pin this certificate; it is never a production credential."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"preview space (development) {host}")])
    now = datetime.now(UTC)
    alt: list[x509.GeneralName] = [x509.DNSName("localhost")]
    try:
        alt.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        alt.append(x509.DNSName(host))
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "preview-tls.pem", directory / "preview-tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path
