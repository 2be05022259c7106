"""``smp serve`` as a real subprocess and ``smp lookup`` against it through dnsmasq."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization

from gateway.cli.main import cli
from pki.keys.port import KeyPurpose
from smp_client.hashing import dns_name
from tests.smp_client.dnsmasq import Dnsmasq, DnsZone, Naptr
from tests.smp_client.smpfixtures import DOC, PARTICIPANT, PROCESS, partner_endpoint, smp_keys

ZONE = "sml.cli.example"


def _publisher_dir(tmp_path: Path) -> Path:
    keys = smp_keys()
    directory = tmp_path / "pub"
    (directory / "certs").mkdir(parents=True)
    cert = partner_endpoint().certificates[0].certificate
    (directory / "certs" / "ap.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    smp_dir = keys.pki.node_dir.parent / "smp"
    (directory / "publisher.toml").write_text(f"""
signing_key_dir = "{smp_dir}"
max_age_s = 60
[[service]]
participant = "{PARTICIPANT.uri}"
document_type = "{DOC.uri}"
process = "{PROCESS.uri}"
[[service.endpoint]]
transport_profile = "bdxr-transport-ebms3-as4-v1p0"
address = "https://ap.partner.example/as4"
certificates = [{{ file = "certs/ap.pem", type_code = "signing" }}]
""", encoding="utf-8")
    return directory


def test_serve_and_lookup(tmp_path: Path, dnsmasq: Callable[[DnsZone], Dnsmasq]) -> None:
    directory = _publisher_dir(tmp_path)
    env = {**os.environ, "GATEWAY_NODE__DATA_DIR": str(tmp_path / "data")}
    node = smp_keys().pki.node
    tls = node.entries(KeyPurpose.TLS_SERVER, live_only=True)[0]
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli.main", "smp", "serve", "--dir", str(directory),
                                "--host", "localhost", "--port", "0",
                                "--tls-cert", str(node.path(tls.chain_file or tls.cert_file)),
                                "--tls-key", str(node.path(tls.key_file))],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        base = re.search(r"(https://localhost:[0-9]+)/", line)
        assert base, line + process.stderr.read().decode() if process.stderr else line
        server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(PARTICIPANT, ZONE), f"!.*!{base.group(1)}!")]))
        trust = str(smp_keys().pki.node_dir / "trust")
        for api in ("oasis-1", "oasis-2"):
            result = CliRunner().invoke(cli, [
                "smp", "lookup", PARTICIPANT.uri, "--doc-type", DOC.uri, "--process", PROCESS.uri, "--sml", ZONE,
                "--dns", f"127.0.0.1:{server.port}", "--trust", trust, "--api", api, "--tls-trust", trust, "--json"])
            assert result.exit_code == 0, result.output
            data = json.loads(result.output)
            assert data["endpoint"]["address"] == "https://ap.partner.example/as4"
            assert data["ttl_s"] == 60
        missing = CliRunner().invoke(cli, [
            "smp", "lookup", "iso6523-actorid-upis::0088:000", "--doc-type", DOC.uri, "--sml", ZONE,
            "--dns", f"127.0.0.1:{server.port}", "--trust", trust, "--allow-http"])
        assert missing.exit_code != 0
        assert "SML_" in missing.output
    finally:
        process.terminate()
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_serve_bad_config(tmp_path: Path) -> None:
    (tmp_path / "publisher.toml").write_text("[[service]]\nparticipant = 'nope'\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["smp", "serve", "--dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "SMP_PUBLISHER_CONFIG" in result.output
