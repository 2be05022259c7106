"""``gateway-node pki …`` through click, as operators and the demo run it (the group is invoked directly)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gateway.cli.pki_cmd import pki
from pki.keys.audit import audit_public_keys
from pki.keys.file_store import FileKeyStore
from pki.keys.port import KeyPurpose
from pki.trust import TrustStore
from tests.pki.pkihelpers import NODE_ID, template_pki, write_config


def _run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(pki, list(args), obj={"config": str(config)}, catch_exceptions=False)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def config(tmp_path: Path, data_dir: Path) -> Path:
    return write_config(tmp_path, data_dir)


@pytest.fixture
def initialised(config: Path, data_dir: Path) -> Path:
    """A PKI where `pki init` would put it (a copy of the shared one: same files, no key generation)."""
    shutil.copytree(template_pki(), data_dir / "pki")
    return data_dir / "pki"


def test_init_show_and_refusal_to_overwrite(config: Path, data_dir: Path) -> None:
    result = _run(config, "init", "--json", "--hostname", "gw.example.lv")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["directory"] == str(data_dir / "pki") and len(data["keys"]) == 12
    assert data["adopted_audit_key"] is None
    assert {k["subject"].split(",")[0] for k in data["keys"]} >= {f"CN={NODE_ID} as4-encryption x25519"}

    again = _run(config, "init")
    assert again.exit_code == 1 and "a PKI already exists here (use --force to replace it)" in again.stderr

    shown = _run(config, "show", "--json")
    assert shown.exit_code == 0
    keys = json.loads(shown.stdout)["keys"]
    assert {(k["purpose"], k["family"]) for k in keys} >= {("as4-signing", "ed25519"), ("tls-server", "ec")}
    assert all(k["status"] == "active" and 390 <= k["days_left"] <= 730 for k in keys)

    human = _run(config, "show")
    assert human.exit_code == 0 and "key id" in human.stdout and "audit-signing" in human.stdout

    forced = _run(config, "init", "--force", "--node-id", "LV-GW-OTHER", "--json")
    assert forced.exit_code == 0
    assert all("LV-GW-OTHER" in k["subject"] for k in json.loads(forced.stdout)["keys"])


def test_init_in_another_directory_adopts_the_existing_audit_key(config: Path, data_dir: Path,
                                                                 tmp_path: Path) -> None:
    from gateway.audit.keys import load_or_create

    existing = load_or_create(data_dir / "keys")  # the key the audit log already signs tree heads with
    target = tmp_path / "elsewhere"
    result = _run(config, "init", "--dir", str(target), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["adopted_audit_key"] == str(data_dir / "keys" / "audit-signing.pem")
    assert list(audit_public_keys(FileKeyStore(target))) == [existing.key_id]


def test_issue_for_a_partner(config: Path, initialised: Path, tmp_path: Path) -> None:
    out = tmp_path / "partner"
    result = _run(config, "issue", "--purpose", "as4-signing", "--name", "EE-AP", "--out", str(out),
                  "--family", "ed25519", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert Path(data["key_path"]).stat().st_mode & 0o777 == 0o600
    leaf, inter = FileKeyStore(out).signer(KeyPurpose.AS4_SIGNING).chain
    assert data["subject"] == leaf.subject.rfc4514_string()
    assert TrustStore.from_directory(initialised / "trust").validate(leaf, [inter], purpose="as4-signing")

    human = _run(config, "issue", "--purpose", "tls-server", "--name", "EE-AP", "--out", str(out),
                 "--hostname", "ap.ee.test")
    assert human.exit_code == 0 and "issued tls-server-ec-" in human.stdout

    wrong = _run(config, "issue", "--purpose", "as4-encryption", "--name", "EE-AP", "--out", str(out),
                 "--family", "ed25519")
    assert wrong.exit_code == 1 and "as4-encryption keys cannot be ed25519" in wrong.stderr
    unknown = _run(config, "issue", "--purpose", "coffee", "--name", "X", "--out", str(out))
    assert unknown.exit_code == 2


def test_rollover_and_revoke(config: Path, initialised: Path) -> None:
    before = {k["key_id"] for k in json.loads(_run(config, "show", "--json").stdout)["keys"]
              if k["purpose"] == "as4-signing"}
    result = _run(config, "rollover", "as4-signing", "--family", "ed25519", "--json")
    assert result.exit_code == 0, result.output
    (new,) = json.loads(result.stdout)["keys"]
    keys = {k["key_id"]: k for k in json.loads(_run(config, "show", "--json").stdout)["keys"]}
    assert keys[new["key_id"]]["status"] == "active"
    retired = [k for k in before if keys[k]["status"] == "retired"]
    assert len(retired) == 1 and keys[retired[0]]["family"] == "ed25519"

    revoked = _run(config, "revoke", keys[retired[0]]["serial"], "--reason", "superseded", "--json")
    assert revoked.exit_code == 0, revoked.output
    assert json.loads(revoked.stdout)["key_id"] == retired[0]
    keys = {k["key_id"]: k for k in json.loads(_run(config, "show", "--json").stdout)["keys"]}
    assert keys[retired[0]]["status"] == "revoked"
    assert _run(config, "revoke", "zz").exit_code == 1
    assert "was not issued" in _run(config, "revoke", "0xabc").stderr
    assert _run(config, "crl", "--json").exit_code == 0


def test_expiry_report(config: Path, initialised: Path, data_dir: Path) -> None:
    result = _run(config, "expiry", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "ok"
    whats = {item["what"] for item in report["items"]}
    assert {"key:as4-signing", "anchor:dev", "intermediate:dev", "crl:dev"} <= whats

    # <data_dir>/trust is read too, with its stores named by their place.
    shutil.copytree(initialised / "trust", data_dir / "trust" / "as4" / "oots")
    report = json.loads(_run(config, "expiry", "--json").stdout)
    assert "anchor:as4:oots" in {item["what"] for item in report["items"]}

    warned = _run(config, "expiry", "--json", "--warning-days", "1000", "--fail-on", "warning")
    assert warned.exit_code == 1 and json.loads(warned.stdout)["status"] == "warning"
    assert _run(config, "expiry", "--warning-days", "1000", "--fail-on", "critical").exit_code == 0
    human = _run(config, "expiry")
    assert human.exit_code == 0 and "severity" in human.stdout


def test_commands_fail_cleanly_without_a_pki(config: Path, tmp_path: Path) -> None:
    shown = _run(config, "show")
    assert shown.exit_code == 1 and "key manifest not found (run `gateway-node pki init`?)" in shown.stderr
    rolled = _run(config, "rollover", "smp-signing")
    assert rolled.exit_code == 1 and "no dev PKI here" in rolled.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[node]\nnope = 1\n")
    assert _run(bad, "show").exit_code == 2
