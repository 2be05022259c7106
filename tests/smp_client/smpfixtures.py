"""Keys for SMP tests: SMP signers under the AS4 tests' dev PKI (trusted), under an unrelated PKI (untrusted),
and an expired one; plus ready-made service metadata for a partner access point."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from as4.profiles import EDELIVERY_1_15, EDELIVERY_2_0
from pki.devpki.operations import issue_partner
from pki.keys.file_store import FileKeyStore, FileSigner
from pki.keys.port import KeyPurpose
from pki.trust.store import TrustStore
from smp_client import identifiers
from smp_client.model import (
    BDXR_AS4,
    CertificateUse,
    Endpoint,
    EndpointCertificate,
    Flavour,
    ProcessGroup,
    ServiceMetadata,
)
from tests.as4.secfixtures import Pki, pki

PARTICIPANT = identifiers.participant("iso6523-actorid-upis::0088:4035811991021")
DOC = identifiers.document_type("busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice")
PROCESS = identifiers.process("cenbii-procid-ubl::urn:fdc:peppol.eu:2017:poacc:billing:01:1.0")


@dataclass(frozen=True)
class SmpKeys:
    pki: Pki
    trust: TrustStore
    signer: FileSigner
    rogue: FileSigner
    expired: FileSigner
    ec_signer: FileSigner


@functools.cache
def smp_keys() -> SmpKeys:
    base = pki()
    root = base.node_dir.parent
    for name, directory, node_dir, extra in (
        ("SMP-PUBLISHER", root / "smp", base.node_dir, {}),
        ("ROGUE-SMP", root / "rogue-smp", root / "other-pki", {}),
        ("EXPIRED-SMP", root / "expired-smp", base.node_dir,
         {"days": 1, "now": datetime.now(UTC) - timedelta(days=8)}),
    ):
        if not (directory / "manifest.json").exists():
            issue_partner(node_dir, directory, partner=name, purpose=KeyPurpose.SMP_SIGNING, family="rsa", **extra)
    if not any(e.family == "ec" for e in FileKeyStore(root / "smp").entries(KeyPurpose.SMP_SIGNING)):
        issue_partner(base.node_dir, root / "smp", partner="SMP-PUBLISHER", purpose=KeyPurpose.SMP_SIGNING,
                      family="ec")
    smp = FileKeyStore(root / "smp")
    return SmpKeys(
        base, base.trust, smp.signer(KeyPurpose.SMP_SIGNING, family="rsa"),
        FileKeyStore(root / "rogue-smp").signer(KeyPurpose.SMP_SIGNING),
        FileKeyStore(root / "expired-smp").signer(KeyPurpose.SMP_SIGNING),
        smp.signer(KeyPurpose.SMP_SIGNING, family="ec"),
    )


def partner_endpoint(address: str = "https://ap.partner.example/as4", *, v2: bool = False,
                     transport_profile: str = BDXR_AS4, typed: bool = False, **changes: object) -> Endpoint:
    """The simulated partner's AS4 endpoint: RSA certificates (1.15) or Ed25519 + X25519 (2.0)."""
    keys = pki()
    profile = EDELIVERY_2_0 if v2 else EDELIVERY_1_15
    signing = keys.signer(keys.partner, profile).certificate
    encryption = keys.encryption_cert(keys.partner, profile)
    assert signing is not None
    if typed or v2:
        certs = (EndpointCertificate(signing, CertificateUse.SIGNING, "signing"),
                 EndpointCertificate(encryption, CertificateUse.KEY_EXCHANGE if v2 else CertificateUse.ENCRYPTION,
                                     "key-exchange" if v2 else "encryption"))
    else:
        certs = (EndpointCertificate(signing),)
    endpoint = Endpoint(transport_profile, address, certs, description="partner AP")
    return replace(endpoint, **changes) if changes else endpoint  # type: ignore[arg-type]


def metadata(flavour: Flavour, *endpoints: Endpoint, participant: identifiers.Identifier = PARTICIPANT,
             document: identifiers.Identifier = DOC) -> ServiceMetadata:
    group = ProcessGroup((PROCESS,), endpoints or (partner_endpoint(),))
    return ServiceMetadata(flavour, participant, document, (group,))


def path_of(p: Pki) -> Path:
    return p.node_dir
