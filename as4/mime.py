"""SOAP with Attachments (``multipart/related``), written and read as streams in flat memory.

Wire format, as phase4 (jakarta.mail) and Domibus (CXF) exchange it:

* ``Content-Type: multipart/related; boundary="..."; type="application/soap+xml"; start="<...>"`` with no
  ``charset`` (RFC 2387 §3.4; phase4 issue #263). phase4 sends no ``start`` and takes the first part as the
  envelope; CXF sends ``start``. We send it and put the envelope first, which satisfies both.
* Every part carries ``Content-Type``, ``Content-Transfer-Encoding: binary`` and ``Content-ID: <id>``
  (angle brackets: WS-Security SwA 1.1.1 §5.2); CRLF line ends; no preamble or epilogue.
* Without attachments phase4 sends a bare SOAP envelope (``application/soap+xml; charset=UTF-8``), and so
  does :func:`write_mime` unless told otherwise.

The reader accepts what real peers send: the boundary quoted or not, folded headers, parts in
binary/8bit/7bit (passed through) or base64 (decoded while streaming), and the envelope located by ``start``
or else first. Attachments go to private, already-unlinked temporary files (a crash leaves nothing behind),
so a 1 GB part costs disk, not memory. Structural faults are ``EBMS:0007`` MimeInconsistency; exceeded limits
are ``EBMS:0004`` Other (the message may be fine, we just will not take that much).
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from as4 import errors as E
from as4.errors import EbmsError
from as4.parts import Part, Spool
from pki.ids import uuid4_hex, uuid4_str

SOAP12_MEDIA_TYPE = "application/soap+xml"
SOAP11_MEDIA_TYPE = "text/xml"
SOAP_MEDIA_TYPES = frozenset({SOAP12_MEDIA_TYPE, SOAP11_MEDIA_TYPE})
DEFAULT_MAX_PARTS = 128
DEFAULT_MAX_PART_BYTES = 2 * 1024**3  # Domibus' default message size limit; Split & Join goes beyond
DEFAULT_MAX_HEADER_BYTES = 16 * 1024  # one part's header block
DEFAULT_MAX_SOAP_BYTES = 16 * 1024 * 1024  # the hardened XML parser's default cap

_BCHARS = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")  # RFC 2046 §5.1.1
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FOLD = re.compile(r"\r\n[ \t]")
_WHITESPACE = b" \t\r\n"
_PARAMETER = re.compile(r'\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]*))\s*(?:;|$)')
_Sink = Callable[[bytes | memoryview], None]


def _mime(detail: str) -> EbmsError:
    return EbmsError(E.MIME_INCONSISTENCY, detail)


def _too_much(detail: str) -> EbmsError:
    return EbmsError(E.OTHER, detail)


# --- writing -----------------------------------------------------------------------------------------------


def new_boundary() -> str:
    # jakarta.mail's shape ("----=_Part_..."), with 122 random bits so it cannot occur in a payload.
    return f"----=_Part_{uuid4_hex()}"


def _header_value(value: str, what: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"{what} must not contain line breaks: {value!r}")
    return value


def write_mime(
    envelope_bytes: bytes,
    parts: Sequence[Part],
    *,
    boundary: str | None = None,
    root_content_id: str | None = None,
    soap_media_type: str = SOAP12_MEDIA_TYPE,
    multipart: bool | None = None,
) -> tuple[str, Iterator[bytes]]:
    """``(Content-Type header, body chunks)`` for the envelope and its attachments. Part content is streamed
    from ``Part.chunks()`` as it is read. ``multipart=None`` sends a bare envelope when there are no parts."""
    if soap_media_type not in SOAP_MEDIA_TYPES:
        raise ValueError(f"not a SOAP media type: {soap_media_type!r}")
    if multipart is None:
        multipart = bool(parts)
    if not multipart:
        if parts:
            raise ValueError("attachments need multipart/related")
        return f"{soap_media_type}; charset=UTF-8", iter((envelope_bytes,))
    boundary = boundary or new_boundary()
    if not _BCHARS.fullmatch(boundary):
        raise ValueError(f"not a valid MIME boundary: {boundary!r}")
    if f"--{boundary}".encode("ascii") in envelope_bytes:
        raise ValueError("the boundary occurs inside the envelope")
    root_id = _header_value(root_content_id or f"root-{uuid4_str()}@as4", "root Content-ID")
    content_type = (
        f'multipart/related; boundary="{boundary}"; type="{soap_media_type}"; start="<{root_id}>"'
    )
    # Headers are rendered now, so a bad value is refused before the first byte is sent.
    delimiter = b"\r\n--" + boundary.encode("ascii") + b"\r\n"
    root_header = _part_header([
        ("Content-Type", f"{soap_media_type}; charset=UTF-8"),
        ("Content-Transfer-Encoding", "binary"),
        ("Content-ID", f"<{root_id}>"),
    ])
    heads = [delimiter + _part_header(_attachment_headers(part)) for part in parts]
    return content_type, _write_body(delimiter[2:] + root_header, envelope_bytes, heads, parts, boundary)


def _part_header(headers: Iterable[tuple[str, str]]) -> bytes:
    lines = [f"{_header_value(name, 'header name')}: {_header_value(value, name)}\r\n" for name, value in headers]
    # Header values are ASCII in practice; UTF-8 (RFC 6532) is what a non-ASCII file name ends up as.
    return ("".join(lines) + "\r\n").encode("utf-8")


def _attachment_headers(part: Part) -> Iterable[tuple[str, str]]:
    headers: dict[str, tuple[str, str]] = {}  # by lower-case name: a later spelling overrides
    for name, value in part.headers.items():
        if name.lower() == "content-transfer-encoding":
            if value.strip().lower() not in ("binary", "8bit"):
                raise ValueError(f"part {part.content_id!r}: the writer sends binary, not {value!r}")
            continue
        headers[name.lower()] = (name, value)
        if name.lower() == "content-type":  # the order phase4's parts show: type, encoding, id
            headers["content-transfer-encoding"] = ("Content-Transfer-Encoding", "binary")
    return headers.values()


def _write_body(root_head: bytes, envelope: bytes, heads: list[bytes], parts: Sequence[Part], boundary: str
                ) -> Iterator[bytes]:
    yield root_head
    yield envelope
    for head, part in zip(heads, parts, strict=True):
        yield head
        for chunk in part.chunks():
            if chunk:
                yield chunk
    yield b"\r\n--" + boundary.encode("ascii") + b"--\r\n"


# --- reading -----------------------------------------------------------------------------------------------


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """``(media type in lower case, parameters by lower-case name)`` of a Content-Type value. Duplicate
    parameters are refused: two ``boundary`` values would let two parsers see two different messages."""
    text = _FOLD.sub(" ", value).strip()
    media, _, rest = text.partition(";")
    media = media.strip().lower()
    kind, slash, subtype = media.partition("/")
    if not slash or not _TOKEN.fullmatch(kind) or not _TOKEN.fullmatch(subtype):
        raise _mime(f"malformed Content-Type {value!r}")
    params: dict[str, str] = {}
    position = 0
    while position < len(rest):
        match = _PARAMETER.match(rest, position)
        if match is None:
            if rest[position:].strip(" \t;") == "":
                break
            raise _mime(f"malformed parameters in Content-Type {value!r}")
        name = match[1].lower()
        if name in params:
            raise _mime(f"parameter {name!r} given twice in Content-Type {value!r}")
        params[name] = re.sub(r"\\(.)", r"\1", match[2]) if match[2] is not None else match[3]
        position = match.end()
    return media, params


def _strip_id(value: str) -> str:
    value = value.strip()
    return value[1:-1].strip() if value.startswith("<") and value.endswith(">") else value




class _Base64Sink:
    """Decodes base64 as it streams, in whole 4-character quanta; refuses anything but the alphabet, line
    breaks and final padding (strict: a lenient decoder would let two readers see different payloads)."""

    def __init__(self, write: _Sink) -> None:
        self._write = write
        self._pending = b""
        self._done = False

    def __call__(self, data: bytes | memoryview) -> None:
        text = bytes(data).translate(None, _WHITESPACE)
        if not text:
            return
        if self._done:
            raise _mime("base64 data continues after its padding")
        text = self._pending + text
        whole = len(text) - len(text) % 4
        self._pending = text[whole:]
        if whole:
            quanta = text[:whole]
            try:
                self._write(binascii.a2b_base64(quanta, strict_mode=True))
            except binascii.Error as exc:
                raise _mime(f"invalid base64 content: {exc}") from None
            self._done = quanta.endswith(b"=")

    def close(self) -> None:
        if self._pending:
            raise _mime("base64 content ends in an incomplete quantum")


class _Input:
    """The body as a buffer refilled from the chunk iterator; it holds little more than one chunk."""

    def __init__(self, body: Iterable[bytes]) -> None:
        self._chunks = iter(body)
        # A virtual CRLF in front makes the first delimiter look like every other one (RFC 2046: the CRLF
        # before a boundary belongs to the boundary).
        self.buffer = bytearray(b"\r\n")

    def fill(self) -> bool:
        for chunk in self._chunks:
            if chunk:
                self.buffer += chunk
                return True
        return False

    def emit(self, count: int, sink: _Sink) -> None:
        if count > 0:
            with memoryview(self.buffer) as view:
                sink(view[:count])
            del self.buffer[:count]


def read_mime(
    content_type_header: str,
    body: Iterable[bytes],
    *,
    spool_dir: str | Path | None = None,
    max_parts: int = DEFAULT_MAX_PARTS,
    max_part_bytes: int = DEFAULT_MAX_PART_BYTES,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    max_soap_bytes: int = DEFAULT_MAX_SOAP_BYTES,
) -> tuple[bytes, list[Part]]:
    """``(SOAP envelope bytes, attachments)`` of a received message; a bare SOAP body gives no attachments."""
    media_type, params = parse_content_type(content_type_header)
    if media_type in SOAP_MEDIA_TYPES:
        soap = bytearray()
        for chunk in body:
            soap += chunk
            if len(soap) > max_soap_bytes:
                raise _too_much(f"SOAP envelope larger than {max_soap_bytes} bytes")
        return bytes(soap), []
    if media_type != "multipart/related":
        raise _mime(f"an AS4 message is SOAP or multipart/related, not {media_type!r}")
    boundary = params.get("boundary", "")
    if not _BCHARS.fullmatch(boundary):
        raise _mime(f"missing or invalid boundary parameter in {content_type_header!r}")
    declared = params.get("type")
    if declared is not None and declared.strip().lower() not in SOAP_MEDIA_TYPES:
        raise _mime(f"multipart/related of type {declared!r} is not SOAP with Attachments")
    start = _strip_id(params["start"]) if "start" in params else None
    reader = _Reader(_Input(body), boundary.encode("latin-1"), spool_dir,
                     max_parts, max_part_bytes, max_header_bytes, max_soap_bytes)
    try:
        return reader.read(start)
    except BaseException:
        reader.discard()
        raise


class _Reader:
    def __init__(self, source: _Input, boundary: bytes, spool_dir: str | Path | None, max_parts: int,
                 max_part_bytes: int, max_header_bytes: int, max_soap_bytes: int) -> None:
        self.source = source
        self.delimiter = b"\r\n--" + boundary
        self.spool_dir = spool_dir
        self.max_parts, self.max_part_bytes = max_parts, max_part_bytes
        self.max_header_bytes, self.max_soap_bytes = max_header_bytes, max_soap_bytes
        self.spools: list[Spool] = []

    def discard(self) -> None:
        for spool in self.spools:
            spool.close()

    def read(self, start: str | None) -> tuple[bytes, list[Part]]:
        self._skip_to_delimiter()
        root: bytes | None = None
        parts: list[Part] = []
        seen_ids: set[str] = set()
        index = 0
        while self._after_delimiter():
            index += 1
            if index > self.max_parts:
                raise _too_much(f"more than {self.max_parts} MIME parts")
            headers = self._headers()
            content_id = _strip_id(headers["content-id"][1]) if "content-id" in headers else None
            is_root = content_id == start if start is not None else index == 1
            if content_id is not None:
                if content_id in seen_ids:
                    raise _mime(f"two MIME parts share the Content-ID {content_id!r}")
                seen_ids.add(content_id)
            if is_root:
                root = self._root(headers)
            else:
                parts.append(self._attachment(headers, content_id, index))
        if root is None:
            raise _mime(f"no MIME part has the start Content-ID {start!r}" if start else "no SOAP part")
        return root, parts

    def _skip_to_delimiter(self) -> None:
        # Anything before the first delimiter is preamble, ignored but bounded.
        while (found := self.source.buffer.find(self.delimiter)) < 0:
            if len(self.source.buffer) > self.max_header_bytes + len(self.delimiter):
                raise _mime("no MIME boundary found where the multipart body should start")
            if not self.source.fill():
                raise _mime("the multipart body holds no boundary")
        del self.source.buffer[: found + len(self.delimiter)]

    def _after_delimiter(self) -> bool:
        """Consume the rest of a delimiter line; False at the closing delimiter (the epilogue is ignored)."""
        buffer = self.source.buffer
        while True:
            if buffer.startswith(b"--"):
                return False
            line_end = buffer.find(b"\r\n")
            if line_end >= 0:
                if buffer[:line_end].strip(b" \t"):  # only transport padding may follow a boundary
                    raise _mime("a MIME boundary is followed by other text (boundary occurs in content?)")
                del buffer[: line_end + 2]
                return True
            if len(buffer) > self.max_header_bytes or not self.source.fill():
                raise _mime("MIME body ends inside a boundary line")

    def _headers(self) -> dict[str, tuple[str, str]]:
        """Lower-case name -> (name as sent, value) of one part's header block."""
        buffer = self.source.buffer
        while True:
            if buffer.startswith(b"\r\n"):
                end, skip = 0, 2
                break
            end = buffer.find(b"\r\n\r\n")
            if 0 <= end <= self.max_header_bytes:
                skip = end + 4
                break
            if end > self.max_header_bytes or len(buffer) > self.max_header_bytes + 4:
                raise _too_much(f"MIME part headers larger than {self.max_header_bytes} bytes")
            if not self.source.fill():
                raise _mime("MIME body ends inside part headers")
        # Latin-1 maps every byte to one character, as jakarta.mail reads headers: the SwA Complete
        # transform then canonicalises the same characters WSS4J would.
        text = _FOLD.sub(" ", bytes(buffer[:end]).decode("latin-1"))
        del buffer[:skip]
        headers: dict[str, tuple[str, str]] = {}
        for line in text.split("\r\n") if text else ():
            name, colon, value = line.partition(":")
            if not colon or not _TOKEN.fullmatch(name) or "\r" in value or "\n" in value:
                raise _mime(f"malformed MIME header line {line[:80]!r}")
            key = name.lower()
            if key in headers and key.startswith("content-"):
                raise _mime(f"MIME header {name} given twice in one part")
            headers[key] = (name, value.strip(" \t"))
        return headers

    def _content(self, headers: dict[str, tuple[str, str]], write: _Sink) -> None:
        """Stream one part's content into ``write``, decoded, up to the next delimiter."""
        encoding = headers.get("content-transfer-encoding", ("", "binary"))[1].lower()
        if encoding not in ("binary", "8bit", "7bit", "base64"):
            raise _mime(f"Content-Transfer-Encoding {encoding!r} is not supported")
        decoder = _Base64Sink(write) if encoding == "base64" else None
        sink = decoder or write
        source, delimiter = self.source, self.delimiter
        keep = len(delimiter) - 1  # the longest delimiter prefix that can end a buffer
        while (found := source.buffer.find(delimiter)) < 0:
            source.emit(len(source.buffer) - keep, sink)
            if not source.fill():
                raise _mime("MIME body ends before its closing boundary")
        source.emit(found, sink)
        del source.buffer[: len(delimiter)]
        if decoder is not None:
            decoder.close()

    def _root(self, headers: dict[str, tuple[str, str]]) -> bytes:
        media_type, _ = parse_content_type(headers.get("content-type", ("", "text/plain"))[1])
        if media_type not in SOAP_MEDIA_TYPES:
            raise _mime(f"the start part is {media_type!r}, not a SOAP envelope")
        soap = bytearray()

        def write(data: bytes | memoryview) -> None:
            soap.extend(data)
            if len(soap) > self.max_soap_bytes:
                raise _too_much(f"SOAP envelope larger than {self.max_soap_bytes} bytes")

        self._content(headers, write)
        return bytes(soap)

    def _attachment(self, headers: dict[str, tuple[str, str]], content_id: str | None, index: int) -> Part:
        if not content_id:
            raise _mime(f"MIME part {index} has no Content-ID, so no PartInfo can refer to it")
        if "content-type" not in headers:
            raise _mime(f"MIME part {content_id!r} has no Content-Type")
        spool = Spool(self.spool_dir)
        self.spools.append(spool)

        def write(data: bytes | memoryview) -> None:
            if spool.size + len(data) > self.max_part_bytes:
                raise _too_much(f"MIME part {content_id!r} larger than {self.max_part_bytes} bytes")
            spool.write(data)

        self._content(headers, write)
        extra = {name: value for key, (name, value) in headers.items()
                 if key not in ("content-type", "content-id", "content-transfer-encoding")}
        raw_id = headers["content-id"][1]
        if raw_id != f"<{content_id}>":  # keep what was sent: the SwA Complete transform signs it verbatim
            extra["Content-ID"] = raw_id
        return Part(content_id, headers["content-type"][1], spool.chunks, extra)


def spooled_size(part: Part) -> int | None:
    """The size of a part :func:`read_mime` spooled, without reading it (None for other parts)."""
    owner = getattr(part.source, "__self__", None)
    return owner.size if isinstance(owner, Spool) else None
