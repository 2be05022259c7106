"""`gateway-node xml sign|verify` on real files, with keys from the dev PKI and its trust store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli.main import cli
from pki.devpki.operations import init_pki, issue_partner, revoke

DOCUMENT = b'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="_m1" entityID="https://x"/>'


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("xmlcli")
    init_pki(base / "pki", node_id="LV-TEST")
    partner = issue_partner(base / "pki", base / "partner", partner="DE-PROXY", purpose="saml-signing", family="ec")
    stranger_root = base / "other"
    init_pki(stranger_root, node_id="XX-OTHER")
    stranger = issue_partner(stranger_root, base / "stranger", partner="XX", purpose="saml-signing", family="ec")
    revoked = issue_partner(base / "pki", base / "revoked", partner="REVOKED", purpose="saml-signing", family="ec")
    revoke(base / "pki", revoked.certificate.serial_number, reason="keyCompromise")
    return {"base": base, "trust": base / "pki" / "trust", "key": partner.key_file, "cert": partner.cert_file,
            "stranger_key": stranger.key_file, "stranger_cert": stranger.cert_file,
            "revoked_key": revoked.key_file, "revoked_cert": revoked.cert_file}


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), obj={}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _signed(pki: dict[str, Path], tmp_path: Path, key: str = "key", cert: str = "cert") -> Path:
    source = tmp_path / "doc.xml"
    source.write_bytes(DOCUMENT)
    out = tmp_path / f"signed-{key}.xml"
    code, _, err = _run("xml", "sign", str(source), "--key", str(pki[key]), "--cert", str(pki[cert]),
                        "--out", str(out))
    assert code == 0, err
    return out


def test_sign_then_verify_with_certificate_and_with_trust_store(pki, tmp_path: Path) -> None:
    signed = _signed(pki, tmp_path)
    code, out, _ = _run("xml", "verify", str(signed), "--cert", str(pki["cert"]), "--json")
    report = json.loads(out)
    assert code == 0 and report["valid"]
    assert report["signatures"][0]["signature_algorithm"].endswith("ecdsa-sha256")
    assert "DE-PROXY" in report["signatures"][0]["signed_by"]["subject"]
    assert report["signatures"][0]["references"][0]["element"] == "/md:EntityDescriptor"

    code, out, _ = _run("xml", "verify", str(signed), "--trust", str(pki["trust"]), "--policy", "eidas-1.3")
    assert code == 0 and "valid" in out and "DE-PROXY" in out


def test_tampered_untrusted_revoked_and_unsigned_files_fail(pki, tmp_path: Path) -> None:
    signed = _signed(pki, tmp_path)
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(signed.read_bytes().replace(b"https://x", b"https://y"))
    code, out, _ = _run("xml", "verify", str(tampered), "--cert", str(pki["cert"]), "--json")
    assert code == 1 and json.loads(out)["signatures"][0]["code"] == "XMLDSIG_DIGEST_MISMATCH"

    foreign = _signed(pki, tmp_path, "stranger_key", "stranger_cert")
    code, out, _ = _run("xml", "verify", str(foreign), "--trust", str(pki["trust"]), "--json")
    assert code == 1 and json.loads(out)["signatures"][0]["code"] == "PKI_CERT_UNTRUSTED"

    revoked = _signed(pki, tmp_path, "revoked_key", "revoked_cert")
    code, out, _ = _run("xml", "verify", str(revoked), "--trust", str(pki["trust"]), "--json")
    assert code == 1 and json.loads(out)["signatures"][0]["code"] == "PKI_CERT_REVOKED"

    code, out, _ = _run("xml", "verify", str(foreign), "--cert", str(pki["cert"]), "--json")
    assert code == 1 and json.loads(out)["signatures"][0]["code"] == "XMLDSIG_KEY_MISMATCH"

    unsigned = tmp_path / "unsigned.xml"
    unsigned.write_bytes(DOCUMENT)
    code, out, _ = _run("xml", "verify", str(unsigned), "--cert", str(pki["cert"]), "--json")
    assert code == 1 and json.loads(out)["signatures"][0]["code"] == "XMLDSIG_NO_SIGNATURE"


def test_refused_algorithm_and_bad_input(pki, tmp_path: Path) -> None:
    signed = _signed(pki, tmp_path)
    code, out, _ = _run("xml", "verify", str(signed), "--cert", str(pki["cert"]), "--policy", "edelivery-as4-1.15",
                        "--json")
    assert code == 1 and json.loads(out)["signatures"][0]["code"] == "XMLDSIG_ALGORITHM_REFUSED"

    dtd = tmp_path / "dtd.xml"
    dtd.write_bytes(b'<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>')
    code, _, err = _run("xml", "verify", str(dtd), "--cert", str(pki["cert"]))
    assert code == 1 and "XML_DTD_FORBIDDEN" in err

    code, _, err = _run("xml", "verify", str(signed))
    assert code == 2 and "exactly one of --cert or --trust" in err
