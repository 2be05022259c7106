"""The demo procedure portal (server-rendered, Latvian/English, no JavaScript needed): a thin client of the
nodes' requester API, as a real portal would be.

``/``          apply for studies: log in with a foreign eID through the LV node's national IdP (SAML, the
               eIDAS connector), then request the diploma from the issuing country → status page.
``/registry``  the other direction: the partner member state's registry asks Latvia for a birth record (the
               request goes through the partner node's requester API).
``/applications/{id}``  progress (meta refresh while waiting), the redirect to the PreviewLocation (with the
               portal's return URL) when preview is required, then the evidence rendered, or the error with its
               code. ``/return/{token}`` is where the preview space sends the user back (the token names the request).

Sessions live in this process (a demo); the cookie is HttpOnly and SameSite=Lax, every form carries a CSRF
token, and only ids appear in URLs, never evidence or personal data.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from eidas_node.demo_portal import DemoPortal, PortalError
from gateway.demo.catalogue import BIRTH, STUDIES
from gateway.demo.client import ApiClient, ApiUnavailable
from gateway.demo.evidence import render_evidence
from gateway.demo.texts import COUNTRIES, TEXTS, language

log = logging.getLogger("gateway.demo.portal")
COOKIE = "demo_session"
LANG_COOKIE = "demo_lang"
WAITING = frozenset({"discovering", "exchanging", "preview-required", "input-required"})
REFRESH_S = 2
MAX_SESSIONS = 10_000
_NP = "http://eidas.europa.eu/attributes/naturalperson/"
_LOAS = {"low": "Low", "substantial": "Substantial", "high": "High"}
# People of the Latvian sample registers a foreign registry may ask about (oots/dataservice/latvian_registers.py).
REGISTRY_PEOPLE = {
    "anna": {"family_name": "Bērziņa", "given_name": "Anna", "date_of_birth": "1990-01-01",
             "identifier": "LV/DE/ANNA-1", "level_of_assurance": "High"},
    "janis": {"family_name": "Ozols", "given_name": "Jānis", "date_of_birth": "1985-05-15",
              "identifier": "LV/DE/OZOLS-3", "level_of_assurance": "High"},
}
_TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                                autoescape=jinja2.select_autoescape(["html"], default=True),
                                undefined=jinja2.StrictUndefined)
_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
                                       "form-action *; frame-ancestors 'none'"}


@dataclass
class Session:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    user: dict[str, str] | None = None
    relay: str | None = None
    requests: dict[str, str] = field(default_factory=dict)  # request id → which node's API ("lv" | "partner")
    sent_to_preview: set[str] = field(default_factory=set)  # exchanges the user was redirected for
    returns: dict[str, str] = field(default_factory=dict)  # return-link token → request id


class ProcedurePortal:
    def __init__(self, saml: DemoPortal, apis: Mapping[str, ApiClient]) -> None:
        self.saml = saml
        self.apis = dict(apis)
        self.sessions: dict[str, Session] = {}
        self.relays: dict[str, str] = {}  # SAML RelayState → session id

    @property
    def base_url(self) -> str:
        return self.saml.base_url

    def app(self) -> web.Application:
        app = web.Application(client_max_size=256 * 1024)
        r = app.router
        r.add_get("/", self.home)
        r.add_get("/metadata", self.metadata)
        r.add_post("/login", self.login)
        r.add_post("/acs", self.acs)
        r.add_post("/logout", self.logout)
        r.add_post("/apply", self.apply)
        r.add_get("/registry", self.registry_page)
        r.add_post("/registry", self.registry_request)
        r.add_get("/return/{back}", self.returned)
        r.add_get("/applications/{request_id}", self.status)
        r.add_get("/applications/{request_id}/evidence/{evidence_id}", self.download)
        return app

    # --- sessions, language, rendering -----------------------------------------------------------------------

    def _session(self, request: web.Request) -> tuple[str, Session]:
        sid = request.cookies.get(COOKIE, "")
        found = self.sessions.get(sid)
        if found is None:
            sid = secrets.token_urlsafe(24)
            found = self.sessions[sid] = Session()
            while len(self.sessions) > MAX_SESSIONS:  # a demo keeps them in memory: the oldest go first
                self.sessions.pop(next(iter(self.sessions)))
        return sid, found

    def _lang(self, request: web.Request) -> str:
        return language(request.query.get("lang") or request.cookies.get(LANG_COOKIE))

    def _render(self, request: web.Request, template: str, title_key: str, *, status: int = 200,
                **context: Any) -> web.Response:
        lang = self._lang(request)
        other = "en" if lang == "lv" else "lv"
        sid, session = self._session(request)
        context.setdefault("refresh_s", None)
        body = _TEMPLATES.get_template(template).render(
            lang=lang, other_lang=other, t=TEXTS[lang], title=TEXTS[lang][title_key], csrf=session.csrf,
            switch_url=f"{request.path}?lang={other}", **context)
        response = web.Response(text=body, content_type="text/html", status=status, headers=_HEADERS)
        self._cookies(response, sid, lang)
        return response

    @staticmethod
    def _cookies(response: web.StreamResponse, sid: str, lang: str) -> None:
        response.set_cookie(COOKIE, sid, httponly=True, samesite="Lax", path="/")
        response.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="Lax", path="/")

    def _error(self, request: web.Request, code: str, message_key: str, status: int) -> web.Response:
        return self._render(request, "error.html", "error_title", status=status, code=code,
                            message=TEXTS[self._lang(request)][message_key])

    async def _form(self, request: web.Request) -> tuple[str, Session, Mapping[str, str]] | web.Response:
        sid, session = self._session(request)
        form = await request.post()
        if not hmac.compare_digest(str(form.get("csrf", "")), session.csrf):
            return self._error(request, "DEMO_CSRF", "csrf", 403)
        return sid, session, {k: str(v) for k, v in form.items()}

    def _see_other(self, location: str, sid: str, lang: str) -> web.Response:
        response = web.HTTPSeeOther(location, headers=_HEADERS)
        self._cookies(response, sid, lang)
        return response

    # --- login (SAML through the node's eIDAS connector) ------------------------------------------------------

    async def metadata(self, _request: web.Request) -> web.Response:
        return web.Response(body=self.saml.metadata(), content_type="application/samlmetadata+xml")

    async def home(self, request: web.Request) -> web.Response:
        _, session = self._session(request)
        lang = self._lang(request)
        countries = [(code, names[lang]) for code, names in COUNTRIES.items()]
        return self._render(request, "home.html", "home_title", user=session.user, countries=countries)

    async def login(self, request: web.Request) -> web.Response:
        checked = await self._form(request)
        if isinstance(checked, web.Response):
            return checked
        sid, session, _ = checked
        if session.relay is not None:  # one login at a time per session
            self.relays.pop(session.relay, None)
        session.relay = secrets.token_urlsafe(16)
        self.relays[session.relay] = sid
        while len(self.relays) > MAX_SESSIONS:
            self.relays.pop(next(iter(self.relays)))
        page = self.saml.login_form(session.relay, lang=self._lang(request), provider_name="Study applications")
        response = web.Response(text=page, content_type="text/html", headers=_HEADERS)
        self._cookies(response, sid, self._lang(request))
        return response

    async def acs(self, request: web.Request) -> web.Response:
        """The node's answer (a cross-site POST in production: the session is found by RelayState, not cookie)."""
        form = await request.post()
        sid = self.relays.pop(str(form.get("RelayState", "")), None)
        session = self.sessions.get(sid or "")
        if sid is None or session is None:
            return self._error(request, "DEMO_RELAY_STATE", "login_failed", 400)
        session.relay = None
        try:
            who = self.saml.read_response(base64.b64decode(str(form.get("SAMLResponse", "")), validate=True))
        except (PortalError, binascii.Error, ValueError) as exc:
            code = exc.code if isinstance(exc, PortalError) else "DEMO_SAML_MALFORMED"
            log.warning("login refused: %s", code)
            return self._error(request, code, "login_failed", 400)
        attributes = who["attributes"]

        def first(name: str) -> str:
            return (attributes.get(_NP + name) or [""])[0]

        loa = str(who.get("loa") or "").rsplit("/", 1)[-1]
        identifier = first("PersonIdentifier")
        session.user = {"family_name": first("CurrentFamilyName"), "given_name": first("CurrentGivenName"),
                        "date_of_birth": first("DateOfBirth"), "identifier": identifier,
                        "level_of_assurance": _LOAS.get(loa, "Substantial"),
                        "country": identifier.split("/", 1)[0] if "/" in identifier else ""}
        return self._see_other(f"/?lang={self._lang(request)}", sid, self._lang(request))

    async def logout(self, request: web.Request) -> web.Response:
        checked = await self._form(request)
        if isinstance(checked, web.Response):
            return checked
        sid, _, _ = checked
        self.sessions.pop(sid, None)
        return web.HTTPSeeOther(f"/?lang={self._lang(request)}", headers=_HEADERS)

    # --- requests ------------------------------------------------------------------------------------------

    async def apply(self, request: web.Request) -> web.Response:
        checked = await self._form(request)
        if isinstance(checked, web.Response):
            return checked
        sid, session, form = checked
        if session.user is None:
            return self._error(request, "DEMO_NOT_LOGGED_IN", "login_first", 403)
        if form.get("country") not in COUNTRIES:
            return self._error(request, "DEMO_COUNTRY", "country_unknown", 400)
        person = {k: v for k, v in session.user.items() if k != "country"}
        return await self._create(request, sid, session, "lv", procedure=STUDIES, country=form["country"],
                                  person=person, preview=form.get("preview") == "1")

    async def registry_page(self, request: web.Request) -> web.Response:
        return self._render(request, "registry.html", "registry_title", people=list(REGISTRY_PEOPLE.items()))

    async def registry_request(self, request: web.Request) -> web.Response:
        checked = await self._form(request)
        if isinstance(checked, web.Response):
            return checked
        sid, session, form = checked
        person = REGISTRY_PEOPLE.get(form.get("person", ""))
        if person is None:
            return self._error(request, "DEMO_PERSON", "not_found", 400)
        return await self._create(request, sid, session, "partner", procedure=BIRTH, country="LV", person=person,
                                  preview=form.get("preview") == "1")

    async def _create(self, request: web.Request, sid: str, session: Session, api: str, *, procedure: str,
                      country: str, person: Mapping[str, str], preview: bool) -> web.Response:
        back = secrets.token_urlsafe(12)  # which request the preview space's return link belongs to (any tab)
        body = {"procedure": procedure, "country": country, "person": dict(person), "preview_allowed": preview,
                "return_url": f"{self.base_url}/return/{back}"}
        try:
            status, answer = await self.apis[api].post("/api/oots/requests", body)
        except ApiUnavailable:
            return self._error(request, "DEMO_NODE_UNREACHABLE", "node_down", 502)
        if status != 201:
            code = str(answer.get("code") or answer.get("type") or f"HTTP_{status}") if isinstance(answer, dict) \
                else f"HTTP_{status}"
            return self._error(request, code, "state_failed", 502)
        session.requests[answer["id"]] = api
        session.returns[back] = answer["id"]
        lang = self._lang(request)
        return self._see_other(f"/applications/{answer['id']}?lang={lang}", sid, lang)

    async def returned(self, request: web.Request) -> web.Response:
        sid, session = self._session(request)
        lang = self._lang(request)
        request_id = session.returns.get(request.match_info["back"])
        return self._see_other(f"/applications/{request_id}?lang={lang}" if request_id else f"/?lang={lang}",
                               sid, lang)

    async def _view(self, request: web.Request) -> tuple[str, Session, dict[str, Any]] | web.Response:
        _, session = self._session(request)
        request_id = request.match_info["request_id"]
        api = session.requests.get(request_id)
        if api is None:  # not this browser's request: the same answer as for an unknown one
            return self._error(request, "DEMO_NOT_FOUND", "not_found", 404)
        try:
            status, view = await self.apis[api].get(f"/api/oots/requests/{request_id}")
        except ApiUnavailable:
            return self._error(request, "DEMO_NODE_UNREACHABLE", "node_down", 502)
        if status != 200:
            return self._error(request, f"HTTP_{status}", "not_found", 404 if status == 404 else 502)
        return api, session, view

    async def status(self, request: web.Request) -> web.Response:
        found = await self._view(request)
        if isinstance(found, web.Response):
            return found
        api, session, view = found
        lang = self._lang(request)
        sid, _ = self._session(request)
        waiting = next((x for x in view["exchanges"] if x["state"] == "preview" and x.get("redirect_url")), None)
        preview_url = waiting["redirect_url"] if waiting else None
        if view["state"] == "preview-required" and waiting is not None and preview_url:
            if waiting["id"] not in session.sent_to_preview:  # out to the provider's preview space, once per exchange
                session.sent_to_preview.add(waiting["id"])
                return self._see_other(preview_url, sid, lang)
        error = view.get("error") or next((x["error"] for x in view["exchanges"] if x.get("error")), None)
        evidence = []
        if view["state"] == "completed":
            try:
                for item in view["evidence"]:
                    evidence.append(await self._evidence_item(api, view["id"], item, lang))
            except ApiUnavailable:
                return self._error(request, "DEMO_NODE_UNREACHABLE", "node_down", 502)
        self_url = f"/applications/{view['id']}?lang={lang}"
        return self._render(request, "status.html", "status_title", state=view["state"], error=error,
                            procedure=view["procedure"], created_at=view["created_at"][:19].replace("T", " "),
                            refresh_s=REFRESH_S if view["state"] in WAITING else None, self_url=self_url,
                            preview_url=preview_url, evidence=evidence,
                            back_url=f"/registry?lang={lang}" if api == "partner" else f"/?lang={lang}")

    async def _evidence_item(self, api: str, request_id: str, item: Mapping[str, Any], lang: str) -> dict[str, Any]:
        metadata = item.get("metadata") or {}
        content = await self.apis[api].read(f"/api/oots/requests/{request_id}/evidence/{item['id']}")
        title, issuer, fields = render_evidence(content, item["media_type"], metadata, lang)
        return {"title": title, "issuer": issuer, "fields": fields, "media_type": item["media_type"],
                "size": item["size"], "download": f"/applications/{request_id}/evidence/{item['id']}"}

    async def download(self, request: web.Request) -> web.StreamResponse:
        found = await self._view(request)
        if isinstance(found, web.Response):
            return found
        api, _, view = found
        item = next((e for e in view["evidence"] if e["id"] == request.match_info["evidence_id"]), None)
        if item is None:
            return self._error(request, "DEMO_NOT_FOUND", "not_found", 404)
        try:
            content = await self.apis[api].read(f"/api/oots/requests/{view['id']}/evidence/{item['id']}")
        except ApiUnavailable:
            return self._error(request, "DEMO_NODE_UNREACHABLE", "node_down", 502)
        extension = {"application/pdf": "pdf", "application/xml": "xml"}.get(item["media_type"], "bin")
        return web.Response(body=content, headers={
            **_HEADERS, "Content-Type": item["media_type"],
            "Content-Disposition": f'attachment; filename="evidence.{extension}"'})


async def start_portal(portal: ProcedurePortal, port: int) -> web.AppRunner:
    runner = web.AppRunner(portal.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner
