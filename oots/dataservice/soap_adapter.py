"""A data-service adapter for a register behind a SOAP service described by a WSDL, through zeep.

Protocol: any document/literal operation shaped like ``oots/dataservice/wsdl/register-evidence.wsdl``
(``FindEvidence(EvidenceType, Person)`` → ``Candidate*`` with a ``key``, ``Evidence*`` with a ``personKey`` and
base64 ``Content``). As with the REST adapter the register returns candidates and WE decide the unique match.

Split of the work, so nothing blocks the event loop and nothing untrusted reaches a lenient parser:

* zeep loads the WSDL once, in a worker thread, with hardened settings (no DTD, no entities, no external
  imports) and a load timeout; a failed load is not cached, the next lookup tries again;
* zeep builds the request envelope and deserialises the answer body against the WSDL's schema;
* the HTTP exchange runs on aiohttp in the loop (same timeout, TLS and error handling as the REST adapter), and
  the answer is parsed with the project's hardened parser (:func:`pki.xml.parser.parse_xml`) before zeep sees it.

Errors: timeout → REGISTRY_TIMEOUT (EDM:ERR:0005); HTTP/transport failures, refused or malformed XML, answers
not matching the WSDL, bad base64 → REGISTRY_ERROR (0008); a SOAP fault → REGISTRY_FAULT (0008) naming the
fault code; no or several matching persons → IDENTITY_NOT_MATCHED / IDENTITY_AMBIGUOUS (0004), no evidence for
the matched person → no documents (TC02).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.wsdl.bindings.soap import Soap12Binding, SoapBinding

from oots.dataservice.matching import RegisterPerson
from oots.dataservice.port import DataServiceError, EvidenceDocument
from oots.dataservice.remote_register import (
    EvidenceTypeInfo,
    RegisterEvidence,
    RemoteRegister,
    choose,
    decode_base64,
    documents,
)
from oots.edm.model import NaturalPerson
from pki.xml.parser import XmlRefused, parse_xml

log = logging.getLogger("oots.dataservice.soap")
__all__ = ["DEFAULT_WSDL", "EvidenceTypeInfo", "SoapRegisterAdapter"]

DEFAULT_WSDL = Path(__file__).resolve().parent / "wsdl" / "register-evidence.wsdl"
MAX_ANSWER_BYTES = 32 * 1024 * 1024
_FAULT_TEXT = 200  # fault strings come from the register; keep what we log and answer short


def _hardened_settings() -> zeep.Settings:
    return zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True,
                         xml_huge_tree=False, raw_response=False)


@dataclass(frozen=True)
class _Service:
    """What one WSDL load gives: zeep's client (for the envelope) and the bound operation."""

    client: zeep.Client
    proxy: Any  # zeep's ServiceProxy of the port
    binding: SoapBinding
    address: str
    operation_name: str

    def envelope(self, **body: Any) -> tuple[bytes, dict[str, str]]:
        operation = self.binding.get(self.operation_name)
        envelope = self.client.create_message(self.proxy, self.operation_name, **body)
        action = operation.soapaction or ""
        if isinstance(self.binding, Soap12Binding):
            headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}
        else:
            headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"), headers

    def answer(self, document: etree._Element, status: int) -> Any:
        """The deserialised answer body; raises zeep.exceptions.Fault for a SOAP fault."""
        fault = document.find("soap-env:Body/soap-env:Fault", namespaces=self.binding.nsmap)
        operation = self.binding.get(self.operation_name)
        if fault is not None:
            self.binding.process_error(document, operation)
        if status != 200:
            raise DataServiceError("REGISTRY_ERROR", f"the register answered HTTP {status} without a SOAP fault")
        return operation.process_reply(document)


def _load(wsdl: str, endpoint: str | None, operation: str, timeout_s: float, verify: str | bool) -> _Service:
    """Blocking (runs in a worker thread): fetch and compile the WSDL."""
    session = requests.Session()
    session.verify = verify
    transport = zeep.Transport(session=session, timeout=timeout_s)  # only loads the WSDL: HTTP calls are ours
    client = zeep.Client(wsdl, transport=transport, settings=_hardened_settings())
    for service in client.wsdl.services.values():
        for port in service.ports.values():
            if isinstance(port.binding, SoapBinding) and port.binding.get(operation) is not None:
                return _Service(client, client.bind(service.name, port.name), port.binding,
                                endpoint or port.binding_options["address"], operation)
    raise DataServiceError("REGISTRY_ERROR", f"the WSDL has no SOAP port with operation {operation}")


class SoapRegisterAdapter(RemoteRegister):
    # zeep reports an answer that does not fit the WSDL's schema (missing or mistyped elements, bad dates) with
    # plain ValueError / TypeError / AttributeError / KeyError from its deserialisers: register failures too.
    failures = (aiohttp.ClientError, XmlRefused, requests.RequestException, zeep.exceptions.Error,
                etree.XMLSyntaxError, ValueError, TypeError, AttributeError, KeyError)

    def __init__(self, wsdl: str | Path, types: Sequence[EvidenceTypeInfo], *, endpoint: str | None = None,
                 operation: str = "FindEvidence", timeout_s: float = 10.0, ca_file: Path | None = None) -> None:
        super().__init__(types, timeout_s=timeout_s)
        self._wsdl = str(wsdl)
        self._endpoint = endpoint
        self._operation = operation
        self._verify: str | bool = str(ca_file) if ca_file is not None else True
        self._ssl: ssl.SSLContext | bool = (ssl.create_default_context(cafile=str(ca_file)) if ca_file is not None
                                            else True)
        self._service: _Service | None = None
        self._loading = asyncio.Lock()

    async def service(self) -> _Service:
        """The compiled WSDL (loaded on first use, off the event loop)."""
        async with self._loading:
            if self._service is None:
                self._service = await asyncio.to_thread(_load, self._wsdl, self._endpoint, self._operation,
                                                        self._timeout, self._verify)
            return self._service

    async def _lookup(self, info: EvidenceTypeInfo, person: NaturalPerson) -> list[EvidenceDocument]:
        service = await self.service()
        identity = {"FamilyName": person.family_name, "GivenName": person.given_name,
                    "DateOfBirth": date.fromisoformat(person.date_of_birth)}
        if person.identifier is not None:
            identity["EidasIdentifier"] = person.identifier.value
        body, headers = service.envelope(EvidenceType=info.evidence_type, Person=identity)
        async with aiohttp.ClientSession() as session:
            async with session.post(service.address, data=body, headers=headers, ssl=self._ssl) as resp:
                status = resp.status
                raw = await resp.content.read(MAX_ANSWER_BYTES + 1)
        if len(raw) > MAX_ANSWER_BYTES:
            raise DataServiceError("REGISTRY_ERROR", f"the register's answer exceeds {MAX_ANSWER_BYTES} bytes")
        if status != 200 and not raw:
            raise DataServiceError("REGISTRY_ERROR", f"the register answered HTTP {status}")
        document = parse_xml(raw, max_bytes=MAX_ANSWER_BYTES).getroot()
        try:
            answer = service.answer(document, status)
        except zeep.exceptions.Fault as fault:
            # The fault string stays in our log: the error's message travels to the foreign requester.
            log.warning("register %s answered SOAP fault %s: %s", service.address, fault.code,
                        (fault.message or "")[:_FAULT_TEXT])
            raise DataServiceError("REGISTRY_FAULT", f"the register answered SOAP fault {fault.code}") from None
        return _evidence(info, person, answer, document)


def _evidence(info: EvidenceTypeInfo, person: NaturalPerson, answer: Any,
              document: etree._Element) -> list[EvidenceDocument]:
    if answer is None:
        raise DataServiceError("REGISTRY_ERROR", "the register's answer has no body")
    candidates = [RegisterPerson(str(c.key), str(c.FamilyName), str(c.GivenName), _iso(c.DateOfBirth),
                                 c.EidasIdentifier) for c in answer.Candidate or []]
    by_person: dict[str, list[Any]] = {}
    for item in answer.Evidence or []:
        by_person.setdefault(str(item.personKey), []).append(item)
    chosen, items = choose(person, candidates, by_person)
    _check_base64(document)
    found = [RegisterEvidence(str(i.Identifier), bytes(i.Content), str(i.MediaType), _iso(i.IssuingDate),
                              i.ConformsTo) for i in items]
    return documents(info, chosen, person, found)


def _check_base64(document: etree._Element) -> None:
    """zeep decodes base64Binary leniently (it drops characters outside the alphabet): every content is checked
    strictly first, as the REST adapter decodes it. Where the strict decoding succeeds, both give the same bytes."""
    for content in document.iterfind(".//{*}Evidence/{*}Content"):
        decode_base64(content.text or "")


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)
