"""Fetching SMP documents over HTTP (aiohttp): status, size cap while streaming, timeouts, cache lifetime.

``max_age`` comes from ``Cache-Control: max-age`` (``no-store``/``no-cache`` give 0), else ``Expires``
relative to ``Date``; the caller clamps it to the network's bounds.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import aiohttp

from smp_client.errors import SmpHttpError
from smp_client.parse import DEFAULT_MAX_BYTES

_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    body: bytes
    max_age: int | None  # seconds, None when the response says nothing


def max_age_of(headers: Mapping[str, str]) -> int | None:
    cache_control = headers.get("Cache-Control", "")
    if re.search(r"no-store|no-cache", cache_control, re.IGNORECASE):
        return 0
    match = _MAX_AGE.search(cache_control)
    if match:
        return int(match.group(1))
    expires, date = headers.get("Expires"), headers.get("Date")
    if expires and date:
        try:
            return max(0, int((parsedate_to_datetime(expires) - parsedate_to_datetime(date)).total_seconds()))
        except (TypeError, ValueError):
            return 0
    return None


async def fetch(session: aiohttp.ClientSession, url: str, *, max_bytes: int = DEFAULT_MAX_BYTES,
                http_timeout: float = 10.0) -> Fetched:
    """GET ``url``; :class:`SmpHttpError` for anything but a 200 with a body within ``max_bytes``."""
    try:
        async with asyncio.timeout(http_timeout):
            async with session.get(url, allow_redirects=False) as response:
                if response.status == 404:
                    raise SmpHttpError("SMP_NOT_FOUND", f"{url}: 404, the SMP does not know this participant/service")
                if response.status >= 500:  # the SMP is failing: an outage, the cache may answer stale
                    raise SmpHttpError("SMP_HTTP_STATUS", f"{url}: HTTP {response.status}")
                if response.status != 200:  # redirects are not followed; 4xx: a definitive refusal
                    raise SmpHttpError("SMP_HTTP_UNEXPECTED", f"{url}: HTTP {response.status}")
                declared = response.content_length
                if declared is not None and declared > max_bytes:
                    raise SmpHttpError("SMP_TOO_LARGE", f"{url}: {declared} bytes exceeds the limit of {max_bytes}")
                chunks, size = [], 0
                async for chunk in response.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise SmpHttpError("SMP_TOO_LARGE", f"{url}: body exceeds the limit of {max_bytes} bytes")
                    chunks.append(chunk)
                return Fetched(url, b"".join(chunks), max_age_of(response.headers))
    except TimeoutError:
        raise SmpHttpError("SMP_TIMEOUT", f"{url}: no complete answer within {http_timeout} s") from None
    except aiohttp.ClientError as exc:
        raise SmpHttpError("SMP_UNREACHABLE", f"{url}: {type(exc).__name__}: {exc}") from None
