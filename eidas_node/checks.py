"""The report of a response check: every check by name, with a stable code, in the order they ran."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eidas_node.identity import ForeignIdentity

# name -> the code reported when that check fails. Order is the order they run.
CHECKS: dict[str, str] = {
    "xml.parse": "EIDAS_XML_REFUSED",
    "schema.response": "EIDAS_SCHEMA_INVALID",
    "response.issuer": "EIDAS_ISSUER_MISMATCH",
    "response.signature": "EIDAS_RESPONSE_SIGNATURE",
    "response.destination": "EIDAS_DESTINATION_MISMATCH",
    "response.in_response_to": "EIDAS_IN_RESPONSE_TO",
    "response.issue_instant": "EIDAS_ISSUE_INSTANT",
    "response.status": "EIDAS_STATUS_NOT_SUCCESS",
    "assertion.encrypted_only": "EIDAS_ASSERTION_COUNT",
    "assertion.decrypt": "EIDAS_DECRYPTION",
    "schema.assertion": "EIDAS_SCHEMA_INVALID",
    "assertion.signature": "EIDAS_ASSERTION_SIGNATURE",
    "assertion.issuer": "EIDAS_ISSUER_MISMATCH",
    "assertion.subject_confirmation": "EIDAS_SUBJECT_CONFIRMATION",
    "assertion.conditions": "EIDAS_CONDITIONS",
    "assertion.audience": "EIDAS_AUDIENCE_MISMATCH",
    "assertion.loa": "EIDAS_LOA_TOO_LOW",
    "assertion.attributes": "EIDAS_ATTRIBUTE_MISSING",
    "assertion.country": "EIDAS_COUNTRY_MISMATCH",
    "replay.assertion_id": "EIDAS_REPLAY",
    "request.used_once": "EIDAS_REQUEST_ALREADY_USED",
}


@dataclass(slots=True)
class Check:
    name: str
    ok: bool | None  # None: not run, an earlier check failed
    code: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        state = "passed" if self.ok else ("skipped" if self.ok is None else "failed")
        return {"name": self.name, "result": state, "code": self.code, "detail": self.detail}


class CheckFailed(Exception):
    """Internal: stops the run at the first failing check (nothing after it reads unverified data)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass
class ResponseReport:
    checks: list[Check] = field(default_factory=list)
    identity: ForeignIdentity | None = None
    response_id: str | None = None
    assertion_id: str | None = None
    assertion_expires: datetime | None = None
    in_response_to: str | None = None
    status: str | None = None  # SAML status code (top and second level joined by " / ") when not Success
    status_message: str | None = None

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks) and self.identity is not None

    @property
    def failure(self) -> Check | None:
        return next((check for check in self.checks if check.ok is False), None)

    def passed(self, name: str, detail: str = "") -> None:
        self.checks.append(Check(name, True, CHECKS[name], detail))

    def failed(self, name: str, code: str | None, detail: str) -> None:
        self.checks.append(Check(name, False, code or CHECKS[name], detail))
        done = {check.name for check in self.checks}
        self.checks.extend(Check(other, None, code_) for other, code_ in CHECKS.items() if other not in done)

    def to_json(self) -> dict[str, Any]:
        identity = self.identity
        return {
            "ok": self.ok,
            "failure": None if self.failure is None else self.failure.to_json(),
            "status": self.status,
            "status_message": self.status_message,
            "checks": [check.to_json() for check in self.checks],
            "response_id": self.response_id,
            "assertion_id": self.assertion_id,
            "loa": identity.loa if identity else None,
            "country": identity.country if identity else None,
            "name_id": identity.name_id if identity else None,
            "attributes": {k: list(v) for k, v in identity.attributes.items()} if identity else {},
        }
