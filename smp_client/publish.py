"""Building signed SMP documents (pure: data and a Signer in, bytes out). Used by the local SMP publisher
(``gateway-node smp serve``) and by tests; the parser reads back everything written here."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

from cryptography.hazmat.primitives import serialization
from lxml import etree

from pki.keys.port import Signer
from pki.xml.algorithms import ECDSA_SHA256, RSA_SHA256, SMP
from pki.xml.keyinfo import x509_data
from pki.xml.signing import ReferenceSpec, SignOptions, sign
from smp_client.identifiers import Identifier
from smp_client.model import Endpoint, Flavour, ServiceMetadata
from smp_client.parse import BUSDOX, BUSDOX_IDS, OASIS1, SMP2_AGG, SMP2_BASIC, SMP2_SG, SMP2_SM, WSA


def _sub(parent: etree._Element, namespace: str, name: str, text: str | None = None,
         **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{namespace}}}{name}", {k: v for k, v in attributes.items() if v})
    if text is not None:
        element.text = text
    return element


def _b64_der(cert) -> str:  # type: ignore[no-untyped-def]
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


def _date(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _sign(root: etree._Element, signer: Signer) -> bytes:
    assert signer.certificate is not None, "an SMP signer needs its certificate in KeyInfo"
    policy_alg = {"rsa": RSA_SHA256, "ec": ECDSA_SHA256}.get(signer.family)
    sign(root, [ReferenceSpec.enveloped()], signer,
         SignOptions(policy=SMP, signature_algorithm=policy_alg, key_info=x509_data([signer.certificate])))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def path_segment(identifier: Identifier) -> str:
    """The URL path segment of an identifier: ``scheme::value`` percent-encoded (``:`` included)."""
    return quote(identifier.uri, safe="")


# --- SMP 1.0 / Peppol ------------------------------------------------------------------------------------

def _endpoint_1(parent: etree._Element, ns: str, flavour: Flavour, endpoint: Endpoint) -> None:
    element = _sub(parent, ns, "Endpoint", transportProfile=endpoint.transport_profile)
    if flavour is Flavour.PEPPOL:
        _sub(_sub(element, WSA, "EndpointReference"), WSA, "Address", endpoint.address)
    else:
        _sub(element, ns, "EndpointURI", endpoint.address)
    _sub(element, ns, "RequireBusinessLevelSignature", "true" if endpoint.require_business_signature else "false")
    if endpoint.activation:
        _sub(element, ns, "ServiceActivationDate", _date(endpoint.activation))
    if endpoint.expiration:
        _sub(element, ns, "ServiceExpirationDate", _date(endpoint.expiration))
    _sub(element, ns, "Certificate", _b64_der(endpoint.certificates[0].certificate))
    _sub(element, ns, "ServiceDescription", endpoint.description or "AS4 access point")
    _sub(element, ns, "TechnicalContactUrl", endpoint.contact or "mailto:ops@example.invalid")


def service_metadata_1(metadata: ServiceMetadata, signer: Signer | None) -> bytes:
    """SMP 1.0 or Peppol SignedServiceMetadata (unsigned ServiceMetadata when ``signer`` is None)."""
    ns = OASIS1 if metadata.flavour is Flavour.OASIS_1 else BUSDOX
    ids = OASIS1 if metadata.flavour is Flavour.OASIS_1 else BUSDOX_IDS
    nsmap = {None: ns} if ns == ids else {None: ns, "ids": ids, "wsa": WSA}
    signed = etree.Element(f"{{{ns}}}SignedServiceMetadata", nsmap=nsmap)
    body = _sub(signed, ns, "ServiceMetadata")
    if metadata.redirect is not None:
        redirect = _sub(body, ns, "Redirect", href=metadata.redirect.href)
        _sub(redirect, ns, "CertificateUID", metadata.redirect.certificate_uid or "")
    else:
        info = _sub(body, ns, "ServiceInformation")
        _sub(info, ids, "ParticipantIdentifier", metadata.participant.value, scheme=metadata.participant.scheme or "")
        assert metadata.document_type is not None
        _sub(info, ids, "DocumentIdentifier", metadata.document_type.value, scheme=metadata.document_type.scheme or "")
        plist = _sub(info, ns, "ProcessList")
        for group in metadata.groups:
            for process in group.processes:
                element = _sub(plist, ns, "Process")
                _sub(element, ids, "ProcessIdentifier", process.value, scheme=process.scheme or "")
                endpoints = _sub(element, ns, "ServiceEndpointList")
                for endpoint in group.endpoints:
                    _endpoint_1(endpoints, ns, metadata.flavour, endpoint)
    if signer is None:
        return etree.tostring(body, xml_declaration=True, encoding="UTF-8")
    return _sign(signed, signer)


def service_group_1(flavour: Flavour, participant: Identifier, hrefs: Sequence[str]) -> bytes:
    ns = OASIS1 if flavour is Flavour.OASIS_1 else BUSDOX
    ids = OASIS1 if flavour is Flavour.OASIS_1 else BUSDOX_IDS
    root = etree.Element(f"{{{ns}}}ServiceGroup", nsmap={None: ns} if ns == ids else {None: ns, "ids": ids})
    _sub(root, ids, "ParticipantIdentifier", participant.value, scheme=participant.scheme or "")
    collection = _sub(root, ns, "ServiceMetadataReferenceCollection")
    for href in hrefs:
        _sub(collection, ns, "ServiceMetadataReference", href=href)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- SMP 2.0 --------------------------------------------------------------------------------------------

def _id(parent: etree._Element, name: str, identifier: Identifier) -> None:
    _sub(parent, SMP2_BASIC, name, identifier.value, schemeID=identifier.scheme or "")


def _certificate_2(parent: etree._Element, cert, type_code: str | None,  # type: ignore[no-untyped-def]
                   activation: datetime | None = None, expiration: datetime | None = None) -> None:
    element = _sub(parent, SMP2_AGG, "Certificate")
    if type_code:
        _sub(element, SMP2_BASIC, "TypeCode", type_code)
    if activation:
        _sub(element, SMP2_BASIC, "ActivationDate", _date(activation))
    if expiration:
        _sub(element, SMP2_BASIC, "ExpirationDate", _date(expiration))
    _sub(element, SMP2_BASIC, "ContentBinaryObject", _b64_der(cert), mimeCode="application/pkix-cert")


def service_metadata_2(metadata: ServiceMetadata, signer: Signer | None) -> bytes:
    root = etree.Element(f"{{{SMP2_SM}}}ServiceMetadata",
                         nsmap={None: SMP2_SM, "cac": SMP2_AGG, "cbc": SMP2_BASIC})
    _sub(root, SMP2_BASIC, "SMPVersionID", "2.0")
    assert metadata.document_type is not None
    _id(root, "ID", metadata.document_type)
    _id(root, "ParticipantID", metadata.participant)
    if metadata.redirect is not None:
        redirect = _sub(_sub(root, SMP2_AGG, "ProcessMetadata"), SMP2_AGG, "Redirect")
        _sub(redirect, SMP2_BASIC, "PublisherURI", metadata.redirect.href)
        for cert in metadata.redirect.certificates:
            _certificate_2(redirect, cert, "signing")
    for group in metadata.groups:
        pm = _sub(root, SMP2_AGG, "ProcessMetadata")
        for process in group.processes:
            _id(_sub(pm, SMP2_AGG, "Process"), "ID", process)
        for endpoint in group.endpoints:
            element = _sub(pm, SMP2_AGG, "Endpoint")
            _sub(element, SMP2_BASIC, "TransportProfileID", endpoint.transport_profile)
            if endpoint.description:
                _sub(element, SMP2_BASIC, "Description", endpoint.description)
            _sub(element, SMP2_BASIC, "AddressURI", endpoint.address)
            if endpoint.activation:
                _sub(element, SMP2_BASIC, "ActivationDate", _date(endpoint.activation))
            if endpoint.expiration:
                _sub(element, SMP2_BASIC, "ExpirationDate", _date(endpoint.expiration))
            for cert in endpoint.certificates:
                _certificate_2(element, cert.certificate, cert.type_code, cert.activation, cert.expiration)
    if signer is None:
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return _sign(root, signer)


def service_group_2(participant: Identifier, document_types: Sequence[Identifier]) -> bytes:
    root = etree.Element(f"{{{SMP2_SG}}}ServiceGroup", nsmap={None: SMP2_SG, "cac": SMP2_AGG, "cbc": SMP2_BASIC})
    _sub(root, SMP2_BASIC, "SMPVersionID", "2.0")
    _id(root, "ParticipantID", participant)
    for doc in document_types:
        _id(_sub(root, SMP2_AGG, "ServiceReference"), "ID", doc)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def build(metadata: ServiceMetadata, signer: Signer | None) -> bytes:
    if metadata.flavour is Flavour.OASIS_2:
        return service_metadata_2(metadata, signer)
    return service_metadata_1(metadata, signer)
