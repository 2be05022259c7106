"""Registered API clients (national systems) over the ``api_client`` table.

A client has roles from a fixed set and at least one credential: a TLS client certificate (stored as the
SHA-256 fingerprint of its DER encoding) and/or a client secret for the OAuth2 token endpoint (stored as a
salted hash; the secret itself is returned once, at registration). Revoked clients stay in the table so
audit records keep naming someone, and they are refused everywhere.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.record import format_ts
from gateway.auth.secret_hash import hash_secret, new_secret, verify_secret
from gateway.db.engine import writer_connection
from gateway.db.schema import api_client

if TYPE_CHECKING:
    from gateway.runtime import Node

ROLES: frozenset[str] = frozenset({"portal", "register", "operator"})
_NAME = re.compile(r"^\S(?:.{0,198}\S)?$")
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


class ClientError(Exception):
    """A registration or lookup was refused; ``code`` is stable (``unknown-role``, ``duplicate-cert``...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ApiClient:
    client_id: str
    name: str
    roles: frozenset[str]
    cert_sha256: str | None
    has_secret: bool
    created_at: str
    revoked_at: str | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id, "name": self.name, "roles": sorted(self.roles),
            "cert_sha256": self.cert_sha256, "has_secret": self.has_secret,
            "created_at": self.created_at, "revoked_at": self.revoked_at,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ApiClient:
        return cls(
            client_id=row["client_id"], name=row["name"], roles=parse_roles(row["roles"]),
            cert_sha256=row["cert_sha256"], has_secret=row["secret_hash"] is not None,
            created_at=row["created_at"], revoked_at=row["revoked_at"],
        )


@dataclass(frozen=True, slots=True)
class NewClient:
    """A fresh registration: the secret (if one was asked for) exists only here, never in the database."""

    client: ApiClient
    secret: str | None = field(default=None, repr=False)


def parse_roles(text: str) -> frozenset[str]:
    # Unknown names in the column (a role dropped in a later version) grant nothing.
    return frozenset(text.split()) & ROLES


def check_roles(roles: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(role.strip().lower() for role in roles)
    unknown = sorted(wanted - ROLES)
    if unknown:
        raise ClientError("unknown-role", f"unknown role(s) {', '.join(unknown)}; expected {', '.join(sorted(ROLES))}")
    if not wanted:
        raise ClientError("no-role", "a client needs at least one role")
    return wanted


def certificate_fingerprint(cert: bytes) -> str:
    """SHA-256 of the certificate's DER encoding, lowercase hex; accepts PEM or DER."""
    try:
        if cert.lstrip().startswith(b"-----BEGIN"):
            parsed = x509.load_pem_x509_certificate(cert)
        else:
            parsed = x509.load_der_x509_certificate(cert)
    except ValueError as exc:
        raise ClientError("bad-cert", f"not an X.509 certificate in PEM or DER: {exc}") from None
    return hashlib.sha256(parsed.public_bytes(Encoding.DER)).hexdigest()


def fingerprint_der(der: bytes) -> str:
    """Fingerprint of DER bytes exactly as the TLS stack handed them over (no re-encoding)."""
    return hashlib.sha256(der).hexdigest()


def new_client_id() -> str:
    return "cl_" + secrets.token_urlsafe(12)


class ClientStore:
    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._engine = engine
        self._clock = clock

    async def add(
        self, name: str, roles: Iterable[str], *, cert: bytes | None = None, with_secret: bool = False
    ) -> NewClient:
        """Register a client. Needs a certificate, a secret, or both: a client nobody can log in as is a mistake."""
        name = name.strip()
        if not _NAME.match(name):
            raise ClientError("bad-name", "a name needs 1-200 characters")
        checked = check_roles(roles)
        fingerprint = certificate_fingerprint(cert) if cert is not None else None
        if fingerprint is None and not with_secret:
            raise ClientError("no-credential", "give a certificate, ask for a secret, or both")
        secret = new_secret() if with_secret else None
        # scrypt takes tens of milliseconds: keep it off the event loop.
        secret_hash = await asyncio.to_thread(hash_secret, secret) if secret else None
        row = {
            "client_id": new_client_id(), "name": name, "roles": " ".join(sorted(checked)),
            "cert_sha256": fingerprint, "secret_hash": secret_hash,
            "created_at": format_ts(self._clock()), "revoked_at": None,
        }
        # A writer from BEGIN: the duplicate check and the insert must see one snapshot (SQLite WAL).
        conn = await writer_connection(self._engine)
        try:
            async with conn.begin():
                if fingerprint is not None:
                    taken = await conn.scalar(
                        select(api_client.c.client_id).where(api_client.c.cert_sha256 == fingerprint)
                    )
                    if taken is not None:
                        raise ClientError("duplicate-cert", f"this certificate is already registered to {taken}")
                await conn.execute(insert(api_client).values(**row))
        except IntegrityError:
            # Lost a race with a concurrent registration of the same certificate.
            raise ClientError("duplicate-cert", "this certificate is already registered") from None
        finally:
            await conn.close()
        return NewClient(ApiClient.from_row(row), secret)

    async def list(self, *, include_revoked: bool = True) -> list[ApiClient]:
        query = select(api_client).order_by(api_client.c.created_at, api_client.c.client_id)
        if not include_revoked:
            query = query.where(api_client.c.revoked_at.is_(None))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [ApiClient.from_row(row) for row in rows]

    async def find(self, client_id: str) -> ApiClient | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(api_client).where(api_client.c.client_id == client_id))).mappings().first()
        return ApiClient.from_row(row) if row else None

    async def get(self, client_id: str) -> ApiClient:
        found = await self.find(client_id)
        if found is None:
            raise ClientError("unknown-client", f"no client {client_id!r}")
        return found

    async def find_by_cert(self, fingerprint: str) -> ApiClient | None:
        fingerprint = fingerprint.lower()
        if not _FINGERPRINT.match(fingerprint):
            return None
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(api_client).where(api_client.c.cert_sha256 == fingerprint))
            ).mappings().first()
        return ApiClient.from_row(row) if row else None

    async def revoke(self, client_id: str) -> ApiClient:
        """Revoke for good; revoking twice keeps the first time (when access actually ended)."""
        async with self._engine.begin() as conn:
            await conn.execute(
                update(api_client)
                .where(api_client.c.client_id == client_id, api_client.c.revoked_at.is_(None))
                .values(revoked_at=format_ts(self._clock()))
            )
        return await self.get(client_id)

    async def check_secret(self, client_id: str, secret: str) -> tuple[ApiClient | None, bool]:
        """``(client or None, secret matches)``. Unknown ids cost as much as known ones (no id probing)."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(api_client).where(api_client.c.client_id == client_id))).mappings().first()
        stored = row["secret_hash"] if row else None
        ok = await asyncio.to_thread(verify_secret, secret, stored)
        return (ApiClient.from_row(row) if row else None), ok


async def register_client(
    node: Node, name: str, roles: Iterable[str], *, cert: bytes | None = None, with_secret: bool = False,
    actor: str,
) -> NewClient:
    """Register and audit (``api.client.registered``); what the CLI and any admin API call."""
    created = await ClientStore(node.engine).add(name, roles, cert=cert, with_secret=with_secret)
    client = created.client
    await node.audit.append("api.client.registered", actor, details={
        "client_id": client.client_id, "name": client.name, "roles": sorted(client.roles),
        "cert_sha256": client.cert_sha256, "has_secret": client.has_secret,
    })
    return created


async def revoke_client(node: Node, client_id: str, *, actor: str) -> ApiClient:
    """Revoke and audit (``api.client.revoked``); unknown ids raise ClientError ``unknown-client``."""
    store = ClientStore(node.engine)
    before = await store.get(client_id)
    client = await store.revoke(client_id)
    await node.audit.append("api.client.revoked", actor, details={
        "client_id": client_id, "revoked_at": client.revoked_at, "already_revoked": before.revoked,
    })
    return client
