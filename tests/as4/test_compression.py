"""gzip compression of AS4 payloads: streamed both ways, rules per profile, bombs and corruption are EBMS:0303."""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator

import pytest

from as4.compression import (
    DEFAULT_MAX_RATIO,
    RATIO_FLOOR,
    check_decompression,
    compress,
    compress_for,
    decompress,
)
from as4.errors import EbmsError
from as4.parts import CHUNK, Part
from as4.profiles import EDELIVERY_1_15, PEPPOL, CompressionRule

XML = b'<?xml version="1.0"?><doc>' + b"<row>value</row>" * 2000 + b"</doc>"


def part_of(data: bytes, content_type: str = "application/gzip", pieces: int = 1) -> Part:
    step = max(1, len(data) // pieces)
    chunks = [data[i:i + step] for i in range(0, len(data), step)] or [b""]
    return Part("p@test", content_type, lambda: iter(chunks))


def gunzip_error(part: Part, **limits: object) -> EbmsError:
    with pytest.raises(EbmsError) as caught:
        check_decompression(part, **limits)  # type: ignore[arg-type]
    assert caught.value.code == "EBMS:0303"
    return caught.value


@pytest.mark.parametrize("data", [XML, os.urandom(300_000), b"", b"x"], ids=["xml", "random", "empty", "one"])
def test_round_trip(data: bytes) -> None:
    original = Part.from_bytes("p@test", "application/xml", data, **{"Content-Description": "doc"})
    packed = compress(original)
    assert packed.content_type == "application/gzip"
    assert packed.content_id == original.content_id and packed.extra_headers == original.extra_headers
    wire = packed.read_all()
    assert gzip.decompress(wire) == data  # a standard gzip stream any peer (java.util.zip) reads
    unpacked = decompress(part_of(wire, pieces=7), content_type="application/xml")
    assert unpacked.content_type == "application/xml"
    assert unpacked.read_all() == data


def test_compression_is_deterministic_so_digest_and_send_see_the_same_bytes() -> None:
    packed = compress(Part.from_bytes("p@test", "application/xml", XML))
    assert packed.read_all() == packed.read_all()


def test_levels() -> None:
    source = Part.from_bytes("p@test", "text/plain", XML)
    fast, best = compress(source, level=1).read_all(), compress(source, level=9).read_all()
    assert len(best) <= len(fast)
    assert gzip.decompress(fast) == gzip.decompress(best) == XML
    with pytest.raises(ValueError):
        compress(source, level=10)


def test_streaming_in_and_out_in_bounded_pieces() -> None:
    """100 MiB through both directions without ever holding it: every output piece stays within CHUNK."""
    total = 100 * 1024 * 1024

    def zeros() -> Iterator[bytes]:
        block = b"\0" * (1024 * 1024)
        for _ in range(total // len(block)):
            yield block

    source = Part("big@test", "application/octet-stream", zeros)
    packed = compress(source, level=1)
    out = 0
    for piece in decompress(packed, content_type="application/octet-stream", max_ratio=10_000).chunks():
        assert len(piece) <= CHUNK
        out += len(piece)
    assert out == total


def test_multi_member_gzip_is_accepted() -> None:
    data = gzip.compress(b"first ") + gzip.compress(b"second")
    assert decompress(part_of(data, pieces=5), content_type="text/plain").read_all() == b"first second"


# --- refusals --------------------------------------------------------------------------------------------

def bomb(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1024 * 1024)
    return b"".join([*(compressor.compress(block) for _ in range(size // len(block))), compressor.flush()])


def test_gzip_bomb_is_refused_by_ratio() -> None:
    data = bomb(64 * 1024 * 1024)  # 64 MiB of zeros in ~64 KiB
    error = gunzip_error(part_of(data, pieces=4))
    assert "ratio" in error.detail
    # It stops soon after the ratio floor, not after inflating everything.
    produced = 0
    with pytest.raises(EbmsError):
        for piece in decompress(part_of(data), content_type="application/octet-stream").chunks():
            produced += len(piece)
    assert produced <= RATIO_FLOOR + DEFAULT_MAX_RATIO * len(data)


def test_output_cap() -> None:
    data = gzip.compress(os.urandom(200_000))
    assert check_decompression(part_of(data), max_output=200_000) == 200_000
    error = gunzip_error(part_of(data), max_output=100_000)
    assert "limit of 100000 bytes" in error.detail


@pytest.mark.parametrize(("name", "data"), [
    ("not gzip", b"PK\x03\x04 definitely a zip"),
    ("raw deflate", zlib.compress(XML)),
    ("truncated", gzip.compress(XML)[:-20]),
    ("bad crc", gzip.compress(XML)[:-8] + b"\0\0\0\0" + gzip.compress(XML)[-4:]),
    ("trailing garbage", gzip.compress(XML) + b"garbage"),
    ("empty", b""),
])
def test_corruption(name: str, data: bytes) -> None:
    gunzip_error(part_of(data, pieces=3))


def test_errors_name_the_part_and_message() -> None:
    error = gunzip_error(part_of(b"nope"), ref_to_message_id="m1@test")
    assert "p@test" in error.detail
    assert error.ref_to_message_id == "m1@test"


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        decompress(part_of(b""), content_type="text/plain", max_ratio=1)


# --- the profile rule ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("mime_type", "expected"), [
    ("application/xml", True),
    ("text/plain; charset=utf-8", True),
    ("application/octet-stream", True),
    ("image/svg+xml", True),
    ("application/pdf", False),
    ("application/zip", False),
    ("application/gzip", False),
    ("IMAGE/PNG", False),
    ("image/jpeg", False),
    ("video/mp4", False),
    (None, True),
])
def test_default_rule(mime_type: str | None, expected: bool) -> None:
    assert EDELIVERY_1_15.compression.applies_to(mime_type) is expected


def test_configurable_rule() -> None:
    never = CompressionRule(enabled=False)
    assert not never.applies_to("application/xml")
    always = CompressionRule(required=True)
    assert always.applies_to("application/pdf")
    custom = CompressionRule(skip_mime_types=frozenset({"application/xml"}))
    assert not custom.applies_to("application/xml") and custom.applies_to("application/pdf")
    assert PEPPOL.compression.applies_to("application/xml")


def test_compress_for_applies_the_rule() -> None:
    xml = Part.from_bytes("a@test", "application/xml", XML)
    pdf = Part.from_bytes("b@test", "application/pdf", b"%PDF-1.7 ...")
    packed, done = compress_for(xml, EDELIVERY_1_15.compression)
    assert done and packed.content_type == "application/gzip" and gzip.decompress(packed.read_all()) == XML
    same, skipped = compress_for(pdf, EDELIVERY_1_15.compression)
    assert not skipped and same is pdf
    level9 = CompressionRule(level=9)
    assert compress_for(xml, level9)[0].read_all() == compress(xml, level=9).read_all()
