"""MIME parts of an AS4 message (SOAP with Attachments), as every layer of as4/ sees them.

A part's content is streamed (``chunks()`` may be called more than once: signing digests a part, then the
MIME writer sends it), so a 1 GB payload never sits in memory. ``Part`` satisfies pki's ``AttachmentPart``
protocol, so signature and encryption code takes it as it is.
"""

from __future__ import annotations

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
