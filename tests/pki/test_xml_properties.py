"""Properties of signing and verification over random documents (hypothesis).

Documents are random trees: element names from a small alphabet (some non-ASCII), prefixed namespaces
declared at random levels (the same prefix sometimes rebound to another URI), attributes (plain, namespaced,
xml:lang), and text and tails with arbitrary Unicode, markup characters and CR/LF/TAB. Each is signed under
each algorithm family (RSA PKCS#1 v1.5, RSA-PSS, ECDSA P-256, Ed25519) with a policy that admits the
algorithm, in one of the forms that policy admits (detached, enveloped in the signed element, or a whole-
document enveloped signature), serialized to bytes and parsed again with the hardened parser.

Keys are made once per process (tests/pki/xmlkeys.py).
"""

from __future__ import annotations

import copy
import string
import uuid
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from pki.xml import algorithms as A
from pki.xml import ns
from pki.xml.algorithms import POLICIES, AlgorithmPolicy
from pki.xml.keyinfo import use_certificate
from pki.xml.ns import q
from pki.xml.parser import XmlRefused, parse_xml
from pki.xml.references import SignatureError, Transform, canonicalize, read_prefix_list
from pki.xml.signing import ReferenceSpec, SignOptions, sign
from pki.xml.verification import covers, verify
from tests.pki.xmlkeys import Identity, identity

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "rsa-pkcs1": ("rsa", (A.RSA_SHA256, A.RSA_SHA384, A.RSA_SHA512)),
    "rsa-pss": ("rsa", (A.RSA_PSS_SHA256, A.RSA_PSS_SHA384, A.RSA_PSS_SHA512)),
    "ecdsa-p256": ("p256", (A.ECDSA_SHA256, A.ECDSA_SHA384, A.ECDSA_SHA512)),
    "ed25519": ("ed25519", (A.EDDSA_ED25519,)),
}

NAMES = ("a", "b", "item", "Ärger", "名前", "x-y", "z.z", "_u")  # names valid in XML 1.0 4th and 5th edition
NAMESPACES = ("urn:example:a", "urn:example:b", "http://example.com/ns#c")
DECLARATIONS = (("p", "urn:example:a"), ("q", "urn:example:b"), ("p", "urn:example:b"), ("r", "http://example.com/ns#c"))
ATTRIBUTES = ("a", "b", "lang", "{urn:example:a}x", "{urn:example:b}y", "{http://www.w3.org/XML/1998/namespace}lang")
SIGNED_ID = "signed"

# lxml's exclusive c14n keeps an InclusiveNamespaces prefix only if the string is already in the (per-thread,
# shared) libxml2 dictionary: see test_inclusive_prefixes_do_not_depend_on_what_was_parsed_before below. The
# random documents are built in memory, so their prefixes are interned here first; otherwise the properties
# below fail at random, on whichever example first uses a prefix the process has not parsed yet.
parse_xml(b'<intern xmlns:p="urn:example:a" xmlns:q="urn:example:b" xmlns:r="http://example.com/ns#c"/>')

_chars = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff")
TEXT = st.lists(st.one_of(_chars, st.sampled_from(["\n", "\t", "\r", " ", "&", "<", ">", '"', "'", "]]>", "&amp;"])),
               max_size=10).map("".join)


@dataclass(frozen=True)
class Spec:
    namespace: str | None
    name: str
    declarations: tuple[tuple[str, str], ...]
    attributes: tuple[tuple[str, str], ...]
    text: str | None
    tail: str | None
    children: tuple[Spec, ...]


def _spec(children: st.SearchStrategy) -> st.SearchStrategy[Spec]:
    return st.builds(
        Spec,
        namespace=st.one_of(st.none(), st.sampled_from(NAMESPACES)),
        name=st.sampled_from(NAMES),
        declarations=st.lists(st.sampled_from(DECLARATIONS), max_size=2).map(tuple),
        attributes=st.dictionaries(st.sampled_from(ATTRIBUTES), TEXT, max_size=3).map(lambda d: tuple(d.items())),
        text=st.one_of(st.none(), TEXT),
        tail=st.one_of(st.none(), TEXT),
        children=children,
    )


SPECS = st.recursive(_spec(st.just(())), lambda inner: _spec(st.lists(inner, max_size=3).map(tuple)), max_leaves=10)


def build(spec: Spec, parent: etree._Element | None = None) -> etree._Element:
    tag = q(spec.namespace, spec.name) if spec.namespace else spec.name
    nsmap = dict(spec.declarations)
    element = etree.Element(tag, nsmap=nsmap) if parent is None else etree.SubElement(parent, tag, nsmap=nsmap)
    for attribute, value in spec.attributes:
        element.set(attribute, value)
    element.text = spec.text
    element.tail = spec.tail
    for child in spec.children:
        build(child, element)
    return element


@dataclass(frozen=True)
class Signed:
    data: bytes
    ident: Identity
    policy: AlgorithmPolicy
    form: str  # "detached", "enveloped" (inside the signed element) or "whole" (URI="")


@st.composite
def signed_documents(draw: st.DrawFn, family: str, forms: tuple[str, ...] = ("detached", "enveloped", "whole"),
                     exclusive_only: bool = False) -> Signed:
    kind, algorithms = FAMILIES[family]
    ident = identity(kind, "a")
    algorithm = draw(st.sampled_from(algorithms))
    policy = draw(st.sampled_from([p for p in POLICIES.values() if algorithm in p.signatures]))
    admitted = [f for f in forms if f == "detached" or A.ENVELOPED_SIGNATURE in policy.transforms]
    form = draw(st.sampled_from(admitted))
    digest = draw(st.sampled_from(sorted(policy.digests)))
    c14n_choices = [A.EXC_C14N] + ([A.C14N_10] if A.C14N_10 in policy.transforms and not exclusive_only else [])
    c14n = draw(st.sampled_from(c14n_choices))
    prefixes = tuple(draw(st.lists(st.sampled_from(["p", "q", "r"]), max_size=2, unique=True))) \
        if c14n == A.EXC_C14N else ()

    root = etree.Element("Doc", nsmap=dict(draw(st.lists(st.sampled_from(DECLARATIONS), max_size=2))))
    if draw(st.booleans()):
        build(draw(SPECS), root)  # an unsigned sibling before the signed element
    signed = build(draw(SPECS), root)
    signed.set("ID", SIGNED_ID)
    # at least one ASCII value in the signed region, so the byte-change properties always have somewhere to go
    signed.set("note", draw(st.text(string.ascii_letters + string.digits + " .-", min_size=1, max_size=12)))

    options = SignOptions(policy=policy, signature_algorithm=algorithm)
    if form == "detached":
        sign(root, [ReferenceSpec(element=signed, transforms=(Transform(c14n, prefixes),), digest=digest)],
             ident.signer, options)
    elif form == "enveloped":
        index = draw(st.integers(0, len(signed)))
        transforms = (Transform(A.ENVELOPED_SIGNATURE), Transform(c14n, prefixes))
        sign(signed, [ReferenceSpec(element=signed, transforms=transforms, digest=digest)], ident.signer, options,
             index=index)
    else:
        transforms = (Transform(A.ENVELOPED_SIGNATURE), Transform(c14n, prefixes))
        sign(root, [ReferenceSpec(uri="", transforms=transforms, digest=digest)], ident.signer, options)
    # it verifies in memory, before any serialization
    verify(root.find(f".//{q(ns.DS, 'Signature')}"), use_certificate(ident.cert), policy)
    return Signed(etree.tostring(root, encoding="utf-8"), ident, policy, form)


def signature_of(root: etree._Element) -> etree._Element:
    signatures = list(root.iter(q(ns.DS, "Signature")))
    assert len(signatures) == 1
    return signatures[0]


def signed_element(root: etree._Element) -> etree._Element:
    found = root.xpath("//*[@ID=$id]", id=SIGNED_ID)
    assert len(found) == 1
    return found[0]


# --- sign, serialize, parse, verify ---------------------------------------------------------------------

@pytest.mark.parametrize("family", FAMILIES)
def test_random_documents_verify_after_serialization_and_parsing(family: str) -> None:
    @PROPERTY_SETTINGS
    @given(signed=signed_documents(family))
    def check(signed: Signed) -> None:
        original = etree.fromstring(signed.data)
        root = parse_xml(signed.data).getroot()
        verified = verify(signature_of(root), use_certificate(signed.ident.cert), signed.policy)
        (reference,) = verified.references
        if signed.form == "whole":
            assert reference.uri == "" and reference.element is root
        else:
            assert reference.uri == f"#{SIGNED_ID}" and reference.element is signed_element(root)
            assert covers(verified, signed_element(root))
        # what was verified is what was signed: same canonical form as the bytes that were produced
        assert canonicalize(reference.element, A.EXC_C14N) == canonicalize(
            original if signed.form == "whole" else signed_element(original), A.EXC_C14N)

    check()


# --- any single-byte change inside the signed region fails ---------------------------------------------

def _tag_end(data: bytes, start: int) -> int:
    """Index of the '>' closing the tag that starts at ``start`` (quotes respected)."""
    quote = None
    for index in range(start + 1, len(data)):
        byte = data[index:index + 1]
        if quote:
            if byte == quote:
                quote = None
        elif byte in (b'"', b"'"):
            quote = byte
        elif byte == b">":
            return index
    raise AssertionError("unterminated tag")


def _attribute_value_offsets(tag: bytes, offset: int) -> list[int]:
    """Offsets of the bytes inside attribute values of one start tag, namespace declarations excluded."""
    offsets = []
    index = 0
    while True:
        equals = tag.find(b"=", index)
        if equals < 0:
            return offsets
        quote = tag[equals + 1:equals + 2]
        assert quote in (b'"', b"'"), tag
        end = tag.index(quote, equals + 2)
        attribute = tag[:equals].rsplit(None, 1)[-1]
        # namespace declarations may be dropped by exclusive c14n; the ID is tested on its own (a changed ID is
        # XMLDSIG_REFERENCE_NOT_FOUND, and in small documents it would take most of the examples)
        if not (attribute == b"xmlns" or attribute.startswith(b"xmlns:") or attribute == b"ID"):
            offsets.extend(range(offset + equals + 2, offset + end))
        index = end + 1


def signed_region_offsets(data: bytes, form: str) -> list[int]:
    """Byte offsets of text content and attribute values inside the signed element (the whole document for a
    whole-document signature), outside the ds:Signature: the places whose change c14n cannot normalise away.
    Serialized by lxml: no comments, PIs, CDATA or DTD; '<' and '&' always escaped."""
    offsets: list[int] = []
    stack: list[tuple[bool, bool]] = []  # (inside the signed region, inside ds:Signature) per open element
    index = data.index(b"<", data.index(b"?>") + 2) if data.startswith(b"<?xml") else 0
    while index < len(data):
        if data[index:index + 1] != b"<":
            end = data.find(b"<", index)
            end = len(data) if end < 0 else end
            if stack and stack[-1][0] and not stack[-1][1]:
                offsets.extend(range(index, end))
            index = end
            continue
        end = _tag_end(data, index)
        tag = data[index:end + 1]
        if tag.startswith(b"</"):
            stack.pop()
        else:
            name = tag[1:].split(None, 1)[0].rstrip(b"/>")
            outer_signed, outer_signature = stack[-1] if stack else (False, False)
            is_signed = outer_signed or (form == "whole" and not stack) or f' ID="{SIGNED_ID}"'.encode() in tag
            is_signature = outer_signature or name == b"ds:Signature"
            if is_signed and not is_signature:
                offsets.extend(_attribute_value_offsets(tag, index))
            if not tag.endswith(b"/>"):
                stack.append((is_signed, is_signature))
        index = end + 1
    assert not stack
    return offsets


def plain_ascii_offsets(data: bytes, offsets: list[int]) -> list[int]:
    """Those offsets holding an ASCII character that is not part of an entity or character reference."""
    in_reference = set()
    start = data.find(b"&")
    while start >= 0:
        end = data.index(b";", start)
        in_reference.update(range(start, end + 1))
        start = data.find(b"&", end)
    return [offset for offset in offsets if data[offset] < 0x80 and offset not in in_reference]


PRINTABLE = [chr(c).encode() for c in range(0x20, 0x7F)]
ALPHANUMERIC = [c for c in PRINTABLE if c.isalnum()]


@pytest.mark.parametrize("family", FAMILIES)
def test_any_single_byte_change_inside_the_signed_region_fails_verification(family: str) -> None:
    @PROPERTY_SETTINGS
    @given(signed=signed_documents(family), data=st.data())
    def check(signed: Signed, data: st.DataObject) -> None:
        offsets = signed_region_offsets(signed.data, signed.form)
        assert offsets
        offset = data.draw(st.sampled_from(offsets), label="offset")
        original = signed.data[offset:offset + 1]
        replacement = data.draw(st.sampled_from([c for c in PRINTABLE if c != original]), label="replacement")
        mutated = signed.data[:offset] + replacement + signed.data[offset + 1:]
        with pytest.raises((SignatureError, XmlRefused)):
            root = parse_xml(mutated).getroot()
            verify(signature_of(root), use_certificate(signed.ident.cert), signed.policy)

    check()


@pytest.mark.parametrize("family", FAMILIES)
def test_a_letter_or_digit_in_place_of_any_signed_ascii_character_is_a_digest_mismatch(family: str) -> None:
    # The sharper form of the property above: the result stays well-formed, so it must be the digest that fails.
    @PROPERTY_SETTINGS
    @given(signed=signed_documents(family), data=st.data())
    def check(signed: Signed, data: st.DataObject) -> None:
        offsets = plain_ascii_offsets(signed.data, signed_region_offsets(signed.data, signed.form))
        assert offsets
        offset = data.draw(st.sampled_from(offsets), label="offset")
        original = signed.data[offset:offset + 1]
        replacement = data.draw(st.sampled_from([c for c in ALPHANUMERIC if c != original]), label="replacement")
        mutated = signed.data[:offset] + replacement + signed.data[offset + 1:]
        root = parse_xml(mutated).getroot()
        with pytest.raises(SignatureError) as caught:
            verify(signature_of(root), use_certificate(signed.ident.cert), signed.policy)
        assert caught.value.code == "XMLDSIG_DIGEST_MISMATCH"

    check()


@settings(PROPERTY_SETTINGS, max_examples=20)
@given(signed=signed_documents("ed25519"))
def test_a_changed_id_is_a_missing_reference(signed: Signed) -> None:
    root = parse_xml(signed.data.replace(f'ID="{SIGNED_ID}"'.encode(), b'ID="signeD"')).getroot()
    with pytest.raises(SignatureError) as caught:
        verify(signature_of(root), use_certificate(signed.ident.cert), signed.policy)
    assert caught.value.code == ("XMLDSIG_DIGEST_MISMATCH" if signed.form == "whole" else "XMLDSIG_REFERENCE_NOT_FOUND")


def test_the_offset_scanner_finds_text_and_attribute_values_only() -> None:
    data = (b'<Doc xmlns:p="urn:p"><u a="1">no</u><s ID="signed" p:x="va&amp;l">t&lt;1<c b="2">t2</c>t3'
            b'<ds:Signature xmlns:ds="urn:ds"><ds:V>sig</ds:V></ds:Signature>t4</s>after</Doc>')
    picked = signed_region_offsets(data, "enveloped")
    assert bytes(data[i] for i in picked) == b"va&amp;lt&lt;12t2t3t4"
    assert bytes(data[i] for i in plain_ascii_offsets(data, picked)) == b"valt12t2t3t4"
    whole = bytes(data[i] for i in signed_region_offsets(data, "whole"))
    assert whole == b"1nova&amp;lt&lt;12t2t3t4after"


# --- wrapping, over random documents --------------------------------------------------------------------

@pytest.mark.parametrize("family", ["rsa-pkcs1", "ed25519"])
def test_a_moved_signed_element_with_a_forgery_in_its_place_is_never_confused(family: str) -> None:
    @PROPERTY_SETTINGS
    @given(signed=signed_documents(family, forms=("detached",), exclusive_only=True), data=st.data())
    def check(signed: Signed, data: st.DataObject) -> None:
        root = parse_xml(signed.data).getroot()
        original = signed_element(root)
        prefixes = read_prefix_list(signature_of(root).find(f".//{q(ns.DS, 'Transform')}"))
        expected = canonicalize(original, A.EXC_C14N, prefixes)  # what the reference digests
        forged = copy.deepcopy(original)
        forged.set("ID", "forged")
        etree.SubElement(forged, "injected").text = "evil"
        original.addprevious(forged)
        hosts = [el for el in root.iter(etree.Element) if el is not original and not _inside(el, original)
                 and not _inside(el, signature_of(root)) and el is not signature_of(root)]
        host = data.draw(st.sampled_from(hosts), label="new parent")
        host.insert(data.draw(st.integers(0, len(host)), label="position"), original)
        same_id = data.draw(st.booleans(), label="forgery keeps the ID")
        if same_id:
            forged.set("ID", SIGNED_ID)

        attacked = parse_xml(etree.tostring(root, encoding="utf-8")).getroot()
        if same_id:
            with pytest.raises(SignatureError) as caught:
                verify(signature_of(attacked), use_certificate(signed.ident.cert), signed.policy)
            assert caught.value.code == "XMLDSIG_DUPLICATE_ID"
            return
        moved = signed_element(attacked)
        forged_now = attacked.xpath("//*[@ID='forged']")[0]
        resolver = use_certificate(signed.ident.cert)
        if canonicalize(moved, A.EXC_C14N, prefixes) != expected:
            # The move changed what the reference digests: lxml re-resolves namespace prefixes when it moves an
            # element in memory, and an InclusiveNamespaces PrefixList makes the new ancestors' declarations
            # part of the canonical form. The moved element is then no longer what was signed: it must not verify.
            with pytest.raises(SignatureError) as caught:
                verify(signature_of(attacked), resolver, signed.policy)
            assert caught.value.code == "XMLDSIG_DIGEST_MISMATCH"
            return
        verified = verify(signature_of(attacked), resolver, signed.policy)
        element = verified.references[0].element
        assert element is moved
        assert canonicalize(element, A.EXC_C14N, prefixes) == expected
        assert not covers(verified, forged_now)
        assert element.find("injected") is None

    check()


def _inside(element: etree._Element, ancestor: etree._Element) -> bool:
    return any(a is ancestor for a in element.iterancestors())


# --- found by the properties above: canonical form must not depend on process history ---------------------------

def _fresh_prefix() -> str:
    return "p" + uuid.uuid4().hex[:12]  # never seen by this process's libxml2 dictionary


def test_inclusive_prefixes_do_not_depend_on_what_was_parsed_before() -> None:
    prefix = _fresh_prefix()
    root = etree.Element("Doc", nsmap={prefix: "urn:example:inclusive"})
    data = etree.SubElement(root, "Data", ID="d1")
    data.text = "x"
    before = canonicalize(data, A.EXC_C14N, (prefix,))
    parse_xml(f'<other xmlns:{prefix}="urn:unrelated"/>'.encode())  # an unrelated document, parsed meanwhile
    after = canonicalize(data, A.EXC_C14N, (prefix,))
    assert before == after == f'<Data xmlns:{prefix}="urn:example:inclusive" ID="d1">x</Data>'.encode()


@pytest.mark.parametrize("where", ["reference-transform", "signedinfo-c14n"])
def test_in_memory_document_signed_with_inclusive_prefixes_verifies_after_parsing(where: str) -> None:
    ident = identity("ed25519", "a")
    prefix = _fresh_prefix()
    root = etree.Element("Doc", nsmap={prefix: "urn:example:inclusive"})
    data = etree.SubElement(root, "Data", ID="d1")
    data.text = "x"
    if where == "reference-transform":
        references = [ReferenceSpec(element=data, transforms=(Transform(A.EXC_C14N, (prefix,)),))]
        options = SignOptions(policy=A.EDELIVERY_AS4_2_0)
    else:
        references = [ReferenceSpec(element=data)]
        options = SignOptions(policy=A.EDELIVERY_AS4_2_0, c14n_prefixes=(prefix,))
    sign(root, references, ident.signer, options)
    received = parse_xml(etree.tostring(root)).getroot()
    verify(signature_of(received), use_certificate(ident.cert), A.EDELIVERY_AS4_2_0)
