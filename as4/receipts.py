"""Non-repudiation receipts: the ``eb:Receipt`` content a receiver returns, and the sender's check of it.

A receipt for a signed UserMessage carries ``ebbp:NonRepudiationInformation`` with one
``ebbp:MessagePartNRInformation`` per ``ds:Reference`` of the received message's signature, each holding a
copy of that ``ds:Reference`` exactly as received (digest included). That is what phase4 does
(phax/phase4 @ d4505cc8: ``phase4-lib/.../model/message/AS4ReceiptMessage.java`` copies every
``ds:Reference`` through ``marshaller/NonRepudiationInformationMarshaller.java``; a real one is
``phase4-test/src/test/resources/testfiles/TestReceipt12.xml``).

The sender compares the receipt's references with the ones it signed the way phase4's
``sender/ValidatingAS4SignalMsgConsumer.areSemanticallyEquivalent`` does: URI, the transform algorithms,
DigestMethod and DigestValue. InclusiveNamespaces prefix lists are deliberately not compared (phase4 met a
partner that echoed references without them). Unlike phase4, which only logs, a mismatch here is
``EBMS:0302`` InvalidReceipt, so the message is not taken as delivered.

The signal envelope (``eb:SignalMessage``, MessageInfo, RefToMessageId) is the codec's; the receipt is signed
with :func:`as4.security.sign_envelope` and verified with :func:`as4.security.process_inbound`.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Sequence

from lxml import etree

from as4.errors import INVALID_RECEIPT, EbmsError
from as4.ns import EB, EBBP
from pki.xml import ns
from pki.xml.ns import q
from pki.xml.verification import VerifiedSignature, covers

__all__ = ["EB", "EBBP", "build_receipt_nri", "check_receipt", "receipt_references"]


def build_receipt_nri(verified: VerifiedSignature) -> etree._Element:
    """``eb:Receipt`` holding ``ebbp:NonRepudiationInformation`` for the references ``verified`` checked."""
    if not verified.references:
        raise ValueError("a verified signature without references cannot back a non-repudiation receipt")
    receipt = etree.Element(q(EB, "Receipt"), nsmap={"eb": EB})
    nri = etree.SubElement(receipt, q(EBBP, "NonRepudiationInformation"), nsmap={"ebbp": EBBP, "ds": ns.DS})
    for reference in verified.references:
        part = etree.SubElement(nri, q(EBBP, "MessagePartNRInformation"))
        part.append(copy.deepcopy(reference.reference))
    return receipt


def receipt_references(receipt_element: etree._Element) -> list[etree._Element]:
    """The ``ds:Reference`` elements of a receipt's NonRepudiationInformation (eb:Receipt or the NRI itself)."""
    if receipt_element.tag == q(EBBP, "NonRepudiationInformation"):
        nri_elements = [receipt_element]
    else:
        nri_elements = receipt_element.findall(q(EBBP, "NonRepudiationInformation"))
    if len(nri_elements) != 1:
        raise EbmsError(INVALID_RECEIPT, f"the receipt holds {len(nri_elements)} ebbp:NonRepudiationInformation "
                                         "elements, expected one")
    references = []
    for part in nri_elements[0]:
        if not isinstance(part.tag, str):
            continue
        if part.tag != q(EBBP, "MessagePartNRInformation"):
            raise EbmsError(INVALID_RECEIPT, f"unexpected {part.tag} in NonRepudiationInformation")
        found = part.findall(q(ns.DS, "Reference"))
        if len(found) != 1:
            raise EbmsError(INVALID_RECEIPT, "each MessagePartNRInformation must hold exactly one ds:Reference")
        references.append(found[0])
    return references


def _decoded_digest(text: str | None) -> bytes | None:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except ValueError:
        return None


_TRANSFORMS, _TRANSFORM = q(ns.DS, "Transforms"), q(ns.DS, "Transform")
_DIGEST_METHOD, _DIGEST_VALUE = q(ns.DS, "DigestMethod"), q(ns.DS, "DigestValue")


def _key(reference: etree._Element) -> tuple[object, ...]:
    """What phase4 compares: URI, transform algorithms, digest method, digest value (decoded).

    One pass over the children, giving what ``iterfind("ds:Transforms/ds:Transform")``, ``find("ds:DigestMethod")``
    and ``findtext("ds:DigestValue")`` give (the first DigestMethod and DigestValue count), at a third of the
    cost: six references per receipt check."""
    transforms: list[str] = []
    method: etree._Element | None = None
    value: etree._Element | None = None
    for child in reference.iterchildren(_TRANSFORMS, _DIGEST_METHOD, _DIGEST_VALUE):
        tag = child.tag
        if tag == _TRANSFORMS:
            transforms.extend(t.get("Algorithm", "") for t in child.iterchildren(_TRANSFORM))
        elif tag == _DIGEST_METHOD:
            method = method if method is not None else child
        elif value is None:
            value = child
    return (reference.get("URI"), tuple(transforms), method.get("Algorithm") if method is not None else None,
            _decoded_digest(value.text if value is not None else None))


def check_receipt(receipt_element: etree._Element, what_we_signed: Sequence[etree._Element], *,
                  verified: VerifiedSignature | None = None, ref_to_message_id: str | None = None) -> None:
    """Raise ``EbmsError("EBMS:0302")`` unless the receipt names exactly the references we signed.

    ``what_we_signed``: the ``ds:Reference`` elements of our UserMessage's signature
    (:func:`as4.security.signed_references`). ``verified``: the receipt's own verified signature; when given,
    the receipt element must be inside what it covers (a receipt outside the signature proves nothing).
    """
    if verified is not None and not covers(verified, receipt_element):
        raise EbmsError(INVALID_RECEIPT, "the eb:Receipt is not covered by the signal message's signature",
                        ref_to_message_id=ref_to_message_id)
    if not what_we_signed:
        raise ValueError("no references of ours to compare the receipt with (was the UserMessage signed?)")
    try:
        received = receipt_references(receipt_element)
    except EbmsError as exc:
        raise EbmsError(exc.code, exc.detail, ref_to_message_id=ref_to_message_id) from None
    if len(received) != len(what_we_signed):
        raise EbmsError(INVALID_RECEIPT, f"the receipt names {len(received)} references, we signed "
                                         f"{len(what_we_signed)}", ref_to_message_id=ref_to_message_id)
    expected = {_key(ref): ref for ref in what_we_signed}
    seen: set[tuple[object, ...]] = set()
    for reference in received:
        key = _key(reference)
        if key not in expected or key in seen:
            raise EbmsError(INVALID_RECEIPT, f"reference {reference.get('URI')!r} in the receipt does not match "
                                             "what we signed (URI, transforms, digest method or value differ)",
                            ref_to_message_id=ref_to_message_id)
        seen.add(key)
