"""The national front end (sans-IO): SAML 2.0 IdP toward Latvian portals registered by metadata.

A portal gets a signed Response whose signed Assertion names the person by the national identifier
(NameID and attribute) and carries the eIDAS attributes as read, the eIDAS LoA as AuthnContextClassRef and
how the identity was matched. When the portal's metadata lists an encryption key, the assertion is
encrypted with AES-256-GCM (RSA-OAEP or ECDH-ES key agreement), never 3DES or CBC.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from lxml import etree

from eidas_node.mapping import MappedIdentity
from eidas_node.metadata import SpMetadata
from eidas_node.request import new_id, sign_saml
from eidas_node.saml import (
    BEARER,
    ENTITY_FORMAT,
    PERSISTENT,
    SAML,
    SAMLP,
    STATUS_SUCCESS,
    URI_NAME_FORMAT,
    q,
    saml_time,
)
from pki.keys.port import Signer
from pki.xml import ns as dsns
from pki.xml.algorithms import EIDAS_1_3, AlgorithmPolicy
from pki.xml.encryption import encrypt_element, encrypted_key, new_cek
from pki.xml.keyinfo import x509_data

NATIONAL_ID = "urn:lv:eidas-connector:attribute:personal-code"
LEGAL_NATIONAL_ID = "urn:lv:eidas-connector:attribute:legal-code"
COUNTRY = "urn:lv:eidas-connector:attribute:country"
MATCHED_BY = "urn:lv:eidas-connector:attribute:matched-by"
VALIDITY = timedelta(minutes=5)


def _response(issuer: str, portal: SpMetadata, in_response_to: str, now: datetime) -> etree._Element:
    response = etree.Element(q(SAMLP, "Response"), nsmap={"saml2p": SAMLP, "saml2": SAML, "ds": dsns.DS})
    response.set("ID", new_id())
    response.set("Version", "2.0")
    response.set("IssueInstant", saml_time(now))
    response.set("Destination", portal.acs_url)
    response.set("InResponseTo", in_response_to)
    etree.SubElement(response, q(SAML, "Issuer"), Format=ENTITY_FORMAT).text = issuer
    return response


def _status(response: etree._Element, top: str, second: str | None = None, message: str | None = None) -> None:
    status = etree.SubElement(response, q(SAMLP, "Status"))
    code = etree.SubElement(status, q(SAMLP, "StatusCode"), Value=top)
    if second:
        etree.SubElement(code, q(SAMLP, "StatusCode"), Value=second)
    if message:
        etree.SubElement(status, q(SAMLP, "StatusMessage")).text = message


def _attribute(statement: etree._Element, name: str, values: tuple[str, ...] | list[str]) -> None:
    attribute = etree.SubElement(statement, q(SAML, "Attribute"), Name=name, NameFormat=URI_NAME_FORMAT)
    for value in values:
        etree.SubElement(attribute, q(SAML, "AttributeValue")).text = value


def portal_response(*, issuer: str, signer: Signer, portal: SpMetadata, in_response_to: str,
                    mapped: MappedIdentity, now: datetime, policy: AlgorithmPolicy = EIDAS_1_3) -> bytes:
    response = _response(issuer, portal, in_response_to, now)
    _status(response, STATUS_SUCCESS)
    assertion = etree.Element(q(SAML, "Assertion"), nsmap={"saml2": SAML, "ds": dsns.DS})
    assertion.set("ID", new_id())
    assertion.set("Version", "2.0")
    assertion.set("IssueInstant", saml_time(now))
    assertion_issuer = etree.SubElement(assertion, q(SAML, "Issuer"), Format=ENTITY_FORMAT)
    assertion_issuer.text = issuer
    subject = etree.SubElement(assertion, q(SAML, "Subject"))
    etree.SubElement(subject, q(SAML, "NameID"), Format=PERSISTENT, NameQualifier=issuer,
                     SPNameQualifier=portal.entity_id).text = mapped.national_id
    confirmation = etree.SubElement(subject, q(SAML, "SubjectConfirmation"), Method=BEARER)
    etree.SubElement(confirmation, q(SAML, "SubjectConfirmationData"), InResponseTo=in_response_to,
                     NotOnOrAfter=saml_time(now + VALIDITY), Recipient=portal.acs_url)
    conditions = etree.SubElement(assertion, q(SAML, "Conditions"), NotBefore=saml_time(now),
                                  NotOnOrAfter=saml_time(now + VALIDITY))
    etree.SubElement(etree.SubElement(conditions, q(SAML, "AudienceRestriction")),
                     q(SAML, "Audience")).text = portal.entity_id
    identity = mapped.identity
    authn = etree.SubElement(assertion, q(SAML, "AuthnStatement"), AuthnInstant=saml_time(identity.authn_instant))
    etree.SubElement(etree.SubElement(authn, q(SAML, "AuthnContext")),
                     q(SAML, "AuthnContextClassRef")).text = identity.loa
    statement = etree.SubElement(assertion, q(SAML, "AttributeStatement"))
    _attribute(statement, NATIONAL_ID, [mapped.national_id])
    if mapped.legal_national_id:
        _attribute(statement, LEGAL_NATIONAL_ID, [mapped.legal_national_id])
    _attribute(statement, COUNTRY, [identity.country])
    _attribute(statement, MATCHED_BY, [mapped.how])
    for name, values in sorted(identity.attributes.items()):
        _attribute(statement, name, values)
    sign_saml(assertion, signer, policy, None, after=assertion_issuer)
    if portal.encryption_certificates:
        holder = etree.SubElement(response, q(SAML, "EncryptedAssertion"))
        holder.append(assertion)
        recipient = portal.encryption_certificates[0]
        algorithm, cek = new_cek(policy)  # AES-256-GCM under the eIDAS policy
        key = encrypted_key(cek, recipient, x509_data([recipient]), policy)
        encrypt_element(assertion, cek, algorithm, key_info=key)
    else:
        response.append(assertion)
    sign_saml(response, signer, policy, None, after=response[0])
    return etree.tostring(response, xml_declaration=True, encoding="UTF-8")


def portal_error(*, issuer: str, signer: Signer, portal: SpMetadata, in_response_to: str, top: str,
                 second: str | None, message: str, now: datetime, policy: AlgorithmPolicy = EIDAS_1_3) -> bytes:
    """A signed Response with a non-success status (cancelled, authentication failed, not matched)."""
    response = _response(issuer, portal, in_response_to, now)
    _status(response, top, second, message)
    sign_saml(response, signer, policy, None, after=response[0])
    return etree.tostring(response, xml_declaration=True, encoding="UTF-8")


