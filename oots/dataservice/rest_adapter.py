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

import ssl
from collections.abc import Sequence
from typing import Any

import aiohttp

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

__all__ = ["EvidenceTypeInfo", "RestRegisterAdapter"]


class RestRegisterAdapter(RemoteRegister):
    failures = (aiohttp.ClientError,)

    def __init__(self, base_url: str, types: Sequence[EvidenceTypeInfo], *, timeout_s: float = 10.0,
                 bearer_token: str | None = None, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(types, timeout_s=timeout_s)
        self._base = base_url.rstrip("/")
        self._headers = {"Accept": "application/json"}
        if bearer_token:
            self._headers["Authorization"] = f"Bearer {bearer_token}"
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True

    async def _lookup(self, info: EvidenceTypeInfo, person: NaturalPerson) -> list[EvidenceDocument]:
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
            found = [RegisterEvidence(str(i["identifier"]), await self._content(session, i), str(i["media_type"]),
                                      str(i["issuing_date"]), i.get("conforms_to")) for i in items]
        return documents(info, chosen, person, found)

    async def _content(self, session: aiohttp.ClientSession, item: dict[str, Any]) -> bytes:
        if "content_base64" in item:
            return decode_base64(str(item["content_base64"]))
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
    chosen, items = choose(person, candidates, evidence)
    if not all(isinstance(i, dict) and {"identifier", "media_type", "issuing_date"} <= i.keys()
               and ("content_base64" in i or "url" in i) for i in items):
        raise DataServiceError("REGISTRY_ERROR", "an evidence item has not the expected shape")
    return chosen, items
