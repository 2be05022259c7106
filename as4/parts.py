"""MIME parts of an AS4 message (SOAP with Attachments), as every layer of as4/ sees them.

A part's content is streamed (``chunks()`` may be called more than once: signing digests a part, then the
MIME writer sends it), so a 1 GB payload never sits in memory. ``Part`` satisfies pki's ``AttachmentPart``
protocol, so signature and encryption code takes it as it is.
"""

from __future__ import annotations

import os
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Part:
    content_id: str  # without "cid:" and without angle brackets
    content_type: str
    source: Callable[[], Iterable[bytes]] = field(repr=False)
    extra_headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> Mapping[str, str]:
        """The MIME headers this part is sent with (what the SwA Complete transform canonicalises)."""
        return {"Content-Type": self.content_type, "Content-ID": f"<{self.content_id}>", **self.extra_headers}

    def chunks(self) -> Iterable[bytes]:
        return self.source()

    def read_all(self) -> bytes:
        """For small parts and tests only: the whole content in memory."""
        return b"".join(self.chunks())

    @classmethod
    def from_bytes(cls, content_id: str, content_type: str, data: bytes, **extra: str) -> Part:
        return cls(content_id, content_type, lambda: iter((data,)), dict(extra))

    @classmethod
    def from_file(cls, content_id: str, content_type: str, path: Path, **extra: str) -> Part:
        def read() -> Iterator[bytes]:
            with path.open("rb") as handle:
                while piece := handle.read(CHUNK):
                    yield piece

        return cls(content_id, content_type, read, dict(extra))


SPOOL_MEMORY = 256 * 1024  # parts up to this size stay in memory; larger ones go to a private temporary file


class Spool:
    """Bytes written once and read back any number of times (received attachments, compressed and inflated
    payloads): in memory while small, else on disk in a file opened by name and unlinked at once (private,
    mode 0600, and gone with the last reference or a crash). Disk reads use ``pread`` so several readers never
    share a file position."""

    def __init__(self, directory: str | Path | None) -> None:
        self._directory = directory
        self._memory: bytearray | None = bytearray()
        self.fd = -1
        self.size = 0
        self._closer: weakref.finalize | None = None

    def _to_disk(self) -> None:
        self.fd, path = tempfile.mkstemp(prefix="as4-spool-", dir=self._directory)
        os.unlink(path)
        self._closer = weakref.finalize(self, os.close, self.fd)
        held, self._memory = self._memory or b"", None
        self._write_fd(held)

    def _write_fd(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def write(self, data: bytes | memoryview) -> None:
        if self._memory is not None and len(self._memory) + len(data) > SPOOL_MEMORY:
            self._to_disk()
        if self._memory is not None:
            self._memory += data
        else:
            self._write_fd(data)
        self.size += len(data)

    def close(self) -> None:
        self._memory = None
        if self._closer is not None:
            self._closer()

    def chunks(self) -> Iterator[bytes]:
        if self._memory is not None:
            held = bytes(self._memory)
            for offset in range(0, len(held), CHUNK):
                yield held[offset:offset + CHUNK]
            return
        offset = 0
        while offset < self.size:
            piece = os.pread(self.fd, min(CHUNK, self.size - offset), offset)
            if not piece:
                raise OSError("spooled part is shorter than written")
            offset += len(piece)
            yield piece
