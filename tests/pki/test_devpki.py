"""The dev PKI: every node certificate with the right key and extensions, chains to the root, partners, rollover."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, x25519
from cryptography.x509.oid import ExtendedKeyUsageOID

from pki import primitives
from pki.devpki import (
    DEFAULT_FAMILIES,
    DevCa,
    DevPkiError,
    ProfileError,
    init_pki,
    issue_partner,
    parse_serial,
    revoke,
    rollover,
)
from pki.keys.audit import audit_public_keys, audit_signer
from pki.keys.file_store import FileKeyStore
from pki.keys.files import load_private_key
from pki.keys.manifest import KeyStatus
from pki.keys.port import KeyPurpose
from pki.trust import PKI_CERT_REVOKED, CertificateRejected, TrustStore
from pki.xml.algorithms import SIGNATURES
from tests.pki.pkihelpers import HOSTNAMES, NODE_ID, copy_pki, now, template_pki

# purpose, family -> (key class, size or curve, KeyUsage flags that must be set, EKU)
EXPECTED = {
    (KeyPurpose.AS4_SIGNING, "rsa"): (rsa.RSAPublicKey, 3072, {"digital_signature", "content_commitment"}, None),
    (KeyPurpose.AS4_SIGNING, "ed25519"): (ed25519.Ed25519PublicKey, None, {"digital_signature"}, None),
    (KeyPurpose.AS4_ENCRYPTION, "rsa"): (rsa.RSAPublicKey, 3072, {"key_encipherment"}, None),
    (KeyPurpose.AS4_ENCRYPTION, "x25519"): (x25519.X25519PublicKey, None, {"key_agreement"}, None),
    (KeyPurpose.TLS_SERVER, "ec"): (ec.EllipticCurvePublicKey, "secp256r1", {"digital_signature"},
                                    ExtendedKeyUsageOID.SERVER_AUTH),
    (KeyPurpose.TLS_CLIENT, "ec"): (ec.EllipticCurvePublicKey, "secp256r1", {"digital_signature"},
                                    ExtendedKeyUsageOID.CLIENT_AUTH),
    (KeyPurpose.SAML_SIGNING, "ec"): (ec.EllipticCurvePublicKey, "secp256r1", {"digital_signature"}, None),
    (KeyPurpose.SAML_SIGNING, "rsa"): (rsa.RSAPublicKey, 3072, {"digital_signature"}, None),
    (KeyPurpose.SAML_ENCRYPTION, "rsa"): (rsa.RSAPublicKey, 3072, {"key_encipherment"}, None),
    (KeyPurpose.SAML_ENCRYPTION, "ec"): (ec.EllipticCurvePublicKey, "secp256r1", {"key_agreement"}, None),
    (KeyPurpose.SMP_SIGNING, "rsa"): (rsa.RSAPublicKey, 3072, {"digital_signature"}, None),
    (KeyPurpose.AUDIT_SIGNING, "ed25519"): (ed25519.Ed25519PublicKey, None, {"digital_signature"}, None),
}
FLAGS = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
         "key_cert_sign", "crl_sign")


@pytest.fixture
def pki_dir(tmp_path: Path) -> Path:
    return copy_pki(tmp_path / "pki")


def _ext(cert: x509.Certificate, kind: type) -> object:
    return cert.extensions.get_extension_for_class(kind)


def test_init_makes_every_listed_key() -> None:
    store = FileKeyStore(template_pki())
    made = {(e.purpose, e.family) for e in store.entries()}
    assert made == set(EXPECTED)
    assert made == {(p, f) for p, families in DEFAULT_FAMILIES.items() for f in families}
    assert all(e.status is KeyStatus.ACTIVE for e in store.entries())


@pytest.mark.parametrize(("purpose", "family"), sorted(EXPECTED))
def test_leaf_key_type_and_extensions(purpose: KeyPurpose, family: str) -> None:
    store = FileKeyStore(template_pki())
    (entry,) = [e for e in store.entries(purpose) if e.family == family]
    leaf, intermediate = store.chain(entry)
    key_class, size, usage, eku = EXPECTED[(purpose, family)]
    key = leaf.public_key()
    assert isinstance(key, key_class)
    if isinstance(key, rsa.RSAPublicKey):
        assert key.key_size == size == entry.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        assert key.curve.name == size == entry.curve

    basic = _ext(leaf, x509.BasicConstraints)
    assert basic.critical and basic.value.ca is False  # type: ignore[attr-defined]
    key_usage = _ext(leaf, x509.KeyUsage)
    assert key_usage.critical  # type: ignore[attr-defined]
    set_flags = {flag for flag in FLAGS if getattr(key_usage.value, flag)}  # type: ignore[attr-defined]
    assert usage <= set_flags
    assert not {"key_cert_sign", "crl_sign"} & set_flags
    if purpose in (KeyPurpose.AS4_ENCRYPTION, KeyPurpose.SAML_ENCRYPTION):
        assert "digital_signature" not in set_flags  # encryption keys never sign
    if eku is None:
        with pytest.raises(x509.ExtensionNotFound):
            leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    else:
        assert list(_ext(leaf, x509.ExtendedKeyUsage).value) == [eku]  # type: ignore[attr-defined]
    assert _ext(leaf, x509.SubjectKeyIdentifier).value.digest == x509.SubjectKeyIdentifier.from_public_key(  # type: ignore[attr-defined]
        key).digest  # type: ignore[arg-type]
    assert _ext(leaf, x509.AuthorityKeyIdentifier).value.key_identifier == _ext(  # type: ignore[attr-defined]
        intermediate, x509.SubjectKeyIdentifier).value.digest  # type: ignore[attr-defined]
    # Signed by the issuing CA (also for X25519, which cannot sign anything itself).
    leaf.verify_directly_issued_by(intermediate)
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= timedelta(days=731)
    assert NODE_ID in leaf.subject.rfc4514_string()


def test_tls_server_names_the_host_and_loopback() -> None:
    store = FileKeyStore(template_pki())
    leaf = store.certificate(store.entries(KeyPurpose.TLS_SERVER)[0])
    san = _ext(leaf, x509.SubjectAlternativeName).value  # type: ignore[attr-defined]
    assert set(san.get_values_for_type(x509.DNSName)) == set(HOSTNAMES)
    assert {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")} <= set(
        san.get_values_for_type(x509.IPAddress))
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= timedelta(days=398)


def test_ca_certificates() -> None:
    ca = DevCa.load(template_pki())
    root, inter = ca.root.certificate, ca.intermediate.certificate
    assert root.subject == root.issuer
    root.verify_directly_issued_by(root)
    inter.verify_directly_issued_by(root)
    for cert, path_length in ((root, 1), (inter, 0)):
        basic = _ext(cert, x509.BasicConstraints)
        assert basic.critical and basic.value.ca and basic.value.path_length == path_length  # type: ignore[attr-defined]
        usage = _ext(cert, x509.KeyUsage).value  # type: ignore[attr-defined]
        assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    years = (root.not_valid_after_utc - root.not_valid_before_utc).days / 365
    assert 9.9 < years < 10.1
    assert 4.9 < (inter.not_valid_after_utc - inter.not_valid_before_utc).days / 365 < 5.1
    assert isinstance(root.public_key(), ec.EllipticCurvePublicKey)


def test_every_chain_validates_to_the_root() -> None:
    store = FileKeyStore(template_pki())
    trust = TrustStore.from_directory(template_pki() / "trust", name="dev")
    root = DevCa.load(template_pki()).root.certificate
    for entry in store.entries():
        leaf, *rest = store.chain(entry)
        path = trust.validate(leaf, rest, purpose=entry.purpose)
        assert path.anchor == root and len(path.chain) == 3
        assert [check.status for check in path.revocation] == ["good", "good"]


def test_crls_are_signed_and_empty_at_first() -> None:
    ca = DevCa.load(template_pki())
    for which, issuer in (("root", ca.root), ("intermediate", ca.intermediate)):
        crl = x509.load_pem_x509_crl(ca.layout.crl(which).read_bytes())
        assert crl.is_signature_valid(issuer.certificate.public_key())  # type: ignore[arg-type]
        assert len(crl) == 0 and crl.next_update_utc is not None and crl.next_update_utc > now()


def test_init_refuses_to_overwrite_without_force(pki_dir: Path) -> None:
    before = (pki_dir / "ca" / "root.pem").read_bytes()
    with pytest.raises(DevPkiError, match="a PKI already exists here"):
        init_pki(pki_dir, node_id="X")
    assert (pki_dir / "ca" / "root.pem").read_bytes() == before
    init_pki(pki_dir, node_id="LV-GW-NEW", force=True)
    assert (pki_dir / "ca" / "root.pem").read_bytes() != before
    store = FileKeyStore(pki_dir)
    assert len(store.entries()) == 12 and "LV-GW-NEW" in store.manifest.node_id  # type: ignore[operator]


def test_ca_keys_are_private() -> None:
    for path in (template_pki() / "ca").glob("*.key.pem"):
        assert path.stat().st_mode & 0o777 == 0o600
        load_private_key(path)


def test_issue_for_a_partner_validates_and_signs(pki_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "partner-ee"
    issued = issue_partner(pki_dir, out, partner="EE-AP", purpose=KeyPurpose.AS4_SIGNING, family="ed25519")
    assert issued.key_file.stat().st_mode & 0o777 == 0o600
    chain = x509.load_pem_x509_certificates(issued.chain_file.read_bytes())
    assert chain[0] == issued.certificate and len(chain) == 2
    trust = TrustStore.from_directory(pki_dir / "trust")
    assert trust.validate(chain[0], chain[1:], purpose=KeyPurpose.AS4_SIGNING).leaf == issued.certificate
    assert "EE-AP" in issued.certificate.subject.rfc4514_string()

    # The partner's directory is a key store of its own.
    partner = FileKeyStore(out)
    signer = partner.signer(KeyPurpose.AS4_SIGNING)
    algorithm = SIGNATURES[signer.default_algorithm.uri]  # type: ignore[union-attr]
    assert primitives.verify(issued.certificate.public_key(), signer.sign(b"m", algorithm), b"m", algorithm)  # type: ignore[arg-type]

    issue_partner(pki_dir, out, partner="EE-AP", purpose=KeyPurpose.TLS_SERVER, hostnames=("ap.ee.test",))
    tls = partner.certificate(partner.entries(KeyPurpose.TLS_SERVER)[0])
    assert "ap.ee.test" in _ext(tls, x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="holds the keys of 'EE-AP'"):
        issue_partner(pki_dir, out, partner="FI-AP", purpose=KeyPurpose.AS4_SIGNING)
    state = DevCa.load(pki_dir).state
    assert state.find_issued(issued.certificate.serial_number)["holder"] == "EE-AP"


def test_issue_refuses_impossible_profiles(pki_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="as4-signing keys cannot be x25519"):
        issue_partner(pki_dir, tmp_path / "p", partner="P", purpose="as4-signing", family="x25519")
    with pytest.raises(ProfileError, match="unknown key purpose 'coffee'"):
        issue_partner(pki_dir, tmp_path / "p", partner="P", purpose="coffee")
    with pytest.raises(DevPkiError, match="no dev PKI here"):
        issue_partner(tmp_path / "nothing", tmp_path / "p", partner="P", purpose="as4-signing")


def test_rollover_new_key_signs_old_still_decrypts_and_is_published(pki_dir: Path) -> None:
    store = FileKeyStore(pki_dir)
    (old,) = [d for d in store.decrypters(KeyPurpose.AS4_ENCRYPTION) if d.family == "rsa"]
    old_public = old.certificate.public_key()  # type: ignore[union-attr]
    assert isinstance(old_public, rsa.RSAPublicKey)
    oaep = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
    in_flight = old_public.encrypt(b"content key 1234", oaep)  # a partner encrypted before the rollover

    issued = rollover(pki_dir, KeyPurpose.AS4_ENCRYPTION, family="rsa")
    assert [i.entry.family for i in issued] == ["rsa"]
    statuses = {e.key_id: e.status for e in store.entries(KeyPurpose.AS4_ENCRYPTION)}
    assert statuses[old.key_id] is KeyStatus.RETIRED and statuses[issued[0].entry.key_id] is KeyStatus.ACTIVE
    assert list(statuses.values()).count(KeyStatus.ACTIVE) == 2  # the x25519 key is untouched
    assert store.decrypter_for(certificate=old.certificate).decrypt_oaep(in_flight, "sha256", "sha256") == \
        b"content key 1234"
    published = store.published_certificates(KeyPurpose.AS4_ENCRYPTION)
    assert published[0] == issued[0].certificate and old.certificate in published and len(published) == 3


def test_rollover_without_family_rolls_every_active_family(pki_dir: Path) -> None:
    store = FileKeyStore(pki_dir)
    before = {s.family: s.key_id for s in (store.signer(KeyPurpose.SAML_SIGNING, family=f) for f in ("ec", "rsa"))}
    issued = rollover(pki_dir, KeyPurpose.SAML_SIGNING)
    assert sorted(i.entry.family for i in issued) == ["ec", "rsa"]
    for family, key_id in before.items():
        assert store.signer(KeyPurpose.SAML_SIGNING, family=family).key_id != key_id
        assert store.entry(key_id).status is KeyStatus.RETIRED


def test_revoke_puts_the_serial_on_the_crl(pki_dir: Path) -> None:
    store = FileKeyStore(pki_dir)
    signer = store.signer(KeyPurpose.SMP_SIGNING)
    leaf, *rest = signer.chain
    record = revoke(pki_dir, leaf.serial_number, reason="keyCompromise")
    assert record["key_id"] == signer.key_id and parse_serial(record["serial"]) == leaf.serial_number
    crl = x509.load_pem_x509_crl((pki_dir / "trust" / "crls" / "intermediate.crl").read_bytes())
    revoked = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
    assert revoked is not None
    assert revoked.extensions.get_extension_for_class(x509.CRLReason).value.reason is x509.ReasonFlags.key_compromise
    assert store.entry(signer.key_id).status is KeyStatus.REVOKED
    with pytest.raises(CertificateRejected) as caught:
        TrustStore.from_directory(pki_dir / "trust").validate(leaf, rest, purpose=KeyPurpose.SMP_SIGNING)
    assert caught.value.code == PKI_CERT_REVOKED
    with pytest.raises(DevPkiError, match="already revoked"):
        revoke(pki_dir, leaf.serial_number)
    with pytest.raises(DevPkiError, match="was not issued by this dev PKI"):
        revoke(pki_dir, 12345)
    with pytest.raises(DevPkiError, match="unknown revocation reason"):
        revoke(pki_dir, rest[0].serial_number, reason="bored")


def test_init_adopts_an_existing_audit_key(tmp_path: Path) -> None:
    existing = ed25519.Ed25519PrivateKey.generate()
    init_pki(tmp_path / "pki", node_id="LV-GW-ADOPT", adopt={KeyPurpose.AUDIT_SIGNING: existing})
    store = FileKeyStore(tmp_path / "pki")
    assert audit_signer(store).public_key == existing.public_key()
    assert list(audit_public_keys(store).values()) == [existing.public_key()]
    with pytest.raises(ProfileError, match="cannot adopt an ec key for audit-signing"):
        init_pki(tmp_path / "other", node_id="X", adopt={KeyPurpose.AUDIT_SIGNING: ec.generate_private_key(
            ec.SECP256R1())})
    assert not (tmp_path / "other").exists()  # refused before anything was written
