"""The dev certificate authority: a root CA, one issuing (intermediate) CA, their CRLs, and a record of issues.

Only for development, tests and the demo: the CA keys sit next to the node's keys (0600). Production nodes get
their certificates from a real CA and use the same key manifest and trust stores.

Layout under the PKI directory::

    manifest.json                     the node's keys (pki.keys.file_store reads it)
    keys/<key_id>.pem                 private keys, 0600
    certs/<key_id>.pem, .chain.pem    leaf, and leaf + intermediate
    ca/root.pem, ca/root.key.pem      root CA (10 years)
    ca/intermediate.pem, .key.pem     issuing CA (5 years)
    ca/state.json                     issued and revoked serials, CRL number, node id and host names
    trust/anchors/root.pem            a ready trust store for this PKI (pki.trust.TrustStore.from_directory)
    trust/intermediates/intermediate.pem
    trust/crls/root.crl, intermediate.crl
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes, PublicKeyTypes
from cryptography.x509.oid import NameOID

from pki.devpki.profiles import LeafProfile
from pki.keys.files import load_certificate, load_private_key, private_pem, write_private, write_public

ROOT_DAYS = 3650
INTERMEDIATE_DAYS = 1825
CRL_DAYS = 30
CA_CURVE = ec.SECP384R1()
CLOCK_SKEW = timedelta(minutes=5)  # not_before in the past, so a partner whose clock lags still accepts us


class DevPkiError(ValueError):
    code = "PKI_DEVPKI"


@dataclass(frozen=True, slots=True)
class PkiLayout:
    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def ca_dir(self) -> Path:
        return self.root / "ca"

    @property
    def root_cert(self) -> Path:
        return self.ca_dir / "root.pem"

    @property
    def root_key(self) -> Path:
        return self.ca_dir / "root.key.pem"

    @property
    def intermediate_cert(self) -> Path:
        return self.ca_dir / "intermediate.pem"

    @property
    def intermediate_key(self) -> Path:
        return self.ca_dir / "intermediate.key.pem"

    @property
    def state(self) -> Path:
        return self.ca_dir / "state.json"

    @property
    def trust_dir(self) -> Path:
        return self.root / "trust"

    def crl(self, which: str) -> Path:
        return self.trust_dir / "crls" / f"{which}.crl"

    def exists(self) -> bool:
        return self.manifest.exists() or self.ca_dir.exists()


def name(common_name: str, organization: str, country: str = "LV", unit: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, country),
                  x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)]
    if unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def serial_hex(serial: int) -> str:
    return format(serial, "x")


def parse_serial(text: str) -> int:
    """Serials are shown in hex; accept ``0x``-prefixed and colon-separated forms too."""
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "")
    try:
        return int(cleaned, 16)
    except ValueError:
        raise DevPkiError(f"not a hexadecimal certificate serial: {text!r}") from None


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                         encipher_only=False, decipher_only=False)


def _digest_for(key: CertificateIssuerPrivateKeyTypes) -> hashes.HashAlgorithm | None:
    # EdDSA hashes internally and must be given None; everything else signs with SHA-384 (P-384's match).
    return None if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey) else hashes.SHA384()


@dataclass
class CertificateAuthority:
    """One CA: its certificate and private key (never printed)."""

    certificate: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes = field(repr=False)

    def _builder(self, subject: x509.Name, public_key: PublicKeyTypes, not_before: datetime,
                 not_after: datetime) -> x509.CertificateBuilder:
        # A child never outlives its issuer: validators would reject the tail of its life anyway.
        not_after = min(not_after, self.certificate.not_valid_after_utc)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),  # type: ignore[arg-type]
                           critical=False)
        )

    def issue_ca(self, subject: x509.Name, key: CertificateIssuerPrivateKeyTypes, now: datetime,
                 days: int = INTERMEDIATE_DAYS) -> x509.Certificate:
        builder = (
            self._builder(subject, key.public_key(), now - CLOCK_SKEW, now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_usage(), critical=True)
        )
        return builder.sign(self.key, _digest_for(self.key))

    def issue_leaf(self, profile: LeafProfile, subject: x509.Name, public_key: PublicKeyTypes, now: datetime, *,
                   days: int | None = None, hostnames: Sequence[str] = ()) -> x509.Certificate:
        """A leaf for any key type; X25519 keys cannot sign themselves, so the CA certifies them like any other."""
        lifetime = timedelta(days=days if days is not None else profile.days)
        builder = (
            self._builder(subject, public_key, now - CLOCK_SKEW, now + lifetime)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(profile.key_usage(), critical=True)
        )
        eku = profile.extended_key_usage()
        if eku is not None:
            builder = builder.add_extension(eku, critical=False)
        if profile.needs_san or hostnames:
            builder = builder.add_extension(subject_alt_names(hostnames), critical=False)
        return builder.sign(self.key, _digest_for(self.key))

    def sign_crl(self, revoked: Sequence[dict[str, Any]], number: int, now: datetime,
                 days: int = CRL_DAYS) -> x509.CertificateRevocationList:
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(now - CLOCK_SKEW)
            .next_update(now + timedelta(days=days))
            .add_extension(x509.CRLNumber(number), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),  # type: ignore[arg-type]
                           critical=False)
        )
        for item in revoked:
            entry = (
                x509.RevokedCertificateBuilder()
                .serial_number(parse_serial(item["serial"]))
                .revocation_date(datetime.fromisoformat(item["revoked_at"]))
                .add_extension(x509.CRLReason(x509.ReasonFlags(item.get("reason", "unspecified"))), critical=False)
                .build()
            )
            builder = builder.add_revoked_certificate(entry)
        return builder.sign(self.key, _digest_for(self.key))


def subject_alt_names(hostnames: Sequence[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hostnames:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    for loopback in ("127.0.0.1", "::1"):  # local tests and the demo reach the node by address
        if not any(isinstance(n, x509.IPAddress) and str(n.value) == loopback for n in names):
            names.append(x509.IPAddress(ipaddress.ip_address(loopback)))
    return x509.SubjectAlternativeName(names)


def create_root(node_id: str, country: str, now: datetime) -> CertificateAuthority:
    key = ec.generate_private_key(CA_CURVE)
    subject = name(f"{node_id} Dev Root CA", node_id, country, "Gateway dev PKI")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=ROOT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA384())
    )
    return CertificateAuthority(cert, key)


@dataclass
class CaState:
    """``ca/state.json``: who the PKI is for and every serial it issued or revoked."""

    node_id: str
    country: str = "LV"
    hostnames: list[str] = field(default_factory=list)
    crl_number: int = 0
    issued: list[dict[str, Any]] = field(default_factory=list)
    revoked: list[dict[str, Any]] = field(default_factory=list)

    def record_issue(self, cert: x509.Certificate, issuer: str, holder: str, key_id: str | None = None) -> None:
        item = {"serial": serial_hex(cert.serial_number), "issuer": issuer, "holder": holder,
                "subject": cert.subject.rfc4514_string(),
                "not_after": cert.not_valid_after_utc.isoformat(timespec="seconds")}
        if key_id:
            item["key_id"] = key_id
        self.issued.append(item)

    def find_issued(self, serial: int) -> dict[str, Any]:
        for item in self.issued:
            if parse_serial(item["serial"]) == serial:
                return item
        raise DevPkiError(f"serial {serial_hex(serial)} was not issued by this dev PKI")

    def to_json(self) -> dict[str, Any]:
        return {"node_id": self.node_id, "country": self.country, "hostnames": self.hostnames,
                "crl_number": self.crl_number, "issued": self.issued, "revoked": self.revoked}

    @classmethod
    def load(cls, path: Path) -> CaState:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(node_id=data["node_id"], country=data.get("country", "LV"),
                       hostnames=list(data.get("hostnames", [])), crl_number=int(data.get("crl_number", 0)),
                       issued=list(data.get("issued", [])), revoked=list(data.get("revoked", [])))
        except FileNotFoundError:
            raise DevPkiError(f"{path}: no dev PKI here (run `gateway-node pki init`)") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise DevPkiError(f"{path}: unreadable CA state: {exc}") from None

    def save(self, path: Path) -> None:
        write_public(path, (json.dumps(self.to_json(), indent=2) + "\n").encode())


@dataclass
class DevCa:
    """The whole dev CA of one PKI directory, loaded: root, intermediate and state."""

    layout: PkiLayout
    root: CertificateAuthority
    intermediate: CertificateAuthority
    state: CaState

    @classmethod
    def load(cls, directory: Path) -> DevCa:
        layout = PkiLayout(Path(directory))
        state = CaState.load(layout.state)
        cas = []
        for cert_path, key_path in ((layout.root_cert, layout.root_key),
                                    (layout.intermediate_cert, layout.intermediate_key)):
            key = load_private_key(key_path)
            cas.append(CertificateAuthority(load_certificate(cert_path), key))  # type: ignore[arg-type]
        return cls(layout, cas[0], cas[1], state)

    @classmethod
    def create(cls, directory: Path, node_id: str, country: str, hostnames: Sequence[str], now: datetime) -> DevCa:
        layout = PkiLayout(Path(directory))
        root = create_root(node_id, country, now)
        inter_key = ec.generate_private_key(CA_CURVE)
        inter_cert = root.issue_ca(name(f"{node_id} Dev Issuing CA", node_id, country, "Gateway dev PKI"),
                                   inter_key, now)
        intermediate = CertificateAuthority(inter_cert, inter_key)
        state = CaState(node_id=node_id, country=country, hostnames=list(hostnames))
        state.record_issue(inter_cert, "root", "ca")
        for ca, cert_path, key_path in ((root, layout.root_cert, layout.root_key),
                                        (intermediate, layout.intermediate_cert, layout.intermediate_key)):
            write_private(key_path, private_pem(ca.key))
            write_public(cert_path, ca.certificate.public_bytes(serialization.Encoding.PEM))
        write_public(layout.trust_dir / "anchors" / "root.pem",
                     root.certificate.public_bytes(serialization.Encoding.PEM))
        write_public(layout.trust_dir / "intermediates" / "intermediate.pem",
                     inter_cert.public_bytes(serialization.Encoding.PEM))
        dev_ca = cls(layout, root, intermediate, state)
        dev_ca.write_crls(now)
        return dev_ca

    def ca_named(self, which: str) -> CertificateAuthority:
        return self.root if which == "root" else self.intermediate

    def write_crls(self, now: datetime) -> None:
        """Re-sign both CRLs (fresh next_update) from the state's revoked list, then save the state."""
        self.state.crl_number += 1
        for which in ("root", "intermediate"):
            revoked = [item for item in self.state.revoked if item["issuer"] == which]
            crl = self.ca_named(which).sign_crl(revoked, self.state.crl_number, now)
            write_public(self.layout.crl(which), crl.public_bytes(serialization.Encoding.PEM))
        self.save()

    def save(self) -> None:
        self.state.save(self.layout.state)

    def revoke(self, serial: int, now: datetime, reason: str = "unspecified") -> dict[str, Any]:
        try:
            x509.ReasonFlags(reason)
        except ValueError:
            choices = ", ".join(flag.value for flag in x509.ReasonFlags)
            raise DevPkiError(f"unknown revocation reason {reason!r} (one of: {choices})") from None
        issued = self.state.find_issued(serial)
        if any(parse_serial(item["serial"]) == serial for item in self.state.revoked):
            raise DevPkiError(f"serial {serial_hex(serial)} is already revoked")
        record = {"serial": serial_hex(serial), "issuer": issued["issuer"], "subject": issued["subject"],
                  "revoked_at": now.astimezone(UTC).isoformat(timespec="seconds"), "reason": reason}
        self.state.revoked.append(record)
        self.write_crls(now)
        return record
