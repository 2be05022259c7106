"""X.509 names as partners write them in XML (X509IssuerName): RFC 4514 / RFC 2253, Java or Python style."""

from __future__ import annotations

import re

from cryptography import x509
from cryptography.x509.oid import NameOID

# Keywords Java's X500Principal and OpenSSL print that RFC 4514 does not define.
_NAME_OVERRIDES = {"E": NameOID.EMAIL_ADDRESS, "EMAILADDRESS": NameOID.EMAIL_ADDRESS,
                   "S": NameOID.STATE_OR_PROVINCE_NAME, "ORGANIZATIONIDENTIFIER": NameOID.ORGANIZATION_IDENTIFIER}


_HEX_VALUE = re.compile(r"=#([0-9A-Fa-f]+)")
# DER string types Java writes as #hex (RFC 2253 §2.4) and how their content decodes.
_DER_STRINGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1E: "utf-16-be"}


def _der_string(hex_text: str) -> str:
    data = bytes.fromhex(hex_text)
    if len(data) < 2 or data[0] not in _DER_STRINGS:
        raise ValueError("unsupported #hex attribute value")
    length, offset = data[1], 2
    if length & 0x80:  # long form
        count = length & 0x7F
        length, offset = int.from_bytes(data[2:2 + count], "big"), 2 + count
    if offset + length != len(data):
        raise ValueError("malformed #hex attribute value")
    return data[offset:].decode(_DER_STRINGS[data[0]])


def _escape(value: str) -> str:
    escaped = re.sub(r'([,+"\\<>;=])', r"\\\1", value)
    if escaped[:1] in ("#", " "):
        escaped = "\\" + escaped
    return escaped[:-1] + "\\ " if escaped.endswith(" ") else escaped


def parse_name(text: str) -> x509.Name:
    """Parse a distinguished name string (", " between RDNs, E= for e-mail, and Java's ``OID=#<hex DER>``
    values, which cryptography would keep as raw bytes); raises ValueError when it cannot be read."""
    compact = re.sub(r"(?<!\\)\s*,\s*", ",", text.strip())
    compact = _HEX_VALUE.sub(lambda m: "=" + _escape(_der_string(m.group(1))), compact)
    return x509.Name.from_rfc4514_string(compact, _NAME_OVERRIDES)


def same_name(text: str, name: x509.Name) -> bool:
    """Does the written name designate ``name``? Compared attribute by attribute, not as strings, so Java's
    ``2.5.4.97=#0c11...`` and Python's ``2.5.4.97=NTRLV-...`` are the same organizationIdentifier."""
    try:
        parsed = parse_name(text)
    except ValueError:
        return False
    return _attributes(parsed) == _attributes(name)


def _attributes(name: x509.Name) -> list[list[tuple[str, str]]]:
    return [sorted((attribute.oid.dotted_string, str(attribute.value)) for attribute in rdn) for rdn in name.rdns]
