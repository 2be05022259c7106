"""What an SMP says, as frozen data (no XML, no I/O): service groups, service metadata, endpoints, certificates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smp_client.identifiers import Identifier

# Transport profiles (phax/peppol-commons ESMPTransportProfile): 1.x and 2.0 of eDelivery AS4 share the BDXR id.
BDXR_AS4 = "bdxr-transport-ebms3-as4-v1p0"
PEPPOL_AS4_V2 = "peppol-transport-as4-v2_0"
DEFAULT_TRANSPORT_PROFILES: tuple[str, ...] = (BDXR_AS4, PEPPOL_AS4_V2)


class Flavour(StrEnum):
    OASIS_1 = "oasis-smp-1.0"
    PEPPOL = "peppol-smp"
    OASIS_2 = "oasis-smp-2.0"


class CertificateUse(StrEnum):
    """SMP 2.0 Certificate/TypeCode, reduced to what the sender needs; SMP 1.0 has one certificate for all."""

    ANY = "any"
    SIGNING = "signing"
    ENCRYPTION = "encryption"
    KEY_EXCHANGE = "key-exchange"


@dataclass(frozen=True)
class EndpointCertificate:
    certificate: x509.Certificate
    use: CertificateUse = CertificateUse.ANY
    type_code: str | None = None
    activation: datetime | None = None
    expiration: datetime | None = None

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


@dataclass(frozen=True)
class Endpoint:
    transport_profile: str
    address: str
    certificates: tuple[EndpointCertificate, ...] = ()
    activation: datetime | None = None
    expiration: datetime | None = None
    require_business_signature: bool = False
    description: str | None = None
    contact: str | None = None

    def certificate_for(self, *uses: CertificateUse) -> EndpointCertificate | None:
        """The first certificate for one of ``uses`` (in that order of preference), else an untyped one."""
        for use in uses:
            for cert in self.certificates:
                if cert.use is use:
                    return cert
        return next((c for c in self.certificates if c.use is CertificateUse.ANY), None)


@dataclass(frozen=True)
class ProcessGroup:
    """One ``Process``/``ProcessMetadata``: the processes (empty: any) served by these endpoints."""

    processes: tuple[Identifier, ...]
    endpoints: tuple[Endpoint, ...]
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Redirect:
    href: str
    certificate_uid: str | None = None  # SMP 1.0 / Peppol
    certificates: tuple[x509.Certificate, ...] = ()  # SMP 2.0


@dataclass(frozen=True)
class ServiceMetadata:
    flavour: Flavour
    participant: Identifier
    document_type: Identifier | None
    groups: tuple[ProcessGroup, ...] = ()
    redirect: Redirect | None = None
    signer: x509.Certificate | None = None  # the verified signing certificate (None: not verified)


@dataclass(frozen=True)
class ServiceReference:
    href: str | None  # SMP 1.0: the URL; SMP 2.0: None (the client builds it from the id)
    document_type: Identifier | None


@dataclass(frozen=True)
class ServiceGroup:
    flavour: Flavour
    participant: Identifier
    references: tuple[ServiceReference, ...]


# --- JSON views (CLI --json, cache rows) ---------------------------------------------------------------

def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def endpoint_json(endpoint: Endpoint) -> dict[str, object]:
    return {
        "transport_profile": endpoint.transport_profile, "address": endpoint.address,
        "activation": _when(endpoint.activation), "expiration": _when(endpoint.expiration),
        "require_business_signature": endpoint.require_business_signature,
        "description": endpoint.description, "contact": endpoint.contact,
        "certificates": [{"use": c.use.value, "type_code": c.type_code, "activation": _when(c.activation),
                          "expiration": _when(c.expiration), "subject": c.certificate.subject.rfc4514_string(),
                          "key_type": type(c.certificate.public_key()).__name__.lstrip("_"), "pem": c.pem}
                         for c in endpoint.certificates],
    }


def metadata_json(metadata: ServiceMetadata) -> dict[str, object]:
    return {
        "flavour": metadata.flavour.value,
        "participant": metadata.participant.uri,
        "document_type": metadata.document_type.uri if metadata.document_type else None,
        "signer": metadata.signer.subject.rfc4514_string() if metadata.signer else None,
        "redirect": None if metadata.redirect is None else {
            "href": metadata.redirect.href, "certificate_uid": metadata.redirect.certificate_uid,
            "certificates": [c.subject.rfc4514_string() for c in metadata.redirect.certificates]},
        "processes": [{"processes": [p.uri for p in g.processes], "roles": list(g.roles),
                       "endpoints": [endpoint_json(e) for e in g.endpoints]} for g in metadata.groups],
    }
