"""ds:Reference processing shared by signing and verification: ID lookup, transforms, c14n, digests.

Signing computes each digest with exactly the code verification uses, so what we sign is what we (and any
conforming verifier) will check.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from lxml import etree

from pki.xml import ns
from pki.xml.algorithms import (
    ATTACHMENT_COMPLETE_TRANSFORM,
    ATTACHMENT_CONTENT_TRANSFORM,
    C14N_10,
    DIGESTS,
    ENVELOPED_SIGNATURE,
    EXC_C14N,
    AlgorithmPolicy,
)
from pki.xml.attachments import AttachmentTransformError, attachment_digest
from pki.xml.ns import q
from pki.xml.tree import first_child

SWA_TRANSFORMS = frozenset({ATTACHMENT_CONTENT_TRANSFORM, ATTACHMENT_COMPLETE_TRANSFORM})
C14N_METHODS = frozenset({EXC_C14N, C14N_10})

# cid -> the MIME part (an object with content_id, headers and chunks(); see pki/xml/attachments.py).
AttachmentResolver = Callable[[str], Any]


class SignatureError(ValueError):
    """A signature that does not verify or cannot be processed. ``code`` is stable (XMLDSIG_...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Transform:
    uri: str
    prefixes: tuple[str, ...] = ()  # exclusive c14n InclusiveNamespaces PrefixList


_registered = threading.local()
_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*$")


def _register_prefixes(prefixes: Sequence[str]) -> None:
    """lxml passes an InclusiveNamespaces prefix to libxml2's c14n only if the prefix is already in the
    thread's libxml2 name dictionary; a prefix declared only through ``nsmap`` in a tree built in memory is
    not, and would silently be dropped (our signature would then fail at partners). Parsing a tiny document
    that declares the prefix puts it there; once per prefix and thread."""
    known: set[str] = getattr(_registered, "prefixes", None) or set()
    for prefix in prefixes:
        if prefix in known or prefix == "#default":
            continue
        if not _PREFIX.match(prefix):
            raise SignatureError("XMLDSIG_MALFORMED", f"invalid InclusiveNamespaces prefix {prefix!r}")
        etree.fromstring(f'<{prefix}:r xmlns:{prefix}="urn:gateway:prefix"/>'.encode())
        known.add(prefix)
    _registered.prefixes = known


def canonicalize(element: etree._Element, method: str, prefixes: Sequence[str] = ()) -> bytes:
    """Canonical bytes of an element (and its subtree) with exclusive or inclusive c14n 1.0, no comments."""
    if method not in C14N_METHODS:
        raise SignatureError("XMLDSIG_TRANSFORM_UNSUPPORTED", f"canonicalization {method!r} is not supported")
    exclusive = method == EXC_C14N
    if exclusive and prefixes:
        _register_prefixes(prefixes)
    return etree.tostring(
        element, method="c14n", exclusive=exclusive, with_comments=False,
        inclusive_ns_prefixes=list(prefixes) if exclusive and prefixes else None,
    )


# Every ID attribute (any of ns.ID_ATTRIBUTES) in the document, in document order, selected in C: far
# cheaper than visiting every element from Python, and one pass serves all of a signature's references.
_ID_ATTRIBUTES_XPATH = etree.XPath("//@wsu:Id|//@ID|//@Id", namespaces={"wsu": ns.WSU}, smart_strings=True)


def id_index(root: etree._Element, id_attributes: Sequence[str] = ns.ID_ATTRIBUTES) -> dict[str, list[etree._Element]]:
    """Every ID value in the document with the elements carrying it: one pass serves all of a signature's
    references (duplicates stay visible, and are refused by :func:`find_by_id`)."""
    index: dict[str, list[etree._Element]] = {}
    if tuple(id_attributes) == ns.ID_ATTRIBUTES:
        # An element carrying the same value under two ID attributes is listed twice, as below: a duplicate.
        for attribute in _ID_ATTRIBUTES_XPATH(root):
            index.setdefault(str(attribute), []).append(attribute.getparent())
        return index
    for element in root.iter(etree.Element):
        attributes = element.attrib
        if not attributes:
            continue
        for name in id_attributes:
            value = attributes.get(name)
            if value is not None:
                index.setdefault(value, []).append(element)
    return index


def find_by_id(root: etree._Element, id_value: str, id_attributes: Sequence[str] = ns.ID_ATTRIBUTES,
               index: dict[str, list[etree._Element]] | None = None) -> etree._Element:
    """The one element carrying this ID. Zero or several (under any ID attribute) is refused: duplicate IDs
    are how signature-wrapping attacks make a verifier digest one element and an application read another."""
    matches = (index if index is not None else id_index(root, id_attributes)).get(id_value, [])
    if not matches:
        raise SignatureError("XMLDSIG_REFERENCE_NOT_FOUND", f"no element has the ID {id_value!r}")
    if len(matches) > 1:
        raise SignatureError("XMLDSIG_DUPLICATE_ID", f"{len(matches)} elements carry the ID {id_value!r}")
    return matches[0]


_DS_TRANSFORMS, _DS_TRANSFORM = q(ns.DS, "Transforms"), q(ns.DS, "Transform")
_EC_INCLUSIVE_NAMESPACES = q(ns.EC, "InclusiveNamespaces")


def read_transforms(reference: etree._Element) -> list[Transform]:
    transforms_el = first_child(reference, _DS_TRANSFORMS)
    if transforms_el is None:
        return []
    result = []
    for transform in transforms_el:
        if not isinstance(transform.tag, str):
            continue
        if transform.tag != _DS_TRANSFORM:
            raise SignatureError("XMLDSIG_MALFORMED", f"unexpected {transform.tag} in ds:Transforms")
        result.append(Transform(transform.get("Algorithm", ""), read_prefix_list(transform)))
    return result


def read_prefix_list(method_element: etree._Element) -> tuple[str, ...]:
    inclusive = first_child(method_element, _EC_INCLUSIVE_NAMESPACES)
    if inclusive is None:
        return ()
    return tuple(inclusive.get("PrefixList", "").split())


def _without(element: etree._Element, signature: etree._Element) -> etree._Element:
    """A copy of ``element`` without ``signature`` (the enveloped-signature transform). The text after the
    signature stays: in the XPath data model it is a node of its own, in lxml it is the element's tail."""
    path = []
    node = signature
    while node is not element:
        parent = node.getparent()
        path.append(parent.index(node))
        node = parent
    clone = copy.deepcopy(element)
    target = clone
    for index in reversed(path):
        target = target[index]
    parent = target.getparent()
    if target.tail:
        previous = target.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + target.tail
        else:
            parent.text = (parent.text or "") + target.tail
    parent.remove(target)
    return clone


@contextmanager
def _left_out(signature: etree._Element) -> Iterator[None]:
    """The enveloped-signature transform in place: ``signature`` is out of the tree for the duration and put
    back at the same position, with the same tail. The text after it stays in the tree meanwhile (in the XPath
    data model it is a node of its own; lxml keeps it as the signature's tail).

    Canonical forms of the tree are unchanged afterwards, but lxml drops, on re-insertion, namespace
    declarations on the signature element that repeat an ancestor's (same prefix, same URI): the in-scope
    namespaces, so every c14n, stay the same; a plain re-serialisation may not be byte-identical."""
    parent = signature.getparent()
    index = parent.index(signature)
    tail, previous = signature.tail, signature.getprevious()
    before = previous.tail if previous is not None else parent.text
    if tail:
        if previous is not None:
            previous.tail = (before or "") + tail
        else:
            parent.text = (before or "") + tail
    signature.tail = None
    parent.remove(signature)
    try:
        yield
    finally:
        if previous is not None:
            previous.tail = before
        else:
            parent.text = before
        parent.insert(index, signature)
        signature.tail = tail


def element_octets(
    element: etree._Element, transforms: Sequence[Transform], signature: etree._Element, policy: AlgorithmPolicy,
    *, in_place: bool = False,
) -> bytes:
    """Apply a same-document reference's transforms: [enveloped-signature] then one c14n (implicit: c14n 1.0).

    The enveloped-signature transform works on a copy of ``element`` without the signature; with ``in_place``
    the signature is instead taken out of the caller's tree for the c14n and put back (:func:`_left_out`):
    the same octets without copying the whole element, for verifiers that do not re-serialise the tree."""
    remaining = list(transforms)
    subject = element
    leave_out: etree._Element | None = None
    if remaining and remaining[0].uri == ENVELOPED_SIGNATURE:
        policy.check_transform(ENVELOPED_SIGNATURE)
        remaining.pop(0)
        if _is_ancestor(element, signature):
            if in_place:
                leave_out = signature
            else:
                subject = _without(element, signature)
    elif _is_ancestor(element, signature):
        raise SignatureError(
            "XMLDSIG_MALFORMED", "a reference covers its own signature without the enveloped transform"
        )
    if not remaining:
        policy.check_c14n(C14N_10)  # XML-DSig's implicit node-set-to-octets conversion
        method, prefixes = C14N_10, ()
    elif len(remaining) > 1:
        chain = [t.uri for t in transforms]
        raise SignatureError("XMLDSIG_TRANSFORM_UNSUPPORTED", f"unsupported transform chain {chain}")
    else:
        policy.check_transform(remaining[0].uri)
        method, prefixes = remaining[0].uri, remaining[0].prefixes
    if leave_out is None:
        return canonicalize(subject, method, prefixes)
    with _left_out(leave_out):
        return canonicalize(subject, method, prefixes)


def _is_ancestor(element: etree._Element, node: etree._Element) -> bool:
    return any(ancestor is element for ancestor in node.iterancestors())


def digest(data: bytes, digest_uri: str, policy: AlgorithmPolicy) -> bytes:
    policy.check_digest(digest_uri)
    hasher = DIGESTS[digest_uri]()
    hasher.update(data)
    return hasher.digest()


def attachment_reference_digest(
    content_id: str, transforms: Sequence[Transform], digest_uri: str, policy: AlgorithmPolicy,
    attachments: AttachmentResolver | None,
) -> bytes:
    if attachments is None:
        raise SignatureError("XMLDSIG_REFERENCE_NOT_FOUND", f"attachment cid:{content_id} referenced but none given")
    for transform in transforms:
        policy.check_transform(transform.uri)
    try:
        part = attachments(content_id)
    except KeyError:
        raise SignatureError("XMLDSIG_REFERENCE_NOT_FOUND", f"no MIME part with Content-ID {content_id!r}") from None
    try:
        return attachment_digest(part, [t.uri for t in transforms], digest_uri, policy=policy)
    except AttachmentTransformError as exc:  # one exception family out of verify(): SignatureError with a code
        raise SignatureError(exc.code, f"cid:{content_id}: {exc}") from exc
