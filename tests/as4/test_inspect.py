"""`gateway-node as4 inspect` on the phase4 vectors and on messages our pipeline builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization

from as4.pipeline import build_outbound
from gateway.cli.main import cli
from pki.keys.port import KeyPurpose
from tests.as4.secfixtures import ALL_PROFILES, pki
from tests.as4.test_pipeline import _payloads, _user_message
from tests.conftest import VECTORS_DIR

VECTORS = VECTORS_DIR / "as4-phase4-testfiles"


def _inspect(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["as4", "inspect", *args, "--json"], obj={}, catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize(("name", "code"), [
    ("NoResponder.xml", "EBMS:0009"), ("TwoUserMessages.xml", "EBMS:0003"), ("UserMessageNoPartyID.xml", "EBMS:0009"),
    ("TestReceipt12.xml", None), ("ErrorMessage.xml", None),
])
def test_vectors_without_trust(name: str, code: str | None) -> None:
    exit_code, report = _inspect(str(VECTORS / name))
    assert (report["ebms_error"] or {}).get("code") == code
    assert exit_code == (1 if code else 0)


@pytest.mark.parametrize("name", ["WrongSigningAlgorithm.xml", "WrongSigningDigestAlgorithm.xml"])
def test_wrong_algorithm_vectors_with_trust(name: str) -> None:
    _, report = _inspect(str(VECTORS / name), "--trust", str(pki().node_dir / "trust"))
    assert report["ebms_error"]["code"] == "EBMS:0101"
    assert report["signatures"][0]["code"] == "XMLDSIG_ALGORITHM_REFUSED"


def _saved_request(tmp_path: Path, tamper=None) -> Path:
    keys = pki()
    profile = ALL_PROFILES[0]
    outbound = build_outbound(_user_message(profile), _payloads(), profile, signer=keys.signer(keys.partner, profile),
                              recipient_certificate=keys.encryption_cert(keys.node, profile))
    body = b"".join(outbound.body)
    if tamper:
        body = tamper(body)
    path = tmp_path / "request.http"
    path.write_bytes(f"Content-Type: {outbound.content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body)
    return path


def _key_files(tmp_path: Path) -> tuple[Path, Path]:
    keys = pki()
    signer = keys.signer(keys.partner, ALL_PROFILES[0])
    cert = tmp_path / "partner.pem"
    cert.write_bytes(signer.certificate.public_bytes(serialization.Encoding.PEM))
    recipient = keys.encryption_cert(keys.node, ALL_PROFILES[0])
    entry = keys.node.find_entry(KeyPurpose.AS4_ENCRYPTION, certificate=recipient)
    return cert, keys.node.path(entry.key_file)


def test_our_message_inspected_verified_and_decrypted(tmp_path: Path) -> None:
    cert, key = _key_files(tmp_path)
    exit_code, report = _inspect(str(_saved_request(tmp_path)), "--cert", str(cert), "--decrypt-key", str(key))
    assert exit_code == 0 and report["ebms_error"] is None and report["form"] == "mime"
    assert report["message"]["kind"] == "UserMessage"
    assert report["message"]["collaboration_info"]["action"] == "ExecuteQueryRequest"
    assert {p["content_id"] for p in report["parts"]} == {"query@partner.test", "scan@partner.test"}
    assert report["signatures"][0]["verified"] is True
    assert len(report["signatures"][0]["verified_references"]) == 4  # Messaging, Body, two parts
    assert report["decrypted_parts"]["scan@partner.test"]["mime_type"] == "application/pdf"
    assert any(item.get("key_transport_or_wrap", "").endswith("rsa-oaep") for item in report["encryption"])


def test_tampered_message_reports_the_receivers_error(tmp_path: Path) -> None:
    cert, key = _key_files(tmp_path)
    path = _saved_request(tmp_path, lambda body: body.replace(b"ExecuteQueryRequest", b"ExecuteQueryRequesT"))
    exit_code, report = _inspect(str(path), "--cert", str(cert), "--decrypt-key", str(key))
    assert exit_code == 1 and report["ebms_error"]["code"] == "EBMS:0101"


def test_messaging_fragment(tmp_path: Path) -> None:
    source = (VECTORS / "NoResponder.xml").read_bytes()
    start, end = source.index(b"<eb:Messaging"), source.index(b"</eb:Messaging>") + len(b"</eb:Messaging>")
    fragment = tmp_path / "fragment.xml"
    namespaces = (b' xmlns:eb="http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"'
                  b' xmlns:S12="http://www.w3.org/2003/05/soap-envelope"')
    fragment.write_bytes(source[start:end].replace(b"<eb:Messaging", b"<eb:Messaging" + namespaces, 1))
    _, report = _inspect(str(fragment))
    assert report["form"] == "messaging-fragment"
    assert report["ebms_error"]["code"] == "EBMS:0009"  # the fragment's verdict, as for the whole envelope
