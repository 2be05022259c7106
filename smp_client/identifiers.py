"""Participant, document-type and process identifiers: parse, canonicalise, print.

The wire form everywhere (SMP URLs, ServiceGroup, the CLI) is ``scheme::value``. Case rules differ by scheme,
which is why canonicalisation lives here and nowhere else:

* Schemes are case-insensitive tokens and are kept in lower case, except URNs whose namespace-specific part
  carries a code (EAS codes are upper case by their code list).
* ``iso6523-actorid-upis`` participant values are case-insensitive (Peppol Policy for use of identifiers):
  canonical form lower case, because the SML hash is computed over it.
* Document-type (``busdox-docid-qns``, ``bdx-docid-qns``) and process identifiers are case-sensitive: kept as is.
* ebCore party ids (``urn:oasis:names:tc:ebcore:partyid-type:<catalog>[:<scheme>]:<id>``) arrive as one URN;
  the URN prefix is case-insensitive (RFC 8141), the catalog and the identifier are kept as given. Split into
  scheme (everything up to the last colon) and value, so ``scheme::value`` still works.
* EAS (``urn:cef.eu:names:identifier:EAS:<code>``): the code is 4 digits (an ISO 6523 ICD) or 2 letters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from smp_client.errors import IdentifierError

PEPPOL_PARTICIPANT_SCHEME = "iso6523-actorid-upis"
PEPPOL_DOCTYPE_SCHEME = "busdox-docid-qns"
PEPPOL_DOCTYPE_WILDCARD = "peppol-doctype-wildcard"
PEPPOL_PROCESS_SCHEME = "cenbii-procid-ubl"
BDX_DOCTYPE_SCHEME = "bdx-docid-qns"
EBCORE_PREFIX = "urn:oasis:names:tc:ebcore:partyid-type:"
EAS_PREFIX = "urn:cef.eu:names:identifier:eas:"
NO_PROCESS = "busdox:noprocess"  # OASIS SMP 1.0 / Peppol: a document without a process

_MAX_VALUE = 1050  # Peppol: value ≤ 1050 characters (doc types); participant values are far shorter
_SCHEME_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+\-]{0,99}$")
_ICD = re.compile(r"^[0-9]{4}$")
_EAS_CODE = re.compile(r"^([0-9]{4}|[A-Z]{2})$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Kind(StrEnum):
    PARTICIPANT = "participant"
    DOCUMENT = "document"
    PROCESS = "process"


@dataclass(frozen=True, slots=True)
class Identifier:
    """A canonical identifier; equal identifiers compare equal whatever case they arrived in."""

    kind: Kind
    scheme: str | None
    value: str

    @property
    def uri(self) -> str:
        """``scheme::value`` (the SMP URL and CLI form); just the value when there is no scheme."""
        return f"{self.scheme}::{self.value}" if self.scheme else self.value

    @property
    def is_ebcore(self) -> bool:
        return bool(self.scheme and self.scheme.startswith(EBCORE_PREFIX))

    @property
    def full(self) -> str:
        """The single-string form: ebCore party ids as ``scheme:value`` (one URN), others as :attr:`uri`."""
        if self.is_ebcore:
            return f"{self.scheme}:{self.value}"
        return self.uri

    def __str__(self) -> str:
        return self.uri


def _fail(code: str, kind: Kind, text: str, why: str) -> IdentifierError:
    return IdentifierError(code, f"{kind.value} identifier {text!r}: {why}")


def _check_text(kind: Kind, text: str) -> str:
    if not isinstance(text, str):
        raise TypeError("identifiers are text")
    if not text or not text.strip():
        raise _fail("SMP_ID_EMPTY", kind, text, "empty")
    if _CONTROL.search(text):
        raise _fail("SMP_ID_MALFORMED", kind, text, "control characters are not allowed")
    if len(text) > _MAX_VALUE + 200:
        raise _fail("SMP_ID_TOO_LONG", kind, text[:40] + "…", f"longer than {_MAX_VALUE + 200} characters")
    if text != text.strip():
        raise _fail("SMP_ID_MALFORMED", kind, text, "leading or trailing white space")
    return text


def _ebcore(text: str) -> Identifier:
    rest = text[len(EBCORE_PREFIX):]
    parts = rest.split(":")
    if parts[0].lower() == "iso6523":
        # iso6523:<ICD>:<identifier>: the ICD is four digits.
        if len(parts) < 3 or not _ICD.match(parts[1]) or not ":".join(parts[2:]):
            raise _fail("SMP_ID_EBCORE", Kind.PARTICIPANT, text, "expected iso6523:<4-digit ICD>:<identifier>")
        return Identifier(Kind.PARTICIPANT, f"{EBCORE_PREFIX}iso6523:{parts[1]}", ":".join(parts[2:]))
    if len(parts) < 2 or not parts[0] or not parts[-1]:
        raise _fail("SMP_ID_EBCORE", Kind.PARTICIPANT, text, "expected <catalog>[:<scheme>]:<identifier>")
    return Identifier(Kind.PARTICIPANT, EBCORE_PREFIX + ":".join(parts[:-1]), parts[-1])


def _canonical_scheme(kind: Kind, scheme: str, original: str) -> str:
    lowered = scheme.lower()
    if lowered.startswith(EAS_PREFIX):
        code = scheme[len(EAS_PREFIX):]
        if not _EAS_CODE.match(code.upper()) or not code:
            raise _fail("SMP_ID_EAS", kind, original, f"EAS code {code!r} is not 4 digits or 2 letters")
        return "urn:cef.eu:names:identifier:EAS:" + code.upper()
    if lowered.startswith(EBCORE_PREFIX):
        return EBCORE_PREFIX + scheme[len(EBCORE_PREFIX):]
    if not _SCHEME_TOKEN.match(scheme):
        raise _fail("SMP_ID_SCHEME", kind, original, f"scheme {scheme!r} is not a valid token")
    return lowered


def _canonical_value(kind: Kind, scheme: str | None, value: str, original: str) -> str:
    if not value:
        raise _fail("SMP_ID_EMPTY", kind, original, "empty value")
    if len(value) > _MAX_VALUE:
        raise _fail("SMP_ID_TOO_LONG", kind, original[:40] + "…", f"value longer than {_MAX_VALUE} characters")
    if kind is Kind.PARTICIPANT and scheme == PEPPOL_PARTICIPANT_SCHEME:
        icd, sep, local = value.partition(":")
        if not sep or not _ICD.match(icd) or not local:
            raise _fail("SMP_ID_ISO6523", kind, original, "iso6523-actorid-upis values are <4-digit ICD>:<id>")
        return value.lower()
    return value


def parse(text: str, kind: Kind | str = Kind.PARTICIPANT, *, default_scheme: str | None = None) -> Identifier:
    """Parse ``scheme::value``, an ebCore URN (participants) or a bare value with ``default_scheme``."""
    kind = Kind(kind)
    text = _check_text(kind, text)
    if "::" in text:
        scheme, _, value = text.partition("::")
        if not scheme:
            raise _fail("SMP_ID_SCHEME", kind, text, "empty scheme before '::'")
    elif kind is Kind.PARTICIPANT and text.lower().startswith(EBCORE_PREFIX):
        return _ebcore(text)
    elif kind is Kind.PARTICIPANT and text.lower().startswith(EAS_PREFIX):
        # One string, as OOTS writes a PartyId type and value together: urn:...:EAS:<code>:<identifier>
        code, sep, value = text[len(EAS_PREFIX):].partition(":")
        if not sep:
            raise _fail("SMP_ID_EAS", kind, text, "expected urn:cef.eu:names:identifier:EAS:<code>:<identifier>")
        scheme = text[:len(EAS_PREFIX)] + code
    elif default_scheme is not None:
        scheme, value = default_scheme, text
    elif kind is Kind.PARTICIPANT:
        raise _fail("SMP_ID_SCHEME", kind, text, "no scheme: write scheme::value or an ebCore party id URN")
    else:
        return Identifier(kind, None, text)  # SMP 2.0 allows identifiers without a scheme
    canonical_scheme = _canonical_scheme(kind, scheme, text)
    return Identifier(kind, canonical_scheme, _canonical_value(kind, canonical_scheme, value, text))


def participant(text: str) -> Identifier:
    return parse(text, Kind.PARTICIPANT)


def document_type(text: str) -> Identifier:
    return parse(text, Kind.DOCUMENT)


def process(text: str) -> Identifier:
    return parse(text, Kind.PROCESS)


def from_parts(kind: Kind | str, scheme: str | None, value: str | None) -> Identifier:
    """From an XML element's ``@scheme`` and text (SMP documents); same rules as :func:`parse`."""
    kind = Kind(kind)
    value = (value or "").strip()
    if scheme is None or not scheme.strip():
        return parse(value, kind) if kind is Kind.PARTICIPANT and value.lower().startswith(EBCORE_PREFIX) \
            else Identifier(kind, None, _check_text(kind, value))
    return parse(f"{scheme.strip()}::{value}", kind)
