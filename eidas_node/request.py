"""eIDAS AuthnRequest (sans-IO): build, sign through pki, and put on the HTTP-POST or HTTP-Redirect binding.

The request ID is the correlation key for the response (InResponseTo); the caller stores it as a pending
request with what was asked (LoA, required attributes, country), so the response checks compare against it.
RelayState is opaque and short (SAML bindings §3.4.3: at most 80 bytes); the connector only ever puts a
random session key there, never a URL, so nothing the browser sends back can steer a redirect.
"""

from __future__ import annotations

import base64
import html
import secrets
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from lxml import etree

from eidas_node.attributes import REGISTRY
from eidas_node.saml import (
    EIDAS,
    ENTITY_FORMAT,
    LOA_RANK,
    NAME_ID_FORMATS,
    PERSISTENT,
    POST_BINDING,
    SAML,
    SAMLP,
    URI_NAME_FORMAT,
    EidasError,
    q,
    saml_time,
)
from pki.keys.port import Signer
from pki.xml import algorithms as A
from pki.xml import ns as dsns
from pki.xml.algorithms import EIDAS_1_3, ENVELOPED_SIGNATURE, EXC_C14N, AlgorithmPolicy
from pki.xml.keyinfo import x509_data
from pki.xml.parser import parse_xml
from pki.xml.references import Transform
from pki.xml.signing import ReferenceSpec, SignOptions, sign

RELAY_STATE_MAX = 80


@dataclass(frozen=True)
class RequestedAttribute:
    name: str
    required: bool

    @property
    def friendly(self) -> str:
        return REGISTRY[self.name].friendly if self.name in REGISTRY else self.name.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ServiceProvider:
    """Who we are toward foreign proxy services (the connector's SP side)."""

    entity_id: str  # our metadata URL: Issuer, and the Audience we expect
    acs_url: str  # where responses come back: Destination and Recipient we expect
    country: str = "LV"
    sp_type: str = "public"
    provider_name: str = "Latvija.lv eIDAS connector"
    signature_algorithm: str | None = None  # default: the policy's (ECDSA-SHA256 for eIDAS)
    policy: AlgorithmPolicy = EIDAS_1_3


@dataclass(frozen=True)
class AuthnRequestSpec:
    destination: str  # the proxy service's SSO endpoint from its metadata
    loa: str
    attributes: Sequence[RequestedAttribute]
    force_authn: bool = True
    name_id_format: str = PERSISTENT
    requester_id: str | None = None  # the Latvian portal on whose behalf we ask (attribute profile 1.2)


@dataclass(frozen=True)
class BuiltRequest:
    request_id: str
    issue_instant: datetime
    xml: bytes
    signed: bool
    spec: AuthnRequestSpec = field(repr=False)


def new_id() -> str:
    # xs:ID must start with a letter or underscore; 128 bits of randomness make it unguessable.
    return "_" + secrets.token_hex(16)


def build_authn_request(sp: ServiceProvider, spec: AuthnRequestSpec, now: datetime, *, signer: Signer | None,
                        request_id: str | None = None) -> BuiltRequest:
    """The AuthnRequest, signed (enveloped, for HTTP-POST) when ``signer`` is given. For HTTP-Redirect pass
    ``signer=None`` and sign the query string with :func:`redirect_binding` instead."""
    if spec.loa not in LOA_RANK:
        raise EidasError("EIDAS_LOA_UNKNOWN", f"not an eIDAS LoA: {spec.loa!r}")
    if spec.name_id_format not in NAME_ID_FORMATS:
        raise EidasError("EIDAS_NAMEID_FORMAT", f"NameIDPolicy format not allowed by eIDAS: {spec.name_id_format}")
    if not spec.attributes:
        raise EidasError("EIDAS_NO_ATTRIBUTES", "an eIDAS request asks for at least one attribute")
    request_id = request_id or new_id()
    root = etree.Element(q(SAMLP, "AuthnRequest"), nsmap={"saml2p": SAMLP, "saml2": SAML, "eidas": EIDAS})
    root.set("ID", request_id)
    root.set("Version", "2.0")
    root.set("IssueInstant", saml_time(now))
    root.set("Destination", spec.destination)
    root.set("ForceAuthn", "true" if spec.force_authn else "false")
    root.set("IsPassive", "false")
    root.set("ProviderName", sp.provider_name)
    root.set("ProtocolBinding", POST_BINDING)
    root.set("AssertionConsumerServiceURL", sp.acs_url)
    issuer = etree.SubElement(root, q(SAML, "Issuer"), Format=ENTITY_FORMAT)
    issuer.text = sp.entity_id
    extensions = etree.SubElement(root, q(SAMLP, "Extensions"))
    etree.SubElement(extensions, q(EIDAS, "SPType")).text = sp.sp_type
    requested = etree.SubElement(extensions, q(EIDAS, "RequestedAttributes"))
    for attribute in spec.attributes:
        etree.SubElement(requested, q(EIDAS, "RequestedAttribute"), FriendlyName=attribute.friendly,
                         Name=attribute.name, NameFormat=URI_NAME_FORMAT,
                         isRequired="true" if attribute.required else "false")
    etree.SubElement(root, q(SAMLP, "NameIDPolicy"), AllowCreate="true", Format=spec.name_id_format)
    context = etree.SubElement(root, q(SAMLP, "RequestedAuthnContext"), Comparison="minimum")
    etree.SubElement(context, q(SAML, "AuthnContextClassRef")).text = spec.loa
    if spec.requester_id:  # eIDAS 1.2 "identification of relying parties": the portal we ask for
        if len(spec.requester_id) > 1024:
            raise EidasError("EIDAS_REQUESTER_ID", "requesterId is at most 1024 characters")
        scoping = etree.SubElement(root, q(SAMLP, "Scoping"))
        etree.SubElement(scoping, q(SAMLP, "RequesterID")).text = spec.requester_id
    if signer is not None:
        sign_saml(root, signer, sp.policy, sp.signature_algorithm, after=issuer)
    return BuiltRequest(request_id, now, etree.tostring(root, xml_declaration=True, encoding="UTF-8"),
                        signer is not None, spec)


def sign_saml(element: etree._Element, signer: Signer, policy: AlgorithmPolicy, algorithm: str | None, *,
              after: etree._Element | None) -> etree._Element:
    """Enveloped signature over ``element`` by its ID, placed right after ``after`` (the Issuer), where the
    SAML schemas put ds:Signature."""
    if algorithm is None:  # eIDAS: RSA keys sign with RSASSA-PSS, never PKCS#1 v1.5
        algorithm = A.RSA_PSS_SHA256 if signer.family == "rsa" else policy.default_signature
    options = SignOptions(policy=policy, signature_algorithm=algorithm,
                          key_info=x509_data([signer.certificate]) if signer.certificate is not None else None)
    reference = ReferenceSpec(element=element, transforms=(Transform(ENVELOPED_SIGNATURE), Transform(EXC_C14N)))
    return sign(element, [reference], signer, options, index=0 if after is None else element.index(after) + 1)


def check_relay_state(relay_state: str | None) -> str | None:
    if relay_state is None:
        return None
    if len(relay_state.encode()) > RELAY_STATE_MAX or not relay_state.isprintable():
        raise EidasError("EIDAS_RELAY_STATE", "RelayState must be at most 80 printable bytes")
    return relay_state


def post_binding(xml: bytes, destination: str, relay_state: str | None, *, field_name: str = "SAMLRequest") -> str:
    """An auto-submitting HTML form (with a visible button for browsers without JavaScript)."""
    check_relay_state(relay_state)
    value = base64.b64encode(xml).decode()
    relay = "" if relay_state is None else (
        f'<input type="hidden" name="RelayState" value="{html.escape(relay_state, quote=True)}">')
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Redirecting</title></head>'
        '<body onload="document.forms[0].submit()">'
        f'<form method="post" action="{html.escape(destination, quote=True)}">'
        f'<input type="hidden" name="{field_name}" value="{value}">{relay}'
        '<noscript><p>JavaScript is off: press the button to continue.</p></noscript>'
        '<button type="submit">Continue / Turpināt</button></form></body></html>'
    )


def redirect_binding(xml: bytes, destination: str, relay_state: str | None, signer: Signer,
                     policy: AlgorithmPolicy = EIDAS_1_3, algorithm: str | None = None, *,
                     field_name: str = "SAMLRequest") -> str:
    """HTTP-Redirect (bindings §3.4.4.1): DEFLATE + base64 of the unsigned XML; the signature covers the
    query string ``SAMLRequest=..&RelayState=..&SigAlg=..`` in that order."""
    check_relay_state(relay_state)
    if parse_xml(xml).getroot().find(q(dsns.DS, "Signature")) is not None:
        raise EidasError("EIDAS_REDIRECT_SIGNED_XML", "HTTP-Redirect carries its signature in the query string")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    encoded = base64.b64encode(compressor.compress(xml) + compressor.flush()).decode()
    if algorithm is None:
        algorithm = A.RSA_PSS_SHA256 if signer.family == "rsa" else policy.default_signature
    signature_algorithm = policy.check_signature(algorithm)
    pairs = [(field_name, encoded)]
    if relay_state is not None:
        pairs.append(("RelayState", relay_state))
    pairs.append(("SigAlg", signature_algorithm.uri))
    signed = urlencode(pairs).encode()
    signature = base64.b64encode(signer.sign(signed, signature_algorithm)).decode()
    separator = "&" if "?" in destination else "?"
    return destination + separator + signed.decode() + "&" + urlencode([("Signature", signature)])


def inflate(encoded: str, *, max_bytes: int = 256 * 1024) -> bytes:
    """Undo the Redirect binding's DEFLATE, with a cap on the expansion (a deflate bomb is refused)."""
    try:
        raw = base64.b64decode(encoded, validate=True)
        decompressor = zlib.decompressobj(-15)
        data = decompressor.decompress(raw, max_bytes + 1)
    except (ValueError, zlib.error):
        raise EidasError("EIDAS_BINDING_MALFORMED", "SAMLRequest is not base64 DEFLATE data",
                         status="urn:oasis:names:tc:SAML:2.0:status:Requester") from None
    if len(data) > max_bytes or decompressor.unconsumed_tail:
        raise EidasError("EIDAS_BINDING_TOO_LARGE", "inflated message exceeds the limit")
    return data
