"""Access tokens for the node's APIs: EdDSA-signed JWTs in the RFC 9068 shape, under the node's own key.

The node is both issuer and audience (``iss`` = ``aud`` = node id), so the verification key never leaves
the node. Verification pins the algorithm to EdDSA: a token announcing ``none`` or an HMAC algorithm (the
classic "HS256 keyed with the public key" confusion) is refused before its signature is looked at.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.audit.keys import create_private_once, key_id_of
from gateway.auth.clients import ROLES
from gateway.config import Settings

TOKEN_KEY_FILE = "api-token-signing.pem"
ALGORITHM = "EdDSA"
TOKEN_TYPE = "at+jwt"
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "nbf", "exp", "jti"]


class TokenError(Exception):
    """A bearer token was refused. ``code`` is the problem code; ``client_id`` is set when the signature
    was ours (so the audit record can name the client), never from an unverified token."""

    def __init__(self, code: str, detail: str, client_id: str | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.client_id = client_id


@dataclass(frozen=True, slots=True)
class TokenClaims:
    client_id: str
    roles: frozenset[str]
    jti: str
    issued_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str = field(repr=False)
    expires_in: int
    jti: str
    roles: frozenset[str]


def load_or_create_signing_key(keys_dir: Path) -> Ed25519PrivateKey:
    """Read the token key, generating it on first use."""
    path = keys_dir / TOKEN_KEY_FILE
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        create_private_once(path, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ))
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise TypeError(f"{path}: expected an Ed25519 private key")
    return loaded


class TokenService:
    def __init__(
        self,
        signing_key: Ed25519PrivateKey,
        *,
        issuer: str,
        ttl_s: int,
        leeway_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._signing_key = signing_key
        self._public_key = signing_key.public_key()
        self._issuer = issuer
        self._ttl_s = ttl_s
        self._leeway_s = leeway_s
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], float] = time.time) -> TokenService:
        return cls(
            load_or_create_signing_key(settings.keys_dir),
            issuer=settings.node.id,
            ttl_s=settings.auth.token_ttl_s,
            leeway_s=settings.auth.max_clock_skew_s,
            clock=clock,
        )

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._public_key

    @property
    def key_id(self) -> str:
        return key_id_of(self._public_key)

    def issue(self, client_id: str, roles: Iterable[str]) -> IssuedToken:
        now = int(self._clock())
        granted = frozenset(roles)
        jti = secrets.token_urlsafe(16)
        claims: dict[str, Any] = {
            "iss": self._issuer, "aud": self._issuer, "sub": client_id, "client_id": client_id,
            "iat": now, "nbf": now, "exp": now + self._ttl_s, "jti": jti,
            "roles": sorted(granted), "scope": " ".join(sorted(granted)),
        }
        token = jwt.encode(
            claims, self._signing_key, algorithm=ALGORITHM, headers={"typ": TOKEN_TYPE, "kid": self.key_id}
        )
        return IssuedToken(token, self._ttl_s, jti, granted)

    def verify(self, token: str) -> TokenClaims:
        try:
            decoded = jwt.decode_complete(
                token,
                self._public_key,
                algorithms=[ALGORITHM],
                audience=self._issuer,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": _REQUIRED_CLAIMS, "strict_aud": True},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("auth-token-expired", "the token has expired", self._signed_subject(token)) from None
        except jwt.ImmatureSignatureError:
            raise TokenError("auth-token-invalid", "the token is not valid yet", self._signed_subject(token)) from None
        except jwt.InvalidTokenError as exc:
            raise TokenError("auth-token-invalid", _describe(exc), self._signed_subject(token)) from None
        header, claims = decoded["header"], decoded["payload"]
        subject = claims["sub"]
        if str(header.get("typ", "")).lower() not in (TOKEN_TYPE, "application/" + TOKEN_TYPE):
            raise TokenError("auth-token-invalid", "not an access token (typ)", subject)
        roles = claims.get("roles")
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles) or not isinstance(
            claims["jti"], str
        ):
            raise TokenError("auth-token-invalid", "malformed claims", subject)
        # However long a token says it lives, nothing older than the configured lifetime is accepted: a
        # lowered token_ttl_s also cuts short the tokens already out there.
        if self._clock() - int(claims["iat"]) > self._ttl_s + self._leeway_s:
            raise TokenError("auth-token-expired", "the token is older than the token lifetime", subject)
        return TokenClaims(subject, frozenset(roles) & ROLES, claims["jti"], int(claims["iat"]), int(claims["exp"]))

    def _signed_subject(self, token: str) -> str | None:
        """The subject of a token whose signature is ours but whose claims failed; None otherwise."""
        try:
            claims = jwt.decode(
                token, self._public_key, algorithms=[ALGORITHM],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False,
                         "verify_iss": False},
            )
        except jwt.InvalidTokenError:
            return None
        subject = claims.get("sub")
        return subject if isinstance(subject, str) and len(subject) <= 64 else None


def _describe(exc: jwt.InvalidTokenError) -> str:
    # Short fixed phrases: PyJWT's messages can echo token content, which must not reach logs or clients.
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "algorithm not allowed"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "signature does not verify"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "wrong audience"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "wrong issuer"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"missing claim {exc.claim}"
    if isinstance(exc, jwt.DecodeError):
        return "not a well-formed token"
    return "invalid token"
