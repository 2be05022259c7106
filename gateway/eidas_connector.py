"""The running connector: keys, stores, metadata (fetched, verified, cached), portals, identity mapping.

Built once per node process from settings; everything it keeps between requests that another process might
need lives in the database (pending requests, replay cache, sessions, register), so any process can serve
any step of a login. In development it can start the foreign proxy-service simulator and the demo portal
inside the node (``eidas.simulator_countries``, ``eidas.demo_portal``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
from cryptography import x509

from eidas_node.mapping import IdentityMapper
from eidas_node.metadata import IdpMetadata, MetadataCache, SpMetadata, parse_idp_metadata
from eidas_node.metadata import parse_sp_metadata as parse_portal_metadata
from eidas_node.response import ResponseChecker
from eidas_node.saml import LOA_HIGH, LOA_LOW, LOA_SUBSTANTIAL, STATUS_REQUESTER, EidasError
from gateway.eidas_register import AuditLogSink, SqlPersonRegister
from gateway.eidas_setup import decrypters, expectations, idp_metadata, sp_metadata
from gateway.eidas_store import DbPendingRequests, DbReplayCache, DbSessions
from gateway.runtime import Node
from pki.keys.port import KeyPurpose, KeyStore, Signer

log = logging.getLogger("gateway.eidas")


@dataclass
class CountryTrust:
    code: str
    metadata_url: str
    anchors: list[x509.Certificate]


@dataclass
class Connector:
    node: Node
    keys: KeyStore
    checker: ResponseChecker
    mapper: IdentityMapper
    pending: DbPendingRequests
    replay: DbReplayCache
    sessions: DbSessions
    countries: dict[str, CountryTrust] = field(default_factory=dict)
    portals: dict[str, SpMetadata] = field(default_factory=dict)
    cache: MetadataCache = field(default_factory=MetadataCache)
    http: aiohttp.ClientSession | None = None
    extras: list[object] = field(default_factory=list)  # in-process simulator / demo portal (development)

    @classmethod
    def create(cls, node: Node) -> Connector:
        if node.key_store is None:
            raise EidasError("EIDAS_NO_KEYS", "the connector needs the node's SAML keys (pki)")
        eidas = node.settings.eidas
        engine = node.engine
        connector = cls(
            node=node, keys=node.key_store,
            checker=ResponseChecker(expectations(node.settings), decrypters(node.key_store),
                                    our_country=node.settings.node.country),
            mapper=IdentityMapper(SqlPersonRegister(engine), AuditLogSink(node.audit), unmatched=eidas.unmatched),
            pending=DbPendingRequests(engine), replay=DbReplayCache(engine), sessions=DbSessions(engine),
            cache=MetadataCache(timedelta(seconds=eidas.metadata_refresh_s)))
        for code, country in eidas.countries.items():
            anchors = [x509.load_pem_x509_certificate(path.read_bytes()) for path in country.trust_anchors]
            connector.countries[code] = CountryTrust(code, country.metadata_url, anchors)
        now = datetime.now(UTC)
        for name, portal in eidas.portals.items():
            anchor = x509.load_pem_x509_certificate(portal.trust_anchor.read_bytes())
            metadata = parse_portal_metadata(portal.metadata.read_bytes(), anchors=[anchor], now=now)
            connector.portals[metadata.entity_id] = metadata
            log.info("registered portal %s (%s)", name, metadata.entity_id)
        return connector

    @property
    def settings(self):  # type: ignore[no-untyped-def]
        return self.node.settings.eidas

    @property
    def idp_entity_id(self) -> str:
        return self.settings.public_url.rstrip("/") + "/eidas/idp/metadata"

    @property
    def idp_sso_url(self) -> str:
        return self.settings.public_url.rstrip("/") + "/eidas/idp/sso"

    def signer(self) -> Signer:
        return self.keys.signer(KeyPurpose.SAML_SIGNING, family=self.settings.signing_family)

    def default_loa(self) -> str:
        return {"low": LOA_LOW, "substantial": LOA_SUBSTANTIAL, "high": LOA_HIGH}[self.settings.default_loa]

    def sp_metadata(self) -> bytes:
        return sp_metadata(self.node.settings, self.keys, datetime.now(UTC))

    def idp_metadata_xml(self) -> bytes:
        """Our national IdP's metadata, for portals to register."""
        return idp_metadata(self.node.settings, self.keys, datetime.now(UTC))

    def portal(self, entity_id: str) -> SpMetadata:
        found = self.portals.get(entity_id)
        if found is None:
            raise EidasError("EIDAS_PORTAL_UNKNOWN", f"no portal registered as {entity_id!r}", status=STATUS_REQUESTER)
        return found

    async def metadata_for(self, code: str, now: datetime) -> IdpMetadata:
        """Verified metadata of a country, fetched when the cache says it is due; a failed refresh keeps the
        cached copy until its validUntil, never after."""
        trust = self.countries.get(code)
        if trust is None:
            raise EidasError("EIDAS_COUNTRY_UNKNOWN", f"country {code!r} is not configured")
        if self.cache.due(code, now):
            try:
                if self.http is None:
                    self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
                async with self.http.get(trust.metadata_url) as reply:
                    reply.raise_for_status()
                    data = await reply.read()
                self.cache.put(parse_idp_metadata(data, anchors=trust.anchors, country=code, now=now), now)
            except (aiohttp.ClientError, TimeoutError, EidasError) as exc:
                log.warning("metadata refresh for %s failed: %s", code, exc)
                if not self.cache.has(code):  # nothing to fall back on: say why
                    raise exc if isinstance(exc, EidasError) else EidasError(
                        "EIDAS_METADATA_UNAVAILABLE", f"metadata of {code} could not be fetched: {exc}") from None
        return self.cache.get(code, now)

    def cached(self, code: str, now: datetime) -> IdpMetadata:
        return self.cache.get(code, now)

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()
        for extra in self.extras:
            await extra.stop()  # type: ignore[attr-defined]
