"""Creating XML signatures: enveloped (SAML, SMP) and detached (WS-Security), through the key port.

The ds:Signature is built in place first (so canonicalisation sees the namespace context it will have in the
document), then each reference is digested with the same code verification uses, then SignedInfo is
canonicalised and signed by the Signer port, which may be a file key or, later, an HSM.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree

from pki.ids import uuid4_str
from pki.keys.port import Signer
from pki.xml import ns
from pki.xml.algorithms import ENVELOPED_SIGNATURE, EXC_C14N, MODERN, AlgorithmPolicy
from pki.xml.attachments import content_id_from_cid_uri
from pki.xml.ns import q
from pki.xml.references import (
    SWA_TRANSFORMS,
    AttachmentResolver,
    SignatureError,
    Transform,
    attachment_reference_digest,
    canonicalize,
    digest,
    element_octets,
)


@dataclass(frozen=True)
class ReferenceSpec:
    """What to sign: an element (by its ID, assigned when missing), the whole document (``uri=""``) or a MIME
    part (``uri="cid:..."``) with an SwA transform."""

    element: etree._Element | None = None
    uri: str | None = None
    transforms: Sequence[Transform] = (Transform(EXC_C14N),)
    digest: str | None = None  # default: the policy's

    @classmethod
    def enveloped(cls, prefixes: Sequence[str] = ()) -> ReferenceSpec:
        return cls(uri="", transforms=(Transform(ENVELOPED_SIGNATURE), Transform(EXC_C14N, tuple(prefixes))))

    @classmethod
    def attachment(cls, content_id: str, transform: str) -> ReferenceSpec:
        return cls(uri=f"cid:{content_id}", transforms=(Transform(transform),))


@dataclass
class SignOptions:
    policy: AlgorithmPolicy = MODERN
    signature_algorithm: str | None = None  # default: the policy's
    c14n_prefixes: Sequence[str] = ()  # InclusiveNamespaces PrefixList for SignedInfo
    key_info: etree._Element | None = None  # a ready ds:KeyInfo child (see pki/xml/keyinfo.py), or None
    signature_id: str | None = None
    id_attribute: str = ns.ID_ATTRIBUTES[0]  # attribute used when a referenced element has no ID yet
    id_prefix: str = "id-"
    attachments: AttachmentResolver | None = None
    extra_nsmap: dict[str, str] = field(default_factory=dict)


_DS = f"{{{ns.DS}}}"
_EC_INCLUSIVE_NAMESPACES = q(ns.EC, "InclusiveNamespaces")


def element_id(element: etree._Element, options: SignOptions) -> str:
    for attribute in ns.ID_ATTRIBUTES:
        value = element.get(attribute)
        if value:
            return value
    value = f"{options.id_prefix}{uuid4_str()}"
    element.set(options.id_attribute, value)
    return value


def _method(parent: etree._Element, tag: str, algorithm: str, prefixes: Sequence[str] = ()) -> etree._Element:
    method = etree.SubElement(parent, _DS + tag, Algorithm=algorithm)
    if prefixes:
        etree.SubElement(method, _EC_INCLUSIVE_NAMESPACES, nsmap={"ec": ns.EC}, PrefixList=" ".join(prefixes))
    return method


def sign(
    parent: etree._Element,
    references: Sequence[ReferenceSpec],
    signer: Signer,
    options: SignOptions | None = None,
    *,
    index: int | None = None,
) -> etree._Element:
    """Insert a ds:Signature into ``parent`` (at ``index``, default last) signing ``references``."""
    options = options or SignOptions()
    policy = options.policy
    algorithm = policy.check_signature(options.signature_algorithm or policy.default_signature)
    policy.check_c14n(policy.default_c14n)
    if not references:
        raise SignatureError("XMLDSIG_NO_REFERENCES", "a signature must cover at least one reference")
    for spec in references:  # every refusal before the document is touched (IDs are assigned below)
        for transform in spec.transforms:
            policy.check_transform(transform.uri)
        policy.check_digest(spec.digest or policy.default_digest)

    signature = etree.Element(_DS + "Signature", nsmap={"ds": ns.DS, **options.extra_nsmap})
    if options.signature_id:
        signature.set("Id", options.signature_id)
    if index is None:
        parent.append(signature)
    else:
        parent.insert(index, signature)
    try:
        signed_info = etree.SubElement(signature, _DS + "SignedInfo")
        _method(signed_info, "CanonicalizationMethod", policy.default_c14n, options.c14n_prefixes)
        _method(signed_info, "SignatureMethod", algorithm.uri)
        pending = [(_reference_element(signed_info, spec, options), spec) for spec in references]
        for reference_el, spec in pending:
            reference_el.find(_DS + "DigestValue").text = base64.b64encode(
                _digest_for(spec, reference_el, signature, options)).decode()
        signed_bytes = canonicalize(signed_info, policy.default_c14n, options.c14n_prefixes)
        value = etree.SubElement(signature, _DS + "SignatureValue")
        value.text = base64.b64encode(signer.sign(signed_bytes, algorithm)).decode()
        if options.key_info is not None:
            key_info = etree.SubElement(signature, _DS + "KeyInfo")
            key_info.append(options.key_info)
    except BaseException:
        parent.remove(signature)
        raise
    return signature


def _reference_element(signed_info: etree._Element, spec: ReferenceSpec, options: SignOptions) -> etree._Element:
    if spec.uri is not None:
        uri = spec.uri
    elif spec.element is not None:
        uri = "#" + element_id(spec.element, options)
    else:
        raise SignatureError("XMLDSIG_MALFORMED", "a reference needs an element or a URI")
    reference = etree.SubElement(signed_info, _DS + "Reference", URI=uri)
    if spec.transforms:
        transforms = etree.SubElement(reference, _DS + "Transforms")
        for transform in spec.transforms:
            _method(transforms, "Transform", transform.uri, transform.prefixes)
    digest_uri = spec.digest or options.policy.default_digest
    etree.SubElement(reference, _DS + "DigestMethod", Algorithm=digest_uri)
    etree.SubElement(reference, _DS + "DigestValue")
    return reference


def _digest_for(
    spec: ReferenceSpec, reference: etree._Element, signature: etree._Element, options: SignOptions
) -> bytes:
    digest_uri = reference.find(_DS + "DigestMethod").get("Algorithm")
    uri = reference.get("URI")
    if uri.startswith("cid:"):
        if not spec.transforms or spec.transforms[0].uri not in SWA_TRANSFORMS:
            raise SignatureError("XMLDSIG_TRANSFORM_UNSUPPORTED", "attachments are signed with an SwA transform")
        return attachment_reference_digest(
            content_id_from_cid_uri(uri), spec.transforms, digest_uri, options.policy, options.attachments)
    target = signature.getroottree().getroot() if uri == "" else spec.element
    assert target is not None
    return digest(element_octets(target, spec.transforms, signature, options.policy), digest_uri, options.policy)
