"""``gateway-node eidas metadata`` and ``eidas check-response`` through the real command line."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from eidas_node.metadata import build_idp_metadata
from eidas_node.saml import LOA_HIGH, MD, q
from eidas_node.schema import SamlSchema
from eidas_node.simulator.keys import make_key
from eidas_node.simulator.responses import Faults, ProxyService, RequestInfo, build_response
from gateway.cli.main import cli
from pki.xml.parser import parse_xml
from tests.eidas_node.conftest import NOW, USER

PUBLIC = "https://node.example.lv"


def _run(tmp_path: Path, *args: str):  # type: ignore[no-untyped-def]
    config = tmp_path / "gateway.toml"
    config.write_text(f'[node]\ndata_dir = "{tmp_path / "data"}"\n[eidas]\npublic_url = "{PUBLIC}"\n')
    return CliRunner().invoke(cli, ["--config", str(config), *args], obj={}, catch_exceptions=False)


def test_metadata_printed_signed_and_valid(tmp_path: Path) -> None:
    assert _run(tmp_path, "eidas", "metadata").exit_code == 2  # no PKI yet: a configuration error
    assert _run(tmp_path, "pki", "init").exit_code == 0
    result = _run(tmp_path, "eidas", "metadata")
    assert result.exit_code == 0, result.output
    root = parse_xml(result.output.encode()).getroot()
    assert SamlSchema().errors(root) == []
    assert root.get("entityID") == f"{PUBLIC}/eidas/metadata"
    assert root.find(f"{q(MD, 'SPSSODescriptor')}/{q(MD, 'AssertionConsumerService')}").get(
        "Location") == f"{PUBLIC}/eidas/acs"
    idp = _run(tmp_path, "eidas", "idp-metadata")
    assert idp.exit_code == 0, idp.output
    idp_root = parse_xml(idp.output.encode()).getroot()
    assert SamlSchema().errors(idp_root) == []
    assert idp_root.find(f"{q(MD, 'IDPSSODescriptor')}/{q(MD, 'SingleSignOnService')}").get(
        "Location") == f"{PUBLIC}/eidas/idp/sso"


@pytest.fixture
def saved(tmp_path: Path) -> dict[str, Path]:
    idp_key, sp_key = make_key("DE proxy", "ec", NOW), make_key("sp", "rsa", NOW)
    entity = "https://eidas.de.example/metadata"
    files = {"md": tmp_path / "de.xml", "key": tmp_path / "sp.pem", "anchor": tmp_path / "de.pem"}
    files["md"].write_bytes(build_idp_metadata(
        entity_id=entity, sso_url="https://eidas.de.example/sso", country="DE", signer=idp_key.signer,
        signing_certificates=[idp_key.certificate], encryption_certificates=[], now=NOW, loas=[LOA_HIGH]))
    files["key"].write_bytes(sp_key.private_pem)
    from cryptography.hazmat.primitives import serialization

    files["anchor"].write_bytes(idp_key.certificate.public_bytes(serialization.Encoding.PEM))
    info = RequestInfo("_req-cli", f"{PUBLIC}/eidas/acs", f"{PUBLIC}/eidas/metadata", LOA_HIGH)
    for name, faults in (("good", Faults()), ("bad", Faults(audience="https://other.example/"))):
        files[name] = tmp_path / f"{name}.xml"
        files[name].write_bytes(build_response(ProxyService(entity, "DE", idp_key.signer), info, USER,
                                               sp_key.certificate, NOW, faults))
    return files


def _check(tmp_path: Path, files: dict[str, Path], which: str, *extra: str):  # type: ignore[no-untyped-def]
    return _run(tmp_path, "eidas", "check-response", str(files[which]), "--idp-metadata", str(files["md"]),
                "--sp-key", str(files["key"]), "--now", (NOW + timedelta(seconds=5)).isoformat(), *extra)


def test_check_response_accepts_and_reports_every_check(tmp_path: Path, saved: dict[str, Path]) -> None:
    result = _check(tmp_path, saved, "good", "--request-id", "_req-cli", "--idp-anchor", str(saved["anchor"]),
                    "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] and data["request_id_checked"] and data["metadata_trust"] == "anchor"
    assert {c["result"] for c in data["checks"]} == {"passed"} and len(data["checks"]) == 21
    assert data["attributes"]["http://eidas.europa.eu/attributes/naturalperson/CurrentFamilyName"] == ["Mustermann"]
    human = _check(tmp_path, saved, "good")
    assert human.exit_code == 0 and "response acceptable" in human.output and "not correlated" in human.output


def test_check_response_refuses(tmp_path: Path, saved: dict[str, Path]) -> None:
    bad = _check(tmp_path, saved, "bad", "--json")
    assert bad.exit_code == 1
    assert json.loads(bad.output)["failure"]["code"] == "EIDAS_AUDIENCE_MISMATCH"
    wrong_request = _check(tmp_path, saved, "good", "--request-id", "_other")
    assert wrong_request.exit_code == 1 and "EIDAS_IN_RESPONSE_TO" in wrong_request.output
    late = _run(tmp_path, "eidas", "check-response", str(saved["good"]), "--idp-metadata", str(saved["md"]),
                "--sp-key", str(saved["key"]), "--now", (NOW + timedelta(hours=1)).isoformat())
    assert late.exit_code == 1 and "EIDAS_EXPIRED" in late.output
    untrusted = make_key("x", "ec", NOW)
    from cryptography.hazmat.primitives import serialization

    (tmp_path / "x.pem").write_bytes(untrusted.certificate.public_bytes(serialization.Encoding.PEM))
    refused = _check(tmp_path, saved, "good", "--idp-anchor", str(tmp_path / "x.pem"))
    assert refused.exit_code == 1 and "EIDAS_METADATA_SIGNATURE" in refused.output


def test_check_response_bad_arguments(tmp_path: Path, saved: dict[str, Path]) -> None:
    bad_time = _run(tmp_path, "eidas", "check-response", str(saved["good"]), "--idp-metadata", str(saved["md"]),
                    "--sp-key", str(saved["key"]), "--now", "yesterday")
    assert bad_time.exit_code == 2 and "--now" in bad_time.output
    bad_key = _run(tmp_path, "eidas", "check-response", str(saved["good"]), "--idp-metadata", str(saved["md"]),
                   "--sp-key", str(saved["md"]))
    assert bad_key.exit_code == 2 and "--sp-key" in bad_key.output
