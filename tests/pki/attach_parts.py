"""Test doubles for ``pki.xml.attachments``: MIME parts held in memory or generated on the fly."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MemoryPart:
    """A part whose content is given as the exact chunks the MIME layer would yield."""

    headers: Mapping[str, str]
    pieces: Sequence[bytes]
    content_id: str = "part@test"

    def chunks(self) -> Iterable[bytes]:
        return iter(self.pieces)


@dataclass(frozen=True)
class StreamPart:
    """A part whose content is produced lazily by ``source`` (for the flat-memory tests)."""

    headers: Mapping[str, str]
    source: Callable[[], Iterable[bytes]]
    content_id: str = "stream@test"

    def chunks(self) -> Iterable[bytes]:
        return self.source()


@dataclass
class CountingPart:
    """Counts the chunks handed out, to show what was (not) read."""

    headers: Mapping[str, str]
    pieces: Sequence[bytes]
    content_id: str = "counted@test"
    taken: int = field(default=0)

    def chunks(self) -> Iterator[bytes]:
        for piece in self.pieces:
            self.taken += 1
            yield piece


def part(content_type: str | None, *pieces: bytes, **headers: str) -> MemoryPart:
    """``part("text/plain", b"a", b"b", Content_ID="<x>")``: keyword underscores become hyphens."""
    all_headers = {name.replace("_", "-"): value for name, value in headers.items()}
    if content_type is not None:
        all_headers["Content-Type"] = content_type
    return MemoryPart(all_headers, pieces)


def rechunk(stream: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Re-slice ``stream`` into ``size``-byte chunks (the last may be shorter) without materialising it."""
    buffer = b""
    for piece in stream:
        buffer = buffer + piece if buffer else piece
        view = memoryview(buffer)
        offset = 0
        while len(buffer) - offset >= size:
            yield bytes(view[offset : offset + size])
            offset += size
        buffer = bytes(view[offset:])
    if buffer:
        yield buffer
