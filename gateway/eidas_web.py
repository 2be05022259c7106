"""HTTP routes of the eIDAS connector: national IdP for portals, country selection, eIDAS ACS.

``POST /eidas/idp/sso``  a portal's signed AuthnRequest → a login session → the country-selection page
``GET|POST /eidas/select`` the page (lv/en, plain HTML form) → a signed eIDAS AuthnRequest to the country
``POST /eidas/acs``      the country's Response → every check → identity mapping → signed answer to the portal
``GET /eidas/metadata``, ``GET /eidas/idp/metadata``  our SP and IdP metadata.
Errors end on a page saying what happened (with its code) and, when a portal is waiting, a button that
returns a SAML error status to it. Nothing the browser sends chooses where it is sent next: the portal's
ACS comes from its metadata, RelayState is only compared with the session it must belong to.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from eidas_node import attributes as attrs
from eidas_node.inbound import read_post, read_redirect
from eidas_node.mapping import MappingRefused
from eidas_node.national import portal_error, portal_response
from eidas_node.request import AuthnRequestSpec, RequestedAttribute, ServiceProvider, build_authn_request, post_binding
from eidas_node.saml import (
    LOA_RANK,
    POST_BINDING,
    STATUS_AUTHN_FAILED,
    STATUS_REQUEST_DENIED,
    STATUS_REQUESTER,
    STATUS_RESPONDER,
    EidasError,
    loa_at_least,
)
from eidas_node.service import check_response, lookup_keys
from eidas_node.stores import PendingRequest
from gateway.eidas_connector import Connector
from gateway.eidas_i18n import TEXTS, country_name, language

log = logging.getLogger("gateway.eidas")
CONNECTOR_KEY: web.AppKey[Connector] = web.AppKey("eidas_connector", Connector)
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("eidas_templates")),
    autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)
_HTML_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                 "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action *; "
                                            "script-src 'unsafe-inline'; frame-ancestors 'none'"}


def _render(template: str, lang: str, status: int = 200, **context: Any) -> web.Response:
    other = "en" if lang == "lv" else "lv"
    context.setdefault("other_url", None)
    body = _TEMPLATES.get_template(template).render(lang=lang, other_lang=other, t=TEXTS[lang], **context)
    return web.Response(text=body, content_type="text/html", status=status, headers=_HTML_HEADERS)


def _autopost(xml: bytes, action: str, relay_state: str | None, field_name: str) -> web.Response:
    return web.Response(text=post_binding(xml, action, relay_state, field_name=field_name), content_type="text/html",
                        headers=_HTML_HEADERS)


def _now() -> datetime:
    return datetime.now(UTC)


class EidasRoutes:
    def __init__(self, connector: Connector) -> None:
        self.c = connector

    def add(self, app: web.Application) -> None:
        app.router.add_get("/eidas/metadata", self.sp_metadata)
        app.router.add_get("/eidas/idp/metadata", self.idp_metadata)
        app.router.add_post("/eidas/idp/sso", self.portal_request)
        app.router.add_get("/eidas/idp/sso", self.portal_request)
        app.router.add_get("/eidas/select", self.select_page)
        app.router.add_post("/eidas/select", self.select)
        app.router.add_post("/eidas/acs", self.acs)

    async def sp_metadata(self, request: web.Request) -> web.Response:
        return web.Response(body=self.c.sp_metadata(), content_type="application/samlmetadata+xml")

    async def idp_metadata(self, request: web.Request) -> web.Response:
        return web.Response(body=self.c.idp_metadata_xml(), content_type="application/samlmetadata+xml")

    def _error(self, lang: str, code: str, *, status: int = 400, portal_form: dict[str, str] | None = None,
               message_key: str | None = None) -> web.Response:
        texts = TEXTS[lang]
        message = texts.get(message_key or code, texts["generic"])
        return _render("error.html", lang, status=status, title=texts["error_title"], code=code, message=message,
                       return_form=portal_form)

    async def portal_request(self, request: web.Request) -> web.Response:
        """HTTP-POST (form) or HTTP-Redirect (signed query string) from a registered portal."""
        lang = language(request.query.get("lang"))
        policy = self.c.checker.expect.policy
        try:
            if request.method == "POST":
                form = await request.post()
                received = read_post(str(form.get("SAMLRequest", "")), self.c.portal, policy)
                relay = form.get("RelayState")
            else:
                received = read_redirect(request.rel_url.raw_query_string, self.c.portal, policy)
                relay = request.query.get("RelayState")
        except EidasError as exc:
            await self.c.node.audit.append("eidas.portal.refused", "eidas-connector", details={"code": exc.code})
            return self._error(lang, exc.code)
        if relay is not None and len(str(relay).encode()) > 80:
            return self._error(lang, "EIDAS_RELAY_STATE")
        loa = received.loa if received.loa in LOA_RANK else self.c.default_loa()
        session_id = secrets.token_urlsafe(24)
        await self.c.sessions.put(session_id, {
            "portal": received.issuer, "request_id": received.request_id, "loa": loa,
            "relay_state": None if relay is None else str(relay)},
            _now() + timedelta(seconds=self.c.settings.request_ttl_s))
        raise web.HTTPSeeOther(f"/eidas/select?s={session_id}&lang={lang}")

    async def select_page(self, request: web.Request) -> web.Response:
        lang = language(request.query.get("lang"))
        session_id = request.query.get("s", "")
        session = await self.c.sessions.get(session_id, _now())
        if session is None:
            return self._error(lang, "EIDAS_SESSION_UNKNOWN")
        other = "en" if lang == "lv" else "lv"
        countries = sorted(((code, country_name(code, lang)) for code in self.c.countries), key=lambda p: p[1])
        return _render("select.html", lang, title=TEXTS[lang]["title"], countries=countries, session=session_id,
                       action="/eidas/select", portal=session["portal"],
                       other_url=f"/eidas/select?s={session_id}&lang={other}")

    async def select(self, request: web.Request) -> web.Response:
        form = await request.post()
        lang = language(str(form.get("lang", "")))
        session_id = str(form.get("s", ""))
        now = _now()
        session = await self.c.sessions.get(session_id, now)
        if session is None:
            return self._error(lang, "EIDAS_SESSION_UNKNOWN")
        code = str(form.get("country", ""))
        try:
            metadata = await self.c.metadata_for(code, now)
        except EidasError as exc:
            return self._error(lang, exc.code, status=400 if exc.code == "EIDAS_COUNTRY_UNKNOWN" else 502)
        destination = metadata.sso.get(POST_BINDING)
        if destination is None:
            return self._error(lang, "EIDAS_METADATA_MALFORMED", status=502)
        if metadata.loas and not any(loa_at_least(offered, session["loa"]) for offered in metadata.loas):
            # The country publishes no level as high as the portal needs: say so now, not after a login.
            return self._error(lang, "EIDAS_LOA_UNAVAILABLE", status=400)
        requested = [RequestedAttribute(name, True) for name in attrs.NATURAL_MDS]
        if self.c.settings.request_legal_person:  # representatives: the company's data set, optional
            requested += [RequestedAttribute(name, False) for name in attrs.LEGAL_MDS]
        spec = AuthnRequestSpec(destination, session["loa"], requested, requester_id=session["portal"])
        settings = self.c.node.settings
        built = build_authn_request(ServiceProvider(settings.eidas.entity_id, settings.eidas.acs_url,
                                                    country=settings.node.country, sp_type=settings.eidas.sp_type),
                                    spec, now, signer=self.c.signer())
        await self.c.pending.put(PendingRequest(
            built.request_id, code, metadata.entity_id, session["loa"], attrs.NATURAL_MDS, now,
            now + timedelta(seconds=self.c.settings.request_ttl_s), {"sid": session_id, "lang": lang}))
        await self.c.node.audit.append("eidas.request.sent", "eidas-connector", details={
            "country": code, "request_id": built.request_id, "loa": session["loa"], "portal": session["portal"]})
        # RelayState is our session id: opaque, short, and only ever compared, never followed.
        return _autopost(built.xml, destination, session_id, "SAMLRequest")

    async def acs(self, request: web.Request) -> web.Response:
        form = await request.post()
        now = _now()
        try:
            data = base64.b64decode(str(form.get("SAMLResponse", "")), validate=True)
        except (binascii.Error, ValueError):
            return self._error("lv", "EIDAS_BINDING_MALFORMED")
        relay = form.get("RelayState")
        _issuer, in_response_to = lookup_keys(data)
        pending = await self.c.pending.get(in_response_to) if in_response_to else None
        if pending is not None and relay != pending.session.get("sid"):
            # Not ours (or tampered): refuse without using the request up and without following it anywhere.
            await self._audit_failure("EIDAS_RELAY_STATE", pending, "RelayState does not belong to the request")
            return self._error(pending.session.get("lang", "lv"), "EIDAS_RELAY_STATE")
        try:
            if pending is not None:
                await self.c.metadata_for(pending.country, now)
        except EidasError:
            pass  # the checker reports the missing metadata by name
        report, taken = await check_response(
            self.c.checker, data, metadata_for=lambda code: self.c.cached(code, now),
            metadata_by_issuer=lambda entity: self.c.cache.by_entity(entity, now), pending=self.c.pending,
            replay=self.c.replay, now=now)
        request_state = taken or pending
        lang = request_state.session.get("lang", "lv") if request_state else "lv"
        session_id = request_state.session.get("sid") if request_state else None
        session = await self.c.sessions.get(session_id, now) if session_id else None
        if not report.ok or report.identity is None:
            failure = report.failure
            code = failure.code if failure else "EIDAS_RESPONSE_REFUSED"
            await self._audit_failure(code, request_state, failure.detail if failure else "")
            if report.status is not None:
                cancelled = report.status.endswith("RequestDenied")
                key = "EIDAS_STATUS_CANCELLED" if cancelled else "EIDAS_STATUS_FAILED"
                second = STATUS_REQUEST_DENIED if cancelled else STATUS_AUTHN_FAILED
                top = STATUS_REQUESTER if cancelled else STATUS_RESPONDER
                return self._error(lang, key, status=200, message_key=key, portal_form=await self._portal_error(
                    session_id, session, top, second, report.status_message or key))
            return self._error(lang, code, portal_form=await self._portal_error(
                session_id, session, STATUS_RESPONDER, STATUS_AUTHN_FAILED, code))
        try:
            mapped = await self.c.mapper.map(report.identity, now, correlation=report.assertion_id)
        except MappingRefused as exc:
            await self._audit_failure(exc.code, request_state, exc.message)
            return self._error(lang, exc.code, status=200, portal_form=await self._portal_error(
                session_id, session, STATUS_RESPONDER, STATUS_AUTHN_FAILED, exc.code))
        if session is None or session_id is None or await self.c.sessions.take(session_id) is None:
            return self._error(lang, "EIDAS_SESSION_UNKNOWN")
        portal = self.c.portal(session["portal"])
        await self.c.node.audit.append("eidas.login.succeeded", "eidas-connector", subject=mapped.national_id,
                                       details={"country": report.identity.country, "loa": report.identity.loa,
                                                "portal": portal.entity_id, "matched_by": mapped.how,
                                                "assertion_id": report.assertion_id})
        xml = portal_response(issuer=self.c.idp_entity_id, signer=self.c.signer(), portal=portal,
                              in_response_to=session["request_id"], mapped=mapped, now=now)
        return _autopost(xml, portal.acs_url, session.get("relay_state"), "SAMLResponse")

    async def _portal_error(self, session_id: str | None, session: dict[str, Any] | None, top: str, second: str,
                            message: str) -> dict[str, str] | None:
        if session is None or session_id is None:
            return None
        await self.c.sessions.take(session_id)
        try:
            portal = self.c.portal(session["portal"])
        except EidasError:
            return None
        xml = portal_error(issuer=self.c.idp_entity_id, signer=self.c.signer(), portal=portal,
                           in_response_to=session["request_id"], top=top, second=second, message=message, now=_now())
        return {"action": portal.acs_url, "response": base64.b64encode(xml).decode(),
                "relay_state": session.get("relay_state") or ""}

    async def _audit_failure(self, code: str, pending: PendingRequest | None, detail: str) -> None:
        await self.c.node.audit.append("eidas.login.failed", "eidas-connector", details={
            "code": code, "detail": detail[:500], "country": pending.country if pending else None,
            "request_id": pending.request_id if pending else None})


def add_eidas_routes(app: web.Application, connector: Connector) -> EidasRoutes:
    routes = EidasRoutes(connector)
    routes.add(app)
    app[CONNECTOR_KEY] = connector

    async def close(_app: web.Application) -> None:
        await connector.close()

    app.on_cleanup.append(close)
    return routes
