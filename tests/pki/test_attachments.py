"""SwA attachment transforms (pki.xml.attachments).

Every expected octet string below is written out by hand from the rules in the module docstring and hashed
with plain hashlib here; none is produced by the code under test. During development the same literals were
also checked against WSS4J's own AttachmentUtils/CRLFOutputStream and Santuario's exclusive C14N, run
locally (not part of this suite).
"""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import Iterator

import pytest

from pki.xml.algorithms import (
    ATTACHMENT_COMPLETE_TRANSFORM,
    ATTACHMENT_CONTENT_TRANSFORM,
    EDELIVERY_AS4_1_15,
    EIDAS_1_3,
    EXC_C14N,
    SHA1,
    SHA256,
    SHA512,
    AlgorithmRefused,
)
from pki.xml.attachments import (
    DEFAULT_MAX_XML_BYTES,
    AttachmentTransformError,
    attachment_digest,
    attachment_octets,
    canonical_mime_headers,
    content_id_from_cid_uri,
)
from tests.pki.attach_parts import CountingPart, MemoryPart, StreamPart, part, rechunk

CONTENT, COMPLETE = ATTACHMENT_CONTENT_TRANSFORM, ATTACHMENT_COMPLETE_TRANSFORM


def octets(p: MemoryPart | CountingPart, transform: str = CONTENT) -> bytes:
    return b"".join(attachment_octets(p, [transform]))


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- content rule: raw octets --------------------------------------------------------------------------

BINARY = bytes(range(256)) + b"\r\n\n\r" + b"\x1f\x8b\x08\x00"


@pytest.mark.parametrize("content_type", ["application/octet-stream", "application/gzip", "application/pdf"])
def test_binary_part_is_digested_as_raw_octets(content_type: str) -> None:
    p = part(content_type, BINARY[:100], BINARY[100:])
    assert attachment_digest(p, [CONTENT], SHA256) == sha256(BINARY)
    assert attachment_digest(p, [CONTENT], SHA512) == hashlib.sha512(BINARY).digest()


def test_digest_is_the_hash_of_the_octet_stream() -> None:
    p = part("text/plain", b"x\ny\r", b"\nz")
    assert attachment_digest(p, [CONTENT], SHA256) == sha256(octets(p)) == sha256(b"x\r\ny\r\nz")


# --- content rule: text/* line endings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        ((b"line one\nline two\n",), b"line one\r\nline two\r\n"),  # LF
        ((b"line one\r\nline two\r\n",), b"line one\r\nline two\r\n"),  # CRLF stays
        ((b"a\rb\r",), b"a\r\nb\r\n"),  # lone CR
        ((b"a\r\rb",), b"a\r\n\r\nb"),  # two lone CRs
        ((b"a\r\r\nb",), b"a\r\n\r\nb"),  # CR then CRLF
        ((b"a\n\rb",), b"a\r\n\r\nb"),  # LF then CR
        ((b"no line break",), b"no line break"),
        ((b"a\r", b"\nb"), b"a\r\nb"),  # CRLF split by a chunk boundary: one break
        ((b"a\r", b"\r\nb"), b"a\r\n\r\nb"),  # CR at the end, CRLF next
        ((b"a\r", b"\n", b"\nb"), b"a\r\n\r\nb"),  # the LF alone in a chunk is absorbed, the next one is not
        ((b"a\r", b"", b"\nb"), b"a\r\nb"),  # empty chunks carry no state
        ((b"a\r",), b"a\r\n"),  # CR at the very end
        ((b"\n",), b"\r\n"),
        ((), b""),
    ],
)
def test_text_line_endings_become_crlf(pieces: tuple[bytes, ...], expected: bytes) -> None:
    p = part("text/plain", *pieces)
    assert octets(p) == expected
    assert attachment_digest(p, [CONTENT], SHA256) == sha256(expected)


# ws-security-common/src/test/java/org/apache/wss4j/common/attachment/CRLFOutputStreamTest.java
# (apache/ws-wss4j @ b975a69754835a21a9f717aeb60e1e5b364786e7), testBytePerByte and testBytes.
WSS4J_CRLF_IN = b"\n\r\r\n\n\n\r\r\ra\n\r\naaa"
WSS4J_CRLF_OUT = b"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\na\r\n\r\naaa"


def test_wss4j_crlf_vector_in_one_chunk_and_byte_per_byte() -> None:
    assert octets(part("text/plain", WSS4J_CRLF_IN)) == WSS4J_CRLF_OUT
    one_by_one = [WSS4J_CRLF_IN[i : i + 1] for i in range(len(WSS4J_CRLF_IN))]
    assert octets(part("text/plain", *one_by_one)) == WSS4J_CRLF_OUT


def test_text_charset_parameter_is_ignored_normalisation_is_bytewise() -> None:
    # WSS4J never looks at the charset: UTF-16LE "a\n" (61 00 0A 00) gets its 0A byte turned into 0D 0A.
    p = part("text/plain; charset=utf-16le", "a\n".encode("utf-16-le"))
    assert octets(p) == b"a\x00\r\n\x00"


# --- content rule: XML types ---------------------------------------------------------------------------

NONCANONICAL_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<!-- a comment before the root -->\n"
    b'<root xmlns:b="urn:b" xmlns="urn:default" xmlns:unused="urn:unused" z="1"   a="2" >\n'
    b"  <b:child   b:attr=\"x\" plain='y'/>\n"
    b"  <empty></empty>\n"
    b"  <!-- inside -->\n"
    b'  <text>a &amp; b &lt; c &gt; d "q" &#13;</text>\n'
    b"  <![CDATA[<cdata>&]]>\n"
    b"</root>\n"
)
# Exclusive C14N without comments: no declaration, comments gone (whitespace around them stays), the default
# namespace where it is used, xmlns:b moved to the element that uses it, xmlns:unused dropped, attributes
# sorted (no-namespace first, then by namespace URI), empty elements as start/end pairs, CDATA as text.
CANONICAL_XML = (
    b'<root xmlns="urn:default" a="2" z="1">\n'
    b'  <b:child xmlns:b="urn:b" plain="y" b:attr="x"></b:child>\n'
    b"  <empty></empty>\n"
    b"  \n"
    b'  <text>a &amp; b &lt; c &gt; d "q" &#xD;</text>\n'
    b"  &lt;cdata&gt;&amp;\n"
    b"</root>"
)


def test_application_xml_is_exclusively_canonicalised_without_comments() -> None:
    p = part("application/xml", NONCANONICAL_XML[:37], NONCANONICAL_XML[37:])
    assert octets(p) == CANONICAL_XML
    assert attachment_digest(p, [CONTENT], SHA256) == sha256(CANONICAL_XML)


EBRS_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<query:QueryRequest xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:4.0" '
    b'xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:4.0"   id="urn:uuid:1">'
    b'<rim:Slot name="SpecificationIdentifier"><rim:SlotValue '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="rim:StringValueType">'
    b"<rim:Value>oots-edm:v1.0</rim:Value></rim:SlotValue></rim:Slot>"
    b'<query:ResponseOption returnType="LeafClassWithRepositoryItem"/>'
    b"</query:QueryRequest>"
)
EBRS_CANONICAL = (
    b'<query:QueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:4.0" id="urn:uuid:1">'
    b'<rim:Slot xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:4.0" name="SpecificationIdentifier">'
    b'<rim:SlotValue xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="rim:StringValueType">'
    b"<rim:Value>oots-edm:v1.0</rim:Value></rim:SlotValue></rim:Slot>"
    b'<query:ResponseOption returnType="LeafClassWithRepositoryItem"></query:ResponseOption>'
    b"</query:QueryRequest>"
)


def test_ebrs_xml_part_is_canonicalised() -> None:
    p = part("application/x-ebrs+xml", EBRS_XML)
    assert attachment_digest(p, [CONTENT], SHA256) == sha256(EBRS_CANONICAL)


def test_xml_encoding_comes_from_the_document_not_the_mime_charset() -> None:
    # Declared ISO-8859-1, MIME says us-ascii: the declaration wins, output is UTF-8. Attribute values are
    # normalised by the parser (literal TAB/LF -> space, character references kept), line ends become LF.
    doc = b'<?xml version="1.0" encoding="ISO-8859-1"?><r a="x\ty\nz" b="&#9;&#10;&#13;">\xe9\r\n\r</r>'
    expected = b'<r a="x y z" b="&#x9;&#xA;&#xD;">\xc3\xa9\n\n</r>'
    assert octets(part("text/xml; charset=us-ascii", doc)) == expected


PROBE = b"<a  x='1'/>\n"
AS_XML, AS_TEXT, AS_OCTETS = b'<a x="1"></a>', b"<a  x='1'/>\r\n", PROBE


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/xml", AS_XML),
        ("TEXT/XML; charset=UTF-8", AS_XML),
        ("application/xml", AS_XML),
        ("Application/XML;charset=utf-8", AS_XML),
        ("application/soap+xml", AS_XML),
        ("application/x-ebrs+xml", AS_XML),
        ("image/svg+xml", AS_XML),
        ("application/xml;\r\n charset=utf-8", AS_XML),  # folded: unfolded before deciding
        # WSS4J's regexes match prefixes and the whole value, parameters included:
        ("text/xml-external-parsed-entity", AS_XML),
        ('application/octet-stream; name="report+xml"', AS_XML),
        ("text/plain", AS_TEXT),
        ("text/html; charset=utf-8", AS_TEXT),
        ("text/foo+xml", AS_TEXT),  # only application/ and image/ +xml types are XML
        (None, AS_TEXT),  # no Content-Type: text/plain (RFC 2045 default)
        ("application/json", AS_OCTETS),
        ("application/gzip", AS_OCTETS),
        ("audio/example+xml", AS_OCTETS),
        ("textual/plain", AS_OCTETS),
        ("appl\u0131cation/xml", AS_OCTETS),  # Java's (?i) folds ASCII only: dotless i is not "i"
    ],
)
def test_content_type_decides_the_processing(content_type: str | None, expected: bytes) -> None:
    assert octets(part(content_type, PROBE)) == expected


# --- Complete transform: MIME headers then content ------------------------------------------------------


def test_complete_transform_with_phase4_style_headers() -> None:
    gzip_bytes = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\r\n\x00"
    p = part(
        "application/gzip",
        gzip_bytes,
        Content_Transfer_Encoding="binary",
        Content_Description="Attachment",
        Content_ID="<phase4-att-a9297596-e9df-4740-9245-2c069712326f@cid>",
    )
    expected = (
        b"Content-Description:Attachment\r\n"
        b"Content-ID:<phase4-att-a9297596-e9df-4740-9245-2c069712326f@cid>\r\n"
        b"Content-Type:application/gzip\r\n" + gzip_bytes
    )
    assert octets(p, COMPLETE) == expected
    assert attachment_digest(p, [COMPLETE], SHA256) == sha256(expected)


def test_complete_transform_lowercases_type_and_quotes_parameters_then_canonicalises_xml() -> None:
    p = MemoryPart({"content-type": "Application/XML; Charset=UTF-8", "content-id": "  <x@y>"}, [b"<a/>"])
    assert octets(p, COMPLETE) == b'Content-ID:<x@y>\r\nContent-Type:application/xml;charset="utf-8"\r\n<a></a>'


def test_complete_transform_without_content_type_writes_the_default_and_treats_text() -> None:
    p = MemoryPart({"Content-ID": "<t@x>"}, [b"a\nb"])
    assert octets(p, COMPLETE) == b'Content-ID:<t@x>\r\nContent-Type:text/plain;charset="us-ascii"\r\na\r\nb'


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (  # folding removed (whitespace kept), comment removed, filename value lower-cased and quoted
            {
                "Content-Type": "application/pdf",
                "Content-Disposition": 'Attachment;\r\n filename="Report (final).PDF" (a comment)',
            },
            'Content-Disposition:attachment;filename="report (final).pdf"\r\nContent-Type:application/pdf\r\n',
        ),
        (  # RFC 2231 value decoded, parameter names lower-cased and sorted, only listed values lower-cased
            {"Content-Type": "Application/Octet-Stream; x-Note=Plain; SIZE=12; Name*=UTF-8''R%C4%ABga%20report.bin"},
            'Content-Type:application/octet-stream;name="Rīga report.bin";size="12";x-note="Plain"\r\n',
        ),
        (  # jakarta.mail reads an RFC 2231 "us-ascii" value as ISO-8859-1
            {"Content-Type": "text/plain; title*=us-ascii'en'caf%E9"},
            'Content-Type:text/plain;title="café"\r\n',
        ),
        (  # RFC 2047 words decoded, whitespace between two of them dropped, then the comment removed
            {
                "Content-Description": "=?UTF-8?Q?R=C4=ABgas_dati?= =?utf-8?B?w6E=?= (draft)",
                "Content-Type": "text/plain",
            },
            "Content-Description:Rīgas datiá \r\nContent-Type:text/plain\r\n",
        ),
        (  # a value without ';' is left as it is (not even lower-cased); unrelated headers are not signed
            {"Content-Type": "Text/Plain", "Content-Location": "http://example.org/a\r\n\tb", "X-Other": "x"},
            "Content-Location:http://example.org/a\tb\r\nContent-Type:Text/Plain\r\n",
        ),
        (  # a backslash before a line break keeps the break (jakarta.mail MimeUtility.unfold)
            {"Content-Location": "a\\\r\n b", "Content-Type": "text/plain"},
            "Content-Location:a\r\n b\r\nContent-Type:text/plain\r\n",
        ),
        (  # the five headers always come in this order, whatever order and case they arrive in
            {
                "content-type": "text/plain",
                "CONTENT-LOCATION": "l",
                "content-id": "<i>",
                "Content-disposition": "inline",
                "content-DESCRIPTION": "d",
            },
            "Content-Description:d\r\nContent-Disposition:inline\r\nContent-ID:<i>\r\nContent-Location:l\r\n"
            "Content-Type:text/plain\r\n",
        ),
    ],
)
def test_mime_header_canonicalisation(headers: dict[str, str], expected: str) -> None:
    assert canonical_mime_headers(headers) == expected.encode("utf-8")


# ws-security-common/src/test/java/org/apache/wss4j/common/attachment/AttachmentTest.java
# (apache/ws-wss4j @ b975a69754835a21a9f717aeb60e1e5b364786e7): testMimeHeaderDecodeRfc2184_1..4 and
# testMimeHeaderUncomment_1..3, fed through the header they apply to.
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            'Message/External-Body; access-type=URL;URL*0="ftp://";'
            'URL*1="cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar";test=true',
            'message/external-body;access-type="URL";test="true";'
            'url="ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"',
        ),
        (
            'Message/External-Body; access-type=URL;URL*0="ftp://";'
            'URL*1="cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"',
            'message/external-body;access-type="URL";url="ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"',
        ),
        (
            "application/x-stuff;title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A",
            'application/x-stuff;title="This is ***fun***"',
        ),
        (
            "application/x-stuff;title*1*=us-ascii'en'This%20is%20even%20more%20;"
            'title*2*=%2A%2A%2Afun%2A%2A%2A%20;title*3="isn\'t it!"',
            'application/x-stuff;title="This is even more ***fun*** isn\'t it!"',
        ),
    ],
)
def test_wss4j_rfc2184_vectors(value: str, expected: str) -> None:
    assert canonical_mime_headers({"Content-Type": value}) == f"Content-Type:{expected}\r\n".encode()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"a" "(b)" c (("d")) test', '"a" "(b)" c  test'),
        ('("a" "(b)" c (("d")) test)', ""),
        ('"a" "("b")" (c("d"))test', '"a" "("b")" test'),
    ],
)
def test_wss4j_uncomment_vectors(value: str, expected: str) -> None:
    headers = {"Content-ID": value, "Content-Type": "text/plain"}
    assert canonical_mime_headers(headers) == f"Content-ID:{expected}\r\nContent-Type:text/plain\r\n".encode()


@pytest.mark.parametrize(
    ("headers", "reason_text"),
    [
        ({"Content-Type": "text/plain", "content-type": "text/xml"}, "more than once"),
        ({"Content-ID": '<a"b>'}, "unterminated quoted string"),
        ({"Content-Location": "x (never closed"}, "unterminated comment"),
        ({"Content-Type": "text/plain; charset="}, "empty MIME parameter value"),
        ({"Content-Type": "text/plain; novalue"}, "without '='"),
        ({"Content-Type": "text/plain; t*=utf-8''a%2"}, "malformed %-escape"),
        ({"Content-Type": "text/plain; t*=x-nonexistent''a"}, "unknown charset"),
        ({"Content-Description": "=?x-nonexistent?Q?a?="}, "unknown charset"),
        ({"Content-Description": "=?utf-8?X?a?="}, "unknown RFC 2047 encoding"),
        ({"Content-Type": "a; p*0=1; q*0=2; p*1=3"}, "interleaved"),
    ],
)
def test_headers_wss4j_cannot_canonicalise_are_refused(headers: dict[str, str], reason_text: str) -> None:
    with pytest.raises(AttachmentTransformError, match=reason_text) as info:
        canonical_mime_headers(headers)
    assert info.value.code == "XMLDSIG_ATTACHMENT_TRANSFORM"
    assert info.value.reason == "header"


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("=?utf-8?Q?a=ZZ?=", "=?utf-8?Q?a=ZZ?="),  # bad Q escape: the word stays as text
        ("=?utf-8?B?YQ=?=", "=?utf-8?B?YQ=?="),  # padding cut short: the word stays as text
        ("x =?utf-8?B?Y*W*J*j?=", "x abc"),  # bytes outside the Base64 alphabet are skipped
        ("=?utf-8?B?YQ==YWJj?=", "a"),  # decoding stops after the padded group
        ("=?utf-8?B?***?= y", " y"),  # nothing left to decode: an empty encoded word
        ("=?US-ASCII?Q?caf=E9?=", "café"),  # "us-ascii" is read as ISO-8859-1
    ],
)
def test_rfc2047_edge_cases_follow_jakarta_mail(description: str, expected: str) -> None:
    headers = {"Content-Description": description, "Content-Type": "text/plain"}
    assert canonical_mime_headers(headers) == f"Content-Description:{expected}\r\nContent-Type:text/plain\r\n".encode()


def test_content_transform_ignores_headers_it_does_not_read() -> None:
    # Duplicated Content-ID only matters to the Complete transform.
    p = MemoryPart({"Content-Type": "text/plain", "Content-ID": "<a>", "content-id": "<b>"}, [b"x"])
    assert octets(p) == b"x"
    with pytest.raises(AttachmentTransformError):
        attachment_octets(p, [COMPLETE])


# --- cid: URIs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "content_id"),
    [
        # The cid: reference in ../shared/vectors/as4-phase4-testfiles/TestReceipt12.xml (the part itself is
        # not in that file, so its digest 5lPGsYkV... cannot be recomputed).
        (
            "cid:phase4-att-a9297596-e9df-4740-9245-2c069712326f@cid",
            "phase4-att-a9297596-e9df-4740-9245-2c069712326f@cid",
        ),
        ("CID:a%40b%20c", "a@b c"),
        ("cid:a+b", "a+b"),  # RFC 2392: "+" is literal (WSS4J's URLDecoder would make it a space)
    ],
)
def test_content_id_from_cid_uri(uri: str, content_id: str) -> None:
    assert content_id_from_cid_uri(uri) == content_id


@pytest.mark.parametrize("uri", ["#id-1", "http://example.org/x", "cid:%C3"])
def test_content_id_from_bad_uri_is_refused(uri: str) -> None:
    with pytest.raises(AttachmentTransformError) as info:
        content_id_from_cid_uri(uri)
    assert info.value.reason == "cid"


# --- transform list and algorithms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "transforms",
    [
        [],
        [EXC_C14N],
        ["http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Content-Only"],
        ["urn:example:unknown"],
        [CONTENT, CONTENT],
        [CONTENT, COMPLETE],
        [CONTENT, EXC_C14N],
        [EXC_C14N, CONTENT],
    ],
)
def test_transform_list_must_be_exactly_one_swa_transform(transforms: list[str]) -> None:
    p = CountingPart({"Content-Type": "text/plain"}, [b"x"])
    with pytest.raises(AttachmentTransformError) as info:
        attachment_digest(p, transforms, SHA256)
    assert info.value.reason == "transforms"
    assert info.value.code == "XMLDSIG_ATTACHMENT_TRANSFORM"
    assert p.taken == 0


def test_validation_happens_before_iteration() -> None:
    with pytest.raises(AttachmentTransformError):
        attachment_octets(part("text/plain", b"x"), [EXC_C14N])  # not iterated


def test_sha1_is_refused_under_the_as4_policy_before_reading() -> None:
    p = CountingPart({"Content-Type": "application/octet-stream"}, [b"x"])
    with pytest.raises(AlgorithmRefused) as info:
        attachment_digest(p, [CONTENT], SHA1, policy=EDELIVERY_AS4_1_15)
    assert info.value.kind == "digest"
    assert p.taken == 0


def test_swa_transform_outside_the_policy_is_refused() -> None:
    with pytest.raises(AlgorithmRefused) as info:
        attachment_digest(part("text/plain", b"x"), [CONTENT], SHA256, policy=EIDAS_1_3)
    assert info.value.kind == "transform"


def test_policy_that_allows_it_digests() -> None:
    p = part("application/octet-stream", b"payload")
    assert attachment_digest(p, [CONTENT], SHA256, policy=EDELIVERY_AS4_1_15) == sha256(b"payload")


def test_unknown_digest_without_policy_is_refused() -> None:
    with pytest.raises(AttachmentTransformError) as info:
        attachment_digest(part("text/plain", b"x"), [CONTENT], "urn:example:md5")
    assert info.value.reason == "digest"


# --- hostile or oversized XML ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        b'<!DOCTYPE a [<!ENTITY e "expanded">]><a>&e;</a>',
        b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
        b"<!DOCTYPE a><a/>",
        b'<?xml version="1.0"?>\n<!DOCTYPE a SYSTEM "http://example.invalid/a.dtd"><a/>',
    ],
)
def test_doctype_in_xml_part_is_refused(doc: bytes) -> None:
    with pytest.raises(AttachmentTransformError) as info:
        octets(part("application/xml", doc))
    assert info.value.reason == "doctype"


@pytest.mark.parametrize("doc", [b"<a>&undeclared;</a>", b"<a><b></a>", b"not xml", b""])
def test_malformed_xml_part_is_refused(doc: bytes) -> None:
    with pytest.raises(AttachmentTransformError) as info:
        octets(part("application/xml", doc))
    assert info.value.reason == "xml"


def test_xml_part_over_the_cap_is_refused_without_reading_the_rest() -> None:
    pieces = [b"<a>"] + [b"x" * 100] * 100 + [b"</a>"]
    p = CountingPart({"Content-Type": "application/xml"}, pieces)
    with pytest.raises(AttachmentTransformError) as info:
        b"".join(attachment_octets(p, [CONTENT], max_xml_bytes=1000))
    assert info.value.reason == "too-large"
    assert p.taken <= 11
    # The same document under a larger cap is fine.
    assert octets(MemoryPart({"Content-Type": "application/xml"}, pieces)) == b"<a>" + b"x" * 10_000 + b"</a>"


def test_default_xml_cap_is_64_mib() -> None:
    assert DEFAULT_MAX_XML_BYTES == 64 * 1024 * 1024


# --- streaming in flat memory ---------------------------------------------------------------------------

MIB = 1024 * 1024
FLAT = 4 * MIB  # tracemalloc peak allowed while digesting hundreds of MiB


def _binary_stream(total: int) -> Iterator[bytes]:
    # A block of 256 KiB of pseudo-random bytes, each copy rotated so that the stream is not periodic.
    block = hashlib.shake_256(b"attachment stream").digest(256 * 1024)
    for i in range(total // len(block)):
        k = (i * 7919) % len(block)
        yield block[k:] + block[:k]


def test_200_mib_binary_part_digests_in_flat_memory() -> None:
    total = 200 * MIB
    expected = hashlib.sha256()
    for chunk in rechunk(_binary_stream(total), 65_521):
        expected.update(chunk)

    p = StreamPart({"Content-Type": "application/octet-stream"}, lambda: rechunk(_binary_stream(total), 65_521))
    tracemalloc.start()
    try:
        got = attachment_digest(p, [CONTENT], SHA256)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == expected.digest()
    assert peak < FLAT, f"peak {peak} bytes"


# Mixed line endings; the block ends in LF so copies do not merge a CR with the next copy's first byte.
TEXT_BLOCK = b"alpha\r\nbeta\ngamma\rdelta\r\r\nepsilon\n\nzeta \xc5\xab\r\n"
TEXT_BLOCK_CRLF = b"alpha\r\nbeta\r\ngamma\r\ndelta\r\n\r\nepsilon\r\n\r\nzeta \xc5\xab\r\n"


def test_50_mib_text_part_in_odd_chunks_digests_in_flat_memory() -> None:
    per_block = 1024  # copies of TEXT_BLOCK per generated block, to keep the generator itself cheap
    blocks = 50 * MIB // (len(TEXT_BLOCK) * per_block)
    expected = hashlib.sha256()
    for _ in range(blocks):
        expected.update(TEXT_BLOCK_CRLF * per_block)

    split_crlf = 0

    def source() -> Iterator[bytes]:
        nonlocal split_crlf
        previous = b""
        for chunk in rechunk((TEXT_BLOCK * per_block for _ in range(blocks)), 7_919):
            if previous.endswith(b"\r") and chunk.startswith(b"\n"):
                split_crlf += 1
            previous = chunk
            yield chunk

    p = StreamPart({"Content-Type": "text/plain; charset=utf-8"}, source)
    tracemalloc.start()
    try:
        got = attachment_digest(p, [CONTENT], SHA256)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == expected.digest()
    assert split_crlf > 0, "no chunk boundary fell inside a CRLF: the test did not exercise it"
    assert peak < FLAT, f"peak {peak} bytes"
