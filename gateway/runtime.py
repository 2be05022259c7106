"""A running node's shared parts: settings, database engine, keys, audit log, metrics.

Built once per process by ``Node.open``; the web app, the CLI and tests all use the same assembly, so what
the tests exercise is what production runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.keys import AuditKeys, load_or_create
from gateway.audit.log import AuditLog
from gateway.auth.tokens import load_or_create_signing_key
from gateway.config import Settings
from gateway.db.engine import check_reachable, create_engine
from gateway.db.migrate import upgrade
from gateway.metrics import NodeMetrics


@dataclass
class Node:
    settings: Settings
    engine: AsyncEngine
    audit_keys: AuditKeys
    audit: AuditLog
    metrics: NodeMetrics

    @classmethod
    async def open(cls, settings: Settings, *, migrate: bool = True, start_audit: bool = True) -> Node:
        """Connect (a clear ConfigError when the database is unreachable), migrate, load or create keys."""
        settings.node.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings)
        try:
            await check_reachable(engine, settings.database.connect_timeout_s)
            if migrate:
                await upgrade(engine)
        except BaseException:
            await engine.dispose()
            raise
        keys = load_or_create(settings.keys_dir)
        load_or_create_signing_key(settings.keys_dir)  # the API token key: every key exists from first start
        metrics = NodeMetrics()
        audit = AuditLog(
            engine, keys,
            sth_every_records=settings.audit.sth_every_records,
            sth_every_seconds=settings.audit.sth_every_seconds,
            max_batch=settings.audit.max_batch,
            on_batch=metrics.audit_batch,
        )
        if start_audit:
            await audit.start()
        return cls(settings, engine, keys, audit, metrics)

    async def close(self) -> None:
        """Commit queued audit records, then release the database."""
        await self.audit.close()
        await self.engine.dispose()
