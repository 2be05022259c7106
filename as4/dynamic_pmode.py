"""Dynamic PModes: an SMP discovery answer → the :class:`as4.pmode.PMode` a static file would have given (pure).

Used when no static PMode matches the message to send. What comes from where:

* endpoint URL: the SMP endpoint's address;
* profile: eDelivery AS4 1.15 and 2.0 share the transport profile id, so it is read from the endpoint's
  certificates: a key-exchange certificate (SMP 2.0 TypeCode) or X25519 key → 2.0 (EC keys → 2.0 with ECDSA
  and ECDH-ES); RSA keys → 1.15, or Peppol when the transport profile is Peppol's;
* responder PartyId: configured per network (OOTS, Peppol AP ids), else the endpoint signing certificate's
  CN, as Domibus does; its type is configured per network;
* partner certificates: the SMP's signing certificate is pinned for receipts, its encryption certificate is
  the recipient of our EncryptedKey, and the network's AS4 trust store is attached so that a pinned
  certificate is also path-validated (a partner is trusted only as far as its network's PKI allows).

On the receiving side, :func:`dynamic_agreement` accepts a sender no static PMode knows only if its signing
certificate chains to that trust store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.x509.oid import NameOID

from as4.errors import EbmsError
from as4.model import UserMessage
from as4.pipeline import Agreement, AgreementFinder
from as4.pmode import DEFAULT_RETRY, PMode, PModeParty, PModeService
from as4.profiles import EDELIVERY_1_15, EDELIVERY_2_0, EDELIVERY_2_0_EC, PEPPOL, As4Profile
from pki.keys.port import KeyPurpose
from pki.trust import TrustStore
from pki.trust.model import ValidatedPath
from pki.xml.keyinfo import trusted_certificate
from smp_client.errors import SmpError
from smp_client.identifiers import Identifier
from smp_client.model import PEPPOL_AS4_V2, CertificateUse, Endpoint

RESPONDER_ROLE = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder"
INITIATOR_ROLE = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator"


class DynamicPModeError(SmpError):
    """No PMode can be built from this discovery answer (codes SMP_PROFILE_*, SMP_ENDPOINT_CERT_*)."""


def _family(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ec"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, x25519.X25519PublicKey):
        return "x25519"
    return type(key).__name__


def partner_certificates(endpoint: Endpoint) -> tuple[x509.Certificate, x509.Certificate]:
    """(signing, encryption) certificates of an endpoint; SMP 1.0's single certificate serves both."""
    signing = endpoint.certificate_for(CertificateUse.SIGNING)
    encryption = endpoint.certificate_for(CertificateUse.KEY_EXCHANGE, CertificateUse.ENCRYPTION)
    if signing is None or encryption is None:
        raise DynamicPModeError("SMP_ENDPOINT_CERT_MISSING",
                                f"endpoint {endpoint.address} lacks a signing or an encryption certificate")
    return signing.certificate, encryption.certificate


def profile_for(endpoint: Endpoint) -> As4Profile:
    """The AS4 profile the endpoint's certificates (and TypeCodes) imply."""
    signing, encryption = partner_certificates(endpoint)
    families = (_family(signing), _family(encryption))
    if any(c.use is CertificateUse.KEY_EXCHANGE for c in endpoint.certificates) and families[1] == "rsa":
        raise DynamicPModeError("SMP_PROFILE_UNDETERMINED", "a key-exchange certificate with an RSA key")
    choices = {
        ("rsa", "rsa"): PEPPOL if endpoint.transport_profile == PEPPOL_AS4_V2 else EDELIVERY_1_15,
        ("ed25519", "x25519"): EDELIVERY_2_0,
        ("ec", "ec"): EDELIVERY_2_0_EC,
    }
    chosen = choices.get(families)  # type: ignore[call-overload]
    if chosen is None:
        raise DynamicPModeError("SMP_PROFILE_UNDETERMINED",
                                f"no AS4 profile signs with {families[0]} and encrypts to {families[1]} keys")
    return chosen


def party_id_from_certificate(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise DynamicPModeError("SMP_ENDPOINT_CERT_NO_CN", "the endpoint certificate has no CN to use as PartyId")
    return str(names[0].value)


def check_partner_trust(endpoint: Endpoint, trust: TrustStore, *, now: datetime) -> None:
    """Both partner certificates must chain to the network's AS4 trust anchor before we send to them."""
    signing, encryption = partner_certificates(endpoint)
    for cert, purpose in ((signing, KeyPurpose.AS4_SIGNING), (encryption, KeyPurpose.AS4_ENCRYPTION)):
        try:
            trust.validate(cert, purpose=purpose, at=now)
        except Exception as exc:
            raise DynamicPModeError("SMP_ENDPOINT_CERT_UNTRUSTED",
                                    f"{purpose} certificate of {endpoint.address} not trusted: {exc}") from exc


def dynamic_pmode(endpoint: Endpoint, *, participant: Identifier, document_type: Identifier,
                  process: Identifier | None, initiator: PModeParty, trust: TrustStore, now: datetime,
                  responder_party_id: str | None = None, responder_party_id_type: str | None = None,
                  action: str | None = None, service_type: str | None = None,
                  retry: Sequence[float] = DEFAULT_RETRY, trust_store_dir: Path | None = None) -> PMode:
    """The PMode for sending ``document_type`` to ``participant`` at a discovered ``endpoint``.

    With ``trust_store_dir`` (where ``trust`` was loaded from) the PMode's stored form
    (:meth:`PMode.to_document`) keeps the trust store, so it can be saved and reloaded like a static one."""
    check_partner_trust(endpoint, trust, now=now)
    profile = profile_for(endpoint)
    signing, encryption = partner_certificates(endpoint)
    responder = PModeParty(responder_party_id or party_id_from_certificate(signing), RESPONDER_ROLE,
                           responder_party_id_type if responder_party_id_type is not None else profile.party_id_type)
    service = PModeService(process.value if process else document_type.value,
                           service_type or (process.scheme if process else None) or profile.service_type)
    digest = hashlib.sha256("|".join((participant.uri, document_type.uri, process.uri if process else "",
                                      endpoint.address)).encode()).hexdigest()[:16]
    return PMode(
        id=f"dynamic-{digest}", initiator=initiator, responder=responder, service=service,
        action=action or document_type.uri, profile_name=profile.name, endpoint=endpoint.address,
        signing_certificates=(signing,), encryption_certificate=encryption, retry=tuple(retry),
        agreement_ref=profile.agreement_ref, trust_store=trust, trust_store_dir=trust_store_dir,
    )


# --- receiving side -----------------------------------------------------------------------------------

def sender_chains_to_network(cert: x509.Certificate, intermediates: Sequence[x509.Certificate], trust: TrustStore,
                             *, now: datetime | None = None) -> ValidatedPath:
    """A dynamically found sender is accepted only if its signing certificate chains to the network's anchor;
    raises :class:`DynamicPModeError` ``SMP_SENDER_UNTRUSTED`` (carrying pki's reason) otherwise."""
    try:
        return trust.validate(cert, intermediates, purpose=KeyPurpose.AS4_SIGNING, at=now)
    except Exception as exc:
        raise DynamicPModeError("SMP_SENDER_UNTRUSTED", f"sender certificate outside the network's PKI: {exc}") \
            from exc


def dynamic_agreement(static: AgreementFinder, trust: TrustStore, profile: As4Profile, *,
                      max_decompressed_bytes: int = 1024 * 1024 * 1024) -> AgreementFinder:
    """An :data:`AgreementFinder` that tries the static PModes first and otherwise accepts a sender whose
    signing certificate (from the message) chains to ``trust`` (the network's AS4 trust anchor), under
    ``profile``. Anyone else still gets the static finder's EBMS:0010, or the certificate's own refusal."""
    def validate(leaf: x509.Certificate, others: Sequence[x509.Certificate]) -> None:
        sender_chains_to_network(leaf, others, trust)

    def find(message: UserMessage) -> Agreement:
        try:
            return static(message)
        except EbmsError as exc:
            if exc.code != "EBMS:0010":
                raise
        return Agreement(profile, trusted_certificate(validate), max_decompressed_bytes=max_decompressed_bytes)

    return find

