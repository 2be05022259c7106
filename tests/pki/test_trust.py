"""Trust stores: path validation to configured anchors, validity, key usage, CRLs and their cache, named stores."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from pki.devpki import issue_partner, revoke
from pki.devpki.authority import CertificateAuthority, name
from pki.devpki.profiles import profile_for
from pki.keys.file_store import FileKeyStore
from pki.keys.port import KeyPurpose
from pki.trust import (
    EIDAS_METADATA_SIGNING,
    PKI_CERT_EXPIRED,
    PKI_CERT_KEY_USAGE,
    PKI_CERT_NOT_YET_VALID,
    PKI_CERT_REVOKED,
    PKI_CERT_UNTRUSTED,
    PKI_CRL_MISSING,
    PKI_CRL_STALE,
    PKI_TRUST_PURPOSE,
    CertificateRejected,
    RevocationPolicy,
    TrustStore,
    TrustStoreError,
    TrustStoreNotFound,
    TrustStores,
)
from tests.pki.pkihelpers import chain_with_short_intermediate, copy_pki, foreign_chain, now


@pytest.fixture
def pki_dir(tmp_path: Path) -> Path:
    return copy_pki(tmp_path / "pki")


@pytest.fixture
def keys(pki_dir: Path) -> FileKeyStore:
    return FileKeyStore(pki_dir)


@pytest.fixture
def trust(pki_dir: Path) -> TrustStore:
    return TrustStore.from_directory(pki_dir / "trust", name="dev")


def _chain(keys: FileKeyStore, purpose: KeyPurpose, family: str | None = None) -> tuple[x509.Certificate, ...]:
    entries = [e for e in keys.entries(purpose) if family is None or e.family == family]
    return keys.chain(entries[0])


def _rejected(store: TrustStore, leaf: x509.Certificate, rest: tuple[x509.Certificate, ...] | list, **kw) -> str:  # type: ignore[type-arg,no-untyped-def]
    with pytest.raises(CertificateRejected) as caught:
        store.validate(leaf, rest, **kw)
    return caught.value.code


def test_valid_path(keys: FileKeyStore, trust: TrustStore) -> None:
    leaf, inter = _chain(keys, KeyPurpose.AS4_SIGNING, "ed25519")
    path = trust.validate(leaf, [inter], purpose=KeyPurpose.AS4_SIGNING)
    assert path.chain == (leaf, inter, trust.anchors[0]) and path.leaf == leaf and path.anchor == trust.anchors[0]
    assert path.store == "dev" and path.purpose == "as4-signing" and path.warnings == []
    assert path.public_key == leaf.public_key()


def test_intermediates_may_come_from_the_message_only(pki_dir: Path, keys: FileKeyStore) -> None:
    shutil.rmtree(pki_dir / "trust" / "intermediates")
    store = TrustStore.from_directory(pki_dir / "trust")
    leaf, inter = _chain(keys, KeyPurpose.SMP_SIGNING)
    assert len(store.validate(leaf, [inter], purpose=KeyPurpose.SMP_SIGNING).chain) == 3
    assert _rejected(store, leaf, [], purpose=KeyPurpose.SMP_SIGNING) == PKI_CERT_UNTRUSTED


def test_untrusted_anchor(trust: TrustStore) -> None:
    _, leaf, _ = foreign_chain()
    with pytest.raises(CertificateRejected, match="does not chain to an anchor of trust store 'dev'") as caught:
        trust.validate(leaf, purpose=KeyPurpose.AS4_SIGNING)
    assert caught.value.code == PKI_CERT_UNTRUSTED and "Other Country CA leaf" in (caught.value.subject or "")


def test_a_certificate_in_the_message_never_creates_trust(trust: TrustStore) -> None:
    root, leaf, _ = foreign_chain()
    # Sending the foreign root along does not help: only configured anchors count.
    assert _rejected(trust, leaf, [root.certificate], purpose=KeyPurpose.AS4_SIGNING) == PKI_CERT_UNTRUSTED


def test_expired_and_not_yet_valid(keys: FileKeyStore, trust: TrustStore) -> None:
    leaf, inter = _chain(keys, KeyPurpose.AS4_SIGNING, "rsa")
    late = leaf.not_valid_after_utc + timedelta(seconds=1)
    early = leaf.not_valid_before_utc - timedelta(seconds=1)
    assert _rejected(trust, leaf, [inter], purpose=KeyPurpose.AS4_SIGNING, at=late) == PKI_CERT_EXPIRED
    assert _rejected(trust, leaf, [inter], purpose=KeyPurpose.AS4_SIGNING, at=early) == PKI_CERT_NOT_YET_VALID


def test_expired_partner_certificate_issued_in_the_past(pki_dir: Path, tmp_path: Path, trust: TrustStore) -> None:
    issued = issue_partner(pki_dir, tmp_path / "old", partner="OLD", purpose=KeyPurpose.AS4_SIGNING, family="ec",
                           days=10, now=now() - timedelta(days=20))
    with pytest.raises(CertificateRejected, match="expired at") as caught:
        trust.validate(issued.certificate, purpose=KeyPurpose.AS4_SIGNING)
    assert caught.value.code == PKI_CERT_EXPIRED


def test_expired_intermediate_is_named(tmp_path: Path) -> None:
    root, inter, leaf = chain_with_short_intermediate(intermediate_days=30)
    store = TrustStore("short", [root], policy=RevocationPolicy(require_crl=False))
    assert store.validate(leaf, [inter], purpose=KeyPurpose.AS4_SIGNING).warnings
    with pytest.raises(CertificateRejected, match=r"issuer CN=Short Intermediate.* expired at") as caught:
        store.validate(leaf, [inter], purpose=KeyPurpose.AS4_SIGNING, at=now() + timedelta(days=60))
    assert caught.value.code == PKI_CERT_EXPIRED


def test_revoked_via_crl(pki_dir: Path, keys: FileKeyStore, trust: TrustStore) -> None:
    leaf, inter = _chain(keys, KeyPurpose.SAML_SIGNING, "ec")
    before_revocation = now()
    revoke(pki_dir, leaf.serial_number, now=before_revocation + timedelta(hours=1))
    trust.crls.refresh()
    with pytest.raises(CertificateRejected, match="was revoked at") as caught:
        trust.validate(leaf, [inter], purpose=KeyPurpose.SAML_SIGNING, at=before_revocation + timedelta(hours=2))
    assert caught.value.code == PKI_CERT_REVOKED
    # A signature made before an ordinary revocation still validates at its signing time ...
    assert trust.validate(leaf, [inter], purpose=KeyPurpose.SAML_SIGNING, at=before_revocation)


def test_key_compromise_reaches_back(pki_dir: Path, keys: FileKeyStore, trust: TrustStore) -> None:
    leaf, inter = _chain(keys, KeyPurpose.SAML_SIGNING, "rsa")
    revoke(pki_dir, leaf.serial_number, reason="keyCompromise", now=now() + timedelta(hours=1))
    trust.crls.refresh()
    # ... but not once the key was compromised: nothing it ever signed is trusted.
    assert _rejected(trust, leaf, [inter], purpose=KeyPurpose.SAML_SIGNING, at=now()) == PKI_CERT_REVOKED


def test_revoked_intermediate(pki_dir: Path, keys: FileKeyStore, trust: TrustStore) -> None:
    leaf, inter = _chain(keys, KeyPurpose.TLS_CLIENT)
    revoke(pki_dir, inter.serial_number, reason="cACompromise")
    trust.crls.refresh()
    with pytest.raises(CertificateRejected, match="Dev Issuing CA") as caught:
        trust.validate(leaf, [inter], purpose=KeyPurpose.TLS_CLIENT)
    assert caught.value.code == PKI_CERT_REVOKED


@pytest.mark.parametrize(("purpose", "family", "as_purpose", "why"), [
    (KeyPurpose.AS4_SIGNING, "rsa", KeyPurpose.AS4_ENCRYPTION, "KeyUsage allows none of key_agreement"),
    (KeyPurpose.AS4_ENCRYPTION, "rsa", KeyPurpose.AS4_SIGNING, "KeyUsage allows none of content_commitment"),
    (KeyPurpose.AS4_ENCRYPTION, "x25519", KeyPurpose.AS4_SIGNING, "its X25519 key cannot serve as4-signing"),
    (KeyPurpose.TLS_CLIENT, "ec", KeyPurpose.TLS_SERVER, "ExtendedKeyUsage lacks serverAuth"),
    (KeyPurpose.TLS_SERVER, "ec", KeyPurpose.TLS_CLIENT, "ExtendedKeyUsage lacks clientAuth"),
    (KeyPurpose.SAML_SIGNING, "ec", KeyPurpose.TLS_SERVER, "ExtendedKeyUsage lacks serverAuth"),
    (KeyPurpose.AUDIT_SIGNING, "ed25519", KeyPurpose.TLS_CLIENT, "its Ed25519 key cannot serve tls-client"),
])
def test_wrong_key_usage(keys: FileKeyStore, trust: TrustStore, purpose: KeyPurpose, family: str,
                         as_purpose: KeyPurpose, why: str) -> None:
    leaf, inter = _chain(keys, purpose, family)
    with pytest.raises(CertificateRejected, match=why) as caught:
        trust.validate(leaf, [inter], purpose=as_purpose)
    assert caught.value.code == PKI_CERT_KEY_USAGE


def test_crl_cache_is_reused_until_the_files_change(pki_dir: Path, keys: FileKeyStore, trust: TrustStore) -> None:
    leaf, inter = _chain(keys, KeyPurpose.AS4_SIGNING, "rsa")
    for _ in range(5):
        trust.validate(leaf, [inter], purpose=KeyPurpose.AS4_SIGNING)
    assert trust.crls.loads == 2  # root and intermediate CRL, parsed once
    trust.crls.refresh()
    assert trust.crls.loads == 2  # unchanged files are not parsed again
    other_leaf, other_inter = _chain(keys, KeyPurpose.AS4_SIGNING, "ed25519")
    revoke(pki_dir, other_leaf.serial_number)
    trust.validate(leaf, [inter], purpose=KeyPurpose.AS4_SIGNING)
    assert trust.crls.loads == 2  # within recheck_after the held CRLs are used as they are
    trust.crls.refresh()
    assert trust.crls.loads == 4
    assert _rejected(trust, other_leaf, [other_inter], purpose=KeyPurpose.AS4_SIGNING) == PKI_CERT_REVOKED


def test_stale_crl_policy(pki_dir: Path, keys: FileKeyStore) -> None:
    leaf, inter = _chain(keys, KeyPurpose.AS4_SIGNING, "rsa")
    strict = TrustStore.from_directory(pki_dir / "trust")
    later = now() + timedelta(days=45)  # the dev CRLs are due after 30 days; the leaf lives 2 years
    with pytest.raises(CertificateRejected, match="was due for renewal") as caught:
        strict.validate(leaf, [inter], purpose=KeyPurpose.AS4_SIGNING, at=later)
    assert caught.value.code == PKI_CRL_STALE

    lenient = TrustStore.from_directory(pki_dir / "trust", policy=RevocationPolicy(require_crl=False))
    path = lenient.validate(leaf, [inter], purpose=KeyPurpose.AS4_SIGNING, at=later)
    assert [c.status for c in path.revocation] == ["stale-crl", "stale-crl"] and len(path.warnings) == 2

    graceful = TrustStore.from_directory(pki_dir / "trust", policy=RevocationPolicy(stale_grace=timedelta(days=20)))
    assert [c.status for c in graceful.validate(leaf, [inter], purpose=KeyPurpose.AS4_SIGNING, at=later).revocation] \
        == ["good", "good"]


def test_a_stale_crl_still_revokes(pki_dir: Path, keys: FileKeyStore) -> None:
    leaf, inter = _chain(keys, KeyPurpose.AS4_SIGNING, "rsa")
    revoke(pki_dir, leaf.serial_number)
    lenient = TrustStore.from_directory(pki_dir / "trust", policy=RevocationPolicy(require_crl=False))
    assert _rejected(lenient, leaf, [inter], purpose=KeyPurpose.AS4_SIGNING,
                     at=now() + timedelta(days=45)) == PKI_CERT_REVOKED


def test_missing_crl_policy(pki_dir: Path, keys: FileKeyStore) -> None:
    leaf, inter = _chain(keys, KeyPurpose.SMP_SIGNING)
    (pki_dir / "trust" / "crls" / "intermediate.crl").unlink()
    strict = TrustStore.from_directory(pki_dir / "trust")
    with pytest.raises(CertificateRejected, match="no CRL from CN=LV-GW-TEST Dev Issuing CA") as caught:
        strict.validate(leaf, [inter], purpose=KeyPurpose.SMP_SIGNING)
    assert caught.value.code == PKI_CRL_MISSING
    (pki_dir / "trust" / "policy.json").write_text('{"require_crl": false}')
    soft = TrustStore.from_directory(pki_dir / "trust")
    path = soft.validate(leaf, [inter], purpose=KeyPurpose.SMP_SIGNING)
    assert [c.status for c in path.revocation] == ["no-crl", "good"]


def test_crl_with_a_forged_signature_does_not_count(pki_dir: Path, keys: FileKeyStore) -> None:
    leaf, inter = _chain(keys, KeyPurpose.SMP_SIGNING)
    impostor = ec.generate_private_key(ec.SECP384R1())
    forged = (
        x509.CertificateRevocationListBuilder().issuer_name(inter.subject)
        .last_update(now() - timedelta(minutes=1)).next_update(now() + timedelta(days=1))
        .sign(impostor, hashes.SHA256())
    )
    (pki_dir / "trust" / "crls" / "intermediate.crl").write_bytes(forged.public_bytes(serialization.Encoding.DER))
    store = TrustStore.from_directory(pki_dir / "trust")
    with pytest.raises(CertificateRejected, match="signature does not verify") as caught:
        store.validate(leaf, [inter], purpose=KeyPurpose.SMP_SIGNING)
    assert caught.value.code == PKI_CRL_MISSING


def test_crl_added_in_memory(pki_dir: Path, keys: FileKeyStore) -> None:
    leaf, inter = _chain(keys, KeyPurpose.SMP_SIGNING)
    crls = pki_dir / "trust" / "crls"
    data = {path.name: path.read_bytes() for path in crls.iterdir()}
    shutil.rmtree(crls)
    store = TrustStore.from_directory(pki_dir / "trust")
    assert _rejected(store, leaf, [inter], purpose=KeyPurpose.SMP_SIGNING) == PKI_CRL_MISSING
    for file_name, pem in data.items():
        store.crls.add(pem, source=f"http://crl.example/{file_name}")  # what a fetcher in the shell would do
    assert store.validate(leaf, [inter], purpose=KeyPurpose.SMP_SIGNING)


def test_pinned_self_signed_signer(tmp_path: Path) -> None:
    """eIDAS metadata and SMP signers are often self-signed certificates configured as anchors themselves."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = name("DE metadata signer", "DE eIDAS node", "DE")
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now() - timedelta(days=1))
        .not_valid_after(now() + timedelta(days=365)).sign(key, hashes.SHA256())
    )
    anchors = tmp_path / "eidas-metadata" / "DE" / "anchors"
    anchors.mkdir(parents=True)
    (anchors / "signer.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    stores = TrustStores.from_directory(tmp_path)
    path = stores.eidas_metadata("DE").validate(cert, purpose=EIDAS_METADATA_SIGNING)
    assert path.chain == (cert,) and path.revocation == ()
    with pytest.raises(CertificateRejected) as caught:
        stores.eidas_metadata("DE").validate(cert, purpose=EIDAS_METADATA_SIGNING, at=now() + timedelta(days=400))
    assert caught.value.code == PKI_CERT_EXPIRED


def test_named_stores_answer_only_for_their_purposes(pki_dir: Path, tmp_path: Path, keys: FileKeyStore) -> None:
    root = tmp_path / "trust"
    for store_dir in ("as4/oots", "smp/oots", "tls"):
        shutil.copytree(pki_dir / "trust", root / store_dir)
    stores = TrustStores.from_directory(root)
    assert sorted(stores) == ["as4:oots", "smp:oots", "tls"]
    assert stores.as4("oots").name == "as4:oots" and stores.tls().name == "tls"
    leaf, inter = _chain(keys, KeyPurpose.AS4_SIGNING, "rsa")
    assert stores.validate("as4:oots", leaf, [inter], purpose=KeyPurpose.AS4_SIGNING)
    with pytest.raises(CertificateRejected, match="trust store 'smp:oots' is not configured for as4-signing") as caught:
        stores.smp("oots").validate(leaf, [inter], purpose=KeyPurpose.AS4_SIGNING)
    assert caught.value.code == PKI_TRUST_PURPOSE
    with pytest.raises(TrustStoreNotFound,
                       match=r"no trust store 'as4:peppol' \(configured: as4:oots, smp:oots, tls\)"):
        stores.as4("peppol")


def test_trust_store_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(TrustStoreError, match="trust store directory not found"):
        TrustStore.from_directory(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TrustStoreError, match="no trust anchors"):
        TrustStore.from_directory(tmp_path / "empty")
    (tmp_path / "bad" / "anchors").mkdir(parents=True)
    (tmp_path / "bad" / "anchors" / "x.pem").write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----")
    with pytest.raises(TrustStoreError, match=r"x\.pem"):
        TrustStore.from_directory(tmp_path / "bad")
    root, _, _ = foreign_chain()
    with pytest.raises(ValueError, match="unknown trust purpose 'coffee'"):
        TrustStore("x", [root.certificate], purposes=["coffee"])


def test_library_limit_ed25519_ca_is_refused() -> None:
    """cryptography's verifier refuses CA certificates with Ed25519 keys; pinned here so an upgrade that lifts
    the limit is noticed (Ed25519 *leaf* keys under RSA/ECDSA CAs work, see test_valid_path)."""
    key = ed25519.Ed25519PrivateKey.generate()
    subject = name("Ed25519 Root", "Ed CA", "FI")
    root = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(1).not_valid_before(now() - timedelta(days=1)).not_valid_after(now() + timedelta(days=99))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, None)
    )
    ca = CertificateAuthority(root, key)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = ca.issue_leaf(profile_for(KeyPurpose.AS4_SIGNING, "ec"), name("l", "Ed CA", "FI"), leaf_key.public_key(),
                         now())
    store = TrustStore("ed", [root], policy=RevocationPolicy(require_crl=False))
    with pytest.raises(CertificateRejected, match="Forbidden public key algorithm") as caught:
        store.validate(leaf, purpose=KeyPurpose.AS4_SIGNING)
    assert caught.value.code == PKI_CERT_UNTRUSTED
