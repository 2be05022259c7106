"""Trust stores per purpose and partner community, path validation to configured anchors, CRL checks.

Trust comes from these stores (configured anchors), never from a certificate inside a message alone.
"""

from pki.trust.crl import CrlCache
from pki.trust.model import (
    PKI_CERT_EXPIRED,
    PKI_CERT_KEY_USAGE,
    PKI_CERT_NOT_YET_VALID,
    PKI_CERT_REVOKED,
    PKI_CERT_UNTRUSTED,
    PKI_CRL_MISSING,
    PKI_CRL_STALE,
    PKI_TRUST_PURPOSE,
    CertificateRejected,
    RevocationCheck,
    RevocationPolicy,
    ValidatedPath,
)
from pki.trust.store import TrustStore, TrustStoreError
from pki.trust.stores import KIND_PURPOSES, TrustStoreNotFound, TrustStores, store_name
from pki.trust.usage import EIDAS_METADATA_SIGNING, check_usage

__all__ = [
    "EIDAS_METADATA_SIGNING",
    "KIND_PURPOSES",
    "PKI_CERT_EXPIRED",
    "PKI_CERT_KEY_USAGE",
    "PKI_CERT_NOT_YET_VALID",
    "PKI_CERT_REVOKED",
    "PKI_CERT_UNTRUSTED",
    "PKI_CRL_MISSING",
    "PKI_CRL_STALE",
    "PKI_TRUST_PURPOSE",
    "CertificateRejected",
    "CrlCache",
    "RevocationCheck",
    "RevocationPolicy",
    "TrustStore",
    "TrustStoreError",
    "TrustStoreNotFound",
    "TrustStores",
    "ValidatedPath",
    "check_usage",
    "store_name",
]
