"""OOTS evidence exchange between two node processes: latency from the portal's API call to the evidence being
available, and exchanges per second, with concurrent users requesting evidence without preview; in the same
run, the AS4 round trip alone (a request out and an answer back between the same two nodes through their
backend APIs) as the baseline, so the ratio is the OOTS overhead.

Setup (gateway.oots_devnet): requester node DE-GW (portal API), provider node LV-GW-DEV (sample Latvian
registers, SQLite), the common-services simulator in a thread (the requester caches EB/DSD answers), all AS4
crypto (eDelivery AS4 1.15 for EDM v1.2, 2.0 for v2.0), durable stores (SQLite WAL, payload store with
fsync). "Evidence available" is when the node's signed webhook to the portal says ``completed`` (the evidence is
then downloadable); the AS4 round trip ends when the answer's webhook push reaches the first backend.

    python bench/oots_exchange.py [--users 20] [--rounds 5] [--version oots-edm:v1.2]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web

from bench._oots_timeline import STEPS, timeline
from gateway.devnet import BackendClient, DevNode, NodeProcess, free_port
from gateway.oots_devnet import prepare_oots_pair, write_trust_dir
from oots.transport import AS4_PROFILES
from tests.oots.oots_net import ANNA, SimulatorThread


def _cpu_s(procs: list[NodeProcess]) -> float:
    """User + system CPU seconds the node processes used so far (Linux /proc; fields 14 and 15 of stat)."""
    total = 0
    for proc in procs:
        assert proc.proc is not None
        fields = Path(f"/proc/{proc.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Hooks:
    """Webhook receivers in this process: portal notifications (by request id) and AS4 pushes (by message)."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.on_push: dict[str, Any] = {}
        self.runner: web.AppRunner | None = None
        self.port = free_port()

    def expect(self, key: str) -> asyncio.Future[float]:
        future = self.waiting.get(key)
        if future is None:
            future = self.waiting[key] = asyncio.get_running_loop().create_future()
        return future

    def _resolve(self, key: str) -> None:
        future = self.expect(key)
        if not future.done():
            future.set_result(time.perf_counter())

    async def portal(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        if body["state"] in ("completed", "failed"):
            self._resolve(body["id"])
        return web.Response(status=204)

    async def as4(self, request: web.Request) -> web.Response:
        reader = await request.multipart()
        document = json.loads(await (await reader.next()).read())  # type: ignore[union-attr]
        payload = await (await reader.next()).read()  # type: ignore[union-attr]
        handler = self.on_push.get(request.match_info["node"])
        if handler is not None:
            await handler(document, payload)
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/portal", self.portal)
        app.router.add_post("/as4/{node}", self.as4)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def oots_phase(portal: BackendClient, hooks: Hooks, users: int, rounds: int,
                     request_ids: set[str] | None = None) -> tuple[list[float], float]:
    latencies: list[float] = []

    async def user() -> None:
        for _ in range(rounds):
            started = time.perf_counter()
            status, created = await portal.post("/api/oots/requests", {
                "procedure": "T2", "country": "LV", "person": ANNA, "preview_allowed": False,
                "notify_url": f"{hooks.url}/portal"})
            if status != 201:
                raise RuntimeError(f"create refused: {created}")
            if request_ids is not None:
                request_ids.add(created["id"])
            finished = await asyncio.wait_for(hooks.expect(created["id"]), 60)
            status, done = await portal.get(f"/api/oots/requests/{created['id']}")
            if done["state"] != "completed" or len(done["evidence"]) != 1:
                raise RuntimeError(f"exchange did not complete: {done['state']} {done['error']}")
            latencies.append((finished - started) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(users)))
    return latencies, time.perf_counter() - began


async def as4_phase(requester: BackendClient, provider: BackendClient, hooks: Hooks, profile: str, users: int,
                    rounds: int, request_bytes: bytes, response_bytes: bytes) -> tuple[list[float], float]:
    """The same two nodes, their backend APIs: request → the provider's backend answers at once → answer back."""

    async def provider_backend(document: dict[str, Any], _payload: bytes) -> None:
        await provider.submit(f"to-{requester.node.name}-{profile}", [("application/xml", response_bytes)],
                              ref_to_message_id=document["message_id"])

    async def requester_backend(document: dict[str, Any], _payload: bytes) -> None:
        hooks._resolve(document["ref_to_message_id"])

    hooks.on_push[provider.node.name] = provider_backend
    hooks.on_push[requester.node.name] = requester_backend
    for api in (requester, provider):
        async with api.http.put(f"{api.node.url}/api/as4/webhook", json={"url": f"{hooks.url}/as4/{api.node.name}"},
                                headers=await api.headers()) as resp:
            if resp.status != 200:
                raise RuntimeError(f"webhook refused: {await resp.text()}")
    latencies: list[float] = []

    async def user() -> None:
        for _ in range(rounds):
            started = time.perf_counter()
            message_id = await requester.submit(f"to-{provider.node.name}-{profile}",
                                                [("application/xml", request_bytes)])
            finished = await asyncio.wait_for(hooks.expect(message_id), 60)
            latencies.append((finished - started) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(users)))
    return latencies, time.perf_counter() - began


async def main_async(args: argparse.Namespace) -> dict[str, float]:
    sim = SimulatorThread().start()
    with tempfile.TemporaryDirectory(prefix="oots-bench-") as tmp:
        base = Path(tmp)
        trust = write_trust_dir(base / "cs-trust", sim.certificate_pem)
        requester = DevNode("DE-GW", base / "de", free_port())
        provider = DevNode("LV-GW-DEV", base / "lv", free_port())
        await prepare_oots_pair(requester, provider, cs_url=sim.url, cs_trust_dir=trust, versions=(args.version,))
        procs = [NodeProcess(requester), NodeProcess(provider)]
        for proc in procs:
            proc.start()
        hooks = Hooks()
        await hooks.start()
        try:
            connector = aiohttp.TCPConnector(limit=200)
            async with aiohttp.ClientSession(connector=connector) as http:
                portal, far = BackendClient(requester, http), BackendClient(provider, http)
                await oots_phase(portal, hooks, 2, 2)  # warm-up: EB/DSD cache, connections, code paths
                cpu0 = _cpu_s(procs)
                measured: set[str] = set()
                oots_ms, oots_s = await oots_phase(portal, hooks, args.users, args.rounds, measured)
                oots_cpu = _cpu_s(procs) - cpu0
                request_bytes = (base / "de" / "pmodes" / "oots-pmodes.toml").read_bytes()[:4096]
                response_bytes = request_bytes * 2
                profile = AS4_PROFILES[args.version].name
                await as4_phase(portal, far, hooks, profile, 2, 2, request_bytes, response_bytes)
                cpu0 = _cpu_s(procs)
                as4_ms, as4_s = await as4_phase(portal, far, hooks, profile, args.users, args.rounds,
                                                request_bytes, response_bytes)
                as4_cpu = _cpu_s(procs) - cpu0
                steps = timeline(requester.data_dir / "gateway.db", provider.data_dir / "gateway.db", measured)
        finally:
            if hooks.runner is not None:
                await hooks.runner.cleanup()
            for proc in procs:
                proc.stop()
            sim.stop()
    n = args.users * args.rounds
    figures = {
        "users": float(args.users), "exchanges": float(n),
        "oots_exchange_p50_ms": round(statistics.median(oots_ms), 1),
        "oots_exchange_p95_ms": round(_pct(oots_ms, 0.95), 1),
        "oots_exchanges_per_s": round(n / oots_s, 1),
        "as4_round_trip_p50_ms": round(statistics.median(as4_ms), 1),
        "as4_round_trip_p95_ms": round(_pct(as4_ms, 0.95), 1),
        "as4_round_trips_per_s": round(n / as4_s, 1),
        # CPU of both node processes (not the benchmark's own portal/backends), per exchange / round trip.
        "oots_node_cpu_ms_per_exchange": round(oots_cpu * 1000 / n, 1),
        "as4_node_cpu_ms_per_round_trip": round(as4_cpu * 1000 / n, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    for name, values in steps.items():  # where the wall time of one exchange goes (node timestamps)
        if values:
            figures[f"step_{name}_p50_ms"] = round(statistics.median(values), 1)
            figures[f"step_{name}_p95_ms"] = round(_pct(values, 0.95), 1)
    figures["oots_overhead_ratio_p50"] = round(figures["oots_exchange_p50_ms"] / figures["as4_round_trip_p50_ms"], 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--version", default="oots-edm:v1.2", choices=("oots-edm:v1.2", "oots-edm:v2.0"))
    args = parser.parse_args()
    figures = asyncio.run(main_async(args))
    print(f"OOTS exchange ({args.version}, {args.users} users x {args.rounds}): "
          f"p50 {figures['oots_exchange_p50_ms']} ms, p95 {figures['oots_exchange_p95_ms']} ms, "
          f"{figures['oots_exchanges_per_s']} exchanges/s")
    print(f"AS4 round trip alone (same nodes, backend APIs): p50 {figures['as4_round_trip_p50_ms']} ms, "
          f"p95 {figures['as4_round_trip_p95_ms']} ms, {figures['as4_round_trips_per_s']} round trips/s")
    print(f"node CPU per OOTS exchange {figures['oots_node_cpu_ms_per_exchange']} ms, per AS4 round trip "
          f"{figures['as4_node_cpu_ms_per_round_trip']} ms (both nodes); load average {figures['load_average_1min']}")
    for name, what in STEPS:
        if f"step_{name}_p50_ms" in figures:
            print(f"  {figures[f'step_{name}_p50_ms']:8.1f} / {figures[f'step_{name}_p95_ms']:8.1f} ms  {what}")
    print(f"OOTS overhead over the AS4 round trip (p50): x{figures['oots_overhead_ratio_p50']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
