"""A development PKI: root CA → issuing CA → every node key, plus leaves for simulated partners and CRLs.

``gateway-node pki init|issue|rollover|revoke|crl`` drive it; tests and the demo use the same functions.
"""

from pki.devpki.authority import DevCa, DevPkiError, PkiLayout, parse_serial, serial_hex
from pki.devpki.operations import IssuedKey, init_pki, issue_partner, refresh_crls, revoke, rollover
from pki.devpki.profiles import DEFAULT_FAMILIES, LeafProfile, ProfileError, allowed_families, profile_for

__all__ = [
    "DEFAULT_FAMILIES",
    "DevCa",
    "DevPkiError",
    "IssuedKey",
    "LeafProfile",
    "PkiLayout",
    "ProfileError",
    "allowed_families",
    "init_pki",
    "issue_partner",
    "parse_serial",
    "profile_for",
    "refresh_crls",
    "revoke",
    "rollover",
    "serial_hex",
]
