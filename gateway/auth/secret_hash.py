"""Client secrets: generated here, shown once, stored only as a salted scrypt hash.

The stored form names its parameters (``scrypt$n$r$p$salt$hash``) so they can change without invalidating
secrets already issued. Why n = 2^11 (2 MiB) and not a password-grade 2^14+: every secret is 256 random bits
generated here, never chosen by a person, so a leaked hash cannot be brute-forced whatever the cost factor; a
memory-hard setting would only make each token request raise the node's peak memory by 16 MiB (the node
keeps its peak under 100 MB while it streams gigabyte payloads). Hashes made with the old 2^14 still verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading

_N, _R, _P = 2**11, 8, 1
_SALT_BYTES = 16
_HASH_BYTES = 32
# scrypt needs 128*n*r bytes; OpenSSL's default ceiling (32 MiB) is too close for comfort.
_MAXMEM = 64 * 1024 * 1024
_PREFIX = "scrypt"
# Each hash holds 128*n*r bytes (2 MiB now, 16 MiB for hashes made with 2^14) for milliseconds; bounding how
# many run at once bounds what a flood of token requests can make the process allocate (the rest wait).
_SLOTS = threading.BoundedSemaphore(4)


def new_secret() -> str:
    """A 256-bit random secret, URL-safe so it survives HTTP Basic and form encoding unchanged."""
    return secrets.token_urlsafe(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    with _SLOTS:
        return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=_HASH_BYTES)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(secret, salt, _N, _R, _P)
    return f"{_PREFIX}${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str | None) -> bool:
    """Constant-time check. With no stored hash a dummy one is computed so timing does not reveal it."""
    if stored is None:
        hash_secret(secret)
        return False
    try:
        prefix, n, r, p, salt, digest = stored.split("$")
        if prefix != _PREFIX:
            return False
        expected = _unb64(digest)
        actual = _scrypt(secret, _unb64(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
