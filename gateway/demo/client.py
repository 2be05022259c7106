"""The portal's client of a node's requester API: gateway.devnet's BackendClient (OAuth2 client credentials),
plus what a long-running portal needs: a new token when the old one expired, and one exception for "the node
cannot be reached" so pages can say so with a code."""

from __future__ import annotations

from typing import Any

import aiohttp

from gateway.devnet import BackendClient


class ApiUnavailable(Exception):
    """The node did not answer (down, refused, timed out)."""


class ApiClient(BackendClient):
    async def _call(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        for attempt in (1, 2):
            try:
                kwargs: dict[str, Any] = {"headers": await self.headers()}
                if payload is not None:
                    kwargs["json"] = payload
                async with self.http.request(method, f"{self.node.url}{path}", **kwargs) as resp:
                    if resp.status == 401 and attempt == 1:  # tokens live minutes; a portal lives longer
                        self._token = None
                        continue
                    return resp.status, await resp.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, RuntimeError) as exc:
                # RuntimeError: the token endpoint refused or answered nonsense (a node still starting)
                raise ApiUnavailable(f"{self.node.name}: {type(exc).__name__}") from None
        raise ApiUnavailable(f"{self.node.name}: authentication keeps failing")

    async def get(self, path: str) -> tuple[int, Any]:
        return await self._call("GET", path)

    async def post(self, path: str, payload: Any = None) -> tuple[int, Any]:
        return await self._call("POST", path, payload)

    async def read(self, path: str) -> bytes:
        """Bytes of a download (the evidence), never parsed here."""
        try:
            async with self.http.get(f"{self.node.url}{path}", headers=await self.headers()) as resp:
                if resp.status != 200:
                    raise ApiUnavailable(f"{self.node.name}: HTTP {resp.status} for a download")
                return await resp.read()
        except (aiohttp.ClientError, TimeoutError, RuntimeError) as exc:
            raise ApiUnavailable(f"{self.node.name}: {type(exc).__name__}") from None
