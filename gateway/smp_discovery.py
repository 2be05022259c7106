"""SML/SMP discovery wired into the node: network from ``[smp]``, two-level cache (process memory over the
``smp_cache`` table), metrics, and the two functions the AS4 sender and receiver call (see the end of the file).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiohttp
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.config import SmpSection
from gateway.smp_cache_store import DbSmpCache
from gateway.smp_metrics import SmpMetrics
from gateway.smp_network import network_from_settings
from smp_client.cache import CachedDiscovery, MemoryCache
from smp_client.identifiers import Identifier
from smp_client.lookup import Discovery, Network, discover


@dataclass
class SmpDiscovery:
    network: Network
    cache: CachedDiscovery
    metrics: SmpMetrics | None
    _session: aiohttp.ClientSession | None = None

    @classmethod
    def create(cls, network: Network, *, engine: AsyncEngine | None, registry: CollectorRegistry | None = None,
               negative_ttl_s: int = 300, stale_max_s: int = 7 * 86_400, memory_entries: int = 10_000,
               ) -> SmpDiscovery:
        metrics = SmpMetrics(registry) if registry is not None else None
        holder: list[SmpDiscovery] = []

        async def resolve(participant: Identifier, document_type: Identifier, process: Identifier | None,
                          now: datetime) -> Discovery:
            return await discover(participant, document_type, process, network,
                                  session=holder[0].session(), now=now)

        cache = CachedDiscovery(network.name, resolve, shared=DbSmpCache(engine) if engine is not None else None,
                                memory=MemoryCache(memory_entries), negative_ttl_s=negative_ttl_s,
                                stale_max_s=stale_max_s, events=metrics)
        holder.append(cls(network, cache, metrics))
        return holder[0]

    @classmethod
    def from_settings(cls, section: SmpSection, *, engine: AsyncEngine | None,
                      registry: CollectorRegistry | None = None, trust_dir: Path | None = None) -> SmpDiscovery:
        return cls.create(network_from_settings(section, trust_dir=trust_dir), engine=engine, registry=registry,
                          negative_ttl_s=section.negative_ttl_s, stale_max_s=section.stale_max_s)

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def lookup(self, participant: Identifier, document_type: Identifier,
                     process: Identifier | None = None) -> Discovery:
        return await self.cache.lookup(participant, document_type, process)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
