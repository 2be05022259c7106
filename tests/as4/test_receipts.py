"""Non-repudiation receipts: built from the inbound verification, checked against what the sender signed."""

from __future__ import annotations

import base64
import copy

import pytest
from lxml import etree

from as4.errors import EbmsError
from as4.profiles import EDELIVERY_1_15, EDELIVERY_2_0, As4Profile
from as4.receipts import EBBP, build_receipt_nri, check_receipt, receipt_references
from as4.security import process_inbound, secure_outbound, sign_envelope, signed_references
from tests.as4.secfixtures import ALL_PROFILES, EB, envelope, payloads, pki, q, receipt_envelope, wire

DS = "http://www.w3.org/2000/09/xmldsig#"
EC = "http://www.w3.org/2001/10/xml-exc-c14n#"


def exchange(prof: As4Profile, count: int = 3):
    """Partner sends to our node; returns (what the partner signed, the node's inbound result)."""
    p = pki()
    parts = payloads(count)
    root, sent = secure_outbound(envelope(parts=parts), parts, prof, p.signer(p.partner, prof),
                                 p.encryption_cert(p.node, prof))
    ours = [copy.deepcopy(reference) for reference in signed_references(root)]
    received, received_parts = wire(root, sent)
    result = process_inbound(received, received_parts, prof, key_store=p.node, signer_resolver=p.by_trust_store())
    return ours, result


def invalid(receipt: etree._Element, ours: list[etree._Element], **options: object) -> EbmsError:
    with pytest.raises(EbmsError) as caught:
        check_receipt(receipt, ours, **options)  # type: ignore[arg-type]
    assert caught.value.code == "EBMS:0302"
    return caught.value


@pytest.mark.parametrize("prof", ALL_PROFILES, ids=[p.name for p in ALL_PROFILES])
def test_receipt_from_inbound_verification_passes_the_senders_check(prof: As4Profile) -> None:
    ours, result = exchange(prof)
    with result:
        receipt = build_receipt_nri(result.verified)
    check_receipt(receipt, ours)


def test_receipt_structure_copies_each_reference_exactly() -> None:
    ours, result = exchange(EDELIVERY_1_15)
    with result:
        receipt = build_receipt_nri(result.verified)
        assert receipt.tag == q(EB, "Receipt")
        (nri,) = receipt
        assert nri.tag == q(EBBP, "NonRepudiationInformation")
        assert [child.tag for child in nri] == [q(EBBP, "MessagePartNRInformation")] * 5
        copies = receipt_references(receipt)
        for copied, verified in zip(copies, result.verified.references, strict=True):
            assert copied is not verified.reference
            assert etree.tostring(copied, method="c14n", exclusive=True) == etree.tostring(
                verified.reference, method="c14n", exclusive=True)
        assert [c.get("URI") for c in copies] == [r.get("URI") for r in ours]


def test_signed_receipt_round_trip_back_to_the_sender() -> None:
    """Node builds and signs the receipt, partner verifies it and checks it against what it signed."""
    p = pki()
    prof = EDELIVERY_2_0
    ours, result = exchange(prof, count=1)
    with result:
        receipt = build_receipt_nri(result.verified)
    signal = receipt_envelope(receipt, ref_to="msg-1@partner.test")
    sign_envelope(signal, [], prof, p.signer(p.node, prof))
    received, _ = wire(signal, [])
    with process_inbound(received, [], prof, key_store=p.partner, signer_resolver=p.by_pmode(p.node, prof)) as back:
        received_receipt = received.find(f".//{q(EB, 'Receipt')}")
        check_receipt(received_receipt, ours, verified=back.verified)


def test_receipt_outside_the_signature_is_invalid() -> None:
    p = pki()
    prof = EDELIVERY_2_0
    ours, result = exchange(prof, count=1)
    with result:
        receipt = build_receipt_nri(result.verified)
    signal = receipt_envelope(receipt, ref_to="msg-1@partner.test")
    sign_envelope(signal, [], prof, p.signer(p.node, prof))
    received, _ = wire(signal, [])
    with process_inbound(received, [], prof, key_store=p.partner, signer_resolver=p.by_pmode(p.node, prof)) as back:
        forged = copy.deepcopy(received.find(f".//{q(EB, 'Receipt')}"))  # not in the signed tree
        error = invalid(forged, ours, verified=back.verified, ref_to_message_id="msg-1@partner.test")
        assert error.ref_to_message_id == "msg-1@partner.test"


def test_one_digest_differs() -> None:
    ours, result = exchange(EDELIVERY_1_15)
    with result:
        receipt = build_receipt_nri(result.verified)
    value = receipt_references(receipt)[3].find(q(DS, "DigestValue"))
    digest = bytearray(base64.b64decode(value.text))
    digest[0] ^= 0xFF
    value.text = base64.b64encode(bytes(digest)).decode()
    error = invalid(receipt, ours)
    assert "cid:text@test" in error.detail


def test_digest_method_or_uri_or_transform_differs() -> None:
    ours, result = exchange(EDELIVERY_1_15, count=1)
    with result:
        receipt = build_receipt_nri(result.verified)
    for mutate in (
        lambda r: r.find(q(DS, "DigestMethod")).set("Algorithm", "http://www.w3.org/2001/04/xmlenc#sha512"),
        lambda r: r.set("URI", "#someone-else"),
        lambda r: r.find(f"{q(DS, 'Transforms')}/{q(DS, 'Transform')}").set("Algorithm", "urn:other"),
    ):
        changed = copy.deepcopy(receipt)
        mutate(receipt_references(changed)[0])
        invalid(changed, ours)


def test_missing_or_extra_references() -> None:
    ours, result = exchange(EDELIVERY_1_15)
    with result:
        receipt = build_receipt_nri(result.verified)
    short = copy.deepcopy(receipt)
    nri = short[0]
    nri.remove(nri[-1])
    assert "names 4 references, we signed 5" in invalid(short, ours).detail
    doubled = copy.deepcopy(receipt)
    nri = doubled[0]
    nri.remove(nri[-1])
    nri.append(copy.deepcopy(nri[0]))  # right count, one reference twice, one missing
    invalid(doubled, ours)


def test_receipt_without_non_repudiation_information() -> None:
    ours, result = exchange(EDELIVERY_1_15, count=0)
    result.close()
    bare = etree.Element(q(EB, "Receipt"), nsmap={"eb": EB})
    etree.SubElement(bare, "{urn:fdc:com.helger.phase4:ns:receipt}OriginalUserMessage")
    invalid(bare, ours)


def test_prefix_lists_are_not_compared() -> None:
    """phase4 met a partner echoing references without InclusiveNamespaces; digests still decide."""
    prof = EDELIVERY_1_15
    p = pki()
    extra = {"ds": DS}
    parts = payloads(1)
    root = envelope(parts=parts, envelope_nsmap=extra)  # gives the references a non-empty PrefixList
    secure_outbound(root, parts, prof, p.signer(p.partner, prof), p.encryption_cert(p.node, prof))
    ours = signed_references(root)
    assert any(r.find(f".//{q(EC, 'InclusiveNamespaces')}") is not None for r in ours)
    nri = etree.Element(q(EBBP, "NonRepudiationInformation"), nsmap={"ebbp": EBBP})
    for reference in ours:
        stripped = copy.deepcopy(reference)
        for inclusive in stripped.findall(f".//{q(EC, 'InclusiveNamespaces')}"):
            inclusive.getparent().remove(inclusive)
        etree.SubElement(nri, q(EBBP, "MessagePartNRInformation")).append(stripped)
    check_receipt(nri, ours)


def test_build_needs_references() -> None:
    _, result = exchange(EDELIVERY_2_0, count=0)
    with result:
        assert len(build_receipt_nri(result.verified)[0]) == 2
    with pytest.raises(ValueError):
        check_receipt(etree.Element(q(EB, "Receipt")), [])


def _reference_key(reference: etree._Element) -> tuple[object, ...]:
    """The ElementPath version of as4.receipts._key that the one-pass version replaced."""
    transforms = tuple(t.get("Algorithm", "") for t in reference.iterfind(f"{{{DS}}}Transforms/{{{DS}}}Transform"))
    method = reference.find(f"{{{DS}}}DigestMethod")
    text = reference.findtext(f"{{{DS}}}DigestValue")
    try:
        value: bytes | None = base64.b64decode("".join((text or "").split()), validate=True)
    except ValueError:
        value = None
    return (reference.get("URI"), transforms, method.get("Algorithm") if method is not None else None, value)


def _variants(reference: etree._Element) -> list[etree._Element]:
    """The reference as sent, and odd shapes a partner might echo: every child missing, doubled, reordered,
    emptied, or with foreign elements between."""
    def edited(change) -> etree._Element:  # type: ignore[no-untyped-def]
        copied = copy.deepcopy(reference)
        change(copied)
        return copied

    def child(element: etree._Element, local: str) -> etree._Element:
        return element.find(f"{{{DS}}}{local}")

    def doubled(local: str, text: str | None = None, algorithm: str | None = None):  # type: ignore[no-untyped-def]
        def change(element: etree._Element) -> None:
            extra = copy.deepcopy(child(element, local))
            if text is not None:
                extra.text = text
            if algorithm is not None:
                extra.set("Algorithm", algorithm)
            element.append(extra)
        return change

    def removed(local: str):  # type: ignore[no-untyped-def]
        return lambda element: element.remove(child(element, local))

    def emptied(element: etree._Element) -> None:
        child(element, "DigestValue").text = None

    def spaced(element: etree._Element) -> None:
        value = child(element, "DigestValue")
        value.text = "\n  " + value.text[:8] + " " + value.text[8:] + "\n"

    def garbage(element: etree._Element) -> None:
        child(element, "DigestValue").text = "not base64!"

    def reversed_children(element: etree._Element) -> None:
        children = list(element)
        for node in children:
            element.remove(node)
        for node in reversed(children):
            element.append(node)

    def foreign(element: etree._Element) -> None:
        element.insert(0, etree.Element("{urn:other}Thing"))
        element.insert(2, etree.Element(f"{{{DS}}}Unexpected"))
        transforms = child(element, "Transforms")
        if transforms is not None:
            transforms.insert(0, etree.Element("{urn:other}Thing"))

    def transform_without_algorithm(element: etree._Element) -> None:
        transforms = child(element, "Transforms")
        if transforms is not None:
            etree.SubElement(transforms, f"{{{DS}}}Transform")

    changes = [lambda element: None, removed("Transforms"), removed("DigestMethod"), removed("DigestValue"),
               doubled("Transforms"), doubled("DigestMethod", algorithm="urn:other-digest"),
               doubled("DigestValue", text="AAAA"), emptied, spaced, garbage, reversed_children, foreign,
               transform_without_algorithm]
    variants = []
    for change in changes:
        try:
            variants.append(edited(change))
        except (TypeError, AttributeError):  # the change needs a child this reference lacks
            continue
    return variants


@pytest.mark.parametrize("prof", ALL_PROFILES, ids=[p.name for p in ALL_PROFILES])
def test_one_pass_reference_key_gives_what_elementpath_gave(prof: As4Profile) -> None:
    from as4.receipts import _key

    ours, _ = exchange(prof, count=2)
    checked = 0
    for reference in ours:
        for variant in _variants(reference):
            assert _key(variant) == _reference_key(variant)
            checked += 1
    assert checked >= 4 * 10  # eb:Messaging, Body and two parts, each in (nearly) every shape
