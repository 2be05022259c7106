"""Participant identifier → the DNS name an SML publishes for it (pure).

* ``bdxl`` (eDelivery BDXL 1.6 and Peppol NAPTR): base32(SHA-256(id)) without ``=`` padding. For ebCore ids
  the whole URN is hashed and no scheme label is added (the BDXL example); otherwise the value (lower-cased
  when its scheme is case-insensitive, see :mod:`smp_client.identifiers`) is hashed and the scheme becomes
  its own label.
* ``peppol-naptr``: as ``bdxl`` for ``scheme::value`` ids (the Peppol SML since 2025).
* ``peppol-cname``: ``B-`` + hex(MD5(value)) + ``.`` + scheme + ``.`` + zone (classic Peppol SML, deprecated).
"""

from __future__ import annotations

import base64
import hashlib
from enum import StrEnum

from smp_client.errors import IdentifierError
from smp_client.identifiers import Identifier, Kind


class HashMode(StrEnum):
    BDXL = "bdxl"
    PEPPOL_NAPTR = "peppol-naptr"
    PEPPOL_CNAME = "peppol-cname"


def _zone(zone: str) -> str:
    zone = zone.strip().strip(".")
    if not zone or any(not label or len(label) > 63 for label in zone.split(".")):
        raise IdentifierError("SML_ZONE_MALFORMED", f"SML zone {zone!r} is not a DNS name")
    return zone


def _hash_input(identifier: Identifier) -> tuple[str, str | None]:
    """What is hashed, and the scheme label (None: none added)."""
    if identifier.kind is not Kind.PARTICIPANT:
        raise IdentifierError("SMP_ID_KIND", "only participant identifiers are published in the SML")
    if identifier.is_ebcore:
        return identifier.full, None
    if identifier.scheme is None:
        raise IdentifierError("SMP_ID_SCHEME", f"{identifier.value!r} has no scheme to publish under")
    if any(c in identifier.scheme for c in ".:/ "):
        # URN schemes cannot be DNS labels: hash the single-string form instead, as for ebCore.
        return identifier.full if identifier.scheme.startswith("urn:") else identifier.uri, None
    return identifier.value, identifier.scheme


def bdxl_hash(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii").rstrip("=")


def dns_name(identifier: Identifier, zone: str, mode: HashMode | str = HashMode.BDXL) -> str:
    """The fully qualified name (no trailing dot) to query for ``identifier`` in ``zone``."""
    mode = HashMode(mode)
    zone = _zone(zone)
    hashed_text, scheme_label = _hash_input(identifier)
    if mode is HashMode.PEPPOL_CNAME:
        if scheme_label is None:
            raise IdentifierError("SMP_ID_SCHEME", "the Peppol CNAME scheme needs a scheme::value identifier")
        label = "B-" + hashlib.md5(hashed_text.encode("utf-8"), usedforsecurity=False).hexdigest()
    else:
        label = bdxl_hash(hashed_text)
    return ".".join(part for part in (label, scheme_label, zone) if part)
