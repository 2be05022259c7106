"""SMP documents → :mod:`smp_client.model` (pure). OASIS SMP 1.0, Peppol (busdox) SMP, OASIS SMP 2.0.

Untrusted bytes go through the hardened parser (no DTD, size cap). The element functions here read what
they are given; callers pass only elements a verified signature covers (:mod:`smp_client.verify`), so this
module never looks for content anywhere else in the document.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from cryptography import x509
from lxml import etree

from pki.xml.parser import XmlRefused, parse_xml
from smp_client import identifiers
from smp_client.errors import IdentifierError, SmpDocumentError
from smp_client.identifiers import Identifier, Kind
from smp_client.model import (
    CertificateUse,
    Endpoint,
    EndpointCertificate,
    Flavour,
    ProcessGroup,
    Redirect,
    ServiceGroup,
    ServiceMetadata,
    ServiceReference,
)

OASIS1 = "http://docs.oasis-open.org/bdxr/ns/SMP/2016/05"
BUSDOX = "http://busdox.org/serviceMetadata/publishing/1.0/"
BUSDOX_IDS = "http://busdox.org/transport/identifiers/1.0/"
WSA = "http://www.w3.org/2005/08/addressing"
SMP2_SG = "http://docs.oasis-open.org/bdxr/ns/SMP/2/ServiceGroup"
SMP2_SM = "http://docs.oasis-open.org/bdxr/ns/SMP/2/ServiceMetadata"
SMP2_AGG = "http://docs.oasis-open.org/bdxr/ns/SMP/2/AggregateComponents"
SMP2_BASIC = "http://docs.oasis-open.org/bdxr/ns/SMP/2/BasicComponents"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024  # an SMP document with a handful of certificates is a few tens of kB

FLAVOUR_OF_NS = {OASIS1: Flavour.OASIS_1, BUSDOX: Flavour.PEPPOL, SMP2_SM: Flavour.OASIS_2, SMP2_SG: Flavour.OASIS_2}


def _fail(code: str, message: str) -> SmpDocumentError:
    return SmpDocumentError(code, message)


def read_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Hardened parse; the parser's own codes (XML_DTD_FORBIDDEN, XML_TOO_LARGE, XML_MALFORMED) are kept."""
    try:
        return parse_xml(data, max_bytes=max_bytes).getroot()
    except XmlRefused as exc:
        raise SmpDocumentError(exc.code, exc.message) from None


def flavour_of(root: etree._Element) -> Flavour:
    namespace = etree.QName(root).namespace
    flavour = FLAVOUR_OF_NS.get(namespace or "")
    if flavour is None:
        raise _fail("SMP_DOCUMENT_UNKNOWN", f"not an SMP document: root element {root.tag}")
    return flavour


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _child(parent: etree._Element, namespace: str, name: str, *, required: bool = True) -> etree._Element | None:
    found = parent.findall(_q(namespace, name))
    if len(found) > 1:
        raise _fail("SMP_DOCUMENT_INVALID", f"{etree.QName(parent).localname}: more than one {name}")
    if not found:
        if required:
            raise _fail("SMP_DOCUMENT_INVALID", f"{etree.QName(parent).localname}: {name} is missing")
        return None
    return found[0]


def _text(parent: etree._Element, namespace: str, name: str, *, required: bool = True) -> str | None:
    element = _child(parent, namespace, name, required=required)
    if element is None:
        return None
    text = (element.text or "").strip()
    if required and not text:
        raise _fail("SMP_DOCUMENT_INVALID", f"{name} is empty")
    return text or None


def _identifier(element: etree._Element, kind: Kind, scheme_attribute: str) -> Identifier:
    try:
        return identifiers.from_parts(kind, element.get(scheme_attribute), element.text)
    except IdentifierError as exc:
        raise _fail("SMP_DOCUMENT_IDENTIFIER", f"{etree.QName(element).localname}: {exc.message}") from None


def _datetime(text: str | None, what: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _fail("SMP_DOCUMENT_INVALID", f"{what}: {text!r} is not an xs:dateTime or xs:date") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _certificate(text: str | None, what: str) -> x509.Certificate:
    try:
        der = base64.b64decode("".join((text or "").split()), validate=True)
        return x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError):
        raise _fail("SMP_CERTIFICATE_INVALID", f"{what} is not a base64 DER X.509 certificate") from None


def _boolean(text: str | None) -> bool:
    if text is None:
        return False
    if text not in ("true", "false", "1", "0"):
        raise _fail("SMP_DOCUMENT_INVALID", f"{text!r} is not an xs:boolean")
    return text in ("true", "1")


# --- SMP 1.0 and Peppol -----------------------------------------------------------------------------------

def _ids_ns(flavour: Flavour) -> str:
    return BUSDOX_IDS if flavour is Flavour.PEPPOL else OASIS1


def _endpoint_1(element: etree._Element, flavour: Flavour) -> Endpoint:
    ns = OASIS1 if flavour is Flavour.OASIS_1 else BUSDOX
    profile = (element.get("transportProfile") or "").strip()
    if not profile:
        raise _fail("SMP_DOCUMENT_INVALID", "Endpoint without @transportProfile")
    if flavour is Flavour.PEPPOL:
        reference = _child(element, WSA, "EndpointReference")
        address = _text(reference, WSA, "Address")
    else:
        address = _text(element, ns, "EndpointURI")
    certificate = _certificate(_text(element, ns, "Certificate"), "Endpoint/Certificate")
    return Endpoint(
        transport_profile=profile, address=address or "",
        certificates=(EndpointCertificate(certificate, CertificateUse.ANY),),
        activation=_datetime(_text(element, ns, "ServiceActivationDate", required=False), "ServiceActivationDate"),
        expiration=_datetime(_text(element, ns, "ServiceExpirationDate", required=False), "ServiceExpirationDate"),
        require_business_signature=_boolean(_text(element, ns, "RequireBusinessLevelSignature", required=False)),
        description=_text(element, ns, "ServiceDescription", required=False),
        contact=_text(element, ns, "TechnicalContactUrl", required=False),
    )


def _service_metadata_1(metadata: etree._Element, flavour: Flavour) -> ServiceMetadata:
    ns, ids = (OASIS1 if flavour is Flavour.OASIS_1 else BUSDOX), _ids_ns(flavour)
    information = _child(metadata, ns, "ServiceInformation", required=False)
    redirect_el = _child(metadata, ns, "Redirect", required=False)
    if (information is None) == (redirect_el is None):
        raise _fail("SMP_DOCUMENT_INVALID", "ServiceMetadata needs exactly one of ServiceInformation and Redirect")
    if redirect_el is not None:
        href = (redirect_el.get("href") or "").strip()
        uid = _text(redirect_el, ns, "CertificateUID")
        if not href:
            raise _fail("SMP_DOCUMENT_INVALID", "Redirect without @href")
        return ServiceMetadata(flavour, _placeholder_participant(), None, redirect=Redirect(href, certificate_uid=uid))
    assert information is not None
    participant = _identifier(_child(information, ids, "ParticipantIdentifier"), Kind.PARTICIPANT, "scheme")
    document = _identifier(_child(information, ids, "DocumentIdentifier"), Kind.DOCUMENT, "scheme")
    groups = []
    for process in _child(information, ns, "ProcessList").findall(_q(ns, "Process")):
        process_id = _identifier(_child(process, ids, "ProcessIdentifier"), Kind.PROCESS, "scheme")
        endpoint_list = _child(process, ns, "ServiceEndpointList")
        endpoints = tuple(_endpoint_1(e, flavour) for e in endpoint_list.findall(_q(ns, "Endpoint")))
        if not endpoints:
            raise _fail("SMP_DOCUMENT_INVALID", "ServiceEndpointList without Endpoint")
        groups.append(ProcessGroup((process_id,), endpoints))
    if not groups:
        raise _fail("SMP_DOCUMENT_INVALID", "ProcessList without Process")
    return ServiceMetadata(flavour, participant, document, tuple(groups))


def _placeholder_participant() -> Identifier:
    # A 1.0 Redirect names no participant; the caller knows whom it asked for.
    return Identifier(Kind.PARTICIPANT, None, "(redirect)")


# --- SMP 2.0 --------------------------------------------------------------------------------------------

def certificate_use(type_code: str | None, uses: dict[str, CertificateUse] | None) -> CertificateUse:
    """Map a TypeCode to its use: an exact configured code first, then the words eDelivery profiles use."""
    if type_code is None:
        return CertificateUse.ANY
    if uses and type_code in uses:
        return uses[type_code]
    lowered = type_code.lower()
    if "exchange" in lowered or "agreement" in lowered:
        return CertificateUse.KEY_EXCHANGE
    if "encrypt" in lowered:
        return CertificateUse.ENCRYPTION
    if "sign" in lowered:
        return CertificateUse.SIGNING
    return CertificateUse.ANY


def _certificates_2(parent: etree._Element, uses: dict[str, CertificateUse] | None) -> tuple[EndpointCertificate, ...]:
    out = []
    for element in parent.findall(_q(SMP2_AGG, "Certificate")):
        type_code = _text(element, SMP2_BASIC, "TypeCode", required=False)
        out.append(EndpointCertificate(
            _certificate(_text(element, SMP2_BASIC, "ContentBinaryObject"), "Certificate/ContentBinaryObject"),
            certificate_use(type_code, uses), type_code,
            _datetime(_text(element, SMP2_BASIC, "ActivationDate", required=False), "Certificate/ActivationDate"),
            _datetime(_text(element, SMP2_BASIC, "ExpirationDate", required=False), "Certificate/ExpirationDate"),
        ))
    return tuple(out)


def _endpoint_2(element: etree._Element, uses: dict[str, CertificateUse] | None) -> Endpoint:
    return Endpoint(
        transport_profile=_text(element, SMP2_BASIC, "TransportProfileID") or "",
        address=_text(element, SMP2_BASIC, "AddressURI", required=False) or "",
        certificates=_certificates_2(element, uses),
        activation=_datetime(_text(element, SMP2_BASIC, "ActivationDate", required=False), "ActivationDate"),
        expiration=_datetime(_text(element, SMP2_BASIC, "ExpirationDate", required=False), "ExpirationDate"),
        description=_text(element, SMP2_BASIC, "Description", required=False),
        contact=_text(element, SMP2_BASIC, "Contact", required=False),
    )


def _check_version(root: etree._Element) -> None:
    version = _text(root, SMP2_BASIC, "SMPVersionID")
    if version != "2.0":
        raise _fail("SMP_DOCUMENT_VERSION", f"SMPVersionID {version!r}, expected '2.0'")


def _service_metadata_2(root: etree._Element, uses: dict[str, CertificateUse] | None) -> ServiceMetadata:
    _check_version(root)
    document = _identifier(_child(root, SMP2_BASIC, "ID"), Kind.DOCUMENT, "schemeID")
    participant = _identifier(_child(root, SMP2_BASIC, "ParticipantID"), Kind.PARTICIPANT, "schemeID")
    groups, redirect = [], None
    metadata_els = root.findall(_q(SMP2_AGG, "ProcessMetadata"))
    if not metadata_els:
        raise _fail("SMP_DOCUMENT_INVALID", "ServiceMetadata without ProcessMetadata")
    for metadata in metadata_els:
        processes = tuple(_identifier(_child(p, SMP2_BASIC, "ID"), Kind.PROCESS, "schemeID")
                          for p in metadata.findall(_q(SMP2_AGG, "Process")))
        roles = tuple((r.text or "").strip() for p in metadata.findall(_q(SMP2_AGG, "Process"))
                      for r in p.findall(_q(SMP2_BASIC, "RoleID")))
        endpoints = tuple(_endpoint_2(e, uses) for e in metadata.findall(_q(SMP2_AGG, "Endpoint")))
        redirect_el = _child(metadata, SMP2_AGG, "Redirect", required=False)
        if (redirect_el is None) == (not endpoints):
            raise _fail("SMP_DOCUMENT_INVALID", "ProcessMetadata needs Endpoint elements or one Redirect, not both")
        if redirect_el is not None:
            certs = tuple(c.certificate for c in _certificates_2(redirect_el, uses))
            redirect = Redirect(_text(redirect_el, SMP2_BASIC, "PublisherURI") or "", certificates=certs)
            continue
        groups.append(ProcessGroup(processes, endpoints, roles))
    if redirect is not None and groups:
        raise _fail("SMP_DOCUMENT_INVALID", "a ServiceMetadata mixing Redirect and Endpoint is not supported")
    return ServiceMetadata(Flavour.OASIS_2, participant, document, tuple(groups), redirect)


# --- entry points ----------------------------------------------------------------------------------------

def service_metadata_element(root: etree._Element) -> etree._Element:
    """The ServiceMetadata element of a (Signed)ServiceMetadata document."""
    flavour = flavour_of(root)
    name = etree.QName(root).localname
    if flavour is Flavour.OASIS_2:
        if name != "ServiceMetadata":
            raise _fail("SMP_DOCUMENT_UNKNOWN", f"expected ServiceMetadata, got {name}")
        return root
    ns = OASIS1 if flavour is Flavour.OASIS_1 else BUSDOX
    if name == "ServiceMetadata":
        return root
    if name != "SignedServiceMetadata":
        raise _fail("SMP_DOCUMENT_UNKNOWN", f"expected SignedServiceMetadata, got {name}")
    found = root.findall(_q(ns, "ServiceMetadata"))
    if len(found) != 1:
        raise _fail("SMP_DOCUMENT_INVALID", f"SignedServiceMetadata holds {len(found)} ServiceMetadata elements")
    return found[0]


def parse_service_metadata(root: etree._Element,
                           certificate_uses: dict[str, CertificateUse] | None = None) -> ServiceMetadata:
    flavour = flavour_of(root)
    element = service_metadata_element(root)
    if flavour is Flavour.OASIS_2:
        return _service_metadata_2(element, certificate_uses)
    return _service_metadata_1(element, flavour)


def parse_service_group(root: etree._Element) -> ServiceGroup:
    flavour = flavour_of(root)
    if etree.QName(root).localname != "ServiceGroup":
        raise _fail("SMP_DOCUMENT_UNKNOWN", f"expected ServiceGroup, got {etree.QName(root).localname}")
    if flavour is Flavour.OASIS_2:
        _check_version(root)
        participant = _identifier(_child(root, SMP2_BASIC, "ParticipantID"), Kind.PARTICIPANT, "schemeID")
        refs = tuple(ServiceReference(None, _identifier(_child(r, SMP2_BASIC, "ID"), Kind.DOCUMENT, "schemeID"))
                     for r in root.findall(_q(SMP2_AGG, "ServiceReference")))
        return ServiceGroup(flavour, participant, refs)
    ns, ids = (OASIS1 if flavour is Flavour.OASIS_1 else BUSDOX), _ids_ns(flavour)
    participant = _identifier(_child(root, ids, "ParticipantIdentifier"), Kind.PARTICIPANT, "scheme")
    collection = _child(root, ns, "ServiceMetadataReferenceCollection")
    refs = tuple(ServiceReference((r.get("href") or "").strip(), None)
                 for r in collection.findall(_q(ns, "ServiceMetadataReference")))
    return ServiceGroup(flavour, participant, refs)
