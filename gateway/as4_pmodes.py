"""The node's PMode store: PMode files loaded into the database, versioned, reloadable without a restart.

A load validates the whole file first (as4.pmode); a bad file changes nothing, so the old versions stay
active. For each PMode of a good file: unchanged (same canonical content as its active version) → nothing;
new or changed → a new version, active, the older ones kept inactive. PModes that an earlier load of the
same file brought in and that the file no longer holds are deactivated. Running processes call
:meth:`PModeStore.active`, which re-reads only when the table changed (another process may have loaded).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from as4.pmode import PMode, load_pmode_document, load_pmode_file
from gateway.db.schema import as4_pmode


@dataclass
class LoadResult:
    source_file: str
    added: list[str] = field(default_factory=list)  # new ids (version 1, or back after removal)
    updated: dict[str, int] = field(default_factory=dict)  # id -> new version
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # deactivated: no longer in the file

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def to_json(self) -> dict[str, Any]:
        return {"source_file": self.source_file, "added": self.added, "updated": self.updated,
                "unchanged": self.unchanged, "removed": self.removed}


@dataclass(frozen=True)
class StoredPMode:
    id: str
    version: int
    source_file: str
    loaded_at: str
    active: bool
    content: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "source_file": self.source_file,
                "loaded_at": self.loaded_at, "active": self.active, "content": self.content}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _stored(row: Any) -> StoredPMode:
    return StoredPMode(row.id, row.version, row.source_file, row.loaded_at, bool(row.active), json.loads(row.content))


class PModeStore:
    def __init__(self, engine: AsyncEngine, *, recheck_s: float = 0.0) -> None:
        """``recheck_s``: how long :meth:`active` trusts its cache before asking the database whether anything
        changed (running nodes use 1 s: a reload reaches them within a second, and a busy node saves a query
        per message)."""
        self.engine = engine
        self.recheck_s = recheck_s
        self._checked_at = float("-inf")
        self._cache_key: tuple[int, int] | None = None
        self._cache: list[PMode] = []
        self._cache_meta: dict[str, StoredPMode] = {}
        self._refreshing = asyncio.Lock()  # concurrent callers share one check instead of each querying

    async def load_file(self, path: str | Path, *, now: str | None = None) -> LoadResult:
        """Validate ``path`` as a whole (PModeError, nothing stored) and store what changed."""
        # Reading certificate and trust store files blocks: off the event loop, as a running node reloads.
        pmodes, source = await asyncio.to_thread(lambda: (load_pmode_file(path), str(Path(path).resolve())))
        return await self._store(pmodes, source, now=now, replace_source=True)

    async def store_pmode(self, pmode: PMode, source: str, *, now: str | None = None) -> LoadResult:
        """Store one PMode built by the node (a partner found by SML/SMP discovery): a new version only when its
        content changed; other PModes of ``source`` are left alone."""
        return await self._store([pmode], source, now=now, replace_source=False)

    async def _store(self, pmodes: list[PMode], source: str, *, now: str | None, replace_source: bool) -> LoadResult:
        loaded_at = now or _now()
        result = LoadResult(source)
        self._cache_key = None  # this store sees its own load at once
        async with self.engine.begin() as conn:
            rows = (await conn.execute(select(as4_pmode))).all()
            latest: dict[str, Any] = {}
            for row in rows:
                if row.id not in latest or row.version > latest[row.id].version:
                    latest[row.id] = row
            for pmode in pmodes:
                content = pmode.canonical_json()
                last = latest.get(pmode.id)
                if last is not None and last.active and last.content == content:
                    if last.source_file != source:  # the same PMode now comes from this file
                        await conn.execute(update(as4_pmode).where(as4_pmode.c.id == pmode.id,
                                                                   as4_pmode.c.version == last.version)
                                           .values(source_file=source))
                    result.unchanged.append(pmode.id)
                    continue
                version = 1 if last is None else last.version + 1
                await conn.execute(update(as4_pmode).where(as4_pmode.c.id == pmode.id).values(active=False))
                await conn.execute(as4_pmode.insert().values(id=pmode.id, version=version, source_file=source,
                                                             content=content, loaded_at=loaded_at, active=True))
                if last is None or not last.active:
                    result.added.append(pmode.id)
                else:
                    result.updated[pmode.id] = version
            if replace_source:
                in_file = {p.id for p in pmodes}
                gone = [row.id for row in latest.values()
                        if row.active and row.source_file == source and row.id not in in_file]
                if gone:
                    await conn.execute(update(as4_pmode).where(as4_pmode.c.id.in_(gone)).values(active=False))
                    result.removed.extend(sorted(gone))
        return result

    async def _key(self) -> tuple[int, int]:
        # Rows are never deleted and a change either adds a row or deactivates one, so this pair changes on
        # every change (rows only grow; with equal rows, active rows only shrink).
        async with self.engine.connect() as conn:
            rows, active = (await conn.execute(
                select(func.count(), func.count().filter(as4_pmode.c.active.is_(True))).select_from(as4_pmode)
            )).one()
        return int(rows), int(active or 0)

    async def active(self) -> list[PMode]:
        """The active PModes, re-read from the database only when it changed since the last call."""
        if self._fresh():
            return list(self._cache)
        async with self._refreshing:
            if self._fresh():  # another caller checked while this one waited
                return list(self._cache)
            now = time.monotonic()
            key = await self._key()
            if key != self._cache_key:
                async with self.engine.connect() as conn:
                    rows = (await conn.execute(select(as4_pmode).where(as4_pmode.c.active.is_(True))
                                               .order_by(as4_pmode.c.id))).all()
                stored = [_stored(row) for row in rows]
                self._cache = [load_pmode_document(s.content, f"db:{s.id}@v{s.version}") for s in stored]
                self._cache_meta = {s.id: s for s in stored}
                self._cache_key = key
            self._checked_at = now
        return list(self._cache)

    def _fresh(self) -> bool:
        return self._cache_key is not None and time.monotonic() - self._checked_at < self.recheck_s

    def cached(self) -> list[PMode]:
        """The PModes of the last :meth:`active` call (for synchronous callers such as as4.pmode.agreement_for)."""
        return list(self._cache)

    def meta(self, pmode_id: str) -> StoredPMode | None:
        """Version, source and load time of an active PMode as of the last :meth:`active` call."""
        return self._cache_meta.get(pmode_id)

    async def history(self, pmode_id: str) -> list[StoredPMode]:
        """Every stored version of one PMode, oldest first."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(as4_pmode).where(as4_pmode.c.id == pmode_id)
                                       .order_by(as4_pmode.c.version))).all()
        return [_stored(row) for row in rows]
