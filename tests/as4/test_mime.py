"""SOAP-with-Attachments writing and reading: wire shape, every chunking, encodings, refusals, flat memory."""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import time
import tracemalloc
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from as4.errors import EbmsError
from as4.mime import parse_content_type, read_mime, spooled_size, write_mime
from as4.parts import Part

ENVELOPE = b'<?xml version="1.0" encoding="UTF-8"?><S12:Envelope xmlns:S12="http://www.w3.org/2003/05/soap-envelope"/>'
BOUNDARY = "----=_Part_test"


def parts() -> list[Part]:
    return [
        Part.from_bytes("a@x", "application/gzip", b"\x1f\x8b\x00binary\r\n--not-a-boundary\r\n\x00\xff"),
        Part.from_bytes("b@x", "application/pdf", b"%PDF-1.7", **{"Content-Description": "Evidence"}),
        Part.from_bytes("empty@x", "text/plain", b""),
    ]


def written(items: list[Part] | None = None, **options: object) -> tuple[str, bytes]:
    content_type, body = write_mime(ENVELOPE, parts() if items is None else items, boundary=BOUNDARY,
                                    root_content_id="root@x", **options)  # type: ignore[arg-type]
    return content_type, b"".join(body)


def contents(found: list[Part]) -> list[tuple[str, str, bytes]]:
    return [(p.content_id, p.content_type, p.read_all()) for p in found]


def refused(content_type: str, body: bytes | Iterable[bytes], **limits: int) -> EbmsError:
    with pytest.raises(EbmsError) as caught:
        read_mime(content_type, [body] if isinstance(body, bytes) else body, **limits)  # type: ignore[arg-type]
    return caught.value


def message(*sections: bytes, boundary: bytes = b"b1", close: bool = True) -> bytes:
    """A hand-made multipart body: each section is a part's header block and content."""
    body = b"".join(b"--" + boundary + b"\r\n" + section + b"\r\n" for section in sections)
    return body + (b"--" + boundary + b"--\r\n" if close else b"")


SOAP_PART = b"Content-Type: application/soap+xml; charset=UTF-8\r\nContent-ID: <root@x>\r\n\r\n" + ENVELOPE
CT = 'multipart/related; boundary="b1"; type="application/soap+xml"; start="<root@x>"'


# --- writing -----------------------------------------------------------------------------------------------


def test_wire_shape() -> None:
    content_type, body = written()
    assert content_type == ('multipart/related; boundary="----=_Part_test"; type="application/soap+xml"; '
                            'start="<root@x>"')
    assert body.startswith(
        b"------=_Part_test\r\nContent-Type: application/soap+xml; charset=UTF-8\r\n"
        b"Content-Transfer-Encoding: binary\r\nContent-ID: <root@x>\r\n\r\n" + ENVELOPE + b"\r\n------=_Part_test\r\n"
        b"Content-Type: application/gzip\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <a@x>\r\n\r\n\x1f\x8b")
    assert b"Content-ID: <b@x>\r\nContent-Description: Evidence\r\n\r\n%PDF-1.7\r\n" in body
    assert body.endswith(b"Content-ID: <empty@x>\r\n\r\n\r\n------=_Part_test--\r\n")


def test_no_parts_is_a_bare_envelope_unless_multipart_is_asked_for() -> None:
    content_type, body = write_mime(ENVELOPE, [])
    assert content_type == "application/soap+xml; charset=UTF-8" and b"".join(body) == ENVELOPE
    content_type, body = write_mime(ENVELOPE, [], multipart=True)
    assert content_type.startswith("multipart/related; boundary=")
    assert read_mime(content_type, body) == (ENVELOPE, [])
    assert read_mime(*write_mime(ENVELOPE, [])) == (ENVELOPE, [])


def test_fresh_boundaries() -> None:
    assert write_mime(ENVELOPE, parts())[0] != write_mime(ENVELOPE, parts())[0]


def test_writer_refuses_what_would_break_the_framing() -> None:
    with pytest.raises(ValueError):
        write_mime(ENVELOPE, [Part.from_bytes("a@x", "text/plain\r\nX-Injected: 1", b"")], boundary="b")
    with pytest.raises(ValueError):
        write_mime(ENVELOPE, parts(), boundary="bad\"boundary")
    with pytest.raises(ValueError):
        write_mime(b"<e>--b</e>", parts(), boundary="b")
    with pytest.raises(ValueError):
        b"".join(write_mime(ENVELOPE, [Part.from_bytes("a@x", "text/plain", b"", **{
            "Content-Transfer-Encoding": "base64"})])[1])
    with pytest.raises(ValueError):
        write_mime(ENVELOPE, parts(), multipart=False)


# --- reading -----------------------------------------------------------------------------------------------


def test_round_trip(tmp_path: Path) -> None:
    content_type, body = written()
    soap, found = read_mime(content_type, [body], spool_dir=tmp_path)
    assert soap == ENVELOPE
    assert contents(found) == contents(parts())
    assert found[1].headers == {"Content-Type": "application/pdf", "Content-ID": "<b@x>",
                                "Content-Description": "Evidence"}
    assert found[0].read_all() == found[0].read_all()  # a spooled part can be read again (digest, then store)
    assert [spooled_size(p) for p in found] == [len(p.read_all()) for p in parts()]
    assert list(tmp_path.iterdir()) == []  # spools are unlinked at once: nothing to leak


def test_every_split_point_and_single_bytes() -> None:
    content_type, body = written()
    expected = (ENVELOPE, contents(parts()))
    for cut in range(len(body) + 1):
        soap, found = read_mime(content_type, [body[:cut], b"", body[cut:]])
        assert (soap, contents(found)) == expected, cut
    soap, found = read_mime(content_type, (body[i:i + 1] for i in range(len(body))))
    assert (soap, contents(found)) == expected


def test_base64_parts_decode_while_streaming() -> None:
    payload = bytes(range(256)) * 7 + b"tail"
    encoded = base64.encodebytes(payload).replace(b"\n", b"\r\n").rstrip(b"\r\n")
    body = message(SOAP_PART, b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: BASE64\r\n"
                              b"Content-ID: <p@x>\r\n\r\n" + encoded)
    for size in (1, 3, 77, len(body)):
        soap, found = read_mime(CT, [body[i:i + size] for i in range(0, len(body), size)])
        assert soap == ENVELOPE and found[0].read_all() == payload


@pytest.mark.parametrize(("encoded", "why"), [
    (b"AAA*", "alphabet"), (b"AAAAA", "incomplete"), (b"AA==AAAA", "after padding"), (b"AA==\r\nAAAA", "after"),
])
def test_bad_base64_is_refused(encoded: bytes, why: str) -> None:
    body = message(SOAP_PART, b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n"
                              b"Content-ID: <p@x>\r\n\r\n" + encoded)
    assert refused(CT, body).code == "EBMS:0007", why


@pytest.mark.parametrize("content_type", [
    'multipart/related; boundary=b1; type="application/soap+xml"',
    'Multipart/Related;\r\n\tBOUNDARY="b1";\r\n\ttype=application/soap+xml',
    'multipart/related; type="application/soap+xml"; boundary="b1"; start="<root@x>"; start-info="x"',
    'multipart/related;boundary="b\\1"',  # a quoted-pair is the character itself
])
def test_boundary_parameter_spellings(content_type: str) -> None:
    body = message(SOAP_PART, b"Content-Type: text/plain\r\nContent-ID: p@x\r\n\r\nhi")
    soap, found = read_mime(content_type, [body])
    assert soap == ENVELOPE and contents(found) == [("p@x", "text/plain", b"hi")]


def test_parse_content_type() -> None:
    assert parse_content_type('text/XML; Charset="utf-8"; action="urn:a;b"') == (
        "text/xml", {"charset": "utf-8", "action": "urn:a;b"})
    for bad in ("text", "multipart/related; boundary", 'a/b; x="unterminated', "a/b; x=1; X=2"):
        with pytest.raises(EbmsError):
            parse_content_type(bad)


def test_zero_byte_parts_first_and_last() -> None:
    empty = b"Content-Type: text/plain\r\nContent-ID: <e%d@x>\r\n\r\n"
    body = message(SOAP_PART, empty % 1, b"Content-Type: text/plain\r\nContent-ID: <m@x>\r\n\r\nmid", empty % 2)
    assert [p.read_all() for p in read_mime(CT, [body])[1]] == [b"", b"mid", b""]


def test_start_finds_a_root_that_is_not_first_and_first_is_root_without_start() -> None:
    attachment = b"Content-Type: text/plain\r\nContent-ID: <p@x>\r\n\r\nfirst"
    soap, found = read_mime(CT, [message(attachment, SOAP_PART)])
    assert soap == ENVELOPE and [p.content_id for p in found] == ["p@x"]
    assert refused('multipart/related; boundary="b1"', message(attachment, SOAP_PART)).code == "EBMS:0007"
    assert refused('multipart/related; boundary="b1"; start="<other@x>"', message(SOAP_PART)).code == "EBMS:0007"


def test_preamble_padding_and_epilogue_are_ignored() -> None:
    body = (b"This is a multi-part message in MIME format.\r\n--b1 \t\r\n" + SOAP_PART
            + b"\r\n--b1--\r\nepilogue, ignored")
    assert read_mime(CT, [body]) == (ENVELOPE, [])


def test_bare_soap_bodies() -> None:
    assert read_mime("application/soap+xml; charset=UTF-8", [ENVELOPE[:10], ENVELOPE[10:]]) == (ENVELOPE, [])
    assert read_mime("text/xml", [ENVELOPE]) == (ENVELOPE, [])  # SOAP 1.1
    assert refused("application/soap+xml", [ENVELOPE], max_soap_bytes=10).code == "EBMS:0004"


ATTACHMENT = b"Content-Type: text/plain\r\nContent-ID: <p@x>\r\n\r\nhello"


@pytest.mark.parametrize(("content_type", "body", "code"), [
    ("multipart/related", message(SOAP_PART), "EBMS:0007"),  # no boundary
    ('multipart/related; boundary="bad\\"b"', message(SOAP_PART), "EBMS:0007"),
    ('multipart/related; boundary="b1"; boundary="b2"', message(SOAP_PART), "EBMS:0007"),
    ('multipart/related; boundary="b1"; type="application/xop+xml"', message(SOAP_PART), "EBMS:0007"),
    ("text/plain", b"hello", "EBMS:0007"),
    (CT, message(SOAP_PART, close=False), "EBMS:0007"),  # truncated
    (CT, message(SOAP_PART)[:-20], "EBMS:0007"),
    (CT, b"no boundary here at all", "EBMS:0007"),
    (CT, message(SOAP_PART, boundary=b"b1x"), "EBMS:0007"),  # boundary followed by other text
    (CT, message(SOAP_PART, ATTACHMENT, ATTACHMENT), "EBMS:0007"),  # duplicate Content-ID
    (CT, message(SOAP_PART, b"Content-Type: text/plain\r\n\r\nx"), "EBMS:0007"),  # no Content-ID
    (CT, message(SOAP_PART, b"Content-ID: <p@x>\r\n\r\nx"), "EBMS:0007"),  # no Content-Type
    (CT, message(b"Content-Type: text/plain\r\nContent-ID: <root@x>\r\n\r\nx"), "EBMS:0007"),  # root not SOAP
    (CT, message(SOAP_PART, ATTACHMENT.replace(b"\r\n\r\n", b"\r\nContent-Transfer-Encoding: quoted-printable"
                                                           b"\r\n\r\n")), "EBMS:0007"),
    (CT, message(SOAP_PART, b"Not a header line\r\n\r\nx"), "EBMS:0007"),
    (CT, message(SOAP_PART, b"Content-ID: <p@x>\r\nContent-ID: <q@x>\r\nContent-Type: a/b\r\n\r\nx"), "EBMS:0007"),
    (CT, message(SOAP_PART).replace(b"\r\n", b"\n"), "EBMS:0007"),  # bare LF line ends
])
def test_malformed_messages_are_refused(content_type: str, body: bytes, code: str) -> None:
    assert refused(content_type, body).code == code


def test_limits() -> None:
    body = message(SOAP_PART, ATTACHMENT, ATTACHMENT.replace(b"p@x", b"q@x"))
    assert refused(CT, body, max_parts=2).code == "EBMS:0004"
    assert refused(CT, body, max_part_bytes=4).code == "EBMS:0004"
    assert refused(CT, body, max_soap_bytes=len(ENVELOPE) - 1).code == "EBMS:0004"
    big_header = b"Content-Type: text/plain\r\nContent-ID: <p@x>\r\nX-Padding: " + b"x" * 5000 + b"\r\n\r\nx"
    assert refused(CT, message(SOAP_PART, big_header), max_header_bytes=4096).code == "EBMS:0004"
    assert refused(CT, [message(SOAP_PART, big_header)[:200], b"y" * 10_000], max_header_bytes=4096).code in (
        "EBMS:0004", "EBMS:0007")
    assert read_mime(CT, [body], max_parts=3, max_part_bytes=5)[1][1].read_all() == b"hello"


def test_spools_are_closed_when_reading_fails(tmp_path: Path) -> None:
    before = set(os.listdir("/proc/self/fd"))
    body = message(SOAP_PART, ATTACHMENT, ATTACHMENT.replace(b"p@x", b"q@x"), close=False)
    assert refused(CT, body).code == "EBMS:0007"
    assert set(os.listdir("/proc/self/fd")) <= before | {str(fd) for fd in range(3)}


# --- a 1 GiB part through writer and reader in flat memory ----------------------------------------------------

GIB = 1024**3
BLOCK = 1 << 20


def rechunk(chunks: Iterable[bytes], sizes: Iterable[int]) -> Iterator[bytes]:
    """The stream cut into odd sizes, as a network delivers it (one-byte chunks included)."""
    cycle = itertools.cycle(sizes)
    want = next(cycle)
    pending = b""
    for chunk in chunks:
        data = pending + chunk if pending else chunk
        position = 0
        while len(data) - position >= want:
            yield data[position:position + want]
            position += want
            want = next(cycle)
        pending = data[position:]
    if pending:
        yield pending


@pytest.mark.slow
def test_one_gibibyte_part_streams_through_in_flat_memory(tmp_path: Path) -> None:
    block = os.urandom(BLOCK)
    expected = hashlib.sha256()
    for _ in range(GIB // BLOCK):
        expected.update(block)
    big = Part("big@x", "application/octet-stream", lambda: itertools.repeat(block, GIB // BLOCK))

    started = time.monotonic()
    tracemalloc.start()
    try:
        content_type, body = write_mime(ENVELOPE, [Part.from_bytes("small@x", "text/plain", b"s"), big])
        soap, found = read_mime(content_type, rechunk(body, (65_537, 1, 131_071, 4_099, 8_191, 257)),
                                spool_dir=tmp_path, max_part_bytes=GIB)
        received = hashlib.sha256()
        size = 0
        for chunk in found[1].chunks():
            received.update(chunk)
            size += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert soap == ENVELOPE and found[0].read_all() == b"s"
    assert size == GIB and spooled_size(found[1]) == GIB
    assert received.digest() == expected.digest()
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes while streaming 1 GiB"
    assert time.monotonic() - started < 60
