"""A running node's shared parts: settings, database engine, keys, audit log, metrics.

Built once per process by ``Node.open``; the web app, the CLI and tests all use the same assembly, so what
the tests exercise is what production runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.keys import AuditKeys, load_or_create
from gateway.audit.log import AuditLog
from gateway.auth.tokens import load_or_create_signing_key
from gateway.config import ConfigError, Settings
from gateway.db.engine import check_reachable, create_engine
from gateway.db.migrate import upgrade
from gateway.metrics import NodeMetrics
from pki.keys.file_store import FileKeyStore
from pki.keys.manifest import MANIFEST_FILE
from pki.keys.port import KeyPurpose, KeyStore

log = logging.getLogger(__name__)


def open_key_store(settings: Settings, *, create: bool = False) -> KeyStore | None:
    """The node's key store, if it has a PKI; with ``create`` (and ``pki.auto_init``) a dev PKI is made first."""
    directory = settings.pki_dir
    if not (directory / MANIFEST_FILE).exists():
        if not create:
            return None
        if not settings.pki.auto_init:
            raise ConfigError("pki.dir", f"no PKI in {directory}: run `gateway-node pki init` or provision keys")
        from pki.devpki.operations import init_pki
        from pki.keys.files import load_private_key

        legacy_audit_key = settings.keys_dir / "audit-signing.pem"
        adopt = {KeyPurpose.AUDIT_SIGNING: load_private_key(legacy_audit_key)} if legacy_audit_key.exists() else {}
        init_pki(directory, node_id=settings.node.id, country=settings.node.country,
                 hostnames=(settings.http.host, "localhost"), adopt=adopt)
        log.warning("created a development PKI in %s (pki.auto_init); provision real keys for production", directory)
    return FileKeyStore(directory)


@dataclass
class Node:
    settings: Settings
    engine: AsyncEngine
    key_store: KeyStore | None
    audit_keys: AuditKeys
    audit: AuditLog
    metrics: NodeMetrics
    # Shutdown steps of components built on this node (their group committers), run before the audit log closes.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @classmethod
    async def open(
        cls, settings: Settings, *, migrate: bool = True, start_audit: bool = True, create_pki: bool = False
    ) -> Node:
        """Connect (a clear ConfigError when the database is unreachable), migrate, load or create keys."""
        settings.node.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings)
        try:
            await check_reachable(engine, settings.database.connect_timeout_s)
            if migrate:
                await upgrade(engine)
            key_store = open_key_store(settings, create=create_pki)
        except BaseException:
            await engine.dispose()
            raise
        keys = load_or_create(settings.keys_dir, key_store)
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
        return cls(settings, engine, key_store, keys, audit, metrics)

    async def close(self) -> None:
        """Commit what components and the audit log have queued, then release the database."""
        for close in reversed(self.closers):
            await close()
        self.closers.clear()
        await self.audit.close()
        await self.engine.dispose()
