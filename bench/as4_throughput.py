"""AS4 end-to-end throughput between two node processes, driven by a separate load-generator process.

Per row: two ``gateway-node serve`` processes (gateway.devnet) on loopback with durable stores (SQLite WAL
with synchronous=FULL, or PostgreSQL), receipts on, path validation of the partner's certificate on every
message and receipt (pinned + chained to its CA with CRLs), fresh ephemeral key material per message (a new
CEK each time; X25519 ephemeral keys on 2.0). A load generator process submits through the backend API for
``--seconds`` with ``--concurrency`` requests in flight; then the run waits until every accepted message is in
the receiver's inbox. Figure: accepted messages / (last arrival − first submit). At the end the run checks that
nothing was lost (every accepted id arrived) or duplicated (one ``as4.message.received`` record per id, every
outbox row delivered).

Baseline in the same run: the crypto-only ceiling for the same per-message operations on one core
(sign + encrypt at the sender; decrypt + verify + sign the receipt at the receiver; verify the receipt),
measured with ``cryptography`` directly; ratio = end-to-end msg/s ÷ ceiling.

    python bench/as4_throughput.py [--seconds 60] [--db sqlite,postgresql] [--rows 2.0:1kb,1.15:1kb,...]

PostgreSQL rows use $GATEWAY_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres) to create
fresh databases. The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from sqlalchemy import func, select

from as4.profiles import EDELIVERY_1_15, EDELIVERY_2_0
from bench._as4_crypto_ceiling import ceiling_round_trips_per_s
from gateway.db.schema import as4_inbound, as4_outbound, audit_record
from gateway.devnet import BackendClient, DevNode, NodeProcess, free_port, prepare_pair

PROFILES = {"2.0": EDELIVERY_2_0, "1.15": EDELIVERY_1_15}
SIZES = {"1kb": 1024, "100kb": 100 * 1024}
PG_ADMIN = os.environ.get("GATEWAY_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


# --- the load generator (runs as its own process) ----------------------------------------------------------

async def _loadgen(node_json: str, pmode: str, size: int, seconds: float, concurrency: int, out: str) -> None:
    spec = json.loads(node_json)
    node = DevNode(spec["name"], Path(spec["base_dir"]), spec["port"])
    body = (b"<Evidence>" + b"x" * size)[:size - len(b"</Evidence>")] + b"</Evidence>"
    accepted: list[str] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        api = BackendClient(node, http)
        await api.token()
        started = time.time()
        deadline = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal failures
            while time.monotonic() < deadline:
                try:
                    accepted.append(await api.submit(pmode, [("application/xml", body)]))
                except Exception:
                    failures += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    result = json.dumps({"accepted": accepted, "failures": failures, "started": started})
    await asyncio.to_thread(Path(out).write_text, result)


# --- one row ---------------------------------------------------------------------------------------------

def _pg_database() -> str:
    import asyncpg

    name = f"gw_bench_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


async def _inbox_count(node: DevNode) -> int:
    opened = await node.open()
    try:
        async with opened.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(as4_inbound))).scalar() or 0)
    finally:
        await opened.close()


async def _pending(node: DevNode) -> int:
    opened = await node.open()
    try:
        async with opened.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(as4_outbound).where(
                as4_outbound.c.status.in_(("pending", "sending"))))).scalar() or 0)
    finally:
        await opened.close()


async def _verify(sender: DevNode, receiver: DevNode, accepted: list[str]) -> dict[str, int]:
    opened = await receiver.open()
    try:
        async with opened.engine.connect() as conn:
            ids = set((await conn.execute(select(as4_inbound.c.message_id))).scalars())
            details = (await conn.execute(select(audit_record.c.details)
                                          .where(audit_record.c.event == "as4.message.received"))).scalars()
            received = Counter(json.loads(d)["message_id"] for d in details)
    finally:
        await opened.close()
    opened = await sender.open()
    try:
        async with opened.engine.connect() as conn:
            states = Counter((await conn.execute(select(as4_outbound.c.status))).scalars())
    finally:
        await opened.close()
    return {"lost": len(set(accepted) - ids), "duplicated": sum(1 for n in received.values() if n > 1),
            "not_delivered_by_sender": sum(n for s, n in states.items() if s != "delivered")}


def run_row(profile_key: str, size_key: str, db: str, seconds: float, concurrency: int) -> dict[str, float]:
    profile, size = PROFILES[profile_key], SIZES[size_key]
    with tempfile.TemporaryDirectory(prefix="as4-bench-") as tmp:
        urls = ("", "") if db == "sqlite" else (_pg_database(), _pg_database())
        overrides = {"as4__sender_batch": "64", "logging__level": "ERROR"}
        lv = DevNode("LV-GW", Path(tmp, "lv"), free_port(), urls[0], dict(overrides))
        ee = DevNode("EE-GW", Path(tmp, "ee"), free_port(), urls[1], dict(overrides))
        asyncio.run(prepare_pair(lv, ee, profiles=[profile], validate_paths=True))
        procs = [NodeProcess(lv), NodeProcess(ee)]
        for proc in procs:
            proc.start()
        try:
            out = Path(tmp, "loadgen.json")
            spec = json.dumps({"name": lv.name, "base_dir": str(lv.base_dir), "port": lv.port})
            subprocess.run([sys.executable, __file__, "--loadgen", spec, "--pmode", f"to-EE-GW-{profile.name}",
                            "--size", str(size), "--seconds", str(seconds), "--concurrency", str(concurrency),
                            "--out", str(out)], check=True)
            result = json.loads(out.read_text())
            accepted = result["accepted"]
            deadline = time.monotonic() + max(120.0, seconds * 4)
            while (count := asyncio.run(_inbox_count(ee))) < len(accepted) and time.monotonic() < deadline:
                time.sleep(0.2)
            finished = time.time()
            settle = time.monotonic() + 30  # the sender records the last receipts a moment after they arrive
            while asyncio.run(_pending(lv)) and time.monotonic() < settle:
                time.sleep(0.2)
            checks = asyncio.run(_verify(lv, ee, accepted))
        finally:
            for proc in procs:
                proc.stop()
    elapsed = finished - result["started"]
    return {"msgs_per_s": len(accepted) / elapsed, "accepted": len(accepted), "arrived": count,
            "submit_failures": result["failures"], **checks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--rows", default="2.0:1kb,1.15:1kb,2.0:100kb,1.15:100kb")
    parser.add_argument("--loadgen", help=argparse.SUPPRESS)
    parser.add_argument("--pmode", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen:
        asyncio.run(_loadgen(args.loadgen, args.pmode, args.size, args.seconds, args.concurrency, args.out))
        return
    figures: dict[str, float] = {}
    rows = [row.split(":") for row in args.rows.split(",")]
    print(f"{'row':28} {'msg/s':>9} {'ceiling':>9} {'ratio':>7}  accepted  lost dup undelivered")
    for profile_key, size_key in rows:
        ceiling = ceiling_round_trips_per_s(PROFILES[profile_key], SIZES[size_key])
        figures[f"crypto_ceiling_{profile_key.replace('.', '_')}_{size_key}_round_trips_per_s"] = round(ceiling, 1)
        for db in args.db.split(","):
            got = run_row(profile_key, size_key, db, args.seconds, args.concurrency)
            key = f"as4_{profile_key.replace('.', '_')}_{size_key}_{db}"
            ratio = got["msgs_per_s"] / ceiling
            figures[f"{key}_msgs_per_s"] = round(got["msgs_per_s"], 1)
            figures[f"{key}_ratio_vs_crypto_ceiling"] = round(ratio, 3)
            figures[f"{key}_lost"] = got["lost"]
            figures[f"{key}_duplicated"] = got["duplicated"]
            print(f"{key:28} {got['msgs_per_s']:9.1f} {ceiling:9.1f} {ratio:7.3f}  {got['accepted']:8d}  "
                  f"{got['lost']:4d} {got['duplicated']:3d} {got['not_delivered_by_sender']:11d}", flush=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
