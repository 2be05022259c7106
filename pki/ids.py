"""Random identifiers in the textual form of a version-4 UUID, without building a ``uuid.UUID``.

Element ids, message ids and MIME boundaries are made many times per AS4 message; ``str(uuid.uuid4())``
spends most of its time in the ``UUID`` object, not in the 16 random bytes. This yields exactly the same
distribution and text (``os.urandom``, version and variant bits set as RFC 4122 says), so ids stay
unguessable where that matters.
"""

from __future__ import annotations

import os


def uuid4_hex() -> str:
    """32 lowercase hex digits of a random version-4 UUID (``uuid.uuid4().hex``)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


def uuid4_str() -> str:
    """A random version-4 UUID as ``str(uuid.uuid4())`` prints it (8-4-4-4-12 lowercase hex)."""
    h = uuid4_hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
