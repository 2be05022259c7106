"""Shared pieces of the OOTS end-to-end tests and the benchmark: the common-services simulator in a thread
(its own event loop, so node processes can query it between test steps), a catalogue where every Latvian data
service speaks both EDM versions plus procedure ``S1`` needing two providers, and the portal's API calls."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import yaml
from aiohttp import web

from gateway.devnet import BackendClient, free_port
from gateway.oots_devnet import pem
from oots.commonservices.catalogue import parse_catalogue
from oots.commonservices.devkey import ephemeral_signer
from oots.commonservices.simulator import SimulatorConfig, create_app

REPO = Path(__file__).resolve().parents[2]
T2 = "https://sr.oots.tech.ec.europa.eu/requirements/f8a6a284-34e9-42c7-9733-63b5c4f4aa42"
R1 = "https://sr.oots.tech.ec.europa.eu/requirements/4f1c3a2e-8b7d-4c1e-9f0a-2b3c4d5e6f70"
REGION = "6b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e"

ANNA = {"family_name": "Bērziņa", "given_name": "Anna", "date_of_birth": "1990-01-01",
        "identifier": "LV/DE/ANNA-1", "level_of_assurance": "High"}
JACK = {"family_name": "Smith", "given_name": "Jack", "date_of_birth": "1999-03-01",
        "identifier": "DE/LV/123456789", "level_of_assurance": "High"}


def catalogue_for_tests() -> Any:
    data = yaml.safe_load((REPO / "config" / "oots" / "common-services.yaml").read_text(encoding="utf-8"))
    for service in data["data_services"]:
        service["conforms_to"] = ["oots-edm:v1.2", "oots-edm:v2.0"]
    data["procedures"]["S1"] = [T2, R1]  # diploma (Ministry of Education) + birth record (PMLP): two providers
    return parse_catalogue(data)


class AppThread:
    """An aiohttp app on a free loopback port, in a daemon thread with its own loop (node processes can reach
    it between test steps, whichever loop the test runs on)."""

    def __init__(self, app_factory: Callable[[], web.Application]) -> None:
        self._app_factory = app_factory
        self.port = free_port()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        runner = web.AppRunner(self._app_factory(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def start(self) -> Self:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


class SimulatorThread(AppThread):
    """The EB/DSD simulator."""

    def __init__(self) -> None:
        key, self.certificate = ephemeral_signer(datetime.now(UTC))
        self.config = SimulatorConfig(catalogue_for_tests(), key, [self.certificate])
        super().__init__(lambda: create_app(self.config))

    @property
    def certificate_pem(self) -> bytes:
        return pem(self.certificate)


async def create(portal: BackendClient, **body: Any) -> tuple[int, dict[str, Any]]:
    return await portal.post("/api/oots/requests", body)


async def settled(portal: BackendClient, request_id: str, states: tuple[str, ...] = ("completed", "failed"),
                  timeout_s: float = 30.0) -> dict[str, Any]:
    return await portal.wait_for(f"/api/oots/requests/{request_id}", lambda r: r["state"] in states,
                                 timeout_s=timeout_s, every_s=0.05)


async def download(portal: BackendClient, request_id: str, evidence_id: str) -> tuple[int, bytes, dict[str, str]]:
    async with portal.http.get(f"{portal.node.url}/api/oots/requests/{request_id}/evidence/{evidence_id}",
                               headers=await portal.headers()) as resp:
        return resp.status, await resp.read(), dict(resp.headers)


def elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def dumps(value: Any) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False)
