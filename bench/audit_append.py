"""Audit log append throughput: 16 concurrent appenders, every append acknowledged only after commit.

Baseline, measured in the same run: plain inserts of the same rows through the same driver and the same
group-commit batching, without hashing, chain locking or signing. The ratio is the price of tamper
evidence. Runs alternate (audit, plain, audit, plain, ...) and medians are reported, because the machine
is shared and absolute figures drift.

    python bench/audit_append.py [--appends 20000] [--rounds 3] [--postgres postgresql://...]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Column, Index, MetaData, Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.config import load_settings
from gateway.db.group_commit import GroupCommitter
from gateway.db.schema import audit_record
from gateway.runtime import Node

APPENDERS = 16
# The audit table's columns and indexes, without the chain trigger.
PLAIN_TABLE = Table(
    "bench_plain_insert", MetaData(),
    *(Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable, autoincrement=False)
      for c in audit_record.columns),
    Index("ix_bench_plain_subject_hash", "subject_hash"),
    Index("ix_bench_plain_correlation_id", "correlation_id"),
)
DETAILS = {"message_id": "0f8fad5b-d9cb-469f-a165-70867728950e@edelivery.lv", "service": "oots", "size": 1024}


async def _drive(submit, total: int) -> float:  # type: ignore[no-untyped-def]
    per_worker = total // APPENDERS

    async def worker(worker_id: int) -> None:
        for i in range(per_worker):
            await submit(worker_id, i)

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(APPENDERS)))
    return per_worker * APPENDERS / (time.perf_counter() - started)


async def audit_run(settings_env: dict[str, str], total: int) -> float:
    node = await Node.open(load_settings(environ=settings_env, default_file=False))
    try:
        return await _drive(
            lambda w, i: node.audit.append("bench.append", f"appender-{w}", subject=f"LV/{i}", details=DETAILS),
            total,
        )
    finally:
        await node.close()


async def plain_run(settings_env: dict[str, str], total: int) -> float:
    """Same rows, same engine, same GroupCommitter; no hash, no chain trigger, no tree heads."""
    node = await Node.open(load_settings(environ=settings_env, default_file=False), start_audit=False)
    async with node.engine.begin() as conn:
        await conn.run_sync(PLAIN_TABLE.metadata.create_all)
    details = json.dumps(DETAILS, sort_keys=True, separators=(",", ":"))
    seq_counter = iter(range(10**12))

    async def write(conn: AsyncConnection, items: Sequence[tuple[int, int]]) -> list[int]:
        rows: list[dict[str, Any]] = []
        for worker, i in items:
            seq = next(seq_counter)
            rows.append({"seq": seq, "ts": "2026-11-23T12:00:00.000000Z", "event": "bench.append",
                         "actor": f"appender-{worker}", "subject_hash": f"{i:064x}", "correlation_id": None,
                         "details": details, "prev_hash": "00" * 32, "hash": "11" * 32})
        await conn.execute(insert(PLAIN_TABLE), rows)
        return [row["seq"] for row in rows]

    committer: GroupCommitter[tuple[int, int], int] = GroupCommitter(
        node.engine, write, max_batch=node.settings.audit.max_batch, name="plain-insert"
    )
    try:
        return await _drive(lambda w, i: committer.submit((w, i)), total)
    finally:
        await committer.close()
        await node.close()


async def _fresh_pg(admin_url: str) -> tuple[str, str]:
    import asyncpg

    name = f"gw_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name, name


async def _drop_pg(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def measure(backend: str, total: int, rounds: int, pg_admin: str | None) -> dict[str, float]:
    audit_rates: list[float] = []
    plain_rates: list[float] = []
    with tempfile.TemporaryDirectory(prefix="gw-bench-") as tmp:
        for round_no in range(rounds):
            for kind, runner, sink in (("audit", audit_run, audit_rates), ("plain", plain_run, plain_rates)):
                data_dir = Path(tmp) / f"{kind}-{round_no}"
                env = {"GATEWAY_NODE__DATA_DIR": str(data_dir)}
                pg_name = None
                if backend == "postgresql":
                    assert pg_admin
                    env["GATEWAY_DATABASE__URL"], pg_name = await _fresh_pg(pg_admin)
                try:
                    rate = await runner(env, total)
                finally:
                    if pg_name:
                        await _drop_pg(pg_admin, pg_name)  # type: ignore[arg-type]
                sink.append(rate)
                print(f"  {backend:<10} round {round_no + 1}: {kind:<5} {rate:>10,.0f} per s", file=sys.stderr)
    audit = statistics.median(audit_rates)
    plain = statistics.median(plain_rates)
    return {
        f"audit_appends_per_s_{backend}": round(audit, 1),
        f"plain_inserts_per_s_{backend}": round(plain, 1),
        f"cost_ratio_vs_plain_insert_{backend}": round(plain / audit, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appends", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", metavar="ADMIN_URL", default=os.environ.get("GATEWAY_BENCH_PG_URL"),
                        help="also measure on PostgreSQL (creates a scratch DB); default $GATEWAY_BENCH_PG_URL")
    args = parser.parse_args()
    figures: dict[str, float] = {"appenders": APPENDERS}
    figures.update(asyncio.run(measure("sqlite", args.appends, args.rounds, None)))
    if args.postgres:
        figures.update(asyncio.run(measure("postgresql", args.appends, args.rounds, args.postgres)))
    print(f"SQLite: {figures['audit_appends_per_s_sqlite']:,.0f} audit appends/s vs "
          f"{figures['plain_inserts_per_s_sqlite']:,.0f} plain inserts/s -> cost ratio "
          f"{figures['cost_ratio_vs_plain_insert_sqlite']}x (target <= 2x, >= 5,000/s)")
    if args.postgres:
        print(f"PostgreSQL: {figures['audit_appends_per_s_postgresql']:,.0f} audit appends/s vs "
              f"{figures['plain_inserts_per_s_postgresql']:,.0f} plain inserts/s -> cost ratio "
              f"{figures['cost_ratio_vs_plain_insert_postgresql']}x")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
