"""Every refusal in smp_client is a :class:`SmpError` with a stable ``code`` (what operators and tests match on)."""

from __future__ import annotations


class SmpError(ValueError):
    """A discovery step refused its input. ``code`` is stable: SMP_ID_*, SML_*, SMP_*."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class IdentifierError(SmpError):
    """A participant, document-type or process identifier that cannot be parsed."""


class SmlError(SmpError):
    """The SML (DNS) step failed: no record, a malformed NAPTR, a timeout."""


class SmpDocumentError(SmpError):
    """An SMP document that is malformed, unsigned, badly signed, or has no usable endpoint."""


class SmpHttpError(SmpError):
    """The SMP could not be fetched: HTTP status, size, connection."""
