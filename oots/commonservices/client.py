"""Evidence Broker and Data Service Directory client (RegRep REST query binding) with verified answers.

Every answer's detached JWS is verified against the configured trust store before the body is parsed. The
base URLs come from configuration, or from ``resolve`` (the NAPTR discovery hook: ``"eb"``/``"dsd"`` → URL).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

import aiohttp

from oots.commonservices.codec import parse_data_services, parse_requirements
from oots.commonservices.jws import SIGNATURE_HEADER, verify_detached
from oots.commonservices.model import (
    ACCEPT,
    CS_VERSION,
    DSD_DATA_SERVICES,
    EB_EVIDENCE_TYPES,
    EB_REQUIREMENTS,
    CommonServicesError,
    DataServiceOffer,
    RequirementInfo,
)
from pki.keys.port import KeyPurpose
from pki.trust.store import TrustStore

Resolver = Callable[[str], Awaitable[str]]


class CommonServicesClient:
    def __init__(self, session: aiohttp.ClientSession, *, trust: TrustStore, eb_url: str | None = None,
                 dsd_url: str | None = None, resolve: Resolver | None = None,
                 purpose: str = KeyPurpose.SMP_SIGNING, accept_version: str = CS_VERSION,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), timeout_s: float = 10.0,
                 max_bytes: int = 8 * 1024 * 1024) -> None:
        self._session = session
        self._trust = trust
        self._urls = {"eb": eb_url, "dsd": dsd_url}
        self._resolve = resolve
        self._purpose = str(purpose)
        self._accept_version = accept_version
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_bytes = max_bytes

    async def requirements(self, procedure: str, country: str | None = None) -> list[RequirementInfo]:
        params = {"queryId": EB_REQUIREMENTS, "procedure-id": procedure}
        if country:
            params["country-code"] = country
        return parse_requirements(await self._query("eb", params))

    async def evidence_types(self, requirement: str, country: str | None = None) -> list[RequirementInfo]:
        params = {"queryId": EB_EVIDENCE_TYPES, "requirement-id": requirement}
        if country:
            params["country-code"] = country
        return parse_requirements(await self._query("eb", params))

    async def data_services(self, evidence_type_classification: str, country: str, *,
                            specification: str | None = None,
                            additional: Mapping[str, str] | None = None) -> list[DataServiceOffer]:
        """Raises :class:`AdditionalInputRequired` (DSD:ERR:0005): ask the user its concepts, then call again
        with ``additional={concept id: answer}``."""
        params = {"queryId": DSD_DATA_SERVICES, "evidence-type-classification": evidence_type_classification,
                  "country-code": country}
        if specification:
            params["specification"] = specification
        params.update(additional or {})
        return parse_data_services(await self._query("dsd", params))

    async def _base(self, service: str) -> str:
        url = self._urls[service]
        if url is None and self._resolve is not None:
            url = self._urls[service] = await self._resolve(service)
        if not url:
            raise CommonServicesError("CS_NO_BASE_URL", f"no base URL for the {service.upper()} "
                                                        "(configure it or give a NAPTR resolver)")
        return url.rstrip("/")

    async def _query(self, service: str, params: dict[str, str]) -> bytes:
        url = f"{await self._base(service)}/rest/search"
        headers = {"Accept": ACCEPT, "Accept-Version": self._accept_version}
        try:
            async with self._session.get(url, params=params, headers=headers, timeout=self._timeout) as response:
                body = await response.content.read(self._max_bytes + 1)
                if len(body) > self._max_bytes:
                    raise CommonServicesError("CS_TOO_LARGE", f"answer larger than {self._max_bytes} bytes")
                if response.status != 200:
                    raise CommonServicesError("CS_HTTP", f"{service.upper()} answered HTTP {response.status}")
                signature = response.headers.get(SIGNATURE_HEADER)
                digest = response.headers.get("digest")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise CommonServicesError("CS_UNREACHABLE", f"{url}: {exc!r}") from None
        verify_detached(signature, digest, body, trust=self._trust, purpose=self._purpose, now=self._clock())
        return body
