"""One discovery, end to end: participant → SML (DNS) → SMP (HTTP) → verified metadata → endpoint.

The network (:class:`Network`) holds everything that differs between eDelivery networks: SML zone and hash
mode, SMP API flavour, the SMP trust store, accepted transport profiles, https requirements and TTL bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from urllib.parse import quote

import aiohttp

from pki.trust import TrustStore
from smp_client.documents import check_redirect_target, read_service_metadata
from smp_client.errors import SmpDocumentError
from smp_client.http import fetch
from smp_client.identifiers import Identifier
from smp_client.model import DEFAULT_TRANSPORT_PROFILES, CertificateUse, Endpoint, ServiceMetadata
from smp_client.naptr import check_smp_url
from smp_client.parse import DEFAULT_MAX_BYTES
from smp_client.select import select_endpoint
from smp_client.sml import SmlNetwork, resolve_smp

SmpApi = Literal["oasis-1", "oasis-2"]


@dataclass(frozen=True)
class Network:
    name: str
    sml: SmlNetwork
    trust: TrustStore
    api: SmpApi = "oasis-1"  # Peppol SMPs speak the 1.0 REST API too (busdox documents are recognised)
    transport_profiles: tuple[str, ...] = DEFAULT_TRANSPORT_PROFILES
    require_https_endpoint: bool = True
    certificate_uses: dict[str, CertificateUse] = field(default_factory=dict)
    min_ttl_s: int = 60
    max_ttl_s: int = 86_400
    default_ttl_s: int = 3600
    max_bytes: int = DEFAULT_MAX_BYTES
    dns_timeout_s: float = 5.0
    http_timeout_s: float = 10.0
    nameserver: tuple[str, int] | None = None

    def clamp_ttl(self, *ttls: int | None) -> int:
        known = [t for t in ttls if t is not None]
        ttl = min(known) if known else self.default_ttl_s
        return max(self.min_ttl_s, min(self.max_ttl_s, ttl))


@dataclass(frozen=True)
class Discovery:
    """What the sender needs: where, which profile, which certificates; plus provenance and freshness."""

    network: str
    participant: Identifier
    document_type: Identifier
    process: Identifier | None
    smp_url: str
    endpoint: Endpoint
    signer_subject: str
    ttl_s: int
    fetched_at: datetime
    stale: bool = False


def metadata_url(smp_url: str, api: SmpApi, participant: Identifier, document_type: Identifier) -> str:
    prefix = f"{smp_url.rstrip('/')}/bdxr-smp-2" if api == "oasis-2" else smp_url.rstrip("/")
    return f"{prefix}/{quote(participant.uri, safe='')}/services/{quote(document_type.uri, safe='')}"


async def _metadata(session: aiohttp.ClientSession, url: str, network: Network,
                    now: datetime) -> tuple[ServiceMetadata, int | None]:
    fetched = await fetch(session, url, max_bytes=network.max_bytes, http_timeout=network.http_timeout_s)
    metadata = read_service_metadata(fetched.body, trust=network.trust, now=now, max_bytes=network.max_bytes,
                                     certificate_uses=network.certificate_uses)
    return metadata, fetched.max_age


async def discover(participant: Identifier, document_type: Identifier, process: Identifier | None,
                   network: Network, *, session: aiohttp.ClientSession, now: datetime,
                   transport_profiles: Sequence[str] | None = None) -> Discovery:
    sml = await resolve_smp(participant, network.sml, nameserver=network.nameserver,
                            dns_timeout=network.dns_timeout_s)
    url = metadata_url(sml.smp_url, network.api, participant, document_type)
    metadata, max_age = await _metadata(session, url, network, now)
    if metadata.redirect is not None:  # one hop, and the target must be signed by the named certificate
        href = check_smp_url(metadata.redirect.href, require_https=network.sml.require_https)
        target, target_age = await _metadata(session, href, network, now)
        check_redirect_target(metadata, target)
        metadata, max_age = target, min(a for a in (max_age, target_age, network.max_ttl_s) if a is not None)
    if metadata.participant != participant:
        raise SmpDocumentError("SMP_PARTICIPANT_MISMATCH",
                               f"the SMP answered for {metadata.participant}, not {participant}")
    if metadata.document_type != document_type:
        raise SmpDocumentError("SMP_DOCUMENT_TYPE_MISMATCH",
                               f"the SMP answered for {metadata.document_type}, not {document_type}")
    endpoint = select_endpoint(metadata, process=process, now=now,
                               transport_profiles=transport_profiles or network.transport_profiles,
                               require_https=network.require_https_endpoint)
    assert metadata.signer is not None
    return Discovery(network.name, participant, document_type, process, sml.smp_url, endpoint,
                     metadata.signer.subject.rfc4514_string(), network.clamp_ttl(sml.ttl, max_age), now)
