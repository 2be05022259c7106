"""The audit commands operators run, end to end through the real CLI."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from gateway.cli.main import cli
from gateway.runtime import Node
from tests.conftest import make_settings


def _config(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(f'[node]\ndata_dir = "{tmp_path / "data"}"\n[database]\nurl = "{db_url}"\n'
                    "[audit]\nsth_every_records = 10\n", encoding="utf-8")
    return path


def _seed(tmp_path: Path, db_url: str, count: int) -> None:
    async def seed() -> None:
        node = await Node.open(make_settings(tmp_path / "data", db_url))
        try:
            for i in range(count):
                await node.audit.append("oots.evidence.requested", "portal-1", subject=f"LV/{i % 4}",
                                        details={"n": i})
        finally:
            await node.close()

    asyncio.run(seed())


def _run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], obj={}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_audit_commands_end_to_end(tmp_path: Path, db_url: str) -> None:
    config = _config(tmp_path, db_url)
    _seed(tmp_path, db_url, 25)

    code, out, _ = _run(config, "audit", "verify", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["records_checked"] == 25

    head_file = tmp_path / "head.json"
    code, _, _ = _run(config, "audit", "checkpoint", "export", "--out", str(head_file))
    assert code == 0 and json.loads(head_file.read_text())["tree_size"] == 25

    proof_file = tmp_path / "proof.json"
    assert _run(config, "audit", "prove", "7", "--out", str(proof_file))[0] == 0
    code, out, _ = _run(config, "audit", "verify-proof", str(proof_file), "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    tampered = json.loads(proof_file.read_text())
    tampered["record"]["details"]["n"] = 8
    proof_file.write_text(json.dumps(tampered))
    code, out, _ = _run(config, "audit", "verify-proof", str(proof_file))
    assert code == 1 and out.startswith("FAILED")

    code, out, _ = _run(config, "audit", "subject", "LV/1", "--json")
    found = json.loads(out)
    assert code == 0 and [r["details"]["n"] for r in found] == [1, 5, 9, 13, 17, 21]
    assert all("LV/1" not in json.dumps(r) for r in found)

    code, out, _ = _run(config, "audit", "verify", "--checkpoint", str(head_file))
    assert code == 0 and "consistent" in out

    async def tamper() -> None:
        node = await Node.open(make_settings(tmp_path / "data", db_url))
        try:
            async with node.engine.begin() as conn:
                await conn.execute(text("UPDATE audit_record SET actor = 'x' WHERE seq = 11"))
        finally:
            await node.close()

    asyncio.run(tamper())
    code, _, err = _run(config, "audit", "verify")
    assert code == 1
    assert "AUDIT_RECORD_MODIFIED at record 11" in err


def test_prune_command_keeps_log_verifiable(tmp_path: Path, db_url: str) -> None:
    config = _config(tmp_path, db_url)
    _seed(tmp_path, db_url, 12)
    code, out, _ = _run(config, "audit", "prune", "--before", "2999-01-01", "--json")
    assert code == 0 and json.loads(out)["removed"] == 12
    code, out, _ = _run(config, "audit", "verify", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["first_seq"] == 12


def test_prove_unknown_record_fails_cleanly(tmp_path: Path, db_url: str) -> None:
    config = _config(tmp_path, db_url)
    _seed(tmp_path, db_url, 3)
    code, _, err = _run(config, "audit", "prove", "40")
    assert code == 1 and "record 40" in err
