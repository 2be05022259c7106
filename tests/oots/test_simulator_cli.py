"""``gateway-node oots simulate-common-services`` as a real process on loopback, queried by the client."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import aiohttp
from click.testing import CliRunner

from gateway.cli.main import cli
from oots.commonservices.client import CommonServicesClient
from pki.keys.files import load_certificate
from pki.trust.model import RevocationPolicy
from pki.trust.store import TrustStore

REPO = Path(__file__).resolve().parents[2]
GATEWAY_NODE = Path(sys.executable).with_name("gateway-node")


async def test_simulator_process_serves_signed_answers(tmp_path: Path) -> None:
    anchor = tmp_path / "cs.pem"
    process = await asyncio.create_subprocess_exec(
        str(GATEWAY_NODE), "oots", "simulate-common-services", "--catalogue",
        str(REPO / "config" / "oots" / "common-services.yaml"), "--port", "0", "--cert-out", str(anchor),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        base = match.group(0)
        trust = TrustStore("simulator", [load_certificate(anchor)], policy=RevocationPolicy(require_crl=False))
        async with aiohttp.ClientSession() as session:
            cs = CommonServicesClient(session, trust=trust, eb_url=f"{base}/eb", dsd_url=f"{base}/dsd")
            (requirement,) = await cs.requirements("R1", "LV")
            assert requirement.names[0].value == "Proof of birth"
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)


def test_bad_catalogue_is_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("procedures: {T2: [https://sr.example/requirements/missing]}\n")
    result = CliRunner().invoke(cli, ["oots", "simulate-common-services", "--catalogue", str(bad)], obj={})
    assert result.exit_code == 2 and "unknown requirement" in result.output
