"""The person register port on the node database (a stand-in for the Natural Persons Register), and the
audit sink that writes identity-mapping decisions to the node's hash-chained audit log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, MetaData, String, Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from eidas_node.mapping import RegisterPerson
from eidas_node.names import name_keys
from gateway.audit.log import AuditLog

metadata = MetaData()

person_register = Table(
    "person_register",
    metadata,
    Column("national_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("family_name", String(256), nullable=False),
    Column("given_name", String(256), nullable=False),
    Column("family_key", String(256), nullable=False),
    Column("given_key", String(256), nullable=False),
    Column("date_of_birth", String(10), nullable=True),
    Column("origin", String(16), nullable=False),
    Column("created_at", String(32), nullable=False),
    Index("ix_person_register_match", "date_of_birth", "family_key"),
)

person_eidas_link = Table(
    "person_eidas_link",
    metadata,
    Column("eidas_identifier", String(512), primary_key=True),
    Column("national_id", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
)


def _first_key(name: str) -> str:
    keys = sorted(name_keys(name))
    return keys[0] if keys else ""


class SqlPersonRegister:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def linked(self, eidas_identifier: str) -> str | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(person_eidas_link.c.national_id).where(
                person_eidas_link.c.eidas_identifier == eidas_identifier))).scalar()

    async def born_on(self, day: date) -> list[RegisterPerson]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(person_register).where(
                person_register.c.date_of_birth == day.isoformat()))).mappings().all()
        return [RegisterPerson(r["national_id"], r["kind"], r["family_name"], r["given_name"],
                               date.fromisoformat(r["date_of_birth"]) if r["date_of_birth"] else None, r["origin"])
                for r in rows]

    async def link(self, eidas_identifier: str, national_id: str, now: datetime) -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(person_eidas_link).values(
                    eidas_identifier=eidas_identifier, national_id=national_id, created_at=now.isoformat()))
        except IntegrityError:  # a concurrent login linked it first: keep that link, it is checked next time
            pass

    async def add(self, person: RegisterPerson, now: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert(person_register).values(
                national_id=person.national_id, kind=person.kind, family_name=person.family_name,
                given_name=person.given_name, family_key=_first_key(person.family_name),
                given_key=_first_key(person.given_name),
                date_of_birth=person.date_of_birth.isoformat() if person.date_of_birth else None,
                origin=person.origin, created_at=now.isoformat()))


class AuditLogSink:
    """Identity-mapping decisions into the node's audit log (actor: the connector)."""

    def __init__(self, log: AuditLog, actor: str = "eidas-connector") -> None:
        self.log = log
        self.actor = actor

    async def __call__(self, event: str, subject: str | None, details: dict[str, Any]) -> None:
        correlation = details.pop("correlation_id", None)
        await self.log.append(event, self.actor, subject=subject, details=details, correlation_id=correlation)
