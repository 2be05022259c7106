"""Which certificates may serve which purpose: key usage, extended key usage and key type per purpose.

Document-signing purposes check KeyUsage only: partner CAs (eDelivery, Peppol, eIDAS) put all sorts of EKUs on
signing certificates, and none of them is defined for "signs AS4 messages". TLS purposes require the TLS EKU.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.x509.oid import ExtendedKeyUsageOID

from pki.keys.port import KeyPurpose
from pki.trust.model import PKI_CERT_KEY_USAGE, CertificateRejected

EIDAS_METADATA_SIGNING = "eidas-metadata-signing"  # a trust purpose with no key of ours behind it

_SIGN = frozenset({"digital_signature", "content_commitment"})
_ENCRYPT = frozenset({"key_encipherment", "key_agreement"})
_SIGNING_KEYS = (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey)
_ENCRYPTION_KEYS = (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, x25519.X25519PublicKey)
_TLS_KEYS = (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)
_EKU_NAMES = {ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth", ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth"}


@dataclass(frozen=True, slots=True)
class UsageRule:
    key_usage_any: frozenset[str]  # KeyUsage flags, any one suffices (when the extension is present)
    key_types: tuple[type, ...]
    eku: x509.ObjectIdentifier | None = None  # required in ExtendedKeyUsage (anyExtendedKeyUsage also passes)


RULES: dict[str, UsageRule] = {
    KeyPurpose.AS4_SIGNING: UsageRule(_SIGN, _SIGNING_KEYS),
    KeyPurpose.SAML_SIGNING: UsageRule(_SIGN, _SIGNING_KEYS),
    KeyPurpose.SMP_SIGNING: UsageRule(_SIGN, _SIGNING_KEYS),
    KeyPurpose.AUDIT_SIGNING: UsageRule(_SIGN, _SIGNING_KEYS),
    EIDAS_METADATA_SIGNING: UsageRule(_SIGN, _SIGNING_KEYS),
    KeyPurpose.AS4_ENCRYPTION: UsageRule(_ENCRYPT, _ENCRYPTION_KEYS),
    KeyPurpose.SAML_ENCRYPTION: UsageRule(_ENCRYPT, _ENCRYPTION_KEYS),
    KeyPurpose.TLS_SERVER: UsageRule(frozenset({"digital_signature", "key_encipherment"}), _TLS_KEYS,
                                     ExtendedKeyUsageOID.SERVER_AUTH),
    KeyPurpose.TLS_CLIENT: UsageRule(frozenset({"digital_signature"}), _TLS_KEYS, ExtendedKeyUsageOID.CLIENT_AUTH),
}


def rule_for(purpose: str) -> UsageRule:
    try:
        return RULES[str(purpose)]
    except KeyError:
        raise ValueError(f"unknown trust purpose {purpose!r} (known: {', '.join(sorted(map(str, RULES)))})") from None


def check_usage(certificate: x509.Certificate, purpose: str) -> None:
    """Raise PKI_CERT_KEY_USAGE unless the certificate may be used for ``purpose``."""
    rule = rule_for(purpose)
    subject = certificate.subject.rfc4514_string()
    key = certificate.public_key()
    if not isinstance(key, rule.key_types):
        kind = type(key).__name__.removesuffix("PublicKey").removeprefix("_")
        raise CertificateRejected(PKI_CERT_KEY_USAGE, f"{subject}: its {kind} key cannot serve {purpose}",
                                  subject=subject)
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None  # RFC 5280: no KeyUsage extension means no restriction
    if usage is not None and not any(getattr(usage, flag) for flag in rule.key_usage_any):
        raise CertificateRejected(
            PKI_CERT_KEY_USAGE,
            f"{subject}: KeyUsage allows none of {', '.join(sorted(rule.key_usage_any))}, needed for {purpose}",
            subject=subject,
        )
    if rule.eku is None:
        return
    try:
        ekus = set(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        ekus = set()
    if rule.eku not in ekus and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in ekus:
        wanted = _EKU_NAMES.get(rule.eku, rule.eku.dotted_string)
        raise CertificateRejected(
            PKI_CERT_KEY_USAGE, f"{subject}: ExtendedKeyUsage lacks {wanted}, needed for {purpose}",
            subject=subject,
        )
