"""Several processes on one PostgreSQL keep one chain; a SIGKILL loses nothing that was acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.audit.verify import verify_log
from gateway.db.schema import audit_record
from gateway.runtime import Node
from tests.conftest import make_settings

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _spawn(data_dir: Path, db_url: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.audit.appender", "--data-dir", str(data_dir), "--db-url", db_url, *extra],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


async def _prepare(data_dir: Path, db_url: str) -> Node:
    node = await Node.open(make_settings(data_dir, db_url))  # migrations and keys exist before the race
    return node


@pytest.mark.postgres
async def test_two_processes_append_to_one_postgres_chain(tmp_path: Path, pg_database: str) -> None:
    data_dir = tmp_path / "data"
    node = await _prepare(data_dir, pg_database)
    await node.close()
    procs = [_spawn(data_dir, pg_database, "--count", "400", "--name", f"p{i}") for i in range(2)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    acknowledged = [int(line) for out, _ in outputs for line in out.split() if line.isdigit()]
    assert sorted(acknowledged) == list(range(800)), "each sequence number handed out exactly once"

    node = await _prepare(data_dir, pg_database)
    try:
        report = await verify_log(node.engine, node.audit_keys)
        assert report.ok, report.problem
        assert report.size == 800
        async with node.engine.connect() as conn:
            actors = dict((await conn.execute(
                select(audit_record.c.actor, func.count()).group_by(audit_record.c.actor))).all())
        assert actors == {"p0": 400, "p1": 400}
    finally:
        await node.close()


async def test_sigkill_while_appending_loses_no_acknowledged_record(tmp_path: Path, db_url: str) -> None:
    data_dir = tmp_path / "data"
    node = await _prepare(data_dir, db_url)
    await node.close()
    proc = _spawn(data_dir, db_url, "--workers", "16")
    acknowledged: list[int] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        if line.strip().isdigit():
            acknowledged.append(int(line))
        if len(acknowledged) >= 1500 or time.monotonic() > deadline:
            break
    os.kill(proc.pid, signal.SIGKILL)  # mid-append: batches are in flight
    rest, _ = proc.communicate(timeout=30)
    acknowledged += [int(line) for line in rest.split() if line.isdigit()]
    assert proc.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 1500

    node = await _prepare(data_dir, db_url)
    try:
        async with node.engine.connect() as conn:
            stored = set((await conn.execute(select(audit_record.c.seq))).scalars())
        missing = set(acknowledged) - stored
        assert not missing, f"acknowledged but lost: {sorted(missing)[:10]}"
        report = await verify_log(node.engine, node.audit_keys)
        assert report.ok, report.problem
        # The log carries on after the crash.
        seq = await node.audit.append("test.after_crash", "tester")
        assert seq == report.size
        assert (await verify_log(node.engine, node.audit_keys)).ok
    finally:
        await node.close()
