"""The two-level cache: memory over the shared database table, TTLs, negative caching, stale-on-outage."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from gateway.config import load_settings
from gateway.db.engine import create_engine
from gateway.db.migrate import upgrade
from gateway.smp_cache_store import DbSmpCache
from gateway.smp_discovery import SmpDiscovery
from gateway.smp_publisher import build_documents, publisher_app
from smp_client import identifiers
from smp_client.cache import CachedDiscovery, MemoryCache, discovery_from_json, discovery_to_json
from smp_client.errors import SmpError
from smp_client.hashing import dns_name
from smp_client.lookup import Discovery
from smp_client.model import Flavour
from smp_client.sml import SmlNetwork
from tests.smp_client.dnsmasq import Dnsmasq, DnsZone, Naptr
from tests.smp_client.servers import start_app
from tests.smp_client.smpfixtures import DOC, PARTICIPANT, PROCESS, metadata, partner_endpoint, smp_keys

ZONE = "sml.cache.example"
REPO = Path(__file__).resolve().parents[2]


def _found(ttl: int = 100) -> Discovery:
    return Discovery("test", PARTICIPANT, DOC, PROCESS, "http://smp", partner_endpoint(v2=True), "CN=x", ttl,
                     datetime(2026, 1, 1, tzinfo=UTC))


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()  # real "now": certificates are checked against it

    def __call__(self) -> float:
        return self.now


class ScriptedResolver:
    """Stands in for DNS + SMP in the pure cache tests only; the network paths are tested with real servers."""

    def __init__(self) -> None:
        self.calls = 0
        self.next: Discovery | SmpError = _found()

    async def __call__(self, participant, document_type, process, now):  # type: ignore[no-untyped-def]
        self.calls += 1
        await asyncio.sleep(0)
        if isinstance(self.next, SmpError):
            raise self.next
        return self.next


async def _engine(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = load_settings(environ={"GATEWAY_DATABASE__URL": db_url, "GATEWAY_NODE__DATA_DIR": str(tmp_path)},
                             default_file=False)
    engine = create_engine(settings)
    await upgrade(engine)
    return engine


def test_json_round_trip() -> None:
    found = _found()
    again = discovery_from_json(json.loads(json.dumps(discovery_to_json(found))))
    assert again == found


async def test_memory_ttl_negative_and_stale() -> None:
    clock, resolver = FakeClock(), ScriptedResolver()
    events: list[tuple[str, str]] = []

    class Recorder:
        def lookup(self, source: str, outcome: str) -> None:
            events.append((source, outcome))

        def stale(self, network: str) -> None:
            events.append(("stale-metric", network))

    cache = CachedDiscovery("test", resolver, clock=clock, negative_ttl_s=30, stale_max_s=1000, outage_retry_s=30,
                            events=Recorder())
    first = await cache.lookup(PARTICIPANT, DOC, PROCESS)
    await cache.lookup(PARTICIPANT, DOC, PROCESS)
    assert resolver.calls == 1 and not first.stale
    clock.now += 101  # TTL over: refreshed
    await cache.lookup(PARTICIPANT, DOC, PROCESS)
    assert resolver.calls == 2
    clock.now += 101
    resolver.next = SmpError("SMP_UNREACHABLE", "down")
    stale = await cache.lookup(PARTICIPANT, DOC, PROCESS)
    assert stale.stale and stale.endpoint == first.endpoint
    assert ("stale-metric", "test") in events
    calls = resolver.calls
    assert (await cache.lookup(PARTICIPANT, DOC, PROCESS)).stale  # within outage_retry_s: no new attempt
    assert resolver.calls == calls and events.count(("stale-metric", "test")) == 2
    clock.now += 31
    assert (await cache.lookup(PARTICIPANT, DOC, PROCESS)).stale  # retried, still down, still stale
    assert resolver.calls == calls + 1
    clock.now += 2000  # beyond stale_max: the outage shows
    with pytest.raises(SmpError) as caught:
        await cache.lookup(PARTICIPANT, DOC, PROCESS)
    assert caught.value.code == "SMP_UNREACHABLE"
    resolver.next = SmpError("SML_NXDOMAIN", "gone")  # definitive: cached negatively, never served stale
    with pytest.raises(SmpError):
        await cache.lookup(PARTICIPANT, DOC, PROCESS)
    calls = resolver.calls
    with pytest.raises(SmpError) as caught:
        await cache.lookup(PARTICIPANT, DOC, PROCESS)
    assert caught.value.code == "SML_NXDOMAIN" and resolver.calls == calls
    clock.now += 31
    resolver.next = _found()
    assert not (await cache.lookup(PARTICIPANT, DOC, PROCESS)).stale


async def test_single_flight() -> None:
    resolver = ScriptedResolver()
    cache = CachedDiscovery("test", resolver)
    results = await asyncio.gather(*(cache.lookup(PARTICIPANT, DOC, PROCESS) for _ in range(20)))
    assert resolver.calls == 1 and len(results) == 20


def test_memory_bound() -> None:
    memory = MemoryCache(max_entries=2)
    from smp_client.cache import CacheEntry
    for key in "abc":
        memory.put(CacheEntry(key, "n", "p", False, None, "X", "x", 0, 1))
    assert memory.get("a") is None and memory.get("c") is not None


async def test_shared_level_between_two_caches(db_url: str, tmp_path: Path) -> None:
    engine = await _engine(db_url, tmp_path)
    try:
        clock = FakeClock()
        one, two = ScriptedResolver(), ScriptedResolver()
        shared_a, shared_b = DbSmpCache(engine), DbSmpCache(engine)
        a = CachedDiscovery("test", one, shared=shared_a, clock=clock)
        b = CachedDiscovery("test", two, shared=shared_b, clock=clock)
        found = await a.lookup(PARTICIPANT, DOC, PROCESS)
        assert await b.lookup(PARTICIPANT, DOC, PROCESS) == found  # from the table, not the network
        assert two.calls == 0
        one.next = SmpError("SMP_NOT_FOUND", "404")
        clock.now += 200
        with pytest.raises(SmpError):
            await a.lookup(PARTICIPANT, DOC, PROCESS)
        b.memory.clear()
        with pytest.raises(SmpError) as caught:  # the negative answer is shared too
            await b.lookup(PARTICIPANT, DOC, PROCESS)
        assert caught.value.code == "SMP_NOT_FOUND" and two.calls == 0
        assert await DbSmpCache(engine).clear("test") == 1
        assert await shared_b.get(a.memory.get(next(iter(a.memory._entries))).key) is None
        await shared_a.close()
        await shared_b.close()
    finally:
        await engine.dispose()


async def test_stale_on_outage_across_two_processes(db_url: str, tmp_path: Path,
                                                    dnsmasq: Callable[[DnsZone], Dnsmasq]) -> None:
    """Process 1 looks up (publisher up); the publisher stops; process 2 still gets the answer, flagged stale."""
    engine = await _engine(db_url, tmp_path)  # migrate once up front
    await engine.dispose()
    published = build_documents([metadata(Flavour.OASIS_1, partner_endpoint("http://127.0.0.1:1/as4"))],
                                smp_keys().signer, max_age_s=1)
    runner, base = await start_app(publisher_app(published))
    server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(PARTICIPANT, ZONE), f"!.*!{base}!")], ttl=1))
    args = [db_url, str(smp_keys().pki.node_dir / "trust"), f"127.0.0.1:{server.port}", ZONE, PARTICIPANT.uri,
            DOC.uri]

    async def worker() -> dict[str, object]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.smp_client.cache_worker", *args, cwd=REPO,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        return json.loads(out.decode().strip().splitlines()[-1])

    try:
        first = await worker()
    finally:
        await runner.cleanup()  # the SMP goes down
    assert first == {"address": "http://127.0.0.1:1/as4", "stale": False, "stale_metric": 0.0}
    await asyncio.sleep(1.2)  # the shared entry's TTL (1 s) is over
    second = await worker()
    assert second == {"address": "http://127.0.0.1:1/as4", "stale": True, "stale_metric": 1.0}


async def test_node_discovery_metrics(db_url: str, tmp_path: Path, dnsmasq: Callable[[DnsZone], Dnsmasq]) -> None:
    engine = await _engine(db_url, tmp_path)
    published = build_documents([metadata(Flavour.OASIS_1)], smp_keys().signer, max_age_s=300)
    runner, base = await start_app(publisher_app(published))
    server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(PARTICIPANT, ZONE), f"!.*!{base}!")], local_zones=[ZONE]))
    from smp_client.lookup import Network
    net = Network("test", SmlNetwork(ZONE, require_https=False), smp_keys().trust, nameserver=server.address)
    registry = CollectorRegistry()
    clock = FakeClock()
    discovery = SmpDiscovery(net, engine=engine, registry=registry, clock=clock)
    audited: list[tuple[str, dict]] = []

    class Audit:
        async def append(self, event, actor, subject=None, details=None):  # type: ignore[no-untyped-def]
            audited.append((event, dict(details or {})))
            return len(audited)

    discovery.audit = Audit()
    try:
        for _ in range(3):
            await discovery.lookup(PARTICIPANT, DOC, PROCESS)
        assert registry.get_sample_value("gateway_smp_lookups_total", {"source": "network", "outcome": "hit"}) == 1
        assert registry.get_sample_value("gateway_smp_lookups_total", {"source": "memory", "outcome": "hit"}) == 2
        with pytest.raises(SmpError):
            await discovery.lookup(identifiers.participant("iso6523-actorid-upis::0088:404"), DOC)
        assert [(e, d["code"]) for e, d in audited] == [("smp.lookup.refused", "SML_NXDOMAIN")]
        await runner.cleanup()  # the SMP goes down; the answer's TTL (300 s) runs out
        clock.now += 301
        stale = await discovery.lookup(PARTICIPANT, DOC, PROCESS)
        assert stale.stale
        assert registry.get_sample_value("gateway_smp_stale_answers_total", {"network": "test"}) == 1
        assert audited[-1][0] == "smp.lookup.stale"
    finally:
        await discovery.close()
        await runner.cleanup()
        await engine.dispose()
    assert replace(_found(), stale=True).stale


async def test_db_reads_follow_row_changes(db_url: str, tmp_path: Path) -> None:
    from smp_client.cache import CacheEntry, cache_key
    engine = await _engine(db_url, tmp_path)
    store = DbSmpCache(engine)
    try:
        key = cache_key("test", PARTICIPANT, DOC, PROCESS)
        assert await store.get(key) is None
        first = _found()
        await store.put(CacheEntry(key, "test", PARTICIPANT.uri, True, first, None, None, 1.0, 2.0))
        assert (await store.get(key)).discovery == first  # type: ignore[union-attr]
        moved = replace(first, endpoint=partner_endpoint("https://moved.example/as4"))
        await store.put(CacheEntry(key, "test", PARTICIPANT.uri, True, moved, None, None, 3.0, 4.0))
        again = await store.get(key)
        assert again is not None and again.discovery is not None
        assert again.discovery.endpoint.address == "https://moved.example/as4" and again.expires_at == 4.0
    finally:
        await store.close()
        await engine.dispose()


async def test_open_discovery_on_a_node(tmp_path: Path, dnsmasq: Callable[[DnsZone], Dnsmasq]) -> None:
    from gateway.runtime import Node
    from gateway.smp_discovery import open_discovery
    from tests.conftest import make_settings

    published = build_documents([metadata(Flavour.OASIS_1)], smp_keys().signer)
    runner, base = await start_app(publisher_app(published))
    server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(PARTICIPANT, ZONE), f"!.*!{base}!")], local_zones=[ZONE]))
    plain = await Node.open(make_settings(tmp_path / "n0", f"sqlite:///{tmp_path / 'n0.db'}"))
    try:
        assert open_discovery(plain) is None  # not configured
    finally:
        await plain.close()
    settings = make_settings(tmp_path / "n1", f"sqlite:///{tmp_path / 'n1.db'}", smp__trust_dir=str(
        smp_keys().pki.node_dir / "trust"), smp__sml_zone=ZONE, smp__dns=f"127.0.0.1:{server.port}",
        smp__require_https="false")
    node = await Node.open(settings)
    discovery = open_discovery(node)
    assert discovery is not None
    try:
        assert (await discovery.lookup(PARTICIPANT, DOC, PROCESS)).endpoint.address == "https://ap.partner.example/as4"
        with pytest.raises(SmpError):
            await discovery.lookup(identifiers.participant("iso6523-actorid-upis::0088:1"), DOC)
        assert b"gateway_smp_lookups_total" in node.metrics.render()
    finally:
        await discovery.close()
        await runner.cleanup()
        await node.close()
    from sqlalchemy import select

    from gateway.db.schema import audit_record
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            events = [r.event for r in (await conn.execute(select(audit_record))).all()]
    finally:
        await engine.dispose()
    assert "smp.lookup.refused" in events


async def test_stale_when_the_dns_server_is_down(dnsmasq: Callable[[DnsZone], Dnsmasq]) -> None:
    published = build_documents([metadata(Flavour.OASIS_1)], smp_keys().signer, max_age_s=60)
    runner, base = await start_app(publisher_app(published))
    server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(PARTICIPANT, ZONE), f"!.*!{base}!")]))
    from smp_client.lookup import Network
    net = Network("test", SmlNetwork(ZONE, require_https=False), smp_keys().trust, nameserver=server.address,
                  require_https_endpoint=True, dns_timeout_s=1.0)
    clock = FakeClock()
    discovery = SmpDiscovery(net, engine=None, clock=clock)
    try:
        assert not (await discovery.lookup(PARTICIPANT, DOC, PROCESS)).stale
        server.stop()  # the SML's DNS server goes away
        clock.now += 61
        stale = await discovery.lookup(PARTICIPANT, DOC, PROCESS)
        assert stale.stale and stale.endpoint.address == "https://ap.partner.example/as4"
        fresh = SmpDiscovery(net, engine=None, clock=clock)  # no last good answer: the outage shows, with its code
        try:
            with pytest.raises(SmpError) as caught:
                await fresh.lookup(PARTICIPANT, DOC, PROCESS)
            assert caught.value.code in {"SML_DNS_FAILURE", "SML_TIMEOUT"}
        finally:
            await fresh.close()
    finally:
        await discovery.close()
        await runner.cleanup()
