"""AES-GCM over octet streams of any size in bounded memory, in the XML-Enc 1.1 layout: IV (12) || C || tag (16).

GCM authenticates only at the end. Decrypted output is therefore spooled (memory up to a threshold, then a
private temporary file) and handed to the caller only after the tag verified; on failure the spool is
destroyed and nothing of the plaintext is released.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

IV_BYTES = 12
TAG_BYTES = 16
CHUNK_BYTES = 64 * 1024
DEFAULT_SPOOL_MEMORY = 1024 * 1024


class GcmAuthenticationError(ValueError):
    code = "XMLENC_AUTHENTICATION_FAILED"


def _rechunk(chunks: Iterable[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes | memoryview]:
    """Bounded pieces, whatever the caller's chunking: a huge chunk is cut into views (no copy), tiny ones are
    joined. Every piece is at most ``size`` bytes."""
    small = bytearray()
    for chunk in chunks:
        if small and len(small) + len(chunk) > size:
            yield bytes(small)
            small.clear()
        if len(chunk) >= size:
            view = memoryview(chunk)
            for start in range(0, len(chunk), size):
                yield view[start:start + size]
        else:
            small += chunk
    if small:
        yield bytes(small)


def encrypt_stream(key: bytes, chunks: Iterable[bytes], iv: bytes | None = None) -> Iterator[bytes]:
    """IV, then ciphertext chunks, then the tag. A fresh random IV unless one is given (tests only)."""
    iv = iv if iv is not None else os.urandom(IV_BYTES)
    if len(iv) != IV_BYTES:
        raise ValueError("AES-GCM in XML Encryption uses a 12-byte IV")
    encryptor = Cipher(algorithms.AES(key), modes.GCM(iv)).encryptor()
    yield iv
    for chunk in _rechunk(chunks):
        out = encryptor.update(chunk)
        if out:
            yield out
    tail = encryptor.finalize()
    if tail:
        yield tail
    yield encryptor.tag


class Spooled:
    """Authenticated plaintext: read it with :meth:`chunks` or :meth:`read_all`; :meth:`close` destroys it."""

    def __init__(self, handle: BinaryIO, size: int, sha256: str) -> None:
        self._handle = handle
        self.size = size
        self.sha256 = sha256

    def chunks(self, size: int = CHUNK_BYTES) -> Iterator[bytes]:
        self._handle.seek(0)
        while piece := self._handle.read(size):
            yield piece

    def read_all(self) -> bytes:
        self._handle.seek(0)
        return self._handle.read()

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> Spooled:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def decrypt_stream(
    key: bytes, chunks: Iterable[bytes], *, spool_dir: Path | None = None, spool_memory: int = DEFAULT_SPOOL_MEMORY
) -> Spooled:
    """Decrypt IV || C || tag into a spool released only once the tag verifies."""
    spool = tempfile.SpooledTemporaryFile(max_size=spool_memory, dir=spool_dir)
    try:
        pending = b""  # bytes not yet decrypted: the IV at first, then at most the last TAG_BYTES seen
        decryptor = None
        digest = hashlib.sha256()
        size = 0
        for chunk in _rechunk(chunks):
            data = pending + chunk if pending else chunk
            if decryptor is None:
                if len(data) < IV_BYTES:
                    pending = bytes(data)
                    continue
                decryptor = Cipher(algorithms.AES(key), modes.GCM(bytes(data[:IV_BYTES]))).decryptor()
                data = data[IV_BYTES:]
            # The last TAG_BYTES seen so far may be the tag: keep them back.
            if len(data) > TAG_BYTES:
                plain = decryptor.update(data[:-TAG_BYTES])
                spool.write(plain)
                digest.update(plain)
                size += len(plain)
                pending = bytes(data[-TAG_BYTES:])
            else:
                pending = bytes(data)
        if decryptor is None or len(pending) != TAG_BYTES:
            raise GcmAuthenticationError("ciphertext shorter than IV and tag")
        try:
            tail = decryptor.finalize_with_tag(bytes(pending))
        except InvalidTag:
            raise GcmAuthenticationError("the ciphertext or its tag was altered, or the key is wrong") from None
        spool.write(tail)
        digest.update(tail)
        size += len(tail)
    except BaseException:
        spool.close()  # unauthenticated plaintext never leaves
        raise
    return Spooled(spool, size, digest.hexdigest())  # type: ignore[arg-type]
