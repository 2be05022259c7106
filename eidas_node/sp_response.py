"""The service-provider side of a national IdP's SAML Response (what a Latvian portal checks): the IdP's
signatures over the Response and the Assertion (by the certificates it was configured with), Destination,
InResponseTo (one of ours), status, audience; an encrypted assertion is decrypted with the SP's key.
Used by the demo portal and by the preview space's login (gateway/preview_web_login.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cryptography import x509

from eidas_node.saml import SAML, SAMLP, STATUS_SUCCESS, q
from pki.xml import algorithms as A
from pki.xml import ns as dsns
from pki.xml.algorithms import AlgorithmRefused
from pki.xml.encryption import XENC, cek_from_encrypted_key, decrypt_element
from pki.xml.keyinfo import KeyResolutionError, match_candidates
from pki.xml.parser import XmlRefused, parse_xml
from pki.xml.references import SignatureError
from pki.xml.verification import verify


class IdpResponseRefused(Exception):
    """``code`` is stable: PORTAL_UNSIGNED, PORTAL_RESPONSE_INVALID, PORTAL_UNSOLICITED, PORTAL_ASSERTION_INVALID,
    PORTAL_AUDIENCE, or the IdP's second-level status (e.g. RequestDenied) when the login did not succeed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def read_idp_response(data: bytes, *, idp_certificates: Sequence[x509.Certificate], acs_url: str, entity_id: str,
                      solicited: Callable[[str], bool], decrypter: Any = None) -> dict[str, Any]:
    """``{"in_response_to", "name_id", "loa", "attributes": {name: [values]}}`` of a verified, successful login."""
    try:
        return _read(data, idp_certificates, acs_url, entity_id, solicited, decrypter)
    except (XmlRefused, SignatureError, KeyResolutionError, AlgorithmRefused) as exc:
        raise IdpResponseRefused("PORTAL_RESPONSE_INVALID", str(exc)) from None


def _read(data: bytes, idp_certificates: Sequence[x509.Certificate], acs_url: str, entity_id: str,
          solicited: Callable[[str], bool], decrypter: Any) -> dict[str, Any]:
    root = parse_xml(data).getroot()
    signature = root.find(q(dsns.DS, "Signature"))
    if signature is None:
        raise IdpResponseRefused("PORTAL_UNSIGNED", "the response is not signed")
    trusted = match_candidates(list(idp_certificates))
    verified = verify(signature, trusted, A.EIDAS_1_3)
    if verified.elements != (root,) or root.get("Destination") != acs_url:
        raise IdpResponseRefused("PORTAL_RESPONSE_INVALID", "signature scope or destination wrong")
    in_response_to = root.get("InResponseTo") or ""
    if not solicited(in_response_to):
        raise IdpResponseRefused("PORTAL_UNSOLICITED", "the response answers no request of ours")
    status = root.find(f"{q(SAMLP, 'Status')}/{q(SAMLP, 'StatusCode')}")
    if status is None or status.get("Value") != STATUS_SUCCESS:
        inner = status.find(q(SAMLP, "StatusCode")) if status is not None else None
        message = root.findtext(f"{q(SAMLP, 'Status')}/{q(SAMLP, 'StatusMessage')}") or ""
        raise IdpResponseRefused((inner if inner is not None else status).get("Value", "?").rsplit(":", 1)[-1]
                                 if status is not None else "NoStatus", message)
    encrypted = root.find(q(SAML, "EncryptedAssertion"))
    if encrypted is not None:
        if decrypter is None:
            raise IdpResponseRefused("PORTAL_ASSERTION_INVALID", "encrypted assertion, but no key to decrypt it")
        data_el = encrypted.find(q(XENC, "EncryptedData"))
        key_el = data_el.find(f"{q(dsns.DS, 'KeyInfo')}/{q(XENC, 'EncryptedKey')}")
        algorithm = data_el.find(q(XENC, "EncryptionMethod")).get("Algorithm")
        cek = cek_from_encrypted_key(key_el, lambda info: decrypter, A.EIDAS_1_3, A.GCM_KEY_BYTES[algorithm])
        assertion = decrypt_element(data_el, cek, A.EIDAS_1_3)[0]
    else:
        assertion = root.find(q(SAML, "Assertion"))
    if assertion is None or assertion.find(q(dsns.DS, "Signature")) is None:
        raise IdpResponseRefused("PORTAL_ASSERTION_INVALID", "no signed assertion")
    checked = verify(assertion.find(q(dsns.DS, "Signature")), trusted, A.EIDAS_1_3)
    if checked.elements != (assertion,):
        raise IdpResponseRefused("PORTAL_ASSERTION_INVALID", "the assertion signature covers something else")
    if assertion.findtext(f".//{q(SAML, 'Audience')}") != entity_id:
        raise IdpResponseRefused("PORTAL_AUDIENCE", "not for us")
    attributes = {a.get("Name", ""): [v.text or "" for v in a.findall(q(SAML, "AttributeValue"))]
                  for a in assertion.iter(q(SAML, "Attribute"))}
    return {"in_response_to": in_response_to,
            "name_id": assertion.findtext(f"{q(SAML, 'Subject')}/{q(SAML, 'NameID')}"),
            "loa": assertion.findtext(f".//{q(SAML, 'AuthnContextClassRef')}"), "attributes": attributes}
