"""Building eIDAS Responses as a proxy service does (sans-IO), with switches for deliberately broken ones.

Test-only tooling: it signs with weak algorithms or wraps signatures when asked, so the connector's checks
can be shown to refuse each fault. Nothing here is used to accept responses.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from cryptography import x509
from lxml import etree

from eidas_node import attributes as attrs
from eidas_node.request import new_id, sign_saml
from eidas_node.saml import (
    BEARER,
    EIDAS,
    ENTITY_FORMAT,
    LEGAL,
    NATURAL,
    PERSISTENT,
    SAML,
    SAMLP,
    STATUS_REQUESTER,
    STATUS_RESPONDER,
    STATUS_SUCCESS,
    URI_NAME_FORMAT,
    XS,
    XSI,
    q,
    saml_time,
)
from eidas_node.simulator.xsw import wrap
from pki.keys.port import Signer
from pki.xml import algorithms as A
from pki.xml import ns as dsns
from pki.xml.algorithms import EIDAS_1_3, AlgorithmPolicy
from pki.xml.encryption import XENC, encrypt_element, encrypted_key, new_cek
from pki.xml.keyinfo import x509_data
from pki.xml.references import Transform
from pki.xml.signing import ReferenceSpec, SignOptions, sign

# Signs and encrypts anything the layer implements, SHA-1 included: only for producing refused samples.
WEAK = AlgorithmPolicy(
    "simulator-weak", frozenset(A.SIGNATURES), frozenset(A.DIGESTS), frozenset({A.EXC_C14N}),
    frozenset({A.ENVELOPED_SIGNATURE, A.EXC_C14N}), A.ECDSA_SHA256, encryption=EIDAS_1_3.encryption)


@dataclass(frozen=True)
class TestUser:
    username: str
    person_identifier: str  # CC/LV/id
    family_name: str
    given_name: str
    date_of_birth: str
    loa: str = "http://eidas.europa.eu/LoA/high"
    extra: dict[str, str] = field(default_factory=dict)  # attribute URI -> value (optional attributes)
    legal_person_identifier: str | None = None
    legal_name: str | None = None


@dataclass(frozen=True)
class Faults:
    """Each switch breaks one thing; the default is a correct response."""

    status: str | None = None  # a second-level status URI: the login failed or was cancelled
    unsigned_response: bool = False
    unsigned_assertion: bool = False
    inject_plain_assertion: bool = False  # an unsigned assertion beside the encrypted one
    response_xsw: int | None = None
    assertion_xsw: int | None = None
    issuer: str | None = None
    assertion_issuer: str | None = None
    person_country: str | None = None  # origin country written into the PersonIdentifier
    destination: str | None = None
    recipient: str | None = None
    audience: str | None = None
    in_response_to: str | None = None
    loa: str | None = None
    age: timedelta = timedelta(0)  # issue everything this long ago
    signature_algorithm: str | None = None  # e.g. ecdsa-sha1
    digest: str | None = None  # e.g. sha1
    data_encryption: str | None = None  # e.g. tripledes-cbc, aes128-cbc (URI only: refused before crypto)
    key_transport: str | None = None  # e.g. rsa-1_5 (URI only)
    name_id_comment: bool = False  # NameID "alice<!---->.evil" split by a comment
    omit_attribute: str | None = None
    sign_with: Signer | None = None  # a key the metadata does not list
    untyped_values: bool = False  # xs:string values instead of the eIDAS types (pysaml2 cannot read those)


NO_FAULTS = Faults()


@dataclass(frozen=True)
class ProxyService:
    entity_id: str
    country: str
    signer: Signer
    policy: AlgorithmPolicy = EIDAS_1_3


@dataclass(frozen=True)
class RequestInfo:
    request_id: str
    acs_url: str
    sp_entity_id: str
    loa: str


def _signature_algorithm(signer: Signer) -> str:
    return A.RSA_PSS_SHA256 if signer.family == "rsa" else A.ECDSA_SHA256


def _sign(element: etree._Element, idp: ProxyService, faults: Faults) -> None:
    signer = faults.sign_with or idp.signer
    policy = WEAK if (faults.signature_algorithm or faults.digest) else idp.policy
    if faults.digest:  # a weak digest: built by hand, sign_saml always uses the policy's
        reference = ReferenceSpec(element=element, transforms=(Transform(A.ENVELOPED_SIGNATURE),
                                                               Transform(A.EXC_C14N)), digest=faults.digest)
        options = SignOptions(policy=policy, signature_algorithm=faults.signature_algorithm or
                              _signature_algorithm(signer), key_info=x509_data([signer.certificate]))
        sign(element, [reference], signer, options, index=1)
        return
    sign_saml(element, signer, policy, faults.signature_algorithm or _signature_algorithm(signer),
              after=element[0])


def _attribute(statement: etree._Element, name: str, value: str, *, typed: bool = True) -> None:
    definition = attrs.REGISTRY.get(name)
    attribute = etree.SubElement(statement, q(SAML, "Attribute"), Name=name, NameFormat=URI_NAME_FORMAT)
    if definition is not None:
        attribute.set("FriendlyName", definition.friendly)
    element = etree.SubElement(attribute, q(SAML, "AttributeValue"))
    if definition is not None and typed and definition.xsi_type != "string":
        prefix = "eidas-natural" if definition.namespace == NATURAL else "eidas-legal"
        element.set(q(XSI, "type"), f"{prefix}:{definition.xsi_type}")
    else:
        element.set(q(XSI, "type"), "xs:string")
    element.text = value


def build_assertion(idp: ProxyService, request: RequestInfo, user: TestUser, now: datetime, faults: Faults,
                    *, issuer: str | None = None) -> etree._Element:
    issued = now - faults.age
    assertion = etree.Element(q(SAML, "Assertion"), nsmap={
        "saml2": SAML, "ds": dsns.DS, "xsi": XSI, "xs": XS, "eidas-natural": NATURAL, "eidas-legal": LEGAL})
    assertion.set("ID", new_id())
    assertion.set("Version", "2.0")
    assertion.set("IssueInstant", saml_time(issued))
    etree.SubElement(assertion, q(SAML, "Issuer"), Format=ENTITY_FORMAT).text = issuer or idp.entity_id
    subject = etree.SubElement(assertion, q(SAML, "Subject"))
    name_id = etree.SubElement(subject, q(SAML, "NameID"), Format=PERSISTENT,
                               NameQualifier=idp.entity_id, SPNameQualifier=request.sp_entity_id)
    identifier = user.person_identifier
    if faults.person_country:
        identifier = faults.person_country + identifier[2:]
    if faults.name_id_comment:  # "legit-user" + comment + ".evil": a reader of .text sees only "legit-user"
        name_id.text = identifier
        name_id.append(etree.Comment(" injected "))
        name_id[-1].tail = ".evil"
    else:
        name_id.text = identifier
    confirmation = etree.SubElement(subject, q(SAML, "SubjectConfirmation"), Method=BEARER)
    etree.SubElement(confirmation, q(SAML, "SubjectConfirmationData"), {
        "InResponseTo": faults.in_response_to or request.request_id,
        "NotOnOrAfter": saml_time(issued + timedelta(minutes=5)),
        "Recipient": faults.recipient or request.acs_url})
    conditions = etree.SubElement(assertion, q(SAML, "Conditions"), NotBefore=saml_time(issued),
                                  NotOnOrAfter=saml_time(issued + timedelta(minutes=5)))
    restriction = etree.SubElement(conditions, q(SAML, "AudienceRestriction"))
    etree.SubElement(restriction, q(SAML, "Audience")).text = faults.audience or request.sp_entity_id
    authn = etree.SubElement(assertion, q(SAML, "AuthnStatement"), AuthnInstant=saml_time(issued))
    context = etree.SubElement(authn, q(SAML, "AuthnContext"))
    etree.SubElement(context, q(SAML, "AuthnContextClassRef")).text = faults.loa or user.loa
    statement = etree.SubElement(assertion, q(SAML, "AttributeStatement"))
    values = {attrs.PERSON_IDENTIFIER: identifier, attrs.FAMILY_NAME: user.family_name,
              attrs.GIVEN_NAME: user.given_name, attrs.DATE_OF_BIRTH: user.date_of_birth, **user.extra}
    if user.legal_person_identifier:
        values[attrs.LEGAL_PERSON_IDENTIFIER] = user.legal_person_identifier
        values[attrs.LEGAL_NAME] = user.legal_name or ""
    for name, value in values.items():
        if name != faults.omit_attribute:
            _attribute(statement, name, value, typed=not faults.untyped_values)
    return assertion


def _status(parent: etree._Element, second_level: str | None) -> None:
    status = etree.SubElement(parent, q(SAMLP, "Status"))
    if second_level is None:
        etree.SubElement(status, q(SAMLP, "StatusCode"), Value=STATUS_SUCCESS)
        return
    top = STATUS_REQUESTER if second_level.endswith("RequestDenied") else STATUS_RESPONDER
    code = etree.SubElement(status, q(SAMLP, "StatusCode"), Value=top)
    etree.SubElement(code, q(SAMLP, "StatusCode"), Value=second_level)
    etree.SubElement(status, q(SAMLP, "StatusMessage")).text = (
        "The user cancelled the authentication" if second_level.endswith("RequestDenied")
        else "Authentication failed")


def _encrypt(assertions: list[etree._Element], holder: etree._Element, recipient: x509.Certificate,
             idp: ProxyService, faults: Faults) -> None:
    """One assertion is encrypted as an Element; several (a wrapping attack) together as the holder's Content."""
    policy = idp.policy
    algorithm, cek = new_cek(policy)
    key = encrypted_key(cek, recipient, x509_data([recipient]), policy)
    for assertion in assertions:
        holder.append(assertion)
    if len(assertions) == 1:
        encrypted = encrypt_element(assertions[0], cek, algorithm, key_info=key)
    else:
        encrypted = encrypt_element(holder, cek, algorithm, content=True, key_info=key)
    if faults.data_encryption:
        encrypted.find(q(XENC, "EncryptionMethod")).set("Algorithm", faults.data_encryption)
    if faults.key_transport:
        key.find(q(XENC, "EncryptionMethod")).set("Algorithm", faults.key_transport)


def build_response(idp: ProxyService, request: RequestInfo, user: TestUser | None, recipient: x509.Certificate,
                   now: datetime, faults: Faults = NO_FAULTS) -> bytes:
    """A signed Response with one signed, encrypted assertion (or a signed error Response when ``user`` is
    None or ``faults.status`` is set)."""
    issued = now - faults.age
    response = etree.Element(q(SAMLP, "Response"), nsmap={"saml2p": SAMLP, "saml2": SAML, "ds": dsns.DS,
                                                           "eidas": EIDAS, "xenc": XENC})
    response.set("ID", new_id())
    response.set("Version", "2.0")
    response.set("IssueInstant", saml_time(issued))
    response.set("Destination", faults.destination or request.acs_url)
    response.set("InResponseTo", faults.in_response_to or request.request_id)
    etree.SubElement(response, q(SAML, "Issuer"), Format=ENTITY_FORMAT).text = faults.issuer or idp.entity_id
    failed = user is None or faults.status is not None
    _status(response, faults.status if failed else None)
    if not failed:
        assert user is not None
        assertion = build_assertion(idp, request, user, now, faults, issuer=faults.assertion_issuer)
        if not faults.unsigned_assertion:
            _sign(assertion, idp, faults)
        assertions = [assertion]
        if faults.assertion_xsw:
            holder = etree.Element(q(SAML, "EncryptedAssertion"))
            holder.append(assertion)
            wrap(assertion, faults.assertion_xsw, _tamper)
            assertions = list(holder)  # the evil assertion, and for variant 3 the original beside it
        if faults.inject_plain_assertion:
            plain = build_assertion(idp, replace(request), user, now, faults)
            plain.find(f"{q(SAML, 'Subject')}/{q(SAML, 'NameID')}").text = "XX/LV/attacker"
            response.append(plain)
        _encrypt(assertions, etree.SubElement(response, q(SAML, "EncryptedAssertion")), recipient, idp, faults)
    if not faults.unsigned_response:
        _sign(response, idp, faults)
    if faults.response_xsw:
        response = wrap(response, faults.response_xsw, _tamper)
    return etree.tostring(response, xml_declaration=True, encoding="UTF-8")


def _tamper(evil: etree._Element) -> None:
    """What the attacker changes in the unsigned copy: the person it is about."""
    for name_id in evil.iter(q(SAML, "NameID")):
        name_id.text = "XX/LV/attacker"
    for value in evil.iter(q(SAML, "AttributeValue")):
        if value.getparent().get("Name") == attrs.PERSON_IDENTIFIER:
            value.text = "XX/LV/attacker"
    for status in evil.iter(q(SAMLP, "StatusCode")):
        status.set("Value", STATUS_SUCCESS)
