"""From SMP response bytes to trusted data: hardened parse → signature check → model; Redirect checks.

``trust=None`` reads a document without verifying it: only for operators' inspection (``smp parse`` without
``--trust``) and never on the discovery path, where :func:`read_service_metadata` is always given a store.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pki.names import same_name
from pki.trust import TrustStore
from smp_client.errors import SmpDocumentError
from smp_client.model import CertificateUse, Flavour, ServiceGroup, ServiceMetadata
from smp_client.parse import DEFAULT_MAX_BYTES, parse_service_group, parse_service_metadata, read_xml
from smp_client.verify import verify_document


def read_service_metadata(data: bytes, *, trust: TrustStore | None, now: datetime,
                          max_bytes: int = DEFAULT_MAX_BYTES,
                          certificate_uses: dict[str, CertificateUse] | None = None) -> ServiceMetadata:
    root = read_xml(data, max_bytes=max_bytes)
    signer = None
    if trust is not None:
        _, signer = verify_document(root, trust, now=now)
    metadata = parse_service_metadata(root, certificate_uses)
    if signer is None:
        return metadata
    return ServiceMetadata(metadata.flavour, metadata.participant, metadata.document_type, metadata.groups,
                           metadata.redirect, signer)


def read_service_group(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ServiceGroup:
    """ServiceGroups are unsigned in SMP 1.0 and Peppol; they only list what to ask for next."""
    return parse_service_group(read_xml(data, max_bytes=max_bytes))


def _uid_matches(uid: str, cert: x509.Certificate) -> bool:
    """SMP 1.0 CertificateUID: implementations put the subject DN (Peppol: its serialNumber part) or a
    SHA-256 fingerprint there; each form is compared exactly, never as a substring."""
    uid = uid.strip()
    if uid.lower().replace(":", "") == hashlib.sha256(_der(cert)).hexdigest():
        return True
    serials = [a.value for a in cert.subject if a.oid == x509.oid.NameOID.SERIAL_NUMBER]
    if uid in serials:
        return True
    try:
        return same_name(uid, cert.subject)
    except ValueError:
        return False


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def check_redirect_target(source: ServiceMetadata, target: ServiceMetadata) -> None:
    """The document a Redirect led to must be signed by the certificate the Redirect named."""
    redirect = source.redirect
    assert redirect is not None
    if target.redirect is not None:
        raise SmpDocumentError("SMP_REDIRECT_LOOP", "a Redirect led to another Redirect (one hop only)")
    if target.signer is None:
        raise SmpDocumentError("SMP_REDIRECT_UNVERIFIED", "the redirect target was not signature-verified")
    if source.flavour is Flavour.OASIS_2:
        if not any(_der(c) == _der(target.signer) for c in redirect.certificates):
            raise SmpDocumentError("SMP_REDIRECT_CERTIFICATE", "the redirect target is signed by another certificate")
        return
    if not redirect.certificate_uid or not _uid_matches(redirect.certificate_uid, target.signer):
        raise SmpDocumentError("SMP_REDIRECT_CERTIFICATE",
                               f"the redirect target's signer does not match CertificateUID "
                               f"{redirect.certificate_uid!r}")
