"""U-NAPTR (RFC 4848) as the eDelivery BDXL and Peppol SMLs use it (pure: records in, SMP URL out).

An SML answers the hashed name with NAPTR records; the one for service ``Meta:SMP`` (case-insensitive), flag
``U``, carries a regexp ``!<ERE>!<URI>!`` whose substitution, applied to the queried name, is the SMP base URL.
Records are tried in (order, preference) order; a record with the right service but a malformed regexp, a
wrong flag, or a URI that is not https when https is required is refused with a code rather than skipped,
so a misconfigured SML shows up as such and not as "no SMP".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from smp_client.errors import SmlError

META_SMP = "Meta:SMP"
_MAX_REGEXP = 1024


@dataclass(frozen=True, slots=True)
class NaptrRecord:
    order: int
    preference: int
    flags: str
    service: str
    regexp: str
    replacement: str = "."


def _split_regexp(regexp: str) -> tuple[str, str, str]:
    """``<d>ERE<d>replacement<d>flags``: the first character is the delimiter; ``\\<d>`` escapes it."""
    if len(regexp) < 3 or len(regexp) > _MAX_REGEXP:
        raise SmlError("SML_NAPTR_REGEXP", f"regexp {regexp[:80]!r} is empty or too long")
    delim = regexp[0]
    if delim.isalnum() or delim == "\\":
        raise SmlError("SML_NAPTR_REGEXP", f"regexp {regexp!r}: delimiter {delim!r} is not allowed")
    fields, current, i = [], [], 1
    while i < len(regexp):
        char = regexp[i]
        if char == "\\" and i + 1 < len(regexp) and regexp[i + 1] == delim:
            current.append(delim)
            i += 2
            continue
        if char == delim:
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    if len(fields) != 2 or (current and current != ["i"]):
        raise SmlError("SML_NAPTR_REGEXP", f"regexp {regexp!r} is not of the form !ERE!replacement!")
    return fields[0], fields[1], "".join(current)


# A group followed by a quantifier, itself containing one: the shape of catastrophic backtracking. DNS answers
# are unauthenticated, so the ERE is hostile input; the SMLs only ever publish "!.*!URI!" (or "^.*$").
_NESTED_QUANTIFIER = re.compile(r"\([^)]*[+*}][^)]*\)\s*[+*{]")
_MATCH_ALL = frozenset({".*", "^.*$", "^.*", ".*$", ".+", "^.+$"})


def apply_regexp(regexp: str, subject: str) -> str:
    """The substitution result of a NAPTR regexp applied to ``subject`` (the queried domain name)."""
    ere, replacement, flags = _split_regexp(regexp)
    if ere in _MATCH_ALL and "\\" not in replacement:
        return replacement
    if _NESTED_QUANTIFIER.search(ere):
        raise SmlError("SML_NAPTR_REGEXP", f"regexp {regexp!r}: nested quantifiers are refused")
    try:
        pattern = re.compile(ere, re.IGNORECASE if flags == "i" else 0)
    except re.error as exc:
        raise SmlError("SML_NAPTR_REGEXP", f"regexp {regexp!r}: the ERE does not compile ({exc})") from None
    match = pattern.search(subject)
    if match is None:
        raise SmlError("SML_NAPTR_REGEXP", f"regexp {regexp!r} does not match {subject!r}")
    # POSIX back-references \1..\9 in the replacement; anything else is literal.
    try:
        return re.sub(r"\\([0-9])", lambda m: match.group(int(m.group(1))) or "", replacement)
    except IndexError:
        raise SmlError("SML_NAPTR_REGEXP", f"regexp {regexp!r} refers to a group it does not have") from None


def check_smp_url(url: str, *, require_https: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SmlError("SML_URI_MALFORMED", f"SML answer {url!r} is not an http(s) URL")
    if require_https and parts.scheme != "https":
        raise SmlError("SML_URI_NOT_HTTPS", f"SML answer {url!r} is not https, which this network requires")
    if parts.query or parts.fragment:
        raise SmlError("SML_URI_MALFORMED", f"SML answer {url!r} carries a query or fragment")
    return url.rstrip("/")


def smp_url_from_naptr(records: Sequence[NaptrRecord], queried_name: str, *, service: str = META_SMP,
                       require_https: bool = True) -> str:
    """The SMP base URL (no trailing slash) from the NAPTR answer for ``queried_name``."""
    wanted = [r for r in records if r.service.lower() == service.lower()]
    if not wanted:
        seen = ", ".join(sorted({r.service for r in records})) or "none"
        raise SmlError("SML_NO_SMP_RECORD", f"no NAPTR record with service {service!r} (services: {seen})")
    record = min(wanted, key=lambda r: (r.order, r.preference))
    if record.flags.upper() != "U":
        raise SmlError("SML_NAPTR_FLAGS", f"NAPTR record for {service} has flags {record.flags!r}, expected 'U'")
    if record.replacement not in ("", "."):
        raise SmlError("SML_NAPTR_REGEXP", "U-NAPTR records carry a regexp, not a replacement")
    url = apply_regexp(record.regexp, queried_name.rstrip("."))
    return check_smp_url(url, require_https=require_https)
