"""The preview pages in one process, on a real node database and keys, with the simulated Latvian login and a
data service that holds a PDF and a hostile XML evidence: the inline PDF (its own headers, the page around
it checked with axe-core in Chromium), escaping of evidence values, bounds of the evidence numbers."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urljoin

import pytest
from aiohttp import web

from gateway.oots_preview_store import SqlPreviewStore
from gateway.preview_sessions import DbWebSessions
from gateway.preview_web import Web
from gateway.preview_web_config import PreviewSpaceSection
from gateway.preview_web_dev import SimulatedNationalIdp
from gateway.preview_web_login import Idp, PreviewLogin
from gateway.preview_web_pages import add_page_routes
from gateway.preview_web_store import PreviewContexts
from gateway.runtime import Node
from oots.dataservice.port import EvidenceDocument, EvidenceQuery
from oots.edm.model import Agent, Identifier, NaturalPerson, Text
from oots.edm.versions import VERSIONS
from oots.identity import person_reference
from oots.preview.service import PreviewService
from pki.keys.port import KeyPurpose
from tests.conftest import make_settings
from tests.eidas_node.cdp import CHROMIUM, Browser
from tests.oots import samples
from tests.preview_space.axe import axe_source, violations
from tests.preview_space.preview_net import UserAgent

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
HOSTILE = "<Diploma><Holder>&lt;script&gt;alert(1)&lt;/script&gt;</Holder><Degree>Bakalaurs</Degree></Diploma>"


class TwoDocuments:
    """A data service (the adapter port) holding a PDF and an XML evidence for whoever is asked about."""

    evidence_types = frozenset({samples.evidence_type(VERSIONS["oots-edm:v1.2"]).classification})

    async def fetch(self, query: EvidenceQuery) -> list[EvidenceDocument]:
        issuer = Agent(Identifier("90000011588"), (Text("Ministry of Education and Science", "EN"),
                                                   Text("Izglītības un zinātnes ministrija", "LV")))
        person = query.person
        assert isinstance(person, NaturalPerson)
        return [EvidenceDocument("D-PDF-1", PDF, "application/pdf", "2012-06-20", issuer,
                                 (Text("Diploma (PDF)", "EN"),), person),
                EvidenceDocument("D-XML-1", HOSTILE.encode(), "application/xml", "2012-06-20", issuer,
                                 (Text("Diploma (XML)", "EN"),), person)]


@dataclass
class Space:
    url: str
    previews: PreviewService
    contexts: PreviewContexts

    async def open_preview(self) -> str:
        request = samples.request(VERSIONS["oots-edm:v1.2"])  # about Jack Smith, 1999-03-01
        person = request.natural_person
        assert person is not None
        session, location = await self.previews.open(
            request_id=request.id, requester="LV40003011203", evidence_type=request.evidence_request.classification,
            subject="s", person_ref=person_reference(person.family_name, person.given_name, person.date_of_birth))
        await self.contexts.save(session, request)
        return self.url + "/preview-space/p/" + location.rsplit("/", 1)[1]


@pytest.fixture
async def space(tmp_path: Path) -> AsyncIterator[Space]:
    node = await Node.open(make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'gateway.db'}"),
                           create_pki=True)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    national = SimulatedNationalIdp()
    await national.start()
    assert node.key_store is not None
    signer = node.key_store.signer(KeyPurpose.SAML_SIGNING, family="ec")
    assert signer.certificate is not None
    sessions = DbWebSessions(node.engine)
    login = PreviewLogin(url, signer, [signer.certificate], sessions,
                         {"national": Idp("national", national.sso_url, lambda: [national.key.certificate])})
    national.sp = login.sp_metadata("national", datetime.now(UTC))
    store = SqlPreviewStore(node.engine)
    previews = PreviewService(store, base_url="https://preview.example/preview-space/p",
                              clock=lambda: datetime.now(UTC), audit=node.audit)
    contexts = PreviewContexts(node.engine)
    state = Web(node, PreviewSpaceSection(enabled=True), SimpleNamespace(adapter=TwoDocuments()),  # type: ignore[arg-type]
                previews, store, contexts, sessions, login, "/preview-space/p", secure=False)
    app = web.Application()
    add_page_routes(app, state)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield Space(url, previews, contexts)
    finally:
        await runner.cleanup()
        await national.stop()
        await node.close()


@pytest.fixture
async def user() -> AsyncIterator[UserAgent]:
    agent = UserAgent(None)
    try:
        yield agent
    finally:
        await agent.close()


async def test_inline_pdf_and_escaped_xml(space: Space, user: UserAgent) -> None:
    login = await user.get(await space.open_preview())
    evidence = await user.national_login(login, "jack")
    assert evidence.status == 200 and evidence.by_id("evidence-2") is not None, evidence.text[:400]
    pdf_page = await user.get(urljoin(evidence.url, evidence.by_id("evidence-1").get("href")))
    shown = pdf_page.by_id("pdf")
    assert shown is not None and shown.get("type") == "application/pdf" and shown.get("aria-label")
    async with user.http.get(urljoin(pdf_page.url, shown.get("data"))) as reply:
        assert reply.status == 200 and await reply.read() == PDF
        assert reply.headers["Content-Type"] == "application/pdf"
        assert reply.headers["Content-Disposition"].startswith('inline; filename="D-PDF-1.pdf"')
        assert reply.headers["Content-Security-Policy"] == "sandbox" and reply.headers["Cache-Control"] == "no-store"
    xml_page = await user.get(evidence.url + "/2")
    assert "<script>alert" not in xml_page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in xml_page.text
    for missing in ("/3", "/0", "/x", "/2/pdf"):
        refused = await user.get(evidence.url + missing)
        assert refused.status == 404, missing
    assert pdf_page.by_id("accept") is not None and pdf_page.by_id("decline") is not None


async def test_access_log_needs_a_login(space: Space, user: UserAgent) -> None:
    page = await user.get(space.url + "/preview-space/log")
    assert page.status == 200 and page.by_id("login-submit") is not None and page.by_id("access-log") is None
    own = await user.national_login(page, "jack")
    assert own.status == 200 and own.url.endswith("/preview-space/log")


@pytest.mark.skipif(shutil.which(CHROMIUM) is None and not os.environ.get("CI"), reason="chromium is not installed")
async def test_pdf_detail_page_is_accessible(space: Space) -> None:
    source = axe_source()
    browser = await Browser().start()
    try:
        await browser.navigate(await space.open_preview())
        await browser.wait_for("!!document.getElementById('method-national')")
        await browser.evaluate("document.getElementById('method-national').click()")
        await browser.evaluate("document.getElementById('login-submit').click()")
        await browser.wait_for("!!document.getElementById('u-jack')")
        await browser.evaluate("document.getElementById('u-jack').click(); document.getElementById('login').click()")
        await browser.wait_for("!!document.getElementById('evidence-1')")
        await browser.evaluate("document.getElementById('evidence-1').click()")
        await browser.wait_for("document.readyState === 'complete' && !!document.getElementById('pdf')")
        assert await violations(browser, source) == []
    finally:
        await browser.close()
