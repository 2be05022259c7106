"""SML/SMP discovery: cache lookups per second, and cold-lookup overhead over bare DNS + HTTP.

Everything is real and local: dnsmasq serves the NAPTR record on a loopback port, the local SMP publisher
(aiohttp, in this process) serves a signed SMP 2.0 document, the node's code resolves, fetches, verifies the
signature against the SMP trust store and selects the endpoint.

* in-process cache: ``SmpDiscovery.lookup`` answered from process memory (target ≥ 50,000/s);
* shared cache: the same with the memory level disabled, so every lookup reads the ``smp_cache`` table
  (SQLite file; PostgreSQL too with ``--postgres ADMIN_URL`` or $GATEWAY_BENCH_PG_URL) (target ≥ 2,000/s);
* cold lookup: a full discovery (DNS + HTTP + parse + signature verification + selection), compared with a
  bare dnspython NAPTR query plus a bare aiohttp GET of the same document, measured in the same run; the
  ratio is the price of verification and parsing.

    python bench/smp_lookup.py [--seconds 1.0] [--cold 40]

The last line printed is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import dns.asyncresolver

import pki.devpki.profiles as devpki_profiles
from gateway.config import load_settings
from gateway.db.engine import create_engine
from gateway.db.migrate import upgrade
from gateway.smp_discovery import SmpDiscovery
from gateway.smp_publisher import build_documents, publisher_app
from pki.devpki import init_pki
from pki.devpki.operations import issue_partner
from pki.keys.file_store import FileKeyStore
from pki.keys.port import KeyPurpose
from pki.trust.store import TrustStore
from smp_client import identifiers
from smp_client.cache import MemoryCache
from smp_client.hashing import dns_name
from smp_client.lookup import Network, discover, metadata_url
from smp_client.model import BDXR_AS4, CertificateUse, Endpoint, EndpointCertificate, Flavour, ProcessGroup
from smp_client.model import ServiceMetadata as Metadata
from smp_client.sml import SmlNetwork
from tests.smp_client.dnsmasq import Dnsmasq, DnsZone, Naptr
from tests.smp_client.servers import start_app

ZONE = "sml.bench.example"
PARTICIPANT = identifiers.participant("iso6523-actorid-upis::0088:4035811991021")
DOC = identifiers.document_type("busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice")
PROCESS = identifiers.process("cenbii-procid-ubl::urn:fdc:peppol.eu:2017:poacc:billing:01:1.0")
TARGET_INPROC, TARGET_SHARED = 50_000, 2_000


def make_material(base: Path) -> tuple[TrustStore, FileKeyStore, Metadata]:
    saved = devpki_profiles.RSA_BITS
    devpki_profiles.RSA_BITS = 2048  # a typical SMP key; key generation is setup, not measured
    try:
        init_pki(base / "node", node_id="LV-GW-BENCH")
        issue_partner(base / "node", base / "smp", partner="SMP-BENCH", purpose=KeyPurpose.SMP_SIGNING)
    finally:
        devpki_profiles.RSA_BITS = saved
    node = FileKeyStore(base / "node")
    signing = node.signer(KeyPurpose.AS4_SIGNING, family="ed25519").certificate
    encryption = next(node.certificate(e) for e in node.entries(KeyPurpose.AS4_ENCRYPTION) if e.family == "x25519")
    assert signing is not None
    endpoint = Endpoint(BDXR_AS4, "https://ap.bench.example/as4", (
        EndpointCertificate(signing, CertificateUse.SIGNING, "signing"),
        EndpointCertificate(encryption, CertificateUse.KEY_EXCHANGE, "key-exchange")))
    metadata = Metadata(Flavour.OASIS_2, PARTICIPANT, DOC, (ProcessGroup((PROCESS,), (endpoint,)),))
    return TrustStore.from_directory(base / "node" / "trust"), FileKeyStore(base / "smp"), metadata


async def rate(fn, seconds: float) -> float:  # type: ignore[no-untyped-def]
    """Calls per second of ``await fn()`` over about ``seconds`` (batches of 200 between clock reads)."""
    for _ in range(200):
        await fn()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            await fn()
        count += 200
    return count / elapsed


async def median_ms(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def shared_rate(url: str, network: Network, seconds: float) -> float:
    settings = load_settings(environ={"GATEWAY_DATABASE__URL": url}, default_file=False)
    engine = create_engine(settings)
    await upgrade(engine)
    discovery = SmpDiscovery(network, engine=engine, memory_entries=0)
    try:
        await discovery.lookup(PARTICIPANT, DOC, PROCESS)  # fills the table
        return await rate(lambda: discovery.lookup(PARTICIPANT, DOC, PROCESS), seconds)
    finally:
        await discovery.close()
        await engine.dispose()


async def _pg_url(admin_url: str) -> tuple[str, str]:
    import asyncpg
    name = f"gw_bench_smp_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_url.rpartition("/")[0] + f"/{name}", name


async def _drop_pg(admin_url: str, name: str) -> None:
    import asyncpg
    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def main(args: argparse.Namespace, base: Path) -> dict[str, float]:
    trust, smp_store, metadata = make_material(base)
    published = build_documents([metadata], smp_store.signer(KeyPurpose.SMP_SIGNING), max_age_s=3600)
    runner, smp_url = await start_app(publisher_app(published))
    (base / "dns").mkdir()
    dnsmasq = Dnsmasq(base / "dns", DnsZone(naptr=[Naptr(dns_name(PARTICIPANT, ZONE), f"!.*!{smp_url}!")])).start()
    network = Network("bench", SmlNetwork(ZONE, require_https=False), trust, api="oasis-2",
                      nameserver=dnsmasq.address)
    figures: dict[str, float] = {}
    try:
        async with aiohttp.ClientSession() as session:
            name = dns_name(PARTICIPANT, ZONE) + "."
            url = metadata_url(smp_url, "oasis-2", PARTICIPANT, DOC)
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers, resolver.port, resolver.cache = ["127.0.0.1"], dnsmasq.port, None

            async def bare() -> None:
                await resolver.resolve(name, "NAPTR")
                async with session.get(url) as response:
                    await response.read()

            async def cold() -> None:
                await discover(PARTICIPANT, DOC, PROCESS, network, session=session, now=datetime_now())

            for _ in range(5):  # warm both paths (connection pool, parser objects)
                await bare()
                await cold()
            baseline = await median_ms(bare, args.cold)
            cold_ms = await median_ms(cold, args.cold)
        print(f"cold lookup: {cold_ms:.2f} ms median; bare NAPTR query + GET: {baseline:.2f} ms "
              f"(overhead ×{cold_ms / baseline:.2f})")
        figures.update({"smp_cold_lookup_ms": round(cold_ms, 3), "bare_dns_plus_get_ms": round(baseline, 3),
                        "smp_cold_over_bare_ratio": round(cold_ms / baseline, 2)})

        inproc = SmpDiscovery(network, engine=None, memory_entries=MemoryCache().max_entries)
        try:
            await inproc.lookup(PARTICIPANT, DOC, PROCESS)
            per_s = await rate(lambda: inproc.lookup(PARTICIPANT, DOC, PROCESS), args.seconds)
        finally:
            await inproc.close()
        print(f"in-process cache: {per_s:,.0f} lookups/s (target ≥ {TARGET_INPROC:,}: ×{per_s / TARGET_INPROC:.1f})")
        figures["smp_lookups_inproc_per_s"] = round(per_s, 1)

        sqlite_url = f"sqlite:///{base / 'bench.db'}"
        per_s = await shared_rate(sqlite_url, network, args.seconds)
        print(f"shared cache (SQLite): {per_s:,.0f} lookups/s (target ≥ {TARGET_SHARED:,}: "
              f"×{per_s / TARGET_SHARED:.1f})")
        figures["smp_lookups_shared_sqlite_per_s"] = round(per_s, 1)
        if args.postgres:
            pg_url, pg_name = await _pg_url(args.postgres)
            try:
                per_s = await shared_rate(pg_url, network, args.seconds)
            finally:
                await _drop_pg(args.postgres, pg_name)
            print(f"shared cache (PostgreSQL): {per_s:,.0f} lookups/s (target ≥ {TARGET_SHARED:,}: "
                  f"×{per_s / TARGET_SHARED:.1f})")
            figures["smp_lookups_shared_postgres_per_s"] = round(per_s, 1)
    finally:
        dnsmasq.stop()
        await runner.cleanup()
    return figures


def datetime_now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime
    return datetime.now(UTC)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--cold", type=int, default=40, help="cold lookups (and bare baselines) to time")
    parser.add_argument("--postgres", metavar="ADMIN_URL", default=os.environ.get("GATEWAY_BENCH_PG_URL"),
                        help="also measure the shared cache on PostgreSQL (scratch DB); default $GATEWAY_BENCH_PG_URL")
    arguments = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="smp-bench-"))
    try:
        result = asyncio.run(main(arguments, directory))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps(result))
