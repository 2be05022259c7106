"""The payload-store port, and its local-directory implementation for a node served by one host.

Payloads stream in and out in bounded memory, are encrypted at rest with AES-256-GCM (``pki.xml.gcm_stream``,
the one GCM in the tree) and carry the SHA-256 of their plaintext. ``open`` releases nothing until both the GCM
tag and the SHA-256 verified. A shared store (the database, an object store) implements the same protocol when
several hosts serve the node.

File layout of ``<dir>/<yyyy>/<mm>/<dd>/<payload_id>.bin``::

    MAGIC (8) | IV || payload ciphertext || tag | IV || metadata ciphertext || tag | u32 metadata length | END (8)

Each payload has its own keys, derived with HKDF-SHA256 from the store key and the (random) payload id, so a
key/IV pair is never reused across payloads, and a file renamed to another payload's id no longer decrypts.
The metadata (message id, content id and type, MIME headers, size, sha256, time stored) is encrypted too:
content ids and headers can name people. It sits at the end because size and digest are known only after the
stream went through.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from as4.parts import CHUNK, Part
from pki.xml.gcm_stream import GcmAuthenticationError, Spooled, decrypt_stream, encrypt_stream

log = logging.getLogger(__name__)

PAYLOAD_CORRUPT = "PAYLOAD_CORRUPT"
PAYLOAD_NOT_FOUND = "PAYLOAD_NOT_FOUND"
PAYLOAD_ID_INVALID = "PAYLOAD_ID_INVALID"

KEY_BYTES = 32
MAGIC = b"AS4PLD1\n"
END = b"\nAS4END1"
_LENGTH = struct.Struct(">I")
_TRAILER_FIXED = _LENGTH.size + len(END)
MAX_METADATA = 64 * 1024  # encrypted metadata longer than this is not ours
_ID = re.compile(r"^(\d{4})(\d{2})(\d{2})-[0-9a-f]{32}$")
_DAY_GLOB = "[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]"
_PAYLOAD_INFO = b"as4 payload-store v1 payload"
_METADATA_INFO = b"as4 payload-store v1 metadata"


class PayloadStoreError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class StoredPayload:
    payload_id: str
    message_id: str
    content_id: str
    content_type: str
    size: int
    sha256: str  # hex, of the plaintext
    stored_at: datetime


@runtime_checkable
class PayloadStore(Protocol):
    def put(self, message_id: str, part: Part) -> StoredPayload:
        """Stream the part in; durable when this returns."""

    def open(self, payload_id: str) -> Part:
        """The plaintext, released only once its integrity verified (else ``PAYLOAD_CORRUPT``)."""

    def delete(self, payload_id: str) -> None:
        """Remove a payload; deleting one that is already gone is not an error (retries after delivery)."""

    def list_for(self, message_id: str) -> list[StoredPayload]:
        """The message's payloads, oldest first."""

    def purge(self, older_than: datetime) -> int:
        """Retention: remove payloads stored before ``older_than``; how many went."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment.astimezone(UTC)


def derive_key(key: bytes, payload_id: str, info: bytes) -> bytes:
    """A payload's own key (HKDF-SHA256 of the store key, salted with the payload id): shared by stores."""
    return HKDF(hashes.SHA256(), KEY_BYTES, salt=payload_id.encode("ascii"), info=info).derive(key)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_range(handle: BinaryIO, start: int, end: int) -> Iterator[bytes]:
    handle.seek(start)
    left = end - start
    while left > 0:
        piece = handle.read(min(CHUNK, left))
        if not piece:
            raise PayloadStoreError(PAYLOAD_CORRUPT, "payload file shorter than expected")
        left -= len(piece)
        yield piece


class LocalDirectoryStore:
    """Payloads as encrypted files under one directory (mode 0700; files 0600), for a node on one host.

    ``key`` is the store's 32-byte at-rest key (a 0600 file under the node's keys dir, read by ``gateway/``).
    ``list_for`` and ``purge`` scan the directory: fine for one host's volume; a shared store indexes instead.
    """

    def __init__(self, directory: Path | str, key: bytes, clock: Callable[[], datetime] = _utc_now) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
            raise ValueError("the payload store key must be 32 bytes (AES-256)")
        self._key = bytes(key)
        self._clock = clock
        self.directory = Path(directory)
        self._make_private_dir(self.directory)
        # Plaintext spooled while a tag is checked stays on this (private) volume, not in a shared /tmp.
        self._spool_dir = self.directory / ".spool"
        self._make_private_dir(self._spool_dir)

    def __repr__(self) -> str:
        return f"LocalDirectoryStore({str(self.directory)!r})"

    # -- the port ------------------------------------------------------------------------------------------

    def put(self, message_id: str, part: Part) -> StoredPayload:
        stored_at = _aware(self._clock(), "clock()")
        payload_id = new_payload_id(stored_at)
        final = self._path(payload_id)
        self._make_private_dir(final.parent)
        temporary = final.with_name(f".{payload_id}.tmp")
        measured = MeasuredPart(part)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(MAGIC)
                for piece in encrypt_stream(derive_key(self._key, payload_id, _PAYLOAD_INFO), measured.chunks()):
                    out.write(piece)
                record = measured.record(payload_id, message_id, stored_at)
                metadata = seal_metadata(self._key, record, part.extra_headers)
                out.write(metadata + _LENGTH.pack(len(metadata)) + END)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, final)  # atomic: the final name only ever holds a whole payload
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync_dir(final.parent)
        return record

    def open(self, payload_id: str) -> Part:
        path = self._path(payload_id)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise PayloadStoreError(PAYLOAD_NOT_FOUND, f"no payload {payload_id}") from None
        with handle:
            record, headers, body_end = self._read_metadata(handle, payload_id)
            try:
                spooled = decrypt_stream(
                    derive_key(self._key, payload_id, _PAYLOAD_INFO),
                    _read_range(handle, len(MAGIC), body_end),
                    spool_dir=self._spool_dir,
                )
            except GcmAuthenticationError:
                raise PayloadStoreError(PAYLOAD_CORRUPT, f"payload {payload_id} failed authentication") from None
        if spooled.size != record.size or not secrets.compare_digest(spooled.sha256, record.sha256):
            spooled.close()
            raise PayloadStoreError(PAYLOAD_CORRUPT, f"payload {payload_id} does not match its SHA-256")
        return spooled_part(record, headers, spooled)

    def delete(self, payload_id: str) -> None:
        path = self._path(payload_id)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        _fsync_dir(path.parent)

    def list_for(self, message_id: str) -> list[StoredPayload]:
        found = [record for record in self._records() if record.message_id == message_id]
        return sorted(found, key=lambda record: (record.stored_at, record.payload_id))

    def purge(self, older_than: datetime) -> int:
        cutoff = _aware(older_than, "older_than")
        removed = 0
        for record in self._records(before=cutoff):
            if record.stored_at < cutoff:
                self.delete(record.payload_id)
                removed += 1
        self.remove_stale_temporaries(cutoff)
        return removed

    # -- crash recovery ------------------------------------------------------------------------------------

    def remove_stale_temporaries(self, older_than: datetime) -> int:
        """Remove half-written files a crashed ``put`` left behind, last written before ``older_than``.

        A ``put`` in progress keeps its temporary file's mtime fresh, so a cutoff in the past never takes it.
        """
        cutoff = _aware(older_than, "older_than").timestamp()
        removed = 0
        for temporary in self.directory.glob(f"{_DAY_GLOB}/.*.tmp"):
            try:
                if temporary.stat().st_mtime < cutoff:
                    temporary.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        if removed:
            log.warning("removed %d payload file(s) left half-written by an interrupted put", removed)
        return removed

    # -- internals -----------------------------------------------------------------------------------------

    def _path(self, payload_id: str) -> Path:
        match = _ID.fullmatch(payload_id) if isinstance(payload_id, str) else None
        if match is None:  # also what keeps ids like "../../x" out of the file system
            raise PayloadStoreError(PAYLOAD_ID_INVALID, f"not a payload id: {payload_id!r}")
        year, month, day = match.groups()
        return self.directory / year / month / day / f"{payload_id}.bin"

    @staticmethod
    def _make_private_dir(path: Path) -> None:
        missing = []
        probe = path
        while not probe.exists():
            missing.append(probe)
            probe = probe.parent
        for directory in reversed(missing):
            try:
                directory.mkdir(mode=0o700)
            except FileExistsError:  # another thread or process made it first
                continue
            os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask

    def _read_metadata(self, handle: BinaryIO, payload_id: str) -> tuple[StoredPayload, dict[str, str], int]:
        """The authenticated metadata, and where the payload ciphertext ends."""
        corrupt = PayloadStoreError(PAYLOAD_CORRUPT, f"payload {payload_id} metadata failed authentication")
        total = handle.seek(0, os.SEEK_END)
        if total < len(MAGIC) + _TRAILER_FIXED:
            raise corrupt
        handle.seek(0)
        if handle.read(len(MAGIC)) != MAGIC:
            raise corrupt
        handle.seek(total - _TRAILER_FIXED)
        fixed = handle.read(_TRAILER_FIXED)
        (length,) = _LENGTH.unpack(fixed[: _LENGTH.size])
        body_end = total - _TRAILER_FIXED - length
        if fixed[_LENGTH.size:] != END or length > MAX_METADATA or body_end < len(MAGIC):
            raise corrupt
        handle.seek(body_end)
        record, headers = open_metadata(self._key, payload_id, handle.read(length))
        return record, headers, body_end

    def _records(self, before: datetime | None = None) -> Iterator[StoredPayload]:
        """Every readable payload's record; with ``before``, only days that can hold one older than it."""
        last_day = before.strftime("%Y/%m/%d") if before is not None else None
        for day in sorted(self.directory.glob(_DAY_GLOB)):
            if last_day is not None and day.relative_to(self.directory).as_posix() > last_day:
                continue
            for path in sorted(day.glob("*.bin")):
                payload_id = path.name[: -len(".bin")]
                if not _ID.fullmatch(payload_id):
                    continue
                try:
                    with path.open("rb") as handle:
                        record = self._read_metadata(handle, payload_id)[0]
                except FileNotFoundError:
                    continue  # deleted meanwhile
                except PayloadStoreError as error:
                    # Left in place, never deleted unread: an operator decides what a corrupt payload means.
                    log.error("payload store: skipping %s: %s", path.name, error)
                    continue
                yield record


PAYLOAD_INFO = _PAYLOAD_INFO


class MeasuredPart:
    """A part read once while its size and SHA-256 are taken (what every store records for a payload)."""

    def __init__(self, part: Part) -> None:
        self.part = part
        self.size = 0
        self._digest = hashlib.sha256()

    def chunks(self) -> Iterator[bytes]:
        for chunk in self.part.chunks():
            self._digest.update(chunk)
            self.size += len(chunk)
            yield chunk

    def record(self, payload_id: str, message_id: str, stored_at: datetime) -> StoredPayload:
        """The record, once :meth:`chunks` was read to the end."""
        return StoredPayload(payload_id, message_id, self.part.content_id, self.part.content_type, self.size,
                             self._digest.hexdigest(), stored_at)


def seal_metadata(store_key: bytes, record: StoredPayload, headers: Mapping[str, str]) -> bytes:
    """A payload's metadata, encrypted under its own key (content ids and headers can name people)."""
    plain = json.dumps(
        {"v": 1, "payload_id": record.payload_id, "message_id": record.message_id, "content_id": record.content_id,
         "content_type": record.content_type, "headers": dict(headers), "size": record.size, "sha256": record.sha256,
         "stored_at": record.stored_at.isoformat()},
        sort_keys=True, separators=(",", ":"),
    ).encode("utf-8")
    return b"".join(encrypt_stream(derive_key(store_key, record.payload_id, _METADATA_INFO), [plain]))


def open_metadata(store_key: bytes, payload_id: str, sealed: bytes) -> tuple[StoredPayload, dict[str, str]]:
    """The authenticated record and MIME headers, or PAYLOAD_CORRUPT (also when sealed for another payload)."""
    corrupt = PayloadStoreError(PAYLOAD_CORRUPT, f"payload {payload_id} metadata failed authentication")
    try:
        with decrypt_stream(derive_key(store_key, payload_id, _METADATA_INFO), [sealed]) as plain:
            fields = json.loads(plain.read_all())
        record = StoredPayload(fields["payload_id"], fields["message_id"], fields["content_id"],
                               fields["content_type"], int(fields["size"]), fields["sha256"],
                               datetime.fromisoformat(fields["stored_at"]))
        headers = {str(name): str(value) for name, value in fields["headers"].items()}
    except (GcmAuthenticationError, ValueError, KeyError, TypeError, AttributeError):
        raise corrupt from None
    if record.payload_id != payload_id:
        raise corrupt
    return record, headers


def new_payload_id(stored_at: datetime) -> str:
    return f"{stored_at:%Y%m%d}-{secrets.token_hex(16)}"


def is_payload_id(payload_id: object) -> bool:
    return isinstance(payload_id, str) and _ID.fullmatch(payload_id) is not None


def spooled_part(record: StoredPayload, headers: dict[str, str], spooled: Spooled) -> Part:
    """A Part over verified plaintext; the spool goes when the Part does. ``chunks()`` may be called again,
    but not by two readers at once (they share one file position)."""

    def chunks() -> Iterable[bytes]:
        return spooled.chunks(CHUNK)

    return Part(record.content_id, record.content_type, chunks, headers)


__all__ = [
    "KEY_BYTES",
    "PAYLOAD_CORRUPT",
    "PAYLOAD_ID_INVALID",
    "PAYLOAD_INFO",
    "PAYLOAD_NOT_FOUND",
    "LocalDirectoryStore",
    "MeasuredPart",
    "PayloadStore",
    "PayloadStoreError",
    "StoredPayload",
    "derive_key",
    "is_payload_id",
    "new_payload_id",
    "open_metadata",
    "seal_metadata",
    "spooled_part",
]
