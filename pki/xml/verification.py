"""Verifying XML signatures. The result says exactly what was verified.

:func:`verify` returns the referenced elements (the very objects in the caller's tree) and attachment ids,
in SignedInfo order. Callers use those, never a fresh XPath over the document: with signature wrapping an
attacker moves the signed element elsewhere and puts a forged one where an XPath would look; the verified
element is still the signed one, and where it sits is for the caller to check (:func:`covers`).

Order of checks: policy for every algorithm first (a refused algorithm is refused even with a valid
signature), then the key, then SignatureValue over the canonical SignedInfo, then every reference digest.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from lxml import etree

from pki import primitives
from pki.xml import ns
from pki.xml.algorithms import AlgorithmPolicy
from pki.xml.attachments import content_id_from_cid_uri
from pki.xml.keyinfo import KeyResolver, parse_key_info
from pki.xml.references import (
    SWA_TRANSFORMS,
    AttachmentResolver,
    SignatureError,
    Transform,
    attachment_reference_digest,
    canonicalize,
    digest,
    element_octets,
    find_by_id,
    id_index,
    read_prefix_list,
    read_transforms,
)
from pki.xml.tree import children, first_child


@dataclass(frozen=True)
class VerifiedReference:
    uri: str
    element: etree._Element | None  # same-document references: the element that was digested
    content_id: str | None  # attachment references: the MIME part's Content-ID
    digest_algorithm: str
    digest_value: bytes
    transforms: tuple[str, ...]
    reference: etree._Element  # the ds:Reference itself (receipts copy these)


@dataclass(frozen=True)
class VerifiedSignature:
    signature: etree._Element
    signature_algorithm: str
    public_key: PublicKeyTypes
    certificate: x509.Certificate | None
    references: tuple[VerifiedReference, ...]

    @property
    def elements(self) -> tuple[etree._Element, ...]:
        return tuple(ref.element for ref in self.references if ref.element is not None)

    @property
    def content_ids(self) -> tuple[str, ...]:
        return tuple(ref.content_id for ref in self.references if ref.content_id is not None)


def covers(verified: VerifiedSignature, element: etree._Element) -> bool:
    """Is this exact element (identity, not equality) inside what the signature covers: a referenced element or
    one of its descendants, never anything inside the ds:Signature itself (the enveloped transform leaves it
    out, so KeyInfo and ds:Object are unsigned)?"""
    if element is verified.signature or any(a is verified.signature for a in element.iterancestors()):
        return False
    for ref in verified.references:
        if ref.element is None:
            continue
        if ref.element is element or any(a is ref.element for a in element.iterancestors()):
            return True
    return False


_DS = f"{{{ns.DS}}}"
_SIGNATURE, _KEY_INFO, _REFERENCE = _DS + "Signature", _DS + "KeyInfo", _DS + "Reference"


def _one(parent: etree._Element, tag: str, what: str) -> etree._Element:
    found = children(parent, _DS + tag)
    if len(found) != 1:
        raise SignatureError("XMLDSIG_MALFORMED", f"{what}: expected one ds:{tag}, found {len(found)}")
    return found[0]


def verify(
    signature: etree._Element,
    key_resolver: KeyResolver,
    policy: AlgorithmPolicy,
    *,
    attachments: AttachmentResolver | None = None,
    id_attributes: Sequence[str] = ns.ID_ATTRIBUTES,
    in_place: bool = False,
) -> VerifiedSignature:
    """Verify one ds:Signature element; raise SignatureError / AlgorithmRefused / KeyResolutionError.

    ``in_place``: the enveloped-signature transform takes the signature out of the tree and puts it back
    instead of copying the signed element (see :func:`pki.xml.references.element_octets`); for callers that
    only read the tree afterwards."""
    if signature.tag != _SIGNATURE:
        raise SignatureError("XMLDSIG_MALFORMED", f"not a ds:Signature: {signature.tag}")
    signed_info = _one(signature, "SignedInfo", "Signature")
    c14n_el = _one(signed_info, "CanonicalizationMethod", "SignedInfo")
    c14n_uri = c14n_el.get("Algorithm", "")
    policy.check_c14n(c14n_uri)
    algorithm = policy.check_signature(_one(signed_info, "SignatureMethod", "SignedInfo").get("Algorithm", ""))
    reference_els = children(signed_info, _REFERENCE)
    if not reference_els:
        raise SignatureError("XMLDSIG_NO_REFERENCES", "SignedInfo has no ds:Reference")
    read: list[tuple[etree._Element, list[Transform], str]] = []
    for reference in reference_els:  # every algorithm is checked before any cryptography runs
        transforms = read_transforms(reference)
        for transform in transforms:
            policy.check_transform(transform.uri)
        digest_uri = _one(reference, "DigestMethod", "Reference").get("Algorithm", "")
        policy.check_digest(digest_uri)
        read.append((reference, transforms, digest_uri))

    resolved = key_resolver(parse_key_info(first_child(signature, _KEY_INFO)))
    signature_value = _base64(_one(signature, "SignatureValue", "Signature").text, "SignatureValue")
    signed_bytes = canonicalize(signed_info, c14n_uri, read_prefix_list(c14n_el))
    if not primitives.verify(resolved.public_key, signature_value, signed_bytes, algorithm):
        raise SignatureError("XMLDSIG_SIGNATURE_INVALID", "the SignatureValue does not verify with the signing key")

    root = signature.getroottree().getroot()
    index = id_index(root, id_attributes) if len(reference_els) > 1 else None
    results = tuple(
        _verify_reference(reference, transforms, digest_uri, signature, root, policy, attachments, id_attributes,
                          index, in_place)
        for reference, transforms, digest_uri in read
    )
    return VerifiedSignature(signature, algorithm.uri, resolved.public_key, resolved.certificate, results)


def _base64(text: str | None, what: str) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except ValueError:
        raise SignatureError("XMLDSIG_MALFORMED", f"{what} is not valid base64") from None


def _verify_reference(
    reference: etree._Element,
    transforms: list[Transform],
    digest_uri: str,
    signature: etree._Element,
    root: etree._Element,
    policy: AlgorithmPolicy,
    attachments: AttachmentResolver | None,
    id_attributes: Sequence[str],
    index: dict[str, list[etree._Element]] | None = None,
    in_place: bool = False,
) -> VerifiedReference:
    uri = reference.get("URI")
    expected = _base64(_one(reference, "DigestValue", "Reference").text, "DigestValue")
    element: etree._Element | None = None
    content_id: str | None = None
    if uri is None:
        raise SignatureError("XMLDSIG_REFERENCE_UNSUPPORTED", "references without a URI are not accepted")
    if uri.startswith("cid:"):
        if not transforms or transforms[0].uri not in SWA_TRANSFORMS:
            raise SignatureError("XMLDSIG_TRANSFORM_UNSUPPORTED", f"{uri}: attachments need an SwA transform")
        content_id = content_id_from_cid_uri(uri)
        actual = attachment_reference_digest(content_id, transforms, digest_uri, policy, attachments)
    elif uri == "" or uri.startswith("#"):
        if uri == "":
            element = root
        else:
            if uri.startswith("#xpointer("):
                raise SignatureError("XMLDSIG_REFERENCE_UNSUPPORTED", f"XPointer references are not accepted: {uri}")
            element = find_by_id(root, uri[1:], id_attributes, index)
            if element is signature or any(a is signature for a in element.iterancestors()):
                raise SignatureError("XMLDSIG_REFERENCE_UNSUPPORTED", f"{uri} points into the signature itself")
        actual = digest(element_octets(element, transforms, signature, policy, in_place=in_place), digest_uri, policy)
    else:
        raise SignatureError("XMLDSIG_REFERENCE_UNSUPPORTED", f"external references are not accepted: {uri!r}")
    if not hmac.compare_digest(actual, expected):
        raise SignatureError("XMLDSIG_DIGEST_MISMATCH", f"reference {uri!r}: the content changed after signing")
    return VerifiedReference(uri, element, content_id, digest_uri, actual, tuple(t.uri for t in transforms), reference)
