"""Route handlers of the preview space (see gateway/preview_web.py for the map and the security model)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.db.schema import audit_record
from gateway.preview_web import ARRIVAL_COOKIE, PREFIX, SESSION_COOKIE, Web
from gateway.preview_web_login import KINDS, LoginRefused, Person
from gateway.preview_web_store import pick
from oots.dataservice.port import DataServiceError, EvidenceDocument, EvidenceQuery
from oots.preview import machine as M
from pki.xml.parser import XmlRefused
from preview_space.access_log import PREFIX as AUDIT_PREFIX
from preview_space.access_log import access_log
from preview_space.core import PreviewSpace
from preview_space.http_policy import pdf_headers
from preview_space.i18n import TEXTS
from preview_space.mds import MdsMismatch
from preview_space.render import xml_rows
from preview_space.websec import ReturnUrlRefused, check_return_url

STATE_PAGES = {M.PreviewState.TIMED_OUT: ("timed_out", 410), M.PreviewState.ABANDONED: ("abandoned", 410),
               M.PreviewState.DECLINED: ("declined", 200), M.PreviewState.ACCEPTED: ("accepted", 200)}


STATE_TEXTS = frozenset(key for key in TEXTS if key.startswith("state_"))


def _now() -> datetime:
    return datetime.now(UTC)


class Pages:
    def __init__(self, web_: Web) -> None:
        self.w = web_
        self.space = PreviewSpace(web_.previews)

    # --- arrival and login ---------------------------------------------------------------------------------
    async def arrive(self, request: web.Request) -> web.Response:
        w, token = self.w, request.match_info["token"]
        lang = w.lang(request)
        session = await w.store.find_by_token(M.token_hash(token)) if len(token) <= 128 else None
        if session is None:
            await w.node.audit.append("preview.web.link_refused", "preview-space", None,
                                      {"code": "PREVIEW_TOKEN_UNKNOWN"})
            return w.message(request, "unknown_link", lang=lang, status=404, code="PREVIEW_TOKEN_UNKNOWN")
        session = M.expire(session, _now())
        if session.user_arrived_at is not None:
            return w.message(request, "unknown_link", lang=lang, status=409, code="PREVIEW_TOKEN_REPLAYED")
        if session.final:
            key, status = STATE_PAGES.get(session.state, ("unknown_link", 409))
            return w.message(request, key, lang=lang, status=status, code=f"PREVIEW_{session.state.upper()}")
        return_url = None
        try:
            if request.query.get("returnurl"):
                return_url = check_return_url(request.query["returnurl"], w.settings.origins_for(session.requester))
        except ReturnUrlRefused as exc:  # the user still decides; they are just not sent to an unknown site
            await w.node.audit.append("preview.web.return_refused", "preview-space", session.person_ref,
                                      {"session": session.id, "code": exc.code})
        sid, _body = await w.new_session({"arrival": session.id, "return_url": return_url, "lang": lang})
        response = web.HTTPSeeOther(f"{PREFIX}/login")
        w.set_cookie(response, SESSION_COOKIE, sid)
        w.set_cookie(response, ARRIVAL_COOKIE, token)
        raise response

    async def login_page(self, request: web.Request, *, error: str | None = None,
                         found: tuple[str, dict[str, Any]] | None = None) -> web.Response:
        w = self.w
        found = found or await w.session(request)
        if found is None:  # a login for the access log only
            sid, body = await w.new_session({"lang": w.lang(request)})
        else:
            sid, body = found
        lang = w.lang(request, body)
        if request.query.get("lang") in ("lv", "en") and body.get("lang") != request.query["lang"]:
            body["lang"] = request.query["lang"]
            await w.save(sid, body)
        response = w.page(request, "login.html", heading_key="login_title", lang=lang, sid=sid, body=body,
                          kinds=[k for k in KINDS if k in w.login.idps], error=error,
                          status=400 if error else 200, arrival=bool(body.get("arrival")))
        w.set_cookie(response, SESSION_COOKIE, sid)
        return response

    async def login_start(self, request: web.Request) -> web.Response:
        w = self.w
        posted = await w.posted(request)
        if isinstance(posted, web.Response):
            return posted
        sid, body, form = posted
        kind = str(form.get("method", ""))
        if kind not in w.login.idps:
            return await self.login_page(request, error="PREVIEW_LOGIN_METHOD", found=(sid, body))
        loa = None
        if body.get("arrival"):
            context = await w.contexts.get(body["arrival"])
            loa = context.person.level_of_assurance if context else None
        url, pending = await w.login.begin(kind, sid, loa, _now())  # type: ignore[arg-type]
        body["pending_login"] = pending
        await w.save(sid, body)
        # Not HTTPSeeOther: it re-quotes the Location, and the signature covers the query exactly as built.
        return web.Response(status=303, headers={"Location": url, "Cache-Control": "no-store"})

    async def acs(self, request: web.Request) -> web.Response:
        w, kind = self.w, request.match_info["kind"]
        form = await request.post()
        relay = str(form.get("RelayState", ""))
        try:
            data = base64.b64decode(str(form.get("SAMLResponse", "")), validate=True)
            if kind not in w.login.idps:
                raise LoginRefused("PREVIEW_LOGIN_UNKNOWN")
            await w.login.finish(kind, relay, data, _now())  # type: ignore[arg-type]
        except (binascii.Error, ValueError, LoginRefused):
            return w.message(request, "login_error", lang=w.lang(request), status=400, code="PREVIEW_LOGIN_UNKNOWN")
        # Back by a top-level GET: the SameSite=Lax session cookie comes along again.
        raise web.HTTPSeeOther(f"{PREFIX}/login/done")

    async def login_done(self, request: web.Request) -> web.Response:
        w = self.w
        found = await w.session(request)
        if found is None:
            return w.message(request, "session_expired", lang=w.lang(request), status=401,
                             code="PREVIEW_WEB_SESSION_EXPIRED")
        sid, body = found
        lang = w.lang(request, body)
        try:
            person = await w.login.take(str(body.pop("pending_login", "")), sid, _now())
        except LoginRefused as exc:
            await w.save(sid, body)
            await w.node.audit.append("preview.web.login_failed", "preview-space", None, {"code": exc.code})
            return w.message(request, "login_error", lang=lang, status=401, code=exc.code, sid=sid, body=body)
        body["person"] = person.to_json()
        await w.node.audit.append("preview.web.login", "preview-space", person.person_ref,
                                  {"method": person.method})
        token = request.cookies.get(ARRIVAL_COOKIE)
        if not body.get("arrival") or not token:
            await w.save(sid, body)
            raise web.HTTPSeeOther(f"{PREFIX}/log")
        context = await w.contexts.get(body["arrival"])
        try:
            if context is None:
                raise M.PreviewError("PREVIEW_TOKEN_UNKNOWN", "no context")
            session = await self.space.arrive(token, requested=context.requested_mds, authenticated=person.mds)
        except MdsMismatch as exc:
            # Nothing shown, and the link stays usable by the person the request is about.
            await w.node.audit.append("preview.web.mds_mismatch", "preview-space", person.person_ref,
                                      {"session": body["arrival"], "field": exc.field})
            body.pop("arrival", None)
            await w.save(sid, body)
            response = w.message(request, "mds_mismatch", lang=lang, status=403, code=exc.code, sid=sid, body=body)
            response.del_cookie(ARRIVAL_COOKIE, path="/")
            return response
        except M.PreviewError as exc:
            body.pop("arrival", None)
            await w.save(sid, body)
            key = "timed_out" if exc.code == "PREVIEW_EXPIRED" else "unknown_link"
            return w.message(request, key, lang=lang, status=410, code=exc.code, sid=sid, body=body)
        body["preview"] = session.id
        await w.save(sid, body)
        response = web.HTTPSeeOther(f"{PREFIX}/evidence")
        response.del_cookie(ARRIVAL_COOKIE, path="/")
        raise response

    # --- evidence ------------------------------------------------------------------------------------------
    async def _current(self, request: web.Request) -> tuple[str, dict[str, Any], M.PreviewSession] | web.Response:
        w = self.w
        found = await w.session(request)
        if found is None:
            return w.message(request, "session_expired", lang=w.lang(request), status=401,
                             code="PREVIEW_WEB_SESSION_EXPIRED")
        sid, body = found
        session = await w.store.get(body["preview"]) if body.get("preview") else None
        if session is None:
            return w.message(request, "no_preview", lang=w.lang(request, body), status=403,
                             code="PREVIEW_NO_SESSION", sid=sid, body=body)
        return sid, body, M.expire(session, _now())

    def _final_page(self, request: web.Request, sid: str, body: dict[str, Any], session: M.PreviewSession
                    ) -> web.Response:
        key, status = STATE_PAGES[session.state]
        return self.w.message(request, key, lang=self.w.lang(request, body), status=status,
                              code=f"PREVIEW_{session.state.upper()}", sid=sid, body=body,
                              return_url=body.get("return_url"))

    async def _documents(self, session: M.PreviewSession) -> tuple[list[EvidenceDocument], Any]:
        context = await self.w.contexts.get(session.id)
        if context is None or self.w.oots.adapter is None:
            raise DataServiceError("PREVIEW_CONTEXT_MISSING", "nothing known about this preview")
        documents = await self.w.oots.adapter.fetch(EvidenceQuery(session.evidence_type, context.person))
        return documents, context

    async def evidence_list(self, request: web.Request) -> web.Response:
        current = await self._current(request)
        if isinstance(current, web.Response):
            return current
        sid, body, session = current
        if session.final:
            return self._final_page(request, sid, body, session)
        lang = self.w.lang(request, body)
        try:
            documents, context = await self._documents(session)
        except DataServiceError as exc:
            return self.w.message(request, "register_error", lang=lang, status=502, code=exc.code, sid=sid, body=body)
        return self.w.page(request, "evidence_list.html", heading_key="evidence_list", lang=lang, sid=sid,
                           body=body, documents=list(enumerate(documents, start=1)), pick=pick,
                           requester=pick(context.requester_names, lang, session.requester),
                           procedure=context.procedure or "-",
                           evidence_title=pick(context.evidence_titles, lang, session.evidence_type),
                           requested_at=session.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                           deadline=session.deadline.strftime("%Y-%m-%d %H:%M UTC"))

    async def _document(self, request: web.Request) -> tuple[str, dict[str, Any], M.PreviewSession,
                                                             EvidenceDocument, Any] | web.Response:
        current = await self._current(request)
        if isinstance(current, web.Response):
            return current
        sid, body, session = current
        if session.final:
            return self._final_page(request, sid, body, session)
        try:
            documents, context = await self._documents(session)
        except DataServiceError as exc:
            return self.w.message(request, "register_error", lang=self.w.lang(request, body), status=502,
                                  code=exc.code, sid=sid, body=body)
        index = request.match_info.get("n", "")
        if not index.isdigit() or not 1 <= int(index) <= len(documents):
            return self.w.message(request, "not_found", lang=self.w.lang(request, body), status=404,
                                  code="PREVIEW_EVIDENCE_UNKNOWN", sid=sid, body=body)
        return sid, body, session, documents[int(index) - 1], context

    async def evidence_detail(self, request: web.Request) -> web.Response:
        found = await self._document(request)
        if isinstance(found, web.Response):
            return found
        sid, body, session, document, context = found
        lang = self.w.lang(request, body)
        rows, truncated, refused = [], False, None
        is_pdf = document.media_type == "application/pdf"
        if not is_pdf:
            try:
                rows, truncated = xml_rows(document.content)
            except XmlRefused as exc:
                refused = exc.code if hasattr(exc, "code") else "XML_REFUSED"
        return self.w.page(request, "evidence_detail.html", heading_key="evidence_detail", lang=lang, sid=sid,
                           body=body, document=document, title=pick(document.titles, lang, document.identifier),
                           number=request.match_info["n"], rows=rows, truncated=truncated, refused=refused,
                           is_pdf=is_pdf, requester=pick(context.requester_names, lang, session.requester),
                           procedure=context.procedure or "-",
                           issuer=pick(document.issuing_authority.names, lang,
                                       document.issuing_authority.identifier.value),
                           issued_on=document.issuing_date)

    async def evidence_pdf(self, request: web.Request) -> web.StreamResponse:
        found = await self._document(request)
        if isinstance(found, web.Response):
            return found
        _sid, _body, _session, document, _context = found
        if document.media_type != "application/pdf":
            raise web.HTTPNotFound()
        return web.Response(body=document.content, headers=pdf_headers(f"{document.identifier}.pdf"))

    # --- decision ------------------------------------------------------------------------------------------
    async def confirm(self, request: web.Request) -> web.Response:
        w = self.w
        posted = await w.posted(request)
        if isinstance(posted, web.Response):
            return posted
        sid, body, form = posted
        decision = str(form.get("decision", ""))
        current = await self._current(request)
        if isinstance(current, web.Response):
            return current
        _, _, session = current
        if session.final:
            return self._final_page(request, sid, body, session)
        if decision not in ("accept", "decline"):
            return w.message(request, "bad_decision", lang=w.lang(request, body), status=400,
                             code="PREVIEW_DECISION_MISSING", sid=sid, body=body)
        return w.page(request, "confirm.html", heading_key=f"confirm_{decision}", lang=w.lang(request, body),
                      sid=sid, body=body, decision=decision)

    async def decide(self, request: web.Request) -> web.Response:
        w = self.w
        posted = await w.posted(request)
        if isinstance(posted, web.Response):
            return posted
        sid, body, form = posted
        lang = w.lang(request, body)
        current = await self._current(request)
        if isinstance(current, web.Response):
            return current
        _, _, session = current
        decision = str(form.get("decision", ""))
        if decision not in ("accept", "decline") or form.get("confirmed") != "yes":
            return w.message(request, "bad_decision", lang=lang, status=400, code="PREVIEW_DECISION_MISSING",
                             sid=sid, body=body)
        accepted = decision == "accept"
        try:
            try:  # the core checks the return URL (again: the registration may have changed) before deciding
                decided, _ = await self.space.decide(session.id, accepted, return_url=body.get("return_url") or "",
                                                     allowed_origins=w.settings.origins_for(session.requester))
            except ReturnUrlRefused:
                body["return_url"] = None
                decided = await w.previews.decide(session.id, accepted)
        except M.PreviewError as exc:  # timed out meanwhile, or decided in another tab
            latest = await w.store.get(session.id)
            if latest is not None and M.expire(latest, _now()).final:
                return self._final_page(request, sid, body, M.expire(latest, _now()))
            return w.message(request, "bad_decision", lang=lang, status=409, code=exc.code, sid=sid, body=body)
        return self._final_page(request, sid, body, decided)

    async def leave(self, request: web.Request) -> web.Response:
        posted = await self.w.posted(request)
        if isinstance(posted, web.Response):
            return posted
        sid, body, _form = posted
        current = await self._current(request)
        if isinstance(current, web.Response):
            return current
        _, _, session = current
        if not session.final:
            session = await self.w.previews.abandon(session.id)
        return self._final_page(request, sid, body, session)

    # --- access log ----------------------------------------------------------------------------------------
    async def access(self, request: web.Request) -> web.Response:
        w = self.w
        found = await w.session(request)
        if found is None or not found[1].get("person"):
            return await self.login_page(request, found=found)
        sid, body = found
        person = Person.from_json(body["person"])
        subject_hash = w.node.audit.hash_subject(person.person_ref)
        async with w.node.engine.connect() as conn:
            records = (await conn.execute(
                select(audit_record.c.ts, audit_record.c.event, audit_record.c.subject_hash, audit_record.c.details)
                .where(audit_record.c.subject_hash == subject_hash, audit_record.c.event.like(AUDIT_PREFIX + "%"))
                .order_by(audit_record.c.seq))).all()
        entries = access_log(records, subject_hash)
        titles = {}
        for entry in entries:
            context = await w.contexts.get(entry.session)
            if context is not None:
                titles[entry.session] = (pick(context.evidence_titles, w.lang(request, body), entry.evidence_type),
                                         pick(context.requester_names, w.lang(request, body), entry.requester))
        return w.page(request, "access_log.html", heading_key="access_log", lang=w.lang(request, body), sid=sid,
                      body=body, entries=entries, titles=titles, known_states=STATE_TEXTS)


def add_page_routes(app: web.Application, state: Web) -> Pages:
    pages = Pages(state)
    app.router.add_get(f"{PREFIX}/login", pages.login_page)
    app.router.add_post(f"{PREFIX}/login", pages.login_start)
    app.router.add_post(f"{PREFIX}/acs/{{kind}}", pages.acs)
    app.router.add_get(f"{PREFIX}/login/done", pages.login_done)
    app.router.add_get(f"{PREFIX}/evidence", pages.evidence_list)
    app.router.add_get(f"{PREFIX}/evidence/{{n}}", pages.evidence_detail)
    app.router.add_get(f"{PREFIX}/evidence/{{n}}/pdf", pages.evidence_pdf)
    app.router.add_post(f"{PREFIX}/confirm", pages.confirm)
    app.router.add_post(f"{PREFIX}/decide", pages.decide)
    app.router.add_post(f"{PREFIX}/leave", pages.leave)
    app.router.add_get(f"{PREFIX}/log", pages.access)
    app.router.add_get(state.arrival_path.rstrip("/") + "/{token}", pages.arrive)
    return pages
