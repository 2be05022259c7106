"""SML/SMP discovery wired into the node: network from ``[smp]``, two-level cache (process memory over the
``smp_cache`` table), metrics, and the two functions the AS4 sender and receiver call (see the end of the file).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
from cryptography import x509
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from as4.dynamic_pmode import dynamic_pmode, sender_chains_to_network
from as4.pmode import PMode, PModeParty
from gateway.config import ConfigError, SmpSection
from gateway.smp_cache_store import DbSmpCache
from gateway.smp_metrics import SmpMetrics
from gateway.smp_network import network_from_settings
from pki.trust import TrustStore
from pki.trust.model import ValidatedPath
from smp_client import identifiers
from smp_client.cache import CachedDiscovery, MemoryCache
from smp_client.errors import SmpError
from smp_client.identifiers import Identifier, Kind
from smp_client.lookup import Discovery, Network, discover

if TYPE_CHECKING:  # runtime imports the world; only the type is needed here
    from gateway.runtime import Node


class AuditSink(Protocol):
    async def append(self, event: str, actor: str, subject: str | None = None,
                     details: Mapping[str, Any] | None = None) -> int: ...


class SmpDiscovery:
    """Discovery for one network, cached in two levels; one per node process and network."""

    def __init__(self, network: Network, *, engine: AsyncEngine | None, registry: CollectorRegistry | None = None,
                 negative_ttl_s: int = 300, stale_max_s: int = 7 * 86_400, outage_retry_s: int = 30,
                 memory_entries: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self.network = network
        self.metrics = SmpMetrics(registry) if registry is not None else None
        self.cache = CachedDiscovery(network.name, self._resolve,
                                     shared=DbSmpCache(engine) if engine is not None else None,
                                     memory=MemoryCache(memory_entries), negative_ttl_s=negative_ttl_s,
                                     stale_max_s=stale_max_s, outage_retry_s=outage_retry_s,
                                     events=self.metrics, clock=clock)
        self.receiver_party_id: str | None = None
        self.receiver_party_id_type: str | None = None
        self.audit: AuditSink | None = None  # e.g. node.audit: refusals and stale answers become audit records
        self.tls: ssl.SSLContext | None = None  # verifies the SMPs' HTTPS certificates; None: the system's CAs
        self._session: aiohttp.ClientSession | None = None

    async def _resolve(self, participant: Identifier, document_type: Identifier, process: Identifier | None,
                       now: datetime) -> Discovery:
        return await discover(participant, document_type, process, self.network, session=self.session(), now=now)

    @classmethod
    def from_settings(cls, section: SmpSection, *, engine: AsyncEngine | None,
                      registry: CollectorRegistry | None = None, trust_dir: Path | None = None) -> SmpDiscovery:
        made = cls(network_from_settings(section, trust_dir=trust_dir), engine=engine, registry=registry,
                          negative_ttl_s=section.negative_ttl_s, stale_max_s=section.stale_max_s,
                          outage_retry_s=section.outage_retry_s)
        made.tls = client_tls(section.tls_trust_dir) if section.tls_trust_dir else None
        made.receiver_party_id = section.receiver_party_id
        made.receiver_party_id_type = section.receiver_party_id_type
        return made

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self.tls) if self.tls is not None else None
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def lookup(self, participant: Identifier, document_type: Identifier,
                     process: Identifier | None = None) -> Discovery:
        try:
            found = await self.cache.lookup(participant, document_type, process)
        except SmpError as exc:
            if self.audit is not None:
                await self.audit.append("smp.lookup.refused", "node", details={
                    **self._facts(participant, document_type, process), "code": exc.code,
                    "reason": exc.message[:500]})
            raise
        if found.stale and self.audit is not None:
            await self.audit.append("smp.lookup.stale", "node", details={
                **self._facts(participant, document_type, process), "smp_url": found.smp_url,
                "fetched_at": found.fetched_at.isoformat()})
        return found

    def _facts(self, participant: Identifier, document_type: Identifier,
               process: Identifier | None) -> dict[str, str | None]:
        return {"network": self.network.name, "participant": participant.uri, "document_type": document_type.uri,
                "process": process.uri if process else None}

    async def close(self) -> None:
        if isinstance(self.cache.shared, DbSmpCache):
            await self.cache.shared.close()
        if self._session is not None:
            await self._session.close()
            self._session = None


def client_tls(trust_dir: Path | str) -> ssl.SSLContext:
    """TLS 1.2+ client context trusting the anchors of a pki trust store directory (hostnames checked)."""
    try:
        anchors = TrustStore.from_directory(trust_dir, name="smp-tls").ssl_cadata()
    except ValueError as exc:
        raise ConfigError("smp.tls_trust_dir", str(exc)) from None
    context = ssl.create_default_context(cadata=anchors)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


# --- what the AS4 sender and receiver call --------------------------------------------------------------

def load_as4_trust(section: SmpSection, *, directory: Path | None = None) -> TrustStore:
    """The network's AS4 trust anchor (``[smp] as4_trust_dir``): dynamically found partners must chain to it."""
    chosen = directory or section.as4_trust_dir
    if chosen is None:
        raise ConfigError("smp.as4_trust_dir", "dynamic discovery needs the network's AS4 trust store")
    try:
        return TrustStore.from_directory(chosen, name=f"as4:{section.network}")
    except ValueError as exc:
        raise ConfigError("smp.as4_trust_dir", str(exc)) from None


async def discover_agreement(discovery: SmpDiscovery, *, participant: Identifier | str,
                             document_type: Identifier | str, process: Identifier | str | None = None,
                             initiator: PModeParty, as4_trust: TrustStore | Path | str,
                             responder_party_id: str | None = None,
                             responder_party_id_type: str | None = None, action: str | None = None,
                             now: datetime | None = None) -> tuple[PMode, Discovery]:
    """For the sender, when no static PMode matches: participant id → a ready :class:`as4.pmode.PMode`.

    Call it with our own party (``initiator``, role = ebMS initiator) and the final recipient's participant
    identifier; it looks the partner up through the cache (a stale answer during an SML/SMP outage is used
    and flagged on the returned :class:`Discovery`), refuses partners whose certificates do not chain to
    ``as4_trust``, and builds the PMode (profile from the certificates, responder PartyId from the arguments
    or ``[smp] receiver_party_id``/``receiver_party_id_type``, else the certificate CN). The sender then uses
    the PMode exactly as a static one: ``build_outbound(..., pmode.profile, recipient_certificate=
    pmode.encryption_certificate)``, POST to ``pmode.endpoint``, ``check_response(signer_resolver(pmode))``.
    ``as4_trust`` may be a loaded store or its directory; with a directory, ``pmode.to_document()`` keeps it,
    so the PMode can be stored (the outbox refers to PModes by id) and reloaded with ``load_pmode_document``.

    Raises :class:`smp_client.errors.SmpError` (every subclass carries ``code``) when discovery fails.
    """
    trust_dir = None
    if not isinstance(as4_trust, TrustStore):
        as4_trust, trust_dir = _trust_from_dir(as4_trust, discovery.network.name)
    ids = (_as_id(participant, Kind.PARTICIPANT), _as_id(document_type, Kind.DOCUMENT),
           _as_id(process, Kind.PROCESS) if process is not None else None)
    found = await discovery.lookup(*ids)
    pmode = dynamic_pmode(found.endpoint, participant=ids[0], document_type=ids[1], process=ids[2],
                          initiator=initiator, trust=as4_trust, now=now or datetime.now(UTC),
                          responder_party_id=responder_party_id or discovery.receiver_party_id,
                          responder_party_id_type=responder_party_id_type or discovery.receiver_party_id_type,
                          action=action, trust_store_dir=trust_dir)
    return pmode, found


def check_dynamic_sender(certificate: x509.Certificate, intermediates: Sequence[x509.Certificate],
                         as4_trust: TrustStore, *, now: datetime | None = None) -> ValidatedPath:
    """For the receiver: a sender with no static PMode is accepted only if this returns (its signing
    certificate chains to the network's AS4 anchor); raises ``SmpError`` code ``SMP_SENDER_UNTRUSTED``.
    :func:`as4.dynamic_pmode.dynamic_agreement` wraps the receiver's AgreementFinder with this check."""
    return sender_chains_to_network(certificate, intermediates, as4_trust, now=now)


def _trust_from_dir(directory: Path | str, network: str) -> tuple[TrustStore, Path]:
    absolute = Path(directory).resolve()
    return TrustStore.from_directory(absolute, name=f"as4:{network}"), absolute


def _as_id(value: Identifier | str, kind: Kind) -> Identifier:
    return value if isinstance(value, Identifier) else identifiers.parse(value, kind)


def open_discovery(node: Node, network: str | None = None) -> SmpDiscovery | None:
    """The node's discovery for ``network`` (default ``[smp]``): shared cache in the node's database, metrics in
    its registry, audit records in its log. None when discovery is not configured (no ``[smp] trust_dir``)."""
    section = node.settings.smp.for_network(network)
    if section.trust_dir is None:
        return None
    discovery = SmpDiscovery.from_settings(section, engine=node.engine, registry=node.metrics.registry)
    discovery.audit = node.audit
    return discovery
