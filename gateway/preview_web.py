"""The preview space's HTTP side (issue #10): mounted by :func:`add_preview_space` when
``preview_space.enabled``; pages in gateway/preview_web_pages.py, login in gateway/preview_web_login.py.

``GET  <path of oots.preview_base_url>/{token}``  arrival by the PreviewLocation (the requester appends
                                                   ``returnurl``): a new web session, then the login
``GET|POST /preview-space/login``                  choose the national login or a foreign eID
``POST /preview-space/acs/{kind}``                 the IdP's Response (SAML HTTP-POST)
``GET  /preview-space/login/done``                 the identity joins the web session; MDS check; arrival
``GET  /preview-space/evidence[/{n}[/pdf]]``       the evidence list and each evidence (XML rows / inline PDF)
``POST /preview-space/confirm`` → ``/decide``       accept or decline, each confirmed on its own page
``POST /preview-space/leave``                       abandon; ``GET /preview-space/log`` the access log

The web session lives in the database (gateway/preview_sessions.py): its cookie is HttpOnly, SameSite=Lax
and Secure on https; every POST carries a CSRF token bound to it. The arrival token waits in its own
HttpOnly cookie until the MDS matched: only then is it given to the decision port (which uses it up), so a
wrong person neither sees anything nor burns the link. Nothing of the evidence is put in URLs or logs.
"""

from __future__ import annotations

import logging
import secrets
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from gateway.oots_node import OotsNode
from gateway.oots_preview_store import SqlPreviewStore
from gateway.preview_sessions import DbWebSessions
from gateway.preview_web_config import PreviewSpaceSection
from gateway.preview_web_login import KINDS, Idp, Kind, PreviewLogin
from gateway.preview_web_store import PreviewContexts
from gateway.runtime import Node
from gateway.workers import periodic
from oots.preview.service import PreviewService
from pki.keys.port import KeyPurpose
from preview_space.http_policy import page_headers
from preview_space.i18n import LANGUAGES, choose_language, text
from preview_space.pages import render
from preview_space.websec import CsrfRefused, check_csrf, csrf_token

log = logging.getLogger("gateway.preview")
SESSION_COOKIE = "pv_sid"
ARRIVAL_COOKIE = "pv_arrival"
LANG_COOKIE = "pv_lang"
PREFIX = "/preview-space"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Web:
    """Everything a request handler needs; one per node process."""

    node: Node
    settings: PreviewSpaceSection
    oots: OotsNode
    previews: PreviewService
    store: SqlPreviewStore
    contexts: PreviewContexts
    sessions: DbWebSessions
    login: PreviewLogin
    arrival_path: str  # the path of oots.preview_base_url
    secure: bool  # the pages are served over https: cookies are Secure

    # --- language, pages -----------------------------------------------------------------------------------
    def lang(self, request: web.Request, body: dict[str, Any] | None = None) -> str:
        explicit = request.query.get("lang")
        # The switch sets a cookie; the session's language is the one the user arrived with.
        remembered = request.cookies.get(LANG_COOKIE) or (body or {}).get("lang")
        return choose_language(explicit, remembered, request.headers.get("Accept-Language"))

    def page(self, request: web.Request, template: str, *, heading_key: str, lang: str, status: int = 200,
             sid: str | None = None, body: dict[str, Any] | None = None, **context: Any) -> web.Response:
        csrf = csrf_token(bytes.fromhex(body["csrf_key"]), sid) if body and sid else ""
        other = "en" if lang == "lv" else "lv"
        html = render(template, lang=lang, heading=text(heading_key, lang), csrf=csrf, prefix=PREFIX,
                      switch_url=f"{request.path}?lang={other}", other_lang=other, **context)
        targets = [_origin(idp.sso_url) for idp in self.login.idps.values() if idp.sso_url]
        response = web.Response(text=html, content_type="text/html", status=status, headers=page_headers(targets))
        if request.query.get("lang") in LANGUAGES:
            self.set_cookie(response, LANG_COOKIE, lang, max_age=365 * 86400)
        return response

    def message(self, request: web.Request, key: str, *, lang: str, status: int, code: str | None = None,
                sid: str | None = None, body: dict[str, Any] | None = None, return_url: str | None = None,
                heading_key: str | None = None) -> web.Response:
        """A state page: a heading, one sentence, the code (for support), optionally the way back."""
        return self.page(request, "message.html", heading_key=heading_key or key, lang=lang, status=status,
                         sid=sid, body=body, message_key=key, code=code, return_url=return_url,
                         logged_in=bool(body and body.get("person")))

    def set_cookie(self, response: web.StreamResponse, name: str, value: str, *, max_age: int | None = None) -> None:
        response.set_cookie(name, value, httponly=True, samesite="Lax", secure=self.secure, path="/",
                            max_age=max_age)

    # --- web sessions --------------------------------------------------------------------------------------
    async def new_session(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        body = {"csrf_key": secrets.token_hex(32), **body}
        return await self.sessions.create(body, _now()), body

    async def session(self, request: web.Request) -> tuple[str, dict[str, Any]] | None:
        sid = request.cookies.get(SESSION_COOKIE, "")
        body = await self.sessions.get(sid, _now()) if sid else None
        if body is None or body.get("type") == "pending-login":
            return None
        return sid, body

    async def save(self, sid: str, body: dict[str, Any]) -> None:
        await self.sessions.save(sid, body, _now())

    async def posted(self, request: web.Request) -> tuple[str, dict[str, Any], Any] | web.Response:
        """The web session and form of a POST, or the page refusing it (expired session, CSRF)."""
        form = await request.post()
        found = await self.session(request)
        if found is None:
            return self.message(request, "session_expired", lang=self.lang(request), status=401,
                                code="PREVIEW_WEB_SESSION_EXPIRED")
        sid, body = found
        try:
            check_csrf(bytes.fromhex(body["csrf_key"]), sid, str(form.get("csrf", "")) or None)
        except CsrfRefused as exc:
            await self.node.audit.append("preview.web.csrf_refused", "preview-space", None, {"path": request.path})
            return self.message(request, "csrf", lang=self.lang(request, body), status=403, code=exc.code,
                                sid=sid, body=body)
        return sid, body, form


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _tls(settings: PreviewSpaceSection) -> ssl.SSLContext:
    from gateway.config import ConfigError

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    assert settings.tls_cert is not None and settings.tls_key is not None
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError("preview_space.tls_cert", f"cannot load certificate/key: {exc}") from None
    return context


def add_preview_space(app: web.Application, node: Node) -> Web:
    """Mount the preview space on the node's app (or on its own https listener when ``preview_space.port``).
    Needs the OOTS provider (``oots.registers_url``, ``oots.preview_base_url``) and the node's keys; the
    foreign login needs the eIDAS connector (``eidas.enabled``), mounted before this."""
    from gateway.config import ConfigError
    from gateway.eidas_web import CONNECTOR_KEY
    from gateway.oots_requester_api import OOTS_KEY
    from gateway.preview_web_dev import SimulatedNationalIdp
    from gateway.preview_web_pages import add_page_routes

    settings = node.settings.preview_space
    oots = app.get(OOTS_KEY)
    if oots is None or oots.previews is None or oots.preview_flow is None or node.key_store is None:
        raise ConfigError("preview_space.enabled", "needs the OOTS provider role (oots.service_client, "
                                                   "oots.registers_url, oots.preview_base_url) and the node's keys")
    if settings.port and (settings.tls_cert is None or settings.tls_key is None):
        raise ConfigError("preview_space.tls_cert", "a listener of its own (preview_space.port) needs tls_cert/tls_key")
    base = node.settings.oots.preview_base_url.rstrip("/")
    keys = node.key_store
    sessions = DbWebSessions(node.engine, ttl=timedelta(seconds=settings.session_ttl_s))
    idps: dict[Kind, Idp] = {}
    connector = app.get(CONNECTOR_KEY)
    if settings.foreign_login and connector is not None:
        idps["foreign"] = Idp("foreign", connector.idp_sso_url,
                              lambda: keys.published_certificates(KeyPurpose.SAML_SIGNING))
    national = SimulatedNationalIdp() if settings.national_idp == "simulated" else None
    if national is not None:
        idps["national"] = Idp("national", "", lambda: [national.key.certificate])  # URL known once started
    if not idps:
        raise ConfigError("preview_space.national_idp", "no login: set national_idp or enable eidas (foreign_login)")
    signer = keys.signer(KeyPurpose.SAML_SIGNING, family=node.settings.eidas.signing_family)
    # Only the signing key's own certificate: an IdP checks a redirect signature with every listed certificate.
    assert signer.certificate is not None
    login = PreviewLogin(_origin(base), signer, [signer.certificate], sessions, idps)
    store = SqlPreviewStore(node.engine)
    contexts = PreviewContexts(node.engine)
    oots.preview_flow.on_open.append(contexts.save)
    state = Web(node, settings, oots, oots.previews, store, contexts, sessions, login,
                urlsplit(base).path or "/", urlsplit(base).scheme == "https")
    target = web.Application() if settings.port else app
    tls = _tls(settings) if settings.port else None
    add_page_routes(target, state)

    async def start(_app: web.Application) -> None:
        now = _now()
        if connector is not None and "foreign" in idps:
            connector.portals[login.entity_id("foreign")] = login.sp_metadata("foreign", now)
        if national is not None:
            national.sp = login.sp_metadata("national", now)
            await national.start(node.settings.http.host if node.settings.http.host != "0.0.0.0" else "127.0.0.1")
            idps["national"] = Idp("national", national.sso_url, lambda: [national.key.certificate])
            log.warning("simulated Latvian login at %s (development only)", national.base_url)
        if settings.port:
            runner = web.AppRunner(target, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, node.settings.http.host, settings.port, ssl_context=tls).start()
            extras.append(runner)
        log.info("preview space at %s/{token}", base)

    extras: list[web.AppRunner] = []

    async def stop(_app: web.Application) -> None:
        for runner in extras:
            await runner.cleanup()
        if national is not None:
            await national.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.cleanup_ctx.append(_purging(sessions, contexts, node.settings.oots))
    app[WEB_KEY] = state
    return state


def _purging(sessions: DbWebSessions, contexts: PreviewContexts, oots: Any, every_s: float = 300.0):  # type: ignore[no-untyped-def]
    """Expired web sessions and pending logins go at once; a preview's context (the requested person's MDS)
    once no preview can still need it (T2 + T3 after request #1, plus a margin)."""
    keep = timedelta(seconds=oots.t2_s + oots.t3_s + 3600)

    async def purge() -> None:
        now = _now()
        await sessions.purge(now)
        await contexts.purge(now - keep)

    return periodic("preview-purge", every_s, purge, log)


WEB_KEY: web.AppKey[Web] = web.AppKey("preview_web", Web)
__all__ = ["ARRIVAL_COOKIE", "KINDS", "PREFIX", "SESSION_COOKIE", "WEB_KEY", "Web", "add_preview_space"]
