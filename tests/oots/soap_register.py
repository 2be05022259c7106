"""A real SOAP 1.1 register service for the tests (aiohttp on loopback): it serves our WSDL
(oots/dataservice/wsdl/register-evidence.wsdl, with its own address) and answers ``FindEvidence`` from the sample
Latvian registers. Incoming envelopes are parsed with the project's hardened parser. ``behaviour["mode"]``
switches it into the failures the adapter must handle."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from aiohttp import web
from lxml import etree

from oots.dataservice.soap_adapter import DEFAULT_WSDL
from pki.xml.parser import XmlRefused, parse_xml
from tests.oots import sample_register

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "urn:x-gateway:register-evidence:v1"
PATH = "/register-evidence"
ACTION = f'"{NS}#FindEvidence"'
PLACEHOLDER = "http://register.invalid/register-evidence"
MODES = ("ok", "slow", "fault", "http500", "garbage", "bad-base64", "doctype", "not-wsdl-shaped")


def _envelope(body: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    etree.SubElement(env, f"{{{SOAP_ENV}}}Body").append(body)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def _fault(code: str, text: str, status: int) -> web.Response:
    fault = etree.Element(f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = f"soap:{code}"
    etree.SubElement(fault, "faultstring").text = text
    return web.Response(status=status, body=_envelope(fault), content_type="text/xml", charset="utf-8")


def _sub(parent: etree._Element, name: str, text: str | None) -> None:
    if text is not None:
        etree.SubElement(parent, f"{{{NS}}}{name}").text = text


def _answer(evidence_type: str, date_of_birth: str, mode: str) -> bytes:
    persons, records = sample_register.lookup(evidence_type, date_of_birth)
    body = etree.Element(f"{{{NS}}}FindEvidenceResponse", nsmap={None: NS})
    for p in persons:
        candidate = etree.SubElement(body, f"{{{NS}}}Candidate", key=p["key"])
        _sub(candidate, "FamilyName", p["family_name"])
        _sub(candidate, "GivenName", p["given_name"])
        _sub(candidate, "DateOfBirth", p["date_of_birth"])
        _sub(candidate, "EidasIdentifier", p["eidas_identifier"])
    for key, rows in records.items():
        for row in rows:
            evidence = etree.SubElement(body, f"{{{NS}}}Evidence", personKey=key)
            _sub(evidence, "Identifier", row["record_id"])
            _sub(evidence, "MediaType", "application/json")
            _sub(evidence, "IssuingDate", row["issued_on"])
            _sub(evidence, "ConformsTo", "urn:x-gateway:lv-registers:json")
            content = base64.b64encode(json.dumps(row, ensure_ascii=False).encode()).decode()
            _sub(evidence, "Content", "@@" + content if mode == "bad-base64" else content)
    if mode == "not-wsdl-shaped":
        etree.SubElement(body, f"{{{NS}}}Unexpected").text = "x"
    return _envelope(body)


def create_app(behaviour: dict[str, Any]) -> web.Application:
    """``behaviour``: ``mode`` (one of MODES), and what the service saw (``seen``: evidence type, SOAPAction)."""

    async def wsdl(request: web.Request) -> web.Response:
        behaviour["wsdl_loads"] = behaviour.get("wsdl_loads", 0) + 1
        address = f"http://{request.host}{PATH}"
        text = DEFAULT_WSDL.read_text(encoding="utf-8").replace(PLACEHOLDER, address)
        return web.Response(text=text, content_type="text/xml")

    async def find_evidence(request: web.Request) -> web.Response:
        mode = behaviour.get("mode", "ok")
        try:
            envelope = parse_xml(await request.read()).getroot()
        except XmlRefused as exc:
            return _fault("Client", exc.code, 500)
        query = envelope.find(f"{{{SOAP_ENV}}}Body/{{{NS}}}FindEvidence")
        if query is None or request.headers.get("SOAPAction") != ACTION:
            return _fault("Client", "expected a FindEvidence request", 500)
        evidence_type = query.findtext(f"{{{NS}}}EvidenceType") or ""
        date_of_birth = query.findtext(f"{{{NS}}}Person/{{{NS}}}DateOfBirth") or ""
        behaviour.setdefault("seen", []).append(
            {"evidence_type": evidence_type, "eidas_identifier": query.findtext(f"{{{NS}}}Person/"
                                                                                f"{{{NS}}}EidasIdentifier")})
        if mode == "slow":
            await asyncio.sleep(2)
        if mode == "fault":
            return _fault("Server", "register database unavailable", 500)
        if mode == "http500":
            return web.Response(status=500, text="<html>proxy error</html>", content_type="text/html")
        if mode == "garbage":
            return web.Response(body=b"<soap:Envelope", content_type="text/xml")
        if mode == "doctype":
            return web.Response(body=b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
                                content_type="text/xml")
        if evidence_type not in sample_register.TABLES:
            return _fault("Client", "unknown evidence type", 500)
        return web.Response(body=_answer(evidence_type, date_of_birth, mode), content_type="text/xml",
                            charset="utf-8")

    app = web.Application()
    app.router.add_get(PATH, wsdl)
    app.router.add_post(PATH, find_evidence)
    return app
