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
_EXC = frozenset({EXC_C14N})
_AS4_TRANSFORMS = frozenset({EXC_C14N, ATTACHMENT_CONTENT_TRANSFORM, ATTACHMENT_COMPLETE_TRANSFORM})
_SAML_TRANSFORMS = frozenset({ENVELOPED_SIGNATURE, EXC_C14N})

# eDelivery AS4 1.15 (and the OOTS TDD 1.x that runs on it): RSA PKCS#1 v1.5 with SHA-256.
EDELIVERY_AS4_1_15 = AlgorithmPolicy(
    "edelivery-as4-1.15", frozenset({RSA_SHA256}), frozenset({SHA256}), _EXC, _AS4_TRANSFORMS, RSA_SHA256
)
# eDelivery AS4 2.0 common usage profile (Ed25519) and its EC alternative (ECDSA P-256).
EDELIVERY_AS4_2_0 = AlgorithmPolicy(
    "edelivery-as4-2.0", frozenset({EDDSA_ED25519, ECDSA_SHA256}), frozenset({SHA256}), _EXC, _AS4_TRANSFORMS,
    EDDSA_ED25519,
)
# Peppol AS4 (eDelivery 1.x crypto).
PEPPOL_AS4 = AlgorithmPolicy(
    "peppol-as4", frozenset({RSA_SHA256}), frozenset({SHA256}), _EXC, _AS4_TRANSFORMS, RSA_SHA256
)
# eIDAS SAML crypto requirements 1.3: no PKCS#1 v1.5 for signatures; RSA-PSS or ECDSA, SHA-256 and up.
EIDAS_1_3 = AlgorithmPolicy(
    "eidas-1.3",
    frozenset({RSA_PSS_SHA256, RSA_PSS_SHA384, RSA_PSS_SHA512, ECDSA_SHA256, ECDSA_SHA384, ECDSA_SHA512}),
    _STRONG_DIGESTS, _EXC, _SAML_TRANSFORMS, ECDSA_SHA256,
)
# eIDAS 1.4 keeps 1.3's signature set and adds EdDSA where both sides announce it.
EIDAS_1_4 = AlgorithmPolicy(
    "eidas-1.4", EIDAS_1_3.signatures | {EDDSA_ED25519}, _STRONG_DIGESTS, _EXC, _SAML_TRANSFORMS, ECDSA_SHA256
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
)

POLICIES: dict[str, AlgorithmPolicy] = {
    policy.name: policy
    for policy in (EDELIVERY_AS4_1_15, EDELIVERY_AS4_2_0, PEPPOL_AS4, EIDAS_1_3, EIDAS_1_4, SMP, MODERN)
}
