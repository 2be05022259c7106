"""Sans-IO web safety helpers of the preview space: return-URL validation and CSRF tokens.

The return URL comes from the requester's request; sending the user to it unchecked would make the preview
space an open redirect. It must be absolute https (http only for loopback in development), without user info,
and its origin must be one the requester is registered with. CSRF tokens are HMACs of the session id, so a
token lifted from one session is worthless in another and no server state is needed beyond the session.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class ReturnUrlRefused(Exception):
    """The requester's return URL is not one we redirect to. ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class CsrfRefused(Exception):
    code = "PREVIEW_CSRF"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def check_return_url(url: str, allowed_origins: Iterable[str]) -> str:
    """Return ``url`` if it may be redirected to, else raise :class:`ReturnUrlRefused`."""
    if any(ch in url for ch in "\r\n\t\\") or len(url) > 2048:
        raise ReturnUrlRefused("PREVIEW_RETURN_MALFORMED", "control characters, backslash or too long")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ReturnUrlRefused("PREVIEW_RETURN_MALFORMED", str(exc)) from exc
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise ReturnUrlRefused("PREVIEW_RETURN_MALFORMED", "no host, or user info present")
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        raise ReturnUrlRefused("PREVIEW_RETURN_SCHEME", f"scheme {parts.scheme!r} not allowed")
    if _origin(url) not in {_origin(origin) for origin in allowed_origins}:
        raise ReturnUrlRefused("PREVIEW_RETURN_ORIGIN", "origin is not registered for the requester")
    return url


def csrf_token(secret: bytes, session_id: str) -> str:
    return hmac.new(secret, b"preview-csrf\x00" + session_id.encode(), hashlib.sha256).hexdigest()


def check_csrf(secret: bytes, session_id: str, presented: str | None) -> None:
    if not presented or not hmac.compare_digest(csrf_token(secret, session_id), presented):
        raise CsrfRefused("PREVIEW_CSRF: missing or wrong form token")
