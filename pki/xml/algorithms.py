"""Algorithm identifiers (full URIs) and named allow-lists ("policies") enforced on signing and verification.

A policy is data: which signature, digest, canonicalisation and transform URIs a profile admits. Signing
with, or accepting, anything outside the active policy fails with :class:`AlgorithmRefused`, naming the
URI and the policy, so "SHA-1 is not allowed under eDelivery AS4 2.0" is an error message, not a crash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

# --- digests -------------------------------------------------------------------------------------------
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
SHA224 = "http://www.w3.org/2001/04/xmldsig-more#sha224"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"

DIGESTS: dict[str, Callable[[], hashlib._Hash]] = {
    SHA1: hashlib.sha1,
    SHA224: hashlib.sha224,
    SHA256: hashlib.sha256,
    SHA384: hashlib.sha384,
    SHA512: hashlib.sha512,
}

# --- signatures ----------------------------------------------------------------------------------------
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
RSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
RSA_PSS_SHA256 = "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"
RSA_PSS_SHA384 = "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1"
RSA_PSS_SHA512 = "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1"
ECDSA_SHA1 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
ECDSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
ECDSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
EDDSA_ED25519 = "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519"
DSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#dsa-sha1"
HMAC_SHA1 = "http://www.w3.org/2000/09/xmldsig#hmac-sha1"


@dataclass(frozen=True, slots=True)
class SignatureAlgorithm:
    uri: str
    family: str  # "rsa" (PKCS#1 v1.5), "rsa-pss", "ecdsa", "ed25519"
    hash_name: str | None  # hashlib / cryptography name; None for Ed25519 (pure EdDSA hashes internally)


SIGNATURES: dict[str, SignatureAlgorithm] = {
    alg.uri: alg
    for alg in (
        SignatureAlgorithm(RSA_SHA1, "rsa", "sha1"),
        SignatureAlgorithm(RSA_SHA256, "rsa", "sha256"),
        SignatureAlgorithm(RSA_SHA384, "rsa", "sha384"),
        SignatureAlgorithm(RSA_SHA512, "rsa", "sha512"),
        SignatureAlgorithm(RSA_PSS_SHA256, "rsa-pss", "sha256"),
        SignatureAlgorithm(RSA_PSS_SHA384, "rsa-pss", "sha384"),
        SignatureAlgorithm(RSA_PSS_SHA512, "rsa-pss", "sha512"),
        SignatureAlgorithm(ECDSA_SHA1, "ecdsa", "sha1"),
        SignatureAlgorithm(ECDSA_SHA256, "ecdsa", "sha256"),
        SignatureAlgorithm(ECDSA_SHA384, "ecdsa", "sha384"),
        SignatureAlgorithm(ECDSA_SHA512, "ecdsa", "sha512"),
        SignatureAlgorithm(EDDSA_ED25519, "ed25519", None),
    )
}

# --- canonicalisation and transforms -------------------------------------------------------------------
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_WITH_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_10_WITH_COMMENTS = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
C14N_11 = "http://www.w3.org/2006/12/xml-c14n11"
ENVELOPED_SIGNATURE = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
XPATH_FILTER = "http://www.w3.org/TR/1999/REC-xpath-19991116"
XSLT = "http://www.w3.org/TR/1999/REC-xslt-19991116"

# SOAP-with-Attachments profile 1.1 (OASIS WSS): attachment transforms.
SWA_NS = "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1"
ATTACHMENT_CONTENT_TRANSFORM = SWA_NS + "#Attachment-Content-Signature-Transform"
ATTACHMENT_COMPLETE_TRANSFORM = SWA_NS + "#Attachment-Complete-Signature-Transform"


# --- XML Encryption 1.1 ----------------------------------------------------------------------------------
AES128_GCM = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
AES192_GCM = "http://www.w3.org/2009/xmlenc11#aes192-gcm"
AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
AES128_CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
TRIPLEDES_CBC = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc"
GCM_KEY_BYTES = {AES128_GCM: 16, AES192_GCM: 24, AES256_GCM: 32}

RSA_OAEP = "http://www.w3.org/2009/xmlenc11#rsa-oaep"  # MGF and digest given as child elements
RSA_OAEP_MGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"  # MGF1 with SHA-1, digest child: read only
RSA_1_5 = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"
MGF1_SHA1 = "http://www.w3.org/2009/xmlenc11#mgf1sha1"
MGF1_SHA224 = "http://www.w3.org/2009/xmlenc11#mgf1sha224"
MGF1_SHA256 = "http://www.w3.org/2009/xmlenc11#mgf1sha256"
MGF1_SHA384 = "http://www.w3.org/2009/xmlenc11#mgf1sha384"
MGF1_SHA512 = "http://www.w3.org/2009/xmlenc11#mgf1sha512"

X25519 = "http://www.w3.org/2021/04/xmldsig-more#x25519"
ECDH_ES = "http://www.w3.org/2009/xmlenc11#ECDH-ES"
HKDF = "http://www.w3.org/2021/04/xmldsig-more#hkdf"
CONCAT_KDF = "http://www.w3.org/2009/xmlenc11#ConcatKDF"
HMAC_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"
HMAC_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha384"
HMAC_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha512"
KW_AES128 = "http://www.w3.org/2001/04/xmlenc#kw-aes128"
KW_AES192 = "http://www.w3.org/2001/04/xmlenc#kw-aes192"
KW_AES256 = "http://www.w3.org/2001/04/xmlenc#kw-aes256"
KW_KEY_BYTES = {KW_AES128: 16, KW_AES192: 24, KW_AES256: 32}

ENCRYPTED_ELEMENT = "http://www.w3.org/2001/04/xmlenc#Element"
ENCRYPTED_CONTENT = "http://www.w3.org/2001/04/xmlenc#Content"
ATTACHMENT_CONTENT_ONLY = SWA_NS + "#Attachment-Content-Only"
ATTACHMENT_COMPLETE = SWA_NS + "#Attachment-Complete"
ATTACHMENT_CIPHERTEXT_TRANSFORM = SWA_NS + "#Attachment-Ciphertext-Transform"


@dataclass(frozen=True, slots=True)
class EncryptionPolicy:
    """What a profile admits for XML encryption. ``read_only`` URIs are accepted when decrypting and never
    produced (rsa-oaep-mgf1p, which older eIDAS nodes and Peppol access points still send)."""

    data: frozenset[str] = frozenset()
    key_transports: frozenset[str] = frozenset()
    oaep_mgfs: frozenset[str] = frozenset()
    oaep_digests: frozenset[str] = frozenset()
    key_agreements: frozenset[str] = frozenset()
    key_derivations: frozenset[str] = frozenset()
    prfs: frozenset[str] = frozenset()
    key_wraps: frozenset[str] = frozenset()
    read_only: frozenset[str] = frozenset()
    default_data: str | None = None
    default_key_transport: str | None = None
    default_key_agreement: str | None = None
    default_key_derivation: str | None = None
    default_key_wrap: str | None = None


class AlgorithmRefused(ValueError):
    """An algorithm URI outside the active policy. ``code`` is stable for callers and reports."""

    code = "XMLDSIG_ALGORITHM_REFUSED"

    def __init__(self, kind: str, uri: str, policy: str) -> None:
        self.kind, self.uri, self.policy = kind, uri, policy
        super().__init__(f"{kind} algorithm {uri!r} is not allowed by policy {policy!r}")


@dataclass(frozen=True, slots=True)
class AlgorithmPolicy:
    """A named allow-list. ``sign_*`` defaults are what we produce; ``allowed_*`` what we accept."""

    name: str
    signatures: frozenset[str]
    digests: frozenset[str]
    canonicalizations: frozenset[str]
    transforms: frozenset[str]
    default_signature: str
    default_digest: str = SHA256
    default_c14n: str = EXC_C14N
    encryption: EncryptionPolicy = EncryptionPolicy()

    def check_encryption(self, kind: str, uri: str, *, writing: bool = False) -> None:
        """``kind`` names an EncryptionPolicy field (``data``, ``key_transports``, ``key_wraps``, ...)."""
        allowed: frozenset[str] = getattr(self.encryption, kind)
        if uri not in allowed or (writing and uri in self.encryption.read_only):
            raise AlgorithmRefused(kind.rstrip("s").replace("_", " "), uri, self.name)

    def check_signature(self, uri: str) -> SignatureAlgorithm:
        if uri not in self.signatures or uri not in SIGNATURES:
            raise AlgorithmRefused("signature", uri, self.name)
        return SIGNATURES[uri]

    def check_digest(self, uri: str) -> None:
        if uri not in self.digests or uri not in DIGESTS:
            raise AlgorithmRefused("digest", uri, self.name)

    def check_c14n(self, uri: str) -> None:
        if uri not in self.canonicalizations:
            raise AlgorithmRefused("canonicalization", uri, self.name)

    def check_transform(self, uri: str) -> None:
        if uri not in self.transforms:
            raise AlgorithmRefused("transform", uri, self.name)


_STRONG_DIGESTS = frozenset({SHA256, SHA384, SHA512})
# rsa-oaep-mgf1p carries its DigestMethod child; SHA-1 there is the OAEP label hash, accepted only read-only.
_STRONG_DIGESTS_ENC = frozenset({SHA1, SHA256, SHA384, SHA512})
_EXC = frozenset({EXC_C14N})
_AS4_TRANSFORMS = frozenset({EXC_C14N, ATTACHMENT_CONTENT_TRANSFORM, ATTACHMENT_COMPLETE_TRANSFORM})
_SAML_TRANSFORMS = frozenset({ENVELOPED_SIGNATURE, EXC_C14N})

_OAEP_ONLY = EncryptionPolicy(
    data=frozenset({AES128_GCM}), key_transports=frozenset({RSA_OAEP}), oaep_mgfs=frozenset({MGF1_SHA256}),
    oaep_digests=frozenset({SHA256}), default_data=AES128_GCM, default_key_transport=RSA_OAEP,
)
_AS4_2_0_ENCRYPTION = EncryptionPolicy(
    data=frozenset({AES128_GCM}), key_agreements=frozenset({X25519, ECDH_ES}), key_derivations=frozenset({HKDF}),
    prfs=frozenset({HMAC_SHA256}), key_wraps=frozenset({KW_AES128}), default_data=AES128_GCM,
    default_key_agreement=X25519, default_key_derivation=HKDF, default_key_wrap=KW_AES128,
)
_EIDAS_1_3_ENCRYPTION = EncryptionPolicy(
    data=frozenset({AES128_GCM, AES256_GCM}), key_transports=frozenset({RSA_OAEP, RSA_OAEP_MGF1P}),
    oaep_mgfs=frozenset({MGF1_SHA256, MGF1_SHA384, MGF1_SHA512}), oaep_digests=_STRONG_DIGESTS_ENC,
    key_agreements=frozenset({ECDH_ES}), key_derivations=frozenset({CONCAT_KDF}),
    key_wraps=frozenset({KW_AES128, KW_AES256}),
    read_only=frozenset({RSA_OAEP_MGF1P}), default_data=AES256_GCM, default_key_transport=RSA_OAEP,
    default_key_agreement=ECDH_ES, default_key_derivation=CONCAT_KDF, default_key_wrap=KW_AES256,
)

# eDelivery AS4 1.15 (and the OOTS TDD 1.x that runs on it): RSA PKCS#1 v1.5 with SHA-256.
EDELIVERY_AS4_1_15 = AlgorithmPolicy(
    "edelivery-as4-1.15", frozenset({RSA_SHA256}), frozenset({SHA256}), _EXC, _AS4_TRANSFORMS, RSA_SHA256,
    encryption=_OAEP_ONLY,
)
# eDelivery AS4 2.0 common usage profile (Ed25519) and its EC alternative (ECDSA P-256).
EDELIVERY_AS4_2_0 = AlgorithmPolicy(
    "edelivery-as4-2.0", frozenset({EDDSA_ED25519, ECDSA_SHA256}), frozenset({SHA256}), _EXC, _AS4_TRANSFORMS,
    EDDSA_ED25519, encryption=_AS4_2_0_ENCRYPTION,
)
# Peppol AS4 (eDelivery 1.x crypto).
PEPPOL_AS4 = AlgorithmPolicy(
    "peppol-as4", frozenset({RSA_SHA256}), frozenset({SHA256}), _EXC, _AS4_TRANSFORMS, RSA_SHA256,
    encryption=_OAEP_ONLY,
)
# eIDAS SAML crypto requirements 1.3: no PKCS#1 v1.5 for signatures; RSA-PSS or ECDSA, SHA-256 and up.
EIDAS_1_3 = AlgorithmPolicy(
    "eidas-1.3",
    frozenset({RSA_PSS_SHA256, RSA_PSS_SHA384, RSA_PSS_SHA512, ECDSA_SHA256, ECDSA_SHA384, ECDSA_SHA512}),
    _STRONG_DIGESTS, _EXC, _SAML_TRANSFORMS, ECDSA_SHA256, encryption=_EIDAS_1_3_ENCRYPTION,
)
# eIDAS 1.4 keeps 1.3's signature set and adds EdDSA where both sides announce it.
EIDAS_1_4 = AlgorithmPolicy(
    "eidas-1.4", EIDAS_1_3.signatures | {EDDSA_ED25519}, _STRONG_DIGESTS, _EXC, _SAML_TRANSFORMS, ECDSA_SHA256,
    encryption=EncryptionPolicy(**{
        **{f: getattr(_EIDAS_1_3_ENCRYPTION, f) for f in EncryptionPolicy.__slots__},  # type: ignore[attr-defined]
        "key_agreements": frozenset({ECDH_ES, X25519}), "key_derivations": frozenset({CONCAT_KDF, HKDF}),
        "prfs": frozenset({HMAC_SHA256, HMAC_SHA384, HMAC_SHA512}),
    }),
)
# SMP responses (OASIS SMP 1.0/2.0, Peppol SMP): enveloped signatures, RSA or EC with SHA-256 and up.
SMP = AlgorithmPolicy(
    "smp",
    frozenset({RSA_SHA256, RSA_SHA384, RSA_SHA512, RSA_PSS_SHA256, ECDSA_SHA256, ECDSA_SHA384, ECDSA_SHA512}),
    _STRONG_DIGESTS, _EXC | {C14N_10}, _SAML_TRANSFORMS | {C14N_10}, RSA_SHA256,
)
# Everything this layer implements except what is broken (SHA-1, DSA, HMAC): for operator tools and tests.
MODERN = AlgorithmPolicy(
    "modern",
    frozenset(uri for uri, alg in SIGNATURES.items() if alg.hash_name != "sha1"),
    _STRONG_DIGESTS, _EXC | {C14N_10}, _AS4_TRANSFORMS | _SAML_TRANSFORMS | {C14N_10}, RSA_SHA256,
    encryption=EncryptionPolicy(
        data=frozenset(GCM_KEY_BYTES), key_transports=frozenset({RSA_OAEP, RSA_OAEP_MGF1P}),
        oaep_mgfs=frozenset({MGF1_SHA256, MGF1_SHA384, MGF1_SHA512}), oaep_digests=_STRONG_DIGESTS_ENC,
        key_agreements=frozenset({X25519, ECDH_ES}), key_derivations=frozenset({HKDF, CONCAT_KDF}),
        prfs=frozenset({HMAC_SHA256, HMAC_SHA384, HMAC_SHA512}), key_wraps=frozenset(KW_KEY_BYTES),
        read_only=frozenset({RSA_OAEP_MGF1P}), default_data=AES128_GCM, default_key_transport=RSA_OAEP,
        default_key_agreement=X25519, default_key_derivation=HKDF, default_key_wrap=KW_AES128,
    ),
)

POLICIES: dict[str, AlgorithmPolicy] = {
    policy.name: policy
    for policy in (EDELIVERY_AS4_1_15, EDELIVERY_AS4_2_0, PEPPOL_AS4, EIDAS_1_3, EIDAS_1_4, SMP, MODERN)
}
