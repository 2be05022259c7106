from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gateway.cli.main import cli
from smp_client import publish
from smp_client.model import Flavour
from tests.smp_client.smpfixtures import PARTICIPANT, metadata, smp_keys


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["smp", "parse", *args])
    return result.exit_code, result.output


def test_parse_signed_with_trust(tmp_path: Path) -> None:
    keys = smp_keys()
    doc = tmp_path / "sm.xml"
    doc.write_bytes(publish.build(metadata(Flavour.OASIS_2), keys.signer))
    code, output = _run(str(doc), "--trust", str(keys.pki.node_dir / "trust"), "--xsd", "--json")
    assert code == 0, output
    data = json.loads(output)
    assert data["verified"] is True
    assert data["participant"] == PARTICIPANT.uri
    assert data["processes"][0]["endpoints"][0]["address"] == "https://ap.partner.example/as4"


def test_parse_refusals(tmp_path: Path) -> None:
    keys = smp_keys()
    trust = str(keys.pki.node_dir / "trust")
    tampered = tmp_path / "t.xml"
    tampered.write_bytes(publish.build(metadata(Flavour.OASIS_1), keys.signer).replace(b"partner.example", b"evil.xx"))
    code, output = _run(str(tampered), "--trust", trust)
    assert code != 0 and "SMP_SIGNATURE_INVALID" in output
    unsigned = tmp_path / "u.xml"
    unsigned.write_bytes(publish.build(metadata(Flavour.OASIS_1), None))
    code, output = _run(str(unsigned), "--trust", trust)
    assert code != 0 and "SMP_SIGNATURE_MISSING" in output
    code, output = _run(str(unsigned))  # inspection without a trust store
    assert code == 0 and "NOT verified" in output
    dtd = tmp_path / "d.xml"
    dtd.write_bytes(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
    code, output = _run(str(dtd))
    assert code != 0 and "XML_DTD_FORBIDDEN" in output
    broken = tmp_path / "b.xml"
    broken.write_bytes(b"<a><b></a>")
    code, output = _run(str(broken), "--json")
    assert code != 0 and "XML_MALFORMED" in output


def test_parse_service_group(tmp_path: Path) -> None:
    doc = tmp_path / "sg.xml"
    doc.write_bytes(publish.service_group_1(Flavour.PEPPOL, PARTICIPANT, ["https://smp.example/x/services/y"]))
    code, output = _run(str(doc))
    assert code == 0, output
    assert "https://smp.example/x/services/y" in output


def test_parse_schema_invalid(tmp_path: Path) -> None:
    doc = tmp_path / "bad.xml"
    doc.write_bytes(publish.build(metadata(Flavour.OASIS_2), None).replace(b"<cbc:SMPVersionID>2.0</cbc:SMPVersionID>",
                                                                        b""))
    code, output = _run(str(doc), "--xsd")
    assert code != 0 and "SMP_SCHEMA_INVALID" in output


def test_cache_clear(tmp_path: Path) -> None:
    import asyncio

    from gateway.config import load_settings
    from gateway.db.engine import create_engine
    from gateway.db.migrate import upgrade
    from gateway.smp_cache_store import DbSmpCache
    from smp_client.cache import CacheEntry

    env = {"GATEWAY_DATABASE__URL": f"sqlite:///{tmp_path / 'g.db'}", "GATEWAY_NODE__DATA_DIR": str(tmp_path)}

    async def seed() -> None:
        engine = create_engine(load_settings(environ=env, default_file=False))
        await upgrade(engine)
        for key, net in (("a", "oots"), ("b", "peppol")):
            await DbSmpCache(engine).put(CacheEntry(key, net, "p", False, None, "SML_NXDOMAIN", "x", 0, 1))
        await engine.dispose()

    asyncio.run(seed())
    result = CliRunner().invoke(cli, ["smp", "cache-clear", "--network", "oots", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"network": "oots", "removed": 1}
    result = CliRunner().invoke(cli, ["smp", "cache-clear"], env=env)
    assert "removed 1" in result.output
