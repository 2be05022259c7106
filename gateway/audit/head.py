"""The chain head: where the next record goes, what it links to, and the Merkle frontier to extend.

The database keeps ``size`` and ``last_hash`` of the ``audit_head`` row current itself: a trigger on
``audit_record`` (migration 0001) refuses any insert that does not extend the head exactly and advances the
head in the same statement. So an appender that cached the head from its previous batch needs no extra
round trip to check it: a stale cache simply makes the insert fail, and the appender re-reads under the lock.

The frontier is written back only with signed tree heads (it carries its own size), so reading the head
means: the row, plus the hashes of the records the stored frontier does not cover yet.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.audit.merkle import Frontier
from gateway.db.schema import audit_head, audit_record

# The message both databases' triggers raise when an insert does not extend the chain head.
CHAIN_GUARD_MESSAGE = "audit chain head moved"


class ChainCorrupted(RuntimeError):
    """The stored head and records disagree; ``gateway-node audit verify`` says where."""


@dataclass
class ChainHead:
    size: int
    last_hash: str
    frontier: Frontier
    last_sth_size: int
    last_sth_at: str

    def copy(self) -> ChainHead:
        return ChainHead(self.size, self.last_hash, self.frontier.copy(), self.last_sth_size, self.last_sth_at)

    def checkpoint_values(self) -> dict[str, Any]:
        """What appenders write back (size and last_hash are the trigger's)."""
        return {"frontier": json.dumps(self.frontier.to_json()), "last_sth_size": self.last_sth_size,
                "last_sth_at": self.last_sth_at}


async def lock_head(conn: AsyncConnection) -> Mapping[str, Any]:
    """Read the head row inside the caller's transaction, holding the append lock."""
    query = select(audit_head).where(audit_head.c.id == 1)
    if conn.dialect.name != "sqlite":  # SQLite: BEGIN IMMEDIATE already holds the database write lock
        query = query.with_for_update()
    return (await conn.execute(query)).mappings().one()


async def read_chain_head(conn: AsyncConnection) -> ChainHead:
    """The full head under the append lock: the row plus the records its frontier does not cover yet."""
    row = await lock_head(conn)
    frontier = Frontier.from_json(json.loads(row["frontier"]))
    last_hash = row["last_hash"]
    if frontier.size < row["size"]:
        hashes = (await conn.execute(
            select(audit_record.c.seq, audit_record.c.hash)
            .where(audit_record.c.seq >= frontier.size).order_by(audit_record.c.seq)
        )).all()
        for seq, digest in hashes:
            if seq != frontier.size:
                raise ChainCorrupted(f"audit record {frontier.size} is missing")
            frontier.append(bytes.fromhex(digest))
            last_hash = digest
    if frontier.size != row["size"] or (frontier.size and last_hash != row["last_hash"]):
        raise ChainCorrupted(f"audit head says {row['size']} records, the records say {frontier.size}")
    return ChainHead(row["size"], row["last_hash"], frontier, row["last_sth_size"], row["last_sth_at"])


def is_chain_guard_error(exc: BaseException) -> bool:
    return CHAIN_GUARD_MESSAGE in str(exc)
