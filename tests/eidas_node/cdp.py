"""A minimal headless-Chromium driver over the Chrome DevTools Protocol (websocket, aiohttp): start the
Debian ``chromium`` with a fresh profile, navigate, evaluate, type keys. No browser is downloaded."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--remote-debugging-port=0", "--window-size=1024,768")
_KEYS = {"Tab": (9, None), "Enter": (13, "\r"), "Space": (32, " "), "ArrowDown": (40, None), "ArrowUp": (38, None)}


class Browser:
    def __init__(self, extra_flags: tuple[str, ...] = ()) -> None:
        self.extra_flags = extra_flags  # e.g. --ignore-certificate-errors for a self-signed loopback listener
        self.profile = Path(tempfile.mkdtemp(prefix="eidas-chromium-"))
        self.process: asyncio.subprocess.Process | None = None
        self.http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> Browser:
        self.process = await asyncio.create_subprocess_exec(
            CHROMIUM, *FLAGS, *self.extra_flags, f"--user-data-dir={self.profile}", "about:blank",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        port_file = self.profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().count("\n") >= 1:
                break
            await asyncio.sleep(0.05)
        port = int(port_file.read_text().split("\n")[0])
        self.http = aiohttp.ClientSession()
        async with self.http.get(f"http://127.0.0.1:{port}/json/list") as reply:
            pages = [t for t in await reply.json() if t["type"] == "page"]
        self.ws = await self.http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        return self

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            data = json.loads(message.data)
            future = self._waiting.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        assert self.ws is not None
        ident = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        await self.ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, 20)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def navigate(self, url: str) -> None:
        await self.send("Page.navigate", url=url)

    async def wait_for(self, expression: str, seconds: float = 20.0) -> Any:
        """Poll until ``expression`` is truthy in the current page (survives navigations)."""
        deadline = asyncio.get_running_loop().time() + seconds
        last: Any = None
        while asyncio.get_running_loop().time() < deadline:
            try:
                last = await self.evaluate(expression)
                if last:
                    return last
            except RuntimeError:
                pass  # the page was navigating
            await asyncio.sleep(0.1)
        url = await self.evaluate("location.href")
        raise TimeoutError(f"waited for {expression!r} on {url}; last value {last!r}")

    async def press(self, key: str) -> None:
        code, text = _KEYS[key]
        down: dict[str, Any] = {"type": "keyDown", "key": key if key != "Space" else " ", "code": key,
                                "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code}
        if text:
            down["text"] = text
        await self.send("Input.dispatchKeyEvent", **down)
        await self.send("Input.dispatchKeyEvent", **{**down, "type": "keyUp", "text": ""})

    async def tab_to(self, condition: str, limit: int = 25) -> None:
        """Press Tab until ``condition`` (JS over ``document.activeElement`` as ``el``) holds."""
        for _ in range(limit):
            await self.press("Tab")
            if await self.evaluate(f"(el => !!el && ({condition}))(document.activeElement)"):
                return
        raise AssertionError(f"Tab never reached an element where {condition}")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None:
            await self.ws.close()
        if self.http is not None:
            await self.http.close()
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
