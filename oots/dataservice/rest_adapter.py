"""A data-service adapter for a register behind a JSON REST API.

Protocol (ours, documented in the README): ``POST {base_url}/evidence-queries`` with
``{"evidence_type", "person": {"family_name", "given_name", "date_of_birth", "eidas_identifier"}}``; the register
answers 200 with ``{"persons": [{"key", "family_name", "given_name", "date_of_birth", "eidas_identifier"}],
"evidence": {"<person key>": [{"identifier", "content_base64" | "url", "media_type", "issuing_date",
"conforms_to"}]}}``. The register returns candidates, and WE decide the unique match with
:func:`match_person`, so the same "unique match or nothing" rule holds for every adapter. 404 → no evidence;
timeouts → REGISTRY_TIMEOUT (EDM:ERR:0005); 5xx, other statuses and malformed JSON → REGISTRY_ERROR (0008).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from oots.dataservice.matching import RegisterPerson, match_person
from oots.dataservice.port import DataServiceError, EvidenceDocument, EvidenceQuery
from oots.edm.model import Agent, NaturalPerson, Text


@dataclass(frozen=True)
class EvidenceTypeInfo:
    """What the register does not send but the response's sdg:Evidence needs, per evidence type."""

    evidence_type: str
    titles: tuple[Text, ...]
    issuing_authority: Agent
    level_of_assurance: str = "Substantial"


class RestRegisterAdapter:
    def __init__(self, base_url: str, types: Sequence[EvidenceTypeInfo], *, timeout_s: float = 10.0,
                 bearer_token: str | None = None, ssl_context: ssl.SSLContext | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._types = {t.evidence_type: t for t in types}
        self._timeout = timeout_s
        self._headers = {"Accept": "application/json"}
        if bearer_token:
            self._headers["Authorization"] = f"Bearer {bearer_token}"
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True

    @property
    def evidence_types(self) -> frozenset[str]:
        return frozenset(self._types)

    @property
    def required_loa(self) -> dict[str, str]:
        return {t: i.level_of_assurance for t, i in self._types.items()}

    async def fetch(self, query: EvidenceQuery) -> list[EvidenceDocument]:
        info = self._types.get(query.evidence_type)
        if info is None:
            raise DataServiceError("EVIDENCE_TYPE_UNKNOWN", f"this register does not provide {query.evidence_type}")
        if not isinstance(query.person, NaturalPerson):
            raise DataServiceError("IDENTITY_NOT_MATCHED", "this register holds natural persons only")
        try:
            return await asyncio.wait_for(self._fetch(info, query.person), self._timeout)
        except TimeoutError:
            raise DataServiceError("REGISTRY_TIMEOUT",
                                   f"the register did not answer within {self._timeout} s") from None
        except aiohttp.ClientError as exc:
            raise DataServiceError("REGISTRY_ERROR", f"the register failed: {type(exc).__name__}") from None

    async def _fetch(self, info: EvidenceTypeInfo, person: NaturalPerson) -> list[EvidenceDocument]:
        wanted = {"evidence_type": info.evidence_type,
                  "person": {"family_name": person.family_name, "given_name": person.given_name,
                             "date_of_birth": person.date_of_birth,
                             "eidas_identifier": person.identifier.value if person.identifier else None}}
        async with aiohttp.ClientSession(headers=self._headers) as session:
            async with session.post(f"{self._base}/evidence-queries", json=wanted, ssl=self._ssl) as resp:
                if resp.status == 404:
                    return []
                if resp.status != 200:
                    raise DataServiceError("REGISTRY_ERROR", f"the register answered HTTP {resp.status}")
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    raise DataServiceError("REGISTRY_ERROR", "the register's answer is not JSON") from None
            chosen, items = _parse(body, person)
            subject = NaturalPerson(chosen.family_name, chosen.given_name, chosen.date_of_birth, person.identifier)
            return [EvidenceDocument(str(i["identifier"]), await self._content(session, i), str(i["media_type"]),
                                     str(i["issuing_date"]), info.issuing_authority, info.titles, subject,
                                     i.get("conforms_to"))
                    for i in items]

    async def _content(self, session: aiohttp.ClientSession, item: dict[str, Any]) -> bytes:
        if "content_base64" in item:
            try:
                return base64.b64decode(str(item["content_base64"]), validate=True)
            except (binascii.Error, ValueError):
                raise DataServiceError("REGISTRY_ERROR", "evidence content is not valid base64") from None
        # A download URL is resolved against the register's base so it cannot send us elsewhere.
        url = str(item["url"])
        if not url.startswith("/"):
            raise DataServiceError("REGISTRY_ERROR", "evidence URL must be a path on the register")
        async with session.get(f"{self._base}{url}", ssl=self._ssl) as resp:
            if resp.status != 200:
                raise DataServiceError("REGISTRY_ERROR", f"evidence download answered HTTP {resp.status}")
            return await resp.read()


def _parse(body: Any, person: NaturalPerson) -> tuple[RegisterPerson, list[dict[str, Any]]]:
    """The matched person and their evidence items; shape errors are register failures (0008)."""
    try:
        candidates = [RegisterPerson(str(p["key"]), str(p["family_name"]), str(p["given_name"]),
                                     str(p["date_of_birth"]), p.get("eidas_identifier")) for p in body["persons"]]
        evidence = body.get("evidence") or {}
        if not isinstance(evidence, dict):
            raise TypeError("evidence")
    except (KeyError, TypeError, AttributeError):
        raise DataServiceError("REGISTRY_ERROR", "the register's answer has not the expected shape") from None
    chosen = match_person(person, candidates)
    items = evidence.get(chosen.key) or []
    if not isinstance(items, list) or not all(
            isinstance(i, dict) and {"identifier", "media_type", "issuing_date"} <= i.keys()
            and ("content_base64" in i or "url" in i) for i in items):
        raise DataServiceError("REGISTRY_ERROR", "an evidence item has not the expected shape")
    return chosen, items
