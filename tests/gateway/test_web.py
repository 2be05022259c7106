"""The web shell: health, readiness, metrics, correlation ids, JSON logs, graceful shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from gateway.audit.verify import verify_log
from gateway.db.schema import audit_record
from gateway.runtime import Node
from gateway.web.app import build_app
from tests.conftest import make_settings

REPO = Path(__file__).resolve().parents[2]


async def _start(app: web.Application, shutdown_timeout: float = 10.0) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def served(node: Node) -> AsyncIterator[tuple[Node, str]]:
    runner, base = await _start(build_app(node))
    try:
        yield node, base
    finally:
        await runner.cleanup()


async def test_health_ready_metrics(served) -> None:
    _, base = served
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as resp:
            assert resp.status == 200 and (await resp.json())["status"] == "alive"
        async with http.get(f"{base}/readyz") as resp:
            body = await resp.json()
            assert resp.status == 200, body
            assert body["checks"] == {"database": "ok", "audit_key": "ok"}
        async with http.get(f"{base}/metrics") as resp:
            text = await resp.text()
            assert resp.status == 200 and resp.content_type == "text/plain"
    assert re.search(r'gateway_http_requests_total\{method="GET",route="/healthz",status="200"\} 1\.0', text)
    assert "gateway_audit_records_appended_total" in text


async def test_correlation_id_is_echoed_or_created(served) -> None:
    _, base = served
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz", headers={"X-Correlation-ID": "portal-req-42"}) as resp:
            assert resp.headers["X-Correlation-ID"] == "portal-req-42"
        async with http.get(f"{base}/healthz", headers={"X-Correlation-ID": "bad\tvalue"}) as resp:
            fresh = resp.headers["X-Correlation-ID"]
            assert fresh != "bad\tvalue" and re.fullmatch(r"[0-9a-f-]{36}", fresh)
        async with http.get(f"{base}/no/such/page") as resp:
            body = await resp.json(content_type=None)
            assert resp.status == 404
            assert body["code"] == "http-404" and body["correlation_id"] == resp.headers["X-Correlation-ID"]


@pytest.mark.postgres
async def test_readiness_fails_when_database_goes_away(tmp_path: Path, pg_admin_url: str) -> None:
    import asyncpg

    name = "gw_ready_" + os.urandom(4).hex()
    admin = await asyncpg.connect(pg_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        node = await Node.open(make_settings(tmp_path, pg_admin_url.rsplit("/", 1)[0] + "/" + name))
        runner, base = await _start(build_app(node))
        try:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{base}/readyz") as resp:
                    body = await resp.json()
                    assert resp.status == 503
                    assert body["checks"]["database"].startswith("unreachable")
                async with http.get(f"{base}/healthz") as resp:
                    assert resp.status == 200  # alive, just not ready
        finally:
            await runner.cleanup()
            await node.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_shutdown_finishes_in_flight_requests_and_audit(node: Node) -> None:
    app = build_app(node)
    started = asyncio.Event()

    async def slow(_request: web.Request) -> web.Response:
        started.set()
        await asyncio.sleep(0.5)
        seq = await node.audit.append("test.slow.done", "tester")
        return web.json_response({"seq": seq})

    app.router.add_get("/slow", slow)
    runner, base = await _start(app)
    async with aiohttp.ClientSession() as http:
        pending = asyncio.create_task(http.get(f"{base}/slow"))
        await started.wait()
        await runner.cleanup()  # what SIGTERM triggers in `gateway-node serve`
        resp = await pending
        assert resp.status == 200
        seq = (await resp.json())["seq"]
    async with node.engine.connect() as conn:
        assert (await conn.execute(select(audit_record.c.event).where(audit_record.c.seq == seq))).scalar() \
            == "test.slow.done"


def test_serve_process_logs_json_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update({"GATEWAY_NODE__DATA_DIR": str(tmp_path / "data"), "GATEWAY_HTTP__PORT": "0",
                "PYTHONPATH": str(REPO)})
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli.main", "serve"], cwd=tmp_path, env=env,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    address = None
    lines: list[dict] = []
    for raw in proc.stderr:
        entry = json.loads(raw)  # every log line is one JSON object
        lines.append(entry)
        if entry.get("address"):
            address = entry["address"]
            break
    assert address, lines

    async def call() -> tuple[int, str]:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{address}/readyz", headers={"X-Correlation-ID": "ops-check-1"}) as resp:
                return resp.status, resp.headers["X-Correlation-ID"]

    assert asyncio.run(call()) == (200, "ops-check-1")
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=30)
    assert proc.returncode == 0
    logged = [json.loads(line) for line in rest.splitlines() if line.strip()]
    request_line = next(e for e in logged if e.get("route") == "/readyz")
    assert request_line["correlation_id"] == "ops-check-1" and request_line["level"] == "INFO"
    assert any(e["msg"] == "stopped" for e in logged)

    async def check_audit() -> list[str]:
        node = await Node.open(make_settings(tmp_path / "data", ""))
        try:
            assert (await verify_log(node.engine, node.audit_keys)).ok
            async with node.engine.connect() as conn:
                return list((await conn.execute(select(audit_record.c.event).order_by(audit_record.c.seq))).scalars())
        finally:
            await node.close()

    assert asyncio.run(check_audit()) == ["node.started", "node.stopped"]
