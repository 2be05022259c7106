"""PModes: loading and validation (errors name file, key, problem), selection, agreements, the versioned
database store and the ``gateway-node pmode`` commands."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509

from as4.errors import EbmsError
from as4.model import (
    CollaborationInfo,
    MessageInfo,
    Party,
    PartyId,
    PartyInfo,
    Service,
    UserMessage,
)
from as4.pmode import PModeError, agreement_for, load_pmode_document, load_pmode_file, select_pmode
from gateway.as4_pmodes import PModeStore
from gateway.cli.main import cli
from gateway.runtime import Node
from pki.devpki.operations import init_pki, issue_partner
from pki.keys.port import KeyPurpose
from pki.xml.keyinfo import KeyInfoData, KeyResolutionError
from tests.conftest import make_settings

ROLE_I = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator"
ROLE_R = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder"
UNREG = "urn:oasis:names:tc:ebcore:partyid-type:unregistered"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | x509.Certificate]:
    root = tmp_path_factory.mktemp("pki")
    init_pki(root / "ca", node_id="LV-GW")
    ee = issue_partner(root / "ca", root / "ee", partner="EE-AP", purpose=KeyPurpose.AS4_SIGNING, family="ed25519")
    ee_enc = issue_partner(root / "ca", root / "ee", partner="EE-AP", purpose=KeyPurpose.AS4_ENCRYPTION,
                           family="x25519")
    fi = issue_partner(root / "ca", root / "fi", partner="FI-AP", purpose=KeyPurpose.AS4_SIGNING, family="ed25519")
    return {"ee_chain": ee.chain_file, "ee_cert": ee.certificate, "ee_enc": ee_enc.cert_file,
            "fi_chain": fi.chain_file, "fi_cert": fi.certificate, "trust": root / "ca" / "trust"}


def _pmode_table(**overrides: str) -> str:
    keys = {
        "id": '"ee-oots"',
        "profile": '"edelivery-2.0"',
        "action": '"ExecuteQueryRequest"',
        "endpoint": '"https://ap.ee.example/as4"',
        "initiator": f'{{ party_id = "EE-AP", party_id_type = "{UNREG}", role = "{ROLE_I}" }}',
        "responder": f'{{ party_id = "LV-GW", party_id_type = "{UNREG}", role = "{ROLE_R}" }}',
        "service": '{ value = "urn:eu:europa:ec:oots", type = "urn:oasis:names:tc:ebcore:service" }',
        "signing_certificates": '["certs/ee.pem"]',
        "encryption_certificate": '"certs/ee-enc.pem"',
        "retry": "[10, 60, 300]",
        "time_to_live_s": "3600",
        "max_payload_bytes": "1048576",
        "duplicate_detection_window_s": "86400",
    }
    keys.update(overrides)
    return "[[pmode]]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items() if v)


@pytest.fixture
def pmode_dir(tmp_path: Path, pki: dict) -> Path:
    directory = tmp_path / "pmodes"
    (directory / "certs").mkdir(parents=True)
    shutil.copy(pki["ee_chain"], directory / "certs" / "ee.pem")
    shutil.copy(pki["ee_enc"], directory / "certs" / "ee-enc.pem")
    shutil.copytree(pki["trust"], directory / "trust")
    return directory


def _write(directory: Path, text: str, name: str = "ee.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _message(*, sender: str = "EE-AP", action: str = "ExecuteQueryRequest") -> UserMessage:
    return UserMessage(
        MessageInfo(datetime(2026, 11, 23, tzinfo=UTC), "m1@ee.example"),
        PartyInfo(Party((PartyId(sender, UNREG),), ROLE_I), Party((PartyId("LV-GW", UNREG),), ROLE_R)),
        CollaborationInfo(Service("urn:eu:europa:ec:oots", "urn:oasis:names:tc:ebcore:service"), action, "c1"),
    )


# --- loading and validation -------------------------------------------------------------------------------

def test_valid_file_loads(pmode_dir: Path, pki: dict) -> None:
    second = _pmode_table(id='"fi-oots"', signing_certificates="", encryption_certificate="",
                          trust_store='"trust"', profile='"edelivery-1.15"', endpoint='"http://fi.example:8080/as4"')
    path = _write(pmode_dir, _pmode_table() + "\n" + second)
    ee, fi = load_pmode_file(path)
    assert ee.id == "ee-oots" and ee.profile.name == "edelivery-2.0"
    assert ee.signing_certificates == (pki["ee_cert"],)  # the leaf of the chain file, not the CA
    assert ee.retry == (10.0, 60.0, 300.0) and ee.time_to_live_s == 3600 and ee.max_payload_bytes == 1048576
    assert ee.initiator.party_id == "EE-AP" and ee.responder.role == ROLE_R
    assert ee.encryption_certificate is not None
    assert fi.trust_store is not None and fi.trust_store_dir == (pmode_dir / "trust").resolve()
    # the stored form is self-contained and round-trips
    assert load_pmode_document(json.loads(ee.canonical_json()), "db:ee") == ee


@pytest.mark.parametrize(("overrides", "extra", "key", "problem"), [
    ({"colour": '"blue"'}, "", "pmode[0].colour", "unknown key"),
    ({"action": ""}, "", "pmode[0].action", "missing required key"),
    ({"retry": "'x'"}, "", "pmode[0].retry", "expected a list of positive numbers (got 'x')"),
    ({"retry": "[10, -1]"}, "", "pmode[0].retry", "expected a list of positive numbers"),
    ({"time_to_live_s": '"1h"'}, "", "pmode[0].time_to_live_s", "expected an integer >= 1 (got '1h')"),
    ({"profile": '"edelivery-9"'}, "", "pmode[0].profile", "unknown AS4 profile 'edelivery-9'"),
    ({"signing_certificates": '["certs/missing.pem"]'}, "", "pmode[0].signing_certificates[0]",
     "cannot read certificate file 'certs/missing.pem'"),
    ({"signing_certificates": '["ee.toml"]'}, "", "pmode[0].signing_certificates[0]", "not a PEM certificate"),
    ({"trust_store": '"nowhere"'}, "", "pmode[0].trust_store", "trust store directory not found"),
    ({"signing_certificates": ""}, "", "pmode[0].signing_certificates", "needs signing_certificates or a trust_store"),
    ({"endpoint": '"ftp://ap.ee.example/as4"'}, "", "pmode[0].endpoint", "expected an http(s) URL"),
    ({"endpoint": '"https://"'}, "", "pmode[0].endpoint", "expected an http(s) URL"),
    ({"initiator": '{ party_id = "EE-AP" }'}, "", "pmode[0].initiator.role", "missing required key"),
    ({"service": '"oots"'}, "", "pmode[0].service", "expected a table (got 'oots')"),
    ({}, "DUP", "pmode[1].id", "duplicate id 'ee-oots' (also pmode[0])"),
])
def test_each_problem_is_named(pmode_dir: Path, overrides: dict, extra: str, key: str, problem: str) -> None:
    text = _pmode_table(**overrides) + ("\n" + _pmode_table() if extra == "DUP" else "")
    path = _write(pmode_dir, text)
    with pytest.raises(PModeError) as caught:
        load_pmode_file(path)
    assert caught.value.file == str(path) and caught.value.key == key
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{path}: {key}: ")


def test_file_level_problems(pmode_dir: Path) -> None:
    with pytest.raises(PModeError, match=r"ee\.toml: invalid TOML"):
        load_pmode_file(_write(pmode_dir, "[[pmode]\n"))
    with pytest.raises(PModeError, match=r"ee\.toml: pmode: expected at least one"):
        load_pmode_file(_write(pmode_dir, "# nothing\n"))
    with pytest.raises(PModeError, match=r"absent\.toml: cannot read"):
        load_pmode_file(pmode_dir / "absent.toml")
    assert str(PModeError("pmodes/ee.toml", "pmode[0].retry", "expected a list of positive numbers (got 'x')")) == (
        "pmodes/ee.toml: pmode[0].retry: expected a list of positive numbers (got 'x')")


# --- selection and agreements -----------------------------------------------------------------------------

def test_select_pmode_matches_or_refuses_with_ebms_0010(pmode_dir: Path) -> None:
    other = _pmode_table(id='"ee-other"', action='"ExecuteQueryResponse"')
    pmodes = load_pmode_file(_write(pmode_dir, _pmode_table() + "\n" + other))
    assert select_pmode(pmodes, _message()).id == "ee-oots"
    assert select_pmode(pmodes, _message(action="ExecuteQueryResponse")).id == "ee-other"
    with pytest.raises(EbmsError) as caught:
        select_pmode(pmodes, _message(sender="XX-AP"))
    assert caught.value.code == "EBMS:0010" and caught.value.short_description == "ProcessingModeMismatch"
    assert caught.value.ref_to_message_id == "m1@ee.example" and "'XX-AP'" in caught.value.detail


def test_agreement_resolver_accepts_only_the_pinned_certificate(pmode_dir: Path, pki: dict) -> None:
    find = agreement_for(load_pmode_file(_write(pmode_dir, _pmode_table())))
    agreement = find(_message())
    assert agreement.profile.name == "edelivery-2.0" and agreement.max_decompressed_bytes == 1048576
    assert agreement.signer_resolver(KeyInfoData(certificates=(pki["ee_cert"],))).certificate == pki["ee_cert"]
    with pytest.raises(KeyResolutionError, match="XMLDSIG_KEY_UNTRUSTED"):
        agreement.signer_resolver(KeyInfoData(certificates=(pki["fi_cert"],)))


def test_agreement_over_a_trust_store(pmode_dir: Path, pki: dict, tmp_path: Path) -> None:
    text = _pmode_table(signing_certificates="", trust_store='"trust"')
    resolver = agreement_for(load_pmode_file(_write(pmode_dir, text)))(_message()).signer_resolver
    chain = x509.load_pem_x509_certificates(Path(pki["ee_chain"]).read_bytes())
    assert resolver(KeyInfoData(certificates=tuple(chain))).certificate == pki["ee_cert"]
    # a certificate from another CA is refused
    init_pki(tmp_path / "other-ca", node_id="XX")
    stranger = issue_partner(tmp_path / "other-ca", tmp_path / "xx", partner="XX-AP",
                             purpose=KeyPurpose.AS4_SIGNING, family="ed25519")
    with pytest.raises(KeyResolutionError):
        resolver(KeyInfoData(certificates=(stranger.certificate,)))


# --- the database store -----------------------------------------------------------------------------------

def test_store_versions_and_refused_reload(pmode_dir: Path, tmp_path: Path, db_url: str) -> None:
    path = _write(pmode_dir, _pmode_table())

    async def scenario() -> None:
        node = await Node.open(make_settings(tmp_path / "data", db_url), start_audit=False)
        try:
            store, other_process = PModeStore(node.engine), PModeStore(node.engine)
            first = await store.load_file(path)
            assert first.added == ["ee-oots"]
            assert (await store.load_file(path)).unchanged == ["ee-oots"]  # same content: no new version
            assert [p.time_to_live_s for p in await other_process.active()] == [3600]

            _write(pmode_dir, _pmode_table(time_to_live_s="7200"))
            second = await store.load_file(path)
            assert second.updated == {"ee-oots": 2}
            history = await store.history("ee-oots")
            assert [(h.version, h.active) for h in history] == [(1, False), (2, True)]
            assert history[0].content["time_to_live_s"] == 3600
            # another process sees the reload without a restart
            assert [p.time_to_live_s for p in await other_process.active()] == [7200]

            _write(pmode_dir, _pmode_table(time_to_live_s="0"))
            with pytest.raises(PModeError, match="time_to_live_s"):
                await store.load_file(path)
            assert [(h.version, h.active) for h in await store.history("ee-oots")] == [(1, False), (2, True)]
            assert [p.time_to_live_s for p in await store.active()] == [7200]

            _write(pmode_dir, _pmode_table(id='"ee-renamed"'))
            third = await store.load_file(path)
            assert third.added == ["ee-renamed"] and third.removed == ["ee-oots"]
            assert [p.id for p in await other_process.active()] == ["ee-renamed"]
        finally:
            await node.close()

    asyncio.run(scenario())


def test_store_keeps_version_1_active_after_a_refused_reload(pmode_dir: Path, tmp_path: Path, db_url: str) -> None:
    path = _write(pmode_dir, _pmode_table())

    async def scenario() -> None:
        node = await Node.open(make_settings(tmp_path / "data", db_url), start_audit=False)
        try:
            store = PModeStore(node.engine)
            await store.load_file(path)
            _write(pmode_dir, _pmode_table(time_to_live_s="7200") + "\n" + _pmode_table(id='"x"', profile='"nope"'))
            with pytest.raises(PModeError, match=r"pmode\[1\]\.profile"):
                await store.load_file(path)  # the good first table is not stored either
            assert [(h.version, h.active) for h in await store.history("ee-oots")] == [(1, True)]
            assert await store.history("x") == []
        finally:
            await node.close()

    asyncio.run(scenario())


# --- the CLI ----------------------------------------------------------------------------------------------

def _run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], obj={}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _audit_events(tmp_path: Path, db_url: str) -> list[tuple[str, dict]]:
    from sqlalchemy import select

    from gateway.db.schema import audit_record

    async def read() -> list[tuple[str, dict]]:
        node = await Node.open(make_settings(tmp_path / "data", db_url), start_audit=False)
        try:
            async with node.engine.connect() as conn:
                rows = (await conn.execute(select(audit_record).order_by(audit_record.c.seq))).all()
            return [(r.event, json.loads(r.details)) for r in rows if r.event.startswith("as4.pmode.")]
        finally:
            await node.close()

    return asyncio.run(read())


def test_pmode_commands_end_to_end(pmode_dir: Path, tmp_path: Path, db_url: str) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(f'[node]\ndata_dir = "{tmp_path / "data"}"\n[database]\nurl = "{db_url}"\n', encoding="utf-8")
    path = _write(pmode_dir, _pmode_table())

    code, out, _ = _run(config, "pmode", "load", str(path), "--json")
    assert code == 0 and json.loads(out)["added"] == ["ee-oots"]
    _write(pmode_dir, _pmode_table(retry="[5]"))
    code, out, _ = _run(config, "pmode", "load", str(path))
    assert code == 0 and "ee-oots (version 2)" in out

    _write(pmode_dir, _pmode_table(retry="'x'"))
    code, _, err = _run(config, "pmode", "load", str(path))
    assert code == 1
    assert err.strip() == f"error: {path}: pmode[0].retry: expected a list of positive numbers (got 'x')"

    code, out, _ = _run(config, "pmode", "list", "--json")
    (listed,) = json.loads(out)
    assert code == 0 and listed["id"] == "ee-oots" and listed["version"] == 2 and listed["profile"] == "edelivery-2.0"
    code, out, _ = _run(config, "pmode", "list")
    assert code == 0 and out.startswith("ee-oots v2")

    code, out, _ = _run(config, "pmode", "show", "ee-oots", "--version", "1", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["version"] == 1 and not shown["active"] and shown["content"]["retry"] == [10, 60, 300]
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    assert _run(config, "pmode", "show", "nope")[0] == 1
    assert _run(config, "pmode", "show", "ee-oots", "--version", "9")[0] == 1

    events = _audit_events(tmp_path, db_url)
    assert [e for e, _ in events] == ["as4.pmode.loaded", "as4.pmode.loaded", "as4.pmode.refused"]
    assert events[2][1] == {"file": str(path), "key": "pmode[0].retry",
                            "problem": "expected a list of positive numbers (got 'x')"}
