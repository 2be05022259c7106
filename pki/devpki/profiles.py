"""What a dev PKI leaf looks like for each purpose and key family: key type, extensions, lifetime, algorithm.

Kept as data so ``pki init``, ``pki rollover`` and ``pki issue`` (for simulated partners) make the same
certificates, and so tests can check them against one table.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID

from pki.keys.manifest import ENCRYPTION_PURPOSES
from pki.keys.port import KeyPurpose
from pki.xml.algorithms import ECDSA_SHA256, EDDSA_ED25519, RSA_PSS_SHA256, RSA_SHA256

RSA_BITS = 3072
EC_CURVE = ec.SECP256R1()
LEAF_DAYS = 730
TLS_DAYS = 397  # the CA/Browser Forum ceiling, so TLS tooling never complains about our dev certificates

# What `pki init` creates, first family first (it is also `pki issue`'s default).
DEFAULT_FAMILIES: dict[KeyPurpose, tuple[str, ...]] = {
    KeyPurpose.AS4_SIGNING: ("rsa", "ed25519"),
    KeyPurpose.AS4_ENCRYPTION: ("rsa", "x25519"),
    KeyPurpose.TLS_SERVER: ("ec",),
    KeyPurpose.TLS_CLIENT: ("ec",),
    KeyPurpose.SAML_SIGNING: ("ec", "rsa"),
    KeyPurpose.SAML_ENCRYPTION: ("rsa", "ec"),
    KeyPurpose.SMP_SIGNING: ("rsa",),
    KeyPurpose.AUDIT_SIGNING: ("ed25519",),
}

_TLS = frozenset({KeyPurpose.TLS_SERVER, KeyPurpose.TLS_CLIENT})


def allowed_families(purpose: KeyPurpose) -> tuple[str, ...]:
    if purpose in ENCRYPTION_PURPOSES:
        return ("rsa", "ec", "x25519")
    if purpose in _TLS:
        return ("ec", "rsa")
    return ("rsa", "ec", "ed25519")


class ProfileError(ValueError):
    code = "PKI_PROFILE"


@dataclass(frozen=True, slots=True)
class LeafProfile:
    purpose: KeyPurpose
    family: str

    @property
    def days(self) -> int:
        return TLS_DAYS if self.purpose in _TLS else LEAF_DAYS

    @property
    def key_size(self) -> int | None:
        return RSA_BITS if self.family == "rsa" else None

    @property
    def curve(self) -> str | None:
        return EC_CURVE.name if self.family == "ec" else None

    @property
    def signature_algorithm(self) -> str | None:
        """The XML-DSig algorithm this key signs with by default; None for encryption and TLS keys."""
        if self.purpose in ENCRYPTION_PURPOSES or self.purpose in _TLS:
            return None
        if self.family == "rsa":
            # eIDAS crypto requirements forbid PKCS#1 v1.5 signatures; AS4 1.15 and SMP still use them.
            return RSA_PSS_SHA256 if self.purpose is KeyPurpose.SAML_SIGNING else RSA_SHA256
        return ECDSA_SHA256 if self.family == "ec" else EDDSA_ED25519

    def generate_key(self) -> PrivateKeyTypes:
        if self.family == "rsa":
            return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
        if self.family == "ec":
            return ec.generate_private_key(EC_CURVE)
        if self.family == "ed25519":
            return ed25519.Ed25519PrivateKey.generate()
        return x25519.X25519PrivateKey.generate()

    def key_usage(self) -> x509.KeyUsage:
        signing = self.purpose not in ENCRYPTION_PURPOSES
        agreement = not signing and self.family in ("ec", "x25519")
        return x509.KeyUsage(
            digital_signature=signing,
            # Document signatures (AS4, SAML, SMP, audit) are evidence; TLS handshakes are not.
            content_commitment=signing and self.purpose not in _TLS,
            key_encipherment=(not signing and self.family == "rsa")
            or (self.purpose is KeyPurpose.TLS_SERVER and self.family == "rsa"),
            data_encipherment=False,
            key_agreement=agreement,
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        )

    def extended_key_usage(self) -> x509.ExtendedKeyUsage | None:
        if self.purpose is KeyPurpose.TLS_SERVER:
            return x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
        if self.purpose is KeyPurpose.TLS_CLIENT:
            return x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
        return None

    @property
    def needs_san(self) -> bool:
        return self.purpose is KeyPurpose.TLS_SERVER


def profile_for(purpose: KeyPurpose | str, family: str | None = None) -> LeafProfile:
    try:
        purpose = KeyPurpose(purpose)
    except ValueError:
        known = ", ".join(p.value for p in KeyPurpose)
        raise ProfileError(f"unknown key purpose {purpose!r} (known: {known})") from None
    family = family or DEFAULT_FAMILIES[purpose][0]
    if family not in allowed_families(purpose):
        raise ProfileError(f"{purpose} keys cannot be {family} (allowed: {', '.join(allowed_families(purpose))})")
    return LeafProfile(purpose, family)
