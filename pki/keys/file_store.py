"""The file backend of the key port: PEM keys (PKCS#8, mode 0600) and certificates listed in ``manifest.json``.

Protocol code sees only :class:`~pki.keys.port.Signer` / :class:`~pki.keys.port.Decrypter` objects; where the
key lives is this module's business. A PKCS#11 backend implements the same port and nothing above it changes.

Private key objects are held by :class:`FileSigner` / :class:`FileDecrypter` only, behind reprs that name the
key id, never its material, and they refuse to be pickled (pickles end up in caches, queues and crash dumps).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from pki import primitives
from pki.keys.files import KeyFileError, load_certificate, load_certificates, load_private_key
from pki.keys.manifest import (
    DECRYPTING_FAMILIES,
    ENCRYPTION_PURPOSES,
    MANIFEST_FILE,
    SIGNING_FAMILIES,
    KeyEntry,
    KeyStatus,
    Manifest,
)
from pki.keys.port import KeyNotFound, KeyPurpose
from pki.names import parse_name
from pki.xml.algorithms import SIGNATURES, SignatureAlgorithm


def _spki(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def subject_key_identifiers(certificate: x509.Certificate) -> set[bytes]:
    """The SKI a partner may name: the extension's value, and RFC 5280's SHA-1 method when it is absent/different."""
    found = {x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest}  # type: ignore[arg-type]
    try:
        found.add(certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest)
    except x509.ExtensionNotFound:
        pass
    return found


def parse_issuer(text: str) -> x509.Name:
    """An X509IssuerName as partners write it: RFC 4514/2253, often with ", " between RDNs, or E= for e-mail."""
    try:
        return parse_name(text)
    except ValueError:
        raise KeyNotFound(f"cannot read issuer name {text!r}") from None


class _KeyHolder:
    """What signers and decrypters share: the entry, the certificate chain, and a private key kept private."""

    __slots__ = ("_chain", "_entry", "_private_key")

    def __init__(self, entry: KeyEntry, private_key: PrivateKeyTypes, chain: Sequence[x509.Certificate]) -> None:
        self._entry = entry
        self._private_key = private_key
        self._chain = tuple(chain)

    @property
    def key_id(self) -> str:
        return self._entry.key_id

    @property
    def purpose(self) -> KeyPurpose:
        return self._entry.purpose

    @property
    def family(self) -> str:
        return self._entry.family

    @property
    def status(self) -> KeyStatus:
        return self._entry.status

    @property
    def certificate(self) -> x509.Certificate | None:
        return self._chain[0] if self._chain else None

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """Leaf first, then the intermediates: what WS-Security BinarySecurityToken / TLS present."""
        return self._chain

    @property
    def public_key(self) -> PublicKeyTypes:
        return self._private_key.public_key()  # type: ignore[return-value]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(key_id={self.key_id!r}, purpose={str(self.purpose)!r}, "
                f"status={str(self.status)!r})")

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError(f"{type(self).__name__} holds a private key and cannot be pickled")


class FileSigner(_KeyHolder):
    """A :class:`~pki.keys.port.Signer` over a private key loaded from a 0600 PEM file."""

    __slots__ = ()

    @property
    def default_algorithm(self) -> SignatureAlgorithm | None:
        """The XML-DSig algorithm the manifest prefers for this key (RSA-PSS for SAML RSA keys, ...)."""
        uri = self._entry.signature_algorithm
        return SIGNATURES.get(uri) if uri else None

    def sign(self, data: bytes, algorithm: SignatureAlgorithm | None = None) -> bytes:
        """XML-DSig wire form (ECDSA r || s) via :func:`pki.primitives.sign`; refuses mismatched algorithms."""
        chosen = algorithm or self.default_algorithm
        if chosen is None:
            raise primitives.KeyMismatch(f"key {self.key_id}: no signature algorithm given and none preferred")
        return primitives.sign(self._private_key, data, chosen)


class FileDecrypter(_KeyHolder):
    """A :class:`~pki.keys.port.Decrypter`: RSA-OAEP key transport or ECDH/X25519 key agreement."""

    __slots__ = ()

    def decrypt_oaep(self, ciphertext: bytes, hash_name: str, mgf_hash_name: str) -> bytes:
        return primitives.oaep_decrypt(self._private_key, ciphertext, hash_name, mgf_hash_name, self.key_id)

    def exchange(self, peer_public_key: PublicKeyTypes) -> bytes:
        return primitives.key_exchange(self._private_key, peer_public_key, self.key_id)


@dataclass(frozen=True, slots=True)
class KeyFiles:
    """Paths for APIs that want files (``ssl.SSLContext.load_cert_chain``), not key objects."""

    key_id: str
    key_file: Path
    cert_file: Path
    chain_file: Path


class FileKeyStore:
    """:class:`~pki.keys.port.KeyStore` over ``<directory>/manifest.json``; re-reads the manifest when it changes."""

    def __init__(self, directory: str | Path, *, manifest_file: str = MANIFEST_FILE) -> None:
        self.directory = Path(directory)
        self.manifest_path = self.directory / manifest_file
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._manifest = Manifest()
        self._private: dict[str, PrivateKeyTypes] = {}
        self._chains: dict[str, tuple[x509.Certificate, ...]] = {}
        self._refresh()

    def __repr__(self) -> str:
        return f"FileKeyStore({str(self.directory)!r}, keys={len(self._manifest.keys)})"

    # --- manifest ----------------------------------------------------------------------------------------
    def _refresh(self) -> Manifest:
        try:
            info = self.manifest_path.stat()
        except FileNotFoundError:
            raise KeyNotFound(f"{self.manifest_path}: key manifest not found (run `gateway-node pki init`?)") from None
        stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
        with self._lock:
            if stamp != self._stamp:
                self._manifest = Manifest.load(self.manifest_path)
                self._stamp = stamp
                self._chains.clear()  # certificates may have been renewed; private keys are never rewritten
            return self._manifest

    def reload(self) -> None:
        with self._lock:
            self._stamp = None
            self._private.clear()
        self._refresh()

    @property
    def manifest(self) -> Manifest:
        return self._refresh()

    def entries(self, purpose: KeyPurpose | None = None, *, live_only: bool = False) -> list[KeyEntry]:
        """Manifest entries, newest first."""
        manifest = self._refresh()
        chosen = [e for e in manifest if (purpose is None or e.purpose == purpose) and (e.live or not live_only)]
        return manifest.newest_first(chosen)

    def entry(self, key_id: str) -> KeyEntry:
        try:
            return self._refresh().get(key_id)
        except KeyError:
            raise KeyNotFound(f"no key {key_id!r} in {self.manifest_path}") from None

    def path(self, relative: str) -> Path:
        return self.directory / relative

    # --- material ----------------------------------------------------------------------------------------
    def chain(self, entry: KeyEntry) -> tuple[x509.Certificate, ...]:
        """The entry's certificate first, then any intermediates from its chain file."""
        cached = self._chains.get(entry.key_id)
        if cached is None:
            leaf = load_certificate(self.path(entry.cert_file))
            rest: list[x509.Certificate] = []
            if entry.chain_file:
                rest = [c for c in load_certificates(self.path(entry.chain_file)) if c != leaf]
            cached = (leaf, *rest)
            self._chains[entry.key_id] = cached
        return cached

    def certificate(self, entry: KeyEntry) -> x509.Certificate:
        return self.chain(entry)[0]

    def _private_key(self, entry: KeyEntry) -> PrivateKeyTypes:
        key = self._private.get(entry.key_id)
        if key is None:
            path = self.path(entry.key_file)
            key = load_private_key(path)
            if _spki(key.public_key()) != _spki(self.certificate(entry).public_key()):  # type: ignore[arg-type]
                raise KeyFileError(f"{path}: the private key does not match certificate {entry.cert_file}")
            if primitives.key_family(key) != entry.family and not (
                entry.family == "x25519" and isinstance(key, x25519.X25519PrivateKey)
            ):
                raise KeyFileError(f"{path}: manifest says {entry.family}, the file holds {primitives.key_family(key)}")
            self._private[entry.key_id] = key
        return key

    # --- the port ----------------------------------------------------------------------------------------
    def signer(self, purpose: KeyPurpose, *, family: str | None = None) -> FileSigner:
        """The newest active key of the purpose (and family): ``signer(KeyPurpose.AS4_SIGNING, family="ed25519")``.

        Without ``family`` the newest active key of any signing family wins; protocol code whose profile fixes
        the algorithm (AS4 1.15: RSA, AS4 2.0: Ed25519) should name the family.
        """
        purpose = KeyPurpose(purpose)
        if purpose in ENCRYPTION_PURPOSES:
            raise KeyNotFound(f"{purpose} keys decrypt, they do not sign: use decrypters({purpose!s})")
        candidates = [e for e in self.entries(purpose) if e.status is KeyStatus.ACTIVE and e.family in SIGNING_FAMILIES]
        chosen = [e for e in candidates if family is None or e.family == family]
        if not chosen:
            have = ", ".join(sorted({e.family for e in candidates})) or "none"
            wanted = f" of family {family!r}" if family else ""
            raise KeyNotFound(f"no active {purpose} key{wanted} in {self.manifest_path} (active families: {have})")
        entry = chosen[0]
        return FileSigner(entry, self._private_key(entry), self.chain(entry))

    def decrypters(self, purpose: KeyPurpose) -> list[FileDecrypter]:
        """Every live (active or retired) key of the purpose, newest first; KeyNotFound when there is none."""
        purpose = KeyPurpose(purpose)
        entries = [e for e in self.entries(purpose, live_only=True) if e.family in DECRYPTING_FAMILIES]
        if not entries:
            raise KeyNotFound(f"no live {purpose} key that can decrypt in {self.manifest_path}")
        return [FileDecrypter(e, self._private_key(e), self.chain(e)) for e in entries]

    def published_certificates(self, purpose: KeyPurpose) -> list[x509.Certificate]:
        """Every live key's certificate, newest first: what partners should see (SMP, metadata, JWKS-like lists)."""
        return [self.certificate(e) for e in self.entries(KeyPurpose(purpose), live_only=True)]

    def public_keys(self, purpose: KeyPurpose) -> dict[str, PublicKeyTypes]:
        """Verification keys by key id (active and retired), e.g. for signatures made before a rollover."""
        return {e.key_id: self.certificate(e).public_key() for e in self.entries(KeyPurpose(purpose), live_only=True)}  # type: ignore[misc]

    # --- "whichever of my keys this message names" ------------------------------------------------------
    def find_entry(
        self,
        purpose: KeyPurpose | None = None,
        *,
        certificate: x509.Certificate | None = None,
        issuer: x509.Name | str | None = None,
        serial: int | None = None,
        ski: bytes | None = None,
        public_key: PublicKeyTypes | None = None,
    ) -> KeyEntry:
        """The live key a message names by certificate, issuer + serial, subject key identifier or public key.

        Revoked keys are never found: a message naming one is answered with KeyNotFound, saying so.
        """
        if (issuer is None) != (serial is None):
            raise ValueError("issuer and serial go together")
        if certificate is None and issuer is None and ski is None and public_key is None:
            raise ValueError("name a key by certificate, issuer + serial, ski or public_key")
        wanted_issuer = parse_issuer(issuer) if isinstance(issuer, str) else issuer
        wanted_spki = _spki(public_key) if public_key is not None else None

        def matches(entry: KeyEntry) -> bool:
            cert = self.certificate(entry)
            if certificate is not None and cert != certificate:
                return False
            if wanted_issuer is not None and (cert.issuer != wanted_issuer or cert.serial_number != serial):
                return False
            if ski is not None and ski not in subject_key_identifiers(cert):
                return False
            return wanted_spki is None or _spki(cert.public_key()) == wanted_spki  # type: ignore[arg-type]

        found = [e for e in self.entries(purpose) if matches(e)]
        scope = f" {purpose}" if purpose else ""
        if not found:
            raise KeyNotFound(f"none of my{scope} keys matches {self._describe(certificate, issuer, serial, ski)}")
        live = [e for e in found if e.live]
        if not live:
            raise KeyNotFound(f"the{scope} key {found[0].key_id} named by the message is revoked")
        return live[0]

    @staticmethod
    def _describe(certificate: x509.Certificate | None, issuer: object, serial: int | None, ski: bytes | None) -> str:
        if certificate is not None:
            return f"certificate {certificate.subject.rfc4514_string()} (sha256 " \
                   f"{hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()[:16]}…)"
        if issuer is not None:
            name = issuer.rfc4514_string() if isinstance(issuer, x509.Name) else issuer
            return f"issuer {name} serial {serial:x}"
        if ski is not None:
            return f"subject key identifier {ski.hex()}"
        return "the given public key"

    def decrypter_for(self, purpose: KeyPurpose | None = None, **named: object) -> FileDecrypter:
        """The decrypter for the key a message names (same keywords as :meth:`find_entry`)."""
        entry = self.find_entry(purpose, **named)  # type: ignore[arg-type]
        if entry.family not in DECRYPTING_FAMILIES:
            raise KeyNotFound(f"key {entry.key_id} is a {entry.family} key and cannot decrypt")
        return FileDecrypter(entry, self._private_key(entry), self.chain(entry))

    def key_files(self, purpose: KeyPurpose, *, family: str | None = None) -> KeyFiles:
        """File paths of the current key, checked (mode 0600, key matches cert), for ``ssl`` and similar APIs."""
        entry = self.signer(purpose, family=family)._entry
        return KeyFiles(entry.key_id, self.path(entry.key_file), self.path(entry.cert_file),
                        self.path(entry.chain_file or entry.cert_file))
