"""Discovery cache, level one (in-process) over a shared level two (a port; the node's database implements it).

Freshness: an answer lives for its TTL (DNS TTL and HTTP max-age, clamped by the network). A negative answer
(no such participant, no such service, no usable endpoint, a document that fails verification) is cached for
``negative_ttl_s`` so a flood of sends to an unknown partner does not flood the SML and the SMP.

Outage: when DNS or the SMP cannot be reached (timeouts, connection errors, HTTP 5xx), the last good answer is
served, flagged ``stale``, for up to ``stale_max_s`` after it was fetched, so a partner stays reachable while
its SMP is down. Definitive answers (NXDOMAIN, 404, bad signature) are never papered over with stale data.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography import x509

from smp_client import identifiers
from smp_client.errors import SmpError
from smp_client.identifiers import Identifier
from smp_client.lookup import Discovery
from smp_client.model import CertificateUse, Endpoint, EndpointCertificate, endpoint_json

OUTAGE_CODES = frozenset({"SML_TIMEOUT", "SML_DNS_FAILURE", "SMP_UNREACHABLE", "SMP_TIMEOUT", "SMP_HTTP_STATUS"})


def cache_key(network: str, participant: Identifier, document_type: Identifier, process: Identifier | None) -> str:
    text = "|".join((network, participant.uri, document_type.uri, process.uri if process else ""))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class CacheEntry:
    key: str
    network: str
    participant: str
    ok: bool
    discovery: Discovery | None  # ok entries
    error_code: str | None  # negative entries
    error_text: str | None
    fetched_at: float
    expires_at: float

    def fresh(self, now: float) -> bool:
        return now < self.expires_at


class SharedCache(Protocol):
    """Level two, shared by every node process (the database)."""

    async def get(self, key: str) -> CacheEntry | None: ...

    async def put(self, entry: CacheEntry) -> None: ...


class Events(Protocol):
    """Where the cache reports what it did (metrics); every method is optional to implement meaningfully."""

    def lookup(self, source: str, outcome: str) -> None: ...

    def stale(self, network: str) -> None: ...


class _NoEvents:
    def lookup(self, source: str, outcome: str) -> None:
        pass

    def stale(self, network: str) -> None:
        pass


# --- serialisation (the shared level stores JSON) ----------------------------------------------------------

def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def discovery_to_json(found: Discovery) -> dict[str, Any]:
    return {"network": found.network, "participant": found.participant.uri,
            "document_type": found.document_type.uri, "process": found.process.uri if found.process else None,
            "smp_url": found.smp_url, "signer": found.signer_subject, "ttl_s": found.ttl_s,
            "fetched_at": found.fetched_at.isoformat(), "endpoint": endpoint_json(found.endpoint)}


def discovery_from_json(data: dict[str, Any]) -> Discovery:
    ep = data["endpoint"]
    certs = tuple(EndpointCertificate(x509.load_pem_x509_certificate(c["pem"].encode("ascii")),
                                      CertificateUse(c["use"]), c["type_code"], _dt(c["activation"]),
                                      _dt(c["expiration"])) for c in ep["certificates"])
    endpoint = Endpoint(ep["transport_profile"], ep["address"], certs, _dt(ep["activation"]), _dt(ep["expiration"]),
                        ep["require_business_signature"], ep["description"], ep["contact"])
    return Discovery(data["network"], identifiers.participant(data["participant"]),
                     identifiers.document_type(data["document_type"]),
                     identifiers.process(data["process"]) if data["process"] else None,
                     data["smp_url"], endpoint, data["signer"], int(data["ttl_s"]),
                     datetime.fromisoformat(data["fetched_at"]))


# --- the cache -------------------------------------------------------------------------------------------

Resolve = Callable[[Identifier, Identifier, Identifier | None, datetime], Awaitable[Discovery]]


class MemoryCache:
    """Level one: a bounded LRU dict. Reads are plain dict operations (no lock: one event loop)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self.max_entries = max_entries

    def get(self, key: str) -> CacheEntry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, entry: CacheEntry) -> None:
        self._entries[entry.key] = entry
        self._entries.move_to_end(entry.key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


class CachedDiscovery:
    def __init__(self, network: str, resolve: Resolve, *, shared: SharedCache | None = None,
                 memory: MemoryCache | None = None, negative_ttl_s: int = 300, stale_max_s: int = 7 * 86_400,
                 outage_retry_s: int = 30, clock: Callable[[], float] = time.time,
                 events: Events | None = None) -> None:
        self.network = network
        self._resolve = resolve
        self.shared = shared
        self.memory = memory or MemoryCache()
        self.negative_ttl_s = negative_ttl_s
        self.stale_max_s = stale_max_s
        self.outage_retry_s = outage_retry_s
        self._clock = clock
        self._events = events or _NoEvents()
        self._in_flight: dict[str, asyncio.Future[Discovery]] = {}

    def _answer(self, entry: CacheEntry, source: str) -> Discovery:
        if entry.ok:
            assert entry.discovery is not None
            if entry.discovery.stale:  # remembered during an outage (see _refresh)
                self._events.stale(self.network)
                self._events.lookup("stale", "hit")
            else:
                self._events.lookup(source, "hit")
            return entry.discovery
        self._events.lookup(source, "negative")
        raise SmpError(entry.error_code or "SMP_NEGATIVE", f"(cached) {entry.error_text}")

    async def lookup(self, participant: Identifier, document_type: Identifier,
                     process: Identifier | None = None) -> Discovery:
        key = cache_key(self.network, participant, document_type, process)
        now = self._clock()
        entry = self.memory.get(key)
        if entry is not None and entry.fresh(now):
            return self._answer(entry, "memory")
        if self.shared is not None:
            shared = await self.shared.get(key)
            if shared is not None and shared.fresh(now):
                self.memory.put(shared)
                return self._answer(shared, "shared")
            if shared is not None and (entry is None or shared.fetched_at > entry.fetched_at):
                entry = shared
        pending = self._in_flight.get(key)
        if pending is not None:  # one network lookup per key at a time; the others wait for it
            return await asyncio.shield(pending)
        future: asyncio.Future[Discovery] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            found = await self._refresh(key, participant, document_type, process, entry, now)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # retrieved: waiters re-raise it, nobody is warned about it
            raise
        else:
            future.set_result(found)
            return found
        finally:
            del self._in_flight[key]

    async def _refresh(self, key: str, participant: Identifier, document_type: Identifier,
                       process: Identifier | None, last: CacheEntry | None, now: float) -> Discovery:
        try:
            found = await self._resolve(participant, document_type, process, datetime.fromtimestamp(now, UTC))
        except SmpError as exc:
            if exc.code in OUTAGE_CODES:
                good = last if last is not None and last.ok else None
                if good is not None and now - good.fetched_at <= self.stale_max_s:
                    self._events.stale(self.network)
                    self._events.lookup("stale", "hit")
                    assert good.discovery is not None
                    stale = replace(good.discovery, stale=True)
                    # Ask the dead SML/SMP again only after outage_retry_s: until then this process answers from
                    # memory at once instead of waiting for a timeout on every send. Not shared: each process
                    # finds out about the outage (and its end) for itself.
                    self.memory.put(replace(good, discovery=stale, expires_at=now + self.outage_retry_s))
                    return stale
                self._events.lookup("network", "outage")
                raise
            negative = CacheEntry(key, self.network, participant.uri, False, None, exc.code, exc.message, now,
                                  now + self.negative_ttl_s)
            await self._store(negative)
            self._events.lookup("network", "negative")
            raise
        entry = CacheEntry(key, self.network, participant.uri, True, found, None, None, now, now + found.ttl_s)
        await self._store(entry)
        self._events.lookup("network", "hit")
        return found

    async def _store(self, entry: CacheEntry) -> None:
        self.memory.put(entry)
        if self.shared is not None:
            await self.shared.put(entry)
