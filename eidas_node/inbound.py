"""Receiving an AuthnRequest (sans-IO), as an IdP does: read either binding, check the SP's signature against
its registered metadata, and take the ACS from that metadata, never from the request. Used by the national
IdP toward Latvian portals and by the proxy-service simulator."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from eidas_node.metadata import SpMetadata
from eidas_node.request import inflate
from eidas_node.saml import EIDAS, SAML, SAMLP, STATUS_REQUESTER, EidasError, q
from pki import primitives
from pki.xml import ns as dsns
from pki.xml.algorithms import EIDAS_1_3, AlgorithmPolicy, AlgorithmRefused
from pki.xml.keyinfo import KeyResolutionError, match_candidates
from pki.xml.parser import XmlRefused, parse_xml
from pki.xml.references import SignatureError
from pki.xml.verification import verify


@dataclass(frozen=True)
class ReceivedRequest:
    request_id: str
    issuer: str
    acs_url: str  # from the SP's metadata, never from the request
    loa: str | None  # None when the SP asked for no AuthnContext
    requested: tuple[tuple[str, bool], ...]


def _refuse(code: str, message: str) -> EidasError:
    return EidasError(code, message, status=STATUS_REQUESTER)


def read_post(saml_request: str, sp: SpMetadata | Callable[[str], SpMetadata],
              policy: AlgorithmPolicy = EIDAS_1_3) -> ReceivedRequest:
    """``sp`` is the one registered SP, or a lookup by the request's Issuer (raising EidasError if unknown)."""
    try:
        xml = base64.b64decode(saml_request, validate=True)
        root = parse_xml(xml).getroot()
    except (ValueError, XmlRefused) as exc:
        raise _refuse("EIDAS_REQUEST_MALFORMED", str(exc)) from None
    if callable(sp):
        sp = sp((root.findtext(q(SAML, "Issuer")) or "").strip())
    signature = root.find(q(dsns.DS, "Signature"))
    if signature is None:
        raise _refuse("EIDAS_REQUEST_UNSIGNED", "eIDAS AuthnRequests must be signed")
    try:
        verified = verify(signature, match_candidates(sp.signing_certificates), policy)
    except (SignatureError, KeyResolutionError, AlgorithmRefused) as exc:
        raise _refuse("EIDAS_REQUEST_SIGNATURE", str(exc)) from None
    if verified.elements != (root,):
        raise _refuse("EIDAS_REQUEST_SIGNATURE", "the signature does not cover the AuthnRequest")
    return _read(root, sp)


def read_redirect(query: str, sp: SpMetadata | Callable[[str], SpMetadata],
                  policy: AlgorithmPolicy = EIDAS_1_3) -> ReceivedRequest:
    """The signature covers the raw query string parts exactly as sent (bindings §3.4.4.1). The message is
    inflated (capped) and parsed (hardened) first only to learn which SP's metadata to verify against."""
    raw = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
    values = dict(parse_qsl(query))
    if "Signature" not in values or "SigAlg" not in values:
        raise _refuse("EIDAS_REQUEST_UNSIGNED", "eIDAS AuthnRequests must be signed")
    try:
        root = parse_xml(inflate(values.get("SAMLRequest", ""))).getroot()
    except XmlRefused as exc:
        raise _refuse("EIDAS_REQUEST_MALFORMED", str(exc)) from None
    if callable(sp):
        sp = sp((root.findtext(q(SAML, "Issuer")) or "").strip())
    signed = "&".join(f"{k}={raw[k]}" for k in ("SAMLRequest", "RelayState", "SigAlg") if k in raw).encode()
    try:
        algorithm = policy.check_signature(values["SigAlg"])
        signature = base64.b64decode(values["Signature"], validate=True)
    except (AlgorithmRefused, ValueError) as exc:
        raise _refuse("EIDAS_REQUEST_SIGNATURE", str(exc)) from None
    if not any(primitives.verify(c.public_key(), signature, signed, algorithm) for c in sp.signing_certificates):
        raise _refuse("EIDAS_REQUEST_SIGNATURE", "the query-string signature does not verify")
    return _read(root, sp)


def _read(root, sp: SpMetadata) -> ReceivedRequest:  # type: ignore[no-untyped-def]
    if root.tag != q(SAMLP, "AuthnRequest"):
        raise _refuse("EIDAS_REQUEST_MALFORMED", "not an AuthnRequest")
    issuer = (root.findtext(q(SAML, "Issuer")) or "").strip()
    if issuer != sp.entity_id:
        raise _refuse("EIDAS_REQUEST_ISSUER", f"request from {issuer!r}, metadata is for {sp.entity_id!r}")
    asked_acs = root.get("AssertionConsumerServiceURL")
    if asked_acs is not None and asked_acs != sp.acs_url:
        raise _refuse("EIDAS_REQUEST_ACS", "AssertionConsumerServiceURL differs from the SP's metadata")
    loa = root.findtext(f"{q(SAMLP, 'RequestedAuthnContext')}/{q(SAML, 'AuthnContextClassRef')}")
    requested = tuple((r.get("Name", ""), r.get("isRequired") == "true")
                      for r in root.iter(q(EIDAS, "RequestedAttribute")))
    return ReceivedRequest(root.get("ID", ""), issuer, sp.acs_url, loa.strip() if loa else None, requested)
