"""AS4 payload compression (CompressionType ``application/gzip``), streamed in flat memory both ways.

The sender compresses before signing (AS4 §3.1: compress, sign, encrypt), so the compressed part is what the
signature digests and what travels; its original type goes into the PartInfo ``MimeType`` property, which is
the codec's business. Compression is deterministic (zlib writes no file name and mtime 0), so iterating the
compressed part twice (digest, then send) yields the same bytes.

Decompression is where a gzip bomb goes off: output is capped in absolute bytes and in expansion ratio, and
any corruption (bad header, CRC or length trailer, truncation, trailing garbage) is ``EBMS:0303``
DecompressionFailure. Both checks run while streaming, at most one output chunk beyond the limit is ever
produced, and nothing past a failure is handed on.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

from as4.errors import DECOMPRESSION_FAILURE, EbmsError
from as4.parts import CHUNK, Part, Spool
from as4.profiles import GZIP, CompressionRule

DEFAULT_LEVEL = 6  # zlib's default, what java.util.zip.GZIPOutputStream (phase4) uses
DEFAULT_MAX_OUTPUT = 1024 * 1024 * 1024  # 1 GiB per part
DEFAULT_MAX_RATIO = 200  # plain XML rarely goes past 20:1; repetitive XML past 100:1 is already odd
RATIO_FLOOR = 1024 * 1024  # the ratio is enforced once this much output exists (tiny inputs have wild ratios)
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # gzip wrapper only: a raw zlib or deflate stream is refused




def _gzip(chunks: Iterable[bytes], level: int) -> Iterator[bytes]:
    compressor = zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


def compress(part: Part, *, level: int = DEFAULT_LEVEL, content_type: str = GZIP) -> Part:
    """The part gzipped. Compression runs once, on first read (the sender reads a part twice: to digest it for
    the signature, then to send it); the result is spooled (memory, then a temporary file) and replayed."""
    if not -1 <= level <= 9:
        raise ValueError(f"gzip level must be -1..9, got {level}")
    done: list[Spool] = []

    def source() -> Iterator[bytes]:
        if not done:
            spool = Spool(None)
            for piece in _gzip(part.chunks(), level):
                spool.write(piece)
            done.append(spool)
        return done[0].chunks()

    return Part(part.content_id, content_type, source, dict(part.extra_headers))


def compress_for(part: Part, rule: CompressionRule, mime_type: str | None = None) -> tuple[Part, bool]:
    """Apply a profile's rule: ``(part, compressed?)``. ``mime_type`` defaults to the part's Content-Type."""
    if rule.applies_to(mime_type or part.content_type):
        return compress(part, level=rule.level, content_type=rule.compression_type), True
    return part, False


def _failure(detail: str, ref_to_message_id: str | None) -> EbmsError:
    return EbmsError(DECOMPRESSION_FAILURE, detail, ref_to_message_id=ref_to_message_id)


def _inflate(chunks: Iterable[bytes], content_id: str, max_output: int, max_ratio: float,
             ref_to_message_id: str | None) -> Iterator[bytes]:
    decompressor = zlib.decompressobj(_GZIP_WBITS)
    consumed = produced = 0

    def counted(out: bytes) -> bytes:
        nonlocal produced
        produced += len(out)
        if produced > max_output:
            raise _failure(f"part {content_id}: decompressed size exceeds the limit of {max_output} bytes "
                           f"({consumed} compressed bytes read)", ref_to_message_id)
        if produced > RATIO_FLOOR and produced > max_ratio * consumed:
            raise _failure(f"part {content_id}: expansion ratio above {max_ratio}:1 ({produced} bytes out of "
                           f"{consumed}); refused as a likely decompression bomb", ref_to_message_id)
        return out

    try:
        for chunk in chunks:
            if not chunk:
                continue
            consumed += len(chunk)
            data = bytes(chunk)
            while True:
                if decompressor.eof:  # the member ended; RFC 1952 allows another one to follow
                    data = decompressor.unused_data + data
                    if not data:
                        break
                    decompressor = zlib.decompressobj(_GZIP_WBITS)
                # max_length bounds one step's output: a small chunk cannot explode in memory.
                out = decompressor.decompress(data, CHUNK)
                data = decompressor.unconsumed_tail
                if out:
                    yield counted(out)
                if not decompressor.eof and not data and len(out) < CHUNK:
                    break
        while not decompressor.eof:  # input ended: drain what zlib still holds
            out = decompressor.decompress(b"", CHUNK)
            if not out:
                break
            yield counted(out)
    except zlib.error as exc:
        raise _failure(f"part {content_id}: not a valid gzip stream ({exc})", ref_to_message_id) from None
    if consumed == 0:
        raise _failure(f"part {content_id}: empty content where gzip data was expected", ref_to_message_id)
    if not decompressor.eof:
        raise _failure(f"part {content_id}: the gzip stream is truncated", ref_to_message_id)


def decompress(part: Part, *, content_type: str, max_output: int = DEFAULT_MAX_OUTPUT,
               max_ratio: float = DEFAULT_MAX_RATIO, ref_to_message_id: str | None = None) -> Part:
    """The part gunzipped, lazily, with the original ``content_type`` (PartInfo's ``MimeType`` property).

    Reading its ``chunks()`` raises ``EbmsError("EBMS:0303")`` on a bomb or corrupt data; use
    :func:`check_decompression` to find out before accepting the message.
    """
    if max_output <= 0 or max_ratio <= 1:
        raise ValueError("max_output must be positive and max_ratio above 1")

    def source() -> Iterator[bytes]:
        return _inflate(part.chunks(), part.content_id, max_output, max_ratio, ref_to_message_id)

    return Part(part.content_id, content_type, source, dict(part.extra_headers))


def check_decompression(part: Part, **limits: object) -> int:
    """Inflate a compressed part once without keeping anything; returns the decompressed size or raises
    ``EbmsError("EBMS:0303")`` (same keywords as :func:`decompress` except ``content_type``)."""
    total = 0
    for piece in decompress(part, content_type="application/octet-stream", **limits).chunks():  # type: ignore[arg-type]
        total += len(piece)
    return total


def decompress_checked(part: Part, *, content_type: str, **limits: object) -> Part:
    """Inflate once, now: a bomb or corrupt data is refused before the message is accepted (``EBMS:0303``), and
    the plaintext is spooled (memory, then a private temporary file) so reading it later costs no second pass."""
    spool = Spool(None)
    try:
        for piece in decompress(part, content_type=content_type, **limits).chunks():  # type: ignore[arg-type]
            spool.write(piece)
    except BaseException:
        spool.close()
        raise
    return Part(part.content_id, content_type, spool.chunks, dict(part.extra_headers))
