"""Shared documents, identities and helpers for the XML-DSig attack tests (test_xml_wrapping,
test_xml_key_checks, test_xml_malformed)."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from lxml import etree

from pki.xml import algorithms as A
from pki.xml import ns
from pki.xml.algorithms import AlgorithmPolicy
from pki.xml.keyinfo import (
    KeyResolutionError,
    binary_security_token,
    token_reference,
    use_certificate,
    x509_data,
)
from pki.xml.ns import q
from pki.xml.parser import parse_xml
from pki.xml.references import (
    SignatureError,
    Transform,
)
from pki.xml.signing import ReferenceSpec, SignOptions, sign
from pki.xml.verification import VerifiedSignature, verify
from tests.pki.xmlkeys import Identity, identity

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
S12 = "http://www.w3.org/2003/05/soap-envelope"
EB = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"
PAYLOAD = "urn:example:payload"
NS = {"samlp": SAMLP, "saml": SAML, "ds": ns.DS, "S12": S12, "wsse": ns.WSSE, "wsu": ns.WSU, "eb": EB, "p": PAYLOAD}
WSU_ID = q(ns.WSU, "Id")

NAME_ID = "alice@evil.example.good.example"
ASSERTION_ID = "_assertion-7f3a"
SAML_TEMPLATE = f"""<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="_response-1" Version="2.0"
    IssueInstant="2025-03-01T10:00:00Z" Destination="https://connector.gateway.example.lv/acs">
  <saml:Issuer>https://proxy.example.de/idp</saml:Issuer>
  <samlp:Extensions/>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <saml:Assertion ID="{ASSERTION_ID}" Version="2.0" IssueInstant="2025-03-01T10:00:00Z">
    <saml:Issuer>https://proxy.example.de/idp</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{NAME_ID}</saml:NameID>
    </saml:Subject>
    <saml:AttributeStatement>
      <saml:Attribute Name="http://eidas.europa.eu/attributes/naturalperson/CurrentFamilyName">
        <saml:AttributeValue>Bērziņa</saml:AttributeValue>
      </saml:Attribute>
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>""".encode()

MESSAGE_ID = "c0ffee-1@gateway.example.lv"
SOAP_TEMPLATE = f"""<S12:Envelope xmlns:S12="{S12}" xmlns:wsse="{ns.WSSE}" xmlns:wsu="{ns.WSU}" xmlns:eb="{EB}">
  <S12:Header>
    <eb:Messaging wsu:Id="_messaging" S12:mustUnderstand="true">
      <eb:UserMessage><eb:MessageInfo><eb:MessageId>{MESSAGE_ID}</eb:MessageId></eb:MessageInfo></eb:UserMessage>
    </eb:Messaging>
    <wsse:Security S12:mustUnderstand="true"/>
  </S12:Header>
  <S12:Body wsu:Id="_body"><p:Transfer xmlns:p="{PAYLOAD}" currency="EUR">amount=100;to=LV00BANK</p:Transfer></S12:Body>
</S12:Envelope>""".encode()
TOKEN_ID = "X509-token-1"

ENVELOPED = (Transform(A.ENVELOPED_SIGNATURE), Transform(A.EXC_C14N))


# --- documents ------------------------------------------------------------------------------------------

def saml_identity() -> Identity:
    return identity("p256", "a")


def soap_identity() -> Identity:
    return identity("rsa", "a")


def saml_response(
    ident: Identity | None = None,
    *,
    policy: AlgorithmPolicy = A.EIDAS_1_3,
    algorithm: str | None = None,
    digest: str | None = None,
    key_info: etree._Element | str | None = "x509",
    transforms: tuple[Transform, ...] = ENVELOPED,
) -> bytes:
    """The Response with an enveloped signature inside the Assertion (after its Issuer), serialized."""
    ident = ident or saml_identity()
    root = parse_xml(SAML_TEMPLATE).getroot()
    assertion = root.find("saml:Assertion", NS)
    info = x509_data([ident.cert]) if key_info == "x509" else key_info
    sign(
        assertion,
        [ReferenceSpec(element=assertion, transforms=transforms, digest=digest)],
        ident.signer,
        SignOptions(policy=policy, signature_algorithm=algorithm, key_info=info),
        index=1,
    )
    return etree.tostring(root)


def soap_envelope(
    ident: Identity | None = None,
    *,
    policy: AlgorithmPolicy = A.EDELIVERY_AS4_1_15,
    algorithm: str | None = None,
    key_info: etree._Element | str | None = "bst",
    digest: str | None = None,
    transforms: tuple[Transform, ...] = (Transform(A.EXC_C14N),),
) -> bytes:
    """The envelope with a BinarySecurityToken and a detached signature over Messaging and Body."""
    ident = ident or soap_identity()
    root = parse_xml(SOAP_TEMPLATE).getroot()
    security = root.find(".//wsse:Security", NS)
    if key_info == "bst":
        security.append(binary_security_token(ident.cert, TOKEN_ID))
        info = token_reference(token_id=TOKEN_ID)
    else:
        info = key_info
    sign(
        security,
        [ReferenceSpec(element=root.find(path, NS), transforms=transforms, digest=digest)
         for path in (".//eb:Messaging", "S12:Body")],
        ident.signer,
        SignOptions(policy=policy, signature_algorithm=algorithm, key_info=info),
    )
    return etree.tostring(root)


def attacked(data: bytes, mutate: Callable[[etree._Element], object]) -> etree._Element:
    """Apply ``mutate`` to a parsed copy, serialize, and parse the result again with the hardened parser."""
    root = parse_xml(data).getroot()
    mutate(root)
    return parse_xml(etree.tostring(root)).getroot()


def the_signature(root: etree._Element) -> etree._Element:
    signatures = list(root.iter(q(ns.DS, "Signature")))
    assert len(signatures) == 1
    return signatures[0]


def verify_saml(root: etree._Element, policy: AlgorithmPolicy = A.EIDAS_1_3, **kw) -> VerifiedSignature:
    return verify(the_signature(root), use_certificate(saml_identity().cert), policy, **kw)


def verify_soap(root: etree._Element, policy: AlgorithmPolicy = A.EDELIVERY_AS4_1_15) -> VerifiedSignature:
    return verify(the_signature(root), use_certificate(soap_identity().cert), policy)


def signature_error(code: str, call: Callable[[], object]) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        call()
    assert caught.value.code == code, caught.value
    return caught.value


def key_error(code: str, call: Callable[[], object]) -> KeyResolutionError:
    with pytest.raises(KeyResolutionError) as caught:
        call()
    assert caught.value.code == code, caught.value
    return caught.value


def forged_assertion(original: etree._Element, new_id: str | None) -> etree._Element:
    """A copy of the Assertion, without its signature, naming someone else (and with another ID if given)."""
    forged = copy.deepcopy(original)
    for signature in forged.findall("ds:Signature", NS):
        forged.remove(signature)
    forged.find(".//saml:NameID", NS).text = "mallory@evil.example"
    if new_id is not None:
        forged.set("ID", new_id)
    return forged


