"""SMP signatures through pki's XML-security layer, against the network's SMP trust store.

Accepted: an enveloped ``ds:Signature`` that is a direct child of the document element, whose signer
certificate (from its KeyInfo) the trust store validates for SMP signing at ``now``, and whose references
cover the ServiceMetadata we then read (checked on the verified elements with :func:`pki.xml.verification.covers`,
never with a fresh search of the document: that is how a wrapped, unsigned copy is refused). SMP 2.0 may carry
several signatures: each must verify, be by a trusted SMP signer and cover the document (strict on purpose: a
signature we cannot vouch for is a reason to refuse, not to ignore).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from lxml import etree

from pki.keys.port import KeyPurpose
from pki.trust import TrustStore
from pki.xml import ns
from pki.xml.algorithms import SMP, AlgorithmPolicy, AlgorithmRefused
from pki.xml.keyinfo import KeyResolutionError, trusted_certificate
from pki.xml.references import SignatureError
from pki.xml.verification import covers, verify
from smp_client.errors import SmpDocumentError
from smp_client.parse import service_metadata_element

_KEY_CODES = {"PKI_CERT_EXPIRED": "SMP_SIGNER_EXPIRED", "PKI_CERT_NOT_YET_VALID": "SMP_SIGNER_NOT_YET_VALID",
              "PKI_CERT_REVOKED": "SMP_SIGNER_REVOKED"}


class SmpSignatureError(SmpDocumentError):
    """``code`` is ours (SMP_SIGNATURE_*, SMP_SIGNER_*); ``cause`` is pki's code (XMLDSIG_*, PKI_*)."""

    def __init__(self, code: str, message: str, cause: str | None = None) -> None:
        super().__init__(code, message)
        self.cause = cause


def _translate(exc: Exception) -> SmpSignatureError:
    cause = getattr(exc, "code", None)
    if isinstance(exc, KeyResolutionError):
        code = _KEY_CODES.get(cause or "", "SMP_SIGNER_UNTRUSTED")
    elif isinstance(exc, AlgorithmRefused):
        code = "SMP_SIGNATURE_ALGORITHM"
    else:
        code = "SMP_SIGNATURE_INVALID"
    return SmpSignatureError(code, f"SMP signature refused: {exc}", cause)


def verify_document(root: etree._Element, trust: TrustStore, *, now: datetime,
                    policy: AlgorithmPolicy = SMP) -> tuple[etree._Element, x509.Certificate]:
    """The covered ServiceMetadata (or ServiceGroup) element and the trusted signer, or :class:`SmpSignatureError`."""
    signatures = root.findall(ns.q(ns.DS, "Signature"))
    if not signatures:
        nested = next(root.iter(ns.q(ns.DS, "Signature")), None)
        where = " (only a nested one, which does not sign this document)" if nested is not None else ""
        raise SmpSignatureError("SMP_SIGNATURE_MISSING", f"the SMP document is not signed{where}")
    target = service_metadata_element(root) if etree.QName(root).localname != "ServiceGroup" else root

    def validate(leaf: x509.Certificate, others: Sequence[x509.Certificate]) -> None:
        trust.validate(leaf, others, purpose=KeyPurpose.SMP_SIGNING, at=now)

    trusted: x509.Certificate | None = None
    for signature in signatures:
        try:
            verified = verify(signature, trusted_certificate(validate), policy)
        except (SignatureError, KeyResolutionError, AlgorithmRefused) as exc:
            raise _translate(exc) from exc
        if not covers(verified, target):
            raise SmpSignatureError("SMP_SIGNATURE_WRAPPING",
                                    "the signature does not cover the ServiceMetadata that would be used")
        if trusted is None:
            trusted = verified.certificate
    assert trusted is not None  # trusted_certificate always resolves to a certificate
    return target, trusted
