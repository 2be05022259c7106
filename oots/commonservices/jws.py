"""Detached JWS over the ``digest`` header of common-services answers (JAdES-style, TDD 3.x).

The EC signs ``oots-response-sig``: a compact JWS with an empty payload part, ``b64: false`` and
``sigD: {mId: http://uri.etsi.org/19182/HttpHeaders, pars: [digest]}``; the signed payload is the header line
``digest: SHA-256=<base64>``, and the digest covers the body. Verification is strict: asymmetric algorithms only
(``none`` and HMAC refused), the critical parameters understood, the signer's certificate (``x5c``) validated
against the configured trust store, the body's digest recomputed. Pure: time is passed in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import get_default_algorithms

from oots.commonservices.model import CommonServicesError
from pki.trust.model import CertificateRejected
from pki.trust.store import TrustStore

HTTP_HEADERS_MID = "http://uri.etsi.org/19182/HttpHeaders"
SIGNATURE_HEADER = "oots-response-sig"
ALLOWED_ALGORITHMS = frozenset({"ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512",
                                "EdDSA"})
_UNDERSTOOD_CRIT = frozenset({"b64", "sigD"})
_KEY_TYPES: dict[str, tuple[type, ...]] = {
    "ES": (ec.EllipticCurvePublicKey,), "PS": (rsa.RSAPublicKey,), "RS": (rsa.RSAPublicKey,),
    "Ed": (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey),
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def digest_header(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def _signed_payload(digest: str) -> bytes:
    return f"digest: {digest}".encode()


def sign_detached(body: bytes, private_key: object, chain: list[x509.Certificate], *, algorithm: str,
                  now: datetime) -> tuple[str, str]:
    """(oots-response-sig, digest) header values for ``body``."""
    if algorithm not in ALLOWED_ALGORITHMS:
        raise CommonServicesError("CS_SIG_ALG_REFUSED", f"{algorithm} is not allowed")
    digest = digest_header(body)
    header = {
        "alg": algorithm, "typ": "jose", "b64": False, "crit": ["b64", "sigD"], "iat": int(now.timestamp()),
        "sigD": {"mId": HTTP_HEADERS_MID, "pars": ["digest"]},
        "x5c": [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in chain],
    }
    protected = _b64url(json.dumps(header, separators=(",", ":")).encode())
    signer = get_default_algorithms()[algorithm]
    signature = signer.sign(protected.encode("ascii") + b"." + _signed_payload(digest), private_key)  # type: ignore[arg-type]
    return f"{protected}..{_b64url(signature)}", digest


@dataclass(frozen=True)
class VerifiedAnswer:
    signer: x509.Certificate
    algorithm: str


def verify_detached(signature: str | None, digest: str | None, body: bytes, *, trust: TrustStore, purpose: str,
                    now: datetime) -> VerifiedAnswer:
    if not signature:
        raise CommonServicesError("CS_SIG_MISSING", f"the answer carries no {SIGNATURE_HEADER} header")
    parts = signature.strip().split(".")
    if len(parts) != 3 or parts[1] != "":
        raise CommonServicesError("CS_SIG_MALFORMED", "expected a compact JWS with a detached (empty) payload")
    try:
        header = json.loads(_unb64url(parts[0]))
        raw_signature = _unb64url(parts[2])
    except (ValueError, UnicodeDecodeError):
        raise CommonServicesError("CS_SIG_MALFORMED", "the JWS header or signature is not base64url JSON") from None
    if not isinstance(header, dict):
        raise CommonServicesError("CS_SIG_MALFORMED", "the JWS header is not a JSON object")
    algorithm = header.get("alg")
    if algorithm not in ALLOWED_ALGORITHMS:  # "none", HS256/384/512 and anything unknown
        raise CommonServicesError("CS_SIG_ALG_REFUSED", f"algorithm {algorithm!r} is refused")
    crit = header.get("crit", [])
    if not isinstance(crit, list) or set(crit) - _UNDERSTOOD_CRIT:
        raise CommonServicesError("CS_SIG_CRIT", f"critical parameters {crit!r} are not understood")
    sig_d = header.get("sigD") or {}
    if header.get("b64") is not False or sig_d.get("mId") != HTTP_HEADERS_MID or "digest" not in sig_d.get("pars", []):
        raise CommonServicesError("CS_SIG_CRIT", "expected b64=false and sigD HttpHeaders over the digest header")
    if not digest or not digest.startswith("SHA-256="):
        raise CommonServicesError("CS_DIGEST_MISMATCH", "the digest header is missing or not SHA-256")
    if not hmac.compare_digest(digest.encode(), digest_header(body).encode()):
        raise CommonServicesError("CS_DIGEST_MISMATCH", "the body does not match its digest header")
    chain = _chain(header.get("x5c"))
    try:
        trust.validate(chain[0], chain[1:], purpose=purpose, at=now)
    except CertificateRejected as exc:
        raise CommonServicesError("CS_SIG_UNTRUSTED", f"signer not trusted: {exc}") from None
    key = chain[0].public_key()
    if not isinstance(key, _KEY_TYPES[algorithm[:2]]):
        raise CommonServicesError("CS_SIG_ALG_REFUSED", f"{algorithm} does not fit the signer's {type(key).__name__}")
    verifier = get_default_algorithms()[algorithm]
    try:
        valid = verifier.verify(parts[0].encode("ascii") + b"." + _signed_payload(digest), key, raw_signature)  # type: ignore[arg-type]
    except Exception:  # a malformed signature value is an invalid signature, whatever the backend raises
        valid = False
    if not valid:
        raise CommonServicesError("CS_SIG_INVALID", "the signature does not verify")
    return VerifiedAnswer(chain[0], algorithm)


def _chain(x5c: object) -> list[x509.Certificate]:
    if not isinstance(x5c, list) or not x5c:
        raise CommonServicesError("CS_SIG_MALFORMED", "the JWS header has no x5c certificate chain")
    try:
        return [x509.load_der_x509_certificate(base64.b64decode(c)) for c in x5c]
    except (ValueError, TypeError):
        raise CommonServicesError("CS_SIG_MALFORMED", "x5c holds something other than DER certificates") from None
