"""Errors of the EDM codec and the EDM exception-response code list (EDMErrorCodes, ErrorSeverity)."""

from __future__ import annotations

from dataclasses import dataclass

from oots.edm.ns import SEVERITY_ERROR


class EdmCodecError(ValueError):
    """A document the codec cannot read or a model it cannot write. ``code`` is stable (EDM_NOT_EDM,
    EDM_MISSING, EDM_BAD_VALUE, EDM_VERSION_UNKNOWN, ...); ``edm_code`` is the protocol error a provider answers
    with (always EDM:ERR:0003: the request could not be understood)."""

    edm_code = "EDM:ERR:0003"

    def __init__(self, code: str, message: str, *, where: str | None = None) -> None:
        super().__init__(f"{code}: {message}" + (f" (at {where})" if where else ""))
        self.code = code
        self.message = message
        self.where = where


@dataclass(frozen=True)
class EdmErrorCode:
    code: str
    exception_type: str  # the xsi:type of rs:Exception, as the code list writes it
    message: str  # the fixed message attribute


# EDMErrorCodes code list as of v2.0.1: code → type and fixed message (per-version differences in versions.py).
EDM_ERRORS: dict[str, EdmErrorCode] = {
    e.code: e
    for e in (
        EdmErrorCode("EDM:ERR:0001", "rs:AuthenticationExceptionType", "Failed Authentication"),
        EdmErrorCode("EDM:ERR:0002", "rs:AuthorizationExceptionType", "Missing Authorization"),
        EdmErrorCode("EDM:ERR:0003", "rs:InvalidRequestExceptionType",
                     "Syntactically or semantically invalid request"),
        EdmErrorCode("EDM:ERR:0004", "rs:ObjectNotFoundExceptionType", "Object not found"),
        EdmErrorCode("EDM:ERR:0005", "rs:TimeoutExceptionType", "Exceeding timeout period"),
        EdmErrorCode("EDM:ERR:0006", "rs:UnresolvedReferenceExceptionType",
                     "Referenced object that cannot be resolved"),
        EdmErrorCode("EDM:ERR:0007", "rs:UnsupportedCapabilityExceptionType",
                     "Optional feature or capability is not supported"),
        EdmErrorCode("EDM:ERR:0008", "query:QueryExceptionType",
                     "Invalid query syntax or semantics that must be corrected"),
    )
}

__all__ = ["EDM_ERRORS", "SEVERITY_ERROR", "EdmCodecError", "EdmErrorCode"]
