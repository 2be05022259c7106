"""A separate process that appends audit records and prints each sequence number once it is acknowledged.

Used by the multi-process and SIGKILL tests: what this prints is exactly what a caller was told is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from gateway.config import load_settings
from gateway.runtime import Node


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--count", type=int, default=0, help="0 = until killed")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--name", default="appender")
    args = parser.parse_args()
    settings = load_settings(
        environ={"GATEWAY_NODE__DATA_DIR": args.data_dir, "GATEWAY_DATABASE__URL": args.db_url,
                 "GATEWAY_AUDIT__STH_EVERY_RECORDS": "50"},
        default_file=False,
    )
    node = await Node.open(settings)
    remaining = args.count if args.count else None
    print("ready", flush=True)

    async def worker(worker_id: int) -> None:
        nonlocal remaining
        n = 0
        while remaining is None or remaining > 0:
            if remaining is not None:
                remaining -= 1
            seq = await node.audit.append("test.appended", args.name, details={"worker": worker_id, "n": n})
            sys.stdout.write(f"{seq}\n")
            sys.stdout.flush()
            n += 1

    try:
        await asyncio.gather(*(worker(i) for i in range(args.workers)))
    finally:
        await node.close()


if __name__ == "__main__":
    asyncio.run(main())
