"""The file key store: the port's semantics, file modes, the manifest, lookups, and keeping key material private."""

from __future__ import annotations

import base64
import json
import os
import pickle
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519

from pki import primitives
from pki.devpki import rollover
from pki.keys.audit import ED25519, audit_key_id, audit_public_keys, audit_signer
from pki.keys.file_store import FileDecrypter, FileKeyStore, FileSigner
from pki.keys.files import KeyFileError, KeyFileInsecure, write_private
from pki.keys.manifest import KeyStatus, Manifest, ManifestError
from pki.keys.port import Decrypter, KeyNotFound, KeyPurpose, KeyStore, Signer
from pki.xml.algorithms import ECDSA_SHA256, RSA_PSS_SHA256, RSA_SHA256, SIGNATURES
from tests.pki.pkihelpers import copy_pki


@pytest.fixture
def pki_dir(tmp_path: Path) -> Path:
    return copy_pki(tmp_path / "pki")


@pytest.fixture
def store(pki_dir: Path) -> FileKeyStore:
    return FileKeyStore(pki_dir)


def _set_status(pki_dir: Path, key_id: str, status: KeyStatus) -> None:
    manifest = Manifest.load(pki_dir / "manifest.json")
    manifest.set_status(key_id, status)
    manifest.save(pki_dir / "manifest.json")


def test_store_implements_the_port(store: FileKeyStore) -> None:
    def needs_port(keys: KeyStore) -> Signer:
        return keys.signer(KeyPurpose.SMP_SIGNING)

    signer = needs_port(store)
    assert isinstance(signer, Signer)
    assert all(isinstance(d, Decrypter) for d in store.decrypters(KeyPurpose.AS4_ENCRYPTION))


@pytest.mark.parametrize(("purpose", "family", "uri"), [
    (KeyPurpose.AS4_SIGNING, "rsa", RSA_SHA256),
    (KeyPurpose.AS4_SIGNING, "ed25519", "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519"),
    (KeyPurpose.SAML_SIGNING, "rsa", RSA_PSS_SHA256),
    (KeyPurpose.SAML_SIGNING, "ec", ECDSA_SHA256),
    (KeyPurpose.SMP_SIGNING, "rsa", RSA_SHA256),
    (KeyPurpose.AUDIT_SIGNING, "ed25519", "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519"),
])
def test_signer_signs_with_its_preferred_algorithm(store: FileKeyStore, purpose: KeyPurpose, family: str,
                                                   uri: str) -> None:
    signer = store.signer(purpose, family=family)
    assert signer.family == family and signer.default_algorithm is not None
    assert signer.default_algorithm.uri == uri
    data = b"<SignedInfo>...</SignedInfo>"
    signature = signer.sign(data, SIGNATURES[uri])
    assert primitives.verify(signer.certificate.public_key(), signature, data, SIGNATURES[uri])  # type: ignore[union-attr]
    assert primitives.verify(signer.public_key, signer.sign(data), data, SIGNATURES[uri])
    assert signer.chain[1].subject != signer.chain[0].subject  # leaf, then the issuing CA


def test_signer_refuses_an_algorithm_of_another_family(store: FileKeyStore) -> None:
    signer = store.signer(KeyPurpose.AS4_SIGNING, family="ed25519")
    with pytest.raises(primitives.KeyMismatch):
        signer.sign(b"x", SIGNATURES[RSA_SHA256])


def test_signer_key_not_found_messages(store: FileKeyStore) -> None:
    with pytest.raises(KeyNotFound, match=r"no active as4-signing key of family 'ec' .*manifest.json "
                                          r"\(active families: ed25519, rsa\)"):
        store.signer(KeyPurpose.AS4_SIGNING, family="ec")
    with pytest.raises(KeyNotFound, match="as4-encryption keys decrypt, they do not sign"):
        store.signer(KeyPurpose.AS4_ENCRYPTION)
    with pytest.raises(KeyNotFound, match="no key 'nope'"):
        store.entry("nope")
    with pytest.raises(KeyNotFound, match="key manifest not found"):
        FileKeyStore(store.directory / "elsewhere")


def test_decrypters_newest_first_and_they_decrypt(pki_dir: Path, store: FileKeyStore) -> None:
    rollover(pki_dir, KeyPurpose.AS4_ENCRYPTION, family="rsa")
    decrypters = store.decrypters(KeyPurpose.AS4_ENCRYPTION)
    assert [d.family for d in decrypters] == ["rsa", "x25519", "rsa"]
    assert [d.status for d in decrypters] == [KeyStatus.ACTIVE, KeyStatus.ACTIVE, KeyStatus.RETIRED]
    for decrypter in decrypters:
        if decrypter.family == "rsa":
            public = decrypter.certificate.public_key()  # type: ignore[union-attr]
            assert isinstance(public, rsa.RSAPublicKey)
            wrapped = public.encrypt(b"k" * 16, padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA256(), None))
            assert decrypter.decrypt_oaep(wrapped, "sha256", "sha1") == b"k" * 16
        else:
            ephemeral = x25519.X25519PrivateKey.generate()
            public = decrypter.certificate.public_key()  # type: ignore[union-attr]
            assert decrypter.exchange(ephemeral.public_key()) == ephemeral.exchange(public)  # type: ignore[arg-type]
            with pytest.raises(primitives.KeyMismatch):
                decrypter.decrypt_oaep(b"x", "sha256", "sha256")


def test_ec_decrypter_agrees_and_refuses_other_curves(store: FileKeyStore) -> None:
    (ec_key,) = [d for d in store.decrypters(KeyPurpose.SAML_ENCRYPTION) if d.family == "ec"]
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    assert ec_key.exchange(ephemeral.public_key()) == ephemeral.exchange(ec.ECDH(), ec_key.certificate.public_key())  # type: ignore[union-attr,arg-type]
    with pytest.raises(primitives.KeyMismatch, match="secp384r1"):
        ec_key.exchange(ec.generate_private_key(ec.SECP384R1()).public_key())
    with pytest.raises(primitives.KeyMismatch):
        ec_key.exchange(x25519.X25519PrivateKey.generate().public_key())


def test_statuses_decide_signing_decrypting_and_publishing(pki_dir: Path, store: FileKeyStore) -> None:
    old = store.signer(KeyPurpose.AS4_SIGNING, family="rsa")
    (new,) = rollover(pki_dir, KeyPurpose.AS4_SIGNING, family="rsa")
    # The store notices the manifest written by another "process" (the CLI) without being told.
    assert store.signer(KeyPurpose.AS4_SIGNING, family="rsa").key_id == new.entry.key_id
    published = store.published_certificates(KeyPurpose.AS4_SIGNING)
    assert old.certificate in published and new.certificate in published
    assert old.key_id in store.public_keys(KeyPurpose.AS4_SIGNING)
    assert store.entry(old.key_id).status is KeyStatus.RETIRED

    _set_status(pki_dir, old.key_id, KeyStatus.REVOKED)
    assert old.certificate not in store.published_certificates(KeyPurpose.AS4_SIGNING)
    assert old.key_id not in store.public_keys(KeyPurpose.AS4_SIGNING)

    for decrypter in store.decrypters(KeyPurpose.SAML_ENCRYPTION):
        _set_status(pki_dir, decrypter.key_id, KeyStatus.REVOKED)
    with pytest.raises(KeyNotFound, match="no live saml-encryption key"):
        store.decrypters(KeyPurpose.SAML_ENCRYPTION)


def test_private_keys_are_written_0600_and_broader_modes_refused(pki_dir: Path, store: FileKeyStore) -> None:
    key_files = sorted((pki_dir / "keys").iterdir()) + sorted((pki_dir / "ca").glob("*.key.pem"))
    assert len(key_files) == 14
    assert {oct(path.stat().st_mode & 0o777) for path in key_files} == {"0o600"}
    assert (pki_dir / "keys").stat().st_mode & 0o077 == 0

    victim = store.path(store.entries(KeyPurpose.SMP_SIGNING)[0].key_file)
    victim.chmod(0o640)
    with pytest.raises(KeyFileInsecure, match=rf"{victim}: private key file has mode 0640.*chmod 600") as caught:
        store.signer(KeyPurpose.SMP_SIGNING)
    assert caught.value.code == "PKI_KEY_FILE_MODE"


def test_write_private_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    write_private(path, b"one")
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        write_private(path, b"two")
    assert path.read_bytes() == b"one" and oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["k.pem"]  # no staging file left behind


def test_key_that_does_not_match_its_certificate_is_refused(pki_dir: Path, store: FileKeyStore) -> None:
    entry = store.entries(KeyPurpose.TLS_CLIENT)[0]
    other = store.entries(KeyPurpose.TLS_SERVER)[0]
    path = store.path(entry.key_file)
    path.unlink()
    write_private(path, store.path(other.key_file).read_bytes())
    with pytest.raises(KeyFileError, match="does not match certificate"):
        store.signer(KeyPurpose.TLS_CLIENT)


def test_manifest_round_trip(pki_dir: Path) -> None:
    path = pki_dir / "manifest.json"
    manifest = Manifest.load(path)
    assert len(manifest.keys) == 12 and manifest.node_id == "LV-GW-TEST"
    again = Manifest.from_json(json.loads(json.dumps(manifest.to_json())), "memory")
    assert again.keys == manifest.keys
    copy = pki_dir / "copy.json"
    manifest.save(copy)
    assert Manifest.load(copy).keys == manifest.keys
    entry = manifest.keys[0]
    assert entry.created.tzinfo is not None and entry.key_file.startswith("keys/")


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["keys"][0].pop("key_file"), "missing field 'key_file'"),
    (lambda d: d["keys"][0].update(family="dsa"), "family must be one of"),
    (lambda d: d["keys"][0].update(purpose="coffee"), "'coffee' is not a valid KeyPurpose"),
    (lambda d: d["keys"].append(dict(d["keys"][0])), "listed twice"),
    (lambda d: d.update(version=7), "unsupported manifest version 7"),
])
def test_bad_manifests_are_refused_clearly(pki_dir: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    path = pki_dir / "manifest.json"
    data = json.loads(path.read_text())
    mutate(data)
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError, match=message):
        FileKeyStore(pki_dir)


def test_lookups_by_what_a_message_names(store: FileKeyStore) -> None:
    for decrypter in store.decrypters(KeyPurpose.AS4_ENCRYPTION):
        cert = decrypter.certificate
        assert cert is not None
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        assert store.decrypter_for(certificate=cert).key_id == decrypter.key_id
        assert store.decrypter_for(KeyPurpose.AS4_ENCRYPTION, issuer=cert.issuer,
                                   serial=cert.serial_number).key_id == decrypter.key_id
        # Partners write X509IssuerName with ", " between RDNs.
        issuer_text = cert.issuer.rfc4514_string().replace(",", ", ")
        assert store.decrypter_for(issuer=issuer_text, serial=cert.serial_number).key_id == decrypter.key_id
        assert store.decrypter_for(ski=ski.digest).key_id == decrypter.key_id
        assert store.decrypter_for(public_key=cert.public_key()).key_id == decrypter.key_id  # type: ignore[arg-type]


def test_lookup_failures(pki_dir: Path, store: FileKeyStore) -> None:
    decrypter = store.decrypters(KeyPurpose.AS4_ENCRYPTION)[0]
    cert = decrypter.certificate
    assert cert is not None
    with pytest.raises(KeyNotFound, match="none of my as4-signing keys matches issuer"):
        store.find_entry(KeyPurpose.AS4_SIGNING, issuer=cert.issuer, serial=cert.serial_number)
    with pytest.raises(KeyNotFound, match="subject key identifier 00ff"):
        store.find_entry(ski=b"\x00\xff")
    with pytest.raises(KeyNotFound, match="cannot decrypt"):
        store.decrypter_for(certificate=store.signer(KeyPurpose.AS4_SIGNING, family="ed25519").certificate)
    with pytest.raises(ValueError, match="issuer and serial go together"):
        store.find_entry(issuer=cert.issuer)
    _set_status(pki_dir, decrypter.key_id, KeyStatus.REVOKED)
    with pytest.raises(KeyNotFound, match=f"key {decrypter.key_id} named by the message is revoked"):
        store.decrypter_for(certificate=cert)


def test_key_material_never_in_repr_str_or_pickles(store: FileKeyStore) -> None:
    holders: list[FileSigner | FileDecrypter] = [store.signer(p) for p in (
        KeyPurpose.AS4_SIGNING, KeyPurpose.SAML_SIGNING, KeyPurpose.TLS_SERVER, KeyPurpose.AUDIT_SIGNING)]
    holders += store.decrypters(KeyPurpose.AS4_ENCRYPTION) + store.decrypters(KeyPurpose.SAML_ENCRYPTION)
    for holder in holders:
        pem = store.path(store.entry(holder.key_id).key_file).read_bytes()
        der_b64 = b"".join(pem.splitlines()[1:-1]).decode()
        shown = " ".join([repr(holder), str(holder), f"{holder}", repr(store), repr(store.entry(holder.key_id))])
        assert holder.key_id in repr(holder)
        assert "PRIVATE" not in shown and der_b64[:40] not in shown and der_b64[-40:] not in shown
        private = holder._private_key
        if isinstance(private, rsa.RSAPrivateKey):
            assert str(private.private_numbers().d) not in shown
            assert format(private.private_numbers().d, "x")[:32] not in shown
        else:
            raw = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
            assert base64.b64encode(raw).decode()[-32:] not in shown and raw.hex()[-32:] not in shown
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(holder)


def test_key_files_for_ssl(store: FileKeyStore) -> None:
    files = store.key_files(KeyPurpose.TLS_SERVER)
    assert files.key_file.exists() and files.cert_file.exists()
    assert files.chain_file.read_text().count("BEGIN CERTIFICATE") == 2
    assert oct(os.stat(files.key_file).st_mode & 0o777) == "0o600"


def test_audit_key_through_the_port(pki_dir: Path, store: FileKeyStore) -> None:
    from gateway.audit.keys import key_id_of

    signer = audit_signer(store)
    message = b"tree head 42"
    signature = signer.sign(message, ED25519)
    keys = audit_public_keys(store)
    (only_id,) = keys
    assert only_id == key_id_of(signer.public_key) == audit_key_id(signer.public_key)  # type: ignore[arg-type]
    keys[only_id].verify(signature, message)

    rollover(pki_dir, KeyPurpose.AUDIT_SIGNING)
    keys = audit_public_keys(store)
    assert len(keys) == 2 and only_id in keys  # old tree heads keep verifying
    assert audit_signer(store).key_id != signer.key_id


def test_newest_first_breaks_ties_by_manifest_position(pki_dir: Path) -> None:
    manifest = Manifest.load(pki_dir / "manifest.json")
    same = manifest.keys[0].created
    manifest.keys = [replace(k, created=same) for k in manifest.keys]
    assert manifest.newest_first(manifest.keys)[0].key_id == manifest.keys[-1].key_id
    older = replace(manifest.keys[-1], created=same.replace(year=same.year - 1))
    manifest.keys[-1] = older
    assert manifest.newest_first(manifest.keys)[-1].key_id == older.key_id
