"""What a validation says: findings with a stable rule id, and the per-file report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    rule: str  # own rule id (OOTS-...), Schematron assert id (R-EDM-...), XSD or CODELIST-<list>
    message: str
    source: str  # "own", "xsd", "schematron", "codelist", "cross"
    severity: str = "error"  # "error" fails the message; "warning"/"info" are reported only
    location: str | None = None

    @property
    def fatal(self) -> bool:
        return self.severity in ("error", "fatal")

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "message": self.message, "source": self.source, "severity": self.severity,
                "location": self.location}


class ValidationSetupError(RuntimeError):
    """Official artifacts that cannot be used (an XSD that does not compile, a Schematron the compiler cannot
    translate). ``code`` is stable: EDM_SPECS_MISSING, EDM_SPECS_BROKEN."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass
class Report:
    name: str
    kind: str | None = None  # request, response, exception
    version: str | None = None
    findings: list[Finding] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)  # official artifacts checked against, by path

    @property
    def valid(self) -> bool:
        return not any(f.fatal for f in self.findings)

    @property
    def failed_rules(self) -> list[str]:
        return sorted({f.rule for f in self.findings if f.fatal})

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.name, "kind": self.kind, "version": self.version, "valid": self.valid,
                "failed_rules": self.failed_rules, "artifacts": self.artifacts,
                "findings": [f.as_dict() for f in self.findings]}
